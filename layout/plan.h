/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan.h — layout's request layer, shared by its files (layout.c, devices.c);
 * nothing outside layout/ includes it.
 *
 * Every XenStore request passes through one counter (x_*), a step runs in
 * one transaction retried on EAGAIN (run_step), and the nodes a step writes
 * are first described as a plan (path, value, access), sent by an executor
 * that relies on xenstored's inheritance (a new node takes its parent's ACL)
 * to send the fewest requests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenstore.h>

#include "common/macros.h"
#include "layout/acl.h"
#include "layout/xs-wire.h"

struct layout {
        struct xs_handle *xs;
        uint64_t requests;

        uint64_t fail_at; /* request number to fail, 0 = never */
        int fail_error;
        uint64_t hook_at; /* request number to run hook before, 0 = never */
        void (*hook)(void *userdata);
        void *hook_userdata;

        int lock_fd;          /* layout_serialize_transactions(): flock()ed around each; -1 none */
        unsigned patience_ms; /* layout_serialize_transactions(): retry EAGAIN this long */
        bool records_private; /* /tool/xensup made dom0-only by this handle: records inherit it */

        /* Transactions go over it when xenstored has a socket (xs-wire.h); NULL: libxenstore. */
        struct xs_wire *wire;
        bool wire_unbound; /* requests outside a transaction go over it too (run_before()) */
        int wire_error;    /* the open transaction's first failed request sent ahead, 0 none */
        char *wire_err;    /* and its message, which the step's own gives way to */
};

/* -errno of the last failed call, or -EIO when it left none. */
int errno_or_eio(void);

/* Write value (len bytes) at path. */
int x_write_len(struct layout *l, xs_transaction_t t, const char *path, const char *value,
                unsigned len);

/* Write a string at path. */
int x_write(struct layout *l, xs_transaction_t t, const char *path, const char *value);

/* Create an empty node (and its missing parents). */
int x_mkdir(struct layout *l, xs_transaction_t t, const char *path);

/* Remove a subtree; one that is not there is already removed. */
int x_rm(struct layout *l, xs_transaction_t t, const char *path);

/* Set a node's ACL. */
int x_set_perms(struct layout *l, xs_transaction_t t, const char *path,
                struct xs_permissions *perms, unsigned n);

/* Read a node; the caller frees *value_r. */
int x_read(struct layout *l, xs_transaction_t t, const char *path, char **value_r, unsigned *len_r);

/* Read a node's ACL; the caller frees *perms_r. */
int x_get_perms(struct layout *l, xs_transaction_t t, const char *path,
                struct xs_permissions **perms_r, unsigned *n_r);

/* List a node's children; the caller frees *names_r (one allocation). */
int x_directory(struct layout *l, xs_transaction_t t, const char *path, char ***names_r,
                unsigned *n_r);

/* Watch path with token (xs_watch); the events come through xs_fileno()/xs_read_watch(). */
int x_watch(struct layout *l, const char *path, const char *token);

/* Remove that watch. */
int x_unwatch(struct layout *l, const char *path, const char *token);

/* CLOCK_MONOTONIC in milliseconds, for the waits' deadlines. */
uint64_t x_now_ms(void);

/* Wait for the next event of the handle's watches, at most ms; 0 on an event or the timeout. */
int x_wait_watch(struct layout *l, unsigned ms);

/* xs_resume_domain: xenstored takes the domain's store ring back after a cancelled suspend. */
int x_resume_domain(struct layout *l, uint32_t domid);

/* Start a transaction. */
int x_transaction_start(struct layout *l, xs_transaction_t *t_r);

/* End a transaction: commit, or abort when abort is set (never fails on purpose). */
int x_transaction_end(struct layout *l, xs_transaction_t t, bool abort);

/* One step of a transaction: its requests inside t. */
typedef int (*step_fn)(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r);

/*
 * Run step in one transaction and commit it, again from scratch on EAGAIN (bounded), after other
 * handles' on the same lock (layout_serialize_transactions()); a failure's message is prefixed
 * with what.
 */
int run_step(struct layout *l, const char *what, step_fn step, const void *userdata, char **err_r);

/* Run step outside any transaction (t is XBT_NULL), for one request that is atomic alone. */
int run_request(struct layout *l, const char *what, step_fn step, const void *userdata,
                char **err_r);

/* -EINVAL, prefixed with what, unless domid is a guest's. */
int check_domid(uint32_t domid, const char *what, char **err_r);

struct plan_node {
        char *path;
        char *value; /* NULL: a directory, created empty */
        enum layout_access access;
};

struct plan {
        uint32_t domid;
        struct plan_node *nodes;
        size_t n, allocated;
        char *remove[4]; /* subtrees removed before the nodes are written */
        size_t n_remove;
        char *clear[3]; /* subtrees removed and made again, empty, before the transaction */
        size_t n_clear;
        char *guard[2]; /* updates: nodes that must exist, or the step is -ENOENT */
        size_t n_guard;
        int error; /* the first failure while building (-ENOMEM, -E2BIG) */
};

/* Free what a plan holds. */
void plan_done(struct plan *p);

/* For _cleanup_(plan_donep). */
void plan_donep(struct plan *p);

/* Add a node (value NULL: a directory) with the guest's access; a failure is kept in p->error. */
_printf_(4, 5) void plan_add(struct plan *p, enum layout_access access, const char *value,
                             const char *fmt, ...);

/* Format a number (or any short value) into buf, for plan_add(). */
_printf_(2, 3) const char *val(char buf[32], const char *fmt, ...);

/* A subtree removed before the nodes are written. */
_printf_(2, 3) void plan_remove(struct plan *p, const char *fmt, ...);

/*
 * A subtree removed and made again, empty, before the plan's transaction, one request each:
 * the transaction then touches only what lies below it, and one that clears other subtrees
 * never conflicts with it (plan_run()).
 */
_printf_(2, 3) void plan_clear(struct plan *p, const char *fmt, ...);

/* A node that must exist for an update to run (else -ENOENT). */
_printf_(2, 3) void plan_guard(struct plan *p, const char *fmt, ...);

/* Step: remove p->remove, then write p->nodes with their ACLs (userdata: the plan). */
int plan_execute(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r);

/* Step: check p->guard exist, then write p->nodes' values, keeping their ACLs. */
int update_execute(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r);

/* The fewest requests any way of sending p with plan_execute()'s effect needs (plan.c). */
uint64_t plan_floor(const struct plan *p);

/*
 * Run a plan as one transaction of step; errors are prefixed with what. A plan that clears its
 * subtrees first runs beside other handles' transactions, not after them (the lock is theirs),
 * and takes the subtrees away again when its transaction fails.
 */
int plan_run(struct layout *l, struct plan *p, step_fn step, const char *what, char **err_r);
