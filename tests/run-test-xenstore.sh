#!/usr/bin/env bash
# Upstream's conformance program, /usr/lib/xen-4.17/bin/test-xenstore
# (package xen-utils-4.17), against xensup-sim's XenStore: the full default
# run, then 30 seconds of its random mode (-r 30, silent when it passes).
# TEST_XENSTORE_RANDOM_SECONDS shortens the random run (e.g. under valgrind).
set -euo pipefail

BUILD="${XENSUP_BUILD:-build}"
PROG=/usr/lib/xen-4.17/bin/test-xenstore
SECONDS_RANDOM="${TEST_XENSTORE_RANDOM_SECONDS:-30}"
[ -x "$PROG" ] || { echo "FAIL: $PROG missing (apt-get install xen-utils-4.17)" >&2; exit 1; }

dir=$(mktemp -d /tmp/run-test-xenstore.XXXXXX)
pid=
cleanup() {
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" || true; fi
        rm -rf "$dir"
}
trap cleanup EXIT

"$BUILD/xensup-sim" --dir "$dir" --xenstore-only 2>"$dir/log" &
pid=$!
export XENSTORED_PATH="$dir/xenstored.socket"
for _ in $(seq 200); do
        [ -S "$XENSTORED_PATH" ] && xenstore-exists /tool 2>/dev/null && break
        sleep 0.05
done

"$PROG" | tee "$dir/default.out"
# Every test prints a time in ns when it passes, "failed" otherwise.
if grep -q failed "$dir/default.out" || ! grep -q '^ta err *: [0-9]* ns$' "$dir/default.out"; then
        echo "FAIL: test-xenstore default run" >&2
        exit 1
fi
echo "ok: test-xenstore default run"

out=$("$PROG" -r "$SECONDS_RANDOM" 2>&1) || { echo "$out"; echo "FAIL: test-xenstore -r $SECONDS_RANDOM" >&2; exit 1; }
[ -z "$out" ] || { echo "$out"; echo "FAIL: test-xenstore -r printed errors" >&2; exit 1; }
echo "ok: test-xenstore -r $SECONDS_RANDOM"

# It cleans up after itself: nothing of it is left.
left=$(xenstore-list / | grep -v -x -e tool -e local || true)
[ -z "$left" ] || { echo "FAIL: test-xenstore left /$left behind" >&2; exit 1; }

kill "$pid"
wait "$pid" || { echo "FAIL: xensup-sim exited $? on SIGTERM" >&2; exit 1; }
pid=
echo "ok: xensup-sim clean exit"
