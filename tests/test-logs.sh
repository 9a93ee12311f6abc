#!/usr/bin/env bash
# xensupd's logs (issue 16): --log-level (names and numbers as systemd takes them, an invalid
# one refused with exit 2 and the valid ones named), debug lines for each hypervisor call and
# XenStore transaction of a create only at debug, a level above info dropping info;
# XENSUP_LOG=journal without journald falling back to stderr with one notice; the journal
# fields' XENSUP_ prefix and MESSAGE_IDs seen through a journald stand-in; and the catalog:
# one section per MESSAGE_ID of supervisor/log.h and no other, each complete, and accepted by
# journalctl --update-catalog.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 300 bash "$0" "$@"

# Run by hand as `BUILD=build-x tests/test-logs.sh`, as run-tests.sh runs it.
XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"
trap 'trap "" INT TERM; echo "interrupted"; exit 1' INT TERM
# Where it is set, as when the test itself runs under systemd, it would pick the journal.
unset JOURNAL_STREAM
catalog="$src/units/xensup.catalog"
JOURNAL_SOCKET=/run/systemd/journal/socket
NOTICE="xensupd: journald is not there ($JOURNAL_SOCKET: No such file or directory); logging to standard error"

echo "--- --log-level: what is valid, what is refused"
mkconf d1
for level in emerg alert crit err warning notice info debug 0 1 2 3 4 5 6 7; do
        out=$("$build/xensupd" --log-level="$level" --check-config "$work/conf/d1.conf" 2>&1)
        check_eq "level-$level-accepted" "$?:$out" "0:$work/conf/d1.conf: ok"
done
for level in loud 8 -1 DEBUG ""; do
        out=$("$build/xensupd" --log-level="$level" --hypervisor=sim --no-bus 2>&1)
        check_eq "level-'$level'-refused" "$?:$out" \
                "2:xensupd: --log-level: '$level' is not one of emerg, alert, crit, err, warning, notice, info, debug (or 0 to 7)"
done
check_match help-names-log-level "$("$build/xensupd" --help)" \
        "^  --log-level=LEVEL      emerg, alert, crit, err, warning, notice, info \(the$"

start_bus session || exit 1
start_sim || exit 1

