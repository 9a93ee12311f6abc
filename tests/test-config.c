/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-config.c — config/: every key, every default, every error (file, line
 * and key in the message), directories, and files that are empty, binary,
 * huge or without a trailing newline. Fixtures live in tests/data/config;
 * files that only one test needs are written to a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/macros.h"
#include "config/config.h"
#include "common/sha1.h"

/* Test fixtures (the only mutable globals allowed). */
static char tmpdir[PATH_MAX];
static char datadir[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static int setup(void **state)
{
        const char *src = getenv("XENSUP_SRC");

        (void)state;
        snprintf(datadir, sizeof(datadir), "%s/tests/data/config", src ? src : ".");
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-config.XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_path(const char *name)
{
        char *p = NULL;

        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        return p;
}

static void write_bytes(const char *name, const void *data, size_t len)
{
        _cleanup_free_ char *p = tmp_path(name);
        _cleanup_fclose_ FILE *f = fopen(p, "w");

        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
}

static void write_text(const char *name, const char *text)
{
        write_bytes(name, text, strlen(text));
}

/* Write text to t.conf beside a readable "vmlinuz" and load it. */
static int load_text(const char *text, struct domain_config **c, char **errors)
{
        _cleanup_free_ char *p = tmp_path("t.conf");

        write_text("vmlinuz", "kernel\n");
        write_text("t.conf", text);
        return config_load_file(p, c, errors);
}

/* Assert that one line of errors is "TMPDIR/FILE[:LINE]: KEY: ..." and contains needle. */
static void assert_error_line(const char *errors, const char *file, unsigned line, const char *key,
                              const char *needle)
{
        _cleanup_free_ char *prefix = NULL;
        const char *p;

        assert_non_null(errors);
        if (line > 0)
                assert_true(asprintf(&prefix, "%s/%s:%u: %s: ", tmpdir, file, line, key) > 0);
        else
                assert_true(asprintf(&prefix, "%s/%s: %s: ", tmpdir, file, key) > 0);
        for (p = errors; p && *p;) {
                const char *eol = strchrnul(p, '\n');

                if (strncmp(p, prefix, strlen(prefix)) == 0) {
                        _cleanup_free_ char *l = strndup(p, (size_t)(eol - p));

                        if (strstr(l, needle))
                                return;
                }
                p = *eol ? eol + 1 : eol;
        }
        fail_msg("no error line starting '%s' containing '%s' in:\n%s", prefix, needle, errors);
}

static unsigned count_lines(const char *s)
{
        unsigned n = 0;

        if (!s || !*s)
                return 0;
        for (; *s; s++)
                n += *s == '\n';
        return n + 1;
}

/* Load text that must fail; the error must name t.conf, line and key, once. */
static void expect_error(const char *text, unsigned line, const char *key, const char *needle)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;

        int r = load_text(text, &c, &errors);

        if (r != -EINVAL)
                fail_msg("loading gave %d, not -EINVAL, for:\n%s", r, text);
        assert_null(c);
        assert_error_line(errors, "t.conf", line, key, needle);
        assert_int_equal(count_lines(errors), 1);
}

#define KERNEL "kernel = \"vmlinuz\"\n"

/* ---- SHA-1 and uuids ---- */

static void hex(const uint8_t *d, size_t n, char *out)
{
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha1_vectors(void **state)
{
        uint8_t d[SHA1_DIGEST_SIZE];
        char h[2 * SHA1_DIGEST_SIZE + 1];
        struct sha1_ctx ctx;
        char chunk[997];

        (void)state;
        /* FIPS 180 / RFC 3174 test vectors. */
        sha1("abc", 3, d);
        hex(d, sizeof(d), h);
        assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
        sha1("", 0, d);
        hex(d, sizeof(d), h);
        assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
        hex(d, sizeof(d), h);
        assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

        /* A million 'a's, fed in odd-sized pieces to cross block boundaries. */
        memset(chunk, 'a', sizeof(chunk));
        sha1_init(&ctx);
        for (size_t left = 1000000; left > 0;) {
                size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

                sha1_update(&ctx, chunk, n);
                left -= n;
        }
        sha1_final(&ctx, d);
        hex(d, sizeof(d), h);
        assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_uuid_from_name(void **state)
{
        uint8_t u1[16], u2[16], ns[16];
        char s[37];

        (void)state;
        assert_int_equal(uuid_from_string(UUID_NAMESPACE_XENSUP, ns), 0);

        /* Expected values from Python's uuid.uuid5(UUID(UUID_NAMESPACE_XENSUP), name). */
        uuid_from_name("web1", u1);
        assert_string_equal(uuid_to_string(u1, s), "a343ef28-0d41-5fad-bb5e-9288ab3eb4a3");
        uuid_from_name("db1", u1);
        assert_string_equal(uuid_to_string(u1, s), "d25296fb-f0d4-591a-8fa8-e5409a43ea8c");
        uuid_from_name("a", u1);
        assert_string_equal(uuid_to_string(u1, s), "f64e393a-3cb5-5c62-9ded-a964134ad802");

        /* Stable, version 5, RFC 4122 variant, distinct per name. */
        uuid_from_name("db1", u1);
        uuid_from_name("db1", u2);
        assert_memory_equal(u1, u2, 16);
        assert_int_equal(u1[6] >> 4, 5);
        assert_int_equal(u1[8] & 0xc0, 0x80);
        uuid_from_name("db2", u2);
        assert_memory_not_equal(u1, u2, 16);
}

static void test_uuid_strings(void **state)
{
        static const char *const bad[] = {
                "",
                "0e8b7a46-1c1b-4b6e-9c1b-2f3a4b5c6d7",
                "0e8b7a46-1c1b-4b6e-9c1b-2f3a4b5c6d7e0",
                "0e8b7a461c1b4b6e9c1b2f3a4b5c6d7e",
                "0e8b7a46-1c1b-4b6e-9c1b-2f3a4b5c6d7g",
                "0e8b7a46+1c1b-4b6e-9c1b-2f3a4b5c6d7e",
                "{e8b7a46-1c1b-4b6e-9c1b-2f3a4b5c6d7e",
                "0e8b7a4-61c1b-4b6e-9c1b-2f3a4b5c6d7e",
        };
        uint8_t u[16];
        char s[37];

        (void)state;
        assert_int_equal(uuid_from_string("0E8B7A46-1c1b-4B6E-9c1b-2F3A4B5C6D7E", u), 0);
        assert_int_equal(u[0], 0x0e);
        assert_int_equal(u[15], 0x7e);
        assert_string_equal(uuid_to_string(u, s), "0e8b7a46-1c1b-4b6e-9c1b-2f3a4b5c6d7e");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(uuid_from_string(bad[i], u), -EINVAL);
        assert_int_equal(uuid_from_string(NULL, u), -EINVAL);
}

static void test_names(void **state)
{
        char n64[66];

        (void)state;
        memset(n64, 'x', 64);
        n64[64] = '\0';
        assert_true(domain_name_is_valid(n64));
        n64[64] = 'x';
        n64[65] = '\0';
        assert_false(domain_name_is_valid(n64));
        assert_true(domain_name_is_valid("Web-1.x_Y"));
        assert_true(domain_name_is_valid("a"));
        assert_false(domain_name_is_valid(""));
        assert_false(domain_name_is_valid(NULL));
        assert_false(domain_name_is_valid("a b"));
        assert_false(domain_name_is_valid("a/b"));
        assert_false(domain_name_is_valid("caf\xc3\xa9"));
}

static void test_enum_tables(void **state)
{
        (void)state;
        for (int i = 0; i < _DOMAIN_TYPE_MAX; i++)
                assert_int_equal(domain_type_from_string(domain_type_to_string(i)), i);
        for (int i = 0; i < _ACTION_MAX; i++)
                assert_int_equal(domain_action_from_string(domain_action_to_string(i)), i);
        for (int i = 0; i < _SHUTDOWN_REASON_MAX; i++)
                assert_int_equal(shutdown_reason_from_string(shutdown_reason_to_string(i)), i);
        assert_string_equal(domain_type_to_string(DOMAIN_TYPE_PVH), "pvh");
        assert_string_equal(domain_action_to_string(ACTION_COREDUMP_RESTART), "coredump-restart");
        assert_string_equal(domain_action_to_string(ACTION_SOFT_RESET), "soft-reset");
        assert_string_equal(shutdown_reason_to_string(SHUTDOWN_REASON_SOFT_RESET), "soft_reset");
        assert_string_equal(shutdown_reason_to_string(SHUTDOWN_REASON_NONE), "none");
        assert_null(domain_type_to_string(_DOMAIN_TYPE_MAX));
        assert_null(domain_action_to_string(-1));
        assert_int_equal(domain_type_from_string("xen"), -1);
        assert_int_equal(domain_action_from_string("Destroy"), -1);
        assert_int_equal(domain_action_from_string(NULL), -1);
        assert_int_equal(shutdown_reason_from_string("halt"), SHUTDOWN_REASON_NONE);
}

/* ---- whole files ---- */

static void test_every_key(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *path = NULL, *errors = NULL, *kernel = NULL, *ramdisk = NULL;
        char s[37];

        (void)state;
        assert_true(asprintf(&path, "%s/full.conf", datadir) > 0);
        assert_int_equal(config_load_file(path, &c, &errors), 0);
        assert_null(errors);
        assert_non_null(c);
        assert_string_equal(c->path, path);
        assert_string_equal(c->name, "full-1.x_Y");
        assert_int_equal(c->name_line, 2);
        assert_string_equal(uuid_to_string(c->uuid, s), "0e8b7a46-1c1b-4b6e-9c1b-2f3a4b5c6d7e");
        assert_int_equal(c->uuid_line, 3);
        assert_false(c->uuid_derived);
        assert_int_equal(c->type, DOMAIN_TYPE_PVH);
        assert_int_equal(c->memory_mib, 512);
        assert_int_equal(c->maxmem_mib, 1024);
        assert_int_equal(c->vcpus, 2);
        assert_int_equal(c->maxvcpus, 4);
        /* Relative paths resolve against the file's directory and come out absolute. */
        assert_int_equal(c->kernel[0], '/');
        assert_non_null(strstr(c->kernel, "tests/data/config/vmlinuz-test"));
        assert_int_equal(access(c->kernel, R_OK), 0);
        assert_non_null(strstr(c->ramdisk, "tests/data/config/initrd-test"));
        assert_string_equal(c->cmdline, "console=hvc0 root=/dev/xvda1 ro");
        assert_int_equal(c->on_poweroff, ACTION_PRESERVE);
        assert_int_equal(c->on_reboot, ACTION_RENAME_RESTART);
        assert_int_equal(c->on_crash, ACTION_COREDUMP_RESTART);
        assert_int_equal(c->on_watchdog, ACTION_COREDUMP_DESTROY);
        assert_int_equal(c->on_soft_reset, ACTION_DESTROY);
        assert_false(c->autostart);
        assert_int_equal(c->cpu_weight, 512);
        assert_int_equal(c->cpu_cap, 150);
        assert_int_equal(c->ssidref, 4294967295u);
        assert_int_equal(c->shutdown_timeout, 30);
        assert_string_equal(c->coredump_dir, "/srv/dumps");
        assert_int_equal(c->restart.burst, 3);
        assert_int_equal(c->restart.interval, 120);
        assert_int_equal(c->restart.delay, 2);
        assert_int_equal(c->restart.max_delay, 30);
        assert_true(c->sim.present);
        assert_int_equal(c->sim.run_seconds, 7);
        assert_int_equal(c->sim.exit, SHUTDOWN_REASON_WATCHDOG);
        assert_int_equal(c->sim.on_shutdown, SIM_SHUTDOWN_IGNORE);
        assert_int_equal(c->sim.build_seconds, 3);
}

static void test_defaults(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *path = NULL, *errors = NULL;
        uint8_t u[16];

        (void)state;
        assert_true(asprintf(&path, "%s/minimal.conf", datadir) > 0);
        assert_int_equal(config_load_file(path, &c, &errors), 0);
        assert_null(errors);
        assert_string_equal(c->name, "minimal");
        uuid_from_name("minimal", u);
        assert_memory_equal(c->uuid, u, 16);
        assert_true(c->uuid_derived);
        assert_int_equal(c->uuid_line, 0);
        assert_int_equal(c->type, DOMAIN_TYPE_PV);
        assert_int_equal(c->memory_mib, 128);
        assert_int_equal(c->maxmem_mib, 128);
        assert_int_equal(c->vcpus, 1);
        assert_int_equal(c->maxvcpus, 1);
        assert_null(c->ramdisk);
        assert_null(c->cmdline);
        assert_int_equal(c->on_poweroff, ACTION_DESTROY);
        assert_int_equal(c->on_reboot, ACTION_RESTART);
        assert_int_equal(c->on_crash, ACTION_DESTROY);
        assert_int_equal(c->on_watchdog, ACTION_DESTROY);
        assert_int_equal(c->on_soft_reset, ACTION_SOFT_RESET);
        assert_int_equal(c->on_host_shutdown, HOST_SHUTDOWN_SAVE);
        assert_true(c->autostart);
        assert_int_equal(c->cpu_weight, 256);
        assert_int_equal(c->cpu_cap, 0);
        assert_int_equal(c->ssidref, 0);
        assert_int_equal(c->shutdown_timeout, 60);
        assert_string_equal(c->coredump_dir, "/var/lib/xen/dump");
        assert_int_equal(c->restart.burst, 5);
        assert_int_equal(c->restart.interval, 60);
        assert_int_equal(c->restart.delay, 0);
        assert_int_equal(c->restart.max_delay, 0);
        assert_false(c->sim.present);
        assert_int_equal(c->sim.run_seconds, 0);
        assert_int_equal(c->sim.exit, SHUTDOWN_REASON_POWEROFF);
        assert_int_equal(c->sim.on_shutdown, SIM_SHUTDOWN_OBEY);
}

static void test_derived_defaults(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_(config_freep) struct domain_config *big = NULL;
        _cleanup_free_ char *errors = NULL;

        (void)state;
        /* maxmem follows memory, maxvcpus follows vcpus; an empty sim { } is present. */
        assert_int_equal(load_text("name = a\n" KERNEL "memory = 2048\nvcpus = 8\n"
                                   "sim {\n}\nrestart { burst = 1 }\n",
                                   &c, &errors),
                         0);
        assert_null(errors);
        assert_int_equal(c->maxmem_mib, 2048);
        assert_int_equal(c->maxvcpus, 8);
        assert_true(c->sim.present);
        assert_int_equal(c->sim.exit, SHUTDOWN_REASON_POWEROFF);
        assert_int_equal(c->restart.burst, 1);
        assert_int_equal(c->restart.interval, 60);

        /* The largest vcpus and memory. */
        assert_int_equal(
            load_text("name = h\n" KERNEL "vcpus = 128\nmemory = 17592186044415\n", &big, &errors),
            0);
        assert_int_equal(big->vcpus, 128);
        assert_int_equal(big->memory_mib, UINT64_MAX >> 20);
}

static void test_value_spellings(void **state)
{
        static const struct {
                const char *text;
                bool value;
        } bools[] = {
                { "true", true },   { "YES", true }, { "On", true },   { "1", true },
                { "false", false }, { "no", false }, { "OFF", false }, { "\"0\"", false },
        };
        char text[256];

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bools); i++) {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                _cleanup_free_ char *errors = NULL;

                snprintf(text, sizeof(text), "name = a\n" KERNEL "autostart = %s\n", bools[i].text);
                assert_int_equal(load_text(text, &c, &errors), 0);
                assert_int_equal(c->autostart, bools[i].value);
        }
        {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                _cleanup_free_ char *errors = NULL;

                /* Quoted numbers, every action for on_soft_reset, single-quoted strings. */
                assert_int_equal(
                    load_text("name = 'q'\n" KERNEL "memory = \"512\"\n"
                              "on_soft_reset = soft-reset\nsim { exit = soft_reset }\n",
                              &c, &errors),
                    0);
                assert_string_equal(c->name, "q");
                assert_int_equal(c->memory_mib, 512);
                assert_int_equal(c->on_soft_reset, ACTION_SOFT_RESET);
                assert_int_equal(c->sim.exit, SHUTDOWN_REASON_SOFT_RESET);
        }
        for (int a = 0; a < _ACTION_MAX; a++) {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                _cleanup_free_ char *errors = NULL;

                snprintf(text, sizeof(text), "name = a\n" KERNEL "on_soft_reset = %s\n",
                         domain_action_to_string(a));
                assert_int_equal(load_text(text, &c, &errors), 0);
                assert_int_equal(c->on_soft_reset, a);
        }
}

/* ---- on_host_shutdown ---- */

static void test_host_shutdown_table(void **state)
{
        (void)state;
        for (int i = 0; i < _HOST_SHUTDOWN_MAX; i++)
                assert_int_equal(
                    host_shutdown_action_from_string(host_shutdown_action_to_string(i)), i);
        assert_string_equal(host_shutdown_action_to_string(HOST_SHUTDOWN_SAVE), "save");
        assert_string_equal(host_shutdown_action_to_string(HOST_SHUTDOWN_SHUTDOWN), "shutdown");
        assert_string_equal(host_shutdown_action_to_string(HOST_SHUTDOWN_KEEP), "keep");
        assert_null(host_shutdown_action_to_string(_HOST_SHUTDOWN_MAX));
        assert_null(host_shutdown_action_to_string(_HOST_SHUTDOWN_INVALID));
        assert_int_equal(host_shutdown_action_from_string("Save"), -1);
        assert_int_equal(host_shutdown_action_from_string("destroy"), -1);
        assert_int_equal(host_shutdown_action_from_string(""), -1);
        assert_int_equal(host_shutdown_action_from_string(NULL), -1);
}

static void test_host_shutdown_default(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL, *zero = NULL;
        _cleanup_free_ char *errors = NULL;

        (void)state;
        assert_int_equal(load_text("name = a\n" KERNEL "autostart = false\n", &c, &errors), 0);
        assert_null(errors);
        assert_int_equal(c->on_host_shutdown, HOST_SHUTDOWN_SAVE);
        /* A hand-built (zeroed) config means the default too. */
        zero = calloc(1, sizeof(*zero));
        assert_non_null(zero);
        assert_int_equal(zero->on_host_shutdown, HOST_SHUTDOWN_SAVE);
}

static void test_host_shutdown_values(void **state)
{
        char text[256];

        (void)state;
        for (int a = 0; a < _HOST_SHUTDOWN_MAX; a++) {
                static const char *const forms[] = { "%s", "\"%s\"", "'%s'" };

                for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                        _cleanup_(config_freep) struct domain_config *c = NULL;
                        _cleanup_free_ char *errors = NULL;
                        char value[32];

                        snprintf(value, sizeof(value), forms[i], host_shutdown_action_to_string(a));
                        snprintf(text, sizeof(text), "name = a\n" KERNEL "on_host_shutdown = %s\n",
                                 value);
                        if (load_text(text, &c, &errors) != 0)
                                fail_msg("refused:\n%s\n%s", text, errors);
                        assert_int_equal(c->on_host_shutdown, a);
                }
        }
}

