/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * error.h — passing a message a person can act on out of a failing call.
 *
 * Convention: a fallible function returns 0 or a negative errno; when it
 * takes `char **err_r`, on failure it stores there a malloc'd one-line (or,
 * for config errors, newline-separated) message the caller owns. err_r may
 * be NULL when the caller does not want the text.
 */
#pragma once

#include "common/macros.h"

/* Store a formatted message in *err_r (if err_r is non-NULL) and return r. */
int err_setf(char **err_r, int r, const char *fmt, ...) _printf_(3, 4);

/* Append one line to a newline-separated message list in *err_r; returns r. */
int err_appendf(char **err_r, int r, const char *fmt, ...) _printf_(3, 4);
