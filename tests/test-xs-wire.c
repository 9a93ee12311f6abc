/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-xs-wire.c — the pipelined XenStore connection (layout/xs-wire.c) against xensup-sim's
 * server, read back through the real libxenstore: requests sent ahead apply in order, a
 * failure names its request, transactions commit and abort, long directories come in parts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xenstore.h>

#include "common/macros.h"
#include "layout/sim-child.h"
#include "layout/xs-wire.h"
#include "tests/xs-test.h"

struct fixture {
        struct sim_child sim;
        struct xs_wire *w;
        struct xs_handle *xs; /* libxenstore's view */
};

static int setup(void **state)
{
        const char *build = getenv("XENSUP_BUILD");
        char sim[512];
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(sim, sizeof(sim), "%s/xensup-sim", build ? build : "build");
        assert_int_equal(sim_child_start(&f->sim, sim, false), 0);
        assert_int_equal(xs_wire_open(&f->w), 0);
        f->xs = xs_open(XS_OPEN_SOCKETONLY);
        assert_non_null(f->xs);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        xs_wire_close(f->w);
        xs_close(f->xs);
        sim_child_stop(&f->sim);
        free(f);
        return 0;
}

static void queue_str(struct xs_wire *w, uint32_t type, uint32_t tx, const char *path,
                      const char *value)
{
        assert_int_equal(xs_wire_queue(w, type, tx, path, value, value ? strlen(value) : 0), 0);
}

static uint32_t start(struct xs_wire *w)
{
        _cleanup_free_ char *id = NULL;
        size_t len;

        assert_int_equal(xs_wire_call(w, XS_TRANSACTION_START, XBT_NULL, "", NULL, 0, &id, &len),
                         0);
        return (uint32_t)strtoul(id, NULL, 10);
}

static int end(struct xs_wire *w, uint32_t tx, bool commit)
{
        return xs_wire_call(w, XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL, 0, NULL, NULL);
}

static void assert_value(struct fixture *f, const char *path, const char *want)
{
        _cleanup_free_ char *v = xs_test_read(f->xs, path);

        if (!want) {
                assert_null(v);
                return;
        }
        assert_non_null(v);
        assert_string_equal(v, want);
}

/* Requests sent ahead apply in order; values, mkdir and ACLs read back as libxenstore sees them. */
static void test_queued_requests_apply(void **state)
{
        struct fixture *f = *state;
        struct xs_wire_failure fail = { 0 };
        char acl[LAYOUT_ACL_STRLEN];
        static const char perms[] = "n0\0r5";

        queue_str(f->w, XS_WRITE, XBT_NULL, "/t/a", "one");
        queue_str(f->w, XS_WRITE, XBT_NULL, "/t/a", "two");
        queue_str(f->w, XS_MKDIR, XBT_NULL, "/t/dir", NULL);
        assert_int_equal(
            xs_wire_queue(f->w, XS_SET_PERMS, XBT_NULL, "/t/dir", perms, sizeof(perms)), 0);
        queue_str(f->w, XS_RM, XBT_NULL, "/t/absent", NULL);
        assert_false(xs_wire_idle(f->w));
        /* Nothing is sent before the flush. */
        assert_value(f, "/t/a", NULL);
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        assert_true(xs_wire_idle(f->w));
        assert_value(f, "/t/a", "two");
        assert_value(f, "/t/dir", "");
        xs_test_acl(f->xs, "/t/dir", acl);
        assert_string_equal(acl, "n0,r5");
}

/* The first failing request is named, and the ones after it still run (outside a transaction). */
static void test_failure_names_request(void **state)
{
        struct fixture *f = *state;
        struct xs_wire_failure fail = { 0 };
        static const char perms[] = "n0";

        queue_str(f->w, XS_WRITE, XBT_NULL, "/t/first", "1");
        assert_int_equal(
            xs_wire_queue(f->w, XS_SET_PERMS, XBT_NULL, "/t/missing", perms, sizeof(perms)), 0);
        queue_str(f->w, XS_WRITE, XBT_NULL, "bad path!", "x");
        queue_str(f->w, XS_WRITE, XBT_NULL, "/t/last", "3");
        assert_int_equal(xs_wire_flush(f->w, &fail), -ENOENT);
        assert_int_equal(fail.type, XS_SET_PERMS);
        assert_string_equal(fail.path, "/t/missing");
        assert_value(f, "/t/first", "1");
        assert_value(f, "/t/last", "3");
        /* The connection is still in step: a call after it gets its own reply. */
        assert_false(xs_wire_broken(f->w));
        queue_str(f->w, XS_WRITE, XBT_NULL, "/t/again", "4");
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        assert_value(f, "/t/again", "4");
}

