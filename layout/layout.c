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
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <xenstore.h>

#include "common/error.h"
#include "common/parse.h"
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
#define LAYOUT_MAX_VCPUS VCPUS_MAX

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

static int x_write_len(struct layout *l, xs_transaction_t t, const char *path, const char *value,
                       unsigned len)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_write(l->xs, t, path, value, len))
                return errno_or_eio();
        return 0;
}

static int x_write(struct layout *l, xs_transaction_t t, const char *path, const char *value)
{
        return x_write_len(l, t, path, value, (unsigned)strlen(value));
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

/* Read a node's ACL; the caller frees *perms_r. */
static int x_get_perms(struct layout *l, xs_transaction_t t, const char *path,
                       struct xs_permissions **perms_r, unsigned *n_r)
{
        int r = req_begin(l);
        struct xs_permissions *perms;

        if (r < 0)
                return r;
        perms = xs_get_permissions(l->xs, t, path, n_r);
        if (!perms)
                return errno_or_eio();
        *perms_r = perms;
        return 0;
}

/* List a node's children; the caller frees *names_r (one allocation). */
static int x_directory(struct layout *l, xs_transaction_t t, const char *path, char ***names_r,
                       unsigned *n_r)
{
        int r = req_begin(l);
        char **names;

        if (r < 0)
                return r;
        names = xs_directory(l->xs, t, path, n_r);
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
static int run_transaction(struct layout *l, step_fn step, const void *userdata, char **err_r)
{
        for (unsigned attempt = 0; attempt < LAYOUT_MAX_ATTEMPTS; attempt++) {
                xs_transaction_t t;
                int r;

                if (attempt > 0)
                        backoff(attempt - 1);
                r = x_transaction_start(l, &t);
                if (r < 0)
                        return err_setf(err_r, r, "cannot start a XenStore transaction: %s",
                                        strerror(-r));
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
                        return err_setf(err_r, r, "XenStore transaction commit failed: %s",
                                        strerror(-r));
                return 0;
        }
        return err_setf(err_r, -EAGAIN, "XenStore transaction still conflicting after %u attempts",
                        LAYOUT_MAX_ATTEMPTS);
}

/* Run step as one transaction (run_transaction); a failure's message is prefixed with what. */
static int run_step(struct layout *l, const char *what, step_fn step, const void *userdata,
                    char **err_r)
{
        int r = run_transaction(l, step, userdata, err_r);

        if (r < 0 && err_r) {
                _cleanup_free_ char *inner = TAKE_PTR(*err_r);

                return err_setf(err_r, r, "%s: %s", what, inner ? inner : strerror(-r));
        }
        return r;
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
        if (p->error < 0)
                return err_setf(err_r, p->error, "%s: cannot build the request plan: %s", what,
                                strerror(-p->error));
        return run_step(l, what, step, p, err_r);
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
        if (!domain_name_is_valid(name))
                return err_setf(err_r, -EINVAL, "%s: invalid name", what);
        r = check_vcpus(c->vcpus, maxvcpus, what, err_r);
        if (r < 0)
                return r;
        if (!domain_action_to_string(c->on_poweroff) || !domain_action_to_string(c->on_reboot) ||
            !domain_action_to_string(c->on_crash))
                return err_setf(err_r, -EINVAL, "%s: invalid on_* action", what);

        plan_domain(&p, d, uuid_to_string(c->uuid, uuid), c->vcpus, maxvcpus);
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

/*
 * Version 2 of the record, read as systemd's machine_load reads its state
 * files: "version=2" first, then key=value lines in any order; unknown keys
 * are skipped (a later daemon's record still reads) and a missing key keeps
 * its default. Adding a key never changes the version; only a change an
 * older reader would misread does.
 */
#define STATE_VERSION       2
#define STATE_VERSION_KEY   "version="
#define STATE_KEY_MAX       32 /* longest key accepted, known or not */
#define STATE_TOKEN_CHARS   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define STATE_KEY_CHARS     "abcdefghijklmnopqrstuvwxyz0123456789_"
#define STATE_UINT64_DIGITS 20 /* UINT64_MAX */
#define STATE_UINT32_DIGITS 10 /* UINT32_MAX */

_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "the record's counts are 32-bit");

enum field_type {
        FIELD_BOOL,   /* 0 or 1 */
        FIELD_UINT,   /* unsigned or uint64_t, by the member's size */
        FIELD_DOMID,  /* below DOMID_FIRST_RESERVED */
        FIELD_REASON, /* "none" or a shutdown reason */
        FIELD_TOKEN,  /* "" or [A-Za-z0-9_.-]+ */
        FIELD_NAME,   /* "" or a valid domain name */
        FIELD_TEXT,   /* any bytes, escaped */
        FIELD_PATH,   /* "" or an absolute path, escaped */
        FIELD_UUID,   /* canonical lowercase */
};

struct state_field {
        const char *key;
        enum field_type type;
        size_t offset, size;
};

#define FIELD(k, t, member)                                                                        \
        {                                                                                          \
                .key = k, .type = t, .offset = offsetof(struct layout_tool_state, member),         \
                .size = sizeof(((struct layout_tool_state *)NULL)->member)                         \
        }

/* Every key of version 2, in the order it is written. */
static const struct state_field state_fields[] = {
        FIELD("domid", FIELD_DOMID, domid),
        FIELD("build_in_progress", FIELD_BOOL, build_in_progress),
        FIELD("state", FIELD_TOKEN, state),
        FIELD("restart_count", FIELD_UINT, restart_count),
        FIELD("restart_window_start", FIELD_UINT, restart_window_start),
        FIELD("restart_window_count", FIELD_UINT, restart_window_count),
        FIELD("restart_due", FIELD_UINT, restart_due),
        FIELD("started_at_usec", FIELD_UINT, started_at_usec),
        FIELD("shutdown_requested", FIELD_BOOL, shutdown_requested),
        FIELD("shutdown_reboot", FIELD_BOOL, shutdown_reboot),
        FIELD("shutdown_deadline", FIELD_UINT, shutdown_deadline),
        FIELD("failed", FIELD_BOOL, failed),
        FIELD("last_reason", FIELD_REASON, last_reason),
        FIELD("failure", FIELD_TEXT, failure),
        FIELD("config_path", FIELD_PATH, config_path),
        FIELD("created", FIELD_BOOL, created),
        FIELD("kept", FIELD_BOOL, kept),
        FIELD("kept_of", FIELD_UUID, kept_of),
        FIELD("name", FIELD_NAME, name),
        FIELD("creator_uid", FIELD_UINT, creator_uid),
        FIELD("creator_groups", FIELD_TEXT, creator_groups),
        FIELD("last_action", FIELD_TOKEN, last_action),
        FIELD("last_action_uid", FIELD_UINT, last_action_uid),
        FIELD("last_action_pid", FIELD_UINT, last_action_pid),
        FIELD("last_action_usec", FIELD_UINT, last_action_usec),
};

static const struct state_field *field_find(const char *key, size_t len)
{
        for (size_t i = 0; i < ELEMENTSOF(state_fields); i++)
                if (strlen(state_fields[i].key) == len &&
                    memcmp(state_fields[i].key, key, len) == 0)
                        return &state_fields[i];
        return NULL;
}

/* The longest value of a field on the wire; a string's escaped form must fit its array. */
static size_t field_max(const struct state_field *f)
{
        switch (f->type) {
        case FIELD_BOOL:
                return 1;
        case FIELD_UINT:
                return f->size == sizeof(uint64_t) ? STATE_UINT64_DIGITS : STATE_UINT32_DIGITS;
        case FIELD_DOMID:
                return 5; /* 32751 */
        case FIELD_REASON:
                return 16; /* "soft_reset", with room */
        case FIELD_UUID:
                return 36;
        default:
                return f->size - 1;
        }
}

static bool token_is_valid(const char *s, size_t max)
{
        size_t n = strlen(s);

        return n >= 1 && n <= max && strspn(s, STATE_TOKEN_CHARS) == n;
}

/*
 * Escape the first n bytes of src into dst (NUL-terminated, at most size - 1
 * bytes) so that a value never holds a newline or a control byte: "\\",
 * "\n", "\xNN". Stops before the first byte whose escape does not fit;
 * returns how many bytes of src it took.
 */
static size_t escape(const char *src, size_t n, char *dst, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0, i;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)src[i];
                char e[4] = { '\\', (char)c, 0, 0 };
                size_t k = 2;

                if (c == '\n')
                        e[1] = 'n';
                else if (c < 0x20 || c == 0x7f) {
                        e[1] = 'x';
                        e[2] = hex[c >> 4];
                        e[3] = hex[c & 0xf];
                        k = 4;
                } else if (c != '\\') {
                        e[0] = (char)c;
                        k = 1;
                }
                if (o + k >= size)
                        break;
                memcpy(dst + o, e, k);
                o += k;
        }
        dst[o] = '\0';
        return i;
}

