/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-backend.c — the simulated dom0 kernel's xenbus backend bus with blkback
 * and netback (Linux 6.1's drivers/xen/xenbus/xenbus_probe_backend.c,
 * drivers/block/xen-blkback/xenbus.c, drivers/net/xen-netback/xenbus.c, as
 * DEVICES.md A.4, A.6 and B.2 describe them), driven by XenStore only, on a
 * dom0 connection of their own.
 *
 * The bus: a watch on /local/domain/0/backend. A new <type>/<domid>/<devid>
 * directory whose state is 1 is probed (any other state: not a new device,
 * as xenbus_probe_node); it needs frontend and frontend-id naming a frontend
 * directory that exists. A directory that goes unregisters its device. A
 * probed device watches its frontend's state; everything it writes is in its
 * own directory, and never once that directory is gone.
 *
 * A fatal error (xenbus_dev_fatal: a bad physical-device, no mode, a
 * frontend in a state it cannot be in, a ring it cannot read) is logged and
 * the backend goes to 5 (Closing) and connects no more. A probe that fails
 * (netback without script or handle) leaves the device without a driver
 * until its directory is removed: nothing written, no state change.
 *
 * Removal, when the toolstack has written online = 0: a frontend that closed
 * (6) unregisters the device at once; a frontend whose directory is gone, or
 * whose domain was destroyed, does when the backend's state node also says 5
 * (or 6), whichever came first. A frontend-id naming a domain this host never
 * had is no gone domain: those are nodes a test wrote, nobody's guest.
 * Unregistering writes state 6, closes the loop device it held and removes
 * the vif interface (out of its bridge with it). A removed backend directory
 * unregisters the device too, writing nothing.
 */
#include <string.h>

#include "common/parse.h"
#include "sim/hv-internal.h"

#define BACKEND_ROOT     "/local/domain/0/backend"
#define SECTOR_SIZE      512
#define BLKIF_INDIRECT   32 /* blkback's xen_blkif_max_segments */
#define BLKIF_QUEUES     4  /* multi-queue-max-queues: the host's cpus, at most */
#define BLKIF_RING_ORDER 4  /* xen_blkif_max_ring_order */
#define VDISK_CDROM      1u
#define VDISK_READONLY   4u

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

struct hv_backend {
        struct hypervisor *hv;
        struct hv_backend *next;
        enum hv_device_type type;
        char *path;     /* /local/domain/0/backend/<type>/<domid>/<devid> */
        char *frontend; /* its frontend directory, as read at probe */
        char *token;    /* of the watch on the frontend's state */
        uint32_t frontend_id;
        bool domain_seen;   /* the frontend's domain existed at probe */
        bool bound;         /* a driver took it: false after a failed probe */
        bool watching;      /* the frontend's state is watched */
        int state;          /* what it last wrote (Linux's dev->state) */
        bool failed;        /* a fatal error: closing, connects no more */
        bool frontend_gone; /* the frontend's directory or domain went away */

        /* blkback */
        bool vbd_open; /* physical-device read and opened */
        uint32_t major, minor;
        bool readonly;
        bool ring;        /* the frontend's ring mapped */
        bool warned_name; /* said once that dev is missing */

        /* netback */
        struct hv_netdev *netdev;
        bool hotplug_wait; /* connected: state 4 waits for hotplug-status "connected" */
};

static void backend_unregister(struct hv_backend *be);

/* ---- the device record ---- */

static struct hv_backend *backend_find(struct hypervisor *hv, const char *path)
{
        for (struct hv_backend *be = hv->backends; be; be = be->next)
                if (strcmp(be->path, path) == 0)
                        return be;
        return NULL;
}

