/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xs-server.h — the embedded XenStore server of xensup-sim.
 *
 * Speaks the xs_wire protocol (xen/io/xs_wire.h) on a Unix socket, so the
 * real libxenstore (XENSTORED_PATH) and xenstore-utils talk to it as to
 * xenstored 4.17. A socket connection is dom0 (privileged). The simulated
 * hypervisor, in the same process and on the same sd_event loop, opens
 * in-process connections that act as guest domid N (xs_server_connect_domain)
 * and reports domain shutdown/death; both kinds of connection go through one
 * request-dispatch path, so permissions and quotas are enforced once.
 *
 * Simulator-only CONTROL subcommands (xs_control_command(h, cmd, data, len)),
 * all for dom0 connections only:
 *   "print"          TEXT: log TEXT on stderr (as xenstored does), reply "OK".
 *   "sim-as-domain"  N: turn the calling socket connection into guest domid N
 *                    for the rest of its life (guest permissions and quotas).
 *                    There is no way back to dom0: open a new connection.
 *   "sim-stats"      reply "global=G conn=C": requests served since start, by
 *                    everyone and by the calling connection (this one included).
 *   "quota"          [N]: the quota limits, or domain N's current usage.
 *   "help"           the list of commands.
 *
 * Limits beyond xenstored's guest quotas (which dom0 is exempt from): every
 * connection, dom0 included, may hold at most XS_SIM_MAX_WATCHES watches and
 * XS_SIM_MAX_TRANSACTIONS open transactions, and a connection whose pending
 * output (replies and watch events it does not read) exceeds
 * XS_SIM_OUTPUT_MAX bytes is dropped, so no client can grow the server
 * without bound.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

/* Guest quotas, as xenstored 4.17's defaults; dom0 is exempt. */
#define XS_QUOTA_NODES        1000
#define XS_QUOTA_WATCHES      128
#define XS_QUOTA_TRANSACTIONS 10
#define XS_QUOTA_ENTRY_SIZE   2048
#define XS_QUOTA_PERMS        5

/* Hard limits for every connection (see above). */
#define XS_SIM_MAX_WATCHES      65536
#define XS_SIM_MAX_TRANSACTIONS 1024
#define XS_SIM_OUTPUT_MAX       (1024 * 1024)

struct xs_server;
struct xs_conn;

/*
 * Called when a dom0 client sends INTRODUCE for a domain not yet introduced;
 * a negative return fails the INTRODUCE with that errno.
 */
typedef int (*xs_introduce_cb)(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                               void *userdata);

/* A watch event delivered to an in-process connection (from the event loop, never re-entrantly). */
typedef void (*xs_watch_cb)(struct xs_conn *c, const char *path, const char *token, void *userdata);

/* Create a server on event, with xenstored's initial tree (/, /tool/xenstored). */
int xs_server_new(sd_event *event, struct xs_server **server_r, char **err_r);

/*
 * Close every connection, unlink the socket, free; returns NULL. NULL-safe.
 * In-process connections are freed too: close them (or stop using them) first.
 */
struct xs_server *xs_server_free(struct xs_server *s);

/* Listen on path; a stale socket is removed, a live server answering there is -EADDRINUSE. */
int xs_server_listen(struct xs_server *s, const char *path, char **err_r);

/* Register the hypervisor's INTRODUCE hook (NULL to remove). */
void xs_server_set_introduce_cb(struct xs_server *s, xs_introduce_cb cb, void *userdata);

/*
 * Open an in-process connection acting as domid (0 = privileged dom0). It is
 * the domain's connection: released with the domain, after which its calls
 * fail with -ENOTCONN; the caller still frees it with xs_conn_close().
 */
int xs_server_connect_domain(struct xs_server *s, uint32_t domid, struct xs_conn **conn_r);

/*
 * The domain shut down (not yet dead): fire @releaseDomain, as xenstored on VIRQ_DOM_EXC,
 * the first time only; XS_RESUME (xs_resume_domain) clears that, so the next one fires.
 */
int xs_server_domain_shutdown(struct xs_server *s, uint32_t domid);

/*
 * The domain is gone: it is no longer introduced, its connections are closed
 * (watches and transactions dropped), @releaseDomain fires. -ENOENT if it was
 * not introduced.
 */
int xs_server_domain_release(struct xs_server *s, uint32_t domid);

/* Whether domid is introduced (what IS_DOMAIN_INTRODUCED answers). */
bool xs_server_domain_is_introduced(struct xs_server *s, uint32_t domid);

/* Requests served since the server started, all connections together. */
uint64_t xs_server_request_count(struct xs_server *s);

/* Read path (relative paths are under /local/domain/<domid>); value NUL-terminated, length in
 * *len_r. */
int xs_conn_read(struct xs_conn *c, const char *path, char **value_r, size_t *len_r);

/* Write len bytes of value to path, creating parents. */
int xs_conn_write(struct xs_conn *c, const char *path, const void *value, size_t len);

/* Create path (and parents) with an empty value if it does not exist. */
int xs_conn_mkdir(struct xs_conn *c, const char *path);

/* Remove path and everything below it. */
int xs_conn_rm(struct xs_conn *c, const char *path);

/* List the children of path as a NULL-terminated strv (free with strv_free). */
int xs_conn_directory(struct xs_conn *c, const char *path, char ***names_r);

/* Watch path (or @introduceDomain/@releaseDomain); cb fires once at once, then on changes. */
int xs_conn_watch(struct xs_conn *c, const char *path, const char *token, xs_watch_cb cb,
                  void *userdata);

/* Remove the watch registered with path and token; pending events for it are dropped. */
int xs_conn_unwatch(struct xs_conn *c, const char *path, const char *token);

/* The domid this connection acts as. */
uint32_t xs_conn_domid(struct xs_conn *c);

/* Whether the connection still serves requests (false once its domain was released). */
bool xs_conn_is_connected(struct xs_conn *c);

/* Close an in-process connection (its watches and transactions go); returns NULL. NULL-safe. */
struct xs_conn *xs_conn_close(struct xs_conn *c);
