/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensup-sim — the simulated Xen host: the embedded XenStore server on
 * DIR/xenstored.socket (point XENSTORED_PATH at it) and, in the same sd-event
 * loop, the simulated hypervisor. Runs in the foreground until SIGTERM/SIGINT.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <systemd/sd-event.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "sim/hv-proto.h"
#include "sim/hypervisor.h"
#include "sim/xs-server.h"

static void xs_server_freep(struct xs_server **s)
{
        xs_server_free(*s);
}

static void xs_conn_closep(struct xs_conn **c)
{
        xs_conn_close(*c);
}

/* mkdir -p with mode for the components created. */
static int mkdir_p(const char *dir, mode_t mode)
{
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                char c = *s;

                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (!c)
                        break;
        }
        return 0;
}

/*
 * What a booted dom0 holds beyond xenstored's own nodes (xen-init-dom0 and
 * the dom0 kernel write them on a real host); all dom0-only.
 */
static int populate_dom0(struct xs_server *s)
{
        static const char *const nodes[][2] = {
                { "/local/domain/0/domid", "0" },
                { "/local/domain/0/name", "Domain-0" },
                { "/local/domain/0/control/feature-poweroff", "1" },
                { "/local/domain/0/control/feature-reboot", "1" },
                { "/local/domain/0/control/feature-suspend", "1" },
                { "/local/pool/0/name", "Pool-0" },
        };
        _cleanup_(xs_conn_closep) struct xs_conn *c = NULL;
        int r;

        r = xs_server_connect_domain(s, 0, &c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                r = xs_conn_write(c, nodes[i][0], nodes[i][1], strlen(nodes[i][1]));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_pid_file(const char *path)
{
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fprintf(f, "%d\n", (int)getpid());
        if (fclose(f) != 0)
                return -errno;
        return 0;
}

static void usage(FILE *out)
{
        fprintf(
            out,
            "usage: xensup-sim --dir DIR [--memory-mib MIB] [--cpus N] [--bridge NAME]...\n"
            "                  [--xenstore-only]\n"
            "  The simulated Xen host, in the foreground: XenStore on DIR/xenstored.socket\n"
            "  (XENSTORED_PATH=DIR/xenstored.socket xenstore-ls), pid in DIR/xensup-sim.pid,\n"
            "  the hypervisor on DIR/hypervisor.socket with MIB of host memory (default 16384).\n"
            "  --cpus N: the host's physical cpus, 1 to %d (default %d); dom0 has a vcpu per\n"
            "  cpu (at most %d), and every vcpu may run on any of them until pinned.\n"
            "  --bridge NAME: a bridge of the simulated host (repeatable; default one, xenbr0).\n"
            "  --xenstore-only: no hypervisor, the XenStore server alone (INTRODUCE accepts any\n"
            "  domid), for the server's own tests and benches.\n",
            HV_CPUS_MAX, HV_DEFAULT_CPUS, VCPUS_MAX);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "dir", required_argument, NULL, 'd' },
                { "memory-mib", required_argument, NULL, 'm' },
                { "xenstore-only", no_argument, NULL, 'x' },
                { "bridge", required_argument, NULL, 'b' },
                { "cpus", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(xs_server_freep) struct xs_server *server = NULL;
        _cleanup_(hypervisor_freep) struct hypervisor *hv = NULL; /* freed before the server */
        unsigned long long memory_mib = 0;
        unsigned cpus = 0;
        char *end;
        _cleanup_free_ char *sock = NULL, *pidfile = NULL, *err = NULL;
        const char *dir = NULL;
        _cleanup_free_ const char **bridges = NULL;
        size_t n_bridges = 0;
        bool xenstore_only = false;
        sigset_t mask;
        int c, r;

        /* At most one bridge per argument: the list never outgrows argc. */
        bridges = calloc((size_t)argc + 1, sizeof(*bridges));
        if (!bridges) {
                fprintf(stderr, "xensup-sim: out of memory\n");
                return EXIT_FAILURE;
        }
        while ((c = getopt_long(argc, argv, "d:m:xh", options, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        bridges[n_bridges++] = optarg;
                        break;
                case 'd':
                        dir = optarg;
                        break;
                case 'm':
                        errno = 0;
                        memory_mib = strtoull(optarg, &end, 10);
                        if (errno || *end || memory_mib == 0 || memory_mib > (1ull << 32)) {
                                fprintf(stderr, "xensup-sim: --memory-mib: bad size '%s'\n",
                                        optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'c':
                        if (parse_uint(optarg, HV_CPUS_MAX, &cpus) < 0 || cpus == 0) {
                                fprintf(stderr,
                                        "xensup-sim: --cpus: '%s' is not a number of cpus from 1 "
                                        "to %d\n",
                                        optarg, HV_CPUS_MAX);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'x':
                        xenstore_only = true;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return EXIT_FAILURE;
                }
        }
        if (!dir || optind < argc) {
                usage(stderr);
                return EXIT_FAILURE;
        }
        if (xenstore_only && n_bridges > 0) {
                fprintf(stderr, "xensup-sim: --bridge needs the hypervisor (no --xenstore-only)\n");
                return EXIT_FAILURE;
        }
        if (xenstore_only && cpus > 0) {
                fprintf(stderr, "xensup-sim: --cpus needs the hypervisor (no --xenstore-only)\n");
                return EXIT_FAILURE;
        }
        if (n_bridges == 0)
                bridges[n_bridges++] = "xenbr0";
        if (asprintf(&sock, "%s/xenstored.socket", dir) < 0 ||
            asprintf(&pidfile, "%s/xensup-sim.pid", dir) < 0) {
                fprintf(stderr, "xensup-sim: out of memory\n");
                return EXIT_FAILURE;
        }
        r = mkdir_p(dir, 0755);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: cannot create %s: %s\n", dir, strerror(-r));
                return EXIT_FAILURE;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = sd_event_new(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: sd-event: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = xs_server_new(event, &server, &err);
        if (r >= 0)
                r = xs_server_listen(server, sock, &err);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: %s\n", err ? err : strerror(-r));
                return EXIT_FAILURE;
        }
        r = populate_dom0(server);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: initial XenStore nodes: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        /* The simulated hypervisor, on the same loop and server (it hooks INTRODUCE). */
        r = xenstore_only ? 0 : hypervisor_new(event, server, dir, &hv);
        if (r >= 0 && hv)
                r = hypervisor_set_total_memory(hv, memory_mib);
        if (r >= 0 && hv)
                r = hypervisor_set_cpus(hv, cpus);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: hypervisor in %s: %s\n", dir, strerror(-r));
                return EXIT_FAILURE;
        }
        for (size_t i = 0; hv && i < n_bridges; i++) {
                r = hypervisor_add_bridge(hv, bridges[i]);
                if (r < 0) {
                        fprintf(stderr, "xensup-sim: --bridge %s: %s\n", bridges[i],
                                r == -EEXIST   ? "given twice"
                                : r == -EINVAL ? "not a valid interface name"
                                               : strerror(-r));
                        return EXIT_FAILURE;
                }
        }

        r = write_pid_file(pidfile);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: %s: %s\n", pidfile, strerror(-r));
                return EXIT_FAILURE;
        }
        fprintf(stderr, "xensup-sim: XenStore listening on %s\n", sock);

        r = sd_event_loop(event);
        unlink(pidfile);
        if (r < 0) {
                fprintf(stderr, "xensup-sim: event loop: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
