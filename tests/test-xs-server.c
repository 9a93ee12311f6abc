/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The embedded XenStore server (build/xensup-sim, one child for the whole
 * run) through the real libxenstore (XENSTORED_PATH) and, for malformed
 * input, a raw socket speaking xs_wire by hand: every operation, watches as
 * xenstored fires them, racing and aborted transactions, guest permissions
 * and quotas through CONTROL sim-as-domain, INTRODUCE/RELEASE and the special
 * watches, and bad clients that must not hurt anyone else. Each test works
 * under its own /test-<name> subtree. The child must exit 0 on SIGTERM (so an
 * ASan build of it reports leaks as a failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "common/macros.h"
#include "sim/xs-server.h"

/* ---- fixture: one xensup-sim for the run ---- */

static char tmpdir[64];
static char sockpath[128];
static pid_t sim_pid = -1;

static int connect_raw(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (strlen(sockpath) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, sockpath, strlen(sockpath) + 1);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

static int start_sim(void **state)
{
        const char *build = getenv("XENSUP_BUILD");
        char bin[512];

        (void)state;
        snprintf(bin, sizeof(bin), "%s/xensup-sim", build ? build : "build");
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-xs-server.XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        snprintf(sockpath, sizeof(sockpath), "%s/xenstored.socket", tmpdir);
        sim_pid = fork();
        if (sim_pid < 0)
                return -1;
        if (sim_pid == 0) {
                execl(bin, bin, "--dir", tmpdir, "--xenstore-only", (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 1000; i++) {
                int fd = connect_raw();

                if (fd >= 0) {
                        close(fd);
                        setenv("XENSTORED_PATH", sockpath, 1);
                        return 0;
                }
                usleep(10000);
        }
        return -1;
}

static int stop_sim(void **state)
{
        char path[256];
        int status = 0;

        (void)state;
        if (sim_pid > 0) {
                kill(sim_pid, SIGTERM);
                waitpid(sim_pid, &status, 0);
        }
        snprintf(path, sizeof(path), "%s/xensup-sim.pid", tmpdir);
        /* A clean exit removes the socket and the pid file. */
        if (access(sockpath, F_OK) == 0 || access(path, F_OK) == 0)
                status = -1;
        unlink(sockpath);
        unlink(path);
        rmdir(tmpdir);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void xs_closep(struct xs_handle **h)
{
        if (*h)
                xs_close(*h);
}
#define _cleanup_xs_ _cleanup_(xs_closep)

static struct xs_handle *open_dom0(void)
{
        struct xs_handle *h = xs_open(0);

        assert_non_null(h);
        return h;
}

/* A libxenstore connection turned into guest domid for good. */
static struct xs_handle *open_guest(unsigned domid)
{
        struct xs_handle *h = open_dom0();
        char arg[16];
        char *ok;

        snprintf(arg, sizeof(arg), "%u", domid);
        ok = xs_control_command(h, "sim-as-domain", arg, strlen(arg));
        assert_non_null(ok);
        assert_string_equal(ok, "OK");
        free(ok);
        return h;
}

static char *read_str(struct xs_handle *h, xs_transaction_t t, const char *path)
{
        unsigned len = 0;

        return xs_read(h, t, path, &len);
}

static void assert_read(struct xs_handle *h, const char *path, const char *expected)
{
        _cleanup_free_ char *v = read_str(h, XBT_NULL, path);

        assert_non_null(v);
        assert_string_equal(v, expected);
}

static void assert_read_errno(struct xs_handle *h, const char *path, int err)
{
        errno = 0;
        assert_null(read_str(h, XBT_NULL, path));
        assert_int_equal(errno, err);
}

static void assert_write(struct xs_handle *h, const char *path, const char *value)
{
        assert_true(xs_write(h, XBT_NULL, path, value, strlen(value)));
}

static void assert_write_errno(struct xs_handle *h, const char *path, const char *value, int err)
{
        errno = 0;
        assert_false(xs_write(h, XBT_NULL, path, value, strlen(value)));
        assert_int_equal(errno, err);
}

/* Perms as the text xenstore-ls prints: "n0,r5". */
static void assert_perms(struct xs_handle *h, const char *path, const char *expected)
{
        static const char letters[] = "nrwb";
        _cleanup_free_ struct xs_permissions *p = NULL;
        char buf[256] = "";
        unsigned n = 0;

        p = xs_get_permissions(h, XBT_NULL, path, &n);
        assert_non_null(p);
        for (unsigned i = 0; i < n; i++)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%c%u", i ? "," : "",
                         letters[p[i].perms & 3], p[i].id);
        assert_string_equal(buf, expected);
}

static void set_perms(struct xs_handle *h, const char *path, const char *text)
{
        struct xs_permissions p[8];
        unsigned n = 0;
        _cleanup_free_ char *copy = strdup(text);

        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","), n++) {
                assert_true(xs_strings_to_perms(&p[n], 1, tok));
        }
        assert_true(xs_set_permissions(h, XBT_NULL, path, p, n));
}

/* Requests served: by everyone, and by this connection (the sim-stats request included). */
static void stats(struct xs_handle *h, unsigned long long *global, unsigned long long *conn)
{
        _cleanup_free_ char *s = xs_control_command(h, "sim-stats", (char *)"", 1);

        assert_non_null(s);
        assert_int_equal(sscanf(s, "global=%llu conn=%llu", global, conn), 2);
}

/* ---- watch helpers ---- */

/* The next watch event within ms, or false. */
static bool next_event(struct xs_handle *h, int ms, char *path, size_t plen, char *token,
                       size_t tlen)
{
        struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
        char **vec;
        unsigned num;

        if (poll(&p, 1, ms) <= 0)
                return false;
        vec = xs_read_watch(h, &num);
        if (!vec)
                return false;
        snprintf(path, plen, "%s", vec[XS_WATCH_PATH]);
        snprintf(token, tlen, "%s", vec[XS_WATCH_TOKEN]);
        free(vec);
        return true;
}

static void expect_event(struct xs_handle *h, const char *path, const char *token)
{
        char p[4096], t[256];

        assert_true(next_event(h, 2000, p, sizeof(p), t, sizeof(t)));
        assert_string_equal(p, path);
        assert_string_equal(t, token);
}

static void expect_no_event(struct xs_handle *h)
{
        char p[4096], t[256];

        if (next_event(h, 200, p, sizeof(p), t, sizeof(t)))
                fail_msg("unexpected watch event %s (token %s)", p, t);
}

/* ---- raw socket helpers ---- */

static void raw_send(int fd, uint32_t type, uint32_t tx, const void *data, uint32_t len)
{
        struct xsd_sockmsg h = { .type = type, .req_id = 77, .tx_id = tx, .len = len };

        assert_int_equal(send(fd, &h, sizeof(h), MSG_NOSIGNAL), (ssize_t)sizeof(h));
        if (len)
                assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static int read_full(int fd, void *buf, size_t len, int ms)
{
        size_t got = 0;

        while (got < len) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;

                if (poll(&p, 1, ms) <= 0)
                        return -ETIMEDOUT;
                n = read(fd, (char *)buf + got, len - got);
                if (n == 0)
                        return -EPIPE;
                if (n < 0)
                        return -errno;
                got += n;
        }
        return 0;
}

/* The next message that is not a watch event; its payload NUL-terminated in buf. */
static uint32_t raw_reply(int fd, char *buf, size_t size)
{
        for (;;) {
                struct xsd_sockmsg h;

                assert_int_equal(read_full(fd, &h, sizeof(h), 5000), 0);
                assert_true(h.len < size);
                assert_int_equal(read_full(fd, buf, h.len, 5000), 0);
                buf[h.len] = 0;
                if (h.type != XS_WATCH_EVENT) {
                        assert_int_equal(h.req_id, 77);
                        return h.type;
                }
        }
}

static void raw_expect_error(int fd, const char *err)
{
        char buf[XENSTORE_PAYLOAD_MAX + 1];

        assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_ERROR);
        assert_string_equal(buf, err);
}

/* The server closes fd: reading drains to EOF (or a reset). */
static void raw_expect_closed(int fd)
{
        char buf[65536];

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;

                assert_int_equal(poll(&p, 1, 5000), 1);
                n = read(fd, buf, sizeof(buf));
                if (n == 0 || (n < 0 && errno == ECONNRESET))
                        return;
                assert_true(n > 0);
        }
}

