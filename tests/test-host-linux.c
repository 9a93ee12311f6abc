/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-host-linux — builders/host-linux.c on this host's real kernel: loop devices bound to
 * sparse files in a temporary directory, and vifs in a private network namespace (a fresh
 * unshare(CLONE_NEWNET) per test, so the host's own interfaces are never touched) holding a
 * bridge and a veth as the stand-in for netback's interface.
 *
 * Needs root. A test that cannot run here (not root, no loop driver, no network namespaces,
 * no veth) says why and is reported as skipped. Every test's teardown detaches each loop
 * device still backed by a file of the temporary directory, whatever the test left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/loop.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "builders/host-linux.h"
#include "common/macros.h"

#define BRIDGE        "xenbr0"
#define VIF           "vif1.0"
#define VIF_PEER      "vif1.0-peer"
#define LOOP_MAJOR_NR 7
#define RACERS        4 /* processes attaching at once */

/* realpath'd: what /sys/block/loopN/loop/backing_file shows. */
static char tmpdir[128];

/* ---- skipping, saying why --------------------------------------------------------------- */

#define skip_because(...)                                                                          \
        do {                                                                                       \
                print_message("skipped: " __VA_ARGS__);                                            \
                print_message("\n");                                                               \
                skip();                                                                            \
        } while (0)

static void require_root(void)
{
        if (geteuid() != 0)
                skip_because("needs root (loop devices, network namespaces)");
}

static void require_loop(void)
{
        _cleanup_close_ int fd = -1;

        require_root();
        fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                skip_because("/dev/loop-control: %s (no loop driver here?)", strerror(errno));
}

/* ---- test-only rtnetlink: independent of the code under test ---------------------------- */

/* One request, answered by its ACK; replies go to cb. 0 or a negative errno. */
static int tnl_call(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        struct mnl_socket *s = mnl_socket_open(NETLINK_ROUTE);
        _cleanup_free_ char *buf = malloc(32768);
        unsigned portid;
        int r;

        if (!s || !buf || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                if (s)
                        mnl_socket_close(s);
                return r ? r : -ENOMEM;
        }
        portid = mnl_socket_get_portid(s);
        nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = 1;
        r = mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0 ? -1 : MNL_CB_OK;
        while (r == MNL_CB_OK) {
                ssize_t n = mnl_socket_recvfrom(s, buf, 32768);

                r = n < 0 ? -1 : mnl_cb_run(buf, (size_t)n, 1, portid, cb, data);
        }
        r = r < 0 ? -errno : 0;
        mnl_socket_close(s);
        return r;
}

#define TNL_REQUEST_MAX 1024

static struct nlmsghdr *tnl_link_msg(char buf[static TNL_REQUEST_MAX], uint16_t type,
                                     uint16_t flags, const char *name)
{
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;

        memset(buf, 0, TNL_REQUEST_MAX); /* libmnl 1.0.4 leaves attribute padding as it was */
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        return nlh;
}

/* `ip link add NAME type KIND [peer name PEER]` */
static int t_link_add(const char *name, const char *kind, const char *peer)
{
        char buf[TNL_REQUEST_MAX];
        struct nlmsghdr *nlh = tnl_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);

        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
        if (peer) {
                struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
                struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
                struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));

                pifi->ifi_family = AF_UNSPEC;
                mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
                mnl_attr_nest_end(nlh, p);
                mnl_attr_nest_end(nlh, data);
        }
        mnl_attr_nest_end(nlh, info);
        return tnl_call(nlh, NULL, NULL);
}

static void t_link_set_mtu(const char *name, unsigned mtu)
{
        char buf[TNL_REQUEST_MAX];
        struct nlmsghdr *nlh = tnl_link_msg(buf, RTM_SETLINK, 0, name);

        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        assert_int_equal(tnl_call(nlh, NULL, NULL), 0);
}

static void t_link_set_up(const char *name)
{
        char buf[TNL_REQUEST_MAX];
        struct nlmsghdr *nlh = tnl_link_msg(buf, RTM_SETLINK, 0, name);
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = IFF_UP;
        assert_int_equal(tnl_call(nlh, NULL, NULL), 0);
}

