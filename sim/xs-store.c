/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xs-store.c — XenStore's nodes: lookups through a transaction's overlay,
 * xenstored 4.17's permission rules, implicit parents, recursive removal,
 * per-domain node accounting, and transaction commit with conflict detection.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "sim/xs-internal.h"

static const char special_nodes[][20] = { "@introduceDomain", "@releaseDomain" };

void xs_rec_done(struct xs_rec *r)
{
        free(r->value);
        free(r->perms);
        free(r->children);
        *r = (struct xs_rec){ 0 };
}

static void *memdup0(const void *p, size_t n)
{
        /* Always one extra NUL, so values read back are C strings too. */
        char *d = malloc(n + 1);

        if (!d)
                return NULL;
        if (n)
                memcpy(d, p, n);
        d[n] = 0;
        return d;
}

static int rec_dup(const struct xs_rec *src, struct xs_rec *dst)
{
        *dst = (struct xs_rec){ .vlen = src->vlen, .nperms = src->nperms, .clen = src->clen };
        dst->value = memdup0(src->value, src->vlen);
        dst->perms = malloc(sizeof(*src->perms) * src->nperms);
        dst->children = memdup0(src->children, src->clen);
        if (!dst->value || !dst->perms || !dst->children) {
                xs_rec_done(dst);
                return -ENOMEM;
        }
        memcpy(dst->perms, src->perms, sizeof(*src->perms) * src->nperms);
        return 0;
}

static uint32_t rec_owner(const struct xs_rec *r)
{
        return r ? r->perms[0].id : XS_DOMID_NONE;
}

struct xs_domain *xs_store_domain(struct xs_store *st, uint32_t domid)
{
        struct xs_domain *d;

        if (domid >= XS_DOMID_MAX)
                return NULL;
        d = st->domains[domid];
        if (d)
                return d;
        d = calloc(1, sizeof(*d));
        if (!d)
                return NULL;
        d->domid = domid;
        d->target = XS_DOMID_NONE;
        st->domains[domid] = d;
        return d;
}

struct xs_node *xs_store_find(struct xs_store *st, const char *path)
{
        struct hentry *e = ht_find(&st->nodes, path);

        return e ? container_of(e, struct xs_node, h) : NULL;
}

/* Move a node's owner accounting from old_owner to new_owner (XS_DOMID_NONE: none). */
static void account(struct xs_ctx *ctx, uint32_t old_owner, uint32_t new_owner)
{
        struct xs_store *st = xs_server_store(ctx->s);
        struct xs_domain *d;

        if (old_owner == new_owner)
                return;
        if (ctx->tx) {
                if (old_owner == ctx->domid)
                        ctx->tx->node_delta--;
                if (new_owner == ctx->domid)
                        ctx->tx->node_delta++;
                return;
        }
        if (old_owner != XS_DOMID_NONE && (d = xs_store_domain(st, old_owner)) && d->nodes > 0)
                d->nodes--;
        if (new_owner != XS_DOMID_NONE && (d = xs_store_domain(st, new_owner)))
                d->nodes++;
}

static int64_t nodes_owned(struct xs_ctx *ctx)
{
        struct xs_domain *d = xs_store_domain(xs_server_store(ctx->s), ctx->domid);
        int64_t n = d ? d->nodes : 0;

        return n + (ctx->tx ? ctx->tx->node_delta : 0);
}

static struct xs_txnode *tx_find(struct xs_tx *tx, const char *path)
{
        struct hentry *e = ht_find(&tx->nodes, path);

        return e ? container_of(e, struct xs_txnode, h) : NULL;
}

/*
 * The transaction's entry for path. The first access snapshots the store's
 * record, as xenstored copies a node into the transaction when it reads it:
 * later reads in the transaction see that copy, whatever happens outside.
 */
