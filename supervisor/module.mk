# xensupd: the daemon. Its D-Bus glue (bus.c, *-dbus.c) lives beside the model.
SUPERVISOR_SRCS = supervisor/build-queue.c supervisor/domain.c supervisor/lifecycle.c supervisor/log.c \
                  supervisor/manager.c supervisor/policy.c supervisor/watch.c \
                  supervisor/bus.c supervisor/domain-dbus.c supervisor/manager-dbus.c \
                  supervisor/sim-dbus.c supervisor/outcome.c supervisor/domain-table.c \
                  supervisor/configs.c supervisor/config-store.c supervisor/reconcile.c \
                  supervisor/polkit.c supervisor/attach.c supervisor/domain-devices.c \
                  supervisor/device-job.c supervisor/hotplug.c supervisor/child.c \
                  supervisor/script.c supervisor/save-job.c supervisor/image.c \
                  supervisor/host.c supervisor/console.c supervisor/history.c \
                  supervisor/vcpus.c supervisor/kernel-cache.c

PROGRAMS += xensupd
xensupd_SRCS = supervisor/main.c $(SUPERVISOR_SRCS) $(CONFIG_SRCS) $(LAYOUT_SRCS) \
               $(BUILDERS_SRCS) $(COMMON_SRCS)

TESTS += test-policy
test-policy_SRCS = tests/test-policy.c supervisor/policy.c $(CONFIG_SRCS) $(COMMON_SRCS)

TESTS += test-build-queue
test-build-queue_SRCS = tests/test-build-queue.c supervisor/build-queue.c supervisor/attach.c supervisor/child.c supervisor/script.c \
                        supervisor/image.c supervisor/kernel-cache.c \
                        $(BUILDERS_SRCS) $(LAYOUT_SRCS) $(CONFIG_SRCS) $(COMMON_SRCS)

TESTS += test-lifecycle
test-lifecycle_SRCS = tests/test-lifecycle.c $(SUPERVISOR_SRCS) $(CONFIG_SRCS) $(LAYOUT_SRCS) \
                      $(BUILDERS_SRCS) $(COMMON_SRCS)

SHELL_TESTS += tests/test-supervisor.sh
SHELL_TESTS += tests/test-logs.sh

# README's first command: the daemon on the simulator with the example domains,
# on a private session bus, printing what it does until Ctrl-C.
demo: all deps-run
	tests/demo.sh

.PHONY: demo

TESTS += test-attach
test-attach_SRCS = tests/test-attach.c supervisor/attach.c supervisor/script.c $(BUILDERS_SRCS) $(LAYOUT_SRCS) \
                   $(CONFIG_SRCS) $(COMMON_SRCS)

TESTS += test-history-record
test-history-record_SRCS = tests/test-history-record.c supervisor/history.c $(COMMON_SRCS)

# The kernel cache on its own: keys, seals, the bound and the least recently used.
TESTS += test-kernel-cache
test-kernel-cache_SRCS = tests/test-kernel-cache.c supervisor/kernel-cache.c $(COMMON_SRCS)
