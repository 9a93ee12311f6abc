/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * configs.h — configs and identity: reload by uuid, CreateDomain, the rules that
 * keep one uuid (and one name) to one domain.
 */
#pragma once

#include "supervisor/context.h"
#include "supervisor/image.h"

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

/* A saved image, read up to its stream, and the config it was saved with. */
struct saved_image {
        struct image_meta meta;
        struct domain_config *cfg; /* image_done() frees it */
        const char *path;          /* the image's name, for messages */
};

/* Free what a saved image holds (for _cleanup_). */
void saved_image_done(struct saved_image *img);

/*
 * Read the image a caller hands over from fd (a regular file, from its start): its header must
 * be one this daemon reads, made on this kind of hypervisor, and its config valid (its files are
 * not opened: the image holds the guest's memory). InvalidArgument or InvalidConfig otherwise,
 * before anything is created; fd is then positioned at the stream.
 */
int manager_load_image(struct manager *m, int fd, const char *path, struct saved_image *img,
                       struct sup_error *e);

/*
 * Restore img into its domain (by uuid: one supervised and stopped or failed, else a new
 * transient one, as CreateDomain's) and begin it (as lifecycle_restore). The image's config is
 * whatever its writer put there, so its files (disk targets) are opened with creator's rights
 * (the caller's) even for a domain of the config directory; a new domain is creator's. by is the
 * caller, for the audit trail (NULL if none).
 */
int manager_restore_domain(struct manager *m, const struct saved_image *img, int fd,
                           const struct creds *creator, const struct domain_last_action *by,
                           domain_started_fn done, void *userdata, struct domain **ret,
                           struct sup_error *e);

/* Whether path is a file of the config directory (else CreateDomain brought it). */
bool manager_in_config_dir(const struct manager *m, const char *path);

/* Load the config directory into the table at start-up (no domain starts here). */
int manager_load_configs(struct manager *m, char **err_r);
