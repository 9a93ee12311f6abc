/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xs-wire.c — XenStore's socket protocol with requests sent ahead of replies (xs-wire.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>
#include <xenstore_lib.h>

#include "common/fs.h"
#include "common/macros.h"
#include "layout/xs-wire.h"

/*
 * A flush's worth: enough for a PV domain's whole layout in one or two round trips, little
 * enough that xenstored's replies never fill the socket while we are still sending.
 */
#define WIRE_QUEUE_MAX 64
#define WIRE_BYTES_MAX (16 * 1024)

struct wire_pending {
        uint32_t type;
        uint32_t req_id;
        size_t path_at; /* offset of its path in out */
};

struct xs_wire {
        int fd; /* -1 once broken */
        uint32_t next_id;
        size_t n;
        struct wire_pending pending[WIRE_QUEUE_MAX];
        size_t used;
        char out[WIRE_BYTES_MAX];
};

int xs_wire_open(struct xs_wire **ret)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        const char *path = xs_daemon_socket();
        struct xs_wire *w;
        int fd;

        if (!path || strlen(path) >= sizeof(addr.sun_path))
                return -ENAMETOOLONG;
        memcpy(addr.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        w = calloc(1, sizeof(*w));
        if (!w) {
                close(fd);
                return -ENOMEM;
        }
        w->fd = fd;
        *ret = w;
        return 0;
}

struct xs_wire *xs_wire_close(struct xs_wire *w)
{
        if (!w)
                return NULL;
        if (w->fd >= 0)
                close(w->fd);
        free(w);
        return NULL;
}

void xs_wire_shutdown(struct xs_wire *w)
{
        if (w->fd >= 0)
                (void)shutdown(w->fd, SHUT_RDWR);
}

bool xs_wire_broken(const struct xs_wire *w)
{
        return w->fd < 0;
}

bool xs_wire_idle(const struct xs_wire *w)
{
        return w->n == 0;
}

/* The connection can no longer be trusted to be in step with xenstored: r, and nothing more. */
static int wire_break(struct xs_wire *w, int r)
{
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -1;
        w->n = 0;
        w->used = 0;
        return r;
}

