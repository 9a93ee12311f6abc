LAYOUT_SRCS := layout/layout.c layout/acl.c layout/record.c layout/plan.c layout/devices.c \
               layout/suspend.c layout/xs-wire.c

PROGRAMS += xensup-layout-demo
xensup-layout-demo_SRCS := layout/demo.c layout/sim-child.c $(LAYOUT_SRCS) $(CONFIG_SRCS) $(COMMON_SRCS)

TESTS += test-layout-acl
test-layout-acl_SRCS := tests/test-layout-acl.c layout/acl.c

TESTS += test-layout
test-layout_SRCS := tests/test-layout.c tests/xs-test.c layout/sim-child.c $(LAYOUT_SRCS) $(CONFIG_SRCS) \
                    $(COMMON_SRCS)

# Figures, not a test: requests per layout step and time per creation against xensup-sim.
PROGRAMS += bench-layout
bench-layout_SRCS := bench/bench-layout.c layout/sim-child.c $(LAYOUT_SRCS) $(CONFIG_SRCS) \
                     $(COMMON_SRCS)

TESTS += test-layout-devices
test-layout-devices_SRCS := tests/test-layout-devices.c tests/xs-test.c layout/sim-child.c $(LAYOUT_SRCS) \
                            $(CONFIG_SRCS) $(COMMON_SRCS)

TESTS += test-layout-suspend
test-layout-suspend_SRCS := tests/test-layout-suspend.c tests/xs-test.c layout/sim-child.c $(LAYOUT_SRCS) \
                            $(CONFIG_SRCS) $(COMMON_SRCS)

TESTS += test-xs-wire
test-xs-wire_SRCS := tests/test-xs-wire.c tests/xs-test.c layout/sim-child.c layout/xs-wire.c layout/acl.c \
                     $(COMMON_SRCS)
