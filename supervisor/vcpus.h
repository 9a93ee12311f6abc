/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vcpus.h — a running domain's vcpus as `xl vcpu-list` shows them and
 * `xl vcpu-pin` moves them, and the host cpu lists both speak: xl's syntax
 * ("all", "3", "0-3", "0-7,^2", comma-separated) both ways.
 */
#pragma once

#include "builders/builder.h"
#include "supervisor/context.h"
#include "supervisor/domain.h"
#include "supervisor/outcome.h"

/*
 * Parse an xl cpu list of a host with nr_cpus cpus into *map: "all", N, N-M, ^N and ^N-M
 * (taken out of what the items before them put in), comma-separated. -EINVAL with a
 * message naming the item for anything else, a cpu the host does not have, or an empty set.
 */
int cpulist_parse(const char *text, unsigned nr_cpus, struct builder_cpumap *map, char **err_r);

/* map as an xl cpu list: "all" when it holds every cpu of the host, "none", or ranges. */
char *cpulist_format(const struct builder_cpumap *map, unsigned nr_cpus);

/*
 * The vcpus of d's running instance, and the host's cpu count to read their maps against;
 * caller frees *vcpus_r. OUTCOME_INVALID_STATE when d has no instance with vcpus.
 */
int vcpus_list(struct manager *m, struct domain *d, struct builder_vcpu_info **vcpus_r, size_t *n_r,
               unsigned *nr_cpus_r, struct sup_error *e);

/*
 * Pin vcpu (-1: every vcpu) of d to the cpu lists hard and soft, each an xl cpu list, or ""
 * to leave that affinity as it is (not both). OUTCOME_INVALID_ARGUMENT naming what is wrong.
 */
int vcpus_pin(struct manager *m, struct domain *d, int32_t vcpu, const char *hard, const char *soft,
              struct sup_error *e);
