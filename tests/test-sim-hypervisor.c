/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated hypervisor: the model in-process (domid allocation over the
 * whole range), then build/xensup-sim as a child, driven through the sim
 * backend (builder_open with BUILDER_SIM) and the real libxenstore: domids,
 * host memory, pause, every guest script, control/shutdown answered or not,
 * @releaseDomain at shutdown and at death, fault injection, core files, a
 * hostile guest, malformed requests, clients dying, and the auto-spawn; then
 * devices, the test acting as the toolstack: loop devices and bridges, the
 * blkback/blkfront and netback/netfront handshakes, removal, device faults.
 */
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <xenstore.h>

#include "builders/builder-sim.h"
#include "common/error.h"
#include "sim/hv-internal.h"

/* ---- helpers ---- */

static uint64_t mono_ms(void)
{
        return hv_now_ns() / 1000000;
}

static void sleep_ms(unsigned ms)
{
        (void)poll(NULL, 0, (int)ms);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_rf(const char *dir)
{
        assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static const char *sim_binary(void)
{
        static char path[512];
        const char *build = getenv("XENSUP_BUILD");

        snprintf(path, sizeof(path), "%s/xensup-sim", build ? build : "build");
        return path;
}

static bool answers(const char *dir, const char *name, int type)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
        return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

/* Start xensup-sim --dir DIR [extra] and wait until both sockets answer. */
static pid_t start_sim_with(const char *dir, const char *extra)
{
        pid_t pid = fork();
        uint64_t deadline;

        assert_true(pid >= 0);
        if (pid == 0) {
                execl(sim_binary(), "xensup-sim", "--dir", dir, extra, NULL);
                _exit(127);
        }
        deadline = mono_ms() + 5000;
        while (!answers(dir, HV_SOCKET_NAME, SOCK_SEQPACKET) ||
               !answers(dir, "xenstored.socket", SOCK_STREAM)) {
                assert_true(mono_ms() < deadline);
                sleep_ms(10);
        }
        return pid;
}

static pid_t start_sim(const char *dir)
{
        return start_sim_with(dir, NULL);
}

static void stop_sim(pid_t pid)
{
        int status;

        kill(pid, SIGTERM);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- fixture: one xensup-sim for the group ---- */

struct fixture {
        char dir[64];
        pid_t pid;
        struct builder *b;
        struct xs_handle *xs; /* dom0, for the layout a toolstack writes and for reading back */
        unsigned serial;
};

static struct fixture fx;

static int group_setup(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ char *err = NULL;
        char xs_path[128];

        (void)state;
        strcpy(fx.dir, "/tmp/test-sim-hv.XXXXXX");
        assert_non_null(mkdtemp(fx.dir));
        fx.pid = start_sim(fx.dir);
        o.sim_dir = fx.dir;
        assert_int_equal(builder_open(&o, &fx.b, &err), 0);
        assert_string_equal(builder_name(fx.b), "sim");
        snprintf(xs_path, sizeof(xs_path), "%s/xenstored.socket", fx.dir);
        setenv("XENSTORED_PATH", xs_path, 1);
        fx.xs = xs_open(XS_OPEN_SOCKETONLY);
        assert_non_null(fx.xs);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        xs_close(fx.xs);
        builder_close(fx.b);
        stop_sim(fx.pid);
        rm_rf(fx.dir);
        return 0;
}

static struct domain_config make_config(uint64_t mib)
{
        struct domain_config c = {
                .type = DOMAIN_TYPE_PV,
                .memory_mib = mib,
                .maxmem_mib = mib,
                .vcpus = 1,
                .maxvcpus = 1,
        };

        snprintf(c.name, sizeof(c.name), "guest%u", ++fx.serial);
        uuid_from_name(c.name, c.uuid);
        return c;
}

static struct domain_config make_script(int run_seconds, enum shutdown_reason exit,
                                        enum sim_shutdown_answer answer)
{
        struct domain_config c = make_config(64);

        c.sim = (struct sim_script){ .present = true,
                                     .run_seconds = (unsigned)run_seconds,
                                     .exit = exit,
                                     .on_shutdown = answer };
        return c;
}

static uint32_t create(const struct domain_config *c, struct builder_domain *bd_r)
{
        _cleanup_free_ char *err = NULL;
        struct builder_domain bd;

        assert_int_equal(builder_create(fx.b, c, NULL, &bd, &err), 0);
        if (bd_r)
                *bd_r = bd;
        return bd.domid;
}

static void destroy(uint32_t domid)
{
        _cleanup_free_ char *err = NULL;

        assert_int_equal(builder_destroy(fx.b, domid, &err), 0);
}

/* The domain's row, false when it is not listed. */
static bool find(uint32_t domid, struct builder_domain_info *info_r)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        assert_int_equal(builder_list(fx.b, &infos, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
                if (infos[i].domid == domid) {
                        if (info_r)
                                *info_r = infos[i];
                        return true;
                }
        return false;
}

/* Wait until the domain's shutdown flag is set; its reason, or NONE on timeout. */
static enum shutdown_reason wait_shutdown(uint32_t domid, unsigned timeout_ms)
{
        uint64_t deadline = mono_ms() + timeout_ms;
        struct builder_domain_info info;

        do {
                assert_true(find(domid, &info));
                if (info.shutdown) {
                        assert_false(info.running);
                        return info.reason;
                }
                sleep_ms(20);
        } while (mono_ms() < deadline);
        return SHUTDOWN_REASON_NONE;
}

static void xs_mknod(const char *path, uint32_t owner, unsigned others, uint32_t reader)
{
        struct xs_permissions p[2] = { { .id = owner, .perms = others },
                                       { .id = reader, .perms = XS_PERM_READ } };

        assert_true(xs_write(fx.xs, XBT_NULL, path, "", 0));
        assert_true(xs_set_permissions(fx.xs, XBT_NULL, path, p, reader ? 2 : 1));
}

/* What libxl__domain_make writes for the guest's own use, as far as these tests need. */
static void write_layout(uint32_t domid)
{
        static const char *const rw[] = { "control/shutdown", "control/feature-poweroff",
                                          "control/feature-reboot", "control/feature-suspend",
                                          "data" };
        char path[128];

        snprintf(path, sizeof(path), "/local/domain/%u", domid);
        xs_mknod(path, 0, XS_PERM_NONE, domid);
        snprintf(path, sizeof(path), "/local/domain/%u/control", domid);
        xs_mknod(path, 0, XS_PERM_NONE, domid);
        for (size_t i = 0; i < ELEMENTSOF(rw); i++) {
                snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rw[i]);
                xs_mknod(path, domid, XS_PERM_NONE, 0);
        }
}

static char *xs_get(uint32_t domid, const char *rel, unsigned *len_r)
{
        char path[128];

        snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
        return xs_read(fx.xs, XBT_NULL, path, len_r);
}

static void xs_put(uint32_t domid, const char *rel, const char *v)
{
        char path[128];

        snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
        assert_true(xs_write(fx.xs, XBT_NULL, path, v, strlen(v)));
}

/* Wait until a node holds value (a guest's write is asynchronous). */
static bool wait_node(uint32_t domid, const char *rel, const char *value, unsigned timeout_ms)
{
        uint64_t deadline = mono_ms() + timeout_ms;

        do {
                unsigned len;
                _cleanup_free_ char *v = xs_get(domid, rel, &len);

                if (v && strcmp(v, value) == 0)
                        return true;
                sleep_ms(10);
        } while (mono_ms() < deadline);
        return false;
}

/* Wait until the domain holds kib. */
static bool wait_mem(uint32_t domid, uint64_t kib, unsigned timeout_ms)
{
        uint64_t deadline = mono_ms() + timeout_ms;
        struct builder_domain_info info;

        do {
                assert_true(find(domid, &info));
                if (info.mem_kib == kib)
                        return true;
                sleep_ms(10);
        } while (mono_ms() < deadline);
        return false;
}

/* Wait until the domain has n vcpus online. */
static bool wait_vcpus(uint32_t domid, unsigned n)
{
        uint64_t deadline = mono_ms() + 2000;
        struct builder_domain_info info;

        do {
                assert_true(find(domid, &info));
                if (info.online_vcpus == n)
                        return true;
                sleep_ms(10);
        } while (mono_ms() < deadline);
        return false;
}

/* Create, lay out, introduce and unpause: a booted guest with its XenStore connection. */
static uint32_t boot(const struct domain_config *c)
{
        _cleanup_free_ char *err = NULL;
        struct builder_domain bd;
        uint32_t domid = create(c, &bd);

        write_layout(domid);
        assert_int_equal(builder_introduce(fx.b, &bd, &err), 0);
        assert_int_equal(builder_unpause(fx.b, domid, &err), 0);
        /* A Linux PV guest advertises what control/shutdown requests it understands. */
        assert_true(wait_node(domid, "control/feature-poweroff", "1", 2000));
        assert_true(wait_node(domid, "control/feature-reboot", "1", 2000));
        return domid;
}

static uint64_t calls(enum hv_op op)
{
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        return st.calls[op];
}

/* ---- the model, in-process ---- */

/* Xen 4.17's rover: above the last allocated, wrapping at DOMID_FIRST_RESERVED to 1. */
static void test_model_domid_wrap(void **state)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(hypervisor_freep) struct hypervisor *hv = NULL;
        struct hv_req_create req = {
                .memory_kib = 1024, .maxmem_kib = 1024, .vcpus = 1, .maxvcpus = 1
        };
        struct hv_domain *d;
        char dir[] = "/tmp/test-sim-model.XXXXXX";

        (void)state;
        assert_non_null(mkdtemp(dir));
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(hypervisor_new(e, NULL, dir, &hv), 0);
        /* A second hypervisor on the same directory is refused. */
        {
                struct hypervisor *other = NULL;

                assert_int_equal(hypervisor_new(e, NULL, dir, &other), -EADDRINUSE);
                assert_null(other);
        }
        assert_int_equal(hypervisor_set_total_memory(hv, 64 * 1024), 0);
        strcpy(req.name, "w");
        for (uint32_t id = 1; id < DOMID_FIRST_RESERVED; id++) {
                assert_int_equal(hv_domain_create(hv, &req, &d), 0);
                assert_int_equal(d->domid, id);
        }
        assert_int_equal(hv->n_domains, DOMID_FIRST_RESERVED);
        /* Every domid in use. */
        assert_int_equal(hv_domain_create(hv, &req, &d), -ENOMEM);
        assert_int_equal(hv_domain_destroy(hv_domain_get(hv, 10)), 0);
        assert_int_equal(hv_domain_destroy(hv_domain_get(hv, 3)), 0);
        assert_int_equal(hv_domain_destroy(hv_domain_get(hv, 0x7fef)), 0);
        /* The rover is at 0x7fef: it wraps to 1 and takes the first free one, 3. */
        assert_int_equal(hv_domain_create(hv, &req, &d), 0);
        assert_int_equal(d->domid, 3);
        assert_int_equal(hv_domain_create(hv, &req, &d), 0);
        assert_int_equal(d->domid, 10);
        assert_int_equal(hv_domain_create(hv, &req, &d), 0);
        assert_int_equal(d->domid, 0x7fef);
        /* dom0 is never destroyed, paused or shut down. */
        assert_int_equal(hv_domain_destroy(hv_domain_get(hv, 0)), -EINVAL);
        assert_int_equal(hv_domain_pause(hv_domain_get(hv, 0)), -EINVAL);
        assert_int_equal(hv_domain_shutdown(hv_domain_get(hv, 0), SHUTDOWN_REASON_POWEROFF),
                         -EINVAL);
        /* The memory in use cannot go beyond the host. */
        assert_int_equal(hypervisor_set_total_memory(hv, 1024), -EBUSY);
        hv = hypervisor_free(hv);
        rm_rf(dir);
}

static void test_model_pause_count(void **state)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(hypervisor_freep) struct hypervisor *hv = NULL;
        struct hv_req_create req = {
                .memory_kib = 1024, .maxmem_kib = 2048, .vcpus = 1, .maxvcpus = 2
        };
        struct hv_domain *d;
        char dir[] = "/tmp/test-sim-model.XXXXXX";

        (void)state;
        assert_non_null(mkdtemp(dir));
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(hypervisor_new(e, NULL, dir, &hv), 0);
        assert_int_equal(hv_domain_create(hv, &req, &d), 0);
        assert_int_equal(d->pause_count, 1); /* created paused, as Xen */
        for (unsigned i = 1; i < 255; i++)
                assert_int_equal(hv_domain_pause(d), 0);
        assert_int_equal(hv_domain_pause(d), -EOVERFLOW);
        for (unsigned i = 0; i < 255; i++)
                assert_int_equal(hv_domain_unpause(d), 0);
        assert_int_equal(hv_domain_unpause(d), -EINVAL);
        /* The first shutdown reason stays. */
        assert_int_equal(hv_domain_shutdown(d, SHUTDOWN_REASON_CRASH), 0);
        assert_int_equal(hv_domain_shutdown(d, SHUTDOWN_REASON_POWEROFF), 0);
        assert_int_equal(d->reason, SHUTDOWN_REASON_CRASH);
        hv = hypervisor_free(hv);
        rm_rf(dir);
}

/* ---- xensup-sim through the sim backend ---- */

static void test_dom0(void **state)
{
        struct builder_domain_info info;
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;
        static const uint8_t zero[16];

        (void)state;
        assert_true(find(0, &info));
        assert_memory_equal(info.handle, zero, 16);
        assert_true(info.running);
        assert_false(info.paused);
        assert_false(info.shutdown);
        assert_true(info.mem_kib > 0);
        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        assert_int_equal(st.pid, fx.pid);
        assert_int_equal(st.total_kib, (uint64_t)HV_DEFAULT_TOTAL_MIB * 1024);
        assert_true(st.free_kib < st.total_kib);
        /* dom0 cannot be destroyed, and unknown domids are ESRCH. */
        assert_int_equal(builder_destroy(fx.b, 0, &err), -EINVAL);
        assert_int_equal(builder_destroy(fx.b, 0x7fee, &err), -ESRCH);
        assert_int_equal(builder_unpause(fx.b, 0x7fee, &err), -ESRCH);
        assert_int_equal(builder_pause(fx.b, 12345678, &err), -ESRCH);
}

static void test_domid_order(void **state)
{
        struct domain_config c = make_config(64);
        struct builder_domain bd;
        struct builder_domain_info info;
        uint32_t a, b, d;

        (void)state;
        a = create(&c, &bd);
        assert_true(a >= 1);
        assert_true(find(a, &info));
        assert_memory_equal(info.handle, c.uuid, 16);
        assert_true(info.paused);
        assert_false(info.running);
        assert_int_equal(info.mem_kib, 64 * 1024);
        b = create(&c, NULL);
        assert_int_equal(b, a + 1);
        destroy(a);
        assert_false(find(a, NULL));
        /* A freed domid is not reused at once: the next one is above the last allocated. */
        d = create(&c, NULL);
        assert_int_equal(d, b + 1);
        /* Frames are never shared between domains. */
        {
                struct builder_domain bd2;
                uint32_t e = create(&c, &bd2);

                assert_int_not_equal(bd2.store_mfn, bd.store_mfn);
                assert_int_not_equal(bd2.store_mfn, bd2.console_mfn);
                assert_int_not_equal(bd.store_port, bd.console_port);
                destroy(e);
        }
        destroy(b);
        destroy(d);
}

static void test_memory(void **state)
{
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;
        struct domain_config c;
        struct builder_domain bd;
        struct builder_domain_info info;
        uint32_t a, b;
        unsigned before;

        (void)state;
        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        before = st.domains;
        c = make_config(st.free_kib / 1024 + 1);
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), -ENOMEM);
        assert_non_null(err);
        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        assert_int_equal(st.domains, before); /* nothing left behind */
        /* Exactly what is free fits; then nothing more does. */
        c = make_config(st.free_kib / 1024);
        a = boot(&c);
        c = make_config(1);
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), -ENOMEM);
        /* The hypercall sets the limit (target plus libxl's 1 MiB); the guest keeps its pages. */
        assert_int_equal(builder_set_memory(fx.b, a, 1024, &err), 0);
        assert_true(find(a, &info));
        assert_int_equal(info.max_mem_kib, 2048);
        assert_int_equal(info.mem_kib, (st.free_kib / 1024) * 1024);
        /* Its balloon driver follows memory/target and gives the rest back. */
        xs_put(a, "memory/target", "1024");
        assert_true(wait_mem(a, 1024, 2000));
        c = make_config(1);
        b = create(&c, NULL);
        destroy(b);
        /* Up only as far as its limit; nonsense targets are ignored. */
        xs_put(a, "memory/target", "-5");
        xs_put(a, "memory/target", "99999999999999999999999");
        xs_put(a, "memory/target", "99999999");
        assert_true(wait_mem(a, 2048, 2000));
        destroy(a);
        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        assert_int_equal(st.domains, before);
}

