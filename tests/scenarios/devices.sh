# shellcheck shell=sh
# Disks and network interfaces, on both tiers: the same functions run on the
# simulator (tests/test-supervisor.sh, xensup-sim's blkback and netback) and on
# real Xen (tests/xen/scenarios/xensupd-devices.sh, the dom0 kernel's). Each
# domain is created with `xensupctl create` from a file outside the config
# directory, so a refusal comes back to the caller with its message.
#
# The tier provides, beside lib.sh's: DISK_DIR (where images go), host_loops
# (one line per loop device bound on the host), bridge_ports BRIDGE (the
# interfaces enslaved to it, one per line), DEVICE_WAIT (seconds a frontend
# may take to connect once the guest runs), and may set DEVICE_GUEST_ARGS (dv1's
# guest command line) and redefine device_guest_checks.

DEVICE_WAIT="${DEVICE_WAIT:-10}"

# mkdisk PATH MIB: a sparse image, "XENMARK dom0 NAME" on its first line for the guest to read.
mkdisk() {
        rm -f "$1"
        dd if=/dev/zero of="$1" bs=1048576 count=0 seek="$2" 2>/dev/null
        echo "XENMARK dom0 ${1##*/}" | dd of="$1" conv=notrunc 2>/dev/null
}

# What only the tier's guests can show once dv1 runs (real Xen: the guest read its disk, pinged
# the bridge); the simulator's guests show nothing more than their states.
device_guest_checks() { :; }

# What the tier's guest saw of a hot-plug: device_guest_saw VDEV appeared|gone (real Xen: its
# console says so); the simulator's guests print nothing.
device_guest_saw() { :; }

# devconf NAME BEHAVIOUR [KEY=VALUE ...]: mkconf's config, written to DISK_DIR/NAME.conf.
devconf() {
        name=$1
        # shellcheck disable=SC2030 # CONF_DIR for mkconf in this subshell only
        (CONF_DIR="$DISK_DIR" && mkconf "$@")
        echo "$DISK_DIR/$name.conf"
}

# The nodes of a device with their ACLs, as xenstore-ls -p prints them.
node_acl() { # PATH
        xenstore-ls -p "$(dirname "$1")" 2>/dev/null | grep -E "^ *$(basename "$1") = " | head -n 1
}

# wait_node PATH VALUE SECONDS: poll a XenStore node until it holds VALUE.
wait_node() {
        deadline=$(($(date +%s) + $3 * SCALE))
        while [ "$(date +%s)" -le "$deadline" ]; do
                [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ] && return 0
                sleep 0.2
        done
        return 1
}

# expect_node PATH VALUE SECONDS TESTNAME
expect_node() {
        if wait_node "$1" "$2" "$3"; then pass "$4"; else
                fail "$4" "$1 is '$(xenstore-read "$1" 2>/dev/null)', expected '$2'"
        fi
}

# expect_gone PATH TESTNAME: the node does not exist.
expect_gone() {
        if xenstore-read "$1" >/dev/null 2>&1; then fail "$2" "$1 still exists"; else pass "$2"; fi
}

# expect_count WHAT N TESTNAME: the command's output has N lines.
expect_count() {
        got=$($1 | grep -c .)
        if [ "$got" -eq "$2" ]; then pass "$3"; else
                fail "$3" "$1 lists $got, expected $2: $($1 | tr '\n' ';')"
        fi
}

# A domain's devices are gone: frontends, backends, loop devices, bridge ports.
expect_devices_gone() { # DOMID LOOPS_LEFT TESTNAME
        left=""
        for p in "/local/domain/0/backend/vbd/$1" "/local/domain/0/backend/vif/$1" \
                "/local/domain/$1/device/vbd" "/local/domain/$1/device/vif"; do
                xenstore-read "$p" >/dev/null 2>&1 && left="$left $p"
        done
        bridge_ports xenbr0 | grep -q "^vif$1\." && left="$left vif$1.* on xenbr0"
        [ "$(host_loops | grep -c .)" -ne "$2" ] && left="$left loops: $(host_loops | tr '\n' ';')"
        if [ -z "$left" ]; then pass "$3"; else fail "$3" "left behind:$left"; fi
}

