/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel-cache.h — guest kernels inflated once, not at every build.
 *
 * Every PV or PVH build used to read the kernel file and inflate it (the packaged vmlinuz is an
 * xz bzImage; under emulation even gunzip of an ELF takes a second), and the build child held
 * the compressed and the inflated kernel at once: most of a restart's memory peak. The cache
 * keeps each kernel's loadable image (builders/kernel-image.h) in a sealed memfd: a build child
 * inherits the descriptors across its fork and maps the one it needs read-only, private, so
 * every build of that kernel shares the same pages and decompresses nothing.
 *
 * A kernel is known by what fstat() says of the file its build opened with its owner's rights
 * (device, inode, size, mtime, ctime): a file changed or replaced is another kernel, and the
 * owner's right to read it is checked by that open at every build, hit or miss. The daemon never
 * reads a kernel: on a miss it hands the build an empty memfd, which the child fills once it has
 * inflated the kernel; the daemon seals it (no write, no resize, ever) before it keeps it.
 *
 * The cache holds at most max_bytes of images (memory the memfds occupy); the least recently
 * used go first. A kernel larger than that is not kept.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* The default bound of `xensupd --kernel-cache=`: a few distinct kernels. */
#define KERNEL_CACHE_DEFAULT_BYTES (256ull << 20)

/* What identifies a kernel file's content, from fstat() of the file a build opened. */
struct kernel_cache_key {
        uint64_t dev;
        uint64_t ino;
        uint64_t size;
        int64_t mtime_sec;
        int64_t mtime_nsec;
        int64_t ctime_sec;
        int64_t ctime_nsec;
};

struct kernel_cache_stats {
        unsigned images;
        uint64_t bytes;     /* the memory the images occupy */
        uint64_t max_bytes; /* the bound */
        uint64_t hits;      /* builds that loaded a kept image */
        uint64_t misses;    /* builds that inflated the kernel and kept its image */
};

struct kernel_cache;

/* The key of the file st describes. */
void kernel_cache_key_of(const struct stat *st, struct kernel_cache_key *k);

/* A cache bound to max_bytes (>= 1). */
int kernel_cache_new(uint64_t max_bytes, struct kernel_cache **ret);

/* Close every image; returns NULL. NULL-safe. */
struct kernel_cache *kernel_cache_free(struct kernel_cache *c);

/* The sealed image of k's kernel (the cache keeps it: do not close it), or -ENOENT. */
int kernel_cache_find(const struct kernel_cache *c, const struct kernel_cache_key *k);

/* A new empty memfd, close-on-exec and sealable, for a build to fill: the caller owns it. */
int kernel_cache_new_fill(void);

/*
 * Keep fd, a build's filled kernel_cache_new_fill() memfd, as k's image: seal it, then make room
 * by dropping the least recently used. Takes fd in every case (closes what it does not keep):
 * 1 kept, 0 not kept (empty, larger than the bound, or k's image is kept already), or -errno.
 */
int kernel_cache_add(struct kernel_cache *c, const struct kernel_cache_key *k, int fd);

/* A build loaded k's image: it becomes the most recently used, and a hit. */
void kernel_cache_used(struct kernel_cache *c, const struct kernel_cache_key *k);

/* The figures `xensupctl info` shows. */
void kernel_cache_get_stats(const struct kernel_cache *c, struct kernel_cache_stats *s);