static void test_invalid_create(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(64);
        struct builder_domain bd;

        (void)state;
        c.vcpus = 0;
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), -EINVAL);
        c = make_config(64);
        c.type = DOMAIN_TYPE_HVM;
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err, "hvm"));
}

static void test_pause_vcpus_cputime(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(64);
        struct builder_domain_info info;
        uint64_t t1, t2;
        uint32_t a;

        (void)state;
        c.vcpus = 2;
        c.maxvcpus = 4;
        a = create(&c, NULL);
        assert_true(find(a, &info));
        assert_int_equal(info.max_vcpu_id, 3);
        assert_int_equal(info.online_vcpus, 2);
        assert_int_equal(info.cpu_time_ns, 0);
        assert_int_equal(builder_unpause(fx.b, a, &err), 0);
        assert_int_equal(builder_unpause(fx.b, a, &err), -EINVAL); /* not paused */
        sleep_ms(50);
        assert_true(find(a, &info));
        assert_true(info.running);
        assert_false(info.paused);
        t1 = info.cpu_time_ns;
        assert_true(t1 >= 2 * 40 * 1000000ull); /* two vcpus, ~50 ms */
        assert_int_equal(builder_pause(fx.b, a, &err), 0);
        assert_int_equal(builder_pause(fx.b, a, &err), 0);
        assert_true(find(a, &info));
        t1 = info.cpu_time_ns;
        sleep_ms(30);
        assert_true(find(a, &info));
        assert_true(info.paused);
        assert_false(info.running);
        assert_int_equal(info.cpu_time_ns, t1); /* no time on the cpu while paused */
        assert_int_equal(builder_unpause(fx.b, a, &err), 0);
        assert_true(find(a, &info));
        assert_true(info.paused); /* paused twice, unpaused once */
        assert_int_equal(builder_unpause(fx.b, a, &err), 0);
        sleep_ms(20);
        assert_true(find(a, &info));
        t2 = info.cpu_time_ns;
        assert_true(t2 > t1);
        assert_int_equal(builder_set_vcpus(fx.b, a, 5, &err), -EINVAL);
        assert_int_equal(builder_set_vcpus(fx.b, a, 0, &err), -EINVAL);
        assert_int_equal(builder_set_vcpus(fx.b, a, 4, &err), 0);
        assert_true(find(a, &info));
        assert_int_equal(info.online_vcpus, 2); /* Xen knows the maximum only; the guest decides */
        /* The toolstack's shutdown sets the flag with its reason, and the first reason stays. */
        assert_int_equal(builder_shutdown(fx.b, a, SHUTDOWN_REASON_REBOOT, &err), 0);
        assert_int_equal(builder_shutdown(fx.b, a, SHUTDOWN_REASON_CRASH, &err), 0);
        assert_true(find(a, &info));
        assert_true(info.shutdown);
        assert_false(info.running);
        assert_int_equal(info.reason, SHUTDOWN_REASON_REBOOT);
        destroy(a);
}

/* vcpu hotplug as a Linux guest does it: cpu/N/availability. */
static void test_guest_vcpus(void **state)
{
        struct domain_config c = make_config(16);
        uint32_t a;

        (void)state;
        c.vcpus = 1;
        c.maxvcpus = 4;
        a = boot(&c);
        assert_true(wait_vcpus(a, 1));
        xs_put(a, "cpu/1/availability", "online");
        xs_put(a, "cpu/2/availability", "online");
        assert_true(wait_vcpus(a, 3));
        xs_put(a, "cpu/1/availability", "offline");
        assert_true(wait_vcpus(a, 2));
        /* vcpu0 stays, vcpus past the maximum do not exist, garbage is ignored. */
        xs_put(a, "cpu/0/availability", "offline");
        xs_put(a, "cpu/7/availability", "online");
        xs_put(a, "cpu/3/availability", "maybe");
        xs_put(a, "cpu/3/availability", "online");
        assert_true(wait_vcpus(a, 3));
        destroy(a);
}

/* Every exit a script can take, all at once after 1 s. */
static void test_script_exits(void **state)
{
        static const enum shutdown_reason reasons[] = {
                SHUTDOWN_REASON_POWEROFF, SHUTDOWN_REASON_REBOOT, SHUTDOWN_REASON_CRASH,
                SHUTDOWN_REASON_WATCHDOG, SHUTDOWN_REASON_SOFT_RESET
        };
        _cleanup_free_ char *err = NULL;
        uint32_t ids[ELEMENTSOF(reasons)], forever, paused;
        struct builder_domain_info info;
        struct domain_config c;
        uint64_t start;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
                c = make_script(1, reasons[i], SIM_SHUTDOWN_OBEY);
                ids[i] = create(&c, NULL);
        }
        c = make_script(0, SHUTDOWN_REASON_CRASH, SIM_SHUTDOWN_OBEY);
        forever = create(&c, NULL);
        c = make_script(1, SHUTDOWN_REASON_CRASH, SIM_SHUTDOWN_OBEY);
        paused = create(&c, NULL);
        start = mono_ms();
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                assert_int_equal(builder_unpause(fx.b, ids[i], &err), 0);
        assert_int_equal(builder_unpause(fx.b, forever, &err), 0);
        assert_int_equal(builder_unpause(fx.b, paused, &err), 0);
        assert_int_equal(builder_pause(fx.b, paused, &err), 0);
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                assert_int_equal(wait_shutdown(ids[i], 3000), reasons[i]);
        assert_true(mono_ms() - start >= 900);
        sleep_ms(300);
        /* A guest cannot exit while paused: it does when it next runs. */
        assert_true(find(paused, &info));
        assert_false(info.shutdown);
        assert_int_equal(builder_unpause(fx.b, paused, &err), 0);
        assert_int_equal(wait_shutdown(paused, 1000), SHUTDOWN_REASON_CRASH);
        /* run_seconds = 0 runs until told. */
        assert_true(find(forever, &info));
        assert_false(info.shutdown);
        assert_true(info.running);
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                destroy(ids[i]);
        destroy(forever);
        destroy(paused);
}

static void test_injected_actions(void **state)
{
        static const struct {
                enum hv_guest_action a;
                enum shutdown_reason why;
        } cases[] = {
                { HV_GUEST_POWEROFF, SHUTDOWN_REASON_POWEROFF },
                { HV_GUEST_REBOOT, SHUTDOWN_REASON_REBOOT },
                { HV_GUEST_CRASH, SHUTDOWN_REASON_CRASH },
                { HV_GUEST_WATCHDOG, SHUTDOWN_REASON_WATCHDOG },
                { HV_GUEST_SOFT_RESET, SHUTDOWN_REASON_SOFT_RESET },
        };
        _cleanup_free_ char *err = NULL;
        struct domain_config c;
        uint32_t a;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                c = make_config(16);
                a = create(&c, NULL);
                assert_int_equal(builder_unpause(fx.b, a, &err), 0);
                assert_int_equal(builder_sim_guest_action(fx.b, a, cases[i].a, &err), 0);
                assert_int_equal(wait_shutdown(a, 0), cases[i].why);
                destroy(a);
        }
        assert_int_equal(builder_sim_guest_action(fx.b, 0x7fee, HV_GUEST_CRASH, &err), -ESRCH);
        assert_int_equal(builder_sim_guest_action(fx.b, 0, HV_GUEST_CRASH, &err), -EINVAL);
        assert_int_equal(builder_sim_guest_action_from_string("crash"), HV_GUEST_CRASH);
        assert_int_equal(builder_sim_guest_action_from_string("hang"), HV_GUEST_HANG);
        assert_int_equal(builder_sim_guest_action_from_string("nonsense"), -1);
        assert_int_equal(builder_sim_op_from_string("list"), HV_OP_LIST);
        assert_string_equal(builder_sim_op_to_string(HV_OP_CREATE), "create");
}

/* A Linux PV guest clears control/shutdown and shuts down with that reason. */
static void test_obey_control_shutdown(void **state)
{
        static const struct {
                const char *request;
                enum shutdown_reason why;
        } cases[] = {
                { "poweroff", SHUTDOWN_REASON_POWEROFF },
                { "reboot", SHUTDOWN_REASON_REBOOT },
                { "halt", SHUTDOWN_REASON_POWEROFF },
                { "suspend", SHUTDOWN_REASON_SUSPEND },
        };
        struct domain_config c;
        struct builder_domain_info info;
        uint32_t a;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                c = make_script(0, SHUTDOWN_REASON_POWEROFF, SIM_SHUTDOWN_OBEY);
                a = boot(&c);
                xs_put(a, "control/shutdown", cases[i].request);
                assert_true(wait_node(a, "control/shutdown", "", 2000));
                assert_int_equal(wait_shutdown(a, 2000), cases[i].why);
                destroy(a);
        }
        /* A request it does not know is left unanswered. */
        c = make_config(16);
        a = boot(&c);
        xs_put(a, "control/shutdown", "explode");
        sleep_ms(300);
        assert_true(find(a, &info));
        assert_false(info.shutdown);
        assert_true(wait_node(a, "control/shutdown", "explode", 0));
        destroy(a);
}

static void test_ignore_control_shutdown(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_script(0, SHUTDOWN_REASON_POWEROFF, SIM_SHUTDOWN_IGNORE);
        struct builder_domain_info info;
        uint32_t a = boot(&c), b;

        (void)state;
        xs_put(a, "control/shutdown", "poweroff");
        sleep_ms(400);
        assert_true(find(a, &info));
        assert_false(info.shutdown);
        assert_true(info.running);
        assert_true(wait_node(a, "control/shutdown", "poweroff", 0));
        /* Told to obey, it answers the next request. */
        assert_int_equal(builder_sim_guest_action(fx.b, a, HV_GUEST_OBEY, &err), 0);
        xs_put(a, "control/shutdown", "reboot");
        assert_int_equal(wait_shutdown(a, 2000), SHUTDOWN_REASON_REBOOT);
        destroy(a);

        /* An obeying guest that hangs stops answering. */
        c = make_config(16);
        b = boot(&c);
        assert_int_equal(builder_sim_guest_action(fx.b, b, HV_GUEST_HANG, &err), 0);
        xs_put(b, "control/shutdown", "poweroff");
        sleep_ms(400);
        assert_true(find(b, &info));
        assert_false(info.shutdown);
        destroy(b);
}

/* Wait for one event on the @releaseDomain watch. */
static bool wait_release(unsigned timeout_ms)
{
        struct pollfd p = { .fd = xs_fileno(fx.xs), .events = POLLIN };
        unsigned n;

        if (poll(&p, 1, (int)timeout_ms) <= 0)
                return false;
        free(xs_read_watch(fx.xs, &n));
        return true;
}

static void drain_watch(void)
{
        while (wait_release(100))
                ;
}

static void test_release_domain(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(16);
        uint32_t a;

        (void)state;
        a = boot(&c);
        assert_true(xs_is_domain_introduced(fx.xs, a));
        assert_true(xs_watch(fx.xs, "@releaseDomain", "rel"));
        assert_true(wait_release(1000)); /* a new watch fires once at once */
        drain_watch();
        assert_int_equal(builder_sim_guest_action(fx.b, a, HV_GUEST_CRASH, &err), 0);
        assert_true(wait_release(2000)); /* at shutdown */
        assert_int_equal(wait_shutdown(a, 0), SHUTDOWN_REASON_CRASH);
        drain_watch();
        destroy(a);
        assert_true(wait_release(2000)); /* and again at death */
        assert_false(find(a, NULL));
        assert_false(xs_is_domain_introduced(fx.xs, a));
        /* A domain never introduced does not concern xenstored. */
        drain_watch();
        c = make_config(16);
        a = create(&c, NULL);
        destroy(a);
        assert_false(wait_release(200));
        assert_true(xs_unwatch(fx.xs, "@releaseDomain", "rel"));
        /* Introducing needs the domain's own store port. */
        {
                struct builder_domain bd;

                a = create(&c, &bd);
                bd.store_port = 77;
                assert_true(builder_introduce(fx.b, &bd, &err) < 0);
                destroy(a);
                bd.domid = 0x7fee;
                assert_true(builder_introduce(fx.b, &bd, &err) < 0);
        }
}

