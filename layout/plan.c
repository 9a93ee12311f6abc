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

#define MIN(a, b) ((a) < (b) ? (a) : (b))

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

/* ---- requests inside a transaction over the wire: sent ahead, their failures kept ---- */

/* Whether t's requests go over the wire: while it is open, every transaction starts there. */
static bool on_wire(const struct layout *l, xs_transaction_t t)
{
        return l->wire && (t != XBT_NULL || l->wire_unbound);
}

/* Forget the failure kept for the last transaction: a new one starts. */
static void wire_reset(struct layout *l)
{
        l->wire_error = 0;
        l->wire_err = (free(l->wire_err), NULL);
}

/* Keep the transaction's first failure of a request sent ahead, with its message; r. */
static int wire_fail(struct layout *l, int r, const char *what, const char *path)
{
        if (l->wire_error)
                return l->wire_error;
        l->wire_error = r;
        free(l->wire_err);
        if (xs_wire_broken(l->wire))
                (void)err_setf(&l->wire_err, r, "the XenStore connection failed: %s", strerror(-r));
        else
                (void)err_setf(&l->wire_err, r, "%s %s: %s", what, path, strerror(-r));
        return r;
}

static const char *failure_verb(uint32_t type)
{
        switch (type) {
        case XS_RM:
                return "cannot remove";
        case XS_SET_PERMS:
                return "cannot set the permissions of";
        default:
                return "cannot write";
        }
}

/*
 * Send what the open transaction has queued. A failure stays the transaction's, whatever the
 * step does with the value returned here (a read's caller may take -ENOENT for absence).
 */
static int wire_flush(struct layout *l)
{
        struct xs_wire_failure f = { 0 };
        int r;

        if (l->wire_error)
                return l->wire_error;
        r = xs_wire_flush(l->wire, &f);
        return r < 0 ? wire_fail(l, r, failure_verb(f.type), f.path) : 0;
}

/* Queue one request of the open transaction; a full queue is sent first. */
static int wire_queue(struct layout *l, uint32_t type, xs_transaction_t t, const char *path,
                      const void *data, size_t len)
{
        int r;

        if (l->wire_error)
                return l->wire_error;
        r = xs_wire_queue(l->wire, type, t, path, data, len);
        if (r == -ENOBUFS) {
                r = wire_flush(l);
                if (r >= 0)
                        r = xs_wire_queue(l->wire, type, t, path, data, len);
        }
        if (r < 0 && xs_wire_broken(l->wire))
                return wire_fail(l, r, "", "");
        return r;
}

/* What is queued sent, one request and its reply; *reply_r the caller frees. */
static int wire_call(struct layout *l, uint32_t type, xs_transaction_t t, const char *path,
                     char **reply_r, size_t *len_r)
{
        int r = wire_flush(l);

        if (r >= 0)
                r = type == XS_DIRECTORY
                        ? xs_wire_directory(l->wire, t, path, reply_r, len_r)
                        : xs_wire_call(l->wire, type, t, path, NULL, 0, reply_r, len_r);
        if (r < 0 && xs_wire_broken(l->wire))
                return wire_fail(l, r, "", "");
        return r;
}

/* Strings of len bytes, each NUL-terminated: how many. */
static unsigned count_strings(const char *s, size_t len)
{
        unsigned n = 0;

        for (size_t i = 0; i < len; i++)
                n += s[i] == '\0';
        return n;
}

/* An ACL reply ("n0\0r5\0") as libxenstore returns one: an array the caller frees. */
static int perms_from_strings(const char *s, size_t len, struct xs_permissions **perms_r,
                              unsigned *n_r)
{
        unsigned n = count_strings(s, len);
        struct xs_permissions *perms = calloc(n ? n : 1, sizeof(*perms));

        if (!perms)
                return -ENOMEM;
        if (!xs_strings_to_perms(perms, n, s)) {
                free(perms);
                return errno_or_eio();
        }
        *perms_r = perms;
        *n_r = n;
        return 0;
}

