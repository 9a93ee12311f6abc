/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * builder-xen.c — the real backend: libxenctrl + libxenguest on Xen 4.17.
 *
 * The build follows what libxl 4.17 does for a guest without devices
 * (libxl__domain_make, libxl__build_pre, libxl__build_pv / libxl__build_hvm,
 * libxl__build_post), with libxl's defaults for everything our config does not
 * expose. The layout (XenStore) is not written here: the supervisor writes it
 * between create() and introduce().
 *
 * Save, restore and resume are libxenguest's (DEVICES.md C.1, C.4): a restore
 * makes the domain as a create does (libxl__domain_make, libxl__build_pre
 * without the CPUID policy, which the stream carries) and hands it to
 * xc_domain_restore instead of the xc_dom_* image build.
 *
 * Every hypervisor call goes through this file only, so the tests wrap each
 * of them with -Wl,--wrap (tests/test-builder-xen.c).
 *
 * Debian's libxen-dev 4.17 declares the xc_dom_* builder API in xenguest.h
 * (upstream merged xenctrl_dom.h into it in 4.15), so no private header is
 * needed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenguest.h>
#include <xenstore.h>
#include <xen/hvm/params.h>

#include "builders/builder-internal.h"
#include "builders/host-linux.h"
#include "builders/kernel-image.h"
#include "common/debug.h"
#include "common/error.h"

/* libxl's LIBXL_MAXMEM_CONSTANT: slack above the target for the guest's own allocations (KiB). */
#define XEN_MAXMEM_SLACK_KIB 1024

/* libxl's default b_info->event_channels. */
#define XEN_MAX_EVTCHN_PORT 1023

/*
 * libxl's LIBXL_MAX_GRANT_DEFAULT: -1 lets Xen use its gnttab_max_frames and
 * gnttab_max_maptrack_frames (64 and 1024 unless the admin changed them), as
 * xl does when xl.conf sets nothing.
 */
#define XEN_GRANT_FRAMES_DEFAULT -1

/*
 * xen/arch-x86/cpuid.h's XEN_CPUID_TSC_MODE_DEFAULT (emulate the TSC only when
 * needed), which libxl passes for tsc_mode = "default"; libxen-dev documents the
 * value in that header's comment but does not define the constant.
 */
#define XEN_TSC_MODE_DEFAULT 0

/* The domain holding xenstored and xenconsoled: dom0 (libxl reads /tool/xenstored/domid). */
#define XEN_BACKEND_DOMID 0

/* Domains asked of xc_domain_getinfolist per call. */
#define XEN_LIST_BATCH 256

/* Xen's default credit/credit2 parameters: nothing to set when the config keeps them. */
#define XEN_SCHED_DEFAULT_WEIGHT 256
#define XEN_SCHED_DEFAULT_CAP    0

/*
 * PVH without a device model: libxl__build_hvm makes the MMIO hole start at the
 * lowest of the special pages, the local APIC and libacpi's ACPI_INFO page, so
 * all three lie inside it. The last two are libacpi constants libxen-dev does
 * not ship.
 */
#define XEN_LAPIC_BASE_ADDRESS         0xfee00000ULL
#define XEN_ACPI_INFO_PHYSICAL_ADDRESS 0xfc000000ULL
#define XEN_SPECIAL_PAGES_START                                                                    \
        ((uint64_t)(X86_HVM_END_SPECIAL_REGION - X86_HVM_NR_SPECIAL_PAGES) << XC_PAGE_SHIFT)
#define XEN_4G (1ULL << 32)

/* The e820 of a PVH guest: low RAM, the special pages, high RAM. */
#define XEN_PVH_E820_MAX 3

struct xen_backend {
        xc_interface *xch;
        struct xs_handle *xsh;
};

static void xc_dom_releasep(struct xc_dom_image **dom)
{
        if (*dom)
                xc_dom_release(*dom);
}

static struct xen_backend *backend_of(struct builder *b)
{
        return b->data;
}

/* A hypervisor call, at xensupd --log-level=debug (common/debug.h). */
#define xen_debug(fmt, ...) debug_printf("hypervisor call " fmt, ##__VA_ARGS__)

/* Start a hypervisor step: forget earlier errors so a failure reports its own. */
static void step_begin(struct xen_backend *x)
{
        errno = 0;
        xc_clear_last_error(x->xch);
}

/*
 * The errno of a failed libxc call. Some (xc_dom_*) only record an xc_error
 * code; and when the host runs out of memory, a partial populate_physmap
 * leaves EBUSY while libxenguest records XC_OUT_OF_MEMORY, which is the
 * truth the caller can act on.
 */
static int step_errno(const xc_error *xe)
{
        enum xc_error_code code = xe ? xe->code : XC_ERROR_NONE;

        if (code == XC_OUT_OF_MEMORY)
                return ENOMEM;
        if (errno > 0)
                return errno;
        switch (code) {
        case XC_INVALID_KERNEL:
                return ENOEXEC;
        case XC_OUT_OF_MEMORY:
                return ENOMEM;
        case XC_INVALID_PARAM:
                return EINVAL;
        default:
                return EIO;
        }
}

/* The length of libxc's message for the last error without its trailing newlines; 0 if none. */
static int xc_words(const xc_error *xe)
{
        size_t n;

        if (!xe || xe->code == XC_ERROR_NONE || !xe->message[0])
                return 0;
        n = strnlen(xe->message, sizeof(xe->message));
        while (n > 0 && xe->message[n - 1] == '\n')
                n--;
        return (int)n;
}

/*
 * Report a failed step as "STEP failed: strerror (libxc's message)" and return
 * the negative errno. Call it right after the failing call, before anything
 * that could change errno.
 */
static int step_fail(struct xen_backend *x, char **err_r, const char *step)
{
        const xc_error *xe = xc_get_last_error(x->xch);
        int e = step_errno(xe);
        int n = xc_words(xe);

        if (n > 0)
                return err_setf(err_r, -e, "%s failed: %s (%.*s)", step, strerror(e), n,
                                xe->message);
        return err_setf(err_r, -e, "%s failed: %s", step, strerror(e));
}

/*
 * A failed image file load as "load WHAT PATH: strerror (libxc's message)":
 * a missing kernel is ENOENT like any missing file, so the message must say
 * which file it was. Call it right after the failing call, as step_fail.
 */
static int step_fail_file(struct xen_backend *x, char **err_r, const char *what, const char *path)
{
        const xc_error *xe = xc_get_last_error(x->xch);
        int e = step_errno(xe);
        int n = xc_words(xe);

        if (n > 0)
                return err_setf(err_r, -e, "load %s %s: %s (%.*s)", what, path, strerror(e), n,
                                xe->message);
        return err_setf(err_r, -e, "load %s %s: %s", what, path, strerror(e));
}

/* For calls that return a negative errno instead of setting errno (xc_cpuid_apply_policy). */
static int step_fail_rc(struct xen_backend *x, char **err_r, const char *step, int rc)
{
        errno = rc < 0 ? -rc : EIO;
        return step_fail(x, err_r, step);
}

static int xen_open(struct builder *b, const struct builder_options *opts, char **err_r)
{
        _cleanup_free_ struct xen_backend *x = calloc(1, sizeof(*x));
        int e;

        (void)opts;
        if (!x)
                return err_setf(err_r, -ENOMEM, "out of memory");

        errno = 0;
        x->xch = xc_interface_open(NULL, NULL, 0);
        if (!x->xch) {
                e = errno > 0 ? errno : EIO;
                return err_setf(
                    err_r, -e,
                    "xc_interface_open failed: %s (is this a Xen dom0 with /dev/xen/privcmd? "
                    "--hypervisor=sim runs without Xen)",
                    strerror(e));
        }

        errno = 0;
        x->xsh = xs_open(0);
        if (!x->xsh) {
                e = errno > 0 ? errno : EIO;
                xc_interface_close(x->xch);
                return err_setf(err_r, -e, "xs_open failed: %s (is xenstored running?)",
                                strerror(e));
        }

        b->data = TAKE_PTR(x);
        return 0;
}

