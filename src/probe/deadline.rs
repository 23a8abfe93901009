//! One attempt's time, computed once per attempt by the orchestration and
//! handed to every check: when it ends, what it was given, and how long a
//! connection may take.

use std::time::{Duration, Instant};

/// The longest time added to an instant: the most any duration flag
/// takes (the config layer refuses more), so that a sum of them stays
/// far from where the clock's arithmetic overflows.
const FAR: Duration = Duration::from_secs(i32::MAX as u64);

/// `at` + `d`, saturating: an instant that cannot be represented becomes
/// [`FAR`] from `at` (or `at` itself), never a panic. Every deadline, period
/// and grace of a run is computed with it.
pub fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(FAR.min(d)))
        .unwrap_or(at)
}

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
        Deadline::starting(Instant::now(), timeout, connect_timeout, cut)
    }

    /// An attempt starting at `now` (a stubbed clock, in a plan).
    pub fn starting(
        now: Instant,
        timeout: Duration,
        connect_timeout: Duration,
        cut: Option<Instant>,
    ) -> Deadline {
        let budget = match cut {
            Some(cut) => timeout.min(cut.saturating_duration_since(now)),
            None => timeout,
        };
        Deadline {
            end: later(now, budget),
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
        self.end.min(later(Instant::now(), self.connect_budget))
    }

    /// Whether a connection that could not be made by `connect_by` ran out
    /// of its connect budget (rather than of the whole attempt's time).
    pub fn connect_limited(&self) -> bool {
        self.connect_budget < self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_saturate_instead_of_overflowing() {
        let now = Instant::now();
        assert_eq!(
            later(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        let far = later(now, Duration::MAX);
        assert!(far >= now + Duration::from_secs(3600 * 24 * 365), "{far:?}");
        let deadline = Deadline::new(Duration::MAX, Duration::MAX, None);
        assert!(deadline.left() > Duration::from_secs(3600));
        assert!(deadline.connect_by() > now);
    }
}
