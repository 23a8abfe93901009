# shellcheck shell=bash
# Sourced by the scripts: what they share about the build.
#
#   target_dir             prints cargo's target directory (honours
#                          CARGO_TARGET_DIR and build.target-dir: cargo is
#                          asked, nothing is assumed)
#   package_version        prints the package version from Cargo.toml
#   probe_under_test       prints the healthprobe binary the smoke scripts
#                          test: HEALTHPROBE_BIN, or native_release's
#   native_release         builds the x86_64 musl release binary as
#                          release.sh does (in cargo's target directory) and
#                          prints its path
#   test_ca DIR NAME          makes, with openssl, a private CA (DIR/ca.pem)
#                          and a server certificate for NAME and 127.0.0.1
#                          signed by it (DIR/server.pem, DIR/server.key),
#                          valid for two days
#   self_contained BIN     says what BIN needs of its OS, or fails: an ELF
#                          binary must be statically linked, a Windows .exe
#                          may import only DLLs that every Windows ships
#   need_packages CMD=PKG… installs the Debian packages whose commands are
#                          missing (root, apt-get), e.g. need_packages nginx=nginx-light
#   need_gnu_time          installs GNU time (/usr/bin/time; `time` alone is
#                          the shell keyword)
#   rustup_targets T…      adds the rustup targets that are missing
#   need_fuzz_tools        installs the pinned nightly and cargo-fuzz when
#                          missing (scripts/fuzz.sh)
#   release_triples        the Linux targets scripts/release.sh builds
#   other_triples          the macOS targets it builds, which cannot run here
#   windows_triples        the Windows targets it builds: x86_64 (run under
#                          wine64 by scripts/wine-smoke.sh) and aarch64
#                          (built, not run here)
#   exe_suffix TRIPLE      .exe for a Windows target, nothing otherwise
#   wheel_platforms TRIPLE the Python wheel platform tags of TRIPLE's static
#                          binary, dot-joined (glibc and musl: manylinux and
#                          musllinux); nothing when PyPI has no tag for it
#   deb_arch TRIPLE        its Debian architecture (amd64, arm64), or nothing
#   build_std_toolchain    the pinned nightly that builds std from source
#   needs_build_std TRIPLE true when rustup serves no std for TRIPLE here
#   platform_of TRIPLE     its Docker platform (linux/arm/v7, …)
#   qemu_of TRIPLE         the qemu-user command that runs it (for armv6
#                          with -cpu arm1176, the Pi Zero/1 CPU: qemu's
#                          default arm CPU would run armv7 instructions)
#   build_kind TRIPLE      the group TRIPLE is built in: build-std for the
#                          five Linux targets whose std is built from
#                          source, else TRIPLE alone. One cargo invocation
#                          unifies the features of every target it builds,
#                          so only targets whose binaries come out
#                          byte-identical either way share one (x86_64 Linux
#                          built beside Windows came out different, with
#                          1,544 KiB peak RSS instead of 900)
#   build_release TRIPLE…  builds the release binaries of TRIPLEs, all of one
#                          build_kind, in one cargo invocation (cargo runs
#                          one target's single-threaded LTO beside another's
#                          compiling), in cargo's target directory
#                          (installing the toolchain and rustup targets they
#                          need), each with its dependency list embedded
#                          (cargo-auditable)
#   log TEXT, fail TEXT    a line on stdout, or a FAIL line on stderr and
#                          exit 1, each behind the script's name
#   since T0               seconds since T0 (`date +%s.%N`), to 0.1 s
#   free_port              a free 127.0.0.1 port
#   expect WANT [max=MS] [has=TEXT] -- ARGS…
#                          runs `$probe ARGS…` (with an empty environment),
#                          prints ok or FAIL, counts failures in $failures:
#                          the exit status must be WANT, the run no longer
#                          than MS milliseconds, the output must hold TEXT

