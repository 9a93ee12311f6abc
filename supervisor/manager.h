/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h — the daemon's one context: event loop, hypervisor, XenStore,
 * the domain table, and the control operations D-Bus and signals call.
 *
 * Control operations return 0 or a negative errno and a message in *err_r.
 * The errno says which named D-Bus error the caller gets:
 *   -ENOENT    NoSuchDomain          -EBADMSG  InvalidConfig
 *   -EBUSY     InvalidState          -EEXIST   DomainExists
 *   -EPERM     AccessDenied          anything else: Hypervisor
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

struct build_queue;
struct watch;

struct manager_options {
        enum builder_kind hypervisor;
        const char *config_dir;  /* default /etc/xensup/domains.d */
        const char *state_dir;   /* default /var/lib/xensup */
        const char *sim_dir;     /* default /run/xensup/sim */
        bool user_bus;           /* session bus instead of the system bus */
        bool no_bus;             /* run without D-Bus (tests of the core) */
        bool stop_domains;       /* on SIGTERM, shut running domains down */
        const char *admin_group; /* members may call mutating methods; NULL = root only */
        unsigned build_jobs;     /* domain builds running at once; 0 = one per CPU, up to 4 */
};

struct manager {
        struct manager_options opts;
        char *config_dir;
        char *self_path; /* our own binary, for the core-dump child */
        sd_event *event;
        sd_bus *bus;
        struct builder *builder;
        struct layout *layout;
        struct watch *watch;
        struct build_queue *builds;

        struct domain **domains; /* the table, in config-name order */
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

/* Reconcile with the hypervisor and XenStore, start autostart domains, run until SIGTERM. */
int manager_run(struct manager *m);

/* Look a domain up by name or uuid string; NULL if unknown. */
struct domain *manager_find_domain(struct manager *m, const char *name_or_uuid);

/* Validate a config file, add it to supervision and begin its start (done as lifecycle_start). */
int manager_create_domain(struct manager *m, const char *path, domain_started_fn done,
                          void *userdata, struct domain **ret, char **err_r);

/* Re-read the config directory (SIGHUP and the Reload method). */
int manager_reload(struct manager *m, char **err_r);

/* Begin starting a stopped, preserved or failed domain (a failed one gets a fresh throttle). */
int manager_domain_start(struct manager *m, struct domain *d, domain_started_fn done,
                         void *userdata, char **err_r);

/* Ask the guest to power off or reboot; destroy after timeout seconds (0 = config's). */
int manager_domain_shutdown(struct manager *m, struct domain *d, bool reboot, unsigned timeout,
                            char **err_r);

/* Destroy the domain now; it ends stopped (no on_* action applies). */
int manager_domain_destroy(struct manager *m, struct domain *d, char **err_r);

/* Pause a running domain. */
int manager_domain_pause(struct manager *m, struct domain *d, char **err_r);

/* Unpause a paused domain. */
int manager_domain_unpause(struct manager *m, struct domain *d, char **err_r);

/* Set the memory target in KiB (bounded by maxmem). */
int manager_domain_set_memory(struct manager *m, struct domain *d, uint64_t kib, char **err_r);

/* Set the number of online vcpus (1..maxvcpus). */
int manager_domain_set_vcpus(struct manager *m, struct domain *d, unsigned n, char **err_r);

/* Count domains in a state (for STATUS= and tests). */
size_t manager_count_state(const struct manager *m, enum domain_state s);

/* Add a domain to the table and to D-Bus. */
int manager_add_domain(struct manager *m, struct domain *d);

/* Drop a domain from the table; it is freed on the next loop iteration, so callers may still use
 * it. */
void manager_remove_domain(struct manager *m, struct domain *d);

/* Whether path is a file of the config directory (else CreateDomain brought it). */
bool manager_in_config_dir(const struct manager *m, const char *path);

/* Destroy the domains with this uuid that no domain of the table owns (a build's leftovers). */
void manager_destroy_unowned(struct manager *m, const uint8_t uuid[16]);

/* After SIGTERM: exit the loop once no build runs (and, with stop_domains, no domain). */
void manager_check_exit(struct manager *m);

/* Send the one-line STATUS= summary to systemd. */
void manager_update_status(struct manager *m);
