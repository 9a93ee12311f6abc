/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"
#include "layout/layout.h"
#include "supervisor/history.h"

_Static_assert(HISTORY_TEXT_MAX == LAYOUT_HISTORY_MAX, "the record keeps the whole history");

/*
 * An entry's longest text: 20 digits, the event, a reason ("soft_reset"), the action, "uid="
 * and 10 digits, four spaces and a ';'.
 */
_Static_assert(HISTORY_MAX *(20 + HISTORY_EVENT_MAX + 12 + HISTORY_ACTION_MAX + 14 + 5) <
                   HISTORY_TEXT_MAX,
               "history_format() must fit HISTORY_TEXT_MAX");

void history_add(struct history *h, uint64_t usec, const char *event, enum shutdown_reason reason,
                 const char *action, enum history_actor by, uid_t uid)
{
        struct history_entry *e;

        if (h->n == HISTORY_MAX) {
                memmove(&h->entries[0], &h->entries[1], (HISTORY_MAX - 1) * sizeof(h->entries[0]));
                h->n--;
        }
        e = &h->entries[h->n++];
        *e = (struct history_entry){ .usec = usec, .reason = reason, .by = by, .uid = uid };
        snprintf(e->event, sizeof(e->event), "%s", event);
        snprintf(e->action, sizeof(e->action), "%s", action ? action : "");
}

static const char *actor_token(const struct history_entry *e, char *buf, size_t size)
{
        if (e->by == HISTORY_BY_GUEST)
                return "guest";
        if (e->by == HISTORY_BY_XENSUPD)
                return "xensupd";
        snprintf(buf, size, "uid=%u", (unsigned)e->uid);
        return buf;
}

void history_format(const struct history *h, char buf[static HISTORY_TEXT_MAX])
{
        size_t o = 0;

        buf[0] = 0;
        for (size_t i = 0; i < h->n; i++) {
                const struct history_entry *e = &h->entries[i];
                char who[24];

                o += (size_t)snprintf(
                    buf + o, HISTORY_TEXT_MAX - o, "%s%" PRIu64 " %s %s %s %s", i ? ";" : "",
                    e->usec, e->event,
                    e->reason == SHUTDOWN_REASON_NONE ? "-" : shutdown_reason_to_string(e->reason),
                    *e->action ? e->action : "-", actor_token(e, who, sizeof(who)));
        }
}

/* A token of the text: [a-z0-9_-]+, as the record's own words are. */
static bool is_word(const char *s, size_t max)
{
        size_t n = strlen(s);

        return n > 0 && n < max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* A decimal of 1 to 20 digits that fits 64 bits. */
static int parse_u64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!s || !*s || strlen(s) > 20 || strspn(s, "0123456789") != strlen(s))
                return -EINVAL;
        for (; *s; s++) {
                if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        return 0;
}

static int parse_entry(char *text, struct history_entry *e)
{
        char *usec, *event, *reason, *action, *who, *save = NULL;
        uint64_t u;

        usec = strtok_r(text, " ", &save);
        event = strtok_r(NULL, " ", &save);
        reason = strtok_r(NULL, " ", &save);
        action = strtok_r(NULL, " ", &save);
        who = strtok_r(NULL, " ", &save);
        if (!who || strtok_r(NULL, " ", &save) || parse_u64(usec, &u) < 0 ||
            !is_word(event, sizeof(e->event)) || !is_word(action, sizeof(e->action)))
                return -EINVAL;
        *e = (struct history_entry){ .usec = u, .reason = SHUTDOWN_REASON_NONE };
        strcpy(e->event, event);
        if (strcmp(action, "-") != 0)
                strcpy(e->action, action);
        if (strcmp(reason, "-") != 0) {
                e->reason = shutdown_reason_from_string(reason);
                if (e->reason == SHUTDOWN_REASON_NONE)
                        return -EINVAL;
        }
        if (strcmp(who, "guest") == 0) {
                e->by = HISTORY_BY_GUEST;
        } else if (strcmp(who, "xensupd") == 0) {
                e->by = HISTORY_BY_XENSUPD;
        } else {
                unsigned uid;

                if (strncmp(who, "uid=", 4) != 0 || parse_uint(who + 4, UINT32_MAX, &uid) < 0)
                        return -EINVAL;
                e->by = HISTORY_BY_UID;
                e->uid = (uid_t)uid;
        }
        return 0;
}

int history_parse(const char *text, struct history *h)
{
        char copy[HISTORY_TEXT_MAX], *entry, *save = NULL;

        h->n = 0;
        if (strlen(text) >= sizeof(copy))
                return -EINVAL;
        strcpy(copy, text);
        for (entry = strtok_r(copy, ";", &save); entry; entry = strtok_r(NULL, ";", &save)) {
                if (h->n == HISTORY_MAX || parse_entry(entry, &h->entries[h->n]) < 0) {
                        h->n = 0;
                        return -EINVAL;
                }
                h->n++;
        }
        return 0;
}

const char *history_actor_to_string(const struct history_entry *e, char *buf, size_t size)
{
        if (e->by != HISTORY_BY_UID)
                return actor_token(e, buf, size);
        snprintf(buf, size, "uid %u", (unsigned)e->uid);
        return buf;
}
