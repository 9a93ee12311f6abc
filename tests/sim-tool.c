/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sim-tool — what the integration tests and benches ask of a running
 * xensup-sim, through the sim backend (builders/builder-sim.h): the
 * hypervisor's domain list, the per-operation call counters, guest actions
 * (one domain, or every domain at once for death storms), fault injection,
 * and the simulated host's devices: loop devices, interfaces, device faults.
 *
 *   sim-tool --sim-dir DIR list
 *   sim-tool --sim-dir DIR stats [FIELD]
 *   sim-tool --sim-dir DIR guest-action DOMID ACTION
 *   sim-tool --sim-dir DIR guest-action-all ACTION [DOMID...]
 *   sim-tool --sim-dir DIR fault OP NTH ERRNO [COUNT]
 *   sim-tool --sim-dir DIR loops
 *   sim-tool --sim-dir DIR loop-attach PATH [ro]
 *   sim-tool --sim-dir DIR loop-detach MINOR
 *   sim-tool --sim-dir DIR netdevs
 *   sim-tool --sim-dir DIR bridges
 *   sim-tool --sim-dir DIR fault-device KIND [DOMID [vbd|vif [DEVID]]]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "builders/builder-sim.h"
#include "builders/builder.h"
#include "common/error.h"
#include "common/macros.h"

static void builder_closep(struct builder **b)
{
        builder_close(*b);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: sim-tool --sim-dir DIR COMMAND\n"
                   "  list                          domid, uuid and flags of every domain\n"
                   "  stats [FIELD]                 host figures and calls per operation\n"
                   "                                (FIELD: pid, domains, total_kib, free_kib or\n"
                   "                                an operation name; prints its value alone)\n"
                   "  guest-action DOMID ACTION     make one guest crash, reboot, hang...\n"
                   "  guest-action-all ACTION [DOMID...]\n"
                   "                                the same for every live domain but dom0\n"
                   "                                (or each DOMID given), back to back\n"
                   "  fault OP NTH ERRNO [COUNT]    fail the NTH next call of OP (and COUNT-1\n"
                   "                                after it) with ERRNO (a number or a name\n"
                   "                                such as EIO; noreply: do it, never answer);\n"
                   "                                NTH 0 clears\n"
                   "  loops                         the host's loop devices: MINOR DEV INO FLAGS\n"
                   "                                (ro or rw, then open, autoclear)\n"
                   "  loop-attach PATH [ro]         bind a loop device to a file, as another\n"
                   "                                toolstack's losetup would; prints its MINOR\n"
                   "  loop-detach MINOR             detach it again\n"
                   "  netdevs                       vif interfaces: NAME BRIDGE MTU up|down MAC\n"
                   "                                (BRIDGE - when in none)\n"
                   "  bridges                       the host's bridges: NAME MTU\n"
                   "  fault-device KIND [DOMID [vbd|vif [DEVID]]]\n"
                   "                                device drivers of DOMID (0 or none: the next\n"
                   "                                domain created), vbd, vif or both, misbehave:\n"
                   "                                backend-no-initwait, frontend-no-connect,\n"
                   "                                frontend-no-close, clear; guest-detach DOMID\n"
                   "                                TYPE DEVID: the guest closes it now\n");
}

static int parse_uint(const char *s, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || *s == '-' || v > max)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

/* A positive errno from "5" or "EIO". */
static int parse_errno(const char *s, int *ret)
{
        unsigned v;

        if (parse_uint(s, 4095, &v) == 0 && v > 0) {
                *ret = (int)v;
                return 0;
        }
        for (int e = 1; e < 4096; e++) {
                const char *name = strerrorname_np(e);

                if (name && strcmp(name, s) == 0) {
                        *ret = e;
                        return 0;
                }
        }
        return -EINVAL;
}

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int fail(int r, const char *what, const char *err)
{
        fprintf(stderr, "sim-tool: %s: %s\n", what, err ? err : strerror(-r));
        return EXIT_FAILURE;
}

