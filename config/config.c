/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.c — domain config files: the libconfuse schema, parsing, validation.
 *
 * libconfuse does the lexing and the structure; every value goes through one
 * of our parse callbacks, which checks it where the parser stands (so the
 * error names the right line) and records it, and never aborts the parse, so
 * one run reports every bad value. Checks that need several keys run after
 * the parse, with the lines the callbacks recorded. Only syntax errors and
 * unknown keys stop the parser (libconfuse cannot resume after them), so a scan
 * of our own (keyscan()) finds every key first: the unknown ones after the one
 * libconfuse stopped at are reported too, with xensup's name for an xl.cfg(5)
 * key, and xl's [ ] lists are named and read as { } so the keys after them count.
 */
#include <confuse.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/text.h"
#include "config/config.h"
#include "config/device.h"

#define ERRORS_MAX         50   /* per file; a 1 MiB file of bad lines must not print 1 MiB */
#define VALUE_SHOWN_MAX    64   /* bytes of a bad value quoted in a message */
#define CMDLINE_MAX        1023 /* Xen's MAX_GUEST_CMDLINE, less the NUL */
#define MEMORY_MIB_MAX     (UINT64_MAX >> 20) /* so that memory in bytes fits a uint64_t */
#define SECONDS_MAX        (365u * 24 * 3600)
#define DAY_SECONDS        86400
#define DEFAULT_MEMORY_MIB 128
#define DEFAULT_COREDUMP   "/var/lib/xen/dump"

/* ---- the schema ---- */

enum key_id {
        KEY_NAME,
        KEY_UUID,
        KEY_TYPE,
        KEY_MEMORY,
        KEY_MAXMEM,
        KEY_VCPUS,
        KEY_MAXVCPUS,
        KEY_KERNEL,
        KEY_RAMDISK,
        KEY_CMDLINE,
        KEY_ON_POWEROFF,
        KEY_ON_REBOOT,
        KEY_ON_CRASH,
        KEY_ON_WATCHDOG,
        KEY_ON_SOFT_RESET,
        KEY_AUTOSTART,
        KEY_ON_HOST_SHUTDOWN,
        KEY_CPU_WEIGHT,
        KEY_CPU_CAP,
        KEY_SSIDREF,
        KEY_SHUTDOWN_TIMEOUT,
        KEY_COREDUMP_DIR,
        KEY_DISK,
        KEY_VIF,
        KEY_RESTART,
        KEY_RESTART_BURST,
        KEY_RESTART_INTERVAL,
        KEY_RESTART_DELAY,
        KEY_RESTART_MAX_DELAY,
        KEY_SIM,
        KEY_SIM_RUN_SECONDS,
        KEY_SIM_EXIT,
        KEY_SIM_ON_SHUTDOWN_REQUEST,
        KEY_SIM_BUILD_SECONDS,
        _KEY_MAX,
};

struct key_def {
        const char *section; /* NULL at top level */
        const char *name;    /* as libconfuse knows it */
        const char *shown;   /* as messages name it */
        uint64_t min, max;   /* integer keys */
};

static const struct key_def key_defs[_KEY_MAX] = {
        [KEY_NAME] = { NULL, "name", "name", 0, 0 },
        [KEY_UUID] = { NULL, "uuid", "uuid", 0, 0 },
        [KEY_TYPE] = { NULL, "type", "type", 0, 0 },
        [KEY_MEMORY] = { NULL, "memory", "memory", 1, MEMORY_MIB_MAX },
        [KEY_MAXMEM] = { NULL, "maxmem", "maxmem", 1, MEMORY_MIB_MAX },
        [KEY_VCPUS] = { NULL, "vcpus", "vcpus", 1, VCPUS_MAX },
        [KEY_MAXVCPUS] = { NULL, "maxvcpus", "maxvcpus", 1, VCPUS_MAX },
        [KEY_KERNEL] = { NULL, "kernel", "kernel", 0, 0 },
        [KEY_RAMDISK] = { NULL, "ramdisk", "ramdisk", 0, 0 },
        [KEY_CMDLINE] = { NULL, "cmdline", "cmdline", 0, 0 },
        [KEY_ON_POWEROFF] = { NULL, "on_poweroff", "on_poweroff", 0, 0 },
        [KEY_ON_REBOOT] = { NULL, "on_reboot", "on_reboot", 0, 0 },
        [KEY_ON_CRASH] = { NULL, "on_crash", "on_crash", 0, 0 },
        [KEY_ON_WATCHDOG] = { NULL, "on_watchdog", "on_watchdog", 0, 0 },
        [KEY_ON_SOFT_RESET] = { NULL, "on_soft_reset", "on_soft_reset", 0, 0 },
        [KEY_AUTOSTART] = { NULL, "autostart", "autostart", 0, 0 },
        [KEY_ON_HOST_SHUTDOWN] = { NULL, "on_host_shutdown", "on_host_shutdown", 0, 0 },
        /* The credit scheduler's own limits. */
        [KEY_CPU_WEIGHT] = { NULL, "cpu_weight", "cpu_weight", 1, 65535 },
        [KEY_CPU_CAP] = { NULL, "cpu_cap", "cpu_cap", 0, 100 * VCPUS_MAX },
        [KEY_SSIDREF] = { NULL, "ssidref", "ssidref", 0, UINT32_MAX },
        [KEY_SHUTDOWN_TIMEOUT] = { NULL, "shutdown_timeout", "shutdown_timeout", 1, DAY_SECONDS },
        [KEY_COREDUMP_DIR] = { NULL, "coredump_dir", "coredump_dir", 0, 0 },
        [KEY_DISK] = { NULL, "disk", "disk", 0, 0 },
        [KEY_VIF] = { NULL, "vif", "vif", 0, 0 },
        [KEY_RESTART] = { NULL, "restart", "restart", 0, 0 },
        /* 0 turns the throttle off; no cap of ours, as systemd's StartLimitBurst has none. */
        [KEY_RESTART_BURST] = { "restart", "burst", "restart.burst", 0, INT_MAX },
        [KEY_RESTART_INTERVAL] = { "restart", "interval", "restart.interval", 1, DAY_SECONDS },
        [KEY_RESTART_DELAY] = { "restart", "delay", "restart.delay", 0, DAY_SECONDS },
        [KEY_RESTART_MAX_DELAY] = { "restart", "max_delay", "restart.max_delay", 0, DAY_SECONDS },
        [KEY_SIM] = { NULL, "sim", "sim", 0, 0 },
        [KEY_SIM_RUN_SECONDS] = { "sim", "run_seconds", "sim.run_seconds", 0, SECONDS_MAX },
        [KEY_SIM_EXIT] = { "sim", "exit", "sim.exit", 0, 0 },
        [KEY_SIM_ON_SHUTDOWN_REQUEST] = { "sim", "on_shutdown_request", "sim.on_shutdown_request",
                                          0, 0 },
        [KEY_SIM_BUILD_SECONDS] = { "sim", "build_seconds", "sim.build_seconds", 0, 600 },
};

#define TOP_KEYS                                                                                   \
        "name, uuid, type, memory, maxmem, vcpus, maxvcpus, kernel, ramdisk, cmdline, "            \
        "on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset, autostart, "                \
        "on_host_shutdown, cpu_weight, cpu_cap, ssidref, shutdown_timeout, coredump_dir, disk, "   \
        "vif, restart { }, sim { }"
#define RESTART_KEYS "burst, interval, delay, max_delay"
#define SIM_KEYS     "run_seconds, exit, on_shutdown_request, build_seconds"
#define NAME_ALLOWED "1 to 64 characters of A-Z a-z 0-9 _ . -"
#define TYPES        "pv, pvh"
#define ACTIONS      "destroy, restart, preserve, rename-restart, coredump-destroy, coredump-restart"
#define SIM_EXITS    "poweroff, reboot, crash, watchdog, soft_reset"

#define HOST_SHUTDOWN_ACTIONS "save, shutdown, keep"
static const char *const host_shutdown_action_table[_HOST_SHUTDOWN_MAX] = {
        [HOST_SHUTDOWN_SAVE] = "save",
        [HOST_SHUTDOWN_SHUTDOWN] = "shutdown",
        [HOST_SHUTDOWN_KEEP] = "keep",
};
DEFINE_STRING_TABLE_LOOKUP(host_shutdown_action, enum host_shutdown_action,
                           host_shutdown_action_table)

/* A key keyscan() found that the schema does not know. */
struct unknown_key {
        unsigned line;
        const char *section; /* NULL at top level */
        char *name;          /* as written (a quoted key keeps its escapes) */
        bool xl_list;        /* not unknown: a known key given xl's [ ] list */
};

/* What the parse callbacks learn; libconfuse keeps the values themselves. */
struct parse_ctx {
        const char *path; /* as messages name the file */
        const char *dir;  /* the file's absolute directory, for relative kernel paths */
        char *errors;     /* newline-separated */
        unsigned n_errors;
        int fatal;      /* negative errno that is not the file's fault (ENOMEM) */
        unsigned flags; /* CONFIG_LOAD_* */
        struct {
                unsigned line;      /* where it was set; 0 = not set */
                bool bad;           /* its value was rejected: skip checks that use it */
                const cfg_t *where; /* the section instance that set it */
        } seen[_KEY_MAX];
        /* The device lists' entries, parsed where the parser stood (so errors name their line). */
        struct disk_config *disks;
        size_t n_disks, disk_items; /* the good ones; every entry seen */
        struct vif_config *vifs;
        size_t n_vifs, vif_items;
        size_t disk_entry[DISKS_MAX]; /* the entry number of each of disks[] */
        size_t vif_entry[VIFS_MAX];
        /*
         * Every key of the file the schema does not know, in file order, as keyscan() read
         * them: libconfuse stops at the first, and the rest are reported from here.
         */
        struct unknown_key *unknown;
        size_t n_unknown, unknown_done; /* those before unknown_done were reported or passed */
};

/*
 * libconfuse callbacks get no user pointer. Each option table carries one
 * extra entry whose simple_value holds the parse context; its name contains
 * '|', which libconfuse reads as a section path, so no file can reach it.
 */
#define CTX_OPT_NAME "xensup|ctx"
#define CTX_OPT(ctx)                                                                               \
        {                                                                                          \
                .name = CTX_OPT_NAME, .type = CFGT_PTR, .flags = CFGF_NODEFAULT, .simple_value = { \
                        .ptr = (void **)(ctx)                                                      \
                }                                                                                  \
        }

static struct parse_ctx *ctx_of(cfg_t *cfg)
{
        for (cfg_opt_t *o = cfg ? cfg->opts : NULL; o && o->name; o++)
                if (strcmp(o->name, CTX_OPT_NAME) == 0)
                        return (struct parse_ctx *)o->simple_value.ptr;
        return NULL;
}

