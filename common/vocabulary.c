/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "common/macros.h"
#include "common/vocabulary.h"

static const char *const domain_type_table[_DOMAIN_TYPE_MAX] = {
        [DOMAIN_TYPE_PV] = "pv",
        [DOMAIN_TYPE_PVH] = "pvh",
        [DOMAIN_TYPE_HVM] = "hvm",
};
DEFINE_STRING_TABLE_LOOKUP(domain_type, enum domain_type, domain_type_table)

static const char *const domain_action_table[_ACTION_MAX] = {
        [ACTION_DESTROY] = "destroy",
        [ACTION_RESTART] = "restart",
        [ACTION_PRESERVE] = "preserve",
        [ACTION_RENAME_RESTART] = "rename-restart",
        [ACTION_COREDUMP_DESTROY] = "coredump-destroy",
        [ACTION_COREDUMP_RESTART] = "coredump-restart",
        [ACTION_SOFT_RESET] = "soft-reset",
};
DEFINE_STRING_TABLE_LOOKUP(domain_action, enum domain_action, domain_action_table)

static const char *const shutdown_reason_table[_SHUTDOWN_REASON_MAX] = {
        [SHUTDOWN_REASON_POWEROFF] = "poweroff", [SHUTDOWN_REASON_REBOOT] = "reboot",
        [SHUTDOWN_REASON_SUSPEND] = "suspend",   [SHUTDOWN_REASON_CRASH] = "crash",
        [SHUTDOWN_REASON_WATCHDOG] = "watchdog", [SHUTDOWN_REASON_SOFT_RESET] = "soft_reset",
};

const char *shutdown_reason_to_string(enum shutdown_reason r)
{
        if (r == SHUTDOWN_REASON_NONE)
                return "none";
        return TABLE_LOOKUP(shutdown_reason_table, r);
}

enum shutdown_reason shutdown_reason_from_string(const char *s)
{
        int r = string_table_find(shutdown_reason_table, ELEMENTSOF(shutdown_reason_table), s);

        return r < 0 ? SHUTDOWN_REASON_NONE : (enum shutdown_reason)r;
}

static const char *const sim_shutdown_table[_SIM_SHUTDOWN_MAX] = {
        [SIM_SHUTDOWN_OBEY] = "obey",
        [SIM_SHUTDOWN_IGNORE] = "ignore",
};
DEFINE_STRING_TABLE_LOOKUP(sim_shutdown_answer, enum sim_shutdown_answer, sim_shutdown_table)

bool domain_name_is_valid(const char *name)
{
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n < 1 || n > DOMAIN_NAME_MAX)
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
               n;
}
