/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * debug.h — the debug lines of the layers below the daemon (builders/,
 * layout/), which cannot call supervisor/log.c: xensupd --log-level=debug
 * exports XENSUP_LOG_LEVEL=7 for itself and every child it starts, and these
 * write what log.c would at that level, on standard error ("<7>" first when
 * journald reads it as a stream).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/macros.h"

/* Whether xensupd runs at debug level: test it before formatting anything costly. */
bool debug_enabled(void);

/* One line "xensupd: debug: ..." when debug_enabled(). */
_printf_(1, 2) void debug_printf(const char *fmt, ...);

/* CLOCK_MONOTONIC in milliseconds, for the durations debug lines report. */
uint64_t debug_now_ms(void);
