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
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <xenstore.h>

#include "common/error.h"
#include "layout/acl.h"
#include "layout/layout-internal.h"
#include "layout/layout.h"

/* Attempts of one transaction before giving up on EAGAIN, and the backoff cap. */
#define LAYOUT_MAX_ATTEMPTS   10
#define LAYOUT_BACKOFF_MAX_MS 64

/* The console ring buffer limit libxl writes (LIBXL_XENCONSOLE_LIMIT). */
#define LAYOUT_CONSOLE_LIMIT 1048576

/* Longest /tool/xensup/<uuid> record accepted on read. */
#define LAYOUT_STATE_MAX 2048

/* The most vcpus a config may give (and so the widest vcpu_avail bitmap). */
#define LAYOUT_MAX_VCPUS CONFIG_VCPUS_MAX

struct layout {
        struct xs_handle *xs;
        uint64_t requests;

        uint64_t fail_at; /* request number to fail, 0 = never */
        int fail_error;
        uint64_t hook_at; /* request number to run hook before, 0 = never */
        void (*hook)(void *userdata);
        void *hook_userdata;
};

static int errno_or_eio(void)
{
        return errno > 0 ? -errno : -EIO;
}

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
        *ret = TAKE_PTR(l);
        return 0;
}

struct layout *layout_close(struct layout *l)
{
        if (!l)
                return NULL;
        if (l->xs)
                xs_close(l->xs);
        free(l);
        return NULL;
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

void layout_test_hook_request(struct layout *l, uint64_t nth, void (*fn)(void *userdata),
                              void *userdata)
{
        l->hook_at = nth ? l->requests + nth : 0;
        l->hook = fn;
        l->hook_userdata = userdata;
}

/* ---- the request layer: every request to XenStore passes through req_begin() ---- */

/* Count one request; run the test hook or an injected failure armed for it. */
static int req_begin(struct layout *l)
{
        l->requests++;
        if (l->hook_at == l->requests) {
                void (*fn)(void *) = l->hook;

                /* Disarm first: the hook may re-arm itself for a later request. */
                l->hook_at = 0;
                l->hook = NULL;
                fn(l->hook_userdata);
        }
        if (l->fail_at == l->requests) {
                l->fail_at = 0;
                return -l->fail_error;
        }
        return 0;
}

static int x_write(struct layout *l, xs_transaction_t t, const char *path, const char *value)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_write(l->xs, t, path, value, strlen(value)))
                return errno_or_eio();
        return 0;
}

static int x_mkdir(struct layout *l, xs_transaction_t t, const char *path)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_mkdir(l->xs, t, path))
                return errno_or_eio();
        return 0;
}

/* Remove a subtree; a node that is not there (or whose parent is not) is already removed. */
static int x_rm(struct layout *l, xs_transaction_t t, const char *path)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_rm(l->xs, t, path) && errno != ENOENT)
                return errno_or_eio();
        return 0;
}

static int x_set_perms(struct layout *l, xs_transaction_t t, const char *path,
                       struct xs_permissions *perms, unsigned n)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_set_permissions(l->xs, t, path, perms, n))
                return errno_or_eio();
        return 0;
}

/* Read a node; the caller frees *value_r. */
static int x_read(struct layout *l, xs_transaction_t t, const char *path, char **value_r,
                  unsigned *len_r)
{
        int r = req_begin(l);
        char *v;

        if (r < 0)
                return r;
        v = xs_read(l->xs, t, path, len_r);
        if (!v)
                return errno_or_eio();
        *value_r = v;
        return 0;
}

static int x_directory(struct layout *l, const char *path, char ***names_r, unsigned *n_r)
{
        int r = req_begin(l);
        char **names;

        if (r < 0)
                return r;
        names = xs_directory(l->xs, XBT_NULL, path, n_r);
        if (!names)
                return errno_or_eio();
        *names_r = names;
        return 0;
}

static int x_transaction_start(struct layout *l, xs_transaction_t *t_r)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        *t_r = xs_transaction_start(l->xs);
        if (*t_r == XBT_NULL)
                return errno_or_eio();
        return 0;
}

