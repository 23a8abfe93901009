#!/usr/bin/env bash
# Readiness and restart on failed liveness, end to end: healthprobe as a
# container's main process supervising the example service with the three
# probes of examples/probes.yaml (examples/supervise.Dockerfile, built as it
# is from binaries built on the host; its HEALTHCHECK is `healthprobe
# --status`), against real engines:
#   1. Docker, hardened (--read-only, user 65534, no capabilities), with
#      `--restart on-failure`: healthy; the readiness path flipped to
#      failing (/admin/unready, asked with `docker exec … /healthprobe`)
#      makes it unhealthy with RestartCount still 0 and the service still
#      running, flipped back healthy again; `docker exec … /healthprobe
#      --status -o json` shows each probe's history; then the liveness path
#      flipped (/admin/fail) makes Docker restart the container
#      (RestartCount 0 -> 1) within failure-threshold x period + the grace
#      period + 5 s, and it comes back healthy; `docker stop` of the healthy
#      container returns in under 2 s with exit code 0; two supervised
#      containers sharing `--network host` each answer their own --status;
#   2. Compose (examples/compose.supervise.yml), `restart: unless-stopped`:
#      the same restart;
#   3. Podman (Debian's 4.3, rootful), `--restart on-failure`: the same
#      restart, and `podman stop` in under 2 s.
# Containers run with --network none: every probe stays on the container's
# own loopback. Everything it starts is removed on exit, whatever happens.
# REQUIRE_DOCKER=1 (set by .ci/run) makes a missing engine a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/docker-lib.sh

compose=()
cleanup_more() {
  [ "${#compose[@]}" = 0 ] || SUPERVISE_IMAGE="$prefix-app" "${compose[@]}" down -t 1 >/dev/null 2>&1
  if command -v podman >/dev/null; then
    podman --runtime runc rm -f "$prefix-podman" >/dev/null 2>&1
    podman rmi -f "localhost/$prefix-app" >/dev/null 2>&1
  fi
}
need_packages docker-compose=docker-compose
docker_prologue healthprobe-sup
compose=(docker-compose -p "$prefix" -f examples/compose.supervise.yml)

# ---- the image: examples/supervise.Dockerfile as it is ----------------------------
ctx="$work/context"
docker_context "$ctx"
cp examples/supervise.Dockerfile "$ctx/Dockerfile"
cp examples/probes.yaml "$ctx/"
image="$prefix-app"
docker_build "$image" "$ctx"
# The image's liveness (examples/probes.yaml): period 2 s, failure threshold
# 3; grace 10 s.
restart_limit=$((3 * 2 + 10 + 5))

# wait_until SECONDS COMMAND…: polls every 0.2 s until COMMAND succeeds;
# prints the seconds taken; fails after SECONDS.
wait_until() {
  local limit=$1 t0
  shift
  t0=$(date +%s.%N)
  until "$@"; do
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) - float(sys.argv[2]) < float(sys.argv[3]) else 1)" \
      "$(date +%s.%N)" "$t0" "$limit" || return 1
    sleep 0.2
  done
  since "$t0"
}
restarted() { [ "$("$1" inspect --format '{{.RestartCount}}' "$2")" = 1 ]; }
liveness_probed() { "$1" logs "$2" 2>&1 | grep -q 'startup probe succeeded'; }
flip() { "$1" exec "$2" /healthprobe -q "http://127.0.0.1:8000/admin/fail"; }
admin() { docker exec "$1" /healthprobe -q "http://127.0.0.1:8000/admin/$2"; }
# stops_quickly ENGINE C: `ENGINE stop C` returns in under 2 s and C exits 0.
stops_quickly() {
  local t0 stopped code
  t0=$(date +%s.%N)
  "$1" stop "$2" >/dev/null
  stopped=$(since "$t0")
  code=$("$1" inspect --format '{{.State.ExitCode}}' "$2")
  [ "$code" = 0 ] || fail "$1 stop: exit code $code, want 0"
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)" "$stopped" \
    || fail "$1 stop took $stopped s"
  log "$1: $1 stop returned in ${stopped} s, exit code 0"
}

# ---- 1. Docker, --restart on-failure -------------------------------------------------
c="$prefix-docker"
# Hardened as careful operators run containers; the supervisor needs none of
# what is taken away (it signals only its own child).
docker run -d --network none --restart on-failure --read-only --user 65534:65534 --cap-drop ALL \
  --security-opt no-new-privileges --memory 16m --pids-limit 32 --name "$c" "$image" >/dev/null
up=$(docker_wait_health "$c" healthy 30) || fail "not healthy within 30 s: $(docker logs "$c" 2>&1 | tail -5)"
[ "$(docker inspect --format '{{.RestartCount}}' "$c")" = 0 ] || fail "restarted before the flip"
log "docker: healthy after ${up} s, RestartCount 0"
# Docker's HEALTHCHECK (readiness) may turn healthy before the supervisor's
# own startup probe has succeeded (CI saw healthy at 2.2 s, the next startup
# probe due at 3 s): a flip then fails startup, not liveness, and the restart
# comes only after 30 startup failures. Flip once liveness probing has begun.
wait_until 30 liveness_probed docker "$c" >/dev/null || fail "docker: startup did not succeed"
# Readiness fails: unhealthy, not restarted, the service still running.
admin "$c" unready
took=$(docker_wait_health "$c" unhealthy 10) || fail "docker: not unhealthy after the readiness flip: $(docker logs "$c" 2>&1 | tail -5)"
sleep 3
[ "$(docker inspect --format '{{.RestartCount}} {{.State.Running}}' "$c")" = "0 true" ] \
  || fail "docker: a failing readiness restarted or stopped the container"
