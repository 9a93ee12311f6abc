/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "common/error.h"
#include "supervisor/bus.h"
#include "supervisor/lifecycle.h"
#include "supervisor/log.h"
#include "supervisor/policy.h"

static void lifecycle_finish(struct manager *m, struct domain *d, enum domain_action a);

static uint64_t now_realtime(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec;
}

void lifecycle_set_state(struct manager *m, struct domain *d, enum domain_state s)
{
        if (d->state == s)
                return;
        d->state = s;
        bus_domain_changed(m, d);
        manager_update_status(m);
}

int lifecycle_save(struct manager *m, struct domain *d, bool building)
{
        struct layout_tool_state st = {
                .domid = d->has_domid ? d->domid : 0,
                .build_in_progress = building,
                .restart_count = d->restart_count,
                .n_restart_times = d->n_restart_times,
                .shutdown_requested = d->shutdown_requested,
                .shutdown_reboot = d->shutdown_reboot,
                .shutdown_deadline = d->shutdown_deadline,
                .failed = d->state == DOMAIN_FAILED,
                .last_reason = d->shutdown_reason,
        };
        const char *path = d->config ? d->config->path : NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        memcpy(st.restart_times, d->restart_times, sizeof(st.restart_times));
        /*
         * A file outside the config dir came through CreateDomain: kept so that a restarted
         * daemon supervises the domain again. The directory's own files it finds by itself.
         */
        if (path && !manager_in_config_dir(m, path) && strlen(path) < sizeof(st.config_path) &&
            !strchr(path, '\n'))
                strcpy(st.config_path, path);
        r = layout_state_write(m->layout, d->uuid, &st, &err);
        if (r < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, NULL,
                           "cannot record state in XenStore: %s", err ? err : strerror(-r));
        return r;
}

void lifecycle_restore(struct domain *d, const struct layout_tool_state *st)
{
        d->restart_count = st->restart_count;
        d->n_restart_times = st->n_restart_times < DOMAIN_RESTART_HISTORY ? st->n_restart_times
                                                                          : DOMAIN_RESTART_HISTORY;
        memcpy(d->restart_times, st->restart_times, d->n_restart_times * sizeof(uint64_t));
        d->shutdown_requested = st->shutdown_requested;
        d->shutdown_reboot = st->shutdown_reboot;
        d->shutdown_deadline = st->shutdown_deadline;
        d->shutdown_reason = st->last_reason;
}

/* Pick up edits of the domain's file: a restart re-reads its config. */
static void lifecycle_reread_config(struct domain *d)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config *fresh = NULL;

        if (d->unsupervised || !d->config->path)
                return;
        if (config_load_file(d->config->path, &fresh, &err) < 0) {
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG, NULL,
                           "config no longer valid, starting with the last good one:\n%s",
                           err ? err : "");
                return;
        }
        if (strcmp(fresh->name, d->name) != 0) {
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG, NULL,
                           "%s now names domain '%s'; reload to supervise it, starting the last "
                           "good config",
                           d->config->path, fresh->name);
                config_free(fresh);
                return;
        }
        config_free(d->config);
        d->config = fresh;
}

/* Forget the domain's hypervisor instance: destroy it, remove its nodes. */
static void lifecycle_teardown(struct manager *m, struct domain *d, bool keep_vm)
{
        _cleanup_free_ char *err = NULL;
        int r;

        d->shutdown_timer = sd_event_source_disable_unref(d->shutdown_timer);
        d->shutdown_requested = false;
        d->shutdown_reboot = false;
        if (!d->has_domid)
                return;
        r = builder_destroy(m->builder, d->domid, &err);
        if (r < 0 && r != -ESRCH)
                log_domain(LOG_ERR, d, LOG_MID_DOMAIN_ACTION, "destroy", "destroy failed: %s",
                           err ? err : strerror(-r));
        free(TAKE_PTR(err));
        r = layout_remove_local(m->layout, d->domid, &err);
        if (r < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "destroy",
                           "cannot remove XenStore nodes: %s", err ? err : strerror(-r));
        free(TAKE_PTR(err));
        if (!keep_vm)
                layout_remove_vm(m->layout, d->uuid, NULL);
        d->has_domid = false;
        bus_domain_changed(m, d);
}

