/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/macros.h"
#include "common/text.h"
#include "common/uuid.h"
#include "config/device.h"
#include "layout/record.h"
#include "supervisor/image.h"

/*
 * 20 printable bytes for file(1) and people; then NUL, CR LF and ^Z, which a text-mode copy,
 * a C-string truncation or a DOS type would mangle (PNG's idea). It must not start with "Xen
 * saved domain": xendomains would take the file for one of xl's.
 */
#define IMAGE_MAGIC     "xensup saved domain\n\0\r\n\x1a"
#define IMAGE_MAGIC_TAG "xensup saved domain" /* what messages quote */
_Static_assert(sizeof(IMAGE_MAGIC) - 1 == IMAGE_MAGIC_SIZE, "the magic's size");

/* What `xl save` files and bare streams start with (DEVICES.md C.3), for a useful refusal. */
#define XL_MAGIC_PREFIX "Xen saved domain"    /* xendomains' own test: 16 bytes */
#define LIBXL_IDENT     0x4c6962786c466d74ULL /* "LibxlFmt" */
#define LIBXC_MARKER    0xffffffffffffffffULL

/* libxl-migration-stream.pandoc: the header is big-endian; records use the header's bit 0. */
#define LIBXL_VERSION        2
#define LIBXL_OPT_BIG_ENDIAN (1u << 0)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LIBXL_OPT_HOST LIBXL_OPT_BIG_ENDIAN
#else
#define LIBXL_OPT_HOST 0u
#endif
#define LIBXL_HEADER_SIZE 16
#define LIBXL_REC_SIZE    8 /* a record header; END and LIBXC_CONTEXT have no body */

enum libxl_record_type {
        LIBXL_REC_END,
        LIBXL_REC_LIBXC_CONTEXT,
        LIBXL_REC_EMULATOR_XENSTORE_DATA,
        LIBXL_REC_EMULATOR_CONTEXT,
        LIBXL_REC_CHECKPOINT_END,
        LIBXL_REC_CHECKPOINT_STATE,
};

static const char *const libxl_record_names[] = {
        [LIBXL_REC_END] = "END",
        [LIBXL_REC_LIBXC_CONTEXT] = "LIBXC_CONTEXT",
        [LIBXL_REC_EMULATOR_XENSTORE_DATA] = "EMULATOR_XENSTORE_DATA",
        [LIBXL_REC_EMULATOR_CONTEXT] = "EMULATOR_CONTEXT",
        [LIBXL_REC_CHECKPOINT_END] = "CHECKPOINT_END",
        [LIBXL_REC_CHECKPOINT_STATE] = "CHECKPOINT_STATE",
};

_Static_assert(IMAGE_LIBXL_SIZE == 8 + LIBXL_HEADER_SIZE + LIBXL_REC_SIZE, "the libxl part");
_Static_assert(IMAGE_END_SIZE == LIBXL_REC_SIZE, "the END record");

/* The metadata's sections. */
enum {
        SECTION_RECORD = 1,
        SECTION_CONFIG = 2,
        SECTION_DISK = 3,
};
#define SECTION_HEADER_SIZE 8

#define RECORD_VERSION   1    /* of the RECORD section's key=value text */
#define RECORD_WRITE_MAX 3072 /* what record_format() may produce (the test checks the bound) */

/* The longest metadata this xensup writes: a record, a config, every disk, their headers. */
#define META_WRITE_MAX                                                                             \
        (IMAGE_RECORD_MAX + CONFIG_FILE_MAX + DISKS_MAX * IMAGE_DISK_SPEC_MAX +                    \
         (2 + DISKS_MAX) * SECTION_HEADER_SIZE)
_Static_assert(META_WRITE_MAX <= IMAGE_META_MAX, "every section this xensup writes fits");
_Static_assert(IMAGE_META_MAX <= UINT32_MAX - IMAGE_HEADER_SIZE - IMAGE_LIBXL_SIZE,
               "the whole prefix is one allocation");

/* ---- the RECORD section ---- */

/* The record's wire form: image_meta, with the MACs in layout_tool_state's text form. */
struct meta_record {
        char name[DOMAIN_NAME_MAX + 1];
        uint8_t uuid[16];
        char hypervisor[IMAGE_HYPERVISOR_MAX + 1];
        char xen_version[IMAGE_XEN_VERSION_MAX + 1];
        uint64_t save_time_usec;
        uint64_t memory_kib;
        unsigned vcpus;
        struct layout_guest_features features;
        char vif_macs[LAYOUT_VIF_MACS_MAX];
        char config_path[LAYOUT_CONFIG_PATH_MAX];
        uint32_t creator_uid;
        char creator_groups[LAYOUT_GROUPS_MAX];
        bool creator_host_devices;
        char history[LAYOUT_HISTORY_MAX];
};

