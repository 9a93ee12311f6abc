# XENTEST_TIMEOUT=540
# xensupd on real Xen: the scenarios shared with the simulator tier
# (tests/scenarios/common.sh, the same functions tests/test-supervisor.sh
# runs), and around them what only a real hypervisor shows: the XenStore
# nodes as the real xenstored holds them (xenstore-ls -p), the guest console
# reaching xenconsoled, and D-Bus calls over dom0's system bus.

. /xentest/shared/lib.sh
. /xentest/shared/common.sh

# The shared library's reporting, into XENTEST lines.
pass() { xt_pass "$1"; }
fail() { xt_fail "$1" "$2"; }

XSCTL=xensupctl
CONF_DIR=/etc/xensup/domains.d
KERNEL="$XT_GUEST_KERNEL"
RAMDISK="$XT_GUEST_RAMDISK"
# Ten PV builds under emulation take ~3 s each, one after another.
SCALE=4
export XENSUP_LOG=stderr

# On failure the daemon's whole log comes out as $XEN_RUN/files/xensupd.log.
xt_on_failure() {
        echo "XENTEST EXPORT xensupd.log"
        xt_export xensupd.log "$XT_XENSUPD_LOG"
}

daemon_start() { xt_xensupd_start "$CONF_DIR"; }
daemon_kill9() {
        pid="$(xt_xensupd_pid)"
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
        # The bus name goes with the connection.
        xt_wait 10 sh -c '! busctl status org.xensup.supervisor1'
}

if ! xt_have_xensupd; then
        xt_fail start "xensupd and xensupctl are not in this initramfs (make builds them first)"
        xt_finish
fi