/* Drop the record, release what the driver held; nothing is written. */
static void backend_free(struct hv_backend *be)
{
        struct hypervisor *hv = be->hv;

        for (struct hv_backend **p = &hv->backends; *p; p = &(*p)->next)
                if (*p == be) {
                        *p = be->next;
                        break;
                }
        if (be->watching && xs_conn_is_connected(hv->dom0)) {
                char path[HV_XS_PATH_MAX];

                if (hv_xs_path(path, sizeof(path), be->frontend, "state"))
                        (void)xs_conn_unwatch(hv->dom0, path, be->token);
        }
        if (be->vbd_open && be->major == HV_LOOP_MAJOR)
                hv_loop_close(hv, be->minor);
        if (be->netdev)
                hv_netdev_free(hv, be->netdev);
        free(be->path);
        free(be->frontend);
        free(be->token);
        free(be);
}

static void be_log(const struct hv_backend *be, const char *what, int r)
{
        fprintf(stderr, "xensup-sim: backend %s: %s%s%s\n", be->path + strlen(BACKEND_ROOT) + 1,
                what, r ? ": " : "", r ? strerror(-r) : "");
}

static int be_read(struct hv_backend *be, const char *name, char **v_r)
{
        char path[HV_XS_PATH_MAX];
        size_t len;

        if (!hv_xs_path(path, sizeof(path), be->path, name))
                return -ENAMETOOLONG;
        return xs_conn_read(be->hv->dom0, path, v_r, &len);
}

static bool be_has(struct hv_backend *be, const char *name)
{
        _cleanup_free_ char *v = NULL;

        return be_read(be, name, &v) >= 0;
}

/* A node of the frontend's; NULL if it has none. */
static char *fe_read(struct hv_backend *be, const char *name)
{
        char path[HV_XS_PATH_MAX];
        char *v = NULL;
        size_t len;

        if (!hv_xs_path(path, sizeof(path), be->frontend, name) ||
            xs_conn_read(be->hv->dom0, path, &v, &len) < 0)
                return NULL;
        return v;
}

static bool fe_has(struct hv_backend *be, const char *name)
{
        _cleanup_free_ char *v = fe_read(be, name);

        return v != NULL;
}

/* Write one node of its own directory, unless the directory went away. */
static int be_write(struct hv_backend *be, const char *name, const char *value)
{
        char path[HV_XS_PATH_MAX];

        if (!hv_xs_exists(be->hv->dom0, be->path))
                return -ENOENT;
        if (!hv_xs_path(path, sizeof(path), be->path, name))
                return -ENAMETOOLONG;
        return xs_conn_write(be->hv->dom0, path, value, strlen(value));
}

static int be_write_all(struct hv_backend *be, const char *const (*nodes)[2], size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = be_write(be, nodes[i][0], nodes[i][1]);

                if (r < 0)
                        return r;
        }
        return 0;
}

static void be_switch(struct hv_backend *be, int state)
{
        int r = hv_xs_switch_state(be->hv->dom0, be->path, &be->state, state);

        if (r < 0 && r != -ENOENT)
                be_log(be, "cannot switch state", r);
}

/* xenbus_dev_fatal: say why, close, and connect no more. */
static void be_fatal(struct hv_backend *be, const char *what, int r)
{
        be_log(be, what, r);
        be->failed = true;
        be_switch(be, HV_XB_CLOSING);
}

/* xenbus_dev_is_online: online holding a non-zero number; missing means offline. */
static bool be_online(struct hv_backend *be)
{
        char path[HV_XS_PATH_MAX];
        unsigned v;

        return hv_xs_path(path, sizeof(path), be->path, "online") &&
               hv_xs_read_uint(be->hv->dom0, path, UINT32_MAX, &v) >= 0 && v != 0;
}

/*
 * The frontend's domain was destroyed (or is dying): nothing will answer from there. A domain
 * that never existed is no guest of this host's, just nodes someone wrote: not gone.
 */
static bool be_domain_gone(struct hv_backend *be)
{
        struct hv_domain *d = hv_domain_get(be->hv, be->frontend_id);

        return be->domain_seen && (!d || d->dying);
}

