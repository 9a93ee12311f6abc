/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "supervisor/attach.h"
#include "supervisor/polkit.h"
#include "supervisor/script.h"

const char *attach_device_name(const struct layout_device *dev, bool with_domid,
                               char buf[ATTACH_NAME_MAX])
{
        char of[32] = "";

        if (with_domid)
                snprintf(of, sizeof(of), " of domid %" PRIu32, dev->domid);
        if (dev->kind == LAYOUT_DEVICE_VBD)
                snprintf(buf, ATTACH_NAME_MAX, "disk %s (vbd %" PRIu32 ")%s", dev->vdev, dev->devid,
                         of);
        else
                snprintf(buf, ATTACH_NAME_MAX, "vif %" PRIu32 " (%s)%s", dev->devid, dev->ifname,
                         of);
        return buf;
}

/* The name a message of this module gives dev: with its instance. */
static const char *device_name(const struct layout_device *dev, char buf[ATTACH_NAME_MAX])
{
        return attach_device_name(dev, true, buf);
}

struct attach_disk_id attach_disk_id_of(const struct layout_device *dev)
{
        /* A file's record carries its identity from the add on, before any loop device. */
        if (dev->loop || (!dev->connected && dev->backing_ino != 0))
                return (struct attach_disk_id){ .dev = dev->backing_dev,
                                                .ino = dev->backing_ino,
                                                .readonly = dev->readonly };
        return (struct attach_disk_id){ .dev = makedev(dev->major, dev->minor),
                                        .readonly = dev->readonly };
}

bool attach_disks_conflict(const struct attach_disk_id *a, const struct attach_disk_id *b)
{
        return a->dev == b->dev && a->ino == b->ino && !(a->readonly && b->readonly);
}

bool attach_backend_conflicts(const struct attach_disk_id *mine,
                              const struct layout_vbd_backend *be, const struct builder_loop *loops,
                              size_t n_loops)
{
        bool same = false;

        if (!be->has_device)
                return false;
        if (mine->ino == 0)
                same = makedev(be->major, be->minor) == mine->dev;
        for (size_t i = 0; mine->ino != 0 && i < n_loops && !same; i++)
                same = loops[i].major == be->major && loops[i].minor == be->minor;
        return same && (be->writes || !mine->readonly);
}

int attach_generate_mac(uint8_t mac[6])
{
        uint8_t r[3];

        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
                return -errno;
        mac[0] = 0x00;
        mac[1] = 0x16;
        mac[2] = 0x3e;
        /* The top bit clear, as libxl: the other half of the OUI's space is Xen's own. */
        mac[3] = r[0] & 0x7f;
        mac[4] = r[1];
        mac[5] = r[2];
        return 0;
}

/*
 * Whether dev's record may leave a loop device it does not name: a file disk of the native
 * work that is not connected. The build binds the loop device (LOOP_CONFIGURE) before the
 * connect writes it into the record, so a build or device job killed in between leaves one
 * that only the file it serves can find.
 */
static bool may_have_unrecorded_loop(const struct layout_device *dev)
{
        return dev->kind == LAYOUT_DEVICE_VBD && !dev->script[0] && !dev->connected && !dev->loop &&
               dev->backing_ino != 0;
}

/* Mark the loop device (major, minor) of loops[0..n) claimed, if it is one of them. */
static void loop_claim(const struct builder_loop *loops, bool *claimed, size_t n, uint32_t major,
                       uint32_t minor)
{
        for (size_t i = 0; i < n; i++)
                if (loops[i].major == major && loops[i].minor == minor)
                        claimed[i] = true;
}

/*
 * The loop devices every vbd backend names (anyone's: xl's too), and whether one still waits
 * for its hotplug script on dev's target: that one may own a loop device nobody names yet.
 */
