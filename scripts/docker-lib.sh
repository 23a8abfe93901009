# Sourced by docker-e2e.sh and image-e2e.sh: a Docker engine to test against.
#
#   docker_engine_up LOG      uses an engine that answers; else starts dockerd
#                             (installing docker.io if missing, as root, when
#                             REQUIRE_DOCKER=1), its log in LOG. Without
#                             REQUIRE_DOCKER=1 a missing engine is reported in
#                             one line and the script exits 0.
#   docker_engine_down        stops the dockerd that docker_engine_up started,
#                             and nothing else.
# The caller defines log and fail (one line each, fail exits 1).

started_dockerd=""

docker_no_engine() {
  if [ "${REQUIRE_DOCKER:-0}" = 1 ]; then fail "no Docker engine: $*"; fi
  log "skipped: no Docker engine ($*)"
  exit 0
}

docker_engine_up() {
  local dlog=$1
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    log "engine $(docker version --format '{{.Server.Version}}')"
    return 0
  fi
  if ! command -v dockerd >/dev/null; then
    if [ "$(id -u)" = 0 ] && [ "${REQUIRE_DOCKER:-0}" = 1 ] && command -v apt-get >/dev/null; then
      log "installing docker.io"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    else
      docker_no_engine "dockerd is not installed (apt-get install docker.io)"
    fi
  fi
  [ "$(id -u)" = 0 ] || docker_no_engine "not root, cannot start dockerd"
  log "starting dockerd"
  dockerd >"$dlog" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { tail -5 "$dlog" >&2; docker_no_engine "dockerd did not start"; }
  log "engine $(docker version --format '{{.Server.Version}}')"
}

docker_engine_down() {
  [ -n "$started_dockerd" ] || return 0
  kill "$started_dockerd" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.2; done
  log "stopped the dockerd it started"
  started_dockerd=""
}

# docker_wait_health CONTAINER STATUS SECONDS: polls every 0.2 s until the
# container's health is STATUS; prints the seconds taken; fails after SECONDS.
docker_wait_health() {
  local c=$1 want=$2 limit=$3 t0
  t0=$(date +%s.%N)
  while :; do
    [ "$(docker inspect --format '{{.State.Health.Status}}' "$c")" = "$want" ] && {
      python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$(date +%s.%N)" "$t0"
      return 0
    }
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) - float(sys.argv[2]) < float(sys.argv[3]) else 1)" \
      "$(date +%s.%N)" "$t0" "$limit" || return 1
    sleep 0.2
  done
}
