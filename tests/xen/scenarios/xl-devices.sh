# XENTEST_TIMEOUT=300
# Guests with disks and network interfaces, under xl (DEVICES.md G items 1,
# 2, 4 and part of 3): the dom0 kernel's blkback and netback, loop, brd and the bridge,
# Debian's hotplug scripts (block, vif-bridge) under bash, and the guest's
# blkfront and netfront driven by guest-init.sh's xentest.disk and
# xentest.net. What passes here is the environment, so that a xensupd
# device failure is xensupd's.
#
# 1. A file image (8 MiB, sparse, in dom0's RAM rootfs, marker at offset 0)
#    as xvda, and a vif on xenbr0: XenStore nodes and permissions, both
#    states 4, the guest reads the marker and writes its own, ping6 both ways
#    over link-local addresses; after the guest powers off, dom0 sees the
#    guest's marker and nothing is left (loop device, backend directories,
#    the vif on the bridge).
# 2. A phy disk, /dev/ram0 (brd), the same way.
# 3. Hot-plug: xl block-attach and block-detach on a running guest in
#    guest-init.sh's watch mode, once with a disk the guest holds open.
# Every wait is bounded; the whole takes about 50 s here.

XL_LOG=/tmp/xl-devices
mkdir -p "$XL_LOG" /tmp/xl

# On failure: the hotplug scripts' stderr and syslog, xl's own log, dmesg.
xt_on_failure() {
        for f in /var/log/xen/xen-hotplug.log /var/log/messages "$XL_LOG"/*.log; do
                [ -f "$f" ] || continue
                echo "XENTEST EXPORT xl-devices.${f##*/}"
                xt_export "xl-devices.${f##*/}" "$f"
        done
        dmesg | tail -n 40 >"$XL_LOG/dmesg.txt"
        echo "XENTEST EXPORT xl-devices.dmesg"
        xt_export xl-devices.dmesg "$XL_LOG/dmesg.txt"
        for f in "$XT_CONSOLE_DIR"/guest-dev*.log; do
                [ -f "$f" ] || continue
                echo "XENTEST EXPORT xl-devices.${f##*/}"
                xt_export "xl-devices.${f##*/}" "$f"
        done
}

# check CHECK CMD...: pass when CMD succeeds (xt_check).
check() { xt_check "$@"; }

# eventually CHECK SECONDS CMD...: pass when CMD succeeds within SECONDS.
eventually() {
        local c="$1" s="$2"
        shift 2
        if xt_wait "$s" "$@"; then
                xt_pass "$c"
        else
                xt_fail "$c" "'$*' still fails after $s s"
        fi
}

# perms CHECK PATH WANT: PATH's ACL (xenstore-ls -p) is WANT.
perms() {
        local got
        got="$(xt_xs_perms "$2")"
        if [ "$got" = "$3" ]; then
                xt_pass "$1"
        else
                xt_fail "$1" "$2 has permissions ($got), not ($3)"
        fi
}

# node CHECK PATH VALUE: PATH holds VALUE.
node() {
        if xt_xs_is "$2" "$3"; then
                xt_pass "$1"
        else
                xt_fail "$1" "$2 is '$(xenstore-read "$2" 2>&1)', not '$3'"
        fi
}

both_connected() { xt_xs_is "$1/state" 4 && xt_xs_is "$2/state" 4; }
both_gone() { xt_xs_gone "$1" && xt_xs_gone "$2"; }
no_loops() { [ -z "$(xt_loops_in_use)" ]; }

# states CHECK FRONTEND BACKEND SECONDS: both states reach 4 in time.
states() {
        local t0
        t0="$(xt_now)"
        if xt_wait "$4" both_connected "$2" "$3"; then
                xt_pass "$1"
                xt_bench "xl.$1.seconds" "$(xt_since "$t0")"
        else
                xt_fail "$1" "states: frontend '$(xenstore-read "$2/state" 2>&1)', backend '$(xenstore-read "$3/state" 2>&1)' after $4 s"
                xenstore-ls "$3" 2>&1 | head -n 40 | xt_log_lines
        fi
}

# console CHECK NAME TEXT SECONDS: TEXT on NAME's console in time.
console() {
        if xt_wait "$4" xt_console_has "$2" "$3"; then
                xt_pass "$1"
        else
                xt_fail "$1" "no '$3' on $2's console within $4 s"
                grep XENGUEST "$XT_CONSOLE_DIR/guest-$2.log" 2>/dev/null | tail -n 10 | xt_log_lines
        fi
}

