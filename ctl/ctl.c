/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensupctl — the command line client of xensupd, a thin sd-bus caller of
 * org.xensup.supervisor1 (see units/org.xensup.supervisor1.xml).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "common/bus-names.h"
#include "common/macros.h"
#include "common/parse.h"

#include "ctl/ctl-util.h"

/* How long create and start wait for the daemon to build the domain (queued builds included). */
#define CTL_BUILD_TIMEOUT_USEC (10ULL * 60 * 1000000)
/* How long host-shutdown and host-boot wait: every domain saved or restored, a few at a time. */
#define CTL_HOST_TIMEOUT_USEC (60ULL * 60 * 1000000)

struct ctl {
        sd_bus *bus;
        bool json;
        bool reboot;
        bool force;   /* block-detach, network-detach */
        bool persist; /* block-attach, network-attach */
        bool live;    /* save */
        bool user;
        long timeout; /* -1 when not given */
};

static void usage(FILE *f)
{
        fputs(
            "Usage: xensupctl [--user] [--json] COMMAND [ARGS]\n"
            "\n"
            "Control xensupd, the Xen domain supervisor, over D-Bus.\n"
            "\n"
            "Commands:\n"
            "  list                          the supervised domains\n"
            "  status NAME                   state, domid, uptime, restarts, last reason, "
            "failure,\n"
            "                                when a waiting restart is due\n"
            "  create FILE                   validate a config, supervise and start it\n"
            "  start NAME                    start a stopped, preserved or failed domain\n"
            "  shutdown NAME [--reboot] [--timeout S]\n"
            "                                ask the guest to stop; destroy after S seconds\n"
            "  reboot NAME                   ask the guest to reboot\n"
            "  destroy NAME                  destroy the domain now\n"
            "  pause NAME | unpause NAME\n"
            "  mem-set NAME SIZE             memory target: 512M, 2G, 1048576K (plain number: "
            "MiB)\n"
            "  vcpu-set NAME N               vcpus online\n"
            "  reload                        re-read the config directory\n"
            "  monitor                       print one line per change until interrupted\n"
            "  block-attach NAME SPEC [--persist]\n"
            "                                hot-plug a disk (xl syntax: \"vdev=xvdb, "
            "target=/srv/x.img\");\n"
            "                                --persist also adds it to the domain's file\n"
            "  block-detach NAME VDEV --force\n"
            "                                hot-unplug a disk (the guest loses what it had not "
            "written)\n"
            "  network-attach NAME SPEC [--persist]\n"
            "                                hot-plug a vif (\"bridge=xenbr0\")\n"
            "  network-detach NAME DEVID|MAC [--force]\n"
            "                                hot-unplug a vif (forced when the guest does not "
            "let go)\n"
            "  block-list NAME               the running instance's disks and their states\n"
            "  network-list NAME             its network interfaces and their states\n"
            "  save NAME FILE|- [--live]     suspend the guest into a new image FILE (-: standard\n"
            "                                output) and destroy it; Ctrl-C cancels (it runs on)\n"
            "  restore FILE                  run the guest saved in FILE again where it was\n"
            "  migrate NAME localhost [--live]\n"
            "                                move the guest into a new domain of this host (same\n"
            "                                uuid, new domid); Ctrl-C cancels (it runs on)\n"
            "  host-shutdown                 each running domain's on_host_shutdown: save it into\n"
            "                                the save directory, shut it down, or keep it\n"
            "  host-boot                     wait for the domains saved at the host's shutdown\n"
            "                                to be restored; status 1 if one failed\n"
            "  sim crash|reboot|poweroff|hang NAME\n"
            "                                make a simulated guest do it (--hypervisor=sim)\n"
            "\n"
            "Options:\n"
            "  --user      talk to xensupd on the session bus (xensupd --user)\n"
            "  --json      JSON output for list, status, block-list and network-list\n"
            "  -h, --help  this text\n"
            "\n"
            "NAME is a domain name or uuid.\n"
            "Exit status: 0 ok, 1 any other error (the message says which step failed),\n"
            "2 usage error, 3 xensupd not reachable, 4 no such domain, 5 access denied.\n",
            f);
}

