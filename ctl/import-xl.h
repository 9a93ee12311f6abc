/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * import-xl.h — xensupctl import-xl: xl.cfg files into xensup domain configs.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* The command's texts, for ctl.c's command table and the command's own --help. */
#define IMPORT_XL_SYNOPSIS "[--output-dir DIR] [--force] FILE..."
#define IMPORT_XL_SUMMARY  "convert xl.cfg files into xensup configs"
#define IMPORT_XL_HELP                                                                             \
        "Read each xl.cfg FILE with xl's own parser (libxlutil) and write it as the xensup "       \
        "config DIR/NAME.conf (NAME: its name; DIR: --output-dir, default the current "            \
        "directory; - writes the one FILE's config to standard output). An existing config is "    \
        "kept unless --force is given. name, uuid, type, memory, maxmem, vcpus, maxvcpus, "        \
        "kernel, ramdisk, the on_* actions, disk and vif carry over as they are; cmdline is made " \
        "of cmdline, or root and extra as xl makes it; cap becomes cpu_cap and weight "            \
        "cpu_weight. Each key xensup cannot honour is named on standard error as "                 \
        "'FILE:LINE: KEY: not imported: WHY', and a file that cannot be converted (no kernel, a "  \
        "disk or vif xensup refuses) as 'FILE: not converted' after its problems. Exit status 0 "  \
        "when every FILE was converted, 1 when one was not, 2 for a usage error."

/* How xensupctl wraps a help paragraph: text at 80 columns from col on, later lines indented. */
typedef void (*import_xl_wrap_fn)(FILE *f, size_t col, size_t indent, const char *text);

/*
 * The import-xl command: argv[0] is its name, its options and FILEs follow; wrap prints its
 * --help paragraph. Returns the exit code (0 all converted, 1 one failed, 2 usage); messages go
 * to stderr, "FILE: written to PATH" to stdout.
 */
int import_xl_main(int argc, char **argv, import_xl_wrap_fn wrap);
