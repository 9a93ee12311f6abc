/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real backend (builders/builder-xen.c) against a fake hypervisor: every
 * xc_* / xc_dom_* / xs_* call it makes is wrapped (-Wl,--wrap, see
 * builders/module.mk), recorded with its key arguments, and can be made to
 * fail. Checks the exact PV and PVH build sequences, a failure at each call in
 * turn with its rollback, and the decoding and batching of the domain list; the
 * same for save (the suspend callback inside xc_domain_save), restore (the
 * create's domain without its image) and resume.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <xenctrl.h>
#include <xenguest.h>
#include <xenstore.h>
#include <xen/hvm/params.h>

#include "builders/builder-internal.h"
#include "common/error.h"
#include "common/macros.h"

#define FAKE_DOMID        7
#define LOG_MAX           64
#define NO_FAILURE        -1
#define FAKE_P2M_BASE     0x10000
#define PV_STORE_PFN      0x1234
#define PV_CONSOLE_PFN    0x1235
#define PVH_STORE_PFN     0xfeffc
#define PVH_CONS_PFN      0xfeffb
#define FAKE_VCPUS        4 /* add_domain()'s max_vcpu_id + 1 */
#define FAKE_CPUS         4 /* the host's: cpus 0-3 */
#define FAKE_CPUMAP_BYTES 2 /* what libxc sizes a map for a hypervisor built for 16 cpus */

/* The fake hypervisor: one test's worth of state, reset by setup(). */
static struct fake {
        char *log[LOG_MAX];
        size_t n_log;

        int fail_at;    /* index among fallible calls to fail, or NO_FAILURE */
        int fail_errno; /* errno the failing call leaves */
        int fallible_seen;
        const char *failed_call;
        enum xc_error_code fail_xc_code; /* an xc_error the failing call records, if any */
        bool destroy_fails;

        xc_error last_error;

        unsigned xch_live, xsh_live;
        bool domain_live;
        bool domain_created;
        unsigned destroy_calls;
        unsigned evtchn_live;
        unsigned next_port;
        unsigned allocate_ok, release_calls;
        struct xc_dom_image *dom;

        uint32_t physcaps;
        int sched_id;
        const char *extraversion, *capabilities;     /* what xc_version tells */
        uint8_t hard[FAKE_VCPUS][FAKE_CPUMAP_BYTES]; /* each vcpu's affinities, libxc's maps */
        uint8_t soft[FAKE_VCPUS][FAKE_CPUMAP_BYTES];

        int io_fd; /* the descriptor a save or restore is handed */

        xc_domaininfo_t *domains; /* what getinfolist serves, sorted by id */
        size_t n_domains;
        struct builder_images img; /* what each create is handed */
        const void *inflated;      /* what xc_dom_parse_image leaves as the kernel blob */
        size_t inflated_size;
} F;

static char fake_xch_obj, fake_xsh_obj;
#define FAKE_XCH ((xc_interface *)&fake_xch_obj)
#define FAKE_XSH ((struct xs_handle *)&fake_xsh_obj)

_printf_(1, 2) static void record(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        assert_true(F.n_log < LOG_MAX);
        va_start(ap, fmt);
        assert_true(vasprintf(&s, fmt, ap) >= 0);
        va_end(ap);
        F.log[F.n_log++] = s;
}

/* Count a fallible call; true when the test asked this one to fail. */
static bool fail_here(const char *name)
{
        int k = F.fallible_seen++;

        if (k != F.fail_at)
                return false;
        F.failed_call = name;
        errno = F.fail_errno;
        if (F.fail_xc_code != XC_ERROR_NONE) {
                F.last_error.code = F.fail_xc_code;
                snprintf(F.last_error.message, sizeof(F.last_error.message),
                         "%s: libxenguest's words\n", name);
        }
        return true;
}

/* The image files a build hands the backend: memfds, regular files with known bytes. */
#define FAKE_KERNEL  "fake kernel bytes"
#define FAKE_RAMDISK "fake ramdisk bytes"

static int image_file(const char *name, const char *content)
{
        int fd = memfd_create(name, MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        return fd;
}

static int setup(void **state)
{
        (void)state;
        memset(&F, 0, sizeof(F));
        F.fail_at = NO_FAILURE;
        F.fail_errno = EXDEV;
        F.next_port = 1;
        F.physcaps = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv | XEN_SYSCTL_PHYSCAP_hap |
                     XEN_SYSCTL_PHYSCAP_gnttab_v1 | XEN_SYSCTL_PHYSCAP_gnttab_v2;
        F.sched_id = XEN_SCHEDULER_CREDIT2;
        F.extraversion = ".3-pre";
        F.capabilities = "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64";
        memset(F.hard, 0xff, sizeof(F.hard));
        memset(F.soft, 0xff, sizeof(F.soft));
        F.img.kernel_fd = image_file("kernel", FAKE_KERNEL);
        F.img.ramdisk_fd = image_file("ramdisk", FAKE_RAMDISK);
        F.img.kernel_cached_fd = -1;
        F.img.kernel_fill_fd = -1;
        return 0;
}

static void fake_dom_free(void)
{
        if (!F.dom)
                return;
        free(F.dom->pv_p2m);
        free(F.dom);
        F.dom = NULL;
}

static int teardown(void **state)
{
        (void)state;
        for (size_t i = 0; i < F.n_log; i++)
                free(F.log[i]);
        fake_dom_free();
        free(F.domains);
        close(F.img.kernel_fd);
        close(F.img.ramdisk_fd);
        closep(&F.img.kernel_cached_fd);
        closep(&F.img.kernel_fill_fd);
        return 0;
}

/* ---- the wrapped library ------------------------------------------------ */

xc_interface *__wrap_xc_interface_open(xentoollog_logger *l, xentoollog_logger *dl, unsigned f);
xc_interface *__wrap_xc_interface_open(xentoollog_logger *l, xentoollog_logger *dl, unsigned f)
{
        record("xc_interface_open %p %p %u", (void *)l, (void *)dl, f);
        if (fail_here("xc_interface_open"))
                return NULL;
        F.xch_live++;
        return FAKE_XCH;
}

int __wrap_xc_interface_close(xc_interface *xch);
int __wrap_xc_interface_close(xc_interface *xch)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_interface_close");
        assert_int_equal(F.xch_live, 1);
        F.xch_live--;
        return 0;
}

struct xs_handle *__wrap_xs_open(unsigned long flags);
struct xs_handle *__wrap_xs_open(unsigned long flags)
{
        record("xs_open %lu", flags);
        if (fail_here("xs_open"))
                return NULL;
        F.xsh_live++;
        return FAKE_XSH;
}

void __wrap_xs_close(struct xs_handle *xsh);
void __wrap_xs_close(struct xs_handle *xsh)
{
        assert_ptr_equal(xsh, FAKE_XSH);
        record("xs_close");
        assert_int_equal(F.xsh_live, 1);
        F.xsh_live--;
}

/* Diagnostics: not recorded, they do not touch the hypervisor. */
const xc_error *__wrap_xc_get_last_error(xc_interface *xch);
const xc_error *__wrap_xc_get_last_error(xc_interface *xch)
{
        assert_ptr_equal(xch, FAKE_XCH);
        return &F.last_error;
}

void __wrap_xc_clear_last_error(xc_interface *xch);
void __wrap_xc_clear_last_error(xc_interface *xch)
{
        assert_ptr_equal(xch, FAKE_XCH);
        memset(&F.last_error, 0, sizeof(F.last_error));
}

int __wrap_xc_physinfo(xc_interface *xch, xc_physinfo_t *info);
int __wrap_xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_physinfo");
        if (fail_here("xc_physinfo"))
                return -1;
        memset(info, 0, sizeof(*info));
        info->capabilities = F.physcaps;
        info->threads_per_core = 2;
        info->cores_per_socket = 2;
        info->nr_cpus = FAKE_CPUS;
        info->max_cpu_id = FAKE_CPUS - 1;
        info->nr_nodes = 1;
        info->max_node_id = 0;
        info->cpu_khz = 2394012;
        info->total_pages = 1048576; /* 4 GiB */
        info->free_pages = 262144;
        return 0;
}

/* XENVER_version is major << 16 | minor, the others fill the caller's buffer. */
int __wrap_xc_version(xc_interface *xch, int cmd, void *arg);
int __wrap_xc_version(xc_interface *xch, int cmd, void *arg)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_version %d", cmd);
        if (fail_here("xc_version"))
                return -1;
        switch (cmd) {
        case XENVER_version:
                return 4 << 16 | 17;
        case XENVER_extraversion:
                strncpy(arg, F.extraversion, XEN_EXTRAVERSION_LEN);
                return 0;
        case XENVER_capabilities:
                strncpy(arg, F.capabilities, XEN_CAPABILITIES_INFO_LEN);
                return 0;
        default:
                fail_msg("xc_version %d not expected", cmd);
                return -1;
        }
}

int __wrap_xc_get_cpumap_size(xc_interface *xch);
int __wrap_xc_get_cpumap_size(xc_interface *xch)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_get_cpumap_size");
        return fail_here("xc_get_cpumap_size") ? -1 : FAKE_CPUMAP_BYTES;
}

/* Vcpu v of a live domain: 0 runs, 1 waits for an event, 2 and 3 are offline. */
int __wrap_xc_vcpu_getinfo(xc_interface *xch, uint32_t domid, uint32_t vcpu, xc_vcpuinfo_t *info);
int __wrap_xc_vcpu_getinfo(xc_interface *xch, uint32_t domid, uint32_t vcpu, xc_vcpuinfo_t *info)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_vcpu_getinfo %" PRIu32 " %" PRIu32, domid, vcpu);
        if (fail_here("xc_vcpu_getinfo"))
                return -1;
        assert_true(vcpu < FAKE_VCPUS);
        *info = (xc_vcpuinfo_t){ .vcpu = vcpu,
                                 .online = vcpu < 2,
                                 .running = vcpu == 0,
                                 .blocked = vcpu == 1,
                                 .cpu = 3 - vcpu,
                                 .cpu_time = 1000000ULL * (vcpu + 1) };
        return 0;
}

int __wrap_xc_vcpu_getaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                               xc_cpumap_t soft, uint32_t flags);
int __wrap_xc_vcpu_getaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                               xc_cpumap_t soft, uint32_t flags)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_vcpu_getaffinity %" PRIu32 " %d flags=%#x", domid, vcpu, flags);
        if (fail_here("xc_vcpu_getaffinity"))
                return -1;
        assert_true(vcpu >= 0 && vcpu < FAKE_VCPUS);
        if (flags & XEN_VCPUAFFINITY_HARD)
                memcpy(hard, F.hard[vcpu], FAKE_CPUMAP_BYTES);
        if (flags & XEN_VCPUAFFINITY_SOFT)
                memcpy(soft, F.soft[vcpu], FAKE_CPUMAP_BYTES);
        return 0;
}

/* The maps as libxc bounces them to Xen: both, FAKE_CPUMAP_BYTES each; flags say which count. */
int __wrap_xc_vcpu_setaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                               xc_cpumap_t soft, uint32_t flags);
int __wrap_xc_vcpu_setaffinity(xc_interface *xch, uint32_t domid, int vcpu, xc_cpumap_t hard,
                               xc_cpumap_t soft, uint32_t flags)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_non_null(hard);
        assert_non_null(soft);
        record("xc_vcpu_setaffinity %" PRIu32 " %d hard=%02x%02x soft=%02x%02x flags=%#x", domid,
               vcpu, hard[0], hard[1], soft[0], soft[1], flags);
        if (fail_here("xc_vcpu_setaffinity"))
                return -1;
        assert_true(vcpu >= 0 && vcpu < FAKE_VCPUS);
        if (flags & XEN_VCPUAFFINITY_HARD)
                memcpy(F.hard[vcpu], hard, FAKE_CPUMAP_BYTES);
        if (flags & XEN_VCPUAFFINITY_SOFT)
                memcpy(F.soft[vcpu], soft, FAKE_CPUMAP_BYTES);
        return 0;
}

static char *uuid_hex(const uint8_t *u, char buf[33])
{
        for (int i = 0; i < 16; i++)
                sprintf(buf + 2 * i, "%02x", u[i]);
        return buf;
}

int __wrap_xc_domain_create(xc_interface *xch, uint32_t *pdomid, struct xen_domctl_createdomain *c);
int __wrap_xc_domain_create(xc_interface *xch, uint32_t *pdomid, struct xen_domctl_createdomain *c)
{
        char u[33];

        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_create domid=%#" PRIx32 " handle=%s ssidref=%" PRIu32
               " flags=%#x iommu=%#x max_vcpus=%u max_evtchn_port=%u grant_frames=%d"
               " maptrack_frames=%d grant_opts=%#x vmtrace=%u cpupool=%u emu=%#x misc=%#x",
               *pdomid, uuid_hex(c->handle, u), c->ssidref, c->flags, c->iommu_opts, c->max_vcpus,
               c->max_evtchn_port, c->max_grant_frames, c->max_maptrack_frames, c->grant_opts,
               c->vmtrace_size, c->cpupool_id, c->arch.emulation_flags, c->arch.misc_flags);
        if (fail_here("xc_domain_create"))
                return -1;
        *pdomid = FAKE_DOMID;
        F.domain_live = F.domain_created = true;
        return 0;
}

