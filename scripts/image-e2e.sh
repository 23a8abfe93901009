#!/usr/bin/env bash
# scripts/image-e2e.sh: the multi-arch image, published and consumed as a
# user would, against real parts on this machine and nothing from outside.
#
#  1. Debian's docker-registry on a free 127.0.0.1 port (storage in a temp
#     dir, stopped at the end);
#  2. the root Dockerfile built for each of the eight Linux platforms
#     (linux/amd64, arm64, 386, arm/v7, arm/v6, riscv64, ppc64le, s390x) from
#     the dist/ binaries (scripts/release.sh, run first unless dist/ is
#     current), each pushed; one manifest list
#     127.0.0.1:PORT/healthprobe:VERSION made and pushed with `docker
#     manifest` (skopeo reads it back: every platform);
#  3. as a consumer: each platform pulled from the registry (the local tags
#     removed first), its architecture checked in `docker image inspect`,
#     /healthprobe extracted and compared with dist/SHA256SUMS, the OCI
#     labels read;
#  4. a consumer image, `FROM scratch` + the example service +
#     `COPY --from=127.0.0.1:PORT/healthprobe:VERSION /healthprobe
#     /healthprobe`, run under the engine until Docker calls it healthy.
#
# Engine: scripts/docker-lib.sh (REQUIRE_DOCKER=1 makes a missing engine a
# failure). Everything it creates (containers, images, the registry, the
# client's manifest lists) is removed at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/docker-lib.sh

registry_pid=""
port=""
cleanup_more() {
  if [ -n "$port" ]; then
    docker image ls --format '{{.Repository}}:{{.Tag}}' \
      | grep -E "^127\.0\.0\.1:$port/" | xargs -r docker rmi -f >/dev/null 2>&1
  fi
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; fi
}
docker_prologue healthprobe-image-e2e
# The client's manifest lists live in its config dir: a throwaway one.
export DOCKER_CONFIG="$work/docker-config"
mkdir -p "$DOCKER_CONFIG"

need_packages docker-registry=docker-registry skopeo=skopeo
version=$(package_version)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
absent=""
for triple in "${release_triples[@]}"; do
  [ -f "dist/healthprobe-$version-$triple" ] || absent=$triple
done
if ! (cd dist 2>/dev/null && sha256sum -c --quiet SHA256SUMS 2>/dev/null) \
   || [ -n "$absent" ] \
   || ! "dist/healthprobe-$version-x86_64-unknown-linux-musl" --version | grep -q "${revision:0:7}"; then
  bash scripts/release.sh
fi

# ---- 1. the registry ----------------------------------------------------------
port=$(free_port)
cat > "$work/registry.yml" <<YML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $work/registry }
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$port/v2/" 2>/dev/null && break
  sleep 0.1
done
kill -0 "$registry_pid" 2>/dev/null || { cat "$work/registry.log" >&2; fail "the registry did not start"; }
repo="127.0.0.1:$port/healthprobe"
log "registry $(docker-registry --version 2>/dev/null | awk '{print $NF}') on 127.0.0.1:$port"

# ---- 2. build, push, manifest list -----------------------------------------------
# One build context per platform, holding that platform's release binary
# as `healthprobe` (see the Dockerfile).
# One image per Linux release target, named by its platform (arm/v7 →
# arm-v7), joined into one manifest list.
declare -A triple_of=()
platforms=()
for triple in "${release_triples[@]}"; do
  platform=$(platform_of "$triple")
  platforms+=("$platform")
  triple_of[$platform]=$triple
done
images=()
for platform in "${platforms[@]}"; do
  tag=$(echo "${platform#linux/}" | tr / -)
  ctx="$work/ctx-$tag"
  mkdir -p "$ctx"
  cp "dist/healthprobe-$version-${triple_of[$platform]}" "$ctx/healthprobe"
  docker build -q --platform "$platform" -f Dockerfile \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
    -t "$repo:$version-$tag" "$ctx" >/dev/null 2>"$work/build-$tag.log" \
    || { cat "$work/build-$tag.log" >&2; fail "docker build $platform"; }
  docker push -q "$repo:$version-$tag" >/dev/null || fail "docker push $platform"
  images+=("$repo:$version-$tag")
done
log "built and pushed ${#images[@]} images: ${platforms[*]}"
docker manifest create --insecure "$repo:$version" "${images[@]}" >/dev/null \
  || fail "docker manifest create"
docker manifest push --insecure --purge "$repo:$version" >/dev/null || fail "docker manifest push"
skopeo inspect --raw --tls-verify=false "docker://$repo:$version" > "$work/index.json" || fail "skopeo inspect"
python3 - "$work/index.json" "${platforms[@]}" <<'PY' || fail "the manifest list"
import json, sys
index, want = json.load(open(sys.argv[1])), sorted(sys.argv[2:])
assert index["mediaType"].endswith("manifest.list.v2+json") or index["mediaType"].endswith("image.index.v1+json"), index["mediaType"]
def name(p):
    return f'{p["os"]}/{p["architecture"]}' + (f'/{p["variant"]}' if p.get("variant") else "")
