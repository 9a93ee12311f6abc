/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host-linux.c — the dom0 side of a domain's disks and vifs, natively (host-linux.h).
 *
 * Disks: a regular file is served through a loop device bound with LOOP_CONFIGURE (Linux 5.8,
 * Debian 12 runs 6.1), without LO_FLAGS_AUTOCLEAR: blkback opens the device only after the
 * supervisor wrote physical-device, so an autoclear device would detach when our fd closes.
 *
 * Vifs: rtnetlink through libmnl, one request per change, each answered by an ACK that carries
 * the kernel's extended message when it has one. Every change is recorded as it is made, so a
 * failure puts the interface back as it was found.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/loop.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "builders/host-linux.h"
#include "common/error.h"
#include "common/macros.h"

#define LOOP_CONTROL "/dev/loop-control"

/* Another process may bind the device LOOP_CTL_GET_FREE named before we do: try the next. */
#define LOOP_ATTACH_TRIES 16

/* A loop device LOOP_CTL_GET_FREE just added gets its /dev node from devtmpfs, maybe late. */
#define LOOP_NODE_WAIT_MS 1000

/* netback registers the interface while its backend probes, which may still be under way. */
#define VIF_WAIT_MS 2000

#define POLL_MS 20

/* vif-bridge's address: above every real MAC, so the bridge never takes it as its own. */
static const uint8_t VIF_MAC[ETH_ALEN] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Our requests are a header and a few short attributes. */
#define NL_REQUEST_MAX 512

/* One RTM_NEWLINK reply without statistics, and its ACK, fit with room to spare. */
#define NL_REPLY_MAX 32768

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- disks ---------------------------------------------------------------------------- */

/* blkback opens the device with the disk's mode as root: the caller's rights must match it. */
static int target_check_access(int target_fd, bool readonly, const char *target, char **err_r)
{
        int flags = fcntl(target_fd, F_GETFL);

        if (flags < 0)
                return err_setf(err_r, -errno, "%s: %s", target, strerror(errno));
        if (!readonly && (flags & O_ACCMODE) == O_RDONLY)
                return err_setf(err_r, -EBADF, "%s: opened read-only for a writable disk", target);
        return 0;
}

/* phy: blkback opens the block device itself, so there is nothing to set up. */
static int disk_use_block_device(const struct stat *st, const char *target,
                                 struct builder_disk_host *out, char **err_r)
{
        if (strlen(target) >= sizeof(out->device))
                return err_setf(err_r, -ENAMETOOLONG, "%s: path longer than %zu bytes", target,
                                sizeof(out->device) - 1);
        *out = (struct builder_disk_host){
                .major = major(st->st_rdev),
                .minor = minor(st->st_rdev),
                .loop = false,
        };
        strcpy(out->device, target);
        return 0;
}

/* Open /dev/loopN, waiting briefly for devtmpfs to create a node the kernel just added. */
static int loop_node_open(int n, bool readonly, char *path, size_t size, int *fd_r, char **err_r)
{
        snprintf(path, size, "/dev/loop%d", n);
        for (unsigned waited = 0;; waited += POLL_MS) {
                int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
                int r = -errno;

                if (fd >= 0) {
                        *fd_r = fd;
                        return 0;
                }
                if (r != -ENOENT)
                        return err_setf(err_r, r, "open %s: %s", path, strerror(-r));
                if (waited >= LOOP_NODE_WAIT_MS)
                        return err_setf(err_r, r, "open %s: %s (is devtmpfs mounted on /dev?)",
                                        path, strerror(-r));
                sleep_ms(POLL_MS);
        }
}

