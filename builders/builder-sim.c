/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * builder-sim.c — the sim backend: a client of xensup-sim's
 * hypervisor.socket (sim/hv-proto.h), and of its XenStore server for
 * xs_introduce_domain; the host side of devices (loop devices, bridges) is the
 * simulator's too. open() starts xensup-sim when none answers in the
 * directory, detached in its own session so it outlives the daemon, as Xen
 * outlives a killed toolstack.
 */
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <xenstore.h>

#include "builders/builder-internal.h"
#include "builders/builder-sim.h"
#include "builders/kernel-image.h"
#include "common/debug.h"
#include "common/error.h"

#define SIM_BINARY         "xensup-sim"
#define SIM_XS_SOCKET      "xenstored.socket"
#define SIM_LOG            "xensup-sim.log"
#define SIM_SPAWN_LOCK     "xensup-sim.spawn.lock"
#define SIM_START_TIMEOUT  (5 * 1000)  /* ms to wait for a spawned xensup-sim */
#define SIM_REPLY_TIMEOUT  (30 * 1000) /* ms to wait for one reply */
#define SIM_CORE_PAGE_SIZE 4096
/* Xen's max_mem is the target plus this, as builder-xen sets it (libxl's LIBXL_MAXMEM_CONSTANT). */
#define SIM_MAXMEM_SLACK_KIB 1024

struct sim_backend {
        char *dir;
        char *hv_path;
        char *xs_path;
        int fd;
        uint32_t seq;
        uint8_t *buf; /* one message */
        struct xs_handle *xs;
};

static const char *const op_names[_HV_OP_MAX] = {
        [HV_OP_STATS] = "stats",
        [HV_OP_CREATE] = "create",
        [HV_OP_UNPAUSE] = "unpause",
        [HV_OP_PAUSE] = "pause",
        [HV_OP_SHUTDOWN] = "shutdown",
        [HV_OP_DESTROY] = "destroy",
        [HV_OP_LIST] = "list",
        [HV_OP_SET_MEMORY] = "set_memory",
        [HV_OP_SET_VCPUS] = "set_vcpus",
        [HV_OP_DUMPCORE] = "dumpcore",
        [HV_OP_GUEST_ACTION] = "guest_action",
        [HV_OP_FAULT] = "fault",
        [HV_OP_SET_HANDLE] = "set_handle",
        [HV_OP_FIND_HANDLE] = "find_handle",
        [HV_OP_LOOP_ATTACH] = "loop_attach",
        [HV_OP_LOOP_RELEASE] = "loop_release",
        [HV_OP_VIF_PLUG] = "vif_plug",
        [HV_OP_VIF_UNPLUG] = "vif_unplug",
        [HV_OP_HOST_LIST] = "host_list",
        [HV_OP_DEVICE_FAULT] = "device_fault",
        [HV_OP_SAVE] = "save",
        [HV_OP_RESTORE] = "restore",
        [HV_OP_RESUME] = "resume",
        [HV_OP_PHYSINFO] = "physinfo",
        [HV_OP_VCPU_INFO] = "vcpu_info",
        [HV_OP_VCPU_PIN] = "vcpu_pin",
};

/* The wire's cpu maps and host strings are the builder's, so they are copied as they are. */
_Static_assert(sizeof(struct hv_cpumap) == sizeof(struct builder_cpumap) &&
                   HV_CPUS_MAX == BUILDER_CPUS_MAX,
               "cpu map layout");
_Static_assert(sizeof(((struct hv_rep_physinfo *)0)->version) ==
                       sizeof(((struct builder_host_info *)0)->version) &&
                   sizeof(((struct hv_rep_physinfo *)0)->capabilities) ==
                       sizeof(((struct builder_host_info *)0)->capabilities) &&
                   sizeof(((struct hv_rep_physinfo *)0)->virt_caps) ==
                       sizeof(((struct builder_host_info *)0)->virt_caps) &&
                   sizeof(((struct hv_rep_physinfo *)0)->scheduler) ==
                       sizeof(((struct builder_host_info *)0)->scheduler),
               "host strings");

static const char *const device_fault_names[_HV_DEVICE_FAULT_MAX] = {
        [HV_DEVICE_FAULT_CLEAR] = "clear",
        [HV_DEVICE_FAULT_NO_INITWAIT] = "backend-no-initwait",
        [HV_DEVICE_FAULT_NO_CONNECT] = "frontend-no-connect",
        [HV_DEVICE_FAULT_NO_CLOSE] = "frontend-no-close",
        [HV_DEVICE_FAULT_DETACH] = "guest-detach",
};

static const char *const action_names[_HV_GUEST_ACTION_MAX] = {
        [HV_GUEST_POWEROFF] = "poweroff",
        [HV_GUEST_REBOOT] = "reboot",
        [HV_GUEST_CRASH] = "crash",
        [HV_GUEST_WATCHDOG] = "watchdog",
        [HV_GUEST_SOFT_RESET] = "soft_reset",
        [HV_GUEST_HANG] = "hang",
        [HV_GUEST_OBEY] = "obey",
        [HV_GUEST_ZOMBIE] = "zombie",
        [HV_GUEST_HOSTILE] = "hostile",
        [HV_GUEST_NO_SUSPEND] = "no_suspend",
};

static int lookup(const char *const *table, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (table[i] && s && strcmp(table[i], s) == 0)
                        return (int)i;
        return -1;
}

int builder_sim_op_from_string(const char *s)
{
        return lookup(op_names, ELEMENTSOF(op_names), s);
}

const char *builder_sim_op_to_string(enum hv_op op)
{
        return TABLE_LOOKUP(op_names, op);
}

int builder_sim_guest_action_from_string(const char *s)
{
        return lookup(action_names, ELEMENTSOF(action_names), s);
}

const char *builder_sim_guest_action_to_string(enum hv_guest_action a)
{
        return TABLE_LOOKUP(action_names, a);
}

int builder_sim_device_fault_from_string(const char *s)
{
        return lookup(device_fault_names, ELEMENTSOF(device_fault_names), s);
}

