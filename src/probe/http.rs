//! The HTTP(S) check: one request through ureq (following same-host
//! redirects when asked), the body read up to `--max-body`, the response
//! judged. The semantics are the Kubernetes httpGet probe's: one total
//! deadline for the whole attempt, statuses judged here (never turned into
//! errors by ureq), and proxies from the environment never used.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use ureq::http::{Response, Uri};
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
use ureq::{Agent, Body, Timeout};

#[cfg(feature = "tls")]
use super::tls::TlsConnector;
use super::transport::{Phase, ProbeConnector, ProbeResolver, Progress, UnixConnector};
use super::{Attempt, Check, Event, Failure, Trace, judge, reason, redirect};
use crate::config::{Config, MAX_REDIRECTS, Method, Target, bare_host};

/// Size of the buffer responses are read into, in bytes.
const INPUT_BUFFER_BYTES: usize = 16 * 1024;

/// Largest response head (status line and headers) accepted, in bytes; a
/// larger one is unhealthy ("response head too large").
const MAX_RESPONSE_HEAD_BYTES: usize = INPUT_BUFFER_BYTES - 1024;

/// Checks one `http://` or `https://` target within `attempt`.
pub(super) fn check(
    target: &Target,
    config: &Config,
    attempt: Attempt,
    trace: &Arc<dyn Trace>,
) -> Check {
    let start = Instant::now();
    let progress = Arc::new(Progress::new(trace.clone()));
    // --servername: request https://NAME/… (SNI and verification use NAME),
    // connect to the URL's own host, and keep its Host header.
    let (mut url, rename, host_header) = match &config.tls.servername {
        Some(name) if target.is_https() => match with_host(&target.url, name) {
            Some((url, host, authority)) => (url, Some((name.clone(), host)), Some(authority)),
            None => (target.url.clone(), None, None),
        },
        _ => (target.url.clone(), None, None),
    };
    let agent = agent(config, &progress, &rename);
    let mut check = Check::new(target, config.method.as_str());
    let mut redirects = 0;
    let outcome = loop {
        progress.event(Event::Request {
            method: config.method.as_str(),
            url: &url,
        });
        let response = match send(
            &agent,
            config,
            target,
            &url,
            host_header.as_deref(),
            attempt,
        ) {
            Ok(response) => response,
            Err(e) => break Err(reason::describe(&e, progress.phase(), config, attempt)),
        };
        let status = response.status();
        if config.follow_redirects
            && status.is_redirection()
            && let Some(next) = redirect::same_host(response.headers(), &url)
        {
            if redirects < MAX_REDIRECTS {
                progress.event(Event::Redirect {
                    status: status.as_u16(),
                    to: &next,
                });
                redirects += 1;
                url = next;
                continue;
            }
            check.status = Some(status.as_u16());
            check.reason = status.canonical_reason();
            break Err(format!("stopped after {MAX_REDIRECTS} redirects"));
        }
        break Ok(response);
    };
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => {
            check.elapsed = start.elapsed();
            check.failure = Some(Failure::Error(error));
            return check;
        }
    };
    let status = response.status();
    check.status = Some(status.as_u16());
    check.reason = status.canonical_reason();
    progress.event(Event::ResponseHead {
        version: response.version(),
        status,
        headers: response.headers(),
    });
    progress.set(Phase::Body);

    let body = if config.method == Method::Head {
        Ok(Vec::new())
    } else {
        read_body(response.body_mut(), config.max_body)
    };
    check.elapsed = start.elapsed();
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            check.failure = Some(Failure::Error(reason::describe(
                &e,
                Phase::Body,
                config,
                attempt,
            )));
            return check;
        }
    };
    progress.event(Event::BodyRead(body.len()));
    drop(response);
    check.body_excerpt = judge::excerpt(&body);
    check.failure = judge::judge(status.as_u16(), &body, &config.expect);
    check
}

