/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout/suspend.c against the embedded XenStore server (a fresh xensup-sim
 * per test) through the real libxenstore. Each test's domain is built as the
 * sim backend builds one: created in the simulated hypervisor (paused, so its
 * guest never runs and never answers by itself), laid out with
 * layout_write_domain() and introduced to XenStore. The guest's side is
 * played by a client the server takes for the domain, or by a second dom0
 * client run from layout's request hook, at an exact request.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenstore.h>

#include "common/macros.h"
#include "layout/acl.h"
#include "layout/layout-internal.h"
#include "layout/layout.h"
#include "layout/sim-child.h"
#include "layout/suspend.h"
#include "sim/hv-proto.h"
#include "tests/xs-test.h"

#define MISSING_DOMID 9 /* a guest domid nothing was written for */

static const uint8_t uuid_a[16] = { 0x5e, 0xe0, 0x1c, 0x7a, 0x0d, 0x3b, 0x4c, 0x52,
                                    0x9f, 0x1e, 0x33, 0x40, 0x6b, 0x2a, 0x91, 0x07 };

/*
 * What layout_request_shutdown() costs (transaction start, the domain's guard read, the
 * write, the commit), and so where a suspend request's own requests begin and end.
 */
#define SHUTDOWN_REQUESTS 4
#define REQ_WATCH         1
#define REQ_FIRST_READ    (REQ_WATCH + SHUTDOWN_REQUESTS + 1)
#define REQ_WITHDRAW      (REQ_FIRST_READ + 1) /* the withdraw transaction's start */

struct fixture {
        struct sim_child sim;
        struct layout *l;
        struct xs_handle *xs; /* a second dom0 client, for reading back */
        struct domain_config cfg;
        struct hv_rep_create dom;
        char shutdown[64]; /* the domain's control/shutdown */
};

/* ---- the simulated hypervisor, as builders/builder-sim.c speaks to it ---- */

static int hv_call(struct fixture *f, uint16_t op, const void *body, uint32_t len, void *rep,
                   uint32_t rep_len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct hv_header h = {
                .magic = HV_PROTO_MAGIC, .version = HV_PROTO_VERSION, .op = op, .seq = 1, .len = len
        };
        uint8_t buf[sizeof(h) + 512];
        ssize_t n;

        assert_true(len + sizeof(h) <= sizeof(buf));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", f->sim.dir, HV_SOCKET_NAME);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        /* sim_child_start() waits for xenstored.socket; the hypervisor's may come a bit later. */
        for (int i = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0; i++) {
                struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

                if (i >= 500 || (errno != ENOENT && errno != ECONNREFUSED))
                        fail_msg("cannot connect to %s: %s", sa.sun_path, strerror(errno));
                nanosleep(&ts, NULL);
        }
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), body, len);
        assert_int_equal(send(fd, buf, sizeof(h) + len, 0), (ssize_t)(sizeof(h) + len));
        n = recv(fd, buf, sizeof(buf), 0);
        assert_true(n >= (ssize_t)sizeof(h));
        memcpy(&h, buf, sizeof(h));
        assert_int_equal(h.op, op);
        if (h.result < 0)
                return h.result;
        assert_int_equal(h.len, rep_len);
        if (rep_len > 0)
                memcpy(rep, buf + sizeof(h), rep_len);
        return 0;
}

static void hv_dom(struct fixture *f, uint16_t op, uint32_t value)
{
        struct hv_req_dom req = { .domid = f->dom.domid, .value = value };

        assert_int_equal(hv_call(f, op, &req, sizeof(req), NULL, 0), 0);
}

