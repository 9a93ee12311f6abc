/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout/devices.c against the embedded XenStore server (a fresh xensup-sim
 * per test) through the real libxenstore: the vbd and vif nodes with their
 * ACLs as a second client reads them back, what the guest may and may not
 * write, the record's round trip, close and remove, and the waits.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xenstore.h>

#include "common/macros.h"
#include "layout/acl.h"
#include "layout/devices.h"
#include "layout/layout.h"
#include "layout/sim-child.h"
#include "tests/xs-test.h"

#define UUID_A "5ee01c7a-0d3b-4c52-9f1e-33406b2a9107"
#define DOMID  5

static const uint8_t uuid_a[16] = { 0x5e, 0xe0, 0x1c, 0x7a, 0x0d, 0x3b, 0x4c, 0x52,
                                    0x9f, 0x1e, 0x33, 0x40, 0x6b, 0x2a, 0x91, 0x07 };
static const uint8_t mac_a[6] = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 };

struct fixture {
        struct sim_child sim;
        struct layout *l;
        struct xs_handle *xs; /* a second dom0 client, for reading back */
        struct layout_device disk, nic;
};

static int setup(void **state)
{
        const char *build = getenv("XENSUP_BUILD");
        struct disk_config disk = { .devid = 51712,
                                    .vdev = (char *)"xvda",
                                    .target = (char *)"/srv/xen/web1.img" };
        struct vif_config vif = { .bridge = (char *)"xenbr1", .mtu = 9000 };
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *err = NULL;
        char sim[256];

        assert_non_null(f);
        snprintf(sim, sizeof(sim), "%s/xensup-sim", build ? build : "build");
        assert_int_equal(sim_child_start(&f->sim, sim, true), 0);
        assert_int_equal(layout_open(&f->l, &err), 0);
        f->xs = xs_open(XS_OPEN_SOCKETONLY);
        assert_non_null(f->xs);
        assert_int_equal(layout_device_from_disk(&f->disk, DOMID, &disk), 0);
        assert_int_equal(layout_device_from_vif(&f->nic, DOMID, 0, &vif, mac_a, "xenbr0"), 0);
        /* The domain's own directory, as layout_write_domain() leaves it. */
        assert_true(xs_mkdir(f->xs, XBT_NULL, "/local/domain/5/device"));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        layout_close(f->l);
        xs_close(f->xs);
        sim_child_stop(&f->sim);
        free(f);
        return 0;
}

static void assert_node(struct xs_handle *xs, const char *path, const char *want)
{
        _cleanup_free_ char *v = xs_test_read(xs, path);

        if (!v || strcmp(v, want) != 0)
                fail_msg("%s = \"%s\", want \"%s\"", path, v ? v : "(absent)", want);
}

static void assert_absent(struct xs_handle *xs, const char *path)
{
        _cleanup_free_ char *v = xs_test_read(xs, path);

        if (v)
                fail_msg("%s exists (\"%s\")", path, v);
}

static void assert_acl(struct xs_handle *xs, const char *path, const char *want)
{
        char buf[LAYOUT_ACL_STRLEN];

        xs_test_acl(xs, path, buf);
        if (strcmp(buf, want) != 0)
                fail_msg("%s has (%s), want (%s)", path, buf, want);
}

static void add(struct fixture *f, const struct layout_device *dev)
{
        _cleanup_free_ char *err = NULL;

        if (layout_device_add(f->l, uuid_a, dev, &err) != 0)
                fail_msg("add: %s", err ? err : "?");
}

#define FE_VBD "/local/domain/5/device/vbd/51712"
#define BE_VBD "/local/domain/0/backend/vbd/5/51712"
#define FE_VIF "/local/domain/5/device/vif/0"
#define BE_VIF "/local/domain/0/backend/vif/5/0"

