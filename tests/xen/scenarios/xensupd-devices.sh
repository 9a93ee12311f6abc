# XENTEST_TIMEOUT=480
# xensupd with disks and network interfaces on real Xen: the device scenarios
# shared with the simulator tier (tests/scenarios/devices.sh: create, the
# nodes and ACLs as the real xenstored holds them, the dom0 kernel's blkback
# and netback reaching Connected with the guest's blkfront and netfront,
# hot-plug, reboot, one writer per disk, a missing bridge, a crash that
# restarts, kill -9 adoption, destroy leaving nothing), and what only a real
# guest shows: it reads the marker dom0 wrote into its disk, writes its own,
# and pings dom0's bridge over IPv6 link-local (and is pinged back).

. /xentest/shared/lib.sh
. /xentest/shared/devices.sh

pass() { xt_pass "$1"; }
fail() { xt_fail "$1" "$2"; }

XSCTL=xensupctl
CONF_DIR=/etc/xensup/devices.d
DISK_DIR=/tmp/xsdisks
KERNEL="$XT_GUEST_KERNEL"
RAMDISK="$XT_GUEST_RAMDISK"
MEMORY="$XT_GUEST_MEMORY"
SCALE=4
DEVICE_WAIT=30
DEVICE_GUEST_ARGS="xentest.disk=xvda xentest.net=1 xentest.watch=1"
export XENSUP_LOG=stderr

xt_on_failure() {
        echo "XENTEST EXPORT xensupd.log"
        xt_export xensupd.log "$XT_XENSUPD_LOG"
        dmesg | tail -n 40 | xt_log_lines
}

daemon_start() { xt_xensupd_start "$CONF_DIR"; }
daemon_kill9() {
        pid="$(xt_xensupd_pid)"
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
        xt_wait 10 sh -c '! busctl status org.xensup.supervisor1'
}

host_loops() { xt_loops_in_use; }
bridge_ports() { ls "/sys/class/net/$1/brif" 2>/dev/null; }

# The guest of dv1 read dom0's marker from xvda, wrote its own, and reached the bridge.
device_guest_checks() {
        d=$(field dv1 domid)
        if xt_wait $((30 * SCALE)) xt_console_has dv1 "XENGUEST disk xvda read XENMARK dom0 dv1.img"; then
                xt_pass dev-guest-read-marker
        else
                xt_fail dev-guest-read-marker "the guest's console has no marker line"
                grep XENGUEST "$XT_CONSOLE_DIR/guest-dv1.log" 2>/dev/null | xt_log_lines
        fi
        if xt_wait $((10 * SCALE)) xt_console_has dv1 "XENGUEST disk xvda wrote"; then
                # Under the page cache dom0 reads what blkback wrote to the loop device.
                got=$(xt_disk_read "$DISK_DIR/dv1.img" 1)
                case "$got" in
                XENMARK\ guest*) xt_pass dev-guest-wrote-marker ;;
                *) xt_fail dev-guest-wrote-marker "block 1 of dv1.img is '$got'" ;;
                esac
        else
                xt_fail dev-guest-wrote-marker "the guest did not write its marker"
        fi
        if xt_wait $((30 * SCALE)) xt_console_has dv1 "XENGUEST net ping ok"; then
                xt_pass dev-guest-ping-bridge
        else
                xt_fail dev-guest-ping-bridge "$(grep 'XENGUEST net' "$XT_CONSOLE_DIR/guest-dv1.log" 2>/dev/null | tr '\n' ' ')"
        fi
        mac=$(xenstore-read "/local/domain/0/backend/vif/$d/0/mac" 2>/dev/null)
        addr=$(xt_ll_addr "$mac")
        if ping6 -c 3 -w 10 -I xenbr0 "$addr" >/dev/null 2>&1; then
                xt_pass dev-dom0-pings-guest
        else
                xt_fail dev-dom0-pings-guest "ping6 $addr on xenbr0 got no answer"
        fi
        case "$(cat "/sys/bus/xen-backend/devices/vbd-$d-51712/physical_device" 2>/dev/null)" in
        7:*) xt_pass dev-blkback-opened ;;
        *) xt_fail dev-blkback-opened "vbd-$d-51712 has no physical_device" ;;
        esac
}

# A phy target: a block device of the host (brd's /dev/ram1) is given to blkback as it is.
device_phy_disk() {
        f=$(devconf dvp wait 'disk={"format=raw, vdev=xvda, access=rw, target=/dev/ram1"}')
        out=$($XSCTL create "$f" 2>&1)
        if [ "$(field dvp state)" = running ]; then xt_pass dev-phy-running; else
                xt_fail dev-phy-running "create dvp: $out"
                return
        fi
        d=$(field dvp domid) be="/local/domain/0/backend/vbd/$(field dvp domid)/51712"
        expect_node "$be/physical-device" 1:1 5 dev-phy-physical-device
        expect_node "$be/physical-device-path" /dev/ram1 5 dev-phy-device-path
        expect_gone "$be/node" dev-phy-no-loop-node
        expect_node "$be/state" 4 "$DEVICE_WAIT" dev-phy-connected
        $XSCTL destroy dvp >/dev/null 2>&1
        expect_devices_gone "$d" 0 dev-phy-nothing-left
}

