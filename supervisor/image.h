/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image.h — the saved-image file `xensupctl save NAME FILE` writes and `restore FILE` reads:
 * xensup's own header (what the restore needs to know before it creates anything), then the
 * libxl v2 framing around the libxc stream (DEVICES.md C.3), so that
 * `verify-stream-v2 -f libxl` checks everything after xensup's header.
 *
 * This module writes and checks everything but the libxc stream, which the builder's save
 * writes into the same descriptor and its restore reads from it: this module only positions
 * the descriptor. It reads exact sizes and never ahead, so the descriptor may be a pipe or a
 * socket (migration); a regular file may start anywhere (its current offset).
 *
 * The layout (fixed fields big-endian, as libxl's headers; L = metadata length, S = stream
 * length; offsets from the image's start):
 *
 *   off     size  field
 *   0       24    magic "xensup saved domain\n\0\r\n\x1a" (20 printable bytes, then bytes that
 *                 a text-mode copy would mangle)
 *   24      4     format version (1)
 *   28      4     flags (none defined in format 1: must be 0)
 *   32      4     L, metadata length (at most IMAGE_META_MAX)
 *   36      4     CRC-32 of the metadata (zlib's crc32(), IEEE 802.3)
 *   40      L     metadata: sections {u32 type, u32 length, bytes}, see below
 *   40+L    8     S, the libxc stream's length; 0 = unknown (written to a pipe)
 *   48+L    16    libxl header: ident 0x4c6962786c466d74 ("LibxlFmt"), u32 version 2,
 *                 u32 options 0 (bit 0: record endianness, 0 = little, as x86 and arm hosts)
 *   64+L    8     libxl LIBXC_CONTEXT record: u32 type 1, u32 length 0 (little-endian)
 *   72+L    S     the libxc stream (the builder's)
 *   72+L+S  8     libxl END record: u32 type 0, u32 length 0
 *
 * The stream length sits just before the libxl header, at a fixed distance from the stream,
 * so that image_write_finish() can patch it knowing only where the stream began.
 *
 * Metadata sections (types big-endian; a section of an unknown type is skipped, as an unknown
 * key of a record is, so a later xensup may add some; a change a reader must not miss bumps
 * the format version):
 *   1 RECORD  exactly once: "version=1" and key=value lines (layout/record.h's codec): name,
 *             uuid, hypervisor, xen_version, save_time_usec, memory_kib, vcpus,
 *             feature_poweroff, feature_reboot, feature_suspend, vif_macs, config_path,
 *             creator_uid, creator_groups, creator_host_devices (absent: root's)
 *   2 CONFIG  exactly once: the config file's text as the domain runs with it, raw bytes
 *             (no NUL), at most CONFIG_FILE_MAX: a record value is one escaped line of at most
 *             RECORD_VALUE_MAX bytes in a fixed array, and a config is multi-line and larger
 *   3 DISK    once per disk, in order, at most DISKS_MAX: the spec, as disk_write() writes it
 *
 * Errors: every problem with an image's bytes (not an image, bad checksum, malformed metadata,
 * truncated, a missing libxl header or record) is -EBADMSG, a newer format -EPROTONOSUPPORT,
 * metadata image_write_start() would not read back -EINVAL; I/O errors are passed on. Each
 * comes with a one-line message for people in *err_r.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "layout/layout.h"
#include "layout/suspend.h"

#define IMAGE_FORMAT_VERSION  1  /* the format this xensup writes, and the newest it reads */
#define IMAGE_MAGIC_SIZE      24 /* bytes of the magic */
#define IMAGE_HEADER_SIZE     40 /* magic, version, flags, metadata length and checksum */
#define IMAGE_LIBXL_SIZE      32 /* stream length, libxl header, LIBXC_CONTEXT record */
#define IMAGE_END_SIZE        8  /* the libxl END record */
#define IMAGE_HYPERVISOR_MAX  15 /* bytes of the hypervisor kind, without the NUL */
#define IMAGE_XEN_VERSION_MAX 63 /* bytes of the Xen version string, without the NUL */
#define IMAGE_DISK_SPEC_MAX   (2 * 4096 + 256)  /* a disk spec: two paths and the keywords */
#define IMAGE_RECORD_MAX      8192              /* the RECORD section: room for later keys */
#define IMAGE_META_MAX        (4 * 1024 * 1024) /* the metadata, every section included */

/* What an image says about its domain, beside the guest's memory stream. */
struct image_meta {
        char name[DOMAIN_NAME_MAX + 1];              /* required */
        uint8_t uuid[16];                            /* required, not null */
        char hypervisor[IMAGE_HYPERVISOR_MAX + 1];   /* builder_name(): "xen", "sim"; required */
        char xen_version[IMAGE_XEN_VERSION_MAX + 1]; /* e.g. "4.17.3"; "" when unknown */
        uint64_t save_time_usec;                     /* CLOCK_REALTIME; 0 on write: now */
        uint64_t memory_kib;                         /* the guest's memory when saved; >= 1 */
        unsigned vcpus;                              /* 1..VCPUS_MAX */
        struct layout_guest_features features;       /* control/feature-*: "", "0" or "1" */
        uint8_t vif_macs[VIFS_MAX][6];               /* the kept MAC of each vif; 0: none */
        char config_path[LAYOUT_CONFIG_PATH_MAX];    /* the file it ran from; "" if none */
        /* Whose rights its files are opened with (struct creds), as the daemon's record keeps
         * them; believed only from the daemon's own save directory (the host's boot), never
         * from a caller's file. An image without them is root's. */
        uint32_t creator_uid;
        char creator_groups[LAYOUT_GROUPS_MAX]; /* "gid,gid"; "" */
        bool creator_host_devices;
        /* Its history (supervisor/history.h's text), so a restore after the host's reboot,
         * whose XenStore has no record of it, goes on from it; "" none. */
        char history[LAYOUT_HISTORY_MAX];
        char *config_text;      /* owned: the config's text, NUL-terminated; required */
        char **disks;           /* owned: NULL-terminated disk specs (disk_write()'s); NULL: none */
        uint64_t stream_length; /* read: the stream's length the header gives; 0 unknown */
};

/* Free what m owns (config_text, disks) and zero it; for _cleanup_ too. */
void image_meta_done(struct image_meta *m);

/* The CRC-32 of len bytes, as zlib's crc32(0, buf, len): the metadata's checksum. */
uint32_t image_crc32(const void *buf, size_t len);

/*
 * Write xensup's header, the libxl header and the LIBXC_CONTEXT record at fd's offset: fd is
 * then where the libxc stream goes. -EINVAL, with nothing written, for metadata an image must
 * not carry (which field, and what is allowed).
 */
int image_write_start(int fd, const struct image_meta *m, char **err_r);

/*
 * After the libxc stream: write the END record and, when stream_start >= 0 (the offset
 * image_write_start() left, from lseek) and fd is a regular file not opened O_APPEND, patch
 * the stream's length into the header with pwrite, so a truncated file is recognised.
 */
int image_write_finish(int fd, off_t stream_start, char **err_r);

/*
 * Read and check everything before the libxc stream into *m (image_meta_done() it); on
 * success fd is positioned exactly at the stream. Refuses (-EBADMSG, -EPROTONOSUPPORT)
 * what is not a xensup image (with a hint for an `xl save` file), a newer format, a bad
 * checksum, malformed metadata, a regular file shorter than its header says, and a missing or
 * bad libxl header or LIBXC_CONTEXT record. On failure *m is left empty.
 */
int image_read_start(int fd, struct image_meta *m, char **err_r);

/* After the libxc stream was consumed: the END record must follow (-EBADMSG if not). */
int image_read_finish(int fd, char **err_r);
