/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * acl.h — the XenStore access lists xensup puts on a domain's nodes.
 *
 * xenstored's rule: the first entry names the owner (who has every right,
 * including changing the ACL) and, in its perms, what every domain not
 * listed may do; later entries grant one domain read, write or both.
 * A guest that owns a node can do anything with it (CVE-2008-5716), so the
 * builder makes dom0 the owner, with nothing for the others, and adds at most
 * one entry: the guest's own read or read/write grant. The one exception is a
 * device's frontend directory, which the guest owns as libxl and the Linux
 * frontends expect ({n<domid>, r0}): nothing in it is ever believed.
 */
#pragma once

#include "common/vocabulary.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenstore.h>

/* The most entries an ACL built here has. */
#define LAYOUT_ACL_MAX 2

/* The "n0,r5" text of the longest ACL xensup parses or prints, plus NUL. */
#define LAYOUT_ACL_STRLEN 64

/* What the guest may do with a node; dom0 always owns it. */
enum layout_access {
        LAYOUT_ACCESS_NONE,  /* dom0 only: {n0} */
        LAYOUT_ACCESS_READ,  /* the guest reads: {n0, r<domid>} */
        LAYOUT_ACCESS_WRITE, /* the guest reads and writes: {n0, b<domid>} */
        LAYOUT_ACCESS_OWNER, /* a frontend directory, the guest's: {n<domid>, r0} */
        _LAYOUT_ACCESS_MAX,
};

/* True when domid may be given rights on a node: a guest, neither dom0 nor reserved. */
bool layout_acl_guest_is_valid(uint32_t domid);

/*
 * Build the ACL of a node for guest domid into perms[LAYOUT_ACL_MAX]; *n_r is
 * the number of entries. -EINVAL for an invalid access, or an invalid guest
 * when access grants it something (domid is unused for LAYOUT_ACCESS_NONE).
 */
int layout_acl_build(uint32_t domid, enum layout_access access,
                     struct xs_permissions perms[LAYOUT_ACL_MAX], unsigned *n_r);

/* Format an ACL as xenstore-ls -p does ("n0,r5"); -ENOBUFS when size is too small. */
int layout_acl_format(const struct xs_permissions *perms, unsigned n, char *buf, size_t size);

/*
 * True when an ACL read back is one xensup would write for domid: owner dom0
 * with nothing for others, and nothing granted to any domain but domid.
 */
bool layout_acl_is_safe(const struct xs_permissions *perms, unsigned n, uint32_t domid);

/* The access an ACL grants to domid (owner rights count as write). */
enum layout_access layout_acl_access_of(const struct xs_permissions *perms, unsigned n,
                                        uint32_t domid);
