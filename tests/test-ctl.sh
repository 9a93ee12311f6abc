#!/usr/bin/env bash
# Integration test of xensupctl (issue 7) against xensupd on the simulator, on
# a private bus: the README's session first (the example domains, `list`,
# `sim crash web1`, `status web1` showing the restart), then every command,
# its --json output parsed back, its messages and its exit codes.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 300 bash "$0" "$@"

# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"

# xensupctl, under valgrind in make check-valgrind (a leak makes it exit 99).
XSCTL="${VALGRIND:-} $build/xensupctl"
ctl() { timeout 60 $XSCTL --user "$@"; }
# json_field NAME KEY: a field of one domain from `xensupctl --json list`.
json_field() {
        ctl --json list | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    if d["name"] == sys.argv[1]:
        v = d[sys.argv[2]]
        print("null" if v is None else v)' "$1" "$2"
}
field_is() { [ "$(json_field "$1" "$2")" = "$3" ]; }
status_has() { ctl status "$1" | grep -qE -- "$2"; }

echo "--- README's first command (make demo), driven by xensupctl"
(cd "$src" && BUILD="$build" DEMO_SECONDS=40 exec env -u XENSTORED_PATH bash tests/demo.sh) >"$work/demo.out" 2>&1 &
demo_pid=$!
demo_addr() { sed -n -E 's/.*DBUS_SESSION_BUS_ADDRESS=([^ ]+) .*/\1/p' "$work/demo.out"; }
check demo-prints-address wait_for 10 bash -c "grep -q DBUS_SESSION_BUS_ADDRESS= '$work/demo.out'"
demo_ctl() { DBUS_SESSION_BUS_ADDRESS="$(demo_addr)" timeout 60 $XSCTL --user "$@"; }
demo_has() { demo_ctl "${@:3}" 2>/dev/null | grep -qE -- "$2"; }
check demo-list-web1 wait_for 10 demo_has - "^web1 .* running " list
run demo-sim-crash 0 demo_ctl sim crash web1
# web1's restart waits its turn behind the demo's own restarts (flaky every 2 s, db1), and each
# xensupctl here may be valgrind's: seconds each on a loaded machine (CI saw 10 s pass by).
check demo-status-restarted wait_for 30 demo_has - "Restarts: 1$" status web1
# The restart's build runs in a child (devices included): running once it is done.
wait_for 10 demo_has - "State: running" status web1
run demo-status 0 demo_ctl status web1
check_match demo-status-reason "$out" "Last reason: crash"
check_match demo-status-running "$out" "State: running"
wait "$demo_pid"
check_eq demo-exit "$?" 0

