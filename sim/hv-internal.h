/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hv-internal.h — what the sim/hv-*.c files share; nothing outside sim/ includes it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-event.h>

#include "common/macros.h"
#include "common/uuid.h"
#include "common/vocabulary.h"
#include "sim/hv-proto.h"
#include "sim/hypervisor.h"
#include "sim/xs-server.h"

#define HV_CLIENTS_MAX  64                   /* connections to hypervisor.socket at once */
#define HV_VCPUS_MAX    VCPUS_MAX            /* Xen's HVM_MAX_VCPUS */
#define HV_DOM0_MAX_KIB (1024ull * 1024)     /* dom0 takes 1/16 of the host, at most 1 GiB */
#define HV_ZOMBIE_MS    1000                 /* a zombie stays dying this long after destroy */
#define HV_ACK_DELAY_MS 100                  /* a guest shuts down this long after its request */
#define HV_HOSTILE_MAX  (2 * XS_QUOTA_NODES) /* most nodes a hostile guest tries */
#define HV_LOOPS_MAX    (1u << 20)           /* loop minors: the kernel's MINORMASK + 1 */
#define HV_VIF_ABSENT   1                    /* hv_vif_plug(): no such interface (yet) */
#define HV_XS_PATH_MAX  3072                 /* a XenStore path and its NUL, with room to spare */

/* XenbusState (xen/include/public/io/xenbus.h): both ends of a device write one. */
enum hv_xenbus_state {
        HV_XB_UNKNOWN = 0, /* also: the node is missing or unreadable */
        HV_XB_INITIALISING,
        HV_XB_INITWAIT,
        HV_XB_INITIALISED,
        HV_XB_CONNECTED,
        HV_XB_CLOSING,
        HV_XB_CLOSED,
};

struct hv_frontend;
struct hv_backend;
struct hv_console;

/* One vcpu of a domain. */
struct hv_vcpu {
        bool online;
        uint64_t cpu_ns;       /* its cpu time, accumulated up to the domain's run_since_ns */
        struct hv_cpumap hard; /* the host cpus it may run on: never empty */
        struct hv_cpumap soft; /* the ones it prefers: may be empty */
};

struct hv_domain {
        struct hypervisor *hv;
        uint32_t domid;
        uint8_t handle[16];
        char name[HV_NAME_MAX + 1];
        uint32_t type;
        uint32_t ssidref;

        uint64_t mem_kib;     /* pages it holds */
        uint64_t max_mem_kib; /* what it may balloon up to */
        unsigned max_vcpus;
        unsigned online_vcpus; /* how many of vcpus[] are online */
        struct hv_vcpu *vcpus; /* max_vcpus of them */

        unsigned pause_count; /* the toolstack's pause count; created at 1, as Xen */
        bool started;         /* unpaused once: the guest has booted */
        bool shutdown;
        enum shutdown_reason reason;
        bool dying;  /* destroyed, still listed (a zombie) */
        bool zombie; /* told to linger when destroyed */
        sd_event_source *zombie_timer;

        uint64_t cpu_ns;       /* cpu time accumulated up to run_since_ns */
        uint64_t run_since_ns; /* CLOCK_MONOTONIC when it last went on the cpu */
        bool on_cpu;

        uint32_t store_port, console_port;
        uint64_t store_mfn, console_mfn;

        struct hv_script script;
        bool ignore_shutdown;                /* hung: control/shutdown goes unanswered */
        bool no_suspend;                     /* acknowledges "suspend", never suspends */
        bool exit_pending;                   /* the script's time came while paused */
        enum shutdown_reason pending_reason; /* what an acknowledged request will do */
        bool request_pending;

        /*
         * The guest's own clock, what its script's run_ms counts: up from its boot (paused
         * time included, as a guest's clock runs while paused) until it shuts down; a
         * suspend stops it, a resume or a restore goes on from where it stopped.
         */
        uint64_t uptime_ns;   /* accumulated up to up_since_ns */
        uint64_t up_since_ns; /* CLOCK_MONOTONIC when it last started counting; 0: stopped */
        uint64_t memory_seed; /* what its pages hold, for a save's page data */
        bool restored;        /* built from a saved state: a restored Linux, not a fresh boot */

        /* The guest's side of XenStore, once dom0 introduced it. */
        struct xs_conn *conn;
        struct hv_console *console; /* xenconsoled's pty for it, once introduced (hv-console.c) */
        bool booted;                /* feature nodes written, control/shutdown watched */
        sd_event_source *exit_timer;
        sd_event_source *ack_timer;
        sd_event_source *boot_defer;

