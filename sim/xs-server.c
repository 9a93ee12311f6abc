/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xs-server.c — connections (Unix socket and in-process), the one request
 * dispatch path both go through, watches and domains.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/error.h"
#include "common/macros.h"
#include "sim/xs-internal.h"

#define HDR_LEN ((uint32_t)sizeof(struct xsd_sockmsg))

struct xs_outbuf {
        struct xs_outbuf *next;
        size_t len;
        char data[];
};

struct xs_watch {
        struct hentry h;   /* key: the absolute (or @special) path, for firing */
        struct hentry hid; /* key: id, for finding a connection's watch by path and token */
        char *id;          /* path, \x01, token (a path never holds \x01) */
        struct xs_watch *next, *prev;
        struct xs_conn *conn;
        char *path;
        char *token;
        size_t strip; /* a relative watch reports paths without /local/domain/<domid>/ */
        xs_watch_cb cb;
        void *userdata;
};

/* A watch event waiting for an in-process connection's event loop turn. */
struct xs_pending {
        struct xs_pending *next;
        struct xs_watch *w;
        char *path;
};

struct xs_capture {
        uint32_t type;
        char *data;
        size_t len;
};

struct xs_conn {
        struct xs_server *s;
        struct xs_conn *next, *prev;
        unsigned id;
        uint32_t domid;
        bool privileged;
        bool inproc;
        bool dead;         /* no more requests or events; freed by the reaper */
        bool owner_closed; /* in-process: the owner let go of it */
        uint64_t requests;

        int fd;
        sd_event_source *io;
        char *in; /* socket connections: HDR_LEN + XENSTORE_PAYLOAD_MAX bytes */
        size_t in_len;
        struct xs_outbuf *out, **out_tail;
        size_t out_off, out_bytes;

        struct xs_capture *capture;
        struct xs_pending *pending, **pending_tail;
        size_t pending_bytes;
        sd_event_source *defer;

        struct xs_watch *watches;
        unsigned nwatches;
        struct xs_tx *txs;
        unsigned ntxs;
};

struct xs_server {
        sd_event *event;
        struct xs_store store;
        struct htable watches;
        struct htable watch_ids;
        int listen_fd;
        sd_event_source *listen_io;
        char *socket_path;
        struct xs_conn *conns;
        sd_event_source *reaper;
        xs_introduce_cb introduce_cb;
        void *introduce_userdata;
        uint64_t requests;
        uint32_t next_txid;
        unsigned next_conn_id;
};

struct xs_store *xs_server_store(struct xs_server *s)
{
        return &s->store;
}

uint64_t xs_server_request_count(struct xs_server *s)
{
        return s->requests;
}

void xs_event_free(struct xs_event *ev)
{
        if (!ev)
                return;
        free(ev->path);
        free(ev->perms);
        free(ev->perms2);
        free(ev);
}

/* ---- connection life ---- */

/* The domain c acts as, whose quotas its watches and transactions count against; NULL: ENOMEM. */
static struct xs_domain *conn_domain(struct xs_conn *c)
{
        return xs_store_domain(&c->s->store, c->domid);
}

/* Count watches and transactions (each +1 or -1) on c, and on its domain while c lives. */
static void conn_count(struct xs_conn *c, int watches, int txs)
{
        struct xs_domain *d = c->dead ? NULL : conn_domain(c);

        c->nwatches += watches;
        c->ntxs += txs;
        if (d) {
                d->nwatch += watches;
                d->ntx += txs;
        }
}

static void conn_kill(struct xs_conn *c, const char *why)
{
        struct xs_domain *d;

        if (c->dead)
                return;
        /* Its watches and transactions stay until the reaper, but no longer count. */
        d = conn_domain(c);
        if (d) {
                d->nwatch -= c->nwatches;
                d->ntx -= c->ntxs;
        }
        if (why)
                fprintf(stderr, "xensup-sim: connection %u (domid %" PRIu32 ") dropped: %s\n",
                        c->id, c->domid, why);
        c->dead = true;
        c->io = sd_event_source_disable_unref(c->io);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        sd_event_source_set_enabled(c->s->reaper, SD_EVENT_ONESHOT);
}

static void pending_free(struct xs_pending *p)
{
        free(p->path);
        free(p);
}

/* Drop the in-process events queued for watch w (all of them when w is NULL). */
static void pending_purge(struct xs_conn *c, const struct xs_watch *w)
{
        struct xs_pending **pp = &c->pending;

        while (*pp) {
                struct xs_pending *p = *pp;

                if (!w || p->w == w) {
                        *pp = p->next;
                        c->pending_bytes -= strlen(p->path) + sizeof(*p);
                        pending_free(p);
                } else
                        pp = &p->next;
        }
        c->pending_tail = &c->pending;
        while (*c->pending_tail)
                c->pending_tail = &(*c->pending_tail)->next;
}

/* Unlink and free w (its undelivered events go unless purge is false: all are gone already). */
static void watch_free(struct xs_server *s, struct xs_watch *w, bool purge)
{
        if (purge)
                pending_purge(w->conn, w);
        ht_remove(&s->watches, &w->h);
        ht_remove(&s->watch_ids, &w->hid);
        if (w->prev)
                w->prev->next = w->next;
        else
                w->conn->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        conn_count(w->conn, -1, 0);
        free(w->path);
        free(w->token);
        free(w->id);
        free(w);
}

/* Every watch and transaction of c goes, as RESET_WATCHES does. */
static void conn_drop_watches(struct xs_conn *c)
{
        pending_purge(c, NULL);
        while (c->watches)
                watch_free(c->s, c->watches, false);
        while (c->txs) {
                struct xs_tx *tx = c->txs;

                c->txs = tx->next;
                conn_count(c, 0, -1);
                xs_tx_end(c->s, tx, false);
        }
}

static void conn_drop_state(struct xs_conn *c)
{
        conn_drop_watches(c);
        while (c->out) {
                struct xs_outbuf *o = c->out;

                c->out = o->next;
                free(o);
        }
        c->out_tail = &c->out;
        c->out_bytes = 0;
        c->out_off = 0;
}

static void conn_free(struct xs_conn *c)
{
        struct xs_server *s = c->s;

        conn_drop_state(c);
        c->io = sd_event_source_disable_unref(c->io);
        c->defer = sd_event_source_disable_unref(c->defer);
        if (c->fd >= 0)
                close(c->fd);
        free(c->in);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
}

