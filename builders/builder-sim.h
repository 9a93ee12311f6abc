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
 * "zombie", "no_suspend"; -1 if unknown. */
int builder_sim_guest_action_from_string(const char *s);

/* The name of a guest action; NULL if unknown. */
const char *builder_sim_guest_action_to_string(enum hv_guest_action a);

/* "create", "unpause", "pause", "shutdown", "destroy", "list", "set_memory", "set_vcpus",
 * "dumpcore", "guest_action", "stats", "fault", "set_handle", "find_handle", "loop_attach",
 * "loop_release", "vif_plug", "vif_unplug", "host_list", "device_fault", "save", "restore",
 * "resume", "physinfo", "vcpu_info", "vcpu_pin"; -1 if unknown. */
int builder_sim_op_from_string(const char *s);

/* The name of an operation; NULL if unknown. */
const char *builder_sim_op_to_string(enum hv_op op);

/* First line of a core file the sim backend writes. */
#define BUILDER_SIM_CORE_MAGIC "XENSUP-SIM-CORE 1"

/*
 * The stream builder_save() writes on the simulator, shaped as libxc's stream v3
 * (docs/specs/libxc-migration-stream.pandoc), so what is around it (a file, a pipe, a trailer
 * after it, a failure midway) behaves as on Xen; its id is its own, so neither backend ever
 * takes the other's stream for one of its own:
 *   image header   u64 marker ~0, u32 id BUILDER_SIM_STREAM_ID, u32 version 1, u16 options
 *                  (bit 0: the records are big-endian), u16 0, u32 0; big-endian, as libxc's
 *   domain header  u32 type (1 PV, 2 PVH), u16 page shift 12, u16 0,
 *                  u32 HV_GUEST_STATE_VERSION, u32 sizeof(struct hv_guest_state)
 *   records        u32 type, u32 body length, the body, zeros up to a multiple of 8 bytes:
 *     SIM_STATE        0x10001, several: u32 offset, u32 0, a piece of struct hv_guest_state
 *     STATIC_DATA_END  0x10: empty; the state is whole by then
 *     PAGE_DATA        1, several: u32 count (1 to 32), u32 0, count u64 pfns, count pages
 *     END              0: empty, the last record
 * There is one page per MiB of the guest's memory, 16 to 256 of them, their contents derived
 * from its memory seed: a stream is big enough to fail midway, and a corrupt page is caught.
 * builder_restore() reads it all and checks every byte before it asks for a domain.
 */
#define BUILDER_SIM_STREAM_ID      0x5853494Du /* "XSIM" */
#define BUILDER_SIM_STREAM_HEADERS 40          /* bytes of the image and domain headers */