/* The frontend is gone; once the toolstack asked for removal, the device goes. */
static void be_finish_removal(struct hv_backend *be)
{
        int node_state;

        if (!be->frontend_gone || be_online(be))
                return;
        node_state = hv_xs_read_state(be->hv->dom0, be->path);
        if (node_state == HV_XB_CLOSING || node_state == HV_XB_CLOSED)
                backend_unregister(be);
}

/*
 * device_unregister: the driver lets go and says Closed, if its directory is still there;
 * netback_remove also takes hotplug-status away, so a stale "connected" is never reused.
 */
static void backend_unregister(struct hv_backend *be)
{
        char path[HV_XS_PATH_MAX];

        be_log(be, "unregistered", 0);
        if (be->type == HV_DEVICE_VIF && hv_xs_path(path, sizeof(path), be->path, "hotplug-status"))
                (void)xs_conn_rm(be->hv->dom0, path);
        if (hv_xs_read_state(be->hv->dom0, be->path) != HV_XB_CLOSED) {
                be->state = HV_XB_UNKNOWN; /* write 6 even if the toolstack wrote over it */
                be_switch(be, HV_XB_CLOSED);
        }
        backend_free(be);
}

/* ---- blkback ---- */

static const char *const blkback_probe_nodes[][2] = {
        { "feature-max-indirect-segments", STRINGIFY(BLKIF_INDIRECT) },
        { "multi-queue-max-queues", STRINGIFY(BLKIF_QUEUES) },
        { "max-ring-page-order", STRINGIFY(BLKIF_RING_ORDER) },
};

static int blkback_probe(struct hv_backend *be)
{
        int r = be_write_all(be, blkback_probe_nodes, ELEMENTSOF(blkback_probe_nodes));

        if (r < 0)
                return r;
        be_switch(be, HV_XB_INITWAIT);
        return 0;
}

/* "%x:%x", strictly: hex digits, a colon, hex digits, nothing else. */
static int parse_physical_device(const char *s, uint32_t *major_r, uint32_t *minor_r)
{
        uint64_t v[2] = { 0, 0 };
        unsigned part = 0, digits = 0;

        for (const char *p = s;; p++) {
                int h = hex_digit(*p);

                if (h >= 0) {
                        if (++digits > 8)
                                return -EINVAL;
                        v[part] = v[part] * 16 + (uint64_t)h;
                } else if (*p == ':' && part == 0 && digits > 0) {
                        part = 1;
                        digits = 0;
                } else if (*p == 0 && part == 1 && digits > 0)
                        break;
                else
                        return -EINVAL;
        }
        *major_r = (uint32_t)v[0];
        *minor_r = (uint32_t)v[1];
        return 0;
}

/* Open what physical-device names, as blkdev_get_by_dev: a simulated loop device must exist. */
static int blkback_open(struct hv_backend *be, uint32_t major, uint32_t minor)
{
        if (major == 0)
                return -ENXIO;
        if (major == HV_LOOP_MAJOR)
                return hv_loop_open(be->hv, minor);
        /* Any other block device is the host's: the simulator keeps no table of them. */
        return 0;
}

static uint64_t blkback_sectors(struct hv_backend *be)
{
        const struct hv_loop *l;

        if (be->major != HV_LOOP_MAJOR || be->minor >= be->hv->n_loops)
                return 0;
        l = &be->hv->loops[be->minor];
        return l->used ? l->size / SECTOR_SIZE : 0;
}

static const char *const blkback_discard_nodes[][2] = {
        { "feature-discard", "1" },
        { "discard-granularity", "4096" },
        { "discard-alignment", "0" },
        { "discard-secure", "0" },
};

