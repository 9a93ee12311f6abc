/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-config.c — a libFuzzer target for config/ (tests/fuzz/README.md).
 *
 * Each input is written to a.conf and b.conf in a private directory and
 * loaded with config_load_file(), config_load_file_flags(CONFIG_LOAD_KEPT)
 * and config_load_dir(). A broken promise of config.h aborts, so that
 * libFuzzer reports it and saves the input:
 *   - a load succeeds with a config and no message, or fails with -EINVAL,
 *     no config and a message;
 *   - every message line starts "FILE:" (then a line of that file, if any),
 *     holds no control byte, and never blames memory (ASan's malloc cannot fail);
 *   - a config that loads holds only values the checks allow, loads the same
 *     with KEPT and from the directory (where b.conf is a skipped duplicate);
 *   - it equals its config_dup(), and config_to_text() gives text that loads
 *     back to an equal config, and then to the same text;
 *   - nothing is written to stdout.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "common/macros.h"
#include "config/config.h"

/*
 * Readable files beside the input, so that relative kernel and ramdisk paths
 * resolve: "kernel" and "ramdisk", then the names the seeds copied from
 * units/examples and tests/data/config use.
 */
static const char *const dummies[] = { "kernel",       "ramdisk",     "kernel-sim",
                                       "vmlinuz-test", "initrd-test", "vmlinuz" };

/* Set once by LLVMFuzzerInitialize(). */
static char dir[PATH_MAX];   /* resolved, as config_load_dir() names its files */
static char first[PATH_MAX]; /* dir/a.conf: the input */
static char twin[PATH_MAX];  /* dir/b.conf: the same bytes, read after a.conf */
static char text_path[PATH_MAX];

/* The current input's lines (its newlines + 1): no message may name a later one. */
static unsigned input_lines;

_printf_(1, 2) __attribute__((noreturn)) static void fail(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("fuzz-config: invariant broken: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        abort();
}

#define check(cond, ...)                                                                           \
        do {                                                                                       \
                if (!(cond))                                                                       \
                        fail(__VA_ARGS__);                                                         \
        } while (0)

static void write_file(const char *path, const void *data, size_t size)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const char *p = data;

        if (fd < 0)
                fail("cannot create %s: %m", path);
        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        fail("cannot write %s: %m", path);
                p += n;
                size -= (size_t)n;
        }
}

static void dir_path(char *buf, size_t size, const char *name)
{
        if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
                fail("%s/%s: path too long", dir, name);
}

static void remove_dir(void)
{
        char p[PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(dummies); i++) {
                dir_path(p, sizeof(p), dummies[i]);
                unlink(p);
        }
        unlink(first);
        unlink(twin);
        unlink(text_path);
        rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *tmp = getenv("TMPDIR");
        char tmpl[PATH_MAX], p[PATH_MAX];
        int fd;

        (void)argc;
        (void)argv;
        if (!tmp || !*tmp)
                tmp = "/tmp";
        snprintf(tmpl, sizeof(tmpl), "%s/fuzz-config.XXXXXX", tmp);
        if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
                fail("cannot create a directory in %s: %m", tmp);
        dir_path(first, sizeof(first), "a.conf");
        dir_path(twin, sizeof(twin), "b.conf");
        dir_path(text_path, sizeof(text_path), "to-text.out");
        for (size_t i = 0; i < ELEMENTSOF(dummies); i++) {
                dir_path(p, sizeof(p), dummies[i]);
                write_file(p, "dummy\n", 6);
        }
        atexit(remove_dir);

        /* A file, not a pipe: output must be caught, never block the fuzzer. */
        dir_path(p, sizeof(p), "stdout");
        fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
                fail("cannot redirect stdout to %s: %m", p);
        close(fd);
        unlink(p);
        return 0;
}

/* libconfuse's lexer writes through stdio: flush it before looking at the file. */
static void check_stdout(void)
{
        char head[256] = "";
        struct stat st;

        fflush(stdout);
        if (fstat(STDOUT_FILENO, &st) < 0)
                fail("fstat(stdout): %m");
        if (st.st_size == 0)
                return;
        if (pread(STDOUT_FILENO, head, sizeof(head) - 1, 0) < 0)
                head[0] = '\0';
        fail("%lld bytes written to stdout, starting: %s", (long long)st.st_size, head);
}

/* The length of "FILE" when line starts "FILE:", else 0. */
static size_t prefix_of(const char *line, const char *file)
{
        size_t len = strlen(file);

        return strncmp(line, file, len) == 0 && line[len] == ':' ? len : 0;
}

