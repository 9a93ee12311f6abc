/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xs-hash.c — the string-keyed hash table under the node store, transactions and watches. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs-internal.h"

#define INITIAL_BUCKETS 64

uint32_t xs_hash(const char *key)
{
        uint32_t h = 2166136261u;

        for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
                h ^= *p;
                h *= 16777619u;
        }
        return h;
}

int xs_ht_init(struct xs_htable *t)
{
        t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
        if (!t->buckets)
                return -ENOMEM;
        t->nbuckets = INITIAL_BUCKETS;
        t->count = 0;
        return 0;
}

void xs_ht_done(struct xs_htable *t)
{
        free(t->buckets);
        t->buckets = NULL;
        t->nbuckets = 0;
        t->count = 0;
}

/* Double the buckets; on allocation failure the table just stays denser. */
static void grow(struct xs_htable *t)
{
        size_t n = t->nbuckets * 2;
        struct xs_hentry **b = calloc(n, sizeof(*b));

        if (!b)
                return;
        for (size_t i = 0; i < t->nbuckets; i++) {
                struct xs_hentry *e = t->buckets[i];

                while (e) {
                        struct xs_hentry *next = e->next;
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

void xs_ht_insert(struct xs_htable *t, struct xs_hentry *e)
{
        size_t i;

        if (t->count >= t->nbuckets)
                grow(t);
        e->hash = xs_hash(e->key);
        i = e->hash & (t->nbuckets - 1);
        e->next = t->buckets[i];
        if (e->next)
                e->next->pprev = &e->next;
        e->pprev = &t->buckets[i];
        t->buckets[i] = e;
        t->count++;
}

void xs_ht_remove(struct xs_htable *t, struct xs_hentry *e)
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

static struct xs_hentry *scan(struct xs_hentry *e, uint32_t h, const char *key)
{
        for (; e; e = e->next)
                if (e->hash == h && strcmp(e->key, key) == 0)
                        return e;
        return NULL;
}

struct xs_hentry *xs_ht_find(const struct xs_htable *t, const char *key)
{
        uint32_t h = xs_hash(key);

        return scan(t->buckets[h & (t->nbuckets - 1)], h, key);
}

struct xs_hentry *xs_ht_find_next(struct xs_hentry *e)
{
        return scan(e->next, e->hash, e->key);
}
