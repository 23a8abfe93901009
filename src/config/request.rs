//! The request a check sends: method, headers, User-Agent, credentials,
//! and the size of its head.

use anyhow::{Context, Result, anyhow, bail};
use ureq::http::{HeaderName, HeaderValue};

use super::auth::UserPassword;
use super::defaults::{DEFAULT_METHOD, MAX_REQUEST_HEAD_BYTES};
use super::expand::expanded_env_lines;
use super::target::Target;
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

/// What every HTTP request of a run carries besides its URL and method.
pub(super) struct Request {
    /// `HEALTHPROBE_HEADERS` and `-H`, in order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The User-Agent value.
    pub user_agent: String,
    /// `Authorization: Basic …` from `--user`.
    pub authorization: Option<HeaderValue>,
    /// The largest request head of any target, in bytes.
    pub head_bytes: usize,
}

/// The headers, User-Agent and `--user` credentials of every request, and
/// the largest request head among `all` targets.
///
/// # Errors
/// A bad header, User-Agent or USER:PASSWORD; a request head over
/// [`MAX_REQUEST_HEAD_BYTES`].
pub(super) fn request(
    cli: &Cli,
    src: &Sources,
    method: Method,
    all: &[&Target],
) -> Result<Request> {
    let headers = headers(cli, src)?;
    let user_agent = user_agent(cli, src)?;
    let authorization = src
        .parse_opt::<UserPassword>(Flag::User, cli.user.as_deref())?
        .map(|u| u.authorization);
    let head_bytes = largest_head(all, method, &headers, &user_agent, authorization.as_ref())?;
    Ok(Request {
        headers,
        user_agent,
        authorization,
        head_bytes,
    })
}

/// `HEALTHPROBE_HEADERS` first, then `-H`; a `-H` name replaces the same
/// name from the environment.
fn headers(cli: &Cli, src: &Sources) -> Result<Vec<(HeaderName, HeaderValue)>> {
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
fn user_agent(cli: &Cli, src: &Sources) -> Result<String> {
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

/// What a request head holds besides the URL and the headers given: the
/// spaces and `HTTP/1.1` of the request line, `Host`, `Accept` and the
/// line ends, in bytes (generously: ureq writes fewer).
const REQUEST_HEAD_OVERHEAD: usize = 128;

/// The largest request head (request line and headers) of the HTTP
/// targets in `all`, in bytes, counting the whole URL (as a request
/// through a proxy sends it).
///
/// # Errors
/// A head over [`MAX_REQUEST_HEAD_BYTES`], naming the target (shortened)
/// and the sizes of its URL and headers.
fn largest_head(
    all: &[&Target],
    method: Method,
    headers: &[(HeaderName, HeaderValue)],
    user_agent: &str,
    authorization: Option<&HeaderValue>,
) -> Result<usize> {
    let line = |name: &str, value: &[u8]| name.len() + 2 + value.len() + 2;
    let given: usize = headers
        .iter()
        .map(|(n, v)| line(n.as_str(), v.as_bytes()))
        .sum::<usize>()
        + line("user-agent", user_agent.as_bytes());
    let mut largest = 0;
    for target in all.iter().filter(|t| t.is_http()) {
        let credentials = authorization
            .or(target.authorization.as_ref())
            .map_or(0, |v| line("authorization", v.as_bytes()));
        let header_bytes = given + credentials + line("host", target.authority().as_bytes());
        let head = method.as_str().len() + target.url.len() + header_bytes + REQUEST_HEAD_OVERHEAD;
        if head > MAX_REQUEST_HEAD_BYTES {
            bail!(
                "{}: the request would be {head} bytes (URL {}, headers {header_bytes}); \
                 healthprobe sends at most {MAX_REQUEST_HEAD_BYTES} bytes of request line \
                 and headers",
                target.shown,
                target.url.len()
            );
        }
        largest = largest.max(head);
    }
    Ok(largest)
}
