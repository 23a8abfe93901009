//! Every reason a check gives, worded here: errors turned into the
//! report's one-line reasons, in the phase they happened in and with the
//! time the attempt really had, and the one way durations are written
//! ([`format_duration`]). The rustls and h2 wording is here, behind their
//! `cfg`s.

use std::time::Duration;

use ureq::Timeout;

use super::deadline::Deadline;
use super::trace::Phase;

/// A Rust name as words, for the rare errors without wording of their own:
/// `UnsupportedCriticalExtension` → `unsupported critical extension`.
#[cfg(feature = "tls")]
fn words(name: &str) -> String {
    let name = name.split(['(', '{', ' ']).next().unwrap_or(name);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A duration as every report line writes it (elapsed times and the
/// budgets in reasons alike): `500ns`, `850µs`, `2.1ms`, `250ms`, `1s`, `1.5s`,
/// `1.23s`; rounded to 0.1 ms below 10 ms, to 1 ms below 1 s and to 10 ms
/// above (an attempt cut to the end of `--wait` at 999.98 ms had `1s`).
pub fn format_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros == 0 {
        return format!("{}ns", d.as_nanos());
    }
    if micros < 1_000 {
        return format!("{micros}µs");
    }
    if micros < 9_950 {
        return format!("{}ms", trimmed(micros as f64 / 1_000.0, 1));
    }
    let millis = (micros + 500) / 1_000;
    if millis < 1_000 {
        return format!("{millis}ms");
    }
    format!("{}s", trimmed(((millis + 5) / 10) as f64 / 100.0, 2))
}

/// `value` with at most `places` decimals, trailing zeros dropped.
fn trimmed(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// A signal's name (`SIGTERM`), or its number.
pub(crate) fn signal_name(signal: i32) -> String {
    #[cfg(unix)]
    if let Ok(signal) = nix::sys::signal::Signal::try_from(signal) {
        return signal.to_string();
    }
    format!("signal {signal}")
}

/// "timed out after 1s waiting for response headers": the attempt's whole
/// budget ran out in `phase`.
pub(super) fn timed_out(deadline: &Deadline, phase: Phase) -> String {
    format!(
        "timed out after {} {}",
        format_duration(deadline.budget),
        phase.doing()
    )
}

/// A connection setup that ran out of time in `phase` (TCP, the proxy's
/// CONNECT, TLS): "TLS handshake timed out after 500ms" when
/// `--connect-timeout` cut it, else the attempt's own wording.
pub(super) fn connect_timed_out(deadline: &Deadline, phase: Phase) -> String {
    let phase = if phase.setup() { phase } else { Phase::Connect };
    if deadline.connect_limited() {
        format!(
            "{} timed out after {}",
            phase.step(),
            format_duration(deadline.connect_budget)
        )
    } else {
        timed_out(deadline, phase)
    }
}

/// One line saying what went wrong, in the phase it went wrong in. A
/// deadline names the time the attempt had: `--timeout`, or less when
/// `--wait` ends sooner.
pub(super) fn describe(error: &ureq::Error, phase: Phase, deadline: &Deadline) -> String {
    match error {
        ureq::Error::Timeout(Timeout::Connect) => connect_timed_out(deadline, phase),
        ureq::Error::Timeout(Timeout::Resolve) => timed_out(deadline, Phase::Resolve),
        ureq::Error::Timeout(_) => timed_out(deadline, phase),
        ureq::Error::HostNotFound => "could not resolve host".to_string(),
        ureq::Error::Io(e) => describe_io(e, phase, deadline),
        // Only a redirect to a longer URL can overflow the request buffer
        // (sized from the config's largest request): nothing was sent.
        ureq::Error::Protocol(ureq_proto::Error::OutputOverflow) => {
            "the redirect's request is larger than the request buffer (nothing sent)".to_string()
        }
        ureq::Error::Protocol(e) => format!("malformed response: {e}"),
        ureq::Error::LargeResponseHeader(got, max) => {
            format!("response head too large ({got} bytes, limit {max})")
        }
        other => format!("{other} ({})", phase.doing()),
    }
}

/// Whether `error`, with an HTTP proxy set, happened on the way to the
/// proxy (its name not found, its port refused or silent): the only host
/// a request through a proxy resolves and connects to is the proxy's.
pub(super) fn before_the_proxy_answered(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::HostNotFound | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => {
            true
        }
        ureq::Error::Io(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::HostUnreachable
                | std::io::ErrorKind::NetworkUnreachable
        ),
        _ => false,
    }
}

/// One line for an I/O error (TLS errors inside it in curl's words), in
/// the phase it happened in.
pub(super) fn describe_io(e: &std::io::Error, phase: Phase, deadline: &Deadline) -> String {
    use std::io::ErrorKind;
    #[cfg(feature = "tls")]
    if let Some(e) = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return tls_reason(e);
    }
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_string(),
        ErrorKind::ConnectionReset => format!("connection reset by peer {}", phase.doing()),
        ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof => {
            format!("connection closed {}", phase.doing())
        }
        ErrorKind::NotFound => e.to_string(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock if phase.setup() => {
            connect_timed_out(deadline, phase)
        }
        ErrorKind::TimedOut | ErrorKind::WouldBlock => timed_out(deadline, phase),
        _ if phase == Phase::Resolve => format!("could not resolve host: {e}"),
        _ => format!("{e} ({})", phase.doing()),
    }
}