/* Another client still gets served and finds its data as it left it. */
static void assert_server_healthy(const char *path, const char *value)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();

        assert_read(h, path, value);
        assert_write(h, "/test-health/x", "ok");
        assert_read(h, "/test-health/x", "ok");
}

/* ---- basic operations ---- */

static void test_read_write_mkdir_rm(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_free_ char **dir = NULL;
        _cleanup_free_ char *path = NULL;
        unsigned n = 0;

        (void)state;
        assert_write(h, "/test-ops/a/b/c", "value");
        assert_read(h, "/test-ops/a/b/c", "value");
        /* Implicit parents exist, empty, inheriting dom0's perms. */
        assert_read(h, "/test-ops/a/b", "");
        assert_perms(h, "/test-ops/a", "n0");
        assert_true(xs_write(h, XBT_NULL, "/test-ops/bin", "a\0b", 3));
        {
                unsigned len = 0;
                _cleanup_free_ char *v = xs_read(h, XBT_NULL, "/test-ops/bin", &len);

                assert_int_equal(len, 3);
                assert_memory_equal(v, "a\0b", 3);
        }
        assert_true(xs_mkdir(h, XBT_NULL, "/test-ops/d"));
        assert_read(h, "/test-ops/d", "");
        assert_write(h, "/test-ops/d", "kept");
        assert_true(xs_mkdir(h, XBT_NULL, "/test-ops/d")); /* existing: untouched */
        assert_read(h, "/test-ops/d", "kept");

        dir = xs_directory(h, XBT_NULL, "/test-ops", &n);
        assert_non_null(dir);
        assert_int_equal(n, 3);
        assert_string_equal(dir[0], "a");
        assert_string_equal(dir[1], "bin");
        assert_string_equal(dir[2], "d");

        assert_read_errno(h, "/test-ops/missing", ENOENT);
        assert_true(xs_rm(h, XBT_NULL, "/test-ops/missing")); /* gone already: fine */
        errno = 0;
        assert_false(xs_rm(h, XBT_NULL, "/test-ops/missing/child"));
        assert_int_equal(errno, ENOENT);
        assert_true(xs_rm(h, XBT_NULL, "/test-ops/a"));
        assert_read_errno(h, "/test-ops/a/b/c", ENOENT);
        assert_read_errno(h, "/test-ops/a", ENOENT);
        errno = 0;
        assert_false(xs_rm(h, XBT_NULL, "/"));
        assert_int_equal(errno, EINVAL);

        /* Relative paths are under /local/domain/0; GET_DOMAIN_PATH agrees. */
        assert_write(h, "test-rel", "r");
        assert_read(h, "/local/domain/0/test-rel", "r");
        assert_true(xs_rm(h, XBT_NULL, "test-rel"));
        path = xs_get_domain_path(h, 42);
        assert_non_null(path);
        assert_string_equal(path, "/local/domain/42");

        /* xenstored's own nodes are there from the start. */
        assert_read(h, "/tool/xenstored", "");
        assert_true(xs_rm(h, XBT_NULL, "/test-ops"));
}

static void test_paths_and_limits(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        char path[3200], value[4096];
        size_t plen;

        (void)state;
        assert_write_errno(h, "/test-lim//bad", "x", EINVAL);
        assert_write_errno(h, "/test-lim/bad/", "x", EINVAL);
        assert_write_errno(h, "/test-lim/b!d", "x", EINVAL);
        assert_write_errno(h, "@test-lim", "x", EINVAL);
        assert_write(h, "/test-lim/with@at_and-dash", "x");
        errno = 0;
        assert_false(xs_set_permissions(h, XBT_NULL, "/test-lim/missing",
                                        &(struct xs_permissions){ .id = 0 }, 1));
        assert_int_equal(errno, ENOENT);

        /* 2048 characters are fine, 2049 are not, after /local/domain/<N>/ too. */
        memset(path, 'a', sizeof(path));
        memcpy(path, "/test-lim/", 10);
        path[2048] = 0;
        assert_write(h, path, "x");
        path[2048] = 'a';
        path[2049] = 0;
        assert_write_errno(h, path, "x", EINVAL);
        plen = snprintf(path, sizeof(path), "/local/domain/7/");
        memset(path + plen, 'b', 2048);
        path[plen + 2048] = 0;
        assert_write(h, path, "x");
        path[plen + 2048] = 'b';
        path[plen + 2049] = 0;
        assert_write_errno(h, path, "x", EINVAL);
        assert_true(xs_rm(h, XBT_NULL, "/local/domain/7"));

        /* path + NUL + value up to the 4096-byte payload. */
        memset(value, 'v', sizeof(value));
        plen = strlen("/test-lim/big") + 1;
        assert_true(xs_write(h, XBT_NULL, "/test-lim/big", value, sizeof(value) - plen));
        errno = 0;
        assert_false(xs_write(h, XBT_NULL, "/test-lim/big", value, sizeof(value) - plen + 1));
        assert_int_equal(errno, E2BIG);
        assert_true(xs_rm(h, XBT_NULL, "/test-lim"));
}

static void test_directory_part(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_free_ char **dir = NULL;
        xs_transaction_t t;
        unsigned n = 0;
        char path[64];

        (void)state;
        /* 600 names of 11 bytes: over one payload, so libxenstore walks DIRECTORY_PART. */
        t = xs_transaction_start(h);
        assert_true(t != XBT_NULL);
        for (int i = 0; i < 600; i++) {
                snprintf(path, sizeof(path), "/test-dirpart/node%06d", i);
                assert_true(xs_write(h, t, path, "", 0));
        }
        assert_true(xs_transaction_end(h, t, false));
        dir = xs_directory(h, XBT_NULL, "/test-dirpart", &n);
        assert_non_null(dir);
        assert_int_equal(n, 600);
        for (int i = 0; i < 600; i++) {
                snprintf(path, sizeof(path), "node%06d", i);
                assert_string_equal(dir[i], path);
        }
        assert_true(xs_rm(h, XBT_NULL, "/test-dirpart"));
}

static void test_control(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_free_ char *ok = NULL, *bad = NULL, *quota = NULL;
        unsigned long long g0, c0, g1, c1;

        (void)state;
        ok = xs_control_command(h, "print", (char *)"hello from test-xs-server", 26);
        assert_non_null(ok);
        assert_string_equal(ok, "OK");
        errno = 0;
        bad = xs_control_command(h, "no-such-command", (char *)"", 1);
        assert_null(bad);
        assert_int_equal(errno, EINVAL);
        quota = xs_control_command(h, "quota", (char *)"", 1);
        assert_non_null(quota);
        assert_non_null(strstr(quota, "nodes 1000"));

        stats(h, &g0, &c0);
        for (int i = 0; i < 10; i++)
                assert_read(h, "/tool/xenstored", "");
        stats(h, &g1, &c1);
        assert_int_equal(c1 - c0, 11);
        assert_true(g1 - g0 >= 11);
}

/* ---- watches ---- */