/* Undo escape(): no raw control byte, and no escape but "\\", "\n" and "\xNN" (not \x00). */
static int unescape(const char *v, size_t len, char *dst, size_t size)
{
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)v[i];

                if (c < 0x20 || c == 0x7f)
                        return -EINVAL;
                if (c == '\\') {
                        int hi, lo;

                        if (++i == len)
                                return -EINVAL;
                        switch (v[i]) {
                        case '\\':
                                break;
                        case 'n':
                                c = '\n';
                                break;
                        case 'x':
                                if (i + 2 >= len)
                                        return -EINVAL;
                                hi = hex_digit(v[i + 1]);
                                lo = hex_digit(v[i + 2]);
                                if (hi < 0 || lo < 0 || (hi | lo) == 0)
                                        return -EINVAL;
                                c = (unsigned char)(hi << 4 | lo);
                                i += 2;
                                break;
                        default:
                                return -EINVAL;
                        }
                }
                if (o + 1 >= size)
                        return -E2BIG;
                dst[o++] = (char)c;
        }
        dst[o] = '\0';
        return 0;
}

/* A record the daemon would read back, or -EINVAL with a message naming the field. */
static int state_check(const struct layout_tool_state *s, char **err_r)
{
        for (size_t i = 0; i < ELEMENTSOF(state_fields); i++) {
                const struct state_field *f = &state_fields[i];
                const char *p = (const char *)s + f->offset;
                enum shutdown_reason reason;

                switch (f->type) {
                case FIELD_DOMID:
                        if (*(const uint32_t *)p >= DOMID_FIRST_RESERVED)
                                return err_setf(err_r, -EINVAL, "%s: %" PRIu32 " is not a guest's",
                                                f->key, *(const uint32_t *)p);
                        break;
                case FIELD_REASON:
                        reason = *(const enum shutdown_reason *)p;
                        if (reason != SHUTDOWN_REASON_NONE &&
                            (unsigned)reason >= (unsigned)_SHUTDOWN_REASON_MAX)
                                return err_setf(err_r, -EINVAL, "%s: unknown reason %d", f->key,
                                                (int)reason);
                        break;
                case FIELD_TOKEN:
                case FIELD_NAME:
                case FIELD_TEXT:
                case FIELD_PATH:
                        if (!memchr(p, '\0', f->size))
                                return err_setf(err_r, -EINVAL, "%s: not NUL-terminated", f->key);
                        if (!*p)
                                break;
                        if (f->type == FIELD_TOKEN && !token_is_valid(p, f->size - 1))
                                return err_setf(err_r, -EINVAL, "%s: not a token ([A-Za-z0-9_.-])",
                                                f->key);
                        if (f->type == FIELD_NAME && !domain_name_is_valid(p))
                                return err_setf(err_r, -EINVAL, "%s: not a valid domain name",
                                                f->key);
                        if (f->type == FIELD_PATH && *p != '/')
                                return err_setf(err_r, -EINVAL, "%s: not an absolute path", f->key);
                        break;
                default:
                        break;
                }
        }
        if (s->kept && !domain_name_is_valid(s->name))
                return err_setf(err_r, -EINVAL, "name: a kept instance needs a valid name");
        return 0;
}