static int claims_of_backends(struct layout *l, const struct layout_device *dev,
                              const struct builder_loop *loops, bool *claimed, size_t n,
                              bool *pending_r, char **err_r)
{
        _cleanup_free_ struct layout_vbd_backend *bes = NULL;
        _cleanup_free_ uint32_t *domids = NULL;
        size_t n_domids = 0, n_bes = 0;
        int r;

        r = layout_device_backend_domids(l, LAYOUT_DEVICE_VBD, &domids, &n_domids, err_r);
        if (r >= 0)
                r = layout_vbd_backends(l, domids, n_domids, &bes, &n_bes, err_r);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_bes; i++) {
                if (bes[i].domid == dev->domid && bes[i].devid == dev->devid)
                        continue; /* dev's own, being torn down */
                if (bes[i].has_device)
                        loop_claim(loops, claimed, n, bes[i].major, bes[i].minor);
                else if (strcmp(bes[i].params, dev->target) == 0)
                        *pending_r = true;
        }
        return 0;
}

/*
 * The loop devices our records name, and whether another record of ours on dev's file is not
 * connected yet (its build may have bound the loop device it has not written down).
 */
static int claims_of_records(struct layout *l, const uint8_t uuid[16],
                             const struct layout_device *dev, const struct builder_loop *loops,
                             bool *claimed, size_t n, bool *pending_r, char **err_r)
{
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        size_t n_uuids = 0;
        int r;

        r = layout_list_states(l, &uuids, &n_uuids, err_r);
        if (r < 0)
                return r;
        for (size_t u = 0; u < n_uuids; u++) {
                _cleanup_free_ struct layout_device *recs = NULL;
                size_t n_recs = 0;

                /* A record that does not read back claims nothing it could prove. */
                r = layout_device_list(l, uuids[u], &recs, &n_recs, NULL);
                if (r < 0)
                        return err_setf(err_r, r, "cannot read the device records: %s",
                                        strerror(-r));
                for (size_t i = 0; i < n_recs; i++) {
                        const struct layout_device *o = &recs[i];

                        if (o->kind != LAYOUT_DEVICE_VBD ||
                            (memcmp(uuids[u], uuid, 16) == 0 && o->devid == dev->devid))
                                continue;
                        if (o->connected && o->loop)
                                loop_claim(loops, claimed, n, o->major, o->minor);
                        else if (may_have_unrecorded_loop(o) &&
                                 o->backing_dev == dev->backing_dev &&
                                 o->backing_ino == dev->backing_ino)
                                *pending_r = true;
                }
        }
        return 0;
}

/*
 * Free what a killed build or device job bound for dev and could not write down (see
 * may_have_unrecorded_loop()): each loop device on dev's file that nothing claims, neither a
 * vbd backend nor a record of ours, nor a use XenStore does not show (a mount). Read-only
 * sharing makes several loop devices on one file legitimate, so they are told apart by who
 * names them. When another use of the file is half-way, one of them may be its: none is
 * freed then (-EBUSY, saying so), rather than the wrong one. XenStore is read only when the
 * host has a loop device on the file at all.
 */
