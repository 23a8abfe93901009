//! The `grpc://` and `grpcs://` check: the standard grpc.health.v1
//! `Health/Check` RPC. HTTP/2 is h2's, protobuf is prost's; the only wire
//! format written here is gRPC's own 5-byte message prefix (gRPC over
//! HTTP/2, "Length-Prefixed-Message"). A tokio runtime (one thread, this
//! one) is started only when a gRPC target is checked; connecting is
//! `connect.rs`'s, as for every kind.
//!
//! Verdicts (as grpc_health_probe and the Kubernetes gRPC probe): `SERVING`
//! is healthy; `NOT_SERVING`, `UNKNOWN`, `SERVICE_UNKNOWN` are unhealthy;
//! gRPC status `NOT_FOUND` means the service is unknown to the server,
//! `UNIMPLEMENTED` that the server has no health service.

mod wire;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use ureq::http::Request;

use super::check::{Answer, Check, Failure, Kind};
use super::deadline::Deadline;
use super::trace::{Event, Phase, Progress};
use super::{connect, reason};
use crate::config::{Config, Target, TargetKind};
use wire::{
    CHECK_PATH, MAX_MESSAGE_BYTES, Reply, code_name, frame, grpc_timeout, serving_status,
    status_of, unframe,
};

/// Checks one gRPC target within `deadline`.
pub(super) fn check(
    target: &Target,
    config: &Config,
    deadline: Deadline,
    progress: &Progress,
) -> Check {
    let mut check = Check::new(target, Kind::of(target, config.method));
    let service = match &target.kind {
        TargetKind::Grpc { service, .. } => service.as_str(),
        _ => "",
    };
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the gRPC runtime: {e}"))
        .and_then(|runtime| {
            let rpc = call(target, service, config, deadline, progress);
            runtime
                .block_on(async { tokio::time::timeout(deadline.left(), rpc).await })
                .unwrap_or_else(|_| Err(reason::timed_out(&deadline, progress.phase())))
        });
    match outcome {
        Ok(Reply::Serving(n)) => {
            check.answer = Some(Answer::Grpc {
                serving_status: serving_status(n),
            });
            if n != 1 {
                check.failure = Some(Failure::NotServing);
            }
        }
        Ok(Reply::Status { code, message }) => {
            check.failure = Some(Failure::Error(reason::grpc_status(
                code,
                &code_name(code),
                &message,
                service,
            )));
        }
        Err(reason) => check.failure = Some(Failure::Error(reason)),
    }
    check
}

/// Resolves and connects (`connect.rs`, within `--connect-timeout`), adds
/// TLS for `grpcs://`, and makes the RPC.
async fn call(
    target: &Target,
    service: &str,
    config: &Config,
    deadline: Deadline,
    progress: &Progress,
) -> Result<Reply, String> {
    // The replacement for the network (tests, fuzzing): the stream it
    // gives, everything above it as over TCP.
    if let Some(link) = &config.network.grpc {
        return rpc(link(), target, "http", service, config, deadline, progress).await;
    }
    let describe = |e: ureq::Error| reason::describe(&e, progress.phase(), &deadline);
    let addrs = connect::resolve(
        &target.host,
        target.port,
        &config.resolve,
        config.family,
        deadline.end,
        progress,
    )
    .map_err(describe)?;
    let connect_by = deadline.connect_by();
    let stream = connect::tcp(&addrs, connect_by, progress).map_err(describe)?;
    let _ = stream.set_nonblocking(true);
    let stream = TcpStream::from_std(stream).map_err(|e| format!("gRPC runtime: {e}"))?;
    let authority = target.authority();
    if !target.kind.tls() {
        progress.event(Event::Connected {
            to: &authority,
            tls: false,
            proxy: false,
        });
        return rpc(stream, target, "http", service, config, deadline, progress).await;
    }
    #[cfg(feature = "tls")]
    {
        progress.set(Phase::Tls);
        let stream = tls(stream, target, config, deadline, connect_by).await?;
        progress.event(Event::Connected {
            to: &authority,
            tls: true,
            proxy: false,
        });
        rpc(stream, target, "https", service, config, deadline, progress).await
    }
    #[cfg(not(feature = "tls"))]
    unreachable!("grpcs:// targets are refused by the config layer in a build without TLS")
}

