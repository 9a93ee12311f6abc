#!/usr/bin/env bash
# xensupctl history NAME (issue 16) on the simulator: each start and stop with
# when, the guest's reason, the action it brought and who acted (xensupd, the
# guest, a caller's uid), in text and JSON; kept in the domain's record, so a
# daemon killed with -9 and started again still has it; the oldest entries go
# past eight.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 180 bash "$0" "$@"

XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"
trap 'trap "" INT TERM; echo "interrupted"; exit 1' INT TERM

ctl() { timeout 20 "$build/xensupctl" --user "$@"; }
state_is() { [ "$(ctl status "$1" 2>/dev/null | sed -n 's/^ *State: //p')" = "$2" ]; }
restarts_are() { [ "$(ctl status "$1" 2>/dev/null | sed -n 's/^ *Restarts: //p')" = "$2" ]; }
# The history's rows without their time: EVENT REASON ACTION BY.
rows() { ctl history "$1" | awk 'NR > 1 { print $2, $3, $4, $5, $6 }' | sed 's/ *$//'; }
me="uid $(id -u)"

mkconf h1 'on_poweroff="destroy"'
# Restarts at once and without a throttle, so ten crashes fit the test.
echo 'restart { burst = 20 interval = 60 delay = 0 }' >>"$work/conf/h1.conf"
start_bus session || exit 1
start_sim || exit 1
start_daemon --user || exit 1
check h1-running wait_for 20 state_is h1 running

echo "--- an autostart, a crash and its restart, a stop asked for, a start, a destroy"
check_eq history-autostart "$(rows h1)" "started - - xensupd"
run_ok() { "$@" >/dev/null 2>&1; }
check crash run_ok ctl sim crash h1
check restarted wait_for 20 restarts_are h1 1
check h1-running-again wait_for 20 state_is h1 running
check shutdown-wait run_ok ctl shutdown --wait h1
check start run_ok ctl start h1
check h1-running-third wait_for 20 state_is h1 running
check destroy run_ok ctl destroy h1
check_eq history-rows "$(rows h1)" "started - - xensupd
stopped crash restart guest
started - - xensupd
stopped poweroff destroy $me
started - - $me
destroyed - - $me"
check_match history-header "$(ctl history h1 | head -1)" "^TIME +EVENT +REASON +ACTION +BY$"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}'
check_eq history-timed "$(ctl history h1 | awk 'NR > 1' | grep -Evc "^$ts ")" 0
check history-json python3 - "$(ctl --json history h1)" "$me" <<'PY'
import json, sys
h = json.loads(sys.argv[1])
assert [(e["event"], e["reason"], e["action"], e["by"]) for e in h] == [
    ("started", "", "", "xensupd"), ("stopped", "crash", "restart", "guest"),
    ("started", "", "", "xensupd"), ("stopped", "poweroff", "destroy", sys.argv[2]),
    ("started", "", "", sys.argv[2]), ("destroyed", "", "", sys.argv[2])], h
assert all(a["usec"] <= b["usec"] for a, b in zip(h, h[1:])), h
assert all(e["time"][:4].isdigit() and e["usec"] > 1.7e15 for e in h), h
PY

echo "--- kept in the record: a daemon killed and started again still has it"
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
start_daemon --user || exit 1
check_eq history-after-kill "$(rows h1 | tail -2)" "started - - $me
destroyed - - $me"

echo "--- eight at most: the oldest go"
check start-again run_ok ctl start h1
check h1-up wait_for 20 state_is h1 running
for n in 1 2 3; do
        check "crash-$n" run_ok ctl sim crash h1
        check "restarted-$n" wait_for 20 restarts_are h1 $((n + 1))
        check "running-$n" wait_for 20 state_is h1 running
done
check_eq history-eight "$(rows h1 | wc -l)" 8
check_eq history-newest "$(rows h1 | tail -2)" "stopped crash restart guest
started - - xensupd"
check_eq history-oldest-gone "$(rows h1 | head -1)" "destroyed - - $me"

echo "--- carried in a saved image: a restore after the record is gone goes on from it"
mkconf h2
check reload-with-h2 run_ok ctl reload
check h2-running wait_for 20 state_is h2 running
check save-h2 run_ok ctl save h2 "$work/h2.img"
check_eq history-saved "$(rows h2)" "started - - xensupd
saved - - $me"
# The file gone and reloaded: the domain, its record and its history go (as after the host's
# reboot, whose XenStore is new); restoring the image brings it back with its history.
rm "$work/conf/h2.conf"
check reload-without-h2 run_ok ctl reload
h2_gone() { ! ctl status h2 >/dev/null 2>&1; }
check h2-gone wait_for 20 h2_gone
check restore-h2 run_ok ctl restore "$work/h2.img"
check h2-restored wait_for 20 state_is h2 running
check_eq history-from-image "$(rows h2)" "started - - xensupd
saved - - $me
restored - - $me"

echo "--- errors"
out=$(ctl history web9 2>&1)
check_eq history-no-such-domain "$?:$out" "4:xensupctl: no such domain: web9"
out=$(ctl history 2>&1)
check_eq history-usage "$?" 2

stop_daemon
summary test-history
