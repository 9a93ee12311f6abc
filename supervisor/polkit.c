/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit.c — asynchronous CheckAuthorization, one query per incoming call,
 * and the re-dispatch of the call when polkit has answered.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "common/macros.h"

#include "supervisor/log.h"
#include "supervisor/polkit.h"

/* One action asked about for one call. */
struct polkit_ask {
        struct polkit_query *query;
        struct polkit_ask *next;
        char *action;
        enum polkit_answer answer;
        char *detail;      /* POLKIT_FAILED: polkit's error */
        sd_bus_slot *slot; /* the CheckAuthorization in flight */
};

/* One incoming call and what polkit was asked about it. */
struct polkit_query {
        struct polkit_registry *registry;
        struct polkit_query *prev, *next;
        sd_bus_message *request; /* referenced: its address is the key */
        struct polkit_ask *asks;
        sd_event_source *cleanup; /* idle, armed once every ask is answered */
};

struct polkit_registry {
        struct polkit_query *queries;
};

static void ask_free(struct polkit_ask *a)
{
        if (!a)
                return;
        sd_bus_slot_unref(a->slot);
        free(a->action);
        free(a->detail);
        free(a);
}

static void query_free(struct polkit_query *q)
{
        if (!q)
                return;
        if (q->prev)
                q->prev->next = q->next;
        else
                q->registry->queries = q->next;
        if (q->next)
                q->next->prev = q->prev;
        while (q->asks) {
                struct polkit_ask *a = q->asks;

                q->asks = a->next;
                ask_free(a);
        }
        sd_event_source_disable_unref(q->cleanup);
        sd_bus_message_unref(q->request);
        free(q);
}

struct polkit_registry *polkit_registry_free(struct polkit_registry *reg)
{
        if (!reg)
                return NULL;
        while (reg->queries)
                query_free(reg->queries);
        free(reg);
        return NULL;
}

static bool query_pending(const struct polkit_query *q)
{
        for (const struct polkit_ask *a = q->asks; a; a = a->next)
                if (a->answer == POLKIT_PENDING)
                        return true;
        return false;
}

/* The idle source: the call's second dispatch is over, so its answers are spent. */
static int query_cleanup(sd_event_source *s, void *userdata)
{
        (void)s;
        query_free(userdata);
        return 0;
}

/*
 * Dispatch the call again: it goes through the object lookup and the handler
 * anew (the domain may be gone meanwhile), and the handler finds the answers.
 * The cleanup runs at idle priority, after sd-bus has emptied its read queue.
 */
static int query_redispatch(struct polkit_query *q)
{
        sd_bus *bus = sd_bus_message_get_bus(q->request);
        int r;

        if (!q->cleanup) {
                r = sd_event_add_defer(sd_bus_get_event(bus), &q->cleanup, query_cleanup, q);
                if (r < 0)
                        return r;
                r = sd_event_source_set_priority(q->cleanup, SD_EVENT_PRIORITY_IDLE);
                if (r < 0)
                        return r;
        }
        r = sd_event_source_set_enabled(q->cleanup, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        r = sd_bus_message_rewind(q->request, true);
        if (r < 0)
                return r;
        return sd_bus_enqueue_for_read(bus, q->request);
}

/* polkit did not decide: never an allow. */
static void ask_failed(struct polkit_ask *a, const char *what, const char *why)
{
        a->answer = POLKIT_FAILED;
        if (asprintf(&a->detail, "%s: %s", what, why) < 0)
                a->detail = NULL;
}

/* The answer in a CheckAuthorization reply: (bba{ss}) is_authorized, is_challenge, details. */
static void ask_read_reply(struct polkit_ask *a, sd_bus_message *reply)
{
        int authorized = 0, challenge = 0, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                           SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        a->answer = POLKIT_ABSENT;
                else
                        ask_failed(a, e && e->name ? e->name : "error",
                                   e && e->message ? e->message : "(no message)");
                return;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                ask_failed(a, "unreadable CheckAuthorization reply", strerror(-r));
                return;
        }
        a->answer = authorized ? POLKIT_YES : challenge ? POLKIT_CHALLENGE : POLKIT_NO;
}

