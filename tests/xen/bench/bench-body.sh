# The bench body, sourced by bench-xl.sh and bench-xensupd.sh (one per
# toolstack, in the same boot). The caller defines ts (the label), ts_create CFG-NAME, ts_reboot NAME, ts_destroy NAME,
# ts_save NAME FILE, ts_restore FILE, ts_migrate NAME (to localhost),
# ts_pids (the toolstack's processes) and ts_cfg NAME MODE (writes the
# guest's config). A guest counts as back when its console log shows one
# more "XENGUEST up" (its /init ran): the same test for both, and one that
# needs no XenStore request of ours inside a measured window.

# up_count NAME: how many times NAME's /init has run.
up_count() { grep -c "XENGUEST up" "$XT_CONSOLE_DIR/guest-$1.log" 2>/dev/null || echo 0; }
up_reaches() { [ "$(up_count "$1")" -ge "$2" ]; }

# Memory of the toolstack (KiB): the sum over ts_pids of VmRSS and of Pss, each without the pages
# of the memfds they map, plus the memfds they hold (xensupd's kernel cache) counted once each,
# whether a build maps one, the daemon only holds it, or both. A process may exit between the
# listing and the read: it then counts 0.
mem_memfd() {
        for p in $(ts_pids); do
                for f in /proc/"$p"/fd/*; do
                        case "$(readlink "$f" 2>/dev/null)" in
                        /memfd:*) stat -L -c '%i %b %B' "$f" 2>/dev/null ;;
                        esac
                done
        done | awk '!seen[$1]++ { s += $2 * $3 } END { print int(s / 1024) }'
}
# mem_sum FIELD: FIELD (Rss or Pss) summed over ts_pids' mappings, but those of memfds.
mem_sum() {
        for p in $(ts_pids); do cat "/proc/$p/smaps" 2>/dev/null; done |
                awk -v field="$1:" '
                        $1 ~ /^[0-9a-f]+-[0-9a-f]+$/ { memfd = ($6 ~ /^\/memfd:/) }
                        $1 == field && !memfd { s += $2 }
                        END { print s + 0 }'
}
mem_rss() { echo $(($(mem_sum Rss) + $(mem_memfd))); }
mem_pss() { echo $(($(mem_sum Pss) + $(mem_memfd))); }

# sample_peak FILE CMD...: run CMD while sampling mem_rss every 0.2 s; the peak goes to FILE.
sample_peak() {
        local file="$1" peak=0 v
        shift
        "$@" &
        local pid=$!
        while kill -0 "$pid" 2>/dev/null; do
                v="$(mem_rss)"
                [ "$v" -gt "$peak" ] && peak="$v"
                sleep 0.2
        done
        wait "$pid"
        local rc=$?
        echo "$peak" >"$file"
        return $rc
}

rss0="$(mem_rss)"
pss0="$(mem_pss)"

# bench_requests KEY FROM: the toolstack's requests since trace line FROM, and each of them
# exported (build/xen-run/files/TS.KEY.requests), for the table's reader to see where they go.
bench_requests() {
        local to
        to="$(xt_trace_mark)"
        xt_bench "$ts.$1.requests" "$(xt_trace_count "$2" "$to")"
        xt_trace_toolstack lines "$2" "$to" >"/tmp/$ts.$1.requests"
        echo "XENTEST EXPORT $ts.$1.requests"
        xt_export "$ts.$1.requests" "/tmp/$ts.$1.requests"
}

# bench_create NAME KEY: create NAME; the command's time, until its /init, the requests.
bench_create() {
        m0="$(xt_trace_mark)"
        t0="$(xt_now)"
        if ts_create "$1"; then
                xt_bench "$ts.$2.command-seconds" "$(xt_since "$t0")"
        else
                xt_fail "$ts-$2" "the toolstack could not create $1"
        fi
        if xt_wait 120 up_reaches "$1" 1; then
                xt_bench "$ts.$2-to-init.seconds" "$(xt_since "$t0")"
                xt_pass "$ts-$2"
        else
                xt_fail "$ts-$2" "$1 never reached its /init"
        fi
        sleep 2
        bench_requests "$2" "$m0"
}

# bench_reboot NAME KEY [WRAP...]: reboot NAME, until its /init again (the wait run by WRAP).
bench_reboot() {
        local name="$1" key="$2"
        shift 2
        m0="$(xt_trace_mark)"
        t0="$(xt_now)"
        ts_reboot "$name" >/dev/null 2>&1
        if "$@" xt_wait 120 up_reaches "$name" 2; then
                xt_bench "$ts.$key-to-init.seconds" "$(xt_since "$t0")"
                xt_pass "$ts-$key"
        else
                xt_fail "$ts-$key" "$name did not come back within 120 s"
        fi
        sleep 2
        bench_requests "$key" "$m0"
}

# bench_destroy NAME KEY: destroy NAME; the command's time, the requests.
bench_destroy() {
        m0="$(xt_trace_mark)"
        t0="$(xt_now)"
        ts_destroy "$1" >/dev/null 2>&1 || xt_fail "$ts-$2" "the toolstack could not destroy $1"
        xt_bench "$ts.$2.command-seconds" "$(xt_since "$t0")"
        sleep 2
        bench_requests "$2" "$m0"
}

# --- create ---
ts_cfg b1 wait
bench_create b1 create
# The least the toolstack's layout of it could send (xensupd's: bench-layout --floor).
command -v ts_layout_floor >/dev/null && xt_bench "$ts.create.layout-floor" "$(ts_layout_floor b1)"

# --- memory per running domain: one, then five ---
xt_bench "$ts.rss-1-domain.kib" "$(($(mem_rss) - rss0))"
xt_bench "$ts.pss-1-domain.kib" "$(($(mem_pss) - pss0))"
for i in 2 3 4 5; do
        ts_cfg "b$i" wait
        ts_create "b$i" >/dev/null 2>&1
done
xt_wait 120 sh -c ". /xentest/lib.sh; for i in 2 3 4 5; do
        [ \$(grep -c 'XENGUEST up' $XT_CONSOLE_DIR/guest-b\$i.log 2>/dev/null || echo 0) -ge 1 ] || exit 1; done"
xt_bench "$ts.rss-per-domain-of-5.kib" "$((($(mem_rss) - rss0) / 5))"
xt_bench "$ts.pss-per-domain-of-5.kib" "$((($(mem_pss) - pss0) / 5))"

# timeline_ms NAME FIELD: from NAME's last start, the ms of FIELD ("waiting", "image",
# "layout", "devices", or "since" its death was seen); nothing when the toolstack logs none.
timeline_ms() {
        command -v ts_timeline >/dev/null || return 0
        ts_timeline "$1" | sed -n "s/.* \([0-9]*\) ms $2.*/\1/p; s/.*$2 \([0-9]*\) ms.*/\1/p" | head -1
}

