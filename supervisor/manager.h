/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h — the daemon's one context: event loop, hypervisor, XenStore,
 * the domain table and the configs. Operations follow outcome.h's contract.
 *
 * Modules: manager.c (the context, the loop, signals, the watch scan),
 * domain-table.c (the table: lookups by uuid, name, path), configs.c
 * (reload, CreateDomain, the identity rules), config-store.c (the last good
 * config of every domain, in the state dir), reconcile.c (start-up),
 * lifecycle.c (the state machine).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "builders/builder.h"
#include "config/config.h"
#include "layout/layout.h"
#include "supervisor/domain.h"
#include "supervisor/outcome.h"

struct build_queue;
struct watch;

struct manager_options {
        enum builder_kind hypervisor;
        const char *config_dir;  /* default /etc/xensup/domains.d */
        const char *state_dir;   /* default /var/lib/xensup (sim: SIM_DIR/state) */
        const char *sim_dir;     /* default /run/xensup/sim */
        bool user_bus;           /* session bus instead of the system bus */
        bool no_bus;             /* run without D-Bus (tests of the core) */
        bool stop_domains;       /* on SIGTERM, shut running domains down */
        const char *admin_group; /* members may call mutating methods; NULL = root only */
        unsigned build_jobs;     /* domain builds running at once; 0 = one per CPU, up to 4 */
        uint64_t (*clock)(void); /* CLOCK_REALTIME seconds; NULL = the real clock (tests fake it) */
};

struct manager {
        struct manager_options opts;
        char *config_dir;
        char *state_dir;
        char *self_path; /* our own binary, for the core-dump child */
        sd_event *event;
        sd_bus *bus;
        struct builder *builder;
        struct layout *layout;
        struct watch *watch;
        struct build_queue *builds;

        struct domain **domains; /* the table */
        size_t n_domains;

        uint64_t n_scans;          /* hypervisor list scans made */
        bool ready;                /* READY=1 was sent */
        bool exiting;              /* SIGTERM: waiting for builds (and domains) to finish */
        sd_event_source *gc_event; /* frees domains marked for removal, outside any caller */
        sd_event_source *exit_timer;
};

/* Create the manager: load configs, open the hypervisor and XenStore, hook up the loop. */
int manager_new(const struct manager_options *opts, struct manager **ret, char **err_r);

/* Free everything; running domains are left running. NULL-safe; returns NULL. */
struct manager *manager_free(struct manager *m);

/* Reconcile, start autostart domains, run until SIGTERM. */
int manager_run(struct manager *m);

/* CLOCK_REALTIME in seconds (the fake clock of tests when one is set). */
uint64_t manager_now(const struct manager *m);

/* One list of the hypervisor's domains, sorted by domid; caller frees. Logged on failure. */
int manager_list(struct manager *m, struct builder_domain_info **infos_r, size_t *n_r);

/* The row of domid in a sorted list; NULL if absent. */
const struct builder_domain_info *manager_find_info(const struct builder_domain_info *infos,
                                                    size_t n, uint32_t domid);

/* After SIGTERM: exit the loop once no build runs (and, with stop_domains, no domain). */
void manager_check_exit(struct manager *m);

/* Send the one-line STATUS= summary to systemd. */
void manager_update_status(struct manager *m);

/* ---- the domain table (domain-table.c) ---- */

/* A domain by name or uuid string; NULL if unknown. */
struct domain *manager_find_domain(struct manager *m, const char *name_or_uuid);

/* A domain by uuid; NULL if unknown. */
struct domain *manager_find_uuid(struct manager *m, const uint8_t uuid[16]);

/* A domain by name; NULL if unknown. */
struct domain *manager_find_name(struct manager *m, const char *name);

/* Whether a domain of the table has this domid. */
bool manager_domid_is_ours(const struct manager *m, uint32_t domid);

/* Count domains in a state (for STATUS= and tests). */
size_t manager_count_state(const struct manager *m, enum domain_state s);

/* Add a domain to the table and to D-Bus. */
int manager_add_domain(struct manager *m, struct domain *d);

/* Drop a domain from the table; freed on the next loop iteration, so callers may still use it. */
void manager_remove_domain(struct manager *m, struct domain *d);

/* Move a domain to a new name: XenStore, D-Bus object and signals. */
int manager_rename_domain(struct manager *m, struct domain *d, const char *name,
                          struct sup_error *e);

/* ---- configs and identity (configs.c) ---- */

/* Re-read the config directory (SIGHUP and the Reload method); matches by uuid. */
int manager_reload(struct manager *m, struct sup_error *e);

/* Validate a config file, add it to supervision and begin its start (as lifecycle_start). */
int manager_create_domain(struct manager *m, const char *path, domain_started_fn done,
                          void *userdata, struct domain **ret, struct sup_error *e);

/*
 * Whether the hypervisor runs an instance of uuid that is not dying: 1 and its domid, 0, or a
 * negative errno. A domain is its uuid: nothing builds a second live copy.
 */
int manager_uuid_holder(struct manager *m, const uint8_t uuid[16], uint32_t *domid_r);

/* Whether path is a file of the config directory (else CreateDomain brought it). */
bool manager_in_config_dir(const struct manager *m, const char *path);

/* Forget a domain that will not run again here: its record, its stored config, its entry. */
void manager_drop_domain(struct manager *m, struct domain *d);

/* ---- start-up (reconcile.c) ---- */

/* Adopt what runs, restore what the records say, clean up what is stale. */
int manager_reconcile(struct manager *m);

/* Destroy the domains with this uuid that no domain of the table owns (a build's leftovers). */
void manager_destroy_unowned(struct manager *m, const uint8_t uuid[16]);

/* Load the config directory into the table at start-up (configs.c). */
int manager_load_configs(struct manager *m, char **err_r);
