# tests/: the real-Xen tier's make targets live with its scripts.
include tests/xen/xen.mk
include tests/fuzz/module.mk

# The saved-image format (supervisor/image.c) on its own: files, pipes, hostile bytes.
TESTS += test-image
test-image_SRCS := tests/test-image.c supervisor/image.c layout/record.c $(CONFIG_SRCS) $(COMMON_SRCS)
SHELL_TESTS += tests/test-completion.sh tests/test-console.sh tests/test-history.sh \
               tests/test-host.sh tests/test-kernel-cache-daemon.sh

# The Debian packages: built from a copy of the tree, lintian, installed into a scratch root.
check-package: deps-package
	tests/test-package.sh

.PHONY: check-package
