/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devices.c — the vbd and vif nodes of devices.h, and the daemon's record of
 * each device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/uuid.h"
#include "layout/devices.h"
#include "layout/plan.h"
#include "layout/record.h"

#define DEVICE_RECORD_VERSION   1
#define DEVICE_RECORD_WRITE_MAX 2048
#define DEVICE_RECORD_READ_MAX  3072
#define DEVICE_PATH_MAX         128 /* the longest frontend, backend or record path */

_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "the record's counts are 32-bit");

#define FIELD(k, t, member) RECORD_FIELD(struct layout_device, k, RECORD_##t, member)

static const struct record_field vbd_fields[] = {
        FIELD("domid", DOMID, domid),
        FIELD("devid", UINT, devid),
        FIELD("connected", BOOL, connected),
        FIELD("vdev", TOKEN, vdev),
        FIELD("target", TEXT, target), /* a script may take a name, not a path */
        FIELD("readonly", BOOL, readonly),
        FIELD("cdrom", BOOL, cdrom),
        FIELD("major", UINT, major),
        FIELD("minor", UINT, minor),
        FIELD("device", PATH, device),
        FIELD("loop", BOOL, loop),
        FIELD("backing_dev", UINT, backing_dev),
        FIELD("backing_ino", UINT, backing_ino),
        FIELD("script", PATH, script),
};

static const struct record_field vif_fields[] = {
        FIELD("domid", DOMID, domid),        FIELD("devid", UINT, devid),
        FIELD("connected", BOOL, connected), FIELD("mac", MAC, mac),
        FIELD("bridge", TEXT, bridge),       FIELD("ifname", TEXT, ifname),
        FIELD("vifname", TEXT, vifname),     FIELD("mtu", UINT, mtu),
        FIELD("rate", TEXT, rate),           FIELD("ip", TEXT, ip),
        FIELD("script", PATH, script),
};

static const struct record_schema schemas[_LAYOUT_DEVICE_KIND_MAX] = {
        [LAYOUT_DEVICE_VBD] = { .fields = vbd_fields,
                                .n_fields = ELEMENTSOF(vbd_fields),
                                .version = DEVICE_RECORD_VERSION,
                                .write_max = DEVICE_RECORD_WRITE_MAX },
        [LAYOUT_DEVICE_VIF] = { .fields = vif_fields,
                                .n_fields = ELEMENTSOF(vif_fields),
                                .version = DEVICE_RECORD_VERSION,
                                .write_max = DEVICE_RECORD_WRITE_MAX },
};

const char *layout_device_kind_to_string(enum layout_device_kind kind)
{
        return kind == LAYOUT_DEVICE_VBD ? "vbd" : kind == LAYOUT_DEVICE_VIF ? "vif" : NULL;
}

/* ---- paths ---- */

static void frontend_path(const struct layout_device *dev, char buf[DEVICE_PATH_MAX])
{
        snprintf(buf, DEVICE_PATH_MAX, "/local/domain/%" PRIu32 "/device/%s/%" PRIu32, dev->domid,
                 layout_device_kind_to_string(dev->kind), dev->devid);
}

static void backend_path(const struct layout_device *dev, char buf[DEVICE_PATH_MAX])
{
        snprintf(buf, DEVICE_PATH_MAX, "/local/domain/0/backend/%s/%" PRIu32 "/%" PRIu32,
                 layout_device_kind_to_string(dev->kind), dev->domid, dev->devid);
}

static void record_path(const uint8_t uuid[16], const struct layout_device *dev,
                        char buf[DEVICE_PATH_MAX])
{
        char u[37];

        snprintf(buf, DEVICE_PATH_MAX, "/tool/xensup/%s%s/device/%s/%" PRIu32,
                 uuid_to_string(uuid, u), dev->incoming ? "/incoming" : "",
                 layout_device_kind_to_string(dev->kind), dev->devid);
}

/* "vbd 51712 of domid 5", for messages. */
static const char *device_label(const struct layout_device *dev, char buf[64])
{
        snprintf(buf, 64, "%s %" PRIu32 " of domid %" PRIu32,
                 layout_device_kind_to_string(dev->kind), dev->devid, dev->domid);
        return buf;
}

static int check_device(const struct layout_device *dev, const char *what, char **err_r)
{
        if ((unsigned)dev->kind >= _LAYOUT_DEVICE_KIND_MAX)
                return err_setf(err_r, -EINVAL, "%s: unknown device kind", what);
        return check_domid(dev->domid, what, err_r);
}

