/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "common/text.h"

bool text_has_control(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

const char *text_escape(char *buf, size_t size, const char *s, size_t n, size_t max)
{
        size_t o = 0, i;

        if (size == 0)
                return buf;
        for (i = 0; i < n && i < max && s[i] && o + 5 < size; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c >= 0x7f || c == '\\')
                        o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
                else
                        buf[o++] = (char)c;
        }
        if (i < n && s[i] && o + 4 < size) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}
