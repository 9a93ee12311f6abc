/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * device-job.h — hot-plug and hot-unplug of one device of a running domain, in
 * a child process: attaching waits for the backend's InitWait, detaching for
 * the frontend to close, and neither may hold the daemon's loop. The child
 * has its own hypervisor and XenStore handles (as a build child) and takes
 * the children's XenStore lock; it dies with the daemon, and what it left is
 * found from the device's record.
 *
 * One job at a time per domain. A domain torn down meanwhile cancels its job
 * (the child is killed, the caller told) before its devices go.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/creds.h"
#include "layout/devices.h"

struct manager;
struct domain;

enum device_job_op {
        DEVICE_JOB_ATTACH,
        DEVICE_JOB_DETACH,
};

/* What a job does. */
struct device_job_spec {
        enum device_job_op op;
        struct layout_device dev; /* attach: the new device (domid set); detach: its record */
        struct creds files_as;    /* attach of a disk: whose rights open the target */
        bool force;               /* detach: no asking, the forced teardown at once */
};

/* What it came to: r < 0 and a message, forced when a detach had to force. */
struct device_job_result {
        int32_t r;
        bool forced;
        bool denied; /* the target's owner may not open it */
        char message[1024];
};

/* Told once, on the loop, when the job ends (or is cancelled: r = -ECANCELED). */
typedef void (*device_job_done_fn)(struct domain *d, const struct device_job_result *res,
                                   void *userdata);

/* Start a job for d's instance: -EBUSY while another runs. */
int device_job_start(struct manager *m, struct domain *d, const struct device_job_spec *spec,
                     device_job_done_fn done, void *userdata);

/* Whether a job of d's runs. */
bool device_job_running(const struct domain *d);

/* Kill d's job, if any, and tell its caller it was cancelled (why is the message). */
void device_job_cancel(struct domain *d, const char *why);