static int key_of(cfg_t *cfg, cfg_opt_t *opt)
{
        const char *section = strcmp(cfg->name, "root") == 0 ? NULL : cfg->name;

        for (int k = 0; k < _KEY_MAX; k++) {
                const struct key_def *d = &key_defs[k];

                if (strcmp(d->name, opt->name) != 0)
                        continue;
                if (!d->section != !section)
                        continue;
                if (!section || strcmp(d->section, section) == 0)
                        return k;
        }
        return -1;
}

/* s shown in a message: at most max bytes, escaped (common/text.h). */
static const char *escape(char *buf, size_t size, const char *s, size_t max)
{
        return text_escape(buf, size, s, SIZE_MAX, max);
}

#define SHOWN_SIZE (VALUE_SHOWN_MAX * 4 + 8)

/* Record one problem: "FILE:LINE: KEY: message" (LINE and KEY when known). */
_printf_(4, 5) static void ctx_error(struct parse_ctx *ctx, unsigned line, const char *key,
                                     const char *fmt, ...)
{
        char msg[1024], where[32] = "";
        va_list ap;

        if (++ctx->n_errors > ERRORS_MAX) {
                if (ctx->n_errors == ERRORS_MAX + 1)
                        err_appendf(&ctx->errors, 0, "%s: more than %d errors, the rest not shown",
                                    ctx->path, ERRORS_MAX);
                return;
        }
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (line > 0)
                snprintf(where, sizeof(where), ":%u", line);
        err_appendf(&ctx->errors, 0, "%s%s: %s%s%s", ctx->path, where, key ? key : "",
                    key ? ": " : "", msg);
}

static void bad_value(struct parse_ctx *ctx, unsigned line, int k, const char *value,
                      const char *allowed)
{
        char shown[SHOWN_SIZE];

        ctx->seen[k].bad = true;
        ctx_error(ctx, line, key_defs[k].shown, "bad value '%s' (allowed: %s)",
                  escape(shown, sizeof(shown), value, VALUE_SHOWN_MAX), allowed);
}

/* xl.cfg(5) keys that xensup spells otherwise: their unknown key's message says how. */
static const struct {
        const char *xl, *hint;
} key_hints[] = {
        { "extra", "xensup calls it cmdline" },
        { "root", "xensup has no root: it is part of cmdline, as xl makes it (cmdline = "
                  "\"root=ROOT EXTRA\")" },
        { "cap", "xensup calls it cpu_cap" },
        { "weight", "xensup calls it cpu_weight" },
        { "builder", "xensup calls it type (" TYPES ")" },
        { "pvh", "xensup says type = \"pvh\"" },
};

/* "FILE:LINE: KEY: unknown key ..." with the keys allowed there, or the xensup name of an xl key.
 */
static void unknown_key_error(struct parse_ctx *ctx, unsigned line, const char *section,
                              const char *key)
{
        char shown[SHOWN_SIZE];

        escape(shown, sizeof(shown), key, VALUE_SHOWN_MAX);
        for (size_t i = 0; !section && i < ELEMENTSOF(key_hints); i++)
                if (strcmp(key, key_hints[i].xl) == 0) {
                        ctx_error(ctx, line, shown, "unknown key; %s", key_hints[i].hint);
                        return;
                }
        ctx_error(ctx, line, shown, "unknown key (allowed%s%s: %s)", section ? " in " : "",
                  section ? section : "",
                  !section                          ? TOP_KEYS
                  : strcmp(section, "restart") == 0 ? RESTART_KEYS
                                                    : SIM_KEYS);
}

static void keyscan_error(struct parse_ctx *ctx, const struct unknown_key *u)
{
        char shown[SHOWN_SIZE];

        if (!u->xl_list) {
                unknown_key_error(ctx, u->line, u->section, u->name);
                return;
        }
        ctx_error(ctx, u->line, escape(shown, sizeof(shown), u->name, VALUE_SHOWN_MAX),
                  "xl's [ ] list (allowed: { ... }; xensupctl import-xl converts an xl.cfg "
                  "file)");
}

/* Report the [ ] lists keyscan() found before line that are not reported yet. */
static void report_xl_lists_before(struct parse_ctx *ctx, unsigned line)
{
        for (size_t i = ctx->unknown_done; i < ctx->n_unknown && ctx->unknown[i].line < line; i++) {
                if (ctx->unknown[i].xl_list)
                        keyscan_error(ctx, &ctx->unknown[i]);
                ctx->unknown_done = i + 1;
        }
}

/*
 * libconfuse stopped at line (at key, when it was an unknown key; else NULL): report the
 * unknown keys keyscan() found after that point, which libconfuse never reached.
 */
static void report_unknown_after(struct parse_ctx *ctx, unsigned line, const char *key)
{
        size_t i;

        report_xl_lists_before(ctx, line);
        i = ctx->unknown_done;
        if (key) {
                size_t j = i;

                /* Past the one libconfuse reported, or every one of its line. */
                while (j < ctx->n_unknown && ctx->unknown[j].line == line &&
                       strcmp(ctx->unknown[j].name, key) != 0)
                        j++;
                if (j < ctx->n_unknown && ctx->unknown[j].line == line)
                        i = j + 1;
                else
                        while (i < ctx->n_unknown && ctx->unknown[i].line == line)
                                i++;
        } else {
                while (i < ctx->n_unknown && ctx->unknown[i].line == line)
                        i++;
        }
        for (; i < ctx->n_unknown; i++)
                keyscan_error(ctx, &ctx->unknown[i]);
        ctx->unknown_done = ctx->n_unknown;
}

static void on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
        struct parse_ctx *ctx = ctx_of(cfg);
        const char *section = strcmp(cfg->name, "root") == 0 ? NULL : cfg->name;
        char msg[512], shown[sizeof(msg) * 4 + 8];

        if (!ctx)
                return;
        /* Compare the format, not the text: the arguments are the file's bytes. */
        if (strcmp(fmt, "no such option '%s'") == 0) {
                va_list aq;
                const char *key;

                va_copy(aq, ap);
                key = va_arg(aq, const char *);
                va_end(aq);
                /* "restart|" = 1: libconfuse looks up the empty name after the '|' in restart. */
                if (!key || !*key) {
                        ctx_error(ctx, (unsigned)cfg->line, NULL,
                                  "syntax error: empty key name ('|' is not part of a key)");
                        return;
                }
                report_xl_lists_before(ctx, (unsigned)cfg->line);
                unknown_key_error(ctx, (unsigned)cfg->line, section, key);
                report_unknown_after(ctx, (unsigned)cfg->line, key);
                return;
        }
        vsnprintf(msg, sizeof(msg), fmt, ap);
        report_xl_lists_before(ctx, (unsigned)cfg->line);
        ctx_error(ctx, (unsigned)cfg->line, section, "syntax error: %s",
                  escape(shown, sizeof(shown), msg, sizeof(msg)));
        report_unknown_after(ctx, (unsigned)cfg->line, NULL);
}

/*
 * Start a callback: find the context and the key, and note where the key was
 * set. Returns the key, or -1 when the callback must just let the value be
 * (a path such as "restart|burst" written at top level reaches an option of a
 * section through libconfuse's lookup: it is reported as unknown).
 */
static int callback_begin(cfg_t *cfg, cfg_opt_t *opt, struct parse_ctx **ctx_r)
{
        struct parse_ctx *ctx = ctx_of(cfg);
        unsigned line = (unsigned)cfg->line;
        int k;

        *ctx_r = ctx;
        if (!ctx)
                return -1;
        k = key_of(cfg, opt);
        if (k < 0) {
                char shown[SHOWN_SIZE];

                ctx_error(ctx, line, escape(shown, sizeof(shown), opt->name, VALUE_SHOWN_MAX),
                          "unknown key (write it inside its section)");
                return -1;
        }
        if (ctx->seen[k].line == 0) {
                ctx->seen[k].line = line;
                ctx->seen[k].where = cfg;
        } else if (ctx->seen[k].where == cfg) {
                /* A second section instance is reported once, as a duplicate section. */
                ctx_error(ctx, line, key_defs[k].shown, "set twice (first at line %u)",
                          ctx->seen[k].line);
        }
        return k;
}

/* A strictly decimal unsigned number; false on anything else or overflow. */
static bool parse_u64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!s || !*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        return true;
}

static int on_int(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
        struct parse_ctx *ctx;
        int k = callback_begin(cfg, opt, &ctx);
        uint64_t v = 0;

        if (!ctx)
                return -1;
        *(long *)result = 0;
        if (k < 0)
                return 0;
        if (!parse_u64(value, &v) || v < key_defs[k].min || v > key_defs[k].max) {
                char allowed[96];

                snprintf(allowed, sizeof(allowed), "an integer from %" PRIu64 " to %" PRIu64,
                         key_defs[k].min, key_defs[k].max);
                bad_value(ctx, (unsigned)cfg->line, k, value ? value : "", allowed);
                return 0;
        }
        /* Every max fits a long (64-bit on every Xen dom0 architecture). */
        *(long *)result = (long)v;
        return 0;
}

static int on_bool(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
        static const char *const yes[] = { "true", "yes", "on", "1" };
        static const char *const no[] = { "false", "no", "off", "0" };
        struct parse_ctx *ctx;
        int k = callback_begin(cfg, opt, &ctx);

        if (!ctx)
                return -1;
        *(int *)result = 0;
        if (k < 0 || !value)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(value, yes[i]) == 0) {
                        *(int *)result = 1;
                        return 0;
                }
                if (strcasecmp(value, no[i]) == 0)
                        return 0;
        }
        bad_value(ctx, (unsigned)cfg->line, k, value, "true, false, yes, no, on, off, 1, 0");
        return 0;
}

/* An absolute path: as written, or relative to dir. */
static char *path_resolve(const char *dir, const char *path)
{
        char *r = NULL;

        if (path[0] == '/')
                return strdup(path);
        if (asprintf(&r, "%s/%s", dir, path) < 0)
                return NULL;
        return r;
}

#define PATH_ALLOWED_CHARS "a path without control characters"

static void check_readable(struct parse_ctx *ctx, unsigned line, int k, const char *value)
{
        _cleanup_free_ char *path = NULL;
        char allowed[PATH_MAX + 128], shown[SHOWN_SIZE * 2];
        const char *why;
        struct stat st;

        if (text_has_control(value)) {
                bad_value(ctx, line, k, value, PATH_ALLOWED_CHARS);
                return;
        }
        if (!*value || strlen(value) >= PATH_MAX) {
                bad_value(ctx, line, k, value, "a path to a readable file");
                return;
        }
        path = path_resolve(ctx->dir, value);
        if (!path) {
                ctx->fatal = -ENOMEM;
                return;
        }
        /* Not ours to judge as root: the build opens them with the rights of whoever named them. */
        if (ctx->flags & (CONFIG_LOAD_KEPT | CONFIG_LOAD_CALLER_FILES))
                return;
        /* The build opens it later as the daemon (root): check as that user, now. */
        if (access(path, R_OK) < 0)
                why = strerror(errno);
        else if (stat(path, &st) < 0)
                why = strerror(errno);
        else if (S_ISDIR(st.st_mode))
                why = strerror(EISDIR);
        else if (!S_ISREG(st.st_mode))
                why = "not a regular file";
        else
                return;
        snprintf(allowed, sizeof(allowed), "a readable file; %s: %s",
                 escape(shown, sizeof(shown), path, sizeof(shown) / 4 - 2), why);
        bad_value(ctx, line, k, value, allowed);
}

