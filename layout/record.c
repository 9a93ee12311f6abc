/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/parse.h"
#include "common/uuid.h"
#include "common/vocabulary.h"
#include "config/config.h"
#include "layout/record.h"

#define RECORD_VERSION_KEY "version="
#define RECORD_TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define RECORD_KEY_CHARS   "abcdefghijklmnopqrstuvwxyz0123456789_"
#define RECORD_FIELDS_MAX  64 /* the most fields a schema has */

/* A strict unsigned decimal: digits only, no sign or leading zero, at most max. */
int record_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || (len > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (max - (uint64_t)(s[i] - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = v;
        return 0;
}

const struct record_field *record_field_find(const struct record_schema *s, const char *key,
                                             size_t len)
{
        for (size_t i = 0; i < s->n_fields; i++)
                if (strlen(s->fields[i].key) == len && memcmp(s->fields[i].key, key, len) == 0)
                        return &s->fields[i];
        return NULL;
}

/* The longest value of a field on the wire; a string's escaped form must fit its array. */
size_t record_field_max(const struct record_field *f)
{
        switch (f->type) {
        case RECORD_BOOL:
                return 1;
        case RECORD_UINT:
                return f->size == sizeof(uint64_t) ? RECORD_UINT64_DIGITS : RECORD_UINT32_DIGITS;
        case RECORD_DOMID:
                return 5; /* 32751 */
        case RECORD_REASON:
                return 16; /* "soft_reset", with room */
        case RECORD_UUID:
                return 36;
        case RECORD_MAC:
                return 17;
        default:
                return f->size - 1;
        }
}

static bool token_is_valid(const char *s, size_t max)
{
        size_t n = strlen(s);

        return n >= 1 && n <= max && strspn(s, RECORD_TOKEN_CHARS) == n;
}

/*
 * Escape the first n bytes of src into dst (NUL-terminated, at most size - 1
 * bytes) so that a value never holds a newline or a control byte: "\\",
 * "\n", "\xNN". Stops before the first byte whose escape does not fit;
 * returns how many bytes of src it took.
 */
static size_t escape(const char *src, size_t n, char *dst, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0, i;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)src[i];
                char e[4] = { '\\', (char)c, 0, 0 };
                size_t k = 2;

                if (c == '\n')
                        e[1] = 'n';
                else if (c < 0x20 || c == 0x7f) {
                        e[1] = 'x';
                        e[2] = hex[c >> 4];
                        e[3] = hex[c & 0xf];
                        k = 4;
                } else if (c != '\\') {
                        e[0] = (char)c;
                        k = 1;
                }
                if (o + k >= size)
                        break;
                memcpy(dst + o, e, k);
                o += k;
        }
        dst[o] = '\0';
        return i;
}

/* Undo escape(): no raw control byte, and no escape but "\\", "\n" and "\xNN" (not \x00). */
static int unescape(const char *v, size_t len, char *dst, size_t size)
{
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)v[i];

                if (c < 0x20 || c == 0x7f)
                        return -EINVAL;
                if (c == '\\') {
                        int hi, lo;

                        if (++i == len)
                                return -EINVAL;
                        switch (v[i]) {
                        case '\\':
                                break;
                        case 'n':
                                c = '\n';
                                break;
                        case 'x':
                                if (i + 2 >= len)
                                        return -EINVAL;
                                hi = hex_digit(v[i + 1]);
                                lo = hex_digit(v[i + 2]);
                                if (hi < 0 || lo < 0 || (hi | lo) == 0)
                                        return -EINVAL;
                                c = (unsigned char)(hi << 4 | lo);
                                i += 2;
                                break;
                        default:
                                return -EINVAL;
                        }
                }
                if (o + 1 >= size)
                        return -E2BIG;
                dst[o++] = (char)c;
        }
        dst[o] = '\0';
        return 0;
}

/* A record the daemon would read back, or -EINVAL with a message naming the field. */
int record_check(const struct record_schema *s, const void *rec, char **err_r)
{
        for (size_t i = 0; i < s->n_fields; i++) {
                const struct record_field *f = &s->fields[i];
                const char *p = (const char *)rec + f->offset;
                enum shutdown_reason reason;

                switch (f->type) {
                case RECORD_DOMID:
                        if (*(const uint32_t *)p >= DOMID_FIRST_RESERVED)
                                return err_setf(err_r, -EINVAL, "%s: %" PRIu32 " is not a guest's",
                                                f->key, *(const uint32_t *)p);
                        break;
                case RECORD_REASON:
                        reason = *(const enum shutdown_reason *)p;
                        if (reason != SHUTDOWN_REASON_NONE &&
                            (unsigned)reason >= (unsigned)_SHUTDOWN_REASON_MAX)
                                return err_setf(err_r, -EINVAL, "%s: unknown reason %d", f->key,
                                                (int)reason);
                        break;
                case RECORD_TOKEN:
                case RECORD_NAME:
                case RECORD_TEXT:
                case RECORD_PATH:
                        if (!memchr(p, '\0', f->size))
                                return err_setf(err_r, -EINVAL, "%s: not NUL-terminated", f->key);
                        if (!*p)
                                break;
                        if (f->type == RECORD_TOKEN && !token_is_valid(p, f->size - 1))
                                return err_setf(err_r, -EINVAL, "%s: not a token ([A-Za-z0-9_.-])",
                                                f->key);
                        if (f->type == RECORD_NAME && !domain_name_is_valid(p))
                                return err_setf(err_r, -EINVAL, "%s: not a valid domain name",
                                                f->key);
                        if (f->type == RECORD_PATH && *p != '/')
                                return err_setf(err_r, -EINVAL, "%s: not an absolute path", f->key);
                        break;
                default:
                        break;
                }
        }
        return 0;
}

