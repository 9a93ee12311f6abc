/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout/ against the embedded XenStore server (build/xensup-sim, a child
 * started afresh for every test) through the real libxenstore: every node,
 * value and ACL read back, a guest connection's rights, EAGAIN races, a
 * failure injected at every request of a creation, isolation, teardown, and
 * the xenstore-ls -p output of one domain against a golden file.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenstore.h>

#include "common/macros.h"
#include "layout/acl.h"
#include "layout/layout-internal.h"
#include "layout/layout.h"
#include "layout/sim-child.h"
#include "tests/xs-test.h"

#define UUID_A "5ee01c7a-0d3b-4c52-9f1e-33406b2a9107"
#define UUID_B "0b7e2f51-66c4-4d0e-8a39-c2d1e0f4a5b6"

static const uint8_t uuid_a[16] = { 0x5e, 0xe0, 0x1c, 0x7a, 0x0d, 0x3b, 0x4c, 0x52,
                                    0x9f, 0x1e, 0x33, 0x40, 0x6b, 0x2a, 0x91, 0x07 };
static const uint8_t uuid_b[16] = { 0x0b, 0x7e, 0x2f, 0x51, 0x66, 0xc4, 0x4d, 0x0e,
                                    0x8a, 0x39, 0xc2, 0xd1, 0xe0, 0xf4, 0xa5, 0xb6 };

/* Requests the server has served, all clients together (the simulator's sim-stats). */
static uint64_t server_requests(struct xs_handle *xs)
{
        _cleanup_free_ char *answer = xs_control_command(xs, "sim-stats", (char *)"", 1);
        unsigned long long global = 0, conn = 0;

        assert_non_null(answer);
        assert_int_equal(sscanf(answer, "global=%llu conn=%llu", &global, &conn), 2);
        return global;
}

/* The one creation request count this layout needs for domain A (see layout/README.md). */
#define CREATE_REQUESTS_A 79

/* ---- fixture: a fresh xensup-sim per test ---- */

struct fixture {
        struct sim_child sim;
        struct layout *l;
        struct xs_handle *xs; /* a second dom0 client, for reading back */
        struct domain_config cfg_a, cfg_b;
        struct layout_domain dom_a, dom_b;
};

static void fill_configs(struct fixture *f)
{
        f->cfg_a = (struct domain_config){
                .name = "example",
                .type = DOMAIN_TYPE_PV,
                .memory_mib = 256,
                .maxmem_mib = 512,
                .vcpus = 2,
                .maxvcpus = 4,
                .kernel = (char *)"/boot/vmlinuz-6.1.0-28-amd64",
                .ramdisk = (char *)"/boot/initrd.img-6.1.0-28-amd64",
                .cmdline = (char *)"console=hvc0 root=/dev/xvda1 ro",
                .on_poweroff = ACTION_DESTROY,
                .on_reboot = ACTION_RESTART,
                .on_crash = ACTION_PRESERVE,
                .cpu_weight = 256,
        };
        memcpy(f->cfg_a.uuid, uuid_a, 16);
        f->dom_a = (struct layout_domain){
                .cfg = &f->cfg_a,
                .name = f->cfg_a.name,
                .domid = 5,
                .store_port = 1,
                .store_mfn = 0x41001,
                .console_port = 2,
                .console_mfn = 0x41000,
                .start_time_usec = UINT64_C(1700000000250000),
        };

        f->cfg_b = (struct domain_config){
                .name = "other",
                .type = DOMAIN_TYPE_HVM,
                .memory_mib = 1024,
                .maxmem_mib = 1024,
                .vcpus = 1,
                .maxvcpus = 1,
                .on_poweroff = ACTION_DESTROY,
                .on_reboot = ACTION_RENAME_RESTART,
                .on_crash = ACTION_COREDUMP_RESTART,
                .cpu_weight = 512,
                .ssidref = 3,
        };
        memcpy(f->cfg_b.uuid, uuid_b, 16);
        f->dom_b = (struct layout_domain){
                .cfg = &f->cfg_b,
                .name = f->cfg_b.name,
                .domid = 7,
                .store_port = 3,
                .store_mfn = 0xfeffc,
                .console_port = 4,
                .console_mfn = 0xfefff,
                .start_time_usec = UINT64_C(1700000123000000),
        };
}

static int setup(void **state)
{
        const char *build = getenv("XENSUP_BUILD");
        char sim[512];
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *err = NULL;

        assert_non_null(f);
        snprintf(sim, sizeof(sim), "%s/xensup-sim", build ? build : "build");
        assert_int_equal(sim_child_start(&f->sim, sim, false), 0);
        assert_int_equal(layout_open(&f->l, &err), 0);
        f->xs = xs_open(XS_OPEN_SOCKETONLY);
        assert_non_null(f->xs);
        fill_configs(f);
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

static void write_a(struct fixture *f)
{
        _cleanup_free_ char *err = NULL;

        assert_int_equal(layout_write_domain(f->l, &f->dom_a, &err), 0);
        assert_null(err);
}

static void write_b(struct fixture *f)
{
        _cleanup_free_ char *err = NULL;

        assert_int_equal(layout_write_domain(f->l, &f->dom_b, &err), 0);
}

static bool exists(struct xs_handle *xs, const char *path)
{
        unsigned len;
        char *v = xs_read(xs, XBT_NULL, path, &len);

        free(v);
        return v != NULL;
}

/* One "path = value (acl)" line per node of a subtree, depth first, in sorted order. */
struct dump {
        char **lines;
        size_t n, allocated;
};

static void dump_add(struct dump *d, char *line)
{
        if (d->n == d->allocated) {
                d->allocated = d->allocated ? d->allocated * 2 : 128;
                d->lines = realloc(d->lines, d->allocated * sizeof(char *));
                assert_non_null(d->lines);
        }
        d->lines[d->n++] = line;
}

static void dump_walk(struct xs_handle *xs, const char *path, struct dump *d)
{
        _cleanup_free_ char *value = NULL;
        _cleanup_free_ char **names = NULL;
        char acl[LAYOUT_ACL_STRLEN];
        unsigned len, n = 0;
        char *line;

        value = xs_read(xs, XBT_NULL, path, &len);
        if (!value)
                return;
        xs_test_acl(xs, path, acl);
        assert_true(asprintf(&line, "%s = \"%s\" (%s)", path, value, acl) > 0);
        dump_add(d, line);
        names = xs_directory(xs, XBT_NULL, path, &n);
        for (unsigned i = 0; names && i < n; i++) {
                char child[1024];

                snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "", names[i]);
                dump_walk(xs, child, d);
        }
}

