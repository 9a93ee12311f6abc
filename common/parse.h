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

/* What parse_size_kib() takes, for help texts and error messages. */
#define PARSE_SIZE_SYNTAX                                                                          \
        "a whole number with a unit: b (bytes, rounded down to KiB as xl does), k, m, g or t "     \
        "(KiB, MiB, GiB, TiB; either case; 512MiB, 2GB too), or none for MiB; at least 1 KiB"

/*
 * Parse a memory size as xl's parse_mem_size_kb(): 1073741824b, 1048576K, 512M, 2G, 1T, any
 * case, a plain number MiB; beyond xl, "B"/"iB" after k, m, g or t. 0 or -EINVAL.
 */
int parse_size_kib(const char *s, uint64_t *kib_r);