static int setup(void **state)
{
        const char *build = getenv("XENSUP_BUILD");
        struct fixture *f = calloc(1, sizeof(*f));
        struct hv_req_create create = { .type = DOMAIN_TYPE_PV,
                                        .memory_kib = 65536,
                                        .maxmem_kib = 65536,
                                        .vcpus = 1,
                                        .maxvcpus = 1 };
        struct layout_domain d;
        _cleanup_free_ char *err = NULL;
        char sim[256];

        assert_non_null(f);
        snprintf(sim, sizeof(sim), "%s/xensup-sim", build ? build : "build");
        assert_int_equal(sim_child_start(&f->sim, sim, true), 0);
        assert_int_equal(layout_open(&f->l, &err), 0);
        f->xs = xs_open(XS_OPEN_SOCKETONLY);
        assert_non_null(f->xs);

        memcpy(create.uuid, uuid_a, 16);
        strcpy(create.name, "sus");
        assert_int_equal(hv_call(f, HV_OP_CREATE, &create, sizeof(create), &f->dom, sizeof(f->dom)),
                         0);
        assert_true(f->dom.domid > 0 && f->dom.domid != MISSING_DOMID);
        f->cfg = (struct domain_config){
                .name = "sus",
                .type = DOMAIN_TYPE_PV,
                .memory_mib = 64,
                .maxmem_mib = 64,
                .vcpus = 1,
                .maxvcpus = 1,
                .kernel = (char *)"/boot/vmlinuz",
                .on_poweroff = ACTION_DESTROY,
                .on_reboot = ACTION_RESTART,
                .on_crash = ACTION_DESTROY,
                .cpu_weight = 256,
        };
        memcpy(f->cfg.uuid, uuid_a, 16);
        d = (struct layout_domain){ .cfg = &f->cfg,
                                    .name = f->cfg.name,
                                    .domid = f->dom.domid,
                                    .store_port = f->dom.store_port,
                                    .store_mfn = f->dom.store_mfn,
                                    .console_port = f->dom.console_port,
                                    .console_mfn = f->dom.console_mfn };
        assert_int_equal(layout_write_domain(f->l, &d, &err), 0);
        assert_true(xs_introduce_domain(f->xs, f->dom.domid, f->dom.store_mfn, f->dom.store_port));
        snprintf(f->shutdown, sizeof(f->shutdown), "/local/domain/%" PRIu32 "/control/shutdown",
                 f->dom.domid);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        layout_close(f->l);
        xs_close(f->xs);
        sim_child_stop(&f->sim);
        free(f);
        return 0;
}

/* ---- helpers ---- */

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void assert_node(struct xs_handle *xs, const char *path, const char *want)
{
        _cleanup_free_ char *v = xs_test_read(xs, path);

        if (!v || strcmp(v, want) != 0)
                fail_msg("%s = \"%s\", want \"%s\"", path, v ? v : "(absent)", want);
}

static void assert_absent(struct xs_handle *xs, const char *path)
{
        _cleanup_free_ char *v = xs_test_read(xs, path);

        if (v)
                fail_msg("%s exists (\"%s\")", path, v);
}

static void xs_put(struct xs_handle *xs, const char *path, const char *value)
{
        if (!xs_write(xs, XBT_NULL, path, value, (unsigned)strlen(value)))
                fail_msg("cannot write %s: %s", path, strerror(errno));
}

static void feature_path(struct fixture *f, const char *name, char path[96])
{
        snprintf(path, 96, "/local/domain/%" PRIu32 "/control/feature-%s", f->dom.domid, name);
}

/* What a hook does to control/shutdown just before a chosen request of layout's. */
struct poke {
        struct fixture *f;
        const char *value; /* NULL: remove the node */
        bool ran;
};

static void poke_run(void *userdata)
{
        struct poke *p = userdata;

        if (p->value)
                xs_put(p->f->xs, p->f->shutdown, p->value);
        else
                assert_true(xs_rm(p->f->xs, XBT_NULL, p->f->shutdown));
        p->ran = true;
}

/* ---- a guest that acknowledges, on its own connection as the domain ---- */

struct guest {
        uint32_t domid;
        const char *path;
        int result; /* 0 once it acknowledged; -errno or -ETIMEDOUT otherwise */
};

