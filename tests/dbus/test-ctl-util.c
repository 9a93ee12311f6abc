/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of xensupctl's bus-free pieces: size and number parsing, JSON
 * escaping and output, the change lines of `monitor`, durations, the status
 * text (a waiting restart, a kept instance), and the exit code of every
 * error name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "common/bus-names.h"
#include "common/macros.h"
#include "common/parse.h"
#include "ctl/ctl-util.h"

#define UUID_A "4c1e0b6a-0000-5000-8000-000000000001"
#define UUID_B "9d2f7c11-0000-5000-8000-000000000002"
/* 2001-09-09 01:46:40 UTC: the status tests run with TZ=UTC. */
#define NOW_USEC (1000000000ULL * 1000000)

/* Run a printer into a string. */
#define CAPTURE(buf, call)                                                                         \
        do {                                                                                       \
                size_t _len = 0;                                                                   \
                FILE *f = open_memstream(&(buf), &_len);                                           \
                assert_non_null(f);                                                                \
                call;                                                                              \
                fclose(f);                                                                         \
        } while (0)

static void test_size_units(void **state)
{
        uint64_t kib;

        (void)state;
        assert_int_equal(parse_size_kib("512M", &kib), 0);
        assert_int_equal(kib, 512 * 1024);
        assert_int_equal(parse_size_kib("2G", &kib), 0);
        assert_int_equal(kib, 2 * 1024 * 1024);
        assert_int_equal(parse_size_kib("1048576K", &kib), 0);
        assert_int_equal(kib, 1048576);
        assert_int_equal(parse_size_kib("1t", &kib), 0);
        assert_int_equal(kib, 1ULL << 30);
        assert_int_equal(parse_size_kib("256MiB", &kib), 0);
        assert_int_equal(kib, 256 * 1024);
        assert_int_equal(parse_size_kib("3gb", &kib), 0);
        assert_int_equal(kib, 3 * 1024 * 1024);
        /* a plain number is MiB, as xl mem-set */
        assert_int_equal(parse_size_kib("100", &kib), 0);
        assert_int_equal(kib, 100 * 1024);
}

static void test_size_rejects(void **state)
{
        static const char *const bad[] = {
                "",
                "M",
                "-5M",
                "+5M",
                " 5M",
                "5 M",
                "5Q",
                "5MM",
                "5Mx",
                "0",
                "0K",
                "5.5G",
                "0x10",
                "5KiBB",
                "18446744073709551616", /* 2^64 */
                "17592186044416T",      /* 2^44 TiB overflows KiB */
        };
        uint64_t kib = 7;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (parse_size_kib(bad[i], &kib) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
                assert_int_equal(kib, 7);
        }
        assert_int_equal(parse_size_kib("18014398509481983T", &kib), -EINVAL);
        assert_int_equal(parse_size_kib("17179869183T", &kib), 0); /* (2^64-1) >> 30 */
}