void lifecycle_discard(struct manager *m, struct domain *d)
{
        lifecycle_teardown(m, d, false);
}

static void lifecycle_fail(struct manager *m, struct domain *d, const char *why)
{
        free(d->failure);
        d->failure = strdup(why);
        lifecycle_set_state(m, d, DOMAIN_FAILED);
        lifecycle_save(m, d, false);
        log_domain(LOG_ERR, d, LOG_MID_DOMAIN_FAILED, NULL, "failed: %s", why);
}

/* Tell whoever waits for this start how it ended (once). */
static void lifecycle_notify_started(struct domain *d, int r, const char *why)
{
        domain_started_fn fn = d->on_started;
        void *userdata = d->on_started_userdata;

        d->on_started = NULL;
        d->on_started_userdata = NULL;
        if (fn)
                fn(d, r, why, userdata);
}

/* Begin a build: the config re-read, the marker saved, the image built in a child. */
static int lifecycle_build_begin(struct manager *m, struct domain *d, bool by_person, char **why_r)
{
        int r;

        d->restart_timer = sd_event_source_disable_unref(d->restart_timer);
        lifecycle_reread_config(d);
        d->building = true;
        d->build_by_person = by_person;
        lifecycle_set_state(m, d, DOMAIN_STARTING);
        /* The marker goes first: a daemon killed from here on destroys what it finds. */
        lifecycle_save(m, d, true);
        r = build_queue_add(m->builds, d, d->config);
        if (r < 0) {
                d->building = false;
                return err_setf(why_r, r, "start failed: cannot queue the build: %s", strerror(-r));
        }
        return 0;
}

/* Lay out, introduce and unpause what a child built; on failure nothing is left. */
static int lifecycle_build_finish(struct manager *m, struct domain *d,
                                  const struct domain_config *cfg, const struct builder_domain *bd,
                                  char **why_r)
{
        _cleanup_free_ char *err = NULL;
        struct layout_domain ld = {
                .cfg = cfg,
                .name = d->name,
                .domid = bd->domid,
                .store_port = bd->store_port,
                .store_mfn = bd->store_mfn,
                .console_port = bd->console_port,
                .console_mfn = bd->console_mfn,
        };
        int r;

        d->domid = bd->domid;
        d->has_domid = true;
        r = layout_write_domain(m->layout, &ld, &err);
        if (r >= 0)
                r = builder_introduce(m->builder, bd, &err);
        if (r >= 0)
                r = builder_unpause(m->builder, bd->domid, &err);
        if (r < 0) {
                lifecycle_teardown(m, d, false);
                return err_setf(why_r, r, "start failed: %s", err ? err : strerror(-r));
        }

        d->failure = (free(d->failure), NULL);
        d->memory_kib = cfg->memory_mib * 1024;
        d->vcpus = cfg->vcpus;
        d->started_at_usec = (uint64_t)time(NULL) * 1000000ULL;
        lifecycle_set_state(m, d, DOMAIN_RUNNING);
        lifecycle_save(m, d, false);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_STARTED, "start", "started as domid %u", d->domid);
        return 0;
}

static void lifecycle_restart(struct manager *m, struct domain *d, enum domain_action a);