static void test_host_shutdown_unknown(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *expected = NULL;

        (void)state;
        /* The whole line: file, line, key, the value and every allowed one. */
        assert_int_equal(load_text("name = a\n" KERNEL "\non_host_shutdown = x\n", &c, &errors),
                         -EINVAL);
        assert_null(c);
        assert_true(asprintf(&expected,
                             "%s/t.conf:4: on_host_shutdown: bad value 'x' (allowed: save, "
                             "shutdown, keep)",
                             tmpdir) > 0);
        assert_string_equal(errors, expected);

        expect_error("name = a\n" KERNEL "on_host_shutdown = Save\n", 3, "on_host_shutdown",
                     "bad value 'Save' (allowed: save, shutdown, keep)");
        expect_error("name = a\n" KERNEL "on_host_shutdown = destroy\n", 3, "on_host_shutdown",
                     "bad value 'destroy' (allowed: save, shutdown, keep)");
        expect_error("name = a\n" KERNEL "on_host_shutdown = \"\"\n", 3, "on_host_shutdown",
                     "bad value '' (allowed: save, shutdown, keep)");
        /* The file's bytes are escaped in the message. */
        expect_error("name = a\n" KERNEL "on_host_shutdown = \"ke\\x01p\"\n", 3, "on_host_shutdown",
                     "bad value 'ke\\x01p'");
        expect_error("name = a\n" KERNEL "on_host_shutdown = keep\non_host_shutdown = save\n", 4,
                     "on_host_shutdown", "set twice (first at line 3)");
        /* A typo of the key is an unknown key, and the allowed keys name it. */
        expect_error("name = a\n" KERNEL "on_host_shutdwn = save\n", 3, "on_host_shutdwn",
                     "autostart, on_host_shutdown, cpu_weight");
}

static void test_error_kinds(void **state)
{
        char text[2048], longname[80];

        (void)state;
        expect_error("name = a\n" KERNEL "bogus = 1\n", 3, "bogus", "unknown key (allowed: name,");
        expect_error("name = a\n" KERNEL "sim {\n  run = 5\n}\n", 4, "run",
                     "unknown key (allowed in sim: run_seconds");
        expect_error("name = a\n" KERNEL "restart { tries = 2 }\n", 3, "tries",
                     "allowed in restart: burst, interval");
        expect_error("name = a\n" KERNEL "memory = lots\n", 3, "memory",
                     "bad value 'lots' (allowed: an integer from 1 to 17592186044415)");
        expect_error("name = a\n" KERNEL "memory = 0x100\n", 3, "memory", "bad value '0x100'");
        expect_error("name = a\n" KERNEL "vcpus = -1\n", 3, "vcpus",
                     "bad value '-1' (allowed: an integer from 1 to 128)");
        expect_error("name = a\n" KERNEL "vcpus = 0\n", 3, "vcpus", "bad value '0'");
        expect_error("name = a\n" KERNEL "maxvcpus = 129\n", 3, "maxvcpus", "bad value '129'");
        /* Sizes that overflow: past a long, past a uint64, memory in bytes past a uint64. */
        expect_error("name = a\n" KERNEL "memory = 99999999999999999999999\n", 3, "memory",
                     "bad value '99999999999999999999999'");
        expect_error("name = a\n" KERNEL "\nmemory = 17592186044416\n", 4, "memory",
                     "bad value '17592186044416'");
        expect_error("name = a\n" KERNEL "vcpus = 4294967297\n", 3, "vcpus", "bad value");
        expect_error("name = a\n" KERNEL "ssidref = 4294967296\n", 3, "ssidref",
                     "(allowed: an integer from 0 to 4294967295)");
        expect_error("name = a\n" KERNEL "cpu_weight = 0\n", 3, "cpu_weight", "from 1 to 65535");
        expect_error("name = a\n" KERNEL "shutdown_timeout = 0\n", 3, "shutdown_timeout",
                     "bad value '0'");
        expect_error("name = a\n" KERNEL "autostart = maybe\n", 3, "autostart",
                     "bad value 'maybe' (allowed: true, false");
        expect_error("name = \"has space\"\n" KERNEL, 1, "name",
                     "bad value 'has space' (allowed: 1 to 64 characters of A-Z a-z 0-9 _ . -)");
        memset(longname, 'n', 65);
        longname[65] = '\0';
        snprintf(text, sizeof(text), KERNEL "name = %s\n", longname);
        expect_error(text, 2, "name", "bad value 'nnnnnnnn");
        expect_error("name = a\n" KERNEL "uuid = 1234\n", 3, "uuid",
                     "bad value '1234' (allowed: 8-4-4-4-12 hexadecimal digits");
        expect_error("name = a\n" KERNEL "uuid = \"00000000-0000-0000-0000-000000000000\"\n", 3,
                     "uuid", "not all zero");
        expect_error("name = a\n" KERNEL "type = xen\n", 3, "type",
                     "bad value 'xen' (allowed: pv, pvh)");
        expect_error("name = a\n" KERNEL "memory = 512\nmaxmem = 256\n", 4, "maxmem",
                     "bad value '256' (allowed: at least memory, 512)");
        expect_error("name = a\n" KERNEL "maxmem = 64\n", 3, "maxmem",
                     "(allowed: at least memory, 128 (the default))");
        expect_error("name = a\n" KERNEL "vcpus = 4\nmaxvcpus = 2\n", 4, "maxvcpus",
                     "bad value '2' (allowed: vcpus (4) to 128)");
        expect_error("name = a\n" KERNEL "on_crash = explode\n", 3, "on_crash",
                     "bad value 'explode' (allowed: destroy, restart, preserve");
        expect_error("name = a\n" KERNEL "on_reboot = soft-reset\n", 3, "on_reboot",
                     "soft-reset only for on_soft_reset");
        expect_error("name = a\n" KERNEL "on_poweroff = soft-reset\n", 3, "on_poweroff",
                     "bad value 'soft-reset'");
        expect_error("name = a\n" KERNEL "on_watchdog = reboot\n", 3, "on_watchdog",
                     "bad value 'reboot'");
        expect_error("name = a\n" KERNEL "on_soft_reset = rename\n", 3, "on_soft_reset",
                     "(allowed: soft-reset, destroy, restart");
        expect_error("name = a\n", 0, "kernel",
                     "missing (required: a readable kernel image for a pv domain)");
        expect_error("name = a\ntype = pvh\n", 2, "kernel", "for a pvh domain");
        expect_error("name = a\nkernel = /nonexistent/vmlinuz\n", 2, "kernel",
                     "bad value '/nonexistent/vmlinuz' (allowed: a readable file; "
                     "/nonexistent/vmlinuz: No such file or directory)");
        expect_error("name = a\nkernel = \"missing-kernel\"\n", 2, "kernel",
                     "/missing-kernel: No such");
        expect_error("name = a\nkernel = /tmp\n", 2, "kernel", "/tmp: Is a directory");
        expect_error("name = a\nkernel = /dev/null\n", 2, "kernel",
                     "/dev/null: not a regular file");
        expect_error("name = a\n" KERNEL "ramdisk = /nonexistent/initrd\n", 3, "ramdisk",
                     "No such file");
        expect_error(KERNEL, 0, "name", "missing (required: 1 to 64 characters");
        expect_error("name = a\n" KERNEL "memory = 256\nmemory = 512\n", 4, "memory",
                     "set twice (first at line 3)");
        expect_error("name = a\n" KERNEL "restart { burst = 2 }\nrestart {\n  burst = 3\n}\n", 6,
                     "restart", "section given twice (first ends at line 3");
        expect_error(
            "name = a\n" KERNEL "sim { exit = suspend }\n", 3, "sim.exit",
            "bad value 'suspend' (allowed: poweroff, reboot, crash, watchdog, soft_reset)");
        expect_error("name = a\n" KERNEL "sim { on_shutdown_request = maybe }\n", 3,
                     "sim.on_shutdown_request", "(allowed: obey, ignore)");
        expect_error("name = a\n" KERNEL "sim { run_seconds = -5 }\n", 3, "sim.run_seconds",
                     "bad value '-5'");
        expect_error("name = a\n" KERNEL "restart {\n burst = -1\n}\n", 4, "restart.burst",
                     "bad value '-1' (allowed: an integer from 0 to 2147483647)");
        expect_error("name = a\n" KERNEL "restart {\n interval = 0\n}\n", 4, "restart.interval",
                     "from 1 to 86400");
        expect_error("name = a\n" KERNEL "coredump_dir = dumps\n", 3, "coredump_dir",
                     "an absolute directory path");
        expect_error("name = a\n" KERNEL "cpu_cap = 250\n", 3, "cpu_cap", "100 for maxvcpus 1");
        snprintf(text, sizeof(text), "name = a\n" KERNEL "cmdline = \"%01100d\"\n", 0);
        expect_error(text, 3, "cmdline", "(allowed: at most 1023 characters)");
}

