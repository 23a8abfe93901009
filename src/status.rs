//! What a supervisor saw, and `--status`, which asks it: the
//! [`Board`] holds each probe's state and its last results; the supervisor
//! answers on a Unix socket ([`serve`]); `healthprobe --status` in the same
//! container asks ([`ask`]) and exits 0 when the application is ready.
//!
//! Ready is the readiness probe's verdict; without a readiness probe,
//! startup succeeded and liveness passing (as Kubernetes marks a container
//! ready). A supervisor that is stopping the application is not ready.
//! The socket is abstract by default (Linux: no file, so a read-only
//! container with any user has one), named after the PID namespace so that
//! two containers sharing `--network host` do not meet; only the
//! supervisor's own user may ask.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use crate::config::{ProbeKind, StatusSocket};
use crate::redact::{Redacting, Secrets};

/// Results kept per probe.
pub const HISTORY: usize = 100;

/// How long `--status` waits for an answer in all.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// One check of a probe, as `--status -o json` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// When it ended (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// Whether it was healthy.
    pub healthy: bool,
    /// Its report line.
    pub verdict: String,
    /// How long it took, in milliseconds.
    pub elapsed_ms: f64,
}

impl Record {
    /// A check that ended now.
    pub fn now(healthy: bool, verdict: String, elapsed: Duration) -> Record {
        Record {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            healthy,
            verdict,
            elapsed_ms: elapsed.as_micros() as f64 / 1000.0,
        }
    }
}

/// Where a probe stands, as the kubelet keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not checked yet (its initial delay, or startup not yet succeeded).
    Waiting,
    /// Its last result stands as healthy (readiness: ready).
    Passing,
    /// It has failed its threshold (readiness: not ready).
    Failing,
}

/// One probe on the board.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeStatus {
    /// `startup`, `liveness` or `readiness`.
    pub probe: &'static str,
    /// Where it stands.
    pub state: State,
    /// Failures in a row now.
    pub failures: u32,
    /// Successes in a row now.
    pub successes: u32,
    /// The last results, oldest first, at most [`HISTORY`].
    pub history: VecDeque<Record>,
    #[serde(skip)]
    kind: ProbeKind,
}

/// What `--status` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Whether the application is ready.
    pub ready: bool,
    /// One line: `ready: …` or `not ready: …`, with the verdict of the
    /// probe that decided.
    pub verdict: String,
    /// Each probe's state and history.
    pub probes: Vec<ProbeStatus>,
}

#[derive(Debug, Default)]
struct Inner {
    probes: Vec<ProbeStatus>,
    started: bool,
    stopping: Option<String>,
}

/// The supervisor's view of its probes, shared by its threads.
#[derive(Debug, Default)]
pub struct Board {
    inner: Mutex<Inner>,
    changed: Condvar,
}