/* A build ended (why is ours): it runs, a person's start fails, or the throttle retries. */
static void lifecycle_build_ended(struct manager *m, struct domain *d, int r, char *why)
{
        _cleanup_free_ char *message = why;

        d->building = false;
        if (r >= 0) {
                lifecycle_notify_started(d, 0, NULL);
                /* Started while the daemon stops its domains: this one too. */
                if (m->exiting && m->opts.stop_domains && !d->unsupervised)
                        lifecycle_request_shutdown(m, d, false, 0, NULL);
                return;
        }
        if (d->build_by_person || d->unsupervised) {
                _cleanup_free_ char *reply = NULL;

                lifecycle_fail(m, d, message ? message : "start failed");
                err_setf(&reply, r, "%s: %s", d->name, message ? message : "start failed");
                lifecycle_notify_started(d, r, reply);
                return;
        }
        /* Kept for the final message if the throttle gives up. */
        free(d->failure);
        d->failure = TAKE_PTR(message);
        log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "restart", "%s; trying again",
                   d->failure ? d->failure : "start failed");
        lifecycle_restart(m, d, ACTION_RESTART);
}

void lifecycle_on_built(void *owner, const struct domain_config *cfg,
                        const struct build_result *res, void *userdata)
{
        struct domain *d = owner;
        struct manager *m = userdata;
        char *why = NULL;
        int r = res->r;

        if (r >= 0) {
                r = lifecycle_build_finish(m, d, cfg, &res->domain, &why);
        } else {
                err_setf(&why, r, "start failed: %s", res->message);
                /* A build process that died mid-way may have left a paused, unfinished domain. */
                if (res->incomplete)
                        manager_destroy_unowned(m, d->uuid);
        }
        lifecycle_build_ended(m, d, r, why);
        manager_check_exit(m);
}

int lifecycle_start(struct manager *m, struct domain *d, domain_started_fn done, void *userdata,
                    char **err_r)
{
        _cleanup_free_ char *why = NULL;
        int r;

        if (d->has_domid)
                return err_setf(err_r, -EBUSY, "domain %s is already %s (domid %u)", d->name,
                                domain_state_to_string(d->state), d->domid);
        if (d->building)
                return err_setf(err_r, -EBUSY, "domain %s is already being built", d->name);
        if (m->exiting)
                return err_setf(err_r, -EBUSY, "the daemon is stopping; start %s after it",
                                d->name);
        /* Set first: a build that cannot even fork reports before build_begin returns. */
        d->on_started = done;
        d->on_started_userdata = userdata;
        r = lifecycle_build_begin(m, d, true, &why);
        if (r < 0) {
                d->on_started = NULL;
                d->on_started_userdata = NULL;
                lifecycle_fail(m, d, why ? why : "start failed");
                return err_setf(err_r, r, "%s: %s", d->name, why ? why : "start failed");
        }
        return 0;
}

void lifecycle_forget_build(struct domain *d)
{
        d->building = false;
        lifecycle_notify_started(d, -ECANCELED, "the daemon stopped before the domain was built");
}

/* A rename-restart keeps the dead instance, under a new name, as a domain of its own. */
static int lifecycle_keep_renamed(struct manager *m, struct domain *d)
{
        struct domain_config *cfg;
        struct domain *dead;
        char name[CONFIG_NAME_MAX + 1];
        char suffix[16];
        int r;

        snprintf(suffix, sizeof(suffix), "-%u", d->domid);
        snprintf(name, sizeof(name), "%.*s%s", (int)(CONFIG_NAME_MAX - strlen(suffix)), d->name,
                 suffix);
        cfg = config_dup(d->config);
        if (!cfg)
                return -ENOMEM;
        memcpy(cfg->name, name, sizeof(cfg->name));
        r = domain_new(m, cfg, &dead);
        if (r < 0) {
                config_free(cfg);
                return r;
        }
        dead->unsupervised = true;
        dead->domid = d->domid;
        dead->has_domid = true;
        dead->state = DOMAIN_PRESERVED;
        dead->shutdown_reason = d->shutdown_reason;
        r = manager_add_domain(m, dead);
        if (r < 0) {
                domain_free(dead);
                return r;
        }
        layout_rename(m->layout, d->domid, d->uuid, name, NULL);
        d->has_domid = false;
        log_domain(LOG_INFO, dead, LOG_MID_DOMAIN_ACTION, "rename-restart", "kept as %s", name);
        return 0;
}

