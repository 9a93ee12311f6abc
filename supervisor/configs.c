/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * configs.c — configs and identity: a domain is its uuid. Reload matches a
 * file to a supervised domain by uuid (a new name is a rename), CreateDomain
 * and reload refuse a uuid or name that another domain holds, supervised or
 * not, and a domain whose file went away stays supervised until it stops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "supervisor/bus.h"
#include "supervisor/config-store.h"
#include "supervisor/configs.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"
#include "supervisor/lifecycle.h"
#include "supervisor/log.h"

static bool file_exists(const char *path)
{
        return path && access(path, F_OK) == 0;
}

bool manager_in_config_dir(const struct manager *m, const char *path)
{
        size_t len = strlen(m->config_dir);

        return path && strncmp(path, m->config_dir, len) == 0 && path[len] == '/';
}

/* A running domain no config of ours supervises whose /vm entry has this name; 0 if none. */
static uint32_t foreign_name_holder(struct manager *m, const char *name)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0;

        if (manager_list(m, &infos, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char held[DOMAIN_NAME_MAX + 1];

                if (infos[i].domid == 0 || infos[i].dying ||
                    manager_domid_is_ours(m, infos[i].domid))
                        continue;
                /* /vm is dom0-owned: the name there is the toolstack's, not the guest's. */
                if (layout_vm_name(m->layout, infos[i].handle, held, sizeof(held), NULL) >= 0 &&
                    strcmp(held, name) == 0)
                        return infos[i].domid;
        }
        return 0;
}

/* Whether cfg may become a new domain: its uuid and name are free here and in the hypervisor. */
static int check_identity_free(struct manager *m, const struct domain_config *cfg,
                               struct sup_error *e)
{
        struct domain *d;
        uint32_t domid;
        char u[37];
        int r;

        uuid_to_string(cfg->uuid, u);
        d = manager_find_uuid(m, cfg->uuid);
        if (d)
                return sup_outcome(e, OUTCOME_EXISTS, "%s: uuid %s is held by domain %s (%s)",
                                   cfg->path, u, d->name,
                                   d->config && d->config->path ? d->config->path : "no file");
        d = manager_find_name(m, cfg->name);
        if (d)
                return sup_outcome(e, OUTCOME_EXISTS,
                                   "%s: the name %s is held by the domain with uuid %s (%s)",
                                   cfg->path, cfg->name, d->uuid_string,
                                   d->config && d->config->path ? d->config->path : "no file");
        r = builder_find_live(m->builder, cfg->uuid, &domid, NULL);
        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: cannot list domains: %s", cfg->path,
                                   strerror(-r));
        if (r > 0)
                return sup_outcome(e, OUTCOME_EXISTS,
                                   "%s: uuid %s is held by domid %u, which is not supervised here",
                                   cfg->path, u, domid);
        domid = foreign_name_holder(m, cfg->name);
        if (domid)
                return sup_outcome(e, OUTCOME_EXISTS,
                                   "%s: the name %s is held by domid %u, which is not supervised "
                                   "here",
                                   cfg->path, cfg->name, domid);
        return 0;
}

/* Add a config to supervision as a new stopped domain (takes cfg, also on failure). */
static int add_config(struct manager *m, struct domain_config *cfg, enum domain_origin origin,
                      struct domain **ret)
{
        struct domain *d;
        int r;

        r = domain_new(m, cfg, &d);
        if (r < 0) {
                config_free(cfg);
                return r;
        }
        d->origin = origin;
        r = manager_add_domain(m, d);
        if (r < 0) {
                domain_free(d);
                return r;
        }
        if (ret)
                *ret = d;
        return 0;
}

/* ---- reload ---- */

static void log_config_errors(const char *errors)
{
        if (errors)
                log_event(LOG_ERR, LOG_MID_CONFIG_INVALID, "invalid configuration:\n%s", errors);
}

