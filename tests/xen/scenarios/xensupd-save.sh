# XENTEST_TIMEOUT=780
# shellcheck shell=sh
# xensupd's save and restore on real Xen: the scenarios shared with the
# simulator tier (tests/scenarios/save.sh: save with a disk and a vif, the image's
# magic, nothing left of the saved domain; restore into a new domid with the same
# uuid, its devices connected again, the guest's features carried over, a later
# shutdown still seen; refusals of non-images and truncated ones; --live refused
# at once (Debian's Xen has no shadow paging); a target that fails midway; a
# guest that never acknowledges, Ctrl-C and kill -9 mid-save), and what only a
# real guest shows: its heartbeat counter goes on after the restore, with no
# second /init, and it reads and writes its disk again. Then localhost migration
# (tests/scenarios/migrate.sh): a new domid with the same uuid and /vm/<uuid>, the
# old instance's devices and loop device freed, the counter going on; --live
# refused with the guest untouched. Last, the host's shutdown and boot: a domain
# saved by host-shutdown is restored by the next boot (its counter going on),
# one shut down is autostarted.

# shellcheck disable=SC1091,SC2034 # dom0's paths; the variables the shared scenarios read
. /xentest/shared/lib.sh
. /xentest/shared/devices.sh
. /xentest/shared/save.sh
. /xentest/shared/migrate.sh

pass() { xt_pass "$1"; }
fail() { xt_fail "$1" "$2"; }

XSCTL=xensupctl
CONF_DIR=/etc/xensup/save.d
DISK_DIR=/tmp/xsdisks
SAVE_DIR=/tmp/xssave
KERNEL="$XT_GUEST_KERNEL"
RAMDISK="$XT_GUEST_RAMDISK"
MEMORY="$XT_GUEST_MEMORY"
SCALE=4
DEVICE_WAIT=30
UNRESPONSIVE_STATE=paused
export XENSUP_LOG=stderr

xt_on_failure() {
        echo "XENTEST EXPORT xensupd.log"
        xt_export xensupd.log "$XT_XENSUPD_LOG"
        dmesg | tail -n 40 | xt_log_lines
}

daemon_start() { xt_xensupd_start "$CONF_DIR" --save-timeout 20; }
daemon_kill9() {
        pid="$(xt_xensupd_pid)"
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
        xt_wait 10 sh -c '! busctl status org.xensup.supervisor1'
}

host_loops() { xt_loops_in_use; }
bridge_ports() { ls "/sys/class/net/$1/brif" 2>/dev/null; }
# Xen's live domains of a uuid, "domid uuid" each (xl list -v: ID in column 2, UUID in 7).
uuid_instances() { xl list -v 2>/dev/null | awk -v u="$1" 'NR > 1 && $2 != 0 && $7 == u {print $2, $7}'; }

# A real kernel acknowledges a suspend request in the kernel: only a paused guest does not.
save_unresponsive_guest() {
        $XSCTL create "$(devconf "$1" wait)" >/dev/null 2>&1
        expect "$1" state running 60 "save-$1-running"
        save_guest_ready "$1"
        $XSCTL pause "$1" >/dev/null 2>&1
}

# Its /init runs: the kernel's boot, its p2m published for the tools included, is done.
save_guest_ready() {
        xt_wait $((30 * SCALE)) xt_console_has "$1" "XENGUEST up" ||
                xt_fail "save-$1-booted" "no 'XENGUEST up' on $1's console"
}

# NAME's console logs: xenconsoled names a log after the domain's name when it opens the
# console, so a migrated guest goes on in the incoming instance's (NAME--incoming), as with xl.
console_logs() { ls "$XT_CONSOLE_DIR/guest-$1.log" "$XT_CONSOLE_DIR/guest-$1--incoming.log" 2>/dev/null; }
# Their text, in that order (nothing when there is none yet).
console_text() {
        # shellcheck disable=SC2046 # one word per log
        cat /dev/null $(console_logs "$1") 2>/dev/null
}

# The last heartbeat the guest's consoles show, 0 if none.
last_beat() {
        console_text "$1" | sed -n 's/.*XENGUEST beat \([0-9]*\).*/\1/p' |
                sort -n | tail -n 1 | grep . || echo 0
}

