//! The `healthprobe` binary: parse, run, exit. Everything else is in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic must not end in exit 101 or SIGABRT (Docker would not read
    // either as "unhealthy" with a message): print it and exit 1.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("healthprobe: internal error: {info}");
        std::process::exit(healthprobe::ExitStatus::Unhealthy as i32);
    }));
    healthprobe::run(std::env::args_os()).into()
}
