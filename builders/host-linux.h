/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host-linux.h — a Xen domain's devices on the Linux dom0 side: what Debian's
 * /etc/xen/scripts/block and vif-bridge do (DEVICES.md A.5, B.3), done with
 * loop ioctls and rtnetlink (libmnl) instead of losetup, brctl and ip, which a
 * busybox dom0 does not have in the forms the scripts need (DEVICES.md D).
 *
 * The xen backend's ops table calls these; the simulator never does, so tests
 * of the daemon never touch the host's loop devices or bridges. Every function
 * returns 0 or a negative errno and, on failure, a message in *err_r
 * (common/error.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "builders/builder.h"

/*
 * host_loop_attach() - make target_fd something blkback can open: a block device as it is, a
 * regular file through a free loop device bound to it (read-only when readonly, no autoclear,
 * so it outlives target_fd). -EINVAL for anything else; nothing stays bound on failure.
 */
int host_loop_attach(int target_fd, bool readonly, const char *target,
                     struct builder_disk_host *out, char **err_r);

/*
 * host_loop_release() - detach the loop device host_loop_attach() bound, unless it now serves
 * another file or nothing; 0 as well for a block device or a device node that is gone.
 */
int host_loop_release(const struct builder_disk_host *h, char **err_r);

/*
 * host_loop_find() - the bound loop devices (/sys/block/loop*) whose backing file is
 * (backing_dev, backing_ino), by LOOP_GET_STATUS64 on each /dev/loopN; busy when it is
 * mounted or held exclusively (an O_EXCL open fails), or autoclear (its detach is pending).
 * Caller frees *loops_r (NULL when none).
 */
int host_loop_find(uint64_t backing_dev, uint64_t backing_ino, struct builder_loop **loops_r,
                   size_t *n_r, char **err_r);

/*
 * host_vif_plug() - vif-bridge's "online": wait for netback's interface, then down, rename,
 * MAC fe:ff:ff:ff:ff:ff, MTU (given or the bridge's, stored in *mtu_r), into the bridge, up.
 * On failure the interface is put back as it was found.
 */
int host_vif_plug(const struct builder_vif_host *v, unsigned *mtu_r, char **err_r);

/* host_vif_unplug() - vif-bridge's "offline": link down and out of its bridge; 0 if it is gone. */
int host_vif_unplug(const char *ifname, char **err_r);
