#!/usr/bin/env bash
# xensupctl info, mem-max, vcpu-list and vcpu-pin (issue 16) on the simulator:
# exact output and exit codes, what XenStore and the hypervisor then hold, the
# refusals with their messages, and what lasts how long: a mem-max survives a
# daemon killed with -9 (the record keeps it), a restart goes back to the
# config's maxmem and drops the pinning.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 180 bash "$0" "$@"

XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"
trap 'trap "" INT TERM; echo "interrupted"; exit 1' INT TERM
export XENSTORED_PATH="$work/sim/xenstored.socket"

ctl() { timeout 20 "$build/xensupctl" --user "$@"; }
state_is() { [ "$(ctl status "$1" 2>/dev/null | sed -n 's/^ *State: //p')" = "$2" ]; }
restarts_are() { [ "$(ctl status "$1" 2>/dev/null | sed -n 's/^ *Restarts: //p')" = "$2" ]; }
json_field() { ctl --json status "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
domid_of() { json_field "$1" domid; }
sim_stat() { "$build/tests/sim-tool" --sim-dir "$work/sim" stats "$1"; }
# vcpu-list's rows without the time column: NAME ID VCPU CPU STATE AFFINITY.
vcpus() { ctl vcpu-list "$@" | awk 'NR > 1 { $6 = ""; print }' | tr -s ' '; }

[ -f "$work/kernel" ] || echo "not a kernel: the simulator boots none" >"$work/kernel"
for name in h1 h2; do
        cat >"$work/conf/$name.conf" <<CONF
name = "$name"
memory = 64
maxmem = 128
vcpus = 2
maxvcpus = 4
kernel = "$work/kernel"
on_crash = "restart"
restart { burst = 20 interval = 60 delay = 0 }
sim {
  run_seconds = 0
  on_shutdown_request = "obey"
}
CONF
done
echo 'autostart = false' >>"$work/conf/h2.conf"
start_bus session || exit 1
start_sim --cpus 4 --memory-mib 4096 || exit 1
start_daemon --user || exit 1
check h1-running wait_for 20 state_is h1 running
check h2-stopped wait_for 20 state_is h2 stopped

echo "--- info: the host as xl info prints it"
run info 0 ctl info
info=$out
field() { sed -n "s/^$1 *: //p" <<<"$info"; }
check_eq info-hypervisor "$(field hypervisor)" sim
check_match info-version "$(field xen_version)" '^sim-[0-9]+$'
check_match info-caps "$(field xen_caps)" '^xen-3\.0-x86_64( |$)'
check_eq info-virt-caps "$(field virt_caps)" "pv hvm hap"
check_eq info-scheduler "$(field xen_scheduler)" credit2
check_eq info-cpus "$(field nr_cpus)" 4
check_eq info-total "$(field total_memory)" 4096
check_eq info-free "$(field free_memory)" "$(($(sim_stat free_kib) / 1024))"
check_eq info-domains "$(field domains)" "2 (stopped 1, running 1)"
check_eq info-daemon-version "$(field xensupd_version)" "$("$build/xensupctl" --version | awk '{print $2}')"
check_eq info-keys "$(awk -F' *: ' '{print $1}' <<<"$info" | tr '\n' ' ')" \
        "host hypervisor xen_version xen_caps virt_caps xen_scheduler nr_cpus nr_nodes cores_per_socket threads_per_core cpu_mhz total_memory free_memory domains kernel_cache xensupd_version "
check_match info-aligned "$(head -1 <<<"$info")" '^host {19}: '
check info-json python3 - "$(ctl --json info)" "$(sim_stat total_kib)" <<'PY'
import json, sys
h = json.loads(sys.argv[1])
assert h["hypervisor"] == "sim" and h["nr_cpus"] == 4, h
assert h["total_memory_kib"] == int(sys.argv[2]), h
assert 0 < h["free_memory_kib"] < h["total_memory_kib"], h
assert h["domains"] == {"running": 1, "stopped": 1}, h
assert set(h) == {"host", "hypervisor", "xen_version", "xen_caps", "virt_caps",
                  "xen_scheduler", "nr_cpus", "nr_nodes", "cores_per_socket",
                  "threads_per_core", "cpu_khz", "total_memory_kib", "free_memory_kib",
                  "domains", "kernel_cache", "xensupd_version"}, sorted(h)
# The running domain was built: its kernel inflated once and its image kept.
assert set(h["kernel_cache"]) == {"images", "bytes", "max_bytes", "hits", "misses"}, h
assert h["kernel_cache"]["images"] == 1 and h["kernel_cache"]["misses"] >= 1, h
PY
run info-extra-arg 2 ctl info x

echo "--- mem-max: a new ceiling for mem-set, in XenStore and the hypervisor"
d1=$(domid_of h1)
run mem-set-over-old-max 1 ctl mem-set h1 200M
check_match mem-set-over-old-max-message "$out" \
        "^xensupctl: memory 204800 KiB out of range for h1 \(1024\.\.131072 KiB, its maxmem: mem-max raises it\)$"
run mem-max 0 ctl mem-max h1 256M
check_eq mem-max-silent "$out" ""
check_eq mem-max-property "$(json_field h1 max_memory_kib)" 262144
check_eq mem-max-static-max "$(xenstore-read "/local/domain/$d1/memory/static-max")" 262144
check_eq mem-max-target-kept "$(xenstore-read "/local/domain/$d1/memory/target")" 65536
run mem-set-under-new-max 0 ctl mem-set h1 200M
check_eq mem-set-target "$(xenstore-read "/local/domain/$d1/memory/target")" 204800
run mem-max-below-target 1 ctl mem-max h1 100M
check_eq mem-max-below-target-message "$out" \
        "xensupctl: max memory 102400 KiB is below the memory target of h1 (204800 KiB): mem-set it lower first"
check_eq mem-max-unchanged "$(xenstore-read "/local/domain/$d1/memory/static-max")" 262144
run mem-max-suffix 0 ctl mem-max h1 268435456b
check_eq mem-max-bytes "$(json_field h1 max_memory_kib)" 262144
run mem-max-bad-size 2 ctl mem-max h1 12Q
check_match mem-max-bad-size-message "$out" "^xensupctl: mem-max: invalid size '12Q'"
run mem-max-stopped 1 ctl mem-max h2 256M
check_eq mem-max-stopped-message "$out" "xensupctl: domain h2 is stopped: cannot set-max-memory"
run mem-max-no-domain 4 ctl mem-max nosuch 256M

echo "--- mem-max survives a daemon killed with -9"
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
start_daemon --user || exit 1
check h1-adopted wait_for 20 state_is h1 running
check_eq mem-max-after-kill "$(json_field h1 max_memory_kib)" 262144
run mem-set-after-kill 0 ctl mem-set h1 250M

echo "--- vcpu-list: xl's columns"
run vcpu-list-header 0 ctl vcpu-list h1
check_match vcpu-list-header-line "$(head -1 <<<"$out")" \
        "^Name +ID +VCPU +CPU +State +Time\(s\) +Affinity \(Hard / Soft\)$"
check_eq vcpu-list-rows "$(vcpus h1)" "h1 $d1 0 0 r-- all / all
h1 $d1 1 1 r-- all / all
h1 $d1 2 - --p all / all
h1 $d1 3 - --p all / all"
check_eq vcpu-list-all-domains "$(vcpus | awk '{print $1}' | sort -u)" h1
run vcpu-list-stopped 1 ctl vcpu-list h2
check_eq vcpu-list-stopped-message "$out" "xensupctl: h2 is stopped: it has no vcpus"
check vcpu-list-json python3 - "$(ctl --json vcpu-list h1)" "$d1" <<'PY'
import json, sys
v = json.loads(sys.argv[1])
assert [(x["vcpu"], x["online"], x["cpu"]) for x in v] == [(0, True, 0), (1, True, 1),
                                                           (2, False, None), (3, False, None)], v
assert all(x["name"] == "h1" and x["domid"] == int(sys.argv[2]) for x in v), v
assert all(x["hard"] == "all" and x["soft"] == "all" for x in v), v
assert all(isinstance(x["cpu_time_ns"], int) for x in v), v
PY

echo "--- vcpu-pin: hard, soft, both, all; '-' leaves one"
run pin-hard 0 ctl vcpu-pin h1 0 2
check_eq pin-hard-row "$(vcpus h1 | sed -n 1p)" "h1 $d1 0 2 r-- 2 / all"
run pin-soft-only 0 ctl vcpu-pin h1 0 - 1,3
check_eq pin-soft-row "$(vcpus h1 | sed -n 1p)" "h1 $d1 0 2 r-- 2 / 1,3"
run pin-all 0 ctl vcpu-pin h1 all 1-3 0-3,^2
check_eq pin-all-rows "$(vcpus h1 | awk '{print $6, $7, $8}')" "1-3 / 0-1,3
1-3 / 0-1,3
1-3 / 0-1,3
1-3 / 0-1,3"
run pin-back-to-all 0 ctl vcpu-pin h1 1 all
check_eq pin-back-row "$(vcpus h1 | sed -n 2p | awk '{print $6, $7, $8}')" "all / 0-1,3"

echo "--- vcpu-pin refusals"
run pin-no-such-cpu 1 ctl vcpu-pin h1 0 7
check_eq pin-no-such-cpu-message "$out" \
        "xensupctl: hard affinity: cpu 7 does not exist: the host has cpus 0-3"
run pin-no-such-vcpu 1 ctl vcpu-pin h1 9 all
check_eq pin-no-such-vcpu-message "$out" "xensupctl: vcpu 9 out of range for h1 (0..3, or all)"
run pin-bad-list 1 ctl vcpu-pin h1 0 x
check_eq pin-bad-list-message "$out" \
        "xensupctl: hard affinity: 'x' is not a cpu list item (allowed: all, N, N-M, ^N or ^N-M, comma-separated)"
run pin-empty 1 ctl vcpu-pin h1 0 0-3,^0-3
check_eq pin-empty-message "$out" "xensupctl: hard affinity: '0-3,^0-3' names no cpu"
run pin-bad-vcpu 2 ctl vcpu-pin h1 zz all
check_eq pin-bad-vcpu-message "$out" "xensupctl: vcpu-pin: 'zz' is not a vcpu number or all"
run pin-nothing 2 ctl vcpu-pin h1 0 - -
run pin-stopped 1 ctl vcpu-pin h2 0 all
check_eq pin-stopped-message "$out" "xensupctl: domain h2 is stopped: cannot pin-vcpu"
check_eq pin-unchanged "$(vcpus h1 | sed -n 1p | awk '{print $6, $7, $8}')" "1-3 / 0-1,3"

echo "--- a restart builds it again: the config's maxmem, no pinning"
check crash ctl sim crash h1
check restarted wait_for 20 restarts_are h1 1
check h1-running-again wait_for 20 state_is h1 running
d1=$(domid_of h1)
check_eq max-after-restart "$(json_field h1 max_memory_kib)" 131072
check_eq static-max-after-restart "$(xenstore-read "/local/domain/$d1/memory/static-max")" 131072
check_eq pins-after-restart "$(vcpus h1 | awk '{print $6, $7, $8}' | sort -u)" "all / all"

stop_daemon
summary test-host
