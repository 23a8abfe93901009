//! Link-time layout for the static release binary (no code is generated).
//!
//! A probe executes about 330 KB of the binary's 1.45 MB of code, but that
//! code is spread over the whole text segment, and the kernel maps file
//! pages around every page fault: the peak RSS of a plain-HTTP probe was
//! 1,608 KiB, 1,260 KiB of it text. `link-order.txt` (made by
//! `scripts/link-order.sh` from callgrind runs) lists the functions a probe
//! executes; lld's `--symbol-ordering-file` puts them together.
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
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=HEALTHPROBE_LINK_MAP");
    println!("cargo:rerun-if-env-changed=PATH");
    let target = env::var("TARGET").unwrap_or_default();
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    if !(target.ends_with("-linux-musl") && release && on_path("ld.lld")) {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-fuse-ld=lld");
    let order =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link-order.txt");
    if order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    // scripts/link-order.sh asks for a link map with mangled names.
    if let Ok(map) = env::var("HEALTHPROBE_LINK_MAP") {
        println!("cargo:rustc-link-arg-bins=-Wl,--no-demangle");
        println!("cargo:rustc-link-arg-bins=-Wl,-Map={map}");
    }
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|paths| env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