/* What a test compares of a link. */
struct tlink {
        char name[IFNAMSIZ];
        bool up;
        unsigned mtu;
        unsigned master;
        uint8_t mac[6];
};

static int tlink_attr(const struct nlattr *a, void *data)
{
        struct tlink *l = data;

        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
                snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
                break;
        case IFLA_MTU:
                l->mtu = mnl_attr_get_u32(a);
                break;
        case IFLA_MASTER:
                l->master = mnl_attr_get_u32(a);
                break;
        case IFLA_ADDRESS:
                if (mnl_attr_get_payload_len(a) == sizeof(l->mac))
                        memcpy(l->mac, mnl_attr_get_payload(a), sizeof(l->mac));
                break;
        default:
                break;
        }
        return MNL_CB_OK;
}

static int tlink_parse(const struct nlmsghdr *nlh, void *data)
{
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        struct tlink *l = data;

        l->up = ifi->ifi_flags & IFF_UP;
        return mnl_attr_parse(nlh, sizeof(*ifi), tlink_attr, l);
}

static int t_link_get(const char *name, struct tlink *out)
{
        char buf[TNL_REQUEST_MAX];
        struct nlmsghdr *nlh = tnl_link_msg(buf, RTM_GETLINK, 0, name);

        *out = (struct tlink){ 0 };
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        return tnl_call(nlh, tlink_parse, out);
}

static void assert_link_same(const struct tlink *a, const struct tlink *b)
{
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->up, b->up);
        assert_int_equal(a->mtu, b->mtu);
        assert_int_equal(a->master, b->master);
        assert_memory_equal(a->mac, b->mac, sizeof(a->mac));
}

static const uint8_t vif_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };

/*
 * A fresh network namespace with the host's bridge BRIDGE and netback's stand-in VIF (a veth:
 * this kernel may lack dummy; a veth is what any netns-capable kernel has).
 */
static void netns_begin(bool with_vif)
{
        int r;

        require_root();
        if (unshare(CLONE_NEWNET) < 0)
                skip_because("unshare(CLONE_NEWNET): %s", strerror(errno));
        r = t_link_add(BRIDGE, "bridge", NULL);
        if (r < 0)
                skip_because("cannot create a bridge here: %s", strerror(-r));
        if (!with_vif)
                return;
        r = t_link_add(VIF, "veth", VIF_PEER);
        if (r < 0)
                skip_because("cannot create a veth here: %s", strerror(-r));
}

/* ---- vifs ------------------------------------------------------------------------------- */

static void test_plug_takes_bridge_mtu(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .bridge = BRIDGE };
        _cleanup_free_ char *err = NULL;
        unsigned mtu = 0;
        struct tlink l;

        (void)state;
        netns_begin(true);
        t_link_set_mtu(BRIDGE, 1400);

        assert_int_equal(host_vif_plug(&v, &mtu, &err), 0);
        assert_null(err);
        assert_int_equal(mtu, 1400);
        assert_int_equal(t_link_get(VIF, &l), 0);
        assert_true(l.up);
        assert_int_equal(l.mtu, 1400);
        assert_int_equal(l.master, if_nametoindex(BRIDGE));
        assert_memory_equal(l.mac, vif_mac, sizeof(vif_mac));
}

static void test_plug_given_mtu(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .bridge = BRIDGE, .mtu = 9000 };
        _cleanup_free_ char *err = NULL;
        unsigned mtu = 0;
        struct tlink l;

        (void)state;
        netns_begin(true);

        assert_int_equal(host_vif_plug(&v, &mtu, &err), 0);
        assert_int_equal(mtu, 9000);
        assert_int_equal(t_link_get(VIF, &l), 0);
        assert_int_equal(l.mtu, 9000);
        assert_int_equal(l.master, if_nametoindex(BRIDGE));
        assert_true(l.up);
}

static void test_plug_renames(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .rename = "web1-eth0", .bridge = BRIDGE };
        _cleanup_free_ char *err = NULL;
        unsigned mtu = 0;
        struct tlink l;

        (void)state;
        netns_begin(true);

        assert_int_equal(host_vif_plug(&v, &mtu, &err), 0);
        assert_int_equal(if_nametoindex(VIF), 0);
        assert_int_equal(t_link_get("web1-eth0", &l), 0);
        assert_true(l.up);
        assert_int_equal(l.master, if_nametoindex(BRIDGE));
        assert_memory_equal(l.mac, vif_mac, sizeof(vif_mac));
}

