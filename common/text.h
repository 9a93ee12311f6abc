/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * text.h — bytes from configs, callers and files shown safely in messages and
 * logs: a control byte in a name or path would forge a log line or split an
 * error message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether s holds a control byte (below 0x20, or DEL). */
bool text_has_control(const char *s);

/*
 * Copy the first n bytes of s (up to its NUL), at most max of them, into buf (size bytes),
 * control, non-ASCII bytes and '\\' as \xNN; "..." when bytes of those n were left out.
 * Returns buf.
 */
const char *text_escape(char *buf, size_t size, const char *s, size_t n, size_t max);
