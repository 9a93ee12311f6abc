#!/usr/bin/env bash
# xensupd's authorization against a real polkitd (Debian 12's polkitd 122) on a private
# system-like bus: polkitd runs in a mount namespace of its own (unshare -m) with private copies
# of its action and rules directories bind-mounted over the host's, so the host is never
# changed. Real unprivileged users call (setpriv): daemon (uid 1, in group daemon), nobody, bin.
# Proves: the group the rule names is allowed by polkit (the daemon has no --admin-group then),
# everyone else is refused with a message saying how to be granted the action and nothing
# changes, root never makes xensupd ask polkit, one query per call (calls in parallel each get
# their own answer), a polkit error is a refusal even for the admin group, --polkit=no never asks
# polkit, and with polkitd gone the daemon falls back to root and --admin-group.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 300 bash "$0" "$@"

# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"

MANAGE=org.xensup.supervisor1.manage
HOSTDEV=org.xensup.supervisor1.host-devices
POLKITD=/usr/lib/polkit-1/polkitd
PK_BUS_POLICY=/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf

if [ ! -x $POLKITD ] || [ ! -f $PK_BUS_POLICY ]; then
        echo "SKIP: polkitd is not installed ($POLKITD; make deps installs it)"
        exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root (unshare -m for polkitd's private directories, setpriv)"
        exit 0
fi

polkit_pid=""
mon_pid=""
stop_polkitd() {
        [ -n "$polkit_pid" ] || return 0
        kill "$polkit_pid" 2>/dev/null
        wait "$polkit_pid" 2>/dev/null
        polkit_pid=""
}
trap 'stop_polkitd; [ -n "$mon_pid" ] && kill "$mon_pid" 2>/dev/null; cleanup' EXIT

# polkitd's directories: our actions only, the shipped rules with the test's group, and a rule
# of an administrator's in /etc (user bin: polkit says no).
pk="$work/polkit"
mkdir -p "$pk/actions" "$pk/rules.d" "$pk/etc-rules.d" "$work/system.d"
cp "$src/units/org.xensup.supervisor1.policy" "$pk/actions/"
sed 's/isInGroup("xensup")/isInGroup("daemon")/' "$src/units/org.xensup.supervisor1.rules" \
        >"$pk/rules.d/org.xensup.supervisor1.rules"
cat >"$pk/etc-rules.d/40-test-deny-bin.rules" <<'EOF'
polkit.addRule(function(action, subject) {
    if (action.id == "org.xensup.supervisor1.manage" && subject.user == "bin")
        return polkit.Result.NO;
});
EOF
chmod -R a+rX "$pk"
check rules-group-substituted grep -q 'subject.isInGroup("daemon")' \
        "$pk/rules.d/org.xensup.supervisor1.rules"
# polkitd's own bus policy (user polkitd owns the name; anyone may call it), in the bus's
# includedir (tests/dbus/system.conf.in).
cp $PK_BUS_POLICY "$work/system.d/"
# A local policy that takes one method back from nobody: the bus refuses it before xensupd
# sees it (as an older policy file refuses a method added since), which xensupctl explains.
cat >"$work/system.d/zz-test-deny.conf" <<'CONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="nobody">
    <deny send_destination="org.xensup.supervisor1"
          send_interface="org.xensup.supervisor1.Domain" send_member="SetVCPUs"/>
  </policy>
</busconfig>
CONF
# What the host's polkit directories hold, to show that the test changed none of them.
host_polkit() {
        find /usr/share/polkit-1/actions /usr/share/polkit-1/rules.d /etc/polkit-1/rules.d \
                -printf '%p %s %T@ %m\n' 2>&1 | sort | md5sum
}
host_before=$(host_polkit)

start_polkitd() {
        # unshare execs sh, which execs polkitd: $! is polkitd (it drops to user polkitd itself).
        # shellcheck disable=SC2016 # $1 and $2 are sh's, not ours
        unshare -m sh -c 'mount --bind "$1/actions" /usr/share/polkit-1/actions &&
                mount --bind "$1/rules.d" /usr/share/polkit-1/rules.d &&
                mount --bind "$1/etc-rules.d" /etc/polkit-1/rules.d &&
                exec "$2" --no-debug' sh "$pk" $POLKITD >>"$work/polkitd.log" 2>&1 &
        polkit_pid=$!
        for _ in $(seq 100); do
                busctl --system --timeout=2 status org.freedesktop.PolicyKit1 >/dev/null 2>&1 &&
                        return 0
                kill -0 "$polkit_pid" 2>/dev/null || break
                sleep 0.1
        done
        echo "polkitd did not come up; its log:"
        cat "$work/polkitd.log"
        return 1
}

mkconf web1
mkconf gone2 autostart=false
start_bus system || exit 1
check_eq bus-policy-clean "$(cat "$work/system-bus.log")" ""
start_sim || exit 1
start_polkitd || exit 1
pass polkitd-running
check_eq polkitd-as-polkitd "$(ps -o user= -p "$polkit_pid")" polkitd
check_eq polkitd-sees-our-actions-only "$(pkaction 2>&1 | sort | tr '\n' ' ')" \
        "$HOSTDEV $MANAGE "
check_match polkitd-manage-defaults "$(pkaction --verbose --action-id $MANAGE 2>&1 | tr '\n' ' ')" \
        "implicit any: +auth_admin.*implicit inactive: +auth_admin.*implicit active: +auth_admin_keep"

# Every message on the bus, to count the CheckAuthorization calls xensupd makes.
timeout 250 busctl --system monitor --json=short >"$work/monitor.json" 2>"$work/monitor.err" &
mon_pid=$!
monitor_ready() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetId >/dev/null 2>&1
        grep -q '"member":"GetId"' "$work/monitor.json"
}
check monitor-ready wait_for 10 monitor_ready
# checks_sent: how many CheckAuthorization calls xensupd has sent so far.
checks_sent() { grep -c '"member":"CheckAuthorization"' "$work/monitor.json"; }
# last_check FIELD: the last CheckAuthorization's action id or flags.
last_check() {
        python3 - "$work/monitor.json" "$1" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    if '"CheckAuthorization"' in line and line.startswith("{"):
        last = json.loads(line)
subject, action, details, flags, cancel = last["payload"]["data"]
print({"subject": subject[0], "action": action, "flags": flags, "details": len(details),
       "cancel": repr(cancel)}[sys.argv[2]])
PY
}
# settled: checks_sent once the monitor has caught up (it may lag a little behind a reply).
settled() {
        sleep 0.3
        checks_sent
}

