//! The targets step: the targets from the command line or
//! `HEALTHPROBE_URL`, with `--host` and `--port` (or `PORT`) for bare
//! paths, read only when a bare path needs them.

use anyhow::{Context, Result, bail};

use super::target::{Target, TargetKind};
use super::values::{Port, abbreviated};
use crate::cli::{Args, Origin, env_string, flags};

/// The targets from the command line or `HEALTHPROBE_URL`, bare paths
/// joined to `--host` and `--port` (or `PORT`). Host and port are read only
/// when a bare path needs them: with full URLs, a bad `PORT` or the
/// `HEALTHPROBE_PORT=tcp://10.96.0.12:80` that Kubernetes injects for a
/// Service named healthprobe does not matter (a value typed on the command
/// line is still checked).
pub(super) fn targets(args: &Args, supervising: bool) -> Result<Vec<Target>> {
    let (texts, source) = texts(args, supervising)?;
    parse_all(&texts, &source, args)
}

/// `texts` (from `source`) as targets, bare paths joined to `--host` and
/// `--port` (or `PORT`), read only when a bare path needs them.
///
/// # Errors
/// The first text that is not a target, behind `source`; a bad host or
/// port; a target kind this build cannot check.
pub(super) fn parse_all(texts: &[String], source: &str, args: &Args) -> Result<Vec<Target>> {
    let bare_paths = texts.iter().any(|t| t.trim().starts_with('/'));
    let port = if bare_paths || args.typed(&flags::PORT) {
        port(args)?
    } else {
        None
    };
    let host = match args.text(&flags::HOST)? {
        Some(host) => host,
        None => crate::cli::default_text(&flags::HOST)
            .unwrap_or_default()
            .to_string(),
    };
    let host = host.trim();
    if (bare_paths || args.typed(&flags::HOST))
        && (host.is_empty() || host.contains(['/', '?', '#', '@', ' ']))
    {
        bail!(
            "{}: {:?} is not a host name or address",
            args.name(&flags::HOST),
            abbreviated(host)
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
fn texts(args: &Args, supervising: bool) -> Result<(Vec<String>, String)> {
    let flag = &flags::TARGETS;
    if supervising && !args.typed(flag) {
        return Ok((Vec::new(), args.name(flag)));
    }
    let texts = args.texts(flag)?;
    if texts.is_empty() {
        bail!(
            "no target: give a URL or a path such as /health, or set {}",
            flag.env.unwrap_or("")
        );
    }
    Ok((texts, args.name(flag)))
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
pub(super) fn port(args: &Args) -> Result<Option<u16>> {
    let flag = &flags::PORT;
    if let Some(text) = args.text(flag)?
        && !(args.origin(flag) == Origin::Env && text.trim().starts_with("tcp://"))
    {
        return Ok(Some(
            text.parse::<Port>().with_context(|| args.name(flag))?.0,
        ));
    }
    let Some(fallback) = flag.env_fallback else {
        return Ok(None);
    };
    match env_string(fallback)? {
        Some(text) => Ok(Some(text.parse::<Port>().context(fallback)?.0)),
        None => Ok(None),
    }
}
