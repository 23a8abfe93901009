//! The `tcp://host:port` check: healthy when a TCP connection opens (the
//! Kubernetes tcpSocket probe).

use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use ureq::Timeout;
use ureq::http::Uri;
use ureq::unversioned::resolver::Resolver;
use ureq::unversioned::transport::NextTimeout;

use super::transport::{ProbeResolver, Progress};
use super::{Attempt, Check, Event, Failure, Trace};
use crate::config::{Config, Target, url_host};

/// Checks `target` (`host`, `port`) within `attempt`.
pub(super) fn check(
    target: &Target,
    host: &str,
    port: u16,
    config: &Config,
    attempt: Attempt,
    trace: &Arc<dyn Trace>,
) -> Check {
    let start = Instant::now();
    let progress = Arc::new(Progress::new(trace.clone()));
    let resolver = ProbeResolver::direct(progress.clone(), &config.resolve);
    let mut check = Check::new(target, "TCP");
    if let Err(error) = connect(&resolver, host, port, attempt.deadline) {
        check.failure = Some(Failure::Error(error));
    }
    check.elapsed = start.elapsed();
    check
}

/// Opens a TCP connection to `host:port` before `deadline`, trying every
/// resolved address in turn (each gets an equal share of the time left),
/// and closes it.
///
/// # Errors
/// One line: the host cannot be resolved, every address refused, or the
/// deadline passed while connecting.
fn connect(
    resolver: &ProbeResolver,
    host: &str,
    port: u16,
    deadline: Instant,
) -> Result<(), String> {
    let left = || deadline.saturating_duration_since(Instant::now());
    let addrs = resolve(resolver, host, port, deadline)?;
    let mut last = String::from("no address to connect to");
    for (i, addr) in addrs.iter().enumerate() {
        let share = left() / (addrs.len() - i) as u32;
        if share.is_zero() {
            return Err("timed out connecting".to_string());
        }
        match TcpStream::connect_timeout(addr, share) {
            Ok(_stream) => {
                resolver.progress.event(Event::Connected {
                    to: &addr.to_string(),
                    tls: false,
                });
                return Ok(());
            }
            Err(e) => {
                resolver.progress.event(Event::ConnectFailed {
                    addr: *addr,
                    error: &e,
                });
                last = match e.kind() {
                    io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                        "timed out connecting".to_string()
                    }
                    _ => e.to_string(),
                };
            }
        }
    }
    Err(last)
}

/// The addresses of `host:port`, in the order to try them: `--resolve`, an
/// IP literal, or a lookup (ureq's resolver) within `deadline`.
///
/// # Errors
/// One line: the host cannot be resolved, or the deadline passed.
pub(super) fn resolve(
    resolver: &ProbeResolver,
    host: &str,
    port: u16,
    deadline: Instant,
) -> Result<Vec<std::net::SocketAddr>, String> {
    let uri: Uri = format!("http://{}:{port}/", url_host(host))
        .parse()
        .map_err(|e| format!("invalid host {host:?}: {e}"))?;
    let timeout = NextTimeout {
        after: deadline.saturating_duration_since(Instant::now()).into(),
        reason: Timeout::Resolve,
        per_read: None,
        per_write: None,
    };
    let config = ureq::config::Config::default();
    let addrs = resolver
        .resolve(&uri, &config, timeout)
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => "timed out resolving the host".to_string(),
            ureq::Error::HostNotFound => "could not resolve host".to_string(),
            other => format!("could not resolve host: {other}"),
        })?;
    Ok(addrs.iter().copied().collect())
}
