/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reconcile.c — start-up: the configs, the hypervisor's domain list, /vm and
 * the daemon's records (/tool/xensup) brought to agree. Every supervised
 * domain is adopted (an event of the state machine); a domain whose file is
 * gone or broken is supervised with its last good config; kept instances of
 * rename-restart come back; stale nodes go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "supervisor/config-store.h"
#include "supervisor/configs.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"
#include "supervisor/host.h"
#include "supervisor/lifecycle.h"
#include "supervisor/log.h"
#include "supervisor/reconcile.h"

/* The live instance of a uuid (or a dead one, when none is live); NULL if none. */
static const struct builder_domain_info *find_by_handle(const struct builder_domain_info *infos,
                                                        size_t n, const uint8_t uuid[16],
                                                        uint32_t prefer_domid)
{
        const struct builder_domain_info *found = NULL;

        for (size_t i = 0; i < n; i++) {
                if (infos[i].domid == 0 || infos[i].dying || memcmp(infos[i].handle, uuid, 16) != 0)
                        continue;
                if (infos[i].domid == prefer_domid)
                        return &infos[i];
                if (!found || (found->shutdown && !infos[i].shutdown))
                        found = &infos[i];
        }
        return found;
}

/* Whose rights its files are opened with, and who last acted on it, as the record says. */
static void record_restore_people(struct domain *d, const struct layout_tool_state *st)
{
        struct creds c;

        /* A list we cannot read gives no groups: fewer rights, never more. */
        if (creds_from_saved(&c, st->creator_uid, st->creator_groups, st->creator_host_devices) < 0)
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG, NULL,
                           "its record's creator_groups is malformed; opening its files with uid "
                           "%u's primary group only",
                           (unsigned)c.uid);
        d->creator = c;
        snprintf(d->last_action.action, sizeof(d->last_action.action), "%s", st->last_action);
        d->last_action.uid = st->last_action_uid;
        d->last_action.pid = (pid_t)st->last_action_pid;
        d->last_action.usec = st->last_action_usec;
        if (history_parse(st->history, &d->history) < 0)
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG, NULL,
                           "its record's history is malformed; it starts anew");
}

/* Supervise again, from its record, a domain that no file of the directory brought. */
static void restore_from_record(struct manager *m, const uint8_t uuid[16],
                                const struct layout_tool_state *st,
                                const struct builder_domain_info *infos, size_t n)
{
        const struct builder_domain_info *info = find_by_handle(infos, n, uuid, st->domid);
        bool created = st->created;
        _cleanup_free_ char *err = NULL;
        struct domain_config *cfg = NULL;
        struct domain *d, *holder;
        char u[37];

        uuid_to_string(uuid, u);
        if (!info && (st->kept || !created)) {
                /* Nothing runs, and no file of ours would start it again: nothing to supervise. */
                (void)attach_teardown_others(m->builder, m->layout, uuid, 0, NULL);
                layout_state_remove(m->layout, uuid, NULL);
                config_store_remove(m->state_dir, uuid);
                return;
        }
        /*
         * The last good config we kept: a created domain's file is its caller's and is never
         * read again by name (it may be a symlink to root's files by now).
         */
        if (config_store_load(m->state_dir, uuid, st->config_path[0] ? st->config_path : NULL, &cfg,
                              &err) < 0) {
                log_msg(LOG_ERR, "domain %s (domid %u) has no usable config (%s); not supervised",
                        u, info ? info->domid : 0, err ? err : "none kept");
                return;
        }
        if (st->kept)
                memcpy(cfg->name, st->name, sizeof(cfg->name));
        holder = manager_find_name(m, cfg->name);
        /* A running instance keeps its name; a file that claims it without running yields. */
        if (holder && info && holder->origin == ORIGIN_CONFIG_DIR &&
            !find_by_handle(infos, n, holder->uuid, 0)) {
                log_domain(LOG_WARNING, holder, LOG_MID_CONFIG, NULL,
                           "the name is held by running domid %u (uuid %s); not supervised until "
                           "that one stops (then reload)",
                           info->domid, u);
                manager_remove_domain(m, holder);
        } else if (holder) {
                log_msg(LOG_ERR,
                        "domain %s (%s) has a name another config now holds; not "
                        "supervised",
                        u, cfg->name);
                config_free(cfg);
                return;
        }
        if (domain_new(m, cfg, &d) < 0) {
                config_free(cfg);
                return;
        }
        d->origin = st->kept ? ORIGIN_KEPT : created ? ORIGIN_CREATED : ORIGIN_CONFIG_DIR;
        memcpy(d->kept_of, st->kept_of, 16);
        record_restore_people(d, st);
        /* A file that is gone (or of another config dir): supervised until it stops. */
        d->config_gone =
            d->origin == ORIGIN_CONFIG_DIR &&
            (!manager_in_config_dir(m, st->config_path) || access(st->config_path, F_OK) < 0);
        if (manager_add_domain(m, d) < 0) {
                domain_free(d);
                return;
        }
        log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "supervised again from its record%s",
                   d->config_gone ? " (its file is gone)" : "");
}

