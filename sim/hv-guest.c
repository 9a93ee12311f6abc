/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-guest.c — what a simulated guest does on its own: its script's exit
 * after run_ms, and, once dom0 introduced it to XenStore, what a Linux PV
 * guest does there (drivers/xen/manage.c): advertise control/feature-*,
 * watch control/shutdown, acknowledge a request it knows by clearing the
 * node, then shut down with that reason a moment later. Its device
 * frontends are in hv-frontend.c.
 *
 * Its clock (what run_ms counts) stops when it shuts down. A suspend it
 * returns from ("cancelled", RESUME) goes on with the same clock, timers and
 * connections; a restored guest boots as Linux resumes from a save: it goes
 * on from the saved clock, watches its nodes again and reconnects its
 * frontends, but leaves control/feature-* as the toolstack wrote them.
 */
#include <stdio.h>
#include <string.h>

#include "common/macros.h"
#include "sim/hv-internal.h"

#define USEC_PER_MSEC 1000ull
#define NSEC_PER_MSEC 1000000ull

static const char *const guest_features[] = { "control/feature-poweroff", "control/feature-reboot",
                                              "control/feature-suspend" };

/* The requests manage.c knows; anything else is left in the node, unanswered. */
static enum shutdown_reason request_reason(const char *v)
{
        if (strcmp(v, "poweroff") == 0 || strcmp(v, "halt") == 0)
                return SHUTDOWN_REASON_POWEROFF;
        if (strcmp(v, "reboot") == 0)
                return SHUTDOWN_REASON_REBOOT;
        if (strcmp(v, "suspend") == 0)
                return SHUTDOWN_REASON_SUSPEND;
        return SHUTDOWN_REASON_NONE;
}

static bool guest_paused(const struct hv_domain *d)
{
        return d->pause_count > 0;
}

static int on_ack_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct hv_domain *d = userdata;

        (void)s;
        (void)usec;
        d->ack_timer = sd_event_source_disable_unref(d->ack_timer);
        if (guest_paused(d))
                d->request_pending = true; /* it shuts down when it next runs */
        else
                (void)hv_domain_shutdown(d, d->pending_reason);
        return 0;
}

static void on_control_shutdown(struct xs_conn *c, const char *path, const char *token,
                                void *userdata)
{
        struct hv_domain *d = userdata;
        _cleanup_free_ char *v = NULL;
        enum shutdown_reason why;
        size_t len;
        int r;

        (void)path;
        (void)token;
        if (d->shutdown || d->ack_timer || d->request_pending || d->ignore_shutdown)
                return;
        if (xs_conn_read(c, "control/shutdown", &v, &len) < 0 || len == 0)
                return;
        why = request_reason(v);
        if (why == SHUTDOWN_REASON_SUSPEND && d->no_suspend) {
                /* Acknowledged, as manage.c clears it first; then the freeze never completes. */
                (void)xs_conn_write(c, "control/shutdown", "", 0);
                fprintf(stderr, "xensup-sim: domid %u: acknowledged suspend, not suspending\n",
                        d->domid);
                return;
        }
        if (why == SHUTDOWN_REASON_NONE) {
                /* Whoever wrote it, it goes to a log: printable characters only. */
                for (size_t i = 0; i < len && i < 32; i++)
                        if (v[i] < 0x20 || v[i] > 0x7e)
                                v[i] = '?';
                fprintf(stderr, "xensup-sim: domid %u: ignoring shutdown request '%.32s'\n",
                        d->domid, v);
                return;
        }
        r = xs_conn_write(c, "control/shutdown", "", 0);
        if (r < 0)
                return;
        d->pending_reason = why;
        r = sd_event_add_time_relative(d->hv->event, &d->ack_timer, CLOCK_MONOTONIC,
                                       HV_ACK_DELAY_MS * USEC_PER_MSEC, USEC_PER_MSEC, on_ack_timer,
                                       d);
        if (r < 0)
                (void)hv_domain_shutdown(d, why);
}

