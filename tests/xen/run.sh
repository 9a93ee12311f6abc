#!/usr/bin/env bash
# The real-Xen tier: boot Xen 4.17 under qemu-system-x86_64 (software
# emulation) with the Debian kernel as a PV dom0 whose initramfs runs the
# scenarios of tests/xen/scenarios, and turn the XENTEST lines of the serial
# log into pass/fail.
#
#   tests/xen/run.sh [--scenarios a,b,...] [--timeout SECONDS] [--trace]
#
# QEMU runs in its own session (setsid) under a hard timeout and its whole
# process group is killed on every exit path; a hang fails with the tail of
# the log. Exit status 0 only when every requested scenario ran and passed.
# Environment: BUILD (default build), XEN_CACHE ($BUILD/xen-cache), XEN_RUN
# ($BUILD/xen-run), QEMU (qemu-system-x86_64), XEN_MEM (QEMU's MiB, 2048),
# XEN_CPU (QEMU's -cpu, default qemu64: see below), XEN_ACCEL (-accel, default
# tcg,thread=multi), XEN_SMP (-smp, default 2), XEN_EXTRA_ARGS (appended
# to Xen's command line).
set -euo pipefail

# The whole script is one function, called on the last line: bash has read
# all of it before it runs, so editing this file during a run is harmless.
main() {

cd "$(dirname "$0")/../.."
export BUILD="${BUILD:-build}"
export XEN_CACHE="${XEN_CACHE:-$BUILD/xen-cache}"
export XEN_RUN="${XEN_RUN:-$BUILD/xen-run}"
qemu="${QEMU:-qemu-system-x86_64}"
timeout=600
scenarios=
trace=0

while [ $# -gt 0 ]; do
        case "$1" in
        --scenarios) scenarios="$2"; shift 2 ;;
        --scenarios=*) scenarios="${1#*=}"; shift ;;
        --timeout) timeout="$2"; shift 2 ;;
        --timeout=*) timeout="${1#*=}"; shift ;;
        --trace) trace=1; shift ;;
        *) echo "usage: $0 [--scenarios a,b] [--timeout S] [--trace]" >&2; exit 2 ;;
        esac
done
if [ -z "$scenarios" ]; then
        for f in tests/xen/scenarios/*.sh; do
                s="${f##*/}"
                scenarios="$scenarios,${s%.sh}"
        done
        scenarios="${scenarios#,}"