/* End a transaction: commit, or abort when abort is set (never fails on purpose). */
static int x_transaction_end(struct layout *l, xs_transaction_t t, bool abort)
{
        int r = req_begin(l);

        if (r < 0) {
                /* An injected failure of the commit must still end the transaction. */
                if (!abort) {
                        l->requests++;
                        xs_transaction_end(l->xs, t, true);
                }
                return abort ? 0 : r;
        }
        if (!xs_transaction_end(l->xs, t, abort))
                return abort ? 0 : errno_or_eio();
        return 0;
}

/* ---- transactions, retried on EAGAIN ---- */

typedef int (*step_fn)(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r);

static void backoff(unsigned attempt)
{
        unsigned ms = 1U << (attempt < 7 ? attempt : 6);
        struct timespec ts;

        if (ms > LAYOUT_BACKOFF_MAX_MS)
                ms = LAYOUT_BACKOFF_MAX_MS;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)ms * 1000000L;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/*
 * Run step inside one transaction and commit it; on EAGAIN (another client
 * touched what we touched) run it again from scratch, at most
 * LAYOUT_MAX_ATTEMPTS times with a growing pause. Any other failure aborts
 * the transaction, so nothing of a failed step stays in XenStore.
 */
static int run_transaction(struct layout *l, const char *what, step_fn step, const void *userdata,
                           char **err_r)
{
        for (unsigned attempt = 0; attempt < LAYOUT_MAX_ATTEMPTS; attempt++) {
                xs_transaction_t t;
                int r;

                if (attempt > 0)
                        backoff(attempt - 1);
                r = x_transaction_start(l, &t);
                if (r < 0)
                        return err_setf(err_r, r, "%s: cannot start a XenStore transaction: %s",
                                        what, strerror(-r));
                r = step(l, t, userdata, err_r);
                if (r < 0) {
                        x_transaction_end(l, t, true);
                        if (r != -EAGAIN)
                                return r;
                        /* Retried: the message of this attempt no longer applies. */
                        if (err_r)
                                *err_r = (free(*err_r), NULL);
                        continue;
                }
                r = x_transaction_end(l, t, false);
                if (r == -EAGAIN)
                        continue;
                if (r < 0)
                        return err_setf(err_r, r, "%s: XenStore transaction commit failed: %s",
                                        what, strerror(-r));
                return 0;
        }
        return err_setf(err_r, -EAGAIN,
                        "%s: XenStore transaction still conflicting after %u attempts", what,
                        LAYOUT_MAX_ATTEMPTS);
}

/* ---- small helpers ---- */

/* A strict unsigned decimal: digits only, no sign or leading zero, at most max. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || (len > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (max - (uint64_t)(s[i] - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = v;
        return 0;
}

static int check_domid(uint32_t domid, const char *what, char **err_r)
{
        if (!layout_acl_guest_is_valid(domid))
                return err_setf(err_r, -EINVAL, "%s: domid %" PRIu32 " is not a guest's", what,
                                domid);
        return 0;
}

/* ---- plans: the nodes one step writes ---- */

struct plan_node {
        char *path;
        char *value; /* NULL: a directory, created empty */
        enum layout_access access;
};

struct plan {
        uint32_t domid;
        struct plan_node *nodes;
        size_t n, allocated;
        char *remove[4]; /* subtrees removed before the nodes are written */
        size_t n_remove;
        char *guard[2]; /* updates: nodes that must exist, or the step is -ENOENT */
        size_t n_guard;
        int error; /* the first failure while building (-ENOMEM, -E2BIG) */
};

static void plan_done(struct plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->nodes[i].path);
                free(p->nodes[i].value);
        }
        free(p->nodes);
        for (size_t i = 0; i < p->n_remove; i++)
                free(p->remove[i]);
        for (size_t i = 0; i < p->n_guard; i++)
                free(p->guard[i]);
}

_printf_(4, 5) static void plan_add(struct plan *p, enum layout_access access, const char *value,
                                    const char *fmt, ...)
{
        struct plan_node *n;
        va_list ap;
        int k;

        if (p->error < 0)
                return;
        if (p->n == p->allocated) {
                size_t want = p->allocated ? p->allocated * 2 : 64;
                struct plan_node *nodes = realloc(p->nodes, want * sizeof(*nodes));

                if (!nodes) {
                        p->error = -ENOMEM;
                        return;
                }
                p->nodes = nodes;
                p->allocated = want;
        }
        n = &p->nodes[p->n];
        *n = (struct plan_node){ .access = access };
        va_start(ap, fmt);
        k = vasprintf(&n->path, fmt, ap);
        va_end(ap);
        if (k < 0) {
                p->error = -ENOMEM;
                return;
        }
        if (value && !(n->value = strdup(value))) {
                free(n->path);
                p->error = -ENOMEM;
                return;
        }
        p->n++;
}

