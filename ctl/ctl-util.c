/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "common/bus-names.h"
#include "common/macros.h"

#include "ctl/ctl-util.h"

int ctl_exit_code(const char *error_name)
{
        /*
         * Only the outcomes scripts branch on have codes of their own; every
         * other error (InvalidState, DomainExists, InvalidConfig,
         * InvalidArgument, Hypervisor, XenStore, Failed, or one from the bus)
         * is CTL_EXIT_FAILED, and its message names the step.
         */
        static const struct {
                const char *name;
                int code;
        } codes[] = {
                { SD_BUS_ERROR_SERVICE_UNKNOWN, CTL_EXIT_NO_DAEMON },
                { SD_BUS_ERROR_NAME_HAS_NO_OWNER, CTL_EXIT_NO_DAEMON },
                { BUS_ERROR_NO_SUCH_DOMAIN, CTL_EXIT_NO_DOMAIN },
                { BUS_ERROR_ACCESS_DENIED, CTL_EXIT_DENIED },
                /* the bus's own policy refused the call before xensupd saw it */
                { SD_BUS_ERROR_ACCESS_DENIED, CTL_EXIT_DENIED },
        };

        for (size_t i = 0; error_name && i < ELEMENTSOF(codes); i++)
                if (strcmp(error_name, codes[i].name) == 0)
                        return codes[i].code;
        return CTL_EXIT_FAILED;
}

/*
 * The value of key="value" in dbus-daemon's refusal (interface="org.xensup.supervisor1.Domain"
 * member="Destroy"), into buf; false when the text has none.
 */
static bool denial_field(const char *message, const char *key, char *buf, size_t size)
{
        size_t klen = strlen(key);

        for (const char *p = message; p && (p = strstr(p, key)); p += klen) {
                const char *v = p + klen, *end;

                /* a whole key: at the start or after a space, then =" */
                if ((p != message && p[-1] != ' ') || strncmp(v, "=\"", 2) != 0)
                        continue;
                v += 2;
                end = strchr(v, '"');
                if (!end || (size_t)(end - v) >= size)
                        return false;
                memcpy(buf, v, (size_t)(end - v));
                buf[end - v] = '\0';
                return true;
        }
        return false;
}

void ctl_print_denied(FILE *f, const char *error_name, const char *message, const char *command,
                      char *const *args, int n_args)
{
        char iface[256], member[256];

        fprintf(f, "xensupctl: permission denied: %s", command ? command : "");
        for (int i = 0; i < n_args; i++)
                fprintf(f, " %s", args[i]);
        if (error_name && strcmp(error_name, BUS_ERROR_ACCESS_DENIED) == 0) {
                fprintf(f, ": %s\n", message && *message ? message : "refused by xensupd");
                return;
        }
        /* The bus refused it before xensupd saw it: its policy lets others send only what it lists.
         */
        fputs(": the D-Bus policy refused ", f);
        if (denial_field(message, "member", member, sizeof(member))) {
                if (denial_field(message, "interface", iface, sizeof(iface)))
                        fprintf(f, "%s.", iface);
                fputs(member, f);
        } else
                fputs("the call", f);
        fputs(" before xensupd saw it; call as root, or allow it in a policy file "
              "(xensup's is org.xensup.supervisor1.conf in /usr/share/dbus-1/system.d; "
              "local ones in /etc/dbus-1/system.d)\n",
              f);
}