/* A decimal no longer than 20 digits, nothing else; -EINVAL otherwise. */
static int parse_kib(const char *v, size_t len, uint64_t *ret)
{
        uint64_t x = 0;

        if (len == 0 || len > 20)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                x = x * 10 + (uint64_t)(v[i] - '0');
        }
        *ret = x;
        return 0;
}

/* The balloon driver (drivers/xen/xen-balloon.c): memory/target, in KiB. */
static void on_memory_target(struct xs_conn *c, const char *path, const char *token, void *userdata)
{
        struct hv_domain *d = userdata;
        _cleanup_free_ char *v = NULL;
        uint64_t kib;
        size_t len;

        (void)path;
        (void)token;
        if (xs_conn_read(c, "memory/target", &v, &len) < 0 || parse_kib(v, len, &kib) < 0)
                return;
        hv_domain_balloon(d, kib);
}

/* vcpu hotplug (drivers/xen/cpu_hotplug.c): cpu/N/availability, "online" or "offline". */
static void on_cpu(struct xs_conn *c, const char *path, const char *token, void *userdata)
{
        struct hv_domain *d = userdata;
        char node[64];

        (void)path;
        (void)token;
        for (unsigned i = 0; i < d->max_vcpus; i++) {
                _cleanup_free_ char *v = NULL;
                size_t len;

                snprintf(node, sizeof(node), "cpu/%u/availability", i);
                if (xs_conn_read(c, node, &v, &len) < 0)
                        continue;
                if (strcmp(v, "online") == 0)
                        hv_domain_vcpu_online(d, i, true);
                else if (strcmp(v, "offline") == 0)
                        hv_domain_vcpu_online(d, i, false);
        }
}

/* Write the feature nodes and watch control/shutdown, once introduced and booted. */
static int on_boot(sd_event_source *s, void *userdata)
{
        struct hv_domain *d = userdata;
        int r;

        (void)s;
        d->boot_defer = sd_event_source_disable_unref(d->boot_defer);
        if (d->booted || !d->conn || !d->started || d->shutdown)
                return 0;
        d->booted = true;
        hv_console_printf(d, "xensup-sim: %s %s (domid %u)\r\n", d->name,
                          d->restored ? "resumed" : "booted", d->domid);
        /*
         * Linux writes its feature nodes once, when xenstore first comes up: after a
         * restore into a fresh tree they are whatever the toolstack put there.
         */
        for (size_t i = 0; i < ELEMENTSOF(guest_features) && !d->restored; i++) {
                r = xs_conn_write(d->conn, guest_features[i], "1", 1);
                if (r < 0)
                        fprintf(stderr, "xensup-sim: domid %u: cannot write %s: %s\n", d->domid,
                                guest_features[i], strerror(-r));
        }
        r = xs_conn_watch(d->conn, "control/shutdown", "control/shutdown", on_control_shutdown, d);
        if (r >= 0)
                r = xs_conn_watch(d->conn, "memory/target", "memory/target", on_memory_target, d);
        if (r >= 0)
                r = xs_conn_watch(d->conn, "cpu", "cpu", on_cpu, d);
        if (r < 0)
                fprintf(stderr, "xensup-sim: domid %u: cannot watch its control nodes: %s\n",
                        d->domid, strerror(-r));
        hv_frontends_start(d);
        return 0;
}

/* Boot from the event loop, never inside a server callback or a request. */
static void guest_schedule_boot(struct hv_domain *d)
{
        if (d->booted || d->boot_defer || !d->conn || !d->started)
                return;
        if (sd_event_add_defer(d->hv->event, &d->boot_defer, on_boot, d) < 0)
                fprintf(stderr, "xensup-sim: domid %u: cannot schedule boot\n", d->domid);
}

static int on_exit_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct hv_domain *d = userdata;

        (void)s;
        (void)usec;
        d->exit_timer = sd_event_source_disable_unref(d->exit_timer);
        if (guest_paused(d))
                d->exit_pending = true;
        else
                (void)hv_domain_shutdown(d, (enum shutdown_reason)d->script.exit);
        return 0;
}

uint64_t hv_guest_uptime_ns(const struct hv_domain *d)
{
        return d->uptime_ns + (d->up_since_ns ? hv_now_ns() - d->up_since_ns : 0);
}