static void assert_live(uint32_t domid)
{
        assert_int_equal(domid, FAKE_DOMID);
        assert_true(F.domain_live);
}

int __wrap_xc_domain_max_vcpus(xc_interface *xch, uint32_t domid, unsigned int max);
int __wrap_xc_domain_max_vcpus(xc_interface *xch, uint32_t domid, unsigned int max)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_domain_max_vcpus %" PRIu32 " %u", domid, max);
        return fail_here("xc_domain_max_vcpus") ? -1 : 0;
}

int __wrap_xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb);
int __wrap_xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_setmaxmem %" PRIu32 " %" PRIu64, domid, max_memkb);
        return fail_here("xc_domain_setmaxmem") ? -1 : 0;
}

xc_evtchn_port_or_error_t __wrap_xc_evtchn_alloc_unbound(xc_interface *xch, uint32_t dom,
                                                         uint32_t remote);
xc_evtchn_port_or_error_t __wrap_xc_evtchn_alloc_unbound(xc_interface *xch, uint32_t dom,
                                                         uint32_t remote)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(dom);
        record("xc_evtchn_alloc_unbound %" PRIu32 " %" PRIu32, dom, remote);
        if (fail_here("xc_evtchn_alloc_unbound"))
                return -1;
        F.evtchn_live++;
        return F.next_port++;
}

int __wrap_xc_hvm_param_set(xc_interface *xch, uint32_t dom, uint32_t param, uint64_t value);
int __wrap_xc_hvm_param_set(xc_interface *xch, uint32_t dom, uint32_t param, uint64_t value)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(dom);
        record("xc_hvm_param_set %" PRIu32 " %" PRIu32 " %" PRIu64, dom, param, value);
        return fail_here("xc_hvm_param_set") ? -1 : 0;
}

int __wrap_xc_domain_set_memmap_limit(xc_interface *xch, uint32_t domid, unsigned long kb);
int __wrap_xc_domain_set_memmap_limit(xc_interface *xch, uint32_t domid, unsigned long kb)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_domain_set_memmap_limit %" PRIu32 " %lu", domid, kb);
        return fail_here("xc_domain_set_memmap_limit") ? -1 : 0;
}

int __wrap_xc_domain_set_tsc_info(xc_interface *xch, uint32_t domid, uint32_t tsc_mode,
                                  uint64_t elapsed_nsec, uint32_t gtsc_khz, uint32_t incarnation);
int __wrap_xc_domain_set_tsc_info(xc_interface *xch, uint32_t domid, uint32_t tsc_mode,
                                  uint64_t elapsed_nsec, uint32_t gtsc_khz, uint32_t incarnation)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_domain_set_tsc_info %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu32 " %" PRIu32,
               domid, tsc_mode, elapsed_nsec, gtsc_khz, incarnation);
        return fail_here("xc_domain_set_tsc_info") ? -1 : 0;
}

int __wrap_xc_set_paging_mempool_size(xc_interface *xch, uint32_t domid, uint64_t size);
int __wrap_xc_set_paging_mempool_size(xc_interface *xch, uint32_t domid, uint64_t size)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_set_paging_mempool_size %" PRIu32 " %" PRIu64, domid, size);
        return fail_here("xc_set_paging_mempool_size") ? -1 : 0;
}

/* Returns a negative errno rather than setting errno, as libxenguest 4.17 does. */
int __wrap_xc_cpuid_apply_policy(xc_interface *xch, uint32_t domid, bool restore,
                                 const uint32_t *featureset, unsigned int nr_features, bool pae,
                                 bool itsc, bool nested_virt, const struct xc_xend_cpuid *xend,
                                 const struct xc_msr *msr);
int __wrap_xc_cpuid_apply_policy(xc_interface *xch, uint32_t domid, bool restore,
                                 const uint32_t *featureset, unsigned int nr_features, bool pae,
                                 bool itsc, bool nested_virt, const struct xc_xend_cpuid *xend,
                                 const struct xc_msr *msr)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_cpuid_apply_policy %" PRIu32 " restore=%d featureset=%p/%u pae=%d itsc=%d "
               "nested=%d xend=%p msr=%p",
               domid, restore, (const void *)featureset, nr_features, pae, itsc, nested_virt,
               (const void *)xend, (const void *)msr);
        if (fail_here("xc_cpuid_apply_policy")) {
                int e = errno;

                errno = 0;
                return -e;
        }
        return 0;
}

struct xc_dom_image *__wrap_xc_dom_allocate(xc_interface *xch, const char *cmdline,
                                            const char *features);
struct xc_dom_image *__wrap_xc_dom_allocate(xc_interface *xch, const char *cmdline,
                                            const char *features)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_dom_allocate cmdline=%s features=%s", cmdline ? cmdline : "(null)",
               features ? features : "(null)");
        if (fail_here("xc_dom_allocate"))
                return NULL;
        assert_null(F.dom);
        F.dom = calloc(1, sizeof(*F.dom));
        assert_non_null(F.dom);
        F.dom->xch = xch;
        F.allocate_ok++;
        return F.dom;
}

void __wrap_xc_dom_release(struct xc_dom_image *dom);
void __wrap_xc_dom_release(struct xc_dom_image *dom)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_release");
        F.release_calls++;
        fake_dom_free();
}

/* The bytes of the file the build opened reach libxenguest: the wrapper records them. */
int __wrap_xc_dom_kernel_mem(struct xc_dom_image *dom, const void *mem, size_t memsize);
int __wrap_xc_dom_kernel_mem(struct xc_dom_image *dom, const void *mem, size_t memsize)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_kernel_mem %.*s", (int)memsize, (const char *)mem);
        return fail_here("xc_dom_kernel_mem") ? -1 : 0;
}

int __wrap_xc_dom_module_mem(struct xc_dom_image *dom, const void *mem, size_t memsize,
                             const char *cmdline);
int __wrap_xc_dom_module_mem(struct xc_dom_image *dom, const void *mem, size_t memsize,
                             const char *cmdline)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_module_mem %.*s cmdline=%s", (int)memsize, (const char *)mem,
               cmdline ? cmdline : "(null)");
        return fail_here("xc_dom_module_mem") ? -1 : 0;
}

/* Records what the backend put into the image before libxenguest reads it. */
int __wrap_xc_dom_boot_xen_init(struct xc_dom_image *dom, xc_interface *xch, uint32_t domid);
int __wrap_xc_dom_boot_xen_init(struct xc_dom_image *dom, xc_interface *xch, uint32_t domid)
{
        assert_ptr_equal(dom, F.dom);
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_dom_boot_xen_init %" PRIu32 " container=%s flags=%lu console=%u/%" PRIu32
               " xenstore=%u/%" PRIu32 " claim=%d max_vcpus=%u",
               domid, dom->container_type == XC_DOM_HVM_CONTAINER ? "hvm" : "pv", dom->flags,
               dom->console_evtchn, dom->console_domid, dom->xenstore_evtchn, dom->xenstore_domid,
               dom->claim_enabled, dom->max_vcpus);
        if (dom->container_type == XC_DOM_HVM_CONTAINER)
                record("  pvh mmio=%#" PRIx64 "+%#" PRIx64 " lowmem_end=%#" PRIx64
                       " highmem_end=%#" PRIx64 " target_pages=%" PRIu64 " vga_hole=%" PRIu64
                       " device_model=%d",
                       (uint64_t)dom->mmio_start, (uint64_t)dom->mmio_size,
                       (uint64_t)dom->lowmem_end, (uint64_t)dom->highmem_end,
                       (uint64_t)dom->target_pages, (uint64_t)dom->vga_hole_size,
                       dom->device_model);
        if (fail_here("xc_dom_boot_xen_init"))
                return -1;
        dom->guest_domid = domid;
        return 0;
}

int __wrap_xc_dom_parse_image(struct xc_dom_image *dom);
int __wrap_xc_dom_parse_image(struct xc_dom_image *dom)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_parse_image");
        if (fail_here("xc_dom_parse_image"))
                return -1;
        /* The loaders leave the blob inflated: the ELF a build fills the kernel cache from. */
        if (F.inflated) {
                dom->kernel_blob = (void *)F.inflated;
                dom->kernel_size = F.inflated_size;
        }
        return 0;
}

int __wrap_xc_dom_mem_init(struct xc_dom_image *dom, unsigned int mem_mb);
int __wrap_xc_dom_mem_init(struct xc_dom_image *dom, unsigned int mem_mb)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_mem_init %u", mem_mb);
        if (fail_here("xc_dom_mem_init"))
                return -1;
        dom->total_pages = (xen_pfn_t)mem_mb << (20 - XC_PAGE_SHIFT);
        return 0;
}

/* Populates the guest: a PV guest gets a p2m the backend must translate ring pages through. */
int __wrap_xc_dom_boot_mem_init(struct xc_dom_image *dom);
int __wrap_xc_dom_boot_mem_init(struct xc_dom_image *dom)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_boot_mem_init");
        if (fail_here("xc_dom_boot_mem_init"))
                return -1;
        if (dom->container_type == XC_DOM_PV_CONTAINER) {
                dom->pv_p2m = calloc(dom->total_pages, sizeof(*dom->pv_p2m));
                assert_non_null(dom->pv_p2m);
                for (xen_pfn_t i = 0; i < dom->total_pages; i++)
                        dom->pv_p2m[i] = FAKE_P2M_BASE + i;
                dom->p2m_size = dom->total_pages;
        }
        return 0;
}

int __wrap_xc_domain_set_memory_map(xc_interface *xch, uint32_t domid, struct e820entry e[],
                                    uint32_t n);
int __wrap_xc_domain_set_memory_map(xc_interface *xch, uint32_t domid, struct e820entry e[],
                                    uint32_t n)
{
        char buf[256] = "";
        size_t used = 0;

        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        for (uint32_t i = 0; i < n; i++) {
                uint64_t addr = e[i].addr, size = e[i].size;

                used += snprintf(buf + used, sizeof(buf) - used, " %#" PRIx64 "+%#" PRIx64 ":%u",
                                 addr, size, (unsigned)e[i].type);
                assert_true(used < sizeof(buf));
        }
        record("xc_domain_set_memory_map %" PRIu32 " n=%" PRIu32 "%s", domid, n, buf);
        return fail_here("xc_domain_set_memory_map") ? -1 : 0;
}

int __wrap_xc_dom_build_image(struct xc_dom_image *dom);
int __wrap_xc_dom_build_image(struct xc_dom_image *dom)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_build_image e820_entries=%u", dom->e820_entries);
        if (fail_here("xc_dom_build_image"))
                return -1;
        if (dom->container_type == XC_DOM_HVM_CONTAINER) {
                /* The start info is written from it: it must be the map Xen was given. */
                assert_non_null(dom->e820);
                dom->xenstore_pfn = PVH_STORE_PFN;
                dom->console_pfn = PVH_CONS_PFN;
        } else {
                dom->xenstore_pfn = PV_STORE_PFN;
                dom->console_pfn = PV_CONSOLE_PFN;
        }
        return 0;
}

int __wrap_xc_dom_boot_image(struct xc_dom_image *dom);
int __wrap_xc_dom_boot_image(struct xc_dom_image *dom)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_boot_image");
        return fail_here("xc_dom_boot_image") ? -1 : 0;
}

int __wrap_xc_dom_gnttab_init(struct xc_dom_image *dom);
int __wrap_xc_dom_gnttab_init(struct xc_dom_image *dom)
{
        assert_ptr_equal(dom, F.dom);
        record("xc_dom_gnttab_init");
        return fail_here("xc_dom_gnttab_init") ? -1 : 0;
}

/* A pure query of the image (libxenguest's own definition); not recorded. */
bool __wrap_xc_dom_translated(const struct xc_dom_image *dom);
bool __wrap_xc_dom_translated(const struct xc_dom_image *dom)
{
        assert_ptr_equal(dom, F.dom);
        return dom->container_type == XC_DOM_HVM_CONTAINER;
}

int __wrap_xc_sched_id(xc_interface *xch, int *sched_id);
int __wrap_xc_sched_id(xc_interface *xch, int *sched_id)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_sched_id");
        if (fail_here("xc_sched_id"))
                return -1;
        *sched_id = F.sched_id;
        return 0;
}

int __wrap_xc_sched_credit_domain_set(xc_interface *xch, uint32_t domid,
                                      struct xen_domctl_sched_credit *p);
