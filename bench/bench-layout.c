/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-layout — what one domain's XenStore layout costs, against xensup-sim.
 *
 * Prints the requests each layout step sends (layout_request_count) and the
 * time a creation and a teardown take, also as a multiple of one plain
 * xs_write round trip on the same server, so runs on different machines can
 * be compared. Figures only, never pass/fail.
 *
 * Beside each create, the floor (layout_write_domain_floor()): the fewest requests any order
 * of its writes could take.
 *
 * usage: bench-layout [ROUNDS]   (XENSTORED_PATH set: that server; else starts xensup-sim)
 *        bench-layout --floor CONFIG...   each config's floor alone, as domid 1; no server
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

#include "common/error.h"
#include "layout/layout-internal.h"
#include "layout/layout.h"
#include "layout/sim-child.h"

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, unsigned n)
{
        qsort(v, n, sizeof(*v), cmp_u64);
        return v[n / 2];
}

/* Requests one call sent on l. */
#define COUNT(l, call)                                                                             \
        ({                                                                                         \
                uint64_t _b = layout_request_count(l);                                             \
                if ((call) < 0)                                                                    \
                        return -EIO;                                                               \
                layout_request_count(l) - _b;                                                      \
        })

/* d's floor; 0 (never a floor) if d is refused. */
static uint64_t floor_of(const struct layout_domain *d)
{
        uint64_t f = 0;

        return layout_write_domain_floor(d, &f, NULL) < 0 ? 0 : f;
}

/* --floor: each config's floor, "FILE: N", as a domain of domid 1 would have it. */
static int print_floors(char **files, int n)
{
        for (int i = 0; i < n; i++) {
                _cleanup_(config_freep) struct domain_config *cfg = NULL;
                _cleanup_free_ char *err = NULL;
                struct layout_domain d = { .domid = 1 };
                uint64_t f;
                int r = config_load_file(files[i], &cfg, &err);

                d.cfg = cfg;
                if (r >= 0)
                        r = layout_write_domain_floor(&d, &f, &err);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", files[i], err ? err : strerror(-r));
                        return r;
                }
                printf("%s: %" PRIu64 "\n", files[i], f);
        }
        return 0;
}

