#!/usr/bin/env bash
# make check-package (issue 16): the Debian packages built from this tree as a
# maintainer builds them (dpkg-buildpackage -us -uc -b on a copy of its files),
# lintian clean, then installed into a scratch root (dpkg --root, maintainer
# scripts run chrootless with DPKG_ROOT set), their files, conffiles and
# scripts' effects checked, the demo run from the installed files, and both
# packages removed and purged without a trace.
set -uo pipefail
[ -n "${XENSUP_TEST_BOUNDED:-}" ] || XENSUP_TEST_BOUNDED=1 exec timeout -k 10 1200 bash "$0" "$@"

XENSUP_SRC="${XENSUP_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=tests/dbus/lib.sh
. "$XENSUP_SRC/tests/dbus/lib.sh"
trap 'trap "" INT TERM; echo "interrupted"; exit 1' INT TERM

version=$(sed -n 's/^VERSION *:= *//p' "$src/Makefile")
arch=$(dpkg --print-architecture)

echo "--- dpkg-buildpackage on a copy of the tree"
tree="$work/pkg/xensup-$version"
mkdir -p "$tree"
# The tree's own files (a clean clone's, or a work tree's, new ones included); no build dir.
(cd "$src" && git ls-files -co --exclude-standard | grep -Ev '^build(-[^/]*)?/' |
        tar -cf - -T -) | tar -xf - -C "$tree"
if (cd "$tree" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
        dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
then pass dpkg-buildpackage; else fail dpkg-buildpackage "$(tail -20 "$work/build.log")"; fi
changes="$work/pkg/xensup_${version}_$arch.changes"
deb="$work/pkg/xensup_${version}_$arch.deb"
simdeb="$work/pkg/xensup-sim_${version}_$arch.deb"
check built-xensup test -s "$deb"
check built-xensup-sim test -s "$simdeb"
check_eq version-matches-changelog "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)" \
        "$version"

echo "--- lintian"
# No error and no warning; an override in debian/ says why where one is needed.
lintian --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1
rc=$?
check_eq lintian-clean "$rc $(grep -Ec '^(E|W):' "$work/lintian.log")" "0 0"
[ "$rc" -eq 0 ] || cat "$work/lintian.log"

echo "--- what each package holds"
contents() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||'; }
for f in /usr/sbin/xensupd /usr/bin/xensupctl \
        /lib/systemd/system/xensupd.service /lib/systemd/system/xensup-domains.service \
        /usr/share/dbus-1/system.d/org.xensup.supervisor1.conf \
        /usr/share/dbus-1/system-services/org.xensup.supervisor1.service \
        /usr/share/dbus-1/interfaces/org.xensup.supervisor1.xml \
        /usr/share/polkit-1/actions/org.xensup.supervisor1.policy \
        /usr/share/polkit-1/rules.d/org.xensup.supervisor1.rules \
        /usr/lib/sysusers.d/xensup.conf /usr/lib/tmpfiles.d/xensup.conf \
        /usr/lib/systemd/catalog/xensup.catalog /etc/default/xensupd /etc/xensup/domains.d \
        /usr/share/man/man8/xensupd.8.gz /usr/share/man/man1/xensupctl.1.gz \
        /usr/share/man/man5/xensup.conf.5.gz /usr/share/bash-completion/completions/xensupctl \
        /usr/share/doc/xensup/copyright /usr/share/doc/xensup/examples/web1.conf; do
        check "xensup-holds $f" grep -qx "$f" <(contents "$deb")
done
for f in /usr/libexec/xensup/xensup-sim /usr/libexec/xensup/xensup-demo \
        /usr/share/xensup-sim/examples/web1.conf /usr/share/xensup-sim/examples/kernel-sim; do
        check "xensup-sim-holds $f" grep -qx "$f" <(contents "$simdeb")
done
check_eq sim-only-in-xensup-sim "$(contents "$deb" | grep -c 'xensup-sim\|libexec')" 0
check_eq conffiles "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" "/etc/default/xensupd"
check_eq sim-depends-on-same-version \
        "$(dpkg-deb -f "$simdeb" Depends | grep -o "xensup (= $version)")" "xensup (= $version)"

echo "--- dpkg --root: installed into a scratch root"
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc/systemd/system"
touch "$root/var/lib/dpkg/status"
# On a host booted with systemd, the scripts would talk to its systemctl (they check
# /run/systemd/system, not the root): these stand in and record it.
mkdir -p "$work/shims"
for tool in systemctl deb-systemd-invoke; do
        printf '#!/bin/sh\necho "%s $*" >>"%s/host-calls"\n' "$tool" "$work" >"$work/shims/$tool"
        chmod 755 "$work/shims/$tool"
done
dpkg_root() {
        PATH="$work/shims:$PATH" dpkg --root="$root" --force-script-chrootless \
                --force-depends --force-not-root --log=/dev/null "$@"
}
if dpkg_root -i "$deb" "$simdeb" >"$work/install.log" 2>&1
then pass dpkg-install; else fail dpkg-install "$(tail -20 "$work/install.log")"; fi
check_eq both-installed "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package} ${db:Status-Abbrev}\n' |
        sort)" "xensup ii 
