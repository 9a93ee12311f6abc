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
#include "supervisor/bus.h"
#include "supervisor/lifecycle.h"
#include "supervisor/log.h"
#include "supervisor/manager.h"
#include "supervisor/watch.h"

#define EXIT_STOP_TIMEOUT_USEC (120ULL * 1000000ULL)

static void manager_freep(struct manager **m)
{
        manager_free(*m);
}

static bool domain_visible(const struct domain *d)
{
        return !d->removed;
}

struct domain *manager_find_domain(struct manager *m, const char *name_or_uuid)
{
        for (size_t i = 0; i < m->n_domains; i++) {
                struct domain *d = m->domains[i];

                if (!domain_visible(d))
                        continue;
                if (strcmp(d->name, name_or_uuid) == 0 ||
                    strcasecmp(d->uuid_string, name_or_uuid) == 0)
                        return d;
        }
        return NULL;
}

size_t manager_count_state(const struct manager *m, enum domain_state s)
{
        size_t n = 0;

        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]) && m->domains[i]->state == s)
                        n++;
        return n;
}

void manager_update_status(struct manager *m)
{
        char status[256];
        size_t off = 0;
        static const enum domain_state shown[] = { DOMAIN_RUNNING, DOMAIN_PAUSED, DOMAIN_STOPPED,
                                                   DOMAIN_PRESERVED, DOMAIN_FAILED };

        for (size_t i = 0; i < ELEMENTSOF(shown) && off < sizeof(status); i++) {
                size_t n = manager_count_state(m, shown[i]);

                if (n == 0 && shown[i] != DOMAIN_RUNNING)
                        continue;
                off += (size_t)snprintf(status + off, sizeof(status) - off, "%s%zu %s",
                                        off ? ", " : "", n, domain_state_to_string(shown[i]));
        }
        sd_notifyf(false, "STATUS=%s", status);
}

int manager_add_domain(struct manager *m, struct domain *d)
{
        struct domain **grown;

        grown = reallocarray(m->domains, m->n_domains + 1, sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        m->domains = grown;
        m->domains[m->n_domains++] = d;
        bus_domain_added(m, d);
        manager_update_status(m);
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

void manager_remove_domain(struct manager *m, struct domain *d)
{
        if (d->removed)
                return;
        d->removed = true;
        bus_domain_removed(m, d);
        sd_event_source_set_enabled(m->gc_event, SD_EVENT_ONESHOT);
        manager_update_status(m);
}

/* Add a config to supervision as a new stopped domain. */
static int manager_add_config(struct manager *m, struct domain_config *cfg, struct domain **ret)
{
        struct domain *d;
        int r;

        r = domain_new(m, cfg, &d);
        if (r < 0)
                return r;
        r = manager_add_domain(m, d);
        if (r < 0) {
                d->config = NULL; /* the caller still owns cfg */
                domain_free(d);
                return r;
        }
        if (ret)
                *ret = d;
        return 0;
}

static int compare_info_domid(const void *a, const void *b)
{
        const struct builder_domain_info *x = a, *y = b;

        return x->domid < y->domid ? -1 : x->domid > y->domid;
}

static const struct builder_domain_info *find_info(const struct builder_domain_info *infos,
                                                   size_t n, uint32_t domid)
{
        struct builder_domain_info key = { .domid = domid };

        return bsearch(&key, infos, n, sizeof(*infos), compare_info_domid);
}

/* One list of the hypervisor's domains, sorted by domid; caller frees. */
static int manager_list(struct manager *m, struct builder_domain_info **infos_r, size_t *n_r)
{
        _cleanup_free_ char *err = NULL;
        int r;

        r = builder_list(m->builder, infos_r, n_r, &err);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cannot list domains: %s", err ? err : strerror(-r));
        m->n_scans++;
        qsort(*infos_r, *n_r, sizeof(**infos_r), compare_info_domid);
        return 0;
}

static bool manager_any_active(const struct manager *m)
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]) && domain_is_active(m->domains[i]) &&
                    !m->domains[i]->unsupervised)
                        return true;
        return false;
}

void manager_check_exit(struct manager *m)
{
        if (!m->exiting || build_queue_running(m->builds) > 0)
                return;
        if (m->opts.stop_domains && manager_any_active(m))
                return;
        sd_event_exit(m->event, 0);
}