/* One line per domain: "DOMID UUID FLAGS", flags comma-separated, "-" when none. */
static int cmd_list(struct builder *b)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        int r;

        r = builder_list(b, &infos, &n, &err);
        if (r < 0)
                return fail(r, "list", err);
        for (size_t i = 0; i < n; i++) {
                const struct builder_domain_info *d = &infos[i];
                char uuid[37], flags[64] = "";

                if (d->running)
                        strcat(flags, ",running");
                if (d->paused)
                        strcat(flags, ",paused");
                if (d->shutdown) {
                        strcat(flags, ",shutdown:");
                        strcat(flags, shutdown_reason_to_string(d->reason));
                }
                if (d->dying)
                        strcat(flags, ",dying");
                printf("%" PRIu32 " %s %s\n", d->domid, uuid_to_string(d->handle, uuid),
                       flags[0] ? flags + 1 : "-");
        }
        return EXIT_SUCCESS;
}

static int cmd_stats(struct builder *b, const char *field)
{
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;
        int r, op;

        r = builder_sim_stats(b, &st, &err);
        if (r < 0)
                return fail(r, "stats", err);
        if (!field) {
                printf("pid %d\ndomains %u\ntotal_kib %" PRIu64 "\nfree_kib %" PRIu64 "\n",
                       (int)st.pid, st.domains, st.total_kib, st.free_kib);
                for (int i = 1; i < _HV_OP_MAX; i++)
                        printf("%s %" PRIu64 "\n", builder_sim_op_to_string(i), st.calls[i]);
                return EXIT_SUCCESS;
        }
        if (strcmp(field, "pid") == 0)
                printf("%d\n", (int)st.pid);
        else if (strcmp(field, "domains") == 0)
                printf("%u\n", st.domains);
        else if (strcmp(field, "total_kib") == 0)
                printf("%" PRIu64 "\n", st.total_kib);
        else if (strcmp(field, "free_kib") == 0)
                printf("%" PRIu64 "\n", st.free_kib);
        else if ((op = builder_sim_op_from_string(field)) > 0)
                printf("%" PRIu64 "\n", st.calls[op]);
        else {
                fprintf(stderr, "sim-tool: unknown stats field '%s'\n", field);
                return 2;
        }
        return EXIT_SUCCESS;
}

static int parse_action(const char *s, enum hv_guest_action *ret)
{
        int a = builder_sim_guest_action_from_string(s);

        if (a <= 0) {
                fprintf(stderr, "sim-tool: unknown guest action '%s'\n", s);
                return -EINVAL;
        }
        *ret = (enum hv_guest_action)a;
        return 0;
}

static int cmd_guest_action(struct builder *b, const char *domid_s, const char *action_s)
{
        _cleanup_free_ char *err = NULL;
        enum hv_guest_action a;
        unsigned domid;
        int r;

        if (parse_uint(domid_s, DOMID_FIRST_RESERVED - 1, &domid) < 0) {
                fprintf(stderr, "sim-tool: bad domid '%s'\n", domid_s);
                return 2;
        }
        if (parse_action(action_s, &a) < 0)
                return 2;
        r = builder_sim_guest_action(b, domid, a, &err);
        if (r < 0)
                return fail(r, "guest-action", err);
        return EXIT_SUCCESS;
}

static bool domid_listed(uint32_t domid, const uint32_t *domids, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (domids[i] == domid)
                        return true;
        return false;
}

/*
 * Every live guest but dom0 (or those of the n_only domids in only), back to
 * back on one connection, so a storm of deaths lands within milliseconds.
 * Prints "fired=N failed=F usec=T list_before=L": L is the host's LIST
 * counter read after our own list and before the first action, so a test can
 * count the scans the storm caused. A domid given but not alive is an error.
 */