static void xen_close(struct builder *b)
{
        struct xen_backend *x = backend_of(b);

        if (!x)
                return;
        xs_close(x->xsh);
        xc_interface_close(x->xch);
        free(x);
        b->data = NULL;
}

/* What libxl derives from xc_physinfo for a new domain. */
struct host_caps {
        bool hap;
        unsigned grant_version;
};

static int host_caps_get(struct xen_backend *x, struct host_caps *caps, char **err_r)
{
        xc_physinfo_t info = { 0 };

        step_begin(x);
        if (xc_physinfo(x->xch, &info) < 0)
                return step_fail(x, err_r, "xc_physinfo");

        caps->hap = info.capabilities & XEN_SYSCTL_PHYSCAP_hap;
        /* libxl: the highest grant table version the host offers. */
        caps->grant_version = info.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v2   ? 2
                              : info.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1 ? 1
                                                                                 : 0;
        return 0;
}

/* libxl__domain_make + libxl__arch_domain_prepare_config for a guest without passthrough. */
static void createdomain_fill(const struct domain_config *cfg, const struct host_caps *caps,
                              struct xen_domctl_createdomain *c)
{
        *c = (struct xen_domctl_createdomain){
                .ssidref = cfg->ssidref,
                .max_vcpus = cfg->maxvcpus,
                .max_evtchn_port = XEN_MAX_EVTCHN_PORT,
                .max_grant_frames = XEN_GRANT_FRAMES_DEFAULT,
                .max_maptrack_frames = XEN_GRANT_FRAMES_DEFAULT,
                .grant_opts = XEN_DOMCTL_GRANT_version(caps->grant_version),
                .cpupool_id = 0,
        };
        memcpy(c->handle, cfg->uuid, sizeof(c->handle));

        if (cfg->type == DOMAIN_TYPE_PVH) {
                c->flags |= XEN_DOMCTL_CDF_hvm;
                /* libxl: hap when the host has it, shadow paging otherwise; oos stays on. */
                if (caps->hap)
                        c->flags |= XEN_DOMCTL_CDF_hap;
                /* PVH has no emulated devices but the local APIC. */
                c->arch.emulation_flags = XEN_X86_EMU_LAPIC;
        } else
                c->arch.emulation_flags = 0;
}

/* libxl_get_required_shadow_memory: the paging pool libxl gives an HVM-container guest (KiB). */
static uint64_t paging_pool_kib(const struct domain_config *cfg)
{
        return 4 * (256 * (uint64_t)cfg->maxvcpus + 2 * cfg->maxmem_mib);
}

/*
 * libxl__build_pre and libxl__arch_domain_create: limits, event channels and
 * the per-domain settings that must precede the image, or the stream of a
 * restore (whose TSC record then overrides the TSC mode set here).
 */
static int build_pre(struct xen_backend *x, const struct domain_config *cfg, uint32_t domid,
                     bool restore, struct builder_domain *out, char **err_r)
{
        int r, port;

        step_begin(x);
        if (xc_domain_max_vcpus(x->xch, domid, cfg->maxvcpus) < 0)
                return step_fail(x, err_r, "xc_domain_max_vcpus");

        /* libxl sets max pages to the target plus slack; mem-set raises it later. */
        step_begin(x);
        if (xc_domain_setmaxmem(x->xch, domid, cfg->memory_mib * 1024 + XEN_MAXMEM_SLACK_KIB) < 0)
                return step_fail(x, err_r, "xc_domain_setmaxmem");

        step_begin(x);
        port = xc_evtchn_alloc_unbound(x->xch, domid, XEN_BACKEND_DOMID);
        if (port < 0)
                return step_fail(x, err_r, "xc_evtchn_alloc_unbound (store)");
        out->store_port = port;

        step_begin(x);
        port = xc_evtchn_alloc_unbound(x->xch, domid, XEN_BACKEND_DOMID);
        if (port < 0)
                return step_fail(x, err_r, "xc_evtchn_alloc_unbound (console)");
        out->console_port = port;

        if (cfg->type == DOMAIN_TYPE_PVH) {
                step_begin(x);
                if (xc_hvm_param_set(x->xch, domid, HVM_PARAM_TIMER_MODE,
                                     HVMPTM_no_delay_for_missed_ticks) < 0)
                        return step_fail(x, err_r, "xc_hvm_param_set (HVM_PARAM_TIMER_MODE)");
        } else {
                /* The guest's pseudo-physical map may grow to maxmem by ballooning. */
                step_begin(x);
                if (xc_domain_set_memmap_limit(x->xch, domid, cfg->maxmem_mib * 1024) < 0)
                        return step_fail(x, err_r, "xc_domain_set_memmap_limit");
        }

        step_begin(x);
        if (xc_domain_set_tsc_info(x->xch, domid, XEN_TSC_MODE_DEFAULT, 0, 0, 0) < 0)
                return step_fail(x, err_r, "xc_domain_set_tsc_info");

        if (cfg->type == DOMAIN_TYPE_PVH) {
                step_begin(x);
                if (xc_set_paging_mempool_size(x->xch, domid, paging_pool_kib(cfg) << 10) < 0)
                        return step_fail(x, err_r, "xc_set_paging_mempool_size");
        }

        /* A restored guest keeps the policy it ran with: its stream's CPUID and MSR records. */
        if (restore)
                return 0;

        /* libxl__cpuid_legacy for a new domain: pae on, no itsc, no nested virt. */
        step_begin(x);
        r = xc_cpuid_apply_policy(x->xch, domid, false, NULL, 0, true, false, false, NULL, NULL);
        if (r != 0)
                return step_fail_rc(x, err_r, "xc_cpuid_apply_policy", r);

        return 0;
}

/*
 * libxl__build_hvm's memory layout for PVH without a device model, and
 * domain_construct_memmap's e820 for it (no ACPI modules: see below).
 */
static unsigned pvh_layout(const struct domain_config *cfg, struct xc_dom_image *dom,
                           struct e820entry e820[XEN_PVH_E820_MAX])
{
        uint64_t mem_size = cfg->maxmem_mib << 20;
        uint64_t start = XEN_SPECIAL_PAGES_START, mmio_start, lowmem_end, highmem_end = 0;
        unsigned n = 0;

        if (start > XEN_LAPIC_BASE_ADDRESS)
                start = XEN_LAPIC_BASE_ADDRESS;
        if (start > XEN_ACPI_INFO_PHYSICAL_ADDRESS)
                start = XEN_ACPI_INFO_PHYSICAL_ADDRESS;
        dom->mmio_size = XEN_4G - start;
        mmio_start = XEN_4G - dom->mmio_size;

        lowmem_end = mem_size;
        if (lowmem_end > mmio_start) {
                highmem_end = XEN_4G + (lowmem_end - mmio_start);
                lowmem_end = mmio_start;
        }
        dom->lowmem_end = lowmem_end;
        dom->highmem_end = highmem_end;
        dom->mmio_start = mmio_start;
        dom->vga_hole_size = 0;
        dom->device_model = false;
        /* A target below maxmem leaves the rest to populate-on-demand, as libxl does. */
        dom->target_pages = cfg->memory_mib << (20 - XC_PAGE_SHIFT);

        e820[n++] = (struct e820entry){ .addr = 0, .size = lowmem_end, .type = E820_RAM };
        e820[n++] = (struct e820entry){ .addr = XEN_SPECIAL_PAGES_START,
                                        .size = (uint64_t)X86_HVM_NR_SPECIAL_PAGES << XC_PAGE_SHIFT,
                                        .type = E820_RESERVED };
        if (highmem_end)
                e820[n++] = (struct e820entry){ .addr = XEN_4G,
                                                .size = highmem_end - XEN_4G,
                                                .type = E820_RAM };
        return n;
}

