//! Supervising the command after `--`: the kubelet's probes inside the
//! container. The command runs as healthprobe's child; each probe has a
//! worker of its own ([`worker`]); startup gates liveness and readiness; a
//! startup or liveness probe that fails its threshold stops the command and
//! healthprobe exits 1, so that Docker's restart policy restarts the
//! container; readiness never stops it, and decides what `--status`
//! answers (served by [`crate::status`]). When the command exits by itself
//! healthprobe exits with its status at once. Meanwhile healthprobe does
//! what PID 1 must ([`process`]): forwards signals, reaps orphans.
//!
//! The stop is Kubernetes': readiness turns not ready at once, the
//! pre-stop sleep passes, then the stop signal (SIGTERM, or
//! `--stop-signal`) goes to the command (its process group when a probe
//! stopped it), and SIGKILL after the grace period.
//!
//! Threads: this one waits for events (a signal, a probe's stop, a timer)
//! and sleeps in between; one receives signals (signal-hook); one per
//! probe; one answers `--status`. Nothing polls.

mod process;
mod worker;

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use signal_hook::iterator::Signals;

use crate::config::{Config, ProbeSpec, Supervise};
use crate::guard;
use crate::probe::{ProbePlan, Trace, format_duration, later};
use crate::redact::Console;
use crate::status::{self, Board};
use process::Child;
use worker::{Event, Worker};

/// How supervising ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The command exited by itself, or after a forwarded signal: its
    /// status (128 + the signal when a signal ended it).
    Child(u8),
    /// A probe stopped the command, or it could not be started: exit 1.
    Stopped,
}

/// Runs `config.exec` as a supervised child until it ends; `unarm` turns
/// the one-shot probe's exit-on-signal off (signals are the child's now).
/// Lines go to `console` (`docker logs` shows them).
pub fn run(
    config: &Arc<Config>,
    supervise: &Supervise,
    trace: &Arc<dyn Trace>,
    console: &Arc<Console>,
    unarm: impl FnOnce(),
) -> Ended {
    let Some((program, args)) = config.exec.split_first() else {
        return Ended::Stopped;
    };
    let shown = program.to_string_lossy().into_owned();
    let (signals, listener, child) = match start_child(program, args, supervise, console, unarm) {
        Ok(started) => started,
        Err(line) => {
            console.say(&line);
            return Ended::Stopped;
        }
    };
    let start = Instant::now();
    console.say(&format!("started {shown} (pid {})", child.pid));
    let (tx, rx) = mpsc::channel();
    stop_on_panic(child, supervise.grace_period, tx.clone());
    let kinds: Vec<_> = supervise.probes.iter().map(|p| p.kind).collect();
    let board = Arc::new(Board::new(&kinds));
    spawn_threads(signals, listener, &board, console, tx.clone());
    for spec in &supervise.probes {
        let worker = Worker {
            spec: spec.clone(),
            config: Arc::new(probe_config(config, spec)),
            board: board.clone(),
            console: console.clone(),
            trace: trace.clone(),
            tx: tx.clone(),
            start,
            grace: supervise.grace_period,
        };
        std::thread::spawn(move || worker.run());
    }
    drop(tx);
    let waiter = Waiter {
        child,
        shown: &shown,
        supervise,
        console,
        board: &board,
    };
    let ended = waiter.wait(&rx);
    if let crate::config::StatusSocket::Path(path) = &supervise.status_socket {
        let _ = std::fs::remove_file(path);
    }
    ended
}

/// What supervising needs before the command runs, in order: the signals
/// (before the child exists, so that none is missed), the `--status`
/// socket, the one-shot probe's signal handling turned off (`unarm`), the
/// subreaper (a warning on `console` when refused), the child. `Err` is
/// the line that says what failed.
fn start_child(
    program: &std::ffi::OsString,
    args: &[std::ffi::OsString],
    supervise: &Supervise,
    console: &Console,
    unarm: impl FnOnce(),
) -> Result<(Signals, std::os::unix::net::UnixListener, Child), String> {
    let shown = program.to_string_lossy();
    let signals =
        Signals::new(process::HANDLED).map_err(|e| format!("error: cannot handle signals: {e}"))?;
    let listener = status::bind(&supervise.status_socket).map_err(|e| {
        format!(
            "error: cannot answer --status on {}: {e:#} (another supervisor? give --status-socket)",
            supervise.status_socket
        )
    })?;
    unarm();
    if let Err(e) = process::become_subreaper() {
        console.say(&format!(
            "warning: cannot become a child subreaper ({e}): orphans of {shown} may stay zombies"
        ));
    }
    let child =
        process::spawn(program, args).map_err(|e| format!("error: cannot run {shown}: {e}"))?;
    Ok((signals, listener, child))
}

