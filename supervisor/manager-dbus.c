/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-dbus.c — org.xensup.supervisor1.Manager on /org/xensup/supervisor1.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builders/builder-sim.h"
#include "common/macros.h"

#include "supervisor/bus-internal.h"
#include "supervisor/bus.h"
#include "supervisor/manager.h"

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
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "NoSuchDomain",
                                         "no such domain: %s", key);
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
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument",
                                         "%s: not an absolute path", path);
        if (lstat(path, &st) < 0 || !(real = realpath(path, NULL)))
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument", "%s: %s", path,
                                         strerror(errno));
        if (strcmp(real, path) != 0)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument",
                                         "%s: not a canonical path (it resolves to %s)", path,
                                         real);
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument",
                                         "%s: not a regular file", path);
        dir = realpath(m->config_dir, NULL);
        if (dir && path_in_dir(path, dir))
                return 0;
        r = bus_path_readable_by(path, c->uid, c->gids, c->n_gids);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument", "%s: %s", path,
                                         strerror(-r));
        if (r == 0)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "AccessDenied",
                                         "%s: uid %u may not read it", path, (unsigned)c->uid);
        return 0;
}

/* CreateDomain's deferred reply: the new object's path once it runs, else as Start's. */
static void create_domain_replied(struct domain *d, int r, const char *message, void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;

        if (r < 0) {
                bus_reply_started(d, r, message, userdata);
                return;
        }
        call = userdata;
        sd_bus_reply_method_return(call, "o", d->object_path);
}

static int method_create_domain(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(bus_caller_donep) struct bus_caller caller = { 0 };
        _cleanup_free_ char *err = NULL;
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
                                  &err);
        if (r < 0) {
                sd_bus_message_unref(msg);
                return bus_reply_error(error, r, err);
        }
        return 1;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_free_ char *err = NULL;
        struct manager *m = userdata;
        int r;

        r = bus_check_admin(m, msg, error, NULL);
        if (r < 0)
                return r;
        r = manager_reload(m, &err);
        if (r < 0)
                return bus_reply_error(error, r, err);
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- org.xensup.supervisor1.Simulator (only with --hypervisor=sim) ---- */

static int method_sim_guest_action(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_free_ char *err = NULL;
        struct manager *m = userdata;
        const char *key, *action;
        struct domain *d;
        int a, r;

        r = sd_bus_message_read(msg, "ss", &key, &action);
        if (r < 0)
                return r;
        a = builder_sim_guest_action_from_string(action);
        if (a < 0)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument",
                                         "unknown guest action '%s' (allowed: poweroff, reboot, "
                                         "crash, watchdog, soft_reset, hang, obey, hostile)",
                                         action);
        r = bus_check_admin(m, msg, error, NULL);
        if (r < 0)
                return r;
        d = manager_find_domain(m, key);
        if (!d)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "NoSuchDomain",
                                         "no such domain: %s", key);
        if (!d->has_domid)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidState",
                                         "domain %s is %s: there is no guest to %s", d->name,
                                         domain_state_to_string(d->state), action);
        r = builder_sim_guest_action(m->builder, d->domid, (enum hv_guest_action)a, &err);
        if (r < 0)
                return bus_reply_error(error, r, err);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_sim_inject_fault(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_free_ char *err = NULL;
        struct manager *m = userdata;
        uint32_t nth, errnum, count;
        const char *op;
        int o, r;

        r = sd_bus_message_read(msg, "suuu", &op, &nth, &errnum, &count);
        if (r < 0)
                return r;
        o = builder_sim_op_from_string(op);
        if (o < 0)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument",
                                         "unknown hypervisor operation '%s'", op);
        if (errnum == 0 || errnum > 4095)
                return sd_bus_error_setf(error, BUS_ERROR_PREFIX "InvalidArgument",
                                         "errno %u out of range (1..4095)", errnum);
        r = bus_check_admin(m, msg, error, NULL);
        if (r < 0)
                return r;
        r = builder_sim_fault(m->builder, (enum hv_op)o, nth, (int)errnum, count, &err);
        if (r < 0)
                return bus_reply_error(error, r, err);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_sim_get_stats(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *err = NULL;
        struct manager *m = userdata;
        struct builder_sim_stats st;
        int r;

        r = builder_sim_stats(m->builder, &st, &err);
        if (r < 0)
                return bus_reply_error(error, r, err);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "uutt", (uint32_t)st.pid, st.domains, st.total_kib,
                                  st.free_kib);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{st}");
        if (r < 0)
                return r;
        for (unsigned op = 0; op < HV_OP_SLOTS; op++) {
                const char *name = builder_sim_op_to_string((enum hv_op)op);

                if (!name)
                        continue;
                r = sd_bus_message_append(reply, "{st}", name, st.calls[op]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable bus_sim_vtable[] = {
        SD_BUS_VTABLE_START(SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GuestAction", SD_BUS_ARGS("s", name_or_uuid, "s", action),
                                SD_BUS_NO_RESULT, method_sim_guest_action,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
            "InjectFault", SD_BUS_ARGS("s", operation, "u", nth, "u", errno_value, "u", count),
            SD_BUS_NO_RESULT, method_sim_inject_fault, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
            "GetStats", SD_BUS_NO_ARGS,
            SD_BUS_RESULT("u", pid, "u", domains, "t", total_kib, "t", free_kib, "a{st}", calls),
            method_sim_get_stats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

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