static int on_reap(sd_event_source *src _unused_, void *userdata)
{
        struct xs_server *s = userdata;

        for (struct xs_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                if (!c->dead)
                        continue;
                if (!c->inproc || c->owner_closed)
                        conn_free(c);
                else
                        conn_drop_state(c);
        }
        return 0;
}

static struct xs_conn *conn_new(struct xs_server *s, uint32_t domid)
{
        struct xs_conn *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->s = s;
        c->id = ++s->next_conn_id;
        c->domid = domid;
        c->privileged = domid == 0;
        c->fd = -1;
        c->out_tail = &c->out;
        c->pending_tail = &c->pending;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        return c;
}

/* ---- output ---- */

static void conn_flush(struct xs_conn *c)
{
        while (c->out) {
                struct xs_outbuf *o = c->out;
                ssize_t n = send(c->fd, o->data + c->out_off, o->len - c->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        conn_kill(c, "write failed");
                        return;
                }
                c->out_off += n;
                c->out_bytes -= n;
                if (c->out_off < o->len)
                        break;
                c->out = o->next;
                if (!c->out)
                        c->out_tail = &c->out;
                c->out_off = 0;
                free(o);
        }
        if (c->io)
                sd_event_source_set_io_events(c->io, c->out ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Queue one message on a socket connection; past the output limit the connection goes. */
static void conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                      const void *data, size_t len)
{
        struct xsd_sockmsg hdr = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = len };
        struct xs_outbuf *o;
        bool was_empty = !c->out;

        if (c->dead)
                return;
        if (c->out_bytes + HDR_LEN + len > XS_SIM_OUTPUT_MAX) {
                conn_kill(c, "output queue over its limit (client not reading)");
                return;
        }
        o = malloc(sizeof(*o) + HDR_LEN + len);
        if (!o) {
                conn_kill(c, "out of memory");
                return;
        }
        o->next = NULL;
        o->len = HDR_LEN + len;
        memcpy(o->data, &hdr, HDR_LEN);
        if (len)
                memcpy(o->data + HDR_LEN, data, len);
        *c->out_tail = o;
        c->out_tail = &o->next;
        c->out_bytes += o->len;
        if (was_empty)
                conn_flush(c);
}

static void reply(struct xs_conn *c, const struct xsd_sockmsg *req, uint32_t type, const void *data,
                  size_t len);

static void reply_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err)
{
        const char *name = xsd_errors[0].errstring;

        for (size_t i = 0; i < ELEMENTSOF(xsd_errors); i++)
                if (xsd_errors[i].errnum == err)
                        name = xsd_errors[i].errstring;
        reply(c, req, XS_ERROR, name, strlen(name) + 1);
}

static void reply(struct xs_conn *c, const struct xsd_sockmsg *req, uint32_t type, const void *data,
                  size_t len)
{
        if (len > XENSTORE_PAYLOAD_MAX) {
                reply_error(c, req, E2BIG);
                return;
        }
        if (c->capture) {
                free(c->capture->data);
                c->capture->type = type;
                c->capture->len = len;
                c->capture->data = malloc(len + 1);
                if (c->capture->data) {
                        if (len)
                                memcpy(c->capture->data, data, len);
                        c->capture->data[len] = 0;
                }
                return;
        }
        conn_send(c, type, req->req_id, req->tx_id, data, len);
}

static void reply_str(struct xs_conn *c, const struct xsd_sockmsg *req, const char *s)
{
        reply(c, req, req->type, s, strlen(s) + 1);
}

/* ---- watches ---- */

static void send_event(struct xs_conn *c, struct xs_watch *w, const char *abs_path)
{
        const char *path = abs_path + (strlen(abs_path) >= w->strip ? w->strip : 0);

        if (c->dead)
                return;
        if (c->inproc) {
                struct xs_pending *p = calloc(1, sizeof(*p));

                if (!p || !(p->path = strdup(path))) {
                        free(p);
                        conn_kill(c, "out of memory");
                        return;
                }
                c->pending_bytes += strlen(p->path) + sizeof(*p);
                if (c->pending_bytes > XS_SIM_OUTPUT_MAX) {
                        pending_free(p);
                        conn_kill(c, "event queue over its limit (events not consumed)");
                        return;
                }
                p->w = w;
                *c->pending_tail = p;
                c->pending_tail = &p->next;
                sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
                return;
        }
        {
                size_t plen = strlen(path) + 1, tlen = strlen(w->token) + 1;
                _cleanup_free_ char *buf = malloc(plen + tlen);

                if (!buf) {
                        conn_kill(c, "out of memory");
                        return;
                }
                memcpy(buf, path, plen);
                memcpy(buf + plen, w->token, tlen);
                conn_send(c, XS_WATCH_EVENT, 0, 0, buf, plen + tlen);
        }
}

/* xenstored's watch_permitted: the node (before or after) or its parent is readable. */
static bool watch_permitted(struct xs_server *s, struct xs_conn *c, const struct xs_event *ev)
{
        struct xs_ctx ctx = { .s = s, .conn = c, .domid = c->domid, .privileged = c->privileged };
        _cleanup_free_ char *parent = NULL;
        struct xs_node *pn;
        char *slash;

        if (c->privileged)
                return true;
        if (xs_perm_for(&ctx, ev->perms, ev->nperms) & XS_PERM_READ)
                return true;
        if (ev->perms2 && (xs_perm_for(&ctx, ev->perms2, ev->nperms2) & XS_PERM_READ))
                return true;
        if (ev->path[0] != '/')
                return false;
        parent = strdup(ev->path);
        if (!parent)
                return false;
        slash = strrchr(parent, '/');
        if (slash == parent)
                slash[1] = 0;
        else
                *slash = 0;
        pn = xs_store_find(&s->store, parent);
        return pn && (xs_perm_for(&ctx, pn->rec.perms, pn->rec.nperms) & XS_PERM_READ);
}

static void fire_key(struct xs_server *s, const char *key, const struct xs_event *ev)
{
        for (struct hentry *e = ht_find(&s->watches, key); e; e = ht_find_next(e)) {
                struct xs_watch *w = container_of(e, struct xs_watch, h);

                if (!w->conn->dead && watch_permitted(s, w->conn, ev))
                        send_event(w->conn, w, ev->path);
        }
}