# The first disk and vif of dv1: nodes, ACLs, host side, states.
devices_at_create() {
        d=$(field dv1 domid)
        fe="/local/domain/$d/device/vbd/51712" be="/local/domain/0/backend/vbd/$d/51712"
        case "$(node_acl "$fe/virtual-device")" in
        *"(n$d,r0)"*) pass dev-frontend-acl ;;
        *) fail dev-frontend-acl "$fe/virtual-device: $(node_acl "$fe/virtual-device")" ;;
        esac
        case "$(node_acl "$be/mode")" in
        *"\"w\""*"(n0,r$d)"*) pass dev-backend-acl ;;
        *) fail dev-backend-acl "$be/mode: $(node_acl "$be/mode")" ;;
        esac
        expect_node "$be/hotplug-status" connected 5 dev-vbd-hotplug-connected
        case "$(xenstore-read "$be/physical-device" 2>/dev/null)" in
        7:*) pass dev-vbd-physical-device ;;
        *) fail dev-vbd-physical-device "$be/physical-device: $(xenstore-read "$be/physical-device")" ;;
        esac
        case "$(xenstore-read "$be/node" 2>/dev/null)" in
        /dev/loop*) pass dev-vbd-node ;;
        *) fail dev-vbd-node "$be/node: $(xenstore-read "$be/node" 2>&1)" ;;
        esac
        expect_count host_loops 1 dev-one-loop
        expect_node "$be/state" 4 "$DEVICE_WAIT" dev-vbd-backend-connected
        expect_node "$fe/state" 4 "$DEVICE_WAIT" dev-vbd-frontend-connected
        vbe="/local/domain/0/backend/vif/$d/0"
        expect_node "$vbe/hotplug-status" connected 5 dev-vif-hotplug-connected
        expect_node "$vbe/state" 4 "$DEVICE_WAIT" dev-vif-backend-connected
        if bridge_ports xenbr0 | grep -qx "vif$d.0"; then pass dev-vif-on-bridge; else
                fail dev-vif-on-bridge "xenbr0 has: $(bridge_ports xenbr0 | tr '\n' ' ')"; fi
        mac=$(xenstore-read "$vbe/mac" 2>/dev/null)
        case "$mac" in
        00:16:3e:*) pass dev-vif-mac-generated ;;
        *) fail dev-vif-mac-generated "mac is '$mac'" ;;
        esac
        out=$($XSCTL block-list dv1 2>&1)
        case "$out" in
        *"xvda"*"51712"*"connected"*"connected"*"/dev/loop"*"$DISK_DIR/dv1.img"*) pass dev-block-list ;;
        *) fail dev-block-list "$out" ;;
        esac
        out=$($XSCTL --json network-list dv1 2>&1)
        case "$out" in
        *"\"mac\": \"$mac\""*"\"bridge\": \"xenbr0\""*) pass dev-network-list-json ;;
        *) fail dev-network-list-json "$out" ;;
        esac
}

# A reboot gets new devices for the new domid, the same MAC, and leaves nothing of the old.
devices_across_reboot() {
        old=$(field dv1 domid) mac=$(xenstore-read "/local/domain/0/backend/vif/$old/0/mac")
        $XSCTL reboot dv1 >/dev/null 2>&1
        deadline=$(($(date +%s) + 20 * SCALE))
        while [ "$(field dv1 domid)" = "$old" ] && [ "$(date +%s)" -le "$deadline" ]; do sleep 0.2; done
        expect dv1 state running 20 dev-reboot-running
        d=$(field dv1 domid)
        if [ -n "$d" ] && [ "$d" != "$old" ]; then pass dev-reboot-new-domid; else
                fail dev-reboot-new-domid "domid $old -> '$d'"; fi
        expect_devices_gone "$old" 1 dev-reboot-old-gone
        expect_node "/local/domain/0/backend/vbd/$d/51712/hotplug-status" connected 10 \
                dev-reboot-vbd-again
        expect_node "/local/domain/0/backend/vif/$d/0/mac" "$mac" 10 dev-reboot-same-mac
}

# One writer per disk: a second domain on dv1's image is refused; read-only sharing is not.
devices_sharing() {
        mkdisk "$DISK_DIR/ro.img" 4
        f=$(devconf dv2 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/dv1.img\"}")
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *"in use by domain dv1"*) pass dev-share-rw-refused ;;
        *) fail dev-share-rw-refused "create dv2: $out" ;;
        esac
        expect_count host_loops 1 dev-share-refused-no-loop
        f=$(devconf dvr1 wait "disk={\"format=raw, vdev=xvda, access=ro, target=$DISK_DIR/ro.img\"}")
        g=$(devconf dvr2 wait "disk={\"format=raw, vdev=xvdb, access=ro, target=$DISK_DIR/ro.img\"}")
        if $XSCTL create "$f" >/dev/null 2>&1 && $XSCTL create "$g" >/dev/null 2>&1; then
                pass dev-share-ro-allowed
        else
                fail dev-share-ro-allowed "dvr1: $(field dvr1 state), dvr2: $(field dvr2 state)"
        fi
        expect_count host_loops 3 dev-share-ro-two-loops
        for n in dvr1 dvr2; do destroy_when_built "$n"; done
}

