# XENTEST_TIMEOUT=600
# The bench, xensupd's half: the same guests and steps as bench-xl.sh.
if ! xt_have_xensupd; then
        xt_fail start "xensupd and xensupctl are not in this initramfs"
        xt_finish
fi
ts=xensupd
conf=/etc/xensup/bench.d
mkdir -p "$conf"
export XENSUP_LOG=stderr
xt_on_failure() {
        echo "XENTEST EXPORT xensupd.log"
        xt_export xensupd.log "$XT_XENSUPD_LOG"
}
ts_cfg() { xt_guest_conf /tmp/xensup-bench "$1" "$2" 0 'on_reboot = "restart"' 'restart { burst = 16 interval = 60 }'; }
ts_cfg_dev() {
        xt_guest_conf /tmp/xensup-bench "$1" "$2" 0 'on_reboot = "restart"' \
                'restart { burst = 16 interval = 60 }' \
                "disk = { \"format=raw, vdev=xvda, access=rw, target=$3\" }" 'vif = { "bridge=xenbr0" }'
}
ts_create() { xensupctl create "/tmp/xensup-bench/$1.conf" >/dev/null 2>&1; }
# ts_timeline NAME: the last "started as domid" line of NAME, which says where the time went.
ts_timeline() { grep "^xensupd: $1: started as domid" "$XT_XENSUPD_LOG" | tail -1; }
ts_layout_floor() { bench-layout --floor "/tmp/xensup-bench/$1.conf" 2>&1 | sed 's/.*: //'; }
ts_reboot() { xensupctl reboot "$1"; }
ts_destroy() { xensupctl destroy "$1"; }
ts_save() { xensupctl save "$1" "$2"; }
ts_restore() { xensupctl restore "$1"; }
ts_migrate() { timeout 120 xensupctl migrate "$1" localhost; }
# The daemon and its build processes: those hold the image while it is built.
ts_pids() {
        local p
        p="$(xt_xensupd_pid)"
        echo "$p"
        cat /proc/"$p"/task/*/children 2>/dev/null || true
}
# The layout alone on dom0's xenstored, before any guest of this half (bench-layout's domid 1
# died with bench-xl's first guest): sent ahead of the replies, and one request at a time.
layout_out="$(XENSTORED_PATH=/run/xenstored/socket bench-layout 20 2>&1)" || xt_log "bench-layout: $layout_out"
layout_ms() { echo "$layout_out" | sed -n "s/^  $1 *\([0-9.]*\) us.*/\1/p" | awk '{ printf "%.1f", $1 / 1000 }'; }
xt_bench "$ts.layout-ahead.ms" "$(layout_ms create)"
xt_bench "$ts.layout-serial.ms" "$(layout_ms 'create, one at a time')"
xt_xensupd_start "$conf" || xt_finish
. /xentest/scenarios/bench-body.sh
