//! Supervising the command after `--` (`--startup`, `--liveness`): the
//! Kubernetes probe loop inside the container. The command runs as
//! healthprobe's child; the startup probe gates the liveness probe; a probe
//! that fails its threshold in a row stops the command (SIGTERM to its
//! process group, SIGKILL after the grace period) and healthprobe exits 1,
//! so Docker's restart policy (`on-failure`, `unless-stopped`, `always`)
//! restarts the container. When the command exits by itself healthprobe
//! exits with its status at once. Meanwhile healthprobe does what PID 1
//! must ([`process`]): forwards signals, reaps orphans.
//!
//! Three threads: this one waits for events (a signal, a probe's verdict
//! to stop, the end of the grace period) and sleeps in between; one
//! receives signals (signal-hook); one runs the probes and sleeps between
//! them. Nothing polls.

mod process;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use signal_hook::iterator::Signals;

use crate::config::{Config, Supervise, Target};
use crate::probe::{self, Trace, Verdict, format_duration};
use crate::report::{TextStyle, text_line};
use process::Child;

/// How supervising ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The command exited by itself, or after a forwarded signal: its
    /// status (128 + the signal when a signal ended it).
    Child(u8),
    /// A probe stopped the command, or it could not be started: exit 1.
    Stopped,
}

/// What the waiting thread hears.
enum Event {
    /// A signal arrived.
    Signal(i32),
    /// A probe failed its threshold: stop the command (the line says why).
    Stop(String),
}

/// One line on stderr (`docker logs` shows it), behind `healthprobe: `.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "healthprobe: {line}");
}

/// Runs `config.exec` as a supervised child until it ends; `unarm` turns
/// the one-shot probe's exit-on-signal off (signals are the child's now).
pub fn run(
    config: &Arc<Config>,
    supervise: &Supervise,
    trace: &Arc<dyn Trace>,
    unarm: impl FnOnce(),
) -> Ended {
    let Some((program, args)) = config.exec.split_first() else {
        return Ended::Stopped;
    };
    let shown = program.to_string_lossy().into_owned();
    let mut signals = match Signals::new(process::HANDLED) {
        Ok(signals) => signals,
        Err(e) => {
            say(&format!("error: cannot handle signals: {e}"));
            return Ended::Stopped;
        }
    };
    unarm();
    if let Err(e) = process::become_subreaper() {
        say(&format!(
            "warning: cannot become a child subreaper ({e}): orphans of {shown} may stay zombies"
        ));
    }
    let child = match process::spawn(program, args) {
        Ok(child) => child,
        Err(e) => {
            say(&format!("error: cannot run {shown}: {e}"));
            return Ended::Stopped;
        }
    };
    say(&format!("started {shown} (pid {})", child.pid));
    let (tx, rx) = mpsc::channel();
    let signal_tx = tx.clone();
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if signal_tx.send(Event::Signal(signal)).is_err() {
                return;
            }
        }
    });
    let terminating = Arc::new(AtomicBool::new(false));
    let prober = Prober {
        config: config.clone(),
        supervise: supervise.clone(),
        trace: trace.clone(),
        terminating: terminating.clone(),
        tx,
    };
    std::thread::spawn(move || prober.run());
    wait(child, &shown, supervise.grace_period, &rx, &terminating)
}

/// Waits for the child to end, forwarding signals and stopping it when a
/// probe asks, and says how it ended.
fn wait(
    child: Child,
    shown: &str,
    grace: Duration,
    rx: &mpsc::Receiver<Event>,
    terminating: &AtomicBool,
) -> Ended {
    let mut kill_at: Option<Instant> = None;
    let mut stopped = false;
    loop {
        let event = match kill_at {
            Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(Event::Signal(signal_hook::consts::SIGCHLD)) => {
                if let Some(exit) = process::reap(child) {
                    say(&format!("{shown} (pid {}) {exit}", child.pid));
                    return if stopped {
                        Ended::Stopped
                    } else {
                        Ended::Child(exit.status())
                    };
                }
            }
            Ok(Event::Signal(signal)) => {
                if matches!(
                    signal,
                    signal_hook::consts::SIGTERM | signal_hook::consts::SIGINT
                ) {
                    // The container is being stopped: no probe stops it now.
                    terminating.store(true, Ordering::SeqCst);
                }
                process::forward(child, signal);
            }
            Ok(Event::Stop(why)) if !stopped && !terminating.load(Ordering::SeqCst) => {
                say(&format!(
                    "{why}: stopping {shown} (pid {}) with SIGTERM, SIGKILL after {}",
                    child.pid,
                    format_duration(grace)
                ));
                stopped = true;
                process::signal_group(child, Signal::SIGTERM);
                kill_at = Some(Instant::now() + grace);
            }
            Ok(Event::Stop(_)) => {}
            Err(RecvTimeoutError::Timeout) => {
                say(&format!(
                    "{shown} (pid {}) still runs {} after SIGTERM: SIGKILL",
                    child.pid,
                    format_duration(grace)
                ));
                process::signal_group(child, Signal::SIGKILL);
                kill_at = None;
            }
            Err(RecvTimeoutError::Disconnected) => return Ended::Stopped,
        }
    }
}