static void test_fault_injection(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        struct domain_config c = make_config(16);
        struct builder_domain bd;
        size_t n;
        uint64_t before;
        uint32_t a, b;

        (void)state;
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_CREATE, 2, EIO, 1, &err), 0);
        a = create(&c, NULL);
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), -EIO);
        b = create(&c, NULL);
        assert_int_equal(b, a + 1); /* the failed call allocated nothing */
        /* Two lists in a row fail, then they work again. */
        before = calls(HV_OP_LIST);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_LIST, 1, EAGAIN, 2, &err), 0);
        assert_int_equal(builder_list(fx.b, &infos, &n, &err), -EAGAIN);
        assert_int_equal(builder_list(fx.b, &infos, &n, &err), -EAGAIN);
        assert_int_equal(builder_list(fx.b, &infos, &n, &err), 0);
        assert_int_equal(calls(HV_OP_LIST), before + 3); /* failed calls count too */
        /* A cleared fault never fires. */
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_DESTROY, 1, EPERM, 1, &err), 0);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_DESTROY, 0, 0, 0, &err), 0);
        destroy(a);
        /* A faulted destroy leaves the domain. */
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_DESTROY, 1, EBUSY, 1, &err), 0);
        assert_int_equal(builder_destroy(fx.b, b, &err), -EBUSY);
        assert_true(find(b, NULL));
        destroy(b);
        /* Faults on the fault and stats operations are refused. */
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_FAULT, 1, EIO, 1, &err), -EINVAL);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_STATS, 1, EIO, 1, &err), -EINVAL);
}

/*
 * A rename-restart's kept instance gets a uuid of its own: the list reports
 * it, the new instance keeps the old one, and set_handle fails as Xen would.
 */
static void test_set_handle(void **state)
{
        static const uint8_t fresh[16] = { 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x43, 0x21,
                                           0x9f, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0xff };
        static const uint8_t other[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x47, 0x08,
                                           0x89, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10 };
        static const uint8_t zero[16];
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(16);
        struct builder_domain_info info;
        uint64_t before;
        uint32_t kept, live;

        (void)state;
        kept = create(&c, NULL);
        assert_true(find(kept, &info));
        assert_memory_equal(info.handle, c.uuid, 16);
        before = calls(HV_OP_SET_HANDLE);
        assert_int_equal(builder_set_handle(fx.b, kept, fresh, &err), 0);
        assert_int_equal(calls(HV_OP_SET_HANDLE), before + 1);
        assert_true(find(kept, &info));
        assert_memory_equal(info.handle, fresh, 16);
        /* The new instance with the config's uuid: the two are told apart by handle. */
        live = create(&c, NULL);
        assert_true(find(live, &info));
        assert_memory_equal(info.handle, c.uuid, 16);
        assert_true(find(kept, &info));
        assert_memory_equal(info.handle, fresh, 16);

        /* Unknown domids are ESRCH; dom0 keeps its all-zero handle. */
        assert_int_equal(builder_set_handle(fx.b, 0x7fee, fresh, &err), -ESRCH);
        assert_non_null(strstr(err, "set_handle"));
        assert_int_equal(builder_set_handle(fx.b, 0, fresh, &err), -EINVAL);
        assert_true(find(0, &info));
        assert_memory_equal(info.handle, zero, 16);

        /* An injected fault is the errno, and the faulted call changes nothing. */
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_SET_HANDLE, 1, EPERM, 1, &err), 0);
        assert_int_equal(builder_set_handle(fx.b, kept, other, &err), -EPERM);
        assert_true(find(kept, &info));
        assert_memory_equal(info.handle, fresh, 16);
        assert_int_equal(builder_set_handle(fx.b, kept, other, &err), 0);
        assert_true(find(kept, &info));
        assert_memory_equal(info.handle, other, 16);

        /* find_live tells the two apart by handle, in one request. */
        {
                uint64_t finds = calls(HV_OP_FIND_HANDLE), lists = calls(HV_OP_LIST);
                uint32_t holder = 0;

                assert_int_equal(builder_find_live(fx.b, c.uuid, &holder, &err), 1);
                assert_int_equal(holder, live);
                assert_int_equal(builder_find_live(fx.b, other, &holder, &err), 1);
                assert_int_equal(holder, kept);
                assert_int_equal(builder_find_live(fx.b, zero, &holder, &err), 0);
                assert_int_equal(calls(HV_OP_FIND_HANDLE), finds + 3);
                assert_int_equal(calls(HV_OP_LIST), lists);
        }
        assert_int_equal(builder_sim_op_from_string("set_handle"), HV_OP_SET_HANDLE);
        assert_string_equal(builder_sim_op_to_string(HV_OP_SET_HANDLE), "set_handle");
        destroy(kept);
        destroy(live);
}

/* More domains than one LIST batch: the backend asks in batches, one request each. */
static void test_list_batches(void **state)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        uint32_t ids[HV_LIST_BATCH + 20];
        struct domain_config c = make_config(1);
        uint64_t before;
        size_t n;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                ids[i] = create(&c, NULL);
        before = calls(HV_OP_LIST);
        assert_int_equal(builder_list(fx.b, &infos, &n, &err), 0);
        assert_int_equal(calls(HV_OP_LIST), before + 2);
        assert_true(n >= ELEMENTSOF(ids) + 1);
        assert_int_equal(infos[0].domid, 0);
        for (size_t i = 1; i < n; i++)
                assert_true(infos[i].domid > infos[i - 1].domid);
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                destroy(ids[i]);
}

static void test_dumpcore(void **state)
{
        _cleanup_free_ char *err = NULL, *text = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        struct domain_config c = make_config(32);
        char path[128], line[128], uuid[37];
        struct stat st;
        uint32_t a;
        int fd;

        (void)state;
        a = create(&c, NULL);
        assert_int_equal(builder_sim_guest_action(fx.b, a, HV_GUEST_CRASH, &err), 0);
        snprintf(path, sizeof(path), "%s/core.%u", fx.dir, a);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(builder_dumpcore(fx.b, a, fd, &err), 0);
        close(fd);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_true(st.st_size > 4096);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        assert_string_equal(line, BUILDER_SIM_CORE_MAGIC "\n");
        assert_non_null(fgets(line, sizeof(line), f));
        snprintf(path, sizeof(path), "domid %u\n", a);
        assert_string_equal(line, path);
        assert_non_null(fgets(line, sizeof(line), f));
        snprintf(path, sizeof(path), "uuid %s\n", uuid_to_string(c.uuid, uuid));
        assert_string_equal(line, path);
        assert_non_null(fgets(line, sizeof(line), f));
        snprintf(path, sizeof(path), "name %s\n", c.name);
        assert_string_equal(line, path);
        assert_non_null(fgets(line, sizeof(line), f));
        assert_string_equal(line, "memory_kib 32768\n");
        destroy(a);
        assert_int_equal(builder_dumpcore(fx.b, a, STDERR_FILENO, &err), -ESRCH);
        /* A descriptor it cannot write to fails with that error. */
        a = create(&c, NULL);
        assert_int_equal(builder_dumpcore(fx.b, a, -1, &err), -EBADF);
        destroy(a);
}

static void test_hostile(void **state)
{
        _cleanup_free_ char *err = NULL, *name = NULL, *binary = NULL;
        _cleanup_free_ char **flood = NULL;
        struct domain_config c = make_config(16);
        unsigned n = 0, len = 0;
        char path[128];
        uint32_t a;

        (void)state;
        a = boot(&c);
        assert_int_equal(builder_sim_guest_action(fx.b, a, HV_GUEST_HOSTILE, &err), 0);
        /* Writable places take what fits: binary values, nodes up to the guest's quota. */
        binary = xs_get(a, "data/binary", &len);
        assert_non_null(binary);
        assert_int_equal(len, 7);
        snprintf(path, sizeof(path), "/local/domain/%u/data/flood", a);
        flood = xs_directory(fx.xs, XBT_NULL, path, &n);
        assert_non_null(flood);
        assert_true(n > 100);
        assert_true(n < XS_QUOTA_NODES);
        /* Read-only places refuse it: no fake name, nothing outside its subtree. */
        name = xs_get(a, "name", &len);
        assert_null(name);
        name = xs_read(fx.xs, XBT_NULL, "/local/domain/0/name", &len);
        assert_non_null(name);
        assert_string_equal(name, "Domain-0");
        free(TAKE_PTR(name));
        name = xs_read(fx.xs, XBT_NULL, "/vm/evil", &len);
        assert_null(name);
        /* Still there to be told what to do: its watch on control/shutdown works. */
        xs_put(a, "control/shutdown", "poweroff");
        assert_int_equal(wait_shutdown(a, 2000), SHUTDOWN_REASON_POWEROFF);
        /* The host carries on. */
        assert_true(find(a, NULL));
        destroy(a);
        assert_int_equal(builder_sim_guest_action(fx.b, 0x7fee, HV_GUEST_HOSTILE, &err), -ESRCH);
}

/* --memory-mib sets the host's size: dom0 takes 1/16 of it, creation fails past the rest. */
static void test_memory_option(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ char *err = NULL;
        char dir[] = "/tmp/test-sim-mem.XXXXXX";
        struct domain_config c = make_config(480);
        struct builder_domain bd;
        struct builder_sim_stats st;
        struct builder *b = NULL;
        pid_t pid;

        (void)state;
        assert_non_null(mkdtemp(dir));
        pid = start_sim_with(dir, "--memory-mib=512");
        o.sim_dir = dir;
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(builder_sim_stats(b, &st, &err), 0);
        assert_int_equal(st.total_kib, 512 * 1024);
        assert_int_equal(st.free_kib, 480 * 1024);
        assert_int_equal(builder_create(b, &c, NULL, &bd, &err), 0);
        c = make_config(1);
        assert_int_equal(builder_create(b, &c, NULL, &bd, &err), -ENOMEM);
        assert_non_null(strstr(err, "Cannot allocate memory"));
        /* A simulator restarted under an open backend: the next call reconnects (a fresh host). */
        stop_sim(pid);
        pid = start_sim(dir);
        assert_int_equal(builder_sim_stats(b, &st, &err), 0);
        assert_int_equal(st.pid, pid);
        assert_int_equal(st.domains, 1);
        c = make_config(16);
        assert_int_equal(builder_create(b, &c, NULL, &bd, &err), 0);
        assert_int_equal(bd.domid, 1);
        assert_int_equal(builder_introduce(b, &bd, &err), 0); /* a new XenStore connection too */
        builder_close(b);
        stop_sim(pid);
        rm_rf(dir);
}

/* A zombie stays listed as dying after destroy, holding its domid, then goes. */
static void test_zombie(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(16);
        struct builder_domain_info info;
        uint64_t deadline;
        uint32_t a, b;

        (void)state;
        a = boot(&c);
        assert_true(xs_watch(fx.xs, "@releaseDomain", "zombie"));
        drain_watch();
        assert_int_equal(builder_sim_guest_action(fx.b, a, HV_GUEST_ZOMBIE, &err), 0);
        assert_int_equal(builder_sim_guest_action(fx.b, a, HV_GUEST_CRASH, &err), 0);
        assert_true(wait_release(2000));
        drain_watch();
        destroy(a);
        /* xenstored lets go of it at once: @releaseDomain, no longer introduced. */
        assert_true(wait_release(2000));
        assert_false(xs_is_domain_introduced(fx.xs, a));
        assert_true(find(a, &info));
        assert_true(info.dying);
        assert_true(info.shutdown);
        assert_int_equal(info.reason, SHUTDOWN_REASON_CRASH);
        assert_false(info.running);
        destroy(a); /* again: nothing more to do */
        assert_int_equal(builder_unpause(fx.b, a, &err), -EINVAL);
        /* A dying domain holds no live copy of its uuid: a restart may build one. */
        {
                uint32_t holder = 99;

                assert_int_equal(builder_find_live(fx.b, c.uuid, &holder, &err), 0);
        }
        b = create(&c, NULL);
        assert_int_not_equal(b, a);
        deadline = mono_ms() + 3000;
        while (find(a, NULL))
                assert_true(mono_ms() < deadline);
        assert_true(xs_unwatch(fx.xs, "@releaseDomain", "zombie"));
        destroy(b);
}

/* Requests that break the protocol close the connection; the host carries on. */
static void test_malformed(void **state)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct hv_header h = {
                .magic = HV_PROTO_MAGIC, .version = HV_PROTO_VERSION, .op = HV_OP_LIST, .len = 3
        };
        uint8_t buf[HV_MSG_MAX];
        struct hv_header rh;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        _cleanup_close_ int fd2 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        _cleanup_close_ int fd3 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        (void)state;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", fx.dir, HV_SOCKET_NAME);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        /* Length in the header disagrees with the packet. */
        memset(buf, 0, sizeof(buf));
        memcpy(buf, &h, sizeof(h));
        assert_true(send(fd, buf, sizeof(h) + 8, 0) > 0);
        assert_int_equal(recv(fd, &rh, sizeof(rh), 0), (ssize_t)sizeof(rh));
        assert_int_equal(rh.result, -EBADMSG);
        assert_int_equal(recv(fd, &rh, sizeof(rh), 0), 0); /* closed */
        /* An oversized packet gets no answer but the close. */
        assert_int_equal(connect(fd2, (struct sockaddr *)&sa, sizeof(sa)), 0);
        {
                _cleanup_free_ uint8_t *big = calloc(1, HV_MSG_MAX + 100);

                assert_non_null(big);
                memcpy(big, &h, sizeof(h));
                assert_true(send(fd2, big, HV_MSG_MAX + 100, 0) > 0);
                assert_int_equal(recv(fd2, &rh, sizeof(rh), 0), 0);
        }
        /* A bad magic and a LIST asking for too much. */
        assert_int_equal(connect(fd3, (struct sockaddr *)&sa, sizeof(sa)), 0);
        {
                struct {
                        struct hv_header h;
                        struct hv_req_list l;
                } m = { .h = { .magic = HV_PROTO_MAGIC,
                               .version = HV_PROTO_VERSION,
                               .op = HV_OP_LIST,
                               .seq = 9,
                               .len = sizeof(struct hv_req_list) },
                        .l = { .first_domid = 0, .max = HV_LIST_BATCH + 1 } };

                assert_int_equal(send(fd3, &m, sizeof(m), 0), (ssize_t)sizeof(m));
                assert_int_equal(recv(fd3, &rh, sizeof(rh), 0), (ssize_t)sizeof(rh));
                assert_int_equal(rh.result, -EINVAL);
                assert_int_equal(rh.seq, 9);
                m.h.magic = 0x12345678;
                assert_int_equal(send(fd3, &m, sizeof(m), 0), (ssize_t)sizeof(m));
                assert_int_equal(recv(fd3, &rh, sizeof(rh), 0), (ssize_t)sizeof(rh));
                assert_int_equal(rh.result, -EBADMSG);
                assert_int_equal(recv(fd3, &rh, sizeof(rh), 0), 0);
        }
        assert_true(find(0, NULL));
        /* Past HV_CLIENTS_MAX connections, new ones are closed at once; the host carries on. */
        {
                int fds[HV_CLIENTS_MAX + 4];
                struct stat st;

                for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                        fds[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                        assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
                }
                /* The group's builder holds one: the last ones cannot all be served. */
                assert_int_equal(recv(fds[ELEMENTSOF(fds) - 1], &rh, sizeof(rh), 0), 0);
                for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                        close(fds[i]);
                assert_int_equal(stat(sa.sun_path, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0600);
        }
        sleep_ms(50);
        assert_true(find(0, NULL));
}

