#!/bin/busybox sh
# /init of the tiny PV guest: the Debian kernel with this busybox initramfs.
# What it does is picked by the kernel command line:
#   xentest=poweroff  power off (after xentest.delay or xentest_delay seconds, default 0)
#   xentest=reboot    reboot (after the delay)
#   xentest=crash     panic through sysrq (after the delay); Linux PV reports
#                     SHUTDOWN_crash to Xen from its panic notifier
#   xentest=wait      run until the toolstack asks: the kernel's xenbus
#                     watch on control/shutdown runs /sbin/poweroff or
#                     /sbin/reboot (below), which do it at once
#   xentest=hang      ignore control/shutdown: the kernel acknowledges the
#                     request and runs the same helpers, which only say so,
#                     as on a guest whose userspace is wedged
#   xentest=watch     as wait, and report disks as they come and go
#                     (xentest.watch=1 below)
#   xentest.tag=WORD  echoed in the console marker line
# Every guest prints "XENGUEST up tag=... mode=..." on hvc0 once its /init
# runs, so the toolstack's console log can be checked, and answers each line
# typed on its console with "XENGUEST console read LINE".
#
# Devices, for any toolstack and with any of the modes above (done after
# "up" and before the delay). xen-blkfront and xen-netfront are always
# loaded, so the toolstack's disks and vifs connect whatever the guest does.
#   xentest.disk=NAME[,NAME...]  ('+' separates too) for each disk: wait up
#       to 30 s for /sys/block/NAME, read the first line at offset 0 of
#       /dev/NAME, write "XENMARK guest TAG NAME" and a newline at offset
#       4096, sync. Prints
#         XENGUEST disk NAME read LINE      (LINE: printable characters only,
#                                            "(empty)" for a blank disk)
#         XENGUEST disk NAME wrote XENMARK guest TAG NAME
#       or "XENGUEST disk NAME missing" / "read failed" / "write failed"
#       (a read-only disk: the write fails).
#   xentest.net=1  bring eth0 up, wait up to 20 s until its IPv6 link-local
#       address is no longer tentative, ping6 -c 3 -w 10 -I eth0 the bridge
#       (fe80::ff:fe00:1, DEVICES.md B.4; xentest.ping=ADDR to change). Prints
#         XENGUEST net eth0 up ADDR         (ADDR: the link-local address)
#         XENGUEST net ping ok | XENGUEST net ping failed
#       or "XENGUEST net eth0 missing" / "XENGUEST net eth0 tentative" (DAD
#       unfinished or failed: no ping).
#   xentest.watch=1  poll /sys/block every 0.5 s (loop* and ram* left out)
#       and print "XENGUEST disk NAME appeared" / "XENGUEST disk NAME gone";
#       disks there at boot count as appearing. xentest.watch=io also does
#       xentest.disk's read and write on each disk that appears.
#   xentest.hold=NAME[,NAME...]  with the watch: keep each of these disks
#       open (a process holds an fd) from when it appears, and print
#       "XENGUEST disk NAME held open".
#   xentest.heartbeat=1  print "XENGUEST beat N" every second, N counting up
#       from 1 in memory: a saved and restored guest goes on counting (and
#       prints no second "up" line), a cold-booted one starts again.
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

mode="wait"
delay=0
tag=none
disks=
net=0
ping_addr=fe80::ff:fe00:1
watch=0
hold=
nodrivers=
heartbeat=0
cmdline="$(cat /proc/cmdline)"
for arg in $cmdline; do
        case "$arg" in
        xentest=*) mode="${arg#xentest=}" ;;
        xentest.delay=* | xentest_delay=*) delay="${arg#xentest?delay=}" ;;
        xentest.tag=*) tag="${arg#xentest.tag=}" ;;
        xentest.disk=*) disks="$(echo "${arg#xentest.disk=}" | tr ',+' '  ')" ;;
        xentest.net=*) net="${arg#xentest.net=}" ;;
        xentest.ping=*) ping_addr="${arg#xentest.ping=}" ;;
        xentest.watch=*) watch="${arg#xentest.watch=}" ;;
        xentest.hold=*) hold="$(echo "${arg#xentest.hold=}" | tr ',+' '  ')" ;;
        xentest.nodriver=*) nodrivers="$(echo "${arg#xentest.nodriver=}" | tr ',+' '  ')" ;;
        xentest.heartbeat=*) heartbeat="${arg#xentest.heartbeat=}" ;;
        esac
done
[ "$mode" = watch ] && [ "$watch" = 0 ] && watch=1

echo "XENGUEST up tag=$tag mode=$mode"
# Each line typed on the console (xensupctl console), answered on a line of its own.
(while read -r line; do echo "XENGUEST console read $line"; done) </dev/console &

# The kernel answers control/shutdown by running /sbin/poweroff ("poweroff",
# "halt") or /sbin/reboot ("reboot") as usermode helpers (orderly_poweroff,
# orderly_reboot), with no stdout: they write to /dev/console. Busybox's own
# commands without -f would signal an init that is not there.
helper() { # NAME ACTION
        printf '#!/bin/sh\necho "XENGUEST %s requested" >/dev/console\n%s\n' "$1" "$2" >"/sbin/$1"
        chmod 755 "/sbin/$1"
}
rm -f /sbin/poweroff /sbin/reboot
case "$mode" in
hang)
        # Wedged userspace: the helpers start and do nothing. (A helper that
        # fails to start would make orderly_reboot force a reboot.)
        helper poweroff 'echo "XENGUEST ignoring a power-off request" >/dev/console'
        helper reboot 'echo "XENGUEST ignoring a reboot request" >/dev/console'
        ;;