/* config.h: one "FILE:LINE: ..." or "FILE: ..." line per problem, the file's bytes escaped. */
static void check_message(const char *errors, const char *file, const char *other)
{
        for (const char *line = errors; *line;) {
                const char *eol = strchrnul(line, '\n');
                int shown = (int)(eol - line);
                size_t len = prefix_of(line, file);
                const char *after;

                if (len == 0 && other)
                        len = prefix_of(line, other);
                check(len > 0, "a message line does not start with '%s:': %.*s", file, shown, line);
                after = line + len + 1;
                if (*after >= '0' && *after <= '9') {
                        char *end;
                        unsigned long n = strtoul(after, &end, 10);

                        check(n >= 1 && n <= input_lines && *end == ':',
                              "a message names line %lu of %u: %.*s", n, input_lines, shown, line);
                }
                for (const char *c = line; c < eol; c++)
                        check((unsigned char)*c >= 0x20 && *c != 0x7f,
                              "control byte 0x%02x in a message line: %.*s", (unsigned char)*c,
                              shown, line);
                /* ASan's malloc never fails, so config.c's guess "(out of memory?)" is wrong. */
                check(shown < 16 || memcmp(eol - 16, "(out of memory?)", 16) != 0,
                      "a message blames memory: %.*s", shown, line);
                line = *eol ? eol + 1 : eol;
        }
}

static struct domain_config *load(unsigned flags)
{
        const char *what = flags == 0 ? "config_load_file" : "config_load_file_flags(KEPT)";
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;
        int r;

        if (flags == 0)
                r = config_load_file(first, &c, &errors);
        else
                r = config_load_file_flags(first, flags, &c, &errors);
        if (r == 0) {
                check(c && !errors, "%s succeeded with %s", what, c ? errors : "no config");
                return TAKE_PTR(c);
        }
        /* No input is too large (-max_len), changes meanwhile or is unreadable. */
        check(r == -EINVAL, "%s returned %d (%s)", what, r, strerror(-r));
        check(!c, "%s failed, yet returned a config", what);
        check(errors, "%s failed without a message", what);
        check_message(errors, first, NULL);
        return NULL;
}

