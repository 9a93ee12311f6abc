/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-dbus.c — org.xensup.supervisor1.Manager on /org/xensup/supervisor1.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/macros.h"

#include "supervisor/bus-internal.h"
#include "supervisor/bus.h"
#include "supervisor/configs.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"

static void bus_caller_donep(struct bus_caller *c)
{
        bus_caller_done(c);
}

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

/* Whether path names dir/<file> directly (both canonical). */
static bool path_in_dir(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        while (n > 1 && dir[n - 1] == '/')
                n--;
        return strncmp(path, dir, n) == 0 && path[n] == '/' && !strchr(path + n + 1, '/');
}

/*
 * CreateDomain's rule for the file it reads as root: an absolute, canonical
 * path (no symlink anywhere, no "..") to a regular file, either directly in
 * the config directory or one the caller could read itself by the permission
 * bits (searching every directory above it). So a member of the admin group
 * cannot make the daemon read, and quote in its errors, a file it could not.
 */
static int check_config_path(struct manager *m, const char *path, const struct bus_caller *c,
                             sd_bus_error *error)
{
        _cleanup_free_ char *real = NULL;
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        int r;

        if (path[0] != '/')
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "%s: not an absolute path", path);
        if (lstat(path, &st) < 0 || !(real = realpath(path, NULL)))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "%s: %s", path,
                                         strerror(errno));
        if (strcmp(real, path) != 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "%s: not a canonical path (it resolves to %s)", path,
                                         real);
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "%s: not a regular file", path);
        dir = realpath(m->config_dir, NULL);
        if (dir && path_in_dir(path, dir))
                return 0;
        r = bus_path_readable_by(path, c->uid, c->gids, c->n_gids);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "%s: %s", path,
                                         strerror(-r));
        if (r == 0)
                return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                         "%s: uid %u may not read it", path, (unsigned)c->uid);
        return 0;
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
        _cleanup_(bus_caller_donep) struct bus_caller caller = { 0 };
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct manager *m = userdata;
        const char *path;
        int r;

        r = sd_bus_message_read(msg, "s", &path);
        if (r < 0)
                return r;
        r = bus_check_admin(m, msg, error, &caller);
        if (r < 0)
                return r;
        r = check_config_path(m, path, &caller, error);
        if (r < 0)
                return r;
        /* The reply waits for the build (a child process), so the loop answers others meanwhile. */
        r = manager_create_domain(m, path, create_domain_replied, sd_bus_message_ref(msg), NULL,
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

        r = bus_check_admin(m, msg, error, NULL);
        if (r < 0)
                return r;
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
        SD_BUS_METHOD_WITH_ARGS("CreateDomain", SD_BUS_ARGS("s", config_path),
                                SD_BUS_RESULT("o", path), method_create_domain,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", NULL, NULL, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DomainNew", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DomainRemoved", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_VTABLE_END,
};