void xs_fire_now(struct xs_server *s, struct xs_event *ev)
{
        _cleanup_free_ char *key = strdup(ev->path);
        size_t plen = strlen(ev->path);

        if (!key)
                goto out;
        if (ev->path[0] == '@') {
                fire_key(s, key, ev);
                goto out;
        }
        /* The node itself and every ancestor up to "/". */
        for (;;) {
                char *slash;

                fire_key(s, key, ev);
                if (strcmp(key, "/") == 0)
                        break;
                slash = strrchr(key, '/');
                if (slash == key)
                        slash[1] = 0;
                else
                        *slash = 0;
        }
        if (!ev->recurse)
                goto out;
        /* A removal also fires the watches below it, each reporting its own path. */
        for (size_t i = 0; i < s->watches.nbuckets; i++) {
                for (struct hentry *e = s->watches.buckets[i]; e; e = e->next) {
                        struct xs_watch *w = container_of(e, struct xs_watch, h);
                        bool below =
                            strcmp(ev->path, "/") == 0
                                ? w->path[0] == '/' && w->path[1]
                                : strncmp(w->path, ev->path, plen) == 0 && w->path[plen] == '/';

                        if (below && !w->conn->dead && watch_permitted(s, w->conn, ev))
                                send_event(w->conn, w, w->path);
                }
        }
out:
        xs_event_free(ev);
}

void xs_fire(struct xs_ctx *ctx, struct xs_event *ev)
{
        if (ctx->tx) {
                *ctx->tx->events_tail = ev;
                ctx->tx->events_tail = &ev->next;
                return;
        }
        xs_fire_now(ctx->s, ev);
}

static void fire_special(struct xs_server *s, const char *name)
{
        struct xs_node *n = xs_store_find(&s->store, name);
        struct xs_event *ev = calloc(1, sizeof(*ev));

        if (!n || !ev) {
                free(ev);
                return;
        }
        ev->path = strdup(name);
        ev->perms = malloc(sizeof(*ev->perms) * n->rec.nperms);
        if (!ev->path || !ev->perms) {
                xs_event_free(ev);
                return;
        }
        memcpy(ev->perms, n->rec.perms, sizeof(*ev->perms) * n->rec.nperms);
        ev->nperms = n->rec.nperms;
        xs_fire_now(s, ev);
}

/* ---- request parsing helpers ---- */

static bool valid_chars(const char *p)
{
        return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_@") ==
               strlen(p);
}

/* xenstored's is_valid_nodename, with its per-domain path length limit. */
static bool valid_path(const char *p)
{
        size_t len = strlen(p);
        unsigned domid;
        int off = 0;

        if (p[0] != '/')
                return false;
        if (len > 1 && p[len - 1] == '/')
                return false;
        if (strstr(p, "//"))
                return false;
        if (sscanf(p, "/local/domain/%5u/%n", &domid, &off) != 1)
                off = 0;
        if (len - off > XENSTORE_REL_PATH_MAX)
                return false;
        return valid_chars(p);
}

/* Absolute path for name as c sees it; *strip_r: what a relative watch leaves out. */
static int canonicalize(struct xs_conn *c, const char *name, bool special_ok, char **path_r,
                        size_t *strip_r)
{
        char *p;
        size_t strip = 0;

        if (name[0] == '@') {
                if (!special_ok || strlen(name) > XENSTORE_REL_PATH_MAX)
                        return -EINVAL;
                p = strdup(name);
        } else if (name[0] == '/')
                p = strdup(name);
        else {
                int n = asprintf(&p, "/local/domain/%" PRIu32 "/%s", c->domid, name);

                if (n < 0)
                        return -ENOMEM;
                strip = n - strlen(name);
        }
        if (!p)
                return -ENOMEM;
        if (p[0] == '/' && !valid_path(p)) {
                free(p);
                return -EINVAL;
        }
        *path_r = p;
        if (strip_r)
                *strip_r = strip;
        return 0;
}

/* Split a payload into its NUL-terminated strings; returns how many there are. */
static unsigned split(char *data, uint32_t len, char **vec, unsigned max)
{
        unsigned n = 0;

        for (uint32_t off = 0; off < len;) {
                char *nul = memchr(data + off, 0, len - off);

                if (!nul)
                        break;
                if (n < max)
                        vec[n] = data + off;
                n++;
                off = nul - data + 1;
        }
        return n;
}

