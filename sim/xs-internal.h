/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xs-internal.h — shared between the pieces of the embedded XenStore server:
 * xs-store.c (the node store, its transactions and permissions, in
 * common/hash.h's tables) and xs-server.c (connections, the request
 * dispatch, watches, domains).
 *
 * The store is xenstored's model: a flat map from absolute path to a record
 * {value, perms, NUL-separated children names, generation}. A transaction is
 * an overlay map of the records it read (with the generation seen) and wrote;
 * commit checks the generations and applies the written records, so its cost
 * is O(records touched), whatever the size of the tree.
 */
#pragma once

#include "common/hash.h"
#include "common/vocabulary.h"
#include <stdbool.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "sim/xs-server.h"

#define XS_NO_GEN     UINT64_MAX /* generation recorded for a node that did not exist */
#define XS_DOMID_MAX  DOMID_FIRST_RESERVED
#define XS_DOMID_NONE UINT32_MAX

enum {
        XS_PERM_NONE = 0,
        XS_PERM_READ = 1,
        XS_PERM_WRITE = 2,
        XS_PERM_OWNER = 4,
};

/* The store's tables: common/hash.h. */

/* ---- records and the store (xs-store.c) ---- */

struct xs_perm {
        uint32_t id;
        uint8_t perm; /* XS_PERM_READ | XS_PERM_WRITE */
};

struct xs_rec {
        char *value;
        uint32_t vlen;
        struct xs_perm *perms; /* perms[0]: owner and everyone else's access */
        uint32_t nperms;
        char *children; /* names, each NUL-terminated */
        uint32_t clen;
        uint64_t gen;
};

struct xs_node {
        struct hentry h;
        char *path;
        struct xs_rec rec;
};

struct xs_txnode {
        struct hentry h;
        struct xs_txnode *next; /* every txnode of the transaction */
        char *path;
        uint64_t orig_gen; /* generation in the store when first seen, XS_NO_GEN if absent */
        bool modified;     /* written in the transaction: applied at commit */
        bool exists;       /* rec: the transaction's view (a snapshot until modified) */
        struct xs_rec rec;
};

struct xs_event;
struct xs_conn;

struct xs_tx {
        struct xs_tx *next; /* in its connection */
        uint32_t id;
        struct htable nodes;
        struct xs_txnode *list;
        struct xs_event *events; /* watch events to fire on commit */
        struct xs_event **events_tail;
        int32_t node_delta; /* nodes created minus removed, owned by the connection's domain */
        uint32_t domid;     /* the connection's domain, fixed while a transaction is open */
        bool node_quota;    /* a guest's: commit refused when its nodes would exceed the quota */
};

/* A change to report to the watches, fired now or at commit. */
struct xs_event {
        struct xs_event *next;
        char *path;
        bool recurse; /* a removal: watches below path fire too */
        struct xs_perm *perms;
        uint32_t nperms;
        struct xs_perm *perms2; /* SET_PERMS: the old permissions */
        uint32_t nperms2;
};

struct xs_domain {
        uint32_t domid;
        bool introduced;
        bool shutdown;
        uint64_t mfn;
        uint32_t port;
        uint32_t target;
        uint32_t nodes;  /* nodes it owns */
        unsigned nwatch; /* watches and open transactions of its live connections, */
        unsigned ntx;    /* counted per domain as xenstored's nbwatch and nbtransaction */
};

struct xs_server;

/* The connection side the store needs: who asks, in which transaction. */
struct xs_ctx {
        struct xs_server *s;
        struct xs_conn *conn;
        uint32_t domid;
        bool privileged;
        struct xs_tx *tx; /* NULL: the store itself */
};

/* The store: every node by path, and the special @ nodes (perms only). */
struct xs_store {
        struct htable nodes;
        uint64_t gen;
        struct xs_domain *domains[XS_DOMID_MAX];
};

/* Create the store with xenstored's initial nodes. */
int xs_store_init(struct xs_store *st);

/* The node at path in the store itself (outside any transaction), or NULL. */
struct xs_node *xs_store_find(struct xs_store *st, const char *path);

/* Free every node and domain. */
void xs_store_done(struct xs_store *st);

/* The domain record for domid, created on demand; NULL for domid >= XS_DOMID_MAX or ENOMEM. */
struct xs_domain *xs_store_domain(struct xs_store *st, uint32_t domid);

/* Free a record's buffers. */
void xs_rec_done(struct xs_rec *r);

/* What ctx's domain may do on a node with these perms (XS_PERM_* bits). */
unsigned xs_perm_for(const struct xs_ctx *ctx, const struct xs_perm *perms, uint32_t nperms);

/* Format perms as xenstored does ("n0\0r5\0"); returns a malloc'd buffer and its length. */
int xs_perms_format(const struct xs_perm *perms, uint32_t nperms, char **buf_r, size_t *len_r);

/* Parse n NUL-separated perm strings ("r5"). */
int xs_perms_parse(const char *s, uint32_t n, struct xs_perm **perms_r);

/* Find path in ctx's view, checking perm; on failure -ENOENT or -EACCES as xenstored. */
int xs_get(struct xs_ctx *ctx, const char *path, unsigned perm, const struct xs_rec **rec_r);

/* Write (creating parents) or mkdir (value NULL: only when absent); fires watches. */
int xs_op_write(struct xs_ctx *ctx, const char *path, const char *value, uint32_t vlen, bool mkdir);

/* Remove path and its subtree; fires watches. */
int xs_op_rm(struct xs_ctx *ctx, const char *path);

/* Replace path's perms (checked as xenstored's SET_PERMS); fires watches. */
int xs_op_set_perms(struct xs_ctx *ctx, const char *path, struct xs_perm *perms, uint32_t n);

/* Start a transaction for conn. */
int xs_tx_new(uint32_t id, struct xs_tx **tx_r);

/*
 * Commit (a guest's over its node quota: -ENOSPC; a conflict: -EAGAIN; either
 * changes nothing) and free, or just free (commit false).
 */
int xs_tx_end(struct xs_server *s, struct xs_tx *tx, bool commit);

/* ---- xs-server.c, used by the store ---- */

/* The server's store. */
struct xs_store *xs_server_store(struct xs_server *s);

/* Report a change to the watches: now, or at commit when ctx is in a transaction. */
void xs_fire(struct xs_ctx *ctx, struct xs_event *ev);

/* Fire a queued event at the watches and free it. */
void xs_fire_now(struct xs_server *s, struct xs_event *ev);

/* Free an event. */
void xs_event_free(struct xs_event *ev);
