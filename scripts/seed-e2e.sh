#!/usr/bin/env bash
# Seed 001's FastAPI application under uvicorn (examples/seed001_app.py),
# supervised by healthprobe with the seed's probes at the seed's paths
# (/startup, /liveness: no trailing slash, where the app declares one, so
# Starlette answers 307 and healthprobe follows it as the kubelet does):
#   1. startup gates liveness: no /liveness request before the first
#      successful /startup/ (uvicorn's access log says what was asked);
#   2. a liveness that starts failing stops uvicorn gracefully (its log
#      says "Shutting down" and "Finished server process"; uvicorn then
#      re-raises the SIGTERM it handled, so it ends by SIGTERM), and
#      healthprobe exits 1;
#   3. a startup that never succeeds stops uvicorn after
#      startup-failure-threshold x startup-period, before liveness is ever
#      asked.
# Installs fastapi and uvicorn (PyPI) when missing. Everything it starts
# stops on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
if ! python3 -c 'import fastapi, uvicorn' 2>/dev/null; then
  log "installing fastapi and uvicorn (PyPI)"
  python3 -m pip install -q fastapi uvicorn
fi
bin=$(probe_under_test)
work=$(mktemp -d)
sup_pid=""
trap '[ -z "$sup_pid" ] || kill "$sup_pid" 2>/dev/null; rm -rf "$work"' EXIT
log "fastapi $(python3 -c 'import fastapi; print(fastapi.__version__)'), uvicorn $(python3 -c 'import uvicorn; print(uvicorn.__version__)')"

# supervise LOG [ENV=VALUE…]: starts healthprobe supervising uvicorn on a
# free port, its output (healthprobe's and uvicorn's) in LOG.
supervise() {
  local out=$1 port
  shift
  port=$(free_port)
  env "$@" MODEL_LOAD_SECONDS=1 "$bin" \
    --startup "http://127.0.0.1:$port/startup" --startup-period 300ms --startup-failure-threshold 10 \
    --liveness "http://127.0.0.1:$port/liveness" --period 300ms --failure-threshold 3 \
    --termination-grace-period 10s \
    -- python3 -m uvicorn seed001_app:app --app-dir examples --host 127.0.0.1 --port "$port" \
    >"$out" 2>&1 &
  sup_pid=$!
}

# ---- 1, 2: startup gates liveness; a failing liveness stops uvicorn -------------------
supervise "$work/run.log" LIVENESS_FAIL_FILE="$work/fail"
for _ in $(seq 100); do grep -q 'GET /liveness/ HTTP/1.1" 200' "$work/run.log" && break; sleep 0.1; done
grep -q 'GET /liveness/ HTTP/1.1" 200' "$work/run.log" || fail "liveness never succeeded: $(cat "$work/run.log")"
first_startup_ok=$(grep -n 'GET /startup/ HTTP/1.1" 200' "$work/run.log" | head -1 | cut -d: -f1)
first_liveness=$(grep -n 'GET /liveness' "$work/run.log" | head -1 | cut -d: -f1)
[ -n "$first_startup_ok" ] && [ "$first_liveness" -gt "$first_startup_ok" ] \
  || fail "liveness asked (line $first_liveness) before startup succeeded (line ${first_startup_ok:-none})"
grep -q 'GET /startup HTTP/1.1" 307' "$work/run.log" || fail "the seed's path was not redirected"
log "startup gated liveness: first /startup/ 200 at log line $first_startup_ok, first /liveness at line $first_liveness"
touch "$work/fail"
set +e
wait "$sup_pid"
code=$?
set -e
sup_pid=""
[ "$code" = 1 ] || fail "healthprobe exited $code after the liveness failures, want 1: $(tail -15 "$work/run.log")"
for line in 'GET /liveness/ HTTP/1.1" 500' 'liveness probe failed 3 times in a row: stopping python3' \
            'Shutting down' 'Finished server process' 'healthprobe: python3 (pid '; do
  grep -q "$line" "$work/run.log" || fail "'$line' not in the log: $(tail -15 "$work/run.log")"
done
log "a failing liveness stopped uvicorn gracefully, healthprobe exited 1:"
grep -E 'healthprobe: (liveness|python3)|Shutting down|Finished server process' "$work/run.log" | sed 's/^/  | /'

# ---- 3: a startup that never succeeds ----------------------------------------------------
t0=$(date +%s.%N)
supervise "$work/never.log" STARTUP_NEVER=1
set +e
wait "$sup_pid"
code=$?
set -e
sup_pid=""
took=$(since "$t0")
[ "$code" = 1 ] || fail "healthprobe exited $code, want 1: $(tail -10 "$work/never.log")"
grep -q 'startup probe failed 10 times in a row: stopping python3' "$work/never.log" \
  || fail "no stop after 10 startup failures: $(tail -10 "$work/never.log")"
! grep -q 'GET /liveness' "$work/never.log" || fail "liveness was asked before startup succeeded"
# 10 attempts 300 ms apart after a 1 s model load: about 3.7 s.
python3 -c "import sys; sys.exit(0 if 2.7 <= float(sys.argv[1]) <= 6 else 1)" "$took" \
  || fail "the stop came after $took s, want about 3.7 s"
log "a startup that never succeeds stopped uvicorn after $took s, liveness never asked"
log "all passed"
