# shellcheck shell=bash
# Scenarios only the simulator can run: every action for every reason (the
# real guests cannot hit the watchdog or soft-reset on demand), reload, the
# sd_notify protocol, the journal fields, the storm and kill -9 anywhere.

# Every action for every shutdown reason: each domain exits once after 1 s,
# is restarted at most once (burst 1), and so settles in a known state.
scenario_matrix() {
        local reason action name key expect_state
        daemon_stop
        for reason in poweroff reboot crash watchdog soft_reset; do
                key="on_$reason"
                for action in destroy restart preserve rename-restart coredump-destroy \
                        coredump-restart soft-reset; do
                        [ "$action" = soft-reset ] && [ "$reason" != soft_reset ] && continue
                        name="m-${reason//_/}-$action"
                        mkconf "$name" "$reason:1" "$key=\"$action\"" \
                                "coredump_dir=\"$work/dump\"" restart.burst=1 restart.interval=3600
                done
        done
        daemon_start || return
        for reason in poweroff reboot crash watchdog soft_reset; do
                for action in destroy restart preserve rename-restart coredump-destroy \
                        coredump-restart soft-reset; do
                        [ "$action" = soft-reset ] && [ "$reason" != soft_reset ] && continue
                        name="m-${reason//_/}-$action"
                        case "$action" in
                        destroy | coredump-destroy) expect_state=stopped ;;
                        preserve) expect_state=preserved ;;
                        *) expect_state=failed ;; # restarted once, then throttled
                        esac
                        expect "$name" state "$expect_state" 15 "matrix-$reason-$action"
                        expect "$name" shutdown_reason "$reason" 2 "matrix-$reason-$action-reason"
                        case "$action" in
                        *restart | soft-reset)
                                expect "$name" restart_count 1 2 "matrix-$reason-$action-count" ;;
                        esac
                done
        done
        # rename-restart keeps the dead instance under NAME-<domid>.
        if $XSCTL list | grep -q "m-crash-rename-restart-[0-9]"; then pass matrix-renamed-kept; else
                fail matrix-renamed-kept "no m-crash-rename-restart-<domid> in list"; fi
        # coredump-*: one core per death.
        if ls "$work/dump"/m-crash-coredump-destroy-*.core >/dev/null 2>&1; then pass matrix-core-written; else
                fail matrix-core-written "no core file in $work/dump"; fi
}

scenario_reload() {
        local before
        mkconf new1 wait
        cp "$CONF_DIR/up2.conf" "$work/up2.conf.bak"
        echo 'memory = "lots"' >>"$CONF_DIR/up2.conf"      # broken: old version kept
        sed -i 's/^memory = 64/memory = 80/' "$CONF_DIR/ctl1.conf" # changed: next start
        before=$(field up1 domid)
        rm "$CONF_DIR/up1.conf"                              # removed: left running
        $XSCTL reload >/dev/null || fail reload "xensupctl reload failed"
        expect new1 state running 10 reload-added-started
        expect up2 state running 2 reload-broken-kept
        if grep -q "up2.conf" "$work/daemon.log"; then pass reload-broken-reported; else
                fail reload-broken-reported "no error naming up2.conf in the log"; fi
        [ "$(field up1 domid)" = "$before" ] && pass reload-removed-left-running ||
                fail reload-removed-left-running "up1 domid changed or gone"
        cp "$work/up2.conf.bak" "$CONF_DIR/up2.conf"
        # SIGHUP does the same as Reload.
        mkconf new2 wait
        kill -HUP "$daemon_pid"
        expect new2 state running 10 sighup-added-started
}

# sd_notify for real: our own NOTIFY_SOCKET, WATCHDOG_USEC, then HUP and TERM.
scenario_notify() {
        local sock="$work/notify.sock" log="$work/notify.log" reader
        daemon_stop
        python3 - "$sock" "$log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w", buffering=1) as f:
    try:
        while True:
            msg = s.recv(4096).decode()
            f.write(msg.replace("\n", "|") + "\n")
            if "STOPPING=1" in msg:
                break
    except socket.timeout:
        pass