/// The supervisor's schedule with the clock stubbed, from `start`: for a
/// dry run, each probe's first `checks` checks (start, deadline) and the
/// stop a threshold brings (signal, SIGKILL), by probe name.
pub fn plan(supervise: &Supervise, start: Instant, checks: usize) -> Vec<ProbePlan> {
    let (pre_stop, grace) = (supervise.pre_stop_sleep, supervise.grace_period);
    supervise
        .probes
        .iter()
        .map(|spec| worker::schedule(spec, start, checks, pre_stop, grace))
        .collect()
}

/// The threads that receive signals and answer `--status`.
fn spawn_threads(
    mut signals: Signals,
    listener: std::os::unix::net::UnixListener,
    board: &Arc<Board>,
    console: &Arc<Console>,
    tx: mpsc::Sender<Event>,
) {
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if tx.send(Event::Signal(signal)).is_err() {
                return;
            }
        }
    });
    let (board, secrets) = (board.clone(), console.secrets.clone());
    std::thread::spawn(move || status::serve(listener, board, secrets));
}

/// The config a probe's checks run with: its own timeout (and a connect
/// timeout within it) and its own headers before `-H`'s.
fn probe_config(config: &Config, spec: &ProbeSpec) -> Config {
    let mut config = config.clone();
    config.timeout = spec.timeout;
    config.connect_timeout = config.connect_timeout.min(spec.timeout);
    if !spec.headers.is_empty() {
        config
            .headers
            .retain(|(name, _)| !spec.headers.iter().any(|(n, _)| n == name));
        let extra: usize = spec
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum();
        config.request_head_bytes += extra;
        let mut headers = spec.headers.clone();
        headers.append(&mut config.headers);
        config.headers = headers;
    }
    config
}

/// Registers what a panic does while the command runs: a panic on another
/// thread asks this one to stop the command (SIGTERM to its group, SIGKILL
/// after `grace`) and parks, so that healthprobe exits 1 once the command
/// has ended; a panic on this thread stops it in place. No thread can die
/// while the others run on without probing.
fn stop_on_panic(child: Child, grace: Duration, tx: mpsc::Sender<Event>) {
    let main = std::thread::current().id();
    let tx = std::sync::Mutex::new(tx);
    guard::on_panic(move || {
        if std::thread::current().id() != main {
            let sent = tx
                .lock()
                .map(|tx| tx.send(Event::Panicked).is_ok())
                .unwrap_or(false);
            if sent {
                loop {
                    std::thread::park();
                }
            }
        }
        process::stop_now(child, grace);
    });
}

/// The waiting thread's view of the command.
struct Waiter<'a> {
    child: Child,
    shown: &'a str,
    supervise: &'a Supervise,
    console: &'a Console,
    board: &'a Board,
}

/// Where a stop stands.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// None has begun.
    None,
    /// The pre-stop sleep runs until `until`; then `signal` goes to the
    /// command (its group when `group`), and SIGKILL follows `grace`
    /// later when given.
    Sleeping {
        until: Instant,
        signal: Signal,
        group: bool,
        grace: Option<Duration>,
    },
    /// `signal` was sent; SIGKILL at `kill_at`, `grace` after it, when
    /// given.
    Signalled {
        signal: Signal,
        kill_at: Option<(Instant, Duration)>,
    },
}