static int cmd_guest_action_all(struct builder *b, const char *action_s, char **only, int n_only)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ uint32_t *wanted = NULL, *targets = NULL;
        _cleanup_free_ char *err = NULL;
        struct builder_sim_stats st;
        enum hv_guest_action a;
        unsigned fired = 0, failed = 0;
        size_t n = 0, n_targets = 0;
        uint64_t t0;
        int r;

        if (parse_action(action_s, &a) < 0)
                return 2;
        wanted = calloc(n_only + 1, sizeof(*wanted));
        if (!wanted)
                return fail(-ENOMEM, "guest-action-all", NULL);
        for (int i = 0; i < n_only; i++) {
                unsigned v;

                if (parse_uint(only[i], DOMID_FIRST_RESERVED - 1, &v) < 0 || v == 0) {
                        fprintf(stderr, "sim-tool: bad domid '%s'\n", only[i]);
                        return 2;
                }
                wanted[i] = v;
        }
        r = builder_list(b, &infos, &n, &err);
        if (r < 0)
                return fail(r, "list", err);
        targets = calloc(n + 1, sizeof(*targets));
        if (!targets)
                return fail(-ENOMEM, "guest-action-all", NULL);
        for (size_t i = 0; i < n; i++)
                if (infos[i].domid != 0 && !infos[i].dying && !infos[i].shutdown &&
                    (n_only == 0 || domid_listed(infos[i].domid, wanted, n_only)))
                        targets[n_targets++] = infos[i].domid;
        for (int i = 0; i < n_only; i++)
                if (!domid_listed(wanted[i], targets, n_targets)) {
                        fprintf(stderr, "sim-tool: domid %" PRIu32 " is not alive\n", wanted[i]);
                        failed++;
                }

        r = builder_sim_stats(b, &st, &err);
        if (r < 0)
                return fail(r, "stats", err);
        t0 = now_usec();
        for (size_t i = 0; i < n_targets; i++) {
                _cleanup_free_ char *e = NULL;

                r = builder_sim_guest_action(b, targets[i], a, &e);
                if (r < 0) {
                        /* It may have died by itself since the list: say so, go on. */
                        fprintf(stderr, "sim-tool: domid %" PRIu32 ": %s\n", targets[i],
                                e ? e : strerror(-r));
                        failed++;
                        continue;
                }
                fired++;
        }
        printf("fired=%u failed=%u usec=%" PRIu64 " list_before=%" PRIu64 "\n", fired, failed,
               now_usec() - t0, st.calls[HV_OP_LIST]);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int cmd_fault(struct builder *b, char **args, int n)
{
        _cleanup_free_ char *err = NULL;
        unsigned nth, count = 1;
        int op, error, r;

        if (n < 3 || n > 4) {
                usage(stderr);
                return 2;
        }
        op = builder_sim_op_from_string(args[0]);
        if (op <= 0) {
                fprintf(stderr, "sim-tool: unknown operation '%s'\n", args[0]);
                return 2;
        }
        if (strcmp(args[2], "noreply") == 0)
                error = HV_FAULT_NO_REPLY;
        else if (parse_errno(args[2], &error) < 0)
                error = 0;
        if (parse_uint(args[1], UINT_MAX, &nth) < 0 || error == 0 ||
            (n == 4 && (parse_uint(args[3], UINT_MAX, &count) < 0 || count == 0))) {
                fprintf(stderr, "sim-tool: fault: bad NTH, ERRNO or COUNT\n");
                return 2;
        }
        r = builder_sim_fault(b, (enum hv_op)op, nth, error, count, &err);
        if (r < 0)
                return fail(r, "fault", err);
        return EXIT_SUCCESS;
}

