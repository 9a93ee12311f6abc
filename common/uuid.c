/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"
#include "common/sha1.h"
#include "common/uuid.h"

int uuid_from_string(const char *s, uint8_t uuid[16])
{
        uint8_t u[16];
        unsigned k = 0;

        if (!s || strlen(s) != 36)
                return -EINVAL;
        for (unsigned i = 0; i < 36;) {
                int hi, lo;

                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        i++;
                        continue;
                }
                hi = hex_digit(s[i]);
                lo = hex_digit(s[i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                u[k++] = (uint8_t)(hi << 4 | lo);
                i += 2;
        }
        memcpy(uuid, u, sizeof(u));
        return 0;
}

char *uuid_to_string(const uint8_t uuid[16], char buf[37])
{
        snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8],
                 uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
        return buf;
}

void uuid_from_name(const char *name, uint8_t uuid[16])
{
        uint8_t ns[16], digest[SHA1_DIGEST_SIZE];
        struct sha1_ctx ctx;

        /* The constant is well-formed: test-config checks it parses. */
        (void)uuid_from_string(UUID_NAMESPACE_XENSUP, ns);
        sha1_init(&ctx);
        sha1_update(&ctx, ns, sizeof(ns));
        sha1_update(&ctx, name, strlen(name));
        sha1_final(&ctx, digest);
        memcpy(uuid, digest, 16);
        uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x50); /* version 5 */
        uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

bool uuid_is_null(const uint8_t uuid[16])
{
        for (unsigned i = 0; i < 16; i++)
                if (uuid[i])
                        return false;
        return true;
}
