/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout.h — every XenStore node xensup writes or removes for a domain.
 *
 * Talks to XenStore only through libxenstore (xs_open), so the same code
 * runs against xenstored and against xensup-sim's embedded server. Each
 * call is one transaction (or a single request, atomic by itself), retried
 * on EAGAIN with a bound and a backoff; a failed call leaves nothing
 * half-written. The full node table (writer, reader, permissions) is in
 * layout/README.md.
 *
 * What it reads back is dom0's alone: the daemon's record under /tool/xensup
 * (dom0-only) and, for layout_vm_name and layout_vm_start_time, nodes under
 * /vm, which dom0 owns and a guest may only read. It never reads a node a
 * guest can write to decide a name, uuid, path or action.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct layout;

/* What the layout of a freshly built domain needs beyond its config. */
struct layout_domain {
        const struct domain_config *cfg;
        const char *name; /* the name to publish (cfg->name unless renamed) */
        uint32_t domid;
        uint32_t store_port;
        uint64_t store_mfn;
        uint32_t console_port;
        uint64_t console_mfn;
        uint64_t
            start_time_usec; /* CLOCK_REALTIME of the build for /vm/<uuid>/start_time; 0 = now */
        /* Another instance of the uuid runs and owns /vm/<uuid> (a localhost migration's
         * source): the new one only points at it, and nothing of /vm is written or removed. */
        bool keep_vm;
};

/* Longest config path a record keeps (with its NUL); a longer one is not remembered. */
#define LAYOUT_CONFIG_PATH_MAX 1024
#define LAYOUT_STATE_NAME_MAX  32  /* a supervisor state name with its NUL */
#define LAYOUT_FAILURE_MAX     512 /* a failure message with its NUL (longer ones are cut) */
#define LAYOUT_GROUPS_MAX      256 /* a creator's group list with its NUL */
#define LAYOUT_VIF_MACS_MAX    MAC_LIST_STRLEN /* the kept MACs (mac_list_format()) */
#define LAYOUT_HISTORY_MAX     704 /* the domain's last starts and stops (supervisor/history.h) */

/* The daemon's private, dom0-only record of a domain: /tool/xensup/<uuid>. */
struct layout_tool_state {
        uint32_t domid;                    /* current domid, 0 when none */
        bool build_in_progress;            /* set before create, cleared after unpause */
        char state[LAYOUT_STATE_NAME_MAX]; /* the supervisor's state name; "" when not recorded */
        unsigned restart_count;            /* every restart the daemon made */
        uint64_t restart_window_start;    /* CLOCK_REALTIME s the throttle's window began; 0 none */
        unsigned restart_window_count;    /* restarts counted in that window */
        uint64_t restart_due;             /* CLOCK_REALTIME s a waiting restart is due; 0 none */
        uint64_t started_at_usec;         /* CLOCK_REALTIME usec the running instance started; 0 */
        bool shutdown_requested;          /* a graceful shutdown/reboot is in progress */
        bool shutdown_reboot;             /* ...and it was a reboot */
        uint64_t shutdown_deadline;       /* CLOCK_REALTIME s when it becomes a destroy */
        bool failed;                      /* throttled (or a start failed) into failed */
        enum shutdown_reason last_reason; /* SHUTDOWN_REASON_NONE when never stopped */
        char failure[LAYOUT_FAILURE_MAX]; /* why it failed; "" when not failed */
        char config_path[LAYOUT_CONFIG_PATH_MAX]; /* the file it was started from; "" if none */
        bool created;        /* CreateDomain brought it from config_path, outside the config dir */
        bool kept;           /* a dead instance kept by rename-restart (own uuid) */
        uint8_t kept_of[16]; /* ...the uuid of the domain it was an instance of */
        char name[DOMAIN_NAME_MAX + 1]; /* ...and its name (NAME-<domid>); "" otherwise */
        uint32_t creator_uid; /* whose rights open its files: 0 (root) for the config dir's */
        char creator_groups[LAYOUT_GROUPS_MAX]; /* ...and that caller's groups, "gid,gid"; "" */
        bool creator_host_devices;              /* ...and whether it may give guests host devices */
        char last_action[LAYOUT_STATE_NAME_MAX]; /* the last start/stop/destroy asked; "" none */
        uint32_t last_action_uid;                /* ...by this uid */
        uint32_t last_action_pid;                /* ...from this pid */
        uint64_t last_action_usec;               /* ...at this CLOCK_REALTIME usec */
        char vif_macs[LAYOUT_VIF_MACS_MAX];      /* generated MACs by vif index, "-" where none */
        char history[LAYOUT_HISTORY_MAX];        /* its last starts and stops; "" none */
        uint32_t migrate_to;     /* state migrating: the incoming instance's domid, 0 unknown */
        bool migrate_committed;  /* ...and the incoming one is the domain now: the source goes */
        uint64_t max_memory_kib; /* a mem-max of the running instance; 0: its config's maxmem */
};

