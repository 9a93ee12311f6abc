# shellcheck shell=sh
# Scenarios that run on both tiers: the behaviour is the same on the
# simulator and on real Xen. Each is a function; the tier calls them in order
# after writing the configs of scenario_configs and starting the daemon.

# The config directory every common scenario needs, written before the daemon starts.
scenario_configs() {
        mkconf up1 wait
        mkconf up2 wait
        mkconf off1 poweroff:2 on_poweroff='"destroy"'
        mkconf reb1 reboot:3 on_reboot='"restart"' restart.burst=16 restart.interval=60
        mkconf crash1 crash:3 on_crash='"restart"' restart.burst=16 restart.interval=60
        mkconf crash2 crash:2 on_crash='"preserve"'
        mkconf loop1 crash:1 on_crash='"restart"' restart.burst=2 restart.interval=600
        mkconf obey1 wait
        mkconf hang1 hang shutdown_timeout=3
        mkconf ctl1 wait maxmem=128 maxvcpus=2
}

scenario_started() {
        for d in up1 up2 obey1 hang1 ctl1; do
                expect "$d" state running 20 "started-$d"
        done
        a=$(field up1 domid) b=$(field up2 domid)
        if [ -n "$a" ] && [ "$a" != "$b" ]; then pass started-distinct-domids; else
                fail started-distinct-domids "up1=$a up2=$b"; fi
}

# The nodes of a running domain as the real XenStore server holds them.
scenario_layout() {
        domid=$(field up1 domid) uuid=$(field up1 uuid)
        out=$(xenstore-ls -p "/local/domain/$domid" 2>&1)
        for want in "name = \"up1\"" "vm = \"/vm/$uuid\"" "domid = \"$domid\"" \
                "(n0,r$domid)" "type = \"xenconsoled\"" "target = \"65536\""; do
                case "$out" in
                *"$want"*) pass "layout-local-$want" ;;
                *) fail "layout-local-$want" "not in xenstore-ls -p /local/domain/$domid" ;;
                esac
        done
        out=$(xenstore-ls -p "/vm/$uuid" 2>&1)
        case "$out" in
        *"name = \"up1\""*"(n0,r$domid)"*) pass layout-vm ;;
        *) fail layout-vm "/vm/$uuid: $out" ;;
        esac
        # The primary console's backend entry, which xenconsoled needs.
        if xenstore-read "/local/domain/0/backend/console/$domid/0/frontend-id" >/dev/null 2>&1; then
                pass layout-console-backend
        else
                fail layout-console-backend "no /local/domain/0/backend/console/$domid/0"
        fi
}

scenario_actions() {
        expect off1 state stopped 20 poweroff-destroy
        expect off1 shutdown_reason poweroff 5 poweroff-destroy-reason
        expect_ge reb1 restart_count 1 25 reboot-restart
        expect reb1 shutdown_reason reboot 5 reboot-restart-reason
        expect_ge crash1 restart_count 1 25 crash-restart
        expect crash1 shutdown_reason crash 5 crash-restart-reason
        expect crash2 state preserved 20 crash-preserve
        expect loop1 state failed 40 crashloop-failed
}

# Every domain boots the same kernel: inflated by the first builds (one per build running at
# once), kept as one image, and loaded from it by the restarts scenario_actions saw.
scenario_kernel_cache() {
        kc=$($XSCTL info 2>/dev/null | sed -n 's/^kernel_cache *: //p')
        case "$kc" in
        "1 image, "*"; "[1-9]*" hits, "[1-9]*" misses") pass kernel-cache-hits ;;
        *) fail kernel-cache-hits "xensupctl info says kernel_cache: '$kc'" ;;
        esac
}

scenario_shutdown() {
        $XSCTL shutdown obey1 >/dev/null || fail shutdown-obeyed "xensupctl shutdown failed"
        expect obey1 state stopped 20 shutdown-obeyed
        expect obey1 shutdown_reason poweroff 5 shutdown-obeyed-reason
        if [ -z "$(xenstore-ls /local/domain 2>/dev/null | grep -E '^ *name = "obey1"')" ]; then
                pass shutdown-nodes-removed
        else
                fail shutdown-nodes-removed "obey1's /local/domain entry is still there"
        fi
        $XSCTL shutdown hang1 --timeout 3 >/dev/null || fail shutdown-timeout "xensupctl shutdown failed"
        expect hang1 state shutting-down 2 shutdown-timeout-waiting
        expect hang1 state stopped 15 shutdown-timeout-destroyed
}

scenario_control() {
        $XSCTL pause ctl1 >/dev/null && expect ctl1 state paused 5 pause || fail pause "pause failed"
        $XSCTL unpause ctl1 >/dev/null && expect ctl1 state running 5 unpause || fail unpause "unpause failed"
        if $XSCTL mem-set ctl1 96M >/dev/null; then pass mem-set; else fail mem-set "mem-set failed"; fi
        if $XSCTL mem-set ctl1 1G >/dev/null 2>&1; then fail mem-set-over-max "accepted 1G > maxmem"; else
                pass mem-set-over-max; fi
        if $XSCTL vcpu-set ctl1 2 >/dev/null; then pass vcpu-set; else fail vcpu-set "vcpu-set failed"; fi
        old=$(field ctl1 domid)
        $XSCTL reboot ctl1 >/dev/null || fail reboot "xensupctl reboot failed"
        wait_field ctl1 state running 30
        new=$(field ctl1 domid)
        if [ -n "$new" ] && [ "$new" != "$old" ]; then pass reboot-new-domid; else
                fail reboot-new-domid "domid $old -> $new"; fi
}

scenario_adoption() {
        before=$(for d in up1 up2 ctl1; do field "$d" domid; done | tr '\n' ' ')
        daemon_kill9
        daemon_start
        wait_field up1 state running 20
        after=$(for d in up1 up2 ctl1; do field "$d" domid; done | tr '\n' ' ')
        if [ "$before" = "$after" ]; then pass adopt-same-domids; else
                fail adopt-same-domids "before: $before after: $after"; fi
        expect up2 state running 5 adopt-running
        # Stopped by its action and by a person: a daemon restart must not start them again.
        expect off1 state stopped 2 adopt-stopped-stays-stopped
        expect obey1 state stopped 2 adopt-shutdown-stays-stopped
}

run_common_scenarios() {
        scenario_started
        scenario_layout
        scenario_actions
        scenario_kernel_cache
        scenario_shutdown
        scenario_control
        scenario_adoption
}