int xs_wire_queue(struct xs_wire *w, uint32_t type, uint32_t tx, const char *path, const void *data,
                  size_t len)
{
        size_t plen = strlen(path) + 1;
        struct xsd_sockmsg hdr = { .type = type, .tx_id = tx };

        if (w->fd < 0)
                return -ENOTCONN;
        if (plen + len > XENSTORE_PAYLOAD_MAX)
                return -E2BIG;
        if (w->n == WIRE_QUEUE_MAX || w->used + sizeof(hdr) + plen + len > sizeof(w->out))
                return -ENOBUFS;
        hdr.req_id = w->next_id++;
        hdr.len = (uint32_t)(plen + len);
        w->pending[w->n++] = (struct wire_pending){ .type = type,
                                                    .req_id = hdr.req_id,
                                                    .path_at = w->used + sizeof(hdr) };
        memcpy(w->out + w->used, &hdr, sizeof(hdr));
        memcpy(w->out + w->used + sizeof(hdr), path, plen);
        if (len)
                memcpy(w->out + w->used + sizeof(hdr) + plen, data, len);
        w->used += sizeof(hdr) + plen + len;
        return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
        char *p = buf;

        while (len > 0) {
                ssize_t n = read(fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ECONNRESET;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The errno an XS_ERROR reply names (EINVAL for a name we do not know, as libxenstore). */
static int reply_errno(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(xsd_errors); i++)
                if (strcmp(xsd_errors[i].errstring, name) == 0)
                        return xsd_errors[i].errnum;
        return EINVAL;
}

/*
 * Read the reply to request req_id of type: its payload in *reply_r (NUL after it) when
 * reply_r is set, or -errno: the request's failure, or the connection's (then broken).
 */
static int read_reply(struct xs_wire *w, uint32_t type, uint32_t req_id, char **reply_r,
                      size_t *len_r)
{
        for (;;) {
                struct xsd_sockmsg hdr;
                char *body;
                int r = read_all(w->fd, &hdr, sizeof(hdr));

                if (r < 0)
                        return wire_break(w, r);
                if (hdr.len > XENSTORE_PAYLOAD_MAX)
                        return wire_break(w, -EBADMSG);
                body = malloc(hdr.len + 1);
                if (!body)
                        return wire_break(w, -ENOMEM);
                r = read_all(w->fd, body, hdr.len);
                if (r < 0) {
                        free(body);
                        return wire_break(w, r);
                }
                body[hdr.len] = '\0';
                /* This connection sets no watch; an event would be xenstored's own. */
                if (hdr.type == (uint32_t)XS_WATCH_EVENT) {
                        free(body);
                        continue;
                }
                if (hdr.req_id != req_id || (hdr.type != type && hdr.type != (uint32_t)XS_ERROR)) {
                        free(body);
                        return wire_break(w, -EBADMSG);
                }
                if (hdr.type == (uint32_t)XS_ERROR) {
                        r = -reply_errno(body);
                        free(body);
                        return r;
                }
                if (reply_r) {
                        *reply_r = body;
                        *len_r = hdr.len;
                } else
                        free(body);
                return 0;
        }
}

int xs_wire_flush(struct xs_wire *w, struct xs_wire_failure *f)
{
        int first = 0, r;

        if (w->fd < 0)
                return -ENOTCONN;
        if (w->n == 0)
                return 0;
        r = send_all(w->fd, w->out, w->used);
        if (r < 0)
                return wire_break(w, r);
        for (size_t i = 0; i < w->n; i++) {
                const struct wire_pending *p = &w->pending[i];

                r = read_reply(w, p->type, p->req_id, NULL, NULL);
                if (xs_wire_broken(w))
                        return r;
                if (r == -ENOENT && p->type == XS_RM)
                        r = 0;
                if (r < 0 && first == 0) {
                        first = r;
                        f->type = p->type;
                        snprintf(f->path, sizeof(f->path), "%s", w->out + p->path_at);
                }
        }
        w->n = 0;
        w->used = 0;
        return first;
}

int xs_wire_call(struct xs_wire *w, uint32_t type, uint32_t tx, const char *path, const void *data,
                 size_t len, char **reply_r, size_t *len_r)
{
        uint32_t req_id = w->next_id;
        int r;

        if (w->n > 0)
                return -EBUSY;
        r = xs_wire_queue(w, type, tx, path, data, len);
        if (r < 0)
                return r;
        r = send_all(w->fd, w->out, w->used);
        w->n = 0;
        w->used = 0;
        if (r < 0)
                return wire_break(w, r);
        return read_reply(w, type, req_id, reply_r, len_r);
}

/* Append len bytes to the growing buffer *buf of *size bytes. */
static int append(char **buf, size_t *size, const char *data, size_t len)
{
        char *b = realloc(*buf, *size + len + 1);

        if (!b)
                return -ENOMEM;
        memcpy(b + *size, data, len);
        *size += len;
        b[*size] = '\0';
        *buf = b;
        return 0;
}

/*
 * The parts walk: each reply is the node's generation, then names from offset on; the last
 * part ends with an empty name. A generation that changes means the list did: start again.
 */
static int directory_parts(struct xs_wire *w, uint32_t tx, const char *path, char **names_r,
                           size_t *len_r)
{
        char *names = NULL, *gen = NULL;
        size_t size = 0, offset = 0;
        int r;

        for (;;) {
                char off[24], *reply;
                size_t len, glen, clen;

                snprintf(off, sizeof(off), "%zu", offset);
                r = xs_wire_call(w, XS_DIRECTORY_PART, tx, path, off, strlen(off) + 1, &reply,
                                 &len);
                if (r < 0)
                        break;
                glen = strnlen(reply, len) + 1;
                if (glen > len) {
                        free(reply);
                        r = -EBADMSG;
                        break;
                }
                if (gen && strcmp(gen, reply) != 0) {
                        free(reply);
                        gen = (free(gen), NULL);
                        names = (free(names), NULL);
                        size = offset = 0;
                        continue;
                }
                if (!gen && !(gen = strdup(reply))) {
                        free(reply);
                        r = -ENOMEM;
                        break;
                }
                clen = len - glen;
                /* The last part: "" alone, or names followed by "". */
                if (clen == 0 || reply[len - 1] != '\0') {
                        free(reply);
                        r = -EBADMSG;
                        break;
                }
                if (clen == 1 || reply[len - 2] == '\0') {
                        r = append(&names, &size, reply + glen, clen - 1);
                        free(reply);
                        break;
                }
                r = append(&names, &size, reply + glen, clen);
                free(reply);
                if (r < 0)
                        break;
                offset += clen;
        }
        free(gen);
        if (r < 0) {
                free(names);
                return r;
        }
        if (!names && append(&names, &size, "", 0) < 0)
                return -ENOMEM;
        *names_r = names;
        *len_r = size;
        return 0;
}

int xs_wire_directory(struct xs_wire *w, uint32_t tx, const char *path, char **names_r,
                      size_t *len_r)
{
        int r = xs_wire_call(w, XS_DIRECTORY, tx, path, NULL, 0, names_r, len_r);

        if (r == -E2BIG)
                return directory_parts(w, tx, path, names_r, len_r);
        return r;
}
