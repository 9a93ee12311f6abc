/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * import-xl.c — xensupctl import-xl: xl.cfg files into xensup domain configs.
 *
 * xl's own parser (libxlutil) reads each file, so xl's grammar ([ ] lists, ';' between
 * settings, comments, quoting, a later setting winning, '+=') is matched exactly. libxlutil
 * cannot list a file's keys, so a small scanner of ours finds only their names and lines (for
 * the messages); every value is then fetched through xlu_cfg_get_*(). The config written is
 * checked by config/'s own loader before it is written: what import-xl writes,
 * xensupd --check-config accepts (the host's kernel and disk paths aside, which this host may
 * not have).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libxlutil.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/macros.h"
#include "common/text.h"
#include "common/uuid.h"
#include "common/vocabulary.h"
#include "config/config.h"
#include "config/device.h"
#include "ctl/ctl-util.h"
#include "ctl/import-xl.h"

#define XL_FILE_MAX CONFIG_FILE_MAX
#define CMDLINE_MAX 1023 /* Xen's MAX_GUEST_CMDLINE, less the NUL, as config.c */
#define SHOWN_MAX   64   /* bytes of a value quoted in a message */

/* What xensup makes of an xl key. */
enum xl_kind {
        XL_NAME,
        XL_UUID,
        XL_TYPE,
        XL_BUILDER,
        XL_PVH,
        XL_MEMORY,
        XL_MAXMEM,
        XL_VCPUS,
        XL_MAXVCPUS,
        XL_KERNEL,
        XL_RAMDISK,
        XL_CMDLINE,
        XL_ROOT,
        XL_EXTRA,
        XL_ON_POWEROFF,
        XL_ON_REBOOT,
        XL_ON_CRASH,
        XL_ON_WATCHDOG,
        XL_ON_SOFT_RESET,
        XL_CAP,
        XL_WEIGHT,
        XL_DISK,
        XL_VIF,
        _XL_KIND_MAX,
        XL_UNSUPPORTED = _XL_KIND_MAX,
};

static const char *const xl_kind_names[_XL_KIND_MAX] = {
        [XL_NAME] = "name",
        [XL_UUID] = "uuid",
        [XL_TYPE] = "type",
        [XL_BUILDER] = "builder",
        [XL_PVH] = "pvh",
        [XL_MEMORY] = "memory",
        [XL_MAXMEM] = "maxmem",
        [XL_VCPUS] = "vcpus",
        [XL_MAXVCPUS] = "maxvcpus",
        [XL_KERNEL] = "kernel",
        [XL_RAMDISK] = "ramdisk",
        [XL_CMDLINE] = "cmdline",
        [XL_ROOT] = "root",
        [XL_EXTRA] = "extra",
        [XL_ON_POWEROFF] = "on_poweroff",
        [XL_ON_REBOOT] = "on_reboot",
        [XL_ON_CRASH] = "on_crash",
        [XL_ON_WATCHDOG] = "on_watchdog",
        [XL_ON_SOFT_RESET] = "on_soft_reset",
        [XL_CAP] = "cap",
        [XL_WEIGHT] = "weight",
        [XL_DISK] = "disk",
        [XL_VIF] = "vif",
};

#define WHY_QEMU    "needs a QEMU device model, which xensup does not run"
#define WHY_DEVICES "xensup attaches disks and vifs only"

/* Why an xl key xensup has nothing for is not imported; the first match wins. */
static const struct {
        const char *key;
        bool prefix; /* key is a prefix: every key beginning with it */
        const char *why;
} unsupported[] = {
        { "bootloader", true,
          "not supported: xensup boots the kernel= image itself; give kernel= (copy the guest's "
          "kernel out), ramdisk= and cmdline=" },
        { "device_model", true, WHY_QEMU },
        { "vnc", true, WHY_QEMU },
        { "sdl", true, WHY_QEMU },
        { "spice", true, WHY_QEMU },
        { "usb", true, WHY_QEMU },
        { "serial", false, WHY_QEMU },
        { "soundhw", false, WHY_QEMU },
        { "keymap", false, WHY_QEMU },
        { "nographic", false, WHY_QEMU },
        { "opengl", false, WHY_QEMU },
        { "videoram", false, WHY_QEMU },
        { "vga", false, WHY_QEMU },
        { "stdvga", false, WHY_QEMU },
        { "gfx_passthru", false, WHY_QEMU },
        { "boot", false, "HVM only (the boot order of the firmware); " WHY_QEMU },
        { "acpi", true, "HVM only; xensup builds PV and PVH guests" },
        { "apic", false, "HVM only; xensup builds PV and PVH guests" },
        { "pae", false, "HVM only; xensup builds PV and PVH guests" },
        { "hpet", false, "HVM only; xensup builds PV and PVH guests" },
        { "viridian", false, "HVM only; xensup builds PV and PVH guests" },
        { "firmware", false, "HVM only; xensup builds PV and PVH guests" },
        { "bios", false, "HVM only; xensup builds PV and PVH guests" },
        { "hap", false, "HVM only; xensup builds PV and PVH guests" },
        { "nestedhvm", false, "HVM only; xensup builds PV and PVH guests" },
        { "xen_platform_pci", false, "HVM only; xensup builds PV and PVH guests" },
        { "timer_mode", false, "HVM only; xensup builds PV and PVH guests" },
        { "pci", true, "xensup does no PCI passthrough" },
        { "cpus", true, "xensup does not pin vcpus" },
        { "vfb", false, WHY_DEVICES },
        { "vkb", false, WHY_DEVICES },
        { "vtpm", false, WHY_DEVICES },
        { "channel", false, WHY_DEVICES },
        { "p9", false, WHY_DEVICES },
        { "pvcalls", false, WHY_DEVICES },
        { "vdispl", false, WHY_DEVICES },
        { "vsnd", false, WHY_DEVICES },
        { "dtdev", false, WHY_DEVICES },
        { "iomem", false, WHY_DEVICES },
        { "ioports", false, WHY_DEVICES },
        { "irqs", false, WHY_DEVICES },
        { "seclabel", false, "xensup takes the XSM label by its number, as ssidref" },
        { "init_seclabel", false, "xensup builds with one XSM label, ssidref" },
        { "localtime", false, "xensup sets no guest clock offset" },
        { "rtc_timeoffset", false, "xensup sets no guest clock offset" },
};

