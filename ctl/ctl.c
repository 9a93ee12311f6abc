/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensupctl — the command line client of xensupd, a thin sd-bus caller of
 * org.xensup.supervisor1 (see units/org.xensup.supervisor1.xml).
 *
 * Every command is one row of commands[] (below, before main()): its name, synopsis, texts,
 * the options it takes, its argument count and its handler. The global usage, COMMAND --help
 * and the refusal of an option a command does not take are all derived from that table.
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

#include "ctl/console.h"
#include "ctl/ctl-util.h"
#include "ctl/host.h"
#include "ctl/import-xl.h"

#ifndef XENSUP_VERSION
#define XENSUP_VERSION "0.0"
#endif

/* How long create and start wait for the daemon to build the domain (queued builds included). */
#define CTL_BUILD_TIMEOUT_USEC (10ULL * 60 * 1000000)
/* How long host-shutdown and host-boot wait: every domain saved or restored, a few at a time. */
#define CTL_HOST_TIMEOUT_USEC (60ULL * 60 * 1000000)
/* shutdown --wait without --timeout: the config's shutdown_timeout is the daemon's to know. */
#define CTL_SHUTDOWN_WAIT_SECONDS (10U * 60)
/* shutdown --wait --timeout S: S, then this long for the destroy (and a reboot's build). */
#define CTL_SHUTDOWN_GRACE_SECONDS 60U

/* The options a command may take; commands[].options is a mask of OPT(). */
enum ctl_option {
        CTL_OPT_USER,
        CTL_OPT_JSON,
        CTL_OPT_REBOOT,
        CTL_OPT_TIMEOUT,
        CTL_OPT_WAIT,
        CTL_OPT_ALL,
        CTL_OPT_FORCE,
        CTL_OPT_PERSIST,
        CTL_OPT_LIVE,
        _CTL_OPT_MAX,
};
#define OPT(o) (1U << CTL_OPT_##o)

/* getopt's values: the table's index past every character. */
#define CTL_OPT_VAL(i) (0x100 + (int)(i))
enum { CTL_ARG_VERSION = CTL_OPT_VAL(_CTL_OPT_MAX) };

static const struct ctl_option_def {
        const char *name;
        const char *arg; /* its argument's name in the help; NULL: it takes none */
        const char *help;
} option_defs[_CTL_OPT_MAX] = {
        [CTL_OPT_USER] = { "user", NULL, "talk to xensupd on the session bus (xensupd --user)" },
        [CTL_OPT_JSON] = { "json", NULL, "JSON output" },
        [CTL_OPT_REBOOT] = { "reboot", NULL, "reboot instead of powering off" },
        [CTL_OPT_TIMEOUT] = { "timeout", "S",
                              "destroy the guest if it has not stopped after S seconds (0 or "
                              "none: the config's shutdown_timeout)" },
        [CTL_OPT_WAIT] = { "wait", NULL,
                           "return once the domain has stopped (with --reboot: runs again); "
                           "status 1 if it failed, restarted or took longer than S + 60 seconds "
                           "(without --timeout: 10 minutes)" },
        [CTL_OPT_ALL] = { "all", NULL, "every running or paused domain, all at once" },
        [CTL_OPT_FORCE] = { "force", NULL, "take the device away even if the guest holds on" },
        [CTL_OPT_PERSIST] = { "persist", NULL, "also write the device into the domain's file" },
        [CTL_OPT_LIVE] = { "live", NULL,
                           "copy the memory while the guest runs (needs log-dirty support)" },
};

struct ctl {
        sd_bus *bus;
        unsigned given; /* OPT() of every option on the command line */
        bool json;
        bool reboot;
        bool wait;
        bool all;
        bool force;   /* block-detach, network-detach */
        bool persist; /* block-attach, network-attach */
        bool live;    /* save, migrate */
        bool user;
        const char *command; /* the command's name and its arguments, for a refusal's message */
        char **args;
        int n_args;
        long timeout;     /* -1 when not given */
        uint64_t kib;     /* mem-set's and mem-max's SIZE, parsed before the bus */
        unsigned vcpus;   /* vcpu-set's N */
        int32_t pin_vcpu; /* vcpu-pin's VCPU: -1 for all */
        const char *hard; /* ...its HARD affinity, "" to leave it */
        const char *soft; /* ...its SOFT affinity, "" to leave it */
};

/*
 * Print the message for a failed call of the command c runs on args (a refusal names them);
 * returns its exit code (ctl_exit_code()).
 */
static int report_error_on(const struct ctl *c, char *const *args, int n_args,
                           const sd_bus_error *e, int r, const char *what)
{
        const char *msg = e && e->message ? e->message : strerror(-r);
        int code = ctl_exit_code(e ? e->name : NULL);

        if (code == CTL_EXIT_DENIED)
                ctl_print_denied(stderr, e->name, e->message, c->command, args, n_args);
        else if (code == CTL_EXIT_NO_DAEMON)
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

/* Print the message for a failed call of the command c runs; returns its exit code. */
static int report_error(const struct ctl *c, const sd_bus_error *e, int r, const char *what)
{
        return report_error_on(c, c->args, c->n_args, e, r, what);
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

/* Every Domain property of the object at path into info; 0, or a negative errno with e set. */
static int fetch_domain(struct ctl *c, const char *path, struct ctl_domain *info, sd_bus_error *e)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               e, &reply, "s", BUS_DOMAIN_IFACE);
        if (r < 0)
                return r;
        info->path = strdup(path);
        if (!info->path)
                return -ENOMEM;
        return read_properties(reply, info);
}

/* Every Domain property of the object at path; an exit code, its message printed. */
static int get_domain(struct ctl *c, const char *path, struct ctl_domain *info)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = fetch_domain(c, path, info, &e);
        if (r < 0)
                return report_error(c, &e, r, sd_bus_error_is_set(&e) ? NULL : "bad reply");
        return CTL_EXIT_OK;
}

/*
 * Every supervised domain into list: what ListDomains tells (name, uuid, domid, state, path)
 * or, with details, every property. A domain gone between the calls is left out. An exit code.
 */
static int list_domains(struct ctl *c, bool details, struct ctl_domain_list *list)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *uuid, *state, *path;
        uint32_t domid;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "ListDomains",
                               &e, &reply, NULL);
        if (r < 0)
                return report_error(c, &e, r, NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(ssuso)");
        if (r < 0)
                return report_error(c, NULL, r, "bad reply");
        while ((r = sd_bus_message_read(reply, "(ssuso)", &name, &uuid, &domid, &state, &path)) >
               0) {
                _cleanup_(sd_bus_error_free) sd_bus_error ge = SD_BUS_ERROR_NULL;
                struct ctl_domain *info = ctl_domain_list_add(list);

                if (!info)
                        return report_error(c, NULL, -ENOMEM, NULL);
                if (!details) {
                        info->path = strdup(path);
                        if (!info->path || ctl_domain_set_string(info, "Name", name) < 0 ||
                            ctl_domain_set_string(info, "UUID", uuid) < 0 ||
                            ctl_domain_set_string(info, "State", state) < 0)
                                return report_error(c, NULL, -ENOMEM, NULL);
                        ctl_domain_set_number(info, "DomID", domid);
                        continue;
                }
                /* GetAll for the fields ListDomains leaves out (reason, restarts). */
                r = fetch_domain(c, path, info, &ge);
                if (r >= 0)
                        continue;
                if (sd_bus_error_is_set(&ge) && ctl_exit_code(ge.name) != CTL_EXIT_NO_DOMAIN &&
                    ctl_exit_code(ge.name) != CTL_EXIT_FAILED)
                        return report_error(c, &ge, r, NULL);
                /* removed between the two calls */
                list->n--;
                ctl_domain_clear(info);
        }
        if (r < 0)
                return report_error(c, NULL, r, "bad reply");
        return CTL_EXIT_OK;
}

/*
 * The domain a person named by name, uuid or domid: its object path and (name_r, when not
 * NULL) a name or uuid the daemon knows it by; an exit code. A name made only of digits wins
 * over the domid it spells: names may be all digits (config.c's domain_name_is_valid()).
 */
static int resolve_named(struct ctl *c, const char *arg, char **path_r, char **name_r)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ctl_domain_list_freep) struct ctl_domain_list list = { 0 };
        const char *path, *name = arg;
        unsigned domid;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "GetDomain",
                               &e, &reply, "s", arg);
        if (r < 0 && (!ctl_is_domid(arg) || ctl_exit_code(e.name) != CTL_EXIT_NO_DOMAIN))
                return report_error(c, &e, r, NULL);
        if (r >= 0) {
                r = sd_bus_message_read(reply, "o", &path);
                if (r < 0)
                        return report_error(c, NULL, r, "bad reply");
        } else {
                /* Not a name: a domid, looked up among ListDomains' (none has CTL_DOMID_NONE). */
                r = list_domains(c, false, &list);
                if (r != CTL_EXIT_OK)
                        return r;
                path = NULL;
                if (parse_uint(arg, CTL_DOMID_NONE - 1, &domid) >= 0)
                        for (size_t i = 0; i < list.n && !path; i++)
                                if (list.items[i].domid == domid) {
                                        path = list.items[i].path;
                                        name = list.items[i].name;
                                }
                if (!path) {
                        fprintf(stderr,
                                "xensupctl: no such domain: %s (no domain has that name, uuid or "
                                "domid)\n",
                                arg);
                        return CTL_EXIT_NO_DOMAIN;
                }
        }
        *path_r = strdup(path);
        if (!*path_r)
                return report_error(c, NULL, -ENOMEM, NULL);
        if (name_r && !(*name_r = strdup(name))) {
                free(*path_r);
                *path_r = NULL;
                return report_error(c, NULL, -ENOMEM, NULL);
        }
        return CTL_EXIT_OK;
}

