/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-image — supervisor/image.c, the saved-image format: a round trip through a regular file
 * and through a pipe that hands the bytes over a few at a time (the reader must stop exactly
 * at the libxc stream, which belongs to the restorer), the refusals a restore relies on before
 * it creates anything (not an image, an `xl save` file, a newer format, a bad checksum,
 * malformed or missing metadata, oversize lengths, a truncated file, a bad libxl framing), and
 * hostile bytes: random bit flips and random metadata with a valid checksum never crash, and
 * either fail with a one-line message or read back what was written.
 */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "common/fs.h"
#include "common/macros.h"
#include "common/uuid.h"
#include "supervisor/image.h"

#define VERIFY_STREAM "/usr/lib/xen-4.17/bin/verify-stream-v2"

static const char xl_magic[32] = "Xen saved domain, xl format\n \0 \r";

/* ---- a fake libxc stream: valid for verify-stream-v2, its length a multiple of 8 ---- */

static uint8_t fake_stream[88];

/* Image header v3, x86 PV domain header, STATIC_DATA_END, X86_TSC_INFO and END. */
static void make_fake_stream(void)
{
        uint8_t *p = fake_stream;

        memset(fake_stream, 0, sizeof(fake_stream));
        put_be64(p, UINT64_MAX);
        put_be32(p + 8, 0x58454e46); /* "XENF" */
        put_be32(p + 12, 3);
        p += 24;
        put_le32(p, 1); /* x86 PV */
        p[4] = 12;      /* page shift */
        put_le32(p + 8, 4);
        put_le32(p + 12, 17);
        p += 16;
        put_le32(p, 0x10); /* STATIC_DATA_END */
        p += 8;
        put_le32(p, 8); /* X86_TSC_INFO */
        put_le32(p + 4, 24);
        put_le32(p + 12, 2000000); /* kHz */
        put_le32(p + 24, 1);       /* incarnation */
        p += 32;
        put_le32(p, 0); /* END */
        assert_int_equal(p + 8 - fake_stream, sizeof(fake_stream));
}

/* ---- metadata ---- */

static void sample_meta(struct image_meta *m)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        assert_non_null(f);
        *m = (struct image_meta){
                .save_time_usec = 1767225600123456ULL,
                .memory_kib = 262144,
                .vcpus = 2,
                .features = { .poweroff = "1", .reboot = "1", .suspend = "" },
                .vif_macs = { [0] = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 },
                              [2] = { 0x00, 0x16, 0x3e, 0x0a, 0x0b, 0x0c } },
        };
        strcpy(m->name, "web1");
        assert_int_equal(uuid_from_string("0d6f2e0a-3c55-4b8e-9a41-6c1d2b7e8f90", m->uuid), 0);
        strcpy(m->hypervisor, "sim");
        strcpy(m->xen_version, "4.17.3-pre");
        strcpy(m->config_path, "/etc/xensup/domains.d/web1.conf");
        /* Another user's domain: whose rights the host's boot restores it with. */
        m->creator_uid = 1000;
        strcpy(m->creator_groups, "100,1000,27");
        m->creator_host_devices = true;
        strcpy(m->history, "1767225500000000 started - - xensupd;1767225600000000 saved - - uid 0");
        /* Several KiB over many lines, with quotes, tabs and non-ASCII: a config as it is. */
        fputs("name = \"web1\"\nuuid = \"0d6f2e0a-3c55-4b8e-9a41-6c1d2b7e8f90\"\n", f);
        fputs("type = \"pv\"\nmemory = 256\nvcpus = 2\nkernel = \"/boot/vmlinuz\"\n", f);
        for (int i = 0; i < 200; i++)
                fprintf(f, "# line %d\tcaf\xc3\xa9 \"quoted\" \\ back\r\n", i);
        fputs("disk = { \"vdev=xvda, target=/srv/web1.img\" }\n", f);
        assert_int_equal(fclose(f), 0);
        m->config_text = TAKE_PTR(text);
        m->disks = calloc(3, sizeof(char *));
        assert_non_null(m->disks);
        m->disks[0] = strdup("vdev=xvda, format=raw, access=rw, target=/srv/web1.img");
        m->disks[1] =
            strdup("vdev=xvdb, format=raw, access=ro, devtype=cdrom, target=/srv/a,b.iso");
        assert_non_null(m->disks[0]);
        assert_non_null(m->disks[1]);
}

static void assert_meta_equal(const struct image_meta *a, const struct image_meta *b)
{
        size_t n = 0;

        assert_string_equal(a->name, b->name);
        assert_memory_equal(a->uuid, b->uuid, 16);
        assert_string_equal(a->hypervisor, b->hypervisor);
        assert_string_equal(a->xen_version, b->xen_version);
        assert_int_equal(a->save_time_usec, b->save_time_usec);
        assert_int_equal(a->memory_kib, b->memory_kib);
        assert_int_equal(a->vcpus, b->vcpus);
        assert_memory_equal(&a->features, &b->features, sizeof(a->features));
        assert_memory_equal(a->vif_macs, b->vif_macs, sizeof(a->vif_macs));
        assert_string_equal(a->config_path, b->config_path);
        assert_int_equal(a->creator_uid, b->creator_uid);
        assert_string_equal(a->creator_groups, b->creator_groups);
        assert_int_equal(a->creator_host_devices, b->creator_host_devices);
        assert_string_equal(a->history, b->history);
        assert_string_equal(a->config_text, b->config_text);
        assert_true(!a->disks == !b->disks);
        for (; a->disks && a->disks[n]; n++) {
                assert_non_null(b->disks[n]);
                assert_string_equal(a->disks[n], b->disks[n]);
        }
        assert_true(!b->disks || !b->disks[n]);
}

/* ---- files and images ---- */

