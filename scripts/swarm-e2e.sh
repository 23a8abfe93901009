#!/usr/bin/env bash
# Docker Swarm rollouts decided by healthprobe, end to end, on a one-node
# swarm of this machine's engine.
#
# A service of 2 replicas from the final stage of Dockerfile.example (its
# HEALTHCHECK verbatim: CMD ["/healthprobe"], configured by ENV), then:
#   1. every task becomes healthy (the time from create is printed);
#   2. an update whose probe fails (HEALTHPROBE_URL=/missing: 404) with
#      --update-failure-action rollback: swarm rolls it back on healthprobe's
#      verdicts (UpdateStatus.State ends rollback_completed), while at least
#      one task stays healthy throughout (the least seen is printed);
#   3. a good update (a new LOAD_DELAY) completes with every task healthy;
#   4. the Health Log of a failed task holds healthprobe's one-line verdict
#      and only exit codes 0 and 1.
# Tasks use the host network with a port per slot (8000 + slot), so that
# every probe stays on 127.0.0.1; nothing is published.
#
# The swarm is initialised (--advertise-addr 127.0.0.1) if the engine is not
# in one, and left at the end only then. Everything it creates is removed at
# the end, also on failure. REQUIRE_DOCKER=1 makes a missing engine a
# failure (scripts/docker-lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/docker-lib.sh

joined=""
cleanup_more() {
  [ -n "${service:-}" ] || return 0
  docker service rm "$service" >/dev/null 2>&1
  for _ in $(seq 50); do
    [ -z "$(docker ps -aq --filter "label=com.docker.swarm.service.name=$service")" ] && break
    sleep 0.2
  done
  docker ps -aq --filter "label=com.docker.swarm.service.name=$service" | xargs -r docker rm -f >/dev/null 2>&1
  if [ -n "$joined" ]; then
    docker swarm leave --force >/dev/null 2>&1 && log "left the swarm it initialised"
  fi
}
docker_prologue healthprobe-swarm
service="$prefix-svc"
image="$prefix-app"

if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null || fail "docker swarm init"
  joined=1
  log "initialised a one-node swarm"
fi

docker_example_image "$image" "$work/context"
log "image from Dockerfile.example's final stage: $(grep '^HEALTHCHECK' Dockerfile.example)"

now() { date +%s.%N; }
healthy_count() {
  docker ps -q --filter "label=com.docker.swarm.service.name=$service" --filter health=healthy | wc -l
}
update_state() { docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$service"; }

# ---- 1. create: every task healthy ------------------------------------------------
t0=$(now)
docker service create --detach --quiet --name "$service" --replicas 2 --network host \
  --no-resolve-image --stop-grace-period 1s \
  --env 'PORT=800{{.Task.Slot}}' --env LOAD_DELAY=1 \
  --health-interval 1s --health-timeout 3s --health-retries 2 --health-start-period 3s \
  "$image" >/dev/null || fail "docker service create"
for _ in $(seq 300); do [ "$(healthy_count)" -ge 2 ] && break; sleep 0.2; done
[ "$(healthy_count)" -ge 2 ] || fail "the 2 tasks were not healthy within 60 s: $(docker service ps --no-trunc "$service")"
created=$(since "$t0")
log "created -> both tasks healthy in ${created}s"

# ---- 2. a failing update is rolled back on healthprobe's verdicts ----------------------
t1=$(now)
docker service update --detach --quiet --env-add HEALTHPROBE_URL=/missing \
  --update-parallelism 1 --update-delay 1s --update-monitor 8s \
  --update-failure-action rollback --rollback-parallelism 1 --rollback-monitor 5s \
  "$service" >/dev/null || fail "docker service update (failing)"
least=2
state=""
for _ in $(seq 600); do
  n=$(healthy_count)
  [ "$n" -lt "$least" ] && least=$n
  state=$(update_state)
  case "$state" in rollback_completed|completed|paused|rollback_paused) break ;; esac
  sleep 0.2
done
[ "$state" = rollback_completed ] || fail "the failing update ended '$state', want rollback_completed"
rolled=$(since "$t1")
# Once rolled back, both tasks come back healthy; keep counting until then.
for _ in $(seq 300); do
  n=$(healthy_count)
  [ "$n" -lt "$least" ] && least=$n
  [ "$n" -ge 2 ] && break
  sleep 0.2
done
[ "$(healthy_count)" -ge 2 ] || fail "not both tasks healthy after the rollback"
[ "$least" -ge 1 ] || fail "no task was healthy at some point during the failing update"
docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' "$service" | grep -q /missing \
  && fail "the rolled-back spec still has HEALTHPROBE_URL=/missing"
log "failing update (HEALTHPROBE_URL=/missing): rollback_completed ${rolled}s after the update; least healthy tasks seen: $least of 2"

# ---- 4. the Health Log of a failed task ------------------------------------------------
failed=""
for c in $(docker ps -aq --filter "label=com.docker.swarm.service.name=$service" --filter status=exited); do
  docker inspect --format '{{json .Config.Env}}' "$c" | grep -q /missing && failed=$c && break
done
[ -n "$failed" ] || fail "no task of the failing update was kept to inspect"
docker inspect --format '{{json .State.Health}}' "$failed" > "$work/failed-health.json"
python3 - "$work/failed-health.json" <<'PY' || fail "the Health Log of a failed task"
import json, re, sys
health = json.load(open(sys.argv[1]))
log = health["Log"]
codes = sorted({e["ExitCode"] for e in log})
assert set(codes) <= {0, 1}, f"exit codes {codes}"
bad = [e["Output"] for e in log if e["ExitCode"] == 1]
assert bad, log
assert all(re.fullmatch(r"unhealthy: GET http://127\.0\.0\.1:800\d/missing -> 404 Not Found in \S+(: \".*\")?\n", o) for o in bad), bad
assert all(len(o.splitlines()) == 1 for o in bad), bad
print(f"swarm-e2e: Health Log of a failed task: exit codes {codes}; last: {bad[-1].strip()}")
PY

# ---- 3. a good update completes -------------------------------------------------------------
t2=$(now)
docker service update --detach --quiet --env-add LOAD_DELAY=2 \
  --update-parallelism 1 --update-delay 1s --update-monitor 5s --update-failure-action rollback \
  "$service" >/dev/null || fail "docker service update (good)"
for _ in $(seq 600); do
  state=$(update_state)
  [ "$state" = completed ] || [ "$state" = rollback_completed ] && break
  sleep 0.2
done
[ "$state" = completed ] || fail "the good update ended '$state', want completed"
for _ in $(seq 150); do [ "$(healthy_count)" -ge 2 ] && break; sleep 0.2; done
[ "$(healthy_count)" -ge 2 ] || fail "not both tasks healthy after the good update"
log "good update (LOAD_DELAY=2): completed in $(since "$t2")s, both tasks healthy"
log "timeline: create -> healthy ${created}s; failing update -> rollback_completed ${rolled}s (least healthy $least/2); good update -> completed"
log "all assertions passed"