/* The object path of a domain by name, uuid or domid; an exit code on failure. */
static int resolve(struct ctl *c, const char *name, char **path_r)
{
        return resolve_named(c, name, path_r, NULL);
}

struct command;
/* A command's handler: the bus is open, the arguments counted and checked. An exit code. */
typedef int (*command_handler)(struct ctl *c, const struct command *cmd, char **args);
/* Arguments checked before the bus, so usage mistakes are usage errors everywhere. */
typedef int (*command_check)(struct ctl *c, char **args, int n_args);

struct command {
        const char *name;
        const char *synopsis; /* its arguments and options, one form a line */
        const char *summary;  /* the usage's text beside it; its lines after the first indented */
        const char *help;     /* COMMAND --help's paragraph, wrapped when printed */
        unsigned options;     /* the OPT() it takes; --user comes with the bus */
        int min_args, max_args;
        command_check check;   /* NULL: nothing to check beyond the count */
        command_handler run;   /* with the bus open */
        const char *method;    /* the D-Bus method of run's generic handlers */
        uint64_t call_timeout; /* usec; 0: sd-bus's default */
        /* A command of its own (no bus): argv[0] is its name; it parses its options. */
        int (*main)(int argc, char **argv);
};

static int cmd_list(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(ctl_domain_list_freep) struct ctl_domain_list list = { 0 };
        int r;

        (void)cmd;
        (void)args;
        r = list_domains(c, true, &list);
        if (r != CTL_EXIT_OK)
                return r;
        if (c->json)
                ctl_print_list_json(stdout, &list);
        else
                ctl_print_list_table(stdout, &list);
        return CTL_EXIT_OK;
}

static int cmd_status(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain info = { 0 };
        _cleanup_free_ char *path = NULL;
        int r;

        (void)cmd;
        r = resolve(c, args[0], &path);
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
                return report_error(c, &e, r, NULL);
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
                return report_error(c, NULL, r, "bad reply");
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
                return report_error(c, &e, r, NULL);
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

static int cmd_save(struct ctl *c, const struct command *cmd, char **args)
{
        const char *name = args[0], *file = args[1];
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct save_call sc = {
                .ctl = c, .verb = "saving", .error = SD_BUS_ERROR_NULL, .tty = isatty(STDERR_FILENO)
        };
        int r;

        (void)cmd;
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
                r = report_error(c, &sc.error, r, NULL);
        } else {
                r = CTL_EXIT_OK;
        }
        sd_bus_error_free(&sc.error);
        return r;
}

/* migrate NAME localhost: the reply comes once the incoming instance runs (or the source does). */
static int cmd_migrate(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_free_ char *path = NULL;
        struct save_call sc = { .ctl = c,
                                .host = args[1],
                                .verb = "migrating",
                                .error = SD_BUS_ERROR_NULL,
                                .tty = isatty(STDERR_FILENO) };
        int r;

        (void)cmd;
        r = resolve(c, args[0], &path);
        if (r != CTL_EXIT_OK)
                return r;
        sc.path = path;
        r = save_call_run(&sc, -1);
        if (r >= 0 && sc.r < 0)
                r = sc.r;
        r = r < 0 ? report_error(c, &sc.error, r, NULL) : CTL_EXIT_OK;
        sd_bus_error_free(&sc.error);
        return r;
}

/* host-shutdown, host-boot: one line (or object) per domain, status 1 when one failed. */
static int cmd_host(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *what, *message;
        bool failed = false, first = true;
        int r;

        (void)args;
        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, cmd->method,
                               &e, &reply, NULL);
        if (r < 0)
                return report_error(c, &e, r, NULL);
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
                return report_error(c, NULL, r, "bad reply");
        return failed ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}

static int cmd_reload(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        (void)cmd;
        (void)args;
        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "Reload", &e,
                               NULL, NULL);
        if (r < 0)
                return report_error(c, &e, r, NULL);
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
                return report_error(c, NULL, r, NULL);
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(call, types, ap);
                va_end(ap);
                if (r < 0)
                        return report_error(c, NULL, r, NULL);
        }
        r = sd_bus_call(c->bus, call, 0, &e, &reply);
        if (r < 0)
                return report_error(c, &e, r, NULL);
        return CTL_EXIT_OK;
}

/* sim ACTION NAME: GuestAction takes a name or uuid, so a domid is resolved to its name. */
static int cmd_sim(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *name = NULL;
        const char *action = args[0];
        int r;

        (void)cmd;
        r = resolve_named(c, args[1], &path, &name);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_SIM_IFACE, "GuestAction", &e,
                               NULL, "ss", name, action);
        if (r < 0)
                return report_error(c, &e, r, "sim");
        return CTL_EXIT_OK;
}

static int cmd_method(struct ctl *c, const struct command *cmd, char **args)
{
        return call_domain(c, args[0], cmd->method, NULL);
}

/* create FILE, restore FILE. */
static int cmd_file(struct ctl *c, const struct command *cmd, char **args)
{
        return call_with_file(c, cmd->method, args[0]);
}

/* block-attach, network-attach (persist) and block-detach, network-detach (force). */
static int cmd_device_change(struct ctl *c, const struct command *cmd, char **args)
{
        /* Each takes only its own of the two (the table's options). */
        return call_domain(c, args[0], cmd->method, "sb", args[1], (int)(c->persist || c->force));
}

static int cmd_block_list(struct ctl *c, const struct command *cmd, char **args)
{
        (void)cmd;
        return cmd_devices(c, args[0], "vbd");
}

static int cmd_network_list(struct ctl *c, const struct command *cmd, char **args)
{
        (void)cmd;
        return cmd_devices(c, args[0], "vif");
}

/* One GetHistory entry: a table row, or a JSON object (first: no comma before it). */
static void print_history_entry(const struct ctl *c, bool first, uint64_t usec, const char *event,
                                const char *reason, const char *action, const char *by)
{
        char time[CTL_TIMESTAMP_MAX];

        ctl_format_timestamp(usec, time);
        if (!c->json) {
                printf("%-29s  %-9s %-10s %-16s %s\n", time, event, *reason ? reason : "-",
                       *action ? action : "-", by);
                return;
        }
        printf("%s{\"time\": ", first ? "" : ", ");
        ctl_json_string(stdout, time);
        printf(", \"usec\": %" PRIu64 ", \"event\": ", usec);
        ctl_json_string(stdout, event);
        fputs(", \"reason\": ", stdout);
        ctl_json_string(stdout, reason);
        fputs(", \"action\": ", stdout);
        ctl_json_string(stdout, action);
        fputs(", \"by\": ", stdout);
        ctl_json_string(stdout, by);
        fputs("}", stdout);
}