PY
        reader=$!
        for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
        NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 daemon_start || return
        sleep 1
        kill -HUP "$daemon_pid"
        sleep 0.5
        daemon_stop
        wait "$reader"
        grep -q '^READY=1' "$log" && pass notify-ready || fail notify-ready "no READY=1"
        grep -q 'STATUS=.*running' "$log" && pass notify-status || fail notify-status "no STATUS= summary"
        grep -q 'WATCHDOG=1' "$log" && pass notify-watchdog || fail notify-watchdog "no WATCHDOG=1 ping"
        grep -q 'RELOADING=1|MONOTONIC_USEC=' "$log" && pass notify-reloading ||
                fail notify-reloading "no RELOADING=1 with MONOTONIC_USEC"
        grep -A3 'RELOADING=1' "$log" | grep -q '^READY=1' && pass notify-ready-after-reload ||
                fail notify-ready-after-reload "no READY=1 after RELOADING=1"
        grep -q 'STOPPING=1' "$log" && pass notify-stopping || fail notify-stopping "no STOPPING=1"
        daemon_start
}

scenario_log_fields() {
        if grep -qE "xensupd: crash1: domid [0-9]+ stopped \(crash\); action restart" "$work/daemon.log"; then
                pass log-death-line
        else
                fail log-death-line "no death line for crash1 in the daemon's stderr"
        fi
}

# A build that fails during a restart is tried again (through the throttle),
# not left failed: the simulator's next create fails once with EIO, up2's (the
# restarters are stopped meanwhile).
scenario_build_retry() {
        restarters_stop
        "$build/tests/sim-tool" --sim-dir "$work/sim" fault create 1 5 >/dev/null ||
                fail build-retry "sim-tool fault failed"
        $XSCTL reboot up2 >/dev/null || fail build-retry "xensupctl reboot failed"
        expect up2 restart_count 2 15 build-retry-counted
        expect up2 state running 10 build-retry-running
        if grep -q "up2: start failed: .*; trying again" "$work/daemon.log"; then
                pass build-retry-logged
        else
                fail build-retry-logged "no 'start failed ...; trying again' line for up2"
        fi
        restarters_start
}

# Builds run in child processes, two at a time here: while they take their
# 4 s (x SCALE), D-Bus answers (the domains are seen "starting"), a third build waits
# for a slot and can be cancelled by destroy, a running one cannot, and each
# create call answers only once its domain runs (or with why it did not).
scenario_slow_builds() {
        local dir="$work/slow" i
        daemon_stop
        daemon_start --build-jobs 2 || return
        mkdir -p "$dir"
        for i in 1 2 3; do
                SIM_BUILD_SECONDS=$((4 * SCALE)) CONF_DIR="$dir" mkconf "slow$i" wait
                $XSCTL create "$dir/slow$i.conf" >"$work/slow$i.out" 2>&1 &
                eval "create_pid$i=\$!"
                # One at a time into the queue, so slow3 is the one left waiting.
                expect "slow$i" state starting 2 "slow-build-bus-answers-$i"
        done
        if $XSCTL destroy slow1 >"$work/slow1.destroy" 2>&1; then
                fail slow-build-running-not-cancelled "destroy of slow1 during its build succeeded"
        elif grep -q "being built" "$work/slow1.destroy"; then
                pass slow-build-running-not-cancelled
        else
                fail slow-build-running-not-cancelled "$(cat "$work/slow1.destroy")"
        fi
        $XSCTL destroy slow3 >/dev/null 2>&1 || fail slow-build-cancelled "destroy of queued slow3 failed"
        expect slow3 state stopped 2 slow-build-cancelled
        # shellcheck disable=SC2154 # set by the eval above
        if wait "$create_pid1" && wait "$create_pid2"; then pass slow-build-create-waits; else
                fail slow-build-create-waits "$(cat "$work/slow1.out" "$work/slow2.out")"; fi
        expect slow1 state running 1 slow-build-running-when-answered
        expect slow2 state running 1 slow-build-second-running
        # shellcheck disable=SC2154
        if ! wait "$create_pid3" && grep -q "destroyed before its build began" "$work/slow3.out"; then
                pass slow-build-cancel-answered
        else
                fail slow-build-cancel-answered "create slow3: $(cat "$work/slow3.out")"
        fi
        for i in 1 2; do $XSCTL destroy "slow$i" >/dev/null 2>&1; done
        scenario_stop_during_build "$dir"
}