/* Names as libxenstore's xs_directory() returns them: one allocation, pointers then strings. */
static int names_from_strings(const char *s, size_t len, char ***names_r, unsigned *n_r)
{
        unsigned n = count_strings(s, len);
        char **names = malloc(n * sizeof(char *) + len + 1);
        char *copy;

        if (!names)
                return -ENOMEM;
        copy = (char *)(names + n);
        memcpy(copy, s, len);
        copy[len] = '\0';
        for (unsigned i = 0; i < n; i++) {
                names[i] = copy;
                copy += strlen(copy) + 1;
        }
        *names_r = names;
        *n_r = n;
        return 0;
}

/* ---- the requests ---- */

int x_write_len(struct layout *l, xs_transaction_t t, const char *path, const char *value,
                unsigned len)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (on_wire(l, t))
                return wire_queue(l, XS_WRITE, t, path, value, len);
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
        if (on_wire(l, t))
                return wire_queue(l, XS_MKDIR, t, path, NULL, 0);
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
        if (on_wire(l, t))
                return wire_queue(l, XS_RM, t, path, NULL, 0);
        if (!xs_rm(l->xs, t, path) && errno != ENOENT)
                return errno_or_eio();
        return 0;
}

/* An ACL as the wire carries it, "n0\0r5\0": xenstore-ls's text with NULs for commas. */
static int perms_to_strings(const struct xs_permissions *perms, unsigned n, char *buf, size_t size)
{
        int r = layout_acl_format(perms, n, buf, size);
        size_t len;

        if (r < 0)
                return r;
        len = strlen(buf) + 1;
        for (size_t i = 0; i < len; i++)
                if (buf[i] == ',')
                        buf[i] = '\0';
        return (int)len;
}

int x_set_perms(struct layout *l, xs_transaction_t t, const char *path,
                struct xs_permissions *perms, unsigned n)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (on_wire(l, t)) {
                char buf[LAYOUT_ACL_STRLEN];
                int len = perms_to_strings(perms, n, buf, sizeof(buf));

                return len < 0 ? len : wire_queue(l, XS_SET_PERMS, t, path, buf, (size_t)len);
        }
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
        if (on_wire(l, t)) {
                size_t len;

                r = wire_call(l, XS_READ, t, path, value_r, &len);
                if (r >= 0)
                        *len_r = (unsigned)len;
                return r;
        }
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
        if (on_wire(l, t)) {
                _cleanup_free_ char *s = NULL;
                size_t len;

                r = wire_call(l, XS_GET_PERMS, t, path, &s, &len);
                return r < 0 ? r : perms_from_strings(s, len, perms_r, n_r);
        }
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
        if (on_wire(l, t)) {
                _cleanup_free_ char *s = NULL;
                size_t len;

                r = wire_call(l, XS_DIRECTORY, t, path, &s, &len);
                return r < 0 ? r : names_from_strings(s, len, names_r, n_r);
        }
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

/* Start a transaction over the wire: its id, or -errno (a broken wire is dropped). */
static int wire_transaction_start(struct layout *l, xs_transaction_t *t_r)
{
        _cleanup_free_ char *id = NULL;
        size_t len;
        char *end;
        unsigned long v;
        int r;

        wire_reset(l);
        r = xs_wire_call(l->wire, XS_TRANSACTION_START, XBT_NULL, "", NULL, 0, &id, &len);
        if (r < 0)
                return r;
        errno = 0;
        v = strtoul(id, &end, 10);
        if (errno || end == id || *end || v == XBT_NULL || v > UINT32_MAX)
                return -EBADMSG;
        *t_r = (xs_transaction_t)v;
        return 0;
}

