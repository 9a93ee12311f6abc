#!/usr/bin/env bash
# Install from Debian 12's packages what one part of xensup's work needs:
#   tests/install-deps.sh GROUP...
#   build    compiling the daemon, xensupctl, the simulator, the test binaries, the man pages
#   run      running the demo (a private dbus-daemon)
#   test     make check and lint (check-asan, check-valgrind, the fuzzers)
#   xen      make check-xen and bench-xen (Xen under QEMU)
#   package  make check-package (dpkg-buildpackage, lintian)
# Only the packages not yet installed are asked for, so a machine that has them all
# needs neither root nor the network.
set -euo pipefail

declare -A group=(
        [build]="build-essential pkg-config git libxen-dev libconfuse-dev libsystemd-dev
                 libmnl-dev libcmocka-dev scdoc"
        [run]="dbus-daemon dbus-bin util-linux procps"
        [test]="dbus dbus-daemon dbus-bin systemd util-linux procps xenstore-utils xen-utils-4.17
                libxml2-utils polkitd valgrind clang-format cppcheck python3 bash-completion
                clang libclang-rt-14-dev man-db groff-base"
        [xen]="qemu-system-x86 busybox-static iproute2 xen-utils-4.17 python3"
        [package]="dpkg-dev debhelper lintian fakeroot man-db"
)

if [ "$#" -eq 0 ]; then
        echo "usage: tests/install-deps.sh build|run|test|xen|package..." >&2
        exit 2
fi
wanted=()
for g in "$@"; do
        if [ -z "${group[$g]+set}" ]; then
                echo "install-deps: unknown group '$g' (build, run, test, xen, package)" >&2
                exit 2
        fi
        read -r -d '' -a pkgs <<<"${group[$g]}" || true
        wanted+=("${pkgs[@]}")
done

missing=()
for p in "${wanted[@]}"; do
        status=$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null || true)
        [ "${status:0:2}" = ii ] || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing ${missing[*]}; run as root (apt-get needs it)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
