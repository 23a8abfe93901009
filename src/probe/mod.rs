//! The probe: every target checked within one deadline, or again and again
//! within `--wait`, and the [`Verdict`] over all of them.
//!
//! This file is the orchestration only (concurrency, the wait loop, each
//! attempt's deadline). What varies lives beside it: one file per target
//! kind ([`http`], [`tcp`]), the ureq extension points under them
//! ([`transport`]), redirects ([`redirect`]), judging a response
//! ([`judge`]) and turning errors into the report's reasons ([`reason`]).
//! The checks do not print: they emit [`Event`]s to a [`Trace`], which the
//! report layer implements for `-v`.

#[cfg(feature = "grpc")]
mod grpc;
mod http;
mod judge;
mod reason;
mod redirect;
mod tcp;
#[cfg(feature = "tls")]
mod tls;
mod transport;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Config, Target, TargetKind};

/// The outcome of one check of one target.
#[derive(Debug, Clone)]
pub struct Check {
    /// The URL as given (after bare-path expansion), as reports show it: a
    /// password in it is `***`.
    pub target: String,
    /// The request method (`GET`, `HEAD`), or `TCP` for a `tcp://` target.
    pub method: &'static str,
    /// The final response's status code, when one arrived.
    pub status: Option<u16>,
    /// The standard reason phrase of `status`, when it has one.
    pub reason: Option<&'static str>,
    /// Time from the start of the check to its verdict.
    pub elapsed: Duration,
    /// Why the check is unhealthy; `None` when healthy.
    pub failure: Option<Failure>,
    /// The start of the body read, printable: at most 120 characters
    /// (`judge::EXCERPT_CHARS`), plus `…` when cut.
    pub body_excerpt: Option<String>,
    /// Attempts made for this target (`--wait` makes more than one).
    pub attempts: u32,
    /// gRPC: the serving status that came back (`SERVING`, `NOT_SERVING`,
    /// …), when one did.
    pub grpc_status: Option<&'static str>,
}

impl Check {
    fn new(target: &Target, method: &'static str) -> Check {
        Check {
            target: target.shown.clone(),
            method,
            status: None,
            reason: None,
            elapsed: Duration::ZERO,
            failure: None,
            body_excerpt: None,
            attempts: 1,
            grpc_status: None,
        }
    }

    /// Healthy when nothing failed.
    pub fn healthy(&self) -> bool {
        self.failure.is_none()
    }
}

/// Why a check is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A response arrived but its status is not in the expected set.
    Status {
        /// The expected set, e.g. `200-399`.
        expected: String,
    },
    /// A response with a good status failed a body or JSON expectation.
    Expectation(String),
    /// gRPC: a serving status other than `SERVING` (grpc.health.v1).
    NotServing,
    /// No judgeable response: refused, reset, timed out, malformed, …
    Error(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status { expected } => write!(f, "status not in {expected}"),
            Failure::NotServing => f.write_str("the serving status is not SERVING"),
            Failure::Expectation(text) | Failure::Error(text) => f.write_str(text),
        }
    }
}

/// The result of a probe run: every target's check. Healthy only when every
/// check is.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// One check per target, in target order.
    pub checks: Vec<Check>,
    /// With `--wait`: how long the probe waited in all.
    pub waited: Option<Duration>,
}

impl Verdict {
    /// Healthy only when all checks are.
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(Check::healthy)
    }
}

/// What a check does, as it happens, for `-v`. Times are since the start
/// of the check.
#[derive(Debug)]
pub enum Event<'a> {
    /// A request is about to be sent.
    Request {
        /// `GET` or `HEAD`.
        method: &'a str,
        /// The absolute URL.
        url: &'a str,
    },
    /// A host was resolved (or taken from `--resolve`, or was an IP literal).
    Resolved {
        /// The host as in the URL.
        host: &'a str,
        /// The addresses to try, in order.
        addrs: &'a [SocketAddr],
    },
    /// A connection is open.
    Connected {
        /// The authority or address connected to.
        to: &'a str,
        /// Whether TLS is on it.
        tls: bool,
    },
    /// One address of several could not be connected to.
    ConnectFailed {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: &'a std::io::Error,
    },
    /// The request head as sent (bytes up to the blank line, and perhaps more).
    RequestHead(&'a [u8]),
    /// The response head as received.
    ResponseHead {
        /// `HTTP/1.1`, …
        version: ureq::http::Version,
        /// The status.
        status: ureq::http::StatusCode,
        /// The headers, in order.
        headers: &'a ureq::http::HeaderMap,
    },
    /// A redirect is followed.
    Redirect {
        /// The 3xx status.
        status: u16,
        /// The next URL.
        to: &'a str,
    },
    /// The body was read (to its end or to `--max-body`), in bytes.
    BodyRead(usize),
    /// An attempt of `--wait` failed; another may follow.
    AttemptFailed {
        /// 1 for the first attempt.
        attempt: u32,
        /// The failed check.
        check: &'a Check,
    },
}

/// Where a check's [`Event`]s go. Implemented by the report layer for
/// `-v`; [`NoTrace`] otherwise.
pub trait Trace: fmt::Debug + Send + Sync {
    /// Whether events are wanted at all; when not, none are built.
    fn enabled(&self) -> bool {
        true
    }

