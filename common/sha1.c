/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "common/sha1.h"

static uint32_t rol32(uint32_t x, unsigned n)
{
        return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sha1_block(struct sha1_ctx *ctx, const uint8_t *p)
{
        uint32_t w[80], a, b, c, d, e;

        for (unsigned i = 0; i < 16; i++)
                w[i] = load_be32(p + 4 * i);
        for (unsigned i = 16; i < 80; i++)
                w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

        a = ctx->h[0];
        b = ctx->h[1];
        c = ctx->h[2];
        d = ctx->h[3];
        e = ctx->h[4];
        for (unsigned i = 0; i < 80; i++) {
                uint32_t f, k, t;

                if (i < 20) {
                        f = (b & c) | (~b & d);
                        k = 0x5a827999;
                } else if (i < 40) {
                        f = b ^ c ^ d;
                        k = 0x6ed9eba1;
                } else if (i < 60) {
                        f = (b & c) | (b & d) | (c & d);
                        k = 0x8f1bbcdc;
                } else {
                        f = b ^ c ^ d;
                        k = 0xca62c1d6;
                }
                t = rol32(a, 5) + f + e + k + w[i];
                e = d;
                d = c;
                c = rol32(b, 30);
                b = a;
                a = t;
        }
        ctx->h[0] += a;
        ctx->h[1] += b;
        ctx->h[2] += c;
        ctx->h[3] += d;
        ctx->h[4] += e;
}

void sha1_init(struct sha1_ctx *ctx)
{
        *ctx = (struct sha1_ctx){
                .h = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 },
        };
}

void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len)
{
        const uint8_t *p = data;

        ctx->length += len;
        while (len > 0) {
                size_t n = sizeof(ctx->block) - ctx->used;

                if (n > len)
                        n = len;
                memcpy(ctx->block + ctx->used, p, n);
                ctx->used += n;
                p += n;
                len -= n;
                if (ctx->used == sizeof(ctx->block)) {
                        sha1_block(ctx, ctx->block);
                        ctx->used = 0;
                }
        }
}

void sha1_final(struct sha1_ctx *ctx, uint8_t digest[SHA1_DIGEST_SIZE])
{
        uint64_t bits = ctx->length * 8;
        uint8_t pad[72] = { 0x80 };
        /* Pad to 56 mod 64, then the message length in bits, big-endian. */
        size_t npad = (ctx->used < 56 ? 56 : 120) - ctx->used;

        for (unsigned i = 0; i < 8; i++)
                pad[npad + i] = (uint8_t)(bits >> (56 - 8 * i));
        sha1_update(ctx, pad, npad + 8);
        for (unsigned i = 0; i < 5; i++) {
                digest[4 * i] = (uint8_t)(ctx->h[i] >> 24);
                digest[4 * i + 1] = (uint8_t)(ctx->h[i] >> 16);
                digest[4 * i + 2] = (uint8_t)(ctx->h[i] >> 8);
                digest[4 * i + 3] = (uint8_t)ctx->h[i];
        }
}

void sha1(const void *data, size_t len, uint8_t digest[SHA1_DIGEST_SIZE])
{
        struct sha1_ctx ctx;

        sha1_init(&ctx);
        sha1_update(&ctx, data, len);
        sha1_final(&ctx, digest);
}