static void test_vbd_nodes_and_acls(void **state)
{
        struct fixture *f = *state;

        add(f, &f->disk);
        /* The frontend is the guest's, the backend dom0's with the guest reading (DEVICES.md). */
        assert_acl(f->xs, FE_VBD, "n5,r0");
        assert_acl(f->xs, FE_VBD "/state", "n5,r0");
        assert_acl(f->xs, BE_VBD, "n0,r5");
        assert_acl(f->xs, BE_VBD "/mode", "n0,r5");
        assert_acl(f->xs, "/tool/xensup/" UUID_A "/device/vbd/51712", "n0");
        assert_node(f->xs, FE_VBD "/backend", BE_VBD);
        assert_node(f->xs, FE_VBD "/backend-id", "0");
        assert_node(f->xs, FE_VBD "/virtual-device", "51712");
        assert_node(f->xs, FE_VBD "/device-type", "disk");
        assert_node(f->xs, BE_VBD "/frontend", FE_VBD);
        assert_node(f->xs, BE_VBD "/frontend-id", "5");
        assert_node(f->xs, BE_VBD "/online", "1");
        assert_node(f->xs, BE_VBD "/dev", "xvda");
        assert_node(f->xs, BE_VBD "/type", "phy");
        assert_node(f->xs, BE_VBD "/mode", "w");
        assert_node(f->xs, BE_VBD "/params", "/srv/xen/web1.img");
        assert_node(f->xs, BE_VBD "/discard-enable", "1");
        assert_absent(f->xs, BE_VBD "/physical-device");
}

static void test_vif_nodes_and_acls(void **state)
{
        struct fixture *f = *state;

        add(f, &f->nic);
        assert_acl(f->xs, FE_VIF, "n5,r0");
        /* The MTU is the guest's to read, not to set. */
        assert_acl(f->xs, FE_VIF "/mtu", "n0,r5");
        assert_acl(f->xs, BE_VIF, "n0,r5");
        assert_node(f->xs, FE_VIF "/handle", "0");
        assert_node(f->xs, FE_VIF "/mac", "00:16:3e:01:02:03");
        assert_node(f->xs, BE_VIF "/mac", "00:16:3e:01:02:03");
        assert_node(f->xs, BE_VIF "/bridge", "xenbr1");
        assert_node(f->xs, BE_VIF "/handle", "0");
        assert_node(f->xs, BE_VIF "/script", "xensupd");
        assert_node(f->xs, BE_VIF "/type", "vif");
        assert_node(f->xs, BE_VIF "/hotplug-status", "");
        assert_absent(f->xs, BE_VIF "/vifname");
}

/* What the guest can reach: its frontend, yes; its backend, its MTU and the record, no. */
static void test_guest_rights(void **state)
{
        struct fixture *f = *state;
        struct xs_handle *g;
        _cleanup_free_ char *v = NULL;

        add(f, &f->disk);
        add(f, &f->nic);
        g = xs_test_open_guest(DOMID);
        assert_true(xs_write(g, XBT_NULL, FE_VBD "/ring-ref", "8", 1));
        assert_true(xs_write(g, XBT_NULL, FE_VBD "/state", "3", 1));
        assert_false(xs_write(g, XBT_NULL, BE_VBD "/mode", "r", 1));
        assert_false(xs_write(g, XBT_NULL, BE_VBD "/physical-device", "8:0", 3));
        assert_false(xs_write(g, XBT_NULL, FE_VIF "/mtu", "9", 1));
        v = xs_test_read(g, BE_VBD "/params");
        assert_non_null(v);
        assert_null(xs_test_read(g, "/tool/xensup/" UUID_A "/device/vbd/51712"));
        /* Another guest reads neither. */
        xs_close(g);
        g = xs_test_open_guest(DOMID + 1);
        assert_null(xs_test_read(g, FE_VBD "/state"));
        assert_null(xs_test_read(g, BE_VBD "/params"));
        xs_close(g);
}

static void test_add_twice_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct layout_device again = f->disk;

        add(f, &f->disk);
        strcpy(again.target, "/srv/xen/other.img");
        assert_int_equal(layout_device_add(f->l, uuid_a, &again, &err), -EEXIST);
        assert_non_null(strstr(err, "already exists"));
        assert_node(f->xs, BE_VBD "/params", "/srv/xen/web1.img");
}

