/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-dbus.c — org.xensup.supervisor1.Manager on /org/xensup/supervisor1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/text.h"

#include "supervisor/attach.h"
#include "supervisor/bus-internal.h"
#include "supervisor/bus.h"
#include "supervisor/configs.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"

/* DomID as the bus shows it: UINT32_MAX when the domain has none. */
static uint32_t domain_bus_domid(const struct domain *d)
{
        return d->has_domid ? d->domid : UINT32_MAX;
}

static int method_list_domains(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct manager *m = userdata;
        int r;

        (void)error;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssuso)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_domains; i++) {
                const struct domain *d = m->domains[i];

                if (d->removed)
                        continue;
                r = sd_bus_message_append(reply, "(ssuso)", d->name, d->uuid_string,
                                          domain_bus_domid(d), domain_state_to_string(d->state),
                                          d->object_path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_domain(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        struct manager *m = userdata;
        const char *key;
        struct domain *d;
        int r;

        r = sd_bus_message_read(msg, "s", &key);
        if (r < 0)
                return r;
        d = manager_find_domain(m, key);
        if (!d)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_DOMAIN, "no such domain: %s",
                                         key);
        return sd_bus_reply_method_return(msg, "o", d->object_path);
}

/*
 * Where the caller opened the file CreateDomain was handed: the kernel's name for the fd (what
 * messages and ConfigPath show, and the base of its relative paths; never opened again).
 */
static int handed_file_path(int fd, char **ret, struct stat *st_r, sd_bus_error *error)
{
        char link[64], buf[PATH_MAX];
        struct stat st;
        ssize_t n;
        int flags;

        if (fstat(fd, &st) < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the config file descriptor: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the config file descriptor is not a regular file");
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY || (flags & O_PATH))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the config file descriptor is not open for reading");
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, buf, sizeof(buf) - 1);
        if (n <= 0 || buf[0] != '/')
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the config file descriptor names no file (%s)",
                                         n < 0 ? strerror(errno) : "not a path");
        buf[n] = '\0';
        /* A name with a newline would forge log lines and break the record's lines. */
        if (text_has_control(buf)) {
                char shown[PATH_MAX];

                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the config file's path contains a control character "
                                         "(%s); rename it",
                                         text_escape(shown, sizeof(shown), buf, SIZE_MAX, 256));
        }
        *ret = strdup(buf);
        if (!*ret)
                return -ENOMEM;
        *st_r = st;
        return 0;
}

/* Whether the handed file (st) is the one path names directly in the config directory (root's). */
static bool handed_file_in_config_dir(struct manager *m, const struct stat *st, const char *path)
{
        struct stat b;

        return manager_in_config_dir(m, path) && stat(path, &b) == 0 && st->st_dev == b.st_dev &&
               st->st_ino == b.st_ino;
}

/* CreateDomain's deferred reply: the new object's path once it runs, else as Start's. */
static void create_domain_replied(struct domain *d, int r, const struct sup_error *e,
                                  void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;

        if (r != 0) {
                bus_reply_started(d, r, e, userdata);
                return;
        }
        call = userdata;
        sd_bus_reply_method_return(call, "o", d->object_path);
}

static int method_create_domain(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(bus_caller_done) struct bus_caller caller = { 0 };
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_free_ char *path = NULL;
        struct manager *m = userdata;
        struct domain_last_action by = { .action = "create" };
        struct domain_config *cfg = NULL;
        struct create_source src;
        struct creds creator;
        struct stat st;
        bool in_dir;
        int fd, r;

        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return r;
        r = bus_authorize(m, msg, POLKIT_ACTION_MANAGE, error, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        by.uid = caller.uid;
        by.pid = caller.pid;
        by.usec = manager_now(m) * 1000000ULL;
        /* Read from the caller's descriptor only: it opened the file with its own rights. */
        r = handed_file_path(fd, &path, &st, error);
        if (r < 0)
                return r;
        in_dir = handed_file_in_config_dir(m, &st, path);
        r = manager_load_created(fd, path, in_dir, &cfg, &e);
        if (r != 0)
                return bus_reply_outcome(error, r, &e);
        creds_from_ids(&creator, caller.uid, caller.gids, caller.n_gids);
        /* A guest given the host's own devices (a bridge port, a block device) needs more. */
        if (!in_dir && !creator.host_devices && attach_needs_host_devices(cfg)) {
                r = bus_authorize(m, msg, POLKIT_ACTION_HOST_DEVICES, error, NULL);
                if (r <= 0) {
                        config_free(cfg);
                        return r < 0 ? r : 1; /* 0: polkit is asked, the call comes back */
                }
                creator.host_devices = true;
        }
        src = (struct create_source){
                .cfg = cfg,
                .creator = in_dir ? NULL : &creator,
                .by = &by,
        };
        /* The reply waits for the build (a child process), so the loop answers others meanwhile. */
        r = manager_create_domain(m, &src, create_domain_replied, sd_bus_message_ref(msg), NULL,
                                  &e);
        if (r != 0) {
                sd_bus_message_unref(msg);
                return bus_reply_outcome(error, r, &e);
        }
        return 1;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct manager *m = userdata;
        int r;

        r = bus_authorize(m, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = manager_reload(m, &e);
        if (r != 0)
                return bus_reply_outcome(error, r, &e);
        return sd_bus_reply_method_return(msg, NULL);
}

const sd_bus_vtable bus_manager_vtable[] = {
        SD_BUS_VTABLE_START(SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDomains", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssuso)", domains),
                                method_list_domains, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDomain", SD_BUS_ARGS("s", name_or_uuid),
                                SD_BUS_RESULT("o", path), method_get_domain,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateDomain", SD_BUS_ARGS("h", config), SD_BUS_RESULT("o", path),
                                method_create_domain, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", NULL, NULL, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DomainNew", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DomainRemoved", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_VTABLE_END,
};
