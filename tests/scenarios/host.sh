# shellcheck shell=bash disable=SC2154 # build, work, sim_pid, daemon_pid: test-supervisor.sh's
# The host's shutdown and boot (xensup-domains.service: xensupctl host-shutdown,
# host-boot) on a simulated host of their own, which is "rebooted" in the middle:
# the simulator is replaced by a fresh one (an empty XenStore, no domains), while
# the state directory and the save directory stay, as /var/lib/xensup does.

host_sim_start() {
        "$build/xensup-sim" --dir "$host_sim" 2>>"$work/sim-host.log" &
        sim_pid=$!
        for _ in $(seq 50); do [ -S "$host_sim/hypervisor.socket" ] && break; sleep 0.1; done
}

host_sim_stop() {
        kill "$sim_pid" 2>/dev/null
        wait "$sim_pid" 2>/dev/null
        sim_pid=""
        rm -rf "$host_sim"
        mkdir -p "$host_sim"
}

host_daemon_start() {
        ${VALGRIND:-} "$build/xensupd" --hypervisor=sim --user --config-dir "$CONF_DIR" \
                --sim-dir "$host_sim" --state-dir "$work/host-state" --save-dir "$host_save" \
                --save-timeout 2 2>>"$work/daemon-host.log" &
        daemon_pid=$!
        for _ in $(seq 300); do
                busctl --user status org.xensup.supervisor1 >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        echo "xensupd did not come up on the host scenarios' simulator"
        return 1
}

host_shutdown() {
        mkdisk "$DISK_DIR/hs1.img" 4
        mkconf hs1 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/hs1.img\"}"
        mkconf hs2 wait on_host_shutdown='"shutdown"'
        mkconf hs3 wait on_host_shutdown='"keep"'
        mkconf hs4 hang shutdown_timeout=2
        mkconf hs6 wait on_host_shutdown='"shutdown"'
        host_daemon_start || return 1
        for n in hs1 hs2 hs3 hs4 hs6; do wait_field "$n" state running 20; done
        $XSCTL create "$(devconf hs5 wait)" >/dev/null 2>&1
        expect hs5 state running 20 host-all-running
        hs1_uuid=$(field hs1 uuid) hs5_uuid=$(field hs5 uuid) hs6_uuid=$(field hs6 uuid)
        out=$($XSCTL host-shutdown 2>&1)
        rc=$?
        if [ "$rc" -eq 1 ] && grep -q "^hs1: saved: $host_save/$hs1_uuid.xsave" <<<"$out" &&
                grep -q "^hs5: saved" <<<"$out" && grep -q "^hs2: shut down" <<<"$out" &&
                grep -q "^hs3: kept" <<<"$out" && grep -q "^hs4: failed: .*did not acknowledge" <<<"$out"; then
                pass host-shutdown-results
        else
                fail host-shutdown-results "rc $rc: $(paste -sd'|' <<<"$out")"
        fi
        for n in "$hs1_uuid" "$hs5_uuid"; do
                [ -s "$host_save/$n.xsave" ] || fail host-shutdown-images "no image $n.xsave"
        done
        parts=$(find "$host_save" -name '*.part')
        if [ -n "$parts" ]; then fail host-shutdown-no-part "$parts"; else pass host-shutdown-no-part; fi
        ck_state() { if [ "$(field "$1" state)" = "$2" ]; then pass "$3"; else
                fail "$3" "$1 is $(field "$1" state), expected $2"; fi; }
        ck_state hs1 stopped host-saved-stopped
        ck_state hs2 stopped host-shutdown-stopped
        ck_state hs3 running host-keep-running
        ck_state hs4 stopped host-failed-save-shut-down
        # A corrupt image of hs6 (it was shut down, not saved): the boot must not cold-boot it.
        echo "xensup saved domain, but not really" >"$host_save/$hs6_uuid.xsave"
        daemon_stop
}

host_boot() {
        host_sim_stop
        host_sim_start
        host_daemon_start || return 1
        out=$($XSCTL host-boot 2>&1)
        rc=$?
        if [ "$rc" -eq 1 ] && grep -q "^hs1: restored" <<<"$out" && grep -q "^hs5: restored" <<<"$out" &&
                grep -q "^hs6: failed: .*image is kept" <<<"$out"; then
                pass host-boot-results
        else
                fail host-boot-results "rc $rc: $(paste -sd'|' <<<"$out")"
        fi
        expect hs1 state running 10 host-boot-hs1-running
        expect hs5 state running 10 host-boot-hs5-running
        if grep -q "hs1: restored as domid" "$work/daemon-host.log" &&
                ! grep -q "hs1: started as domid .*" <(sed -n '/host boot: restoring/,$p' "$work/daemon-host.log"); then
                pass host-boot-restored-not-autostarted
        else
                fail host-boot-restored-not-autostarted "$(grep hs1 "$work/daemon-host.log" | tail -n 4 | paste -sd'|')"
        fi
        expect_node "/local/domain/0/backend/vbd/$(field hs1 domid)/51712/state" 4 5 host-boot-disk-again
        for n in "$hs1_uuid" "$hs5_uuid"; do
                if [ -e "$host_save/$n.xsave" ]; then fail host-boot-image-removed "$n.xsave is left"; else
                        pass host-boot-image-removed; fi
        done
        expect hs6 state failed 5 host-boot-corrupt-failed
        if [ -e "$host_save/$hs6_uuid.xsave" ]; then pass host-boot-corrupt-kept; else
                fail host-boot-corrupt-kept "the corrupt image was removed"; fi
        for n in hs2 hs3 hs4; do expect "$n" state running 20 "host-boot-$n-autostarted"; done
        # host-boot later (the unit restarted) answers at once with the same results.
        if out=$($XSCTL host-boot 2>&1) || grep -q "^hs1: restored" <<<"$out"; then
                pass host-boot-again
        else
                fail host-boot-again "$(paste -sd'|' <<<"$out")"
        fi
        for n in hs1 hs2 hs3 hs4 hs5; do $XSCTL destroy "$n" >/dev/null 2>&1; done
        daemon_stop
}

run_host_scenarios() {
        local saved_conf=$CONF_DIR saved_xs=$XENSTORED_PATH
        say "the host's shutdown and boot"
        host_sim="$work/sim-host" host_save="$work/host-save"
        [ -n "$daemon_pid" ] && daemon_stop
        if [ -n "$sim_pid" ]; then
                kill "$sim_pid" 2>/dev/null
                wait "$sim_pid" 2>/dev/null
        fi
        mkdir -p "$host_sim" "$work/conf-host" "$DISK_DIR" "$host_save"
        export XENSTORED_PATH="$host_sim/xenstored.socket"
        CONF_DIR="$work/conf-host"
        host_sim_start
        host_shutdown && host_boot
        CONF_DIR=$saved_conf
        export XENSTORED_PATH=$saved_xs
}