static int bench(unsigned rounds)
{
        struct domain_config cfg = {
                .name = "bench",
                .uuid = { 0xbe, 0x4c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00,
                          0x00, 0x00, 0x00, 0x01 },
                .type = DOMAIN_TYPE_PV,
                .memory_mib = 256,
                .maxmem_mib = 256,
                .vcpus = 1,
                .maxvcpus = 1,
                .kernel = (char *)"/boot/vmlinuz",
                .cmdline = (char *)"console=hvc0",
                .on_reboot = ACTION_RESTART,
                .cpu_weight = 256,
        };
        struct layout_domain d = { .cfg = &cfg, .name = cfg.name, .domid = 1 };
        struct layout_tool_state st = { .last_reason = SHUTDOWN_REASON_NONE };
        _cleanup_free_ uint64_t *create = calloc(rounds, sizeof(uint64_t));
        _cleanup_free_ uint64_t *destroy = calloc(rounds, sizeof(uint64_t));
        _cleanup_free_ uint64_t *write1 = calloc(rounds, sizeof(uint64_t));
        _cleanup_free_ uint64_t *serial = calloc(rounds, sizeof(uint64_t));
        _cleanup_free_ char *err = NULL;
        struct xs_handle *xs;
        struct layout *l, *one;
        uint64_t c, r, mc, md, mw, ms;
        bool ahead;

        if (!create || !destroy || !write1 || !serial)
                return -ENOMEM;
        if (layout_open(&l, &err) < 0 || layout_open(&one, &err) < 0) {
                fprintf(stderr, "%s\n", err);
                return -EIO;
        }
        /* The same creation one request per round trip, as libxenstore sends it: the ratio. */
        ahead = layout_test_break_wire(one);
        if (ahead && layout_write_domain(one, &d, NULL) < 0)
                return -EIO;
        xs = xs_open(XS_OPEN_SOCKETONLY);
        if (!xs) {
                layout_close(l);
                return -EIO;
        }

        printf("requests per step (PV, 1 vcpu, kernel and cmdline):\n");
        c = COUNT(l, layout_write_domain(l, &d, NULL));
        printf("  create                 %" PRIu64 "   (floor %" PRIu64 ")\n", c, floor_of(&d));
        printf("  set running            %" PRIu64 "\n",
               COUNT(l, layout_set_running(l, 1, true, NULL)));
        printf("  set memory             %" PRIu64 "\n",
               COUNT(l, layout_set_memory(l, 1, cfg.uuid, 131072, NULL)));
        printf("  request shutdown       %" PRIu64 "\n",
               COUNT(l, layout_request_shutdown(l, 1, "poweroff", NULL)));
        printf("  rename                 %" PRIu64 "\n",
               COUNT(l, layout_rename(l, 1, cfg.uuid, "bench-1", NULL)));
        printf("  state write, first     %" PRIu64 "\n",
               COUNT(l, layout_state_write(l, cfg.uuid, &st, NULL)));
        printf("  state write, later     %" PRIu64 "\n",
               COUNT(l, layout_state_write(l, cfg.uuid, &st, NULL)));
        printf("  state read             %" PRIu64 "\n",
               COUNT(l, layout_state_read(l, cfg.uuid, &st, NULL)));
        printf("  remove local           %" PRIu64 "\n", COUNT(l, layout_remove_local(l, 1, NULL)));
        printf("  remove vm              %" PRIu64 "\n",
               COUNT(l, layout_remove_vm(l, cfg.uuid, NULL)));
        for (unsigned vcpus = 4; vcpus <= 64; vcpus *= 4) {
                cfg.vcpus = cfg.maxvcpus = vcpus;
                c = COUNT(l, layout_write_domain(l, &d, NULL));
                printf("  create, %2u vcpus       %" PRIu64 "   (floor %" PRIu64 ")\n", vcpus, c,
                       floor_of(&d));
        }
        cfg.vcpus = cfg.maxvcpus = 1;

        for (unsigned i = 0; i < rounds; i++) {
                uint64_t t0 = now_ns(), t1, t2, t3;

                if (layout_write_domain(l, &d, NULL) < 0)
                        return -EIO;
                t1 = now_ns();
                if (layout_remove_local(l, 1, NULL) < 0 || layout_remove_vm(l, cfg.uuid, NULL) < 0)
                        return -EIO;
                t2 = now_ns();
                if (!xs_write(xs, XBT_NULL, "/bench", "x", 1))
                        return -EIO;
                t3 = now_ns();
                if (layout_write_domain(one, &d, NULL) < 0)
                        return -EIO;
                serial[i] = now_ns() - t3;
                if (layout_remove_local(one, 1, NULL) < 0 ||
                    layout_remove_vm(one, cfg.uuid, NULL) < 0)
                        return -EIO;
                create[i] = t1 - t0;
                destroy[i] = t2 - t1;
                write1[i] = t3 - t2;
        }
        mc = median(create, rounds);
        md = median(destroy, rounds);
        mw = median(write1, rounds);
        r = mw ? mw : 1;
        printf("\nmedian of %u rounds:\n", rounds);
        printf("  one xs_write round trip   %8.1f us\n", mw / 1000.0);
        ms = median(serial, rounds);
        printf("  create                    %8.1f us  (%.1f round trips)%s\n", mc / 1000.0,
               (double)mc / (double)r, ahead ? ", requests sent ahead of replies" : "");
        printf("  create, one at a time     %8.1f us  (%.1f round trips; %.2f of it sent ahead)\n",
               ms / 1000.0, (double)ms / (double)r, ms ? (double)mc / (double)ms : 0.0);
        printf("  teardown (local + vm)     %8.1f us  (%.1f round trips)\n", md / 1000.0,
               (double)md / (double)r);
        xs_rm(xs, XBT_NULL, "/bench");
        xs_close(xs);
        layout_close(l);
        layout_close(one);
        return 0;
}

int main(int argc, char **argv)
{
        struct sim_child sim = { .pid = 0 };
        unsigned rounds;
        int r = 0;

        if (argc > 1 && strcmp(argv[1], "--floor") == 0)
                return print_floors(argv + 2, argc - 2) < 0 ? 1 : 0;
        rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200;

        if (rounds == 0) {
                fprintf(stderr, "usage: %s [ROUNDS] | --floor CONFIG...\n", argv[0]);
                return 2;
        }
        r = sim_child_start_unless_set(&sim);
        if (r >= 0)
                r = bench(rounds);
        sim_child_stop(&sim);
        return r < 0 ? 1 : 0;
}