# --- reboot → running cycle (the guest obeys control/shutdown) ---
bench_reboot b1 reboot sample_peak /tmp/peak
xt_bench "$ts.restart-peak-rss.kib" "$(cat /tmp/peak)"
if command -v ts_timeline >/dev/null; then
        xt_log "$ts: reboot timeline: $(ts_timeline b1)"
        xt_bench "$ts.reboot.toolstack-ms" "$(timeline_ms b1 since)"
        xt_bench "$ts.reboot.image-ms" "$(timeline_ms b1 image)"
        xt_bench "$ts.reboot.layout-ms" "$(timeline_ms b1 layout)"
fi
xt_bench "$ts.memfd.kib" "$(mem_memfd)"

# --- destroy ---
bench_destroy b1 destroy
xt_gone b1 && xt_pass "$ts-destroy"
for i in 2 3 4 5; do ts_destroy "b$i" >/dev/null 2>&1; done
sleep 2

# --- with a disk (a file image: a loop device) and a vif on xenbr0 ---
xt_disk_image "/tmp/bench-$ts-d1.img" 16
ts_cfg_dev d1 wait "/tmp/bench-$ts-d1.img"
bench_create d1 dev-create
bench_reboot d1 dev-reboot
bench_destroy d1 dev-destroy
if xt_wait 30 xt_gone d1 && xt_wait 30 sh -c '[ -z "$(ls /sys/block/loop*/loop/backing_file 2>/dev/null)" ]'; then
        xt_pass "$ts-dev-destroy"
else
        xt_fail "$ts-dev-destroy" "d1 or its loop device is left: $(xt_loops_in_use | tr '\n' ' ')"
fi

