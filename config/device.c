/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * device.c — disk and vif entries in xl's own syntax (device.h).
 *
 * The rules are xl's, read from xl-disk-configuration(5),
 * xl-network-configuration(5), libxl's libxl__device_disk_dev_number() and
 * libxlu's xlu_vif_parse_rate(); where xl accepts what would need QEMU or a
 * driver domain, we refuse it with the reason, so that --check-config tells.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "common/text.h"
#include "common/parse.h"
#include "config/device.h"

#define SHOWN_MAX 64 /* bytes of a bad value quoted in a message */

#define VDEV_ALLOWED                                                                               \
        "xvd[a-z]+ with an optional partition 1-255 (xvda, xvdb1, xvdaa), dDpP, hd[a-d] with "     \
        "partition up to 63, sd[a-p] with partition up to 15, or a number up to 2147483647"
#define DISK_KEYS                                                                                  \
        "target, format, vdev, access, mode, devtype, script, backend, backendtype, the flag "     \
        "cdrom, and up to 4 positional parameters target,format,vdev,access"
#define VIF_KEYS "mac, bridge, vifname, mtu, script, rate, ip, backend, type"
#define RATE_ALLOWED                                                                               \
        "RATE/s or RATE/s@INTERVAL: RATE digits with B, KB, MB, GB, b, Kb, Mb or Gb; INTERVAL "    \
        "digits with s, ms or us"
#define QDISK_WHY "needs QEMU's qdisk, which xensup does not run"

/* The first n bytes of s shown in a message: at most SHOWN_MAX, escaped (common/text.h). */
static const char *show_n(char *buf, size_t size, const char *s, size_t n)
{
        return text_escape(buf, size, s, n, SHOWN_MAX);
}

#define SHOWN_SIZE   (SHOWN_MAX * 4 + 8)
#define show(buf, s) show_n(buf, sizeof(buf), s, SIZE_MAX)