/*
 * libxl__build_pv / libxl__build_hvm + libxl__build_dom: load and boot the
 * image with libxenguest. The xc_dom image is released on every path.
 *
 * PVH is built as libxl does with acpi=0: libxl's ACPI tables come from
 * libacpi, which is compiled into libxl and not shipped as a library.
 */
/* As libxenguest's default cap on an image (XC_DOM_DECOMPRESS_MAX). */
#define XEN_IMAGE_MAX (1024u * 1024 * 1024)

/*
 * An image's whole content: read from the fd the build opened (never by name, as root), or the
 * kernel cache's image mapped private (its pages shared with every build of that kernel).
 */
struct image_blob {
        void *data;
        size_t size;
        bool mapped;
};

static void image_blob_done(struct image_blob *b)
{
        if (b->mapped)
                munmap(b->data, b->size);
        else
                free(b->data);
        b->data = NULL;
}

/* The size of the image file fd, within what libxenguest takes. */
static int image_size(int fd, const char *what, const char *path, size_t *size_r, char **err_r)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return err_setf(err_r, -errno, "load %s %s: %s", what, path, strerror(errno));
        if (st.st_size <= 0 || (uint64_t)st.st_size > XEN_IMAGE_MAX)
                return err_setf(err_r, -EFBIG, "load %s %s: %s (%lld bytes; allowed: 1 to %u)",
                                what, path, st.st_size <= 0 ? "empty" : "too large",
                                (long long)st.st_size, XEN_IMAGE_MAX);
        *size_r = (size_t)st.st_size;
        return 0;
}

