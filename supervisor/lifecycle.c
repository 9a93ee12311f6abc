/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lifecycle.c — the state machine lifecycle.h documents: the table first,
 * then the handlers in the order a domain lives through them (start, build,
 * run, pause, shutdown, death, core dump, action, restart, destroy, gone,
 * adoption at start-up).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "common/debug.h"
#include "common/error.h"
#include "common/fs.h"
#include <sys/socket.h>
#include <unistd.h>

#include "supervisor/bus.h"
#include "supervisor/config-store.h"
#include "supervisor/device-job.h"
#include "supervisor/domain-table.h"
#include "supervisor/lifecycle.h"
#include "supervisor/log.h"
#include "supervisor/policy.h"
#include "supervisor/save-job.h"

enum domain_event {
        EVENT_START,
        EVENT_AUTOSTART,
        EVENT_RESTART_DUE,
        EVENT_BUILT,
        EVENT_PAUSE,
        EVENT_UNPAUSE,
        EVENT_SEEN,
        EVENT_SHUTDOWN,
        EVENT_SHUTDOWN_TIMEOUT,
        EVENT_DIED,
        EVENT_DUMPED,
        EVENT_GONE,
        EVENT_DYING,
        EVENT_DESTROY,
        EVENT_SET_MEMORY,
        EVENT_SET_MAX_MEMORY,
        EVENT_PIN_VCPU,
        EVENT_SET_VCPUS,
        EVENT_ADOPT,
        EVENT_SAVE,
        EVENT_SAVED,
        EVENT_RESTORE,
        EVENT_FAIL,
        EVENT_MIGRATE,
        _EVENT_MAX,
};

static const char *const event_names[_EVENT_MAX] = {
        [EVENT_START] = "start",
        [EVENT_AUTOSTART] = "autostart",
        [EVENT_RESTART_DUE] = "restart-due",
        [EVENT_BUILT] = "built",
        [EVENT_PAUSE] = "pause",
        [EVENT_UNPAUSE] = "unpause",
        [EVENT_SEEN] = "seen",
        [EVENT_SHUTDOWN] = "shutdown",
        [EVENT_SHUTDOWN_TIMEOUT] = "timeout",
        [EVENT_DIED] = "died",
        [EVENT_DUMPED] = "dumped",
        [EVENT_GONE] = "gone",
        [EVENT_DYING] = "dying",
        [EVENT_DESTROY] = "destroy",
        [EVENT_SET_MEMORY] = "set-memory",
        [EVENT_SET_MAX_MEMORY] = "set-max-memory",
        [EVENT_PIN_VCPU] = "pin-vcpu",
        [EVENT_SET_VCPUS] = "set-vcpus",
        [EVENT_ADOPT] = "adopt",
        [EVENT_SAVE] = "save",
        [EVENT_SAVED] = "saved",
        [EVENT_RESTORE] = "restore",
        [EVENT_FAIL] = "fail",
        [EVENT_MIGRATE] = "migrate",
};

/* What an event carries; each handler reads its own fields. */
struct event_args {
        domain_started_fn done; /* start */
        void *userdata;
        const struct builder_domain_info *info; /* seen, adopt */
        const struct layout_tool_state *record; /* adopt */
        const struct domain_config *cfg;        /* built */
        const struct build_result *result;      /* built */
        enum shutdown_reason reason;            /* died */
        bool reboot;                            /* shutdown */
        unsigned timeout;                       /* shutdown */
        uint64_t kib;                           /* set-memory, set-max-memory */
        const struct vcpu_pin *pin;             /* pin-vcpu */
        unsigned vcpus;                         /* set-vcpus */
        const struct save_job_spec *save;       /* save, migrate */
        const struct save_job_result *saved;    /* saved */
        const struct restore_source *restore;   /* restore */
        const char *why;                        /* fail */
};

typedef int (*event_handler)(struct manager *m, struct domain *d, const struct event_args *a,
                             struct sup_error *e);

#define S(state) (1u << DOMAIN_##state)

static int on_start(struct manager *, struct domain *, const struct event_args *,
                    struct sup_error *);
static int on_autostart(struct manager *, struct domain *, const struct event_args *,
                        struct sup_error *);
static int on_built(struct manager *, struct domain *, const struct event_args *,
                    struct sup_error *);
static int on_pause(struct manager *, struct domain *, const struct event_args *,
                    struct sup_error *);
static int on_seen(struct manager *, struct domain *, const struct event_args *,
                   struct sup_error *);
static int on_shutdown(struct manager *, struct domain *, const struct event_args *,
                       struct sup_error *);
static int on_shutdown_timeout(struct manager *, struct domain *, const struct event_args *,
                               struct sup_error *);
static int on_died(struct manager *, struct domain *, const struct event_args *,
                   struct sup_error *);
static int on_dumped(struct manager *, struct domain *, const struct event_args *,
                     struct sup_error *);
static int on_gone(struct manager *, struct domain *, const struct event_args *,
                   struct sup_error *);
static int on_dying(struct manager *, struct domain *, const struct event_args *,
                    struct sup_error *);
static int on_destroy(struct manager *, struct domain *, const struct event_args *,
                      struct sup_error *);
static int on_set_memory(struct manager *, struct domain *, const struct event_args *,
                         struct sup_error *);
static int on_set_vcpus(struct manager *, struct domain *, const struct event_args *,
                        struct sup_error *);
static int on_set_max_memory(struct manager *, struct domain *, const struct event_args *,
                             struct sup_error *);
static int on_pin_vcpu(struct manager *, struct domain *, const struct event_args *,
                       struct sup_error *);
static int on_adopt(struct manager *, struct domain *, const struct event_args *,
                    struct sup_error *);
static int on_save(struct manager *, struct domain *, const struct event_args *,
                   struct sup_error *);
static int on_save_died(struct manager *, struct domain *, const struct event_args *,
                        struct sup_error *);
static int on_saved(struct manager *, struct domain *, const struct event_args *,
                    struct sup_error *);
static int on_restore(struct manager *, struct domain *, const struct event_args *,
                      struct sup_error *);
static int on_fail(struct manager *, struct domain *, const struct event_args *,
                   struct sup_error *);
static int on_migrate(struct manager *, struct domain *, const struct event_args *,
                      struct sup_error *);
static int on_migrate_sent(struct manager *, struct domain *, const struct event_args *,
                           struct sup_error *);
static int on_migrate_received(struct manager *, struct domain *, const struct event_args *,
                               struct sup_error *);

static const struct transition {
        unsigned from; /* a mask of S(state) */
        enum domain_event event;
        event_handler handler;
} transitions[] = {
        { S(STOPPED) | S(FAILED) | S(PRESERVED), EVENT_START, on_start },
        { S(STOPPED), EVENT_AUTOSTART, on_autostart },
        { S(RESTART_WAIT), EVENT_RESTART_DUE, on_autostart },
        { S(STARTING) | S(RESTORING), EVENT_BUILT, on_built },
        { S(RUNNING), EVENT_PAUSE, on_pause },
        { S(PAUSED), EVENT_UNPAUSE, on_pause },
        { S(RUNNING) | S(PAUSED), EVENT_SEEN, on_seen },
        { S(RUNNING) | S(PAUSED) | S(SHUTTING_DOWN), EVENT_SHUTDOWN, on_shutdown },
        { S(SHUTTING_DOWN), EVENT_SHUTDOWN_TIMEOUT, on_shutdown_timeout },
        { S(RUNNING) | S(PAUSED) | S(SHUTTING_DOWN), EVENT_DIED, on_died },
        { S(SAVING) | S(SUSPENDED) | S(MIGRATING), EVENT_DIED, on_save_died },
        { S(DUMPING), EVENT_DUMPED, on_dumped },
        { S(RUNNING) | S(PAUSED) | S(SHUTTING_DOWN) | S(PRESERVED) | S(DYING) | S(SAVING) |
              S(SUSPENDED) | S(MIGRATING),
          EVENT_GONE, on_gone },
        { S(RUNNING) | S(PAUSED) | S(SHUTTING_DOWN) | S(PRESERVED) | S(DYING) | S(SAVING) |
              S(SUSPENDED) | S(MIGRATING),
          EVENT_DYING, on_dying },
        { S(STARTING) | S(RUNNING) | S(PAUSED) | S(SHUTTING_DOWN) | S(PRESERVED) | S(RESTART_WAIT) |
              S(DYING) | S(SAVING) | S(SUSPENDED) | S(RESTORING) | S(MIGRATING),
          EVENT_DESTROY, on_destroy },
        { S(RUNNING) | S(PAUSED), EVENT_SET_MEMORY, on_set_memory },
        { S(RUNNING) | S(PAUSED), EVENT_SET_VCPUS, on_set_vcpus },
        { S(RUNNING) | S(PAUSED), EVENT_SET_MAX_MEMORY, on_set_max_memory },
        { S(RUNNING) | S(PAUSED), EVENT_PIN_VCPU, on_pin_vcpu },
        { S(STOPPED), EVENT_ADOPT, on_adopt },
        { S(RUNNING) | S(PAUSED), EVENT_SAVE, on_save },
        { S(SAVING) | S(SUSPENDED), EVENT_SAVED, on_saved },
        { S(STOPPED) | S(FAILED), EVENT_RESTORE, on_restore },
        { S(STOPPED), EVENT_FAIL, on_fail },
        { S(RUNNING) | S(PAUSED), EVENT_MIGRATE, on_migrate },
        { S(MIGRATING), EVENT_SAVED, on_migrate_sent },
        { S(MIGRATING), EVENT_BUILT, on_migrate_received },
};

/* States that last: the record keeps them. The others pass within one loop iteration. */
static bool state_is_recorded(enum domain_state s)
{
        return s != DOMAIN_SHUTDOWN && s != DOMAIN_CRASHED && s != DOMAIN_DYING;
}

static const struct transition *transition_find(enum domain_state s, enum domain_event ev)
{
        for (size_t i = 0; i < ELEMENTSOF(transitions); i++)
                if (transitions[i].event == ev && (transitions[i].from & (1u << s)))
                        return &transitions[i];
        return NULL;
}

/* The one entry into the machine: the row for (state, event), or InvalidState. */
static int lifecycle_dispatch(struct manager *m, struct domain *d, enum domain_event ev,
                              const struct event_args *a, struct sup_error *e)
{
        const struct transition *t = transition_find(d->state, ev);

        if (!t)
                return sup_outcome(e, OUTCOME_INVALID_STATE, "domain %s is %s: cannot %s", d->name,
                                   domain_state_to_string(d->state), event_names[ev]);
        return t->handler(m, d, a, e);
}