/* Every node below path is dom0's, grants nothing to others, and nothing to anyone but domid. */
static unsigned assert_all_safe(struct xs_handle *xs, const char *path, uint32_t domid)
{
        _cleanup_free_ struct xs_permissions *p = NULL;
        _cleanup_free_ char **names = NULL;
        unsigned n = 0, count = 1;

        p = xs_get_permissions(xs, XBT_NULL, path, &n);
        assert_non_null(p);
        assert_int_equal(p[0].id, 0);
        assert_true(layout_acl_is_safe(p, n, domid));
        names = xs_directory(xs, XBT_NULL, path, &n);
        for (unsigned i = 0; names && i < n; i++) {
                char child[1024];

                snprintf(child, sizeof(child), "%s/%s", path, names[i]);
                count += assert_all_safe(xs, child, domid);
        }
        return count;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dump_tree(struct xs_handle *xs, const char *path, struct dump *d)
{
        dump_walk(xs, path, d);
        qsort(d->lines, d->n, sizeof(char *), cmp_str);
}

static void dump_free(struct dump *d)
{
        for (size_t i = 0; i < d->n; i++)
                free(d->lines[i]);
        free(d->lines);
        *d = (struct dump){ 0 };
}

static void assert_dump_equal(const struct dump *got, const char *const *want, size_t n_want)
{
        _cleanup_free_ const char **sorted = calloc(n_want, sizeof(char *));

        assert_non_null(sorted);
        memcpy(sorted, want, n_want * sizeof(char *));
        qsort(sorted, n_want, sizeof(char *), cmp_str);
        for (size_t i = 0; i < got->n && i < n_want; i++)
                assert_string_equal(got->lines[i], sorted[i]);
        assert_int_equal(got->n, n_want);
}

static bool nothing_of_a(struct fixture *f)
{
        return !exists(f->xs, "/local/domain/5") && !exists(f->xs, "/vm/" UUID_A) &&
               !exists(f->xs, "/local/domain/0/backend/console/5");
}

/* ---- the expected layout of domain A ---- */

#define VM "/vm/" UUID_A
#define LD "/local/domain/5"
#define BE "/local/domain/0/backend/console/5/0"

static const char *const vm_a[] = {
        VM " = \"\" (n0,r5)",
        VM "/uuid = \"" UUID_A "\" (n0,r5)",
        VM "/name = \"example\" (n0,r5)",
        VM "/ssidref = \"0\" (n0,r5)",
        VM "/on_poweroff = \"destroy\" (n0,r5)",
        VM "/on_reboot = \"restart\" (n0,r5)",
        VM "/on_crash = \"preserve\" (n0,r5)",
        VM "/vcpus = \"4\" (n0,r5)",
        VM "/vcpu_avail = \"2\" (n0,r5)",
        VM "/memory = \"256\" (n0,r5)",
        VM "/image = \"\" (n0,r5)",
        VM "/image/ostype = \"linux\" (n0,r5)",
        VM "/image/kernel = \"/boot/vmlinuz-6.1.0-28-amd64\" (n0,r5)",
        VM "/image/ramdisk = \"/boot/initrd.img-6.1.0-28-amd64\" (n0,r5)",
        VM "/image/cmdline = \"console=hvc0 root=/dev/xvda1 ro\" (n0,r5)",
        VM "/start_time = \"1700000000.25\" (n0,r5)",
};

static const char *const local_a[] = {
        LD " = \"\" (n0,r5)",
        LD "/vm = \"/vm/" UUID_A "\" (n0,r5)",
        LD "/name = \"example\" (n0,r5)",
        LD "/domid = \"5\" (n0,r5)",
        LD "/running = \"1\" (n0,r5)",
        LD "/cpu = \"\" (n0,r5)",
        LD "/cpu/0 = \"\" (n0,r5)",
        LD "/cpu/0/availability = \"online\" (n0,r5)",
        LD "/cpu/1 = \"\" (n0,r5)",
        LD "/cpu/1/availability = \"online\" (n0,r5)",
        LD "/cpu/2 = \"\" (n0,r5)",
        LD "/cpu/2/availability = \"offline\" (n0,r5)",
        LD "/cpu/3 = \"\" (n0,r5)",
        LD "/cpu/3/availability = \"offline\" (n0,r5)",
        LD "/cpu_weight = \"256\" (n0,r5)",
        LD "/vcpus = \"4\" (n0,r5)",
        LD "/vcpu_avail = \"3\" (n0,r5)",
        LD "/online_vcpus = \"2\" (n0,r5)",
        LD "/on_poweroff = \"destroy\" (n0,r5)",
        LD "/on_reboot = \"restart\" (n0,r5)",
        LD "/on_crash = \"preserve\" (n0,r5)",
        LD "/memory = \"\" (n0,r5)",
        LD "/memory/static-max = \"524288\" (n0,r5)",
        LD "/memory/target = \"262144\" (n0,r5)",
        LD "/memory/videoram = \"-1\" (n0,r5)",
        LD "/store = \"\" (n0,r5)",
        LD "/store/port = \"1\" (n0,r5)",
        LD "/store/ring-ref = \"266241\" (n0,r5)",
        LD "/console = \"\" (n0,r5)",
        LD "/console/backend = \"" BE "\" (n0,r5)",
        LD "/console/backend-id = \"0\" (n0,r5)",
        LD "/console/limit = \"1048576\" (n0,r5)",
        LD "/console/type = \"xenconsoled\" (n0,r5)",
        LD "/console/output = \"pty\" (n0,r5)",
        LD "/console/tty = \"\" (n0,r5)",
        LD "/console/port = \"2\" (n0,r5)",
        LD "/console/ring-ref = \"266240\" (n0,r5)",
        LD "/device = \"\" (n0,r5)",
        LD "/device/suspend = \"\" (n0,r5)",
        LD "/device/suspend/event-channel = \"\" (n0,b5)",
        LD "/backend = \"\" (n0,r5)",
        LD "/device-misc = \"\" (n0,r5)",
        LD "/image = \"\" (n0,r5)",
        LD "/control = \"\" (n0,r5)",
        LD "/control/shutdown = \"\" (n0,b5)",
        LD "/control/feature-poweroff = \"\" (n0,b5)",
        LD "/control/feature-reboot = \"\" (n0,b5)",
        LD "/control/feature-suspend = \"\" (n0,b5)",
        LD "/control/sysrq = \"\" (n0,b5)",
        LD "/control/platform-feature-multiprocessor-suspend = \"1\" (n0,r5)",
        LD "/control/platform-feature-xs_reset_watches = \"1\" (n0,r5)",
        LD "/data = \"\" (n0,b5)",
        LD "/drivers = \"\" (n0,b5)",
        LD "/feature = \"\" (n0,b5)",
        LD "/attr = \"\" (n0,b5)",
        LD "/error = \"\" (n0,b5)",
};

static const char *const backend_a[] = {
        BE " = \"\" (n0,r5)",
        BE "/frontend = \"" LD "/console\" (n0,r5)",
        BE "/frontend-id = \"5\" (n0,r5)",
        BE "/online = \"1\" (n0,r5)",
        BE "/state = \"1\" (n0,r5)",
        BE "/protocol = \"vt100\" (n0,r5)",
};

static void assert_layout_of_a(struct fixture *f)
{
        struct dump d = { 0 };

        dump_tree(f->xs, VM, &d);
        assert_dump_equal(&d, vm_a, ELEMENTSOF(vm_a));
        dump_free(&d);
        dump_tree(f->xs, LD, &d);
        assert_dump_equal(&d, local_a, ELEMENTSOF(local_a));
        dump_free(&d);
        dump_tree(f->xs, BE, &d);
        assert_dump_equal(&d, backend_a, ELEMENTSOF(backend_a));
        dump_free(&d);
        /* The console backend's parent is dom0's alone, as libxl leaves it. */
        {
                char acl[LAYOUT_ACL_STRLEN];

                xs_test_acl(f->xs, "/local/domain/0/backend/console/5", acl);
                assert_string_equal(acl, "n0");
        }
}

/* ---- tests ---- */

/* Every node, value and ACL of a new domain, and nothing else, in the three subtrees. */
static void test_write_reads_back(void **state)
{
        struct fixture *f = *state;

        write_a(f);
        assert_layout_of_a(f);
}

/* The request count of one domain's creation: one transaction, the figure in the README. */
static void test_request_count(void **state)
{
        struct fixture *f = *state;
        uint64_t before = layout_request_count(f->l);
        uint64_t served = server_requests(f->xs);
        uint64_t floor = 0;

        write_a(f);
        print_message("requests for one domain's creation (PV, 4 vcpus): %" PRIu64 "\n",
                      layout_request_count(f->l) - before);
        assert_int_equal(layout_request_count(f->l) - before, CREATE_REQUESTS_A);
        /* The floor, counted from what xenstored offers: the executor sends no more. */
        assert_int_equal(layout_write_domain_floor(&f->dom_a, &floor, NULL), 0);
        assert_int_equal(floor, CREATE_REQUESTS_A);
        /* The server saw as many, the sim's dom0 backend bus listing its device types (vbd, vif)
         * when the empty console/<domid> appears (2), and the second sim-stats request itself. */
        assert_int_equal(server_requests(f->xs) - served, CREATE_REQUESTS_A + 2 + 1);

        /* Each more vcpu is one more request (its cpu/<n>/availability), nothing else. */
        f->cfg_a.maxvcpus = 8;
        before = layout_request_count(f->l);
        write_a(f);
        assert_int_equal(layout_request_count(f->l) - before, CREATE_REQUESTS_A + 4);
}

/* What the guest may read and write, and what it may not, over its own connection. */
static void test_guest_rights(void **state)
{
        struct fixture *f = *state;
        static const char *const writable[] = {
                LD "/control/shutdown",       LD "/control/feature-poweroff",
                LD "/control/feature-reboot", LD "/control/feature-suspend",
                LD "/control/sysrq",          LD "/device/suspend/event-channel",
                LD "/data/guest-note",        LD "/drivers/linux",
                LD "/feature/hotplug",        LD "/attr/os",
                LD "/error/device",
        };
        static const char *const read_only[] = {
                LD "/name",
                LD "/vm",
                LD "/domid",
                LD "/running",
                LD "/memory/target",
                LD "/memory/static-max",
                LD "/cpu/0/availability",
                LD "/console/tty",
                LD "/console/backend",
                LD "/console/backend-id",
                LD "/store/ring-ref",
                LD "/control/platform-feature-multiprocessor-suspend",
                LD "/new-node",
                LD "/device/vbd",
                LD "/backend/vbd",
                VM "/name",
                VM "/uuid",
                VM "/image/kernel",
                VM "/new-node",
                BE "/state",
        };
        struct xs_permissions mine[1] = { { .id = 5, .perms = XS_PERM_NONE } };
        struct xs_handle *g;

        write_a(f);
        g = xs_test_open_guest(5);

        /* It reads every node of its own subtrees and its console backend. */
        for (size_t i = 0; i < ELEMENTSOF(local_a); i++) {
                char path[256];
                char *v;

                snprintf(path, sizeof(path), "%.*s", (int)strcspn(local_a[i], " "), local_a[i]);
                v = xs_test_read(g, path);
                assert_non_null(v);
                free(v);
        }
        assert_true(exists(g, VM "/image/cmdline"));
        assert_true(exists(g, BE "/frontend"));

        for (size_t i = 0; i < ELEMENTSOF(writable); i++)
                assert_true(xs_write(g, XBT_NULL, writable[i], "1", 1));
        /* The guest acks a shutdown request by clearing it. */
        assert_true(xs_write(g, XBT_NULL, LD "/control/shutdown", "", 0));

        for (size_t i = 0; i < ELEMENTSOF(read_only); i++) {
                errno = 0;
                assert_false(xs_write(g, XBT_NULL, read_only[i], "evil", 4));
                assert_int_equal(errno, EACCES);
        }
        /* Nor may it take a node over, nor remove what dom0 owns. */
        assert_false(xs_set_permissions(g, XBT_NULL, LD "/name", mine, 1));
        assert_false(xs_set_permissions(g, XBT_NULL, LD "/control/shutdown", mine, 1));
        assert_false(xs_rm(g, XBT_NULL, LD "/name"));
        assert_false(xs_rm(g, XBT_NULL, LD "/console"));
        assert_false(xs_rm(g, XBT_NULL, VM));

        /* Nothing it tried changed a read-only node. */
        {
                _cleanup_free_ char *name = xs_test_read(f->xs, LD "/name");

                assert_string_equal(name, "example");
                assert_false(exists(f->xs, LD "/new-node"));
        }
        xs_close(g);
}

/* Two domains: neither guest can read the other's nodes, nor the daemon's /tool. */
static void test_two_domains_isolated(void **state)
{
        struct fixture *f = *state;
        struct layout_tool_state st = { .domid = 5, .last_reason = SHUTDOWN_REASON_NONE };
        struct xs_handle *g5, *g7;
        struct dump before = { 0 }, after = { 0 };

        write_a(f);
        write_b(f);
        assert_int_equal(layout_state_write(f->l, uuid_a, &st, NULL), 0);
        /* Every node of the HVM domain B too: owner dom0, rights only for 7. */
        assert_true(assert_all_safe(f->xs, "/local/domain/7", 7) > 50);
        assert_true(assert_all_safe(f->xs, "/vm/" UUID_B, 7) > 10);
        assert_int_equal(assert_all_safe(f->xs, "/local/domain/0/backend/console/7", 7), 7);
        g5 = xs_test_open_guest(5);
        g7 = xs_test_open_guest(7);

        static const char *const of_b[] = {
                "/local/domain/7",
                "/local/domain/7/name",
                "/local/domain/7/data",
                "/local/domain/7/control/shutdown",
                "/vm/" UUID_B,
                "/vm/" UUID_B "/name",
                "/local/domain/0/backend/console/7/0",
        };
        for (size_t i = 0; i < ELEMENTSOF(of_b); i++) {
                errno = 0;
                assert_false(exists(g5, of_b[i]));
                assert_int_equal(errno, EACCES);
                assert_true(exists(g7, of_b[i]));
                assert_false(xs_write(g5, XBT_NULL, of_b[i], "x", 1));
        }
        static const char *const private[] = { "/tool/xensup/" UUID_A, "/local/domain/0",
                                               "/local/domain/0/backend/console/5" };
        for (size_t i = 0; i < ELEMENTSOF(private); i++) {
                errno = 0;
                assert_false(exists(g5, private[i]));
                assert_int_equal(errno, EACCES);
        }
        assert_false(exists(g7, LD "/name"));
        assert_false(exists(g7, VM "/name"));

        /* Removing one leaves the other exactly as it was. */
        dump_tree(f->xs, "/local/domain/7", &before);
        assert_int_equal(layout_remove_local(f->l, 5, NULL), 0);
        assert_int_equal(layout_remove_vm(f->l, uuid_a, NULL), 0);
        dump_tree(f->xs, "/local/domain/7", &after);
        assert_int_equal(before.n, after.n);
        for (size_t i = 0; i < before.n; i++)
                assert_string_equal(before.lines[i], after.lines[i]);
        assert_true(exists(f->xs, "/vm/" UUID_B "/name"));
        assert_true(exists(f->xs, "/local/domain/0/backend/console/7/0/frontend"));
        dump_free(&before);
        dump_free(&after);
        xs_close(g5);
        xs_close(g7);
}

struct racer {
        struct xs_handle *xs;
        struct layout *l;
        uint64_t every; /* re-arm after this many requests; 0 = once */
        unsigned fired;
};

/* Another dom0 client writes into the subtree the transaction is building. */
static void race(void *userdata)
{
        struct racer *r = userdata;

        r->fired++;
        assert_true(xs_write(r->xs, XBT_NULL, LD "/name", "interloper", 10));
        if (r->every)
                layout_test_hook_request(r->l, r->every, race, r);
}

/*
 * A conflicting write just before the commit (when every write of the transaction has reached
 * xenstored, whether sent one by one or ahead) makes it fail with EAGAIN; the retry wins.
 */
static void test_eagain_retry(void **state)
{
        struct fixture *f = *state;
        struct racer r = { .xs = f->xs, .l = f->l };
        uint64_t before = layout_request_count(f->l);

        layout_test_hook_request(f->l, CREATE_REQUESTS_A, race, &r);
        write_a(f);
        assert_int_equal(r.fired, 1);
        /* The whole creation ran twice: the first commit was refused. */
        assert_int_equal(layout_request_count(f->l) - before, 2 * CREATE_REQUESTS_A);
        assert_layout_of_a(f);
}

struct other_build {
        struct layout *l;
        const struct layout_domain *d;
        unsigned fired;
};

/* Another build child writes its own domain's whole layout. */
static void write_other(void *userdata)
{
        struct other_build *o = userdata;
        _cleanup_free_ char *err = NULL;

        o->fired++;
        assert_int_equal(layout_write_domain(o->l, o->d, &err), 0);
        assert_null(err);
}

/*
 * Two domains' layouts touch no node in common: B's, written whole while A's transaction is
 * open (just before its commit), neither conflicts with it nor waits for it.
 */
static void test_other_domain_no_conflict(void **state)
{
        struct fixture *f = *state;
        struct other_build o = { .d = &f->dom_b };
        uint64_t before = layout_request_count(f->l);

        assert_int_equal(layout_open(&o.l, NULL), 0);
        layout_test_hook_request(f->l, CREATE_REQUESTS_A, write_other, &o);
        write_a(f);
        assert_int_equal(o.fired, 1);
        /* One attempt: the commit was not refused. */
        assert_int_equal(layout_request_count(f->l) - before, CREATE_REQUESTS_A);
        assert_layout_of_a(f);
        assert_true(exists(f->xs, "/local/domain/7/name"));
        assert_true(exists(f->xs, "/local/domain/0/backend/console/7/0/frontend"));
        layout_close(o.l);
}

/* A conflict at every attempt: the bound is kept, the error says so, nothing of ours stays. */
static void test_eagain_bounded(void **state)
{
        struct fixture *f = *state;
        struct racer r = { .xs = f->xs, .l = f->l, .every = CREATE_REQUESTS_A };
        _cleanup_free_ char *err = NULL;
        uint64_t before = layout_request_count(f->l);

        layout_test_hook_request(f->l, CREATE_REQUESTS_A, race, &r);
        assert_int_equal(layout_write_domain(f->l, &f->dom_a, &err), -EAGAIN);
        assert_non_null(err);
        assert_non_null(strstr(err, "10 attempts"));
        assert_int_equal(r.fired, 10);
        /* Ten attempts, and the cleared subtrees taken away again (3). */
        assert_int_equal(layout_request_count(f->l) - before, 10 * CREATE_REQUESTS_A + 3);
        layout_test_hook_request(f->l, 0, NULL, NULL);
        /* Nothing of the layout's is there, nor what the interloper wrote into it. */
        assert_true(nothing_of_a(f));
}

static void break_wire(void *userdata)
{
        assert_true(layout_test_break_wire(userdata));
}

/*
 * xenstored's socket gone mid-transaction (requests sent ahead of their replies): the attempt
 * runs again, one request at a time through libxenstore, and the layout is whole.
 */
static void test_wire_lost_before_commit(void **state)
{
        struct fixture *f = *state;
        uint64_t before = layout_request_count(f->l);

        layout_test_hook_request(f->l, 40, break_wire, f->l);
        write_a(f);
        assert_layout_of_a(f);
        /* The lost attempt (cut short where its loss was found), its abort, a whole creation. */
        assert_true(layout_request_count(f->l) - before > 40 + CREATE_REQUESTS_A);
        assert_true(layout_request_count(f->l) - before <= 2 * CREATE_REQUESTS_A + 1);
        /* No wire any more: the hook has nothing to break. */
        assert_false(layout_test_break_wire(f->l));
        write_a(f);
        assert_layout_of_a(f);
}

/*
 * Lost at the commit, the transaction may or may not have been applied: no retry, a failure,
 * and (xenstored ends a connection's transactions with it) nothing of it in XenStore.
 */
static void test_wire_lost_at_commit(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        layout_test_hook_request(f->l, CREATE_REQUESTS_A, break_wire, f->l);
        assert_true(layout_write_domain(f->l, &f->dom_a, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err, "commit"));
        assert_true(nothing_of_a(f));
        write_a(f);
        assert_layout_of_a(f);
}

/* Make each request of a creation fail in turn: every time, nothing is left behind. */
static void test_failure_at_every_request(void **state)
{
        struct fixture *f = *state;

        for (uint64_t n = 1; n <= CREATE_REQUESTS_A; n++) {
                _cleanup_free_ char *err = NULL;

                layout_test_fail_request(f->l, n, EIO);
                assert_int_equal(layout_write_domain(f->l, &f->dom_a, &err), -EIO);
                assert_non_null(err);
                assert_true(nothing_of_a(f));
        }
        /* And the same handle still works afterwards. */
        write_a(f);
        assert_layout_of_a(f);
}

/*
 * A failed update or teardown leaves the previous layout whole; a failed re-creation leaves
 * nothing of either (a domain's layout is written once per instance, the old one dead by then).
 */
static void test_failure_keeps_previous(void **state)
{
        struct fixture *f = *state;

        write_a(f);
        for (uint64_t n = 1; n <= 4; n++) {
                layout_test_fail_request(f->l, n, EIO);
                assert_int_equal(layout_remove_local(f->l, 5, NULL), -EIO);
                layout_test_fail_request(f->l, n, ENOSPC);
                assert_int_equal(layout_rename(f->l, 5, uuid_a, "renamed", NULL), -ENOSPC);
        }
        assert_layout_of_a(f);
        for (uint64_t n = 1; n <= CREATE_REQUESTS_A; n += 7) {
                layout_test_fail_request(f->l, n, EIO);
                assert_int_equal(layout_write_domain(f->l, &f->dom_a, NULL), -EIO);
                assert_true(nothing_of_a(f));
                write_a(f);
        }
        assert_layout_of_a(f);
}

/* Teardown removes the domain's nodes and its console backend, and nothing else. */
static void test_teardown(void **state)
{
        struct fixture *f = *state;
        struct dump before = { 0 }, after = { 0 };
        _cleanup_free_ char *err = NULL;

        /* The tree as the daemon finds it after a first domain: /vm and dom0's console backends. */
        assert_true(xs_mkdir(f->xs, XBT_NULL, "/vm"));
        assert_true(xs_mkdir(f->xs, XBT_NULL, "/local/domain/0/backend/console"));
        dump_tree(f->xs, "/", &before);

        write_a(f);
        assert_int_equal(layout_remove_local(f->l, 5, &err), 0);
        assert_false(exists(f->xs, LD));
        assert_false(exists(f->xs, "/local/domain/0/backend/console/5"));
        assert_true(exists(f->xs, VM "/name"));
        assert_int_equal(layout_remove_vm(f->l, uuid_a, &err), 0);
        dump_tree(f->xs, "/", &after);
        assert_int_equal(before.n, after.n);
        for (size_t i = 0; i < before.n; i++)
                assert_string_equal(before.lines[i], after.lines[i]);
        dump_free(&before);
        dump_free(&after);

        /* Removing what is gone is fine; dom0 and reserved ids are refused. */
        assert_int_equal(layout_remove_local(f->l, 5, NULL), 0);
        assert_int_equal(layout_remove_vm(f->l, uuid_a, NULL), 0);
        assert_int_equal(layout_remove_local(f->l, 0, &err), -EINVAL);
        assert_int_equal(layout_remove_local(f->l, 0x7FF0, NULL), -EINVAL);
        assert_true(exists(f->xs, "/local/domain/0/name"));
}

/* A reused domid never sees what the previous domain (or its guest) left (XSA-322). */
static void test_reused_domid_starts_clean(void **state)
{
        struct fixture *f = *state;
        struct xs_handle *g;

        write_b(f);
        g = xs_test_open_guest(7);
        assert_true(xs_write(g, XBT_NULL, "/local/domain/7/data/secret", "b's", 3));
        assert_true(xs_write(g, XBT_NULL, "/local/domain/7/control/feature-s3", "1", 1));
        xs_close(g);

        /* Even without a teardown in between (a daemon killed mid-way), the new one is clean. */
        f->dom_a.domid = 7;
        write_a(f);
        assert_false(exists(f->xs, "/local/domain/7/data/secret"));
        assert_false(exists(f->xs, "/local/domain/7/control/feature-s3"));
        {
                _cleanup_free_ char *vm = xs_test_read(f->xs, "/local/domain/7/vm");

                assert_string_equal(vm, VM);
        }
        /* ... and with one, nothing at all remains. */
        assert_int_equal(layout_remove_local(f->l, 7, NULL), 0);
        assert_false(exists(f->xs, "/local/domain/7"));
}

/* A restart: the same /vm/<uuid>, re-written for the new domid's guest. */
static void test_restart_same_vm(void **state)
{
        struct fixture *f = *state;
        char acl[LAYOUT_ACL_STRLEN];
        struct xs_handle *g;

        write_a(f);
        assert_int_equal(layout_remove_local(f->l, 5, NULL), 0);
        f->dom_a.domid = 6;
        write_a(f);
        {
                _cleanup_free_ char *vm = xs_test_read(f->xs, "/local/domain/6/vm");

                assert_string_equal(vm, VM);
        }
        xs_test_acl(f->xs, VM "/name", acl);
        assert_string_equal(acl, "n0,r6");
        /* The old domid's guest has lost its read right on /vm/<uuid>. */
        g = xs_test_open_guest(5);
        assert_false(exists(g, VM "/name"));
        xs_close(g);
}

static void test_rename(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        char *v;

        write_a(f);
        assert_int_equal(layout_rename(f->l, 5, uuid_a, "example-5", &err), 0);
        v = xs_test_read(f->xs, LD "/name");
        assert_string_equal(v, "example-5");
        free(v);
        v = xs_test_read(f->xs, VM "/name");
        assert_string_equal(v, "example-5");
        free(v);
        v = xs_test_read(f->xs, VM "/uuid");
        assert_string_equal(v, UUID_A);
        free(v);

        /* Bad names never reach XenStore; a missing domain is not re-created. */
        assert_int_equal(layout_rename(f->l, 5, uuid_a, "a/b", NULL), -EINVAL);
        assert_int_equal(layout_rename(f->l, 5, uuid_a, "", NULL), -EINVAL);
        assert_int_equal(layout_rename(f->l, 9, uuid_a, "x", &err), -ENOENT);
        assert_false(exists(f->xs, "/local/domain/9"));
        assert_int_equal(layout_rename(f->l, 5, uuid_b, "x", NULL), -ENOENT);
        assert_false(exists(f->xs, "/vm/" UUID_B));
}

static void test_updates(void **state)
{
        struct fixture *f = *state;
        struct xs_handle *g;
        char acl[LAYOUT_ACL_STRLEN];
        char *v;

        write_a(f);
        assert_int_equal(layout_set_memory(f->l, 5, uuid_a, 131072, NULL), 0);
        v = xs_test_read(f->xs, LD "/memory/target");
        assert_string_equal(v, "131072");
        free(v);
        v = xs_test_read(f->xs, VM "/memory");
        assert_string_equal(v, "128");
        free(v);
        /* mem-max moves static-max alone, keeping its ACL: the guest reads it, never writes. */
        assert_int_equal(layout_set_max_memory(f->l, 5, 1048576, NULL), 0);
        v = xs_test_read(f->xs, LD "/memory/static-max");
        assert_string_equal(v, "1048576");
        free(v);
        xs_test_acl(f->xs, LD "/memory/static-max", acl);
        assert_string_equal(acl, "n0,r5");
        v = xs_test_read(f->xs, LD "/memory/target");
        assert_string_equal(v, "131072");
        free(v);

        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 3, 4, NULL), 0);
        v = xs_test_read(f->xs, LD "/cpu/2/availability");
        assert_string_equal(v, "online");
        free(v);
        v = xs_test_read(f->xs, LD "/cpu/3/availability");
        assert_string_equal(v, "offline");
        free(v);
        v = xs_test_read(f->xs, LD "/vcpu_avail");
        assert_string_equal(v, "7");
        free(v);
        v = xs_test_read(f->xs, LD "/online_vcpus");
        assert_string_equal(v, "3");
        free(v);
        v = xs_test_read(f->xs, VM "/vcpu_avail");
        assert_string_equal(v, "3");
        free(v);
        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 5, 4, NULL), -EINVAL);

        /* Past 64 vcpus the bitmap is wider than 64 bits: still one exact decimal. */
        f->cfg_a.vcpus = 65;
        f->cfg_a.maxvcpus = VCPUS_MAX;
        write_a(f);
        v = xs_test_read(f->xs, LD "/vcpu_avail");
        assert_string_equal(v, "36893488147419103231"); /* 2^65 - 1 */
        free(v);
        v = xs_test_read(f->xs, LD "/cpu/127/availability");
        assert_string_equal(v, "offline");
        free(v);
        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 128, 128, NULL), 0);
        v = xs_test_read(f->xs, LD "/vcpu_avail");
        assert_string_equal(v, "340282366920938463463374607431768211455"); /* 2^128 - 1 */
        free(v);
        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 1, 1, NULL), 0);
        v = xs_test_read(f->xs, LD "/vcpu_avail");
        assert_string_equal(v, "1");
        free(v);
        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 64, 64, NULL), 0);
        v = xs_test_read(f->xs, LD "/vcpu_avail");
        assert_string_equal(v, "18446744073709551615");
        free(v);
        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 1, VCPUS_MAX + 1, NULL), -EINVAL);
        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 0, 4, NULL), -EINVAL);

        assert_int_equal(layout_set_running(f->l, 5, false, NULL), 0);
        v = xs_test_read(f->xs, LD "/running");
        assert_string_equal(v, "0");
        free(v);

        assert_int_equal(layout_request_shutdown(f->l, 5, "reboot", NULL), 0);
        v = xs_test_read(f->xs, LD "/control/shutdown");
        assert_string_equal(v, "reboot");
        free(v);
        /* The request keeps the node's ACL, so the guest can read and clear it. */
        xs_test_acl(f->xs, LD "/control/shutdown", acl);
        assert_string_equal(acl, "n0,b5");
        g = xs_test_open_guest(5);
        v = xs_test_read(g, LD "/control/shutdown");
        assert_string_equal(v, "reboot");
        free(v);
        assert_true(xs_write(g, XBT_NULL, LD "/control/shutdown", "", 0));
        xs_close(g);
        assert_int_equal(layout_request_shutdown(f->l, 5, "explode", NULL), -EINVAL);

        /* Updates of a domain that is gone create nothing. */
        assert_int_equal(layout_remove_local(f->l, 5, NULL), 0);
        assert_int_equal(layout_set_memory(f->l, 5, uuid_a, 1024, NULL), -ENOENT);
        assert_int_equal(layout_set_max_memory(f->l, 5, 1048576, NULL), -ENOENT);
        assert_int_equal(layout_set_vcpus(f->l, 5, uuid_a, 1, 1, NULL), -ENOENT);
        assert_int_equal(layout_set_running(f->l, 5, true, NULL), -ENOENT);
        assert_int_equal(layout_request_shutdown(f->l, 5, "poweroff", NULL), -ENOENT);
        assert_false(exists(f->xs, LD));
}