fi
for s in ${scenarios//,/ }; do
        if [ ! -f "tests/xen/scenarios/$s.sh" ] && [ ! -f "tests/xen/bench/$s.sh" ] &&
                [ ! -f "tests/xen/extra/$s.sh" ]; then
                echo "run.sh: no scenario $s in tests/xen/{scenarios,bench,extra}" >&2
                exit 2
        fi
done

command -v "$qemu" >/dev/null || { echo "run.sh: no $qemu (make deps installs qemu-system-x86)" >&2; exit 1; }

t_start="$(date +%s.%N)"
tests/xen/fetch.sh
tests/xen/mkinitrd.sh
mkdir -p "$XEN_RUN"
serial="$XEN_RUN/serial.log"
results="$XEN_RUN/results.txt"
rm -f "$serial" "$results"

# Xen: smap=0, or dom0 dies 4 s in with -cpu max (REAL-XEN.md). The module
# strings are "path args"; QEMU separates modules with commas, so the
# scenario list travels with '+'.
xen_args="console=com1 com1=115200,8n1 dom0_mem=512M,max:512M dom0_max_vcpus=1 loglvl=all guest_loglvl=all smap=0 ${XEN_EXTRA_ARGS:-}"
dom0_args="console=hvc0 earlyprintk=xen rdinit=/init xentest.scenarios=${scenarios//,/+}"
[ "$trace" = 1 ] && dom0_args="$dom0_args xentest.trace=1"

qemu_pid=
reap() {
        if [ -n "$qemu_pid" ]; then
                kill -TERM -- "-$qemu_pid" 2>/dev/null || true
                sleep 1
                kill -KILL -- "-$qemu_pid" 2>/dev/null || true
                wait "$qemu_pid" 2>/dev/null || true
                qemu_pid=
        fi
}
trap reap EXIT
trap 'exit 130' INT TERM HUP

# The CPU model: with -cpu max (even with smap=0, and without AVX, SMEP or
# PCID), dom0's processes see their memory corrupted now and then while
# domains are built and others run: about one `xl create` in 10-20 fails
# ("xc_dom_do_gunzip: inflate failed", "malloc(): corrupted top size"), with
# xl as with xensupd, with single-threaded TCG too. With qemu64, none in 60
# creates: slower (about 1.5x), but every result can be trusted.
cpu="${XEN_CPU:-qemu64}"

t_boot="$(date +%s.%N)"
# Not a process group leader (no job control here), so setsid execs QEMU
# itself: its pid is its session and process group id.
# -nic none: no emulated NIC at all, so the guests' vif traffic (IPv6
# link-local on dom0's xenbr0, DEVICES.md B.4) can never leave the machine.
setsid "$qemu" -accel "${XEN_ACCEL:-tcg,thread=multi}" -cpu "$cpu" -m "${XEN_MEM:-2048}" -smp "${XEN_SMP:-2}" \
        -nographic -monitor none -serial stdio -no-reboot -nic none \
        -kernel "$XEN_CACHE/xen" \
        -append "$xen_args" \
        -initrd "$XEN_CACHE/vmlinuz ${dom0_args//,/,,},$XEN_RUN/dom0-initrd.gz" \
        </dev/null >"$serial" 2>&1 &
qemu_pid=$!
echo "run.sh: QEMU pid $qemu_pid (-cpu $cpu), serial log $serial, timeout ${timeout}s, scenarios $scenarios"

timed_out=0
deadline=$(($(date +%s) + timeout))
while kill -0 "$qemu_pid" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
                timed_out=1
                break
        fi
        # A finished dom0 powers off and QEMU exits; wait briefly after DONE
        # in case it does not.
        if grep -aq 'XENTEST DONE' "$serial" 2>/dev/null; then
                for _ in 1 2 3 4 5 6 7 8 9 10; do
                        kill -0 "$qemu_pid" 2>/dev/null || break
                        sleep 1
                done
                break
        fi
        sleep 1
done
qemu_rc=0
if kill -0 "$qemu_pid" 2>/dev/null; then
        reap
        qemu_rc=timeout
else
        wait "$qemu_pid" || qemu_rc=$?
        qemu_pid=
fi
t_end="$(date +%s.%N)"

# The XENTEST lines, whatever came before them on the line (Xen's own output
# can share a line with dom0's console).
tr -d '\r' <"$serial" | grep -ao 'XENTEST .*' >"$results" || true
grep '^XENTEST BENCH ' "$results" | cut -d' ' -f3- >"$XEN_RUN/bench.txt" || true
rm -rf "$XEN_RUN/files"
mkdir -p "$XEN_RUN/files"
grep '^XENTEST FILE ' "$results" | while IFS= read -r line; do
        line="${line#XENTEST FILE }"
        name="${line%% *}"
        case "$name" in */* | .*) continue ;; esac
        if [ "$line" = "$name" ]; then echo; else echo "${line#* }"; fi >>"$XEN_RUN/files/$name"
done || true

failed=0
npass=0
nfail=0
while IFS= read -r line; do
        case "$line" in
        "XENTEST PASS "*) echo "PASS ${line#XENTEST PASS }"; npass=$((npass + 1)) ;;
        "XENTEST FAIL "*) echo "FAIL ${line#XENTEST FAIL }"; nfail=$((nfail + 1)); failed=1 ;;
        "XENTEST LOG "*) echo "     ${line#XENTEST LOG }" ;;
        "XENTEST BOOT "*) echo "---- ${line#XENTEST BOOT }" ;;
        "XENTEST END "*) echo "---- end ${line#XENTEST END }" ;;
        "XENTEST EXPORT "*) echo "     file ${line#XENTEST EXPORT } in $XEN_RUN/files" ;;
        esac
done <"$results"

for s in ${scenarios//,/ }; do
        if ! grep -q "^XENTEST END $s " "$results"; then
                echo "FAIL $s: the scenario never finished"
                failed=1
        elif ! grep -q "^XENTEST \(PASS\|FAIL\) $s/" "$results"; then
                echo "FAIL $s: the scenario reported no check"
                failed=1
        fi
done
if [ "$timed_out" = 1 ] || ! grep -q '^XENTEST DONE' "$results"; then
        if [ "$timed_out" = 1 ]; then
                echo "FAIL run: no XENTEST DONE within ${timeout}s; QEMU killed"
        else
                echo "FAIL run: QEMU exited ($qemu_rc) before XENTEST DONE"
        fi
        echo "---- last 50 lines of $serial"
        tail -n 50 "$serial" | tr -d '\r'
        echo "----"
        failed=1
fi

echo "$npass $nfail $t_start $t_boot $t_end" | awk '{
        printf "run.sh: %d passed, %d failed; QEMU %.0f s, whole run (fetch, initramfs, QEMU) %.0f s\n",
               $1, $2, $5 - $4, $5 - $3 }'
exit "$failed"
}

main "$@"