        /* Its blkfront and netfront (hv-frontend.c), once booted. */
        struct hv_frontend *frontends;
        bool devices_watched;                       /* its device/ subtree is watched */
        bool devices_dirty;                         /* a change came while it could not run */
        sd_event_source *devices_defer;             /* the next look at its devices */
        uint8_t device_faults[_HV_DEVICE_TYPE_MAX]; /* by type: bits 1 << enum hv_device_fault */
        uint32_t next_port;                         /* event channels its frontends allocate */
        uint32_t next_gref;                         /* grant references they hand out */
};

/* A simulated loop device, /dev/loop<minor>. */
struct hv_loop {
        bool used;
        bool readonly;
        bool autoclear;  /* released while open: freed when the last backend lets go */
        unsigned opened; /* backends holding it open */
        uint64_t dev, ino, size;
};

/* A network interface of the host: a bridge, or a vif netback created. */
struct hv_netdev {
        struct hv_netdev *next; /* in ifindex order */
        uint32_t ifindex;
        char name[HV_IFNAME_SIZE];
        char master[HV_IFNAME_SIZE]; /* its bridge, "" if none */
        unsigned mtu;
        bool up;
        bool bridge;
        uint8_t mac[6];
};

struct hv_fault {
        uint32_t countdown; /* calls until the failing one (1 = the next); 0 = none */
        uint32_t count;     /* consecutive failing calls left */
        int error;          /* positive errno */
};

struct hv_client;

struct hypervisor {
        sd_event *event;
        struct xs_server *server;
        char *dir;
        char *socket_path;
        int lock_fd;
        int listen_fd;
        sd_event_source *listen_source;
        struct hv_client *clients;
        unsigned n_clients;
        uint8_t *buf; /* one message, HV_MSG_MAX bytes */

        struct hv_domain **domains; /* indexed by domid, DOMID_FIRST_RESERVED slots */
        unsigned n_domains;         /* dom0 included */
        uint32_t rover;             /* the last domid allocated */
        uint64_t total_kib;
        uint64_t used_kib; /* held by domains, dom0 included */
        unsigned nr_cpus;  /* physical cpus, 1..HV_CPUS_MAX */
        uint64_t next_mfn; /* fake host frames, never reused */

        uint64_t calls[HV_OP_SLOTS];
        struct hv_fault faults[HV_OP_SLOTS];

        /* The host's devices (hv-host.c). */
        struct hv_loop *loops; /* indexed by minor */
        unsigned n_loops;      /* slots allocated */
        struct hv_netdev *netdevs;
        uint32_t next_ifindex;

        /* dom0's blkback and netback (hv-backend.c), on a XenStore connection of their own. */
        struct xs_conn *dom0;
        struct hv_backend *backends;
        sd_event_source *backends_defer; /* a look at backends whose guest went away */
        uint8_t next_device_faults[_HV_DEVICE_TYPE_MAX]; /* for the next domain created */
};

/* hv-model.c: the domain table and what the hypercalls do to it. */

/* CLOCK_MONOTONIC in ns. */
uint64_t hv_now_ns(void);

/* Create dom0 and the empty table. */
int hv_model_init(struct hypervisor *hv);

/* Destroy every domain (dom0 included) and free the table. */
void hv_model_done(struct hypervisor *hv);

/* Memory not held by any domain, in KiB. */
uint64_t hv_free_kib(const struct hypervisor *hv);

/* The domain with domid, or NULL. */
struct hv_domain *hv_domain_get(struct hypervisor *hv, uint32_t domid);

/* XEN_DOMCTL_createdomain plus the build: a paused domain, or -ENOMEM/-EINVAL. */
int hv_domain_create(struct hypervisor *hv, const struct hv_req_create *req,
                     struct hv_domain **ret);

/* Toolstack pause; -EINVAL for dom0, -EOVERFLOW past 255 as Xen. */
int hv_domain_pause(struct hv_domain *d);

/* Toolstack unpause; -EINVAL when not paused. The first unpause boots the guest. */
int hv_domain_unpause(struct hv_domain *d);

/* The shutdown flag with a reason; the first reason stays (Xen's shutdown_code). */
int hv_domain_shutdown(struct hv_domain *d, enum shutdown_reason why);