static void test_write_refuses_bad_input(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        f->dom_a.domid = 0;
        assert_int_equal(layout_write_domain(f->l, &f->dom_a, &err), -EINVAL);
        assert_non_null(strstr(err, "domid 0"));
        f->dom_a.domid = 0x7FF0;
        assert_int_equal(layout_write_domain(f->l, &f->dom_a, NULL), -EINVAL);
        f->dom_a.domid = 5;
        f->dom_a.name = "../../tool";
        assert_int_equal(layout_write_domain(f->l, &f->dom_a, NULL), -EINVAL);
        f->dom_a.name = f->cfg_a.name;
        f->cfg_a.maxvcpus = VCPUS_MAX + 1;
        assert_int_equal(layout_write_domain(f->l, &f->dom_a, NULL), -EINVAL);
        f->cfg_a.maxvcpus = 4;
        f->cfg_a.on_crash = _ACTION_MAX;
        assert_int_equal(layout_write_domain(f->l, &f->dom_a, NULL), -EINVAL);
        assert_true(nothing_of_a(f));
        assert_true(exists(f->xs, "/local/domain/0/name"));
}

/* ---- the daemon's record, /tool/xensup/<uuid> ---- */

#define REC "/tool/xensup/" UUID_A

/* Put a record's text in place as another dom0 client would, then read it through layout. */
static int read_text(struct fixture *f, const char *text, struct layout_tool_state *s, char **err)
{
        assert_true(xs_write(f->xs, XBT_NULL, REC, text, (unsigned)strlen(text)));
        return layout_state_read(f->l, uuid_a, s, err);
}

