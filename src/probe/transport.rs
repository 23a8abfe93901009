//! The network edge of an HTTP check, built on ureq's extension points
//! (its `Resolver` and `Connector` traits, from `ureq::unversioned`, which
//! do not follow semver: Cargo.toml pins ureq's minor version): name
//! resolution that honours `--resolve` and skips the lookup thread for IP
//! literals, a connector that records the phase and emits the request head
//! as a trace event, and a Unix-domain-socket transport for
//! `--unix-socket`.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use ureq::Timeout;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

use super::{Event, Trace};
use crate::config::{ResolveEntry, bare_host, url_host};

/// The phase a check is in, for reports of where a deadline ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Looking the host up (or taking it from `--resolve`).
    Resolve = 0,
    /// TCP connect and TLS handshake.
    Connect = 1,
    /// Request sent, waiting for the status line and headers.
    Headers = 2,
    /// Reading the body, up to `--max-body` bytes.
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

    /// The phase as the end of a reason says it: "timed out after 1s
    /// *waiting for response headers*".
    pub(crate) fn doing(self) -> &'static str {
        match self {
            Phase::Resolve => "resolving the host",
            Phase::Connect => "connecting",
            Phase::Headers => "waiting for response headers",
            Phase::Body => "reading the body",
        }
    }
}

/// Shared between the check, its resolver and its connector: the phase, and
/// the trace sink the events go to.
#[derive(Debug)]
pub(crate) struct Progress {
    start: Instant,
    phase: AtomicU8,
    trace: Arc<dyn Trace>,
}

impl Progress {
    /// A check starting now, in the resolve phase.
    pub(crate) fn new(trace: Arc<dyn Trace>) -> Progress {
        Progress {
            start: Instant::now(),
            phase: AtomicU8::new(Phase::Resolve as u8),
            trace,
        }
    }

    pub(crate) fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Relaxed))
    }

    /// Whether events are wanted (verbose): building some costs work.
    pub(crate) fn tracing(&self) -> bool {
        self.trace.enabled()
    }

    /// Emits `event`, stamped with the time since the check started.
    pub(crate) fn event(&self, event: Event<'_>) {
        if self.trace.enabled() {
            self.trace.event(self.start.elapsed(), event);
        }
    }
}

/// Resolver: IP literals without a lookup thread, names through ureq's
/// [`DefaultResolver`] (getaddrinfo within the deadline). Every address
/// returned is tried in turn by ureq's TCP connector.
#[derive(Debug)]
pub(crate) struct ProbeResolver {
    pub(crate) progress: Arc<Progress>,
    pub(crate) fixed: Vec<ResolveEntry>,
    /// With `--unix-socket` nothing is resolved: the URL's host only names
    /// the Host header.
    pub(crate) skip: bool,
    /// `--servername`: (the name in the request URL, the host to resolve
    /// and connect to instead).
    pub(crate) rename: Option<(String, String)>,
}

impl ProbeResolver {
    /// The resolver of a check that connects by itself (`tcp://`,
    /// gRPC): `--resolve`, IP literals, then a lookup.
    pub(crate) fn direct(progress: Arc<Progress>, fixed: &[ResolveEntry]) -> ProbeResolver {
        ProbeResolver {
            progress,
            fixed: fixed.to_vec(),
            skip: false,
            rename: None,
        }
    }
}

impl Resolver for ProbeResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.progress.set(Phase::Resolve);
        if self.skip {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::from(([0, 0, 0, 0], 0)));
            self.progress.set(Phase::Connect);
            return Ok(addrs);
        }
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let mut host = bare_host(uri.host().unwrap_or("")).to_ascii_lowercase();
        let renamed;
        let mut uri = uri;
        if let Some((name, real)) = &self.rename
            && *name == host
        {
            host = real.to_ascii_lowercase();
            renamed = format!("http://{}:{port}/", url_host(&host))
                .parse::<Uri>()
                .map_err(|_| ureq::Error::HostNotFound)?;
            uri = &renamed;
        }
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
        self.progress.event(Event::Resolved {
            host: uri.host().unwrap_or(""),
            addrs: &addrs[..],
        });
        self.progress.set(Phase::Connect);
        Ok(addrs)
    }
}

/// Connector: an inner chain (ureq's default TCP, HTTP proxy and rustls, or
/// the Unix socket and rustls), with the phase recorded and, when traced,
/// the request head emitted.
#[derive(Debug)]
pub(crate) struct ProbeConnector<C> {
    pub(crate) inner: C,
    pub(crate) progress: Arc<Progress>,
}

impl<C: Connector<()>> Connector<()> for ProbeConnector<C> {
    type Out = TracedTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.progress.set(Phase::Connect);
        let transport = self.inner.connect(details, chained)?;
        self.progress.set(Phase::Headers);
        self.progress.event(Event::Connected {
            to: details.uri.authority().map_or("", |a| a.as_str()),
            tls: transport.as_ref().is_some_and(|t| t.is_tls()),
        });
        Ok(transport.map(|inner| TracedTransport {
            inner: Box::new(inner),
            progress: self.progress.clone(),
        }))
    }
}

/// A transport that emits the request head it sends (when traced).
#[derive(Debug)]
pub(crate) struct TracedTransport {
    inner: Box<dyn Transport>,
    progress: Arc<Progress>,
}

impl Transport for TracedTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.progress.tracing() {
            let sent = &self.inner.buffers().output()[..amount];
            self.progress.event(Event::RequestHead(sent));
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

/// Connector for `--unix-socket PATH`: every connection goes to the socket
/// at `path`, whatever the URL's host (curl's option of the same name). TLS,
/// for `https://` targets, is chained after it.
#[derive(Debug)]
pub(crate) struct UnixConnector {
    pub(crate) path: PathBuf,
}

impl Connector<()> for UnixConnector {
    type Out = UnixTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let stream = UnixStream::connect(&self.path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("unix socket {}: {e}", self.path.display()),
            )
        })?;
        let config = details.config;
        Ok(Some(UnixTransport {
            stream,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
        }))
    }
}

/// HTTP/1.1 over a Unix domain socket, with ureq's deadlines applied as
/// socket read and write timeouts.
#[derive(Debug)]
pub(crate) struct UnixTransport {
    stream: UnixStream,
    buffers: LazyBuffers,
}

/// The socket timeout for the next I/O, or ureq's timeout error when the
/// deadline has already passed.
fn io_timeout(timeout: NextTimeout) -> Result<Option<Duration>, ureq::Error> {
    if timeout.after.is_zero() {
        return Err(ureq::Error::Timeout(timeout.reason));
    }
    Ok(timeout.not_zero().map(|d| *d))
}

fn io_error(e: io::Error, reason: Timeout) -> ureq::Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ureq::Error::Timeout(reason),
        _ => ureq::Error::Io(e),
    }
}

impl Transport for UnixTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        self.stream.set_write_timeout(io_timeout(timeout)?)?;
        let output = &self.buffers.output()[..amount];
        (&self.stream)
            .write_all(output)
            .map_err(|e| io_error(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.stream.set_read_timeout(io_timeout(timeout)?)?;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&self.stream).read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| io_error(e, timeout.reason))?,
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        // Connections are never pooled: one request per connection.
        false
    }
}
