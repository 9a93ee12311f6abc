# shellcheck shell=sh
# Scenario helpers shared by the simulator tier (tests/test-supervisor.sh) and
# the real-Xen tier (tests/xen/): POSIX sh + busybox tools only, since the
# real-Xen dom0 has no python or bash.
#
# The tier provides: XSCTL (the xensupctl command line, e.g. "xensupctl --user"),
# CONF_DIR (the daemon's --config-dir), KERNEL (a readable guest kernel),
# SCALE (timeouts multiplier: 1 on the simulator, larger on emulated Xen),
# MEMORY (MiB per guest, default 64; a real Debian kernel needs more),
# and the functions daemon_start / daemon_kill9.

SCALE="${SCALE:-1}"
failures=0

say() { echo "scenario: $*"; }
pass() { echo "PASS $1"; }
fail() {
        echo "FAIL $1: $2"
        failures=$((failures + 1))
}

# mkconf NAME BEHAVIOUR [KEY=VALUE ...]
# BEHAVIOUR: poweroff:N reboot:N crash:N watchdog:N soft_reset:N (exit after N s),
# wait (obey control/shutdown), hang (ignore it). One file serves both tiers:
# the sim { } section drives the simulator, cmdline drives the real guest.
# SIM_BUILD_SECONDS, when set, is how long the simulator takes to build it;
# GUEST_ARGS, when set, goes on the real guest's command line (guest-init.sh's
# xentest.disk=..., xentest.net=1).
mkconf() {
        name=$1 behaviour=$2
        shift 2
        case "$behaviour" in
        wait) secs=0 exit=poweroff answer=obey kind=wait ;;
        hang) secs=0 exit=poweroff answer=ignore kind=hang ;;
        *:*) secs=${behaviour#*:} exit=${behaviour%%:*} answer=obey kind=$exit ;;
        *) echo "mkconf: bad behaviour $behaviour" >&2 && return 1 ;;
        esac
        {
                echo "name = \"$name\""
                echo "type = \"pv\""
                echo "memory = ${MEMORY:-64}"
                echo "kernel = \"$KERNEL\""
                [ -n "${RAMDISK:-}" ] && echo "ramdisk = \"$RAMDISK\""
                echo "cmdline = \"console=hvc0 xentest=$kind xentest_delay=$secs${GUEST_ARGS:+ $GUEST_ARGS}\""
                for kv in "$@"; do
                        case "$kv" in
                        restart.*) ;;
                        *) echo "${kv%%=*} = ${kv#*=}" ;;
                        esac
                done
                burst=""
                for kv in "$@"; do
                        case "$kv" in
                        restart.*) burst="$burst ${kv#restart.}" ;;
                        esac
                done
                [ -n "$burst" ] && echo "restart {$burst }"
                echo "sim {"
                echo "  run_seconds = $secs"
                echo "  exit = \"$exit\""
                echo "  on_shutdown_request = \"$answer\""
                [ -n "${SIM_BUILD_SECONDS:-}" ] && echo "  build_seconds = $SIM_BUILD_SECONDS"
                echo "}"
        } >"$CONF_DIR/$name.conf"
}

# The JSON object of one domain from `xensupctl --json list`, on one line.
dom_json() {
        $XSCTL --json list 2>/dev/null | tr -d '\n' | sed 's/},/}\n/g' |
                grep -E "\"name\" *: *\"$1\"" | head -n 1
}

# field NAME KEY: a string or number field of a domain, "" when absent.
field() {
        dom_json "$1" | sed -n -E "s/.*\"$2\" *: *\"?([^\",}]*)\"?.*/\1/p"
}

# wait_field NAME KEY VALUE SECONDS: poll until equal; 0 on success.
wait_field() {
        deadline=$(($(date +%s) + $4 * SCALE))
        while [ "$(date +%s)" -le "$deadline" ]; do
                [ "$(field "$1" "$2")" = "$3" ] && return 0
                sleep 0.2
        done
        return 1
}

# destroy_when_built NAME: destroy it, again while its build runs (that is
# refused); 0 once it is destroyed or was not running.
destroy_when_built() {
        deadline=$(($(date +%s) + 10 * SCALE))
        until $XSCTL destroy "$1" >/dev/null 2>&1; do
                case "$(field "$1" state)" in stopped | failed) return 0 ;; esac
                [ "$(date +%s)" -ge "$deadline" ] && return 1
                sleep 0.2
        done
}

# restarters_stop / restarters_start: reb1 and crash1 (scenario_configs) restart every few
# seconds, each time a new domain; a fault the simulator keeps for "the next domain created"
# must not go to one of them, so they are stopped around such a fault.
restarters_stop() {
        for _r in reb1 crash1; do destroy_when_built "$_r"; done
}
restarters_start() {
        for _r in reb1 crash1; do $XSCTL start "$_r" >/dev/null 2>&1; done
}

# expect NAME KEY VALUE SECONDS TESTNAME
expect() {
        if wait_field "$1" "$2" "$3" "$4"; then
                pass "$5"
        else
                fail "$5" "$1.$2 is '$(field "$1" "$2")', expected '$3' (after $4 s x$SCALE)"
        fi
}

# expect_ge NAME KEY MIN SECONDS TESTNAME: a numeric field reaching MIN.
expect_ge() {
        deadline=$(($(date +%s) + $4 * SCALE))
        while [ "$(date +%s)" -le "$deadline" ]; do
                v=$(field "$1" "$2")
                [ -n "$v" ] && [ "$v" -ge "$3" ] 2>/dev/null && pass "$5" && return 0
                sleep 0.2
        done
        fail "$5" "$1.$2 is '$(field "$1" "$2")', expected >= $3"
}