/* LOOP_CONFIGURE binds and sets the flags in one step, so no half-configured device is seen. */
static int loop_bind(int loop_fd, int target_fd, bool readonly, const char *target)
{
        struct loop_config cfg = { .fd = (uint32_t)target_fd };

        cfg.info.lo_flags = readonly ? LO_FLAGS_READ_ONLY : 0;
        /* What losetup lists; the kernel's own backing_file comes from the fd. */
        snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", target);
        return ioctl(loop_fd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
}

/* file: bind a free loop device to target_fd, as the block script's losetup does. */
static int disk_use_loop_device(int target_fd, bool readonly, const char *target,
                                const struct stat *st, struct builder_disk_host *out, char **err_r)
{
        _cleanup_close_ int ctl = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);

        if (ctl < 0)
                return err_setf(err_r, -errno,
                                "%s: open " LOOP_CONTROL ": %s (is the loop module loaded?)",
                                target, strerror(errno));

        for (unsigned try = 0; try < LOOP_ATTACH_TRIES; try++) {
                _cleanup_close_ int loop_fd = -1;
                char path[sizeof(out->device)];
                struct stat lst;
                int n, r;

                n = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (n < 0)
                        return err_setf(err_r, -errno, "%s: no free loop device: %s", target,
                                        strerror(errno));
                r = loop_node_open(n, readonly, path, sizeof(path), &loop_fd, err_r);
                if (r < 0)
                        return r;
                /* Before binding: after it, nothing may fail that would need an unbind. */
                if (fstat(loop_fd, &lst) < 0)
                        return err_setf(err_r, -errno, "fstat %s: %s", path, strerror(errno));

                r = loop_bind(loop_fd, target_fd, readonly, target);
                if (r == -EBUSY)
                        continue;
                if (r < 0)
                        return err_setf(err_r, r, "%s: bind %s: %s", target, path, strerror(-r));

                *out = (struct builder_disk_host){
                        .major = major(lst.st_rdev),
                        .minor = minor(lst.st_rdev),
                        .loop = true,
                        .backing_dev = st->st_dev,
                        .backing_ino = st->st_ino,
                };
                strcpy(out->device, path);
                return 0;
        }
        return err_setf(err_r, -EBUSY, "%s: other processes took each of %u free loop devices",
                        target, LOOP_ATTACH_TRIES);
}

/* Make the disk's target a block device blkback can open (host-linux.h). */
int host_loop_attach(int target_fd, bool readonly, const char *target,
                     struct builder_disk_host *out, char **err_r)
{
        struct stat st;
        int r;

        *out = (struct builder_disk_host){ 0 };
        if (fstat(target_fd, &st) < 0)
                return err_setf(err_r, -errno, "%s: %s", target, strerror(errno));
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
                return err_setf(err_r, -EINVAL, "%s: not a regular file or block device", target);
        r = target_check_access(target_fd, readonly, target, err_r);
        if (r < 0)
                return r;
        if (S_ISBLK(st.st_mode))
                return disk_use_block_device(&st, target, out, err_r);
        return disk_use_loop_device(target_fd, readonly, target, &st, out, err_r);
}

/*
 * Whether the loop device serves the file (dev, ino), dev an st_dev. The kernel reports its
 * backing file's device as huge_encode_dev(), which is how stat(2) encodes st_dev on Linux too
 * (majors below 4096, all the kernel has): both decode alike with major() and minor().
 */
static bool loop_backed_by(const struct loop_info64 *info, uint64_t dev, uint64_t ino)
{
        return major(info->lo_device) == major(dev) && minor(info->lo_device) == minor(dev) &&
               info->lo_inode == ino;
}