static void *guest_main(void *userdata)
{
        struct guest *g = userdata;
        struct xs_handle *xs = xs_open(XS_OPEN_SOCKETONLY);
        uint64_t deadline = now_ms() + 10000;
        char id[16];
        char *answer;

        g->result = -EIO;
        if (!xs)
                return NULL;
        snprintf(id, sizeof(id), "%" PRIu32, g->domid);
        answer = xs_control_command(xs, "sim-as-domain", id, (unsigned)strlen(id) + 1);
        if (answer && xs_watch(xs, g->path, "guest")) {
                g->result = -ETIMEDOUT;
                while (now_ms() < deadline) {
                        struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
                        unsigned len, n;
                        char *v;

                        if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
                                continue;
                        free(xs_read_watch(xs, &n));
                        v = xs_read(xs, XBT_NULL, g->path, &len);
                        if (v && strcmp(v, "suspend") == 0) {
                                /* What Linux's shutdown_handler does before it freezes. */
                                g->result = xs_write(xs, XBT_NULL, g->path, "", 0) ? 0 : -errno;
                                free(v);
                                break;
                        }
                        free(v);
                }
        }
        free(answer);
        xs_close(xs);
        return NULL;
}

/* ---- layout_request_suspend() ---- */

static void test_suspend_guest_acknowledges(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct guest g = { .domid = f->dom.domid, .path = f->shutdown, .result = 1 };
        pthread_t thread;
        uint64_t start, took, before = layout_request_count(f->l);
        int r;

        assert_int_equal(pthread_create(&thread, NULL, guest_main, &g), 0);
        start = now_ms();
        r = layout_request_suspend(f->l, f->dom.domid, 10000, &err);
        took = now_ms() - start;
        assert_int_equal(pthread_join(thread, NULL), 0);
        if (r != 0)
                fail_msg("request_suspend: %d (%s)", r, err ? err : "?");
        assert_null(err);
        assert_int_equal(g.result, 0);
        print_message("acknowledged after %" PRIu64 " ms, %" PRIu64 " requests\n", took,
                      layout_request_count(f->l) - before);
        assert_true(took < 3000);
        /* It slept on the watch: a read per event, not a busy loop of them. */
        assert_true(layout_request_count(f->l) - before <= 20);
        assert_node(f->xs, f->shutdown, "");
}

/* Acknowledged before the first read: watch, the request, one read, unwatch. */
static void test_suspend_ack_request_count(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct poke p = { .f = f, .value = "" };
        uint64_t before = layout_request_count(f->l), start = now_ms();

        layout_test_hook_request(f->l, REQ_FIRST_READ, poke_run, &p);
        assert_int_equal(layout_request_suspend(f->l, f->dom.domid, 10000, &err), 0);
        assert_true(p.ran);
        assert_true(now_ms() - start < 3000);
        assert_int_equal(layout_request_count(f->l) - before, REQ_FIRST_READ + 1);
        assert_node(f->xs, f->shutdown, "");
}

static void test_suspend_timeout_withdraws(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        char domain[32];
        uint64_t start = now_ms(), took, before = layout_request_count(f->l);

        assert_int_equal(layout_request_suspend(f->l, f->dom.domid, 1000, &err), -ETIMEDOUT);
        took = now_ms() - start;
        print_message("timed out after %" PRIu64 " ms, %" PRIu64 " requests: %s\n", took,
                      layout_request_count(f->l) - before, err);
        assert_true(took >= 1000 && took < 3000);
        /* Asleep on the watch until the deadline: a read per event, not a busy loop of them. */
        assert_true(layout_request_count(f->l) - before <= 20);
        assert_non_null(err);
        snprintf(domain, sizeof(domain), "domain %" PRIu32 " ", f->dom.domid);
        assert_non_null(strstr(err, domain));
        assert_non_null(strstr(err, "did not acknowledge"));
        /* Withdrawn: a guest that wakes later finds nothing to act on. */
        assert_node(f->xs, f->shutdown, "");
}

/*
 * With a timeout of 0 the requests are exact: watch, the request, one read, then the
 * withdraw transaction (start, read, write, commit), unwatch.
 */
static void test_suspend_timeout_zero_request_count(void **state)
{
        struct fixture *f = *state;
        uint64_t before = layout_request_count(f->l);

        assert_int_equal(layout_request_suspend(f->l, f->dom.domid, 0, NULL), -ETIMEDOUT);
        assert_int_equal(layout_request_count(f->l) - before, REQ_WITHDRAW + 3 + 1);
        assert_node(f->xs, f->shutdown, "");
}

