/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/error.h"
#include "common/fs.h"
#include "supervisor/bus.h"
#include "supervisor/configs.h"
#include "supervisor/device-job.h"
#include "supervisor/host.h"
#include "supervisor/save-job.h"
#include "supervisor/domain-table.h"
#include "supervisor/lifecycle.h"
#include "supervisor/log.h"
#include "supervisor/manager.h"
#include "supervisor/polkit.h"
#include "supervisor/reconcile.h"
#include "supervisor/watch.h"

#define EXIT_STOP_TIMEOUT_USEC (120ULL * 1000000ULL)

static void manager_freep(struct manager **m)
{
        manager_free(*m);
}

static int manager_on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;

        (void)s;
        (void)usec;
        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &m->status_sent_usec);
        manager_send_status(m);
        return 0;
}

static int manager_on_gc(sd_event_source *s, void *userdata)
{
        struct manager *m = userdata;
        size_t kept = 0;

        (void)s;
        for (size_t i = 0; i < m->n_domains; i++) {
                if (m->domains[i]->removed)
                        domain_free(m->domains[i]);
                else
                        m->domains[kept++] = m->domains[i];
        }
        m->n_domains = kept;
        return 0;
}

static bool manager_any_active(const struct manager *m)
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (!m->domains[i]->removed && domain_is_active(m->domains[i]) &&
                    m->domains[i]->origin != ORIGIN_KEPT)
                        return true;
        return false;
}

/* Whether a save runs: a stopping daemon lets it end, or its guest would stay suspended. */
static bool manager_any_saving(const struct manager *m)
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (save_job_running(m->domains[i]))
                        return true;
        return false;
}

void manager_check_exit(struct manager *m)
{
        if (!m->exiting || build_queue_running(m->builds) > 0 || manager_any_saving(m))
                return;
        if (m->opts.stop_domains && manager_any_active(m))
                return;
        sd_event_exit(m->event, 0);
}

/* The watch handler: one scan serves every event that was pending. */
/* A device's backend or frontend state changed (domain-devices.c watches them). */
static void manager_on_device_state(void *userdata, const char *path)
{
        domain_devices_on_path(userdata, path);
}

static int manager_scan(void *userdata)
{
        struct manager *m = userdata;
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0, n_domains = m->n_domains;
        int r;

        r = manager_list(m, &infos, &n);
        if (r < 0)
                return 0; /* logged; the next event retries */
        /* Domains added meanwhile (rename-restart) were not in this list: stop at the old end. */
        for (size_t i = 0; i < n_domains && i < m->n_domains; i++) {
                struct domain *d = m->domains[i];

                if (!d->removed && domain_is_active(d))
                        lifecycle_observe(m, d, manager_find_info(infos, n, d->domid));
        }
        manager_check_exit(m);
        return 0;
}

/* ---- loop and signals ---- */

/* A build ended: the state machine takes it; a stopping daemon may now be done. */
static void manager_on_built(void *owner, const struct domain_config *cfg,
                             const struct build_result *res, void *userdata)
{
        struct manager *m = userdata;

        lifecycle_on_built(owner, cfg, res, m);
        manager_check_exit(m);
}

static int manager_on_exit_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;

        (void)s;
        (void)usec;
        log_event(LOG_WARNING, LOG_MID_DAEMON_STOPPING,
                  "domains or builds did not finish in time; exiting and leaving them");
        return sd_event_exit(m->event, 0);
}

static int manager_on_exit_check(sd_event_source *s, void *userdata)
{
        (void)s;
        manager_check_exit(userdata);
        return 0;
}

static int manager_on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;

        (void)s;
        (void)si;
        sd_notify(false, "STOPPING=1");
        if (m->exiting)
                return 0;
        m->exiting = true;
        /*
         * Builds not begun are dropped (their markers make the next daemon do them); the ones
         * running finish, so that no half-built domain is left behind.
         */
        for (size_t i = 0; i < m->n_domains; i++) {
                struct domain *d = m->domains[i];

                if (d->state == DOMAIN_STARTING && build_queue_cancel(m->builds, d) == 0)
                        lifecycle_forget_build(d);
        }
        if (m->opts.stop_domains && manager_any_active(m)) {
                log_event(LOG_INFO, LOG_MID_DAEMON_STOPPING,
                          "stopping: shutting the running domains down");
                for (size_t i = 0; i < m->n_domains; i++) {
                        struct domain *d = m->domains[i];

                        if (!d->removed && d->origin != ORIGIN_KEPT &&
                            (d->state == DOMAIN_RUNNING || d->state == DOMAIN_PAUSED))
                                lifecycle_shutdown(m, d, false, 0, NULL);
                }
        } else if (build_queue_running(m->builds) > 0) {
                log_event(LOG_INFO, LOG_MID_DAEMON_STOPPING,
                          "stopping once the builds in progress (%u) have finished",
                          build_queue_running(m->builds));
        } else {
                log_event(LOG_INFO, LOG_MID_DAEMON_STOPPING, "stopping; the domains run on");
        }
        manager_check_exit(m);
        /* A save's end (a child's exit) may be the last thing waited for: looked at after each. */
        if (!m->exit_check)
                (void)sd_event_add_post(m->event, &m->exit_check, manager_on_exit_check, m);
        return sd_event_add_time_relative(m->event, &m->exit_timer, CLOCK_MONOTONIC,
                                          EXIT_STOP_TIMEOUT_USEC, 0, manager_on_exit_timeout, m);
}

