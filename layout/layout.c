/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout.c — writing and removing a domain's XenStore nodes.
 *
 * A domain's nodes are first described as a plan (path, value, access), then
 * sent in one transaction by an executor that relies on xenstored's
 * inheritance (a new node takes its parent's ACL) to send the fewest
 * requests: a set_permissions only where a node's ACL differs from its
 * parent's, a mkdir only for a directory nothing else creates.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "common/error.h"
#include "common/parse.h"
#include "layout/acl.h"
#include "layout/layout-internal.h"
#include "layout/layout.h"
#include "layout/plan.h"
#include "layout/record.h"

/* The console ring buffer limit libxl writes (LIBXL_XENCONSOLE_LIMIT). */
#define LAYOUT_CONSOLE_LIMIT 1048576

/* Longest /tool/xensup/<uuid> record accepted on read. */
#define LAYOUT_STATE_MAX 2048

/* The most vcpus a config may give (and so the widest vcpu_avail bitmap). */
#define LAYOUT_MAX_VCPUS VCPUS_MAX

static void xs_closep(struct xs_handle **xs)
{
        if (*xs)
                xs_close(*xs);
}

static void layoutp(struct layout **l)
{
        layout_close(*l);
}

int layout_open(struct layout **ret, char **err_r)
{
        _cleanup_(layoutp) struct layout *l = NULL;
        _cleanup_(xs_closep) struct xs_handle *xs = NULL;

        xs = xs_open(0);
        if (!xs) {
                int r = errno_or_eio();

                return err_setf(err_r, r, "cannot connect to XenStore: %s", strerror(-r));
        }
        l = calloc(1, sizeof(*l));
        if (!l)
                return err_setf(err_r, -ENOMEM, "out of memory");
        l->xs = TAKE_PTR(xs);
        l->lock_fd = -1;
        /* No socket (a domU's xenbus device): every request goes through libxenstore. */
        if (xs_wire_open(&l->wire) < 0)
                l->wire = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}

struct layout *layout_close(struct layout *l)
{
        if (!l)
                return NULL;
        if (l->xs)
                xs_close(l->xs);
        if (l->lock_fd >= 0)
                close(l->lock_fd);
        xs_wire_close(l->wire);
        free(l->wire_err);
        free(l);
        return NULL;
}

int layout_serialize_transactions(struct layout *l, const char *lock_path, unsigned patience_ms,
                                  char **err_r)
{
        int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0)
                return err_setf(err_r, -errno, "cannot open the XenStore lock %s: %s", lock_path,
                                strerror(errno));
        if (l->lock_fd >= 0)
                close(l->lock_fd);
        l->lock_fd = fd;
        l->patience_ms = patience_ms;
        return 0;
}

uint64_t layout_request_count(const struct layout *l)
{
        return l->requests;
}

void layout_test_fail_request(struct layout *l, uint64_t nth, int error)
{
        l->fail_at = nth ? l->requests + nth : 0;
        l->fail_error = error;
}

bool layout_test_break_wire(struct layout *l)
{
        if (!l->wire)
                return false;
        xs_wire_shutdown(l->wire);
        return true;
}

void layout_test_hook_request(struct layout *l, uint64_t nth, void (*fn)(void *userdata),
                              void *userdata)
{
        l->hook_at = nth ? l->requests + nth : 0;
        l->hook = fn;
        l->hook_userdata = userdata;
}

static const char *ostype_of(enum domain_type type)
{
        switch (type) {
        case DOMAIN_TYPE_PV:
                return "linux"; /* libxl's value for PV, the seed's "linux" */
        case DOMAIN_TYPE_HVM:
                return "hvm";
        default:
                return "pvh";
        }
}

/*
 * vcpu_avail: the bitmap of the first online vcpus, 2^online - 1, written as
 * one decimal integer as xend did. It is wider than 64 bits past 64 vcpus, so
 * it is computed in decimal: double a digit string online times, then
 * subtract one (a power of two never ends in 0, so only the last digit moves).
 */
static const char *vcpu_bitmap(unsigned online, char buf[48])
{
        char digits[48]; /* least significant first; 2^128 has 39 digits */
        unsigned n = 1;

        digits[0] = 1;
        for (unsigned i = 0; i < online && i < LAYOUT_MAX_VCPUS; i++) {
                unsigned carry = 0;

                for (unsigned k = 0; k < n; k++) {
                        unsigned d = (unsigned)digits[k] * 2 + carry;

                        digits[k] = (char)(d % 10);
                        carry = d / 10;
                }
                if (carry)
                        digits[n++] = (char)carry;
        }
        digits[0]--;
        for (unsigned k = 0; k < n; k++)
                buf[k] = (char)('0' + digits[n - 1 - k]);
        buf[n] = '\0';
        return buf;
}

static int check_vcpus(unsigned online, unsigned maxvcpus, const char *what, char **err_r)
{
        if (maxvcpus == 0 || maxvcpus > LAYOUT_MAX_VCPUS || online == 0 || online > maxvcpus)
                return err_setf(err_r, -EINVAL,
                                "%s: %u of %u vcpus online is not a layout xensup can write "
                                "(1..%u vcpus, at least one online)",
                                what, online, maxvcpus, LAYOUT_MAX_VCPUS);
        return 0;
}

