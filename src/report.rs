//! The report of a [`Verdict`]: one text line per target, made for
//! `docker inspect` (Docker keeps the first 4096 bytes of a probe's output),
//! or one JSON object; and the `-v` trace on stderr, as the [`Trace`] the
//! checks emit their events to.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, Output, StatusSet, Verbosity};
#[cfg(unix)]
use crate::probe::ProbePlan;
use crate::probe::{Answer, Check, Deadline, Event, Failure, Trace, Verdict, format_duration};
use crate::redact::Console;

/// The JSON report: `{"healthy": bool, "checks": [...]}`.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// Healthy only when every check is.
    pub healthy: bool,
    /// One entry per target, in target order.
    pub checks: Vec<JsonCheck<'a>>,
}

/// One check in the JSON report; `null` where a field does not apply.
#[derive(Debug, Serialize)]
pub struct JsonCheck<'a> {
    /// The URL requested first.
    pub target: &'a str,
    /// `GET` or `HEAD` for HTTP targets, `TCP` for `tcp://` targets, `gRPC`
    /// for `grpc://` and `grpcs://` targets.
    pub method: &'static str,
    /// Whether this check is healthy.
    pub healthy: bool,
    /// The final response's status code; `null` when none arrived.
    pub status: Option<u16>,
    /// The standard reason phrase of the status; `null` when none.
    pub reason: Option<&'static str>,
    /// Milliseconds from the start of the check to its verdict, to 1 µs.
    pub elapsed_ms: f64,
    /// Why the check is unhealthy; `null` when healthy.
    pub error: Option<String>,
    /// The start of the body read, printable: at most 120 characters, plus
    /// `…` when cut.
    pub body_excerpt: Option<&'a str>,
    /// Attempts made for this target; only with `--wait`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// gRPC targets only: the grpc.health.v1 serving status (`SERVING`,
    /// `NOT_SERVING`, …); `null` when none arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serving_status: Option<Option<&'static str>>,
    /// The same as `serving_status`, under its first name (kept for
    /// existing readers; it is not the `grpc-status` trailer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<Option<&'static str>>,
    /// `exec:` targets only: the command's exit status; `null` when it
    /// did not exit by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<Option<i32>>,
    /// `exec:` targets only: its first line of output; `null` when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Option<&'a str>>,
}

impl<'a> JsonReport<'a> {
    /// Builds the JSON report of `verdict`; `attempts` only in wait mode.
    pub fn new(verdict: &'a Verdict, config: &Config) -> Self {
        JsonReport {
            healthy: verdict.healthy(),
            checks: verdict
                .checks
                .iter()
                .map(|c| {
                    let grpc = matches!(c.kind, crate::probe::Kind::Grpc { .. });
                    let exec = c.kind == crate::probe::Kind::Exec;
                    JsonCheck {
                        target: &c.target,
                        method: c.kind.name(),
                        healthy: c.healthy(),
                        status: c.status(),
                        reason: c.reason(),
                        elapsed_ms: (c.elapsed.as_micros() as f64) / 1000.0,
                        error: c
                            .failure
                            .as_ref()
                            .map(|f| failure_text(f, &config.expect.status)),
                        body_excerpt: c.excerpt(),
                        attempts: config.wait.map(|_| c.attempts),
                        serving_status: grpc.then_some(c.serving_status()),
                        grpc_status: grpc.then_some(c.serving_status()),
                        exit_code: exec.then_some(c.exit_code()),
                        output: exec.then_some(c.output()),
                    }
                })
                .collect(),
        }
    }
}

/// What the text line needs of the config, small enough to keep in the
/// trace.
#[derive(Debug, Clone)]
pub struct TextStyle {
    /// `--insecure`: TLS lines say `(insecure)`.
    pub insecure: bool,
    /// The expected status set.
    pub expected: StatusSet,
}

impl TextStyle {
    /// The style of `config`.
    pub fn of(config: &Config) -> TextStyle {
        TextStyle {
            insecure: config.tls.insecure,
            expected: config.expect.status.clone(),
        }
    }
}