beat_above() { [ "$(last_beat "$1")" -gt "$2" ]; }

# After a restore or migration (TESTNAME) the counter goes on from where it was; /init ran once.
guest_continued() { # NAME TESTNAME
        before=$SAVED_BEAT
        xt_wait $((10 * SCALE)) beat_above "$1" "$before"
        now=$(last_beat "$1")
        ups=$(console_text "$1" | grep -c "XENGUEST up")
        if [ "$now" -gt "$before" ] && [ "$ups" -eq 1 ]; then
                xt_pass "$2"
        else
                xt_fail "$2" "beat $before before, $now after; $ups 'up' lines"
                console_text "$1" | grep XENGUEST | tail -n 8 | xt_log_lines
        fi
}
save_guest_continued() { guest_continued "$1" save-guest-counter-continues; }
migrate_guest_continued() { guest_continued "$1" migrate-guest-counter-continues; }

save_clock_start() { save_t0=$(xt_now); }
save_clock_stop() { xt_bench "xensupd.$1.seconds" "$(xt_since "$save_t0")"; }

# The heartbeat as the save began: the shared round trip calls save after this hook.
save_before() { SAVED_BEAT=$(last_beat "$1"); }

# --- a migration whose processes are killed once the incoming domain exists (DEVICES.md's
# test plan 9): the incoming domain goes, the source is resumed under its own name ---
no_domain() { ! xl domid "$1" >/dev/null 2>&1; }
# new_domain "DOMIDS": a domain whose domid is none of those.
new_domain() { xl list | awk -v old=" $1" 'NR > 1 && index(old " ", " " $2 " ") == 0 { f = 1 } END { exit !f }'; }

