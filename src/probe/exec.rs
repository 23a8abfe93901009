//! The `exec:` check, the Kubernetes exec probe: a command run without a
//! shell, in a process group of its own, healthy when it exits 0 within
//! the deadline. When the deadline passes it is killed, its process group
//! with it (a shell's children too). Its first line of output goes into
//! the verdict.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::check::{Answer, Check, Failure, Kind};
use super::deadline::Deadline;
use super::judge;
use super::reason::{format_duration, signal_name};
use super::trace::{Event, Progress};
use crate::config::Target;
use crate::reaped;

/// Most bytes of a stream kept to find the first line of output.
const KEPT_BYTES: usize = 4096;

/// How often a running command is looked at.
const POLL: Duration = Duration::from_millis(5);

/// How long the output of a command that has ended is waited for (a child
/// of it may hold the pipe open).
const OUTPUT_GRACE: Duration = Duration::from_millis(50);

/// Runs `argv` within `deadline`.
pub(super) fn check(
    target: &Target,
    argv: &[String],
    deadline: Deadline,
    progress: &Progress,
) -> Check {
    let mut check = Check::new(target, Kind::Exec);
    let mut child = match spawn(argv) {
        Ok(child) => child,
        Err(e) => {
            check.failure = Some(Failure::Error(format!("cannot run {}: {e}", argv[0])));
            return check;
        }
    };
    progress.event(Event::Started { pid: child.id() });
    let outputs = [
        child.stdout.take().map(drain),
        child.stderr.take().map(drain),
    ];
    let status = match wait(&mut child, deadline) {
        Ok(status) => status,
        Err(e) => {
            check.failure = Some(Failure::Error(format!("waiting for {}: {e}", argv[0])));
            kill(&mut child);
            return check;
        }
    };
    let Some(status) = status else {
        kill(&mut child);
        check.failure = Some(Failure::Error(format!(
            "timed out after {}; killed with its process group",
            format_duration(deadline.budget)
        )));
        return check;
    };
    let output = outputs
        .into_iter()
        .flatten()
        .map(|rx| rx.recv_timeout(OUTPUT_GRACE).unwrap_or_default())
        .find_map(|bytes| first_line(&bytes));
    let code = status.code;
    check.failure = match (code, status.signal) {
        (Some(0), _) => None,
        (Some(code), _) => Some(Failure::Error(format!("exit status {code}"))),
        (None, Some(signal)) => Some(Failure::Error(format!("ended by {}", signal_name(signal)))),
        (None, None) => Some(Failure::Error("ended without a status".into())),
    };
    check.answer = Some(Answer::Exited { code, output });
    check
}

/// How `child` ended, or `None` when `deadline` came first.
fn wait(child: &mut Child, deadline: Deadline) -> std::io::Result<Option<Ended>> {
    let pid = child.id() as i32;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(Ended::from(status))),
            // A supervisor reaps every child: this one may be reaped there.
            Err(e) if e.raw_os_error() == Some(ECHILD) => {
                if let Some(exit) = reaped::take(pid) {
                    return Ok(Some(Ended::from(exit)));
                }
            }
            Ok(None) => {}
            Err(e) => return Err(e),
        }
        if Instant::now() >= deadline.end {
            return Ok(None);
        }
        std::thread::sleep(POLL.min(deadline.left()));
    }
}

/// `argv` started with no stdin, its output piped, in a process group of
/// its own (Unix).
fn spawn(argv: &[String]) -> std::io::Result<Child> {
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command.spawn()
}

/// Kills the command and its process group, and reaps it.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        let group = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads `stream` on a thread of its own, keeping its first
/// [`KEPT_BYTES`] bytes; they arrive when it ends.
fn drain(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) if kept.len() < KEPT_BYTES => {
                    kept.extend_from_slice(&buf[..n.min(KEPT_BYTES - kept.len())])
                }
                Ok(_) => {}
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

/// The first line of `bytes` that is not blank, as an excerpt shows it.
fn first_line(bytes: &[u8]) -> Option<String> {
    bytes
        .split(|&b| b == b'\n')
        .find(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .and_then(judge::excerpt)
}

/// The errno of a wait for a child that is gone (reaped elsewhere).
const ECHILD: i32 = 10;

/// How a command ended: its status, or the signal that ended it.
struct Ended {
    code: Option<i32>,
    signal: Option<i32>,
}

impl From<std::process::ExitStatus> for Ended {
    fn from(status: std::process::ExitStatus) -> Ended {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        let signal = None;
        Ended {
            code: status.code(),
            signal,
        }
    }
}

impl From<reaped::Exit> for Ended {
    fn from(exit: reaped::Exit) -> Ended {
        match exit {
            reaped::Exit::Code(code) => Ended {
                code: Some(code),
                signal: None,
            },
            reaped::Exit::Signal(signal) => Ended {
                code: None,
                signal: Some(signal),
            },
        }
    }
}
