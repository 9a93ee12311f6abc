#!/usr/bin/env bash
# Integration test of xensupd's D-Bus API (issue 7) with busctl and dbus-send:
# every method, property and signal, every named error, the unprivileged
# caller refused (by xensupd's fallback: no polkitd here; tests/test-polkit.sh
# runs one), every decided call audited with its caller's uid and pid,
# ObjectManager events, the shipped introspection XML against the running
# daemon, the shipped D-Bus policy loaded into a dbus-daemon of our own, and
# the systemd/D-Bus/tmpfiles/polkit files installed by `make install`.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 300 bash "$0" "$@"

# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"


# bc ARGS...: busctl on the session bus, bounded.
bc() { busctl --user --timeout=$CALL_TIMEOUT "$@"; }
# ds [--system] DEST-PATH IFACE.METHOD ARGS...: dbus-send; prints the reply or
# "Error NAME: MESSAGE" (dbus-send shows the error name, busctl does not).
ds() {
        local bus=--session
        if [ "$1" = --system ]; then bus=--system; shift; fi
        dbus-send $bus --print-reply --reply-timeout=$((CALL_TIMEOUT * 1000)) \
                --dest=$SVC "$@" 2>&1
}
# prop PATH NAME: a Domain property's value, unquoted.
prop() { bc get-property $SVC "$1" $DIF "$2" | sed -E 's/^[a-z]+ //; s/^"(.*)"$/\1/'; }
prop_is() { [ "$(prop "$1" "$2")" = "$3" ]; }
path_of() { bc call $SVC $MGR $MIF GetDomain s "$1" | sed -E 's/^o "(.*)"$/\1/'; }

mkconf web1
mkconf web2
mkconf idle autostart=false
mkconf gone autostart=false

start_bus session || exit 1
start_sim || exit 1
# The admin group is "daemon": the user daemon (uid 1) is in it, nobody is not, on every
# Debian system, so the test needs no new user or group.
start_daemon --user --admin-group=daemon || exit 1

web1=$(path_of web1)
web2=$(path_of web2)
idle=$(path_of idle)
check_eq path-encoded "$web1" "$MGR/domain/web1"
wait_for 10 prop_is "$web1" State running
wait_for 10 prop_is "$web2" State running

echo "--- introspection: the shipped XML against the running daemon"
normalise() {
        # interface/member/signature lines of our interfaces, sorted
        python3 -c '
import sys, xml.etree.ElementTree as ET
out = set()
for f in sys.argv[1:]:
    for i in ET.parse(f).getroot().iter("interface"):
        n = i.get("name")
        if not n.startswith("org.xensup."):
            continue
        for m in i:
            if m.tag == "method":
                ins = "".join(a.get("type") for a in m.iter("arg") if a.get("direction", "in") == "in")
                outs = "".join(a.get("type") for a in m.iter("arg") if a.get("direction") == "out")
                out.add("%s method %s (%s) -> (%s)" % (n, m.get("name"), ins, outs))
            elif m.tag == "signal":
                out.add("%s signal %s (%s)" % (n, m.get("name"), "".join(a.get("type") for a in m.iter("arg"))))
            elif m.tag == "property":
                out.add("%s property %s %s %s" % (n, m.get("name"), m.get("type"), m.get("access")))
print("\n".join(sorted(out)))' "$@"
}
bc introspect --xml-interface $SVC $MGR >"$work/mgr.xml"
bc introspect --xml-interface $SVC "$web1" >"$work/dom.xml"
normalise "$src/units/org.xensup.supervisor1.xml" >"$work/shipped.txt"
normalise "$work/mgr.xml" "$work/dom.xml" >"$work/live.txt"
if diff -u "$work/shipped.txt" "$work/live.txt"; then pass introspection-matches-xml; else
        fail introspection-matches-xml "units/org.xensup.supervisor1.xml differs (diff above)"
fi
check_eq introspection-members "$(wc -l <"$work/live.txt")" 58
check introspect-object-manager grep -q 'org.freedesktop.DBus.ObjectManager' "$work/mgr.xml"
check_match introspect-domain-children "$(bc introspect --xml-interface $SVC $MGR/domain)" \
        '<node name="web1"/>' 

echo "--- Manager: ListDomains, GetDomain"
list=$(bc --json=short call $SVC $MGR $MIF ListDomains)
check_eq list-domains "$(printf '%s' "$list" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["type"] == "a(ssuso)", d["type"]
print(" ".join("%s:%s:%s" % (r[0], r[3], r[4].rsplit("/", 1)[1]) for r in d["data"][0]))')" \
        "gone:stopped:gone idle:stopped:idle web1:running:web1 web2:running:web2"
uuid=$(prop "$web1" UUID)
check_eq get-domain-by-uuid "$(path_of "$uuid")" "$web1"
check_eq get-domain-by-uuid-uppercase "$(path_of "${uuid^^}")" "$web1"
out=$(ds $MGR $MIF.GetDomain string:web9)
check_eq error-no-such-domain "$out" "Error $ERR.NoSuchDomain: no such domain: web9"

echo "--- Domain properties"
bc --json=short call $SVC "$web1" org.freedesktop.DBus.Properties GetAll s $DIF >"$work/props.json"
check props-getall python3 - "$work/props.json" "$uuid" "$work/conf/web1.conf" <<'PY'
import json, sys, time
p = {k: v for k, v in json.load(open(sys.argv[1]))["data"][0].items()}
want_types = {"Name": "s", "UUID": "s", "DomID": "u", "State": "s", "ShutdownReason": "s",
              "MemoryKiB": "t", "MaxMemoryKiB": "t", "VCPUs": "u", "OnPoweroff": "s",
              "OnReboot": "s", "OnCrash": "s", "RestartCount": "u", "Failure": "s",
              "ConfigPath": "s", "StartedAt": "t", "OnWatchdog": "s", "OnSoftReset": "s",
              "RestartAt": "t", "KeptOf": "s", "LastAction": "s", "LastActionUID": "u",
              "LastActionPID": "u", "LastActionAt": "t", "Devices": "a(susssuu)",
              "Progress": "(stt)"}