/* The watch handler: one scan serves every event that was pending. */
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

                if (domain_visible(d) && domain_is_active(d))
                        lifecycle_observe(m, d, find_info(infos, n, d->domid));
        }
        manager_check_exit(m);
        return 0;
}

/* ---- start-up reconciliation ---- */

static const struct builder_domain_info *
find_info_by_handle(const struct builder_domain_info *infos, size_t n, const uint8_t uuid[16],
                    uint32_t prefer_domid)
{
        const struct builder_domain_info *found = NULL;

        for (size_t i = 0; i < n; i++) {
                if (infos[i].domid == 0 || infos[i].dying || memcmp(infos[i].handle, uuid, 16) != 0)
                        continue;
                if (infos[i].domid == prefer_domid)
                        return &infos[i];
                /* A live instance wins over a dead one kept by rename-restart. */
                if (!found || (found->shutdown && !infos[i].shutdown))
                        found = &infos[i];
        }
        return found;
}

/* Adopt the running instance of a configured domain, or clean up a half-built one. */
static void manager_reconcile_domain(struct manager *m, struct domain *d,
                                     const struct builder_domain_info *infos, size_t n)
{
        struct layout_tool_state st = { .last_reason = SHUTDOWN_REASON_NONE };
        const struct builder_domain_info *info;
        bool have_state;

        have_state = layout_state_read(m->layout, d->uuid, &st, NULL) >= 0;
        if (have_state) {
                lifecycle_restore(d, &st);
                if (st.failed) {
                        d->state = DOMAIN_FAILED;
                        d->failure = strdup("throttled before the daemon restarted; start it by "
                                            "hand");
                }
        }
        info = find_info_by_handle(infos, n, d->uuid, have_state ? st.domid : 0);
        if (have_state && st.build_in_progress) {
                /* Killed mid-build or mid-restart: whatever exists is unfinished; build anew. */
                if (info) {
                        log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_CLEANED, "destroy",
                                   "domid %u was left half-built; destroying it", info->domid);
                        d->domid = info->domid;
                        d->has_domid = true;
                        lifecycle_discard(m, d);
                } else if (st.domid) {
                        layout_remove_local(m->layout, st.domid, NULL);
                }
                lifecycle_autostart(m, d);
                return;
        }
        if (!info) {
                if (have_state && st.domid)
                        layout_remove_local(m->layout, st.domid, NULL);
                /*
                 * Autostart is for a host that just booted: xenstored starts empty, so no
                 * record. A record means this daemon ran here before and the domain was
                 * stopped on purpose (its action, or a person), so it stays stopped.
                 */
                if (!have_state && d->config->autostart && !d->unsupervised)
                        lifecycle_autostart(m, d);
                return;
        }
        d->domid = info->domid;
        d->has_domid = true;
        d->state = info->paused ? DOMAIN_PAUSED : DOMAIN_RUNNING;
        if (d->shutdown_requested && !info->shutdown) {
                d->state = DOMAIN_SHUTTING_DOWN;
                lifecycle_arm_shutdown_timer(m, d);
        }
        d->memory_kib = info->mem_kib ? info->mem_kib : d->memory_kib;
        log_domain(LOG_INFO, d, LOG_MID_DOMAIN_ADOPTED, "adopt", "adopted domid %u", info->domid);
        bus_domain_changed(m, d);
        /* A domain that died while we were away gets its action now. */
        lifecycle_observe(m, d, info);
}

static bool domid_is_ours(const struct manager *m, uint32_t domid)
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]) && m->domains[i]->has_domid &&
                    m->domains[i]->domid == domid)
                        return true;
        return false;
}

void manager_destroy_unowned(struct manager *m, const uint8_t uuid[16])
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0;

        if (manager_list(m, &infos, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                char s[37];

                if (infos[i].domid == 0 || memcmp(infos[i].handle, uuid, 16) != 0 ||
                    domid_is_ours(m, infos[i].domid))
                        continue;
                log_msg(LOG_NOTICE, "destroying domid %u (uuid %s), left by a failed build",
                        infos[i].domid, config_uuid_to_string(uuid, s));
                builder_destroy(m->builder, infos[i].domid, NULL);
        }
}

