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
# carries a random serial number by design. The macOS binaries are compared
# whole too: zig's LC_UUID is a hash of the linked file, not a random draw
# (two aarch64 builds in two directories were identical, UUID and ad-hoc
# signature included). Refuses a working tree with
# changes to tracked files (dist/ would not be HEAD's). The second checkout
# is removed on exit; so is its target directory, unless REPRO_TARGET_DIR
# names one to keep (.ci/run keeps one between runs, so that the second
# build compiles the dependencies once, not on every run: the build of
# healthprobe itself and its links are redone every time).
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
second_target=${REPRO_TARGET_DIR:-$work/second-target}
t0=$(date +%s.%N)
(cd "$work/second-checkout" && CARGO_TARGET_DIR="$second_target" RELEASE_TRIPLES="${triples[*]}" \
  bash scripts/release.sh >"$work/release.log" 2>&1) || fail "the second build failed: $(tail -5 "$work/release.log")"
log "second build of ${#triples[@]} target(s) in $work/second-checkout in $(since "$t0") s"
# explain A B: where two binaries differ, so that a difference explains
# itself: diffoscope's report when it is installed, else how many bytes
# differ and the first of them (offset, then the octal bytes of A and B, as
# `cmp -l` gives them) with the section each offset falls in.
explain() {
  if command -v diffoscope >/dev/null; then
    diffoscope --text - "$1" "$2" | head -60 || true
    return
  fi
  local n
  n=$(cmp -l "$1" "$2" 2>/dev/null | wc -l || true)
  echo "  $n bytes differ ($(stat -c %s "$1") and $(stat -c %s "$2") bytes long); the first:"
  cmp -l "$1" "$2" 2>/dev/null | head -16 | while read -r offset a b; do
    echo "    offset $offset: $a $b  $(section_of "$1" "$offset")"
  done
}
# section_of FILE OFFSET: the ELF section or Mach-O segment/section holding
# the 1-based byte OFFSET of FILE (what `cmp -l` prints), or nothing.
section_of() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null || true
import struct, sys
path, off = sys.argv[1], int(sys.argv[2]) - 1
b = open(path, "rb").read()
found = []
print = found.append
if b[:4] == b"\x7fELF" and b[4] == 2:
    end = "<" if b[5] == 1 else ">"
    shoff, = struct.unpack_from(end + "Q", b, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", b, 0x3A)
    def sh(i):
        return struct.unpack_from(end + "IIQQQQ", b, shoff + i * shentsize)
    names = sh(shstrndx)[4]
    phoff, = struct.unpack_from(end + "Q", b, 0x20)
    phentsize, phnum = struct.unpack_from(end + "HH", b, 0x36)
    if off < 64:
        print("ELF header")
    elif phoff <= off < phoff + phentsize * phnum:
        print("program headers")
    elif off >= shoff:
        print("section headers")
    for i in range(shnum):
        name, kind, _, _, o, size = sh(i)
        if kind != 8 and o <= off < o + size:
            print(b[names + name:b.index(b"\0", names + name)].decode())
elif b[:4] == b"\xcf\xfa\xed\xfe":
    ncmds, = struct.unpack_from("<I", b, 16)
    if off < 32:
        print("Mach-O header")
    p = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", b, p)
        if cmd == 0x19:  # LC_SEGMENT_64
            seg = b[p + 8:p + 24].rstrip(b"\0").decode()
            fileoff, filesize = struct.unpack_from("<QQ", b, p + 40)
            nsects, = struct.unpack_from("<I", b, p + 64)
            if fileoff <= off < fileoff + filesize:
                where = seg
                for k in range(nsects):
                    q = p + 72 + k * 80
                    sect = b[q:q + 16].rstrip(b"\0").decode()
                    ssize, = struct.unpack_from("<Q", b, q + 40)
                    o, = struct.unpack_from("<I", b, q + 48)
                    if o <= off < o + ssize:
                        where = f"{seg},{sect}"
                print(where)
        elif cmd == 0x1D:  # LC_CODE_SIGNATURE
            dataoff, datasize = struct.unpack_from("<II", b, p + 8)
            if dataoff <= off < dataoff + datasize:
                print("code signature")
        if p <= off < p + size:
            print(f"load command 0x{cmd:x}")
        p += size
sys.stdout.write(", ".join(found) + "\n")
PY
}
differ=0
for triple in "${triples[@]}"; do
  file="healthprobe-$version-$triple$(exe_suffix "$triple")"
  first=$(awk -v f="$file" '$2 == f { print $1 }' dist/SHA256SUMS)
  second=$(awk -v f="$file" '$2 == f { print $1 }' "$work/second-checkout/dist/SHA256SUMS")
  [ -n "$first" ] || fail "$file is not in dist/SHA256SUMS"
  if [ "$first" = "$second" ]; then
    log "identical: $file $first"
  else
    echo "DIFFERS: $file: dist/ $first, second build $second"
    explain "dist/$file" "$work/second-checkout/dist/$file"
    differ=$((differ + 1))
  fi
done
[ "$differ" = 0 ] || fail "$differ of ${#triples[@]} binaries are not reproducible"
log "all ${#triples[@]} binaries reproduced bit for bit"
