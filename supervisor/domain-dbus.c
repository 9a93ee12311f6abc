/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain-dbus.c — org.xensup.supervisor1.Domain, one object per domain under
 * /org/xensup/supervisor1/domain/<escaped name>, served by a fallback vtable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/macros.h"

#include "supervisor/attach.h"
#include "supervisor/console.h"
#include "supervisor/bus-internal.h"
#include "supervisor/bus.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"
#include "supervisor/hotplug.h"
#include "supervisor/lifecycle.h"
#include "supervisor/vcpus.h"

int bus_domain_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                    void **found, sd_bus_error *error)
{
        struct domain *d = manager_find_object_path(userdata, path);

        (void)bus;
        (void)interface;
        (void)error;
        if (!d)
                return 0;
        *found = d;
        return 1;
}

int bus_domain_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                         sd_bus_error *error)
{
        _cleanup_strv_free_ char **l = NULL;
        struct manager *m = userdata;
        size_t n = 0;

        (void)bus;
        (void)prefix;
        (void)error;
        l = calloc(m->n_domains + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_domains; i++) {
                if (m->domains[i]->removed)
                        continue;
                l[n] = strdup(m->domains[i]->object_path);
                if (!l[n])
                        return -ENOMEM;
                n++;
        }
        *nodes = TAKE_PTR(l);
        return 0;
}

/* ---- properties ---- */

/* Name and UUID are arrays in struct domain: sd-bus's default "s" getter wants a char *. */
static int property_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)error;
        return sd_bus_message_append(reply, "s",
                                     strcmp(property, "UUID") == 0 ? d->uuid_string : d->name);
}

static int property_domid(sd_bus *bus, const char *path, const char *interface,
                          const char *property, sd_bus_message *reply, void *userdata,
                          sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        return sd_bus_message_append(reply, "u", d->has_domid ? d->domid : UINT32_MAX);
}

static int property_state(sd_bus *bus, const char *path, const char *interface,
                          const char *property, sd_bus_message *reply, void *userdata,
                          sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        return sd_bus_message_append(reply, "s", domain_state_to_string(d->state));
}

static int property_shutdown_reason(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        return sd_bus_message_append(reply, "s", shutdown_reason_to_string(d->shutdown_reason));
}

static int property_max_memory(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        /* A running instance's own (mem-max moves it); the file's otherwise. */
        return sd_bus_message_append(reply, "t",
                                     d->has_domid ? d->max_memory_kib
                                                  : domain_live_config(d)->maxmem_mib * 1024);
}

/* OnPoweroff, OnReboot, OnCrash, OnWatchdog, OnSoftReset: the action for that reason. */
static int property_action(sd_bus *bus, const char *path, const char *interface,
                           const char *property, sd_bus_message *reply, void *userdata,
                           sd_bus_error *error)
{
        static const struct {
                const char *property;
                enum shutdown_reason reason;
        } map[] = {
                { "OnPoweroff", SHUTDOWN_REASON_POWEROFF },
                { "OnReboot", SHUTDOWN_REASON_REBOOT },
                { "OnCrash", SHUTDOWN_REASON_CRASH },
                { "OnWatchdog", SHUTDOWN_REASON_WATCHDOG },
                { "OnSoftReset", SHUTDOWN_REASON_SOFT_RESET },
        };
        const struct domain *d = userdata;
        const char *s = NULL;

        (void)bus, (void)path, (void)interface, (void)error;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strcmp(property, map[i].property) == 0)
                        s = domain_action_to_string(config_action_for(d->config, map[i].reason));
        return sd_bus_message_append(reply, "s", s ? s : "");
}

/* RestartAt: CLOCK_REALTIME usec a waiting restart is due; 0 when none waits. */
static int property_restart_at(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        return sd_bus_message_append(
            reply, "t", d->state == DOMAIN_RESTART_WAIT ? d->restart_due * 1000000ULL : 0);
}

/* KeptOf: the uuid of the domain a kept rename-restart instance was; "" otherwise. */
static int property_kept_of(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply, void *userdata,
                            sd_bus_error *error)
{
        const struct domain *d = userdata;
        char u[37] = "";

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        if (d->origin == ORIGIN_KEPT)
                uuid_to_string(d->kept_of, u);
        return sd_bus_message_append(reply, "s", u);
}