/* Print the message for a failed call; returns its exit code (ctl_exit_code()). */
static int report_error(const sd_bus_error *e, int r, const char *what)
{
        const char *msg = e && e->message ? e->message : strerror(-r);
        int code = ctl_exit_code(e ? e->name : NULL);

        if (code == CTL_EXIT_NO_DAEMON)
                fprintf(stderr, "xensupctl: xensupd is not running (%s)\n", msg);
        else if (e && e->name &&
                 (strcmp(e->name, SD_BUS_ERROR_UNKNOWN_INTERFACE) == 0 ||
                  strcmp(e->name, SD_BUS_ERROR_UNKNOWN_METHOD) == 0) &&
                 what && strcmp(what, "sim") == 0)
                fprintf(stderr,
                        "xensupctl: xensupd has no simulator (it runs with --hypervisor=xen)\n");
        else if (what && code == CTL_EXIT_FAILED)
                fprintf(stderr, "xensupctl: %s: %s\n", what, msg);
        else
                fprintf(stderr, "xensupctl: %s\n", msg);
        return code;
}

/* The object path of a domain by name or uuid; an exit code on failure. */
static int resolve(struct ctl *c, const char *name, char **path_r)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "GetDomain",
                               &e, &reply, "s", name);
        if (r < 0)
                return report_error(&e, r, NULL);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return report_error(NULL, r, "bad reply");
        *path_r = strdup(path);
        if (!*path_r)
                return report_error(NULL, -ENOMEM, NULL);
        return CTL_EXIT_OK;
}

/* Read a GetAll reply into info; unknown properties are skipped. */
static int read_properties(sd_bus_message *reply, struct ctl_domain *info)
{
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *contents;
                char type;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(reply, &type, &contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_enter_container(reply, 'v', contents);
                if (r < 0)
                        return r;
                if (strcmp(contents, "s") == 0) {
                        const char *s;

                        r = sd_bus_message_read(reply, "s", &s);
                        if (r >= 0)
                                r = ctl_domain_set_string(info, key, s);
                } else if (strcmp(contents, "u") == 0) {
                        uint32_t u;

                        r = sd_bus_message_read(reply, "u", &u);
                        if (r >= 0)
                                ctl_domain_set_number(info, key, u);
                } else if (strcmp(contents, "t") == 0) {
                        uint64_t t;

                        r = sd_bus_message_read(reply, "t", &t);
                        if (r >= 0)
                                ctl_domain_set_number(info, key, t);
                } else
                        r = sd_bus_message_skip(reply, contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

/* Every Domain property of the object at path. */
static int get_domain(struct ctl *c, const char *path, struct ctl_domain *info)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               &e, &reply, "s", BUS_DOMAIN_IFACE);
        if (r < 0)
                return report_error(&e, r, NULL);
        info->path = strdup(path);
        if (!info->path)
                return report_error(NULL, -ENOMEM, NULL);
        r = read_properties(reply, info);
        if (r < 0)
                return report_error(NULL, r, "bad reply");
        return CTL_EXIT_OK;
}

static int cmd_list(struct ctl *c)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ctl_domain_list_freep) struct ctl_domain_list list = { 0 };
        const char *name, *uuid, *state, *path;
        uint32_t domid;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "ListDomains",
                               &e, &reply, NULL);
        if (r < 0)
                return report_error(&e, r, NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(ssuso)");
        if (r < 0)
                return report_error(NULL, r, "bad reply");
        while ((r = sd_bus_message_read(reply, "(ssuso)", &name, &uuid, &domid, &state, &path)) >
               0) {
                struct ctl_domain *info = ctl_domain_list_add(&list);

                if (!info)
                        return report_error(NULL, -ENOMEM, NULL);
                /* GetAll for the fields ListDomains leaves out (reason, restarts). */
                r = get_domain(c, path, info);
                if (r == CTL_EXIT_NO_DOMAIN || r == CTL_EXIT_FAILED) {
                        /* removed between the two calls */
                        list.n--;
                        ctl_domain_clear(info);
                        continue;
                }
                if (r != CTL_EXIT_OK)
                        return r;
        }
        if (r < 0)
                return report_error(NULL, r, "bad reply");
        if (c->json)
                ctl_print_list_json(stdout, &list);
        else
                ctl_print_list_table(stdout, &list);
        return CTL_EXIT_OK;
}

