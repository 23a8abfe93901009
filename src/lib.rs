//! healthprobe: health checks of HTTP, HTTPS, TCP and Unix-socket targets
//! with one deadline, for Docker `HEALTHCHECK`, CI waits and Kubernetes
//! exec probes.
//!
//! The flow is one way; each module imports only those above it:
//!
//! 1. `cli`: the flags as typed (clap derive, every flag with its
//!    environment variable); imports nothing of the crate.
//! 2. `config`: one validated `Config`, its values parsed by their own
//!    types; imports `cli`.
//! 3. `probe`: the checks (one file per target kind), the wait loop and the
//!    deadline, a `Verdict`; emits trace events, never prints; imports
//!    `config`.
//! 4. `report`: text, JSON and the `-v` trace; imports `config` and
//!    `probe`.
//! 5. here: [`run`] wires them and decides the [`ExitStatus`], in one place.

mod cli;
mod config;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod probe;
mod report;
#[cfg(unix)]
mod supervise;

pub use cli::definition as cli_definition;

use std::ffi::OsString;
use std::io::Write;
use std::sync::Arc;

/// The exit status of a run. Docker reads 0 as healthy and 1 as unhealthy and
/// reserves 2, so a probe has no other value: bad flags, bad environment
/// values and internal errors are all 1. The one exception is a supervisor
/// (`--startup`/`--liveness` with `-- CMD`): it is the container's main
/// process, not a health check, and exits with its command's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every target is healthy; also `--help` and `--version`.
    Healthy,
    /// Anything else.
    Unhealthy,
    /// The command's own status: a supervised command's (128 + the signal
    /// that ended it), or on Windows, where `-- CMD` runs as a child, that
    /// child's exit code (32 bits there).
    Child(i32),
}

impl ExitStatus {
    /// The process's exit code.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Healthy => 0,
            ExitStatus::Unhealthy => 1,
            ExitStatus::Child(code) => code,
        }
    }
}

impl From<&probe::Verdict> for ExitStatus {
    fn from(verdict: &probe::Verdict) -> Self {
        if verdict.healthy() {
            ExitStatus::Healthy
        } else {
            ExitStatus::Unhealthy
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    /// On Unix the low 8 bits (all a status has there). On Windows a
    /// child's code may need all 32 bits, which `ExitCode` cannot hold on
    /// stable Rust (`ExitCodeExt::from_raw` is unstable): such a code ends
    /// the process here, with the child's code.
    fn from(status: ExitStatus) -> Self {
        #[cfg(windows)]
        if u8::try_from(status.code()).is_err() {
            std::process::exit(status.code());
        }
        std::process::ExitCode::from((status.code() & 0xff) as u8)
    }
}

/// Whether SIGTERM, SIGINT and SIGHUP end the process at once with exit 1
/// (a probe); a supervisor turns it off and handles them itself.
static EXIT_ON_SIGNAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

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

/// Process-wide guards for the binary, installed once by `main`:
/// - a panic prints its message and exits 1 (never 101 or SIGABRT, which
///   Docker would not read as a plain "unhealthy");
/// - SIGTERM, SIGINT and SIGHUP (on Windows: Ctrl-C and Ctrl-Break) end the
///   probe at once with exit 1 (an interrupted check is not a healthy
///   one), without a report.
///
/// # Errors
/// When a signal handler cannot be installed (the OS refused sigaction).
pub fn install_process_guards() -> std::io::Result<()> {
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "healthprobe: internal error: {info}");
        std::process::exit(1);
    }));
    for signal in ENDING_SIGNALS {
        signal_hook::flag::register_conditional_shutdown(signal, 1, &EXIT_ON_SIGNAL)?;
    }
    Ok(())
}

/// The whole program, as `main` runs it: parses `args` (program name first)
/// and the environment, checks the targets, prints the report on stdout and
/// returns the exit status. An invalid invocation prints one line on stderr
/// and returns [`ExitStatus::Unhealthy`] without touching the network.
pub fn run<I, T>(args: I) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let config = match cli::parse(args) {
        Ok(invocation) => config::from_invocation(invocation),
        Err(cli::InvocationError::Display(text)) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            return ExitStatus::Healthy;
        }
        Err(cli::InvocationError::Usage(line)) => {
            let _ = writeln!(std::io::stderr(), "healthprobe: {}", error_line(&line));
            return ExitStatus::Unhealthy;
        }
    };
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            let error = format!("{error:#}");
            let _ = writeln!(
                std::io::stderr(),
                "healthprobe: error: {}",
                error_line(&error)
            );
            return ExitStatus::Unhealthy;
        }
    };
    let trace: Arc<dyn probe::Trace> = if config.verbosity == config::Verbosity::Verbose {
        Arc::new(report::StderrTrace {
            style: report::TextStyle::of(&config),
        })
    } else {
        Arc::new(probe::NoTrace)
    };
    if !config.targets.is_empty() {
        let verdict = probe::run(&config, &trace);
        report::write(&mut std::io::stdout().lock(), &verdict, &config);
        if let Some(file) = &config.body_file {
            report::write_bodies(&mut file.as_ref(), &verdict);
        }
        if !verdict.healthy() {
            return ExitStatus::Unhealthy;
        }
    }
    #[cfg(unix)]
    if let Some(supervise) = config.supervise.clone() {
        let config = Arc::new(config);
        let unarm = || EXIT_ON_SIGNAL.store(false, std::sync::atomic::Ordering::SeqCst);
        return match supervise::run(&config, &supervise, &trace, unarm) {
            supervise::Ended::Child(code) => ExitStatus::Child(code.into()),
            supervise::Ended::Stopped => ExitStatus::Unhealthy,
        };
    }
    match config.exec.split_first() {
        Some((program, args)) => exec(program, args),
        None => ExitStatus::Healthy,
    }
}

