# shellcheck shell=bash
# Harness shared by tests/test-dbus.sh and tests/test-ctl.sh: a private
# dbus-daemon (session-like, or system-like with xensup's policy file), the
# simulated host, xensupd on it, and pass/fail bookkeeping. Everything started
# here is killed on exit; every wait is bounded.

src="${XENSUP_SRC:-$(pwd)}"
build="${XENSUP_BUILD:-$src/build}"
work="$(mktemp -d /tmp/xensup-dbus.XXXXXX)"
# nobody must reach the bus socket and the test's files.
chmod 755 "$work"
mkdir -p "$work/conf" "$work/sim" "$work/state"
# make check-valgrind names its suppressions relative to the source tree; some commands run
# elsewhere.
[ -n "${VALGRIND:-}" ] && VALGRIND="${VALGRIND//--suppressions=tests\//--suppressions=$src/tests/}"
export XENSTORED_PATH="$work/sim/xenstored.socket"
export XENSUP_LOG=stderr
# The API's names (common/bus-names.h).
# shellcheck disable=SC2034 # used by the tests that source this
SVC=org.xensup.supervisor1 MGR=/org/xensup/supervisor1 MIF=org.xensup.supervisor1.Manager \
        DIF=org.xensup.supervisor1.Domain SIF=org.xensup.supervisor1.Simulator \
        ERR=org.xensup.supervisor1.Error
# The whole test is bounded even if something hangs.
# shellcheck disable=SC2034 # used by the tests that source this file
CALL_TIMEOUT=10

failures=0
bus_pids=()
sim_pid=""
daemon_pid=""