static int manager_on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct timespec ts;

        (void)s;
        (void)si;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu",
                   (unsigned long long)ts.tv_sec * 1000000ULL +
                       (unsigned long long)ts.tv_nsec / 1000);
        if (manager_reload(m, &e) != 0)
                log_msg(LOG_ERR, "reload failed: %s", e.message ? e.message : "");
        sd_notify(false, "READY=1");
        manager_update_status(m);
        return 0;
}

static int manager_hook_signals(struct manager *m)
{
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD); /* sd_event_add_child() needs it blocked (core dumps) */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, manager_on_term, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, manager_on_term, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, manager_on_hup, m);
        return r;
}

/* Point libxenstore at the simulator's server unless the caller already chose one. */
static int manager_setup_sim_env(const struct manager_options *o)
{
        _cleanup_free_ char *path = NULL;

        if (o->hypervisor != BUILDER_SIM || getenv("XENSTORED_PATH"))
                return 0;
        if (asprintf(&path, "%s/xenstored.socket", o->sim_dir) < 0)
                return -ENOMEM;
        return setenv("XENSTORED_PATH", path, 1) < 0 ? -errno : 0;
}

/*
 * The state dir: --state-dir, else the simulated host's own (SIM_DIR/state: it lives and dies
 * with that host, as /var/lib/xensup does with a real one), else /var/lib/xensup.
 */
static int manager_setup_state_dir(struct manager *m, const struct manager_options *o, char **err_r)
{
        int r;

        if (o->state_dir)
                r = (m->state_dir = strdup(o->state_dir)) ? 0 : -ENOMEM;
        else if (o->hypervisor == BUILDER_SIM)
                r = asprintf(&m->state_dir, "%s/state", o->sim_dir) < 0 ? -ENOMEM : 0;
        else
                r = (m->state_dir = strdup("/var/lib/xensup")) ? 0 : -ENOMEM;
        /* The host's saves: /var/lib/xensup/save by default, as xendomains' /var/lib/xen/save. */
        if (r >= 0 && o->save_dir)
                r = (m->save_dir = strdup(o->save_dir)) ? 0 : -ENOMEM;
        else if (r >= 0)
                r = asprintf(&m->save_dir, "%s/save", m->state_dir) < 0 ? -ENOMEM : 0;
        if (r < 0)
                return err_setf(err_r, r, "out of memory");
        return 0;
}

/* What the build children need beyond the backend: device waits, the bridge, the lock. */
static int manager_configure_builds(struct manager *m, const struct manager_options *opts,
                                    char **err_r)
{
        int r;

        m->device_timeout_ms =
            opts->device_timeout ? opts->device_timeout * 1000 : ATTACH_TIMEOUT_MS_DEFAULT;
        m->save_ack_timeout_ms = opts->save_timeout * 1000;
        snprintf(m->default_bridge, sizeof(m->default_bridge), "%s",
                 opts->bridge ? opts->bridge : "xenbr0");
        r = build_queue_set_devices(m->builds, m->device_timeout_ms, m->default_bridge);
        if (r < 0)
                return err_setf(err_r, r, "--bridge: '%s' is not an interface name", opts->bridge);
        /* In the state dir: children of one daemon, and of a daemon restarted, share it. */
        if (asprintf(&m->xs_lock_path, "%s/xenstore.lock", m->state_dir) < 0 ||
            build_queue_set_lock(m->builds, m->xs_lock_path) < 0 ||
            build_queue_set_kernel_cache(m->builds, opts->kernel_cache_bytes) < 0)
                return err_setf(err_r, -ENOMEM, "out of memory");
        return 0;
}