/*
 * The record's text: "version=2", then one key=value line per field, any
 * order on read. What this daemon writes is at most LAYOUT_STATE_WRITE_MAX
 * bytes; it reads up to LAYOUT_STATE_READ_MAX, leaving room for keys a later
 * daemon adds. Both stay well under XenStore's 4096-byte payload.
 */
#define LAYOUT_STATE_WRITE_MAX 3648
#define LAYOUT_STATE_READ_MAX  3968

/* Connect to XenStore (XENSTORED_PATH is honoured by libxenstore). */
int layout_open(struct layout **ret, char **err_r);

/* Disconnect and free; returns NULL. NULL-safe. */
struct layout *layout_close(struct layout *l);

/*
 * Run this handle's transactions one at a time with every other handle that names the same
 * lock file (flock), and retry one that conflicts (EAGAIN) for up to patience_ms beyond the
 * usual attempts: xenstored fails two transactions that create or remove children under one
 * parent (a backend directory, /local/domain), so parallel builds' device transactions, and
 * a build beside the daemon's teardowns in a death storm, would otherwise give up. A domain's
 * layout (layout_write_domain()) touches no such parent and runs beside the lock. For a build
 * child, which may wait; the daemon's own handle keeps the bounded retry.
 */
int layout_serialize_transactions(struct layout *l, const char *lock_path, unsigned patience_ms,
                                  char **err_r);

/*
 * Write /vm/<uuid>, /local/domain/<domid> and the console backend in one transaction, the three
 * first removed and made again, empty, outside it (so that no other domain's layout conflicts
 * with it); a failure takes them away again.
 */
int layout_write_domain(struct layout *l, const struct layout_domain *d, char **err_r);

/*
 * The fewest XenStore requests layout_write_domain(d) could send, whatever their order, from
 * what xenstored offers (plan_floor() in plan.c says how it is counted): what it sends is held
 * against it by bench-layout and the tests.
 */
int layout_write_domain_floor(const struct layout_domain *d, uint64_t *floor_r, char **err_r);

/* Remove /local/domain/<domid> and its console backend entry (the /vm entry stays). */
int layout_remove_local(struct layout *l, uint32_t domid, char **err_r);

/* Remove /vm/<uuid>. */
int layout_remove_vm(struct layout *l, const uint8_t uuid[16], char **err_r);

/* Publish the domain's new name in /vm and /local/domain (rename-restart). */
int layout_rename(struct layout *l, uint32_t domid, const uint8_t uuid[16], const char *name,
                  char **err_r);

/* memory/static-max after a mem-max: the most the guest may balloon up to, in KiB. */
int layout_set_max_memory(struct layout *l, uint32_t domid, uint64_t max_kib, char **err_r);

/* Set memory/target (KiB) and /vm/<uuid>/memory (MiB). */
int layout_set_memory(struct layout *l, uint32_t domid, const uint8_t uuid[16], uint64_t target_kib,
                      char **err_r);

/* Set cpu/<n>/availability for every vcpu up to maxvcpus and the vcpu_avail nodes. */
int layout_set_vcpus(struct layout *l, uint32_t domid, const uint8_t uuid[16], unsigned online,
                     unsigned maxvcpus, char **err_r);

/* Set running to "1" (unpaused; what layout_write_domain writes) or "0" (paused). */
int layout_set_running(struct layout *l, uint32_t domid, bool running, char **err_r);

/* Write control/shutdown ("poweroff", "reboot", ...) for the guest to act on. */
int layout_request_shutdown(struct layout *l, uint32_t domid, const char *mode, char **err_r);

/*
 * Write the daemon's private record of a domain, dom0-only. -EINVAL for a
 * record it would never read back: a domid >= DOMID_FIRST_RESERVED,
 * an unknown last_reason, a string not NUL-terminated in its array, a state
 * or name that is not a token ([A-Za-z0-9_.-]; a kept instance must have a
 * valid name), a config_path that is not absolute. Strings are written
 * escaped (\\, \n, \xNN); a failure message is cut to fit
 * LAYOUT_FAILURE_MAX - 1 bytes once escaped, and a config_path that does not
 * fit LAYOUT_CONFIG_PATH_MAX - 1 once escaped is not remembered ("").
 */