# The example domains as README shows them, and a few of our own.
cp "$src"/units/examples/*.conf "$src"/units/examples/kernel-sim "$src"/units/examples/*.img \
        "$work/conf/"
mkconf ctl1
mkconf ctl2 autostart=false

start_bus session || exit 1
start_sim || exit 1
start_daemon --user || exit 1

echo "--- README: list, sim crash web1, status web1 shows the restart"
# The builds run in children: wait for web1's (it is what README's list shows running).
for _ in $(seq 100); do
        ctl list 2>/dev/null | grep -Eq "^web1 +[0-9a-f-]{36} +[0-9]+ +running " && break
        sleep 0.1
done
run readme-list 0 ctl list
check_match readme-list-web1 "$out" "^web1 +[0-9a-f-]{36} +[0-9]+ +running "
check_match readme-list-header "$out" "^NAME +UUID +DOMID +STATE +REASON +RESTARTS"
check readme-web1-running wait_for 10 field_is web1 state running
run readme-sim-crash 0 ctl sim crash web1
check readme-status-restarts wait_for 10 status_has web1 "Restarts: 1$"
wait_for 10 status_has web1 "State: running"
run readme-status 0 ctl status web1
check_match readme-status-reason "$out" "Last reason: crash"
check_match readme-status-state "$out" "State: running"
check_match readme-status-domid "$out" "DomID: [0-9]+"
check_match readme-status-uptime "$out" "Uptime: [0-9]+s \(since "
check_match readme-status-failure "$out" "Failure: -"
check_match readme-status-config "$out" "Config: $work/conf/web1.conf"

echo "--- list --json, status --json"
run json-list 0 ctl --json list
check json-list-parses python3 -c '
import json, sys
l = json.loads(sys.argv[1])
assert isinstance(l, list) and len(l) == 6, l
byname = {d["name"]: d for d in l}
assert sorted(byname) == ["ctl1", "ctl2", "db1", "flaky", "web1", "web2"], sorted(byname)
for d in l:
    for k in ("name", "uuid", "domid", "state", "shutdown_reason", "restart_count"):
        assert k in d, (k, d)
w = byname["web1"]
assert isinstance(w["domid"], int) and w["restart_count"] == 1, w
assert w["shutdown_reason"] == "crash" and w["state"] == "running", w
c = byname["ctl2"]
assert c["domid"] is None and c["state"] == "stopped" and c["started_at"] is None, c
assert c["object_path"] == "/org/xensup/supervisor1/domain/ctl2", c' "$out"
run json-status 0 ctl --json status web1
check json-status-parses python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["name"] == "web1" and d["restart_count"] == 1 and d["memory_kib"] == 262144, d
assert d["on_crash"] == "restart" and d["max_memory_kib"] == 524288, d' "$out"
# The supervisor-core properties: always present (empty or 0 from a daemon without
# them), and a running domain that is nobody's kept instance has no restart waiting.
check json-status-new-keys python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert isinstance(d["on_watchdog"], str) and isinstance(d["on_soft_reset"], str), d
assert d["restart_at"] == 0 and d["kept_of"] == "", d' "$out"
run status-running-web1 0 ctl status web1
check_match status-actions "$out" "Actions: on_poweroff=[a-z-]+ on_reboot=[a-z-]+ on_crash=restart"
check status-no-restart-wait bash -c '! grep -qE "Restart:|Kept of:" <<<"$1"' - "$out"
# flaky crashes every 2 s until the throttle leaves it failed, with a reason in Failure.
check flaky-failed wait_for 30 field_is flaky state failed
run status-failed 0 ctl status flaky
check_match status-failed-failure "$out" "Failure: [^-]"
run json-failure-escaped 0 ctl --json list
check json-failure-parses python3 -c '
import json, sys
f = [d for d in json.loads(sys.argv[1]) if d["name"] == "flaky"][0]["failure"]
assert len(f) > 0, f' "$out"
run status-uuid 0 ctl status "$(json_field web1 uuid)"
check_match status-by-uuid "$out" "^web1 \("

echo "--- domain commands"
run start 0 ctl start ctl2
check start-running wait_for 10 field_is ctl2 state running
run start-twice 1 ctl start ctl2
check_match start-twice-message "$out" "^xensupctl: .*ctl2.*running"
run pause 0 ctl pause ctl1
check pause-state wait_for 5 field_is ctl1 state paused
run pause-twice 1 ctl pause ctl1
run unpause 0 ctl unpause ctl1
check unpause-state wait_for 5 field_is ctl1 state running
run mem-set-M 0 ctl mem-set ctl1 96M
check mem-set-M-kib wait_for 5 field_is ctl1 memory_kib 98304
run mem-set-K 0 ctl mem-set ctl1 100000K
check mem-set-K-kib wait_for 5 field_is ctl1 memory_kib 100000
run mem-set-plain-mib 0 ctl mem-set ctl1 100
check mem-set-plain-kib wait_for 5 field_is ctl1 memory_kib 102400
run mem-set-over-max 1 ctl mem-set ctl1 1G
check_match mem-set-over-max-message "$out" "^xensupctl: .*out of range"
run mem-set-bad-unit 2 ctl mem-set ctl1 12Q
run mem-set-zero 2 ctl mem-set ctl1 0
run mem-set-G-parses 1 ctl mem-set ctl1 2G
run vcpu-set 0 ctl vcpu-set ctl1 2
check vcpu-set-vcpus wait_for 5 field_is ctl1 vcpus 2
run vcpu-set-bad 2 ctl vcpu-set ctl1 two
run vcpu-set-over 1 ctl vcpu-set ctl1 9
run shutdown-reboot 0 ctl shutdown ctl2 --reboot
check shutdown-reboot-restarted wait_for 10 field_is ctl2 restart_count 1
check shutdown-reboot-running wait_for 10 field_is ctl2 state running
run reboot 0 ctl reboot ctl2
check reboot-restarted wait_for 10 field_is ctl2 restart_count 2
check reboot-running wait_for 10 field_is ctl2 state running
run shutdown 0 ctl shutdown ctl2 --timeout 5
check shutdown-stopped wait_for 10 field_is ctl2 state stopped
check_eq shutdown-reason "$(json_field ctl2 shutdown_reason)" poweroff
check_eq shutdown-no-domid "$(json_field ctl2 domid)" null
run start-again 0 ctl start ctl2
check start-again-running wait_for 10 field_is ctl2 state running
run destroy 0 ctl destroy ctl2
check destroy-stopped wait_for 10 field_is ctl2 state stopped
run destroy-stopped 1 ctl destroy ctl2

echo "--- sim: crash, reboot, poweroff, hang"
run sim-reboot 0 ctl sim reboot ctl1
check sim-reboot-restarted wait_for 10 field_is ctl1 restart_count 1
check sim-reboot-reason wait_for 5 field_is ctl1 shutdown_reason reboot
check sim-reboot-running wait_for 10 field_is ctl1 state running
run sim-crash 0 ctl sim crash ctl1
check sim-crash-restarted wait_for 10 field_is ctl1 restart_count 2
check_eq sim-crash-reason "$(json_field ctl1 shutdown_reason)" crash
# a second restart in a row comes after a back-off
check sim-crash-running wait_for 10 field_is ctl1 state running
run sim-hang 0 ctl sim hang ctl1
check sim-hang-running wait_for 10 field_is ctl1 state running
run shutdown-hung 0 ctl shutdown ctl1 --timeout 1
check shutdown-hung-destroyed wait_for 15 field_is ctl1 state stopped
run start-ctl1 0 ctl start ctl1
check start-ctl1-running wait_for 10 field_is ctl1 state running
run sim-poweroff 0 ctl sim poweroff ctl1
check sim-poweroff-stopped wait_for 10 field_is ctl1 state stopped
check_eq sim-poweroff-reason "$(json_field ctl1 shutdown_reason)" poweroff
run sim-stopped 1 ctl sim crash ctl1
run sim-unknown 1 ctl sim explode web1
check_match sim-unknown-message "$out" "unknown guest action 'explode'"
run sim-no-such-domain 4 ctl sim crash web9

echo "--- create, reload, monitor"
$XSCTL --user monitor >"$work/monitor.out" 2>&1 &
mon_pid=$!
# subscribed once it has printed where every domain stands
check monitor-ready wait_for 10 grep -q " web2: state=" "$work/monitor.out"
mkdir -p "$work/elsewhere"
chmod 755 "$work/elsewhere"
mkconf new1
mv "$work/conf/new1.conf" "$work/elsewhere/"
run create-relative-path 0 bash -c "cd '$work/elsewhere' && $XSCTL --user create new1.conf"
check create-running wait_for 10 field_is new1 state running
check_eq create-made-absolute "$(json_field new1 config_path)" "$work/elsewhere/new1.conf"
run create-exists 1 ctl create "$work/elsewhere/new1.conf"
check_match create-exists-message "$out" "^xensupctl: .*new1"
run create-missing 1 ctl create "$work/elsewhere/none.conf"
check_match create-missing-message "$out" "^xensupctl: .*none.conf: No such file"
printf 'name = "bad1"\nmemory = "lots"\nkernel = "%s"\n' "$work/kernel" >"$work/elsewhere/bad1.conf"
want=$("$build/xensupd" --check-config "$work/elsewhere/bad1.conf" 2>&1 | head -1)
run create-invalid 1 ctl create "$work/elsewhere/bad1.conf"
check_eq create-invalid-message "$out" "xensupctl: $want"
mkconf late
run reload 0 ctl reload
check reload-added wait_for 10 field_is late state running
run pause-for-monitor 0 ctl pause late
check pause-late wait_for 5 field_is late state paused
run unpause-for-monitor 0 ctl unpause late
check unpause-late wait_for 5 field_is late state running
sleep 0.5
kill -INT "$mon_pid"
wait "$mon_pid"
check_eq monitor-exit-on-sigint "$?" 0
# each line begins with its local time, ISO 8601 with milliseconds and offset
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}'
check_eq monitor-every-line-timed "$(grep -Evc "^$ts " "$work/monitor.out")" 0
mon=$(sed -E "s/^$ts //" "$work/monitor.out")
check_match monitor-initial "$mon" "^web1: state=running domid=[0-9]+$"
check_match monitor-added "$mon" "^new1: added$"
check_match monitor-new-running "$mon" "^new1: .*state=running"
check_match monitor-reload-added "$mon" "^late: added$"
check_match monitor-paused "$mon" "^late: state=paused$"
check_match monitor-unpaused "$mon" "^late: state=running$"

echo "--- issue 16: --version, COMMAND --help, options a command does not take"
want_version=$(sed -n -E 's/^VERSION[[:space:]]*:?=[[:space:]]*([^[:space:]]+).*/\1/p' "$src/Makefile")
run version 0 ctl --version
check_eq version-output "$out" "xensupctl $want_version"
run version-no-daemon-needed 0 env DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent $XSCTL --version
check_eq version-no-daemon-output "$out" "xensupctl $want_version"
run status-help 0 ctl status --help
check_eq status-help-usage "$(head -1 <<<"$out")" "Usage: xensupctl status NAME [--json]"
check_match status-help-json "$out" "^  --json +JSON output$"
check_match status-help-name "$out" "^NAME is a domain's name, uuid or domid"
run shutdown-help 0 ctl shutdown --help
check_eq shutdown-help-usage "$(head -1 <<<"$out")" \
        "Usage: xensupctl shutdown NAME|--all [--reboot] [--timeout S] [--wait]"
