/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Save, restore and resume on the simulator: build/xensup-sim as a child,
 * driven through the sim backend (builder_save, builder_restore,
 * builder_resume) and the real libxenstore, the test acting as the toolstack
 * (its suspend callback writes control/shutdown as the supervisor's does).
 * A round trip goes on where it was (new domid, same uuid, the script's clock,
 * memory, vcpus, faults), a restored guest reconnects its frontends and
 * watches again without rewriting its feature nodes, a resume keeps devices
 * connected and needs XS_RESUME, refusals touch nothing, a save failing
 * midway leaves the guest resumable, and a bad stream creates nothing.
 *
 * SIGPIPE is left at its default here: a save into a pipe whose reader went
 * must fail with EPIPE, not kill its caller.
 */
#include <endian.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <xenstore.h>

#include "builders/builder-sim.h"
#include "common/error.h"
#include "common/uuid.h"
#include "sim/hv-proto.h"

#define WAIT_MS  2000 /* something that must happen */
#define QUIET_MS 300  /* how long something that must not happen is given */
#define VBD      51712u

/* The stream's PAGE_DATA record of a 16 MiB guest: header, count, 16 pfns and pages. */
#define PAGE_RECORD_16 (8 + 8 + 16 * (8 + 4096))

/* ---- helpers ---- */

static uint64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

static bool answers(const char *dir, const char *name, int type)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
        return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static struct fixture {
        char dir[64];
        pid_t pid;
        struct builder *b;
        struct xs_handle *xs; /* dom0: the toolstack's writes, and reading back */
        unsigned serial;
} fx;

static int group_setup(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        _cleanup_free_ char *err = NULL;
        const char *build = getenv("XENSUP_BUILD");
        char sim[256], xs_path[128];
        uint64_t deadline;

        (void)state;
        strcpy(fx.dir, "/tmp/test-sim-save.XXXXXX");
        assert_non_null(mkdtemp(fx.dir));
        snprintf(sim, sizeof(sim), "%s/xensup-sim", build ? build : "build");
        fx.pid = fork();
        assert_true(fx.pid >= 0);
        if (fx.pid == 0) {
                /* A test that dies (SIGPIPE, if a save ever lets one through) takes it along. */
                (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
                execl(sim, "xensup-sim", "--dir", fx.dir, NULL);
                _exit(127);
        }
        deadline = mono_ms() + 5000;
        while (!answers(fx.dir, HV_SOCKET_NAME, SOCK_SEQPACKET) ||
               !answers(fx.dir, "xenstored.socket", SOCK_STREAM)) {
                assert_true(mono_ms() < deadline);
                sleep_ms(10);
        }
        o.sim_dir = fx.dir;
        assert_int_equal(builder_open(&o, &fx.b, &err), 0);
        snprintf(xs_path, sizeof(xs_path), "%s/xenstored.socket", fx.dir);
        setenv("XENSTORED_PATH", xs_path, 1);
        fx.xs = xs_open(XS_OPEN_SOCKETONLY);
        assert_non_null(fx.xs);
        return 0;
}

static int group_teardown(void **state)
{
        int status;

        (void)state;
        xs_close(fx.xs);
        builder_close(fx.b);
        kill(fx.pid, SIGTERM);
        assert_int_equal(waitpid(fx.pid, &status, 0), fx.pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(nftw(fx.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
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

        snprintf(c.name, sizeof(c.name), "saved%u", ++fx.serial);
        uuid_from_name(c.name, c.uuid);
        return c;
}

static struct domain_config make_script(unsigned run_seconds, enum shutdown_reason exit,
                                        enum sim_shutdown_answer answer)
{
        struct domain_config c = make_config(64);

        c.sim = (struct sim_script){
                .present = true, .run_seconds = run_seconds, .exit = exit, .on_shutdown = answer
        };
        return c;
}

static void destroy(uint32_t domid)
{
        _cleanup_free_ char *err = NULL;

        assert_int_equal(builder_destroy(fx.b, domid, &err), 0);
}

/* The domain's row; false when it is not listed. */
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

/* How many domains the hypervisor lists, dom0 included. */
static size_t n_domains(void)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        assert_int_equal(builder_list(fx.b, &infos, &n, &err), 0);
        return n;
}

static bool is_suspended(uint32_t domid)
{
        struct builder_domain_info info;

        return find(domid, &info) && info.shutdown && info.reason == SHUTDOWN_REASON_SUSPEND;
}

/* The shutdown reason once the flag is set within timeout_ms; NONE if it never was. */
static enum shutdown_reason wait_shutdown(uint32_t domid, unsigned timeout_ms)
{
        uint64_t deadline = mono_ms() + timeout_ms;
        struct builder_domain_info info;

        do {
                assert_true(find(domid, &info));
                if (info.shutdown)
                        return info.reason;
                sleep_ms(10);
        } while (mono_ms() < deadline);
        return SHUTDOWN_REASON_NONE;
}

static uint64_t calls(enum hv_op op)
{
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        return st.calls[op];
}

static const char *at(const char *dir, const char *name)
{
        static char bufs[4][256];
        static unsigned next;
        char *b = bufs[next++ % ELEMENTSOF(bufs)];

        snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
        return b;
}

static const char *home(uint32_t domid, const char *rel)
{
        static char bufs[4][128];
        static unsigned next;
        char *b = bufs[next++ % ELEMENTSOF(bufs)];

        snprintf(b, sizeof(bufs[0]), "/local/domain/%u%s%s", domid, *rel ? "/" : "", rel);
        return b;
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

static void mknod_owned(const char *path, uint32_t owner, uint32_t reader)
{
        struct xs_permissions p[2] = { { .id = owner, .perms = XS_PERM_NONE },
                                       { .id = reader, .perms = XS_PERM_READ } };

        assert_true(xs_write(fx.xs, XBT_NULL, path, "", 0));
        assert_true(xs_set_permissions(fx.xs, XBT_NULL, path, p, reader ? 2 : 1));
}

/* The guest's part of what libxl__domain_make writes: its control nodes, empty. */
static void write_layout(uint32_t domid)
{
        static const char *const rw[] = { "control/shutdown", "control/feature-poweroff",
                                          "control/feature-reboot", "control/feature-suspend",
                                          "data" };

        mknod_owned(home(domid, ""), 0, domid);
        mknod_owned(home(domid, "control"), 0, domid);
        for (size_t i = 0; i < ELEMENTSOF(rw); i++)
                mknod_owned(home(domid, rw[i]), domid, 0);
}

/* Lay out, introduce and unpause a created or restored domain. */
static void start(const struct builder_domain *bd)
{
        _cleanup_free_ char *err = NULL;

        write_layout(bd->domid);
        assert_int_equal(builder_introduce(fx.b, bd, &err), 0);
        assert_int_equal(builder_unpause(fx.b, bd->domid, &err), 0);
}

/* A booted guest: created, started, its feature nodes written. */
static uint32_t boot(const struct domain_config *c)
{
        _cleanup_free_ char *err = NULL;
        struct builder_domain bd;

        assert_int_equal(builder_create(fx.b, c, NULL, &bd, &err), 0);
        start(&bd);
        assert_true(wait_value(home(bd.domid, "control/feature-suspend"), "1", WAIT_MS));
        return bd.domid;
}

/* A disk image in the fixture's directory, open read-write. */
static int make_image(const char *name)
{
        char path[128];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", fx.dir, name);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 1024 * 1024), 0);
        return fd;
}

static void fe_dir(char *buf, uint32_t domid)
{
        snprintf(buf, 128, "/local/domain/%u/device/vbd/%u", domid, VBD);
}

static void be_dir(char *buf, uint32_t domid)
{
        snprintf(buf, 128, "/local/domain/0/backend/vbd/%u/%u", domid, VBD);
}

/* libxl's device_disk_add for xvda, fresh: both directories at state 1, in one transaction. */
static void add_disk(uint32_t domid)
{
        char fe[128], be[128], dom[16];
        const char *const be_nodes[][2] = {
                { "dev", "xvda" }, { "mode", "w" },  { "params", "/img" }, { "type", "phy" },
                { "online", "1" }, { "state", "1" }, { "frontend", fe },   { "frontend-id", dom },
        };

        fe_dir(fe, domid);
        be_dir(be, domid);
        snprintf(dom, sizeof(dom), "%u", domid);
        for (;;) {
                xs_transaction_t t = xs_transaction_start(fx.xs);
                struct xs_permissions fp[2] = { { .id = domid, .perms = XS_PERM_NONE },
                                                { .id = 0, .perms = XS_PERM_READ } };
                struct xs_permissions bp[2] = { { .id = 0, .perms = XS_PERM_NONE },
                                                { .id = domid, .perms = XS_PERM_READ } };

                assert_true(t != XBT_NULL);
                assert_true(xs_write(fx.xs, t, fe, "", 0));
                assert_true(xs_set_permissions(fx.xs, t, fe, fp, 2));
                assert_true(xs_write(fx.xs, t, at(fe, "backend"), be, strlen(be)));
                assert_true(xs_write(fx.xs, t, at(fe, "backend-id"), "0", 1));
                assert_true(xs_write(fx.xs, t, at(fe, "virtual-device"), "51712", 5));
                assert_true(xs_write(fx.xs, t, at(fe, "state"), "1", 1));
                assert_true(xs_write(fx.xs, t, be, "", 0));
                assert_true(xs_set_permissions(fx.xs, t, be, bp, 2));
                for (size_t i = 0; i < ELEMENTSOF(be_nodes); i++)
                        assert_true(xs_write(fx.xs, t, at(be, be_nodes[i][0]), be_nodes[i][1],
                                             strlen(be_nodes[i][1])));
                if (xs_transaction_end(fx.xs, t, false))
                        return;
                assert_int_equal(errno, EAGAIN);
        }
}

/* What the block script writes once the loop device is there. */
static void attach_disk(uint32_t domid, int image_fd, struct builder_disk_host *h)
{
        _cleanup_free_ char *err = NULL;
        char be[128], pdev[32];

        be_dir(be, domid);
        assert_true(wait_value(at(be, "state"), "2", WAIT_MS));
        assert_int_equal(builder_disk_attach(fx.b, image_fd, false, "save.img", h, &err), 0);
        snprintf(pdev, sizeof(pdev), "%x:%x", h->major, h->minor);
        put(at(be, "physical-device"), pdev);
        put(at(be, "node"), h->device);
        put(at(be, "hotplug-status"), "connected");
}

/* libxl__device_destroy, and the loop device released. */
static void remove_disk(uint32_t domid, const struct builder_disk_host *h)
{
        _cleanup_free_ char *err = NULL;
        char fe[128], be[128];

        fe_dir(fe, domid);
        be_dir(be, domid);
        assert_true(xs_rm(fx.xs, XBT_NULL, fe));
        assert_true(xs_rm(fx.xs, XBT_NULL, be));
        assert_int_equal(builder_disk_release(fx.b, h, &err), 0);
}

/* ---- the toolstack's suspend, as the supervisor's save job does it ---- */

struct suspender {
        uint32_t domid;
        unsigned ack_ms, suspend_ms;
        unsigned calls;
        bool acked;      /* the guest cleared control/shutdown */
        bool do_nothing; /* a suspend that asks nothing and says it worked */
};

static int suspend_guest(void *data, char **err_r)
{
        struct suspender *s = data;
        uint64_t deadline;

        s->calls++;
        if (s->do_nothing)
                return 0;
        put(home(s->domid, "control/shutdown"), "suspend");
        deadline = mono_ms() + s->ack_ms;
        while (!(s->acked = wait_value(home(s->domid, "control/shutdown"), "", 0))) {
                if (mono_ms() >= deadline) {
                        put(home(s->domid, "control/shutdown"), ""); /* libxl cancels it */
                        return err_setf(err_r, -ETIMEDOUT, "the guest did not acknowledge");
                }
                sleep_ms(10);
        }
        deadline = mono_ms() + s->suspend_ms;
        while (!is_suspended(s->domid)) {
                if (mono_ms() >= deadline)
                        return err_setf(err_r, -ETIMEDOUT,
                                        "the guest acknowledged but did not suspend");
                sleep_ms(10);
        }
        return 0;
}

/* A file in the fixture's directory for a stream, opened read-write. */
static int stream_file(void)
{
        char path[128];
        int fd;

        snprintf(path, sizeof(path), "%s/stream.XXXXXX", fx.dir);
        fd = mkostemp(path, O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(unlink(path), 0);
        return fd;
}

/* Suspend and save the guest into a new file; the file, rewound. */
static int save(uint32_t domid)
{
        struct suspender s = { .domid = domid, .ack_ms = WAIT_MS, .suspend_ms = WAIT_MS };
        _cleanup_free_ char *err = NULL;
        int fd = stream_file();

        assert_int_equal(builder_save(fx.b, domid, fd, false, suspend_guest, &s, &err), 0);
        assert_null(err);
        assert_int_equal(s.calls, 1);
        assert_true(is_suspended(domid));
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* A whole file's bytes. */
static uint8_t *slurp(int fd, size_t *len_r)
{
        struct stat st;
        uint8_t *buf;

        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t)st.st_size);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
        *len_r = (size_t)st.st_size;
        return buf;
}

/* A memfd holding len bytes of buf, rewound. */
static int memfd_with(const void *buf, size_t len)
{
        int fd = memfd_create("stream", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, len), (ssize_t)len);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* ---- the tests ---- */

/*
 * A round trip: a new domid with the same uuid, paused, holding what the guest had (its
 * ballooned memory, its vcpus), and its script's clock going on from where it stopped: not
 * again from zero, and not counting the time it spent suspended.
 */
static void test_round_trip(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ uint8_t *bytes = NULL;
        struct domain_config c = make_script(3, SHUTDOWN_REASON_CRASH, SIM_SHUTDOWN_OBEY);
        struct builder_domain bd, rd;
        struct builder_domain_info info;
        uint64_t booted, suspended, unpaused, ran, left, took;
        size_t len, before;
        uint32_t domid;
        _cleanup_close_ int fd = -1;

        (void)state;
        c.vcpus = 2;
        c.maxvcpus = 3;
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), 0);
        domid = bd.domid;
        booted = mono_ms();
        start(&bd);
        assert_true(wait_value(home(domid, "control/feature-suspend"), "1", WAIT_MS));
        put(home(domid, "memory/target"), "49152"); /* it balloons down to 48 MiB */
        sleep_ms(1000);
        fd = save(domid);
        suspended = mono_ms();

        /* The stream: libxc's marker, the simulator's id, one page per MiB after the state. */
        bytes = slurp(fd, &len);
        assert_true(len > 48 * 4096);
        assert_memory_equal(bytes, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
        {
                uint32_t id;

                memcpy(&id, bytes + 8, 4);
                assert_int_equal(be32toh(id), BUILDER_SIM_STREAM_ID);
        }
        destroy(domid); /* a save's last step */
        sleep_ms(800);  /* suspended: the guest's clock stands still */

        before = n_domains();
        assert_int_equal(builder_restore(fx.b, &c, fd, &rd, &err), 0);
        assert_null(err);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)len); /* just after END */
        assert_int_equal(n_domains(), before + 1);
        assert_int_not_equal(rd.domid, domid);
        assert_true(find(rd.domid, &info));
        assert_memory_equal(info.handle, c.uuid, 16);
        assert_true(info.paused);
        assert_false(info.shutdown);
        assert_int_equal(info.mem_kib, 48 * 1024);
        assert_int_equal(info.online_vcpus, 2);
        assert_int_equal(info.max_vcpu_id, 2);
        assert_int_equal(info.cpu_time_ns, 0); /* a new domain's, as on Xen */

        unpaused = mono_ms();
        start(&rd);
        /* It had run (booted .. suspended], so what is left is 3 s minus that. */
        ran = suspended - booted;
        left = ran < 3000 ? 3000 - ran : 0;
        assert_int_equal(wait_shutdown(rd.domid, 3000 + 1000), SHUTDOWN_REASON_CRASH);
        took = mono_ms() - unpaused;
        print_message("ran %llu ms before the save, %llu ms after (expected about %llu)\n",
                      (unsigned long long)ran, (unsigned long long)took, (unsigned long long)left);
        assert_true(took + 300 >= left);
        assert_true(took <= left + 500);
        destroy(rd.domid);
}

/*
 * A restored guest is a Linux resuming from a save: its frontend talks to the backend the
 * toolstack made for the new domid, it watches control/shutdown again, and it leaves the
 * feature nodes as the toolstack wrote them (empty here).
 */
static void test_restore_reconnects(void **state)
{
        _cleanup_free_ char *err = NULL, *feature = NULL;
        _cleanup_close_ int image = make_image("save.img");
        _cleanup_close_ int fd = -1;
        struct domain_config c = make_config(16);
        struct builder_disk_host h, h2;
        struct builder_domain bd, rd;
        char fe[128], be[128];

        (void)state;
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), 0);
        write_layout(bd.domid);
        add_disk(bd.domid);
        attach_disk(bd.domid, image, &h);
        start(&bd);
        fe_dir(fe, bd.domid);
        assert_true(wait_value(at(fe, "state"), "4", WAIT_MS));
        fd = save(bd.domid);
        remove_disk(bd.domid, &h);
        destroy(bd.domid);

        assert_int_equal(builder_restore(fx.b, &c, fd, &rd, &err), 0);
        write_layout(rd.domid);
        add_disk(rd.domid);
        attach_disk(rd.domid, image, &h2);
        assert_int_equal(builder_introduce(fx.b, &rd, &err), 0);
        assert_int_equal(builder_unpause(fx.b, rd.domid, &err), 0);
        fe_dir(fe, rd.domid);
        be_dir(be, rd.domid);
        assert_true(wait_value(at(fe, "state"), "4", WAIT_MS));
        assert_true(wait_value(at(be, "state"), "4", WAIT_MS));
        /* Its feature nodes are the toolstack's, not rewritten. */
        sleep_ms(QUIET_MS);
        feature = get(home(rd.domid, "control/feature-poweroff"));
        assert_non_null(feature);
        assert_string_equal(feature, "");
        /* Its watch on control/shutdown is there again. */
        put(home(rd.domid, "control/shutdown"), "poweroff");
        assert_int_equal(wait_shutdown(rd.domid, WAIT_MS), SHUTDOWN_REASON_POWEROFF);
        remove_disk(rd.domid, &h2);
        destroy(rd.domid);
}

