# The real-Xen tier: Xen 4.17 and a Debian PV dom0 booted under QEMU (software
# emulation). Fetches what it needs into $(BUILD)/xen-cache once; every run
# rebuilds the initramfs from $(BUILD)'s xensupd and xensupctl.
#   make check-xen [XEN_SCENARIOS=a,b] [XEN_TIMEOUT=600]
XEN_TIMEOUT   ?= 600
XEN_SCENARIOS ?=

check-xen: all
	BUILD=$(BUILD) tests/xen/run.sh --timeout $(XEN_TIMEOUT) \
	  $(if $(XEN_SCENARIOS),--scenarios $(XEN_SCENARIOS))

.PHONY: check-xen
