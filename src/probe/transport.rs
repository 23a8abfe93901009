//! The network edge of an HTTP check, built on ureq's extension points
//! (its `Resolver`, `Connector` and `Transport` traits, from
//! `ureq::unversioned`, which do not follow semver: Cargo.toml pins ureq's
//! minor version). Resolving and connecting are `connect.rs`'s, as for
//! every kind of check; here they are plugged into ureq, with the phase
//! recorded, the request head emitted as a trace event, and a Unix domain
//! socket for `--unix-socket`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ureq::Timeout;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
};

use super::connect;
use super::deadline::Deadline;
use super::trace::{Event, Phase, Progress};
use crate::config::{IpFamily, ResolveEntry, bare_host};

/// Resolver: `connect::resolve` for the URL's host (or the proxy's).
#[derive(Debug)]
pub(crate) struct ProbeResolver {
    pub(crate) progress: Arc<Progress>,
    pub(crate) fixed: Vec<ResolveEntry>,
    /// `-4`/`-6`: only addresses of this family.
    pub(crate) family: Option<IpFamily>,
    pub(crate) deadline: Deadline,
    /// With `--unix-socket` nothing is resolved: the URL's host only names
    /// the Host header.
    pub(crate) skip: bool,
    /// `--servername`: (the name in the request URL, the host to resolve
    /// and connect to instead).
    pub(crate) rename: Option<(String, String)>,
}

impl Resolver for ProbeResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut addrs = self.empty();
        if self.skip {
            addrs.push(SocketAddr::from(([0, 0, 0, 0], 0)));
            self.progress.set(Phase::Connect);
            return Ok(addrs);
        }
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let mut host = bare_host(uri.host().unwrap_or(""));
        if let Some((name, real)) = &self.rename
            && name.eq_ignore_ascii_case(host)
        {
            host = real;
        }
        let found = connect::resolve(
            host,
            port,
            &self.fixed,
            self.family,
            self.deadline.end,
            &self.progress,
        )?;
        for addr in found {
            addrs.push(addr);
        }
        Ok(addrs)
    }
}

/// Connector: an inner chain (the HTTP proxy's CONNECT tunnel, then
/// [`TcpConnector`], then rustls; or the Unix socket and rustls), with the
/// phase recorded and, when traced, the connection and the request head
/// emitted. ureq runs the whole chain again for the connection to a
/// proxy (with a config that has no proxy): that connection is followed
/// by the proxy's CONNECT exchange.
#[derive(Debug)]
pub(crate) struct ProbeConnector<C> {
    pub(crate) inner: C,
    pub(crate) progress: Arc<Progress>,
    /// Whether requests go through `--proxy`.
    pub(crate) proxied: bool,
}

impl<C: Connector<()>> Connector<()> for ProbeConnector<C> {
    type Out = TracedTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let to_proxy = self.proxied && details.config.proxy().is_none();
        self.progress.set(Phase::Connect);
        let transport = self.inner.connect(details, chained)?;
        self.progress.set(if to_proxy {
            Phase::Proxy
        } else {
            Phase::Headers
        });
        if self.progress.tracing() {
            let host = details.uri.host().unwrap_or("");
            let port = details
                .uri
                .port_u16()
                .unwrap_or(match details.uri.scheme_str() {
                    Some("https") => 443,
                    _ => 80,
                });
            self.progress.event(Event::Connected {
                to: &format!("{host}:{port}"),
                tls: transport.as_ref().is_some_and(|t| t.is_tls()),
                proxy: to_proxy,
            });
        }
        Ok(transport.map(|inner| TracedTransport {
            inner: Box::new(inner),
            progress: self.progress.clone(),
            head: Some(Vec::new()),
        }))
    }
}

/// Connector for TCP: `connect::tcp` over the resolved addresses, within
/// the connect budget of the attempt's [`Deadline`]. A connection already
/// made by the chain before it (a proxy tunnel) is passed on.
#[derive(Debug)]
pub(crate) struct TcpConnector {
    pub(crate) progress: Arc<Progress>,
    pub(crate) deadline: Deadline,
}

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, StreamTransport<TcpStream>>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(chained) = chained {
            return Ok(Some(Either::A(chained)));
        }
        let stream = connect::tcp(&details.addrs, self.deadline.connect_by(), &self.progress)?;
        Ok(Some(Either::B(StreamTransport::new(stream, details))))
    }
}

#[cfg(unix)]
/// Connector for `--unix-socket PATH`: every connection goes to the socket
/// at `path`, whatever the URL's host (curl's option of the same name). TLS,
/// for `https://` targets, is chained after it.
#[derive(Debug)]
pub(crate) struct UnixConnector {
    pub(crate) path: PathBuf,
}

#[cfg(unix)]
impl Connector<()> for UnixConnector {
    type Out = StreamTransport<UnixStream>;

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
        Ok(Some(StreamTransport::new(stream, details)))
    }
}

/// A transport that emits the request head it sends (when traced), whole:
/// what is written in pieces (a proxy's CONNECT request) is held until the
/// blank line that ends the head.
#[derive(Debug)]
pub(crate) struct TracedTransport {
    inner: Box<dyn Transport>,
    progress: Arc<Progress>,
    /// The head sent so far; `None` once it has been emitted.
    head: Option<Vec<u8>>,
}

/// Most bytes of a request head held for the trace, in bytes (the config
/// layer refuses a larger request head).
const MAX_TRACED_HEAD: usize = 80 * 1024;

impl Transport for TracedTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.progress.tracing()
            && let Some(head) = &mut self.head
        {
            head.extend_from_slice(&self.inner.buffers().output()[..amount]);
            let end = head.windows(4).position(|w| w == b"\r\n\r\n");
            if end.is_some() || head.len() > MAX_TRACED_HEAD {
                let end = end.map_or(head.len(), |i| i + 4);
                self.progress.event(Event::RequestHead(&head[..end]));
                self.head = None;
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

/// A stream socket with read and write timeouts (TCP, Unix).
pub(crate) trait Socket: Read + Write + std::fmt::Debug + Send + Sync + 'static {
    /// `set_read_timeout` of the socket.
    fn read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// `set_write_timeout` of the socket.
    fn write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Socket for TcpStream {
    fn read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)
    }
    fn write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_write_timeout(timeout)
    }
}

#[cfg(unix)]
impl Socket for UnixStream {
    fn read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)
    }
    fn write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_write_timeout(timeout)
    }
}

/// HTTP/1.1 over a stream socket, with ureq's deadlines applied as socket
/// read and write timeouts.
#[derive(Debug)]
pub(crate) struct StreamTransport<S> {
    stream: S,
    buffers: LazyBuffers,
}

impl<S: Socket> StreamTransport<S> {
    fn new(stream: S, details: &ConnectionDetails) -> Self {
        let config = details.config;
        StreamTransport {
            stream,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
        }
    }
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

impl<S: Socket> Transport for StreamTransport<S> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        self.stream.write_timeout(io_timeout(timeout)?)?;
        let output = &self.buffers.output()[..amount];
        self.stream
            .write_all(output)
            .map_err(|e| io_error(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.stream.read_timeout(io_timeout(timeout)?)?;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match self.stream.read(input) {
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