/* Destroy: @releaseDomain, the guest's connection closed, memory freed, the domid free. */
int hv_domain_destroy(struct hv_domain *d);

/* The guest domain holding handle that is not dying; 0 if none. */
uint32_t hv_find_live_handle(const struct hypervisor *hv, const uint8_t handle[16]);

/* XEN_DOMCTL_setdomainhandle: the domain's uuid replaced; -EINVAL for dom0. */
int hv_domain_set_handle(struct hv_domain *d, const uint8_t handle[16]);

/* XEN_DOMCTL_max_mem: the most memory the guest may hold (it keeps what it has). */
int hv_domain_set_memory(struct hv_domain *d, uint64_t max_kib);

/* The guest's balloon driver: to target, within its maximum and the host's free memory. */
void hv_domain_balloon(struct hv_domain *d, uint64_t target_kib);

/* Check n against the maximum: which vcpus are online is the guest's (hv_domain_vcpu_online). */
int hv_domain_set_vcpus(struct hv_domain *d, unsigned n);

/* The guest brings a vcpu up or down (vcpu0 stays up). */
void hv_domain_vcpu_online(struct hv_domain *d, unsigned vcpu, bool online);

/* One row of the domain list. */
void hv_domain_info(struct hv_domain *d, struct hv_dominfo *info);

/* PHYSINFO: the host's cpus, memory and version. */
void hv_physinfo(const struct hypervisor *hv, struct hv_rep_physinfo *info);

/* VCPU_INFO: one vcpu's state and affinities; -EINVAL for a vcpu beyond max_vcpus. */
int hv_domain_vcpu_info(struct hv_domain *d, uint32_t vcpu, struct hv_rep_vcpu_info *info);

/* VCPU_PIN: new hard and/or soft affinity; -EINVAL (nothing changed) as sim/hv-proto.h says. */
int hv_domain_vcpu_pin(struct hv_domain *d, const struct hv_req_vcpu_pin *req);

/* SAVE: the state of a guest shut down with reason suspend; -EINVAL otherwise. */
int hv_domain_save(struct hv_domain *d, struct hv_guest_state *st);

/* RESTORE: a paused domain holding the saved guest, or -EINVAL/-ENOMEM and nothing made. */
int hv_domain_restore(struct hypervisor *hv, const struct hv_req_restore *req,
                      struct hv_domain **ret);

/* RESUME: a domain shut down with reason suspend runs again in place; -EINVAL otherwise. */
int hv_domain_resume(struct hv_domain *d);

/* hv-guest.c: what the guest does on its own. */

/* The guest booted (first unpause): arm its script. */
void hv_guest_start(struct hv_domain *d);

/* The guest went back on the cpu: act on what came due while it was paused. */
void hv_guest_resume(struct hv_domain *d);

/* The guest's clock, up to now. */
uint64_t hv_guest_uptime_ns(const struct hv_domain *d);

/* The guest shut down: its clock stops. */
void hv_guest_halt(struct hv_domain *d);

/* Its suspend hypercall returned "cancelled": clock and script go on, devices stay. */
void hv_guest_unsuspend(struct hv_domain *d);

/* Stop the guest's timers and close its XenStore connection. */
void hv_guest_stop(struct hv_domain *d);

/* Run-time injection of enum hv_guest_action. */
int hv_guest_action(struct hv_domain *d, enum hv_guest_action a);

/* The server's INTRODUCE hook: open the guest's connection. */
int hv_guest_on_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                          void *userdata);

/* hv-console.c: xenconsoled's pty for each introduced domain, and the guest's console. */

/* Open the domain's pty and write its path to console/tty; 0 if there is one already. */
int hv_console_open(struct hv_domain *d);

/* The guest prints on its console (nothing if it has none). */
_printf_(2, 3) void hv_console_printf(struct hv_domain *d, const char *fmt, ...);

/* Close the domain's pty (a client reading it sees its end). */
void hv_console_close(struct hv_domain *d);

/* hv-socket.c: hypervisor.socket. */

/* Lock DIR, bind and listen. */
int hv_socket_listen(struct hypervisor *hv);

/* Close every client and the listening socket. */
void hv_socket_close(struct hypervisor *hv);

/* hv-host.c: the host's loop devices, bridges and network interfaces. */

/* Free every loop device and interface. */
void hv_host_done(struct hypervisor *hv);

/* LOOP_ATTACH: a loop device for a regular file, or a block device as it is. */
int hv_loop_attach(struct hypervisor *hv, const struct hv_req_loop_attach *req,
                   struct hv_rep_loop_attach *rep);