as_daemon() { setpriv --reuid=daemon --regid=daemon --init-groups "$@"; }
as_bin() { setpriv --reuid=bin --regid=bin --clear-groups "$@"; }
sds() {
        dbus-send --system --print-reply --reply-timeout=$((CALL_TIMEOUT * 1000)) --dest=$SVC "$@" \
                2>&1
}
prop() {
        busctl --system --timeout=$CALL_TIMEOUT get-property $SVC "$1" $DIF "$2" |
                sed -E 's/^[a-z]+ //; s/^"(.*)"$/\1/'
}
prop_is() { [ "$(prop "$1" "$2")" = "$3" ]; }
web1=$MGR/domain/web1
values() { echo "$(prop "$web1" State):$(prop "$web1" MemoryKiB)"; }

echo "--- polkit decides (xensupd has no --admin-group: only polkit can let uid 1 in)"
start_daemon "" || exit 1
wait_for 10 prop_is "$web1" State running
n=$(settled)
out=$(as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause 2>&1)
check_match polkit-rule-allows-group "$out" "method return"
check polkit-rule-took-effect wait_for 5 prop_is "$web1" State paused
check_eq polkit-asked-once "$(($(settled) - n))" 1
check_eq polkit-asked-action "$(last_check action)" $MANAGE
check_eq polkit-asked-subject "$(last_check subject)" system-bus-name
check_eq polkit-asked-no-details "$(last_check details)" 0
check_eq polkit-asked-cancel-id "$(last_check cancel)" "''"
# dbus-send does not allow interactive authorization: flags 0.
check_eq polkit-asked-not-interactive "$(last_check flags)" 0
check_match audit-polkit-allowed "$(cat "$work/daemon.log")" "xensupd: Pause of web1 by uid 1 \(pid [0-9]+\)"
as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Unpause >/dev/null 2>&1
check polkit-unpause wait_for 5 prop_is "$web1" State running

before=$(values)
n=$(settled)
out=$(as_nobody dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause 2>&1)
check_match polkit-nobody-challenged "$out" \
        "^Error $ERR.AccessDenied: uid 65534 is not authorized for $MANAGE: polkit requires authentication as an administrator, and the call did not allow interactive authorization; call again allowing it with a polkit agent running \(e.g. pkttyagent\), call as root, or add the user to group xensup, whose rule is /usr/share/polkit-1/rules.d/org.xensup.supervisor1.rules, or write a rule in /etc/polkit-1/rules.d$"