static void test_env_substitution_refused(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *expect = NULL;

        (void)state;
        /* libconfuse would read the daemon's environment for ${...}. */
        assert_int_equal(load_text("name = a\n" KERNEL "cmdline = \"${HOME}\"\n", &c, &errors),
                         -EINVAL);
        assert_true(asprintf(&expect,
                             "%s/t.conf:3: '${' is not allowed (libconfuse would substitute the "
                             "daemon's environment)",
                             tmpdir) > 0);
        assert_string_equal(errors, expect);
}

static void test_syntax_errors(void **state)
{
        (void)state;
        expect_error("name = a\n" KERNEL "memory 512\n", 3, "syntax error",
                     "missing equal sign after option 'memory'");
        expect_error("name = a\n" KERNEL "cmdline = \"unterminated\n\n", 3, "syntax error",
                     "unterminated string");
        expect_error("name = a\n" KERNEL "}\n", 3, "syntax error", "unexpected closing brace");
        /* libconfuse itself accepts both of these at end of file. */
        expect_error("name = a\n" KERNEL "sim {\n run_seconds = 1\n", 3, "syntax error",
                     "section not closed ('{' without '}' before the end)");
        expect_error("name = a\n" KERNEL "/* a comment\n\n", 3, "syntax error",
                     "comment not closed");
        expect_error("name = a\n" KERNEL "restart = 5\n", 3, "syntax error",
                     "missing opening brace for section 'restart'");
        /* A section path written at top level does not reach into the section. */
        expect_error("name = a\n" KERNEL "restart { burst = 2 }\n\"restart|burst\" = 9\n", 4,
                     "burst", "unknown key");
        /* The parse context's hidden option cannot be named from a file. */
        expect_error("name = a\n" KERNEL "\"xensup|ctx\" = 1\n", 3, "syntax error",
                     "no sub-section title/index for 'xensup'");
        /* Control bytes from the file are escaped, so each problem stays one line. */
        expect_error("name = a\n" KERNEL "\"bad\x01\\nkey\" = 1\n", 3, "bad\\x01\\x0akey",
                     "unknown key");
}

/*
 * Found by tests/fuzz: libconfuse fails on an empty key without a word, and the
 * loader blamed memory. The line is the key's, inside a section too.
 */
static void test_empty_key(void **state)
{
        (void)state;
        expect_error("\"\"", 1, "syntax error", "empty key name");
        expect_error("name = a\n" KERNEL "'' = 1\n", 3, "syntax error", "empty key name");
        expect_error("name = a\n" KERNEL "restart {\n\n  \"\" = 1\n}\n", 5, "syntax error",
                     "empty key name");
        expect_error("name = a\n" KERNEL "sim {\n}\nrestart {\n}\nsim {\n\n'' = 2 }\n", 9,
                     "syntax error", "empty key name");
        /* A section path with nothing after its '|' names no key either. */
        expect_error("name = a\n" KERNEL "restart { burst = 1 }\n\"restart|\" = 1\n", 4,
                     "syntax error", "empty key name");
}

static void test_comments_and_lines(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;

        (void)state;
        /* libconfuse 3.3 miscounts lines after comments; the loader blanks them first. */
        expect_error("# one\n#two\n// three\nname = a # four\n/* five\n six */\n" KERNEL
                     "memory = x // eight\n",
                     8, "memory", "bad value 'x'");
        /* Quotes keep comment characters, escaped quotes and newlines in strings count. */
        assert_int_equal(
            load_text("name = a\n" KERNEL "cmdline = \"a # b // c /* d \\\" e\"\n", &c, &errors),
            0);
        assert_string_equal(c->cmdline, "a # b // c /* d \" e");
        expect_error("name = a\n" KERNEL "cmdline = 'x # \\' y\n z'\nvcpus = 0\n", 5, "vcpus",
                     "bad value '0'");
        /* "//" inside a word is not a comment (the lexer's rule too), at its start it is. */
        c = config_free(c);
        assert_int_equal(
            load_text("name = a\nkernel = .//vmlinuz\ncmdline = x//y //z\n", &c, &errors), 0);
        assert_string_equal(c->cmdline, "x//y");
        assert_non_null(strstr(c->kernel, "/.//vmlinuz"));
        expect_error("name = a\n" KERNEL "cmdline = \"line\nbreak\\\ncontinued\"\nvcpus = 0\n", 6,
                     "vcpus", "bad value '0'");
}

static void test_all_problems_reported(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;

        (void)state;
        assert_int_equal(load_text("name = \"bad name\"\n"    /* 1 */
                                   "uuid = nope\n"            /* 2 */
                                   "memory = 512\n"           /* 3 */
                                   "maxmem = 100\n"           /* 4 */
                                   "vcpus = 3\n"              /* 5 */
                                   "maxvcpus = 2\n"           /* 6 */
                                   "on_crash = explode\n"     /* 7 */
                                   "sim {\n"                  /* 8 */
                                   "  exit = halt\n"          /* 9 */
                                   "}\n"                      /* 10 */
                                   "kernel = /nonexistent\n", /* 11 */
                                   &c, &errors),
                         -EINVAL);
        assert_null(c);
        assert_error_line(errors, "t.conf", 1, "name", "bad value 'bad name'");
        assert_error_line(errors, "t.conf", 2, "uuid", "bad value 'nope'");
        assert_error_line(errors, "t.conf", 4, "maxmem", "bad value '100'");
        assert_error_line(errors, "t.conf", 6, "maxvcpus", "bad value '2'");
        assert_error_line(errors, "t.conf", 7, "on_crash", "bad value 'explode'");
        assert_error_line(errors, "t.conf", 9, "sim.exit", "bad value 'halt'");
        assert_error_line(errors, "t.conf", 11, "kernel", "bad value '/nonexistent'");
        assert_int_equal(count_lines(errors), 7);
}

/* Load text that must fail with n error lines; returns them (the caller frees). */
static char *expect_errors(const char *text, unsigned n)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        char *errors = NULL;

        if (load_text(text, &c, &errors) != -EINVAL)
                fail_msg("loading did not fail for:\n%s", text);
        assert_null(c);
        if (count_lines(errors) != n)
                fail_msg("%u error lines, not %u, for:\n%s\nerrors:\n%s", count_lines(errors), n,
                         text, errors ? errors : "(none)");
        return errors;
}

/* libconfuse stops at the first unknown key; every one is reported, each with its line. */
static void test_every_unknown_key(void **state)
{
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL,
                            *e7 = NULL, *expect = NULL;

        (void)state;
        e1 = expect_errors("name = a\n" KERNEL "extra = \"quiet\"\ncap = 50\nbogus = 1\n"
                           "restart {\n  zap = 1\n}\nweight = 512\n",
                           5);
        assert_error_line(e1, "t.conf", 3, "extra", "unknown key; xensup calls it cmdline");
        assert_error_line(e1, "t.conf", 4, "cap", "unknown key; xensup calls it cpu_cap");
        assert_error_line(e1, "t.conf", 5, "bogus", "unknown key (allowed: name, uuid,");
        assert_error_line(e1, "t.conf", 7, "zap",
                          "unknown key (allowed in restart: burst, interval, delay, max_delay)");
        assert_error_line(e1, "t.conf", 9, "weight", "unknown key; xensup calls it cpu_weight");
        /* In file order, each line whole: the first is the one libconfuse itself stopped at. */
        assert_true(asprintf(&expect,
                             "%s/t.conf:3: extra: unknown key; xensup calls it cmdline\n"
                             "%s/t.conf:4: cap: unknown key; xensup calls it cpu_cap\n",
                             tmpdir, tmpdir) > 0);
        assert_memory_equal(e1, expect, strlen(expect));

        /* The other hints, for keys xl spells otherwise. */
        e2 = expect_errors("name = a\n" KERNEL "root = \"/dev/xvda1 ro\"\nbuilder = generic\n"
                           "pvh = 1\n",
                           3);
        assert_error_line(e2, "t.conf", 3, "root",
                          "unknown key; xensup has no root: it is part of cmdline, as xl makes "
                          "it (cmdline = \"root=ROOT EXTRA\")");
        assert_error_line(e2, "t.conf", 4, "builder",
                          "unknown key; xensup calls it type (pv, pvh)");
        assert_error_line(e2, "t.conf", 5, "pvh", "unknown key; xensup says type = \"pvh\"");

        /* xl's [ ] lists are named, and the keys after them are still found. */
        e3 = expect_errors("name = a\n" KERNEL "vif = [ 'bridge=xenbr0',\n  '' ]\nsdl = 1\n", 2);
        assert_error_line(e3, "t.conf", 3, "vif",
                          "xl's [ ] list (allowed: { ... }; xensupctl import-xl converts an "
                          "xl.cfg file)");
        assert_error_line(e3, "t.conf", 5, "sdl", "unknown key (allowed: name,");

        /* Several on one line, after xl's ';' too. */
        e4 = expect_errors("name = a\n" KERNEL "localtime = 1; serial = 'pty' usb = 1\n", 3);
        assert_error_line(e4, "t.conf", 3, "localtime", "unknown key");
        assert_error_line(e4, "t.conf", 3, "serial", "unknown key");
        assert_error_line(e4, "t.conf", 3, "usb", "unknown key");

        /* An unknown section is one error, whatever it holds; the keys after it are found. */
        e5 = expect_errors("name = a\n" KERNEL "extras {\n  a = 1\n}\nfoo = 2\n", 2);
        assert_error_line(e5, "t.conf", 3, "extras", "unknown key");
        assert_error_line(e5, "t.conf", 6, "foo", "unknown key");

        /* Bad values before the first unknown key are reported too, in file order. */
        e6 = expect_errors("name = a\n" KERNEL "memory = lots\nfoo = 1\nbar = 2\n", 3);
        assert_error_line(e6, "t.conf", 3, "memory", "bad value 'lots'");
        assert_error_line(e6, "t.conf", 4, "foo", "unknown key");
        assert_error_line(e6, "t.conf", 5, "bar", "unknown key");
        assert_true(strstr(e6, "memory") < strstr(e6, "foo"));

        /* "[x]" is one word to libconfuse, a value like any other; "[]" is xl's empty list. */
        {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                _cleanup_free_ char *errors = NULL, *e8 = NULL;

                assert_int_equal(load_text("name = a\n" KERNEL "cmdline = [x]\n", &c, &errors), 0);
                assert_string_equal(c->cmdline, "[x]");
                e8 = expect_errors("name = a\n" KERNEL "disk = []\n", 1);
                assert_error_line(e8, "t.conf", 3, "disk", "xl's [ ] list");
        }

        /* A hint is for a top-level key only: "cap" in a section is just unknown there. */
        e7 = expect_errors("name = a\n" KERNEL "sim {\n cap = 1\n}\n", 1);
        assert_error_line(e7, "t.conf", 4, "cap", "unknown key (allowed in sim: run_seconds");
}

static void test_empty_file(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;

        (void)state;
        assert_int_equal(load_text("", &c, &errors), -EINVAL);
        assert_error_line(errors, "t.conf", 0, "name", "missing");
        assert_error_line(errors, "t.conf", 0, "kernel", "missing");
        assert_int_equal(count_lines(errors), 2);
        free(errors);
        errors = NULL;
        /* Comments and blank lines only: the same. */
        assert_int_equal(load_text("# nothing\n\n// here\n/* or\n here */\n", &c, &errors),
                         -EINVAL);
        assert_error_line(errors, "t.conf", 0, "name", "missing");
}

/* A kept copy still loads once its kernel is gone (the daemon's last good config). */
static void test_load_kept_skips_file_checks(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *path = NULL;
        const char *text = "name = \"k1\"\nkernel = \"/nonexistent/vmlinuz-old\"\n";

        (void)state;
        write_text("kept.conf", text);
        path = tmp_path("kept.conf");
        assert_int_equal(config_load_file(path, &c, &errors), -EINVAL);
        assert_error_line(errors, "kept.conf", 2, "kernel", "readable");
        assert_int_equal(config_load_file_flags(path, CONFIG_LOAD_KEPT, &c, NULL), 0);
        assert_string_equal(c->kernel, "/nonexistent/vmlinuz-old");
}

