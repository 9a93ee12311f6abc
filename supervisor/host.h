/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host.h — the host's shutdown and boot, libvirt-guests' design (DEVICES.md
 * C.6): stopping xensupd never touches domains; xensup-domains.service asks
 * for this instead.
 *
 * Shutdown: every running domain follows its on_host_shutdown. "save" (the
 * default) saves it into the save directory as <uuid>.xsave (a few at once,
 * as builds run; written as .part and renamed once whole), and a save that
 * fails shuts the domain down instead; "shutdown" asks the guest to power off
 * (destroyed after its shutdown_timeout); "keep" leaves it running. The image says whose
 * the domain is (image.h's creator), so the boot restores another user's created domain
 * with that user's rights, as it ran.
 *
 * Boot: when the daemon starts on a fresh XenStore (no record of a domain:
 * the host booted), each image of the save directory is restored before
 * anything is autostarted, and removed once its domain runs. A failed restore
 * keeps its image and leaves the domain failed with the reason: it is never
 * cold-booted in its place. The daemon's next starts (records exist) leave the
 * directory alone.
 */
#pragma once

#include <stdbool.h>

#include "supervisor/context.h"

/* What became of one domain at the host's shutdown or boot. */
struct host_result {
        char name[DOMAIN_NAME_MAX + 1];
        const char *what; /* "saved", "shut down", "kept", "restored", "failed" */
        char *message;    /* detail for people; "" when none */
};

/* Told once, on the loop, when every domain is done (results[n]). */
typedef void (*host_done_fn)(struct manager *m, const struct host_result *results, size_t n,
                             void *userdata);

/* Begin the host's shutdown: -EBUSY while one runs; done() once every domain is dealt with. */
int host_shutdown_start(struct manager *m, host_done_fn done, void *userdata);

/*
 * At start-up, before the domains are adopted: find the images of the save directory whose uuid
 * has no record (the host booted) and no live instance, and mark their domains so that adoption
 * does not autostart them.
 */
void host_boot_scan(struct manager *m);

/* After adoption (stale nodes removed): restore what host_boot_scan() found. */
void host_boot_restore(struct manager *m);

/* done() once the boot's restores have all ended (at once when none runs), with their results. */
int host_boot_wait(struct manager *m, host_done_fn done, void *userdata);

/* Free what the host's shutdown and boot keep; their callers are not told. */
void host_free(struct manager *m);
