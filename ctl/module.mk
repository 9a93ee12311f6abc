# ctl/: xensupctl, the D-Bus client of xensupd. It shares common/ with the
# daemon (common/bus-names.h for the API's names) and config/ (import-xl checks
# the configs it writes with the daemon's own loader), never supervisor/.
PROGRAMS += xensupctl
xensupctl_SRCS = ctl/ctl.c ctl/ctl-util.c ctl/console.c ctl/import-xl.c ctl/host.c $(CONFIG_SRCS) \
	$(COMMON_SRCS)
# import-xl reads xl.cfg files with xl's own parser (Debian's libxen-dev): libxlutil's
# xlu_cfg_* and xlu_disk_parse, and libxenlight for the libxl_device_disk it fills.
xensupctl_LDFLAGS = -lxlutil -lxenlight

# import-xl over Debian's xlexample files and tests/data/xl.
SHELL_TESTS += tests/test-import-xl.sh

TESTS += test-ctl-util
test-ctl-util_SRCS = tests/dbus/test-ctl-util.c ctl/ctl-util.c $(COMMON_SRCS)

# The tests' raw CreateDomain client: dbus-send and busctl cannot pass a descriptor.
PROGRAMS += tests/bus-create
tests/bus-create_SRCS = tests/dbus/bus-create.c
$(BUILD)/tests/bus-create: | $(BUILD)/tests
