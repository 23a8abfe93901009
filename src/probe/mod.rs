//! The probe: every target checked within one deadline, or again and again
//! within `--wait`, and the [`Verdict`] over all of them.
//!
//! This file is the orchestration only (concurrency, the wait loop, each
//! attempt's [`Deadline`], and the steps every check starts and ends with).
//! What varies lives beside it: one file per target kind ([`http`],
//! [`tcp`], `grpc`), connecting ([`connect`]) and ureq's extension points
//! ([`transport`]), redirects ([`redirect`]), judging a response
//! ([`judge`]) and the wording of every reason ([`reason`]). The checks do
//! not print: they emit [`Event`]s to a [`Trace`], which the report layer
//! implements for `-v`.

mod check;
mod connect;
mod deadline;
mod exec;
#[cfg(feature = "grpc")]
mod grpc;
mod http;
pub(crate) mod judge;
mod reason;
pub(crate) mod redirect;
mod tcp;
#[cfg(feature = "tls")]
mod tls;
mod trace;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use check::{Answer, Check, Failure, Kind, Verdict};
pub use deadline::{Deadline, later};

pub use reason::format_duration;
use trace::Progress;
pub use trace::{Event, NoTrace, Trace};

use crate::config::{Config, Target, TargetKind};

/// The least time the last attempt of a `--wait` is given (or the
/// `--timeout`, when shorter): 100 ms, enough for a refused connect or a
/// local answer.
const LAST_ATTEMPT: Duration = Duration::from_millis(100);

/// Runs the probe: one attempt at every target within `config.timeout`,
/// or, with `--wait`, attempts every `--interval` until every target has
/// been healthy once or the wait is over (or, with `--retry N`, after N+1
/// attempts, at once). The wait is used to its end:
/// when less than an interval remains, the pause is cut so that one last
/// attempt starts [`LAST_ATTEMPT`] before the end, with its deadline cut to
/// the end of the wait; no attempt outlives the wait, none starts after it
/// (a process stopped past the end keeps its last real attempts), and a
/// failing probe returns at its end, not before. Only
/// targets not yet healthy are checked again; every failure (refused, DNS,
/// timeout, a bad status) is retried alike. The verdict holds each
/// target's last check. Events go to `trace`.
pub fn run(config: &Config, trace: &Arc<dyn Trace>) -> Verdict {
    let Some(wait) = config.wait else {
        let deadline = Deadline::new(config.timeout, config.connect_timeout, None);
        return Verdict {
            checks: check_all(config, &config.targets, deadline, trace),
            waited: None,
        };
    };
    let start = Instant::now();
    let end = later(start, wait);
    let mut last: Vec<Option<Check>> = vec![None; config.targets.len()];
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        check_pending(config, &mut last, attempt, end, trace);
        let mut verdict = Verdict {
            checks: last.iter().flatten().cloned().collect(),
            waited: None,
        };
        if verdict.healthy() || config.max_attempts.is_some_and(|most| attempt >= most) {
            verdict.waited = Some(start.elapsed());
            return verdict;
        }
        std::thread::sleep(pause(config, Instant::now(), end));
        if Instant::now() >= end {
            // The wait is over: after its last useful attempt, or because
            // the process was stopped or starved past the end (SIGSTOP, a
            // frozen host). No attempt without time; the last real ones
            // stand.
            verdict.waited = Some(start.elapsed());
            return verdict;
        }
    }
}

/// The pause after a failed attempt of a `--wait` that ends at `end`, at
/// `now`: the interval, keeping time for a last attempt of
/// [`LAST_ATTEMPT`]; when nothing useful fits, the rest of the wait.
fn pause(config: &Config, now: Instant, end: Instant) -> Duration {
    let last_attempt = LAST_ATTEMPT.min(config.timeout);
    let left = end.saturating_duration_since(now);
    match left.checked_sub(last_attempt) {
        Some(spare) if !spare.is_zero() => config.interval.min(spare),
        _ => left,
    }
}

/// A span of a plan on a stubbed clock: a check from its start to its
/// deadline, or a stop from its signal to its SIGKILL.
#[cfg(unix)]
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// When it begins.
    pub from: Instant,
    /// When it ends.
    pub to: Instant,
}

