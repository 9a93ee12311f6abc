/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.c — connecting the manager to D-Bus, the change hooks the model calls,
 * and what every handler shares: named errors and the authorization check.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/macros.h"

#include "supervisor/bus-internal.h"
#include "supervisor/bus.h"

static const char *const outcome_names[_OUTCOME_MAX] = {
        [OUTCOME_NO_SUCH_DOMAIN] = BUS_ERROR_NO_SUCH_DOMAIN,
        [OUTCOME_INVALID_STATE] = BUS_ERROR_INVALID_STATE,
        [OUTCOME_EXISTS] = BUS_ERROR_DOMAIN_EXISTS,
        [OUTCOME_INVALID_CONFIG] = BUS_ERROR_INVALID_CONFIG,
        [OUTCOME_INVALID_ARGUMENT] = BUS_ERROR_INVALID_ARGUMENT,
        [OUTCOME_DENIED] = BUS_ERROR_ACCESS_DENIED,
};

static const char *const layer_names[] = {
        [LAYER_SYSTEM] = BUS_ERROR_FAILED,
        [LAYER_HYPERVISOR] = BUS_ERROR_HYPERVISOR,
        [LAYER_XENSTORE] = BUS_ERROR_XENSTORE,
};

const char *bus_error_name(int r, enum outcome_layer layer)
{
        if (r > 0)
                return r < _OUTCOME_MAX && outcome_names[r] ? outcome_names[r] : BUS_ERROR_FAILED;
        return TABLE_LOOKUP(layer_names, layer) ? layer_names[layer] : BUS_ERROR_FAILED;
}

int bus_reply_outcome(sd_bus_error *error, int r, const struct sup_error *e)
{
        const char *msg = e && e->message ? e->message : outcome_to_string(r);

        sd_bus_error_set(error, bus_error_name(r, e ? e->layer : LAYER_SYSTEM), msg);
        /* sd-bus wants a negative return for a handler that set an error. */
        return r > 0 ? -EIO : r < 0 ? r : -EIO;
}

void bus_reply_started(struct domain *d, int r, const struct sup_error *e, void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;

        (void)d;
        if (r != 0) {
                bus_reply_outcome(&err, r, e);
                sd_bus_reply_method_error(call, &err);
        } else {
                sd_bus_reply_method_return(call, NULL);
        }
}

/* AccessDenied with a message; returns -EPERM for sd-bus. */
static int bus_deny(sd_bus_error *error, const char *msg)
{
        sd_bus_error_set(error, BUS_ERROR_ACCESS_DENIED, msg);
        return -EPERM;
}

void bus_caller_done(struct bus_caller *c)
{
        free(c->gids);
        c->gids = NULL;
        c->n_gids = 0;
}

/* The groups of uid from the user database (what dbus-daemon's policy uses too). */
static int caller_groups_from_db(struct bus_caller *c)
{
        struct passwd pw, *res = NULL;
        char buf[4096];
        int n = 32;

        if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) != 0 || !res) {
                /* Unknown user: it belongs to no group we could name. */
                c->gids = NULL;
                c->n_gids = 0;
                return 0;
        }
        for (;;) {
                _cleanup_free_ gid_t *gids = calloc((size_t)n, sizeof(gid_t));
                int got = n;

                if (!gids)
                        return -ENOMEM;
                if (getgrouplist(res->pw_name, res->pw_gid, gids, &got) >= 0) {
                        c->gids = TAKE_PTR(gids);
                        c->n_gids = (size_t)got;
                        return 0;
                }
                if (got <= n || got > 65536)
                        return -E2BIG;
                n = got;
        }
}