assert {k: v["type"] for k, v in p.items()} == want_types, p
v = {k: x["data"] for k, x in p.items()}
assert v["Name"] == "web1" and v["UUID"] == sys.argv[2], v
assert v["State"] == "running" and 0 < v["DomID"] < 0x7ff0, v
assert v["ShutdownReason"] == "none" and v["RestartCount"] == 0 and v["Failure"] == "", v
assert v["MemoryKiB"] == 65536 and v["MaxMemoryKiB"] == 131072 and v["VCPUs"] == 1, v
assert (v["OnPoweroff"], v["OnReboot"], v["OnCrash"]) == ("destroy", "restart", "restart"), v
assert (v["OnWatchdog"], v["OnSoftReset"]) == ("destroy", "soft-reset"), v
assert v["RestartAt"] == 0 and v["KeptOf"] == "" and v["Devices"] == [], v
assert v["Progress"] == ["", 0, 0], v
# Started from the config directory at start-up: no person asked.
assert (v["LastAction"], v["LastActionUID"], v["LastActionAt"]) == ("", 0, 0), v
assert v["ConfigPath"] == sys.argv[3], v
assert abs(v["StartedAt"] / 1e6 - time.time()) < 120, v
PY
check_eq domid-none-when-stopped "$(prop "$idle" DomID)" 4294967295
check_eq started-at-zero-when-never-started "$(prop "$idle" StartedAt)" 0
check emits-change-annotation bash -c "! grep -q 'EmitsChangedSignal\" value=\"false' $work/dom.xml"

echo "--- signals: PropertiesChanged, DomainNew/Removed, InterfacesAdded/Removed"
timeout 120 busctl --user monitor --json=short $SVC >"$work/monitor.json" 2>/dev/null &
mon_pid=$!
# ready once it shows a call of ours
monitor_sees_us() {
        bc call $SVC $MGR $MIF ListDomains >/dev/null
        grep -q '"member":"ListDomains"' "$work/monitor.json"
}
check monitor-ready wait_for 10 monitor_sees_us

echo "--- Domain methods and their errors"
dsd() { local p=$1; shift; ds "$p" "$@"; }
check_match pause "$(dsd "$web1" $DIF.Pause)" "method return"
check pause-state wait_for 5 prop_is "$web1" State paused
out=$(dsd "$web1" $DIF.Pause)
check_match pause-twice-invalid-state "$out" "^Error $ERR.InvalidState: "
dsd "$web1" $DIF.Unpause >/dev/null
check unpause-state wait_for 5 prop_is "$web1" State running
out=$(dsd "$web1" $DIF.SetMemory uint64:98304)
check_match set-memory-ok "$out" "method return"
check set-memory-property wait_for 5 prop_is "$web1" MemoryKiB 98304
out=$(dsd "$web1" $DIF.SetMemory uint64:1048576)
check_match set-memory-over-max "$out" "^Error $ERR.InvalidArgument: "
check_eq set-memory-refused-unchanged "$(prop "$web1" MemoryKiB)" 98304
dsd "$web1" $DIF.SetVCPUs uint32:2 >/dev/null
check set-vcpus-property wait_for 5 prop_is "$web1" VCPUs 2
out=$(dsd "$web1" $DIF.SetVCPUs uint32:3)
check_match set-vcpus-over-max "$out" "^Error $ERR.InvalidArgument: "
out=$(dsd "$web1" $DIF.SetVCPUs uint32:0)
check_match set-vcpus-zero "$out" "^Error $ERR.InvalidArgument: "
out=$(dsd "$web1" $DIF.Start)
check_match start-running-invalid-state "$out" "^Error $ERR.InvalidState: .*web1"
out=$(dsd "$web1" $DIF.Shutdown string:halt uint32:0)
check_match shutdown-bad-mode "$out" "^Error $ERR.InvalidArgument: unknown shutdown mode 'halt'"
out=$(dsd "$idle" $DIF.Pause)
check_match pause-stopped-invalid-state "$out" "^Error $ERR.InvalidState: "
out=$(dsd "$idle" $DIF.Destroy)
check_match destroy-stopped-invalid-state "$out" "^Error $ERR.InvalidState: "

echo "--- Save, RestoreDomain and the host calls: their refusals"
out=$("$build/tests/bus-create" --user --save "$web1" --flags 2 --as-is 3 3>"$work/flags.xsave" 2>&1)
check_match save-unknown-flags "$out" "unknown Save flags 0x2"
out=$("$build/tests/bus-create" --user --save "$web1" --as-is 3 3<"$work/flags.xsave" 2>&1)
check_match save-fd-read-only "$out" "not open for writing"
out=$(dsd "$idle" $DIF.CancelSave)
check_match cancel-save-none-invalid-state "$out" "^Error $ERR.InvalidState: .*no save to cancel"
out=$("$build/tests/bus-create" --user --restore --as-is 3 3</dev/null 2>&1)
check_match restore-not-regular "$out" "not a regular file"
echo "not an image" >"$work/text.xsave"
out=$("$build/tests/bus-create" --user --restore "$work/text.xsave" 2>&1)
check_match restore-not-image "$out" "not a xensup saved image"
out=$("$build/tests/bus-create" --user --restore --flags 1 "$work/text.xsave" 2>&1)
check_match restore-unknown-flags "$out" "unknown RestoreDomain flags"
out=$(dsd "$web1" $DIF.Migrate string:otherhost uint64:0)
check_match migrate-other-host "$out" "^Error $ERR.InvalidArgument: cannot migrate to 'otherhost': only localhost"
out=$(dsd "$web1" $DIF.Migrate string:localhost uint64:2)
check_match migrate-unknown-flags "$out" "^Error $ERR.InvalidArgument: unknown Migrate flags 0x2"
out=$(dsd "$idle" $DIF.Migrate string:localhost uint64:0)
check_match migrate-stopped-invalid-state "$out" "^Error $ERR.InvalidState: domain idle is stopped: cannot migrate"
out=$(bc call $SVC $MGR $MIF HostBoot 2>&1)
check_eq host-boot-nothing "$out" "a(sss) 0"
check_eq progress-idle "$(bc get-property $SVC "$web1" $DIF Progress)" '(stt) "" 0 0'