/// A supervised probe's plan: its checks, and the stop its threshold
/// brings (startup, liveness).
#[cfg(unix)]
#[derive(Debug, Clone)]
pub struct ProbePlan {
    /// `startup`, `liveness`, `readiness`.
    pub name: &'static str,
    /// Each check's start and deadline.
    pub checks: Vec<Window>,
    /// The stop signal and SIGKILL.
    pub stop: Option<Window>,
}

/// The first `attempts` attempts of a run starting at `start`, with the
/// clock stubbed: each attempt takes its whole deadline, each pause its
/// whole length, and the same arithmetic as [`run`] says when each starts
/// and must end. Without `--wait`, the one attempt. For a dry run (and the
/// fuzz targets that check the arithmetic of every invocation).
pub fn plan(config: &Config, start: Instant, attempts: usize) -> Vec<Deadline> {
    let Some(wait) = config.wait else {
        return vec![Deadline::starting(
            start,
            config.timeout,
            config.connect_timeout,
            None,
        )];
    };
    let end = later(start, wait);
    let mut now = start;
    let mut plan = Vec::new();
    while plan.len() < attempts.min(config.max_attempts.map_or(usize::MAX, |n| n as usize)) {
        let deadline = Deadline::starting(now, config.timeout, config.connect_timeout, Some(end));
        now = deadline.end;
        plan.push(deadline);
        now = later(now, pause(config, now, end));
        if now >= end {
            break;
        }
    }
    plan
}

/// Attempt number `attempt` of a `--wait`: checks the targets whose last
/// check (in `last`, one per target) is not healthy, within `--timeout` cut
/// to `end`, and puts each new check in its place.
fn check_pending(
    config: &Config,
    last: &mut [Option<Check>],
    attempt: u32,
    end: Instant,
    trace: &Arc<dyn Trace>,
) {
    let pending: Vec<usize> = (0..last.len())
        .filter(|&i| !last[i].as_ref().is_some_and(Check::healthy))
        .collect();
    let targets: Vec<Target> = pending.iter().map(|&i| config.targets[i].clone()).collect();
    let time = Deadline::new(config.timeout, config.connect_timeout, Some(end));
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
}

/// One attempt at every one of `targets`, within `--timeout` from now (a
/// supervisor's probe; Unix only).
#[cfg(unix)]
pub fn check_once(config: &Config, targets: &[Target], trace: &Arc<dyn Trace>) -> Verdict {
    let deadline = Deadline::new(config.timeout, config.connect_timeout, None);
    Verdict {
        checks: check_all(config, targets, deadline, trace),
        waited: None,
    }
}

/// Checks `targets` concurrently (one thread each when there are several),
/// all within `deadline`.
fn check_all(
    config: &Config,
    targets: &[Target],
    deadline: Deadline,
    trace: &Arc<dyn Trace>,
) -> Vec<Check> {
    if let [target] = targets {
        return vec![check(target, config, deadline, trace)];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| scope.spawn(move || check(t, config, deadline, trace)))
            .collect();
        // A check never panics on what a server sends; a panic is a bug,
        // and ends the run (the panic hook exits 1).
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Checks one target within `deadline`, by its kind: the steps every check
/// starts and ends with (its clock and progress, its elapsed time) are
/// here. Never panics on anything the server sends; every failure becomes
/// a [`Failure`].
fn check(target: &Target, config: &Config, deadline: Deadline, trace: &Arc<dyn Trace>) -> Check {
    let start = Instant::now();
    let progress = Arc::new(Progress::new(trace.clone()));
    let mut check = match &target.kind {
        TargetKind::Http { .. } => http::check(target, config, deadline, &progress),
        TargetKind::Tcp => tcp::check(target, config, deadline, &progress),
        TargetKind::Exec { argv } => exec::check(target, argv, deadline, &progress),
        #[cfg(feature = "grpc")]
        TargetKind::Grpc { .. } => grpc::check(target, config, deadline, &progress),
        #[cfg(not(feature = "grpc"))]
        TargetKind::Grpc { .. } => {
            unreachable!("grpc:// targets are refused by the config layer in a build without gRPC")
        }
    };
    check.elapsed = start.elapsed();
    check
}