int manager_new(const struct manager_options *opts, struct manager **ret, char **err_r)
{
        _cleanup_(manager_freep) struct manager *m = NULL;
        struct builder_options bo = { .kind = opts->hypervisor, .sim_dir = opts->sim_dir };
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return err_setf(err_r, -ENOMEM, "out of memory");
        m->opts = *opts;
        r = manager_table_init(m);
        if (r < 0)
                return err_setf(err_r, r, "out of memory");
        r = manager_setup_state_dir(m, opts, err_r);
        if (r < 0)
                return r;
        m->config_dir = realpath(opts->config_dir, NULL);
        if (!m->config_dir) {
                r = -errno;
                return err_setf(err_r, r, "config directory %s: %s", opts->config_dir,
                                strerror(-r));
        }
        /* readlink, not exec of /proc/self/exe: under valgrind that is the tool, not us. */
        m->self_path = realpath("/proc/self/exe", NULL);
        if (!m->self_path)
                return err_setf(err_r, -errno, "cannot find our own binary: %s", strerror(errno));
        r = sd_event_default(&m->event);
        if (r < 0)
                return err_setf(err_r, r, "cannot create the event loop: %s", strerror(-r));
        r = manager_hook_signals(m);
        if (r >= 0)
                r = sd_event_set_watchdog(m->event, true);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &m->gc_event, manager_on_gc, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->gc_event, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(m->event, &m->status_event, CLOCK_MONOTONIC, 0, 10 * 1000,
                                      manager_on_status, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->status_event, SD_EVENT_OFF);
        if (r < 0)
                return err_setf(err_r, r, "cannot set up the event loop: %s", strerror(-r));

        r = manager_setup_sim_env(opts);
        if (r < 0)
                return err_setf(err_r, r, "cannot set XENSTORED_PATH: %s", strerror(-r));
        r = builder_open(&bo, &m->builder, err_r);
        if (r < 0)
                return r;
        r = layout_open(&m->layout, err_r);
        if (r < 0)
                return r;
        /* After the backend: the simulated host creates its own directory, where ours may be. */
        r = mkdir_p(m->state_dir, 0700);
        if (r < 0)
                return err_setf(err_r, r, "state directory %s: %s", m->state_dir, strerror(-r));
        /* Watches before the first list scan, so no death between the two is missed. */
        r = watch_new(m->event, manager_scan, m, &m->watch, err_r);
        if (r < 0)
                return r;
        watch_set_path_handler(m->watch, manager_on_device_state);
        r = build_queue_new(m->event, &bo,
                            opts->build_jobs ? opts->build_jobs : build_queue_default_jobs(),
                            manager_on_built, m, &m->builds);
        if (r < 0)
                return err_setf(err_r, r, "out of memory");
        r = manager_configure_builds(m, opts, err_r);
        if (r < 0)
                return r;

        r = manager_load_configs(m, err_r);
        if (r < 0)
                return r;

        if (!opts->no_bus) {
                r = bus_open(m, err_r);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int manager_run(struct manager *m)
{
        int r;

        r = manager_reconcile(m);
        if (r < 0)
                return r;
        m->ready = true;
        sd_notify(false, "READY=1");
        manager_update_status(m);
        log_event(LOG_INFO, LOG_MID_DAEMON_STARTED, "supervising %zu domains on %s", m->n_domains,
                  builder_name(m->builder));
        return sd_event_loop(m->event);
}

struct manager *manager_free(struct manager *m)
{
        if (!m)
                return NULL;
        /* A migration in flight is undone while its incoming instance's child can be stopped. */
        for (size_t i = 0; i < m->n_domains; i++)
                if (m->domains[i]->state == DOMAIN_MIGRATING)
                        (void)lifecycle_cancel_save(m, m->domains[i], NULL);
        /* Builds die with us; their markers make the next daemon redo them. */
        m->builds = build_queue_free(m->builds);
        for (size_t i = 0; i < m->n_domains; i++)
                if (m->domains[i]->state == DOMAIN_STARTING ||
                    m->domains[i]->state == DOMAIN_RESTORING)
                        lifecycle_forget_build(m->domains[i]);
        /* So do device jobs: the records tell the next daemon what they left. */
        for (size_t i = 0; i < m->n_domains; i++)
                device_job_cancel(m->domains[i], "the daemon is stopping");
        /* A save cancelled resumes its guest on the loop's handles, before they close. */
        for (size_t i = 0; i < m->n_domains; i++)
                save_job_cancel(m->domains[i], "the daemon is stopping");
        host_free(m);
        /* Before the bus: its queries hold the calls and slots, which hold the bus. */
        m->polkit = polkit_registry_free(m->polkit);
        bus_close(m);
        for (size_t i = 0; i < m->n_domains; i++)
                domain_free(m->domains[i]);
        free(m->domains);
        manager_table_done(m);
        watch_free(m->watch);
        layout_close(m->layout);
        builder_close(m->builder);
        sd_event_source_disable_unref(m->gc_event);
        m->status_event = sd_event_source_disable_unref(m->status_event);
        sd_event_source_disable_unref(m->exit_timer);
        sd_event_source_disable_unref(m->exit_check);
        sd_event_unref(m->event);
        free(m->config_dir);
        free(m->state_dir);
        free(m->save_dir);
        free(m->xs_lock_path);
        free(m->self_path);
        free(m);
        return NULL;
}
