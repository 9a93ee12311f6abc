/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h — the daemon's logging: to the journal with structured fields when
 * systemd started us (JOURNAL_STREAM), to stderr otherwise; XENSUP_LOG=
 * stderr|journal overrides.
 */
#pragma once

#include <sys/types.h>
#include <syslog.h>

#include "common/macros.h"
#include "supervisor/domain.h"

/* MESSAGE_IDs, one per event kind, so `journalctl MESSAGE_ID=...` finds them. */
#define LOG_MID_DOMAIN_STARTED "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a51"
#define LOG_MID_DOMAIN_STOPPED "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a52"
#define LOG_MID_DOMAIN_ACTION  "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a53"
#define LOG_MID_DOMAIN_FAILED  "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a54"
#define LOG_MID_DOMAIN_ADOPTED "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a55"
#define LOG_MID_DOMAIN_CLEANED "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a56"
#define LOG_MID_CONFIG         "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a57"
#define LOG_MID_AUDIT          "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a58"
#define LOG_MID_DEVICE         "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a59"

/* Log a plain message. */
void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);

/* Log "message: strerror(-r)" and return r (a negative errno), for `return log_errno(...)`. */
int log_errno(int prio, int r, const char *fmt, ...) _printf_(3, 4);

/*
 * Log an event of a domain with its fields: DOMAIN_NAME, DOMAIN_UUID, DOMID,
 * SHUTDOWN_REASON, and ACTION when action is non-NULL.
 */
void log_domain(int prio, const struct domain *d, const char *message_id, const char *action,
                const char *fmt, ...) _printf_(5, 6);

/*
 * Audit a mutating D-Bus call once it is decided: "METHOD of DOMAIN by uid U (pid P)" (LOG_NOTICE;
 * " refused" appended and LOG_WARNING when decision is "refused"), with XENSUP_CALLER_UID,
 * XENSUP_CALLER_PID, XENSUP_METHOD, XENSUP_ACTION, XENSUP_DECISION and, when d is non-NULL, the
 * domain fields of log_domain(). pid 0 means the bus vouched for none.
 */
void log_audit(const struct domain *d, const char *method, uid_t uid, pid_t pid, const char *action,
               const char *decision);