/* Every property: its bus name, its JSON key, and where it lives. */
static const struct ctl_property {
        const char *bus;
        const char *json;
        bool is_string;
        size_t offset;
} properties[] = {
        { "Name", "name", true, offsetof(struct ctl_domain, name) },
        { "UUID", "uuid", true, offsetof(struct ctl_domain, uuid) },
        { "DomID", "domid", false, offsetof(struct ctl_domain, domid) },
        { "State", "state", true, offsetof(struct ctl_domain, state) },
        { "ShutdownReason", "shutdown_reason", true, offsetof(struct ctl_domain, shutdown_reason) },
        { "RestartCount", "restart_count", false, offsetof(struct ctl_domain, restart_count) },
        { "Failure", "failure", true, offsetof(struct ctl_domain, failure) },
        { "MemoryKiB", "memory_kib", false, offsetof(struct ctl_domain, memory_kib) },
        { "MaxMemoryKiB", "max_memory_kib", false, offsetof(struct ctl_domain, max_memory_kib) },
        { "VCPUs", "vcpus", false, offsetof(struct ctl_domain, vcpus) },
        { "OnPoweroff", "on_poweroff", true, offsetof(struct ctl_domain, on_poweroff) },
        { "OnReboot", "on_reboot", true, offsetof(struct ctl_domain, on_reboot) },
        { "OnCrash", "on_crash", true, offsetof(struct ctl_domain, on_crash) },
        { "OnWatchdog", "on_watchdog", true, offsetof(struct ctl_domain, on_watchdog) },
        { "OnSoftReset", "on_soft_reset", true, offsetof(struct ctl_domain, on_soft_reset) },
        { "ConfigPath", "config_path", true, offsetof(struct ctl_domain, config_path) },
        { "StartedAt", "started_at", false, offsetof(struct ctl_domain, started_at) },
        { "RestartAt", "restart_at", false, offsetof(struct ctl_domain, restart_at) },
        { "KeptOf", "kept_of", true, offsetof(struct ctl_domain, kept_of) },
        { "LastAction", "last_action", true, offsetof(struct ctl_domain, last_action) },
        { "LastActionUID", "last_action_uid", false, offsetof(struct ctl_domain, last_action_uid) },
        { "LastActionPID", "last_action_pid", false, offsetof(struct ctl_domain, last_action_pid) },
        { "LastActionAt", "last_action_at", false, offsetof(struct ctl_domain, last_action_at) },
};

static char **string_at(struct ctl_domain *d, const struct ctl_property *p)
{
        return (char **)((char *)d + p->offset);
}

static const char *string_of(const struct ctl_domain *d, const struct ctl_property *p)
{
        const char *s = *(char *const *)((const char *)d + p->offset);

        return s ? s : "";
}

static uint64_t number_of(const struct ctl_domain *d, const struct ctl_property *p)
{
        return *(const uint64_t *)((const char *)d + p->offset);
}

static const struct ctl_property *property_by_bus_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(properties); i++)
                if (strcmp(properties[i].bus, name) == 0)
                        return &properties[i];
        return NULL;
}

int ctl_domain_set_string(struct ctl_domain *d, const char *property, const char *value)
{
        const struct ctl_property *p = property_by_bus_name(property);
        char *copy;

        if (!p || !p->is_string)
                return 0;
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*string_at(d, p));
        *string_at(d, p) = copy;
        return 0;
}

void ctl_domain_set_number(struct ctl_domain *d, const char *property, uint64_t value)
{
        const struct ctl_property *p = property_by_bus_name(property);

        if (p && !p->is_string)
                *(uint64_t *)((char *)d + p->offset) = value;
}

void ctl_domain_clear(struct ctl_domain *d)
{
        free(d->path);
        for (size_t i = 0; i < ELEMENTSOF(properties); i++)
                if (properties[i].is_string)
                        free(*string_at(d, &properties[i]));
        memset(d, 0, sizeof(*d));
}

int ctl_domain_copy(struct ctl_domain *dst, const struct ctl_domain *src)
{
        *dst = *src;
        dst->path = NULL;
        for (size_t i = 0; i < ELEMENTSOF(properties); i++)
                if (properties[i].is_string)
                        *string_at(dst, &properties[i]) = NULL;
        if (src->path && !(dst->path = strdup(src->path)))
                goto oom;
        for (size_t i = 0; i < ELEMENTSOF(properties); i++) {
                const char *s = *(char *const *)((const char *)src + properties[i].offset);

                if (properties[i].is_string && s && !(*string_at(dst, &properties[i]) = strdup(s)))
                        goto oom;
        }
        return 0;
oom:
        ctl_domain_clear(dst);
        return -ENOMEM;
}

