//! The surface the fuzz targets in `fuzz/` drive. It exists only under
//! `cargo fuzz` (which builds with `--cfg fuzzing`) and is not part of the
//! library's API. Every function runs the code a real run uses, with what
//! the fuzzer chose in place of the command line, the environment or the
//! server; nothing here opens a socket.

use std::ffi::OsString;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::config::{Target, TargetKind};
pub use crate::probe::replay::GrpcReply;
use crate::probe::replay::{self, Script};
use crate::probe::{Event, Failure, Trace};
use crate::{ExitStatus, cli, config, probe, report};

/// What an invocation came to, as [`crate::run`] would print it.
#[derive(Debug)]
pub enum Invoked {
    /// `--help` or `--version`: the text printed (exit 0).
    Display(String),
    /// A valid config: its targets as reports show them.
    Valid {
        /// `Target::shown` of each target.
        targets: Vec<String>,
    },
    /// The one line printed on stderr, after `healthprobe: ` (exit 1).
    Refused(String),
}

/// Parses `args` (program name first) with the process environment and
/// builds the validated config, as [`crate::run`] does before it probes.
pub fn invocation(args: &[OsString]) -> Invoked {
    let invocation = match cli::parse(args.iter().cloned()) {
        Ok(invocation) => invocation,
        Err(cli::InvocationError::Display(text)) => return Invoked::Display(text),
        Err(cli::InvocationError::Usage(line)) => {
            return Invoked::Refused(crate::error_line(&line));
        }
    };
    match config::from_invocation(invocation) {
        Ok(config) => Invoked::Valid {
            targets: config.targets.iter().map(|t| t.shown.clone()).collect(),
        },
        Err(error) => Invoked::Refused(format!(
            "error: {}",
            crate::error_line(&format!("{error:#}"))
        )),
    }
}

/// `${NAME}` expansion of `text` with `vars` as the environment.
///
/// # Errors
/// The expansion's error, as one line.
pub fn expand(text: &str, vars: &[(String, String)]) -> Result<String, String> {
    config::expand(text, |name| {
        vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    })
    .map_err(|e| format!("{e:#}"))
}

/// One target as the config layer parses it, with `host` and `port` for a
/// bare path.
///
/// # Errors
/// The parser's error, as one line.
pub fn target(text: &str, host: &str, port: Option<u16>) -> Result<Target, String> {
    Target::parse(text, host, port).map_err(|e| format!("{e:#}"))
}

/// `Location` resolved against `current`, when a check would follow it.
pub fn redirect(current: &str, location: &str) -> Option<String> {
    probe::redirect_target(current, location)
}

/// Judges a response (`status`, `body`) against expectations given as
/// their flags' values (`--expect-status`, `--expect-body`,
/// `--expect-json`): `Ok(None)` when healthy, `Ok(Some(failure))` when not.
///
/// # Errors
/// An expectation that does not parse, as one line.
pub fn judge(
    status: u16,
    body: &[u8],
    expect_status: &str,
    expect_body: Option<&str>,
    expect_json: &[&str],
) -> Result<Option<Failure>, String> {
    let expect = config::Expectations {
        status: expect_status.parse().map_err(|e| format!("{e:#}"))?,
        body: expect_body.map(str::to_string),
        json: expect_json
            .iter()
            .map(|j| j.parse().map_err(|e| format!("{e:#}")))
            .collect::<Result<_, _>>()?,
    };
    Ok(probe::judged(status, body, &expect))
}

/// The body excerpt a report shows.
pub fn excerpt(body: &[u8]) -> Option<String> {
    probe::body_excerpt(body)
}

/// What a probe of a scripted server came to.
#[derive(Debug)]
pub struct Outcome {
    /// The exit status `run` would return.
    pub exit: i32,
    /// The HTTP status code of the final response, when one came.
    pub status: Option<u16>,
    /// The text report (one line per target).
    pub text: String,
    /// The JSON report.
    pub json: String,
    /// The `-v` trace.
    pub trace: String,
}

/// Probes with `args` (program name first, one `http://` target) against a
/// server whose reply is `reply`, delivered `chunk` bytes per read.
///
/// # Errors
/// `args` are not a valid invocation.
pub fn http_exchange(args: &[&str], reply: &[u8], chunk: usize) -> Result<Outcome, String> {
    exchange(
        args,
        Script::Http {
            reply: reply.into(),
            chunk,
        },
    )
}

/// Probes with `args` (program name first, one `grpc://` target) against
/// h2's server answering `reply`.
///
/// # Errors
/// `args` are not a valid invocation.
pub fn grpc_exchange(args: &[&str], reply: GrpcReply) -> Result<Outcome, String> {
    exchange(args, Script::Grpc(Arc::new(reply)))
}

fn exchange(args: &[&str], script: Script) -> Result<Outcome, String> {
    let invocation = cli::parse(args.iter().copied()).map_err(|e| format!("{e:?}"))?;
    let mut config = config::from_invocation(invocation).map_err(|e| format!("{e:#}"))?;
    let trace = Arc::new(BufferTrace {
        style: report::TextStyle::of(&config),
        out: Mutex::default(),
    });
    let dyn_trace: Arc<dyn Trace> = trace.clone();
    replay::set(script);
    let verdict = probe::run(&config, &dyn_trace);
    replay::clear();
    let mut reports = [Vec::new(), Vec::new()];
    config.verbosity = config::Verbosity::Normal;
    for (output, out) in [config::Output::Text, config::Output::Json]
        .into_iter()
        .zip(&mut reports)
    {
        config.output = output;
        report::write(out, &verdict, &config);
    }
    let [text, json] = reports.map(|r| String::from_utf8_lossy(&r).into_owned());
    let trace =
        String::from_utf8_lossy(&trace.out.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    Ok(Outcome {
        exit: ExitStatus::from(&verdict).code(),
        status: verdict.checks.first().and_then(probe::Check::status),
        text,
        json,
        trace,
    })
}

/// The `-v` trace, kept in memory.
#[derive(Debug)]
struct BufferTrace {
    style: report::TextStyle,
    out: Mutex<Vec<u8>>,
}

impl Trace for BufferTrace {
    fn event(&self, elapsed: Duration, event: Event<'_>) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = report::write_event(&mut *out as &mut dyn Write, &self.style, elapsed, event);
    }
}
