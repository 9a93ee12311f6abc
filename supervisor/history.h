/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * history.h — a domain's last starts and stops, for `xensupctl history`: when,
 * what (started, restored, stopped, failed, destroyed, saved, migrated), the
 * guest's shutdown reason and the action it brought, and who acted (a caller's
 * uid, the guest, or xensupd itself). It lives in the domain's record
 * (layout_tool_state's history, this module's text), so a restarted daemon
 * still has it; the oldest entry goes when a new one does not fit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/vocabulary.h"

#define HISTORY_MAX        8  /* entries kept */
#define HISTORY_EVENT_MAX  12 /* "destroyed" and its NUL, with room */
#define HISTORY_ACTION_MAX 20

/* Who acted: a caller (by uid), the guest (it shut itself down), or the daemon (a restart). */
enum history_actor {
        HISTORY_BY_XENSUPD,
        HISTORY_BY_GUEST,
        HISTORY_BY_UID,
};

struct history_entry {
        uint64_t usec; /* CLOCK_REALTIME */
        char event[HISTORY_EVENT_MAX];
        enum shutdown_reason reason;     /* why the guest stopped; NONE for the others */
        char action[HISTORY_ACTION_MAX]; /* what its stop brought (restart, destroy...); "" */
        enum history_actor by;
        uid_t uid; /* when by is HISTORY_BY_UID */
};

struct history {
        struct history_entry entries[HISTORY_MAX]; /* oldest first */
        size_t n;
};

/* The longest text history_format() writes, NUL included (the record keeps that much). */
#define HISTORY_TEXT_MAX 704

/* Append an entry, dropping the oldest when full; event and action are cut to fit. */
void history_add(struct history *h, uint64_t usec, const char *event, enum shutdown_reason reason,
                 const char *action, enum history_actor by, uid_t uid);

/* The record's text: "USEC EVENT REASON ACTION WHO" entries joined by ';' ("-" for none). */
void history_format(const struct history *h, char buf[static HISTORY_TEXT_MAX]);

/* Parse history_format()'s text into h (cleared first); -EINVAL if it is not that. */
int history_parse(const char *text, struct history *h);

/* "uid 1000", "guest" or "xensupd", into buf. */
const char *history_actor_to_string(const struct history_entry *e, char *buf, size_t size);
