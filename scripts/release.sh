#!/usr/bin/env bash
# scripts/release.sh: the release, built into dist/.
#
#   dist/healthprobe-VERSION-TRIPLE         static executables, one per Linux
#                                          target in scripts/lib.sh (eight:
#                                          x86_64, aarch64, i686, armv7,
#                                          armv6, riscv64, ppc64le, s390x),
#                                          and macOS x86_64 and aarch64
#                                          (built and checked, not run here)
#   dist/healthprobe-VERSION-TRIPLE.exe     Windows x86_64 (mingw-w64; run under
#                                          wine64 by scripts/wine-smoke.sh)
#                                          and aarch64 (zig; not run here)
#   dist/healthprobe-VERSION.cdx.json       CycloneDX 1.5 SBOM (cargo-cyclonedx) of
#                                          x86_64's dependency graph
#   dist/healthprobe-VERSION-TRIPLE.cdx.json  the SBOM of each binary whose
#                                          graph differs from it (Windows:
#                                          windows-sys, no nix; aarch64)
#   dist/healthprobe.1, dist/completions/    the man page and the bash, zsh and
#                                          fish completions, generated from
#                                          the clap definition (examples/gen-docs.rs)
#   dist/healthprobe-VERSION-py3-none-*.whl  a wheel per Linux target PyPI has a
#                                          tag for (all but armv6): `pip
#                                          install healthprobe` puts the
#                                          static binary on PATH, on glibc
#                                          and musl systems; no Python code
#   dist/healthprobe_VERSION-1_ARCH.deb     Debian packages, amd64 and arm64
#                                          (cargo-deb): the binary, the man
#                                          page, the completions
#   dist/SHA256SUMS                         `sha256sum -c` format
#
# RELEASE_TRIPLES="T1 T2" builds only those (the default: all).
#
# Each executable carries its dependency list in the format scanners read for
# Rust (cargo-auditable's `.dep-v0` section: Trivy, Grype, Syft, cargo audit
# bin, rust-audit-info). x86_64 is linked by musl-gcc (with lld and the
# link-order.txt layout when ld.lld is there, see build.rs; the list is
# remade from the build by scripts/link-order.sh, and the binary linked
# again when it changed); the others are
# cross-linked by `zig cc` through cargo-zigbuild (ring has C code, so a C
# cross toolchain for musl is needed; zig brings one). armv7, armv6,
# riscv64, ppc64le and s390x have no rustup standard library here: std is
# built from source with the pinned nightly (scripts/lib.sh).
#
# Installs what is missing on a Debian machine (root): musl-tools, lld, file;
# the rustup targets and the pinned nightly with rust-src; cargo-zigbuild and
# ziglang from PyPI; cargo-auditable, cargo-cyclonedx and rust-audit-info
# from crates.io. Honours CARGO_TARGET_DIR. Checks what it made before it
# says so: each file is a static executable for its architecture, names its
# build in --version (run natively or under qemu-user when that is
# installed), embeds the same dependency list as the others, and
# `sha256sum -c` passes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# ---- install ---------------------------------------------------------------
need_packages musl-gcc=musl-tools ld.lld=lld file=file x86_64-w64-mingw32-gcc=gcc-mingw-w64-x86-64
if ! command -v cargo-zigbuild >/dev/null || ! python3 -m ziglang version >/dev/null 2>&1; then
  log "installing cargo-zigbuild and ziglang (PyPI)"
  python3 -m pip install -q cargo-zigbuild ziglang
fi
python3 -m wheel version >/dev/null 2>&1 \
  || { log "installing wheel (PyPI)"; python3 -m pip install -q --root-user-action=ignore wheel; }
for tool in cargo-auditable cargo-cyclonedx rust-audit-info cargo-deb; do
  command -v "$tool" >/dev/null || { log "installing $tool"; cargo install -q --locked "$tool"; }
done

# ---- build -----------------------------------------------------------------
version=$(package_version)
head -1 packaging/debian/changelog | grep -q "^healthprobe ($version-1) " \
  || fail "packaging/debian/changelog does not start with version $version-1 (Cargo.toml's)"
read -r -a triples <<< "${RELEASE_TRIPLES:-${release_triples[*]} ${other_triples[*]} ${windows_triples[*]}}"
tdir=$(target_dir)
mkdir -p dist
rm -rf dist/healthprobe-* dist/healthprobe_* dist/healthprobe.1 dist/completions dist/SHA256SUMS
# A reproducible SBOM timestamp: the commit's.
SOURCE_DATE_EPOCH=$(commit_time)
export SOURCE_DATE_EPOCH
# One cargo invocation per kind of build (scripts/lib.sh build_kind), in
# the order the kinds first appear.
kinds=()
for triple in "${triples[@]}"; do
  kind=$(build_kind "$triple")
  [[ " ${kinds[*]} " == *" $kind "* ]] || kinds+=("$kind")