static void test_connect_and_record(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ struct layout_device *devs = NULL;
        _cleanup_free_ char *err = NULL;
        struct layout_device d = f->disk, n = f->nic;
        size_t k = 0;

        add(f, &f->nic);
        add(f, &f->disk);
        d.major = 7;
        d.minor = 12;
        d.loop = true;
        strcpy(d.device, "/dev/loop12");
        d.backing_dev = 0xfd01;
        d.backing_ino = 424242;
        assert_int_equal(layout_device_connect(f->l, uuid_a, &d, &err), 0);
        assert_node(f->xs, BE_VBD "/physical-device", "7:c");
        assert_node(f->xs, BE_VBD "/physical-device-path", "/dev/loop12");
        assert_node(f->xs, BE_VBD "/node", "/dev/loop12");
        assert_node(f->xs, BE_VBD "/hotplug-status", "connected");
        assert_acl(f->xs, BE_VBD "/physical-device", "n0,r5");
        n.mtu = 9000;
        assert_int_equal(layout_device_connect(f->l, uuid_a, &n, &err), 0);
        assert_node(f->xs, FE_VIF "/mtu", "9000");
        assert_acl(f->xs, FE_VIF "/mtu", "n0,r5");
        assert_node(f->xs, BE_VIF "/hotplug-status", "connected");

        /* The records read back as written: vbds first. */
        assert_int_equal(layout_device_list(f->l, uuid_a, &devs, &k, &err), 0);
        assert_int_equal(k, 2);
        assert_int_equal(devs[0].kind, LAYOUT_DEVICE_VBD);
        assert_true(devs[0].connected);
        assert_int_equal(devs[0].domid, DOMID);
        assert_int_equal(devs[0].minor, 12);
        assert_true(devs[0].loop);
        assert_int_equal(devs[0].backing_ino, 424242);
        assert_string_equal(devs[0].target, "/srv/xen/web1.img");
        assert_int_equal(devs[1].kind, LAYOUT_DEVICE_VIF);
        assert_memory_equal(devs[1].mac, mac_a, 6);
        assert_string_equal(devs[1].ifname, "vif5.0");
        assert_string_equal(devs[1].bridge, "xenbr1");
        assert_int_equal(devs[1].mtu, 9000);
}

static void test_connect_after_backend_gone(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        add(f, &f->disk);
        assert_true(xs_rm(f->xs, XBT_NULL, BE_VBD));
        assert_int_equal(layout_device_connect(f->l, uuid_a, &f->disk, &err), -ENOENT);
        /* Nothing was re-created under the removed backend. */
        assert_absent(f->xs, BE_VBD);
}

static void test_close_then_remove(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        size_t k = 1;
        struct layout_device *devs = NULL;

        add(f, &f->disk);
        assert_int_equal(layout_device_close(f->l, &f->disk, false, &err), 0);
        assert_node(f->xs, BE_VBD "/online", "0");
        assert_node(f->xs, BE_VBD "/state", "5");
        assert_node(f->xs, FE_VBD "/backend-id", "0");
        /* Forced: the frontend goes first; a Closed backend stays Closed. */
        assert_true(xs_write(f->xs, XBT_NULL, BE_VBD "/state", "6", 1));
        assert_int_equal(layout_device_close(f->l, &f->disk, true, &err), 0);
        assert_absent(f->xs, FE_VBD);
        assert_node(f->xs, BE_VBD "/state", "6");

        assert_int_equal(layout_device_remove(f->l, uuid_a, &f->disk, &err), 0);
        assert_absent(f->xs, BE_VBD);
        assert_absent(f->xs, "/local/domain/0/backend/vbd/5");
        assert_absent(f->xs, "/local/domain/5/device/vbd");
        assert_absent(f->xs, "/tool/xensup/" UUID_A "/device/vbd/51712");
        assert_int_equal(layout_device_list(f->l, uuid_a, &devs, &k, &err), 0);
        assert_int_equal(k, 0);
        assert_null(devs);
        /* Twice is fine: nothing left to remove or close. */
        assert_int_equal(layout_device_remove(f->l, uuid_a, &f->disk, &err), 0);
        assert_int_equal(layout_device_close(f->l, &f->disk, true, &err), 0);
}

/* Removing one of two devices keeps the other and its parents. */
static void test_remove_keeps_siblings(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct layout_device second = f->disk;

        second.devid = 51728;
        strcpy(second.vdev, "xvdb");
        add(f, &f->disk);
        add(f, &second);
        assert_int_equal(layout_device_remove(f->l, uuid_a, &f->disk, &err), 0);
        assert_absent(f->xs, BE_VBD);
        assert_node(f->xs, "/local/domain/0/backend/vbd/5/51728/dev", "xvdb");
        assert_node(f->xs, "/local/domain/5/device/vbd/51728/virtual-device", "51728");
}

