/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "builders/kernel-image.h"
#include "common/debug.h"
#include "common/error.h"
#include "common/macros.h"

/* More program headers than any kernel has: a bound on the work for a hostile file. */
#define PHDRS_MAX 64

/* Where a header field sits, in bytes from its header's start, and its width. */
struct field {
        size_t at;
        size_t size;
};

#define FIELD(type, member)                                                                        \
        {                                                                                          \
                offsetof(type, member), sizeof(((type *)0)->member)                                \
        }

/* The fields read or rewritten, for each ELF class: one code path serves both. */
struct elf_class {
        size_t ehdr_size, phdr_size;
        struct field phoff, phentsize, phnum, shoff, shnum, shstrndx;
        struct field p_type, p_offset, p_filesz;
};

#define ELF_CLASS(ehdr, phdr)                                                                      \
        {                                                                                          \
                sizeof(ehdr), sizeof(phdr), FIELD(ehdr, e_phoff), FIELD(ehdr, e_phentsize),        \
                    FIELD(ehdr, e_phnum), FIELD(ehdr, e_shoff), FIELD(ehdr, e_shnum),              \
                    FIELD(ehdr, e_shstrndx), FIELD(phdr, p_type), FIELD(phdr, p_offset),           \
                    FIELD(phdr, p_filesz)                                                          \
        }

static const struct elf_class elf64 = ELF_CLASS(Elf64_Ehdr, Elf64_Phdr);
static const struct elf_class elf32 = ELF_CLASS(Elf32_Ehdr, Elf32_Phdr);

/* A little-endian field of the header at p. */
static uint64_t get_le(const unsigned char *p, struct field f)
{
        uint64_t v = 0;

        for (size_t i = f.size; i-- > 0;)
                v = v << 8 | p[f.at + i];
        return v;
}

static void put_le(unsigned char *p, struct field f, uint64_t v)
{
        for (size_t i = 0; i < f.size; i++, v >>= 8)
                p[f.at + i] = (unsigned char)v;
}

/* One program header, whichever the ELF class. */
struct segment {
        uint32_t type;
        uint64_t offset;
        uint64_t filesz;
        uint64_t kept; /* of filesz: up to the last non-zero byte (PT_LOAD), all of it else */
};

struct elf_view {
        const unsigned char *data;
        size_t size;
        const struct elf_class *class;
        uint64_t phoff;
        size_t phnum;
        struct segment seg[PHDRS_MAX];
};

static int refuse(char **err_r, const char *why)
{
        return err_setf(err_r, -ENOTSUP, "not cached: %s", why);
}

/* [off, off + len) lies within the file. */
static bool in_file(const struct elf_view *e, uint64_t off, uint64_t len)
{
        return off <= e->size && len <= e->size - off;
}

static int read_header(struct elf_view *e, char **err_r)
{
        if (e->size < EI_NIDENT || memcmp(e->data, ELFMAG, SELFMAG) != 0)
                return refuse(err_r, "the kernel is not an ELF once inflated");
        if (e->data[EI_DATA] != ELFDATA2LSB)
                return refuse(err_r, "a big-endian ELF");
        e->class = e->data[EI_CLASS] == ELFCLASS64   ? &elf64
                   : e->data[EI_CLASS] == ELFCLASS32 ? &elf32
                                                     : NULL;
        if (!e->class || e->size < e->class->ehdr_size)
                return refuse(err_r, "an ELF of an unknown class");
        if (get_le(e->data, e->class->phentsize) != e->class->phdr_size)
                return refuse(err_r, "program headers of an unknown size");
        e->phoff = get_le(e->data, e->class->phoff);
        e->phnum = get_le(e->data, e->class->phnum);
        if (e->phnum == 0 || e->phnum > PHDRS_MAX)
                return refuse(err_r, "no program headers, or too many");
        if (!in_file(e, e->phoff, (uint64_t)e->phnum * e->class->phdr_size))
                return refuse(err_r, "program headers beyond the end of the file");
        return 0;
}

/* Where program header i starts, in the file as in the image. */
static size_t phdr_offset(const struct elf_view *e, size_t i)
{
        return e->phoff + i * e->class->phdr_size;
}

static void read_segment(const struct elf_view *e, size_t i, struct segment *s)
{
        const unsigned char *p = e->data + phdr_offset(e, i);

        *s = (struct segment){
                .type = (uint32_t)get_le(p, e->class->p_type),
                .offset = get_le(p, e->class->p_offset),
                .filesz = get_le(p, e->class->p_filesz),
        };
}

/* How many of len bytes at p to keep: up to and including the last non-zero one. */
static uint64_t nonzero_length(const unsigned char *p, uint64_t len)
{
        uint64_t n = len;

        while (n >= sizeof(uint64_t)) {
                uint64_t w;

                memcpy(&w, p + n - sizeof(w), sizeof(w));
                if (w != 0)
                        break;
                n -= sizeof(w);
        }
        while (n > 0 && p[n - 1] == 0)
                n--;
        return n;
}