int bus_check_admin(struct manager *m, sd_bus_message *msg, sd_bus_error *error,
                    struct bus_caller *caller_r)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        struct bus_caller c = { .uid = (uid_t)-1 };
        uint64_t augmented;
        const gid_t *gids = NULL;
        bool allowed = false;
        int r, n;

        r = sd_bus_query_sender_creds(
            msg, SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID | SD_BUS_CREDS_SUPPLEMENTARY_GIDS, &creds);
        if (r < 0)
                return bus_deny(error, "cannot read the caller's credentials");
        /* Fields read from /proc/PID are racy (the pid may be reused): never decide on them. */
        augmented = sd_bus_creds_get_augmented_mask(creds);
        if (!(augmented & SD_BUS_CREDS_EUID) && sd_bus_creds_get_euid(creds, &c.uid) >= 0)
                ;
        else if (!(augmented & SD_BUS_CREDS_UID) && sd_bus_creds_get_uid(creds, &c.uid) >= 0)
                ;
        else
                return bus_deny(error, "the bus did not vouch for the caller's uid");

        if (!(augmented & SD_BUS_CREDS_SUPPLEMENTARY_GIDS) &&
            (n = sd_bus_creds_get_supplementary_gids(creds, &gids)) >= 0) {
                c.gids = calloc((size_t)n + 1, sizeof(gid_t));
                if (!c.gids)
                        return bus_reply_outcome(error, -ENOMEM, NULL);
                memcpy(c.gids, gids, (size_t)n * sizeof(gid_t));
                c.n_gids = (size_t)n;
        } else {
                r = caller_groups_from_db(&c);
                if (r < 0)
                        return bus_reply_outcome(
                            error, r,
                            &(struct sup_error){ .message = "cannot read the caller's groups" });
        }

        if (c.uid == 0)
                allowed = true;
        else if (m->opts.admin_group) {
                struct group gr, *res = NULL;
                char buf[4096];

                if (getgrnam_r(m->opts.admin_group, &gr, buf, sizeof(buf), &res) == 0 && res)
                        for (size_t i = 0; i < c.n_gids && !allowed; i++)
                                allowed = c.gids[i] == res->gr_gid;
        }
        if (!allowed) {
                uid_t uid = c.uid;

                bus_caller_done(&c);
                sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                  "access denied: uid %u is neither root nor in the %s group",
                                  (unsigned)uid,
                                  m->opts.admin_group ? m->opts.admin_group : "(none) admin");
                return -EPERM;
        }
        if (caller_r)
                *caller_r = c;
        else
                bus_caller_done(&c);
        return 0;
}

/* Whether st's permission bits give caller (uid, gids) the access bit (4 read, 1 search). */
static bool mode_allows(const struct stat *st, uid_t uid, const gid_t *gids, size_t n_gids, int bit)
{
        if (uid == 0)
                return true;
        if (st->st_uid == uid)
                return st->st_mode & (S_IRWXU & (mode_t)(bit << 6));
        for (size_t i = 0; i < n_gids; i++)
                if (gids[i] == st->st_gid)
                        return st->st_mode & (S_IRWXG & (mode_t)(bit << 3));
        return st->st_mode & (S_IRWXO & (mode_t)bit);
}