    /// One event, `elapsed` after its check started.
    fn event(&self, elapsed: Duration, event: Event<'_>);
}

/// The trace that wants nothing.
#[derive(Debug, Clone, Copy)]
pub struct NoTrace;

impl Trace for NoTrace {
    fn enabled(&self) -> bool {
        false
    }

    fn event(&self, _: Duration, _: Event<'_>) {}
}

/// One attempt's time: it must end by `deadline`, and was given `allowed`
/// (the `--timeout`, or less when `--wait` ends sooner). Reasons name
/// `allowed`, the time the check really had.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    pub(crate) deadline: Instant,
    pub(crate) allowed: Duration,
}

impl Attempt {
    /// An attempt starting now with `timeout`, cut to `end` when given.
    fn new(timeout: Duration, end: Option<Instant>) -> Attempt {
        let started = Instant::now();
        let allowed = match end {
            Some(end) => timeout.min(end.saturating_duration_since(started)),
            None => timeout,
        };
        Attempt {
            deadline: started + allowed,
            allowed,
        }
    }
}

/// The least time the last attempt of a `--wait` is given (or the
/// `--timeout`, when shorter): 100 ms, enough for a refused connect or a
/// local answer.
const LAST_ATTEMPT: Duration = Duration::from_millis(100);

/// Runs the probe: one attempt at every target within `config.timeout`,
/// or, with `--wait`, attempts every `--interval` until every target has
/// been healthy once or the wait is over. The wait is used to its end:
/// when less than an interval remains, the pause is cut so that one last
/// attempt starts [`LAST_ATTEMPT`] before the end, with its deadline cut to
/// the end of the wait; no attempt outlives the wait, and a failing probe
/// returns at its end, not before. Only
/// targets not yet healthy are checked again; every failure (refused, DNS,
/// timeout, a bad status) is retried alike. The verdict holds each
/// target's last check. Events go to `trace`.
pub fn run(config: &Config, trace: &Arc<dyn Trace>) -> Verdict {
    let Some(wait) = config.wait else {
        let attempt = Attempt::new(config.timeout, None);
        return Verdict {
            checks: check_all(config, &config.targets, attempt, trace),
            waited: None,
        };
    };
    let start = Instant::now();
    let end = start + wait;
    let mut last: Vec<Option<Check>> = vec![None; config.targets.len()];
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let pending: Vec<usize> = (0..last.len())
            .filter(|&i| !last[i].as_ref().is_some_and(Check::healthy))
            .collect();
        let targets: Vec<Target> = pending.iter().map(|&i| config.targets[i].clone()).collect();
        let time = Attempt::new(config.timeout, Some(end));
        for (i, mut check) in pending
            .into_iter()
            .zip(check_all(config, &targets, time, trace))
        {
            check.attempts = last[i].as_ref().map_or(1, |c| c.attempts + 1);
            if !check.healthy() && trace.enabled() {
                trace.event(
                    check.elapsed,
                    Event::AttemptFailed {
                        attempt,
                        check: &check,
                    },
                );
            }
            last[i] = Some(check);
        }
        let mut verdict = Verdict {
            checks: last.iter().flatten().cloned().collect(),
            waited: None,
        };
        let last_attempt = LAST_ATTEMPT.min(config.timeout);
        let left = end.saturating_duration_since(Instant::now());
        if verdict.healthy() {
            verdict.waited = Some(start.elapsed());
            return verdict;
        }
        if left <= last_attempt {
            // Nothing useful fits: the rest of the wait, then the verdict.
            std::thread::sleep(left);
            verdict.waited = Some(start.elapsed());
            return verdict;
        }
        std::thread::sleep(config.interval.min(left - last_attempt));
    }
}

/// Checks `targets` concurrently (one thread each when there are several),
/// all within `attempt`.
fn check_all(
    config: &Config,
    targets: &[Target],
    attempt: Attempt,
    trace: &Arc<dyn Trace>,
) -> Vec<Check> {
    if let [target] = targets {
        return vec![check(target, config, attempt, trace)];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| scope.spawn(move || check(t, config, attempt, trace)))
            .collect();
        handles
            .into_iter()
            .zip(targets)
            .map(|(h, t)| {
                h.join().unwrap_or_else(|_| {
                    let mut check = Check::new(t, config.method.as_str());
                    check.failure = Some(Failure::Error("internal error in the check".into()));
                    check
                })
            })
            .collect()
    })
}

/// Checks one target within `attempt`, by its kind. Never panics on
/// anything the server sends; every failure becomes a [`Failure`].
fn check(target: &Target, config: &Config, attempt: Attempt, trace: &Arc<dyn Trace>) -> Check {
    match &target.kind {
        TargetKind::Http => http::check(target, config, attempt, trace),
        TargetKind::Tcp { host, port } => tcp::check(target, host, *port, config, attempt, trace),
        #[cfg(feature = "grpc")]
        TargetKind::Grpc {
            host,
            port,
            service,
            tls,
        } => grpc::check(target, host, *port, service, *tls, config, attempt, trace),
        // Refused by the config layer in a build without gRPC.
        #[cfg(not(feature = "grpc"))]
        TargetKind::Grpc { .. } => {
            let mut check = Check::new(target, "gRPC");
            check.failure = Some(Failure::Error("this build has no gRPC".into()));
            check
        }
    }
}
