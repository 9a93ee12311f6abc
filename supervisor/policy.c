/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
        if (requested && why != SHUTDOWN_REASON_CRASH && why != SHUTDOWN_REASON_WATCHDOG)
                return requested_reboot ? ACTION_RESTART : ACTION_DESTROY;
        return config_action_for(c, why);
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

#define RESTART_DELAY_MAX 30

static unsigned restarts_within(const uint64_t *times, unsigned n, unsigned interval, uint64_t now)
{
        unsigned recent = 0;

        for (unsigned i = 0; i < n; i++)
                if (times[i] + interval > now)
                        recent++;
        return recent;
}

bool policy_restart_allowed(const uint64_t *times, unsigned n, unsigned burst, unsigned interval,
                            uint64_t now)
{
        return restarts_within(times, n, interval, now) < burst;
}

unsigned policy_restart_delay(const uint64_t *times, unsigned n, unsigned interval, uint64_t now)
{
        unsigned recent = restarts_within(times, n, interval, now);

        if (recent == 0)
                return 0;
        if (recent > 5)
                return RESTART_DELAY_MAX;
        return 1u << (recent - 1) < RESTART_DELAY_MAX ? 1u << (recent - 1) : RESTART_DELAY_MAX;
}

void policy_record_restart(uint64_t *times, unsigned *n, unsigned max, uint64_t now)
{
        if (max == 0)
                return;
        if (*n == max) {
                memmove(times, times + 1, (max - 1) * sizeof(*times));
                (*n)--;
        }
        times[(*n)++] = now;
}
