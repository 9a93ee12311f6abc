/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lifecycle.h — a domain's life: build, watch it die, apply its action.
 *
 * These are the only functions that move a domain's state; each one that
 * changes it persists the daemon's record (/tool/xensup/<uuid>) and tells
 * D-Bus, so a killed daemon and a watching GUI both see the same thing.
 */
#pragma once

#include "builders/builder.h"
#include "supervisor/build-queue.h"
#include "supervisor/manager.h"

/*
 * Begin building the domain from its (re-read) config for a person: 0 once the build is queued,
 * then done(userdata) when it runs or has failed (it then ends failed). done may be NULL.
 */
int lifecycle_start(struct manager *m, struct domain *d, domain_started_fn done, void *userdata,
                    char **err_r);

/* Start without a person waiting: a failed build is retried through the restart throttle. */
void lifecycle_autostart(struct manager *m, struct domain *d);

/* The build queue's callback (userdata: the manager): lay out, introduce, unpause. */
void lifecycle_on_built(void *owner, const struct domain_config *cfg,
                        const struct build_result *res, void *userdata);

/* The daemon stops with the domain's build unfinished: whoever waits hears so. */
void lifecycle_forget_build(struct domain *d);

/* What the hypervisor's list says of an active domain; info NULL = it is gone. */
void lifecycle_observe(struct manager *m, struct domain *d, const struct builder_domain_info *info);

/*
 * Destroy an unfinished instance and its nodes, leaving the record as it is: its
 * build-in-progress marker still says to build it (a kill -9 right after must not read stopped).
 */
void lifecycle_discard(struct manager *m, struct domain *d);

/* Destroy the domain and remove its XenStore nodes; it ends stopped. */
int lifecycle_destroy(struct manager *m, struct domain *d, char **err_r);

/* Write control/shutdown and arm the timeout. */
int lifecycle_request_shutdown(struct manager *m, struct domain *d, bool reboot, unsigned timeout,
                               char **err_r);

/* Re-arm a graceful shutdown's timer after an adoption (deadline in realtime s). */
int lifecycle_arm_shutdown_timer(struct manager *m, struct domain *d);

/* Move to a state and tell D-Bus and the STATUS line. */
void lifecycle_set_state(struct manager *m, struct domain *d, enum domain_state s);

/* Persist the daemon's record of the domain. */
int lifecycle_save(struct manager *m, struct domain *d, bool building);

/* Take over the persisted record (restart counts, failure, shutdown request). */
void lifecycle_restore(struct domain *d, const struct layout_tool_state *st);
