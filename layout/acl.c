/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "layout/acl.h"

bool layout_acl_guest_is_valid(uint32_t domid)
{
        return domid > 0 && domid < DOMID_FIRST_RESERVED;
}

int layout_acl_build(uint32_t domid, enum layout_access access,
                     struct xs_permissions perms[LAYOUT_ACL_MAX], unsigned *n_r)
{
        if (access != LAYOUT_ACCESS_NONE && !layout_acl_guest_is_valid(domid))
                return -EINVAL;

        /* The owner is dom0, and what it grants to unlisted domains is nothing. */
        perms[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };

        switch (access) {
        case LAYOUT_ACCESS_OWNER:
                /* dom0 reads everything anyway; the entry is what the backend expects. */
                perms[0] = (struct xs_permissions){ .id = domid, .perms = XS_PERM_NONE };
                perms[1] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_READ };
                *n_r = 2;
                return 0;
        case LAYOUT_ACCESS_NONE:
                *n_r = 1;
                return 0;
        case LAYOUT_ACCESS_READ:
                perms[1] = (struct xs_permissions){ .id = domid, .perms = XS_PERM_READ };
                *n_r = 2;
                return 0;
        case LAYOUT_ACCESS_WRITE:
                perms[1] = (struct xs_permissions){
                        .id = domid,
                        .perms = XS_PERM_READ | XS_PERM_WRITE,
                };
                *n_r = 2;
                return 0;
        default:
                return -EINVAL;
        }
}

/* The letter xenstored uses for a permission set; 0 for bits it does not print. */
static char perm_letter(unsigned perms)
{
        switch (perms & (XS_PERM_READ | XS_PERM_WRITE)) {
        case XS_PERM_NONE:
                return 'n';
        case XS_PERM_READ:
                return 'r';
        case XS_PERM_WRITE:
                return 'w';
        default:
                return 'b';
        }
}

int layout_acl_format(const struct xs_permissions *perms, unsigned n, char *buf, size_t size)
{
        size_t used = 0;

        if (size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (unsigned i = 0; i < n; i++) {
                int k = snprintf(buf + used, size - used, "%s%c%u", i ? "," : "",
                                 perm_letter(perms[i].perms), perms[i].id);
                if (k < 0 || (size_t)k >= size - used)
                        return -ENOBUFS;
                used += (size_t)k;
        }
        return 0;
}

bool layout_acl_is_safe(const struct xs_permissions *perms, unsigned n, uint32_t domid)
{
        if (n == 0 || perms[0].id != 0 || (perms[0].perms & (XS_PERM_READ | XS_PERM_WRITE)))
                return false;
        for (unsigned i = 1; i < n; i++)
                if (perms[i].id != domid && (perms[i].perms & (XS_PERM_READ | XS_PERM_WRITE)))
                        return false;
        return true;
}

enum layout_access layout_acl_access_of(const struct xs_permissions *perms, unsigned n,
                                        uint32_t domid)
{
        unsigned p;

        if (n == 0)
                return LAYOUT_ACCESS_NONE;
        if (perms[0].id == domid)
                return LAYOUT_ACCESS_WRITE;
        /* xenstored: the first matching later entry wins, else the owner entry's perms. */
        p = perms[0].perms;
        for (unsigned i = 1; i < n; i++)
                if (perms[i].id == domid) {
                        p = perms[i].perms;
                        break;
                }
        if (p & XS_PERM_WRITE)
                return LAYOUT_ACCESS_WRITE;
        if (p & XS_PERM_READ)
                return LAYOUT_ACCESS_READ;
        return LAYOUT_ACCESS_NONE;
}