struct ctl_domain *ctl_domain_list_add(struct ctl_domain_list *l)
{
        struct ctl_domain *grown = reallocarray(l->items, l->n + 1, sizeof(*grown));

        if (!grown)
                return NULL;
        l->items = grown;
        memset(&l->items[l->n], 0, sizeof(l->items[l->n]));
        return &l->items[l->n++];
}

void ctl_domain_list_freep(struct ctl_domain_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                ctl_domain_clear(&l->items[i]);
        free(l->items);
        l->items = NULL;
        l->n = 0;
}

bool ctl_is_domid(const char *s)
{
        return s && *s && strspn(s, "0123456789") == strlen(s);
}

void ctl_json_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        /* D-Bus strings are valid UTF-8: only control characters need escaping. */
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

/* A property's value in JSON: a string, a number, or null for "no domid", "never started". */
static void print_json_value(FILE *f, const struct ctl_domain *d, const struct ctl_property *p)
{
        if (p->is_string)
                ctl_json_string(f, string_of(d, p));
        else if ((strcmp(p->bus, "DomID") == 0 && number_of(d, p) == CTL_DOMID_NONE) ||
                 (strcmp(p->bus, "StartedAt") == 0 && number_of(d, p) == 0))
                fputs("null", f);
        else
                fprintf(f, "%llu", (unsigned long long)number_of(d, p));
}

void ctl_print_domain_json(FILE *f, const struct ctl_domain *d)
{
        fputc('{', f);
        for (size_t i = 0; i < ELEMENTSOF(properties); i++) {
                fprintf(f, "%s\"%s\": ", i ? ", " : "", properties[i].json);
                print_json_value(f, d, &properties[i]);
        }
        fputs(", \"object_path\": ", f);
        ctl_json_string(f, d->path ? d->path : "");
        fputc('}', f);
}

void ctl_print_list_json(FILE *f, const struct ctl_domain_list *l)
{
        fputc('[', f);
        for (size_t i = 0; i < l->n; i++) {
                fputs(i ? ",\n " : "\n ", f);
                ctl_print_domain_json(f, &l->items[i]);
        }
        fputs(l->n ? "\n]\n" : "]\n", f);
}

static void domid_string(uint64_t domid, char buf[12])
{
        if (domid == CTL_DOMID_NONE)
                strcpy(buf, "-");
        else
                snprintf(buf, 12, "%llu", (unsigned long long)domid);
}

static int max_int(int a, size_t b)
{
        return (size_t)a > b ? a : (int)b;
}

void ctl_print_list_table(FILE *f, const struct ctl_domain_list *l)
{
        int w_name = 4, w_state = 5, w_reason = 6;

        for (size_t i = 0; i < l->n; i++) {
                const struct ctl_domain *d = &l->items[i];

                w_name = max_int(w_name, strlen(d->name ? d->name : ""));
                w_state = max_int(w_state, strlen(d->state ? d->state : ""));
                w_reason = max_int(w_reason, strlen(d->shutdown_reason ? d->shutdown_reason : ""));
        }
        fprintf(f, "%-*s %-36s %5s %-*s %-*s %8s\n", w_name, "NAME", "UUID", "DOMID", w_state,
                "STATE", w_reason, "REASON", "RESTARTS");
        for (size_t i = 0; i < l->n; i++) {
                const struct ctl_domain *d = &l->items[i];
                char domid[12];

                domid_string(d->domid, domid);
                fprintf(f, "%-*s %-36s %5s %-*s %-*s %8llu\n", w_name, d->name ? d->name : "",
                        d->uuid ? d->uuid : "", domid, w_state, d->state ? d->state : "", w_reason,
                        d->shutdown_reason ? d->shutdown_reason : "",
                        (unsigned long long)d->restart_count);
        }
}

