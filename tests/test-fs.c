/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-fs — common/fs.c: mkdir_p, and create_file_in_safe_dir, the only way
 * the daemon (as root) creates a file where a config told it to (core dumps):
 * a link planted at the name is never followed, an existing file never
 * overwritten, a directory someone else could write to refused; and
 * common/creds.c, which opens the files a caller named with its rights.
 */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/creds.h"
#include "common/fs.h"
#include "common/macros.h"

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)flag, (void)f;
        return remove(path);
}

static int setup(void **state)
{
        (void)state;
        strcpy(dir, "/tmp/test-fs.XXXXXX");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

static char *path_in(const char *name)
{
        char *p = NULL;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static void test_mkdir_p(void **state)
{
        _cleanup_free_ char *deep = path_in("a/b/c");
        struct stat st;

        (void)state;
        assert_int_equal(mkdir_p(deep, 0700), 0);
        assert_int_equal(stat(deep, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(mkdir_p(deep, 0700), 0); /* again: nothing to do */
}

static void test_creates_new_file(void **state)
{
        _cleanup_free_ char *err = NULL, *file = path_in("x.core");
        struct stat st;
        int fd;

        (void)state;
        if (geteuid() != 0)
                skip(); /* the rule is about root's own directories */
        fd = create_file_in_safe_dir(dir, "x.core", 0600, 0, &err);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "core", 4), 4);
        close(fd);
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        /* A second dump to the same name does not overwrite the first. */
        assert_int_equal(create_file_in_safe_dir(dir, "x.core", 0600, 0, &err), -EEXIST);
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_size, 4);
}

static void test_planted_symlink_not_followed(void **state)
{
        _cleanup_free_ char *err = NULL, *victim = path_in("victim"), *link = path_in("d.core");
        char buf[16] = "";
        int fd;

        (void)state;
        if (geteuid() != 0)
                skip();
        fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "SECRET", 6), 6);
        close(fd);
        assert_int_equal(symlink(victim, link), 0);
        assert_int_equal(create_file_in_safe_dir(dir, "d.core", 0600, 0, &err), -EEXIST);
        assert_non_null(strstr(err, "d.core"));
        fd = open(victim, O_RDONLY);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), 6);
        close(fd);
        assert_string_equal(buf, "SECRET");
        /* A dangling link is refused the same way (O_EXCL|O_NOFOLLOW), nothing created. */
        assert_int_equal(unlink(victim), 0);
        assert_int_equal(create_file_in_safe_dir(dir, "d.core", 0600, 0, &err), -EEXIST);
        assert_int_equal(access(victim, F_OK), -1);
}

static void test_unsafe_directories_refused(void **state)
{
        _cleanup_free_ char *err = NULL, *open_dir = path_in("open"), *theirs = path_in("theirs"),
                            *link = path_in("link");
        int fd;

        (void)state;
        if (geteuid() != 0)
                skip();
        /* Writable by the group or others: someone else could plant a name in it. */
        assert_int_equal(mkdir(open_dir, 0700), 0);
        assert_int_equal(chmod(open_dir, 0770), 0);
        assert_int_equal(create_file_in_safe_dir(open_dir, "a.core", 0600, 0, &err), -EPERM);
        assert_non_null(strstr(err, "writable by its group or others"));
        assert_int_equal(chmod(open_dir, 0703), 0);
        assert_int_equal(create_file_in_safe_dir(open_dir, "a.core", 0600, 0, &err), -EPERM);
        /* Owned by someone else (nobody): not root's to write in. */
        assert_int_equal(mkdir(theirs, 0700), 0);
        assert_int_equal(chown(theirs, 65534, 65534), 0);
        assert_int_equal(create_file_in_safe_dir(theirs, "a.core", 0600, 0, &err), -EPERM);
        assert_non_null(strstr(err, "owned by uid 65534"));
        /* ...unless it is the domain creator's own directory. */
        assert_int_equal(create_file_in_safe_dir(theirs, "b.core", 0600, 1, &err), -EPERM);
        fd = create_file_in_safe_dir(theirs, "b.core", 0600, 65534, &err);
        assert_true(fd >= 0);
        close(fd);
        /* The directory itself a symlink: not followed. */
        assert_int_equal(symlink(dir, link), 0);
        assert_true(create_file_in_safe_dir(link, "a.core", 0600, 0, &err) < 0);
        /* Names that are not one file name. */
        assert_int_equal(create_file_in_safe_dir(dir, "../x", 0600, 0, &err), -EINVAL);
        assert_int_equal(create_file_in_safe_dir(dir, "..", 0600, 0, &err), -EINVAL);
        assert_int_equal(create_file_in_safe_dir(dir, "", 0600, 0, &err), -EINVAL);
}