/* /vm/<uuid>: what the domain was configured with; read-only for the guest. */
static void plan_vm(struct plan *p, const struct layout_domain *d, const char *vm, const char *uuid,
                    unsigned online, unsigned maxvcpus, uint64_t start)
{
        const struct domain_config *c = d->cfg;
        const enum layout_access RO = LAYOUT_ACCESS_READ;
        char b[32];

        plan_add(p, RO, NULL, "%s", vm);
        plan_add(p, RO, uuid, "%s/uuid", vm);
        plan_add(p, RO, d->name, "%s/name", vm);
        plan_add(p, RO, val(b, "%" PRIu32, c->ssidref), "%s/ssidref", vm);
        plan_add(p, RO, domain_action_to_string(c->on_poweroff), "%s/on_poweroff", vm);
        plan_add(p, RO, domain_action_to_string(c->on_reboot), "%s/on_reboot", vm);
        plan_add(p, RO, domain_action_to_string(c->on_crash), "%s/on_crash", vm);
        plan_add(p, RO, val(b, "%u", maxvcpus), "%s/vcpus", vm);
        plan_add(p, RO, val(b, "%u", online), "%s/vcpu_avail", vm);
        plan_add(p, RO, val(b, "%" PRIu64, c->memory_mib), "%s/memory", vm);
        plan_add(p, RO, ostype_of(c->type), "%s/image/ostype", vm);
        if (c->kernel)
                plan_add(p, RO, c->kernel, "%s/image/kernel", vm);
        if (c->cmdline)
                plan_add(p, RO, c->cmdline, "%s/image/cmdline", vm);
        if (c->ramdisk)
                plan_add(p, RO, c->ramdisk, "%s/image/ramdisk", vm);
        plan_add(p, RO,
                 val(b, "%" PRIu64 ".%02u", start / 1000000, (unsigned)(start % 1000000 / 10000)),
                 "%s/start_time", vm);
}

/* Describe everything a new domain has in XenStore (layout/README.md has the table). */
static void plan_domain(struct plan *p, const struct layout_domain *d, const char *uuid,
                        unsigned online, unsigned maxvcpus)
{
        const struct domain_config *c = d->cfg;
        const enum layout_access RO = LAYOUT_ACCESS_READ, RW = LAYOUT_ACCESS_WRITE;
        uint64_t maxmem = c->maxmem_mib > c->memory_mib ? c->maxmem_mib : c->memory_mib;
        uint64_t start = d->start_time_usec;
        char vm[64], dom[64], fe[80], be[96], b[32], bits[48];

        if (start == 0) {
                struct timeval tv;

                gettimeofday(&tv, NULL);
                start = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
        }
        snprintf(vm, sizeof(vm), "/vm/%s", uuid);
        snprintf(dom, sizeof(dom), "/local/domain/%" PRIu32, d->domid);
        snprintf(fe, sizeof(fe), "%s/console", dom);
        snprintf(be, sizeof(be), "/local/domain/0/backend/console/%" PRIu32 "/0", d->domid);

        /* A reused domid or a restarted uuid starts from nothing (XSA-322, XSA-419); made
         * before the transaction, so that two domains' layouts never conflict (plan_run()). */
        plan_clear(p, "%s", dom);
        if (!d->keep_vm)
                plan_clear(p, "%s", vm);
        plan_clear(p, "/local/domain/0/backend/console/%" PRIu32, d->domid);
        if (!d->keep_vm)
                plan_vm(p, d, vm, uuid, online, maxvcpus, start);

        /* /local/domain/<domid>: the running instance; read-only for the guest but its own areas,
         * listed first so that they take their ACL from it (plan_execute()). */
        plan_add(p, RO, NULL, "%s", dom);
        plan_add(p, RW, NULL, "%s/data", dom);
        plan_add(p, RW, NULL, "%s/drivers", dom);
        plan_add(p, RW, NULL, "%s/feature", dom);
        plan_add(p, RW, NULL, "%s/attr", dom);
        plan_add(p, RW, NULL, "%s/error", dom);
        plan_add(p, RO, vm, "%s/vm", dom);
        plan_add(p, RO, d->name, "%s/name", dom);
        plan_add(p, RO, val(b, "%" PRIu32, d->domid), "%s/domid", dom);
        /* The supervisor unpauses right after writing; layout_set_running() tracks pauses. */
        plan_add(p, RO, "1", "%s/running", dom);
        plan_add(p, RO, NULL, "%s/cpu", dom);
        for (unsigned i = 0; i < maxvcpus; i++)
                plan_add(p, RO, i < online ? "online" : "offline", "%s/cpu/%u/availability", dom,
                         i);
        plan_add(p, RO, val(b, "%u", c->cpu_weight), "%s/cpu_weight", dom);
        plan_add(p, RO, val(b, "%u", maxvcpus), "%s/vcpus", dom);
        plan_add(p, RO, vcpu_bitmap(online, bits), "%s/vcpu_avail", dom);
        plan_add(p, RO, val(b, "%u", online), "%s/online_vcpus", dom);
        plan_add(p, RO, domain_action_to_string(c->on_poweroff), "%s/on_poweroff", dom);
        plan_add(p, RO, domain_action_to_string(c->on_reboot), "%s/on_reboot", dom);
        plan_add(p, RO, domain_action_to_string(c->on_crash), "%s/on_crash", dom);
        plan_add(p, RO, val(b, "%" PRIu64, maxmem * 1024), "%s/memory/static-max", dom);
        plan_add(p, RO, val(b, "%" PRIu64, c->memory_mib * 1024), "%s/memory/target", dom);
        plan_add(p, RO, c->type == DOMAIN_TYPE_HVM ? "8192" : "-1", "%s/memory/videoram", dom);
        plan_add(p, RO, val(b, "%" PRIu32, d->store_port), "%s/store/port", dom);
        plan_add(p, RO, val(b, "%" PRIu64, d->store_mfn), "%s/store/ring-ref", dom);
        plan_add(p, RO, be, "%s/console/backend", dom);
        plan_add(p, RO, "0", "%s/console/backend-id", dom);
        plan_add(p, RO, val(b, "%d", LAYOUT_CONSOLE_LIMIT), "%s/console/limit", dom);
        plan_add(p, RO, "xenconsoled", "%s/console/type", dom);
        plan_add(p, RO, "pty", "%s/console/output", dom);
        plan_add(p, RO, "", "%s/console/tty", dom);
        plan_add(p, RO, val(b, "%" PRIu32, d->console_port), "%s/console/port", dom);
        plan_add(p, RO, val(b, "%" PRIu64, d->console_mfn), "%s/console/ring-ref", dom);
        plan_add(p, RO, NULL, "%s/device", dom);
        plan_add(p, RW, "", "%s/device/suspend/event-channel", dom);
        plan_add(p, RO, NULL, "%s/backend", dom);
        plan_add(p, RO, NULL, "%s/device-misc", dom);
        plan_add(p, RO, NULL, "%s/image", dom);

        /* ...and where the guest must answer: control/ acks and features. A node of dom0's
         * first makes control/, so that the guest's take their ACL from it (plan_execute()). */
        plan_add(p, RO, "1", "%s/control/platform-feature-multiprocessor-suspend", dom);
        plan_add(p, RW, "", "%s/control/shutdown", dom);
        plan_add(p, RW, "", "%s/control/feature-poweroff", dom);
        plan_add(p, RW, "", "%s/control/feature-reboot", dom);
        plan_add(p, RW, "", "%s/control/feature-suspend", dom);
        if (c->type == DOMAIN_TYPE_HVM) {
                plan_add(p, RW, "", "%s/control/feature-s3", dom);
                plan_add(p, RW, "", "%s/control/feature-s4", dom);
        }
        plan_add(p, RW, "", "%s/control/sysrq", dom);
        plan_add(p, RO, "1", "%s/control/platform-feature-xs_reset_watches", dom);

        /* The primary console's backend in dom0, which xenconsoled serves. */
        plan_add(p, RO, NULL, "%s", be);
        plan_add(p, RO, fe, "%s/frontend", be);
        plan_add(p, RO, val(b, "%" PRIu32, d->domid), "%s/frontend-id", be);
        plan_add(p, RO, "1", "%s/online", be);
        plan_add(p, RO, "1", "%s/state", be); /* XenbusStateInitialising */
        plan_add(p, RO, "vt100", "%s/protocol", be);
}

