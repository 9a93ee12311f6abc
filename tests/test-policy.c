/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-policy.c — the on_* decision and the crash-loop throttle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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

static void test_throttle_burst_within_interval(void **state)
{
        uint64_t times[16] = { 0 };
        unsigned n = 0;

        (void)state;
        /* burst 3 per 60 s: three restarts pass, the fourth inside the window does not. */
        for (uint64_t t = 1000; t < 1003; t++) {
                assert_true(policy_restart_allowed(times, n, 3, 60, t));
                policy_record_restart(times, &n, 16, t);
        }
        assert_false(policy_restart_allowed(times, n, 3, 60, 1003));
        /* Once the oldest leaves the window, one more is allowed. */
        assert_false(policy_restart_allowed(times, n, 3, 60, 1059));
        assert_true(policy_restart_allowed(times, n, 3, 60, 1060));
}

static void test_history_is_bounded(void **state)
{
        uint64_t times[4];
        unsigned n = 0;

        (void)state;
        for (uint64_t t = 1; t <= 10; t++)
                policy_record_restart(times, &n, 4, t);
        assert_int_equal(n, 4);
        assert_int_equal(times[0], 7);
        assert_int_equal(times[3], 10);
        /* burst 0: never restart. */
        assert_false(policy_restart_allowed(times, 0, 0, 60, 100));
}

static void test_restart_backoff(void **state)
{
        uint64_t times[16] = { 0 };
        unsigned n = 0;

        (void)state;
        /* The first restart in the window is at once, then 1, 2, 4, 8, 16, 30, 30 s. */
        assert_int_equal(policy_restart_delay(times, n, 60, 1000), 0);
        const unsigned want[] = { 1, 2, 4, 8, 16, 30, 30 };
        for (unsigned i = 0; i < 7; i++) {
                policy_record_restart(times, &n, 16, 1000 + i);
                assert_int_equal(policy_restart_delay(times, n, 60, 1000 + i), want[i]);
        }
        /* Old restarts outside the interval do not count. */
        assert_int_equal(policy_restart_delay(times, n, 60, 2000), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_action_follows_config),
                cmocka_unit_test(test_requested_stop_wins_except_crash),
                cmocka_unit_test(test_action_kinds),
                cmocka_unit_test(test_throttle_burst_within_interval),
                cmocka_unit_test(test_history_is_bounded),
                cmocka_unit_test(test_restart_backoff),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
