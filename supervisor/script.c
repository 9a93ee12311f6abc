/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "supervisor/script.h"

#define SCRIPT_STDERR_MAX 512 /* the end of its stderr kept for the message */

int script_resolve(const char *name, char path[LAYOUT_DEVICE_SCRIPT_MAX], char **err_r)
{
        struct stat st;
        int n = name[0] == '/'
                    ? snprintf(path, LAYOUT_DEVICE_SCRIPT_MAX, "%s", name)
                    : snprintf(path, LAYOUT_DEVICE_SCRIPT_MAX, "%s/%s", SCRIPT_DIR, name);

        if (n < 0 || n >= LAYOUT_DEVICE_SCRIPT_MAX)
                return err_setf(err_r, -ENAMETOOLONG, "script %s: the path is too long", name);
        if (name[0] != '/' && strchr(name, '/'))
                return err_setf(err_r, -EINVAL, "script %s: a name in %s, or an absolute path",
                                name, SCRIPT_DIR);
        if (stat(path, &st) < 0)
                return err_setf(err_r, -errno, "script %s: %s", path, strerror(errno));
        /* It runs as root: only root may have put it there or changed it. */
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
            !(st.st_mode & S_IXUSR))
                return err_setf(err_r, -EPERM,
                                "script %s: must be an executable regular file owned by root "
                                "that only root may write",
                                path);
        return 0;
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* In the child: libxl's environment on top of ours, stdin from /dev/null, stderr to fd. */
static _Noreturn void script_exec(const struct layout_device *dev, bool up, int err_fd)
{
        const char *kind = layout_device_kind_to_string(dev->kind);
        char xb_path[96], vif[32];
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        snprintf(xb_path, sizeof(xb_path), "backend/%s/%" PRIu32 "/%" PRIu32, kind, dev->domid,
                 dev->devid);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
            dup2(err_fd, STDERR_FILENO) < 0)
                _exit(127);
        setenv("script", dev->script, 1);
        setenv("XENBUS_TYPE", kind, 1);
        setenv("XENBUS_PATH", xb_path, 1);
        setenv("XENBUS_BASE_PATH", "backend", 1);
        if (dev->kind == LAYOUT_DEVICE_VIF) {
                /* netback's name for it; the script renames it from the backend's vifname. */
                snprintf(vif, sizeof(vif), "vif%" PRIu32 ".%" PRIu32, dev->domid, dev->devid);
                setenv("vif", vif, 1);
                setenv("netdev", "", 1);
                execl(dev->script, dev->script, up ? "online" : "offline", "type_if=vif", NULL);
        } else {
                execl(dev->script, dev->script, up ? "add" : "remove", NULL);
        }
        _exit(127);
}

/*
 * Keep the last SCRIPT_STDERR_MAX - 1 bytes of what came (n bytes at a time, fewer than that):
 * a script's last words say why.
 */
static void keep_tail(char tail[SCRIPT_STDERR_MAX], size_t *used, const char *buf, size_t n)
{
        const size_t max = SCRIPT_STDERR_MAX - 1;

        if (*used + n > max) {
                size_t drop = *used + n - max;

                memmove(tail, tail + drop, *used - drop);
                *used -= drop;
        }
        memcpy(tail + *used, buf, n);
        *used += n;
        tail[*used] = '\0';
}

/* Wait for pid at most timeout_ms, keeping the end of what it writes to fd; its wait status. */
static int script_wait(pid_t pid, int fd, unsigned timeout_ms, char tail[SCRIPT_STDERR_MAX],
                       int *status_r)
{
        uint64_t deadline = now_ms() + timeout_ms;
        size_t used = 0;

        tail[0] = '\0';
        for (;;) {
                /* A closed stderr (fd -1) is ignored by poll: then it only paces the loop. */
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                uint64_t now = now_ms();
                char buf[SCRIPT_STDERR_MAX / 2];
                ssize_t n;

                if (waitpid(pid, status_r, WNOHANG) == pid)
                        return 0;
                if (now >= deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, status_r, 0);
                        return -ETIMEDOUT;
                }
                if (poll(&pfd, 1, deadline - now < 50 ? (int)(deadline - now) : 50) <= 0 || fd < 0)
                        continue;
                n = read(fd, buf, sizeof(buf));
                if (n <= 0)
                        fd = -1;
                else
                        keep_tail(tail, &used, buf, (size_t)n);
        }
}

/* What the script said: its hotplug-error node, else the last line of its stderr. */
static const char *script_words(struct layout *l, const struct layout_device *dev, char *tail,
                                char words[SCRIPT_STDERR_MAX])
{
        char *nl;

        if (layout_device_backend_node(l, dev, "hotplug-error", words, SCRIPT_STDERR_MAX, NULL) ==
                0 &&
            words[0])
                return words;
        while ((nl = strrchr(tail, '\n')) && nl[1] == '\0')
                *nl = '\0';
        nl = strrchr(tail, '\n');
        return nl ? nl + 1 : tail;
}

int script_run(struct layout *l, const struct layout_device *dev, bool up, unsigned timeout_ms,
               char **err_r)
{
        const char *action =
            dev->kind == LAYOUT_DEVICE_VIF ? (up ? "online" : "offline") : (up ? "add" : "remove");
        char tail[SCRIPT_STDERR_MAX], words[SCRIPT_STDERR_MAX];
        _cleanup_close_ int rfd = -1, wfd = -1;
        int fds[2], status = 0, r;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return err_setf(err_r, -errno, "script %s %s: %s", dev->script, action,
                                strerror(errno));
        rfd = fds[0];
        wfd = fds[1];
        pid = fork();
        if (pid < 0)
                return err_setf(err_r, -errno, "script %s %s: %s", dev->script, action,
                                strerror(errno));
        if (pid == 0)
                script_exec(dev, up, wfd);
        close(TAKE_FD(wfd));
        r = script_wait(pid, rfd, timeout_ms, tail, &status);
        if (r == -ETIMEDOUT)
                return err_setf(err_r, r, "script %s %s did not finish in %u s; killed",
                                dev->script, action, timeout_ms / 1000);
        if (r < 0)
                return err_setf(err_r, r, "script %s %s: %s", dev->script, action, strerror(-r));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return err_setf(err_r, -EIO, "script %s %s failed (exit status %d): %s",
                                dev->script, action, WEXITSTATUS(status),
                                script_words(l, dev, tail, words));
        return err_setf(err_r, -EIO, "script %s %s was killed by %s: %s", dev->script, action,
                        strsignal(WTERMSIG(status)), script_words(l, dev, tail, words));
}