done
for kind in "${kinds[@]}"; do
  group=()
  for triple in "${triples[@]}"; do
    if [ "$(build_kind "$triple")" = "$kind" ]; then group+=("$triple"); fi
  done
  t0=$(date +%s.%N)
  build_release "${group[@]}"
  # The x86_64 layout from this very build (scripts/link-order.sh): linked
  # again when the list of the functions a probe runs has changed.
  if [ "$kind" = x86_64-unknown-linux-musl ] && command -v ld.lld >/dev/null; then
    order=$(sha256sum link-order.txt)
    bash scripts/link-order.sh
    if [ "$order" != "$(sha256sum link-order.txt)" ]; then
      log "link-order.txt changed (commit it): x86_64 linked again with it"
      build_release "${group[@]}"
    fi
  fi
  for triple in "${group[@]}"; do
    exe=$(exe_suffix "$triple")
    cp "$tdir/$triple/release/healthprobe$exe" "dist/healthprobe-$version-$triple$exe"
  done
  log "built ${group[*]} ($kind) in $(since "$t0") s"
done
log "SBOM"
sbom_dir=$(mktemp -d)
trap 'rm -rf "$sbom_dir"' EXIT
# One SBOM of x86_64's dependency graph, and one more for each target whose
# graph differs from it (Windows: windows-sys instead of nix; aarch64:
# encoding_rs's core_detect), so that every binary's embedded list is in
# the SBOM it ships with (checked below). cargo-cyclonedx writes next to
# Cargo.toml; the files are moved into dist/.
sbom_of() { # TRIPLE NAME
  cargo cyclonedx --quiet --format json --spec-version 1.5 --no-build-deps \
    --target "$1" --override-filename "$2" && mv "$2.json" "$sbom_dir/"
}
components() { python3 -c 'import json, sys; print(sorted((c["name"], c["version"]) for c in json.load(open(sys.argv[1]))["components"]))' "$1"; }
sbom_of x86_64-unknown-linux-musl "healthprobe-$version.cdx"
cp "$sbom_dir/healthprobe-$version.cdx.json" dist/
for triple in "${triples[@]}"; do
  [ "$triple" != x86_64-unknown-linux-musl ] || continue
  sbom_of "$triple" "healthprobe-$version-$triple.cdx"
  if [ "$(components "$sbom_dir/healthprobe-$version-$triple.cdx.json")" != \
       "$(components "dist/healthprobe-$version.cdx.json")" ]; then
    cp "$sbom_dir/healthprobe-$version-$triple.cdx.json" dist/
  fi
done