/* Detach the loop device host_loop_attach() bound, if it still serves that file (host-linux.h). */
int host_loop_release(const struct builder_disk_host *h, char **err_r)
{
        _cleanup_close_ int fd = -1;
        struct loop_info64 info = { 0 };
        struct stat st;

        if (!h->loop)
                return 0;
        fd = open(h->device, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return err_setf(err_r, -errno, "release %s: %s", h->device, strerror(errno));
        if (fstat(fd, &st) < 0)
                return err_setf(err_r, -errno, "release %s: %s", h->device, strerror(errno));
        /* A node that now names another device is not ours to touch. */
        if (!S_ISBLK(st.st_mode) || major(st.st_rdev) != h->major || minor(st.st_rdev) != h->minor)
                return 0;

        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0) {
                if (errno == ENXIO) /* unbound already */
                        return 0;
                return err_setf(err_r, -errno, "release %s: LOOP_GET_STATUS64: %s", h->device,
                                strerror(errno));
        }
        /* Detached and bound again since: someone else's device now. */
        if (!loop_backed_by(&info, h->backing_dev, h->backing_ino))
                return 0;

        /* Still open (blkback closing it, or our own fd): the kernel detaches it at last close. */
        if (ioctl(fd, LOOP_CLR_FD) < 0 && errno != ENXIO)
                return err_setf(err_r, -errno, "release %s: LOOP_CLR_FD: %s", h->device,
                                strerror(errno));
        return 0;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* "loopN" with N a decimal, as the loop driver names its disks in /sys/block. */
static bool is_loop_name(const char *name, unsigned *n_r)
{
        char *end;
        unsigned long n;

        if (strncmp(name, "loop", 4) != 0 || name[4] < '0' || name[4] > '9')
                return false;
        errno = 0;
        n = strtoul(name + 4, &end, 10);
        if (errno || *end || n > UINT32_MAX)
                return false;
        *n_r = (unsigned)n;
        return true;
}

/* The device number sysfs gives /sys/block/NAME ("major:minor"). */
static int sysfs_devnum(int block_fd, const char *name, dev_t *dev_r)
{
        char path[300], buf[32];
        _cleanup_close_ int fd = -1;
        unsigned maj, min;
        ssize_t n;
        int end = 0;

        snprintf(path, sizeof(path), "%s/dev", name);
        fd = openat(block_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        if (sscanf(buf, "%u:%u%n", &maj, &min, &end) != 2 || (buf[end] && buf[end] != '\n'))
                return -EBADMSG;
        *dev_r = makedev(maj, min);
        return 0;
}

/* Whether /sys/block/NAME/holders lists a device stacked on it (dm, md). */
static bool has_holders(int block_fd, const char *name)
{
        _cleanup_(closedirp) DIR *d = NULL;
        char path[300];
        struct dirent *de;
        int fd;

        snprintf(path, sizeof(path), "%s/holders", name);
        fd = openat(block_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return false;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        return true;
        return false;
}

/*
 * Whether a file system of our mount namespace is mounted from dev (mountinfo's third field).
 * Read, not probed with an O_EXCL open: that would claim the device and fail a mount racing us.
 */
static bool is_mounted(dev_t dev)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return false;
        while (getline(&line, &size, f) > 0) {
                unsigned maj, min;

                if (sscanf(line, "%*u %*u %u:%u", &maj, &min) == 2 && makedev(maj, min) == dev)
                        return true;
        }
        return false;
}

/*
 * Ask bound loop device NAME what it serves: 1 and *out when its file is (dev, ino), 0 when it
 * serves another (or nothing by now, or it cannot be asked: no node, a node of another device).
 */
static int loop_query(int block_fd, const char *name, unsigned n, uint64_t dev, uint64_t ino,
                      struct builder_loop *out)
{
        struct loop_info64 info = { 0 };
        _cleanup_close_ int fd = -1;
        char path[32];
        struct stat st;
        dev_t devnum;

        if (sysfs_devnum(block_fd, name, &devnum) < 0)
                return 0;
        snprintf(path, sizeof(path), "/dev/loop%u", n);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != devnum)
                return 0;
        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0 || !loop_backed_by(&info, dev, ino))
                return 0;
        *out = (struct builder_loop){
                .major = major(devnum),
                .minor = minor(devnum),
                .readonly = info.lo_flags & LO_FLAGS_READ_ONLY,
                /* A mount, or a holder such as dm or md, shows in no XenStore node: never ours. */
                .busy = (info.lo_flags & LO_FLAGS_AUTOCLEAR) || has_holders(block_fd, name) ||
                        is_mounted(devnum),
        };
        return 1;
}

