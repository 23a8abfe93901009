//! One check of one target, and the [`Verdict`] over all targets.
//!
//! The semantics are the Kubernetes httpGet probe's: a status in the expected
//! set (default 200 ≤ status < 400) is healthy, one total deadline covers
//! the whole attempt, redirects are followed only to the same host, and
//! proxies from the environment are never used. HTTP itself is ureq's; this
//! module adds a resolver and a connector through ureq's extension points so
//! that the report can name the phase a deadline ran out in.

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::time::{Duration, Instant};

use ureq::http::{Response, Uri};
use ureq::unversioned::transport::{Connector, DefaultConnector};
use ureq::{Agent, Body, Timeout};

use crate::config::{Config, MAX_REDIRECTS, Method, Target, TargetKind, Verbosity};
use crate::net::{
    Phase, ProbeConnector, ProbeResolver, Progress, UnixConnector, bare_host, tcp_connect,
};

/// Size of the buffer responses are read into, in bytes.
const INPUT_BUFFER_BYTES: usize = 16 * 1024;

/// Largest response head (status line and headers) accepted, in bytes; a
/// larger one is unhealthy ("response head too large").
pub const MAX_RESPONSE_HEAD_BYTES: usize = INPUT_BUFFER_BYTES - 1024;

/// Longest body excerpt in a report, in characters.
pub const EXCERPT_CHARS: usize = 120;

/// The outcome of one check of one target.
#[derive(Debug, Clone)]
pub struct Check {
    /// The URL as given (after bare-path expansion).
    pub target: String,
    /// The request method (`GET`, `HEAD`), or `TCP` for a `tcp://` target.
    pub method: &'static str,
    /// The final response's status code, when one arrived.
    pub status: Option<u16>,
    /// The standard reason phrase of `status`, when it has one.
    pub reason: Option<&'static str>,
    /// Time from the start of the check to its verdict.
    pub elapsed: Duration,
    /// Why the check is unhealthy; `None` when healthy.
    pub failure: Option<Failure>,
    /// The start of the body read, printable, at most [`EXCERPT_CHARS`].
    pub body_excerpt: Option<String>,
    /// Attempts made for this target (`--wait` makes more than one).
    pub attempts: u32,
}

impl Check {
    fn new(target: &Target, method: &'static str) -> Check {
        Check {
            target: target.url.clone(),
            method,
            status: None,
            reason: None,
            elapsed: Duration::ZERO,
            failure: None,
            body_excerpt: None,
            attempts: 1,
        }
    }

    /// Healthy when nothing failed.
    pub fn healthy(&self) -> bool {
        self.failure.is_none()
    }
}

/// Why a check is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A response arrived but its status is not in the expected set.
    Status {
        /// The expected set, e.g. `200-399`.
        expected: String,
    },
    /// A response with a good status failed a body or JSON expectation.
    Expectation(String),
    /// No judgeable response: refused, reset, timed out, malformed, …
    Error(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status { expected } => write!(f, "status not in {expected}"),
            Failure::Expectation(text) | Failure::Error(text) => f.write_str(text),
        }
    }
}

/// The result of a probe run: every target's check. Healthy only when every
/// check is.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// One check per target, in target order.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Healthy only when all checks are.
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(Check::healthy)
    }
}

/// Runs the probe: one attempt at every target within `config.timeout`,
/// or, with `--wait`, attempts every `--interval` until every target has
/// been healthy once or the wait is over (each attempt's deadline cut short
/// so that none outlives the wait). The verdict holds each target's last
/// check.
pub fn run(config: &Config) -> Verdict {
    let start = Instant::now();
    let Some(wait) = config.wait else {
        return Verdict {
            checks: check_all(config, &config.targets, start + config.timeout),
        };
    };
    let end = start + wait;
    let mut last: Vec<Option<Check>> = vec![None; config.targets.len()];
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let pending: Vec<usize> = (0..last.len())
            .filter(|&i| !last[i].as_ref().is_some_and(Check::healthy))
            .collect();
        let targets: Vec<Target> = pending.iter().map(|&i| config.targets[i].clone()).collect();
        let deadline = (Instant::now() + config.timeout).min(end);
        for (i, mut check) in pending
            .into_iter()
            .zip(check_all(config, &targets, deadline))
        {
            check.attempts = last[i].as_ref().map_or(1, |c| c.attempts + 1);
            if !check.healthy() && config.verbosity == Verbosity::Verbose {
                eprintln!(
                    "attempt {attempt}: {}",
                    crate::report::text_line(&check, config)
                );
            }
            last[i] = Some(check);
        }
        let checks: Vec<Check> = last.iter().flatten().cloned().collect();
        let verdict = Verdict { checks };
        let now = Instant::now();
        if verdict.healthy() || now + config.interval >= end {
            return verdict;
        }
        std::thread::sleep(config.interval);
    }
}