# The guest's own view of a hot-plug: guest-init.sh's watch prints each disk that comes or goes.
device_guest_saw() {
        if xt_wait $((15 * SCALE)) xt_console_has dv1 "XENGUEST disk $1 $2"; then
                xt_pass "dev-guest-saw-$1-$2"
        else
                xt_fail "dev-guest-saw-$1-$2" "dv1's console has no 'XENGUEST disk $1 $2'"
        fi
}

# A site's own script instead of the native work: Debian's /etc/xen/scripts/block (under bash,
# as xl runs it) sets up the loop device and writes physical-device; its remove frees it.
device_debian_script() {
        mkdisk "$DISK_DIR/dvs.img" 8
        f=$(devconf dvs wait "disk={\"vdev=xvda, access=rw, script=block, target=$DISK_DIR/dvs.img\"}")
        out=$($XSCTL create "$f" 2>&1)
        if [ "$(field dvs state)" = running ]; then xt_pass dev-debian-script-running; else
                xt_fail dev-debian-script-running "create dvs: $out"
                tail -n 20 /var/log/xen/xen-hotplug.log 2>/dev/null | xt_log_lines
                return
        fi
        d=$(field dvs domid) be="/local/domain/0/backend/vbd/$(field dvs domid)/51712"
        case "$(xenstore-read "$be/physical-device" 2>/dev/null)" in
        7:*) xt_pass dev-debian-script-loop ;;
        *) xt_fail dev-debian-script-loop "physical-device is '$(xenstore-read "$be/physical-device" 2>&1)'" ;;
        esac
        expect_node "$be/state" 4 "$DEVICE_WAIT" dev-debian-script-connected
        $XSCTL destroy dvs >/dev/null 2>&1
        xt_wait 20 sh -c "! grep -q dvs.img /sys/block/loop*/loop/backing_file 2>/dev/null"
        expect_devices_gone "$d" 0 dev-debian-script-nothing-left
}

# A guest without netfront: its vif never connects (the daemon warns), and a hot-unplug that
# asks it to close is forced once the device timeout passes, leaving nothing.
device_no_frontend() {
        GUEST_ARGS="xentest.nodriver=xen-netfront"
        f=$(devconf dvn wait 'vif={"bridge=xenbr0"}')
        GUEST_ARGS=
        out=$($XSCTL create "$f" 2>&1)
        if [ "$(field dvn state)" = running ]; then xt_pass dev-nofront-running; else
                xt_fail dev-nofront-running "create dvn: $out"
                return
        fi
        d=$(field dvn domid)
        if xt_wait $((10 * SCALE)) grep -q "dvn: vif 0 (vif$d.0) has not connected" "$XT_XENSUPD_LOG"; then
                xt_pass dev-nofront-warned
        else
                xt_fail dev-nofront-warned "no 'has not connected' warning for dvn's vif"
        fi
        t0=$(xt_now)
        out=$($XSCTL network-detach dvn 0 2>&1) || xt_fail dev-nofront-detach "network-detach: $out"
        if grep -q "dvn: vif 0 detached (forced: the frontend did not close in time)" "$XT_XENSUPD_LOG"; then
                xt_pass dev-nofront-detach-forced
        else
                xt_fail dev-nofront-detach-forced "after $(xt_since "$t0") s: $out"
        fi
        expect_gone "/local/domain/0/backend/vif/$d/0" dev-nofront-backend-gone
        if bridge_ports xenbr0 | grep -qx "vif$d.0"; then
                xt_fail dev-nofront-off-bridge "vif$d.0 is still on xenbr0"
        else
                xt_pass dev-nofront-off-bridge
        fi
        $XSCTL destroy dvn >/dev/null 2>&1
}

# A vif script that withholds hotplug-status: refused at once, not a link hanging in InitWait.
device_mute_script() {
        printf '#!/bin/sh\n:\n' >/tmp/vif-mute
        chmod 755 /tmp/vif-mute
        f=$(devconf dvm wait 'vif={"bridge=xenbr0, script=/tmp/vif-mute"}')
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *"did not write hotplug-status = connected"*) xt_pass dev-mute-script-refused ;;
        *) xt_fail dev-mute-script-refused "create dvm: $out" ;;
        esac
        if xenstore-ls /local/domain/0/backend/vif 2>/dev/null | grep -q "vif-mute"; then
                xt_fail dev-mute-script-nothing-left "a backend naming vif-mute is left"
        else
                xt_pass dev-mute-script-nothing-left
        fi
}

if ! xt_have_xensupd; then
        xt_fail start "xensupd and xensupctl are not in this initramfs (make builds them first)"
        xt_finish
fi

mkdir -p "$CONF_DIR" "$DISK_DIR"
daemon_start || {
        xt_xensupd_log
        xt_finish
}
t0="$(xt_now)"
run_device_scenarios
device_phy_disk
device_debian_script
device_no_frontend
device_mute_script
xt_bench xensupd.devices.seconds "$(xt_since "$t0")"
xt_finish