/* The bound loop devices serving one file (host-linux.h). */
int host_loop_find(uint64_t backing_dev, uint64_t backing_ino, struct builder_loop **loops_r,
                   size_t *n_r, char **err_r)
{
        _cleanup_(closedirp) DIR *d = opendir("/sys/block");
        _cleanup_free_ struct builder_loop *loops = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;

        *loops_r = NULL;
        *n_r = 0;
        if (!d)
                return err_setf(err_r, -errno, "cannot list /sys/block: %s", strerror(errno));
        while ((errno = 0, de = readdir(d))) {
                struct builder_loop found;
                char bound[300];
                unsigned num;

                if (!is_loop_name(de->d_name, &num))
                        continue;
                /* The loop driver adds loop/ when it binds, and takes it away at the detach. */
                snprintf(bound, sizeof(bound), "%s/loop", de->d_name);
                if (faccessat(dirfd(d), bound, F_OK, 0) < 0)
                        continue;
                if (loop_query(dirfd(d), de->d_name, num, backing_dev, backing_ino, &found) <= 0)
                        continue;
                if (n == allocated) {
                        size_t want = allocated ? allocated * 2 : 4;
                        struct builder_loop *more = reallocarray(loops, want, sizeof(*loops));

                        if (!more)
                                return err_setf(err_r, -ENOMEM, "out of memory");
                        loops = more;
                        allocated = want;
                }
                loops[n++] = found;
        }
        if (errno)
                return err_setf(err_r, -errno, "cannot list /sys/block: %s", strerror(errno));
        /* readdir's order is the directory's: callers get minor order, as the simulator's. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && loops[j - 1].minor > loops[j].minor; j--) {
                        struct builder_loop t = loops[j];

                        loops[j] = loops[j - 1];
                        loops[j - 1] = t;
                }
        *loops_r = TAKE_PTR(loops);
        *n_r = n;
        return 0;
}

/* ---- rtnetlink ------------------------------------------------------------------------ */

/* One route netlink socket per public call: nothing is shared between callers or threads. */
struct nl {
        struct mnl_socket *sock;
        unsigned portid;
        unsigned seq;
};

static void nl_closep(struct nl *nl)
{
        if (nl->sock)
                mnl_socket_close(nl->sock);
}

static int nl_open(struct nl *nl, char **err_r)
{
        int one = 1;

        nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl->sock)
                return err_setf(err_r, -errno, "netlink socket: %s", strerror(errno));
        /* Both are hints: a kernel without them answers all the same, with less to say. */
        (void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
        (void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
        if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
                return err_setf(err_r, -errno, "netlink bind: %s", strerror(errno));
        nl->portid = mnl_socket_get_portid(nl->sock);
        return 0;
}

/* Reads one data reply into its caller's struct; 0 or a negative errno. */
typedef int (*nl_parse_t)(const struct nlmsghdr *nlh, void *data);

/* What one request got back. */
struct nl_reply {
        int error;     /* the ACK's errno: 0 or negative */
        bool acked;    /* the ACK (or error) arrived */
        int parse_r;   /* the first failure of parse */
        char ext[256]; /* the kernel's extended ack message, if any */
        nl_parse_t parse;
        void *data;
};

static int nl_on_data(const struct nlmsghdr *nlh, void *data)
{
        struct nl_reply *rep = data;
        int r;

        if (!rep->parse)
                return MNL_CB_OK;
        r = rep->parse(nlh, rep->data);
        if (r < 0 && rep->parse_r == 0)
                rep->parse_r = r;
        /* Read on to the ACK, so the socket holds nothing stale for the next request. */
        return MNL_CB_OK;
}

static int nl_on_ext_attr(const struct nlattr *a, void *data)
{
        struct nl_reply *rep = data;

        if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
            mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                snprintf(rep->ext, sizeof(rep->ext), "%s", mnl_attr_get_str(a));
        return MNL_CB_OK;
}

/* NLMSG_ERROR is the ACK too (error 0); its TLVs follow the echoed request unless capped. */
static int nl_on_error(const struct nlmsghdr *nlh, void *data)
{
        struct nl_reply *rep = data;
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        size_t offset = sizeof(*e);

        rep->acked = true;
        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
                rep->error = -EBADMSG;
                return MNL_CB_STOP;
        }
        rep->error = e->error <= 0 ? e->error : -e->error;
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > sizeof(e->msg))
                offset += e->msg.nlmsg_len - sizeof(e->msg);
        if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && offset < mnl_nlmsg_get_payload_len(nlh))
                (void)mnl_attr_parse(nlh, (unsigned)offset, nl_on_ext_attr, rep);
        return MNL_CB_STOP;
}

/* Not const: libmnl 1.0.4 takes a plain mnl_cb_t *. */
static mnl_cb_t nl_ctl_cbs[NLMSG_MIN_TYPE] = {
        [NLMSG_ERROR] = nl_on_error,
};

/*
 * Send req (which asks for an ACK) and read until the ACK, giving data replies to parse.
 * On failure the message is "WHAT: strerror (the kernel's explanation)".
 */