/// A failure in words; a status outside the set names the set.
fn failure_text(failure: &Failure, expected: &StatusSet) -> String {
    match failure {
        Failure::Status => format!("status not in {}", expected.as_str()),
        Failure::NotServing => "the serving status is not SERVING".to_string(),
        Failure::Expectation(text) | Failure::Error(text) => text.clone(),
    }
}

/// One line for one check, e.g.
/// `healthy: GET http://127.0.0.1:8000/health -> 200 OK in 2.1ms` or
/// `unhealthy: GET http://127.0.0.1:8000/health: connection refused`; after
/// a `--wait` that ran out (`waited`), `unhealthy after 7 attempts in
/// 60.0s: GET …`, so that it does not read like a single check.
pub fn text_line(check: &Check, style: &TextStyle, waited: Option<Duration>) -> String {
    let verdict = match (check.healthy(), waited) {
        (true, _) => "healthy".to_string(),
        (false, None) => "unhealthy".to_string(),
        (false, Some(waited)) => format!(
            "unhealthy after {} attempt{} in {:.1}s",
            check.attempts,
            if check.attempts == 1 { "" } else { "s" },
            waited.as_secs_f64()
        ),
    };
    let mut line = format!("{verdict}: {} {}", check.kind.name(), check.target);
    let took = format_duration(check.elapsed);
    match &check.answer {
        Some(Answer::Grpc { serving_status }) => line += &format!(" -> {serving_status} in {took}"),
        Some(Answer::Http { status, .. }) => match check.reason() {
            Some(reason) => line += &format!(" -> {status} {reason} in {took}"),
            None => line += &format!(" -> {status} in {took}"),
        },
        Some(Answer::Connected) => line += &format!(" -> connected in {took}"),
        Some(Answer::Exited {
            code: Some(code), ..
        }) => line += &format!(" -> exit {code} in {took}"),
        Some(Answer::Exited { code: None, .. }) => line += &format!(" -> ended in {took}"),
        None => {}
    }
    if style.insecure && check.kind.tls() {
        line += " (insecure)";
    }
    match &check.failure {
        None | Some(Failure::NotServing) => {}
        Some(Failure::Status) if style.expected.is_default() => {}
        Some(Failure::Status) => line += &format!(" (expected {})", style.expected.as_str()),
        Some(failure) => {
            line += ": ";
            line += &failure_text(failure, &style.expected);
        }
    }
    if !check.healthy()
        && let Some(excerpt) = check.excerpt()
    {
        line += &format!(": {excerpt:?}");
    }
    if let Some(output) = check.output() {
        line += &format!(": {output:?}");
    }
    line
}

/// Writes the report of `verdict` to `out` in the configured format; writes
/// nothing when quiet. Write errors (a closed pipe) are ignored: the exit
/// status still tells.
pub fn write(out: &mut dyn Write, verdict: &Verdict, config: &Config) {
    if config.verbosity == Verbosity::Quiet {
        return;
    }
    let _ = match config.output {
        Output::Text => {
            let style = TextStyle::of(config);
            let mut text = String::new();
            for check in &verdict.checks {
                text += &text_line(check, &style, verdict.waited);
                text.push('\n');
            }
            out.write_all(text.as_bytes())
        }
        Output::Json => serde_json::to_writer(&mut *out, &JsonReport::new(verdict, config))
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n")),
    };
    let _ = out.flush();
}