static int release_unrecorded_loops(struct builder *b, struct layout *l, const uint8_t uuid[16],
                                    const struct layout_device *dev, char **err_r)
{
        _cleanup_free_ struct builder_loop *loops = NULL;
        _cleanup_free_ bool *claimed = NULL;
        bool pending = false, unclaimed = false;
        size_t n = 0;
        int r;

        r = builder_disk_find_loops(b, dev->backing_dev, dev->backing_ino, &loops, &n, err_r);
        if (r < 0 || n == 0)
                return r;
        claimed = calloc(n, sizeof(*claimed));
        if (!claimed)
                return err_setf(err_r, -ENOMEM, "out of memory");
        r = claims_of_backends(l, dev, loops, claimed, n, &pending, err_r);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                unclaimed = unclaimed || (!claimed[i] && !loops[i].busy);
        /* The backends name them all, as they do but for a leftover: no record need be read. */
        if (!unclaimed)
                return 0;
        if (!pending) {
                r = claims_of_records(l, uuid, dev, loops, claimed, n, &pending, err_r);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                struct builder_disk_host h = {
                        .major = loops[i].major,
                        .minor = loops[i].minor,
                        .loop = true,
                        .backing_dev = dev->backing_dev,
                        .backing_ino = dev->backing_ino,
                };

                if (claimed[i] || loops[i].busy)
                        continue;
                snprintf(h.device, sizeof(h.device), "/dev/loop%" PRIu32, loops[i].minor);
                if (pending)
                        return err_setf(err_r, -EBUSY,
                                        "%s on %s is left bound: another use of that file is "
                                        "being set up and may own it",
                                        h.device, dev->target);
                r = builder_disk_release(b, &h, err_r);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Release the host side of dev: what its record says was set up. */
static int host_release(struct builder *b, struct layout *l, const uint8_t uuid[16],
                        const struct layout_device *dev, char **err_r)
{
        /* The site's script undoes what it did, while the backend's nodes it reads still exist. */
        if (dev->script[0])
                return script_run(l, dev, false, SCRIPT_REMOVE_TIMEOUT_MS, err_r);
        if (dev->kind == LAYOUT_DEVICE_VIF)
                return builder_vif_unplug(b, dev->ifname, err_r);
        if (may_have_unrecorded_loop(dev))
                return release_unrecorded_loops(b, l, uuid, dev, err_r);
        if (!dev->loop)
                return 0;
        struct builder_disk_host h = {
                .major = dev->major,
                .minor = dev->minor,
                .loop = true,
                .backing_dev = dev->backing_dev,
                .backing_ino = dev->backing_ino,
        };
        snprintf(h.device, sizeof(h.device), "%s", dev->device);
        return builder_disk_release(b, &h, err_r);
}

/* Tear down one device, forced; the first failure's message in *err_r. */
static int teardown_one(struct builder *b, struct layout *l, const uint8_t uuid[16],
                        const struct layout_device *dev, char **err_r)
{
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        char name[ATTACH_NAME_MAX];
        int r1, r2, r3;

        /* The frontend first: the backend then closes on its own and lets go of the grants. */
        r1 = layout_device_close(l, dev, true, &e1);
        r2 = host_release(b, l, uuid, dev, &e2);
        r3 = layout_device_remove(l, uuid, dev, &e3);
        if (r1 < 0)
                return err_setf(err_r, r1, "%s: %s", device_name(dev, name), e1);
        if (r2 < 0)
                return err_setf(err_r, r2, "%s: %s", device_name(dev, name), e2);
        if (r3 < 0)
                return err_setf(err_r, r3, "%s: %s", device_name(dev, name), e3);
        return 0;
}

/* Tear down the devices of uuid's records that pick() keeps; the first failure is returned. */
int attach_teardown_devices(struct builder *b, struct layout *l, const uint8_t uuid[16],
                            const struct layout_device *devs, size_t n, char **err_r)
{
        int first = 0;

        /* Reverse order: the vifs, then the disks, the last added first. */
        for (size_t i = n; i-- > 0;) {
                _cleanup_free_ char *e = NULL;
                int r = teardown_one(b, l, uuid, &devs[i], &e);

                if (r < 0 && first == 0) {
                        first = r;
                        err_setf(err_r, r, "%s", e);
                }
        }
        return first;
}

/*
 * Tear down the devices of uuid's records (incoming: its incoming instance's) of instance domid
 * (all_but: of every other one).
 */
static int teardown_where(struct builder *b, struct layout *l, const uint8_t uuid[16],
                          bool incoming, uint32_t domid, bool all_but, char **err_r)
{
        _cleanup_free_ struct layout_device *devs = NULL;
        _cleanup_free_ char *list_err = NULL;
        size_t n = 0, k = 0;
        int r;

        r = incoming ? layout_device_list_incoming(l, uuid, &devs, &n, &list_err)
                     : layout_device_list(l, uuid, &devs, &n, &list_err);
        if (r < 0)
                return err_setf(err_r, r, "%s", list_err);
        for (size_t i = 0; i < n; i++)
                if ((devs[i].domid == domid) != all_but)
                        devs[k++] = devs[i];
        r = attach_teardown_devices(b, l, uuid, devs, k, err_r);
        if (r == 0 && list_err)
                return err_setf(err_r, -EBADMSG, "%s", list_err);
        return r;
}

int attach_detach(struct builder *b, struct layout *l, const uint8_t uuid[16],
                  const struct layout_device *dev, bool force, unsigned timeout_ms, bool *forced_r,
                  char **err_r)
{
        _cleanup_free_ char *e = NULL;
        char name[ATTACH_NAME_MAX];
        int r;

        *forced_r = force;
        if (!force) {
                /* Asked, as libxl's hot-unplug: the frontend sees Closing and closes. */
                r = layout_device_close(l, dev, false, &e);
                if (r >= 0)
                        r = layout_device_wait_closed(l, dev, timeout_ms, &e);
                if (r == -ETIMEDOUT)
                        *forced_r = true;
                else if (r < 0)
                        return err_setf(err_r, r, "%s: %s", device_name(dev, name), e);
        }
        /* A frontend that never closes (or force) loses its directory; the backend lets go. */
        return teardown_one(b, l, uuid, dev, err_r);
}

int attach_teardown(struct builder *b, struct layout *l, const uint8_t uuid[16], uint32_t domid,
                    char **err_r)
{
        return teardown_where(b, l, uuid, false, domid, false, err_r);
}

int attach_teardown_incoming(struct builder *b, struct layout *l, const uint8_t uuid[16],
                             char **err_r)
{
        int r = teardown_where(b, l, uuid, true, 0, true, err_r);

        /* Their parents (incoming/device/<kind>) are left by the removals: the tree goes. */
        if (r >= 0)
                r = layout_device_remove_incoming(l, uuid, err_r);
        return r;
}

int attach_teardown_others(struct builder *b, struct layout *l, const uint8_t uuid[16],
                           uint32_t live_domid, char **err_r)
{
        return teardown_where(b, l, uuid, false, live_domid, true, err_r);
}

/* The disk's host side: a loop device on the target (fd) for a file, the device itself else. */
static int disk_host_up(struct builder *b, int target_fd, struct layout_device *dev, char **err_r)
{
        struct builder_disk_host h;
        int r;

        r = builder_disk_attach(b, target_fd, dev->readonly, dev->target, &h, err_r);
        if (r < 0)
                return r;
        dev->major = h.major;
        dev->minor = h.minor;
        dev->loop = h.loop;
        dev->backing_dev = h.backing_dev;
        dev->backing_ino = h.backing_ino;
        snprintf(dev->device, sizeof(dev->device), "%s", h.device);
        return 0;
}

static int vif_host_up(struct builder *b, struct layout_device *dev, char **err_r)
{
        char netback_name[IFNAME_MAX + 1];
        struct builder_vif_host v = { .ifname = netback_name,
                                      .rename = dev->vifname[0] ? dev->vifname : NULL,
                                      .bridge = dev->bridge,
                                      .mtu = dev->mtu };

        /* netback names it vif<domid>.<handle>; vifname= renames it. */
        snprintf(netback_name, sizeof(netback_name), "vif%" PRIu32 ".%" PRIu32, dev->domid,
                 dev->devid);
        return builder_vif_plug(b, &v, &dev->mtu, err_r);
}

/*
 * The site's script brings it up; for a disk, what it gave blkback (physical-device) is read
 * back for the record, so the sharing check knows the disk. Undone by its remove on failure.
 */
static int script_host_up(struct layout *l, struct layout_device *dev, char **err_r)
{
        char v[LAYOUT_DEVICE_NODE_MAX];
        unsigned major, minor;
        int r, n = 0;

        r = script_run(l, dev, true, SCRIPT_TIMEOUT_MS, err_r);
        if (r < 0)
                return r;
        /* netback waits for it before Connected: a script that forgot it hangs the guest's link. */
        if (layout_device_backend_node(l, dev, "hotplug-status", v, sizeof(v), NULL) < 0 ||
            strcmp(v, "connected") != 0) {
                (void)script_run(l, dev, false, SCRIPT_REMOVE_TIMEOUT_MS, NULL);
                return err_setf(err_r, -EIO,
                                "script %s %s succeeded but did not write hotplug-status = "
                                "connected, which the backend waits for",
                                dev->script, dev->kind == LAYOUT_DEVICE_VBD ? "add" : "online");
        }
        if (dev->kind != LAYOUT_DEVICE_VBD)
                return 0;
        if (layout_device_backend_node(l, dev, "physical-device", v, sizeof(v), NULL) < 0 ||
            sscanf(v, "%x:%x%n", &major, &minor, &n) != 2 || v[n] != '\0') {
                (void)script_run(l, dev, false, SCRIPT_REMOVE_TIMEOUT_MS, NULL);
                return err_setf(err_r, -EIO,
                                "script %s add succeeded but wrote no physical-device (hex "
                                "major:minor) for blkback",
                                dev->script);
        }
        dev->major = major;
        dev->minor = minor;
        if (layout_device_backend_node(l, dev, "physical-device-path", v, sizeof(v), NULL) == 0)
                snprintf(dev->device, sizeof(dev->device), "%s", v);
        return 0;
}

/* Bring one added device up: InitWait, the host side, connected. */
static int bring_up(struct builder *b, struct layout *l, const uint8_t uuid[16],
                    const struct attach_options *o, int target_fd, struct layout_device *dev,
                    char **err_r)
{
        int r, state;

        r = layout_device_wait_backend(l, dev, XENBUS_INIT_WAIT, o->timeout_ms, &state, err_r);
        if (r < 0)
                return r;
        if (dev->script[0])
                r = script_host_up(l, dev, err_r);
        else if (dev->kind == LAYOUT_DEVICE_VBD)
                r = disk_host_up(b, target_fd, dev, err_r);
        else
                r = vif_host_up(b, dev, err_r);
        if (r < 0)
                return r;
        r = layout_device_connect(l, uuid, dev, err_r);
        if (r < 0) {
                /* Not recorded as set up: release it here, or nobody would. */
                (void)host_release(b, l, uuid, dev, NULL);
                return r;
        }
        return 0;
}

/*
 * A guest gets a block device of the host, or a port on a host bridge, only from whoever may
 * hand out host devices (root, or the host-devices authorization): file rights alone never do.
 */
static int check_host_devices(const struct creds *as, const struct layout_device *dev, int fd,
                              char **err_r)
{
        struct stat st;
        char name[ATTACH_NAME_MAX];

        if (as->host_devices)
                return 0;
        if (dev->script[0])
                return err_setf(err_r, -EACCES,
                                "%s: its script %s runs as root on the host: uid %u needs the %s "
                                "authorization",
                                device_name(dev, name), dev->script, (unsigned)as->uid,
                                POLKIT_ACTION_HOST_DEVICES);
        if (dev->kind == LAYOUT_DEVICE_VIF)
                return err_setf(err_r, -EACCES,
                                "%s: a port on the host's bridge %s is a host device: uid %u needs "
                                "the %s authorization",
                                device_name(dev, name), dev->bridge, (unsigned)as->uid,
                                POLKIT_ACTION_HOST_DEVICES);
        if (fd < 0)
                return 0;
        if (fstat(fd, &st) < 0)
                return err_setf(err_r, -errno, "%s: %s", device_name(dev, name), strerror(errno));
        if (S_ISBLK(st.st_mode))
                return err_setf(err_r, -EACCES,
                                "%s: %s is a block device of the host: uid %u needs the %s "
                                "authorization to give it to a guest",
                                device_name(dev, name), dev->target, (unsigned)as->uid,
                                POLKIT_ACTION_HOST_DEVICES);
        return 0;
}

/*
 * A file's st_dev and st_ino go into the record from the add on, before any loop device: what
 * finds the loop device a build killed before its connect leaves (release_unrecorded_loops()).
 * A block device's number is recorded at the connect, as it is.
 */
static int record_file_identity(int fd, struct layout_device *dev, char **err_r)
{
        struct stat st;
        char name[ATTACH_NAME_MAX];

        if (fd < 0)
                return 0;
        if (fstat(fd, &st) < 0)
                return err_setf(err_r, -errno, "%s: %s", device_name(dev, name), strerror(errno));
        if (S_ISREG(st.st_mode)) {
                dev->backing_dev = st.st_dev;
                dev->backing_ino = st.st_ino;
        }
        return 0;
}

/*
 * Add and bring up one device; on failure it is torn down again and the message names it. A
 * disk's target is opened first, with its owner's rights: a file they may not use is refused
 * before anything exists.
 */
int attach_device(struct builder *b, struct layout *l, const uint8_t uuid[16],
                  const struct attach_options *o, struct layout_device *dev, char **err_r)
{
        _cleanup_free_ char *e = NULL;
        _cleanup_close_ int fd = -1;
        char name[ATTACH_NAME_MAX];
        int r;

        /* With a script the target is the script's to interpret (an iSCSI name, a volume). */
        if (dev->kind == LAYOUT_DEVICE_VBD && !dev->script[0]) {
                fd = creds_open_target(o->files_as, "target", dev->target, !dev->readonly, &e);
                if (fd < 0)
                        return err_setf(err_r, fd, "%s: %s", device_name(dev, name), e);
        }
        r = check_host_devices(o->files_as, dev, fd, err_r);
        if (r < 0)
                return r;
        r = record_file_identity(fd, dev, err_r);
        if (r < 0)
                return r;
        r = layout_device_add(l, uuid, dev, &e);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", device_name(dev, name), e);
        r = bring_up(b, l, uuid, o, fd, dev, &e);
        if (r < 0) {
                (void)layout_device_close(l, dev, true, NULL);
                /* A loop device bound without an answer (a host side that timed out) goes too. */
                if (may_have_unrecorded_loop(dev))
                        (void)release_unrecorded_loops(b, l, uuid, dev, NULL);
                (void)layout_device_remove(l, uuid, dev, NULL);
                return err_setf(err_r, r, "%s: %s", device_name(dev, name), e ? e : strerror(-r));
        }
        return 0;
}

int attach_resolve_script(const char *script, struct layout_device *dev, char **err_r)
{
        _cleanup_free_ char *e = NULL;
        char name[ATTACH_NAME_MAX];
        int r;

        dev->script[0] = '\0';
        if (!script)
                return 0;
        r = script_resolve(script, dev->script, &e);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", device_name(dev, name), e);
        return 0;
}

/* The device a config entry makes: disks first, then vifs, each in file order. */
static int device_of_entry(const struct domain_config *cfg, uint32_t domid, size_t i,
                           const struct attach_options *o, struct layout_device *dev, char **err_r)
{
        if (i < cfg->n_disks) {
                if (layout_device_from_disk(dev, domid, &cfg->disks[i]) < 0)
                        return err_setf(err_r, -ENAMETOOLONG, "disk %s: target too long",
                                        cfg->disks[i].vdev);
                return attach_resolve_script(cfg->disks[i].script, dev, err_r);
        }
        const struct vif_config *v = &cfg->vifs[i - cfg->n_disks];

        if (!v->has_mac)
                return err_setf(err_r, -EINVAL, "vif %zu: no MAC was given or kept",
                                i - cfg->n_disks);
        if (layout_device_from_vif(dev, domid, (uint32_t)(i - cfg->n_disks), v, v->mac,
                                   o->default_bridge) < 0)
                return err_setf(err_r, -ENAMETOOLONG, "vif %zu: a name is too long",
                                i - cfg->n_disks);
        return attach_resolve_script(v->script, dev, err_r);
}

int attach_all(struct builder *b, struct layout *l, const uint8_t uuid[16], uint32_t domid,
               const struct domain_config *cfg, const struct attach_options *o, char **err_r)
{
        size_t n = cfg->n_disks + cfg->n_vifs;
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                struct layout_device dev;

                r = device_of_entry(cfg, domid, i, o, &dev, err_r);
                dev.incoming = o->incoming;
                if (r >= 0)
                        r = attach_device(b, l, uuid, o, &dev, err_r);
                if (r < 0)
                        break;
        }
        /* Every device added before this one goes too: nothing is left half-done. */
        if (r < 0)
                (void)teardown_where(b, l, uuid, o->incoming, domid, false, NULL);
        return r;
}

/* As root, only to know whether to ask: the build opens it as its owner, and checks again. */
static bool target_is_block_device(const char *target)
{
        struct stat st;

        return target && stat(target, &st) == 0 && S_ISBLK(st.st_mode);
}

bool attach_needs_host_devices(const struct domain_config *cfg)
{
        if (cfg->n_vifs > 0)
                return true;
        for (size_t i = 0; i < cfg->n_disks; i++)
                if (cfg->disks[i].script || target_is_block_device(cfg->disks[i].target))
                        return true;
        return false;
}

bool attach_spec_needs_host_devices(enum layout_device_kind kind, const char *spec)
{
        char error[DEVICE_ERROR_MAX];
        struct disk_config disk;
        bool needs;

        if (kind == LAYOUT_DEVICE_VIF)
                return true;
        /* A spec that does not parse is refused later, with its message. */
        if (disk_parse(spec, &disk, error) < 0)
                return false;
        needs = disk.script || target_is_block_device(disk.target);
        disk_config_done(&disk);
        return needs;
}
