/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sim-dbus.c — org.xensup.supervisor1.Simulator on /org/xensup/supervisor1,
 * exported only with --hypervisor=sim: scripted guest actions, injected
 * hypervisor faults and the simulated host's counters, for tests and demos.
 */
#include <errno.h>
#include <string.h>

#include "builders/builder-sim.h"
#include "common/macros.h"

#include "supervisor/bus-internal.h"
#include "supervisor/bus.h"
#include "supervisor/context.h"
#include "supervisor/domain-table.h"

static int method_sim_guest_action(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_free_ char *err = NULL;
        struct manager *m = userdata;
        const char *key, *action;
        struct domain *d;
        int a, r;

        r = sd_bus_message_read(msg, "ss", &key, &action);
        if (r < 0)
                return r;
        a = builder_sim_guest_action_from_string(action);
        if (a < 0)
                return sd_bus_error_setf(
                    error, BUS_ERROR_INVALID_ARGUMENT,
                    "unknown guest action '%s' (allowed: poweroff, reboot, "
                    "crash, watchdog, soft_reset, hang, obey, hostile, zombie, "
                    "no_suspend)",
                    action);
        r = bus_authorize(m, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        d = manager_find_domain(m, key);
        if (!d)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_DOMAIN, "no such domain: %s",
                                         key);
        if (!d->has_domid)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_STATE,
                                         "domain %s is %s: there is no guest to %s", d->name,
                                         domain_state_to_string(d->state), action);
        r = builder_sim_guest_action(m->builder, d->domid, (enum hv_guest_action)a, &err);
        if (r < 0)
                return bus_reply_outcome(
                    error, r, &(struct sup_error){ .layer = LAYER_HYPERVISOR, .message = err });
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_sim_inject_fault(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_free_ char *err = NULL;
        struct manager *m = userdata;
        uint32_t nth, errnum, count;
        const char *op;
        int o, r;

        r = sd_bus_message_read(msg, "suuu", &op, &nth, &errnum, &count);
        if (r < 0)
                return r;
        o = builder_sim_op_from_string(op);
        if (o < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "unknown hypervisor operation '%s'", op);
        if (errnum == 0 || errnum > 4095)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
                                         "errno %u out of range (1..4095)", errnum);
        r = bus_authorize(m, msg, POLKIT_ACTION_MANAGE, error, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* polkit is asked: the call comes back with its answer */
        r = builder_sim_fault(m->builder, (enum hv_op)o, nth, (int)errnum, count, &err);
        if (r < 0)
                return bus_reply_outcome(
                    error, r, &(struct sup_error){ .layer = LAYER_HYPERVISOR, .message = err });
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_sim_get_stats(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *err = NULL;
        struct manager *m = userdata;
        struct builder_sim_stats st;
        int r;

        r = builder_sim_stats(m->builder, &st, &err);
        if (r < 0)
                return bus_reply_outcome(
                    error, r, &(struct sup_error){ .layer = LAYER_HYPERVISOR, .message = err });
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "uutt", (uint32_t)st.pid, st.domains, st.total_kib,
                                  st.free_kib);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{st}");
        if (r < 0)
                return r;
        for (unsigned op = 0; op < HV_OP_SLOTS; op++) {
                const char *name = builder_sim_op_to_string((enum hv_op)op);

                if (!name)
                        continue;
                r = sd_bus_message_append(reply, "{st}", name, st.calls[op]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable bus_sim_vtable[] = {
        SD_BUS_VTABLE_START(SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GuestAction", SD_BUS_ARGS("s", name_or_uuid, "s", action),
                                SD_BUS_NO_RESULT, method_sim_guest_action,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
            "InjectFault", SD_BUS_ARGS("s", operation, "u", nth, "u", errno_value, "u", count),
            SD_BUS_NO_RESULT, method_sim_inject_fault, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
            "GetStats", SD_BUS_NO_ARGS,
            SD_BUS_RESULT("u", pid, "u", domains, "t", total_kib, "t", free_kib, "a{st}", calls),
            method_sim_get_stats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