static void test_binary_file(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *path = tmp_path("bin.conf");
        uint8_t bytes[4096];
        unsigned seed = 12345;

        (void)state;
        /* Every byte value, NUL included: refused, naming the NUL's line. */
        for (size_t i = 0; i < sizeof(bytes); i++)
                bytes[i] = (uint8_t)(i * 7 + 1);
        bytes[0] = '\n';
        bytes[1] = '\n';
        bytes[100] = 0;
        write_bytes("bin.conf", bytes, sizeof(bytes));
        assert_int_equal(config_load_file(path, &c, &errors), -EINVAL);
        assert_null(c);
        assert_non_null(strstr(errors, "contains a NUL byte (allowed: a text file)"));
        assert_non_null(strstr(errors, "/bin.conf:"));

        /* Binary without NUL bytes reaches the parser: it fails cleanly, on one line each. */
        for (size_t i = 0; i < sizeof(bytes); i++) {
                seed = seed * 1103515245 + 12345;
                bytes[i] = (uint8_t)((seed >> 16) | 1);
        }
        write_bytes("bin.conf", bytes, sizeof(bytes));
        free(errors);
        errors = NULL;
        assert_int_equal(config_load_file(path, &c, &errors), -EINVAL);
        assert_null(c);
        assert_non_null(errors);
        for (const char *p = errors; *p; p++)
                assert_true(((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f) || *p == '\n');
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_huge_file(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *path = tmp_path("huge.conf");
        _cleanup_free_ char *big = malloc(10 * 1024 * 1024);
        size_t n = 0;
        double t;

        (void)state;
        assert_non_null(big);
        /* 10 MiB of valid-looking lines: refused on its size, before parsing. */
        while (n + 16 <= 10 * 1024 * 1024)
                n += (size_t)sprintf(big + n, "memory = %05zu\n", n % 100000);
        write_bytes("huge.conf", big, n);
        t = now();
        assert_int_equal(config_load_file(path, &c, &errors), -EFBIG);
        assert_true(now() - t < 1.0);
        assert_null(c);
        assert_non_null(strstr(errors, "file too large ("));
        assert_non_null(strstr(errors, "allowed: at most 1048576)"));
        assert_int_equal(count_lines(errors), 1);

        /* Just under the limit, every line bad: parsed, and the report is capped. */
        n = 0;
        n += (size_t)sprintf(big, "name = a\n" KERNEL);
        while (n + 16 <= CONFIG_FILE_MAX)
                n += (size_t)sprintf(big + n, "memory = x%04zu\n", n % 10000);
        write_bytes("t.conf", big, n);
        free(errors);
        errors = NULL;
        t = now();
        {
                _cleanup_free_ char *p = tmp_path("t.conf");

                assert_int_equal(config_load_file(p, &c, &errors), -EINVAL);
        }
        assert_true(now() - t < 10.0);
        assert_int_equal(count_lines(errors), 51);
        assert_non_null(strstr(errors, "more than 50 errors, the rest not shown"));
}

static void test_no_trailing_newline(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;

        (void)state;
        assert_int_equal(load_text("name = last\n" KERNEL "vcpus = 3", &c, &errors), 0);
        assert_int_equal(c->vcpus, 3);
        /* An error on that last line still names it. */
        expect_error("name = last\n" KERNEL "vcpus = 300", 3, "vcpus", "bad value '300'");
        /* CRLF line ends are fine too. */
        c = config_free(c);
        assert_int_equal(load_text("name = crlf\r\n" KERNEL "memory = 256\r\n", &c, &errors), 0);
        assert_int_equal(c->memory_mib, 256);
}

/* A file name with a control byte is refused, escaped in the message (it would forge lines). */
static void test_control_char_in_file_name(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *path = tmp_path("evil\nline.conf");

        (void)state;
        write_text("evil\nline.conf", "name = evil\n" KERNEL);
        assert_int_equal(config_load_file(path, &c, &errors), -EINVAL);
        assert_null(c);
        assert_non_null(errors);
        assert_non_null(strstr(errors, "evil\\x0aline.conf: "));
        assert_non_null(strstr(errors, "control character"));
        assert_null(strchr(errors, '\n'));
}

static void test_not_a_file(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *fifo = tmp_path("fifo.conf");

        (void)state;
        assert_int_equal(config_load_file(tmpdir, &c, &errors), -EINVAL);
        assert_non_null(strstr(errors, ": not a regular file"));
        free(errors);
        errors = NULL;
        /* A FIFO must not block the loader. */
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(config_load_file(fifo, &c, &errors), -EINVAL);
        assert_non_null(strstr(errors, "fifo.conf: not a regular file"));
        free(errors);
        errors = NULL;
        assert_int_equal(config_load_file("/nonexistent/x.conf", &c, &errors), -ENOENT);
        assert_string_equal(errors, "/nonexistent/x.conf: cannot open: No such file or directory");
        unlink(fifo);
        /* errors_r may be NULL. */
        assert_int_equal(config_load_file("/nonexistent/x.conf", &c, NULL), -ENOENT);
}

static void test_lexer_recovers(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;

        (void)state;
        /* libconfuse's lexer is global: an error inside a string must not leak into the next file.
         */
        expect_error("name = a\n" KERNEL "cmdline = \"bad \\9 escape\"\n", 3, "syntax error",
                     "bad escape sequence");
        expect_error("name = a\n" KERNEL "cmdline = 'unterminated\n", 3, "syntax error",
                     "unterminated string (a closing ' is missing)");
        assert_int_equal(load_text("name = ok\n" KERNEL "cmdline = \"x\"\n", &c, &errors), 0);
        assert_string_equal(c->cmdline, "x");
}

#define UNTERMINATED "unterminated string (a closing \" is missing)"

static void test_unterminated_strings(void **state)
{
        static const char *const ok[] = {
                "cmdline = \"a # b\"\n",
                "cmdline = \"http://x\"\n",
                "cmdline = \"a\\\"b\"\n",
                "cmdline = 'a\\'b // c'\n",
                "/* it's \"quoted */\ncmdline = x\n",
                "# a \" in a comment\n// and ' here\ncmdline = x\n",
                "cmdline = \"a\\\\\"\n", /* an escaped backslash does not escape the quote */
        };

        (void)state;
        /* libconfuse 3.3 drops a last statement cut inside a string and reports success. */
        expect_error("\"abc", 1, "syntax error", UNTERMINATED);
        expect_error("name = \"x", 1, "syntax error", UNTERMINATED);
        expect_error("name = a\n" KERNEL "on_crash = \"resta", 3, "syntax error", UNTERMINATED);
        expect_error("name = a\n" KERNEL "sim {\n  exit = \"crash\n}\n", 4, "syntax error",
                     UNTERMINATED);
        expect_error("name = a\n" KERNEL "cmdline = \"one\n\ntwo\n", 3, "syntax error",
                     UNTERMINATED);
        expect_error("name = a\n" KERNEL "cmdline = 'abc", 3, "syntax error",
                     "unterminated string (a closing ' is missing)");
        /* An escape that swallows the closing quote, or a backslash at the very end. */
        expect_error("name = a\n" KERNEL "cmdline = \"abc\\\"\n", 3, "syntax error", UNTERMINATED);
        expect_error("name = a\n" KERNEL "cmdline = \"\\", 3, "syntax error", UNTERMINATED);
        expect_error("name = a\n" KERNEL "cmdline = '\\", 3, "syntax error", "closing '");
        /* Comment characters inside strings and quotes inside comments are not confused. */
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                _cleanup_free_ char *errors = NULL, *text = NULL;

                assert_true(asprintf(&text, "name = a\n" KERNEL "%s", ok[i]) > 0);
                if (load_text(text, &c, &errors) != 0)
                        fail_msg("refused:\n%s\nwith: %s", text, errors);
        }
}

/* Run config_load_file on text with stdout and stderr sent to a file; the bytes written. */
static off_t output_of_load(const char *text)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *out = tmp_path("stdout");
        _cleanup_close_ int fd = -1, saved_out = -1, saved_err = -1;
        struct stat st;
        int r;

        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        fflush(stdout);
        fflush(stderr);
        saved_out = dup(STDOUT_FILENO);
        saved_err = dup(STDERR_FILENO);
        assert_true(saved_out >= 0 && saved_err >= 0);
        assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        r = load_text(text, &c, &errors);
        fflush(stdout);
        fflush(stderr);
        assert_int_equal(dup2(saved_out, STDOUT_FILENO), STDOUT_FILENO);
        assert_int_equal(dup2(saved_err, STDERR_FILENO), STDERR_FILENO);
        assert_int_equal(r, -EINVAL);
        assert_non_null(errors);
        assert_int_equal(fstat(fd, &st), 0);
        unlink(out);
        return st.st_size;
}

static void test_nothing_printed(void **state)
{
        static const char *const texts[] = {
                "name = a\n" KERNEL "cmdline = \"\\",
                "name = a\n" KERNEL "cmdline = '\\",
                "name = a\n" KERNEL "cmdline = \"abc",
                "name = a\n" KERNEL "cmdline = \"bad \\9 escape\"\n",
                "name = a\n" KERNEL "}\n",
        };

        (void)state;
        /* libconfuse's lexer echoes a backslash at end of file to stdout: the daemon's journal. */
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                if (output_of_load(texts[i]) != 0)
                        fail_msg("loading printed something for:\n%s", texts[i]);
}

static void test_path_control_chars(void **state)
{
        (void)state;
        expect_error("name = a\nkernel = \"vm\\nlinuz\"\n", 2, "kernel",
                     "bad value 'vm\\x0alinuz' (allowed: a path without control characters)");
        expect_error("name = a\nkernel = \"vm\tlinuz\"\n", 2, "kernel",
                     "bad value 'vm\\x09linuz' (allowed: a path without control characters)");
        expect_error("name = a\n" KERNEL "ramdisk = \"\\x01/initrd\"\n", 3, "ramdisk",
                     "bad value '\\x01/initrd' (allowed: a path without control characters)");
        expect_error("name = a\n" KERNEL "coredump_dir = \"/var/dump\\x7f\"\n", 3, "coredump_dir",
                     "bad value '/var/dump\\x7f' (allowed: a path without control characters)");
        expect_error("name = a\n" KERNEL "coredump_dir = \"/var/\\r\"\n", 3, "coredump_dir",
                     "(allowed: a path without control characters)");
}

static void test_relative_paths(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *cwd = getcwd(NULL, 0), *expect = NULL;

        (void)state;
        /* A config named by a relative path still resolves its kernel to an absolute path. */
        write_text("vmlinuz", "kernel\n");
        write_text("rel.conf", "name = rel\n" KERNEL);
        assert_int_equal(chdir("/tmp"), 0);
        {
                _cleanup_free_ char *rel = NULL;

                assert_true(asprintf(&rel, "%s/rel.conf", tmpdir + strlen("/tmp/")) > 0);
                assert_int_equal(config_load_file(rel, &c, &errors), 0);
                assert_string_equal(c->path, rel);
        }
        assert_int_equal(chdir(cwd), 0);
        assert_true(asprintf(&expect, "%s/vmlinuz", tmpdir) > 0);
        assert_string_equal(c->kernel, expect);
}

/* ---- directories ---- */

static void test_dir(void **state)
{
        _cleanup_(config_set_clear) struct config_set set = {};
        _cleanup_free_ char *dir = NULL, *errors = NULL, *abs = NULL;

        (void)state;
        assert_true(asprintf(&dir, "%s/dir", datadir) > 0);
        abs = realpath(dir, NULL);
        assert_non_null(abs);
        assert_int_equal(config_load_dir(dir, &set, &errors), 0);
        /* Good files kept, in name order, with absolute paths. */
        assert_int_equal(set.n, 2);
        assert_string_equal(set.items[0]->name, "alpha");
        assert_string_equal(set.items[1]->name, "echo");
        assert_int_equal(set.items[0]->path[0], '/');
        assert_non_null(strstr(set.items[0]->path, "/dir/a-alpha.conf"));
        /* One line per problem: the bad file, then each duplicate naming both files. */
        assert_non_null(errors);
        assert_int_equal(count_lines(errors), 3);
        {
                _cleanup_free_ char *bad = NULL, *dupn = NULL, *dupu = NULL;

                assert_true(asprintf(&bad, "%s/b-bad.conf:3: memory: bad value 'lots'", abs) > 0);
                assert_true(asprintf(&dupn,
                                     "%s/c-dup-name.conf:2: name: duplicate value 'alpha' "
                                     "(allowed: a name no other file uses; %s/a-alpha.conf:1 has "
                                     "it; this file is skipped)",
                                     abs, abs) > 0);
                assert_true(asprintf(&dupu,
                                     "%s/d-dup-uuid.conf:3: uuid: duplicate value "
                                     "'11111111-2222-4333-8444-555555555555' (allowed: a uuid no "
                                     "other file uses; %s/a-alpha.conf has it",
                                     abs, abs) > 0);
                assert_non_null(strstr(errors, bad));
                assert_non_null(strstr(errors, dupn));
                assert_non_null(strstr(errors, dupu));
        }
        assert_null(strstr(errors, "hidden"));
        assert_null(strstr(errors, "notes"));
}

static void test_dir_derived_uuid_clash(void **state)
{
        _cleanup_(config_set_clear) struct config_set set = {};
        _cleanup_free_ char *errors = NULL, *dir = tmp_path("d");
        char text[256], us[37];
        uint8_t u[16];

        (void)state;
        /* b.conf's explicit uuid is the one a.conf derives from its name. */
        assert_int_equal(mkdir(dir, 0755), 0);
        uuid_from_name("web1", u);
        write_text("d/vmlinuz", "k\n");
        write_text("d/a.conf", "name = web1\n" KERNEL);
        snprintf(text, sizeof(text), "name = other\n" KERNEL "uuid = %s\n", uuid_to_string(u, us));
        write_text("d/b.conf", text);
        write_text("d/c.conf", "name = web1c\n" KERNEL);
        assert_int_equal(config_load_dir(dir, &set, &errors), 0);
        assert_int_equal(set.n, 2);
        assert_string_equal(set.items[1]->name, "web1c");
        assert_non_null(strstr(errors, "/d/b.conf:3: uuid: duplicate value 'a343ef28-"));
        assert_int_equal(count_lines(errors), 1);
}

static void test_dir_missing_or_empty(void **state)
{
        _cleanup_(config_set_clear) struct config_set set = {};
        _cleanup_free_ char *errors = NULL, *dir = tmp_path("empty");

        (void)state;
        assert_int_equal(config_load_dir("/nonexistent/domains.d", &set, &errors), -ENOENT);
        assert_string_equal(errors, "/nonexistent/domains.d: cannot read the config directory: "
                                    "No such file or directory");
        assert_int_equal(set.n, 0);
        assert_null(set.items);
        free(errors);
        errors = NULL;
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(config_load_dir(dir, &set, &errors), 0);
        assert_int_equal(set.n, 0);
        assert_null(errors);
        /* A file is not a directory. */
        write_text("empty/x.conf", "");
        {
                _cleanup_free_ char *f = tmp_path("empty/x.conf");

                assert_int_equal(config_load_dir(f, &set, &errors), -ENOTDIR);
                assert_non_null(strstr(errors, "Not a directory"));
        }
}