cleanup() {
        [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
        [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
        [ -f "$work/sim/xensup-sim.pid" ] && kill "$(cat "$work/sim/xensup-sim.pid" 2>/dev/null)" 2>/dev/null
        for p in "${bus_pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in $(jobs -p); do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        if [ "${KEEP_WORK:-}" = 1 ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 1' INT TERM

pass() { echo "PASS $1"; }
fail() {
        echo "FAIL $1: $2"
        failures=$((failures + 1))
}
# check NAME COMMAND...: pass when the command succeeds.
check() {
        local name=$1
        shift
        if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}
# check_eq NAME GOT WANT
check_eq() {
        if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}
# run NAME WANT_RC COMMAND...: the command's stdout+stderr in $out, its exit code checked.
run() {
        local name=$1 want=$2 rc
        shift 2
        out=$("$@" 2>&1)
        rc=$?
        if [ "$rc" = "$want" ]; then pass "$name"; else
                fail "$name" "exit $rc, want $want: $out"
        fi
}
# ctl_help_commands: every command `xensupctl --help` lists, one a line, in its order.
ctl_help_commands() {
        # shellcheck disable=SC2086 # VALGRIND is a command line
        timeout 60 ${VALGRIND:-} "$build/xensupctl" --help | awk '
        # Read to the end: an early exit would kill xensupctl with SIGPIPE (and pipefail the test).
        /^Commands:/ && !done { on = 1; next }
        on && /^$/ { on = 0; done = 1 }
        # "  pause NAME | unpause NAME" names two; description lines are indented further.
        on && /^  [a-z]/ { n = split($0, alt, / \| /); for (i = 1; i <= n; i++) { split(alt[i], w, " "); print w[1] } }'
}
# check_match NAME TEXT REGEX
check_match() {
        if printf '%s' "$2" | grep -qE -- "$3"; then pass "$1"; else
                fail "$1" "'$2' does not match /$3/"
        fi
}

# start_bus session|system: a private dbus-daemon; exports the matching address.
start_bus() {
        local kind=$1 addr pid
        sed -e "s|@DIR@|$work|g" -e "s|@POLICY@|$src/units/org.xensup.supervisor1.conf|g" \
                "$src/tests/dbus/$kind.conf.in" >"$work/$kind.conf"
        read -r addr pid < <(timeout 10 dbus-daemon --config-file="$work/$kind.conf" --fork \
                --print-address=1 --print-pid=1 2>"$work/$kind-bus.log" | paste -sd' ')
        if [ -z "$pid" ]; then
                echo "dbus-daemon ($kind) did not start:"
                cat "$work/$kind-bus.log"
                return 1
        fi
        bus_pids+=("$pid")
        chmod 777 "$work/$kind.socket"
        if [ "$kind" = session ]; then
                export DBUS_SESSION_BUS_ADDRESS="$addr"
        else
                export DBUS_SYSTEM_BUS_ADDRESS="$addr"
        fi
}

start_sim() {
        "$build/xensup-sim" --dir "$work/sim" "$@" 2>"$work/sim.log" &
        sim_pid=$!
        for _ in $(seq 100); do
                [ -S "$work/sim/hypervisor.socket" ] && [ -S "$work/sim/xenstored.socket" ] &&
                        return 0
                sleep 0.1
        done
        echo "xensup-sim did not come up:"
        cat "$work/sim.log"
        return 1
}

# start_daemon BUSFLAG [ARGS...]: xensupd on the simulator; BUSFLAG is --user
# (session bus) or "" (system bus). Waits until it owns its name.
start_daemon() {
        local busflag=$1
        shift
        # shellcheck disable=SC2086
        ${VALGRIND:-} "$build/xensupd" --hypervisor=sim $busflag --config-dir "$work/conf" \
                --sim-dir "$work/sim" --state-dir "$work/state" "$@" 2>>"$work/daemon.log" &
        daemon_pid=$!
        for _ in $(seq 300); do
                # shellcheck disable=SC2086
                busctl $busflag --timeout=2 status org.xensup.supervisor1 >/dev/null 2>&1 &&
                        return 0
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        echo "xensupd did not come up; its log:"
        tail -20 "$work/daemon.log"
        return 1
}

# stop_daemon: SIGTERM; the daemon must exit 0 (a sanitizer or valgrind finding fails it).
stop_daemon() {
        local rc
        [ -n "$daemon_pid" ] || return 0
        kill -TERM "$daemon_pid" 2>/dev/null
        for _ in $(seq 300); do
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -9 "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        rc=$?
        daemon_pid=""
        check_eq "xensupd-exit-status" "$rc" 0
}

# mkconf NAME [KEY=VALUE...]: a domain config in $work/conf that runs until told.
mkconf() {
        local name=$1 kv
        shift
        [ -f "$work/kernel" ] || echo "not a kernel: the simulator boots none" >"$work/kernel"
        {
                echo "name = \"$name\""
                echo "memory = 64"
                echo "maxmem = 128"
                echo "vcpus = 1"
                echo "maxvcpus = 2"
                echo "kernel = \"$work/kernel\""
                echo "on_crash = \"restart\""
                for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
                echo "sim {"
                echo "  run_seconds = 0"
                echo "  on_shutdown_request = \"obey\""
                echo "}"
        } >"$work/conf/$name.conf"
}

# as_nobody COMMAND...: run as uid/gid 65534 without supplementary groups.
as_nobody() {
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
        local deadline=$(($(date +%s) + $1))
        shift
        while [ "$(date +%s)" -le "$deadline" ]; do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}

# start_journal_standin: a journald stand-in for xensupd alone. In a mount namespace of its own
# (in-journal-ns, written by write_journal_ns), /run/systemd/journal is $work/journal, where
# this listener turns the native protocol's datagrams into JSON lines in $work/journal.jsonl.
# Sets journal_pid; succeeds once the socket is there.
start_journal_standin() {
        mkdir -p "$work/journal"
        python3 - "$work/journal/socket" "$work/journal.jsonl" <<'PY' &
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "a") as out:
    while True:
        data, entry, i = s.recv(1 << 20), {}, 0
        while i < len(data):
            nl = data.index(b"\n", i)
            if b"=" in data[i:nl]:
                k, v = data[i:nl].split(b"=", 1)
                i = nl + 1
            else:  # KEY\n, 64-bit little-endian length, value, \n
                k, n = data[i:nl], int.from_bytes(data[nl + 1:nl + 9], "little")
                v, i = data[nl + 9:nl + 9 + n], nl + 9 + n + 1
            entry[k.decode()] = v.decode(errors="replace")
        out.write(json.dumps(entry) + "\n")
        out.flush()
PY
        journal_pid=$!
        wait_for 5 test -S "$work/journal/socket"
}

# write_journal_ns: $work/in-journal-ns CMD..., run under unshare -m: a private /run/systemd
# with $XENSUP_TEST_JOURNAL (when set) as its journal directory, then CMD.
write_journal_ns() {
        cat >"$work/in-journal-ns" <<'SH'
#!/bin/sh
mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/journal || exit 1
if [ -n "$XENSUP_TEST_JOURNAL" ]; then
        mount --bind "$XENSUP_TEST_JOURNAL" /run/systemd/journal || exit 1
fi
exec "$@"
SH
        chmod 755 "$work/in-journal-ns"
}

summary() {
        echo "=== $1: $failures failed"
        if [ "$failures" -ne 0 ]; then
                echo "=== daemon log (last 40 lines)"
                tail -40 "$work/daemon.log" 2>/dev/null
        fi
        [ "$failures" -eq 0 ]
}
