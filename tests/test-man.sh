#!/usr/bin/env bash
# The man pages (doc/*.scd, built by doc/module.mk into $BUILD/man; issue 16). Each page
# renders with man-db and with groff without a single warning, says its name and section
# where whatis and man look for them, and installs (make install-man) where man finds it.
# And each covers what its program says, both ways, so neither can go stale: the commands
# `xensupctl --help` lists are the terms of xensupctl(1)'s COMMANDS, the long options of
# `xensupd --help` those of xensupd(8)'s OPTIONS, the keys of config/config.c's libconfuse
# schema those of xensup.conf(5)'s KEYS, and common/vocabulary.c's actions its ACTIONS.
set -euo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 300 bash "$0" "$@"

# Run by hand as `BUILD=build-x tests/test-man.sh`, as run-tests.sh runs it.
XENSUP_BUILD="${XENSUP_BUILD:-$(cd "${BUILD:-build}" && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "${XENSUP_SRC:-$(pwd)}/tests/dbus/lib.sh"

export LC_ALL=C.UTF-8 MANWIDTH=80
# page file, its name and section, as the NAME line and .TH must give them
pages=("xensupd.8 xensupd 8" "xensupctl.1 xensupctl 1" "xensup.conf.5 xensup.conf 5")

# terms PAGE SECTION: the terms of SECTION's definition lists (scdoc writes each as a text
# line followed by .RS), nested ones too, font escapes removed.
terms() {
        awk -v sec="$2" '
                /^\.SH / { on = ($0 == ".SH " sec || $0 == ".SH \"" sec "\""); next }
                on && /^\.RS/ && prev != "" && prev !~ /^\./ { print prev }
                { prev = $0 }' "$1" | sed -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\(aq/'"'"'/g'
}

# same_set NAME WANT GOT: two newline-separated lists hold the same words; says which differ.
same_set() {
        local missing extra
        missing=$(comm -23 <(sort -u <<<"$2") <(sort -u <<<"$3") | paste -sd' ')
        extra=$(comm -13 <(sort -u <<<"$2") <(sort -u <<<"$3") | paste -sd' ')
        if [ -z "$missing$extra" ]; then pass "$1"; else
                fail "$1" "not documented: '${missing}'; documented but not in the program: '${extra}'"
        fi
}

echo "--- every page renders without a warning"
have_man=false have_groff=false have_lexgrog=false
command -v man >/dev/null && have_man=true
command -v groff >/dev/null && have_groff=true
command -v lexgrog >/dev/null && have_lexgrog=true
$have_man || fail man-installed "man is missing (Debian's man-db)"
$have_groff || fail groff-installed "groff is missing (Debian's groff-base)"
for p in "${pages[@]}"; do
        read -r file name section <<<"$p"
        page="$build/man/$file"
        if [ ! -s "$page" ]; then
                fail "$file/built" "$page is missing (make BUILD=... all builds it)"
                continue
        fi
        pass "$file/built"
        check_match "$file/th" "$(grep -m1 '^\.TH ' "$page")" "^\.TH \"$name\" \"$section\" "
        if $have_man; then
                if man --warnings -E UTF-8 -l "$page" >"$work/$file.txt" 2>"$work/$file.err"; then
                        check_eq "$file/man-warnings" "$(cat "$work/$file.err")" ""
                else
                        fail "$file/man" "man -l failed: $(cat "$work/$file.err")"
                fi
                # The first line of NAME, as a person sees it.
                check_match "$file/man-name" "$(sed -n '/^NAME$/{n;p;q}' "$work/$file.txt")" \
                        "^ +$name - [a-z]"
                # No option or key split across lines (U+2010 is groff's hyphenation mark).
                check_eq "$file/unhyphenated" "$(grep -c $'\u2010' "$work/$file.txt" || true)" 0
        fi
        if $have_groff; then
                if groff -k -t -man -ww -z -Tutf8 "$page" 2>"$work/$file.groff.err"; then
                        check_eq "$file/groff-warnings" "$(cat "$work/$file.groff.err")" ""
                else
                        fail "$file/groff" "groff failed: $(cat "$work/$file.groff.err")"
                fi
        fi
        if $have_lexgrog; then
                check_match "$file/whatis" "$(lexgrog "$page" 2>&1)" "^$page: \"$name - [a-z][^\"]+\"$"
        fi
done
$have_lexgrog || echo "SKIP the whatis lines: lexgrog is not installed (Debian's man-db)"

