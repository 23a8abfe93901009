#!/usr/bin/env bash
# Regenerates link-order.txt: the functions a probe executes, for lld's
# --symbol-ordering-file (see build.rs). Run it after a compiler or
# dependency update, then commit link-order.txt.
#
# Builds the static release binary with a link map (mangled names), runs
# typical probes under callgrind against nginx on loopback (healthy, 503
# with a JSON expectation, refused, --help), maps every executed address to
# its input section in the map, and writes those sections' symbols in
# address order.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
need_packages ld.lld=lld valgrind=valgrind musl-gcc=musl-tools
rustup_targets x86_64-unknown-linux-musl
triple=x86_64-unknown-linux-musl
work=$(mktemp -d)
source scripts/nginx-lib.sh
trap 'nginx_stop; rm -rf "$work"' EXIT
# An empty order file for the profiling link, so the map shows the default layout.
mv link-order.txt "$work/old-order.txt" 2>/dev/null || true
# Built as scripts/release.sh builds it: `cargo auditable` runs rustc
# through a wrapper, which changes the hashes in the symbol names, so an
# order made from a plain `cargo build` would not match the release binary.
command -v cargo-auditable >/dev/null || cargo install -q --locked cargo-auditable
HEALTHPROBE_LINK_MAP="$work/healthprobe.map" \
  cargo auditable build --quiet --release --locked --target "$triple" --bin healthprobe
bin="$(target_dir)/$triple/release/healthprobe"
nginx_start "$work" '
    location = /health { default_type application/json; return 200 '"'"'{"status":"ok"}'"'"'; }
    location = /down { default_type application/json; return 503 '"'"'{"status":"loading"}'"'"'; }' "$bin"
base="http://127.0.0.1:$nginx_port"
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
n=0
for args in "-q $base/health" "$base/health" "--expect-json /status=ok $base/down" "-o json $base/health" \
            "http://127.0.0.1:$closed/health" "--port $nginx_port /health"; do
  n=$((n + 1))
  env -i valgrind --tool=callgrind --dump-instr=yes --compress-pos=no \
    --callgrind-out-file="$work/cg.$n" "$bin" $args >/dev/null 2>&1 || true
done
python3 - "$work/healthprobe.map" "$work"/cg.* > link-order.txt <<'PY'
import bisect, re, sys
addresses = set()
for path in sys.argv[2:]:
    for line in open(path):
        m = re.match(r"^(0x[0-9a-f]+)\s", line)
        if m:
            addresses.add(int(m.group(1), 16))
sections, current = [], None
for line in open(sys.argv[1]):
    m = re.match(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s(.*)$", line.rstrip("\n"))
    if not m:
        continue
    vma, size, rest = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
    indent, text = len(rest) - len(rest.lstrip(" ")), rest.strip()
    if indent <= 1:
        continue
    if indent <= 9 and ":(" in text:
        current = [vma, size, []]
        sections.append(current)
    elif current is not None and text:
        current[2].append(text)
sections.sort(key=lambda s: s[0])
starts = [s[0] for s in sections]
hit = set()
for a in addresses:
    i = bisect.bisect_right(starts, a) - 1
    if i >= 0 and sections[i][0] <= a < sections[i][0] + max(sections[i][1], 1):
        hit.add(i)
for i in sorted(hit):
    if sections[i][2]:
        print(sections[i][2][0])
PY
# valgrind replaces libc's string functions with its own, so callgrind never
# sees musl's run, nor the last steps of exit (_Exit): a probe calls them: list them.
printf '%s\n' strcmp strncmp strlen strnlen strchr strchrnul strrchr memchr memrchr memcmp \
  memcpy memmove memset bcmp stpcpy strcpy _Exit >> link-order.txt
# musl's sysconf (std's start-up asks it for the page size) reads this table.
echo values.2934 >> link-order.txt
echo "link-order: $(wc -l < link-order.txt) functions from $n probes under callgrind"
