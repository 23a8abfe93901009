"""grpc.health.v1 servers on 127.0.0.1 for scripts/grpc-smoke.sh and
scripts/bench.sh: Python's grpcio with grpcio-health-checking (PyPI), the
reference implementation nobody here wrote.

    python3 scripts/grpc_health_server.py DIR

Starts "plain" (the health service), "bare" (no health service) and, when
DIR holds server.pem and server.key, "tls"; writes their ports to
DIR/ports.json. Services: "" and app.Ready SERVING, app.Down NOT_SERVING,
app.Gone SERVICE_UNKNOWN, app.Flip SERVING until DIR/flip exists. Stops by
itself after 120 s.
"""
import json, os, sys, threading, time
from concurrent import futures
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

d = sys.argv[1]
tls_wanted = os.path.exists(f"{d}/server.pem")
S = health_pb2.HealthCheckResponse
servicer = health.HealthServicer()
servicer.set("", S.SERVING)
servicer.set("app.Ready", S.SERVING)
servicer.set("app.Down", S.NOT_SERVING)
servicer.set("app.Flip", S.SERVING)
servicer.set("app.Gone", S.SERVICE_UNKNOWN)

def server(with_health, tls):
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    if with_health:
        health_pb2_grpc.add_HealthServicer_to_server(servicer, s)
    if tls:
        creds = grpc.ssl_server_credentials([(open(f"{d}/server.key", "rb").read(),
                                              open(f"{d}/server.pem", "rb").read())])
        port = s.add_secure_port("127.0.0.1:0", creds)
    else:
        port = s.add_insecure_port("127.0.0.1:0")
    s.start()
    return s, port

kinds = [("plain", True, False), ("bare", False, False)] + ([("tls", True, True)] if tls_wanted else [])
servers = {name: server(h, t) for name, h, t in kinds}
with open(f"{d}/ports.tmp", "w") as f:
    json.dump({name: port for name, (_, port) in servers.items()}, f)
os.rename(f"{d}/ports.tmp", f"{d}/ports.json")
end = time.time() + 120
while time.time() < end:
    if os.path.exists(f"{d}/flip"):
        servicer.set("app.Flip", S.NOT_SERVING)
    time.sleep(0.05)
