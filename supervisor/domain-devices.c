/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "supervisor/attach.h"
#include "supervisor/bus.h"
#include "supervisor/context.h"
#include "supervisor/domain-devices.h"
#include "supervisor/domain-table.h"
#include "supervisor/log.h"
#include "supervisor/watch.h"

#define STATE_PATH_MAX 128

/* The backend's (which 0) or the frontend's (1) state node of a device. */
static void state_path(const struct layout_device *dev, int which, char buf[STATE_PATH_MAX])
{
        const char *kind = layout_device_kind_to_string(dev->kind);

        if (which == 0)
                snprintf(buf, STATE_PATH_MAX,
                         "/local/domain/0/backend/%s/%" PRIu32 "/%" PRIu32 "/state", kind,
                         dev->domid, dev->devid);
        else
                snprintf(buf, STATE_PATH_MAX,
                         "/local/domain/%" PRIu32 "/device/%s/%" PRIu32 "/state", dev->domid, kind,
                         dev->devid);
}

static void device_refresh(struct manager *m, struct domain_device *dd)
{
        (void)layout_device_states(m->layout, &dd->rec, &dd->backend_state, &dd->frontend_state,
                                   NULL);
}

/* Log a device's connection the first time both ends are Connected. */
static void report_connected(const struct domain *d, struct domain_device *dd)
{
        char t[ATTACH_NAME_MAX];

        if (dd->reported || dd->backend_state != XENBUS_CONNECTED ||
            dd->frontend_state != XENBUS_CONNECTED)
                return;
        dd->reported = true;
        log_domain(LOG_INFO, d, LOG_MID_DEVICE, NULL, "%s connected",
                   attach_device_name(&dd->rec, false, t));
}

/* The device timeout after the load: whatever has not connected by now is worth a warning. */
static int on_connect_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct domain *d = userdata;

        (void)s;
        (void)usec;
        d->devices_deadline = sd_event_source_disable_unref(d->devices_deadline);
        for (size_t i = 0; i < d->n_devices; i++) {
                struct domain_device *dd = &d->devices[i];
                char t[ATTACH_NAME_MAX];

                if (dd->reported)
                        continue;
                dd->reported = true;
                log_domain(LOG_WARNING, d, LOG_MID_DEVICE, NULL,
                           "%s has not connected: its backend is in state %d, the guest's "
                           "frontend in state %d (4 is connected; is the guest's driver loaded?)",
                           attach_device_name(&dd->rec, false, t), dd->backend_state,
                           dd->frontend_state);
        }
        return 0;
}

void domain_devices_forget(struct manager *m, struct domain *d)
{
        d->devices_deadline = sd_event_source_disable_unref(d->devices_deadline);
        for (size_t i = 0; i < d->n_devices; i++)
                for (int which = 0; which < 2; which++) {
                        char path[STATE_PATH_MAX];

                        state_path(&d->devices[i].rec, which, path);
                        watch_remove_path(m->watch, path);
                }
        free(d->devices);
        d->devices = NULL;
        d->n_devices = 0;
}

/* Whether d's device of this kind and devid was reported already (kept across a reload). */
static bool was_reported(const struct domain *d, const struct layout_device *r)
{
        for (size_t i = 0; i < d->n_devices; i++)
                if (d->devices[i].rec.kind == r->kind && d->devices[i].rec.devid == r->devid &&
                    d->devices[i].rec.domid == r->domid)
                        return d->devices[i].reported;
        return false;
}

/*
 * Keep the records of instance domid among recs[0..n) as d's devices, watched; a device
 * reported before (a reload after a hot-plug) is not reported again.
 */
