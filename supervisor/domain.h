/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.h — one supervised domain: the model, without D-Bus.
 *
 * A domain is its uuid: the config gives it (or derives it from the name),
 * and name, file and domid are attributes that may change (a rename, a
 * restart). The state moves only through lifecycle.h's state machine, on the
 * hypervisor's domain list, the config and control calls — never on anything
 * a guest writes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "common/creds.h"
#include "common/hash.h"
#include "config/config.h"
#include "supervisor/attach.h"
#include "supervisor/domain-devices.h"
#include "supervisor/history.h"
#include "supervisor/outcome.h"

struct manager;
struct domain;
struct device_job;
struct save_job;

/* Told once when a start a person asked for ends: r != 0 and e when it failed. */
typedef void (*domain_started_fn)(struct domain *d, int r, const struct sup_error *e,
                                  void *userdata);

/* The states; lifecycle.h has the table of transitions between them. */
enum domain_state {
        DOMAIN_STOPPED,       /* not running: never started, or its action destroyed it */
        DOMAIN_STARTING,      /* its build is queued or runs in a child */
        DOMAIN_RUNNING,       /* unpaused in the hypervisor */
        DOMAIN_PAUSED,        /* paused by a person (or found paused) */
        DOMAIN_SHUTTING_DOWN, /* a graceful shutdown/reboot was asked; waiting for the guest */
        DOMAIN_SHUTDOWN,      /* the guest exited; its action is being applied */
        DOMAIN_CRASHED,       /* the guest crashed; its action is being applied */
        DOMAIN_DUMPING,       /* dead; its core is being dumped before the action */
        DOMAIN_RESTART_WAIT,  /* dead and torn down; the restart waits out its backoff */
        DOMAIN_DYING,         /* destroyed; the hypervisor is still tearing it down */
        DOMAIN_PRESERVED,     /* dead and kept for inspection */
        DOMAIN_FAILED,        /* a start failed or the restart throttle gave up; see failure */
        DOMAIN_SAVING,        /* a save asked the guest to suspend; waiting for it */
        DOMAIN_SUSPENDED,     /* the guest suspended; its memory is being saved */
        DOMAIN_RESTORING,     /* an image is being restored into a new instance */
        DOMAIN_MIGRATING,     /* saved into an incoming instance on this host (localhost) */
        _DOMAIN_STATE_MAX,
        _DOMAIN_STATE_INVALID = -1,
};

/* Who last asked for a start, stop or destroy (the audit trail `status` shows). */
struct domain_last_action {
        char action[32]; /* "start", "shutdown", "reboot", "destroy", "create"; "" when none */
        uid_t uid;
        pid_t pid;     /* 0 when the bus did not vouch for one */
        uint64_t usec; /* CLOCK_REALTIME */
};

/* Where a domain's config comes from. */
enum domain_origin {
        ORIGIN_CONFIG_DIR, /* a file of the config directory */
        ORIGIN_CREATED, /* a file CreateDomain was handed, outside the directory: never re-read */
        ORIGIN_KEPT,    /* a dead instance kept by rename-restart: no file */
};

struct domain {
        struct manager *manager;
        /* What the next start builds: the file as last read, or its last good version. */
        struct domain_config *config;
        /* What the live instance was built with: its limits hold until it is rebuilt. */
        struct domain_config *running_config;
        unsigned config_generation; /* bumped by domain_set_config() */
        unsigned stored_generation; /* the config generation the state dir holds; 0 = none */
        char name[DOMAIN_NAME_MAX + 1];
        uint8_t uuid[16];
        char uuid_string[37];
        char *object_path; /* D-Bus object path, from the name */
        /* The table's indexes of it (domain-table.c), while it is in the table. */
        struct hentry by_name, by_uuid, by_path;
        uint64_t added; /* the table's order: of two that share a key, the earlier is found */
        enum domain_origin origin;
        bool config_gone;     /* its file was removed: supervised until it stops, then dropped */
        uint8_t kept_of[16];  /* ORIGIN_KEPT: the uuid of the domain it was an instance of */
        struct creds creator; /* whose rights open its files: root, or CreateDomain's caller */
        struct domain_last_action last_action;
        struct history history; /* its last starts and stops, kept in its record */