/* A record with every field away from its default. */
static struct layout_tool_state full_record(void)
{
        struct layout_tool_state s = {
                .domid = 5,
                .build_in_progress = true,
                .state = "shutting-down",
                .restart_count = 3,
                .restart_window_start = 1700000000,
                .restart_window_count = 2,
                .restart_due = 1700000090,
                .started_at_usec = UINT64_C(1700000060250000),
                .shutdown_requested = true,
                .shutdown_reboot = true,
                .shutdown_deadline = UINT64_MAX,
                .failed = true,
                .last_reason = SHUTDOWN_REASON_SOFT_RESET,
                .failure = "start failed: kernel /boot/x: No such file or directory",
                .config_path = "/srv/vms/a b.conf",
                .kept = true,
                .name = "example-5",
                .creator_uid = 1000,
                .creator_groups = "1000,27,100",
                .last_action = "destroy",
                .history = "1700000000000000 started - - xensupd;1700000060000000 stopped crash "
                           "restart guest",
                .last_action_uid = 1000,
                .last_action_pid = 4242,
                .last_action_usec = UINT64_C(1700000070125000),
                .max_memory_kib = 786432,
        };

        memcpy(s.kept_of, uuid_b, 16);
        return s;
}

static void assert_record_equal(const struct layout_tool_state *a,
                                const struct layout_tool_state *b)
{
        assert_int_equal(a->domid, b->domid);
        assert_int_equal(a->build_in_progress, b->build_in_progress);
        assert_string_equal(a->state, b->state);
        assert_int_equal(a->restart_count, b->restart_count);
        assert_true(a->restart_window_start == b->restart_window_start);
        assert_int_equal(a->restart_window_count, b->restart_window_count);
        assert_true(a->restart_due == b->restart_due);
        assert_true(a->started_at_usec == b->started_at_usec);
        assert_int_equal(a->shutdown_requested, b->shutdown_requested);
        assert_int_equal(a->shutdown_reboot, b->shutdown_reboot);
        assert_true(a->shutdown_deadline == b->shutdown_deadline);
        assert_int_equal(a->failed, b->failed);
        assert_int_equal(a->last_reason, b->last_reason);
        assert_string_equal(a->failure, b->failure);
        assert_string_equal(a->config_path, b->config_path);
        assert_int_equal(a->kept, b->kept);
        assert_memory_equal(a->kept_of, b->kept_of, 16);
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->creator_uid, b->creator_uid);
        assert_string_equal(a->creator_groups, b->creator_groups);
        assert_string_equal(a->last_action, b->last_action);
        assert_int_equal(a->last_action_uid, b->last_action_uid);
        assert_int_equal(a->last_action_pid, b->last_action_pid);
        assert_true(a->last_action_usec == b->last_action_usec);
        assert_string_equal(a->history, b->history);
        assert_true(a->max_memory_kib == b->max_memory_kib);
}

/*
 * /tool readable by every domain: the first record makes /tool/xensup dom0-only in its
 * transaction; later ones are a single write each, and a new one takes the directory's ACL.
 */
static void test_tool_state_requests(void **state)
{
        static struct xs_permissions open_to_all[] = { { .id = 0, .perms = XS_PERM_READ } };
        struct fixture *f = *state;
        struct layout_tool_state s = full_record();
        char acl[LAYOUT_ACL_STRLEN];
        uint64_t before;

        assert_true(xs_write(f->xs, XBT_NULL, "/tool", "", 0));
        assert_true(xs_set_permissions(f->xs, XBT_NULL, "/tool", open_to_all, 1));
        before = layout_request_count(f->l);
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, NULL), 0);
        /* Start, the write, two ACLs, the commit. */
        assert_int_equal(layout_request_count(f->l) - before, 5);
        xs_test_acl(f->xs, "/tool/xensup", acl);
        assert_string_equal(acl, "n0");
        xs_test_acl(f->xs, REC, acl);
        assert_string_equal(acl, "n0");

        s.restart_count++;
        before = layout_request_count(f->l);
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, NULL), 0);
        assert_int_equal(layout_state_write(f->l, uuid_b, &s, NULL), 0);
        assert_int_equal(layout_request_count(f->l) - before, 2);
        xs_test_acl(f->xs, "/tool/xensup/" UUID_B, acl);
        assert_string_equal(acl, "n0");
        xs_test_acl(f->xs, "/tool", acl);
        assert_string_equal(acl, "r0");
}