/* One setting of the file, as our scanner found it: the last line that sets it. */
struct xl_key {
        char *name;
        unsigned line;
};

/* A message about one file, printed in line order once the file is done. */
struct note {
        unsigned line; /* 0: about the file */
        unsigned seq;  /* the order made, among the same line */
        bool error;    /* an error: the file is not converted */
        char *text;    /* "KEY: ..." or the file's message */
};

/* One file being converted. */
struct xl_file {
        const char *path;
        char *shown; /* path escaped for messages */
        XLU_Config *cfg;
        struct xl_key *keys;
        size_t n_keys;
        struct note *notes;
        size_t n_notes;
        bool failed;
        bool said; /* a note already says "not converted" */
        int fatal; /* a negative errno that is no fault of the file (ENOMEM) */
};

struct import_opts {
        const char *output_dir; /* "-": standard output */
        bool force;
        char **written; /* names converted so far, with the file each came from */
        char **written_from;
        size_t n_written;
};

/* ---- messages ---- */

_printf_(4, 5) static void note(struct xl_file *f, unsigned line, bool error, const char *fmt, ...)
{
        struct note *p;
        char *text = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        p = r < 0 ? NULL : realloc(f->notes, (f->n_notes + 1) * sizeof(*p));
        if (!p) {
                free(r < 0 ? NULL : text);
                f->fatal = -ENOMEM;
                return;
        }
        f->notes = p;
        f->notes[f->n_notes] = (struct note){ line, (unsigned)f->n_notes, error, text };
        f->n_notes++;
        f->failed |= error;
        f->said |= strncmp(text, "not converted", strlen("not converted")) == 0;
}