/* The acknowledgement lands just before the withdraw transaction starts: it still counts. */
static void test_suspend_ack_at_deadline(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct poke p = { .f = f, .value = "" };
        uint64_t before = layout_request_count(f->l);

        layout_test_hook_request(f->l, REQ_WITHDRAW, poke_run, &p);
        assert_int_equal(layout_request_suspend(f->l, f->dom.domid, 0, &err), 0);
        assert_true(p.ran);
        assert_null(err);
        /* The withdraw transaction read "" and wrote nothing: start, read, commit. */
        assert_int_equal(layout_request_count(f->l) - before, REQ_WITHDRAW + 2 + 1);
        assert_node(f->xs, f->shutdown, "");
}

/*
 * The acknowledgement lands inside the withdraw transaction, after it read "suspend" and
 * before it writes: xenstored fails the commit (EAGAIN), the rerun sees the answer.
 */
static void test_suspend_ack_inside_withdraw(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct poke p = { .f = f, .value = "" };
        uint64_t before = layout_request_count(f->l);

        layout_test_hook_request(f->l, REQ_WITHDRAW + 2, poke_run, &p);
        if (layout_request_suspend(f->l, f->dom.domid, 0, &err) != 0)
                fail_msg("an acknowledgement during the withdraw was lost: %s", err ? err : "?");
        assert_true(p.ran);
        /* The first try (start, read, write, commit) and the rerun (start, read, commit). */
        assert_int_equal(layout_request_count(f->l) - before, REQ_WITHDRAW + 3 + 3 + 1);
        assert_node(f->xs, f->shutdown, "");
}

/* A guest that removes the node has answered too, and the withdraw does not recreate it. */
static void test_suspend_node_removed(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct poke p = { .f = f, .value = NULL };

        layout_test_hook_request(f->l, REQ_FIRST_READ, poke_run, &p);
        assert_int_equal(layout_request_suspend(f->l, f->dom.domid, 10000, &err), 0);
        assert_true(p.ran);
        assert_absent(f->xs, f->shutdown);

        /* At the deadline, before the withdraw transaction. */
        xs_put(f->xs, f->shutdown, "");
        p.ran = false;
        layout_test_hook_request(f->l, REQ_WITHDRAW, poke_run, &p);
        assert_int_equal(layout_request_suspend(f->l, f->dom.domid, 0, &err), 0);
        assert_true(p.ran);
        assert_absent(f->xs, f->shutdown);
}

static void test_suspend_bad_domid(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        uint64_t before = layout_request_count(f->l);

        assert_int_equal(layout_request_suspend(f->l, 0, 1000, &err), -EINVAL);
        assert_non_null(err);
        assert_non_null(strstr(err, "domid 0"));
        assert_int_equal(layout_request_suspend(f->l, DOMID_FIRST_RESERVED, 1000, NULL), -EINVAL);
        assert_int_equal(layout_withdraw_suspend(f->l, 0, NULL), -EINVAL);
        assert_int_equal(layout_request_count(f->l) - before, 0);
}

/* A domain with no /local/domain entry: refused, not created, and no wait. */
static void test_suspend_missing_domain(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        uint64_t start = now_ms();

        assert_int_equal(layout_request_suspend(f->l, MISSING_DOMID, 10000, &err), -ENOENT);
        assert_true(now_ms() - start < 3000);
        assert_non_null(err);
        assert_absent(f->xs, "/local/domain/9");
}

/* ---- layout_withdraw_suspend() ---- */

static void test_withdraw(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        uint64_t before;

        xs_put(f->xs, f->shutdown, "suspend");
        before = layout_request_count(f->l);
        assert_int_equal(layout_withdraw_suspend(f->l, f->dom.domid, &err), 0);
        assert_int_equal(layout_request_count(f->l) - before, 4); /* start, read, write, commit */
        assert_node(f->xs, f->shutdown, "");

        /* Anything else is not ours to clear. */
        xs_put(f->xs, f->shutdown, "poweroff");
        before = layout_request_count(f->l);
        assert_int_equal(layout_withdraw_suspend(f->l, f->dom.domid, &err), 0);
        assert_int_equal(layout_request_count(f->l) - before, 3); /* start, read, commit */
        assert_node(f->xs, f->shutdown, "poweroff");
        xs_put(f->xs, f->shutdown, "");
        assert_int_equal(layout_withdraw_suspend(f->l, f->dom.domid, &err), 0);
        assert_node(f->xs, f->shutdown, "");
        assert_true(xs_rm(f->xs, XBT_NULL, f->shutdown));
        assert_int_equal(layout_withdraw_suspend(f->l, f->dom.domid, &err), 0);
        assert_absent(f->xs, f->shutdown);
        assert_null(err);
}