# A bridge the host does not have is a clear error, and nothing is left.
devices_missing_bridge() {
        f=$(devconf dvb wait "disk={\"format=raw, vdev=xvda, access=ro, target=$DISK_DIR/ro.img\"}" \
                'vif={"bridge=nosuchbr0"}')
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *"nosuchbr0"*"does not exist"*) pass dev-missing-bridge-error ;;
        *) fail dev-missing-bridge-error "create dvb: $out" ;;
        esac
        expect_count host_loops 1 dev-missing-bridge-no-loop
        if xenstore-ls /local/domain/0/backend/vbd 2>/dev/null | grep -q "params = \"$DISK_DIR/ro.img\""; then
                fail dev-missing-bridge-no-backend "a backend of ro.img is left"
        else
                pass dev-missing-bridge-no-backend
        fi
}

# A crash that restarts gets its devices again; the dead instance keeps none.
devices_crash_restart() {
        mkdisk "$DISK_DIR/dvc.img" 4
        f=$(devconf dvc crash:3 on_crash='"restart"' restart.burst=8 restart.interval=60 \
                "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/dvc.img\"}")
        $XSCTL create "$f" >/dev/null 2>&1
        first=$(field dvc domid)
        expect_ge dvc restart_count 1 $((15 + 3)) dev-crash-restarted
        expect dvc state running 20 dev-crash-running-again
        d=$(field dvc domid)
        [ -n "$first" ] && expect_devices_gone "$first" 2 dev-crash-old-gone
        expect_node "/local/domain/0/backend/vbd/$d/51712/hotplug-status" connected 10 \
                dev-crash-vbd-again
        destroy_when_built dvc
}

# The daemon killed with devices attached: adopted as they are, and torn down on destroy.
devices_kill9() {
        d=$(field dv1 domid)
        daemon_kill9
        daemon_start
        expect dv1 state running 20 dev-kill9-adopted
        out=$($XSCTL block-list dv1 2>&1)
        case "$out" in
        *"xvda"*"connected"*) pass dev-kill9-block-list ;;
        *) fail dev-kill9-block-list "$out" ;;
        esac
        if [ "$(field dv1 domid)" = "$d" ]; then pass dev-kill9-same-domid; else
                fail dev-kill9-same-domid "domid $d -> $(field dv1 domid)"; fi
}

# Hot-plug: a disk and a vif come and go on the running dv1; a live disk needs --force.
devices_hotplug() {
        d=$(field dv1 domid) loops=$(host_loops | grep -c .)
        mkdisk "$DISK_DIR/hp.img" 4
        if out=$($XSCTL block-attach dv1 "vdev=xvdb, access=rw, target=$DISK_DIR/hp.img" 2>&1); then pass dev-hotplug-disk-attached; else
                fail dev-hotplug-disk-attached "$out"; fi
        expect_node "/local/domain/0/backend/vbd/$d/51728/hotplug-status" connected 5 \
                dev-hotplug-disk-connected
        expect_node "/local/domain/0/backend/vbd/$d/51728/state" 4 "$DEVICE_WAIT" \
                dev-hotplug-disk-backend-4
        expect_count host_loops $((loops + 1)) dev-hotplug-disk-loop
        device_guest_saw xvdb appeared
        out=$($XSCTL block-attach dv1 "vdev=xvda, access=ro, target=$DISK_DIR/hp.img" 2>&1)
        case "$out" in
        *"already has a disk xvda"*) pass dev-hotplug-vdev-taken ;;
        *) fail dev-hotplug-vdev-taken "$out" ;;
        esac
        out=$($XSCTL block-attach dv1 --persist "vdev=xvdc, access=ro, target=$DISK_DIR/hp.img" 2>&1)
        case "$out" in
        *"no file of the config directory"*) pass dev-hotplug-persist-needs-file ;;
        *) fail dev-hotplug-persist-needs-file "$out" ;;
        esac
        out=$($XSCTL block-detach dv1 xvdb 2>&1)
        case "$out" in
        *"needs force"*) pass dev-hotplug-detach-needs-force ;;
        *) fail dev-hotplug-detach-needs-force "$out" ;;
        esac
        if out=$($XSCTL block-detach dv1 xvdb --force 2>&1); then pass dev-hotplug-disk-detached; else
                fail dev-hotplug-disk-detached "$out"; fi
        expect_gone "/local/domain/0/backend/vbd/$d/51728" dev-hotplug-disk-backend-gone
        expect_gone "/local/domain/$d/device/vbd/51728" dev-hotplug-disk-frontend-gone
        expect_count host_loops "$loops" dev-hotplug-disk-loop-freed
        device_guest_saw xvdb gone
        if out=$($XSCTL network-attach dv1 "bridge=xenbr0" 2>&1); then pass dev-hotplug-vif-attached; else
                fail dev-hotplug-vif-attached "$out"; fi
        if bridge_ports xenbr0 | grep -qx "vif$d.1"; then pass dev-hotplug-vif-on-bridge; else
                fail dev-hotplug-vif-on-bridge "xenbr0 has: $(bridge_ports xenbr0 | tr '\n' ' ')"; fi
        if out=$($XSCTL network-detach dv1 1 2>&1); then pass dev-hotplug-vif-detached; else
                fail dev-hotplug-vif-detached "$out"; fi
        expect_gone "/local/domain/0/backend/vif/$d/1" dev-hotplug-vif-backend-gone
        if bridge_ports xenbr0 | grep -qx "vif$d.1"; then
                fail dev-hotplug-vif-off-bridge "vif$d.1 still on xenbr0"
        else
                pass dev-hotplug-vif-off-bridge
        fi
}

