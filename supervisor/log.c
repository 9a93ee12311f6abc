/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* CODE_FILE, CODE_LINE and CODE_FUNC would always name emit(), not the message's caller. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "common/parse.h"
#include "supervisor/log.h"

/* The most fields one message carries (an audited call of a domain has 13). */
#define LOG_FIELDS_MAX 16

static const char *const level_names[] = { "emerg",   "alert",  "crit", "err",
                                           "warning", "notice", "info", "debug" };

int log_level_from_string(const char *s)
{
        unsigned n;

        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int)i;
        if (parse_uint(s, LOG_DEBUG, &n) < 0)
                return -EINVAL;
        return (int)n;
}

/*
 * The level and the target are read from the environment on each call rather than kept in a
 * global: logging is needed before the manager exists and after it is gone, children inherit
 * them, and getenv() is cheap next to formatting and writing a message.
 */
static int log_max_level(void)
{
        const char *v = getenv("XENSUP_LOG_LEVEL");
        int level = v ? log_level_from_string(v) : -EINVAL;

        return level < 0 ? LOG_INFO : level;
}

bool log_enabled(int prio)
{
        return LOG_PRI(prio) <= log_max_level();
}

static bool log_to_journal(void)
{
        const char *mode = getenv("XENSUP_LOG");

        if (mode && strcmp(mode, "stderr") == 0)
                return false;
        if (mode && strcmp(mode, "journal") == 0)
                return true;
        return getenv("JOURNAL_STREAM") != NULL;
}

/* No journald: say so once, then stderr for this process and the children it starts. */
static void journal_missing(int r)
{
        fprintf(stderr, "xensupd: journald is not there (%s: %s); logging to standard error\n",
                LOG_JOURNAL_SOCKET, strerror(-r));
        (void)setenv("XENSUP_LOG", "stderr", 1);
}

void log_setup(int level)
{
        char s[2] = { (char)('0' + (level < 0 ? log_max_level() : level)), '\0' };

        (void)setenv("XENSUP_LOG_LEVEL", s, 1);
        if (log_to_journal() && access(LOG_JOURNAL_SOCKET, F_OK) < 0)
                journal_missing(-errno);
}

/* One message's journal fields, each a malloc'd "KEY=value"; one that cannot be made is left out.
 */
struct fields {
        struct iovec iov[LOG_FIELDS_MAX];
        size_t n;
};

static void fields_done(struct fields *f)
{
        for (size_t i = 0; i < f->n; i++)
                free(f->iov[i].iov_base);
}

_printf_(2, 3) static void field_add(struct fields *f, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int n;

        if (f->n >= LOG_FIELDS_MAX)
                return;
        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        f->iov[f->n++] = (struct iovec){ .iov_base = s, .iov_len = (size_t)n };
}

static void fields_add_domain(struct fields *f, const struct domain *d)
{
        field_add(f, "XENSUP_DOMAIN=%s", d->name);
        field_add(f, "XENSUP_UUID=%s", d->uuid_string);
        if (d->has_domid)
                field_add(f, "XENSUP_DOMID=%u", d->domid);
        field_add(f, "XENSUP_REASON=%s", shutdown_reason_to_string(d->shutdown_reason));
}

/*
 * Send text with its fields to the journal, or write "xensupd: TEXT" to stderr; debug lines
 * say so there ("xensupd: debug: "), as builders/ and layout/ write theirs. A journal that
 * refuses the message is taken for a missing one: the message still reaches stderr.
 */
static void emit(int prio, const char *message_id, struct fields *f, const char *text)
{
        int r;

        if (log_to_journal()) {
                field_add(f, "MESSAGE=%s", text);
                field_add(f, "PRIORITY=%i", LOG_PRI(prio));
                if (message_id)
                        field_add(f, "MESSAGE_ID=%s", message_id);
                r = sd_journal_sendv(f->iov, (int)f->n);
                if (r >= 0)
                        return;
                journal_missing(r);
        }
        fprintf(stderr, "xensupd: %s%s\n", LOG_PRI(prio) == LOG_DEBUG ? "debug: " : "", text);
}

_printf_(5, 0) static void log_emitv(int prio, const struct domain *d, const char *message_id,
                                     const char *action, const char *fmt, va_list ap)
{
        _cleanup_(fields_done) struct fields f = {};
        _cleanup_free_ char *text = NULL, *line = NULL;

        if (!log_enabled(prio))
                return;
        if (vasprintf(&text, fmt, ap) < 0)
                return;
        if (!d) {
                emit(prio, message_id, &f, text);
                return;
        }
        if (asprintf(&line, "%s: %s", d->name, text) < 0)
                return;
        fields_add_domain(&f, d);
        if (action)
                field_add(&f, "XENSUP_ACTION=%s", action);
        emit(prio, message_id ? message_id : LOG_MID_DOMAIN_ACTION, &f, line);
}

void log_msg(int prio, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_emitv(prio, NULL, NULL, NULL, fmt, ap);
        va_end(ap);
}

void log_event(int prio, const char *message_id, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_emitv(prio, NULL, message_id, NULL, fmt, ap);
        va_end(ap);
}

int log_errno(int prio, int r, const char *fmt, ...)
{
        _cleanup_free_ char *text = NULL;
        va_list ap;
        int n;

        if (!log_enabled(prio))
                return r;
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
        _cleanup_(fields_done) struct fields f = {};
        _cleanup_free_ char *text = NULL;
        char pid_s[24] = "unknown";

        if (!log_enabled(prio))
                return;
        if (pid > 0)
                snprintf(pid_s, sizeof(pid_s), "%u", (unsigned)pid);
        if (asprintf(&text, "%s%s%s by uid %u (pid %s)%s", method, d ? " of " : "",
                     d ? d->name : "", (unsigned)uid, pid_s, refused ? " refused" : "") < 0)
                return;
        field_add(&f, "XENSUP_CALLER_UID=%u", (unsigned)uid);
        field_add(&f, "XENSUP_CALLER_PID=%s", pid > 0 ? pid_s : "");
        field_add(&f, "XENSUP_METHOD=%s", method);
        field_add(&f, "XENSUP_POLKIT_ACTION=%s", action ? action : "");
        field_add(&f, "XENSUP_DECISION=%s", decision ? decision : "");
        if (d)
                fields_add_domain(&f, d);
        emit(prio, refused ? LOG_MID_CALLER_DENIED : LOG_MID_AUDIT, &f, text);
}
