# The supervisor's stress tools: sim-tool, the CLI over the sim backend that
# the storm and kill -9 scenarios (tests/scenarios/sim-stress.sh) drive
# xensup-sim with, and the 1000-domain bench.
# This is read before builders/ and config/ define their lists: `=`, not `:=`.
PROGRAMS += tests/sim-tool
tests/sim-tool_SRCS = tests/sim-tool.c $(BUILDERS_SRCS) $(CONFIG_SRCS) $(COMMON_SRCS)

# Only the TESTS rule creates build/tests/; sim-tool may be linked first.
$(BUILD)/tests/sim-tool: | $(BUILD)/tests
$(BUILD)/tests:
	mkdir -p $@

# 1000 domains on xensup-sim: start-up time, XenStore requests per create, a
# crash storm, daemon and simulator memory. Prints figures, never fails on them.
bench-supervisor: all
	XENSUP_BUILD=$(abspath $(BUILD)) XENSUP_SRC=$(CURDIR) bench/bench-supervisor.sh

.PHONY: bench-supervisor
