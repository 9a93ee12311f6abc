/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-frontend.c — a simulated guest's blkfront and netfront (Linux 6.1's
 * drivers/block/xen-blkfront.c, drivers/net/xen-netfront.c, through
 * drivers/xen/xenbus/xenbus_probe_frontend.c), on the guest's own XenStore
 * connection, so its ACLs and quotas apply.
 *
 * Once booted, the guest watches its device/ subtree. A device/vbd/<devid>
 * or device/vif/<devid> whose state is 1 is probed: it needs backend and
 * backend-id, naming a backend directory the guest can read, whose state it
 * then watches. Backend at 2 (InitWait): the frontend writes its transport
 * (vbd: ring-ref, event-channel, protocol, then state 3; vif: tx-ring-ref,
 * rx-ring-ref, event-channel, request-rx-copy=1 and its features, then
 * state 4). A vbd at 3 whose backend reaches 4 reads sectors, info and
 * sector-size and goes to 4 (5 if they are missing). Backend at 5 or 6: the
 * frontend goes to 6 (xenbus_frontend_closed). It writes only inside its own
 * device directory, never once that is gone. A guest that is paused or shut
 * down does nothing; a paused one catches up when it runs again.
 *
 * Device faults (enum hv_device_fault) make it never connect, never close,
 * or close on its own (5, then 6 once its backend follows to 5).
 */
#include <string.h>

#include "common/parse.h"
#include "sim/hv-internal.h"

#define FIRST_GREF 8 /* grant references below this are the toolstack's (console, store) */
#define FIRST_PORT 3 /* ports 1 and 2 are the store's and the console's */

struct hv_frontend {
        struct hv_domain *d;
        struct hv_frontend *next;
        enum hv_device_type type;
        uint32_t devid;
        char *dir;     /* device/<type>/<devid>, relative to the guest's home */
        char *backend; /* its backend directory */
        char *token;   /* of the watch on the backend's state */
        bool bound;    /* probed: its backend is known and watched */
        int state;     /* what it last wrote */
        bool detaching;
};

static void frontend_sync(struct hv_frontend *fe);

static bool guest_runs(const struct hv_domain *d)
{
        return d->conn && xs_conn_is_connected(d->conn) && d->booted && d->pause_count == 0 &&
               !d->shutdown && !d->dying;
}

static void fe_log(const struct hv_frontend *fe, const char *what, int r)
{
        fprintf(stderr, "xensup-sim: domid %u: frontend %s: %s%s%s\n", fe->d->domid, fe->dir, what,
                r ? ": " : "", r ? strerror(-r) : "");
}

static bool fe_fault(const struct hv_frontend *fe, enum hv_device_fault k)
{
        return hv_domain_has_device_fault(fe->d, fe->type, k);
}

static struct hv_frontend *frontend_find(struct hv_domain *d, enum hv_device_type type,
                                         uint32_t devid)
{
        for (struct hv_frontend *fe = d->frontends; fe; fe = fe->next)
                if (fe->type == type && fe->devid == devid)
                        return fe;
        return NULL;
}

static void frontend_free(struct hv_frontend *fe)
{
        struct hv_domain *d = fe->d;

        for (struct hv_frontend **p = &d->frontends; *p; p = &(*p)->next)
                if (*p == fe) {
                        *p = fe->next;
                        break;
                }
        if (fe->bound && xs_conn_is_connected(d->conn)) {
                char path[HV_XS_PATH_MAX];

                if (hv_xs_path(path, sizeof(path), fe->backend, "state"))
                        (void)xs_conn_unwatch(d->conn, path, fe->token);
        }
        free(fe->dir);
        free(fe->backend);
        free(fe->token);
        free(fe);
}

static void fe_switch(struct hv_frontend *fe, int state)
{
        int r = hv_xs_switch_state(fe->d->conn, fe->dir, &fe->state, state);

        if (r < 0 && r != -ENOENT)
                fe_log(fe, "cannot switch state", r);
}

