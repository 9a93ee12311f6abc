#!/usr/bin/env bash
# Debian's xenstore-utils against xensup-sim's XenStore (XENSTORED_PATH):
# xenstore-read, -write, -ls (plain, -f, -p), -list, -rm, -chmod, -exists
# and -watch, each output compared with what xenstored gives.
# (xenstore-control is left out: it refuses to run without /sys/hypervisor.)
set -euo pipefail

BUILD="${XENSUP_BUILD:-build}"
dir=$(mktemp -d /tmp/test-xenstore-utils.XXXXXX)
pid=
cleanup() {
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" || true; fi
        rm -rf "$dir"
}
trap cleanup EXIT

fail() {
        echo "FAIL: $*" >&2
        exit 1
}
# expect NAME EXPECTED ACTUAL
expect() {
        if [ "$2" != "$3" ]; then
                printf 'FAIL: %s\n--- expected\n%s\n--- got\n%s\n' "$1" "$2" "$3" >&2
                exit 1
        fi
        echo "ok: $1"
}

"$BUILD/xensup-sim" --dir "$dir" --xenstore-only 2>"$dir/log" &
pid=$!
export XENSTORED_PATH="$dir/xenstored.socket"
for _ in $(seq 200); do
        [ -S "$XENSTORED_PATH" ] && xenstore-exists /tool 2>/dev/null && break
        sleep 0.05
done
xenstore-exists /tool || fail "xensup-sim did not start: $(cat "$dir/log")"
[ "$(cat "$dir/xensup-sim.pid")" = "$pid" ] || fail "pid file does not hold $pid"

# A fresh host: xenstored's nodes and dom0's, all dom0-only.
expect "fresh tree" '/tool = ""   (n0)
/tool/xenstored = ""   (n0)
/local = ""   (n0)
/local/domain = ""   (n0)
/local/domain/0 = ""   (n0)
/local/domain/0/domid = "0"   (n0)
/local/domain/0/name = "Domain-0"   (n0)
/local/domain/0/control = ""   (n0)
/local/domain/0/control/feature-poweroff = "1"   (n0)
/local/domain/0/control/feature-reboot = "1"   (n0)
/local/domain/0/control/feature-suspend = "1"   (n0)
/local/pool = ""   (n0)
/local/pool/0 = ""   (n0)
/local/pool/0/name = "Pool-0"   (n0)' "$(xenstore-ls -f -p)"

xenstore-write /t/a x /t/b "two words" /t/c/d deep
expect "read" 'x
two words' "$(xenstore-read /t/a /t/b)"
expect "read implicit parent" "" "$(xenstore-read /t/c)"
expect "list" 'a
b
c' "$(xenstore-list /t)"
expect "ls" 'a = "x"
b = "two words"
c = ""
 d = "deep"' "$(xenstore-ls /t)"
expect "ls -f" '/t/a = "x"
/t/b = "two words"
/t/c = ""
/t/c/d = "deep"' "$(xenstore-ls -f /t)"

xenstore-exists /t/a || fail "exists /t/a"
if xenstore-exists /t/none 2>/dev/null; then fail "exists /t/none"; fi
if xenstore-read /t/none 2>/dev/null; then fail "read /t/none succeeded"; fi
echo "ok: exists"

xenstore-chmod /t/a n0 r5
xenstore-chmod /t/c b7
expect "ls -f -p" '/t/a = "x"   (n0,r5)
/t/b = "two words"   (n0)
/t/c = ""   (b7)
/t/c/d = "deep"   (n0)' "$(xenstore-ls -f -p /t)"
# Piped -p: one space per depth, dots to column 60, two spaces, the perms.
line=$(xenstore-ls -p /t | sed -n 1p)
[[ "$line" =~ ^a\ =\ \"x\"\ (\ \.)+\ \ \(n0,r5\)$ ]] || fail "ls -p format: '$line'"
pre=${line%%(*}
[ "${#pre}" -ge 60 ] || fail "ls -p perms not at column 60: '$line'"
line=$(xenstore-ls -p /t | sed -n 4p)
[[ "$line" =~ ^\ d\ =\ \"deep\"\ (\ \.)+\ \ \(n0\)$ ]] || fail "ls -p depth: '$line'"
echo "ok: ls -p"
expect "chmod -r" "" "$(xenstore-chmod -r /t/c n0 r9 && xenstore-ls -f -p /t/c | grep -v '(n0,r9)' || true)"

xenstore-rm /t/a
if xenstore-exists /t/a 2>/dev/null; then fail "rm /t/a"; fi
xenstore-rm /t/c
expect "rm subtree" 'b' "$(xenstore-list /t)"
xenstore-rm /t/none # gone already: fine
if xenstore-rm /t/none/child 2>/dev/null; then fail "rm under a missing parent succeeded"; fi
echo "ok: rm"

# xenstore-watch: the initial event, then one per change below.
xenstore-watch -n 3 /t/w >"$dir/watch.out" &
wpid=$!
for _ in $(seq 100); do [ -s "$dir/watch.out" ] && break; sleep 0.05; done
xenstore-write /t/w/x 1
xenstore-write /t/other 1
xenstore-rm /t/w
wait "$wpid"
expect "watch" '/t/w
/t/w/x
/t/w' "$(cat "$dir/watch.out")"

# A second simulator on the same directory refuses to start; the first keeps serving.
if timeout 5 "$BUILD/xensup-sim" --dir "$dir" --xenstore-only 2>"$dir/second.log"; then
        fail "a second xensup-sim started on a live socket"
fi
grep -q "already answers" "$dir/second.log" || fail "second xensup-sim: $(cat "$dir/second.log")"
expect "first still serves" "two words" "$(xenstore-read /t/b)"

# Killed hard, it leaves its socket; the next one replaces it.
kill -9 "$pid"
{ wait "$pid"; } 2>/dev/null || true
[ -S "$dir/xenstored.socket" ] || fail "no stale socket after kill -9"
"$BUILD/xensup-sim" --dir "$dir" --xenstore-only 2>"$dir/log" &
pid=$!
for _ in $(seq 200); do
        xenstore-exists /tool 2>/dev/null && break
        sleep 0.05
done
xenstore-exists /tool || fail "xensup-sim did not replace a stale socket: $(cat "$dir/log")"
if xenstore-exists /t 2>/dev/null; then fail "a new simulator starts with an old tree"; fi
echo "ok: stale socket replaced, live one refused"

# SIGTERM: clean exit, socket and pid file gone.
kill "$pid"
wait "$pid" || fail "xensup-sim exited $? on SIGTERM"
pid=
[ ! -e "$dir/xenstored.socket" ] && [ ! -e "$dir/xensup-sim.pid" ] ||
        fail "socket or pid file left behind"
echo "ok: clean exit"
