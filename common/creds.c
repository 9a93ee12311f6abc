/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/creds.h"
#include "common/error.h"
#include "common/macros.h"

/* Debian's nogroup: the primary group of a uid the user database does not know. */
#define GID_NOGROUP 65534

void creds_root(struct creds *c)
{
        *c = (struct creds){ .uid = 0, .gid = 0, .host_devices = true };
}

bool creds_is_root(const struct creds *c)
{
        return c->uid == 0;
}

void creds_from_ids(struct creds *c, uid_t uid, const gid_t *groups, size_t n_groups)
{
        struct passwd pw, *res = NULL;
        char buf[4096];

        *c = (struct creds){ .uid = uid, .gid = GID_NOGROUP, .host_devices = uid == 0 };
        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
                c->gid = res->pw_gid;
        c->n_groups = n_groups < CREDS_GROUPS_MAX ? n_groups : CREDS_GROUPS_MAX;
        if (c->n_groups)
                memcpy(c->groups, groups, c->n_groups * sizeof(gid_t));
}

/* Back to root after creds_run(); a process that cannot must not go on with the caller's rights. */
static void creds_return_to_root(gid_t egid, const gid_t *groups, int n_groups)
{
        if (seteuid(0) < 0 || setegid(egid) < 0 || setgroups((size_t)n_groups, groups) < 0) {
                fprintf(stderr, "xensupd: cannot return to root's rights: %s\n", strerror(errno));
                _exit(EXIT_FAILURE);
        }
}

int creds_run(const struct creds *c, int (*fn)(void *userdata), void *userdata)
{
        _cleanup_free_ gid_t *saved = NULL;
        gid_t egid = getegid();
        int n_saved, r;

        if (creds_is_root(c))
                return fn(userdata);
        if (geteuid() != 0)
                return geteuid() == c->uid ? fn(userdata) : -EPERM;
        n_saved = getgroups(0, NULL);
        if (n_saved < 0)
                return -errno;
        saved = calloc((size_t)n_saved + 1, sizeof(gid_t));
        if (!saved)
                return -ENOMEM;
        n_saved = getgroups(n_saved, saved);
        if (n_saved < 0)
                return -errno;
        /* Groups first: once the uid is not root, it may not change them. */
        if (setgroups(c->n_groups, c->groups) < 0 || setegid(c->gid) < 0 || seteuid(c->uid) < 0) {
                r = -errno;
                creds_return_to_root(egid, saved, n_saved);
                return r;
        }
        r = fn(userdata);
        creds_return_to_root(egid, saved, n_saved);
        return r;
}

struct open_args {
        const char *path;
        int flags;
        int fd;
};

static int open_as_asked(void *userdata)
{
        struct open_args *a = userdata;

        /* O_NONBLOCK: a FIFO in its place must not hang the build. */
        a->fd = open(a->path, a->flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return a->fd < 0 ? -errno : 0;
}

/* Open path with c's rights and flags; a regular file, or a block device when allowed. */
static int open_checked(const struct creds *c, const char *what, const char *path, int flags,
                        bool block_ok, char **err_r)
{
        struct open_args a = { .path = path, .flags = flags, .fd = -1 };
        bool write = (flags & O_ACCMODE) != O_RDONLY;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = creds_run(c, open_as_asked, &a);
        fd = a.fd;
        if ((r == -EACCES || r == -EPERM) && !creds_is_root(c))
                return err_setf(err_r, r, "%s %s: uid %u may not %s it (%s)", what, path,
                                (unsigned)c->uid, write ? "write" : "read", strerror(-r));
        if (r == -EROFS || (r == -EACCES && write))
                return err_setf(err_r, r, "%s %s: cannot be opened for writing (%s); use access=ro",
                                what, path, strerror(-r));
        if (r < 0)
                return err_setf(err_r, r, "%s %s: %s", what, path, strerror(-r));
        if (fstat(fd, &st) < 0)
                return err_setf(err_r, -errno, "%s %s: %s", what, path, strerror(errno));
        if (!S_ISREG(st.st_mode) && !(block_ok && S_ISBLK(st.st_mode)))
                return err_setf(err_r, -EINVAL, "%s %s: not a regular file%s", what, path,
                                block_ok ? " or block device" : "");
        /* Blocking again: a regular file never blocks, and readers expect plain reads. */
        if (fcntl(fd, F_SETFL, 0) < 0)
                return err_setf(err_r, -errno, "%s %s: %s", what, path, strerror(errno));
        return TAKE_FD(fd);
}

int creds_open_file(const struct creds *c, const char *what, const char *path, char **err_r)
{
        return open_checked(c, what, path, O_RDONLY, false, err_r);
}

int creds_open_target(const struct creds *c, const char *what, const char *path, bool write,
                      char **err_r)
{
        return open_checked(c, what, path, write ? O_RDWR : O_RDONLY, true, err_r);
}

void creds_groups_format(const struct creds *c, char *buf, size_t size)
{
        size_t o = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < c->n_groups; i++) {
                char one[16];
                int n = snprintf(one, sizeof(one), "%s%u", i ? "," : "", (unsigned)c->groups[i]);

                if (n < 0 || o + (size_t)n >= size)
                        break;
                memcpy(buf + o, one, (size_t)n + 1);
                o += (size_t)n;
        }
}

int creds_groups_parse(struct creds *c, const char *text)
{
        struct creds parsed = *c;
        const char *p = text;

        parsed.n_groups = 0;
        while (*p) {
                unsigned long v;
                char *end;

                if (parsed.n_groups == CREDS_GROUPS_MAX || *p < '0' || *p > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoul(p, &end, 10);
                if (errno || v > UINT32_MAX - 1 || (*end && *end != ','))
                        return -EINVAL;
                parsed.groups[parsed.n_groups++] = (gid_t)v;
                p = *end ? end + 1 : end;
                if (*end && !*p)
                        return -EINVAL;
        }
        *c = parsed;
        return 0;
}

int creds_from_saved(struct creds *c, uid_t uid, const char *groups, bool host_devices)
{
        int r = 0;

        creds_from_ids(c, uid, NULL, 0);
        if (!creds_is_root(c))
                r = creds_groups_parse(c, groups);
        c->host_devices = creds_is_root(c) || host_devices;
        return r;
}
