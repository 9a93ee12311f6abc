/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config-store.h — the last good config of every domain, in the state dir.
 *
 * What a domain was last built from is kept as STATE_DIR/domains/<uuid>.conf
 * (config_to_text(), parsed back with config_load_file()), so an edited,
 * broken or deleted file never drops a running domain from supervision, and
 * its running instance keeps the limits it was started with. Files are
 * written atomically (a temporary file renamed over), root-only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Keep c as uuid's last good config. */
int config_store_save(const char *state_dir, const struct domain_config *c, char **err_r);

/* Load uuid's last good config; its path is set to path (the file it came from, may be NULL). */
int config_store_load(const char *state_dir, const uint8_t uuid[16], const char *path,
                      struct domain_config **ret, char **err_r);

/* Forget uuid's config; a missing one is no error. */
void config_store_remove(const char *state_dir, const uint8_t uuid[16]);

/* The uuids that have a stored config; caller frees (NULL if none). */
int config_store_list(const char *state_dir, uint8_t (**uuids_r)[16], size_t *n_r);
