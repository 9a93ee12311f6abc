/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/macros.h"

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int create_file_in_safe_dir(const char *dir, const char *name, mode_t mode, uid_t owner,
                            char **err_r)
{
        _cleanup_close_ int dfd = -1;
        struct stat st;
        int fd;

        if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return err_setf(err_r, -EINVAL, "%s: not a file name", name);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return err_setf(err_r, -errno, "%s: %s", dir, strerror(errno));
        if (fstat(dfd, &st) < 0)
                return err_setf(err_r, -errno, "%s: %s", dir, strerror(errno));
        if (st.st_uid != 0 && st.st_uid != owner)
                return err_setf(err_r, -EPERM,
                                "%s: owned by uid %u, not root%s: refusing to write in it", dir,
                                (unsigned)st.st_uid, owner ? " nor the domain's creator" : "");
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return err_setf(
                    err_r, -EPERM,
                    "%s: writable by its group or others (mode %03o): refusing to write "
                    "in it",
                    dir, (unsigned)(st.st_mode & 0777));
        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return err_setf(err_r, -errno, "%s/%s: %s", dir, name, strerror(errno));
        return fd;
}

/* Write all len bytes, by send() (no SIGPIPE from a peer gone) when on_socket. */
static int write_loop(int fd, const void *buf, size_t len, bool on_socket)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = on_socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        return write_loop(fd, buf, len, false);
}

int send_all(int fd, const void *buf, size_t len)
{
        return write_loop(fd, buf, len, true);
}
