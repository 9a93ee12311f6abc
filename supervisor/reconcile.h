/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reconcile.h — start-up: the configs, the hypervisor's list, /vm and the
 * daemon's records brought to agree.
 */
#pragma once

#include "supervisor/context.h"

/* Adopt what runs, restore what the records say, clean up what is stale. */
int manager_reconcile(struct manager *m);
