#!/usr/bin/env bash
# xensupctl console NAME (issue 16) on the simulator, driven through a pty as a
# person's terminal drives it: the guest's boot line read, a line typed and
# echoed, Ctrl-] leaving with the terminal restored, the console closing when
# the domain is destroyed; a stopped domain, an unknown one; and a console/tty
# node the daemon must not trust (writable by the guest, or naming no pty).
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 180 bash "$0" "$@"

XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"
trap 'trap "" INT TERM; echo "interrupted"; exit 1' INT TERM

# drive NAME SCRIPT...: run `xensupctl --user console NAME` on a pty and play SCRIPT, steps of
# "expect:TEXT" (wait until the output holds TEXT), "send:TEXT" (type it; \r, \x1d as
# Python escapes), "run:COMMAND" (a shell command, beside) and "exit:N" (its status must be N
# within 10 s, and the terminal's settings as they were before it ran). Prints what failed.
# Keys are typed once "connected" shows: the terminal is raw from then on.
drive() {
        python3 - "$@" <<'PY'
import os, pty, select, subprocess, sys, termios, time
name, steps = sys.argv[1], sys.argv[2:]
master, slave = pty.openpty()
before = termios.tcgetattr(slave)
argv = [os.environ["XSCTL"], "--user", "console", name]
proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
seen = b""
def read_until(want, seconds=10):
    global seen
    deadline = time.time() + seconds
    while want not in seen:
        left = deadline - time.time()
        if left <= 0 or not select.select([master], [], [], left)[0]:
            return False
        try:
            seen += os.read(master, 4096)
        except OSError:
            return False
    return True
for step in steps:
    kind, _, arg = step.partition(":")
    if kind == "expect" and not read_until(arg.encode().decode("unicode_escape").encode("latin-1")):
        sys.exit(f"never saw {arg!r}; the terminal showed {seen!r}")
    elif kind == "send":
        os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
    elif kind == "run":
        subprocess.run(arg, shell=True, check=True, stdout=subprocess.DEVNULL)
    elif kind == "exit":
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            sys.exit(f"still running; the terminal showed {seen!r}")
        if rc != int(arg):
            sys.exit(f"exit {rc}, want {arg}; the terminal showed {seen!r}")
        if termios.tcgetattr(slave) != before:
            sys.exit("the terminal's settings were not restored")
PY
}

export XSCTL="$build/xensupctl"
ctl() { timeout 20 "$build/xensupctl" --user "$@"; }

mkconf con1
mkconf idle1 'autostart=false'
start_bus session || exit 1
start_sim || exit 1
start_daemon --user || exit 1
state_is() { [ "$(ctl status "$1" 2>/dev/null | sed -n 's/^ *State: //p')" = "$2" ]; }
check con1-running wait_for 20 state_is con1 running
domid=$(ctl status con1 | sed -n 's/^ *DomID: //p')

echo "--- attach, type, leave"
out=$(drive con1 "expect:connected to con1's console; Ctrl-] leaves" \
        "expect:xensup-sim: con1 booted (domid $domid)" \
        'send:hello console\r' 'expect:hello console\r\n' 'send:\x1d' exit:0 2>&1)
check_eq console-attach-type-leave "$out" ""
# Ctrl-C is the guest's while attached, as every other key.
out=$(drive con1 expect:connected 'send:a\x03b\r' 'expect:a\x03b' 'send:\x1d' exit:0 2>&1)
check_eq console-ctrl-c-is-the-guests "$out" ""
# Typed after the escape in the same read: nothing of it reaches the guest.
out=$(drive con1 expect:connected 'send:one\x1dtwo\r' exit:0 2>&1)
check_eq console-escape-ends-input "$out" ""
out=$(drive con1 expect:connected 'send:three\r' 'expect:three\r\n' 'send:\x1d' exit:0 2>&1)
check_eq console-after-escape "$out" ""

echo "--- standard input that ends"
run console-stdin-eof 0 bash -c "printf 'x\\r' | timeout 10 '$build/xensupctl' --user console con1"

echo "--- the domain goes while attached"
out=$(drive con1 'expect:connected' "run:$build/xensupctl --user destroy con1" \
        "expect:con1's console closed: the domain stopped" exit:0 2>&1)
check_eq console-closes-with-domain "$out" ""

echo "--- domains without a console"
check con1-stopped wait_for 10 state_is con1 stopped
run console-stopped 1 ctl console idle1
check_eq console-stopped-message "$out" \
        "xensupctl: idle1 is stopped: only a running or paused domain has a console"
run console-no-such-domain 4 ctl console web9
check_eq console-no-such-domain-message "$out" "xensupctl: no such domain: web9"
run console-usage 2 ctl console
run console-help 0 ctl console --help
check_match console-help-usage "$out" "^Usage: xensupctl console NAME"

echo "--- a console/tty node the daemon must not trust"
run start-con1 0 ctl start con1
check con1-running-again wait_for 20 state_is con1 running
domid=$(ctl status con1 | sed -n 's/^ *DomID: //p')
tty="/local/domain/$domid/console/tty"
check tty-is-a-pty bash -c "xenstore-read '$tty' | grep -qE '^/dev/pts/[0-9]+$'"
# Only dom0 writes it; a node the guest could have written names nothing for us.
check chmod-guest-writable xenstore-chmod "$tty" n0 "b$domid"
run console-untrusted 1 ctl console con1
check_eq console-untrusted-message "$out" \
        "xensupctl: con1's console: $tty may be written by a domain other than dom0: not trusted"
check chmod-back xenstore-chmod "$tty" n0 "r$domid"
check write-not-a-pty xenstore-write "$tty" /etc/passwd
run console-not-a-pty 1 ctl console con1
check_match console-not-a-pty-message "$out" "^xensupctl: con1's console: .*console/tty"
check write-empty xenstore-write "$tty" ""
run console-not-yet 1 ctl console con1
check_match console-not-yet-message "$out" "^xensupctl: con1: its console is not there yet"

stop_daemon
summary test-console
