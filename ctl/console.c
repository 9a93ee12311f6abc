/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/macros.h"
#include "ctl/console.h"

struct terminal {
        bool raw; /* saved holds what to restore */
        struct termios saved;
};

/* A terminal on standard input goes raw: every key, Ctrl-C too, is the guest's. */
static int terminal_raw(struct terminal *t)
{
        struct termios raw;

        if (!isatty(STDIN_FILENO))
                return 0;
        if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
                return -errno;
        raw = t->saved;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
                return -errno;
        t->raw = true;
        return 0;
}

static void terminal_restore(struct terminal *t)
{
        if (t->raw)
                (void)tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
        t->raw = false;
}

/* Keys to the guest, up to the escape: 1 when it was typed. */
static int relay_keys(int console)
{
        char buf[4096];
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        char *escape;
        int r;

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return 1; /* input ended: nothing more will be typed */
        escape = memchr(buf, CONSOLE_ESCAPE, (size_t)n);
        r = write_all(console, buf, escape ? (size_t)(escape - buf) : (size_t)n);
        if (r < 0)
                return r;
        return escape ? 1 : 0;
}

/* The guest's output to ours: 1 when the console closed. */
static int relay_output(int console)
{
        char buf[4096];
        ssize_t n = read(console, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        /* A pty whose master went (xenconsoled let go: the domain is gone) reads EIO. */
        if (n == 0 || (n < 0 && errno == EIO))
                return 1;
        if (n < 0)
                return -errno;
        return write_all(STDOUT_FILENO, buf, (size_t)n);
}

int console_relay(int console, const char *banner, bool *closed_r)
{
        struct terminal term = { 0 };
        _cleanup_close_ int sfd = -1;
        sigset_t mask, old;
        int r;

        *closed_r = false;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return -errno;
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                r = -errno;
                goto out;
        }
        r = terminal_raw(&term);
        if (r >= 0 && banner)
                fputs(banner, stderr);
        while (r >= 0) {
                struct pollfd p[] = {
                        { .fd = STDIN_FILENO, .events = POLLIN },
                        { .fd = console, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                };

                if (poll(p, ELEMENTSOF(p), -1) < 0) {
                        r = errno == EINTR ? 0 : -errno;
                        continue;
                }
                if (p[2].revents)
                        break;
                /* Output first: what the guest said before it went is shown. */
                if (p[1].revents) {
                        r = relay_output(console);
                        if (r == 1) {
                                *closed_r = true;
                                break;
                        }
                        if (r < 0)
                                break;
                }
                if (p[0].revents) {
                        r = relay_keys(console);
                        if (r == 1)
                                break;
                }
        }
        if (r > 0)
                r = 0;
        terminal_restore(&term);
out:
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