/* The plan of d's layout, once d is checked; what names it in messages. */
static int plan_domain_checked(struct plan *p, const struct layout_domain *d, const char *what,
                               char **err_r)
{
        const struct domain_config *c = d->cfg;
        const char *name = d->name ? d->name : c->name;
        unsigned maxvcpus = c->maxvcpus > c->vcpus ? c->maxvcpus : c->vcpus;
        char uuid[37];
        int r;

        r = check_domid(d->domid, what, err_r);
        if (r < 0)
                return r;
        if (!domain_name_is_valid(name))
                return err_setf(err_r, -EINVAL, "%s: invalid name", what);
        r = check_vcpus(c->vcpus, maxvcpus, what, err_r);
        if (r < 0)
                return r;
        if (!domain_action_to_string(c->on_poweroff) || !domain_action_to_string(c->on_reboot) ||
            !domain_action_to_string(c->on_crash))
                return err_setf(err_r, -EINVAL, "%s: invalid on_* action", what);
        plan_domain(p, d, uuid_to_string(c->uuid, uuid), c->vcpus, maxvcpus);
        return 0;
}

int layout_write_domain(struct layout *l, const struct layout_domain *d, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = d->domid };
        char what[64];
        int r;

        snprintf(what, sizeof(what), "writing the layout of domain %" PRIu32, d->domid);
        r = plan_domain_checked(&p, d, what, err_r);
        if (r < 0)
                return r;
        return plan_run(l, &p, plan_execute, what, err_r);
}

int layout_write_domain_floor(const struct layout_domain *d, uint64_t *floor_r, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = d->domid };
        int r = plan_domain_checked(&p, d, "the layout's floor", err_r);

        if (r < 0)
                return r;
        if (p.error < 0)
                return err_setf(err_r, p.error, "the layout's floor: %s", strerror(-p.error));
        *floor_r = plan_floor(&p);
        return 0;
}