/* Every field written and read back; the record is dom0-only, listed, and removed. */
static void test_tool_state_round_trip(void **state)
{
        struct fixture *f = *state;
        struct layout_tool_state s = full_record(), back,
                                 none = { .last_reason = SHUTDOWN_REASON_NONE };
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;
        size_t n_uuids = 0;
        char acl[LAYOUT_ACL_STRLEN];
        struct xs_handle *g;

        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), -ENOENT);
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, &err), 0);
        assert_null(err);
        memset(&back, 0xAA, sizeof(back));
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, &err), 0);
        assert_record_equal(&back, &s);
        /* The text starts with its version and names every key. */
        text = xs_test_read(f->xs, REC);
        assert_non_null(text);
        assert_int_equal(strncmp(text, "version=2\ndomid=5\n", 18), 0);
        assert_non_null(strstr(text, "\nkept_of=" UUID_B "\n"));
        assert_non_null(strstr(text, "\nstarted_at_usec=1700000060250000\n"));

        assert_int_equal(layout_list_states(f->l, &uuids, &n_uuids, NULL), 0);
        assert_int_equal(n_uuids, 1);
        assert_memory_equal(uuids[0], uuid_a, 16);

        /* dom0's alone: the guest neither reads nor writes it. */
        xs_test_acl(f->xs, REC, acl);
        assert_string_equal(acl, "n0");
        g = xs_test_open_guest(5);
        errno = 0;
        assert_false(exists(g, REC));
        assert_int_equal(errno, EACCES);
        assert_false(xs_write(g, XBT_NULL, REC, "version=2\ndomid=1\n", 18));
        xs_close(g);

        /* All defaults round-trip too. */
        assert_int_equal(layout_state_write(f->l, uuid_a, &none, NULL), 0);
        memset(&back, 0xAA, sizeof(back));
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), 0);
        assert_record_equal(&back, &none);

        assert_int_equal(layout_state_remove(f->l, uuid_a, NULL), 0);
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), -ENOENT);
        assert_int_equal(layout_state_remove(f->l, uuid_a, NULL), 0);
}

/* Keys in another order, keys this daemon does not know, keys left out. */
static void test_tool_state_any_order(void **state)
{
        struct fixture *f = *state;
        struct layout_tool_state s = full_record(), back;
        _cleanup_free_ char *err = NULL;

        memset(&back, 0xAA, sizeof(back));
        assert_int_equal(read_text(f,
                                   "version=2\n"
                                   "max_memory_kib=786432\n"
                                   "history=1700000000000000 started - - xensupd;"
                                   "1700000060000000 stopped crash restart guest\n"
                                   "last_action_usec=1700000070125000\n"
                                   "last_action_pid=4242\n"
                                   "last_action_uid=1000\n"
                                   "last_action=destroy\n"
                                   "creator_groups=1000,27,100\n"
                                   "creator_uid=1000\n"
                                   "name=example-5\n"
                                   "kept_of=" UUID_B "\n"
                                   "kept=1\n"
                                   "config_path=/srv/vms/a b.conf\n"
                                   "failure=start failed: kernel /boot/x: No such file or "
                                   "directory\n"
                                   "last_reason=soft_reset\n"
                                   "failed=1\n"
                                   "shutdown_deadline=18446744073709551615\n"
                                   "shutdown_reboot=1\n"
                                   "shutdown_requested=1\n"
                                   "started_at_usec=1700000060250000\n"
                                   "restart_due=1700000090\n"
                                   "restart_window_count=2\n"
                                   "restart_window_start=1700000000\n"
                                   "restart_count=3\n"
                                   "state=shutting-down\n"
                                   "build_in_progress=1\n"
                                   "domid=5\n",
                                   &back, &err),
                         0);
        assert_record_equal(&back, &s);
}

/* A newer daemon's keys are skipped, whatever their value looks like. */
static void test_tool_state_unknown_key(void **state)
{
        struct fixture *f = *state;
        struct layout_tool_state back;

        assert_int_equal(read_text(f,
                                   "version=2\n"
                                   "numa_node=3\n"
                                   "domid=9\n"
                                   "future_flags=a=b=c \\q \x7f\n"
                                   "future_empty=\n"
                                   "state=running\n",
                                   &back, NULL),
                         0);
        assert_int_equal(back.domid, 9);
        assert_string_equal(back.state, "running");
        assert_int_equal(back.restart_count, 0);
}

/* A key left out takes its default. */
static void test_tool_state_missing_key(void **state)
{
        struct fixture *f = *state;
        struct layout_tool_state back, want = { .domid = 7, .last_reason = SHUTDOWN_REASON_NONE };

        memset(&back, 0xAA, sizeof(back));
        assert_int_equal(read_text(f, "version=2\ndomid=7\n", &back, NULL), 0);
        assert_record_equal(&back, &want);
        memset(&back, 0xAA, sizeof(back));
        want.domid = 0;
        assert_int_equal(read_text(f, "version=2\n", &back, NULL), 0);
        assert_record_equal(&back, &want);
}

/* Records as the daemon before version 2 wrote them (its writer's exact output), converted. */
static void test_tool_state_version1(void **state)
{
        struct fixture *f = *state;
        static const char with_path[] = "domid=5\n"
                                        "build_in_progress=0\n"
                                        "restart_count=2\n"
                                        "restart_times=1700000000,1700000060\n"
                                        "shutdown_requested=1\n"
                                        "shutdown_reboot=1\n"
                                        "shutdown_deadline=1700000120\n"
                                        "failed=0\n"
                                        "last_reason=reboot\n"
                                        "config_path=/etc/xensup/web.conf\n";
        static const char without_path[] = "domid=0\n"
                                           "build_in_progress=0\n"
                                           "restart_count=7\n"
                                           "restart_times=1700000300,1700000200,1700000400\n"
                                           "shutdown_requested=0\n"
                                           "shutdown_reboot=0\n"
                                           "shutdown_deadline=0\n"
                                           "failed=1\n"
                                           "last_reason=crash\n";
        static const char *const bad[] = {
                /* still strict: order, the burst bound, what follows */
                "build_in_progress=0\ndomid=5\nrestart_count=1\nrestart_times=42\n"
                "shutdown_requested=0\nshutdown_reboot=0\nshutdown_deadline=0\nfailed=1\n"
                "last_reason=crash\n",
                "domid=5\nbuild_in_progress=0\nrestart_count=1\n"
                "restart_times=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n"
                "shutdown_requested=0\nshutdown_reboot=0\nshutdown_deadline=0\nfailed=1\n"
                "last_reason=crash\n",
                "domid=5\nbuild_in_progress=0\nrestart_count=1\nrestart_times=1,,2\n"
                "shutdown_requested=0\nshutdown_reboot=0\nshutdown_deadline=0\nfailed=1\n"
                "last_reason=crash\n",
                "domid=5\nbuild_in_progress=0\nrestart_count=1\nrestart_times=42\n"
                "shutdown_requested=0\nshutdown_reboot=0\nshutdown_deadline=0\nfailed=1\n"
                "last_reason=crash\nextra=1\n",
                "domid=5\nbuild_in_progress=0\nrestart_count=1\nrestart_times=42\n"
                "shutdown_requested=0\nshutdown_reboot=0\nshutdown_deadline=0\nfailed=1\n"
                "last_reason=crash\nconfig_path=a.conf\n",
                "domid=5\nbuild_in_progress=0\nrestart_count=1\nrestart_times=42\n"
                "shutdown_requested=0\nshutdown_reboot=0\nshutdown_deadline=0\nfailed=1\n"
                "last_reason=crash",
                "",
        };
        struct layout_tool_state back;

        memset(&back, 0xAA, sizeof(back));
        assert_int_equal(read_text(f, with_path, &back, NULL), 0);
        assert_int_equal(back.domid, 5);
        assert_false(back.build_in_progress);
        assert_int_equal(back.restart_count, 2);
        assert_true(back.restart_window_start == 1700000000);
        assert_int_equal(back.restart_window_count, 2);
        assert_true(back.shutdown_requested);
        assert_true(back.shutdown_reboot);
        assert_true(back.shutdown_deadline == 1700000120);
        assert_false(back.failed);
        assert_int_equal(back.last_reason, SHUTDOWN_REASON_REBOOT);
        assert_string_equal(back.config_path, "/etc/xensup/web.conf");
        /* What version 1 did not have takes its default. */
        assert_string_equal(back.state, "");
        assert_true(back.restart_due == 0);
        assert_true(back.started_at_usec == 0);
        assert_string_equal(back.failure, "");
        assert_false(back.kept);
        assert_string_equal(back.name, "");

        /* The window begins at the oldest time, whatever the order. */
        memset(&back, 0xAA, sizeof(back));
        assert_int_equal(read_text(f, without_path, &back, NULL), 0);
        assert_int_equal(back.domid, 0);
        assert_int_equal(back.restart_count, 7);
        assert_true(back.restart_window_start == 1700000200);
        assert_int_equal(back.restart_window_count, 3);
        assert_true(back.failed);
        assert_int_equal(back.last_reason, SHUTDOWN_REASON_CRASH);
        assert_string_equal(back.config_path, "");

        /* An empty history is no window. */
        assert_int_equal(read_text(f,
                                   "domid=5\nbuild_in_progress=0\nrestart_count=0\nrestart_times=\n"
                                   "shutdown_requested=0\nshutdown_reboot=0\nshutdown_deadline=0\n"
                                   "failed=0\nlast_reason=none\n",
                                   &back, NULL),
                         0);
        assert_true(back.restart_window_start == 0);
        assert_int_equal(back.restart_window_count, 0);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL;

                assert_int_equal(read_text(f, bad[i], &back, &err), -EBADMSG);
                assert_non_null(err);
        }
}