void lifecycle_autostart(struct manager *m, struct domain *d)
{
        char *why = NULL;
        int r;

        /* A stopping daemon begins no build; the marker makes the next one do it. */
        if (d->has_domid || d->building || m->exiting)
                return;
        r = lifecycle_build_begin(m, d, false, &why);
        if (r < 0)
                lifecycle_build_ended(m, d, r, why);
}

static int lifecycle_on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct domain *d = userdata;

        (void)s;
        (void)usec;
        d->restart_timer = sd_event_source_disable_unref(d->restart_timer);
        lifecycle_autostart(d->manager, d);
        return 0;
}

static void lifecycle_restart(struct manager *m, struct domain *d, enum domain_action a)
{
        const struct domain_config *c = d->config;
        unsigned burst = c->restart.burst; /* config caps it at DOMAIN_RESTART_HISTORY */
        uint64_t now = now_realtime();
        unsigned delay;

        if (!policy_restart_allowed(d->restart_times, d->n_restart_times, burst,
                                    c->restart.interval, now)) {
                _cleanup_free_ char *why = NULL;

                lifecycle_teardown(m, d, false);
                if (asprintf(&why,
                             "%s%srestarted %u times within %u s (restart burst); not restarting "
                             "until started by hand",
                             d->failure ? d->failure : "", d->failure ? "; " : "", burst,
                             c->restart.interval) < 0)
                        why = NULL;
                lifecycle_fail(m, d, why ? why : "restart throttled");
                return;
        }
        delay =
            policy_restart_delay(d->restart_times, d->n_restart_times, c->restart.interval, now);
        policy_record_restart(d->restart_times, &d->n_restart_times, DOMAIN_RESTART_HISTORY, now);
        d->restart_count++;
        /* Marked first: a daemon killed between teardown and build finishes the restart. */
        lifecycle_save(m, d, true);
        if (a == ACTION_RENAME_RESTART && lifecycle_keep_renamed(m, d) < 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "rename-restart",
                           "cannot keep the old instance; destroying it");
        lifecycle_teardown(m, d, true);
        if (delay == 0 ||
            sd_event_add_time_relative(m->event, &d->restart_timer, CLOCK_MONOTONIC,
                                       delay * 1000000ULL, 0, lifecycle_on_restart_timer, d) < 0) {
                lifecycle_autostart(m, d);
                return;
        }
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "restart",
                   "restarting in %u s (restart %u within %u s)", delay, d->n_restart_times,
                   c->restart.interval);
}

static int lifecycle_on_dump_done(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct domain *d = userdata;

        (void)s;
        d->dump_child = sd_event_source_disable_unref(d->dump_child);
        if (si->si_code != CLD_EXITED || si->si_status != 0)
                log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION, "coredump",
                           "core dump failed (see the messages above)");
        lifecycle_finish(d->manager, d, d->pending_action);
        return 0;
}

/* Dump the core in a child (it can take long), then finish the action. */
static int lifecycle_dump_core(struct manager *m, struct domain *d, enum domain_action a)
{
        char domid[16], path[PATH_MAX];
        pid_t pid;
        int r;

        if (mkdir(d->config->coredump_dir, 0700) < 0 && errno != EEXIST) {
                r = -errno;
                return log_errno(LOG_ERR, r, "cannot create %s: %s", d->config->coredump_dir,
                                 strerror(-r));
        }
        snprintf(domid, sizeof(domid), "%u", d->domid);
        snprintf(path, sizeof(path), "%s/%s-%u-%llu.core", d->config->coredump_dir, d->name,
                 d->domid, (unsigned long long)now_realtime());
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;

                /* A fresh process image: no threads, handles or blocked signals of the daemon's. */
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execl(m->self_path, "xensupd", "--dump-core", domid, path,
                      m->opts.hypervisor == BUILDER_XEN ? "--hypervisor=xen" : "--hypervisor=sim",
                      "--sim-dir", m->opts.sim_dir, NULL);
                _exit(127);
        }
        r = sd_event_add_child(m->event, &d->dump_child, pid, WEXITED, lifecycle_on_dump_done, d);
        if (r < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return log_errno(LOG_ERR, r, "cannot watch the core dump process: %s",
                                 strerror(-r));
        }
        d->pending_action = a;
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "coredump", "dumping core to %s", path);
        return 0;
}

