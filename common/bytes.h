/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bytes.h — fixed-width integers at unaligned places in byte buffers, in a
 * stated byte order: the fields of file formats (a saved image's header, the
 * libxl records around a libxc stream), never of structs in memory.
 */
#pragma once

#include <endian.h>
#include <stdint.h>
#include <string.h>

/* v as 4 big-endian bytes at p. */
static inline void put_be32(uint8_t *p, uint32_t v)
{
        v = htobe32(v);
        memcpy(p, &v, 4);
}

/* v as 8 big-endian bytes at p. */
static inline void put_be64(uint8_t *p, uint64_t v)
{
        v = htobe64(v);
        memcpy(p, &v, 8);
}

/* v as 4 little-endian bytes at p. */
static inline void put_le32(uint8_t *p, uint32_t v)
{
        v = htole32(v);
        memcpy(p, &v, 4);
}

/* The 4 big-endian bytes at p. */
static inline uint32_t get_be32(const uint8_t *p)
{
        uint32_t v;

        memcpy(&v, p, 4);
        return be32toh(v);
}

/* The 8 big-endian bytes at p. */
static inline uint64_t get_be64(const uint8_t *p)
{
        uint64_t v;

        memcpy(&v, p, 8);
        return be64toh(v);
}
