/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-console.c — the simulated host's xenconsoled and the guest's end of its
 * console. xenconsoled gives each introduced domain a pty, in raw mode, and
 * writes its slave's path into the dom0-owned /local/domain/<domid>/console/tty
 * (the node the toolstack made empty); it keeps the slave open itself, so a
 * client coming and going never hangs the master up. The guest prints a line
 * when it boots and echoes what it is sent, a carriage return as "\r\n", as a
 * getty's line discipline would; what it prints while nobody reads waits in
 * the pty, as far as the pty holds, and is dropped beyond.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sim/hv-internal.h"

struct hv_console {
        int master, slave;
        sd_event_source *source;
};

/* Write what fits; a full pty drops the rest, as a serial line with nobody on it. */
static void console_write(struct hv_console *con, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(con->master, buf, len);

                if (n <= 0)
                        return;
                buf += n;
                len -= (size_t)n;
        }
}

static int on_console_input(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct hv_console *con = userdata;
        char in[256], out[2 * sizeof(in)];
        size_t o = 0;
        ssize_t n;

        (void)s;
        (void)revents;
        n = read(fd, in, sizeof(in));
        if (n <= 0)
                return 0;
        for (ssize_t i = 0; i < n; i++) {
                out[o++] = in[i];
                if (in[i] == '\r')
                        out[o++] = '\n';
        }
        console_write(con, out, o);
        return 0;
}

/* A pty in raw mode, its slave held open; NULL and errno on failure. */
static struct hv_console *console_new(sd_event *event, char *tty, size_t size)
{
        struct hv_console *con = calloc(1, sizeof(*con));
        struct termios t;
        int saved;

        if (!con)
                return NULL;
        con->slave = -1;
        con->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (con->master < 0 || grantpt(con->master) < 0 || unlockpt(con->master) < 0 ||
            ptsname_r(con->master, tty, size) != 0)
                goto fail;
        con->slave = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (con->slave < 0 || tcgetattr(con->slave, &t) < 0)
                goto fail;
        cfmakeraw(&t);
        if (tcsetattr(con->slave, TCSANOW, &t) < 0 ||
            sd_event_add_io(event, &con->source, con->master, EPOLLIN, on_console_input, con) < 0)
                goto fail;
        return con;
fail:
        saved = errno;
        if (con->slave >= 0)
                close(con->slave);
        if (con->master >= 0)
                close(con->master);
        free(con);
        errno = saved;
        return NULL;
}

int hv_console_open(struct hv_domain *d)
{
        char tty[64], path[64];
        int r;

        if (d->console || !d->hv->dom0)
                return 0;
        d->console = console_new(d->hv->event, tty, sizeof(tty));
        if (!d->console)
                return -errno;
        snprintf(path, sizeof(path), "/local/domain/%u/console/tty", d->domid);
        r = xs_conn_write(d->hv->dom0, path, tty, strlen(tty));
        if (r < 0) {
                hv_console_close(d);
                return r;
        }
        return 0;
}

void hv_console_printf(struct hv_domain *d, const char *fmt, ...)
{
        _cleanup_free_ char *text = NULL;
        va_list ap;
        int n;

        if (!d->console)
                return;
        va_start(ap, fmt);
        n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n > 0)
                console_write(d->console, text, (size_t)n);
}

void hv_console_close(struct hv_domain *d)
{
        struct hv_console *con = d->console;

        if (!con)
                return;
        /* The pty goes with the domain: a client reading the slave sees its end. */
        sd_event_source_disable_unref(con->source);
        close(con->slave);
        close(con->master);
        free(con);
        d->console = NULL;
}