old=$(prop "$web2" DomID)
dsd "$web2" $DIF.Reboot >/dev/null
check reboot-new-domid wait_for 10 bash -c "d=\$(busctl --user get-property $SVC $web2 $DIF DomID | cut -d' ' -f2); [ \"\$d\" != $old ] && [ \"\$d\" != 4294967295 ]"
check reboot-running wait_for 10 prop_is "$web2" State running
check reboot-counted wait_for 5 prop_is "$web2" RestartCount 1
check reboot-reason wait_for 5 prop_is "$web2" ShutdownReason reboot
dsd "$web2" $DIF.Shutdown string:reboot uint32:5 >/dev/null
check shutdown-reboot-counted wait_for 10 prop_is "$web2" RestartCount 2
# the second restart in a row comes after a back-off
check shutdown-reboot-running wait_for 10 prop_is "$web2" State running
dsd "$web2" $DIF.Shutdown string:poweroff uint32:5 >/dev/null
check shutdown-poweroff-stopped wait_for 10 prop_is "$web2" State stopped
check_eq shutdown-poweroff-reason "$(prop "$web2" ShutdownReason)" poweroff
check_eq shutdown-domid-none "$(prop "$web2" DomID)" 4294967295
dsd "$idle" $DIF.Start >/dev/null
check start-idle wait_for 10 prop_is "$idle" State running
dsd "$idle" $DIF.Destroy >/dev/null
check destroy-idle wait_for 10 prop_is "$idle" State stopped

echo "--- Simulator interface"
out=$(ds $MGR $SIF.GuestAction string:web1 string:crash)
check_match sim-crash-ok "$out" "method return"
check sim-crash-restarted wait_for 10 prop_is "$web1" RestartCount 1
check_eq sim-crash-reason "$(prop "$web1" ShutdownReason)" crash
check sim-crash-running wait_for 10 prop_is "$web1" State running
out=$(ds $MGR $SIF.GuestAction string:web1 string:explode)
check_match sim-unknown-action "$out" "^Error $ERR.InvalidArgument: unknown guest action 'explode'"
out=$(ds $MGR $SIF.GuestAction string:web9 string:crash)
check_eq sim-no-such-domain "$out" "Error $ERR.NoSuchDomain: no such domain: web9"
out=$(ds $MGR $SIF.GuestAction string:idle string:crash)
check_match sim-stopped-invalid-state "$out" "^Error $ERR.InvalidState: "
stats=$(bc --json=short call $SVC $MGR $SIF GetStats)
check sim-stats python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["type"] == "uutta{st}", d
pid, doms, total, free, calls = d["data"]
assert pid > 0 and doms >= 2 and total >= free, d
assert calls["create"] >= 3 and calls["guest_action"] >= 1, calls' "$stats"
out=$(ds $MGR $SIF.InjectFault string:unpause uint32:1 uint32:5 uint32:1)
check_match fault-inject "$out" "method return"
out=$(dsd "$idle" $DIF.Start)
check_match fault-start-hypervisor-error "$out" "^Error $ERR.Hypervisor: "
check fault-start-failed wait_for 5 prop_is "$idle" State failed
check_match fault-start-failure-says-why "$(prop "$idle" Failure)" "unpause: Input/output error"
check_eq fault-start-nothing-left "$(prop "$idle" DomID)" 4294967295
out=$(ds $MGR $SIF.InjectFault string:teleport uint32:1 uint32:5 uint32:1)
check_match fault-unknown-op "$out" "^Error $ERR.InvalidArgument: "

echo "--- CreateDomain: the caller's descriptor, errors, ObjectManager"
# CreateDomain takes a file descriptor the caller opened (h): dbus-send cannot pass one.
bcr() { "$build/tests/bus-create" --user "$@" 2>&1; }
mkdir -p "$work/elsewhere"
chmod 755 "$work/elsewhere"
mkconf new1
mv "$work/conf/new1.conf" "$work/elsewhere/new1.conf"
out=$(bcr --as-is 3 3<"$work/elsewhere")
check_match create-directory "$out" "^Error $ERR.InvalidArgument: .*not a regular file"
out=$(bcr --as-is 3 3< <(cat "$work/elsewhere/new1.conf"))
check_match create-pipe "$out" "^Error $ERR.InvalidArgument: .*not a regular file"
out=$(bcr --as-is 3 3>>"$work/elsewhere/new1.conf")
check_match create-write-only "$out" "^Error $ERR.InvalidArgument: .*not open for reading"
out=$(ds $MGR $MIF.CreateDomain string:"$work/elsewhere/new1.conf")
check_match create-path-string-refused "$out" "^Error org.freedesktop.DBus.Error.InvalidArgs: "
printf 'name = "bad1"\nmemory = 64\nkernel = "%s"\nvcpus = "many"\n' "$work/kernel" \
        >"$work/elsewhere/bad1.conf"
want=$("$build/xensupd" --check-config "$work/elsewhere/bad1.conf" 2>&1 | grep -v ': ok$' | head -1)
out=$(bcr "$work/elsewhere/bad1.conf")
check_match create-invalid-config "$out" "^Error $ERR.InvalidConfig: "
check_match create-invalid-config-file-line "$out" "$work/elsewhere/bad1.conf:4"
check_match create-invalid-config-same-text "$out" "$(printf '%s' "$want" | sed 's/[][\.*^$()+?{}|]/\\&/g')"
# A name with a newline would forge log lines and break the record: refused, and said so.
cp "$work/elsewhere/new1.conf" "$work/elsewhere/$(printf 'nl\nx.conf')"
out=$(bcr "$work/elsewhere/$(printf 'nl\nx.conf')")
check_match create-control-char-path "$out" "^Error $ERR.InvalidArgument: .*control character"
rm -f "$work/elsewhere/$(printf 'nl\nx.conf')"
out=$(bcr "$work/conf/web1.conf")
check_match create-exists "$out" "^Error $ERR.DomainExists: "
# Through a symlink: the caller opened it with its rights; the daemon shows where it led.
ln -s "$work/elsewhere/new1.conf" "$work/elsewhere/link.conf"
out=$(bcr "$work/elsewhere/link.conf")
check_eq create-ok "$out" "object path $MGR/domain/new1"
check create-running wait_for 10 prop_is "$MGR/domain/new1" State running
check_eq create-config-path "$(prop "$MGR/domain/new1" ConfigPath)" "$work/elsewhere/new1.conf"
managed=$(bc --json=short call $SVC $MGR org.freedesktop.DBus.ObjectManager GetManagedObjects)
check object-manager-lists python3 -c '
import json, sys
d = json.loads(sys.argv[1])["data"][0]
names = sorted(p.rsplit("/", 1)[1] for p, ifs in d.items() if "org.xensup.supervisor1.Domain" in ifs)
assert names == ["gone", "idle", "new1", "web1", "web2"], names' "$managed"