/* Where a device's nodes are, and what a step on it is called in messages. */
struct device_paths {
        char fe[DEVICE_PATH_MAX], be[DEVICE_PATH_MAX], rec[DEVICE_PATH_MAX];
        char what[96];
};

/* Check dev and fill p for a step called verb ("adding"); uuid may be NULL (no record). */
static int device_paths(const uint8_t *uuid, const struct layout_device *dev, const char *verb,
                        struct device_paths *p, char **err_r)
{
        char label[64];
        int r;

        snprintf(p->what, sizeof(p->what), "%s a device", verb);
        r = check_device(dev, p->what, err_r);
        if (r < 0)
                return r;
        snprintf(p->what, sizeof(p->what), "%s %s", verb, device_label(dev, label));
        frontend_path(dev, p->fe);
        backend_path(dev, p->be);
        p->rec[0] = '\0';
        if (uuid)
                record_path(uuid, dev, p->rec);
        return 0;
}

/* ---- from a config's entries ---- */

/* Copy src into a field of size bytes; -ENAMETOOLONG when it does not fit. */
static int copy_field(char *dst, size_t size, const char *src)
{
        size_t n = src ? strlen(src) : 0;

        if (n >= size)
                return -ENAMETOOLONG;
        memcpy(dst, src ? src : "", n);
        dst[n] = '\0';
        return 0;
}

int layout_device_from_disk(struct layout_device *dev, uint32_t domid,
                            const struct disk_config *disk)
{
        *dev = (struct layout_device){
                .kind = LAYOUT_DEVICE_VBD,
                .domid = domid,
                .devid = disk->devid,
                .readonly = disk->readonly || disk->cdrom,
                .cdrom = disk->cdrom,
        };
        if (copy_field(dev->vdev, sizeof(dev->vdev), disk->vdev) < 0 ||
            copy_field(dev->target, sizeof(dev->target), disk->target) < 0)
                return -ENAMETOOLONG;
        return 0;
}

int layout_device_from_vif(struct layout_device *dev, uint32_t domid, uint32_t devid,
                           const struct vif_config *vif, const uint8_t mac[6],
                           const char *default_bridge)
{
        *dev = (struct layout_device){ .kind = LAYOUT_DEVICE_VIF, .domid = domid, .devid = devid };
        memcpy(dev->mac, mac, 6);
        if (copy_field(dev->bridge, sizeof(dev->bridge),
                       vif->bridge ? vif->bridge : default_bridge) < 0 ||
            copy_field(dev->vifname, sizeof(dev->vifname), vif->vifname) < 0)
                return -ENAMETOOLONG;
        if (vif->vifname)
                memcpy(dev->ifname, dev->vifname, sizeof(dev->ifname));
        else if (snprintf(dev->ifname, sizeof(dev->ifname), "vif%" PRIu32 ".%" PRIu32, domid,
                          devid) >= (int)sizeof(dev->ifname))
                return -ENAMETOOLONG;
        if (vif->rate)
                snprintf(dev->rate, sizeof(dev->rate), "%" PRIu64 ",%" PRIu32,
                         vif_rate_bytes_per_interval(vif), vif->rate_interval_usecs);
        for (size_t i = 0; vif->ips && vif->ips[i]; i++) {
                size_t used = strlen(dev->ip);

                /* libxl joins them with spaces, as vif-common.sh reads them. */
                if (snprintf(dev->ip + used, sizeof(dev->ip) - used, "%s%s", used ? " " : "",
                             vif->ips[i]) >= (int)(sizeof(dev->ip) - used))
                        return -ENAMETOOLONG;
        }
        return 0;
}

/* ---- adding ---- */

/* The record's text of dev into text (DEVICE_RECORD_WRITE_MAX + 1 bytes). */
static int device_record_format(const struct layout_device *dev, char *text, char **err_r)
{
        const struct record_schema *s = &schemas[dev->kind];
        int r = record_check(s, dev, err_r);

        return r < 0 ? r : record_format(s, dev, text, err_r);
}