/* A file of the new set for a domain we supervise (same uuid): rename, then a new next start. */
static void update_config(struct manager *m, struct domain *d, struct domain_config *cfg)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;

        if (strcmp(cfg->name, d->name) != 0 && manager_rename_domain(m, d, cfg->name, &e) != 0) {
                log_domain(LOG_ERR, d, LOG_MID_CONFIG, NULL, "%s: cannot rename: %s", cfg->path,
                           e.message ? e.message : "failed");
                config_free(cfg);
                return;
        }
        d->config_gone = false;
        d->origin = ORIGIN_CONFIG_DIR;
        /* A file of the directory is root's: its images are opened with root's rights now. */
        creds_root(&d->creator);
        if (config_equal(d->config, cfg)) {
                config_free(cfg);
                return;
        }
        log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "config changed; applies at the next start%s",
                   d->has_domid ? " (the running instance keeps its limits)" : "");
        domain_set_config(d, cfg);
        bus_domain_changed(m, d);
}

/*
 * A supervised domain whose file is not in the new set: removed, or now naming another uuid
 * (another domain: this one is handled as removed), or invalid (the last good config stays).
 */
static void config_missing(struct manager *m, struct domain *d, bool file_names_other_uuid)
{
        const char *path = d->config->path;

        if (d->origin != ORIGIN_CONFIG_DIR || d->config_gone)
                return; /* created from elsewhere, kept, or already handled */
        if (file_names_other_uuid) {
                log_domain(LOG_NOTICE, d, LOG_MID_CONFIG, NULL,
                           "%s now gives another uuid: a new domain; this one is handled as "
                           "removed",
                           path);
        } else if (file_exists(path)) {
                /* Still there but now bad (reported above): keep the last good version. */
                log_domain(LOG_WARNING, d, LOG_MID_CONFIG_INVALID, NULL,
                           "%s is invalid; keeping the last good config", path);
                return;
        }
        if (!domain_is_active(d) && d->state != DOMAIN_PRESERVED) {
                log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "config removed");
                manager_drop_domain(m, d);
                return;
        }
        log_domain(LOG_NOTICE, d, LOG_MID_CONFIG, NULL,
                   "config removed; supervised until it stops, then forgotten");
        d->config_gone = true;
        bus_domain_changed(m, d);
}

/*
 * Which supervised domain a file of the directory is: the one with its uuid, unless another
 * file that still exists holds that uuid (a copied file, an edited uuid).
 */
static struct domain *match_config(struct manager *m, const struct domain_config *cfg,
                                   struct sup_error *e)
{
        struct domain *d = manager_find_uuid(m, cfg->uuid);
        const char *held;

        if (!d)
                return NULL;
        held = d->config ? d->config->path : NULL;
        if (d->origin == ORIGIN_KEPT) {
                sup_outcome(e, OUTCOME_EXISTS, "%s: uuid %s is held by the kept instance %s",
                            cfg->path, d->uuid_string, d->name);
                return NULL;
        }
        if (held && strcmp(held, cfg->path) != 0 && file_exists(held) &&
            manager_in_config_dir(m, held)) {
                sup_outcome(e, OUTCOME_EXISTS, "%s: uuid %s is held by domain %s of %s", cfg->path,
                            d->uuid_string, d->name, held);
                return NULL;
        }
        return d;
}