/* connect(): what the frontend needs to know about the disk, then Connected. */
static void blkback_connect(struct hv_backend *be)
{
        _cleanup_free_ char *discard = NULL, *type = fe_read(be, "device-type");
        bool cdrom = type && strcmp(type, "cdrom") == 0;
        char sectors[32], info[16];
        const char *const nodes[][2] = {
                { "feature-flush-cache", "1" },
                { "feature-barrier", "1" },
                { "feature-persistent", "1" },
                { "sectors", sectors },
                { "info", info },
                { "sector-size", STRINGIFY(SECTOR_SIZE) },
                { "physical-sector-size", STRINGIFY(SECTOR_SIZE) },
        };
        int r;

        snprintf(sectors, sizeof(sectors), "%llu", (unsigned long long)blkback_sectors(be));
        snprintf(info, sizeof(info), "%u",
                 (be->readonly ? VDISK_READONLY : 0u) | (cdrom ? VDISK_CDROM : 0u));
        r = be_write_all(be, nodes, ELEMENTSOF(nodes));
        /* The toolstack's discard-enable = 0 turns discard off (a loop device has it). */
        if (r >= 0 && (be_read(be, "discard-enable", &discard) < 0 || strcmp(discard, "0") != 0))
                r = be_write_all(be, blkback_discard_nodes, ELEMENTSOF(blkback_discard_nodes));
        if (r < 0) {
                be_fatal(be, "writing the disk's details", r);
                return;
        }
        be_switch(be, HV_XB_CONNECTED);
}

/* xen_update_blkif_status: connect once both the ring and the disk are there. */
static void blkback_update_status(struct hv_backend *be)
{
        /* Only from InitWait: a device that connected and is closing stays closing. */
        if (!be->ring || !be->vbd_open || be->failed || be->state != HV_XB_INITWAIT)
                return;
        /*
         * blkback names its ring threads after dev: without it they never start.
         * Linux still says Connected and the guest's I/O hangs; here the device
         * stays below Connected instead, so the missing node shows.
         */
        if (!be_has(be, "dev")) {
                if (!be->warned_name)
                        be_log(be, "get blkback dev name", -ENOENT);
                be->warned_name = true;
                return;
        }
        blkback_connect(be);
}

/* backend_changed: physical-device written, by the hotplug script (or whoever acts as one). */
static void blkback_physical_changed(struct hv_backend *be)
{
        _cleanup_free_ char *pdev = NULL, *mode = NULL;
        uint32_t major, minor;
        int r;

        if (be->failed || be->vbd_open)
                return;
        if (be_read(be, "physical-device", &pdev) < 0)
                return; /* not yet: the script writes it */
        if (parse_physical_device(pdev, &major, &minor) < 0) {
                be_fatal(be, "reading physical-device", -EINVAL);
                return;
        }
        if (be_read(be, "mode", &mode) < 0) {
                be_fatal(be, "reading mode", -ENOENT);
                return;
        }
        r = blkback_open(be, major, minor);
        if (r < 0) {
                be_fatal(be, "creating vbd structure", r);
                return;
        }
        be->vbd_open = true;
        be->major = major;
        be->minor = minor;
        be->readonly = !strchr(mode, 'w');
}

/* connect_ring: the frontend's ring-ref (or ring-ref0), event-channel and protocol. */
static int blkback_connect_ring(struct hv_backend *be)
{
        _cleanup_free_ char *protocol = NULL;

        if (!fe_has(be, "ring-ref") && !fe_has(be, "ring-ref0"))
                return -ENOENT;
        if (!fe_has(be, "event-channel"))
                return -ENOENT;
        protocol = fe_read(be, "protocol");
        if (protocol && strcmp(protocol, "x86_64-abi") != 0 &&
            strcmp(protocol, "x86_32-abi") != 0 && strcmp(protocol, "arm-abi") != 0)
                return -ENOSYS;
        return 0;
}

