/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel-image.h — a guest kernel's loadable image: its decompressed ELF cut down to what a PV
 * or PVH build reads of it, which the kernel cache (supervisor/kernel-cache.h) keeps so that a
 * restart inflates nothing.
 *
 * libxenguest loads a kernel by copying each PT_LOAD segment's file bytes into guest memory and
 * zeroing the rest of the segment's memsz, and finds the Xen notes in the PT_NOTE segments. So
 * the image keeps, at their original offsets, the ELF header, the program headers, the PT_NOTE
 * data and each PT_LOAD's data up to its last non-zero byte; each PT_LOAD's p_filesz is lowered
 * to what is kept (p_memsz stays, so the guest's memory is the same byte for byte), and the
 * section headers, which no build reads, are dropped. The rest of the file is a hole. Debian's
 * 6.1 kernel is a 66 MB ELF, 23 MB of it the zeroed .bss, .brk and .init.scratch of its last
 * segment: its image holds 34 MB.
 *
 * Only what libxenguest would load the same way is cut down: a little-endian ELF32 or ELF64
 * whose Xen notes are in a PT_NOTE segment, that asks for no BSD symbol table (loaded from the
 * section headers), and whose headers share no byte with a segment the guest gets.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The ELF note type of XEN_ELFNOTE_BSD_SYMTAB (xen/include/public/elfnote.h). */
#define KERNEL_IMAGE_NOTE_BSD_SYMTAB 11

/*
 * Write the loadable image of the ELF at elf (size bytes) into fd, which must be empty and
 * seekable (a memfd); *bytes_r is the data written. -ENOTSUP, with the reason, for an ELF not
 * cut down (see above: the build then loads the file whole), or a write's -errno; fd may then
 * hold part of an image, for the caller to drop.
 */
int kernel_image_write(const void *elf, size_t size, int fd, uint64_t *bytes_r, char **err_r);

/* Empty fd again after an image that was not written whole, freeing its pages (best effort). */
void kernel_image_discard(int fd);
