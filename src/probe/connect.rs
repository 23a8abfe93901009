//! Connecting, the same way for every kind of check: the host resolved
//! (`--resolve`, an IP literal, or a lookup within the deadline), then each
//! address tried in turn, each with an equal share of the connect time
//! left. HTTP reaches this through ureq's extension points
//! (`transport.rs`); `tcp://` and gRPC call it directly.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Instant;

use ureq::Timeout;

use super::trace::{Event, Phase, Progress};
use crate::config::{IpFamily, ResolveEntry};

/// Most addresses tried for one host.
const MAX_ADDRESSES: usize = 16;

/// The addresses of `host:port` (`host` without IPv6 brackets), in the
/// order to try them: a `--resolve` entry in `fixed`, an IP literal, or a
/// lookup (getaddrinfo on a thread of its own) that must answer by `by`;
/// only those of `family` when `-4` or `-6` is given.
///
/// # Errors
/// `HostNotFound` when the lookup fails or finds nothing;
/// `Timeout(Resolve)` when it does not answer by `by`; `Io(NotFound)`
/// naming the family when no address is of `family`.
pub(crate) fn resolve(
    host: &str,
    port: u16,
    fixed: &[ResolveEntry],
    family: Option<IpFamily>,
    by: Instant,
    progress: &Progress,
) -> Result<Vec<SocketAddr>, ureq::Error> {
    progress.set(Phase::Resolve);
    let host = host.to_ascii_lowercase();
    let fixed = fixed.iter().find(|e| e.host == host && e.port == port);
    let addrs: Vec<SocketAddr> = match (fixed, host.parse::<IpAddr>()) {
        (Some(entry), _) => entry
            .addrs
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect(),
        (None, Ok(ip)) => vec![SocketAddr::new(ip, port)],
        (None, Err(_)) => lookup(host.clone(), port, by)?,
    };
    let addrs: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| family.is_none_or(|f| f.has(a.ip())))
        .take(MAX_ADDRESSES)
        .collect();
    if let (Some(family), true) = (family, addrs.is_empty()) {
        return Err(ureq::Error::Io(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{host} has no {} address ({})",
                family.name(),
                family.flag()
            ),
        )));
    }
    progress.event(Event::Resolved {
        host: &host,
        addrs: &addrs,
    });
    progress.set(Phase::Connect);
    Ok(addrs)
}

/// The system resolver's addresses of `host:port`, by `by`.
fn lookup(host: String, port: u16, by: Instant) -> Result<Vec<SocketAddr>, ureq::Error> {
    let (tx, rx) = mpsc::sync_channel(1);
    // The thread is left behind when the deadline passes first; it ends
    // when getaddrinfo returns.
    std::thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let _ = tx.send((host.as_str(), port).to_socket_addrs());
        })
        .map_err(ureq::Error::Io)?;
    match rx.recv_timeout(by.saturating_duration_since(Instant::now())) {
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                return Err(ureq::Error::HostNotFound);
            }
            Ok(addrs)
        }
        Ok(Err(_)) => Err(ureq::Error::HostNotFound),
        Err(_) => Err(ureq::Error::Timeout(Timeout::Resolve)),
    }
}

/// A TCP connection to one of `addrs`, made by `by`: each address in turn
/// with an equal share of the time left. Each failed address is a
/// `ConnectFailed` event.
///
/// # Errors
/// The last address's error: `Io` (refused, unreachable, …) or
/// `Timeout(Connect)` when the time ran out.
pub(crate) fn tcp(
    addrs: &[SocketAddr],
    by: Instant,
    progress: &Progress,
) -> Result<TcpStream, ureq::Error> {
    progress.set(Phase::Connect);
    let mut last = ureq::Error::Io(io::Error::new(
        io::ErrorKind::NotFound,
        "no address to connect to",
    ));
    for (i, addr) in addrs.iter().enumerate() {
        let share = by.saturating_duration_since(Instant::now()) / (addrs.len() - i) as u32;
        if share.is_zero() {
            return Err(ureq::Error::Timeout(Timeout::Connect));
        }
        match TcpStream::connect_timeout(addr, share) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => {
                progress.event(Event::ConnectFailed {
                    addr: *addr,
                    error: &e,
                });
                last = match e.kind() {
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                        ureq::Error::Timeout(Timeout::Connect)
                    }
                    _ => ureq::Error::Io(e),
                };
            }
        }
    }
    Err(last)
}
