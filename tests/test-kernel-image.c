/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * builders/kernel-image.c on ELFs built here: the image keeps the headers, the notes and each
 * PT_LOAD's bytes up to its last non-zero one at their offsets, with p_filesz lowered and
 * p_memsz kept, no section headers, and holes where nothing is kept (a memfd's pages are
 * counted); ELF32 as ELF64; every ELF libxenguest would not load the same way is refused.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "builders/kernel-image.h"
#include "common/macros.h"

#define PAGE        4096
#define SEG0_OFF    (4 * PAGE) /* .text: data, then 2 zero pages kept as bss */
#define SEG0_DATA   (PAGE + 100)
#define SEG0_SIZE   (SEG0_DATA + 2 * PAGE)
#define SEG1_OFF    (16 * PAGE) /* .data then a long zeroed tail: the .bss kept in the file */
#define SEG1_DATA   300
#define SEG1_SIZE   (64 * PAGE)
#define NOTE_OFF    (SEG0_OFF + 64) /* the notes sit in the first segment, as Linux's do */
#define FILE_SIZE   (SEG1_OFF + SEG1_SIZE + PAGE) /* section headers after the segments */
#define SHDRS_OFF   (SEG1_OFF + SEG1_SIZE)
#define MEMSZ_EXTRA (8 * PAGE) /* memsz beyond filesz, as a real .bss */

/* Xen's note "Xen" of type t with a 4-byte payload, at p: its length. */
static size_t put_note(unsigned char *p, uint32_t type)
{
        Elf64_Nhdr n = { .n_namesz = 4, .n_descsz = 4, .n_type = type };

        memcpy(p, &n, sizeof(n));
        memcpy(p + sizeof(n), "Xen", 4);
        memcpy(p + sizeof(n) + 4, "\x01\x02\x03\x04", 4);
        return sizeof(n) + 8;
}

struct built_elf {
        unsigned char *data;
        size_t size;
};

/* The ELF and program headers of build_elf(), in the class whose structs ehdr and phdr are. */
#define PUT_HEADERS(d, ehdr, phdr, class, machine, notes)                                          \
        do {                                                                                       \
                ehdr eh = { .e_type = ET_EXEC,                                                     \
                            .e_machine = (machine),                                                \
                            .e_version = EV_CURRENT,                                               \
                            .e_phoff = sizeof(ehdr),                                               \
                            .e_shoff = SHDRS_OFF,                                                  \
                            .e_ehsize = sizeof(ehdr),                                              \
                            .e_phentsize = sizeof(phdr),                                           \
                            .e_phnum = 3,                                                          \
                            .e_shnum = 4,                                                          \
                            .e_shstrndx = 3 };                                                     \
                phdr ph[3] = {                                                                     \
                        { .p_type = PT_LOAD,                                                       \
                          .p_offset = SEG0_OFF,                                                    \
                          .p_filesz = SEG0_SIZE,                                                   \
                          .p_memsz = SEG0_SIZE,                                                    \
                          .p_align = PAGE },                                                       \
                        { .p_type = PT_LOAD,                                                       \
                          .p_offset = SEG1_OFF,                                                    \
                          .p_filesz = SEG1_SIZE,                                                   \
                          .p_memsz = SEG1_SIZE + MEMSZ_EXTRA,                                      \
                          .p_align = PAGE },                                                       \
                        { .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = (notes) },          \
                };                                                                                 \
                                                                                                   \
                memcpy(eh.e_ident, ELFMAG, SELFMAG);                                               \
                eh.e_ident[EI_CLASS] = (class);                                                    \
                eh.e_ident[EI_DATA] = ELFDATA2LSB;                                                 \
                eh.e_ident[EI_VERSION] = EV_CURRENT;                                               \
                memcpy((d), &eh, sizeof(eh));                                                      \
                memcpy((d) + eh.e_phoff, ph, sizeof(ph));                                          \
        } while (0)

/* An ELF of either class: two PT_LOADs, a PT_NOTE inside the first, section headers last. */
static struct built_elf build_elf(bool is64, uint32_t note_type)
{
        unsigned char *d = calloc(1, FILE_SIZE);
        size_t notes;