check_match shutdown-help-wait "$out" "^  --wait +return once the domain has stopped"
check_match shutdown-help-all "$out" "^  --all +every running or paused domain"
# --help wins over missing arguments; -h is the same
run shutdown-help-short 0 ctl shutdown -h
check_eq shutdown-help-short-usage "$(head -1 <<<"$out")" \
        "Usage: xensupctl shutdown NAME|--all [--reboot] [--timeout S] [--wait]"
run help-lists-info 0 ctl --help
check_match help-lists-version "$out" "^  --version +xensupctl's version$"
run unknown-option 2 ctl status web1 --frobnicate
check_eq unknown-option-message "$out" "xensupctl: unrecognized option '--frobnicate'
Try 'xensupctl status --help'."
run missing-option-argument 2 ctl shutdown web1 --timeout
check_eq missing-option-argument-message "$out" "xensupctl: option '--timeout' requires an argument
Try 'xensupctl shutdown --help'."
run option-takes-no-argument 2 ctl --json=yes list
check_match option-takes-no-argument-message "$out" "^xensupctl: option '--json' takes no argument$"
run other-commands-option 2 ctl status web1 --wait
check_eq other-commands-option-message "$out" "xensupctl: --wait applies to shutdown only"
run all-and-name 2 ctl shutdown web1 --all
check_eq all-and-name-message "$out" "xensupctl: shutdown: NAME and --all exclude each other"
run shutdown-no-name 2 ctl shutdown
check_eq shutdown-no-name-message "$out" \
        "xensupctl: shutdown takes NAME or --all (see 'xensupctl shutdown --help')"