void lifecycle_describe(FILE *f)
{
        for (size_t i = 0; i < ELEMENTSOF(transitions); i++)
                for (unsigned s = 0; s < _DOMAIN_STATE_MAX; s++)
                        if (transitions[i].from & (1u << s))
                                fprintf(f, "%s %s\n", domain_state_to_string((enum domain_state)s),
                                        event_names[transitions[i].event]);
}

/* ---- the one writer of d->state ---- */

/* Persist the daemon's record of the domain: what a restarted daemon needs to carry on. */
static void domain_record(struct manager *m, struct domain *d)
{
        struct layout_tool_state st = {
                .domid = d->has_domid ? d->domid : 0,
                .build_in_progress = d->state == DOMAIN_STARTING,
                .restart_count = d->restart_count,
                .restart_window_start = d->window_start,
                .restart_window_count = d->window_count,
                .restart_due = d->state == DOMAIN_RESTART_WAIT ? d->restart_due : 0,
                .started_at_usec = d->started_at_usec,
                .shutdown_requested = d->shutdown_requested,
                .shutdown_reboot = d->shutdown_reboot,
                .shutdown_deadline = d->shutdown_deadline,
                .failed = d->state == DOMAIN_FAILED,
                .last_reason = d->shutdown_reason,
                .created = d->origin == ORIGIN_CREATED,
                .kept = d->origin == ORIGIN_KEPT,
                .creator_uid = d->creator.uid,
                .creator_host_devices = d->creator.host_devices,
                .last_action_uid = d->last_action.uid,
                .last_action_pid = (uint32_t)d->last_action.pid,
                .last_action_usec = d->last_action.usec,
                .migrate_to = d->state == DOMAIN_MIGRATING ? d->incoming_domid : 0,
                .migrate_committed = d->state == DOMAIN_MIGRATING && d->migrate_committed,
                .max_memory_kib = d->has_domid ? d->max_memory_kib : 0,
        };
        const char *path = d->config ? d->config->path : NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        snprintf(st.state, sizeof(st.state), "%s", domain_state_to_string(d->state));
        if (d->failure)
                snprintf(st.failure, sizeof(st.failure), "%s", d->failure);
        if (path && strlen(path) < sizeof(st.config_path) && !strchr(path, '\n'))
                strcpy(st.config_path, path);
        if (st.kept) {
                memcpy(st.kept_of, d->kept_of, 16);
                strcpy(st.name, d->name);
        }
        creds_groups_format(&d->creator, st.creator_groups, sizeof(st.creator_groups));
        snprintf(st.last_action, sizeof(st.last_action), "%s", d->last_action.action);
        mac_list_format(d->vif_macs, st.vif_macs);
        history_format(&d->history, st.history);
        r = layout_state_write(m->layout, d->uuid, &st, &err);
        if (r < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, NULL,
                           "cannot record state in XenStore: %s", err ? err : strerror(-r));
}

#define PROGRESS_USEC 1000000ULL /* how often a save's or restore's Progress is sent */

static bool state_has_progress(enum domain_state s)
{
        return s == DOMAIN_SAVING || s == DOMAIN_SUSPENDED || s == DOMAIN_RESTORING ||
               s == DOMAIN_MIGRATING;
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct domain *d = userdata;

        (void)usec;
        bus_domain_progress(d->manager, d);
        if (sd_event_source_set_time_relative(s, PROGRESS_USEC) >= 0)
                (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* A save's or restore's Progress goes out each second while it lasts (a missed one is harmless). */
static void progress_follow(struct manager *m, struct domain *d, enum domain_state s)
{
        if (!state_has_progress(s)) {
                d->progress_timer = sd_event_source_disable_unref(d->progress_timer);
                return;
        }
        if (!d->progress_timer)
                (void)sd_event_add_time_relative(m->event, &d->progress_timer, CLOCK_MONOTONIC,
                                                 PROGRESS_USEC, 0, on_progress_timer, d);
}

/* Move to a state: the only write of d->state. Persists, tells D-Bus and the STATUS line. */
static void domain_enter(struct manager *m, struct domain *d, enum domain_state s)
{
        /* The one timer belongs to the state that armed it. */
        if (s != d->state)
                d->timer = sd_event_source_disable_unref(d->timer);
        progress_follow(m, d, s);
        d->state = s;
        if (state_is_recorded(s))
                domain_record(m, d);
        bus_domain_changed(m, d);
        manager_update_status(m);
}

static void domain_set_failure(struct domain *d, const char *why)
{
        free(d->failure);
        d->failure = why ? strdup(why) : NULL;
}

/* The caller of the call a step follows (d->last_action) when by_caller, else the daemon. */
static enum history_actor history_actor_of(const struct domain *d, bool by_caller)
{
        /* The host's shutdown is the daemon's doing, whoever called last. */
        if (!by_caller || strcmp(d->last_action.action, HOST_SHUTDOWN_ACTION) == 0)
                return HISTORY_BY_XENSUPD;
        return HISTORY_BY_UID;
}

/* An entry of d's history, now (history.h). */
static void history_note(struct manager *m, struct domain *d, const char *event,
                         enum shutdown_reason reason, const char *action, enum history_actor by)
{
        history_add(&d->history, manager_now(m) * 1000000ULL, event, reason, action, by,
                    d->last_action.uid);
}

static void domain_fail(struct manager *m, struct domain *d, const char *why)
{
        history_note(m, d, "failed", SHUTDOWN_REASON_NONE, NULL, HISTORY_BY_XENSUPD);
        domain_set_failure(d, why);
        domain_enter(m, d, DOMAIN_FAILED);
        log_domain(LOG_ERR, d, LOG_MID_DOMAIN_FAILED, NULL, "failed: %s", why);
}

/* Tell whoever waits for this start how it ended (once). */
static void notify_started(struct domain *d, int r, const struct sup_error *e)
{
        domain_started_fn fn = d->on_started;
        void *userdata = d->on_started_userdata;

        d->on_started = NULL;
        d->on_started_userdata = NULL;
        if (fn)
                fn(d, r, e, userdata);
}

static void migration_drop_incoming(struct manager *m, struct domain *d);

/*
 * A save or a migration whose domain is going anyway: its children are stopped (a migration's
 * incoming instance destroyed) and its caller told why.
 */
static void save_abandon(struct manager *m, struct domain *d, const char *why)
{
        bool migrating = d->state == DOMAIN_MIGRATING;

        if (!save_job_running(d) && !migrating)
                return;
        save_job_abandon(d);
        if (migrating)
                migration_drop_incoming(m, d);
        notify_started(d, OUTCOME_INVALID_STATE, &(struct sup_error){ .message = (char *)why });
}

/* Tear down the instance's devices, forced: the guest is dead or about to be destroyed. */
static void instance_devices_teardown(struct manager *m, struct domain *d)
{
        if (!d->has_domid)
                return;
        /* A hot-plug in flight first: its child would race the teardown, and its device may
         * be recorded but not known yet. */
        if (device_job_running(d)) {
                device_job_cancel(d, "the domain stopped while its device was being attached or "
                                     "detached");
                d->devices_unknown = true;
        }
        domain_devices_teardown(m, d);
}

/*
 * Destroy the hypervisor instance and remove its nodes (the /vm entry too unless keep_vm). The
 * devices go first: backends hold grant mappings of the guest's memory.
 */
static void instance_teardown(struct manager *m, struct domain *d, bool keep_vm)
{
        _cleanup_free_ char *err = NULL;
        int r;

        d->shutdown_requested = false;
        d->shutdown_reboot = false;
        if (!d->has_domid)
                return;
        instance_devices_teardown(m, d);
        r = builder_destroy(m->builder, d->domid, &err);
        if (r < 0 && r != -ESRCH)
                log_domain(LOG_ERR, d, LOG_MID_DOMAIN_ACTION, "destroy", "destroy failed: %s",
                           err ? err : strerror(-r));
        free(TAKE_PTR(err));
        r = layout_remove_local(m->layout, d->domid, &err);
        if (r < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "destroy",
                           "cannot remove XenStore nodes: %s", err ? err : strerror(-r));
        if (!keep_vm)
                layout_remove_vm(m->layout, d->uuid, NULL);
        d->has_domid = false;
        d->running_config = config_free(d->running_config);
}

/*
 * A domain that will not run again here leaves: its file is gone, it is a kept instance, or
 * CreateDomain brought it (transient, as `xl create`: no file of ours would start it again).
 */
static void domain_leave_if_unowned(struct manager *m, struct domain *d)
{
        if (d->config_gone || d->origin == ORIGIN_KEPT || d->origin == ORIGIN_CREATED)
                manager_drop_domain(m, d);
}

/* ---- start and build ---- */

/* Pick up edits of the domain's file: a start re-reads it; a bad file keeps the last good one. */
static void reread_config(struct domain *d)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config *fresh = NULL;

        /* A created domain runs what its caller handed over: its path may be the caller's. */
        if (d->origin != ORIGIN_CONFIG_DIR || d->config_gone || !d->config->path)
                return;
        if (config_load_file(d->config->path, &fresh, &err) < 0) {
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG_INVALID, NULL,
                           "config no longer valid, starting with the last good one:\n%s",
                           err ? err : "");
                return;
        }
        /* A new name or uuid is a question of identity: reload answers it, not a restart. */
        if (strcmp(fresh->name, d->name) != 0 || memcmp(fresh->uuid, d->uuid, 16) != 0) {
                char u[37];

                log_domain(LOG_WARNING, d, LOG_MID_CONFIG, NULL,
                           "%s now gives %s %s; reload to apply that, starting the last good "
                           "config",
                           d->config->path,
                           strcmp(fresh->name, d->name) != 0 ? "the name" : "the uuid",
                           strcmp(fresh->name, d->name) != 0 ? fresh->name
                                                             : uuid_to_string(fresh->uuid, u));
                config_free(fresh);
                return;
        }
        if (config_equal(fresh, d->config)) {
                config_free(fresh);
                return;
        }
        domain_set_config(d, fresh);
}

/*
 * Begin a build: the config re-read and kept as the last good one, the old instance torn down,
 * the marker recorded, the image built in a child. The marker goes before the teardown: a
 * daemon killed from here on destroys what it finds and builds anew.
 */
static int keep_instance(struct manager *m, struct domain *d);

