//! The `healthprobe` binary: parse, run, exit. Everything else is in the library.

use std::process::ExitCode;

use healthprobe::ExitStatus;

/// dlmalloc instead of musl's mallocng: a probe makes a few hundred small
/// allocations, and mallocng spent about half of its instructions on them
/// (callgrind, see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> ExitCode {
    if let Err(e) = healthprobe::install_process_guards() {
        eprintln!("healthprobe: error: cannot install signal handlers: {e}");
        return ExitStatus::Unhealthy.into();
    }
    healthprobe::run(std::env::args_os()).into()
}
