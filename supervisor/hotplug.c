/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "supervisor/attach.h"
#include "supervisor/bus.h"
#include "supervisor/context.h"
#include "supervisor/device-job.h"
#include "supervisor/domain-devices.h"
#include "supervisor/hotplug.h"
#include "supervisor/log.h"

/* What a job's end needs: who waits, and the entry to persist. */
struct hotplug_call {
        domain_started_fn done;
        void *userdata;
        enum device_job_op op;
        enum layout_device_kind kind;
        uint32_t devid;                    /* an attach: the device's */
        char name[LAYOUT_DEVICE_VDEV_MAX]; /* for messages: the vdev or the vif's devid */
        bool force;                        /* a detach forced by the caller */
        bool persist;
        struct disk_config disk; /* persist: the entry as parsed (the vif's MAC filled in) */
        struct vif_config vif;
};

static void hotplug_call_free(struct hotplug_call *c)
{
        disk_config_done(&c->disk);
        vif_config_done(&c->vif);
        free(c);
}

static const char *kind_word(enum layout_device_kind kind)
{
        return kind == LAYOUT_DEVICE_VBD ? "disk" : "vif";
}

/* The instance must run, and no other device job: InvalidState otherwise. */
static int check_instance(const struct domain *d, enum layout_device_kind kind, const char *verb,
                          struct sup_error *e)
{
        if (!d->has_domid || (d->state != DOMAIN_RUNNING && d->state != DOMAIN_PAUSED))
                return sup_outcome(e, OUTCOME_INVALID_STATE, "domain %s is %s: cannot %s a %s",
                                   d->name, domain_state_to_string(d->state), verb,
                                   kind_word(kind));
        if (device_job_running(d))
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "a device of %s is being attached or detached; try again when "
                                   "that is done",
                                   d->name);
        return 0;
}

/* The device of d's instance that id names: a vdev or devid for a disk, a devid or MAC else. */
static const struct domain_device *find_device(const struct domain *d, enum layout_device_kind kind,
                                               const char *id)
{
        uint32_t devid = UINT32_MAX;
        uint8_t mac[6];
        bool by_mac = kind == LAYOUT_DEVICE_VIF && mac_parse(id, mac) == 0;

        if (kind == LAYOUT_DEVICE_VBD && vdev_to_devid(id, &devid) < 0)
                return NULL;
        for (size_t i = 0; i < d->n_devices; i++) {
                const struct layout_device *r = &d->devices[i].rec;
                char num[16];

                if (r->kind != kind)
                        continue;
                if (kind == LAYOUT_DEVICE_VBD && r->devid == devid)
                        return &d->devices[i];
                if (kind != LAYOUT_DEVICE_VIF)
                        continue;
                snprintf(num, sizeof(num), "%" PRIu32, r->devid);
                if (by_mac ? memcmp(mac, r->mac, 6) == 0 : strcmp(id, num) == 0)
                        return &d->devices[i];
        }
        return NULL;
}

/* The lowest vif devid of d's instance not in use. */
static uint32_t next_vif_devid(const struct domain *d)
{
        for (uint32_t id = 0;; id++) {
                char num[16];

                snprintf(num, sizeof(num), "%" PRIu32, id);
                if (!find_device(d, LAYOUT_DEVICE_VIF, num))
                        return id;
        }
}

static unsigned count_kind(const struct domain *d, enum layout_device_kind kind)
{
        unsigned n = 0;

        for (size_t i = 0; i < d->n_devices; i++)
                n += d->devices[i].rec.kind == kind;
        return n;
}

/* Keep an attached device for the next start: append it to the domain's file. */
static int persist_entry(const struct domain *d, const struct hotplug_call *c, struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        int r = c->kind == LAYOUT_DEVICE_VBD ? config_append_disk(d->config->path, &c->disk, &err)
                                             : config_append_vif(d->config->path, &c->vif, &err);

        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r, "%s: %s %s is attached, but not kept: %s",
                                   d->name, kind_word(c->kind), c->name, err);
        return 0;
}

