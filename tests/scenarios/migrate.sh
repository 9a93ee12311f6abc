# shellcheck shell=sh
# Localhost migration, on both tiers (tests/test-supervisor.sh and
# tests/xen/scenarios/): an incoming instance is restored beside the running
# one from its save's stream, then replaces it, keeping the uuid and /vm/<uuid>;
# on a failure the incoming one goes and the source runs on.
#
# The tier provides, beside lib.sh's, devices.sh's and save.sh's:
# uuid_instances UUID (the hypervisor's live domains with that handle, one line
# each) and may redefine migrate_guest_continued NAME and the save clock.

# What only the tier's guests show after a migration (real Xen: the heartbeat went on).
migrate_guest_continued() { :; }

# Exactly one instance of UUID runs, and it is DOMID (when given).
expect_one_instance() { # UUID DOMID TESTNAME
        rows=$(uuid_instances "$1")
        count=$(printf '%s' "$rows" | grep -c .)
        if [ "$count" -eq 1 ] && { [ -z "$2" ] || printf '%s' "$rows" | grep -q "^$2 "; }; then
                pass "$3"
        else
                fail "$3" "instances of $1 (expected one, domid $2): $(printf '%s' "$rows" | tr '\n' ';')"
        fi
}

# Nothing of an incoming instance is left: its records, its name.
expect_no_incoming() { # NAME UUID TESTNAME
        left=""
        xenstore-read "/tool/xensup/$2/incoming" >/dev/null 2>&1 && left="$left incoming records"
        for id in $(xenstore-list /local/domain 2>/dev/null); do
                [ "$(xenstore-read "/local/domain/$id/name" 2>/dev/null)" = "$1--incoming" ] &&
                        left="$left domid $id named $1--incoming"
        done
        if [ -z "$left" ]; then pass "$3"; else fail "$3" "left behind:$left"; fi
}

migrate_roundtrip() {
        mkdisk "$DISK_DIR/mg1.img" 8
        f=$(devconf mg1 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/mg1.img\"}" \
                'vif={"bridge=xenbr0"}')
        $XSCTL create "$f" >/dev/null 2>&1
        expect mg1 state running 20 migrate-mg1-running
        save_guest_ready mg1
        d=$(field mg1 domid) uuid=$(field mg1 uuid)
        mac=$(xenstore-read "/local/domain/0/backend/vif/$d/0/mac" 2>/dev/null)
        save_before mg1
        save_clock_start
        if out=$($XSCTL migrate mg1 localhost 2>&1); then pass migrate-ok; else
                fail migrate-ok "$out"
                return
        fi
        save_clock_stop migrate-with-devices
        expect mg1 state running 10 migrate-running
        n=$(field mg1 domid)
        if [ -n "$n" ] && [ "$n" != "$d" ]; then pass migrate-new-domid; else
                fail migrate-new-domid "domid $d -> '$n'"; fi
        if [ "$(field mg1 uuid)" = "$uuid" ]; then pass migrate-same-uuid; else
                fail migrate-same-uuid "uuid $uuid -> $(field mg1 uuid)"; fi
        expect_one_instance "$uuid" "$n" migrate-one-instance
        expect_node "/vm/$uuid/name" mg1 5 migrate-vm-kept
        expect_node "/local/domain/$n/vm" "/vm/$uuid" 5 migrate-vm-referenced
        expect_node "/local/domain/$n/name" mg1 5 migrate-named
        expect_gone "/local/domain/$d" migrate-old-local-gone
        expect_devices_gone "$d" 1 migrate-old-devices-gone
        expect_node "/local/domain/0/backend/vbd/$n/51712/hotplug-status" connected 10 \
                migrate-vbd-connected
        expect_node "/local/domain/0/backend/vbd/$n/51712/state" 4 "$DEVICE_WAIT" \
                migrate-vbd-backend-4
        expect_node "/local/domain/0/backend/vif/$n/0/mac" "$mac" 10 migrate-same-mac
        expect_node "/local/domain/$n/control/feature-suspend" 1 5 migrate-features-carried
        expect_no_incoming mg1 "$uuid" migrate-no-incoming-left
        migrate_guest_continued mg1
        expect_ctl migrate-other-host-refused "only localhost" migrate mg1 otherhost
        # A later shutdown is still seen, and frees everything of the new instance.
        $XSCTL shutdown mg1 >/dev/null 2>&1
        expect mg1 state "" 20 migrate-then-shutdown
        expect_devices_gone "$n" 0 migrate-shutdown-nothing-left
        expect_gone "/vm/$uuid" migrate-shutdown-vm-gone
}

# --live is refused before the guest is touched: the source runs on, nothing incoming is left.
migrate_live_refused() {
        $XSCTL create "$(devconf mg2 wait)" >/dev/null 2>&1
        expect mg2 state running 20 migrate-mg2-running
        save_guest_ready mg2
        d=$(field mg2 domid) uuid=$(field mg2 uuid)
        expect_ctl migrate-live-refused "log-dirty" migrate mg2 localhost --live
        expect mg2 state running 10 migrate-live-runs-on
        if [ "$(field mg2 domid)" = "$d" ]; then pass migrate-live-same-domid; else
                fail migrate-live-same-domid "domid $d -> $(field mg2 domid)"; fi
        expect_one_instance "$uuid" "$d" migrate-live-one-instance
        expect_no_incoming mg2 "$uuid" migrate-live-no-incoming
        $XSCTL destroy mg2 >/dev/null 2>&1
}

