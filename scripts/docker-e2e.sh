#!/usr/bin/env bash
# Docker HEALTHCHECK end to end, against a real Docker engine.
#
# Builds healthprobe and the example service as static musl binaries on the
# host (no registry is reachable, so nothing is pulled), builds a FROM
# scratch image from the final stage of Dockerfile.example (its ENV,
# HEALTHCHECK and ENTRYPOINT lines verbatim; only `COPY --from=builder`
# becomes a COPY from the build context), and asserts from
# `docker inspect --format '{{json .State.Health}}'`:
#   1. starting -> healthy after the service's model load delay;
#   2. after /admin/fail, unhealthy within interval x retries + slack;
#   3. the Health Log carries the probe's one-line verdicts (status code and
#      body excerpt for failures), and every ExitCode is 0 or 1;
#   4. a service that never answers makes the container unhealthy, and no
#      probe process outlives the probe's own 2 s deadline (Docker's kill at
#      --timeout never comes into play).
# Then it measures the image against the same image with Debian's curl (and
# the shared libraries it loads) added. Containers run with --network none
# (the probe talks to 127.0.0.1 inside the container only) and hardened:
# --read-only, --user 65534:65534, --cap-drop ALL, --security-opt
# no-new-privileges, --memory 16m, --pids-limit 32.
#
# Engine and cleanup: scripts/docker-lib.sh (docker_prologue). REQUIRE_DOCKER=1
# (set by .ci/run) makes a missing engine a failure; without it the script
# says so in one line and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
source scripts/docker-lib.sh

docker_prologue healthprobe-e2e

# ---- the image: the final stage of Dockerfile.example --------------------------
image="$prefix-app"
ctx="$work/context"
docker_example_image "$image" "$ctx"
log "image from Dockerfile.example's final stage: $(grep '^HEALTHCHECK' Dockerfile.example)"

health() { docker inspect --format '{{json .State.Health}}' "$1"; }
status() { docker inspect --format '{{.State.Health.Status}}' "$1"; }
now() { date +%s.%N; }
wait_for() { docker_wait_health "$@"; }

# Short timings for the test, set on `docker run` (a start period of 0 would
# mean "the image's 30s"); the check itself (the
# CMD, the probe's ENV) is the image's, from Dockerfile.example.
interval=1; retries=2; load_delay=3
timing=(--health-interval="${interval}s" --health-timeout=3s --health-retries="$retries" --health-start-period=30s)
# Every container runs as careful operators run theirs: a read-only root,
# nobody's uid, no capabilities, no privilege gain, 16 MiB of memory and 32
# processes at most. The probe needs none of what is taken away.
hardened=(--read-only --user 65534:65534 --cap-drop ALL --security-opt no-new-privileges
  --memory 16m --pids-limit 32)

# ---- 1-3: a service that loads, serves, then breaks ---------------------------
app="$prefix-loads"
t_start=$(now)
docker run -d --network none "${hardened[@]}" --name "$app" -e LOAD_DELAY=$load_delay "${timing[@]}" "$image" >/dev/null
[ "$(docker inspect --format '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' "$app")" = "true 65534:65534 16777216 32" ] \
  || fail "the container is not hardened: $(docker inspect --format '{{json .HostConfig}}' "$app")"
first=$(status "$app")
[ "$first" = starting ] || fail "first status is $first, want starting"
wait_for "$app" healthy 20 >/dev/null || fail "not healthy within 20 s: $(health "$app")"
at_healthy=$(since "$t_start")
python3 - "$at_healthy" "$load_delay" <<'PY' || fail "healthy after ${at_healthy}s, load delay ${load_delay}s"
import sys
at, delay = float(sys.argv[1]), float(sys.argv[2])
sys.exit(0 if delay - 0.5 <= at <= delay + 4 else 1)
PY
health_ok=$(health "$app")
log "healthy ${at_healthy}s after start (model load delay ${load_delay}s)"

# The image's own probe is the only HTTP client in it; the flag replaces the
# image's HEALTHPROBE_EXPECT_JSON.
docker exec "$app" /healthprobe -q --expect-json /failing=true http://127.0.0.1:8000/admin/fail \
  || fail "could not flip the service"
limit=$(( interval * retries + 4 ))
took=$(wait_for "$app" unhealthy "$limit") || fail "not unhealthy within ${limit}s of the flip: $(health "$app")"
at_unhealthy=$(since "$t_start")
health_bad=$(health "$app")
log "unhealthy ${took}s after the flip (interval ${interval}s x retries ${retries} = $((interval * retries))s)"

