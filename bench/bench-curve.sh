#!/usr/bin/env bash
# bench-curve: the cost curve of xensupd on xensup-sim, one bench/bench-supervisor.sh
# run per N (default 1000 2000 5000 10000), then a table of per-domain figures
# and, for each step from one N to the next, how much faster than N each grows:
#
#   (figure at the larger N / figure at the smaller N) / (larger N / smaller N)
#
# 1.0 is linear (a constant cost per domain); above 1.3 is marked "worse than
# linear". It prints figures and ratios and never fails on them: only when a
# run itself breaks.
#
# usage: bench/bench-curve.sh [N...]     (make bench-supervisor SIZES="N...")
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ "$#" -gt 0 ] || set -- 1000 2000 5000 10000
for n in "$@"; do
        [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/bench-curve.sh [N...]" >&2; exit 2; }
done
# Steps go from one N to the next larger one, whatever order they were given in.
mapfile -t sizes < <(printf '%s\n' "$@" | sort -nu)

results="$(mktemp /tmp/xensup-curve.XXXXXX)"
trap 'rm -f "$results"' EXIT

# run_one N: one bench run, its figures shown as they come, its BENCH line kept.
run_one() {
        local out line
        out="$(mktemp /tmp/xensup-curve-run.XXXXXX)"
        if ! "$here/bench-supervisor.sh" "$1" | tee "$out"; then
                rm -f "$out"
                echo "bench-curve: the run with $1 domains broke" >&2
                exit 1
        fi
        line=$(grep '^BENCH ' "$out" | tail -1) || true
        rm -f "$out"
        [ -n "$line" ] || { echo "bench-curve: the run with $1 domains printed no BENCH line" >&2; exit 1; }
        echo "$line" >>"$results"
}

for n in "${sizes[@]}"; do
        run_one "$n"
        echo
done

awk '
# Each BENCH line: key=value fields after the word BENCH.
{
        for (i = 2; i <= NF; i++) {
                split($i, kv, "=")
                v[NR, kv[1]] = kv[2]
        }
        n[NR] = v[NR, "n"]
}
END {
        runs = NR
        nf = split("start ms|storm ms|LIST scans/death|RSS bytes|PSS bytes|CPU start ms|CPU storm ms", name, "|")
        for (r = 1; r <= runs; r++) {
                N = n[r]
                f[r, 1] = v[r, "start_ms"] / N
                f[r, 2] = v[r, "storm_ms"] / N
                f[r, 3] = v[r, "scans"] / N
                f[r, 4] = (v[r, "rss_kib"] - v[r, "rss0_kib"]) * 1024 / N
                f[r, 5] = (v[r, "pss_kib"] - v[r, "pss0_kib"]) * 1024 / N
                f[r, 6] = v[r, "cpu_start_s"] * 1000 / N
                f[r, 7] = v[r, "cpu_storm_s"] * 1000 / N
        }
        printf "bench-supervisor curve: per domain (RSS and Pss over the daemon with 0 domains;\n"
        printf "CPU is xensupd utime+stime in 1/%d s ticks; times end at the last domain unpaused)\n\n",
                v[1, "clk_tck"]
        printf "%-18s", "N"
        for (r = 1; r <= runs; r++) printf "%12d", n[r]
        printf "\n"
        for (i = 1; i <= nf; i++) {
                printf "%-18s", name[i]
                for (r = 1; r <= runs; r++) printf "%12s", fmt(f[r, i])
                printf "\n"
        }
        if (runs < 2) {
                printf "\n(one N: no growth to show)\n"
                exit
        }
        printf "\ngrowth of each figure / growth of N (1.0 = linear, < 1 = better;\n"
        printf "n/a where a figure is 0 or less, e.g. CPU under one tick):\n\n"
        row = sprintf("%-18s", "step")
        for (r = 2; r <= runs; r++) row = row sprintf("  %-24s", n[r - 1] "->" n[r])
        print trim(row)
        for (i = 1; i <= nf; i++) {
                row = sprintf("%-18s", name[i])
                for (r = 2; r <= runs; r++) {
                        # per-domain ratio = (total ratio) / (N ratio)
                        if (f[r - 1, i] <= 0 || f[r, i] <= 0) cell = "n/a"
                        else {
                                g = f[r, i] / f[r - 1, i]
                                cell = sprintf("%.2f", g)
                                if (g > 1.3) cell = cell " worse than linear"
                        }
                        row = row sprintf("  %-24s", cell)
                }
                print trim(row)
        }
}
# trim S: S without the padding of its last column.
function trim(s) {
        sub(/ +$/, "", s)
        return s
}
# fmt X: enough digits to read, whatever the scale.
function fmt(x) {
        if (x >= 100 || x <= -100) return sprintf("%.0f", x)
        if (x >= 1 || x <= -1) return sprintf("%.2f", x)
        return sprintf("%.4f", x)
}' "$results"