int manager_reload(struct manager *m, struct sup_error *e)
{
        struct config_set set = { 0 };
        _cleanup_free_ char *errors = NULL;
        _cleanup_free_ bool *seen = NULL, *moved = NULL;
        size_t n_domains = m->n_domains;
        int r;

        r = config_load_dir(m->config_dir, &set, &errors);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s", errors ? errors : strerror(-r));
        log_config_errors(errors);
        seen = calloc(n_domains + 1, sizeof(*seen));
        moved = calloc(n_domains + 1, sizeof(*moved));
        if (!seen || !moved) {
                config_set_clear(&set);
                return sup_failure(e, LAYER_SYSTEM, -ENOMEM, "out of memory");
        }
        /* A file that now gives another uuid than its domain's: that domain is handled as removed.
         */
        for (size_t i = 0; i < set.n; i++)
                for (size_t j = 0; j < n_domains; j++) {
                        const struct domain *d = m->domains[j];

                        if (d->config && d->config->path && !d->removed &&
                            strcmp(d->config->path, set.items[i]->path) == 0 &&
                            memcmp(d->uuid, set.items[i]->uuid, 16) != 0)
                                moved[j] = true;
                }
        /* First the files of domains we know, by uuid: renames free names for the new ones. */
        for (size_t i = 0; i < set.n; i++) {
                _cleanup_(sup_error_done) struct sup_error why = SUP_ERROR_INIT;
                struct domain *d = match_config(m, set.items[i], &why);

                if (why.message) {
                        log_event(LOG_ERR, LOG_MID_CONFIG_INVALID, "%s; not supervised",
                                  why.message);
                        set.items[i] = config_free(set.items[i]);
                        continue;
                }
                if (!d)
                        continue;
                for (size_t j = 0; j < n_domains; j++)
                        if (m->domains[j] == d)
                                seen[j] = true;
                update_config(m, d, TAKE_PTR(set.items[i]));
        }
        for (size_t i = 0; i < n_domains; i++)
                if (!seen[i] && !m->domains[i]->removed)
                        config_missing(m, m->domains[i], moved[i]);
        for (size_t i = 0; i < set.n; i++) {
                _cleanup_(sup_error_done) struct sup_error why = SUP_ERROR_INIT;
                struct domain_config *cfg = TAKE_PTR(set.items[i]);
                struct domain *d;

                if (!cfg)
                        continue;
                if (check_identity_free(m, cfg, &why) != 0) {
                        log_event(LOG_ERR, LOG_MID_CONFIG_INVALID, "%s; not supervised",
                                  why.message ? why.message : "");
                        config_free(cfg);
                        continue;
                }
                if (add_config(m, cfg, ORIGIN_CONFIG_DIR, &d) < 0)
                        continue;
                log_domain(LOG_INFO, d, LOG_MID_CONFIG, NULL, "added from %s", d->config->path);
                if (d->config->autostart)
                        lifecycle_autostart(m, d);
        }
        config_set_clear(&set);
        return 0;
}

/* ---- CreateDomain ---- */

int manager_load_created(int fd, const char *path, bool in_dir, struct domain_config **cfg_r,
                         struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        int r;

        /* From the start: a call polkit made wait is handled again with the same descriptor. */
        if (lseek(fd, 0, SEEK_SET) < 0)
                return sup_failure(e, LAYER_SYSTEM, -errno, "%s: %s", path, strerror(errno));
        /* The config directory is root's: its files name what root may read. */
        r = config_load_fd(fd, path, in_dir ? 0 : CONFIG_LOAD_CALLER_FILES, cfg_r, &err);
        if (r == -EINVAL)
                return sup_outcome(e, OUTCOME_INVALID_CONFIG, "%s", err ? err : path);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s", err ? err : strerror(-r));
        return 0;
}

int manager_create_domain(struct manager *m, const struct create_source *src,
                          domain_started_fn done, void *userdata, struct domain **ret,
                          struct sup_error *e)
{
        struct domain_config *cfg = src->cfg;
        bool in_dir = !src->creator;
        struct domain *d;
        int r;

        r = check_identity_free(m, cfg, e);
        if (r != 0) {
                config_free(cfg);
                return r;
        }
        r = add_config(m, cfg, in_dir ? ORIGIN_CONFIG_DIR : ORIGIN_CREATED, &d);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "out of memory");
        if (src->creator)
                d->creator = *src->creator;
        /* Before the start: the record its first state writes says who asked. */
        if (src->by)
                d->last_action = *src->by;
        r = lifecycle_start(m, d, done, userdata, e);
        if (r != 0) {
                manager_drop_domain(m, d);
                return r;
        }
        if (ret)
                *ret = d;
        return 0;
}

/* ---- RestoreDomain ---- */

void saved_image_done(struct saved_image *img)
{
        image_meta_done(&img->meta);
        img->cfg = config_free(img->cfg);
}

/* The config text an image carries, parsed as a kept config (its kernel is not needed). */
static int image_config_load(const struct saved_image *img, struct domain_config **cfg_r,
                             struct sup_error *e)
{
        _cleanup_close_ int fd = memfd_create("xensup-image-config", MFD_CLOEXEC);
        _cleanup_free_ char *err = NULL;
        size_t len = strlen(img->meta.config_text);
        int r;

