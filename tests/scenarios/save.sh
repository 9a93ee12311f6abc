# shellcheck shell=sh
# Save and restore, on both tiers: the same functions run on the simulator
# (tests/test-supervisor.sh) and on real Xen (tests/xen/scenarios/). The
# domains are created from files outside the config directory (transient, as
# `xl create`), so a saved one leaves the table and its restore brings it back.
#
# The tier provides, beside lib.sh's and devices.sh's: SAVE_DIR (where images
# go), and may redefine save_guest_continued NAME (real Xen: the guest's
# heartbeat counter went on, with no second /init) and save_before NAME.

# What only the tier's guests show after a restore; the simulator's show their counters
# through the daemon's death handling instead.
save_guest_continued() { :; }

# What the tier notes of the guest right before it is saved (real Xen: its last heartbeat).
save_before() { :; }

# A figure of the tier's: the time from save_clock_start to save_clock_stop KEY (real Xen: a
# XENTEST BENCH line beside xl's; the simulator keeps none).
save_clock_start() { :; }
save_clock_stop() { :; }

# Wait until NAME's guest is far enough in its boot to be saved (real Xen: a kernel publishes
# its p2m for the tools only in its page-table set-up; libxc's save refuses before that).
save_guest_ready() { :; }

# expect_ctl TESTNAME PATTERN ARGS...: xensupctl ARGS prints (on stdout or stderr) PATTERN.
expect_ctl() {
        name=$1 pat=$2
        shift 2
        out=$($XSCTL "$@" 2>&1)
        case "$out" in
        *$pat*) pass "$name" ;;
        *) fail "$name" "xensupctl $*: $out" ;;
        esac
}

# The image file starts with xensup's magic, and the saved domain is gone with its devices.
save_checks() { # NAME DOMID IMAGE
        case "$(head -c 19 "$3" 2>/dev/null)" in
        "xensup saved domai"*) pass save-image-magic ;;
        *) fail save-image-magic "$3 starts with '$(head -c 19 "$3" | od -c | head -n 2)'" ;;
        esac
        if [ -z "$(field "$1" state)" ]; then pass save-domain-gone; else
                fail save-domain-gone "$1 is $(field "$1" state)"; fi
        expect_gone "/local/domain/$2" save-local-gone
        expect_devices_gone "$2" 0 save-devices-gone
}

save_restore_roundtrip() {
        mkdisk "$DISK_DIR/sv1.img" 8
        f=$(devconf sv1 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/sv1.img\"}" \
                'vif={"bridge=xenbr0"}')
        $XSCTL create "$f" >/dev/null 2>&1
        expect sv1 state running 20 save-sv1-running
        save_guest_ready sv1
        d=$(field sv1 domid) uuid=$(field sv1 uuid)
        mac=$(xenstore-read "/local/domain/0/backend/vif/$d/0/mac" 2>/dev/null)
        save_before sv1
        save_clock_start
        if out=$($XSCTL save sv1 "$SAVE_DIR/sv1.xsave" 2>&1); then pass save-ok; else
                fail save-ok "$out"
                return
        fi
        save_clock_stop save-with-devices
        save_checks sv1 "$d" "$SAVE_DIR/sv1.xsave"
        save_clock_start
        if out=$($XSCTL restore "$SAVE_DIR/sv1.xsave" 2>&1); then pass restore-ok; else
                fail restore-ok "$out"
                return
        fi
        save_clock_stop restore-with-devices
        expect sv1 state running 10 restore-running
        n=$(field sv1 domid)
        if [ -n "$n" ] && [ "$n" != "$d" ]; then pass restore-new-domid; else
                fail restore-new-domid "domid $d -> '$n'"; fi
        if [ "$(field sv1 uuid)" = "$uuid" ]; then pass restore-same-uuid; else
                fail restore-same-uuid "uuid $uuid -> $(field sv1 uuid)"; fi
        expect_node "/local/domain/0/backend/vbd/$n/51712/hotplug-status" connected 10 \
                restore-vbd-connected
        expect_node "/local/domain/0/backend/vbd/$n/51712/state" 4 "$DEVICE_WAIT" \
                restore-vbd-backend-4
        expect_node "/local/domain/0/backend/vif/$n/0/mac" "$mac" 10 restore-same-mac
        expect_node "/local/domain/$n/control/feature-suspend" 1 5 restore-features-carried
        save_guest_continued sv1
        expect_ctl restore-twice-refused "sv1 is running: cannot restore" \
                restore "$SAVE_DIR/sv1.xsave"
        # A later shutdown is still seen: the guest's watches came over.
        $XSCTL shutdown sv1 >/dev/null 2>&1
        expect sv1 state "" 20 restore-then-shutdown
        expect_devices_gone "$n" 0 restore-shutdown-nothing-left
}