/* What a version 2 reader refuses, and the key its message names. */
static void test_tool_state_refused(void **state)
{
        struct fixture *f = *state;
        static const struct {
                const char *text, *names;
        } bad[] = {
                /* a known key twice, even with the same value */
                { "version=2\ndomid=5\nfailed=0\ndomid=5\n", "domid: given twice" },
                { "version=2\nversion=2\n", "version: given twice" },
                /* malformed numbers: a leading zero, a sign, a space, past the type, no guest's */
                { "version=2\nrestart_count=01\n", "restart_count: malformed value '01'" },
                { "version=2\nrestart_due=-1\n", "restart_due" },
                { "version=2\nrestart_window_count= 1\n", "restart_window_count" },
                { "version=2\nrestart_window_count=4294967296\n", "restart_window_count" },
                { "version=2\nstarted_at_usec=18446744073709551616\n", "started_at_usec" },
                { "version=2\nstarted_at_usec=\n", "started_at_usec" },
                { "version=2\ndomid=32752\n", "domid" },
                { "version=2\nfailed=2\n", "failed" },
                { "version=2\nlast_reason=exploded\n", "last_reason" },
                /* overlong values */
                { "version=2\nstate=abcdefghijklmnopqrstuvwxyz0123456\n",
                  "state: value longer than 31 bytes" },
                { "version=2\nrestart_due=000000000000000000001\n", "restart_due: value longer" },
                { "version=2\nname="
                  "n1234567890123456789012345678901234567890123456789012345678901234\n",
                  "name: value longer than 64 bytes" },
                /* strings: tokens, names, uuids, paths, escapes */
                { "version=2\nstate=running now\n", "state" },
                { "version=2\nname=../x\n", "name" },
                { "version=2\nkept=1\n", "name: missing for a kept instance" },
                { "version=2\nkept_of="
                  "5EE01C7A-0D3B-4C52-9F1E-33406B2A9107\n",
                  "kept_of" },
                { "version=2\nkept_of=5ee01c7a\n", "kept_of" },
                { "version=2\nconfig_path=vms/a.conf\n", "config_path" },
                { "version=2\nfailure=a\\qb\n", "failure" },
                { "version=2\nfailure=a\\x00b\n", "failure" },
                { "version=2\nfailure=a\\x4\n", "failure" },
                { "version=2\nfailure=a\\\n", "failure" },
                { "version=2\nfailure=a\tb\n", "failure" },
                /* the frame: the version, lines, keys */
                { "version=3\ndomid=5\n", "version: 3 is not the version this daemon reads (2)" },
                { "version=02\n", "version: malformed value" },
                { "version=2\ndomid=5", "line 2: no final newline" },
                { "version=2\ndomid\n", "line 2: not key=value" },
                { "version=2\n=5\n", "line 2: not key=value" },
                { "version=2\nDomid=5\n", "line 2: not key=value" },
                { "version=2\nthis_key_is_longer_than_thirty_two=1\n", "line 2: not key=value" },
        };
        struct layout_tool_state back;
        char big[LAYOUT_STATE_READ_MAX + 2];
        static const char good[] = "version=2\ndomid=5\n";

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL;

                if (read_text(f, bad[i].text, &back, &err) != -EBADMSG)
                        fail_msg("record %zu was not refused", i);
                assert_non_null(err);
                if (!strstr(err, bad[i].names))
                        fail_msg("record %zu: '%s' does not name '%s'", i, err, bad[i].names);
                assert_non_null(strstr(err, REC));
        }
        /* A NUL inside, and a record past the bound. */
        assert_true(xs_write(f->xs, XBT_NULL, REC, good, sizeof(good)));
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), -EBADMSG);
        memcpy(big, "version=2\n", 10);
        memset(big + 10, 'x', sizeof(big) - 11);
        big[sizeof(big) - 1] = '\n';
        assert_true(xs_write(f->xs, XBT_NULL, REC, big, sizeof(big)));
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), -E2BIG);
}

/* A failure message holds any byte: the record holds it on one line, and reads it back. */
static void test_tool_state_escaping(void **state)
{
        struct fixture *f = *state;
        struct layout_tool_state s = { .failed = true, .last_reason = SHUTDOWN_REASON_CRASH }, back;
        static const char failure[] =
            "build: line one\nback\\slash \x01\x1b[31m\x7f caf\xc3\xa9 \\n";
        _cleanup_free_ char *text = NULL;

        strcpy(s.failure, failure);
        strcpy(s.config_path, "/srv/odd\\dir/new\nline.conf");
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, NULL), 0);
        text = xs_test_read(f->xs, REC);
        assert_non_null(text);
        assert_non_null(strstr(text,
                               "\nfailure=build: line one\\nback\\\\slash \\x01\\x1b[31m\\x7f "
                               "caf\xc3\xa9 \\\\n\n"));
        assert_non_null(strstr(text, "\nconfig_path=/srv/odd\\\\dir/new\\nline.conf\n"));
        for (const char *c = text; *c; c++)
                assert_true(*c == '\n' || (unsigned char)*c >= 0x20);
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), 0);
        assert_string_equal(back.failure, failure);
        assert_string_equal(back.config_path, "/srv/odd\\dir/new\nline.conf");

        /* An escape of any other byte reads too (upper-case hex included). */
        assert_int_equal(read_text(f, "version=2\nfailure=\\x41\\x0A\\x5c\n", &back, NULL), 0);
        assert_string_equal(back.failure, "A\n\\");
}

/* The longest record stays under its bound; what does not fit once escaped is cut or dropped. */
static void test_tool_state_bounds(void **state)
{
        struct fixture *f = *state;
        struct layout_tool_state s = full_record(), back;
        _cleanup_free_ char *text = NULL;
        size_t len;

        /* Every field as long as it can be. */
        s.domid = 32751;
        memset(s.state, 'a', sizeof(s.state) - 1);
        s.state[sizeof(s.state) - 1] = '\0';
        s.restart_count = s.restart_window_count = UINT32_MAX;
        s.restart_window_start = s.restart_due = s.started_at_usec = s.shutdown_deadline =
            UINT64_MAX;
        memset(s.failure, 'f', sizeof(s.failure) - 1);
        s.failure[sizeof(s.failure) - 1] = '\0';
        s.config_path[0] = '/';
        memset(s.config_path + 1, 'p', sizeof(s.config_path) - 2);
        s.config_path[sizeof(s.config_path) - 1] = '\0';
        memset(s.name, 'n', sizeof(s.name) - 1);
        s.name[sizeof(s.name) - 1] = '\0';
        s.creator_uid = s.last_action_uid = s.last_action_pid = UINT32_MAX;
        s.last_action_usec = s.max_memory_kib = UINT64_MAX;
        memset(s.creator_groups, '9', sizeof(s.creator_groups) - 1);
        s.creator_groups[sizeof(s.creator_groups) - 1] = '\0';
        memset(s.last_action, 'a', sizeof(s.last_action) - 1);
        s.last_action[sizeof(s.last_action) - 1] = '\0';
        memset(s.history, 'h', sizeof(s.history) - 1);
        s.history[sizeof(s.history) - 1] = '\0';
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, NULL), 0);
        text = xs_test_read(f->xs, REC);
        len = strlen(text);
        print_message("longest record: %zu bytes (bound %d)\n", len, LAYOUT_STATE_WRITE_MAX);
        assert_true(len <= LAYOUT_STATE_WRITE_MAX);
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), 0);
        assert_record_equal(&back, &s);

        /* A failure that grows past its array once escaped is cut at a whole escape... */
        memset(s.failure, '\x01', 200);
        s.failure[200] = '\0';
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, NULL), 0);
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), 0);
        assert_int_equal(strlen(back.failure), (LAYOUT_FAILURE_MAX - 1) / 4);
        assert_int_equal(strncmp(back.failure, s.failure, strlen(back.failure)), 0);
        /* ...and at a whole character: "\n" then 255 two-byte é, cut before the last. */
        s.failure[0] = '\n';
        for (unsigned i = 0; i < 255; i++)
                memcpy(s.failure + 1 + 2 * i, "\xc3\xa9", 2);
        s.failure[511] = '\0';
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, NULL), 0);
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), 0);
        assert_int_equal(strlen(back.failure), 1 + 2 * 254);
        assert_int_equal(strncmp(back.failure, s.failure, 1 + 2 * 254), 0);

        /* A path too long once escaped is not remembered: half a path would name another file. */
        s.config_path[0] = '/';
        memset(s.config_path + 1, '\n', 600);
        s.config_path[601] = '\0';
        assert_int_equal(layout_state_write(f->l, uuid_a, &s, NULL), 0);
        assert_int_equal(layout_state_read(f->l, uuid_a, &back, NULL), 0);
        assert_string_equal(back.config_path, "");
        assert_string_equal(back.name, s.name);
}

/* Records the daemon would never read back are refused before XenStore sees them. */
static void test_tool_state_write_refused(void **state)
{
        struct fixture *f = *state;
        struct {
                struct layout_tool_state s;
                const char *names;
        } bad[12];
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                bad[i].s = full_record();
        bad[n].s.domid = 0x7FF0;
        bad[n++].names = "domid";
        bad[n].s.last_reason = _SHUTDOWN_REASON_MAX;
        bad[n++].names = "last_reason";
        bad[n].s.last_reason = (enum shutdown_reason) - 2;
        bad[n++].names = "last_reason";
        strcpy(bad[n].s.state, "shutting down");
        bad[n++].names = "state";
        memset(bad[n].s.state, 'a', sizeof(bad[n].s.state));
        bad[n++].names = "state";
        strcpy(bad[n].s.name, "a/b");
        bad[n++].names = "name";
        bad[n].s.name[0] = '\0';
        bad[n++].names = "name";
        strcpy(bad[n].s.config_path, "vms/a.conf");
        bad[n++].names = "config_path";
        memset(bad[n].s.failure, 'x', sizeof(bad[n].s.failure));
        bad[n++].names = "failure";
        memset(bad[n].s.config_path, '/', sizeof(bad[n].s.config_path));
        bad[n++].names = "config_path";
        /* Not kept, a name still has to be one. */
        bad[n].s.kept = false;
        strcpy(bad[n].s.name, "-x y");
        bad[n++].names = "name";
        assert_true(n <= ELEMENTSOF(bad));

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *err = NULL;

                assert_int_equal(layout_state_write(f->l, uuid_a, &bad[i].s, &err), -EINVAL);
                assert_non_null(err);
                if (!strstr(err, bad[i].names))
                        fail_msg("record %zu: '%s' does not name '%s'", i, err, bad[i].names);
        }
        assert_false(exists(f->xs, REC));
}

/* ---- reads of /vm ---- */

