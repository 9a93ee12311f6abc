/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/macros.h"
#include "supervisor/configs.h"
#include "supervisor/domain-table.h"
#include "supervisor/host.h"
#include "supervisor/lifecycle.h"
#include "supervisor/log.h"

#define HOST_TICK_USEC 1000000ULL /* how often a shutdown looks at its domains */
#define IMAGE_SUFFIX   ".xsave"

enum entry_step {
        STEP_WAITING,  /* a save not begun: too many run */
        STEP_SAVING,   /* its save runs */
        STEP_STOPPING, /* asked to power off (its choice, or its save failed) */
        STEP_DONE,
};

/* One domain of a host's shutdown or boot. */
struct host_entry {
        struct host_run *run;
        uint8_t uuid[16];
        enum entry_step step;
        int save_r; /* 1 while unknown: the save's reply comes later */
        struct host_result result;
};

/* A host's shutdown, or the boot's restores. */
struct host_run {
        struct manager *manager;
        struct host_entry *entries;
        size_t n;
        sd_event_source *tick;
        host_done_fn done;
        void *userdata;
        bool finished;
};

struct host {
        struct host_run *shutdown;
        struct host_run *boot;
        uint8_t (*boot_images)[16]; /* what host_boot_scan() found */
        size_t n_boot_images;
        /* Who waits for the boot's restores to end. */
        host_done_fn boot_done;
        void *boot_userdata;
};

static struct host_run *host_run_free(struct host_run *run)
{
        if (!run)
                return NULL;
        sd_event_source_disable_unref(run->tick);
        for (size_t i = 0; i < run->n; i++)
                free(run->entries[i].result.message);
        free(run->entries);
        free(run);
        return NULL;
}

void host_free(struct manager *m)
{
        if (!m->host)
                return;
        host_run_free(m->host->shutdown);
        host_run_free(m->host->boot);
        free(m->host->boot_images);
        free(m->host);
        m->host = NULL;
}

static int host_get(struct manager *m, struct host **ret)
{
        if (!m->host && !(m->host = calloc(1, sizeof(*m->host))))
                return -ENOMEM;
        *ret = m->host;
        return 0;
}

/* The entry's outcome, once: what, and a message (printf-style). */
_printf_(3, 4) static void entry_finish(struct host_entry *en, const char *what, const char *fmt,
                                        ...)
{
        char *message;
        va_list ap;

        en->step = STEP_DONE;
        en->result.what = what;
        /* Formatted first: the old message may be the argument. */
        va_start(ap, fmt);
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        va_end(ap);
        free(en->result.message);
        en->result.message = message;
}

/* <save_dir>/<uuid><suffix>, or NULL without memory. */
static char *image_path(const struct manager *m, const uint8_t uuid[16], const char *suffix)
{
        char *p, u[37];

        if (asprintf(&p, "%s/%s%s%s", m->save_dir, uuid_to_string(uuid, u), IMAGE_SUFFIX, suffix) <
            0)
                return NULL;
        return p;
}

/* ---- shutdown ---- */

static void shutdown_saved(struct domain *d, int r, const struct sup_error *e, void *userdata)
{
        struct host_entry *en = userdata;

        (void)d;
        /* The next tick names the image, or shuts the domain down instead. */
        en->save_r = r < 0 ? r : r > 0 ? -EIO : 0;
        if (r != 0) {
                free(en->result.message);
                en->result.message = strdup(e && e->message ? e->message : "save failed");
        }
}

/* The stop is the host's, not the last caller's: LastAction and the history say so. */
static void host_note_action(struct manager *m, struct domain *d)
{
        domain_note_action(d, HOST_SHUTDOWN_ACTION, 0, 0, manager_now(m) * 1000000ULL);
}

/* Begin en's save into a .part file, renamed once the image is whole. */
static int shutdown_save_begin(struct manager *m, struct domain *d, struct host_entry *en,
                               char **err_r)
{
        struct save_job_spec spec = {
                .ack_timeout_ms =
                    m->save_ack_timeout_ms ? m->save_ack_timeout_ms : SAVE_ACK_TIMEOUT_MS_DEFAULT,
                .suspend_timeout_ms = m->save_ack_timeout_ms ? m->save_ack_timeout_ms
                                                             : SAVE_SUSPEND_TIMEOUT_MS_DEFAULT,
        };
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_free_ char *part = image_path(m, d->uuid, ".part");
        _cleanup_close_ int fd = -1;
        int r;

        if (!part)
                return err_setf(err_r, -ENOMEM, "out of memory");
        (void)unlink(part);
        fd = spec.fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return err_setf(err_r, -errno, "%s: %s", part, strerror(errno));
        en->save_r = 1;
        host_note_action(m, d);
        r = lifecycle_save(m, d, &spec, shutdown_saved, en, &e);
        if (r != 0) {
                (void)unlink(part);
                return err_setf(err_r, r < 0 ? r : -EINVAL, "%s",
                                e.message ? e.message : strerror(-r));
        }
        en->step = STEP_SAVING;
        return 0;
}

