# The supervisor's stress tools: sim-tool, the CLI over the sim backend that
# the storm and kill -9 scenarios (tests/scenarios/sim-stress.sh) drive
# xensup-sim with, and the bench-supervisor curve.
# This is read before builders/ and config/ define their lists: `=`, not `:=`.
PROGRAMS += tests/sim-tool
tests/sim-tool_SRCS = tests/sim-tool.c $(BUILDERS_SRCS) $(CONFIG_SRCS) $(COMMON_SRCS)

# Only the TESTS rule creates build/tests/; sim-tool may be linked first.
$(BUILD)/tests/sim-tool: | $(BUILD)/tests
$(BUILD)/tests:
	mkdir -p $@

# The cost curve on xensup-sim, one bench/bench-supervisor.sh run per N in
# SIZES: start-up time, XenStore requests per create, a crash storm and its
# list scans, daemon and simulator memory, daemon CPU; then the per-domain
# figures and how each grows against N (bench/bench-curve.sh). Prints figures
# and ratios, never fails on them. A quick one: make bench-supervisor SIZES="100 200".
SIZES = 1000 2000 5000 10000
bench-supervisor: all
	XENSUP_BUILD=$(abspath $(BUILD)) XENSUP_SRC=$(CURDIR) bench/bench-curve.sh $(SIZES)

.PHONY: bench-supervisor