# ---- packages: man page, completions, wheels, .deb ---------------------------
log "man page and completions (examples/gen-docs.rs)"
cargo run --quiet --example gen-docs -- dist >/dev/null
wheel_dir=$(mktemp -d)
trap 'rm -rf "$sbom_dir" "$wheel_dir"' EXIT
for triple in "${triples[@]}"; do
  platforms=$(wheel_platforms "$triple")
  if [ -n "$platforms" ]; then
    # An unpacked wheel: the binary as a script (pip puts it in the
    # environment's bin/), METADATA and WHEEL; pypa's `wheel pack` writes
    # RECORD and names the file from WHEEL's tags.
    root="$wheel_dir/$triple/healthprobe-$version"
    mkdir -p "$root/healthprobe-$version.data/scripts" "$root/healthprobe-$version.dist-info"
    install -m 755 "dist/healthprobe-$version-$triple" "$root/healthprobe-$version.data/scripts/healthprobe"
    printf '%s\n' "Metadata-Version: 2.1" "Name: healthprobe" "Version: $version" \
      "Summary: $(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["packages"][0]["description"])')" \
      "License: MIT" "Requires-Python: >=3.7" > "$root/healthprobe-$version.dist-info/METADATA"
    {
      printf '%s\n' "Wheel-Version: 1.0" "Generator: healthprobe scripts/release.sh" "Root-Is-Purelib: false"
      for platform in ${platforms//./ }; do echo "Tag: py3-none-$platform"; done
    } > "$root/healthprobe-$version.dist-info/WHEEL"
    python3 -m wheel pack "$root" -d dist >/dev/null
  fi
  arch=$(deb_arch "$triple")
  if [ -n "$arch" ]; then
    # The binary built and checked above, not a new build.
    cargo deb --quiet --no-build --no-strip --target "$triple" --output "dist/healthprobe_${version}-1_$arch.deb" >/dev/null
  fi
done
(cd dist && shopt -s nullglob && sha256sum "healthprobe-$version-"* "healthprobe-$version.cdx.json" \
  healthprobe_*.deb healthprobe.1 completions/* > SHA256SUMS)

# ---- check -----------------------------------------------------------------
declare -A arch=(
  [x86_64-unknown-linux-musl]="x86-64" [aarch64-unknown-linux-musl]="ARM aarch64"
  [i686-unknown-linux-musl]="Intel 80386" [armv7-unknown-linux-musleabihf]="32-bit LSB executable, ARM"
  [arm-unknown-linux-musleabihf]="32-bit LSB executable, ARM" [riscv64gc-unknown-linux-musl]="RISC-V"
  [powerpc64le-unknown-linux-musl]="64-bit PowerPC" [s390x-unknown-linux-musl]="IBM S/390"
  [x86_64-apple-darwin]="Mach-O 64-bit x86_64 executable" [aarch64-apple-darwin]="Mach-O 64-bit arm64 executable"
  [x86_64-pc-windows-gnu]="PE32+ executable (console) x86-64" [aarch64-pc-windows-gnullvm]="PE32+ executable (console) Aarch64"
)
native=$(rustc -vV | sed -n 's/^host: //p')
commit=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
for triple in "${triples[@]}"; do
  bin="dist/healthprobe-$version-$triple$(exe_suffix "$triple")"
  kind=$(file -b "$bin")
  case "$triple:$kind" in
    *-apple-darwin:*"${arch[$triple]}"*) ;;
    x86_64-pc-windows-gnu:*"${arch[$triple]}"*) kind="$kind, $(self_contained "$bin")" ;;
    *-windows-*:*"${arch[$triple]}"*) ;;
    *-linux-*:*"${arch[$triple]}"*"statically linked"*) ;;
    *) fail "$bin is not a static ${arch[$triple]} executable: $kind" ;;
  esac
  rust-audit-info "$bin" > "$sbom_dir/$triple.deps.json" || fail "$bin has no embedded dependency list"
  packages=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["packages"]))' "$sbom_dir/$triple.deps.json")
  log "$bin: $(stat -c %s "$bin") bytes, $kind; $packages packages embedded"
  # macOS and Windows: not run here (the x86_64 .exe runs under wine in
  # scripts/wine-smoke.sh, which checks its --version).
  case "$triple" in *-apple-* | *-windows-*) continue ;; esac
  runner=""
  [ "${native%%-*}" = "${triple%%-*}" ] || runner=$(qemu_of "$triple")
  if [ -z "$runner" ] || command -v "${runner%% *}" >/dev/null; then
    # shellcheck disable=SC2086 # the runner is a command and its options
    $runner "$bin" --version | grep -qx "healthprobe $version ($triple, tls, grpc, $commit)" \
      || fail "$bin --version: $($runner "$bin" --version)"
  fi
done
python3 - "$sbom_dir" "dist/healthprobe-$version" "${triples[@]}" <<'PY' || fail "dependency lists disagree"
import json, sys
d, stem, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
def embedded(t):
    return {(p["name"], p["version"]) for p in json.load(open(f"{d}/{t}.deps.json"))["packages"]
            if p.get("kind") != "build"}
def sbom(path):
    bom = json.load(open(path))
    root = bom["metadata"]["component"]
    return {(c["name"], c["version"]) for c in bom["components"]} | {(root["name"], root["version"])}
# Each binary's embedded list is in its own SBOM when it has one, in the
# shared SBOM otherwise.
import os
shared = 0
for t in targets:
    own = f"{stem}-{t}.cdx.json"
    missing = embedded(t) - sbom(own if os.path.exists(own) else f"{stem}.cdx.json")
    assert not missing, f"{t}: in the binary but not in its SBOM: {sorted(missing)}"
    if os.path.exists(own):
        print(f"release: {t}: {len(embedded(t))} runtime packages embedded, all in its own SBOM")
    else:
        shared += 1
print(f"release: {shared} binaries' runtime packages all in healthprobe-*.cdx.json")
PY
(cd dist && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c"
log "dist/ ($version):"
(cd dist && ls -l "healthprobe-$version"* SHA256SUMS | awk '{print "  " $5 "  " $9}')
