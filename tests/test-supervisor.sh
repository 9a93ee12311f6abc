#!/usr/bin/env bash
# Integration tests of xensupd on the simulator (issue 6): the scenarios
# shared with the real-Xen tier, then the simulator-only ones (every action
# for every reason, reload, sd_notify, the death storm, kill -9 anywhere), then
# the supervisor core's (issue 12) on a simulated host of their own.
# SCENARIOS="core" runs only the core ones, "devices" only the disk and vif ones, "save"
# only save and restore; the default, "all", runs everything.
set -uo pipefail

src="${XENSUP_SRC:-$(pwd)}"
build="${XENSUP_BUILD:-$src/build}"
work="$(mktemp -d /tmp/xensup-sup.XXXXXX)"
export CONF_DIR="$work/conf" KERNEL="$work/vmlinuz" SCALE=1
[ -n "${VALGRIND:-}" ] && SCALE=4
export XENSTORED_PATH="$work/sim/xenstored.socket"
export XENSUP_LOG=stderr
mkdir -p "$CONF_DIR" "$work/sim" "$work/dump"
echo "not a kernel: the simulator does not boot kernels" >"$KERNEL"

bus_pid="" sim_pid="" daemon_pid=""
cleanup() {
        [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
        [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
        wait 2>/dev/null
        if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

read -r DBUS_SESSION_BUS_ADDRESS bus_pid < <(dbus-daemon --session --fork --print-address=1 \
        --print-pid=1 | paste -sd' ')
export DBUS_SESSION_BUS_ADDRESS
XSCTL="$build/xensupctl --user"

"$build/xensup-sim" --dir "$work/sim" 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 50); do [ -S "$work/sim/hypervisor.socket" ] && break; sleep 0.1; done

# Under `make check-valgrind` the daemon runs under valgrind too ($VALGRIND); under
# check-asan it is the sanitizer build. Either way a clean stop must exit 0.
daemon_start() {
        ${VALGRIND:-} "$build/xensupd" --hypervisor=sim --user --config-dir "$CONF_DIR" \
                --sim-dir "$work/sim" --device-timeout 5 --save-timeout 3 "$@" 2>>"$work/daemon.log" &
        daemon_pid=$!
        for _ in $(seq 300); do
                busctl --user status org.xensup.supervisor1 >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        echo "xensupd did not come up; its log:"; tail -20 "$work/daemon.log"
        return 1
}
daemon_kill9() {
        kill -9 "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        daemon_pid=""
        # The bus name is released when the connection drops.
        for _ in $(seq 50); do
                busctl --user status org.xensup.supervisor1 >/dev/null 2>&1 || return 0
                sleep 0.1
        done
}
daemon_stop() {
        local rc
        kill -TERM "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        rc=$?
        daemon_pid=""
        if [ "$rc" -eq 0 ]; then pass daemon-clean-exit; else
                fail daemon-clean-exit "xensupd exited $rc on SIGTERM (see the log for sanitizer/valgrind reports)"
        fi
}

. "$src/tests/scenarios/lib.sh"
. "$src/tests/scenarios/common.sh"
. "$src/tests/scenarios/sim-only.sh"
. "$src/tests/scenarios/core.sh"
. "$src/tests/scenarios/devices.sh"
. "$src/tests/scenarios/save.sh"
. "$src/tests/scenarios/migrate.sh"
. "$src/tests/scenarios/host.sh"

# The device scenarios' view of the simulated host: its loop devices and bridge ports.
DISK_DIR="$work/disks"
SAVE_DIR="$work/save"
DAEMON_LOG="$work/daemon.log"
host_loops() { "$build/tests/sim-tool" --sim-dir "$work/sim" loops; }
bridge_ports() {
        "$build/tests/sim-tool" --sim-dir "$work/sim" netdevs | awk -v br="$1" '$2 == br {print $1}'
}
sim_fault() { "$build/tests/sim-tool" --sim-dir "$work/sim" fault "$@" >/dev/null; }
sim_device_fault() { "$build/tests/sim-tool" --sim-dir "$work/sim" fault-device "$@" >/dev/null; }
sim_loop_attach() { "$build/tests/sim-tool" --sim-dir "$work/sim" loop-attach "$@"; }
sim_loop_detach() { "$build/tests/sim-tool" --sim-dir "$work/sim" loop-detach "$@" >/dev/null; }
daemon_children() { ps -o pid= --ppid "$daemon_pid"; }
uuid_instances() { "$build/tests/sim-tool" --sim-dir "$work/sim" list | awk -v u="$1" '$1 != 0 && $2 == u && $3 !~ /dying/'; }

case "${SCENARIOS:-all}" in
all)
        scenario_configs
        daemon_start || exit 1
        run_common_scenarios
        run_device_scenarios
        run_device_fault_scenarios
        run_device_script_scenarios
        run_save_scenarios
        run_save_fault_scenarios
        run_save_kill9_scenarios
        run_migrate_scenarios
        run_migrate_fault_scenarios
        run_sim_scenarios
        daemon_stop
        # Last: these replace the simulated host with fresh ones.
        run_host_scenarios
        run_core_scenarios
        ;;
core)
        run_core_scenarios
        ;;
devices)
        scenario_configs
        daemon_start || exit 1
        run_device_scenarios
        run_device_fault_scenarios
        run_device_script_scenarios
        daemon_stop
        ;;
migrate)
        scenario_configs
        daemon_start || exit 1
        run_migrate_scenarios
        run_migrate_fault_scenarios
        daemon_stop
        ;;
save)
        scenario_configs
        daemon_start || exit 1
        run_save_scenarios
        run_save_fault_scenarios
        run_save_kill9_scenarios
        run_migrate_scenarios
        run_migrate_fault_scenarios
        daemon_stop
        run_host_scenarios
        ;;
*)
        echo "SCENARIOS: unknown '$SCENARIOS' (all, core, devices, save or migrate)"
        exit 2
        ;;
esac

echo "=== daemon log (last 30 lines)"
[ -f "$work/daemon.log" ] && tail -30 "$work/daemon.log"
echo "=== test-supervisor: $failures failed"
[ "$failures" -eq 0 ]