static void devices_take(struct manager *m, struct domain *d, uint32_t domid,
                         const struct layout_device *recs, size_t n)
{
        bool reported[DISKS_MAX + VIFS_MAX] = { false };
        size_t k = 0;
        bool pending = false;

        for (size_t i = 0; i < n && i < ELEMENTSOF(reported); i++)
                reported[i] = was_reported(d, &recs[i]);
        domain_devices_forget(m, d);
        if (n == 0)
                return;
        d->devices = calloc(n, sizeof(*d->devices));
        if (!d->devices) {
                d->devices_unknown = true;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (recs[i].domid != domid)
                        continue;
                d->devices[k].rec = recs[i];
                d->devices[k].reported = i < ELEMENTSOF(reported) && reported[i];
                pending = pending || !d->devices[k].reported;
                /* The watch fires once at once: that first event reads the states. */
                for (int which = 0; which < 2; which++) {
                        char path[STATE_PATH_MAX];

                        state_path(&recs[i], which, path);
                        if (watch_add_path(m->watch, path) < 0)
                                device_refresh(m, &d->devices[k]);
                }
                k++;
        }
        d->n_devices = k;
        if (pending)
                (void)sd_event_add_time_relative(m->event, &d->devices_deadline, CLOCK_MONOTONIC,
                                                 (uint64_t)m->device_timeout_ms * 1000, 0,
                                                 on_connect_deadline, d);
}

/* uuid's records; a failure is logged and leaves d's list marked unknown (teardown re-reads). */
static int devices_read(struct manager *m, struct domain *d, struct layout_device **recs_r,
                        size_t *n_r)
{
        _cleanup_free_ char *err = NULL;
        int r = layout_device_list(m->layout, d->uuid, recs_r, n_r, &err);

        d->devices_unknown = r < 0 || err;
        if (d->devices_unknown)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, NULL,
                           "cannot read all its device records: %s", err ? err : strerror(-r));
        return r;
}

void domain_devices_load(struct manager *m, struct domain *d)
{
        _cleanup_free_ struct layout_device *recs = NULL;
        size_t n = 0;

        if (!d->has_domid || devices_read(m, d, &recs, &n) < 0)
                n = 0;
        devices_take(m, d, d->domid, recs, n);
}

void domain_devices_adopt(struct manager *m, struct domain *d, uint32_t live_domid)
{
        _cleanup_free_ struct layout_device *recs = NULL, *stale = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0, k = 0;

        if (devices_read(m, d, &recs, &n) < 0 || n == 0) {
                devices_take(m, d, live_domid, NULL, 0);
                return;
        }
        /*
         * What a daemon or child killed mid-way left: the devices of instances that are gone,
         * and a device of the live one that never connected (a hot-plug killed half-way).
         */
        stale = calloc(n, sizeof(*stale));
        if (stale) {
                size_t kept = 0;

                for (size_t i = 0; i < n; i++)
                        if (live_domid == 0 || recs[i].domid != live_domid || !recs[i].connected)
                                stale[k++] = recs[i];
                        else
                                recs[kept++] = recs[i];
                n = kept;
        }
        if (k > 0 && attach_teardown_devices(m->builder, m->layout, d->uuid, stale, k, &err) < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, NULL,
                           "cannot tear down all the devices left half-done: %s", err);
        devices_take(m, d, live_domid, live_domid ? recs : NULL, live_domid ? n : 0);
}

void domain_devices_teardown(struct manager *m, struct domain *d)
{
        _cleanup_free_ struct layout_device *recs = NULL;
        _cleanup_free_ char *err = NULL;
        int r = 0;

        if (d->devices_unknown) {
                /* The list may miss some: the records say what there is. */
                r = attach_teardown(m->builder, m->layout, d->uuid, d->domid, &err);
        } else if (d->n_devices > 0) {
                recs = calloc(d->n_devices, sizeof(*recs));
                if (!recs)
                        r = attach_teardown(m->builder, m->layout, d->uuid, d->domid, &err);
                for (size_t i = 0; recs && i < d->n_devices; i++)
                        recs[i] = d->devices[i].rec;
                if (recs)
                        r = attach_teardown_devices(m->builder, m->layout, d->uuid, recs,
                                                    d->n_devices, &err);
        }
        if (r < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, NULL,
                           "cannot tear down all its devices: %s", err ? err : "?");
        domain_devices_forget(m, d);
        d->devices_unknown = false;
}

/* "/local/domain/0/backend/KIND/DOMID/DEVID/state" or
 * "/local/domain/DOMID/device/KIND/DEVID/state". */