static int memfd_with(const void *buf, size_t len)
{
        int fd = memfd_create("test-image", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, buf, len), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static uint8_t *fd_bytes(int fd, size_t *len)
{
        struct stat st;
        uint8_t *buf;

        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
        *len = (size_t)st.st_size;
        return buf;
}

/* A whole image of m around the fake stream, into fd at its offset. */
static void write_image(int fd, const struct image_meta *m)
{
        _cleanup_free_ char *err = NULL;
        off_t start;

        assert_int_equal(image_write_start(fd, m, &err), 0);
        assert_null(err);
        start = lseek(fd, 0, SEEK_CUR);
        assert_int_equal(write_all(fd, fake_stream, sizeof(fake_stream)), 0);
        assert_int_equal(image_write_finish(fd, start, &err), 0);
        assert_null(err);
}

/* The sample's image, as bytes; *prefix_r: where its stream begins. */
static uint8_t *good_image(size_t *len, size_t *prefix_r)
{
        struct image_meta m;
        _cleanup_close_ int fd = memfd_create("good", MFD_CLOEXEC);
        uint8_t *buf;

        sample_meta(&m);
        write_image(fd, &m);
        image_meta_done(&m);
        buf = fd_bytes(fd, len);
        if (prefix_r)
                *prefix_r = IMAGE_HEADER_SIZE + get_be32(buf + 32) + IMAGE_LIBXL_SIZE;
        return buf;
}

/* Read bytes as an image up to its stream: r, and the message it gave. */
static int read_bytes(const uint8_t *buf, size_t len, struct image_meta *m, char **err)
{
        _cleanup_close_ int fd = memfd_with(buf, len);

        return image_read_start(fd, m, err);
}

static void expect_refused(const uint8_t *buf, size_t len, int code, const char *needle)
{
        _cleanup_free_ char *err = NULL;
        struct image_meta m;
        int r = read_bytes(buf, len, &m, &err);

        if (r != code || !err || !strstr(err, needle))
                fail_msg("expected %d with '%s', got %d: %s", code, needle, r,
                         err ? err : "(no message)");
        assert_null(strchr(err, '\n'));
        assert_null(m.config_text);
        assert_null(m.disks);
}

/* ---- crafted images: metadata of one's own, around the good image's libxl part ---- */

struct section {
        uint32_t type;
        const void *body;
        size_t len;
};

static uint8_t *craft(const struct section *s, size_t n, size_t *len_r)
{
        _cleanup_free_ uint8_t *good = NULL;
        size_t good_len, prefix, meta_len = 0, len;
        uint8_t *buf, *p;

        good = good_image(&good_len, &prefix);
        for (size_t i = 0; i < n; i++)
                meta_len += 8 + s[i].len;
        len = IMAGE_HEADER_SIZE + meta_len + IMAGE_LIBXL_SIZE + sizeof(fake_stream) + 8;
        buf = calloc(1, len);
        assert_non_null(buf);
        memcpy(buf, good, 32);
        put_be32(buf + 32, (uint32_t)meta_len);
        p = buf + IMAGE_HEADER_SIZE;
        for (size_t i = 0; i < n; i++) {
                put_be32(p, s[i].type);
                put_be32(p + 4, (uint32_t)s[i].len);
                memcpy(p + 8, s[i].body, s[i].len);
                p += 8 + s[i].len;
        }
        put_be32(buf + 36, image_crc32(buf + IMAGE_HEADER_SIZE, meta_len));
        memcpy(p, good + prefix - IMAGE_LIBXL_SIZE, good_len - prefix + IMAGE_LIBXL_SIZE);
        *len_r = len;
        return buf;
}

/* The good image's record text, its config text. */
static char *good_section(uint32_t type)
{
        _cleanup_free_ uint8_t *good = NULL;
        size_t len, prefix, pos = IMAGE_HEADER_SIZE;

        good = good_image(&len, &prefix);
        while (pos < prefix - IMAGE_LIBXL_SIZE) {
                uint32_t t = get_be32(good + pos), l = get_be32(good + pos + 4);

                if (t == type)
                        return strndup((const char *)good + pos + 8, l);
                pos += 8 + l;
        }
        fail_msg("no section %u", type);
        return NULL;
}

/* The good record with key's line replaced by "key=value" (value NULL: dropped). */
static char *record_with(const char *key, const char *value)
{
        _cleanup_free_ char *rec = good_section(1);
        char *out = NULL, *line, *save = NULL;
        size_t len = 0, klen = strlen(key);
        FILE *f = open_memstream(&out, &len);
        bool done = false;

        assert_non_null(f);
        for (line = strtok_r(rec, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
                        if (value)
                                fprintf(f, "%s=%s\n", key, value);
                        done = true;
                        continue;
                }
                fprintf(f, "%s\n", line);
        }
        if (!done && value)
                fprintf(f, "%s=%s\n", key, value);
        assert_int_equal(fclose(f), 0);
        return out;
}

/* An image whose record is the good one with key set to value (NULL: without key). */
static void expect_record_refused(const char *key, const char *value, const char *needle)
{
        _cleanup_free_ char *rec = record_with(key, value), *cfg = good_section(2);
        _cleanup_free_ uint8_t *img = NULL;
        struct section s[] = { { 1, rec, strlen(rec) }, { 2, cfg, strlen(cfg) } };
        size_t len;

        img = craft(s, ELEMENTSOF(s), &len);
        expect_refused(img, len, -EBADMSG, needle);
}

/* ---- round trips ---- */

static void test_crc32(void **state)
{
        uint8_t buf[1000];

        (void)state;
        assert_int_equal(image_crc32("123456789", 9), 0xcbf43926); /* the CRC-32 check value */
        assert_int_equal(image_crc32("", 0), 0);
        /* Against the bitwise definition, over every byte value. */
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t)(i * 7 + 3);
        for (size_t n = 0; n <= sizeof(buf); n += 111) {
                uint32_t crc = 0xffffffffu;

                for (size_t i = 0; i < n; i++) {
                        crc ^= buf[i];
                        for (int b = 0; b < 8; b++)
                                crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
                }
                assert_int_equal(image_crc32(buf, n), ~crc);
        }
}

