#!/usr/bin/env bash
# Build the two initramfs images of the real-Xen tier (cpio newc, gzip):
#   $XEN_RUN/guest-initrd.gz  static busybox + guest-init.sh (tiny PV guests)
#       + the blkfront and netfront modules
#   $XEN_RUN/dom0-initrd.gz   the test dom0: busybox, the Xen kernel modules
#       (and the device backends, loop, brd, bridge), xenstored, xenconsoled,
#       xen-init-dom0, xenstore-utils, xl, dbus-daemon and busctl with their
#       libraries (and libgcc_s.so.1, which glibc loads for pthread_cancel
#       without ldd knowing), what Debian's hotplug scripts need (bash, flock,
#       util-linux losetup, iproute2 ip, /etc/xen/scripts), xensupd and
#       xensupctl when $BUILD has them, the guest kernel and initramfs, and the
#       scenarios.
# Needs fetch.sh's cache ($XEN_CACHE). Rebuilt on every run: a few seconds.
set -euo pipefail

src="$(cd "$(dirname "$0")/../.." && pwd)"
here="$src/tests/xen"
cache="$(cd "${XEN_CACHE:-build/xen-cache}" && pwd)"
out="${XEN_RUN:-build/xen-run}"
build="${BUILD:-build}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
kver="$(cat "$cache/kernel-version")"
busybox=/bin/busybox

log() { echo "mkinitrd: $*" >&2; }

# Files whose absence breaks the tier: fail loudly, naming the package.
need() {
        if [ ! -e "$1" ]; then
                log "missing $1 (install $2: make deps)"
                exit 1
        fi
}
need "$busybox" busybox-static
need /usr/lib/xen-4.17/bin/xl xen-utils-4.17
need /usr/bin/xenstore xenstore-utils
need /usr/bin/dbus-daemon dbus-daemon
# xl's hotplug scripts (DEVICES.md D, option b): Debian's own, run by bash.
need /etc/xen/scripts/block xen-utils-common
need /bin/bash bash
need /usr/bin/flock util-linux
need /sbin/losetup mount

# copy_bin ROOT FILE [DEST]: FILE (as DEST) and every library ldd names.
copy_bin() {
        local root="$1" file="$2" dest="${3:-$2}" lib
        mkdir -p "$root$(dirname "$dest")"
        cp -L "$file" "$root$dest"
        for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*'); do
                [ -e "$root$lib" ] && continue
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
        done
}

# copy_mods ROOT MODULE...: kernel modules (paths under kernel/) from the
# cached kernel package, then a busybox depmod over what ROOT holds.
copy_mods() {
        local root="$1" m f
        shift
        for m in "$@"; do
                f="$moddir/kernel/$m.ko"
                if [ ! -f "$cache/linux/$f" ]; then
                        log "missing $f in $cache/linux (the kernel package fetch.sh unpacked)"
                        exit 1
                fi
                mkdir -p "$root/$(dirname "$f")"
                cp "$cache/linux/$f" "$root/$f"
        done
        cp "$cache/linux/$moddir/modules.order" "$cache/linux/$moddir/modules.builtin" "$root/$moddir/" 2>/dev/null || true
        "$busybox" depmod -b "$root" "$kver"
}
moddir="lib/modules/$kver"

# pack ROOT OUTPUT: cpio newc of ROOT, gzipped.
pack() {
        (cd "$1" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -6 -n >"$2.tmp"
        mv "$2.tmp" "$2"
}

# --- the guest ---
groot="$out/guest-root"
rm -rf "$groot"
mkdir -p "$groot/bin" "$groot/dev" "$groot/proc" "$groot/sys"
cp "$busybox" "$groot/bin/busybox"
install -m 755 "$here/guest-init.sh" "$groot/init"
# The PV frontends for xentest.disk / xentest.net (guest-init.sh loads them).
copy_mods "$groot" drivers/block/xen-blkfront drivers/net/xen-netfront
pack "$groot" "$out/guest-initrd.gz"

# --- dom0 ---
root="$out/dom0-root"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,root,var/lib/xen,var/log/xen/console}
mkdir -p "$root"/etc/{dbus-1/system.d,xentest,xen} "$root/guest" "$root/xentest/scenarios"
cp "$busybox" "$root/bin/busybox"
install -m 755 "$here/dom0-init.sh" "$root/init"

# Kernel modules for /dev/xen/{evtchn,privcmd,gntdev,gntalloc} and xenfs;
# the vbd and vif backends, loop devices for file images, brd (/dev/ram0, a
# phy target) and the bridge (with stp and llc, which depmod finds).
copy_mods "$root" drivers/xen/xen-evtchn drivers/xen/xen-privcmd drivers/xen/xen-gntdev \
        drivers/xen/xen-gntalloc drivers/xen/xenfs/xenfs \
        drivers/block/xen-blkback/xen-blkback drivers/net/xen-netback/xen-netback \
        drivers/block/loop drivers/block/brd net/bridge/bridge net/802/stp net/llc/llc