static bool wait_release(unsigned ms)
{
        struct pollfd p = { .fd = xs_fileno(fx.xs), .events = POLLIN };
        unsigned n;

        if (poll(&p, 1, (int)ms) <= 0)
                return false;
        free(xs_read_watch(fx.xs, &n));
        return true;
}

static void drain_release(void)
{
        while (wait_release(100))
                ;
}

/*
 * A resume after a save: the same domain runs on with its devices as they were (no new
 * handshake), and once XenStore is told (XS_RESUME) its next shutdown is reported again.
 * Without XS_RESUME it is not, as with C xenstored.
 */
static void test_resume_in_place(void **state)
{
        _cleanup_free_ char *err = NULL, *ring = NULL, *ring2 = NULL;
        _cleanup_close_ int image = make_image("resume.img");
        _cleanup_close_ int fd = -1;
        struct domain_config c = make_config(16);
        struct builder_domain_info info;
        struct builder_disk_host h;
        struct builder_domain bd;
        char fe[128], be[128];
        uint32_t other;

        (void)state;
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), 0);
        write_layout(bd.domid);
        add_disk(bd.domid);
        attach_disk(bd.domid, image, &h);
        start(&bd);
        fe_dir(fe, bd.domid);
        be_dir(be, bd.domid);
        assert_true(wait_value(at(fe, "state"), "4", WAIT_MS));
        ring = get(at(fe, "ring-ref"));
        assert_non_null(ring);
        assert_true(xs_watch(fx.xs, "@releaseDomain", "rel"));
        drain_release();
        fd = save(bd.domid);
        assert_true(wait_release(WAIT_MS)); /* the suspend is a shutdown to xenstored */
        drain_release();

        assert_int_equal(builder_resume(fx.b, bd.domid, &err), 0);
        assert_true(find(bd.domid, &info));
        assert_false(info.shutdown);
        assert_true(info.running);
        sleep_ms(QUIET_MS);
        assert_true(wait_value(at(fe, "state"), "4", 0));
        assert_true(wait_value(at(be, "state"), "4", 0));
        ring2 = get(at(fe, "ring-ref"));
        assert_non_null(ring2);
        assert_string_equal(ring, ring2); /* the same ring: nothing reconnected */
        /* Not suspended any more. */
        assert_int_equal(builder_resume(fx.b, bd.domid, &err), -EINVAL);
        {
                char want[64];

                snprintf(want, sizeof(want), "domain %u is not suspended (it is running)",
                         bd.domid);
                assert_string_equal(err, want);
        }
        assert_true(xs_resume_domain(fx.xs, bd.domid));
        put(home(bd.domid, "control/shutdown"), "poweroff");
        assert_true(wait_release(WAIT_MS));
        assert_int_equal(wait_shutdown(bd.domid, 0), SHUTDOWN_REASON_POWEROFF);
        remove_disk(bd.domid, &h);
        destroy(bd.domid);
        drain_release();

        /* Resumed without XS_RESUME: xenstored never hears of its next shutdown. */
        other = boot(&c);
        assert_int_equal(builder_shutdown(fx.b, other, SHUTDOWN_REASON_SUSPEND, &err), 0);
        assert_true(wait_release(WAIT_MS));
        drain_release();
        assert_int_equal(builder_resume(fx.b, other, &err), 0);
        assert_int_equal(builder_sim_guest_action(fx.b, other, HV_GUEST_CRASH, &err), 0);
        assert_int_equal(wait_shutdown(other, WAIT_MS), SHUTDOWN_REASON_CRASH);
        assert_false(wait_release(QUIET_MS));
        assert_true(xs_unwatch(fx.xs, "@releaseDomain", "rel"));
        destroy(other);
        assert_int_equal(builder_resume(fx.b, 0x7fee, &err), -ESRCH);
}