static void test_watch_events(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();

        (void)state;
        assert_true(xs_mkdir(h, XBT_NULL, "/test-watch"));
        /* Fired once at once, even where nothing exists yet. */
        assert_true(xs_watch(h, "/test-watch/w", "tok"));
        expect_event(h, "/test-watch/w", "tok");
        expect_no_event(h);

        /* A write below: one event for the node written, none for implicit parents. */
        assert_write(h, "/test-watch/w/x", "1");
        expect_event(h, "/test-watch/w/x", "tok");
        expect_no_event(h);
        assert_write(h, "/test-watch/w/x/deep", "2");
        expect_event(h, "/test-watch/w/x/deep", "tok");
        /* Outside the watched subtree: nothing. */
        assert_write(h, "/test-watch/other", "3");
        assert_write(h, "/test-watch/wx", "3");
        expect_no_event(h);

        /* A watch on a child fires on its parent's removal, with its own path. */
        assert_true(xs_watch(h, "/test-watch/w/x", "child"));
        expect_event(h, "/test-watch/w/x", "child");
        assert_true(xs_rm(h, XBT_NULL, "/test-watch/w"));
        {
                char p1[256], t1[64], p2[256], t2[64];

                assert_true(next_event(h, 2000, p1, sizeof(p1), t1, sizeof(t1)));
                assert_true(next_event(h, 2000, p2, sizeof(p2), t2, sizeof(t2)));
                if (strcmp(t1, "child") == 0) {
                        assert_string_equal(p1, "/test-watch/w/x");
                        assert_string_equal(p2, "/test-watch/w");
                        assert_string_equal(t2, "tok");
                } else {
                        assert_string_equal(p1, "/test-watch/w");
                        assert_string_equal(t1, "tok");
                        assert_string_equal(p2, "/test-watch/w/x");
                        assert_string_equal(t2, "child");
                }
        }
        expect_no_event(h);

        /* Unwatched: silence; unwatching twice is ENOENT; a duplicate is EEXIST. */
        assert_true(xs_unwatch(h, "/test-watch/w", "tok"));
        assert_true(xs_unwatch(h, "/test-watch/w/x", "child"));
        assert_write(h, "/test-watch/w", "again");
        expect_no_event(h);
        errno = 0;
        assert_false(xs_unwatch(h, "/test-watch/w", "tok"));
        assert_int_equal(errno, ENOENT);
        assert_true(xs_watch(h, "/test-watch/dup", "t"));
        expect_event(h, "/test-watch/dup", "t");
        errno = 0;
        assert_false(xs_watch(h, "/test-watch/dup", "t"));
        assert_int_equal(errno, EEXIST);
        assert_true(xs_unwatch(h, "/test-watch/dup", "t"));

        /* A relative watch reports relative paths. */
        assert_true(xs_watch(h, "test-watch-rel", "rel"));
        expect_event(h, "test-watch-rel", "rel");
        assert_write(h, "/local/domain/0/test-watch-rel/a", "1");
        expect_event(h, "test-watch-rel/a", "rel");
        assert_true(xs_unwatch(h, "test-watch-rel", "rel"));
        assert_true(xs_rm(h, XBT_NULL, "test-watch-rel"));
        assert_true(xs_rm(h, XBT_NULL, "/test-watch"));
}

static void test_watch_other_client_and_perms(void **state)
{
        _cleanup_xs_ struct xs_handle *watcher = open_guest(11);
        _cleanup_xs_ struct xs_handle *h = open_dom0();

        (void)state;
        assert_write(h, "/test-wperm/open", "1");
        set_perms(h, "/test-wperm/open", "n0,r11");
        assert_write(h, "/test-wperm/closed", "1");
        set_perms(h, "/test-wperm", "n0");
        assert_true(xs_watch(watcher, "/test-wperm", "t"));
        expect_event(watcher, "/test-wperm", "t");
        /* A guest hears only about nodes it (or their parent) may read. */
        assert_write(h, "/test-wperm/closed", "2");
        expect_no_event(watcher);
        assert_write(h, "/test-wperm/open", "2");
        expect_event(watcher, "/test-wperm/open", "t");
        assert_true(xs_rm(h, XBT_NULL, "/test-wperm"));
}

static void test_reset_watches(void **state)
{
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_close_ int fd = connect_raw();
        _cleanup_xs_ struct xs_handle *h = open_dom0();

        (void)state;
        assert_true(fd >= 0);
        raw_send(fd, XS_WATCH, 0, "/test-reset\0tok", 16);
        assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_WATCH);
        raw_send(fd, XS_RESET_WATCHES, 0, "", 0);
        assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_RESET_WATCHES);
        assert_write(h, "/test-reset", "x");
        /* Only the initial event may have come; after the reset, no more. */
        raw_send(fd, XS_READ, 0, "/test-reset", 12);
        for (;;) {
                struct xsd_sockmsg m;

                assert_int_equal(read_full(fd, &m, sizeof(m), 5000), 0);
                assert_int_equal(read_full(fd, buf, m.len, 5000), 0);
                if (m.type == XS_READ)
                        break;
                assert_int_equal(m.type, XS_WATCH_EVENT);
                assert_string_equal(buf, "/test-reset"); /* the initial one */
        }
        assert_true(xs_rm(h, XBT_NULL, "/test-reset"));
}

/* ---- transactions ---- */

static void test_transaction_race(void **state)
{
        _cleanup_xs_ struct xs_handle *a = open_dom0();
        _cleanup_xs_ struct xs_handle *b = open_dom0();
        xs_transaction_t ta, tb;
        int retries = 0;

        (void)state;
        assert_write(a, "/test-race/counter", "0");
        ta = xs_transaction_start(a);
        tb = xs_transaction_start(b);
        assert_true(ta != XBT_NULL && tb != XBT_NULL);
        {
                _cleanup_free_ char *va = read_str(a, ta, "/test-race/counter");
                _cleanup_free_ char *vb = read_str(b, tb, "/test-race/counter");

                assert_string_equal(va, "0");
                assert_string_equal(vb, "0");
        }
        assert_true(xs_write(a, ta, "/test-race/counter", "1", 1));
        assert_true(xs_write(b, tb, "/test-race/counter", "1", 1));
        /* Not visible outside before commit. */
        assert_read(a, "/test-race/counter", "0");
        assert_true(xs_transaction_end(a, ta, false));
        errno = 0;
        assert_false(xs_transaction_end(b, tb, false));
        assert_int_equal(errno, EAGAIN);
        /* b retries, now on the new value, and wins. */
        for (;;) {
                _cleanup_free_ char *v = NULL;
                char next[16];

                tb = xs_transaction_start(b);
                v = read_str(b, tb, "/test-race/counter");
                assert_non_null(v);
                snprintf(next, sizeof(next), "%d", atoi(v) + 1);
                assert_true(xs_write(b, tb, "/test-race/counter", next, strlen(next)));
                if (xs_transaction_end(b, tb, false))
                        break;
                assert_int_equal(errno, EAGAIN);
                assert_true(++retries < 5);
        }
        assert_read(a, "/test-race/counter", "2");

        /* A transaction sees its snapshot of what it read, whatever happens outside. */
        ta = xs_transaction_start(a);
        {
                _cleanup_free_ char *v1 = read_str(a, ta, "/test-race/counter");
                _cleanup_free_ char *v2 = NULL;

                assert_write(b, "/test-race/counter", "99");
                v2 = read_str(a, ta, "/test-race/counter");
                assert_string_equal(v1, "2");
                assert_string_equal(v2, "2");
        }
        errno = 0;
        assert_false(xs_transaction_end(a, ta, false));
        assert_int_equal(errno, EAGAIN);

        /* Unrelated nodes do not conflict. */
        ta = xs_transaction_start(a);
        assert_true(xs_write(a, ta, "/test-race/mine", "m", 1));
        assert_write(b, "/test-race/counter", "100");
        assert_true(xs_transaction_end(a, ta, false));
        assert_read(a, "/test-race/mine", "m");
        assert_true(xs_rm(a, XBT_NULL, "/test-race"));
}

static void test_transaction_abort_and_commit(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_xs_ struct xs_handle *w = open_dom0();
        xs_transaction_t t;

        (void)state;
        assert_true(xs_mkdir(h, XBT_NULL, "/test-tx"));
        assert_true(xs_watch(w, "/test-tx", "t"));
        expect_event(w, "/test-tx", "t");

        t = xs_transaction_start(h);
        assert_true(t != XBT_NULL);
        assert_true(xs_write(h, t, "/test-tx/ab/x", "1", 1));
        assert_true(xs_mkdir(h, t, "/test-tx/ab/y"));
        {
                _cleanup_free_ char *v = read_str(h, t, "/test-tx/ab/x");

                assert_string_equal(v, "1");
        }
        assert_true(xs_transaction_end(h, t, true));
        /* Abort leaves nothing: no node, no implicit parent, no event. */
        assert_read_errno(h, "/test-tx/ab/x", ENOENT);
        assert_read_errno(h, "/test-tx/ab", ENOENT);
        expect_no_event(w);

        /* A commit fires its events then, not before. */
        t = xs_transaction_start(h);
        assert_true(xs_write(h, t, "/test-tx/c", "1", 1));
        assert_true(xs_rm(h, t, "/test-tx/c"));
        assert_true(xs_write(h, t, "/test-tx/d", "2", 1));
        expect_no_event(w);
        assert_true(xs_transaction_end(h, t, false));
        assert_read(h, "/test-tx/d", "2");
        assert_read_errno(h, "/test-tx/c", ENOENT);
        expect_event(w, "/test-tx/c", "t");
        expect_event(w, "/test-tx/c", "t");
        expect_event(w, "/test-tx/d", "t");

        /* An unknown transaction id is ENOENT. */
        errno = 0;
        assert_null(read_str(h, 0x7fffffff, "/test-tx/d"));
        assert_int_equal(errno, ENOENT);
        assert_true(xs_rm(h, XBT_NULL, "/test-tx"));
}

