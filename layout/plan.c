/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan.c — layout's request layer, transactions and plans (plan.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "common/debug.h"
#include "common/error.h"
#include "layout/plan.h"

/* Attempts of one transaction before giving up on EAGAIN, and the backoff cap. */
#define LAYOUT_MAX_ATTEMPTS   10
#define LAYOUT_BACKOFF_MAX_MS 64

int errno_or_eio(void)
{
        return errno > 0 ? -errno : -EIO;
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

int x_write_len(struct layout *l, xs_transaction_t t, const char *path, const char *value,
                unsigned len)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_write(l->xs, t, path, value, len))
                return errno_or_eio();
        return 0;
}

int x_write(struct layout *l, xs_transaction_t t, const char *path, const char *value)
{
        return x_write_len(l, t, path, value, (unsigned)strlen(value));
}

int x_mkdir(struct layout *l, xs_transaction_t t, const char *path)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_mkdir(l->xs, t, path))
                return errno_or_eio();
        return 0;
}

/* Remove a subtree; a node that is not there (or whose parent is not) is already removed. */
int x_rm(struct layout *l, xs_transaction_t t, const char *path)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_rm(l->xs, t, path) && errno != ENOENT)
                return errno_or_eio();
        return 0;
}

int x_set_perms(struct layout *l, xs_transaction_t t, const char *path,
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
int x_read(struct layout *l, xs_transaction_t t, const char *path, char **value_r, unsigned *len_r)
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
int x_get_perms(struct layout *l, xs_transaction_t t, const char *path,
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
int x_directory(struct layout *l, xs_transaction_t t, const char *path, char ***names_r,
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

int x_watch(struct layout *l, const char *path, const char *token)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_watch(l->xs, path, token))
                return errno_or_eio();
        return 0;
}

int x_unwatch(struct layout *l, const char *path, const char *token)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_unwatch(l->xs, path, token))
                return errno_or_eio();
        return 0;
}

uint64_t x_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int x_wait_watch(struct layout *l, unsigned ms)
{
        struct pollfd pfd = { .fd = xs_fileno(l->xs), .events = POLLIN };
        int n;

        if (pfd.fd < 0)
                return errno_or_eio();
        n = poll(&pfd, 1, (int)ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        if (n > 0) {
                unsigned count;
                char **ev = xs_read_watch(l->xs, &count);

                free(ev);
        }
        return 0;
}

int x_resume_domain(struct layout *l, uint32_t domid)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (!xs_resume_domain(l->xs, domid))
                return errno_or_eio();
        return 0;
}

int x_transaction_start(struct layout *l, xs_transaction_t *t_r)
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
int x_transaction_end(struct layout *l, xs_transaction_t t, bool abort)
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

static void backoff(unsigned attempt)
{
        unsigned ms = 1U << (attempt < 7 ? attempt : 6);
        struct timespec ts;
        long ns;

        if (ms > LAYOUT_BACKOFF_MAX_MS)
                ms = LAYOUT_BACKOFF_MAX_MS;
        /*
         * Half of it random: clients that conflicted once and waited the same would meet
         * again at every attempt.
         */
        ns = (long)ms * 500000L + random() % ((long)ms * 500000L + 1);
        ts.tv_sec = 0;
        ts.tv_nsec = ns;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/*
 * Run step inside one transaction and commit it; on EAGAIN (another client
 * touched what we touched) run it again from scratch, at most
 * LAYOUT_MAX_ATTEMPTS times with a growing pause. Any other failure aborts
 * the transaction, so nothing of a failed step stays in XenStore.
 */
static int run_transaction_unlocked(struct layout *l, step_fn step, const void *userdata,
                                    char **err_r);

int run_transaction(struct layout *l, step_fn step, const void *userdata, char **err_r)
{
        int r;

        /* Other handles on the same lock (build children) wait: parallel creates all conflict. */
        if (l->lock_fd >= 0 && flock(l->lock_fd, LOCK_EX) < 0)
                return err_setf(err_r, -errno, "cannot take the XenStore lock: %s",
                                strerror(errno));
        r = run_transaction_unlocked(l, step, userdata, err_r);
        if (l->lock_fd >= 0)
                (void)flock(l->lock_fd, LOCK_UN);
        return r;
}

/* Whether another attempt is allowed: the first LAYOUT_MAX_ATTEMPTS, then until the deadline. */
static bool may_retry(const struct layout *l, unsigned attempt, uint64_t deadline_ms)
{
        struct timespec ts;

        if (attempt < LAYOUT_MAX_ATTEMPTS)
                return true;
        if (l->patience_ms == 0)
                return false;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 < deadline_ms;
}

static int run_transaction_unlocked(struct layout *l, step_fn step, const void *userdata,
                                    char **err_r)
{
        uint64_t deadline_ms = 0;
        unsigned attempt;

        if (l->patience_ms) {
                struct timespec ts;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                deadline_ms =
                    (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + l->patience_ms;
        }
        for (attempt = 0; may_retry(l, attempt, deadline_ms); attempt++) {
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
                        attempt);
}

/* Run step as one transaction (run_transaction); a failure's message is prefixed with what. */
int run_step(struct layout *l, const char *what, step_fn step, const void *userdata, char **err_r)
{
        /* Every step passes here, so each transaction gets its debug line (common/debug.h). */
        bool debug = debug_enabled();
        uint64_t requests = l->requests, start = debug ? debug_now_ms() : 0;
        int r = run_transaction(l, step, userdata, err_r);

        if (debug)
                debug_printf("XenStore transaction %s: %s (%" PRIu64 " requests, %" PRIu64 " ms)",
                             what, r < 0 ? strerror(-r) : "ok", l->requests - requests,
                             debug_now_ms() - start);
        if (r < 0 && err_r) {
                _cleanup_free_ char *inner = TAKE_PTR(*err_r);

                return err_setf(err_r, r, "%s: %s", what, inner ? inner : strerror(-r));
        }
        return r;
}

/* ---- small helpers ---- */

int check_domid(uint32_t domid, const char *what, char **err_r)
{
        if (!layout_acl_guest_is_valid(domid))
                return err_setf(err_r, -EINVAL, "%s: domid %" PRIu32 " is not a guest's", what,
                                domid);
        return 0;
}

/* ---- plans: the nodes one step writes ---- */

void plan_done(struct plan *p)
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

_printf_(4, 5) void plan_add(struct plan *p, enum layout_access access, const char *value,
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
_printf_(2, 3) const char *val(char buf[32], const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, 32, fmt, ap);
        va_end(ap);
        return buf;
}

_printf_(2, 3) void plan_remove(struct plan *p, const char *fmt, ...)
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

_printf_(2, 3) void plan_guard(struct plan *p, const char *fmt, ...)
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
int plan_execute(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
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

/*
 * Send an update of existing nodes inside transaction t: first check that
 * every guard node exists (so nothing is re-created under a domain already
 * torn down), then write the values; the nodes keep the ACLs they have.
 */
int update_execute(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
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
int plan_run(struct layout *l, struct plan *p, step_fn step, const char *what, char **err_r)
{
        if (p->error < 0)
                return err_setf(err_r, p->error, "%s: cannot build the request plan: %s", what,
                                strerror(-p->error));
        return run_step(l, what, step, p, err_r);
}

void plan_donep(struct plan *p)
{
        plan_done(p);
}
