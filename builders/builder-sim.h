/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * builder-sim.h — what only the simulated hypervisor offers, for the
 * daemon's org.xensup.supervisor1.Simulator interface and for tests: guest
 * actions injected at run time, fault injection, per-operation counters,
 * the simulated host's loop devices and interfaces, device faults.
 * Every call fails with -EOPNOTSUPP on a builder that is not the sim one.
 */
#pragma once

#include <stddef.h>
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

/* The simulated host's loop devices, in minor order; caller frees *loops_r. */
int builder_sim_loops(struct builder *b, struct hv_loop_info **loops_r, size_t *n_r, char **err_r);

/* The simulated host's interfaces, bridges included, in ifindex order; caller frees. */
int builder_sim_netdevs(struct builder *b, struct hv_netdev_info **netdevs_r, size_t *n_r,
                        char **err_r);

/*
 * Make the device drivers of domid (0: the next domain created) misbehave, for devices of
 * type (HV_DEVICE_ANY: both); HV_DEVICE_FAULT_DETACH closes frontend devid of a running
 * guest now (type VBD or VIF).
 */
int builder_sim_device_fault(struct builder *b, enum hv_device_fault kind, uint32_t domid,
                             enum hv_device_type type, uint32_t devid, char **err_r);

/* "clear", "backend-no-initwait", "frontend-no-connect", "frontend-no-close",
 * "guest-detach"; -1 if unknown. */
int builder_sim_device_fault_from_string(const char *s);

/* The name of a device fault; NULL if unknown. */
const char *builder_sim_device_fault_to_string(enum hv_device_fault k);

/* "crash", "reboot", "poweroff", "watchdog", "soft_reset", "hang", "obey", "hostile",
 * "zombie"; -1 if unknown. */
int builder_sim_guest_action_from_string(const char *s);

/* The name of a guest action; NULL if unknown. */
const char *builder_sim_guest_action_to_string(enum hv_guest_action a);

/* "create", "unpause", "pause", "shutdown", "destroy", "list", "set_memory", "set_vcpus",
 * "dumpcore", "guest_action", "stats", "fault", "set_handle", "find_handle", "loop_attach",
 * "loop_release", "vif_plug", "vif_unplug", "host_list", "device_fault"; -1 if unknown. */
int builder_sim_op_from_string(const char *s);

/* The name of an operation; NULL if unknown. */
const char *builder_sim_op_to_string(enum hv_op op);

/* First line of a core file the sim backend writes. */
#define BUILDER_SIM_CORE_MAGIC "XENSUP-SIM-CORE 1"