script=$(basename "$0" .sh)
# Eight Linux architectures, as grpc_health_probe, microcheck and wait4x
# ship: static musl executables.
# The scripts that source this file read these lists.
# shellcheck disable=SC2034
release_triples=(
  x86_64-unknown-linux-musl aarch64-unknown-linux-musl i686-unknown-linux-musl
  armv7-unknown-linux-musleabihf arm-unknown-linux-musleabihf
  riscv64gc-unknown-linux-musl powerpc64le-unknown-linux-musl s390x-unknown-linux-musl
)
# macOS, x86_64 and Apple silicon: cross-linked by zig, built and checked
# here but never run (no macOS machine); the macOS job of
# .github/workflows/ci.yml runs `cargo test` on both.
# shellcheck disable=SC2034
other_triples=(x86_64-apple-darwin aarch64-apple-darwin)
# Windows: x86_64 linked by Debian's mingw-w64 (stable), aarch64 by zig
# (the gnullvm target: LLVM's libc++/mingw runtime, which zig brings).
# shellcheck disable=SC2034
windows_triples=(x86_64-pc-windows-gnu aarch64-pc-windows-gnullvm)
# rustup serves no prebuilt standard library for these on the machines this
# is built on (armv7 gives 404), so std is built from source, which needs a
# nightly compiler (-Z build-std). One date, pinned here and nowhere else, so
# every build of these five uses the same compiler; move it forward on
# purpose (it must offer rust-src). Its rustc is 1.97.0-nightly (2026-05-19).
build_std_toolchain=nightly-2026-05-20
failures=0

# need_fuzz_tools: the pinned nightly (with rust-src) and cargo-fuzz, which
# scripts/fuzz.sh needs.
need_fuzz_tools() {
  rustup toolchain list | grep -q "^$build_std_toolchain" \
    || rustup toolchain install "$build_std_toolchain" --profile minimal --component rust-src
  command -v cargo-fuzz >/dev/null || cargo install --quiet --locked cargo-fuzz --version 0.13.2
}

log() { echo "$script: $*"; }
fail() { echo "$script: FAIL: $*" >&2; exit 1; }
since() { python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$(date +%s.%N)" "$1"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# rerun_failed_once WHERE CMD...: runs CMD, a `cargo test ... --` whose
# last arguments go to the test harness, and when it fails, runs each failed
# test once more, alone (CMD --exact NAME --test-threads 1). It passes only
# if every one passes then; a test that fails twice, or more than three
# failures (or none named), fail the script, and every re-run is named in
# the log ("RE-RUN PASSED"). For the suites run under an emulator (qemu,
# wine), where the whole machine was seen to stall for 1-2 s in CI and a
# bound tied to the clock then fails: the CI run of 4c6ecbc under wine (a
# probe started 2 s late), that of 105bb71 under qemu (four probes 1 s over
# their deadline at the same moment). WHERE ends the log lines
# ("under wine").
rerun_failed_once() {
  local where=$1 out t
  shift
  out=$(mktemp)
  # (pipefail: the pipeline fails when the suite does.)
  if ! "$@" 2>&1 | tee "$out"; then
    local failed_tests=()
    # cargo test lists the failed tests, indented, after the last "failures:".
    mapfile -t failed_tests < <(awk '/^failures:$/ {n = NR} {line[NR] = $0}
      END {for (i = n + 1; i <= NR && line[i] ~ /^    [a-z0-9_:]+$/; i++) {sub(/^ +/, "", line[i]); print line[i]}}' "$out")
    rm -f "$out"
    if [ "${#failed_tests[@]}" -lt 1 ] || [ "${#failed_tests[@]}" -gt 3 ]; then
      fail "${#failed_tests[@]} tests failed $where (more than three, or none named): not re-run"
    fi
    for t in "${failed_tests[@]}"; do
      log "re-running $t alone after a failure $where"
      "$@" --exact "$t" --test-threads 1 || fail "$t failed twice $where"
      log "RE-RUN PASSED: $t (failed once $where, passed alone)"
    done
  fi
  rm -f "$out"
}

rustup_targets() {
  local t
  for t in "$@"; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  done
}

need_gnu_time() {
  [ -x /usr/bin/time ] || need_packages gnu-time-missing=time
}

expect() {
  local want=$1 max="" has="" out got t0 took
  shift
  while [ "$1" != "--" ]; do
    case "$1" in
      max=*) max=${1#max=} ;;
      has=*) has=${1#has=} ;;
      *) fail "expect: unknown word $1" ;;
    esac
    shift
  done
  shift
  t0=$(date +%s%N)
  set +e
  # $probe: the caller's probe command line (a runner and the binary), split
  # on purpose.
  # shellcheck disable=SC2154,SC2086
  out=$(env -i $probe "$@" 2>&1)
  got=$?
  set -e
  took=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ "$got" != "$want" ]; then
    echo "FAIL exit $got, want $want: healthprobe $*: $out"
    failures=$((failures + 1))
  elif [ -n "$max" ] && [ "$took" -gt "$max" ]; then
    echo "FAIL took ${took} ms, more than ${max} ms: healthprobe $*: $out"
    failures=$((failures + 1))
  elif [ -n "$has" ] && [[ "$out" != *"$has"* ]]; then
    echo "FAIL exit $got but no '$has' in: healthprobe $*: $out"
    failures=$((failures + 1))
  else
    echo "ok   exit $got in ${took} ms: $out"
  fi
}

