/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-internal.h — what bus.c, manager-dbus.c and domain-dbus.c share.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "supervisor/context.h"
#include "supervisor/polkit.h"

/* The org.xensup.supervisor1.Manager vtable (userdata: struct manager). */
extern const sd_bus_vtable bus_manager_vtable[];

/* The org.xensup.supervisor1.Domain vtable (userdata: struct domain, via bus_domain_find). */
extern const sd_bus_vtable bus_domain_vtable[];

/* Fallback lookup: the visible domain whose object path is path; 0 if none. */
int bus_domain_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                    void **found, sd_bus_error *error);

/* Node enumerator: the object paths of every visible domain. */
int bus_domain_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                         sd_bus_error *error);

/* The named error for an operation's result (outcome.h): an outcome's, or the failing layer's. */
const char *bus_error_name(int r, enum outcome_layer layer);

/* Fail a method call with the named error for r (> 0 or < 0) and e's message; returns < 0. */
int bus_reply_outcome(sd_bus_error *error, int r, const struct sup_error *e);

/* The Simulator interface (sim-dbus.c), with --hypervisor=sim only. */
extern const sd_bus_vtable bus_sim_vtable[];

/*
 * A domain_started_fn for Start (userdata: the call, referenced): the empty reply goes out when
 * the domain runs, or the named error when its build failed.
 */
void bus_reply_started(struct domain *d, int r, const struct sup_error *e, void *userdata);

/* Who called: the uid and pid the bus vouches for (never augmented ones), the uid's groups. */
struct bus_caller {
        uid_t uid;
        pid_t pid;   /* 0 when the bus did not vouch for one */
        gid_t *gids; /* malloc'd */
        size_t n_gids;
};

/* Free the caller's group list (for _cleanup_). */
void bus_caller_done(struct bus_caller *c);

/*
 * bus_authorize() - may the sender of msg do action (POLKIT_ACTION_*)?
 *
 * Root (uid 0, as the bus vouches for it) may, without asking. Anyone else is
 * judged by polkit (polkit.h), asked asynchronously; without polkit (nobody
 * owns its name, --polkit=no, or a session bus) by the fallback: the members of
 * m->opts.admin_group may do POLKIT_ACTION_MANAGE, and only root anything else.
 * The decision is audited (log_audit()).
 *
 * Returns 1 when authorized (*caller_r filled when non-NULL; release it with
 * bus_caller_done()); 0 when polkit is being asked: the handler must return 1
 * and do nothing else, and is called again with the call once polkit answers;
 * a negative errno with AccessDenied (saying what to do) in error when refused.
 */
int bus_authorize(struct manager *m, sd_bus_message *msg, const char *action, sd_bus_error *error,
                  struct bus_caller *caller_r);
