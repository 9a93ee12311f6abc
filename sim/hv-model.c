/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-model.c — the simulated host's domain table and what each hypercall
 * does to it, kept as close to Xen 4.17 as the supervisor can tell.
 */
#include <string.h>
#include <time.h>

#include "sim/hv-internal.h"

/* Frames below this look like dom0's; the fake guest frames start above. */
#define HV_FIRST_GUEST_MFN 0x100000ull

/* What PHYSINFO says the host is: a 2 GHz single-node, single-socket x86 running Xen. */
#define HV_CPU_KHZ      2000000u
#define HV_CAPABILITIES "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"
#define HV_VIRT_CAPS    "pv hvm hap"
#define HV_SCHEDULER    "credit2"

/* The device faults a saved state may carry: the ones that stay set on a domain. */
#define HV_STATE_DEVICE_FAULTS                                                                     \
        ((1u << HV_DEVICE_FAULT_NO_INITWAIT) | (1u << HV_DEVICE_FAULT_NO_CONNECT) |                \
         (1u << HV_DEVICE_FAULT_NO_CLOSE))

/* Xen's names for SHUTDOWN_* (xl's), for the log. */
static const char *const reason_names[_SHUTDOWN_REASON_MAX] = {
        [SHUTDOWN_REASON_POWEROFF] = "poweroff", [SHUTDOWN_REASON_REBOOT] = "reboot",
        [SHUTDOWN_REASON_SUSPEND] = "suspend",   [SHUTDOWN_REASON_CRASH] = "crash",
        [SHUTDOWN_REASON_WATCHDOG] = "watchdog", [SHUTDOWN_REASON_SOFT_RESET] = "soft_reset",
};

uint64_t hv_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool hv_domain_runnable(const struct hv_domain *d)
{
        return d->pause_count == 0 && !d->shutdown && !d->dying;
}

/* Bring the cpu time up to now and put the domain on or off the cpu as its state says. */
static void hv_domain_account(struct hv_domain *d)
{
        uint64_t now = hv_now_ns();
        uint64_t ran = now - d->run_since_ns;

        /* Each online vcpu ran all along: the domain's time is the sum of theirs, as on Xen. */
        if (d->on_cpu) {
                d->cpu_ns += ran * d->online_vcpus;
                for (unsigned i = 0; i < d->max_vcpus; i++)
                        if (d->vcpus[i].online)
                                d->vcpus[i].cpu_ns += ran;
        }
        d->run_since_ns = now;
        d->on_cpu = hv_domain_runnable(d);
}

/* The bits of word w of a cpu map that are cpus of a host with nr_cpus. */
static uint64_t hv_cpumap_host_word(size_t w, unsigned nr_cpus)
{
        if (nr_cpus >= (w + 1) * 64)
                return UINT64_MAX;
        if (nr_cpus <= w * 64)
                return 0;
        return (UINT64_C(1) << (nr_cpus - w * 64)) - 1;
}