/* The sharing check of a disk just attached: one writer per disk, as at a build. */
static int check_shared(struct manager *m, struct domain *d, const struct hotplug_call *c,
                        struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;
        struct domain_disk_holder holder;
        size_t which = 0;
        bool forced;
        int r;

        /* The disk just attached, only: the others passed when they came. */
        while (which < d->n_devices && !(d->devices[which].rec.kind == LAYOUT_DEVICE_VBD &&
                                         d->devices[which].rec.devid == c->devid))
                which++;
        r = domain_devices_disk_holder_of(m, d, which, &holder, &err);
        if (r == 0)
                return 0;
        (void)attach_detach(m->builder, m->layout, d->uuid, &d->devices[which].rec, true, 0,
                            &forced, NULL);
        domain_devices_load(m, d);
        if (r < 0)
                return sup_failure(e, LAYER_SYSTEM, r,
                                   "%s: disk %s is detached again: cannot tell whether it is in "
                                   "use elsewhere: %s",
                                   d->name, c->name, err ? err : strerror(-r));
        return sup_outcome(e, OUTCOME_EXISTS,
                           "%s: disk %s is in use by %s, and one of them writes to it: two guests "
                           "on one disk corrupt its file system",
                           d->name, c->name, holder.who);
}

/*
 * An attach whose process died half-way (killed, or the daemon's kill -9 took it) left its
 * device's record unconnected: tear that down too, with the loop device it may have bound.
 */
static void drop_unfinished(struct manager *m, struct domain *d, const struct hotplug_call *c)
{
        for (size_t i = 0; i < d->n_devices; i++) {
                const struct layout_device *rec = &d->devices[i].rec;
                bool forced;

                if (rec->kind != c->kind || rec->devid != c->devid || rec->connected)
                        continue;
                (void)attach_detach(m->builder, m->layout, d->uuid, rec, true, 0, &forced, NULL);
                domain_devices_load(m, d);
                return;
        }
}

static void hotplug_on_done(struct domain *d, const struct device_job_result *res, void *userdata)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct hotplug_call *c = userdata;
        struct manager *m = d->manager;
        int r = 0;

        if (res->r == -ECANCELED)
                r = sup_outcome(&e, OUTCOME_INVALID_STATE, "%s: %s", d->name, res->message);
        else if (res->r < 0 && res->denied)
                r = sup_outcome(&e, OUTCOME_DENIED, "%s: %s", d->name, res->message);
        else if (res->r < 0)
                r = sup_failure(&e, LAYER_HYPERVISOR, res->r, "%s: %s", d->name, res->message);
        if (res->r != -ECANCELED)
                domain_devices_load(m, d);
        if (r != 0 && res->r != -ECANCELED && c->op == DEVICE_JOB_ATTACH)
                drop_unfinished(m, d, c);
        if (r == 0 && c->op == DEVICE_JOB_ATTACH && c->kind == LAYOUT_DEVICE_VBD)
                r = check_shared(m, d, c, &e);
        if (r == 0 && c->persist)
                r = persist_entry(d, c, &e);
        if (r == 0)
                log_domain(LOG_INFO, d, LOG_MID_DEVICE, NULL, "%s %s %s%s", kind_word(c->kind),
                           c->name, c->op == DEVICE_JOB_ATTACH ? "attached" : "detached",
                           c->force      ? " (forced, as asked)"
                           : res->forced ? " (forced: the frontend did not close in time)"
                                         : "");
        bus_domain_changed(m, d);
        if (c->done)
                c->done(d, r, r != 0 ? &e : NULL, c->userdata);
        hotplug_call_free(c);
}

static int start_job(struct manager *m, struct domain *d, const struct device_job_spec *spec,
                     struct hotplug_call *c, struct sup_error *e)
{
        int r = device_job_start(m, d, spec, hotplug_on_done, c);

        if (r < 0) {
                hotplug_call_free(c);
                return sup_failure(e, LAYER_SYSTEM, r, "%s: cannot start the device process: %s",
                                   d->name, strerror(-r));
        }
        return 0;
}

/* The entry's script=, resolved and checked now, so a bad one is the caller's error. */
static int resolve_script(const char *script, struct layout_device *dev, struct sup_error *e)
{
        _cleanup_free_ char *err = NULL;

        if (attach_resolve_script(script, dev, &err) < 0)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s", err);
        return 0;
}

/* A disk entry as a person gave it: parsed, an absolute target. */
static int prepare_disk(const struct domain *d, const char *spec, struct hotplug_call *c,
                        struct layout_device *dev, struct sup_error *e)
{
        char error[DEVICE_ERROR_MAX];

        if (disk_parse(spec, &c->disk, error) < 0)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "disk: %s", error);
        snprintf(c->name, sizeof(c->name), "%s", c->disk.vdev);
        if (c->disk.target[0] != '/')
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT,
                                   "disk %s: target %s: give an absolute path", c->disk.vdev,
                                   c->disk.target);
        if (find_device(d, LAYOUT_DEVICE_VBD, c->disk.vdev))
                return sup_outcome(e, OUTCOME_EXISTS, "%s already has a disk %s", d->name,
                                   c->disk.vdev);
        if (count_kind(d, LAYOUT_DEVICE_VBD) >= DISKS_MAX)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s has %d disks, the most allowed",
                                   d->name, DISKS_MAX);
        if (layout_device_from_disk(dev, d->domid, &c->disk) < 0)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "disk %s: target too long",
                                   c->disk.vdev);
        return resolve_script(c->disk.script, dev, e);
}

