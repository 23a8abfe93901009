#!/usr/bin/env bash
# Regenerates link-order.txt: the functions a probe executes, for lld's
# --symbol-ordering-file (see build.rs). scripts/release.sh runs it after
# building the x86_64 binary and links again when the list changed, so the
# released layout is never stale; commit the file it rewrites.
#
# Uses the x86_64 musl release build (native_release: the same build as
# release.sh's, whose link writes a map with mangled names next to the
# binary), runs typical probes under callgrind against nginx on loopback
# (healthy, 503 with a JSON expectation, refused, JSON output, a bare path),
# maps every executed address to its input section in the map, and writes
# those sections' symbols sorted by name: the list depends on what a probe
# runs, not on the layout of the binary it was measured in, so a second
# run gives the same file.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
need_packages ld.lld=lld valgrind=valgrind musl-gcc=musl-tools
work=$(mktemp -d)
source scripts/nginx-lib.sh
trap 'nginx_stop; rm -rf "$work"' EXIT
command -v cargo-auditable >/dev/null || cargo install -q --locked cargo-auditable
bin=$(native_release)
map="$bin.map"
[ -f "$map" ] || fail "no link map at $map (build.rs writes it for the x86_64 musl release build)"
nginx_start "$work" '
    location = /health { default_type application/json; return 200 '"'"'{"status":"ok"}'"'"'; }
    location = /down { default_type application/json; return 503 '"'"'{"status":"loading"}'"'"'; }' "$bin"
base="http://127.0.0.1:$nginx_port"
closed=$(free_port)
n=0
for args in "-q $base/health" "$base/health" "--expect-json /status=ok $base/down" "-o json $base/health" \
            "http://127.0.0.1:$closed/health" "--port $nginx_port /health"; do
  n=$((n + 1))
  # shellcheck disable=SC2086 # the arguments, split on purpose
  env -i valgrind --tool=callgrind --dump-instr=yes --compress-pos=no \
    --callgrind-out-file="$work/cg.$n" "$bin" $args >/dev/null 2>&1 || true
done
python3 - "$map" "$work"/cg.* > "$work/order" <<'PY'
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
for name in sorted({sections[i][2][0] for i in hit if sections[i][2]}):
    print(name)
PY
# valgrind replaces libc's string functions with its own, so callgrind never
# sees musl's run, nor the last steps of exit (_Exit): a probe calls them: list them.
printf '%s\n' strcmp strncmp strlen strnlen strchr strchrnul strrchr memchr memrchr memcmp \
  memcpy memmove memset bcmp stpcpy strcpy _Exit >> "$work/order"
# musl's sysconf (std's start-up asks it for the page size) reads this table.
echo values.2934 >> "$work/order"
if cmp -s "$work/order" link-order.txt; then
  log "link-order.txt is current: $(wc -l < link-order.txt) functions from $n probes under callgrind"
else
  cp "$work/order" link-order.txt
  log "link-order.txt rewritten: $(wc -l < link-order.txt) functions from $n probes under callgrind"
fi