static bool hv_cpumap_test(const struct hv_cpumap *m, unsigned cpu)
{
        return cpu < HV_CPUS_MAX && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

/* Whether m names a cpu the host does not have. */
static bool hv_cpumap_beyond(const struct hv_cpumap *m, unsigned nr_cpus)
{
        for (size_t w = 0; w < ELEMENTSOF(m->bits); w++)
                if (m->bits[w] & ~hv_cpumap_host_word(w, nr_cpus))
                        return true;
        return false;
}

static bool hv_cpumap_empty(const struct hv_cpumap *m)
{
        for (size_t w = 0; w < ELEMENTSOF(m->bits); w++)
                if (m->bits[w])
                        return false;
        return true;
}

/* The lowest cpu of m at or after start, wrapping at nr_cpus; -1 if m names none. */
static int hv_cpumap_next(const struct hv_cpumap *m, unsigned nr_cpus, unsigned start)
{
        for (unsigned k = 0; k < nr_cpus; k++) {
                unsigned cpu = (start + k) % nr_cpus;

                if (hv_cpumap_test(m, cpu))
                        return (int)cpu;
        }
        return -1;
}

/* max vcpus, the first online of them up, each free to run on all nr_cpus; NULL: no memory. */
static struct hv_vcpu *hv_vcpus_new(unsigned max, unsigned online, unsigned nr_cpus)
{
        struct hv_vcpu *v = calloc(max, sizeof(*v));

        if (!v)
                return NULL;
        for (unsigned i = 0; i < max; i++) {
                v[i].online = i < online;
                for (size_t w = 0; w < ELEMENTSOF(v[i].hard.bits); w++)
                        v[i].hard.bits[w] = hv_cpumap_host_word(w, nr_cpus);
                v[i].soft = v[i].hard;
        }
        return v;
}

/*
 * The host cpu vcpu i is on, as a scheduler would place it but deterministic: the lowest cpu
 * at or after i % nr_cpus (wrapping) of its hard affinity within its soft one, else of its
 * hard one alone (the soft one is a preference only).
 */
static unsigned hv_vcpu_cpu(const struct hv_domain *d, unsigned i)
{
        const struct hv_vcpu *v = &d->vcpus[i];
        unsigned n = d->hv->nr_cpus;
        struct hv_cpumap both;
        int cpu;

        for (size_t w = 0; w < ELEMENTSOF(both.bits); w++)
                both.bits[w] = v->hard.bits[w] & v->soft.bits[w];
        cpu = hv_cpumap_next(&both, n, i % n);
        if (cpu < 0)
                cpu = hv_cpumap_next(&v->hard, n, i % n);
        return cpu < 0 ? 0 : (unsigned)cpu; /* the hard map is never empty */
}

uint64_t hv_free_kib(const struct hypervisor *hv)
{
        return hv->used_kib >= hv->total_kib ? 0 : hv->total_kib - hv->used_kib;
}

static uint64_t hv_dom0_kib(uint64_t total_kib)
{
        uint64_t k = total_kib / 16;

        return k > HV_DOM0_MAX_KIB ? HV_DOM0_MAX_KIB : k;
}

int hv_model_init(struct hypervisor *hv)
{
        struct hv_domain *d;

        hv->domains = calloc(DOMID_FIRST_RESERVED, sizeof(*hv->domains));
        if (!hv->domains)
                return -ENOMEM;
        if (hv->total_kib == 0)
                hv->total_kib = (uint64_t)HV_DEFAULT_TOTAL_MIB * 1024;
        if (hv->nr_cpus == 0)
                hv->nr_cpus = HV_DEFAULT_CPUS;
        hv->next_mfn = HV_FIRST_GUEST_MFN;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->hv = hv;
        d->domid = 0;
        strcpy(d->name, "Domain-0");
        d->mem_kib = d->max_mem_kib = hv_dom0_kib(hv->total_kib);
        /* dom0 has a vcpu per host cpu, as without dom0_max_vcpus. */
        d->max_vcpus = d->online_vcpus = hv->nr_cpus < HV_VCPUS_MAX ? hv->nr_cpus : HV_VCPUS_MAX;
        d->vcpus = hv_vcpus_new(d->max_vcpus, d->online_vcpus, hv->nr_cpus);
        if (!d->vcpus) {
                free(d);
                return -ENOMEM;
        }
        d->started = true;
        d->reason = SHUTDOWN_REASON_NONE;
        hv_domain_account(d);
        hv->domains[0] = d;
        hv->n_domains = 1;
        hv->used_kib = d->mem_kib;
        return 0;
}

static void hv_domain_free(struct hv_domain *d)
{
        hv_guest_stop(d);
        d->zombie_timer = sd_event_source_disable_unref(d->zombie_timer);
        d->hv->domains[d->domid] = NULL;
        d->hv->n_domains--;
        d->hv->used_kib -= d->mem_kib;
        free(d->vcpus);
        free(d);
}

void hv_model_done(struct hypervisor *hv)
{
        if (!hv->domains)
                return;
        for (unsigned i = 0; i < DOMID_FIRST_RESERVED; i++)
                if (hv->domains[i])
                        hv_domain_free(hv->domains[i]);
        free(hv->domains);
        hv->domains = NULL;
}

int hypervisor_set_total_memory(struct hypervisor *hv, uint64_t mib)
{
        uint64_t kib = (mib ? mib : HV_DEFAULT_TOTAL_MIB) * 1024;
        struct hv_domain *dom0 = hv->domains[0];

        /* dom0's share follows the host's size as long as no guest runs. */
        if (hv->n_domains == 1) {
                dom0->mem_kib = dom0->max_mem_kib = hv_dom0_kib(kib);
                hv->used_kib = dom0->mem_kib;
        }
        if (kib < hv->used_kib)
                return -EBUSY;
        hv->total_kib = kib;
        return 0;
}

int hypervisor_set_cpus(struct hypervisor *hv, unsigned n)
{
        struct hv_domain *dom0 = hv->domains[0];
        unsigned nr = n ? n : HV_DEFAULT_CPUS;
        unsigned vcpus = nr < HV_VCPUS_MAX ? nr : HV_VCPUS_MAX;
        struct hv_vcpu *v;

        if (nr > HV_CPUS_MAX)
                return -EINVAL;
        /* Affinities name host cpus: the host changes only while dom0 is alone on it. */
        if (hv->n_domains > 1)
                return -EBUSY;
        v = hv_vcpus_new(vcpus, vcpus, nr);
        if (!v)
                return -ENOMEM;
        hv_domain_account(dom0);
        free(dom0->vcpus);
        dom0->vcpus = v;
        dom0->max_vcpus = dom0->online_vcpus = vcpus;
        dom0->cpu_ns = 0; /* the host starts now: its time is its vcpus' */
        hv->nr_cpus = nr;
        return 0;
}

struct hv_domain *hv_domain_get(struct hypervisor *hv, uint32_t domid)
{
        return domid < DOMID_FIRST_RESERVED ? hv->domains[domid] : NULL;
}

/*
 * Xen 4.17's XEN_DOMCTL_createdomain without a requested domid: a rover
 * starting at 0 and remembered across calls; the search starts just above
 * the last domid allocated, skips dom0 when it wraps at
 * DOMID_FIRST_RESERVED, and takes the first free one. So a freed domid is
 * not reused until the whole range has gone round.
 */
static int hv_alloc_domid(struct hypervisor *hv, uint32_t *domid_r)
{
        uint32_t dom = hv->rover + 1;

        for (unsigned tries = 0; tries < DOMID_FIRST_RESERVED; tries++, dom++) {
                if (dom >= DOMID_FIRST_RESERVED)
                        dom = 1;
                if (!hv->domains[dom]) {
                        hv->rover = dom;
                        *domid_r = dom;
                        return 0;
                }
        }
        return -ENOMEM;
}

int hv_domain_create(struct hypervisor *hv, const struct hv_req_create *req, struct hv_domain **ret)
{
        struct hv_domain *d;
        uint32_t domid;
        int r;

        if (req->memory_kib == 0 || req->maxmem_kib < req->memory_kib)
                return -EINVAL;
        if (req->vcpus == 0 || req->vcpus > req->maxvcpus || req->maxvcpus > HV_VCPUS_MAX)
                return -EINVAL;
        if (req->type >= _DOMAIN_TYPE_MAX)
                return -EINVAL;
        if (req->script.present && (req->script.exit >= _SHUTDOWN_REASON_MAX ||
                                    req->script.on_shutdown >= _SIM_SHUTDOWN_MAX))
                return -EINVAL;
        if (!memchr(req->name, 0, sizeof(req->name)) || strlen(req->name) > HV_NAME_MAX)
                return -EINVAL;
        /* The build populates the guest's memory: more than the host has free is -ENOMEM, as Xen.
         */
        if (req->memory_kib > hv_free_kib(hv))
                return -ENOMEM;
        r = hv_alloc_domid(hv, &domid);
        if (r < 0)
                return r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->hv = hv;
        d->domid = domid;
        memcpy(d->handle, req->uuid, sizeof(d->handle));
        strcpy(d->name, req->name);
        d->type = req->type;
        d->ssidref = req->ssidref;
        d->mem_kib = req->memory_kib;
        d->max_mem_kib = req->maxmem_kib;
        d->max_vcpus = req->maxvcpus;
        d->online_vcpus = req->vcpus;
        d->vcpus = hv_vcpus_new(req->maxvcpus, req->vcpus, hv->nr_cpus);
        if (!d->vcpus) {
                free(d);
                return -ENOMEM;
        }
        d->pause_count = 1;
        d->reason = SHUTDOWN_REASON_NONE;
        d->script = req->script;
        d->ignore_shutdown = req->script.present && req->script.on_shutdown == SIM_SHUTDOWN_IGNORE;
        /* xc_evtchn_alloc_unbound in a fresh domain hands out ports 1 and 2 (port 0 is reserved).
         */
        d->store_port = 1;
        d->console_port = 2;
        d->store_mfn = hv->next_mfn++;
        d->console_mfn = hv->next_mfn++;
        /* What its pages hold: different for every guest built, the same across a save. */
        d->memory_seed = hv_now_ns() ^ ((uint64_t)domid << 48) ^ d->store_mfn;
        /* Device faults asked for "the next domain" are this one's. */
        memcpy(d->device_faults, hv->next_device_faults, sizeof(d->device_faults));
        memset(hv->next_device_faults, 0, sizeof(hv->next_device_faults));
        hv_domain_account(d);

        hv->domains[domid] = d;
        hv->n_domains++;
        hv->used_kib += d->mem_kib;
        *ret = d;
        return 0;
}

int hv_domain_pause(struct hv_domain *d)
{
        if (d->domid == 0 || d->dying)
                return -EINVAL;
        if (d->pause_count >= 255)
                return -EOVERFLOW;
        d->pause_count++;
        hv_domain_account(d);
        return 0;
}

int hv_domain_unpause(struct hv_domain *d)
{
        if (d->domid == 0 || d->dying || d->pause_count == 0)
                return -EINVAL;
        d->pause_count--;
        hv_domain_account(d);
        if (d->pause_count > 0)
                return 0;
        if (!d->started) {
                d->started = true;
                hv_guest_start(d);
        } else
                hv_guest_resume(d);
        return 0;
}

int hv_domain_shutdown(struct hv_domain *d, enum shutdown_reason why)
{
        if (d->domid == 0 || why < 0 || why >= _SHUTDOWN_REASON_MAX)
                return -EINVAL;
        /* Xen keeps the first reason: a second shutdown changes nothing, nor one of the dying. */
        if (d->shutdown || d->dying)
                return 0;
        d->shutdown = true;
        d->reason = why;
        d->exit_pending = false;
        d->request_pending = false;
        hv_domain_account(d);
        hv_guest_halt(d);
        fprintf(stderr, "xensup-sim: domid %u (%s) shut down: %s\n", d->domid, d->name,
                reason_names[why]);
        d->exit_timer = sd_event_source_disable_unref(d->exit_timer);
        d->ack_timer = sd_event_source_disable_unref(d->ack_timer);
        if (d->hv->server && xs_server_domain_is_introduced(d->hv->server, d->domid))
                (void)xs_server_domain_shutdown(d->hv->server, d->domid);
        return 0;
}

static int on_zombie_gone(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct hv_domain *d = userdata;

        (void)s;
        (void)usec;
        fprintf(stderr, "xensup-sim: domid %u (%s) gone\n", d->domid, d->name);
        hv_domain_free(d);
        return 0;
}

int hv_domain_destroy(struct hv_domain *d)
{
        struct hypervisor *hv = d->hv;
        uint32_t domid = d->domid;
        bool introduced;
        int r;

        if (domid == 0)
                return -EINVAL;
        if (d->dying)
                return 0; /* Xen: destroying a dying domain succeeds and does nothing more */
        introduced = hv->server && xs_server_domain_is_introduced(hv->server, domid);
        fprintf(stderr, "xensup-sim: domid %u (%s) destroyed\n", domid, d->name);
        if (d->zombie) {
                /*
                 * A page still mapped elsewhere keeps a dead domain in the list,
                 * dying, with its domid and memory, until the last reference goes.
                 */
                hv_guest_stop(d);
                d->dying = true;
                hv_domain_account(d);
                r = sd_event_add_time_relative(hv->event, &d->zombie_timer, CLOCK_MONOTONIC,
                                               HV_ZOMBIE_MS * 1000ull, 1000, on_zombie_gone, d);
                if (r < 0)
                        hv_domain_free(d);
        } else
                hv_domain_free(d);
        /* xenstored sees the domain dying and fires @releaseDomain again, for introduced domains.
         */
        if (introduced)
                (void)xs_server_domain_release(hv->server, domid);
        /* Backends whose frontend lived there are left with the toolstack's removal. */
        hv_backends_domain_gone(hv);
        return 0;
}

uint32_t hv_find_live_handle(const struct hypervisor *hv, const uint8_t handle[16])
{
        for (unsigned i = 1; i < DOMID_FIRST_RESERVED; i++) {
                const struct hv_domain *d = hv->domains[i];

                if (d && !d->dying && memcmp(d->handle, handle, sizeof(d->handle)) == 0)
                        return d->domid;
        }
        return 0;
}

int hv_domain_set_handle(struct hv_domain *d, const uint8_t handle[16])
{
        /*
         * Xen itself would let dom0's handle change; the model refuses, as
         * it refuses every toolstack operation on dom0, so a supervisor bug
         * that aims at domid 0 shows up in the tests. A dying domain may be
         * renamed: Xen does not check, and a kept instance may be one.
         */
        if (d->domid == 0)
                return -EINVAL;
        memcpy(d->handle, handle, sizeof(d->handle));
        fprintf(stderr, "xensup-sim: domid %u (%s) has a new handle\n", d->domid, d->name);
        return 0;
}

int hv_domain_set_memory(struct hv_domain *d, uint64_t max_kib)
{
        if (max_kib == 0 || d->dying)
                return -EINVAL;
        /*
         * XEN_DOMCTL_max_mem sets the limit only: a guest above it keeps its
         * pages until its balloon driver gives them back (memory/target).
         */
        d->max_mem_kib = max_kib;
        return 0;
}

void hv_domain_balloon(struct hv_domain *d, uint64_t target_kib)
{
        uint64_t want = target_kib < d->max_mem_kib ? target_kib : d->max_mem_kib;
        uint64_t room, grow;

        if (d->domid == 0 || d->dying || d->shutdown || want == 0)
                return;
        if (d->mem_kib > want) {
                d->hv->used_kib -= d->mem_kib - want;
                d->mem_kib = want;
        } else {
                /* Up as far as the host has free pages. */
                room = hv_free_kib(d->hv);
                grow = want - d->mem_kib < room ? want - d->mem_kib : room;
                d->mem_kib += grow;
                d->hv->used_kib += grow;
        }
}

int hv_domain_set_vcpus(struct hv_domain *d, unsigned n)
{
        /* Xen knows only the maximum: which vcpus run is the guest's business (cpu/N/availability).
         */
        if (n == 0 || n > d->max_vcpus || d->dying)
                return -EINVAL;
        return 0;
}

void hv_domain_vcpu_online(struct hv_domain *d, unsigned vcpu, bool online)
{
        unsigned n = 0;

        /* vcpu0 never goes down, as in Linux. */
        if (vcpu >= d->max_vcpus || (vcpu == 0 && !online) || d->dying || d->shutdown)
                return;
        hv_domain_account(d);
        d->vcpus[vcpu].online = online;
        for (unsigned i = 0; i < d->max_vcpus; i++)
                n += d->vcpus[i].online;
        d->online_vcpus = n;
}

void hv_domain_info(struct hv_domain *d, struct hv_dominfo *info)
{
        memset(info, 0, sizeof(*info));
        hv_domain_account(d);
        info->domid = d->domid;
        if (d->dying)
                info->flags |= HV_DOMINF_DYING;
        if (d->shutdown) {
                info->flags |= HV_DOMINF_SHUTDOWN;
                info->shutdown_reason = (uint32_t)d->reason;
        }
        if (d->pause_count > 0)
                info->flags |= HV_DOMINF_PAUSED;
        if (hv_domain_runnable(d))
                info->flags |= HV_DOMINF_RUNNING;
        info->max_vcpu_id = d->max_vcpus - 1;
        info->online_vcpus = d->online_vcpus;
        info->ssidref = d->ssidref;
        memcpy(info->handle, d->handle, sizeof(info->handle));
        info->mem_kib = d->mem_kib;
        info->max_mem_kib = d->max_mem_kib;
        info->cpu_time_ns = d->cpu_ns;
}

void hv_physinfo(const struct hypervisor *hv, struct hv_rep_physinfo *info)
{
        memset(info, 0, sizeof(*info));
        info->nr_cpus = hv->nr_cpus;
        info->nr_nodes = 1;
        info->cores_per_socket = hv->nr_cpus;
        info->threads_per_core = 1;
        info->cpu_khz = HV_CPU_KHZ;
        info->total_kib = hv->total_kib;
        info->free_kib = hv_free_kib(hv);
        snprintf(info->version, sizeof(info->version), "sim-%d", HV_PROTO_VERSION);
        snprintf(info->capabilities, sizeof(info->capabilities), "%s", HV_CAPABILITIES);
        snprintf(info->virt_caps, sizeof(info->virt_caps), "%s", HV_VIRT_CAPS);
        snprintf(info->scheduler, sizeof(info->scheduler), "%s", HV_SCHEDULER);
}

int hv_domain_vcpu_info(struct hv_domain *d, uint32_t vcpu, struct hv_rep_vcpu_info *info)
{
        const struct hv_vcpu *v;

        /* XEN_DOMCTL_getvcpuinfo: a vcpu beyond max_vcpus is EINVAL. */
        if (vcpu >= d->max_vcpus)
                return -EINVAL;
        hv_domain_account(d);
        v = &d->vcpus[vcpu];
        memset(info, 0, sizeof(*info));
        info->vcpu = vcpu;
        if (v->online)
                info->flags =
                    HV_VCPU_ONLINE | (hv_domain_runnable(d) ? HV_VCPU_RUNNING : HV_VCPU_BLOCKED);
        info->cpu = hv_vcpu_cpu(d, vcpu);
        info->max_vcpu_id = d->max_vcpus - 1;
        info->cpu_time_ns = v->cpu_ns;
        info->hard = v->hard;
        info->soft = v->soft;
        return 0;
}

int hv_domain_vcpu_pin(struct hv_domain *d, const struct hv_req_vcpu_pin *req)
{
        unsigned n = d->hv->nr_cpus;
        struct hv_vcpu *v;

        if (req->vcpu >= d->max_vcpus || req->reserved || req->which == 0 ||
            (req->which & ~(HV_PIN_HARD | HV_PIN_SOFT)))
                return -EINVAL;
        /*
         * Xen masks a map with the cpus it has online; refusing a cpu the host does not have
         * lets the client name it. A hard map must leave the vcpu somewhere to run.
         */
        if ((req->which & HV_PIN_HARD) &&
            (hv_cpumap_beyond(&req->hard, n) || hv_cpumap_empty(&req->hard)))
                return -EINVAL;
        if ((req->which & HV_PIN_SOFT) && hv_cpumap_beyond(&req->soft, n))
                return -EINVAL;
        v = &d->vcpus[req->vcpu];
        if (req->which & HV_PIN_HARD)
                v->hard = req->hard;
        if (req->which & HV_PIN_SOFT)
                v->soft = req->soft;
        fprintf(stderr, "xensup-sim: domid %u (%s) vcpu %u: new %s affinity\n", d->domid, d->name,
                req->vcpu,
                req->which == (HV_PIN_HARD | HV_PIN_SOFT) ? "hard and soft"
                : req->which == HV_PIN_HARD               ? "hard"
                                                          : "soft");
        return 0;
}

static bool hv_domain_suspended(const struct hv_domain *d)
{
        return d->domid != 0 && !d->dying && d->shutdown && d->reason == SHUTDOWN_REASON_SUSPEND;
}

int hv_domain_save(struct hv_domain *d, struct hv_guest_state *st)
{
        /* As xc_domain_save: the guest must have suspended itself, so its state is still. */
        if (!hv_domain_suspended(d))
                return -EINVAL;
        memset(st, 0, sizeof(*st));
        st->version = HV_GUEST_STATE_VERSION;
        st->type = d->type;
        st->mem_kib = d->mem_kib;
        st->uptime_ns = hv_guest_uptime_ns(d);
        st->memory_seed = d->memory_seed;
        for (unsigned i = 0; i < d->max_vcpus; i++)
                if (d->vcpus[i].online)
                        st->vcpu_online[i / 8] |= (uint8_t)(1u << (i % 8));
        st->script = d->script;
        st->ignore_shutdown = d->ignore_shutdown;
        st->no_suspend = d->no_suspend;
        memcpy(st->device_faults, d->device_faults, sizeof(st->device_faults));
        fprintf(stderr, "xensup-sim: domid %u (%s) saved\n", d->domid, d->name);
        return 0;
}

/* Every field of a saved state in range; its online vcpus counted into *online_r. */
static int hv_state_check(const struct hv_req_restore *req, unsigned *online_r)
{
        const struct hv_guest_state *st = &req->state;
        unsigned online = 0;

        if (st->version != HV_GUEST_STATE_VERSION || st->type != req->type || req->reserved ||
            st->ignore_shutdown > 1 || st->no_suspend > 1 || st->mem_kib == 0)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(st->reserved); i++)
                if (st->reserved[i])
                        return -EINVAL;
        for (size_t t = 0; t < ELEMENTSOF(st->device_faults); t++)
                if (st->device_faults[t] & ~(t == HV_DEVICE_ANY ? 0u : HV_STATE_DEVICE_FAULTS))
                        return -EINVAL;
        if (req->maxvcpus == 0 || req->maxvcpus > HV_VCPUS_MAX)
                return -EINVAL;
        /* As libxc's vcpu records: vcpu0 is always there, and none beyond max_vcpus. */
        if (!(st->vcpu_online[0] & 1))
                return -EINVAL;
        for (unsigned i = 0; i < HV_VCPUS_BITMAP * 8; i++) {
                if (!(st->vcpu_online[i / 8] & (1u << (i % 8))))
                        continue;
                if (i >= req->maxvcpus)
                        return -EINVAL;
                online++;
        }
        /* Populating pages beyond the domain's max_pages fails on Xen with ENOMEM. */
        if (st->mem_kib > req->maxmem_kib)
                return -ENOMEM;
        *online_r = online;
        return 0;
}

