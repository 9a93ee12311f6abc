/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * script.h — a site's own hotplug script (script= on a disk or vif) run instead
 * of the native host side, with the arguments and environment libxl gives it
 * (DEVICES.md A.5, B.2): "add"/"remove" for a vbd, "online"/"offline
 * type_if=vif" for a vif; script, XENBUS_TYPE, XENBUS_PATH (relative to
 * /local/domain/0), XENBUS_BASE_PATH and, for a vif, vif and netdev. It runs as
 * root, so it must be root's file, writable by root alone.
 */
#pragma once

#include <stdbool.h>

#include "layout/devices.h"
#include "layout/layout.h"

/* Where a script= that is not a path is looked for (Debian's xen-utils-common). */
#define SCRIPT_DIR "/etc/xen/scripts"

/* libxl's LIBXL_HOTPLUG_TIMEOUT: how long a script may take to bring a device up. */
#define SCRIPT_TIMEOUT_MS 40000

/* And to take one down (the daemon waits for it while it tears the device down). */
#define SCRIPT_REMOVE_TIMEOUT_MS 10000

/*
 * The script= value name as the path that runs: an absolute path as it is, else SCRIPT_DIR/name.
 * It must be a regular file owned by root that no one else may write, or -EPERM saying so.
 */
int script_resolve(const char *name, char path[LAYOUT_DEVICE_SCRIPT_MAX], char **err_r);

/*
 * Run dev's script to bring it up (up) or take it down, at most timeout_ms: 0, or a negative
 * errno with what failed: its exit status or the timeout, and what it said (its hotplug-error
 * node, else the end of its stderr).
 */
int script_run(struct layout *l, const struct layout_device *dev, bool up, unsigned timeout_ms,
               char **err_r);