/* ---- permissions ---- */

static void test_guest_permissions(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_xs_ struct xs_handle *g = NULL;
        _cleanup_free_ char *denied = NULL;

        (void)state;
        assert_write(h, "/test-perm/secret", "s");
        assert_write(h, "/test-perm/readable", "r");
        assert_write(h, "/test-perm/shared", "b");
        set_perms(h, "/test-perm", "n0");
        set_perms(h, "/test-perm/secret", "n0");
        set_perms(h, "/test-perm/readable", "n0,r5");
        set_perms(h, "/test-perm/shared", "n0,b5");
        assert_true(xs_mkdir(h, XBT_NULL, "/local/domain/5"));
        set_perms(h, "/local/domain/5", "n5");
        g = open_guest(5);

        assert_read_errno(g, "/test-perm/secret", EACCES);
        assert_read_errno(g, "/test-perm/missing", EACCES); /* parent unreadable */
        assert_read(g, "/test-perm/readable", "r");
        assert_write_errno(g, "/test-perm/readable", "x", EACCES);
        assert_write_errno(g, "/test-perm/new", "x", EACCES);
        errno = 0;
        assert_false(xs_rm(g, XBT_NULL, "/test-perm/readable"));
        assert_int_equal(errno, EACCES);
        assert_null(xs_directory(g, XBT_NULL, "/test-perm", &(unsigned){ 0 }));

        /* Granted: it writes, and owns what it creates, keeping the inherited ACL. */
        assert_write(g, "/test-perm/shared", "by-guest");
        assert_read(h, "/test-perm/shared", "by-guest");
        assert_write(g, "/test-perm/shared/child/leaf", "c");
        assert_perms(h, "/test-perm/shared/child/leaf", "n5,b5");
        assert_perms(h, "/test-perm/shared", "n0,b5");
        /* The owner may change perms, but never hand the node to someone else. */
        set_perms(g, "/test-perm/shared/child", "n5,r6");
        errno = 0;
        assert_false(xs_set_permissions(g, XBT_NULL, "/test-perm/shared/child",
                                        &(struct xs_permissions){ .id = 0 }, 1));
        assert_int_equal(errno, EPERM);
        errno = 0;
        assert_false(xs_set_permissions(g, XBT_NULL, "/test-perm/shared",
                                        &(struct xs_permissions){ .id = 0 }, 1));
        assert_int_equal(errno, EACCES);

        /* Its home, through relative paths. */
        assert_write(g, "data/x", "home");
        assert_read(h, "/local/domain/5/data/x", "home");
        assert_perms(h, "/local/domain/5/data/x", "n5");

        /* Privileged operations are dom0's. */
        errno = 0;
        denied = xs_control_command(g, "sim-as-domain", (char *)"0", 1);
        assert_null(denied);
        assert_int_equal(errno, EACCES);
        errno = 0;
        assert_false(xs_introduce_domain(g, 6, 1, 1));
        assert_int_equal(errno, EACCES);
        errno = 0;
        assert_false(xs_is_domain_introduced(g, 0));

        /* dom0 reads and writes everything. */
        assert_write(h, "/test-perm/secret", "s2");
        assert_read(h, "/local/domain/5/data/x", "home");
        assert_true(xs_rm(h, XBT_NULL, "/test-perm"));
        assert_true(xs_rm(h, XBT_NULL, "/local/domain/5"));
}

/* ---- quotas ---- */

static void test_guest_quotas(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_xs_ struct xs_handle *g = NULL;
        xs_transaction_t ts[11];
        char path[64], big[2100];
        int created = 0;

        (void)state;
        assert_true(xs_mkdir(h, XBT_NULL, "/local/domain/6"));
        set_perms(h, "/local/domain/6", "n6");
        g = open_guest(6);

        /* Nodes: 1000 owned, /local/domain/6 being the first. */
        for (int i = 0; i < 1100; i++) {
                snprintf(path, sizeof(path), "n%d", i);
                if (!xs_write(g, XBT_NULL, path, "", 0)) {
                        assert_int_equal(errno, ENOSPC);
                        break;
                }
                created++;
        }
        assert_int_equal(created, 999);
        /* Freeing one makes room for one. */
        assert_true(xs_rm(g, XBT_NULL, "n0"));
        assert_write(g, "again", "");
        assert_write_errno(g, "again2", "", ENOSPC);
        /* In a transaction too: full, then room for one after a removal in it. */
        {
                xs_transaction_t t = xs_transaction_start(g);

                assert_true(t != XBT_NULL);
                errno = 0;
                assert_false(xs_write(g, t, "in-tx", "", 0));
                assert_int_equal(errno, ENOSPC);
                assert_true(xs_rm(g, t, "n1"));
                assert_true(xs_write(g, t, "in-tx", "", 0));
                errno = 0;
                assert_false(xs_write(g, t, "in-tx2", "", 0));
                assert_int_equal(errno, ENOSPC);
                assert_true(xs_transaction_end(g, t, false));
                assert_read(h, "/local/domain/6/in-tx", "");
                assert_read_errno(h, "/local/domain/6/n1", ENOENT);
        }
        /* dom0 has no such quota. */
        assert_write(h, "/local/domain/6/by-dom0", "");

        /* Entry size. */
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert_write_errno(g, "n3", big, ENOSPC);
        assert_write(h, "/local/domain/6/n3", big);

        /* Watches: 128. */
        for (int i = 0; i < 128; i++) {
                snprintf(path, sizeof(path), "w%d", i);
                assert_true(xs_watch(g, path, "t"));
        }
        errno = 0;
        assert_false(xs_watch(g, "w-too-many", "t"));
        assert_int_equal(errno, E2BIG);

        /* Transactions: 10 open at once. */
        for (int i = 0; i < 10; i++) {
                ts[i] = xs_transaction_start(g);
                assert_true(ts[i] != XBT_NULL);
        }
        errno = 0;
        ts[10] = xs_transaction_start(g);
        assert_true(ts[10] == XBT_NULL);
        assert_int_equal(errno, ENOSPC);
        for (int i = 0; i < 10; i++)
                assert_true(xs_transaction_end(g, ts[i], true));

        /* Perms entries: at most 5 for a guest. */
        {
                struct xs_permissions p[6] = { { .id = 6 }, { .id = 1 }, { .id = 2 },
                                               { .id = 3 }, { .id = 4 }, { .id = 5 } };

                errno = 0;
                assert_false(xs_set_permissions(g, XBT_NULL, "n2", p, 6));
                assert_int_equal(errno, ENOSPC);
                assert_true(xs_set_permissions(g, XBT_NULL, "n2", p, 5));
        }
        assert_true(xs_rm(h, XBT_NULL, "/local/domain/6"));
}

/* CONTROL quota DOMID's answer contains want. */
static void assert_domain_quota(struct xs_handle *h, unsigned domid, const char *want)
{
        _cleanup_free_ char *q = NULL;
        char arg[16];

        snprintf(arg, sizeof(arg), "%u", domid);
        q = xs_control_command(h, "quota", arg, strlen(arg));
        assert_non_null(q);
        if (!strstr(q, want))
                fail_msg("quota %u: \"%s\" lacks \"%s\"", domid, q, want);
}

