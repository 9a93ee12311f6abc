#!/usr/bin/env bash
# bench-supervisor: xensupd supervising N (default 1000) domains on xensup-sim.
# Prints figures and ratios; it never passes or fails on them (it fails only
# when the run itself breaks, e.g. the domains never all come up).
#
#   start:    daemon exec to all N autostart domains unpaused (sim's UNPAUSE counter)
#   xenstore: requests the XenStore server served per domain create (its
#             sim-stats CONTROL counter), with the simulated guests' own share
#   storm:    all N crash at once: time until all N are unpaused again, and the
#             hypervisor list scans the daemon used (sim's LIST counter)
#   memory:   daemon VmRSS and Pss (smaps_rollup) with 0 and N domains, the
#             difference per domain; xensup-sim's own, idle and with N domains
#   cpu:      the daemon's utime+stime (/proc/PID/stat, getconf CLK_TCK ticks) over
#             the start and over the storm, each up to its last domain unpaused
#
# Its last line, `BENCH key=value ...`, holds the same figures for a script:
# bench/bench-curve.sh runs this for several N and prints how each one grows.
#
# usage: bench/bench-supervisor.sh [N]     (make bench-supervisor SIZES=N)
set -euo pipefail

n=${1:-${N:-1000}}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/bench-supervisor.sh [N]" >&2; exit 2; }
src="${XENSUP_SRC:-$(pwd)}"
build="${XENSUP_BUILD:-$src/build}"
work="$(mktemp -d /tmp/xensup-bench.XXXXXX)"
conf="$work/conf"
export XENSTORED_PATH="$work/sim/xenstored.socket" XENSUP_LOG=stderr

