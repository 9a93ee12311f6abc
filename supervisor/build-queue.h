/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * build-queue.h — domain images built in child processes, a few at a time.
 *
 * Building a PV image (inflating the kernel, filling guest memory) takes
 * seconds and tens of MB; done on the event loop it leaves D-Bus and every
 * other domain's death unanswered meanwhile (ten guests rebooting at once
 * wait a minute). Each build runs builder_create() in a forked child with
 * its own hypervisor and XenStore handles: it creates the domain, writes its
 * XenStore layout, introduces it and attaches its devices (waiting on their
 * backends), so the domain is ready to run; the supervisor then only
 * unpauses it on the loop. A child that fails undoes all it did. At most
 * max_jobs children run at once, so a storm of restarts cannot exhaust
 * dom0's memory; the rest wait in FIFO order.
 *
 * A domain is its uuid: the child lists the hypervisor's domains right before
 * it creates one and refuses (duplicate) when a domain that is not dying
 * already holds the config's uuid, so no path can build a second live copy.
 *
 * A child dies with the daemon (PR_SET_PDEATHSIG): what it half-built is
 * found by the next daemon through the build-in-progress marker.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "builders/builder.h"
#include "common/creds.h"
#include "config/config.h"
#include "layout/suspend.h"
#include "supervisor/attach.h"
#include "supervisor/kernel-cache.h"

struct build_queue;

/* What one build came to: r < 0 and a message, or the new (paused) domain. */
struct build_result {
        int32_t r;
        bool incomplete; /* the child died without a result: it may have left a domain */
        bool duplicate;  /* refused: a live domain already holds the config's uuid */
        bool denied;     /* refused: its owner may not read its kernel or ramdisk */
        /* Where the build's time went, in ms: the wait for a slot, then the child's steps. */
        uint32_t wait_ms;    /* queued until its child started */
        uint32_t image_ms;   /* the domain created and its image built (or restored) */
        uint32_t layout_ms;  /* its XenStore layout written */
        uint32_t devices_ms; /* introduced to xenstored, and its devices attached */
        bool kernel_cached;  /* the kernel was the cache's image of kernel_key */
        bool kernel_filled;  /* the kernel was inflated and its image written, for kernel_key */
        struct kernel_cache_key kernel_key;
        struct builder_domain domain;
        char message[1024];
};

_Static_assert(sizeof(struct build_result) <= 4096, "one result is one atomic pipe write");

/* Called on the loop when owner's build ended; cfg is the config it was built from. */
typedef void (*build_done_fn)(void *owner, const struct domain_config *cfg,
                              const struct build_result *res, void *userdata);

/* A queue running at most max_jobs (>= 1) builds at once on backend opts. */
int build_queue_new(sd_event *event, const struct builder_options *opts, unsigned max_jobs,
                    build_done_fn done, void *userdata, struct build_queue **ret);

/* Kill and reap every child without calling back; returns NULL. NULL-safe. */
struct build_queue *build_queue_free(struct build_queue *q);

/*
 * Build a copy of cfg for owner: now if a slot is free, else when one is, publishing it as name
 * (cfg's own unless renamed). The child opens cfg's kernel, ramdisk and disk targets with
 * files_as's rights (root's for the config directory's domains).
 */
int build_queue_add(struct build_queue *q, void *owner, const struct domain_config *cfg,
                    const char *name, const struct creds *files_as);

/*
 * Restore instead of building: the child creates the domain from the image read from image_fd
 * (positioned at its libxc stream; the queue keeps a duplicate, whose offset it shares), then
 * lays it out as a build does, with the guest's features, and attaches cfg's devices anew.
 */
int build_queue_add_restore(struct build_queue *q, void *owner, const struct domain_config *cfg,
                            const char *name, const struct creds *files_as, int image_fd,
                            const struct layout_guest_features *features);

/*
 * A localhost migration's incoming instance of cfg: a restore whose stream_fd carries the whole
 * image as the source's save writes it (the child reads and checks the header, which must be of
 * cfg's uuid), for which source_domid is the one other live domain of the uuid allowed, whose
 * layout leaves /vm/<uuid> to the source, and whose device records go to the uuid's incoming/.
 * It ends paused, published as name.
 */
int build_queue_add_incoming(struct build_queue *q, void *owner, const struct domain_config *cfg,
                             const char *name, const struct creds *files_as, int stream_fd,
                             uint32_t source_domid);

/*
 * Drop owner's job, killing its child if it runs, without calling back (a migration that is
 * aborted): what a killed child left is the caller's to clean. 0, or -ENOENT if none.
 */
int build_queue_abort(struct build_queue *q, void *owner);

/*
 * How far owner's restore has read its image: *done bytes of *total (a regular file's size);
 * -ENOENT when no restore of owner's runs.
 */
int build_queue_restore_progress(const struct build_queue *q, const void *owner, uint64_t *done,
                                 uint64_t *total);

/* How builds attach devices: the wait for a backend, and a vif's bridge when it names none. */
int build_queue_set_devices(struct build_queue *q, unsigned timeout_ms, const char *default_bridge);

/* The lock file the children's XenStore transactions take, one child at a time (NULL: none);
 * their layouts run beside it (layout_serialize_transactions()). */
int build_queue_set_lock(struct build_queue *q, const char *lock_path);

/*
 * Keep kernels inflated in a cache of at most max_bytes (supervisor/kernel-cache.h); 0 drops
 * the cache, and every build inflates its kernel again.
 */
int build_queue_set_kernel_cache(struct build_queue *q, uint64_t max_bytes);

/* The kernel cache's figures into *s: false (s untouched) when there is no cache. */
bool build_queue_kernel_cache_stats(const struct build_queue *q, struct kernel_cache_stats *s);

/* Drop owner's build if it has not begun: 0, -EBUSY if its child runs, -ENOENT if none. */
int build_queue_cancel(struct build_queue *q, void *owner);

/* How many children run now. */
unsigned build_queue_running(const struct build_queue *q);

/* The default for max_jobs: one more than the online CPUs, 2 to 4. */
unsigned build_queue_default_jobs(void);
