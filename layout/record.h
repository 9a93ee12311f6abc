/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * record.h — the key=value text of the daemon's dom0-only records under
 * /tool/xensup, shared by the domain record (layout.c) and the device records
 * (devices.c), and by the metadata of a saved image (supervisor/image.c).
 *
 * A record is read as systemd's machine_load reads its state files:
 * "version=N" first, then key=value lines in any order; unknown keys are
 * skipped (a later daemon's record still reads) and a missing key keeps the
 * default the caller put in the struct. A schema lists a struct's fields by
 * offset, so one codec serves every record.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_KEY_MAX       32   /* longest key accepted, known or not */
#define RECORD_UINT64_DIGITS 20   /* UINT64_MAX */
#define RECORD_UINT32_DIGITS 10   /* UINT32_MAX */
#define RECORD_VALUE_MAX     1024 /* the longest value of any field, NUL included */

enum record_type {
        RECORD_BOOL,   /* 0 or 1 */
        RECORD_UINT,   /* unsigned or uint64_t, by the member's size */
        RECORD_DOMID,  /* below DOMID_FIRST_RESERVED */
        RECORD_REASON, /* "none" or a shutdown reason */
        RECORD_TOKEN,  /* "" or [A-Za-z0-9_.-]+ */
        RECORD_NAME,   /* "" or a valid domain name */
        RECORD_TEXT,   /* any bytes, escaped */
        RECORD_PATH,   /* "" or an absolute path, escaped */
        RECORD_UUID,   /* canonical lowercase */
        RECORD_MAC,    /* six bytes, "xx:xx:xx:xx:xx:xx" */
};

struct record_field {
        const char *key;
        enum record_type type;
        size_t offset, size;
};

#define RECORD_FIELD(s, k, t, member)                                                              \
        {                                                                                          \
                .key = k, .type = t, .offset = offsetof(s, member),                                \
                .size = sizeof(((s *)NULL)->member)                                                \
        }

/* A record's fields (in the order they are written) and its version. */
struct record_schema {
        const struct record_field *fields;
        size_t n_fields;
        unsigned version;
        size_t write_max; /* the longest text record_format() may produce */
};

/* The schema's field called key (len bytes), or NULL. */
const struct record_field *record_field_find(const struct record_schema *s, const char *key,
                                             size_t len);

/* The longest wire value of f. */
size_t record_field_max(const struct record_field *f);

/* Parse one field's value (at most record_field_max() bytes) into rec; -EINVAL if malformed. */
int record_field_parse(const struct record_field *f, const char *v, size_t len, void *rec);

/* A record the daemon would read back, or -EINVAL with a message naming the field. */
int record_check(const struct record_schema *s, const void *rec, char **err_r);

/* The whole text of rec into text (s->write_max + 1 bytes); -E2BIG if it does not fit. */
int record_format(const struct record_schema *s, const void *rec, char *text, char **err_r);

/*
 * Parse a record's text (len bytes, no NUL) into rec, which holds the defaults: -EBADMSG with a
 * message naming the line or key for a wrong version, a line that is not key=value, a known key
 * given twice or a malformed or overlong value.
 */
int record_parse(const struct record_schema *s, const char *text, size_t len, void *rec,
                 char **err_r);

/* True when text (len bytes) starts with this schema's "version=" line. */
bool record_has_version_line(const char *text, size_t len);

/* "KEY: malformed value 'V'", V escaped and cut so the message stays one short line. */
int record_bad_value(char **err_r, const char *key, const char *v, size_t len);

/* A strict unsigned decimal: digits only, no sign or leading zero, at most max. */
int record_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret);
