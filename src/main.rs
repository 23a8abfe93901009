//! The `healthprobe` binary: parse, run, exit. Everything else is in the library.

use std::process::ExitCode;

use healthprobe::ExitStatus;

fn main() -> ExitCode {
    if let Err(e) = healthprobe::install_process_guards() {
        eprintln!("healthprobe: error: cannot install signal handlers: {e}");
        return ExitStatus::Unhealthy.into();
    }
    healthprobe::run(std::env::args_os()).into()
}