/* Format a number (or any short value) into buf, for plan_add(). */
_printf_(2, 3) static const char *val(char buf[32], const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, 32, fmt, ap);
        va_end(ap);
        return buf;
}

_printf_(2, 3) static void plan_remove(struct plan *p, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (p->error < 0)
                return;
        if (p->n_remove == ELEMENTSOF(p->remove)) {
                p->error = -E2BIG; /* a plan built here never has more */
                return;
        }
        va_start(ap, fmt);
        k = vasprintf(&p->remove[p->n_remove], fmt, ap);
        va_end(ap);
        if (k < 0) {
                p->error = -ENOMEM;
                return;
        }
        p->n_remove++;
}

_printf_(2, 3) static void plan_guard(struct plan *p, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (p->error < 0)
                return;
        if (p->n_guard == ELEMENTSOF(p->guard)) {
                p->error = -E2BIG; /* a plan built here never has more */
                return;
        }
        va_start(ap, fmt);
        k = vasprintf(&p->guard[p->n_guard], fmt, ap);
        va_end(ap);
        if (k < 0) {
                p->error = -ENOMEM;
                return;
        }
        p->n_guard++;
}

static bool path_is_below(const char *parent, const char *child)
{
        size_t n = strlen(parent);

        return strncmp(parent, child, n) == 0 && child[n] == '/';
}

/*
 * The access a new node at nodes[i] would inherit: that of its nearest
 * ancestor in the plan. Above the plan's top nodes (/vm, /local/domain,
 * dom0's backend directory) everything is dom0-only.
 */
static enum layout_access inherited_access(const struct plan *p, size_t i)
{
        size_t best = SIZE_MAX, best_len = 0;

        for (size_t j = 0; j < i; j++) {
                size_t len = strlen(p->nodes[j].path);

                if (len > best_len && path_is_below(p->nodes[j].path, p->nodes[i].path)) {
                        best = j;
                        best_len = len;
                }
        }
        return best == SIZE_MAX ? LAYOUT_ACCESS_NONE : p->nodes[best].access;
}

static bool has_children(const struct plan *p, size_t i)
{
        for (size_t j = i + 1; j < p->n; j++)
                if (path_is_below(p->nodes[i].path, p->nodes[j].path))
                        return true;
        return false;
}