echo "--- issue 16: a domain by name, uuid or domid"
run status-json-by-name 0 ctl --json status web1
by_name=$out
run status-json-by-uuid 0 ctl --json status "$(json_field web1 uuid)"
check_eq status-uuid-same "$out" "$by_name"
web1_domid=$(json_field web1 domid)
run status-json-by-domid 0 ctl --json status "$web1_domid"
check_eq status-domid-same "$out" "$by_name"
run status-text-by-domid 0 ctl status "$web1_domid"
check_match status-text-by-domid-name "$(head -1 <<<"$out")" "^web1 \([0-9a-f-]{36}\)$"
run pause-by-domid 0 ctl pause "$web1_domid"
check pause-by-domid-paused wait_for 5 field_is web1 state paused
run unpause-by-uuid 0 ctl unpause "$(json_field web1 uuid)"
check unpause-by-uuid-running wait_for 5 field_is web1 state running
run no-such-domid 4 ctl status 99999
check_eq no-such-domid-message "$out" \
        "xensupctl: no such domain: 99999 (no domain has that name, uuid or domid)"
# A domain named by web1's domid, not running: the name wins over the domid it spells.
mkconf "$web1_domid" autostart=false
run digits-reload 0 ctl reload
check digits-known wait_for 10 field_is "$web1_domid" state stopped
run digits-name-wins 0 ctl --json status "$web1_domid"
check_eq digits-name-wins-name "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["name"])' "$out")" \
        "$web1_domid"