static int cmd_status(struct ctl *c, const char *name)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain info = { 0 };
        _cleanup_free_ char *path = NULL;
        int r;

        r = resolve(c, name, &path);
        if (r != CTL_EXIT_OK)
                return r;
        r = get_domain(c, path, &info);
        if (r != CTL_EXIT_OK)
                return r;
        if (c->json) {
                ctl_print_domain_json(stdout, &info);
                fputc('\n', stdout);
        } else
                ctl_print_status(stdout, &info, ctl_now_usec());
        return CTL_EXIT_OK;
}

#define CTL_DEVICES_MAX 128 /* more than a config may hold (DISKS_MAX + VIFS_MAX) */

/* block-list and network-list: the domain's Devices property, those of kind. */
static int cmd_devices(struct ctl *c, const char *name, const char *kind)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        struct ctl_device devs[CTL_DEVICES_MAX];
        size_t n = 0;
        int r;

        r = resolve(c, name, &path);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_get_property(c->bus, BUS_NAME, path, BUS_DOMAIN_IFACE, "Devices", &e, &reply,
                                "a(susssuu)");
        if (r < 0)
                return report_error(&e, r, NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(susssuu)");
        while (r >= 0 && n < CTL_DEVICES_MAX) {
                struct ctl_device *d = &devs[n];

                r = sd_bus_message_read(reply, "(susssuu)", &d->kind, &d->devid, &d->name, &d->what,
                                        &d->where, &d->backend_state, &d->frontend_state);
                if (r <= 0)
                        break;
                n++;
        }
        if (r < 0)
                return report_error(NULL, r, "bad reply");
        ctl_print_devices(stdout, devs, n, kind, c->json);
        return CTL_EXIT_OK;
}

/*
 * CreateDomain, RestoreDomain: FILE opened here, with our rights, and handed over: the daemon
 * (root) reads this descriptor and never the name, so it reads only what we could. O_NONBLOCK:
 * a FIFO must not hang us; the daemon refuses anything but a regular file.
 */
static int call_with_file(struct ctl *c, const char *method, const char *file)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                fprintf(stderr, "xensupctl: %s: %s\n", file, strerror(errno));
                return CTL_EXIT_FAILED;
        }
        /* RestoreDomain has flags (none yet); CreateDomain has none. */
        if (strcmp(method, "RestoreDomain") == 0)
                r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                       method, &e, &reply, "ht", fd, (uint64_t)0);
        else
                r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                       method, &e, &reply, "h", fd);
        if (r < 0)
                return report_error(&e, r, NULL);
        return CTL_EXIT_OK;
}

/* ---- save and restore ---- */

/* A save or migration in flight: its reply, its progress, Ctrl-C. */
struct save_call {
        struct ctl *ctl;
        const char *path; /* the domain's object */
        const char *host; /* a migration's destination; NULL for a save */
        const char *verb; /* "saving", "migrating" */
        unsigned seconds; /* how long it has run */
        sd_bus_error error;
        int r;
        bool done;
        bool cancelled;
        bool tty;
        unsigned shown; /* percent last shown */
};

static int on_save_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        struct save_call *sc = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        (void)ret_error;
        sc->done = true;
        if (e) {
                sc->r = -sd_bus_message_get_errno(reply);
                sd_bus_error_copy(&sc->error, e);
        }
        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(reply)), 0);
}

/* Once a second: how much of the image is written, a bar on a terminal, a line otherwise. */
static int on_save_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct save_call *sc = userdata;
        uint64_t done = 0, total = 0;
        const char *job = "";
        unsigned pct;

        (void)usec;
        sc->seconds++;
        if (sd_bus_get_property(sc->ctl->bus, BUS_NAME, sc->path, BUS_DOMAIN_IFACE, "Progress",
                                NULL, &reply, "(stt)") >= 0)
                (void)sd_bus_message_read(reply, "(stt)", &job, &done, &total);
        if (total > 0 && done == 0 && sc->host) {
                /* A migration's socket has no offset: how long, not how far. */
                if (sc->tty)
                        fprintf(stderr, "\r%s to %s: %u s", sc->verb, sc->host, sc->seconds);
                sc->shown = 1;
        } else if (total > 0) {
                /* The stream is a little more than the memory: 100 is for the reply. */
                pct = done >= total ? 99 : (unsigned)(done * 100 / total);
                if (sc->tty) {
                        char bar[41];
                        unsigned full = pct * 40 / 100;

                        memset(bar, '#', full);
                        memset(bar + full, '.', 40 - full);
                        bar[40] = '\0';
                        fprintf(stderr, "\r%s [%s] %3u%%", sc->verb, bar, pct);
                } else if (pct / 10 != sc->shown / 10) {
                        fprintf(stderr, "%s: %u%% (%" PRIu64 " MiB written)\n", sc->verb, pct,
                                done >> 20);
                }
                sc->shown = pct;
        }
        if (sd_event_source_set_time_relative(s, 1000000) < 0)
                return 0;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Ctrl-C: the daemon is asked to cancel, and the save's own reply ends the wait. */
