COMMON_SRCS := common/creds.c common/debug.c common/error.c common/fs.c common/hash.c common/parse.c common/sha1.c common/text.c common/uuid.c \
               common/vocabulary.c

TESTS += test-fs
test-fs_SRCS := tests/test-fs.c $(COMMON_SRCS)

TESTS += test-text
test-text_SRCS := tests/test-text.c $(COMMON_SRCS)