/* A client killed mid-life takes nothing with it: its domain and the host stay. */
static void test_client_death(void **state)
{
        struct domain_config c = make_config(16);
        int p[2], status;
        uint32_t domid = 0;
        pid_t pid;

        (void)state;
        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct builder_options o = { .kind = BUILDER_SIM, .sim_dir = fx.dir };
                struct builder *b = NULL;
                struct builder_domain bd = { 0 };

                close(p[0]);
                if (builder_open(&o, &b, NULL) == 0 &&
                    builder_create(b, &c, NULL, &bd, NULL) == 0 &&
                    builder_unpause(b, bd.domid, NULL) == 0)
                        (void)!write(p[1], &bd.domid, sizeof(bd.domid));
                pause(); /* killed with its connection open */
                _exit(0);
        }
        close(p[1]);
        assert_int_equal(read(p[0], &domid, sizeof(domid)), (ssize_t)sizeof(domid));
        close(p[0]);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(find(domid, NULL));
        assert_int_equal(kill(fx.pid, 0), 0);
        destroy(domid);
}

/* open() starts xensup-sim when none answers, in its own session; it outlives the client. */
static void test_autospawn(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ char *err = NULL, *path = NULL;
        struct builder_sim_stats st;
        struct builder *b = NULL;
        char dir[] = "/tmp/test-sim-spawn.XXXXXX", sub[128];
        const char *build = getenv("XENSUP_BUILD");
        const char *old_path = getenv("PATH");
        uint64_t deadline;
        pid_t pid, other, other_sim = 0;
        int p[2];

        (void)state;
        assert_non_null(mkdtemp(dir));
        /* The simulator is looked for beside this binary, then in PATH. */
        assert_true(asprintf(&path, "%s:%s", build ? build : "build", old_path ? old_path : "") >
                    0);
        setenv("PATH", path, 1);
        snprintf(sub, sizeof(sub), "%s/not/yet", dir); /* created on the way */
        o.sim_dir = sub;
        /* Two openers at once start one simulator between them. */
        assert_int_equal(pipe(p), 0);
        other = fork();
        assert_true(other >= 0);
        if (other == 0) {
                struct builder *ob = NULL;
                struct builder_sim_stats ost = { 0 };

                if (builder_open(&o, &ob, NULL) == 0 && builder_sim_stats(ob, &ost, NULL) == 0)
                        (void)!write(p[1], &ost.pid, sizeof(ost.pid));
                pause(); /* killed: no exit handlers in a copy of the test */
                _exit(0);
        }
        close(p[1]);
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(builder_sim_stats(b, &st, &err), 0);
        pid = st.pid;
        assert_true(pid > 0);
        assert_int_equal(read(p[0], &other_sim, sizeof(other_sim)), (ssize_t)sizeof(other_sim));
        close(p[0]);
        assert_int_equal(other_sim, pid);
        kill(other, SIGKILL);
        assert_int_equal(waitpid(other, NULL, 0), other);
        /* In a session of its own: it outlives whoever started it. */
        assert_int_equal(getsid(pid), pid);
        assert_int_equal(st.domains, 1);
        b = builder_close(b);
        /* A second open finds it running and does not start another. */
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(builder_sim_stats(b, &st, &err), 0);
        assert_int_equal(st.pid, pid);
        b = builder_close(b);
        if (old_path)
                setenv("PATH", old_path, 1);
        assert_int_equal(kill(pid, SIGTERM), 0);
        deadline = mono_ms() + 5000;
        while (kill(pid, 0) == 0) {
                assert_true(mono_ms() < deadline);
                sleep_ms(10);
        }
        rm_rf(dir);
        /* A directory where nothing can start fails within the bound, with a message. */
        setenv("PATH", "/nonexistent", 1);
        {
                char dir2[] = "/tmp/test-sim-none.XXXXXX";

                assert_non_null(mkdtemp(dir2));
                o.sim_dir = dir2;
                /* Nothing beside this binary either when XENSUP_BUILD/tests is not build/. */
                if (access("/proc/self/exe", F_OK) == 0) {
                        char self[512];
                        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

                        assert_true(n > 0);
                        self[n] = 0;
                        *strrchr(self, '/') = 0;
                        strcat(self, "/xensup-sim");
                        if (access(self, X_OK) < 0) {
                                assert_int_equal(builder_open(&o, &b, &err), -ETIMEDOUT);
                                assert_non_null(strstr(err, "xensup-sim.log"));
                        }
                }
                rm_rf(dir2);
        }
        if (old_path)
                setenv("PATH", old_path, 1);
}

/* ---- the host's cpus and the domains' vcpus ---- */

/* A cpu map of the host cpus below 64 whose bits low has set. */
static struct builder_cpumap cpumap(uint64_t low)
{
        struct builder_cpumap m = { .bits = { low } };

        return m;
}

/* builder_vcpu_list() of a domain that must have n vcpus; caller frees. */
static struct builder_vcpu_info *vcpus_of(struct builder *b, uint32_t domid, size_t n)
{
        struct builder_vcpu_info *v = NULL;
        _cleanup_free_ char *err = NULL;
        size_t got = 0;

        assert_int_equal(builder_vcpu_list(b, domid, &v, &got, &err), 0);
        assert_int_equal(got, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(v[i].id, i);
        return v;
}

/* The model in-process: the host's cpus, the pin's own checks, a restored domain's maps. */
static void test_model_cpus(void **state)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(hypervisor_freep) struct hypervisor *hv = NULL;
        struct hv_req_create req = {
                .memory_kib = 1024, .maxmem_kib = 1024, .vcpus = 2, .maxvcpus = 3
        };
        struct hv_req_vcpu_pin pin = { .vcpu = 0, .which = HV_PIN_HARD, .hard = { { 0x2 } } };
        struct hv_req_restore rreq = { .maxmem_kib = 1024, .maxvcpus = 3 };
        struct hv_rep_vcpu_info vi;
        struct hv_rep_physinfo pi;
        struct hv_domain *d, *r, *dom0;
        char dir[] = "/tmp/test-sim-model.XXXXXX";

        (void)state;
        assert_non_null(mkdtemp(dir));
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(hypervisor_new(e, NULL, dir, &hv), 0);
        dom0 = hv_domain_get(hv, 0);
        hv_physinfo(hv, &pi);
        assert_int_equal(pi.nr_cpus, HV_DEFAULT_CPUS);
        assert_int_equal(dom0->max_vcpus, HV_DEFAULT_CPUS);
        assert_int_equal(hypervisor_set_cpus(hv, HV_CPUS_MAX + 1), -EINVAL);
        assert_int_equal(hypervisor_set_cpus(hv, HV_CPUS_MAX), 0);
        /* dom0 has a vcpu per cpu, as many as a domain can have. */
        assert_int_equal(dom0->max_vcpus, VCPUS_MAX);
        assert_int_equal(dom0->online_vcpus, VCPUS_MAX);
        assert_int_equal(hv_domain_vcpu_info(dom0, VCPUS_MAX - 1, &vi), 0);
        assert_int_equal(vi.cpu, VCPUS_MAX - 1);
        assert_true(vi.hard.bits[HV_CPUS_MAX / 64 - 1] == UINT64_MAX);
        assert_int_equal(hypervisor_set_cpus(hv, 0), 0); /* the default again */
        assert_int_equal(dom0->max_vcpus, HV_DEFAULT_CPUS);
        assert_int_equal(hypervisor_set_cpus(hv, 3), 0);
        hv_physinfo(hv, &pi);
        assert_int_equal(pi.nr_cpus, 3);
        assert_int_equal(pi.cores_per_socket, 3);
        assert_int_equal(dom0->max_vcpus, 3);
        strcpy(req.name, "c");
        assert_int_equal(hv_domain_create(hv, &req, &d), 0);
        /* Affinities name the host's cpus: they stay while a guest is there. */
        assert_int_equal(hypervisor_set_cpus(hv, 4), -EBUSY);
        assert_int_equal(hv_domain_vcpu_info(d, 2, &vi), 0);
        assert_int_equal(vi.flags, 0); /* offline */
        assert_int_equal(vi.max_vcpu_id, 2);
        assert_int_equal(vi.hard.bits[0], 0x7);
        assert_int_equal(vi.soft.bits[0], 0x7);
        assert_int_equal(hv_domain_vcpu_info(d, 3, &vi), -EINVAL);
        /* What the builder never sends is refused too: no map, an unknown one, reserved. */
        pin.which = 0;
        assert_int_equal(hv_domain_vcpu_pin(d, &pin), -EINVAL);
        pin.which = HV_PIN_HARD | 4;
        assert_int_equal(hv_domain_vcpu_pin(d, &pin), -EINVAL);
        pin.which = HV_PIN_HARD;
        pin.reserved = 1;
        assert_int_equal(hv_domain_vcpu_pin(d, &pin), -EINVAL);
        pin.reserved = 0;
        pin.hard.bits[HV_CPUS_MAX / 64 - 1] = 1ull << 63; /* cpu 1023 */
        assert_int_equal(hv_domain_vcpu_pin(d, &pin), -EINVAL);
        pin.hard.bits[HV_CPUS_MAX / 64 - 1] = 0;
        /* A map left out is not looked at. */
        pin.soft.bits[0] = 0x8;
        assert_int_equal(hv_domain_vcpu_pin(d, &pin), 0);
        assert_int_equal(hv_domain_vcpu_info(d, 0, &vi), 0);
        assert_int_equal(vi.hard.bits[0], 0x2);
        assert_int_equal(vi.soft.bits[0], 0x7);
        assert_int_equal(vi.cpu, 1);
        /* A restored domain starts with every host cpu, whatever the saved one had. */
        assert_int_equal(hv_domain_unpause(d), 0);
        assert_int_equal(hv_domain_shutdown(d, SHUTDOWN_REASON_SUSPEND), 0);
        assert_int_equal(hv_domain_save(d, &rreq.state), 0);
        strcpy(rreq.name, "c");
        assert_int_equal(hv_domain_restore(hv, &rreq, &r), 0);
        assert_int_not_equal(r->domid, d->domid);
        assert_int_equal(hv_domain_vcpu_info(r, 0, &vi), 0);
        assert_int_equal(vi.flags, HV_VCPU_ONLINE | HV_VCPU_BLOCKED); /* paused */
        assert_int_equal(vi.hard.bits[0], 0x7);
        assert_int_equal(vi.soft.bits[0], 0x7);
        assert_int_equal(vi.cpu, 0);
        assert_int_equal(vi.cpu_time_ns, 0);
        assert_int_equal(hv_domain_vcpu_info(r, 1, &vi), 0);
        assert_int_equal(vi.flags, HV_VCPU_ONLINE | HV_VCPU_BLOCKED);
        assert_int_equal(hv_domain_vcpu_info(r, 2, &vi), 0);
        assert_int_equal(vi.flags, 0);
        hv = hypervisor_free(hv);
        rm_rf(dir);
}

