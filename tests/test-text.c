/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-text — common/text.c: the control-byte check and the escaping every
 * message that quotes a config's or a caller's bytes goes through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/text.h"

static void test_has_control(void **state)
{
        (void)state;
        assert_false(text_has_control(""));
        assert_false(text_has_control("/srv/xen/caf\xc3\xa9 img ~!"));
        assert_true(text_has_control("a\nb"));
        assert_true(text_has_control("\t"));
        assert_true(text_has_control("end\x7f"));
        assert_true(text_has_control("\x1f"));
}

static void test_escape(void **state)
{
        char buf[64], tiny[8];

        (void)state;
        assert_string_equal(text_escape(buf, sizeof(buf), "plain", SIZE_MAX, 64), "plain");
        assert_string_equal(text_escape(buf, sizeof(buf), "a\nb\\c\xff", SIZE_MAX, 64),
                            "a\\x0ab\\x5cc\\xff");
        /* At most max bytes, "..." saying more followed. */
        assert_string_equal(text_escape(buf, sizeof(buf), "abcdef", SIZE_MAX, 3), "abc...");
        /* The first n bytes only: what follows them is not "left out". */
        assert_string_equal(text_escape(buf, sizeof(buf), "abc,def", 3, 64), "abc");
        assert_string_equal(text_escape(buf, sizeof(buf), "abcdef", 5, 3), "abc...");
        /* A buffer too small is cut at a whole escape, never mid-way, and stays terminated. */
        assert_string_equal(text_escape(tiny, sizeof(tiny), "\n\n\n", SIZE_MAX, 64), "\\x0a");
        assert_string_equal(text_escape(tiny, sizeof(tiny), "abcdefghij", SIZE_MAX, 64), "abc...");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_has_control),
                cmocka_unit_test(test_escape),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
