#!/usr/bin/env bash
# A static release binary against a real nginx on loopback.
#
#   bash scripts/nginx-smoke.sh
#       builds healthprobe for x86_64-unknown-linux-musl (in cargo's target
#       directory: CARGO_TARGET_DIR is honoured) and tests it;
#   HEALTHPROBE_BIN=dist/healthprobe-…-aarch64-unknown-linux-musl \
#   HEALTHPROBE_RUNNER=qemu-aarch64-static bash scripts/nginx-smoke.sh
#       tests that binary instead, run by that runner (a foreign
#       architecture under qemu-user-static).
#
# Checks that `file` calls the binary statically linked (a Windows .exe:
# that it imports only system DLLs), starts nginx (Debian's nginx-light)
# with a config of its own on free 127.0.0.1 ports, plain and TLS (a CA and
# a server certificate made by openssl for this run), and asserts exit
# statuses and report lines against it: what a real, widely deployed server
# and its OpenSSL stack do, which the scripted servers of tests/it cannot
# stand in for. Everything else about the binary (deadlines, hostile
# servers, expectations, flags) is tests/it's, run against the same binary
# by .ci/run. Everything it starts stops on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

bin=$(probe_under_test)
runner=${HEALTHPROBE_RUNNER:-}
probe="$runner $bin"
kind=$(self_contained "$bin")
log "$bin is $kind ($(stat -c %s "$bin") bytes${runner:+, run by $runner})"
log "$($probe --version)"

source scripts/nginx-lib.sh
dir=$(mktemp -d)
trap 'nginx_stop; rm -rf "$dir"' EXIT

# A private CA and a certificate for 127.0.0.1 and localhost, made now.
test_ca "$dir" localhost
tls_port=$(free_port)

nginx_start "$dir" '
    location = /health { default_type application/json; return 200 '"'"'{"status":"ok"}'"'"'; }
    location = /down   { default_type application/json; return 503 '"'"'{"status":"loading"}'"'"'; }
    location = /moved  { return 302 /health; }' "$probe" "
  server {
    listen 127.0.0.1:$tls_port ssl;
    ssl_certificate $dir/server.pem;
    ssl_certificate_key $dir/server.key;
    location = /health { return 200 'ok'; }
  }"
port=$nginx_port

base="http://127.0.0.1:$port"
expect 0 has=" -> 200 OK in " -- "$base/health"
expect 0 -- -X HEAD "$base/health"
expect 1 has=" -> 503 Service Unavailable in " -- "$base/down"
expect 0 has=" -> 200 OK in " -- "$base/moved"
expect 0 -- --follow-redirects --expect-status 200 --expect-json /status=ok "$base/moved"
expect 0 -- --cacert "$dir/ca.pem" "https://127.0.0.1:$tls_port/health"
expect 1 has="certificate verify failed: unknown issuer" -- "https://127.0.0.1:$tls_port/health"
echo "nginx-smoke: $failures failed, against nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
[ "$failures" = 0 ]
