/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-util.h — xensupctl's pieces that need no bus: a domain's properties as
 * the client holds them, argument parsing, and the text and JSON printers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* xensupctl's exit codes, as its usage text documents them. */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILED = 1, /* every error without a code of its own */
        CTL_EXIT_USAGE = 2,
        CTL_EXIT_NO_DAEMON = 3,
        CTL_EXIT_NO_DOMAIN = 4,
        CTL_EXIT_DENIED = 5,
};

/* The exit code for a D-Bus error name (NULL: a local failure, CTL_EXIT_FAILED). */
int ctl_exit_code(const char *error_name);

/*
 * A refused call (ctl_exit_code() CTL_EXIT_DENIED) for a person: "xensupctl: permission denied:
 * COMMAND ARGS...: " then, for xensupd's own refusal, its message (it names the polkit action
 * and how to be granted it); for the bus's refusal, which method its policy refused and where
 * that policy lives, never dbus-daemon's raw "Rejected send message, ..." text.
 */
void ctl_print_denied(FILE *f, const char *error_name, const char *message, const char *command,
                      char *const *args, int n_args);

/* DomID's value on the bus when the domain has none. */
#define CTL_DOMID_NONE UINT32_MAX

/*
 * One domain's org.xensup.supervisor1.Domain properties. A property an older
 * daemon does not send stays NULL (strings) or 0 (numbers).
 */
struct ctl_domain {
        char *path;
        char *name, *uuid, *state, *shutdown_reason, *on_poweroff, *on_reboot, *on_crash;
        char *on_watchdog, *on_soft_reset;
        char *failure, *config_path;
        char *kept_of; /* a dead instance kept by rename-restart: the uuid it was an instance of */
        uint64_t domid, memory_kib, max_memory_kib, vcpus, restart_count, started_at;
        uint64_t restart_at; /* CLOCK_REALTIME usec a waiting restart is due; 0 when none */
        char *last_action;   /* who last started, stopped or destroyed it: "" when nobody... */
        uint64_t last_action_uid, last_action_pid, last_action_at; /* ...uid, pid, when (usec) */
};

struct ctl_domain_list {
        struct ctl_domain *items;
        size_t n;
};

/* Store a string property by its bus name (unknown names are ignored); 0 or -ENOMEM. */
int ctl_domain_set_string(struct ctl_domain *d, const char *property, const char *value);

/* Store a numeric property by its bus name (unknown names are ignored). */
void ctl_domain_set_number(struct ctl_domain *d, const char *property, uint64_t value);

/* Deep copy src into an empty dst; 0 or -ENOMEM. */
int ctl_domain_copy(struct ctl_domain *dst, const struct ctl_domain *src);

/* Free what a domain holds and zero it. */
void ctl_domain_clear(struct ctl_domain *d);

/* Append a zeroed domain; NULL on allocation failure. Earlier pointers may move. */
struct ctl_domain *ctl_domain_list_add(struct ctl_domain_list *l);

/* Free a list and everything in it (for _cleanup_). */
void ctl_domain_list_freep(struct ctl_domain_list *l);

/* Whether s is a domid as a person types it: decimal digits only. */
bool ctl_is_domid(const char *s);

/* Write s as a JSON string literal (quotes included, control characters escaped). */
void ctl_json_string(FILE *f, const char *s);

/* One domain as a flat JSON object (no trailing newline). */
void ctl_print_domain_json(FILE *f, const struct ctl_domain *d);

/* The list as one JSON array of flat objects, one per line. */
void ctl_print_list_json(FILE *f, const struct ctl_domain_list *l);

/* The list as an aligned table. */
void ctl_print_list_table(FILE *f, const struct ctl_domain_list *l);

/*
 * `xensupctl status`: the domain for a person; now_usec is CLOCK_REALTIME, the
 * clock of StartedAt and RestartAt.
 */
void ctl_print_status(FILE *f, const struct ctl_domain *d, uint64_t now_usec);

/* "NAME: key=value ..." for every property that differs; nothing if none does. */
void ctl_print_changes(FILE *f, const struct ctl_domain *old, const struct ctl_domain *now);

/* Room for ctl_format_timestamp()'s text: 2026-12-03T07:12:01.123+01:00 and a NUL. */
#define CTL_TIMESTAMP_MAX 40

/* A CLOCK_REALTIME usec as ISO 8601 local time with milliseconds and the UTC offset. */
char *ctl_format_timestamp(uint64_t usec, char buf[static CTL_TIMESTAMP_MAX]);

/*
 * The lines of `xensupctl monitor`, each after a timestamp (time): a domain's state when first
 * seen ("TIME web1: state=running domid=3"), an event of the manager ("TIME new1: added"), and
 * what changed (ctl_print_changes(); nothing if nothing did). With json, one object per line
 * instead: {"time": TIME, "name": ..., "event": "state"|"added"|"removed"|"changed", and the
 * fields by their JSON keys}.
 */
void ctl_print_monitor_state(FILE *f, const char *time, const struct ctl_domain *d, bool json);

/* An event of the manager's (added, removed) as a monitor line; see ctl_print_monitor_state(). */
void ctl_print_monitor_event(FILE *f, const char *time, const char *name, const char *event,
                             bool json);

/* What changed between old and now as a monitor line; see ctl_print_monitor_state(). */
void ctl_print_monitor_changes(FILE *f, const char *time, const struct ctl_domain *old,
                               const struct ctl_domain *now, bool json);

/* Format a duration in seconds as "1d 2h 3min 4s" into buf. */
char *ctl_format_duration(uint64_t seconds, char *buf, size_t size);

/* CLOCK_REALTIME in microseconds. */
uint64_t ctl_now_usec(void);

/* One entry of a domain's Devices property (units/org.xensup.supervisor1.xml). */
struct ctl_device {
        const char *kind; /* "vbd" or "vif" */
        uint32_t devid;
        const char *name;  /* vdev, or the vif's host interface */
        const char *what;  /* target, or MAC */
        const char *where; /* block device, or bridge */
        uint32_t backend_state;
        uint32_t frontend_state;
};

/* A XenbusState's name ("connected"), or "unknown". */
const char *ctl_xenbus_state_name(uint32_t state);

/* block-list (disks) or network-list (vifs): the devices of kind as a table, or a JSON array. */
void ctl_print_devices(FILE *f, const struct ctl_device *devs, size_t n, const char *kind,
                       bool json);
