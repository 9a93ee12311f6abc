/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/outcome.h"

static const char *const outcome_table[_OUTCOME_MAX] = {
        [OUTCOME_NO_SUCH_DOMAIN] = "no such domain",
        [OUTCOME_INVALID_STATE] = "invalid state",
        [OUTCOME_EXISTS] = "exists",
        [OUTCOME_INVALID_CONFIG] = "invalid config",
        [OUTCOME_INVALID_ARGUMENT] = "invalid argument",
        [OUTCOME_DENIED] = "denied",
};

static void sup_error_setv(struct sup_error *e, enum outcome_layer layer, const char *fmt,
                           va_list ap)
{
        char *s = NULL;

        if (!e)
                return;
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        free(e->message);
        e->message = s;
        e->layer = layer;
}

int sup_outcome(struct sup_error *e, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        sup_error_setv(e, LAYER_SYSTEM, fmt, ap);
        va_end(ap);
        return r;
}

int sup_failure(struct sup_error *e, enum outcome_layer layer, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        sup_error_setv(e, layer, fmt, ap);
        va_end(ap);
        return r;
}

void sup_error_done(struct sup_error *e)
{
        free(e->message);
        e->message = NULL;
        e->layer = LAYER_SYSTEM;
}

const char *outcome_to_string(int r)
{
        if (r > 0)
                return TABLE_LOOKUP(outcome_table, r) ? outcome_table[r] : "unknown outcome";
        return strerror(-r);
}