/* What xl info shows, from the default host (4 cpus) of the group's simulator. */
static void test_host_info(void **state)
{
        _cleanup_free_ struct builder_vcpu_info *v = NULL;
        _cleanup_free_ char *err = NULL;
        struct builder_host_info hi;
        struct builder_sim_stats st;

        (void)state;
        assert_int_equal(builder_host_info(fx.b, &hi, &err), 0);
        assert_string_equal(hi.version, "sim-4");
        assert_string_equal(hi.capabilities,
                            "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
        assert_string_equal(hi.virt_caps, "pv hvm hap");
        assert_string_equal(hi.scheduler, "credit2");
        assert_int_equal(hi.nr_cpus, 4);
        assert_int_equal(hi.nr_nodes, 1);
        assert_int_equal(hi.cores_per_socket, 4);
        assert_int_equal(hi.threads_per_core, 1);
        assert_int_equal(hi.cpu_khz, 2000000);
        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        assert_int_equal(hi.total_kib, st.total_kib);
        assert_int_equal(hi.free_kib, st.free_kib);
        assert_int_equal(hi.total_kib, (uint64_t)HV_DEFAULT_TOTAL_MIB * 1024);
        /* dom0: a vcpu per host cpu, each on its own cpu, running. */
        v = vcpus_of(fx.b, 0, 4);
        for (unsigned i = 0; i < 4; i++) {
                assert_true(v[i].online);
                assert_true(v[i].running);
                assert_false(v[i].blocked);
                assert_int_equal(v[i].cpu, i);
                assert_int_equal(v[i].hard.bits[0], 0xf);
                assert_int_equal(v[i].soft.bits[0], 0xf);
        }
}

static void test_vcpu_list(void **state)
{
        _cleanup_free_ struct builder_vcpu_info *v = NULL, *none = NULL;
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(16);
        struct builder_domain_info info;
        uint64_t sum = 0;
        size_t n = 99;
        char want[64];
        uint32_t a;

        (void)state;
        c.vcpus = 2;
        c.maxvcpus = 4;
        a = create(&c, NULL);
        v = vcpus_of(fx.b, a, 4);
        for (unsigned i = 0; i < 4; i++) {
                assert_int_equal(v[i].online, i < 2);
                assert_false(v[i].running); /* created paused */
                assert_int_equal(v[i].blocked, i < 2);
                assert_int_equal(v[i].cpu, i);
                assert_int_equal(v[i].cpu_time_ns, 0);
                for (size_t w = 0; w < ELEMENTSOF(v[i].hard.bits); w++) {
                        assert_int_equal(v[i].hard.bits[w], w == 0 ? 0xf : 0);
                        assert_int_equal(v[i].soft.bits[w], w == 0 ? 0xf : 0);
                }
        }
        free(v);
        assert_int_equal(builder_unpause(fx.b, a, &err), 0);
        sleep_ms(30);
        v = vcpus_of(fx.b, a, 4);
        assert_true(find(a, &info));
        for (unsigned i = 0; i < 4; i++) {
                assert_int_equal(v[i].running, i < 2);
                assert_false(v[i].blocked);
                assert_int_equal(v[i].cpu_time_ns > 0, i < 2);
                sum += v[i].cpu_time_ns;
        }
        /* The vcpus' times add up to the domain's (taken a moment later). */
        assert_true(v[0].cpu_time_ns >= 20 * 1000000ull);
        assert_true(sum <= info.cpu_time_ns);
        assert_true(info.cpu_time_ns - sum < 2 * 1000000000ull);
        /* A shut-down domain's vcpus run no more. */
        assert_int_equal(builder_shutdown(fx.b, a, SHUTDOWN_REASON_POWEROFF, &err), 0);
        free(v);
        v = vcpus_of(fx.b, a, 4);
        assert_false(v[0].running);
        assert_true(v[0].blocked);
        destroy(a);
        assert_int_equal(builder_vcpu_list(fx.b, a, &none, &n, &err), -ESRCH);
        snprintf(want, sizeof(want), "domain %u does not exist", a);
        assert_string_equal(err, want);
        assert_null(none);
        assert_int_equal(n, 0);
}

static void test_vcpu_pin(void **state)
{
        _cleanup_free_ struct builder_vcpu_info *v = NULL;
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(16);
        struct builder_cpumap one = cpumap(0x2), three = cpumap(0x8), all = cpumap(0xf);
        struct builder_cpumap zero_two = cpumap(0x5), two = cpumap(0x4), none = cpumap(0);
        struct builder_cpumap nine = cpumap(0x200 | 0x1), top = cpumap(0);
        uint64_t pins;
        char want[96];
        uint32_t a;

        (void)state;
        c.vcpus = 2;
        c.maxvcpus = 4;
        a = create(&c, NULL);
        /* Hard only: the vcpu moves there, its soft map stays. */
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, &one, NULL, &err), 0);
        v = vcpus_of(fx.b, a, 4);
        assert_int_equal(v[0].hard.bits[0], 0x2);
        assert_int_equal(v[0].soft.bits[0], 0xf);
        assert_int_equal(v[0].cpu, 1);
        assert_int_equal(v[1].hard.bits[0], 0xf); /* the others untouched */
        assert_int_equal(v[1].cpu, 1);
        free(v);
        /* Soft only: within its hard map, the vcpu goes where it prefers. */
        assert_int_equal(builder_vcpu_pin(fx.b, a, 1, NULL, &three, &err), 0);
        v = vcpus_of(fx.b, a, 4);
        assert_int_equal(v[1].hard.bits[0], 0xf);
        assert_int_equal(v[1].soft.bits[0], 0x8);
        assert_int_equal(v[1].cpu, 3);
        assert_int_equal(v[0].hard.bits[0], 0x2);
        free(v);
        /* Both, of an offline vcpu; then a soft map outside the hard one counts for nothing. */
        assert_int_equal(builder_vcpu_pin(fx.b, a, 3, &zero_two, &two, &err), 0);
        v = vcpus_of(fx.b, a, 4);
        assert_false(v[3].online);
        assert_int_equal(v[3].hard.bits[0], 0x5);
        assert_int_equal(v[3].soft.bits[0], 0x4);
        assert_int_equal(v[3].cpu, 2);
        free(v);
        assert_int_equal(builder_vcpu_pin(fx.b, a, 3, NULL, &three, &err), 0);
        v = vcpus_of(fx.b, a, 4);
        assert_int_equal(v[3].cpu, 0); /* from cpu 3, wrapping, the first of {0,2} */
        free(v);
        /* An empty soft map is no preference. */
        assert_int_equal(builder_vcpu_pin(fx.b, a, 1, &all, &none, &err), 0);
        v = vcpus_of(fx.b, a, 4);
        assert_int_equal(v[1].soft.bits[0], 0);
        assert_int_equal(v[1].cpu, 1);
        free(v);
        v = NULL;

        /* Refused, each saying why, and nothing changed. */
        snprintf(want, sizeof(want), "vcpu-pin: domain %u has no vcpu 4: its vcpus are 0-3", a);
        assert_int_equal(builder_vcpu_pin(fx.b, a, 4, &one, NULL, &err), -EINVAL);
        assert_string_equal(err, want);
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, &nine, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: cpu 9 does not exist: the host has cpus 0-3");
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, &all, &nine, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: cpu 9 does not exist: the host has cpus 0-3");
        builder_cpumap_set(&top, BUILDER_CPUS_MAX - 1);
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, NULL, &top, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: cpu 1023 does not exist: the host has cpus 0-3");
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, &none, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: the hard affinity of vcpu 0 names no cpu");
        v = vcpus_of(fx.b, a, 4);
        assert_int_equal(v[0].hard.bits[0], 0x2);
        assert_int_equal(v[0].soft.bits[0], 0xf);
        free(v);
        v = NULL;
        assert_int_equal(builder_vcpu_pin(fx.b, 0x7fee, 0, &one, NULL, &err), -ESRCH);
        assert_string_equal(err, "domain 32750 does not exist");
        /* Neither map: refused before the hypervisor is asked. */
        pins = calls(HV_OP_VCPU_PIN);
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, NULL, NULL, &err), -EINVAL);
        assert_int_equal(calls(HV_OP_VCPU_PIN), pins);
        /* dom0's vcpus can be pinned too. */
        assert_int_equal(builder_vcpu_pin(fx.b, 0, 0, &one, NULL, &err), 0);
        v = vcpus_of(fx.b, 0, 4);
        assert_int_equal(v[0].cpu, 1);
        assert_int_equal(builder_vcpu_pin(fx.b, 0, 0, &all, NULL, &err), 0);
        destroy(a);
}

/* xl mem-max: the limit (plus libxl's slack) changes, the pages the guest holds do not. */
static void test_set_max_memory(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(64);
        struct builder_domain_info info;
        uint32_t a;

        (void)state;
        a = create(&c, NULL);
        assert_int_equal(builder_set_max_memory(fx.b, a, 128 * 1024, &err), 0);
        assert_true(find(a, &info));
        assert_int_equal(info.max_mem_kib, 128 * 1024 + 1024);
        assert_int_equal(info.mem_kib, 64 * 1024);
        assert_int_equal(builder_set_max_memory(fx.b, a, 32 * 1024, &err), 0);
        assert_true(find(a, &info));
        assert_int_equal(info.max_mem_kib, 32 * 1024 + 1024);
        assert_int_equal(info.mem_kib, 64 * 1024); /* until its balloon gives pages back */
        assert_int_equal(builder_set_max_memory(fx.b, a, 0, &err), -EINVAL);
        assert_string_equal(err, "memory maximum 0 KiB out of range");
        assert_int_equal(builder_set_memory(fx.b, a, 0, &err), -EINVAL);
        assert_string_equal(err, "memory target 0 KiB out of range");
        assert_int_equal(builder_set_max_memory(fx.b, 0x7fee, 1024, &err), -ESRCH);
        destroy(a);
}

/* Each new op faulted: the builder call fails with the fault's errno and returns nothing. */
static void test_cpu_faults(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ struct builder_vcpu_info *v = NULL;
        struct domain_config c = make_config(16);
        struct builder_cpumap one = cpumap(0x2);
        struct builder_host_info hi;
        struct builder_domain_info info;
        char want[96];
        size_t n = 7;
        uint32_t a;

        (void)state;
        c.vcpus = 1;
        c.maxvcpus = 3;
        a = create(&c, NULL);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_PHYSINFO, 1, EIO, 1, &err), 0);
        assert_int_equal(builder_host_info(fx.b, &hi, &err), -EIO);
        assert_string_equal(err, "physinfo: Input/output error");
        assert_int_equal(builder_host_info(fx.b, &hi, &err), 0);
        /* The first vcpu's call, then one midway through the list. */
        for (unsigned nth = 1; nth <= 2; nth++) {
                assert_int_equal(builder_sim_fault(fx.b, HV_OP_VCPU_INFO, nth, EAGAIN, 1, &err), 0);
                assert_int_equal(builder_vcpu_list(fx.b, a, &v, &n, &err), -EAGAIN);
                snprintf(want, sizeof(want), "domid %u: vcpu_info: %s", a, strerror(EAGAIN));
                assert_string_equal(err, want);
                assert_null(v);
                assert_int_equal(n, 0);
        }
        v = vcpus_of(fx.b, a, 3);
        /* A faulted pin changes nothing; an EINVAL that none of the checks explain is told. */
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_VCPU_PIN, 1, EPERM, 1, &err), 0);
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, &one, NULL, &err), -EPERM);
        snprintf(want, sizeof(want), "domid %u: vcpu_pin: %s", a, strerror(EPERM));
        assert_string_equal(err, want);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_VCPU_PIN, 1, EINVAL, 1, &err), 0);
        assert_int_equal(builder_vcpu_pin(fx.b, a, 0, &one, NULL, &err), -EINVAL);
        snprintf(want, sizeof(want), "domid %u: vcpu_pin: %s", a, strerror(EINVAL));
        assert_string_equal(err, want);
        free(v);
        v = vcpus_of(fx.b, a, 3);
        assert_int_equal(v[0].hard.bits[0], 0xf);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_SET_MEMORY, 1, ENOMEM, 1, &err), 0);
        assert_int_equal(builder_set_max_memory(fx.b, a, 1024, &err), -ENOMEM);
        assert_true(find(a, &info));
        assert_int_equal(info.max_mem_kib, 16 * 1024 + 1024);
        destroy(a);
}