static void blkback_frontend_changed(struct hv_backend *be, int fe)
{
        int r;

        switch (fe) {
        case HV_XB_INITIALISING:
                if (be->state == HV_XB_CLOSED)
                        be_switch(be, HV_XB_INITWAIT); /* the frontend starts over */
                break;
        case HV_XB_INITIALISED:
        case HV_XB_CONNECTED:
                if (be->state == HV_XB_CONNECTED || be->failed || be->ring)
                        break;
                r = blkback_connect_ring(be);
                if (r < 0) {
                        be_fatal(be, "mapping the frontend's ring", r);
                        break;
                }
                be->ring = true;
                blkback_update_status(be);
                break;
        case HV_XB_CLOSING:
                be_switch(be, HV_XB_CLOSING);
                break;
        case HV_XB_CLOSED:
                be->ring = false;
                be_switch(be, HV_XB_CLOSED);
                if (!be_online(be))
                        backend_unregister(be);
                break;
        case HV_XB_UNKNOWN:
                be->ring = false;
                be->frontend_gone = true;
                be_finish_removal(be);
                break;
        default:
                be_fatal(be, "saw an impossible state at the frontend", -EINVAL);
                break;
        }
}

/* ---- netback ---- */

static const char *const netback_probe_nodes[][2] = {
        { "feature-sg", "1" },
        { "feature-gso-tcpv4", "1" },
        { "feature-gso-tcpv6", "1" },
        { "feature-ipv6-csum-offload", "1" },
        { "feature-rx-copy", "1" },
        { "feature-rx-flip", "0" },
        { "feature-multicast-control", "1" },
        { "feature-dynamic-multicast-control", "1" },
        { "feature-split-event-channels", "1" },
        { "multi-queue-max-queues", "1" },
        { "feature-ctrl-ring", "1" },
};

/* netback_probe: features, then script and handle (both mandatory), then the interface. */
static int netback_probe(struct hv_backend *be)
{
        char path[HV_XS_PATH_MAX], name[HV_IFNAME_SIZE];
        unsigned handle;
        int r;

        r = be_write_all(be, netback_probe_nodes, ELEMENTSOF(netback_probe_nodes));
        if (r < 0)
                return r;
        if (!be_has(be, "script")) {
                be_log(be, "reading script", -ENOENT);
                return -ENOENT;
        }
        if (!hv_xs_path(path, sizeof(path), be->path, "handle") ||
            hv_xs_read_uint(be->hv->dom0, path, INT32_MAX, &handle) < 0) {
                be_log(be, "reading handle", -EINVAL);
                return -EINVAL;
        }
        /* xenvif_alloc's name, cut as it cuts it (IFNAMSIZ - 1 bytes with the NUL). */
        snprintf(name, HV_IFNAME_SIZE - 1, "vif%u.%u", be->frontend_id, handle);
        r = hv_netdev_new_vif(be->hv, name, &be->netdev);
        if (r < 0) {
                be_log(be, "creating interface", r);
                return r;
        }
        return 0;
}

/* Six colon-separated pairs of hex digits. */
static bool mac_valid(const char *s)
{
        for (unsigned i = 0; i < 17; i++) {
                if (i % 3 == 2 ? s[i] != ':' : hex_digit(s[i]) < 0)
                        return false;
        }
        return s[17] == 0;
}

/* The rings and flags connect() reads from the frontend. */
static int netback_read_frontend(struct hv_backend *be)
{
        char path[HV_XS_PATH_MAX];
        unsigned rx_copy;

        if (!fe_has(be, "tx-ring-ref") || !fe_has(be, "rx-ring-ref"))
                return -ENOENT;
        if (!fe_has(be, "event-channel") &&
            (!fe_has(be, "event-channel-tx") || !fe_has(be, "event-channel-rx")))
                return -ENOENT;
        /* Linux 6.1's netback copies only: a frontend that cannot take copies is refused. */
        if (!hv_xs_path(path, sizeof(path), be->frontend, "request-rx-copy") ||
            hv_xs_read_uint(be->hv->dom0, path, UINT32_MAX, &rx_copy) < 0 || rx_copy == 0)
                return -EOPNOTSUPP;
        return 0;
}

/* hotplug_status_changed: the deferred switch to Connected completes on "connected". */
static void netback_hotplug_changed(struct hv_backend *be)
{
        _cleanup_free_ char *status = NULL;

        if (!be->hotplug_wait || be_read(be, "hotplug-status", &status) < 0 ||
            strcmp(status, "connected") != 0)
                return;
        be->hotplug_wait = false;
        be_switch(be, HV_XB_CONNECTED);
}

