/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "layout/suspend.h"
#include "supervisor/child.h"
#include "supervisor/context.h"
#include "supervisor/image.h"
#include "supervisor/save-job.h"

_Static_assert(sizeof(struct save_job_result) <= 4096, "one result is one atomic pipe write");

/* How often the suspend wait looks at the domain list between @releaseDomain events. */
#define SAVE_POLL_MS 1000

struct save_job {
        struct manager *manager;
        struct domain *domain;
        uint32_t domid;
        struct save_job_spec spec; /* spec.fd is the job's own duplicate */
        off_t start;               /* where the image begins in a regular file; -1 for a pipe */
        struct image_meta meta;    /* what the header says, but the guest's features */
        struct child child;
        save_job_done_fn done;
        void *userdata;
};

/* What the child's suspend callback needs. */
struct suspend_ctx {
        const struct save_job *job;
        struct builder *builder;
        struct layout *layout;
        bool suspended;
};

/* Whether domid is shut down for suspend: 1, 0 (not yet), or why it never will be. */
static int domain_suspended(struct builder *b, uint32_t domid, char **err_r)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *e = NULL;
        size_t n = 0;
        int r = builder_list(b, &infos, &n, &e);

        if (r < 0)
                return err_setf(err_r, r, "cannot list domains: %s", e ? e : strerror(-r));
        for (size_t i = 0; i < n; i++) {
                if (infos[i].domid != domid)
                        continue;
                if (!infos[i].shutdown)
                        return 0;
                if (infos[i].reason == SHUTDOWN_REASON_SUSPEND)
                        return 1;
                return err_setf(err_r, -EIO, "the guest shut down for %s instead of suspending",
                                shutdown_reason_to_string(infos[i].reason));
        }
        return err_setf(err_r, -ESRCH, "the domain vanished while it was asked to suspend");
}

static uint64_t monotonic_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* builder_save()'s callback: the guest acknowledges, then suspends, each within its timeout. */
static int suspend_guest(void *data, char **err_r)
{
        struct suspend_ctx *c = data;
        const struct save_job *j = c->job;
        uint64_t deadline;
        int r;

        r = layout_request_suspend(c->layout, j->domid, j->spec.ack_timeout_ms, err_r);
        if (r < 0)
                return r;
        deadline = monotonic_ms() + j->spec.suspend_timeout_ms;
        for (;;) {
                uint64_t now;

                r = domain_suspended(c->builder, j->domid, err_r);
                if (r != 0) {
                        c->suspended = r > 0;
                        return r < 0 ? r : 0;
                }
                now = monotonic_ms();
                if (now >= deadline)
                        return err_setf(err_r, -ETIMEDOUT,
                                        "the guest acknowledged the suspend request but did not "
                                        "suspend within %u s",
                                        j->spec.suspend_timeout_ms / 1000);
                (void)layout_wait_event(c->layout, deadline - now < SAVE_POLL_MS
                                                       ? (unsigned)(deadline - now)
                                                       : SAVE_POLL_MS);
        }
}

/* In the child: the header, the guest's stream, the trailer. */
static int save_job_work(const struct save_job *j, struct save_job_result *res, char **err_r)
{
        const struct manager *m = j->manager;
        struct builder_options bo = { .kind = m->opts.hypervisor, .sim_dir = m->opts.sim_dir };
        struct suspend_ctx c = { .job = j };
        struct image_meta meta = j->meta;
        off_t stream = -1;
        int r;

        r = builder_open(&bo, &c.builder, err_r);
        if (r >= 0)
                r = layout_open(&c.layout, err_r);
        /* Registered before anything is asked, so no suspend is missed (as libxl). */
        if (r >= 0)
                r = layout_watch_release(c.layout, err_r);
        if (r >= 0)
                r = layout_read_guest_features(c.layout, j->domid, &meta.features, err_r);
        if (r >= 0)
                r = image_write_start(j->spec.fd, &meta, err_r);
        if (r >= 0 && j->start >= 0)
                stream = lseek(j->spec.fd, 0, SEEK_CUR);
        if (r >= 0)
                r = builder_save(c.builder, j->domid, j->spec.fd, j->spec.live, suspend_guest, &c,
                                 err_r);
        if (r >= 0)
                r = image_write_finish(j->spec.fd, stream, err_r);
        res->suspended = c.suspended;
        layout_close(c.layout);
        builder_close(c.builder);
        return r;
}

/* In the child: the save, its one result record (the parent cuts a failed image away). */
static int save_job_child(void *arg, int fd)
{
        const struct save_job *j = arg;
        struct save_job_result res = { 0 };
        char *err = NULL;

        res.r = save_job_work(j, &res, &err);
        if (res.r < 0)
                snprintf(res.message, sizeof(res.message), "%s", err ? err : strerror(-res.r));
        free(err);
        return child_write_result(fd, &res, sizeof(res)) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static struct save_job *save_job_free(struct save_job *j)
{
        if (!j)
                return NULL;
        child_stop(&j->child);
        closep(&j->spec.fd);
        image_meta_done(&j->meta);
        free(j);
        return NULL;
}

/* Hand the result to the caller; the job is gone by then, so done() may start another. */
static void save_job_finish(struct save_job *j, const struct save_job_result *res)
{
        struct domain *d = j->domain;
        save_job_done_fn done = j->done;
        void *userdata = j->userdata;

        /* A child killed mid-image leaves a partial one: the caller's file must not look saved. */
        if (res->r < 0 && j->start >= 0)
                (void)!ftruncate(j->spec.fd, j->start);
        d->save_job = NULL;
        save_job_free(j);
        if (done)
                done(d, res, userdata);
}

static int save_job_on_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct save_job *j = userdata;
        struct save_job_result res;
        char how[64];

        (void)s;
        if (child_read_result(&j->child, si, &res, sizeof(res), how) < 0) {
                /* It may have suspended the guest: the caller looks at the hypervisor's list. */
                res = (struct save_job_result){ .r = -EIO, .suspended = true };
                snprintf(res.message, sizeof(res.message), "the save process %s", how);
        }
        res.message[sizeof(res.message) - 1] = '\0';
        save_job_finish(j, &res);
        return 0;
}