static void test_wait_backend(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        int st = -1;

        add(f, &f->disk);
        assert_true(xs_write(f->xs, XBT_NULL, BE_VBD "/state", "2", 1));
        assert_int_equal(
            layout_device_wait_backend(f->l, &f->disk, XENBUS_INIT_WAIT, 2000, &st, &err), 0);
        assert_int_equal(st, 2);
        /* Connected never comes without physical-device: a bounded wait, and why. */
        assert_int_equal(
            layout_device_wait_backend(f->l, &f->disk, XENBUS_CONNECTED, 200, &st, &err),
            -ETIMEDOUT);
        assert_non_null(strstr(err, "vbd 51712 of domid 5"));
        free(err);
        err = NULL;
        assert_true(xs_write(f->xs, XBT_NULL, BE_VBD "/state", "5", 1));
        assert_int_equal(
            layout_device_wait_backend(f->l, &f->disk, XENBUS_CONNECTED, 2000, &st, &err), -EPIPE);
        free(err);
        err = NULL;
        assert_true(xs_rm(f->xs, XBT_NULL, BE_VBD));
        assert_int_equal(
            layout_device_wait_backend(f->l, &f->disk, XENBUS_INIT_WAIT, 2000, &st, &err), -ENOENT);
}

/* A record a guest cannot write, but a broken one must not hide the others. */
static void test_bad_record_skipped(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ struct layout_device *devs = NULL;
        _cleanup_free_ char *err = NULL;
        size_t k = 0;
        static const char junk[] = "version=1\ndomid=99999\n";

        add(f, &f->disk);
        add(f, &f->nic);
        assert_true(xs_write(f->xs, XBT_NULL, "/tool/xensup/" UUID_A "/device/vbd/51712", junk,
                             sizeof(junk) - 1));
        assert_int_equal(layout_device_list(f->l, uuid_a, &devs, &k, &err), 0);
        assert_int_equal(k, 1);
        assert_int_equal(devs[0].kind, LAYOUT_DEVICE_VIF);
        assert_non_null(err);
        assert_non_null(strstr(err, "domid"));
}

static void test_vif_name_and_rate(void **state)
{
        struct fixture *f = *state;
        struct vif_config vif = { .vifname = (char *)"web1-lan",
                                  .rate = (char *)"10Mb/s",
                                  .rate_bytes_per_sec = 1250000,
                                  .rate_interval_usecs = 50000 };
        char *ips[] = { (char *)"192.0.2.10", (char *)"192.0.2.11", NULL };
        struct layout_device d;

        vif.ips = ips;
        assert_int_equal(layout_device_from_vif(&d, DOMID, 1, &vif, mac_a, "xenbr0"), 0);
        assert_string_equal(d.ifname, "web1-lan");
        assert_string_equal(d.bridge, "xenbr0");
        assert_string_equal(d.rate, "62500,50000");
        assert_string_equal(d.ip, "192.0.2.10 192.0.2.11");
        add(f, &d);
        assert_node(f->xs, "/local/domain/0/backend/vif/5/1/vifname", "web1-lan");
        assert_node(f->xs, "/local/domain/0/backend/vif/5/1/rate", "62500,50000");
        assert_node(f->xs, "/local/domain/0/backend/vif/5/1/ip", "192.0.2.10 192.0.2.11");
}

