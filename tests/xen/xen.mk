# The real-Xen tier: Xen 4.17 and a Debian PV dom0 booted under QEMU (software
# emulation). Fetches what it needs into $(BUILD)/xen-cache once; every run
# rebuilds the initramfs from $(BUILD)'s xensupd and xensupctl.
#   make check-xen [XEN_SCENARIOS=a,b] [XEN_TIMEOUT=900]
#   make bench-xen                       # xl and xensupd side by side
XEN_TIMEOUT   ?= 900
XEN_SCENARIOS ?=

# These targets must not become make's default goal: whatever it was before
# this file is restored after it.
xen_saved_goal := $(.DEFAULT_GOAL)

check-xen: all deps-xen
	BUILD=$(BUILD) tests/xen/run.sh --timeout $(XEN_TIMEOUT) \
	  $(if $(XEN_SCENARIOS),--scenarios $(XEN_SCENARIOS))

bench-xen: all deps-xen
	BUILD=$(BUILD) tests/xen/bench.sh --timeout 900

.PHONY: check-xen bench-xen
.DEFAULT_GOAL := $(xen_saved_goal)
