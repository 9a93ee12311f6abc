COMMON_SRCS := common/error.c common/fs.c common/parse.c