echo "--- Reload: a removed config removes its stopped domain"
rm "$work/conf/gone.conf"
out=$(ds $MGR $MIF.Reload)
check_match reload-ok "$out" "method return"
out=$(ds $MGR $MIF.GetDomain string:gone)
check_eq reload-removed "$out" "Error $ERR.NoSuchDomain: no such domain: gone"
check reload-removed-not-enumerated bash -c "! busctl --user tree $SVC | grep -q domain/gone"
mkconf late
ds $MGR $MIF.Reload >/dev/null
check reload-added wait_for 10 prop_is "$MGR/domain/late" State running

echo "--- authorization: the daemon's own check (any uid may use this bus)"
state_before=$(prop "$web1" State)
values_before="$(prop "$web1" State):$(prop "$web1" MemoryKiB):$(prop "$web1" RestartCount)"
out=$(as_nobody dbus-send --session --print-reply --dest=$SVC "$web1" $DIF.Pause 2>&1)
check_match nobody-pause-denied "$out" "^Error $ERR.AccessDenied: "
check_eq nobody-pause-changed-nothing "$(prop "$web1" State)" "$state_before"
for call in "$web1 $DIF.Destroy" "$web1 $DIF.Start" "$web1 $DIF.Reboot" "$web1 $DIF.Unpause" \
        "$web1 $DIF.Shutdown string:poweroff uint32:0" "$web1 $DIF.SetMemory uint64:70000" \
        "$web1 $DIF.SetVCPUs uint32:1" "$MGR $MIF.Reload" \
        "$MGR $SIF.GuestAction string:web1 string:crash" \
        "$MGR $SIF.InjectFault string:create uint32:1 uint32:5 uint32:1"; do
        # shellcheck disable=SC2086
        out=$(as_nobody dbus-send --session --print-reply --dest=$SVC $call 2>&1)
        check_match "nobody-denied ${call##*.}" "$out" "^Error $ERR.AccessDenied: "
done
cp "$work/elsewhere/new1.conf" "$work/elsewhere/nob.conf"
sed -i 's/new1/nob/' "$work/elsewhere/nob.conf"
chmod 644 "$work/elsewhere/nob.conf"
out=$(as_nobody "$build/tests/bus-create" --user "$work/elsewhere/nob.conf" 2>&1)
check_match "nobody-denied CreateDomain" "$out" "^Error $ERR.AccessDenied: "
check_eq nobody-changed-nothing \
        "$(prop "$web1" State):$(prop "$web1" MemoryKiB):$(prop "$web1" RestartCount)" \
        "$values_before"
out=$(as_nobody dbus-send --session --print-reply --dest=$SVC $MGR $MIF.ListDomains 2>&1)
check_match nobody-may-list "$out" "web1"
out=$(as_nobody busctl --user get-property $SVC "$web1" $DIF State 2>&1)
check_eq nobody-may-read "$out" 's "running"'
# A member of the admin group (by the user database, as dbus-daemon's own policy): allowed.
as_daemon() { setpriv --reuid=daemon --regid=daemon --init-groups "$@"; }
out=$(as_daemon dbus-send --session --print-reply --dest=$SVC "$web1" $DIF.SetMemory \
        uint64:90112 2>&1)
check_match admin-group-allowed "$out" "method return"
check admin-group-took-effect wait_for 5 prop_is "$web1" MemoryKiB 90112
# An image's config is its writer's word: the admin group may not restore one over a domain of
# the config directory (root's rights would open what it names); root may.
dsd "$web2" $DIF.Start >/dev/null
wait_for 10 prop_is "$web2" State running
out=$("$build/tests/bus-create" --user --save "$web2" "$work/elsewhere/web2.xsave" 2>&1)
check_match save-web2 "$out" "method return"
chmod 644 "$work/elsewhere/web2.xsave"
out=$(as_daemon "$build/tests/bus-create" --user --restore "$work/elsewhere/web2.xsave" 2>&1)
check_match restore-config-dir-admin-denied "$out" \
        "^Error $ERR.AccessDenied: .*web2 is of the config directory.*uid 1 may not restore"
check_match restore-config-dir-root "$("$build/tests/bus-create" --user --restore \
        "$work/elsewhere/web2.xsave" 2>&1)" "^object path $web2"
check restore-web2-running wait_for 10 prop_is "$web2" State running
echo "--- audit: every decided mutating call is logged with its caller's uid and pid"
# audited NAME LINE COMMAND...: run one process (no shell function: its pid must be the caller's)
# in the background, so that its pid is known; the daemon's log must hold LINE, its PID replaced.
audited() {
        local name=$1 line=$2 pid
        shift 2
        "$@" >"$work/audit.out" 2>&1 &
        pid=$!
        wait "$pid"
        check "$name" grep -qxF "xensupd: ${line/PID/$pid}" "$work/daemon.log"
}
daemon_send=(setpriv --reuid=daemon --regid=daemon --init-groups dbus-send --session --print-reply
        "--reply-timeout=$((CALL_TIMEOUT * 1000))" "--dest=$SVC")
audited audit-pause "Pause of web1 by uid 1 (pid PID)" "${daemon_send[@]}" "$web1" $DIF.Pause
check_match audit-pause-done "$(cat "$work/audit.out")" "method return"
audited audit-unpause "Unpause of web1 by uid 1 (pid PID)" "${daemon_send[@]}" "$web1" $DIF.Unpause
audited audit-set-memory "SetMemory of web1 by uid 1 (pid PID)" "${daemon_send[@]}" "$web1" \
        $DIF.SetMemory uint64:90112
check_match audit-set-memory-done "$(cat "$work/audit.out")" "method return"
audited audit-reload "Reload by uid 1 (pid PID)" "${daemon_send[@]}" $MGR $MIF.Reload
check_match audit-reload-done "$(cat "$work/audit.out")" "method return"
mkconf audit1
mv "$work/conf/audit1.conf" "$work/elsewhere/audit1.conf"
# busctl cannot pass a descriptor: the tests' own client (tests/dbus/bus-create.c) does.
audited audit-create-domain "CreateDomain by uid 0 (pid PID)" "$build/tests/bus-create" \
        --user "$work/elsewhere/audit1.conf"
check_match audit-create-domain-done "$(cat "$work/audit.out")" "^object path "
audited audit-refused "Pause of web1 by uid 65534 (pid PID) refused" setpriv --reuid=65534 --regid=65534 \
        --clear-groups dbus-send --session --print-reply --dest=$SVC "$web1" $DIF.Pause