/* A resumed guest's script goes on from where it stopped, not counting its suspend. */
static void test_resume_clock(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_script(2, SHUTDOWN_REASON_REBOOT, SIM_SHUTDOWN_OBEY);
        uint64_t booted, suspended, resumed, took;
        struct builder_domain bd;

        (void)state;
        assert_int_equal(builder_create(fx.b, &c, NULL, &bd, &err), 0);
        booted = mono_ms();
        start(&bd);
        sleep_ms(800);
        assert_int_equal(builder_shutdown(fx.b, bd.domid, SHUTDOWN_REASON_SUSPEND, &err), 0);
        suspended = mono_ms();
        sleep_ms(1000);
        assert_true(is_suspended(bd.domid)); /* its time came and went while suspended */
        resumed = mono_ms();
        assert_int_equal(builder_resume(fx.b, bd.domid, &err), 0);
        assert_int_equal(wait_shutdown(bd.domid, 3000), SHUTDOWN_REASON_REBOOT);
        took = mono_ms() - resumed;
        print_message("ran %llu ms, then %llu ms after the resume\n",
                      (unsigned long long)(suspended - booted), (unsigned long long)took);
        assert_true(took + 300 >= 2000 - (suspended - booted));
        assert_true(took <= 2000 - (suspended - booted) + 500);
        destroy(bd.domid);
}