static void netback_connect(struct hv_backend *be)
{
        _cleanup_free_ char *mac = NULL;
        int r;

        if (be_read(be, "mac", &mac) < 0 || !mac_valid(mac)) {
                be_fatal(be, "parsing mac", -EINVAL);
                return;
        }
        r = netback_read_frontend(be);
        if (r < 0) {
                be_fatal(be, "connecting the frontend's rings", r);
                return;
        }
        /* Watching hotplug-status: it fires at once, so a "connected" already there counts. */
        be->hotplug_wait = true;
        netback_hotplug_changed(be);
}

/* The rings go (and the carrier with them); up or down is vif-bridge's to say. */
static void netback_disconnect(struct hv_backend *be)
{
        be->hotplug_wait = false;
}

static void netback_frontend_changed(struct hv_backend *be, int fe)
{
        switch (fe) {
        case HV_XB_INITIALISING:
                if (be->state == HV_XB_INITIALISING || be->state == HV_XB_CLOSED)
                        be_switch(be, HV_XB_INITWAIT);
                break;
        case HV_XB_INITIALISED:
                break;
        case HV_XB_CONNECTED:
                if (be->state == HV_XB_INITWAIT && !be->hotplug_wait && !be->failed)
                        netback_connect(be);
                break;
        case HV_XB_CLOSING:
                netback_disconnect(be);
                be_switch(be, HV_XB_CLOSING);
                break;
        case HV_XB_CLOSED:
                netback_disconnect(be);
                be_switch(be, HV_XB_CLOSED);
                if (!be_online(be))
                        backend_unregister(be);
                break;
        case HV_XB_UNKNOWN:
                netback_disconnect(be);
                be->frontend_gone = true;
                be_finish_removal(be);
                break;
        default:
                be_fatal(be, "saw an impossible state at the frontend", -EINVAL);
                break;
        }
}

/* ---- the bus ---- */

/* otherend_changed: the frontend's state (Unknown once its directory or domain is gone). */
static void backend_frontend_changed(struct hv_backend *be)
{
        int fe = be_domain_gone(be) ? HV_XB_UNKNOWN : hv_xs_read_state(be->hv->dom0, be->frontend);

        if (be->frontend_gone) {
                /* Nothing comes back from there: only the toolstack's removal is left. */
                be_finish_removal(be);
                return;
        }
        if (be->type == HV_DEVICE_VBD)
                blkback_frontend_changed(be, fe);
        else
                netback_frontend_changed(be, fe);
}

static void on_frontend_state(struct xs_conn *c, const char *path, const char *token,
                              void *userdata)
{
        (void)c;
        (void)path;
        (void)token;
        backend_frontend_changed(userdata);
}

/* A node in the device's own directory changed (or the toolstack asked for removal). */
static void backend_changed(struct hv_backend *be)
{
        if (!be->bound)
                return;
        if (be->type == HV_DEVICE_VBD) {
                blkback_physical_changed(be);
                /* Also when dev comes late: the model holds Connected back until it does. */
                blkback_update_status(be);
        } else
                netback_hotplug_changed(be);
        /* Only these last calls can unregister (free) be. */
        if (!be->frontend_gone && be_domain_gone(be))
                backend_frontend_changed(be);
        else if (be->frontend_gone)
                be_finish_removal(be);
}

/* talk_to_otherend: frontend-id and frontend, naming a directory that exists. */
static int backend_read_otherend(struct hv_backend *be)
{
        char path[HV_XS_PATH_MAX];
        _cleanup_free_ char *fe = NULL;
        unsigned id;

        if (!hv_xs_path(path, sizeof(path), be->path, "frontend-id") ||
            hv_xs_read_uint(be->hv->dom0, path, DOMID_FIRST_RESERVED - 1, &id) < 0)
                return -EINVAL;
        if (be_read(be, "frontend", &fe) < 0 || fe[0] != '/' ||
            strlen(fe) + sizeof("/state") > HV_XS_PATH_MAX)
                return -EINVAL;
        if (!hv_xs_exists(be->hv->dom0, fe))
                return -ENOENT;
        be->frontend_id = id;
        be->frontend = TAKE_PTR(fe);
        be->domain_seen = hv_domain_get(be->hv, id) != NULL;
        return 0;
}

