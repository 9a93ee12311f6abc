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

/* Whether a restart after this stop counts toward the throttle: not one a person asked for. */
bool policy_restart_counts(bool requested, enum shutdown_reason why);

/* True when the action builds the domain again. */
bool policy_action_restarts(enum domain_action a);

/* True when the action dumps the domain's core first. */
bool policy_action_dumps_core(enum domain_action a);

/*
 * Count one more restart at `now` against `burst` restarts per `interval` seconds in systemd's
 * fixed window (it begins at the first restart counted): true when it is admitted (and counted),
 * false when the throttle trips. burst 0 turns the throttle off (restarts are still counted,
 * for the backoff).
 */
bool policy_throttle_admit(uint64_t *window_start, unsigned *window_count, unsigned burst,
                           unsigned interval, uint64_t now);

/* Seconds before retrying a build that failed: 1, 2, 4... 30 after `failures` earlier ones. */
unsigned policy_retry_delay(unsigned failures);