void hv_guest_halt(struct hv_domain *d)
{
        d->uptime_ns = hv_guest_uptime_ns(d);
        d->up_since_ns = 0;
}

/* The clock runs again, and the script exits after what is left of run_ms. */
static void guest_clock_start(struct hv_domain *d)
{
        uint64_t run_ns, left_ns;
        int r;

        if (!d->up_since_ns)
                d->up_since_ns = hv_now_ns();
        if (!d->script.present || d->script.run_ms == 0 || d->exit_timer)
                return;
        run_ns = d->script.run_ms * NSEC_PER_MSEC;
        left_ns = d->uptime_ns < run_ns ? run_ns - d->uptime_ns : 0;
        r = sd_event_add_time_relative(d->hv->event, &d->exit_timer, CLOCK_MONOTONIC,
                                       left_ns / 1000, USEC_PER_MSEC, on_exit_timer, d);
        if (r < 0)
                fprintf(stderr, "xensup-sim: domid %u: cannot arm the script: %s\n", d->domid,
                        strerror(-r));
}

void hv_guest_start(struct hv_domain *d)
{
        guest_clock_start(d);
        guest_schedule_boot(d);
}

void hv_guest_unsuspend(struct hv_domain *d)
{
        /* Suspended before it ever ran: it boots at its first unpause, as any other. */
        if (!d->started)
                return;
        guest_clock_start(d);
        if (d->pause_count == 0 && d->devices_dirty)
                hv_frontends_kick(d); /* its backends moved on while it was suspended */
}

void hv_guest_resume(struct hv_domain *d)
{
        if (d->exit_pending)
                (void)hv_domain_shutdown(d, (enum shutdown_reason)d->script.exit);
        else if (d->request_pending)
                (void)hv_domain_shutdown(d, d->pending_reason);
        else if (d->devices_dirty)
                hv_frontends_kick(d); /* its backends moved on while it was paused */
}

void hv_guest_stop(struct hv_domain *d)
{
        d->exit_timer = sd_event_source_disable_unref(d->exit_timer);
        d->ack_timer = sd_event_source_disable_unref(d->ack_timer);
        d->boot_defer = sd_event_source_disable_unref(d->boot_defer);
        hv_frontends_stop(d);
        hv_console_close(d);
        d->conn = xs_conn_close(d->conn);
}

/* Write; a hostile guest does not care whether the server refused. */
static bool hostile_write(struct hv_domain *d, const char *path, const void *v, size_t len)
{
        return xs_conn_write(d->conn, path, v, len) >= 0;
}

static void on_hostile_watch(struct xs_conn *c, const char *path, const char *token, void *userdata)
{
        /* A hostile guest registers watches to load the server, not to read them. */
        (void)c;
        (void)path;
        (void)token;
        (void)userdata;
}