/// The reason of a gRPC status other than OK (grpc/status codes), for a
/// check of `service` (empty: the server as a whole).
#[cfg(feature = "grpc")]
pub(super) fn grpc_status(code: u32, name: &str, message: &str, service: &str) -> String {
    match code {
        5 if service.is_empty() => {
            "the server as a whole (\"\") is unknown to the server (gRPC NOT_FOUND)".to_string()
        }
        5 => format!("service {service:?} is unknown to the server (gRPC NOT_FOUND)"),
        12 => "the server has no grpc.health.v1 service (gRPC UNIMPLEMENTED)".to_string(),
        _ => {
            let message = message.replace(['\r', '\n'], " ");
            if message.is_empty() {
                format!("gRPC status {name}")
            } else {
                format!("gRPC status {name}: {message}")
            }
        }
    }
}

/// One line for an HTTP/2 error. Before any response (`answered` false),
/// a protocol error means the other end does not speak HTTP/2.
#[cfg(feature = "grpc")]
pub(super) fn h2_reason(error: &h2::Error, answered: bool) -> String {
    if let Some(io) = error.get_io() {
        return match io.kind() {
            std::io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::BrokenPipe => {
                "connection closed before an HTTP/2 answer: not an HTTP/2 (gRPC) server?".into()
            }
            _ => format!("{io}"),
        };
    }
    // A protocol error found here, before any answer: the other end does
    // not speak HTTP/2 (an HTTP/1 server's reply reads as a bad frame).
    if !answered && !error.is_remote() {
        return format!("not an HTTP/2 (gRPC) server? ({error})");
    }
    if error.is_go_away() || error.is_reset() {
        return format!("the server ended the HTTP/2 stream ({error})");
    }
    format!("HTTP/2: {error}")
}

