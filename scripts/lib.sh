# Sourced by the scripts: what they share about the build.
#
#   target_dir             prints cargo's target directory (honours
#                          CARGO_TARGET_DIR and build.target-dir: cargo is
#                          asked, nothing is assumed)
#   package_version        prints the package version from Cargo.toml
#   probe_under_test       prints the healthprobe binary the smoke scripts
#                          test: HEALTHPROBE_BIN, or the x86_64 musl release
#                          build (built here, in cargo's target directory)
#   test_ca DIR NAME          makes, with openssl, a private CA (DIR/ca.pem)
#                          and a server certificate for NAME and 127.0.0.1
#                          signed by it (DIR/server.pem, DIR/server.key),
#                          valid for two days
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

test_ca() {
  local dir=$1 name=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=healthprobe test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$name" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,IP:127.0.0.1\n' "$name" > "$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
}

probe_under_test() {
  if [ -n "${HEALTHPROBE_BIN:-}" ]; then
    echo "$HEALTHPROBE_BIN"
    return
  fi
  local triple=x86_64-unknown-linux-musl
  cargo build --quiet --release --target "$triple" >&2
  echo "$(target_dir)/$triple/release/healthprobe"
}