static int on_str(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
        struct parse_ctx *ctx;
        int k = callback_begin(cfg, opt, &ctx);
        unsigned line = (unsigned)cfg->line;
        uint8_t uuid[16];
        int a;

        if (!ctx)
                return -1;
        *(const char **)result = value ? value : "";
        if (k < 0 || !value)
                return 0;

        switch (k) {
        case KEY_NAME:
                if (!domain_name_is_valid(value))
                        bad_value(ctx, line, k, value, NAME_ALLOWED);
                break;
        case KEY_UUID:
                if (uuid_from_string(value, uuid) < 0 || uuid_is_null(uuid))
                        bad_value(ctx, line, k, value,
                                  "8-4-4-4-12 hexadecimal digits, not all zero");
                break;
        case KEY_TYPE:
                a = domain_type_from_string(value);
                if (a == DOMAIN_TYPE_HVM) {
                        /* Refused here, not at start: --check-config must tell. */
                        ctx->seen[k].bad = true;
                        ctx_error(ctx, line, key_defs[k].shown,
                                  "hvm is not supported (HVM guests need a QEMU device model, "
                                  "which xensup does not run; allowed: " TYPES ")");
                } else if (a < 0) {
                        bad_value(ctx, line, k, value, TYPES);
                }
                break;
        case KEY_KERNEL:
        case KEY_RAMDISK:
                check_readable(ctx, line, k, value);
                break;
        case KEY_CMDLINE:
                if (strlen(value) > CMDLINE_MAX)
                        bad_value(ctx, line, k, value, "at most 1023 characters");
                break;
        case KEY_ON_SOFT_RESET:
                if (domain_action_from_string(value) < 0)
                        bad_value(ctx, line, k, value, "soft-reset, " ACTIONS);
                break;
        case KEY_ON_POWEROFF:
        case KEY_ON_REBOOT:
        case KEY_ON_CRASH:
        case KEY_ON_WATCHDOG:
                a = domain_action_from_string(value);
                if (a < 0 || a == ACTION_SOFT_RESET)
                        bad_value(ctx, line, k, value,
                                  ACTIONS "; soft-reset only for on_soft_reset");
                break;
        case KEY_ON_HOST_SHUTDOWN:
                if (host_shutdown_action_from_string(value) < 0)
                        bad_value(ctx, line, k, value, HOST_SHUTDOWN_ACTIONS);
                break;
        case KEY_COREDUMP_DIR:
                if (text_has_control(value))
                        bad_value(ctx, line, k, value, PATH_ALLOWED_CHARS);
                else if (value[0] != '/' || strlen(value) >= PATH_MAX)
                        bad_value(ctx, line, k, value, "an absolute directory path");
                break;
        case KEY_SIM_EXIT:
                a = shutdown_reason_from_string(value);
                if (a < 0 || a == SHUTDOWN_REASON_SUSPEND)
                        bad_value(ctx, line, k, value, SIM_EXITS);
                break;
        case KEY_SIM_ON_SHUTDOWN_REQUEST:
                if (sim_shutdown_answer_from_string(value) < 0)
                        bad_value(ctx, line, k, value, "obey, ignore");
                break;
        default:
                break;
        }
        return 0;
}

/* ---- the device lists ---- */

/* Record a problem of one list entry: "FILE:LINE: disk: entry N, ...". */
_printf_(5, 6) static void entry_error(struct parse_ctx *ctx, unsigned line, int k, size_t entry,
                                       const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ctx->seen[k].bad = true;
        ctx_error(ctx, line, key_defs[k].shown, "entry %zu, %s", entry, msg);
}

/*
 * As callback_begin(), for one element of a list (items: the key's elements seen so far).
 * libconfuse has already made room for the element: a list that holds only it after others
 * were seen was assigned again with '=', which would silently drop the first ('+=' appends).
 */
static int list_item_begin(cfg_t *cfg, cfg_opt_t *opt, size_t items, struct parse_ctx **ctx_r)
{
        struct parse_ctx *ctx = ctx_of(cfg);
        int k;

        *ctx_r = ctx;
        if (!ctx)
                return -1;
        /* In file order: an xl list's own problem before its entries'. */
        report_xl_lists_before(ctx, (unsigned)cfg->line + 1);
        k = key_of(cfg, opt);
        if (k < 0)
                return k;
        if (ctx->seen[k].line == 0) {
                ctx->seen[k].line = (unsigned)cfg->line;
                ctx->seen[k].where = cfg;
        } else if (items > 0 && cfg_opt_size(opt) == 1) {
                ctx->seen[k].bad = true;
                ctx_error(ctx, (unsigned)cfg->line, key_defs[k].shown,
                          "set twice (first at line %u; allowed: one %s = { ... } with its "
                          "entries separated by commas, or %s += { ... } to add)",
                          ctx->seen[k].line, key_defs[k].shown, key_defs[k].shown);
        }
        return k;
}

/* A `key = { }` after entries empties the list without a callback: the counts tell. */
static void check_list_kept(cfg_t *cfg, struct parse_ctx *ctx, int k, size_t items)
{
        if (items > 0 && cfg_size(cfg, key_defs[k].name) == 0)
                ctx_error(ctx, ctx->seen[k].line, key_defs[k].shown,
                          "set again later, to an empty list (allowed: one %s = { ... })",
                          key_defs[k].shown);
}

/*
 * A disk's target, unless a script interprets it: made absolute as kernel is, and checked as
 * the daemon (root) will open it, unless others' rights decide (KEPT, CALLER_FILES).
 * Returns 0 (problems recorded) or -ENOMEM.
 */
static int check_target(struct parse_ctx *ctx, unsigned line, size_t entry, struct disk_config *d)
{
        char shown[SHOWN_SIZE], where[SHOWN_SIZE * 2];
        const char *why = NULL;
        struct stat st;
        char *path;

        if (d->script)
                return 0;
        path = path_resolve(ctx->dir, d->target);
        if (!path)
                return -ENOMEM;
        free(d->target);
        d->target = path;
        escape(shown, sizeof(shown), d->target, VALUE_SHOWN_MAX);
        if (strlen(path) >= PATH_MAX) {
                entry_error(ctx, line, KEY_DISK, entry,
                            "target: bad value '%s' (allowed: a path shorter than %d bytes)", shown,
                            PATH_MAX);
                return 0;
        }
        if (ctx->flags & (CONFIG_LOAD_KEPT | CONFIG_LOAD_CALLER_FILES))
                return 0;
        if (stat(path, &st) < 0)
                why = strerror(errno);
        else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                why = S_ISDIR(st.st_mode) ? strerror(EISDIR)
                                          : "neither a regular file nor a block device";
        else if (access(path, R_OK) < 0)
                why = strerror(errno);
        if (why) {
                entry_error(ctx, line, KEY_DISK, entry,
                            "target: bad value '%s' (allowed: a readable regular file or block "
                            "device; %s)",
                            shown, why);
                return 0;
        }
        /* blkback opens it read-write unless access=ro: say so now, not at the first start. */
        if (!d->readonly && access(path, W_OK) < 0)
                entry_error(ctx, line, KEY_DISK, entry,
                            "target: '%s' cannot be opened for writing (%s; allowed: a writable "
                            "file or device, or access=ro)",
                            escape(where, sizeof(where), path, VALUE_SHOWN_MAX), strerror(errno));
        return 0;
}

/* A second disk on the same virtual device number, naming the first. */
static bool disk_is_duplicate(struct parse_ctx *ctx, unsigned line, size_t entry,
                              const struct disk_config *d)
{
        char a[SHOWN_SIZE], b[SHOWN_SIZE];

        for (size_t i = 0; i < ctx->n_disks; i++) {
                const struct disk_config *o = &ctx->disks[i];

                if (o->devid != d->devid)
                        continue;
                entry_error(ctx, line, KEY_DISK, entry,
                            "vdev: '%s' is device %" PRIu32 ", as entry %zu's '%s' at line %u "
                            "(allowed: one disk per vdev)",
                            escape(a, sizeof(a), d->vdev, VALUE_SHOWN_MAX), d->devid,
                            ctx->disk_entry[i], escape(b, sizeof(b), o->vdev, VALUE_SHOWN_MAX),
                            o->line);
                return true;
        }
        return false;
}

/*
 * The next entry of a device list, counted in *items: 0 and its number in *entry_r, or -1 when
 * the list is past max (said once, at the first one too many).
 */
static int device_entry_next(struct parse_ctx *ctx, unsigned line, int k, size_t *items, size_t max,
                             const char *what, size_t *entry_r)
{
        size_t entry = ++*items;

        if (entry > max) {
                if (entry == max + 1)
                        entry_error(ctx, line, k, entry, "one %s too many (allowed: at most %zu)",
                                    what, max);
                return -1;
        }
        *entry_r = entry;
        return 0;
}

/* What an entry's parser said: 0 to keep it; -EINVAL is the entry's error, others are fatal. */
static int device_entry_parsed(struct parse_ctx *ctx, unsigned line, int k, size_t entry, int r,
                               const char *error)
{
        if (r == -EINVAL)
                entry_error(ctx, line, k, entry, "%s", error);
        else if (r < 0)
                ctx->fatal = r;
        return r < 0 ? -1 : 0;
}

static int on_disk(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
        struct parse_ctx *ctx = ctx_of(cfg);
        int k = list_item_begin(cfg, opt, ctx ? ctx->disk_items : 0, &ctx);
        unsigned line = (unsigned)cfg->line;
        char error[DEVICE_ERROR_MAX];
        struct disk_config d;
        size_t entry;
        int r;

        if (!ctx)
                return -1;
        *(const char **)result = value ? value : "";
        if (k < 0 || !value)
                return 0;
        if (device_entry_next(ctx, line, k, &ctx->disk_items, DISKS_MAX, "disk", &entry) < 0 ||
            device_entry_parsed(ctx, line, k, entry, disk_parse(value, &d, error), error) < 0)
                return 0;
        d.line = line;
        r = check_target(ctx, line, entry, &d);
        if (r >= 0 && !disk_is_duplicate(ctx, line, entry, &d)) {
                struct disk_config *p = realloc(ctx->disks, (ctx->n_disks + 1) * sizeof(*p));

                if (p) {
                        ctx->disks = p;
                        ctx->disk_entry[ctx->n_disks] = entry;
                        ctx->disks[ctx->n_disks++] = d;
                        return 0;
                }
                r = -ENOMEM;
        }
        if (r < 0)
                ctx->fatal = r;
        disk_config_done(&d);
        return 0;
}

