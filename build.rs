//! Build facts for `--version`, and the link-time layout of the static
//! release binary (no code is generated).
//!
//! `--version` names the build, so that a bug report says which binary it
//! was: `healthprobe 0.2.0 (aarch64-unknown-linux-musl, tls, grpc, 1a2b3c4)`.
//! The target triple comes from cargo, the TLS and gRPC words from the `tls`
//! and `grpc` features, the
//! commit from `git rev-parse --short HEAD` (or `HEALTHPROBE_COMMIT` when
//! set, for builds from a tarball; `unknown` when neither is there).
//!
//! A probe executes a small part of the binary's code, but that code is
//! spread over the whole text segment, and the kernel maps file pages
//! around every page fault, so most of a probe's peak RSS would be text it
//! never runs (BENCHMARKS.md has the figures). `link-order.txt` (made by
//! `scripts/link-order.sh` from callgrind runs of the release build) lists
//! the functions a probe executes; lld's `--symbol-ordering-file` puts them
//! together.
//!
//! Applied only to release builds for `*-linux-musl` when `ld.lld` is on
//! PATH (Debian's `lld`); otherwise the default linker and layout are used,
//! and the binary behaves the same. Names in the file that no longer exist
//! (after a compiler or dependency update) are ignored: the layout then
//! degrades towards the default until the file is regenerated.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    build_facts();
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=HEALTHPROBE_LINK_MAP");
    println!("cargo:rerun-if-env-changed=PATH");
    let target = env::var("TARGET").unwrap_or_default();
    // The layout only for x86_64: link-order.txt lists the functions an
    // x86_64 probe executes (callgrind runs on this machine), and the
    // aarch64 release is linked by `zig cc` (cargo-zigbuild), whose driver
    // brings its own lld and does not take `-fuse-ld=lld` with a symbol
    // ordering file. The arm64 binary has the default layout; the x86_64
    // binary keeps its layout and figures (BENCHMARKS.md).
    if !target.starts_with("x86_64-") {
        return;
    }
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    if !(target.ends_with("-linux-musl") && release && on_path("ld.lld")) {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-fuse-ld=lld");
    // scripts/bench.sh links one binary with lld's default layout, to
    // measure what the layout buys.
    println!("cargo:rerun-if-env-changed=HEALTHPROBE_DEFAULT_LAYOUT");
    if env::var_os("HEALTHPROBE_DEFAULT_LAYOUT").is_some() {
        return;
    }
    let order =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link-order.txt");
    if order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    let layout =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link-layout.ld");
    println!("cargo:rerun-if-changed=link-layout.ld");
    if layout.is_file() {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", layout.display());
    }
    // scripts/lib.sh's release build asks for a link map with mangled
    // names, which scripts/link-order.sh reads.
    if let Ok(map) = env::var("HEALTHPROBE_LINK_MAP") {
        println!("cargo:rustc-link-arg-bins=-Wl,--no-demangle");
        println!("cargo:rustc-link-arg-bins=-Wl,-Map={map}");
    }
}

/// Sets `HEALTHPROBE_BUILD` for `--version`: `TARGET, tls|no tls,
/// grpc|no grpc, COMMIT`.
fn build_facts() {
    println!("cargo:rerun-if-env-changed=HEALTHPROBE_COMMIT");
    let dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    // A worktree's HEAD is in its own git directory, the branches in the
    // repository's (git says where; `.git` is a file there).
    let (git, common) = git_dirs(&dir).unwrap_or_else(|| {
        let git = Path::new(&dir).join(".git");
        (git.clone(), git)
    });
    // A new commit changes HEAD or the branch it names. Only paths that
    // exist are watched: while a watched path is missing, cargo reruns the
    // build script on every build, and healthprobe is compiled again each
    // time (a checkout whose refs were never packed has no packed-refs).
    let watch = |path: &Path| {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    };
    watch(&git.join("HEAD"));
    watch(&common.join("packed-refs"));
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
        && let Some(reference) = head.trim().strip_prefix("ref: ")
    {
        // A packed branch has no file of its own until its next commit
        // writes one: then the directory it is written to is watched.
        let branch = common.join(reference);
        match branch.parent() {
            Some(dir) if !branch.exists() => watch(dir),
            _ => watch(&branch),
        }
    }
    let commit = env::var("HEALTHPROBE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let out = std::process::Command::new("git")
                .args(["rev-parse", "--short=7", "HEAD"])
                .current_dir(&dir)
                .output()
                .ok()?;
            let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
            (out.status.success() && !commit.is_empty()).then_some(commit)
        })
        .unwrap_or_else(|| "unknown".to_string());
    let target = env::var("TARGET").unwrap_or_default();
    let tls = if env::var_os("CARGO_FEATURE_TLS").is_some() {
        "tls"
    } else {
        "no tls"
    };
    let grpc = if env::var_os("CARGO_FEATURE_GRPC").is_some() {
        "grpc"
    } else {
        "no grpc"
    };
    println!("cargo:rustc-env=HEALTHPROBE_BUILD={target}, {tls}, {grpc}, {commit}");
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|paths| env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The checkout's git directory (its HEAD) and the repository's common
/// one (branches, packed-refs), as git names them; `None` without git or
/// outside a repository.
fn git_dirs(dir: &str) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let out = std::process::Command::new("git")
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
        ])
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines().map(std::path::PathBuf::from);
    let (git, common) = (lines.next()?, lines.next()?);
    out.status.success().then_some((git, common))
}