static int note_cmp(const void *a, const void *b)
{
        const struct note *x = a, *y = b;

        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print the file's notes in line order; the file's own ones (line 0) last. */
static void notes_print(struct xl_file *f)
{
        if (f->n_notes > 1) /* qsort may not be given a NULL array, even empty */
                qsort(f->notes, f->n_notes, sizeof(*f->notes), note_cmp);
        for (size_t i = 0; i < f->n_notes; i++)
                if (f->notes[i].line > 0)
                        fprintf(stderr, "%s:%u: %s\n", f->shown, f->notes[i].line,
                                f->notes[i].text);
        for (size_t i = 0; i < f->n_notes; i++)
                if (f->notes[i].line == 0)
                        fprintf(stderr, "%s: %s\n", f->shown, f->notes[i].text);
}

/* s escaped for a message, at most SHOWN_MAX bytes of it (common/text.h). */
static const char *shown(char buf[SHOWN_MAX * 4 + 8], const char *s)
{
        return text_escape(buf, SHOWN_MAX * 4 + 8, s, SIZE_MAX, SHOWN_MAX);
}

/* ---- the file's keys ---- */

static bool is_ident_start(char c)
{
        return c >= 'a' && c <= 'z';
}

/* As xl's lexer: [a-z][._0-9a-z]* */
static bool is_ident(char c)
{
        return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

static int key_add(struct xl_file *f, const char *name, size_t len, unsigned line)
{
        struct xl_key *p;

        for (size_t i = 0; i < f->n_keys; i++)
                if (strlen(f->keys[i].name) == len && memcmp(f->keys[i].name, name, len) == 0) {
                        /* xl takes the last setting (or adds to it with +=). */
                        f->keys[i].line = line;
                        return 0;
                }
        p = realloc(f->keys, (f->n_keys + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        f->keys = p;
        p[f->n_keys].name = strndup(name, len);
        if (!p[f->n_keys].name)
                return -ENOMEM;
        p[f->n_keys++].line = line;
        return 0;
}

/*
 * The names xl's grammar sets in buf, with their lines: an identifier at the start of a
 * setting (the file's start, after a newline or ';' outside [ ]) followed by '=' or '+='.
 * Only called on text xl's parser accepted, so strings and comments are all well formed.
 */
static int scan_keys(struct xl_file *f, const char *buf, size_t len)
{
        const char *p = buf, *end = buf + len;
        unsigned line = 1, depth = 0;
        bool at_start = true;

        while (p < end) {
                if (*p == '\n') {
                        line++;
                        p++;
                        if (depth == 0)
                                at_start = true;
                } else if (*p == ' ' || *p == '\t' || *p == '\r') {
                        p++;
                } else if (*p == '#') {
                        while (p < end && *p != '\n')
                                p++;
                } else if (*p == '"' || *p == '\'') {
                        char q = *p++;

                        while (p < end && *p != q && *p != '\n')
                                p += *p == '\\' && p + 1 < end ? 2 : 1;
                        p++;
                        at_start = false;
                } else if (*p == ';' && depth == 0) {
                        p++;
                        at_start = true;
                } else if (*p == '[') {
                        depth++;
                        p++;
                } else if (*p == ']') {
                        depth -= depth > 0;
                        p++;
                } else if (at_start && is_ident_start(*p)) {
                        const char *name = p;
                        const char *q;

                        while (p < end && is_ident(*p))
                                p++;
                        for (q = p; q < end && (*q == ' ' || *q == '\t'); q++)
                                ;
                        if (q < end && (*q == '=' || (*q == '+' && q + 1 < end && q[1] == '='))) {
                                int r = key_add(f, name, (size_t)(p - name), line);

                                if (r < 0)
                                        return r;
                        }
                        at_start = false;
                } else {
                        p++;
                        at_start = false;
                }
        }
        return 0;
}

static enum xl_kind kind_of(const char *name)
{
        for (int k = 0; k < _XL_KIND_MAX; k++)
                if (strcmp(xl_kind_names[k], name) == 0)
                        return (enum xl_kind)k;
        return XL_UNSUPPORTED;
}

/* The line that sets kind, or 0 when the file does not. */
static unsigned line_of(const struct xl_file *f, enum xl_kind k)
{
        for (size_t i = 0; i < f->n_keys; i++)
                if (strcmp(f->keys[i].name, xl_kind_names[k]) == 0)
                        return f->keys[i].line;
        return 0;
}

_printf_(3, 4) static void not_imported(struct xl_file *f, enum xl_kind k, const char *fmt, ...)
{
        char why[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        note(f, line_of(f, k), false, "%s: not imported: %s", xl_kind_names[k], why);
}

/* ---- values, through libxlutil ---- */

/*
 * The string value of k: 0 and *value_r (NULL when the file does not set it), or -EINVAL
 * (reported) when it is a list.
 */
static int get_string(struct xl_file *f, enum xl_kind k, const char **value_r)
{
        int e = xlu_cfg_get_string(f->cfg, xl_kind_names[k], value_r, 1);

        if (e == ESRCH) {
                *value_r = NULL;
                return 0;
        }
        if (e) {
                note(f, line_of(f, k), true, "%s: a [ ] list (allowed: a single value)",
                     xl_kind_names[k]);
                return -EINVAL;
        }
        return 0;
}

/*
 * The integer value of k, from min to max: 1 and *v, 0 when the file does not set it, or
 * -EINVAL (reported).
 */
static int get_long(struct xl_file *f, enum xl_kind k, long min, long max, const char *allowed,
                    long *v)
{
        const char *s = NULL;
        char buf[SHOWN_MAX * 4 + 8];
        int e;

        e = xlu_cfg_get_long(f->cfg, xl_kind_names[k], v, 1);
        if (e == ESRCH)
                return 0;
        if (e == 0 && *v >= min && *v <= max)
                return 1;
        if (get_string(f, k, &s) < 0)
                return -EINVAL;
        note(f, line_of(f, k), true, "%s: bad value '%s' (allowed: %s)", xl_kind_names[k],
             shown(buf, s ? s : ""), allowed);
        return -EINVAL;
}

/* ---- the keys xensup has ---- */

/* What the converted config holds (NULL or 0: not written, the default applies). */
struct converted {
        const char *name, *uuid, *type, *kernel_given, *ramdisk_given;
        char *kernel, *ramdisk, *cmdline;
        long memory, maxmem, vcpus, maxvcpus, cap, weight;
        const char *actions[5]; /* on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset */
        char **disks, **vifs;   /* the specs to write */
        int n_disks, n_vifs;
};

static void converted_done(struct converted *c)
{
        free(c->kernel);
        free(c->ramdisk);
        free(c->cmdline);
        strv_free(c->disks);
        strv_free(c->vifs);
}

static void convert_identity(struct xl_file *f, struct converted *c)
{
        char buf[SHOWN_MAX * 4 + 8];
        uint8_t uuid[16];

        if (get_string(f, XL_NAME, &c->name) < 0)
                return;
        if (!c->name)
                note(f, 0, true, "name: missing (xl needs one too)");
        else if (!domain_name_is_valid(c->name))
                note(f, line_of(f, XL_NAME), true,
                     "name: '%s' is not a xensup name (allowed: 1 to 64 characters of A-Z a-z "
                     "0-9 _ . -)",
                     shown(buf, c->name));
        if (get_string(f, XL_UUID, &c->uuid) == 0 && c->uuid &&
            (uuid_from_string(c->uuid, uuid) < 0 || uuid_is_null(uuid)))
                note(f, line_of(f, XL_UUID), true,
                     "uuid: bad value '%s' (allowed: 8-4-4-4-12 hexadecimal digits, not all "
                     "zero)",
                     shown(buf, c->uuid));
}

#define WHY_HVM                                                                                    \
        "HVM guests need a QEMU device model, which xensup does not run (imported as pv; a "       \
        "kernel= boots as pv or pvh)"

/* type, or xl's older builder and pvh, as xl_parse.c reads them. */
static void convert_type(struct xl_file *f, struct converted *c)
{
        const char *type = NULL, *builder = NULL, *pvh = NULL;
        char buf[SHOWN_MAX * 4 + 8];

        if (get_string(f, XL_TYPE, &type) < 0 || get_string(f, XL_BUILDER, &builder) < 0 ||
            get_string(f, XL_PVH, &pvh) < 0)
                return;
        if (type) {
                if (strcmp(type, "pv") == 0 || strcmp(type, "pvh") == 0)
                        c->type = type;
                else if (strcmp(type, "hvm") == 0)
                        not_imported(f, XL_TYPE, WHY_HVM);
                else
                        note(f, line_of(f, XL_TYPE), true,
                             "type: bad value '%s' (allowed: pv, pvh; xl's hvm is not "
                             "supported)",
                             shown(buf, type));
                if (builder)
                        not_imported(f, XL_BUILDER, "type= is given, and wins, as in xl");
                if (pvh)
                        not_imported(f, XL_PVH, "type= is given, and wins, as in xl");
                return;
        }
        if (builder && strcmp(builder, "hvm") == 0) {
                not_imported(f, XL_BUILDER, WHY_HVM);
        } else if (builder && strcmp(builder, "generic") != 0) {
                note(f, line_of(f, XL_BUILDER), true,
                     "builder: bad value '%s' (allowed: generic; xl's hvm is not supported)",
                     shown(buf, builder));
                return;
        }
        /* xl's pvh = 1 (before type=): a PVH guest; 0 is the PV default. */
        if (pvh && !(builder && strcmp(builder, "hvm") == 0)) {
                long v = 0;

                if (get_long(f, XL_PVH, 0, 1, "0 or 1", &v) > 0 && v == 1)
                        c->type = "pvh";
        } else if (pvh) {
                not_imported(f, XL_PVH, "builder = \"hvm\" is given, and wins, as in xl");
        }
}

static void convert_sizes(struct xl_file *f, struct converted *c)
{
        static const long mib_max =
            (long)(UINT64_MAX >> 20) < LONG_MAX ? (long)(UINT64_MAX >> 20) : LONG_MAX;
        char allowed[96];

        snprintf(allowed, sizeof(allowed), "MiB, an integer from 1 to %ld", mib_max);
        if (get_long(f, XL_MEMORY, 1, mib_max, allowed, &c->memory) < 0)
                c->memory = -1;
        if (get_long(f, XL_MAXMEM, 1, mib_max, allowed, &c->maxmem) > 0 &&
            c->maxmem < (c->memory > 0 ? c->memory : 128))
                note(f, line_of(f, XL_MAXMEM), true,
                     "maxmem: bad value '%ld' (allowed: at least memory, %ld)", c->maxmem,
                     c->memory > 0 ? c->memory : 128);
        snprintf(allowed, sizeof(allowed), "an integer from 1 to %d (xensup's limit)", VCPUS_MAX);
        if (get_long(f, XL_VCPUS, 1, VCPUS_MAX, allowed, &c->vcpus) < 0)
                c->vcpus = -1;
        if (get_long(f, XL_MAXVCPUS, 1, VCPUS_MAX, allowed, &c->maxvcpus) > 0 &&
            c->maxvcpus < (c->vcpus > 0 ? c->vcpus : 1))
                note(f, line_of(f, XL_MAXVCPUS), true,
                     "maxvcpus: bad value '%ld' (allowed: at least vcpus, %ld)", c->maxvcpus,
                     c->vcpus > 0 ? c->vcpus : 1);
        snprintf(allowed, sizeof(allowed), "percent of one CPU, 0 (no cap) to 100 per vcpu, %ld",
                 100 * (c->maxvcpus > 0 ? c->maxvcpus
                        : c->vcpus > 0  ? c->vcpus
                                        : 1));
        (void)get_long(f, XL_CAP, 0,
                       100 * (c->maxvcpus > 0 ? c->maxvcpus
                              : c->vcpus > 0  ? c->vcpus
                                              : 1),
                       allowed, &c->cap);
        (void)get_long(f, XL_WEIGHT, 1, 65535, "an integer from 1 to 65535", &c->weight);
}

/*
 * A kernel or ramdisk path: xl opens it relative to the directory it runs in, xensup relative
 * to the config's, so a relative path is made absolute against the current directory.
 */
static int image_path(struct xl_file *f, enum xl_kind k, const char *given, char **path_r)
{
        _cleanup_free_ char *cwd = NULL;
        char buf[SHOWN_MAX * 4 + 8];

        *path_r = NULL;
        if (!given)
                return 0;
        if (!*given || text_has_control(given)) {
                note(f, line_of(f, k), true,
                     "%s: bad value '%s' (allowed: a path without control characters)",
                     xl_kind_names[k], shown(buf, given));
                return 0;
        }
        if (given[0] == '/') {
                *path_r = strdup(given);
                return *path_r ? 0 : -ENOMEM;
        }
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return -errno;
        return asprintf(path_r, "%s/%s", cwd, given) < 0 ? -ENOMEM : 0;
}

static int convert_boot(struct xl_file *f, struct converted *c)
{
        const char *cmdline = NULL, *root = NULL, *extra = NULL;
        int r;

        if (get_string(f, XL_KERNEL, &c->kernel_given) < 0 ||
            get_string(f, XL_RAMDISK, &c->ramdisk_given) < 0)
                return 0;
        r = image_path(f, XL_KERNEL, c->kernel_given, &c->kernel);
        if (r >= 0)
                r = image_path(f, XL_RAMDISK, c->ramdisk_given, &c->ramdisk);
        if (r < 0)
                return r;
        if (!c->kernel_given)
                note(f, 0, true,
                     "kernel: missing (xensup boots a PV or PVH guest from the kernel= it is "
                     "given; an HVM guest's firmware boot needs QEMU)");

        /* xl's parse_cmdline(): cmdline wins; else "root=ROOT EXTRA", "root=ROOT" or EXTRA. */
        if (get_string(f, XL_CMDLINE, &cmdline) < 0 || get_string(f, XL_ROOT, &root) < 0 ||
            get_string(f, XL_EXTRA, &extra) < 0)
                return 0;
        if (cmdline) {
                c->cmdline = strdup(cmdline);
                if (root)
                        not_imported(f, XL_ROOT, "cmdline= is given, and wins, as in xl");
                if (extra)
                        not_imported(f, XL_EXTRA, "cmdline= is given, and wins, as in xl");
        } else if (root && extra) {
                r = asprintf(&c->cmdline, "root=%s %s", root, extra);
                if (r < 0)
                        c->cmdline = NULL;
        } else if (root) {
                r = asprintf(&c->cmdline, "root=%s", root);
                if (r < 0)
                        c->cmdline = NULL;
        } else if (extra) {
                c->cmdline = strdup(extra);
        } else {
                return 0;
        }
        if (!c->cmdline)
                return -ENOMEM;
        if (strlen(c->cmdline) > CMDLINE_MAX)
                note(f,
                     line_of(f, cmdline ? XL_CMDLINE
                                : extra ? XL_EXTRA
                                        : XL_ROOT),
                     true, "cmdline: %zu characters (allowed: at most %d)", strlen(c->cmdline),
                     CMDLINE_MAX);
        return 0;
}

static void convert_actions(struct xl_file *f, struct converted *c)
{
        static const enum xl_kind keys[5] = { XL_ON_POWEROFF, XL_ON_REBOOT, XL_ON_CRASH,
                                              XL_ON_WATCHDOG, XL_ON_SOFT_RESET };
        static const char *const defaults[5] = { "destroy", "restart", "destroy", "destroy",
                                                 "soft-reset" };
        char buf[SHOWN_MAX * 4 + 8];

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *v = NULL;
                int a;

                if (get_string(f, keys[i], &v) < 0 || !v)
                        continue;
                /* xl's names and ours are the same (common/vocabulary.c). */
                a = domain_action_from_string(v);
                if (a < 0)
                        note(f, line_of(f, keys[i]), true,
                             "%s: bad value '%s' (allowed: destroy, restart, rename-restart, "
                             "preserve, coredump-destroy, coredump-restart, soft-reset)",
                             xl_kind_names[keys[i]], shown(buf, v));
                else if (a == ACTION_SOFT_RESET && keys[i] != XL_ON_SOFT_RESET)
                        not_imported(f, keys[i],
                                     "xensup takes soft-reset for on_soft_reset only (the "
                                     "default, %s, applies)",
                                     defaults[i]);
                else
                        c->actions[i] = domain_action_to_string((enum domain_action)a);
        }
}

/*
 * An entry in one of xl's older disk syntaxes, which xensup's parser does not read (a "phy:"
 * or "file:" prefix on the target, no format: "phy:/dev/vg0/root,xvda1,w"): read by xl's own
 * disk parser, and written again in the syntax both read. Returns 0 and *spec_r, -EINVAL when
 * xl cannot read it either or it holds what that syntax cannot say, -ENOENT for an empty drive
 * (a cdrom without a medium), or -ENOMEM.
 */
static int disk_rewrite(struct xl_file *f, const char *spec, char **spec_r)
{
        const char *format = "raw", *backendtype = NULL;
        libxl_device_disk d;
        int r = -EINVAL;

        libxl_device_disk_init(&d);
        if (xlu_disk_parse(f->cfg, 1, &spec, &d) != 0)
                goto out;
        if (!d.pdev_path || !*d.pdev_path) {
                r = -ENOENT;
                goto out;
        }
        if (!d.vdev || libxl_defbool_is_default(d.discard_enable) == 0 || d.direct_io_safe ||
            libxl_defbool_is_default(d.colo_enable) == 0 ||
            libxl_defbool_is_default(d.trusted) == 0)
                goto out;
        if (d.format != LIBXL_DISK_FORMAT_UNKNOWN && d.format != LIBXL_DISK_FORMAT_RAW)
                format = libxl_disk_format_to_string(d.format);
        if (d.backend == LIBXL_DISK_BACKEND_QDISK)
                backendtype = "qdisk";
        else if (d.backend == LIBXL_DISK_BACKEND_TAP)
                backendtype = "tap";
        else if (d.backend == LIBXL_DISK_BACKEND_STANDALONE)
                backendtype = "standalone";
        r = asprintf(spec_r, "format=%s, vdev=%s, access=%s%s%s%s%s%s%s%s, target=%s",
                     format ? format : "unknown", d.vdev, d.readwrite ? "rw" : "ro",
                     d.is_cdrom ? ", devtype=cdrom" : "", backendtype ? ", backendtype=" : "",
                     backendtype ? backendtype : "", d.script ? ", script=" : "",
                     d.script ? d.script : "", d.backend_domname ? ", backend=" : "",
                     d.backend_domname ? d.backend_domname : "", d.pdev_path) < 0
                ? -ENOMEM
                : 0;
out:
        libxl_device_disk_dispose(&d);
        return r;
}

/* One disk entry xensup's parser refuses: try xl's older syntaxes, else report the refusal. */
static int disk_legacy(struct xl_file *f, unsigned line, int entry, const char *spec,
                       const char *error, char **spec_r)
{
        char error2[DEVICE_ERROR_MAX];
        struct disk_config d;
        int r;

        r = disk_rewrite(f, spec, spec_r);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                error = "an empty drive, without a target (allowed: a disk or cdrom with a "
                        "target; xensup does not change media)";
        if (r == 0) {
                r = disk_parse(*spec_r, &d, error2);
                if (r == 0) {
                        disk_config_done(&d);
                        return 0;
                }
                free(*spec_r);
                *spec_r = NULL;
                if (r != -EINVAL)
                        return r;
                /* xl's reading, refused: that says more (qcow2, a driver domain). */
                error = error2;
        }
        note(f, line, true, "disk: entry %d, %s", entry, error);
        return 0;
}

/*
 * disk or vif: xl's [ ] list of spec strings, each checked with xensup's own parser (the
 * spec is written as it is, or a disk in xl's older syntax in the newer one). A single
 * string is not a list to xl either: it ignores it.
 */
static int convert_devices(struct xl_file *f, enum xl_kind k, char ***items_r, int *n_r)
{
        XLU_ConfigList *list = NULL;
        unsigned line = line_of(f, k);
        int n = 0, e;

        e = xlu_cfg_get_list(f->cfg, xl_kind_names[k], &list, &n, 1);
        if (e == ESRCH)
                return 0;
        if (e) {
                not_imported(f, k, "a single value, not a [ ] list (xl ignores it too)");
                return 0;
        }
        if (n > (k == XL_DISK ? DISKS_MAX : VIFS_MAX)) {
                note(f, line, true, "%s: %d entries (allowed: at most %d)", xl_kind_names[k], n,
                     k == XL_DISK ? DISKS_MAX : VIFS_MAX);
                return 0;
        }
        *items_r = calloc((size_t)n + 1, sizeof(**items_r));
        if (!*items_r)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                const char *spec = xlu_cfg_get_listitem(list, i);
                char error[DEVICE_ERROR_MAX];
                int r;

                if (!spec) {
                        note(f, line, true, "%s: entry %d is a list (allowed: a string)",
                             xl_kind_names[k], i + 1);
                        continue;
                }
                if (k == XL_DISK) {
                        struct disk_config d;
                        char *modern = NULL;

                        r = disk_parse(spec, &d, error);
                        if (r >= 0)
                                disk_config_done(&d);
                        if (r == -EINVAL) {
                                r = disk_legacy(f, line, i + 1, spec, error, &modern);
                                if (r < 0)
                                        return r;
                                if (modern)
                                        (*items_r)[(*n_r)++] = modern;
                                continue;
                        }
                } else {
                        struct vif_config v;

                        r = vif_parse(spec, &v, error);
                        if (r >= 0)
                                vif_config_done(&v);
                }
                if (r == -EINVAL)
                        note(f, line, true, "%s: entry %d, %s", xl_kind_names[k], i + 1, error);
                else if (r < 0)
                        return r;
                else if (!((*items_r)[(*n_r)++] = strdup(spec)))
                        return -ENOMEM;
        }
        return 0;
}

/* Every key the file sets that nothing above took, with why (in unsupported[] or not). */
static void note_unsupported(struct xl_file *f)
{
        for (size_t i = 0; i < f->n_keys; i++) {
                const char *name = f->keys[i].name, *why = "xensup has no such setting";

                if (kind_of(name) != XL_UNSUPPORTED)
                        continue;
                for (size_t u = 0; u < ELEMENTSOF(unsupported); u++) {
                        size_t l = strlen(unsupported[u].key);

                        if (unsupported[u].prefix ? strncmp(name, unsupported[u].key, l) == 0
                                                  : strcmp(name, unsupported[u].key) == 0) {
                                why = unsupported[u].why;
                                break;
                        }
                }
                note(f, f->keys[i].line, false, "%s: not imported: %s", name, why);
        }
}

/* ---- the config's text ---- */

static void put_list(FILE *m, const char *key, char **items, int n)
{
        /* xl's [] is no device, as xensup's default. */
        if (!items || n == 0)
                return;
        fprintf(m, "%s = {", key);
        for (int i = 0; i < n; i++) {
                fputs(n == 1 ? " " : "\n        ", m);
                config_put_quoted(m, items[i]);
                if (i + 1 < n)
                        fputc(',', m);
        }
        fputs(n == 1 ? " }\n" : "\n}\n", m);
}

static void put_string(FILE *m, const char *key, const char *value)
{
        if (!value)
                return;
        fprintf(m, "%s = ", key);
        config_put_quoted(m, value);
        fputc('\n', m);
}

static void put_long(FILE *m, const char *key, long v)
{
        if (v > 0)
                fprintf(m, "%s = %ld\n", key, v);
}

/* The xensup config of c as text (malloc'd into *text_r). */
static int config_text(const struct xl_file *f, const struct converted *c, char **text_r,
                       size_t *size_r)
{
        static const char *const action_keys[5] = { "on_poweroff", "on_reboot", "on_crash",
                                                    "on_watchdog", "on_soft_reset" };
        FILE *m = open_memstream(text_r, size_r);

        if (!m)
                return -ENOMEM;
        fprintf(m, "# Imported by xensupctl import-xl from %s\n", f->shown);
        put_string(m, "name", c->name);
        put_string(m, "uuid", c->uuid);
        put_string(m, "type", c->type);
        put_long(m, "memory", c->memory);
        put_long(m, "maxmem", c->maxmem);
        put_long(m, "vcpus", c->vcpus);
        put_long(m, "maxvcpus", c->maxvcpus);
        put_string(m, "kernel", c->kernel);
        put_string(m, "ramdisk", c->ramdisk);
        put_string(m, "cmdline", c->cmdline);
        for (size_t i = 0; i < ELEMENTSOF(action_keys); i++)
                put_string(m, action_keys[i], c->actions[i]);
        put_long(m, "cpu_weight", c->weight);
        if (c->cap > 0)
                fprintf(m, "cpu_cap = %ld\n", c->cap);
        put_list(m, "disk", c->disks, c->n_disks);
        put_list(m, "vif", c->vifs, c->n_vifs);
        if (ferror(m) | (fclose(m) != 0))
                return -ENOMEM;
        return 0;
}

/*
 * What xensupd --check-config will say of the text, but for the host's files (kernel,
 * ramdisk, disk targets: this may not be the host that runs the guest). config/'s own loader
 * reads it from a memfd, named as the file it becomes.
 */
static int check_text(struct xl_file *f, const char *text, size_t size, const char *out)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_free_ char *errors = NULL;
        _cleanup_close_ int fd = memfd_create("import-xl", MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        r = write_all(fd, text, size);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        r = config_load_fd(fd, out, CONFIG_LOAD_CALLER_FILES, &c, &errors);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* Not expected: every key was checked above. Say what the loader said. */
                for (char *line = errors, *next; line && *line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        note(f, 0, true, "the config made of it would be refused: %s", line);
                }
                if (!errors)
                        note(f, 0, true, "the config made of it would be refused: %s",
                             strerror(-r));
        }
        return 0;
}

/* ---- one file ---- */

/* Read the whole file, as config.c does: a regular file of at most XL_FILE_MAX bytes. */
static int read_file(struct xl_file *f, char **buf_r, size_t *len_r)
{
        _cleanup_close_ int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        if (fd < 0 || fstat(fd, &st) < 0) {
                note(f, 0, true, "cannot read: %s", strerror(errno));
                return -EINVAL;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > XL_FILE_MAX) {
                note(f, 0, true, "%s",
                     S_ISREG(st.st_mode) ? "too large (allowed: at most 1 MiB)"
                                         : "not a regular file");
                return -EINVAL;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (n < (size_t)st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        note(f, 0, true, "cannot read: %s", strerror(errno));
                        return -EINVAL;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        buf[n] = '\0';
        if (memchr(buf, '\0', n)) {
                note(f, 0, true, "contains a NUL byte (allowed: a text file)");
                return -EINVAL;
        }
        *len_r = n;
        *buf_r = TAKE_PTR(buf);
        return 0;
}

/* Where the config goes: DIR/NAME.conf; NULL with an error noted when it may not. */
static char *output_path(struct xl_file *f, const struct import_opts *o, const char *name)
{
        char *out = NULL;

        if (asprintf(&out, "%s/%s.conf", o->output_dir, name) < 0) {
                f->fatal = -ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < o->n_written; i++)
                if (strcmp(o->written[i], name) == 0) {
                        note(f, 0, true,
                             "not converted: its name, %s, is that of %s, converted already "
                             "to %s",
                             name, o->written_from[i], out);
                        free(out);
                        return NULL;
                }
        if (!o->force && access(out, F_OK) == 0) {
                note(f, 0, true, "not converted: %s exists (--force overwrites it)", out);
                free(out);
                return NULL;
        }
        return out;
}

/* Write text to out: a new file, or with --force over an old one (renamed into place). */
static int write_config(struct xl_file *f, const struct import_opts *o, const char *out,
                        const char *text, size_t size)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (asprintf(&tmp, "%s/.%s.XXXXXX", o->output_dir, strrchr(out, '/') + 1) < 0)
                return -ENOMEM;
        /* A dotfile: xensupd reads only *.conf, so a half-written file is never loaded. */
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                note(f, 0, true, "not converted: cannot create a file in %s: %s", o->output_dir,
                     strerror(-r));
                return 0;
        }
        r = write_all(fd, text, size);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0) {
                /* Without --force, link() refuses a name that appeared meanwhile. */
                if (o->force ? rename(tmp, out) < 0 : link(tmp, out) < 0)
                        r = -errno;
        }
        if (r < 0 || !o->force)
                (void)unlink(tmp);
        if (r < 0)
                note(f, 0, true, "not converted: cannot write %s: %s", out, strerror(-r));
        return 0;
}

static int remember(struct import_opts *o, const char *name, const char *from)
{
        char **a = realloc(o->written, (o->n_written + 1) * sizeof(*a));
        char **b;

        if (!a)
                return -ENOMEM;
        o->written = a;
        b = realloc(o->written_from, (o->n_written + 1) * sizeof(*b));
        if (!b)
                return -ENOMEM;
        o->written_from = b;
        a[o->n_written] = strdup(name);
        b[o->n_written] = strdup(from);
        o->n_written++;
        return a[o->n_written - 1] && b[o->n_written - 1] ? 0 : -ENOMEM;
}

/* Convert the parsed file; the notes say what went wrong. */
static int convert(struct xl_file *f, struct import_opts *o)
{
        _cleanup_free_ char *text = NULL, *out = NULL;
        struct converted c = {};
        size_t size = 0;
        int r;

        convert_identity(f, &c);
        convert_type(f, &c);
        convert_sizes(f, &c);
        r = convert_boot(f, &c);
        convert_actions(f, &c);
        if (r >= 0)
                r = convert_devices(f, XL_DISK, &c.disks, &c.n_disks);
        if (r >= 0)
                r = convert_devices(f, XL_VIF, &c.vifs, &c.n_vifs);
        note_unsupported(f);
        if (r >= 0 && !f->failed && !f->fatal)
                r = config_text(f, &c, &text, &size);
        if (r >= 0 && !f->failed && !f->fatal) {
                _cleanup_free_ char *label = NULL;

                if (asprintf(&label, "%s/%s.conf", o->output_dir, c.name) < 0)
                        r = -ENOMEM;
                else
                        r = check_text(f, text, size, label);
        }
        if (r >= 0 && !f->failed && !f->fatal) {
                if (strcmp(o->output_dir, "-") == 0) {
                        fwrite(text, 1, size, stdout);
                } else if ((out = output_path(f, o, c.name))) {
                        r = write_config(f, o, out, text, size);
                        if (r >= 0 && !f->failed) {
                                printf("%s: written to %s\n", f->shown, out);
                                r = remember(o, c.name, f->shown);
                        }
                }
        }
        converted_done(&c);
        return r < 0 ? r : f->fatal;
}

static void xl_file_done(struct xl_file *f)
{
        xlu_cfg_destroy(f->cfg);
        for (size_t i = 0; i < f->n_keys; i++)
                free(f->keys[i].name);
        free(f->keys);
        for (size_t i = 0; i < f->n_notes; i++)
                free(f->notes[i].text);
        free(f->notes);
        free(f->shown);
}

/* Convert one xl.cfg file; its messages on stderr. Returns 0 (see f.failed) or -ENOMEM. */
static int import_file(const char *path, struct import_opts *o, bool *failed_r)
{
        _cleanup_free_ char *buf = NULL;
        struct xl_file f = { .path = path };
        size_t len = 0, shown_size = strlen(path) * 4 + 8;
        int r;

        f.shown = malloc(shown_size);
        if (!f.shown)
                return -ENOMEM;
        text_escape(f.shown, shown_size, path, SIZE_MAX, SIZE_MAX);
        r = read_file(&f, &buf, &len);
        if (r == 0) {
                f.cfg = xlu_cfg_init(stderr, f.shown);
                if (!f.cfg)
                        r = -ENOMEM;
        }
        if (r == 0) {
                fflush(stdout);
                /* xl's parser names the file and line of a syntax error itself, on stderr. */
                if (xlu_cfg_readdata(f.cfg, buf, (int)len) != 0)
                        note(&f, 0, true, "not converted: xl's parser refused it (above)");
                else if ((r = scan_keys(&f, buf, len)) == 0)
                        r = convert(&f, o);
        }
        if (r == -EINVAL)
                r = 0;
        if (f.fatal < 0 && r == 0)
                r = f.fatal;
        if (r == 0) {
                notes_print(&f);
                if (f.failed && !f.said)
                        fprintf(stderr, "%s: not converted\n", f.shown);
        }
        *failed_r = f.failed || r < 0;
        xl_file_done(&f);
        return r;
}

/* ---- the command ---- */

static void help(FILE *out, import_xl_wrap_fn wrap)
{
        fputs("Usage: xensupctl import-xl " IMPORT_XL_SYNOPSIS "\n\n", out);
        wrap(out, 0, 0, IMPORT_XL_HELP);
        fputs("\nOptions:\n"
              "  -o, --output-dir DIR  write the configs into DIR (default: the current\n"
              "                        directory; -: to standard output, one FILE only)\n"
              "  --force               overwrite a config that exists\n"
              "  -h, --help            this text\n",
              out);
}

int import_xl_main(int argc, char **argv, import_xl_wrap_fn wrap)
{
        static const struct option options[] = {
                { "output-dir", required_argument, NULL, 'o' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct import_opts o = { .output_dir = "." };
        int c, status = CTL_EXIT_OK;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
                switch (c) {
                case 'o':
                        o.output_dir = optarg;
                        break;
                case 'f':
                        o.force = true;
                        break;
                case 'h':
                        help(stdout, wrap);
                        return CTL_EXIT_OK;
                case ':':
                        fprintf(stderr, "xensupctl: import-xl: %s needs an argument\n",
                                argv[optind - 1]);
                        fputs("Try 'xensupctl import-xl --help'.\n", stderr);
                        return CTL_EXIT_USAGE;
                default:
                        fprintf(stderr, "xensupctl: import-xl: unknown option '%s'\n",
                                argv[optind - 1]);
                        fputs("Try 'xensupctl import-xl --help'.\n", stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                fputs("xensupctl: import-xl takes at least 1 argument (see 'xensupctl import-xl "
                      "--help')\n",
                      stderr);
                return CTL_EXIT_USAGE;
        }
        if (strcmp(o.output_dir, "-") == 0 && argc - optind > 1) {
                fputs("xensupctl: import-xl: --output-dir - writes one FILE's config, not "
                      "several\n",
                      stderr);
                return CTL_EXIT_USAGE;
        }
        for (int i = optind; i < argc; i++) {
                bool failed = false;
                int r = import_file(argv[i], &o, &failed);

                if (r < 0) {
                        fprintf(stderr, "xensupctl: import-xl: %s: %s\n", argv[i], strerror(-r));
                        status = CTL_EXIT_FAILED;
                        break;
                }
                if (failed)
                        status = CTL_EXIT_FAILED;
        }
        for (size_t i = 0; i < o.n_written; i++) {
                free(o.written[i]);
                free(o.written_from[i]);
        }
        free(o.written);
        free(o.written_from);
        return status;
}