check_eq polkit-nobody-asked-once "$(($(settled) - n))" 1
n=$(settled)
out=$(as_nobody "$build/xensupctl" vcpu-set web1 1 2>&1)
check_eq bus-refused-exit "$?" 5
check_eq bus-refused-message "$out" \
        "xensupctl: permission denied: vcpu-set web1 1: the D-Bus policy refused org.xensup.supervisor1.Domain.SetVCPUs before xensupd saw it; call as root, or allow it in a policy file (xensup's is org.xensup.supervisor1.conf in /usr/share/dbus-1/system.d; local ones in /etc/dbus-1/system.d)"
check_eq bus-refused-polkit-not-asked "$(($(settled) - n))" 0
# busctl allows interactive authorization by default: polkit is told (flags 1), finds no agent.
out=$(as_nobody busctl --system --timeout=$CALL_TIMEOUT call $SVC "$web1" $DIF SetMemory t 70000 2>&1)
check_match polkit-nobody-interactive "$out" "no polkit agent answered; run one \(e.g. pkttyagent\)"
check_eq polkit-asked-interactive "$(last_check flags)" 1
out=$(as_bin dbus-send --system --print-reply --dest=$SVC $MGR $MIF.Reload 2>&1)
check_match polkit-says-no "$out" \
        "^Error $ERR.AccessDenied: uid 2 is not authorized for $MANAGE \(polkit said no\); add the user to group xensup, whose rule is /usr/share/polkit-1/rules.d/org.xensup.supervisor1.rules, or write a rule in /etc/polkit-1/rules.d$"
check_eq polkit-refused-changed-nothing "$(values)" "$before"
check_match audit-polkit-refused "$(cat "$work/daemon.log")" \
        "xensupd: Pause of web1 by uid 65534 \(pid [0-9]+\) refused"

n=$(settled)
out=$(sds "$web1" $DIF.SetMemory uint64:81920)
check_match root-allowed "$out" "method return"
check root-took-effect wait_for 5 prop_is "$web1" MemoryKiB 81920
check_eq root-polkit-not-asked "$(($(settled) - n))" 0

# Ten calls at once, five allowed and five refused: each call has its own query and answer.
n=$(settled)
for i in 1 2 3 4 5; do
        as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.SetMemory \
                uint64:$((81920 + i * 1024)) >"$work/par-ok.$i" 2>&1 &
        as_nobody dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Destroy \
                >"$work/par-no.$i" 2>&1 &
done
wait_calls() {
        for i in 1 2 3 4 5; do
                [ -s "$work/par-ok.$i" ] && [ -s "$work/par-no.$i" ] || return 1
        done
}
check parallel-all-answered wait_for 20 wait_calls
sleep 0.5
check_eq parallel-allowed "$(cat "$work"/par-ok.* | grep -c 'method return')" 5
check_eq parallel-refused "$(cat "$work"/par-no.* | grep -c "^Error $ERR.AccessDenied: uid 65534 ")" 5
check_eq parallel-one-query-each "$(($(settled) - n))" 10
check_eq parallel-still-running "$(prop "$web1" State)" running

# host-devices: the shipped rule grants group xensup (here daemon) manage, not host devices.
setpriv --reuid=daemon --regid=daemon --init-groups sleep 30 &
sleeper=$!
pkcheck --action-id $MANAGE --process $sleeper >/dev/null 2>&1
check_eq pkcheck-group-manage "$?" 0
pkcheck --action-id $HOSTDEV --process $sleeper >/dev/null 2>&1
check_eq pkcheck-group-no-host-devices "$?" 2
kill $sleeper
wait $sleeper 2>/dev/null
stop_daemon

echo "--- --polkit=no: polkit is never asked, the admin group decides; the audit's journal fields"
check journal-listening start_journal_standin
write_journal_ns
saved_valgrind=${VALGRIND:-}
VALGRIND="unshare -m $work/in-journal-ns ${VALGRIND:-}" XENSUP_LOG=journal \
        XENSUP_TEST_JOURNAL="$work/journal" start_daemon "" --polkit=no --admin-group=daemon ||
        exit 1
VALGRIND=$saved_valgrind
n=$(settled)
# setpriv itself, not as_daemon: a function in the background is a subshell, $! not the caller.
setpriv --reuid=daemon --regid=daemon --init-groups dbus-send --system --print-reply --dest=$SVC \
        "$web1" $DIF.SetMemory uint64:77824 >"$work/np-ok" 2>&1 &
