//! Errors turned into the report's one-line reasons, in the phase they
//! happened in and with the time the attempt really had. The rustls
//! wording is here, behind the one `cfg(feature = "tls")` of the check
//! code.

use std::time::Duration;

use ureq::Timeout;

use super::Attempt;
use super::transport::Phase;
use crate::config::Config;

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

/// One line saying what went wrong, in the phase it went wrong in. A
/// deadline names the time the attempt had: `--timeout`, or less when
/// `--wait` ends sooner.
pub(super) fn describe(
    error: &ureq::Error,
    phase: Phase,
    config: &Config,
    attempt: Attempt,
) -> String {
    let timed_out = || {
        format!(
            "timed out after {} {}",
            shown(attempt.allowed),
            phase.doing()
        )
    };
    match error {
        ureq::Error::Timeout(Timeout::Connect) => format!(
            "connect timed out after {}",
            shown(config.connect_timeout.min(attempt.allowed))
        ),
        ureq::Error::Timeout(_) => timed_out(),
        ureq::Error::HostNotFound => "could not resolve host".to_string(),
        ureq::Error::Io(e) => describe_io(e, phase, attempt),
        ureq::Error::Protocol(e) => format!("malformed response: {e}"),
        ureq::Error::LargeResponseHeader(got, max) => {
            format!("response head too large ({got} bytes, limit {max})")
        }
        other => format!("{other} ({})", phase.doing()),
    }
}

/// One line for an I/O error (TLS errors inside it in curl's words), in
/// the phase it happened in.
pub(super) fn describe_io(e: &std::io::Error, phase: Phase, attempt: Attempt) -> String {
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
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            format!(
                "timed out after {} {}",
                shown(attempt.allowed),
                phase.doing()
            )
        }
        _ if phase == Phase::Resolve => format!("could not resolve host: {e}"),
        _ => format!("{e} ({})", phase.doing()),
    }
}

/// A duration as a reason shows it: to the millisecond below 100 ms, to
/// 10 ms below 500 ms, else to 100 ms (an attempt cut to the end of
/// `--wait` at 999.98 ms had 1s).
pub(super) fn shown(d: Duration) -> String {
    let step = match d.as_millis() {
        0..100 => 1,
        100..500 => 10,
        _ => 100,
    };
    let millis = (d.as_micros() + step * 500) / (step * 1000) * step;
    humantime::format_duration(Duration::from_millis(millis as u64)).to_string()
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

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Instant;

    use super::*;

    fn config() -> Config {
        crate::config::from_args([
            "healthprobe",
            "--connect-timeout",
            "2s",
            "-t",
            "5s",
            "http://h/",
        ])
        .expect("config")
    }

    fn attempt(allowed: Duration) -> Attempt {
        Attempt {
            deadline: Instant::now() + allowed,
            allowed,
        }
    }

    /// The words of each reason, in each phase, with the attempt's time.
    #[test]
    fn reasons_name_the_phase_and_the_time_the_attempt_had() {
        let io = |kind| ureq::Error::Io(io::Error::new(kind, "x"));
        let full = attempt(Duration::from_secs(5));
        let cut = attempt(Duration::from_micros(999_980));
        let cases: Vec<(ureq::Error, Phase, Attempt, &str)> = vec![
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
                attempt(Duration::from_millis(250)),
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
                attempt(Duration::from_millis(500)),
                "connect timed out after 500ms",
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
                full,
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
        let config = config();
        for (error, phase, attempt, want) in cases {
            assert_eq!(describe(&error, phase, &config, attempt), want, "{error:?}");
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
    fn shown_durations_round_to_what_a_reader_expects() {
        for (micros, want) in [
            (5_000_000, "5s"),
            (999_980, "1s"),
            (2_500_000, "2s 500ms"),
            (250_000, "250ms"),
            (994_000, "1s"),
            (1_460_000, "1s 500ms"),
            (42_400, "42ms"),
        ] {
            assert_eq!(shown(Duration::from_micros(micros)), want);
        }
    }
}
