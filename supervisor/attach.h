/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * attach.h — a domain's disks and vifs brought up and torn down: the
 * XenStore side (layout/devices.h) around the host side (builder.h), in the
 * order ../shared/DEVICES.md gives.
 *
 * Attaching runs in a build child (it waits on the backends); tearing down
 * runs in the daemon and never waits: it forces. Both take their own handles,
 * so neither touches the daemon's state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "builders/builder.h"
#include "common/creds.h"
#include "config/config.h"
#include "layout/devices.h"
#include "layout/layout.h"

/* The default wait for a backend to reach InitWait (libxl's LIBXL_INIT_TIMEOUT). */
#define ATTACH_TIMEOUT_MS_DEFAULT 10000

/* Who a disk is: its file (st_dev, st_ino) or, for a block device, its device number. */
struct attach_disk_id {
        uint64_t dev;
        uint64_t ino; /* 0 for a block device: dev is then its rdev */
        bool readonly;
};

/* How an attach runs. */
struct attach_options {
        const struct creds *files_as; /* whose rights open the disk targets */
        unsigned timeout_ms;          /* per wait for a backend */
        const char *default_bridge;   /* a vif without bridge= */
        bool incoming; /* a migration's incoming instance: its records go to incoming/ */
};

/*
 * Attach every disk, then every vif, of cfg to the paused instance domid of uuid: per device
 * the nodes and record in one transaction, the wait for the backend's InitWait, the host side
 * (the target opened with files_as's rights, a loop device for a file; the vif on its bridge),
 * then hotplug-status = connected. Every vif must carry its MAC (has_mac) by now. On failure
 * every device added is torn down again and *err_r names the device and the step.
 */
int attach_all(struct builder *b, struct layout *l, const uint8_t uuid[16], uint32_t domid,
               const struct domain_config *cfg, const struct attach_options *o, char **err_r);

/*
 * Attach one device (dev from layout_device_from_disk/_vif) to a running or paused instance:
 * what attach_all() does for each entry. On failure nothing of it is left.
 */
int attach_device(struct builder *b, struct layout *l, const uint8_t uuid[16],
                  const struct attach_options *o, struct layout_device *dev, char **err_r);

/*
 * Hot-unplug one device (its record): unless force, ask the backend to close and wait up to
 * timeout_ms for Closed; then (or at once with force, or when the frontend never closed:
 * *forced_r) the forced teardown of attach_teardown(). Nothing of it is left either way.
 */
int attach_detach(struct builder *b, struct layout *l, const uint8_t uuid[16],
                  const struct layout_device *dev, bool force, unsigned timeout_ms, bool *forced_r,
                  char **err_r);

/*
 * Tear down what uuid's records list for instance domid:
 * frontend removed, backend closed, the host side released (loop device detached, vif out of
 * its bridge), then the nodes and the record. A file disk's record that is not connected frees
 * the loop device a killed build may have bound for it without writing it down: each one on
 * its file that no vbd backend nor record names. It never waits and carries on past a
 * failure; the first failure is returned with its message.
 */
int attach_teardown(struct builder *b, struct layout *l, const uint8_t uuid[16], uint32_t domid,
                    char **err_r);

/* Tear down these records' devices (as attach_teardown() does, without reading them again). */
int attach_teardown_devices(struct builder *b, struct layout *l, const uint8_t uuid[16],
                            const struct layout_device *devs, size_t n, char **err_r);

/* Tear down every device of uuid's incoming records (a migration that did not commit). */
int attach_teardown_incoming(struct builder *b, struct layout *l, const uint8_t uuid[16],
                             char **err_r);

/*
 * Tear down what uuid's records list for every instance but live_domid (0: every instance):
 * what a daemon killed mid-way, or a build child that died, left.
 */
int attach_teardown_others(struct builder *b, struct layout *l, const uint8_t uuid[16],
                           uint32_t live_domid, char **err_r);

/*
 * Whether a start of cfg gives its guest host devices (a vif, a block device as a disk), so a
 * caller other than root needs the host-devices authorization. Asked before the build, which
 * refuses such a device anyway when its owner lacks it (struct creds's host_devices).
 */
bool attach_needs_host_devices(const struct domain_config *cfg);

/* The same for one hot-plugged device of kind from spec (an xl disk or vif entry). */
bool attach_spec_needs_host_devices(enum layout_device_kind kind, const char *spec);

/* Resolve an entry's script= (NULL: none) into dev->script (script.h's rules). */
int attach_resolve_script(const char *script, struct layout_device *dev, char **err_r);

/* Room for attach_device_name()'s text. */
#define ATTACH_NAME_MAX 96

/* "disk xvda (vbd 51712)", "vif 0 (vif5.0)", with " of domid 5" when with_domid: for people. */
const char *attach_device_name(const struct layout_device *dev, bool with_domid,
                               char buf[ATTACH_NAME_MAX]);

/* Who the disk of a record is. */
struct attach_disk_id attach_disk_id_of(const struct layout_device *dev);

/* Two disk uses that may not run at once: the same disk, and one of them writes. */
bool attach_disks_conflict(const struct attach_disk_id *a, const struct attach_disk_id *b);

/*
 * Whether another toolstack's vbd backend uses disk mine in a way the two may not share: its
 * physical-device is mine's block device, or one of loops (the host's loop devices on mine's
 * file, builder_disk_find_loops()), and one of the two writes.
 */
bool attach_backend_conflicts(const struct attach_disk_id *mine,
                              const struct layout_vbd_backend *be, const struct builder_loop *loops,
                              size_t n_loops);

/* A MAC for a vif that names none: Xen's 00:16:3e, then three random bytes (as libxl). */
int attach_generate_mac(uint8_t mac[6]);
