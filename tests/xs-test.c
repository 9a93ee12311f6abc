/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "tests/xs-test.h"

char *xs_test_read(struct xs_handle *xs, const char *path)
{
        unsigned len;

        return xs_read(xs, XBT_NULL, path, &len);
}

void xs_test_acl(struct xs_handle *xs, const char *path, char buf[LAYOUT_ACL_STRLEN])
{
        unsigned n = 0;
        _cleanup_free_ struct xs_permissions *p = xs_get_permissions(xs, XBT_NULL, path, &n);

        assert_non_null(p);
        assert_int_equal(layout_acl_format(p, n, buf, LAYOUT_ACL_STRLEN), 0);
}

struct xs_handle *xs_test_open_guest(uint32_t domid)
{
        struct xs_handle *g = xs_open(XS_OPEN_SOCKETONLY);
        char id[16];
        char *answer;

        assert_non_null(g);
        snprintf(id, sizeof(id), "%" PRIu32, domid);
        answer = xs_control_command(g, "sim-as-domain", id, (unsigned)strlen(id) + 1);
        assert_non_null(answer);
        free(answer);
        return g;
}