/* Ten transactions, each under the node quota alone, cannot commit past it together. */
static void test_guest_node_quota_at_commit(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_xs_ struct xs_handle *g = NULL;
        xs_transaction_t ts[10];
        char path[64];

        (void)state;
        assert_true(xs_mkdir(h, XBT_NULL, "/local/domain/16"));
        set_perms(h, "/local/domain/16", "n16");
        g = open_guest(16);
        /* One directory each, so that the commits do not conflict. */
        for (int i = 0; i < 10; i++) {
                snprintf(path, sizeof(path), "t%d", i);
                assert_write(g, path, "");
        }
        assert_domain_quota(h, 16, "nodes 11\n");
        for (int i = 0; i < 10; i++) {
                ts[i] = xs_transaction_start(g);
                assert_true(ts[i] != XBT_NULL);
                for (int j = 0; j < 100; j++) {
                        snprintf(path, sizeof(path), "t%d/%d", i, j);
                        assert_true(xs_write(g, ts[i], path, "", 0));
                }
        }
        /* 11 + 9 * 100 fit; the tenth would make 1011. */
        for (int i = 0; i < 9; i++)
                assert_true(xs_transaction_end(g, ts[i], false));
        errno = 0;
        assert_false(xs_transaction_end(g, ts[9], false));
        assert_int_equal(errno, ENOSPC);
        assert_domain_quota(h, 16, "nodes 911\n");
        assert_read(h, "/local/domain/16/t8/99", "");
        for (int j = 0; j < 100; j++) {
                snprintf(path, sizeof(path), "/local/domain/16/t9/%d", j);
                assert_read_errno(h, path, ENOENT);
        }
        /* A commit that only removes still goes through, however full. */
        assert_domain_quota(h, 16, "transactions 0\n");
        ts[0] = xs_transaction_start(g);
        assert_true(ts[0] != XBT_NULL);
        assert_true(xs_rm(g, ts[0], "t0/0"));
        assert_true(xs_transaction_end(g, ts[0], false));
        assert_domain_quota(h, 16, "nodes 910\n");
        assert_true(xs_rm(h, XBT_NULL, "/local/domain/16"));
        assert_domain_quota(h, 16, "nodes 0\n");
}

/* The watch quota is the domain's, however many connections it opens. */
static void test_guest_watch_quota_per_domain(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_xs_ struct xs_handle *g1 = open_dom0();
        _cleanup_xs_ struct xs_handle *g2 = NULL;
        char path[64];

        (void)state;
        /* Watches set as dom0 count once the connection becomes the guest. */
        for (int i = 0; i < 28; i++) {
                snprintf(path, sizeof(path), "/local/domain/17/a%d", i);
                assert_true(xs_watch(g1, path, "t"));
        }
        free(xs_control_command(g1, "sim-as-domain", (char *)"17", 2));
        assert_domain_quota(h, 17, "watches 28\n");
        g2 = open_guest(17);
        for (int i = 0; i < 100; i++) {
                snprintf(path, sizeof(path), "b%d", i);
                assert_true(xs_watch(g2, path, "t"));
        }
        errno = 0;
        assert_false(xs_watch(g2, "b-too-many", "t"));
        assert_int_equal(errno, E2BIG);
        errno = 0;
        assert_false(xs_watch(g1, "a-too-many", "t"));
        assert_int_equal(errno, E2BIG);
        assert_domain_quota(h, 17, "watches 128\n");
        /* One freed on either connection makes room on the other. */
        assert_true(xs_unwatch(g1, "/local/domain/17/a0", "t"));
        assert_true(xs_watch(g2, "b-again", "t"));
        errno = 0;
        assert_false(xs_watch(g1, "a-again", "t"));
        assert_int_equal(errno, E2BIG);
}

/* The transaction quota is the domain's, however many connections it opens. */
static void test_guest_transaction_quota_per_domain(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_xs_ struct xs_handle *g1 = open_guest(18);
        _cleanup_xs_ struct xs_handle *g2 = open_guest(18);
        xs_transaction_t t1[6], t2[4], t;

        (void)state;
        for (int i = 0; i < 6; i++) {
                t1[i] = xs_transaction_start(g1);
                assert_true(t1[i] != XBT_NULL);
        }
        for (int i = 0; i < 4; i++) {
                t2[i] = xs_transaction_start(g2);
                assert_true(t2[i] != XBT_NULL);
        }
        errno = 0;
        assert_true(xs_transaction_start(g2) == XBT_NULL);
        assert_int_equal(errno, ENOSPC);
        errno = 0;
        assert_true(xs_transaction_start(g1) == XBT_NULL);
        assert_int_equal(errno, ENOSPC);
        assert_domain_quota(h, 18, "transactions 10\n");
        /* One ended on either connection makes room on the other. */
        assert_true(xs_transaction_end(g1, t1[0], true));
        t = xs_transaction_start(g2);
        assert_true(t != XBT_NULL);
        assert_true(xs_transaction_end(g2, t, true));
        for (int i = 1; i < 6; i++)
                assert_true(xs_transaction_end(g1, t1[i], true));
        for (int i = 0; i < 4; i++)
                assert_true(xs_transaction_end(g2, t2[i], true));
        assert_domain_quota(h, 18, "transactions 0\n");
        /* dom0 stays unlimited. */
        {
                xs_transaction_t d[12];

                for (int i = 0; i < 12; i++) {
                        d[i] = xs_transaction_start(h);
                        assert_true(d[i] != XBT_NULL);
                }
                for (int i = 0; i < 12; i++)
                        assert_true(xs_transaction_end(h, d[i], true));
        }
}

/* ---- domains ---- */

static void test_introduce_release(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        _cleanup_xs_ struct xs_handle *w = open_dom0();
        _cleanup_xs_ struct xs_handle *gw = NULL;
        _cleanup_xs_ struct xs_handle *g = NULL;

        (void)state;
        assert_true(xs_is_domain_introduced(h, 0));
        assert_false(xs_is_domain_introduced(h, 9));
        assert_true(xs_watch(w, "@introduceDomain", "intro"));
        expect_event(w, "@introduceDomain", "intro");
        assert_true(xs_watch(w, "@releaseDomain", "rel"));
        expect_event(w, "@releaseDomain", "rel");
        /* A guest watching @releaseDomain gets only the initial event. */
        gw = open_guest(12);
        assert_true(xs_watch(gw, "@releaseDomain", "g"));
        expect_event(gw, "@releaseDomain", "g");

        assert_true(xs_introduce_domain(h, 9, 0x1234, 7));
        assert_true(xs_is_domain_introduced(h, 9));
        expect_event(w, "@introduceDomain", "intro");
        /* Introduced again: no second event. */
        assert_true(xs_introduce_domain(h, 9, 0x1234, 7));
        expect_no_event(w);

        g = open_guest(9);
        {
                _cleanup_free_ char *path = xs_get_domain_path(g, 9);

                assert_non_null(path);
        }
        assert_true(xs_release_domain(h, 9));
        expect_event(w, "@releaseDomain", "rel");
        expect_no_event(gw);
        assert_false(xs_is_domain_introduced(h, 9));
        /* The domain's connections went with it. */
        errno = 0;
        assert_null(xs_get_domain_path(g, 9));
        assert_int_not_equal(errno, 0);
        errno = 0;
        assert_false(xs_release_domain(h, 9));
        assert_int_equal(errno, ENOENT);

        /* dom0 may let a guest hear @releaseDomain, through its perms (xenstored's special nodes).
         */
        assert_perms(h, "@releaseDomain", "n0");
        set_perms(h, "@releaseDomain", "n0,r12");
        assert_perms(h, "@releaseDomain", "n0,r12");
        assert_true(xs_introduce_domain(h, 9, 0x1234, 7));
        expect_event(w, "@introduceDomain", "intro");
        assert_true(xs_release_domain(h, 9));
        expect_event(w, "@releaseDomain", "rel");
        expect_event(gw, "@releaseDomain", "g");
        set_perms(h, "@releaseDomain", "n0");
        errno = 0;
        assert_false(xs_set_permissions(gw, XBT_NULL, "@releaseDomain",
                                        &(struct xs_permissions){ .id = 12 }, 1));
        assert_int_equal(errno, EACCES);
        errno = 0;
        assert_false(xs_release_domain(h, 0));
        assert_int_equal(errno, EINVAL);
}

/* ---- malformed input over a raw socket ---- */