/* Remove /local/domain entries of domains that no longer exist. */
static void manager_remove_stale_nodes(struct manager *m, const struct builder_domain_info *infos,
                                       size_t n)
{
        _cleanup_free_ uint32_t *domids = NULL;
        size_t n_domids = 0;

        if (layout_list_local(m->layout, &domids, &n_domids, NULL) < 0)
                return;
        for (size_t i = 0; i < n_domids; i++) {
                if (find_info(infos, n, domids[i]))
                        continue;
                log_msg(LOG_NOTICE, "removing stale XenStore nodes of vanished domid %u",
                        domids[i]);
                layout_remove_local(m->layout, domids[i], NULL);
        }
}

/* Remove /vm entries no live domain refers to (its handle is its uuid). */
static void manager_remove_stale_vms(struct manager *m, const struct builder_domain_info *infos,
                                     size_t n)
{
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        size_t n_uuids = 0;

        if (layout_list_vms(m->layout, &uuids, &n_uuids, NULL) < 0)
                return;
        for (size_t i = 0; i < n_uuids; i++) {
                bool live = false;
                char s[37];

                for (size_t j = 0; j < n && !live; j++)
                        live = infos[j].domid != 0 && memcmp(infos[j].handle, uuids[i], 16) == 0;
                if (live)
                        continue;
                log_msg(LOG_NOTICE, "removing stale XenStore entry /vm/%s",
                        config_uuid_to_string(uuids[i], s));
                layout_remove_vm(m->layout, uuids[i], NULL);
        }
}

/* The snapshot predates reconciliation: a configured domain it destroyed is still ours. */
static bool is_configured_uuid(const struct manager *m, const uint8_t uuid[16])
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (memcmp(m->domains[i]->uuid, uuid, 16) == 0)
                        return true;
        return false;
}

/* Report domains nobody configured; they are left alone. */
static void manager_report_foreign(struct manager *m, const struct builder_domain_info *infos,
                                   size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char uuid[37];

                if (infos[i].domid == 0 || infos[i].dying || domid_is_ours(m, infos[i].domid) ||
                    is_configured_uuid(m, infos[i].handle))
                        continue;
                log_msg(LOG_NOTICE, "domid %u (uuid %s) is not configured here; leaving it alone",
                        infos[i].domid, config_uuid_to_string(infos[i].handle, uuid));
        }
}

static bool file_exists(const char *path)
{
        return path && access(path, F_OK) == 0;
}

bool manager_in_config_dir(const struct manager *m, const char *path)
{
        size_t len = strlen(m->config_dir);

        return path && strncmp(path, m->config_dir, len) == 0 && path[len] == '/';
}

/* Supervise again a domain CreateDomain added from outside the config dir, by its record. */
static void manager_restore_created_one(struct manager *m, const uint8_t uuid[16],
                                        const struct builder_domain_info *infos, size_t n)
{
        struct layout_tool_state st;
        struct domain_config *cfg = NULL;
        _cleanup_free_ char *err = NULL;
        char u[37];

        if (is_configured_uuid(m, uuid) || layout_state_read(m->layout, uuid, &st, NULL) < 0 ||
            !st.config_path[0] || manager_in_config_dir(m, st.config_path))
                return;
        config_uuid_to_string(uuid, u);
        if (!file_exists(st.config_path)) {
                if (!find_info_by_handle(infos, n, uuid, 0)) {
                        /* Its file and its domain are both gone: nothing is left to supervise. */
                        layout_state_remove(m->layout, uuid, NULL);
                        return;
                }
                log_msg(LOG_NOTICE, "domain %s was created from %s, which is gone; not supervised",
                        u, st.config_path);
                return;
        }
        if (config_load_file(st.config_path, &cfg, &err) < 0) {
                log_msg(LOG_ERR, "domain %s was created from %s, now invalid; not supervised:\n%s",
                        u, st.config_path, err ? err : "");
                return;
        }
        if (memcmp(cfg->uuid, uuid, 16) != 0 || manager_find_domain(m, cfg->name)) {
                log_msg(LOG_ERR,
                        "domain %s was created from %s, which now names another domain (%s); not "
                        "supervised",
                        u, st.config_path, cfg->name);
                config_free(cfg);
                return;
        }
        if (manager_add_config(m, cfg, NULL) < 0) {
                config_free(cfg);
                return;
        }
        log_msg(LOG_INFO, "%s: supervised again, as created from %s", cfg->name, st.config_path);
}