/// Checks `targets` concurrently (one thread each when there are several),
/// all before `deadline`.
fn check_all(config: &Config, targets: &[Target], deadline: Instant) -> Vec<Check> {
    if let [target] = targets {
        return vec![check(target, config, deadline)];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| scope.spawn(move || check(t, config, deadline)))
            .collect();
        handles
            .into_iter()
            .zip(targets)
            .map(|(h, t)| {
                h.join().unwrap_or_else(|_| {
                    let mut check = Check::new(t, config.method.as_str());
                    check.failure = Some(Failure::Error("internal error in the check".into()));
                    check
                })
            })
            .collect()
    })
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
    #[cfg(feature = "tls")]
    let ureq_config = ureq_config.tls_config(config.tls.ureq.clone());
    let ureq_config = ureq_config.build();
    let resolver = ProbeResolver {
        progress: progress.clone(),
        fixed: config.resolve.clone(),
        skip: config.unix_socket.is_some(),
        rename: rename.clone(),
    };
    let progress = progress.clone();
    match &config.unix_socket {
        Some(path) => {
            let unix = ().chain(UnixConnector { path: path.clone() });
            #[cfg(feature = "tls")]
            let unix = unix.chain(ureq::unversioned::transport::RustlsConnector::default());
            let inner = unix;
            Agent::with_parts(ureq_config, ProbeConnector { inner, progress }, resolver)
        }
        None => {
            let inner = DefaultConnector::new();
            Agent::with_parts(ureq_config, ProbeConnector { inner, progress }, resolver)
        }
    }
}

/// Checks one target before `deadline`: an HTTP request (following
/// same-host redirects when asked) or, for `tcp://`, a TCP connect. Never
/// panics on anything the server sends; every failure becomes a
/// [`Failure`].
pub fn check(target: &Target, config: &Config, deadline: Instant) -> Check {
    let start = Instant::now();
    let progress = Arc::new(Progress {
        start,
        phase: AtomicU8::new(Phase::Resolve as u8),
        verbose: config.verbosity == Verbosity::Verbose,
    });
    if let TargetKind::Tcp { host, port } = &target.kind {
        let resolver = ProbeResolver {
            progress: progress.clone(),
            fixed: config.resolve.clone(),
            skip: false,
            rename: None,
        };
        let mut check = Check::new(target, "TCP");
        if let Err(error) = tcp_connect(&resolver, host, *port, deadline) {
            check.failure = Some(Failure::Error(error));
        }
        check.elapsed = start.elapsed();
        return check;
    }
    // --servername: request https://NAME/… (SNI and verification use NAME),
    // connect to the URL's own host, and keep its Host header.
    let (mut url, rename, host_header) = match &config.tls.servername {
        Some(name) if target.url.starts_with("https://") => match with_host(&target.url, name) {
            Some((url, host, authority)) => (url, Some((name.clone(), host)), Some(authority)),
            None => (target.url.clone(), None, None),
        },
        _ => (target.url.clone(), None, None),
    };
    let agent = agent(config, &progress, &rename);
    let mut check = Check::new(target, config.method.as_str());
    let mut redirects = 0;
    let outcome = loop {
        progress.trace(format_args!("{} {url}", config.method.as_str()));
        let response = match send(&agent, config, &url, host_header.as_deref(), deadline) {
            Ok(response) => response,
            Err(e) => break Err(describe(&e, progress.phase(), config)),
        };
        let status = response.status();
        if config.follow_redirects && status.is_redirection() {
            match same_host_location(&response, &url) {
                Some(next) if redirects < MAX_REDIRECTS => {
                    progress.trace(format_args!("{} redirect to {next}", status.as_u16()));
                    redirects += 1;
                    url = next;
                    continue;
                }
                Some(_) => {
                    check.status = Some(status.as_u16());
                    check.reason = status.canonical_reason();
                    break Err(format!("stopped after {MAX_REDIRECTS} redirects"));
                }
                None => {}
            }
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
    if progress.verbose {
        eprintln!("< {:?} {status}", response.version());
        for (name, value) in response.headers() {
            eprintln!("< {name}: {}", String::from_utf8_lossy(value.as_bytes()));
        }
    }
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
            check.failure = Some(Failure::Error(describe(&e, Phase::Body, config)));
            return check;
        }
    };
    progress.trace(format_args!("read {} body bytes", body.len()));
    drop(response);
    check.body_excerpt = excerpt(&body);
    check.failure = judge(status.as_u16(), &body, config);
    check
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

fn send(
    agent: &Agent,
    config: &Config,
    url: &str,
    host_header: Option<&str>,
    deadline: Instant,
) -> Result<Response<Body>, ureq::Error> {
    let remaining = deadline.saturating_duration_since(Instant::now());
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

/// The next URL of a redirect when it stays on the same host (ports ignored,
/// the Kubernetes rule); `None` when there is no usable `Location` or it
/// points elsewhere.
fn same_host_location(response: &Response<Body>, current: &str) -> Option<String> {
    let location = response.headers().get("location")?.to_str().ok()?.trim();
    let next = join_url(current, location)?;
    let host = |u: &str| {
        u.parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_ascii_lowercase))
    };
    let same = host(current)? == host(&next)?;
    let scheme_ok = next.starts_with("http://") || next.starts_with("https://");
    (same && scheme_ok).then_some(next)
}