_printf_(6, 7) static int nl_call(struct nl *nl, struct nlmsghdr *req, nl_parse_t parse, void *data,
                                  char **err_r, const char *fmt, ...)
{
        struct nl_reply rep = { .parse = parse, .data = data };
        _cleanup_free_ char *buf = NULL;
        char what[128];
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);

        buf = malloc(NL_REPLY_MAX);
        if (!buf)
                return err_setf(err_r, -ENOMEM, "%s: out of memory", what);
        req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        req->nlmsg_seq = ++nl->seq;
        if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
                return err_setf(err_r, -errno, "%s: netlink send: %s", what, strerror(errno));

        do {
                ssize_t n = mnl_socket_recvfrom(nl->sock, buf, NL_REPLY_MAX);

                if (n < 0)
                        return err_setf(err_r, -errno, "%s: netlink receive: %s", what,
                                        strerror(errno));
                r = mnl_cb_run2(buf, (size_t)n, req->nlmsg_seq, nl->portid, nl_on_data, &rep,
                                nl_ctl_cbs, ELEMENTSOF(nl_ctl_cbs));
                if (r < 0)
                        return err_setf(err_r, -errno, "%s: netlink reply: %s", what,
                                        strerror(errno));
        } while (!rep.acked);

        if (rep.error < 0 && rep.ext[0])
                return err_setf(err_r, rep.error, "%s: %s (%s)", what, strerror(-rep.error),
                                rep.ext);
        if (rep.error < 0)
                return err_setf(err_r, rep.error, "%s: %s", what, strerror(-rep.error));
        if (rep.parse_r < 0)
                return err_setf(err_r, rep.parse_r, "%s: malformed reply", what);
        return 0;
}

/* ---- links ---------------------------------------------------------------------------- */

/* What RTM_GETLINK says about one interface. */
struct link {
        int index;
        char name[IFNAMSIZ];
        unsigned flags; /* IFF_* */
        unsigned mtu;
        unsigned master; /* the ifindex of its bridge; 0: none */
        uint8_t mac[32]; /* IFLA_ADDRESS, mac_len bytes */
        size_t mac_len;
        char kind[32]; /* IFLA_INFO_KIND ("bridge"); empty for drivers without one (netback) */
};

static int link_on_info_attr(const struct nlattr *a, void *data)
{
        struct link *l = data;

        if (mnl_attr_get_type(a) != IFLA_INFO_KIND)
                return MNL_CB_OK;
        if (mnl_attr_validate(a, MNL_TYPE_STRING) < 0)
                return MNL_CB_ERROR;
        snprintf(l->kind, sizeof(l->kind), "%.*s",
                 (int)strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a)),
                 mnl_attr_get_str(a));
        return MNL_CB_OK;
}

static int link_on_attr(const struct nlattr *a, void *data)
{
        struct link *l = data;

        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
                if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
                        return MNL_CB_ERROR;
                snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
                break;
        case IFLA_MTU:
                if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
                        return MNL_CB_ERROR;
                l->mtu = mnl_attr_get_u32(a);
                break;
        case IFLA_MASTER:
                if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
                        return MNL_CB_ERROR;
                l->master = mnl_attr_get_u32(a);
                break;
        case IFLA_ADDRESS:
                if (mnl_attr_get_payload_len(a) > sizeof(l->mac))
                        return MNL_CB_ERROR;
                l->mac_len = mnl_attr_get_payload_len(a);
                memcpy(l->mac, mnl_attr_get_payload(a), l->mac_len);
                break;
        case IFLA_LINKINFO:
                if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
                        return MNL_CB_ERROR;
                return mnl_attr_parse_nested(a, link_on_info_attr, l) < 0 ? MNL_CB_ERROR
                                                                          : MNL_CB_OK;
        default:
                break;
        }
        return MNL_CB_OK;
}

static int link_parse(const struct nlmsghdr *nlh, void *data)
{
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        struct link *l = data;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return 0;
        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
                return -EBADMSG;
        l->index = ifi->ifi_index;
        l->flags = ifi->ifi_flags;
        return mnl_attr_parse(nlh, sizeof(*ifi), link_on_attr, l) < 0 ? -EBADMSG : 0;
}

/* An RTM_*LINK request about the link with that index (0: the one IFLA_IFNAME names). */
static struct nlmsghdr *link_request(char buf[static NL_REQUEST_MAX], uint16_t type, int index)
{
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;

        /* libmnl 1.0.4 does not clear the padding after an attribute: the kernel would get it. */
        memset(buf, 0, NL_REQUEST_MAX);
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        return nlh;
}

/* Read the link named name; -ENODEV if there is none. */
static int link_get(struct nl *nl, const char *name, struct link *out, char **err_r)
{
        char buf[NL_REQUEST_MAX];
        struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, 0);
        int r;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        *out = (struct link){ 0 };
        r = nl_call(nl, nlh, link_parse, out, err_r, "%s", name);
        if (r >= 0 && out->index <= 0)
                return err_setf(err_r, -EBADMSG, "%s: no link in the kernel's reply", name);
        return r;
}