int __wrap_xc_sched_credit_domain_set(xc_interface *xch, uint32_t domid,
                                      struct xen_domctl_sched_credit *p)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_sched_credit_domain_set %" PRIu32 " weight=%u cap=%u", domid, p->weight, p->cap);
        return fail_here("xc_sched_credit_domain_set") ? -1 : 0;
}

int __wrap_xc_sched_credit2_domain_set(xc_interface *xch, uint32_t domid,
                                       struct xen_domctl_sched_credit2 *p);
int __wrap_xc_sched_credit2_domain_set(xc_interface *xch, uint32_t domid,
                                       struct xen_domctl_sched_credit2 *p)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(domid);
        record("xc_sched_credit2_domain_set %" PRIu32 " weight=%u cap=%u", domid, p->weight,
               p->cap);
        return fail_here("xc_sched_credit2_domain_set") ? -1 : 0;
}

/* Destroying a domain frees its event channels, as Xen does. */
int __wrap_xc_domain_destroy(xc_interface *xch, uint32_t domid);
int __wrap_xc_domain_destroy(xc_interface *xch, uint32_t domid)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_destroy %" PRIu32, domid);
        if (fail_here("xc_domain_destroy"))
                return -1;
        F.destroy_calls++;
        if (F.destroy_fails) {
                errno = EBUSY;
                return -1;
        }
        if (domid != FAKE_DOMID || !F.domain_live) {
                errno = ESRCH;
                return -1;
        }
        F.domain_live = false;
        F.evtchn_live = 0;
        return 0;
}

bool __wrap_xs_introduce_domain(struct xs_handle *h, unsigned int domid, unsigned long mfn,
                                unsigned int eventchn);
bool __wrap_xs_introduce_domain(struct xs_handle *h, unsigned int domid, unsigned long mfn,
                                unsigned int eventchn)
{
        assert_ptr_equal(h, FAKE_XSH);
        record("xs_introduce_domain %u %#lx %u", domid, mfn, eventchn);
        return !fail_here("xs_introduce_domain");
}

int __wrap_xc_domain_unpause(xc_interface *xch, uint32_t domid);
int __wrap_xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_unpause %" PRIu32, domid);
        return fail_here("xc_domain_unpause") ? -1 : 0;
}

int __wrap_xc_domain_pause(xc_interface *xch, uint32_t domid);
int __wrap_xc_domain_pause(xc_interface *xch, uint32_t domid)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_pause %" PRIu32, domid);
        return fail_here("xc_domain_pause") ? -1 : 0;
}

int __wrap_xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason);
int __wrap_xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_shutdown %" PRIu32 " %d", domid, reason);
        return fail_here("xc_domain_shutdown") ? -1 : 0;
}

/* Serves F.domains from first_domain on, at most max_domains, as XEN_SYSCTL_getdomaininfolist. */
int __wrap_xc_domain_getinfolist(xc_interface *xch, uint32_t first, unsigned int max,
                                 xc_domaininfo_t *info);
int __wrap_xc_domain_getinfolist(xc_interface *xch, uint32_t first, unsigned int max,
                                 xc_domaininfo_t *info)
{
        unsigned n = 0;

        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_getinfolist %" PRIu32 " %u", first, max);
        if (fail_here("xc_domain_getinfolist"))
                return -1;
        for (size_t i = 0; i < F.n_domains && n < max; i++)
                if (F.domains[i].domain >= first)
                        info[n++] = F.domains[i];
        return (int)n;
}

int __wrap_xc_domain_set_pod_target(xc_interface *xch, uint32_t domid, uint64_t target_pages,
                                    uint64_t *tot, uint64_t *cache, uint64_t *pod);
int __wrap_xc_domain_set_pod_target(xc_interface *xch, uint32_t domid, uint64_t target_pages,
                                    uint64_t *tot, uint64_t *cache, uint64_t *pod)
{
        assert_ptr_equal(xch, FAKE_XCH);
        assert_null(tot);
        assert_null(cache);
        assert_null(pod);
        record("xc_domain_set_pod_target %" PRIu32 " %" PRIu64, domid, target_pages);
        return fail_here("xc_domain_set_pod_target") ? -1 : 0;
}

/* libxc calls the writer for every piece of the core: two pieces here. */
int __wrap_xc_domain_dumpcore_via_callback(xc_interface *xch, uint32_t domid, void *arg,
                                           dumpcore_rtn_t dump_rtn);
int __wrap_xc_domain_dumpcore_via_callback(xc_interface *xch, uint32_t domid, void *arg,
                                           dumpcore_rtn_t dump_rtn)
{
        char head[] = "ELF core of ", tail[] = "domid\n";

        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_dumpcore_via_callback %" PRIu32, domid);
        if (fail_here("xc_domain_dumpcore_via_callback"))
                return -1;
        if (dump_rtn(xch, arg, head, sizeof(head) - 1) != 0 ||
            dump_rtn(xch, arg, tail, sizeof(tail) - 1) != 0) {
                errno = EIO;
                return -1;
        }
        return 0;
}

int __wrap_xc_domain_sethandle(xc_interface *xch, uint32_t domid, xen_domain_handle_t handle);
int __wrap_xc_domain_sethandle(xc_interface *xch, uint32_t domid, xen_domain_handle_t handle)
{
        char u[33];

        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_sethandle %" PRIu32 " %s", domid, uuid_hex(handle, u));
        return fail_here("xc_domain_sethandle") ? -1 : 0;
}

/*
 * libxc's save: the suspend callback (a plain stream needs one), then the pages. Two fallible
 * points: the start (before any callback, as for an unknown domain) and the pages' write.
 */
int __wrap_xc_domain_save(xc_interface *xch, int io_fd, uint32_t dom, uint32_t flags,
                          struct save_callbacks *cb, xc_stream_type_t stream_type, int recv_fd);
int __wrap_xc_domain_save(xc_interface *xch, int io_fd, uint32_t dom, uint32_t flags,
                          struct save_callbacks *cb, xc_stream_type_t stream_type, int recv_fd)
{
        int ok;

        assert_ptr_equal(xch, FAKE_XCH);
        assert_int_equal(io_fd, F.io_fd);
        assert_non_null(cb);
        record("xc_domain_save %" PRIu32 " flags=%#x stream=%d recv_fd=%d precopy=%s postcopy=%s "
               "checkpoint=%s",
               dom, flags, (int)stream_type, recv_fd, cb->precopy_policy ? "set" : "none",
               cb->postcopy ? "set" : "none", cb->checkpoint ? "set" : "none");
        if (fail_here("xc_domain_save"))
                return -1;
        assert_non_null(cb->suspend);
        ok = cb->suspend(cb->data);
        record("  suspend returned %d", ok);
        if (!ok) {
                errno = EINVAL; /* libxc: "save callback suspend() failed" */
                return -1;
        }
        return fail_here("xc_domain_save (pages)") ? -1 : 0;
}

#define RESTORED_STORE_MFN   0xabc01
#define RESTORED_CONSOLE_MFN 0xabc02

int __wrap_xc_domain_restore(xc_interface *xch, int io_fd, uint32_t dom, unsigned int store_evtchn,
                             unsigned long *store_mfn, uint32_t store_domid,
                             unsigned int console_evtchn, unsigned long *console_mfn,
                             uint32_t console_domid, xc_stream_type_t stream_type,
                             struct restore_callbacks *callbacks, int send_back_fd);
int __wrap_xc_domain_restore(xc_interface *xch, int io_fd, uint32_t dom, unsigned int store_evtchn,
                             unsigned long *store_mfn, uint32_t store_domid,
                             unsigned int console_evtchn, unsigned long *console_mfn,
                             uint32_t console_domid, xc_stream_type_t stream_type,
                             struct restore_callbacks *callbacks, int send_back_fd)
{
        static const struct restore_callbacks zero;

        assert_ptr_equal(xch, FAKE_XCH);
        assert_live(dom);
        assert_int_equal(io_fd, F.io_fd);
        /* libxenguest dereferences it at STATIC_DATA_END. */
        assert_non_null(callbacks);
        record("xc_domain_restore %" PRIu32 " store=%u/%" PRIu32 " console=%u/%" PRIu32
               " stream=%d callbacks=%s send_back_fd=%d",
               dom, store_evtchn, store_domid, console_evtchn, console_domid, (int)stream_type,
               memcmp(callbacks, &zero, sizeof(zero)) == 0 ? "zeroed" : "set", send_back_fd);
        if (fail_here("xc_domain_restore"))
                return -1;
        *store_mfn = RESTORED_STORE_MFN;
        *console_mfn = RESTORED_CONSOLE_MFN;
        return 0;
}

int __wrap_xc_domain_resume(xc_interface *xch, uint32_t domid, int fast);
int __wrap_xc_domain_resume(xc_interface *xch, uint32_t domid, int fast)
{
        assert_ptr_equal(xch, FAKE_XCH);
        record("xc_domain_resume %" PRIu32 " fast=%d", domid, fast);
        return fail_here("xc_domain_resume") ? -1 : 0;
}

/* ---- helpers ------------------------------------------------------------ */

static const uint8_t test_uuid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
                                       0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };

static void config_pv(struct domain_config *c)
{
        *c = (struct domain_config){
                .name = "pv1",
                .type = DOMAIN_TYPE_PV,
                .memory_mib = 128,
                .maxmem_mib = 256,
                .vcpus = 1,
                .maxvcpus = 2,
                .kernel = (char *)"/boot/vmlinuz",
                .ramdisk = (char *)"/boot/initrd.img",
                .cmdline = (char *)"console=hvc0 root=/dev/xvda1",
                .cpu_weight = 512,
                .cpu_cap = 50,
                .ssidref = 0,
        };
        memcpy(c->uuid, test_uuid, sizeof(c->uuid));
}

static void config_pvh(struct domain_config *c)
{
        *c = (struct domain_config){
                .name = "pvh1",
                .type = DOMAIN_TYPE_PVH,
                .memory_mib = 256,
                .maxmem_mib = 256,
                .vcpus = 2,
                .maxvcpus = 2,
                .kernel = (char *)"/boot/vmlinuz-pvh",
                .cmdline = NULL,
                .cpu_weight = 256,
                .cpu_cap = 0,
                .ssidref = 3,
        };
        memcpy(c->uuid, test_uuid, sizeof(c->uuid));
}

static void print_log(void)
{
        for (size_t i = 0; i < F.n_log; i++)
                print_message("  [%zu] %s\n", i, F.log[i]);
}

static void assert_log(const char *const *expected, size_t n)
{
        if (F.n_log != n)
                print_log();
        for (size_t i = 0; i < n && i < F.n_log; i++)
                if (strcmp(F.log[i], expected[i]) != 0) {
                        print_log();
                        print_message("call %zu: expected '%s'\n", i, expected[i]);
                        assert_string_equal(F.log[i], expected[i]);
                }
        assert_int_equal(F.n_log, n);
}

static void clear_log(void)
{
        for (size_t i = 0; i < F.n_log; i++)
                free(F.log[i]);
        F.n_log = 0;
}

static struct builder open_backend(void)
{
        struct builder b = { .ops = &builder_xen_ops };
        struct builder_options o = { .kind = BUILDER_XEN };
        char *err = NULL;

        assert_int_equal(builder_xen_ops.open(&b, &o, &err), 0);
        assert_null(err);
        assert_int_equal(F.xch_live, 1);
        assert_int_equal(F.xsh_live, 1);
        clear_log();
        F.fallible_seen = 0;
        return b;
}

static void close_backend(struct builder *b)
{
        builder_xen_ops.close(b);
        assert_int_equal(F.xch_live, 0);
        assert_int_equal(F.xsh_live, 0);
}

