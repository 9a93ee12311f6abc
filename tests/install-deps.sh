#!/usr/bin/env bash
# Install from Debian 12's packages everything xensup's build and tests need.
set -euo pipefail

packages=(
        build-essential pkg-config git
        libxen-dev libconfuse-dev libsystemd-dev libcmocka-dev libmnl-dev
        xenstore-utils xen-utils-4.17
        dbus dbus-daemon dbus-bin systemd util-linux procps libxml2-utils polkitd
        valgrind clang-format cppcheck python3 bash-completion
        clang libclang-rt-14-dev
        qemu-system-x86 busybox-static iproute2
)
if [ "$(id -u)" -ne 0 ]; then
        echo "make deps: run as root (apt-get needs it)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