/* A saved image gets its final name; a failed one goes. */
static void shutdown_save_end(struct manager *m, struct host_entry *en)
{
        _cleanup_free_ char *part = image_path(m, en->uuid, ".part");
        _cleanup_free_ char *final = image_path(m, en->uuid, "");

        if (en->save_r == 0 && part && final && rename(part, final) == 0) {
                entry_finish(en, "saved", "%s", final);
                return;
        }
        if (part)
                (void)unlink(part);
        if (en->save_r == 0)
                entry_finish(en, "failed", "cannot name the image %s: %s", final ? final : "",
                             strerror(errno));
        else
                entry_finish(en, "failed", "%s", en->result.message ? en->result.message : "");
}

/* Ask en's domain to power off (its choice, or what follows a failed save). */
static void shutdown_stop(struct manager *m, struct domain *d, struct host_entry *en)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        int r;

        host_note_action(m, d);
        r = lifecycle_shutdown(m, d, false, 0, &e);
        if (r != 0) {
                entry_finish(en, "failed", "cannot shut it down: %s",
                             e.message ? e.message : strerror(-r));
                return;
        }
        en->step = STEP_STOPPING;
}

static unsigned run_count(const struct host_run *run, enum entry_step step)
{
        unsigned n = 0;

        for (size_t i = 0; i < run->n; i++)
                n += run->entries[i].step == step;
        return n;
}

/* One look at every domain of the shutdown: begin saves, notice ends. */
static void shutdown_step(struct host_run *run)
{
        struct manager *m = run->manager;
        unsigned jobs = m->opts.build_jobs ? m->opts.build_jobs : build_queue_default_jobs();

        for (size_t i = 0; i < run->n; i++) {
                struct host_entry *en = &run->entries[i];
                struct domain *d = manager_find_uuid(m, en->uuid);
                _cleanup_free_ char *err = NULL;

                if (en->step == STEP_DONE)
                        continue;
                if (en->step == STEP_SAVING && en->save_r <= 0) {
                        bool failed = en->save_r < 0;

                        shutdown_save_end(m, en);
                        if (failed && d && d->has_domid) {
                                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "save",
                                           "not saved at the host's shutdown (%s); shutting it "
                                           "down instead",
                                           en->result.message ? en->result.message : "");
                                shutdown_stop(m, d, en);
                        }
                        continue;
                }
                if (en->step == STEP_STOPPING && (!d || !domain_is_active(d))) {
                        entry_finish(en, en->result.what ? en->result.what : "shut down", "%s",
                                     en->result.message ? en->result.message : "");
                        continue;
                }
                if (en->step != STEP_WAITING || run_count(run, STEP_SAVING) >= jobs)
                        continue;
                if (!d || !d->has_domid) {
                        entry_finish(en, "shut down", "it stopped meanwhile");
                        continue;
                }
                if (shutdown_save_begin(m, d, en, &err) < 0) {
                        log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "save",
                                   "cannot save it at the host's shutdown (%s); shutting it "
                                   "down instead",
                                   err);
                        entry_finish(en, "failed", "%s", err);
                        shutdown_stop(m, d, en);
                }
        }
}

static void run_report(struct host_run *run, const char *what)
{
        sd_notifyf(false, "STATUS=%s: %u saving, %u shutting down, %u waiting, %u done", what,
                   run_count(run, STEP_SAVING), run_count(run, STEP_STOPPING),
                   run_count(run, STEP_WAITING), run_count(run, STEP_DONE));
}

/* The run's end: its caller told, the run kept only for a later HostBoot's answer. */
static void run_finish(struct host_run *run)
{
        struct host_result *results = calloc(run->n ? run->n : 1, sizeof(*results));

        run->finished = true;
        run->tick = sd_event_source_disable_unref(run->tick);
        for (size_t i = 0; results && i < run->n; i++) {
                results[i] = run->entries[i].result;
                if (!results[i].message)
                        results[i].message = (char *)"";
        }
        if (run->done)
                run->done(run->manager, results, results ? run->n : 0, run->userdata);
        run->done = NULL;
        free(results);
        manager_update_status(run->manager);
}