static void test_file_round_trip(void **state)
{
        _cleanup_close_ int fd = memfd_create("file", MFD_CLOEXEC);
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ uint8_t *bytes = NULL;
        struct image_meta in, out;
        uint8_t stream[sizeof(fake_stream)], extra;
        size_t len, prefix;

        (void)state;
        sample_meta(&in);
        /* Not at the file's start: the image begins where the descriptor is. */
        assert_int_equal(write_all(fd, "junk before the image", 21), 0);
        write_image(fd, &in);
        bytes = fd_bytes(fd, &len);
        assert_memory_equal(bytes + 21, "xensup saved domain\n\0\r\n\x1a", 24);
        prefix = IMAGE_HEADER_SIZE + get_be32(bytes + 21 + 32) + IMAGE_LIBXL_SIZE;
        assert_int_equal(len, 21 + prefix + sizeof(fake_stream) + IMAGE_END_SIZE);
        /* The stream's length was patched in, just before the libxl header. */
        assert_int_equal(get_be64(bytes + 21 + prefix - IMAGE_LIBXL_SIZE), sizeof(fake_stream));

        assert_int_equal(lseek(fd, 21, SEEK_SET), 21);
        assert_int_equal(image_read_start(fd, &out, &err), 0);
        assert_null(err);
        assert_meta_equal(&in, &out);
        assert_int_equal(out.stream_length, sizeof(fake_stream));
        assert_int_equal(lseek(fd, 0, SEEK_CUR), 21 + prefix);
        assert_int_equal(read(fd, stream, sizeof(stream)), sizeof(stream));
        assert_memory_equal(stream, fake_stream, sizeof(stream));
        assert_int_equal(image_read_finish(fd, &err), 0);
        assert_null(err);
        assert_int_equal(read(fd, &extra, 1), 0);
        image_meta_done(&in);
        image_meta_done(&out);
        assert_null(out.config_text);
}

