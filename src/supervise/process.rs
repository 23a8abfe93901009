//! The child process and what PID 1 owes it (what tini does): started in
//! a process group of its own, signals forwarded to it, every orphan that
//! is re-parented here reaped, and stopped as Kubernetes stops a container
//! (SIGTERM to the group, SIGKILL after the grace period). Process calls
//! are nix's; signals arrive through signal-hook's iterator.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::probe::later;
use crate::reaped;

/// The signals forwarded to the child (tini's set, less the job-control
/// ones), and SIGCHLD, which says a child or an orphan has exited.
pub(super) const HANDLED: [i32; 8] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
    signal_hook::consts::SIGUSR1,
    signal_hook::consts::SIGUSR2,
    signal_hook::consts::SIGWINCH,
    signal_hook::consts::SIGCHLD,
];

/// The supervised command: its pid, which is also its process group.
#[derive(Debug, Clone, Copy)]
pub(super) struct Child {
    pub(super) pid: Pid,
}

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal ended it (this number).
    Signal(i32),
}

impl Exit {
    /// The status a shell would give: the code, or 128 + the signal.
    pub(super) fn status(self) -> u8 {
        match self {
            Exit::Code(code) => (code & 0xff) as u8,
            Exit::Signal(signal) => (128 + signal).clamp(0, 255) as u8,
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exited with status {code}"),
            Exit::Signal(signal) => write!(f, "was ended by {}", name(*signal)),
        }
    }
}

/// A signal's name (`SIGTERM`), or its number.
pub(super) fn name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.to_string())
}

/// Makes this process the reaper of its descendants' orphans when it is not
/// PID 1 (PID 1 is already): under `docker run --init`, a shell or a CI
/// job, an orphan of the command is then reaped here, not left a zombie.
///
/// # Errors
/// The kernel refused `PR_SET_CHILD_SUBREAPER`.
#[cfg(target_os = "linux")]
pub(super) fn become_subreaper() -> nix::Result<()> {
    if std::process::id() == 1 {
        return Ok(());
    }
    nix::sys::prctl::set_child_subreaper(true)
}

/// Elsewhere (macOS) there is no subreaper: orphans go to launchd, which
/// reaps them, so none stays a zombie.
#[cfg(not(target_os = "linux"))]
pub(super) fn become_subreaper() -> nix::Result<()> {
    Ok(())
}

/// Starts `program` with `args` (looked up on PATH) as a child in a new
/// process group, with stdin, stdout, stderr and the environment passed
/// on unchanged.
///
/// # Errors
/// The program cannot be executed (not found, not executable).
pub(super) fn spawn(program: &OsString, args: &[OsString]) -> std::io::Result<Child> {
    let child = Command::new(program).args(args).process_group(0).spawn()?;
    // The child is reaped by `reap`, never through std's handle.
    let pid = Pid::from_raw(child.id() as i32);
    std::mem::forget(child);
    Ok(Child { pid })
}

/// Sends `signal` to the child alone (a forwarded signal, as tini does).
pub(super) fn forward(child: Child, signal: i32) {
    if let Ok(signal) = Signal::try_from(signal) {
        let _ = kill(child.pid, signal);
    }
}

/// Sends `signal` to the child's whole process group (a stop: the
/// application and the workers it started).
pub(super) fn signal_group(child: Child, signal: Signal) {
    if killpg(child.pid, signal).is_err() {
        let _ = kill(child.pid, signal);
    }
}

/// Stops the child in place and exits 1 (a panic on the waiting thread):
/// SIGTERM to its group, SIGKILL after `grace` if it still runs.
pub(super) fn stop_now(child: Child, grace: Duration) -> ! {
    signal_group(child, Signal::SIGTERM);
    let end = later(Instant::now(), grace);
    while Instant::now() < end {
        if reap(child).is_some() {
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    signal_group(child, Signal::SIGKILL);
    let _ = waitpid(child.pid, None);
    std::process::exit(1);
}

/// Reaps every child that has exited (the command, and orphans re-parented
/// here); returns how the command ended, when it has.
pub(super) fn reap(child: Child) -> Option<Exit> {
    let mut ended = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child.pid => {
                ended = Some(Exit::Code(code));
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == child.pid => {
                ended = Some(Exit::Signal(signal as i32));
            }
            // Another child: an orphan, or an exec probe's command, whose
            // check finds its exit in `reaped`.
            Ok(WaitStatus::Exited(pid, code)) => {
                reaped::note(pid.as_raw(), reaped::Exit::Code(code))
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) => {
                reaped::note(pid.as_raw(), reaped::Exit::Signal(signal as i32))
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return ended,
            Ok(_) => {}
        }
    }
}