int layout_state_write(struct layout *l, const uint8_t uuid[16], const struct layout_tool_state *s,
                       char **err_r);

/*
 * Read it back; -ENOENT when there is none. Keys come in any order; unknown
 * keys are skipped and missing ones take their default (0, false, "",
 * SHUTDOWN_REASON_NONE). A record without a version line is version 1 (the
 * old fixed-order format) and is converted. -EBADMSG, with a message naming
 * the key, for a malformed or overlong value or a known key given twice;
 * -E2BIG past LAYOUT_STATE_READ_MAX.
 */
int layout_state_read(struct layout *l, const uint8_t uuid[16], struct layout_tool_state *s,
                      char **err_r);

/* Remove the daemon's private record of a domain. */
int layout_state_remove(struct layout *l, const uint8_t uuid[16], char **err_r);

/*
 * Move a dead instance kept by rename-restart to its own identity, in one
 * transaction: /vm/<old_uuid> (every node, with its ACL) becomes
 * /vm/<new_uuid> with uuid and name rewritten, /vm/<old_uuid> is removed
 * (the live domain's rebuild writes it anew), and /local/domain/<domid>/vm
 * and name point at the new identity. Afterwards layout_remove_local(domid)
 * and layout_remove_vm(new_uuid) remove the kept instance without touching
 * the live one. -ENOENT when the domain or /vm/<old_uuid> is gone, -EEXIST
 * when /vm/<new_uuid> exists, -EINVAL when the domain is not an instance of
 * old_uuid, the uuids are equal or the name is invalid; on any failure
 * nothing changed.
 */
int layout_preserve_instance(struct layout *l, uint32_t domid, const uint8_t old_uuid[16],
                             const uint8_t new_uuid[16], const char *new_name, char **err_r);

/*
 * The reads below take only nodes under /vm, which dom0 owns and a guest
 * may only read; each refuses (-EPERM) a node whose ACL lets any domain but
 * dom0 write it, so no guest can plant the value.
 */

/*
 * Read /vm/<uuid>/name into buf: -ENOENT if absent, -EBADMSG if it is not a
 * valid name (domain_name_is_valid), -ENOBUFS if buf is too small.
 */
int layout_vm_name(struct layout *l, const uint8_t uuid[16], char *buf, size_t size, char **err_r);

/*
 * Read /local/domain/<domid>/name into buf, with layout_vm_name()'s checks and answers: the
 * name of a domain another toolstack made (xl writes it as dom0's), for messages about it.
 */
int layout_domain_name(struct layout *l, uint32_t domid, char *buf, size_t size, char **err_r);

/* Longest console/tty value xenconsoled writes, "/dev/pts/" and a 32-bit decimal. */
#define LAYOUT_TTY_MAX 19

/*
 * Read /local/domain/<domid>/console/tty, the pty xenconsoled serves the guest's console on,
 * into buf (at least LAYOUT_TTY_MAX + 1 bytes), with layout_vm_name()'s refusal of a node a
 * guest may write: -EAGAIN while it is empty (xenconsoled has not seen the domain yet),
 * -EBADMSG unless it is "/dev/pts/N", -ENOENT without a console.
 */
int layout_console_tty(struct layout *l, uint32_t domid, char *buf, size_t size, char **err_r);

/*
 * Read /vm/<uuid>/start_time ("<seconds>.<centiseconds>", as
 * layout_write_domain writes it) as CLOCK_REALTIME usec: -ENOENT if absent,
 * -EBADMSG if it is not exactly that format.
 */
int layout_vm_start_time(struct layout *l, const uint8_t uuid[16], uint64_t *usec_r, char **err_r);

/* The guest domids under /local/domain, for reconciliation; caller frees (NULL if none). */
int layout_list_local(struct layout *l, uint32_t **domids_r, size_t *n_r, char **err_r);

/* The uuids under /vm, for reconciliation; caller frees (NULL if none). */
int layout_list_vms(struct layout *l, uint8_t (**uuids_r)[16], size_t *n_r, char **err_r);

/* The uuids that have a record under /tool/xensup; caller frees (NULL if none). */
int layout_list_states(struct layout *l, uint8_t (**uuids_r)[16], size_t *n_r, char **err_r);

/* Requests this handle has sent to XenStore so far (for tests and bench/). */
uint64_t layout_request_count(const struct layout *l);