static void plan_vbd(struct plan *p, const struct layout_device *dev, const char *fe,
                     const char *be)
{
        const enum layout_access RO = LAYOUT_ACCESS_READ, OWN = LAYOUT_ACCESS_OWNER;
        char b[32];

        plan_add(p, OWN, NULL, "%s", fe);
        plan_add(p, OWN, be, "%s/backend", fe);
        plan_add(p, OWN, "0", "%s/backend-id", fe);
        plan_add(p, OWN, "1", "%s/state", fe);
        plan_add(p, OWN, val(b, "%" PRIu32, dev->devid), "%s/virtual-device", fe);
        plan_add(p, OWN, dev->cdrom ? "cdrom" : "disk", "%s/device-type", fe);
        plan_add(p, OWN, "1", "%s/trusted", fe);

        plan_add(p, RO, NULL, "%s", be);
        plan_add(p, RO, fe, "%s/frontend", be);
        plan_add(p, RO, val(b, "%" PRIu32, dev->domid), "%s/frontend-id", be);
        plan_add(p, RO, "1", "%s/online", be);
        plan_add(p, RO, dev->cdrom ? "1" : "0", "%s/removable", be);
        plan_add(p, RO, "1", "%s/bootable", be);
        plan_add(p, RO, "1", "%s/state", be);
        /* blkback names its ring threads from dev: without it they never start. */
        plan_add(p, RO, dev->vdev, "%s/dev", be);
        plan_add(p, RO, "phy", "%s/type", be);
        plan_add(p, RO, dev->readonly ? "r" : "w", "%s/mode", be);
        plan_add(p, RO, dev->target, "%s/params", be);
        plan_add(p, RO, dev->cdrom ? "cdrom" : "disk", "%s/device-type", be);
        plan_add(p, RO, dev->readonly ? "0" : "1", "%s/discard-enable", be);
        if (dev->script[0])
                plan_add(p, RO, dev->script, "%s/script", be);
}

static void plan_vif(struct plan *p, const struct layout_device *dev, const char *fe,
                     const char *be)
{
        const enum layout_access RO = LAYOUT_ACCESS_READ, OWN = LAYOUT_ACCESS_OWNER;
        char b[32], mac[MAC_STRLEN];

        mac_format(dev->mac, mac);
        plan_add(p, OWN, NULL, "%s", fe);
        plan_add(p, OWN, be, "%s/backend", fe);
        plan_add(p, OWN, "0", "%s/backend-id", fe);
        plan_add(p, OWN, "1", "%s/state", fe);
        plan_add(p, OWN, val(b, "%" PRIu32, dev->devid), "%s/handle", fe);
        plan_add(p, OWN, mac, "%s/mac", fe);
        plan_add(p, OWN, "1", "%s/trusted", fe);
        /* The guest may read its MTU but not set it (libxl's ro_front); connect writes it. */
        plan_add(p, RO, "1500", "%s/mtu", fe);

        plan_add(p, RO, NULL, "%s", be);
        plan_add(p, RO, fe, "%s/frontend", be);
        plan_add(p, RO, val(b, "%" PRIu32, dev->domid), "%s/frontend-id", be);
        plan_add(p, RO, "1", "%s/online", be);
        plan_add(p, RO, "1", "%s/state", be);
        /* netback's probe fails without it; without a script the daemon does vif-bridge's work. */
        plan_add(p, RO, dev->script[0] ? dev->script : "xensupd", "%s/script", be);
        plan_add(p, RO, mac, "%s/mac", be);
        plan_add(p, RO, dev->bridge, "%s/bridge", be);
        plan_add(p, RO, val(b, "%" PRIu32, dev->devid), "%s/handle", be);
        plan_add(p, RO, "vif", "%s/type", be);
        /* Empty until the bridge step is done, so a stale "connected" is never taken. */
        plan_add(p, RO, "", "%s/hotplug-status", be);
        if (dev->vifname[0])
                plan_add(p, RO, dev->vifname, "%s/vifname", be);
        if (dev->rate[0])
                plan_add(p, RO, dev->rate, "%s/rate", be);
        if (dev->ip[0])
                plan_add(p, RO, dev->ip, "%s/ip", be);
}

struct device_add {
        struct plan plan;     /* first: plan_run() hands the step a pointer to it */
        const char *paths[3]; /* what must not exist yet: frontend, backend, record */
};

/* The step of an add; userdata is the plan, the first member of a struct device_add. */
static int device_add_step(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        const struct device_add *a = userdata;

        for (size_t i = 0; i < ELEMENTSOF(a->paths); i++) {
                _cleanup_free_ char *v = NULL;
                unsigned len;
                int r = x_read(l, t, a->paths[i], &v, &len);

                if (r == 0)
                        return err_setf(err_r, -EEXIST, "%s already exists", a->paths[i]);
                if (r != -ENOENT)
                        return err_setf(err_r, r, "cannot read %s: %s", a->paths[i], strerror(-r));
        }
        return plan_execute(l, t, &a->plan, err_r);
}

