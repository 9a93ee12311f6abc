/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain-table.h — the supervised domains of the manager: lookups by uuid, name and
 * domid, adding, removing, renaming; the hypervisor's list they are read against; STATUS=.
 */
#pragma once

#include "supervisor/context.h"

/* Allocate the table's indexes; -ENOMEM. */
int manager_table_init(struct manager *m);

/* Free them (not the domains). */
void manager_table_done(struct manager *m);

/* The domain whose D-Bus object path is path; NULL if none. */
struct domain *manager_find_object_path(struct manager *m, const char *path);

/* A domain by name or uuid string; NULL if unknown. */
struct domain *manager_find_domain(struct manager *m, const char *name_or_uuid);

/* A domain by uuid; NULL if unknown. */
struct domain *manager_find_uuid(struct manager *m, const uint8_t uuid[16]);

/* A domain by name; NULL if unknown. */
struct domain *manager_find_name(struct manager *m, const char *name);

/* Whether a domain of the table has this domid. */
bool manager_domid_is_ours(const struct manager *m, uint32_t domid);

/* One list of the hypervisor's domains, sorted by domid; caller frees. Logged on failure. */
int manager_list(struct manager *m, struct builder_domain_info **infos_r, size_t *n_r);

/* The row of domid in a sorted list; NULL if absent. */
const struct builder_domain_info *manager_find_info(const struct builder_domain_info *infos,
                                                    size_t n, uint32_t domid);

/* STATUS= summaries are this far apart at least: a person reads them. */
#define STATUS_INTERVAL_USEC (200 * 1000)

/* The STATUS= summary is due: sent by the loop's status_event, now or STATUS_INTERVAL_USEC after
 * the last. */
void manager_update_status(struct manager *m);

/* Send the one-line STATUS= summary to systemd now. */
void manager_send_status(struct manager *m);

/* Count the domains in each state, in one walk of the table (for STATUS=). */
void manager_count_states(const struct manager *m, size_t count[_DOMAIN_STATE_MAX]);

/* Add a domain to the table and to D-Bus. */
int manager_add_domain(struct manager *m, struct domain *d);

/* Drop a domain from the table; freed on the next loop iteration, so callers may still use it. */
void manager_remove_domain(struct manager *m, struct domain *d);

/* Forget a domain that will not run again here: its record, its stored config, its entry. */
void manager_drop_domain(struct manager *m, struct domain *d);

/* Move a domain to a new name: XenStore, D-Bus object and signals. */
int manager_rename_domain(struct manager *m, struct domain *d, const char *name,
                          struct sup_error *e);