/* A second vif with the same explicit MAC or vifname, naming the first. */
static bool vif_is_duplicate(struct parse_ctx *ctx, unsigned line, size_t entry,
                             const struct vif_config *v)
{
        char a[SHOWN_SIZE];

        for (size_t i = 0; i < ctx->n_vifs; i++) {
                const struct vif_config *o = &ctx->vifs[i];

                if (v->has_mac && o->has_mac && memcmp(v->mac, o->mac, sizeof(v->mac)) == 0) {
                        char mac[MAC_STRLEN];

                        entry_error(ctx, line, KEY_VIF, entry,
                                    "mac: %s is entry %zu's too, at line %u (allowed: one vif per "
                                    "MAC)",
                                    mac_format(v->mac, mac), ctx->vif_entry[i], o->line);
                        return true;
                }
                if (v->vifname && o->vifname && strcmp(v->vifname, o->vifname) == 0) {
                        entry_error(ctx, line, KEY_VIF, entry,
                                    "vifname: '%s' is entry %zu's too, at line %u (allowed: one "
                                    "vif per name)",
                                    escape(a, sizeof(a), v->vifname, VALUE_SHOWN_MAX),
                                    ctx->vif_entry[i], o->line);
                        return true;
                }
        }
        return false;
}

static int on_vif(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
        struct parse_ctx *ctx = ctx_of(cfg);
        int k = list_item_begin(cfg, opt, ctx ? ctx->vif_items : 0, &ctx);
        unsigned line = (unsigned)cfg->line;
        char error[DEVICE_ERROR_MAX];
        struct vif_config v;
        size_t entry;

        if (!ctx)
                return -1;
        *(const char **)result = value ? value : "";
        if (k < 0 || !value)
                return 0;
        if (device_entry_next(ctx, line, k, &ctx->vif_items, VIFS_MAX, "vif", &entry) < 0 ||
            device_entry_parsed(ctx, line, k, entry, vif_parse(value, &v, error), error) < 0)
                return 0;
        v.line = line;
        if (!vif_is_duplicate(ctx, line, entry, &v)) {
                struct vif_config *p = realloc(ctx->vifs, (ctx->n_vifs + 1) * sizeof(*p));

                if (p) {
                        ctx->vifs = p;
                        ctx->vif_entry[ctx->n_vifs] = entry;
                        ctx->vifs[ctx->n_vifs++] = v;
                        return 0;
                }
                ctx->fatal = -ENOMEM;
        }
        vif_config_done(&v);
        return 0;
}

static void ctx_devices_free(struct parse_ctx *ctx)
{
        for (size_t i = 0; i < ctx->n_disks; i++)
                disk_config_done(&ctx->disks[i]);
        free(ctx->disks);
        for (size_t i = 0; i < ctx->n_vifs; i++)
                vif_config_done(&ctx->vifs[i]);
        free(ctx->vifs);
        ctx->disks = NULL;
        ctx->vifs = NULL;
        ctx->n_disks = ctx->n_vifs = 0;
}

/* Called after each section; without CFGF_MULTI a second one would silently merge. */
static int on_section(cfg_t *cfg, cfg_opt_t *opt)
{
        struct parse_ctx *ctx = ctx_of(cfg);
        int k;

        if (!ctx)
                return -1;
        k = key_of(cfg, opt);
        if (k < 0)
                return 0;
        if (ctx->seen[k].line == 0)
                ctx->seen[k].line = (unsigned)cfg->line;
        else if (cfg_opt_size(opt) == 2)
                ctx_error(ctx, (unsigned)cfg->line, key_defs[k].shown,
                          "section given twice (first ends at line %u; allowed: one %s { })",
                          ctx->seen[k].line, key_defs[k].shown);
        return 0;
}

static void cfg_freep(cfg_t **cfg)
{
        if (*cfg)
                cfg_free(*cfg);
}

