//! One probe's worker, as the kubelet runs one per probe
//! (`pkg/kubelet/prober/worker.go`): after its initial delay (and, for
//! liveness and readiness, once startup has succeeded) it checks every
//! period, and its [`Tracker`] turns results into a state only when a run
//! of them reaches the threshold. It says what changed, records every
//! result on the board, and asks for the stop when startup or liveness
//! fails its threshold.

use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crate::config::{Config, ProbeKind, ProbeSpec};
use crate::probe::{self, ProbePlan, Trace, Verdict, Window, format_duration, later};
use crate::redact::Console;
use crate::report::{TextStyle, text_line};
use crate::status::{Board, Record, State};

/// What the supervisor's waiting thread hears (from the workers, the
/// signal thread and the panic hook).
pub(super) enum Event {
    /// A signal arrived.
    Signal(i32),
    /// A probe failed its threshold: stop the command (`why`), SIGKILL
    /// `grace` after the stop signal.
    Stop {
        /// The line that says why.
        why: String,
        /// Between the stop signal and SIGKILL.
        grace: Duration,
    },
    /// Another thread of the supervisor panicked: stop the command, exit 1.
    Panicked,
}

/// What one result did to a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// Nothing to say (a success that changes nothing; a failure of a
    /// probe that has already failed its threshold).
    Quiet,
    /// A failure below the threshold: `failures` in a row.
    Failed(u32),
    /// The failure that reaches the threshold.
    Threshold(u32),
    /// A success after `failures` failures in a row, below the threshold.
    Recovered(u32),
    /// The probe passes now: startup succeeded, readiness ready.
    Passed,
}

/// A probe's runs of results and the state they make (the kubelet's
/// `resultRun`): failing after `failure_threshold` failures in a row,
/// passing after `success_threshold` successes in a row.
#[derive(Debug, Clone)]
pub(super) struct Tracker {
    kind: ProbeKind,
    success_threshold: u32,
    failure_threshold: u32,
    pub(super) state: State,
    pub(super) successes: u32,
    pub(super) failures: u32,
}

impl Tracker {
    pub(super) fn new(spec: &ProbeSpec) -> Tracker {
        Tracker {
            kind: spec.kind,
            success_threshold: spec.success_threshold.max(1),
            failure_threshold: spec.failure_threshold.max(1),
            state: State::Waiting,
            successes: 0,
            failures: 0,
        }
    }

    /// Takes one result and says what it changed.
    pub(super) fn observe(&mut self, healthy: bool) -> Turn {
        if !healthy {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            if self.state == State::Failing {
                return Turn::Quiet;
            }
            if self.failures >= self.failure_threshold {
                self.state = State::Failing;
                return Turn::Threshold(self.failures);
            }
            return Turn::Failed(self.failures);
        }
        let failed = std::mem::take(&mut self.failures);
        self.successes = self.successes.saturating_add(1);
        let before = self.state;
        if before != State::Passing && self.successes >= self.success_threshold {
            self.state = State::Passing;
            if self.kind != ProbeKind::Liveness || before == State::Failing {
                return Turn::Passed;
            }
        }
        match failed > 0 && self.state == State::Passing {
            true => Turn::Recovered(failed),
            false => Turn::Quiet,
        }
    }
}

/// One probe's worker: its spec, the config its checks run with (its own
/// timeout and headers), and what it shares with the supervisor.
pub(super) struct Worker {
    pub(super) spec: ProbeSpec,
    pub(super) config: Arc<Config>,
    pub(super) board: Arc<Board>,
    pub(super) console: Arc<Console>,
    pub(super) trace: Arc<dyn Trace>,
    pub(super) tx: Sender<Event>,
    /// When the command started.
    pub(super) start: Instant,
    /// The supervisor's grace, unless the probe has its own.
    pub(super) grace: Duration,
}

impl Worker {
    /// Runs until the command stops, or (startup) until it succeeds, or
    /// (startup, liveness) until it fails its threshold.
    pub(super) fn run(self) {
        let first = first_check(self.start, &self.spec);
        if !self
            .board
            .sleep(first.saturating_duration_since(Instant::now()))
        {
            return;
        }
        if self.spec.kind != ProbeKind::Startup && !self.board.wait_for_startup() {
            return;
        }
        let mut tracker = Tracker::new(&self.spec);
        let mut attempts = 0u32;
        loop {
            let at = Instant::now();
            let verdict = probe::check_once(&self.config, &self.spec.targets, &self.trace);
            // The fault the tests inject to prove that a panicking worker
            // stops the command; debug builds only, never a release.
            #[cfg(debug_assertions)]
            if std::env::var_os("HEALTHPROBE_TEST_FAULT").is_some_and(|v| v == "panic-in-prober") {
                panic!("fault injected by HEALTHPROBE_TEST_FAULT");
            }
            attempts = attempts.saturating_add(1);
            let healthy = verdict.healthy();
            let turn = tracker.observe(healthy);
            let line = self.lines(&verdict);
            let record = Record::now(healthy, line.clone(), at.elapsed());
            self.board.record(
                self.spec.kind,
                record,
                tracker.state,
                (tracker.successes, tracker.failures),
            );
            if self.board.is_stopping() {
                return;
            }
            if self.say(turn, healthy, &line, attempts) {
                return;
            }
            if !self
                .board
                .sleep(next_check(at, &self.spec).saturating_duration_since(Instant::now()))
            {
                return;
            }
        }
    }

