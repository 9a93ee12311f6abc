/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/debug.h"

bool debug_enabled(void)
{
        const char *level = getenv("XENSUP_LOG_LEVEL");

        return level && strcmp(level, "7") == 0;
}

void debug_printf(const char *fmt, ...)
{
        char text[512];
        va_list ap;

        if (!debug_enabled())
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        fprintf(stderr, "%sxensupd: debug: %s\n", getenv("JOURNAL_STREAM") ? "<7>" : "", text);
}

uint64_t debug_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
