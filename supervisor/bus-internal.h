/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-internal.h — what bus.c, manager-dbus.c and domain-dbus.c share.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "supervisor/context.h"

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

/* Who called: the uid the bus vouches for and that uid's groups. */
struct bus_caller {
        uid_t uid;
        gid_t *gids; /* malloc'd */
        size_t n_gids;
};

/* Free the caller's group list (for _cleanup_). */
void bus_caller_done(struct bus_caller *c);

/*
 * Authorize a mutating call: 0 when the sender is root or in m->opts.admin_group,
 * judged on credentials the bus vouches for (never augmented ones from /proc);
 * otherwise AccessDenied is set in error and a negative errno returned. On
 * success *caller_r (if non-NULL) is filled; release it with bus_caller_done().
 */
int bus_check_admin(struct manager *m, sd_bus_message *msg, sd_bus_error *error,
                    struct bus_caller *caller_r);

/*
 * Whether a caller (uid, with the given groups) could open path for reading by
 * the permission bits of the file and search bits of every directory above it.
 * Returns 1, 0, or a negative errno.
 */
int bus_path_readable_by(const char *path, uid_t uid, const gid_t *gids, size_t n_gids);
