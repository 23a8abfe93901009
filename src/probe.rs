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
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use ureq::http::{Response, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};
use ureq::{Agent, Body, Timeout};

use crate::config::{Config, MAX_REDIRECTS, Method, ResolveEntry, Target, Verbosity};

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
    /// The request method.
    pub method: Method,
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
}

impl Check {
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

/// Checks every target of `config` concurrently (one thread each when there
/// are several), all within the one `config.timeout` from now.
pub fn run(config: &Config) -> Verdict {
    let deadline = Instant::now() + config.timeout;
    let checks = if let [target] = config.targets.as_slice() {
        vec![check(target, config, deadline)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = config
                .targets
                .iter()
                .map(|t| scope.spawn(move || check(t, config, deadline)))
                .collect();
            handles
                .into_iter()
                .zip(&config.targets)
                .map(|(h, t)| {
                    h.join().unwrap_or_else(|_| Check {
                        target: t.url.clone(),
                        method: config.method,
                        status: None,
                        reason: None,
                        elapsed: config.timeout,
                        failure: Some(Failure::Error("internal error in the check".into())),
                        body_excerpt: None,
                    })
                })
                .collect()
        })
    };
    Verdict { checks }
}

/// The phase a check is in, for reports of where a deadline ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    Resolve = 0,
    Connect = 1,
    Headers = 2,
    Body = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Resolve,
            1 => Phase::Connect,
            2 => Phase::Headers,
            _ => Phase::Body,
        }
    }

    fn doing(self) -> &'static str {
        match self {
            Phase::Resolve => "resolving the host",
            Phase::Connect => "connecting",
            Phase::Headers => "waiting for response headers",
            Phase::Body => "reading the body",
        }
    }
}

/// Shared between the check, its resolver and its connector: the phase, and
/// the verbose trace on stderr.
#[derive(Debug)]
struct Progress {
    start: Instant,
    phase: AtomicU8,
    verbose: bool,
}

impl Progress {
    fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Relaxed))
    }

    fn trace(&self, args: fmt::Arguments) {
        if self.verbose {
            eprintln!("* {:>8} {args}", format_elapsed(self.start.elapsed()));
        }
    }
}

/// Resolver: IP literals without a lookup thread, names through ureq's
/// [`DefaultResolver`] (getaddrinfo within the deadline). Every address
/// returned is tried in turn by ureq's TCP connector.
#[derive(Debug)]
struct ProbeResolver {
    progress: Arc<Progress>,
    fixed: Vec<ResolveEntry>,
}

impl Resolver for ProbeResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.progress.set(Phase::Resolve);
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let host = uri
            .host()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let fixed = self.fixed.iter().find(|e| e.host == host && e.port == port);
        let addrs = match (fixed, host.parse::<IpAddr>()) {
            (Some(entry), _) => {
                let mut addrs = self.empty();
                for ip in entry.addrs.iter().take(16) {
                    addrs.push(SocketAddr::new(*ip, port));
                }
                addrs
            }
            (None, Ok(ip)) => {
                let mut addrs = self.empty();
                addrs.push(SocketAddr::new(ip, port));
                addrs
            }
            (None, Err(_)) => DefaultResolver::default().resolve(uri, config, timeout)?,
        };
        self.progress.trace(format_args!(
            "resolved {} to {:?}",
            uri.host().unwrap_or(""),
            &addrs[..]
        ));
        self.progress.set(Phase::Connect);
        Ok(addrs)
    }
}

/// Connector: ureq's default chain (TCP, HTTP proxy, rustls), with the phase
/// recorded and, when verbose, the request head traced.
#[derive(Debug)]
struct ProbeConnector {
    inner: DefaultConnector,
    progress: Arc<Progress>,
}

impl Connector<()> for ProbeConnector {
    type Out = TracedTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.progress.set(Phase::Connect);
        let transport = self.inner.connect(details, chained)?;
        self.progress.set(Phase::Headers);
        self.progress.trace(format_args!(
            "connected to {}{}",
            details.uri.authority().map_or("", |a| a.as_str()),
            if transport.as_ref().is_some_and(|t| t.is_tls()) {
                " (TLS)"
            } else {
                ""
            }
        ));
        Ok(transport.map(|inner| TracedTransport {
            inner,
            progress: self.progress.clone(),
        }))
    }
}

/// A transport that traces the request head it sends (verbose only).
#[derive(Debug)]
struct TracedTransport {
    inner: Box<dyn Transport>,
    progress: Arc<Progress>,
}

impl Transport for TracedTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.progress.verbose {
            let sent = &self.inner.buffers().output()[..amount];
            let head = String::from_utf8_lossy(sent);
            for line in head.split("\r\n").take_while(|l| !l.is_empty()) {
                eprintln!("> {line}");
            }
        }
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

fn agent(config: &Config, progress: &Arc<Progress>) -> Agent {
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
        .max_idle_connections(0)
        .build();
    Agent::with_parts(
        ureq_config,
        ProbeConnector {
            inner: DefaultConnector::new(),
            progress: progress.clone(),
        },
        ProbeResolver {
            progress: progress.clone(),
            fixed: config.resolve.clone(),
        },
    )
}

/// Checks one target before `deadline`, following same-host redirects when
/// asked. Never panics on anything the server sends; every failure becomes
/// a [`Failure`].
pub fn check(target: &Target, config: &Config, deadline: Instant) -> Check {
    let start = Instant::now();
    let progress = Arc::new(Progress {
        start,
        phase: AtomicU8::new(Phase::Resolve as u8),
        verbose: config.verbosity == Verbosity::Verbose,
    });
    let agent = agent(config, &progress);
    let mut check = Check {
        target: target.url.clone(),
        method: config.method,
        status: None,
        reason: None,
        elapsed: Duration::ZERO,
        failure: None,
        body_excerpt: None,
    };
    let mut url = target.url.clone();
    let mut redirects = 0;
    let outcome = loop {
        progress.trace(format_args!("{} {url}", config.method.as_str()));
        let response = match send(&agent, config, &url, deadline) {
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

fn send(
    agent: &Agent,
    config: &Config,
    url: &str,
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

/// One line saying what went wrong, in the phase it went wrong in.
fn describe(error: &ureq::Error, phase: Phase, config: &Config) -> String {
    use std::io::ErrorKind;
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