const char *builder_sim_device_fault_to_string(enum hv_device_fault k)
{
        return TABLE_LOOKUP(device_fault_names, k);
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Connect a SOCK_SEQPACKET (hypervisor) or SOCK_STREAM (xenstored) socket; an fd or -errno. */
static int sim_connect(const char *path, int type)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static bool sim_answers(const char *path, int type)
{
        _cleanup_close_ int fd = sim_connect(path, type);

        return fd >= 0;
}

static void sim_disconnect(struct sim_backend *sb)
{
        if (sb->fd >= 0)
                close(sb->fd);
        sb->fd = -1;
}

/* Send the whole request; one reconnect when the old connection turns out dead. */
static int sim_send(struct sim_backend *sb, const struct hv_header *h, const void *req)
{
        struct iovec iov[2] = {
                { .iov_base = (void *)h, .iov_len = sizeof(*h) },
                { .iov_base = (void *)req, .iov_len = h->len },
        };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = h->len ? 2 : 1 };

        for (int attempt = 0; attempt < 2; attempt++) {
                if (sb->fd < 0) {
                        sb->fd = sim_connect(sb->hv_path, SOCK_SEQPACKET);
                        if (sb->fd < 0)
                                return sb->fd;
                }
                if (sendmsg(sb->fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN)
                        return -errno;
                /* Nothing was processed: xensup-sim restarted since the last call. */
                sim_disconnect(sb);
        }
        return -ECONNRESET;
}

/* A reply broke the protocol: drop the connection, so nothing late is read as the next reply. */
static int sim_bad_reply(struct sim_backend *sb, const char *what, char **err_r)
{
        sim_disconnect(sb);
        return err_setf(err_r, -EBADMSG, "xensup-sim: malformed reply to %s", what);
}

/*
 * One request, one checked reply. rep receives the body (rep_max bytes at
 * most); *rep_len_r its length. A reply that breaks the protocol closes the
 * connection, so a late reply can never be taken for the next one.
 */
static int sim_request(struct sim_backend *sb, uint16_t op, const void *req, void *rep,
                       size_t rep_max, size_t *rep_len_r, char **err_r)
{
        struct hv_header h = {
                .magic = HV_PROTO_MAGIC,
                .version = HV_PROTO_VERSION,
                .op = op,
                .seq = ++sb->seq,
                .len = (uint32_t)hv_req_size(op),
        };
        struct hv_header rh;
        struct pollfd pfd;
        long fixed = hv_rep_size(op);
        ssize_t n;
        int r;

        r = sim_send(sb, &h, req);
        if (r < 0)
                return err_setf(err_r, r, "xensup-sim at %s: cannot send %s: %s", sb->hv_path,
                                op_names[op], strerror(-r));
        pfd = (struct pollfd){ .fd = sb->fd, .events = POLLIN };
        do
                r = poll(&pfd, 1, SIM_REPLY_TIMEOUT);
        while (r < 0 && errno == EINTR);
        if (r <= 0) {
                r = r == 0 ? -ETIMEDOUT : -errno;
                sim_disconnect(sb);
                return err_setf(err_r, r, "xensup-sim: no reply to %s: %s", op_names[op],
                                strerror(-r));
        }
        n = recv(sb->fd, sb->buf, HV_MSG_MAX, MSG_TRUNC);
        if (n <= 0) {
                r = n == 0 ? -ECONNRESET : -errno;
                sim_disconnect(sb);
                return err_setf(err_r, r, "xensup-sim: %s: connection lost: %s", op_names[op],
                                strerror(-r));
        }
        if ((size_t)n < sizeof(rh) || n > HV_MSG_MAX)
                return sim_bad_reply(sb, op_names[op], err_r);
        memcpy(&rh, sb->buf, sizeof(rh));
        if (rh.magic != HV_PROTO_MAGIC || rh.version != HV_PROTO_VERSION || rh.op != op ||
            rh.seq != h.seq || rh.len != (size_t)n - sizeof(rh) || rh.result > 0 ||
            rh.result < -4095)
                return sim_bad_reply(sb, op_names[op], err_r);
        if (rh.result < 0) {
                if (rh.len != 0)
                        return sim_bad_reply(sb, op_names[op], err_r);
                return err_setf(err_r, rh.result, "xensup-sim: %s failed: %s", op_names[op],
                                strerror(-rh.result));
        }
        if (hv_rep_has_entries(op) ? rh.len < (size_t)fixed : rh.len != (size_t)fixed)
                return sim_bad_reply(sb, op_names[op], err_r);
        if (rh.len > rep_max)
                return sim_bad_reply(sb, op_names[op], err_r);
        if (rh.len)
                memcpy(rep, sb->buf + sizeof(rh), rh.len);
        if (rep_len_r)
                *rep_len_r = rh.len;
        return 0;
}

/* sim_request(), and at debug level each call with its outcome and time (common/debug.h). */
static int sim_call(struct sim_backend *sb, uint16_t op, const void *req, void *rep, size_t rep_max,
                    size_t *rep_len_r, char **err_r)
{
        bool debug = debug_enabled();
        uint64_t start = debug ? now_ms() : 0;
        int r = sim_request(sb, op, req, rep, rep_max, rep_len_r, err_r);

        if (debug)
                debug_printf("hypervisor call %s (seq %" PRIu32 "): %s (%" PRIu64 " ms)",
                             op_names[op], sb->seq, r < 0 ? strerror(-r) : "ok", now_ms() - start);
        return r;
}

static struct sim_backend *sim_of(struct builder *b)
{
        return b->ops == &builder_sim_ops ? b->data : NULL;
}

/* Build a path under dir; NULL on allocation failure. */
static char *sim_path(const char *dir, const char *name)
{
        char *p = NULL;

        return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* mkdir -p; the last component private, as it holds the sockets. */
static int mkdir_parents(const char *dir)
{
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* xensup-sim beside this binary (the build tree), else in the install's libexec; NULL: PATH. */
static char *sim_binary_path(void)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash, *p;

        if (n > 0) {
                self[n] = 0;
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        /* In the build tree xensup-sim sits beside xensupd. */
                        p = sim_path(self, SIM_BINARY);
                        if (!p || access(p, X_OK) == 0)
                                return p;
                        free(p);
                }
        }
        /* Installed, it lives in the package's libexec directory, off PATH. */
        p = sim_path(XENSUP_LIBEXECDIR, SIM_BINARY);
        if (p && access(p, X_OK) < 0) {
                free(p);
                return NULL;
        }
        return p;
}

static void spawn_attrp(posix_spawnattr_t **a)
{
        if (*a)
                posix_spawnattr_destroy(*a);
}

static void spawn_actionsp(posix_spawn_file_actions_t **fa)
{
        if (*fa)
                posix_spawn_file_actions_destroy(*fa);
}

/*
 * Start `xensup-sim --dir DIR` through `setsid --fork`: a session of its own,
 * and the child of nobody here once setsid (reaped at once) has exited, so it
 * outlives this process and never lingers as its zombie. posix_spawn, not
 * fork: nothing runs between fork and exec in a copy of the daemon. Its
 * output goes to DIR/xensup-sim.log.
 */
static int sim_spawn(const struct sim_backend *sb, char **err_r)
{
        _cleanup_free_ char *beside = sim_binary_path();
        _cleanup_free_ char *log = sim_path(sb->dir, SIM_LOG);
        char *argv[] = { (char *)"setsid", (char *)"--fork", beside ?: (char *)SIM_BINARY,
                         (char *)"--dir",  sb->dir,          NULL };
        posix_spawnattr_t attr_storage;
        posix_spawn_file_actions_t fa_storage;
        /* Set once initialised, so only what was initialised is destroyed. */
        _cleanup_(spawn_attrp) posix_spawnattr_t *attr = NULL;
        _cleanup_(spawn_actionsp) posix_spawn_file_actions_t *fa = NULL;
        sigset_t none, all;
        int r, status;
        pid_t pid;

        if (!log)
                return err_setf(err_r, -ENOMEM, "out of memory");
        r = posix_spawnattr_init(&attr_storage);
        if (r != 0)
                return err_setf(err_r, -r, "cannot start %s: %s", SIM_BINARY, strerror(r));
        attr = &attr_storage;
        r = posix_spawn_file_actions_init(&fa_storage);
        if (r != 0)
                return err_setf(err_r, -r, "cannot start %s: %s", SIM_BINARY, strerror(r));
        fa = &fa_storage;
        /* The daemon blocks signals for sd-event: the simulator must not inherit that. */
        sigemptyset(&none);
        sigfillset(&all);
        r = posix_spawnattr_setsigmask(attr, &none);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(attr, &all);
        if (r == 0)
                r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        if (r == 0)
                r = posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_addopen(fa, STDOUT_FILENO, log,
                                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(fa, STDOUT_FILENO, STDERR_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_addclosefrom_np(fa, 3);
        if (r == 0) {
                r = posix_spawn(&pid, "/usr/bin/setsid", fa, attr, argv, environ);
                if (r == ENOENT)
                        r = posix_spawnp(&pid, "setsid", fa, attr, argv, environ);
        }
        if (r != 0)
                return err_setf(err_r, -r, "cannot start %s: %s", SIM_BINARY, strerror(r));
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return 0;
}

static int sim_wait_ready(const struct sim_backend *sb, int timeout_ms);

/*
 * Spawn unless another opener is already doing it: whoever holds
 * DIR/xensup-sim.spawn.lock checks, spawns and waits; the others wait for
 * the lock and then find the simulator answering. Without this, two
 * simulators could start at once and unlink each other's sockets.
 */
static int sim_start_once(const struct sim_backend *sb, char **err_r)
{
        _cleanup_free_ char *lock = sim_path(sb->dir, SIM_SPAWN_LOCK);
        _cleanup_close_ int fd = -1;
        uint64_t deadline = now_ms() + SIM_START_TIMEOUT;
        int r;

        if (!lock)
                return err_setf(err_r, -ENOMEM, "out of memory");
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_setf(err_r, -errno, "sim: cannot open %s: %s", lock, strerror(errno));
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return err_setf(err_r, -errno, "sim: cannot lock %s: %s", lock,
                                        strerror(errno));
                if (now_ms() >= deadline)
                        return err_setf(err_r, -ETIMEDOUT, "sim: %s held for %d s", lock,
                                        SIM_START_TIMEOUT / 1000);
                (void)poll(NULL, 0, 10);
        }
        if (!sim_answers(sb->hv_path, SOCK_SEQPACKET) || !sim_answers(sb->xs_path, SOCK_STREAM)) {
                r = sim_spawn(sb, err_r);
                if (r < 0)
                        return r;
        }
        r = sim_wait_ready(sb, SIM_START_TIMEOUT);
        if (r < 0)
                return err_setf(err_r, r,
                                "sim: xensup-sim did not answer in %s within %d s (see %s/%s)",
                                sb->dir, SIM_START_TIMEOUT / 1000, sb->dir, SIM_LOG);
        return 0;
}

/* Wait until both of the simulator's sockets answer. */
static int sim_wait_ready(const struct sim_backend *sb, int timeout_ms)
{
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        for (;;) {
                if (sim_answers(sb->hv_path, SOCK_SEQPACKET) &&
                    sim_answers(sb->xs_path, SOCK_STREAM))
                        return 0;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                (void)poll(NULL, 0, 10);
        }
}

/*
 * libxenstore finds its server only through $XENSTORED_PATH: point it at
 * the simulator's for the one xs_open, then put the environment back.
 */
static struct xs_handle *sim_xs_open(const struct sim_backend *sb)
{
        _cleanup_free_ char *saved = NULL;
        const char *old = getenv("XENSTORED_PATH");
        struct xs_handle *h;
        int e;

        if (old) {
                saved = strdup(old);
                if (!saved)
                        return NULL;
        }
        if (setenv("XENSTORED_PATH", sb->xs_path, 1) < 0)
                return NULL;
        h = xs_open(XS_OPEN_SOCKETONLY);
        e = errno;
        if (saved)
                (void)setenv("XENSTORED_PATH", saved, 1);
        else
                (void)unsetenv("XENSTORED_PATH");
        errno = e;
        return h;
}

static void sim_backend_free(struct sim_backend *sb)
{
        if (!sb)
                return;
        sim_disconnect(sb);
        if (sb->xs)
                xs_close(sb->xs);
        free(sb->dir);
        free(sb->hv_path);
        free(sb->xs_path);
        free(sb->buf);
        free(sb);
}

static void sim_backend_freep(struct sim_backend **sb)
{
        sim_backend_free(*sb);
}

static int sim_open(struct builder *b, const struct builder_options *opts, char **err_r)
{
        _cleanup_(sim_backend_freep) struct sim_backend *sb = NULL;
        struct hv_rep_stats st;
        int r;

        if (!opts->sim_dir || !*opts->sim_dir)
                return err_setf(err_r, -EINVAL, "sim: no simulator directory given");
        sb = calloc(1, sizeof(*sb));
        if (!sb)
                return err_setf(err_r, -ENOMEM, "out of memory");
        sb->fd = -1;
        sb->dir = strdup(opts->sim_dir);
        sb->hv_path = sim_path(opts->sim_dir, HV_SOCKET_NAME);
        sb->xs_path = sim_path(opts->sim_dir, SIM_XS_SOCKET);
        sb->buf = malloc(HV_MSG_MAX);
        if (!sb->dir || !sb->hv_path || !sb->xs_path || !sb->buf)
                return err_setf(err_r, -ENOMEM, "out of memory");
        if (strlen(sb->hv_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
            strlen(sb->xs_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return err_setf(err_r, -ENAMETOOLONG, "sim: directory name too long: %s", sb->dir);

        if (!sim_answers(sb->hv_path, SOCK_SEQPACKET) || !sim_answers(sb->xs_path, SOCK_STREAM)) {
                r = mkdir_parents(sb->dir);
                if (r < 0)
                        return err_setf(err_r, r, "sim: cannot create %s: %s", sb->dir,
                                        strerror(-r));
                r = sim_start_once(sb, err_r);
                if (r < 0)
                        return r;
        }
        r = sim_call(sb, HV_OP_STATS, NULL, &st, sizeof(st), NULL, err_r);
        if (r < 0)
                return r;
        sb->xs = sim_xs_open(sb);
        if (!sb->xs)
                return err_setf(err_r, -errno ?: -EIO, "sim: cannot open XenStore at %s: %s",
                                sb->xs_path, strerror(errno));
        b->data = TAKE_PTR(sb);
        return 0;
}

static void sim_close(struct builder *b)
{
        sim_backend_free(b->data);
        b->data = NULL;
}

/* What builder-xen gives xc_domain_setmaxmem: the target plus libxl's slack. */
static uint64_t sim_maxmem_kib(const struct domain_config *cfg)
{
        return cfg->memory_mib * 1024 + SIM_MAXMEM_SLACK_KIB;
}

static uint32_t sim_maxvcpus(const struct domain_config *cfg)
{
        return cfg->maxvcpus > cfg->vcpus ? cfg->maxvcpus : cfg->vcpus;
}

/* HVM is refused as create refuses it, before anything is asked. */
static int sim_type_check(const struct domain_config *cfg, char **err_r)
{
        if (cfg->type == DOMAIN_TYPE_HVM)
                return err_setf(
                    err_r, -EOPNOTSUPP,
                    "%s: type \"hvm\" needs a device model, which xensup does not run yet",
                    cfg->name);
        return 0;
}

/* CREATE's or RESTORE's reply into out; a domid no new domain can have is a broken reply. */
static int sim_created(struct sim_backend *sb, const struct domain_config *cfg, const char *step,
                       const struct hv_rep_create *rep, struct builder_domain *out, char **err_r)
{
        if (rep->domid == 0 || rep->domid >= DOMID_FIRST_RESERVED) {
                sim_disconnect(sb);
                return err_setf(err_r, -EBADMSG, "%s: %s: xensup-sim returned domid %u", cfg->name,
                                step, rep->domid);
        }
        *out = (struct builder_domain){
                .domid = rep->domid,
                .store_port = rep->store_port,
                .store_mfn = rep->store_mfn,
                .console_port = rep->console_port,
                .console_mfn = rep->console_mfn,
        };
        return 0;
}

/*
 * The simulator boots no image, and inflates none: its loadable image of a kernel is the file as
 * it is, written for the kernel cache when asked, so that the daemon's side of the cache runs
 * here as on Xen. builder_create() checked that the files are open.
 */
static int sim_kernel_load(const struct domain_config *cfg, const struct builder_images *img,
                           bool *filled_r, char **err_r)
{
        struct stat st;
        off_t at = 0;

        if (img->kernel_cached_fd >= 0) {
                if (fstat(img->kernel_cached_fd, &st) < 0 || st.st_size <= 0)
                        return err_setf(err_r, -EBADF, "load kernel %s from the kernel cache: %s",
                                        cfg->kernel, "the image is empty");
                return 0;
        }
        if (img->kernel_fill_fd < 0 || img->kernel_fd < 0 || fstat(img->kernel_fd, &st) < 0)
                return 0;
        while (at < st.st_size) {
                ssize_t k =
                    sendfile(img->kernel_fill_fd, img->kernel_fd, &at, (size_t)(st.st_size - at));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        /* Not cached, as a kernel the Xen backend cannot cut down. */
                        kernel_image_discard(img->kernel_fill_fd);
                        return 0;
                }
        }
        *filled_r = true;
        return 0;
}

static int sim_create(struct builder *b, const struct domain_config *cfg,
                      const struct builder_images *img, struct builder_domain *out, char **err_r)
{
        struct sim_backend *sb = b->data;
        struct hv_req_create req = { 0 };
        struct hv_rep_create rep;
        bool filled = false;
        int r;

        r = sim_type_check(cfg, err_r);
        if (r >= 0)
                r = sim_kernel_load(cfg, img, &filled, err_r);
        if (r < 0)
                return r;
        memcpy(req.uuid, cfg->uuid, sizeof(req.uuid));
        snprintf(req.name, sizeof(req.name), "%s", cfg->name);
        req.type = (uint32_t)cfg->type;
        req.ssidref = cfg->ssidref;
        req.memory_kib = cfg->memory_mib * 1024;
        req.maxmem_kib = sim_maxmem_kib(cfg);
        req.vcpus = cfg->vcpus;
        req.maxvcpus = sim_maxvcpus(cfg);
        if (cfg->sim.present) {
                req.script.present = 1;
                req.script.exit =
                    (uint8_t)(cfg->sim.exit >= 0 && cfg->sim.exit < _SHUTDOWN_REASON_MAX
                                  ? cfg->sim.exit
                                  : SHUTDOWN_REASON_POWEROFF);
                req.script.on_shutdown = (uint8_t)cfg->sim.on_shutdown;
                req.script.run_ms = cfg->sim.run_seconds > UINT32_MAX / 1000
                                        ? UINT32_MAX
                                        : cfg->sim.run_seconds * 1000;
        }
        /* A real image build takes seconds: the script says how many this one does. */
        for (unsigned left = cfg->sim.build_seconds; left > 0;)
                left = sleep(left);
        r = sim_call(sb, HV_OP_CREATE, &req, &rep, sizeof(rep), NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "%s: create domain: %s", cfg->name, strerror(-r));
        r = sim_created(sb, cfg, "create domain", &rep, out, err_r);
        out->kernel_filled = r >= 0 && filled;
        return r;
}

static int sim_introduce(struct builder *b, const struct builder_domain *d, char **err_r)
{
        struct sim_backend *sb = b->data;

        for (int attempt = 0; attempt < 2; attempt++) {
                if (!sb->xs) {
                        sb->xs = sim_xs_open(sb);
                        if (!sb->xs)
                                break;
                }
                if (xs_introduce_domain(sb->xs, d->domid, d->store_mfn, d->store_port))
                        return 0;
                if (errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN && errno != EIO)
                        break;
                /* The XenStore connection died (xensup-sim restarted): once more on a new one. */
                xs_close(sb->xs);
                sb->xs = NULL;
        }
        return err_setf(err_r, errno ? -errno : -EIO, "domid %u: xs_introduce_domain: %s", d->domid,
                        strerror(errno ? errno : EIO));
}

/* A request about one domain; rep receives the reply body, if the op has one. */
static int sim_dom_call_rep(struct builder *b, uint16_t op, uint32_t domid, uint32_t value,
                            uint64_t value64, void *rep, size_t rep_max, char **err_r)
{
        struct hv_req_dom req = { .domid = domid, .value = value, .value64 = value64 };
        int r;

        r = sim_call(b->data, op, &req, rep, rep_max, NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "domid %u: %s: %s", domid, op_names[op], strerror(-r));
        return 0;
}

static int sim_dom_call(struct builder *b, uint16_t op, uint32_t domid, uint32_t value,
                        uint64_t value64, char **err_r)
{
        return sim_dom_call_rep(b, op, domid, value, value64, NULL, 0, err_r);
}

static int sim_unpause(struct builder *b, uint32_t domid, char **err_r)
{
        return sim_dom_call(b, HV_OP_UNPAUSE, domid, 0, 0, err_r);
}

static int sim_pause(struct builder *b, uint32_t domid, char **err_r)
{
        return sim_dom_call(b, HV_OP_PAUSE, domid, 0, 0, err_r);
}

static int sim_shutdown(struct builder *b, uint32_t domid, enum shutdown_reason why, char **err_r)
{
        if (why < 0 || why >= _SHUTDOWN_REASON_MAX)
                return err_setf(err_r, -EINVAL, "domid %u: shutdown: bad reason %d", domid, why);
        return sim_dom_call(b, HV_OP_SHUTDOWN, domid, (uint32_t)why, 0, err_r);
}

static int sim_destroy(struct builder *b, uint32_t domid, char **err_r)
{
        return sim_dom_call(b, HV_OP_DESTROY, domid, 0, 0, err_r);
}

/* XEN_DOMCTL_max_mem with libxl's slack above kib, the memory what names ("memory target"). */
static int sim_max_mem(struct builder *b, uint32_t domid, const char *what, uint64_t kib,
                       char **err_r)
{
        if (kib == 0 || kib > UINT64_MAX / 2)
                return err_setf(err_r, -EINVAL, "%s %llu KiB out of range", what,
                                (unsigned long long)kib);
        return sim_dom_call(b, HV_OP_SET_MEMORY, domid, 0, kib + SIM_MAXMEM_SLACK_KIB, err_r);
}

static int sim_set_memory(struct builder *b, uint32_t domid, uint64_t target_kib, char **err_r)
{
        return sim_max_mem(b, domid, "memory target", target_kib, err_r);
}

/* The same hypercall as a target's: only the guest's balloon driver tells the two apart. */
static int sim_set_max_memory(struct builder *b, uint32_t domid, uint64_t max_kib, char **err_r)
{
        return sim_max_mem(b, domid, "memory maximum", max_kib, err_r);
}

static int sim_set_vcpus(struct builder *b, uint32_t domid, unsigned n, char **err_r)
{
        return sim_dom_call(b, HV_OP_SET_VCPUS, domid, n, 0, err_r);
}

static int sim_info_from_wire(const struct hv_dominfo *w, struct builder_domain_info *i)
{
        if (w->domid >= DOMID_FIRST_RESERVED || w->max_vcpu_id >= VCPUS_MAX ||
            w->online_vcpus > w->max_vcpu_id + 1)
                return -EBADMSG;
        if ((w->flags & HV_DOMINF_SHUTDOWN) && w->shutdown_reason >= _SHUTDOWN_REASON_MAX)
                return -EBADMSG;
        *i = (struct builder_domain_info){
                .domid = w->domid,
                .dying = w->flags & HV_DOMINF_DYING,
                .shutdown = w->flags & HV_DOMINF_SHUTDOWN,
                .paused = w->flags & HV_DOMINF_PAUSED,
                .running = w->flags & HV_DOMINF_RUNNING,
                .reason = (w->flags & HV_DOMINF_SHUTDOWN) ? (enum shutdown_reason)w->shutdown_reason
                                                          : SHUTDOWN_REASON_NONE,
                .mem_kib = w->mem_kib,
                .max_mem_kib = w->max_mem_kib,
                .max_vcpu_id = w->max_vcpu_id,
                .online_vcpus = w->online_vcpus,
                .cpu_time_ns = w->cpu_time_ns,
        };
        memcpy(i->handle, w->handle, sizeof(i->handle));
        return 0;
}

/* The whole list in batches of HV_LIST_BATCH, as xc_domain_getinfolist is used. */
static int sim_list(struct builder *b, struct builder_domain_info **infos_r, size_t *n_r,
                    char **err_r)
{
        struct sim_backend *sb = b->data;
        _cleanup_free_ struct builder_domain_info *all = NULL;
        _cleanup_free_ uint8_t *rep = NULL;
        struct hv_req_list req = { .first_domid = 0, .max = HV_LIST_BATCH };
        size_t n = 0, len,
               rep_max = sizeof(struct hv_rep_list) + HV_LIST_BATCH * sizeof(struct hv_dominfo);
        int r;

        rep = malloc(rep_max);
        if (!rep)
                return err_setf(err_r, -ENOMEM, "out of memory");
        for (;;) {
                struct hv_rep_list head;
                const struct hv_dominfo *w;
                struct builder_domain_info *grown;

                r = sim_call(sb, HV_OP_LIST, &req, rep, rep_max, &len, err_r);
                if (r < 0)
                        return err_setf(err_r, r, "list domains: %s", strerror(-r));
                memcpy(&head, rep, sizeof(head));
                if (head.n > req.max || len != sizeof(head) + head.n * sizeof(*w))
                        return sim_bad_reply(sb, "list", err_r);
                if (head.n == 0)
                        break;
                grown = reallocarray(all, n + head.n, sizeof(*all));
                if (!grown)
                        return err_setf(err_r, -ENOMEM, "out of memory");
                all = grown;
                w = (const struct hv_dominfo *)(rep + sizeof(head));
                for (uint32_t i = 0; i < head.n; i++, n++) {
                        /* Strictly increasing from first_domid: a bad reply cannot loop us. */
                        if (w[i].domid < req.first_domid ||
                            (n > 0 && w[i].domid <= all[n - 1].domid))
                                return sim_bad_reply(sb, "list", err_r);
                        if (sim_info_from_wire(&w[i], &all[n]) < 0)
                                return sim_bad_reply(sb, "list", err_r);
                }
                if (head.n < req.max || all[n - 1].domid + 1 >= DOMID_FIRST_RESERVED)
                        break;
                req.first_domid = all[n - 1].domid + 1;
        }
        *infos_r = TAKE_PTR(all);
        *n_r = n;
        return 0;
}

static int sim_find_live(struct builder *b, const uint8_t uuid[16], uint32_t *domid_r, char **err_r)
{
        struct hv_req_handle req = { 0 };
        struct hv_rep_find rep;
        int r;

        memcpy(req.handle, uuid, sizeof(req.handle));
        r = sim_call(b->data, HV_OP_FIND_HANDLE, &req, &rep, sizeof(rep), NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", op_names[HV_OP_FIND_HANDLE], strerror(-r));
        *domid_r = rep.domid;
        return rep.domid != 0;
}

static int sim_set_handle(struct builder *b, uint32_t domid, const uint8_t uuid[16], char **err_r)
{
        struct hv_req_handle req = { .domid = domid };
        int r;

        memcpy(req.handle, uuid, sizeof(req.handle));
        r = sim_call(b->data, HV_OP_SET_HANDLE, &req, NULL, 0, NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "domid %u: %s: %s", domid, op_names[HV_OP_SET_HANDLE],
                                strerror(-r));
        return 0;
}

/* A fake core: a text header a test can read, then one page of memory "contents". */
static int sim_dumpcore(struct builder *b, uint32_t domid, int fd, char **err_r)
{
        struct hv_rep_dumpcore core;
        _cleanup_fclose_ FILE *f = NULL;
        char uuid[37];
        int copy, r;

        r = sim_dom_call_rep(b, HV_OP_DUMPCORE, domid, 0, 0, &core, sizeof(core), err_r);
        if (r < 0)
                return r;
        core.name[sizeof(core.name) - 1] = 0;
        for (char *c = core.name; *c; c++)
                if (*c < 0x21 || *c > 0x7e)
                        *c = '?';
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        f = copy < 0 ? NULL : fdopen(copy, "w");
        if (!f) {
                r = -errno;
                if (copy >= 0)
                        close(copy);
                return err_setf(err_r, r, "domid %u: dumpcore: %s", domid, strerror(-r));
        }
        fprintf(f,
                "%s\ndomid %u\nuuid %s\nname %s\nmemory_kib %llu\nvcpus %u\ncpu_time_ns %llu\n"
                "shutdown_reason %s\n\n",
                BUILDER_SIM_CORE_MAGIC, core.domid, uuid_to_string(core.handle, uuid), core.name,
                (unsigned long long)core.mem_kib, core.online_vcpus,
                (unsigned long long)core.cpu_time_ns,
                core.shutdown && core.shutdown_reason < _SHUTDOWN_REASON_MAX
                    ? shutdown_reason_to_string((enum shutdown_reason)core.shutdown_reason)
                    : "none");
        for (unsigned i = 0; i < SIM_CORE_PAGE_SIZE; i++)
                fputc((int)((i * 131u + core.domid) & 0xff), f);
        if (fflush(f) != 0 || ferror(f)) {
                r = -errno ?: -EIO;
                return err_setf(err_r, r, "domid %u: dumpcore: cannot write the core: %s", domid,
                                strerror(-r));
        }
        return 0;
}

/* ---- save, restore, resume: the stream (builder-sim.h) ---- */

#define SIM_STREAM_MARKER    UINT64_MAX
#define SIM_STREAM_VERSION   1
#define SIM_STREAM_XENF      0x58454E46u /* libxc's id: a real Xen's stream */
#define SIM_PAGE_SHIFT       12
#define SIM_PAGE_SIZE        (1u << SIM_PAGE_SHIFT)
#define SIM_REC_END          0x00000000u
#define SIM_REC_PAGE_DATA    0x00000001u
#define SIM_REC_STATIC_END   0x00000010u
#define SIM_REC_STATE        0x00010001u
#define SIM_STATE_PIECE      24  /* bytes of the state per record: a reader joins pieces */
#define SIM_PAGES_MIN        16  /* pages in a stream, whatever the guest's size */
#define SIM_PAGES_MAX        256 /* 1 MiB of page data at most */
#define SIM_PAGES_PER_RECORD 32
#define SIM_PAGE_RECORD_MAX  (8 + SIM_PAGES_PER_RECORD * (8 + SIM_PAGE_SIZE))
#define SIM_DOMAIN_TYPE_PV   1 /* libxc's DHDR_TYPE_X86_PV */
#define SIM_DOMAIN_TYPE_PVH  2 /* DHDR_TYPE_X86_HVM: a PVH guest is an HVM container */
#define SIM_OPT_BIG_ENDIAN   1u

_Static_assert(sizeof(struct hv_guest_state) % 8 == 0, "state pieces tile it");

struct sim_image_header {
        uint64_t marker;
        uint32_t id;
        uint32_t version;
        uint16_t options;
        uint16_t reserved1;
        uint32_t reserved2;
};

struct sim_domain_header {
        uint32_t type;
        uint16_t page_shift;
        uint16_t reserved;
        uint32_t state_version;
        uint32_t state_size;
};

struct sim_record_header {
        uint32_t type;
        uint32_t length;
};

_Static_assert(sizeof(struct sim_image_header) + sizeof(struct sim_domain_header) ==
                   BUILDER_SIM_STREAM_HEADERS,
               "header layout");

/* How many pages a stream of a guest with mem_kib holds, and the pfn of page i. */
static unsigned sim_stream_pages(uint64_t mem_kib)
{
        uint64_t n = mem_kib / 1024;

        return n < SIM_PAGES_MIN ? SIM_PAGES_MIN : n > SIM_PAGES_MAX ? SIM_PAGES_MAX : (unsigned)n;
}

static uint64_t sim_stream_pfn(uint64_t mem_kib, unsigned i)
{
        uint64_t stride = (mem_kib >> (SIM_PAGE_SHIFT - 10)) / sim_stream_pages(mem_kib);

        return (uint64_t)i * (stride ? stride : 1);
}

/* splitmix64: the fake contents of a page, the same for the same seed and pfn. */
static void sim_page_fill(uint64_t seed, uint64_t pfn, uint8_t *page)
{
        uint64_t x = seed ^ (pfn * 0xd6e8feb86659fd93ull);

        for (unsigned i = 0; i < SIM_PAGE_SIZE; i += 8) {
                uint64_t z = (x += 0x9e3779b97f4a7c15ull);

                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
                z ^= z >> 31;
                memcpy(page + i, &z, 8);
        }
}

static uint32_t sim_stream_type(uint32_t type)
{
        return type == DOMAIN_TYPE_PVH ? SIM_DOMAIN_TYPE_PVH : SIM_DOMAIN_TYPE_PV;
}

static bool host_big_endian(void)
{
        return htobe16(1) == 1;
}

/* Where a stream is written, and how far it got. */
struct sim_out {
        int fd;
        uint64_t pos;
};

static int sim_out_write(struct sim_out *o, const void *buf, size_t len, char **err_r)
{
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = write(o->fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int e = n < 0 ? errno : EIO;

                        return err_setf(err_r, -e, "cannot write the stream at byte %llu: %s",
                                        (unsigned long long)o->pos, strerror(e));
                }
                p += n;
                len -= (size_t)n;
                o->pos += (uint64_t)n;
        }
        return 0;
}

/* One record: its header, body and padding. */
static int sim_out_record(struct sim_out *o, uint32_t type, const void *body, size_t len,
                          char **err_r)
{
        static const uint8_t zeros[8];
        struct sim_record_header h = { .type = type, .length = (uint32_t)len };
        int r;

        r = sim_out_write(o, &h, sizeof(h), err_r);
        if (r >= 0 && len)
                r = sim_out_write(o, body, len, err_r);
        if (r >= 0 && len % 8)
                r = sim_out_write(o, zeros, 8 - len % 8, err_r);
        return r;
}

/* The whole stream of a guest's saved state into fd. */
static int sim_stream_write(int fd, const struct hv_guest_state *st, char **err_r)
{
        struct sim_image_header ih = {
                .marker = htobe64(SIM_STREAM_MARKER),
                .id = htobe32(BUILDER_SIM_STREAM_ID),
                .version = htobe32(SIM_STREAM_VERSION),
                .options = htobe16(host_big_endian() ? SIM_OPT_BIG_ENDIAN : 0),
        };
        struct sim_domain_header dh = {
                .type = sim_stream_type(st->type),
                .page_shift = SIM_PAGE_SHIFT,
                .state_version = HV_GUEST_STATE_VERSION,
                .state_size = sizeof(*st),
        };
        _cleanup_free_ uint8_t *rec = malloc(SIM_PAGE_RECORD_MAX);
        struct sim_out o = { .fd = fd };
        unsigned pages = sim_stream_pages(st->mem_kib);
        int r;

        if (!rec)
                return err_setf(err_r, -ENOMEM, "out of memory");
        r = sim_out_write(&o, &ih, sizeof(ih), err_r);
        if (r >= 0)
                r = sim_out_write(&o, &dh, sizeof(dh), err_r);
        for (size_t off = 0; r >= 0 && off < sizeof(*st); off += SIM_STATE_PIECE) {
                size_t n =
                    sizeof(*st) - off < SIM_STATE_PIECE ? sizeof(*st) - off : SIM_STATE_PIECE;
                uint32_t head[2] = { (uint32_t)off, 0 };

                memcpy(rec, head, sizeof(head));
                memcpy(rec + sizeof(head), (const uint8_t *)st + off, n);
                r = sim_out_record(&o, SIM_REC_STATE, rec, sizeof(head) + n, err_r);
        }
        if (r >= 0)
                r = sim_out_record(&o, SIM_REC_STATIC_END, NULL, 0, err_r);
        for (unsigned i = 0; r >= 0 && i < pages; i += SIM_PAGES_PER_RECORD) {
                uint32_t count =
                    pages - i < SIM_PAGES_PER_RECORD ? pages - i : SIM_PAGES_PER_RECORD;
                uint32_t head[2] = { count, 0 };
                uint8_t *data = rec + sizeof(head) + count * 8;

                memcpy(rec, head, sizeof(head));
                for (uint32_t k = 0; k < count; k++) {
                        uint64_t pfn = sim_stream_pfn(st->mem_kib, i + k);

                        memcpy(rec + sizeof(head) + k * 8, &pfn, 8);
                        sim_page_fill(st->memory_seed, pfn, data + (size_t)k * SIM_PAGE_SIZE);
                }
                r = sim_out_record(&o, SIM_REC_PAGE_DATA, rec,
                                   sizeof(head) + count * (8 + (size_t)SIM_PAGE_SIZE), err_r);
        }
        if (r >= 0)
                r = sim_out_record(&o, SIM_REC_END, NULL, 0, err_r);
        return r;
}

/* Where a stream is read from, and how far. Reads exactly what the stream holds, never more. */
struct sim_in {
        int fd;
        uint64_t pos;
};

static int sim_in_read(struct sim_in *in, void *buf, size_t len, char **err_r)
{
        uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = read(in->fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return err_setf(err_r, -errno, "cannot read the stream at byte %llu: %s",
                                        (unsigned long long)in->pos, strerror(errno));
                if (n == 0)
                        return err_setf(err_r, -EIO, "the stream is truncated at byte %llu",
                                        (unsigned long long)in->pos);
                p += n;
                len -= (size_t)n;
                in->pos += (uint64_t)n;
        }
        return 0;
}

/* What a reader has put together so far. */
struct sim_reading {
        struct hv_guest_state st;
        uint32_t type; /* the domain header's */
        size_t have;   /* bytes of st read */
        bool static_end;
        unsigned pages, pages_seen;
};

static int sim_bad_record(char **err_r, uint64_t at, const char *fmt, ...) _printf_(3, 4);

/* A record that breaks the format: "record at byte N: ..." */
static int sim_bad_record(char **err_r, uint64_t at, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (n < 0)
                return err_setf(err_r, -ENOMEM, "out of memory");
        return err_setf(err_r, -EBADMSG, "bad record at byte %llu: %s", (unsigned long long)at,
                        what);
}

static int sim_in_headers(struct sim_in *in, struct sim_reading *rd, char **err_r)
{
        struct sim_image_header ih;
        struct sim_domain_header dh;
        int r;

        r = sim_in_read(in, &ih, sizeof(ih), err_r);
        if (r < 0)
                return r;
        if (be64toh(ih.marker) != SIM_STREAM_MARKER || be32toh(ih.id) != BUILDER_SIM_STREAM_ID)
                return err_setf(err_r, -EINVAL, "not a simulator save stream%s",
                                be64toh(ih.marker) == SIM_STREAM_MARKER &&
                                        be32toh(ih.id) == SIM_STREAM_XENF
                                    ? " (a libxc stream, for real Xen)"
                                    : "");
        if (be32toh(ih.version) != SIM_STREAM_VERSION)
                return err_setf(err_r, -EINVAL,
                                "simulator save stream version %u; this xensup reads version %u",
                                be32toh(ih.version), SIM_STREAM_VERSION);
        if (be16toh(ih.options) != (host_big_endian() ? SIM_OPT_BIG_ENDIAN : 0) || ih.reserved1 ||
            ih.reserved2)
                return err_setf(err_r, -EINVAL,
                                "simulator save stream options %#x: written on another kind of "
                                "host",
                                be16toh(ih.options));
        r = sim_in_read(in, &dh, sizeof(dh), err_r);
        if (r < 0)
                return r;
        if ((dh.type != SIM_DOMAIN_TYPE_PV && dh.type != SIM_DOMAIN_TYPE_PVH) ||
            dh.page_shift != SIM_PAGE_SHIFT || dh.reserved)
                return err_setf(err_r, -EBADMSG,
                                "bad domain header: type %u, page shift %u (expected 1 or 2, %u)",
                                dh.type, dh.page_shift, SIM_PAGE_SHIFT);
        if (dh.state_version != HV_GUEST_STATE_VERSION || dh.state_size != sizeof(rd->st))
                return err_setf(err_r, -EINVAL,
                                "the stream holds guest state version %u (%u bytes); this xensup "
                                "reads version %u (%zu bytes)",
                                dh.state_version, dh.state_size, HV_GUEST_STATE_VERSION,
                                sizeof(rd->st));
        rd->type = dh.type;
        return 0;
}

/* A piece of the guest's state: in order, end to end, before STATIC_DATA_END. */
static int sim_in_state(struct sim_reading *rd, uint64_t at, const uint8_t *body, uint32_t len,
                        char **err_r)
{
        uint32_t head[2];

        if (rd->static_end)
                return sim_bad_record(err_r, at, "guest state after STATIC_DATA_END");
        if (len < sizeof(head))
                return sim_bad_record(err_r, at, "guest state of %u bytes", len);
        memcpy(head, body, sizeof(head));
        len -= sizeof(head);
        if (head[0] != rd->have || head[1] != 0 || len == 0 || len > sizeof(rd->st) - rd->have)
                return sim_bad_record(err_r, at,
                                      "guest state piece at offset %u of %u bytes, after %zu of "
                                      "%zu bytes",
                                      head[0], len, rd->have, sizeof(rd->st));
        memcpy((uint8_t *)&rd->st + rd->have, body + sizeof(head), len);
        rd->have += len;
        return 0;
}

static int sim_in_static_end(struct sim_reading *rd, uint64_t at, uint32_t len, char **err_r)
{
        if (rd->static_end || len != 0)
                return sim_bad_record(err_r, at, "a second or non-empty STATIC_DATA_END");
        if (rd->have != sizeof(rd->st))
                return sim_bad_record(err_r, at, "STATIC_DATA_END after %zu of %zu bytes of state",
                                      rd->have, sizeof(rd->st));
        if (rd->st.version != HV_GUEST_STATE_VERSION || sim_stream_type(rd->st.type) != rd->type ||
            rd->st.type >= _DOMAIN_TYPE_MAX)
                return sim_bad_record(err_r, at, "guest state version %u, type %u", rd->st.version,
                                      rd->st.type);
        rd->static_end = true;
        rd->pages = sim_stream_pages(rd->st.mem_kib);
        return 0;
}

/* Pages: the ones the state says, in order, holding what was saved. */
static int sim_in_pages(struct sim_reading *rd, uint64_t at, const uint8_t *body, uint32_t len,
                        uint8_t *page, char **err_r)
{
        uint32_t head[2];
        const uint8_t *data;

        if (!rd->static_end)
                return sim_bad_record(err_r, at, "page data before STATIC_DATA_END");
        if (len < sizeof(head))
                return sim_bad_record(err_r, at, "page data of %u bytes", len);
        memcpy(head, body, sizeof(head));
        if (head[0] == 0 || head[0] > SIM_PAGES_PER_RECORD || head[1] != 0 ||
            len != sizeof(head) + head[0] * (8 + (size_t)SIM_PAGE_SIZE))
                return sim_bad_record(err_r, at, "page data of %u pages in %u bytes", head[0], len);
        if (head[0] > rd->pages - rd->pages_seen)
                return sim_bad_record(err_r, at, "more pages than the guest's %u", rd->pages);
        data = body + sizeof(head) + head[0] * 8;
        for (uint32_t k = 0; k < head[0]; k++) {
                uint64_t pfn, want = sim_stream_pfn(rd->st.mem_kib, rd->pages_seen + k);

                memcpy(&pfn, body + sizeof(head) + k * 8, 8);
                if (pfn != want)
                        return sim_bad_record(err_r, at, "page %#llx where %#llx belongs",
                                              (unsigned long long)pfn, (unsigned long long)want);
                sim_page_fill(rd->st.memory_seed, pfn, page);
                if (memcmp(page, data + (size_t)k * SIM_PAGE_SIZE, SIM_PAGE_SIZE) != 0)
                        return sim_bad_record(err_r, at, "page %#llx does not hold what was saved",
                                              (unsigned long long)pfn);
        }
        rd->pages_seen += head[0];
        return 0;
}

/* Read and check a whole stream, up to and with its END; the guest's state into *st. */
static int sim_stream_read(int fd, struct hv_guest_state *st, char **err_r)
{
        _cleanup_free_ uint8_t *body = malloc(SIM_PAGE_RECORD_MAX + 8);
        _cleanup_free_ uint8_t *page = malloc(SIM_PAGE_SIZE);
        struct sim_reading rd = { 0 };
        struct sim_in in = { .fd = fd };
        int r;

        if (!body || !page)
                return err_setf(err_r, -ENOMEM, "out of memory");
        r = sim_in_headers(&in, &rd, err_r);
        while (r >= 0) {
                struct sim_record_header h;
                uint64_t at = in.pos;
                uint32_t padded;

                r = sim_in_read(&in, &h, sizeof(h), err_r);
                if (r < 0)
                        break;
                if (h.length > SIM_PAGE_RECORD_MAX)
                        return sim_bad_record(err_r, at, "type %#x of %u bytes", h.type, h.length);
                padded = (h.length + 7) & ~7u;
                r = sim_in_read(&in, body, padded, err_r);
                if (r < 0)
                        break;
                for (uint32_t i = h.length; i < padded; i++)
                        if (body[i])
                                return sim_bad_record(err_r, at, "padding that is not zero");
                switch (h.type) {
                case SIM_REC_STATE:
                        r = sim_in_state(&rd, at, body, h.length, err_r);
                        break;
                case SIM_REC_STATIC_END:
                        r = sim_in_static_end(&rd, at, h.length, err_r);
                        break;
                case SIM_REC_PAGE_DATA:
                        r = sim_in_pages(&rd, at, body, h.length, page, err_r);
                        break;
                case SIM_REC_END:
                        if (h.length != 0 || !rd.static_end || rd.pages_seen != rd.pages)
                                return sim_bad_record(err_r, at,
                                                      "END after %u of the guest's %u pages",
                                                      rd.pages_seen, rd.pages);
                        *st = rd.st;
                        return 0;
                default:
                        return sim_bad_record(err_r, at, "unknown type %#x", h.type);
                }
        }
        return r;
}

/* The one domain's row; -ESRCH if it is not there. */
static int sim_domain_info(struct builder *b, uint32_t domid, struct builder_domain_info *info,
                           char **err_r)
{
        struct sim_backend *sb = b->data;
        struct hv_req_list req = { .first_domid = domid, .max = 1 };
        struct {
                struct hv_rep_list head;
                struct hv_dominfo info;
        } rep;
        size_t len = 0;
        int r;

        r = sim_call(sb, HV_OP_LIST, &req, &rep, sizeof(rep), &len, err_r);
        if (r < 0)
                return err_setf(err_r, r, "domid %u: list: %s", domid, strerror(-r));
        if (rep.head.n > 1 || len != sizeof(rep.head) + rep.head.n * sizeof(rep.info) ||
            (rep.head.n == 1 && sim_info_from_wire(&rep.info, info) < 0))
                return sim_bad_reply(sb, "list", err_r);
        if (rep.head.n == 0 || info->domid != domid)
                return err_setf(err_r, -ESRCH, "domain %u does not exist", domid);
        return 0;
}

static int sim_save(struct builder *b, uint32_t domid, int fd, bool live,
                    builder_suspend_fn suspend, void *data, char **err_r)
{
        _cleanup_free_ char *e = NULL;
        struct builder_domain_info info;
        struct hv_guest_state st;
        struct builder_sigpipe sp;
        char doing[64];
        int r;

        /* The simulator has no log-dirty tracking, as Debian's Xen: refused before anything. */
        if (live)
                return err_setf(err_r, -EOPNOTSUPP, "%s", BUILDER_NO_LIVE_SAVE);
        r = suspend(data, err_r);
        if (r < 0)
                return r;
        r = sim_domain_info(b, domid, &info, err_r);
        if (r < 0)
                return r;
        if (info.dying || !info.shutdown || info.reason != SHUTDOWN_REASON_SUSPEND)
                return err_setf(err_r, -EIO, "the domain has not suspended (%s)",
                                builder_doing(&info, doing));
        r = sim_dom_call_rep(b, HV_OP_SAVE, domid, 0, 0, &st, sizeof(st), err_r);
        if (r < 0)
                return r;
        if (st.version != HV_GUEST_STATE_VERSION || st.type >= _DOMAIN_TYPE_MAX)
                return sim_bad_reply(b->data, op_names[HV_OP_SAVE], err_r);
        builder_sigpipe_block(&sp);
        r = sim_stream_write(fd, &st, &e);
        builder_sigpipe_restore(&sp);
        if (r < 0)
                return err_setf(err_r, r, "domid %u: save: %s", domid, e ? e : strerror(-r));
        return 0;
}

static int sim_restore(struct builder *b, const struct domain_config *cfg, int fd,
                       struct builder_domain *out, char **err_r)
{
        struct sim_backend *sb = b->data;
        _cleanup_free_ char *e = NULL;
        struct hv_req_restore req = { 0 };
        struct hv_rep_create rep;
        int r;

        r = sim_type_check(cfg, err_r);
        if (r < 0)
                return r;
        /* Read and check it all first: a stream that is not whole creates nothing. */
        r = sim_stream_read(fd, &req.state, &e);
        if (r < 0)
                return err_setf(err_r, r, "%s: restore: %s", cfg->name, e ? e : strerror(-r));
        if (req.state.type != (uint32_t)cfg->type)
                return err_setf(err_r, -EINVAL, "%s: restore: the stream holds a %s guest, not %s",
                                cfg->name, domain_type_to_string(req.state.type) ?: "?",
                                domain_type_to_string(cfg->type) ?: "?");
        memcpy(req.uuid, cfg->uuid, sizeof(req.uuid));
        snprintf(req.name, sizeof(req.name), "%s", cfg->name);
        req.type = (uint32_t)cfg->type;
        req.ssidref = cfg->ssidref;
        req.maxmem_kib = sim_maxmem_kib(cfg);
        req.maxvcpus = sim_maxvcpus(cfg);
        r = sim_call(sb, HV_OP_RESTORE, &req, &rep, sizeof(rep), NULL, err_r);
        if (r == -ENOMEM && req.state.mem_kib > req.maxmem_kib)
                return err_setf(err_r, r,
                                "%s: restore: the guest holds %llu KiB, more than the %llu KiB "
                                "its config allows",
                                cfg->name, (unsigned long long)req.state.mem_kib,
                                (unsigned long long)req.maxmem_kib);
        if (r < 0)
                return err_setf(err_r, r, "%s: restore domain: %s", cfg->name, strerror(-r));
        return sim_created(sb, cfg, "restore domain", &rep, out, err_r);
}

static int sim_resume(struct builder *b, uint32_t domid, char **err_r)
{
        struct builder_domain_info info;
        char doing[64];
        int r;

        r = sim_dom_call(b, HV_OP_RESUME, domid, 0, 0, err_r);
        /* Say what it is doing instead, as builder-xen does. */
        if (r == -EINVAL && sim_domain_info(b, domid, &info, NULL) >= 0)
                return err_setf(err_r, r, "domain %u is not suspended (%s)", domid,
                                builder_doing(&info, doing));
        return r;
}

int builder_sim_guest_action(struct builder *b, uint32_t domid, enum hv_guest_action a,
                             char **err_r)
{
        if (!sim_of(b))
                return err_setf(err_r, -EOPNOTSUPP, "guest actions need --hypervisor=sim");
        if (!builder_sim_guest_action_to_string(a))
                return err_setf(err_r, -EINVAL, "unknown guest action %d", (int)a);
        return sim_dom_call(b, HV_OP_GUEST_ACTION, domid, (uint32_t)a, 0, err_r);
}

int builder_sim_fault(struct builder *b, enum hv_op op, unsigned nth, int error, unsigned count,
                      char **err_r)
{
        struct hv_req_fault req = { .op = op, .nth = nth, .error = error, .count = count };
        int r;

        if (!sim_of(b))
                return err_setf(err_r, -EOPNOTSUPP, "fault injection needs --hypervisor=sim");
        r = sim_call(b->data, HV_OP_FAULT, &req, NULL, 0, NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "fault injection for %s: %s",
                                builder_sim_op_to_string(op) ?: "?", strerror(-r));
        return 0;
}

int builder_sim_stats(struct builder *b, struct builder_sim_stats *st, char **err_r)
{
        struct hv_rep_stats rep;
        int r;

        if (!sim_of(b))
                return err_setf(err_r, -EOPNOTSUPP, "statistics need --hypervisor=sim");
        r = sim_call(b->data, HV_OP_STATS, NULL, &rep, sizeof(rep), NULL, err_r);
        if (r < 0)
                return r;
        st->pid = (pid_t)rep.pid;
        st->domains = rep.domains;
        st->total_kib = rep.total_kib;
        st->free_kib = rep.free_kib;
        memcpy(st->calls, rep.calls, sizeof(st->calls));
        return 0;
}

/* ---- the host side of devices: the simulated loop devices and bridges ---- */

/*
 * What the block script's losetup does, on the simulated host: fstat() says what the target
 * is, the simulator gives a regular file a loop device of its own and takes a block device as
 * it is. The target itself is never read, so the simulator never touches it.
 */
static int sim_disk_attach(struct builder *b, int target_fd, bool readonly, const char *target,
                           struct builder_disk_host *out, char **err_r)
{
        struct sim_backend *sb = b->data;
        struct hv_req_loop_attach req = { 0 };
        struct hv_rep_loop_attach rep;
        struct stat st;
        int r;

        if (fstat(target_fd, &st) < 0)
                return err_setf(err_r, -errno, "%s: %s", target, strerror(errno));
        req.dev = st.st_dev;
        req.ino = st.st_ino;
        req.mode = st.st_mode;
        req.readonly = readonly;
        if (S_ISBLK(st.st_mode)) {
                uint64_t size = 0;

                /* physical-device-path is the target itself: it must fit, before anything. */
                if (strlen(target) >= sizeof(out->device))
                        return err_setf(err_r, -ENAMETOOLONG, "%s: name too long for blkback",
                                        target);
                req.rdev = st.st_rdev;
                if (ioctl(target_fd, BLKGETSIZE64, &size) == 0)
                        req.size = size;
        } else
                req.size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
        r = sim_call(sb, HV_OP_LOOP_ATTACH, &req, &rep, sizeof(rep), NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s: %s", target, op_names[HV_OP_LOOP_ATTACH],
                                strerror(-r));
        out->loop = S_ISREG(st.st_mode);
        /* A loop device is major 7; a block device is its own rdev: anything else is a lie. */
        if (out->loop ? rep.major != HV_LOOP_MAJOR
                      : rep.major != major(st.st_rdev) || rep.minor != minor(st.st_rdev))
                return sim_bad_reply(sb, op_names[HV_OP_LOOP_ATTACH], err_r);
        out->major = rep.major;
        out->minor = rep.minor;
        if (out->loop)
                snprintf(out->device, sizeof(out->device), "/dev/loop%u", rep.minor);
        else
                strcpy(out->device, target);
        out->backing_dev = st.st_dev;
        out->backing_ino = st.st_ino;
        return 0;
}

static int sim_disk_release(struct builder *b, const struct builder_disk_host *h, char **err_r)
{
        struct hv_req_loop_release req = {
                .minor = h->minor,
                .dev = h->backing_dev,
                .ino = h->backing_ino,
        };
        int r;

        if (!h->loop)
                return 0; /* a block device was used as it is: nothing to undo */
        r = sim_call(b->data, HV_OP_LOOP_RELEASE, &req, NULL, 0, NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s: %s", h->device, op_names[HV_OP_LOOP_RELEASE],
                                strerror(-r));
        return 0;
}

static int sim_host_list(struct builder *b, uint32_t what, size_t entry_size, void **entries_r,
                         size_t *n_r, char **err_r);

/* Whether the simulated host has that bridge: VIF_PLUG's -ENODEV is either one's. */
static bool sim_has_bridge(struct builder *b, const char *bridge)
{
        _cleanup_free_ struct hv_netdev_info *nd = NULL;
        void *entries = NULL;
        size_t n = 0;

        if (sim_host_list(b, HV_HOST_NETDEVS, sizeof(*nd), &entries, &n, NULL) < 0)
                return true; /* cannot tell: blame the interface, the likelier one */
        nd = entries;
        for (size_t i = 0; i < n; i++)
                if ((nd[i].flags & HV_NETDEV_BRIDGE) && strcmp(nd[i].name, bridge) == 0)
                        return true;
        return false;
}

/* Copy an interface name into a request field; -EINVAL if it does not fit IFNAMSIZ. */
static int sim_ifname(char dst[HV_IFNAME_SIZE], const char *name)
{
        if (!name || strlen(name) >= HV_IFNAME_SIZE)
                return -EINVAL;
        strcpy(dst, name);
        return 0;
}

static int sim_vif_plug(struct builder *b, const struct builder_vif_host *v, unsigned *mtu_r,
                        char **err_r)
{
        struct hv_req_vif_plug req = { .mtu = v->mtu };
        struct hv_rep_vif_plug rep;
        int r;

        if (sim_ifname(req.ifname, v->ifname) < 0 || sim_ifname(req.bridge, v->bridge) < 0 ||
            (v->rename && sim_ifname(req.rename, v->rename) < 0))
                return err_setf(err_r, -EINVAL, "%s: vif-bridge online: bad interface name",
                                v->ifname ?: "?");
        r = sim_call(b->data, HV_OP_VIF_PLUG, &req, &rep, sizeof(rep), NULL, err_r);
        if (r == -ENODEV && !sim_has_bridge(b, v->bridge))
                return err_setf(err_r, r,
                                "%s: vif-bridge online: bridge %s does not exist on this host "
                                "(xensup does not create bridges)",
                                v->ifname, v->bridge);
        if (r == -ENODEV)
                return err_setf(err_r, r, "%s: vif-bridge online: no such interface after %d ms",
                                v->ifname, HV_VIF_WAIT_MS);
        if (r == -EEXIST)
                return err_setf(err_r, r, "%s: vif-bridge online: cannot rename it to %s: %s",
                                v->ifname, v->rename, strerror(-r));
        if (r < 0)
                return err_setf(err_r, r, "%s: vif-bridge online into %s: %s", v->ifname, v->bridge,
                                strerror(-r));
        if (mtu_r)
                *mtu_r = rep.mtu;
        return 0;
}

static int sim_vif_unplug(struct builder *b, const char *ifname, char **err_r)
{
        struct hv_req_vif_unplug req = { 0 };
        int r;

        if (sim_ifname(req.ifname, ifname) < 0)
                return err_setf(err_r, -EINVAL, "%s: vif-bridge offline: bad interface name",
                                ifname ?: "?");
        r = sim_call(b->data, HV_OP_VIF_UNPLUG, &req, NULL, 0, NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "%s: vif-bridge offline: %s", ifname, strerror(-r));
        return 0;
}

/* Whether a fixed-size string field of a reply holds its NUL. */
static bool sim_string_ok(const char *s, size_t size)
{
        return memchr(s, 0, size) != NULL;
}

static bool sim_host_entry_ok(uint32_t what, const uint8_t *e)
{
        const struct hv_netdev_info *nd = (const struct hv_netdev_info *)e;

        return what != HV_HOST_NETDEVS || (sim_string_ok(nd->name, sizeof(nd->name)) &&
                                           sim_string_ok(nd->master, sizeof(nd->master)));
}

/*
 * Every entry of a HOST_LIST, in batches. Both entry types start with their key (minor,
 * ifindex), which must grow strictly: a bad reply cannot loop us.
 */
static int sim_host_list(struct builder *b, uint32_t what, size_t entry_size, void **entries_r,
                         size_t *n_r, char **err_r)
{
        struct sim_backend *sb = b->data;
        struct hv_req_host_list req = { .what = what, .first = 0, .max = HV_HOST_BATCH };
        size_t rep_max = sizeof(struct hv_rep_host_list) + HV_HOST_BATCH * entry_size;
        _cleanup_free_ uint8_t *rep = NULL, *all = NULL;
        size_t n = 0, len;
        uint32_t last = 0;
        int r;

        rep = malloc(rep_max);
        if (!rep)
                return err_setf(err_r, -ENOMEM, "out of memory");
        for (;;) {
                struct hv_rep_host_list head;
                uint8_t *grown;

                r = sim_call(sb, HV_OP_HOST_LIST, &req, rep, rep_max, &len, err_r);
                if (r < 0)
                        return err_setf(err_r, r, "%s: %s", op_names[HV_OP_HOST_LIST],
                                        strerror(-r));
                memcpy(&head, rep, sizeof(head));
                if (head.n > req.max || len != sizeof(head) + head.n * entry_size)
                        return sim_bad_reply(sb, op_names[HV_OP_HOST_LIST], err_r);
                if (head.n == 0)
                        break;
                grown = reallocarray(all, n + head.n, entry_size);
                if (!grown)
                        return err_setf(err_r, -ENOMEM, "out of memory");
                all = grown;
                for (uint32_t i = 0; i < head.n; i++, n++) {
                        const uint8_t *e = rep + sizeof(head) + i * entry_size;
                        uint32_t key;

                        memcpy(&key, e, sizeof(key));
                        if (key < req.first || (n > 0 && key <= last) ||
                            !sim_host_entry_ok(what, e))
                                return sim_bad_reply(sb, op_names[HV_OP_HOST_LIST], err_r);
                        last = key;
                        memcpy(all + n * entry_size, e, entry_size);
                }
                if (head.n < req.max || last == UINT32_MAX)
                        break;
                req.first = last + 1;
        }
        *entries_r = TAKE_PTR(all);
        *n_r = n;
        return 0;
}

int builder_sim_loops(struct builder *b, struct hv_loop_info **loops_r, size_t *n_r, char **err_r)
{
        void *entries = NULL;
        int r;

        if (!sim_of(b))
                return err_setf(err_r, -EOPNOTSUPP,
                                "loop devices of the host need --hypervisor=sim");
        r = sim_host_list(b, HV_HOST_LOOPS, sizeof(**loops_r), &entries, n_r, err_r);
        if (r < 0)
                return r;
        *loops_r = entries;
        return 0;
}

/* HOST_LIST's loop devices on the file (dev, ino): what LOOP_GET_STATUS64 tells on Linux. */
static int sim_disk_find_loops(struct builder *b, uint64_t backing_dev, uint64_t backing_ino,
                               struct builder_loop **loops_r, size_t *n_r, char **err_r)
{
        _cleanup_free_ struct hv_loop_info *all = NULL;
        _cleanup_free_ struct builder_loop *loops = NULL;
        void *entries = NULL;
        size_t n_all = 0, n = 0;
        int r;

        r = sim_host_list(b, HV_HOST_LOOPS, sizeof(*all), &entries, &n_all, err_r);
        if (r < 0)
                return r;
        all = entries;
        for (size_t i = 0; i < n_all; i++) {
                if (all[i].dev != backing_dev || all[i].ino != backing_ino)
                        continue;
                if (!loops && !(loops = calloc(n_all, sizeof(*loops))))
                        return err_setf(err_r, -ENOMEM, "out of memory");
                loops[n++] = (struct builder_loop){
                        .major = HV_LOOP_MAJOR,
                        .minor = all[i].minor,
                        .readonly = all[i].flags & HV_LOOP_READONLY,
                        /* Held by a backend, or released and going with its last user. */
                        .busy = all[i].flags & (HV_LOOP_OPEN | HV_LOOP_AUTOCLEAR),
                };
        }
        *loops_r = TAKE_PTR(loops);
        *n_r = n;
        return 0;
}

int builder_sim_netdevs(struct builder *b, struct hv_netdev_info **netdevs_r, size_t *n_r,
                        char **err_r)
{
        void *entries = NULL;
        int r;

        if (!sim_of(b))
                return err_setf(err_r, -EOPNOTSUPP, "interfaces of the host need --hypervisor=sim");
        r = sim_host_list(b, HV_HOST_NETDEVS, sizeof(**netdevs_r), &entries, n_r, err_r);
        if (r < 0)
                return r;
        *netdevs_r = entries;
        return 0;
}

int builder_sim_device_fault(struct builder *b, enum hv_device_fault kind, uint32_t domid,
                             enum hv_device_type type, uint32_t devid, char **err_r)
{
        struct hv_req_device_fault req = {
                .kind = kind, .domid = domid, .type = type, .devid = devid
        };
        int r;

        if (!sim_of(b))
                return err_setf(err_r, -EOPNOTSUPP, "device faults need --hypervisor=sim");
        r = sim_call(b->data, HV_OP_DEVICE_FAULT, &req, NULL, 0, NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "device fault %s for domid %u: %s",
                                builder_sim_device_fault_to_string(kind) ?: "?", domid,
                                strerror(-r));
        return 0;
}

/* ---- the host's cpus and the domains' vcpus ---- */

/* PHYSINFO, its reply checked: a host with no cpu or more free memory than it has is a lie. */
static int sim_physinfo(struct builder *b, struct hv_rep_physinfo *info, char **err_r)
{
        int r;

        r = sim_call(b->data, HV_OP_PHYSINFO, NULL, info, sizeof(*info), NULL, err_r);
        if (r < 0)
                return err_setf(err_r, r, "%s: %s", op_names[HV_OP_PHYSINFO], strerror(-r));
        if (info->nr_cpus == 0 || info->nr_cpus > HV_CPUS_MAX || info->nr_nodes == 0 ||
            info->cores_per_socket == 0 || info->threads_per_core == 0 ||
            info->free_kib > info->total_kib ||
            !sim_string_ok(info->version, sizeof(info->version)) ||
            !sim_string_ok(info->capabilities, sizeof(info->capabilities)) ||
            !sim_string_ok(info->virt_caps, sizeof(info->virt_caps)) ||
            !sim_string_ok(info->scheduler, sizeof(info->scheduler)))
                return sim_bad_reply(b->data, op_names[HV_OP_PHYSINFO], err_r);
        return 0;
}

static int sim_host_info(struct builder *b, struct builder_host_info *out, char **err_r)
{
        struct hv_rep_physinfo info;
        int r;

        r = sim_physinfo(b, &info, err_r);
        if (r < 0)
                return r;
        memcpy(out->version, info.version, sizeof(out->version));
        memcpy(out->capabilities, info.capabilities, sizeof(out->capabilities));
        memcpy(out->virt_caps, info.virt_caps, sizeof(out->virt_caps));
        memcpy(out->scheduler, info.scheduler, sizeof(out->scheduler));
        out->nr_cpus = info.nr_cpus;
        out->nr_nodes = info.nr_nodes;
        out->cores_per_socket = info.cores_per_socket;
        out->threads_per_core = info.threads_per_core;
        out->cpu_khz = info.cpu_khz;
        out->total_kib = info.total_kib;
        out->free_kib = info.free_kib;
        return 0;
}

/* -ESRCH said the way every backend says it. */
static int sim_no_domain(int r, uint32_t domid, char **err_r)
{
        return r == -ESRCH ? err_setf(err_r, r, "domain %u does not exist", domid) : r;
}

/*
 * VCPU_INFO about one vcpu, its reply checked against the protocol (sim/hv-proto.h): the vcpu
 * asked for, known flags that agree, a cpu of its hard map (so that map is not empty),
 * max_vcpu_id in range.
 */
static int sim_vcpu_info(struct builder *b, uint32_t domid, unsigned vcpu,
                         struct hv_rep_vcpu_info *info, char **err_r)
{
        const uint32_t known = HV_VCPU_ONLINE | HV_VCPU_RUNNING | HV_VCPU_BLOCKED;
        int r;

        r = sim_dom_call_rep(b, HV_OP_VCPU_INFO, domid, vcpu, 0, info, sizeof(*info), err_r);
        if (r < 0)
                return sim_no_domain(r, domid, err_r);
        if (info->vcpu != vcpu || info->max_vcpu_id >= VCPUS_MAX || vcpu > info->max_vcpu_id ||
            (info->flags & ~known) ||
            ((info->flags & (HV_VCPU_RUNNING | HV_VCPU_BLOCKED)) &&
             !(info->flags & HV_VCPU_ONLINE)) ||
            (info->flags & HV_VCPU_RUNNING && info->flags & HV_VCPU_BLOCKED) ||
            info->cpu >= HV_CPUS_MAX ||
            !((info->hard.bits[info->cpu / 64] >> (info->cpu % 64)) & 1))
                return sim_bad_reply(b->data, op_names[HV_OP_VCPU_INFO], err_r);
        return 0;
}

/* vcpu 0 tells how many there are (max_vcpu_id); then one VCPU_INFO each, as xl vcpu-list. */
static int sim_vcpu_list(struct builder *b, uint32_t domid, struct builder_vcpu_info **vcpus_r,
                         size_t *n_r, char **err_r)
{
        _cleanup_free_ struct builder_vcpu_info *all = NULL;
        struct hv_rep_vcpu_info info;
        size_t n;
        int r;

        r = sim_vcpu_info(b, domid, 0, &info, err_r);
        if (r < 0)
                return r;
        n = (size_t)info.max_vcpu_id + 1;
        all = calloc(n, sizeof(*all));
        if (!all)
                return err_setf(err_r, -ENOMEM, "out of memory");
        for (unsigned i = 0; i < n; i++) {
                uint32_t max_vcpu_id = info.max_vcpu_id;

                if (i > 0) {
                        r = sim_vcpu_info(b, domid, i, &info, err_r);
                        if (r < 0)
                                return r;
                        /* A domain's vcpus are fixed at its creation: another count is a lie. */
                        if (info.max_vcpu_id != max_vcpu_id)
                                return sim_bad_reply(b->data, op_names[HV_OP_VCPU_INFO], err_r);
                }
                all[i] = (struct builder_vcpu_info){
                        .id = i,
                        .online = info.flags & HV_VCPU_ONLINE,
                        .running = info.flags & HV_VCPU_RUNNING,
                        .blocked = info.flags & HV_VCPU_BLOCKED,
                        .cpu = info.cpu,
                        .cpu_time_ns = info.cpu_time_ns,
                };
                memcpy(&all[i].hard, &info.hard, sizeof(all[i].hard));
                memcpy(&all[i].soft, &info.soft, sizeof(all[i].soft));
        }
        *vcpus_r = TAKE_PTR(all);
        *n_r = n;
        return 0;
}

/*
 * Why the simulator refused a pin with -EINVAL, in words: LIST tells the domain's vcpus,
 * PHYSINFO the host's cpus. 0 when none of builder_vcpu_pin_check()'s reasons is why (an
 * injected fault).
 */
static int sim_vcpu_pin_refused(struct builder *b, uint32_t domid, unsigned vcpu,
                                const struct builder_cpumap *hard,
                                const struct builder_cpumap *soft, char **err_r)
{
        struct builder_domain_info info;
        struct hv_rep_physinfo host;

        if (sim_domain_info(b, domid, &info, NULL) < 0 || sim_physinfo(b, &host, NULL) < 0)
                return 0;
        return builder_vcpu_pin_check(domid, vcpu, info.max_vcpu_id, host.nr_cpus, hard, soft,
                                      err_r);
}

static int sim_vcpu_pin(struct builder *b, uint32_t domid, unsigned vcpu,
                        const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                        char **err_r)
{
        struct hv_req_vcpu_pin req = { .domid = domid, .vcpu = vcpu };
        int r;

        if (hard) {
                req.which |= HV_PIN_HARD;
                memcpy(&req.hard, hard, sizeof(req.hard));
        }
        if (soft) {
                req.which |= HV_PIN_SOFT;
                memcpy(&req.soft, soft, sizeof(req.soft));
        }
        r = sim_call(b->data, HV_OP_VCPU_PIN, &req, NULL, 0, NULL, err_r);
        if (r == -EINVAL && sim_vcpu_pin_refused(b, domid, vcpu, hard, soft, err_r) < 0)
                return r;
        if (r == -ESRCH)
                return sim_no_domain(r, domid, err_r);
        if (r < 0)
                return err_setf(err_r, r, "domid %u: %s: %s", domid, op_names[HV_OP_VCPU_PIN],
                                strerror(-r));
        return 0;
}

const struct builder_ops builder_sim_ops = {
        .name = "sim",
        .open = sim_open,
        .close = sim_close,
        .create = sim_create,
        .introduce = sim_introduce,
        .unpause = sim_unpause,
        .pause = sim_pause,
        .shutdown = sim_shutdown,
        .destroy = sim_destroy,
        .list = sim_list,
        .set_memory = sim_set_memory,
        .set_vcpus = sim_set_vcpus,
        .dumpcore = sim_dumpcore,
        .save = sim_save,
        .restore = sim_restore,
        .resume = sim_resume,
        .set_handle = sim_set_handle,
        .find_live = sim_find_live,
        .disk_attach = sim_disk_attach,
        .disk_release = sim_disk_release,
        .vif_plug = sim_vif_plug,
        .vif_unplug = sim_vif_unplug,
        .disk_find_loops = sim_disk_find_loops,
        .host_info = sim_host_info,
        .set_max_memory = sim_set_max_memory,
        .vcpu_list = sim_vcpu_list,
        .vcpu_pin = sim_vcpu_pin,
};