int layout_device_add(struct layout *l, const uint8_t uuid[16], const struct layout_device *dev,
                      char **err_r)
{
        char text[DEVICE_RECORD_WRITE_MAX + 1];
        _cleanup_free_ char *inner = NULL;
        struct device_paths p = { 0 };
        struct device_add a;
        int r;

        r = device_paths(uuid, dev, "adding", &p, err_r);
        if (r < 0)
                return r;
        r = device_record_format(dev, text, &inner);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", p.what, inner);
        a = (struct device_add){ .plan = { .domid = dev->domid }, .paths = { p.fe, p.be, p.rec } };
        if (dev->kind == LAYOUT_DEVICE_VBD)
                plan_vbd(&a.plan, dev, p.fe, p.be);
        else
                plan_vif(&a.plan, dev, p.fe, p.be);
        plan_add(&a.plan, LAYOUT_ACCESS_NONE, text, "%s", p.rec);
        r = plan_run(l, &a.plan, device_add_step, p.what, err_r);
        plan_done(&a.plan);
        return r;
}

/* ---- the backend's state ---- */

/* A XenbusState node's value: 0..8, else 0 (absent or not a state: as Unknown). */
static int parse_state(const char *v, unsigned len)
{
        uint64_t n;

        if (record_parse_u64(v, len, 8, &n) < 0)
                return XENBUS_UNKNOWN;
        return (int)n;
}

/* The state at path: -ENOENT when absent. */
static int read_state(struct layout *l, const char *path, int *state_r)
{
        _cleanup_free_ char *v = NULL;
        unsigned len;
        int r = x_read(l, XBT_NULL, path, &v, &len);

        if (r < 0)
                return r;
        *state_r = parse_state(v, len);
        return 0;
}

/* One check of a wait: 1 when reached, 0 to wait on, or the failure. */
typedef int (*reached_fn)(struct layout *l, const struct layout_device *dev, const char *path,
                          int want, int *state_r, char **err_r);

static int backend_reached(struct layout *l, const struct layout_device *dev, const char *path,
                           int want, int *state_r, char **err_r)
{
        char label[64];
        int r = read_state(l, path, state_r);

        if (r == -ENOENT)
                return err_setf(err_r, -ENOENT, "%s: its backend directory was removed",
                                device_label(dev, label));
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        if (*state_r >= XENBUS_CLOSING)
                return err_setf(err_r, -EPIPE, "%s: the backend is %s", device_label(dev, label),
                                *state_r == XENBUS_CLOSING ? "closing (state 5)"
                                                           : "closed (state 6)");
        return *state_r >= want;
}

static int backend_closed(struct layout *l, const struct layout_device *dev, const char *path,
                          int want, int *state_r, char **err_r)
{
        int r = read_state(l, path, state_r);

        (void)dev;
        if (r == -ENOENT)
                return 1;
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        return *state_r == want;
}

/* Watch the backend's state until reached() says so or timeout_ms pass; -ETIMEDOUT then. */
static int wait_backend(struct layout *l, const struct layout_device *dev, reached_fn reached,
                        int want, unsigned timeout_ms, int *state_r, char **err_r)
{
        char be[DEVICE_PATH_MAX], path[DEVICE_PATH_MAX + 8], token[48], label[64];
        uint64_t deadline = x_now_ms() + timeout_ms;
        int r, state = XENBUS_UNKNOWN;

        r = check_device(dev, "waiting for a backend", err_r);
        if (r < 0)
                return r;
        backend_path(dev, be);
        snprintf(path, sizeof(path), "%s/state", be);
        snprintf(token, sizeof(token), "xensup-wait-%s-%" PRIu32,
                 layout_device_kind_to_string(dev->kind), dev->devid);
        r = x_watch(l, path, token);
        if (r < 0)
                return err_setf(err_r, r, "cannot watch %s: %s", path, strerror(-r));
        for (;;) {
                uint64_t now;

                r = reached(l, dev, path, want, &state, err_r);
                if (r != 0)
                        break;
                now = x_now_ms();
                if (now >= deadline) {
                        r = err_setf(err_r, -ETIMEDOUT,
                                     "%s: the backend did not reach state %d in %u ms (it is in "
                                     "state %d)%s",
                                     device_label(dev, label), want, timeout_ms, state,
                                     want == XENBUS_INIT_WAIT && (state == XENBUS_INITIALISING ||
                                                                  state == XENBUS_UNKNOWN)
                                         ? "; is the backend driver loaded in dom0?"
                                         : "");
                        break;
                }
                r = x_wait_watch(l, (unsigned)(deadline - now));
                if (r < 0) {
                        r = err_setf(err_r, r, "waiting for %s: %s", path, strerror(-r));
                        break;
                }
        }
        (void)x_unwatch(l, path, token);
        if (state_r)
                *state_r = state;
        return r < 0 ? r : 0;
}

