/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-dbus.c — org.xensup.supervisor1.Manager on /org/xensup/supervisor1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/text.h"

#include "supervisor/attach.h"
#include "supervisor/build-queue.h"
#include "supervisor/bus-internal.h"
#include "supervisor/bus.h"
#include "supervisor/configs.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"
#include "supervisor/host.h"

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

/*
 * A call that hands over a file (CreateDomain, RestoreDomain): may the caller manage, who it is
 * (by: the audit trail's), and the file's path. 1 to go on, 0 while polkit is asked (the call
 * comes back), < 0 with error set.
 */
static int authorize_with_file(struct manager *m, sd_bus_message *msg, int fd,
                               struct bus_caller *caller, struct domain_last_action *by,
                               char **path_r, struct stat *st_r, sd_bus_error *error)
{
        int r = bus_authorize(m, msg, POLKIT_ACTION_MANAGE, error, caller);

        if (r <= 0)
                return r;
        by->uid = caller->uid;
        by->pid = caller->pid;
        by->usec = manager_now(m) * 1000000ULL;
        /* Read from the caller's descriptor only: it opened the file with its own rights. */
        r = handed_file_path(fd, path_r, st_r, error);
        return r < 0 ? r : 1;
}

/*
 * A guest given the host's own devices (a bridge port, a block device) needs more than manage:
 * 1 when creator has it (now set) or cfg needs none, 0 while polkit is asked, < 0 refused.
 */
