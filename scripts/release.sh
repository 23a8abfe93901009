#!/usr/bin/env bash
# scripts/release.sh: the release, built into dist/.
#
#   dist/healthprobe-VERSION-x86_64-unknown-linux-musl    static executables,
#   dist/healthprobe-VERSION-aarch64-unknown-linux-musl   VERSION from Cargo.toml
#   dist/healthprobe-VERSION.cdx.json                     CycloneDX 1.5 SBOM (cargo-cyclonedx)
#   dist/SHA256SUMS                                       `sha256sum -c` format
#
# Each executable carries its dependency list in the format scanners read for
# Rust (cargo-auditable's `.dep-v0` section: Trivy, Grype, Syft, cargo audit
# bin, rust-audit-info). x86_64 is linked by musl-gcc (with lld and the
# link-order.txt layout when ld.lld is there, see build.rs); arm64 is
# cross-linked by `zig cc` through cargo-zigbuild (ring has C code, so a C
# cross toolchain for musl is needed; zig brings one). arm/v7 is left out:
# rustup's armv7-unknown-linux-musleabihf standard library cannot be
# downloaded on the machines this is built and tested on.
#
# Installs what is missing on a Debian machine (root): musl-tools, lld, file;
# the rustup targets; cargo-zigbuild and ziglang from PyPI; cargo-auditable,
# cargo-cyclonedx and rust-audit-info from crates.io. Honours
# CARGO_TARGET_DIR. Checks what it made before it says so: each file is a
# static executable for its architecture, names its build in --version (the
# native one), embeds the same dependency list as the other, and
# `sha256sum -c` passes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# ---- install ---------------------------------------------------------------
need_packages musl-gcc=musl-tools ld.lld=lld file=file
rustup_targets "${release_triples[@]}"
if ! command -v cargo-zigbuild >/dev/null || ! python3 -m ziglang version >/dev/null 2>&1; then
  log "installing cargo-zigbuild and ziglang (PyPI)"
  python3 -m pip install -q cargo-zigbuild ziglang
fi
for tool in cargo-auditable cargo-cyclonedx rust-audit-info; do
  command -v "$tool" >/dev/null || { log "installing $tool"; cargo install -q --locked "$tool"; }
done

# ---- build -----------------------------------------------------------------
version=$(package_version)
triples=("${release_triples[@]}")
tdir=$(target_dir)
mkdir -p dist
rm -f dist/healthprobe-* dist/SHA256SUMS
# A reproducible SBOM timestamp: the commit's.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH
for triple in "${triples[@]}"; do
  log "building $triple"
  case "$triple" in
    x86_64-*) cargo auditable build --quiet --release --locked --target "$triple" --bin healthprobe ;;
    # `cargo auditable` would pass its own cargo on in CARGO; calling the
    # binary directly lets it run cargo-zigbuild instead (cargo-auditable
    # 0.7.3 and later).
    *) CARGO=cargo-zigbuild cargo-auditable auditable build --quiet --release --locked --target "$triple" --bin healthprobe ;;
  esac
  cp "$tdir/$triple/release/healthprobe" "dist/healthprobe-$version-$triple"
done
log "SBOM"
sbom_dir=$(mktemp -d)
trap 'rm -rf "$sbom_dir"' EXIT
# The dependency graph is the same for both targets (checked below against
# the lists embedded in the binaries). cargo-cyclonedx writes next to
# Cargo.toml; the file is moved into dist/.
cargo cyclonedx --quiet --format json --spec-version 1.5 --no-build-deps \
  --target x86_64-unknown-linux-musl --override-filename "healthprobe-$version.cdx"
mv "healthprobe-$version.cdx.json" "dist/healthprobe-$version.cdx.json"
(cd dist && sha256sum "healthprobe-$version-"* "healthprobe-$version.cdx.json" > SHA256SUMS)

# ---- check -----------------------------------------------------------------
declare -A arch=([x86_64-unknown-linux-musl]="x86-64" [aarch64-unknown-linux-musl]="ARM aarch64")
native=$(rustc -vV | sed -n 's/^host: //p')
for triple in "${triples[@]}"; do
  bin="dist/healthprobe-$version-$triple"
  kind=$(file -b "$bin")
  case "$kind" in
    *"${arch[$triple]}"*"statically linked"*) ;;
    *) fail "$bin is not a static ${arch[$triple]} executable: $kind" ;;
  esac
  rust-audit-info "$bin" > "$sbom_dir/$triple.deps.json" || fail "$bin has no embedded dependency list"
  packages=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["packages"]))' "$sbom_dir/$triple.deps.json")
  log "$bin: $(stat -c %s "$bin") bytes, $kind; $packages packages embedded"
  if [ "${native%%-*}" = "${triple%%-*}" ]; then
    "$bin" --version | grep -qx "healthprobe $version ($triple, tls, grpc, $(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown))" \
      || fail "$bin --version: $("$bin" --version)"
  fi
done
python3 - "$sbom_dir" "dist/healthprobe-$version.cdx.json" "${triples[@]}" <<'PY' || fail "dependency lists disagree"
import json, sys
d, sbom, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
lists = [{(p["name"], p["version"]) for p in json.load(open(f"{d}/{t}.deps.json"))["packages"]
          if p.get("kind") != "build"} for t in targets]
assert lists[0] == lists[1], lists[0] ^ lists[1]
bom = json.load(open(sbom))
in_sbom = {(c["name"], c["version"]) for c in bom["components"]}
root = bom["metadata"]["component"]
in_sbom.add((root["name"], root["version"]))
missing = lists[0] - in_sbom
assert not missing, f"in the binaries but not in the SBOM: {sorted(missing)}"
print(f"release: {len(lists[0])} runtime packages embedded in both binaries, all in the SBOM ({len(bom['components'])} components)")
PY
(cd dist && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c"
log "dist/ ($version):"
(cd dist && ls -l "healthprobe-$version"* SHA256SUMS | awk '{print "  " $5 "  " $9}')