needs_build_std() {
  case "$1" in
    x86_64-*|aarch64-*|i686-*) return 1 ;;
    *) return 0 ;;
  esac
}

platform_of() {
  case "$1" in
    x86_64-*) echo linux/amd64 ;;
    aarch64-*) echo linux/arm64 ;;
    i686-*) echo linux/386 ;;
    armv7-*) echo linux/arm/v7 ;;
    arm-*) echo linux/arm/v6 ;;
    riscv64gc-*) echo linux/riscv64 ;;
    powerpc64le-*) echo linux/ppc64le ;;
    s390x-*) echo linux/s390x ;;
    *) fail "no Docker platform for $1" ;;
  esac
}

qemu_of() {
  case "$1" in
    aarch64-*) echo qemu-aarch64-static ;;
    i686-*) echo qemu-i386-static ;;
    armv7-*) echo qemu-arm-static ;;
    arm-*) echo "qemu-arm-static -cpu arm1176" ;;
    riscv64gc-*) echo qemu-riscv64-static ;;
    powerpc64le-*) echo qemu-ppc64le-static ;;
    s390x-*) echo qemu-s390x-static ;;
    *) echo "" ;;
  esac
}

build_kind() {
  if needs_build_std "$1"; then echo build-std; return; fi
  echo "$1"
}

build_release() {
  local kind t args=(--quiet --release --locked --bin healthprobe)
  kind=$(build_kind "$1")
  for t in "$@"; do
    [ "$(build_kind "$t")" = "$kind" ] || fail "build_release: $t is not built like $1"
    args+=(--target "$t")
  done
  if [ "$kind" = build-std ]; then
    rustup toolchain list | grep -q "^$build_std_toolchain" \
      || rustup toolchain install "$build_std_toolchain" --profile minimal --component rust-src
    # `cargo auditable` would pass its own cargo on in CARGO; calling the
    # binary directly lets it run cargo-zigbuild instead (cargo-auditable
    # 0.7.3 and later). The targets' rustflags are in .cargo/config.toml.
    RUSTUP_TOOLCHAIN=$build_std_toolchain CARGO=cargo-zigbuild cargo-auditable auditable build \
      "${args[@]}" -Z build-std=std,panic_abort
    return
  fi
  rustup_targets "$@"
  case "$kind" in
    # zig would stamp its own newest macOS as the minimum: the oldest each
    # architecture's Rust std supports instead.
    x86_64-apple-darwin) MACOSX_DEPLOYMENT_TARGET=10.12 CARGO=cargo-zigbuild cargo-auditable auditable build "${args[@]}" ;;
    aarch64-apple-darwin) MACOSX_DEPLOYMENT_TARGET=11.0 CARGO=cargo-zigbuild cargo-auditable auditable build "${args[@]}" ;;
    # The link map (mangled names) is what scripts/link-order.sh reads.
    x86_64-unknown-linux-musl)
      HEALTHPROBE_LINK_MAP="$(target_dir)/$1/release/healthprobe.map" cargo auditable build "${args[@]}" ;;
    x86_64-unknown-linux-* | x86_64-pc-windows-gnu) cargo auditable build "${args[@]}" ;;
    *) CARGO=cargo-zigbuild cargo-auditable auditable build "${args[@]}" ;;
  esac
}