rm "$work/conf/$web1_domid.conf"
run digits-removed 0 ctl reload
check digits-gone wait_for 10 bash -c "! $XSCTL --user status '$web1_domid' 2>/dev/null | grep -q '^$web1_domid '"
run digits-domid-again 0 ctl --json status "$web1_domid"
check_eq digits-domid-again-same "$out" "$by_name"

echo "--- issue 16: mem-set with every xl suffix; status shows the target"
# web1: memory 256 MiB, maxmem 512 MiB
run mem-set-512M 0 ctl mem-set web1 512M
check mem-set-512M-kib wait_for 5 field_is web1 memory_kib 524288
run mem-set-300000K 0 ctl mem-set web1 300000K
check mem-set-300000K-kib wait_for 5 field_is web1 memory_kib 300000
run mem-set-bytes 0 ctl mem-set web1 536870912b
check mem-set-bytes-kib wait_for 5 field_is web1 memory_kib 524288
run mem-set-lower-k 0 ctl mem-set web1 262144k
check mem-set-lower-k-kib wait_for 5 field_is web1 memory_kib 262144
run mem-set-bytes-upper 0 ctl mem-set web1 314572800B
check mem-set-bytes-upper-kib wait_for 5 field_is web1 memory_kib 307200
run mem-set-mib 0 ctl mem-set web1 400MiB
check mem-set-mib-kib wait_for 5 field_is web1 memory_kib 409600
run status-shows-target 0 ctl status web1
check_match status-shows-target-line "$out" "^       Memory: 409600 KiB \(max 524288 KiB\)$"
run mem-set-0.5G 2 ctl mem-set web1 0.5G
check_eq mem-set-0.5G-message "$out" \
        "xensupctl: mem-set: invalid size '0.5G' (valid: a whole number with a unit: b (bytes, rounded down to KiB as xl does), k, m, g or t (KiB, MiB, GiB, TiB; either case; 512MiB, 2GB too), or none for MiB; at least 1 KiB)"
run mem-set-bad-suffix 2 ctl mem-set web1 512X
check_match mem-set-bad-suffix-message "$out" "^xensupctl: mem-set: invalid size '512X' \(valid: "
run mem-set-under-kib 2 ctl mem-set web1 1023b
run mem-set-bytes-suffix 2 ctl mem-set web1 512bB
run mem-set-1T-over-max 1 ctl mem-set web1 1T
check_match mem-set-1T-message "$out" "^xensupctl: .*out of range"
check_eq mem-set-refused-unchanged "$(json_field web1 memory_kib)" 409600
run mem-set-back 0 ctl mem-set web1 256
check mem-set-back-kib wait_for 5 field_is web1 memory_kib 262144