allowed_pid=$!
wait $allowed_pid
check_match no-polkit-admin-group "$(cat "$work/np-ok")" "method return"
before=$(values)
setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --system --print-reply --dest=$SVC \
        "$web1" $DIF.Pause >"$work/np-no" 2>&1 &
refused_pid=$!
wait $refused_pid
check_match no-polkit-nobody-denied "$(cat "$work/np-no")" \
        "^Error $ERR.AccessDenied: uid 65534 is not authorized for $MANAGE: it is neither root nor in the admin group daemon \(--admin-group\); polkit is not asked \(--polkit=no\)$"
out=$(as_bin dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause 2>&1)
check_match no-polkit-bin-denied "$out" "^Error $ERR.AccessDenied: uid 2 is not authorized"
check_eq no-polkit-changed-nothing "$(values)" "$before"
dbus-send --system --print-reply --dest=$SVC $MGR $MIF.Reload >"$work/np-root" 2>&1 &
root_pid=$!
wait $root_pid
check_match no-polkit-root "$(cat "$work/np-root")" "method return"
check_eq no-polkit-never-asked "$(($(settled) - n))" 0
stop_daemon
sleep 0.2
kill "$journal_pid" 2>/dev/null
wait "$journal_pid" 2>/dev/null
check journal-audit-fields python3 - "$work/journal.jsonl" "$allowed_pid" "$refused_pid" \
        "$root_pid" <<'PY'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
# An allowed call's audit line, and a refused one's (LOG_MID_AUDIT, LOG_MID_CALLER_DENIED).
ids = {"allowed": "5e1d0c1a8f3b4c6e9a7d2b1f0e3c4a58", "refused": "d8fc6fe45eed4bf7bb4f8196d44b1220"}
audit = [e for e in entries if e.get("MESSAGE_ID") in ids.values()]
def one(pid):
    got = [e for e in audit if e.get("XENSUP_CALLER_PID") == pid]
    assert len(got) == 1, (pid, got, audit)
    return got[0]
a, r, root = one(sys.argv[2]), one(sys.argv[3]), one(sys.argv[4])
assert a["MESSAGE"] == "SetMemory of web1 by uid 1 (pid %s)" % sys.argv[2], a
assert (a["PRIORITY"], a["XENSUP_CALLER_UID"], a["XENSUP_METHOD"]) == ("5", "1", "SetMemory"), a
assert (a["XENSUP_POLKIT_ACTION"], a["XENSUP_DECISION"]) == ("org.xensup.supervisor1.manage", "admin-group"), a
assert a["XENSUP_DOMAIN"] == "web1" and len(a["XENSUP_UUID"]) == 36 and a["XENSUP_DOMID"].isdigit(), a
assert "XENSUP_REASON" in a and a["MESSAGE_ID"] == ids["allowed"], a
assert r["MESSAGE"] == "Pause of web1 by uid 65534 (pid %s) refused" % sys.argv[3], r
assert (r["PRIORITY"], r["XENSUP_CALLER_UID"], r["XENSUP_DECISION"]) == ("4", "65534", "refused"), r
assert r["MESSAGE_ID"] == ids["refused"], r
assert root["MESSAGE"] == "Reload by uid 0 (pid %s)" % sys.argv[4], root
assert root["XENSUP_DECISION"] == "root" and "XENSUP_DOMAIN" not in root, root
PY

echo "--- a polkit error is a refusal, even for the admin group; polkitd gone: the fallback"
start_daemon "" --admin-group=daemon || exit 1
n=$(settled)
out=$(as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.SetMemory uint64:69632 2>&1)
check_match polkit-again-allows "$out" "method return"
check_eq polkit-again-asked "$(($(settled) - n))" 1
# Our actions withdrawn: polkit fails the check ("not registered"); never an allow.
mv "$pk/actions/org.xensup.supervisor1.policy" "$pk/withdrawn.policy"
action_gone() { ! pkaction --action-id $MANAGE >/dev/null 2>&1; }
if wait_for 10 action_gone; then
        out=$(as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause 2>&1)
        check_match polkit-error-refuses "$out" \
                "^Error $ERR.AccessDenied: uid 1 is not authorized for $MANAGE: polkit could not decide \(org.freedesktop.PolicyKit1.Error.Failed: .*$MANAGE.*\)"
        check_eq polkit-error-changed-nothing "$(prop "$web1" State)" running
else
        fail polkit-error-refuses "polkitd did not notice the withdrawn action file"
fi
mv "$pk/withdrawn.policy" "$pk/actions/org.xensup.supervisor1.policy"
# polkitd reads the file back in its own time: the late answers below need the action again.
check polkit-action-back wait_for 10 sh -c "pkaction --action-id $MANAGE >/dev/null 2>&1"