/* The longest value of every field fits the record (its write bound), and reads back. */
static void test_longest_fields(void **state)
{
        _cleanup_close_ int fd = memfd_create("long", MFD_CLOEXEC);
        _cleanup_free_ char *err = NULL;
        struct image_meta in, out;

        (void)state;
        sample_meta(&in);
        memset(in.name, 'n', DOMAIN_NAME_MAX);
        memset(in.hypervisor, 'h', IMAGE_HYPERVISOR_MAX);
        memset(in.xen_version, 'v', IMAGE_XEN_VERSION_MAX);
        in.config_path[0] = '/';
        memset(in.config_path + 1, 'p', sizeof(in.config_path) - 2);
        for (int i = 0; i < VIFS_MAX; i++)
                memset(in.vif_macs[i], 0xa0 + i, 6);
        in.save_time_usec = in.memory_kib = UINT64_MAX;
        in.vcpus = VCPUS_MAX;
        strcpy(in.features.suspend, "0");
        /* A full history: supervisor/history.c writes it without a byte to escape. */
        memset(in.history, 'h', sizeof(in.history) - 1);
        in.history[sizeof(in.history) - 1] = '\0';
        free(in.disks[0]);
        /* The longest paths disk_parse() takes: a target under PATH_MAX, a long script. */
        in.disks[0] = malloc(IMAGE_DISK_SPEC_MAX + 1);
        assert_non_null(in.disks[0]);
        snprintf(in.disks[0], IMAGE_DISK_SPEC_MAX + 1,
                 "vdev=xvda, format=raw, access=rw, script=/%0*d, target=/%0*d", 4000, 0,
                 PATH_MAX - 2, 0);
        if (image_write_start(fd, &in, &err) < 0)
                fail_msg("%s", err);
        assert_int_equal(write_all(fd, fake_stream, sizeof(fake_stream)), 0);
        assert_int_equal(image_write_finish(fd, -1, &err), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(image_read_start(fd, &out, &err), 0);
        assert_meta_equal(&in, &out);
        image_meta_done(&in);
        image_meta_done(&out);
}

/* Hand buf to the pipe a few bytes at a time, as a slow network would. */
static void dribble(int fd, const uint8_t *buf, size_t len)
{
        unsigned seed = 7;

        for (size_t pos = 0; pos < len;) {
                size_t n = 1 + (size_t)rand_r(&seed) % 13;

                if (n > len - pos)
                        n = len - pos;
                if (write_all(fd, buf + pos, n) < 0)
                        _exit(1);
                pos += n;
                if (rand_r(&seed) % 8 == 0)
                        usleep(200);
        }
}

static void on_alarm(int sig)
{
        (void)sig;
}

/*
 * Read an image from a pipe: a child writes it (direct: with image_write_start() on the pipe;
 * else a file's bytes dribbled); the reader is interrupted by signals all along (EINTR) and,
 * for the dribble, non-blocking (EAGAIN).
 */
static void pipe_round_trip(bool direct, size_t config_size)
{
        _cleanup_free_ char *err = NULL;
        struct image_meta in, out;
        uint8_t stream[sizeof(fake_stream)], extra;
        struct sigaction sa = { .sa_handler = on_alarm }, old;
        struct itimerval tick = { { 0, 500 }, { 0, 500 } }, off = { 0 };
        int p[2], status;
        pid_t pid;

        sample_meta(&in);
        if (config_size) {
                /* Beyond the pipe's buffer: the writer blocks until the reader reads. */
                free(in.config_text);
                in.config_text = malloc(config_size + 1);
                assert_non_null(in.config_text);
                for (size_t i = 0; i < config_size; i++)
                        in.config_text[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
                in.config_text[config_size] = '\0';
        }
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                if (direct) {
                        if (image_write_start(p[1], &in, NULL) < 0 ||
                            write_all(p[1], fake_stream, sizeof(fake_stream)) < 0 ||
                            image_write_finish(p[1], lseek(p[1], 0, SEEK_CUR), NULL) < 0)
                                _exit(1);
                } else {
                        _cleanup_close_ int fd = memfd_create("dribble", MFD_CLOEXEC);
                        size_t len;
                        uint8_t *bytes;

                        write_image(fd, &in);
                        bytes = fd_bytes(fd, &len);
                        dribble(p[1], bytes, len);
                        free(bytes);
                }
                _exit(0);
        }
        close(p[1]);
        if (!direct)
                assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
        assert_int_equal(sigaction(SIGALRM, &sa, &old), 0); /* no SA_RESTART: reads see EINTR */
        assert_int_equal(setitimer(ITIMER_REAL, &tick, NULL), 0);

        assert_int_equal(image_read_start(p[0], &out, &err), 0);
        assert_null(err);
        assert_meta_equal(&in, &out);
        /* Written to a pipe, the stream's length is unknown; a file's copy keeps its own. */
        assert_int_equal(out.stream_length, direct ? 0 : sizeof(fake_stream));
        /* Exactly at the stream: its bytes are all still in the pipe, and nothing else. */
        assert_int_equal(fcntl(p[0], F_SETFL, 0), 0);
        for (size_t got = 0; got < sizeof(stream);) {
                ssize_t n = read(p[0], stream + got, sizeof(stream) - got);

                if (n < 0 && errno == EINTR)
                        continue;
                assert_true(n > 0);
                got += (size_t)n;
        }
        assert_memory_equal(stream, fake_stream, sizeof(stream));
        assert_int_equal(image_read_finish(p[0], &err), 0);
        assert_null(err);
        for (;;) {
                ssize_t n = read(p[0], &extra, 1);

                if (n < 0 && errno == EINTR)
                        continue;
                assert_int_equal(n, 0); /* nothing after END */
                break;
        }

        assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
        /* Ignoring it drops a tick still pending, which the default action would die of. */
        signal(SIGALRM, SIG_IGN);
        assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(p[0]);
        image_meta_done(&in);
        image_meta_done(&out);
}

static void test_pipe_direct(void **state)
{
        (void)state;
        pipe_round_trip(true, 0);
}

static void test_pipe_dribbled(void **state)
{
        (void)state;
        pipe_round_trip(false, 0);
}

static void test_pipe_large_config(void **state)
{
        (void)state;
        pipe_round_trip(true, 200 * 1024);
}

/* verify-stream-v2 -f libxl's exit status on the image in fd, from its libxl header. */
static int verify_stream(int fd)
{
        uint8_t head[IMAGE_HEADER_SIZE];
        int status;
        pid_t pid;

        assert_int_equal(pread(fd, head, sizeof(head), 0), sizeof(head));
        /* Past the header, the metadata and the stream's length: the libxl header. */
        assert_true(lseek(fd, IMAGE_HEADER_SIZE + get_be32(head + 32) + 8, SEEK_SET) > 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                dup2(fd, 0);
                dup2(null, 1);
                dup2(null, 2);
                /* Debian keeps the script's modules beside it, off python's path. */
                setenv("PYTHONPATH", "/usr/lib/xen-4.17/lib/python", 1);
                execl(VERIFY_STREAM, VERIFY_STREAM, "-f", "libxl", "-v", (char *)NULL);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* What follows xensup's header is a libxl stream verify-stream-v2 accepts. */
static void test_verify_stream_v2(void **state)
{
        _cleanup_free_ uint8_t *img = NULL;
        size_t len, prefix;
        int fd;

        (void)state;
        if (access(VERIFY_STREAM, X_OK) < 0)
                skip();
        img = good_image(&len, &prefix);
        fd = memfd_with(img, len);
        assert_int_equal(verify_stream(fd), 0);
        close(fd);
        /* And it does look: a LIBXC_CONTEXT record with a body is not one. */
        put_le32(img + prefix - 4, 8);
        fd = memfd_with(img, len);
        assert_int_equal(verify_stream(fd), 1);
        close(fd);
}

/* ---- what a restore refuses ---- */

static void test_not_an_image(void **state)
{
        static const char text[] = "name = \"web1\"\nmemory = 256\nvcpus = 2\n# a config\n\n";
        uint8_t xl[64] = { 0 }, libxl[24] = { 0 };

        (void)state;
        expect_refused((const uint8_t *)"", 0, -EBADMSG, "it is empty");
        expect_refused((const uint8_t *)text, sizeof(text) - 1, -EBADMSG,
                       "starts with 'name = \"web1\"\\x0ame' (an image starts with \"xensup "
                       "saved domain\")");
        expect_refused((const uint8_t *)"\x7f"
                                        "ELF\x02\x01",
                       6, -EBADMSG, "'\\x7fELF\\x02\\x01'");
        memcpy(xl, xl_magic, sizeof(xl_magic));
        put_be32(xl + 32, 0x04030201);
        put_be32(xl + 36, 3);
        expect_refused(xl, sizeof(xl), -EBADMSG, "`xl save` wrote: restore it with `xl restore`");
        /* Even its first 16 bytes, as xendomains tests. */
        expect_refused(xl, 16, -EBADMSG, "xl restore");
        put_be64(libxl, 0x4c6962786c466d74ULL);
        expect_refused(libxl, sizeof(libxl), -EBADMSG, "a bare libxl stream");
        expect_refused(fake_stream, sizeof(fake_stream), -EBADMSG, "a bare libxc stream");
}

static void test_version_flags_crc(void **state)
{
        _cleanup_free_ uint8_t *img = NULL;
        size_t len, prefix;

        (void)state;
        img = good_image(&len, &prefix);
        put_be32(img + 24, 2);
        expect_refused(img, len, -EPROTONOSUPPORT,
                       "made by a newer xensup (format 2, this one reads up to 1)");
        put_be32(img + 24, 0);
        expect_refused(img, len, -EBADMSG, "format 0, which no xensup writes");
        put_be32(img + 24, 1);
        put_be32(img + 28, 0x4);
        expect_refused(img, len, -EBADMSG, "flags 0x4 set, which format 1 does not define");
        put_be32(img + 28, 0);
        img[IMAGE_HEADER_SIZE + 20] ^= 0x20;
        expect_refused(img, len, -EBADMSG, "metadata is corrupt: its CRC-32 is 0x");
        img[IMAGE_HEADER_SIZE + 20] ^= 0x20;
        img[37] ^= 1;
        expect_refused(img, len, -EBADMSG, "metadata is corrupt");
}

/* A regular file cut anywhere is refused before its stream is handed to anyone. */
static void test_truncated(void **state)
{
        _cleanup_free_ uint8_t *img = NULL;
        size_t len, prefix, meta_end;
        struct {
                size_t cut;
                const char *needle;
        } cuts[8];

        (void)state;
        img = good_image(&len, &prefix);
        meta_end = prefix - IMAGE_LIBXL_SIZE;
        cuts[0].cut = 10, cuts[0].needle = "ends inside its header (10 of 40 bytes)";
        cuts[1].cut = 39, cuts[1].needle = "ends inside its header (39 of 40 bytes)";
        cuts[2].cut = IMAGE_HEADER_SIZE + 100, cuts[2].needle = "ends inside its metadata (100 of";
        cuts[3].cut = meta_end + 4, cuts[3].needle = "ends before its libxl stream begins (4 of 32";
        cuts[4].cut = meta_end + 20, cuts[4].needle = "ends before its libxl stream begins (20 of";
        cuts[5].cut = prefix + 40, cuts[5].needle = "cut short: the file has";
        cuts[6].cut = len - IMAGE_END_SIZE, cuts[6].needle = "(a stream of 88 bytes and the END";
        cuts[7].cut = len - 3, cuts[7].needle = "cut short: the file has";
        for (size_t i = 0; i < ELEMENTSOF(cuts); i++)
                expect_refused(img, cuts[i].cut, -EBADMSG, cuts[i].needle);
}

/* Where the stream's length is unknown (a pipe's image, kept), read_finish finds the cut. */
static void test_truncated_unknown_length(void **state)
{
        _cleanup_free_ uint8_t *img = NULL;
        _cleanup_free_ char *err = NULL;
        struct image_meta m;
        size_t len, prefix;
        int fd;

        (void)state;
        img = good_image(&len, &prefix);
        put_be64(img + prefix - IMAGE_LIBXL_SIZE, 0);
        for (size_t cut = len - IMAGE_END_SIZE; cut < len; cut += 5) {
                fd = memfd_with(img, cut);
                assert_int_equal(image_read_start(fd, &m, &err), 0);
                assert_int_equal(m.stream_length, 0);
                assert_int_equal(lseek(fd, (off_t)sizeof(fake_stream), SEEK_CUR), (off_t)(len - 8));
                assert_int_equal(image_read_finish(fd, &err), -EBADMSG);
                assert_non_null(strstr(err, cut == len - 8 ? "its END record is missing"
                                                           : "ends inside its END record"));
                image_meta_done(&m);
                close(fd);
        }
}

static void test_libxl_framing(void **state)
{
        _cleanup_free_ uint8_t *img = NULL;
        size_t len, prefix, at;

        (void)state;
        img = good_image(&len, &prefix);
        at = prefix - IMAGE_LIBXL_SIZE + 8; /* the libxl header */
        img[at] ^= 0xff;
        expect_refused(img, len, -EBADMSG, "no libxl stream after xensup's header (ident");
        img[at] ^= 0xff;
        put_be32(img + at + 8, 3);
        expect_refused(img, len, -EBADMSG, "libxl stream version 3 (this xensup reads 2)");
        put_be32(img + at + 8, 2);
        put_be32(img + at + 12, 1);
        expect_refused(img, len, -EBADMSG, "libxl stream options 0x1 (this xensup reads 0x0");
        put_be32(img + at + 12, 2);
        expect_refused(img, len, -EBADMSG, "options 0x2");
        put_be32(img + at + 12, 0);
        put_le32(img + at + 16, 3);
        expect_refused(img, len, -EBADMSG,
                       "starts with a record of type 3 (EMULATOR_CONTEXT), 0 bytes");
        put_le32(img + at + 16, 1);
        put_le32(img + at + 20, 8);
        expect_refused(img, len, -EBADMSG, "type 1 (LIBXC_CONTEXT), 8 bytes, where");
        put_le32(img + at + 20, 0);
        put_le32(img + at + 16, 0x9999);
        expect_refused(img, len, -EBADMSG, "type 39321 (unknown)");
}

static void expect_finish(const uint8_t end[8], const char *needle)
{
        _cleanup_free_ uint8_t *img = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = -1;
        struct image_meta m;
        size_t len, prefix;

        img = good_image(&len, &prefix);
        memcpy(img + len - 8, end, 8);
        fd = memfd_with(img, len);
        assert_int_equal(image_read_start(fd, &m, &err), 0);
        image_meta_done(&m);
        assert_int_equal(lseek(fd, (off_t)sizeof(fake_stream), SEEK_CUR), (off_t)(len - 8));
        if (!needle) {
                assert_int_equal(image_read_finish(fd, &err), 0);
                return;
        }
        assert_int_equal(image_read_finish(fd, &err), -EBADMSG);
        if (!strstr(err, needle))
                fail_msg("'%s' not in '%s'", needle, err);
}

static void test_end_record(void **state)
{
        uint8_t end[8] = { 0 };

        (void)state;
        expect_finish(end, NULL);
        put_le32(end, 3);
        expect_finish(end, "a libxl EMULATOR_CONTEXT record follows the guest's stream");
        put_le32(end, 0x4242);
        expect_finish(end, "no END record after the guest's stream (a record of type 0x4242");
        put_le32(end, 0);
        put_le32(end + 4, 8);
        expect_finish(end, "END record has a body of 8 bytes");
}

static void test_missing_fields(void **state)
{
        (void)state;
        expect_record_refused("name", NULL, "metadata: name: missing (required");
        expect_record_refused("uuid", NULL, "metadata: uuid: missing or null");
        expect_record_refused("uuid", "00000000-0000-0000-0000-000000000000", "uuid: missing");
        expect_record_refused("hypervisor", NULL, "metadata: hypervisor: missing");
        expect_record_refused("save_time_usec", NULL, "save_time_usec: missing or 0");
        expect_record_refused("memory_kib", NULL, "memory_kib: missing or 0");
        expect_record_refused("vcpus", NULL, "vcpus: 0 (allowed: 1 to 128)");
        expect_record_refused("vcpus", "129", "vcpus: 129");
        expect_record_refused("version", NULL, "line 1: not the version");
        expect_record_refused("version", "2", "version: 2 is not the version");
}

/* An image of a xensup before the creator keys (or of root's domain) is root's. */
static void test_creator_absent_is_root(void **state)
{
        _cleanup_free_ char *a = record_with("creator_uid", NULL), *cfg = good_section(2);
        _cleanup_free_ char *b = NULL, *rec = NULL, *err = NULL;
        _cleanup_free_ uint8_t *img = NULL;
        _cleanup_(image_meta_done) struct image_meta m = { 0 };
        struct section s[2] = { { 1, NULL, 0 }, { 2, cfg, strlen(cfg) } };
        size_t len;
        char *p;

        (void)state;
        /* record_with() edits the good record: drop the other two keys from its output. */
        b = strdup(a);
        assert_non_null(b);
        rec = calloc(1, strlen(b) + 1);
        assert_non_null(rec);
        for (char *line = strtok_r(b, "\n", &p); line; line = strtok_r(NULL, "\n", &p))
                if (strncmp(line, "creator_", 8) != 0)
                        strcat(strcat(rec, line), "\n");
        s[0] = (struct section){ 1, rec, strlen(rec) };
        img = craft(s, ELEMENTSOF(s), &len);
        assert_int_equal(read_bytes(img, len, &m, &err), 0);
        assert_int_equal(m.creator_uid, 0);
        assert_string_equal(m.creator_groups, "");
        assert_false(m.creator_host_devices);
}

static void test_malformed_fields(void **state)
{
        (void)state;
        expect_record_refused("name", "web 1", "name: malformed value 'web 1'");
        expect_record_refused("uuid", "0D6F2E0A-3C55-4B8E-9A41-6C1D2B7E8F90", "uuid: malformed");
        expect_record_refused("feature_suspend", "2", "feature_suspend: '2' (allowed");
        expect_record_refused("feature_reboot", "yes", "feature_reboot: value longer than 1");
        expect_record_refused("vif_macs", "00:16:3e:01:02:03,", "vif_macs: malformed");
        expect_record_refused("vif_macs", "00:16:3E:01:02:03", "vif_macs: malformed");
        expect_record_refused("vif_macs", "00:16:3e:01:02:03,-", "vif_macs: malformed");
        expect_record_refused("vif_macs", "00:00:00:00:00:00", "vif_macs: malformed");
        expect_record_refused("config_path", "etc/x.conf", "config_path: malformed");
        expect_record_refused("config_path", "/etc/x\\n.conf", "config_path: not an absolute");
        expect_record_refused("xen_version", "4.17\\x1b[31m", "xen_version: holds a control");
        expect_record_refused("memory_kib", "-1", "memory_kib: malformed");
        expect_record_refused("memory_kib", "18446744073709551616", "memory_kib: malformed");
        expect_record_refused("hypervisor", "x/y", "hypervisor: malformed");
}

static void test_sections(void **state)
{
        _cleanup_free_ char *rec = good_section(1), *cfg = good_section(2);
        _cleanup_free_ char *later = record_with("later_key", "from a later xensup");
        _cleanup_free_ uint8_t *img = NULL;
        _cleanup_free_ char *err = NULL;
        struct image_meta m;
        size_t len;

        (void)state;
        {
                struct section s[] = { { 2, cfg, strlen(cfg) } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "metadata: no record");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "metadata: config_text: missing");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) },
                                       { 2, cfg, strlen(cfg) },
                                       { 1, rec, strlen(rec) } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "the record is given twice");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) },
                                       { 2, cfg, strlen(cfg) },
                                       { 2, cfg, strlen(cfg) } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "config_text: given twice");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) }, { 2, "a\0b", 3 } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "config_text: holds a NUL byte");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) }, { 2, "", 0 } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "config_text: empty");
                free(img);
        }
        {
                static const char bad_disk[] = "vdev=xvda, access=rx, target=/x";
                struct section s[] = { { 1, rec, strlen(rec) },
                                       { 2, cfg, strlen(cfg) },
                                       { 3, "vdev=xvda, target=/x", 20 },
                                       { 3, bad_disk, strlen(bad_disk) } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "metadata: disk 1: ");
                free(img);
        }
        {
                /* A later xensup's section and key are skipped, as unknown keys of a record. */
                struct section s[] = { { 0x77, "future", 6 },
                                       { 1, later, strlen(later) },
                                       { 2, cfg, strlen(cfg) },
                                       { 0x80000001, "", 0 } };

                img = craft(s, ELEMENTSOF(s), &len);
                assert_int_equal(read_bytes(img, len, &m, &err), 0);
                assert_string_equal(m.name, "web1");
                assert_string_equal(m.config_text, cfg);
                assert_null(m.disks);
                image_meta_done(&m);
        }
}

