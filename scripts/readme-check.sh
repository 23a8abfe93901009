#!/usr/bin/env bash
# The sample outputs of README.md (and docs/*.md) are real: every ```console
# block is run and what it prints is compared with the block.
#
# In a block, a line `$ COMMAND` is run with bash (healthprobe on PATH, an
# empty environment but for what the line sets) and the lines after it, up
# to the next `$ `, are what it must print (stdout and stderr together).
# `$ cargo run -q --example demo` runs the demo. Durations ("in 1.4ms",
# "elapsed_ms") and the demo's ports are compared as placeholders; port
# 8000 is the example service (health_server with its model loaded) and
# 8001 a port nothing listens on, each mapped to a free port here.
#
# README_CHECK_WRITE=1 writes what the commands printed into the blocks
# instead of comparing (then review the diff).
#
# Usage: bash scripts/readme-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

tdir=$(target_dir)
# healthprobe and the example apart: one cargo call would unify the
# dev-dependencies' features into healthprobe.
cargo build -q --bin healthprobe
cargo build -q --example health_server
cargo build -q --example demo
bin_dir=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$bin_dir"
}
trap cleanup EXIT
ln -s "$tdir/debug/healthprobe" "$bin_dir/healthprobe"

up=$(free_port)
down=$(free_port)
"$tdir/debug/examples/health_server" --port "$up" --load-delay 0 >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  "$bin_dir/healthprobe" -q "http://127.0.0.1:$up/health" && break
  sleep 0.1
done
"$bin_dir/healthprobe" -q "http://127.0.0.1:$up/health" || fail "the example service did not start"

python3 - "$bin_dir" "$up" "$down" "$tdir" README.md docs/*.md <<'EOF'
import os, re, subprocess, sys

bin_dir, up, down, target, *files = sys.argv[1:]
write = os.environ.get("README_CHECK_WRITE") == "1"
env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
       "CARGO_TARGET_DIR": target}
for name in ("RUSTUP_HOME", "CARGO_HOME"):
    if name in os.environ:
        env[name] = os.environ[name]
env["PATH"] += ":" + os.path.expanduser("~/.cargo/bin")


def to_local(text):
    return re.sub(r"\b8001\b", down, re.sub(r"\b8000\b", up, text))


def to_readme(text):
    return re.sub(rf"\b{down}\b", "8001", re.sub(rf"\b{up}\b", "8000", text))


def normal(text, demo):
    text = re.sub(r"\bin \d+(\.\d+)?(µs|ms|s)\b", "in T", text)
    text = re.sub(r'"elapsed_ms":[0-9.]+', '"elapsed_ms":T', text)
    if demo:
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return text.rstrip("\n")


def run(command):
    demo = command.strip() == "cargo run -q --example demo"
    out = subprocess.run(["bash", "-c", to_local(command)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=120, text=True)
    return to_readme(out.stdout), demo


failures = checked = 0
for path in files:
    lines = open(path, encoding="utf-8").read().split("\n")
    result, i = [], 0
    while i < len(lines):
        result.append(lines[i])
        if lines[i].strip() != "```console":
            i += 1
            continue
        end = lines.index("```", i + 1)
        block = lines[i + 1:end]
        steps = []  # (command, expected lines)
        for line in block:
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        for command, expected in steps:
            got, demo = run(command)
            checked += 1
            want = "\n".join(expected)
            if demo:
                # The demo prints its own `$ ` lines: the rest of the block.
                want = "\n".join(block[1:])
            if normal(got, demo) != normal(want, demo):
                failures += 1
                print(f"readme-check: FAIL: {path}: $ {command}\n--- the block says:\n{want}\n--- it printed:\n{got}",
                      file=sys.stderr)
            result.append(f"$ {command}")
            result.extend(got.rstrip("\n").split("\n") if got.strip() else [])
            if demo:
                break
        result.append("```")
        i = end + 1
    if write:
        open(path, "w", encoding="utf-8").write("\n".join(result))
print(f"readme-check: {checked} commands run, {failures} printed something else"
      + (" (written)" if write else ""))
sys.exit(1 if failures and not write else 0)
EOF