devices_destroy() {
        d=$(field dv1 domid)
        $XSCTL destroy dv1 >/dev/null 2>&1
        expect_devices_gone "$d" 0 dev-destroy-nothing-left
}

run_device_scenarios() {
        say "devices"
        mkdir -p "$DISK_DIR"
        mkdisk "$DISK_DIR/dv1.img" 8
        # shellcheck disable=SC2034 # read by lib.sh's mkconf
        GUEST_ARGS="${DEVICE_GUEST_ARGS:-}"
        f=$(devconf dv1 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/dv1.img\"}" \
                'vif={"bridge=xenbr0"}')
        # shellcheck disable=SC2034 # read by lib.sh's mkconf
        GUEST_ARGS=
        out=$($XSCTL create "$f" 2>&1)
        if [ "$(field dv1 state)" = running ]; then pass dev-create-running; else
                fail dev-create-running "create dv1: $out"
                return
        fi
        devices_at_create
        device_guest_checks
        devices_hotplug
        devices_across_reboot
        devices_sharing
        devices_missing_bridge
        devices_crash_restart
        devices_kill9
        devices_destroy
}

# --- the simulator only: faults at each step of the handshake and the host side ---
# The tier provides sim_fault OP NTH ERRNO (sim-tool fault), sim_device_fault KIND [ARGS]
# (sim-tool fault-device), sim_loop_attach PATH [ro] and sim_loop_detach MINOR (a loop device
# as another toolstack's losetup binds it), daemon_children (the daemon's child processes, one
# pid a line) and DAEMON_LOG (the daemon's log file).

# wait_count WHAT N SECONDS: poll until the command's output has N lines.
wait_count() {
        deadline=$(($(date +%s) + $3 * SCALE))
        while [ "$(date +%s)" -le "$deadline" ]; do
                [ "$($1 | grep -c .)" -eq "$2" ] && return 0
                sleep 0.1
        done
        return 1
}

# The minor of the loop device a backend names (its physical-device, hex 7:N), "" if none.
backend_loop_minor() { # BACKEND_PATH
        pd=$(xenstore-read "$1/physical-device" 2>/dev/null) || return 0
        case "$pd" in 7:*) echo $((0x${pd#7:})) ;; esac
}

# Kill the daemon's children (its build or device process) with SIGKILL, by pid.
kill_daemon_children() {
        for p in $(daemon_children); do kill -9 "$p" 2>/dev/null; done
}

# create NAME from a config with one disk and one vif; expect it refused with PATTERN and
# nothing of it left (no loop device, no backend naming its image).
expect_refused_clean() { # NAME PATTERN TESTNAME
        mkdisk "$DISK_DIR/$1.img" 4
        f=$(devconf "$1" wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/$1.img\"}" \
                'vif={"bridge=xenbr0"}')
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *$2*) pass "$3" ;;
        *) fail "$3" "create $1: $out" ;;
        esac
        left=""
        [ "$(host_loops | grep -c .)" -ne 0 ] && left="$left loops: $(host_loops | tr '\n' ';')"
        xenstore-ls /local/domain/0/backend 2>/dev/null | grep -q "$1.img" && left="$left a backend"
        [ -n "$(bridge_ports xenbr0)" ] && left="$left ports: $(bridge_ports xenbr0 | tr '\n' ' ')"
        if [ -z "$left" ]; then pass "$3-nothing-left"; else fail "$3-nothing-left" "$left"; fi
}

