#!/usr/bin/env bash
# xensupctl import-xl (issue 16): every example xl.cfg Debian's xen packages ship
# (/etc/xen/xlexample.*) and every file of tests/data/xl converted, with the exact
# stdout, stderr ("FILE:LINE: KEY: not imported: WHY", "FILE: not converted") and
# exit code; a few configs compared whole with the expected ones beside them; each
# config written passes `xensupd --check-config`; then the options (--output-dir,
# -, --force, --help) and their refusals; and `xensupd --check-config` on xl.cfg
# files, which must name every unknown key, with xensup's name for it where it has
# one.
#
# The configs name the host's kernels and disks (/boot/vmlinuz, /dev/vg0/...),
# which this machine does not have and --check-config checks: each is checked as
# written but for those paths, moved under the work dir where a stand-in file is
# made (the moved copy is only for that check; the comparisons use the file as
# written).
set -euo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 600 bash "$0" "$@"

# Run by hand as `BUILD=build-x bash tests/test-import-xl.sh`, as run-tests.sh runs it.
XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"
cd "$src"

# Both under valgrind in make check-valgrind (a leak or bad read makes them exit 99).
# shellcheck disable=SC2086 # VALGRIND is a command line
xsctl() { timeout 120 ${VALGRIND:-} "$build/xensupctl" "$@"; }
# shellcheck disable=SC2086
xsd() { timeout 120 ${VALGRIND:-} "$build/xensupd" "$@"; }

# capture COMMAND...: its stdout in $out, stderr in $err, exit code in $rc.
capture() {
        rc=0
        "$@" >"$work/stdout" 2>"$work/stderr" || rc=$?
        out=$(cat "$work/stdout")
        err=$(cat "$work/stderr")
}
# expect NAME RC STDOUT STDERR: the last run's, each exactly.
expect() {
        check_eq "$1/exit" "$rc" "$2"
        check_eq "$1/stdout" "$out" "$3"
        check_eq "$1/stderr" "$err" "$4"
}