/* history NAME: the domain's last starts and stops, oldest first. */
static int cmd_history(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *event, *reason, *action, *by;
        bool first = true;
        uint64_t usec;
        int r;

        (void)cmd;
        r = resolve(c, args[0], &path);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(c->bus, BUS_NAME, path, BUS_DOMAIN_IFACE, "GetHistory", &e, &reply,
                               NULL);
        if (r < 0)
                return report_error(c, &e, r, NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(tssss)");
        if (r < 0)
                return report_error(c, NULL, r, "history");
        if (c->json)
                fputs("[", stdout);
        else
                printf("%-29s  %-9s %-10s %-16s %s\n", "TIME", "EVENT", "REASON", "ACTION", "BY");
        while ((r = sd_bus_message_read(reply, "(tssss)", &usec, &event, &reason, &action, &by)) >
               0) {
                print_history_entry(c, first, usec, event, reason, action, by);
                first = false;
        }
        if (c->json)
                fputs("]\n", stdout);
        if (r < 0)
                return report_error(c, NULL, r, "history");
        return CTL_EXIT_OK;
}

/* console NAME: the daemon opens the pty (polkit decides), we relay the terminal to it. */
static int cmd_console(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL, *name = NULL, *banner = NULL;
        _cleanup_close_ int fd = -1;
        bool closed;
        int r, console;

        (void)cmd;
        r = resolve_named(c, args[0], &path, &name);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(c->bus, BUS_NAME, path, BUS_DOMAIN_IFACE, "OpenConsole", &e, &reply,
                               NULL);
        if (r < 0)
                return report_error(c, &e, r, NULL);
        r = sd_bus_message_read(reply, "h", &console);
        if (r >= 0) {
                /* The reply owns its descriptor. */
                fd = fcntl(console, F_DUPFD_CLOEXEC, 3);
                r = fd < 0 ? -errno : 0;
        }
        if (r < 0)
                return report_error(c, NULL, r, "console");
        if (isatty(STDIN_FILENO) &&
            asprintf(&banner, "xensupctl: connected to %s's console; Ctrl-] leaves\r\n", name) < 0)
                return report_error(c, NULL, -ENOMEM, "console");
        r = console_relay(fd, banner, &closed);
        if (r < 0)
                return report_error(c, NULL, r, "console");
        if (closed)
                fprintf(stderr, "\r\nxensupctl: %s's console closed: the domain stopped\r\n", name);
        return CTL_EXIT_OK;
}

static int cmd_mem_set(struct ctl *c, const struct command *cmd, char **args)
{
        (void)cmd;
        return call_domain(c, args[0], "SetMemory", "t", c->kib);
}

static int cmd_vcpu_set(struct ctl *c, const struct command *cmd, char **args)
{
        (void)cmd;
        return call_domain(c, args[0], "SetVCPUs", "u", (uint32_t)c->vcpus);
}

static int cmd_mem_max(struct ctl *c, const struct command *cmd, char **args)
{
        (void)cmd;
        return call_domain(c, args[0], "SetMaxMemory", "t", c->kib);
}

static int cmd_vcpu_pin(struct ctl *c, const struct command *cmd, char **args)
{
        (void)cmd;
        return call_domain(c, args[0], "PinVCPU", "iss", c->pin_vcpu, c->hard, c->soft);
}

/* info: the host as xl info shows it, and the daemon's domains by state. */
static int cmd_info(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct ctl_host_info info;
        char host[256] = "";
        int r;

        (void)cmd;
        (void)args;
        r = sd_bus_call_method(c->bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "GetHostInfo",
                               &e, &reply, NULL);
        if (r < 0)
                return report_error(c, &e, r, NULL);
        r = ctl_host_info_read(reply, &info);
        if (r < 0)
                return report_error(c, NULL, r, "bad reply");
        /* The daemon runs on this host: the bus is the system's, or the caller's own. */
        (void)gethostname(host, sizeof(host) - 1);
        ctl_print_host_info(stdout, host, &info, c->json);
        return CTL_EXIT_OK;
}

/* vcpu-list's opening, once: the header (or the JSON array's bracket) before the first row. */
static void vcpu_list_open(struct ctl *c, bool *opened)
{
        if (*opened)
                return;
        if (c->json)
                fputs("[", stdout);
        else
                ctl_print_vcpu_header(stdout);
        *opened = true;
}

/*
 * The vcpus of the domain at path, printed after *first's; an exit code. missing_ok: a domain
 * without vcpus (not running) prints nothing rather than fail. Nothing is printed, not even
 * the header, before the daemon has answered: a refusal stands alone.
 */
static int print_domain_vcpus(struct ctl *c, const char *path, const char *name, uint32_t domid,
                              bool missing_ok, bool *opened, bool *first)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct ctl_vcpu v;
        int r;

        r = sd_bus_call_method(c->bus, BUS_NAME, path, BUS_DOMAIN_IFACE, "GetVCPUs", &e, &reply,
                               NULL);
        if (r < 0 && missing_ok &&
            (sd_bus_error_has_name(&e, BUS_ERROR_INVALID_STATE) ||
             ctl_exit_code(e.name) == CTL_EXIT_NO_DOMAIN))
                return CTL_EXIT_OK;
        if (r < 0)
                return report_error(c, &e, r, NULL);
        vcpu_list_open(c, opened);
        r = sd_bus_message_enter_container(reply, 'a', "(ubbbutss)");
        while (r >= 0 && (r = ctl_vcpu_read(reply, &v)) > 0) {
                ctl_print_vcpu(stdout, name, domid, &v, c->json, *first);
                *first = false;
        }
        if (r < 0)
                return report_error(c, NULL, r, "bad reply");
        return CTL_EXIT_OK;
}

/* vcpu-list [NAME]: xl vcpu-list, of one domain or of every one that runs. */
static int cmd_vcpu_list(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(ctl_domain_list_freep) struct ctl_domain_list list = { 0 };
        _cleanup_(ctl_domain_clear) struct ctl_domain info = { 0 };
        _cleanup_free_ char *path = NULL;
        bool opened = false, first = true;
        int r;

        (void)cmd;
        if (args[0]) {
                r = resolve(c, args[0], &path);
                if (r == CTL_EXIT_OK)
                        r = get_domain(c, path, &info);
        } else
                r = list_domains(c, false, &list);
        if (r != CTL_EXIT_OK)
                return r;
        if (args[0])
                r = print_domain_vcpus(c, path, info.name, (uint32_t)info.domid, false, &opened,
                                       &first);
        for (size_t i = 0; i < list.n && r == CTL_EXIT_OK; i++)
                if (list.items[i].domid != CTL_DOMID_NONE)
                        r = print_domain_vcpus(c, list.items[i].path, list.items[i].name,
                                               (uint32_t)list.items[i].domid, true, &opened,
                                               &first);
        /* No domain runs: the header alone, or [], as xl prints them. */
        if (r == CTL_EXIT_OK)
                vcpu_list_open(c, &opened);
        if (opened && c->json)
                fputs("]\n", stdout);
        return r;
}

/* ---- shutdown ---- */

struct shutdown_run;

/* A domain asked to shut down (or reboot), and where that stands. */
struct shutdown_target {
        struct shutdown_run *run;
        struct ctl_domain info; /* as last seen; info.domid as when asked, until it changes */
        uint64_t domid_asked;   /* a reboot ends with another domid */
        sd_bus_slot *call;      /* the Shutdown call in flight */
        bool replied;
        bool done;
        int settled; /* with --wait: its exit code once it stands where it will; -1 before */
        int code;
};

struct shutdown_run {
        struct ctl *ctl;
        struct shutdown_target *targets;
        size_t n;
        size_t left; /* not done yet */
        unsigned wait_seconds;
        sd_bus_slot *matches[3];
};

static void shutdown_run_done(struct shutdown_run *sr)
{
        for (size_t i = 0; i < ELEMENTSOF(sr->matches); i++)
                sr->matches[i] = sd_bus_slot_unref(sr->matches[i]);
        for (size_t i = 0; i < sr->n; i++) {
                sd_bus_slot_unref(sr->targets[i].call);
                ctl_domain_clear(&sr->targets[i].info);
        }
        free(sr->targets);
        sr->targets = NULL;
        sr->n = 0;
}

/* One target is through with code; the loop ends once all are. */
static void target_finish(struct shutdown_run *sr, struct shutdown_target *t, int code)
{
        if (t->done)
                return;
        t->done = true;
        t->code = code;
        if (--sr->left == 0)
                (void)sd_event_exit(sd_bus_get_event(sr->ctl->bus), 0);
}

static struct shutdown_target *target_by_path(struct shutdown_run *sr, const char *path)
{
        for (size_t i = 0; path && i < sr->n; i++)
                if (strcmp(sr->targets[i].info.path, path) == 0)
                        return &sr->targets[i];
        return NULL;
}

/* Whether a state is one where a domain runs a guest (or is about to). */
static bool state_runs(const char *state)
{
        static const char *const running[] = { "running", "paused" };

        for (size_t i = 0; state && i < ELEMENTSOF(running); i++)
                if (strcmp(state, running[i]) == 0)
                        return true;
        return false;
}

static bool state_is(const char *state, const char *want)
{
        return state && strcmp(state, want) == 0;
}

/*
 * Where a domain asked to stop (or reboot) stands, from its properties now: -1 still on its
 * way, else the exit code of the wait (the reason printed when it is not CTL_EXIT_OK).
 */
static int shutdown_outcome(const struct shutdown_target *t, bool reboot)
{
        const struct ctl_domain *d = &t->info;
        const char *name = d->name ? d->name : "?";
        bool rebuilt = d->domid != CTL_DOMID_NONE && d->domid != t->domid_asked;
        bool stopped = state_is(d->state, "stopped") || state_is(d->state, "preserved");

        if (state_is(d->state, "failed")) {
                fprintf(stderr, "xensupctl: %s: failed: %s\n", name,
                        d->failure && *d->failure ? d->failure : "(no reason given)");
                return CTL_EXIT_FAILED;
        }
        if (reboot) {
                if (state_runs(d->state) && rebuilt)
                        return CTL_EXIT_OK;
                if (!stopped)
                        return -1;
                fprintf(stderr, "xensupctl: %s: %s instead of rebooting (reason %s)\n", name,
                        d->state, d->shutdown_reason ? d->shutdown_reason : "?");
                return CTL_EXIT_FAILED;
        }
        if (stopped)
                return CTL_EXIT_OK;
        /* A crash during the shutdown follows on_crash, which may restart it. */
        if (state_is(d->state, "starting") || state_is(d->state, "restart-wait") ||
            state_is(d->state, "restoring") || (state_runs(d->state) && rebuilt)) {
                fprintf(stderr, "xensupctl: %s: restarted instead of stopping (reason %s)\n", name,
                        d->shutdown_reason ? d->shutdown_reason : "?");
                return CTL_EXIT_FAILED;
        }
        return -1;
}

