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
#   xentest.tag=WORD  echoed in the console marker line
# Every guest prints "XENGUEST up tag=... mode=..." on hvc0 once its /init
# runs, so the toolstack's console log can be checked.
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

mode=wait
delay=0
tag=none
for arg in $(cat /proc/cmdline); do
        case "$arg" in
        xentest=*) mode="${arg#xentest=}" ;;
        xentest.delay=* | xentest_delay=*) delay="${arg#xentest?delay=}" ;;
        xentest.tag=*) tag="${arg#xentest.tag=}" ;;
        esac
done

echo "XENGUEST up tag=$tag mode=$mode"

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

# wait, hang, or an unknown mode: idle forever. A background sleep and wait
# let a trapped signal run at once.
while :; do
        sleep 3600 &
        wait $!
done
