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
# that it imports only system DLLs), starts nginx
# (Debian's nginx-light) with a config of its own on free 127.0.0.1 ports,
# plain and TLS (a CA and a server certificate made by openssl for this
# run), and a listener that accepts and never answers, then asserts exit
# statuses, and for the silent server the time (--timeout + 0.5 s).
# Everything it starts stops on exit, whatever happens.
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
silent_pid=""
trap 'nginx_stop; [ -z "$silent_pid" ] || kill "$silent_pid" 2>/dev/null; rm -rf "$dir"' EXIT

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

# Accepts connections and never answers; ends by itself after 60 s.
python3 - "$dir/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
s.settimeout(0.5)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
held, end = [], time.time() + 60
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
PY
silent_pid=$!
for _ in $(seq 50); do [ -f "$dir/silent.port" ] && break; sleep 0.1; done
silent_port=$(cat "$dir/silent.port")
refused_port=$(free_port)

base="http://127.0.0.1:$port"
expect 0 -- "$base/health"
expect 0 -- --expect-json /status=ok "$base/health"
expect 0 -- -X HEAD "$base/health"
expect 1 has="503 Service Unavailable" -- "$base/down"
expect 1 -- --expect-json /status=ok "$base/nope"
expect 0 -- "$base/moved"
expect 0 -- --follow-redirects --expect-status 200 "$base/moved"
expect 1 -- --expect-body loading "$base/health"
expect 0 -- -o json --port "$port" /health
expect 1 has="connection refused" -- "http://127.0.0.1:$refused_port/health"
expect 1 max=1500 has="timed out after 1s" -- -t 1s "http://127.0.0.1:$silent_port/health"
expect 0 -- --cacert "$dir/ca.pem" "https://127.0.0.1:$tls_port/health"
expect 0 -- --cacert "$dir/ca.pem" --resolve "localhost:$tls_port:127.0.0.1" "https://localhost:$tls_port/health"
expect 1 has="certificate verify failed: unknown issuer" -- "https://127.0.0.1:$tls_port/health"
echo "nginx-smoke: $failures failed, against nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
[ "$failures" = 0 ]
