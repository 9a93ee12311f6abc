/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * builder.h — the hypervisor boundary.
 *
 * The supervisor never calls libxenctrl: it calls these operations, chosen
 * once at start-up by --hypervisor=xen|sim. Every operation returns 0 or a
 * negative errno and, where it takes err_r, a message naming the step and
 * the hypervisor's error. A failed builder_create() leaves nothing behind.
 *
 * A domain's life through this interface:
 *   builder_create()    domain created and its image built, paused
 *   (supervisor writes the XenStore layout)
 *   builder_introduce() xs_introduce_domain: xenstored maps the store ring
 *   builder_unpause()
 *   builder_list()      the batch domain list the supervisor scans on @releaseDomain
 *   builder_destroy()
 *
 * Save and restore (DEVICES.md C): builder_save() suspends the guest through
 * the caller's callback and writes its stream, leaving it suspended for the
 * caller to destroy or builder_resume(); builder_restore() takes the place of
 * builder_create() for a domain that goes on from a stream.
 *
 * A rename-restart keeps the dead instance for inspection: builder_set_handle()
 * gives it a fresh uuid first, so it and the new instance never share one.
 *
 * The host side of a domain's devices sits behind the same boundary, so the
 * simulator never touches the host's loop devices or bridges: what Debian's
 * /etc/xen/scripts/block and vif-bridge do, done natively (DEVICES.md A.5,
 * B.3). The supervisor writes the XenStore nodes around these calls.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "builders/cpumap.h"
#include "config/config.h"

struct builder;

enum builder_kind {
        BUILDER_XEN,
        BUILDER_SIM,
};

struct builder_options {
        enum builder_kind kind;
        const char *sim_dir; /* sim: directory of xensup-sim's sockets */
};

/* What a successful create hands to the layout. */
struct builder_domain {
        uint32_t domid;
        uint32_t store_port;   /* event channel for the store ring, local to the guest */
        uint64_t store_mfn;    /* store ring frame (gfn for PVH) */
        uint32_t console_port; /* event channel for the console ring */
        uint64_t console_mfn;  /* console ring frame */
        bool kernel_filled;    /* the kernel's whole loadable image is in kernel_fill_fd */
};

/*
 * The image files a create loads, opened by the build (creds_open_file(): with the rights of
 * whoever named them), so no backend opens a path as root. -1 where the config names none.
 *
 * The kernel cache (supervisor/kernel-cache.h) adds two: kernel_cached_fd, the sealed loadable
 * image (builders/kernel-image.h) of the file kernel_fd is, which the backend loads instead of
 * inflating the file; or kernel_fill_fd, an empty memfd the backend writes that image into once
 * it has inflated the kernel (and says so in builder_domain's kernel_filled), and leaves empty
 * when it cannot (the file is loaded whole).
 */
struct builder_images {
        int kernel_fd;
        int ramdisk_fd;
        int kernel_cached_fd;
        int kernel_fill_fd;
};

/* No image: the initializer of every struct builder_images. */
#define BUILDER_IMAGES_INIT                                                                        \
        {                                                                                          \
                .kernel_fd = -1, .ramdisk_fd = -1, .kernel_cached_fd = -1, .kernel_fill_fd = -1    \
        }

/*
 * A disk's host side: the block device blkback opens (the nodes the block script writes:
 * physical-device, physical-device-path and, for a loop device, node).
 */
struct builder_disk_host {
        uint32_t major; /* physical-device, written as hex "major:minor" */
        uint32_t minor;
        char device[64];      /* physical-device-path: /dev/loopN, or the block device itself */
        bool loop;            /* device is a loop device builder_disk_attach() set up */
        uint64_t backing_dev; /* the target's st_dev and st_ino: what the loop device serves, */
        uint64_t backing_ino; /* checked before it is released */
};

/* A loop device of the host bound to a given file, as builder_disk_find_loops() finds it. */
struct builder_loop {
        uint32_t major;
        uint32_t minor;
        bool readonly;
        bool busy; /* in use where no vbd backend shows it (mounted), or already being detached */
};

/* A vif's host side: netback's interface, enslaved to the host's bridge. */
struct builder_vif_host {
        const char *ifname; /* netback's name for it: vif<domid>.<devid> */
        const char *rename; /* vifname=: the name it gets first; NULL keeps ifname */
        const char *bridge; /* the host's bridge; never created here */
        unsigned mtu;       /* 0: the bridge's */
};

