/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hash.h — a string-keyed hash table of intrusive entries, chained, duplicate keys allowed: the
 * simulator's node store, transactions and watches, and the daemon's domain table by name, uuid
 * and object path.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct hentry {
        struct hentry *next;
        struct hentry **pprev; /* O(1) removal, however many entries share a key */
        uint32_t hash;
        const char *key;
};

struct htable {
        struct hentry **buckets;
        size_t nbuckets;
        size_t count;
};

/* Hash a NUL-terminated key (FNV-1a). */
uint32_t str_hash(const char *key);

/* Allocate the buckets; -ENOMEM. */
int ht_init(struct htable *t);

/* Free the buckets (not the entries). */
void ht_done(struct htable *t);

/* Insert e (e->key set); grows the table when full. */
void ht_insert(struct htable *t, struct hentry *e);

/* Unlink e, in constant time; an entry not in a table is left as it is. */
void ht_remove(struct htable *t, struct hentry *e);

/* First entry with key, or NULL. */
struct hentry *ht_find(const struct htable *t, const char *key);

/* Next entry after e with the same key, or NULL. */
struct hentry *ht_find_next(struct hentry *e);

/* The struct of type that holds ptr as its member. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
