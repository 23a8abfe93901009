//! The `grpc://` and `grpcs://` check: the standard grpc.health.v1
//! `Health/Check` RPC. HTTP/2 is h2's, protobuf is prost's; the only wire
//! format written here is gRPC's own 5-byte message prefix (gRPC over
//! HTTP/2, "Length-Prefixed-Message"). A tokio runtime (one thread, this
//! one) is started only when a gRPC target is checked.
//!
//! Verdicts (as grpc_health_probe and the Kubernetes gRPC probe): `SERVING`
//! is healthy; `NOT_SERVING`, `UNKNOWN`, `SERVICE_UNKNOWN` are unhealthy;
//! gRPC status `NOT_FOUND` means the service is unknown to the server,
//! `UNIMPLEMENTED` that the server has no health service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use ureq::http::Request;

mod wire;

use super::reason::{describe_io, shown};
use super::tcp::resolve;
use super::transport::{Phase, ProbeResolver, Progress};
use super::{Attempt, Check, Event, Failure, Trace};
use crate::config::{Config, Target, url_host};
use wire::{
    CHECK_PATH, MAX_MESSAGE_BYTES, code_name, frame, grpc_timeout, serving_status, status_of,
    unframe,
};

/// What came back: a serving status, or a gRPC status other than OK.
pub(super) enum Answer {
    Serving(i32),
    Status { code: u32, message: String },
}

/// Checks one gRPC target within `attempt`.
#[allow(clippy::too_many_arguments)]
pub(super) fn check(
    target: &Target,
    host: &str,
    port: u16,
    service: &str,
    tls: bool,
    config: &Config,
    attempt: Attempt,
    trace: &Arc<dyn Trace>,
) -> Check {
    let start = Instant::now();
    let progress = Arc::new(Progress::new(trace.clone()));
    let mut check = Check::new(target, "gRPC");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build();
    let outcome = match runtime {
        Ok(runtime) => {
            let remaining = attempt.deadline.saturating_duration_since(Instant::now());
            let rpc = call(host, port, service, tls, config, attempt, &progress);
            match runtime.block_on(async { tokio::time::timeout(remaining, rpc).await }) {
                Ok(outcome) => outcome,
                Err(_) => Err(format!(
                    "timed out after {} {}",
                    shown(attempt.allowed),
                    progress.phase().doing()
                )),
            }
        }
        Err(e) => Err(format!("cannot start the gRPC runtime: {e}")),
    };
    check.elapsed = start.elapsed();
    match outcome {
        Ok(Answer::Serving(n)) => {
            check.grpc_status = Some(serving_status(n));
            if n != 1 {
                check.failure = Some(Failure::NotServing);
            }
        }
        Ok(Answer::Status { code: 5, .. }) => {
            let what = if service.is_empty() {
                "the server as a whole (\"\")".to_string()
            } else {
                format!("service {service:?}")
            };
            check.failure = Some(Failure::Error(format!(
                "{what} is unknown to the server (gRPC NOT_FOUND)"
            )));
        }
        Ok(Answer::Status { code: 12, .. }) => {
            check.failure = Some(Failure::Error(
                "the server has no grpc.health.v1 service (gRPC UNIMPLEMENTED)".to_string(),
            ));
        }
        Ok(Answer::Status { code, message }) => {
            let message = message.replace(['\r', '\n'], " ");
            check.failure = Some(Failure::Error(if message.is_empty() {
                format!("gRPC status {}", code_name(code))
            } else {
                format!("gRPC status {}: {message}", code_name(code))
            }));
        }
        Err(reason) => check.failure = Some(Failure::Error(reason)),
    }
    check
}

/// Resolves, connects (every address in turn, within `--connect-timeout`),
/// adds TLS for `grpcs://`, and makes the RPC.
async fn call(
    host: &str,
    port: u16,
    service: &str,
    tls: bool,
    config: &Config,
    attempt: Attempt,
    progress: &Arc<Progress>,
) -> Result<Answer, String> {
    let resolver = ProbeResolver::direct(progress.clone(), &config.resolve);
    let addrs = resolve(&resolver, host, port, attempt.deadline)?;
    progress.set(Phase::Connect);
    let connect_by = attempt
        .deadline
        .min(Instant::now() + config.connect_timeout);
    let stream = connect(&addrs, connect_by, config, attempt, progress).await?;
    let authority = format!("{}:{port}", url_host(host));
    if !tls {
        progress.event(Event::Connected {
            to: &authority,
            tls: false,
        });
        return rpc(
            stream, "http", &authority, service, config, attempt, progress,
        )
        .await;
    }
    #[cfg(feature = "tls")]
    {
        let name = config.tls.servername.as_deref().unwrap_or(host).to_string();
        let name = rustls::pki_types::ServerName::try_from(name)
            .map_err(|_| format!("{host:?} is not a TLS server name (give --servername)"))?;
        let mut client = (*config.tls.client.get()?).clone();
        client.alpn_protocols = vec![b"h2".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let handshake = connector.connect(name, stream);
        let stream = tokio::time::timeout_at(connect_by.into(), handshake)
            .await
            .map_err(|_| {
                format!(
                    "connect timed out after {} (TLS handshake)",
                    shown(config.connect_timeout.min(attempt.allowed))
                )
            })?
            .map_err(|e| describe_io(&e, Phase::Connect, attempt))?;
        if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(
                "the TLS server did not agree to HTTP/2 (ALPN h2): not a gRPC server?".into(),
            );
        }
        progress.event(Event::Connected {
            to: &authority,
            tls: true,
        });
        rpc(
            stream, "https", &authority, service, config, attempt, progress,
        )
        .await
    }
    #[cfg(not(feature = "tls"))]
    {
        let _ = (stream, service);
        Err("this build has no TLS (built without the tls feature)".into())
    }
}