/* Its transport, node by node; nothing once the toolstack removed the directory. */
static int fe_write_all(struct hv_frontend *fe, const char *const (*nodes)[2], size_t n)
{
        char path[HV_XS_PATH_MAX];

        if (!hv_xs_exists(fe->d->conn, fe->dir))
                return -ENOENT;
        for (size_t i = 0; i < n; i++) {
                int r;

                if (!hv_xs_path(path, sizeof(path), fe->dir, nodes[i][0]))
                        return -ENAMETOOLONG;
                r = xs_conn_write(fe->d->conn, path, nodes[i][1], strlen(nodes[i][1]));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* talk_to_blkback: a ring and an event channel, then Initialised. */
static void blkfront_connect(struct hv_frontend *fe)
{
        char gref[16], port[16];
        const char *const nodes[][2] = {
                { "ring-ref", gref },
                { "event-channel", port },
                { "protocol", "x86_64-abi" },
                { "feature-persistent", "1" },
        };
        int r;

        snprintf(gref, sizeof(gref), "%u", fe->d->next_gref++);
        snprintf(port, sizeof(port), "%u", fe->d->next_port++);
        r = fe_write_all(fe, nodes, ELEMENTSOF(nodes));
        if (r < 0) {
                fe_log(fe, "cannot write its ring", r);
                return;
        }
        fe_switch(fe, HV_XB_INITIALISED);
}

/* xennet_connect: two rings, one event channel, copying receive; netfront skips Initialised. */
static void netfront_connect(struct hv_frontend *fe)
{
        char tx[16], rx[16], port[16];
        const char *const nodes[][2] = {
                { "tx-ring-ref", tx },
                { "rx-ring-ref", rx },
                { "event-channel", port },
                { "request-rx-copy", "1" },
                { "feature-rx-notify", "1" },
                { "feature-sg", "1" },
                { "feature-gso-tcpv4", "1" },
                { "feature-gso-tcpv6", "1" },
                { "feature-ipv6-csum-offload", "1" },
        };
        int r;

        snprintf(tx, sizeof(tx), "%u", fe->d->next_gref++);
        snprintf(rx, sizeof(rx), "%u", fe->d->next_gref++);
        snprintf(port, sizeof(port), "%u", fe->d->next_port++);
        r = fe_write_all(fe, nodes, ELEMENTSOF(nodes));
        if (r < 0) {
                fe_log(fe, "cannot write its rings", r);
                return;
        }
        fe_switch(fe, HV_XB_CONNECTED);
}

/* blkfront_connect: the disk's size and flags from the backend, then /dev/xvdX is there. */
static void blkfront_disk_ready(struct hv_frontend *fe)
{
        static const char *const fields[] = { "sectors", "info", "sector-size" };
        char path[HV_XS_PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                unsigned v;

                if (!hv_xs_path(path, sizeof(path), fe->backend, fields[i]) ||
                    hv_xs_read_uint(fe->d->conn, path, UINT32_MAX, &v) < 0) {
                        fe_log(fe, "reading backend fields", -EINVAL);
                        fe_switch(fe, HV_XB_CLOSING); /* xenbus_dev_fatal */
                        return;
                }
        }
        fe_switch(fe, HV_XB_CONNECTED);
}

/* backend_changed / netback_changed: what the frontend does about its backend's state. */
static void frontend_sync(struct hv_frontend *fe)
{
        struct hv_domain *d = fe->d;
        int be;

        if (!guest_runs(d)) {
                d->devices_dirty = true;
                return;
        }
        if (!fe->bound)
                return;
        if (fe->detaching && fe->state != HV_XB_CLOSING && fe->state != HV_XB_CLOSED) {
                fe_log(fe, "closing on its own", 0);
                fe_switch(fe, HV_XB_CLOSING);
        }
        be = hv_xs_read_state(d->conn, fe->backend);
        switch (be) {
        case HV_XB_INITWAIT:
                if (fe->state != HV_XB_INITIALISING || fe_fault(fe, HV_DEVICE_FAULT_NO_CONNECT))
                        break;
                if (fe->type == HV_DEVICE_VBD)
                        blkfront_connect(fe);
                else
                        netfront_connect(fe);
                break;
        case HV_XB_CONNECTED:
                if (fe->type == HV_DEVICE_VBD && fe->state == HV_XB_INITIALISED)
                        blkfront_disk_ready(fe);
                break;
        case HV_XB_CLOSING:
        case HV_XB_CLOSED:
                if (fe->state == HV_XB_CLOSED)
                        break;
                if (fe_fault(fe, HV_DEVICE_FAULT_NO_CLOSE) && !fe->detaching)
                        break;
                fe_switch(fe, HV_XB_CLOSED);
                break;
        default:
                break;
        }
}

static void on_backend_state(struct xs_conn *c, const char *path, const char *token, void *userdata)
{
        (void)c;
        (void)path;
        (void)token;
        frontend_sync(userdata);
}

/* read_otherend_details: backend-id and backend, naming a directory the guest can read. */
static int frontend_read_otherend(struct hv_frontend *fe)
{
        char path[HV_XS_PATH_MAX];
        _cleanup_free_ char *be = NULL;
        size_t len;
        unsigned id;
        int r;

        if (!hv_xs_path(path, sizeof(path), fe->dir, "backend-id") ||
            hv_xs_read_uint(fe->d->conn, path, DOMID_FIRST_RESERVED - 1, &id) < 0)
                return -EINVAL;
        if (!hv_xs_path(path, sizeof(path), fe->dir, "backend"))
                return -ENAMETOOLONG;
        r = xs_conn_read(fe->d->conn, path, &be, &len);
        if (r < 0)
                return r;
        if (be[0] != '/' || strlen(be) != len || len + sizeof("/state") > HV_XS_PATH_MAX)
                return -EINVAL;
        if (!hv_xs_exists(fe->d->conn, be))
                return -ENOENT;
        fe->backend = TAKE_PTR(be);
        return 0;
}

/* xenbus_probe_node for a frontend: only a new device (state 1) is probed. */
static void frontend_probe(struct hv_domain *d, enum hv_device_type type, uint32_t devid)
{
        struct hv_frontend *fe;
        char path[HV_XS_PATH_MAX];
        char *dir = NULL;
        int r;

        if (asprintf(&dir, "device/%s/%u", hv_device_type_to_string(type), devid) < 0)
                return;
        if (hv_xs_read_state(d->conn, dir) != HV_XB_INITIALISING) {
                free(dir);
                return;
        }
        fe = calloc(1, sizeof(*fe));
        if (!fe) {
                free(dir);
                return;
        }
        fe->d = d;
        fe->type = type;
        fe->devid = devid;
        fe->dir = dir;
        fe->state = HV_XB_INITIALISING;
        fe->next = d->frontends;
        d->frontends = fe;
        if (asprintf(&fe->token, "fe:%s", dir) < 0) {
                fe->token = NULL;
                frontend_free(fe);
                return;
        }
        r = frontend_read_otherend(fe);
        if (r < 0) {
                fe_log(fe, "no backend to talk to", r);
                return; /* stays without a driver until its directory goes */
        }
        r = hv_xs_path(path, sizeof(path), fe->backend, "state") ? 0 : -ENAMETOOLONG;
        if (r >= 0)
                r = xs_conn_watch(d->conn, path, fe->token, on_backend_state, fe);
        if (r < 0) {
                fe_log(fe, "cannot watch its backend", r);
                return;
        }
        fe->bound = true;
}

/* Frontends whose directory went, then new device directories. */
static void frontends_scan(struct hv_domain *d)
{
        for (struct hv_frontend *fe = d->frontends, *next; fe; fe = next) {
                next = fe->next;
                if (!hv_xs_exists(d->conn, fe->dir))
                        frontend_free(fe); /* the toolstack removed it */
        }
        for (int t = HV_DEVICE_VBD; t < _HV_DEVICE_TYPE_MAX; t++) {
                _cleanup_strv_free_ char **devids = NULL;
                char dir[32];

                snprintf(dir, sizeof(dir), "device/%s", hv_device_type_to_string(t));
                if (xs_conn_directory(d->conn, dir, &devids) < 0)
                        continue;
                for (char **s = devids; *s; s++) {
                        unsigned devid;

                        if (parse_uint(*s, INT32_MAX, &devid) < 0 || frontend_find(d, t, devid))
                                continue;
                        frontend_probe(d, t, devid);
                }
        }
}

static void on_device_tree(struct xs_conn *c, const char *path, const char *token, void *userdata)
{
        struct hv_domain *d = userdata;

        (void)c;
        (void)path;
        (void)token;
        if (!guest_runs(d)) {
                d->devices_dirty = true;
                return;
        }
        frontends_scan(d);
}

static int on_devices_defer(sd_event_source *s, void *userdata)
{
        struct hv_domain *d = userdata;

        (void)s;
        d->devices_defer = sd_event_source_disable_unref(d->devices_defer);
        if (!guest_runs(d))
                return 0;
        d->devices_dirty = false;
        frontends_scan(d);
        for (struct hv_frontend *fe = d->frontends; fe; fe = fe->next)
                frontend_sync(fe);
        return 0;
}

void hv_frontends_kick(struct hv_domain *d)
{
        if (d->devices_defer || !d->devices_watched)
                return;
        if (sd_event_add_defer(d->hv->event, &d->devices_defer, on_devices_defer, d) < 0)
                fprintf(stderr, "xensup-sim: domid %u: cannot schedule its devices\n", d->domid);
}

void hv_frontends_start(struct hv_domain *d)
{
        int r;

        if (d->devices_watched)
                return;
        d->next_port = FIRST_PORT;
        d->next_gref = FIRST_GREF;
        r = xs_conn_watch(d->conn, "device", "device", on_device_tree, d);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: domid %u: cannot watch its devices: %s\n", d->domid,
                        strerror(-r));
                return;
        }
        d->devices_watched = true;
}