static int tx_node(struct xs_ctx *ctx, const char *path, struct xs_txnode **tn_r)
{
        struct xs_txnode *tn = tx_find(ctx->tx, path);
        struct xs_node *n;

        if (tn) {
                *tn_r = tn;
                return 0;
        }
        tn = calloc(1, sizeof(*tn));
        if (!tn)
                return -ENOMEM;
        tn->path = strdup(path);
        n = xs_store_find(xs_server_store(ctx->s), path);
        if (!tn->path || (n && rec_dup(&n->rec, &tn->rec) < 0)) {
                free(tn->path);
                free(tn);
                return -ENOMEM;
        }
        if (n)
                tn->rec.gen = n->rec.gen;
        tn->exists = n != NULL;
        tn->orig_gen = n ? n->rec.gen : XS_NO_GEN;
        tn->h.key = tn->path;
        ht_insert(&ctx->tx->nodes, &tn->h);
        tn->next = ctx->tx->list;
        ctx->tx->list = tn;
        *tn_r = tn;
        return 0;
}

/* The record at path as ctx sees it (*rec_r NULL when absent). */
static int view_get(struct xs_ctx *ctx, const char *path, const struct xs_rec **rec_r)
{
        struct xs_store *st = xs_server_store(ctx->s);
        struct xs_txnode *tn;
        struct xs_node *n;
        int r;

        if (ctx->tx) {
                r = tx_node(ctx, path, &tn);
                if (r < 0)
                        return r;
                *rec_r = tn->exists ? &tn->rec : NULL;
                return 0;
        }
        n = xs_store_find(st, path);
        *rec_r = n ? &n->rec : NULL;
        return 0;
}

/* Store rec (taken over) at path in ctx's view, with a fresh generation. */
static int view_put(struct xs_ctx *ctx, const char *path, struct xs_rec *rec)
{
        struct xs_store *st = xs_server_store(ctx->s);
        struct xs_txnode *tn;
        struct xs_node *n;
        int r;

        rec->gen = ++st->gen;
        if (ctx->tx) {
                r = tx_node(ctx, path, &tn);
                if (r < 0)
                        return r;
                account(ctx, tn->exists ? rec_owner(&tn->rec) : XS_DOMID_NONE, rec_owner(rec));
                xs_rec_done(&tn->rec);
                tn->modified = true;
                tn->exists = true;
                tn->rec = *rec;
                *rec = (struct xs_rec){ 0 };
                return 0;
        }
        n = xs_store_find(st, path);
        if (n) {
                account(ctx, rec_owner(&n->rec), rec_owner(rec));
                xs_rec_done(&n->rec);
                n->rec = *rec;
                *rec = (struct xs_rec){ 0 };
                return 0;
        }
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->path = strdup(path);
        if (!n->path) {
                free(n);
                return -ENOMEM;
        }
        n->h.key = n->path;
        n->rec = *rec;
        *rec = (struct xs_rec){ 0 };
        ht_insert(&st->nodes, &n->h);
        account(ctx, XS_DOMID_NONE, rec_owner(&n->rec));
        return 0;
}

/* Delete the single record at path (not its children) in ctx's view. */
static int view_del(struct xs_ctx *ctx, const char *path)
{
        struct xs_store *st = xs_server_store(ctx->s);
        struct xs_txnode *tn;
        struct xs_node *n;
        int r;

        if (ctx->tx) {
                r = tx_node(ctx, path, &tn);
                if (r < 0)
                        return r;
                if (tn->exists)
                        account(ctx, rec_owner(&tn->rec), XS_DOMID_NONE);
                xs_rec_done(&tn->rec);
                tn->modified = true;
                tn->exists = false;
                return 0;
        }
        n = xs_store_find(st, path);
        if (!n)
                return 0;
        account(ctx, rec_owner(&n->rec), XS_DOMID_NONE);
        ht_remove(&st->nodes, &n->h);
        xs_rec_done(&n->rec);
        free(n->path);
        free(n);
        return 0;
}