/*
 * The config a build gets: d's, each vif without a MAC given the one d keeps for it, generated
 * the first time (and recorded by the state change that follows), so it never changes.
 */
static int build_config(struct domain *d, struct domain_config **ret)
{
        struct domain_config *cfg = config_dup(d->config);

        if (!cfg)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_vifs && i < VIFS_MAX; i++) {
                static const uint8_t none[6];
                struct vif_config *v = &cfg->vifs[i];
                int r;

                if (v->has_mac)
                        continue;
                if (memcmp(d->vif_macs[i], none, 6) == 0) {
                        r = attach_generate_mac(d->vif_macs[i]);
                        if (r < 0) {
                                config_free(cfg);
                                return r;
                        }
                }
                memcpy(v->mac, d->vif_macs[i], 6);
                v->has_mac = true;
        }
        *ret = cfg;
        return 0;
}

/* Keep d's config as its last good one, so a restarted daemon knows it; once per config. */
static void config_keep(struct manager *m, struct domain *d)
{
        _cleanup_free_ char *err = NULL;

        if (d->stored_generation == d->config_generation)
                return;
        if (config_store_save(m->state_dir, d->config, &err) < 0)
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG, NULL, "cannot keep its config: %s", err);
        else
                d->stored_generation = d->config_generation;
}

static int build_begin(struct manager *m, struct domain *d, bool by_person, bool keep_old,
                       struct sup_error *e)
{
        struct domain_config *cfg = NULL;
        int r;

        reread_config(d);
        r = build_config(d, &cfg);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: cannot prepare the build: %s", d->name,
                                   strerror(-r));
        config_keep(m, d);
        d->build_by_person = by_person;
        domain_enter(m, d, DOMAIN_STARTING);
        if (keep_old)
                (void)keep_instance(m, d);
        instance_teardown(m, d, true);
        r = build_queue_add(m->builds, d, cfg, d->name, &d->creator);
        config_free(cfg);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: cannot queue the build: %s", d->name,
                                   strerror(-r));
        return 0;
}

/* A domain is its uuid: 0 when no live domain holds d's, else why d must not run another copy. */
static int uuid_held_elsewhere(struct manager *m, struct domain *d, const char *doing,
                               struct sup_error *e)
{
        uint32_t holder;
        int r = builder_find_live(m->builder, d->uuid, &holder, NULL);

        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: cannot list domains: %s", d->name,
                                   strerror(-r));
        if (r > 0)
                return sup_outcome(e, OUTCOME_EXISTS,
                                   "uuid %s of %s is already held by domid %u, which is not "
                                   "supervised here; not %s a second copy",
                                   d->uuid_string, d->name, holder, doing);
        return 0;
}

static int on_start(struct manager *m, struct domain *d, const struct event_args *a,
                    struct sup_error *e)
{
        int r;

        if (d->origin == ORIGIN_KEPT || d->config_gone)
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "domain %s has no config to start from", d->name);
        if (m->exiting)
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "the daemon is stopping; start %s after it", d->name);
        if (d->state == DOMAIN_PRESERVED)
                instance_teardown(m, d, false);
        r = uuid_held_elsewhere(m, d, "starting", e);
        if (r != 0)
                return r;
        /* A person starting it resets the throttle. */
        d->window_start = 0;
        d->window_count = 0;
        d->on_started = a->done;
        d->on_started_userdata = a->userdata;
        r = build_begin(m, d, true, false, e);
        if (r != 0) {
                d->on_started = NULL;
                d->on_started_userdata = NULL;
                domain_fail(m, d, e && e->message ? e->message : "start failed");
        }
        return r;
}

static void restart_begin(struct manager *m, struct domain *d, enum domain_action a, bool counted,
                          bool build_retry);

static int on_autostart(struct manager *m, struct domain *d, const struct event_args *a,
                        struct sup_error *e)
{
        _cleanup_(sup_error_done) struct sup_error own = SUP_ERROR_INIT;
        int r;

        (void)a;
        (void)e;
        /* A stopping daemon begins no build; the record makes the next one do it. */
        if (m->exiting)
                return 0;
        r = build_begin(m, d, false, false, &own);
        if (r != 0) {
                domain_set_failure(d, own.message);
                restart_begin(m, d, ACTION_RESTART, true, true);
        }
        return 0;
}

/* Unpause what a child built and laid out; on failure nothing is left. */
static int build_finish(struct manager *m, struct domain *d, const struct domain_config *cfg,
                        const struct build_result *res, struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        struct domain_disk_holder holder;
        int r;

        d->domid = res->domain.domid;
        d->has_domid = true;
        /* Only the config's devices have records: a build without any reads none. */
        if (cfg->n_disks + cfg->n_vifs > 0)
                domain_devices_load(m, d);
        /* Checked here, on the loop, so two builds at once cannot both pass. */
        r = domain_devices_disk_holder(m, d, &holder, &err);
        if (r < 0) {
                instance_teardown(m, d, false);
                return sup_failure(e, LAYER_SYSTEM, r,
                                   "%s: cannot tell whether its disks are in use elsewhere: %s",
                                   d->name, err ? err : strerror(-r));
        }
        if (r > 0) {
                char vdev[LAYOUT_DEVICE_VDEV_MAX], target[LAYOUT_DEVICE_TARGET_MAX];

                snprintf(vdev, sizeof(vdev), "%s", d->devices[holder.which].rec.vdev);
                snprintf(target, sizeof(target), "%s", d->devices[holder.which].rec.target);
                instance_teardown(m, d, false);
                return sup_outcome(e, OUTCOME_EXISTS,
                                   "%s: disk %s (%s) is in use by %s, and one of them writes to "
                                   "it: two guests on one disk corrupt its file system",
                                   d->name, vdev, target, holder.who);
        }
        /* Renamed while it was built: the child published the name it was given. */
        if (strcmp(cfg->name, d->name) != 0)
                (void)layout_rename(m->layout, d->domid, d->uuid, d->name, NULL);
        r = builder_unpause(m->builder, d->domid, &err);
        if (r < 0) {
                instance_teardown(m, d, false);
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: start failed: %s", d->name,
                                   err ? err : strerror(-r));
        }
        config_free(d->running_config);
        d->running_config = config_dup(cfg);
        if (!d->running_config)
                d->running_config = config_dup(d->config);
        domain_set_failure(d, NULL);
        d->memory_kib = cfg->memory_mib * 1024;
        d->max_memory_kib = cfg->maxmem_mib * 1024;
        d->vcpus = cfg->vcpus;
        d->started_at_usec = manager_now(m) * 1000000ULL;
        return 0;
}

/* Destroy the domains with this uuid that no domain of the table owns (a build's leftovers). */
static void destroy_build_leftovers(struct manager *m, const uint8_t uuid[16])
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0;

        if (manager_list(m, &infos, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                char s[37];

                if (infos[i].domid == 0 || memcmp(infos[i].handle, uuid, 16) != 0 ||
                    manager_domid_is_ours(m, infos[i].domid))
                        continue;
                log_msg(LOG_NOTICE, "destroying domid %u (uuid %s), left by a failed build",
                        infos[i].domid, uuid_to_string(uuid, s));
                (void)attach_teardown(m->builder, m->layout, uuid, infos[i].domid, NULL);
                builder_destroy(m->builder, infos[i].domid, NULL);
                layout_remove_local(m->layout, infos[i].domid, NULL);
        }
}

/*
 * "started as domid N", and where the time went: the build's steps and, for a restart, the time
 * since its death was seen (the rest of a reboot is the guest's own shutdown and boot).
 */
static void log_started(struct domain *d, bool restore, const struct build_result *res)
{
        char since[64] = "";

        if (d->died_seen_ms)
                snprintf(since, sizeof(since), "; %" PRIu64 " ms since its death was seen",
                         debug_now_ms() - d->died_seen_ms);
        d->died_seen_ms = 0;
        log_domain(LOG_INFO, d, restore ? LOG_MID_RESTORE_DONE : LOG_MID_DOMAIN_STARTED,
                   restore ? "restore" : "start",
                   "%s as domid %u (build: %" PRIu32 " ms waiting, %s %" PRIu32
                   " ms, layout %" PRIu32 " ms, devices %" PRIu32 " ms%s%s)",
                   restore ? "restored" : "started", d->domid, res->wait_ms,
                   restore ? "stream" : "image", res->image_ms, res->layout_ms, res->devices_ms,
                   res->kernel_cached ? ", kernel from the cache" : "", since);
}

static int on_built(struct manager *m, struct domain *d, const struct event_args *a,
                    struct sup_error *e_unused)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        const struct build_result *res = a->result;
        bool restore = d->state == DOMAIN_RESTORING;
        int r;

        (void)e_unused;
        if (res->r >= 0) {
                r = build_finish(m, d, a->cfg, res, &e);
        } else if (res->duplicate) {
                r = sup_outcome(&e, OUTCOME_EXISTS, "%s: %s", d->name, res->message);
        } else if (res->denied) {
                r = sup_outcome(&e, OUTCOME_DENIED, "%s: %s", d->name, res->message);
        } else {
                r = sup_failure(&e, LAYER_HYPERVISOR, res->r, "%s: %s failed: %s", d->name,
                                restore ? "restore" : "start", res->message);
                /* A build process that died mid-way may have left a paused, unfinished domain. */
                if (res->incomplete)
                        destroy_build_leftovers(m, d->uuid);
        }
        if (r == 0) {
                history_note(m, d, restore ? "restored" : "started", SHUTDOWN_REASON_NONE, NULL,
                             history_actor_of(d, d->build_by_person));
                domain_enter(m, d, DOMAIN_RUNNING);
                log_started(d, restore, res);
                notify_started(d, 0, NULL);
                /* Started while the daemon stops its domains: this one too. */
                if (m->exiting && m->opts.stop_domains)
                        lifecycle_shutdown(m, d, false, 0, NULL);
                return 0;
        }
        /* A person waits, or no retry can fix it (the uuid held elsewhere, a file denied): failed.
         */
        if (d->build_by_person || r > 0) {
                domain_fail(m, d, e.message ? e.message : "start failed");
                notify_started(d, r, &e);
                /*
                 * The caller has the error; a created domain that never ran leaves no trace,
                 * unless a dead build child may have left a domain that its record must find.
                 */
                if (d->build_by_person && d->origin == ORIGIN_CREATED && !res->incomplete &&
                    !restore)
                        manager_drop_domain(m, d);
                return 0;
        }
        domain_set_failure(d, e.message);
        log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_RESTARTING, "restart", "%s; trying again",
                   d->failure ? d->failure : "start failed");
        restart_begin(m, d, ACTION_RESTART, true, true);
        return 0;
}

