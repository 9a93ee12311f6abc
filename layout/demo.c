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
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "common/error.h"
#include "layout/layout.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

/* True once something accepts connections on the socket at path. */
static bool socket_answers(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return false;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

/* Start xensup-sim --dir dir; wait up to 10 s for its XenStore socket. */
static int start_sim(const char *dir, pid_t *pid_r)
{
        char exe[PATH_MAX], sim[PATH_MAX + 16], sock[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        pid_t pid;

        if (n < 0)
                return -errno;
        exe[n] = '\0';
        snprintf(sim, sizeof(sim), "%s/xensup-sim", dirname(exe));
        snprintf(sock, sizeof(sock), "%s/xenstored.socket", dir);

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

                if (null >= 0)
                        dup2(null, STDOUT_FILENO);
                execl(sim, "xensup-sim", "--dir", dir, (char *)NULL);
                fprintf(stderr, "cannot run %s: %m\n", sim);
                _exit(127);
        }
        *pid_r = pid;
        for (int i = 0; i < 1000; i++) {
                struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

                if (socket_answers(sock))
                        return setenv("XENSTORED_PATH", sock, 1) < 0 ? -errno : 0;
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                        *pid_r = 0;
                        return -ECHILD;
                }
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

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
                fprintf(stderr, "cannot run xenstore-ls: %m\n");
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
        char dir[] = "/tmp/xensup-layout-demo.XXXXXX";
        bool own_sim = !getenv("XENSTORED_PATH");
        pid_t sim = 0;
        int r = 0;

        if (argc > 1) {
                fprintf(stderr,
                        "usage: %s\n"
                        "Writes an example domain's XenStore layout and prints it with "
                        "xenstore-ls -p.\nUses XENSTORED_PATH when set, else starts xensup-sim.\n",
                        argv[0]);
                return 2;
        }
        if (own_sim) {
                if (!mkdtemp(dir)) {
                        perror("mkdtemp");
                        return 1;
                }
                r = start_sim(dir, &sim);
                if (r < 0)
                        fprintf(stderr, "cannot start xensup-sim: %s\n", strerror(-r));
        }
        if (r >= 0)
                r = demo();
        if (sim > 0) {
                kill(sim, SIGTERM);
                waitpid(sim, NULL, 0);
        }
        if (own_sim)
                nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return r < 0 ? 1 : 0;
}
