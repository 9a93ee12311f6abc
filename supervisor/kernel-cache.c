/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/macros.h"
#include "supervisor/kernel-cache.h"

#define IMAGE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct kernel_image_entry {
        struct kernel_image_entry *next;
        struct kernel_cache_key key;
        int fd;
        uint64_t bytes;
        uint64_t last_used; /* the cache's use counter when it was last added or used */
};

struct kernel_cache {
        struct kernel_image_entry *images;
        uint64_t max_bytes;
        uint64_t bytes;
        uint64_t uses;
        uint64_t hits;
        uint64_t misses;
};

void kernel_cache_key_of(const struct stat *st, struct kernel_cache_key *k)
{
        *k = (struct kernel_cache_key){
                .dev = st->st_dev,
                .ino = st->st_ino,
                .size = (uint64_t)st->st_size,
                .mtime_sec = st->st_mtim.tv_sec,
                .mtime_nsec = st->st_mtim.tv_nsec,
                .ctime_sec = st->st_ctim.tv_sec,
                .ctime_nsec = st->st_ctim.tv_nsec,
        };
}

static bool key_equal(const struct kernel_cache_key *a, const struct kernel_cache_key *b)
{
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
               a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
               a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

int kernel_cache_new(uint64_t max_bytes, struct kernel_cache **ret)
{
        struct kernel_cache *c;

        if (max_bytes == 0)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->max_bytes = max_bytes;
        *ret = c;
        return 0;
}

static void entry_free(struct kernel_image_entry *e)
{
        close(e->fd);
        free(e);
}

struct kernel_cache *kernel_cache_free(struct kernel_cache *c)
{
        if (!c)
                return NULL;
        while (c->images) {
                struct kernel_image_entry *e = c->images;

                c->images = e->next;
                entry_free(e);
        }
        free(c);
        return NULL;
}

static struct kernel_image_entry *entry_find(const struct kernel_cache *c,
                                             const struct kernel_cache_key *k)
{
        for (struct kernel_image_entry *e = c->images; e; e = e->next)
                if (key_equal(&e->key, k))
                        return e;
        return NULL;
}

int kernel_cache_find(const struct kernel_cache *c, const struct kernel_cache_key *k)
{
        const struct kernel_image_entry *e = entry_find(c, k);

        return e ? e->fd : -ENOENT;
}

int kernel_cache_new_fill(void)
{
        int fd = memfd_create("xensup-kernel", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        return fd < 0 ? -errno : fd;
}

/* Drop the least recently used images until `need` more bytes fit. */
static void make_room(struct kernel_cache *c, uint64_t need)
{
        while (c->images && c->bytes + need > c->max_bytes) {
                struct kernel_image_entry **oldest = &c->images, *e;

                for (struct kernel_image_entry **p = &c->images; *p; p = &(*p)->next)
                        if ((*p)->last_used < (*oldest)->last_used)
                                oldest = p;
                e = *oldest;
                *oldest = e->next;
                c->bytes -= e->bytes;
                entry_free(e);
        }
}

int kernel_cache_add(struct kernel_cache *c, const struct kernel_cache_key *k, int fd)
{
        _cleanup_close_ int image = fd;
        struct kernel_image_entry *e;
        struct stat st;
        uint64_t bytes;

        c->misses++;
        if (fstat(image, &st) < 0)
                return -errno;
        /* What the pages take, not the file's length: an image has holes. */
        bytes = (uint64_t)st.st_blocks * 512;
        if (st.st_size == 0 || bytes > c->max_bytes || entry_find(c, k))
                return 0;
        /* Sealed before any build sees it: the builds' mappings are never written through. */
        if (fcntl(image, F_ADD_SEALS, IMAGE_SEALS) < 0)
                return -errno;
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        make_room(c, bytes);
        e->key = *k;
        e->fd = TAKE_FD(image);
        e->bytes = bytes;
        e->last_used = ++c->uses;
        e->next = c->images;
        c->images = e;
        c->bytes += bytes;
        return 1;
}

void kernel_cache_used(struct kernel_cache *c, const struct kernel_cache_key *k)
{
        struct kernel_image_entry *e = entry_find(c, k);

        /* Dropped since the build began: the build had its own descriptor. */
        c->hits++;
        if (e)
                e->last_used = ++c->uses;
}

void kernel_cache_get_stats(const struct kernel_cache *c, struct kernel_cache_stats *s)
{
        *s = (struct kernel_cache_stats){
                .bytes = c->bytes,
                .max_bytes = c->max_bytes,
                .hits = c->hits,
                .misses = c->misses,
        };
        for (const struct kernel_image_entry *e = c->images; e; e = e->next)
                s->images++;
}
