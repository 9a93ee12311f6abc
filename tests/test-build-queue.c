/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The build queue against a real xensup-sim: builds run in children, at most
 * max_jobs at once, and begin in FIFO order (they may end in any order: two
 * children race); each domain exists in the simulated hypervisor (paused,
 * with its handle) when its callback runs; failures come back with the
 * backend's message; a waiting build can be cancelled and a running one
 * cannot; freeing the queue kills and reaps its children.
 */
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenstore.h>

#include "builders/builder-sim.h"
#include "common/macros.h"
#include "supervisor/build-queue.h"

#define N_OWNERS 6

struct outcome {
        bool done;
        int r;
        char message[1024];
        struct builder_domain domain;
        unsigned running_seen; /* build_queue_running() when the callback ran */
        unsigned order;        /* 0 for the first callback, 1 for the next, ... */
        char built_name[DOMAIN_NAME_MAX + 1];
};

struct fixture {
        char dir[64];
        pid_t sim;
        sd_event *event;
        struct builder *b; /* the test's own view of the simulated host */
        struct build_queue *q;
        struct outcome out[N_OWNERS];
        unsigned n_done;
        bool path_set;
        struct creds root; /* zero: root's */
};

static struct fixture fx;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static void on_built(void *owner, const struct domain_config *cfg, const struct build_result *res,
                     void *userdata)
{
        struct outcome *o = owner;

        assert_ptr_equal(userdata, &fx);
        assert_false(o->done);
        o->done = true;
        o->r = res->r;
        o->domain = res->domain;
        snprintf(o->message, sizeof(o->message), "%s", res->message);
        snprintf(o->built_name, sizeof(o->built_name), "%s", cfg->name);
        o->running_seen = build_queue_running(fx.q);
        o->order = fx.n_done++;
}

static struct domain_config make_config(unsigned i, enum domain_type type)
{
        struct domain_config c = {
                .type = type,
                .memory_mib = 32,
                .maxmem_mib = 32,
                .vcpus = 1,
                .maxvcpus = 1,
        };

        snprintf(c.name, sizeof(c.name), "bq%u", i);
        uuid_from_name(c.name, c.uuid);
        return c;
}

/* Run the loop until n callbacks have come, or fail after 20 s; check (if any) after each run. */
static void run_until_done(unsigned n, void (*check)(void))
{
        struct timespec t0, t;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (fx.n_done < n) {
                assert_true(sd_event_run(fx.event, 100000) >= 0);
                if (check)
                        check();
                clock_gettime(CLOCK_MONOTONIC, &t);
                assert_true(t.tv_sec - t0.tv_sec < 20);
        }
}

static bool listed_paused(uint32_t domid, const uint8_t uuid[16])
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        assert_int_equal(builder_list(fx.b, &infos, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
                if (infos[i].domid == domid)
                        return infos[i].paused && memcmp(infos[i].handle, uuid, 16) == 0;
        return false;
}

static int setup(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ char *err = NULL;
        char xs_path[128];
        sigset_t mask;

        bool path_set = fx.path_set;

        (void)state;
        memset(&fx, 0, sizeof(fx));
        fx.path_set = path_set;
        strcpy(fx.dir, "/tmp/test-build-queue.XXXXXX");
        assert_non_null(mkdtemp(fx.dir));
        /* builder_open spawns xensup-sim from PATH when none runs beside the program. */
        if (!fx.path_set) {
                const char *build = getenv("XENSUP_BUILD");
                char path[4096];

                snprintf(path, sizeof(path), "%s:%s", build ? build : "build", getenv("PATH"));
                setenv("PATH", path, 1);
                fx.path_set = true;
        }
        o.sim_dir = fx.dir;
        assert_int_equal(builder_open(&o, &fx.b, &err), 0);
        /* The children write the layout into the simulator's XenStore, as xensupd's do. */
        snprintf(xs_path, sizeof(xs_path), "%s/xenstored.socket", fx.dir);
        setenv("XENSTORED_PATH", xs_path, 1);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD); /* sd_event_add_child() needs it blocked */
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        assert_int_equal(sd_event_new(&fx.event), 0);
        assert_int_equal(build_queue_new(fx.event, &o, 2, on_built, &fx, &fx.q), 0);
        return 0;
}

