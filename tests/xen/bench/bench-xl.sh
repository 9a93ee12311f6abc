# XENTEST_TIMEOUT=600
# The bench, xl's half (make bench-xen; needs xenstored -T: xentest.trace=1).
echo "XENTEST EXPORT trace-head"
head -n 60 "$XT_TRACE" >/tmp/trace-head
xt_export trace-head /tmp/trace-head

ts=xl
ts_cfg() { xt_guest_xl "/tmp/xl/$1.cfg" "$1" "$2"; }
# ts_cfg_dev NAME MODE IMAGE: the same guest with a disk and a vif (Debian's hotplug scripts).
ts_cfg_dev() {
        xt_guest_xl "/tmp/xl/$1.cfg" "$1" "$2" 0 "disk = ['format=raw, vdev=xvda, access=rw, target=$3']" \
                "vif = ['bridge=xenbr0']" 'on_reboot = "restart"'
}
ts_create() { xl create "/tmp/xl/$1.cfg" >/dev/null 2>&1; }
ts_reboot() { xl reboot "$1"; }
ts_destroy() { xl destroy "$1"; }
ts_save() { xl save "$1" "$2"; }
ts_restore() { xl restore "$1"; }
# No ssh: an empty ssh command makes xl run the "host" as the receiver's command line.
ts_migrate() { timeout 120 xl migrate -s "" "$1" "xl migrate-receive"; }
ts_pids() { pidof xl; }
. /xentest/scenarios/bench-body.sh
