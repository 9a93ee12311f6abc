# XENTEST_TIMEOUT=120
# The rig itself, with xl as the toolstack: a PV guest (the Debian kernel and
# the busybox initramfs) is created, reaches its /init, powers off, and xl's
# monitor destroys it (on_poweroff = "destroy"); its console reached
# xenconsoled's per-guest log. The baseline the xensupd scenarios compare with.

xt_guest_xl /tmp/xl/smoke.cfg smoke poweroff 2 'on_poweroff = "destroy"'
t0="$(xt_now)"
if out="$(xl create /tmp/xl/smoke.cfg 2>&1)"; then
        xt_pass create
        xt_bench xl.create.seconds "$(xt_since "$t0")"
else
        xt_fail create "xl create failed"
        echo "$out" | xt_log_lines
        xl dmesg | tail -n 20 | xt_log_lines
        xt_finish
fi

if xt_wait 30 xt_console_has smoke "XENGUEST up tag=smoke"; then
        xt_pass console
        xt_bench xl.create-to-guest-init.seconds "$(xt_since "$t0")"
else
        xt_fail console "no 'XENGUEST up' in $XT_CONSOLE_DIR/guest-smoke.log within 30 s"
        xl list | while IFS= read -r l; do xt_log "$l"; done
fi

if xt_wait 60 xt_gone smoke; then
        xt_pass poweroff-destroyed
else
        xt_fail poweroff-destroyed "the guest still exists 60 s after its power-off: $(xl list smoke 2>&1 | tail -n 1)"
fi

# Memory left for guests: 10 test guests at a time must fit.
xt_bench xen.free-memory.mib "$(xl info | sed -n 's/^free_memory *: *//p')"