static int teardown(void **state)
{
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;

        (void)state;
        fx.q = build_queue_free(fx.q);
        sd_event_unref(fx.event);
        /* The simulator goes with its directory; ask it to stop by its pid file. */
        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        builder_close(fx.b);
        kill((pid_t)st.pid, SIGTERM);
        for (int i = 0; i < 200 && kill((pid_t)st.pid, 0) == 0; i++)
                poll(NULL, 0, 10);
        nftw(fx.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

/* The index of the bq<i> job whose uuid is handle, or N_OWNERS for none. */
static unsigned job_of_handle(const uint8_t handle[16])
{
        for (unsigned i = 0; i < N_OWNERS; i++) {
                char name[16];
                uint8_t uuid[16];

                snprintf(name, sizeof(name), "bq%u", i);
                uuid_from_name(name, uuid);
                if (memcmp(handle, uuid, 16) == 0)
                        return i;
        }
        return N_OWNERS;
}

/*
 * After every loop iteration of the FIFO test. Jobs begin only on the loop,
 * so between two iterations the queue's state is still and these hold
 * whatever the children are doing:
 *  - a freed slot is refilled at once and never past two: running is
 *    min(2, jobs not yet called back);
 *  - with FIFO starts, the jobs begun so far are exactly bq0..bq<begun-1>
 *    (begun = called back + running), so only they may have a domain in the
 *    simulator yet. A running child may not have created its domain, so
 *    this bounds from above only; a job begun out of turn shows up here.
 */
static void check_slots_and_fifo_starts(void)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        unsigned running = build_queue_running(fx.q);
        unsigned left = N_OWNERS - fx.n_done;
        unsigned begun = fx.n_done + running;
        size_t n = 0;

        assert_int_equal(running, left < 2 ? left : 2);
        assert_int_equal(builder_list(fx.b, &infos, &n, &err), 0);
        for (size_t i = 0; i < n; i++) {
                unsigned job;

                if (infos[i].domid == 0)
                        continue;
                job = job_of_handle(infos[i].handle);
                assert_int_not_equal(job, N_OWNERS);
                if (job >= begun)
                        fail_msg("bq%u has a domain while only bq0..bq%u may have begun", job,
                                 begun - 1);
        }
}

static void test_builds_in_children_two_at_a_time(void **state)
{
        struct domain_config cfg[N_OWNERS];

        (void)state;
        for (unsigned i = 0; i < N_OWNERS; i++) {
                cfg[i] = make_config(i, DOMAIN_TYPE_PV);
                assert_int_equal(build_queue_add(fx.q, &fx.out[i], &cfg[i], NULL, &fx.root), 0);
                /* a slot is taken at once while one is free, and never a third */
                assert_int_equal(build_queue_running(fx.q), i < 2 ? i + 1 : 2);
        }
        /* The queue keeps its own copy: the caller's config may change meanwhile. */
        memset(cfg, 0, sizeof(cfg));
        run_until_done(N_OWNERS, check_slots_and_fifo_starts);
        for (unsigned i = 0; i < N_OWNERS; i++) {
                unsigned left = N_OWNERS - fx.out[i].order;
                char name[16];
                uint8_t uuid[16];

                /* Each job ended once (on_built checks) and with its own result. */
                snprintf(name, sizeof(name), "bq%u", i);
                uuid_from_name(name, uuid);
                assert_int_equal(fx.out[i].r, 0);
                assert_string_equal(fx.out[i].built_name, name);
                assert_true(listed_paused(fx.out[i].domain.domid, uuid));
                for (unsigned j = 0; j < i; j++)
                        assert_int_not_equal(fx.out[i].domain.domid, fx.out[j].domain.domid);
                /*
                 * The finished one left its slot and the waiting one was not yet
                 * started: one fewer than min(2, jobs left) before this callback.
                 */
                assert_int_equal(fx.out[i].running_seen, (left < 2 ? left : 2) - 1);
        }
        /*
         * FIFO starts, read from the simulator's domids, which it hands out
         * upwards in the order domains are created (a fresh host each test).
         * With FIFO, bq<j> (j >= 2) began at the callback of order j-2, so
         * every job called back up to then had created its domain before bq<j>
         * could: its domid is lower. Not against bq<j-1> or the first two: a
         * job still running when bq<j> began may create its domain later.
         */
        for (unsigned j = 2; j < N_OWNERS; j++)
                for (unsigned k = 0; k < N_OWNERS; k++)
                        if (fx.out[k].order <= j - 2 &&
                            fx.out[j].domain.domid <= fx.out[k].domain.domid)
                                fail_msg(
                                    "bq%u (domid %u) was created before bq%u (domid %u), which had "
                                    "ended before bq%u began",
                                    j, fx.out[j].domain.domid, k, fx.out[k].domain.domid, j);
        assert_int_equal(build_queue_running(fx.q), 0);
}

static void test_failure_carries_the_backend_message(void **state)
{
        struct domain_config hvm = make_config(10, DOMAIN_TYPE_HVM);
        struct domain_config pv = make_config(11, DOMAIN_TYPE_PV);
        _cleanup_free_ char *err = NULL;

        (void)state;
        assert_int_equal(build_queue_add(fx.q, &fx.out[0], &hvm, NULL, &fx.root), 0);
        /* The next create in the simulator fails: the child reports ENOMEM and its step. */
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_CREATE, 1, ENOMEM, 1, &err), 0);
        run_until_done(1, NULL);
        assert_int_equal(fx.out[0].r, -EOPNOTSUPP);
        assert_non_null(strstr(fx.out[0].message, "hvm"));
        assert_int_equal(build_queue_add(fx.q, &fx.out[1], &pv, NULL, &fx.root), 0);
        run_until_done(2, NULL);
        assert_int_equal(fx.out[1].r, -ENOMEM);
        assert_non_null(strstr(fx.out[1].message, "bq11: create domain"));
}