static void manager_restore_created(struct manager *m, const struct builder_domain_info *infos,
                                    size_t n_infos)
{
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        size_t n = 0;

        if (layout_list_states(m->layout, &uuids, &n, NULL) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                manager_restore_created_one(m, uuids[i], infos, n_infos);
}

static int manager_reconcile(struct manager *m)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0;
        int r;

        r = manager_list(m, &infos, &n);
        if (r < 0)
                return r;
        manager_restore_created(m, infos, n);
        /* Stale entries first: the snapshot knows nothing of what the loop below builds. */
        manager_remove_stale_nodes(m, infos, n);
        manager_remove_stale_vms(m, infos, n);
        for (size_t i = 0; i < m->n_domains; i++)
                manager_reconcile_domain(m, m->domains[i], infos, n);
        manager_report_foreign(m, infos, n);
        return 0;
}

/* ---- configs ---- */

static void manager_log_config_errors(const char *errors)
{
        if (errors)
                log_msg(LOG_ERR, "invalid configuration:\n%s", errors);
}

static size_t manager_index_of(const struct manager *m, const struct domain *d)
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (m->domains[i] == d)
                        return i;
        return m->n_domains;
}

/* A config of the new set for a domain we supervise: it applies at the next start. */
static void manager_update_config(struct manager *m, struct domain *d, struct domain_config *cfg)
{
        if (config_equal(d->config, cfg)) {
                config_free(cfg);
                return;
        }
        log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "config changed; applies at the next start");
        config_free(d->config);
        d->config = cfg;
        bus_domain_changed(m, d);
}

/* A supervised domain whose config is not in the new set. */
static void manager_drop_config(struct manager *m, struct domain *d)
{
        const char *path = d->config->path;

        if (!manager_in_config_dir(m, path) && file_exists(path))
                return; /* added by CreateDomain from elsewhere: not the directory's to drop */
        if (file_exists(path)) {
                /* Still there but now bad (reported above): keep the last good version. */
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG, NULL,
                           "%s is invalid; keeping the last good config", d->config->path);
                return;
        }
        if (!domain_is_active(d)) {
                log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "config removed");
                layout_state_remove(m->layout, d->uuid, NULL);
                manager_remove_domain(m, d);
                return;
        }
        if (d->has_domid)
                log_domain(LOG_NOTICE, d, LOG_MID_CONFIG, NULL,
                           "config removed; domid %u left running, no longer supervised", d->domid);
        else
                log_domain(LOG_NOTICE, d, LOG_MID_CONFIG, NULL,
                           "config removed; its build goes on, then it is no longer supervised");
        d->unsupervised = true;
        bus_domain_changed(m, d);
}

int manager_reload(struct manager *m, char **err_r)
{
        struct config_set set = { 0 };
        _cleanup_free_ char *errors = NULL;
        _cleanup_free_ bool *seen = NULL;
        size_t n_domains = m->n_domains;
        int r;

        r = config_load_dir(m->config_dir, &set, &errors);
        if (r < 0)
                return err_setf(err_r, r, "%s", errors ? errors : strerror(-r));
        manager_log_config_errors(errors);
        seen = calloc(n_domains + 1, sizeof(*seen));
        if (!seen) {
                config_set_clear(&set);
                return err_setf(err_r, -ENOMEM, "out of memory");
        }

        for (size_t i = 0; i < set.n; i++) {
                struct domain_config *cfg = TAKE_PTR(set.items[i]);
                struct domain *d = manager_find_domain(m, cfg->name);

                if (d && !d->unsupervised) {
                        seen[manager_index_of(m, d)] = true;
                        manager_update_config(m, d, cfg);
                        continue;
                }
                if (d || manager_add_config(m, cfg, &d) < 0) {
                        /* the name belongs to a kept rename-restart instance, or no memory */
                        config_free(cfg);
                        continue;
                }
                log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "added from %s", cfg->path);
                if (cfg->autostart)
                        lifecycle_autostart(m, d);
        }
        for (size_t i = 0; i < n_domains; i++) {
                struct domain *d = m->domains[i];

                if (!seen[i] && domain_visible(d) && !d->unsupervised)
                        manager_drop_config(m, d);
        }
        config_set_clear(&set);
        return 0;
}

