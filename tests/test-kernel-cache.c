/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * supervisor/kernel-cache.c on its own: an image is kept sealed under its file's key, found by
 * that key alone (every field counts), bounded by the memory its pages take, the least recently
 * used dropped first; what is not kept (empty, too large, a second copy) is closed, not leaked.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/kernel-cache.h"

#define PAGE 4096

/* A fill memfd as a build leaves it: pages pages of bytes. */
static int filled(unsigned pages)
{
        static unsigned char buf[PAGE];
        int fd = kernel_cache_new_fill();

        assert_true(fd >= 0);
        memset(buf, 0x90, sizeof(buf));
        for (unsigned i = 0; i < pages; i++)
                assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
        return fd;
}

static struct kernel_cache_key key(uint64_t ino)
{
        struct stat st = { .st_dev = 8, .st_ino = ino, .st_size = 12345 };

        struct kernel_cache_key k;

        st.st_mtim.tv_sec = 1700000000;
        st.st_mtim.tv_nsec = 5;
        st.st_ctim = st.st_mtim;
        kernel_cache_key_of(&st, &k);
        return k;
}

static bool fd_is_open(int fd)
{
        return fcntl(fd, F_GETFD) >= 0;
}

static void test_kept_sealed_and_found(void **state)
{
        struct kernel_cache *c = NULL;
        struct kernel_cache_key k = key(1), other;
        struct kernel_cache_stats s;
        int fd;

        (void)state;
        assert_int_equal(kernel_cache_new(16 * PAGE, &c), 0);
        assert_int_equal(kernel_cache_find(c, &k), -ENOENT);
        fd = filled(2);
        assert_int_equal(kernel_cache_add(c, &k, fd), 1);
        assert_int_equal(kernel_cache_find(c, &k), fd);
        assert_int_equal(fcntl(fd, F_GET_SEALS),
                         F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
        assert_int_equal(write(fd, "x", 1), -1);
        assert_int_equal(errno, EPERM);
        /* Each field of the key is the kernel's: any other value is another file's. */
        for (int f = 0; f < 7; f++) {
                other = k;
                switch (f) {
                case 0:
                        other.dev++;
                        break;
                case 1:
                        other.ino++;
                        break;
                case 2:
                        other.size++;
                        break;
                case 3:
                        other.mtime_sec++;
                        break;
                case 4:
                        other.mtime_nsec++;
                        break;
                case 5:
                        other.ctime_sec++;
                        break;
                default:
                        other.ctime_nsec++;
                        break;
                }
                assert_int_equal(kernel_cache_find(c, &other), -ENOENT);
        }
        kernel_cache_used(c, &k);
        kernel_cache_get_stats(c, &s);
        assert_int_equal(s.images, 1);
        assert_int_equal(s.bytes, 2 * PAGE);
        assert_int_equal(s.max_bytes, 16 * PAGE);
        assert_int_equal(s.hits, 1);
        assert_int_equal(s.misses, 1);
        kernel_cache_free(c);
        assert_false(fd_is_open(fd));
}

static void test_not_kept_is_closed(void **state)
{
        struct kernel_cache *c = NULL;
        struct kernel_cache_key k = key(1);
        struct kernel_cache_stats s;
        int empty, large, first, second;

        (void)state;
        assert_int_equal(kernel_cache_new(4 * PAGE, &c), 0);
        empty = kernel_cache_new_fill();
        assert_true(empty >= 0);
        assert_int_equal(kernel_cache_add(c, &k, empty), 0);
        assert_false(fd_is_open(empty));
        large = filled(5);
        assert_int_equal(kernel_cache_add(c, &k, large), 0);
        assert_false(fd_is_open(large));
        /* Two builds of one kernel at once: both inflate it, the first image is kept. */
        first = filled(1);
        second = filled(1);
        assert_int_equal(kernel_cache_add(c, &k, first), 1);
        assert_int_equal(kernel_cache_add(c, &k, second), 0);
        assert_false(fd_is_open(second));
        assert_int_equal(kernel_cache_find(c, &k), first);
        kernel_cache_get_stats(c, &s);
        assert_int_equal(s.images, 1);
        assert_int_equal(s.misses, 4);
        kernel_cache_free(c);
        assert_int_equal(kernel_cache_new(0, &c), -EINVAL);
}

static void test_least_recently_used_goes(void **state)
{
        struct kernel_cache *c = NULL;
        struct kernel_cache_key a = key(1), b = key(2), d = key(3);
        struct kernel_cache_stats s;
        int fa, fb, fd;

        (void)state;
        assert_int_equal(kernel_cache_new(4 * PAGE, &c), 0);
        fa = filled(2);
        fb = filled(2);
        assert_int_equal(kernel_cache_add(c, &a, fa), 1);
        assert_int_equal(kernel_cache_add(c, &b, fb), 1);
        kernel_cache_used(c, &a); /* b is now the least recently used */
        fd = filled(1);
        assert_int_equal(kernel_cache_add(c, &d, fd), 1);
        assert_int_equal(kernel_cache_find(c, &a), fa);
        assert_int_equal(kernel_cache_find(c, &b), -ENOENT);
        assert_false(fd_is_open(fb));
        assert_int_equal(kernel_cache_find(c, &d), fd);
        kernel_cache_get_stats(c, &s);
        assert_int_equal(s.images, 2);
        assert_int_equal(s.bytes, 3 * PAGE);
        /* A hit on an image dropped since its build began: counted, nothing else. */
        kernel_cache_used(c, &b);
        kernel_cache_get_stats(c, &s);
        assert_int_equal(s.hits, 2);
        assert_int_equal(s.images, 2);
        kernel_cache_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kept_sealed_and_found),
                cmocka_unit_test(test_not_kept_is_closed),
                cmocka_unit_test(test_least_recently_used_goes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