log "docker: the readiness flip made it unhealthy in ${took} s; RestartCount 0, still running 3 s later"
admin "$c" ready
took=$(docker_wait_health "$c" healthy 10) || fail "docker: not healthy after readiness came back"
log "docker: readiness back, healthy again in ${took} s"
docker exec "$c" /healthprobe --status -o json > "$work/status.json" || fail "docker: --status is not ready"
python3 - "$work/status.json" <<'PY' || fail "docker: --status -o json: $(cat "$work/status.json")"
import json, sys
answer = json.load(open(sys.argv[1]))
assert answer["ready"] is True, answer["verdict"]
probes = {p["probe"]: p for p in answer["probes"]}
assert set(probes) == {"startup", "liveness", "readiness"}, probes.keys()
seen = [r["healthy"] for r in probes["readiness"]["history"]]
assert False in seen and seen[-1] is True, seen
print(f"supervise-e2e: --status -o json: {answer['verdict']}; readiness history of {len(seen)} results, "
      f"{seen.count(False)} failed")
PY
flip docker "$c"
took=$(wait_until "$restart_limit" restarted docker "$c") \
  || fail "RestartCount is not 1 within $restart_limit s: $(docker logs "$c" 2>&1 | tail -8)"
log "docker: the liveness flip restarted the container in ${took} s (limit $restart_limit s)"
back=$(docker_wait_health "$c" healthy 30) || fail "not healthy again after the restart"
log "docker: healthy again ${back} s after the restart"
docker logs "$c" > "$work/docker.log" 2>&1
grep -q 'liveness probe failed 3 times in a row: stopping /health_server' "$work/docker.log" \
  || fail "the stop is not in docker logs: $(cat "$work/docker.log")"
grep 'healthprobe:' "$work/docker.log" | sed 's/^/  | /'
stops_quickly docker "$c"

# Two supervisors sharing the host's network namespace: each finds its own
# (the default socket is named after the PID namespace): one never ready,
# one ready.
for pair in "never:tcp://127.0.0.1:1" "ready:exec:/healthprobe --version"; do
  docker run -d --network host --read-only --user 65534:65534 --cap-drop ALL \
    --name "$prefix-${pair%%:*}" -e PORT=0 --entrypoint /healthprobe "$image" \
    --readiness "${pair#*:}" --period 1s -- /health_server >/dev/null
done
asked() { docker exec "$prefix-$1" /healthprobe --status; }
wait_until 10 asked ready >/dev/null || fail "host network: the ready supervisor is not ready: $(docker logs "$prefix-ready" 2>&1 | tail -3)"
! asked never >/dev/null || fail "host network: --status reached the other container's supervisor"
log "host network: two supervisors, each answers its own --status ($(asked never || true))"
docker rm -f "$prefix-never" "$prefix-ready" >/dev/null

# ---- 2. Compose, restart: unless-stopped -----------------------------------------------
SUPERVISE_IMAGE="$image" "${compose[@]}" up -d >/dev/null 2>"$work/compose.log" \
  || fail "docker-compose up: $(cat "$work/compose.log")"
cc=$(SUPERVISE_IMAGE="$image" "${compose[@]}" ps -q model-server)
up=$(docker_wait_health "$cc" healthy 30) || fail "compose: not healthy within 30 s"
wait_until 30 liveness_probed docker "$cc" >/dev/null || fail "compose: startup did not succeed"
flip docker "$cc"
took=$(wait_until "$restart_limit" restarted docker "$cc") \
  || fail "compose: RestartCount is not 1 within $restart_limit s: $(docker logs "$cc" 2>&1 | tail -8)"
back=$(docker_wait_health "$cc" healthy 30) || fail "compose: not healthy again after the restart"
log "compose: healthy after ${up} s; restarted ${took} s after the flip; healthy again after ${back} s"
SUPERVISE_IMAGE="$image" "${compose[@]}" down -t 5 >/dev/null 2>&1

# ---- 3. Podman, --restart on-failure ------------------------------------------------------
need_packages podman=podman runc=runc
# runc, as this machine's crun refuses its cgroup setup ("hybrid mode").
pod() { podman --runtime runc "$@"; }
pc="$prefix-podman"
pod build -q -t "localhost/$image" "$ctx" >/dev/null 2>"$work/podman-build.log" \
  || fail "podman build: $(tail -5 "$work/podman-build.log")"
# Without these runc cannot set Podman's default rlimits here.
pod run -d --network none --restart on-failure \
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --name "$pc" "localhost/$image" >/dev/null
# Podman runs HEALTHCHECKs from systemd timers, which this machine has not:
# the supervisor's own log says when liveness probing began.
up=$(wait_until 30 liveness_probed pod "$pc") || fail "podman: startup did not succeed: $(pod logs "$pc" 2>&1 | tail -5)"
flip pod "$pc"
took=$(wait_until "$restart_limit" restarted pod "$pc") \
  || fail "podman: RestartCount is not 1 within $restart_limit s: $(pod logs "$pc" 2>&1 | tail -8)"
log "podman $(pod version --format '{{.Client.Version}}'): started in ${up} s; the flip restarted it in ${took} s"
started_twice() { [ "$(pod logs "$pc" 2>&1 | grep -c 'startup probe succeeded')" -ge 2 ]; }
wait_until 30 started_twice >/dev/null \
  || fail "podman: the restarted service did not start"
stops_quickly pod "$pc"
log "all passed"
