/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpumap.h — sets of host cpus, as vcpu affinities name them, and the words for a bad one. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The most host cpus an affinity map names: Xen's NR_CPUS on x86 is at most 4095; 1024 fits
 * every host Debian's Xen is built for (its NR_CPUS is 256), with room. */
#define BUILDER_CPUS_MAX 1024

/* A set of host cpus: bit n of bits[n / 64] is cpu n. */
struct builder_cpumap {
        uint64_t bits[BUILDER_CPUS_MAX / 64];
};

/* Whether cpu is in map. */
static inline bool builder_cpumap_test(const struct builder_cpumap *map, unsigned cpu)
{
        return cpu < BUILDER_CPUS_MAX && (map->bits[cpu / 64] >> (cpu % 64)) & 1;
}

/* Put cpu in map (a cpu beyond BUILDER_CPUS_MAX is ignored). */
static inline void builder_cpumap_set(struct builder_cpumap *map, unsigned cpu)
{
        if (cpu < BUILDER_CPUS_MAX)
                map->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

/* Take cpu out of map. */
static inline void builder_cpumap_clear(struct builder_cpumap *map, unsigned cpu)
{
        if (cpu < BUILDER_CPUS_MAX)
                map->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}

/* Whether map names no cpu. */
bool builder_cpumap_empty(const struct builder_cpumap *map);

/* The lowest cpu of map a host of nr_cpus cpus (0 to nr_cpus - 1) does not have; -1 if none. */
int builder_cpumap_beyond(const struct builder_cpumap *map, unsigned nr_cpus);

/* -EINVAL with the one wording for a cpu the host does not have: "... the host has cpus 0-3". */
int builder_no_such_cpu(char **err_r, unsigned cpu, unsigned nr_cpus);

/*
 * Why a hypervisor would refuse a pin, in the words both backends use: a vcpu past the
 * domain's max_vcpu_id, a cpu a host of nr_cpus does not have, an empty hard map. -EINVAL with
 * the message, or 0 when none of them holds.
 */
int builder_vcpu_pin_check(uint32_t domid, unsigned vcpu, uint32_t max_vcpu_id, unsigned nr_cpus,
                           const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                           char **err_r);
