/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uuid.h — a domain's identity: 16 bytes, their canonical text, and the
 * version 5 uuid xensup derives from a name when a config gives none.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The namespace of name-derived uuids: a missing uuid is the RFC 4122 version 5
 * uuid of the domain name under be51c6a3-f4b8-401d-9a23-569af416c3d1 (chosen at
 * random once for xensup; never change it, or every derived uuid changes).
 */
#define UUID_NAMESPACE_XENSUP "be51c6a3-f4b8-401d-9a23-569af416c3d1"

/* The v5 uuid of a name (any string) under UUID_NAMESPACE_XENSUP. */
void uuid_from_name(const char *name, uint8_t uuid[16]);

/* Format a uuid as 36 lowercase chars plus NUL into buf; returns buf. */
char *uuid_to_string(const uint8_t uuid[16], char buf[37]);

/* Parse a canonical 8-4-4-4-12 uuid string (either case); 0 or -EINVAL. */
int uuid_from_string(const char *s, uint8_t uuid[16]);

/* True for the all-zero uuid. */
bool uuid_is_null(const uint8_t uuid[16]);
