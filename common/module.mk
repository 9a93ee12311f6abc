COMMON_SRCS := common/error.c