# --persist on a domain of the config directory: the entry is appended to its file, which
# still reads (libconfuse's "+="), and the next start of the domain attaches it again.
# A domain of its own (NAME), brought by reload and gone again afterwards.
devices_persist() { # NAME
        conf="$CONF_DIR/$1.conf"
        # With a vif: a file of the config directory is root's, host devices included.
        mkconf "$1" wait 'vif={"bridge=xenbr0"}'
        $XSCTL reload >/dev/null 2>&1
        $XSCTL start "$1" >/dev/null 2>&1
        expect "$1" state running 20 dev-persist-running
        mkdisk "$DISK_DIR/persist.img" 4
        if out=$($XSCTL block-attach "$1" --persist "vdev=xvdb, access=ro, target=$DISK_DIR/persist.img" 2>&1) && grep -q "^disk += { \"vdev=xvdb, format=raw, access=ro, target=$DISK_DIR/persist.img\" }\$" "$conf"; then
                pass dev-persist-appended
        else
                fail dev-persist-appended "$out; $(tail -n 2 "$conf" | tr '\n' ' ')"
        fi
        $XSCTL reboot "$1" >/dev/null 2>&1
        old=$(field "$1" domid)
        deadline=$(($(date +%s) + 20 * SCALE))
        while [ "$(field "$1" domid)" = "$old" ] && [ "$(date +%s)" -le "$deadline" ]; do sleep 0.2; done
        expect "$1" state running 20 dev-persist-rebooted
        out=$($XSCTL block-list "$1" 2>&1)
        case "$out" in
        *xvdb*persist.img*) pass dev-persist-after-reboot ;;
        *) fail dev-persist-after-reboot "$out" ;;
        esac
        destroy_when_built "$1"
        rm -f "$conf"
        $XSCTL reload >/dev/null 2>&1
}

# A disk another toolstack's domain (xl's) uses, as its backend nodes show it (written here as
# xl would, for a domid nobody supervises): a loop device on the same file, as its block
# script binds one. One writer per disk still: rw conflicts with any other use, ro shares with
# ro, and the refusal names the holder by domid and name; a hot-plug is held to the same.
devices_foreign_sharing() {
        mkdisk "$DISK_DIR/xl.img" 4
        minor=$(sim_loop_attach "$DISK_DIR/xl.img")
        be=/local/domain/0/backend/vbd/900/51712
        xenstore-write /local/domain/900/name xlguest
        xenstore-write "$be/state" 4 "$be/frontend-id" 900 "$be/params" "$DISK_DIR/xl.img" \
                "$be/type" phy "$be/mode" w "$be/physical-device" "7:$(printf %x "$minor")"
        f=$(devconf dxa wait "disk={\"format=raw, vdev=xvda, access=ro, target=$DISK_DIR/xl.img\"}")
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *"in use by domid 900 (name xlguest), which xensupd does not supervise"*)
                pass dev-foreign-writer-refused ;;
        *) fail dev-foreign-writer-refused "create dxa: $out" ;;
        esac
        expect_count host_loops 1 dev-foreign-refused-no-loop
        xenstore-write "$be/mode" r
        if out=$($XSCTL create "$f" 2>&1); then pass dev-foreign-readers-share; else
                fail dev-foreign-readers-share "create dxa: $out"; fi
        expect_count host_loops 2 dev-foreign-readers-two-loops
        out=$($XSCTL block-attach dxa "vdev=xvdb, access=rw, target=$DISK_DIR/xl.img" 2>&1)
        case "$out" in
        *"disk xvdb is in use by domid 900 (name xlguest)"*) pass dev-foreign-hotplug-refused ;;
        *) fail dev-foreign-hotplug-refused "block-attach dxa: $out" ;;
        esac
        if $XSCTL block-list dxa 2>&1 | grep -q xvdb; then
                fail dev-foreign-hotplug-detached "$($XSCTL block-list dxa 2>&1)"
        else
                pass dev-foreign-hotplug-detached
        fi
        destroy_when_built dxa
        g=$(devconf dxb wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/xl.img\"}")
        out=$($XSCTL create "$g" 2>&1)
        case "$out" in
        *"in use by domid 900 (name xlguest)"*) pass dev-foreign-reader-refuses-writer ;;
        *) fail dev-foreign-reader-refuses-writer "create dxb: $out" ;;
        esac
        # Gone, xl's domain no longer holds it: the same start passes.
        xenstore-rm /local/domain/0/backend/vbd/900
        xenstore-rm /local/domain/900
        sim_loop_detach "$minor"
        if out=$($XSCTL create "$g" 2>&1); then pass dev-foreign-gone-allowed; else
                fail dev-foreign-gone-allowed "create dxb: $out"; fi
        destroy_when_built dxb
        expect_count host_loops 0 dev-foreign-nothing-left
}