static bool parse_state_path(const char *path, enum layout_device_kind *kind_r, uint32_t *domid_r,
                             uint32_t *devid_r)
{
        char kind[4], tail[8];
        unsigned a, b;
        int n = 0;

        if (sscanf(path, "/local/domain/0/backend/%3[a-z]/%u/%u/%7s%n", kind, &a, &b, tail, &n) ==
                4 &&
            path[n] == '\0' && strcmp(tail, "state") == 0) {
                *domid_r = a;
                *devid_r = b;
        } else if (sscanf(path, "/local/domain/%u/device/%3[a-z]/%u/%7s%n", &a, kind, &b, tail,
                          &n) == 4 &&
                   path[n] == '\0' && strcmp(tail, "state") == 0) {
                *domid_r = a;
                *devid_r = b;
        } else {
                return false;
        }
        if (strcmp(kind, "vbd") == 0)
                *kind_r = LAYOUT_DEVICE_VBD;
        else if (strcmp(kind, "vif") == 0)
                *kind_r = LAYOUT_DEVICE_VIF;
        else
                return false;
        return true;
}

void domain_devices_on_path(struct manager *m, const char *path)
{
        enum layout_device_kind kind;
        uint32_t domid, devid;

        if (!parse_state_path(path, &kind, &domid, &devid))
                return;
        for (size_t i = 0; i < m->n_domains; i++) {
                struct domain *d = m->domains[i];

                if (d->removed || !d->has_domid || d->domid != domid)
                        continue;
                for (size_t k = 0; k < d->n_devices; k++) {
                        struct domain_device *dd = &d->devices[k];
                        int was_b = dd->backend_state, was_f = dd->frontend_state;

                        if (dd->rec.kind != kind || dd->rec.devid != devid)
                                continue;
                        device_refresh(m, dd);
                        report_connected(d, dd);
                        if (dd->backend_state != was_b || dd->frontend_state != was_f)
                                bus_domain_changed(m, d);
                        return;
                }
        }
}

/* Whether instance a's disk devs conflicts with one of instance b's. */
static bool shares_disk(const struct layout_device *dev, const struct domain *b)
{
        struct attach_disk_id mine = attach_disk_id_of(dev);

        for (size_t j = 0; j < b->n_devices; j++) {
                struct attach_disk_id theirs;

                if (b->devices[j].rec.kind != LAYOUT_DEVICE_VBD)
                        continue;
                theirs = attach_disk_id_of(&b->devices[j].rec);
                if (attach_disks_conflict(&mine, &theirs))
                        return true;
        }
        return false;
}

/* The disks of d a check looks at: d->devices[from..to). */
struct disk_range {
        size_t from, to;
};

/* The supervised instance, other than d, holding a disk of the range that it may not share. */
static bool supervised_holder(const struct manager *m, const struct domain *d,
                              struct disk_range range, struct domain_disk_holder *h)
{
        for (size_t i = 0; i < m->n_domains; i++) {
                const struct domain *o = m->domains[i];

                if (o == d || o->removed || !o->has_domid)
                        continue;
                for (size_t k = range.from; k < range.to; k++)
                        if (d->devices[k].rec.kind == LAYOUT_DEVICE_VBD &&
                            shares_disk(&d->devices[k].rec, o)) {
                                *h = (struct domain_disk_holder){ .which = k,
                                                                  .domain = o,
                                                                  .domid = o->domid };
                                snprintf(h->who, sizeof(h->who), "domain %s (domid %u)", o->name,
                                         o->domid);
                                return true;
                        }
        }
        return false;
}

/*
 * The domids with vbd backends that are no instance of ours: not supervised, and not a build of
 * ours in flight either (its handle is a supervised uuid; the finish of that build checks its
 * disks against ours). Into domids[0..*n_r), in place; the hypervisor is asked only when one is
 * not supervised.
 */