/// Resolves a `Location` value against the current absolute URL (RFC 3986
/// reference resolution for the forms servers send: absolute, `//authority`,
/// `/path` and relative paths).
fn join_url(base: &str, location: &str) -> Option<String> {
    let lower = location.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Some(location.to_string());
    }
    let scheme_end = base.find("://")?;
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{}//{rest}", &base[..scheme_end + 1]));
    }
    let path_start = base[scheme_end + 3..]
        .find('/')
        .map_or(base.len(), |i| i + scheme_end + 3);
    let origin = &base[..path_start];
    if location.starts_with('/') {
        return Some(format!("{origin}{location}"));
    }
    let path = base[path_start..].split(['?', '#']).next().unwrap_or("");
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    Some(format!("{origin}{dir}{location}"))
}

/// Judges a response against the expectations; `None` means healthy.
fn judge(status: u16, body: &[u8], config: &Config) -> Option<Failure> {
    let expect = &config.expect;
    if !expect.status.contains(status) {
        return Some(Failure::Status {
            expected: expect.status.as_str().to_string(),
        });
    }
    if let Some(text) = &expect.body
        && !contains(body, text.as_bytes())
    {
        return Some(Failure::Expectation(format!(
            "body does not contain {text:?} (in {} bytes read)",
            body.len()
        )));
    }
    if expect.json.is_empty() {
        return None;
    }
    let doc: serde_json::Value = match serde_json::from_slice(body) {
        Ok(doc) => doc,
        Err(e) => {
            return Some(Failure::Expectation(format!(
                "body is not JSON ({e}; {} bytes read)",
                body.len()
            )));
        }
    };
    for want in &expect.json {
        let got = match doc.pointer(&want.pointer) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => {
                return Some(Failure::Expectation(format!(
                    "JSON has no {} (expected {:?})",
                    want.pointer, want.value
                )));
            }
        };
        if got != want.value {
            return Some(Failure::Expectation(format!(
                "JSON {} is {got:?}, expected {:?}",
                want.pointer, want.value
            )));
        }
    }
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A short, printable excerpt of the body: lossy UTF-8, whitespace runs
/// folded to one space, control characters escaped, at most
/// [`EXCERPT_CHARS`] characters with `…` when cut.
fn excerpt(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut chars = 0;
    let mut last_space = false;
    for c in text.chars() {
        if chars >= EXCERPT_CHARS {
            out.push('…');
            return Some(out);
        }
        if c.is_whitespace() {
            if !last_space && chars > 0 {
                out.push(' ');
                chars += 1;
            }
            last_space = true;
            continue;
        }
        last_space = false;
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        chars += 1;
    }
    let out = out.trim_end().to_string();
    if head.len() < body.len() {
        return Some(out + "…");
    }
    Some(out)
}