/* ---- running ---- */

static int on_pause(struct manager *m, struct domain *d, const struct event_args *a,
                    struct sup_error *e)
{
        bool pause = d->state == DOMAIN_RUNNING;
        _cleanup_free_ char *err = NULL;
        int r;

        (void)a;
        r = pause ? builder_pause(m->builder, d->domid, &err)
                  : builder_unpause(m->builder, d->domid, &err);
        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        r = layout_set_running(m->layout, d->domid, !pause, &err);
        if (r < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, NULL, "%s", err);
        domain_enter(m, d, pause ? DOMAIN_PAUSED : DOMAIN_RUNNING);
        return 0;
}

static int on_seen(struct manager *m, struct domain *d, const struct event_args *a,
                   struct sup_error *e)
{
        enum domain_state s = a->info->paused ? DOMAIN_PAUSED : DOMAIN_RUNNING;

        (void)e;
        if (s != d->state)
                domain_enter(m, d, s);
        return 0;
}

static int on_set_memory(struct manager *m, struct domain *d, const struct event_args *a,
                         struct sup_error *e)
{
        uint64_t max = d->max_memory_kib;
        _cleanup_free_ char *err = NULL;
        int r;

        if (a->kib < 1024 || a->kib > max)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                   "memory %llu KiB out of range for %s (1024..%llu KiB, its "
                                   "maxmem: mem-max raises it)",
                                   (unsigned long long)a->kib, d->name, (unsigned long long)max);
        r = builder_set_memory(m->builder, d->domid, a->kib, &err);
        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        r = layout_set_memory(m->layout, d->domid, d->uuid, a->kib, &err);
        if (r < 0)
                return sup_failure(e, LAYER_XENSTORE, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        d->memory_kib = a->kib;
        bus_domain_changed(m, d);
        return 0;
}

static int on_set_vcpus(struct manager *m, struct domain *d, const struct event_args *a,
                        struct sup_error *e)
{
        unsigned max = domain_live_config(d)->maxvcpus;
        _cleanup_free_ char *err = NULL;
        int r;

        if (a->vcpus < 1 || a->vcpus > max)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                   "%u vcpus out of range for %s (1..%u, the maxvcpus it was "
                                   "started with)",
                                   a->vcpus, d->name, max);
        r = builder_set_vcpus(m->builder, d->domid, a->vcpus, &err);
        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        r = layout_set_vcpus(m->layout, d->domid, d->uuid, a->vcpus, max, &err);
        if (r < 0)
                return sup_failure(e, LAYER_XENSTORE, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        d->vcpus = a->vcpus;
        bus_domain_changed(m, d);
        return 0;
}

/* xl mem-max: a new ceiling for mem-set, never below the target the guest has now. */
static int on_set_max_memory(struct manager *m, struct domain *d, const struct event_args *a,
                             struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        int r;

        if (a->kib < d->memory_kib)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                   "max memory %llu KiB is below the memory target of %s (%llu "
                                   "KiB): mem-set it lower first",
                                   (unsigned long long)a->kib, d->name,
                                   (unsigned long long)d->memory_kib);
        r = builder_set_max_memory(m->builder, d->domid, a->kib, &err);
        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        r = layout_set_max_memory(m->layout, d->domid, a->kib, &err);
        if (r < 0) {
                /* Xen and XenStore must tell the same maximum: the old one, then. */
                (void)builder_set_max_memory(m->builder, d->domid, d->max_memory_kib, NULL);
                return sup_failure(e, LAYER_XENSTORE, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        }
        d->max_memory_kib = a->kib;
        /* Kept in the record: a restarted daemon must not fall back to the file's maxmem. */
        domain_record(m, d);
        bus_domain_changed(m, d);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "mem-max", "max memory now %llu KiB",
                   (unsigned long long)a->kib);
        return 0;
}

/* Put back the affinities vcpus first..end - 1 had before a pin of all of them failed. */
static void pin_vcpus_undo(struct manager *m, struct domain *d,
                           const struct builder_vcpu_info *before, size_t n_before, unsigned first,
                           unsigned end)
{
        for (unsigned v = first; v < end && v < n_before; v++)
                (void)builder_vcpu_pin(m->builder, d->domid, v, &before[v].hard, &before[v].soft,
                                       NULL);
}

/* xl vcpu-pin: one vcpu, or every one the domain has (all of them or none). */
static int on_pin_vcpu(struct manager *m, struct domain *d, const struct event_args *a,
                       struct sup_error *e)
{
        const struct vcpu_pin *pin = a->pin;
        const unsigned maxvcpus = domain_live_config(d)->maxvcpus;
        unsigned first = pin->all ? 0 : pin->vcpu;
        unsigned last = pin->all ? maxvcpus - 1 : pin->vcpu;
        _cleanup_free_ struct builder_vcpu_info *before = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n_before = 0;
        int r;

        if (last >= maxvcpus)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                   "vcpu %u out of range for %s (0..%u, or all)", pin->vcpu,
                                   d->name, maxvcpus - 1);
        if (pin->all) {
                r = builder_vcpu_list(m->builder, d->domid, &before, &n_before, &err);
                if (r < 0)
                        return sup_failure(e, LAYER_HYPERVISOR, r, "%s: %s", d->name,
                                           err ? err : strerror(-r));
        }
        for (unsigned v = first; v <= last; v++) {
                free(err);
                err = NULL;
                r = builder_vcpu_pin(m->builder, d->domid, v, pin->hard, pin->soft, &err);
                if (r < 0)
                        pin_vcpus_undo(m, d, before, n_before, first, v);
                /* Xen's EINVAL: a map its cpupool cannot honour; anything else is its failure. */
                if (r == -EINVAL)
                        return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s: vcpu %u: %s", d->name,
                                           v, err ? err : strerror(-r));
                if (r < 0)
                        return sup_failure(e, LAYER_HYPERVISOR, r, "%s: vcpu %u: %s", d->name, v,
                                           err ? err : strerror(-r));
        }
        if (pin->all)
                log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "vcpu-pin", "every vcpu pinned");
        else
                log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "vcpu-pin", "vcpu %u pinned",
                           pin->vcpu);
        return 0;
}

/* ---- a graceful shutdown ---- */

static int on_shutdown_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct domain *d = userdata;

        (void)s;
        (void)usec;
        (void)lifecycle_dispatch(d->manager, d, EVENT_SHUTDOWN_TIMEOUT, &(struct event_args){},
                                 NULL);
        return 0;
}

/* Arm the state's one timer for a CLOCK_REALTIME deadline in seconds. */
static int domain_arm_timer(struct manager *m, struct domain *d, uint64_t deadline,
                            sd_event_time_handler_t fn)
{
        uint64_t now = manager_now(m);
        uint64_t left = deadline > now ? deadline - now : 0;

        d->timer = sd_event_source_disable_unref(d->timer);
        return sd_event_add_time_relative(m->event, &d->timer, CLOCK_MONOTONIC, left * 1000000ULL,
                                          0, fn, d);
}

static int on_shutdown(struct manager *m, struct domain *d, const struct event_args *a,
                       struct sup_error *e)
{
        unsigned timeout = a->timeout ? a->timeout : d->config->shutdown_timeout;
        _cleanup_free_ char *err = NULL;
        int r;

        r = layout_request_shutdown(m->layout, d->domid, a->reboot ? "reboot" : "poweroff", &err);
        if (r < 0)
                return sup_failure(e, LAYER_XENSTORE, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        d->shutdown_requested = true;
        d->shutdown_reboot = a->reboot;
        d->shutdown_deadline = manager_now(m) + timeout;
        domain_enter(m, d, DOMAIN_SHUTTING_DOWN);
        r = domain_arm_timer(m, d, d->shutdown_deadline, on_shutdown_timer);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: cannot arm the shutdown timer: %s",
                                   d->name, strerror(-r));
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, a->reboot ? "reboot" : "shutdown",
                   "asked to %s within %u s", a->reboot ? "reboot" : "power off", timeout);
        return 0;
}

static void action_apply(struct manager *m, struct domain *d, enum domain_action a, bool counted);

static int on_shutdown_timeout(struct manager *m, struct domain *d, const struct event_args *a,
                               struct sup_error *e)
{
        bool reboot = d->shutdown_reboot;

        (void)a;
        (void)e;
        log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, reboot ? "restart" : "destroy",
                   "did not shut down in time; %s", reboot ? "restarting" : "destroying");
        /* Forced, but what the person asked for: the reason says which. */
        d->shutdown_reason = reboot ? SHUTDOWN_REASON_REBOOT : SHUTDOWN_REASON_POWEROFF;
        action_apply(m, d, reboot ? ACTION_RESTART : ACTION_DESTROY, false);
        return 0;
}

/* ---- death, core dump, action ---- */

static int on_dump_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct domain *d = userdata;

        (void)s;
        d->dump_child = sd_event_source_disable_unref(d->dump_child);
        if (si->si_code != CLD_EXITED || si->si_status != 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "coredump",
                           "core dump failed (see the messages above)");
        (void)lifecycle_dispatch(d->manager, d, EVENT_DUMPED, &(struct event_args){}, NULL);
        return 0;
}

/* Dump the core in a child (it can take long); the action follows on EVENT_DUMPED. */
static int dump_begin(struct manager *m, struct domain *d)
{
        const char *dir = d->config->coredump_dir;
        char domid[16], uid[16], groups[LAYOUT_GROUPS_MAX], path[PATH_MAX];
        pid_t pid;
        int r;

        /* The child makes the directory and the file with the creator's rights. */
        snprintf(uid, sizeof(uid), "%u", (unsigned)d->creator.uid);
        creds_groups_format(&d->creator, groups, sizeof(groups));
        snprintf(domid, sizeof(domid), "%u", d->domid);
        snprintf(path, sizeof(path), "%s/%s-%u-%llu.core", dir, d->name, d->domid,
                 (unsigned long long)manager_now(m));
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;

                /* A fresh process image: no threads, handles or blocked signals of the daemon's. */
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execl(m->self_path, "xensupd", "--dump-core", domid, path, uid, groups,
                      m->opts.hypervisor == BUILDER_XEN ? "--hypervisor=xen" : "--hypervisor=sim",
                      "--sim-dir", m->opts.sim_dir, NULL);
                _exit(127);
        }
        r = sd_event_add_child(m->event, &d->dump_child, pid, WEXITED, on_dump_exit, d);
        if (r < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return log_errno(LOG_ERR, r, "%s: cannot watch the core dump process", d->name);
        }
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "coredump", "dumping core to %s", path);
        return 0;
}

