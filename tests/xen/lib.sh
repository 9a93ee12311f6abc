# Helpers for the real-Xen scenarios; sourced inside the test dom0 by /init
# (busybox sh). A scenario is a shell fragment that calls xt_pass/xt_fail for
# each check; $xt_scenario holds its name.
#
# Guests are the Debian kernel (/guest/vmlinux.gz) with the busybox initramfs
# (/guest/initrd.gz) whose /init does what xentest=MODE asks (guest-init.sh).

xt_failed=0
xt_scenario="${xt_scenario:-unknown}"
XT_GUEST_KERNEL=/guest/vmlinux.gz
XT_GUEST_RAMDISK=/guest/initrd.gz
XT_GUEST_MEMORY="${XT_GUEST_MEMORY:-96}"
XT_CONSOLE_DIR=/var/log/xen/console
XT_XENSUPD_LOG=/var/log/xensupd.log

xt_pass() { echo "XENTEST PASS $xt_scenario/$1"; }

# xt_fail CHECK WHY...
xt_fail() {
        local check="$1"
        shift
        echo "XENTEST FAIL $xt_scenario/$check: $*"
        xt_failed=1
}

# xt_log TEXT: a context line the runner shows under a failure.
xt_log() { echo "XENTEST LOG $xt_scenario: $*"; }

# xt_log_lines < TEXT: every line of stdin as a context line.
xt_log_lines() {
        local l
        while IFS= read -r l; do xt_log "$l"; done
}

# xt_export NAME FILE: copy FILE out through the console; run.sh writes it
# to $XEN_RUN/files/NAME on the host.
xt_export() {
        local l
        [ -f "$2" ] || return 0
        while IFS= read -r l; do echo "XENTEST FILE $1 $l"; done <"$2"
}

# xt_bench KEY VALUE: a figure for the bench table.
xt_bench() { echo "XENTEST BENCH $*"; }

# xt_check CHECK CMD...: pass when CMD succeeds, else fail with its output.
xt_check() {
        local check="$1" out
        shift
        if out="$("$@" 2>&1)"; then
                xt_pass "$check"
        else
                xt_fail "$check" "'$*' failed: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
        fi
}

# xt_finish: end the scenario; a failed one first runs xt_on_failure when
# the scenario defined it (to export logs).
xt_finish() {
        if [ "$xt_failed" != 0 ] && command -v xt_on_failure >/dev/null 2>&1; then
                xt_on_failure
        fi
        exit "$xt_failed"
}

# Seconds since boot, with hundredths.
xt_now() { cut -d' ' -f1 /proc/uptime; }

# xt_since T0: seconds elapsed since xt_now printed T0.
xt_since() { echo "$(xt_now) $1" | awk '{printf "%.2f", $1 - $2}'; }

# xt_wait SECONDS CMD...: poll CMD every 0.2 s until it succeeds; 1 on timeout.
xt_wait() {
        local limit="$1" t0
        shift
        t0="$(xt_now)"
        while :; do
                "$@" >/dev/null 2>&1 && return 0
                if [ "$(echo "$(xt_now) $t0 $limit" | awk '{print ($1 - $2 > $3)}')" = 1 ]; then
                        return 1
                fi
                sleep 0.2
        done
}

# --- domains as the hypervisor sees them (through xl, which reads Xen's list) ---

# xt_domid NAME: the domid of NAME, or nothing.
xt_domid() { xl domid "$1" 2>/dev/null; }

# xt_xl_state NAME: xl's six state flags (r b p s c d) of NAME, or nothing.
xt_xl_state() { xl list "$1" 2>/dev/null | awk 'NR == 2 {print $5}'; }

# xt_running NAME: NAME exists and runs: running, blocked, or runnable and
# waiting for a CPU ("------", which a loaded emulated host shows often), but
# not paused, shut down, crashed or dying (a restart counts only once the new
# domain really runs, not when its domid appears).
xt_running() {
        case "$(xt_xl_state "$1")" in
        ??----) return 0 ;;
        esac
        return 1
}

xt_gone() { ! xl domid "$1" >/dev/null 2>&1; }

# xt_domains: "domid name" of every domain but dom0.
xt_domains() { xl list 2>/dev/null | awk 'NR > 2 {print $2, $1}'; }

