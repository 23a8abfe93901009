//! Process-wide guards of the binary, installed once by `main`: what a
//! panic does, and SIGTERM, SIGINT and SIGHUP ending a probe.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

use crate::redact::{Secrets, one_line};

/// Whether SIGTERM, SIGINT and SIGHUP end the process at once with exit 1
/// (a probe); a supervisor turns it off and handles them itself.
pub(crate) static EXIT_ON_SIGNAL: AtomicBool = AtomicBool::new(true);

/// The signals that end a probe at once with exit 1.
#[cfg(unix)]
const ENDING_SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGHUP,
];
/// Windows: the C runtime's SIGINT is Ctrl-C and its SIGBREAK Ctrl-Break.
#[cfg(windows)]
const ENDING_SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGBREAK,
];

/// The secrets of the run, for the panic message.
static SECRETS: Mutex<Option<Arc<Secrets>>> = Mutex::new(None);

/// What a panic does besides its message line: a supervisor registers the
/// stop of its child here. It never returns.
type OnPanic = Box<dyn Fn() + Send + Sync>;
static ON_PANIC: OnceLock<OnPanic> = OnceLock::new();

/// Makes the panic message mask `secrets` (the run's).
pub(crate) fn set_secrets(secrets: &Arc<Secrets>) {
    *SECRETS.lock().unwrap_or_else(|e| e.into_inner()) = Some(secrets.clone());
}

/// Registers what a panic must do before the process ends (a supervisor:
/// stop its child). `stop` never returns: it exits the process, or parks
/// the panicking thread while another thread does.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn on_panic(stop: impl Fn() + Send + Sync + 'static) {
    let _ = ON_PANIC.set(Box::new(stop));
}

/// Process-wide guards for the binary, installed once by `main`:
/// - a panic prints one line (secrets masked) and exits 1, never 101 or
///   SIGABRT, which Docker would not read as a plain "unhealthy"; under a
///   supervisor, the child is stopped first (its process group gets
///   SIGTERM, then SIGKILL after the grace period);
/// - SIGTERM, SIGINT and SIGHUP (on Windows: Ctrl-C and Ctrl-Break) end the
///   probe at once with exit 1 (an interrupted check is not a healthy
///   one), without a report.
///
/// # Errors
/// When a signal handler cannot be installed (the OS refused sigaction).
pub fn install_process_guards() -> std::io::Result<()> {
    std::panic::set_hook(Box::new(|info| {
        let text = format!("healthprobe: internal error: {info}");
        let secrets = SECRETS.lock().ok().and_then(|s| s.clone());
        let text = match &secrets {
            Some(secrets) => secrets.mask(&text).into_owned(),
            None => text,
        };
        let _ = writeln!(std::io::stderr(), "{}", one_line(&text));
        if let Some(stop) = ON_PANIC.get() {
            stop();
        }
        std::process::exit(1);
    }));
    for signal in ENDING_SIGNALS {
        signal_hook::flag::register_conditional_shutdown(signal, 1, &EXIT_ON_SIGNAL)?;
    }
    Ok(())
}