        assert_non_null(d);
        memset(d + SEG0_OFF, 0xc3, SEG0_DATA);
        memset(d + SEG1_OFF, 0x5a, SEG1_DATA);
        notes = put_note(d + NOTE_OFF, 6 /* XEN_ELFNOTE_GUEST_OS */);
        notes += put_note(d + NOTE_OFF + notes, note_type);
        memset(d + SHDRS_OFF, 0xee, PAGE);
        if (is64)
                PUT_HEADERS(d, Elf64_Ehdr, Elf64_Phdr, ELFCLASS64, EM_X86_64, notes);
        else
                PUT_HEADERS(d, Elf32_Ehdr, Elf32_Phdr, ELFCLASS32, EM_386, (Elf32_Word)notes);
        return (struct built_elf){ .data = d, .size = FILE_SIZE };
}

/* The image of e in a fresh memfd, mapped; *fd_r the memfd. */
static unsigned char *write_image(const struct built_elf *e, int *fd_r, size_t *size_r)
{
        _cleanup_free_ char *err = NULL;
        uint64_t bytes = 0;
        struct stat st;
        void *p;
        int fd = memfd_create("test-kernel-image", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(kernel_image_write(e->data, e->size, fd, &bytes, &err), 0);
        assert_null(err);
        assert_int_equal(fstat(fd, &st), 0);
        *size_r = (size_t)st.st_size;
        p = mmap(NULL, *size_r, PROT_READ, MAP_PRIVATE, fd, 0);
        assert_true(p != MAP_FAILED);
        *fd_r = fd;
        return p;
}

static bool all_zero(const unsigned char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* The fields check_image() checks, read from the image's headers of the class of ehdr, phdr. */
#define GET_HEADERS(img, ehdr, phdr)                                                               \
        do {                                                                                       \
                ehdr eh;                                                                           \
                phdr ph[3];                                                                        \
                                                                                                   \
                memcpy(&eh, (img), sizeof(eh));                                                    \
                memcpy(ph, (img) + eh.e_phoff, sizeof(ph));                                        \
                shoff = eh.e_shoff, shnum = eh.e_shnum, shstrndx = eh.e_shstrndx;                  \
                for (int i = 0; i < 2; i++)                                                        \
                        filesz[i] = ph[i].p_filesz, memsz[i] = ph[i].p_memsz;                      \
                note_filesz = ph[2].p_filesz;                                                      \
        } while (0)

/* What an image must be, whichever the class: checked through the class's own structs. */
static void check_image(bool is64)
{
        struct built_elf e = build_elf(is64, 7 /* XEN_ELFNOTE_GUEST_VERSION: harmless */);
        uint64_t filesz[2], memsz[2], shoff, shnum, shstrndx, note_filesz;
        unsigned char gap[SEG1_OFF - SEG0_OFF - SEG0_DATA];
        unsigned char *img;
        struct stat st;
        size_t size;
        int fd;

        img = write_image(&e, &fd, &size);
        /* Holes: the header page, seg0's page and a bit, seg1's page; nothing between. */
        assert_int_equal(fstat(fd, &st), 0);
        if ((uint64_t)st.st_blocks * 512 > 4 * PAGE)
                fail_msg("the image takes %llu bytes", (unsigned long long)st.st_blocks * 512);
        /* Up to seg1's last non-zero byte: the tail, the section headers dropped. */
        assert_int_equal(size, SEG1_OFF + SEG1_DATA);
        if (is64)
                GET_HEADERS(img, Elf64_Ehdr, Elf64_Phdr);
        else
                GET_HEADERS(img, Elf32_Ehdr, Elf32_Phdr);
        assert_int_equal(note_filesz, 40);
        assert_int_equal(shoff, 0);
        assert_int_equal(shnum, 0);
        assert_int_equal(shstrndx, SHN_UNDEF);
        assert_int_equal(filesz[0], SEG0_DATA);
        assert_int_equal(memsz[0], SEG0_SIZE);
        assert_int_equal(filesz[1], SEG1_DATA);
        assert_int_equal(memsz[1], SEG1_SIZE + MEMSZ_EXTRA);
        /* The bytes the guest gets and the notes, where the ELF had them. */
        assert_memory_equal(img + SEG0_OFF, e.data + SEG0_OFF, SEG0_DATA);
        assert_memory_equal(img + SEG1_OFF, e.data + SEG1_OFF, SEG1_DATA);
        assert_memory_equal(img + NOTE_OFF, e.data + NOTE_OFF, 40);
        /* The identity and everything but the rewritten fields of the header. */
        assert_memory_equal(img, e.data, EI_NIDENT);
        /* Read, not mapped: a read fault on a hole of a memfd would fill it with a page. */
        assert_int_equal(pread(fd, gap, sizeof(gap), SEG0_OFF + SEG0_DATA), sizeof(gap));
        assert_true(all_zero(gap, sizeof(gap)));
        munmap(img, size);
        close(fd);
        free(e.data);
}

static void test_elf64(void **state)
{
        (void)state;
        check_image(true);
}

static void test_elf32(void **state)
{
        (void)state;
        check_image(false);
}

/* kernel_image_write() on e refuses with -ENOTSUP, saying why, and writes nothing. */
static void check_refused(const struct built_elf *e, const char *why)
{
        _cleanup_free_ char *err = NULL;
        uint64_t bytes = 0;
        struct stat st;
        int fd = memfd_create("test-kernel-image", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(kernel_image_write(e->data, e->size, fd, &bytes, &err), -ENOTSUP);
        assert_non_null(err);
        if (!strstr(err, why))
                fail_msg("'%s' does not say '%s'", err, why);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, 0);
        close(fd);
}

static Elf64_Phdr *phdr64(struct built_elf *e, int i)
{
        return (Elf64_Phdr *)(e->data + sizeof(Elf64_Ehdr)) + i;
}

static void test_refusals(void **state)
{
        struct built_elf e;

        (void)state;
        e = build_elf(true, KERNEL_IMAGE_NOTE_BSD_SYMTAB);
        check_refused(&e, "BSD symbol table");
        free(e.data);

        e = build_elf(true, 7);
        e.data[0] = 0x1f; /* still gzip */
        check_refused(&e, "not an ELF");
        e.data[0] = ELFMAG0;
        e.data[EI_DATA] = ELFDATA2MSB;
        check_refused(&e, "big-endian");
        e.data[EI_DATA] = ELFDATA2LSB;
        e.data[EI_CLASS] = 9;
        check_refused(&e, "unknown class");
        e.data[EI_CLASS] = ELFCLASS64;
        check_refused(&(struct built_elf){ .data = e.data, .size = 40 }, "unknown class");
        check_refused(&(struct built_elf){ .data = e.data, .size = 100 }, "beyond the end");

        /* The notes not Xen's: libxenguest would look for them in the sections we drop. */
        memcpy(e.data + NOTE_OFF + sizeof(Elf64_Nhdr), "Gnu", 4);
        memcpy(e.data + NOTE_OFF + 20 + sizeof(Elf64_Nhdr), "Gnu", 4);
        check_refused(&e, "no Xen notes");
        free(e.data);

        e = build_elf(true, 7);
        phdr64(&e, 1)->p_filesz = FILE_SIZE; /* runs past the end */
        check_refused(&e, "beyond the end");
        phdr64(&e, 1)->p_filesz = SEG1_SIZE;
        phdr64(&e, 1)->p_offset = UINT64_MAX - 10; /* wraps */
        check_refused(&e, "beyond the end");
        phdr64(&e, 1)->p_offset = SEG1_OFF;
        phdr64(&e, 0)->p_offset = 0; /* the guest would get the rewritten headers */
        check_refused(&e, "overlaps the ELF headers");
        free(e.data);

        e = build_elf(true, 7);
        ((Elf64_Ehdr *)e.data)->e_phnum = 0;
        check_refused(&e, "no program headers");
        ((Elf64_Ehdr *)e.data)->e_phnum = 3;
        ((Elf64_Ehdr *)e.data)->e_phentsize = 40;
        check_refused(&e, "unknown size");
        free(e.data);
}

/* A note whose lengths run past its segment ends the walk: no read beyond the segment. */
static void test_truncated_note(void **state)
{
        struct built_elf e = build_elf(true, 7);
        Elf64_Nhdr n = { .n_namesz = 4, .n_descsz = 0xfffffff0, .n_type = 6 };

        (void)state;
        memcpy(e.data + NOTE_OFF, &n, sizeof(n));
        check_refused(&e, "no Xen notes");
        free(e.data);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_elf64),
                cmocka_unit_test(test_elf32),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_truncated_note),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
