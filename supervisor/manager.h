/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h — the daemon itself: its context (context.h) created, run until
 * SIGTERM and freed; the event loop, signals, sd_notify and the watch scan
 * live in manager.c. Operations follow outcome.h's contract.
 *
 * The other modules each say what they offer in their own header:
 * domain-table.h (the table), configs.h (reload, CreateDomain, identity),
 * config-store.h (the last good configs), reconcile.h (start-up),
 * lifecycle.h (the state machine).
 */
#pragma once

#include "supervisor/context.h"

/* Create the manager: load configs, open the hypervisor and XenStore, hook up the loop. */
int manager_new(const struct manager_options *opts, struct manager **ret, char **err_r);

/* Free everything; running domains are left running. NULL-safe; returns NULL. */
struct manager *manager_free(struct manager *m);

/* Reconcile, start autostart domains, run until SIGTERM. */
int manager_run(struct manager *m);

/* After SIGTERM: exit the loop once no build runs (and, with stop_domains, no domain). */
void manager_check_exit(struct manager *m);
