//! The targets step: the targets from the command line or
//! `HEALTHPROBE_URL`, with `--host` and `--port` (or `PORT`) for bare
//! paths, read only when a bare path needs them.

use anyhow::{Context, Result, bail};

use super::expand::expand_env;
use super::sources::env_string;
use super::target::{Target, TargetKind};
use super::values::Port;
use super::{DEFAULT_HOST, Sources};
use crate::cli::{Cli, ENV_PORT_FALLBACK, ENV_URL};

/// The targets from the command line or `HEALTHPROBE_URL`, bare paths
/// joined to `--host` and `--port` (or `PORT`). Host and port are read only
/// when a bare path needs them: with full URLs, a bad `PORT` or the
/// `HEALTHPROBE_PORT=tcp://10.96.0.12:80` that Kubernetes injects for a
/// Service named healthprobe does not matter (a value typed on the command
/// line is still checked).
pub(super) fn targets(cli: &Cli, src: &Sources) -> Result<Vec<Target>> {
    let (texts, source) = if cli.targets.is_empty() {
        let texts: Vec<String> = env_string(ENV_URL)?
            .map(|v| v.split_whitespace().map(expand_env).collect::<Result<_>>())
            .transpose()
            .context(ENV_URL)?
            .unwrap_or_default();
        if texts.is_empty() {
            bail!("no target: give a URL or a path such as /health, or set {ENV_URL}");
        }
        (texts, ENV_URL.to_string())
    } else {
        (cli.targets.clone(), src.name("targets"))
    };
    let bare_paths = texts.iter().any(|t| t.trim().starts_with('/'));
    let port = if bare_paths || src.typed("port") {
        port(cli, src)?
    } else {
        None
    };
    let host = cli.host.as_deref().unwrap_or(DEFAULT_HOST).trim();
    if (bare_paths || src.typed("host"))
        && (host.is_empty() || host.contains(['/', '?', '#', '@', ' ']))
    {
        bail!(
            "{}: {host:?} is not a host name or address",
            src.name("host")
        );
    }
    let targets = texts
        .iter()
        .map(|t| Target::parse(t.trim(), host, port).with_context(|| source.clone()))
        .collect::<Result<Vec<_>>>()?;
    if !cfg!(feature = "grpc")
        && let Some(t) = targets
            .iter()
            .find(|t| matches!(t.kind, TargetKind::Grpc { .. }))
    {
        bail!(
            "{source}: {}: this build has no gRPC (built without the grpc feature); \
             use a build with gRPC for grpc:// targets",
            t.url
        );
    }
    if !cfg!(feature = "tls")
        && let Some(t) = targets.iter().find(|t| t.is_https())
    {
        bail!(
            "{source}: {}: this build has no TLS (built without the tls feature); \
             use a build with TLS for https:// targets",
            t.url
        );
    }
    Ok(targets)
}

/// The port for bare paths: `--port`, `HEALTHPROBE_PORT` (unless it is a
/// Kubernetes service link, `tcp://…`), then `PORT`.
fn port(cli: &Cli, src: &Sources) -> Result<Option<u16>> {
    if let Some(text) = &cli.port
        && !(src.came_from_env("port") && text.trim().starts_with("tcp://"))
    {
        return Ok(Some(
            text.parse::<Port>().with_context(|| src.name("port"))?.0,
        ));
    }
    match env_string(ENV_PORT_FALLBACK)? {
        Some(text) => Ok(Some(text.parse::<Port>().context(ENV_PORT_FALLBACK)?.0)),
        None => Ok(None),
    }
}
