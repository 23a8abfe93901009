#!/usr/bin/env bash
# Soak: what healthprobe holds after many cycles, and many processes at once.
#
#   bash scripts/soak.sh                         full counts (BENCHMARKS.md)
#   SOAK_CYCLES=2000 SOAK_PROCESSES=256 bash scripts/soak.sh      (CI)
#
# 1. One `--wait` loop of SOAK_CYCLES (10,000) unhealthy attempts, 10 ms
#    apart, against a server alternating 503 and a 200 whose JSON fails
#    --expect-json (scripts/soak.py); and one supervisor running as many
#    liveness probes, 10 ms apart, against a server alternating 200 and 503,
#    then stopped with SIGTERM. For each: the peak RSS, open fds and
#    threads over the last 1,000 cycles are no more than over the first
#    1,000, the exit status is right (1; 143, the child's SIGTERM) and no
#    zombie is seen or child left.
# 2. SOAK_PROCESSES (1,000) probe processes, 64 at a time, against one
#    nginx, alternating a 200 and a 503 target: every one exits 0 or 1 as
#    its target says.
# The release binary (x86_64 musl, built here) or HEALTHPROBE_BIN. Everything
# it starts stops on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

cycles=${SOAK_CYCLES:-10000}
processes=${SOAK_PROCESSES:-1000}
bin=$(probe_under_test)
probe="$bin"
work=$(mktemp -d)
source scripts/nginx-lib.sh
trap 'nginx_stop; rm -rf "$work"' EXIT

# ---- 1. many cycles in one process -------------------------------------------------
for mode in wait supervise; do
  python3 scripts/soak.py "$mode" "$bin" "$cycles" "$work/$mode.json" >/dev/null
  python3 - "$work/$mode.json" "$mode" <<'PY' || fail "$mode soak: see above"
import json, sys
r, mode = json.load(open(sys.argv[1])), sys.argv[2]
first, last = r["first_1000"], r["last_1000"]
print(f"soak: {mode}: {r['cycles']} cycles in {r['seconds']} s, exit {r['exit']}; "
      f"first 1,000: RSS {first['rss_kib']} KiB, {first['fds']} fds, {first['threads']} threads; "
      f"last 1,000: RSS {last['rss_kib']} KiB, {last['fds']} fds, {last['threads']} threads")
want = 1 if mode == "wait" else 143
ok = True
if r["exit"] != want:
    print(f"FAIL: exit {r['exit']}, want {want}"); ok = False
if r["cycles"] < 2000:
    print("FAIL: fewer than 2,000 cycles: the first and last 1,000 overlap"); ok = False
for key in ("rss_kib", "fds", "threads"):
    if last[key] > first[key]:
        print(f"FAIL: {key} grew: {first[key]} -> {last[key]}"); ok = False
if r["zombies_seen_while_running"] or r["children_left_after_exit"]:
    print(f"FAIL: zombies {r['zombies_seen_while_running']}, left {r['children_left_after_exit']}"); ok = False
sys.exit(0 if ok else 1)
PY
done

# ---- 2. many processes at once --------------------------------------------------------
nginx_start "$work" '
    location = /health { return 200 "ok"; }
    location = /down   { return 503 "loading"; }' "$probe"
base="http://127.0.0.1:$nginx_port"
t0=$(date +%s.%N)
seq "$processes" | xargs -P 64 -I{} sh -c '
  n=$1; if [ $((n % 2)) = 0 ]; then path=/health want=0; else path=/down want=1; fi
  "$2" -q "$3$path"; got=$?
  [ "$got" = "$want" ] && echo ok || echo "FAIL $n: exit $got, want $want"' _ {} "$bin" "$base" \
  > "$work/processes.log" || true
took=$(since "$t0")
good=$(grep -c '^ok$' "$work/processes.log" || true)
[ "$good" = "$processes" ] || fail "$((processes - good)) of $processes processes exited wrongly: $(grep -m3 FAIL "$work/processes.log")"
log "$processes probe processes, 64 at a time, against one nginx: all exited as their target said, in $took s"
