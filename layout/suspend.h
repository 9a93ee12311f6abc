/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * suspend.h — the XenStore side of a save and a restore (DEVICES.md C.2, C.4):
 * asking a guest to suspend through control/shutdown as libxl does, the
 * @releaseDomain watch a save waits on, xs_resume_domain after a cancelled
 * suspend, and the guest's control/feature-* nodes carried over a restore
 * (Linux writes them once, when xenstore first comes up, never again).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "layout/layout.h"

/* What the guest said it supports; each "" (unknown), "0" or "1". */
struct layout_guest_features {
        char poweroff[2];
        char reboot[2];
        char suspend[2];
};

/*
 * Write control/shutdown = "suspend" and wait up to timeout_ms for the guest to acknowledge it
 * (any other value: Linux clears the node before it freezes). Unacknowledged, the request is
 * withdrawn in a transaction (a last-moment acknowledgement still counts) and the call is
 * -ETIMEDOUT: the guest runs on, never half-suspended.
 */
int layout_request_suspend(struct layout *l, uint32_t domid, unsigned timeout_ms, char **err_r);

/* Withdraw a suspend request nobody waits for any more (its saver died), if it still asks. */
int layout_withdraw_suspend(struct layout *l, uint32_t domid, char **err_r);

/* Watch @releaseDomain on this handle: its events then wake layout_wait_event(). */
int layout_watch_release(struct layout *l, char **err_r);

/* Wait for the next event of this handle's watches, at most timeout_ms; 0 on either. */
int layout_wait_event(struct layout *l, unsigned timeout_ms);

/* xs_resume_domain(): xenstored serves the domain's ring again after a cancelled suspend. */
int layout_resume_domain(struct layout *l, uint32_t domid, char **err_r);

/* Read domid's control/feature-* nodes; anything but "0" or "1" is read as "" (unknown). */
int layout_read_guest_features(struct layout *l, uint32_t domid, struct layout_guest_features *f,
                               char **err_r);

/* Write them for a restored instance, guest-writable as layout_write_domain() made them. */
int layout_write_guest_features(struct layout *l, uint32_t domid,
                                const struct layout_guest_features *f, char **err_r);
