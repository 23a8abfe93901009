#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the six targets in
# fuzz/fuzz_targets/: the invocation, `${VAR}` expansion, target parsing,
# the HTTP reply through ureq, the gRPC reply through h2, and redirects
# with the body and JSON expectations (fuzz/README.md says what each
# asserts).
#
#   bash scripts/fuzz.sh                          replay the corpus, then fuzz
#                                                 each target 20 s (CI)
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh         the long runs (BENCHMARKS.md)
#   FUZZ_TARGETS="http_reply grpc_reply" bash scripts/fuzz.sh
#   FUZZ_MINIMIZE=1 …                             then merge what the runs found
#                                                 into fuzz/corpus/, minimized
#   FUZZ_JOBS=1 …                                 one target at a time (.ci/run,
#                                                 beside the release build)
#
# Each target first runs every input of its committed corpus
# (fuzz/corpus/TARGET, read only here), then fuzzes for FUZZ_SECONDS from
# it, new inputs going to a temporary directory, two targets at a time on
# a machine with two cores or more. Any crash, panic, leak,
# timeout (10 s per input) or out-of-memory fails the script, with the
# input and how to replay it. The nightly is the one the release pins for
# build-std (scripts/lib.sh); cargo-fuzz is installed when missing. Builds
# go to cargo's target directory (CARGO_TARGET_DIR honoured).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

seconds=${FUZZ_SECONDS:-20}
read -r -a targets <<< "${FUZZ_TARGETS:-invocation expand target http_reply grpc_reply redirect_expect}"
need_fuzz_tools

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

t0=$(date +%s.%N)
cargo "+$build_std_toolchain" fuzz build --release > "$work/build.log" 2>&1 \
  || { grep -v '^ *Compiling' "$work/build.log" >&2; fail "cargo fuzz build failed (above)"; }
host=$(rustc "+$build_std_toolchain" -vV | sed -n 's/^host: //p')
bins="$(cd fuzz && target_dir)/$host/release"
for target in "${targets[@]}"; do
  [ -x "$bins/$target" ] || fail "cargo fuzz build made no $bins/$target"
done
log "built ${#targets[@]} targets in $(since "$t0") s"

# fuzz_one TARGET: replays TARGET's corpus, then fuzzes it for $seconds.
fuzz_one() {
  local target=$1 corpus new artifacts flags inputs runs cov ft found t0 input
  corpus=fuzz/corpus/$target
  new="$work/$target"
  artifacts="$work/artifacts-$target/"
  mkdir -p "$corpus" "$new" "$artifacts"
  flags=(-timeout=10 -rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$artifacts" -print_final_stats=1)
  # A dictionary of the tokens a target's input is made of (HTTP/1.1 heads).
  [ -f "fuzz/$target.dict" ] && flags+=(-dict="fuzz/$target.dict")
  t0=$(date +%s.%N)
  inputs=$(find "$corpus" -type f | wc -l)
  if ! "$bins/$target" "${flags[@]}" -runs=0 "$corpus" > "$work/replay-$target.log" 2>&1; then
    tail -n 40 "$work/replay-$target.log" >&2
    fail "$target: an input of $corpus fails (above); replay: cargo +$build_std_toolchain fuzz run $target $corpus"
  fi
  log "$target: replayed the corpus, $inputs inputs, in $(since "$t0") s"
  [ "$seconds" -gt 0 ] || return 0
  if ! "$bins/$target" "${flags[@]}" -max_total_time="$seconds" "$new" "$corpus" \
    > "$work/fuzz-$target.log" 2>&1; then
    tail -n 60 "$work/fuzz-$target.log" >&2
    for input in "$artifacts"*; do
      [ -e "$input" ] || continue
      mkdir -p fuzz/artifacts/"$target"
      cp "$input" fuzz/artifacts/"$target"/
      echo "$script: $target: input kept in fuzz/artifacts/$target/$(basename "$input"); replay: cargo +$build_std_toolchain fuzz run $target fuzz/artifacts/$target/$(basename "$input")" >&2
    done
    fail "$target: failed after fuzzing (above)"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz-$target.log")
  cov=$(grep -o 'cov: [0-9]*' "$work/fuzz-$target.log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$work/fuzz-$target.log" | tail -n 1 | cut -d' ' -f2)
  found=$(find "$new" -type f | wc -l)
  log "$target: ${seconds} s, $runs executions, coverage $cov edges and $ft features, $found new inputs"
  if [ "${FUZZ_MINIMIZE:-0}" = 1 ]; then
    mkdir -p "$work/min-$target"
    "$bins/$target" -merge=1 -max_len=4096 -timeout=10 "$work/min-$target" "$corpus" "$new" \
      > "$work/merge-$target.log" 2>&1 || { tail -n 20 "$work/merge-$target.log" >&2; fail "$target: merge"; }
    rm -rf "$corpus" && mv "$work/min-$target" "$corpus"
    log "$target: corpus minimized to $(find "$corpus" -type f | wc -l) inputs, $(du -sk "$corpus" | cut -f1) KiB"
  fi
}

# Two targets at a time on a machine with two cores or more (each libFuzzer
# process is single-threaded, and each target still gets its $seconds):
# about 95 s instead of 160 for the six in CI. A target that fails fails
# the script once its batch has ended.
slots=${FUZZ_JOBS:-$(( $(nproc) < 2 ? 1 : 2 ))}
failed=()
for ((i = 0; i < ${#targets[@]}; i += slots)); do
  pids=()
  for target in "${targets[@]:i:slots}"; do
    fuzz_one "$target" &
    pids+=("$!:$target")
  done
  for p in "${pids[@]}"; do
    wait "${p%%:*}" || failed+=("${p#*:}")
  done
done
[ "${#failed[@]}" = 0 ] || fail "failed: ${failed[*]} (above)"
log "ok: ${targets[*]}"
