/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ctl/ctl-util.h"
#include "ctl/host.h"

/* GetHostInfo's KernelCache: its a{st} into h->kernels. */
static int host_info_kernel_cache(sd_bus_message *reply, struct ctl_host_info *h)
{
        static const struct {
                const char *key;
                size_t offset;
        } fields[] = {
                { "Images", offsetof(struct ctl_host_info, kernels.images) },
                { "Bytes", offsetof(struct ctl_host_info, kernels.bytes) },
                { "MaxBytes", offsetof(struct ctl_host_info, kernels.max_bytes) },
                { "Hits", offsetof(struct ctl_host_info, kernels.hits) },
                { "Misses", offsetof(struct ctl_host_info, kernels.misses) },
        };
        int r = sd_bus_message_enter_container(reply, 'a', "{st}");

        h->kernel_cache = true;
        while (r >= 0) {
                const char *key;
                uint64_t v;

                r = sd_bus_message_read(reply, "{st}", &key, &v);
                if (r <= 0)
                        break;
                for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
                        if (strcmp(key, fields[i].key) == 0)
                                *(uint64_t *)((char *)h + fields[i].offset) = v;
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

/* One of GetHostInfo's entries: a string or number into its field, Domains into the table. */
static int host_info_entry(sd_bus_message *reply, const char *key, const char *type,
                           struct ctl_host_info *h)
{
        static const struct {
                const char *key;
                size_t offset;
        } strings[] = {
                { "DaemonVersion", offsetof(struct ctl_host_info, daemon_version) },
                { "Hypervisor", offsetof(struct ctl_host_info, hypervisor) },
                { "Version", offsetof(struct ctl_host_info, version) },
                { "Capabilities", offsetof(struct ctl_host_info, capabilities) },
                { "VirtCaps", offsetof(struct ctl_host_info, virt_caps) },
                { "Scheduler", offsetof(struct ctl_host_info, scheduler) },
        }, u32s[] = {
                { "CPUs", offsetof(struct ctl_host_info, cpus) },
                { "Nodes", offsetof(struct ctl_host_info, nodes) },
                { "CoresPerSocket", offsetof(struct ctl_host_info, cores_per_socket) },
                { "ThreadsPerCore", offsetof(struct ctl_host_info, threads_per_core) },
                { "CPUKHz", offsetof(struct ctl_host_info, cpu_khz) },
        }, u64s[] = {
                { "TotalMemoryKiB", offsetof(struct ctl_host_info, total_kib) },
                { "FreeMemoryKiB", offsetof(struct ctl_host_info, free_kib) },
        };
        char *base = (char *)h;
        int r;

        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
                if (strcmp(key, strings[i].key) == 0 && strcmp(type, "s") == 0)
                        return sd_bus_message_read(reply, "s",
                                                   (const char **)(base + strings[i].offset));
        for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
                if (strcmp(key, u32s[i].key) == 0 && strcmp(type, "u") == 0)
                        return sd_bus_message_read(reply, "u", (uint32_t *)(base + u32s[i].offset));
        for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
                if (strcmp(key, u64s[i].key) == 0 && strcmp(type, "t") == 0)
                        return sd_bus_message_read(reply, "t", (uint64_t *)(base + u64s[i].offset));
        if (strcmp(key, "KernelCache") == 0 && strcmp(type, "a{st}") == 0)
                return host_info_kernel_cache(reply, h);
        if (strcmp(key, "Domains") != 0 || strcmp(type, "a{su}") != 0)
                return sd_bus_message_skip(reply, type);
        r = sd_bus_message_enter_container(reply, 'a', "{su}");
        while (r >= 0) {
                const char *state;
                uint32_t n;

                r = sd_bus_message_read(reply, "{su}", &state, &n);
                if (r <= 0)
                        break;
                /* A later daemon's states beyond the table are counted in nothing. */
                if (h->n_states < CTL_HOST_STATES_MAX) {
                        h->domains[h->n_states].state = state;
                        h->domains[h->n_states].n = n;
                        h->n_states++;
                }
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

int ctl_host_info_read(sd_bus_message *reply, struct ctl_host_info *h)
{
        int r;

        memset(h, 0, sizeof(*h));
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *type;

                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(reply, NULL, &type);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'v', type);
                if (r >= 0)
                        r = host_info_entry(reply, key, type, h);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        return r < 0 ? r : 0;
}

/* A string for printing: "" for one the daemon did not send. */
static const char *or_empty(const char *s)
{
        return s ? s : "";
}

static void print_host_info_json(FILE *f, const char *host, const struct ctl_host_info *h)
{
        const struct {
                const char *key, *value;
        } strings[] = {
                { "host", host },
                { "hypervisor", h->hypervisor },
                { "xen_version", h->version },
                { "xen_caps", h->capabilities },
                { "virt_caps", h->virt_caps },
                { "xen_scheduler", h->scheduler },
        };

        fputc('{', f);
        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
                fprintf(f, "%s\"%s\": ", i ? ", " : "", strings[i].key);
                ctl_json_string(f, or_empty(strings[i].value));
        }
        fprintf(f,
                ", \"nr_cpus\": %" PRIu32 ", \"nr_nodes\": %" PRIu32
                ", \"cores_per_socket\": %" PRIu32 ", \"threads_per_core\": %" PRIu32
                ", \"cpu_khz\": %" PRIu32 ", \"total_memory_kib\": %" PRIu64
                ", \"free_memory_kib\": %" PRIu64 ", \"domains\": {",
                h->cpus, h->nodes, h->cores_per_socket, h->threads_per_core, h->cpu_khz,
                h->total_kib, h->free_kib);
        for (size_t i = 0; i < h->n_states; i++) {
                fputs(i ? ", " : "", f);
                ctl_json_string(f, h->domains[i].state);
                fprintf(f, ": %" PRIu32, h->domains[i].n);
        }
        fputs("}, \"kernel_cache\": ", f);
        if (h->kernel_cache)
                fprintf(f,
                        "{\"images\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"max_bytes\": %" PRIu64
                        ", \"hits\": %" PRIu64 ", \"misses\": %" PRIu64 "}",
                        h->kernels.images, h->kernels.bytes, h->kernels.max_bytes, h->kernels.hits,
                        h->kernels.misses);
        else
                fputs("null", f);
        fputs(", \"xensupd_version\": ", f);
        ctl_json_string(f, or_empty(h->daemon_version));
        fputs("}\n", f);
}

void ctl_print_host_info(FILE *f, const char *host, const struct ctl_host_info *h, bool json)
{
        uint32_t total = 0;

        if (json) {
                print_host_info_json(f, host, h);
                return;
        }
        fprintf(f, "%-23s: %s\n", "host", host);
        fprintf(f, "%-23s: %s\n", "hypervisor", or_empty(h->hypervisor));
        fprintf(f, "%-23s: %s\n", "xen_version", or_empty(h->version));
        fprintf(f, "%-23s: %s\n", "xen_caps", or_empty(h->capabilities));
        fprintf(f, "%-23s: %s\n", "virt_caps", or_empty(h->virt_caps));
        fprintf(f, "%-23s: %s\n", "xen_scheduler", or_empty(h->scheduler));
        fprintf(f, "%-23s: %" PRIu32 "\n", "nr_cpus", h->cpus);
        fprintf(f, "%-23s: %" PRIu32 "\n", "nr_nodes", h->nodes);
        fprintf(f, "%-23s: %" PRIu32 "\n", "cores_per_socket", h->cores_per_socket);
        fprintf(f, "%-23s: %" PRIu32 "\n", "threads_per_core", h->threads_per_core);
        fprintf(f, "%-23s: %" PRIu32 ".%03" PRIu32 "\n", "cpu_mhz", h->cpu_khz / 1000,
                h->cpu_khz % 1000);
        /* MiB, rounded down, as xl info prints them. */
        fprintf(f, "%-23s: %" PRIu64 "\n", "total_memory", h->total_kib / 1024);
        fprintf(f, "%-23s: %" PRIu64 "\n", "free_memory", h->free_kib / 1024);
        for (size_t i = 0; i < h->n_states; i++)
                total += h->domains[i].n;
        fprintf(f, "%-23s: %" PRIu32, "domains", total);
        for (size_t i = 0; i < h->n_states; i++)
                fprintf(f, "%s%s %" PRIu32, i ? ", " : " (", h->domains[i].state, h->domains[i].n);
        fputs(h->n_states ? ")\n" : "\n", f);
        /* Memory in MiB as above; images a build loaded (hits), kernels inflated (misses). */
        if (h->kernel_cache)
                fprintf(f,
                        "%-23s: %" PRIu64 " %s, %" PRIu64 " of %" PRIu64 " MiB; %" PRIu64
                        " hits, %" PRIu64 " misses\n",
                        "kernel_cache", h->kernels.images,
                        h->kernels.images == 1 ? "image" : "images", h->kernels.bytes >> 20,
                        h->kernels.max_bytes >> 20, h->kernels.hits, h->kernels.misses);
        else
                fprintf(f, "%-23s: none\n", "kernel_cache");
        fprintf(f, "%-23s: %s\n", "xensupd_version", or_empty(h->daemon_version));
}

int ctl_vcpu_read(sd_bus_message *reply, struct ctl_vcpu *v)
{
        return sd_bus_message_read(reply, "(ubbbutss)", &v->id, &v->online, &v->running,
                                   &v->blocked, &v->cpu, &v->cpu_time_ns, &v->hard, &v->soft);
}

void ctl_print_vcpu_header(FILE *f)
{
        fprintf(f, "%-32s %5s %5s %5s %5s %9s  %s\n", "Name", "ID", "VCPU", "CPU", "State",
                "Time(s)", "Affinity (Hard / Soft)");
}

void ctl_print_vcpu(FILE *f, const char *name, uint32_t domid, const struct ctl_vcpu *v, bool json,
                    bool first)
{
        if (json) {
                fputs(first ? "{\"name\": " : ", {\"name\": ", f);
                ctl_json_string(f, name);
                fprintf(f,
                        ", \"domid\": %" PRIu32 ", \"vcpu\": %" PRIu32
                        ", \"online\": %s, \"running\": %s, \"blocked\": %s, \"cpu\": ",
                        domid, v->id, v->online ? "true" : "false", v->running ? "true" : "false",
                        v->blocked ? "true" : "false");
                if (v->online)
                        fprintf(f, "%" PRIu32, v->cpu);
                else
                        fputs("null", f);
                fprintf(f, ", \"cpu_time_ns\": %" PRIu64 ", \"hard\": ", v->cpu_time_ns);
                ctl_json_string(f, v->hard);
                fputs(", \"soft\": ", f);
                ctl_json_string(f, v->soft);
                fputc('}', f);
                return;
        }
        /* xl's columns: an offline vcpu has no cpu, and p (for paused) in its state. */
        fprintf(f, "%-32s %5" PRIu32 " %5" PRIu32, name, domid, v->id);
        if (v->online)
                fprintf(f, " %5" PRIu32, v->cpu);
        else
                fprintf(f, " %5s", "-");
        fprintf(f, "   %c%c%c %9.1f  %s / %s\n", v->running ? 'r' : '-', v->blocked ? 'b' : '-',
                v->online ? '-' : 'p', (double)v->cpu_time_ns / 1e9, v->hard, v->soft);
}