static int on_died(struct manager *m, struct domain *d, const struct event_args *a,
                   struct sup_error *e)
{
        bool counted = policy_restart_counts(d->shutdown_requested, a->reason);
        enum domain_action act;

        (void)e;
        d->shutdown_reason = a->reason;
        d->died_seen_ms = debug_now_ms();
        act = policy_action_for(d->config, a->reason, d->shutdown_requested, d->shutdown_reboot);
        /* A stop a caller asked for is theirs; any other the guest's own. */
        history_note(m, d, "stopped", a->reason, domain_action_to_string(act),
                     d->shutdown_requested ? history_actor_of(d, true) : HISTORY_BY_GUEST);
        domain_enter(m, d, a->reason == SHUTDOWN_REASON_CRASH ? DOMAIN_CRASHED : DOMAIN_SHUTDOWN);
        log_domain(LOG_NOTICE, d,
                   a->reason == SHUTDOWN_REASON_CRASH || a->reason == SHUTDOWN_REASON_WATCHDOG
                       ? LOG_MID_DOMAIN_CRASHED
                       : LOG_MID_DOMAIN_STOPPED,
                   domain_action_to_string(act), "domid %u stopped (%s); action %s", d->domid,
                   shutdown_reason_to_string(a->reason), domain_action_to_string(act));
        /*
         * A dead guest's devices serve nobody: freed now, whatever the action, so a kept or
         * preserved instance never holds the disk its restarted self needs.
         */
        instance_devices_teardown(m, d);
        if (policy_action_dumps_core(act) && dump_begin(m, d) >= 0) {
                d->pending_action = act;
                d->pending_counted = counted;
                layout_set_running(m->layout, d->domid, false, NULL);
                domain_enter(m, d, DOMAIN_DUMPING);
                return 0;
        }
        action_apply(m, d, act, counted);
        return 0;
}

static int on_dumped(struct manager *m, struct domain *d, const struct event_args *a,
                     struct sup_error *e)
{
        (void)a;
        (void)e;
        action_apply(m, d, d->pending_action, d->pending_counted);
        return 0;
}

/* Apply the action of a death (once any core dump is done). */
static void action_apply(struct manager *m, struct domain *d, enum domain_action a, bool counted)
{
        switch (a) {
        case ACTION_PRESERVE:
                d->shutdown_requested = false;
                if (d->has_domid)
                        layout_set_running(m->layout, d->domid, false, NULL);
                domain_enter(m, d, DOMAIN_PRESERVED);
                return;
        case ACTION_DESTROY:
        case ACTION_COREDUMP_DESTROY:
                instance_teardown(m, d, false);
                domain_enter(m, d, DOMAIN_STOPPED);
                domain_leave_if_unowned(m, d);
                return;
        default:
                /* Nothing to rebuild from: a removed file, or a kept instance. */
                if (d->config_gone || d->origin == ORIGIN_KEPT) {
                        action_apply(m, d, ACTION_DESTROY, counted);
                        return;
                }
                restart_begin(m, d, a, counted, false);
                return;
        }
}

/* ---- restart: the throttle, the kept instance, the backoff ---- */

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct domain *d = userdata;

        (void)s;
        (void)usec;
        (void)lifecycle_dispatch(d->manager, d, EVENT_RESTART_DUE, &(struct event_args){}, NULL);
        return 0;
}

/* The kept instance's own identity: a uuid derived from the domain's and the old domid. */
void lifecycle_kept_uuid(const uint8_t uuid[16], uint32_t domid, uint8_t kept[16])
{
        char seed[64], u[37];

        snprintf(seed, sizeof(seed), "kept:%s:%u", uuid_to_string(uuid, u), domid);
        uuid_from_name(seed, kept);
}

/* How many dead instances of d are kept. */
static unsigned kept_count(const struct manager *m, const struct domain *d)
{
        unsigned n = 0;

        for (size_t i = 0; i < m->n_domains; i++)
                if (!m->domains[i]->removed && m->domains[i]->origin == ORIGIN_KEPT &&
                    memcmp(m->domains[i]->kept_of, d->uuid, 16) == 0)
                        n++;
        return n;
}

/*
 * rename-restart: the dead instance becomes a domain of its own, NAME-<domid> with its own uuid
 * in the hypervisor, XenStore and our records, so destroying it never touches the live one.
 * At most max(burst, 1) are kept: a crash loop cannot pile them up.
 */
static int keep_instance(struct manager *m, struct domain *d)
{
        unsigned limit = d->config->restart.burst ? d->config->restart.burst : 1;
        _cleanup_free_ char *err = NULL;
        struct domain_config *cfg;
        struct domain *kept;
        char name[DOMAIN_NAME_MAX + 1], suffix[16];
        uint8_t uuid[16];
        bool moved;
        int r;

        if (kept_count(m, d) >= limit) {
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "rename-restart",
                           "%u dead instances are kept already", limit);
                return -EMLINK;
        }
        snprintf(suffix, sizeof(suffix), "-%u", d->domid);
        snprintf(name, sizeof(name), "%.*s%s", (int)(DOMAIN_NAME_MAX - strlen(suffix)), d->name,
                 suffix);
        if (manager_find_name(m, name)) {
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "rename-restart",
                           "the name %s is taken", name);
                return -EEXIST;
        }
        lifecycle_kept_uuid(d->uuid, d->domid, uuid);
        cfg = config_dup(domain_live_config(d));
        if (!cfg)
                return -ENOMEM;
        memcpy(cfg->name, name, sizeof(cfg->name));
        memcpy(cfg->uuid, uuid, 16);
        r = config_set_path(cfg, NULL);
        if (r >= 0)
                r = domain_new(m, cfg, &kept);
        if (r < 0) {
                config_free(cfg);
                return r;
        }
        r = builder_set_handle(m->builder, d->domid, uuid, &err);
        if (r >= 0)
                r = layout_preserve_instance(m->layout, d->domid, d->uuid, uuid, name, &err);
        moved = r >= 0;
        if (r >= 0)
                r = manager_add_domain(m, kept);
        if (r < 0) {
                /* Back to one identity: the instance is destroyed with the domain's. */
                builder_set_handle(m->builder, d->domid, d->uuid, NULL);
                if (moved)
                        layout_remove_vm(m->layout, uuid, NULL);
                domain_free(kept);
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "rename-restart",
                           "cannot keep the old instance: %s", err ? err : strerror(-r));
                return r;
        }
        kept->origin = ORIGIN_KEPT;
        memcpy(kept->kept_of, d->uuid, 16);
        kept->domid = d->domid;
        kept->has_domid = true;
        kept->shutdown_reason = d->shutdown_reason;
        kept->started_at_usec = d->started_at_usec;
        /* What a restarted daemon shows of it: its record names it, the store has its limits. */
        if (config_store_save(m->state_dir, kept->config, &err) < 0)
                log_domain(LOG_WARNING, kept, LOG_MID_CONFIG, NULL, "cannot keep its config: %s",
                           err);
        domain_enter(m, kept, DOMAIN_PRESERVED);
        /* The instance is the kept domain's now; the live one is rebuilt. */
        d->has_domid = false;
        d->running_config = config_free(d->running_config);
        log_domain(LOG_INFO, kept, LOG_MID_DOMAIN_ACTION, "rename-restart", "kept as %s", name);
        return 0;
}

/*
 * Restart after a death (or retry a build that failed): guest-initiated ones count toward the
 * throttle and wait out the backoff; a person's reboot does neither.
 */
static void restart_begin(struct manager *m, struct domain *d, enum domain_action a, bool counted,
                          bool build_retry)
{
        const struct domain_config *c = d->config;
        unsigned before = d->window_count, delay = 0;
        uint64_t now = manager_now(m);
        bool keep;

        if (counted && !policy_throttle_admit(&d->window_start, &d->window_count, c->restart.burst,
                                              c->restart.interval, now)) {
                _cleanup_free_ char *why = NULL;

                instance_teardown(m, d, false);
                if (asprintf(&why,
                             "%s%srestarted %u times within %u s (restart burst); not restarting "
                             "until started by hand",
                             d->failure ? d->failure : "", d->failure ? "; " : "", d->window_count,
                             c->restart.interval) < 0)
                        why = NULL;
                domain_fail(m, d, why ? why : "restart throttled");
                return;
        }
        if (counted) {
                if (d->window_count == 1)
                        before = 0;
                delay = config_restart_delay(c, before);
                /* A build that failed is retried after 1, 2, 4... 30 s even without a backoff. */
                if (build_retry && delay == 0)
                        delay = policy_retry_delay(before);
        }
        d->restart_count++;
        /* The dead instance is kept only once the record says what happens next. */
        keep = a == ACTION_RENAME_RESTART && d->has_domid;
        if (delay == 0) {
                _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;

                if (build_begin(m, d, false, keep, &e) != 0) {
                        /* Cannot even queue it: out of processes or memory; try again later. */
                        domain_set_failure(d, e.message);
                        delay = policy_retry_delay(before);
                } else {
                        return;
                }
        }
        d->restart_due = now + delay;
        domain_enter(m, d, DOMAIN_RESTART_WAIT);
        if (keep && d->has_domid)
                (void)keep_instance(m, d);
        instance_teardown(m, d, true);
        if (domain_arm_timer(m, d, d->restart_due, on_restart_timer) < 0) {
                (void)lifecycle_dispatch(m, d, EVENT_RESTART_DUE, &(struct event_args){}, NULL);
                return;
        }
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_RESTARTING, "restart",
                   "restarting in %u s (restart %u within %u s)", delay, d->window_count,
                   c->restart.interval);
}

/* ---- destroy, dying, gone ---- */

static int on_destroy(struct manager *m, struct domain *d, const struct event_args *a,
                      struct sup_error *e)
{
        (void)a;
        /* Destroy is a caller's (Destroy) unless the daemon destroys for its own reasons. */
        enum history_actor by = history_actor_of(d, strcmp(d->last_action.action, "destroy") == 0);