static int image_read(int fd, const char *what, const char *path, struct image_blob *b,
                      char **err_r)
{
        size_t cap, n = 0;
        int r = image_size(fd, what, path, &cap, err_r);

        if (r < 0)
                return r;
        b->data = malloc(cap);
        if (!b->data)
                return err_setf(err_r, -ENOMEM, "load %s %s: out of memory", what, path);
        /* pread from 0: the caller's open file description may have any offset. */
        while (n < cap) {
                ssize_t k = pread(fd, (char *)b->data + n, cap - n, (off_t)n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return err_setf(err_r, -errno, "load %s %s: %s", what, path,
                                        strerror(errno));
                if (k == 0)
                        return err_setf(err_r, -EAGAIN, "load %s %s: the file shrank while read",
                                        what, path);
                n += (size_t)k;
        }
        b->size = n;
        return 0;
}

/* Private and writable, as libxenguest may scribble on its blob: the sealed pages stay as they are.
 */
static int image_map(int fd, const char *path, struct image_blob *b, char **err_r)
{
        size_t size;
        void *p;
        int r = image_size(fd, "kernel", path, &size, err_r);

        if (r < 0)
                return r;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return err_setf(err_r, -errno, "load kernel %s from the kernel cache: %s", path,
                                strerror(errno));
        *b = (struct image_blob){ .data = p, .size = size, .mapped = true };
        return 0;
}

/* The kernel as the build loads it: the cache's image when it has one, else the file. */
static int kernel_load(const struct domain_config *cfg, const struct builder_images *img,
                       struct image_blob *b, char **err_r)
{
        if (img->kernel_cached_fd >= 0)
                return image_map(img->kernel_cached_fd, cfg->kernel, b, err_r);
        return image_read(img->kernel_fd, "kernel", cfg->kernel, b, err_r);
}

/*
 * Once libxenguest has inflated the kernel (its blob is the ELF now), write its loadable image
 * for the cache: true once it is whole. Never fails the build: an image not written leaves
 * fill_fd empty, and the kernel is inflated again next time.
 */
static bool kernel_fill(const struct xc_dom_image *dom, const char *path, int fill_fd)
{
        _cleanup_free_ char *err = NULL;
        uint64_t bytes = 0;
        uint64_t t0 = debug_now_ms();

        if (kernel_image_write(dom->kernel_blob, dom->kernel_size, fill_fd, &bytes, &err) < 0) {
                debug_printf("kernel %s: %s", path, err);
                kernel_image_discard(fill_fd);
                return false;
        }
        debug_printf("kernel %s: loadable image of %" PRIu64 " bytes (of %zu) written in %" PRIu64
                     " ms",
                     path, bytes, dom->kernel_size, debug_now_ms() - t0);
        return true;
}

static int build_image(struct xen_backend *x, const struct domain_config *cfg,
                       const struct builder_images *img, uint32_t domid, struct builder_domain *out,
                       char **err_r)
{
        /* Declared first: bootlate_hvm reads it through dom->e820 until the release. */
        struct e820entry e820[XEN_PVH_E820_MAX];
        /* Before dom: libxenguest points into them until the release. */
        _cleanup_(image_blob_done) struct image_blob kernel = { 0 }, ramdisk = { 0 };
        _cleanup_(xc_dom_releasep) struct xc_dom_image *dom = NULL;
        bool pvh = cfg->type == DOMAIN_TYPE_PVH;
        unsigned n_e820 = 0;
        int r;

        step_begin(x);
        dom = xc_dom_allocate(x->xch, cfg->cmdline, NULL);
        if (!dom)
                return step_fail(x, err_r, "xc_dom_allocate");
        dom->container_type = pvh ? XC_DOM_HVM_CONTAINER : XC_DOM_PV_CONTAINER;

        r = kernel_load(cfg, img, &kernel, err_r);
        if (r < 0)
                return r;
        step_begin(x);
        if (xc_dom_kernel_mem(dom, kernel.data, kernel.size) != 0)
                return step_fail_file(x, err_r, "kernel", cfg->kernel);

        if (cfg->ramdisk && cfg->ramdisk[0]) {
                r = image_read(img->ramdisk_fd, "ramdisk", cfg->ramdisk, &ramdisk, err_r);
                if (r < 0)
                        return r;
                step_begin(x);
                if (xc_dom_module_mem(dom, ramdisk.data, ramdisk.size, NULL) != 0)
                        return step_fail_file(x, err_r, "ramdisk", cfg->ramdisk);
        }

        dom->flags = 0;
        dom->console_evtchn = out->console_port;
        dom->console_domid = XEN_BACKEND_DOMID;
        dom->xenstore_evtchn = out->store_port;
        dom->xenstore_domid = XEN_BACKEND_DOMID;
        dom->claim_enabled = 0;
        dom->max_vcpus = cfg->maxvcpus;
        if (pvh)
                n_e820 = pvh_layout(cfg, dom, e820);

        step_begin(x);
        if (xc_dom_boot_xen_init(dom, x->xch, domid) != 0)
                return step_fail(x, err_r, "xc_dom_boot_xen_init");

        step_begin(x);
        if (xc_dom_parse_image(dom) != 0)
                return step_fail(x, err_r, "xc_dom_parse_image");
        if (img->kernel_cached_fd < 0 && img->kernel_fill_fd >= 0)
                out->kernel_filled = kernel_fill(dom, cfg->kernel, img->kernel_fill_fd);

        /* The HVM container is sized to maxmem (the rest is PoD); PV to the target. */
        step_begin(x);
        if (xc_dom_mem_init(dom, pvh ? cfg->maxmem_mib : cfg->memory_mib) != 0)
                return step_fail(x, err_r, "xc_dom_mem_init");

        step_begin(x);
        if (xc_dom_boot_mem_init(dom) != 0)
                return step_fail(x, err_r, "xc_dom_boot_mem_init");

        if (pvh) {
                step_begin(x);
                if (xc_domain_set_memory_map(x->xch, domid, e820, n_e820) != 0)
                        return step_fail(x, err_r, "xc_domain_set_memory_map");
                /* bootlate_hvm copies it into the PVH start info. */
                dom->e820 = e820;
                dom->e820_entries = n_e820;
        }

        step_begin(x);
        if (xc_dom_build_image(dom) != 0)
                return step_fail(x, err_r, "xc_dom_build_image");

        step_begin(x);
        if (xc_dom_boot_image(dom) != 0)
                return step_fail(x, err_r, "xc_dom_boot_image");

        step_begin(x);
        if (xc_dom_gnttab_init(dom) != 0)
                return step_fail(x, err_r, "xc_dom_gnttab_init");

        /* PV rings are named by machine frame; a translated (PVH) guest's by its own gfn. */
        if (xc_dom_translated(dom)) {
                out->console_mfn = dom->console_pfn;
                out->store_mfn = dom->xenstore_pfn;
        } else {
                out->console_mfn = xc_dom_p2m(dom, dom->console_pfn);
                out->store_mfn = xc_dom_p2m(dom, dom->xenstore_pfn);
        }
        if (out->store_mfn == INVALID_MFN || out->console_mfn == INVALID_MFN)
                return err_setf(err_r, -EIO,
                                "xc_dom_p2m failed: the store or console page has no frame");
        return 0;
}

/* libxl_domain_sched_params_set, for the scheduler the host runs. */
static int build_post(struct xen_backend *x, const struct domain_config *cfg, uint32_t domid,
                      char **err_r)
{
        int sched_id = 0;

        if (cfg->cpu_weight == XEN_SCHED_DEFAULT_WEIGHT && cfg->cpu_cap == XEN_SCHED_DEFAULT_CAP)
                return 0;
        if (cfg->cpu_weight > UINT16_MAX || cfg->cpu_cap > UINT16_MAX)
                return err_setf(err_r, -EINVAL, "cpu_weight %u or cpu_cap %u out of range",
                                cfg->cpu_weight, cfg->cpu_cap);

        step_begin(x);
        if (xc_sched_id(x->xch, &sched_id) < 0)
                return step_fail(x, err_r, "xc_sched_id");

        switch (sched_id) {
        case XEN_SCHEDULER_CREDIT: {
                struct xen_domctl_sched_credit p = { .weight = cfg->cpu_weight,
                                                     .cap = cfg->cpu_cap };

                step_begin(x);
                if (xc_sched_credit_domain_set(x->xch, domid, &p) < 0)
                        return step_fail(x, err_r, "xc_sched_credit_domain_set");
                return 0;
        }
        case XEN_SCHEDULER_CREDIT2: {
                struct xen_domctl_sched_credit2 p = { .weight = cfg->cpu_weight,
                                                      .cap = cfg->cpu_cap };

                step_begin(x);
                if (xc_sched_credit2_domain_set(x->xch, domid, &p) < 0)
                        return step_fail(x, err_r, "xc_sched_credit2_domain_set");
                return 0;
        }
        default:
                return err_setf(err_r, -EOPNOTSUPP,
                                "cpu_weight/cpu_cap need the credit or credit2 scheduler "
                                "(Xen runs scheduler %d)",
                                sched_id);
        }
}

/* Undo a half-built domain; its event channels and memory go with it. */
static void rollback(struct xen_backend *x, uint32_t domid, char **err_r)
{
        xen_debug("xc_domain_destroy(%" PRIu32 ") (rolling back a failed build)", domid);
        step_begin(x);
        if (xc_domain_destroy(x->xch, domid) < 0) {
                int e = errno > 0 ? errno : EIO;

                err_appendf(err_r, 0, "rolling back: xc_domain_destroy(%" PRIu32 ") failed: %s",
                            domid, strerror(e));
        }
}

/* What a config must hold before anything is asked of Xen; a restore boots no kernel. */
static int domain_check(const struct domain_config *cfg, bool restore, char **err_r)
{
        if (cfg->type == DOMAIN_TYPE_HVM)
                return err_setf(err_r, -EOPNOTSUPP,
                                "HVM guests need a device model, not supported yet; use type = "
                                "\"pv\" or \"pvh\"");
        if (cfg->type != DOMAIN_TYPE_PV && cfg->type != DOMAIN_TYPE_PVH)
                return err_setf(err_r, -EINVAL, "unknown domain type %d", (int)cfg->type);
        if (!restore && !cfg->kernel)
                return err_setf(err_r, -EINVAL,
                                "no kernel: PV and PVH guests boot their kernel directly");
        if (cfg->maxvcpus == 0 || cfg->memory_mib == 0 || cfg->maxmem_mib < cfg->memory_mib)
                return err_setf(err_r, -EINVAL, "invalid vcpus or memory");
        return 0;
}

/* What fills a made domain: the image build of a create, or the stream of a restore. */
typedef int (*domain_fill_fn)(struct xen_backend *x, const struct domain_config *cfg,
                              uint32_t domid, const void *arg, struct builder_domain *out,
                              char **err_r);

static int fill_image(struct xen_backend *x, const struct domain_config *cfg, uint32_t domid,
                      const void *img, struct builder_domain *out, char **err_r)
{
        return build_image(x, cfg, img, domid, out, err_r);
}

/*
 * xc_domain_restore into the made domain; the ring frames are the ones the stream's guest
 * uses. It reads exactly the stream's records, so fd is left after its END.
 */
static int fill_stream(struct xen_backend *x, const struct domain_config *cfg, uint32_t domid,
                       const void *fd, struct builder_domain *out, char **err_r)
{
        /*
         * Never NULL: libxenguest dereferences it at STATIC_DATA_END. Zeroed: a plain stream
         * calls nothing else, and static_data_done is only for pre-4.14 streams, which lack
         * the CPUID policy that xensup's own saves always carry.
         */
        struct restore_callbacks cb = { 0 };
        unsigned long store_mfn = 0, console_mfn = 0;

        (void)cfg;
        xen_debug("xc_domain_restore(%" PRIu32 ")", domid);
        step_begin(x);
        if (xc_domain_restore(x->xch, *(const int *)fd, domid, out->store_port, &store_mfn,
                              XEN_BACKEND_DOMID, out->console_port, &console_mfn, XEN_BACKEND_DOMID,
                              XC_STREAM_PLAIN, &cb, -1) < 0)
                return step_fail(x, err_r, "xc_domain_restore");
        out->store_mfn = store_mfn;
        out->console_mfn = console_mfn;
        return 0;
}

/*
 * libxl__domain_make, libxl__build_pre, then fill, then libxl__build_post: the one sequence a
 * create and a restore share. A failure after xc_domain_create destroys the domain.
 */
static int domain_build(struct xen_backend *x, const struct domain_config *cfg, bool restore,
                        domain_fill_fn fill, const void *arg, struct builder_domain *out,
                        char **err_r)
{
        struct xen_domctl_createdomain create;
        struct builder_domain d = { 0 };
        struct host_caps caps = { 0 };
        uint32_t domid = DOMID_INVALID;
        int r;

        r = domain_check(cfg, restore, err_r);
        if (r >= 0)
                r = host_caps_get(x, &caps, err_r);
        if (r < 0)
                return r;
        createdomain_fill(cfg, &caps, &create);
        /* An invalid domid asks Xen to choose one. */
        xen_debug("xc_domain_create (%s, %s)", cfg->name, restore ? "restore" : "build");
        step_begin(x);
        if (xc_domain_create(x->xch, &domid, &create) < 0)
                return step_fail(x, err_r, "xc_domain_create");
        d.domid = domid;
        xen_debug("xc_domain_create: domid %" PRIu32, domid);

        r = build_pre(x, cfg, domid, restore, &d, err_r);
        if (r >= 0)
                r = fill(x, cfg, domid, arg, &d, err_r);
        if (r >= 0)
                r = build_post(x, cfg, domid, err_r);
        if (r < 0) {
                rollback(x, domid, err_r);
                return r;
        }

        *out = d;
        return 0;
}

static int xen_create(struct builder *b, const struct domain_config *cfg,
                      const struct builder_images *img, struct builder_domain *out, char **err_r)
{
        return domain_build(backend_of(b), cfg, false, fill_image, img, out, err_r);
}

static int xen_restore(struct builder *b, const struct domain_config *cfg, int fd,
                       struct builder_domain *out, char **err_r)
{
        return domain_build(backend_of(b), cfg, true, fill_stream, &fd, out, err_r);
}

static int xen_introduce(struct builder *b, const struct builder_domain *d, char **err_r)
{
        struct xen_backend *x = backend_of(b);

        xen_debug("xs_introduce_domain(%" PRIu32 ")", d->domid);
        errno = 0;
        if (!xs_introduce_domain(x->xsh, d->domid, d->store_mfn, d->store_port)) {
                int e = errno > 0 ? errno : EIO;

                return err_setf(err_r, -e, "xs_introduce_domain failed: %s", strerror(e));
        }
        return 0;
}

static int xen_unpause(struct builder *b, uint32_t domid, char **err_r)
{
        struct xen_backend *x = backend_of(b);

        xen_debug("xc_domain_unpause(%" PRIu32 ")", domid);
        step_begin(x);
        if (xc_domain_unpause(x->xch, domid) < 0)
                return step_fail(x, err_r, "xc_domain_unpause");
        return 0;
}

static int xen_pause(struct builder *b, uint32_t domid, char **err_r)
{
        struct xen_backend *x = backend_of(b);

        xen_debug("xc_domain_pause(%" PRIu32 ")", domid);
        step_begin(x);
        if (xc_domain_pause(x->xch, domid) < 0)
                return step_fail(x, err_r, "xc_domain_pause");
        return 0;
}

/* enum shutdown_reason ↔ SHUTDOWN_* of xen/sched.h; -1 where Xen has no such code. */
static int shutdown_code(enum shutdown_reason why)
{
        switch (why) {
        case SHUTDOWN_REASON_POWEROFF:
                return SHUTDOWN_poweroff;
        case SHUTDOWN_REASON_REBOOT:
                return SHUTDOWN_reboot;
        case SHUTDOWN_REASON_SUSPEND:
                return SHUTDOWN_suspend;
        case SHUTDOWN_REASON_CRASH:
                return SHUTDOWN_crash;
        case SHUTDOWN_REASON_WATCHDOG:
                return SHUTDOWN_watchdog;
        case SHUTDOWN_REASON_SOFT_RESET:
                return SHUTDOWN_soft_reset;
        default:
                return -1;
        }
}

static enum shutdown_reason shutdown_reason_of(unsigned code)
{
        switch (code) {
        case SHUTDOWN_poweroff:
                return SHUTDOWN_REASON_POWEROFF;
        case SHUTDOWN_reboot:
                return SHUTDOWN_REASON_REBOOT;
        case SHUTDOWN_suspend:
                return SHUTDOWN_REASON_SUSPEND;
        case SHUTDOWN_crash:
                return SHUTDOWN_REASON_CRASH;
        case SHUTDOWN_watchdog:
                return SHUTDOWN_REASON_WATCHDOG;
        case SHUTDOWN_soft_reset:
                return SHUTDOWN_REASON_SOFT_RESET;
        default:
                /* A code newer than ours: libxl destroys such a domain, and NONE's action is
                 * destroy. */
                return SHUTDOWN_REASON_NONE;
        }
}

static int xen_shutdown(struct builder *b, uint32_t domid, enum shutdown_reason why, char **err_r)
{
        struct xen_backend *x = backend_of(b);
        int code = shutdown_code(why);

        if (code < 0)
                return err_setf(err_r, -EINVAL, "invalid shutdown reason %d", (int)why);
        xen_debug("xc_domain_shutdown(%" PRIu32 ", %d)", domid, code);
        step_begin(x);
        if (xc_domain_shutdown(x->xch, domid, code) < 0)
                return step_fail(x, err_r, "xc_domain_shutdown");
        return 0;
}

static int xen_destroy(struct builder *b, uint32_t domid, char **err_r)
{
        struct xen_backend *x = backend_of(b);

        xen_debug("xc_domain_destroy(%" PRIu32 ")", domid);
        step_begin(x);
        if (xc_domain_destroy(x->xch, domid) < 0)
                return step_fail(x, err_r, "xc_domain_destroy");
        return 0;
}

static uint64_t pages_to_kib(uint64_t pages)
{
        const unsigned shift = XC_PAGE_SHIFT - 10;

        return pages > (UINT64_MAX >> shift) ? UINT64_MAX : pages << shift;
}

static void info_decode(const xc_domaininfo_t *in, struct builder_domain_info *out)
{
        *out = (struct builder_domain_info){
                .domid = in->domain,
                .dying = in->flags & XEN_DOMINF_dying,
                .shutdown = in->flags & XEN_DOMINF_shutdown,
                .paused = in->flags & XEN_DOMINF_paused,
                .running = in->flags & (XEN_DOMINF_running | XEN_DOMINF_blocked),
                .reason = SHUTDOWN_REASON_NONE,
                .mem_kib = pages_to_kib(in->tot_pages),
                .max_mem_kib = pages_to_kib(in->max_pages),
                .max_vcpu_id = in->max_vcpu_id,
                .online_vcpus = in->nr_online_vcpus,
                .cpu_time_ns = in->cpu_time,
        };
        memcpy(out->handle, in->handle, sizeof(out->handle));
        /* The reason bits mean something only while the shutdown flag is set. */
        if (out->shutdown)
                out->reason = shutdown_reason_of((in->flags >> XEN_DOMINF_shutdownshift) &
                                                 XEN_DOMINF_shutdownmask);
}

static int xen_list(struct builder *b, struct builder_domain_info **infos_r, size_t *n_r,
                    char **err_r)
{
        struct xen_backend *x = backend_of(b);
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        _cleanup_free_ xc_domaininfo_t *batch = calloc(XEN_LIST_BATCH, sizeof(*batch));
        size_t n = 0, allocated = 0;
        uint32_t first = 0;

        if (!batch)
                return err_setf(err_r, -ENOMEM, "out of memory");

        for (;;) {
                int got;

                xen_debug("xc_domain_getinfolist(%" PRIu32 ", %d)", first, XEN_LIST_BATCH);
                step_begin(x);
                got = xc_domain_getinfolist(x->xch, first, XEN_LIST_BATCH, batch);
                if (got < 0)
                        return step_fail(x, err_r, "xc_domain_getinfolist");
                if (got > XEN_LIST_BATCH)
                        return err_setf(err_r, -EIO,
                                        "xc_domain_getinfolist returned %d of %d domains", got,
                                        XEN_LIST_BATCH);

                if (n + (size_t)got > allocated) {
                        size_t want = allocated ? allocated * 2 : XEN_LIST_BATCH;
                        struct builder_domain_info *p;

                        while (want < n + (size_t)got)
                                want *= 2;
                        p = reallocarray(infos, want, sizeof(*infos));
                        if (!p)
                                return err_setf(err_r, -ENOMEM, "out of memory");
                        infos = p;
                        allocated = want;
                }
                for (int i = 0; i < got; i++) {
                        /* Ids only grow: anything else means a confused hypervisor interface. */
                        if (batch[i].domain < first)
                                return err_setf(
                                    err_r, -EIO,
                                    "xc_domain_getinfolist went backwards (%u < %" PRIu32 ")",
                                    (unsigned)batch[i].domain, first);
                        info_decode(&batch[i], &infos[n++]);
                        first = (uint32_t)batch[i].domain + 1;
                }
                /* A short batch is the last one; so is one ending at the last guest id. */
                if (got < XEN_LIST_BATCH || first >= DOMID_FIRST_RESERVED)
                        break;
        }

        *infos_r = TAKE_PTR(infos);
        *n_r = n;
        return 0;
}

/* The one domain's row, or -ESRCH. */
static int domain_info_get(struct xen_backend *x, uint32_t domid, xc_domaininfo_t *info,
                           char **err_r)
{
        int got;

        step_begin(x);
        got = xc_domain_getinfolist(x->xch, domid, 1, info);
        if (got < 0)
                return step_fail(x, err_r, "xc_domain_getinfolist");
        if (got != 1 || info->domain != domid)
                return err_setf(err_r, -ESRCH, "domain %" PRIu32 " does not exist", domid);
        return 0;
}

/*
 * The limit both memory calls set: xc_domain_setmaxmem with libxl's slack on top of kib, once
 * kib is one the hypervisor can hold and the domain is there (its row into *info).
 */
static int xen_memory_limit(struct xen_backend *x, uint32_t domid, const char *what, uint64_t kib,
                            xc_domaininfo_t *info, char **err_r)
{
        int r;

        if (kib == 0 || kib > UINT64_MAX / 2)
                return err_setf(err_r, -EINVAL, "%s %" PRIu64 " KiB out of range", what, kib);
        r = domain_info_get(x, domid, info, err_r);
        if (r < 0)
                return r;
        xen_debug("xc_domain_setmaxmem(%" PRIu32 ", %" PRIu64 " KiB)", domid,
                  kib + XEN_MAXMEM_SLACK_KIB);
        step_begin(x);
        if (xc_domain_setmaxmem(x->xch, domid, kib + XEN_MAXMEM_SLACK_KIB) < 0)
                return step_fail(x, err_r, "xc_domain_setmaxmem");
        return 0;
}

/* libxl_set_memory_target with enforce: max pages follow the target. */
static int xen_set_memory(struct builder *b, uint32_t domid, uint64_t target_kib, char **err_r)
{
        struct xen_backend *x = backend_of(b);
        xc_domaininfo_t info;
        int r;

        r = xen_memory_limit(x, domid, "memory target", target_kib, &info, err_r);
        if (r < 0)
                return r;
        /* An HVM container may have been built with populate-on-demand memory. */
        if (info.flags & XEN_DOMINF_hvm_guest) {
                step_begin(x);
                if (xc_domain_set_pod_target(
                        x->xch, domid, (target_kib + XEN_MAXMEM_SLACK_KIB) >> (XC_PAGE_SHIFT - 10),
                        NULL, NULL, NULL) < 0)
                        return step_fail(x, err_r, "xc_domain_set_pod_target");
        }
        return 0;
}

/* libxl_domain_setmaxmem: the limit alone; the balloon target stays where it is. */
static int xen_set_max_memory(struct builder *b, uint32_t domid, uint64_t max_kib, char **err_r)
{
        xc_domaininfo_t info;

        return xen_memory_limit(backend_of(b), domid, "memory maximum", max_kib, &info, err_r);
}

static int xen_set_vcpus(struct builder *b, uint32_t domid, unsigned n, char **err_r)
{
        struct xen_backend *x = backend_of(b);
        xc_domaininfo_t info;
        int r;

        r = domain_info_get(x, domid, &info, err_r);
        if (r < 0)
                return r;
        /* Xen knows only the maximum; which vcpus are online is the guest's, told through XenStore.
         */
        if (info.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID)
                return err_setf(err_r, -EINVAL, "domain %" PRIu32 " has no vcpus", domid);
        if (n == 0 || n > (uint64_t)info.max_vcpu_id + 1)
                return err_setf(err_r, -EINVAL,
                                "%u vcpus requested; domain %" PRIu32 " allows 1 to %" PRIu64, n,
                                domid, (uint64_t)info.max_vcpu_id + 1);
        return 0;
}

/* xl info's names for Xen's schedulers (XEN_SCHEDULER_*). */
static const char *xen_scheduler_name(int sched_id)
{
        switch (sched_id) {
        case XEN_SCHEDULER_CREDIT:
                return "credit";
        case XEN_SCHEDULER_CREDIT2:
                return "credit2";
        case XEN_SCHEDULER_ARINC653:
                return "arinc653";
        case XEN_SCHEDULER_RTDS:
                return "rtds";
        case XEN_SCHEDULER_NULL:
                return "null";
        default:
                return NULL;
        }
}

/* xl info's virt_caps line: the guest types and paging modes the host's Xen offers. */
static void xen_virt_caps_format(uint32_t caps, char *buf, size_t size)
{
        const bool pv = caps & XEN_SYSCTL_PHYSCAP_pv, hvm = caps & XEN_SYSCTL_PHYSCAP_hvm,
                   directio = caps & XEN_SYSCTL_PHYSCAP_directio;

        snprintf(buf, size, "%s%s%s%s%s%s%s%s%s%s%s", pv ? " pv" : "", hvm ? " hvm" : "",
                 hvm && directio ? " hvm_directio" : "", pv && directio ? " pv_directio" : "",
                 caps & XEN_SYSCTL_PHYSCAP_hap ? " hap" : "",
                 caps & XEN_SYSCTL_PHYSCAP_shadow ? " shadow" : "",
                 caps & XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share ? " iommu_hap_pt_share" : "",
                 caps & XEN_SYSCTL_PHYSCAP_vmtrace ? " vmtrace" : "",
                 caps & XEN_SYSCTL_PHYSCAP_vpmu ? " vpmu" : "",
                 caps & XEN_SYSCTL_PHYSCAP_gnttab_v1 ? " gnttab-v1" : "",
                 caps & XEN_SYSCTL_PHYSCAP_gnttab_v2 ? " gnttab-v2" : "");
        /* Each name comes with its separator: the first one's is not wanted. */
        if (buf[0] == ' ')
                memmove(buf, buf + 1, strlen(buf));
}

/* Copy Xen's xen_caps, cut after the last whole word that fits (a word cut short would lie). */
static void xen_caps_copy(const char *caps, char *buf, size_t size)
{
        size_t n = strnlen(caps, XEN_CAPABILITIES_INFO_LEN);

        if (n >= size) {
                n = size - 1;
                while (n > 0 && caps[n] != ' ')
                        n--;
        }
        memcpy(buf, caps, n);
        buf[n] = '\0';
}

/* What xl info prints from xc_version, xc_physinfo and xc_sched_id. */
static int xen_host_info(struct builder *b, struct builder_host_info *out, char **err_r)
{
        struct xen_backend *x = backend_of(b);
        xen_extraversion_t extra = { 0 };
        xen_capabilities_info_t caps = { 0 };
        xc_physinfo_t phys = { 0 };
        const char *sched;
        int version, sched_id = 0;

        step_begin(x);
        version = xc_version(x->xch, XENVER_version, NULL);
        if (version < 0)
                return step_fail(x, err_r, "xc_version(XENVER_version)");
        step_begin(x);
        if (xc_version(x->xch, XENVER_extraversion, &extra) < 0)
                return step_fail(x, err_r, "xc_version(XENVER_extraversion)");
        step_begin(x);
        if (xc_version(x->xch, XENVER_capabilities, &caps) < 0)
                return step_fail(x, err_r, "xc_version(XENVER_capabilities)");
        step_begin(x);
        if (xc_physinfo(x->xch, &phys) < 0)
                return step_fail(x, err_r, "xc_physinfo");
        step_begin(x);
        if (xc_sched_id(x->xch, &sched_id) < 0)
                return step_fail(x, err_r, "xc_sched_id");

        snprintf(out->version, sizeof(out->version), "%d.%d%.*s", version >> 16, version & 0xffff,
                 (int)sizeof(extra), extra);
        xen_caps_copy(caps, out->capabilities, sizeof(out->capabilities));
        xen_virt_caps_format(phys.capabilities, out->virt_caps, sizeof(out->virt_caps));
        sched = xen_scheduler_name(sched_id);
        if (sched)
                snprintf(out->scheduler, sizeof(out->scheduler), "%s", sched);
        else
                snprintf(out->scheduler, sizeof(out->scheduler), "unknown (%d)", sched_id);
        out->nr_cpus = phys.nr_cpus;
        out->nr_nodes = phys.nr_nodes;
        out->cores_per_socket = phys.cores_per_socket;
        out->threads_per_core = phys.threads_per_core;
        out->cpu_khz = phys.cpu_khz;
        out->total_kib = phys.total_pages << (XC_PAGE_SHIFT - 10);
        out->free_kib = phys.free_pages << (XC_PAGE_SHIFT - 10);
        return 0;
}

/* A libxc cpu map, sized as libxc sizes the ones it hands the hypervisor. Caller frees. */
static int xen_cpumap_new(struct xen_backend *x, uint8_t **map_r, size_t *bytes_r, char **err_r)
{
        int bytes;

        step_begin(x);
        bytes = xc_get_cpumap_size(x->xch);
        if (bytes <= 0)
                return step_fail(x, err_r, "xc_get_cpumap_size");
        *map_r = calloc((size_t)bytes, 1);
        if (!*map_r)
                return err_setf(err_r, -ENOMEM, "out of memory");
        *bytes_r = (size_t)bytes;
        return 0;
}

/* libxc's map (bit n of byte n / 8 is cpu n) into ours; cpus past BUILDER_CPUS_MAX are dropped. */
static void xen_cpumap_decode(const uint8_t *map, size_t bytes, struct builder_cpumap *out)
{
        memset(out, 0, sizeof(*out));
        for (size_t cpu = 0; cpu < bytes * 8 && cpu < BUILDER_CPUS_MAX; cpu++)
                if (map[cpu / 8] & (1u << (cpu % 8)))
                        builder_cpumap_set(out, (unsigned)cpu);
}

/* Ours into libxc's: -EINVAL naming the first cpu beyond what the host's map can hold. */
static int xen_cpumap_encode(const struct builder_cpumap *in, uint8_t *map, size_t bytes,
                             char **err_r)
{
        memset(map, 0, bytes);
        for (unsigned cpu = 0; cpu < BUILDER_CPUS_MAX; cpu++) {
                if (!builder_cpumap_test(in, cpu))
                        continue;
                if (cpu >= bytes * 8)
                        return err_setf(err_r, -EINVAL, "cpu %u does not exist on this host", cpu);
                map[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
        }
        return 0;
}

/* xl vcpu-list's source: xc_vcpu_getinfo and xc_vcpu_getaffinity for each vcpu id. */
static int xen_vcpu_list(struct builder *b, uint32_t domid, struct builder_vcpu_info **vcpus_r,
                         size_t *n_r, char **err_r)
{
        struct xen_backend *x = backend_of(b);
        _cleanup_free_ struct builder_vcpu_info *all = NULL;
        _cleanup_free_ uint8_t *hard = NULL, *soft = NULL;
        xc_domaininfo_t dom;
        size_t n, bytes;
        int r;

        r = domain_info_get(x, domid, &dom, err_r);
        if (r < 0)
                return r;
        if (dom.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID) {
                /* Made, its vcpus not allocated yet. */
                *vcpus_r = NULL;
                *n_r = 0;
                return 0;
        }
        n = (size_t)dom.max_vcpu_id + 1;
        all = calloc(n, sizeof(*all));
        if (!all)
                return err_setf(err_r, -ENOMEM, "out of memory");
        r = xen_cpumap_new(x, &hard, &bytes, err_r);
        if (r < 0)
                return r;
        r = xen_cpumap_new(x, &soft, &bytes, err_r);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                xc_vcpuinfo_t v = { 0 };

                step_begin(x);
                if (xc_vcpu_getinfo(x->xch, domid, (uint32_t)i, &v) < 0)
                        return step_fail(x, err_r, "xc_vcpu_getinfo");
                step_begin(x);
                if (xc_vcpu_getaffinity(x->xch, domid, (int)i, hard, soft,
                                        XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT) < 0)
                        return step_fail(x, err_r, "xc_vcpu_getaffinity");
                all[i] = (struct builder_vcpu_info){
                        .id = (unsigned)i,
                        .online = v.online,
                        .running = v.running,
                        .blocked = v.blocked,
                        .cpu = v.cpu,
                        .cpu_time_ns = v.cpu_time,
                };
                xen_cpumap_decode(hard, bytes, &all[i].hard);
                xen_cpumap_decode(soft, bytes, &all[i].soft);
        }
        *vcpus_r = TAKE_PTR(all);
        *n_r = n;
        return 0;
}

/*
 * What Xen would refuse with a bare EINVAL, said first in words. The host's cpus are physinfo's
 * max_cpu_id + 1: an offline cpu keeps its id.
 */
static int xen_vcpu_pin_check(struct xen_backend *x, uint32_t domid, unsigned vcpu,
                              const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                              char **err_r)
{
        xc_domaininfo_t dom;
        xc_physinfo_t phys = { 0 };
        int r;

        r = domain_info_get(x, domid, &dom, err_r);
        if (r < 0)
                return r;
        if (dom.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID)
                return err_setf(err_r, -EINVAL, "vcpu-pin: domain %" PRIu32 " has no vcpus", domid);
        step_begin(x);
        if (xc_physinfo(x->xch, &phys) < 0)
                return step_fail(x, err_r, "xc_physinfo");
        return builder_vcpu_pin_check(domid, vcpu, dom.max_vcpu_id, phys.max_cpu_id + 1, hard, soft,
                                      err_r);
}

/* libxl_set_vcpuaffinity: one call, the flags saying which of the two maps Xen takes. */
static int xen_vcpu_pin(struct builder *b, uint32_t domid, unsigned vcpu,
                        const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                        char **err_r)
{
        struct xen_backend *x = backend_of(b);
        _cleanup_free_ uint8_t *hard_map = NULL, *soft_map = NULL;
        uint32_t flags = 0;
        size_t bytes;
        int r;

        r = xen_vcpu_pin_check(x, domid, vcpu, hard, soft, err_r);
        if (r < 0)
                return r;
        r = xen_cpumap_new(x, &hard_map, &bytes, err_r);
        if (r < 0)
                return r;
        r = xen_cpumap_new(x, &soft_map, &bytes, err_r);
        if (r < 0)
                return r;
        if (hard) {
                r = xen_cpumap_encode(hard, hard_map, bytes, err_r);
                if (r < 0)
                        return r;
                flags |= XEN_VCPUAFFINITY_HARD;
        }
        if (soft) {
                r = xen_cpumap_encode(soft, soft_map, bytes, err_r);
                if (r < 0)
                        return r;
                flags |= XEN_VCPUAFFINITY_SOFT;
        }
        xen_debug("xc_vcpu_setaffinity(%" PRIu32 ", %u, flags %#x)", domid, vcpu, flags);
        step_begin(x);
        if (xc_vcpu_setaffinity(x->xch, domid, (int)vcpu, hard_map, soft_map, flags) < 0)
                return step_fail(x, err_r, "xc_vcpu_setaffinity");
        return 0;
}

/* libxc's writer for the dump: all of buffer to the fd the caller opened. */
static int xen_dump_write(xc_interface *xch, void *arg, char *buffer, unsigned int length)
{
        int fd = *(int *)arg;

        (void)xch;
        while (length > 0) {
                ssize_t n = write(fd, buffer, length);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                buffer += n;
                length -= (unsigned)n;
        }
        return 0;
}

/* Through the callback, not xc_domain_dumpcore(): that one opens a path itself, following links. */
static int xen_dumpcore(struct builder *b, uint32_t domid, int fd, char **err_r)
{
        struct xen_backend *x = backend_of(b);

        xen_debug("xc_domain_dumpcore_via_callback(%" PRIu32 ")", domid);
        step_begin(x);
        if (xc_domain_dumpcore_via_callback(x->xch, domid, &fd, xen_dump_write) < 0)
                return step_fail(x, err_r, "xc_domain_dumpcore_via_callback");
        return 0;
}

/* What xen_save's suspend callback needs, and what went wrong in it. */
struct save_ctx {
        struct xen_backend *x;
        uint32_t domid;
        builder_suspend_fn suspend;
        void *data;
        char **err_r;
        int r; /* why the guest did not suspend, its message in *err_r; 0 if it did */
};

/*
 * libxc's suspend callback: the caller's suspend, then the domain must be shut down for
 * suspend. 1 when it is (libxc's "success"), else 0, keeping our error and message: libxc's
 * own ("Domain has not been suspended") would say less.
 */
static int save_suspend(void *data)
{
        struct save_ctx *c = data;
        struct builder_domain_info i;
        xc_domaininfo_t info;
        char doing[64];
        int r;

        r = c->suspend(c->data, c->err_r);
        if (r >= 0)
                r = domain_info_get(c->x, c->domid, &info, c->err_r);
        if (r >= 0) {
                info_decode(&info, &i);
                if (i.dying || !i.shutdown || i.reason != SHUTDOWN_REASON_SUSPEND)
                        r = err_setf(c->err_r, -EIO, "the domain has not suspended (%s)",
                                     builder_doing(&i, doing));
        }
        c->r = r < 0 ? r : 0;
        return r >= 0;
}

/*
 * Whether the hypervisor can track domid's dirty pages: log-dirty needs shadow paging, but for
 * an HVM container on HAP, which tracks them in its HAP tables. Asks, never touches the guest.
 */
static int live_save_check(struct xen_backend *x, uint32_t domid, char **err_r)
{
        xc_physinfo_t phys = { 0 };
        xc_domaininfo_t info;
        int r;

        step_begin(x);
        if (xc_physinfo(x->xch, &phys) < 0)
                return step_fail(x, err_r, "xc_physinfo");
        if (phys.capabilities & XEN_SYSCTL_PHYSCAP_shadow)
                return 0;
        r = domain_info_get(x, domid, &info, err_r);
        if (r < 0)
                return r;
        if ((info.flags & XEN_DOMINF_hvm_guest) && (info.flags & XEN_DOMINF_hap))
                return 0;
        return err_setf(err_r, -EOPNOTSUPP, "%s", BUILDER_NO_LIVE_SAVE);
}

/* xc_domain_save, as libxl's save helper runs it; the domain is left as the save leaves it. */
static int xen_save(struct builder *b, uint32_t domid, int fd, bool live,
                    builder_suspend_fn suspend, void *data, char **err_r)
{
        struct xen_backend *x = backend_of(b);
        struct save_ctx c = {
                .x = x, .domid = domid, .suspend = suspend, .data = data, .err_r = err_r
        };
        struct save_callbacks cb = { .suspend = save_suspend, .data = &c };
        struct builder_sigpipe sp;
        int r = 0;

        if (live) {
                r = live_save_check(x, domid, err_r);
                if (r < 0)
                        return r;
        }
        builder_sigpipe_block(&sp);
        xen_debug("xc_domain_save(%" PRIu32 "%s)", domid, live ? ", live" : "");
        step_begin(x);
        if (xc_domain_save(x->xch, fd, domid, live ? XCFLAGS_LIVE : 0, &cb, XC_STREAM_PLAIN, -1) <
            0)
                r = c.r < 0 ? c.r : step_fail(x, err_r, "xc_domain_save");
        builder_sigpipe_restore(&sp);
        return r;
}

/* libxl_domain_resume(fast=1): the cooperative resume; first, that there is a suspend to undo. */
static int xen_resume(struct builder *b, uint32_t domid, char **err_r)
{
        struct xen_backend *x = backend_of(b);
        struct builder_domain_info i;
        xc_domaininfo_t info;
        char doing[64];
        int r;

        r = domain_info_get(x, domid, &info, err_r);
        if (r < 0)
                return r;
        info_decode(&info, &i);
        if (i.dying || !i.shutdown || i.reason != SHUTDOWN_REASON_SUSPEND)
                return err_setf(err_r, -EINVAL, "domain %" PRIu32 " is not suspended (%s)", domid,
                                builder_doing(&i, doing));
        xen_debug("xc_domain_resume(%" PRIu32 ")", domid);
        step_begin(x);
        if (xc_domain_resume(x->xch, domid, 1) < 0)
                return step_fail(x, err_r, "xc_domain_resume");
        return 0;
}

/* Xen keeps no index by handle: one list, as every toolstack does. */
static int xen_find_live(struct builder *b, const uint8_t uuid[16], uint32_t *domid_r, char **err_r)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0;
        int r;

        r = xen_list(b, &infos, &n, err_r);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (infos[i].domid != 0 && !infos[i].dying &&
                    memcmp(infos[i].handle, uuid, 16) == 0) {
                        *domid_r = infos[i].domid;
                        return 1;
                }
        return 0;
}