# standin_check NAME CONF: xensupd --check-config on a copy of CONF whose kernel, ramdisk
# and disk targets that do not exist here are moved under $work/root, where stand-in files
# are made. It must say "COPY: ok".
standin_check() {
        local name=$1 conf=$2 copy text path
        copy="$work/check/$(basename "$conf")"
        mkdir -p "$work/check"
        text=$(cat "$conf")
        while IFS= read -r path; do
                if [ -z "$path" ] || [ "${path#/}" = "$path" ] || [ -e "$path" ]; then
                        continue
                fi
                mkdir -p "$work/root$(dirname "$path")"
                : >"$work/root$path"
                text=${text//"\"$path\""/"\"$work/root$path\""}
                text=${text//"$path,"/"$work/root$path,"}
                text=${text//"target=$path\""/"target=$work/root$path\""}
        done < <(conf_paths "$conf")
        printf '%s\n' "$text" >"$copy"
        capture xsd --check-config "$copy"
        expect "$name/check-config" 0 "$copy: ok" ""
}

# conf_paths CONF: the kernel, the ramdisk and each disk's target of an imported config.
conf_paths() {
        sed -n -E 's/^(kernel|ramdisk) = "(.*)"$/\2/p' "$1"
        # A disk entry: target= takes the rest; else the first parameter without '='.
        awk '/^disk = \{/ { on = 1 } on { print } on && /\}/ { exit }' "$1" |
                grep -oE '"[^"]*"' | tr -d '"' | while IFS= read -r entry; do
                if [[ $entry == *target=* ]]; then
                        echo "${entry##*target=}"
                else
                        tr ',' '\n' <<<"$entry" | sed 's/^ *//' | grep -v '=' | head -1
                fi
        done
}

echo "--- Debian's example xl.cfg files"
mapfile -t examples < <({
        ls /etc/xen/xlexample.* 2>/dev/null
        dpkg -L xen-utils-common 2>/dev/null | grep -i '/xlexample' || true
} | sort -u)
if [ "${#examples[@]}" -eq 0 ]; then
        echo "SKIP debian-examples: no /etc/xen/xlexample.* (Debian's xen-utils-common is not installed)"
fi
for f in "${examples[@]}"; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        mkdir -p "$work/debian"
        capture xsctl import-xl --output-dir "$work/debian" "$f"
        case $b in
        xlexample.pvlinux | xlexample.pvhlinux)
                expect "debian/$b" 0 "$f: written to $work/debian/example.${b#xlexample.}.conf" ""
                standin_check "debian/$b" "$work/debian/example.${b#xlexample.}.conf"
                ;;
        xlexample.hvm)
                # No kernel: an HVM guest boots through QEMU's firmware; nothing is written.
                expect "debian/$b" 1 "" "$f:9: type: not imported: HVM guests need a QEMU device model, which xensup does not run (imported as pv; a kernel= boots as pv or pvh)
$f:46: sdl: not imported: needs a QEMU device model, which xensup does not run
$f: kernel: missing (xensup boots a PV or PVH guest from the kernel= it is given; an HVM guest's firmware boot needs QEMU)
$f: not converted"
                check "debian/$b/nothing-written" [ ! -e "$work/debian/example.hvm.conf" ]
                ;;
        *)
                # One this test does not know yet: converted and accepted, or refused saying so.
                if [ "$rc" = 0 ]; then
                        check_match "debian/$b/written" "$out" "^$f: written to "
                        standin_check "debian/$b" "${out#"$f: written to "}"
                else
                        check_eq "debian/$b/exit" "$rc" 1
                        check_match "debian/$b/refused" "$err" "$f: not converted"
                fi
                ;;
        esac
done

echo "--- tests/data/xl: the converted configs, exactly"
d=tests/data/xl
mkdir -p "$work/out"
for b in web1 db1-pvh legacy; do
        capture xsctl import-xl -o "$work/out" "$d/$b.cfg"
        name=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$d/$b.conf")
        check_eq "data/$b/exit" "$rc" 0
        check_eq "data/$b/stdout" "$out" "$d/$b.cfg: written to $work/out/$name.conf"
        if cmp -s "$d/$b.conf" "$work/out/$name.conf"; then pass "data/$b/config"; else
                fail "data/$b/config" "$(diff -u "$d/$b.conf" "$work/out/$name.conf" || true)"
        fi
        cp "$work/stderr" "$work/$b.err"
        standin_check "data/$b" "$work/out/$name.conf"
done
check_eq data/web1/stderr "$(cat "$work/web1.err")" "$d/web1.cfg:15: cpus: not imported: xensup does not pin vcpus
$d/web1.cfg:32: vfb: not imported: xensup attaches disks and vifs only"
check_eq data/db1-pvh/stderr "$(cat "$work/db1-pvh.err")" "$d/db1-pvh.cfg:6: extra: not imported: cmdline= is given, and wins, as in xl
$d/db1-pvh.cfg:15: localtime: not imported: xensup sets no guest clock offset
$d/db1-pvh.cfg:15: serial: not imported: needs a QEMU device model, which xensup does not run"
check_eq data/legacy/stderr "$(cat "$work/legacy.err")" "$d/legacy.cfg:12: on_reboot: not imported: xensup takes soft-reset for on_soft_reset only (the default, restart, applies)
$d/legacy.cfg:13: max_grant_frames: not imported: xensup has no such setting"

echo "--- tests/data/xl: the files that cannot be converted"
capture xsctl import-xl -o "$work/out" "$d/win-hvm.cfg"
expect data/win-hvm 1 "" "$d/win-hvm.cfg:2: builder: not imported: HVM guests need a QEMU device model, which xensup does not run (imported as pv; a kernel= boots as pv or pvh)
$d/win-hvm.cfg:6: boot: not imported: HVM only (the boot order of the firmware); needs a QEMU device model, which xensup does not run
$d/win-hvm.cfg:7: disk: entry 2, an empty drive, without a target (allowed: a disk or cdrom with a target; xensup does not change media)
$d/win-hvm.cfg:8: vif: entry 1, type: bad value 'ioemu' (allowed: vif: an emulated NIC needs a QEMU device model, which xensup does not run)
$d/win-hvm.cfg:9: vnc: not imported: needs a QEMU device model, which xensup does not run
$d/win-hvm.cfg:10: vnclisten: not imported: needs a QEMU device model, which xensup does not run
$d/win-hvm.cfg:11: usbdevice: not imported: needs a QEMU device model, which xensup does not run
$d/win-hvm.cfg:12: viridian: not imported: HVM only; xensup builds PV and PVH guests
$d/win-hvm.cfg: kernel: missing (xensup boots a PV or PVH guest from the kernel= it is given; an HVM guest's firmware boot needs QEMU)
$d/win-hvm.cfg: not converted"
capture xsctl import-xl -o "$work/out" "$d/pygrub.cfg"
expect data/pygrub 1 "" "$d/pygrub.cfg:3: bootloader: not imported: not supported: xensup boots the kernel= image itself; give kernel= (copy the guest's kernel out), ramdisk= and cmdline=
$d/pygrub.cfg: kernel: missing (xensup boots a PV or PVH guest from the kernel= it is given; an HVM guest's firmware boot needs QEMU)
$d/pygrub.cfg: not converted"
capture xsctl import-xl -o "$work/out" "$d/qcow.cfg"
expect data/qcow 1 "" "$d/qcow.cfg:4: disk: entry 2, format: qcow2 needs QEMU's qdisk, which xensup does not run (allowed: raw)
$d/qcow.cfg: not converted"
# xl's own parser names the line; xensupctl adds that the file was not converted.
capture xsctl import-xl -o "$work/out" "$d/python.cfg"
expect data/python 1 "" "$d/python.cfg:3: config parsing error near \`*': lexical error
$d/python.cfg: not converted: xl's parser refused it (above)"
capture xsctl import-xl -o "$work/out" "$d/bad-values.cfg"
expect data/bad-values 1 "" "$d/bad-values.cfg:2: name: 'my guest' is not a xensup name (allowed: 1 to 64 characters of A-Z a-z 0-9 _ . -)
$d/bad-values.cfg:3: uuid: bad value 'not-a-uuid' (allowed: 8-4-4-4-12 hexadecimal digits, not all zero)
$d/bad-values.cfg:4: kernel: a [ ] list (allowed: a single value)
$d/bad-values.cfg:5: memory: bad value '0' (allowed: MiB, an integer from 1 to 17592186044415)
$d/bad-values.cfg:6: vcpus: bad value '200' (allowed: an integer from 1 to 128 (xensup's limit))
$d/bad-values.cfg:7: on_crash: bad value 'explode' (allowed: destroy, restart, rename-restart, preserve, coredump-destroy, coredump-restart, soft-reset)
$d/bad-values.cfg:8: disk: not imported: a single value, not a [ ] list (xl ignores it too)
$d/bad-values.cfg:9: vif: entry 1, mac: bad value '01:00:00:00:00:01' (allowed: a unicast address: the low bit of the first octet clear)
$d/bad-values.cfg: not converted"
check_eq data/nothing-written "$(ls "$work/out")" "db1.conf
legacy.conf
web1.conf"
for b in win10 mail builder old; do
        check "data/nothing-written/$b" [ ! -e "$work/out/$b.conf" ]
done

echo "--- every file of tests/data/xl is covered above"
for f in "$d"/*.cfg; do
        case $(basename "$f" .cfg) in
        web1 | db1-pvh | legacy | win-hvm | pygrub | qcow | python | bad-values) pass "covered/$(basename "$f")" ;;
        *) fail "covered/$(basename "$f")" "no case in tests/test-import-xl.sh" ;;
        esac
done

echo "--- several files at once: status 1 when one fails, the others written"
mkdir -p "$work/many"
capture xsctl import-xl --output-dir "$work/many" "$d/web1.cfg" "$d/qcow.cfg" "$d/db1-pvh.cfg"
check_eq many/exit "$rc" 1
check_eq many/stdout "$out" "$d/web1.cfg: written to $work/many/web1.conf
$d/db1-pvh.cfg: written to $work/many/db1.conf"
check_match many/stderr "$err" "$d/qcow.cfg: not converted"
check many/written cmp -s "$work/many/web1.conf" "$d/web1.conf"

echo "--- an existing config is kept, unless --force"
echo "# mine" >"$work/many/legacy.conf"
capture xsctl import-xl -o "$work/many" "$d/legacy.cfg"
check_eq exists/exit "$rc" 1
check_eq exists/stdout "$out" ""
check_eq exists/stderr "$(tail -1 "$work/stderr")" "$d/legacy.cfg: not converted: $work/many/legacy.conf exists (--force overwrites it)"
check_eq exists/kept "$(cat "$work/many/legacy.conf")" "# mine"
capture xsctl import-xl --force -o "$work/many" "$d/legacy.cfg"
check_eq force/exit "$rc" 0
check force/written cmp -s "$work/many/legacy.conf" "$d/legacy.conf"
check_eq force/no-temporary "$(find "$work/many" -name '.*' | wc -l)" 0
# Two files of one name in one run: the second is not written over the first.
capture xsctl import-xl --force -o "$work/many" "$d/web1.cfg" "$d/web1.cfg"
check_eq same-name/exit "$rc" 1
check_eq same-name/stderr "$err" "$d/web1.cfg:15: cpus: not imported: xensup does not pin vcpus
$d/web1.cfg:32: vfb: not imported: xensup attaches disks and vifs only
$d/web1.cfg:15: cpus: not imported: xensup does not pin vcpus
$d/web1.cfg:32: vfb: not imported: xensup attaches disks and vifs only
$d/web1.cfg: not converted: its name, web1, is that of $d/web1.cfg, converted already to $work/many/web1.conf"

echo "--- the current directory by default; - for standard output"
mkdir -p "$work/cwd"
in_cwd() { (cd "$work/cwd" && xsctl "$@"); }
capture in_cwd import-xl "$src/$d/db1-pvh.cfg"
check_eq default-dir/exit "$rc" 0
check_eq default-dir/stdout "$out" "$src/$d/db1-pvh.cfg: written to ./db1.conf"
check default-dir/written [ -f "$work/cwd/db1.conf" ]
capture xsctl import-xl -o - "$d/legacy.cfg"
check_eq stdout/exit "$rc" 0
check_eq stdout/config "$out" "$(cat "$d/legacy.conf")"
capture xsctl import-xl -o - "$d/legacy.cfg" "$d/web1.cfg"
expect stdout-two-files 2 "" "xensupctl: import-xl: --output-dir - writes one FILE's config, not several"

echo "--- usage"
capture xsctl import-xl
expect usage/no-file 2 "" "xensupctl: import-xl takes at least 1 argument (see 'xensupctl import-xl --help')"
capture xsctl import-xl --frob "$d/web1.cfg"
expect usage/unknown-option 2 "" "xensupctl: import-xl: unknown option '--frob'
Try 'xensupctl import-xl --help'."
capture xsctl import-xl "$d/web1.cfg" -o
expect usage/no-dir 2 "" "xensupctl: import-xl: -o needs an argument
Try 'xensupctl import-xl --help'."
capture xsctl --user import-xl "$d/web1.cfg"
expect usage/user 2 "" "xensupctl: --user: import-xl talks to no daemon"
capture xsctl import-xl --help
check_eq help/exit "$rc" 0
check_eq help/usage "$(head -1 "$work/stdout")" "Usage: xensupctl import-xl [--output-dir DIR] [--force] FILE..."
check_match help/options "$out" "-o, --output-dir DIR"
capture xsctl --help
check_match help/listed "$out" "import-xl \[--output-dir DIR\] \[--force\] FILE\.\.\."
capture xsctl import-xl -o "$work/out" "$work/no-such.cfg"
expect missing-file 1 "" "$work/no-such.cfg: cannot read: No such file or directory
$work/no-such.cfg: not converted"
capture xsctl import-xl -o "$work/no-such-dir" "$d/legacy.cfg"
check_eq no-dir/exit "$rc" 1
check_match no-dir/stderr "$err" "^$d/legacy.cfg: not converted: cannot create a file in $work/no-such-dir: No such file or directory$"

echo "--- xensupd --check-config on an xl.cfg: every unknown key, with xensup's name for it"
allowed="(allowed: name, uuid, type, memory, maxmem, vcpus, maxvcpus, kernel, ramdisk, cmdline, on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset, autostart, on_host_shutdown, cpu_weight, cpu_cap, ssidref, shutdown_timeout, coredump_dir, disk, vif, restart { }, sim { })"
xl_list="xl's [ ] list (allowed: { ... }; xensupctl import-xl converts an xl.cfg file)"
capture xsd --check-config "$d/web1.cfg"
expect check-config/web1 1 "" "$d/web1.cfg:7: kernel: bad value '/boot/vmlinuz-6.1.0-13-amd64' (allowed: a readable file; /boot/vmlinuz-6.1.0-13-amd64: No such file or directory)
$d/web1.cfg:8: ramdisk: bad value '/boot/initrd.img-6.1.0-13-amd64' (allowed: a readable file; /boot/initrd.img-6.1.0-13-amd64: No such file or directory)
$d/web1.cfg:9: root: unknown key; xensup has no root: it is part of cmdline, as xl makes it (cmdline = \"root=ROOT EXTRA\")
$d/web1.cfg:10: extra: unknown key; xensup calls it cmdline
$d/web1.cfg:15: cpus: unknown key $allowed
$d/web1.cfg:18: weight: unknown key; xensup calls it cpu_weight
$d/web1.cfg:19: cap: unknown key; xensup calls it cpu_cap
$d/web1.cfg:25: disk: $xl_list
$d/web1.cfg:29: vif: $xl_list
$d/web1.cfg:32: vfb: unknown key $allowed"
capture xsd --check-config "$d/legacy.cfg"
expect check-config/legacy 1 "" "$d/legacy.cfg:2: builder: unknown key; xensup calls it type (pv, pvh)
$d/legacy.cfg:3: pvh: unknown key; xensup says type = \"pvh\"
$d/legacy.cfg:8: extra: unknown key; xensup calls it cmdline
$d/legacy.cfg:9: vif: $xl_list
$d/legacy.cfg:10: disk: $xl_list
$d/legacy.cfg:13: max_grant_frames: unknown key $allowed"
if [ -f /etc/xen/xlexample.pvlinux ]; then
        f=/etc/xen/xlexample.pvlinux
        capture xsd --check-config "$f"
        # The kernel line depends on this host having /boot/vmlinuz; the rest does not.
        check_eq check-config/debian-pvlinux/exit "$rc" 1
        check_eq check-config/debian-pvlinux/keys "$(grep -v ': kernel: ' "$work/stderr")" "$f:23: extra: unknown key; xensup calls it cmdline
$f:39: vif: $xl_list
$f:44: disk: $xl_list"
fi

summary test-import-xl