/* A wire that failed goes; its transaction went with it, and libxenstore serves from now on. */
static bool wire_drop_broken(struct layout *l)
{
        if (!l->wire || !xs_wire_broken(l->wire))
                return false;
        debug_printf("XenStore: the pipelined connection failed; libxenstore's from now on");
        l->wire = xs_wire_close(l->wire);
        wire_reset(l);
        return true;
}

int x_transaction_start(struct layout *l, xs_transaction_t *t_r)
{
        int r = req_begin(l);

        if (r < 0)
                return r;
        if (l->wire) {
                r = wire_transaction_start(l, t_r);
                if (r >= 0 || !wire_drop_broken(l))
                        return r;
        }
        *t_r = xs_transaction_start(l->xs);
        if (*t_r == XBT_NULL)
                return errno_or_eio();
        return 0;
}

/* End t where it was started; what an abort leaves queued is read and dropped first. */
static int end_transaction(struct layout *l, xs_transaction_t t, bool abort)
{
        if (on_wire(l, t)) {
                struct xs_wire_failure f;

                (void)xs_wire_flush(l->wire, &f);
                return xs_wire_call(l->wire, XS_TRANSACTION_END, t, abort ? "F" : "T", NULL, 0,
                                    NULL, NULL);
        }
        return xs_transaction_end(l->xs, t, abort) ? 0 : errno_or_eio();
}

/* End a transaction: commit, or abort when abort is set (never fails on purpose). */
int x_transaction_end(struct layout *l, xs_transaction_t t, bool abort)
{
        int r = req_begin(l);

        if (r < 0) {
                /* An injected failure of the commit must still end the transaction. */
                if (!abort) {
                        l->requests++;
                        (void)end_transaction(l, t, true);
                }
                return abort ? 0 : r;
        }
        r = end_transaction(l, t, abort);
        return abort ? 0 : r;
}

/*
 * After a step of t: what it queued sent, and a failure of a request sent ahead made the
 * step's, with that request's message in place of whatever the step made of it.
 */