static int on_save_interrupt(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        struct save_call *sc = userdata;

        (void)s;
        (void)si;
        if (sc->cancelled)
                return 0;
        sc->cancelled = true;
        if (sd_bus_call_method(sc->ctl->bus, BUS_NAME, sc->path, BUS_DOMAIN_IFACE, "CancelSave", &e,
                               NULL, NULL) < 0)
                fprintf(stderr, "\nxensupctl: cannot cancel: %s\n", e.message ? e.message : "");
        return 0;
}

/* Run the Save (into fd) or Migrate call on a loop: progress while it lasts, Ctrl-C to cancel. */
static int save_call_run(struct save_call *sc, int fd)
{
        _cleanup_(sd_event_source_unrefp) sd_event_source *tick = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_event_unrefp) sd_event *ev = NULL;
        sigset_t mask;
        int r;

        r = sd_event_default(&ev);
        if (r >= 0)
                r = sd_bus_attach_event(sc->ctl->bus, ev, SD_EVENT_PRIORITY_NORMAL);
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (r >= 0)
                r = sd_event_add_signal(ev, NULL, SIGINT, on_save_interrupt, sc);
        if (r >= 0)
                r = sd_event_add_signal(ev, NULL, SIGTERM, on_save_interrupt, sc);
        if (r >= 0)
                r = sd_event_add_time_relative(ev, &tick, CLOCK_MONOTONIC, 1000000, 0, on_save_tick,
                                               sc);
        if (r >= 0 && sc->host)
                r = sd_bus_call_method_async(sc->ctl->bus, &slot, BUS_NAME, sc->path,
                                             BUS_DOMAIN_IFACE, "Migrate", on_save_reply, sc, "st",
                                             sc->host, (uint64_t)(sc->ctl->live ? 1 : 0));
        else if (r >= 0)
                r = sd_bus_call_method_async(sc->ctl->bus, &slot, BUS_NAME, sc->path,
                                             BUS_DOMAIN_IFACE, "Save", on_save_reply, sc, "ht", fd,
                                             (uint64_t)(sc->ctl->live ? 1 : 0));
        if (r >= 0)
                r = sd_event_loop(ev);
        if (sc->tty && sc->shown)
                fputc('\n', stderr);
        return r;
}

static int cmd_save(struct ctl *c, const char *name, const char *file)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct save_call sc = {
                .ctl = c, .verb = "saving", .error = SD_BUS_ERROR_NULL, .tty = isatty(STDERR_FILENO)
        };
        int r;

        r = resolve(c, name, &path);
        if (r != CTL_EXIT_OK)
                return r;
        sc.path = path;
        if (strcmp(file, "-") == 0) {
                /* To a pipe, as `xensupctl save web1 - | ssh host ...`; never a terminal. */
                if (isatty(STDOUT_FILENO)) {
                        fprintf(stderr, "xensupctl: save: refusing to write an image to a "
                                        "terminal\n");
                        return CTL_EXIT_USAGE;
                }
                fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        } else {
                /* A new file, ours: an image overwrites nothing, and a failed save leaves none. */
                fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
        }
        if (fd < 0) {
                fprintf(stderr, "xensupctl: %s: %s\n", file,
                        errno == EEXIST ? "exists; an image is always a new file"
                                        : strerror(errno));
                return CTL_EXIT_FAILED;
        }
        r = save_call_run(&sc, fd);
        if (r >= 0 && sc.r < 0)
                r = sc.r;
        if (r < 0) {
                if (strcmp(file, "-") != 0)
                        (void)unlink(file);
                r = report_error(&sc.error, r, NULL);
        } else {
                r = CTL_EXIT_OK;
        }
        sd_bus_error_free(&sc.error);
        return r;
}

