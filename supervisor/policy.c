/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <string.h>

#include "supervisor/policy.h"

enum domain_action policy_action_for(const struct domain_config *c, enum shutdown_reason why,
                                     bool requested, bool requested_reboot)
{
        /*
         * A stop a person asked for means what they asked, whatever the
         * config does with a guest-initiated one: `shutdown` leaves the
         * domain stopped, `reboot` brings it back. A crash during the
         * request is still a crash.
         */
        if (!policy_restart_counts(requested, why))
                return requested_reboot ? ACTION_RESTART : ACTION_DESTROY;
        return config_action_for(c, why);
}

bool policy_restart_counts(bool requested, enum shutdown_reason why)
{
        return !requested || why == SHUTDOWN_REASON_CRASH || why == SHUTDOWN_REASON_WATCHDOG;
}

bool policy_action_restarts(enum domain_action a)
{
        return a == ACTION_RESTART || a == ACTION_RENAME_RESTART || a == ACTION_COREDUMP_RESTART ||
               a == ACTION_SOFT_RESET;
}

bool policy_action_dumps_core(enum domain_action a)
{
        return a == ACTION_COREDUMP_DESTROY || a == ACTION_COREDUMP_RESTART;
}

bool policy_throttle_admit(uint64_t *window_start, unsigned *window_count, unsigned burst,
                           unsigned interval, uint64_t now)
{
        /* A clock set back must not hold the window open for ever. */
        if (*window_start == 0 || now < *window_start || now - *window_start >= interval) {
                *window_start = now;
                *window_count = 0;
        }
        /* Counted even with the throttle off: the backoff grows with the count. */
        if (burst != 0 && *window_count >= burst)
                return false;
        if (*window_count < UINT32_MAX)
                (*window_count)++;
        return true;
}

#define RETRY_DELAY_MAX 30

unsigned policy_retry_delay(unsigned failures)
{
        if (failures >= 5)
                return RETRY_DELAY_MAX;
        return 1u << failures < RETRY_DELAY_MAX ? 1u << failures : RETRY_DELAY_MAX;
}
