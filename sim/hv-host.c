/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-host.c — the simulated dom0's devices: loop devices (major 7, the
 * lowest free minor, as LOOP_CTL_GET_FREE), bridges given on the command
 * line, and the vif interfaces netback creates. What the builder's host side
 * does to them (builders/host-linux.h on a real host) arrives as LOOP_* and
 * VIF_* requests; the rules are the kernel's, as far as a toolstack can tell.
 */
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sim/hv-internal.h"

#define ETH_MIN_MTU     68
#define ETH_MAX_MTU     65535
#define ETH_DEFAULT_MTU 1500

static const uint8_t netback_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- loop devices ---- */

static struct hv_loop *loop_get(struct hypervisor *hv, uint32_t minor)
{
        return minor < hv->n_loops && hv->loops[minor].used ? &hv->loops[minor] : NULL;
}

/* The lowest free minor, growing the table when every slot is taken. */
static int loop_alloc(struct hypervisor *hv, uint32_t *minor_r)
{
        struct hv_loop *grown;
        unsigned n;

        for (uint32_t m = 0; m < hv->n_loops; m++)
                if (!hv->loops[m].used) {
                        *minor_r = m;
                        return 0;
                }
        if (hv->n_loops >= HV_LOOPS_MAX)
                return -ENOSPC;
        n = hv->n_loops ? hv->n_loops * 2 : 8;
        grown = reallocarray(hv->loops, n, sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        memset(grown + hv->n_loops, 0, (n - hv->n_loops) * sizeof(*grown));
        *minor_r = hv->n_loops;
        hv->loops = grown;
        hv->n_loops = n;
        return 0;
}

static void loop_free(struct hypervisor *hv, uint32_t minor)
{
        hv->loops[minor] = (struct hv_loop){ 0 };
        fprintf(stderr, "xensup-sim: loop%u: detached\n", minor);
}

int hv_loop_attach(struct hypervisor *hv, const struct hv_req_loop_attach *req,
                   struct hv_rep_loop_attach *rep)
{
        uint32_t minor;
        int r;

        memset(rep, 0, sizeof(*rep));
        if (req->readonly > 1)
                return -EINVAL;
        if (S_ISBLK(req->mode)) {
                /* blkback opens a block device as it is: no loop device in between. */
                if (major(req->rdev) == 0)
                        return -EINVAL;
                rep->major = major(req->rdev);
                rep->minor = minor(req->rdev);
                return 0;
        }
        if (!S_ISREG(req->mode))
                return -EINVAL; /* LOOP_CONFIGURE takes a file or a block device only */
        r = loop_alloc(hv, &minor);
        if (r < 0)
                return r;
        hv->loops[minor] = (struct hv_loop){
                .used = true,
                .readonly = req->readonly,
                .dev = req->dev,
                .ino = req->ino,
                .size = req->size,
        };
        rep->major = HV_LOOP_MAJOR;
        rep->minor = minor;
        fprintf(stderr, "xensup-sim: loop%u: attached to dev %llu ino %llu%s\n", minor,
                (unsigned long long)req->dev, (unsigned long long)req->ino,
                req->readonly ? " read-only" : "");
        return 0;
}

int hv_loop_release(struct hypervisor *hv, const struct hv_req_loop_release *req)
{
        struct hv_loop *l = loop_get(hv, req->minor);

        /* Free, or bound to another file since: someone else's now, left alone. */
        if (!l || l->dev != req->dev || l->ino != req->ino)
                return 0;
        if (l->opened > 0) {
                l->autoclear = true;
                return 0;
        }
        loop_free(hv, req->minor);
        return 0;
}

int hv_loop_open(struct hypervisor *hv, uint32_t minor)
{
        struct hv_loop *l = loop_get(hv, minor);

        if (!l)
                return -ENXIO;
        l->opened++;
        return 0;
}

void hv_loop_close(struct hypervisor *hv, uint32_t minor)
{
        struct hv_loop *l = loop_get(hv, minor);

        if (!l || l->opened == 0)
                return;
        if (--l->opened == 0 && l->autoclear)
                loop_free(hv, minor);
}

/* ---- interfaces ---- */

/* The kernel's dev_valid_name(). */
static bool ifname_valid(const char *name)
{
        size_t len = strnlen(name, HV_IFNAME_SIZE);

        if (len == 0 || len >= HV_IFNAME_SIZE || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (name[i] == '/' || name[i] == ':' || name[i] <= ' ' || name[i] == 0x7f)
                        return false;
        return true;
}

struct hv_netdev *hv_netdev_find(struct hypervisor *hv, const char *name)
{
        for (struct hv_netdev *n = hv->netdevs; n; n = n->next)
                if (strcmp(n->name, name) == 0)
                        return n;
        return NULL;
}

/* A new interface at the end of the list: ifindexes only grow. */
static int netdev_new(struct hypervisor *hv, const char *name, struct hv_netdev **ret)
{
        struct hv_netdev *n, **tail = &hv->netdevs;

        if (!ifname_valid(name))
                return -EINVAL;
        if (hv_netdev_find(hv, name))
                return -EEXIST;
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->ifindex = ++hv->next_ifindex;
        strcpy(n->name, name);
        n->mtu = ETH_DEFAULT_MTU;
        while (*tail)
                tail = &(*tail)->next;
        *tail = n;
        *ret = n;
        return 0;
}

int hv_netdev_new_vif(struct hypervisor *hv, const char *name, struct hv_netdev **ret)
{
        struct hv_netdev *n;
        int r;

        r = netdev_new(hv, name, &n);
        if (r < 0)
                return r;
        memcpy(n->mac, netback_mac, sizeof(n->mac));
        fprintf(stderr, "xensup-sim: %s: created\n", name);
        *ret = n;
        return 0;
}

void hv_netdev_free(struct hypervisor *hv, struct hv_netdev *n)
{
        for (struct hv_netdev **p = &hv->netdevs; *p; p = &(*p)->next)
                if (*p == n) {
                        *p = n->next;
                        break;
                }
        if (!n->bridge)
                fprintf(stderr, "xensup-sim: %s: removed\n", n->name);
        free(n);
}

int hypervisor_add_bridge(struct hypervisor *hv, const char *name)
{
        struct hv_netdev *n;
        int r;

        if (strlen(name) >= HV_IFNAME_SIZE)
                return -EINVAL;
        r = netdev_new(hv, name, &n);
        if (r < 0)
                return r;
        n->bridge = true;
        n->up = true;
        /* A locally administered address of its own, as a bridge without ports gets. */
        n->mac[0] = 0x02;
        n->mac[4] = (uint8_t)(n->ifindex >> 8);
        n->mac[5] = (uint8_t)n->ifindex;
        return 0;
}

void hv_host_done(struct hypervisor *hv)
{
        while (hv->netdevs) {
                struct hv_netdev *n = hv->netdevs;

                hv->netdevs = n->next;
                free(n);
        }
        free(hv->loops);
        hv->loops = NULL;
        hv->n_loops = 0;
}

/* Everything VIF_PLUG will do checked first, so a failure changes nothing. */
static int vif_plug_check(struct hypervisor *hv, const struct hv_req_vif_plug *req,
                          struct hv_netdev **vif_r, struct hv_netdev **br_r, unsigned *mtu_r)
{
        struct hv_netdev *vif, *br;
        unsigned mtu;

        if (!ifname_valid(req->ifname) || !ifname_valid(req->bridge))
                return -EINVAL;
        if (req->rename[0] && !ifname_valid(req->rename))
                return -EINVAL;
        vif = hv_netdev_find(hv, req->ifname);
        if (!vif)
                return HV_VIF_ABSENT;
        if (vif->bridge)
                return -EINVAL; /* a bridge is no port */
        br = hv_netdev_find(hv, req->bridge);
        if (!br || !br->bridge)
                return -ENODEV;
        if (req->rename[0] && strcmp(req->rename, req->ifname) != 0 &&
            hv_netdev_find(hv, req->rename))
                return -EEXIST;
        mtu = req->mtu ? req->mtu : br->mtu;
        if (mtu < ETH_MIN_MTU || mtu > ETH_MAX_MTU)
                return -EINVAL;
        *vif_r = vif;
        *br_r = br;
        *mtu_r = mtu;
        return 0;
}

int hv_vif_plug(struct hypervisor *hv, const struct hv_req_vif_plug *req,
                struct hv_rep_vif_plug *rep)
{
        struct hv_netdev *vif = NULL, *br = NULL;
        unsigned mtu = 0;
        int r;

        memset(rep, 0, sizeof(*rep));
        r = vif_plug_check(hv, req, &vif, &br, &mtu);
        if (r != 0)
                return r;
        /* vif-bridge's order: down, rename, MAC, MTU, into the bridge, up. */
        if (req->rename[0])
                strcpy(vif->name, req->rename);
        memcpy(vif->mac, netback_mac, sizeof(vif->mac));
        vif->mtu = mtu;
        strcpy(vif->master, br->name);
        vif->up = true;
        rep->mtu = mtu;
        fprintf(stderr, "xensup-sim: %s: in bridge %s, mtu %u, up\n", vif->name, br->name, mtu);
        return 0;
}

int hv_vif_unplug(struct hypervisor *hv, const struct hv_req_vif_unplug *req)
{
        struct hv_netdev *vif;

        if (!ifname_valid(req->ifname))
                return -EINVAL;
        vif = hv_netdev_find(hv, req->ifname);
        if (!vif)
                return 0; /* netback removed it already: nothing left to undo */
        if (vif->bridge)
                return -EINVAL;
        vif->up = false;
        vif->master[0] = 0;
        return 0;
}

/* ---- HOST_LIST ---- */

static size_t list_loops(struct hypervisor *hv, uint32_t first, uint32_t max, uint8_t *out)
{
        struct hv_loop_info *e = (struct hv_loop_info *)out;
        size_t n = 0;

        for (uint32_t m = first; m < hv->n_loops && n < max; m++) {
                const struct hv_loop *l = &hv->loops[m];

                if (!l->used)
                        continue;
                e[n++] = (struct hv_loop_info){
                        .minor = m,
                        .flags = (l->readonly ? HV_LOOP_READONLY : 0) |
                                 (l->opened ? HV_LOOP_OPEN : 0) |
                                 (l->autoclear ? HV_LOOP_AUTOCLEAR : 0),
                        .dev = l->dev,
                        .ino = l->ino,
                        .size = l->size,
                };
        }
        return n * sizeof(*e);
}

static size_t list_netdevs(struct hypervisor *hv, uint32_t first, uint32_t max, uint8_t *out)
{
        struct hv_netdev_info *e = (struct hv_netdev_info *)out;
        size_t n = 0;

        for (const struct hv_netdev *d = hv->netdevs; d && n < max; d = d->next) {
                if (d->ifindex < first)
                        continue;
                e[n] = (struct hv_netdev_info){
                        .ifindex = d->ifindex,
                        .flags = (d->up ? HV_NETDEV_UP : 0) | (d->bridge ? HV_NETDEV_BRIDGE : 0),
                        .mtu = d->mtu,
                };
                strcpy(e[n].name, d->name);
                strcpy(e[n].master, d->master);
                memcpy(e[n].mac, d->mac, sizeof(d->mac));
                n++;
        }
        return n * sizeof(*e);
}

int hv_host_list(struct hypervisor *hv, const struct hv_req_host_list *req, uint8_t *out,
                 size_t *len_r)
{
        struct hv_rep_host_list *rep = (struct hv_rep_host_list *)out;
        uint8_t *entries = out + sizeof(*rep);
        size_t len;

        if (req->max == 0 || req->max > HV_HOST_BATCH)
                return -EINVAL;
        if (req->what == HV_HOST_LOOPS) {
                len = list_loops(hv, req->first, req->max, entries);
                rep->n = (uint32_t)(len / sizeof(struct hv_loop_info));
        } else if (req->what == HV_HOST_NETDEVS) {
                len = list_netdevs(hv, req->first, req->max, entries);
                rep->n = (uint32_t)(len / sizeof(struct hv_netdev_info));
        } else
                return -EINVAL;
        rep->reserved = 0;
        *len_r = sizeof(*rep) + len;
        return 0;
}
