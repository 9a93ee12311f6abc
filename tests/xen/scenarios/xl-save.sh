# XENTEST_TIMEOUT=240
# shellcheck shell=sh disable=SC2154 # xt_* and XT_* come from lib.sh, sourced by dom0-init.sh
# Save and restore under xl first, on the same guest the xensupd save scenarios
# use (a heartbeat counter on its console): what xl and libxl do is what xensupd
# must match, so a xensupd failure is xensupd's. Its times are the baseline of
# make bench-xen's save and restore figures.

xt_guest_xl /tmp/xl/sv.cfg sv wait 0 'extra = "xentest.heartbeat=1"'
sed -i 's/^cmdline = "\(.*\)"$/cmdline = "\1 xentest.heartbeat=1"/; /^extra/d' /tmp/xl/sv.cfg
xl create /tmp/xl/sv.cfg >/dev/null 2>&1 || xt_fail save "xl create failed"
xt_wait 60 xt_console_has sv "XENGUEST beat 3"
t0="$(xt_now)"
if xl save sv /tmp/xl/sv.save >/tmp/xl/save.out 2>&1; then
        xt_pass xl-save
        xt_bench xl.save.seconds "$(xt_since "$t0")"
else
        xt_fail xl-save "$(tail -n 5 /tmp/xl/save.out | tr '\n' ' ')"
fi
before=$(sed -n 's/.*XENGUEST beat \([0-9]*\).*/\1/p' "$XT_CONSOLE_DIR/guest-sv.log" | tail -n 1)
t0="$(xt_now)"
if xl restore /tmp/xl/sv.save >/tmp/xl/restore.out 2>&1; then
        xt_pass xl-restore
        xt_bench xl.restore.seconds "$(xt_since "$t0")"
else
        xt_fail xl-restore "$(tail -n 5 /tmp/xl/restore.out | tr '\n' ' ')"
fi
if xt_wait 30 sh -c "[ \"\$(sed -n 's/.*XENGUEST beat \([0-9]*\).*/\1/p' $XT_CONSOLE_DIR/guest-sv.log | tail -n 1)\" -gt ${before:-0} ]" &&
        [ "$(grep -c 'XENGUEST up' "$XT_CONSOLE_DIR/guest-sv.log")" -eq 1 ]; then
        xt_pass xl-restore-counter-continues
else
        xt_fail xl-restore-counter-continues "beat ${before:-?} before; console: $(grep XENGUEST "$XT_CONSOLE_DIR/guest-sv.log" | tail -n 4 | tr '\n' ' ')"
fi
xl destroy sv >/dev/null 2>&1
rm -f /tmp/xl/sv.save

# The same with a disk and a vif (Debian's hotplug scripts), the figures xensupd's are beside.
xt_disk_image /tmp/xl/svd.img 16
xt_guest_xl /tmp/xl/svd.cfg svd wait 0 "disk = ['format=raw, vdev=xvda, access=rw, target=/tmp/xl/svd.img']" \
        "vif = ['bridge=xenbr0']"
xl create /tmp/xl/svd.cfg >/dev/null 2>&1 || xt_fail xl-save-devices "xl create failed"
xt_wait 60 xt_console_has svd "XENGUEST up"
t0="$(xt_now)"
if xl save svd /tmp/xl/svd.save >/tmp/xl/save.out 2>&1; then
        xt_bench xl.save-with-devices.seconds "$(xt_since "$t0")"
        t0="$(xt_now)"
        if xl restore /tmp/xl/svd.save >/tmp/xl/restore.out 2>&1; then
                xt_bench xl.restore-with-devices.seconds "$(xt_since "$t0")"
                xt_pass xl-save-devices
        else
                xt_fail xl-save-devices "restore: $(tail -n 5 /tmp/xl/restore.out | tr '\n' ' ')"
        fi
else
        xt_fail xl-save-devices "save: $(tail -n 5 /tmp/xl/save.out | tr '\n' ' ')"
fi
xl destroy svd >/dev/null 2>&1
rm -f /tmp/xl/svd.save /tmp/xl/svd.img
xt_finish
