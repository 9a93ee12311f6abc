/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-proto.h — the request/reply protocol of xensup-sim's hypervisor.socket.
 *
 * Included by both sides: the simulated hypervisor (sim/hv-*.c) and its
 * client, the sim backend (builders/builder-sim.c).
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket, DIR/hypervisor.socket. One
 * packet is one message, so there is no framing to get wrong: a message is a
 * struct hv_header followed by exactly header.len bytes of body, never more
 * than HV_MSG_MAX bytes in all. The client sends one request and reads one
 * reply carrying the same op and seq before it sends the next.
 *
 * Checks, on both sides, before a body is looked at: the packet was not
 * truncated (MSG_TRUNC), is at least a header, magic and version match,
 * header.len equals the packet's length minus the header, the op is known
 * and header.len is the exact size the op's body has (the LIST reply: its
 * fixed part plus n entries, n no more than asked for nor HV_LIST_BATCH; the
 * same for HOST_LIST with HV_HOST_BATCH).
 * Strings are fixed arrays that must hold a NUL. A request that fails any
 * of these checks gets a reply with result -EBADMSG (none if the packet was
 * truncated or shorter than a header) and the connection is closed. A
 * well-formed request with values out of range gets -EINVAL and the
 * connection stays; a reply that fails the client's checks makes the client
 * close the connection, so a late reply is never taken for the next one.
 *
 * All integers are in host byte order: both ends run on the same host.
 *
 * Requests and their bodies (reply bodies in brackets; result is 0 or a
 * negative errno, and a failed reply has an empty body):
 *   STATS        none                  [struct hv_rep_stats]
 *   CREATE       struct hv_req_create  [struct hv_rep_create]
 *   UNPAUSE      struct hv_req_dom     []
 *   PAUSE        struct hv_req_dom     []
 *   SHUTDOWN     struct hv_req_dom     [] value = enum shutdown_reason
 *   DESTROY      struct hv_req_dom     []
 *   LIST         struct hv_req_list    [struct hv_rep_list + n struct hv_dominfo]
 *   SET_MEMORY   struct hv_req_dom     [] value64 = new maximum in KiB
 *   SET_VCPUS    struct hv_req_dom     [] value = online vcpus
 *   DUMPCORE     struct hv_req_dom     [struct hv_rep_dumpcore]
 *   GUEST_ACTION struct hv_req_dom     [] value = enum hv_guest_action
 *   FAULT        struct hv_req_fault   []
 *   SET_HANDLE   struct hv_req_handle  []
 *   FIND_HANDLE  struct hv_req_handle  struct hv_rep_find
 *   LOOP_ATTACH  struct hv_req_loop_attach  [struct hv_rep_loop_attach]
 *   LOOP_RELEASE struct hv_req_loop_release []
 *   VIF_PLUG     struct hv_req_vif_plug     [struct hv_rep_vif_plug]
 *   VIF_UNPLUG   struct hv_req_vif_unplug   []
 *   HOST_LIST    struct hv_req_host_list    [struct hv_rep_host_list + n entries]
 *   DEVICE_FAULT struct hv_req_device_fault []
 *   SAVE         struct hv_req_dom          [struct hv_guest_state]
 *   RESTORE      struct hv_req_restore      [struct hv_rep_create]
 *   RESUME       struct hv_req_dom          []
 *   PHYSINFO     none                       [struct hv_rep_physinfo]
 *   VCPU_INFO    struct hv_req_dom          [struct hv_rep_vcpu_info] value = the vcpu
 *   VCPU_PIN     struct hv_req_vcpu_pin     []
 *
 * The host's cpus and a domain's vcpus, what xc_physinfo, xc_vcpu_getinfo with
 * xc_vcpu_getaffinity, and xc_vcpu_setaffinity do (cpu maps are struct hv_cpumap: bit n
 * of bits[n / 64] is host cpu n):
 *   PHYSINFO      the host: its cpus (xensup-sim --cpus), memory total and free (as
 *                 STATS), the hypervisor's version ("sim-" and HV_PROTO_VERSION) and
 *                 what it builds, as xl info shows them.
 *   VCPU_INFO     one vcpu of a domain, online or not: its state, the host cpu it is
 *                 on, its cpu time, its hard and soft affinity, and the domain's
 *                 max_vcpu_id, so a client asks for 0 to max_vcpu_id. -EINVAL for a
 *                 vcpu beyond it, as XEN_DOMCTL_getvcpuinfo.
 *   VCPU_PIN      XEN_DOMCTL_setvcpuaffinity: the hard map, the soft map or both (which
 *                 says) replace the vcpu's. -EINVAL for a vcpu beyond max_vcpu_id, a
 *                 which naming neither or something else, a given map naming a cpu the
 *                 host does not have (Xen would mask it: refused here, so the client can
 *                 say which cpu), or a hard map with no cpu; nothing changes then. A soft
 *                 map may be empty (no preference). dom0's vcpus may be pinned too.
 *
 * Save and restore, what xc_domain_save/xc_domain_restore/xc_domain_resume do
 * to a domain (the stream itself is the sim backend's: builders/builder-sim.c):
 *   SAVE          a domain shut down with reason suspend hands over its
 *                 guest's state, everything a restored guest needs to go on
 *                 where it was; the domain stays as it is. -EINVAL for a
 *                 domain that is not suspended (or dom0, or dying).
 *   RESTORE       a new paused domain with the request's uuid, name and
 *                 limits, holding the saved guest: once unpaused it goes on
 *                 from its saved clock and script, reconnects to whatever
 *                 backends its frontend directories now name and watches
 *                 its control nodes again, without writing control/feature-*
 *                 (a restored Linux does not). The reply is CREATE's. -EINVAL
 *                 for a state that is not one (a bad version, a type other
 *                 than the request's, vcpus beyond maxvcpus); -ENOMEM for
 *                 more memory than maxmem_kib or the host has free.
 *   RESUME        a domain shut down with reason suspend runs again in place
 *                 (xc_domain_resume fast=1: its suspend was "cancelled"), its
 *                 devices still connected; XenStore is not told (the
 *                 toolstack's XS_RESUME does that). -EINVAL otherwise.
 *
 * The host's side of devices, what builder_disk_attach() and friends do on a
 * real dom0 (builders/builder.h):
 *   LOOP_ATTACH   a regular file (mode S_IFREG) gets the lowest free minor
 *                 of major 7, recording the file's dev, ino, size and
 *                 readonly; a block device (S_IFBLK) is used as it is: the
 *                 reply is its own rdev, no loop. Anything else is -EINVAL.
 *   LOOP_RELEASE  frees the minor if it still serves that dev and ino; a
 *                 minor that is free or serves another file is left alone
 *                 (result 0). One a backend holds open is freed when the
 *                 backend lets go of it (the kernel's autoclear).
 *   VIF_PLUG      vif-bridge's "online" on netback's interface: renamed (if
 *                 rename is not empty), MTU (mtu, or the bridge's when 0),
 *                 enslaved to bridge, up; the reply is the MTU applied. The
 *                 reply waits up to HV_VIF_WAIT_MS for the interface to
 *                 appear. -ENODEV: no such interface, or no such bridge;
 *                 -EEXIST: rename is taken; -EINVAL: a bad name or MTU.
 *                 Nothing is changed unless everything succeeds.
 *   VIF_UNPLUG    down and out of its bridge; 0 if the interface is gone.
 *   HOST_LIST     the loop devices (from minor first) or the netdevs,
 *                 bridges included (from ifindex first), at most max (1 to
 *                 HV_HOST_BATCH) in increasing order; n in the reply.
 *   DEVICE_FAULT  misbehaving drivers, for a domain, or for the next domain
 *                 created when domid is 0 (see enum hv_device_fault), of one
 *                 type or both. -ESRCH: no such domain; -EINVAL: a bad kind
 *                 or type, or DETACH without a domid and a type; -ENODEV:
 *                 DETACH of a device the guest's frontend does not drive.
 *
 * New ops go at the end of enum hv_op: a number once given is never reused
 * nor moved, so STATS counters and FAULT requests keep their meaning.
 */
#pragma once

#include "common/vocabulary.h"
#include <stdint.h>

/*
 * HV_PROTO_VERSION changes with any message: 2 added the device ops (HV_OP_SLOTS 32), 3 save
 * and restore, 4 the host's cpus and the domains' vcpus (PHYSINFO, VCPU_INFO, VCPU_PIN).
 */
#define HV_PROTO_MAGIC   0x56485358u /* "XSHV" */
#define HV_PROTO_VERSION 4
#define HV_SOCKET_NAME   "hypervisor.socket"
#define HV_MSG_MAX       (64 * 1024)     /* header included */
#define HV_LIST_BATCH    256             /* most entries in one LIST reply */
#define HV_NAME_MAX      DOMAIN_NAME_MAX /* a domain's name for logs, excluding the NUL */
#define HV_OP_SLOTS      32              /* size of the per-op counter array in STATS */
#define HV_HOST_BATCH    256             /* most entries in one HOST_LIST reply */
#define HV_IFNAME_SIZE   16              /* IFNAMSIZ: an interface name and its NUL */
#define HV_VIF_WAIT_MS   500             /* how long VIF_PLUG waits for its interface */
#define HV_LOOP_MAJOR    7
#define HV_VCPUS_BITMAP  16   /* bytes of a vcpu bitmap: VCPUS_MAX bits */
#define HV_CPUS_MAX      1024 /* most host cpus a cpu map names (BUILDER_CPUS_MAX) */

enum hv_op {
        HV_OP_STATS = 1,
        HV_OP_CREATE,
        HV_OP_UNPAUSE,
        HV_OP_PAUSE,
        HV_OP_SHUTDOWN,
        HV_OP_DESTROY,
        HV_OP_LIST,
        HV_OP_SET_MEMORY,
        HV_OP_SET_VCPUS,
        HV_OP_DUMPCORE,
        HV_OP_GUEST_ACTION,
        HV_OP_FAULT,
        HV_OP_SET_HANDLE,
        HV_OP_FIND_HANDLE,
        HV_OP_LOOP_ATTACH,
        HV_OP_LOOP_RELEASE,
        HV_OP_VIF_PLUG,
        HV_OP_VIF_UNPLUG,
        HV_OP_HOST_LIST,
        HV_OP_DEVICE_FAULT,
        HV_OP_SAVE,
        HV_OP_RESTORE,
        HV_OP_RESUME,
        HV_OP_PHYSINFO,
        HV_OP_VCPU_INFO,
        HV_OP_VCPU_PIN,
        _HV_OP_MAX,
};

/* What a simulated guest can be told to do at run time. */
enum hv_guest_action {
        HV_GUEST_POWEROFF = 1, /* shut down now, as if the script said so */
        HV_GUEST_REBOOT,
        HV_GUEST_CRASH,
        HV_GUEST_WATCHDOG,
        HV_GUEST_SOFT_RESET,
        HV_GUEST_HANG,       /* ignore control/shutdown from now on */
        HV_GUEST_OBEY,       /* answer control/shutdown from now on */
        HV_GUEST_HOSTILE,    /* write hostile values into its own XenStore subtree */
        HV_GUEST_ZOMBIE,     /* when destroyed, stay listed as dying for a second, as a
                                domain whose pages a backend still maps */
        HV_GUEST_NO_SUSPEND, /* acknowledge control/shutdown = "suspend" (clear it) but never
                                suspend, as a guest whose freeze fails */
        _HV_GUEST_ACTION_MAX,
};

struct hv_header {
        uint32_t magic;   /* HV_PROTO_MAGIC */
        uint16_t version; /* HV_PROTO_VERSION */
        uint16_t op;      /* enum hv_op */
        uint32_t seq;     /* chosen by the client, echoed in the reply */
        int32_t result;   /* requests: 0; replies: 0 or a negative errno */
        uint32_t len;     /* bytes of body after this header */
        uint32_t reserved;
};

/* The simulator's guest script (the `sim { }` section). */
struct hv_script {
        uint8_t present;     /* 0: the guest runs until told */
        uint8_t exit;        /* enum shutdown_reason it exits with after run_ms */
        uint8_t on_shutdown; /* enum sim_shutdown_answer */
        uint8_t reserved;
        uint32_t run_ms; /* 0 = run until told */
};

struct hv_req_create {
        uint8_t uuid[16];
        char name[HV_NAME_MAX + 8]; /* NUL-terminated, for logs only */
        uint32_t type;              /* enum domain_type */
        uint32_t ssidref;
        uint64_t memory_kib;
        uint64_t maxmem_kib;
        uint32_t vcpus;
        uint32_t maxvcpus;
        struct hv_script script;
};

struct hv_rep_create {
        uint32_t domid;
        uint32_t store_port;
        uint64_t store_mfn;
        uint32_t console_port;
        uint32_t reserved;
        uint64_t console_mfn;
};

struct hv_req_dom {
        uint32_t domid;
        uint32_t value;
        uint64_t value64;
};

/* FIND_HANDLE: the live (not dying) domain holding a uuid, 0 if none (request: hv_req_handle). */
struct hv_rep_find {
        uint32_t domid;
        uint32_t reserved;
};

/* SET_HANDLE: XEN_DOMCTL_setdomainhandle, the domain's uuid replaced. */
struct hv_req_handle {
        uint32_t domid;
        uint32_t reserved;
        uint8_t handle[16]; /* the new uuid, as xen_domain_handle_t */
};

struct hv_req_list {
        uint32_t first_domid; /* the first domid to report (as xc_domain_getinfolist) */
        uint32_t max;         /* at most this many entries, 1..HV_LIST_BATCH */
};

#define HV_DOMINF_DYING    (1u << 0)
#define HV_DOMINF_SHUTDOWN (1u << 1)
#define HV_DOMINF_PAUSED   (1u << 2)
#define HV_DOMINF_RUNNING  (1u << 3)

struct hv_dominfo {
        uint32_t domid;
        uint32_t flags;           /* HV_DOMINF_* */
        uint32_t shutdown_reason; /* enum shutdown_reason, valid with HV_DOMINF_SHUTDOWN */
        uint32_t max_vcpu_id;
        uint32_t online_vcpus;
        uint32_t ssidref;
        uint8_t handle[16];
        uint64_t mem_kib;
        uint64_t max_mem_kib;
        uint64_t cpu_time_ns;
};

struct hv_rep_list {
        uint32_t n; /* entries that follow, in increasing domid order */
        uint32_t reserved;
};

struct hv_rep_stats {
        uint32_t pid;     /* of xensup-sim, so tests can signal it */
        uint32_t domains; /* dom0 included */
        uint64_t total_kib;
        uint64_t free_kib;
        uint64_t calls[HV_OP_SLOTS]; /* requests received, by op (failed ones included) */
};

/* What the client writes to a core file, after a header line of its own. */
struct hv_rep_dumpcore {
        uint32_t domid;
        uint32_t online_vcpus;
        uint8_t handle[16];
        char name[HV_NAME_MAX + 8];
        uint64_t mem_kib;
        uint64_t cpu_time_ns;
        uint32_t shutdown; /* 1 if the shutdown flag is set */
        uint32_t shutdown_reason;
};

/*
 * FAULT: make the nth call of op from now on fail with -error, and the
 * count - 1 calls after it too. nth = 0 clears the op's fault. STATS, FAULT
 * and DEVICE_FAULT cannot be faulted. A faulted call does nothing (a faulted
 * LOOP_ATTACH attaches nothing, a faulted VIF_PLUG changes no interface).
 * error HV_FAULT_NO_REPLY instead: the call is done, and its reply is never
 * sent, as to a caller killed right after the hypervisor acted (a build
 * child killed between LOOP_CONFIGURE and its next step); the caller waits
 * until its own timeout, or until it is killed.
 */
#define HV_FAULT_NO_REPLY 4096 /* above every errno */

struct hv_req_fault {
        uint32_t op;    /* enum hv_op */
        uint32_t nth;   /* 1 = the next call */
        int32_t error;  /* positive errno, or HV_FAULT_NO_REPLY */
        uint32_t count; /* consecutive failing calls, at least 1 */
};

/* LOOP_ATTACH: what builder_disk_attach() learnt from fstat() on the target. */
struct hv_req_loop_attach {
        uint64_t dev;  /* st_dev: the backing file's */
        uint64_t ino;  /* st_ino */
        uint64_t rdev; /* st_rdev, for a block device */
        uint64_t size; /* bytes: st_size, or the block device's size (0: unknown) */
        uint32_t mode; /* st_mode: S_IFREG gets a loop device, S_IFBLK is used as it is */
        uint32_t readonly;
};

struct hv_rep_loop_attach {
        uint32_t major; /* HV_LOOP_MAJOR for a loop device */
        uint32_t minor;
};

/* LOOP_RELEASE: the loop device and the file it should still serve. */
struct hv_req_loop_release {
        uint32_t minor;
        uint32_t reserved;
        uint64_t dev;
        uint64_t ino;
};

struct hv_req_vif_plug {
        char ifname[HV_IFNAME_SIZE]; /* netback's interface, vif<domid>.<devid> */
        char rename[HV_IFNAME_SIZE]; /* "": keep ifname */
        char bridge[HV_IFNAME_SIZE];
        uint32_t mtu; /* 0: the bridge's */
        uint32_t reserved;
};

struct hv_rep_vif_plug {
        uint32_t mtu; /* the MTU applied */
        uint32_t reserved;
};

struct hv_req_vif_unplug {
        char ifname[HV_IFNAME_SIZE];
};

enum hv_host_list_what {
        HV_HOST_LOOPS = 1, /* entries are struct hv_loop_info */
        HV_HOST_NETDEVS,   /* entries are struct hv_netdev_info */
};

struct hv_req_host_list {
        uint32_t what;  /* enum hv_host_list_what */
        uint32_t first; /* the first minor, or ifindex, to report */
        uint32_t max;   /* 1..HV_HOST_BATCH */
        uint32_t reserved;
};

struct hv_rep_host_list {
        uint32_t n; /* entries that follow, in increasing minor or ifindex order */
        uint32_t reserved;
};

#define HV_LOOP_READONLY  (1u << 0)
#define HV_LOOP_OPEN      (1u << 1) /* a backend holds it open */
#define HV_LOOP_AUTOCLEAR (1u << 2) /* released while open: goes with its last user */

struct hv_loop_info {
        uint32_t minor;
        uint32_t flags; /* HV_LOOP_* */
        uint64_t dev;   /* the backing file's st_dev and st_ino */
        uint64_t ino;
        uint64_t size; /* bytes */
};

#define HV_NETDEV_UP     (1u << 0)
#define HV_NETDEV_BRIDGE (1u << 1) /* a bridge of the host, not a port */

struct hv_netdev_info {
        uint32_t ifindex;
        uint32_t flags; /* HV_NETDEV_* */
        uint32_t mtu;
        uint32_t reserved;
        char name[HV_IFNAME_SIZE];
        char master[HV_IFNAME_SIZE]; /* the bridge it is enslaved to; "" if none */
        uint8_t mac[8];              /* 6 bytes used */
};

enum hv_device_type {
        HV_DEVICE_ANY = 0, /* for a fault: vbd and vif */
        HV_DEVICE_VBD,
        HV_DEVICE_VIF,
        _HV_DEVICE_TYPE_MAX,
};

/*
 * What a domain's device drivers can be made to do wrong. The first four
 * stay set on the domain (or wait for the next domain created when domid is
 * 0) until CLEAR; DETACH acts at once on a running guest.
 */
enum hv_device_fault {
        HV_DEVICE_FAULT_CLEAR = 1,   /* back to well-behaved drivers */
        HV_DEVICE_FAULT_NO_INITWAIT, /* no backend driver binds: no features, never state 2 */
        HV_DEVICE_FAULT_NO_CONNECT,  /* the guest's frontend never connects (stays at 1) */
        HV_DEVICE_FAULT_NO_CLOSE,    /* the guest's frontend ignores its backend closing */
        HV_DEVICE_FAULT_DETACH,      /* the guest closes frontend devid on its own: 5, then 6 */
        _HV_DEVICE_FAULT_MAX,
};

struct hv_req_device_fault {
        uint32_t kind;  /* enum hv_device_fault */
        uint32_t domid; /* 0: the next domain created (not for DETACH) */
        uint32_t type;  /* enum hv_device_type; DETACH needs VBD or VIF */
        uint32_t devid; /* DETACH: the device */
};

/*
 * SAVE's reply and RESTORE's payload: a simulated guest as it was when it suspended, what
 * a restored guest goes on from (what the pages and vcpu records of a libxc stream are to a
 * real one). The domain around it (its uuid, name, limits, event channels, cpu time) is the
 * new domain's own, as on Xen.
 */
#define HV_GUEST_STATE_VERSION 1

struct hv_guest_state {
        uint32_t version;                     /* HV_GUEST_STATE_VERSION */
        uint32_t type;                        /* enum domain_type it was built as */
        uint64_t mem_kib;                     /* the pages it held */
        uint64_t uptime_ns;                   /* how long it had been up: its script's clock */
        uint64_t memory_seed;                 /* what its pages hold (the stream's page data) */
        uint8_t vcpu_online[HV_VCPUS_BITMAP]; /* bit n: vcpu n was up; vcpu0 always is */
        struct hv_script script;              /* its sim { } script, going on */
        uint8_t ignore_shutdown;              /* hung: control/shutdown goes unanswered */
        uint8_t no_suspend;                   /* acknowledges a suspend request, never suspends */
        uint8_t device_faults[_HV_DEVICE_TYPE_MAX]; /* its drivers' faults, as hv_domain's */
        uint8_t reserved[3];                        /* 0 */
};

struct hv_req_restore {
        uint8_t uuid[16];
        char name[HV_NAME_MAX + 8]; /* NUL-terminated, for logs only */
        uint32_t type;              /* enum domain_type: the config's; must be the state's */
        uint32_t ssidref;
        uint64_t maxmem_kib; /* xc_domain_setmaxmem's limit: the state must fit it */
        uint32_t maxvcpus;   /* xc_domain_max_vcpus: every vcpu the state had up must exist */
        uint32_t reserved;
        struct hv_guest_state state;
};

/* A set of host cpus: bit n of bits[n / 64] is cpu n (struct builder_cpumap's layout). */
struct hv_cpumap {
        uint64_t bits[HV_CPUS_MAX / 64];
};

/* PHYSINFO: the host, as xc_physinfo and xc_version tell it (strings NUL-terminated). */
struct hv_rep_physinfo {
        uint32_t nr_cpus; /* 1..HV_CPUS_MAX */
        uint32_t nr_nodes;
        uint32_t cores_per_socket;
        uint32_t threads_per_core;
        uint32_t cpu_khz;
        uint32_t reserved;
        uint64_t total_kib;
        uint64_t free_kib;      /* no more than total_kib */
        char version[64];       /* "sim-4": "sim-" and HV_PROTO_VERSION */
        char capabilities[256]; /* xen_caps: "xen-3.0-x86_64 hvm-3.0-x86_32 ..." */
        char virt_caps[128];    /* "pv hvm hap", as xl info */
        char scheduler[32];     /* the default cpupool's: "credit2" */
};

#define HV_VCPU_ONLINE  (1u << 0)
#define HV_VCPU_RUNNING (1u << 1) /* on a host cpu now: the domain runs and the vcpu is up */
#define HV_VCPU_BLOCKED (1u << 2) /* up, not running (the domain is paused or shut down) */

/* VCPU_INFO's reply (request: hv_req_dom, value = the vcpu). */
struct hv_rep_vcpu_info {
        uint32_t vcpu;        /* the one asked for */
        uint32_t flags;       /* HV_VCPU_*; RUNNING and BLOCKED only with ONLINE, not both */
        uint32_t cpu;         /* the host cpu it runs or last ran on: one of its hard map */
        uint32_t max_vcpu_id; /* the domain's: vcpus are 0 to this */
        uint64_t cpu_time_ns; /* its share of the domain's cpu time (they add up to it) */
        struct hv_cpumap hard;
        struct hv_cpumap soft;
};

#define HV_PIN_HARD (1u << 0) /* hard is given */
#define HV_PIN_SOFT (1u << 1) /* soft is given */

/* VCPU_PIN: XEN_DOMCTL_setvcpuaffinity; a map which leaves out is not looked at. */
struct hv_req_vcpu_pin {
        uint32_t domid;
        uint32_t vcpu;
        uint32_t which; /* HV_PIN_*, at least one */
        uint32_t reserved;
        struct hv_cpumap hard;
        struct hv_cpumap soft;
};

_Static_assert(_HV_OP_MAX <= HV_OP_SLOTS, "counter array too small");
_Static_assert(HV_VCPUS_BITMAP * 8 >= VCPUS_MAX, "a bit per vcpu");
_Static_assert(sizeof(struct hv_guest_state) == 64, "guest state layout");
_Static_assert(sizeof(struct hv_rep_host_list) + HV_HOST_BATCH * sizeof(struct hv_netdev_info) +
                       sizeof(struct hv_header) <=
                   HV_MSG_MAX / 2,
               "a HOST_LIST batch must fit half a message");
_Static_assert(sizeof(struct hv_header) == 24, "header layout");
_Static_assert(HV_CPUS_MAX % 64 == 0 && sizeof(struct hv_cpumap) * 8 == HV_CPUS_MAX,
               "a bit per host cpu");
_Static_assert(sizeof(struct hv_rep_physinfo) == 520, "physinfo layout");
_Static_assert(sizeof(struct hv_rep_vcpu_info) == 24 + 2 * sizeof(struct hv_cpumap),
               "vcpu info layout");
_Static_assert(sizeof(struct hv_req_vcpu_pin) == 16 + 2 * sizeof(struct hv_cpumap),
               "vcpu pin layout");
_Static_assert(sizeof(struct hv_rep_list) + HV_LIST_BATCH * sizeof(struct hv_dominfo) +
                       sizeof(struct hv_header) <=
                   HV_MSG_MAX,
               "a LIST batch must fit a message");

/* The body size a request of op must have; -1 for an unknown op. */
static inline long hv_req_size(uint16_t op)
{
        switch (op) {
        case HV_OP_STATS:
        case HV_OP_PHYSINFO:
                return 0;
        case HV_OP_CREATE:
                return sizeof(struct hv_req_create);
        case HV_OP_VCPU_PIN:
                return sizeof(struct hv_req_vcpu_pin);
        case HV_OP_LIST:
                return sizeof(struct hv_req_list);
        case HV_OP_FAULT:
                return sizeof(struct hv_req_fault);
        case HV_OP_SET_HANDLE:
        case HV_OP_FIND_HANDLE:
                return sizeof(struct hv_req_handle);
        case HV_OP_LOOP_ATTACH:
                return sizeof(struct hv_req_loop_attach);
        case HV_OP_LOOP_RELEASE:
                return sizeof(struct hv_req_loop_release);
        case HV_OP_VIF_PLUG:
                return sizeof(struct hv_req_vif_plug);
        case HV_OP_VIF_UNPLUG:
                return sizeof(struct hv_req_vif_unplug);
        case HV_OP_HOST_LIST:
                return sizeof(struct hv_req_host_list);
        case HV_OP_DEVICE_FAULT:
                return sizeof(struct hv_req_device_fault);
        case HV_OP_RESTORE:
                return sizeof(struct hv_req_restore);
        case HV_OP_UNPAUSE:
        case HV_OP_PAUSE:
        case HV_OP_SHUTDOWN:
        case HV_OP_DESTROY:
        case HV_OP_SET_MEMORY:
        case HV_OP_SET_VCPUS:
        case HV_OP_DUMPCORE:
        case HV_OP_GUEST_ACTION:
        case HV_OP_SAVE:
        case HV_OP_RESUME:
        case HV_OP_VCPU_INFO:
                return sizeof(struct hv_req_dom);
        default:
                return -1;
        }
}

/* The body size a successful reply of op must have (LIST: its fixed part); -1 if unknown. */
static inline long hv_rep_size(uint16_t op)
{
        switch (op) {
        case HV_OP_STATS:
                return sizeof(struct hv_rep_stats);
        case HV_OP_CREATE:
        case HV_OP_RESTORE:
                return sizeof(struct hv_rep_create);
        case HV_OP_SAVE:
                return sizeof(struct hv_guest_state);
        case HV_OP_LIST:
                return sizeof(struct hv_rep_list);
        case HV_OP_DUMPCORE:
                return sizeof(struct hv_rep_dumpcore);
        case HV_OP_FIND_HANDLE:
                return sizeof(struct hv_rep_find);
        case HV_OP_LOOP_ATTACH:
                return sizeof(struct hv_rep_loop_attach);
        case HV_OP_VIF_PLUG:
                return sizeof(struct hv_rep_vif_plug);
        case HV_OP_HOST_LIST:
                return sizeof(struct hv_rep_host_list);
        case HV_OP_PHYSINFO:
                return sizeof(struct hv_rep_physinfo);
        case HV_OP_VCPU_INFO:
                return sizeof(struct hv_rep_vcpu_info);
        case HV_OP_UNPAUSE:
        case HV_OP_PAUSE:
        case HV_OP_SHUTDOWN:
        case HV_OP_DESTROY:
        case HV_OP_SET_MEMORY:
        case HV_OP_SET_VCPUS:
        case HV_OP_GUEST_ACTION:
        case HV_OP_FAULT:
        case HV_OP_SET_HANDLE:
        case HV_OP_LOOP_RELEASE:
        case HV_OP_VIF_UNPLUG:
        case HV_OP_DEVICE_FAULT:
        case HV_OP_RESUME:
        case HV_OP_VCPU_PIN:
                return 0;
        default:
                return -1;
        }
}

/* Whether a successful reply of op is its fixed part plus entries (LIST, HOST_LIST). */
static inline int hv_rep_has_entries(uint16_t op)
{
        return op == HV_OP_LIST || op == HV_OP_HOST_LIST;
}

/* Whether a string field holds its NUL: a request without one is malformed. */
#define HV_STRING_OK(field) (__builtin_memchr((field), 0, sizeof(field)) != NULL)