static bool terminated(const char *data, uint32_t len)
{
        return len > 0 && data[len - 1] == 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *v_r)
{
        unsigned long v;
        char *end;

        if (s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *v_r = (uint32_t)v;
        return 0;
}

static struct xs_tx *tx_lookup(struct xs_conn *c, uint32_t id)
{
        for (struct xs_tx *tx = c->txs; tx; tx = tx->next)
                if (tx->id == id)
                        return tx;
        return NULL;
}

/* ---- the handlers: each returns 0 after replying, or a negative errno to reply ---- */

struct req {
        struct xs_conn *c;
        const struct xsd_sockmsg *hdr;
        char *data; /* hdr->len bytes, plus a NUL after them */
        struct xs_ctx ctx;
};

static int one_path(struct req *q, char **path_r)
{
        if (!terminated(q->data, q->hdr->len) ||
            memchr(q->data, 0, q->hdr->len) != q->data + q->hdr->len - 1)
                return -EINVAL;
        return canonicalize(q->c, q->data, false, path_r, NULL);
}

/* READ and DIRECTORY: one readable path in, its value or its children out. */
static int reply_record(struct req *q, bool children)
{
        _cleanup_free_ char *path = NULL;
        const struct xs_rec *rec;
        int r;

        r = one_path(q, &path);
        if (r >= 0)
                r = xs_get(&q->ctx, path, XS_PERM_READ, &rec);
        if (r < 0)
                return r;
        if (children)
                reply(q->c, q->hdr, XS_DIRECTORY, rec->children, rec->clen);
        else
                reply(q->c, q->hdr, XS_READ, rec->value, rec->vlen);
        return 0;
}

static int do_read(struct req *q)
{
        return reply_record(q, false);
}

static int do_directory(struct req *q)
{
        return reply_record(q, true);
}

static int do_directory_part(struct req *q)
{
        _cleanup_free_ char *path = NULL, *buf = NULL;
        const struct xs_rec *rec;
        char *vec[2], gen[24];
        size_t genlen, len = 0, maxlen;
        uint32_t off;
        int r;

        if (!terminated(q->data, q->hdr->len) || split(q->data, q->hdr->len, vec, 2) != 2)
                return -EINVAL;
        r = parse_u32(vec[1], UINT32_MAX - 1, &off);
        if (r >= 0)
                r = canonicalize(q->c, vec[0], false, &path, NULL);
        if (r >= 0)
                r = xs_get(&q->ctx, path, XS_PERM_READ, &rec);
        if (r < 0)
                return r;
        genlen = snprintf(gen, sizeof(gen), "%" PRIu64, rec->gen) + 1;
        buf = malloc(XENSTORE_PAYLOAD_MAX + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, gen, genlen);
        if (off >= rec->clen) {
                /* Past the end: just the empty string that ends the list. */
                buf[genlen] = 0;
                reply(q->c, q->hdr, XS_DIRECTORY_PART, buf, genlen + 1);
                return 0;
        }
        maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
        while (off + len < rec->clen) {
                size_t i = strlen(rec->children + off + len) + 1;

                if (len + i > maxlen)
                        break;
                len += i;
        }
        memcpy(buf + genlen, rec->children + off, len);
        if (off + len == rec->clen)
                buf[genlen + len++] = 0;
        reply(q->c, q->hdr, XS_DIRECTORY_PART, buf, genlen + len);
        return 0;
}

static int do_get_perms(struct req *q)
{
        _cleanup_free_ char *path = NULL, *buf = NULL;
        const struct xs_rec *rec;
        size_t len;
        int r;

        if (q->data[0] == '@' && terminated(q->data, q->hdr->len)) {
                struct xs_node *n = xs_store_find(&q->c->s->store, q->data);

                if (!n)
                        return -ENOENT;
                rec = &n->rec;
        } else {
                r = one_path(q, &path);
                if (r >= 0)
                        r = xs_get(&q->ctx, path, XS_PERM_READ, &rec);
                if (r < 0)
                        return r;
        }
        r = xs_perms_format(rec->perms, rec->nperms, &buf, &len);
        if (r < 0)
                return r;
        reply(q->c, q->hdr, XS_GET_PERMS, buf, len);
        return 0;
}

static int do_write(struct req *q)
{
        _cleanup_free_ char *path = NULL;
        char *nul = memchr(q->data, 0, q->hdr->len);
        size_t plen;
        int r;

        if (!nul)
                return -EINVAL;
        plen = nul - q->data + 1;
        r = canonicalize(q->c, q->data, false, &path, NULL);
        if (r >= 0)
                r = xs_op_write(&q->ctx, path, q->data + plen, q->hdr->len - plen, false);
        if (r < 0)
                return r;
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static int do_mkdir(struct req *q)
{
        _cleanup_free_ char *path = NULL;
        int r;

        r = one_path(q, &path);
        if (r >= 0)
                r = xs_op_write(&q->ctx, path, NULL, 0, true);
        if (r < 0)
                return r;
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static int do_rm(struct req *q)
{
        _cleanup_free_ char *path = NULL;
        int r;

        r = one_path(q, &path);
        if (r >= 0)
                r = xs_op_rm(&q->ctx, path);
        if (r < 0)
                return r;
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static int do_set_perms(struct req *q)
{
        _cleanup_free_ char *path = NULL;
        struct xs_perm *perms = NULL;
        unsigned n;
        char *vec[1];
        int r;

        if (!terminated(q->data, q->hdr->len))
                return -EINVAL;
        n = split(q->data, q->hdr->len, vec, 1);
        if (n < 2)
                return -EINVAL;
        n--;
        if (!q->ctx.privileged && n > XS_QUOTA_PERMS)
                return -ENOSPC;
        r = xs_perms_parse(q->data + strlen(q->data) + 1, n, &perms);
        if (r < 0)
                return r;
        r = canonicalize(q->c, q->data, true, &path, NULL);
        if (r < 0) {
                free(perms);
                return r;
        }
        r = xs_op_set_perms(&q->ctx, path, perms, n);
        if (r < 0)
                return r;
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static char *watch_id(const char *path, const char *token)
{
        char *id = NULL;

        return asprintf(&id, "%s\x01%s", path, token) < 0 ? NULL : id;
}

/* c's watch on path with token: a hash lookup, however many watches c holds. */
static int watch_find(struct xs_conn *c, const char *path, const char *token, struct xs_watch **w_r)
{
        _cleanup_free_ char *id = watch_id(path, token);

        if (!id)
                return -ENOMEM;
        for (struct hentry *e = ht_find(&c->s->watch_ids, id); e; e = ht_find_next(e)) {
                struct xs_watch *w = container_of(e, struct xs_watch, hid);

                if (w->conn == c) {
                        *w_r = w;
                        return 0;
                }
        }
        return -ENOENT;
}

static int do_watch(struct req *q)
{
        _cleanup_free_ char *path = NULL;
        struct xs_domain *d;
        struct xs_watch *w;
        char *vec[2];
        size_t strip;
        int r;

        if (!terminated(q->data, q->hdr->len) || split(q->data, q->hdr->len, vec, 2) != 2)
                return -EINVAL;
        r = canonicalize(q->c, vec[0], true, &path, &strip);
        if (r < 0)
                return r;
        if (strchr(path, '\x01'))
                return -EINVAL;
        r = watch_find(q->c, path, vec[1], &w);
        if (r != -ENOENT)
                return r < 0 ? r : -EEXIST;
        d = conn_domain(q->c);
        if (!d)
                return -ENOMEM;
        /* Per domain, as xenstored: more connections do not buy more watches. */
        if ((!q->c->privileged && d->nwatch >= XS_QUOTA_WATCHES) ||
            q->c->nwatches >= XS_SIM_MAX_WATCHES)
                return -E2BIG;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->token = strdup(vec[1]);
        w->id = watch_id(path, vec[1]);
        if (!w->token || !w->id) {
                free(w->token);
                free(w->id);
                free(w);
                return -ENOMEM;
        }
        w->path = TAKE_PTR(path);
        w->strip = strip;
        w->conn = q->c;
        w->h.key = w->path;
        ht_insert(&q->c->s->watches, &w->h);
        w->hid.key = w->id;
        ht_insert(&q->c->s->watch_ids, &w->hid);
        w->next = q->c->watches;
        if (w->next)
                w->next->prev = w;
        q->c->watches = w;
        conn_count(q->c, 1, 0);
        reply_str(q->c, q->hdr, "OK");
        /* Fired once up front, even for a path that does not exist, as xenstored. */
        send_event(q->c, w, w->path);
        return 0;
}

static int do_unwatch(struct req *q)
{
        _cleanup_free_ char *path = NULL;
        struct xs_watch *w;
        char *vec[2];
        int r;

        if (!terminated(q->data, q->hdr->len) || split(q->data, q->hdr->len, vec, 2) != 2)
                return -EINVAL;
        r = canonicalize(q->c, vec[0], true, &path, NULL);
        if (r >= 0)
                r = watch_find(q->c, path, vec[1], &w);
        if (r < 0)
                return r;
        watch_free(q->c->s, w, true);
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static int do_reset_watches(struct req *q)
{
        struct xs_conn *c = q->c;

        conn_drop_watches(c);
        reply_str(c, q->hdr, "OK");
        return 0;
}

static int do_transaction_start(struct req *q)
{
        struct xs_conn *c = q->c;
        struct xs_domain *d;
        struct xs_tx *tx;
        char id[16];
        int r;

        if (q->hdr->tx_id)
                return -EBUSY;
        d = conn_domain(c);
        if (!d)
                return -ENOMEM;
        if ((!c->privileged && d->ntx >= XS_QUOTA_TRANSACTIONS) ||
            c->ntxs >= XS_SIM_MAX_TRANSACTIONS)
                return -ENOSPC;
        do {
                c->s->next_txid++;
        } while (c->s->next_txid == 0 || tx_lookup(c, c->s->next_txid));
        r = xs_tx_new(c->s->next_txid, &tx);
        if (r < 0)
                return r;
        tx->domid = c->domid;
        tx->node_quota = !c->privileged;
        tx->next = c->txs;
        c->txs = tx;
        conn_count(c, 0, 1);
        snprintf(id, sizeof(id), "%" PRIu32, tx->id);
        reply_str(c, q->hdr, id);
        return 0;
}

static int do_transaction_end(struct req *q)
{
        struct xs_conn *c = q->c;
        bool commit;
        int r;

        if (!q->ctx.tx)
                return -ENOENT;
        if (!terminated(q->data, q->hdr->len) || strlen(q->data) + 1 != q->hdr->len)
                return -EINVAL;
        if (strcmp(q->data, "T") == 0)
                commit = true;
        else if (strcmp(q->data, "F") == 0)
                commit = false;
        else
                return -EINVAL;
        for (struct xs_tx **pt = &c->txs; *pt; pt = &(*pt)->next) {
                if (*pt == q->ctx.tx) {
                        *pt = q->ctx.tx->next;
                        break;
                }
        }
        conn_count(c, 0, -1);
        r = xs_tx_end(c->s, q->ctx.tx, commit);
        q->ctx.tx = NULL;
        if (r < 0)
                return r;
        reply_str(c, q->hdr, "OK");
        return 0;
}

static int do_get_domain_path(struct req *q)
{
        char path[40];
        uint32_t domid;
        int r;

        if (!terminated(q->data, q->hdr->len))
                return -EINVAL;
        r = parse_u32(q->data, UINT32_MAX - 1, &domid);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/local/domain/%" PRIu32, domid);
        reply_str(q->c, q->hdr, path);
        return 0;
}

static int do_is_domain_introduced(struct req *q)
{
        uint32_t domid;
        int r;

        if (!terminated(q->data, q->hdr->len))
                return -EINVAL;
        r = parse_u32(q->data, UINT32_MAX - 1, &domid);
        if (r < 0)
                return r;
        reply_str(q->c, q->hdr, xs_server_domain_is_introduced(q->c->s, domid) ? "T" : "F");
        return 0;
}

static int do_introduce(struct req *q)
{
        struct xs_server *s = q->c->s;
        struct xs_domain *d;
        char *vec[3];
        uint32_t domid, port;
        unsigned long long mfn;
        char *end;
        int r;

        if (!terminated(q->data, q->hdr->len) || split(q->data, q->hdr->len, vec, 3) != 3)
                return -EINVAL;
        r = parse_u32(vec[0], XS_DOMID_MAX - 1, &domid);
        if (r >= 0)
                r = parse_u32(vec[2], UINT32_MAX - 1, &port);
        if (r < 0)
                return r;
        errno = 0;
        mfn = strtoull(vec[1], &end, 10);
        if (errno || *end || vec[1][0] < '0' || vec[1][0] > '9')
                return -EINVAL;
        d = xs_store_domain(&s->store, domid);
        if (!d)
                return -ENOMEM;
        if (!d->introduced) {
                if (s->introduce_cb) {
                        r = s->introduce_cb(s, domid, mfn, port, s->introduce_userdata);
                        if (r < 0)
                                return r;
                }
                d->introduced = true;
                d->shutdown = false;
                d->mfn = mfn;
                d->port = port;
                reply_str(q->c, q->hdr, "OK");
                fire_special(s, "@introduceDomain");
                return 0;
        }
        /* Introducing again only rebinds the ring, as xenstored. */
        d->mfn = mfn;
        d->port = port;
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static int domain_arg(struct req *q, struct xs_domain **d_r)
{
        struct xs_domain *d;
        uint32_t domid;
        int r;

        if (!terminated(q->data, q->hdr->len))
                return -EINVAL;
        r = parse_u32(q->data, XS_DOMID_MAX - 1, &domid);
        if (r < 0)
                return r;
        if (domid == 0)
                return -EINVAL;
        d = q->c->s->store.domains[domid];
        if (!d || !d->introduced)
                return -ENOENT;
        *d_r = d;
        return 0;
}

static int do_release(struct req *q)
{
        struct xs_domain *d;
        int r;

        r = domain_arg(q, &d);
        if (r < 0)
                return r;
        reply_str(q->c, q->hdr, "OK");
        (void)xs_server_domain_release(q->c->s, d->domid);
        return 0;
}

static int do_resume(struct req *q)
{
        struct xs_domain *d;
        int r;

        r = domain_arg(q, &d);
        if (r < 0)
                return r;
        d->shutdown = false;
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static int do_set_target(struct req *q)
{
        struct xs_domain *d;
        char *vec[2];
        uint32_t domid, target;
        int r;

        if (!terminated(q->data, q->hdr->len) || split(q->data, q->hdr->len, vec, 2) != 2)
                return -EINVAL;
        r = parse_u32(vec[0], XS_DOMID_MAX - 1, &domid);
        if (r >= 0)
                r = parse_u32(vec[1], XS_DOMID_MAX - 1, &target);
        if (r < 0)
                return r;
        d = q->c->s->store.domains[domid];
        if (!d || !d->introduced)
                return -ENOENT;
        d->target = target;
        reply_str(q->c, q->hdr, "OK");
        return 0;
}

static int do_control(struct req *q)
{
        struct xs_conn *c = q->c;
        struct xs_server *s = c->s;
        const char *cmd = q->data;
        const char *arg;
        char buf[256];

        if (!memchr(q->data, 0, q->hdr->len))
                return -EINVAL;
        /* The argument may come without its NUL (xs_control_command's len). */
        arg = q->data + strlen(cmd) + 1 < q->data + q->hdr->len ? q->data + strlen(cmd) + 1 : NULL;
        if (strcmp(cmd, "print") == 0) {
                if (!arg)
                        return -EINVAL;
                fprintf(stderr, "xensup-sim: print: %s\n", arg);
                reply_str(c, q->hdr, "OK");
                return 0;
        }
        if (strcmp(cmd, "sim-as-domain") == 0) {
                struct xs_domain *old, *d;
                uint32_t domid;

                if (!arg || parse_u32(arg, XS_DOMID_MAX - 1, &domid) < 0 || domid == 0)
                        return -EINVAL;
                if (c->txs)
                        return -EBUSY;
                old = conn_domain(c);
                d = xs_store_domain(&s->store, domid);
                if (!d)
                        return -ENOMEM;
                /* Its watches now count against the domain it becomes. */
                if (old)
                        old->nwatch -= c->nwatches;
                d->nwatch += c->nwatches;
                c->domid = domid;
                c->privileged = false;
                reply_str(c, q->hdr, "OK");
                return 0;
        }
        if (strcmp(cmd, "sim-stats") == 0) {
                snprintf(buf, sizeof(buf), "global=%" PRIu64 " conn=%" PRIu64, s->requests,
                         c->requests);
                reply_str(c, q->hdr, buf);
                return 0;
        }
        if (strcmp(cmd, "quota") == 0) {
                const struct xs_domain *d;
                uint32_t domid;

                if (!arg || !*arg) {
                        snprintf(buf, sizeof(buf),
                                 "nodes %d\nwatches %d\ntransactions %d\nentry-size %d\n"
                                 "perms %d\n",
                                 XS_QUOTA_NODES, XS_QUOTA_WATCHES, XS_QUOTA_TRANSACTIONS,
                                 XS_QUOTA_ENTRY_SIZE, XS_QUOTA_PERMS);
                        reply_str(c, q->hdr, buf);
                        return 0;
                }
                if (parse_u32(arg, XS_DOMID_MAX - 1, &domid) < 0)
                        return -EINVAL;
                d = s->store.domains[domid];
                snprintf(buf, sizeof(buf), "nodes %" PRIu32 "\nwatches %u\ntransactions %u\n",
                         d ? d->nodes : 0, d ? d->nwatch : 0, d ? d->ntx : 0);
                reply_str(c, q->hdr, buf);
                return 0;
        }
        if (strcmp(cmd, "help") == 0) {
                reply_str(c, q->hdr,
                          "print TEXT\nsim-as-domain DOMID\nsim-stats\nquota [DOMID]\nhelp\n");
                return 0;
        }
        return -EINVAL;
}

enum {
        F_PRIV = 1, /* dom0 only */
        F_NOTX = 2, /* the header's tx_id is not looked up */
        F_TXOK = 4, /* runs inside its transaction */
};

static const struct {
        int (*fn)(struct req *q);
        unsigned flags;
} handlers[XS_TYPE_COUNT] = {
        [XS_CONTROL] = { do_control, F_PRIV | F_NOTX },
        [XS_DIRECTORY] = { do_directory, F_TXOK },
        [XS_READ] = { do_read, F_TXOK },
        [XS_GET_PERMS] = { do_get_perms, F_TXOK },
        [XS_WATCH] = { do_watch, F_NOTX },
        [XS_UNWATCH] = { do_unwatch, F_NOTX },
        [XS_TRANSACTION_START] = { do_transaction_start, F_NOTX },
        [XS_TRANSACTION_END] = { do_transaction_end, F_TXOK },
        [XS_INTRODUCE] = { do_introduce, F_PRIV | F_NOTX },
        [XS_RELEASE] = { do_release, F_PRIV | F_NOTX },
        [XS_GET_DOMAIN_PATH] = { do_get_domain_path, F_NOTX },
        [XS_WRITE] = { do_write, F_TXOK },
        [XS_MKDIR] = { do_mkdir, F_TXOK },
        [XS_RM] = { do_rm, F_TXOK },
        [XS_SET_PERMS] = { do_set_perms, F_TXOK },
        [XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, F_PRIV | F_NOTX },
        [XS_RESUME] = { do_resume, F_PRIV | F_NOTX },
        [XS_SET_TARGET] = { do_set_target, F_PRIV | F_NOTX },
        [XS_RESET_WATCHES] = { do_reset_watches, F_NOTX },
        [XS_DIRECTORY_PART] = { do_directory_part, F_TXOK },
};

/* The one dispatch path: socket and in-process requests alike. data has a NUL past hdr->len. */
static void dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr, char *data)
{
        struct req q = {
                .c = c,
                .hdr = hdr,
                .data = data,
                .ctx = { .s = c->s, .conn = c, .domid = c->domid, .privileged = c->privileged },
        };
        int r;

        c->requests++;
        c->s->requests++;
        if (hdr->type >= XS_TYPE_COUNT || !handlers[hdr->type].fn) {
                reply_error(c, hdr, EINVAL);
                return;
        }
        if ((handlers[hdr->type].flags & F_PRIV) && !c->privileged) {
                reply_error(c, hdr, EACCES);
                return;
        }
        if (!(handlers[hdr->type].flags & F_NOTX) && hdr->tx_id) {
                q.ctx.tx = tx_lookup(c, hdr->tx_id);
                if (!q.ctx.tx) {
                        reply_error(c, hdr, ENOENT);
                        return;
                }
        }
        r = handlers[hdr->type].fn(&q);
        if (r < 0)
                reply_error(c, hdr, -r);
}

/* ---- the socket side ---- */

static int on_conn_io(sd_event_source *src _unused_, int fd, uint32_t revents, void *userdata)
{
        struct xs_conn *c = userdata;
        char data[XENSTORE_PAYLOAD_MAX + 1];
        size_t off = 0;
        ssize_t n;

        if (revents & EPOLLOUT)
                conn_flush(c);
        if (c->dead || !(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        n = read(fd, c->in + c->in_len, HDR_LEN + XENSTORE_PAYLOAD_MAX - c->in_len);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        conn_kill(c, NULL);
                return 0;
        }
        if (n == 0) {
                conn_kill(c, NULL);
                return 0;
        }
        c->in_len += n;
        while (!c->dead && c->in_len - off >= HDR_LEN) {
                struct xsd_sockmsg hdr;

                memcpy(&hdr, c->in + off, HDR_LEN);
                if (hdr.len > XENSTORE_PAYLOAD_MAX) {
                        conn_kill(c, "message longer than XENSTORE_PAYLOAD_MAX");
                        return 0;
                }
                if (c->in_len - off < HDR_LEN + hdr.len)
                        break;
                memcpy(data, c->in + off + HDR_LEN, hdr.len);
                data[hdr.len] = 0;
                off += HDR_LEN + hdr.len;
                dispatch(c, &hdr, data);
        }
        if (c->dead)
                return 0;
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
        return 0;
}

static int on_accept(sd_event_source *src _unused_, int fd, uint32_t revents _unused_,
                     void *userdata)
{
        struct xs_server *s = userdata;
        struct xs_conn *c;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        c = conn_new(s, 0);
        if (!c) {
                close(cfd);
                return 0;
        }
        c->fd = cfd;
        c->in = malloc(HDR_LEN + XENSTORE_PAYLOAD_MAX);
        r = c->in ? sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_conn_io, c) : -ENOMEM;
        if (r < 0) {
                conn_free(c);
                return 0;
        }
        return 0;
}

int xs_server_listen(struct xs_server *s, const char *path, char **err_r)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return err_setf(err_r, -ENAMETOOLONG, "socket path too long: %s", path);
        if (s->listen_fd >= 0)
                return err_setf(err_r, -EALREADY, "already listening on %s", s->socket_path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return err_setf(err_r, -errno, "socket: %m");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                return err_setf(err_r, -EADDRINUSE, "a server already answers on %s", path);
        close(fd);
        if (unlink(path) < 0 && errno != ENOENT)
                return err_setf(err_r, -errno, "cannot remove stale %s: %m", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return err_setf(err_r, -errno, "socket: %m");
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return err_setf(err_r, -errno, "bind %s: %m", path);
        if (chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                unlink(path);
                return err_setf(err_r, r, "listen %s: %m", path);
        }
        s->socket_path = strdup(path);
        if (!s->socket_path) {
                unlink(path);
                return err_setf(err_r, -ENOMEM, "out of memory");
        }
        r = sd_event_add_io(s->event, &s->listen_io, fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                unlink(path);
                return err_setf(err_r, r, "sd_event_add_io: %s", strerror(-r));
        }
        s->listen_fd = TAKE_FD(fd);
        return 0;
}

/* ---- server ---- */

int xs_server_new(sd_event *event, struct xs_server **server_r, char **err_r)
{
        struct xs_server *s = calloc(1, sizeof(*s));
        struct xs_domain *dom0;
        int r;

        if (!s)
                return err_setf(err_r, -ENOMEM, "out of memory");
        s->listen_fd = -1;
        s->event = sd_event_ref(event);
        r = xs_store_init(&s->store);
        if (r >= 0)
                r = ht_init(&s->watches);
        if (r >= 0)
                r = ht_init(&s->watch_ids);
        if (r >= 0)
                r = sd_event_add_defer(event, &s->reaper, on_reap, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->reaper, SD_EVENT_OFF);
        dom0 = r >= 0 ? xs_store_domain(&s->store, 0) : NULL;
        if (!dom0) {
                xs_server_free(s);
                return err_setf(err_r, r < 0 ? r : -ENOMEM, "cannot create the XenStore server: %s",
                                strerror(r < 0 ? -r : ENOMEM));
        }
        dom0->introduced = true;
        *server_r = s;
        return 0;
}

struct xs_server *xs_server_free(struct xs_server *s)
{
        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns);
        s->listen_io = sd_event_source_disable_unref(s->listen_io);
        if (s->listen_fd >= 0) {
                close(s->listen_fd);
                unlink(s->socket_path);
        }
        free(s->socket_path);
        s->reaper = sd_event_source_disable_unref(s->reaper);
        ht_done(&s->watches);
        ht_done(&s->watch_ids);
        xs_store_done(&s->store);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

void xs_server_set_introduce_cb(struct xs_server *s, xs_introduce_cb cb, void *userdata)
{
        s->introduce_cb = cb;
        s->introduce_userdata = userdata;
}

bool xs_server_domain_is_introduced(struct xs_server *s, uint32_t domid)
{
        return domid < XS_DOMID_MAX && s->store.domains[domid] &&
               s->store.domains[domid]->introduced;
}

int xs_server_domain_shutdown(struct xs_server *s, uint32_t domid)
{
        struct xs_domain *d;

        if (!xs_server_domain_is_introduced(s, domid))
                return -ENOENT;
        d = s->store.domains[domid];
        /*
         * xenstored's check_domain notices a shutdown once: a domain resumed from a suspend
         * without XS_RESUME never fires @releaseDomain at its next shutdown.
         */
        if (d->shutdown)
                return 0;
        d->shutdown = true;
        fire_special(s, "@releaseDomain");
        return 0;
}

int xs_server_domain_release(struct xs_server *s, uint32_t domid)
{
        struct xs_domain *d;

        if (domid == 0 || !xs_server_domain_is_introduced(s, domid))
                return -ENOENT;
        d = s->store.domains[domid];
        d->introduced = false;
        d->shutdown = false;
        d->target = XS_DOMID_NONE;
        for (struct xs_conn *c = s->conns; c; c = c->next)
                if (c->domid == domid)
                        conn_kill(c, NULL);
        fire_special(s, "@releaseDomain");
        return 0;
}

/* ---- in-process connections ---- */

static int on_pending(sd_event_source *src _unused_, void *userdata)
{
        struct xs_conn *c = userdata;

        while (c->pending && !c->dead) {
                struct xs_pending *p = c->pending;

                c->pending = p->next;
                if (!c->pending)
                        c->pending_tail = &c->pending;
                c->pending_bytes -= strlen(p->path) + sizeof(*p);
                if (p->w->cb)
                        p->w->cb(c, p->path, p->w->token, p->w->userdata);
                pending_free(p);
        }
        return 0;
}

int xs_server_connect_domain(struct xs_server *s, uint32_t domid, struct xs_conn **conn_r)
{
        struct xs_conn *c;
        int r;

        if (domid >= XS_DOMID_MAX)
                return -EINVAL;
        c = conn_new(s, domid);
        if (!c)
                return -ENOMEM;
        c->inproc = true;
        r = sd_event_add_defer(s->event, &c->defer, on_pending, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        if (r < 0) {
                conn_free(c);
                return r;
        }
        *conn_r = c;
        return 0;
}

uint32_t xs_conn_domid(struct xs_conn *c)
{
        return c->domid;
}

bool xs_conn_is_connected(struct xs_conn *c)
{
        return !c->dead;
}

struct xs_conn *xs_conn_close(struct xs_conn *c)
{
        if (!c)
                return NULL;
        c->owner_closed = true;
        if (c->dead)
                sd_event_source_set_enabled(c->s->reaper, SD_EVENT_ONESHOT);
        else
                conn_kill(c, NULL);
        return NULL;
}

/* Run one request through dispatch(); the reply's payload (NUL-terminated) in *reply_r. */
static int request(struct xs_conn *c, uint32_t type, const void *a, size_t alen, const void *b,
                   size_t blen, char **reply_r, size_t *len_r)
{
        struct xsd_sockmsg hdr = { .type = type, .len = alen + blen };
        struct xs_capture cap = { .type = XS_INVALID };
        _cleanup_free_ char *data = NULL;

        if (c->dead)
                return -ENOTCONN;
        if (alen + blen > XENSTORE_PAYLOAD_MAX)
                return -E2BIG;
        data = malloc(alen + blen + 1);
        if (!data)
                return -ENOMEM;
        memcpy(data, a, alen);
        if (blen)
                memcpy(data + alen, b, blen);
        data[alen + blen] = 0;
        c->capture = &cap;
        dispatch(c, &hdr, data);
        c->capture = NULL;
        if (!cap.data)
                return -ENOMEM;
        if (cap.type == XS_ERROR) {
                int err = EINVAL;

                for (size_t i = 0; i < ELEMENTSOF(xsd_errors); i++)
                        if (strcmp(xsd_errors[i].errstring, cap.data) == 0)
                                err = xsd_errors[i].errnum;
                free(cap.data);
                return -err;
        }
        if (reply_r)
                *reply_r = cap.data;
        else
                free(cap.data);
        if (len_r)
                *len_r = cap.len;
        return 0;
}

int xs_conn_read(struct xs_conn *c, const char *path, char **value_r, size_t *len_r)
{
        return request(c, XS_READ, path, strlen(path) + 1, NULL, 0, value_r, len_r);
}

int xs_conn_write(struct xs_conn *c, const char *path, const void *value, size_t len)
{
        return request(c, XS_WRITE, path, strlen(path) + 1, value, len, NULL, NULL);
}

int xs_conn_mkdir(struct xs_conn *c, const char *path)
{
        return request(c, XS_MKDIR, path, strlen(path) + 1, NULL, 0, NULL, NULL);
}

int xs_conn_rm(struct xs_conn *c, const char *path)
{
        return request(c, XS_RM, path, strlen(path) + 1, NULL, 0, NULL, NULL);
}

/* Append the NUL-separated names in buf[0..len) to a strv. */
static int strv_append_names(char ***l, size_t *n, const char *buf, size_t len)
{
        for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
                char **nl;

                if (!buf[off])
                        break;
                nl = realloc(*l, (*n + 2) * sizeof(char *));
                if (!nl)
                        return -ENOMEM;
                *l = nl;
                nl[*n] = strdup(buf + off);
                if (!nl[*n])
                        return -ENOMEM;
                nl[++*n] = NULL;
        }
        return 0;
}

int xs_conn_directory(struct xs_conn *c, const char *path, char ***names_r)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, len;
        int r;

        if (!l)
                return -ENOMEM;
        r = request(c, XS_DIRECTORY, path, strlen(path) + 1, NULL, 0, &buf, &len);
        if (r == -E2BIG) {
                /* Too long for one reply: the DIRECTORY_PART walk, as libxenstore. */
                for (size_t off = 0;;) {
                        char offs[16];
                        size_t glen;

                        free(buf);
                        buf = NULL;
                        snprintf(offs, sizeof(offs), "%zu", off);
                        r = request(c, XS_DIRECTORY_PART, path, strlen(path) + 1, offs,
                                    strlen(offs) + 1, &buf, &len);
                        if (r < 0)
                                return r;
                        glen = strlen(buf) + 1;
                        r = strv_append_names(&l, &n, buf + glen, len - glen);
                        if (r < 0)
                                return r;
                        off += len - glen;
                        if (len - glen <= 1 || buf[len - 2] == 0)
                                break;
                }
                *names_r = TAKE_PTR(l);
                return 0;
        }
        if (r < 0)
                return r; /* cppcheck-suppress memleak ; l is _cleanup_ */
        r = strv_append_names(&l, &n, buf, len);
        if (r < 0)
                return r;
        *names_r = TAKE_PTR(l);
        return 0;
}

int xs_conn_watch(struct xs_conn *c, const char *path, const char *token, xs_watch_cb cb,
                  void *userdata)
{
        _cleanup_free_ char *abs = NULL;
        struct xs_watch *w;
        int r;

        r = request(c, XS_WATCH, path, strlen(path) + 1, token, strlen(token) + 1, NULL, NULL);
        if (r < 0)
                return r;
        r = canonicalize(c, path, true, &abs, NULL);
        if (r < 0)
                return r;
        r = watch_find(c, abs, token, &w);
        if (r < 0)
                return r;
        w->cb = cb;
        w->userdata = userdata;
        return 0;
}

int xs_conn_unwatch(struct xs_conn *c, const char *path, const char *token)
{
        return request(c, XS_UNWATCH, path, strlen(path) + 1, token, strlen(token) + 1, NULL, NULL);
}
