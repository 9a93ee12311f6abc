/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h — the daemon's logging: to the journal with structured fields when
 * systemd started us (JOURNAL_STREAM), to stderr otherwise; XENSUP_LOG=
 * stderr|journal overrides. With XENSUP_LOG=journal and no journald, one
 * notice says so and everything goes to stderr from then on.
 *
 * The level (xensupd --log-level) and the target live in the environment,
 * XENSUP_LOG_LEVEL=0..7 and XENSUP_LOG, not in a global: build, device and
 * save children and the exec'd --dump-core helper inherit both, and so do
 * builders/ and layout/, which include no supervisor/ header. They write
 * their debug lines (each hypervisor call, each XenStore transaction)
 * themselves, by this contract: only when XENSUP_LOG_LEVEL is "7", tested
 * before anything is formatted; as "xensupd: debug: TEXT" on stderr, as
 * log_msg(LOG_DEBUG, ...) writes it, "<7>"-prefixed when stderr is the
 * journal's stream (JOURNAL_STREAM) so that journald files it at debug.
 *
 * Journal fields: XENSUP_DOMAIN, XENSUP_UUID, XENSUP_DOMID, XENSUP_REASON,
 * XENSUP_ACTION for a domain's messages; XENSUP_CALLER_UID, XENSUP_CALLER_PID,
 * XENSUP_METHOD, XENSUP_DECISION for an audited call. Every MESSAGE_ID below
 * has its section in units/xensup.catalog (tests/test-logs.sh checks both ways).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <syslog.h>

#include "common/macros.h"
#include "supervisor/domain.h"

/* MESSAGE_IDs, one per event kind, so `journalctl MESSAGE_ID=...` finds them. */
#define LOG_MID_DOMAIN_STARTED    "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a51"
#define LOG_MID_DOMAIN_STOPPED    "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a52"
#define LOG_MID_DOMAIN_ACTION     "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a53"
#define LOG_MID_DOMAIN_FAILED     "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a54"
#define LOG_MID_DOMAIN_ADOPTED    "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a55"
#define LOG_MID_DOMAIN_CLEANED    "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a56"
#define LOG_MID_CONFIG            "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a57"
#define LOG_MID_AUDIT             "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a58"
#define LOG_MID_DEVICE            "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a59"
#define LOG_MID_DOMAIN_CRASHED    "277cb17236d64a59879e4c5e5187a1d2"
#define LOG_MID_DOMAIN_RESTARTING "05f9722af2954ae59536fdf94d2d7c20"
#define LOG_MID_CONFIG_INVALID    "907ef88882c14ebcb0b70ed45191c5d1"
#define LOG_MID_DAEMON_STARTED    "2dc5b7b88a4140a085595ce8db9fa962"
#define LOG_MID_DAEMON_STOPPING   "8ff9a5eee51f4228a2f8ae0add335520"
#define LOG_MID_HOST_SHUTDOWN     "b52f4bb7e6f14e328bf6c1566099df66"
#define LOG_MID_HOST_BOOT         "ea0264e4810f4ab1908178511ce7cb4c"
#define LOG_MID_SAVE_DONE         "07786f2c0ae242c38ff67b08b80dc200"
#define LOG_MID_SAVE_FAILED       "e562f33638664d5191af68ce9e3c345c"
#define LOG_MID_RESTORE_DONE      "034bcb7ece8840bea5225636967e06f6"
#define LOG_MID_RESTORE_FAILED    "70a30bccde464635b5f3cf741ab33edf"
#define LOG_MID_MIGRATE_DONE      "b9ebb15e09c8444995eff5ca9280f14b"
#define LOG_MID_MIGRATE_FAILED    "d3694396739c4e95af3dffbdefafe40e"
#define LOG_MID_CALLER_DENIED     "d8fc6fe45eed4bf7bb4f8196d44b1220"

/* The journal's socket: without it XENSUP_LOG=journal falls back to stderr. */
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* The valid --log-level words, for messages. */
#define LOG_LEVEL_NAMES "emerg, alert, crit, err, warning, notice, info, debug (or 0 to 7)"

/*
 * A level as systemd takes it: a syslog name ("err", "warning", ...) or 0..7;
 * the level, or -EINVAL.
 */
int log_level_from_string(const char *s);

/*
 * Set up logging once at start: export XENSUP_LOG_LEVEL=level (a negative level keeps an
 * inherited valid one, else info) and, for XENSUP_LOG=journal without journald, print the
 * fallback notice and switch to stderr.
 */
void log_setup(int level);

/* Whether messages of prio are logged: callers test it before building costly text. */
bool log_enabled(int prio);

/* Log a plain message. */
void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);

/* Log a host-level message of a kind a person looks for again (MESSAGE_ID message_id). */
void log_event(int prio, const char *message_id, const char *fmt, ...) _printf_(3, 4);

/* Log "message: strerror(-r)" and return r (a negative errno), for `return log_errno(...)`. */
int log_errno(int prio, int r, const char *fmt, ...) _printf_(3, 4);

/*
 * Log an event of a domain with its fields: XENSUP_DOMAIN, XENSUP_UUID, XENSUP_DOMID,
 * XENSUP_REASON, and XENSUP_ACTION when action is non-NULL.
 */
void log_domain(int prio, const struct domain *d, const char *message_id, const char *action,
                const char *fmt, ...) _printf_(5, 6);

/*
 * Audit a mutating D-Bus call once it is decided: "METHOD of DOMAIN by uid U (pid P)" (LOG_NOTICE,
 * MESSAGE_ID LOG_MID_AUDIT; " refused" appended, LOG_WARNING and LOG_MID_CALLER_DENIED when
 * decision is "refused"), with XENSUP_CALLER_UID, XENSUP_CALLER_PID, XENSUP_METHOD,
 * XENSUP_ACTION, XENSUP_DECISION and, when d is non-NULL, the domain fields of log_domain(). pid 0
 * means the bus vouched for none.
 */
void log_audit(const struct domain *d, const char *method, uid_t uid, pid_t pid, const char *action,
               const char *decision);
