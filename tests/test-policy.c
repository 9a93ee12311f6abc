/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-policy.c — the on_* decision and the crash-loop throttle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "supervisor/policy.h"

static void config_defaults(struct domain_config *c)
{
        memset(c, 0, sizeof(*c));
        c->on_poweroff = ACTION_DESTROY;
        c->on_reboot = ACTION_RESTART;
        c->on_crash = ACTION_PRESERVE;
        c->on_watchdog = ACTION_COREDUMP_RESTART;
        c->on_soft_reset = ACTION_SOFT_RESET;
}

static void test_action_follows_config(void **state)
{
        struct domain_config c;

        (void)state;
        config_defaults(&c);
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_POWEROFF, false, false),
                         ACTION_DESTROY);
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_REBOOT, false, false),
                         ACTION_RESTART);
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_CRASH, false, false),
                         ACTION_PRESERVE);
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_WATCHDOG, false, false),
                         ACTION_COREDUMP_RESTART);
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_SOFT_RESET, false, false),
                         ACTION_SOFT_RESET);
}

static void test_requested_stop_wins_except_crash(void **state)
{
        struct domain_config c;

        (void)state;
        config_defaults(&c);
        c.on_poweroff = ACTION_RESTART;
        /* `xensupctl shutdown` of an on_poweroff=restart domain leaves it stopped. */
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_POWEROFF, true, false),
                         ACTION_DESTROY);
        c.on_reboot = ACTION_DESTROY;
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_REBOOT, true, true), ACTION_RESTART);
        /* A crash during a requested shutdown is still a crash. */
        assert_int_equal(policy_action_for(&c, SHUTDOWN_REASON_CRASH, true, false),
                         ACTION_PRESERVE);
}

static void test_action_kinds(void **state)
{
        (void)state;
        assert_true(policy_action_restarts(ACTION_RESTART));
        assert_true(policy_action_restarts(ACTION_RENAME_RESTART));
        assert_true(policy_action_restarts(ACTION_COREDUMP_RESTART));
        assert_false(policy_action_restarts(ACTION_DESTROY));
        assert_false(policy_action_restarts(ACTION_PRESERVE));
        assert_true(policy_action_dumps_core(ACTION_COREDUMP_DESTROY));
        assert_false(policy_action_dumps_core(ACTION_RESTART));
}

static void test_throttle_fixed_window(void **state)
{
        uint64_t start = 0;
        unsigned count = 0;

        (void)state;
        /* burst 3 per 60 s: three restarts pass, the fourth inside the window does not. */
        for (uint64_t t = 1000; t < 1003; t++)
                assert_true(policy_throttle_admit(&start, &count, 3, 60, t));
        assert_int_equal(start, 1000);
        assert_int_equal(count, 3);
        assert_false(policy_throttle_admit(&start, &count, 3, 60, 1003));
        assert_false(policy_throttle_admit(&start, &count, 3, 60, 1059));
        /* The window ends interval seconds after it began: a new one starts. */
        assert_true(policy_throttle_admit(&start, &count, 3, 60, 1060));
        assert_int_equal(start, 1060);
        assert_int_equal(count, 1);
        /* A clock set back opens a new window rather than holding the old one. */
        assert_true(policy_throttle_admit(&start, &count, 3, 60, 10));
        assert_int_equal(start, 10);
}

static void test_throttle_any_burst(void **state)
{
        uint64_t start = 0;
        unsigned count = 0;

        (void)state;
        /* No internal cap: a burst of 1000 admits 1000 restarts (the old history held 16). */
        for (unsigned i = 0; i < 1000; i++)
                assert_true(policy_throttle_admit(&start, &count, 1000, 3600, 5000 + i / 10));
        assert_false(policy_throttle_admit(&start, &count, 1000, 3600, 5100));
        /* burst 0 turns the throttle off, and still counts (for the backoff). */
        start = 0, count = 0;
        for (unsigned i = 0; i < 100; i++)
                assert_true(policy_throttle_admit(&start, &count, 0, 60, 7000));
        assert_int_equal(count, 100);
}

static void test_requested_restarts_do_not_count(void **state)
{
        (void)state;
        /* A person's reboot or shutdown never counts; a crash during it does. */
        assert_false(policy_restart_counts(true, SHUTDOWN_REASON_REBOOT));
        assert_false(policy_restart_counts(true, SHUTDOWN_REASON_POWEROFF));
        assert_true(policy_restart_counts(true, SHUTDOWN_REASON_CRASH));
        assert_true(policy_restart_counts(true, SHUTDOWN_REASON_WATCHDOG));
        assert_true(policy_restart_counts(false, SHUTDOWN_REASON_REBOOT));
}

static void test_retry_delay(void **state)
{
        const unsigned want[] = { 1, 2, 4, 8, 16, 30, 30 };

        (void)state;
        for (unsigned i = 0; i < ELEMENTSOF(want); i++)
                assert_int_equal(policy_retry_delay(i), want[i]);
        assert_int_equal(policy_retry_delay(UINT32_MAX), 30);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_action_follows_config),
                cmocka_unit_test(test_requested_stop_wins_except_crash),
                cmocka_unit_test(test_action_kinds),
                cmocka_unit_test(test_throttle_fixed_window),
                cmocka_unit_test(test_throttle_any_burst),
                cmocka_unit_test(test_requested_restarts_do_not_count),
                cmocka_unit_test(test_retry_delay),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
