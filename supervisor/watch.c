/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "common/error.h"
#include "supervisor/watch.h"

#define WATCH_TOKEN      "xensupd"
#define WATCH_PATH_TOKEN "xensupd-path"

struct watch {
        struct xs_handle *xsh;
        sd_event_source *io;
        sd_event_source *batch; /* deferred: runs the handler after every event is in */
        watch_handler_t handler;
        watch_path_handler_t path_handler;
        void *userdata;
        unsigned long n_events;
};

static int watch_on_batch(sd_event_source *s, void *userdata)
{
        struct watch *w = userdata;

        (void)s;
        sd_event_source_set_enabled(w->batch, SD_EVENT_OFF);
        return w->handler(w->userdata);
}

static int watch_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct watch *w = userdata;
        char **ev;

        (void)s;
        (void)fd;
        (void)revents;
        bool domains = false;

        /* Drain everything pending; for @releaseDomain only that one came matters. */
        while ((ev = xs_check_watch(w->xsh))) {
                w->n_events++;
                if (strcmp(ev[XS_WATCH_TOKEN], WATCH_PATH_TOKEN) != 0)
                        domains = true;
                else if (w->path_handler)
                        w->path_handler(w->userdata, ev[XS_WATCH_PATH]);
                free(ev);
        }
        return domains ? sd_event_source_set_enabled(w->batch, SD_EVENT_ONESHOT) : 0;
}

static void watch_freep(struct watch **w)
{
        watch_free(*w);
}

int watch_new(sd_event *event, watch_handler_t handler, void *userdata, struct watch **ret,
              char **err_r)
{
        _cleanup_(watch_freep) struct watch *w = NULL;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return err_setf(err_r, -ENOMEM, "out of memory");
        w->handler = handler;
        w->userdata = userdata;
        w->xsh = xs_open(0);
        if (!w->xsh) {
                r = -errno;
                return err_setf(err_r, r, "cannot connect to XenStore: %s", strerror(-r));
        }
        /*
         * Only @releaseDomain: a death or a destroy fires it. @introduceDomain would fire for
         * every domain we introduce ourselves and say nothing of our domains' lives; with
         * builds finishing one by one in children it would cost a list scan each.
         */
        if (!xs_watch(w->xsh, "@releaseDomain", WATCH_TOKEN)) {
                r = -errno;
                return err_setf(err_r, r, "cannot watch @releaseDomain: %s", strerror(-r));
        }
        r = sd_event_add_io(event, &w->io, xs_fileno(w->xsh), EPOLLIN, watch_on_io, w);
        if (r >= 0)
                r = sd_event_add_defer(event, &w->batch, watch_on_batch, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->batch, SD_EVENT_OFF);
        if (r >= 0)
                /* After every I/O source of this iteration, so one batch serves them all. */
                r = sd_event_source_set_priority(w->batch, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                return err_setf(err_r, r, "cannot hook XenStore watches into the loop: %s",
                                strerror(-r));
        *ret = TAKE_PTR(w);
        return 0;
}

struct watch *watch_free(struct watch *w)
{
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->batch);
        if (w->xsh)
                xs_close(w->xsh);
        free(w);
        return NULL;
}

void watch_set_path_handler(struct watch *w, watch_path_handler_t handler)
{
        w->path_handler = handler;
}

int watch_add_path(struct watch *w, const char *path)
{
        return xs_watch(w->xsh, path, WATCH_PATH_TOKEN) ? 0 : -errno;
}

void watch_remove_path(struct watch *w, const char *path)
{
        (void)xs_unwatch(w->xsh, path, WATCH_PATH_TOKEN);
}

unsigned long watch_events(const struct watch *w)
{
        return w->n_events;
}
