# XENTEST_TIMEOUT=660
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
# refused with the guest untouched.

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
# shellcheck disable=SC2034
GUEST_ARGS=
run_save_fault_scenarios
rm -rf "$SAVE_DIR" "$DISK_DIR"
xt_bench xensupd.save.seconds "$(xt_since "$t0")"
xt_finish