/* One line per loop device: "MINOR DEV INO FLAGS", FLAGS ro or rw, then ,open and ,autoclear. */
static int cmd_loops(struct builder *b)
{
        _cleanup_free_ struct hv_loop_info *loops = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        int r;

        r = builder_sim_loops(b, &loops, &n, &err);
        if (r < 0)
                return fail(r, "loops", err);
        for (size_t i = 0; i < n; i++)
                printf("%" PRIu32 " %" PRIu64 " %" PRIu64 " %s%s%s\n", loops[i].minor, loops[i].dev,
                       loops[i].ino, loops[i].flags & HV_LOOP_READONLY ? "ro" : "rw",
                       loops[i].flags & HV_LOOP_OPEN ? ",open" : "",
                       loops[i].flags & HV_LOOP_AUTOCLEAR ? ",autoclear" : "");
        return EXIT_SUCCESS;
}

/* Bind a loop device to PATH (read-only with "ro"), as xl's block script would; print its minor. */
static int cmd_loop_attach(struct builder *b, char **args, int n)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = -1;
        struct builder_disk_host h;
        bool ro = n == 2 && strcmp(args[1], "ro") == 0;
        int r;

        if (n < 1 || n > 2 || (n == 2 && !ro)) {
                usage(stderr);
                return 2;
        }
        fd = open(args[0], (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0)
                return fail(-errno, "loop-attach", NULL);
        r = builder_disk_attach(b, fd, ro, args[0], &h, &err);
        if (r < 0)
                return fail(r, "loop-attach", err);
        if (!h.loop) {
                fprintf(stderr, "sim-tool: loop-attach: %s is no regular file\n", args[0]);
                return EXIT_FAILURE;
        }
        printf("%" PRIu32 "\n", h.minor);
        return EXIT_SUCCESS;
}

/* Detach loop device MINOR, whatever file it serves. */
static int cmd_loop_detach(struct builder *b, const char *minor_s)
{
        _cleanup_free_ struct hv_loop_info *loops = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        unsigned minor;
        int r;

        if (parse_uint(minor_s, UINT32_MAX, &minor) < 0) {
                usage(stderr);
                return 2;
        }
        r = builder_sim_loops(b, &loops, &n, &err);
        if (r < 0)
                return fail(r, "loop-detach", err);
        for (size_t i = 0; i < n; i++) {
                struct builder_disk_host h = { .major = HV_LOOP_MAJOR,
                                               .minor = minor,
                                               .loop = true,
                                               .backing_dev = loops[i].dev,
                                               .backing_ino = loops[i].ino };

                if (loops[i].minor != minor)
                        continue;
                snprintf(h.device, sizeof(h.device), "/dev/loop%u", minor);
                r = builder_disk_release(b, &h, &err);
                return r < 0 ? fail(r, "loop-detach", err) : EXIT_SUCCESS;
        }
        fprintf(stderr, "sim-tool: loop-detach: no loop device %u\n", minor);
        return EXIT_FAILURE;
}

/* One line per interface: "NAME BRIDGE MTU up|down MAC" for ports, "NAME MTU" for bridges. */
static int cmd_netdevs(struct builder *b, bool bridges)
{
        _cleanup_free_ struct hv_netdev_info *nd = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        int r;

        r = builder_sim_netdevs(b, &nd, &n, &err);
        if (r < 0)
                return fail(r, bridges ? "bridges" : "netdevs", err);
        for (size_t i = 0; i < n; i++) {
                const uint8_t *m = nd[i].mac;

                if (!!(nd[i].flags & HV_NETDEV_BRIDGE) != bridges)
                        continue;
                if (bridges)
                        printf("%s %" PRIu32 "\n", nd[i].name, nd[i].mtu);
                else
                        printf("%s %s %" PRIu32 " %s %02x:%02x:%02x:%02x:%02x:%02x\n", nd[i].name,
                               nd[i].master[0] ? nd[i].master : "-", nd[i].mtu,
                               nd[i].flags & HV_NETDEV_UP ? "up" : "down", m[0], m[1], m[2], m[3],
                               m[4], m[5]);
        }
        return EXIT_SUCCESS;
}

static int parse_device_type(const char *s, enum hv_device_type *ret)
{
        if (strcmp(s, "vbd") == 0)
                *ret = HV_DEVICE_VBD;
        else if (strcmp(s, "vif") == 0)
                *ret = HV_DEVICE_VIF;
        else
                return -EINVAL;
        return 0;
}