/* libxl_domain_preserve: the kept instance of a rename-restart gets a uuid of its own. */
static int xen_set_handle(struct builder *b, uint32_t domid, const uint8_t uuid[16], char **err_r)
{
        struct xen_backend *x = backend_of(b);
        xen_domain_handle_t handle = { 0 };

        _Static_assert(sizeof(handle) == 16, "a Xen domain handle is the 16 uuid bytes");
        memcpy(handle, uuid, sizeof(handle));
        xen_debug("xc_domain_sethandle(%" PRIu32 ")", domid);
        step_begin(x);
        if (xc_domain_sethandle(x->xch, domid, handle) < 0)
                return step_fail(x, err_r, "xc_domain_sethandle");
        return 0;
}

/* The host side of devices is dom0's, not the hypervisor's: builders/host-linux.c. */
static int xen_disk_attach(struct builder *b, int target_fd, bool readonly, const char *target,
                           struct builder_disk_host *out, char **err_r)
{
        (void)b;
        return host_loop_attach(target_fd, readonly, target, out, err_r);
}

static int xen_disk_release(struct builder *b, const struct builder_disk_host *h, char **err_r)
{
        (void)b;
        return host_loop_release(h, err_r);
}

static int xen_disk_find_loops(struct builder *b, uint64_t backing_dev, uint64_t backing_ino,
                               struct builder_loop **loops_r, size_t *n_r, char **err_r)
{
        (void)b;
        return host_loop_find(backing_dev, backing_ino, loops_r, n_r, err_r);
}

