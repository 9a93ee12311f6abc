#!/usr/bin/env bash
# Bash completion of xensupctl (ctl/xensupctl.bash, issue 16), driven as bash
# drives it: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set, the
# function called, COMPREPLY compared exactly. Commands, options and files
# first in a plain bash, then domain and device names from xensupd on the
# simulator (the examples web1 and web2), then all of it again with the
# bash-completion package's helpers loaded; a daemon that is gone or hangs
# gives nothing, quietly and at once; and every command `xensupctl --help`
# names must be completed, so the list cannot go stale.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 180 bash "$0" "$@"

# Run by hand as `BUILD=build-x tests/test-completion.sh`, as run-tests.sh runs it.
XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"
# A signal during the cleanup must not cut it short: a timeout's TERM comes twice (to us and
# to our process group), and the second would leave the bus and the work dir behind.
trap 'trap "" INT TERM; echo "interrupted"; exit 1' INT TERM
# shellcheck source=ctl/xensupctl.bash
. "$src/ctl/xensupctl.bash"

# The completion runs `xensupctl` as a person types it; no system bus daemon may answer.
export PATH="$build:$PATH"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/no-system-bus.socket"

# complete_is CASE WANT WORD...: complete the last WORD of the command line WORD...
# (the cursor at its end); COMPREPLY, sorted and joined by spaces, must be WANT,
# with nothing on stderr.
complete_is() {
        local name=$1 want=$2 got err
        shift 2
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _xensupctl 2>"$work/complete.err"
        got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' ')
        err=$(cat "$work/complete.err")
        if [ -n "$err" ]; then
                fail "$mode$name" "'$COMP_LINE' wrote to stderr: $err"
        else
                check_eq "$mode$name" "$got" "$want"
        fi
}

