/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain-table.c — the supervised domains: lookups by uuid, name and domid,
 * adding, removing (freed outside any caller) and renaming.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <systemd/sd-daemon.h>

#include "common/error.h"
#include "supervisor/bus.h"
#include "supervisor/config-store.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"
#include "supervisor/log.h"

static bool domain_visible(const struct domain *d)
{
        return !d->removed;
}

/* ---- the indexes: a lookup costs the same among 10 000 domains as among ten ---- */

int manager_table_init(struct manager *m)
{
        if (ht_init(&m->by_name) < 0 || ht_init(&m->by_uuid) < 0 || ht_init(&m->by_path) < 0) {
                manager_table_done(m);
                return -ENOMEM;
        }
        return 0;
}

void manager_table_done(struct manager *m)
{
        ht_done(&m->by_name);
        ht_done(&m->by_uuid);
        ht_done(&m->by_path);
}

/* Into the name and object path indexes, which a rename changes. */
static void index_add_name(struct manager *m, struct domain *d)
{
        d->by_name.key = d->name;
        d->by_path.key = d->object_path;
        ht_insert(&m->by_name, &d->by_name);
        ht_insert(&m->by_path, &d->by_path);
}

static void index_remove_name(struct manager *m, struct domain *d)
{
        ht_remove(&m->by_name, &d->by_name);
        ht_remove(&m->by_path, &d->by_path);
}

/*
 * Of the domains whose entry at offset (by_name, by_uuid or by_path) has key, the one added
 * first, as a walk of the table in its order would find it (an incoming instance shares its
 * source's uuid).
 */
static struct domain *index_find(const struct htable *t, size_t offset, const char *key)
{
        struct domain *found = NULL;

        for (struct hentry *e = ht_find(t, key); e; e = ht_find_next(e)) {
                struct domain *d = (struct domain *)((char *)e - offset);

                if (!found || d->added < found->added)
                        found = d;
        }
        return found;
}

struct domain *manager_find_object_path(struct manager *m, const char *path)
{
        return index_find(&m->by_path, offsetof(struct domain, by_path), path);
}

struct domain *manager_find_uuid(struct manager *m, const uint8_t uuid[16])
{
        char s[37];

        return index_find(&m->by_uuid, offsetof(struct domain, by_uuid), uuid_to_string(uuid, s));
}

struct domain *manager_find_name(struct manager *m, const char *name)
{
        return index_find(&m->by_name, offsetof(struct domain, by_name), name);
}

struct domain *manager_find_domain(struct manager *m, const char *name_or_uuid)
{
        uint8_t uuid[16];

        if (uuid_from_string(name_or_uuid, uuid) >= 0)
                return manager_find_uuid(m, uuid);
        return manager_find_name(m, name_or_uuid);
}

bool manager_domid_is_ours(const struct manager *m, uint32_t domid)
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]) && m->domains[i]->has_domid &&
                    m->domains[i]->domid == domid)
                        return true;
        return false;
}

void manager_count_states(const struct manager *m, size_t count[_DOMAIN_STATE_MAX])
{
        for (size_t s = 0; s < _DOMAIN_STATE_MAX; s++)
                count[s] = 0;
        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]))
                        count[m->domains[i]->state]++;
}

int manager_add_domain(struct manager *m, struct domain *d)
{
        struct domain **grown;

        grown = reallocarray(m->domains, m->n_domains + 1, sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        m->domains = grown;
        m->domains[m->n_domains++] = d;
        d->added = m->n_added++;
        d->by_uuid.key = d->uuid_string;
        ht_insert(&m->by_uuid, &d->by_uuid);
        index_add_name(m, d);
        bus_domain_added(m, d);
        manager_update_status(m);
        return 0;
}

void manager_remove_domain(struct manager *m, struct domain *d)
{
        if (d->removed)
                return;
        d->removed = true;
        ht_remove(&m->by_uuid, &d->by_uuid);
        index_remove_name(m, d);
        bus_domain_removed(m, d);
        sd_event_source_set_enabled(m->gc_event, SD_EVENT_ONESHOT);
        manager_update_status(m);
}

void manager_drop_domain(struct manager *m, struct domain *d)
{
        if (d->removed)
                return;
        log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "no longer supervised");
        /* The record goes with its device records: what they list is freed first. */
        (void)attach_teardown_others(m->builder, m->layout, d->uuid, d->has_domid ? d->domid : 0,
                                     NULL);
        layout_state_remove(m->layout, d->uuid, NULL);
        config_store_remove(m->state_dir, d->uuid);
        manager_remove_domain(m, d);
}