int layout_remove_local(struct layout *l, uint32_t domid, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        char what[64];
        int r;

        snprintf(what, sizeof(what), "removing the layout of domain %" PRIu32, domid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        plan_remove(&p, "/local/domain/%" PRIu32, domid);
        plan_remove(&p, "/local/domain/0/backend/console/%" PRIu32, domid);
        return plan_run(l, &p, plan_execute, what, err_r);
}

int layout_remove_vm(struct layout *l, const uint8_t uuid[16], char **err_r)
{
        char u[37], path[64];
        int r;

        snprintf(path, sizeof(path), "/vm/%s", uuid_to_string(uuid, u));
        /* One request is atomic on its own: no transaction needed. */
        r = x_rm(l, XBT_NULL, path);
        if (r < 0)
                return err_setf(err_r, r, "cannot remove %s: %s", path, strerror(-r));
        return 0;
}

int layout_rename(struct layout *l, uint32_t domid, const uint8_t uuid[16], const char *name,
                  char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        char u[37], what[96];
        int r;

        snprintf(what, sizeof(what), "renaming domain %" PRIu32, domid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        if (!domain_name_is_valid(name))
                return err_setf(err_r, -EINVAL, "%s: invalid name", what);
        uuid_to_string(uuid, u);
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        plan_guard(&p, "/vm/%s", u);
        plan_add(&p, LAYOUT_ACCESS_READ, name, "/local/domain/%" PRIu32 "/name", domid);
        plan_add(&p, LAYOUT_ACCESS_READ, name, "/vm/%s/name", u);
        return plan_run(l, &p, update_execute, what, err_r);
}

int layout_set_memory(struct layout *l, uint32_t domid, const uint8_t uuid[16], uint64_t target_kib,
                      char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        char u[37], b[32], what[96];
        int r;

        snprintf(what, sizeof(what), "setting the memory of domain %" PRIu32, domid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        uuid_to_string(uuid, u);
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        plan_guard(&p, "/vm/%s", u);
        plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%" PRIu64, target_kib),
                 "/local/domain/%" PRIu32 "/memory/target", domid);
        plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%" PRIu64, target_kib / 1024), "/vm/%s/memory", u);
        return plan_run(l, &p, update_execute, what, err_r);
}

int layout_set_max_memory(struct layout *l, uint32_t domid, uint64_t max_kib, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        char b[32], what[96];
        int r;

        snprintf(what, sizeof(what), "setting the max memory of domain %" PRIu32, domid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%" PRIu64, max_kib),
                 "/local/domain/%" PRIu32 "/memory/static-max", domid);
        return plan_run(l, &p, update_execute, what, err_r);
}

int layout_set_vcpus(struct layout *l, uint32_t domid, const uint8_t uuid[16], unsigned online,
                     unsigned maxvcpus, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        char u[37], b[32], bits[48], what[96];
        int r;

        snprintf(what, sizeof(what), "setting the vcpus of domain %" PRIu32, domid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        r = check_vcpus(online, maxvcpus, what, err_r);
        if (r < 0)
                return r;
        uuid_to_string(uuid, u);
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        plan_guard(&p, "/vm/%s", u);
        for (unsigned i = 0; i < maxvcpus; i++)
                plan_add(&p, LAYOUT_ACCESS_READ, i < online ? "online" : "offline",
                         "/local/domain/%" PRIu32 "/cpu/%u/availability", domid, i);
        plan_add(&p, LAYOUT_ACCESS_READ, vcpu_bitmap(online, bits),
                 "/local/domain/%" PRIu32 "/vcpu_avail", domid);
        plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%u", online),
                 "/local/domain/%" PRIu32 "/online_vcpus", domid);
        plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%u", online), "/vm/%s/vcpu_avail", u);
        return plan_run(l, &p, update_execute, what, err_r);
}

int layout_set_running(struct layout *l, uint32_t domid, bool running, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        char what[96];
        int r;

        snprintf(what, sizeof(what), "marking domain %" PRIu32 " %s", domid,
                 running ? "running" : "not running");
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        plan_add(&p, LAYOUT_ACCESS_READ, running ? "1" : "0", "/local/domain/%" PRIu32 "/running",
                 domid);
        return plan_run(l, &p, update_execute, what, err_r);
}

int layout_request_shutdown(struct layout *l, uint32_t domid, const char *mode, char **err_r)
{
        static const char *const modes[] = { "poweroff", "reboot", "suspend", "halt" };
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        bool known = false;
        char what[96];
        int r;

        snprintf(what, sizeof(what), "asking domain %" PRIu32 " to shut down", domid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                known = known || strcmp(mode, modes[i]) == 0;
        if (!known)
                return err_setf(err_r, -EINVAL,
                                "%s: unknown mode (allowed: poweroff, reboot, suspend, halt)",
                                what);
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        plan_add(&p, LAYOUT_ACCESS_WRITE, mode, "/local/domain/%" PRIu32 "/control/shutdown",
                 domid);
        return plan_run(l, &p, update_execute, what, err_r);
}

/* ---- the daemon's private record: /tool/xensup/<uuid>, dom0 only ---- */

/* Version 2 of the record: record.h's key=value text. */
#define STATE_VERSION 2

_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "the record's counts are 32-bit");

#define FIELD(k, t, member) RECORD_FIELD(struct layout_tool_state, k, RECORD_##t, member)

/* Every key of version 2, in the order it is written. */
static const struct record_field state_fields[] = {
        FIELD("domid", DOMID, domid),
        FIELD("build_in_progress", BOOL, build_in_progress),
        FIELD("state", TOKEN, state),
        FIELD("restart_count", UINT, restart_count),
        FIELD("restart_window_start", UINT, restart_window_start),
        FIELD("restart_window_count", UINT, restart_window_count),
        FIELD("restart_due", UINT, restart_due),
        FIELD("started_at_usec", UINT, started_at_usec),
        FIELD("shutdown_requested", BOOL, shutdown_requested),
        FIELD("shutdown_reboot", BOOL, shutdown_reboot),
        FIELD("shutdown_deadline", UINT, shutdown_deadline),
        FIELD("failed", BOOL, failed),
        FIELD("last_reason", REASON, last_reason),
        FIELD("failure", TEXT, failure),
        FIELD("config_path", PATH, config_path),
        FIELD("created", BOOL, created),
        FIELD("kept", BOOL, kept),
        FIELD("kept_of", UUID, kept_of),
        FIELD("name", NAME, name),
        FIELD("creator_uid", UINT, creator_uid),
        FIELD("creator_groups", TEXT, creator_groups),
        FIELD("creator_host_devices", BOOL, creator_host_devices),
        FIELD("last_action", TOKEN, last_action),
        FIELD("last_action_uid", UINT, last_action_uid),
        FIELD("last_action_pid", UINT, last_action_pid),
        FIELD("last_action_usec", UINT, last_action_usec),
        FIELD("vif_macs", TEXT, vif_macs),
        FIELD("history", TEXT, history),
        FIELD("migrate_to", DOMID, migrate_to),
        FIELD("migrate_committed", BOOL, migrate_committed),
        FIELD("max_memory_kib", UINT, max_memory_kib),
};

static const struct record_schema state_schema = {
        .fields = state_fields,
        .n_fields = ELEMENTSOF(state_fields),
        .version = STATE_VERSION,
        .write_max = LAYOUT_STATE_WRITE_MAX,
};

/* A record the daemon would read back, or -EINVAL with a message naming the field. */
static int state_check(const struct layout_tool_state *s, char **err_r)
{
        int r = record_check(&state_schema, s, err_r);

        if (r < 0)
                return r;
        if (s->kept && !domain_name_is_valid(s->name))
                return err_setf(err_r, -EINVAL, "name: a kept instance needs a valid name");
        return 0;
}

struct state_write {
        const char *path;
        const char *text;
};

/* The first record a handle writes also makes /tool/xensup dom0-only, whatever /tool's own ACL. */
static int state_write_first_step(struct layout *l, xs_transaction_t t, const void *userdata,
                                  char **err_r)
{
        const struct state_write *w = userdata;
        struct xs_permissions perms[LAYOUT_ACL_MAX];
        const char *const paths[] = { "/tool/xensup", w->path };
        unsigned n;
        int r;

        r = x_write(l, t, w->path, w->text);
        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", w->path, strerror(-r));
        r = layout_acl_build(0, LAYOUT_ACCESS_NONE, perms, &n);
        if (r < 0)
                return err_setf(err_r, r, "cannot build the ACL of %s", w->path);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                r = x_set_perms(l, t, paths[i], perms, n);
                if (r < 0)
                        return err_setf(err_r, r, "cannot set the permissions of %s: %s", paths[i],
                                        strerror(-r));
        }
        return 0;
}

/*
 * Later records are one write, outside a transaction (a write is atomic): a record this daemon
 * creates under its dom0-only directory takes that ACL, and one it rewrites keeps its own.
 */
static int state_write_step(struct layout *l, xs_transaction_t t, const void *userdata,
                            char **err_r)
{
        const struct state_write *w = userdata;
        int r = x_write(l, t, w->path, w->text);

        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", w->path, strerror(-r));
        return 0;
}

int layout_state_write(struct layout *l, const uint8_t uuid[16], const struct layout_tool_state *s,
                       char **err_r)
{
        _cleanup_free_ char *inner = NULL;
        char u[37], path[64], what[96], text[LAYOUT_STATE_WRITE_MAX + 1];
        struct state_write w;
        int r;

        snprintf(path, sizeof(path), "/tool/xensup/%s", uuid_to_string(uuid, u));
        snprintf(what, sizeof(what), "writing %s", path);
        r = state_check(s, &inner);
        if (r >= 0)
                r = record_format(&state_schema, s, text, &inner);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", what, inner);

        w = (struct state_write){ .path = path, .text = text };
        if (l->records_private)
                return run_request(l, what, state_write_step, &w, err_r);
        r = run_step(l, what, state_write_first_step, &w, err_r);
        l->records_private = r >= 0;
        return r;
}

/* Version 2: "version=2", then key=value lines in any order (see state_fields). */
static int parse_state_v2(const char *text, size_t len, struct layout_tool_state *ret, char **err_r)
{
        struct layout_tool_state s = { .last_reason = SHUTDOWN_REASON_NONE };
        int r = record_parse(&state_schema, text, len, &s, err_r);

        if (r < 0)
                return r;
        if (s.kept && !s.name[0])
                return err_setf(err_r, -EBADMSG, "name: missing for a kept instance");
        *ret = s;
        return 0;
}

/*
 * Version 1, what daemons before the version line wrote: exactly these keys,
 * in this order, then an optional config_path line (raw, not escaped).
 */
static const char *const state_v1_keys[] = {
        "domid",
        "build_in_progress",
        "restart_count",
        "restart_times",
        "shutdown_requested",
        "shutdown_reboot",
        "shutdown_deadline",
        "failed",
        "last_reason",
};

#define STATE_V1_TIMES_MAX 16 /* the most restart times a version 1 record held */

/* restart_times=T1,T2,... becomes the window: its oldest time and how many there were. */
static int parse_v1_times(const char *v, size_t len, struct layout_tool_state *s)
{
        size_t start = 0;
        unsigned n = 0;
        uint64_t oldest = UINT64_MAX;

        s->restart_window_start = 0;
        s->restart_window_count = 0;
        if (len == 0)
                return 0;
        for (size_t i = 0; i <= len; i++) {
                uint64_t t;
                int r;

                if (i < len && v[i] != ',')
                        continue;
                if (n == STATE_V1_TIMES_MAX)
                        return -E2BIG;
                r = record_parse_u64(v + start, i - start, UINT64_MAX, &t);
                if (r < 0)
                        return r;
                if (t < oldest)
                        oldest = t;
                n++;
                start = i + 1;
        }
        s->restart_window_start = oldest;
        s->restart_window_count = n;
        return 0;
}

static int parse_state_v1(const char *text, size_t len, struct layout_tool_state *ret, char **err_r)
{
        static const char path_key[] = "config_path=";
        struct layout_tool_state s = { .last_reason = SHUTDOWN_REASON_NONE };
        size_t pos = 0;

        for (size_t k = 0; k < ELEMENTSOF(state_v1_keys); k++) {
                const char *key = state_v1_keys[k];
                size_t klen = strlen(key), vlen;
                const char *v, *eol;
                int r;

                if (len - pos < klen + 1 || memcmp(text + pos, key, klen) != 0 ||
                    text[pos + klen] != '=')
                        return err_setf(err_r, -EBADMSG,
                                        "version 1 record: line %zu is not %s=", k + 1, key);
                v = text + pos + klen + 1;
                eol = memchr(v, '\n', len - pos - klen - 1);
                if (!eol)
                        return err_setf(err_r, -EBADMSG, "version 1 record: %s: no newline", key);
                vlen = (size_t)(eol - v);
                if (strcmp(key, "restart_times") == 0)
                        r = parse_v1_times(v, vlen, &s);
                else {
                        /* The other keys mean and look the same in version 2. */
                        const struct record_field *f = record_field_find(&state_schema, key, klen);

                        r = vlen <= record_field_max(f) ? record_field_parse(f, v, vlen, &s)
                                                        : -EINVAL;
                }
                if (r < 0)
                        return record_bad_value(err_r, key, v, vlen);
                pos = (size_t)(eol - text) + 1;
        }
        if (pos != len) {
                const char *v = text + pos + strlen(path_key);
                size_t vlen = len - pos - strlen(path_key) - 1;

                if (len - pos < strlen(path_key) + 2 ||
                    memcmp(text + pos, path_key, strlen(path_key)) != 0 || text[len - 1] != '\n')
                        return err_setf(err_r, -EBADMSG,
                                        "version 1 record: only config_path may follow");
                if (vlen >= sizeof(s.config_path) || v[0] != '/' || memchr(v, '\n', vlen))
                        return record_bad_value(err_r, "config_path", v, vlen);
                memcpy(s.config_path, v, vlen);
                s.config_path[vlen] = '\0';
                /* Version 1 kept the path of created domains only. */
                s.created = true;
        }
        *ret = s;
        return 0;
}

int layout_state_read(struct layout *l, const uint8_t uuid[16], struct layout_tool_state *s,
                      char **err_r)
{
        _cleanup_free_ char *text = NULL, *inner = NULL;
        char u[37], path[64];
        unsigned len;
        int r;

        snprintf(path, sizeof(path), "/tool/xensup/%s", uuid_to_string(uuid, u));
        r = x_read(l, XBT_NULL, path, &text, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        if (len > LAYOUT_STATE_READ_MAX)
                return err_setf(err_r, -E2BIG, "%s: record of %u bytes, more than %d", path, len,
                                LAYOUT_STATE_READ_MAX);
        if (memchr(text, '\0', len))
                return err_setf(err_r, -EBADMSG, "%s: the record holds a NUL byte", path);
        if (record_has_version_line(text, len))
                r = parse_state_v2(text, len, s, &inner);
        else
                r = parse_state_v1(text, len, s, &inner);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", path, inner);
        return 0;
}

int layout_state_remove(struct layout *l, const uint8_t uuid[16], char **err_r)
{
        char u[37], path[64];
        int r;

        snprintf(path, sizeof(path), "/tool/xensup/%s", uuid_to_string(uuid, u));
        r = x_rm(l, XBT_NULL, path);
        if (r < 0)
                return err_setf(err_r, r, "cannot remove %s: %s", path, strerror(-r));
        return 0;
}

/* ---- reads of /vm/<uuid>: nodes dom0 owns and a guest may only read ---- */

/* "<seconds>.<centiseconds>": the longest start_time plan_domain() writes. */
#define START_TIME_MAX (RECORD_UINT64_DIGITS + 3)

/* True when no domain but dom0 may write a node with this ACL (its owner, and no grants). */
static bool acl_only_dom0_writes(const struct xs_permissions *perms, unsigned n)
{
        if (n == 0 || perms[0].id != 0 || (perms[0].perms & XS_PERM_WRITE))
                return false;
        for (unsigned i = 1; i < n; i++)
                if (perms[i].id != 0 && (perms[i].perms & XS_PERM_WRITE))
                        return false;
        return true;
}

/*
 * Read a node only dom0 may write, of at most max bytes and without a NUL;
 * the caller frees *value_r (NUL-terminated). Anything a guest could have
 * planted is refused before its value is looked at.
 */
static int read_dom0_node(struct layout *l, const char *path, size_t max, char **value_r,
                          char **err_r)
{
        _cleanup_free_ struct xs_permissions *perms = NULL;
        _cleanup_free_ char *v = NULL;
        unsigned n = 0, len = 0;
        int r;

        r = x_get_perms(l, XBT_NULL, path, &perms, &n);
        if (r == -ENOENT)
                return err_setf(err_r, r, "%s does not exist", path);
        if (r < 0)
                return err_setf(err_r, r, "cannot read the permissions of %s: %s", path,
                                strerror(-r));
        if (!acl_only_dom0_writes(perms, n))
                return err_setf(err_r, -EPERM,
                                "%s may be written by a domain other than dom0: not trusted", path);
        r = x_read(l, XBT_NULL, path, &v, &len);
        if (r == -ENOENT)
                return err_setf(err_r, r, "%s does not exist", path);
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        if (len > max)
                return err_setf(err_r, -EBADMSG, "%s: %u bytes, more than %zu", path, len, max);
        if (memchr(v, '\0', len))
                return err_setf(err_r, -EBADMSG, "%s: holds a NUL byte", path);
        *value_r = TAKE_PTR(v);
        return 0;
}

/* A dom0-written domain name at path, into buf (layout_vm_name()'s answers). */
static int read_name(struct layout *l, const char *path, char *buf, size_t size, char **err_r)
{
        _cleanup_free_ char *v = NULL;
        size_t n;
        int r;

        r = read_dom0_node(l, path, DOMAIN_NAME_MAX, &v, err_r);
        if (r < 0)
                return r;
        if (!domain_name_is_valid(v))
                return record_bad_value(err_r, path, v, strlen(v));
        n = strlen(v);
        if (n >= size)
                return err_setf(err_r, -ENOBUFS, "%s: a name of %zu bytes does not fit %zu", path,
                                n, size);
        memcpy(buf, v, n + 1);
        return 0;
}

int layout_vm_name(struct layout *l, const uint8_t uuid[16], char *buf, size_t size, char **err_r)
{
        char u[37], path[64];

        snprintf(path, sizeof(path), "/vm/%s/name", uuid_to_string(uuid, u));
        return read_name(l, path, buf, size, err_r);
}

int layout_domain_name(struct layout *l, uint32_t domid, char *buf, size_t size, char **err_r)
{
        char path[64];

        /* dom0 included: its name is Domain-0, written by xencommons. */
        if (domid >= DOMID_FIRST_RESERVED)
                return err_setf(err_r, -EINVAL,
                                "reading a domain's name: domid %" PRIu32 " is reserved", domid);
        snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/name", domid);
        return read_name(l, path, buf, size, err_r);
}

/* What xenconsoled writes: a pty of devpts, "/dev/pts/" and a decimal. */
static bool console_tty_is_valid(const char *v)
{
        static const char prefix[] = "/dev/pts/";
        const char *n;

        if (strncmp(v, prefix, strlen(prefix)) != 0)
                return false;
        n = v + strlen(prefix);
        return *n && strlen(n) <= 10 && strspn(n, "0123456789") == strlen(n);
}

int layout_console_tty(struct layout *l, uint32_t domid, char *buf, size_t size, char **err_r)
{
        _cleanup_free_ char *v = NULL;
        char path[64];
        int r;

        r = check_domid(domid, "reading a domain's console", err_r);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/console/tty", domid);
        /* The node is dom0's (plan_domain() makes it, xenconsoled fills it): the guest's
         * own nodes could name another guest's console, or any file. */
        r = read_dom0_node(l, path, LAYOUT_TTY_MAX, &v, err_r);
        if (r < 0)
                return r;
        if (!*v)
                return err_setf(err_r, -EAGAIN,
                                "%s is empty: xenconsoled has not opened the "
                                "console yet",
                                path);
        if (!console_tty_is_valid(v))
                return record_bad_value(err_r, path, v, strlen(v));
        if (strlen(v) >= size)
                return err_setf(err_r, -ENOBUFS, "%s does not fit %zu bytes", path, size);
        strcpy(buf, v);
        return 0;
}

/* Exactly what plan_domain() writes: a strict decimal, a dot, two digits. */
static int parse_start_time(const char *v, size_t len, uint64_t *usec_r)
{
        const char *dot = memchr(v, '.', len);
        uint64_t sec;

        if (!dot || (size_t)(v + len - dot) != 3 || dot[1] < '0' || dot[1] > '9' || dot[2] < '0' ||
            dot[2] > '9')
                return -EINVAL;
        if (record_parse_u64(v, (size_t)(dot - v), (UINT64_MAX - 990000) / 1000000, &sec) < 0)
                return -EINVAL;
        *usec_r =
            sec * 1000000 + (uint64_t)(dot[1] - '0') * 100000 + (uint64_t)(dot[2] - '0') * 10000;
        return 0;
}

int layout_vm_start_time(struct layout *l, const uint8_t uuid[16], uint64_t *usec_r, char **err_r)
{
        _cleanup_free_ char *v = NULL;
        char u[37], path[64];
        int r;

        snprintf(path, sizeof(path), "/vm/%s/start_time", uuid_to_string(uuid, u));
        r = read_dom0_node(l, path, START_TIME_MAX, &v, err_r);
        if (r < 0)
                return r;
        if (parse_start_time(v, strlen(v), usec_r) < 0)
                return record_bad_value(err_r, path, v, strlen(v));
        return 0;
}

/* ---- rename-restart: the kept instance gets an identity of its own ---- */

/* A layout's /vm/<uuid> has 16 nodes, 2 levels deep; anything far past that is not ours. */
#define PRESERVE_NODES_MAX 256
#define PRESERVE_DEPTH_MAX 8

struct preserve {
        const char *name;
        char new_uuid[37];
        char old_vm[48], new_vm[48];
        char new_vm_uuid[64], new_vm_name[64];
        char local_vm[64], local_name[64];
};

static bool perms_equal(const struct xs_permissions *a, unsigned na, const struct xs_permissions *b,
                        unsigned nb)
{
        if (na != nb)
                return false;
        for (unsigned i = 0; i < na; i++)
                if (a[i].id != b[i].id || a[i].perms != b[i].perms)
                        return false;
        return true;
}

/*
 * Copy the node at from, its ACL and everything below it to to, inside t.
 * A new node takes its parent's ACL, so it is set only where the source's
 * differs from its parent's (always on the top node, whose parent is /vm).
 */
static int copy_subtree(struct layout *l, xs_transaction_t t, const char *from, const char *to,
                        const struct xs_permissions *parent, unsigned n_parent, unsigned depth,
                        unsigned *budget, char **err_r)
{
        _cleanup_free_ struct xs_permissions *perms = NULL;
        _cleanup_free_ char *value = NULL;
        _cleanup_free_ char **names = NULL; /* one allocation, as xs_directory returns it */
        unsigned len = 0, np = 0, n = 0;
        int r;

        if (depth > PRESERVE_DEPTH_MAX || *budget == 0)
                return err_setf(err_r, -E2BIG, "%s: more than %d nodes or %d levels to copy", from,
                                PRESERVE_NODES_MAX, PRESERVE_DEPTH_MAX);
        (*budget)--;
        r = x_read(l, t, from, &value, &len);
        if (r == -ENOENT && depth == 0)
                return err_setf(err_r, r, "%s does not exist", from);
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", from, strerror(-r));
        r = x_get_perms(l, t, from, &perms, &np);
        if (r < 0)
                return err_setf(err_r, r, "cannot read the permissions of %s: %s", from,
                                strerror(-r));
        r = x_write_len(l, t, to, value, len);
        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", to, strerror(-r));
        if (!parent || !perms_equal(perms, np, parent, n_parent)) {
                r = x_set_perms(l, t, to, perms, np);
                if (r < 0)
                        return err_setf(err_r, r, "cannot set the permissions of %s: %s", to,
                                        strerror(-r));
        }
        r = x_directory(l, t, from, &names, &n);
        if (r < 0)
                return err_setf(err_r, r, "cannot list %s: %s", from, strerror(-r));
        for (unsigned i = 0; i < n; i++) {
                _cleanup_free_ char *child_from = NULL, *child_to = NULL;

                if (asprintf(&child_from, "%s/%s", from, names[i]) < 0 ||
                    asprintf(&child_to, "%s/%s", to, names[i]) < 0) {
                        /* asprintf leaves its pointer undefined on failure. */
                        child_to = NULL;
                        return err_setf(err_r, -ENOMEM, "out of memory");
                }
                r = copy_subtree(l, t, child_from, child_to, perms, np, depth + 1, budget, err_r);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int preserve_step(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        const struct preserve *p = userdata;
        _cleanup_free_ char *vm = NULL, *other = NULL;
        unsigned len = 0, budget = PRESERVE_NODES_MAX;
        int r;

        /* Only the instance of old_uuid is moved: its vm node must name it. */
        r = x_read(l, t, p->local_vm, &vm, &len);
        if (r == -ENOENT)
                return err_setf(err_r, r, "%s does not exist", p->local_vm);
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", p->local_vm, strerror(-r));
        if (len != strlen(p->old_vm) || memcmp(vm, p->old_vm, len) != 0)
                return err_setf(err_r, -EINVAL, "%s is not %s: not an instance of that domain",
                                p->local_vm, p->old_vm);
        r = x_read(l, t, p->new_vm, &other, &len);
        if (r == 0)
                return err_setf(err_r, -EEXIST, "%s exists already", p->new_vm);
        if (r != -ENOENT)
                return err_setf(err_r, r, "cannot read %s: %s", p->new_vm, strerror(-r));

        r = copy_subtree(l, t, p->old_vm, p->new_vm, NULL, 0, 0, &budget, err_r);
        if (r < 0)
                return r;
        /* The copy's own identity; the nodes keep the ACLs they were copied with. */
        r = x_write(l, t, p->new_vm_uuid, p->new_uuid);
        if (r >= 0)
                r = x_write(l, t, p->new_vm_name, p->name);
        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", p->new_vm, strerror(-r));
        /* The live domain's rebuild writes /vm/<old_uuid> anew, from nothing. */
        r = x_rm(l, t, p->old_vm);
        if (r < 0)
                return err_setf(err_r, r, "cannot remove %s: %s", p->old_vm, strerror(-r));
        r = x_write(l, t, p->local_vm, p->new_vm);
        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", p->local_vm, strerror(-r));
        r = x_write(l, t, p->local_name, p->name);
        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", p->local_name, strerror(-r));
        return 0;
}

int layout_preserve_instance(struct layout *l, uint32_t domid, const uint8_t old_uuid[16],
                             const uint8_t new_uuid[16], const char *new_name, char **err_r)
{
        struct preserve p = { .name = new_name };
        char old_u[37], what[128];
        int r;

        uuid_to_string(old_uuid, old_u);
        uuid_to_string(new_uuid, p.new_uuid);
        snprintf(what, sizeof(what), "keeping domain %" PRIu32 " as %s", domid, p.new_uuid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        if (!domain_name_is_valid(new_name))
                return err_setf(err_r, -EINVAL, "%s: invalid name", what);
        if (memcmp(old_uuid, new_uuid, 16) == 0)
                return err_setf(err_r, -EINVAL, "%s: the kept instance needs a uuid of its own",
                                what);
        snprintf(p.old_vm, sizeof(p.old_vm), "/vm/%s", old_u);
        snprintf(p.new_vm, sizeof(p.new_vm), "/vm/%s", p.new_uuid);
        snprintf(p.new_vm_uuid, sizeof(p.new_vm_uuid), "%s/uuid", p.new_vm);
        snprintf(p.new_vm_name, sizeof(p.new_vm_name), "%s/name", p.new_vm);
        snprintf(p.local_vm, sizeof(p.local_vm), "/local/domain/%" PRIu32 "/vm", domid);
        snprintf(p.local_name, sizeof(p.local_name), "/local/domain/%" PRIu32 "/name", domid);
        return run_step(l, what, preserve_step, &p, err_r);
}

/* ---- listings for reconciliation ---- */

static void strv_n_free(char **names)
{
        /* xs_directory returns one allocation holding the array and its strings. */
        free(names);
}

int layout_list_local(struct layout *l, uint32_t **domids_r, size_t *n_r, char **err_r)
{
        _cleanup_free_ uint32_t *ids = NULL;
        char **names = NULL;
        unsigned n = 0;
        size_t k = 0;
        int r;

        r = x_directory(l, XBT_NULL, "/local/domain", &names, &n);
        if (r == -ENOENT) {
                *domids_r = NULL;
                *n_r = 0;
                return 0;
        }
        if (r < 0)
                return err_setf(err_r, r, "cannot list /local/domain: %s", strerror(-r));
        ids = calloc(n ? n : 1, sizeof(*ids));
        if (!ids) {
                strv_n_free(names);
                return err_setf(err_r, -ENOMEM, "out of memory");
        }
        for (unsigned i = 0; i < n; i++) {
                uint64_t v;

                if (record_parse_u64(names[i], strlen(names[i]), DOMID_FIRST_RESERVED - 1, &v) <
                        0 ||
                    v == 0)
                        continue;
                ids[k++] = (uint32_t)v;
        }
        strv_n_free(names);
        *domids_r = TAKE_PTR(ids);
        *n_r = k;
        return 0;
}

/* The children of dir named as layout names uuids; caller frees. */
static int list_uuid_children(struct layout *l, const char *dir, uint8_t (**uuids_r)[16],
                              size_t *n_r, char **err_r)
{
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        char **names = NULL;
        unsigned n = 0;
        size_t k = 0;
        int r;

        r = x_directory(l, XBT_NULL, dir, &names, &n);
        if (r == -ENOENT) {
                *uuids_r = NULL;
                *n_r = 0;
                return 0;
        }
        if (r < 0)
                return err_setf(err_r, r, "cannot list %s: %s", dir, strerror(-r));
        uuids = calloc(n ? n : 1, sizeof(*uuids));
        if (!uuids) {
                strv_n_free(names);
                return err_setf(err_r, -ENOMEM, "out of memory");
        }
        for (unsigned i = 0; i < n; i++) {
                char canonical[37];

                /* Only the form layout writes: a uuid that formats back to the same name. */
                if (uuid_from_string(names[i], uuids[k]) == 0 &&
                    strcmp(uuid_to_string(uuids[k], canonical), names[i]) == 0)
                        k++;
        }
        strv_n_free(names);
        *uuids_r = TAKE_PTR(uuids);
        *n_r = k;
        return 0;
}

int layout_list_vms(struct layout *l, uint8_t (**uuids_r)[16], size_t *n_r, char **err_r)
{
        return list_uuid_children(l, "/vm", uuids_r, n_r, err_r);
}

int layout_list_states(struct layout *l, uint8_t (**uuids_r)[16], size_t *n_r, char **err_r)
{
        return list_uuid_children(l, "/tool/xensup", uuids_r, n_r, err_r);
}