static void test_plug_rename_taken(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .rename = "taken0", .bridge = BRIDGE };
        _cleanup_free_ char *err = NULL;
        struct tlink before, after;
        unsigned mtu = 0;

        (void)state;
        netns_begin(true);
        assert_int_equal(t_link_add("taken0", "veth", "taken0-peer"), 0);
        assert_int_equal(t_link_get(VIF, &before), 0);

        assert_int_equal(host_vif_plug(&v, &mtu, &err), -EEXIST);
        print_message("error: %s\n", err);
        assert_non_null(strstr(err, "taken0"));
        assert_int_equal(t_link_get(VIF, &after), 0);
        assert_link_same(&before, &after);
}

static void test_plug_missing_bridge(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .bridge = "xenbr9" };
        _cleanup_free_ char *err = NULL;
        struct tlink before, after;
        unsigned mtu = 0;

        (void)state;
        netns_begin(true);
        assert_int_equal(t_link_get(VIF, &before), 0);

        assert_int_equal(host_vif_plug(&v, &mtu, &err), -ENODEV);
        assert_string_equal(err,
                            "bridge xenbr9 does not exist on this host (xensup does not create "
                            "bridges)");
        assert_int_equal(t_link_get(VIF, &after), 0);
        assert_link_same(&before, &after);
}

static void test_plug_master_not_a_bridge(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .bridge = "eth9" };
        _cleanup_free_ char *err = NULL;
        struct tlink before, after;
        unsigned mtu = 0;

        (void)state;
        netns_begin(true);
        assert_int_equal(t_link_add("eth9", "veth", "eth9-peer"), 0);
        assert_int_equal(t_link_get(VIF, &before), 0);

        assert_int_equal(host_vif_plug(&v, &mtu, &err), -EINVAL);
        assert_string_equal(err, "eth9 is not a bridge");
        assert_int_equal(t_link_get(VIF, &after), 0);
        assert_link_same(&before, &after);
}

/* A failure after changes (an MTU above veth's maximum) undoes them, and says the kernel's why. */
static void test_plug_failure_puts_back(void **state)
{
        struct builder_vif_host v = {
                .ifname = VIF, .rename = "web1-eth0", .bridge = BRIDGE, .mtu = 70000
        };
        _cleanup_free_ char *err = NULL;
        struct tlink before, after;
        unsigned mtu = 0;

        (void)state;
        netns_begin(true);
        assert_int_equal(t_link_get(VIF, &before), 0);

        assert_int_equal(host_vif_plug(&v, &mtu, &err), -EINVAL);
        print_message("error: %s\n", err);
        assert_non_null(strstr(err, "web1-eth0: set mtu 70000: Invalid argument ("));
        assert_int_equal(mtu, 0);
        assert_int_equal(if_nametoindex("web1-eth0"), 0);
        assert_int_equal(t_link_get(VIF, &after), 0);
        assert_link_same(&before, &after);

        /* Found up, left up. */
        free(err);
        err = NULL;
        t_link_set_up(VIF);
        assert_int_equal(t_link_get(VIF, &before), 0);
        assert_int_equal(host_vif_plug(&v, &mtu, &err), -EINVAL);
        assert_int_equal(t_link_get(VIF, &after), 0);
        assert_true(after.up);
        assert_link_same(&before, &after);
}

static void *create_vif_later(void *arg)
{
        struct timespec ts = { .tv_nsec = 200 * 1000 * 1000 };

        nanosleep(&ts, NULL);
        *(int *)arg = t_link_add(VIF, "veth", VIF_PEER);
        return NULL;
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_plug_waits_for_vif(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .bridge = BRIDGE };
        _cleanup_free_ char *err = NULL;
        unsigned mtu = 0;
        int created = 1;
        struct tlink l;
        pthread_t t;
        uint64_t t0;
        int r;

        (void)state;
        netns_begin(false);
        /* Created after unshare: the thread lives in this namespace too. */
        assert_int_equal(pthread_create(&t, NULL, create_vif_later, &created), 0);
        t0 = now_ms();
        r = host_vif_plug(&v, &mtu, &err);
        pthread_join(t, NULL);

        assert_int_equal(created, 0);
        assert_int_equal(r, 0);
        assert_true(now_ms() - t0 >= 150);
        assert_int_equal(t_link_get(VIF, &l), 0);
        assert_int_equal(l.master, if_nametoindex(BRIDGE));
        assert_true(l.up);
}