unsigned xs_perm_for(const struct xs_ctx *ctx, const struct xs_perm *perms, uint32_t nperms)
{
        const unsigned all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
        struct xs_store *st = xs_server_store(ctx->s);
        uint32_t target = XS_DOMID_NONE;

        if (ctx->privileged)
                return all;
        if (ctx->domid < XS_DOMID_MAX && st->domains[ctx->domid])
                target = st->domains[ctx->domid]->target;
        if (perms[0].id == ctx->domid || (target != XS_DOMID_NONE && perms[0].id == target))
                return all;
        for (uint32_t i = 1; i < nperms; i++)
                if (perms[i].id == ctx->domid || (target != XS_DOMID_NONE && perms[i].id == target))
                        return perms[i].perm;
        return perms[0].perm;
}

int xs_perms_format(const struct xs_perm *perms, uint32_t nperms, char **buf_r, size_t *len_r)
{
        static const char letters[] = "nrwb";
        char *buf = malloc((size_t)nperms * 12 + 1);
        size_t len = 0;

        if (!buf)
                return -ENOMEM;
        for (uint32_t i = 0; i < nperms; i++)
                len +=
                    sprintf(buf + len, "%c%" PRIu32, letters[perms[i].perm & 3], perms[i].id) + 1;
        *buf_r = buf;
        *len_r = len;
        return 0;
}

int xs_perms_parse(const char *s, uint32_t n, struct xs_perm **perms_r)
{
        _cleanup_free_ struct xs_perm *perms = calloc(n, sizeof(*perms));

        if (!perms)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++, s += strlen(s) + 1) {
                unsigned long id;
                char *end;

                switch (s[0]) {
                case 'n':
                        perms[i].perm = XS_PERM_NONE;
                        break;
                case 'r':
                        perms[i].perm = XS_PERM_READ;
                        break;
                case 'w':
                        perms[i].perm = XS_PERM_WRITE;
                        break;
                case 'b':
                        perms[i].perm = XS_PERM_READ | XS_PERM_WRITE;
                        break;
                default:
                        return -EINVAL;
                }
                if (s[1] < '0' || s[1] > '9')
                        return -EINVAL;
                errno = 0;
                id = strtoul(s + 1, &end, 10);
                if (errno || *end || id >= XS_DOMID_NONE)
                        return -EINVAL;
                perms[i].id = (uint32_t)id;
        }
        *perms_r = TAKE_PTR(perms);
        return 0;
}

/* The parent of an absolute path ("/" for "/a"), malloc'd. */
static char *parent_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        if (!slash || slash == path)
                return strdup("/");
        return strndup(path, slash - path);
}

/* A missing node: EACCES if the nearest existing ancestor denies perm, as xenstored. */
static int errno_from_parents(struct xs_ctx *ctx, const char *path, unsigned perm)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        while (strcmp(p, "/") != 0) {
                const struct xs_rec *rec;
                char *up = parent_of(p);
                int r;

                if (!up)
                        return -ENOMEM;
                free(p);
                p = up;
                r = view_get(ctx, p, &rec);
                if (r < 0)
                        return r;
                if (rec)
                        return (xs_perm_for(ctx, rec->perms, rec->nperms) & perm) ? -ENOENT
                                                                                  : -EACCES;
        }
        return -ENOENT;
}

int xs_get(struct xs_ctx *ctx, const char *path, unsigned perm, const struct xs_rec **rec_r)
{
        const struct xs_rec *rec;
        int r;

        r = view_get(ctx, path, &rec);
        if (r < 0)
                return r;
        if (!rec)
                return errno_from_parents(ctx, path, perm);
        if ((xs_perm_for(ctx, rec->perms, rec->nperms) & perm) != perm)
                return -EACCES;
        *rec_r = rec;
        return 0;
}

static size_t entry_size(uint32_t nperms, uint32_t vlen, uint32_t clen)
{
        /* xenstored's record size: header, perms, data, children. */
        return 3 * sizeof(uint32_t) + (size_t)nperms * 8 + vlen + clen;
}

