# bench/: benchmarks that print figures and ratios, never pass/fail on timing.
# Each bench brings its own fragment, bench/<name>.mk, included here, so no two
# authors share a file.

# The fragments are read before the Makefile's own `all:` rule, so the first
# rule of any of them would become the default goal: keep `make` = `make all`.
.DEFAULT_GOAL := all

include $(sort $(filter-out bench/module.mk,$(wildcard bench/*.mk)))
