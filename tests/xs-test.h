/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xs-test.h — what the layout tests share against the embedded XenStore server:
 * reading nodes and ACLs back as a second client, and a client XenStore takes
 * for a guest. Failures are cmocka assertions.
 */
#pragma once

#include <stdint.h>

#include <xenstore.h>

#include "layout/acl.h"

/* Read a node as a string; NULL with errno when refused or missing. The caller frees it. */
char *xs_test_read(struct xs_handle *xs, const char *path);

/* A node's ACL as xenstore-ls -p prints it ("n0,r5"), into buf. */
void xs_test_acl(struct xs_handle *xs, const char *path, char buf[LAYOUT_ACL_STRLEN]);

/* A client that XenStore takes for guest domid (the simulator's sim-as-domain). */
struct xs_handle *xs_test_open_guest(uint32_t domid);
