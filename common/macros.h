/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * macros.h — the one cleanup style used across xensup.
 *
 * Every fallible function returns 0 or a negative errno. Resources are
 * released with __attribute__((cleanup)) helpers; ownership leaves a scope
 * with TAKE_PTR()/TAKE_FD(). Do not mix in goto-based cleanup.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _must_check_   __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand a pointer out of a _cleanup_ scope: returns it and NULLs the variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p_ = (p);                                                           \
                (p) = NULL;                                                                        \
                _p_;                                                                               \
        })

/* Hand a file descriptor out of a _cleanup_ scope: returns it and sets -1. */
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _fd_ = (fd);                                                                   \
                (fd) = -1;                                                                         \
                _fd_;                                                                              \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Free a NULL-terminated array of strings and the array itself. */
static inline void strv_free(char **l)
{
        if (!l)
                return;
        for (char **s = l; *s; s++)
                free(*s);
        free(l);
}
static inline void strv_freep(char ***l)
{
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Map a NULL-terminated string table index to its name; NULL when out of range. */
#define TABLE_LOOKUP(table, i) ((size_t)(i) < ELEMENTSOF(table) ? (table)[(i)] : NULL)

/* The index of s in a string table of n entries (holes allowed); -1 if absent. */
static inline int string_table_find(const char *const *table, size_t n, const char *s)
{
        if (!s)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (table[i] && __builtin_strcmp(table[i], s) == 0)
                        return (int)i;
        return -1;
}

/*
 * NAME_to_string(TYPE) and NAME_from_string(const char *) over a string table
 * indexed by the enum; to_string gives NULL, from_string -1, for what is not in it.
 */
#define DEFINE_STRING_TABLE_LOOKUP(name, type, table)                                              \
        const char *name##_to_string(type v)                                                       \
        {                                                                                          \
                return TABLE_LOOKUP(table, v);                                                     \
        }                                                                                          \
        type name##_from_string(const char *s)                                                     \
        {                                                                                          \
                return (type)string_table_find(table, ELEMENTSOF(table), s);                       \
        }