impl Waiter<'_> {
    /// Waits for the child to end, forwarding signals and stopping it when
    /// a probe asks or healthprobe is asked to stop, and says how it ended.
    fn wait(&self, rx: &mpsc::Receiver<Event>) -> Ended {
        let mut stop = Stop::None;
        let mut by_probe = false;
        loop {
            let timer = match stop {
                Stop::Sleeping { until, .. } => Some(until),
                Stop::Signalled { kill_at, .. } => kill_at.map(|(at, _)| at),
                Stop::None => None,
            };
            let event = match timer {
                Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match event {
                Ok(Event::Signal(signal_hook::consts::SIGCHLD)) => {
                    if let Some(exit) = process::reap(self.child) {
                        self.say(&format!("{} (pid {}) {exit}", self.shown, self.child.pid));
                        return match by_probe {
                            true => Ended::Stopped,
                            false => Ended::Child(exit.status()),
                        };
                    }
                }
                Ok(Event::Signal(
                    signal @ (signal_hook::consts::SIGTERM | signal_hook::consts::SIGINT),
                )) => {
                    if matches!(stop, Stop::None) {
                        stop = self.asked_to_stop(signal);
                    }
                }
                Ok(Event::Signal(signal)) => process::forward(self.child, signal),
                Ok(Event::Stop { why, grace }) => {
                    if matches!(stop, Stop::None) {
                        by_probe = true;
                        stop = self.begin(&why, self.signal(), true, Some(grace));
                    }
                }
                Ok(Event::Panicked) => {
                    by_probe = true;
                    if matches!(stop, Stop::None | Stop::Sleeping { .. }) {
                        let grace = self.supervise.grace_period;
                        stop = self.begin("internal error", Signal::SIGTERM, true, Some(grace));
                        stop = self.deliver(stop);
                    }
                }
                Err(RecvTimeoutError::Timeout) => stop = self.deliver(stop),
                Err(RecvTimeoutError::Disconnected) => return Ended::Stopped,
            }
        }
    }

    fn say(&self, line: &str) {
        self.console.say(line);
    }

    /// The signal that stops the command (`--stop-signal`, or SIGTERM).
    fn signal(&self) -> Signal {
        self.supervise
            .stop_signal
            .and_then(|s| Signal::try_from(s.number).ok())
            .unwrap_or(Signal::SIGTERM)
    }

    /// healthprobe got SIGTERM or SIGINT (the container is being stopped):
    /// no probe stops the command now; it gets the stop signal (or the one
    /// received) after the pre-stop sleep; Docker's own timeout, not
    /// healthprobe, ends with SIGKILL.
    fn asked_to_stop(&self, received: i32) -> Stop {
        let received = Signal::try_from(received).unwrap_or(Signal::SIGTERM);
        let signal = match self.supervise.stop_signal {
            Some(_) => self.signal(),
            None => received,
        };
        let why = format!("{} received", received.as_str());
        self.begin(&why, signal, false, None)
    }

    /// Begins a stop: not ready at once, says so, and sends `signal` now
    /// or after the pre-stop sleep.
    fn begin(&self, why: &str, signal: Signal, group: bool, grace: Option<Duration>) -> Stop {
        self.board.stopping(why);
        let pre_stop = self.supervise.pre_stop_sleep;
        let after = match pre_stop.is_zero() {
            true => String::new(),
            false => format!(" after a pre-stop sleep of {}", format_duration(pre_stop)),
        };
        let kill = match grace {
            Some(grace) => format!(", SIGKILL {} later", format_duration(grace)),
            None => String::new(),
        };
        self.say(&format!(
            "{why}: stopping {} (pid {}) with {}{after}{kill}",
            self.shown,
            self.child.pid,
            signal.as_str()
        ));
        let stop = Stop::Sleeping {
            until: later(Instant::now(), pre_stop),
            signal,
            group,
            grace,
        };
        match pre_stop.is_zero() {
            true => self.deliver(stop),
            false => stop,
        }
    }

    /// What a timer's end does: the stop signal after the pre-stop sleep;
    /// SIGKILL after the grace.
    fn deliver(&self, stop: Stop) -> Stop {
        match stop {
            Stop::Sleeping {
                signal,
                group,
                grace,
                ..
            } => {
                match group {
                    true => process::signal_group(self.child, signal),
                    false => process::forward(self.child, signal as i32),
                }
                Stop::Signalled {
                    signal,
                    kill_at: grace.map(|g| (later(Instant::now(), g), g)),
                }
            }
            Stop::Signalled {
                signal,
                kill_at: Some((_, grace)),
            } => {
                self.say(&format!(
                    "{} (pid {}) still runs {} after {}: SIGKILL",
                    self.shown,
                    self.child.pid,
                    format_duration(grace),
                    signal.as_str()
                ));
                process::signal_group(self.child, Signal::SIGKILL);
                Stop::Signalled {
                    signal,
                    kill_at: None,
                }
            }
            other => other,
        }
    }
}