/* Every op's counter but STATS (which reading them counts). */
static void snapshot(uint64_t out[HV_OP_SLOTS])
{
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(builder_sim_stats(fx.b, &st, &err), 0);
        memcpy(out, st.calls, sizeof(st.calls));
        out[HV_OP_STATS] = 0;
}

/* Refusals: live (before anything), a guest that did not suspend, no such domain. */
static void test_save_refusals(void **state)
{
        _cleanup_free_ char *err = NULL, *node = NULL;
        _cleanup_close_ int fd = stream_file();
        struct domain_config c = make_config(16);
        struct builder_domain_info info;
        uint64_t before[HV_OP_SLOTS], after[HV_OP_SLOTS];
        uint32_t domid = boot(&c);
        struct suspender s = { .domid = domid, .ack_ms = WAIT_MS, .suspend_ms = WAIT_MS };

        (void)state;
        /* Live: not one request, the guest untouched, the message Xen gives. */
        snapshot(before);
        assert_int_equal(builder_save(fx.b, domid, fd, true, suspend_guest, &s, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err, "log-dirty"));
        assert_non_null(strstr(err, "shadow paging"));
        snapshot(after);
        assert_memory_equal(before, after, sizeof(before));
        assert_int_equal(s.calls, 0);
        node = get(home(domid, "control/shutdown"));
        assert_non_null(node);
        assert_string_equal(node, "");
        assert_true(find(domid, &info));
        assert_true(info.running);
        assert_int_equal(lseek(fd, 0, SEEK_END), 0);

        /* A suspend that says it worked while the guest runs on. */
        s.do_nothing = true;
        snapshot(before);
        assert_int_equal(builder_save(fx.b, domid, fd, false, suspend_guest, &s, &err), -EIO);
        assert_string_equal(err, "the domain has not suspended (it is running)");
        assert_int_equal(calls(HV_OP_SAVE), before[HV_OP_SAVE]);
        assert_int_equal(lseek(fd, 0, SEEK_END), 0);
        assert_int_equal(builder_pause(fx.b, domid, &err), 0);
        assert_int_equal(builder_save(fx.b, domid, fd, false, suspend_guest, &s, &err), -EIO);
        assert_string_equal(err, "the domain has not suspended (it is paused)");
        assert_int_equal(builder_unpause(fx.b, domid, &err), 0);
        assert_true(find(domid, &info));
        assert_true(info.running);
        destroy(domid);
        assert_int_equal(builder_save(fx.b, domid, fd, false, suspend_guest, &s, &err), -ESRCH);
        assert_int_equal(lseek(fd, 0, SEEK_END), 0);
}

