/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * device.h — a domain's disks and network interfaces as a config names them:
 * one entry of `disk = { }` in xl-disk-configuration(5) syntax, one entry of
 * `vif = { }` in xl-network-configuration(5) syntax, parsed, checked on its
 * own and written back.
 *
 * This module knows the syntax and what a single entry may hold; it touches
 * no file. What needs the file system (a target's type and access) or several
 * entries (a vdev or MAC used twice, the limits) is config.c's.
 *
 * A parse error is -EINVAL with a one-line message "what: problem (allowed:
 * ...)" in the caller's buffer, bytes from the entry shown as \xNN when not
 * printable ASCII; config.c prefixes "FILE:LINE: disk: ".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Entries a config may hold: far beyond real guests, small enough for one XenStore sweep. */
#define DISKS_MAX 64
#define VIFS_MAX  16

/* Bytes of an interface name, as Linux's IFNAMSIZ less the NUL. */
#define IFNAME_MAX 15

/* Room for one entry's error message. */
#define DEVICE_ERROR_MAX 512

/* One `disk` entry. */
struct disk_config {
        uint32_t devid; /* the virtual device number vdev decodes to (xen-vbd-interface(7)) */
        char *vdev;     /* as written, e.g. "xvda"; the guest sees this name */
        char *target;   /* as written; config.c makes it absolute */
        char *script;   /* script= or NULL: an external block script prepares target */
        bool readonly;  /* access=ro (always for a cdrom) */
        bool cdrom;     /* devtype=cdrom */
        unsigned line;  /* where the entry is in its file (0 = not from a file); not compared */
};

/* One `vif` entry. */
struct vif_config {
        bool has_mac; /* mac= given; else the daemon generates one (and keeps it) */
        uint8_t mac[6];
        char *bridge;  /* NULL = unset (the daemon's default bridge) */
        char *vifname; /* NULL = the default vifDOMID.DEVID */
        unsigned mtu;  /* 0 = unset (the bridge's) */
        char *script;  /* NULL = the native vif-bridge work */
        char *rate;    /* as written (NULL = unlimited); parsed into the next two */
        uint64_t rate_bytes_per_sec;
        uint32_t rate_interval_usecs; /* the credit's replenish interval, 50000 by default */
        char **ips;                   /* NULL-terminated, or NULL: ip= addresses, as written */
        unsigned line;                /* as disk_config.line */
};

/**
 * vdev_to_devid() - decode a vdev name into Xen's virtual device number, as
 * libxl__device_disk_dev_number() does: xvdX[N] and dDpP, hdX[N], sdX[N], or a
 * plain number (decimal, 0x hex or 0 octal) up to INT_MAX. Returns 0 or -EINVAL.
 */
int vdev_to_devid(const char *vdev, uint32_t *devid_r);

/** disk_parse() - parse one disk entry into *d (zeroed first). Returns 0, -EINVAL or -ENOMEM. */
int disk_parse(const char *spec, struct disk_config *d, char error[DEVICE_ERROR_MAX]);

/** disk_write() - write d as a keyword-form entry that disk_parse() reads back equal. */
void disk_write(FILE *f, const struct disk_config *d);

/** disk_config_done() - free what d holds and zero it. */
void disk_config_done(struct disk_config *d);

/** disk_config_copy() - deep copy of src into *dst. Returns 0 or -ENOMEM (*dst zeroed). */
int disk_config_copy(struct disk_config *dst, const struct disk_config *src);

/** disk_config_equal() - the same disk (line aside). */
bool disk_config_equal(const struct disk_config *a, const struct disk_config *b);

/** vif_parse() - parse one vif entry into *v (zeroed first). Returns 0, -EINVAL or -ENOMEM. */
int vif_parse(const char *spec, struct vif_config *v, char error[DEVICE_ERROR_MAX]);

/** vif_write() - write v as an entry that vif_parse() reads back equal. */
void vif_write(FILE *f, const struct vif_config *v);

/** vif_config_done() - free what v holds and zero it. */
void vif_config_done(struct vif_config *v);

/** vif_config_copy() - deep copy of src into *dst. Returns 0 or -ENOMEM (*dst zeroed). */
int vif_config_copy(struct vif_config *dst, const struct vif_config *src);

/** vif_config_equal() - the same interface (line aside). */
bool vif_config_equal(const struct vif_config *a, const struct vif_config *b);

/** vif_rate_bytes_per_interval() - the credit per interval, as libxl computes it. */
uint64_t vif_rate_bytes_per_interval(const struct vif_config *v);

/* Bytes of a MAC as text, "xx:xx:xx:xx:xx:xx", with its NUL. */
#define MAC_STRLEN 18

/** mac_format() - mac as lowercase "xx:xx:xx:xx:xx:xx" into buf; returns buf. */
const char *mac_format(const uint8_t mac[6], char buf[MAC_STRLEN]);

/** mac_parse() - exactly "xx:xx:xx:xx:xx:xx", hex digits of either case. 0 or -EINVAL. */
int mac_parse(const char *s, uint8_t mac[6]);

/* Bytes of a list of MACs by vif index (mac_list_format()), with its NUL. */
#define MAC_LIST_STRLEN (VIFS_MAX * MAC_STRLEN)

/**
 * mac_list_format() - the MAC of each vif by index, as a domain's record and a saved image
 * keep them: "m0,m1,-,...", "-" for a vif that has none (all-zero), up to the last one.
 */
void mac_list_format(const uint8_t macs[VIFS_MAX][6], char buf[MAC_LIST_STRLEN]);

/** mac_list_parse() - mac_list_format()'s text back into macs (zeroed first); or -EINVAL. */
int mac_list_parse(const char *text, uint8_t macs[VIFS_MAX][6]);

/** ifname_is_valid() - a name Linux accepts for a network interface. */
bool ifname_is_valid(const char *name);