static bool starts_with(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- the builds --------------------------------------------------------- */

#define HANDLE "123456789abc4def8001020304050607"

static const char *const pv_sequence[] = {
        "xc_physinfo",
        "xc_domain_create domid=0x7ff4 handle=" HANDLE " ssidref=0 flags=0 iommu=0 max_vcpus=2 "
        "max_evtchn_port=1023 grant_frames=-1 maptrack_frames=-1 grant_opts=0x2 vmtrace=0 "
        "cpupool=0 emu=0 misc=0",
        "xc_domain_max_vcpus 7 2",
        "xc_domain_setmaxmem 7 132096",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_domain_set_memmap_limit 7 262144",
        "xc_domain_set_tsc_info 7 0 0 0 0",
        "xc_cpuid_apply_policy 7 restore=0 featureset=(nil)/0 pae=1 itsc=0 nested=0 xend=(nil) "
        "msr=(nil)",
        "xc_dom_allocate cmdline=console=hvc0 root=/dev/xvda1 features=(null)",
        "xc_dom_kernel_mem " FAKE_KERNEL,
        "xc_dom_module_mem " FAKE_RAMDISK " cmdline=(null)",
        "xc_dom_boot_xen_init 7 container=pv flags=0 console=2/0 xenstore=1/0 claim=0 max_vcpus=2",
        "xc_dom_parse_image",
        "xc_dom_mem_init 128",
        "xc_dom_boot_mem_init",
        "xc_dom_build_image e820_entries=0",
        "xc_dom_boot_image",
        "xc_dom_gnttab_init",
        "xc_dom_release",
        "xc_sched_id",
        "xc_sched_credit2_domain_set 7 weight=512 cap=50",
};

static const char *const pvh_sequence[] = {
        "xc_physinfo",
        "xc_domain_create domid=0x7ff4 handle=" HANDLE " ssidref=3 flags=0x3 iommu=0 max_vcpus=2 "
        "max_evtchn_port=1023 grant_frames=-1 maptrack_frames=-1 grant_opts=0x2 vmtrace=0 "
        "cpupool=0 emu=0x1 misc=0",
        "xc_domain_max_vcpus 7 2",
        "xc_domain_setmaxmem 7 263168",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_hvm_param_set 7 10 1",
        "xc_domain_set_tsc_info 7 0 0 0 0",
        "xc_set_paging_mempool_size 7 4194304",
        "xc_cpuid_apply_policy 7 restore=0 featureset=(nil)/0 pae=1 itsc=0 nested=0 xend=(nil) "
        "msr=(nil)",
        "xc_dom_allocate cmdline=(null) features=(null)",
        "xc_dom_kernel_mem " FAKE_KERNEL,
        "xc_dom_boot_xen_init 7 container=hvm flags=0 console=2/0 xenstore=1/0 claim=0 max_vcpus=2",
        "  pvh mmio=0xfc000000+0x4000000 lowmem_end=0x10000000 highmem_end=0 target_pages=65536 "
        "vga_hole=0 device_model=0",
        "xc_dom_parse_image",
        "xc_dom_mem_init 256",
        "xc_dom_boot_mem_init",
        "xc_domain_set_memory_map 7 n=2 0+0x10000000:1 0xfeff8000+0x8000:2",
        "xc_dom_build_image e820_entries=2",
        "xc_dom_boot_image",
        "xc_dom_gnttab_init",
        "xc_dom_release",
};

static void test_pv_build_sequence(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        char *err = NULL;

        (void)state;
        config_pv(&cfg);
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), 0);
        assert_null(err);
        assert_log(pv_sequence, ELEMENTSOF(pv_sequence));

        assert_int_equal(d.domid, FAKE_DOMID);
        assert_int_equal(d.store_port, 1);
        assert_int_equal(d.console_port, 2);
        /* PV rings are machine frames: through the image's p2m. */
        assert_int_equal(d.store_mfn, FAKE_P2M_BASE + PV_STORE_PFN);
        assert_int_equal(d.console_mfn, FAKE_P2M_BASE + PV_CONSOLE_PFN);
        assert_true(F.domain_live);
        assert_int_equal(F.release_calls, 1);
        assert_null(F.dom);

        /* introduce, then unpause, as the supervisor does after the layout. */
        clear_log();
        assert_int_equal(builder_xen_ops.introduce(&b, &d, &err), 0);
        assert_int_equal(builder_xen_ops.unpause(&b, d.domid, &err), 0);
        {
                static const char *const after[] = { "xs_introduce_domain 7 0x11234 1",
                                                     "xc_domain_unpause 7" };
                assert_log(after, ELEMENTSOF(after));
        }
        close_backend(&b);
}

/* pv_sequence, but the kernel libxenguest is handed is `kernel`. */
static void assert_pv_sequence_with_kernel(const char *kernel)
{
        const char *seq[ELEMENTSOF(pv_sequence)];
        _cleanup_free_ char *line = NULL;

        assert_true(asprintf(&line, "xc_dom_kernel_mem %s", kernel) > 0);
        for (size_t i = 0; i < ELEMENTSOF(seq); i++)
                seq[i] = strcmp(pv_sequence[i], "xc_dom_kernel_mem " FAKE_KERNEL) == 0
                             ? line
                             : pv_sequence[i];
        assert_log(seq, ELEMENTSOF(seq));
}

/*
 * A PV build of the default config with F.img: it succeeds, handing libxenguest `kernel`;
 * whether it says it wrote the kernel's image.
 */
static bool build_pv_ok(const char *kernel)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        char *err = NULL;

        config_pv(&cfg);
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), 0);
        assert_null(err);
        assert_pv_sequence_with_kernel(kernel);
        close_backend(&b);
        return d.kernel_filled;
}

/* A hit of the kernel cache: the cache's image is what libxenguest gets, the file unread. */
static void test_pv_build_from_kernel_cache(void **state)
{
        (void)state;
        F.img.kernel_cached_fd = image_file("cached", "the cache's image");
        assert_false(build_pv_ok("the cache's image"));
}

/*
 * A minimal Linux-like ELF64: a PT_LOAD of two pages at 4096 holding "abc", then zeros, then
 * (at 8192) the PT_NOTE of one Xen note, the segment's last non-zero bytes.
 */
#define MINI_ELF_SIZE (3 * 4096)
static void mini_elf(unsigned char *d)
{
        Elf64_Ehdr eh = { .e_type = ET_EXEC,
                          .e_machine = EM_X86_64,
                          .e_version = EV_CURRENT,
                          .e_phoff = sizeof(Elf64_Ehdr),
                          .e_ehsize = sizeof(Elf64_Ehdr),
                          .e_phentsize = sizeof(Elf64_Phdr),
                          .e_phnum = 2 };
        Elf64_Phdr ph[2] = {
                { .p_type = PT_LOAD, .p_offset = 4096, .p_filesz = 2 * 4096, .p_memsz = 2 * 4096 },
                { .p_type = PT_NOTE, .p_offset = 8192, .p_filesz = 20 },
        };
        Elf64_Nhdr n = { .n_namesz = 4, .n_descsz = 4, .n_type = 6 };

        memset(d, 0, MINI_ELF_SIZE);
        memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = ELFCLASS64;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        memcpy(d, &eh, sizeof(eh));
        memcpy(d + eh.e_phoff, ph, sizeof(ph));
        memcpy(d + 4096, "abc", 3);
        memcpy(d + 8192, &n, sizeof(n));
        memcpy(d + 8192 + sizeof(n), "Xen\0\1\2\3\4", 8);
}

/* A build handed a fill memfd: the same calls of libxc; what it left in the memfd, 0 unless it
 * says it wrote the image whole. */
static off_t build_pv_filling(void)
{
        struct stat st;
        bool filled;

        F.img.kernel_fill_fd = memfd_create("fill", MFD_CLOEXEC);
        assert_true(F.img.kernel_fill_fd >= 0);
        /* Filling the cache asks nothing of libxc. */
        filled = build_pv_ok(FAKE_KERNEL);
        assert_int_equal(fstat(F.img.kernel_fill_fd, &st), 0);
        assert_int_equal(filled, st.st_size > 0);
        return st.st_size;
}

/* A miss: once libxenguest has inflated the kernel, its loadable image is in the fill memfd. */
static void test_pv_build_fills_kernel_cache(void **state)
{
        static unsigned char elf[MINI_ELF_SIZE];
        Elf64_Phdr ph;

        (void)state;
        mini_elf(elf);
        F.inflated = elf;
        F.inflated_size = sizeof(elf);
        assert_int_equal(build_pv_filling(), 8192 + 20);
        assert_int_equal(pread(F.img.kernel_fill_fd, &ph, sizeof(ph), sizeof(Elf64_Ehdr)),
                         sizeof(ph));
        assert_int_equal(ph.p_filesz, 4096 + 20);
        assert_int_equal(ph.p_memsz, 2 * 4096);
}

/* A kernel that is no ELF once inflated (the fake's blob): built all the same, nothing kept. */
static void test_pv_build_fill_refused(void **state)
{
        (void)state;
        assert_int_equal(build_pv_filling(), 0);
}

static void test_pvh_build_sequence(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        char *err = NULL;

        (void)state;
        config_pvh(&cfg);
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), 0);
        assert_null(err);
        assert_log(pvh_sequence, ELEMENTSOF(pvh_sequence));
        /* A translated guest's rings are named by its own gfns. */
        assert_int_equal(d.store_mfn, PVH_STORE_PFN);
        assert_int_equal(d.console_mfn, PVH_CONS_PFN);
        assert_int_equal(d.store_port, 1);
        assert_int_equal(d.console_port, 2);
        close_backend(&b);
}

/* No ramdisk, no command line, the default scheduler weight: those calls are left out. */
static void test_pv_minimal(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        _cleanup_free_ char *err = NULL;
        size_t n_expected = 0;

        (void)state;
        config_pv(&cfg);
        cfg.ramdisk = NULL;
        cfg.cmdline = NULL;
        cfg.cpu_weight = 256;
        cfg.cpu_cap = 0;
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), 0);
        for (size_t i = 0; i < ELEMENTSOF(pv_sequence); i++) {
                const char *want = pv_sequence[i];

                if (starts_with(want, "xc_dom_module_mem") || starts_with(want, "xc_sched"))
                        continue;
                if (starts_with(want, "xc_dom_allocate"))
                        want = "xc_dom_allocate cmdline=(null) features=(null)";
                assert_true(n_expected < F.n_log);
                assert_string_equal(F.log[n_expected], want);
                n_expected++;
        }
        assert_int_equal(F.n_log, n_expected);
        close_backend(&b);
}

/* A PVH guest bigger than the space below the MMIO hole gets high memory above 4 GiB. */
static void test_pvh_high_memory_and_shadow(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        char *err = NULL;
        bool saw_map = false, saw_layout = false, saw_create = false;

        (void)state;
        config_pvh(&cfg);
        cfg.memory_mib = 4096;
        cfg.maxmem_mib = 8192;
        F.physcaps &= ~(XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_gnttab_v2);
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), 0);
        for (size_t i = 0; i < F.n_log; i++) {
                if (starts_with(F.log[i], "xc_domain_create")) {
                        /* No HAP on the host: hvm without hap (shadow), grant v1 only. */
                        assert_non_null(strstr(F.log[i], " flags=0x1 "));
                        assert_non_null(strstr(F.log[i], " grant_opts=0x1 "));
                        saw_create = true;
                }
                if (starts_with(F.log[i], "  pvh ")) {
                        assert_string_equal(F.log[i], "  pvh mmio=0xfc000000+0x4000000 "
                                                      "lowmem_end=0xfc000000 "
                                                      "highmem_end=0x204000000 "
                                                      "target_pages=1048576 vga_hole=0 "
                                                      "device_model=0");
                        saw_layout = true;
                }
                if (starts_with(F.log[i], "xc_domain_set_memory_map")) {
                        assert_string_equal(F.log[i],
                                            "xc_domain_set_memory_map 7 n=3 0+0xfc000000:1 "
                                            "0xfeff8000+0x8000:2 0x100000000+0x104000000:1");
                        saw_map = true;
                }
                if (starts_with(F.log[i], "xc_set_paging_mempool_size"))
                        assert_string_equal(
                            F.log[i],
                            "xc_set_paging_mempool_size 7 69206016"); /* 4*(512+16384) KiB */
                if (starts_with(F.log[i], "xc_dom_mem_init"))
                        assert_string_equal(F.log[i], "xc_dom_mem_init 8192");
        }
        assert_true(saw_map && saw_layout && saw_create);
        close_backend(&b);
}

/*
 * The k-th fallible call of a build fails, with F.fail_errno and F.fail_xc_code:
 * the build returns -expected, names the step, and leaves nothing behind.
 */