/* LastAction: who last asked for a start, stop or destroy ("start", "reboot", ...); "" if none. */
static int property_last_action(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        return sd_bus_message_append(reply, "s", d->last_action.action);
}

static int property_failure(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply, void *userdata,
                            sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        return sd_bus_message_append(reply, "s", d->failure ? d->failure : "");
}

static int property_config_path(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        const struct domain *d = userdata;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        return sd_bus_message_append(reply, "s",
                                     d->config && d->config->path ? d->config->path : "");
}

/* One device: kind, devid, its name (vdev or host interface), what it is (target or MAC),
 * where (the block device, or the bridge), and the backend's and frontend's XenbusState. */
static int append_device(sd_bus_message *reply, const struct domain_device *dd)
{
        const struct layout_device *r = &dd->rec;
        char mac[18];

        if (r->kind == LAYOUT_DEVICE_VBD)
                return sd_bus_message_append(reply, "(susssuu)", "vbd", r->devid, r->vdev,
                                             r->target, r->device, (uint32_t)dd->backend_state,
                                             (uint32_t)dd->frontend_state);
        return sd_bus_message_append(reply, "(susssuu)", "vif", r->devid, r->ifname,
                                     mac_format(r->mac, mac), r->bridge,
                                     (uint32_t)dd->backend_state, (uint32_t)dd->frontend_state);
}