echo "--- issue 16: shutdown --wait"
run wait-start 0 ctl start ctl2
check_eq wait-start-running "$(json_field ctl2 state)" running
run shutdown-wait 0 ctl shutdown ctl2 --wait
check_eq shutdown-wait-empty "$out" ""
# no wait_for: stopped when the command returns
check_eq shutdown-wait-stopped "$(json_field ctl2 state)" stopped
check_eq shutdown-wait-reason "$(json_field ctl2 shutdown_reason)" poweroff
run shutdown-wait-stopped-again 1 ctl shutdown ctl2 --wait
run wait-start-2 0 ctl start ctl2
before_domid=$(json_field ctl2 domid)
before_restarts=$(json_field ctl2 restart_count)
run shutdown-reboot-wait 0 ctl shutdown ctl2 --reboot --wait
check_eq shutdown-reboot-wait-running "$(json_field ctl2 state)" running
check_eq shutdown-reboot-wait-restarted "$(json_field ctl2 restart_count)" $((before_restarts + 1))
check shutdown-reboot-wait-new-domid test "$(json_field ctl2 domid)" != "$before_domid"
# A guest that ignores the request is destroyed after --timeout: stopped, status 0.
run wait-hang 0 ctl sim hang ctl2
start_s=$(date +%s)
run shutdown-wait-hung 0 ctl shutdown ctl2 --wait --timeout 2
check shutdown-wait-hung-took-timeout test $(($(date +%s) - start_s)) -ge 2
check_eq shutdown-wait-hung-stopped "$(json_field ctl2 state)" stopped
# A guest that crashes instead of stopping (on_crash=restart): status 1, the reason said.
run wait-start-3 0 ctl start ctl2
run wait-hang-2 0 ctl sim hang ctl2
(ctl shutdown ctl2 --wait --timeout 30 >"$work/wait-crash.out" 2>&1; echo $? >"$work/wait-crash.rc") &
wait_crash_pid=$!
check wait-crash-asked wait_for 10 field_is ctl2 state shutting-down
run wait-crash-sim 0 ctl sim crash ctl2
wait "$wait_crash_pid"
check_eq shutdown-wait-crash-exit "$(cat "$work/wait-crash.rc")" 1
check_eq shutdown-wait-crash-message "$(cat "$work/wait-crash.out")" \
        "xensupctl: ctl2: restarted instead of stopping (reason crash)"
check wait-crash-running-again wait_for 10 field_is ctl2 state running

echo "--- issue 16: monitor --json"
$XSCTL --user --json monitor >"$work/monitor.json" 2>"$work/monitor-json.err" &
mon_pid=$!
check monitor-json-ready wait_for 10 grep -q '"name": "web1", "event": "state"' "$work/monitor.json"
run monitor-json-pause 0 ctl pause web1
check monitor-json-paused wait_for 5 field_is web1 state paused
run monitor-json-unpause 0 ctl unpause web1
check monitor-json-running wait_for 5 field_is web1 state running
mkconf mon1 autostart=false
run monitor-json-reload 0 ctl reload
check monitor-json-mon1 wait_for 10 field_is mon1 state stopped
rm "$work/conf/mon1.conf"
run monitor-json-reload-2 0 ctl reload
check monitor-json-removed wait_for 10 grep -q '"name": "mon1", "event": "removed"' "$work/monitor.json"
kill -INT "$mon_pid"
wait "$mon_pid"
check_eq monitor-json-exit "$?" 0
check_eq monitor-json-no-stderr "$(cat "$work/monitor-json.err")" ""
check monitor-json-lines python3 - "$work/monitor.json" <<'PY'
import json, re, sys
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no output"
objs = []
for n, line in enumerate(lines, 1):
    o = json.loads(line)  # every line one object
    assert isinstance(o, dict), (n, line)
    assert list(o)[:3] == ["time", "name", "event"], (n, line)
    assert ts.match(o["time"]), (n, line)
    assert o["event"] in ("state", "added", "removed", "changed"), (n, line)
    objs.append(o)
def has(**kv):
    return any(all(o.get(k) == v for k, v in kv.items()) for o in objs)
