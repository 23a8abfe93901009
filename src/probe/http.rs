//! The HTTP(S) check: one request through ureq (following same-host
//! redirects when asked), the body read up to `--max-body`, the response
//! judged. The semantics are the Kubernetes httpGet probe's: one total
//! deadline for the whole attempt, statuses judged here (never turned into
//! errors by ureq), and proxies from the environment never used.

use std::io::Read;
use std::sync::Arc;

use ureq::http::Response;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector};
use ureq::{Agent, Body, Timeout};

use super::check::{Answer, Check, Failure, Kind};
use super::deadline::Deadline;
#[cfg(feature = "tls")]
use super::tls::TlsConnector;
use super::trace::{Event, Phase, Progress};
#[cfg(unix)]
use super::transport::UnixConnector;
use super::transport::{ProbeConnector, ProbeResolver, TcpConnector};
use super::{judge, reason, redirect};
use crate::config::{Config, Method, Target};
use crate::network::NetworkLink;

/// Size of the buffer responses are read into, in bytes.
const INPUT_BUFFER_BYTES: usize = 16 * 1024;

/// Largest response head (status line and headers) accepted, in bytes; a
/// larger one is unhealthy ("response head too large").
const MAX_RESPONSE_HEAD_BYTES: usize = INPUT_BUFFER_BYTES - 1024;

/// One request of a check: the URL, and the Host header to send when it
/// is not the URL's (`--servername`).
struct Request<'a> {
    target: &'a Target,
    url: String,
    host_header: Option<String>,
}

/// Checks one `http://` or `https://` target within `deadline`.
pub(super) fn check(
    target: &Target,
    config: &Config,
    deadline: Deadline,
    progress: &Arc<Progress>,
) -> Check {
    let mut check = Check::new(target, Kind::of(target, config.method));
    // --servername: request https://NAME/… (SNI and verification use NAME),
    // connect to the URL's own host, and keep its Host header.
    let renamed = match &config.tls.servername {
        Some(name) if target.kind.tls() => target.with_host(name).map(|url| (name, url)),
        _ => None,
    };
    let rename = renamed
        .as_ref()
        .map(|(name, _)| (name.to_string(), target.host.clone()));
    let agent = agent(config, progress, rename, deadline);
    let request = Request {
        target,
        url: renamed.map_or_else(|| target.url.clone(), |(_, url)| url),
        host_header: rename_host_header(target, config),
    };
    let mut response = match follow(&agent, config, request, deadline, progress) {
        Ok(response) => response,
        Err((status, reason)) => {
            check.answer = status.map(|status| Answer::Http {
                status,
                excerpt: None,
            });
            check.failure = Some(Failure::Error(reason));
            return check;
        }
    };
    let status = response.status().as_u16();
    progress.set(Phase::Body);
    let body = match config.method {
        Method::Head => Ok(Vec::new()),
        Method::Get => read_body(response.body_mut(), config.max_body),
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            check.answer = Some(Answer::Http {
                status,
                excerpt: None,
            });
            check.failure = Some(Failure::Error(reason::describe(&e, Phase::Body, &deadline)));
            return check;
        }
    };
    progress.event(Event::BodyRead(body.len()));
    check.answer = Some(Answer::Http {
        status,
        excerpt: judge::excerpt(&body),
    });
    check.failure = judge::judge(status, &body, &config.expect);
    check.body = config.body_file.is_some().then_some(body);
    check
}

/// The Host header of a `--servername` request: the URL's own authority.
fn rename_host_header(target: &Target, config: &Config) -> Option<String> {
    let _ = config.tls.servername.as_ref()?;
    let uri: ureq::http::Uri = target.url.parse().ok()?;
    Some(uri.authority()?.as_str().to_string())
}

/// Sends the request, and again to each same-host redirect when
/// `--max-redirs` allows (10 by default, the Kubernetes rule): the final
/// response, whose head has been traced.
///
/// # Errors
/// The reason, with the status of a redirect that was not followed past the
/// limit.
fn follow(
    agent: &Agent,
    config: &Config,
    mut request: Request<'_>,
    deadline: Deadline,
    progress: &Progress,
) -> Result<Response<Body>, (Option<u16>, String)> {
    let limit = config.max_redirects;
    for redirects in 0..=limit {
        progress.event(Event::Request {
            method: config.method.as_str(),
            url: &request.url,
        });
        let response = send(agent, config, &request, deadline).map_err(|e| {
            let why = reason::describe(&e, progress.phase(), &deadline);
            match &config.proxy {
                Some(proxy) if reason::before_the_proxy_answered(&e) => {
                    (None, format!("proxy {}:{}: {why}", proxy.host, proxy.port))
                }
                _ => (None, why),
            }
        })?;
        progress.event(Event::ResponseHead {
            version: response.version(),
            status: response.status(),
            headers: response.headers(),
        });
        let status = response.status();
        let next = (limit > 0 && status.is_redirection())
            .then(|| redirect::same_host(response.headers(), &request.url))
            .flatten();
        let Some(next) = next else {
            return Ok(response);
        };
        if redirects == limit {
            return Err((
                Some(status.as_u16()),
                format!("stopped after {limit} redirects (--max-redirs)"),
            ));
        }
        progress.event(Event::Redirect {
            status: status.as_u16(),
            to: &next,
        });
        request.url = next;
    }
    Err((
        None,
        format!("stopped after {limit} redirects (--max-redirs)"),
    ))
}

