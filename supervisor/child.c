/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macros.h"
#include "supervisor/child.h"

/* In the child: no threads of the daemon's, but its mask and its death are to be undone. */
static _Noreturn void child_run(child_work_fn work, void *arg, int fd, pid_t parent)
{
        sigset_t none;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        _exit(work(arg, fd));
}

int child_start(struct child *c, sd_event *event, child_work_fn work, void *arg,
                sd_event_child_handler_t on_exit, void *userdata)
{
        _cleanup_close_ int rfd = -1, wfd = -1;
        pid_t parent = getpid(), pid;
        int fds[2], r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        rfd = fds[0];
        wfd = fds[1];
        if (fcntl(rfd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(TAKE_FD(rfd));
                child_run(work, arg, wfd, parent);
        }
        c->pid = pid;
        c->fd = TAKE_FD(rfd);
        r = sd_event_add_child(event, &c->source, pid, WEXITED, on_exit, userdata);
        if (r < 0) {
                child_stop(c);
                return r;
        }
        return 0;
}

int child_write_result(int fd, const void *record, size_t size)
{
        return write(fd, record, size) == (ssize_t)size ? 0 : -EIO;
}

int child_read_result(struct child *c, const siginfo_t *si, void *record, size_t size, char how[64])
{
        ssize_t n = read(c->fd, record, size);

        /* sd-event reaps it once the handler returns: nothing to kill any more. */
        c->pid = 0;
        if (n == (ssize_t)size)
                return 0;
        if (si->si_code == CLD_EXITED)
                snprintf(how, 64, "exited with status %d without a result", si->si_status);
        else
                snprintf(how, 64, "was killed by %s", strsignal(si->si_status));
        return -EIO;
}

void child_stop(struct child *c)
{
        c->source = sd_event_source_disable_unref(c->source);
        if (c->pid > 0) {
                kill(c->pid, SIGKILL);
                waitpid(c->pid, NULL, 0);
        }
        c->pid = 0;
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}