static int xen_vif_plug(struct builder *b, const struct builder_vif_host *v, unsigned *mtu_r,
                        char **err_r)
{
        (void)b;
        return host_vif_plug(v, mtu_r, err_r);
}

static int xen_vif_unplug(struct builder *b, const char *ifname, char **err_r)
{
        (void)b;
        return host_vif_unplug(ifname, err_r);
}

const struct builder_ops builder_xen_ops = {
        .name = "xen",
        .open = xen_open,
        .close = xen_close,
        .create = xen_create,
        .introduce = xen_introduce,
        .unpause = xen_unpause,
        .pause = xen_pause,
        .shutdown = xen_shutdown,
        .destroy = xen_destroy,
        .list = xen_list,
        .set_memory = xen_set_memory,
        .set_vcpus = xen_set_vcpus,
        .dumpcore = xen_dumpcore,
        .save = xen_save,
        .restore = xen_restore,
        .resume = xen_resume,
        .set_handle = xen_set_handle,
        .find_live = xen_find_live,
        .disk_attach = xen_disk_attach,
        .disk_release = xen_disk_release,
        .vif_plug = xen_vif_plug,
        .vif_unplug = xen_vif_unplug,
        .disk_find_loops = xen_disk_find_loops,
        .host_info = xen_host_info,
        .set_max_memory = xen_set_max_memory,
        .vcpu_list = xen_vcpu_list,
        .vcpu_pin = xen_vcpu_pin,
};