/* migrate NAME localhost: the reply comes once the incoming instance runs (or the source does). */
static int cmd_migrate(struct ctl *c, const char *name, const char *host)
{
        _cleanup_free_ char *path = NULL;
        struct save_call sc = { .ctl = c,
                                .host = host,
                                .verb = "migrating",
                                .error = SD_BUS_ERROR_NULL,
                                .tty = isatty(STDERR_FILENO) };
        int r;

        r = resolve(c, name, &path);
        if (r != CTL_EXIT_OK)
                return r;
        sc.path = path;
        r = save_call_run(&sc, -1);
        if (r >= 0 && sc.r < 0)
                r = sc.r;
        r = r < 0 ? report_error(&sc.error, r, NULL) : CTL_EXIT_OK;
        sd_bus_error_free(&sc.error);
        return r;
}

/* host-shutdown, host-boot: one line (or object) per domain, status 1 when one failed. */
static int cmd_host(struct ctl *c, const char *method)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *what, *message;
        bool failed = false, first = true;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, method, &e,
                               &reply, NULL);
        if (r < 0)
                return report_error(&e, r, NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        if (c->json && r >= 0)
                fputs("[", stdout);
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sss)", &name, &what, &message)) > 0) {
                failed = failed || strcmp(what, "failed") == 0;
                if (!c->json) {
                        printf("%s: %s%s%s\n", name, what, message[0] ? ": " : "", message);
                        continue;
                }
                printf("%s\n  {\"name\": ", first ? "" : ",");
                ctl_json_string(stdout, name);
                fputs(", \"result\": ", stdout);
                ctl_json_string(stdout, what);
                fputs(", \"message\": ", stdout);
                ctl_json_string(stdout, message);
                fputs("}", stdout);
                first = false;
        }
        if (c->json)
                fputs(first ? "]\n" : "\n]\n", stdout);
        if (r < 0)
                return report_error(NULL, r, "bad reply");
        return failed ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}

static int cmd_reload(struct ctl *c)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "Reload", &e,
                               NULL, NULL);
        if (r < 0)
                return report_error(&e, r, NULL);
        return CTL_EXIT_OK;
}

/* A Domain method on NAME, with arguments in types/... */
static int call_domain(struct ctl *c, const char *name, const char *method, const char *types, ...)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        va_list ap;
        int r;

        r = resolve(c, name, &path);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_new_method_call(c->bus, &call, BUS_NAME, path, BUS_DOMAIN_IFACE, method);
        if (r < 0)
                return report_error(NULL, r, NULL);
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(call, types, ap);
                va_end(ap);
                if (r < 0)
                        return report_error(NULL, r, NULL);
        }
        r = sd_bus_call(c->bus, call, 0, &e, &reply);
        if (r < 0)
                return report_error(&e, r, NULL);
        return CTL_EXIT_OK;
}

static int cmd_sim(struct ctl *c, const char *action, const char *name)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_SIM_IFACE, "GuestAction", &e,
                               NULL, "ss", name, action);
        if (r < 0)
                return report_error(&e, r, "sim");
        return CTL_EXIT_OK;
}

/* ---- monitor ---- */

struct monitor {
        struct ctl *ctl;
        struct ctl_domain_list known; /* last values seen, to print only what changed */
};

static void monitor_print_state(const struct ctl_domain *d)
{
        if (d->domid == CTL_DOMID_NONE)
                printf("%s: state=%s domid=none\n", d->name ? d->name : "?",
                       d->state ? d->state : "?");
        else
                printf("%s: state=%s domid=%" PRIu64 "\n", d->name ? d->name : "?",
                       d->state ? d->state : "?", d->domid);
}

static void monitor_done(struct monitor *mon)
{
        ctl_domain_list_freep(&mon->known);
}

static struct ctl_domain *monitor_find(struct monitor *mon, const char *path)
{
        for (size_t i = 0; i < mon->known.n; i++)
                if (mon->known.items[i].path && strcmp(mon->known.items[i].path, path) == 0)
                        return &mon->known.items[i];
        return NULL;
}

