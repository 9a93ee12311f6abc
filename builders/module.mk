# builders/: the hypervisor boundary (builder.c dispatches to a backend).
# builder-sim.c joins as soon as it exists; do not list it a second time.
BUILDERS_SRCS := builders/builder.c builders/builder-xen.c builders/cpumap.c builders/host-linux.c \
                 builders/kernel-image.c \
                 $(wildcard builders/builder-sim.c)

# The real backend against wrapped libxenctrl/libxenguest/libxenstore calls: the
# backend is its own object file, so every call it makes crosses into the test's
# __wrap_ functions and no Xen is needed.
BUILDER_XEN_WRAPS := xc_interface_open xc_interface_close xs_open xs_close \
	xc_get_last_error xc_clear_last_error xc_physinfo xc_domain_create \
	xc_domain_max_vcpus xc_domain_setmaxmem xc_evtchn_alloc_unbound xc_hvm_param_set \
	xc_domain_set_memmap_limit xc_domain_set_tsc_info xc_set_paging_mempool_size \
	xc_cpuid_apply_policy xc_dom_allocate xc_dom_kernel_mem xc_dom_module_mem \
	xc_dom_boot_xen_init xc_dom_parse_image xc_dom_mem_init xc_dom_boot_mem_init \
	xc_domain_set_memory_map xc_dom_build_image xc_dom_boot_image xc_dom_gnttab_init \
	xc_dom_translated xc_dom_release xc_sched_id xc_sched_credit_domain_set \
	xc_sched_credit2_domain_set xc_domain_destroy xs_introduce_domain xc_domain_unpause \
	xc_domain_pause xc_domain_shutdown xc_domain_getinfolist xc_domain_set_pod_target \
	xc_domain_dumpcore_via_callback xc_domain_sethandle xc_domain_save xc_domain_restore \
	xc_domain_resume xc_version xc_get_cpumap_size xc_vcpu_getinfo \
	xc_vcpu_getaffinity xc_vcpu_setaffinity
empty :=
space := $(empty) $(empty)
comma := ,

TESTS += test-builder-xen
# '=': common/module.mk is read after this file.
test-builder-xen_SRCS = tests/test-builder-xen.c builders/builder-xen.c builders/cpumap.c \
                        builders/kernel-image.c \
                        builders/host-linux.c \
                        $(COMMON_SRCS)
test-builder-xen_LDFLAGS := -Wl,--wrap=$(subst $(space),$(comma)--wrap=,$(strip $(BUILDER_XEN_WRAPS)))

# The host side of devices for real: loop devices and a bridge in a private network
# namespace. Needs root; skips, saying why, where it cannot.
TESTS += test-host-linux
test-host-linux_SRCS = tests/test-host-linux.c builders/host-linux.c $(COMMON_SRCS)

# The kernel cache's loadable image on ELFs built by the test.
TESTS += test-kernel-image
test-kernel-image_SRCS = tests/test-kernel-image.c builders/kernel-image.c $(COMMON_SRCS)
