//! The supervising step: probes (`--startup`, `--liveness`, `--readiness`,
//! or `--probes FILE`) with `-- CMD` make healthprobe run CMD as its child
//! and probe it as the kubelet does. The flags are the short form of the
//! one model of a probe a file gives whole ([`ProbeSpec`]); and the stop,
//! as Kubernetes stops a container.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::probes::{self, FileProbes};
pub use super::probes::{ProbeKind, ProbeSpec};
use super::target::Target;
use super::targets::{parse_all, port};
use super::values::{Count, Delay, HumanDuration, StopSignal};
use crate::cli::{Args, flags};
use crate::redact::Secrets;

/// How the command after `--` is supervised. Parsed on every platform, so
/// a bad value is named the same way, but used on Linux only.
#[derive(Debug, Clone)]
#[cfg_attr(not(unix), allow(dead_code))]
pub struct Supervise {
    /// The probes, at most one of each kind, startup first.
    pub probes: Vec<ProbeSpec>,
    /// Between the stop signal and SIGKILL when a probe stops the command
    /// (terminationGracePeriodSeconds); a probe's own grace wins.
    pub grace_period: Duration,
    /// On a stop, between turning not ready and signalling the command
    /// (Kubernetes' preStop sleep).
    pub pre_stop_sleep: Duration,
    /// The signal that stops the command (Docker's STOPSIGNAL); `None`:
    /// SIGTERM, or the signal healthprobe itself was stopped with.
    pub stop_signal: Option<StopSignal>,
    /// Where `--status` is answered.
    pub status_socket: StatusSocket,
}

impl Supervise {
    /// Every target of every probe.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.probes.iter().flat_map(|p| &p.targets)
    }
}

/// The Unix socket a supervisor answers `--status` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSocket {
    /// An abstract socket (Linux): no file, so a read-only container with
    /// any user has one; named after the PID namespace, so that two
    /// containers sharing a network namespace (`--network host`) do not
    /// meet.
    Abstract(String),
    /// A socket file (`--status-socket`), readable by its owner only.
    Path(PathBuf),
}

impl std::fmt::Display for StatusSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusSocket::Abstract(name) => write!(f, "@{name}"),
            StatusSocket::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The socket of `--status-socket`, or this PID namespace's.
///
/// # Errors
/// An empty path; no default where abstract sockets do not exist.
pub(super) fn status_socket(args: &Args) -> Result<StatusSocket> {
    if let Some(path) = args.text(&flags::STATUS_SOCKET)? {
        if path.trim().is_empty() {
            bail!("{}: empty path", args.name(&flags::STATUS_SOCKET));
        }
        return Ok(StatusSocket::Path(path.into()));
    }
    if !cfg!(target_os = "linux") {
        bail!(
            "{} is needed here: the default socket is an abstract one, which only Linux has",
            args.name(&flags::STATUS_SOCKET)
        );
    }
    // /proc/self/ns/pid reads `pid:[4026531836]`: the namespace's inode.
    let namespace = std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|link| {
            let link = link.to_string_lossy().into_owned();
            let inode = link.strip_prefix("pid:[")?.strip_suffix(']')?.to_string();
            Some(inode)
        })
        .unwrap_or_else(|| "default".to_string());
    Ok(StatusSocket::Abstract(format!(
        "healthprobe-status-{namespace}"
    )))
}

/// The probe flags of the command line, each with the kind it defines.
const PROBE_FLAGS: [(&crate::cli::flags::Flag, ProbeKind); 3] = [
    (&flags::STARTUP, ProbeKind::Startup),
    (&flags::LIVENESS, ProbeKind::Liveness),
    (&flags::READINESS, ProbeKind::Readiness),
];

/// Whether the command line asks for a supervisor: probes (flags or a
/// file) with `-- CMD`. From the environment without a CMD they are left
/// unused (the same image's `HEALTHCHECK` runs healthprobe without one);
/// typed on the command line without a CMD they are refused.
///
/// # Errors
/// A probe typed without `-- CMD`; supervising off Linux.
pub(super) fn wanted(args: &Args) -> Result<bool> {
    let asked = PROBE_FLAGS
        .iter()
        .map(|(flag, _)| *flag)
        .chain([&flags::PROBES])
        .find(|f| args.given(f));
    let Some(asked) = asked else {
        return Ok(false);
    };
    if args.command(&flags::COMMAND).is_empty() {
        let typed = PROBE_FLAGS
            .iter()
            .map(|(flag, _)| *flag)
            .chain([&flags::PROBES])
            .find(|f| args.typed(f));
        if let Some(flag) = typed {
            bail!(
                "{} probes the command given after `--`, and there is none \
                 (e.g. healthprobe --liveness /health -- app)",
                args.name(flag)
            );
        }
        return Ok(false);
    }
    if !cfg!(target_os = "linux") {
        bail!(
            "{}: supervising a command needs Linux (process groups and a child subreaper)",
            args.name(asked)
        );
    }
    Ok(true)
}