# --- save and restore (non-live) of the guest with a disk and a vif, once its /init ran ---
xt_disk_image "/tmp/bench-$ts-sv.img" 16
ts_cfg_dev sv1 wait "/tmp/bench-$ts-sv.img"
ts_create sv1 >/dev/null 2>&1
if xt_wait 120 up_reaches sv1 1; then
        m0="$(xt_trace_mark)"
        t0="$(xt_now)"
        if ts_save sv1 "/tmp/bench-$ts-sv1.save" >/dev/null 2>&1; then
                xt_bench "$ts.save.command-seconds" "$(xt_since "$t0")"
                xt_bench "$ts.save.image-kib" "$(($(stat -c %s "/tmp/bench-$ts-sv1.save") / 1024))"
                sleep 2
                xt_bench "$ts.save.requests" "$(xt_trace_count "$m0" "$(xt_trace_mark)")"
                m0="$(xt_trace_mark)"
                t0="$(xt_now)"
                if ts_restore "/tmp/bench-$ts-sv1.save" >/dev/null 2>&1; then
                        xt_bench "$ts.restore.command-seconds" "$(xt_since "$t0")"
                        xt_pass "$ts-save-restore"
                else
                        xt_fail "$ts-save-restore" "the toolstack could not restore sv1"
                fi
                sleep 2
                xt_bench "$ts.restore.requests" "$(xt_trace_count "$m0" "$(xt_trace_mark)")"
                # Non-live, the guest is suspended for nearly all of it: the command's time is
                # the downtime. xl's always asks for log-dirty, which Debian's Xen lacks.
                m0="$(xt_trace_mark)"
                t0="$(xt_now)"
                if ts_migrate sv1 >/dev/null 2>&1; then
                        xt_bench "$ts.migrate.command-seconds" "$(xt_since "$t0")"
                        sleep 2
                        xt_bench "$ts.migrate.requests" "$(xt_trace_count "$m0" "$(xt_trace_mark)")"
                else
                        xt_log "$ts: localhost migration of sv1 failed"
                fi
        else
                xt_fail "$ts-save-restore" "the toolstack could not save sv1"
        fi
else
        xt_fail "$ts-save-restore" "sv1 never reached its /init"
fi
ts_destroy sv1 >/dev/null 2>&1
rm -f "/tmp/bench-$ts-sv1.save" "/tmp/bench-$ts-sv.img"
sleep 2

# --- storm: 10 guests asked to reboot at once ---
xt_log "$ts: storm: creating s0..s9"
for i in 0 1 2 3 4 5 6 7 8 9; do
        ts_cfg "s$i" wait
        ts_create "s$i" >/dev/null 2>&1 || xt_log "$ts: creating s$i failed"
done
xt_wait 180 sh -c "for i in 0 1 2 3 4 5 6 7 8 9; do
        [ \$(grep -c 'XENGUEST up' $XT_CONSOLE_DIR/guest-s\$i.log 2>/dev/null || echo 0) -ge 1 ] || exit 1; done"
xt_log "$ts: storm: s0..s9 created; rebooting them all"
m0="$(xt_trace_mark)"
t0="$(xt_now)"
pids=""
for i in 0 1 2 3 4 5 6 7 8 9; do
        ts_reboot "s$i" >/dev/null 2>&1 &
        pids="$pids $!"
done
# Only these: a bare `wait` would also wait for a daemon this shell started.
for p in $pids; do wait "$p"; done
back=0
limit=240
while :; do
        back=0
        for i in 0 1 2 3 4 5 6 7 8 9; do up_reaches "s$i" 2 && back=$((back + 1)); done
        [ "$back" -eq 10 ] && break
        [ "$(echo "$(xt_now) $t0 $limit" | awk '{print ($1 - $2 > $3)}')" = 1 ] && break
        sleep 0.5
done
xt_bench "$ts.storm.seconds" "$(xt_since "$t0")"
xt_bench "$ts.storm.back-of-10" "$back"
sleep 2
xt_bench "$ts.storm.requests" "$(xt_trace_count "$m0" "$(xt_trace_mark)")"
xt_bench "$ts.storm.eagain" "$(xt_trace_eagain "$m0" "$(xt_trace_mark)")"
if command -v ts_timeline >/dev/null; then
        for i in 0 1 2 3 4 5 6 7 8 9; do xt_log "$ts: storm timeline: $(ts_timeline "s$i")"; done
        for i in 0 1 2 3 4 5 6 7 8 9; do
                echo "$(timeline_ms "s$i" since) $(timeline_ms "s$i" image) $(timeline_ms "s$i" waiting)"
        done | awk '{ if ($1 > max) max = $1; img += $2; w += $3 }
                END { print max + 0, img + 0, int(w / 10) }' >/tmp/storm-timeline
        read -r max img wait </tmp/storm-timeline
        xt_bench "$ts.storm.toolstack-max-ms" "$max"
        xt_bench "$ts.storm.images-ms" "$img"
        xt_bench "$ts.storm.wait-avg-ms" "$wait"
fi
xt_pass "$ts-storm-ran"