int bus_path_readable_by(const char *path, uid_t uid, const gid_t *gids, size_t n_gids)
{
        _cleanup_free_ char *copy = strdup(path);
        struct stat st;

        if (!copy)
                return -ENOMEM;
        if (path[0] != '/')
                return -EINVAL;
        /* Every directory above must be searchable by the caller. */
        for (char *slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (lstat(copy, &st) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                if (!mode_allows(&st, uid, gids, n_gids, 1))
                        return 0;
                *slash = '/';
        }
        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        return mode_allows(&st, uid, gids, n_gids, 4) ? 1 : 0;
}

int bus_domain_path(const char *name, char **ret)
{
        return sd_bus_path_encode(BUS_DOMAIN_PREFIX, name, ret);
}

void bus_domain_changed(struct manager *m, struct domain *d)
{
        if (!m || !m->bus || d->removed)
                return;
        /* NULL names: every property flagged EMITS_CHANGE. */
        (void)sd_bus_emit_properties_changed_strv(m->bus, d->object_path, BUS_DOMAIN_IFACE, NULL);
}

void bus_domain_added(struct manager *m, struct domain *d)
{
        if (!m || !m->bus)
                return;
        (void)sd_bus_emit_signal(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "DomainNew", "so",
                                 d->name, d->object_path);
        (void)sd_bus_emit_object_added(m->bus, d->object_path);
}

/*
 * InterfacesRemoved by hand: sd_bus_emit_object_removed() asks the fallback's
 * find callback, and the domain is already out of the table when we are called.
 */
static int emit_interfaces_removed(sd_bus *bus, const char *path)
{
        static const char *const ifaces[] = {
                "org.freedesktop.DBus.Peer",
                "org.freedesktop.DBus.Introspectable",
                "org.freedesktop.DBus.Properties",
                BUS_DOMAIN_IFACE,
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
        int r;

        r = sd_bus_message_new_signal(bus, &sig, BUS_MANAGER_PATH,
                                      "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved");
        if (r < 0)
                return r;
        r = sd_bus_message_append(sig, "o", path);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(sig, 'a', "s");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(ifaces); i++) {
                r = sd_bus_message_append(sig, "s", ifaces[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(sig);
        if (r < 0)
                return r;
        return sd_bus_send(bus, sig, NULL);
}

void bus_domain_removed(struct manager *m, struct domain *d)
{
        if (!m || !m->bus)
                return;
        (void)sd_bus_emit_signal(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "DomainRemoved", "so",
                                 d->name, d->object_path);
        (void)emit_interfaces_removed(m->bus, d->object_path);
}

int bus_open(struct manager *m, char **err_r)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *which = m->opts.user_bus ? "session" : "system";
        int r;

        if (m->opts.user_bus)
                r = sd_bus_open_user_with_description(&bus, "xensupd");
        else
                r = sd_bus_open_system_with_description(&bus, "xensupd");
        if (r < 0)
                return err_setf(err_r, r, "cannot connect to the %s bus: %s", which, strerror(-r));
        r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return err_setf(err_r, r, "cannot attach the bus to the event loop: %s",
                                strerror(-r));
        r = sd_bus_add_object_vtable(bus, NULL, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                     bus_manager_vtable, m);
        if (r < 0)
                return err_setf(err_r, r, "cannot export %s: %s", BUS_MANAGER_PATH, strerror(-r));
        /* Without it sd_bus_emit_object_added() fails with -ESRCH. */
        r = sd_bus_add_object_manager(bus, NULL, BUS_MANAGER_PATH);
        if (r < 0)
                return err_setf(err_r, r, "cannot add the object manager: %s", strerror(-r));
        r = sd_bus_add_fallback_vtable(bus, NULL, BUS_DOMAIN_PREFIX, BUS_DOMAIN_IFACE,
                                       bus_domain_vtable, bus_domain_find, m);
        if (r < 0)
                return err_setf(err_r, r, "cannot export the domain objects: %s", strerror(-r));
        r = sd_bus_add_node_enumerator(bus, NULL, BUS_DOMAIN_PREFIX, bus_domain_enumerate, m);
        if (r < 0)
                return err_setf(err_r, r, "cannot add the domain enumerator: %s", strerror(-r));
        if (m->opts.hypervisor == BUILDER_SIM) {
                r = sd_bus_add_object_vtable(bus, NULL, BUS_MANAGER_PATH, BUS_SIM_IFACE,
                                             bus_sim_vtable, m);
                if (r < 0)
                        return err_setf(err_r, r, "cannot export %s: %s", BUS_SIM_IFACE,
                                        strerror(-r));
        }
        /* The name last: a client activated by it finds every object in place. */
        r = sd_bus_request_name(bus, BUS_NAME, 0);
        if (r == -EEXIST)
                return err_setf(err_r, r, "%s is already owned on the %s bus (another xensupd?)",
                                BUS_NAME, which);
        if (r < 0)
                return err_setf(err_r, r, "cannot own %s on the %s bus: %s", BUS_NAME, which,
                                strerror(-r));
        m->bus = TAKE_PTR(bus);
        return 0;
}

void bus_close(struct manager *m)
{
        if (!m || !m->bus)
                return;
        sd_bus_flush_close_unref(m->bus);
        m->bus = NULL;
}