static void test_examples(void **state)
{
        _cleanup_(config_set_clear) struct config_set set = {};
        _cleanup_free_ char *dir = NULL, *errors = NULL;
        const char *src = getenv("XENSUP_SRC");

        (void)state;
        assert_true(asprintf(&dir, "%s/units/examples", src ? src : ".") > 0);
        assert_int_equal(config_load_dir(dir, &set, &errors), 0);
        if (errors)
                fail_msg("examples have errors:\n%s", errors);
        assert_int_equal(set.n, 4);
        /* Sorted: db1, flaky, web1, web2; each shows one supervisor behaviour. */
        assert_string_equal(set.items[0]->name, "db1");
        assert_int_equal(set.items[0]->sim.exit, SHUTDOWN_REASON_CRASH);
        assert_int_equal(set.items[0]->on_crash, ACTION_RESTART);
        assert_string_equal(set.items[1]->name, "flaky");
        assert_int_equal(set.items[1]->restart.burst, 3);
        assert_int_equal(set.items[1]->sim.run_seconds, 2);
        assert_string_equal(set.items[2]->name, "web1");
        assert_int_equal(set.items[2]->sim.run_seconds, 0);
        assert_string_equal(set.items[3]->name, "web2");
        assert_int_equal(set.items[3]->sim.exit, SHUTDOWN_REASON_REBOOT);
        assert_int_equal(set.items[3]->on_reboot, ACTION_RESTART);
}

/* ---- the struct ---- */

static void test_dup_equal(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL, *d = NULL;
        _cleanup_free_ char *path = NULL, *errors = NULL;

        (void)state;
        assert_true(asprintf(&path, "%s/full.conf", datadir) > 0);
        assert_int_equal(config_load_file(path, &c, &errors), 0);
        d = config_dup(c);
        assert_non_null(d);
        assert_ptr_not_equal(d->kernel, c->kernel);
        assert_string_equal(d->kernel, c->kernel);
        assert_string_equal(d->path, c->path);
        assert_true(config_equal(c, d));
        assert_true(config_equal(NULL, NULL));
        assert_false(config_equal(c, NULL));

        /* Lines and how the uuid was found do not matter; the file and what it builds do. */
        d->name_line = 99;
        d->uuid_line = 0;
        d->uuid_derived = true;
        assert_true(config_equal(c, d));
        free(d->path);
        d->path = strdup("/elsewhere.conf");
        assert_false(config_equal(c, d));
        free(d->path);
        d->path = strdup(c->path);
        assert_true(config_equal(c, d));
        d->memory_mib++;
        assert_false(config_equal(c, d));
        d->memory_mib--;
        d->sim.exit = SHUTDOWN_REASON_CRASH;
        assert_false(config_equal(c, d));
        d->sim.exit = c->sim.exit;
        free(d->cmdline);
        d->cmdline = NULL;
        assert_false(config_equal(c, d));
        d->cmdline = strdup(c->cmdline);
        d->uuid[15] ^= 1;
        assert_false(config_equal(c, d));
        d->uuid[15] ^= 1;
        d->restart.interval = 1;
        assert_false(config_equal(c, d));
        d->restart.interval = c->restart.interval;
        d->restart.delay++;
        assert_false(config_equal(c, d));
        d->restart.delay = c->restart.delay;
        d->restart.max_delay++;
        assert_false(config_equal(c, d));
        d->restart.max_delay = c->restart.max_delay;
        d->on_host_shutdown = HOST_SHUTDOWN_KEEP;
        assert_false(config_equal(c, d));
        d->on_host_shutdown = c->on_host_shutdown;
        assert_true(config_equal(c, d));
        assert_null(config_free(NULL));
        assert_null(config_dup(NULL));
}

static void test_action_for(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *path = NULL, *errors = NULL;

        (void)state;
        assert_true(asprintf(&path, "%s/full.conf", datadir) > 0);
        assert_int_equal(config_load_file(path, &c, &errors), 0);
        assert_int_equal(config_action_for(c, SHUTDOWN_REASON_POWEROFF), ACTION_PRESERVE);
        assert_int_equal(config_action_for(c, SHUTDOWN_REASON_REBOOT), ACTION_RENAME_RESTART);
        assert_int_equal(config_action_for(c, SHUTDOWN_REASON_CRASH), ACTION_COREDUMP_RESTART);
        assert_int_equal(config_action_for(c, SHUTDOWN_REASON_WATCHDOG), ACTION_COREDUMP_DESTROY);
        assert_int_equal(config_action_for(c, SHUTDOWN_REASON_SOFT_RESET), ACTION_DESTROY);
        assert_int_equal(config_action_for(c, SHUTDOWN_REASON_SUSPEND), ACTION_PRESERVE);
        assert_int_equal(config_action_for(c, SHUTDOWN_REASON_NONE), ACTION_DESTROY);
}

/* ---- the restart throttle and backoff ---- */

static void test_restart_keys(void **state)
{
        static const struct {
                const char *section;
                unsigned burst, interval, delay, max_delay;
        } ok[] = {
                { "", 5, 60, 0, 0 },
                { "restart { }", 5, 60, 0, 0 },
                { "restart { burst = 0 }", 0, 60, 0, 0 }, /* the throttle off */
                { "restart { burst = 1000000 }", 1000000, 60, 0, 0 },
                { "restart { burst = 2147483647 }", 2147483647, 60, 0, 0 },
                { "restart { interval = 1 }", 5, 1, 0, 0 },
                { "restart { interval = 86400 }", 5, 86400, 0, 0 },
                /* max_delay follows delay: a constant delay. */
                { "restart { delay = 10 }", 5, 60, 10, 10 },
                { "restart { delay = 10 max_delay = 10 }", 5, 60, 10, 10 },
                { "restart { max_delay = 300 delay = 5 }", 5, 60, 5, 300 },
                /* Without a delay there is no backoff; a max_delay alone is harmless. */
                { "restart { max_delay = 30 }", 5, 60, 0, 30 },
                { "restart {\n burst = 3\n interval = 120\n delay = 1\n max_delay = 86400\n}", 3,
                  120, 1, 86400 },
        };
        char text[512];

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                _cleanup_free_ char *errors = NULL;

                snprintf(text, sizeof(text), "name = a\n" KERNEL "%s\n", ok[i].section);
                if (load_text(text, &c, &errors) != 0)
                        fail_msg("refused:\n%s\n%s", text, errors);
                assert_int_equal(c->restart.burst, ok[i].burst);
                assert_int_equal(c->restart.interval, ok[i].interval);
                assert_int_equal(c->restart.delay, ok[i].delay);
                assert_int_equal(c->restart.max_delay, ok[i].max_delay);
        }

        expect_error("name = a\n" KERNEL "restart { burst = 2147483648 }\n", 3, "restart.burst",
                     "bad value '2147483648' (allowed: an integer from 0 to 2147483647)");
        expect_error("name = a\n" KERNEL "restart { interval = 86401 }\n", 3, "restart.interval",
                     "(allowed: an integer from 1 to 86400)");
        expect_error("name = a\n" KERNEL "restart { delay = -1 }\n", 3, "restart.delay",
                     "bad value '-1' (allowed: an integer from 0 to 86400)");
        expect_error("name = a\n" KERNEL "restart { delay = 86401 }\n", 3, "restart.delay",
                     "bad value '86401'");
        expect_error("name = a\n" KERNEL "restart { max_delay = 1d }\n", 3, "restart.max_delay",
                     "bad value '1d' (allowed: an integer from 0 to 86400)");
        /* max_delay below delay names its own line and delay's. */
        expect_error("name = a\n" KERNEL "restart {\n delay = 10\n\n max_delay = 5\n}\n", 6,
                     "restart.max_delay",
                     "bad value '5' (allowed: at least restart.delay, 10, set at line 4)");
        expect_error("name = a\n" KERNEL "restart {\n max_delay = 5\n delay = 10\n}\n", 4,
                     "restart.max_delay", "at least restart.delay, 10, set at line 5");
        /* A bad delay is reported once, not again through max_delay. */
        expect_error("name = a\n" KERNEL "restart { delay = x max_delay = 5 }\n", 3,
                     "restart.delay", "bad value 'x'");
        expect_error("name = a\n" KERNEL "restart { delay = 1 delay = 2 }\n", 3, "restart.delay",
                     "set twice (first at line 3)");
        expect_error("name = a\n" KERNEL "restart { backoff = 2 }\n", 3, "backoff",
                     "unknown key (allowed in restart: burst, interval, delay, max_delay)");
}

static void test_restart_delay(void **state)
{
        struct domain_config c = { 0 };

        (void)state;
        /* delay 0: no backoff, whatever the count. */
        c.restart.max_delay = 300;
        assert_int_equal(config_restart_delay(&c, 0), 0);
        assert_int_equal(config_restart_delay(&c, 7), 0);
        assert_int_equal(config_restart_delay(&c, UINT_MAX), 0);

        /* Doubling from delay, capped at max_delay. */
        c.restart.delay = 5;
        c.restart.max_delay = 60;
        assert_int_equal(config_restart_delay(&c, 0), 5);
        assert_int_equal(config_restart_delay(&c, 1), 10);
        assert_int_equal(config_restart_delay(&c, 2), 20);
        assert_int_equal(config_restart_delay(&c, 3), 40);
        assert_int_equal(config_restart_delay(&c, 4), 60);
        assert_int_equal(config_restart_delay(&c, 5), 60);
        assert_int_equal(config_restart_delay(&c, UINT_MAX), 60);

        /* max_delay = delay (the default): a constant delay. */
        c.restart.max_delay = 5;
        assert_int_equal(config_restart_delay(&c, 0), 5);
        assert_int_equal(config_restart_delay(&c, 1), 5);
        assert_int_equal(config_restart_delay(&c, 1000), 5);

        /* A cap that is not delay times a power of two is reached exactly. */
        c.restart.delay = 3;
        c.restart.max_delay = 4;
        assert_int_equal(config_restart_delay(&c, 0), 3);
        assert_int_equal(config_restart_delay(&c, 1), 4);

        /* Overflow: the largest values a file allows, and beyond what a file allows. */
        c.restart.delay = 86400;
        c.restart.max_delay = 86400;
        assert_int_equal(config_restart_delay(&c, UINT_MAX), 86400);
        c.restart.delay = 1;
        c.restart.max_delay = UINT_MAX;
        assert_int_equal(config_restart_delay(&c, 31), 1u << 31);
        assert_int_equal(config_restart_delay(&c, 32), UINT_MAX);
        assert_int_equal(config_restart_delay(&c, UINT_MAX), UINT_MAX);
        c.restart.delay = UINT_MAX;
        assert_int_equal(config_restart_delay(&c, 0), UINT_MAX);
        assert_int_equal(config_restart_delay(&c, 5), UINT_MAX);
        /* A hand-built config with max_delay below delay (0, say) waits delay. */
        c.restart.delay = 7;
        c.restart.max_delay = 0;
        assert_int_equal(config_restart_delay(&c, 0), 7);
        assert_int_equal(config_restart_delay(&c, 9), 7);
}

static void test_hvm_refused(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *expect = NULL;

        (void)state;
        /* Refused at --check-config time, not at the first start; no "kernel missing" too. */
        assert_int_equal(load_text("name = h\ntype = \"hvm\"\nmemory = 1024\n", &c, &errors),
                         -EINVAL);
        assert_null(c);
        assert_true(asprintf(&expect,
                             "%s/t.conf:2: type: hvm is not supported (HVM guests need a QEMU "
                             "device model, which xensup does not run; allowed: pv, pvh)",
                             tmpdir) > 0);
        assert_string_equal(errors, expect);
        expect_error("name = h\n" KERNEL "type = hvm\n", 3, "type", "hvm is not supported");
        /* The enum value stays for the builders, and keeps its name. */
        assert_int_equal(domain_type_from_string("hvm"), DOMAIN_TYPE_HVM);
}

/* ---- the struct as text ---- */

/* config_equal, but for path (the one field config_to_text cannot carry). */
static bool equal_but_path(const struct domain_config *a, const struct domain_config *b)
{
        _cleanup_(config_freep) struct domain_config *d = config_dup(b);

        assert_non_null(d);
        assert_int_equal(config_set_path(d, a->path), 0);
        return config_equal(a, d);
}

/* Write c's text, load it back, and check it is c again; returns the text. */
static char *round_trip(const struct domain_config *c)
{
        _cleanup_(config_freep) struct domain_config *back = NULL;
        _cleanup_free_ char *text = NULL, *again = NULL, *errors = NULL;
        _cleanup_free_ char *p = tmp_path("stored.conf");
        int r;

        assert_int_equal(config_to_text(c, &text), 0);
        write_text("stored.conf", text);
        r = config_load_file(p, &back, &errors);
        if (r != 0)
                fail_msg("the text does not load back (%d):\n%s\n--- text:\n%s", r, errors, text);
        assert_string_equal(back->path, p);
        /* The uuid is in the text, so it no longer depends on the name. */
        assert_false(back->uuid_derived);
        assert_memory_equal(back->uuid, c->uuid, 16);
        if (!equal_but_path(c, back))
                fail_msg("the text loads back different:\n%s", text);
        /* Canonical: the config read back writes the same text. */
        assert_int_equal(config_to_text(back, &again), 0);
        assert_string_equal(again, text);
        /* The daemon names the user's file again on the stored copy. */
        assert_int_equal(config_set_path(back, c->path), 0);
        assert_true(config_equal(back, c));
        return TAKE_PTR(text);
}

static struct domain_config *load_ok(const char *text)
{
        struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;

        if (load_text(text, &c, &errors) != 0)
                fail_msg("refused:\n%s\n%s", text, errors);
        return c;
}