static int cmd_fault_device(struct builder *b, char **args, int n)
{
        _cleanup_free_ char *err = NULL;
        enum hv_device_type type = HV_DEVICE_ANY;
        unsigned domid = 0, devid = 0;
        int kind, r;

        if (n < 1 || n > 4) {
                usage(stderr);
                return 2;
        }
        kind = builder_sim_device_fault_from_string(args[0]);
        if (kind <= 0) {
                fprintf(stderr, "sim-tool: unknown device fault '%s'\n", args[0]);
                return 2;
        }
        if ((n >= 2 && parse_uint(args[1], DOMID_FIRST_RESERVED - 1, &domid) < 0) ||
            (n >= 3 && parse_device_type(args[2], &type) < 0) ||
            (n == 4 && parse_uint(args[3], INT32_MAX, &devid) < 0)) {
                fprintf(stderr, "sim-tool: fault-device: bad DOMID, TYPE or DEVID\n");
                return 2;
        }
        if (kind == HV_DEVICE_FAULT_DETACH && n != 4) {
                fprintf(stderr, "sim-tool: fault-device guest-detach needs DOMID TYPE DEVID\n");
                return 2;
        }
        r = builder_sim_device_fault(b, (enum hv_device_fault)kind, domid, type, devid, &err);
        if (r < 0)
                return fail(r, "fault-device", err);
        return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "sim-dir", required_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(builder_closep) struct builder *b = NULL;
        _cleanup_free_ char *err = NULL, *sock = NULL;
        struct builder_options bo = { .kind = BUILDER_SIM };
        const char *cmd;
        struct stat s;
        int c, n, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        bo.sim_dir = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!bo.sim_dir || optind >= argc) {
                usage(stderr);
                return 2;
        }
        cmd = argv[optind];
        n = argc - optind - 1;

        /* The sim backend starts a simulator where none runs: a test tool must not. */
        if (asprintf(&sock, "%s/%s", bo.sim_dir, HV_SOCKET_NAME) < 0)
                return fail(-ENOMEM, "sim-tool", NULL);
        if (stat(sock, &s) < 0 || !S_ISSOCK(s.st_mode)) {
                fprintf(stderr, "sim-tool: no simulator in %s (no %s)\n", bo.sim_dir, sock);
                return EXIT_FAILURE;
        }
        r = builder_open(&bo, &b, &err);
        if (r < 0)
                return fail(r, "open", err);

        if (strcmp(cmd, "list") == 0 && n == 0)
                return cmd_list(b);
        if (strcmp(cmd, "stats") == 0 && n <= 1)
                return cmd_stats(b, n == 1 ? argv[optind + 1] : NULL);
        if (strcmp(cmd, "guest-action") == 0 && n == 2)
                return cmd_guest_action(b, argv[optind + 1], argv[optind + 2]);
        if (strcmp(cmd, "guest-action-all") == 0 && n >= 1)
                return cmd_guest_action_all(b, argv[optind + 1], argv + optind + 2, n - 1);
        if (strcmp(cmd, "fault") == 0)
                return cmd_fault(b, argv + optind + 1, n);
        if (strcmp(cmd, "loops") == 0 && n == 0)
                return cmd_loops(b);
        if (strcmp(cmd, "loop-attach") == 0)
                return cmd_loop_attach(b, argv + optind + 1, n);
        if (strcmp(cmd, "loop-detach") == 0 && n == 1)
                return cmd_loop_detach(b, argv[optind + 1]);
        if (strcmp(cmd, "netdevs") == 0 && n == 0)
                return cmd_netdevs(b, false);
        if (strcmp(cmd, "bridges") == 0 && n == 0)
                return cmd_netdevs(b, true);
        if (strcmp(cmd, "fault-device") == 0)
                return cmd_fault_device(b, argv + optind + 1, n);
        usage(stderr);
        return 2;
}