/* ---- layout_read_guest_features() / layout_write_guest_features() ---- */

static void read_features(struct fixture *f, struct layout_guest_features *gf)
{
        _cleanup_free_ char *err = NULL;

        memset(gf, 'x', sizeof(*gf));
        if (layout_read_guest_features(f->l, f->dom.domid, gf, &err) != 0)
                fail_msg("read features: %s", err ? err : "?");
}

static void test_read_features(void **state)
{
        struct fixture *f = *state;
        struct layout_guest_features gf;
        struct xs_handle *g = xs_test_open_guest(f->dom.domid);
        char poweroff[96], reboot[96], suspend[96];

        feature_path(f, "poweroff", poweroff);
        feature_path(f, "reboot", reboot);
        feature_path(f, "suspend", suspend);

        /* As layout_write_domain() left them: all unknown. */
        read_features(f, &gf);
        assert_string_equal(gf.poweroff, "");
        assert_string_equal(gf.reboot, "");
        assert_string_equal(gf.suspend, "");

        /* The guest writes them (they are its to write). */
        xs_put(g, poweroff, "1");
        xs_put(g, reboot, "0");
        xs_put(g, suspend, "yes");
        read_features(f, &gf);
        assert_string_equal(gf.poweroff, "1");
        assert_string_equal(gf.reboot, "0");
        assert_string_equal(gf.suspend, "");

        xs_put(g, poweroff, "11");
        assert_true(xs_write(g, XBT_NULL, reboot, "1", 2)); /* "1" with its NUL */
        xs_put(g, suspend, "1");
        read_features(f, &gf);
        assert_string_equal(gf.poweroff, "");
        assert_string_equal(gf.reboot, "");
        assert_string_equal(gf.suspend, "1");

        xs_put(g, poweroff, "");
        assert_true(xs_rm(g, XBT_NULL, suspend));
        read_features(f, &gf);
        assert_string_equal(gf.poweroff, "");
        assert_string_equal(gf.suspend, "");
        xs_close(g);

        assert_int_equal(layout_read_guest_features(f->l, 0, &gf, NULL), -EINVAL);
        assert_string_equal(gf.poweroff, "");
}

static void test_write_features(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct layout_guest_features in = { .poweroff = "1", .reboot = "0", .suspend = "" };
        struct layout_guest_features out;
        const char *names[] = { "poweroff", "reboot", "suspend" };
        char acl_before[3][LAYOUT_ACL_STRLEN], acl[LAYOUT_ACL_STRLEN], path[96];
        struct xs_handle *g;
        uint64_t before;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                feature_path(f, names[i], path);
                xs_test_acl(f->xs, path, acl_before[i]);
        }
        feature_path(f, "suspend", path);
        xs_put(f->xs, path, "1");
        assert_int_equal(layout_write_guest_features(f->l, f->dom.domid, &in, &err), 0);
        read_features(f, &out);
        assert_string_equal(out.poweroff, "1");
        assert_string_equal(out.reboot, "0");
        assert_string_equal(out.suspend, "1"); /* "": left as it was */
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                feature_path(f, names[i], path);
                xs_test_acl(f->xs, path, acl);
                if (strcmp(acl, acl_before[i]) != 0)
                        fail_msg("%s has (%s), layout_write_domain made (%s)", path, acl,
                                 acl_before[i]);
        }
        /* Still the guest's: it can write them again. */
        g = xs_test_open_guest(f->dom.domid);
        feature_path(f, "poweroff", path);
        xs_put(g, path, "0");
        xs_close(g);

        /* Only "0" and "1" are written. */
        in = (struct layout_guest_features){ .poweroff = "y", .reboot = "1", .suspend = "" };
        assert_int_equal(layout_write_guest_features(f->l, f->dom.domid, &in, &err), 0);
        read_features(f, &out);
        assert_string_equal(out.poweroff, "0");
        assert_string_equal(out.reboot, "1");

        /* Nothing known: nothing sent. */
        in = (struct layout_guest_features){ 0 };
        before = layout_request_count(f->l);
        assert_int_equal(layout_write_guest_features(f->l, f->dom.domid, &in, &err), 0);
        assert_int_equal(layout_request_count(f->l) - before, 0);
        assert_null(err);

        /* No domain: refused, and nothing created. */
        in = (struct layout_guest_features){ .poweroff = "1" };
        assert_int_equal(layout_write_guest_features(f->l, MISSING_DOMID, &in, &err), -ENOENT);
        assert_non_null(err);
        assert_absent(f->xs, "/local/domain/9");
        assert_int_equal(layout_write_guest_features(f->l, 0, &in, NULL), -EINVAL);
}

