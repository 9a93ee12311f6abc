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

struct domain *manager_find_uuid(struct manager *m, const uint8_t uuid[16])
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]) && memcmp(m->domains[i]->uuid, uuid, 16) == 0)
                        return m->domains[i];
        return NULL;
}

struct domain *manager_find_name(struct manager *m, const char *name)
{
        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]) && strcmp(m->domains[i]->name, name) == 0)
                        return m->domains[i];
        return NULL;
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

size_t manager_count_state(const struct manager *m, enum domain_state s)
{
        size_t n = 0;

        for (size_t i = 0; i < m->n_domains; i++)
                if (domain_visible(m->domains[i]) && m->domains[i]->state == s)
                        n++;
        return n;
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

void manager_remove_domain(struct manager *m, struct domain *d)
{
        if (d->removed)
                return;
        d->removed = true;
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
        r = domain_set_name(d, name);
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
        /* Counting is a walk of the table: once per loop iteration, not once per state change
         * (a storm of N deaths would walk it N times over). */
        if (m->status_event)
                (void)sd_event_source_set_enabled(m->status_event, SD_EVENT_ONESHOT);
        else
                manager_send_status(m);
}

void manager_send_status(struct manager *m)
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