echo "--- late answers (polkitd stopped meanwhile): dispatched again, the object looked up anew"
# asked_since N COUNT: the monitor has seen N + COUNT CheckAuthorization calls.
asked_since() { [ "$(checks_sent)" -ge $(($1 + $2)) ]; }
kill -STOP "$polkit_pid"
n=$(checks_sent)
as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause >"$work/late-pause" 2>&1 &
late1=$!
as_daemon dbus-send --system --print-reply --dest=$SVC $MGR/domain/gone2 $DIF.Start \
        >"$work/late-start" 2>&1 &
late2=$!
check late-both-asked wait_for 10 asked_since "$n" 2
# Meanwhile root removes gone2 (its file gone, a reload); root is never asked about.
rm "$work/conf/gone2.conf"
check_match late-root-reload "$(sds $MGR $MIF.Reload)" "method return"
check_match late-gone2-removed "$(sds $MGR $MIF.GetDomain string:gone2)" "^Error $ERR.NoSuchDomain"
kill -CONT "$polkit_pid"
wait "$late1" "$late2"
check_match late-allowed "$(cat "$work/late-pause")" "method return"
check late-took-effect wait_for 5 prop_is "$web1" State paused
check_match late-object-gone "$(cat "$work/late-start")" \
        "^Error org.freedesktop.DBus.Error.UnknownObject: "
sds "$web1" $DIF.Unpause >/dev/null
check late-unpaused wait_for 5 prop_is "$web1" State running

# xensupd stops with a query in flight: it frees it (ASan, valgrind) and exits 0.
kill -STOP "$polkit_pid"
n=$(checks_sent)
as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause >"$work/late-exit" 2>&1 &
late3=$!
check exit-pending-asked wait_for 10 asked_since "$n" 1
stop_daemon
wait "$late3"
check_match exit-pending-caller-told "$(cat "$work/late-exit")" "^Error org.freedesktop.DBus.Error"
kill -CONT "$polkit_pid"
start_daemon "" --admin-group=daemon || exit 1
check_eq exit-pending-changed-nothing "$(prop "$web1" State)" running

# polkitd dies with a query in flight: the bus says NoReply, a refusal (never the fallback).
kill -STOP "$polkit_pid"
n=$(checks_sent)
as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause >"$work/late-kill" 2>&1 &
late4=$!
check kill-pending-asked wait_for 10 asked_since "$n" 1
kill -KILL "$polkit_pid"
wait "$polkit_pid" 2>/dev/null
polkit_pid=""
wait "$late4"
check_match kill-pending-refused "$(cat "$work/late-kill")" \
        "^Error $ERR.AccessDenied: uid 1 is not authorized for $MANAGE: polkit could not decide \(org.freedesktop.DBus.Error.NoReply: "
check_eq kill-pending-changed-nothing "$(prop "$web1" State)" running

stop_polkitd
name_gone() { ! busctl --system --timeout=2 status org.freedesktop.PolicyKit1 >/dev/null 2>&1; }
check polkitd-gone wait_for 10 name_gone
before=$(values)
n=$(settled)
out=$(as_nobody dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.Pause 2>&1)
check_match fallback-nobody-denied "$out" \
        "^Error $ERR.AccessDenied: uid 65534 is not authorized for $MANAGE: it is neither root nor in the admin group daemon \(--admin-group\); polkit is not running$"
check_eq fallback-changed-nothing "$(values)" "$before"
out=$(as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.SetMemory uint64:65536 2>&1)
check_match fallback-admin-group-allowed "$out" "method return"
check fallback-took-effect wait_for 5 prop_is "$web1" MemoryKiB 65536
# xensupd still asks (polkit may come back); the bus answers that nobody owns the name.
check_eq fallback-asked-bus "$(($(settled) - n))" 2
check_match fallback-service-unknown "$(grep -c 'org.freedesktop.DBus.Error.ServiceUnknown' "$work/monitor.json")" "^[1-9]"
out=$(sds "$web1" $DIF.Pause)
check_match fallback-root "$out" "method return"
sds "$web1" $DIF.Unpause >/dev/null
check_match audit-fallback "$(cat "$work/daemon.log")" \
        "xensupd: SetMemory of web1 by uid 1 \(pid [0-9]+\)"
stop_daemon

check_eq host-polkit-untouched "$(host_polkit)" "$host_before"
kill "$mon_pid" 2>/dev/null
wait "$mon_pid" 2>/dev/null
mon_pid=""
summary test-polkit