static void fail_build_at(const struct domain_config *cfg, const char *const *seq, size_t n_seq,
                          int k, int expected)
{
        struct builder b;
        struct builder_domain d = { .domid = 0xdead };
        _cleanup_free_ char *err = NULL;
        char step[96], expect[256];
        const char *sep = " failed: ";
        int r, create_at = -1, allocate_at = -1, fallible = 0;
        const char *call = NULL;

        /* Where create and allocate sit among the fallible calls of this sequence. */
        for (size_t i = 0; i < n_seq; i++) {
                if (starts_with(seq[i], "xc_dom_release") || starts_with(seq[i], "  "))
                        continue;
                if (starts_with(seq[i], "xc_domain_create"))
                        create_at = fallible;
                if (starts_with(seq[i], "xc_dom_allocate"))
                        allocate_at = fallible;
                fallible++;
        }
        assert_in_range(k, 0, fallible - 1);

        b = open_backend();
        F.fail_at = k;
        r = builder_xen_ops.create(&b, cfg, &F.img, &d, &err);
        call = F.failed_call;
        assert_non_null(call);
        /*
         * The message names the step, then the hypervisor's error and libxenguest's
         * words; loading an image file names the file, as ENOENT alone does not.
         */
        if (strcmp(call, "xc_dom_kernel_mem") == 0)
                snprintf(step, sizeof(step), "load kernel %s", cfg->kernel);
        else if (strcmp(call, "xc_dom_module_mem") == 0)
                snprintf(step, sizeof(step), "load ramdisk %s", cfg->ramdisk);
        else
                snprintf(step, sizeof(step), "%s", call);
        if (starts_with(step, "load "))
                sep = ": ";
        if (r >= 0 || !err || !starts_with(err, step))
                print_log();

        assert_int_equal(r, -expected);
        assert_non_null(err);
        assert_true(starts_with(err, step));
        if (F.fail_xc_code != XC_ERROR_NONE)
                snprintf(expect, sizeof(expect), "%s%s (%s: libxenguest's words)", sep,
                         strerror(expected), call);
        else
                snprintf(expect, sizeof(expect), "%s%s", sep, strerror(expected));
        assert_non_null(strstr(err, expect));
        assert_null(strchr(err, '\n'));

        /* The output is untouched, and nothing is left behind. */
        assert_int_equal(d.domid, 0xdead);
        assert_false(F.domain_live);
        assert_int_equal(F.evtchn_live, 0);
        assert_int_equal(F.destroy_calls, k > create_at ? 1 : 0);
        assert_int_equal(F.domain_created, k > create_at);
        assert_int_equal(F.release_calls, k > allocate_at ? 1 : 0);
        assert_int_equal(F.allocate_ok, F.release_calls);
        assert_null(F.dom);
        close_backend(&b);
}

static void reset_between_runs(void)
{
        teardown(NULL);
        setup(NULL);
}

static void test_pv_fail_each_call(void **state)
{
        struct domain_config cfg;
        const size_t n = ELEMENTSOF(pv_sequence) - 1; /* all but xc_dom_release */

        (void)state;
        config_pv(&cfg);
        for (size_t k = 0; k < n; k++) {
                reset_between_runs();
                fail_build_at(&cfg, pv_sequence, ELEMENTSOF(pv_sequence), (int)k, EXDEV);
        }
}

static void test_pvh_fail_each_call(void **state)
{
        struct domain_config cfg;
        const size_t n = ELEMENTSOF(pvh_sequence) - 2; /* all but the layout line and release */

        (void)state;
        config_pvh(&cfg);
        for (size_t k = 0; k < n; k++) {
                reset_between_runs();
                fail_build_at(&cfg, pvh_sequence, ELEMENTSOF(pvh_sequence), (int)k, EXDEV);
        }
}

/* Fallible calls of the PV build, counted from 0. */
#define PV_KERNEL_FILE   10
#define PV_MODULE_FILE   11
#define PV_PARSE_IMAGE   13
#define PV_BOOT_MEM_INIT 15

/* libxenguest often records only an xc_error (errno 0): the errno comes from its code. */
static void test_fail_with_xc_error_only(void **state)
{
        struct domain_config cfg;

        (void)state;
        config_pv(&cfg);
        F.fail_errno = 0;
        F.fail_xc_code = XC_INVALID_KERNEL;
        fail_build_at(&cfg, pv_sequence, ELEMENTSOF(pv_sequence), PV_PARSE_IMAGE, ENOEXEC);
        assert_string_equal(F.failed_call, "xc_dom_parse_image");
}

/* Out of host memory: a partial populate leaves EBUSY, but the caller is told ENOMEM. */
static void test_fail_out_of_memory(void **state)
{
        struct domain_config cfg;

        (void)state;
        config_pv(&cfg);
        F.fail_errno = EBUSY;
        F.fail_xc_code = XC_OUT_OF_MEMORY;
        fail_build_at(&cfg, pv_sequence, ELEMENTSOF(pv_sequence), PV_BOOT_MEM_INIT, ENOMEM);
        assert_string_equal(F.failed_call, "xc_dom_boot_mem_init");
}

/* Otherwise errno wins over a generic xc_error code: a missing kernel is ENOENT. */
static void test_fail_errno_wins(void **state)
{
        struct domain_config cfg;

        (void)state;
        config_pv(&cfg);
        F.fail_errno = ENOENT;
        F.fail_xc_code = XC_INTERNAL_ERROR;
        fail_build_at(&cfg, pv_sequence, ELEMENTSOF(pv_sequence), PV_KERNEL_FILE, ENOENT);
        assert_string_equal(F.failed_call, "xc_dom_kernel_mem");
}

/* A missing kernel or ramdisk is ENOENT, unchanged, and the message says which file. */
static void test_missing_image_file_named(void **state)
{
        static const struct {
                int at;
                const char *message;
        } cases[] = {
                { PV_KERNEL_FILE, "load kernel /boot/vmlinuz: No such file or directory" },
                { PV_MODULE_FILE, "load ramdisk /boot/initrd.img: No such file or directory" },
        };
        struct domain_config cfg;

        (void)state;
        config_pv(&cfg);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct builder b;
                struct builder_domain d = { 0 };
                _cleanup_free_ char *err = NULL;

                reset_between_runs();
                b = open_backend();
                F.fail_at = cases[i].at;
                F.fail_errno = ENOENT;
                assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), -ENOENT);
                assert_string_equal(err, cases[i].message);
                assert_false(F.domain_live); /* rolled back */
                close_backend(&b);
        }
}

/* A rollback that fails itself is reported too, after the original error. */
static void test_rollback_destroy_fails(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        _cleanup_free_ char *err = NULL;
        char line2[128];

        (void)state;
        config_pv(&cfg);
        b = open_backend();
        F.fail_at = PV_PARSE_IMAGE;
        F.destroy_fails = true;
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), -EXDEV);
        assert_string_equal(F.failed_call, "xc_dom_parse_image");
        snprintf(line2, sizeof(line2),
                 "xc_dom_parse_image failed: %s\nrolling back: "
                 "xc_domain_destroy(7) failed: %s",
                 strerror(EXDEV), strerror(EBUSY));
        assert_string_equal(err, line2);
        assert_int_equal(F.destroy_calls, 1);
        assert_int_equal(F.release_calls, 1);
        close_backend(&b);
}

static void test_credit_scheduler_and_unknown_scheduler(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        _cleanup_free_ char *err = NULL;

        (void)state;
        config_pv(&cfg);
        F.sched_id = XEN_SCHEDULER_CREDIT;
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), 0);
        assert_string_equal(F.log[F.n_log - 1], "xc_sched_credit_domain_set 7 weight=512 cap=50");
        close_backend(&b);

        /* Weights mean nothing to the null scheduler: refused, and the domain undone. */
        reset_between_runs();
        F.sched_id = XEN_SCHEDULER_NULL;
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err, "credit or credit2"));
        assert_string_equal(F.log[F.n_log - 1], "xc_domain_destroy 7");
        assert_false(F.domain_live);
        close_backend(&b);
}

static void test_hvm_rejected(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        _cleanup_free_ char *err = NULL;

        (void)state;
        config_pv(&cfg);
        cfg.type = DOMAIN_TYPE_HVM;
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), -EOPNOTSUPP);
        assert_string_equal(err, "HVM guests need a device model, not supported yet; use type = "
                                 "\"pv\" or \"pvh\"");
        assert_int_equal(F.n_log, 0); /* not one hypercall */
        close_backend(&b);
}

static void test_no_kernel_rejected(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        _cleanup_free_ char *err = NULL;

        (void)state;
        config_pv(&cfg);
        cfg.kernel = NULL;
        b = open_backend();
        assert_int_equal(builder_xen_ops.create(&b, &cfg, &F.img, &d, &err), -EINVAL);
        assert_non_null(strstr(err, "no kernel"));
        assert_int_equal(F.n_log, 0);
        close_backend(&b);
}

/* ---- open / close ------------------------------------------------------- */

static void test_open_failures(void **state)
{
        struct builder b = { .ops = &builder_xen_ops };
        struct builder_options o = { .kind = BUILDER_XEN };
        _cleanup_free_ char *err = NULL;

        (void)state;
        F.fail_at = 0;
        F.fail_errno = EACCES;
        assert_int_equal(builder_xen_ops.open(&b, &o, &err), -EACCES);
        assert_true(starts_with(err, "xc_interface_open failed: "));
        assert_null(b.data);
        assert_int_equal(F.xch_live + F.xsh_live, 0);

        reset_between_runs();
        F.fail_at = 1;
        F.fail_errno = ENOENT;
        assert_int_equal(builder_xen_ops.open(&b, &o, &err), -ENOENT);
        assert_true(starts_with(err, "xs_open failed: "));
        assert_null(b.data);
        /* The xc handle opened first is closed again. */
        assert_int_equal(F.xch_live + F.xsh_live, 0);
        {
                static const char *const seq[] = { "xc_interface_open (nil) (nil) 0", "xs_open 0",
                                                   "xc_interface_close" };
                assert_log(seq, ELEMENTSOF(seq));
        }
}

/* ---- the simple operations ---------------------------------------------- */

static void test_introduce_failure(void **state)
{
        struct builder b;
        struct builder_domain d = { .domid = 9, .store_mfn = 0x42, .store_port = 3 };
        _cleanup_free_ char *err = NULL;

        (void)state;
        b = open_backend();
        F.fail_at = 0;
        F.fail_errno = EINVAL;
        assert_int_equal(builder_xen_ops.introduce(&b, &d, &err), -EINVAL);
        assert_true(starts_with(err, "xs_introduce_domain failed: "));
        assert_string_equal(F.log[0], "xs_introduce_domain 9 0x42 3");
        close_backend(&b);
}

static void test_pause_unpause_destroy_dumpcore(void **state)
{
        struct builder b;
        _cleanup_free_ char *err = NULL;
        char core[64];
        int fds[2];
        static const char *const seq[] = {
                "xc_domain_pause 4",
                "xc_domain_unpause 4",
                "xc_domain_dumpcore_via_callback 4",
                "xc_domain_destroy 4",
        };

        (void)state;
        b = open_backend();
        assert_int_equal(builder_xen_ops.pause(&b, 4, &err), 0);
        assert_int_equal(builder_xen_ops.unpause(&b, 4, &err), 0);
        /* The core goes to the descriptor the caller opened; the backend opens no path. */
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(builder_xen_ops.dumpcore(&b, 4, fds[1], &err), 0);
        assert_int_equal(read(fds[0], core, sizeof(core)), 18);
        assert_memory_equal(core, "ELF core of domid\n", 18);
        /* No such domain: ESRCH passes through for the caller to tell "already gone". */
        assert_int_equal(builder_xen_ops.destroy(&b, 4, &err), -ESRCH);
        assert_true(starts_with(err, "xc_domain_destroy failed: "));
        assert_log(seq, ELEMENTSOF(seq));

        clear_log();
        F.fallible_seen = 0;
        F.fail_at = 0;
        assert_int_equal(builder_xen_ops.pause(&b, 4, &err), -EXDEV);
        assert_true(starts_with(err, "xc_domain_pause failed: "));
        F.fallible_seen = 0;
        assert_int_equal(builder_xen_ops.unpause(&b, 4, &err), -EXDEV);
        assert_true(starts_with(err, "xc_domain_unpause failed: "));
        F.fallible_seen = 0;
        assert_int_equal(builder_xen_ops.dumpcore(&b, 4, fds[1], &err), -EXDEV);
        assert_true(starts_with(err, "xc_domain_dumpcore_via_callback failed: "));
        /* A writer that cannot write fails the dump. */
        close(fds[0]);
        F.fail_at = NO_FAILURE;
        signal(SIGPIPE, SIG_IGN);
        assert_true(builder_xen_ops.dumpcore(&b, 4, fds[1], &err) < 0);
        close(fds[1]);
        close_backend(&b);
}

static void test_shutdown_reasons(void **state)
{
        static const struct {
                enum shutdown_reason why;
                int code;
        } map[] = {
                { SHUTDOWN_REASON_POWEROFF, SHUTDOWN_poweroff },
                { SHUTDOWN_REASON_REBOOT, SHUTDOWN_reboot },
                { SHUTDOWN_REASON_SUSPEND, SHUTDOWN_suspend },
                { SHUTDOWN_REASON_CRASH, SHUTDOWN_crash },
                { SHUTDOWN_REASON_WATCHDOG, SHUTDOWN_watchdog },
                { SHUTDOWN_REASON_SOFT_RESET, SHUTDOWN_soft_reset },
        };
        struct builder b;
        _cleanup_free_ char *err = NULL;
        char line[64];

        (void)state;
        b = open_backend();
        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                clear_log();
                assert_int_equal(builder_xen_ops.shutdown(&b, 5, map[i].why, &err), 0);
                snprintf(line, sizeof(line), "xc_domain_shutdown 5 %d", map[i].code);
                assert_int_equal(F.n_log, 1);
                assert_string_equal(F.log[0], line);
        }
        clear_log();
        assert_int_equal(builder_xen_ops.shutdown(&b, 5, SHUTDOWN_REASON_NONE, &err), -EINVAL);
        assert_int_equal(builder_xen_ops.shutdown(&b, 5, _SHUTDOWN_REASON_MAX, &err), -EINVAL);
        assert_int_equal(F.n_log, 0);
        close_backend(&b);
}

