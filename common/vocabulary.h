/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vocabulary.h — the words every module speaks: guest types, shutdown
 * reasons, on_* actions, domain names, domid and memory units. config/,
 * layout/, builders/, sim/ and supervisor/ all use these; none re-declares
 * them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Xen's first reserved domid: guests are 1..0x7fef. xen.h has the same name and value;
 * files that include libxenctrl include it first (system headers before ours).
 */
#ifndef DOMID_FIRST_RESERVED
#define DOMID_FIRST_RESERVED 0x7ff0U
#endif

/* Largest vcpus/maxvcpus accepted (Xen's HVM_MAX_VCPUS). */
#define VCPUS_MAX 128

/* Bytes of a domain name, excluding the NUL. */
#define DOMAIN_NAME_MAX 64

#define KIB_PER_MIB 1024ULL

/* MiB to KiB, as configs give memory and the hypervisor takes it. */
static inline uint64_t mib_to_kib(uint64_t mib)
{
        return mib * KIB_PER_MIB;
}

enum domain_type {
        DOMAIN_TYPE_PV,
        DOMAIN_TYPE_PVH,
        DOMAIN_TYPE_HVM, /* config_load_file refuses it (no device model); builders still name it */
        _DOMAIN_TYPE_MAX,
        _DOMAIN_TYPE_INVALID = -1, /* makes the enum signed, so "< 0" works on from_string */
};

/* Why a domain stopped, as the hypervisor reports it (SHUTDOWN_* in sched.h). */
enum shutdown_reason {
        SHUTDOWN_REASON_POWEROFF,
        SHUTDOWN_REASON_REBOOT,
        SHUTDOWN_REASON_SUSPEND,
        SHUTDOWN_REASON_CRASH,
        SHUTDOWN_REASON_WATCHDOG,
        SHUTDOWN_REASON_SOFT_RESET,
        _SHUTDOWN_REASON_MAX,
        SHUTDOWN_REASON_NONE = -1,
};

/* What to do when a domain stops (xl.cfg's on_* values). */
enum domain_action {
        ACTION_DESTROY,
        ACTION_RESTART,
        ACTION_PRESERVE,
        ACTION_RENAME_RESTART,
        ACTION_COREDUMP_DESTROY,
        ACTION_COREDUMP_RESTART,
        ACTION_SOFT_RESET,
        _ACTION_MAX,
        _ACTION_INVALID = -1, /* makes the enum signed, so "< 0" works on from_string */
};

/* How a simulated guest answers a control/shutdown request. */
enum sim_shutdown_answer {
        SIM_SHUTDOWN_OBEY,
        SIM_SHUTDOWN_IGNORE,
        _SIM_SHUTDOWN_MAX,
        _SIM_SHUTDOWN_INVALID = -1, /* signed, so "< 0" works on from_string */
};

/* "pv", "pvh", "hvm"; NULL if out of range. */
const char *domain_type_to_string(enum domain_type t);

/* Parse a type name; -1 if unknown. */
enum domain_type domain_type_from_string(const char *s);

/* "destroy", "rename-restart", ...; NULL if out of range. */
const char *domain_action_to_string(enum domain_action a);

/* Parse an action name; -1 if unknown. */
enum domain_action domain_action_from_string(const char *s);

/* "poweroff", "soft_reset", ... and "none" for SHUTDOWN_REASON_NONE. */
const char *shutdown_reason_to_string(enum shutdown_reason r);

/* Parse a reason name; SHUTDOWN_REASON_NONE if unknown. */
enum shutdown_reason shutdown_reason_from_string(const char *s);

/* True when the name is 1..DOMAIN_NAME_MAX chars of [A-Za-z0-9_.-]. */
bool domain_name_is_valid(const char *name);

/* "obey", "ignore"; NULL if out of range. */
const char *sim_shutdown_answer_to_string(enum sim_shutdown_answer a);

/* Parse a simulated guest's answer; -1 if unknown. */
enum sim_shutdown_answer sim_shutdown_answer_from_string(const char *s);