        if (d->state == DOMAIN_STARTING || d->state == DOMAIN_RESTORING) {
                /* A build not begun is dropped; one whose child runs must finish first. */
                if (build_queue_cancel(m->builds, d) < 0)
                        return sup_outcome(e, OUTCOME_INVALID_STATE,
                                           "domain %s is being %s; destroy it once it is "
                                           "running",
                                           d->name,
                                           d->state == DOMAIN_STARTING ? "built" : "restored");
                log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "destroy",
                           "destroyed while waiting for its build");
                history_note(m, d, "destroyed", SHUTDOWN_REASON_NONE, NULL, by);
                domain_enter(m, d, DOMAIN_STOPPED);
                notify_started(
                    d, OUTCOME_INVALID_STATE,
                    &(struct sup_error){ .message = "destroyed before its build began" });
                return 0;
        }
        if (d->has_domid)
                log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "destroy", "destroying domid %u",
                           d->domid);
        save_abandon(m, d, "the domain was destroyed while it was being saved");
        instance_teardown(m, d, false);
        history_note(m, d, "destroyed", SHUTDOWN_REASON_NONE, NULL, by);
        domain_enter(m, d, DOMAIN_STOPPED);
        domain_leave_if_unowned(m, d);
        return 0;
}

#define DYING_POLL_SECONDS 1

/* Ask the hypervisor again about a dying domain: its end fires no watch we would see. */
static int on_dying_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        struct domain *d = userdata;
        size_t n = 0;

        (void)s;
        (void)usec;
        if (manager_list(d->manager, &infos, &n) >= 0)
                lifecycle_observe(d->manager, d, manager_find_info(infos, n, d->domid));
        return 0;
}

static int on_dying(struct manager *m, struct domain *d, const struct event_args *a,
                    struct sup_error *e)
{
        (void)a;
        (void)e;
        save_abandon(m, d, "the domain was destroyed while it was being saved");
        domain_enter(m, d, DOMAIN_DYING);
        /*
         * xenstored fired @releaseDomain when the domain was destroyed; a domain whose pages are
         * still held lingers as dying, and its final release fires nothing: look again.
         */
        if (domain_arm_timer(m, d, manager_now(m) + DYING_POLL_SECONDS, on_dying_timer) < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, NULL,
                           "cannot watch its end; it shows dying until the next death");
        return 0;
}

static int on_gone(struct manager *m, struct domain *d, const struct event_args *a,
                   struct sup_error *e)
{
        (void)a;
        (void)e;
        /* Destroyed behind our back (xl destroy): nothing to apply, only to clean. */
        log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_STOPPED, NULL, "domid %u is gone", d->domid);
        save_abandon(m, d, "the domain vanished while it was being saved");
        layout_remove_local(m->layout, d->domid, NULL);
        d->has_domid = false;
        d->shutdown_requested = false;
        d->running_config = config_free(d->running_config);
        domain_enter(m, d, DOMAIN_STOPPED);
        domain_leave_if_unowned(m, d);
        return 0;
}

void lifecycle_observe(struct manager *m, struct domain *d, const struct builder_domain_info *info)
{
        struct event_args a = { .info = info };

        if (!d->has_domid || d->state == DOMAIN_DUMPING)
                return;
        if (!info) {
                (void)lifecycle_dispatch(m, d, EVENT_GONE, &a, NULL);
        } else if (info->dying) {
                (void)lifecycle_dispatch(m, d, EVENT_DYING, &a, NULL);
        } else if (info->shutdown) {
                a.reason = info->reason;
                (void)lifecycle_dispatch(m, d, EVENT_DIED, &a, NULL);
        } else {
                (void)lifecycle_dispatch(m, d, EVENT_SEEN, &a, NULL);
        }
}

/* ---- adoption at start-up ---- */

/* Take over the persisted record: counters, failure, a pending shutdown. */
static void restore_record(struct domain *d, const struct layout_tool_state *st)
{
        uint8_t macs[VIFS_MAX][6];

        /* The generated MACs are the domain's for good: a bad list is not a reason to change them.
         */
        if (mac_list_parse(st->vif_macs, macs) == 0)
                memcpy(d->vif_macs, macs, sizeof(macs));
        d->restart_count = st->restart_count;
        d->window_start = st->restart_window_start;
        d->window_count = st->restart_window_count;
        d->shutdown_requested = st->shutdown_requested;
        d->shutdown_reboot = st->shutdown_reboot;
        d->shutdown_deadline = st->shutdown_deadline;
        d->shutdown_reason = st->last_reason;
        d->started_at_usec = st->started_at_usec;
        d->max_memory_kib =
            st->max_memory_kib ? st->max_memory_kib : domain_live_config(d)->maxmem_mib * 1024;
        if (st->failure[0])
                domain_set_failure(d, st->failure);
}

/* The record says no instance exists: carry on with what it was doing. */
static int adopt_without_instance(struct manager *m, struct domain *d,
                                  const struct layout_tool_state *st)
{
        enum domain_state was = st ? domain_state_from_string(st->state) : _DOMAIN_STATE_INVALID;

        if (st && st->domid)
                layout_remove_local(m->layout, st->domid, NULL);
        if (st && (was == DOMAIN_RESTART_WAIT || (st->restart_due && !st->failed))) {
                d->restart_due = st->restart_due;
                domain_enter(m, d, DOMAIN_RESTART_WAIT);
                if (domain_arm_timer(m, d, d->restart_due, on_restart_timer) < 0)
                        return lifecycle_dispatch(m, d, EVENT_RESTART_DUE, &(struct event_args){},
                                                  NULL);
                return 0;
        }
        if (st && st->failed) {
                if (!d->failure)
                        domain_set_failure(d, "failed before the daemon restarted; start it by "
                                              "hand");
                domain_enter(m, d, DOMAIN_FAILED);
                return 0;
        }
        /*
         * Autostart is for a host that just booted: xenstored starts empty, so no record. A record
         * means this daemon ran here before and the domain was stopped on purpose (its action, or
         * a person), so it stays stopped. One the host saved is restored instead (host.h).
         */
        if (!st && d->config->autostart && d->origin == ORIGIN_CONFIG_DIR && !d->config_gone &&
            !d->boot_image)
                return lifecycle_dispatch(m, d, EVENT_AUTOSTART, &(struct event_args){}, NULL);
        if (d->config_gone)
                manager_drop_domain(m, d);
        return 0;
}

/*
 * The daemon died while saving: a suspended guest is resumed (whatever the image holds, the
 * caller never heard of a save), a request the guest has not taken is withdrawn. *info is
 * updated to what the guest is now.
 */
static void adopt_interrupted_save(struct manager *m, struct domain *d,
                                   struct builder_domain_info *info)
{
        _cleanup_free_ char *err = NULL;
        int r;

        if (!(info->shutdown && info->reason == SHUTDOWN_REASON_SUSPEND)) {
                (void)layout_withdraw_suspend(m->layout, info->domid, NULL);
                return;
        }
        r = builder_resume(m->builder, info->domid, &err);
        if (r >= 0)
                r = layout_resume_domain(m->layout, info->domid, &err);
        if (r < 0) {
                log_domain(LOG_ERR, d, LOG_MID_DOMAIN_FAILED, "save",
                           "its save was interrupted and domid %u cannot be resumed: %s",
                           info->domid, err ? err : strerror(-r));
                return;
        }
        info->shutdown = false;
        log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_ADOPTED, "save",
                   "its save was interrupted by a daemon restart; domid %u resumed", info->domid);
}

/*
 * A committed migration's incoming records become d's own (the source's are torn down by then):
 * how many there were, a failure logged. Serves the commit and a daemon restarted after it.
 */
static size_t incoming_records_take_over(struct manager *m, struct domain *d)
{
        _cleanup_free_ struct layout_device *devs = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        int r;

        r = layout_device_list_incoming(m->layout, d->uuid, &devs, &n, &err);
        if (r >= 0 && n > 0)
                r = layout_device_commit_incoming(m->layout, d->uuid, devs, n, &err);
        if (r < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "migrate",
                           "cannot take over the incoming devices' records: %s",
                           err ? err : strerror(-r));
        return n;
}

/* Destroy domid, an instance of d that must not run on, its devices (d's records) first. */
static void adopt_destroy_instance(struct manager *m, struct domain *d, uint32_t domid,
                                   const char *why)
{
        log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_CLEANED, "destroy", "domid %u %s; destroying it",
                   domid, why);
        (void)attach_teardown(m->builder, m->layout, d->uuid, domid, NULL);
        builder_destroy(m->builder, domid, NULL);
        layout_remove_local(m->layout, domid, NULL);
}

/*
 * The daemon died while migrating: exactly one instance runs on, as the record's marker says.
 * Committed: the incoming one (given the domain's name, its records the domain's, unpaused)
 * and the source goes. Not: the source (resumed if it suspended) and the incoming one goes.
 * Returns the instance to adopt, in *seen, or NULL when none is left.
 */
static const struct builder_domain_info *
adopt_interrupted_migration(struct manager *m, struct domain *d, const struct layout_tool_state *st,
                            struct builder_domain_info *seen)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        const struct builder_domain_info *source, *incoming;
        size_t n = 0;

        if (manager_list(m, &infos, &n) < 0)
                return NULL;
        source = manager_find_info(infos, n, st->domid);
        incoming = st->migrate_to ? manager_find_info(infos, n, st->migrate_to) : NULL;
        if (source && memcmp(source->handle, d->uuid, 16) != 0)
                source = NULL;
        if (incoming && memcmp(incoming->handle, d->uuid, 16) != 0)
                incoming = NULL;
        if (st->migrate_committed && incoming) {
                if (source)
                        adopt_destroy_instance(m, d, source->domid,
                                               "was migrated away (the migration had committed)");
                else
                        (void)attach_teardown_others(m->builder, m->layout, d->uuid, 0, NULL);
                (void)incoming_records_take_over(m, d);
                (void)layout_rename(m->layout, incoming->domid, d->uuid, d->name, NULL);
                *seen = *incoming;
                if (seen->paused && builder_unpause(m->builder, seen->domid, NULL) >= 0)
                        seen->paused = false;
                log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_ADOPTED, "migrate",
                           "its migration had committed when the daemon restarted; domid %u "
                           "runs on",
                           seen->domid);
                return seen;
        }
        (void)attach_teardown_incoming(m->builder, m->layout, d->uuid, NULL);
        for (size_t i = 0; i < n; i++)
                if (infos[i].domid != 0 && infos[i].domid != st->domid && !infos[i].dying &&
                    memcmp(infos[i].handle, d->uuid, 16) == 0)
                        adopt_destroy_instance(m, d, infos[i].domid, "was left half-migrated-to");
        if (!source)
                return NULL;
        *seen = *source;
        adopt_interrupted_save(m, d, seen);
        return seen;
}