# Set before anything can fail, so a broken run leaves no $work behind.
bus_pid="" sim_pid="" daemon_pid=""
cleanup() {
        [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
        [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
        wait 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$conf" "$work/sim" "$work/bin"
# Private copies: a rebuild in the tree meanwhile must not swap binaries under the bench.
for p in xensupd xensup-sim xensupctl tests/sim-tool; do
        cp "$build/$p" "$work/bin/"
done
bin="$work/bin"
echo "not a kernel: the simulator does not boot kernels" >"$work/vmlinuz"

die() {
        echo "bench-supervisor: $*" >&2
        [ -f "$work/daemon.log" ] && tail -5 "$work/daemon.log" >&2
        exit 1
}

read -r DBUS_SESSION_BUS_ADDRESS bus_pid < <(dbus-daemon --session --fork --print-address=1 \
        --print-pid=1 | paste -sd' ')
export DBUS_SESSION_BUS_ADDRESS

# 64 MiB a domain, as the configs ask, and 2 GiB spare for dom0.
"$bin/xensup-sim" --dir "$work/sim" --memory-mib $((n * 64 + 2048)) 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 50); do [ -S "$work/sim/hypervisor.socket" ] && break; sleep 0.1; done

sim_tool() { "$bin/sim-tool" --sim-dir "$work/sim" "$@"; }
ctl() { "$bin/xensupctl" --user "$@"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { echo $((($(now_us) - $1) / 1000)); }
clk_tck=$(getconf CLK_TCK)

# cpu_ticks PID: utime+stime of PID in clock ticks, fields 14 and 15 of /proc/PID/stat,
# counted after the ")" that ends comm, since comm may hold spaces.
cpu_ticks() {
        local stat f
        stat=$(<"/proc/$1/stat")
        read -r -a f <<<"${stat##*) }"
        echo $((f[11] + f[12]))
}

# kib PID FIELD: a "Field:   N kB" line of /proc/PID/status or smaps_rollup, in KiB.
kib() {
        local file=/proc/$1/status
        [ "$2" = Pss ] && file=/proc/$1/smaps_rollup
        awk -v f="$2:" '$1 == f { print $2; exit }' "$file"
}

# /usr/bin/xenstore-control is Debian's wrapper, which wants a running Xen: call the tool itself.
xs_control=xenstore-control
for p in /usr/lib/xen-*/bin/xenstore-control; do [ -x "$p" ] && xs_control=$p; done

# The XenStore server's request count (global, the sim-stats call itself included).
xs_requests() {
        "$xs_control" sim-stats | sed -n 's/.*global=\([0-9]*\).*/\1/p'
}

daemon_start() {
        "$bin/xensupd" --hypervisor=sim --user --config-dir "$conf" --sim-dir "$work/sim" \
                2>>"$work/daemon.log" &
        daemon_pid=$!
        for _ in $(seq 100); do
                busctl --user status org.xensup.supervisor1 >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        die "xensupd did not come up"
}
daemon_stop() {
        kill -TERM "$daemon_pid"
        wait "$daemon_pid" || true
        daemon_pid=""
}

# wait_unpaused TARGET SECONDS: until the sim's UNPAUSE counter reaches TARGET.
wait_unpaused() {
        local deadline=$((SECONDS + $2)) v
        while :; do
                v=$(sim_tool stats unpause) || die "sim-tool stats failed"
                [ "$v" -ge "$1" ] && return 0
                [ "$SECONDS" -le "$deadline" ] || die "UNPAUSE counter at $v, wanted $1 (after $2 s)"
                sleep 0.02
        done
}

# running_with RESTARTS: how many domains the daemon reports running with that restart_count.
running_with() {
        ctl --json list | python3 -c '
import json, sys
want = int(sys.argv[1])
print(sum(1 for d in json.load(sys.stdin) if d["state"] == "running" and d["restart_count"] == want))' "$1"
}

echo "bench-supervisor: $n domains on xensup-sim ($(nproc) CPUs, $(uname -r))"
sim_rss0=$(kib "$sim_pid" VmRSS) sim_pss0=$(kib "$sim_pid" Pss)

# --- the daemon with no domains
daemon_start
sleep 0.5
rss0=$(kib "$daemon_pid" VmRSS) pss0=$(kib "$daemon_pid" Pss)
daemon_stop

# --- start-up of N autostart domains
for i in $(seq -w 1 "$n"); do
        cat >"$conf/b$i.conf" <<EOF
name = "b$i"
type = "pv"
memory = 64
kernel = "$work/vmlinuz"
on_crash = "restart"
restart { burst = 16 interval = 60 }
sim {
  run_seconds = 0
  exit = "poweroff"
  on_shutdown_request = "obey"
}
EOF
done
unpause0=$(sim_tool stats unpause)
xs0=$(xs_requests)
t0=$(now_us)
daemon_start
wait_unpaused $((unpause0 + n)) 600
start_ms=$(ms_since "$t0")
cpu_start=$(cpu_ticks "$daemon_pid")
creates=$(sim_tool stats create)
# Let the guests boot (feature writes, control/shutdown watch) before counting them in.
# A list of N domains through xensupctl takes longer as N grows: so does the wait.
boot_wait=$((60 + n / 100))
deadline=$((SECONDS + boot_wait))
until [ "$(running_with 0)" -eq "$n" ]; do
        [ "$SECONDS" -le "$deadline" ] || die "the daemon reports $(running_with 0) of $n running"
        sleep 0.2
done
sleep 1
xs2=$(xs_requests)
rss1=$(kib "$daemon_pid" VmRSS) pss1=$(kib "$daemon_pid" Pss)
sim_rss1=$(kib "$sim_pid" VmRSS) sim_pss1=$(kib "$sim_pid" Pss)

# --- a storm: every domain crashes at once
unpause1=$(sim_tool stats unpause)
cpu_storm0=$(cpu_ticks "$daemon_pid")
out=$(sim_tool guest-action-all crash)
t1=$(now_us)
list0=$(sed -n 's/.*list_before=\([0-9]*\).*/\1/p' <<<"$out")
fire_us=$(sed -n 's/.*usec=\([0-9]*\).*/\1/p' <<<"$out")
wait_unpaused $((unpause1 + n)) 600
storm_ms=$(ms_since "$t1")
cpu_storm=$(($(cpu_ticks "$daemon_pid") - cpu_storm0))
list1=$(sim_tool stats list)
domains=$(sim_tool stats domains)
deadline=$((SECONDS + boot_wait))
until [ "$(running_with 1)" -eq "$n" ]; do
        [ "$SECONDS" -le "$deadline" ] || die "after the storm $(running_with 1) of $n run again"
        sleep 0.2
done

# One scan lists the whole host, HV_LIST_BATCH (256) domains per LIST call.
per_scan=$((domains / 256 + 1))
calls=$((list1 - list0))
# Each sim-stats CONTROL counts itself: xs2 - xs0 holds one of them.
xs_boot=$((xs2 - xs0 - 1))

awk -v n="$n" -v start_ms="$start_ms" -v creates="$creates" \
        -v xs_boot="$xs_boot" -v storm_ms="$storm_ms" -v fire_us="$fire_us" -v calls="$calls" \
        -v per_scan="$per_scan" -v domains="$domains" -v rss0="$rss0" -v pss0="$pss0" \
        -v rss1="$rss1" -v pss1="$pss1" -v srss0="$sim_rss0" -v spss0="$sim_pss0" \
        -v srss1="$sim_rss1" -v spss1="$sim_pss1" -v cpu_start="$cpu_start" \
        -v cpu_storm="$cpu_storm" -v hz="$clk_tck" 'BEGIN {
        printf "start:    %d domains running %d ms after the daemon was started (%.2f ms/domain, %.0f domains/s; %d creates)\n",
                n, start_ms, start_ms / n, n * 1000 / start_ms, creates
        printf "xenstore: %d requests from daemon start until every guest booted = %.1f per domain;\n",
                xs_boot, xs_boot / n
        printf "          less the 4 each simulated guest sends (3 feature writes, 1 watch:\n"
        printf "          sim/hv-guest.c), %.1f per create by the daemon (its start-up scan included)\n",
                xs_boot / n - 4
        printf "storm:    %d crashes fired in %.1f ms; all %d running again %d ms later (%.2f ms/domain)\n",
                n, fire_us / 1000, n, storm_ms, storm_ms / n
        printf "          %d LIST calls = %.0f list scans of %d domains (%d calls each) for %d deaths: %.3f scans/death\n",
                calls, calls / per_scan, domains, per_scan, n, calls / per_scan / n
        printf "memory:   xensupd VmRSS %d KiB with 0 domains, %d KiB with %d: %.0f bytes/domain\n",
                rss0, rss1, n, (rss1 - rss0) * 1024 / n
        printf "          xensupd Pss   %d KiB with 0 domains, %d KiB with %d: %.0f bytes/domain\n",
                pss0, pss1, n, (pss1 - pss0) * 1024 / n
        printf "          xensup-sim VmRSS %d KiB idle, %d KiB with %d domains (%.0f bytes/domain); Pss %d -> %d KiB\n",
                srss0, srss1, n, (srss1 - srss0) * 1024 / n, spss0, spss1
        printf "cpu:      xensupd utime+stime %.2f s over the start (%.3f ms/domain), %.2f s over the storm (%.3f ms/domain); %d ticks/s\n",
                cpu_start / hz, cpu_start / hz * 1000 / n, cpu_storm / hz, cpu_storm / hz * 1000 / n, hz
        printf "BENCH n=%d start_ms=%d storm_ms=%d list_calls=%d scans=%.2f rss0_kib=%d rss_kib=%d pss0_kib=%d pss_kib=%d cpu_start_s=%.3f cpu_storm_s=%.3f clk_tck=%d\n",
                n, start_ms, storm_ms, calls, calls / per_scan, rss0, rss1, pss0, pss1, cpu_start / hz, cpu_storm / hz, hz
}'
daemon_stop