/* ---- layout_watch_release(), layout_wait_event(), layout_resume_domain() ---- */

/* How long one layout_wait_event() took, in ms. */
static uint64_t timed_wait(struct fixture *f, unsigned timeout_ms)
{
        uint64_t start = now_ms();

        assert_int_equal(layout_wait_event(f->l, timeout_ms), 0);
        return now_ms() - start;
}

/*
 * The sim's xenstored fires @releaseDomain once when a domain shuts down (here: suspends) and
 * not again until XS_RESUME tells it the domain runs again: a second suspend without
 * layout_resume_domain() goes unseen, one after it wakes the watch.
 */
static void test_release_watch_and_resume(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(layout_watch_release(f->l, &err), 0);
        /* A new watch fires once at once. */
        assert_true(timed_wait(f, 5000) < 2000);
        /* Then nothing: the wait is its timeout, and 0. */
        assert_true(timed_wait(f, 200) >= 190);

        hv_dom(f, HV_OP_SHUTDOWN, SHUTDOWN_REASON_SUSPEND);
        assert_true(timed_wait(f, 5000) < 2000);
        assert_true(timed_wait(f, 200) >= 190);

        /* Resumed in the hypervisor only: xenstored still thinks it shut down. */
        hv_dom(f, HV_OP_RESUME, 0);
        hv_dom(f, HV_OP_SHUTDOWN, SHUTDOWN_REASON_SUSPEND);
        assert_true(timed_wait(f, 300) >= 290);

        hv_dom(f, HV_OP_RESUME, 0);
        assert_int_equal(layout_resume_domain(f->l, f->dom.domid, &err), 0);
        assert_null(err);
        hv_dom(f, HV_OP_SHUTDOWN, SHUTDOWN_REASON_SUSPEND);
        assert_true(timed_wait(f, 5000) < 2000);
}

static void test_resume_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        /* The sim's XS_RESUME wants an introduced guest: ENOENT otherwise, EINVAL for dom0. */
        assert_int_equal(layout_resume_domain(f->l, MISSING_DOMID, &err), -ENOENT);
        assert_non_null(err);
        assert_non_null(strstr(err, "resume domain 9"));
        assert_int_equal(layout_resume_domain(f->l, 0, NULL), -EINVAL);
        /* Released, it is unknown again. */
        assert_true(xs_release_domain(f->xs, f->dom.domid));
        assert_int_equal(layout_resume_domain(f->l, f->dom.domid, NULL), -ENOENT);
}

/* A release (the domain's death) wakes the watch too, well before the timeout. */
static void test_release_on_death(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(layout_watch_release(f->l, &err), 0);
        assert_true(timed_wait(f, 5000) < 2000);
        assert_true(timed_wait(f, 200) >= 190);
        assert_true(xs_release_domain(f->xs, f->dom.domid));
        assert_true(timed_wait(f, 5000) < 2000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_suspend_guest_acknowledges, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_ack_request_count, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_timeout_withdraws, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_timeout_zero_request_count, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_suspend_ack_at_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_ack_inside_withdraw, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_node_removed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_bad_domid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_suspend_missing_domain, setup, teardown),
                cmocka_unit_test_setup_teardown(test_withdraw, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_features, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_features, setup, teardown),
                cmocka_unit_test_setup_teardown(test_release_watch_and_resume, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_release_on_death, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
