/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devices.h — a domain's disks (vbd) and network interfaces (vif) in
 * XenStore, the way libxl lays them out for the Linux 6.1 backends
 * (../shared/DEVICES.md A.2, A.3, A.6, B.1; the node tables with their ACLs
 * are in layout/README.md):
 *
 *   /local/domain/<domid>/device/<kind>/<devid>            the frontend, the guest's
 *   /local/domain/0/backend/<kind>/<domid>/<devid>         the backend, dom0's (guest reads)
 *   /tool/xensup/<uuid>/device/<kind>/<devid>              the daemon's trusted record
 *   /tool/xensup/<uuid>/incoming/device/<kind>/<devid>     ...of a localhost migration's
 *                                                          incoming instance, until it commits
 *
 * The record is what the daemon believes about a device: which instance it
 * belongs to, its target, loop device, MAC, bridge and host interface. Nothing
 * read from the guest-owned frontend decides anything but the frontend's own
 * state. Each call is one transaction, as layout.h's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/device.h"
#include "layout/layout.h"

enum layout_device_kind {
        LAYOUT_DEVICE_VBD,
        LAYOUT_DEVICE_VIF,
        _LAYOUT_DEVICE_KIND_MAX,
};

/* XenbusState (xen/include/public/io/xenbus.h). */
enum xenbus_state {
        XENBUS_UNKNOWN = 0,
        XENBUS_INITIALISING = 1,
        XENBUS_INIT_WAIT = 2,
        XENBUS_INITIALISED = 3,
        XENBUS_CONNECTED = 4,
        XENBUS_CLOSING = 5,
        XENBUS_CLOSED = 6,
};

#define LAYOUT_DEVICE_TARGET_MAX 1024 /* a disk target with its NUL */
#define LAYOUT_DEVICE_VDEV_MAX   32   /* a vdev name with its NUL */
#define LAYOUT_DEVICE_NODE_MAX   64   /* physical-device-path with its NUL */
#define LAYOUT_DEVICE_RATE_MAX   48   /* "bytes,usecs" with its NUL */
#define LAYOUT_DEVICE_IP_MAX     256  /* the ip node with its NUL */
#define LAYOUT_DEVICE_SCRIPT_MAX 256  /* a hotplug script's path with its NUL */

/* One device of one instance, as the daemon's record keeps it. */
struct layout_device {
        enum layout_device_kind kind; /* from the record's path, not its text */
        bool incoming;  /* ...which is incoming/: a migration's incoming instance (same devids) */
        uint32_t domid; /* the instance it belongs to */
        uint32_t devid;
        bool connected; /* the host side is done: hotplug-status=connected was written */
        /* A site's hotplug script (absolute) does the host side instead; "" for the native work. */
        char script[LAYOUT_DEVICE_SCRIPT_MAX];

        /* vbd */
        char vdev[LAYOUT_DEVICE_VDEV_MAX];
        char target[LAYOUT_DEVICE_TARGET_MAX]; /* params: the target as configured */
        bool readonly;
        bool cdrom;
        uint32_t major; /* physical-device, once connected */
        uint32_t minor;
        char device[LAYOUT_DEVICE_NODE_MAX]; /* physical-device-path */
        bool loop;                           /* device is a loop device the daemon bound */
        uint64_t backing_dev;                /* the target's st_dev and st_ino */
        uint64_t backing_ino;

        /* vif */
        uint8_t mac[6];
        char bridge[IFNAME_MAX + 1];
        char ifname[IFNAME_MAX + 1];       /* its host name: vifname=, else vif<domid>.<devid> */
        char vifname[IFNAME_MAX + 1];      /* vifname= as configured; "" for none */
        unsigned mtu;                      /* the frontend's mtu node: 0 until connected */
        char rate[LAYOUT_DEVICE_RATE_MAX]; /* the backend's rate node; "" for none */
        char ip[LAYOUT_DEVICE_IP_MAX];     /* the backend's ip node; "" for none */
};

/* "vbd" or "vif". */
const char *layout_device_kind_to_string(enum layout_device_kind kind);

/*
 * Fill dev from a disk entry of a config for the instance domid (kind, devid, vdev, target,
 * access); the host fields stay zero. -ENAMETOOLONG when a field does not fit the record.
 */
int layout_device_from_disk(struct layout_device *dev, uint32_t domid,
                            const struct disk_config *disk);

/*
 * Fill dev from a vif entry (devid is its index in the config), mac the one the daemon
 * keeps for it (the entry's own, or the generated one): the host name is vifname= or
 * vif<domid>.<devid>, bridge the entry's or default_bridge.
 */
int layout_device_from_vif(struct layout_device *dev, uint32_t domid, uint32_t devid,
                           const struct vif_config *vif, const uint8_t mac[6],
                           const char *default_bridge);

/*
 * Add a device in one transaction: its frontend (the guest's, state 1), its backend (dom0's,
 * the guest reads; state 1, online 1) and the record, connected = false. A device whose
 * frontend, backend or record already exists is -EEXIST, and nothing is written.
 */
int layout_device_add(struct layout *l, const uint8_t uuid[16], const struct layout_device *dev,
                      char **err_r);