check_match audit-refused-message "$(cat "$work/audit.out")" \
        "^Error $ERR.AccessDenied: uid 65534 is not authorized for org.xensup.supervisor1.manage: it is neither root nor in the admin group daemon \(--admin-group\); polkit is not asked on a session bus"

echo "--- the signals seen meanwhile"
sleep 0.5
kill "$mon_pid" 2>/dev/null
wait "$mon_pid" 2>/dev/null
check signals python3 - "$work/monitor.json" <<'PY'
import json, sys
sigs = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("type") == "signal":
        sigs.append(m)
def find(member, pred=lambda m: True):
    return [m for m in sigs if m["member"] == member and pred(m)]
pl = lambda m: m["payload"]["data"]
states = [pl(m)[1]["State"]["data"] for m in find("PropertiesChanged",
          lambda m: m["path"].endswith("/web1") and "State" in pl(m)[1])]
assert "paused" in states and "running" in states and "crashed" in states, states
assert all(len(pl(m)[1]) == 25 for m in find("PropertiesChanged")), "not every property sent"
new = [pl(m)[0] for m in find("DomainNew")]
assert "new1" in new and "late" in new, new
assert [pl(m)[0] for m in find("DomainRemoved")] == ["gone"], find("DomainRemoved")
added = [pl(m)[0] for m in find("InterfacesAdded")]
assert "/org/xensup/supervisor1/domain/new1" in added, added
assert all(m["path"] == "/org/xensup/supervisor1" for m in find("InterfacesAdded")), "path"
ia = find("InterfacesAdded", lambda m: pl(m)[0].endswith("/new1"))[0]
assert pl(ia)[1]["org.xensup.supervisor1.Domain"]["Name"]["data"] == "new1", pl(ia)
rm = find("InterfacesRemoved")
assert [pl(m)[0] for m in rm] == ["/org/xensup/supervisor1/domain/gone"], rm
assert "org.xensup.supervisor1.Domain" in pl(rm[0])[1], pl(rm[0])
PY

echo "--- the shipped policy, loaded by a system-like dbus-daemon"
stop_daemon
start_bus system || exit 1
# Group xensup exists once sysusers.d ran; in the test it may not: nothing else may be reported.
check_eq policy-loaded-cleanly "$(grep -v 'Unknown group "xensup"' "$work/system-bus.log")" ""
start_daemon "" --admin-group=daemon || exit 1
sds() { dbus-send --system --print-reply --reply-timeout=$((CALL_TIMEOUT * 1000)) --dest=$SVC "$@" 2>&1; }
out=$(sds "$web1" $DIF.SetMemory uint64:81920)
check_match policy-root-allowed "$out" "method return"
for call in "$MGR $MIF.ListDomains" "$MGR $MIF.GetDomain string:web1" \
        "$web1 org.freedesktop.DBus.Properties.Get string:$DIF string:State" \
        "$web1 org.freedesktop.DBus.Properties.GetAll string:$DIF" \
        "$MGR org.freedesktop.DBus.Introspectable.Introspect" \
        "$MGR org.freedesktop.DBus.ObjectManager.GetManagedObjects" \
        "$MGR $SIF.GetStats" "$MGR org.freedesktop.DBus.Peer.Ping"; do
        # shellcheck disable=SC2086
        out=$(as_nobody dbus-send --system --print-reply --dest=$SVC $call 2>&1)
        check_match "policy-nobody-may ${call##*.}" "$out" "method return"
done
for call in "$web1 $DIF.Pause" "$web1 $DIF.Destroy" "$web1 $DIF.Start" "$web1 $DIF.Reboot" \
        "$web1 $DIF.Unpause" "$web1 $DIF.Shutdown string:poweroff uint32:0" \
        "$web1 $DIF.SetMemory uint64:70000" "$web1 $DIF.SetVCPUs uint32:1" \
        "$MGR $MIF.Reload" \
        "$MGR $SIF.GuestAction string:web1 string:crash" \
        "$MGR $SIF.InjectFault string:create uint32:1 uint32:5 uint32:1"; do
        # shellcheck disable=SC2086
        out=$(as_nobody dbus-send --system --print-reply --dest=$SVC $call 2>&1)
        # The bus lets it through (polkit decides, as for machined); xensupd refuses it. No polkitd
        # runs on this bus: its fallback says so (tests/test-polkit.sh runs a real one).
        check_match "policy-nobody-denied ${call##*.}" "$out" \
                "^Error $ERR.AccessDenied: uid 65534 is not authorized for org.xensup.supervisor1.manage: it is neither root nor in the admin group daemon \(--admin-group\); polkit is not running\$"
done
out=$(as_nobody "$build/tests/bus-create" "$work/elsewhere/new1.conf" 2>&1)
check_match "policy-nobody-denied CreateDomain" "$out" \
        "^Error $ERR.AccessDenied: uid 65534 is not authorized for org.xensup.supervisor1.manage: it is neither root nor in the admin group daemon \(--admin-group\); polkit is not running\$"
# No property is writable: Properties.Set is still refused by the bus itself.
out=$(as_nobody dbus-send --system --print-reply --dest=$SVC "$web1" \
        org.freedesktop.DBus.Properties.Set string:$DIF string:VCPUs variant:uint32:1 2>&1)
check_match "policy-nobody-denied Set" "$out" "^Error org.freedesktop.DBus.Error.AccessDenied: "
check_eq policy-nobody-changed-nothing "$(sds "$web1" org.freedesktop.DBus.Properties.Get \
        string:$DIF string:MemoryKiB | tail -1 | tr -s ' ')" " variant uint64 81920"
check_eq policy-nobody-state-unchanged "$(sds "$web1" org.freedesktop.DBus.Properties.Get \
        string:$DIF string:State | tail -1 | tr -s ' ')" ' variant string "running"'
# The admin group (the fallback without polkit) gets through the bus and xensupd.
out=$(as_daemon dbus-send --system --print-reply --dest=$SVC "$web1" $DIF.SetMemory \
        uint64:77824 2>&1)
check_match policy-admin-group-allowed "$out" "method return"
out=$(as_nobody dbus-send --system --print-reply --dest=$SVC "$web1" \
        org.freedesktop.DBus.Properties.Get string:$DIF string:State 2>&1)
