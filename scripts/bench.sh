#!/usr/bin/env bash
# scripts/bench.sh: what one health probe costs. healthprobe (static musl
# release build, TLS compiled in) against Debian's `curl -fsS`, GNU
# `wget -q` and `busybox wget -q` (busybox-static), all probing the same
# nginx /health on loopback in the same run. Writes BENCHMARKS.md.
#
#   bash scripts/bench.sh            # installs what is missing (root, Debian)
#   BENCH_ACCEPT=1 bash scripts/bench.sh
#                                    # new figures on purpose (more than 10%
#                                    # off BENCHMARKS.md, within the budget)
#   BENCH_BASELINE=/path/to/older/healthprobe bash scripts/bench.sh
#                                    # adds that binary as a row, measured in
#                                    # the same run (before/after a change)
#
# Measures, per tool: instructions per probe (valgrind --tool=callgrind, the
# headline: repeatable on a noisy machine), peak RSS (/usr/bin/time -f %M,
# median of 15 runs), wall time per probe (hyperfine, reported as a ratio to
# healthprobe from the same run), and the bytes the tool adds to a scratch
# or slim image (the binary plus every shared library ldd lists). Then it
# checks the budget (the figures the project set itself for a probe) and
# prints each line as met or missed. It also builds the release
# (scripts/release.sh) and lists each architecture's binary size. Not a test: it exits 0 whatever the figures, unless
# BENCH_ENFORCE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
source scripts/lib.sh

# ---- install ---------------------------------------------------------------
need_packages nginx=nginx-light curl=curl wget=wget busybox=busybox-static valgrind=valgrind \
  hyperfine=hyperfine musl-gcc=musl-tools ld.lld=lld python3=python3
need_gnu_time
rustup_targets x86_64-unknown-linux-musl

# ---- build -----------------------------------------------------------------
triple=x86_64-unknown-linux-musl
work=$(mktemp -d)
tdir=$(target_dir)
cargo build --quiet --release --target "$triple" --no-default-features
cp "$tdir/$triple/release/healthprobe" "$work/healthprobe-notls"
# The release binaries of every architecture (their sizes); the x86_64 one
# is the healthprobe measured.
bash scripts/release.sh >/dev/null
release_version=$(package_version)
cp "dist/healthprobe-$release_version-$triple" "$work/healthprobe"
hp="$work/healthprobe"

# ---- nginx on loopback ------------------------------------------------------------
source scripts/nginx-lib.sh
trap 'nginx_stop; rm -rf "$work"' EXIT
nginx_start "$work" '
    location = /health { default_type application/json; return 200 '"'"'{"status":"ok"}'"'"'; }' "$hp"
url="http://127.0.0.1:$nginx_port/health"

names=(healthprobe curl wget "busybox wget")
cmds=(
  "$hp -q $url"
  "/usr/bin/curl -fsS -o /dev/null $url"
  "/usr/bin/wget -q -O /dev/null $url"
  "/bin/busybox wget -q -O /dev/null $url"
)
if [ -n "${BENCH_BASELINE:-}" ]; then
  cp "$BENCH_BASELINE" "$work/healthprobe-baseline"
  names+=("healthprobe (baseline)")
  cmds+=("$work/healthprobe-baseline -q $url")
fi
# Every tool runs with the same small environment (no proxy variables).
run_env=(env -i PATH=/usr/bin:/bin)

# The figures must still hold what BENCHMARKS.md says before it is rewritten
# (a stale link-order.txt shows up as RSS): fails more than 10% over, unless
# BENCH_ACCEPT=1 says the change is known (the budget still holds).
PROBE_COST_BUDGET_ONLY=${BENCH_ACCEPT:-0} bash scripts/probe-cost.sh "$hp"

# Each command must succeed before it is measured.
for i in "${!cmds[@]}"; do
  "${run_env[@]}" ${cmds[$i]} || { echo "bench: ${names[$i]} failed against $url" >&2; exit 1; }
done

