/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * console.h — xensupctl console: the terminal relayed to a guest's console
 * pty (the descriptor xensupd's OpenConsole hands over), as `xl console`
 * does: raw while it runs, restored on every way out.
 */
#pragma once

#include <stdbool.h>

/* The escape that leaves, Ctrl-] as xl console's. */
#define CONSOLE_ESCAPE 0x1d

/*
 * Relay standard input to console and console to standard output until Ctrl-]
 * is typed, standard input ends, the console closes (the domain went: *closed_r
 * set) or SIGTERM, SIGHUP or SIGINT comes; banner goes to standard error once
 * a terminal is raw, when the first key typed would reach the guest. 0, or a
 * negative errno.
 */
int console_relay(int console, const char *banner, bool *closed_r);