static int backend_watch_otherend(struct hv_backend *be)
{
        char path[HV_XS_PATH_MAX];
        int r;

        if (!hv_xs_path(path, sizeof(path), be->frontend, "state"))
                return -ENAMETOOLONG;
        r = xs_conn_watch(be->hv->dom0, path, be->token, on_frontend_state, be);
        if (r < 0)
                return r;
        be->watching = true;
        return 0;
}

/* xenbus_probe_node plus xenbus_dev_probe: a record, and a driver if one binds. */
static void backend_probe_node(struct hypervisor *hv, enum hv_device_type type, const char *root)
{
        struct hv_backend *be;
        struct hv_domain *d;
        int r;

        if (hv_xs_read_state(hv->dom0, root) != HV_XB_INITIALISING)
                return; /* not a new device: one going away after Closed, say */
        be = calloc(1, sizeof(*be));
        if (!be)
                return;
        be->hv = hv;
        be->type = type;
        be->state = HV_XB_INITIALISING;
        be->path = strdup(root);
        if (!be->path || asprintf(&be->token, "be:%s", root) < 0) {
                free(be->path);
                free(be);
                return;
        }
        be->next = hv->backends;
        hv->backends = be;

        r = backend_read_otherend(be);
        if (r < 0) {
                be_log(be, "no frontend to talk to", r);
                return;
        }
        d = hv_domain_get(hv, be->frontend_id);
        if (hv_domain_has_device_fault(d, type, HV_DEVICE_FAULT_NO_INITWAIT)) {
                be_log(be, "no driver binds (injected fault)", 0);
                return;
        }
        r = type == HV_DEVICE_VBD ? blkback_probe(be) : netback_probe(be);
        if (r < 0)
                return; /* the driver said why */
        r = backend_watch_otherend(be);
        if (r < 0) {
                be_log(be, "cannot watch the frontend", r);
                if (be->netdev)
                        hv_netdev_free(hv, TAKE_PTR(be->netdev));
                return;
        }
        be->bound = true;
        be_log(be, "probed", 0);
        /* The watch on physical-device fires once at registration, too. */
        if (type == HV_DEVICE_VBD)
                blkback_physical_changed(be);
}

static enum hv_device_type type_from_name(const char *s, size_t len)
{
        for (int t = HV_DEVICE_VBD; t < _HV_DEVICE_TYPE_MAX; t++) {
                const char *name = hv_device_type_to_string(t);

                if (strlen(name) == len && strncmp(s, name, len) == 0)
                        return t;
        }
        return HV_DEVICE_ANY;
}