# The build process killed between its LOOP_CONFIGURE and the connect that writes the loop
# device into the disk's record (the simulator does the LOOP_ATTACH, then withholds its
# reply): whoever cleans up finds the loop device by its file and frees it, but not the one a
# read-only sharer's backend names. Once with the daemon alive (the child killed), once with
# the daemon killed with it and started again; then a hot-plug's process, the same way.
devices_killed_after_loop() {
        mkdisk "$DISK_DIR/dfk.img" 4
        f=$(devconf dfk1 wait "disk={\"format=raw, vdev=xvda, access=ro, target=$DISK_DIR/dfk.img\"}")
        $XSCTL create "$f" >/dev/null 2>&1
        keep=$(backend_loop_minor "/local/domain/0/backend/vbd/$(field dfk1 domid)/51712")
        g=$(devconf dfk2 wait "disk={\"format=raw, vdev=xvda, access=ro, target=$DISK_DIR/dfk.img\"}")
        sim_fault loop_attach 1 noreply
        $XSCTL create "$g" >/dev/null 2>&1 &
        ctl=$!
        if wait_count host_loops 2 10; then pass dev-killed-child-bound; else
                fail dev-killed-child-bound "loops: $(host_loops | tr '\n' ';')"; fi
        kill_daemon_children
        wait "$ctl"
        if wait_count host_loops 1 10; then pass dev-killed-child-loop-freed; else
                fail dev-killed-child-loop-freed "loops: $(host_loops | tr '\n' ';')"; fi
        if [ -n "$keep" ] && host_loops | grep -q "^$keep "; then pass dev-killed-sharer-kept; else
                fail dev-killed-sharer-kept "dfk1's loop$keep; loops: $(host_loops | tr '\n' ';')"; fi
        if xenstore-ls /local/domain/0/backend/vbd 2>/dev/null | grep -c "dfk.img" | grep -qx 1; then
                pass dev-killed-child-backend-gone
        else
                fail dev-killed-child-backend-gone "$(xenstore-ls /local/domain/0/backend/vbd 2>&1 | grep -c dfk.img) backends of dfk.img"
        fi
        destroy_when_built dfk2
        destroy_when_built dfk1
        expect_count host_loops 0 dev-killed-child-nothing-left

        h=$(devconf dfk3 wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/dfk.img\"}")
        sim_fault loop_attach 1 noreply
        $XSCTL create "$h" >/dev/null 2>&1 &
        ctl=$!
        wait_count host_loops 1 10
        daemon_kill9
        wait "$ctl"
        daemon_start
        # Adopted half-built: torn down (the leftover loop device freed), then built anew.
        expect dfk3 state running 20 dev-killed-daemon-rebuilt
        d=$(field dfk3 domid)
        mine=$(backend_loop_minor "/local/domain/0/backend/vbd/$d/51712")
        if [ "$(host_loops | grep -c .)" -eq 1 ] && host_loops | grep -q "^$mine "; then
                pass dev-killed-daemon-loop-freed
        else
                fail dev-killed-daemon-loop-freed "dfk3's loop$mine; loops: $(host_loops | tr '\n' ';')"
        fi

        # A hot-plug's device process killed at the same point: its record and loop go too.
        mkdisk "$DISK_DIR/dfk-hp.img" 4
        sim_fault loop_attach 1 noreply
        $XSCTL block-attach dfk3 "vdev=xvdb, access=rw, target=$DISK_DIR/dfk-hp.img" >/dev/null 2>&1 &
        ctl=$!
        wait_count host_loops 2 10
        kill_daemon_children
        wait "$ctl"
        if wait_count host_loops 1 10; then pass dev-killed-hotplug-loop-freed; else
                fail dev-killed-hotplug-loop-freed "loops: $(host_loops | tr '\n' ';')"; fi
        if $XSCTL block-list dfk3 2>&1 | grep -q xvdb; then
                fail dev-killed-hotplug-record-gone "$($XSCTL block-list dfk3 2>&1)"
        else
                pass dev-killed-hotplug-record-gone
        fi
        expect_gone "/local/domain/0/backend/vbd/$d/51728" dev-killed-hotplug-backend-gone
        $XSCTL destroy dfk3 >/dev/null 2>&1
        expect_count host_loops 0 dev-killed-nothing-left
}