#define FIELD(k, t, member) RECORD_FIELD(struct meta_record, k, RECORD_##t, member)

static const struct record_field meta_fields[] = {
        FIELD("name", NAME, name),
        FIELD("uuid", UUID, uuid),
        FIELD("hypervisor", TOKEN, hypervisor),
        FIELD("xen_version", TEXT, xen_version),
        FIELD("save_time_usec", UINT, save_time_usec),
        FIELD("memory_kib", UINT, memory_kib),
        FIELD("vcpus", UINT, vcpus),
        FIELD("feature_poweroff", TOKEN, features.poweroff),
        FIELD("feature_reboot", TOKEN, features.reboot),
        FIELD("feature_suspend", TOKEN, features.suspend),
        FIELD("vif_macs", TEXT, vif_macs),
        FIELD("config_path", PATH, config_path),
        FIELD("creator_uid", UINT, creator_uid),
        FIELD("creator_groups", TEXT, creator_groups),
        FIELD("creator_host_devices", BOOL, creator_host_devices),
        FIELD("history", TEXT, history),
};

static const struct record_schema meta_schema = {
        .fields = meta_fields,
        .n_fields = ELEMENTSOF(meta_fields),
        .version = RECORD_VERSION,
        .write_max = RECORD_WRITE_MAX,
};

/* ---- small helpers ---- */

uint32_t image_crc32(const void *buf, size_t len)
{
        /* The reflected IEEE polynomial 0xEDB88320, a nibble at a time: 16 entries to check. */
        static const uint32_t table[16] = {
                0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
                0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
                0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
        };
        const uint8_t *p = buf;
        uint32_t crc = 0xffffffffu;

        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                crc = (crc >> 4) ^ table[crc & 0xf];
                crc = (crc >> 4) ^ table[crc & 0xf];
        }
        return ~crc;
}

/* A libxl record header, in the host's order (what LIBXL_OPT_HOST declares). */
static void put_libxl_record(uint8_t *p, uint32_t type, uint32_t length)
{
        memcpy(p, &type, 4);
        memcpy(p + 4, &length, 4);
}

static void get_libxl_record(const uint8_t *p, uint32_t *type, uint32_t *length)
{
        memcpy(type, p, 4);
        memcpy(length, p + 4, 4);
}

/*
 * Read exactly len bytes, however the pipe or socket hands them over: again after EINTR and
 * short reads, waiting when the descriptor is non-blocking. Never more than len: what follows
 * belongs to the restorer. Returns the bytes read (fewer at end of file) or a negative errno.
 */
static ssize_t read_exact(int fd, void *buf, size_t len)
{
        uint8_t *p = buf;
        size_t got = 0;

        while (got < len) {
                ssize_t n = read(fd, p + got, len - got);

                if (n == 0)
                        break;
                if (n < 0) {
                        struct pollfd pfd = { .fd = fd, .events = POLLIN };

                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN && errno != EWOULDBLOCK)
                                return -errno;
                        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                                return -errno;
                        continue;
                }
                got += (size_t)n;
        }
        return (ssize_t)got;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t offset)
{
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, offset);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                offset += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Up to max bytes of p for a message: printable ASCII as is, anything else as \xNN. */
static const char *show_bytes(char *buf, size_t size, const uint8_t *p, size_t n, size_t max)
{
        size_t o = 0;

        for (size_t i = 0; i < n && i < max && o + 5 < size; i++)
                if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'')
                        buf[o++] = (char)p[i];
                else
                        o += (size_t)snprintf(buf + o, size - o, "\\x%02x", p[i]);
        buf[o] = '\0';
        return buf;
}

