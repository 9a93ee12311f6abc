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
#include "supervisor/log.h"
#include "supervisor/polkit.h"

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

/*
 * The caller as the bus vouches for it: fields read from /proc/PID (augmented)
 * are racy, the pid may be reused, so they are never used to decide.
 */
static int caller_from_message(sd_bus_message *msg, struct bus_caller *c, sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uint64_t augmented;
        const gid_t *gids = NULL;
        int r, n;

        *c = (struct bus_caller){ .uid = (uid_t)-1 };
        r = sd_bus_query_sender_creds(msg,
                                      SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID |
                                          SD_BUS_CREDS_SUPPLEMENTARY_GIDS,
                                      &creds);
        if (r < 0)
                return bus_deny(error, "cannot read the caller's credentials");
        augmented = sd_bus_creds_get_augmented_mask(creds);
        if (!(augmented & SD_BUS_CREDS_EUID) && sd_bus_creds_get_euid(creds, &c->uid) >= 0)
                ;
        else if (!(augmented & SD_BUS_CREDS_UID) && sd_bus_creds_get_uid(creds, &c->uid) >= 0)
                ;
        else
                return bus_deny(error, "the bus did not vouch for the caller's uid");
        if ((augmented & SD_BUS_CREDS_PID) || sd_bus_creds_get_pid(creds, &c->pid) < 0)
                c->pid = 0;

        if (!(augmented & SD_BUS_CREDS_SUPPLEMENTARY_GIDS) &&
            (n = sd_bus_creds_get_supplementary_gids(creds, &gids)) >= 0) {
                c->gids = calloc((size_t)n + 1, sizeof(gid_t));
                if (!c->gids)
                        return bus_reply_outcome(error, -ENOMEM, NULL);
                memcpy(c->gids, gids, (size_t)n * sizeof(gid_t));
                c->n_gids = (size_t)n;
                return 0;
        }
        r = caller_groups_from_db(c);
        if (r < 0)
                return bus_reply_outcome(
                    error, r, &(struct sup_error){ .message = "cannot read the caller's groups" });
        return 0;
}

/* Whether c is in the group named name (by gid; an unknown group has no members). */
static bool caller_in_group(const struct bus_caller *c, const char *name)
{
        struct group gr, *res = NULL;
        char buf[4096];

        if (!name || getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
                return false;
        for (size_t i = 0; i < c->n_gids; i++)
                if (c->gids[i] == res->gr_gid)
                        return true;
        return false;
}

/* What each action is, for the fallback and for telling a refused caller how to be granted it. */
static const struct bus_action {
        const char *id;
        bool admin_group; /* without polkit, --admin-group's members may do it too */
        const char *grant;
} bus_actions[] = {
        { POLKIT_ACTION_MANAGE, true,
          "add the user to group " POLKIT_GROUP ", whose rule is " POLKIT_RULES_FILE
          ", or write a rule in " POLKIT_LOCAL_RULES_DIR },
        /* Raw host disks and networks are root's to hand out: the shipped rules grant it nobody. */
        { POLKIT_ACTION_HOST_DEVICES, false,
          "it is left to administrators: write a rule in " POLKIT_LOCAL_RULES_DIR },
};

static const struct bus_action *bus_action_find(const char *id)
{
        for (size_t i = 0; i < ELEMENTSOF(bus_actions); i++)
                if (strcmp(bus_actions[i].id, id) == 0)
                        return &bus_actions[i];
        return NULL;
}

/* Why polkit did not decide, for the fallback's refusal; NULL when polkit is to be asked. */
static const char *polkit_skipped(const struct manager *m)
{
        if (m->opts.no_polkit)
                return "polkit is not asked (--polkit=no)";
        /* On a session bus anyone may own org.freedesktop.PolicyKit1: its answer is worthless. */
        if (m->opts.user_bus)
                return "polkit is not asked on a session bus";
        return NULL;
}

/* The domain a call is addressed to (by its object path), or NULL for the Manager. */
static struct domain *call_domain(struct manager *m, sd_bus_message *msg)
{
        const char *path = sd_bus_message_get_path(msg);

        for (size_t i = 0; path && i < m->n_domains; i++)
                if (!m->domains[i]->removed && strcmp(m->domains[i]->object_path, path) == 0)
                        return m->domains[i];
        return NULL;
}

/* The fallback without polkit: 1 allowed, or AccessDenied in error and -EPERM. */
static int authorize_fallback(struct manager *m, const struct bus_action *a,
                              const struct bus_caller *c, const char *why, sd_bus_error *error)
{
        if (!a->admin_group)
                return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                         "uid %u is not authorized for %s: without polkit only "
                                         "root is; %s",
                                         (unsigned)c->uid, a->id, why);
        if (caller_in_group(c, m->opts.admin_group))
                return 1;
        if (!m->opts.admin_group)
                return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                         "uid %u is not authorized for %s: it is not root, and no "
                                         "admin group is set (--admin-group); %s",
                                         (unsigned)c->uid, a->id, why);
        return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                 "uid %u is not authorized for %s: it is neither root nor in the "
                                 "admin group %s (--admin-group); %s",
                                 (unsigned)c->uid, a->id, m->opts.admin_group, why);
}