/* Inside a transaction: a read sees what was sent ahead, the commit applies it all, abort none. */
static void test_transaction(void **state)
{
        struct fixture *f = *state;
        struct xs_wire_failure fail = { 0 };
        _cleanup_free_ char *v = NULL;
        size_t len;
        uint32_t tx = start(f->w);

        queue_str(f->w, XS_WRITE, tx, "/t/x", "in tx");
        /* A call must wait for what is queued. */
        assert_int_equal(xs_wire_call(f->w, XS_READ, tx, "/t/x", NULL, 0, &v, &len), -EBUSY);
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        assert_int_equal(xs_wire_call(f->w, XS_READ, tx, "/t/x", NULL, 0, &v, &len), 0);
        assert_int_equal(len, 5);
        assert_string_equal(v, "in tx");
        assert_value(f, "/t/x", NULL);
        assert_int_equal(end(f->w, tx, true), 0);
        assert_value(f, "/t/x", "in tx");

        tx = start(f->w);
        queue_str(f->w, XS_WRITE, tx, "/t/y", "dropped");
        queue_str(f->w, XS_RM, tx, "/t/x", NULL);
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        assert_int_equal(end(f->w, tx, false), 0);
        assert_value(f, "/t/y", NULL);
        assert_value(f, "/t/x", "in tx");
}

/* Another client's write to what the transaction touched: the commit says EAGAIN. */
static void test_conflict(void **state)
{
        struct fixture *f = *state;
        struct xs_wire_failure fail = { 0 };
        uint32_t tx = start(f->w);

        queue_str(f->w, XS_WRITE, tx, "/t/c", "ours");
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        assert_true(xs_write(f->xs, XBT_NULL, "/t/c", "theirs", 6));
        assert_int_equal(end(f->w, tx, true), -EAGAIN);
        assert_value(f, "/t/c", "theirs");
}

/* A directory too long for one reply comes in parts, with every name, as libxenstore lists it. */
static void test_long_directory(void **state)
{
        struct fixture *f = *state;
        struct xs_wire_failure fail = { 0 };
        _cleanup_free_ char *names = NULL;
        char **want;
        unsigned n_want;
        size_t len, off = 0, k = 0;
        char path[128];

        for (unsigned i = 0; i < 300; i++) {
                snprintf(path, sizeof(path), "/t/long/child-with-a-long-name-%04u", i);
                if (xs_wire_queue(f->w, XS_WRITE, XBT_NULL, path, "v", 1) == -ENOBUFS) {
                        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
                        queue_str(f->w, XS_WRITE, XBT_NULL, path, "v");
                }
        }
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        /* More than one reply's worth. */
        assert_int_equal(
            xs_wire_call(f->w, XS_DIRECTORY, XBT_NULL, "/t/long", NULL, 0, &names, &len), -E2BIG);
        assert_int_equal(xs_wire_directory(f->w, XBT_NULL, "/t/long", &names, &len), 0);
        want = xs_directory(f->xs, XBT_NULL, "/t/long", &n_want);
        assert_non_null(want);
        assert_int_equal(n_want, 300);
        while (off < len) {
                assert_true(k < n_want);
                assert_string_equal(names + off, want[k]);
                off += strlen(names + off) + 1;
                k++;
        }
        assert_int_equal(k, n_want);
        free(want);

        /* An empty directory: no names. */
        names = (free(names), NULL);
        queue_str(f->w, XS_MKDIR, XBT_NULL, "/t/empty", NULL);
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        assert_int_equal(xs_wire_directory(f->w, XBT_NULL, "/t/empty", &names, &len), 0);
        assert_int_equal(len, 0);
}

/* A full queue says so rather than growing; an over-long body is refused before it is sent. */
static void test_bounds(void **state)
{
        struct fixture *f = *state;
        struct xs_wire_failure fail = { 0 };
        static char big[XENSTORE_PAYLOAD_MAX + 1];
        unsigned queued = 0;
        int r;

        memset(big, 'x', sizeof(big));
        assert_int_equal(xs_wire_queue(f->w, XS_WRITE, XBT_NULL, "/t/big", big, sizeof(big)),
                         -E2BIG);
        while ((r = xs_wire_queue(f->w, XS_WRITE, XBT_NULL, "/t/n", "v", 1)) == 0)
                queued++;
        assert_int_equal(r, -ENOBUFS);
        assert_true(queued >= 16);
        assert_int_equal(xs_wire_flush(f->w, &fail), 0);
        assert_value(f, "/t/n", "v");
}

/* A connection that went away fails what follows, and says it is broken. */
static void test_shutdown(void **state)
{
        struct fixture *f = *state;
        struct xs_wire_failure fail = { 0 };

        queue_str(f->w, XS_WRITE, XBT_NULL, "/t/lost", "v");
        xs_wire_shutdown(f->w);
        assert_true(xs_wire_flush(f->w, &fail) < 0);
        assert_true(xs_wire_broken(f->w));
        assert_int_equal(xs_wire_queue(f->w, XS_WRITE, XBT_NULL, "/t/lost", "v", 1), -ENOTCONN);
}

/* With no xenstored socket there is no wire (the caller keeps libxenstore). */
static void test_no_socket(void **state)
{
        struct fixture *f = *state;
        struct xs_wire *w = NULL;
        _cleanup_free_ char *saved = strdup(getenv("XENSTORED_PATH"));

        (void)f;
        assert_non_null(saved);
        setenv("XENSTORED_PATH", "/nonexistent/xenstored-socket", 1);
        assert_true(xs_wire_open(&w) < 0);
        assert_null(w);
        setenv("XENSTORED_PATH", saved, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_queued_requests_apply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_names_request, setup, teardown),
                cmocka_unit_test_setup_teardown(test_transaction, setup, teardown),
                cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
                cmocka_unit_test_setup_teardown(test_long_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