/// A TCP connection to one of `addrs` before `by`, each address in turn
/// with an equal share of the time left.
async fn connect(
    addrs: &[SocketAddr],
    by: Instant,
    config: &Config,
    attempt: Attempt,
    progress: &Progress,
) -> Result<TcpStream, String> {
    let mut last = "no address to connect to".to_string();
    for (i, addr) in addrs.iter().enumerate() {
        let share = by.saturating_duration_since(Instant::now()) / (addrs.len() - i) as u32;
        if share.is_zero() {
            break;
        }
        match tokio::time::timeout(share, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => {
                progress.event(Event::ConnectFailed {
                    addr: *addr,
                    error: &e,
                });
                last = describe_io(&e, Phase::Connect, attempt);
            }
            Err(_) => {
                last = format!(
                    "connect timed out after {}",
                    shown(config.connect_timeout.min(attempt.allowed))
                )
            }
        }
    }
    Err(last)
}

/// The RPC over an open connection: HTTP/2 (prior knowledge on cleartext,
/// ALPN on TLS), one POST with one message, the answer from the trailers
/// (or the headers of a trailers-only response).
async fn rpc<T>(
    io: T,
    scheme: &str,
    authority: &str,
    service: &str,
    config: &Config,
    attempt: Attempt,
    progress: &Progress,
) -> Result<Answer, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    progress.set(Phase::Headers);
    let (client, connection) = h2::client::handshake(io)
        .await
        .map_err(|e| h2_reason(&e, false))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let remaining = attempt.deadline.saturating_duration_since(Instant::now());
    let uri = format!("{scheme}://{authority}{CHECK_PATH}");
    let mut request = Request::builder()
        .method("POST")
        .uri(&uri)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("user-agent", config.user_agent.as_str())
        .header("grpc-timeout", grpc_timeout(remaining));
    // -H headers are sent as metadata (auth tokens); Host is HTTP/1's.
    for (name, value) in config.headers.iter().filter(|(n, _)| n != "host") {
        request = request.header(name, value);
    }
    if !config.headers.iter().any(|(n, _)| n == "authorization")
        && let Some(basic) = &config.authorization
    {
        request = request.header("authorization", basic);
    }
    let request = request
        .body(())
        .map_err(|e| format!("cannot build the request: {e}"))?;
    progress.event(Event::Request {
        method: "POST",
        url: &uri,
    });
    let mut client = client.ready().await.map_err(|e| h2_reason(&e, false))?;
    let (response, mut send) = client
        .send_request(request, false)
        .map_err(|e| h2_reason(&e, false))?;
    send.send_data(frame(service), true)
        .map_err(|e| h2_reason(&e, false))?;
    let response = response.await.map_err(|e| h2_reason(&e, false))?;
    let (head, mut body) = response.into_parts();
    progress.event(Event::ResponseHead {
        version: head.version,
        status: head.status,
        headers: &head.headers,
    });
    if head.status != 200 {
        return Err(format!("HTTP/2 status {}: not a gRPC server?", head.status));
    }
    // A trailers-only response carries grpc-status in its headers.
    if let Some(answer) = status_of(&head.headers) {
        return Ok(answer);
    }
    progress.set(Phase::Body);
    let mut message = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| h2_reason(&e, true))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if message.len() + chunk.len() > MAX_MESSAGE_BYTES {
            return Err(format!("response message over {MAX_MESSAGE_BYTES} bytes"));
        }
        message.put(chunk);
    }
    let trailers = body
        .trailers()
        .await
        .map_err(|e| h2_reason(&e, true))?
        .unwrap_or_default();
    progress.event(Event::BodyRead(message.len()));
    match status_of(&trailers) {
        Some(Answer::Status { code: 0, .. }) => {
            let response = unframe(message.freeze())?;
            Ok(Answer::Serving(response.status))
        }
        Some(answer) => Ok(answer),
        None => Err("the response has no grpc-status: not a gRPC server?".into()),
    }
}

/// One line for an HTTP/2 error. Before any response (`answered` false),
/// a protocol error means the other end does not speak HTTP/2.
fn h2_reason(error: &h2::Error, answered: bool) -> String {
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