# ---- instructions (callgrind) ----------------------------------------------------------
instr=()
for i in "${!cmds[@]}"; do
  best=""
  for _ in 1 2 3; do
    n=$("${run_env[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null ${cmds[$i]} 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1)
    if [ -z "$best" ] || [ "$n" -lt "$best" ]; then best=$n; fi
  done
  instr+=("$best")
  echo "bench: ${names[$i]}: $best instructions"
done

# ---- peak RSS (median of 15) ---------------------------------------------------------------
rss=()
for i in "${!cmds[@]}"; do
  samples=()
  for _ in $(seq 15); do
    samples+=("$("${run_env[@]}" /usr/bin/time -f %M ${cmds[$i]} 2>&1 >/dev/null | tail -1)")
  done
  median=$(printf '%s\n' "${samples[@]}" | sort -n | sed -n 8p)
  rss+=("$median")
  echo "bench: ${names[$i]}: peak RSS $median KiB"
done

# ---- wall time (hyperfine, same run) ---------------------------------------------------------
hyperfine -N --warmup 20 --min-runs 300 --style none --export-json "$work/hyperfine.json" \
  "${cmds[@]}" >/dev/null 2>&1 || hyperfine --warmup 20 --min-runs 300 --style none \
  --export-json "$work/hyperfine.json" "${cmds[@]}" >/dev/null
mapfile -t wall < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r: print("%.0f %.0f" % (x["mean"] * 1e6, x["stddev"] * 1e6))
' "$work/hyperfine.json")

# ---- CPU per probe (the kernel's accounting) ----------------------------------------------------
# User + system time of the probe process itself (wait4), over batches of
# 300 probes, the tools taking turns (scripts/cpu_per_probe.py): against
# microcheck's httpcheck (C, musl, built from its source: MICROCHECK_SRC
# names a checkout or a git directory of github.com/tarampampam/microcheck,
# since nothing is fetched here) and a static C program that exits at once
# (the floor: what exec and exit cost). Also healthprobe linked with lld's
# default layout (build.rs, HEALTHPROBE_DEFAULT_LAYOUT): what link-order.txt
# and link-layout.ld buy.
printf 'int main(void) { return 0; }\n' > "$work/noop.c"
musl-gcc -static -Os -o "$work/noop" "$work/noop.c"
HEALTHPROBE_DEFAULT_LAYOUT=1 native_release >/dev/null
cp "$tdir/$triple/release/healthprobe" "$work/healthprobe-default-layout"
native_release >/dev/null
cmp -s "$tdir/$triple/release/healthprobe" "$hp" || { echo "bench: the rebuilt binary differs from dist/" >&2; exit 1; }
cpu_tools=("no-op (static C, exits at once)=$work/noop" "healthprobe=$hp -q $url"
  "healthprobe, default layout=$work/healthprobe-default-layout -q $url")
[ -z "${BENCH_BASELINE:-}" ] || cpu_tools+=("healthprobe (baseline)=$work/healthprobe-baseline -q $url")
microcheck_note="not measured: MICROCHECK_SRC names no microcheck source"
if [ -n "${MICROCHECK_SRC:-}" ]; then
  mkdir -p "$work/microcheck"
  if [ -d "$MICROCHECK_SRC/.git" ] || [ ! -f "$MICROCHECK_SRC/Makefile" ]; then
    git --git-dir="$(git -C "$MICROCHECK_SRC" rev-parse --absolute-git-dir)" archive HEAD | tar -x -C "$work/microcheck"
    microcheck_rev=$(git -C "$MICROCHECK_SRC" rev-parse --short HEAD)
  else
    cp -r "$MICROCHECK_SRC/." "$work/microcheck/"
    microcheck_rev="a source tree"
  fi
  make -s -C "$work/microcheck" build/bin/httpcheck >/dev/null 2>&1 || { echo "bench: microcheck does not build" >&2; exit 1; }
  cpu_tools+=("microcheck httpcheck=$work/microcheck/build/bin/httpcheck $url")
  microcheck_note="microcheck $microcheck_rev, \`make build/bin/httpcheck\` (musl-gcc, static)"
fi
python3 scripts/cpu_per_probe.py 7 300 "${cpu_tools[@]}" > "$work/cpu.tsv"
sed 's/^/bench: CPU per probe (µs: median, least, greatest batch): /' "$work/cpu.tsv"

# ---- bytes added to an image ---------------------------------------------------------------------
image_bytes() { # the binary plus every shared library it loads, each file once
  local bin=$1
  { readlink -f "$bin"; { ldd "$bin" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | xargs -r -n1 readlink -f; } \
    | sort -u | xargs stat -L -c %s | awk '{s+=$1} END {print s}'
}
libs_of() { { ldd "$1" 2>/dev/null || true; } | grep -c '/' || true; }
bins=("$hp" /usr/bin/curl /usr/bin/wget /bin/busybox)
[ -z "${BENCH_BASELINE:-}" ] || bins+=("$work/healthprobe-baseline")
bytes=(); nlibs=()
for b in "${bins[@]}"; do bytes+=("$(image_bytes "$b")"); nlibs+=("$(libs_of "$b")"); done
notls_bytes=$(stat -c %s "$work/healthprobe-notls")
hp_kind=$(file -b "$hp" | cut -d, -f1-5)

# ---- a gRPC probe (grpcio's health server on loopback) ----------------------------------------
grpc_line="not measured (python3 -m pip install grpcio grpcio-health-checking)"
if python3 -c 'import grpc, grpc_health.v1.health' 2>/dev/null; then
  python3 scripts/grpc_health_server.py "$work" &
  grpc_pid=$!
  trap 'nginx_stop; kill "$grpc_pid" 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 100); do [ -f "$work/ports.json" ] && break; sleep 0.1; done
  gport=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["plain"])' "$work/ports.json")
  gcmd="$hp -q grpc://127.0.0.1:$gport"
  "${run_env[@]}" $gcmd || { echo "bench: the gRPC probe failed" >&2; exit 1; }
  g_instr=$("${run_env[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null $gcmd 2>&1 \
      | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1)
  g_rss=$(for _ in $(seq 15); do "${run_env[@]}" /usr/bin/time -f %M $gcmd 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 8p)
  hyperfine -N --warmup 10 --min-runs 100 --style none --export-json "$work/grpc.json" "$gcmd" >/dev/null 2>&1
  g_wall=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]; print("%.0f ± %.0f µs" % (r["mean"] * 1e6, r["stddev"] * 1e6))' "$work/grpc.json")
  g_version=$(python3 -c 'import grpc; print(grpc.__version__)')
  grpc_line=""
  echo "bench: gRPC probe: $g_instr instructions, $g_rss KiB, $g_wall"
fi

# ---- an idle supervisor ------------------------------------------------------------------------
# healthprobe supervising `sleep 60` with the three probes of a --probes
# file (startup, liveness and readiness of nginx, each every second): its
# peak RSS and the CPU time it used in those 60 s. Then, beside a second
# such supervisor, what one `healthprobe --status` costs (the CPU per call,
# as for a probe).
cat > "$work/probes.yaml" <<YAML
startupProbe: {httpGet: {path: /health, port: $nginx_port}, periodSeconds: 1}
livenessProbe: {httpGet: {path: /health, port: $nginx_port}, periodSeconds: 1}
readinessProbe: {httpGet: {path: /health, port: $nginx_port}, periodSeconds: 1}
YAML
idle=$("${run_env[@]}" HEALTHPROBE_STATUS_SOCKET="$work/idle.sock" /usr/bin/time -f "%M %U %S" \
  "$hp" --probes "$work/probes.yaml" -- sleep 60 2>&1 >/dev/null | tail -1)
read -r idle_rss idle_user idle_sys <<<"$idle"
idle_cpu=$(python3 -c "import sys; print(f'{float(sys.argv[1]) + float(sys.argv[2]):.2f}')" "$idle_user" "$idle_sys")
echo "bench: idle supervisor, 3 probes every 1 s: $idle_rss KiB peak RSS, $idle_cpu s CPU in 60 s"
"${run_env[@]}" HEALTHPROBE_STATUS_SOCKET="$work/status.sock" "$hp" -q --probes "$work/probes.yaml" -- sleep 120 &
sup_pid=$!
for _ in $(seq 50); do
  "${run_env[@]}" HEALTHPROBE_STATUS_SOCKET="$work/status.sock" "$hp" -q --status && break
  sleep 0.1
done
status_cpu=$(python3 scripts/cpu_per_probe.py 5 200 "status=HEALTHPROBE_STATUS_SOCKET=$work/status.sock $hp -q --status" \
  | cut -f2)
kill "$sup_pid"; wait "$sup_pid" 2>/dev/null || true
echo "bench: healthprobe --status: $status_cpu µs CPU per call"

# ---- BENCHMARKS.md ------------------------------------------------------------------------------------
version() { "$@" 2>&1 | head -1; }
# The sections written by hand (soak, fuzzing, reproducible builds) follow a
# marker line at the end; they are carried over as they are.
kept=$(sed -n '/^<!-- Written by hand below this line/,$p' BENCHMARKS.md 2>/dev/null || true)
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
{
  echo "# Benchmarks"
  echo
  echo "What one healthy probe of nginx on loopback costs. Produced by \`bash scripts/bench.sh\`"
  echo "(one run; do not edit by hand, but for the sections after Machine, which it keeps)."
  echo "Instructions are callgrind's count (the least of 3 runs); peak RSS is the median of 15"
  echo "runs of \`/usr/bin/time -f %M\`; wall time is hyperfine's mean over at least 300 runs, given"
  echo "as a ratio to healthprobe in the same run because absolute times drift on shared machines;"
  echo "image bytes are the binary plus every shared library that \`ldd\` lists."
  echo
  echo "| tool | instructions per probe | peak RSS | wall time (ratio to healthprobe) | bytes added to an image |"
  echo "|---|---:|---:|---:|---:|"
  for i in "${!names[@]}"; do
    read -r mean sd <<<"${wall[$i]}"
    ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$mean" "${wall[0]%% *}")
    libs=""; [ "${nlibs[$i]}" -gt 0 ] && libs=" (binary + ${nlibs[$i]} libraries)"
    printf '| %s | %s | %s KiB | %s× (%s ± %s µs) | %s%s |\n' "${names[$i]}" \
      "$(commas "${instr[$i]}")" "$(commas "${rss[$i]}")" "$ratio" "$mean" "$sd" \
      "$(commas "${bytes[$i]}")" "$libs"
  done
  echo
  echo "healthprobe without TLS (\`--no-default-features\`): $(commas "$notls_bytes") bytes."
  echo "healthprobe is \`$hp_kind\`, \`$("$hp" --version)\`."
  [ -z "${BENCH_BASELINE:-}" ] || echo "healthprobe (baseline) is \`$("$work/healthprobe-baseline" --version)\`."
  echo
  echo "## CPU per probe"
  echo
  echo "User + system time that the kernel accounts to the probe process itself (\`wait4\`), per probe:"
  echo "batches of 300 probes one after another, the tools taking turns, 7 batches; the median batch,"
  echo "and as ratios to the static no-op (what exec and exit cost) and to microcheck's httpcheck"
  echo "from the same run ($microcheck_note)."
  echo
  echo "| program | CPU per probe (median; least–greatest batch) | × no-op | × microcheck |"
  echo "|---|---:|---:|---:|"
  python3 - "$work/cpu.tsv" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
cpu = {name: float(median) for name, median, _, _ in rows}
floor = cpu["no-op (static C, exits at once)"]
mc = cpu.get("microcheck httpcheck")
for name, median, low, high in rows:
    ratio = f"{float(median) / mc:.2f}×" if mc else "–"
    print(f"| {name} | {median} µs ({low}–{high}) | {float(median) / floor:.2f}× | {ratio} |")
PY
  echo
  echo "## A gRPC probe"
  echo
  echo "The same binary checking Python grpcio's grpc.health.v1 server on loopback (a tokio runtime,"
  echo "HTTP/2 and protobuf, started only for a gRPC target):"
  echo
  echo "| probe | instructions | peak RSS | wall time |"
  echo "|---|---:|---:|---:|"
  if [ -n "$grpc_line" ]; then
    echo "$grpc_line"
  else
    printf '| healthprobe -q grpc://127.0.0.1:PORT (grpcio %s) | %s | %s KiB | %s |\n' \
      "$g_version" "$(commas "$g_instr")" "$(commas "$g_rss")" "$g_wall"
  fi
  echo
  echo "## An idle supervisor"
  echo
  echo "\`healthprobe --probes probes.yaml -- sleep 60\` with a startup, a liveness and a readiness probe of"
  echo "nginx, each \`periodSeconds: 1\` (one thread per probe; between checks they sleep: no polling, no"
  echo "runtime), measured by \`/usr/bin/time\`; and what one \`healthprobe --status\` (Docker's HEALTHCHECK"
  echo "of a supervised container) costs beside such a supervisor, measured as the CPU per probe above:"
  echo
  echo "| peak RSS | CPU time (user + system) over 60 s | \`--status\`: CPU per call |"
  echo "|---:|---:|---:|"
  printf '| %s KiB | %s s | %s µs |\n' "$(commas "$idle_rss")" "$idle_cpu" "$status_cpu"
  echo
  echo "## Release binaries"
  echo
  echo "\`scripts/release.sh\` (cargo-auditable builds: each embeds its dependency list, a few hundred bytes):"
  echo
  echo "| file | bytes | \`file\` |"
  echo "|---|---:|---|"
  for f in dist/healthprobe-"$release_version"-*; do
    case "$f" in *.json) continue ;; esac
    printf '| %s | %s | %s |\n' "${f#dist/}" "$(commas "$(stat -c %s "$f")")" "$(file -b "$f" | cut -d, -f1-2,4 | sed 's/ *flags:.*//; s/,$//')"
  done
  echo
  echo "Commands (each with \`env -i PATH=/usr/bin:/bin\`):"
  echo
  for i in "${!names[@]}"; do echo "- ${names[$i]}: \`${cmds[$i]//$work\//}\`" | sed "s#$url#http://127.0.0.1:PORT/health#"; done
  echo
  echo "## Budget"
  echo
  python3 - "${instr[@]:0:4}" "${rss[0]}" "${bytes[0]}" "$notls_bytes" "${wall[0]%% *}" "${wall[3]%% *}" <<'PY'
import sys
hp, curl, wget, bb, rss, size, notls, t_hp, t_bb = map(float, sys.argv[1:])
rows = [
    ("instructions per probe ≤ 250,000 (issue 19)", hp <= 250_000, f"{hp:,.0f}"),
    ("peak RSS ≤ 1,000 KiB (issue 19)", rss <= 1_000, f"{rss:,.0f} KiB"),
    ("instructions per probe ≤ 100,000", hp <= 100_000, f"{hp:,.0f}"),
    ("fewer instructions than busybox wget", hp < bb, f"{hp:,.0f} vs {bb:,.0f}"),
    ("at least 100× fewer instructions than curl", curl / hp >= 100, f"{curl/hp:,.1f}×"),
    ("peak RSS ≤ 700 KiB (http:// probe, TLS compiled in)", rss <= 700, f"{rss:,.0f} KiB"),
    ("binary ≤ 1.6 MB with TLS", size <= 1_600_000, f"{size:,.0f} bytes"),
    ("binary ≤ 800 KB without TLS", notls <= 800_000, f"{notls:,.0f} bytes"),
    ("wall time no worse than busybox wget (ratio ≤ 1.0)", t_hp <= t_bb, f"busybox wget / healthprobe = {t_bb/t_hp:.2f}"),
]
print("| budget line | measured | met |")
print("|---|---|---|")
for name, ok, got in rows:
    print(f"| {name} | {got} | {'yes' if ok else '**no**'} |")
PY
  echo
  echo "## Machine"
  echo
  echo "- $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr)"
  echo "- $(rustc --version); nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
  echo "- $(version /usr/bin/curl --version | cut -d' ' -f1-2); $(version /usr/bin/wget --version | cut -d' ' -f1-3); $(version /bin/busybox | cut -d' ' -f1-2)"
  echo "- $(valgrind --version); $(hyperfine --version)"
  echo "- $(date -u +%Y-%m-%d)"
  if [ -n "$kept" ]; then
    echo
    echo "$kept"
  fi
} > BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
cat BENCHMARKS.md
if [ "${BENCH_ENFORCE:-0}" = 1 ] && grep -q '\*\*no\*\*' BENCHMARKS.md; then
  echo "bench: a budget line is missed" >&2
  exit 1
fi
