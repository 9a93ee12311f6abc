/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hotplug.h — disks and vifs attached to and detached from a running domain
 * (xensupctl block-attach, block-detach, network-attach, network-detach):
 * the checks a person's request passes, the job in a child (device-job.h),
 * the sharing check and the config file kept in step (--persist).
 *
 * Linux 6.1's blkfront closes a disk even while it is mounted, so a disk of a
 * live guest is detached only with force; a vif is asked to close and forced
 * when its frontend does not within the device timeout.
 */
#pragma once

#include <stdbool.h>

#include "common/creds.h"
#include "layout/devices.h"
#include "supervisor/domain.h"

/*
 * Attach a device of kind from spec (one xl disk or vif entry) to d's instance, the disk's
 * target opened with as's rights; with persist also append it to d's config file. done(d, r,
 * e, userdata) comes once the device is connected or refused. Returns 0 when started, or the
 * outcome (> 0) or failure (< 0) in e.
 */
int hotplug_attach(struct manager *m, struct domain *d, enum layout_device_kind kind,
                   const char *spec, bool persist, const struct creds *as, domain_started_fn done,
                   void *userdata, struct sup_error *e);

/*
 * Detach d's device named by id (a disk's vdev; a vif's devid or MAC). done() as above; 0 when
 * started.
 */
int hotplug_detach(struct manager *m, struct domain *d, enum layout_device_kind kind,
                   const char *id, bool force, domain_started_fn done, void *userdata,
                   struct sup_error *e);
