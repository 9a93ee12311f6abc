/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xs-wire.h — a XenStore connection that sends requests without waiting for each reply.
 *
 * libxenstore waits for every reply before it sends the next request, so a transaction of 70
 * writes costs 70 round trips to xenstored (each a wake-up of dom0's xenstored, slow under
 * emulation and serialized between builds by the XenStore lock). xenstored answers a socket's
 * requests in order, so the writes of one transaction can all be sent first and their replies
 * read after: a few round trips. This module speaks the socket protocol (xen/io/xs_wire.h) for
 * the requests layout sends inside its transactions; watches, introductions and single
 * requests stay on libxenstore's handle. Only a socket is spoken: with no xenstored socket
 * (a guest's /dev/xen/xenbus) xs_wire_open() fails and the caller keeps libxenstore.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenstore.h>

struct xs_wire;

/* Which queued request failed (type and path), for the caller's message. */
struct xs_wire_failure {
        uint32_t type; /* XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS or XS_TRANSACTION_END */
        char path[XENSTORE_ABS_PATH_MAX + 1];
};

/* Connect to xenstored's socket (xs_daemon_socket()); -errno when there is none. */
int xs_wire_open(struct xs_wire **ret);

/* Close the connection; its transactions end with it, as xenstored drops them. NULL. */
struct xs_wire *xs_wire_close(struct xs_wire *w);

/* Shut the connection down as a xenstored that went away would (tests): the next call fails. */
void xs_wire_shutdown(struct xs_wire *w);

/* Whether the connection failed (I/O or a reply out of order): only closing it remains. */
bool xs_wire_broken(const struct xs_wire *w);

/*
 * Queue a request whose reply only says whether it worked (write, mkdir, rm, set-perms),
 * body path NUL data: sent at the next flush. -ENOBUFS when the queue is full (flush first),
 * -E2BIG when the body exceeds XenStore's payload.
 */
int xs_wire_queue(struct xs_wire *w, uint32_t type, uint32_t tx, const char *path, const void *data,
                  size_t len);

/* Whether nothing is queued. */
bool xs_wire_idle(const struct xs_wire *w);

/*
 * Send what is queued and read every reply: 0, or the first failure's -errno with *f saying
 * which request (an rm of what is absent is not one). All replies are read either way.
 */
int xs_wire_flush(struct xs_wire *w, struct xs_wire_failure *f);

/*
 * Send one request (nothing may be queued) and wait for its reply: the payload in *reply_r
 * (len bytes and a NUL after them, the caller frees), or -errno.
 */
int xs_wire_call(struct xs_wire *w, uint32_t type, uint32_t tx, const char *path, const void *data,
                 size_t len, char **reply_r, size_t *len_r);

/* List path's children inside tx, a directory too long for one reply in parts (E2BIG). */
int xs_wire_directory(struct xs_wire *w, uint32_t tx, const char *path, char **names_r,
                      size_t *len_r);