/* What the host is, for `xensupctl info` (xc_version and xc_physinfo on Xen). */
struct builder_host_info {
        char version[64];       /* the hypervisor's: "4.17.3-pre" (major.minor plus extra) */
        char capabilities[256]; /* what it builds: xen_caps, "xen-3.0-x86_64 hvm-3.0-x86_32 ..." */
        char virt_caps[128];    /* the guest types it can run: "pv hvm hap shadow", as xl info */
        char scheduler[32];     /* the default cpupool's scheduler: "credit2" */
        unsigned nr_cpus;       /* physical cpus */
        unsigned nr_nodes;
        unsigned cores_per_socket;
        unsigned threads_per_core;
        unsigned cpu_khz;
        uint64_t total_kib; /* the host's memory */
        uint64_t free_kib;  /* not held by any domain */
};

/* One vcpu of a domain, as xc_vcpu_getinfo and xc_vcpu_getaffinity tell it. */
struct builder_vcpu_info {
        unsigned id;
        bool online;
        bool running; /* on a physical cpu right now */
        bool blocked; /* waiting for an event */
        unsigned cpu; /* the physical cpu it runs or last ran on */
        uint64_t cpu_time_ns;
        struct builder_cpumap hard; /* the cpus it may run on */
        struct builder_cpumap soft; /* the cpus it prefers */
};

/* builder_save()'s way to bring the guest to shutdown reason suspend: 0 or a negative errno. */
typedef int (*builder_suspend_fn)(void *data, char **err_r);

/* One row of the hypervisor's domain list. */
struct builder_domain_info {
        uint32_t domid;
        uint8_t handle[16]; /* its uuid: the one it was created with, or set_handle's */
        bool dying;
        bool shutdown; /* shutdown flag set; reason is valid */
        bool paused;
        bool running; /* running or blocked: the guest is alive */
        enum shutdown_reason reason;
        uint64_t mem_kib;
        uint64_t max_mem_kib;
        unsigned max_vcpu_id;
        unsigned online_vcpus;
        uint64_t cpu_time_ns;
};

struct builder_ops {
        const char *name;
        int (*open)(struct builder *b, const struct builder_options *opts, char **err_r);
        void (*close)(struct builder *b);
        int (*create)(struct builder *b, const struct domain_config *cfg,
                      const struct builder_images *img, struct builder_domain *out, char **err_r);
        int (*introduce)(struct builder *b, const struct builder_domain *d, char **err_r);
        int (*unpause)(struct builder *b, uint32_t domid, char **err_r);
        int (*pause)(struct builder *b, uint32_t domid, char **err_r);
        int (*shutdown)(struct builder *b, uint32_t domid, enum shutdown_reason why, char **err_r);
        int (*destroy)(struct builder *b, uint32_t domid, char **err_r);
        int (*list)(struct builder *b, struct builder_domain_info **infos_r, size_t *n_r,
                    char **err_r);
        int (*set_memory)(struct builder *b, uint32_t domid, uint64_t target_kib, char **err_r);
        int (*set_vcpus)(struct builder *b, uint32_t domid, unsigned n, char **err_r);
        int (*dumpcore)(struct builder *b, uint32_t domid, int fd, char **err_r);
        int (*save)(struct builder *b, uint32_t domid, int fd, bool live,
                    builder_suspend_fn suspend, void *data, char **err_r);
        int (*restore)(struct builder *b, const struct domain_config *cfg, int fd,
                       struct builder_domain *out, char **err_r);
        int (*resume)(struct builder *b, uint32_t domid, char **err_r);
        int (*set_handle)(struct builder *b, uint32_t domid, const uint8_t uuid[16], char **err_r);
        int (*find_live)(struct builder *b, const uint8_t uuid[16], uint32_t *domid_r,
                         char **err_r);
        int (*disk_attach)(struct builder *b, int target_fd, bool readonly, const char *target,
                           struct builder_disk_host *out, char **err_r);
        int (*disk_release)(struct builder *b, const struct builder_disk_host *h, char **err_r);
        int (*vif_plug)(struct builder *b, const struct builder_vif_host *v, unsigned *mtu_r,
                        char **err_r);
        int (*vif_unplug)(struct builder *b, const char *ifname, char **err_r);
        int (*disk_find_loops)(struct builder *b, uint64_t backing_dev, uint64_t backing_ino,
                               struct builder_loop **loops_r, size_t *n_r, char **err_r);
        int (*host_info)(struct builder *b, struct builder_host_info *out, char **err_r);
        int (*set_max_memory)(struct builder *b, uint32_t domid, uint64_t max_kib, char **err_r);
        int (*vcpu_list)(struct builder *b, uint32_t domid, struct builder_vcpu_info **vcpus_r,
                         size_t *n_r, char **err_r);
        int (*vcpu_pin)(struct builder *b, uint32_t domid, unsigned vcpu,
                        const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                        char **err_r);
};