static struct xs_event *event_new(const char *path, bool recurse, const struct xs_rec *rec)
{
        struct xs_event *ev = calloc(1, sizeof(*ev));

        if (!ev)
                return NULL;
        ev->path = strdup(path);
        ev->recurse = recurse;
        ev->nperms = rec->nperms;
        ev->perms = malloc(sizeof(*rec->perms) * rec->nperms);
        if (!ev->path || !ev->perms) {
                xs_event_free(ev);
                return NULL;
        }
        memcpy(ev->perms, rec->perms, sizeof(*rec->perms) * rec->nperms);
        return ev;
}

/* Report a change at path; an allocation failure loses the event, as a full ring would. */
static void fire(struct xs_ctx *ctx, const char *path, bool recurse, const struct xs_rec *rec)
{
        struct xs_event *ev = event_new(path, recurse, rec);

        if (ev)
                xs_fire(ctx, ev);
}

/*
 * The record at path, to change in place (its owner stays): the store's own,
 * or the transaction's copy, marked written. A fresh generation either way.
 */
static int view_mutable(struct xs_ctx *ctx, const char *path, struct xs_rec **rec_r)
{
        struct xs_store *st = xs_server_store(ctx->s);
        struct xs_txnode *tn;
        struct xs_node *n;
        int r;

        if (ctx->tx) {
                r = tx_node(ctx, path, &tn);
                if (r < 0)
                        return r;
                if (!tn->exists)
                        return -ENOENT;
                tn->modified = true;
                *rec_r = &tn->rec;
        } else {
                n = xs_store_find(st, path);
                if (!n)
                        return -ENOENT;
                *rec_r = &n->rec;
        }
        (*rec_r)->gen = ++st->gen;
        return 0;
}

/* Add name to a parent's children: in place, so a directory of any size grows cheaply. */
static int add_child(struct xs_ctx *ctx, const char *parent, const char *name)
{
        size_t nlen = strlen(name) + 1;
        struct xs_rec *prec;
        char *c;
        int r;

        r = view_mutable(ctx, parent, &prec);
        if (r < 0)
                return r;
        c = realloc(prec->children, prec->clen + nlen + 1);
        if (!c)
                return -ENOMEM;
        memcpy(c + prec->clen, name, nlen);
        prec->children = c;
        prec->clen += nlen;
        return 0;
}

static int remove_child(struct xs_ctx *ctx, const char *parent, const char *name)
{
        size_t nlen = strlen(name) + 1;
        struct xs_rec *prec;
        int r;

        r = view_mutable(ctx, parent, &prec);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (size_t off = 0; off < prec->clen; off += strlen(prec->children + off) + 1) {
                if (strcmp(prec->children + off, name) == 0) {
                        memmove(prec->children + off, prec->children + off + nlen,
                                prec->clen - off - nlen);
                        prec->clen -= nlen;
                        break;
                }
        }
        return 0;
}

