/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * save-job.h — a running domain saved into an image, in a child process
 * (DEVICES.md C.2, C.5): the child has its own hypervisor and XenStore
 * handles, as a build child, because xc_domain_save blocks for seconds and
 * calls back synchronously. It watches @releaseDomain first, asks the guest
 * to suspend through control/shutdown, waits for the acknowledgement and then
 * for the shutdown reason suspend, and streams the image (image.h) into the
 * caller's descriptor. It never destroys nor resumes: the daemon does, on the
 * loop, from what the job came to and what the hypervisor says.
 *
 * One job at a time per domain; the child dies with the daemon, whose next
 * start finds the "saving" state in the record and resumes a suspended guest.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct manager;
struct domain;

#define SAVE_ACK_TIMEOUT_MS_DEFAULT     60000 /* libxl's wait for the guest's acknowledgement */
#define SAVE_SUSPEND_TIMEOUT_MS_DEFAULT 60000 /* ...and for the suspend itself */

/* What a save does. */
struct save_job_spec {
        int fd;    /* the image, the caller's descriptor: the job keeps a duplicate */
        bool live; /* refused by a hypervisor without log-dirty support, the guest untouched */
        unsigned ack_timeout_ms;
        unsigned suspend_timeout_ms;
        const char *history; /* what the image carries of d's history (history.h's text); NULL */
};

/* What it came to: r < 0 and a message naming the step. */
struct save_job_result {
        int32_t r;
        bool suspended; /* the guest reached suspend (resume it unless the save succeeded) */
        char message[1024];
};

/* Told once, on the loop, when the job ends (or is cancelled: r = -ECANCELED). */
typedef void (*save_job_done_fn)(struct domain *d, const struct save_job_result *res,
                                 void *userdata);

/* Start saving d's instance: -EBUSY while a job of d's runs. */
int save_job_start(struct manager *m, struct domain *d, const struct save_job_spec *spec,
                   save_job_done_fn done, void *userdata);

/* Whether a save of d's runs. */
bool save_job_running(const struct domain *d);

/* Bytes of the image written so far (0 for a pipe, which has no offset to read). */
uint64_t save_job_written(const struct domain *d);

/* Kill d's job, if any, without telling anyone: its domain is being destroyed. */
void save_job_abandon(struct domain *d);

/* Kill d's job, if any, and tell its caller it was cancelled (why is the message). */
void save_job_cancel(struct domain *d, const char *why);