impl Board {
    /// A board for `kinds`; startup counts as done when there is no
    /// startup probe.
    pub fn new(kinds: &[ProbeKind]) -> Board {
        let probes = kinds
            .iter()
            .map(|&kind| ProbeStatus {
                probe: kind.name(),
                state: State::Waiting,
                failures: 0,
                successes: 0,
                history: VecDeque::new(),
                kind,
            })
            .collect();
        Board {
            inner: Mutex::new(Inner {
                probes,
                started: !kinds.contains(&ProbeKind::Startup),
                stopping: None,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a check of `kind`: its result, and the state and runs the
    /// probe's tracker now has.
    pub fn record(&self, kind: ProbeKind, record: Record, state: State, runs: (u32, u32)) {
        let mut inner = self.lock();
        if let Some(probe) = inner.probes.iter_mut().find(|p| p.kind == kind) {
            probe.state = state;
            (probe.successes, probe.failures) = runs;
            if probe.history.len() == HISTORY {
                probe.history.pop_front();
            }
            probe.history.push_back(record);
        }
    }

    /// Startup has succeeded: liveness and readiness may start.
    pub fn started(&self) {
        self.lock().started = true;
        self.changed.notify_all();
    }

    /// The application is being stopped (`why`): not ready from now on.
    pub fn stopping(&self, why: &str) {
        let mut inner = self.lock();
        if inner.stopping.is_none() {
            inner.stopping = Some(why.to_string());
        }
        drop(inner);
        self.changed.notify_all();
    }

    /// Whether a stop has begun.
    pub fn is_stopping(&self) -> bool {
        self.lock().stopping.is_some()
    }

    /// Waits until startup has succeeded; false when a stop came first.
    pub fn wait_for_startup(&self) -> bool {
        let mut inner = self.lock();
        while !inner.started && inner.stopping.is_none() {
            inner = self.changed.wait(inner).unwrap_or_else(|e| e.into_inner());
        }
        inner.stopping.is_none()
    }

    /// Sleeps `d`, or less when a stop begins; false when it did.
    pub fn sleep(&self, d: Duration) -> bool {
        let inner = self.lock();
        let (inner, _) = self
            .changed
            .wait_timeout_while(inner, d, |i| i.stopping.is_none())
            .unwrap_or_else(|e| e.into_inner());
        inner.stopping.is_none()
    }

    /// What `--status` answers now.
    pub fn answer(&self) -> Answer {
        let inner = self.lock();
        let (ready, verdict) = decide(&inner);
        Answer {
            ready,
            verdict: format!("{}: {verdict}", if ready { "ready" } else { "not ready" }),
            probes: inner.probes.clone(),
        }
    }
}

/// Whether the application is ready, and the line of the probe that
/// decided.
fn decide(inner: &Inner) -> (bool, String) {
    if let Some(why) = &inner.stopping {
        return (false, format!("stopping ({why})"));
    }
    let probe = |kind| inner.probes.iter().find(|p| p.kind == kind);
    let last = |p: &ProbeStatus| {
        p.history.back().map_or_else(
            || format!("no {} check yet", p.probe),
            |r| r.verdict.clone(),
        )
    };
    if let Some(readiness) = probe(ProbeKind::Readiness) {
        return match (inner.started, readiness.state) {
            (false, _) => (false, "startup has not succeeded yet".to_string()),
            (true, State::Passing) => (true, last(readiness)),
            (true, _) => (false, last(readiness)),
        };
    }
    if !inner.started {
        let line = probe(ProbeKind::Startup).map_or_else(String::new, last);
        return (false, format!("startup has not succeeded yet ({line})"));
    }
    match probe(ProbeKind::Liveness) {
        Some(liveness) if liveness.failures > 0 => (false, last(liveness)),
        Some(liveness) if !liveness.history.is_empty() => (true, last(liveness)),
        _ => (
            true,
            probe(ProbeKind::Startup).map_or_else(|| "no probe has failed".to_string(), last),
        ),
    }
}

/// Binds `socket` for the supervisor: an abstract name, or a file made
/// readable by its owner only (a stale one replaced).
///
/// # Errors
/// The name is taken (another supervisor), or the file cannot be made.
pub fn bind(socket: &StatusSocket) -> Result<UnixListener> {
    match socket {
        StatusSocket::Abstract(name) => bind_abstract(name),
        StatusSocket::Path(path) => {
            use std::os::unix::fs::{FileTypeExt, PermissionsExt};
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
                let _ = std::fs::remove_file(path);
            }
            let listener = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            Ok(listener)
        }
    }
}

#[cfg(target_os = "linux")]
fn bind_abstract(name: &str) -> Result<UnixListener> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    Ok(UnixListener::bind_addr(&addr)?)
}

#[cfg(not(target_os = "linux"))]
fn bind_abstract(_: &str) -> Result<UnixListener> {
    Err(anyhow!("abstract sockets exist on Linux only"))
}

fn connect(socket: &StatusSocket) -> std::io::Result<UnixStream> {
    match socket {
        StatusSocket::Path(path) => UnixStream::connect(path),
        #[cfg(target_os = "linux")]
        StatusSocket::Abstract(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            UnixStream::connect_addr(&addr)
        }
        #[cfg(not(target_os = "linux"))]
        StatusSocket::Abstract(_) => Err(std::io::Error::other(
            "abstract sockets exist on Linux only",
        )),
    }
}

/// Answers `--status` on `listener` for as long as the process runs: each
/// connection from this process's own user gets the board as JSON, its
/// secrets masked; others are closed unanswered.
pub fn serve(listener: UnixListener, board: Arc<Board>, secrets: Arc<Secrets>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if !same_user(&stream) {
            continue;
        }
        let _ = stream.set_read_timeout(Some(ASK_TIMEOUT));
        let _ = stream.set_write_timeout(Some(ASK_TIMEOUT));
        let mut request = String::new();
        let _ = BufReader::new(&stream).take(64).read_line(&mut request);
        let answer = board.answer();
        let mut out = Redacting::new(&stream, secrets.clone());
        let _ = serde_json::to_writer(&mut out, &answer);
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }
}

/// Whether the peer of `stream` runs as this process's user.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn same_user(stream: &UnixStream) -> bool {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    getsockopt(stream, PeerCredentials)
        .is_ok_and(|peer| peer.uid() == nix::unistd::geteuid().as_raw())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn same_user(_: &UnixStream) -> bool {
    // Elsewhere the socket is a file of mode 0600: its owner only.
    true
}

/// Asks the supervisor on `socket`: whether it is ready, and its answer
/// (JSON, one line).
///
/// # Errors
/// No supervisor answers (no socket, refused, another user's, silent for
/// 2 s), or its answer is not one.
pub fn ask(socket: &StatusSocket) -> Result<(bool, String, String)> {
    let mut stream =
        connect(socket).with_context(|| format!("no supervisor answers on {socket}"))?;
    stream.set_read_timeout(Some(ASK_TIMEOUT))?;
    stream.set_write_timeout(Some(ASK_TIMEOUT))?;
    stream
        .write_all(b"status\n")
        .with_context(|| format!("the supervisor on {socket}"))?;
    let mut text = String::new();
    stream
        .take(4 * 1024 * 1024)
        .read_to_string(&mut text)
        .with_context(|| format!("the supervisor on {socket} did not answer"))?;
    let answer: serde_json::Value = serde_json::from_str(text.trim()).map_err(|_| {
        anyhow!("the supervisor on {socket} gave no answer (another user's, or not healthprobe's)")
    })?;
    let ready = answer["ready"].as_bool().unwrap_or(false);
    let verdict = answer["verdict"]
        .as_str()
        .unwrap_or("not ready")
        .to_string();
    Ok((ready, verdict, text.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(healthy: bool, line: &str) -> Record {
        Record::now(healthy, line.to_string(), Duration::from_millis(1))
    }

    #[test]
    fn readiness_decides_and_stopping_is_never_ready() {
        let board = Board::new(&[
            ProbeKind::Startup,
            ProbeKind::Liveness,
            ProbeKind::Readiness,
        ]);
        assert!(!board.answer().ready, "before startup");
        board.started();
        board.record(
            ProbeKind::Readiness,
            record(false, "unhealthy: r"),
            State::Failing,
            (0, 3),
        );
        board.record(
            ProbeKind::Liveness,
            record(true, "healthy: l"),
            State::Passing,
            (1, 0),
        );
        let answer = board.answer();
        assert_eq!(
            (answer.ready, answer.verdict.as_str()),
            (false, "not ready: unhealthy: r")
        );
        board.record(
            ProbeKind::Readiness,
            record(true, "healthy: r"),
            State::Passing,
            (1, 0),
        );
        assert_eq!(board.answer().verdict, "ready: healthy: r");
        board.stopping("liveness probe failed 3 times in a row");
        assert!(!board.answer().ready);
        assert!(!board.wait_for_startup() || board.is_stopping());
    }

    #[test]
    fn without_readiness_liveness_decides_and_history_is_bounded() {
        let board = Board::new(&[ProbeKind::Liveness]);
        assert!(board.answer().ready, "no probe has failed");
        for i in 0..(HISTORY + 5) {
            board.record(
                ProbeKind::Liveness,
                record(true, &format!("healthy {i}")),
                State::Passing,
                (1, 0),
            );
        }
        let answer = board.answer();
        assert_eq!(answer.probes[0].history.len(), HISTORY);
        assert_eq!(answer.verdict, format!("ready: healthy {}", HISTORY + 4));
        board.record(
            ProbeKind::Liveness,
            record(false, "unhealthy: l"),
            State::Passing,
            (0, 1),
        );
        assert_eq!(board.answer().verdict, "not ready: unhealthy: l");
    }
}
