/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain-devices.h — the devices of a domain's running instance, as the daemon
 * tracks them: their records (read back once the build child attached them,
 * or at adoption) and the backend and frontend states, kept current by a
 * watch on each, for D-Bus (the Devices property) and the sharing check.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout/devices.h"

struct manager;
struct domain;

/* One device of the running instance. */
struct domain_device {
        struct layout_device rec; /* the daemon's record: what it attached */
        int backend_state;        /* XenbusState; 0 when the node is absent */
        int frontend_state;
        bool reported; /* its connection (or its failure to connect) was logged */
};

/*
 * Read the records of d's instance and watch their states; a failure is logged. Each device is
 * logged once when both ends are Connected, or with a warning when that has not happened
 * within the device timeout (the guest runs without it: a frontend that never connects, a
 * missing driver).
 */
void domain_devices_load(struct manager *m, struct domain *d);

/*
 * At adoption: tear down the records of every instance but live_domid (0: none runs), a daemon
 * or child killed mid-way left them; keep live_domid's as d's devices (as domain_devices_load),
 * reading the records once for both.
 */
void domain_devices_adopt(struct manager *m, struct domain *d, uint32_t live_domid);

/*
 * Tear down the devices of d's instance, forced (attach_teardown_devices()), from what d knows
 * of them, or from the records when d's list may be incomplete; then forget them.
 */
void domain_devices_teardown(struct manager *m, struct domain *d);

/* Stop watching d's devices and forget them (they were torn down). */
void domain_devices_forget(struct manager *m, struct domain *d);

/* A watched state path fired: refresh the device it names and tell D-Bus. Others are ignored. */
void domain_devices_on_path(struct manager *m, const char *path);

/* Who holds a disk that one of a domain's may not share. */
struct domain_disk_holder {
        size_t which;                   /* the disk of d: its index in d->devices */
        const struct domain *domain;    /* a supervised holder; NULL for another toolstack's */
        uint32_t domid;                 /* the holder's */
        char who[DOMAIN_NAME_MAX + 80]; /* "domain web1 (domid 5)", "domid 9 (name x), which ..." */
};

/*
 * Whether another domain holds a disk one of d's instance may not share (the same disk, a
 * writer on either side): 1 and *h, 0 if none, or a negative errno with a message when XenStore
 * or the host's loop devices cannot be read. A supervised holder first, from what the daemon
 * knows of its devices; then any other domain (xl's), from the vbd backends of XenStore. Asked
 * on the daemon's loop, so two builds of ours never both pass; costs one XenStore request
 * (the backends' domids) when no other toolstack has a disk.
 */
int domain_devices_disk_holder(struct manager *m, const struct domain *d,
                               struct domain_disk_holder *h, char **err_r);

/* The same for one disk of d: d->devices[which] (a disk just hot-plugged). */
int domain_devices_disk_holder_of(struct manager *m, const struct domain *d, size_t which,
                                  struct domain_disk_holder *h, char **err_r);