char *ctl_format_duration(uint64_t seconds, char *buf, size_t size)
{
        static const struct {
                const char *suffix;
                uint64_t seconds;
        } units[] = { { "d", 86400 }, { "h", 3600 }, { "min", 60 }, { "s", 1 } };
        size_t off = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(units) && off < size; i++) {
                uint64_t n = seconds / units[i].seconds;

                if (n == 0 && !(i == ELEMENTSOF(units) - 1 && off == 0))
                        continue;
                seconds -= n * units[i].seconds;
                off += (size_t)snprintf(buf + off, size - off, "%s%llu%s", off ? " " : "",
                                        (unsigned long long)n, units[i].suffix);
        }
        return buf;
}

uint64_t ctl_now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* A CLOCK_REALTIME usec as local time, for a person; "" if it has none. */
static char *format_local_time(uint64_t usec, char *buf, size_t size)
{
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;

        buf[0] = '\0';
        if (localtime_r(&t, &tm))
                strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm);
        return buf;
}

/* " on_NAME=VALUE", left out when an older daemon did not send the property. */
static void print_action(FILE *f, const char *key, const char *value)
{
        if (value && *value)
                fprintf(f, " %s=%s", key, value);
}

void ctl_print_status(FILE *f, const struct ctl_domain *d, uint64_t now_usec)
{
        char domid[12], when[64], dur[64];

        domid_string(d->domid, domid);
        fprintf(f, "%s (%s)\n", d->name ? d->name : "", d->uuid ? d->uuid : "");
        fprintf(f, "        State: %s\n", d->state ? d->state : "");
        /* RestartAt is non-zero exactly while a restart waits (State restart-wait). */
        if (d->restart_at > 0) {
                format_local_time(d->restart_at, when, sizeof(when));
                if (d->restart_at > now_usec)
                        /* rounded up: "in 0s" would read as "not waiting" */
                        fprintf(f, "      Restart: in %s (at %s)\n",
                                ctl_format_duration((d->restart_at - now_usec + 999999) / 1000000,
                                                    dur, sizeof(dur)),
                                when);
                else
                        fprintf(f, "      Restart: due now (at %s)\n", when);
        }
        if (d->kept_of && *d->kept_of)
                fprintf(f, "      Kept of: %s\n", d->kept_of);
        fprintf(f, "        DomID: %s\n", domid);
        if (d->domid != CTL_DOMID_NONE && d->started_at > 0 && now_usec >= d->started_at)
                fprintf(f, "       Uptime: %s (since %s)\n",
                        ctl_format_duration((now_usec - d->started_at) / 1000000, dur, sizeof(dur)),
                        format_local_time(d->started_at, when, sizeof(when)));
        else
                fprintf(f, "       Uptime: -\n");
        fprintf(f, "     Restarts: %llu\n", (unsigned long long)d->restart_count);
        fprintf(f, "  Last reason: %s\n", d->shutdown_reason ? d->shutdown_reason : "");
        fprintf(f, "      Failure: %s\n", d->failure && *d->failure ? d->failure : "-");
        fprintf(f, "       Memory: %llu KiB (max %llu KiB)\n", (unsigned long long)d->memory_kib,
                (unsigned long long)d->max_memory_kib);
        fprintf(f, "        VCPUs: %llu\n", (unsigned long long)d->vcpus);
        fprintf(f, "      Actions: on_poweroff=%s on_reboot=%s on_crash=%s",
                d->on_poweroff ? d->on_poweroff : "", d->on_reboot ? d->on_reboot : "",
                d->on_crash ? d->on_crash : "");
        print_action(f, "on_watchdog", d->on_watchdog);
        print_action(f, "on_soft_reset", d->on_soft_reset);
        fputc('\n', f);
        fprintf(f, "       Config: %s\n", d->config_path && *d->config_path ? d->config_path : "-");
        /* The audit trail: who last started, stopped or destroyed it, and when. */
        if (d->last_action && *d->last_action) {
                fprintf(f, "  Last action: %s by uid %llu", d->last_action,
                        (unsigned long long)d->last_action_uid);
                if (d->last_action_pid > 0)
                        fprintf(f, " (pid %llu)", (unsigned long long)d->last_action_pid);
                if (d->last_action_at > 0)
                        fprintf(f, " at %s",
                                format_local_time(d->last_action_at, when, sizeof(when)));
                fputc('\n', f);
        } else
                fprintf(f, "  Last action: -\n");
}

