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
 *
 * As Xen 4.17, where a toolstack can tell:
 *  - domids: a rover above the last one allocated, wrapping at 0x7ff0 to 1
 *    (XEN_DOMCTL_createdomain), so a freed domid comes back only after the
 *    whole range went round; dom0 is domid 0 with the all-zero handle.
 *  - a new domain holds its memory and is paused (pause count 1); pause
 *    counts up to 255, unpause below 0 is -EINVAL; dom0 is never paused,
 *    shut down or destroyed (-EINVAL), nor given a new handle (stricter
 *    than Xen); an unknown domid is -ESRCH; memory beyond what the host has
 *    free is -ENOMEM.
 *  - a domain's handle is the uuid it was created with until
 *    XEN_DOMCTL_setdomainhandle replaces it (libxl_domain_preserve).
 *  - cpu time grows with online vcpus while the domain is unpaused and not
 *    shut down; each vcpu keeps its own, and the domain's is their sum.
 *  - the host has N physical cpus (hypervisor_set_cpus, default 4; dom0 has
 *    a vcpu per cpu). A vcpu's hard and soft affinity start as every host cpu
 *    (a restored domain's too) and change only by VCPU_PIN; vcpu i runs on
 *    the lowest cpu at or after i % N, wrapping, of its hard affinity within
 *    its soft one, or of its hard one when the two do not meet.
 *  - the first shutdown reason stays; @releaseDomain fires at shutdown and at
 *    death, for introduced domains only (as xenstored's domain_cleanup).
 *  - max_mem is a limit: the guest balloons to memory/target within it; Xen
 *    knows only the maximum vcpus, the guest onlines cpu/N/availability.
 *  - event channels: store port 1, console port 2 (the first two a fresh
 *    domain's xc_evtchn_alloc_unbound hands out); ring frames are fake,
 *    never reused.
 *
 * A guest, once unpaused the first time and introduced, acts as a Linux PV
 * guest: writes control/feature-{poweroff,reboot,suspend}, watches
 * control/shutdown (poweroff, halt, reboot, suspend: clears it and shuts
 * down 100 ms later with that reason, unless told to ignore; anything else
 * is left unanswered), memory/target and cpu/. Its script (`sim { }`) makes
 * it exit with a reason after run_seconds of running (a paused guest exits
 * when next unpaused). At run time it can be told (enum hv_guest_action) to
 * power off, reboot, crash, hit the watchdog, soft-reset, hang, obey, turn
 * hostile (garbage in its own subtree up to its quota), linger as a dying
 * zombie after destroy, or acknowledge suspend requests without suspending.
 *
 * Save and restore, as libxenguest does them to a suspended domain: SAVE
 * hands over a suspended guest's state (its clock, script, faults, memory,
 * vcpus), RESTORE builds a new paused domain that goes on from it (as a
 * restored Linux: it reconnects its frontends to the new backends and
 * watches its nodes again, writing no control/feature-*), RESUME lets a
 * suspended domain run on in place with its devices connected. The stream
 * those travel in is the sim backend's (builders/builder-sim.c).
 *
 * Devices, as a dom0 running Linux 6.1 and a Linux guest (hv-backend.c,
 * hv-frontend.c, hv-host.c have the details): dom0's blkback and netback
 * watch /local/domain/0/backend and take part in the xenbus handshake with
 * the guest's blkfront and netfront once it booted, driven by XenStore only.
 * The host side a hotplug script works on is simulated too: loop devices
 * (major 7, lowest free minor), the bridges given to hypervisor_add_bridge()
 * (MTU 1500) and the vif<domid>.<handle> interface netback creates while it
 * has the device. Device faults make drivers misbehave (enum hv_device_fault).
 *
 * Not modelled: HVM (the backends refuse it), live save (no log-dirty
 * tracking, as Debian's Xen without shadow paging), the consoles, grant
 * tables, and any I/O through the devices.
 */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

struct hypervisor;
struct xs_server;

/* Host memory when none is given: 16 GiB. */
#define HV_DEFAULT_TOTAL_MIB (16 * 1024)

/* Host cpus when none are given (xensup-sim --cpus). */
#define HV_DEFAULT_CPUS 4

/*
 * Create the hypervisor on event and listen on DIR/hypervisor.socket. server
 * may be NULL (no XenStore: guests run their scripts without one). Returns
 * -EADDRINUSE when another xensup-sim holds DIR.
 */
int hypervisor_new(sd_event *event, struct xs_server *server, const char *dir,
                   struct hypervisor **ret);

/* Set the host's memory total (MiB; 0 = HV_DEFAULT_TOTAL_MIB); -EBUSY below what is in use. */
int hypervisor_set_total_memory(struct hypervisor *hv, uint64_t mib);

/*
 * Set the host's physical cpus (1 to HV_CPUS_MAX; 0 = HV_DEFAULT_CPUS): dom0 gets one vcpu
 * per cpu (at most VCPUS_MAX). -EINVAL out of range, -EBUSY once a guest exists.
 */
int hypervisor_set_cpus(struct hypervisor *hv, unsigned n);

/* A bridge of the host's, MTU 1500, up; -EEXIST if the name is taken, -EINVAL if invalid. */
int hypervisor_add_bridge(struct hypervisor *hv, const char *name);

/* Destroy every guest, close every client, unlink the socket, free; returns NULL. NULL-safe. */
struct hypervisor *hypervisor_free(struct hypervisor *hv);

/* For _cleanup_(hypervisor_freep). */
static inline void hypervisor_freep(struct hypervisor **hv)
{
        if (*hv)
                hypervisor_free(*hv);
}
