/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sha1.h — SHA-1 (FIPS 180-4), only for name-based (version 5) uuids.
 *
 * Not for anything that needs collision resistance: RFC 4122 fixes SHA-1
 * for v5 uuids, so that is all it is used for.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20

struct sha1_ctx {
        uint32_t h[5];
        uint64_t length; /* bytes hashed so far */
        uint8_t block[64];
        size_t used; /* bytes waiting in block */
};

/* Start a new digest. */
void sha1_init(struct sha1_ctx *ctx);

/* Hash len more bytes. */
void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len);

/* Finish and write the 20-byte digest; ctx must be re-initialised to reuse. */
void sha1_final(struct sha1_ctx *ctx, uint8_t digest[SHA1_DIGEST_SIZE]);

/* One-shot digest of a buffer. */
void sha1(const void *data, size_t len, uint8_t digest[SHA1_DIGEST_SIZE]);
