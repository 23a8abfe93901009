#!/usr/bin/env bash
# The static release binary against the reference gRPC implementation that
# nobody here wrote: Python's grpcio with grpcio-health-checking (PyPI), on
# 127.0.0.1, plain and TLS (a CA and a server certificate made by openssl
# for this run).
#
#   bash scripts/grpc-smoke.sh                        # builds the x86_64 musl binary
#   HEALTHPROBE_BIN=… HEALTHPROBE_RUNNER=qemu-aarch64-static bash scripts/grpc-smoke.sh
#
# Asserts: serving, not serving, SERVICE_UNKNOWN, a service set NOT_SERVING at run time,
# an unknown service, a server without the health service, TLS with the
# private CA (and without it). The Python servers stop on exit, whatever
# happens, and by themselves after 120 s.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if ! python3 -c 'import grpc, grpc_health.v1.health' 2>/dev/null; then
  log "installing grpcio and grpcio-health-checking (PyPI)"
  python3 -m pip install -q grpcio grpcio-health-checking
fi
bin=$(probe_under_test)
probe="${HEALTHPROBE_RUNNER:-} $bin"

dir=$(mktemp -d)
server_pid=""
trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; rm -rf "$dir"' EXIT

test_ca "$dir" grpc.internal

python3 scripts/grpc_health_server.py "$dir" &
server_pid=$!
for _ in $(seq 100); do [ -f "$dir/ports.json" ] && break; sleep 0.1; done
[ -f "$dir/ports.json" ] || fail "the grpcio servers did not start"
port() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$dir/ports.json" "$1"; }
plain=$(port plain); tls=$(port tls); bare=$(port bare)
log "grpcio $(python3 -c 'import grpc; print(grpc.__version__)'): plain :$plain, TLS :$tls, without the health service :$bare"

expect 0 has="-> SERVING in " -- "grpc://127.0.0.1:$plain"
expect 0 has="-> SERVING in " -- "grpc://127.0.0.1:$plain/app.Ready"
expect 1 has="-> NOT_SERVING in " -- "grpc://127.0.0.1:$plain/app.Down"
expect 1 has="-> SERVICE_UNKNOWN in " -- "grpc://127.0.0.1:$plain/app.Gone"
expect 0 has="-> SERVING in " -- "grpc://127.0.0.1:$plain/app.Flip"
touch "$dir/flip"; sleep 0.3
expect 1 has="-> NOT_SERVING in " -- "grpc://127.0.0.1:$plain/app.Flip"
expect 1 has='service "app.Missing" is unknown to the server' -- "grpc://127.0.0.1:$plain/app.Missing"
expect 1 has="the server has no grpc.health.v1 service" -- "grpc://127.0.0.1:$bare"
expect 0 has="-> SERVING in " -- --cacert "$dir/ca.pem" "grpcs://127.0.0.1:$tls"
expect 0 has="-> SERVING in " -- --cacert "$dir/ca.pem" --servername grpc.internal "grpcs://127.0.0.1:$tls"
expect 1 has="certificate verify failed: unknown issuer" -- "grpcs://127.0.0.1:$tls"
expect 0 has='"grpc_status":"SERVING"' -- -o json "grpc://127.0.0.1:$plain"
echo "grpc-smoke: $failures failed"
[ "$failures" = 0 ]