/* Records of domains the directory did not bring back: created, kept, or their file is gone. */
static void restore_records(struct manager *m, const struct builder_domain_info *infos, size_t n)
{
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        size_t n_uuids = 0;

        if (layout_list_states(m->layout, &uuids, &n_uuids, NULL) < 0)
                return;
        for (size_t i = 0; i < n_uuids; i++) {
                struct layout_tool_state st;
                _cleanup_free_ char *err = NULL;

                if (manager_find_uuid(m, uuids[i]))
                        continue;
                if (layout_state_read(m->layout, uuids[i], &st, &err) < 0) {
                        char u[37];

                        log_msg(LOG_ERR, "record /tool/xensup/%s is unreadable (%s); left as it is",
                                uuid_to_string(uuids[i], u), err ? err : "");
                        continue;
                }
                restore_from_record(m, uuids[i], &st, infos, n);
        }
}

/* The running instance of a configured domain keeps the limits it was started with. */
static void load_running_config(struct manager *m, struct domain *d)
{
        struct domain_config *cfg = NULL;

        if (!d->running_config &&
            config_store_load(m->state_dir, d->uuid, d->config->path, &cfg, NULL) >= 0)
                d->running_config = cfg;
}

/* XenStore publishes the name the domain's file gives now (edited while we were away). */
static void sync_vm_name(struct manager *m, struct domain *d)
{
        char held[DOMAIN_NAME_MAX + 1];

        if (d->has_domid && layout_vm_name(m->layout, d->uuid, held, sizeof(held), NULL) >= 0 &&
            strcmp(held, d->name) != 0 &&
            layout_rename(m->layout, d->domid, d->uuid, d->name, NULL) >= 0)
                log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "renamed from %s", held);
}

/*
 * A daemon killed while keeping a rename-restart instance left it with its new uuid but no record
 * of its own: nothing half-done stays, it is destroyed (its domain is rebuilt anyway).
 */
static void remove_half_kept(struct manager *m, const struct domain *d,
                             const struct layout_tool_state *st,
                             const struct builder_domain_info *infos, size_t n)
{
        const struct builder_domain_info *info = manager_find_info(infos, n, st->domid);
        struct layout_tool_state kept_st;
        uint8_t kept[16];

        if (!st->domid || !info || !(st->build_in_progress || st->restart_due))
                return;
        lifecycle_kept_uuid(d->uuid, st->domid, kept);
        if (memcmp(info->handle, kept, 16) != 0 ||
            layout_state_read(m->layout, kept, &kept_st, NULL) != -ENOENT)
                return;
        log_domain(LOG_NOTICE, d, LOG_MID_DOMAIN_CLEANED, "destroy",
                   "domid %u was left half-kept by rename-restart; destroying it", st->domid);
        builder_destroy(m->builder, st->domid, NULL);
        layout_remove_local(m->layout, st->domid, NULL);
        layout_remove_vm(m->layout, kept, NULL);
}

static void reconcile_domain(struct manager *m, struct domain *d,
                             const struct builder_domain_info *infos, size_t n)
{
        struct layout_tool_state st;
        bool have = layout_state_read(m->layout, d->uuid, &st, NULL) >= 0;
        const struct builder_domain_info *info =
            find_by_handle(infos, n, d->uuid, have ? st.domid : 0);

        if (have) {
                remove_half_kept(m, d, &st, infos, n);
                record_restore_people(d, &st);
        }
        if (info)
                load_running_config(m, d);
        lifecycle_adopt(m, d, info, have ? &st : NULL);
        sync_vm_name(m, d);
}

