/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"

#include "supervisor/bus.h"
#include "supervisor/domain.h"

static const char *const domain_state_table[_DOMAIN_STATE_MAX] = {
        [DOMAIN_STOPPED] = "stopped",
        [DOMAIN_STARTING] = "starting",
        [DOMAIN_RUNNING] = "running",
        [DOMAIN_PAUSED] = "paused",
        [DOMAIN_SHUTTING_DOWN] = "shutting-down",
        [DOMAIN_SHUTDOWN] = "shutdown",
        [DOMAIN_CRASHED] = "crashed",
        [DOMAIN_DUMPING] = "dumping",
        [DOMAIN_RESTART_WAIT] = "restart-wait",
        [DOMAIN_DYING] = "dying",
        [DOMAIN_PRESERVED] = "preserved",
        [DOMAIN_FAILED] = "failed",
        [DOMAIN_SAVING] = "saving",
        [DOMAIN_SUSPENDED] = "suspended",
        [DOMAIN_RESTORING] = "restoring",
        [DOMAIN_MIGRATING] = "migrating",
};

DEFINE_STRING_TABLE_LOOKUP(domain_state, enum domain_state, domain_state_table)

bool domain_is_active(const struct domain *d)
{
        return d->has_domid || d->state == DOMAIN_STARTING || d->state == DOMAIN_RESTORING ||
               d->state == DOMAIN_RESTART_WAIT;
}

const struct domain_config *domain_live_config(const struct domain *d)
{
        return d->running_config ? d->running_config : d->config;
}

void domain_set_config(struct domain *d, struct domain_config *cfg)
{
        config_free(d->config);
        d->config = cfg;
        d->config_generation++;
}

void domain_note_action(struct domain *d, const char *action, uid_t uid, pid_t pid, uint64_t usec)
{
        snprintf(d->last_action.action, sizeof(d->last_action.action), "%s", action);
        d->last_action.uid = uid;
        d->last_action.pid = pid;
        d->last_action.usec = usec;
}

int domain_set_name(struct domain *d, const char *name)
{
        char *path = NULL;
        int r;

        if (strlen(name) > DOMAIN_NAME_MAX)
                return -EINVAL;
        r = bus_domain_path(name, &path);
        if (r < 0)
                return r;
        free(d->object_path);
        d->object_path = path;
        strcpy(d->name, name);
        return 0;
}

int domain_new(struct manager *m, struct domain_config *cfg, struct domain **ret)
{
        _cleanup_free_ struct domain *d = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        r = domain_set_name(d, cfg->name);
        if (r < 0)
                return r;
        d->manager = m;
        d->config = cfg;
        d->config_generation = 1;
        memcpy(d->uuid, cfg->uuid, sizeof(d->uuid));
        uuid_to_string(d->uuid, d->uuid_string);
        d->state = DOMAIN_STOPPED;
        d->shutdown_reason = SHUTDOWN_REASON_NONE;
        d->memory_kib = cfg->memory_mib * 1024;
        d->max_memory_kib = cfg->maxmem_mib * 1024;
        d->vcpus = cfg->vcpus;
        /* The config directory's, until CreateDomain says whose it is: root's rights. */
        creds_root(&d->creator);
        *ret = TAKE_PTR(d);
        return 0;
}

struct domain *domain_free(struct domain *d)
{
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->timer);
        sd_event_source_disable_unref(d->progress_timer);
        sd_event_source_disable_unref(d->dump_child);
        sd_event_source_disable_unref(d->devices_deadline);
        config_free(d->config);
        config_free(d->running_config);
        free(d->object_path);
        free(d->failure);
        /* Their watches go with the daemon's XenStore connection, or were removed at teardown. */
        free(d->devices);
        free(d);
        return NULL;
}