# Images that are not, or no longer, whole are refused before anything is created.
restore_refusals() {
        echo "just some text, not an image" >"$SAVE_DIR/text.xsave"
        expect_ctl restore-not-image "not a xensup saved image" restore "$SAVE_DIR/text.xsave"
        head -c 300 "$SAVE_DIR/sv1.xsave" >"$SAVE_DIR/cut.xsave"
        expect_ctl restore-truncated "cut short" restore "$SAVE_DIR/cut.xsave"
        if [ -z "$(field sv1 state)" ]; then pass restore-refused-nothing-made; else
                fail restore-refused-nothing-made "sv1 is $(field sv1 state)"; fi
}

# --live is refused at once, the guest untouched.
save_live_refused() {
        $XSCTL create "$(devconf sv2 wait)" >/dev/null 2>&1
        expect sv2 state running 20 save-sv2-running
        save_guest_ready sv2
        d=$(field sv2 domid)
        touch "$SAVE_DIR/taken.xsave"
        expect_ctl save-exists-refused "exists" save sv2 "$SAVE_DIR/taken.xsave"
        expect_ctl save-live-refused "log-dirty" save sv2 "$SAVE_DIR/sv2.xsave" --live
        if [ ! -e "$SAVE_DIR/sv2.xsave" ]; then pass save-live-no-file; else
                fail save-live-no-file "$SAVE_DIR/sv2.xsave is left"; fi
        if [ "$(field sv2 state)" = running ] && [ "$(field sv2 domid)" = "$d" ]; then
                pass save-live-still-running
        else
                fail save-live-still-running "sv2: $(field sv2 state) domid $(field sv2 domid)"
        fi
        if [ -z "$(xenstore-read "/local/domain/$d/control/shutdown" 2>/dev/null)" ]; then
                pass save-live-guest-untouched
        else
                fail save-live-guest-untouched "control/shutdown is '$(xenstore-read "/local/domain/$d/control/shutdown")'"
        fi
}

# A target that fails midway (a pipe whose reader quits): the guest is resumed in place.
save_target_fails() {
        d=$(field sv2 domid)
        ($XSCTL save sv2 - 2>"$SAVE_DIR/pipe.err"; echo "rc=$?" >>"$SAVE_DIR/pipe.err") |
                head -c 64 >/dev/null
        case "$(cat "$SAVE_DIR/pipe.err")" in
        *"rc=0"*) fail save-pipe-fails "the save into a closed pipe succeeded" ;;
        *) pass save-pipe-fails ;;
        esac
        expect sv2 state running 10 save-pipe-resumed
        if [ "$(field sv2 domid)" = "$d" ]; then pass save-pipe-same-domid; else
                fail save-pipe-same-domid "domid $d -> $(field sv2 domid)"; fi
        $XSCTL destroy sv2 >/dev/null 2>&1
}

