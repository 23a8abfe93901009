#!/usr/bin/env bash
# scripts/probe-cost.sh [BINARY]: what one healthy HTTP probe of nginx on
# loopback costs the x86_64 release binary (BINARY, default: the one in
# dist/ that scripts/release.sh made), measured as scripts/bench.sh does:
# instructions (callgrind, the least of 3) and peak RSS (/usr/bin/time -f %M,
# median of 15, of a fresh copy of the file). Fails when either is over the
# budget (250,000 instructions, 1,000 KiB) or more than 10% over the figure
# BENCHMARKS.md states: a link-order.txt gone stale (functions renamed or
# added) shows up here as RSS, where it once went unnoticed for a release.
# PROBE_COST_BUDGET_ONLY=1 checks the budget alone (bench.sh with
# BENCH_ACCEPT=1: new figures, after link-order.txt was regenerated).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
source scripts/lib.sh
source scripts/nginx-lib.sh
need_packages nginx=nginx-light valgrind=valgrind python3=python3
need_gnu_time
bin=${1:-dist/healthprobe-$(package_version)-x86_64-unknown-linux-musl}
[ -x "$bin" ] || { echo "probe-cost: no binary at $bin (run scripts/release.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'nginx_stop; rm -rf "$work"' EXIT
cp "$bin" "$work/healthprobe"
nginx_start "$work" '
    location = /health { default_type application/json; return 200 '"'"'{"status":"ok"}'"'"'; }' "$work/healthprobe"
cmd=("$work/healthprobe" -q "http://127.0.0.1:$nginx_port/health")
run_env=(env -i PATH=/usr/bin:/bin)
instr=$(for _ in 1 2 3; do
  "${run_env[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null "${cmd[@]}" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1
done | sort -n | head -1)
rss=$(for _ in $(seq 15); do
  "${run_env[@]}" /usr/bin/time -f %M "${cmd[@]}" 2>&1 >/dev/null | tail -1
done | sort -n | sed -n 8p)
# The healthprobe row of BENCHMARKS.md: | healthprobe | 222,600 | 864 KiB | …
read -r stated_instr stated_rss < <(awk -F'|' '$2 ~ /^ healthprobe $/ {gsub(/[ ,]|KiB/, "", $3); gsub(/[ ,]|KiB/, "", $4); print $3, $4; exit}' BENCHMARKS.md)
echo "probe-cost: $instr instructions, $rss KiB peak RSS (BENCHMARKS.md: ${stated_instr:-?} instructions, ${stated_rss:-?} KiB)"
[ "${PROBE_COST_BUDGET_ONLY:-0}" != 1 ] || { stated_instr=0; stated_rss=0; }
python3 - "$instr" "$rss" "${stated_instr:-0}" "${stated_rss:-0}" <<'PY'
import sys
instr, rss, s_instr, s_rss = map(int, sys.argv[1:])
bad = []
if instr > 250_000: bad.append(f"{instr:,} instructions > 250,000")
if rss > 1_000: bad.append(f"{rss:,} KiB > 1,000 KiB")
if s_instr and instr > s_instr * 1.10: bad.append(f"{instr:,} instructions > 110% of the {s_instr:,} BENCHMARKS.md states")
if s_rss and rss > s_rss * 1.10:
    bad.append(f"{rss:,} KiB > 110% of the {s_rss:,} KiB BENCHMARKS.md states "
               "(regenerate link-order.txt: bash scripts/link-order.sh)")
if bad:
    print("probe-cost: FAIL: " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