    /// Says what `turn` changed; asks for the stop when startup or
    /// liveness failed its threshold. True when the worker is done.
    fn say(&self, turn: Turn, healthy: bool, line: &str, attempts: u32) -> bool {
        let name = self.spec.kind.name();
        let threshold = self.spec.failure_threshold;
        let say = |text: String| self.console.say(&text);
        match (self.spec.kind, turn) {
            (_, Turn::Failed(k)) => say(format!("{name} probe failed {k}/{threshold}: {line}")),
            (ProbeKind::Readiness, Turn::Threshold(k)) => say(format!(
                "not ready: readiness probe failed {k}/{threshold}: {line}"
            )),
            (_, Turn::Threshold(k)) => {
                say(format!("{name} probe failed {k}/{threshold}: {line}"));
                let why = format!("{name} probe failed {k} time{} in a row", plural(k));
                let _ = self.tx.send(Event::Stop {
                    why,
                    grace: self.spec.grace_period.unwrap_or(self.grace),
                });
                return true;
            }
            (_, Turn::Recovered(k)) => say(format!(
                "{name} probe recovered after {k} failure{}: {line}",
                plural(k)
            )),
            (ProbeKind::Readiness, Turn::Passed) => say(format!("ready: {line}")),
            (ProbeKind::Startup, Turn::Passed) => {
                say(format!(
                    "startup probe succeeded after {attempts} attempt{} in {}",
                    plural(attempts),
                    format_duration(self.start.elapsed())
                ));
                self.board.started();
                return true;
            }
            _ if healthy && self.trace.enabled() => say(format!("{name} probe: {line}")),
            _ => {}
        }
        false
    }

    /// The report lines of `verdict`'s checks, on one line: the failed
    /// ones when it failed.
    fn lines(&self, verdict: &Verdict) -> String {
        let style = TextStyle::of(&self.config);
        verdict
            .checks
            .iter()
            .filter(|c| verdict.healthy() || !c.healthy())
            .map(|c| text_line(c, &style, None))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// When a probe's first check is due: its initial delay after the start.
pub(super) fn first_check(start: Instant, spec: &ProbeSpec) -> Instant {
    later(start, spec.initial_delay)
}

/// When the check after one that began `at` is due.
pub(super) fn next_check(at: Instant, spec: &ProbeSpec) -> Instant {
    later(at, spec.period)
}

/// A probe's schedule with the clock stubbed, from `start` (startup
/// assumed to succeed at its first check): each of the first `checks`
/// checks' start and deadline, each failing; then the stop its threshold
/// brings (startup, liveness): the signal after the pre-stop sleep, and
/// SIGKILL after the grace. For a dry run's plan.
pub(super) fn schedule(
    spec: &ProbeSpec,
    start: Instant,
    checks: usize,
    pre_stop: Duration,
    grace: Duration,
) -> ProbePlan {
    let mut at = first_check(start, spec);
    let mut plan = ProbePlan {
        name: spec.kind.name(),
        checks: Vec::new(),
        stop: None,
    };
    for n in 1..=checks {
        let end = later(at, spec.timeout);
        plan.checks.push(Window { from: at, to: end });
        if n as u32 >= spec.failure_threshold && spec.kind != ProbeKind::Readiness {
            let signal = later(end, pre_stop);
            let kill = later(signal, spec.grace_period.unwrap_or(grace));
            plan.stop = Some(Window {
                from: signal,
                to: kill,
            });
            break;
        }
        at = next_check(at, spec).max(end);
    }
    plan
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(kind: ProbeKind, success: u32, failure: u32) -> Tracker {
        Tracker {
            kind,
            success_threshold: success,
            failure_threshold: failure,
            state: State::Waiting,
            successes: 0,
            failures: 0,
        }
    }

    /// The kubelet's rule, one result at a time: a state changes only
    /// when a run reaches its threshold.
    #[test]
    fn results_turn_into_states_at_their_thresholds() {
        use Turn::*;
        let cases: [(ProbeKind, u32, u32, &str, &[Turn]); 4] = [
            (
                ProbeKind::Liveness,
                1,
                3,
                "SFFSFFF F",
                &[
                    Quiet,
                    Failed(1),
                    Failed(2),
                    Recovered(2),
                    Failed(1),
                    Failed(2),
                    Threshold(3),
                    Quiet,
                ],
            ),
            (
                ProbeKind::Readiness,
                2,
                2,
                "SSFSFFSSS",
                &[
                    Quiet,
                    Passed,
                    Failed(1),
                    Recovered(1),
                    Failed(1),
                    Threshold(2),
                    Quiet,
                    Passed,
                    Quiet,
                ],
            ),
            (
                ProbeKind::Readiness,
                1,
                3,
                "FFFFS",
                &[Failed(1), Failed(2), Threshold(3), Quiet, Passed],
            ),
            (
                ProbeKind::Startup,
                1,
                3,
                "FFS",
                &[Failed(1), Failed(2), Passed],
            ),
        ];
        for (kind, success, failure, results, want) in cases {
            let mut t = tracker(kind, success, failure);
            let got: Vec<Turn> = results
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| t.observe(c == 'S'))
                .collect();
            assert_eq!(got, want, "{kind:?} {results}");
        }
    }
}
