# XENTEST_TIMEOUT=200
# The test guests themselves, under xl: every behaviour the xensupd scenarios
# rely on (reboot, crash, obeying and ignoring control/shutdown) is shown
# here on the plain toolstack first, so a xensupd failure is xensupd's.

xl_state_has() { xt_xl_state "$1" | grep -q "$2"; }

# reboot → restart: xl's monitor rebuilds the domain under a new domid.
xt_guest_xl /tmp/xl/rb.cfg rb reboot 3 'on_reboot = "restart"'
xl create /tmp/xl/rb.cfg >/dev/null 2>&1 || xt_fail reboot "xl create failed"
xt_wait 30 xt_running rb
id1="$(xt_domid rb)"
t0="$(xt_now)"
if xt_wait 60 sh -c '. /xentest/lib.sh; id="$(xt_domid rb)"; [ -n "$id" ] && [ "$id" != '"$id1"' ] && xt_running rb'; then
        xt_pass reboot-restart
        xt_bench xl.reboot-to-running.seconds "$(xt_since "$t0")"
else
        xt_fail reboot-restart "no new running domain after the guest rebooted (first domid $id1, now '$(xt_domid rb)')"
fi
xl destroy rb >/dev/null 2>&1

# crash → preserve: the crashed domain stays, flagged c.
xt_guest_xl /tmp/xl/cr.cfg cr crash 1 'on_crash = "preserve"'
xl create /tmp/xl/cr.cfg >/dev/null 2>&1 || xt_fail crash "xl create failed"
if xt_wait 60 xl_state_has cr c; then
        xt_pass crash-preserve
else
        xt_fail crash-preserve "no crashed domain 'cr' within 60 s (state '$(xt_xl_state cr)')"
fi
if xt_console_has cr "XENGUEST crashing"; then
        xt_pass crash-console
else
        xt_fail crash-console "no 'XENGUEST crashing' in the console log"
fi
xl destroy cr >/dev/null 2>&1

# control/shutdown obeyed: the kernel runs /sbin/poweroff.
xt_guest_xl /tmp/xl/ob.cfg ob wait
xl create /tmp/xl/ob.cfg >/dev/null 2>&1 || xt_fail obey "xl create failed"
xt_wait 30 xt_console_has ob "XENGUEST up tag=ob"
t0="$(xt_now)"
if xl shutdown -w ob >/dev/null 2>&1 && xt_gone ob; then
        xt_pass shutdown-obeyed
        xt_bench xl.shutdown-wait.seconds "$(xt_since "$t0")"
else
        xt_fail shutdown-obeyed "xl shutdown -w did not remove the guest (state '$(xt_xl_state ob)')"
fi

# control/shutdown reboot obeyed: the kernel reboots at once.
xt_guest_xl /tmp/xl/orb.cfg orb wait
xl create /tmp/xl/orb.cfg >/dev/null 2>&1 || xt_fail obey-reboot "xl create failed"
xt_wait 30 xt_console_has orb "XENGUEST up tag=orb"
id1="$(xt_domid orb)"
xl reboot orb >/dev/null 2>&1
if xt_wait 60 sh -c '. /xentest/lib.sh; id="$(xt_domid orb)"; [ -n "$id" ] && [ "$id" != '"$id1"' ] && xt_running orb'; then
        xt_pass reboot-obeyed
else
        xt_fail reboot-obeyed "xl reboot: no new running domain (first domid $id1, now '$(xt_domid orb)')"
fi
xl destroy orb >/dev/null 2>&1

# A hung guest: the request is acknowledged but nothing happens.
xt_guest_xl /tmp/xl/hg.cfg hg hang
xl create /tmp/xl/hg.cfg >/dev/null 2>&1 || xt_fail hang "xl create failed"
xt_wait 30 xt_console_has hg "XENGUEST up tag=hg"
id1="$(xt_domid hg)"
xl shutdown hg >/dev/null 2>&1
xl reboot hg >/dev/null 2>&1
sleep 5
if [ "$(xt_domid hg)" = "$id1" ] && xt_running hg && xt_console_has hg "ignoring a power-off request"; then
        xt_pass hang-ignores-shutdown
else
        xt_fail hang-ignores-shutdown "domid '$(xt_domid hg)' (was $id1), state '$(xt_xl_state hg)'"
        xt_log_lines <"$XT_CONSOLE_DIR/guest-hg.log"
fi
if xt_console_has hg "ignoring a reboot request"; then
        xt_pass hang-ignores-reboot
else
        xt_fail hang-ignores-reboot "no 'ignoring a reboot request' on the console"
fi
xl destroy hg >/dev/null 2>&1 && xt_gone hg && xt_pass hang-destroyed