/// The ureq agent of one check. `rename` maps the `--servername` host of
/// the request URL back to the host to connect to.
fn agent(config: &Config, progress: &Arc<Progress>, rename: &Option<(String, String)>) -> Agent {
    let ureq_config = Agent::config_builder()
        // Status codes are judged here, not turned into errors.
        .http_status_as_error(false)
        // Redirects are followed here, only to the same host.
        .max_redirects(0)
        .max_redirects_will_error(false)
        // Never the proxy from the environment.
        .proxy(config.proxy.clone())
        .user_agent(config.user_agent.as_str())
        .timeout_connect(Some(config.connect_timeout))
        // The whole probe needs a few KiB, not ureq's 128 KiB default
        // buffers. The response head must stay below the input buffer, or
        // a head that fills it reads as a closed connection.
        .input_buffer_size(INPUT_BUFFER_BYTES)
        .max_response_header_size(MAX_RESPONSE_HEAD_BYTES)
        .output_buffer_size(4 * 1024)
        .max_idle_connections(0);
    let ureq_config = ureq_config.build();
    let resolver = ProbeResolver {
        progress: progress.clone(),
        fixed: config.resolve.clone(),
        skip: config.unix_socket.is_some(),
        rename: rename.clone(),
    };
    let progress = progress.clone();
    // The chain: a Unix socket, or an HTTP proxy's CONNECT tunnel or TCP
    // (every resolved address in turn); then TLS for https://.
    #[cfg(feature = "tls")]
    let tls = TlsConnector {
        config: config.tls.client.clone(),
    };
    match &config.unix_socket {
        Some(path) => {
            let inner = ().chain(UnixConnector { path: path.clone() });
            #[cfg(feature = "tls")]
            let inner = inner.chain(tls);
            Agent::with_parts(ureq_config, ProbeConnector { inner, progress }, resolver)
        }
        None => {
            let inner = ().chain(ConnectProxyConnector::default()).chain(TcpConnector::default());
            #[cfg(feature = "tls")]
            let inner = inner.chain(tls);
            Agent::with_parts(ureq_config, ProbeConnector { inner, progress }, resolver)
        }
    }
}

/// Replaces the host of an absolute URL with `name`; returns the new URL,
/// the old host (without brackets) and the old authority (for the Host
/// header).
fn with_host(url: &str, name: &str) -> Option<(String, String, String)> {
    let uri: Uri = url.parse().ok()?;
    let authority = uri.authority()?.as_str().to_string();
    let host = bare_host(uri.host()?).to_string();
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let scheme = uri.scheme_str()?;
    Some((format!("{scheme}://{name}{port}{path}"), host, authority))
}

/// Sends one request to `url` (the target's, or a redirect's on the same
/// host). Credentials: an explicit `-H 'Authorization: …'` wins, then
/// `--user`, then the target URL's `user:password@`.
fn send(
    agent: &Agent,
    config: &Config,
    target: &Target,
    url: &str,
    host_header: Option<&str>,
    attempt: Attempt,
) -> Result<Response<Body>, ureq::Error> {
    let remaining = attempt.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(ureq::Error::Timeout(Timeout::Global));
    }
    let connect = config.connect_timeout.min(remaining);
    let mut request = match config.method {
        Method::Get => agent.get(url),
        Method::Head => agent.head(url),
    };
    if let Some(host) = host_header
        && !config.headers.iter().any(|(n, _)| n == "host")
    {
        request = request.header("host", host);
    }
    for (name, value) in &config.headers {
        request = request.header(name, value);
    }
    if !config.headers.iter().any(|(n, _)| n == "authorization")
        && let Some(basic) = config
            .authorization
            .as_ref()
            .or(target.authorization.as_ref())
    {
        request = request.header("authorization", basic);
    }
    request
        .config()
        .timeout_global(Some(remaining))
        .timeout_connect(Some(connect))
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
