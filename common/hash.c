/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hash.c — the string-keyed hash table of common/hash.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

#define INITIAL_BUCKETS 64

uint32_t str_hash(const char *key)
{
        uint32_t h = 2166136261u;

        for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
                h ^= *p;
                h *= 16777619u;
        }
        return h;
}

int ht_init(struct htable *t)
{
        t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
        if (!t->buckets)
                return -ENOMEM;
        t->nbuckets = INITIAL_BUCKETS;
        t->count = 0;
        return 0;
}

void ht_done(struct htable *t)
{
        free(t->buckets);
        t->buckets = NULL;
        t->nbuckets = 0;
        t->count = 0;
}

/* Double the buckets; on allocation failure the table just stays denser. */
static void grow(struct htable *t)
{
        size_t n = t->nbuckets * 2;
        struct hentry **b = calloc(n, sizeof(*b));

        if (!b)
                return;
        for (size_t i = 0; i < t->nbuckets; i++) {
                struct hentry *e = t->buckets[i];

                while (e) {
                        struct hentry *next = e->next;
                        size_t j = e->hash & (n - 1);

                        e->next = b[j];
                        if (b[j])
                                b[j]->pprev = &e->next;
                        e->pprev = &b[j];
                        b[j] = e;
                        e = next;
                }
        }
        free(t->buckets);
        t->buckets = b;
        t->nbuckets = n;
}

void ht_insert(struct htable *t, struct hentry *e)
{
        size_t i;

        if (t->count >= t->nbuckets)
                grow(t);
        e->hash = str_hash(e->key);
        i = e->hash & (t->nbuckets - 1);
        e->next = t->buckets[i];
        if (e->next)
                e->next->pprev = &e->next;
        e->pprev = &t->buckets[i];
        t->buckets[i] = e;
        t->count++;
}

void ht_remove(struct htable *t, struct hentry *e)
{
        if (!e->pprev)
                return;
        *e->pprev = e->next;
        if (e->next)
                e->next->pprev = e->pprev;
        e->next = NULL;
        e->pprev = NULL;
        t->count--;
}

static struct hentry *scan(struct hentry *e, uint32_t h, const char *key)
{
        for (; e; e = e->next)
                if (e->hash == h && strcmp(e->key, key) == 0)
                        return e;
        return NULL;
}

struct hentry *ht_find(const struct htable *t, const char *key)
{
        uint32_t h = str_hash(key);

        return scan(t->buckets[h & (t->nbuckets - 1)], h, key);
}

struct hentry *ht_find_next(struct hentry *e)
{
        return scan(e->next, e->hash, e->key);
}
