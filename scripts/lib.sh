# Sourced by the scripts: what they share about the build.
#
#   target_dir             prints cargo's target directory (honours
#                          CARGO_TARGET_DIR and build.target-dir: cargo is
#                          asked, nothing is assumed)
#   package_version        prints the package version from Cargo.toml
#   need_packages CMD=PKG… installs the Debian packages whose commands are
#                          missing (root, apt-get), e.g. need_packages nginx=nginx-light

target_dir() {
  cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

package_version() {
  cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["packages"][0]["version"])'
}

need_packages() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null || missing+=("${pair#*=}")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