static int foreign_domids(struct manager *m, const struct domain *d, uint32_t *domids, size_t *n_r,
                          char **err_r)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n_infos = 0, k = 0;
        bool listed = false;
        int r;

        for (size_t i = 0; i < *n_r; i++) {
                const struct builder_domain_info *info;

                if (domids[i] == d->domid || manager_domid_is_ours(m, domids[i]))
                        continue;
                if (!listed) {
                        r = manager_list(m, &infos, &n_infos);
                        if (r < 0)
                                return err_setf(err_r, r, "cannot list the domains: %s",
                                                strerror(-r));
                        listed = true;
                }
                info = manager_find_info(infos, n_infos, domids[i]);
                if (info && manager_find_uuid(m, info->handle))
                        continue;
                domids[k++] = domids[i];
        }
        *n_r = k;
        return 0;
}

/* Describe a holder of another toolstack's: its domid, and the name its toolstack gave it. */
static void foreign_describe(struct manager *m, size_t which, uint32_t domid,
                             struct domain_disk_holder *h)
{
        char name[DOMAIN_NAME_MAX + 1];

        *h = (struct domain_disk_holder){ .which = which, .domid = domid };
        /* Only for the message: a name that does not read (or is not dom0's) is left out. */
        if (layout_domain_name(m->layout, domid, name, sizeof(name), NULL) >= 0)
                snprintf(h->who, sizeof(h->who),
                         "domid %u (name %s), which xensupd does not supervise", domid, name);
        else
                snprintf(h->who, sizeof(h->who), "domid %u, which xensupd does not supervise",
                         domid);
}

/*
 * A domain xensupd does not supervise (xl's) whose vbd backend shares a disk of d's: its
 * physical-device is d's block device, or a loop device on d's file. One XenStore request when
 * every backend is ours; the backends of the others and the host's loop devices only then.
 */
static int foreign_holder(struct manager *m, const struct domain *d, struct disk_range range,
                          struct domain_disk_holder *h, char **err_r)
{
        _cleanup_free_ struct layout_vbd_backend *bes = NULL;
        _cleanup_free_ uint32_t *domids = NULL;
        size_t n_domids = 0, n_bes = 0;
        int r;

        r = layout_device_backend_domids(m->layout, LAYOUT_DEVICE_VBD, &domids, &n_domids, err_r);
        if (r >= 0)
                r = foreign_domids(m, d, domids, &n_domids, err_r);
        if (r >= 0 && n_domids > 0)
                r = layout_vbd_backends(m->layout, domids, n_domids, &bes, &n_bes, err_r);
        if (r < 0 || n_bes == 0)
                return r;
        for (size_t k = range.from; k < range.to; k++) {
                const struct layout_device *rec = &d->devices[k].rec;
                struct attach_disk_id mine = attach_disk_id_of(rec);
                _cleanup_free_ struct builder_loop *loops = NULL;
                size_t n_loops = 0;

                if (rec->kind != LAYOUT_DEVICE_VBD)
                        continue;
                /* Another's loop device on our file: known only by what the host says it serves. */
                if (mine.ino != 0) {
                        r = builder_disk_find_loops(m->builder, mine.dev, mine.ino, &loops,
                                                    &n_loops, err_r);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < n_bes; i++)
                        if (attach_backend_conflicts(&mine, &bes[i], loops, n_loops)) {
                                foreign_describe(m, k, bes[i].domid, h);
                                return 1;
                        }
        }
        return 0;
}

/* The supervised holder first (no request), then another toolstack's. */
static int find_holder(struct manager *m, const struct domain *d, struct disk_range range,
                       struct domain_disk_holder *h, char **err_r)
{
        bool any_disk = false;

        for (size_t k = range.from; k < range.to; k++)
                any_disk = any_disk || d->devices[k].rec.kind == LAYOUT_DEVICE_VBD;
        if (!any_disk)
                return 0;
        if (supervised_holder(m, d, range, h))
                return 1;
        return foreign_holder(m, d, range, h, err_r);
}

int domain_devices_disk_holder(struct manager *m, const struct domain *d,
                               struct domain_disk_holder *h, char **err_r)
{
        return find_holder(m, d, (struct disk_range){ 0, d->n_devices }, h, err_r);
}

int domain_devices_disk_holder_of(struct manager *m, const struct domain *d, size_t which,
                                  struct domain_disk_holder *h, char **err_r)
{
        if (which >= d->n_devices)
                return 0;
        return find_holder(m, d, (struct disk_range){ which, which + 1 }, h, err_r);
}
