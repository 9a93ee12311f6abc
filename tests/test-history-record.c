/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-history-record — supervisor/history.c: the entries a domain's record
 * keeps, their text both ways, the oldest dropped past HISTORY_MAX, and text
 * that is not history_format()'s refused whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/history.h"

static void test_format_parse(void **state)
{
        struct history h = { 0 }, back;
        char text[HISTORY_TEXT_MAX];

        (void)state;
        history_format(&h, text);
        assert_string_equal(text, "");
        history_add(&h, 1700000000000000, "started", SHUTDOWN_REASON_NONE, NULL, HISTORY_BY_XENSUPD,
                    0);
        history_add(&h, 1700000001000000, "stopped", SHUTDOWN_REASON_SOFT_RESET, "rename-restart",
                    HISTORY_BY_GUEST, 0);
        history_add(&h, UINT64_MAX, "destroyed", SHUTDOWN_REASON_NONE, "", HISTORY_BY_UID,
                    4294967295u);
        history_format(&h, text);
        assert_string_equal(text, "1700000000000000 started - - xensupd;"
                                  "1700000001000000 stopped soft_reset rename-restart guest;"
                                  "18446744073709551615 destroyed - - uid=4294967295");
        assert_int_equal(history_parse(text, &back), 0);
        assert_int_equal(back.n, 3);
        assert_memory_equal(&back.entries[0], &h.entries[0], sizeof(h.entries[0]));
        assert_int_equal(back.entries[1].reason, SHUTDOWN_REASON_SOFT_RESET);
        assert_string_equal(back.entries[1].action, "rename-restart");
        assert_int_equal(back.entries[2].by, HISTORY_BY_UID);
        assert_int_equal(back.entries[2].uid, 4294967295u);
        assert_true(back.entries[2].usec == UINT64_MAX);
}

/* Past HISTORY_MAX the oldest goes; the longest entries still fit the record's text. */
static void test_full(void **state)
{
        struct history h = { 0 }, back;
        char text[HISTORY_TEXT_MAX], who[24];

        (void)state;
        for (unsigned i = 0; i < HISTORY_MAX + 3; i++)
                history_add(&h, UINT64_MAX - i, "destroyed", SHUTDOWN_REASON_SOFT_RESET,
                            "coredump-restart", HISTORY_BY_UID, 4000000000u + i);
        assert_int_equal(h.n, HISTORY_MAX);
        assert_int_equal(h.entries[0].uid, 4000000003u);
        assert_int_equal(h.entries[HISTORY_MAX - 1].uid, 4000000000u + HISTORY_MAX + 2);
        history_format(&h, text);
        assert_true(strlen(text) < sizeof(text));
        assert_int_equal(history_parse(text, &back), 0);
        assert_int_equal(back.n, HISTORY_MAX);
        assert_string_equal(history_actor_to_string(&back.entries[0], who, sizeof(who)),
                            "uid 4000000003");
}

/* Anything else is refused whole: the domain starts a new history instead. */
static void test_malformed(void **state)
{
        static const char *const bad[] = {
                "1 started - -",                            /* a field short */
                "1 started - - xensupd extra",              /* one too many */
                "x started - - xensupd",                    /* no number */
                "1 Started - - xensupd",                    /* not a word of ours */
                "1 stopped explode - guest",                /* no such reason */
                "1 stopped none - guest",                   /* "none" is written "-" */
                "1 started - - uid=4294967296",             /* past 32 bits */
                "1 started - - root",                       /* no such actor */
                "99999999999999999999 started - - xensupd", /* past 64 bits */
                "1 started - - xensupd;;",                  /* strtok skips it: fine below */
        };
        struct history h;
        char nine[HISTORY_TEXT_MAX] = "";

        (void)state;
        for (size_t i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++) {
                h.n = 5;
                assert_int_equal(history_parse(bad[i], &h), -EINVAL);
                assert_int_equal(h.n, 0);
        }
        assert_int_equal(history_parse(bad[9], &h), 0);
        assert_int_equal(h.n, 1);
        for (unsigned i = 0; i < HISTORY_MAX + 1; i++)
                strcat(nine, i ? ";1 started - - guest" : "1 started - - guest");
        assert_int_equal(history_parse(nine, &h), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_parse),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_malformed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
