/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * context.h — the daemon's one context (struct manager): its options, its
 * event loop, hypervisor, XenStore and bus handles, the domain table. Every
 * module of supervisor/ works on it; manager.h creates, runs and frees it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "builders/builder.h"
#include "config/config.h"
#include "layout/layout.h"
#include "supervisor/domain.h"
#include "supervisor/outcome.h"

struct build_queue;
struct host;
struct polkit_registry;
struct watch;

struct manager_options {
        enum builder_kind hypervisor;
        const char *config_dir;      /* default /etc/xensup/domains.d */
        const char *state_dir;       /* default /var/lib/xensup (sim: SIM_DIR/state) */
        const char *sim_dir;         /* default /run/xensup/sim */
        bool user_bus;               /* session bus instead of the system bus */
        bool no_bus;                 /* run without D-Bus (tests of the core) */
        bool stop_domains;           /* on SIGTERM, shut running domains down */
        const char *admin_group;     /* without polkit: may call mutating methods; NULL = root */
        bool no_polkit;              /* --polkit=no: never ask polkit, judge by admin_group alone */
        unsigned build_jobs;         /* domain builds running at once; 0 = CPUs + 1, up to 4 */
        uint64_t kernel_cache_bytes; /* the kernel cache's bound; 0 = none */
        unsigned device_timeout;     /* s a backend may take to reach InitWait; 0 = libxl's 10 */
        const char *bridge;          /* a vif's bridge when its entry names none; NULL = xenbr0 */
        unsigned save_timeout;       /* s a guest has to take a suspend, and to suspend; 0 = 60 */
        const char *save_dir;        /* the host's shutdown saves here; NULL = STATE_DIR/save */
        uint64_t (*clock)(void); /* CLOCK_REALTIME seconds; NULL = the real clock (tests fake it) */
};

struct manager {
        struct manager_options opts;
        char *config_dir;
        char *state_dir;
        char *self_path; /* our own binary, for the core-dump child */
        sd_event *event;
        sd_bus *bus;
        struct builder *builder;
        struct layout *layout;
        struct watch *watch;
        struct build_queue *builds;
        char *xs_lock_path;           /* children's transactions but layouts take it in turn */
        unsigned device_timeout_ms;   /* a backend's wait for InitWait, a hot-unplug's for Closed */
        char default_bridge[16];      /* a vif's bridge when its entry names none */
        unsigned save_ack_timeout_ms; /* --save-timeout; 0: the save's own defaults */
        struct polkit_registry *polkit; /* polkit queries in flight and answered (polkit.h) */
        struct host *host;              /* the host's shutdown and boot (host.h); NULL: none */
        char *save_dir;                 /* where the host's shutdown saves domains */

        struct domain **domains; /* the table */
        size_t n_domains;
        struct htable by_name, by_uuid, by_path; /* its visible domains (domain-table.c) */
        uint64_t n_added;                        /* domains ever added: their order */

        uint64_t n_scans;              /* hypervisor list scans made */
        bool ready;                    /* READY=1 was sent */
        bool exiting;                  /* SIGTERM: waiting for builds (and domains) to finish */
        sd_event_source *gc_event;     /* frees domains marked for removal, outside any caller */
        sd_event_source *status_event; /* sends STATUS=, at most every STATUS_INTERVAL_USEC */
        uint64_t status_sent_usec;     /* CLOCK_MONOTONIC when it last did */
        sd_event_source *exit_timer;
        sd_event_source
            *exit_check; /* exiting: whether what it waits for is done, after each event */
};

/* CLOCK_REALTIME in seconds (the fake clock of tests when one is set). */
static inline uint64_t manager_now(const struct manager *m)
{
        struct timespec ts;

        if (m->opts.clock)
                return m->opts.clock();
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec;
}