static int shutdown_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct host_run *run = userdata;

        (void)usec;
        shutdown_step(run);
        if (run_count(run, STEP_DONE) == run->n) {
                log_event(LOG_INFO, LOG_MID_HOST_SHUTDOWN, "host shutdown: done (%u saved)",
                          run_count(run, STEP_DONE));
                run_finish(run);
                run->manager->host->shutdown = host_run_free(run);
                return 0;
        }
        run_report(run, "host shutdown");
        if (sd_event_source_set_time_relative(s, HOST_TICK_USEC) >= 0)
                (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* The entries of a shutdown: every running domain but kept instances, by their choice. */
static int shutdown_entries(struct manager *m, struct host_run *run)
{
        run->entries = calloc(m->n_domains ? m->n_domains : 1, sizeof(*run->entries));
        if (!run->entries)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_domains; i++) {
                struct domain *d = m->domains[i];
                struct host_entry *en;
                enum host_shutdown_action a;

                if (d->removed || d->origin == ORIGIN_KEPT || !d->has_domid ||
                    (d->state != DOMAIN_RUNNING && d->state != DOMAIN_PAUSED))
                        continue;
                en = &run->entries[run->n++];
                *en = (struct host_entry){ .run = run, .step = STEP_WAITING };
                memcpy(en->uuid, d->uuid, 16);
                snprintf(en->result.name, sizeof(en->result.name), "%s", d->name);
                a = domain_live_config(d)->on_host_shutdown;
                if (a == HOST_SHUTDOWN_KEEP) {
                        entry_finish(en, "kept", "left running (on_host_shutdown = keep)");
                } else if (a == HOST_SHUTDOWN_SHUTDOWN) {
                        en->result.what = "shut down";
                        shutdown_stop(m, d, en);
                }
        }
        return 0;
}

int host_shutdown_start(struct manager *m, host_done_fn done, void *userdata)
{
        struct host_run *run;
        struct host *h;
        int r;

        r = host_get(m, &h);
        if (r < 0)
                return r;
        if (h->shutdown)
                return -EBUSY;
        r = mkdir_p(m->save_dir, 0700);
        if (r < 0)
                return r;
        run = calloc(1, sizeof(*run));
        if (!run)
                return -ENOMEM;
        *run = (struct host_run){ .manager = m, .done = done, .userdata = userdata };
        r = shutdown_entries(m, run);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &run->tick, CLOCK_MONOTONIC, 0, 0,
                                               shutdown_tick, run);
        if (r < 0) {
                host_run_free(run);
                return r;
        }
        log_event(LOG_INFO, LOG_MID_HOST_SHUTDOWN,
                  "host shutdown: %zu running domains, saved into %s", run->n, m->save_dir);
        h->shutdown = run;
        return 0;
}

/* ---- boot ---- */

static void boot_check_done(struct host *h)
{
        struct host_run *run = h->boot;

        if (!run || run->finished || run_count(run, STEP_DONE) != run->n)
                return;
        log_event(LOG_INFO, LOG_MID_HOST_BOOT, "host boot: every saved domain restored or failed");
        run->done = h->boot_done;
        run->userdata = h->boot_userdata;
        h->boot_done = NULL;
        run_finish(run);
}

static void boot_restored(struct domain *d, int r, const struct sup_error *e, void *userdata)
{
        struct host_entry *en = userdata;
        struct manager *m = en->run->manager;
        _cleanup_free_ char *path = image_path(m, en->uuid, "");

        (void)d;
        if (r == 0) {
                /* It runs: the image has served, and must never be restored twice. */
                if (path)
                        (void)unlink(path);
                entry_finish(en, "restored", "%s", path ? path : "");
        } else {
                entry_finish(en, "failed", "%s (the image %s is kept)",
                             e && e->message ? e->message : "restore failed", path ? path : "");
        }
        boot_check_done(m->host);
}

/* Whether name is <uuid>.xsave; its uuid in uuid. */
static bool image_name_parse(const char *name, uint8_t uuid[16])
{
        char u[37];
        size_t len = strlen(name);

        if (len != 36 + strlen(IMAGE_SUFFIX) || strcmp(name + 36, IMAGE_SUFFIX) != 0)
                return false;
        memcpy(u, name, 36);
        u[36] = '\0';
        return uuid_from_string(u, uuid) == 0;
}

