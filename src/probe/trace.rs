//! What a check does as it happens: [`Event`]s to a [`Trace`] (the report
//! layer's `-v` sink), stamped by the check's [`Progress`], which also
//! records the [`Phase`] a deadline runs out in.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use super::check::Check;

/// What a check does, as it happens, for `-v`. Times are since the start
/// of the check.
#[derive(Debug)]
pub enum Event<'a> {
    /// A request is about to be sent.
    Request {
        /// `GET` or `HEAD`.
        method: &'a str,
        /// The absolute URL.
        url: &'a str,
    },
    /// A host was resolved (or taken from `--resolve`, or was an IP literal).
    Resolved {
        /// The host as in the URL.
        host: &'a str,
        /// The addresses to try, in order.
        addrs: &'a [SocketAddr],
    },
    /// A connection is open.
    Connected {
        /// The host and port (or address) connected to.
        to: &'a str,
        /// Whether TLS is on it.
        tls: bool,
        /// Whether it is the connection to `--proxy` (its CONNECT follows).
        proxy: bool,
    },
    /// One address of several could not be connected to.
    ConnectFailed {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: &'a std::io::Error,
    },
    /// The request head as sent (bytes up to the blank line, and perhaps more).
    RequestHead(&'a [u8]),
    /// The response head as received.
    ResponseHead {
        /// `HTTP/1.1`, …
        version: ureq::http::Version,
        /// The status.
        status: ureq::http::StatusCode,
        /// The headers, in order.
        headers: &'a ureq::http::HeaderMap,
    },
    /// A redirect is followed.
    Redirect {
        /// The 3xx status.
        status: u16,
        /// The next URL.
        to: &'a str,
    },
    /// A command (`exec:`) was started.
    Started {
        /// Its process id.
        pid: u32,
    },
    /// The body was read (to its end or to `--max-body`), in bytes.
    BodyRead(usize),
    /// An attempt of `--wait` failed; another may follow.
    AttemptFailed {
        /// 1 for the first attempt.
        attempt: u32,
        /// The failed check.
        check: &'a Check,
    },
}

/// Where a check's [`Event`]s go. Implemented by the report layer for
/// `-v`; [`NoTrace`] otherwise.
pub trait Trace: fmt::Debug + Send + Sync {
    /// Whether events are wanted at all; when not, none are built.
    fn enabled(&self) -> bool {
        true
    }

    /// One event, `elapsed` after its check started.
    fn event(&self, elapsed: Duration, event: Event<'_>);
}

/// The trace that wants nothing.
#[derive(Debug, Clone, Copy)]
pub struct NoTrace;

impl Trace for NoTrace {
    fn enabled(&self) -> bool {
        false
    }

    fn event(&self, _: Duration, _: Event<'_>) {}
}

/// The phase a check is in, for reports of where a deadline ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Looking the host up (or taking it from `--resolve`).
    Resolve = 0,
    /// The TCP connect.
    Connect = 1,
    /// The CONNECT request to `--proxy` and its answer.
    Proxy = 2,
    /// The TLS handshake.
    Tls = 3,
    /// Request sent, waiting for the status line and headers.
    Headers = 4,
    /// Reading the body, up to `--max-body` bytes.
    Body = 5,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Resolve,
            1 => Phase::Connect,
            2 => Phase::Proxy,
            3 => Phase::Tls,
            4 => Phase::Headers,
            _ => Phase::Body,
        }
    }

    /// Whether the phase is part of the connection setup that
    /// `--connect-timeout` bounds (TCP, the proxy's CONNECT, TLS).
    pub(crate) fn setup(self) -> bool {
        matches!(self, Phase::Connect | Phase::Proxy | Phase::Tls)
    }

    /// The setup step a connect budget ran out in, as a reason names it:
    /// "*TLS handshake* timed out after 1s".
    pub(crate) fn step(self) -> &'static str {
        match self {
            Phase::Proxy => "proxy CONNECT",
            Phase::Tls => "TLS handshake",
            _ => "connect",
        }
    }

    /// The phase as the end of a reason says it: "timed out after 1s
    /// *waiting for response headers*".
    pub(crate) fn doing(self) -> &'static str {
        match self {
            Phase::Resolve => "resolving the host",
            Phase::Connect => "connecting",
            Phase::Proxy => "waiting for the proxy's CONNECT answer",
            Phase::Tls => "in the TLS handshake",
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