static void test_backend_domids_and_removal(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        add(f, &f->disk);
        assert_int_equal(layout_device_backend_domids(f->l, LAYOUT_DEVICE_VBD, &ids, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(ids[0], DOMID);
        assert_int_equal(layout_device_remove_backends(f->l, LAYOUT_DEVICE_VBD, DOMID, &err), 0);
        assert_absent(f->xs, "/local/domain/0/backend/vbd/5");
}

/* Write node = value as dom0 (what xl's toolstack and block script write). */
static void xs_put(struct xs_handle *xs, const char *path, const char *value)
{
        if (!xs_write(xs, XBT_NULL, path, value, strlen(value)))
                fail_msg("cannot write %s", path);
}

/*
 * Every vbd backend as blkback reads it, ours and another toolstack's alike: its mode, its
 * physical-device once there is one (params while not), none without a mode; and the name of
 * another toolstack's domain, only when dom0 alone may write it.
 */
static void test_vbd_backends(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ struct layout_vbd_backend *bes = NULL;
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_free_ char *err = NULL;
        struct layout_device d = f->disk;
        struct xs_permissions guest_writes[] = { { .id = 0, .perms = XS_PERM_NONE },
                                                 { .id = 9, .perms = XS_PERM_WRITE } };
        char name[DOMAIN_NAME_MAX + 1];
        size_t n = 0, n_ids = 0;
        uint64_t before;

        add(f, &f->disk); /* ours, its host side not done yet: params tell what it is for */
        xs_put(f->xs, "/local/domain/0/backend/vbd/9/51712/mode", "r");
        xs_put(f->xs, "/local/domain/0/backend/vbd/9/51712/physical-device", "fd:1");
        xs_put(f->xs, "/local/domain/0/backend/vbd/9/51728/params", "/srv/no-mode.img");
        xs_put(f->xs, "/local/domain/0/backend/vbd/9/51744/mode", "w");
        xs_put(f->xs, "/local/domain/0/backend/vbd/9/51744/physical-device", "junk");
        xs_put(f->xs, "/local/domain/0/backend/vbd/9/51744/params", "/srv/xl.img");
        assert_int_equal(layout_device_backend_domids(f->l, LAYOUT_DEVICE_VBD, &ids, &n_ids, &err),
                         0);
        assert_int_equal(n_ids, 2);
        before = layout_request_count(f->l);
        assert_int_equal(layout_vbd_backends(f->l, ids, n_ids, &bes, &n, &err), 0);
        /* Per domid its directory; per backend mode, physical-device, params if that is missing. */
        assert_int_equal(layout_request_count(f->l) - before, 2 + 3 + 2 + 1 + 3);
        assert_int_equal(n, 3);
        assert_true(bes[0].domid == 5 && bes[0].devid == 51712 && bes[0].writes);
        assert_false(bes[0].has_device);
        assert_string_equal(bes[0].params, "/srv/xen/web1.img");
        assert_true(bes[1].domid == 9 && bes[1].devid == 51712 && !bes[1].writes);
        assert_true(bes[1].has_device && bes[1].major == 0xfd && bes[1].minor == 1);
        assert_string_equal(bes[1].params, "");
        assert_true(bes[2].devid == 51744 && bes[2].writes && !bes[2].has_device);
        assert_string_equal(bes[2].params, "/srv/xl.img");
        free(bes);
        bes = NULL;

        /* Connected: the device, and params no longer read. */
        d.major = 7;
        d.minor = 12;
        d.loop = true;
        strcpy(d.device, "/dev/loop12");
        assert_int_equal(layout_device_connect(f->l, uuid_a, &d, &err), 0);
        assert_int_equal(layout_vbd_backends(f->l, ids, 1, &bes, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_true(bes[0].has_device && bes[0].major == 7 && bes[0].minor == 12);
        assert_string_equal(bes[0].params, "");

        xs_put(f->xs, "/local/domain/9/name", "xlguest");
        assert_int_equal(layout_domain_name(f->l, 9, name, sizeof(name), &err), 0);
        assert_string_equal(name, "xlguest");
        assert_true(xs_set_permissions(f->xs, XBT_NULL, "/local/domain/9/name", guest_writes, 2));
        assert_int_equal(layout_domain_name(f->l, 9, name, sizeof(name), NULL), -EPERM);
        assert_int_equal(layout_domain_name(f->l, 10, name, sizeof(name), NULL), -ENOENT);
        xs_put(f->xs, "/local/domain/0/name", "Domain-0");
        assert_int_equal(layout_domain_name(f->l, 0, name, sizeof(name), &err), 0);
        assert_string_equal(name, "Domain-0");
}

/* What one device costs in requests (layout/README.md's table). */
static void test_request_counts(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct layout_device d = f->disk, n = f->nic;
        uint64_t before = layout_request_count(f->l);

        add(f, &f->disk);
        print_message("vbd add: %" PRIu64 " requests\n", layout_request_count(f->l) - before);
        assert_int_equal(layout_request_count(f->l) - before, 28);
        before = layout_request_count(f->l);
        add(f, &f->nic);
        print_message("vif add: %" PRIu64 " requests\n", layout_request_count(f->l) - before);
        assert_int_equal(layout_request_count(f->l) - before, 28);
        d.loop = true;
        strcpy(d.device, "/dev/loop0");
        before = layout_request_count(f->l);
        assert_int_equal(layout_device_connect(f->l, uuid_a, &d, &err), 0);
        assert_int_equal(layout_request_count(f->l) - before, 8);
        before = layout_request_count(f->l);
        assert_int_equal(layout_device_connect(f->l, uuid_a, &n, &err), 0);
        assert_int_equal(layout_request_count(f->l) - before, 7);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_vbd_nodes_and_acls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vif_nodes_and_acls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_guest_rights, setup, teardown),
                cmocka_unit_test_setup_teardown(test_add_twice_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_connect_and_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_connect_after_backend_gone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_close_then_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remove_keeps_siblings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_backend, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_record_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vif_name_and_rate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_backend_domids_and_removal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vbd_backends, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_counts, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