run_migrate_scenarios() {
        say "localhost migration"
        mkdir -p "$DISK_DIR" "$SAVE_DIR"
        migrate_roundtrip
        migrate_live_refused
}

# --- the simulator's faults: a guest that does not suspend, an incoming side that dies ---

# The guest takes the request but never suspends: the source runs on, the incoming one goes.
migrate_no_suspend() {
        $XSCTL create "$(devconf mg3 wait)" >/dev/null 2>&1
        expect mg3 state running 20 migrate-mg3-running
        d=$(field mg3 domid) uuid=$(field mg3 uuid)
        $XSCTL sim no_suspend mg3 >/dev/null 2>&1
        expect_ctl migrate-no-suspend-error "did not suspend" migrate mg3 localhost
        expect mg3 state running 5 migrate-no-suspend-runs-on
        expect_one_instance "$uuid" "$d" migrate-no-suspend-one-instance
        expect_no_incoming mg3 "$uuid" migrate-no-suspend-no-incoming
        $XSCTL destroy mg3 >/dev/null 2>&1
}

# migrate_disk_domain NAME: NAME running with a disk on mg.img; $d and $uuid are its.
migrate_disk_domain() {
        [ -e "$DISK_DIR/mg.img" ] || mkdisk "$DISK_DIR/mg.img" 4
        $XSCTL create "$(devconf "$1" wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/mg.img\"}")" >/dev/null 2>&1
        expect "$1" state running 20 "migrate-$1-running"
        d=$(field "$1" domid) uuid=$(field "$1" uuid)
}

# migrate_stuck NAME: NAME's migration in the background, its incoming instance stopped right
# after it bound its disk's loop device (the simulator never answers that request; the source
# is suspended by then); $bg is the xensupctl. The fault counts requests, not domains, so the
# config directory's guests restarting meanwhile cannot take it (they have no disk).
migrate_stuck() {
        sim_fault loop_attach 1 noreply
        $XSCTL migrate "$1" localhost >"$SAVE_DIR/$1.out" 2>&1 &
        bg=$!
        if wait_count host_loops 2 10; then pass "migrate-$1-incoming-bound"; else
                fail "migrate-$1-incoming-bound" "loops: $(host_loops | tr '\n' ';')"; fi
        wait_field "$1" state migrating 10
}

# After a migration that did not happen (PREFIX names the tests): NAME runs as domid $d, the
# only instance of $uuid, with nothing incoming left and its one loop device.
expect_source_runs() { # NAME PREFIX
        expect "$1" state running 10 "$2-source-runs"
        if [ "$(field "$1" domid)" = "$d" ]; then pass "$2-same-domid"; else
                fail "$2-same-domid" "domid $d -> $(field "$1" domid)"; fi
        expect_one_instance "$uuid" "$d" "$2-one-instance"
        expect_no_incoming "$1" "$uuid" "$2-no-incoming"
        expect_count host_loops 1 "$2-one-loop"
}

# The migration's outcome as xensupctl printed it has PATTERN.
expect_migrate_said() { # NAME PATTERN TESTNAME
        case "$(cat "$SAVE_DIR/$1.out")" in
        *$2*) pass "$3" ;;
        *) fail "$3" "xensupctl: $(cat "$SAVE_DIR/$1.out")" ;;
        esac
}

# The incoming side's process dies mid-way: it is cleaned (the loop device it bound but never
# wrote down freed), the source resumed in place.
migrate_incoming_killed() {
        migrate_disk_domain mg4
        migrate_stuck mg4
        kill_daemon_children
        wait "$bg" 2>/dev/null
        expect_migrate_said mg4 "migration failed" migrate-killed-error
        expect_source_runs mg4 migrate-killed
        expect_node "/local/domain/0/backend/vbd/$d/51712/state" 4 5 migrate-killed-disk-kept
        $XSCTL destroy mg4 >/dev/null 2>&1
}

# Ctrl-C while the incoming instance is being built: cancelled, the source runs on.
migrate_cancelled() {
        migrate_disk_domain mg5
        migrate_stuck mg5
        kill -INT "$bg" 2>/dev/null
        wait "$bg" 2>/dev/null
        expect_migrate_said mg5 cancelled migrate-cancel-error
        expect_source_runs mg5 migrate-cancel
        $XSCTL destroy mg5 >/dev/null 2>&1
}

# The daemon killed mid-migration, before the commit: the next one keeps the source (resumed)
# and destroys the incoming instance: exactly one copy runs.
migrate_kill9() {
        migrate_disk_domain mg6
        migrate_stuck mg6
        daemon_kill9
        wait "$bg" 2>/dev/null
        daemon_start
        expect_source_runs mg6 migrate-kill9
        # It still dies as it should: resumed, its watches work.
        $XSCTL shutdown mg6 >/dev/null 2>&1
        expect mg6 state "" 20 migrate-kill9-shutdown-seen
        expect_count host_loops 0 migrate-kill9-nothing-left
}

run_migrate_fault_scenarios() {
        say "localhost migration: the simulator's faults, kill -9"
        mkdir -p "$DISK_DIR" "$SAVE_DIR"
        migrate_no_suspend
        migrate_incoming_killed
        migrate_cancelled
        migrate_kill9
        rm -f "$SAVE_DIR"/*.out
}
