/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * parse.h — strict number parsing for command lines (xensupd's and xensupctl's).
 */
#pragma once

#include <stdint.h>

/* The value of a hexadecimal digit (either case); -1 for any other character. */
int hex_digit(char c);

/* Parse a decimal unsigned integer no larger than max; 0 or -EINVAL. */
int parse_uint(const char *s, uint64_t max, unsigned *ret);
