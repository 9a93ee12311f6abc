/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host.h — what xensupctl's info, vcpu-list and vcpu-pin read from xensupd's
 * replies and how they print it: the same lines xl info and xl vcpu-list
 * print, and their JSON. Needs a bus message, never the bus.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-bus.h>

#define CTL_HOST_STATES_MAX 32 /* more than the daemon has states */

/* Manager.GetHostInfo's reply; the strings point into the message it was read from. */
struct ctl_host_info {
        const char *daemon_version, *hypervisor, *version, *capabilities, *virt_caps, *scheduler;
        uint32_t cpus, nodes, cores_per_socket, threads_per_core, cpu_khz;
        uint64_t total_kib, free_kib;
        struct {
                const char *state;
                uint32_t n;
        } domains[CTL_HOST_STATES_MAX];
        size_t n_states;
        bool kernel_cache; /* the daemon keeps one: */
        struct {
                uint64_t images, bytes, max_bytes, hits, misses;
        } kernels;
};

/* Read GetHostInfo's a{sv} into h (keys it does not know are skipped); 0 or a negative errno. */
int ctl_host_info_read(sd_bus_message *reply, struct ctl_host_info *h);

/* xl info's lines ("key : value", memory in MiB) for host, or one JSON object (KiB). */
void ctl_print_host_info(FILE *f, const char *host, const struct ctl_host_info *h, bool json);

/* One row of Domain.GetVCPUs; the strings point into its message. */
struct ctl_vcpu {
        uint32_t id, cpu;
        int online, running, blocked;
        uint64_t cpu_time_ns;
        const char *hard, *soft;
};

/* Read the next row of an entered a(ubbbutss) into v: 1, 0 at its end, or a negative errno. */
int ctl_vcpu_read(sd_bus_message *reply, struct ctl_vcpu *v);

/* xl vcpu-list's header line. */
void ctl_print_vcpu_header(FILE *f);

/* One vcpu as xl vcpu-list prints it, or as a JSON object (after a comma unless first). */
void ctl_print_vcpu(FILE *f, const char *name, uint32_t domid, const struct ctl_vcpu *v, bool json,
                    bool first);
