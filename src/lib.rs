//! healthprobe: health checks of HTTP, HTTPS, TCP and Unix-socket targets
//! with one deadline, for Docker `HEALTHCHECK`, CI waits and Kubernetes
//! exec probes.
//!
//! The flow is one way; each module imports only those above it:
//!
//! 0. `redact`: the run's secrets and the one writer that masks them in
//!    every line written; `guard`: what a panic and a signal do. They
//!    import nothing else of the crate; every layer may use them.
//! 1. `cli`: the flags as typed (clap derive, every flag with its
//!    environment variable).
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
mod guard;
mod network;
mod probe;
mod reaped;
mod redact;
mod report;
#[cfg(unix)]
mod status;
#[cfg(unix)]
mod supervise;

pub use cli::{definition as cli_definition, markdown_table as cli_markdown_table};

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

use guard::EXIT_ON_SIGNAL;

/// Attempts a dry run plans.
const DRY_RUN_ATTEMPTS: usize = 16;

/// What the fuzz targets and the tests drive, beside [`run`]: not part of
/// the API, no semver.
#[doc(hidden)]
pub mod internals {
    pub use crate::cli::expand;
    pub use crate::config::{Target, TargetKind};
    #[cfg(feature = "grpc")]
    pub use crate::network::GrpcLink;
    pub use crate::network::{HttpLink, Network};
    pub use crate::redact::{Secrets, one_line};

    /// How [`crate::run_with`] differs from [`crate::run`].
    #[derive(Debug, Default)]
    pub struct Hooks {
        /// Checks connect here instead of the network.
        pub network: Network,
        /// Stop once the config is valid: write the plan of the run (its
        /// targets, each attempt's start and deadline on a stubbed clock)
        /// instead of probing; nothing is sent or started.
        pub dry_run: bool,
    }

    /// `location` resolved against `current`, when a check would follow it.
    pub fn redirect(current: &str, location: &str) -> Option<String> {
        crate::probe::redirect::next(current, location)
    }

    /// Judges a response (`status`, `body`) against expectations given as
    /// their flags' values (`--expect-status`, `--expect-body`,
    /// `--expect-json`): `Ok(None)` when healthy, `Ok(Some(reason))` when
    /// not.
    ///
    /// # Errors
    /// An expectation that does not parse, as one line.
    pub fn judge(
        status: u16,
        body: &[u8],
        expect_status: &str,
        expect_body: Option<&str>,
        expect_json: &[&str],
    ) -> Result<Option<String>, String> {
        let expect = crate::config::Expectations {
            status: expect_status.parse().map_err(|e| format!("{e:#}"))?,
            body: expect_body.map(str::to_string),
            json: expect_json
                .iter()
                .map(|j| j.parse().map_err(|e| format!("{e:#}")))
                .collect::<Result<_, _>>()?,
        };
        Ok(crate::probe::judge::judge(status, body, &expect).map(|f| format!("{f:?}")))
    }

    /// The body excerpt a report shows.
    pub fn excerpt(body: &[u8]) -> Option<String> {
        crate::probe::judge::excerpt(body)
    }
}
pub use guard::install_process_guards;

/// The whole program, as `main` runs it: parses `args` (program name first)
/// and the environment, checks the targets, writes the report to `out` and
/// everything else (error lines, the `-v` trace, a supervisor's events) to
/// `err`, both through the run's [`redact::Console`], and returns the exit
/// status. An invalid invocation writes one line to `err` and returns
/// [`ExitStatus::Unhealthy`] without touching the network.
pub fn run<I, T>(args: I, out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_with(args, out, err, internals::Hooks::default())
}

/// [`run`], with `hooks`: another network, or a dry run.
#[doc(hidden)]
pub fn run_with<I, T>(
    args: I,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    hooks: internals::Hooks,
) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let secrets = redact::Secrets::new();
    let vars = cli::Vars::read();
    cli::register_secrets(&args, &vars, &secrets);
    guard::set_secrets(&secrets);
    let console = Arc::new(redact::Console::new(out, err, secrets));
    let mut config = match configure(args, vars, &console) {
        Ok(config) => config,
        Err(status) => return status,
    };
    config.network = hooks.network;
    if hooks.dry_run {
        let start = std::time::Instant::now();
        let plan = probe::plan(&config, start, DRY_RUN_ATTEMPTS);
        report::write_plan(&mut *console.out(), &config, &plan);
        #[cfg(unix)]
        if let Some(supervise) = &config.supervise {
            let schedule = supervise::plan(supervise, start, DRY_RUN_ATTEMPTS);
            report::write_schedule(&mut *console.out(), start, &schedule);
        }
        return ExitStatus::Healthy;
    }
    act(config, &console)
}

