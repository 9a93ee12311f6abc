COMMON_SRCS := common/error.c common/parse.c
