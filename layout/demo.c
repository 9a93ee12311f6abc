/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensup-layout-demo — write an example domain's XenStore layout and show it.
 *
 * Uses the XenStore that XENSTORED_PATH points at; without it, starts
 * xensup-sim (from the directory this program is in) in a fresh temporary
 * directory, and stops it at the end. Prints the domain's three subtrees with
 * the real `xenstore-ls -p` and the number of requests the creation sent.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/error.h"
#include "layout/layout.h"
#include "layout/sim-child.h"

static int show(const char *path)
{
        pid_t pid;
        int status;

        printf("\n$ xenstore-ls -p %s\n", path);
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execlp("xenstore-ls", "xenstore-ls", "-p", path, (char *)NULL);
                fprintf(stderr, "cannot run xenstore-ls: %s\n", strerror(errno));
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int demo(void)
{
        struct domain_config cfg = {
                .name = "example",
                .uuid = { 0x5e, 0xe0, 0x1c, 0x7a, 0x0d, 0x3b, 0x4c, 0x52, 0x9f, 0x1e, 0x33, 0x40,
                          0x6b, 0x2a, 0x91, 0x07 },
                .type = DOMAIN_TYPE_PV,
                .memory_mib = 256,
                .maxmem_mib = 512,
                .vcpus = 2,
                .maxvcpus = 4,
                .kernel = (char *)"/boot/vmlinuz-6.1.0-28-amd64",
                .ramdisk = (char *)"/boot/initrd.img-6.1.0-28-amd64",
                .cmdline = (char *)"console=hvc0 root=/dev/xvda1 ro",
                .on_poweroff = ACTION_DESTROY,
                .on_reboot = ACTION_RESTART,
                .on_crash = ACTION_PRESERVE,
                .cpu_weight = 256,
        };
        struct layout_domain d = {
                .cfg = &cfg,
                .name = cfg.name,
                .domid = 5,
                .store_port = 1,
                .store_mfn = 0x41001,
                .console_port = 2,
                .console_mfn = 0x41000,
        };
        struct layout *l = NULL;
        _cleanup_free_ char *err = NULL;
        uint64_t before;
        int r;

        r = layout_open(&l, &err);
        if (r < 0) {
                fprintf(stderr, "%s\n", err);
                return r;
        }
        before = layout_request_count(l);
        r = layout_write_domain(l, &d, &err);
        if (r < 0) {
                fprintf(stderr, "%s\n", err);
                layout_close(l);
                return r;
        }
        printf("domain %s (domid %u, %u of %u vcpus): layout written in one transaction of "
               "%llu requests\n",
               cfg.name, d.domid, cfg.vcpus, cfg.maxvcpus,
               (unsigned long long)(layout_request_count(l) - before));
        layout_close(l);

        if ((r = show("/vm/5ee01c7a-0d3b-4c52-9f1e-33406b2a9107")) < 0 ||
            (r = show("/local/domain/5")) < 0 ||
            (r = show("/local/domain/0/backend/console/5")) < 0)
                return r;
        return 0;
}

int main(int argc, char **argv)
{
        struct sim_child sim = { .pid = 0 };
        int r = 0;

        if (argc > 1) {
                fprintf(stderr,
                        "usage: %s\n"
                        "Writes an example domain's XenStore layout and prints it with "
                        "xenstore-ls -p.\nUses XENSTORED_PATH when set, else starts xensup-sim.\n",
                        argv[0]);
                return 2;
        }
        r = sim_child_start_unless_set(&sim);
        if (r >= 0)
                r = demo();
        sim_child_stop(&sim);
        return r < 0 ? 1 : 0;
}