int manager_create_domain(struct manager *m, const char *path, domain_started_fn done,
                          void *userdata, struct domain **ret, char **err_r)
{
        struct domain_config *cfg = NULL;
        struct domain *d;
        char uuid[37];
        int r;

        r = config_load_file(path, &cfg, err_r);
        if (r < 0)
                return -EBADMSG;
        config_uuid_to_string(cfg->uuid, uuid);
        if (manager_find_domain(m, cfg->name) || manager_find_domain(m, uuid)) {
                r = err_setf(err_r, -EEXIST, "%s: a domain named %s or with uuid %s exists", path,
                             cfg->name, uuid);
                config_free(cfg);
                return r;
        }
        r = manager_add_config(m, cfg, &d);
        if (r < 0) {
                config_free(cfg);
                return err_setf(err_r, r, "out of memory");
        }
        r = lifecycle_start(m, d, done, userdata, err_r);
        if (r < 0)
                return r;
        if (ret)
                *ret = d;
        return 0;
}

/* ---- control operations ---- */

int manager_domain_start(struct manager *m, struct domain *d, domain_started_fn done,
                         void *userdata, char **err_r)
{
        if (d->unsupervised)
                return err_setf(err_r, -EBUSY, "domain %s has no config to start from", d->name);
        if (d->state == DOMAIN_PRESERVED) {
                int r = lifecycle_destroy(m, d, err_r);
                if (r < 0)
                        return r;
        }
        /* A person starting it resets the throttle. */
        if (!domain_is_active(d))
                d->n_restart_times = 0;
        return lifecycle_start(m, d, done, userdata, err_r);
}

int manager_domain_shutdown(struct manager *m, struct domain *d, bool reboot, unsigned timeout,
                            char **err_r)
{
        return lifecycle_request_shutdown(m, d, reboot, timeout, err_r);
}

int manager_domain_destroy(struct manager *m, struct domain *d, char **err_r)
{
        return lifecycle_destroy(m, d, err_r);
}

static int manager_require_state(struct domain *d, enum domain_state s, char **err_r)
{
        if (d->state != s)
                return err_setf(err_r, -EBUSY, "domain %s is %s, not %s", d->name,
                                domain_state_to_string(d->state), domain_state_to_string(s));
        return 0;
}

/* Pause or unpause: the hypervisor, then the running node, then our state. */
static int manager_set_paused(struct manager *m, struct domain *d, bool pause, char **err_r)
{
        int r = manager_require_state(d, pause ? DOMAIN_RUNNING : DOMAIN_PAUSED, err_r);

        if (r >= 0)
                r = pause ? builder_pause(m->builder, d->domid, err_r)
                          : builder_unpause(m->builder, d->domid, err_r);
        if (r < 0)
                return r;
        layout_set_running(m->layout, d->domid, !pause, NULL);
        lifecycle_set_state(m, d, pause ? DOMAIN_PAUSED : DOMAIN_RUNNING);
        return 0;
}

int manager_domain_pause(struct manager *m, struct domain *d, char **err_r)
{
        return manager_set_paused(m, d, true, err_r);
}

int manager_domain_unpause(struct manager *m, struct domain *d, char **err_r)
{
        return manager_set_paused(m, d, false, err_r);
}

static int manager_require_running(struct domain *d, char **err_r)
{
        if (d->state != DOMAIN_RUNNING && d->state != DOMAIN_PAUSED)
                return err_setf(err_r, -EBUSY, "domain %s is %s, not running", d->name,
                                domain_state_to_string(d->state));
        return 0;
}

int manager_domain_set_memory(struct manager *m, struct domain *d, uint64_t kib, char **err_r)
{
        uint64_t max = d->config->maxmem_mib * 1024;
        int r = manager_require_running(d, err_r);

        if (r < 0)
                return r;
        if (kib < 1024 || kib > max)
                return err_setf(err_r, -EINVAL,
                                "memory %llu KiB out of range for %s (1024..%llu KiB, maxmem)",
                                (unsigned long long)kib, d->name, (unsigned long long)max);
        r = builder_set_memory(m->builder, d->domid, kib, err_r);
        if (r >= 0)
                r = layout_set_memory(m->layout, d->domid, d->uuid, kib, err_r);
        if (r < 0)
                return r;
        d->memory_kib = kib;
        bus_domain_changed(m, d);
        return 0;
}