/*
 * The daemon died while restoring: an instance still paused was never handed over and goes (its
 * devices went with domain_devices_adopt()); the image is the caller's to restore again.
 */
static int adopt_interrupted_restore(struct manager *m, struct domain *d,
                                     const struct builder_domain_info *info)
{
        if (info && !info->paused)
                return 1; /* unpaused just before the daemon died: it runs, adopt it */
        if (info) {
                log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_CLEANED, "destroy",
                           "domid %u was left half-restored; destroying it", info->domid);
                d->domid = info->domid;
                d->has_domid = true;
                instance_teardown(m, d, false);
        }
        domain_fail(m, d,
                    "its restore was interrupted by a daemon restart; restore its image "
                    "again");
        return 0;
}

static int on_adopt(struct manager *m, struct domain *d, const struct event_args *a,
                    struct sup_error *e)
{
        const struct layout_tool_state *st = a->record;
        const struct builder_domain_info *info = a->info;
        enum domain_state was = st ? domain_state_from_string(st->state) : _DOMAIN_STATE_INVALID;
        struct builder_domain_info seen;

        (void)e;
        if (st)
                restore_record(d, st);
        if (was == DOMAIN_MIGRATING)
                info = adopt_interrupted_migration(m, d, st, &seen);
        /* Devices of instances that are gone (a daemon or child killed mid-way), the live one's
         * kept. */
        domain_devices_adopt(m, d, info ? info->domid : 0);
        if (was == DOMAIN_RESTORING && adopt_interrupted_restore(m, d, info) == 0)
                return 0;
        if ((was == DOMAIN_SAVING || was == DOMAIN_SUSPENDED) && info) {
                seen = *info;
                adopt_interrupted_save(m, d, &seen);
                info = &seen;
        }
        if (st && st->build_in_progress) {
                /* Killed mid-build or mid-restart: whatever exists is unfinished; build anew. */
                if (info) {
                        log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_CLEANED, "destroy",
                                   "domid %u was left half-built; destroying it", info->domid);
                        d->domid = info->domid;
                        d->has_domid = true;
                } else if (st->domid) {
                        layout_remove_local(m->layout, st->domid, NULL);
                }
                if (d->config_gone || d->origin == ORIGIN_KEPT) {
                        instance_teardown(m, d, false);
                        manager_drop_domain(m, d);
                        return 0;
                }
                return lifecycle_dispatch(m, d, EVENT_AUTOSTART, &(struct event_args){}, NULL);
        }
        if (!info)
                return adopt_without_instance(m, d, st);
        d->domid = info->domid;
        d->has_domid = true;
        d->memory_kib = info->mem_kib ? info->mem_kib : d->memory_kib;
        if (!d->started_at_usec)
                (void)layout_vm_start_time(m->layout, d->uuid, &d->started_at_usec, NULL);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ADOPTED, "adopt", "adopted domid %u", info->domid);
        if (info->shutdown && was == DOMAIN_PRESERVED) {
                domain_enter(m, d, DOMAIN_PRESERVED);
                return 0;
        }
        if (d->shutdown_requested && !info->shutdown) {
                domain_enter(m, d, DOMAIN_SHUTTING_DOWN);
                return domain_arm_timer(m, d, d->shutdown_deadline, on_shutdown_timer);
        }
        domain_enter(m, d, info->paused ? DOMAIN_PAUSED : DOMAIN_RUNNING);
        /* A domain that died while we were away gets its action now. */
        lifecycle_observe(m, d, info);
        return 0;
}

/* ---- save and restore ---- */

static void on_save_job_done(struct domain *d, const struct save_job_result *res, void *userdata)
{
        struct manager *m = userdata;

        (void)lifecycle_dispatch(m, d, EVENT_SAVED, &(struct event_args){ .saved = res }, NULL);
}

/* Who a save is by: the caller who asked for it, else the daemon (the host's shutdown). */
static enum history_actor save_actor(const struct domain *d)
{
        return history_actor_of(d, strcmp(d->last_action.action, "save") == 0);
}

static int on_save(struct manager *m, struct domain *d, const struct event_args *a,
                   struct sup_error *e)
{
        struct save_job_spec spec = *a->save;
        char history[HISTORY_TEXT_MAX];
        struct history saved = d->history;
        int r;

        if (device_job_running(d))
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "domain %s has a device being attached or detached; save it "
                                   "once that is done",
                                   d->name);
        /* The image carries the history with its save in it: a restore after the host's reboot
         * (no record) goes on from there. */
        history_add(&saved, manager_now(m) * 1000000ULL, "saved", SHUTDOWN_REASON_NONE, NULL,
                    save_actor(d), d->last_action.uid);
        history_format(&saved, history);
        spec.history = history;
        r = save_job_start(m, d, &spec, on_save_job_done, m);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: cannot start the save: %s", d->name,
                                   strerror(-r));
        d->saved_from = d->state;
        d->on_started = a->done;
        d->on_started_userdata = a->userdata;
        domain_enter(m, d, DOMAIN_SAVING);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "save", "saving domid %u%s", d->domid,
                   a->save->live ? " (live)" : "");
        return 0;
}

/* The watch saw it stop while saving: suspended is the save's progress, anything else its end. */
static int on_save_died(struct manager *m, struct domain *d, const struct event_args *a,
                        struct sup_error *e)
{
        (void)e;
        if (a->reason == SHUTDOWN_REASON_SUSPEND && d->state == DOMAIN_SAVING)
                domain_enter(m, d, DOMAIN_SUSPENDED);
        return 0;
}

/*
 * A save or migration (op) that did not finish (why: its message): a suspended guest runs on in
 * place (xc_domain_resume fast, then xs_resume_domain: its devices stay connected), the rest is
 * what the hypervisor says.
 */
/* The MESSAGE_ID of a save's or a migration's failure (op: save_undo()'s). */
static const char *save_failed_mid(const char *op)
{
        return strcmp(op, "migration") == 0 ? LOG_MID_MIGRATE_FAILED : LOG_MID_SAVE_FAILED;
}

static void save_undo(struct manager *m, struct domain *d, const char *op, const char *why)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        const struct builder_domain_info *info = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        int r;

        if (manager_list(m, &infos, &n) >= 0)
                info = manager_find_info(infos, n, d->domid);
        if (info && info->shutdown && info->reason == SHUTDOWN_REASON_SUSPEND) {
                r = builder_resume(m->builder, d->domid, &err);
                if (r >= 0)
                        r = layout_resume_domain(m->layout, d->domid, &err);
                if (r < 0) {
                        _cleanup_free_ char *failure = NULL;

                        if (asprintf(&failure, "%s; and it could not be resumed: %s", why,
                                     err ? err : strerror(-r)) < 0)
                                failure = NULL;
                        domain_set_failure(d, failure ? failure : why);
                        domain_enter(m, d, DOMAIN_PRESERVED);
                        log_domain(LOG_ERR, d, save_failed_mid(op), op, "left suspended: %s",
                                   d->failure);
                        return;
                }
                log_domain(LOG_NOTICE, d, save_failed_mid(op), op,
                           "%s failed (%s); resumed, it runs on", op, why);
                domain_enter(m, d, d->saved_from == DOMAIN_PAUSED ? DOMAIN_PAUSED : DOMAIN_RUNNING);
                return;
        }
        log_domain(LOG_NOTICE, d, save_failed_mid(op), op, "%s failed: %s", op, why);
        domain_enter(m, d, info && info->paused ? DOMAIN_PAUSED : DOMAIN_RUNNING);
        /* It died another way meanwhile, or is gone: that gets its own handling now. */
        lifecycle_observe(m, d, info);
}

static int on_saved(struct manager *m, struct domain *d, const struct event_args *a,
                    struct sup_error *e_unused)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        const struct save_job_result *res = a->saved;
        int r;

        (void)e_unused;
        if (res->r >= 0) {
                history_note(m, d, "saved", SHUTDOWN_REASON_NONE, NULL, save_actor(d));
                log_domain(LOG_INFO, d, LOG_MID_SAVE_DONE, "save", "saved; domid %u destroyed",
                           d->domid);
                d->shutdown_reason = SHUTDOWN_REASON_SUSPEND;
                instance_teardown(m, d, false);
                domain_enter(m, d, DOMAIN_STOPPED);
                notify_started(d, 0, NULL);
                domain_leave_if_unowned(m, d);
                return 0;
        }
        r = sup_failure(&e, LAYER_HYPERVISOR, res->r, "%s: save failed: %s", d->name, res->message);
        save_undo(m, d, "save", res->message);
        notify_started(d, r, &e);
        return 0;
}

/*
 * Go on from the history a restored image carries when it is the newer: after the host's
 * reboot XenStore has no record, so the domain has none; a domain restored on the host that
 * saved it has the image's entries and more. A history that does not parse is left out.
 */
static void history_take_image(struct domain *d, const char *text)
{
        struct history h;

        if (!text || !text[0] || history_parse(text, &h) < 0 || h.n == 0)
                return;
        if (d->history.n && d->history.entries[d->history.n - 1].usec >= h.entries[h.n - 1].usec)
                return;
        d->history = h;
}

static int on_restore(struct manager *m, struct domain *d, const struct event_args *a,
                      struct sup_error *e)
{
        const struct restore_source *src = a->restore;
        int r;

        if (m->exiting)
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "the daemon is stopping; restore %s after it", d->name);
        r = uuid_held_elsewhere(m, d, "restoring", e);
        if (r != 0)
                return r;
        /* The caller's rights, never the domain's: the image's config is whatever it wrote. */
        r = build_queue_add_restore(m->builds, d, src->cfg, d->name, src->files_as, src->fd,
                                    &src->features);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: cannot queue the restore: %s", d->name,
                                   strerror(-r));
        config_keep(m, d);
        history_take_image(d, src->history);
        d->build_by_person = true;
        d->on_started = a->done;
        d->on_started_userdata = a->userdata;
        domain_set_failure(d, NULL);
        domain_enter(m, d, DOMAIN_RESTORING);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "restore", "restoring from %s", src->image);
        return 0;
}

/* ---- localhost migration ---- */

/* What the incoming instance is called until it commits (xl's "--incoming"). */
static void incoming_name(const struct domain *d, char name[DOMAIN_NAME_MAX + 1])
{
        static const char suffix[] = "--incoming";

        snprintf(name, DOMAIN_NAME_MAX + 1, "%.*s%s", (int)(DOMAIN_NAME_MAX - (sizeof(suffix) - 1)),
                 d->name, suffix);
}

