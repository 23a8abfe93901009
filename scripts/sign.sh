#!/usr/bin/env bash
# Signs dist/SHA256SUMS with minisign (dist/SHA256SUMS.minisig), so that one
# signature covers every file SHA256SUMS lists, and verifies the signature
# before saying so.
#
#   MINISIGN_SECRET_KEY="$(cat healthprobe.key)" bash scripts/sign.sh
#
# MINISIGN_SECRET_KEY: the secret key file's contents (the release
# workflow's secret of that name), without a password (`minisign -G -W`).
# The public key is recreated from it (`minisign -R`) into
# dist/healthprobe.pub for the verification; users check against the public
# key published with the project, not this copy:
#
#   minisign -Vm SHA256SUMS -P "$PUBLIC_KEY" && sha256sum -c --ignore-missing SHA256SUMS
#
# The key never reaches argv or stdout: it goes to a 0600 file in a
# temporary directory, removed on exit. Installs minisign (Debian) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

[ -n "${MINISIGN_SECRET_KEY:-}" ] || fail "MINISIGN_SECRET_KEY is empty: give the secret key file's contents"
[ -f dist/SHA256SUMS ] || fail "dist/SHA256SUMS is missing: run scripts/release.sh first"
need_packages minisign=minisign
keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT
(umask 077 && printf '%s\n' "$MINISIGN_SECRET_KEY" > "$keys/secret.key")
minisign -R -s "$keys/secret.key" -p dist/healthprobe.pub >/dev/null \
  || fail "MINISIGN_SECRET_KEY is not a minisign secret key without a password"
version=$(package_version)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# The trusted comment is signed too: it says what was signed.
minisign -S -s "$keys/secret.key" -m dist/SHA256SUMS \
  -t "healthprobe $version, commit $commit, SHA256SUMS of dist/" >/dev/null
minisign -V -q -p dist/healthprobe.pub -m dist/SHA256SUMS || fail "the new signature does not verify"
log "dist/SHA256SUMS signed: dist/SHA256SUMS.minisig, public key $(sed -n 2p dist/healthprobe.pub | cut -c1-16)…"
