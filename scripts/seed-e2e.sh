#!/usr/bin/env bash
# Seed 001's FastAPI application under uvicorn (examples/seed001_app.py),
# supervised by healthprobe with the seed's own spec (examples/seed001-
# probes.yaml: healthChecks with readiness, liveness and startup, read by
# --probes as it is; its periods shortened to 1 s and its port made free
# here), at the seed's paths (/startup, /liveness, /readiness: no trailing
# slash, where the app declares one, so Starlette answers 307 and
# healthprobe follows it as the kubelet does):
#   1. startup gates liveness and readiness: neither is asked before the
#      first successful /startup/ (uvicorn's access log says what was asked);
#   2. readiness failing (the seed's S3 check: READINESS_FAIL_FILE) takes
#      it out: `healthprobe --status` exits 1 within failureThreshold x
#      period, uvicorn runs on (no "Shutting down"); back, --status exits 0;
#   3. a liveness that starts failing stops uvicorn gracefully (its log
#      says "Shutting down" and "Finished server process"), and healthprobe
#      exits 1;
#   4. a startup that never succeeds stops uvicorn after
#      failureThreshold x period, before liveness is ever asked.
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

# spec PORT: the seed's spec with periods of 1 s, on PORT.
spec() {
  sed -e 's/periodSeconds: 10/periodSeconds: 1/' -e "s/port: 8000/port: $1/" examples/seed001-probes.yaml
}

# supervise LOG [ENV=VALUE…]: starts healthprobe supervising uvicorn on a
# free port with the seed's spec, its output (healthprobe's and uvicorn's)
# in LOG, its --status socket $work/status.sock.
supervise() {
  local out=$1 port
  shift
  port=$(free_port)
  spec "$port" > "$work/probes.yaml"
  env "$@" MODEL_LOAD_SECONDS=1 "$bin" --probes "$work/probes.yaml" \
    --status-socket "$work/status.sock" --termination-grace-period 10s \
    -- python3 -m uvicorn seed001_app:app --app-dir examples --host 127.0.0.1 --port "$port" \
    >"$out" 2>&1 &
  sup_pid=$!
}
status() { "$bin" --status --status-socket "$work/status.sock"; }
# until_status CODE SECONDS: polls --status every 0.1 s until it exits CODE;
# prints the seconds taken.
until_status() {
  local want=$1 limit=$2 t0 got
  t0=$(date +%s.%N)
  while :; do
    set +e; status >/dev/null; got=$?; set -e
    [ "$got" = "$want" ] && { since "$t0"; return 0; }
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) - float(sys.argv[2]) < float(sys.argv[3]) else 1)" \
      "$(date +%s.%N)" "$t0" "$limit" || return 1
    sleep 0.1
  done
}

# ---- 1: startup gates liveness and readiness ------------------------------------------
supervise "$work/run.log" LIVENESS_FAIL_FILE="$work/fail" READINESS_FAIL_FILE="$work/s3-gone"
for _ in $(seq 100); do grep -q 'GET /readiness/ HTTP/1.1" 200' "$work/run.log" && break; sleep 0.1; done
grep -q 'GET /readiness/ HTTP/1.1" 200' "$work/run.log" || fail "readiness never succeeded: $(cat "$work/run.log")"
first_startup_ok=$(grep -n 'GET /startup/ HTTP/1.1" 200' "$work/run.log" | head -1 | cut -d: -f1)
for path in liveness readiness; do
  first=$(grep -n "GET /$path" "$work/run.log" | head -1 | cut -d: -f1)
  [ -n "$first_startup_ok" ] && [ "$first" -gt "$first_startup_ok" ] \
    || fail "$path asked (line $first) before startup succeeded (line ${first_startup_ok:-none})"
done
grep -q 'GET /startup HTTP/1.1" 307' "$work/run.log" || fail "the seed's path was not redirected"
log "startup gated liveness and readiness: first /startup/ 200 at log line $first_startup_ok"
until_status 0 5 >/dev/null || fail "--status is not ready: $(status)"

# ---- 2: readiness failing takes it out, without a restart -------------------------------
touch "$work/s3-gone"
took=$(until_status 1 6) || fail "--status still ready 6 s after readiness failed: $(tail -5 "$work/run.log")"
# failureThreshold (3) x period (1 s), and a check's own time.
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 4 else 1)" "$took" \
  || fail "not ready only after $took s"
sleep 1.5
kill -0 "$sup_pid" || fail "healthprobe ended on a failing readiness"
! grep -q 'Shutting down' "$work/run.log" || fail "a failing readiness stopped uvicorn"
rm "$work/s3-gone"
back=$(until_status 0 5) || fail "--status not ready after readiness came back: $(status)"
log "readiness failing: not ready after $took s, uvicorn ran on; back: ready after $back s: $(status)"

# ---- 3: a failing liveness stops uvicorn -----------------------------------------------------
touch "$work/fail"
set +e
wait "$sup_pid"
code=$?
set -e
sup_pid=""
[ "$code" = 1 ] || fail "healthprobe exited $code after the liveness failures, want 1: $(tail -15 "$work/run.log")"
for line in 'GET /liveness/ HTTP/1.1" 500' 'liveness probe failed 3 times in a row: stopping python3' \
            'not ready: readiness probe failed 3/3' 'ready: healthy: GET ' \
            'Shutting down' 'Finished server process' 'healthprobe: python3 (pid '; do
  grep -q "$line" "$work/run.log" || fail "'$line' not in the log: $(tail -15 "$work/run.log")"
done
log "a failing liveness stopped uvicorn gracefully, healthprobe exited 1:"
grep -E 'healthprobe: |Shutting down|Finished server process' "$work/run.log" | grep -v 'GET /' | sed 's/^/  | /'

# ---- 4: a startup that never succeeds ----------------------------------------------------
t0=$(date +%s.%N)
supervise "$work/never.log" STARTUP_NEVER=1
set +e
wait "$sup_pid"
code=$?
set -e
sup_pid=""
took=$(since "$t0")
[ "$code" = 1 ] || fail "healthprobe exited $code, want 1: $(tail -10 "$work/never.log")"
grep -q 'startup probe failed 6 times in a row: stopping python3' "$work/never.log" \
  || fail "no stop after 6 startup failures: $(tail -10 "$work/never.log")"
! grep -q 'GET /liveness' "$work/never.log" || fail "liveness was asked before startup succeeded"
# 6 attempts 1 s apart after a 1 s model load: about 6 s.
python3 -c "import sys; sys.exit(0 if 4.5 <= float(sys.argv[1]) <= 10 else 1)" "$took" \
  || fail "the stop came after $took s, want about 6 s"
log "a startup that never succeeds stopped uvicorn after $took s, liveness never asked"
log "all passed"