static void test_bad_short_header(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        int fd;

        (void)state;
        assert_write(h, "/test-bad/short", "intact");
        /* Half a header, left hanging: others are served meanwhile. */
        fd = connect_raw();
        assert_true(fd >= 0);
        assert_int_equal(send(fd, "\2\0\0\0\0\0\0\0", 8, MSG_NOSIGNAL), 8);
        assert_server_healthy("/test-bad/short", "intact");
        close(fd);
        /* ...and then gone mid-message. */
        fd = connect_raw();
        assert_true(fd >= 0);
        assert_int_equal(send(fd, "\2\0\0\0\0\0\0\0\0\0\0\0\50\0\0\0/te", 19, MSG_NOSIGNAL), 19);
        close(fd);
        assert_server_healthy("/test-bad/short", "intact");
        assert_true(xs_rm(h, XBT_NULL, "/test-bad"));
}

static void test_bad_len_over_payload(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        struct xsd_sockmsg m = { .type = XS_WRITE, .len = XENSTORE_PAYLOAD_MAX + 1 };
        _cleanup_close_ int fd = connect_raw();

        (void)state;
        assert_true(fd >= 0);
        assert_write(h, "/test-bad/len", "intact");
        assert_int_equal(send(fd, &m, sizeof(m), MSG_NOSIGNAL), (ssize_t)sizeof(m));
        raw_expect_closed(fd);
        assert_server_healthy("/test-bad/len", "intact");
        assert_true(xs_rm(h, XBT_NULL, "/test-bad"));
}

static void test_bad_unknown_type(void **state)
{
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_close_ int fd = connect_raw();

        (void)state;
        assert_true(fd >= 0);
        raw_send(fd, 999, 0, "/x", 3);
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_SET_TARGET + 1, 0, "/x", 3); /* the removed XS_RESTRICT */
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_WATCH_EVENT, 0, "/x", 3);
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_ERROR, 0, "/x", 3);
        raw_expect_error(fd, "EINVAL");
        /* The connection still works. */
        raw_send(fd, XS_READ, 0, "/tool/xenstored", 16);
        assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_READ);
        assert_server_healthy("/tool/xenstored", "");
}

static void test_bad_unterminated_strings(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_close_ int fd = connect_raw();

        (void)state;
        assert_true(fd >= 0);
        assert_write(h, "/test-bad/str", "intact");
        raw_send(fd, XS_READ, 0, "/test-bad/str", 13); /* no NUL */
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_READ, 0, "/test-bad/str\0junk", 18); /* two strings */
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_WRITE, 0, "/test-bad/str", 13); /* no NUL at all */
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_WATCH, 0, "/test-bad/str\0tok", 17); /* token not terminated */
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_SET_PERMS, 0, "/test-bad/str\0n0\0r5", 19);
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_SET_PERMS, 0, "/test-bad/str\0x0\0", 18);
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_INTRODUCE, 0, "5\0abc\0", 6);
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_TRANSACTION_END, 0, "T", 1);
        raw_expect_error(fd, "ENOENT"); /* no transaction 0 */
        raw_send(fd, XS_READ, 0, "", 0);
        raw_expect_error(fd, "EINVAL");
        raw_send(fd, XS_READ, 0, "/test-bad/str", 14);
        assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_READ);
        assert_string_equal(buf, "intact");
        assert_server_healthy("/test-bad/str", "intact");
        assert_true(xs_rm(h, XBT_NULL, "/test-bad"));
}

/*
 * n WATCH requests pipelined on fd, read back batch by batch: how many were
 * accepted and how many refused with E2BIG. same_path: one path, n tokens.
 */
static void pipeline_watches(int fd, unsigned n, bool same_path, unsigned *ok, unsigned *e2big)
{
        enum { BATCH = 2000, LEN = 24 };
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_free_ char *out = malloc((sizeof(struct xsd_sockmsg) + LEN) * BATCH);
        unsigned replies = 0;

        assert_non_null(out);
        *ok = *e2big = 0;
        for (unsigned sent = 0; sent < n; sent += BATCH) {
                size_t off = 0;

                for (unsigned i = 0; i < BATCH && sent + i < n; i++) {
                        struct xsd_sockmsg m = { .type = XS_WATCH, .req_id = 77, .len = LEN };
                        char payload[LEN + 1];

                        /* "/w/NNNNNNNNN\0tNNNNNNNNN\0" */
                        snprintf(payload, 13, "/w/%09u", same_path ? 0 : sent + i);
                        snprintf(payload + 13, LEN - 13, "t%09u", sent + i);
                        memcpy(out + off, &m, sizeof(m));
                        memcpy(out + off + sizeof(m), payload, LEN);
                        off += sizeof(m) + LEN;
                }
                for (size_t done = 0; done < off;) {
                        ssize_t w = send(fd, out + done, off - done, MSG_NOSIGNAL);

                        assert_true(w > 0);
                        done += w;
                }
                /* This batch's replies (and the accepted watches' initial events). */
                while (replies < sent + BATCH && replies < n) {
                        struct xsd_sockmsg m;

                        assert_int_equal(read_full(fd, &m, sizeof(m), 5000), 0);
                        assert_int_equal(read_full(fd, buf, m.len, 5000), 0);
                        buf[m.len] = 0;
                        if (m.type == XS_WATCH_EVENT)
                                continue;
                        replies++;
                        if (m.type == XS_WATCH)
                                (*ok)++;
                        else if (m.type == XS_ERROR && strcmp(buf, "E2BIG") == 0)
                                (*e2big)++;
                        else
                                fail_msg("unexpected reply type %u %s", m.type, buf);
                }
        }
}

/* A million WATCH requests from a guest: its 128 are accepted, the rest E2BIG. */
static void test_bad_million_watches(void **state)
{
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_close_ int fd = connect_raw();
        unsigned ok, e2big;

        (void)state;
        assert_true(fd >= 0);
        raw_send(fd, XS_CONTROL, 0,
                 "sim-as-domain\0"
                 "13",
                 16);
        assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_CONTROL);
        pipeline_watches(fd, 1000000, false, &ok, &e2big);
        assert_int_equal(ok, XS_QUOTA_WATCHES);
        assert_int_equal(e2big, 1000000 - XS_QUOTA_WATCHES);
        assert_server_healthy("/tool/xenstored", "");
}

/* dom0 has no quota, but a hard limit; many watches on one path stay cheap to add and drop. */
static void test_bad_dom0_watches(void **state)
{
        _cleanup_close_ int fd = connect_raw();
        unsigned ok, e2big;

        (void)state;
        assert_true(fd >= 0);
        pipeline_watches(fd, XS_SIM_MAX_WATCHES + 1000, true, &ok, &e2big);
        assert_int_equal(ok, XS_SIM_MAX_WATCHES);
        assert_int_equal(e2big, 1000);
        close(TAKE_FD(fd));
        assert_server_healthy("/tool/xenstored", "");
}

/* A client that never reads its watch events is dropped before the server bloats. */
static void test_bad_slow_reader(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        char token[2001], buf[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_close_ int fd = connect_raw();
        int rcvbuf = 4096;
        char msg[2100];

        (void)state;
        assert_true(fd >= 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        memset(token, 't', sizeof(token) - 1);
        token[sizeof(token) - 1] = 0;
        snprintf(msg, sizeof(msg), "/test-slow");
        memcpy(msg + 11, token, sizeof(token));
        raw_send(fd, XS_WATCH, 0, msg, 11 + sizeof(token));
        assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_WATCH);
        assert_write(h, "/test-slow/keep", "intact");
        /* ~2 KiB per event: the 1 MiB output limit falls within a few thousand writes. */
        for (int i = 0; i < 4000; i++) {
                assert_write(h, "/test-slow/x", "v");
                if (i % 100 == 0) {
                        unsigned long long g, c;

                        stats(h, &g, &c); /* the server answers throughout */
                }
        }
        raw_expect_closed(fd);
        assert_server_healthy("/test-slow/keep", "intact");
        assert_true(xs_rm(h, XBT_NULL, "/test-slow"));
}

/* ---- the in-process API, for the simulated hypervisor (server in this process) ---- */

struct inproc {
        sd_event *event;
        struct xs_server *server;
        char dir[64];
        char sock[128];
        unsigned introduced;
        uint32_t intro_domid;
        uint64_t intro_mfn;
        uint32_t intro_port;
};

struct events {
        unsigned n;
        char path[8][128];
        char token[8][32];
};

static void on_event(struct xs_conn *c, const char *path, const char *token, void *userdata)
{
        struct events *ev = userdata;

        (void)c;
        if (ev->n < 8) {
                snprintf(ev->path[ev->n], sizeof(ev->path[0]), "%s", path);
                snprintf(ev->token[ev->n], sizeof(ev->token[0]), "%s", token);
        }
        ev->n++;
}

static void run_loop(struct inproc *ip)
{
        while (sd_event_run(ip->event, 0) > 0)
                ;
}

static int on_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                        void *userdata)
{
        struct inproc *ip = userdata;

        (void)s;
        ip->introduced++;
        ip->intro_domid = domid;
        ip->intro_mfn = mfn;
        ip->intro_port = port;
        /* The hypervisor knows no domain 10. */
        return domid == 10 ? -EINVAL : 0;
}

