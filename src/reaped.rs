//! The exit of processes a supervisor reaped for others. A supervisor
//! reaps every child that exits (its command, orphans re-parented to it,
//! and so the commands of its exec probes too); an exec check whose child
//! was reaped before it could wait for it finds the exit here. Imports
//! nothing of the crate.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many exits are kept (the oldest go first).
const KEPT: usize = 256;

/// How a reaped process ended.
#[cfg_attr(not(unix), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// This signal ended it.
    Signal(i32),
}

static REAPED: Mutex<VecDeque<(i32, Exit)>> = Mutex::new(VecDeque::new());

/// Notes that process `pid` was reaped and how it ended.
#[cfg_attr(not(unix), allow(dead_code))]
pub fn note(pid: i32, exit: Exit) {
    let mut reaped = REAPED.lock().unwrap_or_else(|e| e.into_inner());
    if reaped.len() == KEPT {
        reaped.pop_front();
    }
    reaped.push_back((pid, exit));
}

/// How process `pid` ended, when a supervisor reaped it (taken: asked once).
pub fn take(pid: i32) -> Option<Exit> {
    let mut reaped = REAPED.lock().unwrap_or_else(|e| e.into_inner());
    let at = reaped.iter().rposition(|(p, _)| *p == pid)?;
    reaped.remove(at).map(|(_, exit)| exit)
}
