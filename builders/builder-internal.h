/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* builder-internal.h — what a backend implements; only builders/ includes this. */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "builders/builder.h"

struct builder {
        const struct builder_ops *ops;
        void *data; /* the backend's private state, owned by ops->open/close */
};

/*
 * builder_save()'s answer to live where the hypervisor cannot track dirty pages: one text for
 * both backends, so a user reads the same on the simulator as on Debian's Xen.
 */
#define BUILDER_NO_LIVE_SAVE                                                                       \
        "live save needs log-dirty page tracking, which needs shadow paging, and this "            \
        "hypervisor has none (Debian's Xen is built without CONFIG_SHADOW_PAGING): save it "       \
        "without live"

extern const struct builder_ops builder_xen_ops;
extern const struct builder_ops builder_sim_ops;

/* What a domain is doing instead of being suspended, for a message: "it is running"... */
static inline const char *builder_doing(const struct builder_domain_info *i, char buf[64])
{
        if (i->dying)
                return "it is dying";
        if (i->shutdown && i->reason == SHUTDOWN_REASON_SUSPEND)
                return "it is suspended";
        if (i->shutdown) {
                snprintf(buf, 64, "it shut down for %s",
                         shutdown_reason_to_string(i->reason) ?: "a reason Xen did not name");
                return buf;
        }
        return i->paused ? "it is paused" : "it is running";
}

/* SIGPIPE held back while a stream is written to a pipe whose reader may go. */
struct builder_sigpipe {
        sigset_t old;
        bool was_pending;
};

/* Block SIGPIPE: a closed reader is then EPIPE from write(), not the death of the caller. */
static inline void builder_sigpipe_block(struct builder_sigpipe *s)
{
        sigset_t pipe, pending;

        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        s->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe, &s->old);
}

/* Consume the SIGPIPE the writes raised (not one pending before), then unblock it. */
static inline void builder_sigpipe_restore(const struct builder_sigpipe *s)
{
        static const struct timespec now = { 0, 0 };
        sigset_t pipe;

        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        if (!s->was_pending)
                while (sigtimedwait(&pipe, NULL, &now) == SIGPIPE)
                        ;
        pthread_sigmask(SIG_SETMASK, &s->old, NULL);
}