/* Create path and its missing parents; the nearest existing ancestor is writable. */
static int create(struct xs_ctx *ctx, const char *path, const char *value, uint32_t vlen)
{
        _cleanup_strv_free_ char **missing = NULL;
        const struct xs_rec *anc = NULL;
        size_t n = 0, alloc = 0;
        int r;

        /* missing[0] = path, missing[n-1] = the topmost absent ancestor. */
        for (char *p = strdup(path);;) {
                char **m;

                if (!p)
                        return -ENOMEM;
                if (n + 2 > alloc) {
                        alloc = alloc ? alloc * 2 : 8;
                        m = realloc(missing, alloc * sizeof(*m));
                        if (!m) {
                                free(p);
                                return -ENOMEM;
                        }
                        missing = m;
                }
                missing[n++] = p;
                missing[n] = NULL;
                p = parent_of(p);
                if (!p)
                        return -ENOMEM;
                r = view_get(ctx, p, &anc);
                if (r < 0 || anc) {
                        free(p);
                        if (r < 0)
                                return r;
                        break;
                }
        }
        if (!ctx->privileged) {
                if (nodes_owned(ctx) + (int64_t)n > XS_QUOTA_NODES)
                        return -ENOSPC;
                if (entry_size(anc->nperms, vlen, 0) >= XS_QUOTA_ENTRY_SIZE)
                        return -ENOSPC;
        }
        for (size_t i = n; i-- > 0;) {
                _cleanup_free_ char *parent = parent_of(missing[i]);
                const struct xs_rec *prec;
                struct xs_rec rec = { 0 };

                if (!parent)
                        return -ENOMEM;
                r = view_get(ctx, parent, &prec);
                if (r < 0)
                        return r;
                if (!prec)
                        return -ENOENT;
                rec.nperms = prec->nperms;
                rec.perms = malloc(sizeof(*rec.perms) * prec->nperms);
                rec.value = i == 0 ? memdup0(value, vlen) : memdup0("", 0);
                rec.vlen = i == 0 ? vlen : 0;
                rec.children = memdup0("", 0);
                if (!rec.perms || !rec.value || !rec.children) {
                        xs_rec_done(&rec);
                        return -ENOMEM;
                }
                memcpy(rec.perms, prec->perms, sizeof(*rec.perms) * prec->nperms);
                /* A guest owns what it creates (xenstored's construct_node). */
                if (!ctx->privileged)
                        rec.perms[0].id = ctx->domid;
                r = add_child(ctx, parent, strrchr(missing[i], '/') + 1);
                if (r >= 0)
                        r = view_put(ctx, missing[i], &rec);
                xs_rec_done(&rec);
                if (r < 0)
                        return r;
        }
        return 0;
}

int xs_op_write(struct xs_ctx *ctx, const char *path, const char *value, uint32_t vlen, bool mkdir)
{
        const struct xs_rec *rec;
        struct xs_rec copy;
        int r;

        r = xs_get(ctx, path, XS_PERM_WRITE, &rec);
        if (r == -ENOENT) {
                r = create(ctx, path, value ? value : "", value ? vlen : 0);
                if (r < 0)
                        return r;
                r = view_get(ctx, path, &rec);
                if (r < 0)
                        return r;
                fire(ctx, path, false, rec);
                return 0;
        }
        if (r < 0)
                return r;
        if (mkdir)
                return 0;
        if (!ctx->privileged && entry_size(rec->nperms, vlen, rec->clen) >= XS_QUOTA_ENTRY_SIZE)
                return -ENOSPC;
        r = rec_dup(rec, &copy);
        if (r < 0)
                return r;
        free(copy.value);
        copy.value = memdup0(value, vlen);
        copy.vlen = vlen;
        if (!copy.value) {
                xs_rec_done(&copy);
                return -ENOMEM;
        }
        r = view_put(ctx, path, &copy);
        xs_rec_done(&copy);
        if (r < 0)
                return r;
        r = view_get(ctx, path, &rec);
        if (r < 0)
                return r;
        fire(ctx, path, false, rec);
        return 0;
}

static int del_tree(struct xs_ctx *ctx, const char *path)
{
        _cleanup_free_ char *children = NULL;
        const struct xs_rec *rec;
        size_t clen;
        int r;

        r = view_get(ctx, path, &rec);
        if (r < 0 || !rec)
                return r;
        clen = rec->clen;
        children = memdup0(rec->children, clen);
        if (!children)
                return -ENOMEM;
        for (size_t off = 0; off < clen; off += strlen(children + off) + 1) {
                _cleanup_free_ char *child = NULL;

                if (asprintf(&child, "%s/%s", strcmp(path, "/") ? path : "", children + off) < 0)
                        return -ENOMEM;
                r = del_tree(ctx, child);
                if (r < 0)
                        return r;
        }
        return view_del(ctx, path);
}

