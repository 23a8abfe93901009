//! The supervising step: `--startup` and `--liveness` with `-- CMD` make
//! healthprobe run CMD as its child and probe it with the Kubernetes probe
//! loop (startup gates liveness; `failureThreshold` failures in a row stop
//! the application).

use std::time::Duration;

use anyhow::{Result, bail};

use super::defaults::{
    DEFAULT_FAILURE_THRESHOLD, DEFAULT_GRACE_PERIOD, DEFAULT_INITIAL_DELAY, DEFAULT_PERIOD,
};
use super::target::Target;
use super::targets::parse_all;
use super::values::{Count, Delay, HumanDuration};
use crate::cli::{Cli, Flag, Sources};

/// How the command after `--` is supervised (Kubernetes' probe fields).
/// Parsed on every platform, so a bad value is named the same way, but
/// used on Unix only.
#[derive(Debug, Clone)]
#[cfg_attr(not(unix), allow(dead_code))]
pub struct Supervise {
    /// The startup probe's targets; liveness waits until all are healthy
    /// once. Empty: no startup probe.
    pub startup: Vec<Target>,
    /// The liveness probe's targets. Empty: no liveness probe.
    pub liveness: Vec<Target>,
    /// Time between liveness attempts (periodSeconds).
    pub period: Duration,
    /// Liveness failures in a row that stop the command (failureThreshold).
    pub failure_threshold: u32,
    /// Time between startup attempts.
    pub startup_period: Duration,
    /// Startup failures in a row that stop the command.
    pub startup_failure_threshold: u32,
    /// Time from the command's start to the first probe
    /// (initialDelaySeconds).
    pub initial_delay: Duration,
    /// Time between SIGTERM and SIGKILL when a probe stops the command
    /// (terminationGracePeriodSeconds).
    pub grace_period: Duration,
}

impl Supervise {
    /// Every startup and liveness target, startup first.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.startup.iter().chain(&self.liveness)
    }
}

/// Whether the command line asks for a supervisor: `--startup` or
/// `--liveness` with `-- CMD`. From the environment without a CMD they are
/// left unused (the same image's `HEALTHCHECK` runs healthprobe without
/// one); typed on the command line without a CMD they are refused.
///
/// # Errors
/// `--startup`/`--liveness` typed without `-- CMD`.
pub(super) fn wanted(cli: &Cli, src: &Sources) -> Result<bool> {
    let asked = !cli.startup.is_empty() || !cli.liveness.is_empty();
    if asked && cli.command.is_empty() {
        for flag in [Flag::Startup, Flag::Liveness] {
            if src.typed(flag) {
                bail!(
                    "{} probes the command given after `--`, and there is none \
                     (e.g. healthprobe --liveness /health -- app)",
                    src.name(flag)
                );
            }
        }
        return Ok(false);
    }
    if asked && !cfg!(target_os = "linux") {
        bail!(
            "{}: supervising a command needs Linux (process groups and a child subreaper)",
            src.name(if cli.startup.is_empty() {
                Flag::Liveness
            } else {
                Flag::Startup
            })
        );
    }
    Ok(asked)
}

/// The supervisor's settings.
///
/// # Errors
/// A target that is not one, a period or grace period that is not a
/// duration or is zero, a threshold that is not a whole number of at least
/// 1: one line naming the flag or variable.
pub(super) fn supervise(cli: &Cli, src: &Sources) -> Result<Supervise> {
    let period = src
        .parse::<HumanDuration>(Flag::Period, cli.period.as_deref(), DEFAULT_PERIOD)?
        .0;
    let failure_threshold = src
        .parse::<Count<1>>(
            Flag::FailureThreshold,
            cli.failure_threshold.as_deref(),
            DEFAULT_FAILURE_THRESHOLD,
        )?
        .0;
    Ok(Supervise {
        startup: parse_all(&cli.startup, &src.name(Flag::Startup), cli, src)?,
        liveness: parse_all(&cli.liveness, &src.name(Flag::Liveness), cli, src)?,
        period,
        failure_threshold,
        startup_period: src
            .parse_opt::<HumanDuration>(Flag::StartupPeriod, cli.startup_period.as_deref())?
            .map_or(period, |d| d.0),
        startup_failure_threshold: src
            .parse_opt::<Count<1>>(
                Flag::StartupFailureThreshold,
                cli.startup_failure_threshold.as_deref(),
            )?
            .map_or(failure_threshold, |n| n.0),
        initial_delay: src
            .parse::<Delay>(
                Flag::InitialDelay,
                cli.initial_delay.as_deref(),
                DEFAULT_INITIAL_DELAY,
            )?
            .0,
        grace_period: src
            .parse::<HumanDuration>(
                Flag::TerminationGracePeriod,
                cli.termination_grace_period.as_deref(),
                DEFAULT_GRACE_PERIOD,
            )?
            .0,
    })
}
