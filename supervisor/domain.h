/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.h — one supervised domain: the model, without D-Bus.
 *
 * A domain is known by its config (name, uuid); its domid changes on every
 * restart. The state moves only on the hypervisor's domain list, the config
 * and control calls — never on anything a guest writes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config/config.h"

struct manager;
struct domain;

/* Told once when a start a person asked for ends: r < 0 and a message when it failed. */
typedef void (*domain_started_fn)(struct domain *d, int r, const char *message, void *userdata);

enum domain_state {
        DOMAIN_STOPPED,  /* not running: never started, or its action destroyed it */
        DOMAIN_STARTING, /* being built */
        DOMAIN_RUNNING,
        DOMAIN_PAUSED,
        DOMAIN_SHUTTING_DOWN, /* a graceful shutdown/reboot was asked; waiting for the guest */
        DOMAIN_SHUTDOWN,      /* the guest exited; its action is being applied */
        DOMAIN_CRASHED,       /* the guest crashed; its action is being applied */
        DOMAIN_DYING,         /* destroyed; the hypervisor is still tearing it down */
        DOMAIN_PRESERVED,     /* dead and kept for inspection */
        DOMAIN_FAILED,        /* the restart throttle gave up; see failure */
        _DOMAIN_STATE_MAX,
};

#define DOMAIN_RESTART_HISTORY CONFIG_RESTART_BURST_MAX

struct domain {
        struct manager *manager;
        struct domain_config *config; /* the config the next start uses */
        char name[CONFIG_NAME_MAX + 1];
        uint8_t uuid[16];
        char uuid_string[37];
        char *object_path; /* D-Bus object path, set by domain_new() */

        uint32_t domid; /* valid when has_domid */
        bool has_domid;
        enum domain_state state;
        enum shutdown_reason shutdown_reason;           /* the last one, NONE when never stopped */
        char *failure;                                  /* why it is failed, NULL otherwise */
        unsigned restart_count;                         /* every restart the daemon made */
        uint64_t restart_times[DOMAIN_RESTART_HISTORY]; /* CLOCK_REALTIME s, newest last */
        unsigned n_restart_times;
        uint64_t started_at_usec; /* CLOCK_REALTIME of the last start, 0 if none */

        uint64_t memory_kib; /* current target */
        unsigned vcpus;      /* vcpus online */

        bool shutdown_requested;    /* a graceful shutdown is in progress */
        bool shutdown_reboot;       /* ...and it is a reboot */
        uint64_t shutdown_deadline; /* CLOCK_REALTIME s */
        sd_event_source *shutdown_timer;
        sd_event_source *restart_timer; /* a restart waiting out its backoff */

        bool building;                /* a build is queued or running in a child */
        bool build_by_person;         /* ...for Start or CreateDomain: a failure ends failed */
        domain_started_fn on_started; /* who waits for that build, if anyone */
        void *on_started_userdata;

        bool unsupervised; /* no config supervises it (removed, or kept by rename-restart) */

        bool removed; /* out of the table, freed on the next loop iteration */

        sd_event_source *dump_child;       /* a core dump in progress */
        enum domain_action pending_action; /* applied when the dump ends */
};

/* Create a stopped domain for a config (takes ownership of cfg). */
int domain_new(struct manager *m, struct domain_config *cfg, struct domain **ret);

/* Free a domain and its timers; returns NULL. NULL-safe. */
struct domain *domain_free(struct domain *d);

/* "running", "shutting-down", ... as DESIGN.md spells them. */
const char *domain_state_to_string(enum domain_state s);

/* Parse a state name; -1 if unknown. */
enum domain_state domain_state_from_string(const char *s);

/* True from the start of its build until it is gone from the hypervisor (or while preserved). */
bool domain_is_active(const struct domain *d);