/* polkit's refusal, said so that the caller knows how to be granted the action. */
static int deny_polkit(const struct bus_action *a, const struct bus_caller *c,
                       enum polkit_answer answer, const char *detail, bool interactive,
                       sd_bus_error *error)
{
        if (answer == POLKIT_CHALLENGE && interactive)
                return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                         "uid %u is not authorized for %s: polkit requires "
                                         "authentication as an administrator, and no polkit agent "
                                         "answered; run one (e.g. pkttyagent), call as root, or %s",
                                         (unsigned)c->uid, a->id, a->grant);
        if (answer == POLKIT_CHALLENGE)
                return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                         "uid %u is not authorized for %s: polkit requires "
                                         "authentication as an administrator, and the call did "
                                         "not allow interactive authorization; call again "
                                         "allowing it with a polkit agent running (e.g. "
                                         "pkttyagent), call as root, or %s",
                                         (unsigned)c->uid, a->id, a->grant);
        if (answer == POLKIT_FAILED)
                return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                         "uid %u is not authorized for %s: polkit could not "
                                         "decide (%s)",
                                         (unsigned)c->uid, a->id, detail ? detail : "no reason");
        return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                 "uid %u is not authorized for %s (polkit said no); %s",
                                 (unsigned)c->uid, a->id, a->grant);
}

int bus_authorize(struct manager *m, sd_bus_message *msg, const char *action, sd_bus_error *error,
                  struct bus_caller *caller_r)
{
        _cleanup_(bus_caller_done) struct bus_caller c = { .uid = (uid_t)-1 };
        const struct bus_action *a = bus_action_find(action);
        const char *method = sd_bus_message_get_member(msg);
        bool interactive = sd_bus_message_get_allow_interactive_authorization(msg) > 0;
        enum polkit_answer answer = POLKIT_ABSENT;
        _cleanup_free_ char *detail = NULL;
        const char *decision, *why;
        int r;

        if (!a)
                return bus_deny(error, "unknown authorization action");
        r = caller_from_message(msg, &c, error);
        if (r < 0)
                return r;
        why = polkit_skipped(m);
        if (c.uid == 0) {
                decision = "root";
                r = 1;
        } else if (why) {
                decision = "admin-group";
                r = authorize_fallback(m, a, &c, why, error);
        } else {
                decision = "polkit";
                r = polkit_check(&m->polkit, msg, a->id, &answer, &detail);
                if (r < 0)
                        r = sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                              "uid %u is not authorized for %s: cannot ask "
                                              "polkit: %s",
                                              (unsigned)c.uid, a->id, strerror(-r));
                else if (answer == POLKIT_PENDING)
                        return 0;
                else if (answer == POLKIT_YES)
                        r = 1;
                else if (answer == POLKIT_ABSENT) {
                        decision = "admin-group";
                        r = authorize_fallback(m, a, &c, "polkit is not running", error);
                } else
                        r = deny_polkit(a, &c, answer, detail, interactive, error);
        }
        log_audit(call_domain(m, msg), method ? method : "?", c.uid, c.pid, a->id,
                  r > 0 ? decision : "refused");
        /* The error says why; the errno of every refusal is the same. */
        if (r <= 0)
                return -EPERM;
        if (caller_r) {
                *caller_r = c;
                c = (struct bus_caller){ 0 };
        }
        return 1;
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

void bus_domain_progress(struct manager *m, struct domain *d)
{
        if (!m || !m->bus || d->removed)
                return;
        (void)sd_bus_emit_properties_changed(m->bus, d->object_path, BUS_DOMAIN_IFACE, "Progress",
                                             NULL);
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