/* The messages below name the link as the caller knows it: its name may be changing. */

static int link_set_up(struct nl *nl, int index, const char *ifname, bool up, char **err_r)
{
        char buf[NL_REQUEST_MAX];
        struct nlmsghdr *nlh = link_request(buf, RTM_SETLINK, index);
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = up ? IFF_UP : 0;
        return nl_call(nl, nlh, NULL, NULL, err_r, "%s: set link %s", ifname, up ? "up" : "down");
}

static int link_set_name(struct nl *nl, int index, const char *ifname, const char *name,
                         char **err_r)
{
        char buf[NL_REQUEST_MAX];
        struct nlmsghdr *nlh = link_request(buf, RTM_SETLINK, index);

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        return nl_call(nl, nlh, NULL, NULL, err_r, "%s: rename to %s", ifname, name);
}

static int link_set_mac(struct nl *nl, int index, const char *ifname, const uint8_t *mac,
                        size_t len, char **err_r)
{
        char buf[NL_REQUEST_MAX];
        struct nlmsghdr *nlh = link_request(buf, RTM_SETLINK, index);

        mnl_attr_put(nlh, IFLA_ADDRESS, len, mac);
        return nl_call(nl, nlh, NULL, NULL, err_r, "%s: set address", ifname);
}

static int link_set_mtu(struct nl *nl, int index, const char *ifname, unsigned mtu, char **err_r)
{
        char buf[NL_REQUEST_MAX];
        struct nlmsghdr *nlh = link_request(buf, RTM_SETLINK, index);

        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        return nl_call(nl, nlh, NULL, NULL, err_r, "%s: set mtu %u", ifname, mtu);
}

/* master 0 takes the link out of its bridge ("nomaster"). */
static int link_set_master(struct nl *nl, int index, const char *ifname, unsigned master,
                           char **err_r)
{
        char buf[NL_REQUEST_MAX];
        struct nlmsghdr *nlh = link_request(buf, RTM_SETLINK, index);

        mnl_attr_put_u32(nlh, IFLA_MASTER, master);
        return nl_call(nl, nlh, NULL, NULL, err_r, "%s: set master %u", ifname, master);
}

/* ---- vifs ----------------------------------------------------------------------------- */

static int ifname_check(const char *what, const char *name, char **err_r)
{
        if (!name || !name[0])
                return err_setf(err_r, -EINVAL, "no %s interface name", what);
        if (strlen(name) >= IFNAMSIZ)
                return err_setf(err_r, -EINVAL, "%s interface name %s is longer than %d bytes",
                                what, name, IFNAMSIZ - 1);
        return 0;
}

/* Wait for netback's interface: its backend may not have probed yet (DEVICES.md E.1). */
static int vif_wait(const char *ifname, char **err_r)
{
        for (unsigned waited = 0;; waited += POLL_MS) {
                int r;

                if (if_nametoindex(ifname) > 0)
                        return 0;
                r = -errno;
                if (r != -ENODEV)
                        return err_setf(err_r, r, "%s: %s", ifname, strerror(-r));
                if (waited >= VIF_WAIT_MS)
                        return err_setf(err_r, r, "%s: no such interface after %u ms", ifname,
                                        VIF_WAIT_MS);
                sleep_ms(POLL_MS);
        }
}

/* The bridge must be the host's: vif-bridge never creates one, nor do we. */
static int bridge_get(struct nl *nl, const char *bridge, struct link *br, char **err_r)
{
        int r = link_get(nl, bridge, br, err_r);

        if (r == -ENODEV)
                return err_setf(err_r, r,
                                "bridge %s does not exist on this host (xensup does not create "
                                "bridges)",
                                bridge);
        if (r < 0)
                return r;
        if (strcmp(br->kind, "bridge") != 0)
                return err_setf(err_r, -EINVAL, "%s is not a bridge", bridge);
        return 0;
}

/* Which of vif_online()'s changes were made, so vif_restore() undoes exactly those. */
struct vif_changes {
        bool down, renamed, mac, mtu, master;
};

