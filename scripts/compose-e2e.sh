#!/usr/bin/env bash
# Compose start order decided by healthprobe, end to end: examples/compose.yml
# under Debian's docker-compose (1.29, which reads
# `depends_on: condition: service_healthy`).
#
#   1. the gateway starts only after the model server is healthy (its
#      .State.StartedAt is after the model server's first healthy check);
#   2. the worker, whose entrypoint is `healthprobe --wait … -- /health_server`,
#      starts its application only after the model server answers: the
#      probe's report line (timestamped by docker logs) and the application's
#      first line come after the model server turned healthy, in one process;
#   3. everything is taken down.
# The image is the final stage of Dockerfile.example built from host
# binaries (no image can be pulled); an override file for this test puts
# every service on the host network with `model-server` mapped to 127.0.0.1,
# so that all traffic stays on loopback, and shortens the health timings.
# Everything it starts is removed at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/docker-lib.sh

need_packages docker-compose=docker-compose
compose=()
made_image=""
cleanup_more() {
  [ "${#compose[@]}" = 0 ] || "${compose[@]}" down --remove-orphans -t 1 >/dev/null 2>&1
  [ -z "$made_image" ] || docker image rm -f model-server >/dev/null 2>&1
}
docker_prologue healthprobe-compose
project="hpcompose$$"
compose=(docker-compose -p "$project" -f examples/compose.yml -f "$work/override.yml")
log "$(docker-compose version --short 2>/dev/null | head -n 1 | sed 's/^/docker-compose /')"

# The image the compose file names (`image: model-server`).
docker image inspect model-server >/dev/null 2>&1 && fail "an image named model-server exists already; not touching it"
made_image=1
docker_example_image model-server "$work/context"

cat > "$work/override.yml" <<'YML'
version: "2.4"
services:
  model-server:
    network_mode: host
    environment:
      LOAD_DELAY: "3"
    healthcheck:
      interval: 1s
      timeout: 3s
      start_period: 10s
      retries: 2
  gateway:
    network_mode: host
    extra_hosts: ["model-server:127.0.0.1"]
    healthcheck:
      interval: 1s
      timeout: 3s
      retries: 2
  worker:
    network_mode: host
    extra_hosts: ["model-server:127.0.0.1"]
YML
"${compose[@]}" config -q || fail "the compose files do not validate"

t0=$(date +%s.%N)
"${compose[@]}" up -d --no-build >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "docker-compose up"; }
id() { "${compose[@]}" ps -q "$1"; }
model=$(id model-server); gateway=$(id gateway); worker=$(id worker)
[ -n "$model" ] && [ -n "$gateway" ] && [ -n "$worker" ] || fail "not every service has a container"
for _ in $(seq 150); do
  [ "$(docker inspect --format '{{.State.Health.Status}}' "$gateway" 2>/dev/null)" = healthy ] && break
  sleep 0.2
done
[ "$(docker inspect --format '{{.State.Health.Status}}' "$gateway")" = healthy ] || fail "the gateway never became healthy"
# The worker's application answers on 9100 once it runs.
for _ in $(seq 100); do docker logs "$worker" 2>/dev/null | grep -q "health_server: listening" && break; sleep 0.2; done

docker inspect "$model" "$gateway" "$worker" > "$work/inspect.json"
docker logs -t "$worker" > "$work/worker.log" 2>&1
# When the model server turned healthy: the engine's health_status events
# (the Health Log keeps only the last 5 checks).
docker events --since "${t0%.*}" --until "$(date +%s)" --filter "container=$model" \
  --filter event=health_status --format '{{.TimeNano}} {{.Status}}' > "$work/events.txt"
python3 - "$work/inspect.json" "$work/worker.log" "$t0" "$work/events.txt" <<'PY' || fail "start order"
import datetime, json, re, sys
def t(s):
    # Docker's RFC 3339 with nanoseconds: keep microseconds.
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
    return datetime.datetime.fromisoformat(m.group(1)).replace(
        microsecond=int((m.group(2) or "0")[:6].ljust(6, "0")), tzinfo=datetime.timezone.utc).timestamp()
model, gateway, worker = json.load(open(sys.argv[1]))
t0 = float(sys.argv[3])
log = model["State"]["Health"]["Log"]
assert {e["ExitCode"] for e in log} <= {0, 1}, log
events = [l.split(" ", 1) for l in open(sys.argv[4]).read().splitlines()]
turned = min(int(ns) / 1e9 for ns, status in events if status.strip() == "health_status: healthy")
model_started = t(model["State"]["StartedAt"])
gateway_started = t(gateway["State"]["StartedAt"])
# The model loads for LOAD_DELAY=3 s: healthy before that would be a lie.
assert turned >= model_started + 3.0 - 0.2, ("healthy before the model loaded", turned - model_started)
assert gateway_started >= turned, ("the gateway started before its dependency was healthy", gateway_started - turned)
lines = open(sys.argv[2]).read().splitlines()
report = [l for l in lines if " healthy: GET http://model-server:8000/health -> 200 OK" in l]
app = [l for l in lines if "health_server: listening" in l]
assert report and app, lines
report_at, app_at = t(report[0].split()[0]), t(app[0].split()[0])
assert model_started + 3.0 - 0.2 <= report_at <= app_at, ("the worker's app started before its dependency loaded", report[0], app[0])
worker_started = t(worker["State"]["StartedAt"])
print(f"compose-e2e: model-server started {model_started - t0:.1f}s after up (its model loads in 3s), "
      f"healthy at {turned - t0:.1f}s (health_status event)")
print(f"compose-e2e: gateway started at {gateway_started - t0:.1f}s, {gateway_started - turned:.1f}s after the model server turned healthy")
print(f"compose-e2e: worker container started at {worker_started - t0:.1f}s; its healthprobe --wait reported healthy at "
      f"{report_at - t0:.1f}s and the application (same PID) listened at {app_at - t0:.1f}s")
PY
log "worker log: $(grep -c . "$work/worker.log") lines; the first two: $(head -n 2 "$work/worker.log" | cut -d' ' -f2- | tr '\n' '|')"
"${compose[@]}" down --remove-orphans -t 1 >/dev/null 2>&1 || fail "docker-compose down"
[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$project")" ] || fail "containers left after down"
log "taken down; all assertions passed"
