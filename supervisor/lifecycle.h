/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lifecycle.h — a domain's state machine.
 *
 * Every change of a domain's state goes through lifecycle_dispatch(): one
 * table of (state, event) rows in lifecycle.c, each naming the handler that
 * does the work, and one writer of d->state (domain_enter()) that persists
 * the daemon's record (/tool/xensup/<uuid>), logs and tells D-Bus. An event
 * without a row is refused with OUTCOME_INVALID_STATE ("domain web1 is
 * stopped: cannot pause"), so control calls need no state checks of their own.
 */

/* clang-format off */
/*
 * from                               event        to
 * stopped, failed, preserved         start        starting (a person; preserved: destroyed
 *                                                 first; the throttle's window is reset)
 * stopped                            autostart    starting
 * restart-wait                       restart-due  starting
 * starting                           built        running; on failure: failed (a person
 *                                                 waits, or the uuid is held), else
 *                                                 retried through the throttle
 * running                            pause        paused
 * paused                             unpause      running
 * running, paused                    seen         running or paused, as the hypervisor says
 * running, paused, shutting-down     shutdown     shutting-down (control/shutdown written)
 * shutting-down                      timeout      stopped, or starting for a reboot
 * running, paused, shutting-down     died         shutdown/crashed, then its action:
 *                                                 dumping, stopped, preserved,
 *                                                 restart-wait, starting or failed
 * dumping                            dumped       the pending action, as for died
 * running, paused, shutting-down,
 *   preserved, dying, saving,
 *   suspended, migrating             gone         stopped (a migration's incoming instance
 *                                                 goes)
 * running, paused, shutting-down,
 *   preserved, dying, saving,
 *   suspended, migrating             dying        dying (looked at again every second)
 * starting (queued), running,
 *   paused, shutting-down,
 *   preserved, restart-wait, dying,
 *   saving, suspended, restoring,
 *   migrating                        destroy      stopped (the save's child is stopped, a
 *                                                 migration's incoming instance destroyed;
 *                                                 a restore's must finish first)
 * running, paused                    set-memory,
 *                                    set-max-memory,
 *                                    set-vcpus,
 *                                    pin-vcpu     (unchanged)
 * stopped                            adopt        what the record and the hypervisor say
 * running, paused                    save         saving (control/shutdown = suspend)
 * saving, suspended, migrating       died         suspended (reason suspend; others wait for
 *                                                 the save to fail; migrating stays)
 * saving, suspended                  saved        stopped (destroyed); on failure resumed in
 *                                                 place: running or paused, or its death's
 *                                                 action
 * stopped, failed                    restore      restoring (built from the image in a child)
 * restoring                          built        running; on failure failed, never retried nor
 *                                                 cold-booted
 * stopped                            fail         failed (its saved image cannot be restored)
 * running, paused                    migrate      migrating (saved into an incoming instance
 *                                                 restored beside it, paused)
 * migrating                          saved,
 *                                    built        when both ended well: the incoming instance
 *                                                 is the domain, running or paused as before;
 *                                                 on a failure it goes and the source runs on
 */
/* clang-format on */

/*
 * Actions after died: destroy → stopped; preserve → preserved; restart,
 * rename-restart, coredump-restart, soft-reset → starting (or restart-wait
 * with a backoff delay, or failed when the throttle trips); coredump-* go
 * through dumping first. A domain whose file was removed is supervised until
 * it stops: its restart actions then destroy it, and it leaves the table.
 * Guest-initiated restarts count toward the throttle; a restart a person
 * asked for (reboot) never does.
 */
#pragma once

#include "builders/builder.h"
#include "layout/layout.h"
#include "layout/suspend.h"
#include "supervisor/build-queue.h"
#include "supervisor/context.h"
#include "supervisor/save-job.h"

/* What a restore restores: the image's config and its descriptor, positioned at the stream. */
struct restore_source {
        const struct domain_config *cfg; /* the config it was saved with (the build copies it) */
        int fd;                          /* the build keeps a duplicate */
        struct layout_guest_features features;
        const char *image;            /* its name, for messages */
        const struct creds *files_as; /* who asked: its rights open the image config's files */
        const char *history;          /* the history the image carries (history.h's text), "" */
};

/* A person starts the domain: 0 once its build is queued; done(userdata) when it ends. */
int lifecycle_start(struct manager *m, struct domain *d, domain_started_fn done, void *userdata,
                    struct sup_error *e);

/* Start without a person waiting (autostart); a failed build is retried through the throttle. */
void lifecycle_autostart(struct manager *m, struct domain *d);

/* Ask the guest to power off or reboot; destroy after timeout seconds (0 = the config's). */
int lifecycle_shutdown(struct manager *m, struct domain *d, bool reboot, unsigned timeout,
                       struct sup_error *e);

/* Destroy the domain now (or drop its queued build, or its waiting restart); it ends stopped. */
int lifecycle_destroy(struct manager *m, struct domain *d, struct sup_error *e);

/* Pause a running domain. */
int lifecycle_pause(struct manager *m, struct domain *d, struct sup_error *e);

/* Unpause a paused domain. */
int lifecycle_unpause(struct manager *m, struct domain *d, struct sup_error *e);

/* Set the memory target in KiB, within the running instance's maxmem. */
int lifecycle_set_memory(struct manager *m, struct domain *d, uint64_t kib, struct sup_error *e);

/* Raise or lower the running instance's maxmem (KiB), never below its memory target. */
int lifecycle_set_max_memory(struct manager *m, struct domain *d, uint64_t kib,
                             struct sup_error *e);

/* What lifecycle_pin_vcpu() is to do. */
struct vcpu_pin {
        bool all;                          /* every vcpu of the running instance... */
        unsigned vcpu;                     /* ...or this one */
        const struct builder_cpumap *hard; /* NULL: left as it is */
        const struct builder_cpumap *soft; /* NULL: left as it is */
};

/* Set the hard or soft affinity (or both) of a vcpu, or of all, of a running instance. */
int lifecycle_pin_vcpu(struct manager *m, struct domain *d, const struct vcpu_pin *pin,
                       struct sup_error *e);

/* Set the online vcpus, 1..the running instance's maxvcpus. */
int lifecycle_set_vcpus(struct manager *m, struct domain *d, unsigned n, struct sup_error *e);

/* Save the running instance into spec->fd; done(userdata) when it is saved (and destroyed). */
int lifecycle_save(struct manager *m, struct domain *d, const struct save_job_spec *spec,
                   domain_started_fn done, void *userdata, struct sup_error *e);

/*
 * Migrate the running instance to this host (localhost): a save (spec, but its fd) streamed
 * into an incoming instance built beside it, which then replaces it; done(userdata) once the
 * incoming one runs, or the source runs on after a failure.
 */
int lifecycle_migrate(struct manager *m, struct domain *d, const struct save_job_spec *spec,
                      domain_started_fn done, void *userdata, struct sup_error *e);

/* Stop a save or a migration in progress: the guest is resumed, its caller told so. */
int lifecycle_cancel_save(struct manager *m, struct domain *d, struct sup_error *e);

/* Restore src's image into a new instance of d; done(userdata) once it runs. */
int lifecycle_restore(struct manager *m, struct domain *d, const struct restore_source *src,
                      domain_started_fn done, void *userdata, struct sup_error *e);

/* A stopped domain that must not start by itself (its saved image failed): failed, with why. */
void lifecycle_fail(struct manager *m, struct domain *d, const char *why);

/* What the hypervisor's list says of an active domain; info NULL = it is gone. */
void lifecycle_observe(struct manager *m, struct domain *d, const struct builder_domain_info *info);

/* Start-up: take over the instance (info, may be NULL) with the daemon's record (may be NULL). */
void lifecycle_adopt(struct manager *m, struct domain *d, const struct builder_domain_info *info,
                     const struct layout_tool_state *record);

/* The build queue's callback (userdata: the manager): lay out, introduce, unpause. */
void lifecycle_on_built(void *owner, const struct domain_config *cfg,
                        const struct build_result *res, void *userdata);

/* The daemon stops with the domain's build unfinished: whoever waits hears so. */
void lifecycle_forget_build(struct domain *d);

/*
 * The uuid a kept rename-restart instance of uuid's domid gets: derived, so a daemon killed while
 * keeping it recognizes the half-kept instance.
 */
void lifecycle_kept_uuid(const uint8_t uuid[16], uint32_t domid, uint8_t kept[16]);

/* The table's rows, for tests and for supervisor/README.md: "from-state event" per line. */
void lifecycle_describe(FILE *f);
