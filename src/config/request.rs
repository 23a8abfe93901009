//! The request a check sends: method, headers, User-Agent, credentials,
//! and the size of its head.

use anyhow::{Context, Result, anyhow, bail};
use ureq::http::{HeaderName, HeaderValue};

use super::auth::UserPassword;
use super::target::Target;
use super::values::{Header, Method};
use crate::cli::{Args, flags};

/// Largest request head sent (request line and headers), in bytes: 64 KiB,
/// what h11 (uvicorn's HTTP/1 parser) accepts; nginx takes 8 KiB per line
/// by default and answers 414 or 400 above it. A larger request is refused
/// before anything is sent.
pub const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;

/// The method: `-X`/`HEALTHPROBE_METHOD`, or HEAD with curl's `-I`.
///
/// # Errors
/// A method other than GET or HEAD; `-I` with `-X GET` typed on the
/// command line.
pub(super) fn method(args: &Args) -> Result<Method> {
    let method: Method = args.parse_or_default(&flags::METHOD)?;
    if args.switch(&flags::HEAD) {
        if method == Method::Get && args.typed(&flags::METHOD) {
            bail!(
                "{} and {} GET ask for two methods",
                args.name(&flags::HEAD),
                args.name(&flags::METHOD)
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
pub(super) fn request(args: &Args, method: Method, all: &[&Target]) -> Result<Request> {
    let headers = headers(args)?;
    let user_agent = user_agent(args)?;
    let authorization = args
        .parse::<UserPassword>(&flags::USER)?
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
fn headers(args: &Args) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let flag = &flags::HEADERS;
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for line in args.env_texts(flag)? {
        let Header { name, value } = line.parse().with_context(|| flag.env.unwrap_or(""))?;
        headers.push((name, value));
    }
    let from_env = headers.len();
    for text in args.typed_texts(flag)? {
        let Header { name, value } = text.parse().with_context(|| args.name(flag))?;
        let mut i = 0;
        headers.retain(|(n, _)| {
            i += 1;
            i > from_env || *n != name
        });
        headers.push((name, value));
    }
    Ok(headers)
}

/// The User-Agent: `-A`/`--user-agent`, or its default.
///
/// # Errors
/// A value HTTP/1.1 forbids.
fn user_agent(args: &Args) -> Result<String> {
    let flag = &flags::USER_AGENT;
    let Some(ua) = args.text(flag)? else {
        return Ok(crate::cli::default_text(flag)
            .unwrap_or_default()
            .to_string());
    };
    HeaderValue::from_str(&ua)
        .map_err(|_| anyhow!("{}: value has characters HTTP/1.1 forbids", args.name(flag)))?;
    Ok(ua)
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