echo "--- xensupctl(1) has every command of xensupctl --help, and no other"
help_commands=$(ctl_help_commands)
check_match help-commands "$(paste -sd' ' <<<"$help_commands")" "^list status create .* sim$"
# The commands' terms; the options nested under them begin with a dash.
doc_commands=$(terms "$build/man/xensupctl.1" COMMANDS | awk '$1 !~ /^-/ { print $1 }')
same_set ctl-commands "$help_commands" "$doc_commands"
# Each command's synopsis in the page is the one its help gives (every form of it).
for c in $help_commands; do
        # shellcheck disable=SC2086
        want=$(timeout 60 ${VALGRIND:-} "$build/xensupctl" "$c" --help |
                sed -n -e 's/^Usage: xensupctl //p' -e 's/^       xensupctl //p' | paste -sd'|')
        got=$(terms "$build/man/xensupctl.1" COMMANDS | awk -v c="$c" '$1 == c' | paste -sd'|')
        # The page writes two forms of a command as one (shutdown NAME|--all ...).
        # shellcheck disable=SC2001 # a back-reference
        if [ "$got" = "$want" ] || [ "$got" = "$(sed 's/^\([^ ]*\) NAME \(.*\)|\1 --all \2$/\1 NAME|--all \2/' <<<"$want")" ]; then
                pass "ctl-synopsis/$c"
        else
                fail "ctl-synopsis/$c" "page '$got', --help '$want'"
        fi
done
doc_globals=$(terms "$build/man/xensupctl.1" OPTIONS | grep -oE -- '--[a-z][a-z-]*')
# shellcheck disable=SC2086
help_globals=$(timeout 60 ${VALGRIND:-} "$build/xensupctl" --help |
        sed -n '/^Options:/,/^$/p' | grep -oE -- '^  (-h, )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+')
same_set ctl-global-options "$help_globals" "$doc_globals"
# COMING FROM XL has its table, a row per xl command (at least 20 of them).
coming=$(sed -n '/^COMING FROM XL$/,/^SEE ALSO$/p' "$work/xensupctl.1.txt" 2>/dev/null || true)
check_match ctl-xl-table "$(grep -c '^ *│xl [a-z]' <<<"$coming" || true)" '^[2-9][0-9]$'
# The exit codes the usage names are the ones the page explains.
# shellcheck disable=SC2086
help_codes=$(timeout 60 ${VALGRIND:-} "$build/xensupctl" --help | sed -n '/^Exit status:/,$p' |
        grep -oE '(^|[ ,])[0-9] ' | tr -dc '0-9\n' | grep . || true)
doc_codes=$(terms "$build/man/xensupctl.1" "EXIT STATUS")
same_set ctl-exit-codes "$help_codes" "$doc_codes"

echo "--- xensupd(8) has every option of xensupd --help, and no other"
# shellcheck disable=SC2086
help_options=$(timeout 60 ${VALGRIND:-} "$build/xensupd" --help | grep -oE -- '^  (-h, )?--[a-z][a-z-]*' |
        grep -oE -- '--[a-z-]+')
check_match help-options "$(paste -sd' ' <<<"$help_options")" "^--hypervisor .* --help$"
doc_options=$(terms "$build/man/xensupd.8" OPTIONS | grep -oE -- '--[a-z][a-z-]*')
same_set daemon-options "$help_options" "$doc_options"
doc_signals=$(terms "$build/man/xensupd.8" SIGNALS | paste -sd' ')
check_match daemon-signals "$doc_signals" "^SIGHUP SIGTERM, SIGINT$"

echo "--- xensup.conf(5) has every key of the parser's schema, and no other"
# config.c's cfg_opt_t tables: CFG_STR_CB("name", ...), CFG_SEC("restart", ...), ...
schema_keys=$(sed -n 's/.*CFG_[A-Z_]*("\([a-z_]*\)".*/\1/p' "$src/config/config.c")
check_match schema-keys "$(paste -sd' ' <<<"$schema_keys")" "^burst .* name uuid .* sim$"
doc_keys=$(terms "$build/man/xensup.conf.5" KEYS | awk '{ print $1 }')
same_set conf-keys "$schema_keys" "$doc_keys"
actions=$(sed -n 's/.*\[ACTION_[A-Z_]*\] = "\([a-z-]*\)".*/\1/p' "$src/common/vocabulary.c")
check_match vocabulary-actions "$(paste -sd' ' <<<"$actions")" "^destroy restart .*soft-reset$"
same_set conf-actions "$actions" "$(terms "$build/man/xensup.conf.5" ACTIONS)"

echo "--- make install-man puts each page where man finds it"
root="$work/root"
# A make of its own: make check's jobserver is not ours.
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$src" BUILD="$build" DESTDIR="$root" PREFIX=/usr install-man >"$work/install.log" 2>&1; then
        pass install-man
else
        fail install-man "$(tail -5 "$work/install.log")"
fi
for p in "${pages[@]}"; do
        read -r file name section <<<"$p"
        installed="$root/usr/share/man/man$section/$file"
        if [ -f "$installed" ] && cmp -s "$installed" "$build/man/$file"; then
                check_eq "$file/installed-mode" "$(stat -c %a "$installed")" 644
        else
                fail "$file/installed" "$installed is missing or differs from $build/man/$file"
        fi
        if $have_man; then
                check_eq "$file/man-finds-it" "$(man -M "$root/usr/share/man" -w "$section" "$name" 2>&1)" \
                        "$installed"
        fi
done

summary test-man