/// Size of the request buffer, in bytes: the largest request head of the
/// config (the config layer refuses one over MAX_REQUEST_HEAD_BYTES) plus
/// 1 KiB for a redirect's longer URL, at least 4 KiB.
fn request_buffer_bytes(config: &Config) -> usize {
    (config.request_head_bytes + 1024).max(4 * 1024)
}

/// ureq's settings for a check: statuses and redirects left to the probe,
/// no proxy but `--proxy`, buffers of a few KiB.
fn ureq_config(config: &Config) -> ureq::config::Config {
    Agent::config_builder()
        // Status codes are judged here, not turned into errors.
        .http_status_as_error(false)
        // Redirects are followed here, only to the same host.
        .max_redirects(0)
        .max_redirects_will_error(false)
        // Never the proxy from the environment.
        .proxy(config.proxy.as_ref().map(|p| p.proxy.clone()))
        .user_agent(config.user_agent.as_str())
        // A few KiB, not ureq's 128 KiB defaults. The response head must
        // stay below the input buffer, or a head that fills it reads as a
        // closed connection; see request_buffer_bytes for the output.
        .input_buffer_size(INPUT_BUFFER_BYTES)
        .max_response_header_size(MAX_RESPONSE_HEAD_BYTES)
        .output_buffer_size(request_buffer_bytes(config))
        .max_idle_connections(0)
        .build()
}

/// The ureq agent of one check. `rename` maps the `--servername` host of
/// the request URL back to the host to connect to.
fn agent(
    config: &Config,
    progress: &Arc<Progress>,
    rename: Option<(String, String)>,
    deadline: Deadline,
) -> Agent {
    let resolver = ProbeResolver {
        progress: progress.clone(),
        fixed: config.resolve.clone(),
        family: config.family,
        deadline,
        skip: config.unix_socket.is_some() || config.network.http.is_some(),
        rename,
    };
    // A Unix socket, or a replacement for the network, a proxy's CONNECT
    // tunnel or TCP; then TLS (https).
    #[cfg(feature = "tls")]
    let tls = TlsConnector {
        config: config.tls.client.clone(),
        progress: progress.clone(),
    };
    match &config.unix_socket {
        #[cfg(unix)]
        Some(path) => {
            let inner = ().chain(UnixConnector { path: path.clone() });
            #[cfg(feature = "tls")]
            let inner = inner.chain(tls);
            traced(config, inner, progress, resolver)
        }
        #[cfg(not(unix))]
        Some(_) => unreachable!("config refuses --unix-socket where there are no Unix sockets"),
        None => {
            let tcp = TcpConnector {
                progress: progress.clone(),
                deadline,
            };
            let inner =
                ().chain(NetworkLink(config.network.http.clone()))
                    .chain(ConnectProxyConnector::default())
                    .chain(tcp);
            #[cfg(feature = "tls")]
            let inner = inner.chain(tls);
            traced(config, inner, progress, resolver)
        }
    }
}

/// The agent over the connector chain `inner`, its connections traced.
fn traced<C: Connector<()>>(
    config: &Config,
    inner: C,
    progress: &Arc<Progress>,
    resolver: ProbeResolver,
) -> Agent {
    let connector = ProbeConnector {
        inner,
        progress: progress.clone(),
        proxied: config.proxy.is_some(),
    };
    Agent::with_parts(ureq_config(config), connector, resolver)
}

/// Sends one request (the target's, or a redirect's on the same host).
/// Credentials: an explicit `-H 'Authorization: …'` wins, then `--user`,
/// then the target URL's `user:password@`.
fn send(
    agent: &Agent,
    config: &Config,
    request: &Request<'_>,
    deadline: Deadline,
) -> Result<Response<Body>, ureq::Error> {
    let left = deadline.left();
    if left.is_zero() {
        return Err(ureq::Error::Timeout(Timeout::Global));
    }
    let mut builder = match config.method {
        Method::Get => agent.get(&request.url),
        Method::Head => agent.head(&request.url),
    };
    if let Some(host) = &request.host_header
        && !config.headers.iter().any(|(n, _)| n == "host")
    {
        builder = builder.header("host", host);
    }
    for (name, value) in &config.headers {
        builder = builder.header(name, value);
    }
    if !config.headers.iter().any(|(n, _)| n == "authorization")
        && let Some(basic) = config
            .authorization
            .as_ref()
            .or(request.target.authorization.as_ref())
    {
        builder = builder.header("authorization", basic);
    }
    // The connect budget covers the whole connector chain: TCP, a proxy's
    // CONNECT and the TLS handshake (ureq measures it from the end of the
    // name lookup).
    builder
        .config()
        .timeout_global(Some(left))
        .timeout_connect(Some(deadline.connect_budget.min(left)))
        .build()
        .call()
}

/// Reads the body to its end or to `max` bytes, whichever comes first, within
/// the deadline that ureq carries over from the request.
fn read_body(body: &mut Body, max: u64) -> Result<Vec<u8>, ureq::Error> {
    let mut buf = Vec::new();
    body.as_reader()
        .take(max)
        .read_to_end(&mut buf)
        .map_err(ureq::Error::from)?;
    Ok(buf)
}