/* The wire form of one field's value, into v (RECORD_VALUE_MAX, the longest). */
static void field_format(const struct record_field *f, const void *rec, char v[RECORD_VALUE_MAX])
{
        const char *p = (const char *)rec + f->offset;
        size_t n, k;

        switch (f->type) {
        case RECORD_BOOL:
                strcpy(v, *(const bool *)p ? "1" : "0");
                break;
        case RECORD_UINT:
                snprintf(v, RECORD_VALUE_MAX, "%" PRIu64,
                         f->size == sizeof(uint64_t) ? *(const uint64_t *)p
                                                     : (uint64_t) * (const unsigned *)p);
                break;
        case RECORD_DOMID:
                snprintf(v, RECORD_VALUE_MAX, "%" PRIu32, *(const uint32_t *)p);
                break;
        case RECORD_REASON:
                snprintf(v, RECORD_VALUE_MAX, "%s",
                         shutdown_reason_to_string(*(const enum shutdown_reason *)p));
                break;
        case RECORD_TOKEN:
        case RECORD_NAME:
                snprintf(v, RECORD_VALUE_MAX, "%s", p);
                break;
        case RECORD_TEXT:
                n = strlen(p);
                k = escape(p, n, v, f->size);
                if (k < n) {
                        /* Cut before a whole character, not inside a UTF-8 sequence. */
                        for (unsigned b = 0; b < 3 && k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80;
                             b++)
                                k--;
                        escape(p, k, v, f->size);
                }
                break;
        case RECORD_PATH:
                n = strlen(p);
                /* Half a path would name another file: one too long escaped is not kept. */
                if (escape(p, n, v, f->size) < n)
                        v[0] = '\0';
                break;
        case RECORD_MAC:
                mac_format((const uint8_t *)p, v);
                break;
        case RECORD_UUID: {
                char u[37];

                snprintf(v, RECORD_VALUE_MAX, "%s", uuid_to_string((const uint8_t *)p, u));
                break;
        }
        }
}

int record_format(const struct record_schema *s, const void *rec, char *text, char **err_r)
{
        size_t size = s->write_max + 1;
        size_t used = (size_t)snprintf(text, size, RECORD_VERSION_KEY "%u\n", s->version);

        for (size_t i = 0; i < s->n_fields; i++) {
                char v[RECORD_VALUE_MAX];
                int k;

                field_format(&s->fields[i], rec, v);
                k = snprintf(text + used, size - used, "%s=%s\n", s->fields[i].key, v);
                /* Cannot happen with these fields (the bound is checked by a test). */
                if (k < 0 || (size_t)k >= size - used)
                        return err_setf(err_r, -E2BIG, "record longer than %zu bytes",
                                        s->write_max);
                used += (size_t)k;
        }
        return 0;
}

static int parse_bool(const char *v, size_t len, bool *ret)
{
        if (len != 1 || (v[0] != '0' && v[0] != '1'))
                return -EINVAL;
        *ret = v[0] == '1';
        return 0;
}

/* "none" or one of config's reason names; anything else is -EINVAL. */
static int parse_reason(const char *v, size_t len, enum shutdown_reason *ret)
{
        char buf[32];

        if (len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, v, len);
        buf[len] = '\0';
        if (strcmp(buf, "none") == 0) {
                *ret = SHUTDOWN_REASON_NONE;
                return 0;
        }
        *ret = shutdown_reason_from_string(buf);
        return *ret == SHUTDOWN_REASON_NONE ? -EINVAL : 0;
}

/* "xx:xx:xx:xx:xx:xx" in lowercase, as field_format() writes it: the canonical form only. */
static int parse_mac(const char *v, size_t len, uint8_t mac[6])
{
        char buf[MAC_STRLEN], canonical[MAC_STRLEN];

        if (len != MAC_STRLEN - 1)
                return -EINVAL;
        memcpy(buf, v, len);
        buf[len] = '\0';
        if (mac_parse(buf, mac) < 0 || strcmp(mac_format(mac, canonical), buf) != 0)
                return -EINVAL;
        return 0;
}