run_save_scenarios() {
        say "save and restore"
        mkdir -p "$DISK_DIR" "$SAVE_DIR"
        save_restore_roundtrip
        restore_refusals
        save_live_refused
        save_target_fails
        # Images are as large as the guests' memory: dom0's tmpfs keeps none for the next ones.
        rm -f "$SAVE_DIR"/*.xsave
}

# --- a guest that never takes the request (the daemon runs with a short --save-timeout) ---

# save_unresponsive_guest NAME: a running domain whose guest will not acknowledge a suspend
# request; UNRESPONSIVE_STATE is the state it is in. The simulator's hang guest ignores
# control/shutdown; a real kernel acknowledges it whatever its userspace does, so the real-Xen
# tier pauses a guest instead (DEVICES.md G.7).
UNRESPONSIVE_STATE="${UNRESPONSIVE_STATE:-running}"
save_unresponsive_guest() {
        $XSCTL create "$(devconf "$1" hang)" >/dev/null 2>&1
}

# save NAME in the background, until its state is saving; the ctl's pid in save_pid.
save_in_background() { # NAME IMAGE
        $XSCTL save "$1" "$2" >"$SAVE_DIR/bg.out" 2>&1 &
        save_pid=$!
        wait_field "$1" state saving 10
}

save_never_acknowledged() {
        save_unresponsive_guest sv3
        expect sv3 state "$UNRESPONSIVE_STATE" 20 save-sv3-up
        d=$(field sv3 domid)
        expect_ctl save-no-ack-error "did not acknowledge" save sv3 "$SAVE_DIR/sv3.xsave"
        expect sv3 state "$UNRESPONSIVE_STATE" 5 save-no-ack-runs-on
        if [ -z "$(xenstore-read "/local/domain/$d/control/shutdown" 2>/dev/null)" ]; then
                pass save-no-ack-withdrawn
        else
                fail save-no-ack-withdrawn "control/shutdown is '$(xenstore-read "/local/domain/$d/control/shutdown")'"
        fi
        if [ ! -e "$SAVE_DIR/sv3.xsave" ]; then pass save-no-ack-no-file; else
                fail save-no-ack-no-file "$SAVE_DIR/sv3.xsave is left"; fi
}

# Ctrl-C of `xensupctl save` cancels it: the guest runs on.
save_cancelled() {
        save_in_background sv3 "$SAVE_DIR/sv3c.xsave"
        kill -INT "$save_pid"
        wait "$save_pid"
        rc=$?
        if [ "$rc" -ne 0 ] && grep -q "cancelled" "$SAVE_DIR/bg.out"; then pass save-cancelled; else
                fail save-cancelled "rc $rc: $(cat "$SAVE_DIR/bg.out")"; fi
        expect sv3 state "$UNRESPONSIVE_STATE" 5 save-cancelled-runs-on
}

# The daemon killed mid-save: the next one withdraws the request, the guest runs on.
save_kill9() {
        d=$(field sv3 domid)
        save_in_background sv3 "$SAVE_DIR/sv3k.xsave"
        daemon_kill9
        wait "$save_pid" 2>/dev/null
        daemon_start
        expect sv3 state "$UNRESPONSIVE_STATE" 10 save-kill9-runs-on
        if [ "$(field sv3 domid)" = "$d" ]; then pass save-kill9-same-domid; else
                fail save-kill9-same-domid "domid $d -> $(field sv3 domid)"; fi
        if [ -z "$(xenstore-read "/local/domain/$d/control/shutdown" 2>/dev/null)" ]; then
                pass save-kill9-withdrawn
        else
                fail save-kill9-withdrawn "control/shutdown is '$(xenstore-read "/local/domain/$d/control/shutdown")'"
        fi
        $XSCTL destroy sv3 >/dev/null 2>&1
}

run_save_fault_scenarios() {
        say "save: a guest that does not answer"
        mkdir -p "$DISK_DIR" "$SAVE_DIR"
        save_never_acknowledged
        save_cancelled
        save_kill9
        rm -f "$SAVE_DIR"/*.xsave
}

# --- the simulator only: the daemon killed while the guest is suspended, or mid-restore ---

# The image goes into a pipe nobody reads: the save blocks once the pipe is full, its guest
# suspended. The next daemon resumes the guest in place, its devices still connected.
save_kill9_suspended() {
        mkdisk "$DISK_DIR/sv4.img" 4
        $XSCTL create "$(devconf sv4 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/sv4.img\"}")" >/dev/null 2>&1
        expect sv4 state running 20 save-sv4-running
        d=$(field sv4 domid)
        # shellcheck disable=SC2216 # the point: a reader that never reads
        ($XSCTL save sv4 - 2>/dev/null | sleep 30) &
        stuck=$!
        expect sv4 state suspended 10 save-kill9-suspended-state
        case "$(busctl --user get-property org.xensup.supervisor1 \
                /org/xensup/supervisor1/domain/sv4 org.xensup.supervisor1.Domain Progress)" in
        '(stt) "save" '*) pass save-progress-shown ;;
        *) fail save-progress-shown "Progress: $(busctl --user get-property org.xensup.supervisor1 \
                /org/xensup/supervisor1/domain/sv4 org.xensup.supervisor1.Domain Progress 2>&1)" ;;
        esac
        daemon_kill9
        daemon_start
        expect sv4 state running 10 save-kill9-suspended-resumed
        if [ "$(field sv4 domid)" = "$d" ]; then pass save-kill9-suspended-same-domid; else
                fail save-kill9-suspended-same-domid "domid $d -> $(field sv4 domid)"; fi
        expect_node "/local/domain/0/backend/vbd/$d/51712/state" 4 5 save-kill9-suspended-disk-kept
        kill "$stuck" 2>/dev/null
        pkill -f "sleep 30" 2>/dev/null
        wait "$stuck" 2>/dev/null
        # The resumed guest still dies as it should: its watches and @releaseDomain work.
        $XSCTL shutdown sv4 >/dev/null 2>&1
        expect sv4 state "" 20 save-kill9-suspended-shutdown-seen
}

# The daemon killed while a restore waits for a backend: the half-restored domain goes, the
# domain is failed (never cold-booted), and a second restore of the same image works.
restore_kill9() {
        mkdisk "$DISK_DIR/sv5.img" 4
        $XSCTL create "$(devconf sv5 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/sv5.img\"}")" >/dev/null 2>&1
        expect sv5 state running 20 restore-sv5-running
        $XSCTL save sv5 "$SAVE_DIR/sv5.xsave" >/dev/null 2>&1
        # A fault for the next domain created: a restarter's build would take it (CI saw one,
        # under ASan, and sv5's restore came up whole before the kill).
        restarters_stop
        sim_device_fault backend-no-initwait 0 vbd
        $XSCTL restore "$SAVE_DIR/sv5.xsave" >/dev/null 2>&1 &
        bg=$!
        wait_field sv5 state restoring 10
        sleep 1
        daemon_kill9
        wait "$bg" 2>/dev/null
        sim_device_fault clear
        daemon_start
        expect sv5 state failed 10 restore-kill9-failed
        case "$(field sv5 failure)" in
        *"restore was interrupted"*) pass restore-kill9-reason ;;
        *) fail restore-kill9-reason "failure: $(field sv5 failure)" ;;
        esac
        expect_count host_loops 0 restore-kill9-no-loop
        if xenstore-ls /local/domain/0/backend 2>/dev/null | grep -q "sv5.img"; then
                fail restore-kill9-no-backend "a backend of sv5.img is left"
        else
                pass restore-kill9-no-backend
        fi
        if out=$($XSCTL restore "$SAVE_DIR/sv5.xsave" 2>&1); then pass restore-after-kill9; else
                fail restore-after-kill9 "$out"; fi
        expect sv5 state running 10 restore-after-kill9-running
        $XSCTL destroy sv5 >/dev/null 2>&1
        restarters_start
}

# A guest that takes the request (clears control/shutdown) but never suspends: the save ends
# with the suspend timeout, and the guest runs on untouched.
save_no_suspend() {
        $XSCTL create "$(devconf sv6 wait)" >/dev/null 2>&1
        expect sv6 state running 20 save-sv6-running
        d=$(field sv6 domid)
        $XSCTL sim no_suspend sv6 >/dev/null 2>&1
        expect_ctl save-no-suspend-error "acknowledged the suspend request but did not suspend" \
                save sv6 "$SAVE_DIR/sv6.xsave"
        expect sv6 state running 5 save-no-suspend-runs-on
        if [ "$(field sv6 domid)" = "$d" ] && [ ! -e "$SAVE_DIR/sv6.xsave" ]; then
                pass save-no-suspend-nothing-changed
        else
                fail save-no-suspend-nothing-changed "domid $d -> $(field sv6 domid), image: $(ls "$SAVE_DIR")"
        fi
        $XSCTL destroy sv6 >/dev/null 2>&1
}

run_save_kill9_scenarios() {
        say "save and restore: the simulator's faults, kill -9"
        save_no_suspend
        save_kill9_suspended
        restore_kill9
}