static int on_properties_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain now = { 0 };
        struct monitor *mon = userdata;
        const char *path = sd_bus_message_get_path(msg);
        const char *iface;
        struct ctl_domain *old;
        int r;

        (void)error;
        if (!path || strncmp(path, BUS_DOMAIN_PREFIX "/", strlen(BUS_DOMAIN_PREFIX) + 1) != 0)
                return 0;
        r = sd_bus_message_read(msg, "s", &iface);
        if (r < 0 || strcmp(iface, BUS_DOMAIN_IFACE) != 0)
                return 0;
        old = monitor_find(mon, path);
        if (!old) {
                old = ctl_domain_list_add(&mon->known);
                if (!old)
                        return -ENOMEM;
                old->path = strdup(path);
                if (!old->path)
                        return -ENOMEM;
        }
        r = ctl_domain_copy(&now, old);
        if (r < 0)
                return r;
        r = read_properties(msg, &now);
        if (r < 0)
                return 0;
        if (!old->name)
                /* first seen (a new domain): where it stands, not every property */
                monitor_print_state(&now);
        else
                ctl_print_changes(stdout, old, &now);
        ctl_domain_clear(old);
        *old = now;
        memset(&now, 0, sizeof(now));
        return 0;
}

static int on_domain_signal(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        struct monitor *mon = userdata;
        const char *name, *path;
        bool added = strcmp(sd_bus_message_get_member(msg), "DomainNew") == 0;

        (void)error;
        if (sd_bus_message_read(msg, "so", &name, &path) < 0)
                return 0;
        printf("%s: %s\n", name, added ? "added" : "removed");
        if (!added) {
                struct ctl_domain *old = monitor_find(mon, path);

                if (old) {
                        free(old->path);
                        old->path = NULL;
                }
        }
        /* A new domain is learnt from its first PropertiesChanged. */
        return 0;
}

static int on_disconnect(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        (void)userdata;
        (void)error;
        fprintf(stderr, "xensupctl: the bus connection was closed\n");
        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(msg)), CTL_EXIT_FAILED);
}

