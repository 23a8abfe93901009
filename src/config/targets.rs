//! The targets step: the targets from the command line or
//! `HEALTHPROBE_URL`, with `--host` and `--port` (or `PORT`) for bare
//! paths, read only when a bare path needs them.

use anyhow::{Context, Result, bail};

use super::defaults::DEFAULT_HOST;
use super::expand::expand_env;
use super::target::{Target, TargetKind};
use super::values::{Port, redacted};
use crate::cli::{Cli, ENV_PORT_FALLBACK, ENV_URL, Flag, Sources, env_string};

/// The targets from the command line or `HEALTHPROBE_URL`, bare paths
/// joined to `--host` and `--port` (or `PORT`). Host and port are read only
/// when a bare path needs them: with full URLs, a bad `PORT` or the
/// `HEALTHPROBE_PORT=tcp://10.96.0.12:80` that Kubernetes injects for a
/// Service named healthprobe does not matter (a value typed on the command
/// line is still checked).
pub(super) fn targets(cli: &Cli, src: &Sources, supervising: bool) -> Result<Vec<Target>> {
    let (texts, source) = texts(cli, src, supervising)?;
    parse_all(&texts, &source, cli, src)
}

/// `texts` (from `source`) as targets, bare paths joined to `--host` and
/// `--port` (or `PORT`), read only when a bare path needs them.
///
/// # Errors
/// The first text that is not a target, behind `source`; a bad host or
/// port; a target kind this build cannot check.
pub(super) fn parse_all(
    texts: &[String],
    source: &str,
    cli: &Cli,
    src: &Sources,
) -> Result<Vec<Target>> {
    let bare_paths = texts.iter().any(|t| t.trim().starts_with('/'));
    let port = if bare_paths || src.typed(Flag::Port) {
        port(cli, src)?
    } else {
        None
    };
    let host = cli.host.as_deref().unwrap_or(DEFAULT_HOST).trim();
    if (bare_paths || src.typed(Flag::Host))
        && (host.is_empty() || host.contains(['/', '?', '#', '@', ' ']))
    {
        bail!(
            "{}: {:?} is not a host name or address",
            src.name(Flag::Host),
            redacted(host)
        );
    }
    let targets = texts
        .iter()
        .map(|t| Target::parse(t.trim(), host, port).with_context(|| source.to_string()))
        .collect::<Result<Vec<_>>>()?;
    for target in &targets {
        compiled_in(target).with_context(|| format!("{source}: {}", target.url))?;
    }
    Ok(targets)
}

/// The target texts, and the name of where they came from: the command
/// line, or `HEALTHPROBE_URL` (several separated by spaces). A supervisor
/// (`--startup`/`--liveness` with `-- CMD`) needs none and does not read
/// `HEALTHPROBE_URL`: in an image that variable is the HEALTHCHECK's
/// target, which answers only once CMD runs.
fn texts(cli: &Cli, src: &Sources, supervising: bool) -> Result<(Vec<String>, String)> {
    if !cli.targets.is_empty() || supervising {
        return Ok((cli.targets.clone(), src.name(Flag::Targets)));
    }
    let texts: Vec<String> = env_string(ENV_URL)?
        .map(|v| v.split_whitespace().map(expand_env).collect::<Result<_>>())
        .transpose()
        .context(ENV_URL)?
        .unwrap_or_default();
    if texts.is_empty() {
        bail!("no target: give a URL or a path such as /health, or set {ENV_URL}");
    }
    Ok((texts, ENV_URL.to_string()))
}

/// Whether this build can check `target`: gRPC and TLS are cargo features.
///
/// # Errors
/// A grpc:// target in a build without gRPC, a TLS target in a build
/// without TLS.
fn compiled_in(target: &Target) -> Result<()> {
    if !cfg!(feature = "grpc") && matches!(target.kind, TargetKind::Grpc { .. }) {
        bail!(
            "this build has no gRPC (built without the grpc feature); \
             use a build with gRPC for grpc:// targets"
        );
    }
    if !cfg!(feature = "tls") && target.kind.tls() {
        bail!(
            "this build has no TLS (built without the tls feature); \
             use a build with TLS for https:// targets"
        );
    }
    Ok(())
}

/// The port for bare paths: `--port`, `HEALTHPROBE_PORT` (unless it is a
/// Kubernetes service link, `tcp://…`), then `PORT`.
fn port(cli: &Cli, src: &Sources) -> Result<Option<u16>> {
    if let Some(text) = &cli.port
        && !(src.came_from_env(Flag::Port) && text.trim().starts_with("tcp://"))
    {
        return Ok(Some(
            text.parse::<Port>()
                .with_context(|| src.name(Flag::Port))?
                .0,
        ));
    }
    match env_string(ENV_PORT_FALLBACK)? {
        Some(text) => Ok(Some(text.parse::<Port>().context(ENV_PORT_FALLBACK)?.0)),
        None => Ok(None),
    }
}