/* Remove /local/domain entries of domains that no longer exist. */
static void remove_stale_nodes(struct manager *m, const struct builder_domain_info *infos, size_t n)
{
        _cleanup_free_ uint32_t *domids = NULL;
        size_t n_domids = 0;

        if (layout_list_local(m->layout, &domids, &n_domids, NULL) < 0)
                return;
        for (size_t i = 0; i < n_domids; i++) {
                if (manager_find_info(infos, n, domids[i]))
                        continue;
                log_msg(LOG_NOTICE, "removing stale XenStore nodes of vanished domid %u",
                        domids[i]);
                layout_remove_local(m->layout, domids[i], NULL);
        }
}

/* Remove backend directories of domids that no longer exist (their records are freed first). */
static void remove_stale_backends(struct manager *m, const struct builder_domain_info *infos,
                                  size_t n)
{
        for (int kind = 0; kind < _LAYOUT_DEVICE_KIND_MAX; kind++) {
                _cleanup_free_ uint32_t *domids = NULL;
                size_t n_domids = 0;

                if (layout_device_backend_domids(m->layout, (enum layout_device_kind)kind, &domids,
                                                 &n_domids, NULL) < 0)
                        continue;
                for (size_t i = 0; i < n_domids; i++) {
                        if (manager_find_info(infos, n, domids[i]))
                                continue;
                        log_msg(LOG_NOTICE, "removing stale %s backends of vanished domid %u",
                                layout_device_kind_to_string((enum layout_device_kind)kind),
                                domids[i]);
                        layout_device_remove_backends(m->layout, (enum layout_device_kind)kind,
                                                      domids[i], NULL);
                }
        }
}

/* Remove /vm entries no live domain refers to (its handle is its uuid). */
static void remove_stale_vms(struct manager *m, const struct builder_domain_info *infos, size_t n)
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
                        uuid_to_string(uuids[i], s));
                layout_remove_vm(m->layout, uuids[i], NULL);
        }
}

/* Stored configs of domains that have no record any more. */
static void prune_config_store(struct manager *m)
{
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        size_t n = 0;

        if (config_store_list(m->state_dir, &uuids, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                struct layout_tool_state st;

                if (!manager_find_uuid(m, uuids[i]) &&
                    layout_state_read(m->layout, uuids[i], &st, NULL) == -ENOENT)
                        config_store_remove(m->state_dir, uuids[i]);
        }
}

/* Report domains nobody configured; they are left alone. A fresh list: reconciliation destroyed
 * some of the first one's. */
static void report_foreign(struct manager *m)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0;

        if (manager_list(m, &infos, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                char uuid[37];

                if (infos[i].domid == 0 || infos[i].dying ||
                    manager_domid_is_ours(m, infos[i].domid) ||
                    manager_find_uuid(m, infos[i].handle))
                        continue;
                log_msg(LOG_NOTICE, "domid %u (uuid %s) is not configured here; leaving it alone",
                        infos[i].domid, uuid_to_string(infos[i].handle, uuid));
        }
}

int manager_reconcile(struct manager *m)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0, n_domains;
        int r;

        r = manager_list(m, &infos, &n);
        if (r < 0)
                return r;
        restore_records(m, infos, n);
        /* The host booted with domains it saved: those are restored, not autostarted. */
        host_boot_scan(m);
        /* Stale entries first: the snapshot knows nothing of what the loop below builds. */
        remove_stale_nodes(m, infos, n);
        remove_stale_vms(m, infos, n);
        n_domains = m->n_domains;
        for (size_t i = 0; i < n_domains; i++)
                if (!m->domains[i]->removed)
                        reconcile_domain(m, m->domains[i], infos, n);
        /* After the domains: adoption frees what their records list, these are the rest. */
        remove_stale_backends(m, infos, n);
        host_boot_restore(m);
        report_foreign(m);
        prune_config_store(m);
        return 0;
}
