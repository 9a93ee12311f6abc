/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/macros.h"

#include "supervisor/config-store.h"

static int store_path(const char *state_dir, const uint8_t uuid[16], const char *suffix, char **ret)
{
        char u[37];

        if (asprintf(ret, "%s/domains/%s.conf%s", state_dir, uuid_to_string(uuid, u), suffix) < 0)
                return -ENOMEM;
        return 0;
}

int config_store_save(const char *state_dir, const struct domain_config *c, char **err_r)
{
        _cleanup_free_ char *dir = NULL, *path = NULL, *tmp = NULL, *text = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (asprintf(&dir, "%s/domains", state_dir) < 0)
                return err_setf(err_r, -ENOMEM, "out of memory");
        /* --state-dir may name a directory that does not exist yet. */
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return err_setf(err_r, r, "cannot create %s: %s", dir, strerror(-r));
        r = config_to_text(c, &text);
        if (r < 0)
                return err_setf(err_r, r, "cannot format the config of %s: %s", c->name,
                                strerror(-r));
        if (store_path(state_dir, c->uuid, "", &path) < 0 ||
            store_path(state_dir, c->uuid, ".tmp", &tmp) < 0)
                return err_setf(err_r, -ENOMEM, "out of memory");
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return err_setf(err_r, -errno, "cannot write %s: %s", tmp, strerror(errno));
        /*
         * No fsync: the copy matters while its domain runs, and a host crash takes the domain
         * (and XenStore's record of it) with it. rename() keeps a killed daemon from leaving
         * half a file.
         */
        r = write_all(fd, text, strlen(text));
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return err_setf(err_r, r, "cannot write %s: %s", path, strerror(-r));
        }
        return 0;
}

int config_store_load(const char *state_dir, const uint8_t uuid[16], const char *path,
                      struct domain_config **ret, char **err_r)
{
        _cleanup_free_ char *file = NULL;
        struct domain_config *c = NULL;
        int r;

        if (store_path(state_dir, uuid, "", &file) < 0)
                return err_setf(err_r, -ENOMEM, "out of memory");
        if (access(file, F_OK) < 0)
                return err_setf(err_r, -errno, "%s: %s", file, strerror(errno));
        r = config_load_file_flags(file, CONFIG_LOAD_KEPT, &c, err_r);
        if (r < 0)
                return r;
        if (memcmp(c->uuid, uuid, 16) != 0) {
                config_free(c);
                return err_setf(err_r, -EBADMSG, "%s holds another domain's config", file);
        }
        r = config_set_path(c, path);
        if (r < 0) {
                config_free(c);
                return err_setf(err_r, r, "out of memory");
        }
        *ret = c;
        return 0;
}

void config_store_remove(const char *state_dir, const uint8_t uuid[16])
{
        _cleanup_free_ char *file = NULL;

        if (store_path(state_dir, uuid, "", &file) >= 0)
                (void)unlink(file);
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

int config_store_list(const char *state_dir, uint8_t (**uuids_r)[16], size_t *n_r)
{
        _cleanup_(closedirp) DIR *dir = NULL;
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n = 0;
        struct dirent *de;

        *uuids_r = NULL;
        *n_r = 0;
        if (asprintf(&path, "%s/domains", state_dir) < 0)
                return -ENOMEM;
        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(dir))) {
                char u[37];
                uint8_t(*grown)[16];
                size_t len = strlen(de->d_name);

                if (len != 36 + 5 || strcmp(de->d_name + 36, ".conf") != 0)
                        continue;
                memcpy(u, de->d_name, 36);
                u[36] = '\0';
                grown = reallocarray(uuids, n + 1, sizeof(*uuids));
                if (!grown)
                        return -ENOMEM;
                uuids = grown;
                if (uuid_from_string(u, uuids[n]) < 0)
                        continue;
                n++;
        }
        *uuids_r = TAKE_PTR(uuids);
        *n_r = n;
        return 0;
}