check_match policy-nobody-reads "$out" '"running"'
# The four ways a member of the admin group reached root's files, each refused, tried as a real
# unprivileged user (daemon, uid 1, in the admin group) against the shipped policy.
sprop() { busctl --system get-property $SVC "$1" $DIF "$2" | sed -E 's/^[a-z]+ //; s/^"(.*)"$/\1/'; }
sprop_is() { [ "$(sprop "$1" "$2")" = "$3" ]; }
# (1) CreateDomain reads the caller's descriptor: a root-only file cannot even be handed over.
cp "$work/elsewhere/new1.conf" "$work/elsewhere/secret.conf"
sed -i 's/new1/secret/' "$work/elsewhere/secret.conf"
echo 'TOPSECRET_KEY = 1' >>"$work/elsewhere/secret.conf"
chmod 600 "$work/elsewhere/secret.conf"
out=$(as_daemon "$build/tests/bus-create" "$work/elsewhere/secret.conf" 2>&1)
check_match create-unreadable-by-caller "$out" "^Error \(open\): .*Permission denied"
# (2) Swapping a readable file and a symlink to root's file while calling: root's never read.
printf 'name = "decoy"\nbogus_key = 1\n' >"$work/elsewhere/decoy.conf"
chmod 644 "$work/elsewhere/decoy.conf"
( while :; do
        ln -sf "$work/elsewhere/secret.conf" "$work/elsewhere/swap.conf"
        cp --preserve=mode "$work/elsewhere/decoy.conf" "$work/elsewhere/swap.tmp"
        mv -f "$work/elsewhere/swap.tmp" "$work/elsewhere/swap.conf"
done ) &
swapper=$!
# One process per call, so the calls spread over the swapper's pace.
for _ in $(seq 300); do
        as_daemon "$build/tests/bus-create" "$work/elsewhere/swap.conf"
done >"$work/swap.out" 2>&1
kill "$swapper"; wait "$swapper" 2>/dev/null
echo "swap race: $(grep -c 'unknown key' "$work/swap.out") decoy replies," \
        "$(grep -c 'Error (open)' "$work/swap.out") refused opens of the link, of 300"
check_eq create-swap-race-never-reads-root "$(grep -c TOPSECRET "$work/swap.out")" 0
check create-swap-race-ran test "$(grep -c 'unknown key' "$work/swap.out")" -gt 0
# (3) A kernel or ramdisk the caller may not read: refused (the build opens it as the caller).
echo "root's own initrd" >"$work/root-initrd"
chmod 600 "$work/root-initrd"
cp "$work/elsewhere/new1.conf" "$work/elsewhere/steal.conf"
sed -i 's/new1/steal/' "$work/elsewhere/steal.conf"
echo "ramdisk = \"$work/root-initrd\"" >>"$work/elsewhere/steal.conf"
chmod 644 "$work/elsewhere/steal.conf"
hv_domains() { "$build/tests/sim-tool" --sim-dir "$work/sim" list | wc -l; }
before=$(hv_domains)
out=$(as_daemon "$build/tests/bus-create" "$work/elsewhere/steal.conf" 2>&1)
check_match create-root-ramdisk-denied "$out" \
        "^Error $ERR.AccessDenied: steal: ramdisk $work/root-initrd: uid 1 may not read it"
check_eq create-root-ramdisk-no-domain "$(hv_domains)" "$before"
# ...and the same config from root is root's to decide: it runs.
out=$("$build/tests/bus-create" "$work/elsewhere/steal.conf" 2>&1)
check_match create-root-ramdisk-by-root "$out" "^(object path|Error $ERR.DomainExists)"
# (4) A created domain's file is never read again: a symlink to root's config planted in its
# place changes nothing at the next restart.
cp "$work/elsewhere/new1.conf" "$work/elsewhere/mine.conf"
sed -i 's/new1/mine/' "$work/elsewhere/mine.conf"
chmod 644 "$work/elsewhere/mine.conf"
out=$(as_daemon "$build/tests/bus-create" "$work/elsewhere/mine.conf" 2>&1)
check_match create-readable-by-caller "$out" "object path"
mine="$MGR/domain/mine"
check mine-running wait_for 10 sprop_is "$mine" State running
# The audit trail: who created it, as the bus vouched for the caller.
check_eq audit-last-action "$(sprop "$mine" LastAction):$(sprop "$mine" LastActionUID)" "create:1"
check_match audit-status-shows-who "$("$build/xensupctl" status mine)" \
        "Last action: create by uid 1 \(pid [0-9]+\) at "
# ...kept in its record, so a restarted daemon still knows.
check_match audit-in-record "$(xenstore-read "/tool/xensup/$(sprop "$mine" UUID)" 2>&1)" \
        "last_action=create"
sed -e 's/^memory = 64/memory = 96/' -e 's/^name = .*/name = "mine"/' \
        "$work/elsewhere/new1.conf" >"$work/root-mine.conf"
echo 'cmdline = "TOPSECRET"' >>"$work/root-mine.conf"
chmod 600 "$work/root-mine.conf"
ln -sf "$work/root-mine.conf" "$work/elsewhere/mine.conf"
old_domid=$(sprop "$mine" DomID)
sds $MGR $SIF.GuestAction string:mine string:reboot >/dev/null
check mine-restarted wait_for 10 bash -c "[ \"\$(busctl --system get-property $SVC $mine $DIF DomID)\" != 'u $old_domid' ] && busctl --system get-property $SVC $mine $DIF State | grep -q running"
check_eq created-file-not-reread-memory "$(sprop "$mine" MemoryKiB)" 65536
uuid_mine=$(sprop "$mine" UUID)
check_eq created-file-not-reread-cmdline \
        "$(xenstore-read "/vm/$uuid_mine/image/cmdline" 2>/dev/null | grep -c TOPSECRET)" 0

# (5) Core dumps of a created domain are made with its creator's rights: in a directory of the
# creator's own, a file the creator owns; where only root may write, nothing (root's files and
# directories are never made or touched for it).
dumpconf() { # NAME DIR
        sed -e "s/^name = .*/name = \"$1\"/" -e '/^on_crash/d' "$work/elsewhere/new1.conf" \
                >"$work/elsewhere/$1.conf"
        printf 'on_crash = "coredump-destroy"\ncoredump_dir = "%s"\n' "$2" >>"$work/elsewhere/$1.conf"
        chmod 644 "$work/elsewhere/$1.conf"
}
mkdir -p "$work/cores-daemon" "$work/cores-root"
chown daemon: "$work/cores-daemon"
chmod 700 "$work/cores-daemon" "$work/cores-root"
dumpconf dump1 "$work/cores-daemon"
dumpconf dump2 "$work/cores-root/new"
for d in dump1 dump2; do
        out=$(as_daemon "$build/tests/bus-create" "$work/elsewhere/$d.conf" 2>&1)
        check_match "coredump-create-$d" "$out" "object path"
        sds $MGR $SIF.GuestAction string:$d string:crash >/dev/null