/*
 * A target that fails midway (a pipe whose reader went after a few KiB): EPIPE at the byte it
 * got to, the caller alive (SIGPIPE is not ignored here), the guest left suspended and
 * resumable. A full disk is ENOSPC.
 */
static void test_save_fails_midway(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(64);
        uint32_t domid = boot(&c);
        struct suspender s = { .domid = domid, .ack_ms = WAIT_MS, .suspend_ms = WAIT_MS };
        unsigned long long byte = 0;
        const char *p;
        int pipefd[2], status;
        pid_t reader;

        (void)state;
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        reader = fork();
        assert_true(reader >= 0);
        if (reader == 0) {
                char buf[8192];
                size_t got = 0;

                close(pipefd[1]);
                while (got < sizeof(buf)) {
                        ssize_t n = read(pipefd[0], buf + got, sizeof(buf) - got);

                        if (n <= 0)
                                _exit(1);
                        got += (size_t)n;
                }
                _exit(0);
        }
        close(pipefd[0]);
        assert_int_equal(builder_save(fx.b, domid, pipefd[1], false, suspend_guest, &s, &err),
                         -EPIPE);
        close(pipefd[1]);
        assert_int_equal(waitpid(reader, &status, 0), reader);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        print_message("%s\n", err);
        assert_non_null(strstr(err, strerror(EPIPE)));
        p = strstr(err, "at byte ");
        assert_non_null(p);
        assert_int_equal(sscanf(p, "at byte %llu", &byte), 1);
        assert_true(byte >= 8192); /* midway: after what the reader took */
        assert_true(is_suspended(domid));
        assert_int_equal(builder_resume(fx.b, domid, &err), 0);
        assert_true(xs_resume_domain(fx.xs, domid));
        assert_int_equal(wait_shutdown(domid, QUIET_MS), SHUTDOWN_REASON_NONE);

        /* A full disk. */
        {
                _cleanup_close_ int full = open("/dev/full", O_WRONLY | O_CLOEXEC);

                if (full >= 0) {
                        assert_int_equal(
                            builder_save(fx.b, domid, full, false, suspend_guest, &s, &err),
                            -ENOSPC);
                        assert_true(is_suspended(domid));
                        assert_int_equal(builder_resume(fx.b, domid, &err), 0);
                }
        }
        destroy(domid);
}

