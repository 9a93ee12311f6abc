# XENTEST_TIMEOUT=180
# PVH under xl (run by hand: tests/xen/run.sh --scenarios xl-pvh, with a CPU
# that offers SVM with nested paging, e.g. XEN_CPU=max). This Xen has no
# shadow paging, so PVH needs HAP from the emulated CPU.
caps="$(xl info | sed -n 's/^virt_caps *: *//p')"
xt_log "virt_caps: $caps"
xl dmesg | grep -i -E 'HAP|SVM|VMX|NPT' | xt_log_lines
case "$caps" in
*hvm*) xt_pass hvm-capable ;;
*) xt_fail hvm-capable "Xen offers no HVM (virt_caps '$caps'): no HAP from this CPU"; xt_finish ;;
esac
xt_guest_xl /tmp/xl/pvh.cfg pvh poweroff 2 'on_poweroff = "destroy"'
sed -i 's/^type = "pv"$/type = "pvh"/' /tmp/xl/pvh.cfg
t0="$(xt_now)"
if out="$(xl create /tmp/xl/pvh.cfg 2>&1)"; then
        xt_pass create
        xt_bench xl.pvh-create.seconds "$(xt_since "$t0")"
else
        xt_fail create "xl create of a PVH guest failed"
        echo "$out" | xt_log_lines
        xl dmesg | tail -n 15 | xt_log_lines
        xt_finish
fi
if xt_wait 60 xt_console_has pvh "XENGUEST up tag=pvh"; then
        xt_pass console
        xt_bench xl.pvh-create-to-init.seconds "$(xt_since "$t0")"
else
        xt_fail console "the PVH guest never reached its /init"
        xl list | xt_log_lines
        xl dmesg | tail -n 20 | xt_log_lines
        tail -n 20 "$XT_CONSOLE_DIR/guest-pvh.log" | xt_log_lines
fi
if xt_wait 60 xt_gone pvh; then
        xt_pass poweroff-destroyed
else
        xt_fail poweroff-destroyed "the PVH guest still exists: $(xl list pvh 2>&1 | tail -n 1)"
fi