migrate_killed_midway() {
        mkdisk "$DISK_DIR/mg.img" 8
        $XSCTL create "$(devconf mg7 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/mg.img\"}")" >/dev/null 2>&1
        expect mg7 state running 60 migrate-mg7-running
        save_guest_ready mg7
        d=$(field mg7 domid) uuid=$(field mg7 uuid)
        before=$(xl list | awk 'NR > 1 { print $2 }' | tr '\n' ' ')
        $XSCTL migrate mg7 localhost >"$SAVE_DIR/mg7.out" 2>&1 &
        bg=$!
        # The incoming domain as soon as Xen has it, mid-restore: its name (mg7--incoming) is
        # written once its memory is in, too late to catch the processes still at work.
        if xt_wait $((30 * SCALE)) new_domain "$before"; then
                xt_pass migrate-killed-incoming-seen
        else
                xt_fail migrate-killed-incoming-seen "no new domain in xl list: $(xl list | tr '\n' '|')"
        fi
        # shellcheck disable=SC2046 # one pid per word
        kill -9 $(cat /proc/"$(xt_xensupd_pid)"/task/*/children 2>/dev/null) 2>/dev/null
        wait "$bg" 2>/dev/null
        if grep -q "migration failed" "$SAVE_DIR/mg7.out"; then xt_pass migrate-killed-error; else
                xt_fail migrate-killed-error "xensupctl: $(cat "$SAVE_DIR/mg7.out")"; fi
        expect_source_runs mg7 migrate-killed
        if xt_wait 20 no_domain mg7--incoming &&
                [ "$(xt_domid mg7)" = "$d" ] && xt_running mg7; then
                xt_pass migrate-killed-source-named
        else
                xt_fail migrate-killed-source-named "xl: $(xl list | tr '\n' '|')"
        fi
        SAVED_BEAT=$(last_beat mg7)
        guest_continued mg7 migrate-killed-counter-continues
        $XSCTL destroy mg7 >/dev/null 2>&1
        expect_count host_loops 0 migrate-killed-nothing-left
}

# --- the host's shutdown and boot (xensup-domains.service's calls), on real Xen ---
# A host's reboot keeps /var/lib/xensup (the save directory) but starts xenstored empty: the
# daemon stopped, /tool/xensup removed (no record: this is a boot) and the daemon started again
# give the boot what a rebooted host would.
daemon_stop() {
        pid="$(xt_xensupd_pid)"
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
        xt_wait 60 sh -c "! kill -0 $pid 2>/dev/null"
}

host_shutdown_boot() {
        mkdisk "$DISK_DIR/hb1.img" 8
        GUEST_ARGS="xentest.heartbeat=1" mkconf hb1 wait \
                "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/hb1.img\"}" \
                'vif={"bridge=xenbr0"}'
        mkconf hb2 wait on_host_shutdown='"shutdown"'
        $XSCTL reload >/dev/null 2>&1
        $XSCTL start hb1 >/dev/null 2>&1
        $XSCTL start hb2 >/dev/null 2>&1
        expect hb1 state running 60 host-hb1-running
        expect hb2 state running 60 host-hb2-running
        save_guest_ready hb1
        d=$(field hb1 domid) uuid=$(field hb1 uuid)
        SAVED_BEAT=$(last_beat hb1)
        out=$($XSCTL host-shutdown 2>&1)
        if echo "$out" | grep -q "^hb1: saved: /var/lib/xensup/save/$uuid.xsave" &&
                echo "$out" | grep -q "^hb2: shut down"; then
                xt_pass host-shutdown-results
        else
                xt_fail host-shutdown-results "$(echo "$out" | tr '\n' '|')"
        fi
        if [ -s "/var/lib/xensup/save/$uuid.xsave" ] && ! xl list "$d" >/dev/null 2>&1 &&
                [ -z "$(xt_domid hb2)" ]; then
                xt_pass host-shutdown-all-down
        else
                xt_fail host-shutdown-all-down "image: $(find /var/lib/xensup/save -type f 2>&1 | tr '\n' '|'); xl: $(xl list | tr '\n' '|')"
        fi
        expect_devices_gone "$d" 0 host-shutdown-devices-gone
        daemon_stop
        xenstore-rm /tool/xensup 2>/dev/null
        daemon_start || return 1
        out=$($XSCTL host-boot 2>&1)
        if echo "$out" | grep -q "^hb1: restored"; then xt_pass host-boot-results; else
                xt_fail host-boot-results "$(echo "$out" | tr '\n' '|')"; fi
        expect hb1 state running 30 host-boot-hb1-running
        n=$(field hb1 domid)
        if [ -n "$n" ] && [ "$n" != "$d" ] && [ "$(field hb1 uuid)" = "$uuid" ]; then
                xt_pass host-boot-same-uuid
        else
                xt_fail host-boot-same-uuid "domid $d -> '$n', uuid $(field hb1 uuid)"
        fi
        guest_continued hb1 host-boot-counter-continues
        expect_node "/local/domain/0/backend/vbd/$n/51712/state" 4 "$DEVICE_WAIT" host-boot-disk-again
        if [ -e "/var/lib/xensup/save/$uuid.xsave" ]; then
                xt_fail host-boot-image-removed "$uuid.xsave is left"
        else
                xt_pass host-boot-image-removed
        fi
        # hb2 was shut down, not saved: the boot autostarts it, as a fresh host would.
        expect hb2 state running 60 host-boot-hb2-autostarted
        $XSCTL destroy hb1 >/dev/null 2>&1
        $XSCTL destroy hb2 >/dev/null 2>&1
        rm -f "$CONF_DIR/hb1.conf" "$CONF_DIR/hb2.conf"
        $XSCTL reload >/dev/null 2>&1
}

if ! xt_have_xensupd; then
        xt_fail start "xensupd and xensupctl are not in this initramfs (make builds them first)"
        xt_finish
fi

mkdir -p "$CONF_DIR" "$DISK_DIR" "$SAVE_DIR"
daemon_start || {
        xt_xensupd_log
        xt_finish
}
t0="$(xt_now)"
# shellcheck disable=SC2034 # read by lib.sh's mkconf
GUEST_ARGS="xentest.heartbeat=1"
run_save_scenarios
run_migrate_scenarios
migrate_killed_midway
host_shutdown_boot
# shellcheck disable=SC2034
GUEST_ARGS=
run_save_fault_scenarios
rm -rf "$SAVE_DIR" "$DISK_DIR"
xt_bench xensupd.save.seconds "$(xt_since "$t0")"
xt_finish