/// The TLS handshake of `grpcs://`, with ALPN h2, by `connect_by`.
#[cfg(feature = "tls")]
async fn tls(
    stream: TcpStream,
    target: &Target,
    config: &Config,
    deadline: Deadline,
    connect_by: std::time::Instant,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let name = config
        .tls
        .servername
        .clone()
        .unwrap_or_else(|| target.host.clone());
    let name = rustls::pki_types::ServerName::try_from(name).map_err(|_| {
        format!(
            "{:?} is not a TLS server name (give --servername)",
            target.host
        )
    })?;
    let mut client = (*config.tls.client.get()?).clone();
    client.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client));
    let handshake = connector.connect(name, stream);
    let stream = tokio::time::timeout_at(connect_by.into(), handshake)
        .await
        .map_err(|_| reason::connect_timed_out(&deadline, Phase::Tls))?
        .map_err(|e| reason::describe_io(&e, Phase::Tls, &deadline))?;
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err("the TLS server did not agree to HTTP/2 (ALPN h2): not a gRPC server?".into());
    }
    Ok(stream)
}

/// The RPC over an open connection: HTTP/2 (prior knowledge on cleartext,
/// ALPN on TLS), one POST with one message.
async fn rpc<T>(
    io: T,
    target: &Target,
    scheme: &str,
    service: &str,
    config: &Config,
    deadline: Deadline,
    progress: &Progress,
) -> Result<Reply, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    progress.set(Phase::Headers);
    let (client, connection) = h2::client::handshake(io)
        .await
        .map_err(|e| reason::h2_reason(&e, false))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let uri = target
        .with_scheme_and_path(scheme, CHECK_PATH)
        .ok_or("cannot build the request URI")?;
    let request = request(&uri, config, deadline)?;
    progress.event(Event::Request {
        method: "POST",
        url: &uri,
    });
    let mut client = client
        .ready()
        .await
        .map_err(|e| reason::h2_reason(&e, false))?;
    let (response, mut send) = client
        .send_request(request, false)
        .map_err(|e| reason::h2_reason(&e, false))?;
    send.send_data(frame(service), true)
        .map_err(|e| reason::h2_reason(&e, false))?;
    let response = response.await.map_err(|e| reason::h2_reason(&e, false))?;
    answer(response, progress).await
}

/// The request head: gRPC's headers, `-H` headers as metadata (Host is
/// HTTP/1's), and `--user` credentials.
fn request(uri: &str, config: &Config, deadline: Deadline) -> Result<Request<()>, String> {
    let mut request = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("user-agent", config.user_agent.as_str())
        .header("grpc-timeout", grpc_timeout(deadline.left()));
    for (name, value) in config.headers.iter().filter(|(n, _)| n != "host") {
        request = request.header(name, value);
    }
    if !config.headers.iter().any(|(n, _)| n == "authorization")
        && let Some(basic) = &config.authorization
    {
        request = request.header("authorization", basic);
    }
    request
        .body(())
        .map_err(|e| format!("cannot build the request: {e}"))
}

/// The answer of a response: from the headers of a trailers-only response,
/// or from the message and the trailers.
async fn answer(
    response: ureq::http::Response<h2::RecvStream>,
    progress: &Progress,
) -> Result<Reply, String> {
    let (head, mut body) = response.into_parts();
    progress.event(Event::ResponseHead {
        version: head.version,
        status: head.status,
        headers: &head.headers,
    });
    if head.status != 200 {
        return Err(format!("HTTP/2 status {}: not a gRPC server?", head.status));
    }
    if let Some(reply) = status_of(&head.headers) {
        return Ok(reply);
    }
    progress.set(Phase::Body);
    let mut message = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| reason::h2_reason(&e, true))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if message.len() + chunk.len() > MAX_MESSAGE_BYTES {
            return Err(format!("response message over {MAX_MESSAGE_BYTES} bytes"));
        }
        message.put(chunk);
    }
    let trailers = body
        .trailers()
        .await
        .map_err(|e| reason::h2_reason(&e, true))?
        .unwrap_or_default();
    progress.event(Event::BodyRead(message.len()));
    match status_of(&trailers) {
        Some(Reply::Status { code: 0, .. }) => {
            Ok(Reply::Serving(unframe(message.freeze())?.status))
        }
        Some(reply) => Ok(reply),
        None => Err("the response has no grpc-status: not a gRPC server?".into()),
    }
}
