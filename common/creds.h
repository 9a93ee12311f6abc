/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * creds.h — the rights a domain's files are opened with.
 *
 * The daemon runs as root, but a file a caller names (the kernel, the ramdisk,
 * the core-dump directory) must be opened with that caller's rights, or a member
 * of the admin group could make root read or write what it cannot. A domain
 * keeps its creator's uid and groups (from the bus, never augmented from /proc);
 * the build and dump children switch to them around each open. Root's creds
 * (uid 0) mean the daemon's own rights: the config directory is root's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Groups kept per creator: a caller in more has the rest ignored (fewer rights, never more). */
#define CREDS_GROUPS_MAX 32

struct creds {
        uid_t uid;
        gid_t gid; /* primary group, from the user database (nogroup if the uid has none) */
        size_t n_groups;
        gid_t groups[CREDS_GROUPS_MAX];
        /*
         * May give guests the host's own devices: a block device as a disk, a bridge for a vif
         * (the host-devices authorization; root may). File rights alone never grant it.
         */
        bool host_devices;
};

/* Root's creds: the daemon's own rights. */
void creds_root(struct creds *c);

/* Whether c is root's. */
bool creds_is_root(const struct creds *c);

/* Creds for uid with these supplementary groups (the bus's); the primary group is looked up. */
void creds_from_ids(struct creds *c, uid_t uid, const gid_t *groups, size_t n_groups);

/*
 * Run fn(userdata) with c's effective uid, gid and groups (file-system rights), then return to
 * root; fn's result, or a negative errno if the switch failed. Only in a forked child: the
 * switch is process-wide, and a failed return to root ends the process.
 */
int creds_run(const struct creds *c, int (*fn)(void *userdata), void *userdata);

/*
 * Open path for reading with c's rights: a regular file (never a FIFO or device), O_CLOEXEC.
 * Returns the fd, or a negative errno and a message naming what and path ("kernel /x: ...").
 */
int creds_open_file(const struct creds *c, const char *what, const char *path, char **err_r);

/*
 * Open a disk's target with c's rights, read-write unless !write: a regular file or a block
 * device. The fd, or a negative errno and a message ("disk /x: uid 1000 may not write it").
 */
int creds_open_target(const struct creds *c, const char *what, const char *path, bool write,
                      char **err_r);

/* c's groups as "gid,gid,..." into buf; groups that do not fit are left out (fewer rights). */
void creds_groups_format(const struct creds *c, char *buf, size_t size);

/* Parse creds_groups_format()'s text into c's groups; -EINVAL if it is not such a list. */
int creds_groups_parse(struct creds *c, const char *text);

/*
 * Creds as a record or image the daemon wrote keeps them: uid, its groups' text and the
 * host-devices right (root's always). -EINVAL when groups is malformed: c then has the primary
 * group only (fewer rights, never more).
 */
int creds_from_saved(struct creds *c, uid_t uid, const char *groups, bool host_devices);