static void test_to_text_files(void **state)
{
        _cleanup_(config_freep) struct domain_config *full = NULL, *min = NULL, *sim = NULL;
        _cleanup_(config_freep) struct domain_config *big = NULL;
        _cleanup_free_ char *path = NULL, *errors = NULL;
        char us[37], line[64], *text;

        (void)state;
        /* Every key set. */
        assert_true(asprintf(&path, "%s/full.conf", datadir) > 0);
        assert_int_equal(config_load_file(path, &full, &errors), 0);
        text = round_trip(full);
        assert_non_null(strstr(text, "\nuuid = \"0e8b7a46-1c1b-4b6e-9c1b-2f3a4b5c6d7e\"\n"));
        assert_non_null(strstr(text, "\nssidref = 4294967295\n"));
        assert_non_null(strstr(text, "\nautostart = false\n"));
        assert_non_null(strstr(text, "restart {\n        burst = 3\n        interval = 120\n"
                                     "        delay = 2\n        max_delay = 30\n}\n"));
        assert_non_null(strstr(text, "sim {\n        run_seconds = 7\n"));
        assert_non_null(strstr(text, "\nkernel = \"/"));
        assert_non_null(strstr(text, "tests/data/config/vmlinuz-test\"\n"));
        free(text);

        /* Defaults only: every default written out, the derived uuid included. */
        free(path);
        path = NULL;
        assert_true(asprintf(&path, "%s/minimal.conf", datadir) > 0);
        assert_int_equal(config_load_file(path, &min, &errors), 0);
        assert_true(min->uuid_derived);
        text = round_trip(min);
        snprintf(line, sizeof(line), "uuid = \"%s\"\n", uuid_to_string(min->uuid, us));
        assert_non_null(strstr(text, line));
        assert_true(strncmp(text, "name = \"minimal\"\n", 17) == 0);
        assert_non_null(strstr(text, "\ntype = \"pv\"\nmemory = 128\nmaxmem = 128\nvcpus = 1\n"
                                     "maxvcpus = 1\n"));
        assert_non_null(strstr(text, "\non_poweroff = \"destroy\"\non_reboot = \"restart\"\n"));
        assert_non_null(strstr(text, "\non_soft_reset = \"soft-reset\"\nautostart = true\n"
                                     "on_host_shutdown = \"save\"\n"));
        assert_non_null(strstr(text, "\ncoredump_dir = \"/var/lib/xen/dump\"\n"));
        assert_non_null(strstr(text, "restart {\n        burst = 5\n        interval = 60\n"
                                     "        delay = 0\n        max_delay = 0\n}\n"));
        /* Unset strings and an absent sim section stay out. */
        assert_null(strstr(text, "ramdisk"));
        assert_null(strstr(text, "cmdline"));
        assert_null(strstr(text, "sim"));
        free(text);

        /* An empty sim { } is present, and stays so; the extremes of the integers. */
        sim = load_ok("name = s\n" KERNEL "sim { }\ncmdline = \"\"\n");
        assert_string_equal(sim->cmdline, "");
        text = round_trip(sim);
        assert_non_null(strstr(text, "\ncmdline = \"\"\n"));
        assert_non_null(strstr(text, "sim {\n        run_seconds = 0\n        exit = \"poweroff\"\n"
                                     "        on_shutdown_request = \"obey\"\n"
                                     "        build_seconds = 0\n}\n"));
        free(text);
        big = load_ok("name = b\n" KERNEL "memory = 17592186044415\nvcpus = 128\ncpu_cap = 12800\n"
                      "restart { burst = 2147483647 interval = 86400 delay = 86400 "
                      "max_delay = 86400 }\nsim { run_seconds = 31536000 exit = soft_reset }\n");
        free(round_trip(big));
        big->restart.burst = 0;
        free(round_trip(big));
}

static void test_to_text_strings(void **state)
{
        static const char *const cmdlines[] = {
                "plain",
                "a \"double\" and 'single' quote",
                "back\\slash \\\\ \\n \\x41 \\",
                "$HOME ${HOME} $ {x} ${ $$ \\${",
                "# not // a /* comment */ here",
                "tab\there\nnewline\r\x01\x1f\x7f",
                "caf\xc3\xa9 \xff\x80",
                "\\x4", /* a hex escape must not swallow a following hex digit */
                "=}{,+()",
        };
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *kernel = NULL;
        char *text;

        (void)state;
        c = load_ok("name = \"A.b-c_9\"\n" KERNEL);
        for (size_t i = 0; i < ELEMENTSOF(cmdlines); i++) {
                free(c->cmdline);
                c->cmdline = strdup(cmdlines[i]);
                assert_non_null(c->cmdline);
                text = round_trip(c);
                /* Strings come out as one line of printable ASCII each. */
                for (const char *p = text; *p; p++)
                        assert_true((*p >= 0x20 && *p < 0x7f) || *p == '\n');
                free(text);
        }
        /* Paths are strings too: a kernel and ramdisk whose names need escapes. */
        kernel = tmp_path("k\"e\\r$n{e}l #1");
        write_text("k\"e\\r$n{e}l #1", "kernel\n");
        free(c->kernel);
        c->kernel = strdup(kernel);
        c->ramdisk = strdup(kernel);
        free(c->coredump_dir);
        c->coredump_dir = strdup("/srv/d\"u\\m$p ${X}");
        text = round_trip(c);
        assert_non_null(strstr(text, "k\\\"e\\\\r\\$n{e}l #1\"\n"));
        free(text);
        /* A 64-character name and a 1023-character cmdline, the longest allowed. */
        memset(c->name, 'n', DOMAIN_NAME_MAX);
        c->name[DOMAIN_NAME_MAX] = '\0';
        free(c->cmdline);
        c->cmdline = malloc(1024);
        assert_non_null(c->cmdline);
        memset(c->cmdline, 'x', 1023);
        c->cmdline[1023] = '\0';
        free(round_trip(c));
}

static void test_to_text_actions(void **state)
{
        char text[1024];

        (void)state;
        for (int a = 0; a < _ACTION_MAX; a++) {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                const char *s = domain_action_to_string(a);

                /* soft-reset is allowed only for on_soft_reset. */
                if (a == ACTION_SOFT_RESET)
                        snprintf(text, sizeof(text), "name = a\n" KERNEL "on_soft_reset = %s\n", s);
                else
                        snprintf(text, sizeof(text),
                                 "name = a\n" KERNEL "on_poweroff = %s\non_reboot = %s\n"
                                 "on_crash = %s\non_watchdog = %s\non_soft_reset = %s\n",
                                 s, s, s, s, s);
                c = load_ok(text);
                free(round_trip(c));
        }
        for (int e = 0; e < _SHUTDOWN_REASON_MAX; e++) {
                _cleanup_(config_freep) struct domain_config *c = NULL;

                if (e == SHUTDOWN_REASON_SUSPEND)
                        continue;
                snprintf(text, sizeof(text),
                         "name = a\n" KERNEL
                         "type = pvh\nsim { exit = %s on_shutdown_request = %s }\n",
                         shutdown_reason_to_string(e), e % 2 ? "ignore" : "obey");
                c = load_ok(text);
                free(round_trip(c));
        }
}

static void test_to_text_uuid(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL, *back = NULL;
        _cleanup_free_ char *text = NULL, *errors = NULL, *p = tmp_path("renamed.conf");
        uint8_t derived[16];

        (void)state;
        /* Written in capitals, kept as the same 16 bytes. */
        c = load_ok("name = u\n" KERNEL "uuid = \"ABCDEF01-2345-4789-ABCD-EF0123456789\"\n");
        free(round_trip(c));
        c = config_free(c);

        /* Derived from the name: the text carries it, so a rename keeps it. */
        c = load_ok("name = before\n" KERNEL);
        uuid_from_name("before", derived);
        assert_memory_equal(c->uuid, derived, 16);
        memcpy(c->name, "after", 6);
        assert_int_equal(config_to_text(c, &text), 0);
        write_text("renamed.conf", text);
        assert_int_equal(config_load_file(p, &back, &errors), 0);
        assert_string_equal(back->name, "after");
        assert_memory_equal(back->uuid, derived, 16);
        assert_false(back->uuid_derived);
}

static void test_to_text_refused(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        char *text = NULL;

        (void)state;
        c = load_ok("name = a\n" KERNEL "ramdisk = vmlinuz\nsim { }\n");
        /* What no file could say is refused, and *text_r is left alone. */
        c->name[0] = '\0';
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        memcpy(c->name, "a\"b", 4);
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        memcpy(c->name, "a", 2);
        assert_int_equal(config_to_text(c, &text), 0);
        free(text);
        text = NULL;

        c->type = DOMAIN_TYPE_HVM;
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        c->type = _DOMAIN_TYPE_MAX;
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        c->type = DOMAIN_TYPE_PV;
        c->on_crash = _ACTION_MAX;
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        c->on_crash = ACTION_DESTROY;
        c->sim.exit = SHUTDOWN_REASON_NONE;
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        c->sim.exit = SHUTDOWN_REASON_SUSPEND;
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        c->sim.exit = SHUTDOWN_REASON_CRASH;
        c->ramdisk[0] = 'r'; /* relative: it would resolve against the stored copy's directory */
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        free(c->ramdisk);
        c->ramdisk = NULL;
        free(c->coredump_dir);
        c->coredump_dir = NULL;
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        c->coredump_dir = strdup("/d\n");
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        c->coredump_dir[2] = '\0';
        c->kernel[1] = '\x7f'; /* control characters in paths are refused when loading */
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        free(c->kernel);
        c->kernel = NULL;
        assert_int_equal(config_to_text(c, &text), -EINVAL);
        assert_null(text);
}

static void test_host_shutdown_to_text(void **state)
{
        char text[256], line[64], *out;

        (void)state;
        for (int a = 0; a < _HOST_SHUTDOWN_MAX; a++) {
                _cleanup_(config_freep) struct domain_config *c = NULL, *d = NULL;

                snprintf(text, sizeof(text), "name = a\n" KERNEL "on_host_shutdown = %s\n",
                         host_shutdown_action_to_string(a));
                c = load_ok(text);
                out = round_trip(c);
                /* Written explicitly, the default included, after autostart. */
                snprintf(line, sizeof(line), "\nautostart = true\non_host_shutdown = \"%s\"\n",
                         host_shutdown_action_to_string(a));
                assert_non_null(strstr(out, line));
                free(out);

                /* It counts for config_equal, and config_dup keeps it. */
                d = config_dup(c);
                assert_non_null(d);
                assert_int_equal(d->on_host_shutdown, a);
                assert_true(config_equal(c, d));
                d->on_host_shutdown = (a + 1) % _HOST_SHUTDOWN_MAX;
                assert_false(config_equal(c, d));

                /* What no file could say is refused. */
                out = NULL;
                c->on_host_shutdown = _HOST_SHUTDOWN_MAX;
                assert_int_equal(config_to_text(c, &out), -EINVAL);
                c->on_host_shutdown = _HOST_SHUTDOWN_INVALID;
                assert_int_equal(config_to_text(c, &out), -EINVAL);
                assert_null(out);
        }
}

static void test_set_path(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;

        (void)state;
        c = load_ok("name = a\n" KERNEL);
        assert_int_equal(config_set_path(c, "/etc/xensup/domains.d/a.conf"), 0);
        assert_string_equal(c->path, "/etc/xensup/domains.d/a.conf");
        /* Its own path again (a copy is taken before the old one is freed). */
        assert_int_equal(config_set_path(c, c->path), 0);
        assert_string_equal(c->path, "/etc/xensup/domains.d/a.conf");
        assert_int_equal(config_set_path(c, NULL), 0);
        assert_null(c->path);
}

/* ---- disks and vifs (config/device.c) ---- */

#define DEV_HEAD "name = d\n" KERNEL

/* tmpdir/name, in buf. */
static const char *tmp_in(char buf[PATH_MAX], const char *name)
{
        assert_true((size_t)snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name) < PATH_MAX);
        return buf;
}

static void test_vdev_numbers(void **state)
{
        /* DEVICES.md A.1's worked values, computed with libxl__device_disk_dev_number()'s rules. */
        static const struct {
                const char *vdev;
                uint32_t devid;
        } ok[] = {
                { "xvda", 51712 },
                { "xvda1", 51713 },
                { "xvdb", 51728 },
                { "xvdb2", 51730 },
                { "d1p2", 51730 },
                { "xvdc", 51744 },
                { "xvdd", 51760 },
                { "xvde", 51776 },
                { "xvdp", 51952 },
                { "xvdp15", 51967 },
                { "xvda16", 268435472 },
                { "xvdq", 268439552 },
                { "xvdz", 268441856 },
                { "xvdaa", 268442112 },
                { "xvdtq37", 268572709 },
                { "d536p37", 268572709 },
                { "hda", 768 },
                { "hdb", 832 },
                { "hdc", 5632 },
                { "hdd", 5696 },
                { "hda63", 831 },
                { "sda", 2048 },
                { "sda1", 2049 },
                { "sdb", 2064 },
                { "sdp15", 2303 },
                { "51712", 51712 },
                { "0xca00", 51712 },
                { "0", 0 },
                { "2147483647", 2147483647 },
                { "xvda255", (1u << 28) | 255 },
        };
        static const char *const bad[] = {
                "",           "xvd",
                "xvd1",       "xvda0",
                "xvda01",     "xvda256",
                "xvdA",       "xvda-1",
                "hde",        "hda64",
                "sdq",        "sda16",
                "sd",         "hd",
                "vda",        "-1",
                " 1",         "+1",
                "2147483648", "08",
                "0x",         "d0p256",
                "d-1p0",      "d01p0",
                "dp1",        "d0p",
                "xvda1x",     "xvdbgqcw" /* disk 2^20: one past libxl's limit */,
        };
        uint32_t devid;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                if (vdev_to_devid(ok[i].vdev, &devid) != 0)
                        fail_msg("%s does not decode", ok[i].vdev);
                if (devid != ok[i].devid)
                        fail_msg("%s: %u, not %u", ok[i].vdev, devid, ok[i].devid);
        }
        assert_int_equal(vdev_to_devid("xvdbgqcv", &devid), 0); /* disk 2^20 - 1 */
        assert_int_equal(devid, (1u << 28) | (((1u << 20) - 1) << 8));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vdev_to_devid(bad[i], &devid) != -EINVAL)
                        fail_msg("%s decodes", bad[i]);
        assert_int_equal(vdev_to_devid(NULL, &devid), -EINVAL);
}