# xt_console_has NAME TEXT: the guest's console log (xenconsoled --log=guest) holds TEXT.
xt_console_has() { grep -q "$2" "$XT_CONSOLE_DIR/guest-$1.log" 2>/dev/null; }

# --- guest configs ---

# xt_guest_cmdline NAME MODE [DELAY]; $XT_GUEST_ARGS, when set, is appended
# (guest-init.sh's device options: "xentest.disk=xvda xentest.net=1", ...).
xt_guest_cmdline() { echo "console=hvc0 quiet xentest=$2 xentest.tag=$1 xentest.delay=${3:-0}${XT_GUEST_ARGS:+ $XT_GUEST_ARGS}"; }

# xt_guest_xl FILE NAME MODE [DELAY] [EXTRA-LINE...]: an xl.cfg for a PV test guest.
xt_guest_xl() {
        local file="$1" name="$2" mode="$3" delay="${4:-0}"
        if [ $# -gt 4 ]; then shift 4; else set --; fi
        mkdir -p "$(dirname "$file")"
        {
                echo "name = \"$name\""
                echo "type = \"pv\""
                echo "memory = $XT_GUEST_MEMORY"
                echo "vcpus = 1"
                echo "kernel = \"$XT_GUEST_KERNEL\""
                echo "ramdisk = \"$XT_GUEST_RAMDISK\""
                echo "cmdline = \"$(xt_guest_cmdline "$name" "$mode" "$delay")\""
                for l in "$@"; do echo "$l"; done
        } >"$file"
}

# xt_guest_conf DIR NAME MODE [DELAY] [EXTRA-LINE...]: a xensup domain config
# (DIR/NAME.conf) for the same guest.
xt_guest_conf() {
        local dir="$1" name="$2" mode="$3" delay="${4:-0}"
        if [ $# -gt 4 ]; then shift 4; else set --; fi
        mkdir -p "$dir"
        {
                echo "name = \"$name\""
                echo "type = \"pv\""
                echo "memory = $XT_GUEST_MEMORY"
                echo "vcpus = 1"
                echo "kernel = \"$XT_GUEST_KERNEL\""
                echo "ramdisk = \"$XT_GUEST_RAMDISK\""
                echo "cmdline = \"$(xt_guest_cmdline "$name" "$mode" "$delay")\""
                for l in "$@"; do echo "$l"; done
        } >"$dir/$name.conf"
}

# --- guest devices (DEVICES.md G): disks, vifs, their XenStore nodes ---

# Marker lines live at 4096-byte blocks: dom0 writes one at block 0 of an
# image, guest-init.sh's xentest.disk reads it and writes its own
# ("XENMARK guest TAG NAME") at block 1.

# xt_disk_image FILE MIB [MARKER]: a sparse image of MIB MiB (dom0's rootfs
# is RAM), with MARKER and a newline at offset 0.
xt_disk_image() {
        rm -f "$1"
        truncate -s "${2}M" "$1" || return 1
        [ -z "${3:-}" ] || xt_disk_mark "$1" "$3" 0
}

# xt_disk_mark FILE|DEV MARKER [BLOCK]: MARKER, a newline and zeros to the
# end of 4096-byte block BLOCK (default 0); straight to the device (O_DIRECT)
# for a block device, so a backend reading it underneath sees it.
xt_disk_mark() {
        local flag=
        [ -b "$1" ] && flag=oflag=direct
        { echo "$2"; head -c 4096 /dev/zero; } | head -c 4096 |
                dd of="$1" bs=4096 seek="${3:-0}" count=1 conv=notrunc,fsync $flag 2>/dev/null
}

# xt_disk_read FILE|DEV [BLOCK]: the first line of 4096-byte block BLOCK
# (default 0), printable characters only; O_DIRECT for a block device, so
# what a backend wrote underneath dom0's page cache is what is read.
xt_disk_read() {
        local flag=
        [ -b "$1" ] && flag=iflag=direct
        dd if="$1" bs=4096 skip="${2:-0}" count=1 $flag 2>/dev/null | tr -d '\000' | head -n 1 | sed 's/[^ -~]//g'
}

# xt_loops_in_use: the loop devices bound to a file, one "loopN FILE" a line.
xt_loops_in_use() {
        local f n
        for f in /sys/block/loop*/loop/backing_file; do
                [ -f "$f" ] || continue
                n="${f#/sys/block/}"
                echo "${n%%/*} $(cat "$f")"
        done
}

# xt_vdev_devid xvdX: the vbd devid of a single-letter xvd name with no
# partition (202<<8 | disk<<4: xvda 51712, xvdb 51728; DEVICES.md A.1).
xt_vdev_devid() {
        local i
        i="$(printf '%s' "${1#xvd}" | od -An -tu1 | tr -d ' ')"
        echo $(((202 << 8) | ((i - 97) << 4)))
}

# xt_xs_perms PATH: PATH's permissions as xenstore-ls -p shows them, without
# the parentheses ("n5,r0"), or nothing when PATH does not exist.
xt_xs_perms() {
        xenstore-ls -p "${1%/*}" 2>/dev/null | grep "^${1##*/} = " | sed -n 's/.*(\([^()]*\))$/\1/p' | head -n 1
}

# xt_xs_is PATH VALUE: PATH holds VALUE.
xt_xs_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }

# xt_xs_gone PATH: PATH does not exist.
xt_xs_gone() { ! xenstore-exists "$1" 2>/dev/null; }

# xt_ll_ready IFACE ADDR: IFACE has the link-local ADDR and it is no longer
# tentative (DAD done).
xt_ll_ready() {
        local a
        a="$(ip -6 addr show dev "$1" scope link 2>/dev/null | grep "inet6 $2/")" || return 1
        case "$a" in *tentative* | *dadfailed*) return 1 ;; esac
        return 0
}

# xt_ll_addr MAC: the EUI-64 link-local address Linux gives MAC
# (00:16:3e:00:01:02 -> fe80::216:3eff:fe00:102).
xt_ll_addr() {
        local IFS=: g1
        # shellcheck disable=SC2086 # split at the colons
        set -- $1
        g1=$((((0x$1 ^ 2) << 8) | 0x$2))
        if [ "$g1" = 0 ]; then
                printf 'fe80::%x:%x:%x\n' $(((0x$3 << 8) | 0xff)) $((0xfe00 | 0x$4)) $(((0x$5 << 8) | 0x$6))
        else
                printf 'fe80::%x:%x:%x:%x\n' "$g1" $(((0x$3 << 8) | 0xff)) $((0xfe00 | 0x$4)) $(((0x$5 << 8) | 0x$6))
        fi
}

# --- xensupd ---

xt_have_xensupd() { [ -x /usr/sbin/xensupd ] && [ -x /usr/bin/xensupctl ]; }

# xt_xensupd_start CONFIG-DIR [ARG...]: start the daemon on the real hypervisor
# (with the extra arguments) and wait until it answers on the system bus.
xt_xensupd_start() {
        if ! xt_have_xensupd; then
                xt_fail start "xensupd and xensupctl are not in this initramfs (build them before make check-xen)"
                return 1
        fi
        mkdir -p /var/lib/xensup
        # As the shipped unit runs it: group xensup drives it (user xsadmin is in it).
        dir="$1"
        shift
        xensupd --hypervisor=xen --admin-group=xensup --config-dir "$dir" \
                --state-dir /var/lib/xensup "$@" >>"$XT_XENSUPD_LOG" 2>&1 &
        echo $! >/run/xentest-xensupd.pid
        # It builds the autostart domains (~3 s each under emulation) before
        # its first answer.
        if ! xt_wait 120 xensupctl list; then
                xt_fail start "xensupd did not answer 'xensupctl list' within 120 s"
                xt_xensupd_log
                return 1
        fi
        return 0
}

xt_xensupd_pid() { cat /run/xentest-xensupd.pid 2>/dev/null; }

# xt_xensupd_log: the daemon's last lines, under the failure.
xt_xensupd_log() {
        tail -n 15 "$XT_XENSUPD_LOG" 2>/dev/null | while IFS= read -r l; do xt_log "xensupd: $l"; done
}

# xt_field NAME KEY: one field of NAME's object in `xensupctl --json list`
# (flat objects; strings unquoted).
xt_field() {
        # shellcheck disable=SC2020 # both braces become newlines
        xensupctl --json list 2>/dev/null | tr '{}' '\n\n' |
                grep "\"name\" *: *\"$1\"" |
                sed -n "s/.*\"$2\" *: *\"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" | head -n1
}

# xt_state_is NAME STATE: xensupd reports NAME in STATE.
xt_state_is() { [ "$(xt_field "$1" state)" = "$2" ]; }

# --- xenstored's -T trace (dom0 booted with xentest.trace=1), for the bench ---

XT_TRACE=/var/log/xen/xenstored-trace.log

# xt_trace_mark: the trace's current length in lines (a window boundary).
xt_trace_mark() { wc -l <"$XT_TRACE" 2>/dev/null || echo 0; }

# xt_trace_toolstack MODE FROM TO: over lines FROM+1..TO of the trace, the
# requests (MODE "in") or the EAGAIN answers (MODE "eagain") of the
# toolstack's own socket connections (MODE "lines": those requests themselves, without
# their connection and time). Lines look like
#   IN 0x561e4e836dc0 20261128 04:50:18 WATCH (memory/target FFFF... )
# and carry no domain id, so the connections are told apart from the start
# of the trace: the first one created is dom0's kernel; one created while an
# INTRODUCE is handled is a guest's; xenconsoled's is the first socket
# connection that watches @introduceDomain. Guests' and xenconsoled's
# requests do not count.
xt_trace_toolstack() {
        awk -v mode="$1" -v from="$2" -v to="$3" '
                NR > to { exit }
                $1 == "CREATE" && $2 == "connection" {
                        kind[$3] = (!seen || intro != "") ? "domain" : "socket"
                        seen = 1
                        next
                }
                $1 == "IN" && $5 == "INTRODUCE" { intro = $2 }
                $1 == "OUT" && $2 == intro { intro = "" }
                $1 == "IN" && $5 == "WATCH" && $6 == "(@introduceDomain" && cons == "" && kind[$2] == "socket" { cons = $2 }
                NR <= from || kind[$2] != "socket" || $2 == cons { next }
                mode == "in" && $1 == "IN" { n++ }
                mode == "lines" && $1 == "IN" { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }
                mode == "eagain" && $1 == "OUT" && / ERROR \(EAGAIN/ { n++ }
                END { if (mode != "lines") print n + 0 }' "$XT_TRACE"
}

# xt_trace_count FROM TO: the toolstack's requests in that window.
xt_trace_count() { xt_trace_toolstack in "$1" "$2"; }

# xt_trace_eagain FROM TO: the toolstack's transactions refused with EAGAIN.
xt_trace_eagain() { xt_trace_toolstack eagain "$1" "$2"; }

# --- cleanup between scenarios ---

xt_cleanup() {
        local pid
        for pid in $(pidof xensupd 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        xt_domains | while read -r id _; do xl destroy "$id" >/dev/null 2>&1; done
        # xl's per-domain monitor processes exit with their domain.
        sleep 0.5
        for pid in $(pidof xl 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        xenstore-rm /vm >/dev/null 2>&1
        xenstore-rm /tool/xensup >/dev/null 2>&1
        xenstore-list /local/domain 2>/dev/null | while read -r d; do
                [ "$d" = 0 ] || xenstore-rm "/local/domain/$d" >/dev/null 2>&1
        done
        # Devices left by a toolstack that died or never tore them down: with
        # no guest left, every vbd and vif backend is stale (removing its
        # directory makes the kernel drop the device, and the vif leaves the
        # bridge), and so is libxl's record of them; then the loop devices.
        for t in vbd vif; do
                xenstore-rm "/local/domain/0/backend/$t" >/dev/null 2>&1
        done
        xenstore-list /libxl 2>/dev/null | while read -r d; do
                [ "$d" = 0 ] || xenstore-rm "/libxl/$d" >/dev/null 2>&1
        done
        if [ -n "$(xt_loops_in_use)" ]; then
                xt_wait 10 sh -c '! ls /sys/bus/xen-backend/devices/vbd-* >/dev/null 2>&1'
                xt_loops_in_use | while read -r l _; do losetup -d "/dev/$l" >/dev/null 2>&1; done
        fi
        rm -rf /var/lib/xensup /run/xensup
        rm -f "$XT_CONSOLE_DIR"/*.log
}