/* Devices: the running instance's disks and vifs, in the order they were attached. */
static int property_devices(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply, void *userdata,
                            sd_bus_error *error)
{
        const struct domain *d = userdata;
        int r;

        (void)bus, (void)path, (void)interface, (void)property, (void)error;
        r = sd_bus_message_open_container(reply, 'a', "(susssuu)");
        for (size_t i = 0; r >= 0 && i < d->n_devices; i++)
                r = append_device(reply, &d->devices[i]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* GetHistory, anyone's to read as the properties are: (usec, event, reason, action, who). */
static int method_get_history(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const struct domain *d = userdata;
        int r;

        (void)error;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tssss)");
        for (size_t i = 0; r >= 0 && i < d->history.n; i++) {
                const struct history_entry *e = &d->history.entries[i];
                char who[24];

                r = sd_bus_message_append(
                    reply, "(tssss)", e->usec, e->event,
                    e->reason == SHUTDOWN_REASON_NONE ? "" : shutdown_reason_to_string(e->reason),
                    e->action, history_actor_to_string(e, who, sizeof(who)));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* One vcpu-list row: (id, online, running, blocked, cpu, cpu time ns, hard, soft). */
static int append_vcpu(sd_bus_message *reply, const struct builder_vcpu_info *v, unsigned nr_cpus)
{
        _cleanup_free_ char *hard = cpulist_format(&v->hard, nr_cpus);
        _cleanup_free_ char *soft = cpulist_format(&v->soft, nr_cpus);

        if (!hard || !soft)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(ubbbutss)", v->id, v->online, v->running, v->blocked,
                                     v->cpu, v->cpu_time_ns, hard, soft);
}

static int method_get_vcpus(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_free_ struct builder_vcpu_info *vcpus = NULL;
        struct domain *d = userdata;
        unsigned nr_cpus = 0;
        size_t n = 0;
        int r;

        r = vcpus_list(d->manager, d, &vcpus, &n, &nr_cpus, &e);
        if (r != 0)
                return bus_reply_outcome(error, r, &e);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ubbbutss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_vcpu(reply, &vcpus[i], nr_cpus);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* ---- methods that change something: each is authorized first ---- */

static int domain_reply(sd_bus_message *msg, int r, const struct sup_error *e, sd_bus_error *error)
{
        if (r != 0)
                return bus_reply_outcome(error, r, e);
        return sd_bus_reply_method_return(msg, NULL);
}

/*
 * Authorize msg; for a start, stop or destroy (what non-NULL) note the caller as the domain's
 * last action, keeping the one before in *before for domain_unnote() if the call fails.
 * bus_authorize()'s result: 1 go on, 0 polkit is asked, < 0 refused.
 */
static int domain_authorize(struct domain *d, sd_bus_message *msg, const char *what,
                            struct domain_last_action *before, sd_bus_error *error)
{
        _cleanup_(bus_caller_done) struct bus_caller caller = { 0 };
        int r;

        r = bus_authorize(d->manager, msg, POLKIT_ACTION_MANAGE, error, what ? &caller : NULL);
        if (r > 0 && what) {
                *before = d->last_action;
                domain_note_action(d, what, caller.uid, caller.pid,
                                   manager_now(d->manager) * 1000000ULL);
        }
        return r;
}

/* The call noted by domain_authorize() was refused: the last action is the one before. */
static void domain_unnote(struct domain *d, int r, const char *what,
                          const struct domain_last_action *before)
{
        if (r != 0 && what)
                d->last_action = *before;
}

/* What every argument-less method does: authorize, act, reply. */
static int domain_call(sd_bus_message *msg, struct domain *d,
                       int (*op)(struct manager *m, struct domain *d, struct sup_error *e),
                       const char *what, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain_last_action before;
        int r;

        r = domain_authorize(d, msg, what, &before, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = op(d->manager, d, &e);
        domain_unnote(d, r, what, &before);
        return domain_reply(msg, r, &e, error);
}

static int domain_reboot(struct manager *m, struct domain *d, struct sup_error *e)
{
        return lifecycle_shutdown(m, d, true, 0, e);
}

/*
 * A call answered later by bus_reply_started() (which holds msg's reference): when it failed at
 * once, drop that reference and answer now.
 */
static int reply_later(sd_bus_message *msg, int r, const struct sup_error *e, sd_bus_error *error)
{
        if (r != 0) {
                sd_bus_message_unref(msg);
                return bus_reply_outcome(error, r, e);
        }
        return 1;
}

/* The reply waits for the build (a child process), so the loop answers others meanwhile. */
static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d = userdata;
        struct domain_last_action before;
        int r;

        r = domain_authorize(d, msg, "start", &before, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = lifecycle_start(d->manager, d, bus_reply_started, sd_bus_message_ref(msg), &e);
        domain_unnote(d, r, "start", &before);
        return reply_later(msg, r, &e, error);
}

static int method_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d = userdata;
        struct domain_last_action before;
        const char *mode;
        uint32_t timeout;
        bool reboot;
        int r;

        r = sd_bus_message_read(msg, "su", &mode, &timeout);
        if (r < 0)
                return r;
        if (strcmp(mode, "poweroff") == 0)
                reboot = false;
        else if (strcmp(mode, "reboot") == 0)
                reboot = true;
        else
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "unknown shutdown mode '%s' (allowed: poweroff, reboot)",
                                         mode);
        r = domain_authorize(d, msg, mode, &before, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = lifecycle_shutdown(d->manager, d, reboot, timeout, &e);
        domain_unnote(d, r, mode, &before);
        return domain_reply(msg, r, &e, error);
}

static int method_reboot(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return domain_call(msg, userdata, domain_reboot, "reboot", error);
}

static int method_destroy(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return domain_call(msg, userdata, lifecycle_destroy, "destroy", error);
}

static int method_pause(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return domain_call(msg, userdata, lifecycle_pause, NULL, error);
}

static int method_unpause(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return domain_call(msg, userdata, lifecycle_unpause, NULL, error);
}

/* The console's pty, opened here: the caller needs polkit's yes, not a right to /dev/pts. */
static int method_open_console(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_close_ int fd = -1;
        struct domain *d = userdata;
        int r;

        r = bus_authorize(d->manager, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = console_open(d->manager, d, &fd, &e);
        if (r != 0)
                return bus_reply_outcome(error, r, &e);
        return sd_bus_reply_method_return(msg, "h", fd);
}

/* A call taking a size in KiB, authorized as any change to a domain, handed to set. */
static int domain_call_kib(sd_bus_message *msg, struct domain *d, sd_bus_error *error,
                           int (*set)(struct manager *, struct domain *, uint64_t,
                                      struct sup_error *))
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        uint64_t kib;
        int r;

        r = sd_bus_message_read(msg, "t", &kib);
        if (r < 0)
                return r;
        r = bus_authorize(d->manager, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = set(d->manager, d, kib, &e);
        return domain_reply(msg, r, &e, error);
}

static int method_set_memory(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return domain_call_kib(msg, userdata, error, lifecycle_set_memory);
}

static int method_set_max_memory(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return domain_call_kib(msg, userdata, error, lifecycle_set_max_memory);
}

static int method_pin_vcpu(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d = userdata;
        const char *hard, *soft;
        int32_t vcpu;
        int r;

        r = sd_bus_message_read(msg, "iss", &vcpu, &hard, &soft);
        if (r < 0)
                return r;
        r = bus_authorize(d->manager, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = vcpus_pin(d->manager, d, vcpu, hard, soft, &e);
        return domain_reply(msg, r, &e, error);
}

static int method_set_vcpus(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d = userdata;
        uint32_t n;
        int r;

        r = sd_bus_message_read(msg, "u", &n);
        if (r < 0)
                return r;
        r = bus_authorize(d->manager, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = lifecycle_set_vcpus(d->manager, d, n, &e);
        return domain_reply(msg, r, &e, error);
}

/* Save's flags. */
#define SAVE_FLAG_LIVE (UINT64_C(1) << 0)

/* The descriptor Save was handed must take the image: open for writing, not a directory. */
static int check_image_target(int fd, sd_bus_error *error)
{
        int flags = fcntl(fd, F_GETFL);
        struct stat st;

        if (flags < 0 || fstat(fd, &st) < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the image file descriptor: %s", strerror(errno));
        if ((flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the image file descriptor is not open for writing");
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "the image file descriptor is neither a regular file, "
                                         "a pipe nor a socket");
        return 0;
}

/* Save's and Migrate's spec from their flags (method names them) and the daemon's timeouts. */
static int save_spec_init(const struct domain *d, const char *method, uint64_t flags,
                          struct save_job_spec *spec, sd_bus_error *error)
{
        if (flags & ~SAVE_FLAG_LIVE)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "unknown %s flags 0x%" PRIx64 " (known: 0x1, live)",
                                         method, flags & ~SAVE_FLAG_LIVE);
        spec->live = flags & SAVE_FLAG_LIVE;
        spec->ack_timeout_ms = SAVE_ACK_TIMEOUT_MS_DEFAULT;
        spec->suspend_timeout_ms = SAVE_SUSPEND_TIMEOUT_MS_DEFAULT;
        if (d->manager->save_ack_timeout_ms)
                spec->ack_timeout_ms = spec->suspend_timeout_ms = d->manager->save_ack_timeout_ms;
        return 0;
}

/* The reply waits for the save (a child process): the domain is gone by then, or runs on. */
static int method_save(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d = userdata;
        struct domain_last_action before;
        struct save_job_spec spec = { .fd = -1 };
        uint64_t flags;
        int r;

        r = sd_bus_message_read(msg, "ht", &spec.fd, &flags);
        if (r < 0)
                return r;
        r = save_spec_init(d, "Save", flags, &spec, error);
        if (r >= 0)
                r = check_image_target(spec.fd, error);
        if (r < 0)
                return r;
        r = domain_authorize(d, msg, "save", &before, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = lifecycle_save(d->manager, d, &spec, bus_reply_started, sd_bus_message_ref(msg), &e);
        domain_unnote(d, r, "save", &before);
        return reply_later(msg, r, &e, error);
}

/* The reply waits for the migration: the incoming instance runs by then, or the source runs on. */
static int method_migrate(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d = userdata;
        struct domain_last_action before;
        struct save_job_spec spec = { .fd = -1 };
        const char *host;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(msg, "st", &host, &flags);
        if (r < 0)
                return r;
        r = save_spec_init(d, "Migrate", flags, &spec, error);
        if (r < 0)
                return r;
        if (strcmp(host, "localhost") != 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "cannot migrate to '%s': only localhost is supported "
                                         "(the incoming instance is built on this host)",
                                         host);
        r = domain_authorize(d, msg, "migrate", &before, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = lifecycle_migrate(d->manager, d, &spec, bus_reply_started, sd_bus_message_ref(msg), &e);
        domain_unnote(d, r, "migrate", &before);
        return reply_later(msg, r, &e, error);
}

static int method_cancel_save(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return domain_call(msg, userdata, lifecycle_cancel_save, NULL, error);
}

/*
 * Progress: the long operation running ("save", "restore", "" for none), its bytes done and
 * what it is expected to come to (a save: the guest's memory; a restore: the image's size).
 */
static int property_progress(sd_bus *bus, const char *path, const char *interface,
                             const char *property, sd_bus_message *reply, void *userdata,
                             sd_bus_error *error)
{
        const struct domain *d = userdata;
        uint64_t done = 0, total = 0;
        const char *job = "";

        (void)bus;
        (void)path;
        (void)interface;
        (void)property;
        (void)error;
        if (d->state == DOMAIN_MIGRATING) {
                /* A socket has no offset to read: the guest's memory is all that is known. */
                job = "migrate";
                total = d->memory_kib * 1024;
        } else if (save_job_running(d)) {
                job = "save";
                done = save_job_written(d);
                total = d->memory_kib * 1024;
        } else if (d->state == DOMAIN_RESTORING &&
                   build_queue_restore_progress(d->manager->builds, d, &done, &total) == 0) {
                job = "restore";
        }
        return sd_bus_message_append(reply, "(stt)", job, done, total);
}

/*
 * AttachDisk, AttachNic: the reply waits for the device to be connected (a child does it). The
 * caller's rights open a disk's target, as CreateDomain's files.
 */
static int device_attach(sd_bus_message *msg, struct domain *d, enum layout_device_kind kind,
                         sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_(bus_caller_done) struct bus_caller caller = { 0 };
        const char *spec;
        struct creds as;
        int persist, r;

        r = sd_bus_message_read(msg, "sb", &spec, &persist);
        if (r < 0)
                return r;
        r = bus_authorize(d->manager, msg, POLKIT_ACTION_MANAGE, error, &caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        creds_from_ids(&as, caller.uid, caller.gids, caller.n_gids);
        /* A bridge port, a block device of the host: the host-devices authorization too. */
        if (!as.host_devices && attach_spec_needs_host_devices(kind, spec)) {
                r = bus_authorize(d->manager, msg, POLKIT_ACTION_HOST_DEVICES, error, NULL);
                if (r <= 0)
                        return r < 0 ? r : 1; /* 0: polkit is asked, the call comes back */
                as.host_devices = true;
        }
        r = hotplug_attach(d->manager, d, kind, spec, persist, &as, bus_reply_started,
                           sd_bus_message_ref(msg), &e);
        return reply_later(msg, r, &e, error);
}

/* DetachDisk, DetachNic: the reply waits for the device to be gone. */
static int device_detach(sd_bus_message *msg, struct domain *d, enum layout_device_kind kind,
                         sd_bus_error *error)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        const char *id;
        int force, r;

        r = sd_bus_message_read(msg, "sb", &id, &force);
        if (r < 0)
                return r;
        r = bus_authorize(d->manager, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = hotplug_detach(d->manager, d, kind, id, force, bus_reply_started,
                           sd_bus_message_ref(msg), &e);
        return reply_later(msg, r, &e, error);
}

static int method_attach_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return device_attach(msg, userdata, LAYOUT_DEVICE_VBD, error);
}

static int method_detach_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return device_detach(msg, userdata, LAYOUT_DEVICE_VBD, error);
}

static int method_attach_nic(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return device_attach(msg, userdata, LAYOUT_DEVICE_VIF, error);
}

static int method_detach_nic(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return device_detach(msg, userdata, LAYOUT_DEVICE_VIF, error);
}

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable bus_domain_vtable[] = {
        SD_BUS_VTABLE_START(SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Name", "s", property_name, 0, EMITS),
        SD_BUS_PROPERTY("UUID", "s", property_name, 0, EMITS),
        SD_BUS_PROPERTY("DomID", "u", property_domid, 0, EMITS),
        SD_BUS_PROPERTY("State", "s", property_state, 0, EMITS),
        SD_BUS_PROPERTY("ShutdownReason", "s", property_shutdown_reason, 0, EMITS),
        SD_BUS_PROPERTY("MemoryKiB", "t", NULL, offsetof(struct domain, memory_kib), EMITS),
        SD_BUS_PROPERTY("MaxMemoryKiB", "t", property_max_memory, 0, EMITS),
        SD_BUS_PROPERTY("VCPUs", "u", NULL, offsetof(struct domain, vcpus), EMITS),
        SD_BUS_PROPERTY("OnPoweroff", "s", property_action, 0, EMITS),
        SD_BUS_PROPERTY("OnReboot", "s", property_action, 0, EMITS),
        SD_BUS_PROPERTY("OnCrash", "s", property_action, 0, EMITS),
        SD_BUS_PROPERTY("OnWatchdog", "s", property_action, 0, EMITS),
        SD_BUS_PROPERTY("OnSoftReset", "s", property_action, 0, EMITS),
        SD_BUS_PROPERTY("RestartCount", "u", NULL, offsetof(struct domain, restart_count), EMITS),
        SD_BUS_PROPERTY("Failure", "s", property_failure, 0, EMITS),
        SD_BUS_PROPERTY("ConfigPath", "s", property_config_path, 0, EMITS),
        SD_BUS_PROPERTY("StartedAt", "t", NULL, offsetof(struct domain, started_at_usec), EMITS),
        SD_BUS_PROPERTY("RestartAt", "t", property_restart_at, 0, EMITS),
        SD_BUS_PROPERTY("KeptOf", "s", property_kept_of, 0, EMITS),
        SD_BUS_PROPERTY("LastAction", "s", property_last_action, 0, EMITS),
        SD_BUS_PROPERTY("LastActionUID", "u", NULL, offsetof(struct domain, last_action.uid),
                        EMITS),
        SD_BUS_PROPERTY("LastActionPID", "u", NULL, offsetof(struct domain, last_action.pid),
                        EMITS),
        SD_BUS_PROPERTY("LastActionAt", "t", NULL, offsetof(struct domain, last_action.usec),
                        EMITS),
        SD_BUS_PROPERTY("Devices", "a(susssuu)", property_devices, 0, EMITS),
        SD_BUS_PROPERTY("Progress", "(stt)", property_progress, 0, EMITS),
        SD_BUS_METHOD("Start", NULL, NULL, method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Save", SD_BUS_ARGS("h", image, "t", flags), SD_BUS_NO_RESULT,
                                method_save, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Migrate", SD_BUS_ARGS("s", host, "t", flags), SD_BUS_NO_RESULT,
                                method_migrate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("CancelSave", NULL, NULL, method_cancel_save, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachDisk", SD_BUS_ARGS("s", spec, "b", persist),
                                SD_BUS_NO_RESULT, method_attach_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachDisk", SD_BUS_ARGS("s", vdev, "b", force), SD_BUS_NO_RESULT,
                                method_detach_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachNic", SD_BUS_ARGS("s", spec, "b", persist), SD_BUS_NO_RESULT,
                                method_attach_nic, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachNic", SD_BUS_ARGS("s", id, "b", force), SD_BUS_NO_RESULT,
                                method_detach_nic, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Shutdown", SD_BUS_ARGS("s", mode, "u", timeout), SD_BUS_NO_RESULT,
                                method_shutdown, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reboot", NULL, NULL, method_reboot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Destroy", NULL, NULL, method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Pause", NULL, NULL, method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Unpause", NULL, NULL, method_unpause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(tssss)", history),
                                method_get_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenConsole", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", console),
                                method_open_console, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetMemory", SD_BUS_ARGS("t", kib), SD_BUS_NO_RESULT,
                                method_set_memory, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetVCPUs", SD_BUS_ARGS("u", n), SD_BUS_NO_RESULT, method_set_vcpus,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetMaxMemory", SD_BUS_ARGS("t", kib), SD_BUS_NO_RESULT,
                                method_set_max_memory, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetVCPUs", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ubbbutss)", vcpus),
                                method_get_vcpus, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PinVCPU", SD_BUS_ARGS("i", vcpu, "s", hard, "s", soft),
                                SD_BUS_NO_RESULT, method_pin_vcpu, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