/// A one-line reason for a certificate the verifier refused, in the words
/// curl and openssl use.
#[cfg(feature = "tls")]
fn certificate_reason(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as Cert;
    match e {
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
        // A certificate with no subjectAltName (`openssl req -x509 -subj
        // /CN=localhost`): its CN is not a name (RFC 6125, as browsers and
        // Go), so no --servername can help.
        Cert::NotValidForNameContext { presented, .. } if presented.is_empty() => {
            "certificate verify failed: the certificate has no subjectAltName, and names are \
             matched against it only, never the CN (reissue it with -addext \
             subjectAltName=DNS:NAME, or give -k)"
                .to_string()
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
        Cert::Other(other)
            if other
                .0
                .downcast_ref::<webpki::Error>()
                .is_some_and(|e| matches!(e, webpki::Error::CaUsedAsEndEntity)) =>
        {
            "certificate verify failed: the server's certificate is a CA certificate \
             (CA:TRUE); give that certificate to --cacert to trust it as it is"
                .to_string()
        }
        Cert::Other(other) => format!(
            "certificate verify failed: {}",
            words(&format!("{:?}", other.0))
        ),
        other => format!(
            "certificate verify failed: {}",
            words(&format!("{other:?}"))
        ),
    }
}

/// A one-line reason for a TLS failure, in the words curl and openssl use.
#[cfg(feature = "tls")]
fn tls_reason(error: &rustls::Error) -> String {
    use rustls::{AlertDescription as Alert, Error as E};
    match error {
        E::InvalidCertificate(e) => certificate_reason(e),
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

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn deadline(budget_ms: u64, connect_ms: u64) -> Deadline {
        Deadline::new(
            Duration::from_millis(budget_ms),
            Duration::from_millis(connect_ms),
            None,
        )
    }

    /// The words of each reason, in each phase, with the attempt's time.
    #[test]
    fn reasons_name_the_phase_and_the_time_the_attempt_had() {
        let io = |kind| ureq::Error::Io(io::Error::new(kind, "x"));
        let full = deadline(5_000, 2_000);
        let cut = Deadline {
            budget: Duration::from_micros(999_980),
            ..full
        };
        let cases: Vec<(ureq::Error, Phase, Deadline, &str)> = vec![
            (
                ureq::Error::Timeout(Timeout::Global),
                Phase::Headers,
                full,
                "timed out after 5s waiting for response headers",
            ),
            (
                ureq::Error::Timeout(Timeout::Global),
                Phase::Headers,
                cut,
                "timed out after 1s waiting for response headers",
            ),
            (
                ureq::Error::Timeout(Timeout::RecvBody),
                Phase::Body,
                deadline(250, 250),
                "timed out after 250ms reading the body",
            ),
            (
                ureq::Error::Timeout(Timeout::Connect),
                Phase::Connect,
                full,
                "connect timed out after 2s",
            ),
            (
                ureq::Error::Timeout(Timeout::Connect),
                Phase::Connect,
                deadline(500, 500),
                "timed out after 500ms connecting",
            ),
            (
                ureq::Error::Timeout(Timeout::Connect),
                Phase::Tls,
                deadline(5_000, 1_000),
                "TLS handshake timed out after 1s",
            ),
            (
                io(io::ErrorKind::TimedOut),
                Phase::Proxy,
                deadline(5_000, 1_000),
                "proxy CONNECT timed out after 1s",
            ),
            (
                ureq::Error::Timeout(Timeout::Connect),
                Phase::Tls,
                deadline(5_000, 5_000),
                "timed out after 5s in the TLS handshake",
            ),
            (
                ureq::Error::HostNotFound,
                Phase::Resolve,
                full,
                "could not resolve host",
            ),
            (
                io(io::ErrorKind::ConnectionRefused),
                Phase::Connect,
                full,
                "connection refused",
            ),
            (
                io(io::ErrorKind::ConnectionReset),
                Phase::Headers,
                full,
                "connection reset by peer waiting for response headers",
            ),
            (
                io(io::ErrorKind::UnexpectedEof),
                Phase::Headers,
                full,
                "connection closed waiting for response headers",
            ),
            (
                io(io::ErrorKind::BrokenPipe),
                Phase::Body,
                full,
                "connection closed reading the body",
            ),
            (
                io(io::ErrorKind::TimedOut),
                Phase::Connect,
                deadline(5_000, 5_000),
                "timed out after 5s connecting",
            ),
            (
                io(io::ErrorKind::Other),
                Phase::Resolve,
                full,
                "could not resolve host: x",
            ),
            (
                ureq::Error::LargeResponseHeader(16384, 15360),
                Phase::Headers,
                full,
                "response head too large (16384 bytes, limit 15360)",
            ),
        ];
        for (error, phase, deadline, want) in cases {
            assert_eq!(describe(&error, phase, &deadline), want, "{error:?}");
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn tls_reasons_use_curls_words() {
        use rustls::{AlertDescription as Alert, CertificateError as Cert, Error as E};
        for (error, want) in [
            (
                E::InvalidCertificate(Cert::UnknownIssuer),
                "certificate verify failed: unknown issuer",
            ),
            (
                E::InvalidCertificate(Cert::Expired),
                "certificate verify failed: certificate has expired",
            ),
            (
                E::InvalidCertificate(Cert::NotValidForName),
                "certificate verify failed: name mismatch (try --servername)",
            ),
            (
                E::AlertReceived(Alert::CertificateRequired),
                "TLS: the server requires a client certificate (give --cert and --key)",
            ),
        ] {
            assert_eq!(tls_reason(&error), want);
        }
    }

    #[test]
    fn durations_are_written_one_way() {
        for (micros, want) in [
            (5_000_000, "5s"),
            (999_980, "1s"),
            (2_500_000, "2.5s"),
            (1_234_000, "1.23s"),
            (250_000, "250ms"),
            (994_000, "994ms"),
            (42_400, "42ms"),
            (2_149, "2.1ms"),
            (5_000, "5ms"),
            (850, "850µs"),
            (100, "100µs"),
        ] {
            assert_eq!(format_duration(Duration::from_micros(micros)), want);
        }
        assert_eq!(format_duration(Duration::from_nanos(1)), "1ns");
        assert_eq!(format_duration(Duration::from_nanos(999)), "999ns");
    }
}
