/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <strings.h>

#include "common/macros.h"
#include "common/parse.h"

int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int parse_uint(const char *s, uint64_t max, unsigned *ret)
{
        unsigned long long v;
        char *end;

        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v > max || v > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

int parse_size_kib(const char *s, uint64_t *kib_r)
{
        /* xl's units; b is bytes, rounded down (xl shifts them right by 10). */
        static const struct {
                char unit;
                int shift; /* KiB = value << shift, or >> -shift */
        } units[] = { { 'b', -10 }, { 'k', 0 }, { 'm', 10 }, { 'g', 20 }, { 't', 30 } };
        unsigned long long v;
        int shift = 10; /* a plain number is MiB, as xl mem-set */
        uint64_t kib;
        char *end;

        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -EINVAL;
        if (*end) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(units); i++)
                        if (tolower((unsigned char)*end) == units[i].unit)
                                break;
                if (i == ELEMENTSOF(units))
                        return -EINVAL;
                shift = units[i].shift;
                end++;
                /* "MiB", "GB": what people write; xl takes the letter alone. */
                if (*end &&
                    (shift < 0 || (strcasecmp(end, "ib") != 0 && strcasecmp(end, "b") != 0)))
                        return -EINVAL;
        }
        if (shift < 0)
                kib = (uint64_t)v >> -shift;
        else if (v > (UINT64_MAX >> shift))
                return -EINVAL;
        else
                kib = (uint64_t)v << shift;
        if (kib == 0)
                return -EINVAL;
        *kib_r = kib;
        return 0;
}
