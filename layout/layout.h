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
};

/* Longest config path a record keeps (with its NUL); a longer one is not remembered. */
#define LAYOUT_CONFIG_PATH_MAX 1024

/* The daemon's private, dom0-only record of a domain: /tool/xensup/<uuid>. */
struct layout_tool_state {
        uint32_t domid;         /* current domid, 0 when none */
        bool build_in_progress; /* set before create, cleared after unpause */
        unsigned restart_count; /* every restart the daemon made */
        uint64_t restart_times[CONFIG_RESTART_BURST_MAX]; /* CLOCK_REALTIME seconds of the recent
                                                             restarts */
        unsigned n_restart_times;                         /* entries used in restart_times */
        bool shutdown_requested;          /* a graceful shutdown/reboot is in progress */
        bool shutdown_reboot;             /* ...and it was a reboot */
        uint64_t shutdown_deadline;       /* CLOCK_REALTIME seconds when it becomes a destroy */
        bool failed;                      /* throttled into failed */
        enum shutdown_reason last_reason; /* SHUTDOWN_REASON_NONE when never stopped */
        char config_path[LAYOUT_CONFIG_PATH_MAX]; /* the file it was started from; "" if none */
};

/* Connect to XenStore (XENSTORED_PATH is honoured by libxenstore). */
int layout_open(struct layout **ret, char **err_r);

/* Disconnect and free; returns NULL. NULL-safe. */
struct layout *layout_close(struct layout *l);

/* Write /vm/<uuid>, /local/domain/<domid> and the console backend in one transaction. */
int layout_write_domain(struct layout *l, const struct layout_domain *d, char **err_r);

/* Remove /local/domain/<domid> and its console backend entry (the /vm entry stays). */
int layout_remove_local(struct layout *l, uint32_t domid, char **err_r);

/* Remove /vm/<uuid>. */
int layout_remove_vm(struct layout *l, const uint8_t uuid[16], char **err_r);

/* Publish the domain's new name in /vm and /local/domain (rename-restart). */
int layout_rename(struct layout *l, uint32_t domid, const uint8_t uuid[16], const char *name,
                  char **err_r);

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

/* Write the daemon's private record of a domain. */
int layout_state_write(struct layout *l, const uint8_t uuid[16], const struct layout_tool_state *s,
                       char **err_r);

/* Read it back; -ENOENT when there is none. */
int layout_state_read(struct layout *l, const uint8_t uuid[16], struct layout_tool_state *s,
                      char **err_r);

/* Remove the daemon's private record of a domain. */
int layout_state_remove(struct layout *l, const uint8_t uuid[16], char **err_r);

/* The guest domids under /local/domain, for reconciliation; caller frees (NULL if none). */
int layout_list_local(struct layout *l, uint32_t **domids_r, size_t *n_r, char **err_r);

/* The uuids under /vm, for reconciliation; caller frees (NULL if none). */
int layout_list_vms(struct layout *l, uint8_t (**uuids_r)[16], size_t *n_r, char **err_r);

/* The uuids that have a record under /tool/xensup; caller frees (NULL if none). */
int layout_list_states(struct layout *l, uint8_t (**uuids_r)[16], size_t *n_r, char **err_r);

/* Requests this handle has sent to XenStore so far (for tests and bench/). */
uint64_t layout_request_count(const struct layout *l);