/// Writes the plan of a dry run: each target as a report names it, and
/// each attempt planned, its start and deadline from the start of the run
/// (`plan` from `probe::plan`, on a stubbed clock).
pub fn write_plan(out: &mut dyn Write, config: &Config, plan: &[Deadline]) {
    let mut text = String::new();
    for target in config
        .targets
        .iter()
        .chain(config.supervise.iter().flat_map(|s| s.targets()))
    {
        text += &format!("plan: check {}\n", target.shown);
    }
    if let Some(first) = plan.first() {
        let start = first.end.checked_sub(first.budget).unwrap_or(first.end);
        for (i, deadline) in plan.iter().enumerate() {
            let at = |t: std::time::Instant| format_duration(t.saturating_duration_since(start));
            text += &format!(
                "plan: attempt {} from {} to {} (connect within {})\n",
                i + 1,
                at(deadline
                    .end
                    .checked_sub(deadline.budget)
                    .unwrap_or(deadline.end)),
                at(deadline.end),
                format_duration(deadline.connect_budget)
            );
        }
    }
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes the supervisor's schedule of a dry run: each probe's checks
/// (start and deadline) and the stop its threshold brings (signal and
/// SIGKILL), from `start`. Unix only, as the supervisor is.
#[cfg(unix)]
pub fn write_schedule(out: &mut dyn Write, start: std::time::Instant, schedule: &[ProbePlan]) {
    let at = |t: std::time::Instant| format_duration(t.saturating_duration_since(start));
    let mut text = String::new();
    for plan in schedule {
        for (i, check) in plan.checks.iter().enumerate() {
            let (name, n) = (plan.name, i + 1);
            text += &format!(
                "plan: {name} check {n} from {} to {}\n",
                at(check.from),
                at(check.to)
            );
        }
        if let Some(stop) = plan.stop {
            let name = plan.name;
            text += &format!(
                "plan: {name} stop from {} to {}\n",
                at(stop.from),
                at(stop.to)
            );
        }
    }
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes the body of every HTTP check, in target order, to `out` (curl's
/// `-o FILE`). Write errors are ignored: the exit status still tells.
pub fn write_bodies(out: &mut dyn Write, verdict: &Verdict) {
    for body in verdict.checks.iter().filter_map(|c| c.body.as_deref()) {
        if out.write_all(body).is_err() {
            return;
        }
    }
    let _ = out.flush();
}

/// The `-v` trace: phases with timings (`*`), the request head as sent
/// (`>`), the response head (`<`) and each failed `--wait` attempt, on
/// the run's standard error.
#[derive(Debug)]
pub struct ConsoleTrace {
    /// How attempt lines are written.
    pub style: TextStyle,
    /// Where the lines go (masked).
    pub console: Arc<Console>,
}

impl Trace for ConsoleTrace {
    fn event(&self, elapsed: Duration, event: Event<'_>) {
        let mut err = self.console.err();
        let _ = write_event(&mut *err, &self.style, elapsed, event);
        let _ = err.flush();
    }
}

/// Writes one trace event to `err` as `-v` shows it (lines starting `*`,
/// `>` or `<`); `err` is the run's redacting writer, which masks every
/// secret the run knows (the values of sensitive headers among them).
///
/// # Errors
/// Those of `err`.
pub fn write_event(
    err: &mut dyn Write,
    style: &TextStyle,
    elapsed: Duration,
    event: Event<'_>,
) -> std::io::Result<()> {
    let at = format_duration(elapsed);
    match event {
        Event::Request { method, url } => writeln!(err, "* {at:>8} {method} {url}"),
        Event::Resolved { host, addrs } => {
            writeln!(err, "* {at:>8} resolved {host} to {addrs:?}")
        }
        Event::Connected { to, tls, proxy } => writeln!(
            err,
            "* {at:>8} connected to {}{to}{}",
            if proxy { "proxy " } else { "" },
            if tls { " (TLS)" } else { "" }
        ),
        Event::ConnectFailed { addr, error } => writeln!(err, "* {at:>8} {addr}: {error}"),
        Event::RequestHead(sent) => String::from_utf8_lossy(sent)
            .split("\r\n")
            .take_while(|l| !l.is_empty())
            .try_for_each(|line| writeln!(err, "> {line}")),
        Event::ResponseHead {
            version,
            status,
            headers,
        } => writeln!(err, "< {version:?} {status}").and_then(|()| {
            headers.iter().try_for_each(|(name, value)| {
                writeln!(
                    err,
                    "< {name}: {}",
                    String::from_utf8_lossy(value.as_bytes())
                )
            })
        }),
        Event::Redirect { status, to } => writeln!(err, "* {at:>8} {status} redirect to {to}"),
        Event::BodyRead(bytes) => writeln!(err, "* {at:>8} read {bytes} body bytes"),
        Event::Started { pid } => writeln!(err, "* {at:>8} started pid {pid}"),
        Event::AttemptFailed { attempt, check } => {
            writeln!(err, "attempt {attempt}: {}", text_line(check, style, None))
        }
    }
}