/* Open the backend opts->kind names. */
int builder_open(const struct builder_options *opts, struct builder **ret, char **err_r);

/* Close the backend and free it; returns NULL. NULL-safe. */
struct builder *builder_close(struct builder *b);

/* The backend's name: "xen" or "sim". */
const char *builder_name(const struct builder *b);

/*
 * Create the domain and build its image from img's files (NULL: none opened; a config with a
 * kernel then fails); it is left paused. Nothing is left on failure.
 */
int builder_create(struct builder *b, const struct domain_config *cfg,
                   const struct builder_images *img, struct builder_domain *out, char **err_r);

/* Tell xenstored about the domain's store ring (after the layout is written). */
int builder_introduce(struct builder *b, const struct builder_domain *d, char **err_r);

/* Unpause a domain. */
int builder_unpause(struct builder *b, uint32_t domid, char **err_r);

/* Pause a domain. */
int builder_pause(struct builder *b, uint32_t domid, char **err_r);

/* Ask the hypervisor to shut the domain down with a reason (not the guest's cooperative path). */
int builder_shutdown(struct builder *b, uint32_t domid, enum shutdown_reason why, char **err_r);

/* Destroy a domain; -ESRCH if it does not exist. */
int builder_destroy(struct builder *b, uint32_t domid, char **err_r);

/* Every domain the hypervisor knows (dom0 included), in batches; caller frees *infos_r. */
int builder_list(struct builder *b, struct builder_domain_info **infos_r, size_t *n_r,
                 char **err_r);

/* Set the memory limit the guest may balloon to (target in KiB). */
int builder_set_memory(struct builder *b, uint32_t domid, uint64_t target_kib, char **err_r);

/*
 * Set the most memory the domain may hold (max in KiB; the hypervisor is given the same slack
 * above it as builder_set_memory() gives a target): what `xl mem-max` does. The target is
 * left as it is; a max below the pages the guest holds now takes effect as it balloons down.
 */
int builder_set_max_memory(struct builder *b, uint32_t domid, uint64_t max_kib, char **err_r);

/* Check n against the domain's maximum and record it; the guest is told through XenStore. */
int builder_set_vcpus(struct builder *b, uint32_t domid, unsigned n, char **err_r);

/*
 * Write the domain's core to fd, which the caller opened (create_file_in_safe_dir: the backend
 * never opens a path as root). May take long: call it from a child.
 */
int builder_dumpcore(struct builder *b, uint32_t domid, int fd, char **err_r);

/*
 * Save domid's memory and state into fd, which the caller opened, as the backend's stream
 * (libxc's on Xen), non-live: suspend(data) is called first (from inside xc_domain_save on
 * Xen), then the domain must be shut down with reason suspend, else -EIO "the domain has not
 * suspended (...)". live is refused at once with -EOPNOTSUPP, before anything touches the
 * guest, where the hypervisor cannot track dirty pages (no shadow paging, as Debian's Xen;
 * the simulator never can). Whatever happens, the domain is left as the suspend left it:
 * the caller destroys or resumes it. Blocks for the whole save: call it from a child.
 */
int builder_save(struct builder *b, uint32_t domid, int fd, bool live, builder_suspend_fn suspend,
                 void *data, char **err_r);

/*
 * Create a domain for cfg (its uuid, limits and type, as builder_create() does) and restore the
 * stream read from fd into it instead of building an image: it is left paused, out filled as by
 * builder_create() (domid, ports, the ring frames the restore returned). fd is left just after
 * the stream's END record, so a caller may read a trailer. Nothing is left on failure, with a
 * message naming the step (not a stream of this backend, truncated, the hypervisor's error).
 */