/* Restore one image of the save directory (the host booted); a refusal fails its domain. */
static void boot_restore_one(struct manager *m, struct host_run *run, const uint8_t uuid[16])
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_(saved_image_done) struct saved_image img = { 0 };
        _cleanup_free_ char *path = image_path(m, uuid, "");
        _cleanup_close_ int fd = -1;
        struct domain_last_action by = { .action = "restore", .usec = manager_now(m) * 1000000ULL };
        struct host_entry *en = &run->entries[run->n++];
        struct domain *d = manager_find_uuid(m, uuid);
        struct creds creator;
        int r;

        *en = (struct host_entry){ .run = run, .step = STEP_WAITING };
        memcpy(en->uuid, uuid, 16);
        if (d)
                snprintf(en->result.name, sizeof(en->result.name), "%s", d->name);
        else
                uuid_to_string(uuid, en->result.name);
        if (!path) {
                entry_finish(en, "failed", "out of memory");
                return;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        r = fd < 0 ? sup_failure(&e, LAYER_SYSTEM, -errno, "%s: %s", path, strerror(errno))
                   : manager_load_image(m, fd, path, &img, &e);
        if (r == 0) {
                snprintf(en->result.name, sizeof(en->result.name), "%s", img.meta.name);
                /* The daemon wrote this image into its own directory: its creator is believed. */
                if (creds_from_saved(&creator, img.meta.creator_uid, img.meta.creator_groups,
                                     img.meta.creator_host_devices) < 0)
                        log_msg(LOG_WARNING,
                                "host boot: %s: malformed creator_groups; restoring with uid %u's "
                                "primary group only",
                                path, (unsigned)creator.uid);
                r = manager_restore_domain(m, &img, fd, &creator, &by, boot_restored, en, NULL, &e);
                if (r == 0)
                        return;
        }
        entry_finish(en, "failed", "%s (the image is kept)", e.message ? e.message : strerror(-r));
        log_event(LOG_ERR, LOG_MID_RESTORE_FAILED, "host boot: not restoring %s: %s", path,
                  en->result.message);
        /* Its domain waits for a person, never cold-booted over what the image holds. */
        if (d)
                lifecycle_fail(m, d, en->result.message);
}

void host_boot_scan(struct manager *m)
{
        DIR *dir = opendir(m->save_dir);
        struct dirent *de;
        size_t allocated = 0;
        struct host *h;

        if (!dir)
                return;
        if (host_get(m, &h) < 0) {
                closedir(dir);
                return;
        }
        while ((de = readdir(dir))) {
                struct layout_tool_state st;
                struct domain *d;
                uint8_t uuid[16];
                uint32_t holder;

                if (!image_name_parse(de->d_name, uuid))
                        continue;
                /* A record: this is not the host's boot, the daemon restarted; a live copy: no. */
                if (layout_state_read(m->layout, uuid, &st, NULL) != -ENOENT ||
                    builder_find_live(m->builder, uuid, &holder, NULL) != 0)
                        continue;
                if (h->n_boot_images == allocated) {
                        size_t more = allocated ? 2 * allocated : 8;
                        uint8_t(*u)[16] = realloc(h->boot_images, more * sizeof(*u));

                        if (!u)
                                break;
                        h->boot_images = u;
                        allocated = more;
                }
                memcpy(h->boot_images[h->n_boot_images++], uuid, 16);
                d = manager_find_uuid(m, uuid);
                if (d)
                        d->boot_image = true;
        }
        closedir(dir);
}

void host_boot_restore(struct manager *m)
{
        struct host *h = m->host;
        struct host_run *run;

        if (!h || h->n_boot_images == 0)
                return;
        run = calloc(1, sizeof(*run));
        if (run)
                run->entries = calloc(h->n_boot_images, sizeof(*run->entries));
        if (!run || !run->entries) {
                host_run_free(run);
                log_msg(LOG_ERR, "host boot: out of memory; the saved domains are not restored");
                return;
        }
        run->manager = m;
        log_event(LOG_INFO, LOG_MID_HOST_BOOT, "host boot: restoring %zu saved domains from %s",
                  h->n_boot_images, m->save_dir);
        for (size_t i = 0; i < h->n_boot_images; i++)
                boot_restore_one(m, run, h->boot_images[i]);
        h->boot = run;
        /* Restores that failed at once are done already. */
        boot_check_done(h);
}

int host_boot_wait(struct manager *m, host_done_fn done, void *userdata)
{
        struct host *h;
        int r = host_get(m, &h);

        if (r < 0)
                return r;
        if (h->boot_done)
                return -EBUSY;
        if (!h->boot || h->boot->finished) {
                struct host_run none = { .manager = m };
                struct host_run *run = h->boot ? h->boot : &none;
                struct host_result *results = calloc(run->n ? run->n : 1, sizeof(*results));

                if (!results)
                        return -ENOMEM;
                for (size_t i = 0; i < run->n; i++) {
                        results[i] = run->entries[i].result;
                        if (!results[i].message)
                                results[i].message = (char *)"";
                }
                done(m, results, run->n, userdata);
                free(results);
                return 0;
        }
        h->boot_done = done;
        h->boot_userdata = userdata;
        return 0;
}
