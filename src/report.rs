//! The report of a [`Verdict`]: one text line per target, made for
//! `docker inspect` (Docker keeps the first 4096 bytes of a probe's output),
//! or one JSON object.

use std::io::Write;

use serde::Serialize;

use crate::config::{Config, Output, Verbosity};

/// The default healthy set: the Kubernetes httpGet rule, 200 ≤ status < 400.
pub const DEFAULT_STATUS_SET: &str = "200-399";
use crate::probe::{Check, Failure, Verdict, format_elapsed};

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
    /// `GET` or `HEAD`.
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
    /// The start of the body read, printable, at most 120 characters.
    pub body_excerpt: Option<&'a str>,
    /// Attempts made for this target; only with `--wait`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

impl<'a> JsonReport<'a> {
    /// Builds the JSON report of `verdict`; `attempts` only in wait mode.
    pub fn new(verdict: &'a Verdict, config: &Config) -> Self {
        JsonReport {
            healthy: verdict.healthy(),
            checks: verdict
                .checks
                .iter()
                .map(|c| JsonCheck {
                    target: &c.target,
                    method: c.method,
                    healthy: c.healthy(),
                    status: c.status,
                    reason: c.reason,
                    elapsed_ms: (c.elapsed.as_micros() as f64) / 1000.0,
                    error: c.failure.as_ref().map(ToString::to_string),
                    body_excerpt: c.body_excerpt.as_deref(),
                    attempts: config.wait.map(|_| c.attempts),
                })
                .collect(),
        }
    }
}

/// One line for one check, e.g.
/// `healthy: GET http://127.0.0.1:8000/health -> 200 OK in 2.1ms` or
/// `unhealthy: GET http://127.0.0.1:8000/health: connection refused`.
pub fn text_line(check: &Check, config: &Config) -> String {
    let default_status_set = config.expect.status.as_str() == DEFAULT_STATUS_SET;
    let mut line = format!(
        "{}: {} {}",
        if check.healthy() {
            "healthy"
        } else {
            "unhealthy"
        },
        check.method,
        check.target
    );
    if let Some(status) = check.status {
        line += &format!(" -> {status}");
        if let Some(reason) = check.reason {
            line += " ";
            line += reason;
        }
        line += &format!(" in {}", format_elapsed(check.elapsed));
    } else if check.healthy() {
        line += &format!(" -> connected in {}", format_elapsed(check.elapsed));
    }
    if config.tls.insecure && check.target.starts_with("https://") {
        line += " (insecure)";
    }
    match &check.failure {
        None => {}
        Some(Failure::Status { expected }) if !default_status_set => {
            line += &format!(" (expected {expected})");
        }
        Some(Failure::Status { .. }) => {}
        Some(failure) => {
            line += ": ";
            line += &failure.to_string();
        }
    }
    if !check.healthy()
        && let Some(excerpt) = &check.body_excerpt
    {
        line += &format!(": {excerpt:?}");
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
            let mut text = String::new();
            for check in &verdict.checks {
                text += &text_line(check, config);
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