done
check coredump-creator-dumped wait_for 10 bash -c "ls $work/cores-daemon/dump1-*.core"
core=$(ls "$work/cores-daemon"/dump1-*.core 2>/dev/null | head -1)
check_eq coredump-owned-by-creator "$(stat -c '%u %a' "$core" 2>/dev/null)" "1 600"
check coredump-root-dir-untouched wait_for 10 bash -c "grep -q 'dump2.*core dump failed' $work/daemon.log"
check_eq coredump-root-dir-not-made "$(ls -A "$work/cores-root")" ""
check coredump-domains-destroyed wait_for 10 bash -c "! busctl --system call $SVC $MGR $MIF GetDomain s dump1 >/dev/null 2>&1 && ! busctl --system call $SVC $MGR $MIF GetDomain s dump2 >/dev/null 2>&1"
# (6) The host's own devices are not file rights: a bridge port, or a block device of the host,
# needs the host-devices authorization (root's alone without polkit), even for the admin group;
# a disk image the caller may write is theirs to give.
devconf() { # NAME LINE
        sed -e "s/^name = .*/name = \"$1\"/" "$work/elsewhere/new1.conf" >"$work/elsewhere/$1.conf"
        echo "$2" >>"$work/elsewhere/$1.conf"
        chmod 644 "$work/elsewhere/$1.conf"
}
devconf hostnet 'vif = { "bridge=xenbr0" }'
out=$(as_daemon "$build/tests/bus-create" "$work/elsewhere/hostnet.conf" 2>&1)
check_match host-devices-vif-denied "$out" \
        "^Error $ERR.AccessDenied: uid 1 is not authorized for org.xensup.supervisor1.host-devices"
mknod "$work/elsewhere/hostblk" b 7 250
devconf hostblk "disk = { \"vdev=xvda, access=rw, target=$work/elsewhere/hostblk\" }"
out=$(as_daemon "$build/tests/bus-create" "$work/elsewhere/hostblk.conf" 2>&1)
check_match host-devices-blockdev-denied "$out" \
        "^Error $ERR.AccessDenied: uid 1 is not authorized for org.xensup.supervisor1.host-devices"
truncate -s 4M "$work/elsewhere/own.img"
chown daemon: "$work/elsewhere/own.img"
devconf owndisk "disk = { \"vdev=xvda, access=rw, target=$work/elsewhere/own.img\" }"
out=$(as_daemon "$build/tests/bus-create" "$work/elsewhere/owndisk.conf" 2>&1)
check_match host-devices-own-image-allowed "$out" "object path"
check_match host-devices-own-image-attached "$("$build/xensupctl" block-list owndisk 2>&1)" \
        "xvda +51712 .*own.img"
out=$(as_daemon "$build/xensupctl" network-attach owndisk "bridge=xenbr0" 2>&1)
check_match host-devices-hotplug-vif-denied "$out" "org.xensup.supervisor1.host-devices"
out=$("$build/tests/bus-create" "$work/elsewhere/hostnet.conf" 2>&1)
check_match host-devices-root-may "$out" "object path"
sds "$MGR/domain/owndisk" $DIF.Destroy >/dev/null
sds "$MGR/domain/hostnet" $DIF.Destroy >/dev/null
# xensupctl on the system bus, as nobody: listing works, a change is refused by the bus (exit 5).
out=$(as_nobody "$build/xensupctl" list 2>&1)
check_match policy-xensupctl-list "$out" "^web1 +[0-9a-f-]{36} +[0-9]+ +running"
as_nobody "$build/xensupctl" pause web1 >"$work/out" 2>&1
check_eq policy-xensupctl-denied-exit "$?" 5
check_match policy-xensupctl-denied-message "$(cat "$work/out")" "^xensupctl: "
stop_daemon

echo "--- units: make install, systemd-analyze verify, tmpfiles, XML"
root="$work/root"
# -o all: install what the suite built (a rebuild here could drop sanitizer flags).
if make -s -o all -C "$src" BUILD="$build" DESTDIR="$root" PREFIX=/usr install \
        >"$work/install.log" 2>&1
then pass make-install; else fail make-install "$(tail -5 "$work/install.log")"; fi
unitdir=/usr/lib/systemd/system
for f in $unitdir/xensupd.service $unitdir/xensup-domains.service \
        /usr/share/dbus-1/system.d/org.xensup.supervisor1.conf \
        /usr/share/dbus-1/system-services/org.xensup.supervisor1.service \
        /usr/share/dbus-1/interfaces/org.xensup.supervisor1.xml \
        /usr/lib/tmpfiles.d/xensup.conf /usr/lib/sysusers.d/xensup.conf \
        /usr/share/polkit-1/actions/org.xensup.supervisor1.policy \
        /usr/share/polkit-1/rules.d/org.xensup.supervisor1.rules \
        /usr/lib/systemd/catalog/xensup.catalog /etc/default/xensupd \
        /usr/share/man/man8/xensupd.8 /usr/share/man/man1/xensupctl.1 \
        /usr/share/man/man5/xensup.conf.5 /usr/share/bash-completion/completions/xensupctl \
        /usr/share/doc/xensup/examples/web1.conf /usr/share/xensup-sim/examples/kernel-sim \
        /usr/share/xensup-sim/examples/web1.conf \
        /usr/libexec/xensup/xensup-sim /usr/libexec/xensup/xensup-demo \
        /usr/sbin/xensupd /usr/bin/xensupctl; do
        check "installed $f" test -s "$root$f"
done
check etc-domains-dir test -d "$root/etc/xensup/domains.d"
# The simulator is no command of a production host: nothing of it on PATH.
check_eq sim-off-path "$(ls "$root/usr/sbin" "$root/usr/bin" | grep -c sim)" 0
check_eq demo-names-installed-paths "$(grep -c '/usr/share/xensup-sim/examples\|/usr/sbin/xensupd' \
        "$root/usr/libexec/xensup/xensup-demo")" 2