/// An error message as it is printed: on one line (line breaks and other
/// control characters escaped as Rust writes them, `\n`), and with the
/// password of every `scheme://user:password@` in it shown as `***`,
/// whichever flag's value echoed it. A value holding a newline or a URL
/// with credentials, given to any flag, cannot break the line or show the
/// password. The password is taken to run to the last `@` before
/// whitespace or a quote, so one holding `/`, `?` or `#` (which RFC 3986
/// would end the authority at) is masked too; a URL with a port and an `@`
/// in its path or query (`h:8080/?to=a@b`) is masked as well, on purpose.
pub(crate) fn error_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, after) = rest.split_at(i + 3);
        out.push_str(head);
        let end = after
            .find(|c: char| c == '"' || c.is_whitespace())
            .unwrap_or(after.len());
        let url = &after[..end];
        match url.rfind('@').map(|at| url.split_at(at)) {
            Some((userinfo, host)) if userinfo.contains(':') => {
                out.push_str(userinfo.split(':').next().unwrap_or_default());
                out.push_str(":***");
                out.push_str(host);
            }
            _ => out.push_str(url),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    if !out.contains(char::is_control) {
        return out;
    }
    let mut escaped = String::with_capacity(out.len() + 8);
    for c in out.chars() {
        match c.is_control() {
            true => escaped.extend(c.escape_default()),
            false => escaped.push(c),
        }
    }
    escaped
}

/// Replaces this process with `program` (looked up on PATH) and `args`,
/// verbatim: same PID, no child, so signals reach the program and no zombie
/// is left (what an entrypoint in a shell-less image needs). Returns only
/// when the program cannot be executed, after one line on stderr naming it
/// and the OS's reason.
#[cfg(unix)]
fn exec(program: &OsString, args: &[OsString]) -> ExitStatus {
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new(program).args(args).exec();
    cannot_run(program, &error)
}

/// Windows has no exec: `program` runs as a child with the same console,
/// standard streams and environment, and its exit code becomes this
/// process's (what a Windows container's entrypoint needs). Ctrl-C and
/// Ctrl-Break reach the child through the shared console; this process no
/// longer exits on them, but waits for the child's status.
#[cfg(not(unix))]
fn exec(program: &OsString, args: &[OsString]) -> ExitStatus {
    EXIT_ON_SIGNAL.store(false, std::sync::atomic::Ordering::SeqCst);
    match std::process::Command::new(program).args(args).status() {
        Ok(status) => ExitStatus::Child(status.code().unwrap_or(1)),
        Err(error) => cannot_run(program, &error),
    }
}

/// One line on stderr: the program that could not be started, and why.
fn cannot_run(program: &OsString, error: &std::io::Error) -> ExitStatus {
    let _ = writeln!(
        std::io::stderr(),
        "healthprobe: error: cannot run {}: {error}",
        program.to_string_lossy()
    );
    ExitStatus::Unhealthy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_one_line_without_passwords() {
        for (text, want) in [
            ("plain", "plain"),
            ("a\nb\tc", "a\\nb\\tc"),
            (
                "--retry: \"http://user:s3cr3t@127.0.0.1:8080/health\" is not a whole number",
                "--retry: \"http://user:***@127.0.0.1:8080/health\" is not a whole number",
            ),
            ("\"http://u:p@h\" bad", "\"http://u:***@h\" bad"),
            (
                "http://u:p:q@h?x http://u@h/ tcp://h:1",
                "http://u:***@h?x http://u@h/ tcp://h:1",
            ),
            ("grpc://a:b@c@d/x", "grpc://a:***@d/x"),
            // A password holding `/`, `?` or `#`.
            (
                "--retry: \"http://user:pa/ss@127.0.0.1:9/h\" is not a whole number",
                "--retry: \"http://user:***@127.0.0.1:9/h\" is not a whole number",
            ),
            ("http://u:a?b#c@h/", "http://u:***@h/"),
            (
                "\"http://u:a/b@h\", \"http://h/\"",
                "\"http://u:***@h\", \"http://h/\"",
            ),
            ("://", "://"),
        ] {
            assert_eq!(error_line(text), want, "{text}");
        }
    }
}
