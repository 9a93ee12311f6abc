/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * child.h — a forked child that does one piece of work with handles of its own
 * and hands back one fixed-size result record through a pipe (a build, a
 * device's hot-plug). One write under PIPE_BUF is atomic: the parent reads
 * all of the record or nothing. The child dies with the daemon
 * (PR_SET_PDEATHSIG), so what it half-did is found from the records it wrote.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

/* One running child, as its owner keeps it (zero it with CHILD_INIT). */
struct child {
        pid_t pid; /* 0 when none runs */
        int fd;    /* read end of the result pipe; -1 when none */
        sd_event_source *source;
};

#define CHILD_INIT                                                                                 \
        {                                                                                          \
                .pid = 0, .fd = -1, .source = NULL                                                 \
        }

/* The child's work: write the result to fd (child_write_result) and return the exit status. */
typedef int (*child_work_fn)(void *arg, int fd);

/*
 * Fork a child that runs work(arg, fd) with the daemon's signal mask cleared and exits with its
 * status; on_exit(userdata) runs on the loop when it exits (sd-event reaps it then).
 */
int child_start(struct child *c, sd_event *event, child_work_fn work, void *arg,
                sd_event_child_handler_t on_exit, void *userdata);

/* In the child: write the result record; 0, or -EIO if it did not go whole. */
int child_write_result(int fd, const void *record, size_t size);

/*
 * In on_exit: read the record; 0 when it came whole, -EIO when the child died without one, with
 * what happened to it ("exited with status 3", "was killed by Killed") in how (64 bytes).
 */
int child_read_result(struct child *c, const siginfo_t *si, void *record, size_t size,
                      char how[64]);

/* Kill the child if it runs, reap it, close the pipe; c can be started again. */
void child_stop(struct child *c);