/* The notes of one PT_NOTE segment: 1 if one is Xen's, 0 if none; -ENOTSUP for a BSD symtab. */
static int scan_notes(const unsigned char *p, uint64_t len, char **err_r)
{
        bool xen = false;
        uint64_t off = 0;

        while (len - off >= sizeof(Elf64_Nhdr)) {
                Elf64_Nhdr n;
                uint64_t name_len, desc_len;

                memcpy(&n, p + off, sizeof(n));
                off += sizeof(n);
                name_len = ((uint64_t)n.n_namesz + 3) & ~(uint64_t)3;
                desc_len = ((uint64_t)n.n_descsz + 3) & ~(uint64_t)3;
                if (name_len > len - off || desc_len > len - off - name_len)
                        break;
                if (n.n_namesz == 4 && memcmp(p + off, "Xen", 4) == 0) {
                        if (n.n_type == KERNEL_IMAGE_NOTE_BSD_SYMTAB)
                                return refuse(err_r,
                                              "it asks for a BSD symbol table, loaded from the "
                                              "section headers");
                        xen = true;
                }
                off += name_len + desc_len;
        }
        return xen;
}

/* Read every segment, what of it to keep, and whether the notes let the image stand alone. */
static int read_segments(struct elf_view *e, char **err_r)
{
        uint64_t header_end = e->phoff + (uint64_t)e->phnum * e->class->phdr_size;
        bool xen_notes = false;
        int r;

        for (size_t i = 0; i < e->phnum; i++) {
                struct segment *s = &e->seg[i];

                read_segment(e, i, s);
                if (s->type != PT_LOAD && s->type != PT_NOTE)
                        continue;
                if (!in_file(e, s->offset, s->filesz))
                        return refuse(err_r, "a segment beyond the end of the file");
                if (s->type == PT_NOTE) {
                        s->kept = s->filesz;
                        r = scan_notes(e->data + s->offset, s->filesz, err_r);
                        if (r < 0)
                                return r;
                        xen_notes = xen_notes || r > 0;
                } else
                        s->kept = nonzero_length(e->data + s->offset, s->filesz);
                /* The headers are rewritten: the guest must not get the new ones in its memory. */
                if (s->kept > 0 && s->offset < header_end)
                        return refuse(err_r, "a segment overlaps the ELF headers");
        }
        if (!xen_notes)
                return refuse(err_r, "no Xen notes in a PT_NOTE segment");
        return 0;
}

/* The headers as the image has them: each PT_LOAD's p_filesz what is kept, no sections. */
static void rewrite_headers(const struct elf_view *e, unsigned char *h)
{
        put_le(h, e->class->shoff, 0);
        put_le(h, e->class->shnum, 0);
        put_le(h, e->class->shstrndx, SHN_UNDEF);
        for (size_t i = 0; i < e->phnum; i++)
                if (e->seg[i].type == PT_LOAD)
                        put_le(h + phdr_offset(e, i), e->class->p_filesz, e->seg[i].kept);
}

static int write_at(int fd, const void *buf, uint64_t len, uint64_t off, char **err_r)
{
        const unsigned char *p = buf;

        while (len > 0) {
                ssize_t k = pwrite(fd, p, len, (off_t)off);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return err_setf(err_r, k < 0 ? -errno : -EIO,
                                        "write the kernel's loadable image: %s",
                                        k < 0 ? strerror(errno) : "nothing written");
                p += k;
                off += (uint64_t)k;
                len -= (uint64_t)k;
        }
        return 0;
}

void kernel_image_discard(int fd)
{
        /* Only its pages are at stake: whoever filled fd says the image is not there. */
        if (ftruncate(fd, 0) < 0)
                debug_printf("cannot empty a partial kernel image: %s", strerror(errno));
}

int kernel_image_write(const void *elf, size_t size, int fd, uint64_t *bytes_r, char **err_r)
{
        struct elf_view e = { .data = elf, .size = size };
        _cleanup_free_ unsigned char *headers = NULL;
        uint64_t header_len, bytes;
        int r;

        r = read_header(&e, err_r);
        if (r >= 0)
                r = read_segments(&e, err_r);
        if (r < 0)
                return r;
        header_len = e.phoff + (uint64_t)e.phnum * e.class->phdr_size;
        headers = malloc(header_len);
        if (!headers)
                return err_setf(err_r, -ENOMEM, "out of memory");
        memcpy(headers, e.data, header_len);
        rewrite_headers(&e, headers);
        r = write_at(fd, headers, header_len, 0, err_r);
        bytes = header_len;
        for (size_t i = 0; r >= 0 && i < e.phnum; i++) {
                const struct segment *s = &e.seg[i];

                if (s->kept == 0)
                        continue;
                r = write_at(fd, e.data + s->offset, s->kept, s->offset, err_r);
                bytes += s->kept;
        }
        if (r < 0)
                return r;
        *bytes_r = bytes;
        return 0;
}
