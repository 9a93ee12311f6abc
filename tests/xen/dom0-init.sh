#!/bin/busybox sh
# /init of the test dom0 (Debian kernel, PV, under Xen 4.17 in QEMU).
# Brings up the dom0 plumbing the way REAL-XEN.md measured it, then runs the
# scenarios named on the kernel command line (xentest.scenarios=a,b,...; all
# of /xentest/scenarios when absent) and powers off. Every result is one line
# on the console that tests/xen/run.sh reads from the serial log:
#   XENTEST PASS scenario/check
#   XENTEST FAIL scenario/check: why
#   XENTEST BENCH key value
#   XENTEST END scenario rc=N seconds=S
#   XENTEST DONE
/bin/busybox mkdir -p /proc /sys /dev /run /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# What udev would add: the hotplug scripts' locking stats /dev/stdin.
ln -sf /proc/self/fd /dev/fd
ln -sf fd/0 /dev/stdin
ln -sf fd/1 /dev/stdout
ln -sf fd/2 /dev/stderr
mount -t tmpfs -o mode=755 tmpfs /run
rm -rf /var/run
ln -s /run /var/run
mkdir -p /run/xen /run/xenstored /run/dbus /run/xen-hotplug /var/log/xen/console /var/lib/xen /root
# Kernel chatter on the console would split the XENTEST lines.
dmesg -n 1

say() { echo "XENTEST $*"; }
die() {
        say "FAIL dom0/boot: $*"
        say "DONE"
        sync
        poweroff -f
}

for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs; do
        modprobe "$m" || die "modprobe $m failed"
done
mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen || die "mount xenfs failed"

# Guest devices (DEVICES.md G): the vbd and vif backends, loop devices for
# file images (loop0..7), two 8 MiB RAM disks as phy targets (/dev/ram0,
# /dev/ram1) and the bridge. Nothing autoloads modules here (no udev), and
# a backend whose driver is missing just waits.
t_dev="$(cut -d' ' -f1 /proc/uptime)"
for m in xen-blkback xen-netback loop bridge; do
        modprobe "$m" || die "modprobe $m failed"
done
modprobe brd rd_nr=2 rd_size=8192 || die "modprobe brd failed"
# xenbr0 as DEVICES.md B.4: the forward delay through sysfs (busybox's ip,
# which this shell runs in preference to /usr/bin/ip, takes no bridge
# options), and a fixed address, so the bridge has the link-local
# fe80::ff:fe00:1 the guests ping.
# The guests' vifs are its only ports: nothing leaves QEMU (-nic none).
ip link set lo up
if ! { ip link add name xenbr0 type bridge &&
        echo 0 >/sys/class/net/xenbr0/bridge/forward_delay &&
        ip link set xenbr0 address 02:00:00:00:00:01 &&
        ip link set xenbr0 up; }; then
        say "LOG dom0: setting up the bridge xenbr0 failed"
fi
# The hotplug scripts log through logger: to /var/log/messages.
syslogd || say "LOG dom0: syslogd did not start"
t_dev="$(echo "$(cut -d' ' -f1 /proc/uptime) $t_dev" | awk '{printf "%.2f", $1 - $2}')"

args="$(cat /proc/cmdline)"
scenarios=
trace=0
for arg in $args; do
        case "$arg" in
        xentest.scenarios=*) scenarios="$(echo "${arg#xentest.scenarios=}" | tr ",+" "  ")" ;;
        xentest.trace=1) trace=1 ;;
        esac
done
if [ -z "$scenarios" ]; then
        for f in /xentest/scenarios/*.sh; do
                s="${f##*/}"
                scenarios="$scenarios ${s%.sh}"
        done
fi

# xenstored's -T trace (every request IN and answer OUT, by connection) is
# what the bench counts; the tests do not need it.
if [ "$trace" = 1 ]; then
        xenstored --pid-file=/run/xenstored.pid -T /var/log/xen/xenstored-trace.log
else
        xenstored --pid-file=/run/xenstored.pid
fi
i=0
until xenstore-ls / >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && die "xenstored did not answer within 10 s"
        sleep 0.1
done
xen-init-dom0 >/tmp/xen-init-dom0.log 2>&1 || die "xen-init-dom0: $(tail -n 3 /tmp/xen-init-dom0.log)"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
        die "xenconsoled did not start"
dbus-daemon --config-file=/etc/xentest/dbus-system.conf --fork --print-pid=3 3>/run/dbus/daemon.pid ||
        die "dbus-daemon did not start"

say "BOOT dom0 up $(cut -d' ' -f1 /proc/uptime) s after the kernel started (device modules and bridge $t_dev s); xen $(xenstore-read /local/domain/0/name 2>/dev/null)"

for s in $scenarios; do
        f="/xentest/scenarios/$s.sh"
        if [ ! -f "$f" ]; then
                say "FAIL $s: no such scenario"
                continue
        fi
        # A scenario's budget: XENTEST_TIMEOUT=N in its first lines, else 240 s.
        budget="$(sed -n 's/^# *XENTEST_TIMEOUT=\([0-9]*\).*/\1/p' "$f" | head -n1)"
        [ -n "$budget" ] || budget=240
        say "BEGIN $s"
        start="$(cut -d' ' -f1 /proc/uptime)"
        timeout "$budget" sh -c ". /xentest/lib.sh; xt_scenario=$s; . $f; xt_finish" </dev/null
        rc=$?
        end="$(cut -d' ' -f1 /proc/uptime)"
        if [ "$rc" -eq 143 ] || [ "$rc" -eq 124 ]; then
                say "FAIL $s/timeout: the scenario ran past its $budget s"
                # What the toolstack was doing when time ran out.
                sh -c ". /xentest/lib.sh; xl list; xt_export xensupd.log \$XT_XENSUPD_LOG"
        fi
        say "END $s rc=$rc seconds=$(echo "$end $start" | awk '{printf "%.1f", $1 - $2}')"
        # Leave nothing behind for the next scenario.
        timeout 90 sh -c ". /xentest/lib.sh; xt_cleanup" </dev/null || say "LOG dom0: the cleanup after $s did not finish in 90 s"
done

say "DONE"
sync
poweroff -f
