/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-xenbus.c — what both ends of a simulated xenbus device do with XenStore
 * (Linux's drivers/xen/xenbus/xenbus_client.c): read the other end's state,
 * switch one's own without resurrecting a device that is being torn down.
 */
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "common/parse.h"
#include "sim/hv-internal.h"

static const char *const device_type_names[_HV_DEVICE_TYPE_MAX] = {
        [HV_DEVICE_VBD] = "vbd",
        [HV_DEVICE_VIF] = "vif",
};

const char *hv_device_type_to_string(enum hv_device_type t)
{
        return TABLE_LOOKUP(device_type_names, t);
}

char *hv_xs_path(char *buf, size_t size, const char *dir, const char *name)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);

        return n < 0 || (size_t)n >= size ? NULL : buf;
}

bool hv_xs_exists(struct xs_conn *c, const char *path)
{
        _cleanup_free_ char *v = NULL;
        size_t len;

        return xs_conn_read(c, path, &v, &len) >= 0;
}

int hv_xs_read_uint(struct xs_conn *c, const char *path, unsigned max, unsigned *ret)
{
        _cleanup_free_ char *v = NULL;
        size_t len;
        int r;

        r = xs_conn_read(c, path, &v, &len);
        if (r < 0)
                return r;
        /* A value with a NUL inside is not a number, whatever comes before it. */
        if (strlen(v) != len)
                return -EINVAL;
        return parse_uint(v, max, ret);
}

int hv_xs_read_state(struct xs_conn *c, const char *dir)
{
        char path[HV_XS_PATH_MAX];
        unsigned v;

        if (!hv_xs_path(path, sizeof(path), dir, "state") ||
            hv_xs_read_uint(c, path, INT_MAX, &v) < 0)
                return HV_XB_UNKNOWN;
        return (int)v;
}

int hv_xs_printf(struct xs_conn *c, const char *path, const char *fmt, ...)
{
        _cleanup_free_ char *v = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&v, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return xs_conn_write(c, path, v, (size_t)n);
}

int hv_xs_switch_state(struct xs_conn *c, const char *dir, int *state, int new_state)
{
        char path[HV_XS_PATH_MAX];
        int r;

        if (*state == new_state)
                return 0;
        if (!hv_xs_path(path, sizeof(path), dir, "state"))
                return -ENAMETOOLONG;
        /* Writing to a removed directory would bring it back for whoever removed it. */
        if (!hv_xs_exists(c, path))
                return -ENOENT;
        r = hv_xs_printf(c, path, "%d", new_state);
        if (r < 0)
                return r;
        *state = new_state;
        return 0;
}