/* Apply the action once any core dump is done. */
static void lifecycle_finish(struct manager *m, struct domain *d, enum domain_action a)
{
        switch (a) {
        case ACTION_PRESERVE:
                d->shutdown_timer = sd_event_source_disable_unref(d->shutdown_timer);
                d->shutdown_requested = false;
                lifecycle_set_state(m, d, DOMAIN_PRESERVED);
                lifecycle_save(m, d, false);
                break;
        case ACTION_DESTROY:
        case ACTION_COREDUMP_DESTROY:
                lifecycle_teardown(m, d, false);
                lifecycle_set_state(m, d, DOMAIN_STOPPED);
                lifecycle_save(m, d, false);
                if (d->unsupervised)
                        manager_remove_domain(m, d);
                break;
        default:
                if (d->unsupervised) {
                        lifecycle_finish(m, d, ACTION_DESTROY);
                        break;
                }
                lifecycle_restart(m, d, a);
                break;
        }
}

static void lifecycle_on_death(struct manager *m, struct domain *d, enum shutdown_reason why)
{
        enum domain_action a;

        d->shutdown_reason = why;
        a = policy_action_for(d->config, why, d->shutdown_requested, d->shutdown_reboot);
        lifecycle_set_state(m, d, why == SHUTDOWN_REASON_CRASH ? DOMAIN_CRASHED : DOMAIN_SHUTDOWN);
        log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_STOPPED, domain_action_to_string(a),
                   "domid %u stopped (%s); action %s", d->domid, shutdown_reason_to_string(why),
                   domain_action_to_string(a));
        if (policy_action_dumps_core(a) && lifecycle_dump_core(m, d, a) >= 0)
                return;
        lifecycle_finish(m, d, a);
}

void lifecycle_observe(struct manager *m, struct domain *d, const struct builder_domain_info *info)
{
        if (!d->has_domid || d->dump_child)
                return;
        if (!info) {
                /* Destroyed behind our back (xl destroy): nothing to apply, only to clean. */
                log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_STOPPED, NULL, "domid %u is gone",
                           d->domid);
                layout_remove_local(m->layout, d->domid, NULL);
                d->has_domid = false;
                d->shutdown_timer = sd_event_source_disable_unref(d->shutdown_timer);
                d->shutdown_requested = false;
                lifecycle_set_state(m, d, DOMAIN_STOPPED);
                lifecycle_save(m, d, false);
                if (d->unsupervised)
                        manager_remove_domain(m, d);
                return;
        }
        if (info->dying) {
                lifecycle_set_state(m, d, DOMAIN_DYING);
                return;
        }
        if (info->shutdown) {
                if (d->state != DOMAIN_PRESERVED && !d->unsupervised)
                        lifecycle_on_death(m, d, info->reason);
                return;
        }
        if (d->state == DOMAIN_RUNNING && info->paused)
                lifecycle_set_state(m, d, DOMAIN_PAUSED);
        else if (d->state == DOMAIN_PAUSED && !info->paused)
                lifecycle_set_state(m, d, DOMAIN_RUNNING);
}