static void test_cancel_only_what_waits(void **state)
{
        struct domain_config cfg[4];

        (void)state;
        for (unsigned i = 0; i < 4; i++) {
                cfg[i] = make_config(20 + i, DOMAIN_TYPE_PV);
                assert_int_equal(build_queue_add(fx.q, &fx.out[i], &cfg[i], NULL, &fx.root), 0);
        }
        assert_int_equal(build_queue_add(fx.q, &fx.out[3], &cfg[3], NULL, &fx.root), -EBUSY);
        assert_int_equal(build_queue_cancel(fx.q, &fx.out[0]), -EBUSY); /* its child runs */
        assert_int_equal(build_queue_cancel(fx.q, &fx.out[2]), 0);
        assert_int_equal(build_queue_cancel(fx.q, &fx.out[2]), -ENOENT);
        assert_int_equal(build_queue_cancel(fx.q, &fx.out[5]), -ENOENT);
        run_until_done(3, NULL);
        assert_true(fx.out[0].done && fx.out[1].done && fx.out[3].done);
        assert_false(fx.out[2].done);
        for (int i = 0; i < 20; i++) /* nothing more comes */
                assert_true(sd_event_run(fx.event, 10000) >= 0);
        assert_false(fx.out[2].done);
}

static void test_free_kills_running_children(void **state)
{
        struct domain_config cfg[3];

        (void)state;
        for (unsigned i = 0; i < 3; i++) {
                cfg[i] = make_config(30 + i, DOMAIN_TYPE_PV);
                assert_int_equal(build_queue_add(fx.q, &fx.out[i], &cfg[i], NULL, &fx.root), 0);
        }
        fx.q = build_queue_free(fx.q);
        /* Reaped: no child of ours is left, and no callback came. */
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
        for (unsigned i = 0; i < 3; i++)
                assert_false(fx.out[i].done);
}