static void test_vm_name(void **state)
{
        struct fixture *f = *state;
        struct xs_permissions guest_writes[2] = { { .id = 0, .perms = XS_PERM_NONE },
                                                  { .id = 7,
                                                    .perms = XS_PERM_READ | XS_PERM_WRITE } };
        struct xs_permissions guest_owns[1] = { { .id = 7, .perms = XS_PERM_NONE } };
        struct xs_permissions all_write[1] = { { .id = 0, .perms = XS_PERM_WRITE } };
        char buf[DOMAIN_NAME_MAX + 1], small[4];
        static const char *const bad[] = {
                "",
                "a/b",
                "two words",
                "n12345678901234567890123456789012345678901234567890123456789012345",
        };

        write_a(f);
        assert_int_equal(layout_vm_name(f->l, uuid_a, buf, sizeof(buf), NULL), 0);
        assert_string_equal(buf, "example");
        assert_int_equal(layout_rename(f->l, 5, uuid_a, "example-5", NULL), 0);
        assert_int_equal(layout_vm_name(f->l, uuid_a, buf, sizeof(buf), NULL), 0);
        assert_string_equal(buf, "example-5");
        {
                _cleanup_free_ char *err = NULL;

                assert_int_equal(layout_vm_name(f->l, uuid_a, small, sizeof(small), &err),
                                 -ENOBUFS);
                assert_non_null(err);
        }
        {
                _cleanup_free_ char *err = NULL;

                assert_int_equal(layout_vm_name(f->l, uuid_b, buf, sizeof(buf), &err), -ENOENT);
                assert_non_null(strstr(err, "/vm/" UUID_B "/name"));
        }

        /* Written by another dom0 tool: read, and still checked. */
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL;

                assert_true(xs_write(f->xs, XBT_NULL, "/vm/" UUID_B "/name", bad[i],
                                     (unsigned)strlen(bad[i])));
                assert_int_equal(layout_vm_name(f->l, uuid_b, buf, sizeof(buf), &err), -EBADMSG);
                assert_non_null(err);
        }
        assert_true(xs_write(f->xs, XBT_NULL, "/vm/" UUID_B "/name", "a\0b", 3));
        assert_int_equal(layout_vm_name(f->l, uuid_b, buf, sizeof(buf), NULL), -EBADMSG);
        assert_true(xs_write(f->xs, XBT_NULL, "/vm/" UUID_B "/name", "other", 5));
        assert_int_equal(layout_vm_name(f->l, uuid_b, buf, sizeof(buf), NULL), 0);
        assert_string_equal(buf, "other");

        /* A name a guest could have written is not trusted. */
        assert_true(xs_set_permissions(f->xs, XBT_NULL, "/vm/" UUID_B "/name", guest_writes, 2));
        assert_int_equal(layout_vm_name(f->l, uuid_b, buf, sizeof(buf), NULL), -EPERM);
        assert_true(xs_set_permissions(f->xs, XBT_NULL, "/vm/" UUID_B "/name", all_write, 1));
        assert_int_equal(layout_vm_name(f->l, uuid_b, buf, sizeof(buf), NULL), -EPERM);
        assert_true(xs_set_permissions(f->xs, XBT_NULL, "/vm/" UUID_B "/name", guest_owns, 1));
        assert_int_equal(layout_vm_name(f->l, uuid_b, buf, sizeof(buf), NULL), -EPERM);
}

static void test_vm_start_time(void **state)
{
        struct fixture *f = *state;
        static const char *const bad[] = {
                "",
                "1700000000",
                "1700000000.",
                "1700000000.5",
                "1700000000.250",
                "01700000000.25",
                "+1700000000.25",
                "-1.25",
                " 1700000000.25",
                "1700000000.25 ",
                "1700000000,25",
                "1700000000.2x",
                ".25",
                "1.2.3",
                "18446744073710.00", /* its usec overflows 64 bits */
                "123456789012345678901.00",
        };
        uint64_t usec = 0;

        write_a(f);
        assert_int_equal(layout_vm_start_time(f->l, uuid_a, &usec, NULL), 0);
        assert_true(usec == UINT64_C(1700000000250000));
        /* Written to the centisecond: the rest is lost, as libxl's format loses it. */
        f->dom_b.start_time_usec = UINT64_C(1700000123009999);
        write_b(f);
        assert_int_equal(layout_vm_start_time(f->l, uuid_b, &usec, NULL), 0);
        assert_true(usec == UINT64_C(1700000123000000));
        /* 0 means now. */
        f->dom_b.start_time_usec = 0;
        write_b(f);
        assert_int_equal(layout_vm_start_time(f->l, uuid_b, &usec, NULL), 0);
        assert_true(usec > UINT64_C(1700000000000000));

        assert_true(xs_write(f->xs, XBT_NULL, "/vm/" UUID_B "/start_time", "0.00", 4));
        assert_int_equal(layout_vm_start_time(f->l, uuid_b, &usec, NULL), 0);
        assert_true(usec == 0);
        assert_true(
            xs_write(f->xs, XBT_NULL, "/vm/" UUID_B "/start_time", "18446744073708.99", 17));
        assert_int_equal(layout_vm_start_time(f->l, uuid_b, &usec, NULL), 0);
        assert_true(usec == UINT64_C(18446744073708990000));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL;

                assert_true(xs_write(f->xs, XBT_NULL, "/vm/" UUID_B "/start_time", bad[i],
                                     (unsigned)strlen(bad[i])));
                if (layout_vm_start_time(f->l, uuid_b, &usec, &err) != -EBADMSG)
                        fail_msg("start_time '%s' was not refused", bad[i]);
                assert_non_null(strstr(err, "start_time"));
        }

        assert_int_equal(layout_remove_vm(f->l, uuid_a, NULL), 0);
        assert_int_equal(layout_vm_start_time(f->l, uuid_a, &usec, NULL), -ENOENT);
}

/* ---- rename-restart: the kept instance ---- */

#define VMK "/vm/" UUID_B

/* /vm/<uuid_b> after preserving domain A's instance 5 as it: A's nodes, with its identity. */
static const char *const vm_kept[] = {
        VMK " = \"\" (n0,r5)",
        VMK "/uuid = \"" UUID_B "\" (n0,r5)",
        VMK "/name = \"example-5\" (n0,r5)",
        VMK "/ssidref = \"0\" (n0,r5)",
        VMK "/on_poweroff = \"destroy\" (n0,r5)",
        VMK "/on_reboot = \"restart\" (n0,r5)",
        VMK "/on_crash = \"preserve\" (n0,r5)",
        VMK "/vcpus = \"4\" (n0,r5)",
        VMK "/vcpu_avail = \"2\" (n0,r5)",
        VMK "/memory = \"256\" (n0,r5)",
        VMK "/image = \"\" (n0,r5)",
        VMK "/image/ostype = \"linux\" (n0,r5)",
        VMK "/image/kernel = \"/boot/vmlinuz-6.1.0-28-amd64\" (n0,r5)",
        VMK "/image/ramdisk = \"/boot/initrd.img-6.1.0-28-amd64\" (n0,r5)",
        VMK "/image/cmdline = \"console=hvc0 root=/dev/xvda1 ro\" (n0,r5)",
        VMK "/start_time = \"1700000000.25\" (n0,r5)",
};

static void preserve_a(struct fixture *f)
{
        _cleanup_free_ char *err = NULL;

        assert_int_equal(layout_preserve_instance(f->l, 5, uuid_a, uuid_b, "example-5", &err), 0);
        assert_null(err);
}

/* Every node of the kept instance as the real libxenstore reads it back: the new uuid's. */
static void assert_kept_of_a(struct fixture *f)
{
        struct dump d = { 0 };
        char *v;

        dump_tree(f->xs, VMK, &d);
        assert_dump_equal(&d, vm_kept, ELEMENTSOF(vm_kept));
        dump_free(&d);
        assert_false(exists(f->xs, VM));
        v = xs_test_read(f->xs, LD "/vm");
        assert_string_equal(v, VMK);
        free(v);
        v = xs_test_read(f->xs, LD "/name");
        assert_string_equal(v, "example-5");
        free(v);
}

/* The dead instance moves to its own uuid; the live domain rebuilt on the old uuid is apart. */
static void test_preserve_instance(void **state)
{
        struct fixture *f = *state;
        struct dump local_before = { 0 }, before = { 0 }, after = { 0 };
        char acl[LAYOUT_ACL_STRLEN];
        struct xs_handle *g;

        write_a(f);
        dump_tree(f->xs, LD, &local_before);
        preserve_a(f);
        assert_kept_of_a(f);
        /* Nothing else of the instance moved: its local tree differs in vm and name only. */
        dump_tree(f->xs, LD, &after);
        assert_int_equal(local_before.n, after.n);
        for (size_t i = 0; i < after.n; i++)
                if (strncmp(after.lines[i], LD "/vm =", strlen(LD "/vm =")) != 0 &&
                    strncmp(after.lines[i], LD "/name =", strlen(LD "/name =")) != 0)
                        assert_string_equal(after.lines[i], local_before.lines[i]);
        dump_free(&local_before);
        dump_free(&after);
        xs_test_acl(f->xs, LD "/vm", acl);
        assert_string_equal(acl, "n0,r5");
        xs_test_acl(f->xs, LD "/name", acl);
        assert_string_equal(acl, "n0,r5");
        /* Its guest still reads its /vm and writes none of it. */
        g = xs_test_open_guest(5);
        assert_true(exists(g, VMK "/name"));
        errno = 0;
        assert_false(xs_write(g, XBT_NULL, VMK "/name", "evil", 4));
        assert_int_equal(errno, EACCES);
        xs_close(g);
        {
                char name[DOMAIN_NAME_MAX + 1];

                assert_int_equal(layout_vm_name(f->l, uuid_b, name, sizeof(name), NULL), 0);
                assert_string_equal(name, "example-5");
        }

        /* The live domain is rebuilt with the old uuid and another domid... */
        f->dom_a.domid = 6;
        write_a(f);
        dump_tree(f->xs, "/", &before);
        /* ...and destroying the kept instance leaves all of it. */
        assert_int_equal(layout_remove_local(f->l, 5, NULL), 0);
        assert_int_equal(layout_remove_vm(f->l, uuid_b, NULL), 0);
        assert_false(exists(f->xs, VMK));
        assert_false(exists(f->xs, LD));
        assert_false(exists(f->xs, "/local/domain/0/backend/console/5"));
        dump_tree(f->xs, "/", &after);
        {
                size_t k = 0;

                /* after = before without the kept instance's lines. */
                for (size_t i = 0; i < before.n; i++) {
                        const char *line = before.lines[i];

                        if (strncmp(line, VMK, strlen(VMK)) == 0 ||
                            strncmp(line, LD " ", strlen(LD " ")) == 0 ||
                            strncmp(line, LD "/", strlen(LD "/")) == 0 ||
                            strncmp(line, "/local/domain/0/backend/console/5", 33) == 0)
                                continue;
                        assert_true(k < after.n);
                        assert_string_equal(after.lines[k], line);
                        k++;
                }
                assert_int_equal(k, after.n);
        }
        dump_free(&before);
        dump_free(&after);
        {
                _cleanup_free_ char *v = xs_test_read(f->xs, "/local/domain/6/vm");

                assert_string_equal(v, VM);
        }
        xs_test_acl(f->xs, VM "/name", acl);
        assert_string_equal(acl, "n0,r6");
}

/* Another dom0 client rewrites the node the move checked first (with the same value). */
static void race_vm(void *userdata)
{
        struct racer *r = userdata;

        r->fired++;
        assert_true(xs_write(r->xs, XBT_NULL, LD "/vm", VM, strlen(VM)));
        if (r->every)
                layout_test_hook_request(r->l, r->every, race_vm, r);
}

