# xensup — plain Makefile. Each folder adds itself through its module.mk:
#   PROGRAMS += name      name_SRCS := ...   name_LDFLAGS := ...
#   TESTS    += test-x    test-x_SRCS := ... (cmocka binaries, run by make check)
#   SHELL_TESTS += tests/x.sh                (run after the cmocka binaries)
# Objects are shared by every program and test that lists the same source.

VERSION     := 0.1.0
BUILD       ?= build
CC          ?= gcc
SANITIZE    ?=
PKGS        := xencontrol xenguest xenstore libconfuse libsystemd libmnl

# Deferred (=, not :=): `make deps all` on a fresh machine must ask pkg-config
# after deps installed the packages, not when the Makefile was read.
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS     = $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS  = $(shell pkg-config --libs cmocka)

CFLAGS      ?= -O2 -g
CFLAGS      += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. $(PKG_CFLAGS) \
               -DXENSUP_VERSION='"$(VERSION)"' -DXENSUP_LIBEXECDIR='"$(LIBEXECDIR)"' \
               -fno-strict-aliasing -fstack-protector-strong -MMD -MP
LDFLAGS     += -Wl,--as-needed
ifneq ($(SANITIZE),)
CFLAGS      += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS     += -fsanitize=address,undefined
endif

.DEFAULT_GOAL := all

PROGRAMS    :=
TESTS       :=
SHELL_TESTS :=

# Where `make install` puts each file (units/module.mk and doc/module.mk add theirs).
include install.mk
include $(sort $(wildcard */module.mk))

all: $(addprefix $(BUILD)/,$(PROGRAMS))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

define PROGRAM_template
$(BUILD)/$(1): $$(call obj,$$($(1)_SRCS))
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$($(1)_LDFLAGS) $$(PKG_LIBS)
endef
define TEST_template
$(BUILD)/tests/$(1): $$(call obj,$$($(1)_SRCS))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$($(1)_LDFLAGS) $$(PKG_LIBS) $$(CMOCKA_LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROGRAM_template,$(p))))
$(foreach t,$(TESTS),$(eval $(call TEST_template,$(t))))

tests: all $(addprefix $(BUILD)/tests/,$(TESTS))

# make check: every cmocka binary, then every shell/integration test.
check: tests deps-test
	BUILD=$(BUILD) VALGRIND="$(VALGRIND)" tests/run-tests.sh \
	  $(addprefix $(BUILD)/tests/,$(TESTS)) $(SHELL_TESTS)

check-asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 check

VALGRIND_CMD := valgrind --quiet --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	--track-fds=no --suppressions=tests/valgrind.supp
check-valgrind:
	$(MAKE) BUILD=build-valgrind VALGRIND="$(VALGRIND_CMD)" check

# make deps: what building needs; each test target brings what it needs besides.
deps:
	tests/install-deps.sh build
# A static pattern rule: make looks for no implicit rule for a phony target, so a plain
# deps-% would never run for these.
DEPS_GROUPS := deps-run deps-test deps-xen deps-package
$(DEPS_GROUPS): deps-%:
	tests/install-deps.sh $*

# cppcheck does not model __attribute__((cleanup)), so it reports every
# _cleanup_ variable as a leak; leaks are the job of check-asan and check-valgrind.
lint: deps-test
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --suppress=memleak \
	  --suppress=resourceLeak -I. -D__GNUC__ $$(git ls-files '*.c')

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-valgrind

.PHONY: all tests check check-asan check-valgrind deps $(DEPS_GROUPS) \
	lint format clean
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