xensup-sim ii "
check installed-daemon test -x "$root/usr/sbin/xensupd"
check installed-runs bash -c "'$root/usr/sbin/xensupd' --help >/dev/null"
check_eq installed-version "$("$root/usr/bin/xensupctl" --version)" "xensupctl $version"
# The maintainer scripts' work, done in the root: the units enabled, tmpfiles' directories.
check enabled-xensupd test -L "$root/etc/systemd/system/multi-user.target.wants/xensupd.service"
check enabled-xensup-domains \
        test -L "$root/etc/systemd/system/multi-user.target.wants/xensup-domains.service"
check sysusers-made-group grep -q '^xensup:x:[0-9]*:$' "$root/etc/group"
check tmpfiles-ran test -d "$root/var/lib/xensup" -a -d "$root/etc/xensup/domains.d"
check_eq state-dir-private "$(stat -c %a "$root/var/lib/xensup")" 700
# The unit names the installed daemon; the man pages render.
check_eq unit-execstart "$(grep ^ExecStart= "$root/lib/systemd/system/xensupd.service")" \
        'ExecStart=/usr/sbin/xensupd --hypervisor=xen --admin-group=xensup $XENSUPD_ARGS'
for page in man8/xensupd.8 man1/xensupctl.1 man5/xensup.conf.5; do
        out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/usr/share/man/$page.gz" 2>&1 >/dev/null)
        check_eq "man-renders $page" "$out" ""
done
check_eq demo-paths "$(grep -c '^        xensupd=/usr/sbin/xensupd xensupctl=/usr/bin/xensupctl$' \
        "$root/usr/libexec/xensup/xensup-demo")" 1

echo "--- remove, then purge"
: >"$work/host-calls"
if dpkg_root -r xensup-sim xensup >"$work/remove.log" 2>&1
then pass dpkg-remove; else fail dpkg-remove "$(tail -20 "$work/remove.log")"; fi
check removed-daemon test ! -e "$root/usr/sbin/xensupd"
check removed-sim test ! -e "$root/usr/libexec/xensup"
check conffile-kept-on-remove test -f "$root/etc/default/xensupd"
# The stop of xensup-domains.service (which saves every guest) comes on removal only.
if dpkg_root --purge xensup-sim xensup >"$work/purge.log" 2>&1
then pass dpkg-purge; else fail dpkg-purge "$(tail -20 "$work/purge.log")"; fi
check purged-conffile test ! -e "$root/etc/default/xensupd"
check purged-enablement test ! -e "$root/etc/systemd/system/multi-user.target.wants/xensupd.service"
# Left, as Debian leaves them: the group sysusers made (files may still be owned by it),
# and the directories tmpfiles made with the domains' state and configs.
left=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o -path ./var/lib/xensup -prune -o \
        -path ./var/lib/xen -prune -o -path ./etc/xensup -prune -o -path ./run -prune -o \
        -path ./etc/group -o -path ./etc/gshadow -o -path ./etc/.pwd.lock -o \
        \( -type f -o -type l \) -print | sort)
check_eq purge-leaves-no-file "$left" ""

summary test-package
