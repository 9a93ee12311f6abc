/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hypervisor.h — the simulated hypervisor of xensup-sim.
 *
 * Holds the domains a Xen host would (dom0 always, domids allocated as Xen
 * 4.17 does, a host memory total, vcpus, pause count, cpu time, the shutdown
 * flag and reason), runs each guest's script on the sd_event loop, and serves
 * DIR/hypervisor.socket (sim/hv-proto.h) to the sim backend in builders/.
 * A guest talks to the embedded XenStore server as domid N through an
 * in-process connection, opened when dom0 introduces it; shutdown and death
 * make the server fire @releaseDomain, as xenstored does on VIRQ_DOM_EXC.
 */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

struct hypervisor;
struct xs_server;

/* Host memory when none is given: 16 GiB. */
#define HV_DEFAULT_TOTAL_MIB (16 * 1024)

/*
 * Create the hypervisor on event and listen on DIR/hypervisor.socket. server
 * may be NULL (no XenStore: guests run their scripts without one). Returns
 * -EADDRINUSE when another xensup-sim holds DIR.
 */
int hypervisor_new(sd_event *event, struct xs_server *server, const char *dir,
                   struct hypervisor **ret);

/* Set the host's memory total (MiB; 0 = HV_DEFAULT_TOTAL_MIB); -EBUSY below what is in use. */
int hypervisor_set_total_memory(struct hypervisor *hv, uint64_t mib);

/* Destroy every guest, close every client, unlink the socket, free; returns NULL. NULL-safe. */
struct hypervisor *hypervisor_free(struct hypervisor *hv);

/* For _cleanup_(hypervisor_freep). */
static inline void hypervisor_freep(struct hypervisor **hv)
{
        if (*hv)
                hypervisor_free(*hv);
}
