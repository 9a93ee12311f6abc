/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpumap.c — cpu sets and the refusals about them, shared by the backends and the supervisor. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "builders/cpumap.h"
#include "common/error.h"

bool builder_cpumap_empty(const struct builder_cpumap *map)
{
        for (size_t w = 0; w < ELEMENTSOF(map->bits); w++)
                if (map->bits[w])
                        return false;
        return true;
}

int builder_cpumap_beyond(const struct builder_cpumap *map, unsigned nr_cpus)
{
        for (unsigned cpu = nr_cpus; cpu < BUILDER_CPUS_MAX; cpu++)
                if (builder_cpumap_test(map, cpu))
                        return (int)cpu;
        return -1;
}

int builder_no_such_cpu(char **err_r, unsigned cpu, unsigned nr_cpus)
{
        if (nr_cpus <= 1)
                return err_setf(err_r, -EINVAL, "cpu %u does not exist: the host has only cpu 0",
                                cpu);
        return err_setf(err_r, -EINVAL, "cpu %u does not exist: the host has cpus 0-%u", cpu,
                        nr_cpus - 1);
}

int builder_vcpu_pin_check(uint32_t domid, unsigned vcpu, uint32_t max_vcpu_id, unsigned nr_cpus,
                           const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                           char **err_r)
{
        _cleanup_free_ char *why = NULL;
        int cpu = -1;

        if (vcpu > max_vcpu_id)
                return max_vcpu_id == 0 ? err_setf(err_r, -EINVAL,
                                                   "vcpu-pin: domain %" PRIu32
                                                   " has no vcpu %u: its only vcpu is 0",
                                                   domid, vcpu)
                                        : err_setf(err_r, -EINVAL,
                                                   "vcpu-pin: domain %" PRIu32
                                                   " has no vcpu %u: its vcpus are 0-%" PRIu32,
                                                   domid, vcpu, max_vcpu_id);
        if (hard)
                cpu = builder_cpumap_beyond(hard, nr_cpus);
        if (cpu < 0 && soft)
                cpu = builder_cpumap_beyond(soft, nr_cpus);
        if (cpu >= 0) {
                builder_no_such_cpu(&why, (unsigned)cpu, nr_cpus);
                return err_setf(err_r, -EINVAL, "vcpu-pin: %s", why);
        }
        if (hard && builder_cpumap_empty(hard))
                return err_setf(err_r, -EINVAL,
                                "vcpu-pin: the hard affinity of vcpu %u names no cpu", vcpu);
        return 0;
}