/* What a malicious guest can do to its own subtree: lie, flood, and fill its quota. */
static int guest_hostile(struct hv_domain *d)
{
        _cleanup_free_ char *big = NULL, *longname = NULL;
        static const char binary[] = { 'a', 0, 'b', '\n', (char)0xff, '\t', 0x1b };
        char path[64];
        unsigned written = 0, failed = 0;

        if (!d->conn || !xs_conn_is_connected(d->conn))
                return -ENOTCONN;
        big = malloc(4 * XS_QUOTA_ENTRY_SIZE);
        longname = malloc(4096);
        if (!big || !longname)
                return -ENOMEM;
        memset(big, 'A', 4 * XS_QUOTA_ENTRY_SIZE);
        written += hostile_write(d, "name", "Domain-0", 8);
        written += hostile_write(d, "vm", "/vm/00000000-0000-0000-0000-000000000000", 40);
        written += hostile_write(d, "domid", "0", 1);
        written += hostile_write(d, "control/feature-poweroff", "yes\x01", 4);
        written += hostile_write(d, "control/shutdown", big, 300);
        written += hostile_write(d, "memory/target", "-1", 2);
        written += hostile_write(d, "data/binary", binary, sizeof(binary));
        written += hostile_write(d, "data/huge", big, XS_QUOTA_ENTRY_SIZE);
        written += hostile_write(d, "data/huger", big, 4 * XS_QUOTA_ENTRY_SIZE);
        written += hostile_write(d, "device/vif/0/state", "99999999999999999999", 20);
        memcpy(longname, "data/", 5);
        memset(longname + 5, 'n', 250);
        longname[255] = 0;
        written += hostile_write(d, longname, "x", 1);
        memset(longname + 5, 'n', 4000);
        longname[4005] = 0;
        written += hostile_write(d, longname, "x", 1);
        /* Paths that try to leave the subtree or break the path syntax. */
        written += hostile_write(d, "data/../../0/name", "evil", 4);
        written += hostile_write(d, "/local/domain/0/name", "evil", 4);
        written += hostile_write(d, "/vm/evil", "evil", 4);
        written += hostile_write(d, "data/a b", "x", 1);
        written += hostile_write(d, "data/\x01\xff", "x", 1);
        written += hostile_write(d, "data//double", "x", 1);
        /*
         * Watches up to the quota, on dom0's nodes and beyond its reach. Not on
         * what it floods next: events it did not read would get its connection
         * dropped, and this guest means to stay.
         */
        for (unsigned i = 0; i < 2 * XS_QUOTA_WATCHES; i++) {
                snprintf(path, sizeof(path), "/local/domain/0/w%u", i);
                if (xs_conn_watch(d->conn, i % 2 ? "/vm" : path, path, on_hostile_watch, d) < 0)
                        break;
        }
        /* Fill the node quota: stop once the server has said no a few times in a row. */
        for (unsigned i = 0; i < HV_HOSTILE_MAX && failed < 3; i++) {
                snprintf(path, sizeof(path), "data/flood/%u", i);
                if (hostile_write(d, path, "flood", 5)) {
                        written++;
                        failed = 0;
                } else
                        failed++;
        }
        fprintf(stderr, "xensup-sim: domid %u: hostile guest wrote %u nodes\n", d->domid, written);
        return 0;
}

int hv_guest_action(struct hv_domain *d, enum hv_guest_action a)
{
        if (d->domid == 0 || d->dying)
                return -EINVAL;
        switch (a) {
        case HV_GUEST_POWEROFF:
                return hv_domain_shutdown(d, SHUTDOWN_REASON_POWEROFF);
        case HV_GUEST_REBOOT:
                return hv_domain_shutdown(d, SHUTDOWN_REASON_REBOOT);
        case HV_GUEST_CRASH:
                return hv_domain_shutdown(d, SHUTDOWN_REASON_CRASH);
        case HV_GUEST_WATCHDOG:
                return hv_domain_shutdown(d, SHUTDOWN_REASON_WATCHDOG);
        case HV_GUEST_SOFT_RESET:
                return hv_domain_shutdown(d, SHUTDOWN_REASON_SOFT_RESET);
        case HV_GUEST_HANG:
                d->ignore_shutdown = true;
                return 0;
        case HV_GUEST_OBEY:
                d->ignore_shutdown = false;
                d->no_suspend = false;
                return 0;
        case HV_GUEST_NO_SUSPEND:
                d->no_suspend = true;
                return 0;
        case HV_GUEST_HOSTILE:
                return guest_hostile(d);
        case HV_GUEST_ZOMBIE:
                d->zombie = true;
                return 0;
        default:
                return -EINVAL;
        }
}

int hv_guest_on_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                          void *userdata)
{
        struct hypervisor *hv = userdata;
        struct hv_domain *d = hv_domain_get(hv, domid);
        int r;

        (void)mfn; /* xenstored 4.17 maps the ring through the reserved grant, not the mfn */
        if (!d || d->dying)
                return -ESRCH;
        if (domid == 0 || port != d->store_port)
                return -EINVAL;
        if (d->conn)
                return 0;
        r = xs_server_connect_domain(s, domid, &d->conn);
        if (r < 0)
                return r;
        /* xenconsoled's @introduceDomain: the domain gets its console's pty. */
        r = hv_console_open(d);
        if (r < 0)
                fprintf(stderr, "xensup-sim: domid %u: no console: %s\n", domid, strerror(-r));
        guest_schedule_boot(d);
        return 0;
}