/* Restore a stream from buf; it must fail with r and a message holding what, creating nothing. */
static void restore_fails(const struct domain_config *c, const void *buf, size_t len, int r,
                          const char *what)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = memfd_with(buf, len);
        struct builder_domain rd = { .domid = 0xdead };
        uint64_t restores = calls(HV_OP_RESTORE);
        size_t before = n_domains();

        assert_int_equal(builder_restore(fx.b, c, fd, &rd, &err), r);
        if (!strstr(err, what))
                print_message("'%s' does not say '%s'\n", err, what);
        assert_non_null(strstr(err, what));
        assert_int_equal(rd.domid, 0xdead);
        assert_int_equal(n_domains(), before);
        /* Checked before the hypervisor was asked. */
        assert_int_equal(calls(HV_OP_RESTORE), restores);
}

/* A stream that is not whole, not ours, or corrupt creates nothing; a whole one, with a trailer. */
static void test_restore_bad_streams(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ uint8_t *stream = NULL, *bad = NULL;
        struct domain_config c = make_config(16);
        struct builder_domain rd;
        uint32_t domid = boot(&c);
        size_t len, cuts[16], n_cuts = 0;
        char what[64];

        (void)state;
        {
                _cleanup_close_ int fd = save(domid);

                stream = slurp(fd, &len);
        }
        destroy(domid);
        bad = malloc(len + 16);
        assert_non_null(bad);

        /* Truncated anywhere: in a header, in a record header, in a body, before END. */
        for (size_t cut = 0; cut <= 48; cut += 8)
                cuts[n_cuts++] = cut;
        cuts[n_cuts++] = 23;
        cuts[n_cuts++] = 100;
        cuts[n_cuts++] = len / 2;
        cuts[n_cuts++] = len - 8;
        cuts[n_cuts++] = len - 1;
        for (size_t i = 0; i < n_cuts; i++) {
                snprintf(what, sizeof(what), "truncated at byte %zu", cuts[i]);
                restore_fails(&c, stream, cuts[i], -EIO, what);
        }

        /* Not ours: garbage, and a real Xen's libxc stream. */
        for (size_t i = 0; i < 4096 && i < len; i++)
                bad[i] = (uint8_t)(i * 37 + 11);
        restore_fails(&c, bad, 4096, -EINVAL, "not a simulator save stream");
        memcpy(bad, stream, len);
        memcpy(bad + 8, "XENF", 4);
        restore_fails(&c, bad, len, -EINVAL, "not a simulator save stream (a libxc stream");
        memcpy(bad, stream, len);
        bad[15] = 9; /* version, big-endian */
        restore_fails(&c, bad, len, -EINVAL, "version 9");

        /* Corrupt: an unknown record, a page that changed, END too early. */
        memcpy(bad, stream, len);
        bad[BUILDER_SIM_STREAM_HEADERS] = 0x77;
        restore_fails(&c, bad, len, -EBADMSG, "unknown type");
        memcpy(bad, stream, len);
        bad[len - 100] ^= 1;
        restore_fails(&c, bad, len, -EBADMSG, "does not hold what was saved");
        /* A 16 MiB guest's 16 pages are one record, just before END: END in its place. */
        memcpy(bad, stream, len - 8 - PAGE_RECORD_16);
        memset(bad + len - 8 - PAGE_RECORD_16, 0, 8);
        restore_fails(&c, bad, len - PAGE_RECORD_16, -EBADMSG, "END after 0 of the guest's 16");

        /* The config decides the type and the limits, and they must fit. */
        {
                struct domain_config pvh = c, small = c;

                pvh.type = DOMAIN_TYPE_PVH;
                restore_fails(&pvh, stream, len, -EINVAL, "holds a pv guest");
                small.memory_mib = small.maxmem_mib = 8;
                {
                        _cleanup_close_ int fd = memfd_with(stream, len);
                        size_t before = n_domains();

                        assert_int_equal(builder_restore(fx.b, &small, fd, &rd, &err), -ENOMEM);
                        assert_non_null(strstr(err, "more than"));
                        assert_int_equal(n_domains(), before);
                }
        }

        /* A faulted RESTORE makes nothing either. */
        {
                _cleanup_close_ int fd = memfd_with(stream, len);
                size_t before = n_domains();

                free(err);
                err = NULL;
                assert_int_equal(builder_sim_fault(fx.b, HV_OP_RESTORE, 1, EIO, 1, &err), 0);
                assert_int_equal(builder_restore(fx.b, &c, fd, &rd, &err), -EIO);
                assert_int_equal(n_domains(), before);
        }

        /* A trailer after END is left to the caller, from a file or a pipe. */
        memcpy(bad, stream, len);
        memcpy(bad + len, "TRAILER!", 8);
        {
                _cleanup_close_ int fd = memfd_with(bad, len + 8);
                char tail[16] = "";

                assert_int_equal(builder_restore(fx.b, &c, fd, &rd, &err), 0);
                assert_int_equal(read(fd, tail, sizeof(tail)), 8);
                assert_memory_equal(tail, "TRAILER!", 8);
                destroy(rd.domid);
        }
        {
                /* A pipe large enough for the whole stream: written at once, no writer process
                 * (a forked one would be leak-checked by valgrind with the parent's heap). */
                char tail[16] = "";
                int p[2];

                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                assert_true(fcntl(p[1], F_SETPIPE_SZ, (int)(len + 8 + 4096)) >= (int)(len + 8));
                assert_int_equal(write(p[1], bad, len + 8), (ssize_t)(len + 8));
                close(p[1]);
                assert_int_equal(builder_restore(fx.b, &c, p[0], &rd, &err), 0);
                assert_int_equal(read(p[0], tail, sizeof(tail)), 8);
                assert_memory_equal(tail, "TRAILER!", 8);
                close(p[0]);
                destroy(rd.domid);
        }
}

