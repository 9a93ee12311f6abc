/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * console.h — a domain's console, as `xl console` reaches it: the pty that
 * xenconsoled serves the guest's primary console on, named by the dom0-only
 * node /local/domain/<domid>/console/tty. The daemon opens it and hands the
 * descriptor over D-Bus, so a caller polkit allows needs no right to /dev/pts.
 */
#pragma once

#include "supervisor/context.h"
#include "supervisor/domain.h"
#include "supervisor/outcome.h"

/*
 * Open d's console read-write into *fd_r (O_CLOEXEC, never our controlling tty).
 * OUTCOME_INVALID_STATE unless d runs or is paused, or while xenconsoled has not
 * opened it yet; LAYER_XENSTORE when the node is missing or not trusted;
 * LAYER_SYSTEM when the pty cannot be opened or is no pty.
 */
int console_open(struct manager *m, struct domain *d, int *fd_r, struct sup_error *e);