w = [o for o in objs if o["name"] == "web1" and o["event"] == "state"][0]
assert w["state"] == "running" and isinstance(w["domid"], int), w
assert set(w) == {"time", "name", "event", "state", "domid"}, w
assert has(name="web1", event="changed", state="paused"), objs
assert has(name="web1", event="changed", state="running"), objs
added = [o for o in objs if o["name"] == "mon1" and o["event"] == "added"]
assert len(added) == 1 and set(added[0]) == {"time", "name", "event"}, added
assert has(name="mon1", event="state", state="stopped", domid=None), objs
assert has(name="mon1", event="removed"), objs
PY

echo "--- errors, usage and exit codes"
run no-such-domain 4 ctl status web9
check_eq no-such-domain-message "$out" "xensupctl: no such domain: web9"
run no-such-domain-start 4 ctl start web9
run usage-none 2 $XSCTL
run usage-unknown 2 ctl frobnicate
check_match usage-unknown-message "$out" "unknown command 'frobnicate'"
run usage-missing-arg 2 ctl status
run usage-extra-arg 2 ctl list web1
run usage-reboot-elsewhere 2 ctl start web1 --reboot
run usage-bad-timeout 2 ctl shutdown web1 --timeout soon
run help 0 ctl --help
check_match help-exit-codes "$out" "4 no such domain"
check_match help-exit-other "$out" "1 any other error"
# Not under valgrind: valgrind, running as nobody, opens the binary itself and
# failed to in CI's checkout under /root (exit 126); the daemon's check is the
# thing under test here, not the client's memory.
run denied 5 as_nobody "$build/xensupctl" --user pause web1
# xensupd's refusal, after the command it refused: its text names the polkit action and how.
check_match denied-message "$out" \
        "^xensupctl: permission denied: pause web1: uid 65534 is not authorized for org.xensup.supervisor1.manage: .*--admin-group"
check_eq denied-one-line "$(wc -l <<<"$out")" 1
run denied-by-domid 5 as_nobody "$build/xensupctl" --user shutdown "$(json_field web1 domid)" --wait
check_match denied-by-domid-message "$out" \
        "^xensupctl: permission denied: shutdown web1: uid 65534 is not authorized for org.xensup.supervisor1.manage: "
run denied-read-ok 0 as_nobody "$build/xensupctl" --user status web1
echo "--- issue 16: shutdown --all --wait"
# every running or paused domain, one of them ignoring the request (destroyed after --timeout)
run all-destroy-db1 0 ctl destroy db1
run all-hang-ctl2 0 ctl sim hang ctl2
run all-pause-web1 0 ctl pause web1
check all-web1-paused wait_for 5 field_is web1 state paused
running_now() {
        ctl --json list | python3 -c '
import json, sys
print(" ".join(sorted(d["name"] for d in json.load(sys.stdin) if d["state"] in ("running", "paused"))))'
}
before_all=$(running_now)
check all-some-running test -n "$before_all"
start_s=$(date +%s)
run shutdown-all-wait 0 ctl shutdown --all --wait --timeout 2
check_eq shutdown-all-wait-output "$out" ""
check shutdown-all-took-timeout test $(($(date +%s) - start_s)) -ge 2
# no wait_for: each stopped (or, transient, forgotten) when the command returns
check shutdown-all-each-stopped python3 -c '
import json, sys
states = {d["name"]: d["state"] for d in json.loads(sys.argv[1])}
bad = {n: states[n] for n in sys.argv[2].split() if n in states and states[n] != "stopped"}
assert not bad, bad' "$(ctl --json list)" "$before_all"
check_eq shutdown-all-web1 "$(json_field web1 state)" stopped
check_eq shutdown-all-ctl2 "$(json_field ctl2 state)" stopped
check_eq shutdown-all-web1-reason "$(json_field web1 shutdown_reason)" poweroff
run shutdown-all-nothing 0 ctl shutdown --all --wait
check_eq shutdown-all-nothing-output "$out" ""
stop_daemon
run no-daemon 3 ctl list
check_match no-daemon-message "$out" "^xensupctl: xensupd is not running"

summary test-ctl