/// The validated config of `args`; or, when there is none to run, what
/// was written instead (the help, the version, the one line of a bad
/// invocation) and the status to exit with.
fn configure(
    args: Vec<OsString>,
    vars: cli::Vars,
    console: &redact::Console,
) -> Result<config::Config, ExitStatus> {
    let parsed = match cli::parse(args, vars, console.secrets.clone()) {
        Ok(args) => config::from_args(args, &console.secrets),
        Err(cli::InvocationError::Display(text)) => {
            let mut out = console.out();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            return Err(ExitStatus::Healthy);
        }
        Err(cli::InvocationError::Usage(line)) => {
            console.say(&line);
            return Err(ExitStatus::Unhealthy);
        }
    };
    parsed.map_err(|error| {
        console.say(&format!("error: {error:#}"));
        ExitStatus::Unhealthy
    })
}

/// Does what `config` asks: checks the targets and reports; then runs the
/// command after `--`, in place of healthprobe or supervised.
fn act(config: config::Config, console: &Arc<redact::Console>) -> ExitStatus {
    if let Some(socket) = &config.status {
        return ask_status(socket, &config, console);
    }
    let trace: Arc<dyn probe::Trace> = if config.verbosity == config::Verbosity::Verbose {
        Arc::new(report::ConsoleTrace {
            style: report::TextStyle::of(&config),
            console: console.clone(),
        })
    } else {
        Arc::new(probe::NoTrace)
    };
    if !config.targets.is_empty() {
        let verdict = probe::run(&config, &trace);
        report::write(&mut *console.out(), &verdict, &config);
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
        return match supervise::run(&config, &supervise, &trace, console, unarm) {
            supervise::Ended::Child(code) => ExitStatus::Child(code.into()),
            supervise::Ended::Stopped => ExitStatus::Unhealthy,
        };
    }
    match config.exec.split_first() {
        Some((program, args)) => exec(program, args, console),
        None => ExitStatus::Healthy,
    }
}

/// `--status`: asks the supervisor on `socket` and prints its answer (one
/// line, or its JSON with `-o json`); exit 0 when it is ready.
#[cfg(unix)]
fn ask_status(
    socket: &config::StatusSocket,
    config: &config::Config,
    console: &redact::Console,
) -> ExitStatus {
    let (ready, line, json) = match status::ask(socket) {
        Ok(answer) => answer,
        Err(error) => {
            let line = format!("not ready: {error:#}");
            let json =
                serde_json::json!({"ready": false, "verdict": line, "probes": []}).to_string();
            (false, line, json)
        }
    };
    if config.verbosity != config::Verbosity::Quiet {
        let text = match config.output {
            config::Output::Json => json,
            config::Output::Text => redact::one_line(&line).into_owned(),
        };
        let mut out = console.out();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
    match ready {
        true => ExitStatus::Healthy,
        false => ExitStatus::Unhealthy,
    }
}

#[cfg(not(unix))]
fn ask_status(
    _: &config::StatusSocket,
    _: &config::Config,
    console: &redact::Console,
) -> ExitStatus {
    console.say("error: --status needs a supervisor, which needs Linux");
    ExitStatus::Unhealthy
}

/// Replaces this process with `program` (looked up on PATH) and `args`,
/// verbatim: same PID, no child, so signals reach the program and no zombie
/// is left (what an entrypoint in a shell-less image needs). Returns only
/// when the program cannot be executed, after one line naming it and the
/// OS's reason.
#[cfg(unix)]
fn exec(program: &OsString, args: &[OsString], console: &redact::Console) -> ExitStatus {
    use std::os::unix::process::CommandExt;
    let _ = console.out().flush();
    let error = std::process::Command::new(program).args(args).exec();
    cannot_run(program, &error, console)
}

/// Windows has no exec: `program` runs as a child with the same console,
/// standard streams and environment, and its exit code becomes this
/// process's (what a Windows container's entrypoint needs). Ctrl-C and
/// Ctrl-Break reach the child through the shared console; this process no
/// longer exits on them, but waits for the child's status.
#[cfg(not(unix))]
fn exec(program: &OsString, args: &[OsString], console: &redact::Console) -> ExitStatus {
    EXIT_ON_SIGNAL.store(false, std::sync::atomic::Ordering::SeqCst);
    let _ = console.out().flush();
    match std::process::Command::new(program).args(args).status() {
        Ok(status) => ExitStatus::Child(status.code().unwrap_or(1)),
        Err(error) => cannot_run(program, &error, console),
    }
}

/// One line on stderr: the program that could not be started, and why.
fn cannot_run(program: &OsString, error: &std::io::Error, console: &redact::Console) -> ExitStatus {
    console.say(&format!(
        "error: cannot run {}: {error}",
        program.to_string_lossy()
    ));
    ExitStatus::Unhealthy
}
