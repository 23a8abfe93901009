#!/usr/bin/env bash
# Reproducible builds: the binaries in dist/ (from scripts/release.sh) are
# built a second time from a second checkout of the same commit, in another
# directory with a target directory of its own, and their SHA-256 sums must
# be identical to dist/SHA256SUMS's.
#
#   bash scripts/release.sh && bash scripts/reproducible.sh
#   REPRO_TRIPLES="x86_64-unknown-linux-musl" bash scripts/reproducible.sh   (CI: one)
#
# What makes them equal: the commit (HEAD, embedded in --version), the same
# toolchains (rustc, the pinned nightly, zig, musl-tools, lld, mingw-w64:
# printed below), `--locked`, SOURCE_DATE_EPOCH from the commit (release.sh),
# and paths that do not reach the binary (cargo passes the workspace's own
# sources by relative path, std's are /rustc/HASH, and the registry's are the
# same CARGO_HOME for both builds; rebuilding elsewhere needs the same
# CARGO_HOME path or `--remap-path-prefix` of it). The SBOM is left out: it
# carries a random serial number by design. macOS: zig 0.17's Mach-O linker
# draws LC_UUID at random, so the two macOS binaries differ in those 16 bytes
# and nowhere else; they are compared with LC_UUID zeroed, and said so. Refuses a working tree with
# changes to tracked files (dist/ would not be HEAD's). The second checkout
# and its target directory are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

git diff --quiet HEAD -- || fail "tracked files differ from HEAD: commit first (dist/ must be HEAD's build)"
[ -f dist/SHA256SUMS ] || fail "dist/SHA256SUMS is missing: run scripts/release.sh first"
version=$(package_version)
read -r -a triples <<< "${REPRO_TRIPLES:-${release_triples[*]} ${other_triples[*]} ${windows_triples[*]}}"
log "rustc $(rustc -V | cut -d' ' -f2-); $build_std_toolchain; zig $(python3 -m ziglang version 2>/dev/null || echo -); $(musl-gcc --version 2>/dev/null | head -1 || echo no musl-gcc)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --no-local . "$work/second-checkout"
git -C "$work/second-checkout" checkout -q "$(git rev-parse HEAD)"
t0=$(date +%s.%N)
(cd "$work/second-checkout" && CARGO_TARGET_DIR="$work/second-target" RELEASE_TRIPLES="${triples[*]}" \
  bash scripts/release.sh >"$work/release.log" 2>&1) || fail "the second build failed: $(tail -5 "$work/release.log")"
log "second build of ${#triples[@]} target(s) in $work/second-checkout in $(since "$t0") s"
differ=0
for triple in "${triples[@]}"; do
  file="healthprobe-$version-$triple$(exe_suffix "$triple")"
  first=$(awk -v f="$file" '$2 == f { print $1 }' dist/SHA256SUMS)
  second=$(awk -v f="$file" '$2 == f { print $1 }' "$work/second-checkout/dist/SHA256SUMS")
  [ -n "$first" ] || fail "$file is not in dist/SHA256SUMS"
  if [ "$first" = "$second" ]; then
    log "identical: $file $first"
  elif [[ "$triple" == *-apple-darwin ]] && python3 - "dist/$file" "$work/second-checkout/dist/$file" <<'PY'
import struct, sys
def without_uuid(path):
    b = bytearray(open(path, "rb").read())
    magic, _, _, _, ncmds = struct.unpack_from("<IiiII", b, 0)
    assert magic == 0xFEEDFACF, "not a 64-bit Mach-O file"
    off = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", b, off)
        if cmd == 0x1B:  # LC_UUID
            b[off + 8:off + 24] = bytes(16)
        off += size
    return bytes(b)
sys.exit(0 if without_uuid(sys.argv[1]) == without_uuid(sys.argv[2]) else 1)
PY
  then
    log "identical but for LC_UUID (zig's random 16 bytes): $file"
  else
    echo "DIFFERS: $file: dist/ $first, second build $second"
    differ=$((differ + 1))
  fi
done
[ "$differ" = 0 ] || fail "$differ of ${#triples[@]} binaries are not reproducible"
log "all ${#triples[@]} binaries reproduced bit for bit"