/* Send a plan inside transaction t with as few requests as xenstored's inheritance allows. */
static int plan_execute(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        const struct plan *p = userdata;
        int r;

        for (size_t i = 0; i < p->n_remove; i++) {
                r = x_rm(l, t, p->remove[i]);
                if (r < 0)
                        return err_setf(err_r, r, "cannot remove %s: %s", p->remove[i],
                                        strerror(-r));
        }

        for (size_t i = 0; i < p->n; i++) {
                const struct plan_node *n = &p->nodes[i];
                bool own_acl = n->access != inherited_access(p, i);

                if (n->value)
                        r = x_write(l, t, n->path, n->value);
                else if (own_acl || !has_children(p, i))
                        r = x_mkdir(l, t, n->path);
                else
                        r = 0; /* created, with the right ACL, by its first child's write */
                if (r < 0)
                        return err_setf(err_r, r, "cannot write %s: %s", n->path, strerror(-r));

                if (own_acl) {
                        struct xs_permissions perms[LAYOUT_ACL_MAX];
                        unsigned np;

                        r = layout_acl_build(p->domid, n->access, perms, &np);
                        if (r < 0)
                                return err_setf(err_r, r, "cannot build the ACL of %s", n->path);
                        r = x_set_perms(l, t, n->path, perms, np);
                        if (r < 0)
                                return err_setf(err_r, r, "cannot set the permissions of %s: %s",
                                                n->path, strerror(-r));
                }
        }
        return 0;
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

        /* A reused domid or a restarted uuid starts from nothing (XSA-322, XSA-419). */
        plan_remove(p, "%s", dom);
        plan_remove(p, "%s", vm);
        plan_remove(p, "/local/domain/0/backend/console/%" PRIu32, d->domid);

        /* /vm/<uuid>: what the domain was configured with; read-only for the guest. */
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

        /* /local/domain/<domid>: the running instance; read-only for the guest... */
        plan_add(p, RO, NULL, "%s", dom);
        plan_add(p, RO, vm, "%s/vm", dom);
        plan_add(p, RO, d->name, "%s/name", dom);
        plan_add(p, RO, val(b, "%" PRIu32, d->domid), "%s/domid", dom);
        /* The supervisor unpauses right after writing; layout_set_running() tracks pauses. */
        plan_add(p, RO, "1", "%s/running", dom);
        plan_add(p, RO, "", "%s/cpu", dom);
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

        /* ...except where the guest must answer: control/ acks and features, its own areas. */
        plan_add(p, RW, "", "%s/control/shutdown", dom);
        plan_add(p, RW, "", "%s/control/feature-poweroff", dom);
        plan_add(p, RW, "", "%s/control/feature-reboot", dom);
        plan_add(p, RW, "", "%s/control/feature-suspend", dom);
        if (c->type == DOMAIN_TYPE_HVM) {
                plan_add(p, RW, "", "%s/control/feature-s3", dom);
                plan_add(p, RW, "", "%s/control/feature-s4", dom);
        }
        plan_add(p, RW, "", "%s/control/sysrq", dom);
        plan_add(p, RO, "1", "%s/control/platform-feature-multiprocessor-suspend", dom);
        plan_add(p, RO, "1", "%s/control/platform-feature-xs_reset_watches", dom);
        plan_add(p, RW, NULL, "%s/data", dom);
        plan_add(p, RW, NULL, "%s/drivers", dom);
        plan_add(p, RW, NULL, "%s/feature", dom);
        plan_add(p, RW, NULL, "%s/attr", dom);
        plan_add(p, RW, NULL, "%s/error", dom);

        /* The primary console's backend in dom0, which xenconsoled serves. */
        plan_add(p, RO, NULL, "%s", be);
        plan_add(p, RO, fe, "%s/frontend", be);
        plan_add(p, RO, val(b, "%" PRIu32, d->domid), "%s/frontend-id", be);
        plan_add(p, RO, "1", "%s/online", be);
        plan_add(p, RO, "1", "%s/state", be); /* XenbusStateInitialising */
        plan_add(p, RO, "vt100", "%s/protocol", be);
}

/*
 * Send an update of existing nodes inside transaction t: first check that
 * every guard node exists (so nothing is re-created under a domain already
 * torn down), then write the values; the nodes keep the ACLs they have.
 */
static int update_execute(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        const struct plan *p = userdata;
        int r;

        for (size_t i = 0; i < p->n_guard; i++) {
                _cleanup_free_ char *v = NULL;
                unsigned len;

                r = x_read(l, t, p->guard[i], &v, &len);
                if (r == -ENOENT)
                        return err_setf(err_r, r, "%s does not exist", p->guard[i]);
                if (r < 0)
                        return err_setf(err_r, r, "cannot read %s: %s", p->guard[i], strerror(-r));
        }
        for (size_t i = 0; i < p->n; i++) {
                r = x_write(l, t, p->nodes[i].path, p->nodes[i].value ? p->nodes[i].value : "");
                if (r < 0)
                        return err_setf(err_r, r, "cannot write %s: %s", p->nodes[i].path,
                                        strerror(-r));
        }
        return 0;
}

/* Run a plan as one transaction; errors are prefixed with what. */
static int plan_run(struct layout *l, struct plan *p, step_fn step, const char *what, char **err_r)
{
        int r;

        if (p->error < 0)
                return err_setf(err_r, p->error, "%s: cannot build the request plan: %s", what,
                                strerror(-p->error));
        r = run_transaction(l, what, step, p, err_r);
        if (r < 0 && r != -EAGAIN && err_r) {
                _cleanup_free_ char *inner = TAKE_PTR(*err_r);

                return err_setf(err_r, r, "%s: %s", what, inner ? inner : strerror(-r));
        }
        return r;
}

static void plan_donep(struct plan *p)
{
        plan_done(p);
}