static int inproc_setup(void **state)
{
        struct inproc *ip = calloc(1, sizeof(*ip));

        if (!ip || sd_event_new(&ip->event) < 0 || xs_server_new(ip->event, &ip->server, NULL) < 0)
                return -1;
        snprintf(ip->dir, sizeof(ip->dir), "/tmp/test-xs-inproc.XXXXXX");
        if (!mkdtemp(ip->dir))
                return -1;
        snprintf(ip->sock, sizeof(ip->sock), "%s/xenstored.socket", ip->dir);
        if (xs_server_listen(ip->server, ip->sock, NULL) < 0)
                return -1;
        xs_server_set_introduce_cb(ip->server, on_introduce, ip);
        *state = ip;
        return 0;
}

static int inproc_teardown(void **state)
{
        struct inproc *ip = *state;

        xs_server_free(ip->server);
        sd_event_unref(ip->event);
        rmdir(ip->dir);
        free(ip);
        return 0;
}

static void xs_conn_closep(struct xs_conn **c)
{
        xs_conn_close(*c);
}
#define _cleanup_conn_ _cleanup_(xs_conn_closep)

static void test_inproc_ops_and_perms(void **state)
{
        struct inproc *ip = *state;
        _cleanup_conn_ struct xs_conn *d0 = NULL;
        _cleanup_conn_ struct xs_conn *g = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *v = NULL;
        char big[2100];
        size_t len = 0;

        assert_int_equal(xs_server_connect_domain(ip->server, 0, &d0), 0);
        assert_int_equal(xs_server_connect_domain(ip->server, 5, &g), 0);
        assert_int_equal(xs_conn_domid(g), 5);
        assert_int_equal(xs_conn_write(d0, "/ip/a", "1", 1), 0);
        assert_int_equal(xs_conn_mkdir(d0, "/ip/b"), 0);
        assert_int_equal(xs_conn_read(d0, "/ip/a", &v, &len), 0);
        assert_string_equal(v, "1");
        assert_int_equal(len, 1);
        assert_int_equal(xs_conn_directory(d0, "/ip", &names), 0);
        assert_non_null(names[0]);
        assert_string_equal(names[0], "a");
        assert_string_equal(names[1], "b");
        assert_null(names[2]);
        assert_int_equal(xs_conn_read(d0, "/ip/none", &(char *){ NULL }, NULL), -ENOENT);

        /* The guest: dom0's nodes are closed to it, its home is its own. */
        assert_int_equal(xs_conn_read(g, "/ip/a", &(char *){ NULL }, NULL), -EACCES);
        assert_int_equal(xs_conn_write(g, "/ip/c", "x", 1), -EACCES);
        assert_int_equal(xs_conn_mkdir(d0, "/local/domain/5"), 0);
        assert_int_equal(xs_conn_rm(g, "/local/domain/5"), -EACCES);
        {
                /* dom0 hands the home over (SET_PERMS is socket-only: use a raw request). */
                _cleanup_close_ int fd = -1;
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                char buf[XENSTORE_PAYLOAD_MAX + 1];

                memcpy(sa.sun_path, ip->sock, strlen(ip->sock) + 1);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                assert_true(fd >= 0);
                assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
                run_loop(ip);
                raw_send(fd, XS_SET_PERMS, 0, "/local/domain/5\0n5\0", 19);
                run_loop(ip);
                assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_SET_PERMS);
        }
        assert_int_equal(xs_conn_write(g, "data", "mine", 4), 0);
        free(v);
        v = NULL;
        assert_int_equal(xs_conn_read(d0, "/local/domain/5/data", &v, NULL), 0);
        assert_string_equal(v, "mine");
        memset(big, 'x', sizeof(big));
        assert_int_equal(xs_conn_write(g, "big", big, sizeof(big)), -ENOSPC);
        assert_int_equal(xs_conn_write(d0, "/local/domain/5/big", big, sizeof(big)), 0);
        assert_int_equal(xs_conn_rm(g, "data"), 0);
        assert_int_equal(xs_conn_rm(d0, "/ip"), 0);
        assert_int_equal(xs_conn_rm(d0, "/local/domain/5"), 0);
}

static void test_inproc_watches(void **state)
{
        struct inproc *ip = *state;
        _cleanup_conn_ struct xs_conn *d0 = NULL;
        struct events ev = { 0 };

        assert_int_equal(xs_server_connect_domain(ip->server, 0, &d0), 0);
        assert_int_equal(xs_conn_watch(d0, "/ipw", "t", on_event, &ev), 0);
        /* Delivered from the loop, never from inside the request. */
        assert_int_equal(ev.n, 0);
        run_loop(ip);
        assert_int_equal(ev.n, 1);
        assert_string_equal(ev.path[0], "/ipw");
        assert_string_equal(ev.token[0], "t");
        assert_int_equal(xs_conn_write(d0, "/ipw/x", "1", 1), 0);
        run_loop(ip);
        assert_int_equal(ev.n, 2);
        assert_string_equal(ev.path[1], "/ipw/x");
        /* Unwatching drops what was not delivered yet. */
        assert_int_equal(xs_conn_write(d0, "/ipw/y", "1", 1), 0);
        assert_int_equal(xs_conn_unwatch(d0, "/ipw", "t"), 0);
        run_loop(ip);
        assert_int_equal(ev.n, 2);
        assert_int_equal(xs_conn_unwatch(d0, "/ipw", "t"), -ENOENT);
        assert_int_equal(xs_conn_rm(d0, "/ipw"), 0);
}

static void test_inproc_event_queue_limit(void **state)
{
        struct inproc *ip = *state;
        _cleanup_conn_ struct xs_conn *d0 = NULL;
        _cleanup_conn_ struct xs_conn *lazy = NULL;
        struct events ev = { 0 };
        int i;

        assert_int_equal(xs_server_connect_domain(ip->server, 0, &d0), 0);
        assert_int_equal(xs_server_connect_domain(ip->server, 0, &lazy), 0);
        assert_int_equal(xs_conn_watch(lazy, "/ipq", "t", on_event, &ev), 0);
        /* The loop never runs: events pile up until the connection is dropped. */
        for (i = 0; i < 200000 && xs_conn_is_connected(lazy); i++)
                assert_int_equal(xs_conn_write(d0, "/ipq/some/longer/path/x", "1", 1), 0);
        assert_false(xs_conn_is_connected(lazy));
        assert_true(i > 1000);
        assert_int_equal(xs_conn_read(lazy, "/ipq", &(char *){ NULL }, NULL), -ENOTCONN);
        run_loop(ip);
        assert_int_equal(ev.n, 0);
        assert_true(xs_conn_is_connected(d0));
        assert_int_equal(xs_conn_rm(d0, "/ipq"), 0);
}

/* A child process sends INTRODUCE (and more) with libxenstore while the loop serves it. */
static int child_exit;

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        (void)s;
        (void)userdata;
        child_exit = si->si_code == CLD_EXITED ? si->si_status : 100;
        return 0;
}

static void run_child(struct inproc *ip, int (*fn)(struct xs_handle *h))
{
        sd_event_source *src = NULL;
        sigset_t mask;
        pid_t pid;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct xs_handle *h;

                int rc;

                setenv("XENSTORED_PATH", ip->sock, 1);
                h = xs_open(0);
                if (!h)
                        _exit(99);
                rc = fn(h);
                xs_close(h);
                _exit(rc);
        }
        child_exit = -1;
        assert_int_equal(sd_event_add_child(ip->event, &src, pid, WEXITED, on_child, NULL), 0);
        while (child_exit < 0)
                assert_true(sd_event_run(ip->event, 100000) >= 0);
        sd_event_source_unref(src);
}

