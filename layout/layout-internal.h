/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout-internal.h — hooks into layout's request layer, for tests only.
 *
 * Every XenStore request layout sends goes through one function that counts
 * it; these calls let a test make one chosen request fail without sending it,
 * or run code (another client's write) just before it is sent.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "layout/layout.h"

/* Make the nth request from now (1-based) fail with -error, unsent; nth 0 disarms. */
void layout_test_fail_request(struct layout *l, uint64_t nth, int error);

/*
 * Call fn(userdata) just before the nth request from now (1-based) is issued; nth 0 disarms.
 * A request of a transaction may be sent later, ahead of its reply (xs-wire.h): a write by
 * fn conflicts with the transaction for sure only at its commit (its last request).
 */
void layout_test_hook_request(struct layout *l, uint64_t nth, void (*fn)(void *userdata),
                              void *userdata);

/* Shut the pipelined connection down, as when xenstored goes away; false when there is none. */
bool layout_test_break_wire(struct layout *l);
