/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of xensupctl's bus-free pieces: size and number parsing, JSON
 * escaping and output, the change lines of `monitor`, durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/macros.h"
#include "common/parse.h"
#include "supervisor/ctl-util.h"

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
        assert_int_equal(ctl_parse_size_kib("512M", &kib), 0);
        assert_int_equal(kib, 512 * 1024);
        assert_int_equal(ctl_parse_size_kib("2G", &kib), 0);
        assert_int_equal(kib, 2 * 1024 * 1024);
        assert_int_equal(ctl_parse_size_kib("1048576K", &kib), 0);
        assert_int_equal(kib, 1048576);
        assert_int_equal(ctl_parse_size_kib("1t", &kib), 0);
        assert_int_equal(kib, 1ULL << 30);
        assert_int_equal(ctl_parse_size_kib("256MiB", &kib), 0);
        assert_int_equal(kib, 256 * 1024);
        assert_int_equal(ctl_parse_size_kib("3gb", &kib), 0);
        assert_int_equal(kib, 3 * 1024 * 1024);
        /* a plain number is MiB, as xl mem-set */
        assert_int_equal(ctl_parse_size_kib("100", &kib), 0);
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
                if (ctl_parse_size_kib(bad[i], &kib) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
                assert_int_equal(kib, 7);
        }
        assert_int_equal(ctl_parse_size_kib("18014398509481983T", &kib), -EINVAL);
        assert_int_equal(ctl_parse_size_kib("17179869183T", &kib), 0); /* (2^64-1) >> 30 */
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
        assert_int_equal(ctl_domain_set_string(d, "UUID", "4c1e0b6a-0000-5000-8000-000000000001"),
                         0);
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size_units),  cmocka_unit_test(test_size_rejects),
                cmocka_unit_test(test_uint),        cmocka_unit_test(test_json_string),
                cmocka_unit_test(test_domain_json), cmocka_unit_test(test_list_json),
                cmocka_unit_test(test_changes),     cmocka_unit_test(test_duration),
                cmocka_unit_test(test_status_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