/* The disk specs of cfg, as disk_write() gives them, NULL-terminated (an image's DISK sections). */
static int disk_specs(const struct domain_config *cfg, char ***specs_r)
{
        char **specs = calloc(cfg->n_disks + 1, sizeof(*specs));

        if (!specs)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_disks; i++) {
                size_t len = 0;
                FILE *f = open_memstream(&specs[i], &len);

                if (!f) {
                        strv_free(specs);
                        return -ENOMEM;
                }
                disk_write(f, &cfg->disks[i]);
                if (fclose(f) != 0) {
                        strv_free(specs);
                        return -ENOMEM;
                }
        }
        *specs_r = specs;
        return 0;
}

/* What the image's header says of d's running instance (the guest's features come later). */
static int image_meta_for_domain(const struct domain *d, const char *hypervisor,
                                 struct image_meta *meta)
{
        const struct domain_config *cfg = domain_live_config(d);
        int r;

        *meta = (struct image_meta){ .memory_kib = d->memory_kib, .vcpus = d->vcpus };
        snprintf(meta->name, sizeof(meta->name), "%s", d->name);
        memcpy(meta->uuid, d->uuid, 16);
        snprintf(meta->hypervisor, sizeof(meta->hypervisor), "%s", hypervisor);
        if (d->config && d->config->path && strlen(d->config->path) < sizeof(meta->config_path))
                strcpy(meta->config_path, d->config->path);
        meta->creator_uid = (uint32_t)d->creator.uid;
        creds_groups_format(&d->creator, meta->creator_groups, sizeof(meta->creator_groups));
        /* The build gave every vif its MAC: the restored guest's devices come back with them. */
        for (size_t i = 0; i < cfg->n_vifs && i < VIFS_MAX; i++)
                if (cfg->vifs[i].has_mac)
                        memcpy(meta->vif_macs[i], cfg->vifs[i].mac, 6);
        r = config_to_text(cfg, &meta->config_text);
        if (r >= 0)
                r = disk_specs(cfg, &meta->disks);
        if (r < 0)
                image_meta_done(meta);
        return r;
}

int save_job_start(struct manager *m, struct domain *d, const struct save_job_spec *spec,
                   save_job_done_fn done, void *userdata)
{
        struct save_job *j;
        struct stat st;
        int r;

        if (d->save_job || d->device_job)
                return -EBUSY;
        if (!d->has_domid)
                return -ESRCH;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (struct save_job){ .manager = m,
                                .domain = d,
                                .domid = d->domid,
                                .spec = *spec,
                                .start = -1,
                                .child = CHILD_INIT,
                                .done = done,
                                .userdata = userdata };
        j->spec.fd = fcntl(spec->fd, F_DUPFD_CLOEXEC, 3);
        if (j->spec.fd < 0) {
                r = -errno;
                free(j);
                return r;
        }
        /* The offset is shared with the child: the loop reads the progress from it. */
        if (fstat(j->spec.fd, &st) == 0 && S_ISREG(st.st_mode))
                j->start = lseek(j->spec.fd, 0, SEEK_CUR);
        r = image_meta_for_domain(d, builder_name(m->builder), &j->meta);
        if (r >= 0 && spec->history)
                snprintf(j->meta.history, sizeof(j->meta.history), "%s", spec->history);
        if (r >= 0)
                r = child_start(&j->child, m->event, save_job_child, j, save_job_on_exit, j);
        if (r < 0) {
                save_job_free(j);
                return r;
        }
        d->save_job = j;
        return 0;
}

bool save_job_running(const struct domain *d)
{
        return d->save_job != NULL;
}

uint64_t save_job_written(const struct domain *d)
{
        const struct save_job *j = d->save_job;
        off_t now;

        if (!j || j->start < 0)
                return 0;
        now = lseek(j->spec.fd, 0, SEEK_CUR);
        return now > j->start ? (uint64_t)(now - j->start) : 0;
}

void save_job_abandon(struct domain *d)
{
        if (!d->save_job)
                return;
        if (d->save_job->start >= 0)
                (void)!ftruncate(d->save_job->spec.fd, d->save_job->start);
        d->save_job = save_job_free(d->save_job);
}

void save_job_cancel(struct domain *d, const char *why)
{
        struct save_job_result res = { .r = -ECANCELED, .suspended = true };

        if (!d->save_job)
                return;
        snprintf(res.message, sizeof(res.message), "%s", why);
        save_job_finish(d->save_job, &res);
}