/* xensup-sim --cpus: the host's size, what the vcpus may be pinned to, and its checks. */
static void test_cpus_option(void **state)
{
        static const char *const bad[] = { "0", "1025", "-1", "2x", "" };
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ struct builder_vcpu_info *v = NULL;
        _cleanup_free_ char *err = NULL, *out = NULL;
        char dir[] = "/tmp/test-sim-cpus.XXXXXX", cmd[1024];
        struct domain_config c = make_config(16);
        struct builder_cpumap cpu2 = cpumap(0x4), cpu3 = cpumap(0x8);
        struct builder_host_info hi;
        struct builder_domain bd;
        struct builder *b = NULL;
        size_t len = 0;
        FILE *f;
        pid_t pid;

        (void)state;
        assert_non_null(mkdtemp(dir));
        pid = start_sim_with(dir, "--cpus=3");
        o.sim_dir = dir;
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(builder_host_info(b, &hi, &err), 0);
        assert_int_equal(hi.nr_cpus, 3);
        assert_int_equal(hi.cores_per_socket, 3);
        v = vcpus_of(b, 0, 3);
        free(v);
        c.vcpus = 4;
        c.maxvcpus = 5;
        assert_int_equal(builder_create(b, &c, NULL, &bd, &err), 0);
        v = vcpus_of(b, bd.domid, 5);
        for (unsigned i = 0; i < 5; i++) {
                assert_int_equal(v[i].cpu, i % 3);
                assert_int_equal(v[i].hard.bits[0], 0x7);
        }
        assert_int_equal(builder_vcpu_pin(b, bd.domid, 4, &cpu2, NULL, &err), 0);
        assert_int_equal(builder_vcpu_pin(b, bd.domid, 4, &cpu3, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: cpu 3 does not exist: the host has cpus 0-2");
        builder_close(b);
        stop_sim(pid);
        /* One cpu is said as one; no cpu, too many, or not a number is refused. */
        pid = start_sim_with(dir, "--cpus=1");
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(builder_vcpu_pin(b, 0, 0, &cpu2, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: cpu 2 does not exist: the host has only cpu 0");
        assert_int_equal(builder_vcpu_pin(b, 0, 1, &cpu2, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: domain 0 has no vcpu 1: its only vcpu is 0");
        builder_close(b);
        stop_sim(pid);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(cmd, sizeof(cmd), "%s --dir %s --cpus='%s' 2>%s/err", sim_binary(), dir,
                         bad[i], dir);
                assert_int_equal(WEXITSTATUS(system(cmd)), 1);
                snprintf(cmd, sizeof(cmd), "%s/err", dir);
                f = fopen(cmd, "re");
                assert_non_null(f);
                assert_true(getline(&out, &len, f) > 0);
                fclose(f);
                snprintf(cmd, sizeof(cmd),
                         "xensup-sim: --cpus: '%s' is not a number of cpus from 1 to 1024\n",
                         bad[i]);
                assert_string_equal(out, cmd);
        }
        rm_rf(dir);
}

/* ---- devices: the host side, dom0's backends and the guest's frontends ---- */

#define DEV_WAIT_MS  2000 /* a handshake step that must come */
#define DEV_QUIET_MS 150  /* how long a step that must not come is given */

/* dir/name in one of a few rotating buffers: enough for one assertion's arguments. */
static const char *at(const char *dir, const char *name)
{
        static char bufs[4][256];
        static unsigned next;
        char *b = bufs[next++ % ELEMENTSOF(bufs)];

        snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
        return b;
}

static void fe_dir(char *buf, size_t n, const char *type, uint32_t domid, uint32_t devid)
{
        snprintf(buf, n, "/local/domain/%u/device/%s/%u", domid, type, devid);
}

static void be_dir(char *buf, size_t n, const char *type, uint32_t domid, uint32_t devid)
{
        snprintf(buf, n, "/local/domain/0/backend/%s/%u/%u", type, domid, devid);
}

static char *get(const char *path)
{
        unsigned len;

        return xs_read(fx.xs, XBT_NULL, path, &len);
}

static void put(const char *path, const char *v)
{
        assert_true(xs_write(fx.xs, XBT_NULL, path, v, strlen(v)));
}

/* Wait until path holds value; false when it never did within ms. */
static bool wait_value(const char *path, const char *value, unsigned ms)
{
        uint64_t deadline = mono_ms() + ms;

        do {
                _cleanup_free_ char *v = get(path);

                if (v && strcmp(v, value) == 0)
                        return true;
                sleep_ms(10);
        } while (mono_ms() < deadline);
        return false;
}

static void tx_write(xs_transaction_t t, const char *path, const char *v)
{
        assert_true(xs_write(fx.xs, t, path, v, strlen(v)));
}

static void tx_dir(xs_transaction_t t, const char *path, uint32_t owner, uint32_t reader)
{
        struct xs_permissions p[2] = { { .id = owner, .perms = XS_PERM_NONE },
                                       { .id = reader, .perms = XS_PERM_READ } };

        tx_write(t, path, "");
        assert_true(xs_set_permissions(fx.xs, t, path, p, 2));
}

/*
 * What libxl's device_disk_add / libxl__device_nic_add write, in one transaction: the
 * frontend directory (n<domid>,r0) and the backend one (n0,r<domid>), the nodes inheriting
 * them. omit names a backend node to leave out.
 */
static void add_device(uint32_t domid, const char *type, uint32_t devid, const char *omit)
{
        char fe[128], be[128], id[16], dom[16];
        bool vbd = strcmp(type, "vbd") == 0;
        const char *const be_vbd[][2] = {
                { "dev", "xvda" },
                { "mode", "w" },
                { "params", "/img" },
                { "type", "phy" },
                { "device-type", "disk" },
                { "removable", "0" },
                { "script", "/etc/xen/scripts/block" },
        };
        const char *const be_vif[][2] = {
                { "script", "/etc/xen/scripts/vif-bridge" },
                { "handle", id },
                { "mac", "00:16:3e:01:02:03" },
                { "bridge", "xenbr0" },
                { "type", "vif" },
                { "hotplug-status", "" },
        };

        fe_dir(fe, sizeof(fe), type, domid, devid);
        be_dir(be, sizeof(be), type, domid, devid);
        snprintf(id, sizeof(id), "%u", devid);
        snprintf(dom, sizeof(dom), "%u", domid);
        for (;;) {
                xs_transaction_t t = xs_transaction_start(fx.xs);

                assert_true(t != XBT_NULL);
                tx_dir(t, fe, domid, 0);
                tx_write(t, at(fe, "backend"), be);
                tx_write(t, at(fe, "backend-id"), "0");
                tx_write(t, at(fe, "state"), "1");
                if (vbd) {
                        tx_write(t, at(fe, "virtual-device"), id);
                        tx_write(t, at(fe, "device-type"), "disk");
                } else {
                        tx_write(t, at(fe, "handle"), id);
                        tx_write(t, at(fe, "mac"), "00:16:3e:01:02:03");
                }
                tx_dir(t, be, 0, domid);
                tx_write(t, at(be, "frontend"), fe);
                tx_write(t, at(be, "frontend-id"), dom);
                tx_write(t, at(be, "online"), "1");
                tx_write(t, at(be, "state"), "1");
                for (size_t i = 0; i < (vbd ? ELEMENTSOF(be_vbd) : ELEMENTSOF(be_vif)); i++) {
                        const char *const *kv = vbd ? be_vbd[i] : be_vif[i];

                        if (!omit || strcmp(kv[0], omit) != 0)
                                tx_write(t, at(be, kv[0]), kv[1]);
                }
                if (xs_transaction_end(fx.xs, t, false))
                        return;
                assert_int_equal(errno, EAGAIN);
        }
}

/* libxl__initiate_device_generic_remove: online 0, and Closing unless already Closed. */
static void remove_device(const char *be, bool force, const char *fe)
{
        for (;;) {
                xs_transaction_t t = xs_transaction_start(fx.xs);
                _cleanup_free_ char *st = NULL;
                unsigned len;

                assert_true(t != XBT_NULL);
                if (force)
                        assert_true(xs_rm(fx.xs, t, fe));
                tx_write(t, at(be, "online"), "0");
                st = xs_read(fx.xs, t, at(be, "state"), &len);
                if (!st || strcmp(st, "6") != 0)
                        tx_write(t, at(be, "state"), "5");
                if (xs_transaction_end(fx.xs, t, false))
                        return;
                assert_int_equal(errno, EAGAIN);
        }
}

/* libxl__device_destroy: both directories go, in one transaction. */
static void destroy_device(const char *be, const char *fe)
{
        for (;;) {
                xs_transaction_t t = xs_transaction_start(fx.xs);

                assert_true(t != XBT_NULL);
                (void)xs_rm(fx.xs, t, fe);
                (void)xs_rm(fx.xs, t, be);
                if (xs_transaction_end(fx.xs, t, false))
                        return;
                assert_int_equal(errno, EAGAIN);
        }
}

/* A disk image of kib KiB in the fixture's directory, open read-write. */
static int make_image(const char *name, unsigned kib)
{
        char path[128];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", fx.dir, name);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)kib * 1024), 0);
        return fd;
}

/* What the block script writes once its loop device is set up. */
static void write_physical(const char *be, const struct builder_disk_host *h)
{
        char pdev[32];

        snprintf(pdev, sizeof(pdev), "%x:%x", h->major, h->minor);
        put(at(be, "physical-device"), pdev);
        put(at(be, "physical-device-path"), h->device);
        if (h->loop)
                put(at(be, "node"), h->device);
        put(at(be, "hotplug-status"), "connected");
}

static bool find_loop(uint32_t minor, struct hv_loop_info *info_r)
{
        _cleanup_free_ struct hv_loop_info *loops = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        assert_int_equal(builder_sim_loops(fx.b, &loops, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
                if (loops[i].minor == minor) {
                        if (info_r)
                                *info_r = loops[i];
                        return true;
                }
        return false;
}

static bool find_netdev(const char *name, struct hv_netdev_info *info_r)
{
        _cleanup_free_ struct hv_netdev_info *nd = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        assert_int_equal(builder_sim_netdevs(fx.b, &nd, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(nd[i].name, name) == 0) {
                        if (info_r)
                                *info_r = nd[i];
                        return true;
                }
        return false;
}

static bool wait_netdev(const char *name, bool present, unsigned ms)
{
        uint64_t deadline = mono_ms() + ms;

        do {
                if (find_netdev(name, NULL) == present)
                        return true;
                sleep_ms(10);
        } while (mono_ms() < deadline);
        return false;
}

/* Created and laid out, still paused and not introduced: where devices get added. */
static uint32_t create_laid_out(struct builder_domain *bd)
{
        struct domain_config c = make_config(16);
        uint32_t domid = create(&c, bd);

        write_layout(domid);
        return domid;
}

/* Introduce and unpause: the guest boots, and its frontends with it. */
static void start(const struct builder_domain *bd)
{
        _cleanup_free_ char *err = NULL;

        assert_int_equal(builder_introduce(fx.b, bd, &err), 0);
        assert_int_equal(builder_unpause(fx.b, bd->domid, &err), 0);
        assert_true(wait_node(bd->domid, "control/feature-poweroff", "1", DEV_WAIT_MS));
}

/* A guest with a vbd whose handshake completed: both ends at 4, on loop device *h_r. */
static uint32_t boot_with_disk(struct builder_domain *bd, const char *image, char *fe, char *be,
                               struct builder_disk_host *h_r)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = make_image(image, 1024);
        uint32_t domid = create_laid_out(bd);

        fe_dir(fe, 128, "vbd", domid, 51712);
        be_dir(be, 128, "vbd", domid, 51712);
        add_device(domid, "vbd", 51712, NULL);
        assert_true(wait_value(at(be, "state"), "2", DEV_WAIT_MS));
        assert_int_equal(builder_disk_attach(fx.b, fd, false, image, h_r, &err), 0);
        write_physical(be, h_r);
        start(bd);
        assert_true(wait_value(at(be, "state"), "4", DEV_WAIT_MS));
        assert_true(wait_value(at(fe, "state"), "4", DEV_WAIT_MS));
        return domid;
}

/* Loop devices: the lowest free minor, released only while they serve the same file. */
static void test_loop_devices(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int a = make_image("loop-a.img", 64), b = make_image("loop-b.img", 8);
        _cleanup_close_ int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct builder_disk_host ha, hb, hc, stale;
        struct hv_loop_info li;
        struct stat st;
        uint64_t before;

        (void)state;
        assert_int_equal(builder_disk_attach(fx.b, a, false, "loop-a.img", &ha, &err), 0);
        assert_true(ha.loop);
        assert_int_equal(ha.major, 7);
        assert_int_equal(ha.minor, 0);
        assert_string_equal(ha.device, "/dev/loop0");
        assert_int_equal(fstat(a, &st), 0);
        assert_int_equal(ha.backing_dev, st.st_dev);
        assert_int_equal(ha.backing_ino, st.st_ino);
        assert_int_equal(builder_disk_attach(fx.b, b, true, "loop-b.img", &hb, &err), 0);
        assert_int_equal(hb.minor, 1);
        assert_true(find_loop(0, &li));
        assert_int_equal(li.flags, 0);
        assert_int_equal(li.size, 64 * 1024);
        assert_true(find_loop(1, &li));
        assert_int_equal(li.flags, HV_LOOP_READONLY);
        /* Released: minor 0 is the lowest free one again. */
        assert_int_equal(builder_disk_release(fx.b, &ha, &err), 0);
        assert_false(find_loop(0, NULL));
        assert_int_equal(builder_disk_attach(fx.b, b, false, "loop-b.img", &hc, &err), 0);
        assert_int_equal(hc.minor, 0);
        /* A minor serving another file, or nothing, is left alone. */
        assert_int_equal(builder_disk_release(fx.b, &ha, &err), 0);
        assert_true(find_loop(0, NULL));
        stale = ha;
        stale.minor = 77;
        assert_int_equal(builder_disk_release(fx.b, &stale, &err), 0);
        /* Neither a file nor a block device. */
        assert_true(null_fd >= 0);
        assert_int_equal(builder_disk_attach(fx.b, null_fd, false, "/dev/null", &stale, &err),
                         -EINVAL);
        assert_non_null(strstr(err, "/dev/null"));
        /* A faulted attach attaches nothing; a faulted release keeps the loop device. */
        before = calls(HV_OP_LOOP_ATTACH);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_LOOP_ATTACH, 1, EIO, 1, &err), 0);
        assert_int_equal(builder_disk_attach(fx.b, a, false, "loop-a.img", &stale, &err), -EIO);
        assert_int_equal(calls(HV_OP_LOOP_ATTACH), before + 1);
        assert_false(find_loop(2, NULL));
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_LOOP_RELEASE, 1, EBUSY, 1, &err), 0);
        assert_int_equal(builder_disk_release(fx.b, &hb, &err), -EBUSY);
        assert_true(find_loop(1, NULL));
        assert_int_equal(builder_disk_release(fx.b, &hb, &err), 0);
        assert_int_equal(builder_disk_release(fx.b, &hc, &err), 0);
        assert_false(find_loop(0, NULL));
        assert_false(find_loop(1, NULL));
        /* A block device is used as it is, when the test may open one. */
        {
                static const char *const candidates[] = { "/dev/loop0", "/dev/ram0", "/dev/sda",
                                                          "/dev/vda", "/dev/nvme0n1" };

                for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                        _cleanup_close_ int fd = open(candidates[i], O_RDONLY | O_CLOEXEC);
                        struct builder_disk_host h;

                        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode))
                                continue;
                        assert_int_equal(
                            builder_disk_attach(fx.b, fd, true, candidates[i], &h, &err), 0);
                        assert_false(h.loop);
                        assert_int_equal(h.major, major(st.st_rdev));
                        assert_int_equal(h.minor, minor(st.st_rdev));
                        assert_string_equal(h.device, candidates[i]);
                        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0);
                        break;
                }
        }
}

/* vif-bridge's online work on netback's interface, and its errors, nothing half-done. */
static void test_vif_plug(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct builder_domain bd;
        struct hv_netdev_info nd;
        char fe[128], be[128], ifname[16];
        struct builder_vif_host v = { .ifname = ifname, .bridge = "xenbr0" };
        uint64_t t0;
        unsigned mtu = 0;
        uint32_t domid = create_laid_out(&bd);

        (void)state;
        fe_dir(fe, sizeof(fe), "vif", domid, 0);
        be_dir(be, sizeof(be), "vif", domid, 0);
        snprintf(ifname, sizeof(ifname), "vif%u.0", domid);
        assert_false(find_netdev(ifname, NULL));
        add_device(domid, "vif", 0, NULL);
        /* Right after the toolstack's transaction: the plug waits for netback's interface. */
        v.mtu = 9000;
        assert_int_equal(builder_vif_plug(fx.b, &v, &mtu, &err), 0);
        assert_int_equal(mtu, 9000);
        assert_true(find_netdev(ifname, &nd));
        assert_string_equal(nd.master, "xenbr0");
        assert_int_equal(nd.flags, HV_NETDEV_UP);
        assert_int_equal(nd.mtu, 9000);
        assert_memory_equal(nd.mac, "\xfe\xff\xff\xff\xff\xff", 6);
        assert_int_equal(builder_vif_unplug(fx.b, ifname, &err), 0);
        assert_true(find_netdev(ifname, &nd));
        assert_string_equal(nd.master, "");
        assert_int_equal(nd.flags, 0);
        /* No such bridge; the rename taken (by the bridge itself); a bad MTU: nothing changes. */
        v.mtu = 0;
        v.bridge = "xenbr9";
        assert_int_equal(builder_vif_plug(fx.b, &v, &mtu, &err), -ENODEV);
        assert_non_null(strstr(err, "bridge xenbr9 does not exist"));
        v.bridge = "xenbr0";
        v.rename = "xenbr0";
        assert_int_equal(builder_vif_plug(fx.b, &v, &mtu, &err), -EEXIST);
        v.rename = "web0";
        v.mtu = 20;
        assert_int_equal(builder_vif_plug(fx.b, &v, &mtu, &err), -EINVAL);
        v.mtu = 0;
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_VIF_PLUG, 1, EPERM, 1, &err), 0);
        assert_int_equal(builder_vif_plug(fx.b, &v, &mtu, &err), -EPERM);
        assert_true(find_netdev(ifname, &nd));
        assert_string_equal(nd.master, "");
        assert_int_equal(nd.flags, 0);
        assert_false(find_netdev("web0", NULL));
        /* The rename, the bridge's MTU. */
        assert_int_equal(builder_vif_plug(fx.b, &v, &mtu, &err), 0);
        assert_int_equal(mtu, 1500);
        assert_false(find_netdev(ifname, NULL));
        assert_true(find_netdev("web0", &nd));
        assert_string_equal(nd.master, "xenbr0");
        /* An interface that never comes: -ENODEV after the short wait. */
        t0 = mono_ms();
        v.ifname = "vif7777.0";
        v.rename = NULL;
        assert_int_equal(builder_vif_plug(fx.b, &v, &mtu, &err), -ENODEV);
        assert_true(mono_ms() - t0 >= HV_VIF_WAIT_MS - 50);
        assert_non_null(strstr(err, "no such interface"));
        assert_int_equal(builder_vif_unplug(fx.b, "vif7777.0", &err), 0); /* gone: fine */
        assert_int_equal(builder_vif_unplug(fx.b, "a/b", &err), -EINVAL);
        /* The interface goes with netback's device, out of its bridge. */
        remove_device(be, false, fe);
        destroy_device(be, fe);
        assert_true(wait_netdev("web0", false, DEV_WAIT_MS));
        destroy(domid);
}