_printf_(2, 3) static int fail(char error[DEVICE_ERROR_MAX], const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(error, DEVICE_ERROR_MAX, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int bad(char error[DEVICE_ERROR_MAX], const char *what, const char *value,
               const char *allowed)
{
        char shown[SHOWN_SIZE];

        return fail(error, "%s: bad value '%s' (allowed: %s)", what, show(shown, value), allowed);
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

/* ---- vdev ---- */

/*
 * The disk letters after prefix, as libxl reads them: bijective base 26
 * (a = 0, z = 25, aa = 26), at most max_disk; then an optional partition,
 * decimal without a leading zero, at most max_part. True when s matches.
 */
static bool virtdisk_matches(const char *s, const char *prefix, unsigned max_disk,
                             unsigned max_part, unsigned *disk_r, unsigned *part_r)
{
        size_t l = strlen(prefix);
        uint64_t disk = 0, part = 0;
        const char *p;

        if (strncmp(s, prefix, l) != 0)
                return false;
        p = s + l;
        /* libxl starts from -1 and accepts no letters at all (disk -1): we want one. */
        if (*p < 'a' || *p > 'z')
                return false;
        for (; *p >= 'a' && *p <= 'z'; p++) {
                disk = disk * 26 + (uint64_t)(*p - 'a') + (p == s + l ? 0 : 26);
                if (disk > max_disk)
                        return false;
        }
        if (*p == '0')
                return false;
        for (; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                part = part * 10 + (uint64_t)(*p - '0');
                if (part > max_part)
                        return false;
        }
        *disk_r = (unsigned)disk;
        *part_r = (unsigned)part;
        return true;
}

/* A decimal number of at most 7 digits (so it cannot wrap), without leading zero. */
static const char *parse_small(const char *p, unsigned *v_r)
{
        unsigned v = 0, n = 0;

        if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
                return NULL;
        for (; *p >= '0' && *p <= '9' && n < 8; p++, n++)
                v = v * 10 + (unsigned)(*p - '0');
        if (n >= 8)
                return NULL;
        *v_r = v;
        return p;
}

/* libxl's dDpP spelling of an xvd disk: d0p1 = xvda1. */
static bool dp_matches(const char *s, unsigned *disk_r, unsigned *part_r)
{
        const char *p = s;

        if (*p++ != 'd' || !(p = parse_small(p, disk_r)) || *p++ != 'p' ||
            !(p = parse_small(p, part_r)) || *p)
                return false;
        return *disk_r < (1u << 20) && *part_r < 256;
}

/* A plain number as strtoul(s, 0) reads it, but only digits (no sign, no blanks). */
static bool number_matches(const char *s, uint32_t *devid_r)
{
        unsigned long v;
        char *end;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno != 0 || *end || v > INT_MAX)
                return false;
        *devid_r = (uint32_t)v;
        return true;
}

int vdev_to_devid(const char *vdev, uint32_t *devid_r)
{
        unsigned disk, part;

        if (!vdev)
                return -EINVAL;
        if (dp_matches(vdev, &disk, &part) ||
            virtdisk_matches(vdev, "xvd", (1u << 20) - 1, 255, &disk, &part)) {
                if (disk <= 15 && part <= 15)
                        *devid_r = (202u << 8) | (disk << 4) | part;
                else
                        *devid_r = (1u << 28) | (disk << 8) | part;
                return 0;
        }
        if (number_matches(vdev, devid_r))
                return 0;
        if (virtdisk_matches(vdev, "hd", 3, 63, &disk, &part)) {
                *devid_r = ((disk < 2 ? 3u : 22u) << 8) | ((disk & 1) << 6) | part;
                return 0;
        }
        if (virtdisk_matches(vdev, "sd", 15, 15, &disk, &part)) {
                *devid_r = (8u << 8) | (disk << 4) | part;
                return 0;
        }
        return -EINVAL;
}

/* ---- disk ---- */

enum { POS_TARGET, POS_FORMAT, POS_VDEV, POS_ACCESS, _POS_MAX };

/* What one disk entry said, before the defaults apply. */
struct disk_spec {
        char *pos[_POS_MAX]; /* target, format, vdev, access: NULL = not given */
        char *devtype, *script, *backend, *backendtype;
        bool cdrom_flag;
};

static void disk_spec_done(struct disk_spec *s)
{
        for (size_t i = 0; i < _POS_MAX; i++)
                free(s->pos[i]);
        free(s->devtype);
        free(s->script);
        free(s->backend);
        free(s->backendtype);
}

/* Set *slot to a copy of value; each parameter may be given once (xl's rule). */
static int set_once(char **slot, const char *what, const char *value, size_t n,
                    char error[DEVICE_ERROR_MAX])
{
        if (*slot)
                return fail(error, "%s: given twice (allowed: once)", what);
        *slot = strndup(value, n);
        return *slot ? 0 : -ENOMEM;
}

static const char *const pos_names[_POS_MAX] = { "target", "format", "vdev", "access" };

/* One comma-separated token (not target=, which takes the rest). */
static int disk_token(struct disk_spec *s, const char *tok, size_t n, char error[DEVICE_ERROR_MAX])
{
        static const char *const unsupported_flags[] = { "discard",   "no-discard",     "trusted",
                                                         "untrusted", "direct-io-safe", "colo" };
        const char *eq = memchr(tok, '=', n);
        char shown[SHOWN_SIZE];

        if (eq) {
                size_t kl = (size_t)(eq - tok), vl = n - kl - 1;
                char **slot = NULL;

                for (size_t i = POS_FORMAT; i < _POS_MAX && !slot; i++)
                        if (kl == strlen(pos_names[i]) && strncmp(tok, pos_names[i], kl) == 0)
                                slot = &s->pos[i];
                if (kl == 4 && strncmp(tok, "mode", 4) == 0)
                        slot = &s->pos[POS_ACCESS];
                else if (kl == 7 && strncmp(tok, "devtype", 7) == 0)
                        slot = &s->devtype;
                else if (kl == 6 && strncmp(tok, "script", 6) == 0)
                        slot = &s->script;
                else if (kl == 7 && strncmp(tok, "backend", 7) == 0)
                        slot = &s->backend;
                else if (kl == 11 && strncmp(tok, "backendtype", 11) == 0)
                        slot = &s->backendtype;
                if (!slot)
                        return fail(error, "unknown keyword '%s' (allowed: " DISK_KEYS ")",
                                    show_n(shown, sizeof(shown), tok, kl));
                return set_once(slot, show_n(shown, sizeof(shown), tok, kl), eq + 1, vl, error);
        }
        if (n == 5 && strncmp(tok, "cdrom", 5) == 0) {
                if (s->cdrom_flag)
                        return fail(error, "cdrom: given twice (allowed: once)");
                s->cdrom_flag = true;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(unsupported_flags); i++)
                if (n == strlen(unsupported_flags[i]) && strncmp(tok, unsupported_flags[i], n) == 0)
                        return fail(
                            error,
                            "%s: not supported by xensup (allowed flags: cdrom; keys: " DISK_KEYS
                            ")",
                            unsupported_flags[i]);
        /* A positional parameter fills the first of target, format, vdev, access not yet given. */
        for (size_t i = 0; i < _POS_MAX; i++)
                if (!s->pos[i])
                        return set_once(&s->pos[i], pos_names[i], tok, n, error);
        return fail(error, "'%s': one positional parameter too many (allowed: " DISK_KEYS ")",
                    show_n(shown, sizeof(shown), tok, n));
}

/* Split spec into tokens as xl does: target= consumes the rest of the entry, commas and all. */
static int disk_tokens(struct disk_spec *s, const char *spec, char error[DEVICE_ERROR_MAX])
{
        const char *p = spec;

        for (;;) {
                const char *comma;
                int r;

                while (is_blank(*p))
                        p++;
                if (strncmp(p, "target=", 7) == 0) {
                        /* An empty positional target may be given again by name (xl's rule). */
                        if (s->pos[POS_TARGET] && *s->pos[POS_TARGET])
                                return fail(error, "target: given twice (allowed: once)");
                        free(s->pos[POS_TARGET]);
                        s->pos[POS_TARGET] = strdup(p + 7);
                        return s->pos[POS_TARGET] ? 0 : -ENOMEM;
                }
                comma = strchrnul(p, ',');
                r = disk_token(s, p, (size_t)(comma - p), error);
                if (r < 0)
                        return r;
                if (!*comma)
                        return 0;
                p = comma + 1;
        }
}

/* An empty value means the default (xl's rule). */
static bool given(const char *v)
{
        return v && *v;
}

static int disk_access(const struct disk_spec *s, bool cdrom, bool *readonly_r,
                       char error[DEVICE_ERROR_MAX])
{
        const char *a = s->pos[POS_ACCESS];

        if (!given(a)) {
                *readonly_r = cdrom;
                return 0;
        }
        if (strcmp(a, "ro") == 0 || strcmp(a, "r") == 0)
                *readonly_r = true;
        else if (strcmp(a, "rw") == 0 || strcmp(a, "w") == 0)
                *readonly_r = false;
        else
                return bad(error, "access", a, "ro, r, rw, w");
        if (cdrom && !*readonly_r)
                return bad(error, "access", a, "ro or r: a cdrom is read-only");
        return 0;
}

/* What the entry asks of the backend: raw, in dom0, by blkback. */
static int disk_backend(const struct disk_spec *s, char error[DEVICE_ERROR_MAX])
{
        static const char *const qemu_formats[] = { "qcow", "qcow2", "vhd", "qed" };
        const char *f = s->pos[POS_FORMAT];

        if (given(f) && strcmp(f, "raw") != 0) {
                for (size_t i = 0; i < ELEMENTSOF(qemu_formats); i++)
                        if (strcmp(f, qemu_formats[i]) == 0)
                                return fail(error, "format: %s " QDISK_WHY " (allowed: raw)", f);
                return bad(error, "format", f, "raw");
        }
        if (given(s->backend) && strcmp(s->backend, "0") != 0 &&
            strcmp(s->backend, "Domain-0") != 0)
                return bad(error, "backend", s->backend,
                           "0 or Domain-0: driver domains are not supported");
        if (given(s->backendtype) && strcmp(s->backendtype, "phy") != 0) {
                if (strcmp(s->backendtype, "qdisk") == 0)
                        return fail(error, "backendtype: qdisk " QDISK_WHY " (allowed: phy)");
                return bad(error, "backendtype", s->backendtype, "phy");
        }
        return 0;
}

static int disk_from_spec(struct disk_spec *s, struct disk_config *d, char error[DEVICE_ERROR_MAX])
{
        const char *vdev = s->pos[POS_VDEV], *target = s->pos[POS_TARGET];
        int r;

        if (!given(vdev))
                return fail(error, "vdev: missing (required: " VDEV_ALLOWED ")");
        if (vdev_to_devid(vdev, &d->devid) < 0)
                return bad(error, "vdev", vdev, VDEV_ALLOWED);
        if (given(s->devtype) && strcmp(s->devtype, "cdrom") != 0 &&
            strcmp(s->devtype, "disk") != 0)
                return bad(error, "devtype", s->devtype, "cdrom, disk");
        d->cdrom = s->cdrom_flag || (given(s->devtype) && strcmp(s->devtype, "cdrom") == 0);
        r = disk_access(s, d->cdrom, &d->readonly, error);
        if (r < 0)
                return r;
        r = disk_backend(s, error);
        if (r < 0)
                return r;
        /* xl allows an empty cdrom drive; a PV guest has no use for one. */
        if (!given(target))
                return fail(error, "target: missing (required: a file or block device path)");
        if (text_has_control(target))
                return bad(error, "target", target, "a path without control characters");
        if (strlen(target) >= PATH_MAX)
                return bad(error, "target", target, "a path shorter than PATH_MAX");
        if (given(s->script) && text_has_control(s->script))
                return bad(error, "script", s->script, "a path without control characters");
        d->vdev = TAKE_PTR(s->pos[POS_VDEV]);
        d->target = TAKE_PTR(s->pos[POS_TARGET]);
        if (given(s->script))
                d->script = TAKE_PTR(s->script);
        return 0;
}

int disk_parse(const char *spec, struct disk_config *d, char error[DEVICE_ERROR_MAX])
{
        struct disk_spec s = {};
        int r;

        *d = (struct disk_config){};
        error[0] = '\0';
        r = disk_tokens(&s, spec, error);
        if (r == 0)
                r = disk_from_spec(&s, d, error);
        disk_spec_done(&s);
        if (r < 0)
                disk_config_done(d);
        return r;
}

void disk_write(FILE *f, const struct disk_config *d)
{
        /* target last: by name it takes the rest of the entry, so its commas are safe. */
        fprintf(f, "vdev=%s, format=raw, access=%s, ", d->vdev, d->readonly ? "ro" : "rw");
        if (d->cdrom)
                fputs("devtype=cdrom, ", f);
        if (d->script)
                fprintf(f, "script=%s, ", d->script);
        fprintf(f, "target=%s", d->target);
}

void disk_config_done(struct disk_config *d)
{
        free(d->vdev);
        free(d->target);
        free(d->script);
        *d = (struct disk_config){};
}

static int copy_str(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int disk_config_copy(struct disk_config *dst, const struct disk_config *src)
{
        *dst = *src;
        dst->vdev = dst->target = dst->script = NULL;
        if (copy_str(src->vdev, &dst->vdev) < 0 || copy_str(src->target, &dst->target) < 0 ||
            copy_str(src->script, &dst->script) < 0) {
                disk_config_done(dst);
                return -ENOMEM;
        }
        return 0;
}

static bool str_eq(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

bool disk_config_equal(const struct disk_config *a, const struct disk_config *b)
{
        return a->devid == b->devid && str_eq(a->vdev, b->vdev) && str_eq(a->target, b->target) &&
               str_eq(a->script, b->script) && a->readonly == b->readonly && a->cdrom == b->cdrom;
}

/* ---- vif ---- */

bool ifname_is_valid(const char *name)
{
        size_t l = strlen(name);

        /* Linux's dev_valid_name(): '/' and ':' have meanings in sysfs and aliases. */
        if (l == 0 || l > IFNAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

const char *mac_format(const uint8_t mac[6], char buf[MAC_STRLEN])
{
        snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                 mac[4], mac[5]);
        return buf;
}

int mac_parse(const char *s, uint8_t mac[6])
{
        for (int i = 0; i < 6; i++) {
                int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

                if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
                        return -EINVAL;
                mac[i] = (uint8_t)(hi << 4 | lo);
                s += 3;
        }
        return 0;
}

static int vif_mac(struct vif_config *v, const char *value, char error[DEVICE_ERROR_MAX])
{
        static const uint8_t zero[6];

        if (mac_parse(value, v->mac) < 0)
                return bad(error, "mac", value, "6 hexadecimal octets separated by ':'");
        if (v->mac[0] & 1)
                return bad(error, "mac", value,
                           "a unicast address: the low bit of the first octet clear");
        if (memcmp(v->mac, zero, sizeof(zero)) == 0)
                return bad(error, "mac", value, "an address other than 00:00:00:00:00:00");
        v->has_mac = true;
        return 0;
}

/* Leading digits as a number no larger than UINT32_MAX, as libxlu requires; NULL if none. */
static const char *rate_number(const char *p, uint64_t *v_r)
{
        uint64_t v = 0;

        if (*p < '0' || *p > '9')
                return NULL;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > UINT32_MAX)
                        return NULL;
        }
        *v_r = v;
        return p;
}

/* RATE: digits, then [GMK]?[Bb]/s; b counts bits (libxlu's vif_parse_rate_bytes_per_sec). */
static int rate_bytes(const char *s, size_t n, uint64_t *bps_r)
{
        static const struct {
                const char *suffix;
                uint64_t mult, div;
        } units[] = {
                { "B/s", 1, 1 },           { "KB/s", 1000, 1 },       { "MB/s", 1000000, 1 },
                { "GB/s", 1000000000, 1 }, { "b/s", 1, 8 },           { "Kb/s", 1000, 8 },
                { "Mb/s", 1000000, 8 },    { "Gb/s", 1000000000, 8 },
        };
        const char *p = rate_number(s, bps_r);

        if (!p || *bps_r == 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if ((size_t)(p - s) + strlen(units[i].suffix) == n &&
                    strncmp(p, units[i].suffix, strlen(units[i].suffix)) == 0) {
                        *bps_r = *bps_r * units[i].mult / units[i].div;
                        /* libxl would take "1b/s" as 0, unlimited: surely not what was meant. */
                        return *bps_r > 0 ? 0 : -EINVAL;
                }
        return -EINVAL;
}

/* INTERVAL: digits, then s, ms, us or nothing (seconds), at most UINT32_MAX microseconds. */
static int rate_interval(const char *s, uint32_t *usecs_r)
{
        uint64_t v;
        const char *p = rate_number(s, &v);

        if (!p || v == 0)
                return -EINVAL;
        if (strcmp(p, "s") == 0 || !*p)
                v *= 1000000;
        else if (strcmp(p, "ms") == 0)
                v *= 1000;
        else if (strcmp(p, "us") != 0)
                return -EINVAL;
        if (v > UINT32_MAX)
                return -EINVAL;
        *usecs_r = (uint32_t)v;
        return 0;
}

static int vif_rate(struct vif_config *v, const char *value, char error[DEVICE_ERROR_MAX])
{
        const char *at = strchr(value, '@');
        uint64_t bps;
        uint32_t usecs = 50000; /* libxl's default: 50 ms */

        if (rate_bytes(value, at ? (size_t)(at - value) : strlen(value), &bps) < 0 ||
            (at && rate_interval(at + 1, &usecs) < 0))
                return bad(error, "rate", value, RATE_ALLOWED);
        if (bps > UINT64_MAX / usecs)
                return bad(error, "rate", value, "a rate whose credit per interval fits 64 bits");
        v->rate = strdup(value);
        if (!v->rate)
                return -ENOMEM;
        v->rate_bytes_per_sec = bps;
        v->rate_interval_usecs = usecs;
        return 0;
}

/* ip=: addresses separated by blanks, each IPv4 or IPv6. */
static int vif_ips(struct vif_config *v, const char *value, char error[DEVICE_ERROR_MAX])
{
        _cleanup_strv_free_ char **ips = NULL;
        size_t n = 0;

        for (const char *p = value; *p;) {
                const char *end;
                uint8_t addr[16];
                char *ip, **l;

                while (is_blank(*p))
                        p++;
                if (!*p)
                        break;
                for (end = p; *end && !is_blank(*end); end++)
                        ;
                ip = strndup(p, (size_t)(end - p));
                if (!ip)
                        return -ENOMEM;
                l = realloc(ips, (n + 2) * sizeof(*l));
                if (!l) {
                        free(ip);
                        return -ENOMEM;
                }
                ips = l;
                ips[n++] = ip;
                ips[n] = NULL;
                if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
                        return bad(error, "ip", ip, "IPv4 or IPv6 addresses separated by spaces");
                p = end;
        }
        if (n == 0)
                return bad(error, "ip", value, "IPv4 or IPv6 addresses separated by spaces");
        v->ips = TAKE_PTR(ips);
        return 0;
}

static int vif_name(char **slot, const char *what, const char *value, char error[DEVICE_ERROR_MAX])
{
        if (!ifname_is_valid(value))
                return bad(error, what, value,
                           "an interface name of 1 to 15 bytes without '/', ':' or blanks, "
                           "not . or ..");
        *slot = strdup(value);
        return *slot ? 0 : -ENOMEM;
}

static int vif_key(struct vif_config *v, const char *key, const char *value,
                   char error[DEVICE_ERROR_MAX])
{
        uint64_t mtu;

        if (strcmp(key, "mac") == 0)
                return vif_mac(v, value, error);
        if (strcmp(key, "bridge") == 0)
                return vif_name(&v->bridge, key, value, error);
        if (strcmp(key, "vifname") == 0)
                return vif_name(&v->vifname, key, value, error);
        if (strcmp(key, "mtu") == 0) {
                if (!*value || strspn(value, "0123456789") != strlen(value) || strlen(value) > 5 ||
                    (mtu = strtoull(value, NULL, 10)) < 68 || mtu > 65535)
                        return bad(error, "mtu", value, "an integer from 68 to 65535");
                v->mtu = (unsigned)mtu;
                return 0;
        }
        if (strcmp(key, "script") == 0) {
                if (!*value || text_has_control(value))
                        return bad(error, "script", value, "a path without control characters");
                v->script = strdup(value);
                return v->script ? 0 : -ENOMEM;
        }
        if (strcmp(key, "rate") == 0)
                return vif_rate(v, value, error);
        if (strcmp(key, "ip") == 0)
                return vif_ips(v, value, error);
        if (strcmp(key, "backend") == 0)
                return strcmp(value, "0") == 0 || strcmp(value, "Domain-0") == 0
                           ? 0
                           : bad(error, "backend", value,
                                 "0 or Domain-0: driver domains are not supported");
        if (strcmp(key, "type") == 0)
                return strcmp(value, "vif") == 0
                           ? 0
                           : bad(error, "type", value,
                                 "vif: an emulated NIC needs a QEMU device model, which "
                                 "xensup does not run");
        if (strcmp(key, "model") == 0)
                return fail(error, "model: an emulated NIC needs a QEMU device model, which "
                                   "xensup does not run (allowed: " VIF_KEYS ")");
        return -ENOENT;
}

static const char *const vif_keys[] = { "mac",  "bridge", "vifname", "mtu",  "script",
                                        "rate", "ip",     "backend", "type", "model" };

/* One key=value token; seen[] notes which key was given (each at most once). */
static int vif_token(struct vif_config *v, const char *tok, bool seen[ELEMENTSOF(vif_keys)],
                     char error[DEVICE_ERROR_MAX])
{
        _cleanup_free_ char *key = NULL;
        const char *eq = strchr(tok, '=');
        char shown[SHOWN_SIZE];
        int r;

        if (!eq)
                return fail(error, "'%s': not key=value (allowed: " VIF_KEYS ")", show(shown, tok));
        key = strndup(tok, (size_t)(eq - tok));
        if (!key)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(vif_keys); i++)
                if (strcmp(key, vif_keys[i]) == 0) {
                        if (seen[i])
                                return fail(error, "%s: given twice (allowed: once)", key);
                        seen[i] = true;
                }
        r = vif_key(v, key, eq + 1, error);
        if (r == -ENOENT)
                return fail(error, "unknown keyword '%s' (allowed: " VIF_KEYS ")",
                            show(shown, key));
        return r;
}

int vif_parse(const char *spec, struct vif_config *v, char error[DEVICE_ERROR_MAX])
{
        bool seen[ELEMENTSOF(vif_keys)] = {};
        const char *p = spec;
        int r = 0;

        *v = (struct vif_config){};
        error[0] = '\0';
        while (r == 0 && *p) {
                const char *comma;
                _cleanup_free_ char *tok = NULL;

                while (is_blank(*p))
                        p++;
                comma = strchrnul(p, ',');
                /* "" is a vif with every default, as in xl; empty items are skipped. */
                if (comma > p) {
                        tok = strndup(p, (size_t)(comma - p));
                        r = tok ? vif_token(v, tok, seen, error) : -ENOMEM;
                }
                p = *comma ? comma + 1 : comma;
        }
        if (r < 0)
                vif_config_done(v);
        return r;
}

void vif_write(FILE *f, const struct vif_config *v)
{
        const char *sep = "";

        if (v->has_mac) {
                char mac[MAC_STRLEN];

                fprintf(f, "mac=%s", mac_format(v->mac, mac));
                sep = ", ";
        }
#define PUT(key, fmt, value)                                                                       \
        do {                                                                                       \
                fprintf(f, "%s" key "=" fmt, sep, value);                                          \
                sep = ", ";                                                                        \
        } while (0)
        if (v->bridge)
                PUT("bridge", "%s", v->bridge);
        if (v->vifname)
                PUT("vifname", "%s", v->vifname);
        if (v->mtu)
                PUT("mtu", "%u", v->mtu);
        if (v->script)
                PUT("script", "%s", v->script);
        if (v->rate)
                PUT("rate", "%s", v->rate);
#undef PUT
        for (char **ip = v->ips; ip && *ip; ip++)
                fprintf(f, "%s%s", ip == v->ips ? (*sep ? ", ip=" : "ip=") : " ", *ip);
}

void vif_config_done(struct vif_config *v)
{
        free(v->bridge);
        free(v->vifname);
        free(v->script);
        free(v->rate);
        strv_free(v->ips);
        *v = (struct vif_config){};
}

static int copy_strv(char **l, char ***ret)
{
        size_t n = 0;
        char **c;

        *ret = NULL;
        if (!l)
                return 0;
        while (l[n])
                n++;
        c = calloc(n + 1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return -ENOMEM;
                }
        *ret = c;
        return 0;
}

int vif_config_copy(struct vif_config *dst, const struct vif_config *src)
{
        *dst = *src;
        dst->bridge = dst->vifname = dst->script = dst->rate = NULL;
        dst->ips = NULL;
        if (copy_str(src->bridge, &dst->bridge) < 0 || copy_str(src->vifname, &dst->vifname) < 0 ||
            copy_str(src->script, &dst->script) < 0 || copy_str(src->rate, &dst->rate) < 0 ||
            copy_strv(src->ips, &dst->ips) < 0) {
                vif_config_done(dst);
                return -ENOMEM;
        }
        return 0;
}

static bool strv_eq(char **a, char **b)
{
        if (!a || !b)
                return a == b;
        for (; *a && *b; a++, b++)
                if (strcmp(*a, *b) != 0)
                        return false;
        return !*a && !*b;
}

bool vif_config_equal(const struct vif_config *a, const struct vif_config *b)
{
        return a->has_mac == b->has_mac && (!a->has_mac || memcmp(a->mac, b->mac, 6) == 0) &&
               str_eq(a->bridge, b->bridge) && str_eq(a->vifname, b->vifname) && a->mtu == b->mtu &&
               str_eq(a->script, b->script) && str_eq(a->rate, b->rate) &&
               a->rate_bytes_per_sec == b->rate_bytes_per_sec &&
               a->rate_interval_usecs == b->rate_interval_usecs && strv_eq(a->ips, b->ips);
}

uint64_t vif_rate_bytes_per_interval(const struct vif_config *v)
{
        /* vif_parse() made sure the product fits. */
        return v->rate_bytes_per_sec * v->rate_interval_usecs / 1000000;
}

static bool mac_is_zero(const uint8_t mac[6])
{
        static const uint8_t zero[6];

        return memcmp(mac, zero, 6) == 0;
}

void mac_list_format(const uint8_t macs[VIFS_MAX][6], char buf[MAC_LIST_STRLEN])
{
        size_t last = 0, used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < VIFS_MAX; i++)
                if (!mac_is_zero(macs[i]))
                        last = i + 1;
        for (size_t i = 0; i < last; i++) {
                char mac[MAC_STRLEN];

                used += (size_t)snprintf(buf + used, MAC_LIST_STRLEN - used, "%s%s", i ? "," : "",
                                         mac_is_zero(macs[i]) ? "-" : mac_format(macs[i], mac));
        }
}

int mac_list_parse(const char *text, uint8_t macs[VIFS_MAX][6])
{
        const char *p = text;

        memset(macs, 0, VIFS_MAX * 6);
        for (size_t i = 0; *p; i++) {
                size_t len = strcspn(p, ",");

                if (i == VIFS_MAX)
                        return -EINVAL;
                if (!(len == 1 && *p == '-')) {
                        char one[MAC_STRLEN];

                        if (len != MAC_STRLEN - 1)
                                return -EINVAL;
                        memcpy(one, p, len);
                        one[len] = '\0';
                        if (mac_parse(one, macs[i]) < 0)
                                return -EINVAL;
                }
                p += len;
                if (*p == ',' && *++p == '\0')
                        return -EINVAL;
        }
        return 0;
}