/* A vif entry as a person gave it: parsed, a MAC chosen when it names none. */
static int prepare_vif(struct manager *m, const struct domain *d, const char *spec,
                       struct hotplug_call *c, struct layout_device *dev, struct sup_error *e)
{
        char error[DEVICE_ERROR_MAX];
        uint32_t devid;
        int r;

        if (vif_parse(spec, &c->vif, error) < 0)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "vif: %s", error);
        if (count_kind(d, LAYOUT_DEVICE_VIF) >= VIFS_MAX)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s has %d vifs, the most allowed",
                                   d->name, VIFS_MAX);
        if (!c->vif.has_mac) {
                /* Written into the kept entry too, so the next start has the same MAC. */
                r = attach_generate_mac(c->vif.mac);
                if (r < 0)
                        return sup_failure(e, LAYER_SYSTEM, r, "cannot choose a MAC: %s",
                                           strerror(-r));
                c->vif.has_mac = true;
        }
        devid = next_vif_devid(d);
        snprintf(c->name, sizeof(c->name), "%" PRIu32, devid);
        if (layout_device_from_vif(dev, d->domid, devid, &c->vif, c->vif.mac, m->default_bridge) <
            0)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "vif: a name is too long");
        return resolve_script(c->vif.script, dev, e);
}

int hotplug_attach(struct manager *m, struct domain *d, enum layout_device_kind kind,
                   const char *spec, bool persist, const struct creds *as, domain_started_fn done,
                   void *userdata, struct sup_error *e)
{
        struct device_job_spec job = { .op = DEVICE_JOB_ATTACH, .files_as = *as };
        struct hotplug_call *c;
        int r;

        r = check_instance(d, kind, "attach", e);
        if (r != 0)
                return r;
        if (persist && (d->origin != ORIGIN_CONFIG_DIR || d->config_gone || !d->config->path))
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "%s has no file of the config directory to keep the %s in",
                                   d->name, kind_word(kind));
        c = calloc(1, sizeof(*c));
        if (!c)
                return sup_failure(e, LAYER_SYSTEM, -ENOMEM, "out of memory");
        *c = (struct hotplug_call){ .done = done,
                                    .userdata = userdata,
                                    .op = DEVICE_JOB_ATTACH,
                                    .kind = kind,
                                    .persist = persist };
        r = kind == LAYOUT_DEVICE_VBD ? prepare_disk(d, spec, c, &job.dev, e)
                                      : prepare_vif(m, d, spec, c, &job.dev, e);
        if (r != 0) {
                hotplug_call_free(c);
                return r;
        }
        c->devid = job.dev.devid;
        return start_job(m, d, &job, c, e);
}

int hotplug_detach(struct manager *m, struct domain *d, enum layout_device_kind kind,
                   const char *id, bool force, domain_started_fn done, void *userdata,
                   struct sup_error *e)
{
        struct device_job_spec job = { .op = DEVICE_JOB_DETACH, .force = force };
        const struct domain_device *dd;
        struct hotplug_call *c;
        int r;

        r = check_instance(d, kind, "detach", e);
        if (r != 0)
                return r;
        dd = find_device(d, kind, id);
        if (!dd)
                return sup_outcome(e, OUTCOME_INVALID_ARGUMENT, "%s has no %s %s", d->name,
                                   kind_word(kind), id);
        if (kind == LAYOUT_DEVICE_VBD && !force)
                return sup_outcome(e, OUTCOME_INVALID_STATE,
                                   "%s: detaching disk %s from a live guest needs force: its "
                                   "kernel closes the disk even while it is mounted, and what it "
                                   "had not written is lost; unmount it in the guest first",
                                   d->name, dd->rec.vdev);
        c = calloc(1, sizeof(*c));
        if (!c)
                return sup_failure(e, LAYER_SYSTEM, -ENOMEM, "out of memory");
        *c = (struct hotplug_call){
                .done = done, .userdata = userdata, .op = DEVICE_JOB_DETACH, .kind = kind
        };
        snprintf(c->name, sizeof(c->name), "%s", kind == LAYOUT_DEVICE_VBD ? dd->rec.vdev : id);
        job.dev = dd->rec;
        return start_job(m, d, &job, c, e);
}