static cfg_t *schema_new(struct parse_ctx *ctx)
{
        /* cfg_init copies the tables, so they may live on this stack frame. */
        cfg_opt_t restart_opts[] = {
                CFG_INT_CB("burst", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("interval", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("delay", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("max_delay", 0, CFGF_NODEFAULT, on_int),
                CTX_OPT(ctx),
                CFG_END(),
        };
        cfg_opt_t sim_opts[] = {
                CFG_INT_CB("run_seconds", 0, CFGF_NODEFAULT, on_int),
                CFG_STR_CB("exit", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("on_shutdown_request", NULL, CFGF_NODEFAULT, on_str),
                CFG_INT_CB("build_seconds", 0, CFGF_NODEFAULT, on_int),
                CTX_OPT(ctx),
                CFG_END(),
        };
        cfg_opt_t opts[] = {
                CFG_STR_CB("name", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("uuid", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("type", NULL, CFGF_NODEFAULT, on_str),
                CFG_INT_CB("memory", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("maxmem", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("vcpus", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("maxvcpus", 0, CFGF_NODEFAULT, on_int),
                CFG_STR_CB("kernel", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("ramdisk", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("cmdline", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("on_poweroff", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("on_reboot", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("on_crash", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("on_watchdog", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_CB("on_soft_reset", NULL, CFGF_NODEFAULT, on_str),
                CFG_BOOL_CB("autostart", cfg_false, CFGF_NODEFAULT, on_bool),
                CFG_STR_CB("on_host_shutdown", NULL, CFGF_NODEFAULT, on_str),
                CFG_INT_CB("cpu_weight", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("cpu_cap", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("ssidref", 0, CFGF_NODEFAULT, on_int),
                CFG_INT_CB("shutdown_timeout", 0, CFGF_NODEFAULT, on_int),
                CFG_STR_CB("coredump_dir", NULL, CFGF_NODEFAULT, on_str),
                CFG_STR_LIST_CB("disk", NULL, CFGF_NODEFAULT, on_disk),
                CFG_STR_LIST_CB("vif", NULL, CFGF_NODEFAULT, on_vif),
                CFG_SEC("restart", restart_opts, CFGF_MULTI | CFGF_NODEFAULT),
                CFG_SEC("sim", sim_opts, CFGF_MULTI | CFGF_NODEFAULT),
                CTX_OPT(ctx),
                CFG_END(),
        };
        cfg_t *cfg = cfg_init(opts, CFGF_NONE);

        if (!cfg)
                return NULL;
        cfg_set_error_function(cfg, on_cfg_error);
        cfg_set_validate_func(cfg, "restart", on_section);
        cfg_set_validate_func(cfg, "sim", on_section);
        return cfg;
}

/* ---- reading the file ---- */

static unsigned line_at(const char *buf, size_t off)
{
        unsigned line = 1;

        for (size_t i = 0; i < off; i++)
                if (buf[i] == '\n')
                        line++;
        return line;
}

/* Read the whole file, refusing what is not a small text file. */
static int read_config_fd(struct parse_ctx *ctx, int fd, char **buf_r)
{
        _cleanup_free_ char *buf = NULL;
        const char *p;
        struct stat st;
        size_t n = 0, cap;

        if (fstat(fd, &st) < 0) {
                int r = -errno;

                ctx_error(ctx, 0, NULL, "cannot stat: %s", strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                ctx_error(ctx, 0, NULL, "not a regular file");
                return -EINVAL;
        }
        if (st.st_size > CONFIG_FILE_MAX) {
                ctx_error(ctx, 0, NULL, "file too large (%lld bytes; allowed: at most %d)",
                          (long long)st.st_size, CONFIG_FILE_MAX);
                return -EFBIG;
        }
        cap = (size_t)st.st_size;
        buf = malloc(cap + 2);
        if (!buf)
                return -ENOMEM;
        /* Read one byte past the size seen, to notice a file that grows meanwhile. */
        while (n < cap + 1) {
                ssize_t k = read(fd, buf + n, cap + 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = -errno;

                        ctx_error(ctx, 0, NULL, "cannot read: %s", strerror(-r));
                        return r;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        if (n > cap) {
                ctx_error(ctx, 0, NULL, "file changed while being read");
                return -EAGAIN;
        }
        buf[n] = '\0';
        p = memchr(buf, '\0', n);
        if (p) {
                ctx_error(ctx, line_at(buf, (size_t)(p - buf)), NULL,
                          "contains a NUL byte (allowed: a text file)");
                return -EINVAL;
        }
        *buf_r = TAKE_PTR(buf);
        return 0;
}

static int read_config_file(struct parse_ctx *ctx, const char *path, char **buf_r)
{
        _cleanup_close_ int fd = -1;

        /* O_NONBLOCK: a FIFO named *.conf must not hang the daemon. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;

                ctx_error(ctx, 0, NULL, "cannot open: %s", strerror(-r));
                return r;
        }
        return read_config_fd(ctx, fd, buf_r);
}

/*
 * One pass over the text before libconfuse sees it, following its lexer's
 * rules for strings and comments ('#' anywhere outside quotes; line and block
 * comments opened by a slash only where a word starts): blank out comments
 * (libconfuse 3.3 counts the lines of a file wrong after a comment), refuse
 * "${" (libconfuse would substitute the daemon's environment), and notice what
 * libconfuse silently accepts at end of file: an unclosed block comment, string
 * or section. An unclosed string must never reach libconfuse 3.3: it drops the
 * last statement and reports success, and its lexer echoes a backslash left at
 * the end of the file to stdout.
 * Sets *open_line_r to the line of a '{' never closed, or 0.
 */
static int prescan(struct parse_ctx *ctx, char *buf, unsigned *open_line_r)
{
        enum { NORMAL, DQ, SQ, LINE_COMMENT, BLOCK_COMMENT } st = NORMAL;
        unsigned line = 1, depth = 0, open_line = 0, comment_line = 0, string_line = 0;

        for (char *p = buf; *p; p++) {
                /* As in the lexer, a slash inside an unquoted word (/usr//lib) is text. */
                bool mid_token = p > buf && !strchr(" \t\n\r#\"'={}()+,*", p[-1]);

                if (*p == '\n')
                        line++;
                switch (st) {
                case NORMAL:
                        if (*p == '"' || *p == '\'') {
                                st = *p == '"' ? DQ : SQ;
                                string_line = line;
                        } else if (*p == '#' || (p[0] == '/' && p[1] == '/' && !mid_token)) {
                                st = LINE_COMMENT;
                                *p = ' ';
                        } else if (p[0] == '/' && p[1] == '*' && !mid_token) {
                                st = BLOCK_COMMENT;
                                comment_line = line;
                                p[0] = p[1] = ' ';
                                p++;
                        } else if (*p == '{') {
                                if (depth++ == 0)
                                        open_line = line;
                        } else if (*p == '}' && depth > 0) {
                                depth--;
                        } else if (p[0] == '$' && p[1] == '{') {
                                goto substitution;
                        }
                        break;
                case DQ:
                case SQ:
                        if (p[0] == '\\' && p[1]) {
                                if (p[1] == '\n')
                                        line++;
                                p++;
                        } else if (*p == (st == DQ ? '"' : '\'')) {
                                st = NORMAL;
                        } else if (st == DQ && p[0] == '$' && p[1] == '{') {
                                goto substitution;
                        }
                        break;
                case LINE_COMMENT:
                        if (*p == '\n')
                                st = NORMAL;
                        else
                                *p = ' ';
                        break;
                case BLOCK_COMMENT:
                        if (p[0] == '*' && p[1] == '/') {
                                p[0] = p[1] = ' ';
                                p++;
                                st = NORMAL;
                        } else if (*p != '\n') {
                                *p = ' ';
                        }
                        break;
                }
        }
        if (st == BLOCK_COMMENT) {
                ctx_error(ctx, comment_line, NULL,
                          "syntax error: comment not closed ('/*' without '*/')");
                return -EINVAL;
        }
        if (st == DQ || st == SQ) {
                ctx_error(ctx, string_line, NULL,
                          "syntax error: unterminated string (a closing %s is missing)",
                          st == DQ ? "\"" : "'");
                return -EINVAL;
        }
        *open_line_r = depth > 0 ? open_line : 0;
        return 0;

substitution:
        ctx_error(ctx, line, NULL,
                  "'${' is not allowed (libconfuse would substitute the daemon's environment)");
        return -EINVAL;
}

/* ---- every key of the file ---- */

/* keyscan()'s tokens; the text has been through prescan(), so comments are blanks. */
enum ks_token {
        KS_END,
        KS_WORD,
        KS_STRING,
        KS_ASSIGN,
        KS_OPEN,
        KS_CLOSE,
        KS_COMMA,
        KS_PAREN,
        KS_PAREN_CLOSE,
        KS_SEMICOLON,
        KS_OTHER
};

struct keyscan {
        char *p;
        unsigned line;
        char *tok; /* the last token's text and length */
        size_t len;
        unsigned tok_line;
};

/*
 * As libconfuse's lexer cuts an unquoted word, but for ';': to libconfuse a part of a word,
 * here xl's separator of settings, so that the keys of an xl.cfg file after one are found.
 */
static bool ks_word_char(const char *p)
{
        return *p && !strchr(" \t\n\r#\"'={}(),;", *p) && !(p[0] == '+' && p[1] == '=');
}

static enum ks_token ks_next(struct keyscan *ks)
{
        char *p = ks->p;

        for (; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
                if (*p == '\n')
                        ks->line++;
        ks->tok = p;
        ks->tok_line = ks->line;
        ks->len = 1;
        ks->p = p + 1;
        switch (*p) {
        case '\0':
                ks->p = p;
                return KS_END;
        case '=':
                return KS_ASSIGN;
        case '{':
                return KS_OPEN;
        case '}':
                return KS_CLOSE;
        case ',':
                return KS_COMMA;
        case '(':
                return KS_PAREN;
        case ')':
                return KS_PAREN_CLOSE;
        case ';':
                return KS_SEMICOLON;
        case '+':
                if (p[1] == '=') {
                        ks->p = p + 2;
                        return KS_ASSIGN;
                }
                break;
        case '"':
        case '\'':
                /* prescan() refused unterminated strings. */
                for (p++; *p && *p != *ks->tok; p++) {
                        if (*p == '\\' && p[1])
                                p++;
                        if (*p == '\n')
                                ks->line++;
                }
                ks->p = *p ? p + 1 : p;
                ks->tok++;
                ks->len = (size_t)(p - ks->tok);
                return KS_STRING;
        default:
                break;
        }
        if (!ks_word_char(p))
                return KS_OTHER;
        while (ks_word_char(p))
                p++;
        ks->p = p;
        ks->len = (size_t)(p - ks->tok);
        return KS_WORD;
}

/* Record a key the schema does not know (in section, NULL at top level). */
static int ks_note(struct parse_ctx *ctx, const char *section, const char *name, size_t len,
                   unsigned line, bool xl_list)
{
        struct unknown_key *u;
        bool known = false;

        /* Empty keys and section paths ("restart|burst") are libconfuse's to report. */
        if (len == 0 || memchr(name, '|', len))
                return 0;
        for (int k = 0; k < _KEY_MAX && !known; k++) {
                const struct key_def *d = &key_defs[k];

                known = strlen(d->name) == len && memcmp(d->name, name, len) == 0 &&
                        !d->section == !section && (!section || strcmp(d->section, section) == 0);
        }
        if (known && !xl_list)
                return 0;
        if (!known)
                xl_list = false;
        u = realloc(ctx->unknown, (ctx->n_unknown + 1) * sizeof(*u));
        if (!u)
                return -ENOMEM;
        ctx->unknown = u;
        u = &ctx->unknown[ctx->n_unknown];
        u->name = strndup(name, len);
        if (!u->name)
                return -ENOMEM;
        u->line = line;
        u->section = section;
        u->xl_list = xl_list;
        ctx->n_unknown++;
        return 0;
}

/*
 * A value after '=': a word, a string, a { } list, or xl's [ ] list (to libconfuse, words
 * that begin with '[' and end with ']'). An xl list is turned into braces in the text
 * (*xl_list_r set), so that libconfuse reads its entries and the keys after it.
 */
static bool ks_value(struct keyscan *ks, bool *xl_list_r)
{
        enum ks_token t = ks_next(ks);

        *xl_list_r = false;
        /* A word "[" or "[]": to libconfuse "[x]" is a word like any other. */
        if (t == KS_WORD && ks->tok[0] == '[' &&
            (ks->len == 1 || (ks->len == 2 && ks->tok[1] == ']'))) {
                char *open = ks->tok;

                /* Up to a word that ends with ']' (the opening one too, unless it is "["). */
                while (t != KS_WORD || ks->tok[ks->len - 1] != ']' ||
                       (ks->tok == open && ks->len == 1)) {
                        t = ks_next(ks);
                        if (t != KS_WORD && t != KS_STRING && t != KS_COMMA)
                                return false;
                }
                *xl_list_r = true;
                /*
                 * Only "[" and "]" standing alone become braces: a ']' ending a word could make
                 * a comment of what follows the brace, or end the word elsewhere.
                 */
                if (open != ks->tok && ks->len != 1)
                        return true;
                *open = '{';
                ks->tok[ks->len - 1] = '}';
                return true;
        }
        if (t == KS_WORD || t == KS_STRING)
                return true;
        if (t != KS_OPEN)
                return false;
        for (;;) {
                t = ks_next(ks);
                if (t == KS_CLOSE)
                        return true;
                if (t != KS_WORD && t != KS_STRING && t != KS_COMMA)
                        return false;
        }
}

/*
 * The statements of one block: the file (section NULL, top) or a section's body, whose keys
 * are recorded when known is set (an unknown section's are not: the section is the error).
 * Returns 1 at the block's end, 0 where the text is no longer what libconfuse would read
 * (libconfuse reports that), or -ENOMEM.
 */
static int ks_block(struct parse_ctx *ctx, struct keyscan *ks, const char *section, bool top,
                    bool known, unsigned depth)
{
        for (;;) {
                enum ks_token t = ks_next(ks), t2;
                const char *name = ks->tok, *sub;
                size_t len = ks->len;
                unsigned line = ks->tok_line;
                bool xl_list = false;
                int r;

                if (t == KS_END)
                        return top ? 1 : 0;
                if (t == KS_CLOSE)
                        return top ? 0 : 1;
                if (t == KS_SEMICOLON)
                        continue;
                if (t != KS_WORD && t != KS_STRING)
                        return 0;
                t2 = ks_next(ks);
                if (t2 == KS_ASSIGN) {
                        if (!ks_value(ks, &xl_list))
                                return 0;
                } else if (t2 == KS_PAREN) {
                        do
                                t2 = ks_next(ks);
                        while (t2 != KS_PAREN_CLOSE && t2 != KS_END);
                        if (t2 == KS_END)
                                return 0;
                } else if (t2 == KS_OPEN || t2 == KS_WORD || t2 == KS_STRING) {
                        /* A section, titled or not: ours are restart { } and sim { }. */
                        if (t2 != KS_OPEN && ks_next(ks) != KS_OPEN)
                                return 0;
                        sub = NULL;
                        if (top && t2 == KS_OPEN && len == strlen("restart") &&
                            memcmp(name, "restart", len) == 0)
                                sub = "restart";
                        if (top && t2 == KS_OPEN && len == strlen("sim") &&
                            memcmp(name, "sim", len) == 0)
                                sub = "sim";
                        if (known && !sub &&
                            (r = ks_note(ctx, section, name, len, line, false)) < 0)
                                return r;
                        if (depth > 8)
                                return 0;
                        r = ks_block(ctx, ks, sub, false, known && sub, depth + 1);
                        if (r <= 0)
                                return r;
                        continue;
                } else {
                        return 0;
                }
                if (known && (r = ks_note(ctx, section, name, len, line, xl_list)) < 0)
                        return r;
        }
}

/*
 * Find every key of buf (after prescan()) that the schema does not know, into ctx->unknown:
 * libconfuse stops at the first unknown key, and a person fixing a file (an xl.cfg above all)
 * wants them all at once. Where the text stops being libconfuse's syntax the scan stops too.
 */
static int keyscan(struct parse_ctx *ctx, char *buf)
{
        struct keyscan ks = { .p = buf, .line = 1 };
        int r = ks_block(ctx, &ks, NULL, true, true, 0);

        return r < 0 ? r : 0;
}

static void ctx_unknown_free(struct parse_ctx *ctx)
{
        for (size_t i = 0; i < ctx->n_unknown; i++)
                free(ctx->unknown[i].name);
        free(ctx->unknown);
        ctx->unknown = NULL;
        ctx->n_unknown = ctx->unknown_done = 0;
}

/* The absolute directory of a file, without resolving symlinks. */
static char *dir_of(const char *path)
{
        _cleanup_free_ char *abs = NULL;
        char *slash;

        if (path[0] == '/') {
                abs = strdup(path);
        } else {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);

                if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0)
                        return NULL;
        }
        if (!abs)
                return NULL;
        slash = strrchr(abs, '/');
        if (slash == abs)
                slash[1] = '\0';
        else
                *slash = '\0';
        return TAKE_PTR(abs);
}

/* ---- from the parsed tree to the struct ---- */

static bool key_set(const struct parse_ctx *ctx, int k)
{
        return ctx->seen[k].line > 0;
}

static unsigned get_uint(cfg_t *sec, int k, unsigned def)
{
        return sec && cfg_size(sec, key_defs[k].name) > 0
                   ? (unsigned)cfg_getint(sec, key_defs[k].name)
                   : def;
}

static const char *get_str(cfg_t *sec, int k)
{
        return sec && cfg_size(sec, key_defs[k].name) > 0 ? cfg_getstr(sec, key_defs[k].name)
                                                          : NULL;
}

static enum domain_action get_action(cfg_t *cfg, int k, enum domain_action def)
{
        int a = domain_action_from_string(get_str(cfg, k));

        return a < 0 ? def : (enum domain_action)a;
}

static int dup_str(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Fill c from a parsed tree whose single values all passed their callbacks. */
static int config_build(cfg_t *cfg, struct parse_ctx *ctx, struct domain_config *c)
{
        cfg_t *restart = cfg_size(cfg, "restart") > 0 ? cfg_getnsec(cfg, "restart", 0) : NULL;
        cfg_t *sim = cfg_size(cfg, "sim") > 0 ? cfg_getnsec(cfg, "sim", 0) : NULL;
        const char *s;
        int t;

        s = get_str(cfg, KEY_NAME);
        if (!s)
                ctx_error(ctx, 0, "name", "missing (required: " NAME_ALLOWED ")");
        else if (domain_name_is_valid(s))
                memcpy(c->name, s, strlen(s) + 1);
        c->name_line = ctx->seen[KEY_NAME].line;

        s = get_str(cfg, KEY_UUID);
        c->uuid_line = ctx->seen[KEY_UUID].line;
        if (s) {
                (void)uuid_from_string(s, c->uuid);
        } else if (c->name[0]) {
                uuid_from_name(c->name, c->uuid);
                c->uuid_derived = true;
        }

        t = domain_type_from_string(get_str(cfg, KEY_TYPE));
        c->type = t < 0 ? DOMAIN_TYPE_PV : (enum domain_type)t;

        c->memory_mib =
            cfg_size(cfg, "memory") > 0 ? (uint64_t)cfg_getint(cfg, "memory") : DEFAULT_MEMORY_MIB;
        c->maxmem_mib =
            cfg_size(cfg, "maxmem") > 0 ? (uint64_t)cfg_getint(cfg, "maxmem") : c->memory_mib;
        if (key_set(ctx, KEY_MAXMEM) && !ctx->seen[KEY_MAXMEM].bad && !ctx->seen[KEY_MEMORY].bad &&
            c->maxmem_mib < c->memory_mib) {
                char v[32], allowed[96];

                snprintf(v, sizeof(v), "%" PRIu64, c->maxmem_mib);
                snprintf(allowed, sizeof(allowed), "at least memory, %" PRIu64 "%s", c->memory_mib,
                         key_set(ctx, KEY_MEMORY) ? "" : " (the default)");
                bad_value(ctx, ctx->seen[KEY_MAXMEM].line, KEY_MAXMEM, v, allowed);
        }

        c->vcpus = get_uint(cfg, KEY_VCPUS, 1);
        c->maxvcpus = get_uint(cfg, KEY_MAXVCPUS, c->vcpus);
        if (key_set(ctx, KEY_MAXVCPUS) && !ctx->seen[KEY_MAXVCPUS].bad &&
            !ctx->seen[KEY_VCPUS].bad && c->maxvcpus < c->vcpus) {
                char v[32], allowed[96];

                snprintf(v, sizeof(v), "%u", c->maxvcpus);
                snprintf(allowed, sizeof(allowed), "vcpus (%u) to %d", c->vcpus, VCPUS_MAX);
                bad_value(ctx, ctx->seen[KEY_MAXVCPUS].line, KEY_MAXVCPUS, v, allowed);
        }

        s = get_str(cfg, KEY_KERNEL);
        if (s && !ctx->seen[KEY_KERNEL].bad && !(c->kernel = path_resolve(ctx->dir, s)))
                return -ENOMEM;
        if (!s && !ctx->seen[KEY_TYPE].bad)
                ctx_error(ctx, ctx->seen[KEY_TYPE].line, "kernel",
                          "missing (required: a readable kernel image for a %s domain)",
                          domain_type_to_string(c->type));
        s = get_str(cfg, KEY_RAMDISK);
        if (s && !ctx->seen[KEY_RAMDISK].bad && !(c->ramdisk = path_resolve(ctx->dir, s)))
                return -ENOMEM;
        if (dup_str(get_str(cfg, KEY_CMDLINE), &c->cmdline) < 0)
                return -ENOMEM;

        c->on_poweroff = get_action(cfg, KEY_ON_POWEROFF, ACTION_DESTROY);
        c->on_reboot = get_action(cfg, KEY_ON_REBOOT, ACTION_RESTART);
        c->on_crash = get_action(cfg, KEY_ON_CRASH, ACTION_DESTROY);
        c->on_watchdog = get_action(cfg, KEY_ON_WATCHDOG, ACTION_DESTROY);
        c->on_soft_reset = get_action(cfg, KEY_ON_SOFT_RESET, ACTION_SOFT_RESET);

        c->autostart = cfg_size(cfg, "autostart") > 0 ? cfg_getbool(cfg, "autostart") : true;
        t = host_shutdown_action_from_string(get_str(cfg, KEY_ON_HOST_SHUTDOWN));
        c->on_host_shutdown = t < 0 ? HOST_SHUTDOWN_SAVE : (enum host_shutdown_action)t;
        c->cpu_weight = get_uint(cfg, KEY_CPU_WEIGHT, 256);
        c->cpu_cap = get_uint(cfg, KEY_CPU_CAP, 0);
        if (!ctx->seen[KEY_CPU_CAP].bad && !ctx->seen[KEY_MAXVCPUS].bad &&
            !ctx->seen[KEY_VCPUS].bad && c->cpu_cap > 100 * c->maxvcpus) {
                char v[32], allowed[96];

                snprintf(v, sizeof(v), "%u", c->cpu_cap);
                snprintf(allowed, sizeof(allowed), "0 (no cap) to 100 per vcpu, %u for maxvcpus %u",
                         100 * c->maxvcpus, c->maxvcpus);
                bad_value(ctx, ctx->seen[KEY_CPU_CAP].line, KEY_CPU_CAP, v, allowed);
        }
        c->ssidref = cfg_size(cfg, "ssidref") > 0 ? (uint32_t)cfg_getint(cfg, "ssidref") : 0;
        c->shutdown_timeout = get_uint(cfg, KEY_SHUTDOWN_TIMEOUT, 60);
        s = get_str(cfg, KEY_COREDUMP_DIR);
        if (dup_str(s ? s : DEFAULT_COREDUMP, &c->coredump_dir) < 0)
                return -ENOMEM;

        c->restart.burst = get_uint(restart, KEY_RESTART_BURST, 5);
        c->restart.interval = get_uint(restart, KEY_RESTART_INTERVAL, 60);
        c->restart.delay = get_uint(restart, KEY_RESTART_DELAY, 0);
        c->restart.max_delay = get_uint(restart, KEY_RESTART_MAX_DELAY, c->restart.delay);
        if (key_set(ctx, KEY_RESTART_MAX_DELAY) && !ctx->seen[KEY_RESTART_MAX_DELAY].bad &&
            !ctx->seen[KEY_RESTART_DELAY].bad && c->restart.max_delay < c->restart.delay) {
                char v[32], allowed[128];

                /* delay is set (its default 0 is never above max_delay): name its line too. */
                snprintf(v, sizeof(v), "%u", c->restart.max_delay);
                snprintf(allowed, sizeof(allowed), "at least restart.delay, %u, set at line %u",
                         c->restart.delay, ctx->seen[KEY_RESTART_DELAY].line);
                bad_value(ctx, ctx->seen[KEY_RESTART_MAX_DELAY].line, KEY_RESTART_MAX_DELAY, v,
                          allowed);
        }

        /* Each entry was checked where the parser stood; the set is complete now. */
        check_list_kept(cfg, ctx, KEY_DISK, ctx->disk_items);
        check_list_kept(cfg, ctx, KEY_VIF, ctx->vif_items);
        c->disks = TAKE_PTR(ctx->disks);
        c->n_disks = ctx->n_disks;
        c->vifs = TAKE_PTR(ctx->vifs);
        c->n_vifs = ctx->n_vifs;
        ctx->n_disks = ctx->n_vifs = 0;

        c->sim.present = sim != NULL;
        c->sim.run_seconds = get_uint(sim, KEY_SIM_RUN_SECONDS, 0);
        c->sim.build_seconds = get_uint(sim, KEY_SIM_BUILD_SECONDS, 0);
        t = shutdown_reason_from_string(get_str(sim, KEY_SIM_EXIT));
        c->sim.exit = t < 0 ? SHUTDOWN_REASON_POWEROFF : (enum shutdown_reason)t;
        t = sim_shutdown_answer_from_string(get_str(sim, KEY_SIM_ON_SHUTDOWN_REQUEST));
        c->sim.on_shutdown = t < 0 ? SIM_SHUTDOWN_OBEY : (enum sim_shutdown_answer)t;
        return 0;
}

/*
 * The line libconfuse stopped at: inside a section it counts the section's
 * lines, and the root catches up only when the section closes.
 */
static unsigned stop_line(cfg_t *cfg)
{
        static const char *const sections[] = { "restart", "sim" };
        unsigned line = (unsigned)cfg->line;

        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                unsigned n = cfg_size(cfg, sections[i]);
                cfg_t *sec = n > 0 ? cfg_getnsec(cfg, sections[i], n - 1) : NULL;

                if (sec && (unsigned)sec->line > line)
                        line = (unsigned)sec->line;
        }
        return line;
}

/* Read (from fd when >= 0, else by path), parse and check one file; problems go to ctx. */
static int load(struct parse_ctx *ctx, const char *path, int fd, struct domain_config **ret)
{
        _cleanup_(config_freep) struct domain_config *c = NULL;
        _cleanup_(cfg_freep) cfg_t *cfg = NULL;
        _cleanup_free_ char *buf = NULL;
        unsigned open_line = 0;
        int r;

        r = fd >= 0 ? read_config_fd(ctx, fd, &buf) : read_config_file(ctx, path, &buf);
        if (r < 0)
                return r;
        r = prescan(ctx, buf, &open_line);
        if (r < 0)
                return r;
        r = keyscan(ctx, buf);
        if (r < 0)
                return r;
        cfg = schema_new(ctx);
        if (!cfg)
                return -ENOMEM;
        errno = 0;
        r = cfg_parse_buf(cfg, buf);
        report_xl_lists_before(ctx, UINT_MAX);
        if (ctx->fatal < 0)
                return ctx->fatal;
        if (r != CFG_SUCCESS) {
                /* libconfuse reports neither a key "" or '' (cfg_getopt sets EINVAL) nor ENOMEM. */
                if (ctx->n_errors == 0 && errno == EINVAL)
                        ctx_error(ctx, stop_line(cfg), NULL,
                                  "syntax error: empty key name (\"\" or '' where a key belongs)");
                else if (ctx->n_errors == 0)
                        ctx_error(ctx, stop_line(cfg), NULL, "cannot parse (out of memory?)");
                return -EINVAL;
        }
        if (open_line > 0) {
                ctx_error(ctx, open_line, NULL,
                          "syntax error: section not closed ('{' without '}' before the end)");
                return -EINVAL;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = config_build(cfg, ctx, c);
        if (r < 0)
                return r;
        if (ctx->n_errors > 0)
                return -EINVAL;
        c->path = strdup(path);
        if (!c->path)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_file(const char *path, struct domain_config **ret, char **errors_r)
{
        return config_load_file_flags(path, 0, ret, errors_r);
}

int config_load_file_flags(const char *path, unsigned flags, struct domain_config **ret,
                           char **errors_r)
{
        return config_load_fd(-1, path, flags, ret, errors_r);
}

int config_load_fd(int fd, const char *path, unsigned flags, struct domain_config **ret,
                   char **errors_r)
{
        _cleanup_free_ char *dir = NULL, *shown_path = NULL, *errors = NULL;
        struct parse_ctx ctx = {};
        size_t shown_size = strlen(path) * 4 + 8;
        int r;

        *ret = NULL;
        /* A newline in a file name must not split its error lines. */
        shown_path = malloc(shown_size);
        dir = dir_of(path);
        if (!shown_path || !dir)
                return -ENOMEM;
        ctx.path = escape(shown_path, shown_size, path, SIZE_MAX);
        ctx.dir = dir;
        ctx.flags = flags;

        /* Its name reaches logs, the record's lines and relative paths: no control bytes. */
        if (text_has_control(path)) {
                ctx_error(&ctx, 0, NULL,
                          "the file's name contains a control character (shown escaped); "
                          "rename it");
                r = -EINVAL;
        } else
                r = load(&ctx, path, fd, ret);
        ctx_devices_free(&ctx);
        ctx_unknown_free(&ctx);
        errors = ctx.errors;
        if (r < 0 && errors_r && errors) {
                free(*errors_r);
                *errors_r = TAKE_PTR(errors);
        }
        return r;
}

/* ---- directories ---- */

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *n)
{
        size_t l = strlen(n);

        return n[0] != '.' && l > 5 && strcmp(n + l - 5, ".conf") == 0;
}

/* The sorted *.conf names in d, as a NULL-terminated strv. */
static int list_conf(DIR *d, char ***names_r)
{
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de)
                        break;
                if (!is_conf_name(de->d_name))
                        continue;
                if (n + 2 > cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        char **p = realloc(names, ncap * sizeof(*p));

                        if (!p)
                                return -ENOMEM;
                        names = p;
                        cap = ncap;
                }
                names[n] = strdup(de->d_name);
                if (!names[n])
                        return -ENOMEM;
                names[++n] = NULL;
        }
        if (errno != 0)
                return -errno;
        if (names)
                qsort(names, n, sizeof(*names), cmp_names);
        *names_r = TAKE_PTR(names);
        return 0;
}

static int set_append(struct config_set *set, struct domain_config *c)
{
        struct domain_config **p = realloc(set->items, (set->n + 1) * sizeof(*p));

        if (!p)
                return -ENOMEM;
        set->items = p;
        set->items[set->n++] = c;
        return 0;
}

/* Report c as a duplicate of a config already in set; true if it is one. */
static bool is_duplicate(const struct config_set *set, const struct domain_config *c,
                         char **errors_r)
{
        char us[37];

        for (size_t i = 0; i < set->n; i++) {
                const struct domain_config *o = set->items[i];

                if (strcmp(o->name, c->name) == 0) {
                        err_appendf(errors_r, 0,
                                    "%s:%u: name: duplicate value '%s' (allowed: a name no other "
                                    "file uses; %s:%u has it; this file is skipped)",
                                    c->path, c->name_line, c->name, o->path, o->name_line);
                        return true;
                }
                if (memcmp(o->uuid, c->uuid, sizeof(c->uuid)) == 0) {
                        uuid_to_string(c->uuid, us);
                        err_appendf(errors_r, 0,
                                    "%s:%u: uuid: duplicate value '%s'%s (allowed: a uuid no "
                                    "other file uses; %s has it; this file is skipped)",
                                    c->path, c->uuid_derived ? c->name_line : c->uuid_line, us,
                                    c->uuid_derived ? " (derived from the name)" : "", o->path);
                        return true;
                }
        }
        return false;
}

int config_load_dir(const char *dir, struct config_set *set_r, char **errors_r)
{
        _cleanup_(config_set_clear) struct config_set set = {};
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *absdir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        *set_r = (struct config_set){};
        absdir = realpath(dir, NULL);
        if (absdir)
                d = opendir(absdir);
        if (!d) {
                r = -errno;
                return err_appendf(errors_r, r, "%s: cannot read the config directory: %s", dir,
                                   strerror(-r));
        }
        r = list_conf(d, &names);
        if (r < 0)
                return err_appendf(errors_r, r, "%s: cannot read the config directory: %s", dir,
                                   strerror(-r));

        for (char **n = names; n && *n; n++) {
                _cleanup_(config_freep) struct domain_config *c = NULL;
                _cleanup_free_ char *path = NULL, *file_errors = NULL;

                if (asprintf(&path, "%s/%s", strcmp(absdir, "/") == 0 ? "" : absdir, *n) < 0)
                        return -ENOMEM;
                r = config_load_file(path, &c, &file_errors);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        err_appendf(errors_r, 0, "%s", file_errors ? file_errors : "(no message)");
                        continue;
                }
                if (is_duplicate(&set, c, errors_r))
                        continue;
                r = set_append(&set, c);
                if (r < 0)
                        return r;
                TAKE_PTR(c);
        }
        *set_r = set;
        set = (struct config_set){};
        return 0;
}

/* ---- the struct ---- */

struct domain_config *config_free(struct domain_config *c)
{
        if (!c)
                return NULL;
        free(c->path);
        free(c->kernel);
        free(c->ramdisk);
        free(c->cmdline);
        free(c->coredump_dir);
        for (size_t i = 0; i < c->n_disks; i++)
                disk_config_done(&c->disks[i]);
        free(c->disks);
        for (size_t i = 0; i < c->n_vifs; i++)
                vif_config_done(&c->vifs[i]);
        free(c->vifs);
        free(c);
        return NULL;
}

void config_set_clear(struct config_set *set)
{
        if (!set)
                return;
        for (size_t i = 0; i < set->n; i++)
                config_free(set->items[i]);
        free(set->items);
        *set = (struct config_set){};
}

/* Copy c's disks and vifs into d, which holds none yet; on failure d keeps what was copied. */
static int dup_devices(struct domain_config *d, const struct domain_config *c)
{
        if (c->n_disks > 0 && !(d->disks = calloc(c->n_disks, sizeof(*d->disks))))
                return -ENOMEM;
        for (; d->n_disks < c->n_disks; d->n_disks++)
                if (disk_config_copy(&d->disks[d->n_disks], &c->disks[d->n_disks]) < 0)
                        return -ENOMEM;
        if (c->n_vifs > 0 && !(d->vifs = calloc(c->n_vifs, sizeof(*d->vifs))))
                return -ENOMEM;
        for (; d->n_vifs < c->n_vifs; d->n_vifs++)
                if (vif_config_copy(&d->vifs[d->n_vifs], &c->vifs[d->n_vifs]) < 0)
                        return -ENOMEM;
        return 0;
}

struct domain_config *config_dup(const struct domain_config *c)
{
        _cleanup_(config_freep) struct domain_config *d = NULL;

        if (!c)
                return NULL;
        d = malloc(sizeof(*d));
        if (!d)
                return NULL;
        *d = *c;
        d->path = d->kernel = d->ramdisk = d->cmdline = d->coredump_dir = NULL;
        d->disks = NULL;
        d->vifs = NULL;
        d->n_disks = d->n_vifs = 0;
        if (dup_str(c->path, &d->path) < 0 || dup_str(c->kernel, &d->kernel) < 0 ||
            dup_str(c->ramdisk, &d->ramdisk) < 0 || dup_str(c->cmdline, &d->cmdline) < 0 ||
            dup_str(c->coredump_dir, &d->coredump_dir) < 0 || dup_devices(d, c) < 0)
                return NULL;
        return TAKE_PTR(d);
}

static bool str_eq(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static bool devices_equal(const struct domain_config *a, const struct domain_config *b)
{
        if (a->n_disks != b->n_disks || a->n_vifs != b->n_vifs)
                return false;
        for (size_t i = 0; i < a->n_disks; i++)
                if (!disk_config_equal(&a->disks[i], &b->disks[i]))
                        return false;
        for (size_t i = 0; i < a->n_vifs; i++)
                if (!vif_config_equal(&a->vifs[i], &b->vifs[i]))
                        return false;
        return true;
}

bool config_equal(const struct domain_config *a, const struct domain_config *b)
{
        if (!a || !b)
                return a == b;
        return devices_equal(a, b) && str_eq(a->path, b->path) && strcmp(a->name, b->name) == 0 &&
               memcmp(a->uuid, b->uuid, sizeof(a->uuid)) == 0 && a->type == b->type &&
               a->memory_mib == b->memory_mib && a->maxmem_mib == b->maxmem_mib &&
               a->vcpus == b->vcpus && a->maxvcpus == b->maxvcpus && str_eq(a->kernel, b->kernel) &&
               str_eq(a->ramdisk, b->ramdisk) && str_eq(a->cmdline, b->cmdline) &&
               a->on_poweroff == b->on_poweroff && a->on_reboot == b->on_reboot &&
               a->on_crash == b->on_crash && a->on_watchdog == b->on_watchdog &&
               a->on_soft_reset == b->on_soft_reset && a->autostart == b->autostart &&
               a->on_host_shutdown == b->on_host_shutdown && a->cpu_weight == b->cpu_weight &&
               a->cpu_cap == b->cpu_cap && a->ssidref == b->ssidref &&
               a->shutdown_timeout == b->shutdown_timeout &&
               str_eq(a->coredump_dir, b->coredump_dir) && a->restart.burst == b->restart.burst &&
               a->restart.interval == b->restart.interval && a->restart.delay == b->restart.delay &&
               a->restart.max_delay == b->restart.max_delay && a->sim.present == b->sim.present &&
               a->sim.run_seconds == b->sim.run_seconds && a->sim.exit == b->sim.exit &&
               a->sim.on_shutdown == b->sim.on_shutdown &&
               a->sim.build_seconds == b->sim.build_seconds;
}

enum domain_action config_action_for(const struct domain_config *c, enum shutdown_reason why)
{
        switch (why) {
        case SHUTDOWN_REASON_POWEROFF:
                return c->on_poweroff;
        case SHUTDOWN_REASON_REBOOT:
                return c->on_reboot;
        case SHUTDOWN_REASON_SUSPEND:
                /* A suspended domain's memory is its saved state: keep it. */
                return ACTION_PRESERVE;
        case SHUTDOWN_REASON_CRASH:
                return c->on_crash;
        case SHUTDOWN_REASON_WATCHDOG:
                return c->on_watchdog;
        case SHUTDOWN_REASON_SOFT_RESET:
                return c->on_soft_reset;
        default:
                return ACTION_DESTROY;
        }
}

unsigned config_restart_delay(const struct domain_config *c, unsigned restarts_in_window)
{
        /* A hand-built config may leave max_delay 0: that means a constant delay. */
        uint64_t cap =
            c->restart.max_delay > c->restart.delay ? c->restart.max_delay : c->restart.delay;
        uint64_t d = c->restart.delay;

        /* At most 32 doublings reach any cap, so a huge count costs nothing and cannot wrap. */
        for (unsigned i = 0; d > 0 && d < cap && i < restarts_in_window; i++)
                d *= 2;
        return (unsigned)(d < cap ? d : cap);
}

int config_set_path(struct domain_config *c, const char *path)
{
        char *p;

        if (dup_str(path, &p) < 0)
                return -ENOMEM;
        free(c->path);
        c->path = p;
        return 0;
}

/* ---- the struct as text ---- */

/*
 * Write s double-quoted, in the escapes libconfuse's lexer reads back: '"', '\'
 * and '$' (which could start "${VAR}") behind a backslash, every other byte
 * outside printable ASCII as \xNN, so the text is one ASCII line per key.
 */
void config_put_quoted(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch == '"' || ch == '\\' || ch == '$')
                        fprintf(f, "\\%c", ch);
                else if (ch < 0x20 || ch >= 0x7f)
                        fprintf(f, "\\x%02x", ch);
                else
                        fputc(ch, f);
        }
        fputc('"', f);
}

static void put_str(FILE *f, const char *indent, const char *key, const char *value)
{
        fprintf(f, "%s%s = ", indent, key);
        config_put_quoted(f, value);
        fputc('\n', f);
}

static bool is_absolute(const char *path)
{
        return path && path[0] == '/';
}

/* Close m, which holds one list entry as device.c spells it, and write it double-quoted. */
static int put_entry(FILE *f, FILE *m, char **text, bool last)
{
        if (ferror(m) | (fclose(m) != 0))
                return -ENOMEM;
        fputs("        ", f);
        config_put_quoted(f, *text);
        fputs(last ? "\n" : ",\n", f);
        return 0;
}

static int put_devices(FILE *f, const struct domain_config *c)
{
        for (size_t i = 0; i < c->n_disks; i++) {
                _cleanup_free_ char *text = NULL;
                size_t size = 0;
                FILE *m = open_memstream(&text, &size);

                if (!m)
                        return -ENOMEM;
                fputs(i == 0 ? "disk = {\n" : "", f);
                disk_write(m, &c->disks[i]);
                if (put_entry(f, m, &text, i + 1 == c->n_disks) < 0)
                        return -ENOMEM;
        }
        fputs(c->n_disks > 0 ? "}\n" : "", f);
        for (size_t i = 0; i < c->n_vifs; i++) {
                _cleanup_free_ char *text = NULL;
                size_t size = 0;
                FILE *m = open_memstream(&text, &size);

                if (!m)
                        return -ENOMEM;
                fputs(i == 0 ? "vif = {\n" : "", f);
                vif_write(m, &c->vifs[i]);
                if (put_entry(f, m, &text, i + 1 == c->n_vifs) < 0)
                        return -ENOMEM;
        }
        fputs(c->n_vifs > 0 ? "}\n" : "", f);
        return 0;
}

/* Append "KEY += { ENTRY }" to the file at path: libconfuse adds it to the list. */
static int append_entry(const char *path, const char *key, const char *entry, char **err_r)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&line, &size);
        int fd, r = 0;

        if (!m)
                return err_setf(err_r, -ENOMEM, "out of memory");
        fprintf(m, "%s += { ", key);
        config_put_quoted(m, entry);
        fputs(" }\n", m);
        if (ferror(m) | (fclose(m) != 0))
                return err_setf(err_r, -ENOMEM, "out of memory");
        /* O_APPEND: one write lands whole at the end, whatever else appends meanwhile. */
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return err_setf(err_r, -errno, "%s: %s", path, strerror(errno));
        if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
                r = err_setf(err_r, -EIO, "%s: cannot append the %s entry", path, key);
        if (close(fd) < 0 && r == 0)
                r = err_setf(err_r, -errno, "%s: %s", path, strerror(errno));
        return r;
}

static void write_disk_entry(FILE *f, const void *entry)
{
        disk_write(f, entry);
}

static void write_vif_entry(FILE *f, const void *entry)
{
        vif_write(f, entry);
}

/* One entry as device.c writes it (write), appended to path under key. */
static int append_written(const char *path, const char *key, void (*write)(FILE *, const void *),
                          const void *entry, char **err_r)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&text, &size);

        if (!m)
                return err_setf(err_r, -ENOMEM, "out of memory");
        write(m, entry);
        if (ferror(m) | (fclose(m) != 0))
                return err_setf(err_r, -ENOMEM, "out of memory");
        return append_entry(path, key, text, err_r);
}

int config_append_disk(const char *path, const struct disk_config *d, char **err_r)
{
        return append_written(path, "disk", write_disk_entry, d, err_r);
}

int config_append_vif(const char *path, const struct vif_config *v, char **err_r)
{
        return append_written(path, "vif", write_vif_entry, v, err_r);
}

/* What disk_parse() and vif_parse() would read back: a hand-built config may hold anything. */
static bool devices_writable(const struct domain_config *c)
{
        uint32_t devid;

        if (c->n_disks > DISKS_MAX || c->n_vifs > VIFS_MAX)
                return false;
        for (size_t i = 0; i < c->n_disks; i++) {
                const struct disk_config *d = &c->disks[i];

                if (!d->vdev || vdev_to_devid(d->vdev, &devid) < 0 || devid != d->devid ||
                    !d->target || !*d->target || text_has_control(d->target) ||
                    (!d->script && !is_absolute(d->target)) ||
                    (d->script &&
                     (!*d->script || strchr(d->script, ',') || text_has_control(d->script))) ||
                    (d->cdrom && !d->readonly))
                        return false;
        }
        for (size_t i = 0; i < c->n_vifs; i++) {
                const struct vif_config *v = &c->vifs[i];

                if ((v->bridge && !ifname_is_valid(v->bridge)) ||
                    (v->vifname && !ifname_is_valid(v->vifname)) ||
                    (v->script &&
                     (!*v->script || strchr(v->script, ',') || text_has_control(v->script))) ||
                    (v->mtu && (v->mtu < 68 || v->mtu > 65535)))
                        return false;
        }
        return true;
}

int config_to_text(const struct domain_config *c, char **text_r)
{
        const char *type = domain_type_to_string(c->type);
        const char *actions[] = {
                domain_action_to_string(c->on_poweroff),   domain_action_to_string(c->on_reboot),
                domain_action_to_string(c->on_crash),      domain_action_to_string(c->on_watchdog),
                domain_action_to_string(c->on_soft_reset),
        };
        const char *sim_exit =
            c->sim.exit == SHUTDOWN_REASON_NONE ? NULL : shutdown_reason_to_string(c->sim.exit);
        const char *sim_answer = sim_shutdown_answer_to_string(c->sim.on_shutdown);
        const char *host_shutdown = host_shutdown_action_to_string(c->on_host_shutdown);
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL; /* declared after buf: closed before buf is freed */
        size_t size = 0;
        char us[37];

        /* Refuse what would not parse back, rather than write a file that fails later. */
        if (!domain_name_is_valid(c->name) || !type || c->type == DOMAIN_TYPE_HVM ||
            !is_absolute(c->kernel) || (c->ramdisk && !is_absolute(c->ramdisk)) ||
            !is_absolute(c->coredump_dir) || text_has_control(c->kernel) ||
            (c->ramdisk && text_has_control(c->ramdisk)) || text_has_control(c->coredump_dir))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (!actions[i])
                        return -EINVAL;
        if (!host_shutdown)
                return -EINVAL;
        if (c->sim.present && (!sim_exit || c->sim.exit == SHUTDOWN_REASON_SUSPEND || !sim_answer))
                return -EINVAL;
        if (!devices_writable(c))
                return -EINVAL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        put_str(f, "", "name", c->name);
        put_str(f, "", "uuid", uuid_to_string(c->uuid, us));
        put_str(f, "", "type", type);
        fprintf(f, "memory = %" PRIu64 "\n", c->memory_mib);
        fprintf(f, "maxmem = %" PRIu64 "\n", c->maxmem_mib);
        fprintf(f, "vcpus = %u\n", c->vcpus);
        fprintf(f, "maxvcpus = %u\n", c->maxvcpus);
        put_str(f, "", "kernel", c->kernel);
        if (c->ramdisk)
                put_str(f, "", "ramdisk", c->ramdisk);
        if (c->cmdline)
                put_str(f, "", "cmdline", c->cmdline);
        put_str(f, "", "on_poweroff", actions[0]);
        put_str(f, "", "on_reboot", actions[1]);
        put_str(f, "", "on_crash", actions[2]);
        put_str(f, "", "on_watchdog", actions[3]);
        put_str(f, "", "on_soft_reset", actions[4]);
        fprintf(f, "autostart = %s\n", c->autostart ? "true" : "false");
        put_str(f, "", "on_host_shutdown", host_shutdown);
        fprintf(f, "cpu_weight = %u\n", c->cpu_weight);
        fprintf(f, "cpu_cap = %u\n", c->cpu_cap);
        fprintf(f, "ssidref = %" PRIu32 "\n", c->ssidref);
        fprintf(f, "shutdown_timeout = %u\n", c->shutdown_timeout);
        put_str(f, "", "coredump_dir", c->coredump_dir);
        if (put_devices(f, c) < 0)
                return -ENOMEM;
        fprintf(f,
                "restart {\n        burst = %u\n        interval = %u\n        delay = %u\n"
                "        max_delay = %u\n}\n",
                c->restart.burst, c->restart.interval, c->restart.delay, c->restart.max_delay);
        if (c->sim.present) {
                fprintf(f, "sim {\n        run_seconds = %u\n", c->sim.run_seconds);
                put_str(f, "        ", "exit", sim_exit);
                put_str(f, "        ", "on_shutdown_request", sim_answer);
                fprintf(f, "        build_seconds = %u\n}\n", c->sim.build_seconds);
        }
        /* open_memstream fails only for memory; fclose flushes, so check both. */
        if (ferror(f) || fclose(TAKE_PTR(f)) != 0)
                return -ENOMEM;
        *text_r = TAKE_PTR(buf);
        return 0;
}