        uint32_t domid; /* valid when has_domid */
        bool has_domid;
        enum domain_state state;              /* written by lifecycle.c's domain_enter() only */
        enum shutdown_reason shutdown_reason; /* the last one, NONE when never stopped */
        char *failure;                        /* why it is failed, NULL otherwise */
        unsigned restart_count;               /* every restart the daemon made */
        uint64_t window_start;                /* the throttle's window (CLOCK_REALTIME s) */
        unsigned window_count;                /* guest-initiated restarts counted in it */
        uint64_t started_at_usec;             /* CLOCK_REALTIME of the last start, 0 if none */
        uint64_t died_seen_ms; /* CLOCK_MONOTONIC when its death was seen, until it runs again */
        uint64_t restart_due;  /* RESTART_WAIT: CLOCK_REALTIME s it is due */

        uint8_t vif_macs[VIFS_MAX][6]; /* the MAC kept for each vif that names none; 0: none */
        struct domain_device *devices; /* its instance's, from their records (domain-devices.h) */
        size_t n_devices;
        bool devices_unknown;          /* a read of the records failed: teardown re-reads them */
        struct device_job *device_job; /* a hot-plug or hot-unplug running (device-job.h) */
        struct save_job *save_job;     /* SAVING, SUSPENDED: the save running (save-job.h) */
        enum domain_state saved_from;  /* ...and the state it returns to when the save fails */
        bool migrate_sent;       /* MIGRATING: the save into the incoming instance ended well */
        bool incoming_built;     /* ...the incoming instance is restored, paused, incoming_domid */
        uint32_t incoming_domid; /* ...its domid */
        bool migrate_committed;  /* ...it is the domain now: the source is being destroyed */
        sd_event_source *devices_deadline; /* when unconnected devices are worth a warning */

        uint64_t memory_kib;     /* current target */
        uint64_t max_memory_kib; /* current maximum: the config's maxmem, or a mem-max since */
        unsigned vcpus;          /* vcpus online */

        bool shutdown_requested;    /* SHUTTING_DOWN: a person asked... */
        bool shutdown_reboot;       /* ...for a reboot */
        uint64_t shutdown_deadline; /* ...until then (CLOCK_REALTIME s) */

        sd_event_source *timer;            /* SHUTTING_DOWN's timeout or RESTART_WAIT's backoff */
        sd_event_source *progress_timer;   /* SAVING, ..., MIGRATING: Progress, each second */
        sd_event_source *dump_child;       /* DUMPING: the core dump process */
        enum domain_action pending_action; /* DUMPING: applied when the dump ends... */
        bool pending_counted;              /* ...counting toward the throttle or not */

        bool boot_image; /* the host booted with an image of it saved: restored, not autostarted */
        bool build_by_person;         /* STARTING for Start or CreateDomain: failure ends failed */
        domain_started_fn on_started; /* who waits for that build, if anyone */
        void *on_started_userdata;

        bool removed; /* out of the table, freed on the next loop iteration */
};

/* Create a stopped domain for a config (takes ownership of cfg). */
int domain_new(struct manager *m, struct domain_config *cfg, struct domain **ret);

/* Free a domain and its timers; returns NULL. NULL-safe. */
struct domain *domain_free(struct domain *d);

/* Replace the config the next start builds from (takes cfg). */
void domain_set_config(struct domain *d, struct domain_config *cfg);

/* The last action of a domain the host's shutdown saved or stopped (by the daemon, for it). */
#define HOST_SHUTDOWN_ACTION "host-shutdown"

/* Note who asked for a start, stop or destroy (action: "start", ...), at usec (CLOCK_REALTIME). */
void domain_note_action(struct domain *d, const char *action, uid_t uid, pid_t pid, uint64_t usec);

/* Give the domain a new name (object path included); 0 or -ENOMEM. */
int domain_set_name(struct domain *d, const char *name);

/* "running", "restart-wait", ... as DESIGN.md spells them. */
const char *domain_state_to_string(enum domain_state s);

/* Parse a state name; _DOMAIN_STATE_INVALID if unknown. */
enum domain_state domain_state_from_string(const char *s);

/* True while a hypervisor instance exists or is being built (a dump or backoff counts too). */
bool domain_is_active(const struct domain *d);

/* The config whose limits apply now: the running instance's, else the next start's. */
const struct domain_config *domain_live_config(const struct domain *d);