/// The supervisor's settings: the probes of the file and of the flags
/// (one of each kind), the stop.
///
/// # Errors
/// A bad probe, file or value: one line naming the flag, variable or
/// file field; a probe given by a flag and by the file.
pub(super) fn supervise(args: &Args, secrets: &Secrets) -> Result<Supervise> {
    // Every timing flag is checked, whether a probe of the command line
    // uses it or not: bad input is refused wherever it is.
    for kind in [ProbeKind::Startup, ProbeKind::Readiness] {
        from_flags(args, kind, Vec::new())?;
    }
    let file = probes_file(args, secrets)?;
    let mut probes = file.probes;
    for (flag, kind) in PROBE_FLAGS {
        let texts = args.texts(flag)?;
        if texts.is_empty() {
            continue;
        }
        if probes.iter().any(|p| p.kind == kind) {
            bail!(
                "{} and the {} probe of {} give the {} probe twice: give it once",
                args.name(flag),
                kind.name(),
                args.name(&flags::PROBES),
                kind.name()
            );
        }
        let targets = parse_all(&texts, &args.name(flag), args)?;
        probes.push(from_flags(args, kind, targets)?);
    }
    probes.sort_by_key(|p| p.kind);
    let grace_period = match (
        args.parse::<HumanDuration>(&flags::TERMINATION_GRACE_PERIOD)?,
        file.grace_period,
    ) {
        (Some(typed), _) => typed.0,
        (None, Some(pod)) => pod,
        (None, None) => {
            crate::cli::default_of::<HumanDuration>(&flags::TERMINATION_GRACE_PERIOD)?.0
        }
    };
    let pre_stop_sleep = match (
        args.parse::<Delay>(&flags::PRE_STOP_SLEEP)?,
        file.pre_stop_sleep,
    ) {
        (Some(typed), _) => typed.0,
        (None, Some(file)) => file,
        (None, None) => Duration::ZERO,
    };
    Ok(Supervise {
        probes,
        grace_period,
        pre_stop_sleep,
        stop_signal: args.parse(&flags::STOP_SIGNAL)?,
        status_socket: status_socket(args)?,
    })
}

/// The probes of `--probes FILE`, if given.
fn probes_file(args: &Args, secrets: &Secrets) -> Result<FileProbes> {
    let flag = &flags::PROBES;
    let Some(path) = args.text(flag)? else {
        if args.given(&flags::CONTAINER) {
            bail!(
                "{} names a container of {}, which is not given",
                args.name(&flags::CONTAINER),
                args.name(flag)
            );
        }
        return Ok(FileProbes::default());
    };
    let name = args.name(flag);
    let text = probes::read(path.as_ref()).with_context(|| format!("{name}: {path}"))?;
    let container = args.text(&flags::CONTAINER)?;
    let port = port(args)?;
    probes::parse(&path, &text, container.as_deref(), port, secrets).with_context(|| name)
}

/// A probe of the command line: its targets, and the timing flags of its
/// kind (startup's own period and threshold falling back to liveness').
fn from_flags(args: &Args, kind: ProbeKind, targets: Vec<Target>) -> Result<ProbeSpec> {
    let period = args.parse_or_default::<HumanDuration>(&flags::PERIOD)?.0;
    let failure_threshold = args
        .parse_or_default::<Count<1>>(&flags::FAILURE_THRESHOLD)?
        .0;
    let (period, failure_threshold) = match kind {
        ProbeKind::Startup => (
            args.parse::<HumanDuration>(&flags::STARTUP_PERIOD)?
                .map_or(period, |d| d.0),
            args.parse::<Count<1>>(&flags::STARTUP_FAILURE_THRESHOLD)?
                .map_or(failure_threshold, |n| n.0),
        ),
        _ => (period, failure_threshold),
    };
    let success_threshold = match kind {
        ProbeKind::Readiness => {
            args.parse_or_default::<Count<1>>(&flags::SUCCESS_THRESHOLD)?
                .0
        }
        _ => 1,
    };
    Ok(ProbeSpec {
        kind,
        targets,
        initial_delay: args.parse_or_default::<Delay>(&flags::INITIAL_DELAY)?.0,
        period,
        timeout: args.parse_or_default::<HumanDuration>(&flags::TIMEOUT)?.0,
        success_threshold,
        failure_threshold,
        grace_period: None,
        headers: Vec::new(),
    })
}