static bool is_token(const char *s)
{
        static const char chars[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";

        return *s && strspn(s, chars) == strlen(s);
}

#define HAS_NUL(array) (memchr((array), '\0', sizeof(array)) != NULL)

/* mac_list_format()'s text back: the canonical form only (lowercase, no trailing "-"). */
static int macs_parse(const char *text, uint8_t macs[VIFS_MAX][6])
{
        char again[MAC_LIST_STRLEN];

        if (mac_list_parse(text, macs) < 0)
                return -EINVAL;
        mac_list_format(macs, again);
        return strcmp(again, text) == 0 ? 0 : -EINVAL;
}

/* ---- what an image may carry: one check for the writer and the reader ---- */

static int check_feature(const char *key, const char v[2], char **err_r)
{
        char shown[16];

        if (v[0] == '\0' || ((v[0] == '0' || v[0] == '1') && v[1] == '\0'))
                return 0;
        return err_setf(err_r, -EINVAL, "%s: '%s' (allowed: \"\", \"0\" or \"1\")", key,
                        show_bytes(shown, sizeof(shown), (const uint8_t *)v, v[1] ? 2 : 1, 2));
}

static int check_disks(char *const *disks, char **err_r)
{
        size_t n = 0;

        for (; disks && disks[n]; n++) {
                char error[DEVICE_ERROR_MAX];
                struct disk_config d;
                int r;

                if (n == DISKS_MAX)
                        return err_setf(err_r, -EINVAL, "disks: more than %d (the limit)",
                                        DISKS_MAX);
                if (strnlen(disks[n], IMAGE_DISK_SPEC_MAX + 1) > IMAGE_DISK_SPEC_MAX)
                        return err_setf(err_r, -EINVAL, "disk %zu: longer than %d bytes", n,
                                        IMAGE_DISK_SPEC_MAX);
                /* What a restore hands to disk_parse() must be read the same way now. */
                r = disk_parse(disks[n], &d, error);
                disk_config_done(&d);
                if (r == -ENOMEM)
                        return err_setf(err_r, r, "out of memory");
                if (r < 0)
                        return err_setf(err_r, -EINVAL, "disk %zu: %s", n, error);
        }
        return 0;
}

/*
 * The metadata an image may carry, or -EINVAL naming the field and what it allows. A writer
 * may leave save_time_usec 0 (it means now); a reader requires it.
 */
static int meta_check(const struct image_meta *m, bool reading, char **err_r)
{
        size_t config_len;
        int r;

        if (!HAS_NUL(m->name) || !HAS_NUL(m->hypervisor) || !HAS_NUL(m->xen_version) ||
            !HAS_NUL(m->config_path) || !HAS_NUL(m->creator_groups) || !HAS_NUL(m->history))
                return err_setf(err_r, -EINVAL, "a string field is not NUL-terminated");
        if (!m->name[0])
                return err_setf(err_r, -EINVAL, "name: missing (required: the domain's name)");
        if (!domain_name_is_valid(m->name))
                return err_setf(err_r, -EINVAL,
                                "name: not a valid domain name (allowed: 1 to %d of "
                                "[A-Za-z0-9_.-])",
                                DOMAIN_NAME_MAX);
        if (uuid_is_null(m->uuid))
                return err_setf(err_r, -EINVAL,
                                "uuid: missing or null (required: the domain's uuid)");
        if (!m->hypervisor[0])
                return err_setf(err_r, -EINVAL,
                                "hypervisor: missing (required: the kind it was saved on, "
                                "\"xen\" or \"sim\")");
        if (!is_token(m->hypervisor))
                return err_setf(err_r, -EINVAL, "hypervisor: not a token ([A-Za-z0-9_.-])");
        if (text_has_control(m->xen_version))
                return err_setf(err_r, -EINVAL, "xen_version: holds a control character");
        if (reading && m->save_time_usec == 0)
                return err_setf(err_r, -EINVAL,
                                "save_time_usec: missing or 0 (required: when it was saved)");
        if (m->memory_kib == 0)
                return err_setf(err_r, -EINVAL,
                                "memory_kib: missing or 0 (required: the guest's memory in KiB)");
        if (m->vcpus < 1 || m->vcpus > VCPUS_MAX)
                return err_setf(err_r, -EINVAL, "vcpus: %u (allowed: 1 to %d)", m->vcpus,
                                VCPUS_MAX);
        r = check_feature("feature_poweroff", m->features.poweroff, err_r);
        if (r >= 0)
                r = check_feature("feature_reboot", m->features.reboot, err_r);
        if (r >= 0)
                r = check_feature("feature_suspend", m->features.suspend, err_r);
        if (r < 0)
                return r;
        if (m->config_path[0] && (m->config_path[0] != '/' || text_has_control(m->config_path)))
                return err_setf(err_r, -EINVAL,
                                "config_path: not an absolute path without control characters");
        if (!m->config_text)
                return err_setf(err_r, -EINVAL,
                                "config_text: missing (required: the config the domain runs "
                                "with)");
        config_len = strnlen(m->config_text, CONFIG_FILE_MAX + 1);
        if (config_len == 0)
                return err_setf(err_r, -EINVAL, "config_text: empty");
        if (config_len > CONFIG_FILE_MAX)
                return err_setf(err_r, -EINVAL,
                                "config_text: longer than %d bytes (the config parser's limit)",
                                CONFIG_FILE_MAX);
        return check_disks(m->disks, err_r);
}

static void meta_to_record(const struct image_meta *m, uint64_t now, struct meta_record *rec)
{
        *rec = (struct meta_record){
                .save_time_usec = m->save_time_usec ? m->save_time_usec : now,
                .memory_kib = m->memory_kib,
                .vcpus = m->vcpus,
                .features = m->features,
                .creator_uid = m->creator_uid,
                .creator_host_devices = m->creator_host_devices,
        };
        /* meta_check() saw every string NUL-terminated in an array of the same size. */
        strcpy(rec->name, m->name);
        memcpy(rec->uuid, m->uuid, 16);
        strcpy(rec->hypervisor, m->hypervisor);
        strcpy(rec->xen_version, m->xen_version);
        mac_list_format(m->vif_macs, rec->vif_macs);
        strcpy(rec->config_path, m->config_path);
        strcpy(rec->creator_groups, m->creator_groups);
        strcpy(rec->history, m->history);
}

/* The fields of a parsed record into m; -EINVAL when vif_macs is malformed. */
static int record_to_meta(const struct meta_record *rec, struct image_meta *m)
{
        strcpy(m->name, rec->name);
        memcpy(m->uuid, rec->uuid, 16);
        strcpy(m->hypervisor, rec->hypervisor);
        strcpy(m->xen_version, rec->xen_version);
        m->save_time_usec = rec->save_time_usec;
        m->memory_kib = rec->memory_kib;
        m->vcpus = rec->vcpus;
        m->features = rec->features;
        strcpy(m->config_path, rec->config_path);
        m->creator_uid = rec->creator_uid;
        strcpy(m->creator_groups, rec->creator_groups);
        m->creator_host_devices = rec->creator_host_devices;
        strcpy(m->history, rec->history);
        return macs_parse(rec->vif_macs, m->vif_macs);
}

/* Whether field f of a and b holds the same value. */
static bool field_equal(const struct record_field *f, const struct meta_record *a,
                        const struct meta_record *b)
{
        const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;

        switch (f->type) {
        case RECORD_TOKEN:
        case RECORD_NAME:
        case RECORD_TEXT:
        case RECORD_PATH:
                return strcmp(pa, pb) == 0;
        default:
                return memcmp(pa, pb, f->size) == 0;
        }
}

/*
 * The RECORD section's text of m into text (RECORD_WRITE_MAX + 1 bytes), read back and
 * compared: the codec cuts a TEXT and drops a PATH too long once escaped, and an image must
 * not say something else than its writer was told.
 */
static int record_text(const struct image_meta *m, char *text, char **err_r)
{
        struct meta_record rec, back = { 0 };
        uint64_t now_usec;
        struct timespec ts;
        int r;

        clock_gettime(CLOCK_REALTIME, &ts);
        now_usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
        meta_to_record(m, now_usec, &rec);
        r = record_check(&meta_schema, &rec, err_r);
        if (r >= 0)
                r = record_format(&meta_schema, &rec, text, err_r);
        if (r >= 0)
                r = record_parse(&meta_schema, text, strlen(text), &back, err_r);
        if (r < 0)
                return -EINVAL; /* the codec's -E2BIG and -EBADMSG: not an image's to carry */
        for (size_t i = 0; i < meta_schema.n_fields; i++)
                if (!field_equal(&meta_fields[i], &rec, &back))
                        return err_setf(err_r, -EINVAL,
                                        "%s: too long to be kept in an image once escaped",
                                        meta_fields[i].key);
        return 0;
}

/* ---- writing ---- */

static uint8_t *put_section(uint8_t *p, uint32_t type, const void *body, size_t len)
{
        put_be32(p, type);
        put_be32(p + 4, (uint32_t)len);
        memcpy(p + SECTION_HEADER_SIZE, body, len);
        return p + SECTION_HEADER_SIZE + len;
}

int image_write_start(int fd, const struct image_meta *m, char **err_r)
{
        _cleanup_free_ char *inner = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        char record[RECORD_WRITE_MAX + 1];
        size_t record_len, config_len, meta_len, total;
        uint8_t *p;
        int r;

        r = meta_check(m, false, &inner);
        if (r >= 0)
                r = record_text(m, record, &inner);
        if (r < 0)
                return err_setf(err_r, r, "image metadata: %s", inner);

        /* meta_check() bounded every part, so the sum stays under IMAGE_META_MAX. */
        record_len = strlen(record);
        config_len = strlen(m->config_text);
        meta_len = 2 * SECTION_HEADER_SIZE + record_len + config_len;
        for (char *const *d = m->disks; d && *d; d++)
                meta_len += SECTION_HEADER_SIZE + strlen(*d);
        total = IMAGE_HEADER_SIZE + meta_len + IMAGE_LIBXL_SIZE;
        buf = malloc(total);
        if (!buf)
                return err_setf(err_r, -ENOMEM, "out of memory");

        memcpy(buf, IMAGE_MAGIC, IMAGE_MAGIC_SIZE);
        put_be32(buf + 24, IMAGE_FORMAT_VERSION);
        put_be32(buf + 28, 0); /* no flags in format 1 */
        put_be32(buf + 32, (uint32_t)meta_len);
        p = buf + IMAGE_HEADER_SIZE;
        p = put_section(p, SECTION_RECORD, record, record_len);
        p = put_section(p, SECTION_CONFIG, m->config_text, config_len);
        for (char *const *d = m->disks; d && *d; d++)
                p = put_section(p, SECTION_DISK, *d, strlen(*d));
        put_be32(buf + 36, image_crc32(buf + IMAGE_HEADER_SIZE, meta_len));

        put_be64(p, 0); /* the stream's length: image_write_finish() patches it when it can */
        put_be64(p + 8, LIBXL_IDENT);
        put_be32(p + 16, LIBXL_VERSION);
        put_be32(p + 20, LIBXL_OPT_HOST);
        put_libxl_record(p + 24, LIBXL_REC_LIBXC_CONTEXT, 0);

        r = write_all(fd, buf, total);
        if (r < 0)
                return err_setf(err_r, r, "cannot write the image's header: %s", strerror(-r));
        return 0;
}

int image_write_finish(int fd, off_t stream_start, char **err_r)
{
        uint8_t end[IMAGE_END_SIZE], length[8];
        struct stat st;
        off_t now;
        int flags, r;

        put_libxl_record(end, LIBXL_REC_END, 0);
        r = write_all(fd, end, sizeof(end));
        if (r < 0)
                return err_setf(err_r, r, "cannot write the image's END record: %s", strerror(-r));

        /* A pipe or socket has no header to go back to: its length stays 0, unknown. */
        if (stream_start < 0)
                return 0;
        if (fstat(fd, &st) < 0)
                return err_setf(err_r, -errno, "cannot stat the image: %s", strerror(errno));
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return err_setf(err_r, -errno, "cannot read the image's file flags: %s",
                                strerror(errno));
        /* Linux's pwrite() appends on an O_APPEND descriptor whatever the offset. */
        if (!S_ISREG(st.st_mode) || (flags & O_APPEND))
                return 0;
        now = lseek(fd, 0, SEEK_CUR);
        if (now < 0)
                return err_setf(err_r, -errno, "cannot read the image's offset: %s",
                                strerror(errno));
        if (stream_start < IMAGE_HEADER_SIZE + IMAGE_LIBXL_SIZE ||
            now < stream_start + IMAGE_END_SIZE)
                return err_setf(err_r, -EINVAL,
                                "stream start %jd is not where image_write_start() left the "
                                "image (now at %jd)",
                                (intmax_t)stream_start, (intmax_t)now);
        put_be64(length, (uint64_t)(now - IMAGE_END_SIZE - stream_start));
        r = pwrite_all(fd, length, sizeof(length), stream_start - IMAGE_LIBXL_SIZE);
        if (r < 0)
                return err_setf(err_r, r, "cannot write the stream's length into the image: %s",
                                strerror(-r));
        return 0;
}

/* ---- reading ---- */

void image_meta_done(struct image_meta *m)
{
        free(m->config_text);
        strv_free(m->disks);
        *m = (struct image_meta){ 0 };
}

/* What the first n bytes say, when they are not a xensup image's. */
static int not_an_image(const uint8_t *head, size_t n, char **err_r)
{
        char shown[16 * 4 + 1];

        if (n == 0)
                return err_setf(err_r, -EBADMSG,
                                "not a xensup saved image: it is empty (an image starts with "
                                "\"" IMAGE_MAGIC_TAG "\")");
        if (n >= strlen(XL_MAGIC_PREFIX) &&
            memcmp(head, XL_MAGIC_PREFIX, strlen(XL_MAGIC_PREFIX)) == 0)
                return err_setf(err_r, -EBADMSG,
                                "not a xensup saved image but, by its start (\"" XL_MAGIC_PREFIX
                                "\"), one `xl save` wrote: restore it with `xl restore`");
        if (n >= 8 && get_be64(head) == LIBXL_IDENT)
                return err_setf(err_r, -EBADMSG,
                                "not a xensup saved image but a bare libxl stream (\"LibxlFmt\"), "
                                "without xensup's header");
        if (n >= 8 && get_be64(head) == LIBXC_MARKER)
                return err_setf(err_r, -EBADMSG,
                                "not a xensup saved image but a bare libxc stream, without "
                                "xensup's header");
        if (n < IMAGE_MAGIC_SIZE && memcmp(head, IMAGE_MAGIC, n) == 0)
                return err_setf(err_r, -EBADMSG,
                                "the image is cut short: it ends inside its header (%zu of %d "
                                "bytes)",
                                n, IMAGE_HEADER_SIZE);
        return err_setf(err_r, -EBADMSG,
                        "not a xensup saved image: it starts with '%s' (an image starts with "
                        "\"" IMAGE_MAGIC_TAG "\")",
                        show_bytes(shown, sizeof(shown), head, n, 16));
}

/* The RECORD section into m; a message without the "metadata: " prefix. */
static int parse_record(const uint8_t *body, size_t len, struct image_meta *m, char **err_r)
{
        struct meta_record rec = { 0 };
        int r = record_parse(&meta_schema, (const char *)body, len, &rec, err_r);

        if (r < 0)
                return r;
        if (record_to_meta(&rec, m) < 0)
                return record_bad_value(err_r, "vif_macs", rec.vif_macs, strlen(rec.vif_macs));
        return 0;
}

/* A copy of a text section's body, which must hold no NUL (it is used as a C string). */
static int section_text(const char *what, const uint8_t *body, size_t len, char **ret, char **err_r)
{
        if (memchr(body, '\0', len))
                return err_setf(err_r, -EBADMSG, "%s: holds a NUL byte", what);
        *ret = strndup((const char *)body, len);
        return *ret ? 0 : err_setf(err_r, -ENOMEM, "out of memory");
}

static int parse_disk(const uint8_t *body, size_t len, size_t *n, struct image_meta *m,
                      char **err_r)
{
        char **disks, what[32];
        int r;

        snprintf(what, sizeof(what), "disk %zu", *n);
        if (*n == DISKS_MAX)
                return err_setf(err_r, -EBADMSG, "disks: more than %d (the limit)", DISKS_MAX);
        if (len > IMAGE_DISK_SPEC_MAX)
                return err_setf(err_r, -EBADMSG, "%s: longer than %d bytes", what,
                                IMAGE_DISK_SPEC_MAX);
        disks = realloc(m->disks, (*n + 2) * sizeof(char *));
        if (!disks)
                return err_setf(err_r, -ENOMEM, "out of memory");
        m->disks = disks;
        disks[*n] = NULL;
        r = section_text(what, body, len, &disks[*n], err_r);
        if (r < 0)
                return r;
        disks[++*n] = NULL;
        return 0;
}

/* The metadata's sections into m; a message without the "metadata: " prefix. */
static int parse_sections(const uint8_t *buf, size_t len, struct image_meta *m, char **err_r)
{
        bool have_record = false, have_config = false;
        size_t n_disks = 0;
        unsigned index = 0;
        int r = 0;

        for (size_t pos = 0; pos < len; index++) {
                const uint8_t *body = buf + pos + SECTION_HEADER_SIZE;
                uint32_t type, slen;

                if (len - pos < SECTION_HEADER_SIZE)
                        return err_setf(err_r, -EBADMSG,
                                        "section %u: its header runs past the metadata's end",
                                        index);
                type = get_be32(buf + pos);
                slen = get_be32(buf + pos + 4);
                if (slen > len - pos - SECTION_HEADER_SIZE)
                        return err_setf(err_r, -EBADMSG,
                                        "section %u (type %" PRIu32 "): %" PRIu32
                                        " bytes, past the metadata's end (%zu left)",
                                        index, type, slen, len - pos - SECTION_HEADER_SIZE);
                pos += SECTION_HEADER_SIZE + slen;

                switch (type) {
                case SECTION_RECORD:
                        if (have_record)
                                return err_setf(err_r, -EBADMSG, "the record is given twice");
                        if (slen > IMAGE_RECORD_MAX)
                                return err_setf(err_r, -EBADMSG,
                                                "the record is longer than %d bytes",
                                                IMAGE_RECORD_MAX);
                        have_record = true;
                        r = parse_record(body, slen, m, err_r);
                        break;
                case SECTION_CONFIG:
                        if (have_config)
                                return err_setf(err_r, -EBADMSG, "config_text: given twice");
                        if (slen > CONFIG_FILE_MAX)
                                return err_setf(err_r, -EBADMSG,
                                                "config_text: longer than %d bytes (the config "
                                                "parser's limit)",
                                                CONFIG_FILE_MAX);
                        have_config = true;
                        r = section_text("config_text", body, slen, &m->config_text, err_r);
                        break;
                case SECTION_DISK:
                        r = parse_disk(body, slen, &n_disks, m, err_r);
                        break;
                default:
                        break; /* a later xensup's */
                }
                if (r < 0)
                        return r == -ENOMEM ? r : -EBADMSG;
        }
        if (!have_record)
                return err_setf(err_r, -EBADMSG,
                                "no record (name, uuid and the rest: section type %d)",
                                SECTION_RECORD);
        r = meta_check(m, true, err_r);
        return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
}

/* A regular file must hold all its header promises: else it was cut short (a full disk). */
static int check_size(int fd, off_t base, uint32_t meta_len, uint64_t stream_len, char **err_r)
{
        struct stat st;
        uint64_t need;

        if (base < 0 || stream_len == 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        need = (uint64_t)base + IMAGE_HEADER_SIZE + meta_len + IMAGE_LIBXL_SIZE;
        if (stream_len > (uint64_t)INT64_MAX - need - IMAGE_END_SIZE)
                return err_setf(err_r, -EBADMSG,
                                "the stream's length in the header, %" PRIu64
                                " bytes, is more than any file holds",
                                stream_len);
        need += stream_len + IMAGE_END_SIZE;
        if ((uint64_t)st.st_size < need)
                return err_setf(err_r, -EBADMSG,
                                "the image is cut short: the file has %jd bytes, its header "
                                "promises %" PRIu64 " (a stream of %" PRIu64 " bytes and the "
                                "END record)",
                                (intmax_t)st.st_size, need, stream_len);
        return 0;
}

/* The stream's length, the libxl header and the LIBXC_CONTEXT record. */
static int check_libxl(const uint8_t p[IMAGE_LIBXL_SIZE], char **err_r)
{
        uint64_t ident = get_be64(p + 8);
        uint32_t version = get_be32(p + 16), options = get_be32(p + 20), type, length;

        if (ident != LIBXL_IDENT)
                return err_setf(err_r, -EBADMSG,
                                "no libxl stream after xensup's header (ident 0x%016" PRIx64
                                ", expected 0x%016llx, \"LibxlFmt\")",
                                ident, LIBXL_IDENT);
        if (version != LIBXL_VERSION)
                return err_setf(err_r, -EBADMSG,
                                "libxl stream version %" PRIu32 " (this xensup reads %d)", version,
                                LIBXL_VERSION);
        if (options != LIBXL_OPT_HOST)
                return err_setf(err_r, -EBADMSG,
                                "libxl stream options 0x%" PRIx32 " (this xensup reads 0x%x: "
                                "%s-endian records, not converted from a legacy stream)",
                                options, LIBXL_OPT_HOST, LIBXL_OPT_HOST ? "big" : "little");
        get_libxl_record(p + 24, &type, &length);
        if (type != LIBXL_REC_LIBXC_CONTEXT || length != 0) {
                const char *name = TABLE_LOOKUP(libxl_record_names, type);

                return err_setf(err_r, -EBADMSG,
                                "the libxl stream starts with a record of type %" PRIu32
                                " (%s), %" PRIu32 " bytes, where a xensup image has the empty "
                                "LIBXC_CONTEXT record",
                                type, name ? name : "unknown", length);
        }
        return 0;
}

int image_read_start(int fd, struct image_meta *m, char **err_r)
{
        _cleanup_(image_meta_done) struct image_meta tmp = { 0 };
        _cleanup_free_ char *inner = NULL;
        _cleanup_free_ uint8_t *meta = NULL;
        uint8_t head[IMAGE_HEADER_SIZE], libxl[IMAGE_LIBXL_SIZE];
        uint32_t version, flags, meta_len, crc;
        off_t base = lseek(fd, 0, SEEK_CUR); /* -1 for a pipe: no size to check */
        ssize_t n;
        int r;

        *m = (struct image_meta){ 0 };
        n = read_exact(fd, head, sizeof(head));
        if (n < 0)
                return err_setf(err_r, (int)n, "cannot read the image: %s", strerror((int)-n));
        if ((size_t)n < IMAGE_MAGIC_SIZE || memcmp(head, IMAGE_MAGIC, IMAGE_MAGIC_SIZE) != 0)
                return not_an_image(head, (size_t)n, err_r);
        if ((size_t)n < sizeof(head))
                return err_setf(err_r, -EBADMSG,
                                "the image is cut short: it ends inside its header (%zd of %d "
                                "bytes)",
                                n, IMAGE_HEADER_SIZE);

        version = get_be32(head + 24);
        flags = get_be32(head + 28);
        meta_len = get_be32(head + 32);
        crc = get_be32(head + 36);
        if (version > IMAGE_FORMAT_VERSION)
                return err_setf(err_r, -EPROTONOSUPPORT,
                                "the image was made by a newer xensup (format %" PRIu32
                                ", this one reads up to %d)",
                                version, IMAGE_FORMAT_VERSION);
        if (version == 0)
                return err_setf(err_r, -EBADMSG,
                                "the image says format 0, which no xensup writes (this one "
                                "reads 1 to %d)",
                                IMAGE_FORMAT_VERSION);
        if (flags != 0)
                return err_setf(err_r, -EBADMSG,
                                "the image has flags 0x%" PRIx32 " set, which format %" PRIu32
                                " does not define (allowed: 0)",
                                flags, version);
        if (meta_len > IMAGE_META_MAX)
                return err_setf(err_r, -EBADMSG,
                                "the image's metadata would be %" PRIu32
                                " bytes, over the limit of %d",
                                meta_len, IMAGE_META_MAX);

        meta = malloc(meta_len ? meta_len : 1);
        if (!meta)
                return err_setf(err_r, -ENOMEM, "out of memory");
        n = read_exact(fd, meta, meta_len);
        if (n < 0)
                return err_setf(err_r, (int)n, "cannot read the image: %s", strerror((int)-n));
        if ((size_t)n < meta_len)
                return err_setf(err_r, -EBADMSG,
                                "the image is cut short: it ends inside its metadata (%zd of "
                                "%" PRIu32 " bytes)",
                                n, meta_len);
        if (image_crc32(meta, meta_len) != crc)
                return err_setf(err_r, -EBADMSG,
                                "the image's metadata is corrupt: its CRC-32 is 0x%08" PRIx32
                                ", the header says 0x%08" PRIx32,
                                image_crc32(meta, meta_len), crc);
        r = parse_sections(meta, meta_len, &tmp, &inner);
        if (r < 0)
                return err_setf(err_r, r, "the image's metadata: %s", inner);

        n = read_exact(fd, libxl, sizeof(libxl));
        if (n < 0)
                return err_setf(err_r, (int)n, "cannot read the image: %s", strerror((int)-n));
        if ((size_t)n < sizeof(libxl))
                return err_setf(err_r, -EBADMSG,
                                "the image is cut short: it ends before its libxl stream "
                                "begins (%zd of %d bytes after the metadata)",
                                n, IMAGE_LIBXL_SIZE);
        tmp.stream_length = get_be64(libxl);
        r = check_libxl(libxl, err_r);
        if (r >= 0)
                r = check_size(fd, base, meta_len, tmp.stream_length, err_r);
        if (r < 0)
                return r;

        *m = tmp;
        tmp = (struct image_meta){ 0 };
        return 0;
}

int image_read_finish(int fd, char **err_r)
{
        uint8_t rec[IMAGE_END_SIZE];
        uint32_t type, length;
        const char *name;
        ssize_t n = read_exact(fd, rec, sizeof(rec));

        if (n < 0)
                return err_setf(err_r, (int)n, "cannot read the image's END record: %s",
                                strerror((int)-n));
        if (n == 0)
                return err_setf(err_r, -EBADMSG,
                                "the image ends right after the guest's stream: its END record "
                                "is missing (the image was cut short)");
        if ((size_t)n < sizeof(rec))
                return err_setf(err_r, -EBADMSG,
                                "the image is cut short: it ends inside its END record (%zd of "
                                "%d bytes)",
                                n, IMAGE_END_SIZE);
        get_libxl_record(rec, &type, &length);
        if (type == LIBXL_REC_END && length == 0)
                return 0;
        name = TABLE_LOOKUP(libxl_record_names, type);
        if (type == LIBXL_REC_END)
                return err_setf(err_r, -EBADMSG,
                                "the image's END record has a body of %" PRIu32
                                " bytes (an END record has none)",
                                length);
        if (name)
                return err_setf(err_r, -EBADMSG,
                                "a libxl %s record follows the guest's stream where END "
                                "belongs: this xensup restores no device model or checkpoint "
                                "state",
                                name);
        return err_setf(err_r, -EBADMSG,
                        "no END record after the guest's stream (a record of type 0x%" PRIx32
                        " and %" PRIu32 " bytes instead)",
                        type, length);
}
