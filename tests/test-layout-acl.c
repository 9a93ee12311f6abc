/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ACL builder of layout/: owner always dom0, guest grants only, xenstored's text form. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "layout/acl.h"

static void build_and_format(uint32_t domid, enum layout_access a, const char *expected)
{
        struct xs_permissions p[LAYOUT_ACL_MAX];
        char buf[LAYOUT_ACL_STRLEN];
        unsigned n = 99;

        assert_int_equal(layout_acl_build(domid, a, p, &n), 0);
        assert_in_range(n, 1, LAYOUT_ACL_MAX);
        assert_int_equal(layout_acl_format(p, n, buf, sizeof(buf)), 0);
        assert_string_equal(buf, expected);
}

static void test_build_each_access(void **state)
{
        (void)state;
        build_and_format(5, LAYOUT_ACCESS_NONE, "n0");
        build_and_format(0, LAYOUT_ACCESS_NONE, "n0"); /* dom0-only needs no guest */
        build_and_format(5, LAYOUT_ACCESS_READ, "n0,r5");
        build_and_format(5, LAYOUT_ACCESS_WRITE, "n0,b5");
        build_and_format(32751, LAYOUT_ACCESS_READ, "n0,r32751");
        build_and_format(5, LAYOUT_ACCESS_OWNER, "n5,r0");
}

/* A frontend directory is the guest's, as Linux's frontends expect; dom0 is listed to read. */
static void test_frontend_directory_is_the_guests(void **state)
{
        struct xs_permissions p[LAYOUT_ACL_MAX];
        unsigned n = 0;

        (void)state;
        assert_int_equal(layout_acl_build(7, LAYOUT_ACCESS_OWNER, p, &n), 0);
        assert_int_equal(layout_acl_access_of(p, n, 7), LAYOUT_ACCESS_WRITE);
        assert_int_equal(layout_acl_access_of(p, n, 8), LAYOUT_ACCESS_NONE);
        /* Not an ACL xensup would accept on a node whose value it reads. */
        assert_false(layout_acl_is_safe(p, n, 7));
        assert_int_equal(layout_acl_build(0, LAYOUT_ACCESS_OWNER, p, &n), -EINVAL);
}

/* Every access but a frontend directory's. */
static void test_owner_is_always_dom0(void **state)
{
        static const uint32_t ids[] = { 1, 2, 7, 255, 256, 4096, 32751 };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                for (int a = 0; a <= LAYOUT_ACCESS_WRITE; a++) {
                        struct xs_permissions p[LAYOUT_ACL_MAX];
                        unsigned n = 0;

                        assert_int_equal(layout_acl_build(ids[i], (enum layout_access)a, p, &n), 0);
                        /* dom0 owns it, and grants nothing to domains it does not list. */
                        assert_int_equal(p[0].id, 0);
                        assert_int_equal(p[0].perms, XS_PERM_NONE);
                        assert_true(layout_acl_is_safe(p, n, ids[i]));
                        assert_int_equal(layout_acl_access_of(p, n, ids[i]), a);
                        /* Nobody else gets anything, whichever access the guest has. */
                        assert_int_equal(layout_acl_access_of(p, n, ids[i] + 1),
                                         LAYOUT_ACCESS_NONE);
                        for (unsigned k = 1; k < n; k++)
                                assert_int_equal(p[k].id, ids[i]);
                }
}

static void test_build_refuses_bad_input(void **state)
{
        struct xs_permissions p[LAYOUT_ACL_MAX];
        unsigned n = 0;

        (void)state;
        /* Granting dom0 or a reserved id (DOMID_SELF, DOMID_IO, ...) makes no sense. */
        assert_int_equal(layout_acl_build(0, LAYOUT_ACCESS_READ, p, &n), -EINVAL);
        assert_int_equal(layout_acl_build(0, LAYOUT_ACCESS_WRITE, p, &n), -EINVAL);
        assert_int_equal(layout_acl_build(DOMID_FIRST_RESERVED, LAYOUT_ACCESS_READ, p, &n),
                         -EINVAL);
        assert_int_equal(layout_acl_build(0x7FF2, LAYOUT_ACCESS_WRITE, p, &n), -EINVAL);
        assert_int_equal(layout_acl_build(UINT32_MAX, LAYOUT_ACCESS_READ, p, &n), -EINVAL);
        assert_int_equal(layout_acl_build(5, _LAYOUT_ACCESS_MAX, p, &n), -EINVAL);
        assert_int_equal(layout_acl_build(5, (enum layout_access) - 1, p, &n), -EINVAL);
        assert_false(layout_acl_guest_is_valid(0));
        assert_true(layout_acl_guest_is_valid(1));
        assert_true(layout_acl_guest_is_valid(DOMID_FIRST_RESERVED - 1));
        assert_false(layout_acl_guest_is_valid(DOMID_FIRST_RESERVED));
}