static void test_uint(void **state)
{
        unsigned v = 0;

        (void)state;
        assert_int_equal(parse_uint("42", 100, &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(parse_uint("4294967295", UINT32_MAX, &v), 0);
        assert_int_equal(v, 4294967295u);
        assert_int_equal(parse_uint("4294967296", UINT32_MAX, &v), -EINVAL);
        assert_int_equal(parse_uint("101", 100, &v), -EINVAL);
        assert_int_equal(parse_uint("-1", 100, &v), -EINVAL);
        assert_int_equal(parse_uint("two", 100, &v), -EINVAL);
        assert_int_equal(parse_uint("2s", 100, &v), -EINVAL);
        assert_int_equal(parse_uint("", 100, &v), -EINVAL);
}

static void test_json_string(void **state)
{
        _cleanup_free_ char *out = NULL;

        (void)state;
        CAPTURE(out, ctl_json_string(f, "a\"b\\c\nd\te\x01"
                                        "f\x7f\xc3\xa9"));
        assert_string_equal(out, "\"a\\\"b\\\\c\\nd\\te\\u0001f\\u007f\xc3\xa9\"");
}

static void fill(struct ctl_domain *d, const char *name, uint64_t domid, const char *failure)
{
        assert_int_equal(ctl_domain_set_string(d, "Name", name), 0);
        assert_int_equal(ctl_domain_set_string(d, "UUID", UUID_A), 0);
        assert_int_equal(ctl_domain_set_string(d, "State", "running"), 0);
        assert_int_equal(ctl_domain_set_string(d, "ShutdownReason", "none"), 0);
        assert_int_equal(ctl_domain_set_string(d, "Failure", failure), 0);
        assert_int_equal(ctl_domain_set_string(d, "NoSuchProperty", "ignored"), 0);
        ctl_domain_set_number(d, "DomID", domid);
        ctl_domain_set_number(d, "RestartCount", 3);
        ctl_domain_set_number(d, "MemoryKiB", 65536);
        ctl_domain_set_number(d, "NoSuchNumber", 9);
        d->path = strdup("/org/xensup/supervisor1/domain/web1");
        assert_non_null(d->path);
}

static void test_domain_json(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain d = { 0 };
        _cleanup_free_ char *out = NULL;

        (void)state;
        fill(&d, "web1", CTL_DOMID_NONE, "crashed 4 times in 60 s: \"left\"");
        CAPTURE(out, ctl_print_domain_json(f, &d));
        assert_non_null(strstr(out, "\"name\": \"web1\""));
        assert_non_null(strstr(out, "\"domid\": null"));
        assert_non_null(strstr(out, "\"started_at\": null"));
        assert_non_null(strstr(out, "\"restart_count\": 3"));
        assert_non_null(strstr(out, "\"memory_kib\": 65536"));
        assert_non_null(strstr(out, "\"failure\": \"crashed 4 times in 60 s: \\\"left\\\"\""));
        assert_non_null(strstr(out, "\"object_path\": \"/org/xensup/supervisor1/domain/web1\""));
        /* flat: tests/scenarios/lib.sh splits a list at "}," */
        assert_int_equal(out[0], '{');
        assert_null(strchr(out + 1, '{'));
        assert_int_equal(out[strlen(out) - 1], '}');
}

static void test_list_json(void **state)
{
        _cleanup_(ctl_domain_list_freep) struct ctl_domain_list l = { 0 };
        _cleanup_free_ char *out = NULL;
        _cleanup_free_ char *empty = NULL;

        (void)state;
        fill(ctl_domain_list_add(&l), "web1", 5, "");
        fill(ctl_domain_list_add(&l), "web2", 6, "");
        CAPTURE(out, ctl_print_list_json(f, &l));
        assert_int_equal(out[0], '[');
        assert_non_null(strstr(out, "\"domid\": 5"));
        assert_non_null(strstr(out, "\"domid\": 6"));
        /* one object per line, separated by "},", the array closed on its own line */
        assert_non_null(strstr(out, "},\n {"));
        assert_string_equal(out + strlen(out) - 4, "}\n]\n");
        CAPTURE(empty, ctl_print_list_json(f, &(struct ctl_domain_list){ 0 }));
        assert_string_equal(empty, "[]\n");
}

static void test_changes(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain a = { 0 };
        _cleanup_(ctl_domain_clear) struct ctl_domain b = { 0 };
        _cleanup_free_ char *none = NULL;
        _cleanup_free_ char *some = NULL;

        (void)state;
        fill(&a, "web1", 5, "");
        assert_int_equal(ctl_domain_copy(&b, &a), 0);
        assert_ptr_not_equal(a.name, b.name);
        CAPTURE(none, ctl_print_changes(f, &a, &b));
        assert_string_equal(none, "");

        assert_int_equal(ctl_domain_set_string(&b, "State", "crashed"), 0);
        assert_int_equal(ctl_domain_set_string(&b, "Failure", "gave up"), 0);
        ctl_domain_set_number(&b, "DomID", CTL_DOMID_NONE);
        CAPTURE(some, ctl_print_changes(f, &a, &b));
        assert_string_equal(some, "web1: domid=none state=crashed failure=\"gave up\"\n");
}

static void test_duration(void **state)
{
        char buf[64];

        (void)state;
        assert_string_equal(ctl_format_duration(0, buf, sizeof(buf)), "0s");
        assert_string_equal(ctl_format_duration(59, buf, sizeof(buf)), "59s");
        assert_string_equal(ctl_format_duration(3600, buf, sizeof(buf)), "1h");
        assert_string_equal(ctl_format_duration(90061, buf, sizeof(buf)), "1d 1h 1min 1s");
}

static void test_status_text(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain d = { 0 };
        _cleanup_free_ char *out = NULL;

        (void)state;
        fill(&d, "web1", 7, "");
        ctl_domain_set_number(&d, "StartedAt", 1000000ULL * 1000);
        CAPTURE(out, ctl_print_status(f, &d, 1000000ULL * (1000 + 3725)));
        assert_non_null(strstr(out, "web1 (4c1e0b6a-0000-5000-8000-000000000001)\n"));
        assert_non_null(strstr(out, "        DomID: 7\n"));
        assert_non_null(strstr(out, "       Uptime: 1h 2min 5s (since "));
        assert_non_null(strstr(out, "     Restarts: 3\n"));
        assert_non_null(strstr(out, "      Failure: -\n"));
}

static void test_new_properties_parsed(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain d = { 0 };
        _cleanup_(ctl_domain_clear) struct ctl_domain copy = { 0 };

        (void)state;
        assert_int_equal(ctl_domain_set_string(&d, "OnWatchdog", "restart"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnSoftReset", "soft-reset"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "KeptOf", UUID_B), 0);
        ctl_domain_set_number(&d, "RestartAt", NOW_USEC + 4000000);
        assert_string_equal(d.on_watchdog, "restart");
        assert_string_equal(d.on_soft_reset, "soft-reset");
        assert_string_equal(d.kept_of, UUID_B);
        assert_int_equal(d.restart_at, NOW_USEC + 4000000);
        /* a value of the wrong kind is ignored, as an unknown property */
        ctl_domain_set_number(&d, "KeptOf", 1);
        assert_int_equal(ctl_domain_set_string(&d, "RestartAt", "soon"), 0);
        assert_string_equal(d.kept_of, UUID_B);
        assert_int_equal(d.restart_at, NOW_USEC + 4000000);
        /* replaced, not leaked (make check-valgrind) */
        assert_int_equal(ctl_domain_set_string(&d, "OnWatchdog", "destroy"), 0);
        assert_string_equal(d.on_watchdog, "destroy");
        assert_int_equal(ctl_domain_copy(&copy, &d), 0);
        assert_ptr_not_equal(copy.kept_of, d.kept_of);
        assert_string_equal(copy.kept_of, UUID_B);
        assert_string_equal(copy.on_soft_reset, "soft-reset");
        assert_int_equal(copy.restart_at, NOW_USEC + 4000000);
}

static void test_json_new_keys(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain old = { 0 };
        _cleanup_(ctl_domain_clear) struct ctl_domain d = { 0 };
        _cleanup_free_ char *older = NULL;
        _cleanup_free_ char *out = NULL;

        (void)state;
        /* an older daemon sends none of them: present, empty or 0 */
        fill(&old, "web1", 5, "");
        CAPTURE(older, ctl_print_domain_json(f, &old));
        assert_non_null(strstr(older, "\"on_watchdog\": \"\""));
        assert_non_null(strstr(older, "\"on_soft_reset\": \"\""));
        assert_non_null(strstr(older, "\"restart_at\": 0"));
        assert_non_null(strstr(older, "\"kept_of\": \"\""));

        fill(&d, "web1-kept", CTL_DOMID_NONE, "");
        assert_int_equal(ctl_domain_set_string(&d, "State", "restart-wait"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnWatchdog", "restart"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnSoftReset", "soft-reset"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "KeptOf", UUID_B), 0);
        ctl_domain_set_number(&d, "RestartAt", NOW_USEC + 4000000);
        CAPTURE(out, ctl_print_domain_json(f, &d));
        assert_non_null(strstr(out, "\"state\": \"restart-wait\""));
        assert_non_null(strstr(out, "\"on_watchdog\": \"restart\""));
        assert_non_null(strstr(out, "\"on_soft_reset\": \"soft-reset\""));
        assert_non_null(strstr(out, "\"restart_at\": 1000000004000000"));
        assert_non_null(strstr(out, "\"kept_of\": \"" UUID_B "\""));
        assert_null(strchr(out + 1, '{'));
}

static void test_status_restart_wait(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain d = { 0 };
        _cleanup_free_ char *exact = NULL;
        _cleanup_free_ char *rounded = NULL;
        _cleanup_free_ char *late = NULL;

        (void)state;
        fill(&d, "web1", CTL_DOMID_NONE, "");
        assert_int_equal(ctl_domain_set_string(&d, "State", "restart-wait"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnPoweroff", "destroy"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnReboot", "restart"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnCrash", "restart"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnWatchdog", "coredump-restart"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnSoftReset", "soft-reset"), 0);
        ctl_domain_set_number(&d, "RestartAt", NOW_USEC + 4000000);
        CAPTURE(exact, ctl_print_status(f, &d, NOW_USEC));
        assert_non_null(strstr(exact, "        State: restart-wait\n"
                                      "      Restart: in 4s (at 2001-09-09 01:46:44 UTC)\n"
                                      "        DomID: -\n"));
        assert_non_null(strstr(exact, "      Actions: on_poweroff=destroy on_reboot=restart "
                                      "on_crash=restart on_watchdog=coredump-restart "
                                      "on_soft_reset=soft-reset\n"));
        assert_null(strstr(exact, "Kept of"));
        /* rounded up: 3.2 s to go is "in 4s", never "in 0s" while it waits */
        CAPTURE(rounded, ctl_print_status(f, &d, NOW_USEC + 800000));
        assert_non_null(strstr(rounded, "      Restart: in 4s (at 2001-09-09 01:46:44 UTC)\n"));
        /* past due (the daemon is about to restart it): no negative wait */
        CAPTURE(late, ctl_print_status(f, &d, NOW_USEC + 5000000));
        assert_non_null(strstr(late, "      Restart: due now (at 2001-09-09 01:46:44 UTC)\n"));
}

/* The audit trail: who last started, stopped or destroyed the domain, and when. */
static void test_status_last_action(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain d = { 0 };
        _cleanup_free_ char *none = NULL, *out = NULL, *json = NULL;

        (void)state;
        fill(&d, "web1", 7, "");
        CAPTURE(none, ctl_print_status(f, &d, NOW_USEC));
        assert_non_null(strstr(none, "  Last action: -\n"));
        assert_int_equal(ctl_domain_set_string(&d, "LastAction", "destroy"), 0);
        ctl_domain_set_number(&d, "LastActionUID", 1000);
        ctl_domain_set_number(&d, "LastActionPID", 4242);
        ctl_domain_set_number(&d, "LastActionAt", NOW_USEC);
        CAPTURE(out, ctl_print_status(f, &d, NOW_USEC));
        assert_non_null(strstr(out, "  Last action: destroy by uid 1000 (pid 4242) at "
                                    "2001-09-09 01:46:40 UTC\n"));
        CAPTURE(json, ctl_print_domain_json(f, &d));
        assert_non_null(strstr(json, "\"last_action\": \"destroy\", \"last_action_uid\": 1000, "
                                     "\"last_action_pid\": 4242"));
}

static void test_status_without_new_properties(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain d = { 0 };
        _cleanup_free_ char *out = NULL;

        (void)state;
        /* an older daemon: the status reads as before */
        fill(&d, "web1", 7, "");
        assert_int_equal(ctl_domain_set_string(&d, "OnPoweroff", "destroy"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnReboot", "restart"), 0);
        assert_int_equal(ctl_domain_set_string(&d, "OnCrash", "preserve"), 0);
        CAPTURE(out, ctl_print_status(f, &d, NOW_USEC));
        assert_non_null(strstr(out, "      Actions: on_poweroff=destroy on_reboot=restart "
                                    "on_crash=preserve\n"));
        assert_null(strstr(out, "Restart:"));
        assert_null(strstr(out, "Kept of"));
}

static void test_status_kept_and_dumping(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain kept = { 0 };
        _cleanup_(ctl_domain_clear) struct ctl_domain dumping = { 0 };
        _cleanup_free_ char *k = NULL;
        _cleanup_free_ char *dump = NULL;

        (void)state;
        fill(&kept, "web1-1", CTL_DOMID_NONE, "");
        assert_int_equal(ctl_domain_set_string(&kept, "State", "preserved"), 0);
        assert_int_equal(ctl_domain_set_string(&kept, "KeptOf", UUID_B), 0);
        CAPTURE(k, ctl_print_status(f, &kept, NOW_USEC));
        assert_non_null(strstr(k, "web1-1 (" UUID_A ")\n"
                                  "        State: preserved\n"
                                  "      Kept of: " UUID_B "\n"));
        assert_null(strstr(k, "Restart:"));

        fill(&dumping, "web1", 7, "");
        assert_int_equal(ctl_domain_set_string(&dumping, "State", "dumping"), 0);
        CAPTURE(dump, ctl_print_status(f, &dumping, NOW_USEC));
        assert_non_null(strstr(dump, "        State: dumping\n        DomID: 7\n"));
}

static void test_changes_restart_wait(void **state)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain a = { 0 };
        _cleanup_(ctl_domain_clear) struct ctl_domain b = { 0 };
        _cleanup_free_ char *out = NULL;

        (void)state;
        fill(&a, "web1", 5, "");
        assert_int_equal(ctl_domain_copy(&b, &a), 0);
        assert_int_equal(ctl_domain_set_string(&b, "State", "restart-wait"), 0);
        ctl_domain_set_number(&b, "DomID", CTL_DOMID_NONE);
        ctl_domain_set_number(&b, "RestartAt", NOW_USEC + 4000000);
        CAPTURE(out, ctl_print_changes(f, &a, &b));
        assert_string_equal(out,
                            "web1: domid=none state=restart-wait restart_at=1000000004000000\n");
}

static void test_exit_codes(void **state)
{
        static const struct {
                const char *name;
                int code;
        } cases[] = {
                /* the documented outcomes: only two have codes of their own */
                { BUS_ERROR_NO_SUCH_DOMAIN, CTL_EXIT_NO_DOMAIN },
                { BUS_ERROR_ACCESS_DENIED, CTL_EXIT_DENIED },
                { BUS_ERROR_INVALID_STATE, CTL_EXIT_FAILED },
                { BUS_ERROR_DOMAIN_EXISTS, CTL_EXIT_FAILED },
                { BUS_ERROR_INVALID_CONFIG, CTL_EXIT_FAILED },
                { BUS_ERROR_INVALID_ARGUMENT, CTL_EXIT_FAILED },
                /* a layer failed */
                { BUS_ERROR_HYPERVISOR, CTL_EXIT_FAILED },
                { BUS_ERROR_XENSTORE, CTL_EXIT_FAILED },
                { BUS_ERROR_FAILED, CTL_EXIT_FAILED },
                /* from the bus itself */
                { SD_BUS_ERROR_ACCESS_DENIED, CTL_EXIT_DENIED },
                { SD_BUS_ERROR_SERVICE_UNKNOWN, CTL_EXIT_NO_DAEMON },
                { SD_BUS_ERROR_NAME_HAS_NO_OWNER, CTL_EXIT_NO_DAEMON },
                { SD_BUS_ERROR_UNKNOWN_OBJECT, CTL_EXIT_FAILED },
                { SD_BUS_ERROR_NO_REPLY, CTL_EXIT_FAILED },
                /* a newer daemon's error, and a prefix is not a match */
                { BUS_ERROR_PREFIX "SomethingNew", CTL_EXIT_FAILED },
                { BUS_ERROR_PREFIX "NoSuchDomainX", CTL_EXIT_FAILED },
        };

        (void)state;
        assert_string_equal(BUS_ERROR_NO_SUCH_DOMAIN, "org.xensup.supervisor1.Error.NoSuchDomain");
        assert_string_equal(BUS_ERROR_FAILED, "org.xensup.supervisor1.Error.Failed");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (ctl_exit_code(cases[i].name) != cases[i].code)
                        fail_msg("%s: exit %d, want %d", cases[i].name,
                                 ctl_exit_code(cases[i].name), cases[i].code);
        assert_int_equal(ctl_exit_code(NULL), CTL_EXIT_FAILED);
}

static const struct ctl_device devices[] = {
        { "vbd", 51712, "xvda", "/srv/xen/web1.img", "/dev/loop0", 4, 4 },
        { "vif", 0, "vif5.0", "00:16:3e:01:02:03", "xenbr0", 2, 1 },
        { "vbd", 51728, "xvdb", "/dev/vg0/data", "/dev/vg0/data", 4, 3 },
};

/* block-list shows the disks only, network-list the vifs only, with the states named. */
static void test_devices_table(void **state)
{
        _cleanup_free_ char *disks = NULL, *nics = NULL;

        (void)state;
        CAPTURE(disks, ctl_print_devices(f, devices, ELEMENTSOF(devices), "vbd", false));
        assert_string_equal(disks,
                            "VDEV     DEVID      BACKEND       FRONTEND      DEVICE           "
                            "TARGET\n"
                            "xvda     51712      connected     connected     /dev/loop0       "
                            "/srv/xen/web1.img\n"
                            "xvdb     51728      connected     initialised   /dev/vg0/data    "
                            "/dev/vg0/data\n");
        CAPTURE(nics, ctl_print_devices(f, devices, ELEMENTSOF(devices), "vif", false));
        assert_non_null(strstr(nics, "0      00:16:3e:01:02:03  vif5.0           xenbr0           "
                                     "init-wait     initialising\n"));
        assert_null(strstr(nics, "xvda"));
}

static void test_devices_json(void **state)
{
        _cleanup_free_ char *nics = NULL, *none = NULL;

        (void)state;
        CAPTURE(nics, ctl_print_devices(f, devices, ELEMENTSOF(devices), "vif", true));
        assert_string_equal(nics, "[\n{\"devid\": 0, \"interface\": \"vif5.0\", \"mac\": "
                                  "\"00:16:3e:01:02:03\", \"bridge\": \"xenbr0\", "
                                  "\"backend_state\": \"init-wait\", \"frontend_state\": "
                                  "\"initialising\"}\n]\n");
        CAPTURE(none, ctl_print_devices(f, devices, 0, "vbd", true));
        assert_string_equal(none, "[]\n");
        assert_string_equal(ctl_xenbus_state_name(9), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size_units),
                cmocka_unit_test(test_size_rejects),
                cmocka_unit_test(test_uint),
                cmocka_unit_test(test_json_string),
                cmocka_unit_test(test_domain_json),
                cmocka_unit_test(test_list_json),
                cmocka_unit_test(test_changes),
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_status_text),
                cmocka_unit_test(test_new_properties_parsed),
                cmocka_unit_test(test_json_new_keys),
                cmocka_unit_test(test_status_restart_wait),
                cmocka_unit_test(test_status_last_action),
                cmocka_unit_test(test_status_without_new_properties),
                cmocka_unit_test(test_status_kept_and_dumping),
                cmocka_unit_test(test_changes_restart_wait),
                cmocka_unit_test(test_exit_codes),
                cmocka_unit_test(test_devices_table),
                cmocka_unit_test(test_devices_json),
        };

        /* The status lines print local time: make it the same everywhere. */
        setenv("TZ", "UTC", 1);
        tzset();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