/*
 * Guests that do not suspend: one that never acknowledges (on_shutdown_request = "ignore"),
 * one that acknowledges and never suspends (guest action no_suspend). Either way nothing is
 * saved and the guest runs on. A hung guest suspended by the hypervisor is saved, and its
 * restored self still ignores requests: its faults are part of it.
 */
static void test_suspend_faults(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = stream_file();
        struct domain_config deaf = make_script(0, SHUTDOWN_REASON_POWEROFF, SIM_SHUTDOWN_IGNORE);
        struct domain_config c = make_config(16);
        struct builder_domain_info info;
        struct builder_domain rd;
        uint64_t saves = calls(HV_OP_SAVE);
        uint32_t a = boot(&deaf), b = boot(&c);
        struct suspender s = { .domid = a, .ack_ms = QUIET_MS, .suspend_ms = QUIET_MS };

        (void)state;
        assert_int_equal(builder_save(fx.b, a, fd, false, suspend_guest, &s, &err), -ETIMEDOUT);
        assert_string_equal(err, "the guest did not acknowledge");
        assert_false(s.acked);
        assert_true(find(a, &info));
        assert_true(info.running);

        assert_int_equal(builder_sim_guest_action(fx.b, b, HV_GUEST_NO_SUSPEND, &err), 0);
        s = (struct suspender){ .domid = b, .ack_ms = WAIT_MS, .suspend_ms = 3 * QUIET_MS };
        assert_int_equal(builder_save(fx.b, b, fd, false, suspend_guest, &s, &err), -ETIMEDOUT);
        assert_string_equal(err, "the guest acknowledged but did not suspend");
        assert_true(s.acked);
        assert_true(find(b, &info));
        assert_true(info.running);
        assert_int_equal(calls(HV_OP_SAVE), saves);
        assert_int_equal(lseek(fd, 0, SEEK_END), 0);
        /* Told to obey again, it suspends. */
        assert_int_equal(builder_sim_guest_action(fx.b, b, HV_GUEST_OBEY, &err), 0);
        s = (struct suspender){ .domid = b, .ack_ms = WAIT_MS, .suspend_ms = WAIT_MS };
        assert_int_equal(builder_save(fx.b, b, fd, false, suspend_guest, &s, &err), 0);
        destroy(b);

        /* The deaf guest, suspended by the toolstack's hypercall, saved and restored. */
        assert_int_equal(builder_shutdown(fx.b, a, SHUTDOWN_REASON_SUSPEND, &err), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(ftruncate(fd, 0), 0);
        s = (struct suspender){ .do_nothing = true };
        assert_int_equal(builder_save(fx.b, a, fd, false, suspend_guest, &s, &err), 0);
        destroy(a);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(builder_restore(fx.b, &deaf, fd, &rd, &err), 0);
        start(&rd);
        sleep_ms(100);
        put(home(rd.domid, "control/shutdown"), "poweroff");
        assert_int_equal(wait_shutdown(rd.domid, QUIET_MS), SHUTDOWN_REASON_NONE);
        assert_true(wait_value(home(rd.domid, "control/shutdown"), "poweroff", 0));
        destroy(rd.domid);
}

/* One raw request on hypervisor.socket; the reply's result, its body into rep. */
static int raw_call(uint16_t op, const void *req, size_t len, void *rep, size_t rep_len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct hv_header h = { .magic = HV_PROTO_MAGIC,
                               .version = HV_PROTO_VERSION,
                               .op = op,
                               .seq = 5,
                               .len = (uint32_t)len };
        uint8_t buf[HV_MSG_MAX];
        ssize_t n;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", fx.dir, HV_SOCKET_NAME);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), req, len);
        assert_int_equal(send(fd, buf, sizeof(h) + len, 0), (ssize_t)(sizeof(h) + len));
        n = recv(fd, buf, sizeof(buf), 0);
        assert_true(n >= (ssize_t)sizeof(h));
        memcpy(&h, buf, sizeof(h));
        assert_int_equal(h.len, (size_t)n - sizeof(h));
        if (h.result == 0) {
                assert_int_equal(h.len, rep_len);
                if (rep_len)
                        memcpy(rep, buf + sizeof(h), rep_len);
        }
        return h.result;
}

/* The protocol itself: SAVE wants a suspended domain, RESTORE a state that is one. */
static void test_protocol(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain_config c = make_config(16);
        uint32_t domid = boot(&c);
        struct hv_req_dom rd = { .domid = domid };
        struct hv_req_restore rr = { 0 };
        struct hv_rep_create created;
        struct hv_guest_state st;
        size_t before;

        (void)state;
        assert_int_equal(raw_call(HV_OP_SAVE, &rd, sizeof(rd), &st, sizeof(st)), -EINVAL);
        assert_int_equal(raw_call(HV_OP_RESUME, &rd, sizeof(rd), NULL, 0), -EINVAL);
        rd.domid = 0;
        assert_int_equal(raw_call(HV_OP_SAVE, &rd, sizeof(rd), &st, sizeof(st)), -EINVAL);
        rd.domid = 0x7fee;
        assert_int_equal(raw_call(HV_OP_SAVE, &rd, sizeof(rd), &st, sizeof(st)), -ESRCH);
        rd.domid = domid;
        assert_int_equal(builder_shutdown(fx.b, domid, SHUTDOWN_REASON_SUSPEND, &err), 0);
        assert_int_equal(raw_call(HV_OP_SAVE, &rd, sizeof(rd), &st, sizeof(st)), 0);
        assert_int_equal(st.version, HV_GUEST_STATE_VERSION);
        assert_int_equal(st.mem_kib, 16 * 1024);
        assert_int_equal(st.vcpu_online[0], 1);
        destroy(domid);

        memcpy(rr.uuid, c.uuid, 16);
        strcpy(rr.name, c.name);
        rr.type = DOMAIN_TYPE_PV;
        rr.maxmem_kib = 17 * 1024;
        rr.maxvcpus = 1;
        before = n_domains();
        /* Each field out of range: refused, nothing made. */
        {
                struct hv_guest_state bad[7];

                for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                        bad[i] = st;
                bad[0].version = 0;
                bad[1].type = DOMAIN_TYPE_PVH;
                bad[2].vcpu_online[0] = 2; /* no vcpu0 */
                bad[3].vcpu_online[0] = 3; /* vcpu1 beyond maxvcpus */
                bad[4].mem_kib = 0;
                bad[5].reserved[1] = 1;
                bad[6].script.present = 1;
                bad[6].script.exit = 200;
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        rr.state = bad[i];
                        assert_int_equal(
                            raw_call(HV_OP_RESTORE, &rr, sizeof(rr), &created, sizeof(created)),
                            -EINVAL);
                }
                rr.state = st;
                rr.state.mem_kib = 18 * 1024;
                assert_int_equal(
                    raw_call(HV_OP_RESTORE, &rr, sizeof(rr), &created, sizeof(created)), -ENOMEM);
        }
        assert_int_equal(n_domains(), before);
        rr.state = st;
        assert_int_equal(raw_call(HV_OP_RESTORE, &rr, sizeof(rr), &created, sizeof(created)), 0);
        assert_true(find(created.domid, NULL));
        destroy(created.domid);
        assert_int_equal(builder_sim_op_from_string("save"), HV_OP_SAVE);
        assert_int_equal(builder_sim_op_from_string("restore"), HV_OP_RESTORE);
        assert_int_equal(builder_sim_op_from_string("resume"), HV_OP_RESUME);
        assert_int_equal(builder_sim_guest_action_from_string("no_suspend"), HV_GUEST_NO_SUSPEND);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_restore_reconnects),
                cmocka_unit_test(test_resume_in_place),
                cmocka_unit_test(test_resume_clock),
                cmocka_unit_test(test_save_refusals),
                cmocka_unit_test(test_save_fails_midway),
                cmocka_unit_test(test_restore_bad_streams),
                cmocka_unit_test(test_suspend_faults),
                cmocka_unit_test(test_protocol),
        };

        return cmocka_run_group_tests_name("sim-save", tests, group_setup, group_teardown);
}