/* The start of a monitor line: "TIME " or {"time": TIME, "name": NAME, "event": EVENT. */
static void print_monitor_head(FILE *f, const char *time, const char *name, const char *event,
                               bool json)
{
        if (!json) {
                if (time)
                        fprintf(f, "%s ", time);
                fprintf(f, "%s:", name);
                return;
        }
        fputs("{\"time\": ", f);
        ctl_json_string(f, time ? time : "");
        fputs(", \"name\": ", f);
        ctl_json_string(f, name);
        fputs(", \"event\": ", f);
        ctl_json_string(f, event);
}

/* A change line: the properties that differ between old and now; nothing if none does. */
static void print_change_line(FILE *f, const char *time, const struct ctl_domain *old,
                              const struct ctl_domain *now, bool json)
{
        bool any = false;

        for (size_t i = 0; i < ELEMENTSOF(properties); i++) {
                const struct ctl_property *p = &properties[i];
                char buf[24];

                if (p->is_string ? strcmp(string_of(old, p), string_of(now, p)) == 0
                                 : number_of(old, p) == number_of(now, p))
                        continue;
                if (!any)
                        print_monitor_head(f, time, now->name ? now->name : "?", "changed", json);
                any = true;
                if (json) {
                        fprintf(f, ", \"%s\": ", p->json);
                        print_json_value(f, now, p);
                } else if (p->is_string) {
                        fprintf(f, " %s=", p->json);
                        /* quoted when it has spaces, so the line stays parseable */
                        if (strpbrk(string_of(now, p), " \t\"") || !*string_of(now, p))
                                ctl_json_string(f, string_of(now, p));
                        else
                                fputs(string_of(now, p), f);
                } else {
                        if (strcmp(p->bus, "DomID") == 0 && number_of(now, p) == CTL_DOMID_NONE)
                                strcpy(buf, "none");
                        else
                                snprintf(buf, sizeof(buf), "%llu",
                                         (unsigned long long)number_of(now, p));
                        fprintf(f, " %s=%s", p->json, buf);
                }
        }
        if (any)
                fputs(json ? "}\n" : "\n", f);
}

void ctl_print_changes(FILE *f, const struct ctl_domain *old, const struct ctl_domain *now)
{
        print_change_line(f, NULL, old, now, false);
}

