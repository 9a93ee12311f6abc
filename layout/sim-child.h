/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sim-child.h — run xensup-sim as a child, for layout's demo, tests and bench.
 *
 * Starts `xensup-sim --dir DIR` in a fresh temporary directory, waits until
 * its XenStore socket answers and points XENSTORED_PATH at it, so that
 * libxenstore (and xenstore-ls) in this process and its children use it.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct sim_child {
        char dir[64];     /* the temporary directory, removed by sim_child_stop() */
        char socket[128]; /* DIR/xenstored.socket */
        pid_t pid;
};

/*
 * Start the xensup-sim binary at path, its stdout (and, when quiet, its
 * stderr) to /dev/null; -ETIMEDOUT if its socket never answers (10 s).
 */
int sim_child_start(struct sim_child *s, const char *path, bool quiet);

/*
 * Unless XENSTORED_PATH already names a XenStore, start the xensup-sim built
 * beside the running program (quietly); errors are printed. 0 or negative errno.
 */
int sim_child_start_unless_set(struct sim_child *s);

/* Stop it (SIGTERM, then wait) and remove its directory. Safe on a child never started. */
void sim_child_stop(struct sim_child *s);