# create CHECK NAME CFG: xl create, timed; 1 when it failed.
create() {
        local t0
        t0="$(xt_now)"
        if xl -vvv create "$3" >"$XL_LOG/create-$2.log" 2>&1; then
                xt_pass "$1"
                xt_bench "xl.$1.seconds" "$(xt_since "$t0")"
                return 0
        fi
        xt_fail "$1" "xl create $3 failed"
        grep -v '^libxl: debug' "$XL_LOG/create-$2.log" | tail -n 15 | xt_log_lines
        tail -n 15 /var/log/xen/xen-hotplug.log 2>/dev/null | xt_log_lines
        return 1
}

# stop_guest CHECK NAME: xl shutdown -w, bounded, then until the domain is
# gone: -w returns once the guest has shut down, and xl's monitor then tears
# its devices down (the hotplug scripts' remove) before the domain goes.
stop_guest() {
        local t0
        t0="$(xt_now)"
        if ! timeout 60 xl shutdown -w "$2" >/dev/null 2>&1; then
                xt_fail "$1" "xl shutdown -w $2 failed or took over 60 s (state '$(xt_xl_state "$2")')"
                xl destroy "$2" >/dev/null 2>&1
        elif xt_wait 60 xt_gone "$2"; then
                xt_pass "$1"
                xt_bench "xl.$1.seconds" "$(xt_since "$t0")"
        else
                xt_fail "$1" "$2 shut down but still exists 60 s later (state '$(xt_xl_state "$2")')"
                xl destroy "$2" >/dev/null 2>&1
        fi
}

# gone_after CHECK DOMID TYPE DEVID: after the domain, its device's frontend
# and backend directories are removed, and so is the empty backend/TYPE/DOMID.
gone_after() {
        local fe="/local/domain/$2/device/$3/$4" be="/local/domain/0/backend/$3/$2"
        if xt_wait 10 both_gone "$fe" "$be"; then
                xt_pass "$1"
        else
                xt_fail "$1" "still there after the domain: $(xenstore-exists "$fe" 2>/dev/null && echo "$fe") $(xenstore-exists "$be" 2>/dev/null && echo "$be")"
                xenstore-ls -f "$be" 2>&1 | head -n 20 | xt_log_lines
        fi
}

# --- the dom0 side that dom0-init.sh set up ---

missing=
for m in xen_blkback xen_netback loop bridge brd; do
        [ -d "/sys/module/$m" ] || missing="$missing $m"
done
if [ -z "$missing" ]; then xt_pass dom0-modules; else xt_fail dom0-modules "not loaded:$missing"; fi
if [ -d /sys/class/net/xenbr0/bridge ] &&
        [ "$(cat /sys/class/net/xenbr0/address)" = 02:00:00:00:00:01 ] &&
        [ "$(cat /sys/class/net/xenbr0/bridge/forward_delay)" = 0 ] &&
        ip link show xenbr0 | grep -q '[<,]UP[,>]'; then
        xt_pass dom0-bridge
else
        xt_fail dom0-bridge "no xenbr0 with address 02:00:00:00:00:01, forward_delay 0, up"
        ip link show 2>&1 | xt_log_lines
fi
# Under bash, PATH finds util-linux's losetup and iproute2's ip (busybox's
# own shell prefers its applets of the same names). Without iproute2 on the
# build host, busybox's ip serves (mkinitrd.sh says so), which vif-bridge
# copes with.
hotplug_tools() {
        bash -c '[[ xen == x* ]] && [ "$(type -p losetup)" = /usr/sbin/losetup ]' &&
                flock -V | grep -q util-linux && /usr/sbin/losetup --version | grep -q util-linux &&
                [ -L /dev/stdin ] && [ -x /etc/xen/scripts/block ] && [ -x /etc/xen/scripts/vif-bridge ] || return 1
        if [ -x /usr/bin/ip ]; then
                /usr/bin/ip -V | grep -q iproute2 && bash -c '[ "$(type -p ip)" = /usr/bin/ip ]'
        else
                xt_log "no iproute2 ip in this dom0: the hotplug scripts use busybox's"
        fi
}
if hotplug_tools; then
        xt_pass dom0-hotplug-tools
else
        xt_fail dom0-hotplug-tools "bash, util-linux flock and losetup, iproute2 ip (when shipped), /dev/stdin or Debian's scripts missing"
fi

# --- 1. a file image and a vif ---

img=/tmp/d1.img
mac=00:16:3e:00:01:02
guest_ll="$(xt_ll_addr "$mac")"
bridge_ll=fe80::ff:fe00:1
xt_disk_image "$img" 8 "XENMARK dom0 d1"
XT_GUEST_ARGS="xentest.disk=xvda xentest.net=1" xt_guest_xl /tmp/xl/dev1.cfg dev1 wait 0 \
        'on_poweroff = "destroy"' \
        "disk = ['format=raw, vdev=xvda, access=rw, target=$img']" \
        "vif = ['mac=$mac, bridge=xenbr0']"
