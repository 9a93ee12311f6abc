/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit.h — asking polkit (org.freedesktop.PolicyKit1) whether the sender of
 * a method call may do an action, without blocking the loop.
 *
 * The way systemd's bus_verify_polkit_async() does it: the first look at a call
 * sends CheckAuthorization and says POLKIT_PENDING, and the handler returns 1
 * (reply later). When polkit answers, the call is put back in the bus's read
 * queue, so sd-bus dispatches it again (the object looked up anew) and the
 * handler's second look finds the answer. An answered call is forgotten once
 * the loop is idle again.
 */
#pragma once

#include <systemd/sd-bus.h>

/* Every mutating method: start, stop, change, create domains; reload; the simulator. */
#define POLKIT_ACTION_MANAGE "org.xensup.supervisor1.manage"
/* Attaching a host block device or bridge to a domain. */
#define POLKIT_ACTION_HOST_DEVICES "org.xensup.supervisor1.host-devices"

/* The group the shipped rules file grants POLKIT_ACTION_MANAGE to, and where it is installed. */
#define POLKIT_GROUP           "xensup"
#define POLKIT_RULES_FILE      "/usr/share/polkit-1/rules.d/org.xensup.supervisor1.rules"
#define POLKIT_LOCAL_RULES_DIR "/etc/polkit-1/rules.d"

enum polkit_answer {
        POLKIT_PENDING,   /* asked; the call is dispatched again when polkit answers */
        POLKIT_YES,       /* authorized */
        POLKIT_NO,        /* not authorized */
        POLKIT_CHALLENGE, /* authorized only after authenticating, which did not happen */
        POLKIT_ABSENT,    /* nobody owns org.freedesktop.PolicyKit1 on the bus */
        POLKIT_FAILED,    /* polkit or the bus failed (never an allow); see detail */
};

/* The queries of one daemon, in flight or answered (struct manager's polkit). */
struct polkit_registry;

/* Free the registry and every query in it, cancelling calls in flight; NULL-safe; NULL. */
struct polkit_registry *polkit_registry_free(struct polkit_registry *reg);

/*
 * polkit_check() - what polkit says about msg's sender doing action.
 * @reg: the registry, allocated on first use.
 * @msg: the incoming method call.
 * @action: the polkit action id.
 * @answer_r: the answer, or POLKIT_PENDING while polkit is asked (a second
 *            look while pending sends no second query).
 * @detail_r: for POLKIT_FAILED, polkit's error as "NAME: message" (malloc'd);
 *            NULL otherwise.
 *
 * AllowUserInteraction is asked only when msg allows interactive authorization.
 * Returns 0, or a negative errno when the query could not be sent.
 */
int polkit_check(struct polkit_registry **reg, sd_bus_message *msg, const char *action,
                 enum polkit_answer *answer_r, char **detail_r);