int layout_write_domain(struct layout *l, const struct layout_domain *d, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = d->domid };
        const struct domain_config *c = d->cfg;
        const char *name = d->name ? d->name : c->name;
        unsigned maxvcpus = c->maxvcpus > c->vcpus ? c->maxvcpus : c->vcpus;
        char uuid[37], what[64];
        int r;

        snprintf(what, sizeof(what), "writing the layout of domain %" PRIu32, d->domid);
        r = check_domid(d->domid, what, err_r);
        if (r < 0)
                return r;
        if (!config_name_is_valid(name))
                return err_setf(err_r, -EINVAL, "%s: invalid name", what);
        r = check_vcpus(c->vcpus, maxvcpus, what, err_r);
        if (r < 0)
                return r;
        if (!domain_action_to_string(c->on_poweroff) || !domain_action_to_string(c->on_reboot) ||
            !domain_action_to_string(c->on_crash))
                return err_setf(err_r, -EINVAL, "%s: invalid on_* action", what);

        plan_domain(&p, d, config_uuid_to_string(c->uuid, uuid), c->vcpus, maxvcpus);
        return plan_run(l, &p, plan_execute, what, err_r);
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

        snprintf(path, sizeof(path), "/vm/%s", config_uuid_to_string(uuid, u));
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
        if (!config_name_is_valid(name))
                return err_setf(err_r, -EINVAL, "%s: invalid name", what);
        config_uuid_to_string(uuid, u);
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
        config_uuid_to_string(uuid, u);
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        plan_guard(&p, "/vm/%s", u);
        plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%" PRIu64, target_kib),
                 "/local/domain/%" PRIu32 "/memory/target", domid);
        plan_add(&p, LAYOUT_ACCESS_READ, val(b, "%" PRIu64, target_kib / 1024), "/vm/%s/memory", u);
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
        config_uuid_to_string(uuid, u);
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

/* The record's keys, in the one order it is written and accepted in. */
enum state_key {
        KEY_DOMID,
        KEY_BUILD_IN_PROGRESS,
        KEY_RESTART_COUNT,
        KEY_RESTART_TIMES,
        KEY_SHUTDOWN_REQUESTED,
        KEY_SHUTDOWN_REBOOT,
        KEY_SHUTDOWN_DEADLINE,
        KEY_FAILED,
        KEY_LAST_REASON,
        _KEY_MAX,
};

/* After the fixed keys, optional: a daemon before it wrote none. */
#define STATE_KEY_CONFIG_PATH "config_path"

static const char *const state_keys[_KEY_MAX] = {
        [KEY_DOMID] = "domid",
        [KEY_BUILD_IN_PROGRESS] = "build_in_progress",
        [KEY_RESTART_COUNT] = "restart_count",
        [KEY_RESTART_TIMES] = "restart_times",
        [KEY_SHUTDOWN_REQUESTED] = "shutdown_requested",
        [KEY_SHUTDOWN_REBOOT] = "shutdown_reboot",
        [KEY_SHUTDOWN_DEADLINE] = "shutdown_deadline",
        [KEY_FAILED] = "failed",
        [KEY_LAST_REASON] = "last_reason",
};

struct state_write {
        const char *path;
        const char *text;
};

static int state_write_step(struct layout *l, xs_transaction_t t, const void *userdata,
                            char **err_r)
{
        const struct state_write *w = userdata;
        struct xs_permissions perms[LAYOUT_ACL_MAX];
        unsigned n;
        int r;

        r = x_write(l, t, w->path, w->text);
        if (r < 0)
                return err_setf(err_r, r, "cannot write %s: %s", w->path, strerror(-r));
        /* Explicitly dom0-only, whatever /tool's own ACL may be. */
        r = layout_acl_build(0, LAYOUT_ACCESS_NONE, perms, &n);
        if (r < 0)
                return err_setf(err_r, r, "cannot build the ACL of %s", w->path);
        r = x_set_perms(l, t, w->path, perms, n);
        if (r < 0)
                return err_setf(err_r, r, "cannot set the permissions of %s: %s", w->path,
                                strerror(-r));
        return 0;
}

