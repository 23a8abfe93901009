//! One attempt's time, computed once per attempt by the orchestration and
//! handed to every check: when it ends, what it was given, and how long a
//! connection may take.

use std::time::{Duration, Instant};

/// One attempt's deadline: it must end by `end`, and was given `budget`
/// (the `--timeout`, or less when `--wait` ends sooner); each connection
/// (TCP and TLS) gets at most `connect_budget` (the `--connect-timeout`,
/// never more than `budget`). Reasons name these budgets: the time the
/// check really had.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// When the attempt must be over.
    pub end: Instant,
    /// The time the attempt was given.
    pub budget: Duration,
    /// The most one connection setup may take.
    pub connect_budget: Duration,
}

impl Deadline {
    /// An attempt starting now with `timeout` and `connect_timeout`, cut to
    /// `cut` (the end of `--wait`) when given.
    pub fn new(timeout: Duration, connect_timeout: Duration, cut: Option<Instant>) -> Deadline {
        let now = Instant::now();
        let budget = match cut {
            Some(cut) => timeout.min(cut.saturating_duration_since(now)),
            None => timeout,
        };
        Deadline {
            end: now + budget,
            budget,
            connect_budget: connect_timeout.min(budget),
        }
    }

    /// Time left until `end`; zero once it has passed.
    pub fn left(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// When a connection setup starting now must be done by: the connect
    /// budget from now, or the end, whichever comes first.
    pub fn connect_by(&self) -> Instant {
        self.end.min(Instant::now() + self.connect_budget)
    }

    /// Whether a connection that could not be made by `connect_by` ran out
    /// of its connect budget (rather than of the whole attempt's time).
    pub fn connect_limited(&self) -> bool {
        self.connect_budget < self.budget
    }
}