/* A target's outcome is known: done once its call has been answered too. */
static void target_settle(struct shutdown_run *sr, struct shutdown_target *t, int code)
{
        if (t->done || t->settled >= 0 || code < 0)
                return;
        t->settled = code;
        if (t->replied)
                target_finish(sr, t, code);
}

static int on_shutdown_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        struct shutdown_target *t = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        (void)ret_error;
        t->replied = true;
        t->call = sd_bus_slot_unref(t->call);
        if (e)
                target_finish(t->run, t,
                              report_error_on(t->run->ctl, &t->info.name, 1, e,
                                              -sd_bus_message_get_errno(reply), NULL));
        else if (!t->run->ctl->wait)
                target_finish(t->run, t, CTL_EXIT_OK);
        else if (t->settled >= 0)
                target_finish(t->run, t, t->settled);
        return 0;
}

/* A target's properties changed: where does it stand now? */
static int on_shutdown_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(ctl_domain_clear) struct ctl_domain now = { 0 };
        struct shutdown_run *sr = userdata;
        struct shutdown_target *t = target_by_path(sr, sd_bus_message_get_path(msg));
        const char *iface;

        (void)error;
        if (!t || t->done)
                return 0;
        if (sd_bus_message_read(msg, "s", &iface) < 0 || strcmp(iface, BUS_DOMAIN_IFACE) != 0)
                return 0;
        /* What the signal leaves out (Progress alone, say) stays as it was. */
        if (ctl_domain_copy(&now, &t->info) < 0 || read_properties(msg, &now) < 0)
                return 0;
        ctl_domain_clear(&t->info);
        t->info = now;
        memset(&now, 0, sizeof(now));
        target_settle(sr, t, shutdown_outcome(t, sr->ctl->reboot));
        return 0;
}

/* A transient domain (xensupctl create) is forgotten once it stopped: that is its stop. */
static int on_shutdown_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        struct shutdown_run *sr = userdata;
        struct shutdown_target *t;
        const char *name, *path;

        (void)error;
        if (sd_bus_message_read(msg, "so", &name, &path) < 0)
                return 0;
        t = target_by_path(sr, path);
        if (!t || t->done)
                return 0;
        if (sr->ctl->reboot)
                fprintf(stderr, "xensupctl: %s: removed instead of rebooting\n", name);
        target_settle(sr, t, sr->ctl->reboot ? CTL_EXIT_FAILED : CTL_EXIT_OK);
        return 0;
}

static int on_shutdown_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct shutdown_run *sr = userdata;

        (void)s;
        (void)usec;
        for (size_t i = 0; i < sr->n; i++) {
                struct shutdown_target *t = &sr->targets[i];

                if (t->done)
                        continue;
                fprintf(stderr, "xensupctl: %s: still %s after %u s\n",
                        t->info.name ? t->info.name : "?", t->info.state ? t->info.state : "?",
                        sr->wait_seconds);
                target_finish(sr, t, CTL_EXIT_FAILED);
        }
        return 0;
}

static int on_disconnect(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        (void)userdata;
        (void)error;
        fprintf(stderr, "xensupctl: the bus connection was closed\n");
        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(msg)), CTL_EXIT_FAILED);
}

/* The domains shutdown acts on: NAME's, or with --all every running or paused one. */
static int shutdown_targets(struct ctl *c, char **args, struct ctl_domain_list *list)
{
        _cleanup_free_ char *path = NULL;
        struct ctl_domain *info;
        int r;

        if (c->all) {
                r = list_domains(c, false, list);
                if (r != CTL_EXIT_OK)
                        return r;
                for (size_t i = 0; i < list->n;)
                        if (state_runs(list->items[i].state))
                                i++;
                        else {
                                ctl_domain_clear(&list->items[i]);
                                list->items[i] = list->items[--list->n];
                        }
                return CTL_EXIT_OK;
        }
        r = resolve(c, args[0], &path);
        if (r != CTL_EXIT_OK)
                return r;
        info = ctl_domain_list_add(list);
        if (!info)
                return report_error(c, NULL, -ENOMEM, NULL);
        return get_domain(c, path, info);
}

/*
 * shutdown NAME or --all: every Shutdown call sent at once, then (--wait) each domain
 * followed by its PropertiesChanged until it stands stopped (or, --reboot, runs again).
 */
static int cmd_shutdown(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(ctl_domain_list_freep) struct ctl_domain_list list = { 0 };
        _cleanup_(sd_event_source_unrefp) sd_event_source *timer = NULL;
        _cleanup_(sd_event_unrefp) sd_event *ev = NULL;
        _cleanup_(shutdown_run_done) struct shutdown_run sr = { .ctl = c };
        const char *mode = c->reboot ? "reboot" : "poweroff";
        uint32_t timeout = (uint32_t)(c->timeout < 0 ? 0 : c->timeout);
        int r, code = CTL_EXIT_OK;

        (void)cmd;
        r = shutdown_targets(c, args, &list);
        if (r != CTL_EXIT_OK || list.n == 0)
                return r;
        sr.targets = calloc(list.n, sizeof(*sr.targets));
        if (!sr.targets)
                return report_error(c, NULL, -ENOMEM, NULL);
        /* The list's domains move into the targets. */
        for (size_t i = 0; i < list.n; i++) {
                sr.targets[i] =
                    (struct shutdown_target){ .run = &sr, .info = list.items[i], .settled = -1 };
                sr.targets[i].domid_asked = list.items[i].domid;
        }
        sr.n = sr.left = list.n;
        list.n = 0;
        sr.wait_seconds =
            timeout ? timeout + CTL_SHUTDOWN_GRACE_SECONDS : CTL_SHUTDOWN_WAIT_SECONDS;

        r = sd_event_default(&ev);
        if (r >= 0)
                r = sd_bus_attach_event(c->bus, ev, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return report_error(c, NULL, r, "event loop");
        /* Subscribed before the first call, so no change is missed. */
        if (c->wait) {
                r = sd_bus_match_signal(c->bus, &sr.matches[0], BUS_NAME, NULL,
                                        "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        on_shutdown_properties, &sr);
                if (r >= 0)
                        r = sd_bus_match_signal(c->bus, &sr.matches[1], BUS_NAME, BUS_MANAGER_PATH,
                                                BUS_MANAGER_IFACE, "DomainRemoved",
                                                on_shutdown_removed, &sr);
                if (r >= 0)
                        r = sd_bus_match_signal(
                            c->bus, &sr.matches[2], "org.freedesktop.DBus.Local", NULL,
                            "org.freedesktop.DBus.Local", "Disconnected", on_disconnect, NULL);
                if (r < 0)
                        return report_error(c, NULL, r, "cannot subscribe to signals");
                r = sd_event_add_time_relative(ev, &timer, CLOCK_MONOTONIC,
                                               (uint64_t)sr.wait_seconds * 1000000, 0,
                                               on_shutdown_timeout, &sr);
                if (r < 0)
                        return report_error(c, NULL, r, "timer");
        }
        for (size_t i = 0; i < sr.n; i++) {
                struct shutdown_target *t = &sr.targets[i];

                r = sd_bus_call_method_async(c->bus, &t->call, BUS_NAME, t->info.path,
                                             BUS_DOMAIN_IFACE, "Shutdown", on_shutdown_reply, t,
                                             "su", mode, timeout);
                if (r < 0)
                        target_finish(&sr, t, report_error(c, NULL, r, t->info.name));
        }
        if (sr.left > 0) {
                r = sd_event_loop(ev);
                if (r < 0)
                        return report_error(c, NULL, r, "event loop");
                if (r > 0)
                        return r;
        }
        /* The first failure's code: every failure has printed its message. */
        for (size_t i = 0; i < sr.n && code == CTL_EXIT_OK; i++)
                code = sr.targets[i].code;
        return code;
}

/* ---- monitor ---- */

struct monitor {
        struct ctl *ctl;
        struct ctl_domain_list known; /* last values seen, to print only what changed */
        sd_bus_slot *matches[4];
};

static void monitor_done(struct monitor *mon)
{
        for (size_t i = 0; i < ELEMENTSOF(mon->matches); i++)
                mon->matches[i] = sd_bus_slot_unref(mon->matches[i]);
        ctl_domain_list_freep(&mon->known);
}

/* Now, as every monitor line begins. */
static char *monitor_time(char buf[static CTL_TIMESTAMP_MAX])
{
        return ctl_format_timestamp(ctl_now_usec(), buf);
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
        char time[CTL_TIMESTAMP_MAX];
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
        monitor_time(time);
        if (!old->name)
                /* first seen (a new domain): where it stands, not every property */
                ctl_print_monitor_state(stdout, time, &now, mon->ctl->json);
        else
                ctl_print_monitor_changes(stdout, time, old, &now, mon->ctl->json);
        ctl_domain_clear(old);
        *old = now;
        memset(&now, 0, sizeof(now));
        return 0;
}

/*
 * A new domain: where it stands, as for those there at the start (a stopped one may never
 * change). Not if its first PropertiesChanged came first and told it; one gone meanwhile is
 * left to its DomainRemoved.
 */
static int monitor_learn(struct monitor *mon, const char *path)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_domain_clear) struct ctl_domain now = { 0 };
        struct ctl_domain *known = monitor_find(mon, path);
        char time[CTL_TIMESTAMP_MAX];

        if ((known && known->name) || fetch_domain(mon->ctl, path, &now, &e) < 0)
                return 0;
        if (!known && !(known = ctl_domain_list_add(&mon->known)))
                return -ENOMEM;
        ctl_domain_clear(known);
        *known = now;
        memset(&now, 0, sizeof(now));
        ctl_print_monitor_state(stdout, monitor_time(time), known, mon->ctl->json);
        return 0;
}