int layout_device_wait_backend(struct layout *l, const struct layout_device *dev,
                               enum xenbus_state want, unsigned timeout_ms, int *state_r,
                               char **err_r)
{
        return wait_backend(l, dev, backend_reached, (int)want, timeout_ms, state_r, err_r);
}

int layout_device_wait_closed(struct layout *l, const struct layout_device *dev,
                              unsigned timeout_ms, char **err_r)
{
        return wait_backend(l, dev, backend_closed, XENBUS_CLOSED, timeout_ms, NULL, err_r);
}

int layout_device_backend_node(struct layout *l, const struct layout_device *dev, const char *name,
                               char *buf, size_t size, char **err_r)
{
        char be[DEVICE_PATH_MAX], path[DEVICE_PATH_MAX + 64];
        _cleanup_free_ char *v = NULL;
        unsigned len;
        int r;

        r = check_device(dev, "reading a backend node", err_r);
        if (r < 0)
                return r;
        backend_path(dev, be);
        snprintf(path, sizeof(path), "%s/%s", be, name);
        r = x_read(l, XBT_NULL, path, &v, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        snprintf(buf, size, "%.*s", (int)len, v);
        return 0;
}

int layout_device_states(struct layout *l, const struct layout_device *dev, int *backend_r,
                         int *frontend_r, char **err_r)
{
        char fe[DEVICE_PATH_MAX + 8], be[DEVICE_PATH_MAX + 8];
        int r;

        r = check_device(dev, "reading a device's state", err_r);
        if (r < 0)
                return r;
        frontend_path(dev, fe);
        backend_path(dev, be);
        strcat(fe, "/state");
        strcat(be, "/state");
        *backend_r = *frontend_r = XENBUS_UNKNOWN;
        r = read_state(l, be, backend_r);
        if (r < 0 && r != -ENOENT)
                return err_setf(err_r, r, "cannot read %s: %s", be, strerror(-r));
        r = read_state(l, fe, frontend_r);
        if (r < 0 && r != -ENOENT)
                return err_setf(err_r, r, "cannot read %s: %s", fe, strerror(-r));
        return 0;
}

/* ---- connecting ---- */

int layout_device_connect(struct layout *l, const uint8_t uuid[16], const struct layout_device *dev,
                          char **err_r)
{
        char text[DEVICE_RECORD_WRITE_MAX + 1], b[32];
        _cleanup_(plan_donep) struct plan p = { .domid = dev->domid };
        _cleanup_free_ char *inner = NULL;
        struct layout_device c = *dev;
        struct device_paths dp = { 0 };
        const char *fe = dp.fe, *be = dp.be;
        int r;

        r = device_paths(uuid, dev, "connecting", &dp, err_r);
        if (r < 0)
                return r;
        c.connected = true;
        r = device_record_format(&c, text, &inner);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", dp.what, inner);
        plan_guard(&p, "%s/state", be);
        if (dev->script[0]) {
                /* The script wrote the backend's nodes, hotplug-status included. */
        } else if (dev->kind == LAYOUT_DEVICE_VBD) {
                /* blkback's watch takes physical-device: hex major:minor. */
                plan_add(&p, LAYOUT_ACCESS_READ,
                         val(b, "%" PRIx32 ":%" PRIx32, dev->major, dev->minor),
                         "%s/physical-device", be);
                plan_add(&p, LAYOUT_ACCESS_READ, dev->device, "%s/physical-device-path", be);
                if (dev->loop)
                        plan_add(&p, LAYOUT_ACCESS_READ, dev->device, "%s/node", be);
        } else {
                plan_guard(&p, "%s/mtu", fe);
                plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%u", dev->mtu), "%s/mtu", fe);
        }
        if (!dev->script[0])
                plan_add(&p, LAYOUT_ACCESS_READ, "connected", "%s/hotplug-status", be);
        plan_add(&p, LAYOUT_ACCESS_NONE, text, "%s", dp.rec);
        return plan_run(l, &p, update_execute, dp.what, err_r);
}

/* ---- closing and removing ---- */

struct device_close {
        const char *fe, *be;
        bool force;
};

static int device_close_step(struct layout *l, xs_transaction_t t, const void *userdata,
                             char **err_r)
{
        const struct device_close *c = userdata;
        char path[DEVICE_PATH_MAX + 8];
        _cleanup_free_ char *v = NULL;
        unsigned len;
        int r;

        if (c->force) {
                r = x_rm(l, t, c->fe);
                if (r < 0)
                        return err_setf(err_r, r, "cannot remove %s: %s", c->fe, strerror(-r));
        }
        snprintf(path, sizeof(path), "%s/state", c->be);
        r = x_read(l, t, path, &v, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        snprintf(path, sizeof(path), "%s/online", c->be);
        r = x_write(l, t, path, "0");
        if (r >= 0 && parse_state(v, len) != XENBUS_CLOSED) {
                snprintf(path, sizeof(path), "%s/state", c->be);
                r = x_write(l, t, path, "5");
        }
        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}

int layout_device_close(struct layout *l, const struct layout_device *dev, bool force, char **err_r)
{
        struct device_paths p = { 0 };
        struct device_close c = { .fe = p.fe, .be = p.be, .force = force };
        int r = device_paths(NULL, dev, "closing", &p, err_r);

        return r < 0 ? r : run_step(l, p.what, device_close_step, &c, err_r);
}

/* Remove path's parent when it has no children left (libxl__xs_path_cleanup's rule). */
static int remove_parent_if_empty(struct layout *l, xs_transaction_t t, const char *path)
{
        char parent[DEVICE_PATH_MAX];
        _cleanup_free_ char **names = NULL;
        char *slash;
        unsigned n;
        int r;

        snprintf(parent, sizeof(parent), "%s", path);
        slash = strrchr(parent, '/');
        if (!slash || slash == parent)
                return 0;
        *slash = '\0';
        r = x_directory(l, t, parent, &names, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return n == 0 ? x_rm(l, t, parent) : 0;
}

struct device_remove {
        const char *paths[3]; /* frontend, backend, record */
};

static int device_remove_step(struct layout *l, xs_transaction_t t, const void *userdata,
                              char **err_r)
{
        const struct device_remove *d = userdata;

        for (size_t i = 0; i < ELEMENTSOF(d->paths); i++) {
                int r = x_rm(l, t, d->paths[i]);

                /* The frontend's device/<kind> and the backend's <kind>/<domid> go when empty. */
                if (r >= 0 && i < 2)
                        r = remove_parent_if_empty(l, t, d->paths[i]);
                if (r < 0)
                        return err_setf(err_r, r, "cannot remove %s: %s", d->paths[i],
                                        strerror(-r));
        }
        return 0;
}

int layout_device_remove(struct layout *l, const uint8_t uuid[16], const struct layout_device *dev,
                         char **err_r)
{
        struct device_paths p = { 0 };
        struct device_remove d = { .paths = { p.fe, p.be, p.rec } };
        int r = device_paths(uuid, dev, "removing", &p, err_r);

        return r < 0 ? r : run_step(l, p.what, device_remove_step, &d, err_r);
}

/* ---- reading the records back ---- */

/* A directory's entries that are decimal numbers below max, sorted; caller frees. */
static int list_numbers(struct layout *l, const char *dir, uint64_t max, uint32_t **nums_r,
                        size_t *n_r)
{
        _cleanup_free_ char **names = NULL;
        _cleanup_free_ uint32_t *nums = NULL;
        unsigned n;
        size_t k = 0;
        int r;

        *nums_r = NULL;
        *n_r = 0;
        r = x_directory(l, XBT_NULL, dir, &names, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (n == 0)
                return 0;
        nums = calloc(n, sizeof(*nums));
        if (!nums)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                uint64_t v;

                if (record_parse_u64(names[i], strlen(names[i]), max, &v) == 0)
                        nums[k++] = (uint32_t)v;
        }
        for (size_t i = 1; i < k; i++)
                for (size_t j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
                        uint32_t tmp = nums[j];

                        nums[j] = nums[j - 1];
                        nums[j - 1] = tmp;
                }
        *nums_r = TAKE_PTR(nums);
        *n_r = k;
        return 0;
}

/* Read one record into dev (kind and devid set by the caller). */
static int device_record_read(struct layout *l, const char *path, struct layout_device *dev,
                              char **err_r)
{
        _cleanup_free_ char *text = NULL, *inner = NULL;
        struct layout_device d = { .kind = dev->kind, .incoming = dev->incoming };
        uint32_t devid = dev->devid;
        unsigned len;
        int r;

        r = x_read(l, XBT_NULL, path, &text, &len);
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        if (len > DEVICE_RECORD_READ_MAX)
                return err_setf(err_r, -E2BIG, "%s: record of %u bytes, more than %d", path, len,
                                DEVICE_RECORD_READ_MAX);
        if (memchr(text, '\0', len))
                return err_setf(err_r, -EBADMSG, "%s: the record holds a NUL byte", path);
        r = record_parse(&schemas[dev->kind], text, len, &d, &inner);
        if (r >= 0 && d.devid != devid)
                r = err_setf(&inner, -EBADMSG, "devid: %" PRIu32 " in a record named %" PRIu32,
                             d.devid, devid);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", path, inner);
        *dev = d;
        return 0;
}

/* The records under /tool/xensup/<uuid>[/incoming]/device, vbds first, each by devid. */
static int device_list(struct layout *l, const uint8_t uuid[16], bool incoming,
                       struct layout_device **devs_r, size_t *n_r, char **err_r)
{
        _cleanup_free_ struct layout_device *devs = NULL;
        size_t n = 0, allocated = 0;
        char u[37];
        int r;

        *devs_r = NULL;
        *n_r = 0;
        for (int kind = 0; kind < _LAYOUT_DEVICE_KIND_MAX; kind++) {
                _cleanup_free_ uint32_t *ids = NULL;
                char dir[DEVICE_PATH_MAX];
                size_t k;

                snprintf(dir, sizeof(dir), "/tool/xensup/%s%s/device/%s", uuid_to_string(uuid, u),
                         incoming ? "/incoming" : "",
                         layout_device_kind_to_string((enum layout_device_kind)kind));
                r = list_numbers(l, dir, UINT32_MAX, &ids, &k);
                if (r < 0)
                        return err_setf(err_r, r, "cannot list %s: %s", dir, strerror(-r));
                for (size_t i = 0; i < k; i++) {
                        struct layout_device d = { .kind = (enum layout_device_kind)kind,
                                                   .incoming = incoming,
                                                   .devid = ids[i] };
                        char path[DEVICE_PATH_MAX];

                        if (n == allocated) {
                                size_t want = allocated ? allocated * 2 : 8;
                                struct layout_device *more = realloc(devs, want * sizeof(*devs));

                                if (!more)
                                        return err_setf(err_r, -ENOMEM, "out of memory");
                                devs = more;
                                allocated = want;
                        }
                        record_path(uuid, &d, path);
                        /* One bad record must not hide the devices that still need freeing. */
                        if (device_record_read(l, path, &d, err_r) < 0)
                                continue;
                        devs[n++] = d;
                }
        }
        *devs_r = TAKE_PTR(devs);
        *n_r = n;
        return 0;
}

int layout_device_list(struct layout *l, const uint8_t uuid[16], struct layout_device **devs_r,
                       size_t *n_r, char **err_r)
{
        return device_list(l, uuid, false, devs_r, n_r, err_r);
}

int layout_device_list_incoming(struct layout *l, const uint8_t uuid[16],
                                struct layout_device **devs_r, size_t *n_r, char **err_r)
{
        return device_list(l, uuid, true, devs_r, n_r, err_r);
}

int layout_device_commit_incoming(struct layout *l, const uint8_t uuid[16],
                                  const struct layout_device *devs, size_t n, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { 0 };
        char u[37], what[96];

        uuid_to_string(uuid, u);
        snprintf(what, sizeof(what), "committing the incoming devices of %s", u);
        plan_remove(&p, "/tool/xensup/%s/incoming", u);
        for (size_t i = 0; i < n; i++) {
                char text[DEVICE_RECORD_WRITE_MAX + 1], path[DEVICE_PATH_MAX];
                _cleanup_free_ char *inner = NULL;
                struct layout_device own = devs[i];
                int r;

                own.incoming = false;
                r = device_record_format(&own, text, &inner);
                if (r < 0)
                        return err_setf(err_r, r, "%s: %s", what, inner);
                record_path(uuid, &own, path);
                plan_add(&p, LAYOUT_ACCESS_NONE, text, "%s", path);
        }
        return plan_run(l, &p, plan_execute, what, err_r);
}

int layout_device_remove_incoming(struct layout *l, const uint8_t uuid[16], char **err_r)
{
        /* A commit of no records: incoming/ goes, nothing is written. */
        return layout_device_commit_incoming(l, uuid, NULL, 0, err_r);
}

int layout_device_backend_domids(struct layout *l, enum layout_device_kind kind,
                                 uint32_t **domids_r, size_t *n_r, char **err_r)
{
        char dir[DEVICE_PATH_MAX];
        int r;

        snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s",
                 layout_device_kind_to_string(kind));
        r = list_numbers(l, dir, DOMID_FIRST_RESERVED - 1, domids_r, n_r);
        if (r < 0)
                return err_setf(err_r, r, "cannot list %s: %s", dir, strerror(-r));
        return 0;
}

int layout_device_remove_backends(struct layout *l, enum layout_device_kind kind, uint32_t domid,
                                  char **err_r)
{
        char path[DEVICE_PATH_MAX];
        int r;

        r = check_domid(domid, "removing backends", err_r);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%" PRIu32,
                 layout_device_kind_to_string(kind), domid);
        r = x_rm(l, XBT_NULL, path);
        if (r < 0)
                return err_setf(err_r, r, "cannot remove %s: %s", path, strerror(-r));
        return 0;
}

/* A backend node's value into buf (cut to size): 0, -ENOENT, or the read's failure. */
static int read_backend_node(struct layout *l, const char *be, const char *name, char *buf,
                             size_t size)
{
        char path[DEVICE_PATH_MAX + 32];
        _cleanup_free_ char *v = NULL;
        unsigned len;
        int r;

        snprintf(path, sizeof(path), "%s/%s", be, name);
        r = x_read(l, XBT_NULL, path, &v, &len);
        if (r < 0)
                return r;
        snprintf(buf, size, "%.*s", (int)len, v);
        return 0;
}

/* Read one backend into *out: 1, 0 when it has no mode (left out), or a failure. */
static int vbd_backend_read(struct layout *l, uint32_t domid, uint32_t devid,
                            struct layout_vbd_backend *out, char **err_r)
{
        struct layout_device dev = { .kind = LAYOUT_DEVICE_VBD, .domid = domid, .devid = devid };
        char be[DEVICE_PATH_MAX], v[LAYOUT_DEVICE_NODE_MAX];
        unsigned major, minor;
        int r, end = 0;

        backend_path(&dev, be);
        *out = (struct layout_vbd_backend){ .domid = domid, .devid = devid };
        r = read_backend_node(l, be, "mode", v, sizeof(v));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s/mode: %s", be, strerror(-r));
        out->writes = strchr(v, 'w') != NULL;
        r = read_backend_node(l, be, "physical-device", v, sizeof(v));
        if (r < 0 && r != -ENOENT)
                return err_setf(err_r, r, "cannot read %s/physical-device: %s", be, strerror(-r));
        /* What blkback's watch would take; anything else opens nothing. */
        if (r == 0 && sscanf(v, "%x:%x%n", &major, &minor, &end) == 2 && v[end] == '\0') {
                out->has_device = true;
                out->major = major;
                out->minor = minor;
                return 1;
        }
        r = read_backend_node(l, be, "params", out->params, sizeof(out->params));
        if (r < 0 && r != -ENOENT)
                return err_setf(err_r, r, "cannot read %s/params: %s", be, strerror(-r));
        return 1;
}

int layout_vbd_backends(struct layout *l, const uint32_t *domids, size_t n_domids,
                        struct layout_vbd_backend **bes_r, size_t *n_r, char **err_r)
{
        _cleanup_free_ struct layout_vbd_backend *bes = NULL;
        size_t n = 0, allocated = 0;
        int r;

        *bes_r = NULL;
        *n_r = 0;
        for (size_t i = 0; i < n_domids; i++) {
                _cleanup_free_ uint32_t *devids = NULL;
                char dir[DEVICE_PATH_MAX];
                size_t k = 0;

                /* dom0's own disks too (xl block-attach 0): any domid a frontend can have. */
                if (domids[i] >= DOMID_FIRST_RESERVED)
                        return err_setf(err_r, -EINVAL,
                                        "reading vbd backends: domid %" PRIu32 " is reserved",
                                        domids[i]);
                snprintf(dir, sizeof(dir), "/local/domain/0/backend/vbd/%" PRIu32, domids[i]);
                r = list_numbers(l, dir, UINT32_MAX, &devids, &k);
                if (r < 0)
                        return err_setf(err_r, r, "cannot list %s: %s", dir, strerror(-r));
                for (size_t j = 0; j < k; j++) {
                        if (n == allocated) {
                                size_t want = allocated ? allocated * 2 : 4;
                                struct layout_vbd_backend *more =
                                    reallocarray(bes, want, sizeof(*bes));

                                if (!more)
                                        return err_setf(err_r, -ENOMEM, "out of memory");
                                bes = more;
                                allocated = want;
                        }
                        r = vbd_backend_read(l, domids[i], devids[j], &bes[n], err_r);
                        if (r < 0)
                                return r;
                        n += (size_t)r;
                }
        }
        *bes_r = TAKE_PTR(bes);
        *n_r = n;
        return 0;
}
