//! The outcome of a check, typed: what kind of check it was, what came
//! back, and why it is unhealthy. The report matches on these; nothing in
//! them is stored that can be derived.

use std::time::Duration;

use crate::config::{Method, Target, TargetKind};

/// What kind of check was made, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An HTTP request with `method`; `tls` for `https://`.
    Http {
        /// `GET` or `HEAD`.
        method: Method,
        /// `https://`.
        tls: bool,
    },
    /// A TCP connect (`tcp://`).
    Tcp,
    /// The grpc.health.v1 Check RPC; `tls` for `grpcs://`.
    Grpc {
        /// `grpcs://`.
        tls: bool,
    },
    /// A command run (`exec:`).
    Exec,
}

impl Kind {
    /// The kind of check `target` asks for, made with `method`.
    pub fn of(target: &Target, method: Method) -> Kind {
        match &target.kind {
            TargetKind::Http { tls } => Kind::Http { method, tls: *tls },
            TargetKind::Tcp => Kind::Tcp,
            TargetKind::Grpc { tls, .. } => Kind::Grpc { tls: *tls },
            TargetKind::Exec { .. } => Kind::Exec,
        }
    }

    /// The word a report line starts with: `GET`, `HEAD`, `TCP`, `gRPC`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Http { method, .. } => method.as_str(),
            Kind::Tcp => "TCP",
            Kind::Grpc { .. } => "gRPC",
            Kind::Exec => "EXEC",
        }
    }

    /// Whether the check spoke TLS.
    pub fn tls(self) -> bool {
        matches!(
            self,
            Kind::Http { tls: true, .. } | Kind::Grpc { tls: true }
        )
    }
}

/// What came back from the target, when anything did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP response: its status code, and the start of its body.
    Http {
        /// The final response's status code.
        status: u16,
        /// The start of the body read, printable: at most 120 characters
        /// (`judge::EXCERPT_CHARS`), plus `…` when cut.
        excerpt: Option<String>,
    },
    /// A TCP connection opened.
    Connected,
    /// A grpc.health.v1 serving status (`SERVING`, `NOT_SERVING`, …): the
    /// health service's answer, not the `grpc-status` trailer.
    Grpc {
        /// The serving status's name.
        serving_status: &'static str,
    },
    /// A command ended by itself.
    Exited {
        /// Its exit status; `None` when a signal ended it.
        code: Option<i32>,
        /// Its first line of output (stdout, else stderr), printable, at
        /// most 120 characters plus `…`.
        output: Option<String>,
    },
}

/// The outcome of one check of one target.
#[derive(Debug, Clone)]
pub struct Check {
    /// The URL as given (after bare-path expansion), as reports show it: a
    /// password in it is `***`.
    pub target: String,
    /// What kind of check it was.
    pub kind: Kind,
    /// What came back; `None` when nothing did (refused, timed out, …).
    pub answer: Option<Answer>,
    /// Time from the start of the check to its verdict.
    pub elapsed: Duration,
    /// Why the check is unhealthy; `None` when healthy.
    pub failure: Option<Failure>,
    /// Attempts made for this target (`--wait` makes more than one).
    pub attempts: u32,
    /// The body read (at most `--max-body` bytes), kept only when `-o FILE`
    /// asks for it.
    pub body: Option<Vec<u8>>,
}

impl Check {
    /// A check of `target` of `kind` with nothing known yet.
    pub(crate) fn new(target: &Target, kind: Kind) -> Check {
        Check {
            target: target.shown.clone(),
            kind,
            answer: None,
            elapsed: Duration::ZERO,
            failure: None,
            attempts: 1,
            body: None,
        }
    }

    /// Healthy when nothing failed.
    pub fn healthy(&self) -> bool {
        self.failure.is_none()
    }

    /// The HTTP status code, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        match self.answer {
            Some(Answer::Http { status, .. }) => Some(status),
            _ => None,
        }
    }

    /// The standard reason phrase of the status code, when it has one.
    pub fn reason(&self) -> Option<&'static str> {
        ureq::http::StatusCode::from_u16(self.status()?)
            .ok()?
            .canonical_reason()
    }

    /// The body excerpt, when a body was read.
    pub fn excerpt(&self) -> Option<&str> {
        match &self.answer {
            Some(Answer::Http { excerpt, .. }) => excerpt.as_deref(),
            _ => None,
        }
    }

    /// An exec check: the command's first line of output, when it wrote one.
    pub fn output(&self) -> Option<&str> {
        match &self.answer {
            Some(Answer::Exited { output, .. }) => output.as_deref(),
            _ => None,
        }
    }

    /// An exec check: the command's exit status, when it exited.
    pub fn exit_code(&self) -> Option<i32> {
        match self.answer {
            Some(Answer::Exited { code, .. }) => code,
            _ => None,
        }
    }

    /// gRPC: the serving status that came back, when one did.
    pub fn serving_status(&self) -> Option<&'static str> {
        match self.answer {
            Some(Answer::Grpc { serving_status }) => Some(serving_status),
            _ => None,
        }
    }
}

/// Why a check is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A response arrived but its status is not in the expected set
    /// (`--expect-status`).
    Status,
    /// A response with a good status failed a body or JSON expectation.
    Expectation(String),
    /// gRPC: a serving status other than `SERVING` (grpc.health.v1).
    NotServing,
    /// No judgeable response: refused, reset, timed out, malformed, …
    Error(String),
}

/// The result of a probe run: every target's check. Healthy only when every
/// check is.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// One check per target, in target order.
    pub checks: Vec<Check>,
    /// With `--wait`: how long the probe waited in all.
    pub waited: Option<Duration>,
}

impl Verdict {
    /// Healthy only when all checks are.
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(Check::healthy)
    }
}