char *ctl_format_timestamp(uint64_t usec, char buf[static CTL_TIMESTAMP_MAX])
{
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;
        long off;
        size_t n;

        buf[0] = '\0';
        if (!localtime_r(&t, &tm))
                return buf;
        n = strftime(buf, CTL_TIMESTAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
        /* strftime's %z has no colon (+0100); ISO 8601's extended form has one. */
        off = tm.tm_gmtoff;
        snprintf(buf + n, CTL_TIMESTAMP_MAX - n, ".%03u%c%02ld:%02ld",
                 (unsigned)(usec / 1000 % 1000), off < 0 ? '-' : '+', labs(off) / 3600,
                 labs(off) / 60 % 60);
        return buf;
}

void ctl_print_monitor_state(FILE *f, const char *time, const struct ctl_domain *d, bool json)
{
        static const char *const shown[] = { "State", "DomID" };

        print_monitor_head(f, time, d->name ? d->name : "?", "state", json);
        for (size_t i = 0; i < ELEMENTSOF(shown); i++) {
                const struct ctl_property *p = property_by_bus_name(shown[i]);

                if (json) {
                        fprintf(f, ", \"%s\": ", p->json);
                        print_json_value(f, d, p);
                } else if (p->is_string)
                        fprintf(f, " %s=%s", p->json, *string_of(d, p) ? string_of(d, p) : "?");
                else if (number_of(d, p) == CTL_DOMID_NONE)
                        fprintf(f, " %s=none", p->json);
                else
                        fprintf(f, " %s=%llu", p->json, (unsigned long long)number_of(d, p));
        }
        fputs(json ? "}\n" : "\n", f);
}

void ctl_print_monitor_event(FILE *f, const char *time, const char *name, const char *event,
                             bool json)
{
        print_monitor_head(f, time, name, event, json);
        if (json)
                fputs("}\n", f);
        else
                fprintf(f, " %s\n", event);
}

void ctl_print_monitor_changes(FILE *f, const char *time, const struct ctl_domain *old,
                               const struct ctl_domain *now, bool json)
{
        print_change_line(f, time, old, now, json);
}

const char *ctl_xenbus_state_name(uint32_t state)
{
        static const char *const names[] = { "unknown",     "initialising", "init-wait",
                                             "initialised", "connected",    "closing",
                                             "closed" };

        return state < ELEMENTSOF(names) ? names[state] : "unknown";
}

static void print_device_json(FILE *f, const struct ctl_device *d, bool disk)
{
        fprintf(f, "{\"devid\": %" PRIu32 ", \"%s\": ", d->devid, disk ? "vdev" : "interface");
        ctl_json_string(f, d->name);
        fprintf(f, ", \"%s\": ", disk ? "target" : "mac");
        ctl_json_string(f, d->what);
        fprintf(f, ", \"%s\": ", disk ? "device" : "bridge");
        ctl_json_string(f, d->where);
        fprintf(f, ", \"backend_state\": \"%s\", \"frontend_state\": \"%s\"}",
                ctl_xenbus_state_name(d->backend_state), ctl_xenbus_state_name(d->frontend_state));
}

void ctl_print_devices(FILE *f, const struct ctl_device *devs, size_t n, const char *kind,
                       bool json)
{
        bool disk = strcmp(kind, "vbd") == 0, first = true;

        if (json)
                fputc('[', f);
        else if (disk)
                fprintf(f, "%-8s %-10s %-13s %-13s %-16s %s\n", "VDEV", "DEVID", "BACKEND",
                        "FRONTEND", "DEVICE", "TARGET");
        else
                fprintf(f, "%-6s %-18s %-16s %-16s %-13s %s\n", "DEVID", "MAC", "INTERFACE",
                        "BRIDGE", "BACKEND", "FRONTEND");
        for (size_t i = 0; i < n; i++) {
                const struct ctl_device *d = &devs[i];

                if (strcmp(d->kind, kind) != 0)
                        continue;
                if (json) {
                        fputs(first ? "\n" : ",\n", f);
                        print_device_json(f, d, disk);
                } else if (disk)
                        fprintf(f, "%-8s %-10" PRIu32 " %-13s %-13s %-16s %s\n", d->name, d->devid,
                                ctl_xenbus_state_name(d->backend_state),
                                ctl_xenbus_state_name(d->frontend_state), d->where, d->what);
                else
                        fprintf(f, "%-6" PRIu32 " %-18s %-16s %-16s %-13s %s\n", d->devid, d->what,
                                d->name, d->where, ctl_xenbus_state_name(d->backend_state),
                                ctl_xenbus_state_name(d->frontend_state));
                first = false;
        }
        if (json)
                fputs(first ? "]\n" : "\n]\n", f);
}