static int wire_settle(struct layout *l, xs_transaction_t t, int r, char **err_r)
{
        if (!on_wire(l, t))
                return r;
        if (r >= 0)
                (void)wire_flush(l);
        if (!l->wire_error)
                return r;
        if (err_r) {
                free(*err_r);
                *err_r = TAKE_PTR(l->wire_err);
        }
        return l->wire_error;
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

/* How run_logged() runs a step. */
enum run_mode {
        RUN_REQUEST,     /* outside any transaction */
        RUN_LOCKED,      /* in one, after other handles' on the same lock */
        RUN_BESIDE_LOCK, /* in one that touches nothing theirs do: no need to wait */
};

struct run {
        enum run_mode mode;
        step_fn before; /* outside the transaction, before each attempt of it; NULL none */
        step_fn step;
        const void *userdata;
};

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

/*
 * The before step of an attempt: its requests, each whole alone, sent ahead over the wire when
 * there is one; through libxenstore without, or again when the wire fails (so the step must
 * bear running twice).
 */
static int run_before(struct layout *l, const struct run *run, char **err_r)
{
        int r;

        if (l->wire) {
                wire_reset(l);
                l->wire_unbound = true;
                r = run->before(l, XBT_NULL, run->userdata, err_r);
                /* Sent after a failure too: nothing may stay queued for the next transaction. */
                if (r < 0)
                        (void)wire_flush(l);
                r = wire_settle(l, XBT_NULL, r, err_r);
                l->wire_unbound = false;
                if (r >= 0 || !wire_drop_broken(l))
                        return r;
                if (err_r)
                        *err_r = (free(*err_r), NULL);
        }
        return run->before(l, XBT_NULL, run->userdata, err_r);
}

/*
 * Run the step inside one transaction and commit it; on EAGAIN (another client touched what we
 * touched) run it again from scratch, its before step too, at most LAYOUT_MAX_ATTEMPTS times
 * with a growing pause. Any other failure aborts the transaction, so nothing of a failed step
 * stays in XenStore.
 */
static int run_transaction_unlocked(struct layout *l, const struct run *run, char **err_r)
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
                if (run->before) {
                        r = run_before(l, run, err_r);
                        if (r < 0)
                                return r;
                }
                r = x_transaction_start(l, &t);
                if (r < 0)
                        return err_setf(err_r, r, "cannot start a XenStore transaction: %s",
                                        strerror(-r));
                r = wire_settle(l, t, run->step(l, t, run->userdata, err_r), err_r);
                if (r < 0) {
                        x_transaction_end(l, t, true);
                        /* The wire failed before the commit: again, through libxenstore. */
                        if (r != -EAGAIN && !wire_drop_broken(l))
                                return r;
                        /* Retried: the message of this attempt no longer applies. */
                        if (err_r)
                                *err_r = (free(*err_r), NULL);
                        continue;
                }
                r = x_transaction_end(l, t, false);
                /* Failed at the commit, it may have been applied: no retry, a failure. */
                (void)wire_drop_broken(l);
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

static int run_transaction(struct layout *l, const struct run *run, char **err_r)
{
        bool lock = run->mode == RUN_LOCKED && l->lock_fd >= 0;
        int r;

        /* Other handles on the same lock (build children) wait: their transactions under shared
         * parents (a backend directory) would conflict. */
        if (lock && flock(l->lock_fd, LOCK_EX) < 0)
                return err_setf(err_r, -errno, "cannot take the XenStore lock: %s",
                                strerror(errno));
        r = run_transaction_unlocked(l, run, err_r);
        if (lock)
                (void)flock(l->lock_fd, LOCK_UN);
        return r;
}

/* Run a step, in a transaction or as single requests; its debug line, its message prefixed. */
static int run_logged(struct layout *l, const char *what, const struct run *run, char **err_r)
{
        /* Every step passes here, so each gets its debug line (common/debug.h). */
        bool debug = debug_enabled();
        bool transaction = run->mode != RUN_REQUEST;
        uint64_t requests = l->requests, start = debug ? debug_now_ms() : 0;
        int r = transaction ? run_transaction(l, run, err_r)
                            : run->step(l, XBT_NULL, run->userdata, err_r);

        if (debug)
                debug_printf("XenStore %s %s: %s (%" PRIu64 " requests, %" PRIu64 " ms)",
                             transaction ? "transaction" : "request", what,
                             r < 0 ? strerror(-r) : "ok", l->requests - requests,
                             debug_now_ms() - start);
        if (r < 0 && err_r) {
                _cleanup_free_ char *inner = TAKE_PTR(*err_r);

                return err_setf(err_r, r, "%s: %s", what, inner ? inner : strerror(-r));
        }
        return r;
}

int run_step(struct layout *l, const char *what, step_fn step, const void *userdata, char **err_r)
{
        const struct run run = { .mode = RUN_LOCKED, .step = step, .userdata = userdata };

        return run_logged(l, what, &run, err_r);
}

int run_request(struct layout *l, const char *what, step_fn step, const void *userdata,
                char **err_r)
{
        const struct run run = { .mode = RUN_REQUEST, .step = step, .userdata = userdata };

        return run_logged(l, what, &run, err_r);
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
        for (size_t i = 0; i < p->n_clear; i++)
                free(p->clear[i]);
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

/* Append a formatted path to one of p's lists of up to max; a failure is kept in p->error. */
_printf_(5, 0) static void plan_add_path(struct plan *p, char **list, size_t *n, size_t max,
                                         const char *fmt, va_list ap)
{
        if (p->error < 0)
                return;
        if (*n == max) {
                p->error = -E2BIG; /* a plan built here never has more */
                return;
        }
        if (vasprintf(&list[*n], fmt, ap) < 0) {
                p->error = -ENOMEM;
                return;
        }
        (*n)++;
}

_printf_(2, 3) void plan_remove(struct plan *p, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        plan_add_path(p, p->remove, &p->n_remove, ELEMENTSOF(p->remove), fmt, ap);
        va_end(ap);
}

_printf_(2, 3) void plan_clear(struct plan *p, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        plan_add_path(p, p->clear, &p->n_clear, ELEMENTSOF(p->clear), fmt, ap);
        va_end(ap);
}

_printf_(2, 3) void plan_guard(struct plan *p, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        plan_add_path(p, p->guard, &p->n_guard, ELEMENTSOF(p->guard), fmt, ap);
        va_end(ap);
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

/* The length of the path of nodes[j]'s parent. */
static size_t parent_length(const struct plan *p, size_t j)
{
        const char *slash = strrchr(p->nodes[j].path, '/');

        return slash ? (size_t)(slash - p->nodes[j].path) : 0;
}

/*
 * How many nodes from nodes[j] on are leaves of one parent with one access: created while the
 * parent has their ACL, they inherit it and need no request of their own to set it.
 */
static size_t leaf_run(const struct plan *p, size_t j)
{
        size_t len = parent_length(p, j), k = 0;

        while (j + k < p->n && parent_length(p, j + k) == len &&
               strncmp(p->nodes[j + k].path, p->nodes[j].path, len) == 0 &&
               p->nodes[j + k].access == p->nodes[j].access && !has_children(p, j + k))
                k++;
        return k;
}

/* Whether nodes[i] is created by a write of its own, not by its first child's. */
static bool written_explicitly(const struct plan *p, size_t i)
{
        const struct plan_node *n = &p->nodes[i];

        return n->value || n->access != inherited_access(p, i) || !has_children(p, i);
}

/* Whether the parent of nodes[j] exists once the nodes before j are written. */
static bool parent_exists(const struct plan *p, size_t j)
{
        size_t len = parent_length(p, j);

        for (size_t m = 0; m < j; m++) {
                const char *path = p->nodes[m].path;

                if (strncmp(path, p->nodes[j].path, len) != 0)
                        continue;
                if (path[len] == '/' || (path[len] == '\0' && written_explicitly(p, m)))
                        return true;
        }
        return false;
}

/* Whether path is one of the subtrees p clears: it exists, empty, before the transaction. */
static bool is_cleared(const struct plan *p, const char *path)
{
        for (size_t i = 0; i < p->n_clear; i++)
                if (strcmp(p->clear[i], path) == 0)
                        return true;
        return false;
}

static int write_node(struct layout *l, xs_transaction_t t, const struct plan *p,
                      const struct plan_node *n, char **err_r)
{
        int r;

        if (!n->value && is_cleared(p, n->path))
                return 0;
        r = n->value ? x_write(l, t, n->path, n->value) : x_mkdir(l, t, n->path);

        return r < 0 ? err_setf(err_r, r, "cannot write %s: %s", n->path, strerror(-r)) : 0;
}

static int set_access(struct layout *l, xs_transaction_t t, const struct plan *p, const char *path,
                      enum layout_access access, char **err_r)
{
        struct xs_permissions perms[LAYOUT_ACL_MAX];
        unsigned np;
        int r = layout_acl_build(p->domid, access, perms, &np);

        if (r < 0)
                return err_setf(err_r, r, "cannot build the ACL of %s", path);
        r = x_set_perms(l, t, path, perms, np);
        if (r < 0)
                return err_setf(err_r, r, "cannot set the permissions of %s: %s", path,
                                strerror(-r));
        return 0;
}

/*
 * Write the k leaves from nodes[j] on while their parent (which exists) has their ACL, then give
 * it back its own, final: one transaction, so nobody sees the parent between.
 */
static int write_leaf_run(struct layout *l, xs_transaction_t t, const struct plan *p, size_t j,
                          size_t k, enum layout_access parent_access, char **err_r)
{
        char parent[XENSTORE_ABS_PATH_MAX + 1];
        int r;

        snprintf(parent, sizeof(parent), "%.*s", (int)parent_length(p, j), p->nodes[j].path);
        r = set_access(l, t, p, parent, p->nodes[j].access, err_r);
        for (size_t m = j; r >= 0 && m < j + k; m++)
                r = write_node(l, t, p, &p->nodes[m], err_r);
        if (r >= 0)
                r = set_access(l, t, p, parent, parent_access, err_r);
        return r;
}

/*
 * The leaves that follow nodes[i] when they are its children with an access other than its:
 * written inside its own ACL's setting (k + 2 requests for i's creation, its ACL and theirs,
 * against 2k + 2 for each setting its own); 0 when that does not pay.
 */
static size_t run_after_parent(const struct plan *p, size_t i)
{
        size_t k;

        if (i + 1 >= p->n || p->nodes[i].access == inherited_access(p, i) ||
            !path_is_below(p->nodes[i].path, p->nodes[i + 1].path) ||
            parent_length(p, i + 1) != strlen(p->nodes[i].path) ||
            p->nodes[i + 1].access == p->nodes[i].access)
                return 0;
        k = leaf_run(p, i + 1);
        return k >= 2 ? k : 0;
}

/*
 * The leaves from nodes[j] on that take their access from their parent, which exists by then:
 * k + 2 requests against 2k; 0 when that does not pay.
 */
static size_t run_under_parent(const struct plan *p, size_t j)
{
        size_t k;

        if (p->nodes[j].access == inherited_access(p, j) || !parent_exists(p, j))
                return 0;
        k = leaf_run(p, j);
        return k >= 3 ? k : 0;
}

/* Remove each of the n subtrees at paths. */
static int remove_paths(struct layout *l, xs_transaction_t t, char *const *paths, size_t n,
                        char **err_r)
{
        for (size_t i = 0; i < n; i++) {
                int r = x_rm(l, t, paths[i]);

                if (r < 0)
                        return err_setf(err_r, r, "cannot remove %s: %s", paths[i], strerror(-r));
        }
        return 0;
}

/* Send a plan inside transaction t with as few requests as xenstored's inheritance allows. */
int plan_execute(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        const struct plan *p = userdata;
        int r;

        r = remove_paths(l, t, p->remove, p->n_remove, err_r);
        if (r < 0)
                return r;

        for (size_t i = 0; i < p->n; i++) {
                const struct plan_node *n = &p->nodes[i];
                enum layout_access inherited = inherited_access(p, i);
                size_t k = run_under_parent(p, i);

                if (k > 0) {
                        r = write_leaf_run(l, t, p, i, k, inherited, err_r);
                        i += k - 1;
                } else if ((k = run_after_parent(p, i)) > 0) {
                        r = write_node(l, t, p, n, err_r);
                        if (r >= 0)
                                r = write_leaf_run(l, t, p, i + 1, k, n->access, err_r);
                        i += k;
                } else {
                        /* A directory with children is made, with its ACL, by its first child. */
                        r = written_explicitly(p, i) ? write_node(l, t, p, n, err_r) : 0;
                        if (r >= 0 && n->access != inherited)
                                r = set_access(l, t, p, n->path, n->access, err_r);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Whether nodes[m] has the parent nodes[i] has. */
static bool same_parent(const struct plan *p, size_t i, size_t m)
{
        size_t len = parent_length(p, i);

        return parent_length(p, m) == len && strncmp(p->nodes[m].path, p->nodes[i].path, len) == 0;
}

/*
 * The least that giving nodes[i]'s siblings of its access their ACL through their parent takes,
 * beside their writes: 1 when the parent sets an ACL of its own anyway, 2 when a node below it
 * of its access can create it first, else 3.
 */
static uint64_t parent_route_cost(const struct plan *p, size_t i)
{
        size_t len = parent_length(p, i);
        enum layout_access parent_access = inherited_access(p, i);
        uint64_t cost = 3;

        for (size_t m = 0; m < p->n; m++) {
                const char *path = p->nodes[m].path;

                if (strncmp(path, p->nodes[i].path, len) != 0)
                        continue;
                if (path[len] == '\0' && p->nodes[m].access != inherited_access(p, m))
                        return 1;
                if (path[len] == '/' && p->nodes[m].access == parent_access)
                        cost = 2;
        }
        return cost;
}

/*
 * The fewest requests any order of p's writes needs, whatever this executor does: a lower bound
 * from what xenstored offers (one node per write, a new node takes its parent's ACL, and an ACL
 * is set on one node at a time):
 *   - the transaction's start and end, one request per removal, and two per cleared subtree
 *     (its removal and its creation, before the transaction);
 *   - one per node with a value, per empty leaf, and per directory whose own ACL its children
 *     must inherit (it exists before they do);
 *   - for the nodes whose ACL is not their parent's, per (parent, ACL) group of k siblings: k
 *     settings of their own, or the parent set to theirs and back, whichever is less: the
 *     parent's setting back is free when the parent sets an ACL of its own anyway (1), it needs
 *     a node of the parent's ACL written first to exist (2), or a creation of its own (3).
 */
uint64_t plan_floor(const struct plan *p)
{
        uint64_t floor = 2 + p->n_remove + 2 * p->n_clear;

        for (size_t i = 0; i < p->n; i++) {
                const struct plan_node *n = &p->nodes[i];
                bool own_acl = n->access != inherited_access(p, i);
                size_t k = 0;
                bool first = true;

                /* A cleared directory was made by its clear, counted above. */
                if (n->value || ((!has_children(p, i) || own_acl) && !is_cleared(p, n->path)))
                        floor++;
                if (!own_acl)
                        continue;
                for (size_t m = 0; m < p->n; m++)
                        if (same_parent(p, i, m) && p->nodes[m].access == n->access &&
                            p->nodes[m].access != inherited_access(p, m)) {
                                first = first && m >= i;
                                k++;
                        }
                /* The group is counted once, at its first member. */
                if (first)
                        floor += MIN((uint64_t)k, parent_route_cost(p, i));
        }
        return floor;
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

/* Step, outside any transaction: each subtree p clears removed, then made again, empty. */
static int clear_step(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        const struct plan *p = userdata;
        int r = remove_paths(l, t, p->clear, p->n_clear, err_r);

        for (size_t i = 0; r >= 0 && i < p->n_clear; i++) {
                r = x_mkdir(l, t, p->clear[i]);
                if (r < 0)
                        return err_setf(err_r, r, "cannot create %s: %s", p->clear[i],
                                        strerror(-r));
        }
        return r;
}

/* Step, outside any transaction: the subtrees p clears taken away, after its failure. */
static int unclear_step(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        const struct plan *p = userdata;

        return remove_paths(l, t, p->clear, p->n_clear, err_r);
}

int plan_run(struct layout *l, struct plan *p, step_fn step, const char *what, char **err_r)
{
        const struct run beside = {
                .mode = RUN_BESIDE_LOCK, .before = clear_step, .step = step, .userdata = p
        };
        int r;

        if (p->error < 0)
                return err_setf(err_r, p->error, "%s: cannot build the request plan: %s", what,
                                strerror(-p->error));
        if (p->n_clear == 0)
                return run_step(l, what, step, p, err_r);
        /*
         * xenstored fails a transaction when a node it read or wrote changed meanwhile: making a
         * child of /local/domain or /vm inside it is such a change to theirs. Made before, one
         * atomic request each (again at each attempt: what a conflicting client wrote into them
         * goes), they leave the transaction nothing another domain's touches.
         */
        r = run_logged(l, what, &beside, err_r);
        if (r < 0)
                (void)run_request(l, what, unclear_step, p, NULL);
        return r;
}

void plan_donep(struct plan *p)
{
        plan_done(p);
}