t_file="$(xt_now)"
if create file-create dev1 /tmp/xl/dev1.cfg; then
        d="$(xt_domid dev1)"
        fe="/local/domain/$d/device/vbd/51712"
        be="/local/domain/0/backend/vbd/$d/51712"
        vfe="/local/domain/$d/device/vif/0"
        vbe="/local/domain/0/backend/vif/$d/0"
        vif="vif$d.0"

        # vbd (G.1)
        states file-states-4 "$fe" "$be" 60
        perms file-frontend-perms "$fe" "n$d,r0"
        perms file-backend-perms "$be" "n0,r$d"
        node file-physical-device "$be/physical-device" 7:0
        node file-physical-device-path "$be/physical-device-path" /dev/loop0
        node file-node "$be/node" /dev/loop0
        node file-hotplug-status "$be/hotplug-status" connected
        node file-backend-dev "$be/dev" xvda
        node file-backend-mode "$be/mode" w
        node file-frontend-virtual-device "$fe/virtual-device" 51712
        check file-sysfs-physical-device test "$(cat "/sys/bus/xen-backend/devices/vbd-$d-51712/physical_device" 2>&1)" = 7:0
        check file-loop-backing test "$(cat /sys/block/loop0/loop/backing_file 2>&1)" = "$img"
        console file-guest-read dev1 "XENGUEST disk xvda read XENMARK dom0 d1" 60
        console file-guest-wrote dev1 "XENGUEST disk xvda wrote XENMARK guest dev1 xvda" 30

        # vif (G.4)
        states vif-states-4 "$vfe" "$vbe" 60
        perms vif-frontend-perms "$vfe" "n$d,r0"
        perms vif-backend-perms "$vbe" "n0,r$d"
        perms vif-frontend-mtu-perms "$vfe/mtu" "n0,r$d"
        node vif-script "$vbe/script" /etc/xen/scripts/vif-bridge
        node vif-handle "$vbe/handle" 0
        node vif-mac "$vbe/mac" "$mac"
        node vif-bridge "$vbe/bridge" xenbr0
        node vif-hotplug-status "$vbe/hotplug-status" connected
        check vif-on-bridge test -e "/sys/class/net/xenbr0/brif/$vif"
        check vif-up sh -c "ip link show $vif | grep -q '[<,]UP[,>]'"
        console vif-guest-ll dev1 "XENGUEST net eth0 up $guest_ll" 60
        console vif-guest-ping dev1 "XENGUEST net ping ok" 30
        if xt_wait 20 xt_ll_ready xenbr0 "$bridge_ll"; then
                check vif-dom0-ping ping6 -c 3 -w 10 -I xenbr0 "$guest_ll"
        else
                xt_fail vif-dom0-ping "xenbr0 has no ready $bridge_ll: $(ip -6 addr show dev xenbr0 2>&1 | tr '\n' ' ')"
        fi
        rx="$(cat "/sys/class/net/$vif/statistics/rx_packets" 2>/dev/null)"
        tx="$(cat "/sys/class/net/$vif/statistics/tx_packets" 2>/dev/null)"
        if [ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ]; then
                xt_pass vif-packets
        else
                xt_fail vif-packets "$vif counted rx '$rx' tx '$tx' packets"
        fi

        # The guest powers off (its poweroff helper); then what dom0 sees.
        stop_guest file-shutdown dev1
        check file-dom0-sees-guest-marker test "$(xt_disk_read "$img" 1)" = "XENMARK guest dev1 xvda"
        check file-dom0-marker-kept test "$(xt_disk_read "$img" 0)" = "XENMARK dom0 d1"
        if xt_wait 10 no_loops && [ -z "$(losetup -a 2>&1)" ]; then
                xt_pass file-loop-freed
        else
                xt_fail file-loop-freed "still bound: $(xt_loops_in_use | tr '\n' ' ') losetup -a: $(losetup -a 2>&1 | tr '\n' ' ')"
        fi
        gone_after file-nodes-removed "$d" vbd 51712
        gone_after vif-nodes-removed "$d" vif 0
        eventually vif-gone 10 test ! -e "/sys/class/net/$vif" -a ! -e "/sys/class/net/xenbr0/brif/$vif"
        eventually domain-nodes-removed 10 xt_xs_gone "/local/domain/$d"
fi
xt_bench xl.devices-file-vif.seconds "$(xt_since "$t_file")"
xl destroy dev1 >/dev/null 2>&1
rm -f "$img"

# --- 2. a phy disk: /dev/ram0 ---

ram=/dev/ram0
xt_disk_mark "$ram" "XENMARK dom0 ram0" 0
xt_disk_mark "$ram" "" 1
XT_GUEST_ARGS="xentest.disk=xvda" xt_guest_xl /tmp/xl/dev2.cfg dev2 wait 0 \
        'on_poweroff = "destroy"' \
        "disk = ['format=raw, vdev=xvda, access=rw, target=$ram']"
