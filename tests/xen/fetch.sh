#!/usr/bin/env bash
# Fetch and cache what the real-Xen tier boots: the Xen 4.17 hypervisor and
# the Debian kernel (dom0 and guests) from Debian's archive, unpacked under
# $XEN_CACHE (default build/xen-cache). A second run downloads nothing: each
# step is skipped when its output is already there.
#
# Output:
#   $XEN_CACHE/xen               the hypervisor, a multiboot ELF for QEMU -kernel
#   $XEN_CACHE/vmlinuz           the Debian kernel as packaged (dom0)
#   $XEN_CACHE/vmlinux.gz        the same kernel unpacked to its ELF, gzipped (PV guests)
#   $XEN_CACHE/linux/            the kernel package unpacked (modules)
#   $XEN_CACHE/kernel-version    e.g. 6.1.0-56-amd64
set -euo pipefail

cache="${XEN_CACHE:-build/xen-cache}"
mkdir -p "$cache/debs"
cache="$(cd "$cache" && pwd)"

log() { echo "fetch: $*" >&2; }

# apt-get download writes into the current directory; one package at a time
# so a cached .deb is never fetched twice.
download() {
        local pkg="$1" ver deb
        ver="$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')"
        if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
                log "no candidate for $pkg in apt's lists (run apt-get update)"
                return 1
        fi
        # apt encodes ':' of an epoch as %3a in the file name
        deb="$(ls "$cache/debs/${pkg}_"*"_amd64.deb" 2>/dev/null | head -n1 || true)"
        if [ -n "$deb" ]; then
                echo "$deb"
                return 0
        fi
        log "downloading $pkg $ver"
        (cd "$cache/debs" && apt-get download -q "$pkg=$ver" >&2)
        ls "$cache/debs/${pkg}_"*"_amd64.deb" | head -n1
}

# The hypervisor: xen-4.17-amd64.gz is a gzipped 32-bit multiboot ELF.
if [ ! -s "$cache/xen" ]; then
        deb="$(download xen-hypervisor-4.17-amd64)"
        rm -rf "$cache/xen-root"
        dpkg -x "$deb" "$cache/xen-root"
        zcat "$cache/xen-root/boot/xen-4.17-amd64.gz" >"$cache/xen.tmp"
        mv "$cache/xen.tmp" "$cache/xen"
        rm -rf "$cache/xen-root"
fi

# The kernel: the linux-image-6.1.0-*-amd64 that linux-image-amd64 depends on.
# Once one is cached it is kept (a new point release does not force a download).
if [ ! -s "$cache/kernel-version" ]; then
        kpkg="$(apt-cache depends linux-image-amd64 |
                sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)"
        if [ -z "$kpkg" ]; then
                log "cannot tell which kernel linux-image-amd64 depends on"
                exit 1
        fi
        deb="$(download "$kpkg")"
        rm -rf "$cache/linux"
        dpkg -x "$deb" "$cache/linux"
        echo "${kpkg#linux-image-}" >"$cache/kernel-version"
fi
kver="$(cat "$cache/kernel-version")"

if [ ! -s "$cache/vmlinuz" ]; then
        cp "$cache/linux/boot/vmlinuz-$kver" "$cache/vmlinuz"
fi

# The packaged vmlinuz is an xz-compressed bzImage; libxenguest decompresses
# it on every PV build, which costs 6-11 s under emulation. The xz stream
# starts at the magic FD 37 7A 58 5A 00; unpacked to the ELF and gzipped, a
# PV create takes about 2.7 s.
if [ ! -s "$cache/vmlinux.gz" ]; then
        off="$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$cache/vmlinuz" | head -n1 | cut -d: -f1 || true)"
        if [ -z "$off" ]; then
                log "no xz stream in $cache/vmlinuz"
                exit 1
        fi
        # xz complains about the trailing bytes after its stream; the ELF is whole.
        tail -c +"$((off + 1))" "$cache/vmlinuz" | xz -dc 2>/dev/null >"$cache/vmlinux.tmp" || true
        if [ "$(head -c 4 "$cache/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" != "7f454c46" ]; then
                log "the xz stream in vmlinuz is not an ELF kernel"
                exit 1
        fi
        gzip -6 -n <"$cache/vmlinux.tmp" >"$cache/vmlinux.gz.tmp"
        mv "$cache/vmlinux.gz.tmp" "$cache/vmlinux.gz"
        rm -f "$cache/vmlinux.tmp"
fi

log "cached in $cache: xen, vmlinuz and vmlinux.gz (Linux $kver)"
