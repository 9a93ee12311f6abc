# config/: domain config files (libconfuse schema, parsing, validation).
CONFIG_SRCS := config/config.c config/device.c

TESTS += test-config
test-config_SRCS := tests/test-config.c $(CONFIG_SRCS) $(COMMON_SRCS)
