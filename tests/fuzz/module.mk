# tests/fuzz/: the config parser under libFuzzer (tests/fuzz/README.md).
#   make fuzz-config [FUZZ_SECONDS=60]   fuzz a copy of the corpus; fails on a finding
#   make fuzz-config-merge               add what that copy gained to the tree's corpus
# Built with clang into $(BUILD)/fuzz/, apart from the gcc objects of $(BUILD)/obj.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -g -O1 -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -I. \
                -MMD -MP
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_CORPUS  := tests/fuzz/corpus/config
FUZZ_WORK    := $(FUZZ_DIR)/corpus-config
FUZZ_OPTS    := -dict=tests/fuzz/config.dict -max_len=4096 -timeout=10 -rss_limit_mb=1024
fuzz_config_SRCS := tests/fuzz/fuzz-config.c $(CONFIG_SRCS) $(COMMON_SRCS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz-config: $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(fuzz_config_SRCS))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wl,--as-needed -o $@ $^ $(PKG_LIBS)

# The fuzzer adds what it finds to its copy, never to the tree's corpus; the
# copy is kept between runs, so fuzz-config-merge can pick from it. A crash,
# leak or timeout makes libFuzzer exit non-zero and save the input in
# $(FUZZ_DIR)/artifacts/.
fuzz-config: $(FUZZ_DIR)/fuzz-config | deps-test
	@mkdir -p $(FUZZ_WORK) $(FUZZ_DIR)/artifacts
	cp $(FUZZ_CORPUS)/* $(FUZZ_WORK)/
	UBSAN_OPTIONS=print_stacktrace=1 $< $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_WORK) || \
	  { echo "fuzz-config: a finding is in $(FUZZ_DIR)/artifacts/;" \
	    "replay it with $< FILE" >&2; exit 1; }

# For developers: keep, minimized, the inputs of the copy that add coverage.
fuzz-config-merge: $(FUZZ_DIR)/fuzz-config
	$< $(FUZZ_OPTS) -merge=1 $(FUZZ_CORPUS) $(FUZZ_WORK)

.PHONY: fuzz-config fuzz-config-merge
-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