/*
 * Wait until the backend's state is at least want (InitWait, Connected), at most timeout_ms.
 * *state_r gets the last state seen (0 when the node is absent). -ETIMEDOUT when it did not
 * get there, -EPIPE when the backend went to Closing or Closed, -ENOENT when its directory was
 * removed; each with a message naming the device and the state.
 */
int layout_device_wait_backend(struct layout *l, const struct layout_device *dev,
                               enum xenbus_state want, unsigned timeout_ms, int *state_r,
                               char **err_r);

/*
 * The host side is ready: write what the hotplug script would (vbd: physical-device,
 * physical-device-path, node for a loop device; vif: the frontend's mtu), then
 * hotplug-status = connected, and the record with connected = true, in one transaction. A
 * device with a script had those written by it: only the record is. -ENOENT when the backend
 * is gone meanwhile.
 */
int layout_device_connect(struct layout *l, const uint8_t uuid[16], const struct layout_device *dev,
                          char **err_r);

/*
 * Ask the backend to close, in one transaction (libxl's removal, DEVICES.md A.6): with force
 * the frontend goes first, then backend online = 0 and, unless it is Closed, state = Closing.
 * A device whose backend is gone is 0.
 */
int layout_device_close(struct layout *l, const struct layout_device *dev, bool force,
                        char **err_r);

/*
 * Remove the frontend, the backend (and the instance's backend/<kind>/<domid> once empty) and
 * the record, in one transaction. Nothing there is 0.
 */
int layout_device_remove(struct layout *l, const uint8_t uuid[16], const struct layout_device *dev,
                         char **err_r);

/*
 * The records of uuid's devices, vbds first, each sorted by devid; caller frees *devs_r
 * (NULL when none). A record that does not read back is skipped with a message in
 * *err_r (and the others returned).
 */
int layout_device_list(struct layout *l, const uint8_t uuid[16], struct layout_device **devs_r,
                       size_t *n_r, char **err_r);

/* The same for the records of uuid's incoming instance (incoming/), each with incoming set. */
int layout_device_list_incoming(struct layout *l, const uint8_t uuid[16],
                                struct layout_device **devs_r, size_t *n_r, char **err_r);

/*
 * A migration commits: the incoming instance's records devs[0..n) (layout_device_list_incoming's)
 * become uuid's own and incoming/ goes, in one transaction. The previous instance's records must
 * be gone by then (torn down): a record of the same devid is overwritten.
 */
int layout_device_commit_incoming(struct layout *l, const uint8_t uuid[16],
                                  const struct layout_device *devs, size_t n, char **err_r);

/* Remove uuid's incoming/ whole (its devices torn down: a migration that did not commit). */
int layout_device_remove_incoming(struct layout *l, const uint8_t uuid[16], char **err_r);

/*
 * Wait until the backend is Closed (state 6) or its directory is gone, at most timeout_ms:
 * 0, or -ETIMEDOUT with a message naming the device and the states it is in.
 */
int layout_device_wait_closed(struct layout *l, const struct layout_device *dev,
                              unsigned timeout_ms, char **err_r);

/*
 * A node of the device's backend directory (dom0's; the guest may only read it), e.g. what a
 * hotplug script wrote: 0 and the value in buf (cut to size), -ENOENT when absent.
 */
int layout_device_backend_node(struct layout *l, const struct layout_device *dev, const char *name,
                               char *buf, size_t size, char **err_r);

/* The backend and frontend states of a device (0 where the node is absent or malformed). */
int layout_device_states(struct layout *l, const struct layout_device *dev, int *backend_r,
                         int *frontend_r, char **err_r);

/* The domids that have a directory under /local/domain/0/backend/<kind>; caller frees. */
int layout_device_backend_domids(struct layout *l, enum layout_device_kind kind,
                                 uint32_t **domids_r, size_t *n_r, char **err_r);

/* Remove /local/domain/0/backend/<kind>/<domid> whole: an instance that no longer exists. */
int layout_device_remove_backends(struct layout *l, enum layout_device_kind kind, uint32_t domid,
                                  char **err_r);

/* A vbd backend of dom0 as blkback reads it, whoever wrote it: xensupd, xl, a site's script. */
struct layout_vbd_backend {
        uint32_t domid; /* its frontend's domain */
        uint32_t devid;
        bool writes;     /* its mode has a 'w' */
        bool has_device; /* physical-device holds a hex major:minor */
        uint32_t major;
        uint32_t minor;
        /* Read only while physical-device is missing: a hotplug script is at work on it. */
        char params[LAYOUT_DEVICE_TARGET_MAX];
};

/*
 * The vbd backends of these domids (a subset of layout_device_backend_domids()'s), by domid,
 * then devid; caller frees *bes_r (NULL when none). Each costs a read of its mode and one of
 * physical-device, and one of params while physical-device is missing. A backend without a mode
 * (gone meanwhile, or one blkback would never open) is left out.
 */
int layout_vbd_backends(struct layout *l, const uint32_t *domids, size_t n_domids,
                        struct layout_vbd_backend **bes_r, size_t *n_r, char **err_r);
