/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macros.h"
#include "layout/sim-child.h"

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
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

int sim_child_start(struct sim_child *s, const char *path, bool quiet)
{
        *s = (struct sim_child){ .pid = 0 };
        strcpy(s->dir, "/tmp/xensup-sim-child.XXXXXX");
        if (!mkdtemp(s->dir)) {
                s->dir[0] = '\0';
                return -errno;
        }
        snprintf(s->socket, sizeof(s->socket), "%s/xenstored.socket", s->dir);

        s->pid = fork();
        if (s->pid < 0) {
                s->pid = 0;
                return -errno;
        }
        if (s->pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

                /* Its log goes to stderr; stdout stays the caller's. */
                if (null >= 0) {
                        dup2(null, STDOUT_FILENO);
                        if (quiet)
                                dup2(null, STDERR_FILENO);
                }
                execl(path, "xensup-sim", "--dir", s->dir, (char *)NULL);
                fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
                _exit(127);
        }
        for (int i = 0; i < 1000; i++) {
                struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

                if (socket_answers(s->socket))
                        return setenv("XENSTORED_PATH", s->socket, 1) < 0 ? -errno : 0;
                if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
                        s->pid = 0;
                        return -ECHILD;
                }
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

void sim_child_stop(struct sim_child *s)
{
        if (s->pid > 0) {
                kill(s->pid, SIGTERM);
                waitpid(s->pid, NULL, 0);
                s->pid = 0;
        }
        if (s->dir[0]) {
                nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
                s->dir[0] = '\0';
        }
}

int sim_child_start_unless_set(struct sim_child *s)
{
        char exe[PATH_MAX], path[PATH_MAX + 16];
        ssize_t n;
        int r;

        if (getenv("XENSTORED_PATH"))
                return 0;
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0) {
                r = -errno;
                fprintf(stderr, "/proc/self/exe: %s\n", strerror(-r));
                return r;
        }
        exe[n] = '\0';
        snprintf(path, sizeof(path), "%s/xensup-sim", dirname(exe));
        r = sim_child_start(s, path, true);
        if (r < 0)
                fprintf(stderr, "cannot start %s: %s\n", path, strerror(-r));
        return r;
}