static int authorize_host_devices(struct manager *m, sd_bus_message *msg,
                                  const struct domain_config *cfg, struct creds *creator,
                                  sd_bus_error *error)
{
        int r;

        if (creator->host_devices || !attach_needs_host_devices(cfg))
                return 1;
        r = bus_authorize(m, msg, POLKIT_ACTION_HOST_DEVICES, error, NULL);
        if (r > 0)
                creator->host_devices = true;
        return r;
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
        r = authorize_with_file(m, msg, fd, &caller, &by, &path, &st, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit is asked, the call comes back */
        in_dir = handed_file_in_config_dir(m, &st, path);
        r = manager_load_created(fd, path, in_dir, &cfg, &e);
        if (r != 0)
                return bus_reply_outcome(error, r, &e);
        creds_from_ids(&creator, caller.uid, caller.gids, caller.n_gids);
        /* The config directory is root's: its files may name the host's devices. */
        r = in_dir ? 1 : authorize_host_devices(m, msg, cfg, &creator, error);
        if (r <= 0) {
                config_free(cfg);
                return r < 0 ? r : 1; /* 0: polkit is asked, the call comes back */
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

/* RestoreDomain's flags: none yet; the argument keeps the method's signature for them. */
static int method_restore_domain(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(bus_caller_done) struct bus_caller caller = { 0 };
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_(saved_image_done) struct saved_image img = { 0 };
        _cleanup_free_ char *path = NULL;
        struct manager *m = userdata;
        struct domain_last_action by = { .action = "restore" };
        struct creds creator;
        struct stat st;
        uint64_t flags;
        int fd, r;

        r = sd_bus_message_read(msg, "ht", &fd, &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "unknown RestoreDomain flags 0x%" PRIx64 " (none known)",
                                         flags);
        r = authorize_with_file(m, msg, fd, &caller, &by, &path, &st, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit is asked, the call comes back */
        r = manager_load_image(m, fd, path, &img, &e);
        if (r != 0)
                return bus_reply_outcome(error, r, &e);
        creds_from_ids(&creator, caller.uid, caller.gids, caller.n_gids);
        /* The image's config is the caller's word: its devices are checked as CreateDomain's. */
        r = authorize_host_devices(m, msg, img.cfg, &creator, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit is asked, the call comes back */
        r = manager_restore_domain(m, &img, fd, &creator, &by, create_domain_replied,
                                   sd_bus_message_ref(msg), NULL, &e);
        if (r != 0) {
                sd_bus_message_unref(msg);
                return bus_reply_outcome(error, r, &e);
        }
        return 1;
}

/* HostShutdown's and HostBoot's deferred reply (userdata: the call): what became of each domain. */
static void host_replied(struct manager *m, const struct host_result *results, size_t n,
                         void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        (void)m;
        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(sss)", results[i].name, results[i].what,
                                          results[i].message);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void)sd_bus_reply_method_errnof(call, -r, "cannot send the results: %m");
}

/* A host call: authorized as any mutating one, answered once every domain is dealt with. */
static int host_call(sd_bus_message *msg, struct manager *m,
                     int (*start)(struct manager *m, host_done_fn done, void *userdata),
                     const char *what, sd_bus_error *error)
{
        int r = bus_authorize(m, msg, POLKIT_ACTION_MANAGE, error, NULL);

        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = start(m, host_replied, sd_bus_message_ref(msg));
        if (r < 0) {
                sd_bus_message_unref(msg);
                return sd_bus_error_setf(
                    error, r == -EBUSY ? BUS_ERROR_INVALID_STATE : SD_BUS_ERROR_FAILED, "%s: %s",
                    what, r == -EBUSY ? "one is already in progress" : strerror(-r));
        }
        return 1;
}

static int method_host_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return host_call(msg, userdata, host_shutdown_start, "the host's shutdown", error);
}

static int method_host_boot(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        return host_call(msg, userdata, host_boot_wait, "waiting for the host's boot", error);
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

/* GetHostInfo's "Domains": how many domains are in each state, states with none left out. */
static int append_domains_by_state(sd_bus_message *reply, const struct manager *m)
{
        unsigned count[_DOMAIN_STATE_MAX] = { 0 };
        int r;

        for (size_t i = 0; i < m->n_domains; i++)
                if (!m->domains[i]->removed)
                        count[m->domains[i]->state]++;
        r = sd_bus_message_open_container(reply, 'v', "a{su}");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{su}");
        for (unsigned s = 0; r >= 0 && s < _DOMAIN_STATE_MAX; s++)
                if (count[s])
                        r = sd_bus_message_append(
                            reply, "{su}", domain_state_to_string((enum domain_state)s), count[s]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* GetHostInfo's "KernelCache", when there is one: what it holds and how often it served. */
static int append_kernel_cache(sd_bus_message *reply, const struct manager *m)
{
        struct kernel_cache_stats s;

        if (!build_queue_kernel_cache_stats(m->builds, &s))
                return 0;
        return sd_bus_message_append(reply, "{sv}", "KernelCache", "a{st}", 5, "Images",
                                     (uint64_t)s.images, "Bytes", s.bytes, "MaxBytes", s.max_bytes,
                                     "Hits", s.hits, "Misses", s.misses);
}

/* xl info's host half: what the hypervisor says of itself, and the daemon's domains. */
static int method_get_host_info(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct manager *m = userdata;
        _cleanup_free_ char *err = NULL;
        struct builder_host_info h;
        int r;

        r = builder_host_info(m->builder, &h, &err);
        if (r < 0)
                return bus_reply_outcome(
                    error,
                    sup_failure(&e, LAYER_HYPERVISOR, r, "host info: %s", err ?: strerror(-r)), &e);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(
                    reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}", "DaemonVersion",
                    "s", XENSUP_VERSION, "Hypervisor", "s", builder_name(m->builder), "Version",
                    "s", h.version, "Capabilities", "s", h.capabilities, "VirtCaps", "s",
                    h.virt_caps, "Scheduler", "s", h.scheduler, "CPUs", "u", h.nr_cpus, "Nodes",
                    "u", h.nr_nodes, "CoresPerSocket", "u", h.cores_per_socket, "ThreadsPerCore",
                    "u", h.threads_per_core, "CPUKHz", "u", h.cpu_khz, "TotalMemoryKiB", "t",
                    h.total_kib, "FreeMemoryKiB", "t", h.free_kib);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Domains");
        if (r >= 0)
                r = append_domains_by_state(reply, m);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = append_kernel_cache(reply, m);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
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
        SD_BUS_METHOD_WITH_ARGS("RestoreDomain", SD_BUS_ARGS("h", image, "t", flags),
                                SD_BUS_RESULT("o", path), method_restore_domain,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("HostShutdown", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sss)", results),
                                method_host_shutdown, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("HostBoot", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sss)", results),
                                method_host_boot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", NULL, NULL, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHostInfo", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", info),
                                method_get_host_info, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DomainNew", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DomainRemoved", SD_BUS_ARGS("s", name, "o", path), 0),
        SD_BUS_VTABLE_END,
};