int layout_state_write(struct layout *l, const uint8_t uuid[16], const struct layout_tool_state *s,
                       char **err_r)
{
        _cleanup_free_ char *text = NULL, *times = NULL;
        char u[37], path[64], what[96];
        struct state_write w;
        size_t used = 0;
        int r;

        snprintf(path, sizeof(path), "/tool/xensup/%s", config_uuid_to_string(uuid, u));
        snprintf(what, sizeof(what), "writing %s", path);
        if (s->n_restart_times > ELEMENTSOF(s->restart_times) ||
            s->domid >= LAYOUT_DOMID_FIRST_RESERVED ||
            !memchr(s->config_path, '\0', sizeof(s->config_path)) || strchr(s->config_path, '\n') ||
            (s->last_reason != SHUTDOWN_REASON_NONE &&
             ((unsigned)s->last_reason >= _SHUTDOWN_REASON_MAX)))
                return err_setf(err_r, -EINVAL, "%s: invalid record", what);

        times = calloc(ELEMENTSOF(s->restart_times), 21);
        if (!times)
                return err_setf(err_r, -ENOMEM, "%s: out of memory", what);
        for (unsigned i = 0; i < s->n_restart_times; i++)
                used +=
                    (size_t)sprintf(times + used, "%s%" PRIu64, i ? "," : "", s->restart_times[i]);

        if (asprintf(&text,
                     "%s=%" PRIu32 "\n%s=%d\n%s=%u\n%s=%s\n%s=%d\n%s=%d\n%s=%" PRIu64
                     "\n%s=%d\n%s=%s\n%s%s%s%s",
                     state_keys[KEY_DOMID], s->domid, state_keys[KEY_BUILD_IN_PROGRESS],
                     s->build_in_progress, state_keys[KEY_RESTART_COUNT], s->restart_count,
                     state_keys[KEY_RESTART_TIMES], times, state_keys[KEY_SHUTDOWN_REQUESTED],
                     s->shutdown_requested, state_keys[KEY_SHUTDOWN_REBOOT], s->shutdown_reboot,
                     state_keys[KEY_SHUTDOWN_DEADLINE], s->shutdown_deadline,
                     state_keys[KEY_FAILED], s->failed, state_keys[KEY_LAST_REASON],
                     shutdown_reason_to_string(s->last_reason),
                     s->config_path[0] ? STATE_KEY_CONFIG_PATH "=" : "", s->config_path,
                     s->config_path[0] ? "\n" : "", "") < 0) {
                text = NULL;
                return err_setf(err_r, -ENOMEM, "%s: out of memory", what);
        }

        w = (struct state_write){ .path = path, .text = text };
        r = run_transaction(l, what, state_write_step, &w, err_r);
        if (r < 0 && r != -EAGAIN && err_r) {
                _cleanup_free_ char *inner = TAKE_PTR(*err_r);

                return err_setf(err_r, r, "%s: %s", what, inner ? inner : strerror(-r));
        }
        return r;
}

static int parse_bool(const char *v, size_t len, bool *ret)
{
        if (len != 1 || (v[0] != '0' && v[0] != '1'))
                return -EINVAL;
        *ret = v[0] == '1';
        return 0;
}

static int parse_times(const char *v, size_t len, struct layout_tool_state *s)
{
        size_t start = 0;

        s->n_restart_times = 0;
        if (len == 0)
                return 0;
        for (size_t i = 0; i <= len; i++) {
                int r;

                if (i < len && v[i] != ',')
                        continue;
                if (s->n_restart_times == ELEMENTSOF(s->restart_times))
                        return -E2BIG;
                r = parse_u64(v + start, i - start, UINT64_MAX,
                              &s->restart_times[s->n_restart_times]);
                if (r < 0)
                        return r;
                s->n_restart_times++;
                start = i + 1;
        }
        return 0;
}

/* "none" or one of config's reason names; anything else is -EINVAL. */
static int parse_reason(const char *v, size_t len, enum shutdown_reason *ret)
{
        char buf[32];

        if (len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, v, len);
        buf[len] = '\0';
        if (strcmp(buf, "none") == 0) {
                *ret = SHUTDOWN_REASON_NONE;
                return 0;
        }
        *ret = shutdown_reason_from_string(buf);
        return *ret == SHUTDOWN_REASON_NONE ? -EINVAL : 0;
}

/* Parse one "key=value" line's value for key k into s. */
static int parse_state_value(enum state_key k, const char *v, size_t len,
                             struct layout_tool_state *s)
{
        uint64_t n;
        int r;