wheel_platforms() {
  local arch
  case "$1" in
    x86_64-unknown-linux-musl) arch=x86_64 ;;
    aarch64-unknown-linux-musl) arch=aarch64 ;;
    i686-unknown-linux-musl) arch=i686 ;;
    armv7-unknown-linux-musleabihf) arch=armv7l ;;
    powerpc64le-unknown-linux-musl) arch=ppc64le ;;
    s390x-unknown-linux-musl) arch=s390x ;;
    # manylinux starts at glibc 2.31 for riscv64 (the first glibc there).
    riscv64gc-unknown-linux-musl) echo "manylinux_2_31_riscv64.musllinux_1_1_riscv64"; return ;;
    # armv6 (linux_armv6l) has no tag PyPI accepts; macOS and Windows
    # wheels are not built (nobody installs a HEALTHCHECK binary there).
    *) return 0 ;;
  esac
  # A static binary needs no libc at all: the oldest tags pip and PyPI know
  # for the architecture (manylinux2014 is glibc 2.17; musllinux_1_1).
  echo "manylinux_2_17_$arch.manylinux2014_$arch.musllinux_1_1_$arch"
}

deb_arch() {
  case "$1" in
    x86_64-unknown-linux-musl) echo amd64 ;;
    aarch64-unknown-linux-musl) echo arm64 ;;
    *) return 0 ;;
  esac
}

exe_suffix() {
  case "$1" in
    *-windows-*) echo .exe ;;
    *) echo "" ;;
  esac
}

target_dir() {
  cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

package_version() {
  cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["packages"][0]["version"])'
}

self_contained() {
  local kind dll
  kind=$(file -b "$1")
  case "$kind" in
    *"statically linked"*) echo "statically linked" ;;
    PE32*)
      need_packages x86_64-w64-mingw32-objdump=binutils-mingw-w64-x86-64
      for dll in $(x86_64-w64-mingw32-objdump -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p' \
                   | tr '[:upper:]' '[:lower:]' | sort -u); do
        case "$dll" in
          kernel32.dll | ntdll.dll | advapi32.dll | ws2_32.dll | userenv.dll | msvcrt.dll \
            | bcrypt.dll | bcryptprimitives.dll | api-ms-win-core-*.dll) ;;
          *) fail "$1 imports $dll, which Windows does not ship" ;;
        esac
      done
      echo "a Windows executable that imports only system DLLs"
      ;;
    *) fail "$1 is not statically linked: $kind" ;;
  esac
}

need_packages() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null || missing+=("${pair#*=}")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

test_ca() {
  local dir=$1 name=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=healthprobe test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$name" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,IP:127.0.0.1\n' "$name" > "$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
}

# commit_time: the commit's time in seconds since 1970 (or now, outside
# git): release.sh's SOURCE_DATE_EPOCH.
commit_time() {
  git log -1 --format=%ct 2>/dev/null || date +%s
}

probe_under_test() {
  if [ -n "${HEALTHPROBE_BIN:-}" ]; then
    echo "$HEALTHPROBE_BIN"
    return
  fi
  native_release
}

# native_release: builds the x86_64 musl release binary and prints its path
# (in cargo's target directory). Where cargo-auditable is installed this is
# release.sh's own build of that target (build_release, with the
# SOURCE_DATE_EPOCH release.sh exports: the commit's time), so the scripts
# run before and after the release share one compile. A plain `cargo build`
# and the auditable one invalidate each other's healthprobe (cargo-auditable
# wraps rustc for the workspace's crates), and another SOURCE_DATE_EPOCH
# reruns ring's build script (cc watches the variable) and all that depends
# on it: 40 s each time. Without cargo-auditable, a plain build.
native_release() {
  local triple=x86_64-unknown-linux-musl
  if command -v cargo-auditable >/dev/null; then
    SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(commit_time)} build_release "$triple" >&2
  else
    cargo build --quiet --release --locked --target "$triple" --bin healthprobe >&2
  fi
  echo "$(target_dir)/$triple/release/healthprobe"
}
