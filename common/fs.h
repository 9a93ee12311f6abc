/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs.h — small file-system helpers the daemon's modules share.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Write all len bytes of buf to fd, again after EINTR and short writes; 0 or a negative errno. */
int write_all(int fd, const void *buf, size_t len);

/* As write_all(), on a socket whose peer may be gone: -EPIPE, never a SIGPIPE. */
int send_all(int fd, const void *buf, size_t len);

/* Create path and every missing parent with mode (like mkdir -p); 0 or a negative errno. */
int mkdir_p(const char *path, mode_t mode);

/*
 * Create a new file dir/name for writing on behalf of someone: dir must be a directory (not a
 * symlink) owned by root or by owner (0: root only) and writable by no group or other, so
 * nobody else can plant a name in it, and the file is created O_EXCL|O_NOFOLLOW (an existing
 * name or symlink is -EEXIST, never followed or overwritten). Returns the fd, or a negative
 * errno with a message.
 */
int create_file_in_safe_dir(const char *dir, const char *name, mode_t mode, uid_t owner,
                            char **err_r);