# Installed elsewhere, every path in the units follows.
if make -s -o all -C "$src" BUILD="$build" DESTDIR="$work/root-local" install >"$work/install.log" 2>&1
then pass make-install-local; else fail make-install-local "$(tail -5 "$work/install.log")"; fi
check_eq unit-execstart-local "$(grep ^ExecStart= \
        "$work/root-local/usr/local/lib/systemd/system/xensupd.service")" \
        'ExecStart=/usr/local/sbin/xensupd --hypervisor=xen --admin-group=xensup $XENSUPD_ARGS'
check_eq demo-names-local "$(grep -c '/usr/local/share/xensup-sim/examples' \
        "$work/root-local/usr/local/libexec/xensup/xensup-demo")" 1
check_eq unit-execstart "$(grep ^ExecStart= "$root$unitdir/xensupd.service")" \
        'ExecStart=/usr/sbin/xensupd --hypervisor=xen --admin-group=xensup $XENSUPD_ARGS'
check_eq unit-environment "$(grep ^EnvironmentFile= "$root$unitdir/xensupd.service")" \
        "EnvironmentFile=-/etc/default/xensupd"
check_eq activation-names-unit "$(grep ^SystemdService= \
        "$root/usr/share/dbus-1/system-services/org.xensup.supervisor1.service")" \
        "SystemdService=xensupd.service"
check_eq unit-busname "$(grep ^BusName= "$root$unitdir/xensupd.service")" \
        "BusName=org.xensup.supervisor1"
# What verify needs in the root besides our files: the targets and /bin/kill (ExecReload).
mkdir -p "$root/bin"
cp /bin/kill "$root/bin/kill"
cp -P /lib/systemd/system/*.target /lib/systemd/system/dbus.s* "$root$unitdir/" 2>/dev/null
# --man=no: verify would look for the units' man pages on this host, not in the root; each
# Documentation=man: page is looked for where the install put it instead.
out=$(timeout 60 systemd-analyze verify --man=no --root="$root" $unitdir/xensupd.service \
        $unitdir/xensup-domains.service 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then pass systemd-analyze-verify; else
        fail systemd-analyze-verify "rc=$rc: $out"
fi
for page in $(sed -n 's/^Documentation=//p' "$root$unitdir"/xensup*.service | tr ' ' '\n' |
        sed -n 's/^man:\([a-z.]*\)(\([0-9]\))$/\2\/\1.\2/p' | sort -u); do
        check "unit-documentation-installed ${page#*/}" test -s "$root/usr/share/man/man$page"
done
# verify must be able to fail: a typo is caught.
sed 's/^DeviceAllow=\/dev\/xen\/privcmd rw/DeviceAllow=\/dev\/xen\/privcmd rwz/' \
        "$root$unitdir/xensupd.service" >"$root$unitdir/typo.service"
out=$(timeout 60 systemd-analyze verify --man=no --root="$root" $unitdir/typo.service 2>&1)
check_match systemd-analyze-catches-typo "$out" "Invalid device rights"
rm -f "$root$unitdir/typo.service"
# systemd's own hardening score, offline: 0 (locked down) to 10 (exposed).
out=$(timeout 60 systemd-analyze security --offline=true --root="$root" --threshold=40 \
        xensupd.service 2>&1)
rc=$?
echo "$out" | grep "Overall exposure"
if [ $rc -eq 0 ]; then pass unit-exposure-below-4; else fail unit-exposure-below-4 "$(echo "$out" | tail -1)"; fi
check_match unit-no-private-devices "$(cat "$root$unitdir/xensupd.service")" \
        "DevicePolicy=closed"
check unit-keeps-dev-xen bash -c "! grep -q '^PrivateDevices=yes' $root$unitdir/xensupd.service"
tmproot="$work/tmproot"
mkdir -p "$tmproot"
out=$(systemd-tmpfiles --root="$tmproot" --create "$root/usr/lib/tmpfiles.d/xensup.conf" 2>&1)
check_eq tmpfiles-clean "$out" ""
check tmpfiles-dirs test -d "$tmproot/var/lib/xensup" -a -d "$tmproot/etc/xensup/domains.d" \
        -a -d "$tmproot/run/xensup"
check_eq tmpfiles-state-mode "$(stat -c %a "$tmproot/var/lib/xensup")" 700
# "Each method is named" (the policy's own comment): one missing would be root's alone.
check_eq policy-names-every-method "$(python3 - "$src/units/org.xensup.supervisor1.xml" \
        "$src/units/org.xensup.supervisor1.conf" <<'PY'
import sys, xml.etree.ElementTree as ET
api = {(i.get("name"), m.get("name")) for i in ET.parse(sys.argv[1]).getroot().iter("interface")
       if i.get("name").startswith("org.xensup.") for m in i.iter("method")}
allowed = {(a.get("send_interface"), a.get("send_member"))
           for a in ET.parse(sys.argv[2]).getroot().iter("allow")}
print(*sorted(f"{i}.{m}" for i, m in api - allowed))
PY
)" ""
check xml-wellformed xmllint --noout "$src/units/org.xensup.supervisor1.xml" \
        "$src/units/org.xensup.supervisor1.conf" \
        "$root/usr/share/polkit-1/actions/org.xensup.supervisor1.policy"
# Against polkit's own DTD, when polkit is installed (tests/install-deps.sh installs it).
dtd=/usr/share/polkit-1/policyconfig-1.dtd
if [ -f $dtd ]; then
        check polkit-policy-valid xmllint --noout --dtdvalid $dtd \
                "$root/usr/share/polkit-1/actions/org.xensup.supervisor1.policy"
fi
check_eq polkit-actions "$(python3 - "$root/usr/share/polkit-1/actions/org.xensup.supervisor1.policy" <<'PY'
import sys, xml.etree.ElementTree as ET
for a in ET.parse(sys.argv[1]).getroot().iter("action"):
    d = a.find("defaults")
    print(a.get("id"), *(d.find(k).text for k in ("allow_any", "allow_inactive", "allow_active")))
PY
)" "org.xensup.supervisor1.manage auth_admin auth_admin auth_admin_keep
org.xensup.supervisor1.host-devices auth_admin auth_admin auth_admin"
# The daemon's refusals name the rules file where make install puts it.
check polkit-rules-path-named grep -qF \
        '"/usr/share/polkit-1/rules.d/org.xensup.supervisor1.rules"' "$src/supervisor/polkit.h"
check_match polkit-rules-grant-xensup \
        "$(cat "$root/usr/share/polkit-1/rules.d/org.xensup.supervisor1.rules")" \
        'action.id == "org.xensup.supervisor1.manage" && subject.isInGroup\("xensup"\)'

summary test-dbus