/* A conflicting write mid-transaction: the whole move runs again, and wins. */
static void test_preserve_eagain(void **state)
{
        struct fixture *f = *state;
        struct racer r = { .xs = f->xs, .l = f->l };
        uint64_t before, one;
        struct dump d0 = { 0 }, d1 = { 0 };

        write_a(f);
        /* One clean run on a copy of the tree, to count its requests. */
        before = layout_request_count(f->l);
        preserve_a(f);
        one = layout_request_count(f->l) - before;
        write_a(f);
        assert_int_equal(layout_remove_vm(f->l, uuid_b, NULL), 0);

        layout_test_hook_request(f->l, 4, race_vm, &r);
        before = layout_request_count(f->l);
        preserve_a(f);
        assert_int_equal(r.fired, 1);
        assert_int_equal(layout_request_count(f->l) - before, 2 * one);
        assert_kept_of_a(f);

        /* A conflict at every attempt: -EAGAIN, and the tree is as it was. */
        write_a(f);
        assert_int_equal(layout_remove_vm(f->l, uuid_b, NULL), 0);
        dump_tree(f->xs, "/", &d0);
        r = (struct racer){ .xs = f->xs, .l = f->l, .every = one };
        layout_test_hook_request(f->l, 4, race_vm, &r);
        {
                _cleanup_free_ char *err = NULL;

                assert_int_equal(
                    layout_preserve_instance(f->l, 5, uuid_a, uuid_b, "example-5", &err), -EAGAIN);
                assert_non_null(strstr(err, "10 attempts"));
        }
        layout_test_hook_request(f->l, 0, NULL, NULL);
        assert_int_equal(r.fired, 10);
        dump_tree(f->xs, "/", &d1);
        assert_int_equal(d0.n, d1.n);
        for (size_t i = 0; i < d0.n; i++)
                assert_string_equal(d0.lines[i], d1.lines[i]);
        dump_free(&d0);
        dump_free(&d1);
}

/* Make each request of the move fail in turn: every time, the tree is as it was. */
static void test_preserve_failure_at_every_request(void **state)
{
        struct fixture *f = *state;
        struct dump before = { 0 };
        uint64_t start, count;

        write_a(f);
        write_b(f);
        assert_int_equal(layout_remove_vm(f->l, uuid_b, NULL), 0);
        dump_tree(f->xs, "/", &before);
        start = layout_request_count(f->l);
        assert_int_equal(layout_preserve_instance(f->l, 5, uuid_a, uuid_b, "example-5", NULL), 0);
        count = layout_request_count(f->l) - start;
        print_message("requests to keep an instance (PV, 4 vcpus): %" PRIu64 "\n", count);
        write_a(f);
        assert_int_equal(layout_remove_vm(f->l, uuid_b, NULL), 0);

        for (uint64_t n = 1; n <= count; n++) {
                _cleanup_free_ char *err = NULL;
                struct dump after = { 0 };

                layout_test_fail_request(f->l, n, EIO);
                assert_int_equal(
                    layout_preserve_instance(f->l, 5, uuid_a, uuid_b, "example-5", &err), -EIO);
                assert_non_null(err);
                dump_tree(f->xs, "/", &after);
                assert_int_equal(before.n, after.n);
                for (size_t i = 0; i < before.n; i++)
                        assert_string_equal(before.lines[i], after.lines[i]);
                dump_free(&after);
        }
        dump_free(&before);
        preserve_a(f);
        assert_kept_of_a(f);
}

/* What cannot be moved is refused, and nothing changes. */
static void test_preserve_refused(void **state)
{
        struct fixture *f = *state;
        struct dump before = { 0 }, after = { 0 };
        static const uint8_t uuid_c[16] = { 0xc0, 1, 2, 3, 4, 5, 0x46, 7, 0x88, 9, 10, 11, 12, 13 };
        _cleanup_free_ char *err = NULL;

        write_a(f);
        write_b(f);
        dump_tree(f->xs, "/", &before);
        assert_int_equal(layout_preserve_instance(f->l, 5, uuid_a, uuid_a, "example-5", NULL),
                         -EINVAL);
        assert_int_equal(layout_preserve_instance(f->l, 5, uuid_a, uuid_c, "a/b", NULL), -EINVAL);
        assert_int_equal(layout_preserve_instance(f->l, 0, uuid_a, uuid_c, "x", NULL), -EINVAL);
        assert_int_equal(layout_preserve_instance(f->l, 0x7FF0, uuid_a, uuid_c, "x", NULL),
                         -EINVAL);
        /* Domain 5 is an instance of A, not of B. */
        assert_int_equal(layout_preserve_instance(f->l, 5, uuid_b, uuid_c, "x", &err), -EINVAL);
        assert_non_null(strstr(err, "not an instance"));
        /* B's /vm is there already. */
        assert_int_equal(layout_preserve_instance(f->l, 5, uuid_a, uuid_b, "x", NULL), -EEXIST);
        /* No domain 9. */
        assert_int_equal(layout_preserve_instance(f->l, 9, uuid_a, uuid_c, "x", NULL), -ENOENT);
        dump_tree(f->xs, "/", &after);
        assert_int_equal(before.n, after.n);
        for (size_t i = 0; i < before.n; i++)
                assert_string_equal(before.lines[i], after.lines[i]);
        dump_free(&before);
        dump_free(&after);

        /* The domain's /vm is gone. */
        assert_int_equal(layout_remove_vm(f->l, uuid_a, NULL), 0);
        assert_int_equal(layout_preserve_instance(f->l, 5, uuid_a, uuid_c, "x", NULL), -ENOENT);
        assert_false(exists(f->xs, "/vm/c0010203-0405-4607-8809-0a0b0c0d0000"));
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

static void test_lists(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_free_ uint8_t(*uuids)[16] = NULL;
        size_t n = 99;

        assert_int_equal(layout_list_local(f->l, &ids, &n, NULL), 0);
        assert_int_equal(n, 0);
        free(TAKE_PTR(ids));
        assert_int_equal(layout_list_vms(f->l, &uuids, &n, NULL), 0);
        assert_int_equal(n, 0);
        free(TAKE_PTR(uuids));

        write_a(f);
        write_b(f);
        /* Names that are no domid or uuid are skipped, not trusted. */
        assert_true(xs_write(f->xs, XBT_NULL, "/local/domain/007/x", "", 0));
        assert_true(xs_write(f->xs, XBT_NULL, "/local/domain/99999/x", "", 0));
        assert_true(xs_write(f->xs, XBT_NULL, "/local/domain/pool/x", "", 0));
        assert_true(xs_write(f->xs, XBT_NULL, "/vm/not-a-uuid/x", "", 0));
        assert_true(xs_write(f->xs, XBT_NULL, "/vm/5EE01C7A-0D3B-4C52-9F1E-33406B2A9107/x", "", 0));

        assert_int_equal(layout_list_local(f->l, &ids, &n, NULL), 0);
        assert_int_equal(n, 2);
        qsort(ids, n, sizeof(*ids), cmp_u32);
        assert_int_equal(ids[0], 5);
        assert_int_equal(ids[1], 7);

        assert_int_equal(layout_list_vms(f->l, &uuids, &n, NULL), 0);
        assert_int_equal(n, 2);
        assert_true((memcmp(uuids[0], uuid_a, 16) == 0 && memcmp(uuids[1], uuid_b, 16) == 0) ||
                    (memcmp(uuids[0], uuid_b, 16) == 0 && memcmp(uuids[1], uuid_a, 16) == 0));
}

/* Run a command, return its whole stdout. */
static char *run_output(const char *cmd)
{
        FILE *p = popen(cmd, "r");
        char *out = NULL;
        size_t size = 0;
        FILE *m;
        char buf[4096];
        size_t k;

        assert_non_null(p);
        m = open_memstream(&out, &size);
        assert_non_null(m);
        while ((k = fread(buf, 1, sizeof(buf), p)) > 0)
                fwrite(buf, 1, k, m);
        assert_int_equal(pclose(p), 0);
        fclose(m);
        return out;
}

/* The real xenstore-ls -p, over the layout of one domain, against tests/data/layout/. */
static void test_golden_xenstore_ls(void **state)
{
        struct fixture *f = *state;
        const char *src = getenv("XENSUP_SRC");
        _cleanup_free_ char *golden_path = NULL, *got = NULL, *want = NULL;
        FILE *out;
        char *part;
        size_t size = 0;

        write_a(f);
        out = open_memstream(&got, &size);
        assert_non_null(out);
        static const char *const trees[] = { VM, LD, "/local/domain/0/backend/console/5" };
        for (size_t i = 0; i < ELEMENTSOF(trees); i++) {
                char cmd[256];

                snprintf(cmd, sizeof(cmd), "xenstore-ls -p %s", trees[i]);
                part = run_output(cmd);
                fprintf(out, "$ %s\n%s", cmd, part);
                free(part);
        }
        fclose(out);

        assert_true(asprintf(&golden_path, "%s/tests/data/layout/domain.golden", src ? src : ".") >
                    0);
        if (getenv("XENSUP_UPDATE_GOLDEN") && *getenv("XENSUP_UPDATE_GOLDEN")) {
                FILE *g = fopen(golden_path, "we");

                assert_non_null(g);
                fputs(got, g);
                fclose(g);
        }
        {
                FILE *g = fopen(golden_path, "re");
                size_t wsize = 0;
                FILE *w = open_memstream(&want, &wsize);
                char buf[4096];
                size_t k;

                assert_non_null(g);
                assert_non_null(w);
                while ((k = fread(buf, 1, sizeof(buf), g)) > 0)
                        fwrite(buf, 1, k, w);
                fclose(g);
                fclose(w);
        }
        assert_string_equal(got, want);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_reads_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_count, setup, teardown),
                cmocka_unit_test_setup_teardown(test_guest_rights, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_domains_isolated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eagain_retry, setup, teardown),
                cmocka_unit_test_setup_teardown(test_other_domain_no_conflict, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eagain_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wire_lost_before_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wire_lost_at_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_at_every_request, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_keeps_previous, setup, teardown),
                cmocka_unit_test_setup_teardown(test_teardown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reused_domid_starts_clean, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restart_same_vm, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
                cmocka_unit_test_setup_teardown(test_updates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_refuses_bad_input, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_requests, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_any_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_unknown_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_missing_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_version1, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_escaping, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tool_state_write_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_start_time, setup, teardown),
                cmocka_unit_test_setup_teardown(test_preserve_instance, setup, teardown),
                cmocka_unit_test_setup_teardown(test_preserve_eagain, setup, teardown),
                cmocka_unit_test_setup_teardown(test_preserve_failure_at_every_request, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_preserve_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
                cmocka_unit_test_setup_teardown(test_golden_xenstore_ls, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
