#!/bin/busybox sh
# /init of the tiny PV guest: the Debian kernel with this busybox initramfs.
# What it does is picked by the kernel command line:
#   xentest=poweroff  power off (after xentest.delay seconds, default 0)
#   xentest=reboot    reboot (after the delay)
#   xentest=crash     panic through sysrq (after the delay); Linux PV reports
#                     SHUTDOWN_crash to Xen from its panic notifier
#   xentest=wait      run until the toolstack asks: the kernel's xenbus
#                     watch on control/shutdown reboots by itself and runs
#                     /sbin/poweroff (below) for a power-off
#   xentest=hang      ignore control/shutdown: the kernel still acknowledges
#                     the request, but its power-off helper fails and the
#                     reboot (ctrl-alt-del) goes to init, which ignores it,
#                     as a guest whose userspace is wedged would
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
        xentest.delay=*) delay="${arg#xentest.delay=}" ;;
        xentest.tag=*) tag="${arg#xentest.tag=}" ;;
        esac
done

echo "XENGUEST up tag=$tag mode=$mode"

# Busybox's poweroff without -f signals init; there is no such init here,
# so the kernel's orderly_poweroff() helper powers off directly.
cat >/sbin/poweroff.xentest <<'EOF'
#!/bin/sh
echo "XENGUEST poweroff requested"
exec /bin/busybox poweroff -f
EOF
chmod 755 /sbin/poweroff.xentest
rm -f /sbin/poweroff
ln -s poweroff.xentest /sbin/poweroff

case "$mode" in
hang)
        cat >/sbin/poweroff.xentest <<'EOF'
#!/bin/sh
echo "XENGUEST ignoring a power-off request"
exit 1
EOF
        # Ctrl-alt-del (the kernel's answer to "reboot") goes to init as SIGINT.
        echo 0 >/proc/sys/kernel/ctrl-alt-del
        trap 'echo "XENGUEST ignoring a reboot request"' INT
        ;;
esac

[ "$delay" -gt 0 ] 2>/dev/null && sleep "$delay"

case "$mode" in
poweroff)
        echo "XENGUEST powering off"
        poweroff -f
        ;;
reboot)
        echo "XENGUEST rebooting"
        reboot -f
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