/* blkback and blkfront: 2 at probe, 4 once physical-device is there and the guest connected. */
static void test_vbd_handshake(void **state)
{
        _cleanup_free_ char *err = NULL, *ring = NULL, *sectors = NULL;
        _cleanup_free_ struct xs_permissions *perms = NULL;
        _cleanup_close_ int fd = make_image("vbd.img", 1024);
        struct builder_disk_host h;
        struct builder_domain bd;
        struct hv_loop_info li;
        char fe[128], be[128];
        unsigned n = 0;
        uint32_t domid = create_laid_out(&bd);

        (void)state;
        fe_dir(fe, sizeof(fe), "vbd", domid, 51712);
        be_dir(be, sizeof(be), "vbd", domid, 51712);
        add_device(domid, "vbd", 51712, NULL);
        /* blkback's probe: its features, InitWait; the guest is not running yet. */
        assert_true(wait_value(at(be, "state"), "2", DEV_WAIT_MS));
        assert_true(wait_value(at(be, "feature-max-indirect-segments"), "32", 0));
        assert_true(wait_value(at(be, "max-ring-page-order"), "4", 0));
        assert_int_equal(builder_disk_attach(fx.b, fd, false, "vbd.img", &h, &err), 0);
        write_physical(be, &h);
        assert_false(wait_value(at(be, "state"), "4", DEV_QUIET_MS));
        assert_true(wait_value(at(fe, "state"), "1", 0));
        /* The guest boots: blkfront writes its ring as the guest, then 3; blkback connects. */
        start(&bd);
        assert_true(wait_value(at(be, "state"), "4", DEV_WAIT_MS));
        assert_true(wait_value(at(fe, "state"), "4", DEV_WAIT_MS));
        assert_true(wait_value(at(fe, "protocol"), "x86_64-abi", 0));
        ring = get(at(fe, "ring-ref"));
        assert_non_null(ring);
        perms = xs_get_permissions(fx.xs, XBT_NULL, at(fe, "ring-ref"), &n);
        assert_non_null(perms);
        assert_int_equal(perms[0].id, domid); /* the guest's own node */
        sectors = get(at(be, "sectors"));
        assert_non_null(sectors);
        assert_string_equal(sectors, "2048");
        assert_true(wait_value(at(be, "sector-size"), "512", 0));
        assert_true(wait_value(at(be, "feature-discard"), "1", 0));
        assert_true(wait_value(at(be, "info"), "0", 0));
        assert_true(find_loop(h.minor, &li));
        assert_int_equal(li.flags, HV_LOOP_OPEN);
        /* Released while blkback holds it: it goes with blkback. */
        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0);
        assert_true(find_loop(h.minor, &li));
        assert_int_equal(li.flags, HV_LOOP_OPEN | HV_LOOP_AUTOCLEAR);
        /* Hot-unplug: online 0, Closing; blkfront closes, blkback says 6 and lets go. */
        remove_device(be, false, fe);
        assert_true(wait_value(at(fe, "state"), "6", DEV_WAIT_MS));
        assert_true(wait_value(at(be, "state"), "6", DEV_WAIT_MS));
        sleep_ms(20);
        assert_false(find_loop(h.minor, NULL));
        destroy_device(be, fe);
        destroy(domid);
}

/* Without dev, blkback never starts its rings: the handshake stops below 4. */
static void test_vbd_without_dev(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = make_image("nodev.img", 64);
        struct builder_disk_host h;
        struct builder_domain bd;
        char fe[128], be[128];
        uint32_t domid = create_laid_out(&bd);

        (void)state;
        fe_dir(fe, sizeof(fe), "vbd", domid, 51712);
        be_dir(be, sizeof(be), "vbd", domid, 51712);
        add_device(domid, "vbd", 51712, "dev");
        assert_true(wait_value(at(be, "state"), "2", DEV_WAIT_MS));
        assert_int_equal(builder_disk_attach(fx.b, fd, false, "nodev.img", &h, &err), 0);
        write_physical(be, &h);
        start(&bd);
        assert_true(wait_value(at(fe, "state"), "3", DEV_WAIT_MS));
        assert_false(wait_value(at(be, "state"), "4", DEV_QUIET_MS));
        /* Given dev late, it connects. */
        put(at(be, "dev"), "xvda");
        assert_true(wait_value(at(be, "state"), "4", DEV_WAIT_MS));
        assert_true(wait_value(at(fe, "state"), "4", DEV_WAIT_MS));
        destroy(domid);
        /* The guest's domain is gone: the toolstack's removal completes without it. */
        remove_device(be, false, fe);
        assert_true(wait_value(at(be, "state"), "6", DEV_WAIT_MS));
        destroy_device(be, fe);
        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0);
        assert_false(find_loop(h.minor, NULL));
}

/* Bad values close the device (xenbus_dev_fatal); nothing else is touched. */
static void test_vbd_bad_values(void **state)
{
        struct builder_domain bd;
        char fe[128], be[128], fe2[128], be2[128];
        uint32_t domid = create_laid_out(&bd);

        (void)state;
        fe_dir(fe, sizeof(fe), "vbd", domid, 51712);
        be_dir(be, sizeof(be), "vbd", domid, 51712);
        fe_dir(fe2, sizeof(fe2), "vbd", domid, 51728);
        be_dir(be2, sizeof(be2), "vbd", domid, 51728);
        add_device(domid, "vbd", 51712, NULL);
        add_device(domid, "vbd", 51728, NULL);
        assert_true(wait_value(at(be, "state"), "2", DEV_WAIT_MS));
        assert_true(wait_value(at(be2, "state"), "2", DEV_WAIT_MS));
        put(at(be, "physical-device"), "7:zz");
        assert_true(wait_value(at(be, "state"), "5", DEV_WAIT_MS));
        put(at(be2, "physical-device"), "7:fe"); /* no such loop device */
        assert_true(wait_value(at(be2, "state"), "5", DEV_WAIT_MS));
        /* A device directory without a state, or of an unknown type, is nobody's. */
        put("/local/domain/0/backend/vbd/99/1/frontend", "/nowhere");
        put("/local/domain/0/backend/qdisk/1/1/state", "1");
        put("/local/domain/0/backend/vbd/x/y/state", "1");
        sleep_ms(50);
        assert_true(find(0, NULL));
        destroy_device(be, fe);
        destroy_device(be2, fe2);
        assert_true(xs_rm(fx.xs, XBT_NULL, "/local/domain/0/backend/vbd/99"));
        assert_true(xs_rm(fx.xs, XBT_NULL, "/local/domain/0/backend/vbd/x"));
        assert_true(xs_rm(fx.xs, XBT_NULL, "/local/domain/0/backend/qdisk"));
        destroy(domid);
}

/* netback and netfront: the interface at probe, 2, and 4 only with hotplug-status connected. */
static void test_vif_handshake(void **state)
{
        _cleanup_free_ char *err = NULL, *rx = NULL;
        struct builder_domain bd;
        struct hv_netdev_info nd;
        char fe[128], be[128], ifname[16];
        struct builder_vif_host v = { .ifname = ifname, .bridge = "xenbr0" };
        uint32_t domid = create_laid_out(&bd);

        (void)state;
        fe_dir(fe, sizeof(fe), "vif", domid, 0);
        be_dir(be, sizeof(be), "vif", domid, 0);
        snprintf(ifname, sizeof(ifname), "vif%u.0", domid);
        add_device(domid, "vif", 0, NULL);
        assert_true(wait_value(at(be, "state"), "2", DEV_WAIT_MS));
        assert_true(wait_value(at(be, "feature-rx-copy"), "1", 0));
        assert_true(find_netdev(ifname, &nd));
        assert_int_equal(nd.flags, 0); /* down, in no bridge */
        assert_string_equal(nd.master, "");
        assert_memory_equal(nd.mac, "\xfe\xff\xff\xff\xff\xff", 6);
        assert_int_equal(nd.mtu, 1500);
        assert_int_equal(builder_vif_plug(fx.b, &v, NULL, &err), 0);
        /* netfront connects, straight to 4; netback waits for hotplug-status. */
        start(&bd);
        assert_true(wait_value(at(fe, "state"), "4", DEV_WAIT_MS));
        assert_true(wait_value(at(fe, "request-rx-copy"), "1", 0));
        rx = get(at(fe, "rx-ring-ref"));
        assert_non_null(rx);
        assert_false(wait_value(at(be, "state"), "4", DEV_QUIET_MS));
        put(at(be, "hotplug-status"), "connected");
        assert_true(wait_value(at(be, "state"), "4", DEV_WAIT_MS));
        /* Removal: both ends close, the interface goes, out of its bridge. */
        remove_device(be, false, fe);
        assert_true(wait_value(at(fe, "state"), "6", DEV_WAIT_MS));
        assert_true(wait_value(at(be, "state"), "6", DEV_WAIT_MS));
        assert_true(wait_netdev(ifname, false, DEV_WAIT_MS));
        assert_null(get(at(be, "hotplug-status"))); /* netback_remove takes it away */
        assert_int_equal(builder_vif_unplug(fx.b, ifname, &err), 0);
        destroy_device(be, fe);
        destroy(domid);
}

/* netback's probe fails without script or handle: no interface, no state change. */
static void test_vif_without_script(void **state)
{
        struct builder_domain bd;
        char fe[128], be[128], fe1[128], be1[128], ifname[16];
        uint32_t domid = create_laid_out(&bd);

        (void)state;
        fe_dir(fe, sizeof(fe), "vif", domid, 0);
        be_dir(be, sizeof(be), "vif", domid, 0);
        fe_dir(fe1, sizeof(fe1), "vif", domid, 1);
        be_dir(be1, sizeof(be1), "vif", domid, 1);
        add_device(domid, "vif", 0, "script");
        add_device(domid, "vif", 1, "handle");
        start(&bd);
        assert_false(wait_value(at(be, "state"), "2", DEV_QUIET_MS));
        assert_true(wait_value(at(be, "state"), "1", 0));
        assert_true(wait_value(at(be1, "state"), "1", 0));
        assert_true(wait_value(at(fe, "state"), "1", 0));
        snprintf(ifname, sizeof(ifname), "vif%u.0", domid);
        assert_false(find_netdev(ifname, NULL));
        /* Written late, script changes nothing: the device has no driver until it goes. */
        put(at(be, "script"), "/etc/xen/scripts/vif-bridge");
        assert_false(wait_value(at(be, "state"), "2", DEV_QUIET_MS));
        destroy_device(be, fe);
        destroy_device(be1, fe1);
        destroy(domid);
}

/* Each device fault, and the faults' own errors. */
static void test_device_faults(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct builder_disk_host h;
        struct builder_domain bd;
        char fe[128], be[128], vfe[128], vbe[128];
        uint32_t domid;

        (void)state;
        /* No blkback for the next domain's vbds: never InitWait; its vifs are fine. */
        assert_int_equal(
            builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_NO_INITWAIT, 0, HV_DEVICE_VBD, 0, &err),
            0);
        domid = create_laid_out(&bd);
        fe_dir(fe, sizeof(fe), "vbd", domid, 51712);
        be_dir(be, sizeof(be), "vbd", domid, 51712);
        fe_dir(vfe, sizeof(vfe), "vif", domid, 0);
        be_dir(vbe, sizeof(vbe), "vif", domid, 0);
        add_device(domid, "vbd", 51712, NULL);
        add_device(domid, "vif", 0, NULL);
        assert_true(wait_value(at(vbe, "state"), "2", DEV_WAIT_MS));
        assert_false(wait_value(at(be, "state"), "2", DEV_QUIET_MS));
        destroy_device(be, fe);
        destroy_device(vbe, vfe);
        destroy(domid);
        /* The fault was the next domain's only. */
        domid = create_laid_out(&bd);
        be_dir(be, sizeof(be), "vbd", domid, 51712);
        fe_dir(fe, sizeof(fe), "vbd", domid, 51712);
        add_device(domid, "vbd", 51712, NULL);
        assert_true(wait_value(at(be, "state"), "2", DEV_WAIT_MS));
        /* A frontend that never connects. */
        assert_int_equal(builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_NO_CONNECT, domid,
                                                  HV_DEVICE_ANY, 0, &err),
                         0);
        {
                _cleanup_close_ int fd = make_image("fault.img", 64);

                assert_int_equal(builder_disk_attach(fx.b, fd, false, "fault.img", &h, &err), 0);
        }
        write_physical(be, &h);
        start(&bd);
        assert_false(wait_value(at(fe, "state"), "3", DEV_QUIET_MS));
        assert_true(wait_value(at(be, "state"), "2", 0));
        /* Cleared, the guest catches up. */
        assert_int_equal(
            builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_CLEAR, domid, HV_DEVICE_ANY, 0, &err),
            0);
        assert_true(wait_value(at(be, "state"), "4", DEV_WAIT_MS));
        assert_true(wait_value(at(fe, "state"), "4", DEV_WAIT_MS));
        /* A frontend that never closes: blkback stays at 5; forced removal completes. */
        assert_int_equal(
            builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_NO_CLOSE, domid, HV_DEVICE_VBD, 0, &err),
            0);
        remove_device(be, false, fe);
        assert_true(wait_value(at(be, "state"), "5", DEV_WAIT_MS));
        assert_false(wait_value(at(fe, "state"), "6", DEV_QUIET_MS));
        assert_true(wait_value(at(be, "state"), "5", 0));
        remove_device(be, true, fe);
        assert_true(wait_value(at(be, "state"), "6", DEV_WAIT_MS));
        {
                struct hv_loop_info li;

                sleep_ms(20);
                assert_true(find_loop(h.minor, &li));
                assert_int_equal(li.flags, 0); /* blkback let go of it */
        }
        destroy_device(be, fe);
        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0);
        assert_false(find_loop(h.minor, NULL));
        /* The faults' own errors. */
        assert_int_equal(builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_DETACH, domid,
                                                  HV_DEVICE_ANY, 51712, &err),
                         -EINVAL);
        assert_int_equal(builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_DETACH, domid,
                                                  HV_DEVICE_VBD, 51712, &err),
                         -ENODEV);
        assert_int_equal(
            builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_DETACH, 0, HV_DEVICE_VBD, 51712, &err),
            -EINVAL);
        assert_int_equal(builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_NO_CLOSE, 0x7fee,
                                                  HV_DEVICE_ANY, 0, &err),
                         -ESRCH);
        assert_int_equal(builder_sim_device_fault(fx.b, 99, 0, HV_DEVICE_ANY, 0, &err), -EINVAL);
        assert_int_equal(builder_sim_fault(fx.b, HV_OP_DEVICE_FAULT, 1, EIO, 1, &err), -EINVAL);
        destroy(domid);
}

/* The guest detaches a disk on its own: 5, then 6; the backend follows and stays registered. */
static void test_guest_detach(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct builder_disk_host h;
        struct builder_domain bd;
        struct hv_loop_info li;
        char fe[128], be[128];
        uint32_t domid = boot_with_disk(&bd, "detach.img", fe, be, &h);

        (void)state;
        assert_int_equal(builder_sim_device_fault(fx.b, HV_DEVICE_FAULT_DETACH, domid,
                                                  HV_DEVICE_VBD, 51712, &err),
                         0);
        assert_true(wait_value(at(fe, "state"), "6", DEV_WAIT_MS));
        assert_true(wait_value(at(be, "state"), "6", DEV_WAIT_MS));
        /* online is still 1: blkback keeps the device (and its loop device) for a reconnect. */
        assert_true(wait_value(at(be, "online"), "1", 0));
        assert_true(find_loop(h.minor, &li));
        assert_true(li.flags & HV_LOOP_OPEN);
        /* The toolstack's clean-up: Closed already, so only online 0, then the directories. */
        remove_device(be, false, fe);
        destroy_device(be, fe);
        sleep_ms(50);
        assert_true(find_loop(h.minor, &li));
        assert_int_equal(li.flags, 0);
        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0);
        assert_false(find_loop(h.minor, NULL));
        destroy(domid);
}

/*
 * Removal from under the drivers and bad values from the guest: nothing crashes, nothing
 * removed comes back, and another guest's devices carry on.
 */
