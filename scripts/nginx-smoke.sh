#!/usr/bin/env bash
# The static release binary against a real nginx on loopback.
# Builds healthprobe for x86_64-unknown-linux-musl, checks that `file` calls
# it statically linked, starts nginx (Debian's nginx-light) with a config of
# its own on a free 127.0.0.1 port, and asserts exit statuses. nginx stops
# on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
cargo build --quiet --release --target "$target"
bin="target/$target/release/healthprobe"
kind=$(file -b "$bin")
case "$kind" in
  *"statically linked"*) echo "nginx-smoke: $bin is statically linked ($(stat -c %s "$bin") bytes)" ;;
  *) echo "nginx-smoke: $bin is not statically linked: $kind" >&2; exit 1 ;;
esac

source scripts/nginx-lib.sh
dir=$(mktemp -d)
trap 'nginx_stop; rm -rf "$dir"' EXIT
nginx_start "$dir" '
    location = /health { default_type application/json; return 200 '"'"'{"status":"ok"}'"'"'; }
    location = /down   { default_type application/json; return 503 '"'"'{"status":"loading"}'"'"'; }
    location = /moved  { return 302 /health; }' "$bin"
port=$nginx_port

failures=0
expect() {
  local want=$1; shift
  set +e
  out=$(env -i "$bin" "$@" 2>&1)
  got=$?
  set -e
  if [ "$got" = "$want" ]; then
    echo "ok   exit $got: $out"
  else
    echo "FAIL exit $got, want $want: healthprobe $*: $out"
    failures=$((failures + 1))
  fi
}
base="http://127.0.0.1:$port"
expect 0 "$base/health"
expect 0 --expect-json /status=ok "$base/health"
expect 0 -X HEAD "$base/health"
expect 1 "$base/down"
expect 1 --expect-json /status=ok "$base/nope"
expect 0 "$base/moved"
expect 0 --follow-redirects --expect-status 200 "$base/moved"
expect 1 --expect-body loading "$base/health"
expect 0 -o json --port "$port" /health
echo "$failures failed, against nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
[ "$failures" = 0 ]