run_device_fault_scenarios() {
        say "device faults"
        mkdir -p "$DISK_DIR"
        # Faults "for the next domain created" below: the restarters would take them.
        restarters_stop
        devices_persist dvpersist
        sim_device_fault backend-no-initwait 0 vbd
        expect_refused_clean dfa "did not reach state 2" dev-fault-no-initwait
        sim_device_fault clear
        sim_fault loop_attach 1 EIO
        expect_refused_clean dfb "loop" dev-fault-loop-attach
        sim_fault vif_plug 1 EIO
        expect_refused_clean dfc "vif 0" dev-fault-vif-plug
        # A frontend that never closes: the vif's hot-unplug is forced after the timeout.
        mkdisk "$DISK_DIR/dfd.img" 4
        f=$(devconf dfd wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/dfd.img\"}" \
                'vif={"bridge=xenbr0"}')
        $XSCTL create "$f" >/dev/null 2>&1
        d=$(field dfd domid)
        sim_device_fault frontend-no-close "$d" vif
        t0=$(date +%s)
        if out=$($XSCTL network-detach dfd 0 2>&1) && [ $(($(date +%s) - t0)) -ge 2 ]; then pass dev-fault-no-close-forced; else
                fail dev-fault-no-close-forced "network-detach: '$out' after $(($(date +%s) - t0)) s"; fi
        expect_gone "/local/domain/0/backend/vif/$d/0" dev-fault-no-close-backend-gone
        # The guest detaching on its own: the daemon shows it closed; destroy still cleans up.
        sim_device_fault guest-detach "$d" vbd 51712
        deadline=$(($(date +%s) + 10))
        until $XSCTL block-list dfd 2>/dev/null | grep -q "closed"; do
                [ "$(date +%s)" -ge "$deadline" ] && break
                sleep 0.2
        done
        out=$($XSCTL block-list dfd 2>&1)
        case "$out" in
        *xvda*closed*) pass dev-fault-guest-detach-shown ;;
        *) fail dev-fault-guest-detach-shown "$out" ;;
        esac
        sim_device_fault clear
        $XSCTL destroy dfd >/dev/null 2>&1
        expect_devices_gone "$d" 0 dev-fault-destroy-nothing-left
        # A frontend that never connects: the guest runs, and the log says which device and why.
        sim_device_fault frontend-no-connect 0 vbd
        mkdisk "$DISK_DIR/dfe.img" 4
        f=$(devconf dfe wait "disk={\"format=raw, vdev=xvda, access=rw, target=$DISK_DIR/dfe.img\"}")
        $XSCTL create "$f" >/dev/null 2>&1
        deadline=$(($(date +%s) + 15))
        until grep -q "dfe: disk xvda (vbd 51712) has not connected" "$DAEMON_LOG"; do
                [ "$(date +%s)" -ge "$deadline" ] && break
                sleep 0.2
        done
        if grep -q "dfe: disk xvda (vbd 51712) has not connected: its backend is in state 2" \
                "$DAEMON_LOG"; then
                pass dev-fault-no-connect-warned
        else
                fail dev-fault-no-connect-warned "no warning for dfe's disk in the log"
        fi
        if grep -q "dv1: disk xvda (vbd 51712) connected" "$DAEMON_LOG"; then
                pass dev-connected-logged
        else
                fail dev-connected-logged "no 'connected' line for dv1's disk"
        fi
        sim_device_fault clear
        destroy_when_built dfe
        devices_foreign_sharing
        devices_killed_after_loop
        restarters_start
}

# --- the simulator only: a site's own hotplug scripts (script=) instead of the native work ---

# mkscript NAME BODY: an executable script of root's in DISK_DIR, logging its calls to
# DISK_DIR/scripts.log ("NAME ACTION XENBUS_PATH vif=...").
mkscript() {
        {
                echo '#!/bin/sh'
                echo "echo \"$1 \$* \$XENBUS_PATH vif=\${vif:-}\" >>$DISK_DIR/scripts.log"
                echo 'be=/local/domain/0/$XENBUS_PATH'
                echo "$2"
        } >"$DISK_DIR/$1"
        chmod 755 "$DISK_DIR/$1"
}