int manager_domain_set_vcpus(struct manager *m, struct domain *d, unsigned n, char **err_r)
{
        int r = manager_require_running(d, err_r);

        if (r < 0)
                return r;
        if (n < 1 || n > d->config->maxvcpus)
                return err_setf(err_r, -EINVAL, "%u vcpus out of range for %s (1..%u, maxvcpus)", n,
                                d->name, d->config->maxvcpus);
        r = builder_set_vcpus(m->builder, d->domid, n, err_r);
        if (r >= 0)
                r = layout_set_vcpus(m->layout, d->domid, d->uuid, n, d->config->maxvcpus, err_r);
        if (r < 0)
                return r;
        d->vcpus = n;
        bus_domain_changed(m, d);
        return 0;
}

/* ---- loop and signals ---- */

static int manager_on_exit_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;

        (void)s;
        (void)usec;
        log_msg(LOG_WARNING, "domains or builds did not finish in time; exiting and leaving them");
        return sd_event_exit(m->event, 0);
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

                if (d->building && build_queue_cancel(m->builds, d) == 0)
                        lifecycle_forget_build(d);
        }
        if (m->opts.stop_domains && manager_any_active(m)) {
                log_msg(LOG_INFO, "stopping: shutting the running domains down");
                for (size_t i = 0; i < m->n_domains; i++) {
                        struct domain *d = m->domains[i];

                        if (domain_visible(d) && !d->unsupervised &&
                            (d->state == DOMAIN_RUNNING || d->state == DOMAIN_PAUSED))
                                lifecycle_request_shutdown(m, d, false, 0, NULL);
                }
        } else if (build_queue_running(m->builds) > 0) {
                log_msg(LOG_INFO, "stopping once the builds in progress (%u) have finished",
                        build_queue_running(m->builds));
        }
        manager_check_exit(m);
        return sd_event_add_time_relative(m->event, &m->exit_timer, CLOCK_MONOTONIC,
                                          EXIT_STOP_TIMEOUT_USEC, 0, manager_on_exit_timeout, m);
}

static int manager_on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;
        _cleanup_free_ char *err = NULL;
        struct timespec ts;

        (void)s;
        (void)si;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu",
                   (unsigned long long)ts.tv_sec * 1000000ULL +
                       (unsigned long long)ts.tv_nsec / 1000);
        if (manager_reload(m, &err) < 0)
                log_msg(LOG_ERR, "reload failed: %s", err ? err : "");
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

int manager_new(const struct manager_options *opts, struct manager **ret, char **err_r)
{
        _cleanup_(manager_freep) struct manager *m = NULL;
        struct builder_options bo = { .kind = opts->hypervisor, .sim_dir = opts->sim_dir };
        struct config_set set = { 0 };
        _cleanup_free_ char *errors = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return err_setf(err_r, -ENOMEM, "out of memory");
        m->opts = *opts;
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
        /* Watches before the first list scan, so no death between the two is missed. */
        r = watch_new(m->event, manager_scan, m, &m->watch, err_r);
        if (r < 0)
                return r;
        r = build_queue_new(m->event, &bo,
                            opts->build_jobs ? opts->build_jobs : build_queue_default_jobs(),
                            lifecycle_on_built, m, &m->builds);
        if (r < 0)
                return err_setf(err_r, r, "out of memory");

        r = config_load_dir(m->config_dir, &set, &errors);
        if (r < 0)
                return err_setf(err_r, r, "%s", errors ? errors : strerror(-r));
        manager_log_config_errors(errors);
        for (size_t i = 0; i < set.n; i++)
                if (manager_add_config(m, set.items[i], NULL) >= 0)
                        set.items[i] = NULL;
        config_set_clear(&set);

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
        log_msg(LOG_INFO, "supervising %zu domains on %s", m->n_domains, builder_name(m->builder));
        return sd_event_loop(m->event);
}

struct manager *manager_free(struct manager *m)
{
        if (!m)
                return NULL;
        /* Builds die with us; their markers make the next daemon redo them. */
        m->builds = build_queue_free(m->builds);
        for (size_t i = 0; i < m->n_domains; i++)
                if (m->domains[i]->building)
                        lifecycle_forget_build(m->domains[i]);
        bus_close(m);
        for (size_t i = 0; i < m->n_domains; i++)
                domain_free(m->domains[i]);
        free(m->domains);
        watch_free(m->watch);
        layout_close(m->layout);
        builder_close(m->builder);
        sd_event_source_disable_unref(m->gc_event);
        sd_event_source_disable_unref(m->exit_timer);
        sd_event_unref(m->event);
        free(m->config_dir);
        free(m->self_path);
        free(m);
        return NULL;
}