static void test_device_races(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct builder_disk_host h, h2;
        struct builder_domain bd, bd2;
        struct hv_loop_info li;
        char fe[128], be[128], fe2[128], be2[128], vfe[128], vbe[128], home[64];
        uint32_t domid = boot_with_disk(&bd, "race-a.img", fe, be, &h);
        uint32_t other = boot_with_disk(&bd2, "race-b.img", fe2, be2, &h2);

        (void)state;
        /* The backend directory alone goes: blkback lets go, and writes nothing there again. */
        assert_true(xs_rm(fx.xs, XBT_NULL, be));
        sleep_ms(50);
        assert_null(get(be));
        assert_true(find_loop(h.minor, &li));
        assert_int_equal(li.flags, 0);
        assert_true(wait_value(at(fe, "state"), "4", 0)); /* the guest's, left to the guest */
        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0);
        /* A vif whose frontend says nonsense: netback closes it (the guest, paused, cannot). */
        fe_dir(vfe, sizeof(vfe), "vif", domid, 0);
        be_dir(vbe, sizeof(vbe), "vif", domid, 0);
        add_device(domid, "vif", 0, NULL);
        assert_true(wait_value(at(vfe, "state"), "4", DEV_WAIT_MS));
        assert_int_equal(builder_pause(fx.b, domid, &err), 0);
        put(at(vfe, "state"), "42");
        assert_true(wait_value(at(vbe, "state"), "5", DEV_WAIT_MS));
        assert_false(wait_value(at(vfe, "state"), "6", DEV_QUIET_MS));
        /* Running again, the guest catches up: Closed, and netback follows. */
        assert_int_equal(builder_unpause(fx.b, domid, &err), 0);
        assert_true(wait_value(at(vfe, "state"), "6", DEV_WAIT_MS));
        assert_true(wait_value(at(vbe, "state"), "6", DEV_WAIT_MS));
        put(at(vfe, "state"), "99999999999999999999");
        put(at(vfe, "backend"), "/local/domain/0/name");
        /* The guest's whole home goes, devices and all; the toolstack's removal completes. */
        snprintf(home, sizeof(home), "/local/domain/%u", domid);
        assert_true(xs_rm(fx.xs, XBT_NULL, home));
        remove_device(vbe, false, vfe);
        assert_true(wait_value(at(vbe, "state"), "6", DEV_WAIT_MS));
        sleep_ms(50);
        assert_null(get(home));
        destroy_device(vbe, vfe);
        /* The other guest never noticed. */
        assert_true(wait_value(at(be2, "state"), "4", 0));
        assert_true(wait_value(at(fe2, "state"), "4", 0));
        assert_true(find_loop(h2.minor, &li));
        assert_int_equal(li.flags, HV_LOOP_OPEN);
        /* A hostile guest in the middle of it changes nothing for its devices' backends. */
        assert_int_equal(builder_sim_guest_action(fx.b, other, HV_GUEST_HOSTILE, &err), 0);
        remove_device(be2, false, fe2);
        assert_true(wait_value(at(be2, "state"), "6", DEV_WAIT_MS));
        destroy_device(be2, fe2);
        assert_int_equal(builder_disk_release(fx.b, &h2, &err), 0);
        sleep_ms(20);
        assert_false(find_loop(h2.minor, NULL));
        destroy(domid);
        destroy(other);
        assert_true(find(0, NULL));
}

/* A host stopped with every kind of device alive frees them all (valgrind watches the sim). */
static void test_teardown_with_devices(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ char *err = NULL;
        struct builder *saved_b = fx.b, *b = NULL;
        struct xs_handle *saved_xs = fx.xs, *xs;
        struct builder_disk_host h;
        struct builder_domain bd;
        char dir[] = "/tmp/test-sim-down.XXXXXX", xs_path[128], fe[128], be[128], ifname[16];
        struct builder_vif_host v = { .ifname = ifname, .bridge = "xenbr0" };
        uint32_t domid;
        pid_t pid;

        (void)state;
        assert_non_null(mkdtemp(dir));
        pid = start_sim(dir);
        o.sim_dir = dir;
        assert_int_equal(builder_open(&o, &b, &err), 0);
        snprintf(xs_path, sizeof(xs_path), "%s/xenstored.socket", dir);
        setenv("XENSTORED_PATH", xs_path, 1);
        xs = xs_open(XS_OPEN_SOCKETONLY);
        assert_non_null(xs);
        /* The helpers act on the fixture's host: point them at this one for a while. */
        fx.b = b;
        fx.xs = xs;
        domid = boot_with_disk(&bd, "down.img", fe, be, &h);
        add_device(domid, "vif", 0, NULL);
        snprintf(ifname, sizeof(ifname), "vif%u.0", domid);
        assert_int_equal(builder_vif_plug(fx.b, &v, NULL, &err), 0);
        add_device(domid, "vif", 1, "script");
        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0); /* autoclear, still open */
        fx.b = saved_b;
        fx.xs = saved_xs;
        xs_close(xs);
        builder_close(b);
        stop_sim(pid);
        rm_rf(dir);
        snprintf(xs_path, sizeof(xs_path), "%s/xenstored.socket", fx.dir);
        setenv("XENSTORED_PATH", xs_path, 1);
}

/* sim-tool prints the host's devices one per line; --bridge replaces the default bridge. */
static void test_sim_tool_devices(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = make_image("tool.img", 64);
        const char *build = getenv("XENSUP_BUILD");
        struct builder_disk_host h;
        char cmd[512], line[256];
        char dir[] = "/tmp/test-sim-br.XXXXXX";
        FILE *p;
        pid_t pid;

        (void)state;
        assert_int_equal(builder_disk_attach(fx.b, fd, true, "tool.img", &h, &err), 0);
        snprintf(cmd, sizeof(cmd), "%s/tests/sim-tool --sim-dir %s loops", build ? build : "build",
                 fx.dir);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(line, sizeof(line), p));
        {
                char want[128];

                snprintf(want, sizeof(want), "%u %llu %llu ro\n", h.minor,
                         (unsigned long long)h.backing_dev, (unsigned long long)h.backing_ino);
                assert_string_equal(line, want);
        }
        assert_int_equal(pclose(p), 0);
        assert_int_equal(builder_disk_release(fx.b, &h, &err), 0);
        snprintf(cmd, sizeof(cmd), "%s/tests/sim-tool --sim-dir %s bridges",
                 build ? build : "build", fx.dir);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(line, sizeof(line), p));
        assert_string_equal(line, "xenbr0 1500\n");
        assert_null(fgets(line, sizeof(line), p));
        assert_int_equal(pclose(p), 0);

        assert_non_null(mkdtemp(dir));
        pid = start_sim_with(dir, "--bridge=br-test");
        snprintf(cmd, sizeof(cmd), "%s/tests/sim-tool --sim-dir %s bridges",
                 build ? build : "build", dir);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(line, sizeof(line), p));
        assert_string_equal(line, "br-test 1500\n");
        assert_null(fgets(line, sizeof(line), p));
        assert_int_equal(pclose(p), 0);
        snprintf(cmd, sizeof(cmd), "%s/tests/sim-tool --sim-dir %s fault-device nonsense",
                 build ? build : "build", dir);
        assert_int_equal(WEXITSTATUS(system(cmd)), 2);
        snprintf(cmd, sizeof(cmd),
                 "%s/tests/sim-tool --sim-dir %s fault-device frontend-no-close 0 vif",
                 build ? build : "build", dir);
        assert_int_equal(WEXITSTATUS(system(cmd)), 0);
        stop_sim(pid);
        rm_rf(dir);
}

/* ---- the client's checks, against a fake hypervisor that breaks the protocol ---- */

/* The nth LIST reply the fake sends; every one but the last is malformed. */
static void fake_list_reply(int fd, const struct hv_header *req, unsigned nth)
{
        struct {
                struct hv_header h;
                struct hv_rep_list l;
                struct hv_dominfo d[2];
        } m;
        size_t len = sizeof(m.h) + sizeof(m.l) + sizeof(m.d[0]);

        memset(&m, 0, sizeof(m));
        m.h = *req;
        m.h.len = sizeof(m.l) + sizeof(m.d[0]);
        m.l.n = 1;
        m.d[0].max_vcpu_id = 0;
        m.d[0].online_vcpus = 1;
        switch (nth) {
        case 0:
                m.h.seq++; /* not the request's */
                break;
        case 1:
                m.h.op = HV_OP_STATS;
                break;
        case 2: /* two entries, not in increasing order */
                m.l.n = 2;
                m.h.len += sizeof(m.d[1]);
                len += sizeof(m.d[1]);
                m.d[0].domid = 5;
                m.d[1] = m.d[0];
                m.d[1].domid = 3;
                break;
        case 3:
                m.l.n = 2; /* but one entry follows */
                break;
        case 4:
                m.h.result = 1;
                break;
        case 5:
                m.d[0].flags = HV_DOMINF_SHUTDOWN;
                m.d[0].shutdown_reason = 99;
                break;
        case 6:
                m.d[0].online_vcpus = 500;
                break;
        case 7:
                m.h.magic = 0;
                break;
        default:
                break; /* dom0, well formed */
        }
        (void)!send(fd, &m, len, MSG_NOSIGNAL);
}

/*
 * Serve until killed: STATS well formed, LIST as fake_list_reply, CREATE with domid 0,
 * PHYSINFO with no cpu, VCPU_INFO with an empty hard map (each of the right size).
 */
static _Noreturn void fake_hypervisor(int lfd)
{
        unsigned lists = 0;

        for (;;) {
                int fd = accept(lfd, NULL, NULL);
                uint8_t buf[HV_MSG_MAX];
                ssize_t n;

                if (fd < 0)
                        continue;
                while ((n = recv(fd, buf, sizeof(buf), 0)) >= (ssize_t)sizeof(struct hv_header)) {
                        struct hv_header h;

                        memcpy(&h, buf, sizeof(h));
                        if (h.op == HV_OP_LIST) {
                                fake_list_reply(fd, &h, lists++);
                        } else {
                                struct {
                                        struct hv_header h;
                                        union {
                                                struct hv_rep_stats st;
                                                struct hv_rep_create c;
                                                struct hv_rep_physinfo pi;
                                                struct hv_rep_vcpu_info vi;
                                        } u;
                                } m;

                                memset(&m, 0, sizeof(m));
                                m.h = h;
                                m.h.len = (uint32_t)hv_rep_size(h.op);
                                (void)!send(fd, &m, sizeof(m.h) + m.h.len, MSG_NOSIGNAL);
                        }
                }
                close(fd);
        }
}

static int listen_at(const char *dir, const char *name, int type)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 8), 0);
        return fd;
}

static void test_client_checks_replies(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ struct builder_vcpu_info *vcpus = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int xfd = -1, hfd = -1;
        struct builder_host_info hi;
        char dir[] = "/tmp/test-sim-fake.XXXXXX";
        struct domain_config c = make_config(16);
        struct builder_domain bd;
        struct builder *b = NULL;
        size_t n = 0;
        pid_t pid;

        (void)state;
        assert_non_null(mkdtemp(dir));
        xfd = listen_at(dir, "xenstored.socket", SOCK_STREAM);
        hfd = listen_at(dir, HV_SOCKET_NAME, SOCK_SEQPACKET);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                fake_hypervisor(hfd);
        o.sim_dir = dir;
        setenv("XENSTORED_PATH", "/elsewhere", 1);
        assert_int_equal(builder_open(&o, &b, &err), 0);
        /* The backend pointed libxenstore at dir for its own xs_open only. */
        assert_string_equal(getenv("XENSTORED_PATH"), "/elsewhere");
        unsetenv("XENSTORED_PATH");
        /* Each malformed reply is refused, and the next call starts on a new connection. */
        for (unsigned i = 0; i < 8; i++) {
                assert_int_equal(builder_list(b, &infos, &n, &err), -EBADMSG);
                assert_null(infos);
        }
        assert_int_equal(builder_list(b, &infos, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(infos[0].domid, 0);
        /* domid 0 is never a new domain. */
        assert_int_equal(builder_create(b, &c, NULL, &bd, &err), -EBADMSG);
        /* A host without cpus, a vcpu that may run nowhere. */
        assert_int_equal(builder_host_info(b, &hi, &err), -EBADMSG);
        assert_string_equal(err, "xensup-sim: malformed reply to physinfo");
        assert_int_equal(builder_vcpu_list(b, 1, &vcpus, &n, &err), -EBADMSG);
        assert_string_equal(err, "xensup-sim: malformed reply to vcpu_info");
        assert_null(vcpus);
        builder_close(b);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest model[] = {
                cmocka_unit_test(test_model_domid_wrap),
                cmocka_unit_test(test_model_pause_count),
                cmocka_unit_test(test_model_cpus),
                cmocka_unit_test(test_client_checks_replies),
        };
        const struct CMUnitTest sim[] = {
                cmocka_unit_test(test_dom0),
                cmocka_unit_test(test_domid_order),
                cmocka_unit_test(test_memory),
                cmocka_unit_test(test_invalid_create),
                cmocka_unit_test(test_pause_vcpus_cputime),
                cmocka_unit_test(test_guest_vcpus),
                cmocka_unit_test(test_script_exits),
                cmocka_unit_test(test_injected_actions),
                cmocka_unit_test(test_obey_control_shutdown),
                cmocka_unit_test(test_ignore_control_shutdown),
                cmocka_unit_test(test_release_domain),
                cmocka_unit_test(test_fault_injection),
                cmocka_unit_test(test_set_handle),
                cmocka_unit_test(test_list_batches),
                cmocka_unit_test(test_dumpcore),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_zombie),
                cmocka_unit_test(test_memory_option),
                cmocka_unit_test(test_host_info),
                cmocka_unit_test(test_vcpu_list),
                cmocka_unit_test(test_vcpu_pin),
                cmocka_unit_test(test_set_max_memory),
                cmocka_unit_test(test_cpu_faults),
                cmocka_unit_test(test_cpus_option),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_client_death),
                cmocka_unit_test(test_autospawn),
                cmocka_unit_test(test_loop_devices),
                cmocka_unit_test(test_vif_plug),
                cmocka_unit_test(test_vbd_handshake),
                cmocka_unit_test(test_vbd_without_dev),
                cmocka_unit_test(test_vbd_bad_values),
                cmocka_unit_test(test_vif_handshake),
                cmocka_unit_test(test_vif_without_script),
                cmocka_unit_test(test_device_faults),
                cmocka_unit_test(test_guest_detach),
                cmocka_unit_test(test_device_races),
                cmocka_unit_test(test_teardown_with_devices),
                cmocka_unit_test(test_sim_tool_devices),
        };
        int r;

        signal(SIGPIPE, SIG_IGN);
        r = cmocka_run_group_tests_name("sim-hypervisor-model", model, NULL, NULL);
        r += cmocka_run_group_tests_name("sim-hypervisor", sim, group_setup, group_teardown);
        return r ? 1 : 0;
}