mkdir -p "$CONF_DIR"
scenario_configs
# The Debian kernel's image alone is 58 MiB: a 64 MiB PV guest cannot be built.
sed -i "s/^memory = 64\$/memory = $XT_GUEST_MEMORY/" "$CONF_DIR"/*.conf

t0="$(xt_now)"
daemon_start || {
        xt_xensupd_log
        xt_finish
}
scenario_started
xt_bench xensupd.start-5-running.seconds "$(xt_since "$t0")"

# --- what only real Xen shows ---

# The domain nodes as layout/README.md documents them, read back from the
# real xenstored with their permissions (xenstore-ls -p: "(n0,r5)").
domid="$(field up1 domid)"
uuid="$(field up1 uuid)"
ls_dom="$(xenstore-ls -p "/local/domain/$domid" 2>&1)"
ls_vm="$(xenstore-ls -p "/vm/$uuid" 2>&1)"
ls_be="$(xenstore-ls -p "/local/domain/0/backend/console/$domid" 2>&1)"
check_node() { # TEXT CHECK PATTERN WHAT
        if echo "$1" | grep -q "$3"; then
                xt_pass "$2"
        else
                xt_fail "$2" "$4"
                echo "$1" | head -n 60 | xt_log_lines
        fi
}
check_node "$ls_dom" xenstore-name "^name = \"up1\".*(n0,r$domid)\$" \
        "/local/domain/$domid/name is not \"up1\" (n0,r$domid)"
check_node "$ls_dom" xenstore-domid "^domid = \"$domid\".*(n0,r$domid)\$" "no domid = \"$domid\" (n0,r$domid)"
check_node "$ls_dom" xenstore-vm-link "^vm = \"/vm/$uuid\"" "/local/domain/$domid/vm is not /vm/$uuid"
check_node "$ls_dom" xenstore-control-shutdown "^ shutdown = \"\".*(n0,b$domid)\$" \
        "control/shutdown is not an empty (n0,b$domid) node"
check_node "$ls_dom" xenstore-data-rw "^data = \"\".*(n0,b$domid)\$" "data is not (n0,b$domid)"
check_node "$ls_dom" xenstore-memory-target "^ target = \"$((XT_GUEST_MEMORY * 1024))\"" \
        "memory/target is not $((XT_GUEST_MEMORY * 1024)) KiB"
check_node "$ls_dom" xenstore-store "^ port = \"[0-9]" "no store/port"
check_node "$ls_dom" xenstore-console "^ ring-ref = \"[0-9]" "no console/ring-ref"
check_node "$ls_vm" xenstore-vm-name "^name = \"up1\".*(n0,r$domid)\$" "/vm/$uuid has no name = \"up1\" (n0,r$domid)"
check_node "$ls_vm" xenstore-vm-uuid "^uuid = \"$uuid\"" "/vm/$uuid has no uuid"
check_node "$ls_be" xenstore-console-backend "^ frontend = \"/local/domain/$domid/console\".*(n0,r$domid)\$" \
        "no console backend for $domid in /local/domain/0/backend/console"
# dom0 owns every node it wrote (a guest-owned node could have its ACL
# opened by the guest, CVE-2008-5716); nodes the guest creates itself in its
# own areas are the guest's, as xenstored makes the creator the owner.
if others="$(xenstore-ls -f -p "/local/domain/$domid" 2>&1 | grep -v '(n0[,)]' |
        grep -v -E "^/local/domain/$domid/(data|drivers|feature|attr|error)/")"; then
        xt_fail xenstore-dom0-owns "nodes not owned by dom0 under /local/domain/$domid:"
        echo "$others" | xt_log_lines
else
        xt_pass xenstore-dom0-owns
fi
xenstore-read /local/domain/0/name >/dev/null 2>&1 && xt_pass xenstore-dom0-intact ||
        xt_fail xenstore-dom0-intact "/local/domain/0/name is gone"

# The real xenconsoled found the console ring and event channel the daemon wrote.
if xt_wait 30 xt_console_has up1 "XENGUEST up"; then
        xt_pass console-log
else
        xt_fail console-log "no 'XENGUEST up' in $XT_CONSOLE_DIR/guest-up1.log"
        ls -l "$XT_CONSOLE_DIR" | xt_log_lines
fi

# xensupctl console through xenconsoled's pty, which the daemon opens (console/tty, dom0's
# node) and hands over: a line sent reaches the guest's /init, whose answer comes back. Standard
# input is a FIFO, so the end of it (closing fd 3) ends the command.
rm -f /tmp/console.in /tmp/console.out
mkfifo /tmp/console.in
xensupctl console up1 </tmp/console.in >/tmp/console.out 2>&1 &
console_pid=$!
exec 3>/tmp/console.in
echo "hello-console" >&3
if xt_wait 30 grep -q "XENGUEST console read hello-console" /tmp/console.out; then
        xt_pass console-attach
else
        xt_fail console-attach "xensupctl console up1 showed: $(head -c 300 /tmp/console.out)"
fi
exec 3>&-
if xt_wait 10 sh -c "! kill -0 $console_pid 2>/dev/null" && wait "$console_pid"; then
        xt_pass console-leaves-at-eof
else
        kill "$console_pid" 2>/dev/null
        xt_fail console-leaves-at-eof "xensupctl console up1 still ran, or failed: $(cat /tmp/console.out)"
fi
tty="$(xenstore-read "/local/domain/$domid/console/tty" 2>/dev/null)"
case "$tty" in
/dev/pts/[0-9]*) xt_pass console-tty-from-xenconsoled ;;
*) xt_fail console-tty-from-xenconsoled "console/tty is '$tty'" ;;
esac

# Every running domain the daemon reports is one Xen runs, under that domid.
for d in up1 up2 obey1 hang1 ctl1; do
        id="$(field "$d" domid)"
        if [ -n "$id" ] && [ "$(xt_domid "$d")" = "$id" ] && xt_running "$d"; then
                xt_pass "xen-running-$d"
        else
                xt_fail "xen-running-$d" "xensupd says domid '$id'; xl says '$(xt_domid "$d")' state '$(xt_xl_state "$d")'"
        fi
done

# --- the host and the vcpus as xl shows them: xensupctl info, vcpu-list, vcpu-pin, mem-max ---
xl_info_field() { xl info 2>/dev/null | sed -n "s/^$1 *: //p"; }
ctl_info_field() { xensupctl info 2>/dev/null | sed -n "s/^$1 *: //p"; }
for f in xen_version xen_caps virt_caps xen_scheduler nr_cpus nr_nodes cores_per_socket \
        threads_per_core total_memory; do
        ours="$(ctl_info_field "$f")" theirs="$(xl_info_field "$f")"
        if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
                xt_pass "info-$f"
        else
                xt_fail "info-$f" "xensupctl info says '$ours', xl info '$theirs'"
        fi
done
# Into the run's log, as a person would read them.
xensupctl info 2>&1 | xt_log_lines
xensupctl vcpu-list 2>&1 | xt_log_lines
case "$(ctl_info_field xen_version)" in
4.17*) xt_pass info-xen-4.17 ;;
*) xt_fail info-xen-4.17 "xen_version '$(ctl_info_field xen_version)'" ;;
esac
# Name, ID, VCPU and the affinities (CPU, State and Time move on their own).
vcpu_rows() { "$@" 2>/dev/null | awk 'NR > 1 { print $1, $2, $3, $7, $8, $9 }'; }
ours="$(vcpu_rows xensupctl vcpu-list up1)" theirs="$(vcpu_rows xl vcpu-list up1)"
if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
        xt_pass vcpu-list-as-xl
else
        xt_fail vcpu-list-as-xl "xensupctl: '$ours'; xl: '$theirs'"
fi
if xensupctl vcpu-pin up1 0 1 0 >/tmp/pin.out 2>&1 &&
        [ "$(vcpu_rows xl vcpu-list up1 | head -1 | cut -d' ' -f4-)" = "1 / 0" ]; then
        xt_pass vcpu-pin-in-xen
else
        xt_fail vcpu-pin-in-xen "vcpu-pin up1 0 1 0: $(cat /tmp/pin.out); xl: $(vcpu_rows xl vcpu-list up1)"
fi
xensupctl vcpu-pin up1 0 all all >/dev/null 2>&1
if [ "$(vcpu_rows xl vcpu-list up1 | head -1 | cut -d' ' -f4-)" = "all / all" ]; then
        xt_pass vcpu-pin-back-in-xen
else
        xt_fail vcpu-pin-back-in-xen "xl: $(vcpu_rows xl vcpu-list up1)"
fi
out="$(xensupctl vcpu-pin up1 0 5 2>&1)"
if [ "$out" = "xensupctl: hard affinity: cpu 5 does not exist: the host has cpus 0-$(($(xl_info_field nr_cpus) - 1))" ]; then
        xt_pass vcpu-pin-refused
else
        xt_fail vcpu-pin-refused "vcpu-pin up1 0 5: $out"
fi
max=$(((XT_GUEST_MEMORY + 32) * 1024))
if xensupctl mem-max up1 "$((XT_GUEST_MEMORY + 32))m" >/tmp/memmax.out 2>&1 &&
        [ "$(xenstore-read "/local/domain/$domid/memory/static-max" 2>/dev/null)" = "$max" ] &&
        [ "$(field up1 max_memory_kib)" = "$max" ] &&
        xensupctl mem-set up1 "$((XT_GUEST_MEMORY + 32))m" >>/tmp/memmax.out 2>&1; then
        xt_pass mem-max-in-xen
else
        xt_fail mem-max-in-xen "$(cat /tmp/memmax.out); static-max $(xenstore-read "/local/domain/$domid/memory/static-max" 2>&1)"
fi
xensupctl mem-set up1 "${XT_GUEST_MEMORY}m" >/dev/null 2>&1

# --- the shared scenarios ---
scenario_actions
scenario_kernel_cache
# A destroyed domain leaves nothing behind in XenStore.
id="$(xt_domid off1)"
if [ -z "$id" ] && ! xenstore-ls /vm 2>/dev/null | grep -q '^ *name = "off1"'; then
        xt_pass poweroff-destroy-clean
else
        xt_fail poweroff-destroy-clean "off1 still has domid '$id' or a /vm node"
fi
scenario_shutdown
scenario_control

# --- D-Bus on dom0's system bus, under xensup's own policy file ---
obj=/org/xensup/supervisor1
if out="$(busctl call org.xensup.supervisor1 "$obj" org.xensup.supervisor1.Manager ListDomains 2>&1)" &&
        echo "$out" | grep -q up1; then
        xt_pass dbus-list-domains
else
        xt_fail dbus-list-domains "busctl ListDomains: $out"
fi
path="$(busctl call org.xensup.supervisor1 "$obj" org.xensup.supervisor1.Manager GetDomain s up2 2>/dev/null |
        sed -n 's/^o "\(.*\)"$/\1/p')"
if [ -n "$path" ] &&
        [ "$(busctl get-property org.xensup.supervisor1 "$path" org.xensup.supervisor1.Domain DomID 2>/dev/null)" = \
                "u $(field up2 domid)" ]; then
        xt_pass dbus-domid-property
else
        xt_fail dbus-domid-property "GetDomain up2 gave '$path'; DomID: $(busctl get-property org.xensup.supervisor1 \
                "$path" org.xensup.supervisor1.Domain DomID 2>&1)"
fi
# (util-linux's setpriv by its path: busybox's ash runs its own applets first.)
# Method calls are refused to anyone but root, by the policy (and the daemon):
# xensupctl's exit status 5 is "access denied".
before="$(field up2 state)"
/usr/bin/setpriv --reuid=nobody --regid=nogroup --clear-groups xensupctl pause up2 >/tmp/nonroot.out 2>&1
rc=$?
after="$(field up2 state)"
if [ "$rc" -eq 5 ] && [ "$before" = "$after" ]; then
        xt_pass dbus-nonroot-refused
else
        xt_fail dbus-nonroot-refused "xensupctl pause as nobody: exit $rc (5 expected), up2 $before -> $after"
        xt_log_lines </tmp/nonroot.out
        xensupctl unpause up2 >/dev/null 2>&1
fi
if /usr/bin/setpriv --reuid=nobody --regid=nogroup --clear-groups xensupctl list 2>/dev/null | grep -q up2; then
        xt_pass dbus-nonroot-reads
else
        xt_fail dbus-nonroot-reads "xensupctl list as nobody does not list up2"
fi

# --- builds run in a child process: the daemon answers while a real image is
# built, and a SIGTERM meanwhile lets the build finish (nothing half-built).
# The domains that restart every few seconds are stopped first, so that
# build1's is the build running (dom0 has one vCPU: one build at a time). Its
# kernel is a copy the kernel cache has never seen, so that the build inflates
# it: long enough to be seen while it runs, now that a layout takes no lock. ---
for d in reb1 crash1; do destroy_when_built "$d"; done
mkdir -p /tmp/xensup-ext
cp "$KERNEL" /tmp/xensup-ext/build1-kernel
KERNEL=/tmp/xensup-ext/build1-kernel MEMORY="$XT_GUEST_MEMORY" CONF_DIR=/tmp/xensup-ext mkconf build1 wait
xensupctl create /tmp/xensup-ext/build1.conf >/tmp/build1.out 2>&1 &
create_pid=$!
state="" i=0
while [ "$i" -lt 150 ]; do
        state="$(field build1 state)"
        [ "$state" = starting ] || [ "$state" = running ] && break
        sleep 0.2
        i=$((i + 1))
done
if [ "$state" = starting ]; then
        xt_pass build-bus-answers
else
        xt_fail build-bus-answers "build1 seen '$state' first, not 'starting' while it is built"
fi
daemon_pid="$(xt_xensupd_pid)"
kill -TERM "$daemon_pid"
if xt_wait 120 sh -c "! kill -0 $daemon_pid 2>/dev/null"; then
        wait "$daemon_pid"
        rc=$?
        if [ "$rc" -eq 0 ] && grep -q "stopping once the builds in progress (1) have finished" "$XT_XENSUPD_LOG"; then
                xt_pass build-stop-waits
        else
                xt_fail build-stop-waits "xensupd exited $rc; no 'stopping once the builds in progress' line"
        fi
else
        xt_fail build-stop-waits "xensupd did not exit within 120 s of SIGTERM"
fi
if wait "$create_pid" && xt_running build1 &&
        xenstore-read "/local/domain/$(xt_domid build1)/name" 2>/dev/null | grep -q '^build1$'; then
        xt_pass build-stop-finished
else
        xt_fail build-stop-finished "create: $(cat /tmp/build1.out); xl: '$(xt_xl_state build1)'"
fi
built="$(xt_domid build1)"
daemon_start || xt_finish
expect build1 state running 10 build-stop-adopted
if [ -n "$built" ] && [ "$(field build1 domid)" = "$built" ]; then
        xt_pass build-stop-same-domid
else
        xt_fail build-stop-same-domid "domid '$(field build1 domid)', built as '$built'"
fi
xensupctl destroy build1 >/dev/null 2>&1
# --- identity on real Xen: a domain is its uuid ---
# rename-restart: the dead instance is kept under NAME-<domid> with a uuid of
# its own, set in Xen itself (xc_domain_sethandle), in /vm and in the record;
# destroying it leaves the live instance's /vm/<uuid> alone.
# A file of the config directory (root's): its restart re-reads it, as a created one's never is.
MEMORY="$XT_GUEST_MEMORY" mkconf rr1 crash:3 on_crash='"rename-restart"'
xensupctl create "$CONF_DIR/rr1.conf" >/tmp/rr1.out 2>&1 || xt_fail rr-create "$(cat /tmp/rr1.out)"
# The restart re-reads the file: the next instance runs until told.
MEMORY="$XT_GUEST_MEMORY" mkconf rr1 wait on_crash='"rename-restart"'
first="$(field rr1 domid)" uuid="$(field rr1 uuid)"
expect "rr1-$first" state preserved 60 rr-kept
xl_uuid() { xl list -v 2>/dev/null | awk -v id="$1" '$2 == id {print $7}'; }
kept="$(field "rr1-$first" uuid)"
if [ -n "$kept" ] && [ "$kept" != "$uuid" ] && [ "$(xl_uuid "$first")" = "$kept" ]; then
        xt_pass rr-kept-own-uuid-in-xen
else
        xt_fail rr-kept-own-uuid-in-xen "kept '$kept', domain '$uuid', xl says '$(xl_uuid "$first")'"
fi
if [ "$(xenstore-read "/local/domain/$first/name" 2>/dev/null)" = "rr1-$first" ] &&
        [ "$(xenstore-read "/vm/$kept/name" 2>/dev/null)" = "rr1-$first" ] &&
        [ "$(xenstore-read "/local/domain/$first/vm" 2>/dev/null)" = "/vm/$kept" ]; then
        xt_pass rr-kept-xenstore
else
        xt_fail rr-kept-xenstore "/local/domain/$first: $(xenstore-ls "/local/domain/$first" 2>&1 | head -3)"
fi
expect rr1 state running 60 rr-live-running
live="$(field rr1 domid)"
xensupctl destroy "rr1-$first" >/dev/null 2>&1 || xt_fail rr-kept-destroyed "xensupctl destroy rr1-$first failed"
rr_kept_gone() {
        ! xl list "$first" >/dev/null 2>&1 && xenstore-exists "/vm/$uuid" &&
                [ "$(xl_uuid "$live")" = "$uuid" ] && xt_running rr1
}
if xt_wait 20 rr_kept_gone; then
        xt_pass rr-kept-destroyed
else
        xt_fail rr-kept-destroyed "domid $first: '$(xt_xl_state "rr1-$first")'; /vm/$uuid: $(xenstore-exists "/vm/$uuid" && echo kept || echo gone); rr1 ($live): uuid '$(xl_uuid "$live")', state '$(xt_xl_state rr1)'"
fi
xensupctl destroy rr1 >/dev/null 2>&1
rm -f "$CONF_DIR/rr1.conf"
# No second live copy: a domain xl runs under off1's uuid blocks off1's start.
off_uuid="$(field off1 uuid)"
xt_guest_xl /tmp/xl/dup.cfg dup1 wait 0 "uuid = \"$off_uuid\""
xl create /tmp/xl/dup.cfg >/dev/null 2>&1 || xt_fail dup-xl-create "xl create failed"
xt_wait 30 xt_running dup1
out="$(xensupctl start off1 2>&1)"
rc=$?
if [ "$rc" -eq 1 ] && echo "$out" | grep -q "already held by domid $(xt_domid dup1)" &&
        [ "$(xl list -v 2>/dev/null | awk -v u="$off_uuid" '$7 == u' | wc -l)" -eq 1 ]; then
        xt_pass dup-refused
else
        xt_fail dup-refused "xensupctl start off1: exit $rc: $out"
fi
xl destroy dup1 >/dev/null 2>&1
# A real core dump: the dump child creates the file itself (O_EXCL|O_NOFOLLOW, in a
# directory only root writes) and libxc writes the ELF core through that descriptor.
MEMORY="$XT_GUEST_MEMORY" CONF_DIR=/tmp/xensup-ext mkconf cd1 crash:3 on_crash='"coredump-destroy"' \
        coredump_dir='"/tmp/xensup-dump/cores"'
xensupctl create /tmp/xensup-ext/cd1.conf >/tmp/cd1.out 2>&1 || xt_fail coredump-create "$(cat /tmp/cd1.out)"
# Created, so transient (as `xl create`): destroyed after its dump, it is forgotten.
expect cd1 state "" 120 coredump-destroyed
core="$(ls /tmp/xensup-dump/cores/cd1-*.core 2>/dev/null | head -n 1)"
if [ -n "$core" ] && [ "$(dd if="$core" bs=1 skip=1 count=3 2>/dev/null)" = ELF ] &&
        [ "$(stat -c %a "$core")" = 600 ] && [ "$(stat -c %s "$core")" -gt 1048576 ]; then
        xt_pass coredump-elf-written
else
        xt_fail coredump-elf-written "core '$core': $(ls -l /tmp/xensup-dump/cores 2>&1 | head -3)"
fi
rm -rf /tmp/xensup-dump
# --- the admin group never acts as root on files: xsadmin's create hands the daemon the
# descriptor it opened, and the build opens kernel and ramdisk with xsadmin's uid and groups
# (read into memory, loaded with xc_dom_kernel_mem/xc_dom_module_mem). ---
as_admin() { /usr/bin/setpriv --reuid=xsadmin --regid=xsadmin --init-groups "$@"; }
mkdir -p /tmp/xensup-adm
chmod 755 /tmp/xensup-adm
MEMORY="$XT_GUEST_MEMORY" CONF_DIR=/tmp/xensup-adm mkconf adm1 wait
chmod 644 /tmp/xensup-adm/adm1.conf
if as_admin xensupctl create /tmp/xensup-adm/adm1.conf >/tmp/adm1.out 2>&1 && xt_running adm1; then
        xt_pass admin-group-create-runs
else
        xt_fail admin-group-create-runs "$(cat /tmp/adm1.out); xl: '$(xt_xl_state adm1)'"
fi
if xensupctl status adm1 2>/dev/null | grep -q "create by uid 1000"; then
        xt_pass admin-group-audited
else
        xt_fail admin-group-audited "status: $(xensupctl status adm1 2>&1 | tr '\n' ' ')"
fi
as_admin xensupctl destroy adm1 >/dev/null 2>&1
# A ramdisk only root may read: refused with AccessDenied (exit 5), nothing built.
cp "$RAMDISK" /tmp/xensup-adm/root-initrd.gz
chmod 600 /tmp/xensup-adm/root-initrd.gz
RAMDISK=/tmp/xensup-adm/root-initrd.gz MEMORY="$XT_GUEST_MEMORY" CONF_DIR=/tmp/xensup-adm \
        mkconf adm2 wait
chmod 644 /tmp/xensup-adm/adm2.conf
as_admin xensupctl create /tmp/xensup-adm/adm2.conf >/tmp/adm2.out 2>&1
rc=$?
if [ "$rc" -eq 5 ] && grep -q "ramdisk /tmp/xensup-adm/root-initrd.gz: uid 1000 may not read it" /tmp/adm2.out &&
        ! xl list adm2 >/dev/null 2>&1 && ! xensupctl status adm2 >/dev/null 2>&1; then
        xt_pass admin-group-root-ramdisk-refused
else
        xt_fail admin-group-root-ramdisk-refused "exit $rc: $(cat /tmp/adm2.out); xl: '$(xt_xl_state adm2)'"
fi
rm -rf /tmp/xensup-adm

scenario_adoption