/// The probe loop, on a thread of its own: the initial delay, the startup
/// probe until it succeeds once, then the liveness probe every period.
struct Prober {
    config: Arc<Config>,
    supervise: Supervise,
    trace: Arc<dyn Trace>,
    terminating: Arc<AtomicBool>,
    tx: mpsc::Sender<Event>,
}

/// A probe: its name in lines, its targets, its period and threshold.
struct Probe<'a> {
    name: &'static str,
    targets: &'a [Target],
    period: Duration,
    threshold: u32,
}

impl Prober {
    fn run(self) {
        let started = Instant::now();
        std::thread::sleep(self.supervise.initial_delay);
        let s = &self.supervise;
        let startup = Probe {
            name: "startup",
            targets: &s.startup,
            period: s.startup_period,
            threshold: s.startup_failure_threshold,
        };
        if !startup.targets.is_empty() {
            match self.repeat(&startup, true) {
                Some(attempts) => say(&format!(
                    "startup probe succeeded after {attempts} attempt{} in {}",
                    if attempts == 1 { "" } else { "s" },
                    format_duration(started.elapsed())
                )),
                None => return,
            }
            if s.liveness.is_empty() {
                return;
            }
            std::thread::sleep(s.period);
        }
        let liveness = Probe {
            name: "liveness",
            targets: &s.liveness,
            period: s.period,
            threshold: s.failure_threshold,
        };
        if !liveness.targets.is_empty() {
            let _ = self.repeat(&liveness, false);
        }
    }

    /// Checks `probe` every period. With `until_healthy`, until it is
    /// healthy once (the attempts it took); else for as long as the command
    /// runs, a success resetting the count. Either way `None` once it has
    /// failed its threshold in a row (after asking for the stop).
    fn repeat(&self, probe: &Probe<'_>, until_healthy: bool) -> Option<u32> {
        let mut failures = 0;
        loop {
            let at = Instant::now();
            let verdict = self.check(probe);
            if verdict.healthy() {
                if until_healthy {
                    return Some(failures + 1);
                }
                failures = 0;
            } else {
                failures += 1;
                if self.failed(probe, failures, &verdict) {
                    return None;
                }
            }
            std::thread::sleep((at + probe.period).saturating_duration_since(Instant::now()));
        }
    }

    /// One attempt at every target of `probe`, within `--timeout`; a
    /// healthy one is said only with `-v`.
    fn check(&self, probe: &Probe<'_>) -> Verdict {
        let verdict = probe::check_once(&self.config, probe.targets, &self.trace);
        if verdict.healthy() && self.trace.enabled() {
            say(&format!("{} probe: {}", probe.name, self.lines(&verdict)));
        }
        verdict
    }

    /// Says a failure (`k/N` and the verdict); at the threshold asks for
    /// the stop and returns true.
    fn failed(&self, probe: &Probe<'_>, failures: u32, verdict: &Verdict) -> bool {
        if self.terminating.load(Ordering::SeqCst) {
            return true;
        }
        say(&format!(
            "{} probe failed {failures}/{}: {}",
            probe.name,
            probe.threshold,
            self.lines(verdict)
        ));
        if failures < probe.threshold {
            return false;
        }
        let why = format!(
            "{} probe failed {failures} time{} in a row",
            probe.name,
            if failures == 1 { "" } else { "s" }
        );
        let _ = self.tx.send(Event::Stop(why));
        true
    }

    /// The report lines of `verdict`'s checks, on one line.
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
