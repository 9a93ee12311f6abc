/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "supervisor/log.h"

/*
 * Journal or stderr, read from the environment on each call rather than kept
 * in a global: logging is needed before the manager exists and after it is
 * gone, and getenv() is cheap next to the write itself.
 */
static bool log_to_journal(void)
{
        const char *mode = getenv("XENSUP_LOG");

        if (mode && strcmp(mode, "stderr") == 0)
                return false;
        if (mode && strcmp(mode, "journal") == 0)
                return true;
        return getenv("JOURNAL_STREAM") != NULL;
}

static void log_emitv(int prio, const struct domain *d, const char *message_id, const char *action,
                      const char *fmt, va_list ap)
{
        _cleanup_free_ char *text = NULL;
        char domid[16] = "";

        if (vasprintf(&text, fmt, ap) < 0)
                return;
        if (!log_to_journal()) {
                if (d)
                        fprintf(stderr, "xensupd: %s: %s\n", d->name, text);
                else
                        fprintf(stderr, "xensupd: %s\n", text);
                return;
        }
        if (!d) {
                sd_journal_send("MESSAGE=%s", text, "PRIORITY=%i", prio, NULL);
                return;
        }
        if (d->has_domid)
                snprintf(domid, sizeof(domid), "%u", d->domid);
        sd_journal_send("MESSAGE=%s: %s", d->name, text, "PRIORITY=%i", prio, "MESSAGE_ID=%s",
                        message_id ? message_id : LOG_MID_DOMAIN_ACTION, "DOMAIN_NAME=%s", d->name,
                        "DOMAIN_UUID=%s", d->uuid_string, "DOMID=%s", domid, "SHUTDOWN_REASON=%s",
                        shutdown_reason_to_string(d->shutdown_reason), "ACTION=%s",
                        action ? action : "", NULL);
}

void log_msg(int prio, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_emitv(prio, NULL, NULL, NULL, fmt, ap);
        va_end(ap);
}

int log_errno(int prio, int r, const char *fmt, ...)
{
        _cleanup_free_ char *text = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n >= 0)
                log_msg(prio, "%s: %s", text, strerror(r < 0 ? -r : r));
        return r;
}

void log_domain(int prio, const struct domain *d, const char *message_id, const char *action,
                const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_emitv(prio, d, message_id, action, fmt, ap);
        va_end(ap);
}

void log_audit(const struct domain *d, const char *method, uid_t uid, pid_t pid, const char *action,
               const char *decision)
{
        bool refused = decision && strcmp(decision, "refused") == 0;
        int prio = refused ? LOG_WARNING : LOG_NOTICE;
        _cleanup_free_ char *text = NULL;
        char pid_s[24] = "unknown", domid[16] = "";

        if (pid > 0)
                snprintf(pid_s, sizeof(pid_s), "%u", (unsigned)pid);
        if (asprintf(&text, "%s%s%s by uid %u (pid %s)%s", method, d ? " of " : "",
                     d ? d->name : "", (unsigned)uid, pid_s, refused ? " refused" : "") < 0)
                return;
        if (!log_to_journal()) {
                fprintf(stderr, "xensupd: %s\n", text);
                return;
        }
        if (!d) {
                sd_journal_send("MESSAGE=%s", text, "PRIORITY=%i", prio, "MESSAGE_ID=%s",
                                LOG_MID_AUDIT, "XENSUP_CALLER_UID=%u", (unsigned)uid,
                                "XENSUP_CALLER_PID=%s", pid > 0 ? pid_s : "", "XENSUP_METHOD=%s",
                                method, "XENSUP_ACTION=%s", action ? action : "",
                                "XENSUP_DECISION=%s", decision ? decision : "", NULL);
                return;
        }
        if (d->has_domid)
                snprintf(domid, sizeof(domid), "%u", d->domid);
        sd_journal_send("MESSAGE=%s", text, "PRIORITY=%i", prio, "MESSAGE_ID=%s", LOG_MID_AUDIT,
                        "XENSUP_CALLER_UID=%u", (unsigned)uid, "XENSUP_CALLER_PID=%s",
                        pid > 0 ? pid_s : "", "XENSUP_METHOD=%s", method, "XENSUP_ACTION=%s",
                        action ? action : "", "XENSUP_DECISION=%s", decision ? decision : "",
                        "DOMAIN_NAME=%s", d->name, "DOMAIN_UUID=%s", d->uuid_string, "DOMID=%s",
                        domid, "SHUTDOWN_REASON=%s", shutdown_reason_to_string(d->shutdown_reason),
                        NULL);
}