static int child_introduce_9(struct xs_handle *h)
{
        if (!xs_introduce_domain(h, 9, 0xabc, 3))
                return 1;
        if (!xs_is_domain_introduced(h, 9))
                return 2;
        if (xs_introduce_domain(h, 10, 1, 1) || errno != EINVAL)
                return 3;
        if (xs_is_domain_introduced(h, 10))
                return 4;
        return 0;
}

static int child_release_9(struct xs_handle *h)
{
        return xs_release_domain(h, 9) ? 0 : 1;
}

static void test_inproc_domains(void **state)
{
        struct inproc *ip = *state;
        _cleanup_conn_ struct xs_conn *d0 = NULL;
        _cleanup_conn_ struct xs_conn *g = NULL;
        struct events intro = { 0 }, rel = { 0 };

        assert_int_equal(xs_server_connect_domain(ip->server, 0, &d0), 0);
        assert_int_equal(xs_conn_watch(d0, "@introduceDomain", "i", on_event, &intro), 0);
        assert_int_equal(xs_conn_watch(d0, "@releaseDomain", "r", on_event, &rel), 0);
        run_loop(ip);
        assert_int_equal(intro.n, 1);
        assert_int_equal(rel.n, 1);

        /* INTRODUCE calls the hypervisor back; its refusal fails the request. */
        run_child(ip, child_introduce_9);
        assert_int_equal(child_exit, 0);
        assert_int_equal(ip->introduced, 2); /* 9, then the refused 10 */
        assert_int_equal(ip->intro_domid, 10);
        assert_int_equal(ip->intro_port, 1);
        assert_true(xs_server_domain_is_introduced(ip->server, 9));
        run_loop(ip);
        assert_int_equal(intro.n, 2);
        assert_string_equal(intro.path[1], "@introduceDomain");

        /* Shutdown fires @releaseDomain; the guest's connection stays. */
        assert_int_equal(xs_server_connect_domain(ip->server, 9, &g), 0);
        assert_int_equal(xs_server_domain_shutdown(ip->server, 9), 0);
        run_loop(ip);
        assert_int_equal(rel.n, 2);
        assert_true(xs_conn_is_connected(g));
        /* Release: fired again, not introduced, the guest's connection closed. */
        assert_int_equal(xs_server_domain_release(ip->server, 9), 0);
        run_loop(ip);
        assert_int_equal(rel.n, 3);
        assert_string_equal(rel.path[2], "@releaseDomain");
        assert_false(xs_server_domain_is_introduced(ip->server, 9));
        assert_false(xs_conn_is_connected(g));
        assert_int_equal(xs_conn_write(g, "x", "1", 1), -ENOTCONN);
        assert_int_equal(xs_server_domain_release(ip->server, 9), -ENOENT);
        assert_int_equal(xs_server_domain_shutdown(ip->server, 9), -ENOENT);

        /* RELEASE from dom0 over the socket does the same. */
        run_child(ip, child_introduce_9);
        assert_int_equal(child_exit, 0);
        assert_int_equal(ip->introduced, 4);
        assert_true(xs_server_domain_is_introduced(ip->server, 9));
        run_child(ip, child_release_9);
        assert_int_equal(child_exit, 0);
        run_loop(ip);
        assert_false(xs_server_domain_is_introduced(ip->server, 9));
        assert_int_equal(rel.n, 4);
        assert_true(xs_server_request_count(ip->server) > 0);
}

static uint32_t xorshift(uint32_t *st)
{
        uint32_t x = *st;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return *st = x;
}

/* Random requests, one reply each: the server answers every one and stays whole. */
static unsigned fuzz(int fd, uint32_t seed, const char *prefix, unsigned count)
{
        unsigned accepted = 0;

        static const char alphabet[] = "\0\0\0/////abc@_-0123456789TFnrwb";
        char payload[400], buf[XENSTORE_PAYLOAD_MAX + 1];

        for (unsigned i = 0; i < count; i++) {
                uint32_t type = xorshift(&seed) % (XS_TYPE_COUNT + 3);
                uint32_t tx = xorshift(&seed) % 4 == 0 ? xorshift(&seed) % 8 : 0;
                uint32_t len = strlen(prefix) + xorshift(&seed) % 300;

                memcpy(payload, prefix, strlen(prefix));
                for (uint32_t k = strlen(prefix); k < len; k++)
                        payload[k] = alphabet[xorshift(&seed) % (sizeof(alphabet) - 1)];
                if (type == XS_CONTROL)
                        type = XS_READ; /* sim-as-domain by chance would change the run */
                raw_send(fd, type, tx, payload, len);
                if (raw_reply(fd, buf, sizeof(buf)) != XS_ERROR)
                        accepted++;
        }
        return accepted;
}

static void test_bad_random_requests(void **state)
{
        _cleanup_xs_ struct xs_handle *h = open_dom0();
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        unsigned accepted;
        int fd;

        (void)state;
        assert_write(h, "/test-fuzz-keep/a", "intact");
        /* A guest sending anything at all. */
        for (uint32_t seed = 1; seed <= 4; seed++) {
                fd = connect_raw();
                assert_true(fd >= 0);
                raw_send(fd, XS_CONTROL, 0,
                         "sim-as-domain\0"
                         "15",
                         16);
                assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_CONTROL);
                (void)fuzz(fd, seed * 2654435761u, "", 1500);
                close(fd);
        }
        /* dom0, inside its own subtree. */
        for (uint32_t seed = 5; seed <= 8; seed++) {
                fd = connect_raw();
                assert_true(fd >= 0);
                accepted = fuzz(fd, seed * 2654435761u, "/fuzz/", 1500);
                assert_true(accepted > 50); /* not all turned away at the door */
                raw_send(fd, XS_READ, 0, "/test-fuzz-keep/a", 18);
                assert_int_equal(raw_reply(fd, buf, sizeof(buf)), XS_READ);
                assert_string_equal(buf, "intact");
                close(fd);
        }
        assert_server_healthy("/test-fuzz-keep/a", "intact");
        assert_true(xs_rm(h, XBT_NULL, "/fuzz"));
        assert_true(xs_rm(h, XBT_NULL, "/test-fuzz-keep"));
        /* Random INTRODUCEs may have introduced domains: release them, for the tests after. */
        for (unsigned d = 1; d < 10; d++)
                if (xs_is_domain_introduced(h, d))
                        assert_true(xs_release_domain(h, d));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_write_mkdir_rm),
                cmocka_unit_test(test_paths_and_limits),
                cmocka_unit_test(test_directory_part),
                cmocka_unit_test(test_control),
                cmocka_unit_test(test_watch_events),
                cmocka_unit_test(test_watch_other_client_and_perms),
                cmocka_unit_test(test_reset_watches),
                cmocka_unit_test(test_transaction_race),
                cmocka_unit_test(test_transaction_abort_and_commit),
                cmocka_unit_test(test_guest_permissions),
                cmocka_unit_test(test_guest_quotas),
                cmocka_unit_test(test_guest_node_quota_at_commit),
                cmocka_unit_test(test_guest_watch_quota_per_domain),
                cmocka_unit_test(test_guest_transaction_quota_per_domain),
                cmocka_unit_test(test_introduce_release),
                cmocka_unit_test(test_bad_short_header),
                cmocka_unit_test(test_bad_len_over_payload),
                cmocka_unit_test(test_bad_unknown_type),
                cmocka_unit_test(test_bad_unterminated_strings),
                cmocka_unit_test(test_bad_million_watches),
                cmocka_unit_test(test_bad_dom0_watches),
                cmocka_unit_test(test_bad_slow_reader),
                cmocka_unit_test(test_bad_random_requests),
        };

        const struct CMUnitTest inproc_tests[] = {
                cmocka_unit_test(test_inproc_ops_and_perms),
                cmocka_unit_test(test_inproc_watches),
                cmocka_unit_test(test_inproc_event_queue_limit),
                cmocka_unit_test(test_inproc_domains),
        };
        int failed;

        failed =
            cmocka_run_group_tests_name("xensup-sim over its socket", tests, start_sim, stop_sim);
        failed += cmocka_run_group_tests_name("in-process API", inproc_tests, inproc_setup,
                                              inproc_teardown);
        return failed;
}