for b in xenstored xenconsoled xen-init-dom0 xl xenstore-control; do
        copy_bin "$root" "/usr/lib/xen-4.17/bin/$b" "/usr/sbin/$b"
done
# xl save and restore run libxc's stream in this helper, where libxl looks for it.
copy_bin "$root" /usr/lib/xen-4.17/bin/libxl-save-helper /usr/lib/xen-4.17/bin/libxl-save-helper
# xenstore-utils: one binary that acts by the name it is called.
copy_bin "$root" /usr/bin/xenstore /usr/bin/xenstore
for n in ls read write rm list exists chmod watch; do
        ln -sf xenstore "$root/usr/bin/xenstore-$n"
done
copy_bin "$root" /usr/bin/dbus-daemon
copy_bin "$root" /usr/bin/dbus-send
copy_bin "$root" /usr/bin/busctl
copy_bin "$root" /usr/bin/setpriv
copy_bin "$root" /lib/x86_64-linux-gnu/libgcc_s.so.1

# Debian's hotplug scripts, which xl runs for every disk and vif: bash, and
# the util-linux and iproute2 tools whose output and options they expect
# (busybox's losetup -a differs, busybox has no flock). The busybox applets
# of the same names stay in /sbin; these come first on PATH (/usr before /).
copy_bin "$root" /bin/bash /bin/bash
copy_bin "$root" /usr/bin/flock /usr/bin/flock
copy_bin "$root" /sbin/losetup /usr/sbin/losetup
# iproute2 is not in every minimal Debian: without it, busybox's ip (enough
# for vif-bridge, which uses brctl for the bridge itself) serves.
iproute2=/bin/ip
if [ -x "$iproute2" ]; then
        copy_bin "$root" "$iproute2" /usr/bin/ip
else
        log "no $iproute2 (install iproute2): the hotplug scripts get busybox's ip"
fi
mkdir -p "$root/etc/xen/scripts"
for f in block block-common.sh xen-hotplug-common.sh xen-script-common.sh hotplugpath.sh \
        logging.sh locking.sh vif-bridge vif-common.sh xen-network-common.sh; do
        need "/etc/xen/scripts/$f" xen-utils-common
        cp -p "/etc/xen/scripts/$f" "$root/etc/xen/scripts/$f"
done

# xensupd and xensupctl as `make` built them (the real backend is in the
# same binary; --hypervisor=xen selects it).
if [ -x "$build/xensupd" ] && [ -x "$build/xensupctl" ]; then
        copy_bin "$root" "$build/xensupd" /usr/sbin/xensupd
        copy_bin "$root" "$build/xensupctl" /usr/bin/xensupctl
        # make bench-xen prints the floor of the layout's requests beside the count.
        [ -x "$build/bench-layout" ] && copy_bin "$root" "$build/bench-layout" /usr/bin/bench-layout
        log "with $build/xensupd and $build/xensupctl"
else
        log "no $build/xensupd or $build/xensupctl: the xensupd scenarios will fail"
fi
# xensup's D-Bus policy, as installed on a real system.
for f in "$src"/units/*.conf; do
        [ -f "$f" ] && grep -q '<busconfig' "$f" && cp "$f" "$root/etc/dbus-1/system.d/"
done
cp "$here/dom0-bus.conf" "$root/etc/xentest/dbus-system.conf"
# xl warns on every command without it; the defaults are what we want.
: >"$root/etc/xen/xl.conf"

# xsadmin: a member of the admin group, who must never act as root on files.
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'messagebus:x:100:101::/nonexistent:/bin/false' \
        'xsadmin:x:1000:1000::/nonexistent:/bin/false' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'messagebus:x:101:' 'xensup:x:102:xsadmin' 'xsadmin:x:1000:' \
        'nogroup:x:65534:' >"$root/etc/group"
echo 3d1219c7c4c5404aaa1f6d2a48adfda4 >"$root/etc/machine-id"
mkdir -p "$root/var/lib/dbus"
cp "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"

# The guest: the kernel unpacked to its ELF and gzipped (fast PV builds).
cp "$cache/vmlinux.gz" "$root/guest/vmlinux.gz"
cp "$out/guest-initrd.gz" "$root/guest/initrd.gz"

cp "$here/lib.sh" "$root/xentest/lib.sh"
cp "$here"/scenarios/*.sh "$here"/bench/*.sh "$here"/extra/*.sh "$root/xentest/scenarios/"
# The scenarios shared with the simulator tier (tests/test-supervisor.sh).
mkdir -p "$root/xentest/shared"
cp "$src"/tests/scenarios/*.sh "$root/xentest/shared/"

pack "$root" "$out/dom0-initrd.gz"
log "$out/dom0-initrd.gz: $(du -k "$out/dom0-initrd.gz" | cut -f1) KiB, $out/guest-initrd.gz: $(du -k "$out/guest-initrd.gz" | cut -f1) KiB"
