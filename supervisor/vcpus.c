/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "supervisor/lifecycle.h"
#include "supervisor/vcpus.h"

/* One decimal cpu number at *p, advancing it; -EINVAL when there is none or it is too big. */
static int cpu_number(const char **p, unsigned *cpu_r)
{
        unsigned long v;
        char *end;

        if (**p < '0' || **p > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(*p, &end, 10);
        if (errno || v >= BUILDER_CPUS_MAX)
                return -EINVAL;
        *p = end;
        *cpu_r = (unsigned)v;
        return 0;
}

/* One item of the list (N, N-M, all, each maybe with ^), applied to map. */
static int cpulist_item(const char *item, unsigned nr_cpus, struct builder_cpumap *map,
                        char **err_r)
{
        const char *p = item;
        bool exclude = *p == '^';
        unsigned first, last;

        if (exclude)
                p++;
        if (strcmp(p, "all") == 0) {
                first = 0;
                last = nr_cpus - 1;
        } else {
                if (cpu_number(&p, &first) < 0)
                        goto bad;
                last = first;
                if (*p == '-') {
                        p++;
                        if (cpu_number(&p, &last) < 0 || last < first)
                                goto bad;
                }
                if (*p)
                        goto bad;
                if (last >= nr_cpus)
                        return builder_no_such_cpu(err_r, first >= nr_cpus ? first : nr_cpus,
                                                   nr_cpus);
        }
        for (unsigned c = first; c <= last; c++) {
                if (exclude)
                        builder_cpumap_clear(map, c);
                else
                        builder_cpumap_set(map, c);
        }
        return 0;
bad:
        return err_setf(err_r, -EINVAL,
                        "'%s' is not a cpu list item (allowed: all, N, N-M, ^N or ^N-M, "
                        "comma-separated)",
                        item);
}

int cpulist_parse(const char *text, unsigned nr_cpus, struct builder_cpumap *map, char **err_r)
{
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;
        int r;

        memset(map, 0, sizeof(*map));
        if (nr_cpus == 0 || nr_cpus > BUILDER_CPUS_MAX)
                return err_setf(err_r, -EINVAL, "the host reports %u cpus", nr_cpus);
        copy = strdup(text);
        if (!copy)
                return err_setf(err_r, -ENOMEM, "out of memory");
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                r = cpulist_item(item, nr_cpus, map, err_r);
                if (r < 0)
                        return r;
        }
        if (builder_cpumap_empty(map))
                return err_setf(err_r, -EINVAL, "'%s' names no cpu", text);
        return 0;
}

char *cpulist_format(const struct builder_cpumap *map, unsigned nr_cpus)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0, size = 64;
        bool all = nr_cpus > 0;

        for (unsigned c = 0; c < BUILDER_CPUS_MAX; c++)
                if (builder_cpumap_test(map, c) != (c < nr_cpus))
                        all = false;
        if (all)
                return strdup("all");
        text = malloc(size);
        if (!text)
                return NULL;
        text[0] = '\0';
        for (unsigned c = 0; c < BUILDER_CPUS_MAX; c++) {
                unsigned last = c;
                char item[32];
                int n;

                if (!builder_cpumap_test(map, c))
                        continue;
                while (last + 1 < BUILDER_CPUS_MAX && builder_cpumap_test(map, last + 1))
                        last++;
                n = last == c ? snprintf(item, sizeof(item), "%s%u", len ? "," : "", c)
                              : snprintf(item, sizeof(item), "%s%u-%u", len ? "," : "", c, last);
                if (len + (size_t)n + 1 > size) {
                        char *bigger = realloc(text, size * 2 + (size_t)n);

                        if (!bigger)
                                return NULL;
                        text = bigger;
                        size = size * 2 + (size_t)n;
                }
                memcpy(text + len, item, (size_t)n + 1);
                len += (size_t)n;
                c = last;
        }
        if (len == 0)
                return strdup("none");
        return TAKE_PTR(text);
}

/* The states whose instance the hypervisor has, with its vcpus. */
static bool state_has_vcpus(enum domain_state s)
{
        return s == DOMAIN_RUNNING || s == DOMAIN_PAUSED || s == DOMAIN_SHUTTING_DOWN ||
               s == DOMAIN_PRESERVED || s == DOMAIN_SAVING || s == DOMAIN_SUSPENDED ||
               s == DOMAIN_MIGRATING;
}

/* The host's cpu count, which every cpu list is read against. */
static int host_cpus(struct manager *m, unsigned *nr_cpus_r, struct sup_error *e)
{
        struct builder_host_info host;
        _cleanup_free_ char *err = NULL;
        int r;

        r = builder_host_info(m->builder, &host, &err);
        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "cannot read the host's cpus: %s",
                                   err ? err : strerror(-r));
        *nr_cpus_r = host.nr_cpus;
        return 0;
}

int vcpus_list(struct manager *m, struct domain *d, struct builder_vcpu_info **vcpus_r, size_t *n_r,
               unsigned *nr_cpus_r, struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        int r;

        if (!d->has_domid || !state_has_vcpus(d->state))
                return sup_outcome(e, OUTCOME_INVALID_STATE, "%s is %s: it has no vcpus", d->name,
                                   domain_state_to_string(d->state));
        r = host_cpus(m, nr_cpus_r, e);
        if (r < 0)
                return r;
        r = builder_vcpu_list(m->builder, d->domid, vcpus_r, n_r, &err);
        if (r < 0)
                return sup_failure(e, LAYER_HYPERVISOR, r, "%s: %s", d->name,
                                   err ? err : strerror(-r));
        return 0;
}

/* One of vcpus_pin()'s lists into map (*use_r false for "": left as it is); 0 or an outcome. */
static int pin_map(const char *what, const char *text, unsigned nr_cpus, struct builder_cpumap *map,
                   bool *use_r, struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        int r;

        *use_r = text[0] != '\0';
        if (!*use_r)
                return 0;
        r = cpulist_parse(text, nr_cpus, map, &err);
        if (r < 0)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s affinity: %s", what,
                                   err ? err : strerror(-r));
        return 0;
}

int vcpus_pin(struct manager *m, struct domain *d, int32_t vcpu, const char *hard, const char *soft,
              struct sup_error *e)
{
        struct builder_cpumap hard_map, soft_map;
        bool use_hard, use_soft;
        unsigned nr_cpus;
        int r;

        if (vcpu < -1)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                   "vcpu %d: a vcpu number, or -1 for all", (int)vcpu);
        if (!hard[0] && !soft[0])
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                   "neither a hard nor a soft affinity given");
        r = host_cpus(m, &nr_cpus, e);
        if (r < 0)
                return r;
        /* A refusal is an outcome (> 0), a failure a negative errno: either ends it. */
        r = pin_map("hard", hard, nr_cpus, &hard_map, &use_hard, e);
        if (r != 0)
                return r;
        r = pin_map("soft", soft, nr_cpus, &soft_map, &use_soft, e);
        if (r != 0)
                return r;
        return lifecycle_pin_vcpu(m, d,
                                  &(struct vcpu_pin){
                                      .all = vcpu == -1,
                                      .vcpu = vcpu == -1 ? 0 : (unsigned)vcpu,
                                      .hard = use_hard ? &hard_map : NULL,
                                      .soft = use_soft ? &soft_map : NULL,
                                  },
                                  e);
}