platforms = sorted(name(m["platform"]) for m in index["manifests"])
assert platforms == want, (platforms, want)
print(f"image-e2e: manifest list pushed, read back by skopeo: {', '.join(platforms)}")
PY

docker rmi -f "${images[@]}" >/dev/null
for platform in "${platforms[@]}"; do
  tag=$(echo "${platform#linux/}" | tr / -)
  docker rmi -f "$repo:$version" >/dev/null 2>&1 || true
  docker pull -q --platform "$platform" "$repo:$version" >/dev/null || fail "docker pull $platform"
  got=$(docker image inspect --format '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}' "$repo:$version")
  [ "$got" = "$platform" ] || fail "pulled $platform, the image says $got"
  labels=$(docker image inspect --format '{{json .Config.Labels}}' "$repo:$version")
  entry=$(docker image inspect --format '{{json .Config.Entrypoint}}' "$repo:$version")
  python3 - "$labels" "$entry" "$version" "$revision" <<'PY' || fail "labels or entrypoint of $platform"
import json, sys
labels, entry, version, revision = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
for key in ("source", "version", "revision", "licenses", "description"):
    assert labels.get(f"org.opencontainers.image.{key}"), key
assert labels["org.opencontainers.image.version"] == version
assert labels["org.opencontainers.image.revision"] == revision
assert entry == ["/healthprobe"], entry
PY
  cid=$(docker create --platform "$platform" --name "$prefix-$tag" "$repo:$version")
  docker export "$cid" | tar -t > "$work/files-$tag"
  [ "$(grep -v '^\.dockerenv$\|/$\|^dev/\|^proc/\|^sys/\|^etc/' "$work/files-$tag")" = "healthprobe" ] \
    || fail "$platform holds more than /healthprobe: $(tr '\n' ' ' < "$work/files-$tag")"
  docker cp "$cid:/healthprobe" "$work/healthprobe-$tag"
  docker rm -f "$cid" >/dev/null
  want=$(awk -v f="healthprobe-$version-${triple_of[$platform]}" '$2 == f {print $1}' dist/SHA256SUMS)
  have=$(sha256sum "$work/healthprobe-$tag" | cut -d' ' -f1)
  [ -n "$want" ] && [ "$want" = "$have" ] || fail "$platform /healthprobe is $have, SHA256SUMS says $want"
  log "pulled $platform: the image says $got, /healthprobe sha256 ${have:0:16}… matches SHA256SUMS, labels and ENTRYPOINT ok"
done
docker rmi -f "$repo:$version" >/dev/null

# ---- 4. a consumer image: COPY --from the published tag ------------------------------
host_triple=x86_64-unknown-linux-musl
cargo build --quiet --release --target "$host_triple" --example health_server
ctx="$work/consumer"
mkdir -p "$ctx"
cp "$(target_dir)/$host_triple/release/examples/health_server" "$ctx/health_server"
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY --from=$repo:$version /healthprobe /healthprobe
COPY health_server /health_server
ENV BIND=127.0.0.1 PORT=8000 LOAD_DELAY=1
ENV HEALTHPROBE_URL=/health HEALTHPROBE_TIMEOUT=2s HEALTHPROBE_EXPECT_JSON=/status=ok
HEALTHCHECK --interval=1s --timeout=3s --start-period=30s --retries=2 CMD ["/healthprobe"]
ENTRYPOINT ["/health_server"]
DOCKERFILE
docker_build "$prefix-consumer" "$ctx"
docker run -d --network none --name "$prefix-consumer" "$prefix-consumer" >/dev/null
took=$(docker_wait_health "$prefix-consumer" healthy 20) \
  || fail "the consumer never became healthy: $(docker inspect --format '{{json .State.Health}}' "$prefix-consumer")"
out=$(docker inspect --format '{{(index .State.Health.Log 0).Output}}' "$prefix-consumer")
case "$out" in
  "healthy: GET http://127.0.0.1:8000/health -> 200 OK in "*|"unhealthy: GET http://127.0.0.1:8000/health -> 503"*) ;;
  *) fail "the consumer's probe said: $out" ;;
esac
docker cp "$prefix-consumer:/healthprobe" "$work/consumer-healthprobe"
cmp -s "$work/consumer-healthprobe" "$work/healthprobe-amd64" || fail "the consumer's /healthprobe is not the amd64 release binary"
last=$(docker inspect --format '{{json .State.Health}}' "$prefix-consumer" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["Log"][-1]["Output"].strip())')
log "consumer image (FROM scratch + COPY --from=$repo:$version) healthy ${took}s after start; its probe: $last"
log "image size (docker image ls): $(docker image ls --format '{{.Size}}' "$prefix-consumer") consumer; all assertions passed"