static void test_oversize(void **state)
{
        _cleanup_free_ char *rec = good_section(1), *cfg = good_section(2);
        _cleanup_free_ uint8_t *img = NULL;
        _cleanup_free_ char *big = malloc(CONFIG_FILE_MAX + 1);
        size_t len, prefix;

        (void)state;
        assert_non_null(big);
        memset(big, 'a', CONFIG_FILE_MAX + 1);

        img = good_image(&len, &prefix);
        put_be32(img + 32, UINT32_MAX);
        expect_refused(img, len, -EBADMSG, "metadata would be 4294967295 bytes, over the limit");
        put_be32(img + 32, IMAGE_META_MAX);
        expect_refused(img, len, -EBADMSG, "ends inside its metadata");
        free(img);

        img = good_image(&len, &prefix);
        put_be64(img + prefix - IMAGE_LIBXL_SIZE, UINT64_MAX);
        expect_refused(img, len, -EBADMSG, "18446744073709551615 bytes, is more than any file");
        put_be64(img + prefix - IMAGE_LIBXL_SIZE, 1ULL << 40);
        expect_refused(img, len, -EBADMSG, "cut short: the file has");
        free(img);

        {
                /* A section's length past the metadata's end, and a header cut in two. */
                uint8_t meta[12] = { 0 };

                put_be32(meta, 1);
                put_be32(meta + 4, 0xfffffff0);
                {
                        struct section s[] = { { 1, rec, strlen(rec) } };

                        img = craft(s, ELEMENTSOF(s), &len);
                }
                memcpy(img + IMAGE_HEADER_SIZE, meta, 8);
                put_be32(img + 36, image_crc32(img + IMAGE_HEADER_SIZE, get_be32(img + 32)));
                expect_refused(img, len, -EBADMSG, "section 0 (type 1): 4294967280 bytes, past");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) },
                                       { 2, cfg, strlen(cfg) },
                                       { 9, "abc", 3 } };

                img = craft(s, ELEMENTSOF(s), &len);
                /* The metadata ends 5 bytes into the last section's header. */
                put_be32(img + 32, get_be32(img + 32) - 6);
                put_be32(img + 36, image_crc32(img + IMAGE_HEADER_SIZE, get_be32(img + 32)));
                expect_refused(img, len, -EBADMSG, "section 2: its header runs past");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) }, { 2, big, CONFIG_FILE_MAX + 1 } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "config_text: longer than 1048576 bytes");
                free(img);
        }
        {
                struct section s[] = { { 1, big, IMAGE_RECORD_MAX + 1 }, { 2, cfg, strlen(cfg) } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "the record is longer than 8192 bytes");
                free(img);
        }
        {
                struct section s[] = { { 1, rec, strlen(rec) },
                                       { 2, cfg, strlen(cfg) },
                                       { 3, big, IMAGE_DISK_SPEC_MAX + 1 } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "disk 0: longer than");
                free(img);
        }
        {
                struct section s[2 + DISKS_MAX + 1] = { { 1, rec, strlen(rec) },
                                                        { 2, cfg, strlen(cfg) } };

                for (size_t i = 2; i < ELEMENTSOF(s); i++)
                        s[i] = (struct section){ 3, "vdev=xvda, target=/x", 20 };
                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "disks: more than 64");
                free(img);
        }
        {
                /* A value longer than its field. */
                _cleanup_free_ char *name = strndup(big, DOMAIN_NAME_MAX + 1);
                _cleanup_free_ char *r = record_with("name", name);
                struct section s[] = { { 1, r, strlen(r) }, { 2, cfg, strlen(cfg) } };

                img = craft(s, ELEMENTSOF(s), &len);
                expect_refused(img, len, -EBADMSG, "name: value longer than 64 bytes");
        }
}

