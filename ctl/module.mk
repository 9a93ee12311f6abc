# ctl/: xensupctl, the D-Bus client of xensupd. It shares only common/ with
# the daemon (common/bus-names.h for the API's names), never supervisor/.
PROGRAMS += xensupctl
xensupctl_SRCS = ctl/ctl.c ctl/ctl-util.c $(COMMON_SRCS)

TESTS += test-ctl-util
test-ctl-util_SRCS = tests/dbus/test-ctl-util.c ctl/ctl-util.c $(COMMON_SRCS)

# The tests' raw CreateDomain client: dbus-send and busctl cannot pass a descriptor.
PROGRAMS += tests/bus-create
tests/bus-create_SRCS = tests/dbus/bus-create.c
$(BUILD)/tests/bus-create: | $(BUILD)/tests
