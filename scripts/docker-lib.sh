# shellcheck shell=bash
# Sourced by the Docker scripts (docker-e2e, image-e2e, swarm-e2e,
# compose-e2e, supervise-e2e) and by .ci/run: one engine, one prologue.
#
#   docker_prologue NAME      what every Docker script starts with: $work (a
#                             temporary directory), $prefix (NAME-PID: every
#                             container and image the script makes is named
#                             with it), an engine (docker_engine_up), and a
#                             trap on EXIT (docker_epilogue) that, also on
#                             failure, runs the script's own `cleanup_more`
#                             when it defines one, removes every container
#                             and image named $prefix*, stops an engine it
#                             started and removes $work.
#   docker_engine_up LOG      uses an engine that answers (.ci/run starts one
#                             for all its Docker steps); else starts dockerd
#                             (installing docker.io if missing, as root, when
#                             REQUIRE_DOCKER=1), its log in LOG. Without
#                             REQUIRE_DOCKER=1 a missing engine is reported in
#                             one line and the script exits 0.
#   docker_engine_down        stops the dockerd that docker_engine_up started,
#                             and nothing else.
#   docker_context DIR        DIR with the host-built static binaries an
#                             image is made of: healthprobe (native_release,
#                             or HEALTHPROBE_E2E_PROBE=PATH to see the tests
#                             fail with a probe that always exits 0) and the
#                             example service, health_server.
#   docker_example_image NAME DIR
#                             builds NAME from the final stage of
#                             Dockerfile.example (ENV, HEALTHCHECK, ENTRYPOINT
#                             verbatim; COPY --from=builder becomes a COPY of
#                             docker_context's binaries, since no image can
#                             be pulled), its context in DIR.
#   docker_build NAME DIR     docker build -q -t NAME DIR, its log shown on
#                             failure.
#   docker_wait_health C STATUS SECONDS
#                             polls a container's health (see below).
# The caller sources scripts/lib.sh first (log and fail).

started_dockerd=""

docker_no_engine() {
  if [ "${REQUIRE_DOCKER:-0}" = 1 ]; then fail "no Docker engine: $*"; fi
  log "skipped: no Docker engine ($*)"
  exit 0
}

docker_engine_up() {
  local dlog=$1
  if docker_answers; then
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

docker_context() {
  local ctx=$1 triple=x86_64-unknown-linux-musl probe
  probe=$(native_release)
  mkdir -p "$ctx"
  cp "${HEALTHPROBE_E2E_PROBE:-$probe}" "$ctx/healthprobe"
  # Apart, as Dockerfile.example builds them: together, the example's
  # dev-dependencies would unify features into healthprobe.
  cargo build --quiet --release --target "$triple" --example health_server
  cp "$(target_dir)/$triple/release/examples/health_server" "$ctx/health_server"
}

docker_build() {
  docker build -q -t "$1" "$2" >/dev/null 2>"$2.build.log" || { cat "$2.build.log" >&2; fail "docker build $1"; }
}

docker_example_image() {
  local name=$1 ctx=$2
  docker_context "$ctx"
  awk '
    /^FROM scratch/ { final = 1 }
    /^# ---- the same probe/ { final = 0 }
    final && /^COPY --from=builder / { print "COPY " substr($3, 2) " " $4; next }
    final { print }
  ' Dockerfile.example > "$ctx/Dockerfile"
  [ "$(grep '^HEALTHCHECK' "$ctx/Dockerfile")" = "$(grep '^HEALTHCHECK' Dockerfile.example)" ] \
    || fail "HEALTHCHECK line differs from Dockerfile.example"
  docker_build "$name" "$ctx"
}

docker_answers() {
  command -v docker >/dev/null && docker info >/dev/null 2>&1
}

docker_prologue() {
  prefix="$1-$$"
  work=$(mktemp -d)
  trap docker_epilogue EXIT
  docker_engine_up "$work/dockerd.log"
}

docker_epilogue() {
  set +e
  if declare -F cleanup_more >/dev/null; then cleanup_more; fi
  if docker_answers; then
    docker ps -aq --filter "name=$prefix" | xargs -r docker rm -f >/dev/null 2>&1
    docker image ls --format '{{.Repository}}:{{.Tag}}' | grep "^$prefix" | xargs -r docker rmi -f >/dev/null 2>&1
  fi
  docker_engine_down
  rm -rf "$work"
}