static int ask_replied(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        struct polkit_ask *a = userdata;
        struct polkit_query *q = a->query;
        int r;

        (void)ret_error;
        a->slot = sd_bus_slot_unref(a->slot);
        ask_read_reply(a, reply);
        if (query_pending(q))
                return 0;
        r = query_redispatch(q);
        if (r < 0) {
                /* The caller gets the error; sd-bus is told the reply was handled. */
                log_errno(LOG_ERR, r, "cannot dispatch a call again after polkit answered");
                (void)sd_bus_reply_method_errnof(q->request, -r,
                                                 "authorization failed: cannot dispatch the "
                                                 "call again after polkit answered: %s",
                                                 strerror(-r));
                query_free(q);
        }
        return 0;
}

static int ask_send(struct polkit_ask *a, sd_bus_message *msg)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *pk = NULL;
        sd_bus *bus = sd_bus_message_get_bus(msg);
        const char *sender = sd_bus_message_get_sender(msg);
        uint32_t flags;
        int r;

        if (!sender)
                return -EBADMSG;
        /* 1 = AllowUserInteraction: only when the caller said it may wait for an agent. */
        flags = sd_bus_message_get_allow_interactive_authorization(msg) > 0 ? 1 : 0;
        r = sd_bus_message_new_method_call(
            bus, &pk, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
            "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(pk, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender,
                                  a->action, 0, flags, "");
        if (r < 0)
                return r;
        return sd_bus_call_async(bus, &a->slot, pk, ask_replied, a, 0);
}

static struct polkit_query *query_find(struct polkit_registry *reg, sd_bus_message *msg)
{
        for (struct polkit_query *q = reg->queries; q; q = q->next)
                if (q->request == msg)
                        return q;
        return NULL;
}

static struct polkit_ask *ask_find(struct polkit_query *q, const char *action)
{
        for (struct polkit_ask *a = q->asks; a; a = a->next)
                if (strcmp(a->action, action) == 0)
                        return a;
        return NULL;
}

int polkit_check(struct polkit_registry **reg, sd_bus_message *msg, const char *action,
                 enum polkit_answer *answer_r, char **detail_r)
{
        struct polkit_query *q;
        struct polkit_ask *a;
        int r;

        *answer_r = POLKIT_PENDING;
        *detail_r = NULL;
        if (!*reg) {
                *reg = calloc(1, sizeof(**reg));
                if (!*reg)
                        return -ENOMEM;
        }
        q = query_find(*reg, msg);
        a = q ? ask_find(q, action) : NULL;
        if (a) {
                *answer_r = a->answer;
                if (a->answer == POLKIT_FAILED) {
                        *detail_r = strdup(a->detail ? a->detail : "out of memory");
                        if (!*detail_r)
                                return -ENOMEM;
                }
                return 0;
        }
        if (!q) {
                q = calloc(1, sizeof(*q));
                if (!q)
                        return -ENOMEM;
                q->registry = *reg;
                q->request = sd_bus_message_ref(msg);
                q->next = (*reg)->queries;
                if (q->next)
                        q->next->prev = q;
                (*reg)->queries = q;
        }
        a = calloc(1, sizeof(*a));
        if (a)
                a->action = strdup(action);
        if (!a || !a->action) {
                ask_free(a);
                if (!q->asks)
                        query_free(q);
                return -ENOMEM;
        }
        a->query = q;
        r = ask_send(a, msg);
        if (r < 0) {
                ask_free(a);
                if (!q->asks)
                        query_free(q);
                return r;
        }
        a->next = q->asks;
        q->asks = a;
        /* Asked again after a re-dispatch (a second action): keep the answers until this one. */
        if (q->cleanup)
                (void)sd_event_source_set_enabled(q->cleanup, SD_EVENT_OFF);
        return 0;
}
