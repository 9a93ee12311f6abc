/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs.h — small file-system helpers the daemon's modules share.
 */
#pragma once

#include <sys/types.h>

/* Create path and every missing parent with mode (like mkdir -p); 0 or a negative errno. */
int mkdir_p(const char *path, mode_t mode);