/* ---- what a save refuses to write ---- */

static void expect_write_refused(void (*spoil)(struct image_meta *), const char *needle)
{
        _cleanup_close_ int fd = memfd_create("refused", MFD_CLOEXEC);
        _cleanup_free_ char *err = NULL;
        struct image_meta m;
        struct stat st;
        int r;

        sample_meta(&m);
        spoil(&m);
        r = image_write_start(fd, &m, &err);
        if (r != -EINVAL || !err || !strstr(err, needle))
                fail_msg("expected -EINVAL with '%s', got %d: %s", needle, r, err ? err : "");
        assert_null(strchr(err, '\n'));
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, 0); /* nothing written */
        image_meta_done(&m);
}

static void bad_name(struct image_meta *m)
{
        strcpy(m->name, "web 1");
}
static void no_name(struct image_meta *m)
{
        m->name[0] = '\0';
}
static void unterminated_name(struct image_meta *m)
{
        memset(m->name, 'a', sizeof(m->name));
}
static void null_uuid(struct image_meta *m)
{
        memset(m->uuid, 0, 16);
}
static void no_hypervisor(struct image_meta *m)
{
        m->hypervisor[0] = '\0';
}
static void bad_hypervisor(struct image_meta *m)
{
        strcpy(m->hypervisor, "x y");
}
static void control_version(struct image_meta *m)
{
        strcpy(m->xen_version, "4.17\n");
}
static void escaped_version(struct image_meta *m)
{
        memset(m->xen_version, '\\', IMAGE_XEN_VERSION_MAX);
}
static void no_memory(struct image_meta *m)
{
        m->memory_kib = 0;
}
static void no_vcpus(struct image_meta *m)
{
        m->vcpus = 0;
}
static void bad_feature(struct image_meta *m)
{
        strcpy(m->features.poweroff, "x");
}
static void relative_path(struct image_meta *m)
{
        strcpy(m->config_path, "domains.d/web1.conf");
}
static void escaped_path(struct image_meta *m)
{
        m->config_path[0] = '/';
        memset(m->config_path + 1, '\\', 600);
        m->config_path[601] = '\0';
}
static void no_config(struct image_meta *m)
{
        free(m->config_text);
        m->config_text = NULL;
}
static void empty_config(struct image_meta *m)
{
        m->config_text[0] = '\0';
}
static void huge_config(struct image_meta *m)
{
        free(m->config_text);
        m->config_text = malloc(CONFIG_FILE_MAX + 2);
        memset(m->config_text, 'c', CONFIG_FILE_MAX + 1);
        m->config_text[CONFIG_FILE_MAX + 1] = '\0';
}
static void bad_disk(struct image_meta *m)
{
        free(m->disks[1]);
        m->disks[1] = strdup("vdev=floppy, target=/x");
}
static void many_disks(struct image_meta *m)
{
        strv_free(m->disks);
        m->disks = calloc(DISKS_MAX + 2, sizeof(char *));
        for (int i = 0; i < DISKS_MAX + 1; i++)
                m->disks[i] = strdup("vdev=xvda, target=/x");
}

