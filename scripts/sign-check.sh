#!/usr/bin/env bash
# CI's check of the release signature (scripts/sign.sh) with a throwaway
# key made here: the signature of dist/SHA256SUMS verifies; a copy of
# SHA256SUMS with one changed byte does not; a release file with one changed
# byte fails `sha256sum -c`. Needs dist/ from scripts/release.sh. The key,
# the copies and dist/'s signature files are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

need_packages minisign=minisign
[ -f dist/SHA256SUMS ] || fail "dist/SHA256SUMS is missing: run scripts/release.sh first"
work=$(mktemp -d)
trap 'rm -rf "$work" dist/SHA256SUMS.minisig dist/healthprobe.pub' EXIT
minisign -G -W -p "$work/throwaway.pub" -s "$work/throwaway.key" >/dev/null
MINISIGN_SECRET_KEY="$(cat "$work/throwaway.key")" bash scripts/sign.sh
cmp -s dist/healthprobe.pub "$work/throwaway.pub" || fail "sign.sh recreated a different public key"
minisign -V -p "$work/throwaway.pub" -m dist/SHA256SUMS >/dev/null || fail "the signature does not verify"
log "the signature verifies with the throwaway public key"

# flip FILE OFFSET: changes the byte at OFFSET (its lowest bit).
flip() {
  python3 - "$1" "$2" <<'PY'
import sys
path, offset = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, "rb").read())
b[offset] ^= 0x01
open(path, "wb").write(bytes(b))
PY
}

# One changed byte in SHA256SUMS (the first checksum's first digit).
cp dist/SHA256SUMS dist/SHA256SUMS.minisig "$work/"
flip "$work/SHA256SUMS" 0
if minisign -V -q -p "$work/throwaway.pub" -m "$work/SHA256SUMS" -x "$work/SHA256SUMS.minisig" 2>/dev/null; then
  fail "a SHA256SUMS with one changed byte verified"
fi
log "a SHA256SUMS with one changed byte fails verification"

# One changed byte in a release file: its checksum no longer matches.
file=$(awk 'NR == 1 { print $2 }' dist/SHA256SUMS)
mkdir "$work/dist"
cp dist/SHA256SUMS "dist/$file" "$work/dist/"
flip "$work/dist/$file" 100
if (cd "$work/dist" && sha256sum -c --quiet --ignore-missing SHA256SUMS 2>/dev/null); then
  fail "$file with one changed byte passed sha256sum -c"
fi
log "$file with one changed byte fails sha256sum -c"