static bool is_path(const char *s)
{
        if (!s || s[0] != '/')
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* What config.c and device.c promise of the disks and vifs of a config that loads. */
static void check_devices(const struct domain_config *c)
{
        check(c->n_disks <= DISKS_MAX && c->n_vifs <= VIFS_MAX, "loaded %zu disks, %zu vifs",
              c->n_disks, c->n_vifs);
        for (size_t i = 0; i < c->n_disks; i++) {
                const struct disk_config *d = &c->disks[i];
                uint32_t devid = 0;

                check(vdev_to_devid(d->vdev, &devid) == 0 && devid == d->devid,
                      "disk %zu: vdev does not decode to its devid", i);
                check(d->script ? *d->target && !strchr(d->script, ',') : is_path(d->target),
                      "disk %zu: a target that is not absolute, or a bad script", i);
                check(!d->cdrom || d->readonly, "disk %zu: a read-write cdrom", i);
                for (size_t j = 0; j < i; j++)
                        check(c->disks[j].devid != devid, "disks %zu and %zu share a vdev", j, i);
        }
        for (size_t i = 0; i < c->n_vifs; i++) {
                const struct vif_config *v = &c->vifs[i];
                static const uint8_t zero[6];

                check(!v->has_mac || (!(v->mac[0] & 1) && memcmp(v->mac, zero, 6) != 0),
                      "vif %zu: a multicast or zero MAC", i);
                check((!v->bridge || ifname_is_valid(v->bridge)) &&
                          (!v->vifname || ifname_is_valid(v->vifname)),
                      "vif %zu: a bad interface name", i);
                check(v->mtu == 0 || (v->mtu >= 68 && v->mtu <= 65535), "vif %zu: mtu %u", i,
                      v->mtu);
                check(!v->rate || (v->rate_bytes_per_sec > 0 && v->rate_interval_usecs > 0),
                      "vif %zu: a rate of nothing", i);
                for (size_t j = 0; j < i; j++)
                        check(!v->has_mac || !c->vifs[j].has_mac ||
                                  memcmp(c->vifs[j].mac, v->mac, 6) != 0,
                              "vifs %zu and %zu share a MAC", j, i);
        }
}

/* What config.c's checks promise of every config that loads (config.h, config/README.md). */
static void check_values(const struct domain_config *c)
{
        check(domain_name_is_valid(c->name), "loaded a bad name");
        check(is_path(c->kernel) && (!c->ramdisk || is_path(c->ramdisk)) &&
                  is_path(c->coredump_dir),
              "loaded a path that is not absolute or has control characters");
        check(c->type != DOMAIN_TYPE_HVM && domain_type_to_string(c->type), "loaded type %d",
              (int)c->type);
        check(c->memory_mib >= 1 && c->maxmem_mib >= c->memory_mib && c->vcpus >= 1 &&
                  c->maxvcpus >= c->vcpus && c->maxvcpus <= VCPUS_MAX &&
                  c->cpu_cap <= 100 * c->maxvcpus && c->cpu_weight >= 1 && c->shutdown_timeout >= 1,
              "loaded memory %" PRIu64 "/%" PRIu64 ", vcpus %u/%u, cpu_cap %u, weight %u, "
              "shutdown_timeout %u",
              c->memory_mib, c->maxmem_mib, c->vcpus, c->maxvcpus, c->cpu_cap, c->cpu_weight,
              c->shutdown_timeout);
        check(c->restart.interval >= 1 && c->restart.max_delay >= c->restart.delay,
              "loaded restart interval %u, delay %u, max_delay %u", c->restart.interval,
              c->restart.delay, c->restart.max_delay);
        check(!c->sim.present ||
                  (c->sim.exit != SHUTDOWN_REASON_NONE && c->sim.exit != SHUTDOWN_REASON_SUSPEND),
              "loaded sim.exit %d", (int)c->sim.exit);
        check_devices(c);
}

/* config_load_dir(): a.conf as config_load_file() read it; b.conf skipped, as named. */
static void check_dir(const struct domain_config *plain)
{
        _cleanup_(config_set_clear) struct config_set set = {};
        _cleanup_free_ char *errors = NULL;
        int r = config_load_dir(dir, &set, &errors);

        check(r == 0, "config_load_dir returned %d (%s)", r, strerror(-r));
        check(errors, "config_load_dir skipped nothing, or without a message");
        check_message(errors, plain ? twin : first, plain ? NULL : twin);
        if (!plain) {
                check(set.n == 0, "config_load_dir kept %zu configs of a bad file", set.n);
                return;
        }
        check(set.n == 1 && config_equal(set.items[0], plain),
              "config_load_dir kept %zu configs, not the one config_load_file read", set.n);
        check(!strchr(errors, '\n') && strstr(errors, ": duplicate value '"),
              "config_load_dir: not one duplicate reported: %s", errors);
}

static void check_round_trip(const struct domain_config *c)
{
        _cleanup_(config_freep) struct domain_config *copy = config_dup(c), *back = NULL;
        _cleanup_free_ char *text = NULL, *text_again = NULL, *errors = NULL;
        int r;

        check(copy && config_equal(copy, c), "config_dup() is not equal to its original");

        /* A config that loaded is one a file can say. */
        r = config_to_text(c, &text);
        check(r == 0, "config_to_text refused a loaded config: %d", r);
        write_file(text_path, text, strlen(text));
        r = config_load_file_flags(text_path, CONFIG_LOAD_KEPT, &back, &errors);
        check(r == 0, "config_to_text's text does not load (%d):\n%s\n--- text:\n%s", r,
              errors ? errors : "(no message)", text);
        check(config_set_path(back, c->path) == 0, "config_set_path failed");
        r = config_to_text(back, &text_again);
        check(r == 0, "config_to_text refused the config read back: %d", r);
        check(config_equal(back, c),
              "the round trip changed the config:\n%s\n--- read back as:\n%s", text, text_again);
        check(strcmp(text, text_again) == 0, "the round trip changed the text:\n%s\n--- then:\n%s",
              text, text_again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(config_freep) struct domain_config *plain = NULL, *kept = NULL;

        write_file(first, data, size);
        write_file(twin, data, size);
        input_lines = 1;
        for (size_t i = 0; i < size; i++)
                input_lines += data[i] == '\n';

        plain = load(0);
        kept = load(CONFIG_LOAD_KEPT);
        /* KEPT only skips the readability of kernel and ramdisk. */
        if (plain)
                check(kept && config_equal(plain, kept), "a config loads, but not with KEPT");
        if (kept) {
                check_values(kept);
                check_round_trip(kept);
        }
        check_dir(plain);
        check_stdout();
        return 0;
}