void hv_frontends_stop(struct hv_domain *d)
{
        d->devices_defer = sd_event_source_disable_unref(d->devices_defer);
        while (d->frontends)
                frontend_free(d->frontends);
        d->devices_watched = false;
}

/* ---- DEVICE_FAULT ---- */

static int frontend_detach(struct hv_domain *d, enum hv_device_type type, uint32_t devid)
{
        struct hv_frontend *fe = frontend_find(d, type, devid);

        if (!fe || !fe->bound)
                return -ENODEV;
        fe->detaching = true;
        hv_frontends_kick(d);
        return 0;
}

int hv_device_fault(struct hypervisor *hv, const struct hv_req_device_fault *req)
{
        struct hv_domain *d = NULL;
        uint8_t *faults;

        if (req->kind == 0 || req->kind >= _HV_DEVICE_FAULT_MAX || req->type >= _HV_DEVICE_TYPE_MAX)
                return -EINVAL;
        if (req->domid != 0) {
                d = hv_domain_get(hv, req->domid);
                if (!d)
                        return -ESRCH;
                if (d->dying)
                        return -EINVAL;
        }
        if (req->kind == HV_DEVICE_FAULT_DETACH) {
                if (!d || req->type == HV_DEVICE_ANY)
                        return -EINVAL;
                return frontend_detach(d, req->type, req->devid);
        }
        faults = d ? d->device_faults : hv->next_device_faults;
        for (int t = HV_DEVICE_VBD; t < _HV_DEVICE_TYPE_MAX; t++) {
                if (req->type != HV_DEVICE_ANY && req->type != (uint32_t)t)
                        continue;
                if (req->kind == HV_DEVICE_FAULT_CLEAR)
                        faults[t] = 0;
                else
                        faults[t] |= (uint8_t)(1u << req->kind);
        }
        /* A frontend told to close again after no-close was cleared does so now. */
        if (d && req->kind == HV_DEVICE_FAULT_CLEAR)
                hv_frontends_kick(d);
        return 0;
}
