//! The request a check sends: method, headers, User-Agent.

use anyhow::{Context, Result, anyhow, bail};
use ureq::http::{HeaderName, HeaderValue};

use super::defaults::DEFAULT_METHOD;
use super::expand::expanded_env_lines;
use super::values::{Header, Method};
use crate::cli::{Cli, ENV_HEADERS, Flag, Sources};

/// The method: `-X`/`HEALTHPROBE_METHOD`, or HEAD with curl's `-I`.
///
/// # Errors
/// A method other than GET or HEAD; `-I` with `-X GET` typed on the
/// command line.
pub(super) fn method(cli: &Cli, src: &Sources) -> Result<Method> {
    let method: Method = src.parse(Flag::Method, cli.method.as_deref(), DEFAULT_METHOD)?;
    if cli.head {
        if method == Method::Get && src.typed(Flag::Method) {
            bail!(
                "{} and {} GET ask for two methods",
                src.name(Flag::Head),
                src.name(Flag::Method)
            );
        }
        return Ok(Method::Head);
    }
    Ok(method)
}

/// `HEALTHPROBE_HEADERS` first, then `-H`; a `-H` name replaces the same
/// name from the environment.
pub(super) fn headers(cli: &Cli, src: &Sources) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for line in expanded_env_lines(ENV_HEADERS)? {
        let Header { name, value } = line.parse().context(ENV_HEADERS)?;
        headers.push((name, value));
    }
    let from_env = headers.len();
    for text in &cli.headers {
        let Header { name, value } = text.parse().with_context(|| src.name(Flag::Headers))?;
        let mut i = 0;
        headers.retain(|(n, _)| {
            i += 1;
            i > from_env || *n != name
        });
        headers.push((name, value));
    }
    Ok(headers)
}

/// The User-Agent: `-A`/`--user-agent`, or `healthprobe/VERSION`.
///
/// # Errors
/// A value HTTP/1.1 forbids.
pub(super) fn user_agent(cli: &Cli, src: &Sources) -> Result<String> {
    match &cli.user_agent {
        Some(ua) => {
            HeaderValue::from_str(ua).map_err(|_| {
                anyhow!(
                    "{}: value has characters HTTP/1.1 forbids",
                    src.name(Flag::UserAgent)
                )
            })?;
            Ok(ua.clone())
        }
        None => Ok(concat!("healthprobe/", env!("CARGO_PKG_VERSION")).to_string()),
    }
}