/* vif-bridge's online steps, in its order; the last one, link up, leaves nothing to undo. */
static int vif_online(struct nl *nl, const struct builder_vif_host *v, const struct link *vif,
                      const struct link *br, unsigned mtu, struct vif_changes *done, char **err_r)
{
        const char *name = v->ifname;
        int r;

        /* The kernel refuses a rename of a running interface, and netback's starts down. */
        r = link_set_up(nl, vif->index, name, false, err_r);
        if (r < 0)
                return r;
        done->down = true;

        if (v->rename && strcmp(v->rename, vif->name) != 0) {
                r = link_set_name(nl, vif->index, name, v->rename, err_r);
                if (r == -EEXIST)
                        return err_setf(err_r, r, "cannot rename %s: %s is taken", name, v->rename);
                if (r < 0)
                        return r;
                done->renamed = true;
                name = v->rename;
        }

        r = link_set_mac(nl, vif->index, name, VIF_MAC, sizeof(VIF_MAC), err_r);
        if (r < 0)
                return r;
        done->mac = true;

        r = link_set_mtu(nl, vif->index, name, mtu, err_r);
        if (r < 0)
                return r;
        done->mtu = true;

        r = link_set_master(nl, vif->index, name, (unsigned)br->index, err_r);
        if (r < 0)
                return r;
        done->master = true;

        return link_set_up(nl, vif->index, name, true, err_r);
}

/* Undo what vif_online() did, newest first; best effort, the first failure is the news. */
static void vif_restore(struct nl *nl, const struct link *orig, const struct vif_changes *done)
{
        if (done->master)
                (void)link_set_master(nl, orig->index, orig->name, orig->master, NULL);
        if (done->mtu)
                (void)link_set_mtu(nl, orig->index, orig->name, orig->mtu, NULL);
        if (done->mac && orig->mac_len > 0)
                (void)link_set_mac(nl, orig->index, orig->name, orig->mac, orig->mac_len, NULL);
        if (done->renamed)
                (void)link_set_name(nl, orig->index, orig->name, orig->name, NULL);
        if (done->down && (orig->flags & IFF_UP))
                (void)link_set_up(nl, orig->index, orig->name, true, NULL);
}

/* Put netback's interface into the host's bridge, as vif-bridge online does (host-linux.h). */
int host_vif_plug(const struct builder_vif_host *v, unsigned *mtu_r, char **err_r)
{
        _cleanup_(nl_closep) struct nl nl = { 0 };
        struct vif_changes done = { 0 };
        struct link vif, br;
        unsigned mtu;
        int r;

        r = ifname_check("vif", v->ifname, err_r);
        if (r >= 0 && v->rename)
                r = ifname_check("vifname", v->rename, err_r);
        if (r >= 0)
                r = ifname_check("bridge", v->bridge, err_r);
        if (r < 0)
                return r;

        r = vif_wait(v->ifname, err_r);
        if (r < 0)
                return r;
        r = nl_open(&nl, err_r);
        if (r < 0)
                return r;
        r = link_get(&nl, v->ifname, &vif, err_r);
        if (r < 0)
                return r;
        r = bridge_get(&nl, v->bridge, &br, err_r);
        if (r < 0)
                return r;
        /* Refused before any change; the kernel's own EEXIST still covers a race. */
        if (v->rename && strcmp(v->rename, vif.name) != 0 && if_nametoindex(v->rename) > 0)
                return err_setf(err_r, -EEXIST, "cannot rename %s: %s is taken", v->ifname,
                                v->rename);

        mtu = v->mtu ? v->mtu : br.mtu;
        r = vif_online(&nl, v, &vif, &br, mtu, &done, err_r);
        if (r < 0) {
                vif_restore(&nl, &vif, &done);
                return r;
        }
        if (mtu_r)
                *mtu_r = mtu;
        return 0;
}

/* Take the interface down and out of its bridge, as vif-bridge offline does (host-linux.h). */
int host_vif_unplug(const char *ifname, char **err_r)
{
        _cleanup_(nl_closep) struct nl nl = { 0 };
        _cleanup_free_ char *err = NULL;
        struct link l;
        int r;

        r = ifname_check("vif", ifname, err_r);
        if (r < 0)
                return r;
        r = nl_open(&nl, err_r);
        if (r < 0)
                return r;
        r = link_get(&nl, ifname, &l, &err);
        if (r >= 0)
                r = link_set_up(&nl, l.index, ifname, false, &err);
        if (r >= 0)
                r = link_set_master(&nl, l.index, ifname, 0, &err);
        /* Gone (netback removed it with its backend): nothing left to take out. */
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return err_setf(err_r, r, "%s", err ? err : strerror(-r));
        return 0;
}
