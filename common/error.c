/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "common/error.h"

/* Format into a fresh buffer; NULL on allocation failure. */
static char *vformat(const char *fmt, va_list ap)
{
        char *s = NULL;

        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

int err_setf(char **err_r, int r, const char *fmt, ...)
{
        va_list ap;

        if (!err_r)
                return r;
        va_start(ap, fmt);
        free(*err_r);
        *err_r = vformat(fmt, ap);
        va_end(ap);
        return r;
}

int err_appendf(char **err_r, int r, const char *fmt, ...)
{
        _cleanup_free_ char *line = NULL;
        char *joined = NULL;
        va_list ap;

        if (!err_r)
                return r;
        va_start(ap, fmt);
        line = vformat(fmt, ap);
        va_end(ap);
        if (!line)
                return r;
        if (!*err_r) {
                *err_r = TAKE_PTR(line);
                return r;
        }
        if (asprintf(&joined, "%s\n%s", *err_r, line) < 0)
                return r;
        free(*err_r);
        *err_r = joined;
        return r;
}