/*
 * Whatever of the incoming instance exists goes: its restore child, its devices (incoming/
 * records), the domain itself. The source is d's own domid, which the leftover sweep spares.
 */
static void migration_drop_incoming(struct manager *m, struct domain *d)
{
        _cleanup_free_ char *err = NULL;

        if (m->builds)
                (void)build_queue_abort(m->builds, d);
        if (attach_teardown_incoming(m->builder, m->layout, d->uuid, &err) < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "migrate",
                           "cannot tear down the incoming instance's devices: %s", err);
        destroy_build_leftovers(m, d->uuid);
        d->migrate_sent = false;
        d->incoming_built = false;
        d->incoming_domid = 0;
        d->migrate_committed = false;
}

/* A migration that did not commit: the incoming instance goes, the source runs on where it was. */
static void migrate_fail(struct manager *m, struct domain *d, int r, const char *why)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        int q;

        save_job_abandon(d);
        migration_drop_incoming(m, d);
        q = sup_failure(&e, LAYER_HYPERVISOR, r, "%s: migration failed: %s", d->name, why);
        save_undo(m, d, "migration", why);
        notify_started(d, q, &e);
}

static int on_migrate(struct manager *m, struct domain *d, const struct event_args *a,
                      struct sup_error *e)
{
        struct save_job_spec spec = *a->save;
        char name[DOMAIN_NAME_MAX + 1];
        int sv[2], r;

        if (m->exiting)
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "the daemon is stopping; migrate %s after it", d->name);
        if (device_job_running(d))
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "domain %s has a device being attached or detached; migrate "
                                   "it once that is done",
                                   d->name);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return sup_failure(e, LAYER_SYSTEM, -errno, "%s: cannot migrate: %s", d->name,
                                   strerror(errno));
        /* The incoming instance is the running one's twin: its config, its MACs, its owner. */
        incoming_name(d, name);
        r = build_queue_add_incoming(m->builds, d, domain_live_config(d), name, &d->creator, sv[1],
                                     d->domid);
        spec.fd = sv[0];
        if (r >= 0) {
                r = save_job_start(m, d, &spec, on_save_job_done, m);
                if (r < 0)
                        (void)build_queue_abort(m->builds, d);
        }
        /* Each job keeps its own end; the loop coordinates them, so no EOF is waited for. */
        close(sv[0]);
        close(sv[1]);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: cannot start the migration: %s",
                                   d->name, strerror(-r));
        d->saved_from = d->state;
        d->migrate_sent = false;
        d->incoming_built = false;
        d->incoming_domid = 0;
        d->migrate_committed = false;
        d->on_started = a->done;
        d->on_started_userdata = a->userdata;
        domain_enter(m, d, DOMAIN_MIGRATING);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "migrate",
                   "migrating domid %u to localhost%s", d->domid, spec.live ? " (live)" : "");
        return 0;
}

/*
 * Both halves are done: the incoming instance becomes the domain. The record says so first, so
 * a daemon killed from here on keeps the incoming instance and destroys the source; then the
 * source's devices and domain go (its /vm/<uuid> is the incoming one's), the incoming records
 * become the domain's, and the new instance takes the name and runs.
 */
static void migrate_commit(struct manager *m, struct domain *d)
{
        struct domain_config *running = TAKE_PTR(d->running_config);
        uint32_t source = d->domid;
        _cleanup_free_ char *err = NULL;
        size_t n;
        int r;

        d->migrate_committed = true;
        domain_record(m, d);
        instance_teardown(m, d, true);
        n = incoming_records_take_over(m, d);
        d->domid = d->incoming_domid;
        d->has_domid = true;
        d->running_config = running;
        if (n > 0)
                domain_devices_load(m, d);
        (void)layout_rename(m->layout, d->domid, d->uuid, d->name, NULL);
        r = d->saved_from == DOMAIN_PAUSED ? 0 : builder_unpause(m->builder, d->domid, &err);
        d->migrate_committed = false;
        d->incoming_built = false;
        d->migrate_sent = false;
        d->incoming_domid = 0;
        history_note(m, d, "migrated", SHUTDOWN_REASON_NONE, NULL, history_actor_of(d, true));
        if (r < 0) {
                log_domain(LOG_ERR, d, LOG_MID_MIGRATE_FAILED, "migrate",
                           "migrated to domid %u, which cannot be unpaused: %s", d->domid,
                           err ? err : strerror(-r));
                domain_enter(m, d, DOMAIN_PAUSED);
        } else {
                domain_enter(m, d, d->saved_from == DOMAIN_PAUSED ? DOMAIN_PAUSED : DOMAIN_RUNNING);
        }
        log_domain(LOG_INFO, d, LOG_MID_MIGRATE_DONE, "migrate",
                   "migrated from domid %u to domid %u", source, d->domid);
        notify_started(d, 0, NULL);
}

/* The source's save into the incoming instance ended. */
static int on_migrate_sent(struct manager *m, struct domain *d, const struct event_args *a,
                           struct sup_error *e)
{
        (void)e;
        if (a->saved->r < 0) {
                migrate_fail(m, d, a->saved->r, a->saved->message);
                return 0;
        }
        d->migrate_sent = true;
        if (d->incoming_built)
                migrate_commit(m, d);
        return 0;
}

/* The incoming instance's restore ended: paused and laid out, or nothing of it is left. */
static int on_migrate_received(struct manager *m, struct domain *d, const struct event_args *a,
                               struct sup_error *e)
{
        const struct build_result *res = a->result;

        (void)e;
        if (res->r < 0) {
                migrate_fail(m, d, res->r, res->message);
                return 0;
        }
        d->incoming_domid = res->domain.domid;
        d->incoming_built = true;
        /* The record knows the incoming domid before anything depends on it. */
        domain_record(m, d);
        if (d->migrate_sent)
                migrate_commit(m, d);
        return 0;
}

/* ---- the API: each call is one event ---- */

int lifecycle_start(struct manager *m, struct domain *d, domain_started_fn done, void *userdata,
                    struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_START,
                                  &(struct event_args){ .done = done, .userdata = userdata }, e);
}

void lifecycle_autostart(struct manager *m, struct domain *d)
{
        (void)lifecycle_dispatch(m, d, EVENT_AUTOSTART, &(struct event_args){}, NULL);
}

int lifecycle_shutdown(struct manager *m, struct domain *d, bool reboot, unsigned timeout,
                       struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_SHUTDOWN,
                                  &(struct event_args){ .reboot = reboot, .timeout = timeout }, e);
}

int lifecycle_destroy(struct manager *m, struct domain *d, struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_DESTROY, &(struct event_args){}, e);
}

int lifecycle_pause(struct manager *m, struct domain *d, struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_PAUSE, &(struct event_args){}, e);
}

int lifecycle_unpause(struct manager *m, struct domain *d, struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_UNPAUSE, &(struct event_args){}, e);
}

int lifecycle_set_memory(struct manager *m, struct domain *d, uint64_t kib, struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_SET_MEMORY, &(struct event_args){ .kib = kib }, e);
}

int lifecycle_set_max_memory(struct manager *m, struct domain *d, uint64_t kib, struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_SET_MAX_MEMORY, &(struct event_args){ .kib = kib },
                                  e);
}

int lifecycle_pin_vcpu(struct manager *m, struct domain *d, const struct vcpu_pin *pin,
                       struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_PIN_VCPU, &(struct event_args){ .pin = pin }, e);
}

int lifecycle_set_vcpus(struct manager *m, struct domain *d, unsigned n, struct sup_error *e)
{
        return lifecycle_dispatch(m, d, EVENT_SET_VCPUS, &(struct event_args){ .vcpus = n }, e);
}

static int on_fail(struct manager *m, struct domain *d, const struct event_args *a,
                   struct sup_error *e)
{
        (void)e;
        domain_fail(m, d, a->why);
        return 0;
}

int lifecycle_save(struct manager *m, struct domain *d, const struct save_job_spec *spec,
                   domain_started_fn done, void *userdata, struct sup_error *e)
{
        return lifecycle_dispatch(
            m, d, EVENT_SAVE,
            &(struct event_args){ .save = spec, .done = done, .userdata = userdata }, e);
}

int lifecycle_cancel_save(struct manager *m, struct domain *d, struct sup_error *e)
{
        /* A migration whose save is done may still wait for its incoming instance. */
        if (d->state == DOMAIN_MIGRATING) {
                migrate_fail(m, d, -ECANCELED, "cancelled");
                return 0;
        }
        if (!save_job_running(d))
                return sup_outcome(e, OUTCOME_INVALID_STATE, "domain %s is %s: no save to cancel",
                                   d->name, domain_state_to_string(d->state));
        save_job_cancel(d, "cancelled");
        return 0;
}

int lifecycle_migrate(struct manager *m, struct domain *d, const struct save_job_spec *spec,
                      domain_started_fn done, void *userdata, struct sup_error *e)
{
        return lifecycle_dispatch(
            m, d, EVENT_MIGRATE,
            &(struct event_args){ .save = spec, .done = done, .userdata = userdata }, e);
}

void lifecycle_fail(struct manager *m, struct domain *d, const char *why)
{
        (void)lifecycle_dispatch(m, d, EVENT_FAIL, &(struct event_args){ .why = why }, NULL);
}

int lifecycle_restore(struct manager *m, struct domain *d, const struct restore_source *src,
                      domain_started_fn done, void *userdata, struct sup_error *e)
{
        return lifecycle_dispatch(
            m, d, EVENT_RESTORE,
            &(struct event_args){ .restore = src, .done = done, .userdata = userdata }, e);
}

void lifecycle_adopt(struct manager *m, struct domain *d, const struct builder_domain_info *info,
                     const struct layout_tool_state *record)
{
        (void)lifecycle_dispatch(m, d, EVENT_ADOPT,
                                 &(struct event_args){ .info = info, .record = record }, NULL);
}

void lifecycle_on_built(void *owner, const struct domain_config *cfg,
                        const struct build_result *res, void *userdata)
{
        struct domain *d = owner;
        struct manager *m = userdata;

        (void)lifecycle_dispatch(m, d, EVENT_BUILT,
                                 &(struct event_args){ .cfg = cfg, .result = res }, NULL);
}

void lifecycle_forget_build(struct domain *d)
{
        notify_started(d, -ECANCELED,
                       &(struct sup_error){ .message = "the daemon stopped before the domain "
                                                       "was built" });
}