t_phy="$(xt_now)"
if create phy-create dev2 /tmp/xl/dev2.cfg; then
        d="$(xt_domid dev2)"
        fe="/local/domain/$d/device/vbd/51712"
        be="/local/domain/0/backend/vbd/$d/51712"
        states phy-states-4 "$fe" "$be" 60
        perms phy-frontend-perms "$fe" "n$d,r0"
        perms phy-backend-perms "$be" "n0,r$d"
        node phy-physical-device "$be/physical-device" 1:0
        node phy-physical-device-path "$be/physical-device-path" "$ram"
        node phy-hotplug-status "$be/hotplug-status" connected
        check phy-no-node xt_xs_gone "$be/node"
        check phy-no-loop test -z "$(xt_loops_in_use)"
        check phy-sysfs-physical-device test "$(cat "/sys/bus/xen-backend/devices/vbd-$d-51712/physical_device" 2>&1)" = 1:0
        console phy-guest-read dev2 "XENGUEST disk xvda read XENMARK dom0 ram0" 60
        console phy-guest-wrote dev2 "XENGUEST disk xvda wrote XENMARK guest dev2 xvda" 30
        stop_guest phy-shutdown dev2
        check phy-dom0-sees-guest-marker test "$(xt_disk_read "$ram" 1)" = "XENMARK guest dev2 xvda"
        gone_after phy-nodes-removed "$d" vbd 51712
fi
xt_bench xl.devices-phy.seconds "$(xt_since "$t_phy")"
xl destroy dev2 >/dev/null 2>&1

# --- 3. hot-plug under xl, seen by guest-init.sh's watch mode ---
# xvdb is attached to a running guest, read and written, and detached;
# xvdc, which the guest holds open, is detached all the same (Linux 6.1's
# blkfront closes a disk in use: DEVICES.md finding 5).

img2=/tmp/d2.img
img3=/tmp/d3.img
xt_disk_image "$img2" 8 "XENMARK dom0 d2"
xt_disk_image "$img3" 8 "XENMARK dom0 d3"
XT_GUEST_ARGS="xentest.watch=io xentest.hold=xvdc" xt_guest_xl /tmp/xl/dev3.cfg dev3 watch 0 \
        'on_poweroff = "destroy"'
t_hot="$(xt_now)"
# attach CHECK NAME VDEV IMAGE: xl block-attach, then the guest sees it.
attach() {
        local t0
        t0="$(xt_now)"
        if timeout 60 xl block-attach "$2" "format=raw, vdev=$3, access=rw, target=$4" >"$XL_LOG/attach-$3.log" 2>&1; then
                console "$1" "$2" "XENGUEST disk $3 appeared" 30
                xt_bench "xl.$1.seconds" "$(xt_since "$t0")"
        else
                xt_fail "$1" "xl block-attach $2 $3 failed"
                tail -n 10 "$XL_LOG/attach-$3.log" | xt_log_lines
        fi
}
# detach CHECK NAME VDEV: xl block-detach; the guest sees the disk go, and
# its nodes and loop device go with it.
detach() {
        local t0 devid
        t0="$(xt_now)"
        devid="$(xt_vdev_devid "$3")"
        if timeout 60 xl block-detach "$2" "$3" >"$XL_LOG/detach-$3.log" 2>&1; then
                console "$1" "$2" "XENGUEST disk $3 gone" 30
                xt_bench "xl.$1.seconds" "$(xt_since "$t0")"
                gone_after "$1-nodes-removed" "$(xt_domid "$2")" vbd "$devid"
                eventually "$1-loop-freed" 10 no_loops
        else
                xt_fail "$1" "xl block-detach $2 $3 failed or took over 60 s"
                tail -n 10 "$XL_LOG/detach-$3.log" | xt_log_lines
        fi
}
if create hot-create dev3 /tmp/xl/dev3.cfg; then
        console hot-guest-up dev3 "XENGUEST up tag=dev3 mode=watch" 30
        attach hot-attach dev3 xvdb "$img2"
        console hot-guest-read dev3 "XENGUEST disk xvdb read XENMARK dom0 d2" 30
        console hot-guest-wrote dev3 "XENGUEST disk xvdb wrote XENMARK guest dev3 xvdb" 30
        detach hot-detach dev3 xvdb
        check hot-dom0-sees-guest-marker test "$(xt_disk_read "$img2" 1)" = "XENMARK guest dev3 xvdb"
        attach hot-attach-held dev3 xvdc "$img3"
        console hot-guest-holds dev3 "XENGUEST disk xvdc held open" 30
        detach hot-detach-held dev3 xvdc
        check hot-guest-running xt_running dev3
        stop_guest hot-shutdown dev3
fi
xt_bench xl.devices-hotplug.seconds "$(xt_since "$t_hot")"
xl destroy dev3 >/dev/null 2>&1
rm -f "$img2" "$img3"
