/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * builder-sim.h — what only the simulated hypervisor offers, for the
 * daemon's org.xensup.supervisor1.Simulator interface and for tests: guest
 * actions injected at run time, fault injection, per-operation counters.
 * Every call fails with -EOPNOTSUPP on a builder that is not the sim one.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "builders/builder.h"
#include "sim/hv-proto.h"

/* What the simulated host reports about itself. */
struct builder_sim_stats {
        pid_t pid;        /* xensup-sim's */
        unsigned domains; /* dom0 included */
        uint64_t total_kib;
        uint64_t free_kib;
        uint64_t calls[HV_OP_SLOTS]; /* requests received, by enum hv_op, failed ones included */
};

/* Make the guest do a (crash, reboot, hang, hostile...) now. */
int builder_sim_guest_action(struct builder *b, uint32_t domid, enum hv_guest_action a,
                             char **err_r);

/* Make the nth next call of op (and count - 1 after it) fail with -error; nth 0 clears. */
int builder_sim_fault(struct builder *b, enum hv_op op, unsigned nth, int error, unsigned count,
                      char **err_r);

/* Read the host's counters. */
int builder_sim_stats(struct builder *b, struct builder_sim_stats *st, char **err_r);

/* "crash", "reboot", "poweroff", "watchdog", "soft_reset", "hang", "obey", "hostile",
 * "zombie"; -1 if unknown. */
int builder_sim_guest_action_from_string(const char *s);

/* The name of a guest action; NULL if unknown. */
const char *builder_sim_guest_action_to_string(enum hv_guest_action a);

/* "create", "unpause", "pause", "shutdown", "destroy", "list", "set_memory", "set_vcpus",
 * "dumpcore", "guest_action", "stats", "fault", "set_handle"; -1 if unknown. */
int builder_sim_op_from_string(const char *s);

/* The name of an operation; NULL if unknown. */
const char *builder_sim_op_to_string(enum hv_op op);

/* First line of a core file the sim backend writes. */
#define BUILDER_SIM_CORE_MAGIC "XENSUP-SIM-CORE 1"