/* Write a file of the test's own with this mode; its path into path. */
static void write_image(const char *name, mode_t mode, char *path, size_t size)
{
        FILE *f;

        snprintf(path, size, "%s/%s", fx.dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("not a kernel: the simulator boots none\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
}

/*
 * The child opens the kernel and ramdisk with the rights it was given, not root's: what the
 * domain's creator may not read is refused, with a message naming the file and the uid.
 */
static void test_images_opened_with_the_callers_rights(void **state)
{
        struct domain_config secret = make_config(40, DOMAIN_TYPE_PV);
        struct domain_config open_cfg = make_config(41, DOMAIN_TYPE_PV);
        struct domain_config as_root = make_config(42, DOMAIN_TYPE_PV);
        char root_only[128], everyone[128], want[256];
        struct creds nobody;

        (void)state;
        if (geteuid() != 0)
                skip(); /* switching rights needs root, as xensupd has */
        creds_from_ids(&nobody, 65534, NULL, 0);
        assert_int_equal(chmod(fx.dir, 0755), 0);
        write_image("root-only", 0600, root_only, sizeof(root_only));
        write_image("everyone", 0644, everyone, sizeof(everyone));
        secret.kernel = everyone;
        secret.ramdisk = root_only;
        open_cfg.kernel = everyone;
        as_root.kernel = root_only;
        assert_int_equal(build_queue_add(fx.q, &fx.out[0], &secret, NULL, &nobody), 0);
        assert_int_equal(build_queue_add(fx.q, &fx.out[1], &open_cfg, NULL, &nobody), 0);
        assert_int_equal(build_queue_add(fx.q, &fx.out[2], &as_root, NULL, &fx.root), 0);
        run_until_done(3, NULL);
        assert_int_equal(fx.out[0].r, -EACCES);
        snprintf(want, sizeof(want), "ramdisk %s: uid 65534 may not read it (Permission denied)",
                 root_only);
        assert_string_equal(fx.out[0].message, want);
        assert_false(listed_paused(fx.out[0].domain.domid, secret.uuid));
        assert_int_equal(fx.out[1].r, 0);
        assert_true(listed_paused(fx.out[1].domain.domid, open_cfg.uuid));
        assert_int_equal(fx.out[2].r, 0);
        /* And a child that switched rights went back to root's: this process is root still. */
        assert_int_equal(geteuid(), 0);
}

/* A kernel that is not a regular file (a FIFO would hang a reader) is refused by the child. */
static void test_image_must_be_a_regular_file(void **state)
{
        struct domain_config cfg = make_config(43, DOMAIN_TYPE_PV);
        char fifo[128], want[256];

        (void)state;
        snprintf(fifo, sizeof(fifo), "%s/fifo", fx.dir);
        assert_int_equal(mkfifo(fifo, 0644), 0);
        cfg.kernel = fifo;
        assert_int_equal(build_queue_add(fx.q, &fx.out[0], &cfg, NULL, &fx.root), 0);
        run_until_done(1, NULL);
        assert_int_equal(fx.out[0].r, -EINVAL);
        snprintf(want, sizeof(want), "kernel %s: not a regular file", fifo);
        assert_string_equal(fx.out[0].message, want);
}

/* Whether the simulated XenStore holds path. */
static bool store_has(const char *path)
{
        struct xs_handle *xs = xs_open(XS_OPEN_SOCKETONLY);
        unsigned len;
        char *v;

        assert_non_null(xs);
        v = xs_read(xs, XBT_NULL, path, &len);
        xs_close(xs);
        free(v);
        return v != NULL;
}

/*
 * A disk target its owner may not write is refused with their uid named, before any node of
 * the device exists; the domain the child created is gone again, its XenStore nodes too.
 */
static void test_disk_target_opened_with_the_callers_rights(void **state)
{
        struct domain_config cfg = make_config(44, DOMAIN_TYPE_PV);
        struct disk_config disk = { .devid = 51712, .vdev = (char *)"xvda" };
        char target[128], want[256], path[64];
        struct creds nobody;

        (void)state;
        if (geteuid() != 0)
                skip(); /* switching rights needs root, as xensupd has */
        creds_from_ids(&nobody, 65534, NULL, 0);
        assert_int_equal(chmod(fx.dir, 0755), 0);
        write_image("disk.img", 0644, target, sizeof(target));
        disk.target = target;
        cfg.disks = &disk;
        cfg.n_disks = 1;
        assert_int_equal(build_queue_add(fx.q, &fx.out[0], &cfg, NULL, &nobody), 0);
        run_until_done(1, NULL);
        assert_int_equal(fx.out[0].r, -EACCES);
        snprintf(want, sizeof(want), "target %s: uid 65534 may not write it", target);
        assert_non_null(strstr(fx.out[0].message, want));
        assert_non_null(strstr(fx.out[0].message, "disk xvda (vbd 51712)"));
        assert_false(listed_paused(fx.out[0].domain.domid, cfg.uuid));
        snprintf(path, sizeof(path), "/local/domain/%u", fx.out[0].domain.domid);
        assert_false(store_has(path));
        snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", fx.out[0].domain.domid);
        assert_false(store_has(path));
}

/*
 * The child's own guard: a vif (a port on a host bridge) is refused to creds without the
 * host-devices authorization, whatever reached the queue, and nothing of the domain stays.
 */
static void test_vif_needs_host_devices(void **state)
{
        struct domain_config cfg = make_config(46, DOMAIN_TYPE_PV);
        struct vif_config vif = { .has_mac = true, .mac = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 } };
        struct creds user;
        char path[64];

        (void)state;
        creds_from_ids(&user, 1000, NULL, 0);
        cfg.vifs = &vif;
        cfg.n_vifs = 1;
        assert_int_equal(build_queue_add(fx.q, &fx.out[0], &cfg, NULL, &user), 0);
        run_until_done(1, NULL);
        assert_int_equal(fx.out[0].r, -EACCES);
        assert_non_null(strstr(fx.out[0].message, "org.xensup.supervisor1.host-devices"));
        assert_non_null(strstr(fx.out[0].message, "uid 1000"));
        assert_false(listed_paused(fx.out[0].domain.domid, cfg.uuid));
        snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", fx.out[0].domain.domid);
        assert_false(store_has(path));
}

/* The child writes the domain's layout: what it built is in XenStore before it reports. */
static void test_child_writes_the_layout(void **state)
{
        struct domain_config cfg = make_config(45, DOMAIN_TYPE_PV);
        char path[64];

        (void)state;
        assert_int_equal(build_queue_add(fx.q, &fx.out[0], &cfg, "renamed", &fx.root), 0);
        run_until_done(1, NULL);
        assert_int_equal(fx.out[0].r, 0);
        snprintf(path, sizeof(path), "/local/domain/%u/name", fx.out[0].domain.domid);
        assert_true(store_has(path));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_builds_in_children_two_at_a_time, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_failure_carries_the_backend_message, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cancel_only_what_waits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_kills_running_children, setup, teardown),
                cmocka_unit_test_setup_teardown(test_images_opened_with_the_callers_rights, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_image_must_be_a_regular_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disk_target_opened_with_the_callers_rights,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_child_writes_the_layout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vif_needs_host_devices, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