static xc_domaininfo_t *add_domain(uint32_t domid, uint32_t flags)
{
        xc_domaininfo_t *p = reallocarray(F.domains, F.n_domains + 1, sizeof(*p));

        assert_non_null(p);
        F.domains = p;
        p = &F.domains[F.n_domains++];
        memset(p, 0, sizeof(*p));
        p->domain = domid;
        p->flags = flags;
        p->tot_pages = 1000 + domid;
        p->max_pages = 2000 + domid;
        p->max_vcpu_id = 3;
        p->nr_online_vcpus = 2;
        p->cpu_time = 123456789ULL * (domid + 1);
        for (int i = 0; i < 16; i++)
                p->handle[i] = (uint8_t)(domid + i);
        return p;
}

static void test_set_memory(void **state)
{
        struct builder b;
        _cleanup_free_ char *err = NULL;

        (void)state;
        add_domain(3, 0);
        add_domain(4, XEN_DOMINF_hvm_guest);
        b = open_backend();
        assert_int_equal(builder_xen_ops.set_memory(&b, 3, 65536, &err), 0);
        {
                static const char *const seq[] = { "xc_domain_getinfolist 3 1",
                                                   "xc_domain_setmaxmem 3 66560" };
                assert_log(seq, ELEMENTSOF(seq));
        }
        clear_log();
        /* An HVM container's populate-on-demand target follows, in pages. */
        assert_int_equal(builder_xen_ops.set_memory(&b, 4, 65536, &err), 0);
        {
                static const char *const seq[] = { "xc_domain_getinfolist 4 1",
                                                   "xc_domain_setmaxmem 4 66560",
                                                   "xc_domain_set_pod_target 4 16640" };
                assert_log(seq, ELEMENTSOF(seq));
        }
        clear_log();
        /* getinfolist answers with the next domain up: that is not domain 2. */
        assert_int_equal(builder_xen_ops.set_memory(&b, 2, 65536, &err), -ESRCH);
        assert_int_equal(F.n_log, 1);
        close_backend(&b);
}

static void test_set_vcpus(void **state)
{
        struct builder b;
        _cleanup_free_ char *err = NULL;

        (void)state;
        add_domain(3, 0); /* max_vcpu_id 3: four vcpus */
        add_domain(6, 0)->max_vcpu_id = XEN_INVALID_MAX_VCPU_ID;
        b = open_backend();
        assert_int_equal(builder_xen_ops.set_vcpus(&b, 3, 1, &err), 0);
        assert_int_equal(builder_xen_ops.set_vcpus(&b, 3, 4, &err), 0);
        assert_int_equal(builder_xen_ops.set_vcpus(&b, 3, 5, &err), -EINVAL);
        assert_non_null(strstr(err, "allows 1 to 4"));
        assert_int_equal(builder_xen_ops.set_vcpus(&b, 3, 0, &err), -EINVAL);
        assert_int_equal(builder_xen_ops.set_vcpus(&b, 6, 1, &err), -EINVAL);
        assert_int_equal(builder_xen_ops.set_vcpus(&b, 5, 1, &err), -ESRCH);
        /* Only queries: Xen holds no "available vcpus" of its own. */
        for (size_t i = 0; i < F.n_log; i++)
                assert_true(starts_with(F.log[i], "xc_domain_getinfolist "));
        close_backend(&b);
}

/* libxl_domain_preserve's xc_domain_sethandle: the domid and the 16 bytes, as given. */
static void test_set_handle(void **state)
{
        static const uint8_t fresh[16] = { 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x43, 0x21,
                                           0x9f, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0xff };
        static const char *const seq[] = {
                "xc_domain_sethandle 9 fedcba98765443219f001122334455ff",
                "xc_domain_sethandle 9 fedcba98765443219f001122334455ff",
        };
        struct builder b;
        _cleanup_free_ char *err = NULL;
        char expect[128];

        (void)state;
        b = open_backend();
        assert_int_equal(builder_xen_ops.set_handle(&b, 9, fresh, &err), 0);
        assert_null(err);

        /* Xen's ESRCH passes through, and the message names the call and the error. */
        F.fail_at = 1;
        F.fail_errno = ESRCH;
        assert_int_equal(builder_xen_ops.set_handle(&b, 9, fresh, &err), -ESRCH);
        snprintf(expect, sizeof(expect), "xc_domain_sethandle failed: %s", strerror(ESRCH));
        assert_string_equal(err, expect);
        assert_log(seq, ELEMENTSOF(seq));
        close_backend(&b);
}

/* ---- the domain list ---------------------------------------------------- */

static void test_list_decodes_flags_and_reasons(void **state)
{
        static const uint32_t bits[] = { XEN_DOMINF_dying, XEN_DOMINF_shutdown, XEN_DOMINF_paused,
                                         XEN_DOMINF_blocked, XEN_DOMINF_running };
        static const struct {
                unsigned code;
                enum shutdown_reason reason;
        } reasons[] = {
                { SHUTDOWN_poweroff, SHUTDOWN_REASON_POWEROFF },
                { SHUTDOWN_reboot, SHUTDOWN_REASON_REBOOT },
                { SHUTDOWN_suspend, SHUTDOWN_REASON_SUSPEND },
                { SHUTDOWN_crash, SHUTDOWN_REASON_CRASH },
                { SHUTDOWN_watchdog, SHUTDOWN_REASON_WATCHDOG },
                { SHUTDOWN_soft_reset, SHUTDOWN_REASON_SOFT_RESET },
                { 6, SHUTDOWN_REASON_NONE },   /* newer than us */
                { 255, SHUTDOWN_REASON_NONE }, /* the whole field */
        };
        const size_t n_combos = 1u << ELEMENTSOF(bits);
        struct builder b;
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        uint32_t domid = 0;

        (void)state;
        for (size_t r = 0; r < ELEMENTSOF(reasons); r++)
                for (size_t c = 0; c < n_combos; c++) {
                        uint32_t flags = reasons[r].code << XEN_DOMINF_shutdownshift;

                        for (size_t k = 0; k < ELEMENTSOF(bits); k++)
                                if (c & (1u << k))
                                        flags |= bits[k];
                        /* Unrelated flags must not leak into the decoding. */
                        flags |= (domid & 1) ? XEN_DOMINF_hvm_guest | XEN_DOMINF_hap : 0;
                        add_domain(domid++, flags);
                }
        assert_true(F.n_domains >= 256); /* a full batch, and so a second call */

        b = open_backend();
        assert_int_equal(builder_xen_ops.list(&b, &infos, &n, &err), 0);
        assert_int_equal(n, F.n_domains);
        for (size_t i = 0; i < n; i++) {
                const xc_domaininfo_t *in = &F.domains[i];
                const struct builder_domain_info *o = &infos[i];
                size_t r = i / n_combos;

                assert_int_equal(o->domid, in->domain);
                assert_memory_equal(o->handle, in->handle, 16);
                assert_int_equal(o->dying, !!(in->flags & XEN_DOMINF_dying));
                assert_int_equal(o->shutdown, !!(in->flags & XEN_DOMINF_shutdown));
                assert_int_equal(o->paused, !!(in->flags & XEN_DOMINF_paused));
                assert_int_equal(o->running,
                                 !!(in->flags & (XEN_DOMINF_running | XEN_DOMINF_blocked)));
                /* The reason bits count only with the shutdown flag. */
                assert_int_equal(o->reason, o->shutdown ? reasons[r].reason : SHUTDOWN_REASON_NONE);
                assert_int_equal(o->mem_kib, (1000 + in->domain) * 4);
                assert_int_equal(o->max_mem_kib, (2000 + in->domain) * 4);
                assert_int_equal(o->max_vcpu_id, 3);
                assert_int_equal(o->online_vcpus, 2);
                assert_int_equal(o->cpu_time_ns, in->cpu_time);
        }
        close_backend(&b);
}

static void list_and_check_batches(size_t n_domains, uint32_t stride, const char *const *calls,
                                   size_t n_calls)
{
        struct builder b;
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        for (size_t i = 0; i < n_domains; i++)
                add_domain((uint32_t)(i * stride), 0);
        b = open_backend();
        assert_int_equal(builder_xen_ops.list(&b, &infos, &n, &err), 0);
        assert_int_equal(n, n_domains);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(infos[i].domid, i * stride);
        assert_log(calls, n_calls);
        close_backend(&b);
}

static void test_list_batches(void **state)
{
        /* 600 domains with gaps: each batch starts after the last id the previous one saw. */
        static const char *const six_hundred[] = {
                "xc_domain_getinfolist 0 256",
                "xc_domain_getinfolist 766 256",
                "xc_domain_getinfolist 1534 256",
        };
        static const char *const exactly_256[] = {
                "xc_domain_getinfolist 0 256",
                "xc_domain_getinfolist 256 256",
        };
        static const char *const dom0_only[] = { "xc_domain_getinfolist 0 256" };

        (void)state;
        list_and_check_batches(600, 3, six_hundred, ELEMENTSOF(six_hundred));
        reset_between_runs();
        list_and_check_batches(256, 1, exactly_256, ELEMENTSOF(exactly_256));
        reset_between_runs();
        list_and_check_batches(1, 1, dom0_only, ELEMENTSOF(dom0_only));
}

static void test_list_failure(void **state)
{
        struct builder b;
        struct builder_domain_info *infos = (struct builder_domain_info *)&fake_xch_obj;
        _cleanup_free_ char *err = NULL;
        size_t n = 77;

        (void)state;
        for (uint32_t i = 0; i < 300; i++)
                add_domain(i, 0);
        b = open_backend();
        F.fail_at = 1; /* the second batch */
        F.fail_errno = EFAULT;
        assert_int_equal(builder_xen_ops.list(&b, &infos, &n, &err), -EFAULT);
        assert_true(starts_with(err, "xc_domain_getinfolist failed: "));
        /* Outputs untouched; the first batch's rows freed (ASan/valgrind would tell). */
        assert_ptr_equal(infos, (struct builder_domain_info *)&fake_xch_obj);
        assert_int_equal(n, 77);
        close_backend(&b);
}

/* The uuid guard: the live holder of a handle, found in the list; dying ones hold nothing. */
static void test_find_live(void **state)
{
        static const uint8_t uuid[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88,
                                          0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 };
        static const uint8_t zero[16];
        _cleanup_free_ char *err = NULL;
        struct builder b;
        uint32_t holder = 0;

        (void)state;
        add_domain(0, XEN_DOMINF_running);
        memcpy(add_domain(3, XEN_DOMINF_dying | XEN_DOMINF_shutdown)->handle, uuid, 16);
        add_domain(4, XEN_DOMINF_running);
        b = open_backend();
        /* Only a dying instance: a restart may build the next one. dom0's zero handle is no one's.
         */
        assert_int_equal(builder_xen_ops.find_live(&b, uuid, &holder, &err), 0);
        assert_int_equal(builder_xen_ops.find_live(&b, zero, &holder, &err), 0);
        memcpy(add_domain(9, XEN_DOMINF_shutdown)->handle, uuid, 16);
        assert_int_equal(builder_xen_ops.find_live(&b, uuid, &holder, &err), 1);
        assert_int_equal(holder, 9);
        F.fail_at = F.fallible_seen; /* the next call */
        F.fail_errno = EPERM;
        assert_int_equal(builder_xen_ops.find_live(&b, uuid, &holder, &err), -EPERM);
        assert_true(starts_with(err, "xc_domain_getinfolist failed: "));
        close_backend(&b);
}

/* ---- save, restore, resume ---------------------------------------------- */

#define SAVE_FD      42 /* the fake never touches it: only that it is the one handed over */
#define SUSPENDED    (XEN_DOMINF_shutdown | (SHUTDOWN_suspend << XEN_DOMINF_shutdownshift))
#define RUNNING      XEN_DOMINF_running
#define SAVED_DOMID  7
#define RESTORE_FAIL -1

/* The caller's suspend: what the supervisor's would do to the guest, recorded in the log. */
struct fake_suspend {
        uint32_t flags_after; /* the domain's flags once it ran; 0: unchanged */
        int r;                /* what it returns */
        unsigned calls;
};

static int fake_suspend_fn(void *data, char **err_r)
{
        struct fake_suspend *s = data;

        record("suspend callback");
        s->calls++;
        if (s->flags_after)
                for (size_t i = 0; i < F.n_domains; i++)
                        if (F.domains[i].domain == SAVED_DOMID)
                                F.domains[i].flags = s->flags_after;
        if (s->r < 0)
                return err_setf(err_r, s->r, "the guest did not acknowledge");
        return 0;
}