static void test_plug_gives_up_waiting(void **state)
{
        struct builder_vif_host v = { .ifname = "vif9.0", .bridge = BRIDGE };
        _cleanup_free_ char *err = NULL;
        unsigned mtu = 0;
        uint64_t t0;

        (void)state;
        netns_begin(false);
        t0 = now_ms();
        assert_int_equal(host_vif_plug(&v, &mtu, &err), -ENODEV);
        print_message("error: %s (after %llu ms)\n", err, (unsigned long long)(now_ms() - t0));
        assert_string_equal(err, "vif9.0: no such interface after 2000 ms");
        assert_true(now_ms() - t0 >= 1900);
}

static void test_unplug(void **state)
{
        struct builder_vif_host v = { .ifname = VIF, .bridge = BRIDGE };
        _cleanup_free_ char *err = NULL;
        unsigned mtu = 0;
        struct tlink l;

        (void)state;
        netns_begin(true);
        assert_int_equal(host_vif_plug(&v, &mtu, &err), 0);

        assert_int_equal(host_vif_unplug(VIF, &err), 0);
        assert_null(err);
        assert_int_equal(t_link_get(VIF, &l), 0);
        assert_false(l.up);
        assert_int_equal(l.master, 0);
        /* Twice is fine: nothing left to undo. */
        assert_int_equal(host_vif_unplug(VIF, &err), 0);
}

static void test_unplug_gone(void **state)
{
        _cleanup_free_ char *err = NULL;

        (void)state;
        netns_begin(false);
        assert_int_equal(host_vif_unplug("vif9.0", &err), 0);
        assert_null(err);
}

static void test_names_checked(void **state)
{
        struct builder_vif_host v = { .ifname = "vif1.0",
                                      .rename = "a-name-too-long-for-linux",
                                      .bridge = BRIDGE };
        _cleanup_free_ char *err = NULL;
        unsigned mtu = 0;

        (void)state;
        assert_int_equal(host_vif_plug(&v, &mtu, &err), -EINVAL);
        assert_non_null(strstr(err, "a-name-too-long-for-linux"));
        assert_int_equal(host_vif_unplug("", &err), -EINVAL);
}

/* ---- loop devices ----------------------------------------------------------------------- */

static int group_setup(void **state)
{
        char tmpl[] = "/tmp/test-host-linux.XXXXXX";
        _cleanup_free_ char *real = NULL;

        (void)state;
        if (!mkdtemp(tmpl))
                return -1;
        real = realpath(tmpl, NULL);
        if (!real || strlen(real) >= sizeof(tmpdir))
                return -1;
        strcpy(tmpdir, real);
        return 0;
}

static void rm_in_tmpdir(const char *name)
{
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
        (void)remove(p);
}

static int group_teardown(void **state)
{
        (void)state;
        rm_in_tmpdir("a.img");
        rm_in_tmpdir("b.img");
        rm_in_tmpdir("fifo");
        rm_in_tmpdir("dir");
        for (int i = 0; i < RACERS; i++) {
                char name[16];

                snprintf(name, sizeof(name), "c%d.img", i);
                rm_in_tmpdir(name);
        }
        return rmdir(tmpdir) < 0 ? -1 : 0;
}

static bool read_line(const char *path, char *buf, size_t size)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");

        if (!f || !fgets(buf, (int)size, f))
                return false;
        buf[strcspn(buf, "\n")] = '\0';
        return true;
}

/* The file /dev/loopN serves (from sysfs), or "" when it serves none. */
static const char *backing_of(const char *device, char buf[PATH_MAX])
{
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file", strrchr(device, '/') + 1);
        if (!read_line(p, buf, PATH_MAX))
                buf[0] = '\0';
        return buf;
}

