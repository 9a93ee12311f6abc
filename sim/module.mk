# sim/: xensup-sim, the simulated Xen host (embedded XenStore server, and the
# simulated hypervisor when it joins).
XS_SERVER_SRCS := sim/xs-store.c sim/xs-server.c

PROGRAMS += xensup-sim
xensup-sim_SRCS := sim/main.c $(XS_SERVER_SRCS) $(COMMON_SRCS)

# The simulated hypervisor (sim/hypervisor.h) and its hypervisor.socket.
HV_SRCS := sim/hypervisor.c sim/hv-model.c sim/hv-guest.c sim/hv-socket.c sim/hv-host.c \
	sim/hv-xenbus.c sim/hv-backend.c sim/hv-frontend.c sim/hv-console.c
xensup-sim_SRCS += $(HV_SRCS)

TESTS += test-sim-hypervisor
test-sim-hypervisor_SRCS = tests/test-sim-hypervisor.c $(HV_SRCS) $(XS_SERVER_SRCS) \
	$(BUILDERS_SRCS) $(CONFIG_SRCS) $(COMMON_SRCS)

# Save, restore and resume through the sim backend, against a real xensup-sim.
TESTS += test-sim-save
test-sim-save_SRCS = tests/test-sim-save.c $(BUILDERS_SRCS) $(CONFIG_SRCS) $(COMMON_SRCS)

TESTS += test-xs-server
test-xs-server_SRCS := tests/test-xs-server.c $(XS_SERVER_SRCS) $(COMMON_SRCS)
SHELL_TESTS += tests/test-xenstore-utils.sh tests/run-test-xenstore.sh
