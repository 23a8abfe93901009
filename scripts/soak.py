"""The soak test's long runs (scripts/soak.sh calls this): one healthprobe
process doing CYCLES probe cycles, sampled from /proc as it runs.

    python3 scripts/soak.py wait|supervise BIN CYCLES REPORT.json

wait:      `BIN --wait 1h --interval 10ms --retry CYCLES-1 --expect-json
           /status=ok URL` against a server (here, on 127.0.0.1) whose answers
           alternate between 503 and a 200 whose JSON fails the expectation,
           so every attempt is a full unhealthy cycle and the run ends after
           CYCLES attempts with exit 1.
supervise: `BIN --liveness URL --period 10ms --failure-threshold 3 --
           sleep 3600` against a server that alternates 200 and 503 (never
           3 failures in a row): the supervisor runs CYCLES liveness probes,
           then gets SIGTERM and must exit 143 (the child's SIGTERM status)
           with no zombie left.

Every 20 ms it reads the probe's VmRSS, open fds and threads, paired with
the number of requests the server has answered (the cycle). It writes the
samples' summary to REPORT.json: the peak RSS, fds and threads over the
first 1,000 cycles and over the last 1,000, and the exit status. Every
process it starts stops on exit.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode, binary, cycles, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
served = 0
lock = threading.Lock()


class Alternating(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        global served
        with lock:
            served += 1
            n = served
        if n % 2:
            status, body = 503, b'{"status":"loading"}'
        elif mode == "wait":
            status, body = 200, b'{"status":"error"}'
        else:
            status, body = 200, b'{"status":"ok"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Alternating)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/health"
if mode == "wait":
    argv = [binary, "-q", "--wait", "1h", "--interval", "10ms", "--retry", str(cycles - 1),
            "--expect-json", "/status=ok", url]
else:
    argv = [binary, "--liveness", url, "--period", "10ms", "--failure-threshold", "3",
            "--", "sleep", "3600"]
proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def sample(pid):
    """(rss KiB, fds, threads) of pid, or None once it has gone."""
    try:
        status = open(f"/proc/{pid}/status").read()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if fields.get("State", "").strip().startswith("Z"):
        return None
    return int(fields["VmRSS"].split()[0]), fds, int(fields["Threads"])


def children(pid):
    """The pids whose parent is pid, with their state letter."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid:
                out.append((int(entry), fields[0]))
    return out


samples, zombies_seen, t0 = [], 0, time.time()
deadline = t0 + 600
try:
    while time.time() < deadline:
        with lock:
            n = served
        if mode == "supervise" and n >= cycles:
            break
        s = sample(proc.pid)
        if s is None:
            break
        samples.append((n,) + s)
        if mode == "supervise":
            zombies_seen = max(zombies_seen, sum(1 for _, st in children(proc.pid) if st == "Z"))
        time.sleep(0.02)
    kids = [pid for pid, _ in children(proc.pid)]
    if mode == "supervise":
        proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    left = [pid for pid in kids if os.path.exists(f"/proc/{pid}")]
finally:
    if proc.poll() is None:
        proc.kill()
    server.shutdown()


def window(lo, hi):
    picked = [s for s in samples if lo <= s[0] < hi]
    if not picked:
        return None
    return {"samples": len(picked), "rss_kib": max(s[1] for s in picked),
            "fds": max(s[2] for s in picked), "threads": max(s[3] for s in picked)}


with lock:
    total = served
result = {
    "mode": mode, "cycles": total, "seconds": round(time.time() - t0, 1), "exit": code,
    "first_1000": window(0, 1000), "last_1000": window(max(total - 1000, 1000), total + 1),
    "zombies_seen_while_running": zombies_seen, "children_left_after_exit": left,
}
json.dump(result, open(report, "w"), indent=1)
print(json.dumps(result))
