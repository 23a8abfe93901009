#!/usr/bin/env bash
# scripts/audit.sh: the dependency audit, `cargo deny check` with deny.toml
# (licenses, bans, sources, advisories).
#
#   bash scripts/audit.sh
#       advisories from the RustSec snapshot in ../shared/rustsec
#       (advisory-db.tar.gz, its commit and date in COMMIT), unpacked to a
#       temporary directory, nothing fetched (what .ci/run does: CI has no
#       route to GitHub)
#   HEALTHPROBE_ADVISORY_DB=live bash scripts/audit.sh
#       the live database, fetched by cargo-deny (the release workflow)
#
# Before trusting the snapshot it proves it is read: a canary crate that
# depends on smallvec 1.6.0 (RUSTSEC-2021-0003) must fail the advisories
# check. Installs cargo-deny from crates.io when missing. Everything it
# unpacks is removed at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

deny_version=0.20.2
if ! command -v cargo-deny >/dev/null; then
  log "installing cargo-deny $deny_version (crates.io)"
  cargo install -q --locked cargo-deny --version "$deny_version"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${HEALTHPROBE_ADVISORY_DB:-snapshot}" = live ]; then
  log "$(cargo-deny --version), the live RustSec database"
  cargo deny check
  exit 0
fi

snapshot=${HEALTHPROBE_ADVISORY_SNAPSHOT:-../shared/rustsec}
[ -f "$snapshot/advisory-db.tar.gz" ] || fail "no RustSec snapshot at $snapshot/advisory-db.tar.gz"
read -r commit date < "$snapshot/COMMIT"
# cargo-deny looks for the database of its default URL in this directory of
# db-path (its name for https://github.com/RustSec/advisory-db), as a git
# checkout: the snapshot becomes one commit dated as the snapshot.
db="$work/dbs/advisory-db-3157b0e258782691"
mkdir -p "$work/dbs"
tar -xzf "$snapshot/advisory-db.tar.gz" -C "$work"
mv "$work/advisory-db" "$db"
(
  cd "$db"
  git init -q
  git add -A
  GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
    git -c user.name=snapshot -c user.email=snapshot@localhost commit -q -m "RustSec advisory-db $commit ($date)"
)
advisories=$(find "$db/crates" -name 'RUSTSEC-*.md' | wc -l)
log "$(cargo-deny --version), RustSec snapshot ${commit:0:7} of $date ($advisories advisories)"
export HEALTHPROBE_ADVISORY_DBS="$work/dbs"

# The canary: the snapshot is read, or this check means nothing.
canary="$work/canary"
mkdir -p "$canary/src"
cat > "$canary/Cargo.toml" <<'TOML'
[package]
name = "audit-canary"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
smallvec = "=1.6.0"
TOML
echo 'fn main() {}' > "$canary/src/main.rs"
cp deny.toml "$canary/deny.toml"
(cd "$canary" && cargo generate-lockfile -q && cargo fetch -q)
if (cd "$canary" && cargo deny --offline check advisories) > "$work/canary.log" 2>&1; then
  fail "the canary (smallvec 1.6.0) passed: the advisory database was not read"
fi
grep -q RUSTSEC-2021-0003 "$work/canary.log" || { cat "$work/canary.log" >&2; fail "the canary failed without RUSTSEC-2021-0003"; }
log "canary: smallvec 1.6.0 is refused (RUSTSEC-2021-0003), so the snapshot is read"

# healthprobe itself. `--offline` keeps cargo-deny from fetching; cargo
# metadata then needs every crate of the lock file on disk.
cargo fetch -q --locked
cargo deny --offline check