# SIGTERM while a build runs: the daemon lets it finish (nothing half-built is
# left), answers its create call, exits 0, and the next daemon adopts the domain.
scenario_stop_during_build() {
        local dir=$1 domid
        SIM_BUILD_SECONDS=$((3 * SCALE)) CONF_DIR="$dir" mkconf slow4 wait
        $XSCTL create "$dir/slow4.conf" >"$work/slow4.out" 2>&1 &
        local create_pid=$!
        expect slow4 state starting 2 stop-build-begun
        daemon_stop
        if grep -q "stopping once the builds in progress (1) have finished" "$work/daemon.log"; then
                pass stop-build-waited
        else
                fail stop-build-waited "no 'stopping once the builds in progress' line in the log"
        fi
        if wait "$create_pid"; then pass stop-build-answered; else
                fail stop-build-answered "create slow4: $(cat "$work/slow4.out")"; fi
        daemon_start || return
        expect slow4 state running 2 stop-build-adopted
        domid=$(field slow4 domid)
        if grep -q "slow4: adopted domid $domid" "$work/daemon.log"; then pass stop-build-not-rebuilt; else
                fail stop-build-not-rebuilt "slow4 (domid '$domid') was not adopted as built"; fi
        destroy_when_built slow4
}

# A domain created from a file outside the config dir is supervised again by
# a restarted daemon (its record and the config it was handed are kept): adopted
# with its domid, its on_crash applied, its file never read again (edited while
# the daemon was down, the edit is not taken). It is transient, as `xl create`:
# once destroyed it is forgotten, record and kept config with it.
scenario_created_remembered() {
        local dir="$work/ext" before uuid
        mkdir -p "$dir"
        CONF_DIR="$dir" mkconf ext1 wait on_crash='"restart"'
        $XSCTL create "$dir/ext1.conf" >/dev/null 2>&1 || fail created-remembered "create failed"
        before=$(field ext1 domid)
        uuid=$(field ext1 uuid)
        daemon_kill9
        sed -i 's/^memory = .*/memory = 96/' "$dir/ext1.conf"
        daemon_start || return
        expect ext1 state running 5 created-remembered
        if [ -n "$before" ] && [ "$(field ext1 domid)" = "$before" ]; then
                pass created-remembered-adopted
        else
                fail created-remembered-adopted "domid '$(field ext1 domid)', was '$before'"
        fi
        $XSCTL sim crash ext1 >/dev/null 2>&1
        expect ext1 restart_count 1 10 created-remembered-supervised
        if [ "$(field ext1 memory_kib)" = "$((${MEMORY:-64} * 1024))" ]; then
                pass created-file-not-reread
        else
                fail created-file-not-reread "memory_kib $(field ext1 memory_kib) after the restart"
        fi
        destroy_when_built ext1 || fail created-forgotten "destroy ext1 failed"
        if $XSCTL status ext1 >/dev/null 2>&1; then
                fail created-forgotten "ext1 is still supervised after its destroy"
        else
                pass created-forgotten
        fi
        daemon_stop
        daemon_start || return
        if $XSCTL status ext1 >/dev/null 2>&1; then
                fail created-forgotten-after-restart "ext1 is supervised again"
        elif xenstore-exists "/tool/xensup/$uuid" 2>/dev/null; then
                fail created-forgotten-after-restart "/tool/xensup/$uuid is still there"
        else
                pass created-forgotten-after-restart
        fi
}

run_sim_scenarios() {
        scenario_created_remembered
        scenario_slow_builds
        scenario_reload
        scenario_build_retry
        scenario_log_fields
        scenario_notify
        scenario_matrix
        . "$src/tests/scenarios/sim-stress.sh"
        scenario_storm
        scenario_kill9
}