static void test_write_refuses(void **state)
{
        (void)state;
        expect_write_refused(bad_name, "image metadata: name: not a valid domain name");
        expect_write_refused(no_name, "name: missing");
        expect_write_refused(unterminated_name, "not NUL-terminated");
        expect_write_refused(null_uuid, "uuid: missing or null");
        expect_write_refused(no_hypervisor, "hypervisor: missing");
        expect_write_refused(bad_hypervisor, "hypervisor: not a token");
        expect_write_refused(control_version, "xen_version: holds a control character");
        expect_write_refused(escaped_version, "xen_version: too long to be kept");
        expect_write_refused(no_memory, "memory_kib: missing or 0");
        expect_write_refused(no_vcpus, "vcpus: 0 (allowed: 1 to 128)");
        expect_write_refused(bad_feature, "feature_poweroff: 'x' (allowed: \"\", \"0\" or \"1\")");
        expect_write_refused(relative_path, "config_path: not an absolute path");
        expect_write_refused(escaped_path, "config_path: too long to be kept");
        expect_write_refused(no_config, "config_text: missing");
        expect_write_refused(empty_config, "config_text: empty");
        expect_write_refused(huge_config, "config_text: longer than 1048576 bytes");
        expect_write_refused(bad_disk, "disk 1: ");
        expect_write_refused(many_disks, "disks: more than 64");
}

static void test_write_errors(void **state)
{
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ uint8_t *bytes = NULL;
        struct image_meta m;
        size_t len, prefix;
        int p[2], fd;

        (void)state;
        sample_meta(&m);
        /* A reader gone: the error, not a SIGPIPE (the daemon ignores it, as here). */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);
        assert_int_equal(image_write_start(p[1], &m, &err), -EPIPE);
        assert_non_null(strstr(err, "cannot write the image's header: Broken pipe"));
        assert_int_equal(image_write_finish(p[1], -1, &err), -EPIPE);
        assert_non_null(strstr(err, "cannot write the image's END record"));
        close(p[1]);

        /* O_APPEND: pwrite() would append, so the length stays unknown. */
        fd = memfd_create("append", MFD_CLOEXEC);
        assert_int_equal(fcntl(fd, F_SETFL, O_APPEND), 0);
        write_image(fd, &m);
        bytes = fd_bytes(fd, &len);
        prefix = IMAGE_HEADER_SIZE + get_be32(bytes + 32) + IMAGE_LIBXL_SIZE;
        assert_int_equal(len, prefix + sizeof(fake_stream) + 8);
        assert_int_equal(get_be64(bytes + prefix - IMAGE_LIBXL_SIZE), 0);
        close(fd);

        /* A stream start that cannot be image_write_start()'s: nothing is patched. */
        fd = memfd_create("bogus", MFD_CLOEXEC);
        assert_int_equal(image_write_start(fd, &m, &err), 0);
        assert_int_equal(image_write_finish(fd, 5, &err), -EINVAL);
        assert_non_null(strstr(err, "stream start 5 is not where image_write_start() left"));
        close(fd);
        image_meta_done(&m);
}