/* A file of mode written into the test directory. */
static char *file_in(const char *name, mode_t mode)
{
        char *p = path_in(name);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "x\n", 2), 2);
        close(fd);
        assert_int_equal(chmod(p, mode), 0);
        return p;
}

/* Files are opened with the rights given: nobody cannot read root's 0600 file, root can. */
static void test_open_with_callers_rights(void **state)
{
        _cleanup_free_ char *secret = file_in("secret", 0600), *shared = file_in("shared", 0644),
                            *err = NULL, *want = NULL;
        struct creds nobody, root;
        gid_t groups[1] = { 0 };
        int fd;

        (void)state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(chmod(dir, 0755), 0);
        creds_root(&root);
        creds_from_ids(&nobody, 65534, groups, 0);
        assert_int_equal(creds_open_file(&nobody, "ramdisk", secret, &err), -EACCES);
        assert_true(asprintf(&want, "ramdisk %s: uid 65534 may not read it (Permission denied)",
                             secret) > 0);
        assert_string_equal(err, want);
        /* Back to root's rights after the attempt. */
        assert_int_equal(geteuid(), 0);
        assert_int_equal(getegid(), 0);
        fd = creds_open_file(&nobody, "kernel", shared, &err);
        assert_true(fd >= 0);
        close(fd);
        fd = creds_open_file(&root, "kernel", secret, &err);
        assert_true(fd >= 0);
        close(fd);
        /* A group the caller is in counts; one it is not in does not. */
        assert_int_equal(chown(secret, 0, 4242), 0);
        assert_int_equal(chmod(secret, 0640), 0);
        assert_int_equal(creds_open_file(&nobody, "kernel", secret, &err), -EACCES);
        groups[0] = 4242;
        creds_from_ids(&nobody, 65534, groups, 1);
        fd = creds_open_file(&nobody, "kernel", secret, &err);
        assert_true(fd >= 0);
        close(fd);
        /* Not a regular file; not there. */
        assert_int_equal(creds_open_file(&root, "kernel", dir, &err), -EINVAL);
        assert_non_null(strstr(err, "not a regular file"));
        assert_int_equal(creds_open_file(&nobody, "kernel", "/nonexistent", &err), -ENOENT);
        assert_string_equal(err, "kernel /nonexistent: No such file or directory");
}

/* The record's group list: what is written reads back; anything else is refused. */
static void test_groups_text(void **state)
{
        static const char *const bad[] = { ",",   "1,", ",1",         "1,,2",       "a",
                                           "1 2", "-1", "4294967295", "99999999999" };
        struct creds c = { .uid = 1000 }, back = { .uid = 1000 };
        char text[64];

        (void)state;
        c.n_groups = 3;
        c.groups[0] = 1000, c.groups[1] = 27, c.groups[2] = 100;
        creds_groups_format(&c, text, sizeof(text));
        assert_string_equal(text, "1000,27,100");
        assert_int_equal(creds_groups_parse(&back, text), 0);
        assert_int_equal(back.n_groups, 3);
        assert_memory_equal(back.groups, c.groups, 3 * sizeof(gid_t));
        /* What does not fit is left out: fewer groups, never a cut number. */
        creds_groups_format(&c, text, 9);
        assert_string_equal(text, "1000,27");
        assert_int_equal(creds_groups_parse(&back, ""), 0);
        assert_int_equal(back.n_groups, 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(creds_groups_parse(&back, bad[i]), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
                cmocka_unit_test_setup_teardown(test_creates_new_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_planted_symlink_not_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsafe_directories_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_open_with_callers_rights, setup, teardown),
                cmocka_unit_test_setup_teardown(test_groups_text, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