int xs_op_rm(struct xs_ctx *ctx, const char *path)
{
        _cleanup_free_ char *parent = parent_of(path);
        struct xs_event *ev;
        const struct xs_rec *rec;
        int r;

        if (!parent)
                return -ENOMEM;
        r = xs_get(ctx, path, XS_PERM_WRITE, &rec);
        if (r == -ENOENT) {
                /* Removing what is already gone is fine, if its parent exists. */
                const struct xs_rec *prec;

                r = view_get(ctx, parent, &prec);
                if (r < 0)
                        return r;
                return prec ? 0 : -ENOENT;
        }
        if (r < 0)
                return r;
        if (strcmp(path, "/") == 0)
                return -EINVAL;
        ev = event_new(path, true, rec);
        if (!ev)
                return -ENOMEM;
        r = del_tree(ctx, path);
        if (r >= 0)
                r = remove_child(ctx, parent, strrchr(path, '/') + 1);
        if (r < 0) {
                xs_event_free(ev);
                return r;
        }
        xs_fire(ctx, ev);
        return 0;
}

int xs_op_set_perms(struct xs_ctx *ctx, const char *path, struct xs_perm *perms, uint32_t n)
{
        const struct xs_rec *rec;
        struct xs_event *ev;
        struct xs_rec copy;
        int r;

        if (path[0] == '@') {
                /* Special nodes live outside transactions and the tree. */
                struct xs_node *sn = xs_store_find(xs_server_store(ctx->s), path);
                struct xs_ctx main = *ctx;

                if (!sn) {
                        free(perms);
                        return -ENOENT;
                }
                if ((xs_perm_for(ctx, sn->rec.perms, sn->rec.nperms) &
                     (XS_PERM_WRITE | XS_PERM_OWNER)) != (XS_PERM_WRITE | XS_PERM_OWNER)) {
                        free(perms);
                        return -EACCES;
                }
                r = rec_dup(&sn->rec, &copy);
                if (r < 0) {
                        free(perms);
                        return r;
                }
                free(copy.perms);
                copy.perms = perms;
                copy.nperms = n;
                main.tx = NULL;
                r = view_put(&main, path, &copy);
                xs_rec_done(&copy);
                return r;
        }
        r = xs_get(ctx, path, XS_PERM_WRITE | XS_PERM_OWNER, &rec);
        if (r < 0) {
                free(perms);
                return r;
        }
        /* Unprivileged domains may not change the owner. */
        if (!ctx->privileged && perms[0].id != rec->perms[0].id) {
                free(perms);
                return -EPERM;
        }
        ev = event_new(path, false, rec);
        r = rec_dup(rec, &copy);
        if (!ev || r < 0) {
                xs_event_free(ev);
                free(perms);
                return r < 0 ? r : -ENOMEM;
        }
        free(copy.perms);
        copy.perms = perms;
        copy.nperms = n;
        /* Watchers that could read the node before or after are told. */
        ev->perms2 = malloc(sizeof(*perms) * n);
        if (ev->perms2) {
                memcpy(ev->perms2, perms, sizeof(*perms) * n);
                ev->nperms2 = n;
        }
        r = view_put(ctx, path, &copy);
        xs_rec_done(&copy);
        if (r < 0) {
                xs_event_free(ev);
                return r;
        }
        xs_fire(ctx, ev);
        return 0;
}

int xs_tx_new(uint32_t id, struct xs_tx **tx_r)
{
        struct xs_tx *tx = calloc(1, sizeof(*tx));

        if (!tx)
                return -ENOMEM;
        if (ht_init(&tx->nodes) < 0) {
                free(tx);
                return -ENOMEM;
        }
        tx->id = id;
        tx->events_tail = &tx->events;
        *tx_r = tx;
        return 0;
}

static void tx_free(struct xs_tx *tx)
{
        while (tx->list) {
                struct xs_txnode *tn = tx->list;

                tx->list = tn->next;
                xs_rec_done(&tn->rec);
                free(tn->path);
                free(tn);
        }
        while (tx->events) {
                struct xs_event *ev = tx->events;

                tx->events = ev->next;
                xs_event_free(ev);
        }
        ht_done(&tx->nodes);
        free(tx);
}