python3 - "$health_ok" "$health_bad" <<'PY' || fail "Health Log"
import json, sys
ok, bad = json.loads(sys.argv[1]), json.loads(sys.argv[2])
entries = ok["Log"] + bad["Log"]
codes = sorted({e["ExitCode"] for e in entries})
assert set(codes) <= {0, 1}, f"exit codes {codes}"
healthy = [e["Output"] for e in ok["Log"] if e["ExitCode"] == 0]
assert any(o.startswith("healthy: GET http://127.0.0.1:8000/health -> 200 OK in ") for o in healthy), healthy
failing = [e["Output"] for e in bad["Log"] if e["ExitCode"] == 1]
want = 'unhealthy: GET http://127.0.0.1:8000/health -> 503 Service Unavailable in '
assert any(o.startswith(want) and 'model not loaded' in o for o in failing), failing
assert all(len(o.splitlines()) == 1 for o in healthy + failing), "one line per check"
print("docker-e2e: Health Log as the test saw it:")
print(json.dumps(bad, indent=1))
PY

# ---- 4: a service that never answers ------------------------------------------------
hang="$prefix-hangs"
docker run -d --network none "${hardened[@]}" --name "$hang" -e HANG=1 \
  --health-interval=1s --health-timeout=3s --health-retries=2 --health-start-period=1s "$image" >/dev/null
t_hang=$(now)
# Sample the probe processes while the checks run: no healthprobe process may
# live longer than its own 2 s deadline plus slack.
python3 - "$hang" <<'PY' || fail "a probe process outlived its deadline"
import subprocess, sys, time
name, seen, end = sys.argv[1], {}, time.time() + 8
while time.time() < end:
    out = subprocess.run(["docker", "top", name, "-o", "pid,args"], capture_output=True, text=True).stdout
    for line in out.splitlines()[1:]:
        pid, _, args = line.strip().partition(" ")
        if "healthprobe" in args:
            first, _ = seen.get(pid, (time.time(), None))
            seen[pid] = (first, time.time())
    time.sleep(0.1)
lives = sorted(last - first for first, last in seen.values())
print(f"docker-e2e: {len(seen)} probe processes seen, longest observed life {max(lives, default=0):.1f}s")
assert seen, "no probe process was ever seen"
assert max(lives) <= 2.6, lives
PY
took=$(wait_for "$hang" unhealthy 15) || fail "hanging service not unhealthy: $(health "$hang")"
hang_unhealthy=$(since "$t_hang")
python3 - "$(health "$hang")" <<'PY' || fail "Health Log of the hanging service"
import json, sys
h = json.loads(sys.argv[1])
for e in h["Log"]:
    assert e["ExitCode"] == 1, e   # Docker's own timeout kill would be -1
    assert e["Output"] == "unhealthy: GET http://127.0.0.1:8000/health: timed out after 2s waiting for response headers\n", e
PY
log "never-answering service unhealthy ${hang_unhealthy}s after start; every check ended by the probe itself (exit 1, 'timed out after 2s')"

# ---- image size against the same image with Debian's curl -----------------------------
curl_size="not measured (curl not installed)"
if command -v curl >/dev/null; then
  cctx="$work/curl-context"
  mkdir -p "$cctx/root"
  cp "$ctx/health_server" "$cctx/root/"
  cp "$ctx/healthprobe" "$cctx/root/"
  for f in $(command -v curl) $(ldd "$(command -v curl)" | grep -o '/[^ ]*'); do
    mkdir -p "$cctx/root$(dirname "$f")"
    cp -L "$f" "$cctx/root$f"
  done
  printf 'FROM scratch\nCOPY root/ /\nENTRYPOINT ["/health_server"]\n' > "$cctx/Dockerfile"
  docker_build "$prefix-curl" "$cctx"
  docker run --rm --network none --entrypoint /usr/bin/curl "$prefix-curl" --version >/dev/null \
    || fail "curl does not run in the comparison image"
  curl_size=$(docker image ls --format '{{.Size}}' "$prefix-curl")
fi
app_size=$(docker image ls --format '{{.Size}}' "$image")
if command -v docker-compose >/dev/null; then
  docker-compose -f examples/compose.yml config -q || fail "examples/compose.yml does not validate"
  log "examples/compose.yml validates (docker-compose config)"
fi
log "timeline: started 0s -> healthy ${at_healthy}s -> flipped -> unhealthy ${at_unhealthy}s; hanging service unhealthy after ${hang_unhealthy}s"
log "image sizes (docker image ls): scratch + health_server + healthprobe = $app_size; the same plus Debian's curl and its libraries = $curl_size"
log "all assertions passed"