static void test_format(void **state)
{
        const struct xs_permissions p[] = {
                { .id = 7, .perms = XS_PERM_NONE },
                { .id = 0, .perms = XS_PERM_READ },
                { .id = 3, .perms = XS_PERM_WRITE },
                { .id = 12, .perms = XS_PERM_READ | XS_PERM_WRITE },
        };
        char buf[LAYOUT_ACL_STRLEN];
        char small[6];

        (void)state;
        assert_int_equal(layout_acl_format(p, 4, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "n7,r0,w3,b12");
        assert_int_equal(layout_acl_format(p, 0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        /* "n7,r0" needs 6 bytes with its NUL; one more entry does not fit. */
        assert_int_equal(layout_acl_format(p, 2, small, sizeof(small)), 0);
        assert_string_equal(small, "n7,r0");
        assert_int_equal(layout_acl_format(p, 3, small, sizeof(small)), -ENOBUFS);
        assert_int_equal(layout_acl_format(p, 1, small, 0), -ENOBUFS);
}

static void test_is_safe_rejects_what_we_never_write(void **state)
{
        const struct xs_permissions guest_owned[] = { { .id = 5, .perms = XS_PERM_NONE } };
        const struct xs_permissions libxl_rw[] = { { .id = 5, .perms = XS_PERM_NONE },
                                                   { .id = 0, .perms = XS_PERM_READ } };
        const struct xs_permissions world_read[] = { { .id = 0, .perms = XS_PERM_READ } };
        const struct xs_permissions other_guest[] = { { .id = 0, .perms = XS_PERM_NONE },
                                                      { .id = 6, .perms = XS_PERM_READ } };
        const struct xs_permissions ours[] = { { .id = 0, .perms = XS_PERM_NONE },
                                               { .id = 5, .perms = XS_PERM_READ } };

        (void)state;
        assert_false(layout_acl_is_safe(guest_owned, 1, 5));
        assert_false(layout_acl_is_safe(libxl_rw, 2, 5));
        assert_false(layout_acl_is_safe(world_read, 1, 5));
        assert_false(layout_acl_is_safe(other_guest, 2, 5));
        assert_false(layout_acl_is_safe(ours, 0, 5));
        assert_true(layout_acl_is_safe(ours, 2, 5));
        assert_true(layout_acl_is_safe(ours, 1, 5));
}

static void test_access_of_follows_xenstored(void **state)
{
        const struct xs_permissions guest_owned[] = { { .id = 5, .perms = XS_PERM_NONE },
                                                      { .id = 0, .perms = XS_PERM_READ } };
        const struct xs_permissions world_read[] = { { .id = 0, .perms = XS_PERM_READ },
                                                     { .id = 6, .perms = XS_PERM_NONE } };

        (void)state;
        /* The owner can do everything, whatever the entry's own bits say. */
        assert_int_equal(layout_acl_access_of(guest_owned, 2, 5), LAYOUT_ACCESS_WRITE);
        /* Unlisted domains get the owner entry's bits; a listed one gets its own. */
        assert_int_equal(layout_acl_access_of(world_read, 2, 9), LAYOUT_ACCESS_READ);
        assert_int_equal(layout_acl_access_of(world_read, 2, 6), LAYOUT_ACCESS_NONE);
        assert_int_equal(layout_acl_access_of(world_read, 0, 9), LAYOUT_ACCESS_NONE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_build_each_access),
                cmocka_unit_test(test_owner_is_always_dom0),
                cmocka_unit_test(test_frontend_directory_is_the_guests),
                cmocka_unit_test(test_build_refuses_bad_input),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_is_safe_rejects_what_we_never_write),
                cmocka_unit_test(test_access_of_follows_xenstored),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
