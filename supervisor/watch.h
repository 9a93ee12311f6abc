/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watch.h — XenStore watches on the sd-event loop.
 *
 * Registers @releaseDomain on a connection of its own.
 * Every pending event is drained before the callback runs, and the callback
 * runs once per loop iteration however many events arrived, so a storm of N
 * deaths costs one domain-list scan, not N.
 *
 * Watches on other paths (a device's backend and frontend state) go to a
 * second callback, once per event, with the path that fired.
 */
#pragma once

#include <systemd/sd-event.h>

struct watch;

/* Called once per batch of events; returns 0 or a negative errno (logged). */
typedef int (*watch_handler_t)(void *userdata);

/* Called for each event of a path watch, with the path that fired (the watched one or below). */
typedef void (*watch_path_handler_t)(void *userdata, const char *path);

/* Connect, register the domain watches and hook the fd into the loop. */
int watch_new(sd_event *event, watch_handler_t handler, void *userdata, struct watch **ret,
              char **err_r);

/* Where path watches report (NULL: nowhere). */
void watch_set_path_handler(struct watch *w, watch_path_handler_t handler);

/* Watch path; it fires once at once, as every XenStore watch. */
int watch_add_path(struct watch *w, const char *path);

/* Stop watching path (a watch never added is no error). */
void watch_remove_path(struct watch *w, const char *path);

/* Unregister and disconnect; returns NULL. NULL-safe. */
struct watch *watch_free(struct watch *w);

/* Events received so far (for tests and the STATUS line). */
unsigned long watch_events(const struct watch *w);