int manager_rename_domain(struct manager *m, struct domain *d, const char *name,
                          struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        struct domain *holder = manager_find_name(m, name);
        char old[DOMAIN_NAME_MAX + 1];
        int r;

        if (holder && holder != d)
                return sup_outcome(e, OUTCOME_EXISTS,
                                   "the name %s is held by the domain with uuid %s", name,
                                   holder->uuid_string);
        if (d->has_domid) {
                r = layout_rename(m->layout, d->domid, d->uuid, name, &err);
                if (r < 0)
                        return sup_failure(e, LAYER_XENSTORE, r, "renaming %s to %s: %s", d->name,
                                           name, err ? err : strerror(-r));
        }
        strcpy(old, d->name);
        /* The object path follows the name: the old object goes, the new one comes. */
        bus_domain_removed(m, d);
        index_remove_name(m, d);
        r = domain_set_name(d, name);
        index_add_name(m, d);
        bus_domain_added(m, d);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "renaming %s: %s", old, strerror(-r));
        log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "renamed from %s", old);
        return 0;
}

/* ---- the hypervisor's list and the STATUS= line: what the table is read against ---- */

static int compare_info_domid(const void *a, const void *b)
{
        const struct builder_domain_info *x = a, *y = b;

        return x->domid < y->domid ? -1 : x->domid > y->domid;
}

const struct builder_domain_info *manager_find_info(const struct builder_domain_info *infos,
                                                    size_t n, uint32_t domid)
{
        struct builder_domain_info key = { .domid = domid };

        return bsearch(&key, infos, n, sizeof(*infos), compare_info_domid);
}

int manager_list(struct manager *m, struct builder_domain_info **infos_r, size_t *n_r)
{
        _cleanup_free_ char *err = NULL;
        int r;

        r = builder_list(m->builder, infos_r, n_r, &err);
        if (r < 0 && err) {
                log_msg(LOG_ERR, "cannot list domains: %s", err);
                return r;
        }
        if (r < 0)
                return log_errno(LOG_ERR, r, "cannot list domains");
        m->n_scans++;
        qsort(*infos_r, *n_r, sizeof(**infos_r), compare_info_domid);
        return 0;
}

void manager_update_status(struct manager *m)
{
        uint64_t now = 0, due;
        int enabled = SD_EVENT_OFF;

        if (!m->status_event) {
                manager_send_status(m);
                return;
        }
        /* Counting is a walk of the table: not once per state change, nor once per loop
         * iteration (a storm of N deaths would walk it N times over), but a few times a second. */
        (void)sd_event_source_get_enabled(m->status_event, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        due = m->status_sent_usec + STATUS_INTERVAL_USEC;
        (void)sd_event_source_set_time(m->status_event, due > now ? due : now);
        (void)sd_event_source_set_enabled(m->status_event, SD_EVENT_ONESHOT);
}

void manager_send_status(struct manager *m)
{
        char status[256];
        size_t off = 0;
        static const enum domain_state shown[] = { DOMAIN_RUNNING, DOMAIN_PAUSED, DOMAIN_STOPPED,
                                                   DOMAIN_PRESERVED, DOMAIN_FAILED };
        size_t count[_DOMAIN_STATE_MAX];

        manager_count_states(m, count);
        for (size_t i = 0; i < ELEMENTSOF(shown) && off < sizeof(status); i++) {
                size_t n = count[shown[i]];

                if (n == 0 && shown[i] != DOMAIN_RUNNING)
                        continue;
                off += (size_t)snprintf(status + off, sizeof(status) - off, "%s%zu %s",
                                        off ? ", " : "", n, domain_state_to_string(shown[i]));
        }
        sd_notifyf(false, "STATUS=%s", status);
}