/* ---- hostile bytes ---- */

/* A read that succeeded must have read back the sample, and stopped at the stream. */
static void check_accepted(int fd, const struct image_meta *got, size_t prefix, uint64_t stream)
{
        struct image_meta want;

        sample_meta(&want);
        assert_meta_equal(&want, got);
        image_meta_done(&want);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)prefix);
        assert_true(got->stream_length <= stream);
}

static void test_bit_flips(void **state)
{
        _cleanup_free_ uint8_t *good = NULL;
        size_t len, prefix;
        unsigned seed = 1;

        (void)state;
        good = good_image(&len, &prefix);
        for (int i = 0; i < 1000; i++) {
                _cleanup_free_ uint8_t *img = malloc(len);
                _cleanup_free_ char *err = NULL;
                _cleanup_close_ int fd = -1;
                struct image_meta m;
                /* Only xensup's and libxl's bytes: the libxc stream is the restorer's. */
                size_t ours = prefix + IMAGE_END_SIZE, at = (size_t)rand_r(&seed) % ours;
                int r;

                if (at >= prefix)
                        at += len - prefix - IMAGE_END_SIZE;
                memcpy(img, good, len);
                img[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
                fd = memfd_with(img, len);
                r = image_read_start(fd, &m, &err);
                if (r < 0) {
                        assert_true(r == -EBADMSG || r == -EPROTONOSUPPORT);
                        assert_non_null(err);
                        assert_null(strchr(err, '\n'));
                        assert_null(m.config_text);
                        continue;
                }
                /* Only a stream length made smaller, or a flip in END, goes unnoticed here. */
                check_accepted(fd, &m, prefix, sizeof(fake_stream));
                image_meta_done(&m);
                assert_true((at >= prefix - IMAGE_LIBXL_SIZE && at < prefix - 24) ||
                            at >= len - IMAGE_END_SIZE);
                assert_int_equal(lseek(fd, (off_t)sizeof(fake_stream), SEEK_CUR), (off_t)(len - 8));
                r = image_read_finish(fd, &err);
                assert_true(r == 0 ? at < len - IMAGE_END_SIZE : r == -EBADMSG);
        }
}

/* Random damage anywhere, random garbage, and random metadata behind a valid checksum. */
static void test_random_bytes(void **state)
{
        _cleanup_free_ uint8_t *good = NULL;
        size_t len, prefix;
        unsigned seed = 2;

        (void)state;
        good = good_image(&len, &prefix);
        for (int i = 0; i < 1000; i++) {
                _cleanup_free_ uint8_t *img = malloc(len);
                _cleanup_free_ char *err = NULL;
                _cleanup_close_ int fd = -1;
                struct image_meta m;
                size_t n = len, meta_len = prefix - IMAGE_HEADER_SIZE - IMAGE_LIBXL_SIZE;
                int r, kind = i % 4;

                memcpy(img, good, len);
                if (kind == 0) {
                        /* A few bits and bytes anywhere, the stream included. */
                        for (int k = 1 + rand_r(&seed) % 8; k > 0; k--)
                                img[(size_t)rand_r(&seed) % len] ^= (uint8_t)rand_r(&seed);
                } else if (kind == 1) {
                        n = (size_t)rand_r(&seed) % (len + 1);
                        for (size_t k = 0; k < n; k++)
                                img[k] = (uint8_t)rand_r(&seed);
                        if (rand_r(&seed) % 2)
                                memcpy(img, good, n < 40 ? n : 40);
                } else {
                        /* Damage the metadata, then make the checksum right again. */
                        size_t from = (size_t)rand_r(&seed) % meta_len;
                        size_t span = 1 + (size_t)rand_r(&seed) % 16;

                        for (size_t k = from; k < from + span && k < meta_len; k++)
                                img[IMAGE_HEADER_SIZE + k] =
                                    kind == 2 ? (uint8_t)rand_r(&seed) : "=\n\\,-:0x"[k % 8];
                        put_be32(img + 36, image_crc32(img + IMAGE_HEADER_SIZE, meta_len));
                }
                fd = memfd_with(img, n);
                r = image_read_start(fd, &m, &err);
                if (r < 0) {
                        assert_true(r == -EBADMSG || r == -EPROTONOSUPPORT);
                        assert_non_null(err);
                        assert_null(strchr(err, '\n'));
                        assert_null(m.config_text);
                        continue;
                }
                /* Accepted: whatever it says passed every check and is well-formed. */
                assert_non_null(m.config_text);
                assert_true(m.name[0] && m.vcpus >= 1 && m.memory_kib >= 1);
                assert_int_equal(lseek(fd, 0, SEEK_CUR),
                                 IMAGE_HEADER_SIZE + get_be32(img + 32) + IMAGE_LIBXL_SIZE);
                image_meta_done(&m);
        }
}

static int setup(void **state)
{
        (void)state;
        make_fake_stream();
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc32),
                cmocka_unit_test(test_file_round_trip),
                cmocka_unit_test(test_longest_fields),
                cmocka_unit_test(test_pipe_direct),
                cmocka_unit_test(test_pipe_dribbled),
                cmocka_unit_test(test_pipe_large_config),
                cmocka_unit_test(test_verify_stream_v2),
                cmocka_unit_test(test_not_an_image),
                cmocka_unit_test(test_version_flags_crc),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_truncated_unknown_length),
                cmocka_unit_test(test_libxl_framing),
                cmocka_unit_test(test_end_record),
                cmocka_unit_test(test_missing_fields),
                cmocka_unit_test(test_creator_absent_is_root),
                cmocka_unit_test(test_malformed_fields),
                cmocka_unit_test(test_sections),
                cmocka_unit_test(test_oversize),
                cmocka_unit_test(test_write_refuses),
                cmocka_unit_test(test_write_errors),
                cmocka_unit_test(test_bit_flips),
                cmocka_unit_test(test_random_bytes),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