/* The wire form of one field's value, into v (LAYOUT_CONFIG_PATH_MAX, the longest). */
static void field_format(const struct state_field *f, const struct layout_tool_state *s,
                         char v[LAYOUT_CONFIG_PATH_MAX])
{
        const char *p = (const char *)s + f->offset;
        size_t n, k;

        switch (f->type) {
        case FIELD_BOOL:
                strcpy(v, *(const bool *)p ? "1" : "0");
                break;
        case FIELD_UINT:
                snprintf(v, LAYOUT_CONFIG_PATH_MAX, "%" PRIu64,
                         f->size == sizeof(uint64_t) ? *(const uint64_t *)p
                                                     : (uint64_t) * (const unsigned *)p);
                break;
        case FIELD_DOMID:
                snprintf(v, LAYOUT_CONFIG_PATH_MAX, "%" PRIu32, *(const uint32_t *)p);
                break;
        case FIELD_REASON:
                snprintf(v, LAYOUT_CONFIG_PATH_MAX, "%s",
                         shutdown_reason_to_string(*(const enum shutdown_reason *)p));
                break;
        case FIELD_TOKEN:
        case FIELD_NAME:
                snprintf(v, LAYOUT_CONFIG_PATH_MAX, "%s", p);
                break;
        case FIELD_TEXT:
                n = strlen(p);
                k = escape(p, n, v, f->size);
                if (k < n) {
                        /* Cut before a whole character, not inside a UTF-8 sequence. */
                        for (unsigned b = 0; b < 3 && k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80;
                             b++)
                                k--;
                        escape(p, k, v, f->size);
                }
                break;
        case FIELD_PATH:
                n = strlen(p);
                /* Half a path would name another file: one too long escaped is not kept. */
                if (escape(p, n, v, f->size) < n)
                        v[0] = '\0';
                break;
        case FIELD_UUID: {
                char u[37];

                snprintf(v, LAYOUT_CONFIG_PATH_MAX, "%s", uuid_to_string((const uint8_t *)p, u));
                break;
        }
        }
}

