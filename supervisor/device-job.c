/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "supervisor/attach.h"
#include "supervisor/child.h"
#include "supervisor/context.h"
#include "supervisor/device-job.h"

_Static_assert(sizeof(struct device_job_result) <= 4096, "one result is one atomic pipe write");

/* How long a job's child retries a conflicting transaction (as a build child). */
#define DEVICE_JOB_XENSTORE_PATIENCE_MS 30000

struct device_job {
        struct manager *manager;
        struct domain *domain;
        struct device_job_spec spec;
        struct child child;
        device_job_done_fn done;
        void *userdata;
};

/* In the child: the job's work with handles of its own. */
static int device_job_work(const struct manager *m, const uint8_t uuid[16],
                           const struct device_job_spec *spec, struct device_job_result *res,
                           char **err_r)
{
        struct builder_options bo = { .kind = m->opts.hypervisor, .sim_dir = m->opts.sim_dir };
        struct attach_options ao = {
                .files_as = &spec->files_as,
                .timeout_ms = m->device_timeout_ms,
                .default_bridge = m->default_bridge,
        };
        struct layout_device dev = spec->dev;
        struct builder *b = NULL;
        struct layout *l = NULL;
        int r;

        r = builder_open(&bo, &b, err_r);
        if (r >= 0)
                r = layout_open(&l, err_r);
        if (r >= 0)
                r = layout_serialize_transactions(l, m->xs_lock_path,
                                                  DEVICE_JOB_XENSTORE_PATIENCE_MS, err_r);
        if (r >= 0 && spec->op == DEVICE_JOB_ATTACH)
                r = attach_device(b, l, uuid, &ao, &dev, err_r);
        else if (r >= 0)
                r = attach_detach(b, l, uuid, &dev, spec->force, m->device_timeout_ms, &res->forced,
                                  err_r);
        layout_close(l);
        builder_close(b);
        return r;
}

/* In the child: the job, its one result record. */
static int device_job_child(void *arg, int fd)
{
        const struct device_job *j = arg;
        struct device_job_result res = { 0 };
        char *err = NULL;

        res.r = device_job_work(j->manager, j->domain->uuid, &j->spec, &res, &err);
        res.denied = res.r == -EACCES || res.r == -EPERM;
        if (res.r < 0)
                snprintf(res.message, sizeof(res.message), "%s", err ? err : strerror(-res.r));
        free(err);
        return child_write_result(fd, &res, sizeof(res)) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static struct device_job *device_job_free(struct device_job *j)
{
        if (!j)
                return NULL;
        child_stop(&j->child);
        free(j);
        return NULL;
}

/* Hand the result to the caller; the job is gone by then, so done() may start another. */
static void device_job_finish(struct device_job *j, const struct device_job_result *res)
{
        struct domain *d = j->domain;
        device_job_done_fn done = j->done;
        void *userdata = j->userdata;

        d->device_job = NULL;
        device_job_free(j);
        if (done)
                done(d, res, userdata);
}

static int device_job_on_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct device_job *j = userdata;
        struct device_job_result res;
        char how[64];

        (void)s;
        if (child_read_result(&j->child, si, &res, sizeof(res), how) < 0) {
                res = (struct device_job_result){ .r = -EIO };
                snprintf(res.message, sizeof(res.message), "the device process %s", how);
        }
        res.message[sizeof(res.message) - 1] = '\0';
        device_job_finish(j, &res);
        return 0;
}

int device_job_start(struct manager *m, struct domain *d, const struct device_job_spec *spec,
                     device_job_done_fn done, void *userdata)
{
        struct device_job *j;
        int r;

        if (d->device_job)
                return -EBUSY;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (struct device_job){ .manager = m,
                                  .domain = d,
                                  .spec = *spec,
                                  .child = CHILD_INIT,
                                  .done = done,
                                  .userdata = userdata };
        r = child_start(&j->child, m->event, device_job_child, j, device_job_on_exit, j);
        if (r < 0) {
                free(j);
                return r;
        }
        d->device_job = j;
        return 0;
}

bool device_job_running(const struct domain *d)
{
        return d->device_job != NULL;
}

void device_job_cancel(struct domain *d, const char *why)
{
        struct device_job_result res = { .r = -ECANCELED };

        if (!d->device_job)
                return;
        snprintf(res.message, sizeof(res.message), "%s", why);
        device_job_finish(d->device_job, &res);
}