int builder_restore(struct builder *b, const struct domain_config *cfg, int fd,
                    struct builder_domain *out, char **err_r);

/*
 * Resume a suspended domain in place (xc_domain_resume fast=1: the guest's suspend returns
 * "cancelled" and its devices stay connected); -EINVAL if it is not suspended. XenStore is the
 * caller's: xs_resume_domain() next, or xenstored never reports its next shutdown.
 */
int builder_resume(struct builder *b, uint32_t domid, char **err_r);

/*
 * The guest domain that holds uuid and is not dying: 1 and its domid, 0 if none, or a negative
 * errno. A domain is its uuid: a build asks this right before its create.
 */
int builder_find_live(struct builder *b, const uint8_t uuid[16], uint32_t *domid_r, char **err_r);

/* Give the domain a new handle (uuid), as libxl_domain_preserve does for a kept instance. */
int builder_set_handle(struct builder *b, uint32_t domid, const uint8_t uuid[16], char **err_r);

/*
 * Make a disk's target ready for blkback. target_fd is the target, opened by the caller with
 * the rights of whoever named it (O_RDWR unless readonly); target is its path, for messages
 * and physical-device-path. A block device is used as it is; a regular file gets a free loop
 * device bound to target_fd (LOOP_CONFIGURE, read-only when readonly), which outlives the fd.
 * Nothing is left on failure.
 */
int builder_disk_attach(struct builder *b, int target_fd, bool readonly, const char *target,
                        struct builder_disk_host *out, char **err_r);

/*
 * Undo builder_disk_attach(): detach the loop device if it still serves the same backing file
 * (a loop device some other user bound since is left alone); nothing for a block device. A
 * loop device that is still open (blkback closing it) is detached when its last user closes
 * it. 0 when there is nothing left to release.
 */
int builder_disk_release(struct builder *b, const struct builder_disk_host *h, char **err_r);

/*
 * The host's loop devices bound to the file (backing_dev, backing_ino: its st_dev and st_ino),
 * whoever bound them, in minor order; caller frees *loops_r (NULL when none). For what a record
 * cannot name: a loop device builder_disk_attach() bound for a build killed before its record
 * said so, or one another toolstack's backend uses. A device that cannot be asked (gone
 * meanwhile, no node) is left out.
 */
int builder_disk_find_loops(struct builder *b, uint64_t backing_dev, uint64_t backing_ino,
                            struct builder_loop **loops_r, size_t *n_r, char **err_r);

/*
 * Do vif-bridge's online work on netback's interface (waiting briefly for it to appear): link
 * down, the rename, MAC fe:ff:ff:ff:ff:ff, the MTU (v->mtu, else the bridge's; *mtu_r gets the
 * one applied), enslaved to v->bridge, link up. -ENODEV naming the bridge when the host has
 * none of that name. Nothing is left half-done on failure (the interface is out of the bridge
 * and down again).
 */
int builder_vif_plug(struct builder *b, const struct builder_vif_host *v, unsigned *mtu_r,
                     char **err_r);

/* vif-bridge's offline work: link down and out of its bridge. 0 if the interface is gone. */
int builder_vif_unplug(struct builder *b, const char *ifname, char **err_r);

/* What the host is: the hypervisor's version and capabilities, its cpus and memory. */
int builder_host_info(struct builder *b, struct builder_host_info *out, char **err_r);

/*
 * Every vcpu the domain has (0 to its max_vcpu_id, online or not), in id order, with its state
 * and affinities; caller frees *vcpus_r. -ESRCH naming the domid for a domain that is not there.
 */
int builder_vcpu_list(struct builder *b, uint32_t domid, struct builder_vcpu_info **vcpus_r,
                      size_t *n_r, char **err_r);

/*
 * Set a vcpu's hard affinity, soft affinity, or both (NULL: that one is left as it is; not
 * both NULL). -EINVAL with a message for a vcpu the domain does not have, a map naming a cpu
 * the host does not have, or an empty hard map. What the hypervisor then applies may be
 * narrower (the cpus of the domain's cpupool): builder_vcpu_list() tells.
 */
int builder_vcpu_pin(struct builder *b, uint32_t domid, unsigned vcpu,
                     const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                     char **err_r);
