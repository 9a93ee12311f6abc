#!/usr/bin/env bash
# README's first command: xensupd on the embedded simulator with the example
# domains, on a private session bus, logging to the terminal what it does
# (starts, crashes, restarts, reboots, the throttle giving up) until Ctrl-C.
# DEMO_SECONDS=N stops it after N seconds (for scripts and CI).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
if [ -d "$here/../units/examples" ]; then
        # In the tree: what the build made.
        build="${BUILD:-build}"
        xensupd="$build/xensupd" xensupctl="$build/xensupctl" examples="$here/../units/examples"
else
        # Installed by the xensup-sim package (make install-sim rewrites these paths).
        xensupd=/usr/sbin/xensupd xensupctl=/usr/bin/xensupctl
        examples=/usr/share/xensup-sim/examples
fi
dir="$(mktemp -d /tmp/xensup-demo.XXXXXX)"
# The examples run from a copy: web1's disk is written to, and an installed
# examples directory is read-only.
mkdir "$dir/examples"
cp "$examples"/*.conf "$examples"/kernel-sim "$dir/examples/"
truncate -s 64M "$dir/examples/web1-disk.img"
bus_pid=""
sim_pid=""
cleanup() {
        [ -f "$dir/sim/xensup-sim.pid" ] && sim_pid="$(cat "$dir/sim/xensup-sim.pid")"
        [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
        rm -rf "$dir"
}
trap cleanup EXIT

read -r addr bus_pid < <(dbus-daemon --session --fork --print-address=1 --print-pid=1 | paste -sd' ')
export DBUS_SESSION_BUS_ADDRESS="$addr"
export XENSUP_LOG=stderr

cat <<TXT
xensupd on the simulator, example domains from $examples:
  web1 runs until told, with a disk (a sparse image) and a vif on the simulated
  bridge xenbr0; web2 reboots every 20 s, db1 crashes after 15 s and is
  restarted, flaky crashes every 2 s until the throttle leaves it failed.
In another terminal:  DBUS_SESSION_BUS_ADDRESS=$addr $xensupctl --user list
(and block-list web1, network-list web1)
Ctrl-C stops the daemon (the simulated domains stop with the demo).
TXT

args=(--hypervisor=sim --user --config-dir "$dir/examples" --sim-dir "$dir/sim")
if [ -n "${DEMO_SECONDS:-}" ]; then
        "$xensupd" "${args[@]}" &
        daemon=$!
        sleep "$DEMO_SECONDS"
        "$xensupctl" --user list || true
        kill -TERM "$daemon"
        wait "$daemon"
else
        "$xensupd" "${args[@]}"
fi