*)
        helper poweroff 'exec /bin/busybox poweroff -f'
        helper reboot 'exec /bin/busybox reboot -f'
        ;;
esac

# The PV frontends (modules: nothing autoloads them without udev or mdev).
# A vbd or vif the toolstack configured connects once its driver is here.
# xentest.nodriver=xen-netfront leaves one out: a guest whose frontend never connects or closes.
for m in xen-blkfront xen-netfront; do
        case " $nodrivers " in *" $m "*) echo "XENGUEST not loading $m" && continue ;; esac
        modprobe "$m" 2>/dev/null || echo "XENGUEST modprobe $m failed"
done

# wait_for TENTHS CMD...: poll CMD every 0.1 s, at most TENTHS times.
wait_for() {
        n="$1"
        shift
        while ! "$@" 2>/dev/null; do
                n=$((n - 1))
                [ "$n" -gt 0 ] || return 1
                sleep 0.1
        done
        return 0
}

# disk_io NAME: xentest.disk's read and write on /dev/NAME.
disk_io() {
        dk="$1"
        if ! wait_for 300 test -b "/dev/$dk" -a -e "/sys/block/$dk"; then
                echo "XENGUEST disk $dk missing"
                return 1
        fi
        if dd if="/dev/$dk" of=/tmp/sector0 bs=512 count=1 2>/dev/null; then
                line="$(tr -d '\000' </tmp/sector0 | head -n 1 | sed 's/[^ -~]//g')"
                echo "XENGUEST disk $dk read ${line:-(empty)}"
        else
                echo "XENGUEST disk $dk read failed"
        fi
        mark="XENMARK guest $tag $dk"
        if echo "$mark" | dd of="/dev/$dk" bs=4096 seek=1 conv=notrunc,fsync 2>/dev/null && sync; then
                echo "XENGUEST disk $dk wrote $mark"
        else
                echo "XENGUEST disk $dk write failed"
        fi
}

# net_ping: xentest.net's link-local ping to the bridge.
net_ping() {
        if ! wait_for 300 test -e /sys/class/net/eth0; then
                echo "XENGUEST net eth0 missing"
                return 1
        fi
        ip link set eth0 up
        # DAD takes about a second; the address is there, flagged tentative, until then.
        if ! wait_for 200 sh -c 'ip -6 addr show dev eth0 scope link | grep -q "inet6 fe80" &&
                ! ip -6 addr show dev eth0 scope link | grep -q -e tentative -e dadfailed'; then
                echo "XENGUEST net eth0 tentative"
                return 1
        fi
        addr="$(ip -6 addr show dev eth0 scope link | sed -n 's/.*inet6 \(fe80[^/]*\)\/.*/\1/p' | head -n 1)"
        echo "XENGUEST net eth0 up $addr"
        if ping6 -c 3 -w 10 -I eth0 "$ping_addr" >/dev/null 2>&1; then
                echo "XENGUEST net ping ok"
        else
                echo "XENGUEST net ping failed"
        fi
}

# watch_disks: xentest.watch's report of disks coming and going.
watch_disks() {
        seen=" "
        while :; do
                now=" "
                for p in /sys/block/*; do
                        d="${p##*/}"
                        case "$d" in loop* | ram* | "*") continue ;; esac
                        now="$now$d "
                done
                for d in $now; do
                        case "$seen" in *" $d "*) continue ;; esac
                        echo "XENGUEST disk $d appeared"
                        [ "$watch" = io ] && disk_io "$d"
                        case " $hold " in
                        *" $d "*)
                                # A child holding an fd on the disk, as a mounted
                                # file system would.
                                (exec 3<"/dev/$d" && echo "XENGUEST disk $d held open" &&
                                        while :; do sleep 3600; done) &
                                ;;
                        esac
                done
                for d in $seen; do
                        case "$now" in *" $d "*) ;; *) echo "XENGUEST disk $d gone" ;; esac
                done
                seen="$now"
                sleep 0.5
        done
}

for d in $disks; do
        disk_io "$d"
done
[ "$net" = 0 ] || net_ping
[ "$watch" = 0 ] || watch_disks &
if [ "$heartbeat" != 0 ]; then
        (
                n=0
                while :; do
                        n=$((n + 1))
                        echo "XENGUEST beat $n"
                        sleep 1
                done
        ) &
fi

[ "$delay" -gt 0 ] 2>/dev/null && sleep "$delay"

case "$mode" in
poweroff)
        echo "XENGUEST powering off"
        /bin/busybox poweroff -f
        ;;
reboot)
        echo "XENGUEST rebooting"
        /bin/busybox reboot -f
        ;;
crash)
        echo "XENGUEST crashing"
        echo c >/proc/sysrq-trigger
        ;;
esac

# wait, hang, watch, or an unknown mode: idle forever. A background sleep
# and wait let a trapped signal run at once.
while :; do
        sleep 3600 &
        wait $!
done