# run_daemon NAME ARGS...: xensupd with ARGS and one domain NAME (a new one each time, so each
# run creates it), until NAME runs; then NAME destroyed and xensupd stopped. Its stderr is in
# $work/NAME.log.
run_daemon() {
        local name=$1
        shift
        rm -f "$work"/conf/*.conf
        mkconf "$name"
        : >"$work/daemon.log"
        start_daemon --user "$@" || return 1
        check "$name-started" wait_for 20 bash -c \
                "$build/xensupctl --user list | grep -q '^$name .* running'"
        "$build/xensupctl" --user destroy "$name" >/dev/null
        stop_daemon
        cp "$work/daemon.log" "$work/$name.log"
}
debug_lines() { grep -c '^xensupd: debug: ' "$work/$1.log"; }

echo "--- --log-level=debug: each hypervisor call and XenStore transaction of a create"
run_daemon debug --log-level=debug || exit 1
log=$(cat "$work/debug.log")
# The create is made in a build child, which inherits the level.
check_match debug-create-call "$log" \
        "^xensupd: debug: hypervisor call create \(seq [0-9]+\): ok \([0-9]+ ms\)$"
check_match debug-unpause-call "$log" \
        "^xensupd: debug: hypervisor call unpause \(seq [0-9]+\): ok \([0-9]+ ms\)$"
check_match debug-destroy-call "$log" \
        "^xensupd: debug: hypervisor call destroy \(seq [0-9]+\): ok \([0-9]+ ms\)$"
check_match debug-layout-transaction "$log" \
        "^xensupd: debug: XenStore transaction writing the layout of domain [0-9]+: ok \([0-9]+ requests, [0-9]+ ms\)$"
check_match debug-record-transaction "$log" \
        "^xensupd: debug: XenStore (transaction|request) writing /tool/xensup/[0-9a-f-]{36}: ok \([0-9]+ requests, [0-9]+ ms\)$"
check_match debug-info-still-there "$log" "^xensupd: debug: started as domid [0-9]+ \(build: [0-9]+ ms waiting, image [0-9]+ ms, layout [0-9]+ ms, devices [0-9]+ ms[^)]*\)$"

echo "--- the default level (info): no debug line; warning: no info line either"
run_daemon default || exit 1
check_eq default-no-debug "$(debug_lines default)" 0
check_match default-info-there "$(cat "$work/default.log")" "^xensupd: default: started as domid [0-9]+ \(build: [0-9]+ ms waiting, image [0-9]+ ms, layout [0-9]+ ms, devices [0-9]+ ms[^)]*\)$"
run_daemon warning --log-level=warning || exit 1
check_eq warning-no-debug "$(debug_lines warning)" 0
check_eq warning-no-info "$(grep -c 'started as domid\|supervising' "$work/warning.log")" 0
run_daemon numeric --log-level=7 || exit 1
check "numeric-7-is-debug" test "$(debug_lines numeric)" -gt 0

# A mount namespace of its own whose /run/systemd/journal is $XENSUP_TEST_JOURNAL (empty: none).
write_journal_ns
can_unshare=false
[ "$(id -u)" = 0 ] && [ -d /run/systemd ] && unshare -m true 2>/dev/null && can_unshare=true
saved_valgrind=${VALGRIND:-}

echo "--- XENSUP_LOG=journal without journald: one notice, then everything on stderr"
if [ -e "$JOURNAL_SOCKET" ] && ! $can_unshare; then
        echo "SKIP journal-fallback: $JOURNAL_SOCKET exists and no mount namespace to hide it"
else
        if [ -e "$JOURNAL_SOCKET" ]; then
                VALGRIND="unshare -m $work/in-journal-ns ${VALGRIND:-}"
        fi
        XENSUP_LOG=journal XENSUP_TEST_JOURNAL="" run_daemon nojournal --log-level=debug ||
                exit 1
        VALGRIND=$saved_valgrind
        check_eq fallback-notice-first "$(grep -v '^==' "$work/nojournal.log" | head -1)" "$NOTICE"
        # The build children inherit the fallback: none says it again.
        check_eq fallback-notice-once "$(grep -c 'journald is not there' "$work/nojournal.log")" 1
        check_match fallback-messages-there "$(cat "$work/nojournal.log")" \
                "^xensupd: nojournal: started as domid [0-9]+ \(build: [0-9]+ ms waiting, image [0-9]+ ms, layout [0-9]+ ms, devices [0-9]+ ms[^)]*\)$"
        check_match fallback-debug-there "$(cat "$work/nojournal.log")" \
                "^xensupd: debug: hypervisor call create "
fi

echo "--- the journal fields, through a journald stand-in"
if ! $can_unshare; then
        echo "SKIP journal-fields: needs root and unshare -m"
else
        check journal-listening start_journal_standin
        VALGRIND="unshare -m $work/in-journal-ns ${VALGRIND:-}" XENSUP_LOG=journal \
                XENSUP_TEST_JOURNAL="$work/journal" run_daemon journal || exit 1
        VALGRIND=$saved_valgrind
        sleep 0.2
        kill "$journal_pid" 2>/dev/null
        wait "$journal_pid" 2>/dev/null
        check_eq journal-no-fallback "$(grep -c 'journald is not there' "$work/journal.log")" 0
        started=$(sed -n 's/^#define LOG_MID_DOMAIN_STARTED *"\([0-9a-f]*\)"$/\1/p' \
                "$src/supervisor/log.h")
        check journal-fields python3 - "$work/journal.jsonl" "$started" <<'PY'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
std = {"MESSAGE", "PRIORITY", "MESSAGE_ID", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "SYSLOG_IDENTIFIER"}
for e in entries:
    odd = [k for k in e if k not in std and not k.startswith("XENSUP_")]
    assert not odd, ("a field without the XENSUP_ prefix", odd, e)
started = [e for e in entries if e.get("MESSAGE", "").startswith("journal: started as domid")]
assert len(started) == 1, (started, entries)
s = started[0]
assert s["MESSAGE_ID"] == sys.argv[2] and s["PRIORITY"] == "6", s
assert s["XENSUP_DOMAIN"] == "journal" and len(s["XENSUP_UUID"]) == 36, s
assert s["XENSUP_DOMID"].isdigit() and s["MESSAGE"].startswith("journal: started as domid " + s["XENSUP_DOMID"] + " (build: "), s
assert s["XENSUP_ACTION"] == "start" and s["XENSUP_REASON"] == "none", s
PY
fi

echo "--- the catalog: one section per MESSAGE_ID of log.h, each complete"
ids_h=$(sed -n 's/^#define LOG_MID_[A-Z_]* *"\([0-9a-f]*\)"$/\1/p' "$src/supervisor/log.h" | sort)
ids_cat=$(sed -n 's/^-- \(.*\)$/\1/p' "$catalog" | sort)
check "log.h-has-message-ids" test "$(wc -l <<<"$ids_h")" -ge 20
check_eq "log.h-ids-unique" "$(uniq -d <<<"$ids_h")" ""
check_eq "log.h-ids-are-id128" "$(grep -cvE '^[0-9a-f]{32}$' <<<"$ids_h")" 0
check_eq "catalog-ids-unique" "$(uniq -d <<<"$ids_cat")" ""
check_eq "catalog-matches-log.h" "$(diff <(echo "$ids_h") <(echo "$ids_cat"))" ""
# Every id a source file names is one of log.h's (a misspelt macro would not compile; a literal would).
check_eq "no-literal-ids" "$(grep -rlE '"[0-9a-f]{32}"' "$src"/supervisor/*.c "$src"/ctl/*.c || true)" ""
check catalog-sections-complete awk '
        function done_section() {
                if (id != "" && !(subject && definedby && doc && body)) {
                        print "incomplete section " id; bad = 1
                }
        }
        /^-- / { done_section(); id = $2; subject = definedby = doc = body = inhead = 0; inhead = 1; next }
        id == "" { next }
        inhead && /^Subject: ./ { subject = 1; next }
        inhead && /^Defined-By: xensup$/ { definedby = 1; next }
        inhead && /^Documentation: man:xensupd\(8\)$/ { doc = 1; next }
        inhead && /^[A-Za-z-]+: / { next }
        inhead && /^$/ { inhead = 0; next }
        !inhead && NF { body = 1 }
        END { done_section(); exit bad }' "$catalog"
root="$work/catalog-root"
mkdir -p "$root/usr/lib/systemd/catalog"
cp "$catalog" "$root/usr/lib/systemd/catalog/"
out=$(journalctl --root="$root" --update-catalog 2>&1)
check_eq catalog-update "$?:$out" "0:"
listed=$(journalctl --root="$root" --list-catalog 2>&1 | awk '$2 == "xensup:" { print $1 }' | sort)
check_eq catalog-listed "$listed" "$ids_h"

summary test-logs
