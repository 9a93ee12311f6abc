/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * supervisor/attach.c's pure parts: the MACs a domain keeps (their record
 * text both ways, a generated one's shape), which two disk uses may not run
 * at once, and which other toolstack's backend uses one of ours. The handshake
 * itself is tested end to end against xensup-sim (tests/scenarios/devices.sh)
 * and on real Xen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/attach.h"
#include "supervisor/script.h"

static void test_macs_round_trip(void **state)
{
        uint8_t macs[VIFS_MAX][6] = { { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 },
                                      { 0 },
                                      { 0x00, 0x16, 0x3e, 0x7f, 0xab, 0xcd } };
        uint8_t back[VIFS_MAX][6];
        char text[LAYOUT_VIF_MACS_MAX];

        (void)state;
        mac_list_format(macs, text);
        assert_string_equal(text, "00:16:3e:01:02:03,-,00:16:3e:7f:ab:cd");
        assert_int_equal(mac_list_parse(text, back), 0);
        assert_memory_equal(back, macs, sizeof(macs));
        /* None kept: the empty text, and back to none. */
        memset(macs, 0, sizeof(macs));
        mac_list_format(macs, text);
        assert_string_equal(text, "");
        assert_int_equal(mac_list_parse("", back), 0);
        assert_memory_equal(back, macs, sizeof(macs));
}

static void test_macs_all_sixteen_fit(void **state)
{
        uint8_t macs[VIFS_MAX][6], back[VIFS_MAX][6];
        char text[LAYOUT_VIF_MACS_MAX];

        (void)state;
        for (int i = 0; i < VIFS_MAX; i++)
                memcpy(macs[i], (uint8_t[6]){ 0, 0x16, 0x3e, 0x7f, 0xff, (uint8_t)i }, 6);
        mac_list_format(macs, text);
        assert_int_equal(strlen(text), VIFS_MAX * 18 - 1);
        assert_int_equal(mac_list_parse(text, back), 0);
        assert_memory_equal(back, macs, sizeof(macs));
}

static void test_macs_bad_text_refused(void **state)
{
        static const char *const bad[] = {
                "00:16:3e:01:02",       "00:16:3e:01:02:03,",
                "00-16-3e-01-02-03",    "00:16:3e:01:02:0g",
                ",00:16:3e:01:02:03",   "x",
                "00:16:3e:01:02:03:04", "--",
        };
        uint8_t back[VIFS_MAX][6];

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (mac_list_parse(bad[i], back) != -EINVAL)
                        fail_msg("'%s' was accepted", bad[i]);
}

/* Xen's OUI, the locally administered half left to others, never multicast. */
static void test_generated_mac(void **state)
{
        (void)state;
        for (int i = 0; i < 64; i++) {
                uint8_t mac[6];

                assert_int_equal(attach_generate_mac(mac), 0);
                assert_int_equal(mac[0], 0x00);
                assert_int_equal(mac[1], 0x16);
                assert_int_equal(mac[2], 0x3e);
                assert_int_equal(mac[3] & 0x80, 0);
        }
}

static void test_disk_conflicts(void **state)
{
        struct layout_device file_rw = {
                .kind = LAYOUT_DEVICE_VBD, .loop = true, .backing_dev = 0xfd01, .backing_ino = 42
        };
        struct layout_device file_ro = file_rw, other = file_rw,
                             phy = { .kind = LAYOUT_DEVICE_VBD, .major = 253, .minor = 1 };
        struct attach_disk_id a, b;

        (void)state;
        file_ro.readonly = true;
        other.backing_ino = 43;
        a = attach_disk_id_of(&file_rw);
        b = attach_disk_id_of(&file_rw);
        assert_true(attach_disks_conflict(&a, &b)); /* two writers */
        b = attach_disk_id_of(&file_ro);
        assert_true(attach_disks_conflict(&a, &b)); /* a writer and a reader */
        a = attach_disk_id_of(&file_ro);
        assert_false(attach_disks_conflict(&a, &b)); /* two readers */
        a = attach_disk_id_of(&file_rw);
        b = attach_disk_id_of(&other);
        assert_false(attach_disks_conflict(&a, &b)); /* another file */
        /* A block device is its number, not the file its node is. */
        a = attach_disk_id_of(&phy);
        b = attach_disk_id_of(&phy);
        assert_true(attach_disks_conflict(&a, &b));
        assert_int_equal(a.ino, 0);
        b = attach_disk_id_of(&file_rw);
        assert_false(attach_disks_conflict(&a, &b));
}