/* The whole text of a record into text (LAYOUT_STATE_WRITE_MAX + 1 bytes). */
static int state_format(const struct layout_tool_state *s, char *text, char **err_r)
{
        size_t size = LAYOUT_STATE_WRITE_MAX + 1;
        size_t used = (size_t)snprintf(text, size, STATE_VERSION_KEY "%d\n", STATE_VERSION);

        for (size_t i = 0; i < ELEMENTSOF(state_fields); i++) {
                char v[LAYOUT_CONFIG_PATH_MAX];
                int k;

                field_format(&state_fields[i], s, v);
                k = snprintf(text + used, size - used, "%s=%s\n", state_fields[i].key, v);
                /* Cannot happen with these fields (the bound is checked by a test). */
                if (k < 0 || (size_t)k >= size - used)
                        return err_setf(err_r, -E2BIG, "record longer than %d bytes",
                                        LAYOUT_STATE_WRITE_MAX);
                used += (size_t)k;
        }
        return 0;
}

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
        _cleanup_free_ char *inner = NULL;
        char u[37], path[64], what[96], text[LAYOUT_STATE_WRITE_MAX + 1];
        struct state_write w;
        int r;

        snprintf(path, sizeof(path), "/tool/xensup/%s", uuid_to_string(uuid, u));
        snprintf(what, sizeof(what), "writing %s", path);
        r = state_check(s, &inner);
        if (r >= 0)
                r = state_format(s, text, &inner);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", what, inner);

        w = (struct state_write){ .path = path, .text = text };
        return run_step(l, what, state_write_step, &w, err_r);
}