static int on_domain_signal(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        struct monitor *mon = userdata;
        const char *name, *path;
        char time[CTL_TIMESTAMP_MAX];
        bool added = strcmp(sd_bus_message_get_member(msg), "DomainNew") == 0;

        (void)error;
        if (sd_bus_message_read(msg, "so", &name, &path) < 0)
                return 0;
        ctl_print_monitor_event(stdout, monitor_time(time), name, added ? "added" : "removed",
                                mon->ctl->json);
        if (!added) {
                struct ctl_domain *old = monitor_find(mon, path);

                if (old) {
                        free(old->path);
                        old->path = NULL;
                }
                return 0;
        }
        return monitor_learn(mon, path);
}

static int cmd_monitor(struct ctl *c, const struct command *cmd, char **args)
{
        _cleanup_(sd_event_unrefp) sd_event *ev = NULL;
        _cleanup_(monitor_done) struct monitor mon = { .ctl = c };
        char time[CTL_TIMESTAMP_MAX];
        sigset_t mask;
        int r, code;

        (void)cmd;
        (void)args;
        setvbuf(stdout, NULL, _IOLBF, 0);
        r = sd_event_default(&ev);
        if (r < 0)
                return report_error(c, NULL, r, "event loop");
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* NULL handler: the signal exits the loop with code 0. */
        r = sd_event_add_signal(ev, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(ev, NULL, SIGTERM, NULL, NULL);
        if (r < 0)
                return report_error(c, NULL, r, "signals");
        r = sd_bus_attach_event(c->bus, ev, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return report_error(c, NULL, r, "event loop");

        /* Subscribe first, then read the current state, so no change is missed between. */
        r = sd_bus_match_signal(c->bus, &mon.matches[0], BUS_NAME, NULL,
                                "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                on_properties_changed, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(c->bus, &mon.matches[1], BUS_NAME, BUS_MANAGER_PATH,
                                        BUS_MANAGER_IFACE, "DomainNew", on_domain_signal, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(c->bus, &mon.matches[2], BUS_NAME, BUS_MANAGER_PATH,
                                        BUS_MANAGER_IFACE, "DomainRemoved", on_domain_signal, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(c->bus, &mon.matches[3], "org.freedesktop.DBus.Local", NULL,
                                        "org.freedesktop.DBus.Local", "Disconnected", on_disconnect,
                                        NULL);
        if (r < 0)
                return report_error(c, NULL, r, "cannot subscribe to signals");

        r = list_domains(c, true, &mon.known);
        if (r != CTL_EXIT_OK)
                return r;
        monitor_time(time);
        for (size_t i = 0; i < mon.known.n; i++)
                ctl_print_monitor_state(stdout, time, &mon.known.items[i], c->json);

        code = sd_event_loop(ev);
        return code < 0 ? report_error(c, NULL, code, "event loop") : code;
}

/* ---- the commands ---- */

/* mem-set and mem-max: SIZE as xl takes it. */
static int check_size(struct ctl *c, char **args, int n_args)
{
        (void)n_args;
        if (parse_size_kib(args[1], &c->kib) < 0) {
                fprintf(stderr, "xensupctl: %s: invalid size '%s' (valid: %s)\n", c->command,
                        args[1], PARSE_SIZE_SYNTAX);
                return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

/* vcpu-pin NAME VCPU|all HARD [SOFT]: "-" leaves an affinity as it is, as in xl. */
static int check_vcpu_pin(struct ctl *c, char **args, int n_args)
{
        unsigned vcpu;

        if (strcmp(args[1], "all") == 0)
                c->pin_vcpu = -1;
        else if (parse_uint(args[1], INT32_MAX, &vcpu) >= 0)
                c->pin_vcpu = (int32_t)vcpu;
        else {
                fprintf(stderr, "xensupctl: vcpu-pin: '%s' is not a vcpu number or all\n", args[1]);
                return CTL_EXIT_USAGE;
        }
        c->hard = strcmp(args[2], "-") == 0 ? "" : args[2];
        c->soft = n_args < 4 || strcmp(args[3], "-") == 0 ? "" : args[3];
        if (!c->hard[0] && !c->soft[0]) {
                fprintf(stderr, "xensupctl: vcpu-pin: both affinities are '-': nothing to pin\n");
                return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

static int check_vcpu_set(struct ctl *c, char **args, int n_args)
{
        (void)n_args;
        if (parse_uint(args[1], UINT32_MAX, &c->vcpus) < 0) {
                fprintf(stderr, "xensupctl: vcpu-set: not a number: %s\n", args[1]);
                return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
}

static int check_shutdown(struct ctl *c, char **args, int n_args)
{
        (void)args;
        if (c->all && n_args > 0)
                fprintf(stderr, "xensupctl: shutdown: NAME and --all exclude each other\n");
        else if (!c->all && n_args == 0)
                fprintf(stderr, "xensupctl: shutdown takes NAME or --all (see 'xensupctl "
                                "shutdown --help')\n");
        else
                return CTL_EXIT_OK;
        return CTL_EXIT_USAGE;
}

static void print_wrapped(FILE *f, size_t col, size_t indent, const char *text);

/* import-xl reads files and talks to no daemon: ctl/import-xl.c parses its options. */
static int cmd_import_xl(int argc, char **argv)
{
        return import_xl_main(argc, argv, print_wrapped);
}

static const struct command commands[] = {
        {
            .name = "list",
            .synopsis = "[--json]",
            .summary = "the supervised domains",
            .help = "The supervised domains, one a line: NAME, UUID, DOMID (- when it has "
                    "none), STATE, the last shutdown REASON and RESTARTS. With --json, one "
                    "array with an object of every property for each.",
            .options = OPT(JSON),
            .run = cmd_list,
        },
        {
            .name = "status",
            .synopsis = "NAME [--json]",
            .summary = "state, domid, uptime, restarts, last reason, failure,\n"
                       "when a waiting restart is due",
            .help = "Everything xensupd tells of one domain: its state, when a waiting "
                    "restart is due, domid, uptime, restarts, last shutdown reason, why it "
                    "failed, memory, vcpus, actions, config file and who last started or "
                    "stopped it. With --json, one object of every property.",
            .options = OPT(JSON),
            .min_args = 1,
            .max_args = 1,
            .run = cmd_status,
        },
        {
            .name = "create",
            .synopsis = "FILE",
            .summary = "validate a config, supervise and start it",
            .help = "Validate the domain config FILE, supervise the domain and start it; "
                    "the command returns once it runs. FILE is opened with your rights and "
                    "handed over: xensupd never reads it by name. The domain is transient, "
                    "as with xl create: once it stops for good it is forgotten.",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_file,
            .method = "CreateDomain",
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "start",
            .synopsis = "NAME",
            .summary = "start a stopped, preserved or failed domain",
            .help = "Build and run a stopped, preserved or failed domain; the command "
                    "returns once it runs (builds may queue behind others).",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_method,
            .method = "Start",
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "shutdown",
            .synopsis = "NAME|--all [--reboot] [--timeout S] [--wait]",
            .summary = "ask the guest to stop; destroy after S seconds;\n"
                       "--wait: return once it has stopped",
            .help = "Ask the guest to power off (with --reboot: to reboot), as xl shutdown "
                    "does; xensupd destroys it if it has not stopped after S seconds (0 or "
                    "no --timeout: its config's shutdown_timeout). A stop asked for leaves "
                    "the domain stopped whatever its on_poweroff; a reboot brings it back. "
                    "With --all, every running or paused domain is asked at once. Without "
                    "--wait the command returns once the guest has been asked.",
            .options = OPT(REBOOT) | OPT(TIMEOUT) | OPT(WAIT) | OPT(ALL),
            .max_args = 1,
            .check = check_shutdown,
            .run = cmd_shutdown,
        },
        {
            .name = "reboot",
            .synopsis = "NAME",
            .summary = "ask the guest to reboot",
            .help = "Ask the guest to reboot; xensupd builds it anew once it has shut "
                    "down. A reboot asked for never counts toward the restart throttle.",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_method,
            .method = "Reboot",
        },
        {
            .name = "destroy",
            .synopsis = "NAME",
            .summary = "destroy the domain now",
            .help = "Destroy the domain at once, as xl destroy: the guest is not asked and "
                    "loses what it had not written. It stays supervised, stopped.",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_method,
            .method = "Destroy",
        },
        {
            .name = "history",
            .synopsis = "NAME [--json]",
            .summary = "its last starts and stops: when, why, what followed, who",
            .help = "Print the domain's last starts and stops (8 at most, oldest first, kept "
                    "in its record, so a restarted xensupd still has them): TIME (local, ISO "
                    "8601 with ms), EVENT (started, restored, stopped, failed, destroyed, saved, "
                    "migrated), REASON (the guest's shutdown reason when it stopped: poweroff, "
                    "reboot, crash, watchdog, soft_reset, suspend), ACTION (what its on_* action "
                    "made of it: restart, destroy, preserve...) and BY (uid N for a caller, "
                    "guest when the guest stopped itself, xensupd for an autostart, a restart "
                    "or the host's shutdown). With --json, an array of objects with those keys "
                    "in lower case and usec.",
            .options = OPT(JSON),
            .min_args = 1,
            .max_args = 1,
            .run = cmd_history,
        },
        {
            .name = "console",
            .synopsis = "NAME",
            .summary = "attach to the guest's console (Ctrl-] leaves)",
            .help = "Attach the terminal to the guest's primary console, the pty xenconsoled "
                    "serves it on, as xl console does: every key goes to the guest, Ctrl-C "
                    "too, until Ctrl-] (or the end of standard input). xensupd opens the pty "
                    "for the caller, so whoever may control the domain may attach. When the "
                    "domain stops the console closes and the command returns (status 0).",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_console,
        },
        {
            .name = "pause",
            .synopsis = "NAME",
            .summary = "stop running the guest's vcpus",
            .help = "Pause the guest: its vcpus are no longer scheduled; its memory and "
                    "devices stay. unpause lets it run on.",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_method,
            .method = "Pause",
        },
        {
            .name = "unpause",
            .synopsis = "NAME",
            .summary = "let a paused guest run on",
            .help = "Let a paused guest's vcpus run again.",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_method,
            .method = "Unpause",
        },
        {
            .name = "mem-set",
            .synopsis = "NAME SIZE",
            .summary = "memory target: 512M, 2G, 1048576K, 8388608b (plain number: MiB)",
            .help =
                "Set the running guest's memory target, which its balloon driver "
                "follows: 1 MiB up to the maxmem it was started with. SIZE is " PARSE_SIZE_SYNTAX
                ", as xl mem-set takes it.",
            .min_args = 2,
            .max_args = 2,
            .check = check_size,
            .run = cmd_mem_set,
        },
        {
            .name = "mem-max",
            .synopsis = "NAME SIZE",
            .summary = "the most memory mem-set may give it (SIZE as mem-set's)",
            .help = "Set the running guest's maximum memory, as xl mem-max does: the ceiling "
                    "for mem-set and for the guest's balloon driver, written to "
                    "memory/static-max. It may not go below the guest's memory target "
                    "(mem-set it lower first). It holds until the domain is built again "
                    "(a restart, reboot or restore takes the config's maxmem). SIZE is "
                    "as for mem-set.",
            .min_args = 2,
            .max_args = 2,
            .check = check_size,
            .run = cmd_mem_max,
        },
        {
            .name = "vcpu-set",
            .synopsis = "NAME N",
            .summary = "vcpus online",
            .help = "Set how many vcpus the running guest has online: 1 up to the maxvcpus "
                    "it was started with.",
            .min_args = 2,
            .max_args = 2,
            .check = check_vcpu_set,
            .run = cmd_vcpu_set,
        },
        {
            .name = "vcpu-list",
            .synopsis = "[NAME] [--json]",
            .summary = "vcpus, their cpus and affinities (every running domain without NAME)",
            .help = "List the vcpus of the domain, or of every domain that has some, as xl "
                    "vcpu-list does: Name, ID (domid), VCPU, CPU (the host cpu it runs or last "
                    "ran on; - when offline), State (r running, b blocked waiting for an "
                    "event, p offline), Time(s) (cpu time used) and Affinity (Hard / Soft): "
                    "the host cpus it may run on / prefers, as cpu lists (all, or ranges "
                    "such as 0-3,6). With --json, an array of objects: name, domid, vcpu, "
                    "online, running, blocked, cpu (null when offline), cpu_time_ns, hard, "
                    "soft.",
            .options = OPT(JSON),
            .max_args = 1,
            .run = cmd_vcpu_list,
        },
        {
            .name = "vcpu-pin",
            .synopsis = "NAME VCPU|all HARD [SOFT]",
            .summary = "set the host cpus a vcpu may run on (hard) and prefers (soft)",
            .help = "Set the affinity of one vcpu, or of all, of the running guest, as xl "
                    "vcpu-pin does. HARD and SOFT are cpu lists: all, N, N-M, ^N to take a "
                    "cpu out, comma-separated (0-3,^2); - leaves that affinity as it is, and "
                    "SOFT left out is -. It holds until the domain is built again. "
                    "vcpu-list shows what the hypervisor applied.",
            .min_args = 3,
            .max_args = 4,
            .check = check_vcpu_pin,
            .run = cmd_vcpu_pin,
        },
        {
            .name = "info",
            .synopsis = "[--json]",
            .summary = "the host: hypervisor version, cpus, memory, domains by state",
            .help = "Print the host as xl info does, one \"key : value\" line each: host, "
                    "hypervisor (xen, or sim for the simulator), xen_version, xen_caps, "
                    "virt_caps (the guest types it can run), xen_scheduler, nr_cpus, "
                    "nr_nodes, cores_per_socket, threads_per_core, cpu_mhz, total_memory "
                    "and free_memory (MiB), domains (how many xensupd supervises, by state) "
                    "and xensupd_version. With --json, one object with those keys (memory "
                    "as total_memory_kib and free_memory_kib, cpu_khz for cpu_mhz, domains "
                    "an object of state: count).",
            .options = OPT(JSON),
            .run = cmd_info,
        },
        {
            .name = "reload",
            .summary = "re-read the config directory",
            .help = "Re-read the config directory, as xensupd does on SIGHUP.",
            .run = cmd_reload,
        },
        {
            .name = "monitor",
            .synopsis = "[--json]",
            .summary = "print one line per change until interrupted,\n"
                       "each after its time (ISO 8601, local, in ms)",
            .help = "Print where every domain stands, then one line per change until "
                    "interrupted (Ctrl-C or SIGTERM; status 0). Each line begins with the "
                    "local time in ISO 8601 with milliseconds and the UTC offset "
                    "(2026-12-03T07:12:01.123+01:00), then NAME: state=STATE domid=DOMID "
                    "(when first seen), NAME: added, NAME: removed, or NAME: and KEY=VALUE "
                    "for each property that changed (keys as in status --json). With "
                    "--json, one object a line: \"time\", \"name\", \"event\" (state, "
                    "added, removed or changed) and the fields, as in status --json.",
            .options = OPT(JSON),
            .run = cmd_monitor,
        },
        {
            .name = "block-attach",
            .synopsis = "NAME SPEC [--persist]",
            .summary = "hot-plug a disk (xl syntax: \"vdev=xvdb, target=/srv/x.img\");\n"
                       "--persist also adds it to the domain's file",
            .help = "Hot-plug a disk into the running guest; SPEC is an xl disk entry. Its "
                    "target is opened with your rights; the command returns once blkback "
                    "has it.",
            .options = OPT(PERSIST),
            .min_args = 2,
            .max_args = 2,
            .run = cmd_device_change,
            .method = "AttachDisk",
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "block-detach",
            .synopsis = "NAME VDEV --force",
            .summary = "hot-unplug a disk (the guest loses what it had not written)",
            .help = "Hot-unplug the disk VDEV (xvdb) from the running guest. A live guest's "
                    "needs --force: Linux closes a disk even while it is mounted, and the "
                    "guest loses what it had not written.",
            .options = OPT(FORCE),
            .min_args = 2,
            .max_args = 2,
            .run = cmd_device_change,
            .method = "DetachDisk",
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "network-attach",
            .synopsis = "NAME SPEC [--persist]",
            .summary = "hot-plug a vif (\"bridge=xenbr0\")",
            .help = "Hot-plug a network interface into the running guest; SPEC is an xl "
                    "vif entry (bridge=xenbr0, mac=00:16:3e:...); a MAC is chosen when it "
                    "names none.",
            .options = OPT(PERSIST),
            .min_args = 2,
            .max_args = 2,
            .run = cmd_device_change,
            .method = "AttachNic",
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "network-detach",
            .synopsis = "NAME DEVID|MAC [--force]",
            .summary = "hot-unplug a vif (forced when the guest does not let go)",
            .help = "Hot-unplug the vif DEVID or MAC: the guest is asked to close it, and "
                    "it is forced when the guest does not in time (at once with --force).",
            .options = OPT(FORCE),
            .min_args = 2,
            .max_args = 2,
            .run = cmd_device_change,
            .method = "DetachNic",
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "block-list",
            .synopsis = "NAME [--json]",
            .summary = "the running instance's disks and their states",
            .help = "The running guest's disks: VDEV, DEVID, the backend's and the "
                    "frontend's XenbusState, the block DEVICE blkback opened and the "
                    "TARGET. With --json, an array of objects.",
            .options = OPT(JSON),
            .min_args = 1,
            .max_args = 1,
            .run = cmd_block_list,
        },
        {
            .name = "network-list",
            .synopsis = "NAME [--json]",
            .summary = "its network interfaces and their states",
            .help = "The running guest's vifs: DEVID, MAC, the host INTERFACE, the BRIDGE, "
                    "the backend's and the frontend's XenbusState. With --json, an array of "
                    "objects.",
            .options = OPT(JSON),
            .min_args = 1,
            .max_args = 1,
            .run = cmd_network_list,
        },
        {
            .name = "save",
            .synopsis = "NAME FILE|- [--live]",
            .summary = "suspend the guest into a new image FILE (-: standard\n"
                       "output) and destroy it; Ctrl-C cancels (it runs on)",
            .help = "Suspend the guest into a new image FILE (never overwritten; -: "
                    "standard output, not a terminal) and destroy it; restore runs it "
                    "again. Progress goes to standard error. Ctrl-C cancels: the guest runs "
                    "on where it was.",
            .options = OPT(LIVE),
            .min_args = 2,
            .max_args = 2,
            .run = cmd_save,
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "restore",
            .synopsis = "FILE",
            .summary = "run the guest saved in FILE again where it was",
            .help = "Run the guest saved in the image FILE again where it was, with its "
                    "devices attached anew; the command returns once it runs. A failed "
                    "restore leaves the domain failed, never cold-booted.",
            .min_args = 1,
            .max_args = 1,
            .run = cmd_file,
            .method = "RestoreDomain",
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "migrate",
            .synopsis = "NAME localhost [--live]",
            .summary = "move the guest into a new domain of this host (same\n"
                       "uuid, new domid); Ctrl-C cancels (it runs on)",
            .help = "Move the guest into a new domain of this host (the same uuid, a new "
                    "domid); only localhost is supported. Ctrl-C cancels: the guest runs on "
                    "where it was.",
            .options = OPT(LIVE),
            .min_args = 2,
            .max_args = 2,
            .run = cmd_migrate,
            .call_timeout = CTL_BUILD_TIMEOUT_USEC,
        },
        {
            .name = "host-shutdown",
            .synopsis = "[--json]",
            .summary = "each running domain's on_host_shutdown: save it into\n"
                       "the save directory, shut it down, or keep it",
            .help = "What the host's shutdown does (xensup-domains.service stopping): each "
                    "running domain follows its on_host_shutdown (save, shutdown, keep). "
                    "One line per domain, NAME: RESULT[: MESSAGE]; status 1 if one failed.",
            .options = OPT(JSON),
            .run = cmd_host,
            .method = "HostShutdown",
            .call_timeout = CTL_HOST_TIMEOUT_USEC,
        },
        {
            .name = "host-boot",
            .synopsis = "[--json]",
            .summary = "wait for the domains saved at the host's shutdown\n"
                       "to be restored; status 1 if one failed",
            .help = "Wait until every domain saved at the host's shutdown has been "
                    "restored. One line per domain, NAME: RESULT[: MESSAGE]; status 1 if "
                    "one failed.",
            .options = OPT(JSON),
            .run = cmd_host,
            .method = "HostBoot",
            .call_timeout = CTL_HOST_TIMEOUT_USEC,
        },
        {
            .name = "import-xl",
            .synopsis = IMPORT_XL_SYNOPSIS,
            .summary = IMPORT_XL_SUMMARY,
            .help = IMPORT_XL_HELP,
            .min_args = 1,
            .max_args = INT_MAX,
            .main = cmd_import_xl,
        },
        {
            .name = "sim",
            .synopsis = "crash|reboot|poweroff|hang NAME",
            .summary = "make a simulated guest do it (--hypervisor=sim)",
            .help = "Make the simulated guest do it now (xensupd --hypervisor=sim only): "
                    "crash, reboot, poweroff, or hang (ignore shutdown requests); also "
                    "watchdog, soft_reset, obey and hostile.",
            .min_args = 2,
            .max_args = 2,
            .run = cmd_sim,
        },
};

static const struct command *find_command(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

/* The options cmd takes: its own and, talking to xensupd, --user. */
static unsigned command_options(const struct command *cmd)
{
        return cmd->options | (cmd->main ? 0 : OPT(USER));
}

/* "list, status and monitor": the commands taking option o. */
static void print_commands_with(FILE *f, enum ctl_option o)
{
        size_t n = 0, total = 0;

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                total += (command_options(&commands[i]) & (1U << o)) != 0;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (!(command_options(&commands[i]) & (1U << o)))
                        continue;
                n++;
                fprintf(f, "%s%s", n == 1 ? "" : n == total ? " and " : ", ", commands[i].name);
        }
}

/* text wrapped at 80 columns, from column col (already printed) on, later lines indented. */
static void print_wrapped(FILE *f, size_t col, size_t indent, const char *text)
{
        const size_t width = 80;
        bool first = true;

        for (const char *p = text; *p;) {
                size_t n = strcspn(p, " ");

                if (!first && col + 1 + n > width) {
                        fprintf(f, "\n%*s", (int)indent, "");
                        col = indent;
                } else if (!first) {
                        fputc(' ', f);
                        col++;
                }
                fprintf(f, "%.*s", (int)n, p);
                col += n;
                first = false;
                p += n;
                p += strspn(p, " ");
        }
        fputc('\n', f);
}

/* The column of the usage's summaries. */
#define USAGE_COLUMN 32

static void usage(FILE *f)
{
        _cleanup_free_ char *json = NULL;
        size_t json_size = 0;
        FILE *m;

        fputs("Usage: xensupctl [--user] [--json] COMMAND [ARGS]\n"
              "       xensupctl COMMAND --help\n"
              "\n"
              "Control xensupd, the Xen domain supervisor, over D-Bus.\n"
              "\n"
              "Commands:\n",
              f);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                const struct command *cmd = &commands[i];
                const char *syn = cmd->synopsis ? cmd->synopsis : "";
                int col = 0;

                /* one line per form: the summary beside the last if it fits, else under it */
                for (const char *p = syn;;) {
                        size_t n = strcspn(p, "\n");

                        col = fprintf(f, "  %s%s%.*s", cmd->name, n ? " " : "", (int)n, p);
                        p += n;
                        if (!*p)
                                break;
                        fputc('\n', f);
                        p++;
                }
                if (col > USAGE_COLUMN - 2) {
                        fputc('\n', f);
                        col = 0;
                }
                for (const char *p = cmd->summary;;) {
                        size_t n = strcspn(p, "\n");

                        fprintf(f, "%*s%.*s\n", USAGE_COLUMN - col, "", (int)n, p);
                        col = 0;
                        p += n;
                        if (!*p)
                                break;
                        p++;
                }
        }
        m = open_memstream(&json, &json_size);
        if (m) {
                fputs("JSON output for ", m);
                print_commands_with(m, CTL_OPT_JSON);
                fclose(m);
        }
        fputs("\nOptions:\n"
              "  --user      talk to xensupd on the session bus (xensupd --user)\n"
              "  --json      ",
              f);
        print_wrapped(f, 14, 14, json ? json : "JSON output");
        fputs("  -h, --help  this text; after a COMMAND, that command's\n"
              "  --version   xensupctl's version\n"
              "\n"
              "NAME is a domain name, uuid or domid (a name of digits only wins over a domid).\n"
              "Exit status: 0 ok, 1 any other error (the message says which step failed),\n"
              "2 usage error, 3 xensupd not reachable, 4 no such domain, 5 access denied.\n",
              f);
}

/* xensupctl COMMAND --help: its synopsis, its text, its options. */
static void command_help(FILE *f, const struct command *cmd)
{
        unsigned opts = command_options(cmd);
        const char *syn = cmd->synopsis ? cmd->synopsis : "";
        int width = (int)strlen("-h, --help");

        for (const char *p = syn, *prefix = "Usage:";; prefix = "      ") {
                size_t n = strcspn(p, "\n");

                fprintf(f, "%s xensupctl %s%s%.*s\n", prefix, cmd->name, n ? " " : "", (int)n, p);
                p += n;
                if (!*p)
                        break;
                p++;
        }
        fputc('\n', f);
        print_wrapped(f, 0, 0, cmd->help);
        if (strstr(syn, "NAME")) {
                fputc('\n', f);
                print_wrapped(f, 0, 0,
                              "NAME is a domain's name, uuid or domid; a name made of digits only "
                              "wins over the domid it spells.");
        }
        for (size_t i = 0; i < _CTL_OPT_MAX; i++) {
                const struct ctl_option_def *o = &option_defs[i];
                int w = (int)strlen(o->name) + 2 + (o->arg ? (int)strlen(o->arg) + 1 : 0);

                if ((opts & (1U << i)) && w > width)
                        width = w;
        }
        fputs("\nOptions:\n", f);
        for (size_t i = 0; i < _CTL_OPT_MAX; i++) {
                const struct ctl_option_def *o = &option_defs[i];
                int n;

                if (!(opts & (1U << i)))
                        continue;
                n = fprintf(f, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
                fprintf(f, "%*s", width + 4 - n, "");
                print_wrapped(f, (size_t)width + 4, (size_t)width + 4, o->help);
        }
        fprintf(f, "  %-*s  this text\n", width, "-h, --help");
}

/* getopt's table, from option_defs (the values CTL_OPT_VAL()), with --help and --version. */
static void long_options(struct option opts[static _CTL_OPT_MAX + 3])
{
        for (size_t i = 0; i < _CTL_OPT_MAX; i++)
                opts[i] = (struct option){ option_defs[i].name,
                                           option_defs[i].arg ? required_argument : no_argument,
                                           NULL, CTL_OPT_VAL(i) };
        opts[_CTL_OPT_MAX] = (struct option){ "help", no_argument, NULL, 'h' };
        opts[_CTL_OPT_MAX + 1] = (struct option){ "version", no_argument, NULL, CTL_ARG_VERSION };
        opts[_CTL_OPT_MAX + 2] = (struct option){ 0 };
}

/* One option seen: into c; an exit code (a bad --timeout is a usage error). */
static int set_option(struct ctl *c, enum ctl_option o, const char *arg)
{
        unsigned v;

        c->given |= 1U << o;
        switch (o) {
        case CTL_OPT_USER:
                c->user = true;
                break;
        case CTL_OPT_JSON:
                c->json = true;
                break;
        case CTL_OPT_REBOOT:
                c->reboot = true;
                break;
        case CTL_OPT_TIMEOUT:
                if (parse_uint(arg, UINT32_MAX, &v) < 0) {
                        fprintf(stderr, "xensupctl: --timeout: not a number of seconds: %s\n", arg);
                        return CTL_EXIT_USAGE;
                }
                c->timeout = v;
                break;
        case CTL_OPT_WAIT:
                c->wait = true;
                break;
        case CTL_OPT_ALL:
                c->all = true;
                break;
        case CTL_OPT_FORCE:
                c->force = true;
                break;
        case CTL_OPT_PERSIST:
                c->persist = true;
                break;
        case CTL_OPT_LIVE:
                c->live = true;
                break;
        case _CTL_OPT_MAX:
                break;
        }
        return CTL_EXIT_OK;
}

/* What was asked besides running a command. */
enum ctl_ask { ASK_RUN, ASK_HELP, ASK_VERSION };

/* What getopt refused (opt '?' or ':'), said by xensupctl: getopt's own text begins with argv[0].
 */
static void print_refused_option(int opt, const char *arg)
{
        if (opt == ':')
                fprintf(stderr, "xensupctl: option '%s' requires an argument\n", arg);
        else if (optopt >= CTL_OPT_VAL(0))
                fprintf(stderr, "xensupctl: option '%.*s' takes no argument\n",
                        (int)strcspn(arg, "="), arg);
        else if (optopt)
                fprintf(stderr, "xensupctl: invalid option -- '%c'\n", optopt);
        else
                fprintf(stderr, "xensupctl: unrecognized option '%s'\n", arg);
}

/*
 * The options of argv into c (getopt's optstring: "+:h" stops at the command); an exit code,
 * or -1 when getopt refused one (its message printed).
 */
static int parse_options(struct ctl *c, int argc, char **argv, const char *optstring,
                         enum ctl_ask *ask)
{
        struct option opts[_CTL_OPT_MAX + 3];
        int opt, r;

        long_options(opts);
        opterr = 0;
        while ((opt = getopt_long(argc, argv, optstring, opts, NULL)) >= 0) {
                if (opt == 'h')
                        *ask = ASK_HELP;
                else if (opt == CTL_ARG_VERSION)
                        *ask = ASK_VERSION;
                else if (opt >= CTL_OPT_VAL(0) && opt < CTL_OPT_VAL(_CTL_OPT_MAX)) {
                        r = set_option(c, (enum ctl_option)(opt - CTL_OPT_VAL(0)), optarg);
                        if (r != CTL_EXIT_OK)
                                return r;
                } else {
                        print_refused_option(opt, argv[optind - 1]);
                        return -1;
                }
        }
        return CTL_EXIT_OK;
}

/* Refuse what cmd does not take: an option, or too few or many arguments. An exit code. */
static int check_command_line(const struct ctl *c, const struct command *cmd, int n_args)
{
        unsigned wrong = c->given & ~command_options(cmd);

        for (size_t i = 0; i < _CTL_OPT_MAX; i++) {
                if (!(wrong & (1U << i)))
                        continue;
                if (i == CTL_OPT_USER)
                        fprintf(stderr, "xensupctl: --user: %s talks to no daemon\n", cmd->name);
                else {
                        fprintf(stderr, "xensupctl: --%s applies to ", option_defs[i].name);
                        print_commands_with(stderr, (enum ctl_option)i);
                        fputs(" only\n", stderr);
                }
                return CTL_EXIT_USAGE;
        }
        if (n_args >= cmd->min_args && n_args <= cmd->max_args)
                return CTL_EXIT_OK;
        if (cmd->min_args == cmd->max_args)
                fprintf(stderr, "xensupctl: %s takes %d argument%s", cmd->name, cmd->min_args,
                        cmd->min_args == 1 ? "" : "s");
        else
                fprintf(stderr, "xensupctl: %s takes at %s %d argument%s", cmd->name,
                        n_args < cmd->min_args ? "least" : "most",
                        n_args < cmd->min_args ? cmd->min_args : cmd->max_args,
                        (n_args < cmd->min_args ? cmd->min_args : cmd->max_args) == 1 ? "" : "s");
        fprintf(stderr, " (see 'xensupctl %s --help')\n", cmd->name);
        return CTL_EXIT_USAGE;
}

int main(int argc, char *argv[])
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char **sub = NULL;
        struct ctl c = { .timeout = -1 };
        enum ctl_ask ask = ASK_RUN;
        const struct command *cmd;
        int n_sub, r;

        /* The options before the command... */
        r = parse_options(&c, argc, argv, "+:h", &ask);
        if (r < 0)
                usage(stderr);
        if (r != CTL_EXIT_OK)
                return r < 0 ? CTL_EXIT_USAGE : r;
        if (ask == ASK_HELP) {
                usage(stdout);
                return CTL_EXIT_OK;
        }
        if (ask == ASK_VERSION) {
                printf("xensupctl %s\n", XENSUP_VERSION);
                return CTL_EXIT_OK;
        }
        if (optind >= argc) {
                usage(stderr);
                return CTL_EXIT_USAGE;
        }
        cmd = find_command(argv[optind]);
        if (!cmd) {
                fprintf(stderr, "xensupctl: unknown command '%s' (see --help)\n", argv[optind]);
                return CTL_EXIT_USAGE;
        }
        if (cmd->main) {
                r = check_command_line(&c, cmd, cmd->min_args);
                if (r != CTL_EXIT_OK)
                        return r;
                return cmd->main(argc - optind, argv + optind);
        }

        /* ...and those after it, anywhere among its arguments (getopt reinitialized by 0). */
        n_sub = argc - optind;
        sub = calloc((size_t)n_sub + 1, sizeof(*sub));
        if (!sub)
                return report_error(&c, NULL, -ENOMEM, NULL);
        sub[0] = argv[0];
        memcpy(sub + 1, argv + optind + 1, (size_t)(n_sub - 1) * sizeof(*sub));
        optind = 0;
        r = parse_options(&c, n_sub, sub, ":h", &ask);
        if (r < 0)
                fprintf(stderr, "Try 'xensupctl %s --help'.\n", cmd->name);
        if (r != CTL_EXIT_OK)
                return r < 0 ? CTL_EXIT_USAGE : r;
        if (ask == ASK_HELP) {
                command_help(stdout, cmd);
                return CTL_EXIT_OK;
        }
        if (ask == ASK_VERSION) {
                printf("xensupctl %s\n", XENSUP_VERSION);
                return CTL_EXIT_OK;
        }
        c.command = cmd->name; /* before the checks: their messages name it */
        r = check_command_line(&c, cmd, n_sub - optind);
        if (r == CTL_EXIT_OK && cmd->check)
                r = cmd->check(&c, sub + optind, n_sub - optind);
        if (r != CTL_EXIT_OK)
                return r;
        c.args = sub + optind;
        c.n_args = n_sub - optind;

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
        if (cmd->call_timeout)
                sd_bus_set_method_call_timeout(bus, cmd->call_timeout);
        return cmd->run(&c, cmd, sub + optind);
}
