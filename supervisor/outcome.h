/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * outcome.h — the supervisor's error contract (dbus-broker's util/error.h is
 * the model).
 *
 * Every operation of the supervisor's API (manager.h, lifecycle.h) returns
 *   0            done;
 *   > 0          a documented outcome the caller must handle (enum outcome),
 *                with a message for a person in e->message; the D-Bus glue
 *                maps each outcome to exactly one error name;
 *   < 0          an errno from a layer below: the hypervisor (builders/),
 *                XenStore (layout/) or the system (files, memory, the loop).
 *                e->layer says which, and e->message is that layer's own
 *                message with our context prefixed, never replaced.
 * The errno never chooses the outcome: -ENOENT from loading a kernel is a
 * failure of the hypervisor layer, not "no such domain".
 */
#pragma once

#include "common/macros.h"

enum outcome {
        OUTCOME_NO_SUCH_DOMAIN = 1, /* no domain of that name or uuid is supervised */
        OUTCOME_INVALID_STATE,      /* the domain's state does not allow the operation */
        OUTCOME_EXISTS,             /* a name or uuid is already held (the message says by whom) */
        OUTCOME_INVALID_CONFIG,     /* a config file is invalid (the message has every problem) */
        OUTCOME_INVALID_ARGUMENT,   /* an argument is out of range or malformed */
        OUTCOME_DENIED,             /* the caller may not do this */
        _OUTCOME_MAX,
};

/* Where a negative errno came from. */
enum outcome_layer {
        LAYER_SYSTEM,     /* files, memory, the event loop: Error.Failed */
        LAYER_HYPERVISOR, /* builders/: Error.Hypervisor */
        LAYER_XENSTORE,   /* layout/: Error.XenStore */
};

struct sup_error {
        enum outcome_layer layer;
        char *message; /* malloc'd; NULL when none was set */
};

#define SUP_ERROR_INIT                                                                             \
        {                                                                                          \
                .layer = LAYER_SYSTEM, .message = NULL                                             \
        }

/* Set a documented outcome (r > 0) and its message; returns r. e may be NULL. */
int sup_outcome(struct sup_error *e, int r, const char *fmt, ...) _printf_(3, 4);

/* Set a layer's failure (r < 0) and the message with our context prefixed; returns r. */
int sup_failure(struct sup_error *e, enum outcome_layer layer, int r, const char *fmt, ...)
    _printf_(4, 5);

/* Free the message; the struct can be used again. */
void sup_error_done(struct sup_error *e);

/* The text of an outcome ("no such domain", ...) or of an errno, for logs. */
const char *outcome_to_string(int r);