static int parse_bool(const char *v, size_t len, bool *ret)
{
        if (len != 1 || (v[0] != '0' && v[0] != '1'))
                return -EINVAL;
        *ret = v[0] == '1';
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

/* Parse one field's value (at most field_max() bytes) into s; -EINVAL when malformed. */
static int field_parse(const struct state_field *f, const char *v, size_t len,
                       struct layout_tool_state *s)
{
        char *p = (char *)s + f->offset;
        uint64_t n;
        int r;

        switch (f->type) {
        case FIELD_BOOL:
                return parse_bool(v, len, (bool *)p);
        case FIELD_UINT:
                r = parse_u64(v, len, f->size == sizeof(uint64_t) ? UINT64_MAX : UINT32_MAX, &n);
                if (r < 0)
                        return r;
                if (f->size == sizeof(uint64_t))
                        *(uint64_t *)p = n;
                else
                        *(unsigned *)p = (unsigned)n;
                return 0;
        case FIELD_DOMID:
                r = parse_u64(v, len, DOMID_FIRST_RESERVED - 1, &n);
                if (r < 0)
                        return r;
                *(uint32_t *)p = (uint32_t)n;
                return 0;
        case FIELD_REASON:
                return parse_reason(v, len, (enum shutdown_reason *)p);
        case FIELD_TOKEN:
        case FIELD_NAME:
                memcpy(p, v, len);
                p[len] = '\0';
                if (len == 0)
                        return 0;
                if (f->type == FIELD_TOKEN)
                        return token_is_valid(p, f->size - 1) ? 0 : -EINVAL;
                return domain_name_is_valid(p) ? 0 : -EINVAL;
        case FIELD_TEXT:
                return unescape(v, len, p, f->size);
        case FIELD_PATH:
                r = unescape(v, len, p, f->size);
                if (r < 0)
                        return r;
                return p[0] == '\0' || p[0] == '/' ? 0 : -EINVAL;
        case FIELD_UUID: {
                char buf[37], canonical[37];

                if (len != 36)
                        return -EINVAL;
                memcpy(buf, v, len);
                buf[len] = '\0';
                if (uuid_from_string(buf, (uint8_t *)p) < 0 ||
                    strcmp(uuid_to_string((uint8_t *)p, canonical), buf) != 0)
                        return -EINVAL;
                return 0;
        }
        }
        return -EINVAL;
}

/* "KEY: malformed value 'V'", the value escaped and cut, so the message stays one short line. */
static int bad_value(char **err_r, const char *key, const char *v, size_t len)
{
        char shown[48];
        size_t k = escape(v, len, shown, sizeof(shown));

        return err_setf(err_r, -EBADMSG, "%s: malformed value '%s%s'", key, shown,
                        k < len ? "..." : "");
}

/* Version 2: "version=2", then key=value lines in any order (see state_fields). */
static int parse_state_v2(const char *text, size_t len, struct layout_tool_state *ret, char **err_r)
{
        struct layout_tool_state s = { .last_reason = SHUTDOWN_REASON_NONE };
        bool seen[ELEMENTSOF(state_fields)] = { false };
        unsigned line = 0;

        for (size_t pos = 0; pos < len;) {
                const char *start = text + pos, *eol, *eq, *v;
                const struct state_field *f;
                size_t klen, vlen;

                line++;
                eol = memchr(start, '\n', len - pos);
                if (!eol)
                        return err_setf(err_r, -EBADMSG, "line %u: no final newline", line);
                eq = memchr(start, '=', (size_t)(eol - start));
                klen = eq ? (size_t)(eq - start) : 0;
                if (klen == 0 || klen > STATE_KEY_MAX || strspn(start, STATE_KEY_CHARS) != klen)
                        return err_setf(err_r, -EBADMSG, "line %u: not key=value", line);
                v = eq + 1;
                vlen = (size_t)(eol - v);
                pos = (size_t)(eol - text) + 1;

                if (klen == strlen(STATE_VERSION_KEY) - 1 &&
                    memcmp(start, STATE_VERSION_KEY, klen) == 0) {
                        uint64_t version;

                        if (line > 1)
                                return err_setf(err_r, -EBADMSG, "version: given twice");
                        if (parse_u64(v, vlen, UINT32_MAX, &version) < 0)
                                return bad_value(err_r, "version", v, vlen);
                        if (version != STATE_VERSION)
                                return err_setf(err_r, -EBADMSG,
                                                "version: %" PRIu64
                                                " is not the version this daemon reads (%d)",
                                                version, STATE_VERSION);
                        continue;
                }
                if (line == 1)
                        return err_setf(err_r, -EBADMSG, "line 1: not the version");
                f = field_find(start, klen);
                if (!f)
                        continue; /* a later daemon's key */
                if (seen[f - state_fields])
                        return err_setf(err_r, -EBADMSG, "%s: given twice", f->key);
                seen[f - state_fields] = true;
                if (vlen > field_max(f))
                        return err_setf(err_r, -EBADMSG, "%s: value longer than %zu bytes", f->key,
                                        field_max(f));
                if (field_parse(f, v, vlen, &s) < 0)
                        return bad_value(err_r, f->key, v, vlen);
        }
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
                r = parse_u64(v + start, i - start, UINT64_MAX, &t);
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
                        const struct state_field *f = field_find(key, klen);

                        r = vlen <= field_max(f) ? field_parse(f, v, vlen, &s) : -EINVAL;
                }
                if (r < 0)
                        return bad_value(err_r, key, v, vlen);
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
                        return bad_value(err_r, "config_path", v, vlen);
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
        if (len >= strlen(STATE_VERSION_KEY) &&
            memcmp(text, STATE_VERSION_KEY, strlen(STATE_VERSION_KEY)) == 0)
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
#define START_TIME_MAX (STATE_UINT64_DIGITS + 3)

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

int layout_vm_name(struct layout *l, const uint8_t uuid[16], char *buf, size_t size, char **err_r)
{
        _cleanup_free_ char *v = NULL;
        char u[37], path[64];
        size_t n;
        int r;

        snprintf(path, sizeof(path), "/vm/%s/name", uuid_to_string(uuid, u));
        r = read_dom0_node(l, path, DOMAIN_NAME_MAX, &v, err_r);
        if (r < 0)
                return r;
        if (!domain_name_is_valid(v))
                return bad_value(err_r, path, v, strlen(v));
        n = strlen(v);
        if (n >= size)
                return err_setf(err_r, -ENOBUFS, "%s: a name of %zu bytes does not fit %zu", path,
                                n, size);
        memcpy(buf, v, n + 1);
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
        if (parse_u64(v, (size_t)(dot - v), (UINT64_MAX - 990000) / 1000000, &sec) < 0)
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
                return bad_value(err_r, path, v, strlen(v));
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

                if (parse_u64(names[i], strlen(names[i]), DOMID_FIRST_RESERVED - 1, &v) < 0 ||
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