/* LOOP_RELEASE: free the loop device if it still serves that file (0 in every other case). */
int hv_loop_release(struct hypervisor *hv, const struct hv_req_loop_release *req);

/* A backend opens /dev/loop<minor>: -ENXIO if it serves nothing. */
int hv_loop_open(struct hypervisor *hv, uint32_t minor);

/* The backend lets go of it: a loop device released meanwhile goes now. */
void hv_loop_close(struct hypervisor *hv, uint32_t minor);

/* The interface named name, or NULL. */
struct hv_netdev *hv_netdev_find(struct hypervisor *hv, const char *name);

/* netback's new interface: down, MAC fe:ff:ff:ff:ff:ff, MTU 1500; -EEXIST if the name is taken. */
int hv_netdev_new_vif(struct hypervisor *hv, const char *name, struct hv_netdev **ret);

/* The interface goes (out of its bridge with it). */
void hv_netdev_free(struct hypervisor *hv, struct hv_netdev *n);

/* VIF_PLUG: 0 and the MTU applied, a negative errno, or HV_VIF_ABSENT: no such interface yet. */
int hv_vif_plug(struct hypervisor *hv, const struct hv_req_vif_plug *req,
                struct hv_rep_vif_plug *rep);

/* VIF_UNPLUG: down and out of its bridge; 0 if there is no such interface. */
int hv_vif_unplug(struct hypervisor *hv, const struct hv_req_vif_unplug *req);

/* HOST_LIST: one batch of loop devices or interfaces into out; its length in *len_r. */
int hv_host_list(struct hypervisor *hv, const struct hv_req_host_list *req, uint8_t *out,
                 size_t *len_r);

/* hv-xenbus.c: XenStore as both ends of a xenbus device use it. */

/* dir/name into buf; NULL if it does not fit. */
char *hv_xs_path(char *buf, size_t size, const char *dir, const char *name);

/* Whether path exists and c may read it. */
bool hv_xs_exists(struct xs_conn *c, const char *path);

/* A node holding a decimal no larger than max; -ENOENT, -EACCES or -EINVAL. */
int hv_xs_read_uint(struct xs_conn *c, const char *path, unsigned max, unsigned *ret);

/* dir/state as xenbus_read_driver_state: HV_XB_UNKNOWN when missing or not a number. */
int hv_xs_read_state(struct xs_conn *c, const char *dir);

/* Write a formatted value. */
_printf_(3, 4) int hv_xs_printf(struct xs_conn *c, const char *path, const char *fmt, ...);

/*
 * xenbus_switch_state: write dir/state = new unless *state already is new, and never
 * recreate a state node that is gone (the device is being torn down): -ENOENT then.
 */
int hv_xs_switch_state(struct xs_conn *c, const char *dir, int *state, int new_state);

/* "vbd", "vif"; NULL otherwise. */
const char *hv_device_type_to_string(enum hv_device_type t);

/* hv-backend.c: dom0's blkback and netback, driven by XenStore only. */

/* Open dom0's connection and watch /local/domain/0/backend, as the dom0 kernel's xenbus. */
int hv_backends_init(struct hypervisor *hv);

/* Free every backend, writing nothing: the host is going away. */
void hv_backends_done(struct hypervisor *hv);

/* A domain was destroyed: its backends look at their frontends again, from the event loop. */
void hv_backends_domain_gone(struct hypervisor *hv);

/* hv-frontend.c: the guest's blkfront and netfront, and the device faults. */

/* The guest booted: watch its device/ subtree and connect what it finds there. */
void hv_frontends_start(struct hv_domain *d);

/* Look at every frontend again from the event loop (the guest runs again, or was told to). */
void hv_frontends_kick(struct hv_domain *d);

/* Forget every frontend (the guest's connection is closing). */
void hv_frontends_stop(struct hv_domain *d);

/* DEVICE_FAULT. */
int hv_device_fault(struct hypervisor *hv, const struct hv_req_device_fault *req);

/* Whether the domain's drivers of type t were told to misbehave with kind k. */
static inline bool hv_domain_has_device_fault(const struct hv_domain *d, enum hv_device_type t,
                                              enum hv_device_fault k)
{
        return d && t > HV_DEVICE_ANY && t < _HV_DEVICE_TYPE_MAX &&
               (d->device_faults[t] & (1u << k));
}
