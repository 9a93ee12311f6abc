/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * configs.h — configs and identity: reload by uuid, CreateDomain, the rules that
 * keep one uuid (and one name) to one domain.
 */
#pragma once

#include "supervisor/context.h"

/* Re-read the config directory (SIGHUP and the Reload method); matches by uuid. */
int manager_reload(struct manager *m, struct sup_error *e);

/*
 * Validate the config read from fd (path: where the caller opened it, for messages and
 * relative paths; never reopened), add it to supervision and begin its start (as
 * lifecycle_start). creator NULL: fd is a file of the config directory (root's). Otherwise its
 * files are opened with creator's rights, and it keeps the config it was handed: its file is
 * never read again.
 */
int manager_create_domain(struct manager *m, int fd, const char *path, const struct creds *creator,
                          domain_started_fn done, void *userdata, struct domain **ret,
                          struct sup_error *e);

/* Whether path is a file of the config directory (else CreateDomain brought it). */
bool manager_in_config_dir(const struct manager *m, const char *path);

/* Load the config directory into the table at start-up (no domain starts here). */
int manager_load_configs(struct manager *m, char **err_r);