/* A record added but not connected is its file already: what the leftover scan and checks use. */
static void test_unconnected_record_is_its_file(void **state)
{
        struct layout_device added = { .kind = LAYOUT_DEVICE_VBD,
                                       .backing_dev = 0xfd01,
                                       .backing_ino = 42 };
        struct layout_device connected = added;
        struct attach_disk_id id;

        (void)state;
        id = attach_disk_id_of(&added);
        assert_true(id.dev == 0xfd01 && id.ino == 42);
        /* Connected without a loop device: the block device the script or target gave. */
        connected.connected = true;
        connected.major = 8;
        connected.minor = 1;
        id = attach_disk_id_of(&connected);
        assert_true(id.dev == makedev(8, 1) && id.ino == 0);
}

/* xl's backends: a block device is its number; a file is one of the loop devices on it. */
static void test_backend_conflicts(void **state)
{
        const struct builder_loop loops[] = { { .major = 7, .minor = 3 },
                                              { .major = 7, .minor = 5, .readonly = true } };
        struct attach_disk_id phy_rw = { .dev = makedev(253, 1) }, phy_ro = phy_rw;
        struct attach_disk_id file_rw = { .dev = 0xfd01, .ino = 42 }, file_ro = file_rw;
        struct layout_vbd_backend be = {
                .domid = 9, .devid = 51712, .has_device = true, .major = 253, .minor = 1
        };

        (void)state;
        phy_ro.readonly = true;
        file_ro.readonly = true;
        /* rw conflicts with any other use; ro shares with ro. */
        assert_true(attach_backend_conflicts(&phy_rw, &be, NULL, 0));
        assert_false(attach_backend_conflicts(&phy_ro, &be, NULL, 0));
        be.writes = true;
        assert_true(attach_backend_conflicts(&phy_ro, &be, NULL, 0));
        be.minor = 2; /* another device */
        assert_false(attach_backend_conflicts(&phy_rw, &be, NULL, 0));
        /* Our file: the backend's device is one of the loop devices the host has on it. */
        be.major = 7;
        be.minor = 5;
        assert_true(attach_backend_conflicts(&file_ro, &be, loops, 2));
        assert_false(attach_backend_conflicts(&file_ro, &be, loops, 1));
        be.writes = false;
        assert_false(attach_backend_conflicts(&file_ro, &be, loops, 2));
        assert_true(attach_backend_conflicts(&file_rw, &be, loops, 2));
        /* A loop device's number is no block device of ours, nor our file when not on it. */
        assert_false(attach_backend_conflicts(&phy_rw, &be, loops, 2));
        be.minor = 4;
        assert_false(attach_backend_conflicts(&file_rw, &be, loops, 2));
        /* A backend still waiting for its script uses nothing yet. */
        be = (struct layout_vbd_backend){ .domid = 9, .devid = 51712, .writes = true };
        assert_false(attach_backend_conflicts(&file_rw, &be, loops, 2));
        assert_false(attach_backend_conflicts(&phy_rw, &be, NULL, 0));
}

/* A script runs as root: only an executable of root's that nobody else may write is taken. */
static void test_script_resolve(void **state)
{
        char dir[] = "/tmp/test-attach.XXXXXX", path[LAYOUT_DEVICE_SCRIPT_MAX];
        char file[64];
        FILE *f;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/block", dir);
        f = fopen(file, "w");
        assert_non_null(f);
        fputs("#!/bin/sh\n", f);
        fclose(f);
        assert_int_equal(chmod(file, 0755), 0);
        if (geteuid() == 0) {
                assert_int_equal(script_resolve(file, path, NULL), 0);
                assert_string_equal(path, file);
                assert_int_equal(chmod(file, 0775), 0);
                assert_int_equal(script_resolve(file, path, NULL), -EPERM);
                assert_int_equal(chmod(file, 0644), 0);
                assert_int_equal(script_resolve(file, path, NULL), -EPERM);
        }
        /* A bare name is looked for in the scripts directory; a relative path is not taken. */
        assert_int_equal(script_resolve("sub/block", path, NULL), -EINVAL);
        assert_int_equal(script_resolve("no-such-script-here", path, NULL), -ENOENT);
        assert_string_equal(path, SCRIPT_DIR "/no-such-script-here");
        unlink(file);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_macs_round_trip),
                cmocka_unit_test(test_macs_all_sixteen_fit),
                cmocka_unit_test(test_macs_bad_text_refused),
                cmocka_unit_test(test_generated_mac),
                cmocka_unit_test(test_disk_conflicts),
                cmocka_unit_test(test_unconnected_record_is_its_file),
                cmocka_unit_test(test_backend_conflicts),
                cmocka_unit_test(test_script_resolve),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
