/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.h — domain config files, parsed and validated into one plain struct.
 *
 * Nothing outside config/ touches libconfuse. A struct domain_config is
 * immutable once loaded: a reload produces new structs, and the supervisor
 * swaps them in at the domain's next start.
 *
 * Errors are text a person can act on: one line per problem, each
 * "FILE:LINE: KEY: problem (allowed: ...)" — a bad value reads
 * "FILE:LINE: KEY: bad value 'X' (allowed: ...)". A missing key has no line
 * ("FILE: name: missing (required: ...)"); what libconfuse rejects reads
 * "FILE:LINE: syntax error: ..."; a whole-file problem "FILE: problem".
 * Section keys are named "restart.burst", "sim.exit". Bytes from the file
 * are escaped (\xNN), so a message never spans lines.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/uuid.h"
#include "common/vocabulary.h"
#include "config/device.h"

/* Files larger than this are refused before parsing (a domain config is a few hundred bytes). */
#define CONFIG_FILE_MAX (1024 * 1024)

/*
 * What the host's shutdown (xensup-domains.service stopping) does with a running domain
 * (the on_host_shutdown key; libvirt-guests' ON_SHUTDOWN).
 */
enum host_shutdown_action {
        HOST_SHUTDOWN_SAVE,     /* saved into the save directory, restored at the next boot */
        HOST_SHUTDOWN_SHUTDOWN, /* asked to power off, destroyed after shutdown_timeout */
        HOST_SHUTDOWN_KEEP,     /* left running, untouched */
        _HOST_SHUTDOWN_MAX,
        _HOST_SHUTDOWN_INVALID = -1, /* signed, so "< 0" works on from_string */
};

/* "save", "shutdown", "keep"; NULL if out of range. */
const char *host_shutdown_action_to_string(enum host_shutdown_action a);

/* Parse an on_host_shutdown value; -1 if unknown. */
enum host_shutdown_action host_shutdown_action_from_string(const char *s);

/* The simulator's guest script (the `sim { }` section); ignored on real Xen. */
struct sim_script {
        bool present;                         /* a sim { } section was given */
        unsigned run_seconds;                 /* 0 = run until told */
        enum shutdown_reason exit;            /* how it exits after run_seconds */
        enum sim_shutdown_answer on_shutdown; /* obey | ignore */
        unsigned build_seconds;               /* how long building its image takes */
};

struct domain_config {
        char *path; /* the file it was loaded from (absolute when loaded from a dir) */
        char name[DOMAIN_NAME_MAX + 1];
        uint8_t uuid[16];
        bool uuid_derived; /* no uuid key: derived from the name (v5) */
        enum domain_type type;

        uint64_t memory_mib; /* default 128, as xl */
        uint64_t maxmem_mib; /* default = memory */
        unsigned vcpus;      /* default 1 */
        unsigned maxvcpus;   /* default = vcpus */

        char *kernel;  /* NULL when unset; absolute (relative paths resolve against the file's
                          directory) */
        char *ramdisk; /* NULL when unset; absolute, as kernel */
        char *cmdline;

        enum domain_action on_poweroff;   /* default destroy */
        enum domain_action on_reboot;     /* default restart */
        enum domain_action on_crash;      /* default destroy */
        enum domain_action on_watchdog;   /* default destroy */
        enum domain_action on_soft_reset; /* default soft-reset */

        /* What the host's shutdown does with the domain when it is running; default save. */
        enum host_shutdown_action on_host_shutdown;

        bool autostart;      /* default true */
        unsigned cpu_weight; /* credit scheduler weight, default 256 */
        unsigned cpu_cap;    /* percent, 0 = no cap */
        uint32_t ssidref;    /* default 0 */
        unsigned
            shutdown_timeout; /* seconds before a graceful shutdown becomes a destroy; default 60 */
        char *coredump_dir;   /* coredump-* actions write here; default /var/lib/xen/dump */

        /* The restart throttle and backoff (config/README.md, "Restart throttle and backoff"). */
        struct {
                unsigned burst;     /* restarts allowed within interval; default 5; 0 = off */
                unsigned interval;  /* seconds the window lasts; default 60 */
                unsigned delay;     /* seconds before a guest-initiated restart; default 0 */
                unsigned max_delay; /* backoff cap, >= delay; default = delay (constant delay) */
        } restart;

        struct sim_script sim;

        /* `disk = { }` and `vif = { }` entries, in file order (config/device.h). */
        struct disk_config *disks;
        size_t n_disks;
        struct vif_config *vifs;
        size_t n_vifs;

        /* Where name and uuid were set (0 = not in the file): cross-file errors name the line. */
        unsigned name_line;
        unsigned uuid_line;
};

/* A set of configs loaded from one directory. */
struct config_set {
        struct domain_config **items;
        size_t n;
};