static int save(struct builder *b, bool live, struct fake_suspend *s, char **err_r)
{
        return builder_xen_ops.save(b, SAVED_DOMID, SAVE_FD, live, fake_suspend_fn, s, err_r);
}

/* A plain save: libxc calls the suspend, which the backend checks worked, then the pages. */
static void test_save_sequence(void **state)
{
        static const char *const seq[] = {
                "xc_domain_save 7 flags=0 stream=0 recv_fd=-1 precopy=none postcopy=none "
                "checkpoint=none",
                "suspend callback",
                "xc_domain_getinfolist 7 1",
                "  suspend returned 1",
        };
        struct fake_suspend s = { .flags_after = SUSPENDED };
        _cleanup_free_ char *err = NULL;
        struct builder b;

        (void)state;
        add_domain(SAVED_DOMID, RUNNING);
        F.io_fd = SAVE_FD;
        b = open_backend();
        assert_int_equal(save(&b, false, &s, &err), 0);
        assert_null(err);
        assert_int_equal(s.calls, 1);
        /* Left suspended: neither destroyed nor resumed, whatever the caller does next. */
        assert_log(seq, ELEMENTSOF(seq));
        close_backend(&b);
}

/* A suspend that returns 0 while the guest runs on: -EIO with our words; libxc gives up. */
static void test_save_not_suspended(void **state)
{
        static const struct {
                uint32_t flags;
                const char *doing;
        } cases[] = {
                { RUNNING, "it is running" },
                { XEN_DOMINF_paused, "it is paused" },
                { XEN_DOMINF_shutdown | (SHUTDOWN_crash << XEN_DOMINF_shutdownshift),
                  "it shut down for crash" },
                { XEN_DOMINF_dying | SUSPENDED, "it is dying" },
        };
        static const char *const seq[] = {
                "xc_domain_save 7 flags=0 stream=0 recv_fd=-1 precopy=none postcopy=none "
                "checkpoint=none",
                "suspend callback",
                "xc_domain_getinfolist 7 1",
                "  suspend returned 0",
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fake_suspend s = { .flags_after = cases[i].flags };
                _cleanup_free_ char *err = NULL;
                struct builder b;
                char want[128];

                reset_between_runs();
                add_domain(SAVED_DOMID, RUNNING);
                F.io_fd = SAVE_FD;
                b = open_backend();
                assert_int_equal(save(&b, false, &s, &err), -EIO);
                snprintf(want, sizeof(want), "the domain has not suspended (%s)", cases[i].doing);
                assert_string_equal(err, want);
                assert_log(seq, ELEMENTSOF(seq));
                close_backend(&b);
        }
}

/* The caller's suspend failing is its error and message, unchanged; nothing is asked after. */
static void test_save_suspend_fails(void **state)
{
        static const char *const seq[] = {
                "xc_domain_save 7 flags=0 stream=0 recv_fd=-1 precopy=none postcopy=none "
                "checkpoint=none",
                "suspend callback",
                "  suspend returned 0",
        };
        struct fake_suspend s = { .r = -ETIMEDOUT };
        _cleanup_free_ char *err = NULL;
        struct builder b;

        (void)state;
        add_domain(SAVED_DOMID, RUNNING);
        F.io_fd = SAVE_FD;
        b = open_backend();
        assert_int_equal(save(&b, false, &s, &err), -ETIMEDOUT);
        assert_string_equal(err, "the guest did not acknowledge");
        assert_log(seq, ELEMENTSOF(seq));
        close_backend(&b);
}

/* Each fallible step of a save failing: its errno, a message naming it, nothing undone. */
static void test_save_fail_each_call(void **state)
{
        static const char *const steps[] = { "xc_domain_save", "xc_domain_getinfolist",
                                             "xc_domain_save" };

        (void)state;
        for (size_t k = 0; k < ELEMENTSOF(steps); k++) {
                struct fake_suspend s = { .flags_after = SUSPENDED };
                _cleanup_free_ char *err = NULL;
                struct builder b;
                char want[128];

                reset_between_runs();
                add_domain(SAVED_DOMID, RUNNING);
                F.io_fd = SAVE_FD;
                F.fail_errno = k == 2 ? EPIPE : EXDEV;
                b = open_backend();
                F.fail_at = (int)k;
                assert_int_equal(save(&b, false, &s, &err), -F.fail_errno);
                snprintf(want, sizeof(want), "%s failed: %s", steps[k], strerror(F.fail_errno));
                assert_string_equal(err, want);
                assert_int_equal(s.calls, k == 0 ? 0 : 1);
                for (size_t i = 0; i < F.n_log; i++)
                        assert_false(starts_with(F.log[i], "xc_domain_destroy") ||
                                     starts_with(F.log[i], "xc_domain_resume"));
                close_backend(&b);
        }
}

/* Live: refused before the guest is touched where Xen has no shadow paging, but on HAP. */
static void test_save_live(void **state)
{
        static const char *const refused[] = { "xc_physinfo", "xc_domain_getinfolist 7 1" };
        struct fake_suspend s = { .flags_after = SUSPENDED };
        _cleanup_free_ char *err = NULL;
        struct builder b;

        (void)state;
        add_domain(SAVED_DOMID, RUNNING); /* PV */
        F.io_fd = SAVE_FD;
        b = open_backend();
        assert_int_equal(save(&b, true, &s, &err), -EOPNOTSUPP);
        assert_string_equal(err, BUILDER_NO_LIVE_SAVE);
        assert_non_null(strstr(err, "log-dirty"));
        assert_non_null(strstr(err, "shadow paging"));
        assert_int_equal(s.calls, 0);
        assert_log(refused, ELEMENTSOF(refused));
        close_backend(&b);

        /* An HVM container on HAP tracks dirty pages without shadow paging. */
        reset_between_runs();
        add_domain(SAVED_DOMID, RUNNING | XEN_DOMINF_hvm_guest | XEN_DOMINF_hap);
        F.io_fd = SAVE_FD;
        b = open_backend();
        assert_int_equal(save(&b, true, &s, &err), 0);
        assert_string_equal(F.log[2], "xc_domain_save 7 flags=0x1 stream=0 recv_fd=-1 "
                                      "precopy=none postcopy=none checkpoint=none");
        close_backend(&b);

        /* With shadow paging, any guest: libxc's own precopy policy, XCFLAGS_LIVE. */
        reset_between_runs();
        add_domain(SAVED_DOMID, RUNNING);
        F.io_fd = SAVE_FD;
        F.physcaps |= XEN_SYSCTL_PHYSCAP_shadow;
        b = open_backend();
        s.calls = 0;
        assert_int_equal(save(&b, true, &s, &err), 0);
        assert_string_equal(F.log[0], "xc_physinfo");
        assert_string_equal(F.log[1], "xc_domain_save 7 flags=0x1 stream=0 recv_fd=-1 "
                                      "precopy=none postcopy=none checkpoint=none");
        assert_int_equal(s.calls, 1);
        close_backend(&b);
}

static const char *const pv_restore_sequence[] = {
        "xc_physinfo",
        "xc_domain_create domid=0x7ff4 handle=" HANDLE " ssidref=0 flags=0 iommu=0 max_vcpus=2 "
        "max_evtchn_port=1023 grant_frames=-1 maptrack_frames=-1 grant_opts=0x2 vmtrace=0 "
        "cpupool=0 emu=0 misc=0",
        "xc_domain_max_vcpus 7 2",
        "xc_domain_setmaxmem 7 132096",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_domain_set_memmap_limit 7 262144",
        "xc_domain_set_tsc_info 7 0 0 0 0",
        "xc_domain_restore 7 store=1/0 console=2/0 stream=0 callbacks=zeroed send_back_fd=-1",
        "xc_sched_id",
        "xc_sched_credit2_domain_set 7 weight=512 cap=50",
};

static const char *const pvh_restore_sequence[] = {
        "xc_physinfo",
        "xc_domain_create domid=0x7ff4 handle=" HANDLE " ssidref=3 flags=0x3 iommu=0 max_vcpus=2 "
        "max_evtchn_port=1023 grant_frames=-1 maptrack_frames=-1 grant_opts=0x2 vmtrace=0 "
        "cpupool=0 emu=0x1 misc=0",
        "xc_domain_max_vcpus 7 2",
        "xc_domain_setmaxmem 7 263168",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_evtchn_alloc_unbound 7 0",
        "xc_hvm_param_set 7 10 1",
        "xc_domain_set_tsc_info 7 0 0 0 0",
        "xc_set_paging_mempool_size 7 4194304",
        "xc_domain_restore 7 store=1/0 console=2/0 stream=0 callbacks=zeroed send_back_fd=-1",
};

/*
 * The create's domain, limits and event channels, but no CPUID policy (the stream's) and no
 * image: xc_domain_restore in its place, then the scheduler. No kernel is needed.
 */
static void test_restore_sequence(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        _cleanup_free_ char *err = NULL;

        (void)state;
        config_pv(&cfg);
        cfg.kernel = NULL;
        cfg.ramdisk = NULL;
        F.io_fd = SAVE_FD;
        b = open_backend();
        assert_int_equal(builder_xen_ops.restore(&b, &cfg, SAVE_FD, &d, &err), 0);
        assert_null(err);
        assert_log(pv_restore_sequence, ELEMENTSOF(pv_restore_sequence));
        assert_int_equal(d.domid, FAKE_DOMID);
        assert_int_equal(d.store_port, 1);
        assert_int_equal(d.console_port, 2);
        /* The rings the restored guest uses: what the restore returned. */
        assert_int_equal(d.store_mfn, RESTORED_STORE_MFN);
        assert_int_equal(d.console_mfn, RESTORED_CONSOLE_MFN);
        assert_true(F.domain_live);
        assert_int_equal(F.allocate_ok, 0);
        close_backend(&b);

        reset_between_runs();
        config_pvh(&cfg);
        F.io_fd = SAVE_FD;
        b = open_backend();
        assert_int_equal(builder_xen_ops.restore(&b, &cfg, SAVE_FD, &d, &err), 0);
        assert_log(pvh_restore_sequence, ELEMENTSOF(pvh_restore_sequence));
        assert_int_equal(d.store_mfn, RESTORED_STORE_MFN);
        close_backend(&b);
}

/* Every call of a restore failing in turn: its error, then only the domain's destroy. */
static void test_restore_fail_each_call(void **state)
{
        static const struct {
                void (*config)(struct domain_config *);
                const char *const *seq;
                size_t n;
        } kinds[] = {
                { config_pv, pv_restore_sequence, ELEMENTSOF(pv_restore_sequence) },
                { config_pvh, pvh_restore_sequence, ELEMENTSOF(pvh_restore_sequence) },
        };

        (void)state;
        for (size_t t = 0; t < ELEMENTSOF(kinds); t++)
                for (size_t k = 0; k < kinds[t].n; k++) {
                        struct domain_config cfg;
                        struct builder b;
                        struct builder_domain d = { .domid = 0xdead };
                        _cleanup_free_ char *err = NULL;
                        bool created = k > 1; /* after xc_domain_create */
                        const char *call;

                        reset_between_runs();
                        kinds[t].config(&cfg);
                        F.io_fd = SAVE_FD;
                        b = open_backend();
                        F.fail_at = (int)k;
                        assert_int_equal(builder_xen_ops.restore(&b, &cfg, SAVE_FD, &d, &err),
                                         -EXDEV);
                        call = F.failed_call;
                        assert_non_null(call);
                        assert_true(starts_with(kinds[t].seq[k], call));
                        assert_true(starts_with(err, call));
                        assert_non_null(strstr(err, strerror(EXDEV)));
                        /* Up to the failing call as a restore goes, then the destroy alone. */
                        assert_int_equal(F.n_log, k + 1 + created);
                        for (size_t i = 0; i <= k; i++)
                                assert_string_equal(F.log[i], kinds[t].seq[i]);
                        if (created)
                                assert_string_equal(F.log[k + 1], "xc_domain_destroy 7");
                        assert_int_equal(F.destroy_calls, created);
                        assert_false(F.domain_live);
                        assert_int_equal(F.evtchn_live, 0);
                        assert_int_equal(d.domid, 0xdead);
                        close_backend(&b);
                }
}

/* A restore refuses what a create refuses, before any hypercall. */
static void test_restore_rejects(void **state)
{
        struct domain_config cfg;
        struct builder b;
        struct builder_domain d = { 0 };
        _cleanup_free_ char *err = NULL;

        (void)state;
        config_pv(&cfg);
        cfg.type = DOMAIN_TYPE_HVM;
        b = open_backend();
        assert_int_equal(builder_xen_ops.restore(&b, &cfg, SAVE_FD, &d, &err), -EOPNOTSUPP);
        cfg.type = DOMAIN_TYPE_PV;
        cfg.maxmem_mib = 64;
        assert_int_equal(builder_xen_ops.restore(&b, &cfg, SAVE_FD, &d, &err), -EINVAL);
        assert_int_equal(F.n_log, 0);
        close_backend(&b);
}