int xs_tx_end(struct xs_server *s, struct xs_tx *tx, bool commit)
{
        struct xs_store *st = xs_server_store(s);
        struct xs_ctx main = { .s = s, .privileged = true, .domid = 0 };
        int r = 0;

        if (!commit)
                goto out;
        /*
         * Each request checks the quota against the store plus its own
         * transaction only, so concurrent transactions could each stay under
         * it; xenstored (transaction_fix_domains) checks again at commit.
         */
        if (tx->node_quota && tx->node_delta > 0) {
                struct xs_domain *d = xs_store_domain(st, tx->domid);

                if (!d) {
                        r = -ENOMEM;
                        goto out;
                }
                if ((int64_t)d->nodes + tx->node_delta > XS_QUOTA_NODES) {
                        r = -ENOSPC;
                        goto out;
                }
        }
        for (struct xs_txnode *tn = tx->list; tn; tn = tn->next) {
                struct xs_node *n = xs_store_find(st, tn->path);

                if ((n ? n->rec.gen : XS_NO_GEN) != tn->orig_gen) {
                        r = -EAGAIN;
                        goto out;
                }
        }
        for (struct xs_txnode *tn = tx->list; tn; tn = tn->next) {
                if (!tn->modified)
                        continue;
                r = tn->exists ? view_put(&main, tn->path, &tn->rec) : view_del(&main, tn->path);
                if (r < 0)
                        goto out;
        }
        while (tx->events) {
                struct xs_event *ev = tx->events;

                tx->events = ev->next;
                xs_fire_now(s, ev);
        }
out:
        tx_free(tx);
        return r;
}

/* Insert a fresh dom0-owned (n0) node straight into the store. */
static int store_add(struct xs_store *st, const char *path, const char *children)
{
        struct xs_node *n = calloc(1, sizeof(*n));
        size_t clen = 0;

        if (!n)
                return -ENOMEM;
        /* children: names separated by '|' here, NUL-separated in the record. */
        n->path = strdup(path);
        n->rec.perms = calloc(1, sizeof(*n->rec.perms));
        n->rec.value = memdup0("", 0);
        n->rec.nperms = 1;
        if (children) {
                clen = strlen(children) + 1;
                n->rec.children = memdup0(children, clen);
                if (n->rec.children)
                        for (char *c = n->rec.children; *c; c++)
                                if (*c == '|')
                                        *c = 0;
        } else
                n->rec.children = memdup0("", 0);
        if (!n->path || !n->rec.perms || !n->rec.value || !n->rec.children) {
                xs_rec_done(&n->rec);
                free(n->path);
                free(n);
                return -ENOMEM;
        }
        n->rec.clen = clen;
        n->rec.gen = ++st->gen;
        n->h.key = n->path;
        ht_insert(&st->nodes, &n->h);
        return 0;
}

/* xenstored's setup_structure: /, /tool, /tool/xenstored and the special nodes. */
int xs_store_init(struct xs_store *st)
{
        int r;

        r = ht_init(&st->nodes);
        if (r < 0)
                return r;
        r = store_add(st, "/", "tool");
        if (r >= 0)
                r = store_add(st, "/tool", "xenstored");
        if (r >= 0)
                r = store_add(st, "/tool/xenstored", NULL);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(special_nodes); i++)
                r = store_add(st, special_nodes[i], NULL);
        return r;
}

void xs_store_done(struct xs_store *st)
{
        for (size_t i = 0; st->nodes.buckets && i < st->nodes.nbuckets; i++) {
                struct hentry *e = st->nodes.buckets[i];

                while (e) {
                        struct xs_node *n = container_of(e, struct xs_node, h);

                        e = e->next;
                        xs_rec_done(&n->rec);
                        free(n->path);
                        free(n);
                }
        }
        ht_done(&st->nodes);
        for (size_t i = 0; i < XS_DOMID_MAX; i++)
                free(st->domains[i]);
}