/* Parse one field's value (at most record_field_max() bytes) into s; -EINVAL when malformed. */
int record_field_parse(const struct record_field *f, const char *v, size_t len, void *rec)
{
        char *p = (char *)rec + f->offset;
        uint64_t n;
        int r;

        switch (f->type) {
        case RECORD_BOOL:
                return parse_bool(v, len, (bool *)p);
        case RECORD_UINT:
                r = record_parse_u64(v, len, f->size == sizeof(uint64_t) ? UINT64_MAX : UINT32_MAX,
                                     &n);
                if (r < 0)
                        return r;
                if (f->size == sizeof(uint64_t))
                        *(uint64_t *)p = n;
                else
                        *(unsigned *)p = (unsigned)n;
                return 0;
        case RECORD_DOMID:
                r = record_parse_u64(v, len, DOMID_FIRST_RESERVED - 1, &n);
                if (r < 0)
                        return r;
                *(uint32_t *)p = (uint32_t)n;
                return 0;
        case RECORD_REASON:
                return parse_reason(v, len, (enum shutdown_reason *)p);
        case RECORD_TOKEN:
        case RECORD_NAME:
                memcpy(p, v, len);
                p[len] = '\0';
                if (len == 0)
                        return 0;
                if (f->type == RECORD_TOKEN)
                        return token_is_valid(p, f->size - 1) ? 0 : -EINVAL;
                return domain_name_is_valid(p) ? 0 : -EINVAL;
        case RECORD_TEXT:
                return unescape(v, len, p, f->size);
        case RECORD_PATH:
                r = unescape(v, len, p, f->size);
                if (r < 0)
                        return r;
                return p[0] == '\0' || p[0] == '/' ? 0 : -EINVAL;
        case RECORD_UUID: {
                char buf[37], canonical[37];

                if (len != 36)
                        return -EINVAL;
                memcpy(buf, v, len);
                buf[len] = '\0';
                if (uuid_from_string(buf, (uint8_t *)p) < 0 ||
                    strcmp(uuid_to_string((uint8_t *)p, canonical), buf) != 0)
                        return -EINVAL;
                return 0;
        }
        case RECORD_MAC:
                return parse_mac(v, len, (uint8_t *)p);
        }
        return -EINVAL;
}

/* "KEY: malformed value 'V'", the value escaped and cut, so the message stays one short line. */
int record_bad_value(char **err_r, const char *key, const char *v, size_t len)
{
        char shown[48];
        size_t k = escape(v, len, shown, sizeof(shown));

        return err_setf(err_r, -EBADMSG, "%s: malformed value '%s%s'", key, shown,
                        k < len ? "..." : "");
}

int record_parse(const struct record_schema *s, const char *text, size_t len, void *rec,
                 char **err_r)
{
        bool seen[RECORD_FIELDS_MAX] = { false };
        unsigned line = 0;

        for (size_t pos = 0; pos < len;) {
                const char *start = text + pos, *eol, *eq, *v;
                const struct record_field *f;
                size_t klen, vlen;

                line++;
                eol = memchr(start, '\n', len - pos);
                if (!eol)
                        return err_setf(err_r, -EBADMSG, "line %u: no final newline", line);
                eq = memchr(start, '=', (size_t)(eol - start));
                klen = eq ? (size_t)(eq - start) : 0;
                if (klen == 0 || klen > RECORD_KEY_MAX || strspn(start, RECORD_KEY_CHARS) != klen)
                        return err_setf(err_r, -EBADMSG, "line %u: not key=value", line);
                v = eq + 1;
                vlen = (size_t)(eol - v);
                pos = (size_t)(eol - text) + 1;

                if (klen == strlen(RECORD_VERSION_KEY) - 1 &&
                    memcmp(start, RECORD_VERSION_KEY, klen) == 0) {
                        uint64_t version;

                        if (line > 1)
                                return err_setf(err_r, -EBADMSG, "version: given twice");
                        if (record_parse_u64(v, vlen, UINT32_MAX, &version) < 0)
                                return record_bad_value(err_r, "version", v, vlen);
                        if (version != s->version)
                                return err_setf(err_r, -EBADMSG,
                                                "version: %" PRIu64
                                                " is not the version this daemon reads (%u)",
                                                version, s->version);
                        continue;
                }
                if (line == 1)
                        return err_setf(err_r, -EBADMSG, "line 1: not the version");
                f = record_field_find(s, start, klen);
                if (!f)
                        continue; /* a later daemon's key */
                if (seen[f - s->fields])
                        return err_setf(err_r, -EBADMSG, "%s: given twice", f->key);
                seen[f - s->fields] = true;
                if (vlen > record_field_max(f))
                        return err_setf(err_r, -EBADMSG, "%s: value longer than %zu bytes", f->key,
                                        record_field_max(f));
                if (record_field_parse(f, v, vlen, rec) < 0)
                        return record_bad_value(err_r, f->key, v, vlen);
        }
        return 0;
}

bool record_has_version_line(const char *text, size_t len)
{
        return len >= strlen(RECORD_VERSION_KEY) &&
               memcmp(text, RECORD_VERSION_KEY, strlen(RECORD_VERSION_KEY)) == 0;
}