static void test_disk_forms(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL, *e = NULL;
        _cleanup_free_ char *img = tmp_path("web1.img"), *comma = tmp_path("a,b img");
        const struct disk_config *d;

        (void)state;
        write_text("web1.img", "");
        write_text("a,b img", "");
        c = load_ok(DEV_HEAD "disk = { \"format=raw, vdev=xvda, access=rw, target=web1.img\",\n"
                             "         \"web1.img,raw,xvdb,ro\",\n"
                             "         \"web1.img,,hdc,cdrom\", \"web1.img,,xvdc,,cdrom\",\n"
                             "         \"web1.img,raw,xvdd,devtype=cdrom\",\n"
                             "         \"format=raw, vdev=xvde, access=ro, devtype=cdrom, "
                             "target=web1.img\",\n"
                             "         \"web1.img,,sda\", \",,xvdf,w,target=a,b img\",\n"
                             "         \"vdev=xvdg,mode=r,target=web1.img\", "
                             "\"  web1.img,,xvdh,r\",\n"
                             "         \"format=, vdev=xvdi, backend=0, backendtype=phy, "
                             "target=web1.img\",\n"
                             "         'web1.img,raw,xvdj,rw,devtype=disk,backend=Domain-0',\n"
                             "         \"vdev=xvdk, script=iscsi, target=iqn.2001-04.com.example:a,"
                             "lun=1\" }\n");
        assert_int_equal(c->n_disks, 13);
        d = &c->disks[0];
        assert_string_equal(d->vdev, "xvda");
        assert_int_equal(d->devid, 51712);
        assert_string_equal(d->target, img);
        assert_false(d->readonly);
        assert_false(d->cdrom);
        assert_null(d->script);
        assert_int_equal(d->line, 3);
        assert_true(c->disks[1].readonly);
        assert_int_equal(c->disks[1].line, 4);
        for (size_t i = 2; i <= 5; i++) {
                /* devtype=cdrom and the cdrom flag, which imply ro. */
                assert_true(c->disks[i].cdrom);
                assert_true(c->disks[i].readonly);
        }
        assert_int_equal(c->disks[2].devid, 5632);
        assert_int_equal(c->disks[6].devid, 2048);
        assert_false(c->disks[6].readonly); /* rw by default */
        /* target= takes the rest of the entry, commas included, after an empty positional one. */
        assert_string_equal(c->disks[7].target, comma);
        assert_false(c->disks[7].readonly);
        assert_true(c->disks[8].readonly);
        assert_string_equal(c->disks[9].vdev, "xvdh"); /* blanks before a parameter are skipped */
        assert_true(c->disks[9].readonly);
        assert_false(c->disks[10].readonly); /* format= empty: the default, raw */
        assert_false(c->disks[11].cdrom);
        /* A script interprets its target: kept as written, not checked. */
        assert_string_equal(c->disks[12].script, "iscsi");
        assert_string_equal(c->disks[12].target, "iqn.2001-04.com.example:a,lun=1");

        /* A single string is a list of one; += adds; no disk at all is fine. */
        e = load_ok(DEV_HEAD "disk = \"web1.img,raw,xvda\"\ndisk += { \"web1.img,raw,xvdb\" }\n");
        assert_int_equal(e->n_disks, 2);
        assert_int_equal(e->disks[1].line, 4);
        config_free(TAKE_PTR(e));
        e = load_ok(DEV_HEAD "disk = { }\nvif = {}\n");
        assert_int_equal(e->n_disks, 0);
        assert_null(e->disks);
        assert_int_equal(e->n_vifs, 0);
}

static void test_disk_errors(void **state)
{
        _cleanup_free_ char *many = NULL;
        char buf[PATH_MAX];
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;

        (void)state;
        write_text("web1.img", "");
        (void)mkdir(tmp_in(buf, "a-dir"), 0700);
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvd0\" }\n", 3, "disk",
                     "entry 1, vdev: bad value 'xvd0' (allowed: xvd[a-z]+");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda\",\n\"web1.img,raw,hde\" }\n", 4,
                     "disk", "entry 2, vdev: bad value 'hde'");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw\" }\n", 3, "disk",
                     "entry 1, vdev: missing (required: xvd");
        expect_error(DEV_HEAD "disk = { \"target=web1.img,vdev=xvda\" }\n", 3, "disk",
                     "vdev: missing");
        /* Two disks on one device number, however spelt: both entries named. */
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda\",\n\"web1.img,raw,hdc\",\n"
                              "\"web1.img,raw,51712,ro\" }\n",
                     5, "disk",
                     "entry 3, vdev: '51712' is device 51712, as entry 1's 'xvda' at line 3 "
                     "(allowed: one disk per vdev)");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,d1p0\", \"web1.img,raw,xvdb\" }\n", 3,
                     "disk", "entry 2, vdev: 'xvdb' is device 51728, as entry 1's 'd1p0'");
        expect_error(DEV_HEAD "disk = { \"format=qcow2, vdev=xvda, target=web1.img\" }\n", 3,
                     "disk",
                     "entry 1, format: qcow2 needs QEMU's qdisk, which xensup does not run "
                     "(allowed: raw)");
        expect_error(DEV_HEAD "disk = { \"web1.img,vhd,xvda\" }\n", 3, "disk",
                     "format: vhd needs QEMU's qdisk");
        expect_error(DEV_HEAD "disk = { \"web1.img,iso,xvda\" }\n", 3, "disk",
                     "format: bad value 'iso' (allowed: raw)");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,rw,colour=red\" }\n", 3, "disk",
                     "unknown keyword 'colour' (allowed: target, format, vdev, access, mode");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,rw,discard\" }\n", 3, "disk",
                     "discard: not supported by xensup");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,rw,extra\" }\n", 3, "disk",
                     "'extra': one positional parameter too many");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,vdev=xvdb\" }\n", 3, "disk",
                     "vdev: given twice (allowed: once)");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,cdrom,cdrom\" }\n", 3, "disk",
                     "cdrom: given twice");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,target=web1.img\" }\n", 3, "disk",
                     "target: given twice");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,rwx\" }\n", 3, "disk",
                     "access: bad value 'rwx' (allowed: ro, r, rw, w)");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,hdc,rw,cdrom\" }\n", 3, "disk",
                     "access: bad value 'rw' (allowed: ro or r: a cdrom is read-only)");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,devtype=floppy\" }\n", 3, "disk",
                     "devtype: bad value 'floppy' (allowed: cdrom, disk)");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,backend=dd1\" }\n", 3, "disk",
                     "backend: bad value 'dd1' (allowed: 0 or Domain-0: driver domains are not "
                     "supported)");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda,backendtype=qdisk\" }\n", 3, "disk",
                     "backendtype: qdisk needs QEMU's qdisk");
        expect_error(DEV_HEAD "disk = { \",raw,xvda\" }\n", 3, "disk",
                     "target: missing (required: a file or block device path)");
        expect_error(DEV_HEAD "disk = { \"vdev=xvda, target=web\\x01.img\" }\n", 3, "disk",
                     "target: bad value 'web\\x01.img' (allowed: a path without control "
                     "characters)");
        expect_error(DEV_HEAD "disk = { \"vdev=xvda, script=a\\tb, target=x\" }\n", 3, "disk",
                     "script: bad value 'a\\x09b'");
        expect_error(DEV_HEAD "disk = { \"missing.img,raw,xvda\" }\n", 3, "disk",
                     "target: bad value '");
        expect_error(DEV_HEAD "disk = { \"missing.img,raw,xvda\" }\n", 3, "disk",
                     "/missing.img' (allowed: a readable regular file or block device; No such "
                     "file or directory)");
        expect_error(DEV_HEAD "disk = { \"a-dir,raw,xvda\" }\n", 3, "disk", "Is a directory");
        expect_error(DEV_HEAD "disk = { \"/dev/null,raw,xvda\" }\n", 3, "disk",
                     "neither a regular file nor a block device");
        /* A second `disk =` would silently replace the first. */
        expect_error(DEV_HEAD
                     "disk = { \"web1.img,raw,xvda\" }\ndisk = { \"web1.img,raw,xvdb\" }\n",
                     4, "disk", "set twice (first at line 3;");
        expect_error(DEV_HEAD "disk = { \"web1.img,raw,xvda\" }\ndisk = { }\n", 3, "disk",
                     "set again later, to an empty list");
        expect_error(DEV_HEAD "disks = { \"web1.img,raw,xvda\" }\n", 3, "disks", "unknown key");

        /* The limit, named once. */
        f = open_memstream(&many, &size);
        assert_non_null(f);
        fputs(DEV_HEAD "disk = {\n", f);
        for (int i = 0; i <= DISKS_MAX; i++)
                fprintf(f, "\"web1.img,raw,%d\"%s\n", 1000 + i, i < DISKS_MAX ? "," : "");
        fputs("}\n", f);
        assert_int_equal(fclose(TAKE_PTR(f)), 0);
        expect_error(many, 3 + DISKS_MAX + 1, "disk",
                     "entry 65, one disk too many (allowed: at most 64)");
}

static void test_disk_target_checks(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL, *p = tmp_path("t.conf");
        const char *text =
            DEV_HEAD "disk = { \"old.img,raw,xvda\", \"/nonexistent/x,raw,xvdb,ro\" }\n";
        char buf[PATH_MAX];
        struct stat st;

        (void)state;
        write_text("t.conf", text);
        assert_int_equal(config_load_file(p, &c, &errors), -EINVAL);
        assert_int_equal(count_lines(errors), 2);
        /* Kept copies and callers' files: the build opens targets with other rights. */
        assert_int_equal(config_load_file_flags(p, CONFIG_LOAD_KEPT, &c, NULL), 0);
        assert_string_equal(c->disks[0].target, tmp_in(buf, "old.img"));
        assert_string_equal(c->disks[1].target, "/nonexistent/x");
        config_free(TAKE_PTR(c));
        assert_int_equal(config_load_file_flags(p, CONFIG_LOAD_CALLER_FILES, &c, NULL), 0);
        config_free(TAKE_PTR(c));

        /* A block device is a target as a file is. */
        if (stat("/dev/loop0", &st) == 0 && S_ISBLK(st.st_mode) &&
            access("/dev/loop0", R_OK) == 0) {
                c = load_ok(DEV_HEAD "disk = { \"/dev/loop0,raw,xvda,ro\" }\n");
                assert_string_equal(c->disks[0].target, "/dev/loop0");
                config_free(TAKE_PTR(c));
        }
        /* rw on what the daemon cannot write; root writes any mode, so only a user can test it. */
        write_text("ro.img", "");
        assert_int_equal(chmod(tmp_in(buf, "ro.img"), 0444), 0);
        c = load_ok(DEV_HEAD "disk = { \"ro.img,raw,xvda,ro\" }\n");
        config_free(TAKE_PTR(c));
        if (geteuid() != 0)
                expect_error(DEV_HEAD "disk = { \"ro.img,raw,xvda\" }\n", 3, "disk",
                             "entry 1, target: '");
        if (geteuid() != 0)
                expect_error(DEV_HEAD "disk = { \"ro.img,raw,xvda\" }\n", 3, "disk",
                             "/ro.img' cannot be opened for writing (Permission denied; allowed: "
                             "a writable file or device, or access=ro)");
}

static void test_vif_forms(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        const struct vif_config *v;
        static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 };

        (void)state;
        c = load_ok(DEV_HEAD
                    "vif = { \"mac=00:16:3E:01:02:03, bridge=xenbr0\",\n"
                    "        \"bridge=xenbr1, vifname=web1-lan\", \"\",\n"
                    "        \"mtu=9000,rate=10Mb/s,script=vif-route,ip=192.0.2.1  fe80::1\",\n"
                    "        \"rate=1MB/s@20ms,type=vif,backend=0,\", \"rate=250KB/s@1s\",\n"
                    "        \"rate=4294967295B/s@4294967295us\", \"rate=8b/s@2\",\n"
                    "        \"mtu=68\", \"mtu=65535\", \"mac=02:00:00:00:00:01\" }\n");
        assert_int_equal(c->n_vifs, 11);
        v = &c->vifs[0];
        assert_true(v->has_mac);
        assert_memory_equal(v->mac, mac, 6);
        assert_string_equal(v->bridge, "xenbr0");
        assert_null(v->vifname);
        assert_int_equal(v->mtu, 0);
        assert_null(v->rate);
        assert_null(v->ips);
        assert_int_equal(v->line, 3);
        assert_string_equal(c->vifs[1].vifname, "web1-lan");
        assert_false(c->vifs[1].has_mac); /* generated by the daemon later, not here */
        assert_int_equal(c->vifs[2].line, 4);
        assert_null(c->vifs[2].bridge);
        v = &c->vifs[3];
        assert_int_equal(v->mtu, 9000);
        assert_string_equal(v->script, "vif-route");
        assert_string_equal(v->rate, "10Mb/s");
        assert_int_equal(v->rate_bytes_per_sec, 1250000);
        assert_int_equal(v->rate_interval_usecs, 50000);
        assert_int_equal(vif_rate_bytes_per_interval(v), 62500);
        assert_string_equal(v->ips[0], "192.0.2.1");
        assert_string_equal(v->ips[1], "fe80::1");
        assert_null(v->ips[2]);
        /* xl-network-configuration(5): 1MB/s@20ms is 20,000 bytes every 20,000 us. */
        assert_int_equal(c->vifs[4].rate_interval_usecs, 20000);
        assert_int_equal(vif_rate_bytes_per_interval(&c->vifs[4]), 20000);
        assert_int_equal(c->vifs[5].rate_bytes_per_sec, 250000);
        assert_int_equal(c->vifs[5].rate_interval_usecs, 1000000);
        assert_int_equal(c->vifs[6].rate_bytes_per_sec, 4294967295u);
        assert_int_equal(c->vifs[6].rate_interval_usecs, 4294967295u);
        assert_int_equal(c->vifs[7].rate_bytes_per_sec, 1);
        assert_int_equal(c->vifs[7].rate_interval_usecs, 2000000);
        assert_int_equal(c->vifs[9].mtu, 65535);
        assert_true(c->vifs[10].has_mac);
}

