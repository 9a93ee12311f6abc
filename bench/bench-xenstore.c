/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-xenstore — requests per second through the real libxenstore: READ,
 * WRITE and a transaction of 10 writes, against xensup-sim's embedded server
 * (started here with --xenstore-only), in an empty store and in one holding
 * a 1000-domain-sized tree (50 000 nodes); and the same loops against a real
 * xenstored when XENSTORED_PATH_REAL names its socket. Prints figures; never
 * fails on them.
 *
 *   make bench-xenstore [BENCH_XS_SCALE=0.2]   # fewer iterations
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "common/macros.h"

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned scaled(unsigned n)
{
        const char *s = getenv("BENCH_XS_SCALE");
        double f = s ? atof(s) : 1.0;
        unsigned v = (unsigned)(n * (f > 0 ? f : 1.0));

        return v ? v : 1;
}

/* Requests this connection made, from the simulator's sim-stats (0 elsewhere). */
static unsigned long long conn_requests(struct xs_handle *h)
{
        char *s = xs_control_command(h, "sim-stats", (char *)"", 1);
        unsigned long long g = 0, c = 0;

        if (s && sscanf(s, "global=%llu conn=%llu", &g, &c) != 2)
                c = 0;
        free(s);
        return c;
}

static int bench_read(struct xs_handle *h, unsigned n, double *rate)
{
        double t0;

        if (!xs_write(h, XBT_NULL, "/bench/r", "value", 5))
                return -errno;
        t0 = now();
        for (unsigned i = 0; i < n; i++) {
                unsigned len;
                char *v = xs_read(h, XBT_NULL, "/bench/r", &len);

                if (!v)
                        return -errno;
                free(v);
        }
        *rate = n / (now() - t0);
        return 0;
}

static int bench_write(struct xs_handle *h, unsigned n, double *rate)
{
        double t0 = now();
        char v[16];

        for (unsigned i = 0; i < n; i++) {
                int len = snprintf(v, sizeof(v), "%u", i);

                if (!xs_write(h, XBT_NULL, "/bench/w", v, len))
                        return -errno;
        }
        *rate = n / (now() - t0);
        return 0;
}

/* n transactions of 10 writes each; *rate in transactions/s, *retries on EAGAIN. */
static int bench_tx10(struct xs_handle *h, unsigned n, double *rate, unsigned *retries)
{
        double t0 = now();
        char path[64];

        *retries = 0;
        for (unsigned i = 0; i < n; i++) {
                for (;;) {
                        xs_transaction_t t = xs_transaction_start(h);

                        if (t == XBT_NULL)
                                return -errno;
                        for (unsigned k = 0; k < 10; k++) {
                                snprintf(path, sizeof(path), "/bench/tx/%u", k);
                                if (!xs_write(h, t, path, "v", 1)) {
                                        int r = -errno;

                                        xs_transaction_end(h, t, true);
                                        return r;
                                }
                        }
                        if (xs_transaction_end(h, t, false))
                                break;
                        if (errno != EAGAIN)
                                return -errno;
                        (*retries)++;
                }
        }
        *rate = n / (now() - t0);
        return 0;
}

/* A 1000-domain-sized tree: 50 nodes under each /local/domain/<N>, one transaction per domain. */
static int populate(struct xs_handle *h, unsigned domains, double *secs)
{
        double t0 = now();
        char path[96];

        for (unsigned d = 1; d <= domains; d++) {
                xs_transaction_t t = xs_transaction_start(h);

                if (t == XBT_NULL)
                        return -errno;
                for (unsigned k = 0; k < 50; k++) {
                        snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%u/node%u", d,
                                 k / 10, k);
                        if (!xs_write(h, t, path, "some-value", 10))
                                return -errno;
                }
                if (!xs_transaction_end(h, t, false) && errno != EAGAIN)
                        return -errno;
        }
        *secs = now() - t0;
        return 0;
}

static int run(const char *label, const char *socket, bool with_tree)
{
        struct xs_handle *h;
        double rr = 0, wr = 0, tr = 0, ps = 0;
        unsigned long long before, after;
        unsigned retries = 0, nr = scaled(20000), nw = scaled(20000), nt = scaled(2000);
        int r;

        setenv("XENSTORED_PATH", socket, 1);
        h = xs_open(0);
        if (!h) {
                fprintf(stderr, "bench-xenstore: %s: cannot connect to %s: %m\n", label, socket);
                return -errno;
        }
        if (with_tree) {
                r = populate(h, 1000, &ps);
                if (r < 0)
                        goto out;
        }
        before = conn_requests(h);
        r = bench_read(h, nr, &rr);
        if (r >= 0)
                r = bench_write(h, nw, &wr);
        if (r >= 0)
                r = bench_tx10(h, nt, &tr, &retries);
        if (r < 0)
                goto out;
        after = conn_requests(h);
        printf("%-34s read %8.0f req/s   write %8.0f req/s   tx(10 writes) %7.0f tx/s = %8.0f "
               "req/s\n",
               label, rr, wr, tr, tr * 12);
        if (with_tree)
                printf("%-34s populating 1000 domains x 50 nodes took %.2f s (%.0f nodes/s)\n", "",
                       ps, 50000 / ps);
        if (after > before)
                printf("%-34s server counted %llu requests for %u expected\n", "",
                       after - before - 1, 1 + nr + nw + nt * 12 + retries * 12);
out:
        if (r < 0)
                fprintf(stderr, "bench-xenstore: %s: %s\n", label, strerror(-r));
        xs_rm(h, XBT_NULL, "/bench");
        xs_close(h);
        return r;
}

static pid_t start_sim(const char *build, const char *dir, char *sock, size_t size)
{
        char bin[512];
        pid_t pid;

        snprintf(bin, sizeof(bin), "%s/xensup-sim", build);
        snprintf(sock, size, "%s/xenstored.socket", dir);
        pid = fork();
        if (pid == 0) {
                execl(bin, bin, "--dir", dir, "--xenstore-only", (char *)NULL);
                _exit(127);
        }
        for (int i = 0; pid > 0 && i < 500; i++) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                memcpy(sa.sun_path, sock, strlen(sock) + 1);
                if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        return pid;
                usleep(10000);
        }
        return -1;
}

static void stop_sim(pid_t pid, const char *dir)
{
        char path[256];

        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        snprintf(path, sizeof(path), "%s/xensup-sim.log", dir);
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const char *build = getenv("XENSUP_BUILD");
        const char *real = getenv("XENSTORED_PATH_REAL");
        char dir[] = "/tmp/bench-xenstore.XXXXXX";
        char sock[128];
        pid_t pid;
        int r = 0;

        if (!mkdtemp(dir)) {
                perror("bench-xenstore: mkdtemp");
                return EXIT_FAILURE;
        }
        printf("bench-xenstore: libxenstore round trips, one client, one request at a time\n");
        pid = start_sim(build ? build : "build", dir, sock, sizeof(sock));
        if (pid < 0) {
                fprintf(stderr, "bench-xenstore: xensup-sim did not start\n");
                rmdir(dir);
                return EXIT_FAILURE;
        }
        r = run("xensup-sim, empty store", sock, false);
        if (r >= 0)
                r = run("xensup-sim, 1000-domain tree", sock, true);
        stop_sim(pid, dir);
        if (r >= 0 && real && *real)
                r = run("real xenstored", real, false);
        else if (r >= 0)
                printf("%-34s (set XENSTORED_PATH_REAL to its socket to compare)\n",
                       "real xenstored");
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