static int cmd_monitor(struct ctl *c)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_event_unrefp) sd_event *ev = NULL;
        _cleanup_(monitor_done) struct monitor mon = { .ctl = c };
        const char *name, *uuid, *state, *path;
        uint32_t domid;
        sigset_t mask;
        int r, code;

        setvbuf(stdout, NULL, _IOLBF, 0);
        r = sd_event_default(&ev);
        if (r < 0)
                return report_error(NULL, r, "event loop");
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* NULL handler: the signal exits the loop with code 0. */
        r = sd_event_add_signal(ev, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(ev, NULL, SIGTERM, NULL, NULL);
        if (r < 0)
                return report_error(NULL, r, "signals");
        r = sd_bus_attach_event(c->bus, ev, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return report_error(NULL, r, "event loop");

        /* Subscribe first, then read the current state, so no change is missed between. */
        r = sd_bus_match_signal(c->bus, NULL, BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(c->bus, NULL, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                        "DomainNew", on_domain_signal, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(c->bus, NULL, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                        "DomainRemoved", on_domain_signal, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(c->bus, NULL, "org.freedesktop.DBus.Local", NULL,
                                        "org.freedesktop.DBus.Local", "Disconnected", on_disconnect,
                                        NULL);
        if (r < 0)
                return report_error(NULL, r, "cannot subscribe to signals");

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "ListDomains",
                               &e, &reply, NULL);
        if (r < 0)
                return report_error(&e, r, NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(ssuso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssuso)", &name, &uuid, &domid, &state,
                                                  &path)) > 0) {
                struct ctl_domain *info = ctl_domain_list_add(&mon.known);

                if (!info)
                        return report_error(NULL, -ENOMEM, NULL);
                if (get_domain(c, path, info) == CTL_EXIT_OK)
                        monitor_print_state(info);
        }
        if (r < 0)
                return report_error(NULL, r, "bad reply");

        code = sd_event_loop(ev);
        return code < 0 ? report_error(NULL, code, "event loop") : code;
}

int main(int argc, char *argv[])
{
        enum {
                ARG_USER = 0x100,
                ARG_JSON,
                ARG_REBOOT,
                ARG_TIMEOUT,
                ARG_FORCE,
                ARG_PERSIST,
                ARG_LIVE
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "user", no_argument, NULL, ARG_USER },
                { "json", no_argument, NULL, ARG_JSON },
                { "reboot", no_argument, NULL, ARG_REBOOT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "force", no_argument, NULL, ARG_FORCE },
                { "persist", no_argument, NULL, ARG_PERSIST },
                { "live", no_argument, NULL, ARG_LIVE },
                {},
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        struct ctl c = { .timeout = -1 };
        const char *cmd;
        char **args;
        int n_args, opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        usage(stdout);
                        return CTL_EXIT_OK;
                case ARG_USER:
                        c.user = true;
                        break;
                case ARG_JSON:
                        c.json = true;
                        break;
                case ARG_FORCE:
                        c.force = true;
                        break;
                case ARG_PERSIST:
                        c.persist = true;
                        break;
                case ARG_LIVE:
                        c.live = true;
                        break;
                case ARG_REBOOT:
                        c.reboot = true;
                        break;
                case ARG_TIMEOUT: {
                        unsigned v;

                        if (parse_uint(optarg, UINT32_MAX, &v) < 0) {
                                fprintf(stderr,
                                        "xensupctl: --timeout: not a number of seconds: "
                                        "%s\n",
                                        optarg);
                                return CTL_EXIT_USAGE;
                        }
                        c.timeout = v;
                        break;
                }
                default:
                        usage(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return CTL_EXIT_USAGE;
        }
        cmd = argv[optind];
        args = argv + optind + 1;
        n_args = argc - optind - 1;

        static const struct {
                const char *name;
                int n_args;
        } commands[] = {
                { "list", 0 },           { "status", 1 },
                { "create", 1 },         { "start", 1 },
                { "shutdown", 1 },       { "reboot", 1 },
                { "destroy", 1 },        { "pause", 1 },
                { "unpause", 1 },        { "mem-set", 2 },
                { "vcpu-set", 2 },       { "reload", 0 },
                { "monitor", 0 },        { "sim", 2 },
                { "block-list", 1 },     { "network-list", 1 },
                { "block-attach", 2 },   { "block-detach", 2 },
                { "network-attach", 2 }, { "network-detach", 2 },
                { "save", 2 },           { "restore", 1 },
                { "migrate", 2 },        { "host-shutdown", 0 },
                { "host-boot", 0 },
        };
        bool known = false;

        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (strcmp(cmd, commands[i].name) != 0)
                        continue;
                known = true;
                if (n_args != commands[i].n_args) {
                        fprintf(stderr, "xensupctl: %s takes %d argument%s (see --help)\n", cmd,
                                commands[i].n_args, commands[i].n_args == 1 ? "" : "s");
                        return CTL_EXIT_USAGE;
                }
        }
        if (!known) {
                fprintf(stderr, "xensupctl: unknown command '%s' (see --help)\n", cmd);
                return CTL_EXIT_USAGE;
        }
        if (c.force && strcmp(cmd, "block-detach") != 0 && strcmp(cmd, "network-detach") != 0) {
                fprintf(stderr, "xensupctl: --force applies to block-detach and network-detach "
                                "only\n");
                return CTL_EXIT_USAGE;
        }
        if (c.persist && strcmp(cmd, "block-attach") != 0 && strcmp(cmd, "network-attach") != 0) {
                fprintf(stderr, "xensupctl: --persist applies to block-attach and network-attach "
                                "only\n");
                return CTL_EXIT_USAGE;
        }
        if (c.live && strcmp(cmd, "save") != 0 && strcmp(cmd, "migrate") != 0) {
                fprintf(stderr, "xensupctl: --live applies to save and migrate only\n");
                return CTL_EXIT_USAGE;
        }
        if ((c.reboot || c.timeout >= 0) && strcmp(cmd, "shutdown") != 0) {
                fprintf(stderr, "xensupctl: --reboot and --timeout apply to shutdown only\n");
                return CTL_EXIT_USAGE;
        }

        /* Argument errors before the bus, so usage mistakes are usage errors everywhere. */
        uint64_t kib = 0;
        unsigned vcpus = 0;

        if (strcmp(cmd, "mem-set") == 0 && ctl_parse_size_kib(args[1], &kib) < 0) {
                fprintf(stderr, "xensupctl: mem-set: invalid size '%s' (e.g. 512M, 2G, 1048576K)\n",
                        args[1]);
                return CTL_EXIT_USAGE;
        }
        if (strcmp(cmd, "vcpu-set") == 0 && parse_uint(args[1], UINT32_MAX, &vcpus) < 0) {
                fprintf(stderr, "xensupctl: vcpu-set: not a number: %s\n", args[1]);
                return CTL_EXIT_USAGE;
        }

        r = c.user ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "xensupctl: cannot connect to the %s bus: %s\n",
                        c.user ? "session" : "system", strerror(-r));
                return CTL_EXIT_NO_DAEMON;
        }
        c.bus = bus;
        /* A person at a terminal may answer polkit's password prompt (pkttyagent), as systemctl. */
        (void)sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO));
        /* create and start answer once the domain runs: builds may queue behind others. */
        if (strcmp(cmd, "create") == 0 || strcmp(cmd, "start") == 0 || strstr(cmd, "-attach") ||
            strstr(cmd, "-detach") || strcmp(cmd, "save") == 0 || strcmp(cmd, "restore") == 0 ||
            strcmp(cmd, "migrate") == 0)
                sd_bus_set_method_call_timeout(bus, CTL_BUILD_TIMEOUT_USEC);
        /* Every domain saved or restored: the unit's own timeout bounds it, not ours. */
        if (strncmp(cmd, "host-", 5) == 0)
                sd_bus_set_method_call_timeout(bus, CTL_HOST_TIMEOUT_USEC);

        if (strcmp(cmd, "list") == 0)
                return cmd_list(&c);
        if (strcmp(cmd, "status") == 0)
                return cmd_status(&c, args[0]);
        if (strcmp(cmd, "create") == 0)
                return call_with_file(&c, "CreateDomain", args[0]);
        if (strcmp(cmd, "reload") == 0)
                return cmd_reload(&c);
        if (strcmp(cmd, "monitor") == 0)
                return cmd_monitor(&c);
        if (strcmp(cmd, "sim") == 0)
                return cmd_sim(&c, args[0], args[1]);
        if (strcmp(cmd, "save") == 0)
                return cmd_save(&c, args[0], args[1]);
        if (strcmp(cmd, "migrate") == 0)
                return cmd_migrate(&c, args[0], args[1]);
        if (strcmp(cmd, "host-shutdown") == 0)
                return cmd_host(&c, "HostShutdown");
        if (strcmp(cmd, "host-boot") == 0)
                return cmd_host(&c, "HostBoot");
        if (strcmp(cmd, "restore") == 0)
                return call_with_file(&c, "RestoreDomain", args[0]);
        if (strcmp(cmd, "block-attach") == 0)
                return call_domain(&c, args[0], "AttachDisk", "sb", args[1], (int)c.persist);
        if (strcmp(cmd, "block-detach") == 0)
                return call_domain(&c, args[0], "DetachDisk", "sb", args[1], (int)c.force);
        if (strcmp(cmd, "network-attach") == 0)
                return call_domain(&c, args[0], "AttachNic", "sb", args[1], (int)c.persist);
        if (strcmp(cmd, "network-detach") == 0)
                return call_domain(&c, args[0], "DetachNic", "sb", args[1], (int)c.force);
        if (strcmp(cmd, "block-list") == 0)
                return cmd_devices(&c, args[0], "vbd");
        if (strcmp(cmd, "network-list") == 0)
                return cmd_devices(&c, args[0], "vif");
        if (strcmp(cmd, "start") == 0)
                return call_domain(&c, args[0], "Start", NULL);
        if (strcmp(cmd, "shutdown") == 0)
                return call_domain(&c, args[0], "Shutdown", "su", c.reboot ? "reboot" : "poweroff",
                                   (uint32_t)(c.timeout < 0 ? 0 : c.timeout));
        if (strcmp(cmd, "reboot") == 0)
                return call_domain(&c, args[0], "Reboot", NULL);
        if (strcmp(cmd, "destroy") == 0)
                return call_domain(&c, args[0], "Destroy", NULL);
        if (strcmp(cmd, "pause") == 0)
                return call_domain(&c, args[0], "Pause", NULL);
        if (strcmp(cmd, "unpause") == 0)
                return call_domain(&c, args[0], "Unpause", NULL);
        if (strcmp(cmd, "mem-set") == 0)
                return call_domain(&c, args[0], "SetMemory", "t", kib);
        return call_domain(&c, args[0], "SetVCPUs", "u", (uint32_t)vcpus);
}
