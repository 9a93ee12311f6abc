/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.h — what to do when a domain stops: pure decisions, no I/O, so
 * they are tested on their own.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

/* The action to apply: the config's, unless a person asked for this stop. */
enum domain_action policy_action_for(const struct domain_config *c, enum shutdown_reason why,
                                     bool requested, bool requested_reboot);

/* True when the action builds the domain again. */
bool policy_action_restarts(enum domain_action a);

/* True when the action dumps the domain's core first. */
bool policy_action_dumps_core(enum domain_action a);

/*
 * Whether one more restart at `now` keeps within `burst` restarts per
 * `interval` seconds, given the times (seconds, oldest first) of earlier ones.
 */
bool policy_restart_allowed(const uint64_t *times, unsigned n, unsigned burst, unsigned interval,
                            uint64_t now);

/*
 * Seconds to wait before this restart: none for the first within the
 * interval, then 1, 2, 4... up to 30, so a crash loop does not spin until
 * the throttle stops it.
 */
unsigned policy_restart_delay(const uint64_t *times, unsigned n, unsigned interval, uint64_t now);

/* Append `now` to a bounded history of restart times, dropping the oldest. */
void policy_record_restart(uint64_t *times, unsigned *n, unsigned max, uint64_t now);