/* A build that has not begun is dropped; one whose child runs must finish first. */
static int lifecycle_cancel_build(struct manager *m, struct domain *d, char **err_r)
{
        if (build_queue_cancel(m->builds, d) < 0)
                return err_setf(err_r, -EBUSY,
                                "domain %s is being built; destroy it once it is running", d->name);
        d->building = false;
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "destroy",
                   "destroyed while waiting for its build");
        lifecycle_set_state(m, d, DOMAIN_STOPPED);
        lifecycle_save(m, d, false);
        lifecycle_notify_started(d, -ECANCELED, "destroyed before its build began");
        return 0;
}

int lifecycle_destroy(struct manager *m, struct domain *d, char **err_r)
{
        if (d->building)
                return lifecycle_cancel_build(m, d, err_r);
        if (d->restart_timer) {
                /* Between a death and its delayed restart: cancelling is all there is to do. */
                d->restart_timer = sd_event_source_disable_unref(d->restart_timer);
                lifecycle_set_state(m, d, DOMAIN_STOPPED);
                lifecycle_save(m, d, false);
                return 0;
        }
        if (!d->has_domid)
                return err_setf(err_r, -EBUSY, "domain %s is not running", d->name);
        if (d->dump_child)
                return err_setf(err_r, -EBUSY, "domain %s is dumping its core", d->name);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, "destroy", "destroying domid %u", d->domid);
        lifecycle_finish(m, d, ACTION_DESTROY);
        return 0;
}

static int lifecycle_on_shutdown_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct domain *d = userdata;
        struct manager *m = d->manager;

        (void)s;
        (void)usec;
        d->shutdown_timer = sd_event_source_disable_unref(d->shutdown_timer);
        if (!d->has_domid || !d->shutdown_requested)
                return 0;
        log_domain(LOG_WARNING, d, LOG_MID_DOMAIN_ACTION,
                   d->shutdown_reboot ? "restart" : "destroy", "did not shut down in time; %s",
                   d->shutdown_reboot ? "restarting" : "destroying");
        lifecycle_finish(m, d, d->shutdown_reboot ? ACTION_RESTART : ACTION_DESTROY);
        return 0;
}

int lifecycle_arm_shutdown_timer(struct manager *m, struct domain *d)
{
        uint64_t now = now_realtime();
        uint64_t left = d->shutdown_deadline > now ? d->shutdown_deadline - now : 0;

        d->shutdown_timer = sd_event_source_disable_unref(d->shutdown_timer);
        return sd_event_add_time_relative(m->event, &d->shutdown_timer, CLOCK_MONOTONIC,
                                          left * 1000000ULL, 0, lifecycle_on_shutdown_timeout, d);
}

int lifecycle_request_shutdown(struct manager *m, struct domain *d, bool reboot, unsigned timeout,
                               char **err_r)
{
        int r;

        if (d->state != DOMAIN_RUNNING && d->state != DOMAIN_PAUSED &&
            d->state != DOMAIN_SHUTTING_DOWN)
                return err_setf(err_r, -EBUSY, "domain %s is %s, not running", d->name,
                                domain_state_to_string(d->state));
        r = layout_request_shutdown(m->layout, d->domid, reboot ? "reboot" : "poweroff", err_r);
        if (r < 0)
                return r;
        d->shutdown_requested = true;
        d->shutdown_reboot = reboot;
        d->shutdown_deadline = now_realtime() + (timeout ? timeout : d->config->shutdown_timeout);
        r = lifecycle_arm_shutdown_timer(m, d);
        if (r < 0)
                return err_setf(err_r, r, "cannot arm the shutdown timer: %s", strerror(-r));
        lifecycle_set_state(m, d, DOMAIN_SHUTTING_DOWN);
        lifecycle_save(m, d, false);
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ACTION, reboot ? "reboot" : "shutdown",
                   "asked to %s within %llu s", reboot ? "reboot" : "power off",
                   (unsigned long long)(d->shutdown_deadline - now_realtime()));
        return 0;
}
