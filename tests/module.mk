# tests/: the real-Xen tier's make targets live with its scripts.
include tests/xen/xen.mk
include tests/fuzz/module.mk