        switch (k) {
        case KEY_DOMID:
                r = parse_u64(v, len, LAYOUT_DOMID_FIRST_RESERVED - 1, &n);
                s->domid = (uint32_t)n;
                return r;
        case KEY_BUILD_IN_PROGRESS:
                return parse_bool(v, len, &s->build_in_progress);
        case KEY_RESTART_COUNT:
                r = parse_u64(v, len, UINT32_MAX, &n);
                s->restart_count = (unsigned)n;
                return r;
        case KEY_RESTART_TIMES:
                return parse_times(v, len, s);
        case KEY_SHUTDOWN_REQUESTED:
                return parse_bool(v, len, &s->shutdown_requested);
        case KEY_SHUTDOWN_REBOOT:
                return parse_bool(v, len, &s->shutdown_reboot);
        case KEY_SHUTDOWN_DEADLINE:
                return parse_u64(v, len, UINT64_MAX, &s->shutdown_deadline);
        case KEY_FAILED:
                return parse_bool(v, len, &s->failed);
        case KEY_LAST_REASON:
                return parse_reason(v, len, &s->last_reason);
        default:
                return -EINVAL;
        }
}

/* The optional last line: config_path=<absolute path>. */
static int parse_config_path(const char *line, size_t len, struct layout_tool_state *s)
{
        size_t klen = strlen(STATE_KEY_CONFIG_PATH);
        size_t vlen;

        if (len < klen + 3 || memcmp(line, STATE_KEY_CONFIG_PATH "=", klen + 1) != 0 ||
            line[len - 1] != '\n')
                return -EINVAL;
        vlen = len - klen - 2;
        if (vlen >= sizeof(s->config_path) || line[klen + 1] != '/' ||
            memchr(line + klen + 1, '\n', vlen))
                return -EINVAL;
        memcpy(s->config_path, line + klen + 1, vlen);
        s->config_path[vlen] = '\0';
        return 0;
}

/* Parse a record strictly: every key once, in order, one per line, then config_path or nothing. */
static int parse_state(const char *text, size_t len, struct layout_tool_state *ret)
{
        struct layout_tool_state s = { .last_reason = SHUTDOWN_REASON_NONE };
        size_t pos = 0;

        if (memchr(text, '\0', len))
                return -EINVAL;
        for (int k = 0; k < _KEY_MAX; k++) {
                size_t klen = strlen(state_keys[k]);
                const char *eol;
                int r;

                if (len - pos < klen + 2 || memcmp(text + pos, state_keys[k], klen) != 0 ||
                    text[pos + klen] != '=')
                        return -EINVAL;
                pos += klen + 1;
                eol = memchr(text + pos, '\n', len - pos);
                if (!eol)
                        return -EINVAL;
                r = parse_state_value((enum state_key)k, text + pos, (size_t)(eol - (text + pos)),
                                      &s);
                if (r < 0)
                        return r;
                pos = (size_t)(eol - text) + 1;
        }
        if (pos != len) {
                int r = parse_config_path(text + pos, len - pos, &s);

                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}

int layout_state_read(struct layout *l, const uint8_t uuid[16], struct layout_tool_state *s,
                      char **err_r)
{
        _cleanup_free_ char *text = NULL;
        char u[37], path[64];
        unsigned len;
        int r;

        snprintf(path, sizeof(path), "/tool/xensup/%s", config_uuid_to_string(uuid, u));
        r = x_read(l, XBT_NULL, path, &text, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
        if (len > LAYOUT_STATE_MAX)
                return err_setf(err_r, -E2BIG, "%s: record of %u bytes, more than %d", path, len,
                                LAYOUT_STATE_MAX);
        r = parse_state(text, len, s);
        if (r < 0)
                return err_setf(err_r, -EBADMSG, "%s: malformed record", path);
        return 0;
}

int layout_state_remove(struct layout *l, const uint8_t uuid[16], char **err_r)
{
        char u[37], path[64];
        int r;

        snprintf(path, sizeof(path), "/tool/xensup/%s", config_uuid_to_string(uuid, u));
        r = x_rm(l, XBT_NULL, path);
        if (r < 0)
                return err_setf(err_r, r, "cannot remove %s: %s", path, strerror(-r));
        return 0;
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

        r = x_directory(l, "/local/domain", &names, &n);
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

                if (parse_u64(names[i], strlen(names[i]), LAYOUT_DOMID_FIRST_RESERVED - 1, &v) <
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

        r = x_directory(l, dir, &names, &n);
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
                if (config_uuid_from_string(names[i], uuids[k]) == 0 &&
                    strcmp(config_uuid_to_string(uuids[k], canonical), names[i]) == 0)
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