/*
 * Parse and validate one file; on failure *errors_r holds every problem found.
 * Returns 0, -EINVAL (the file is bad), -EFBIG (over CONFIG_FILE_MAX), -EAGAIN
 * (it changed while being read), -ENOMEM, or the errno of open/read.
 * Files over CONFIG_FILE_MAX, with a NUL byte, with libconfuse's "${VAR}"
 * environment substitution or ending inside a string are refused, and so are
 * kernel, ramdisk and coredump_dir paths with control characters; nothing is
 * written to stdout or stderr. Not thread-safe (libconfuse's lexer is global).
 */
int config_load_file(const char *path, struct domain_config **ret, char **errors_r);

/* config_load_file_flags(): */
enum {
        /*
         * A copy the daemon kept of a config it built from: kernel and ramdisk are not checked
         * for readability (a running domain stays supervised when its old kernel is removed).
         */
        CONFIG_LOAD_KEPT = 1 << 0,
        /*
         * A file a D-Bus caller handed over: kernel and ramdisk are not checked here, as root;
         * the build opens them with the caller's rights.
         */
        CONFIG_LOAD_CALLER_FILES = 1 << 1,
};

/* As config_load_file(), with CONFIG_LOAD_* flags. */
int config_load_file_flags(const char *path, unsigned flags, struct domain_config **ret,
                           char **errors_r);

/*
 * As config_load_file_flags(), reading the open fd (never reopened by name; its offset is
 * used as it is). path is what errors name, the config's path and the base of its relative
 * paths.
 */
int config_load_fd(int fd, const char *path, unsigned flags, struct domain_config **ret,
                   char **errors_r);

/*
 * Load every *.conf in dir (sorted by name; dotfiles skipped). Bad files and
 * duplicate names or uuids (the later file, naming both) are reported in
 * *errors_r and skipped; the good ones are kept. *set_r is overwritten. Returns
 * a negative errno only if dir is unreadable (-ENOENT if it does not exist);
 * otherwise 0, with *errors_r non-NULL when some file was skipped.
 */
int config_load_dir(const char *dir, struct config_set *set_r, char **errors_r);

/* Free a config; returns NULL. */
struct domain_config *config_free(struct domain_config *c);

/* For _cleanup_(config_freep). */
static inline void config_freep(struct domain_config **c)
{
        if (*c)
                config_free(*c);
}

/* Free every config of a set and reset it to empty. */
void config_set_clear(struct config_set *set);

/* Deep copy; NULL on allocation failure. */
struct domain_config *config_dup(const struct domain_config *c);

/*
 * True when two configs would build the same domain from the same file: every
 * field equal except name_line, uuid_line and uuid_derived. path counts, since
 * a restart re-reads the file it names.
 */
bool config_equal(const struct domain_config *a, const struct domain_config *b);

/* The config's action for a shutdown reason (suspend → preserve; NONE or unknown → destroy). */
enum domain_action config_action_for(const struct domain_config *c, enum shutdown_reason why);

/*
 * Seconds to wait before the next guest-initiated restart, when
 * restarts_in_window restarts were already counted in the current throttle
 * window: delay, doubled for each one counted, capped at max_delay (taken as
 * delay if smaller); 0 when delay is 0. Never overflows.
 */
unsigned config_restart_delay(const struct domain_config *c, unsigned restarts_in_window);

/*
 * Write c as config file text into *text_r (malloc'd; the caller frees it):
 * every key explicitly (ramdisk and cmdline only when set), kernel and
 * ramdisk as stored (absolute when c came from config_load_file), the uuid
 * explicitly even when it was derived from the name, strings double-quoted
 * and escaped as libconfuse reads them back, the disk and vif lists when they
 * have entries (device.h's disk_write() and vif_write()), the restart section,
 * and the sim section when present. config_load_file() of that text gives a config
 * config_equal() to c once its path is set back with config_set_path(): path
 * is the only field the text cannot carry. Returns 0, -EINVAL when c holds
 * what config_load_file refuses or a file cannot say (a bad name, type hvm,
 * an enum out of range, a relative path or one with control characters, no
 * kernel or coredump_dir, a disk or vif entry disk_parse() or vif_parse()
 * would read differently), or
 * -ENOMEM.
 */
int config_to_text(const struct domain_config *c, char **text_r);

/*
 * Append one disk (vif) entry to the config file at path as "disk += { "..." }", which
 * libconfuse adds to the file's list: a hot-plugged device kept for the next start. The rest
 * of the file (comments included) is left as it is.
 */
int config_append_disk(const char *path, const struct disk_config *d, char **err_r);

/* The same for a vif entry. */
int config_append_vif(const char *path, const struct vif_config *v, char **err_r);

/*
 * Replace c->path with a copy of path (NULL clears it), e.g. to name the
 * user's file on a config loaded from a stored copy. Call it before c is
 * shared: configs are otherwise immutable. Returns 0 or -ENOMEM (c unchanged).
 */
int config_set_path(struct domain_config *c, const char *path);

/*
 * Write s to f double-quoted, escaped so that libconfuse reads s back ('"', '\' and '$'
 * behind a backslash, other bytes outside printable ASCII as \xNN): one line, whatever s holds.
 */
void config_put_quoted(FILE *f, const char *s);