# The commands as ctl/ctl.c's usage() lists them, and import-xl; sorted as complete_is sorts.
export LC_ALL=C
all_commands=$(tr ' ' '\n' <<<"list status history create start console shutdown reboot destroy pause unpause mem-set
mem-max vcpu-set vcpu-list vcpu-pin info reload monitor block-attach block-detach network-attach
network-detach block-list network-list save restore migrate host-shutdown host-boot sim import-xl" | sort | paste -sd' ')

# Commands, options and the fixed words: nothing asked of a daemon.
static_cases() {
        complete_is commands "$all_commands" xensupctl ""
        complete_is commands-after-option "$all_commands" xensupctl --user ""
        complete_is prefix-sh shutdown xensupctl sh
        complete_is prefix-net "network-attach network-detach network-list" xensupctl net
        complete_is prefix-none "" xensupctl frob
        complete_is global-options "--help --json --user --version" xensupctl -
        complete_is global-options-prefix "--user" xensupctl --u
        complete_is shutdown-options "--all --help --reboot --timeout --wait" \
                xensupctl shutdown web1 --
        complete_is shutdown-options-before-name "--all --help --reboot --timeout --wait" \
                xensupctl --user shutdown -
        complete_is shutdown-timeout-value "" xensupctl shutdown web1 --timeout ""
        complete_is shutdown-all-no-name "" xensupctl shutdown --all ""
        complete_is block-attach-options "--help --persist" xensupctl block-attach web1 -
        complete_is network-attach-options "--help --persist" xensupctl network-attach web1 --
        complete_is block-detach-options "--force --help" xensupctl block-detach web1 xvda -
        complete_is network-detach-options "--force --help" xensupctl network-detach web1 0 --
        complete_is save-options "--help --live" xensupctl save web1 --
        complete_is migrate-options "--help --live" xensupctl migrate web1 localhost --
        complete_is monitor-options "--help --json" xensupctl monitor --
        complete_is list-options "--help --json" xensupctl list -
        complete_is import-xl-options "--force --help --output-dir -o" xensupctl import-xl -
        complete_is reboot-options "--help" xensupctl reboot web1 -
        complete_is sim-actions "crash hang poweroff reboot" xensupctl sim ""
        complete_is sim-action-prefix "poweroff" xensupctl sim p
        complete_is migrate-host localhost xensupctl migrate web1 ""
        complete_is migrate-done "" xensupctl migrate web1 localhost ""
        complete_is mem-set-size "" xensupctl mem-set web1 ""
        complete_is mem-max-size "" xensupctl mem-max web1 ""
        complete_is vcpu-pin-cpus "" xensupctl vcpu-pin web1 0 ""
        complete_is info-options "--help --json" xensupctl info -
        complete_is info-no-args "" xensupctl info ""
        complete_is vcpu-list-options "--help --json" xensupctl vcpu-list -
        complete_is list-no-args "" xensupctl list ""
}

# Files where a command takes one, in a directory of known files.
file_cases() {
        local here=$PWD
        cd "$work/files" || return
        complete_is create-files "a.conf b.conf notes.txt sub" xensupctl create ""
        complete_is create-prefix "b.conf" xensupctl --user create b
        complete_is create-dir-prefix "sub/c.conf" xensupctl create sub/
        complete_is restore-files "a.conf b.conf notes.txt sub" xensupctl restore ""
        complete_is save-file "a.conf b.conf notes.txt sub" xensupctl save web1 ""
        complete_is save-file-after-live "notes.txt" xensupctl save --live web1 n
        complete_is import-xl-files "a.conf b.conf notes.txt sub" xensupctl import-xl ""
        complete_is import-xl-more-files "a.conf b.conf notes.txt sub" xensupctl import-xl a.conf ""
        complete_is import-xl-output "sub" xensupctl import-xl -o s
        complete_is import-xl-output-long "sub" xensupctl import-xl --output-dir s
        complete_is import-xl-after-output "a.conf" xensupctl import-xl -o sub a
        complete_is create-one-file "" xensupctl create a.conf ""
        cd "$here" || return
}

# Domain and device names from the daemon, with the --user the line has wherever it is.
daemon_cases() {
        complete_is names "web1 web2" xensupctl --user status ""
        complete_is names-user-after-command "web1 web2" xensupctl status --user ""
        complete_is names-prefix "web2" xensupctl --user start web2
        complete_is names-with-json "web1 web2" xensupctl --user --json status ""
        complete_is names-system-bus "" xensupctl status ""
        complete_is names-shutdown "web1 web2" xensupctl --user shutdown --timeout 5 ""
        complete_is names-sim "web1 web2" xensupctl --user sim crash ""
        complete_is names-save "web1 web2" xensupctl --user save ""
        complete_is names-migrate "web1" xensupctl --user migrate web1
        complete_is names-mem-set "web1 web2" xensupctl --user mem-set ""
        complete_is names-mem-max "web1 web2" xensupctl --user mem-max ""
        complete_is names-vcpu-list "web1 web2" xensupctl --user vcpu-list ""
        complete_is names-vcpu-pin "web1 web2" xensupctl --user vcpu-pin ""
        complete_is block-detach-vdev "xvda" xensupctl --user block-detach web1 ""
        complete_is block-detach-vdev-prefix "" xensupctl --user block-detach web1 hd
        complete_is block-detach-no-disks "" xensupctl --user block-detach web2 ""
        complete_is network-detach-devid "0" xensupctl --user network-detach web1 ""
        complete_is block-detach-no-domain "" xensupctl --user block-detach web9 ""
}

mkdir -p "$work/files/sub"
touch "$work/files/a.conf" "$work/files/b.conf" "$work/files/notes.txt" "$work/files/sub/c.conf"

mode="plain/"
echo "--- without bash-completion's helpers"
if declare -F _init_completion >/dev/null; then fail no-helpers "_init_completion is defined"; else
        pass no-helpers
fi
check_eq registered "$(complete -p xensupctl)" "complete -F _xensupctl xensupctl"
static_cases
file_cases

echo "--- domain names from xensupd --user on the simulator"
cp "$src/units/examples/web1.conf" "$src/units/examples/web2.conf" \
        "$src/units/examples/kernel-sim" "$work/conf/"
truncate -s 64M "$work/conf/web1-disk.img"
start_bus session || exit 1
start_sim || exit 1
start_daemon --user || exit 1
# web1's build runs in a child: its disk and vif are there once block-list shows them.
has_disk() { timeout 10 "$build/xensupctl" --user block-list web1 2>/dev/null | grep -q '^xvda '; }
check web1-disk-connected wait_for 20 has_disk
check web2-listed wait_for 10 bash -c "'$build/xensupctl' --user list | grep -q '^web2 '"
daemon_cases

helpers=/usr/share/bash-completion/bash_completion
if [ -f "$helpers" ]; then
        echo "--- with bash-completion's helpers ($helpers)"
        # shellcheck source=/dev/null
        . "$helpers"
        mode="helpers/"
        helpers_loaded() { declare -F _init_completion _filedir >/dev/null; }
        check helpers-loaded helpers_loaded
        static_cases
        file_cases
        daemon_cases
else
        echo "SKIP the helpers' pass: $helpers is not installed (Debian's bash-completion)"
fi
mode=""

echo "--- a daemon gone or hanging: nothing, quietly, at once"
stop_daemon
complete_is no-daemon "" xensupctl --user status ""
complete_is no-daemon-vdev "" xensupctl --user block-detach web1 ""
printf '#!/bin/sh\nexec sleep 60\n' >"$work/hung-xensupctl"
chmod 755 "$work/hung-xensupctl"
start=$(date +%s)
complete_is hung-daemon "" "$work/hung-xensupctl" --user status ""
took=$(($(date +%s) - start))
check hung-daemon-bounded [ "$took" -le 4 ]

echo "--- every command xensupctl --help names is completed"
help_commands=$(ctl_help_commands | sort)
check_match help-has-commands "$(paste -sd' ' <<<"$help_commands")" "^block-attach .*list.* vcpu-set$"
completed=$(tr ' ' '\n' <<<"$all_commands" | sort)
missing=$(comm -23 <(echo "$help_commands") <(echo "$completed") | paste -sd' ')
check_eq help-commands-completed "$missing" ""
extra=$(comm -13 <(echo "$help_commands") <(echo "$completed") | paste -sd' ')
[ -z "$extra" ] || echo "note: completed but not in --help yet: $extra"

summary test-completion
