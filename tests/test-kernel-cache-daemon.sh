#!/usr/bin/env bash
# The kernel cache (issue 17) on the simulator, whose loadable image of a kernel is the file as
# it is: the first build of a kernel fills a memfd, which the daemon seals and keeps; later
# builds of that file are hits; a changed file is another kernel; the least recently used go past
# --kernel-cache's bound; --kernel-cache=0 keeps none. Read through `xensupctl info`, text and
# JSON, and through the daemon's own descriptors.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 180 bash "$0" "$@"

XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"
trap 'trap "" INT TERM; echo "interrupted"; exit 1' INT TERM

ctl() { timeout 20 "$build/xensupctl" --user "$@"; }
state_is() { [ "$(ctl status "$1" 2>/dev/null | sed -n 's/^ *State: //p')" = "$2" ]; }
restarts_are() { [ "$(ctl status "$1" 2>/dev/null | sed -n 's/^ *Restarts: //p')" = "$2" ]; }
run_ok() { "$@" >/dev/null 2>&1; }
# The cache's figures: "IMAGES BYTES MAX HITS MISSES", or "none".
cache() {
        ctl --json info | python3 -c '
import json, sys
k = json.load(sys.stdin)["kernel_cache"]
print("none" if k is None else "%(images)d %(bytes)d %(max_bytes)d %(hits)d %(misses)d" % k)'
}
cache_is() { [ "$(cache)" = "$1" ]; }
# A restart is counted when it is decided, the cache when its build child has exited: wait for
# the figures (a slow run, under valgrind, reads them between the two), then say what they are.
check_cache() {
        wait_for 20 cache_is "$2"
        check_eq "$1" "$(cache)" "$2"
}
# What the daemon holds: its memfds of kernels, each checked sealed against any write.
held_images() {
        python3 - "$daemon_pid" <<'PY'
import errno, fcntl, os, sys
F_GET_SEALS, SEALS = 1034, 0x1 | 0x2 | 0x4 | 0x8  # F_SEAL_SEAL, SHRINK, GROW, WRITE
pid, n = sys.argv[1], 0
for fd in os.listdir(f"/proc/{pid}/fd"):
    path = f"/proc/{pid}/fd/{fd}"
    if not os.readlink(path).startswith("/memfd:xensup-kernel"):
        continue
    f = os.open(path, os.O_RDWR)
    assert fcntl.fcntl(f, F_GET_SEALS) & SEALS == SEALS, "not sealed"
    for what, call in (("written", lambda: os.pwrite(f, b"x", 0)),
                       ("truncated", lambda: os.ftruncate(f, 0)),
                       ("grown", lambda: os.ftruncate(f, 1 << 20))):
        try:
            call()
            sys.exit(f"a kept image was {what}")
        except OSError as e:
            assert e.errno == errno.EPERM, e
    os.close(f)
    n += 1
print(n)
PY
}

# A memfd takes whole pages: the test's kernel, a line of text, takes one, whatever it grows to.
page=$(getconf PAGESIZE)
mkconf k1
mkconf k2
start_bus session || exit 1
start_sim || exit 1
# One build at a time: k1 inflates, k2 finds its image.
start_daemon --user --build-jobs 1 || exit 1
check k1-running wait_for 20 state_is k1 running
check k2-running wait_for 20 state_is k2 running

echo "--- the first build fills the cache, the second is a hit"
check_cache one-image "1 $page $((256 << 20)) 1 1"
check_eq held-one "$(held_images)" 1
check_match info-text "$(ctl info | grep '^kernel_cache')" \
        "^kernel_cache +: 1 image, 0 of 256 MiB; 1 hits, 1 misses$"

echo "--- a restart is a hit"
check crash-k1 run_ok ctl sim crash k1
check k1-restarted wait_for 20 restarts_are k1 1
check_cache restart-hit "1 $page $((256 << 20)) 2 1"
# The restart's timeline, in the line that says it runs again.
check_match restart-timeline "$(grep 'k1: started as domid' "$work/daemon.log" | tail -1)" \
        "^xensupd: k1: started as domid [0-9]+ \(build: [0-9]+ ms waiting, image [0-9]+ ms, layout [0-9]+ ms, devices [0-9]+ ms, kernel from the cache; [0-9]+ ms since its death was seen\)$"

echo "--- a changed file is another kernel: inflated again, the old image kept"
echo "a new kernel" >>"$work/kernel"
check crash-k1-again run_ok ctl sim crash k1
check k1-restarted-again wait_for 20 restarts_are k1 2
check_cache changed-miss "2 $((2 * page)) $((256 << 20)) 2 2"
check_eq held-two "$(held_images)" 2
check crash-k2 run_ok ctl sim crash k2
check k2-restarted wait_for 20 restarts_are k2 1
check_cache changed-hit "2 $((2 * page)) $((256 << 20)) 3 2"

echo "--- a bound of one image: the least recently used goes"
stop_daemon
start_daemon --user --build-jobs 1 --kernel-cache "${page}b" || exit 1
check k1-adopted wait_for 20 state_is k1 running
check crash-k1-bound run_ok ctl sim crash k1
check k1-restarted-bound wait_for 20 restarts_are k1 3
check_cache bound-first "1 $page $page 0 1"
echo "yet another kernel" >>"$work/kernel"
check crash-k2-bound run_ok ctl sim crash k2
check k2-restarted-bound wait_for 20 restarts_are k2 2
check_cache bound-evicted "1 $page $page 0 2"
check_eq held-bound "$(held_images)" 1

echo "--- --kernel-cache=0: none kept, every build reads its kernel"
stop_daemon
start_daemon --user --kernel-cache 0 || exit 1
check k2-adopted wait_for 20 state_is k2 running
check crash-k2-none run_ok ctl sim crash k2
check k2-restarted-none wait_for 20 restarts_are k2 3
check_eq no-cache "$(cache)" none
check_eq held-none "$(held_images)" 0
check_match info-none "$(ctl info | grep '^kernel_cache')" "^kernel_cache +: none$"

echo "--- a bad size is refused, with what would do"
out=$("$build/xensupd" --hypervisor=sim --kernel-cache 12q 2>&1)
check_eq bad-size-exit "$?" 2
check_match bad-size-message "$out" "^xensupd: --kernel-cache: '12q' is not a size: .*; or 0 for none$"

stop_daemon
summary test-kernel-cache-daemon