/// The rustls error inside a ureq error, directly or wrapped in an I/O error.
#[cfg(feature = "tls")]
fn rustls_error(error: &ureq::Error) -> Option<&rustls::Error> {
    match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// A one-line reason for a TLS failure, in the words curl and openssl use.
#[cfg(feature = "tls")]
fn tls_reason(error: &rustls::Error) -> String {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error as E};
    let certificate = |e: &Cert| match e {
        Cert::UnknownIssuer => "certificate verify failed: unknown issuer".to_string(),
        Cert::Expired | Cert::ExpiredContext { .. } => {
            "certificate verify failed: certificate has expired".to_string()
        }
        Cert::NotValidYet | Cert::NotValidYetContext { .. } => {
            "certificate verify failed: certificate is not yet valid".to_string()
        }
        Cert::NotValidForName => {
            "certificate verify failed: name mismatch (try --servername)".to_string()
        }
        Cert::NotValidForNameContext { expected, .. } => {
            let name = match expected {
                rustls::pki_types::ServerName::DnsName(name) => name.as_ref().to_string(),
                rustls::pki_types::ServerName::IpAddress(ip) => {
                    std::net::IpAddr::from(*ip).to_string()
                }
                other => format!("{other:?}"),
            };
            format!(
                "certificate verify failed: name mismatch, not valid for {name} (try --servername)"
            )
        }
        Cert::BadSignature => "certificate verify failed: bad signature".to_string(),
        other => format!("certificate verify failed: {other:?}"),
    };
    match error {
        E::InvalidCertificate(e) => certificate(e),
        E::AlertReceived(Alert::CertificateRequired) => {
            "TLS: the server requires a client certificate (give --cert and --key)".to_string()
        }
        E::AlertReceived(Alert::BadCertificate | Alert::UnknownCA | Alert::CertificateUnknown) => {
            format!("TLS: the server refused the client certificate ({error})")
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            format!("TLS handshake failed: not a TLS server? ({error})")
        }
        _ => format!("TLS handshake failed: {error}"),
    }
}

/// One line saying what went wrong, in the phase it went wrong in.
fn describe(error: &ureq::Error, phase: Phase, config: &Config) -> String {
    use std::io::ErrorKind;
    #[cfg(feature = "tls")]
    if let Some(e) = rustls_error(error) {
        return tls_reason(e);
    }
    match error {
        ureq::Error::Timeout(Timeout::Connect) => format!(
            "connect timed out after {}",
            humantime::format_duration(config.connect_timeout)
        ),
        ureq::Error::Timeout(_) => format!(
            "timed out after {} {}",
            humantime::format_duration(config.timeout),
            phase.doing()
        ),
        ureq::Error::HostNotFound => "could not resolve host".to_string(),
        ureq::Error::Io(e) => match e.kind() {
            ErrorKind::ConnectionRefused => "connection refused".to_string(),
            ErrorKind::ConnectionReset => format!("connection reset by peer {}", phase.doing()),
            ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                format!("connection closed {}", phase.doing())
            }
            ErrorKind::UnexpectedEof => format!("connection closed {}", phase.doing()),
            ErrorKind::NotFound => e.to_string(),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => format!(
                "timed out after {} {}",
                humantime::format_duration(config.timeout),
                phase.doing()
            ),
            _ if phase == Phase::Resolve => format!("could not resolve host: {e}"),
            _ => format!("{e} ({})", phase.doing()),
        },
        ureq::Error::Protocol(e) => format!("malformed response: {e}"),
        ureq::Error::LargeResponseHeader(got, max) => {
            format!("response head too large ({got} bytes, limit {max})")
        }
        other => format!("{other} ({})", phase.doing()),
    }
}

/// Formats an elapsed time for reports: `850µs`, `2.1ms`, `1.23s`.
pub fn format_elapsed(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1_000 {
        format!("{micros}µs")
    } else if micros < 1_000_000 {
        format!("{:.1}ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_current_url() {
        let base = "http://h:1/a/b?q=1";
        assert_eq!(join_url(base, "/x").unwrap(), "http://h:1/x");
        assert_eq!(join_url(base, "c").unwrap(), "http://h:1/a/c");
        assert_eq!(join_url(base, "//o:2/y").unwrap(), "http://o:2/y");
        assert_eq!(join_url(base, "https://h/z").unwrap(), "https://h/z");
        assert_eq!(join_url("http://h:1", "c").unwrap(), "http://h:1/c");
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt(b"").as_deref(), None);
        assert_eq!(
            excerpt(b"{\"status\":\n  \"loading\"}\n").as_deref(),
            Some("{\"status\": \"loading\"}")
        );
        assert_eq!(excerpt(b"a\x00b\x1bc").as_deref(), Some("a\\u{0}b\\u{1b}c"));
        let long = excerpt(&[b'x'; 1000]).unwrap();
        assert_eq!(long.chars().count(), EXCERPT_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn elapsed_times_pick_a_readable_unit() {
        assert_eq!(format_elapsed(Duration::from_micros(850)), "850µs");
        assert_eq!(format_elapsed(Duration::from_micros(2_149)), "2.1ms");
        assert_eq!(format_elapsed(Duration::from_millis(1_234)), "1.23s");
    }
}