static void test_vif_errors(void **state)
{
        _cleanup_free_ char *many = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        static const char *const bad_macs[] = { "00:16:3e:01:02",    "00:16:3e:01:02:03:04",
                                                "00-16-3e-01-02-03", "0:16:3e:01:02:03",
                                                "00:16:3e:01:02:0g", "" };
        static const char *const bad_names[] = { "a/b", ".", "..", "a b", "a:b", "0123456789abcdef",
                                                 "" };
        static const char *const bad_rates[] = {
                "10",           "10Mb",   "10Mb/s@", "10Mb/s@20ns",  "0Mb/s",
                "1b/s",         "10mb/s", "10Tb/s",  "10Mb/s@0",     "4294967296B/s",
                "10Mb/s@4295s", "/s",     "10 Mb/s", "10Mb/s@20ms@1"
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad_macs); i++) {
                _cleanup_free_ char *t = NULL;

                assert_true(asprintf(&t, DEV_HEAD "vif = { \"mac=%s\" }\n", bad_macs[i]) > 0);
                expect_error(t, 3, "vif", "entry 1, mac: bad value '");
                expect_error(t, 3, "vif", "(allowed: 6 hexadecimal octets separated by ':')");
        }
        expect_error(DEV_HEAD "vif = { \"mac=01:16:3e:01:02:03\" }\n", 3, "vif",
                     "mac: bad value '01:16:3e:01:02:03' (allowed: a unicast address");
        expect_error(DEV_HEAD "vif = { \"mac=ff:ff:ff:ff:ff:ff\" }\n", 3, "vif", "unicast");
        expect_error(DEV_HEAD "vif = { \"mac=00:00:00:00:00:00\" }\n", 3, "vif",
                     "(allowed: an address other than 00:00:00:00:00:00)");
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                _cleanup_free_ char *t = NULL, *u = NULL;

                assert_true(asprintf(&t, DEV_HEAD "vif = { \"bridge=%s\" }\n", bad_names[i]) > 0);
                expect_error(t, 3, "vif", "bridge: bad value '");
                expect_error(t, 3, "vif", "an interface name of 1 to 15 bytes");
                assert_true(asprintf(&u, DEV_HEAD "vif = { \"vifname=%s\" }\n", bad_names[i]) > 0);
                expect_error(u, 3, "vif", "vifname: bad value '");
        }
        assert_true(ifname_is_valid("0123456789abcde"));
        assert_false(ifname_is_valid("a\x7f"));
        expect_error(DEV_HEAD "vif = { \"mtu=67\" }\n", 3, "vif",
                     "mtu: bad value '67' (allowed: an integer from 68 to 65535)");
        expect_error(DEV_HEAD "vif = { \"mtu=65536\" }\n", 3, "vif", "mtu: bad value '65536'");
        expect_error(DEV_HEAD "vif = { \"mtu=1500x\" }\n", 3, "vif", "mtu: bad value '1500x'");
        expect_error(DEV_HEAD "vif = { \"mtu=\" }\n", 3, "vif", "mtu: bad value ''");
        for (size_t i = 0; i < ELEMENTSOF(bad_rates); i++) {
                _cleanup_free_ char *t = NULL;

                assert_true(asprintf(&t, DEV_HEAD "vif = { \"rate=%s\" }\n", bad_rates[i]) > 0);
                expect_error(t, 3, "vif", "rate: bad value '");
                expect_error(t, 3, "vif", "(allowed: RATE/s or RATE/s@INTERVAL");
        }
        expect_error(DEV_HEAD "vif = { \"rate=4294967295GB/s@4294967295us\" }\n", 3, "vif",
                     "(allowed: a rate whose credit per interval fits 64 bits)");
        expect_error(DEV_HEAD "vif = { \"ip=192.0.2.300\" }\n", 3, "vif",
                     "ip: bad value '192.0.2.300' (allowed: IPv4 or IPv6 addresses separated by "
                     "spaces)");
        expect_error(DEV_HEAD "vif = { \"ip=192.0.2.1 fe80::1::2\" }\n", 3, "vif",
                     "ip: bad value 'fe80::1::2'");
        expect_error(DEV_HEAD "vif = { \"ip=\" }\n", 3, "vif", "ip: bad value ''");
        expect_error(DEV_HEAD "vif = { \"script=\" }\n", 3, "vif", "script: bad value ''");
        expect_error(DEV_HEAD "vif = { \"model=e1000\" }\n", 3, "vif",
                     "model: an emulated NIC needs a QEMU device model, which xensup does not run");
        expect_error(DEV_HEAD "vif = { \"type=ioemu\" }\n", 3, "vif",
                     "type: bad value 'ioemu' (allowed: vif: an emulated NIC needs a QEMU");
        expect_error(DEV_HEAD "vif = { \"backend=netdom\" }\n", 3, "vif",
                     "backend: bad value 'netdom' (allowed: 0 or Domain-0");
        expect_error(DEV_HEAD "vif = { \"gatewaydev=eth0\" }\n", 3, "vif",
                     "unknown keyword 'gatewaydev' (allowed: mac, bridge, vifname, mtu, script, "
                     "rate, ip, backend, type)");
        expect_error(DEV_HEAD "vif = { \"bridge=xenbr0, trusted\" }\n", 3, "vif",
                     "'trusted': not key=value");
        expect_error(DEV_HEAD "vif = { \"bridge=xenbr0, bridge=xenbr1\" }\n", 3, "vif",
                     "bridge: given twice (allowed: once)");
        /* The same explicit MAC or vifname twice, naming the first entry. */
        expect_error(DEV_HEAD "vif = { \"mac=00:16:3e:01:02:03\",\n \"bridge=xenbr1\",\n"
                              " \"mac=00:16:3E:01:02:03, bridge=xenbr1\" }\n",
                     5, "vif",
                     "entry 3, mac: 00:16:3e:01:02:03 is entry 1's too, at line 3 (allowed: one "
                     "vif per MAC)");
        expect_error(DEV_HEAD "vif = { \"vifname=w1\", \"vifname=w1\" }\n", 3, "vif",
                     "entry 2, vifname: 'w1' is entry 1's too, at line 3");
        expect_error(DEV_HEAD "vif = { \"\" }\nvif = { \"\" }\n", 4, "vif", "set twice");

        f = open_memstream(&many, &size);
        assert_non_null(f);
        fputs(DEV_HEAD "vif = {", f);
        for (int i = 0; i <= VIFS_MAX; i++)
                fprintf(f, "\"\"%s", i < VIFS_MAX ? ", " : "");
        fputs("}\n", f);
        assert_int_equal(fclose(TAKE_PTR(f)), 0);
        expect_error(many, 3, "vif", "entry 17, one vif too many (allowed: at most 16)");
}

static void test_devices_fixture(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *path = NULL, *errors = NULL, *text = NULL;

        (void)state;
        assert_true(asprintf(&path, "%s/devices.conf", datadir) > 0);
        assert_int_equal(config_load_file(path, &c, &errors), 0);
        assert_int_equal(c->n_disks, 3);
        assert_int_equal(c->disks[0].devid, 51712);
        assert_int_equal(c->disks[0].line, 5);
        assert_non_null(strstr(c->disks[0].target, "tests/data/config/vmlinuz-test"));
        assert_int_equal(c->disks[1].devid, 51728);
        assert_true(c->disks[1].readonly);
        assert_true(c->disks[2].cdrom);
        assert_int_equal(c->n_vifs, 2);
        assert_true(c->vifs[0].has_mac);
        assert_int_equal(c->vifs[1].mtu, 9000);
        assert_int_equal(c->vifs[1].line, 11);
        text = round_trip(c);
}

static void test_devices_round_trip(void **state)
{
        _cleanup_(config_freep) struct domain_config *c = NULL, *d = NULL;
        _cleanup_free_ char *text = NULL;
        char *t = NULL;

        (void)state;
        write_text("web1.img", "");
        write_text("a,\"$b", "");
        c = load_ok(DEV_HEAD
                    "disk = { \"web1.img,raw,xvda\", \"web1.img,,hdc,cdrom\",\n"
                    "\"vdev=xvdb,target=a,\\\"\\$b\", \"vdev=51760, mode=r, "
                    "script=my-script, target=  x y, z \" }\n"
                    "vif = { \"mac=00:16:3e:01:02:03, bridge=xenbr0, vifname=w-1, mtu=1500, "
                    "script=vif-x, rate=10Mb/s@20ms, ip=10.0.0.1 ::1\", \"\", "
                    "\"ip=10.0.0.2\" }\n");
        text = round_trip(c);
        assert_non_null(strstr(text, "\ndisk = {\n        \"vdev=xvda, format=raw, access=rw, "
                                     "target=/"));
        assert_non_null(strstr(text, "\"vdev=hdc, format=raw, access=ro, devtype=cdrom, target="));
        assert_non_null(strstr(text, "/a,\\\"\\$b\",\n"));
        assert_non_null(strstr(text, "\"vdev=51760, format=raw, access=ro, script=my-script, "
                                     "target=  x y, z \"\n}\n"));
        assert_non_null(strstr(text,
                               "\nvif = {\n        \"mac=00:16:3e:01:02:03, bridge=xenbr0, "
                               "vifname=w-1, mtu=1500, script=vif-x, rate=10Mb/s@20ms, "
                               "ip=10.0.0.1 ::1\",\n        \"\",\n        \"ip=10.0.0.2\"\n}\n"));

        /* dup is deep; equal compares every device field, but not lines. */
        d = config_dup(c);
        assert_non_null(d);
        assert_ptr_not_equal(d->disks, c->disks);
        assert_ptr_not_equal(d->disks[0].target, c->disks[0].target);
        assert_ptr_not_equal(d->vifs[0].ips, c->vifs[0].ips);
        assert_true(config_equal(c, d));
        d->disks[0].line = 99;
        d->vifs[0].line = 99;
        assert_true(config_equal(c, d));
        d->disks[1].readonly = false;
        assert_false(config_equal(c, d));
        d->disks[1].readonly = true;
        d->disks[0].devid++;
        assert_false(config_equal(c, d));
        d->disks[0].devid--;
        d->vifs[0].mac[5] ^= 1;
        assert_false(config_equal(c, d));
        d->vifs[0].mac[5] ^= 1;
        d->vifs[0].ips[1][0] = '1';
        assert_false(config_equal(c, d));
        d->vifs[0].ips[1][0] = ':';
        d->vifs[2].mtu = 1400;
        assert_false(config_equal(c, d));
        d->vifs[2].mtu = 0;
        d->n_vifs--;
        assert_false(config_equal(c, d));
        d->n_vifs++;
        assert_true(config_equal(c, d));

        /* What disk_parse() or vif_parse() would refuse is not written. */
        d->disks[0].devid++;
        assert_int_equal(config_to_text(d, &t), -EINVAL);
        d->disks[0].devid--;
        d->disks[0].target[0] = 'r'; /* relative, without a script */
        assert_int_equal(config_to_text(d, &t), -EINVAL);
        d->disks[0].target[0] = '/';
        d->disks[1].readonly = false; /* a read-write cdrom */
        assert_int_equal(config_to_text(d, &t), -EINVAL);
        d->disks[1].readonly = true;
        d->vifs[0].bridge[0] = '/';
        assert_int_equal(config_to_text(d, &t), -EINVAL);
        d->vifs[0].bridge[0] = 'x';
        d->vifs[0].mtu = 20;
        assert_int_equal(config_to_text(d, &t), -EINVAL);
        d->vifs[0].mtu = 1500;
        assert_null(t);
        assert_int_equal(config_to_text(d, &t), 0);
        free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha1_vectors),
                cmocka_unit_test(test_uuid_from_name),
                cmocka_unit_test(test_uuid_strings),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_enum_tables),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_derived_defaults),
                cmocka_unit_test(test_value_spellings),
                cmocka_unit_test(test_host_shutdown_table),
                cmocka_unit_test(test_host_shutdown_default),
                cmocka_unit_test(test_host_shutdown_values),
                cmocka_unit_test(test_host_shutdown_unknown),
                cmocka_unit_test(test_error_kinds),
                cmocka_unit_test(test_env_substitution_refused),
                cmocka_unit_test(test_syntax_errors),
                cmocka_unit_test(test_empty_key),
                cmocka_unit_test(test_comments_and_lines),
                cmocka_unit_test(test_all_problems_reported),
                cmocka_unit_test(test_every_unknown_key),
                cmocka_unit_test(test_empty_file),
                cmocka_unit_test(test_load_kept_skips_file_checks),
                cmocka_unit_test(test_binary_file),
                cmocka_unit_test(test_huge_file),
                cmocka_unit_test(test_no_trailing_newline),
                cmocka_unit_test(test_control_char_in_file_name),
                cmocka_unit_test(test_not_a_file),
                cmocka_unit_test(test_lexer_recovers),
                cmocka_unit_test(test_unterminated_strings),
                cmocka_unit_test(test_nothing_printed),
                cmocka_unit_test(test_path_control_chars),
                cmocka_unit_test(test_relative_paths),
                cmocka_unit_test(test_dir),
                cmocka_unit_test(test_dir_derived_uuid_clash),
                cmocka_unit_test(test_dir_missing_or_empty),
                cmocka_unit_test(test_examples),
                cmocka_unit_test(test_dup_equal),
                cmocka_unit_test(test_action_for),
                cmocka_unit_test(test_restart_keys),
                cmocka_unit_test(test_restart_delay),
                cmocka_unit_test(test_hvm_refused),
                cmocka_unit_test(test_to_text_files),
                cmocka_unit_test(test_to_text_strings),
                cmocka_unit_test(test_to_text_actions),
                cmocka_unit_test(test_to_text_uuid),
                cmocka_unit_test(test_to_text_refused),
                cmocka_unit_test(test_host_shutdown_to_text),
                cmocka_unit_test(test_vdev_numbers),
                cmocka_unit_test(test_disk_forms),
                cmocka_unit_test(test_disk_errors),
                cmocka_unit_test(test_disk_target_checks),
                cmocka_unit_test(test_vif_forms),
                cmocka_unit_test(test_vif_errors),
                cmocka_unit_test(test_devices_fixture),
                cmocka_unit_test(test_devices_round_trip),
                cmocka_unit_test(test_set_path),
        };

        return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
