#!/usr/bin/env bash
# The packages scripts/release.sh put in dist/, installed as users install
# them and used against a real nginx on loopback:
#   wheels: each one into a fresh venv (`python3 -m venv`) with pip, and its
#     healthprobe probes nginx (200 -> 0, 503 -> 1): natively for x86_64,
#     under qemu-user for the others (pip installs a foreign wheel with
#     --platform into a target directory); `pip install --no-index
#     --find-links dist/ healthprobe` must pick this machine's wheel, and
#     pip must take the x86_64 wheel for a musl system too (musllinux tag);
#   the .deb: `dpkg -i`, `man` renders the page, healthprobe in /usr/bin
#     probes nginx, the bash completion completes `--tim` to `--timeout`,
#     lintian reports no error, and `dpkg --purge` leaves none of its files;
# (That the man page and completions name every flag and variable is a test:
# cli::man_page_and_completions_name_every_flag_and_variable.)
# Everything it installs or starts is removed on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

need_packages dpkg-deb=dpkg lintian=lintian man=man-db
python3 -c 'import ensurepip' 2>/dev/null || need_packages_now=1
if [ -n "${need_packages_now:-}" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
version=$(package_version)
[ -f "dist/healthprobe-$version-x86_64-unknown-linux-musl" ] || fail "dist/ has no release: run scripts/release.sh first"
work=$(mktemp -d)
installed_deb=""
cleanup() {
  set +e
  nginx_stop
  [ -z "$installed_deb" ] || dpkg --purge healthprobe >/dev/null 2>&1
  rm -rf "$work"
}
source scripts/nginx-lib.sh
trap cleanup EXIT
nginx_start "$work" '
    location = /health { return 200 "ok"; }
    location = /down   { return 503 "loading"; }' "dist/healthprobe-$version-x86_64-unknown-linux-musl"
base="http://127.0.0.1:$nginx_port"
# verdicts PROBE…: the probe gives 0 for /health and 1 for /down.
verdicts() {
  "$@" -q "$base/health" || fail "$*: /health is not healthy"
  if "$@" -q "$base/down"; then fail "$*: /down is healthy"; fi
}

# ---- wheels ---------------------------------------------------------------------
wheels=(dist/healthprobe-"$version"-py3-none-*.whl)
[ -e "${wheels[0]}" ] || fail "no wheel in dist/"
native=$(uname -m)
for wheel in "${wheels[@]}"; do
  name=$(basename "$wheel")
  # Every wheel's last tag is musllinux_1_1_ARCH.
  arch=$(echo "$name" | sed -E 's/.*musllinux_1_1_([a-z0-9_]+)\.whl$/\1/')
  if [ "$arch" = "$native" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q --no-index "$wheel"
    verdicts "$work/venv/bin/healthprobe"
    log "$name: pip install into a fresh venv; its healthprobe: /health 0, /down 1 ($(stat -c %s "$wheel") bytes)"
    rm -rf "$work/venv"
  else
    triple=""
    for t in "${release_triples[@]}"; do
      [ "$(wheel_platforms "$t" | sed -E 's/.*musllinux_1_1_//')" = "$arch" ] && triple=$t
    done
    [ -n "$triple" ] || fail "$name: no release target has the architecture $arch"
    python3 -m pip install -q --no-index --no-deps --only-binary=:all: --find-links dist \
      --platform "manylinux2014_$arch" --platform "manylinux_2_31_$arch" --target "$work/$arch" healthprobe
    # shellcheck disable=SC2046 # the runner is a command and its options
    verdicts $(qemu_of "$triple") "$work/$arch/bin/healthprobe"
    log "$name: installed by pip for $arch; under $(qemu_of "$triple"): /health 0, /down 1 ($(stat -c %s "$wheel") bytes)"
  fi
done
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-index --find-links dist/ healthprobe
got=$("$work/venv/bin/healthprobe" --version)
[[ "$got" == *"($native-unknown-linux-musl,"* ]] || fail "pip picked the wrong wheel: $got"
log "pip install --no-index --find-links dist/ healthprobe picked this machine's wheel: $got"
python3 -m pip install -q --no-index --no-deps --only-binary=:all: --find-links dist \
  --platform musllinux_1_1_x86_64 --target "$work/musl" healthprobe
cmp -s "$work/musl/bin/healthprobe" "dist/healthprobe-$version-x86_64-unknown-linux-musl" \
  || fail "pip for a musl system did not install the x86_64 binary"
log "pip for a musl system (musllinux_1_1_x86_64) installs the same static binary"

# ---- cargo-binstall's URLs name files of the release ----------------------------------
python3 - "$version" <<'PY' || fail "cargo-binstall metadata names a file the release does not have"
import os, sys, tomllib
version = sys.argv[1]
meta = tomllib.load(open("Cargo.toml", "rb"))["package"]["metadata"]["binstall"]
hosts = {t: None for t in ("x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl")}
hosts.update(meta["overrides"])
checked = 0
for host, override in hosts.items():
    url = (override or meta)["pkg-url"]
    ext = ".exe" if "-windows-" in host else ""
    name = url.rsplit("/", 1)[1].replace("{ version }", version).replace("{ target }", host) \
        .replace("{ binary-ext }", ext)
    if os.path.exists(f"dist/{name}"):
        checked += 1
    elif name.endswith((".exe",)) or "apple" in name or not any(
            name.endswith(t) for t in ("x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl")):
        continue  # a target this run of release.sh did not build
    else:
        sys.exit(f"{host}: {name} is not in dist/")
print(f"package-check: cargo-binstall: {checked} host targets resolve to files in dist/")
PY

# ---- the Debian package ---------------------------------------------------------
deb="dist/healthprobe_${version}-1_amd64.deb"
[ -f "$deb" ] || fail "$deb is missing"
! dpkg -s healthprobe >/dev/null 2>&1 || fail "a healthprobe package is already installed here; not touching it"
lintian --fail-on error "$deb" > "$work/lintian.txt" 2>&1 || fail "lintian: $(cat "$work/lintian.txt")"
log "lintian: no error ($(grep -c '^W:' "$work/lintian.txt" || true) warnings$(grep '^W:' "$work/lintian.txt" | sed 's/^W: healthprobe[^:]*: /; /' | tr '\n' ' '))"
dpkg -i "$deb" >/dev/null
installed_deb=1
dpkg -L healthprobe > "$work/files.txt"
[ "$(command -v healthprobe)" = /usr/bin/healthprobe ] || fail "healthprobe is not /usr/bin/healthprobe"
verdicts healthprobe
MANWIDTH=100 man healthprobe 2>/dev/null > "$work/man.txt" || fail "man healthprobe does not render"
grep -q -- "--timeout" "$work/man.txt" && grep -q HEALTHPROBE_TIMEOUT "$work/man.txt" \
  || fail "the man page lacks --timeout or HEALTHPROBE_TIMEOUT"
completed=$(bash -c 'source /usr/share/bash-completion/completions/healthprobe
  COMP_WORDS=(healthprobe --tim); COMP_CWORD=1; _healthprobe healthprobe --tim healthprobe
  echo "${COMPREPLY[*]}"')
[ "$completed" = "--timeout" ] || fail "bash completion of --tim gave '$completed', want --timeout"
log "$deb ($(stat -c %s "$deb") bytes): dpkg -i; /usr/bin/healthprobe: /health 0, /down 1; man renders ($(wc -l < "$work/man.txt") lines); bash completes --tim to --timeout"
dpkg --purge healthprobe >/dev/null
installed_deb=""
left=$(grep -E '^/usr/(bin|share/(man|bash-completion|zsh|fish|doc/healthprobe))/.+' "$work/files.txt" \
  | while read -r f; do [ ! -e "$f" ] || [ -d "$f" ] || echo "$f"; done)
[ -z "$left" ] || fail "dpkg --purge left: $left"
log "dpkg --purge removed all $(wc -l < "$work/files.txt") paths it installed"