/* Whether s[0..len) is a decimal number: domids and devids are. */
static bool is_number(const char *s, size_t len)
{
        if (len == 0 || len > 10)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* Every device directory below BACKEND_ROOT that has no record yet (after a shallow event). */
static void backends_enumerate(struct hypervisor *hv)
{
        for (int t = HV_DEVICE_VBD; t < _HV_DEVICE_TYPE_MAX; t++) {
                _cleanup_strv_free_ char **domids = NULL;
                char dir[HV_XS_PATH_MAX];

                snprintf(dir, sizeof(dir), "%s/%s", BACKEND_ROOT, hv_device_type_to_string(t));
                if (xs_conn_directory(hv->dom0, dir, &domids) < 0)
                        continue;
                for (char **dom = domids; *dom; dom++) {
                        _cleanup_strv_free_ char **devids = NULL;
                        char sub[HV_XS_PATH_MAX];

                        if (!is_number(*dom, strlen(*dom)) ||
                            !hv_xs_path(sub, sizeof(sub), dir, *dom) ||
                            xs_conn_directory(hv->dom0, sub, &devids) < 0)
                                continue;
                        for (char **dev = devids; *dev; dev++) {
                                char root[HV_XS_PATH_MAX];

                                if (is_number(*dev, strlen(*dev)) &&
                                    hv_xs_path(root, sizeof(root), sub, *dev) &&
                                    !backend_find(hv, root))
                                        backend_probe_node(hv, t, root);
                        }
                }
        }
}

/* Records whose directory is gone (a parent was removed). */
static void backends_cleanup(struct hypervisor *hv)
{
        for (struct hv_backend *be = hv->backends, *next; be; be = next) {
                next = be->next;
                if (!hv_xs_exists(hv->dom0, be->path))
                        backend_free(be);
        }
}

/* xenbus_dev_changed: the watch on the backend tree fired for path. */
static void on_backend_tree(struct xs_conn *c, const char *path, const char *token, void *userdata)
{
        struct hypervisor *hv = userdata;
        const char *rel, *part[3];
        size_t len[3], n = 0, root_len;
        enum hv_device_type type;
        char root[HV_XS_PATH_MAX];
        struct hv_backend *be;

        (void)c;
        (void)token;
        if (strncmp(path, BACKEND_ROOT, strlen(BACKEND_ROOT)) != 0)
                return;
        rel = path + strlen(BACKEND_ROOT);
        if (*rel != 0 && *rel != '/')
                return;
        /* <type>/<domid>/<devid>[/<node>...] */
        while (*rel == '/' && n < 3) {
                part[n] = ++rel;
                rel += strcspn(rel, "/");
                len[n] = (size_t)(rel - part[n]);
                n++;
        }
        if (n < 3) {
                backends_cleanup(hv);
                backends_enumerate(hv);
                return;
        }
        type = type_from_name(part[0], len[0]);
        if (type == HV_DEVICE_ANY || !is_number(part[1], len[1]) || !is_number(part[2], len[2]))
                return; /* no driver in this dom0 for it */
        root_len = (size_t)(part[2] + len[2] - path);
        if (root_len >= sizeof(root))
                return;
        memcpy(root, path, root_len);
        root[root_len] = 0;
        be = backend_find(hv, root);
        if (!hv_xs_exists(hv->dom0, root)) {
                if (be)
                        backend_free(be); /* its directory is gone: nothing to write to */
                return;
        }
        if (!be)
                backend_probe_node(hv, type, root);
        else
                backend_changed(be);
}

/* A domain was destroyed: its devices' frontends are gone with it. */
static int on_backends_defer(sd_event_source *s, void *userdata)
{
        struct hypervisor *hv = userdata;

        (void)s;
        hv->backends_defer = sd_event_source_disable_unref(hv->backends_defer);
        for (struct hv_backend *be = hv->backends, *next; be; be = next) {
                next = be->next;
                if (be->bound && !be->frontend_gone && be_domain_gone(be))
                        backend_frontend_changed(be);
        }
        return 0;
}

void hv_backends_domain_gone(struct hypervisor *hv)
{
        if (!hv->dom0 || hv->backends_defer)
                return;
        if (sd_event_add_defer(hv->event, &hv->backends_defer, on_backends_defer, hv) < 0)
                fprintf(stderr, "xensup-sim: cannot schedule a look at the backends\n");
}

int hv_backends_init(struct hypervisor *hv)
{
        int r;

        r = xs_server_connect_domain(hv->server, 0, &hv->dom0);
        if (r < 0)
                return r;
        return xs_conn_watch(hv->dom0, BACKEND_ROOT, "backend", on_backend_tree, hv);
}

void hv_backends_done(struct hypervisor *hv)
{
        hv->backends_defer = sd_event_source_disable_unref(hv->backends_defer);
        while (hv->backends)
                backend_free(hv->backends);
        hv->dom0 = xs_conn_close(hv->dom0);
}
