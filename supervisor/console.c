/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/macros.h"
#include "supervisor/console.h"

/* Linux's UNIX98_PTY_SLAVE_MAJOR and the majors after it (devpts' slaves). */
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST  143

/* Whether fd is a devpts slave: the path came from XenStore, so what it opened is checked. */
static bool fd_is_pty_slave(int fd)
{
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
                return false;
        return major(st.st_rdev) >= PTY_SLAVE_MAJOR_FIRST &&
               major(st.st_rdev) <= PTY_SLAVE_MAJOR_LAST && isatty(fd);
}

int console_open(struct manager *m, struct domain *d, int *fd_r, struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        char tty[LAYOUT_TTY_MAX + 1];
        int fd, r;

        if (d->state != DOMAIN_RUNNING && d->state != DOMAIN_PAUSED)
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "%s is %s: only a running or paused domain has a console",
                                   d->name, domain_state_to_string(d->state));
        r = layout_console_tty(m->layout, d->domid, tty, sizeof(tty), &err);
        if (r == -EAGAIN)
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "%s: its console is not there yet (%s); try again", d->name,
                                   err ? err : strerror(-r));
        if (r < 0)
                return sup_failure(e, LAYER_XENSTORE, r, "%s's console: %s", d->name,
                                   err ? err : strerror(-r));
        fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return sup_failure(e, LAYER_SYSTEM, -errno, "%s's console: cannot open %s: %s",
                                   d->name, tty, strerror(errno));
        if (!fd_is_pty_slave(fd)) {
                close(fd);
                return sup_failure(e, LAYER_SYSTEM, -ENOTTY, "%s's console: %s is no pty", d->name,
                                   tty);
        }
        *fd_r = fd;
        return 0;
}