int hv_domain_restore(struct hypervisor *hv, const struct hv_req_restore *req,
                      struct hv_domain **ret)
{
        const struct hv_guest_state *st = &req->state;
        struct hv_req_create c = { 0 };
        struct hv_domain *d;
        unsigned online = 0;
        int r;

        r = hv_state_check(req, &online);
        if (r < 0)
                return r;
        /* The domain is made as any other (the toolstack's create), then holds the guest. */
        memcpy(c.uuid, req->uuid, sizeof(c.uuid));
        memcpy(c.name, req->name, sizeof(c.name));
        c.type = req->type;
        c.ssidref = req->ssidref;
        c.memory_kib = st->mem_kib;
        c.maxmem_kib = req->maxmem_kib;
        c.vcpus = online;
        c.maxvcpus = req->maxvcpus;
        c.script = st->script;
        r = hv_domain_create(hv, &c, &d);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < d->max_vcpus; i++)
                d->vcpus[i].online = st->vcpu_online[i / 8] & (1u << (i % 8));
        d->uptime_ns = st->uptime_ns;
        d->memory_seed = st->memory_seed;
        d->ignore_shutdown = st->ignore_shutdown;
        d->no_suspend = st->no_suspend;
        for (size_t t = 0; t < ELEMENTSOF(d->device_faults); t++)
                d->device_faults[t] |= st->device_faults[t];
        d->restored = true;
        *ret = d;
        return 0;
}

int hv_domain_resume(struct hv_domain *d)
{
        /* xc_domain_resume: "not in suspended state" is EINVAL. */
        if (!hv_domain_suspended(d))
                return -EINVAL;
        d->shutdown = false;
        d->reason = SHUTDOWN_REASON_NONE;
        hv_domain_account(d);
        fprintf(stderr, "xensup-sim: domid %u (%s) resumed\n", d->domid, d->name);
        hv_guest_unsuspend(d);
        return 0;
}