        if (fd < 0 || write_all(fd, img->meta.config_text, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return sup_failure(e, LAYER_SYSTEM, -errno, "%s: %s", img->path, strerror(errno));
        r = config_load_fd(fd, img->path, CONFIG_LOAD_KEPT, cfg_r, &err);
        if (r == -EINVAL)
                return sup_outcome(e, OUTCOME_INVALID_CONFIG,
                                   "%s: the config saved in the image is not valid here:\n%s",
                                   img->path, err ? err : "");
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: %s", img->path,
                                   err ? err : strerror(-r));
        return 0;
}

int manager_load_image(struct manager *m, int fd, const char *path, struct saved_image *img,
                       struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        struct stat st;
        int r;

        *img = (struct saved_image){ .path = path };
        /* Read on the loop: a pipe could stall it, a regular file cannot. */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s: an image is a regular file",
                                   path);
        /* From the start: a call polkit made wait is handled again with the same descriptor. */
        if (lseek(fd, 0, SEEK_SET) < 0)
                return sup_failure(e, LAYER_SYSTEM, -errno, "%s: %s", path, strerror(errno));
        r = image_read_start(fd, &img->meta, &err);
        if (r < 0)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s: %s", path,
                                   err ? err : strerror(-r));
        if (strcmp(img->meta.hypervisor, builder_name(m->builder)) != 0) {
                r = sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                "%s: the image was saved on the %s hypervisor; this daemon runs "
                                "on %s",
                                path, img->meta.hypervisor, builder_name(m->builder));
                saved_image_done(img);
                return r;
        }
        r = image_config_load(img, &img->cfg, e);
        if (r == 0 && memcmp(img->cfg->uuid, img->meta.uuid, 16) != 0)
                r = sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                "%s: the image's config and its header give different uuids", path);
        /* The guest comes back with the memory it had (a mem-set moved it), within its max. */
        if (r == 0 && img->meta.memory_kib / 1024 <= img->cfg->maxmem_mib)
                img->cfg->memory_mib = (img->meta.memory_kib + 1023) / 1024;
        if (r != 0)
                saved_image_done(img);
        return r;
}

int manager_restore_domain(struct manager *m, const struct saved_image *img, int fd,
                           const struct creds *creator, const struct domain_last_action *by,
                           domain_started_fn done, void *userdata, struct domain **ret,
                           struct sup_error *e)
{
        struct restore_source src = {
                .cfg = img->cfg,
                .fd = fd,
                .features = img->meta.features,
                .image = img->path,
                .files_as = creator,
                .history = img->meta.history,
        };
        struct domain *d = manager_find_uuid(m, img->cfg->uuid);
        bool added = false;
        int r;

        if (!d) {
                /* Nobody supervises it: a transient domain, as CreateDomain makes. */
                struct domain_config *cfg = config_dup(img->cfg);

                if (!cfg)
                        return sup_failure(e, LAYER_SYSTEM, -ENOMEM, "out of memory");
                r = check_identity_free(m, cfg, e);
                if (r != 0) {
                        config_free(cfg);
                        return r;
                }
                r = add_config(m, cfg, ORIGIN_CREATED, &d);
                if (r < 0)
                        return sup_failure(e, LAYER_SYSTEM, r, "out of memory");
                d->creator = *creator;
                added = true;
        }
        /*
         * An image's config is its writer's word: only root restores over a domain of the
         * config directory (root's), and only its creator over a created one.
         */
        if (!added && !creds_is_root(creator) &&
            (d->origin != ORIGIN_CREATED || d->creator.uid != creator->uid))
                return sup_outcome(e, OUTCOME_DENIED,
                                   "%s: domain %s is %s; uid %u may not restore an image over it",
                                   img->path, d->name,
                                   d->origin == ORIGIN_CREATED ? "another user's"
                                                               : "of the config directory (root's)",
                                   (unsigned)creator->uid);
        if (by)
                d->last_action = *by;
        r = lifecycle_restore(m, d, &src, done, userdata, e);
        if (r != 0 && added)
                manager_drop_domain(m, d);
        if (r == 0 && ret)
                *ret = d;
        return r;
}

/* ---- the configs of the directory at start-up ---- */

/* Load the directory into the table (no domain starts here: reconciliation decides). */
int manager_load_configs(struct manager *m, char **err_r)
{
        struct config_set set = { 0 };
        _cleanup_free_ char *errors = NULL;
        int r;

        r = config_load_dir(m->config_dir, &set, &errors);
        if (r < 0)
                return err_setf(err_r, r, "%s", errors ? errors : strerror(-r));
        log_config_errors(errors);
        for (size_t i = 0; i < set.n; i++)
                (void)add_config(m, TAKE_PTR(set.items[i]), ORIGIN_CONFIG_DIR, NULL);
        config_set_clear(&set);
        return 0;
}
