/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * configs.h — configs and identity: reload by uuid, CreateDomain, the rules that
 * keep one uuid (and one name) to one domain.
 */
#pragma once

#include "supervisor/context.h"

/* Re-read the config directory (SIGHUP and the Reload method); matches by uuid. */
int manager_reload(struct manager *m, struct sup_error *e);

/* What CreateDomain was handed, and by whom. */
struct create_source {
        struct domain_config *cfg; /* manager_load_created()'s: taken, even on failure */
        /* NULL: a file of the config directory (root's); else whose rights open its files */
        const struct creds *creator;
        const struct domain_last_action *by; /* the caller, for the audit trail; NULL if none */
};

/*
 * Read the config a caller hands over from fd (opened by the caller: read, never reopened),
 * which is at path (messages, ConfigPath, relative paths); in_dir: a file of the config
 * directory, whose paths are root's to check. InvalidConfig with every problem when it is not
 * valid.
 */
int manager_load_created(int fd, const char *path, bool in_dir, struct domain_config **cfg_r,
                         struct sup_error *e);

/*
 * Add the config src hands over to supervision and begin its start (as lifecycle_start).
 * Outside the config directory its files are opened with the creator's rights, and it keeps
 * the config it was handed: its file is never read again.
 */
int manager_create_domain(struct manager *m, const struct create_source *src,
                          domain_started_fn done, void *userdata, struct domain **ret,
                          struct sup_error *e);

/* Whether path is a file of the config directory (else CreateDomain brought it). */
bool manager_in_config_dir(const struct manager *m, const char *path);

/* Load the config directory into the table at start-up (no domain starts here). */
int manager_load_configs(struct manager *m, char **err_r);