run_device_script_scenarios() {
        say "device scripts"
        mkdir -p "$DISK_DIR"
        : >"$DISK_DIR/scripts.log"
        mkscript blk-ok 'case "$1" in add) xenstore-write "$be/physical-device" 1:5 "$be/physical-device-path" /dev/ram5 "$be/hotplug-status" connected ;; esac'
        mkscript blk-bad 'xenstore-write "$be/hotplug-error" "volume vg0/missing not found"; echo "lvs failed" >&2; exit 1'
        mkscript vif-ok 'case "$1" in online) xenstore-write "$be/hotplug-status" connected ;; esac'
        f=$(devconf dsa wait "disk={\"vdev=xvda, access=rw, script=$DISK_DIR/blk-ok, target=vg0/dsa\"}" \
                "vif={\"bridge=xenbr0, script=$DISK_DIR/vif-ok\"}")
        out=$($XSCTL create "$f" 2>&1)
        if [ "$(field dsa state)" = running ]; then pass dev-script-running; else
                fail dev-script-running "create dsa: $out"
        fi
        d=$(field dsa domid)
        expect_node "/local/domain/0/backend/vbd/$d/51712/physical-device" 1:5 5 dev-script-wrote-device
        expect_node "/local/domain/0/backend/vbd/$d/51712/script" "$DISK_DIR/blk-ok" 5 dev-script-node
        expect_node "/local/domain/0/backend/vif/$d/0/script" "$DISK_DIR/vif-ok" 5 dev-script-vif-node
        if grep -q "^blk-ok add backend/vbd/$d/51712 vif=\$" "$DISK_DIR/scripts.log" &&
                grep -q "^vif-ok online type_if=vif backend/vif/$d/0 vif=vif$d.0\$" "$DISK_DIR/scripts.log"; then
                pass dev-script-called-as-libxl
        else
                fail dev-script-called-as-libxl "$(tr '\n' ';' <"$DISK_DIR/scripts.log")"
        fi
        $XSCTL destroy dsa >/dev/null 2>&1
        if grep -q "^blk-ok remove backend/vbd/$d/51712" "$DISK_DIR/scripts.log" &&
                grep -q "^vif-ok offline type_if=vif backend/vif/$d/0" "$DISK_DIR/scripts.log"; then
                pass dev-script-removed
        else
                fail dev-script-removed "$(tr '\n' ';' <"$DISK_DIR/scripts.log")"
        fi
        expect_devices_gone "$d" 0 dev-script-nothing-left
        f=$(devconf dsb wait "disk={\"vdev=xvda, access=rw, script=$DISK_DIR/blk-bad, target=vg0/missing\"}")
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *"blk-bad add failed (exit status 1): volume vg0/missing not found"*) pass dev-script-error-shown ;;
        *) fail dev-script-error-shown "create dsb: $out" ;;
        esac
        if xenstore-ls /local/domain/0/backend/vbd 2>/dev/null | grep -q "vg0/missing"; then
                fail dev-script-error-nothing-left "a backend of vg0/missing is left"
        else
                pass dev-script-error-nothing-left
        fi
        # A vif script that does its work but withholds hotplug-status: netback would wait forever.
        mkscript vif-mute ':'
        f=$(devconf dsd wait "vif={\"bridge=xenbr0, script=$DISK_DIR/vif-mute\"}")
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *"vif-mute online succeeded but did not write hotplug-status = connected"*)
                pass dev-script-hotplug-status-withheld ;;
        *) fail dev-script-hotplug-status-withheld "create dsd: $out" ;;
        esac
        if grep -q "^vif-mute offline" "$DISK_DIR/scripts.log"; then pass dev-script-withheld-undone
        else fail dev-script-withheld-undone "no offline call: $(tr '\n' ';' <"$DISK_DIR/scripts.log")"; fi
        chmod 775 "$DISK_DIR/blk-ok"
        f=$(devconf dsc wait "disk={\"vdev=xvda, access=rw, script=$DISK_DIR/blk-ok, target=vg0/dsc\"}")
        out=$($XSCTL create "$f" 2>&1)
        case "$out" in
        *"owned by root that only root may write"*) pass dev-script-writable-refused ;;
        *) fail dev-script-writable-refused "create dsc: $out" ;;
        esac
}