static void detach(const char *device)
{
        _cleanup_close_ int fd = open(device, O_RDONLY | O_CLOEXEC);

        if (fd >= 0)
                (void)ioctl(fd, LOOP_CLR_FD);
}

/* Detach every loop device backed by a file of tmpdir: whatever a failed test left behind. */
static int loop_teardown(void **state)
{
        DIR *d = opendir("/sys/block");
        struct dirent *de;

        (void)state;
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char dev[300], back[PATH_MAX];

                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
                if (strncmp(backing_of(dev, back), tmpdir, strlen(tmpdir)) == 0) {
                        print_message("teardown: detaching %s (%s)\n", dev, back);
                        detach(dev);
                }
        }
        closedir(d);
        return 0;
}

/* A sparse 1 MiB file in tmpdir, opened with flags; its path in path. */
static int sparse_file(const char *name, int flags, char path[static PATH_MAX])
{
        int fd;

        snprintf(path, PATH_MAX, "%s/%s", tmpdir, name);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 1 << 20), 0);
        close(fd);
        fd = open(path, flags | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

/* Until a detach the kernel may finish at last close has happened (1 s at most). */
static bool wait_unbound(const char *device)
{
        char back[PATH_MAX];

        for (int i = 0; i < 100; i++) {
                if (!backing_of(device, back)[0])
                        return true;
                usleep(10 * 1000);
        }
        return false;
}

static void assert_sysfs(const char *device, const char *attr, const char *want)
{
        char p[PATH_MAX], got[64];

        snprintf(p, sizeof(p), "/sys/block/%s/%s", strrchr(device, '/') + 1, attr);
        assert_true(read_line(p, got, sizeof(got)));
        assert_string_equal(got, want);
}

static void test_loop_rw(void **state)
{
        struct builder_disk_host h;
        _cleanup_free_ char *err = NULL;
        char path[PATH_MAX], back[PATH_MAX];
        struct stat st, dst;
        int fd;

        (void)state;
        require_loop();
        fd = sparse_file("a.img", O_RDWR, path);
        assert_int_equal(fstat(fd, &st), 0);

        assert_int_equal(host_loop_attach(fd, false, path, &h, &err), 0);
        close(fd); /* the loop device keeps the file */
        print_message("attached %s as %s (%u:%u)\n", path, h.device, h.major, h.minor);
        assert_true(h.loop);
        assert_int_equal(strncmp(h.device, "/dev/loop", 9), 0);
        assert_int_equal(h.major, LOOP_MAJOR_NR);
        assert_int_equal(stat(h.device, &dst), 0);
        assert_true(dst.st_rdev == makedev(h.major, h.minor));
        assert_true(h.backing_dev == st.st_dev && h.backing_ino == st.st_ino);
        assert_string_equal(backing_of(h.device, back), path);
        assert_sysfs(h.device, "ro", "0");

        assert_int_equal(host_loop_release(&h, &err), 0);
        assert_true(wait_unbound(h.device));
        /* Released twice: nothing bound, nothing to do. */
        assert_int_equal(host_loop_release(&h, &err), 0);
        assert_null(err);
}

static void test_loop_ro(void **state)
{
        struct builder_disk_host h;
        _cleanup_free_ char *err = NULL;
        char path[PATH_MAX], back[PATH_MAX];
        int fd;

        (void)state;
        require_loop();
        fd = sparse_file("a.img", O_RDONLY, path);
        assert_int_equal(host_loop_attach(fd, true, path, &h, &err), 0);
        close(fd);
        assert_string_equal(backing_of(h.device, back), path);
        assert_sysfs(h.device, "ro", "1");
        assert_int_equal(host_loop_release(&h, &err), 0);
        assert_true(wait_unbound(h.device));
}

static bool any_loop_serves(const char *path)
{
        char dev[32], back[PATH_MAX];

        for (int n = 0; n < 256; n++) {
                snprintf(dev, sizeof(dev), "/dev/loop%d", n);
                if (strcmp(backing_of(dev, back), path) == 0)
                        return true;
        }
        return false;
}

/* A writable disk needs a target its caller could write: an O_RDONLY fd is refused. */
static void test_loop_rw_needs_writable_fd(void **state)
{
        struct builder_disk_host h;
        _cleanup_free_ char *err = NULL;
        char path[PATH_MAX];
        int fd;

        (void)state;
        require_loop();
        fd = sparse_file("a.img", O_RDONLY, path);
        assert_int_equal(host_loop_attach(fd, false, path, &h, &err), -EBADF);
        close(fd);
        print_message("error: %s\n", err);
        assert_false(h.loop);
        assert_false(any_loop_serves(path));
}

/* As losetup would: bind fd to the free device node device. */
static int bind_by_hand(const char *device, int fd)
{
        _cleanup_close_ int lfd = open(device, O_RDWR | O_CLOEXEC);
        struct loop_config cfg = { .fd = (uint32_t)fd };

        if (lfd < 0)
                return -errno;
        return ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
}

static void test_loop_release_leaves_rebound(void **state)
{
        struct builder_disk_host h;
        _cleanup_free_ char *err = NULL;
        char a[PATH_MAX], b[PATH_MAX], back[PATH_MAX];
        int fa, fb, r;

        (void)state;
        require_loop();
        fa = sparse_file("a.img", O_RDWR, a);
        fb = sparse_file("b.img", O_RDWR, b);
        assert_int_equal(host_loop_attach(fa, false, a, &h, &err), 0);
        close(fa);

        /* Someone detaches it and binds another file to the same device. */
        detach(h.device);
        assert_true(wait_unbound(h.device));
        r = bind_by_hand(h.device, fb);
        close(fb);
        if (r == -EBUSY)
                skip_because("another process took %s between detach and rebind", h.device);
        assert_int_equal(r, 0);

        assert_int_equal(host_loop_release(&h, &err), 0);
        assert_string_equal(backing_of(h.device, back), b);
}

static void test_loop_release_unbound(void **state)
{
        struct builder_disk_host h;
        _cleanup_free_ char *err = NULL;
        char path[PATH_MAX];
        int fd;

        (void)state;
        require_loop();
        fd = sparse_file("a.img", O_RDWR, path);
        assert_int_equal(host_loop_attach(fd, false, path, &h, &err), 0);
        close(fd);
        detach(h.device);
        assert_true(wait_unbound(h.device));
        assert_int_equal(host_loop_release(&h, &err), 0);
        assert_null(err);
}

/* blkback still holding the device: the kernel detaches it at its last close. */
static void test_loop_release_while_open(void **state)
{
        struct builder_disk_host h;
        _cleanup_free_ char *err = NULL;
        char path[PATH_MAX], back[PATH_MAX];
        int fd, user;

        (void)state;
        require_loop();
        fd = sparse_file("a.img", O_RDWR, path);
        assert_int_equal(host_loop_attach(fd, false, path, &h, &err), 0);
        close(fd);
        user = open(h.device, O_RDWR | O_CLOEXEC);
        assert_true(user >= 0);

        assert_int_equal(host_loop_release(&h, &err), 0);
        assert_string_equal(backing_of(h.device, back), path);
        close(user);
        assert_true(wait_unbound(h.device));
}

static void test_loop_block_device_as_is(void **state)
{
        struct builder_disk_host h, phy;
        _cleanup_free_ char *err = NULL;
        char path[PATH_MAX], back[PATH_MAX];
        int fd;

        (void)state;
        require_loop();
        fd = sparse_file("a.img", O_RDWR, path);
        assert_int_equal(host_loop_attach(fd, false, path, &h, &err), 0);
        close(fd);

        fd = open(h.device, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(host_loop_attach(fd, false, h.device, &phy, &err), 0);
        close(fd);
        assert_false(phy.loop);
        assert_string_equal(phy.device, h.device);
        assert_int_equal(phy.major, h.major);
        assert_int_equal(phy.minor, h.minor);

        assert_int_equal(host_loop_release(&phy, &err), 0);
        assert_string_equal(backing_of(h.device, back), path);
        assert_int_equal(host_loop_release(&h, &err), 0);
        assert_true(wait_unbound(h.device));
}

/* Processes racing for the same free device: each still gets one of its own (the EBUSY retry). */
static void test_loop_attach_concurrently(void **state)
{
        char devices[RACERS][sizeof(((struct builder_disk_host *)0)->device)];
        int pipes[RACERS][2], go[2];
        pid_t pids[RACERS];

        (void)state;
        require_loop();
        assert_int_equal(pipe(go), 0);
        for (int i = 0; i < RACERS; i++) {
                char name[16], path[PATH_MAX];
                int fd;

                snprintf(name, sizeof(name), "c%d.img", i);
                fd = sparse_file(name, O_RDWR, path);
                assert_int_equal(pipe(pipes[i]), 0);
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        struct builder_disk_host h;
                        char *err = NULL, c;
                        int r;

                        /* All start together: when the parent closes go. */
                        close(go[1]);
                        (void)!read(go[0], &c, 1);
                        r = host_loop_attach(fd, false, path, &h, &err);

                        if (r < 0)
                                snprintf(h.device, sizeof(h.device), "error %d", r);
                        _exit(write(pipes[i][1], h.device, sizeof(h.device)) ==
                                      (ssize_t)sizeof(h.device)
                                  ? 0
                                  : 1);
                }
                close(fd);
                close(pipes[i][1]);
        }
        close(go[0]);
        close(go[1]);
        for (int i = 0; i < RACERS; i++) {
                char path[PATH_MAX], back[PATH_MAX];
                int status;

                assert_int_equal(read(pipes[i][0], devices[i], sizeof(devices[i])),
                                 sizeof(devices[i]));
                close(pipes[i][0]);
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                /* Not its status: under valgrind it is valgrind's, for errors the child inherited.
                 */
                assert_true(WIFEXITED(status));
                print_message("racer %d: %s\n", i, devices[i]);
                snprintf(path, sizeof(path), "%s/c%d.img", tmpdir, i);
                assert_string_equal(backing_of(devices[i], back), path);
                for (int j = 0; j < i; j++)
                        assert_string_not_equal(devices[i], devices[j]);
        }
}

/* Needs neither root nor a loop driver: refused before either is touched. */
static void test_loop_refuses_other_files(void **state)
{
        struct builder_disk_host h;
        _cleanup_free_ char *err = NULL;
        char fifo[PATH_MAX], dir[PATH_MAX];
        int fd;

        (void)state;
        snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(host_loop_attach(fd, false, fifo, &h, &err), -EINVAL);
        close(fd);
        assert_non_null(strstr(err, fifo));
        assert_non_null(strstr(err, "not a regular file or block device"));

        snprintf(dir, sizeof(dir), "%s/dir", tmpdir);
        assert_int_equal(mkdir(dir, 0700), 0);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(host_loop_attach(fd, true, dir, &h, &err), -EINVAL);
        close(fd);
        print_message("error: %s\n", err);
        assert_non_null(strstr(err, dir));
}

/* Find the entry of minor among loops[0..n); NULL if absent. */
static const struct builder_loop *loop_entry(const struct builder_loop *loops, size_t n,
                                             uint32_t minor)
{
        for (size_t i = 0; i < n; i++)
                if (loops[i].minor == minor)
                        return &loops[i];
        return NULL;
}

/*
 * Every loop device on a file is found by the file alone, whoever bound it (our attach, a
 * losetup of someone else's), in minor order and with its mode; one on another file is not.
 */
static void test_loop_find(void **state)
{
        struct builder_disk_host rw, ro, other;
        _cleanup_free_ char *err = NULL;
        struct builder_loop *loops = NULL;
        char a[PATH_MAX], b[PATH_MAX], byhand[32] = "";
        const struct builder_loop *e;
        struct stat st;
        size_t n = 99;
        int fa, fb;

        (void)state;
        require_loop();
        fa = sparse_file("a.img", O_RDWR, a);
        fb = sparse_file("b.img", O_RDWR, b);
        assert_int_equal(fstat(fa, &st), 0);
        assert_int_equal(host_loop_attach(fa, false, a, &rw, &err), 0);
        assert_int_equal(host_loop_attach(fa, true, a, &ro, &err), 0);
        assert_int_equal(host_loop_attach(fb, false, b, &other, &err), 0);
        /* As another toolstack's losetup: no name we gave it, nothing but the file it serves. */
        {
                _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
                int free_minor = ctl >= 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : -1;

                if (free_minor >= 0) {
                        snprintf(byhand, sizeof(byhand), "/dev/loop%d", free_minor);
                        if (bind_by_hand(byhand, fa) < 0)
                                byhand[0] = '\0';
                }
        }
        close(fa);
        close(fb);

        assert_int_equal(host_loop_find(st.st_dev, st.st_ino, &loops, &n, &err), 0);
        assert_null(err);
        print_message("%zu loop devices on %s\n", n, a);
        assert_int_equal(n, byhand[0] ? 3 : 2);
        for (size_t i = 1; i < n; i++)
                assert_true(loops[i - 1].minor < loops[i].minor);
        e = loop_entry(loops, n, rw.minor);
        assert_non_null(e);
        assert_int_equal(e->major, LOOP_MAJOR_NR);
        assert_false(e->readonly);
        assert_false(e->busy);
        e = loop_entry(loops, n, ro.minor);
        assert_non_null(e);
        assert_true(e->readonly);
        assert_false(e->busy);
        assert_null(loop_entry(loops, n, other.minor));
        free(loops);
        loops = NULL;

        /* Released while a user holds it open: on its way out, never one to free again. */
        {
                _cleanup_close_ int user = open(rw.device, O_RDONLY | O_CLOEXEC);

                assert_true(user >= 0);
                assert_int_equal(host_loop_release(&rw, &err), 0);
                assert_int_equal(host_loop_find(st.st_dev, st.st_ino, &loops, &n, &err), 0);
                e = loop_entry(loops, n, rw.minor);
                assert_non_null(e);
                assert_true(e->busy);
                free(loops);
                loops = NULL;
        }
        assert_true(wait_unbound(rw.device));
        assert_int_equal(host_loop_release(&ro, &err), 0);
        assert_true(wait_unbound(ro.device));
        if (byhand[0]) {
                detach(byhand);
                assert_true(wait_unbound(byhand));
        }
        assert_int_equal(host_loop_find(st.st_dev, st.st_ino, &loops, &n, &err), 0);
        assert_int_equal(n, 0);
        assert_null(loops);
        assert_int_equal(host_loop_release(&other, &err), 0);
}

static void test_loop_release_nothing(void **state)
{
        struct builder_disk_host phy = { .major = 8, .minor = 0, .device = "/dev/sda" };
        struct builder_disk_host gone = { .major = LOOP_MAJOR_NR,
                                          .minor = 4000,
                                          .device = "/dev/xensup-test-no-such-loop",
                                          .loop = true };
        _cleanup_free_ char *err = NULL;

        (void)state;
        assert_int_equal(host_loop_release(&phy, &err), 0);
        assert_int_equal(host_loop_release(&gone, &err), 0);
        assert_null(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plug_takes_bridge_mtu),
                cmocka_unit_test(test_plug_given_mtu),
                cmocka_unit_test(test_plug_renames),
                cmocka_unit_test(test_plug_rename_taken),
                cmocka_unit_test(test_plug_missing_bridge),
                cmocka_unit_test(test_plug_master_not_a_bridge),
                cmocka_unit_test(test_plug_failure_puts_back),
                cmocka_unit_test(test_plug_waits_for_vif),
                cmocka_unit_test(test_plug_gives_up_waiting),
                cmocka_unit_test(test_unplug),
                cmocka_unit_test(test_unplug_gone),
                cmocka_unit_test(test_names_checked),
                cmocka_unit_test_teardown(test_loop_rw, loop_teardown),
                cmocka_unit_test_teardown(test_loop_ro, loop_teardown),
                cmocka_unit_test_teardown(test_loop_rw_needs_writable_fd, loop_teardown),
                cmocka_unit_test_teardown(test_loop_release_leaves_rebound, loop_teardown),
                cmocka_unit_test_teardown(test_loop_release_unbound, loop_teardown),
                cmocka_unit_test_teardown(test_loop_release_while_open, loop_teardown),
                cmocka_unit_test_teardown(test_loop_block_device_as_is, loop_teardown),
                cmocka_unit_test_teardown(test_loop_attach_concurrently, loop_teardown),
                cmocka_unit_test_teardown(test_loop_find, loop_teardown),
                cmocka_unit_test(test_loop_refuses_other_files),
                cmocka_unit_test(test_loop_release_nothing),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