/* Resume is the cooperative one (fast=1), and only for a domain that is suspended. */
static void test_resume(void **state)
{
        static const char *const seq[] = { "xc_domain_getinfolist 7 1",
                                           "xc_domain_resume 7 fast=1" };
        static const char *const refused[] = { "xc_domain_getinfolist 7 1" };
        _cleanup_free_ char *err = NULL;
        struct builder b;

        (void)state;
        add_domain(SAVED_DOMID, SUSPENDED);
        b = open_backend();
        assert_int_equal(builder_xen_ops.resume(&b, SAVED_DOMID, &err), 0);
        assert_log(seq, ELEMENTSOF(seq));

        clear_log();
        F.fallible_seen = 0;
        F.fail_at = 1;
        assert_int_equal(builder_xen_ops.resume(&b, SAVED_DOMID, &err), -EXDEV);
        assert_true(starts_with(err, "xc_domain_resume failed: "));

        clear_log();
        F.fail_at = NO_FAILURE;
        F.domains[0].flags = RUNNING;
        assert_int_equal(builder_xen_ops.resume(&b, SAVED_DOMID, &err), -EINVAL);
        assert_string_equal(err, "domain 7 is not suspended (it is running)");
        assert_log(refused, ELEMENTSOF(refused));
        assert_int_equal(builder_xen_ops.resume(&b, 8, &err), -ESRCH);
        close_backend(&b);
}

/* ---- the host and the vcpus --------------------------------------------- */

static void test_host_info(void **state)
{
        static const char *const seq[] = { "xc_version 0", "xc_version 1", "xc_version 3",
                                           "xc_physinfo", "xc_sched_id" };
        struct builder b;
        struct builder_host_info h;
        _cleanup_free_ char *err = NULL;

        (void)state;
        b = open_backend();
        memset(&h, 0, sizeof(h));
        assert_int_equal(builder_xen_ops.host_info(&b, &h, &err), 0);
        assert_log(seq, ELEMENTSOF(seq));
        assert_string_equal(h.version, "4.17.3-pre");
        assert_string_equal(h.capabilities, F.capabilities);
        assert_string_equal(h.virt_caps, "pv hvm hap gnttab-v1 gnttab-v2");
        assert_string_equal(h.scheduler, "credit2");
        assert_int_equal(h.nr_cpus, 4);
        assert_int_equal(h.nr_nodes, 1);
        assert_int_equal(h.cores_per_socket, 2);
        assert_int_equal(h.threads_per_core, 2);
        assert_int_equal(h.cpu_khz, 2394012);
        assert_int_equal(h.total_kib, 4194304);
        assert_int_equal(h.free_kib, 1048576);

        /* Every capability at once is longer than the four a host usually has: all are named. */
        F.physcaps = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv | XEN_SYSCTL_PHYSCAP_directio |
                     XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_shadow |
                     XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share | XEN_SYSCTL_PHYSCAP_vmtrace |
                     XEN_SYSCTL_PHYSCAP_vpmu | XEN_SYSCTL_PHYSCAP_gnttab_v1 |
                     XEN_SYSCTL_PHYSCAP_gnttab_v2;
        F.sched_id = 42;
        F.extraversion = "";
        /* A capability list longer than ours is cut after a whole word. */
        F.capabilities = "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 "
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
                         "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb "
                         "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc "
                         "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
        clear_log();
        assert_int_equal(builder_xen_ops.host_info(&b, &h, &err), 0);
        assert_string_equal(h.version, "4.17");
        assert_string_equal(h.virt_caps, "pv hvm hvm_directio pv_directio hap shadow "
                                         "iommu_hap_pt_share vmtrace vpmu gnttab-v1 gnttab-v2");
        assert_string_equal(h.scheduler, "unknown (42)");
        assert_int_equal(strlen(h.capabilities), 252);
        assert_true(h.capabilities[251] == 'c');

        /* Each call that fails is named, with its errno. */
        for (size_t k = 0; k < ELEMENTSOF(seq); k++) {
                const char *call = seq[k];
                char name[32];

                snprintf(name, sizeof(name), "%.*s", (int)strcspn(call, " "), call);
                F.fallible_seen = 0;
                F.fail_at = (int)k;
                free(err);
                err = NULL;
                assert_int_equal(builder_xen_ops.host_info(&b, &h, &err), -EXDEV);
                assert_true(starts_with(err, name));
        }
        close_backend(&b);
}

static void test_set_max_memory(void **state)
{
        static const char *const seq[] = { "xc_domain_getinfolist 4 1",
                                           "xc_domain_setmaxmem 4 263168" };
        struct builder b;
        _cleanup_free_ char *err = NULL;

        (void)state;
        add_domain(4, XEN_DOMINF_hvm_guest);
        b = open_backend();
        /* The limit alone, with the slack: a populate-on-demand target is a target's business. */
        assert_int_equal(builder_xen_ops.set_max_memory(&b, 4, 262144, &err), 0);
        assert_log(seq, ELEMENTSOF(seq));
        clear_log();
        assert_int_equal(builder_xen_ops.set_max_memory(&b, 4, 0, &err), -EINVAL);
        assert_string_equal(err, "memory maximum 0 KiB out of range");
        assert_int_equal(F.n_log, 0);
        assert_int_equal(builder_xen_ops.set_max_memory(&b, 2, 262144, &err), -ESRCH);
        assert_int_equal(F.n_log, 1);
        clear_log();
        F.fallible_seen = 0;
        F.fail_at = 1;
        assert_int_equal(builder_xen_ops.set_max_memory(&b, 4, 262144, &err), -EXDEV);
        assert_true(starts_with(err, "xc_domain_setmaxmem failed"));
        close_backend(&b);
}

static void test_vcpu_list(void **state)
{
        struct builder b;
        _cleanup_free_ struct builder_vcpu_info *v = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n = 0;

        (void)state;
        add_domain(3, 0);
        add_domain(6, 0)->max_vcpu_id = XEN_INVALID_MAX_VCPU_ID;
        F.hard[1][0] = 0x06; /* cpus 1-2 */
        F.hard[1][1] = 0x00;
        F.soft[1][0] = 0x04; /* cpu 2 */
        F.soft[1][1] = 0x00;
        b = open_backend();
        assert_int_equal(builder_xen_ops.vcpu_list(&b, 3, &v, &n, &err), 0);
        assert_int_equal(n, 4);
        assert_true(v[0].online && v[0].running && !v[0].blocked);
        assert_true(v[1].online && !v[1].running && v[1].blocked);
        assert_false(v[2].online);
        for (unsigned i = 0; i < 4; i++) {
                assert_int_equal(v[i].id, i);
                assert_int_equal(v[i].cpu, 3 - i);
                assert_int_equal(v[i].cpu_time_ns, 1000000ULL * (i + 1));
        }
        /* The fake's maps say all 16 cpus libxc sized them for: all decoded, none invented. */
        assert_int_equal(v[0].hard.bits[0], 0xffff);
        assert_int_equal(v[0].soft.bits[0], 0xffff);
        assert_int_equal(v[0].hard.bits[1], 0);
        assert_int_equal(v[1].hard.bits[0], 0x6);
        assert_int_equal(v[1].soft.bits[0], 0x4);
        assert_string_equal(F.log[0], "xc_domain_getinfolist 3 1");
        assert_string_equal(F.log[3], "xc_vcpu_getinfo 3 0");
        assert_string_equal(F.log[4], "xc_vcpu_getaffinity 3 0 flags=0x3");
        assert_int_equal(F.n_log, 3 + 2 * 4);

        /* A domain whose vcpus are not allocated yet has none. */
        free(v);
        v = NULL;
        assert_int_equal(builder_xen_ops.vcpu_list(&b, 6, &v, &n, &err), 0);
        assert_int_equal(n, 0);
        assert_null(v);
        assert_int_equal(builder_xen_ops.vcpu_list(&b, 5, &v, &n, &err), -ESRCH);

        /* A failing query is named; nothing is handed out. */
        clear_log();
        F.fallible_seen = 0;
        F.fail_at = 3 + 2 * 2 + 1; /* vcpu 2's affinity */
        n = 99;
        assert_int_equal(builder_xen_ops.vcpu_list(&b, 3, &v, &n, &err), -EXDEV);
        assert_true(starts_with(err, "xc_vcpu_getaffinity failed"));
        assert_null(v);
        close_backend(&b);
}

static struct builder_cpumap cpus(unsigned a, unsigned b)
{
        struct builder_cpumap m = { { 0 } };

        for (unsigned c = a; c <= b; c++)
                builder_cpumap_set(&m, c);
        return m;
}

static void test_vcpu_pin(void **state)
{
        const struct builder_cpumap two_three = cpus(2, 3), one = cpus(1, 1), seven = cpus(7, 7),
                                    none = { { 0 } };
        struct builder b;
        _cleanup_free_ char *err = NULL;

        (void)state;
        add_domain(3, 0);
        b = open_backend();
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 1, &two_three, NULL, &err), 0);
        {
                static const char *const seq[] = {
                        "xc_domain_getinfolist 3 1", "xc_physinfo", "xc_get_cpumap_size",
                        "xc_get_cpumap_size",
                        "xc_vcpu_setaffinity 3 1 hard=0c00 soft=0000 flags=0x1"
                };
                assert_log(seq, ELEMENTSOF(seq));
        }
        assert_int_equal(F.hard[1][0], 0x0c);
        assert_int_equal(F.soft[1][0], 0xff); /* left as it was */
        clear_log();
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 0, NULL, &one, &err), 0);
        assert_string_equal(F.log[F.n_log - 1],
                            "xc_vcpu_setaffinity 3 0 hard=0000 soft=0200 flags=0x2");
        clear_log();
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 3, &one, &two_three, &err), 0);
        assert_string_equal(F.log[F.n_log - 1],
                            "xc_vcpu_setaffinity 3 3 hard=0200 soft=0c00 flags=0x3");

        /* Refusals in words, before Xen is asked. */
        clear_log();
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 4, &one, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: domain 3 has no vcpu 4: its vcpus are 0-3");
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 0, &seven, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: cpu 7 does not exist: the host has cpus 0-3");
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 0, NULL, &seven, &err), -EINVAL);
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 0, &none, NULL, &err), -EINVAL);
        assert_string_equal(err, "vcpu-pin: the hard affinity of vcpu 0 names no cpu");
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 5, 0, &one, NULL, &err), -ESRCH);
        for (size_t i = 0; i < F.n_log; i++)
                assert_false(starts_with(F.log[i], "xc_vcpu_setaffinity"));

        /* Xen's own refusal (a hard map outside the domain's cpupool) comes back named. */
        clear_log();
        F.fallible_seen = 0;
        F.fail_at = 4;
        F.fail_errno = EINVAL;
        assert_int_equal(builder_xen_ops.vcpu_pin(&b, 3, 0, &one, NULL, &err), -EINVAL);
        assert_true(starts_with(err, "xc_vcpu_setaffinity failed: Invalid argument"));
        close_backend(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_pv_build_sequence),
                T(test_pv_build_from_kernel_cache),
                T(test_pv_build_fills_kernel_cache),
                T(test_pv_build_fill_refused),
                T(test_pvh_build_sequence),
                T(test_pv_minimal),
                T(test_pvh_high_memory_and_shadow),
                T(test_pv_fail_each_call),
                T(test_pvh_fail_each_call),
                T(test_fail_with_xc_error_only),
                T(test_fail_out_of_memory),
                T(test_fail_errno_wins),
                T(test_missing_image_file_named),
                T(test_rollback_destroy_fails),
                T(test_credit_scheduler_and_unknown_scheduler),
                T(test_hvm_rejected),
                T(test_no_kernel_rejected),
                T(test_open_failures),
                T(test_introduce_failure),
                T(test_pause_unpause_destroy_dumpcore),
                T(test_shutdown_reasons),
                T(test_set_memory),
                T(test_set_vcpus),
                T(test_set_handle),
                T(test_list_decodes_flags_and_reasons),
                T(test_list_batches),
                T(test_list_failure),
                T(test_find_live),
                T(test_save_sequence),
                T(test_save_not_suspended),
                T(test_save_suspend_fails),
                T(test_save_fail_each_call),
                T(test_save_live),
                T(test_restore_sequence),
                T(test_restore_fail_each_call),
                T(test_restore_rejects),
                T(test_resume),
                T(test_host_info),
                T(test_set_max_memory),
                T(test_vcpu_list),
                T(test_vcpu_pin),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
