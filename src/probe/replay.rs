//! Scripted servers for the fuzz targets in `fuzz/` (compiled only under
//! `cargo fuzz`, which sets `--cfg fuzzing`): what a fuzzer chose takes the
//! place of the network, and everything above the socket is the code a real
//! probe runs.
//!
//! - HTTP: a ureq [`Transport`] (ureq's documented extension point) that
//!   hands the check the scripted reply bytes, a few at a time, and then
//!   end of stream; every connection (each same-host redirect) gets the
//!   same reply again.
//! - gRPC: an in-memory duplex with h2's own server on the far end, which
//!   answers the Check RPC with the scripted status, headers, message
//!   chunks and trailers.
//!
//! A fuzz target sets the script with [`set`] before it runs the probe and
//! [`clear`]s it after; no socket is opened while a script is set.

use std::sync::{Arc, Mutex};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

/// What the scripted server answers.
#[derive(Debug, Clone)]
pub enum Script {
    /// The raw bytes of an HTTP/1 reply, delivered `chunk` bytes per read
    /// (at least 1).
    Http {
        /// The reply, status line first.
        reply: Arc<[u8]>,
        /// Bytes per read.
        chunk: usize,
    },
    /// A gRPC reply, as h2's server sends it.
    #[cfg(feature = "grpc")]
    Grpc(Arc<GrpcReply>),
}

/// The HTTP/2 response to the Check RPC: status, headers, DATA frames and
/// trailers. Header names and values that HTTP/2 forbids are left out.
#[derive(Debug, Clone, Default)]
pub struct GrpcReply {
    /// The `:status` (200 for a gRPC server), 200-599.
    pub status: u16,
    /// Response headers, e.g. `grpc-status` of a trailers-only response.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The body, one DATA frame per element.
    pub data: Vec<Vec<u8>>,
    /// The trailers (`grpc-status`, `grpc-message`), when sent.
    pub trailers: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

static SCRIPT: Mutex<Option<Script>> = Mutex::new(None);

/// Makes every check answer from `script` until [`clear`].
pub fn set(script: Script) {
    *SCRIPT.lock().unwrap_or_else(|e| e.into_inner()) = Some(script);
}

/// Back to no script.
pub fn clear() {
    *SCRIPT.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The HTTP script, when one is set.
pub(super) fn http() -> Option<(Arc<[u8]>, usize)> {
    match SCRIPT.lock().unwrap_or_else(|e| e.into_inner()).as_ref()? {
        Script::Http { reply, chunk } => Some((reply.clone(), (*chunk).max(1))),
        #[cfg(feature = "grpc")]
        Script::Grpc(_) => None,
    }
}

/// Connector: a [`ReplayTransport`] for every connection.
#[derive(Debug)]
pub(super) struct ReplayConnector {
    pub(super) reply: Arc<[u8]>,
    pub(super) chunk: usize,
}

impl Connector<()> for ReplayConnector {
    type Out = ReplayTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let config = details.config;
        Ok(Some(ReplayTransport {
            reply: self.reply.clone(),
            at: 0,
            chunk: self.chunk,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
        }))
    }
}

/// The scripted reply, read `chunk` bytes at a time; what is sent is
/// dropped.
#[derive(Debug)]
pub(super) struct ReplayTransport {
    reply: Arc<[u8]>,
    at: usize,
    chunk: usize,
    buffers: LazyBuffers,
}

impl Transport for ReplayTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        _amount: usize,
        _timeout: NextTimeout,
    ) -> Result<(), ureq::Error> {
        Ok(())
    }

    fn await_input(&mut self, _timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let rest = &self.reply[self.at..];
        let input = self.buffers.input_append_buf();
        let amount = rest.len().min(self.chunk).min(input.len());
        input[..amount].copy_from_slice(&rest[..amount]);
        self.buffers.input_appended(amount);
        self.at += amount;
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        false
    }
}

/// The gRPC script, when one is set: the client's end of an in-memory
/// connection whose server (h2's, spawned on the current tokio runtime)
/// answers with it.
#[cfg(feature = "grpc")]
pub(super) fn grpc() -> Option<tokio::io::DuplexStream> {
    let reply = match SCRIPT.lock().unwrap_or_else(|e| e.into_inner()).as_ref()? {
        Script::Grpc(reply) => reply.clone(),
        Script::Http { .. } => return None,
    };
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(serve(server, reply));
    Some(client)
}

/// h2's server: accepts the one request, answers it from `reply`, and
/// keeps the connection going until the client is done.
#[cfg(feature = "grpc")]
async fn serve(io: tokio::io::DuplexStream, reply: Arc<GrpcReply>) {
    let Ok(mut connection) = h2::server::handshake(io).await else {
        return;
    };
    let Some(Ok((_request, mut respond))) = connection.accept().await else {
        return;
    };
    tokio::spawn(async move {
        if answer(&mut respond, &reply).await.is_err() {
            // h2 refused part of the reply (a connection-specific header in
            // the trailers, say): reset the stream, as a server that fails
            // mid-answer does, instead of leaving the client to wait for
            // the rest until its deadline (5 s per such input: 15 of the
            // corpus replay's 15.4 s went to three of them).
            respond.send_reset(h2::Reason::INTERNAL_ERROR);
        }
    });
    while let Some(Ok(_)) = connection.accept().await {}
}

#[cfg(feature = "grpc")]
async fn answer(
    respond: &mut h2::server::SendResponse<bytes::Bytes>,
    reply: &GrpcReply,
) -> Result<(), h2::Error> {
    use ureq::http::{HeaderMap, HeaderName, HeaderValue, Response};
    let map = |pairs: &[(Vec<u8>, Vec<u8>)]| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            {
                map.append(name, value);
            }
        }
        map
    };
    let mut response = Response::new(());
    *response.status_mut() = ureq::http::StatusCode::from_u16(reply.status.clamp(200, 599))
        .unwrap_or(ureq::http::StatusCode::OK);
    *response.headers_mut() = map(&reply.headers);
    let ends = reply.data.is_empty() && reply.trailers.is_none();
    let mut send = respond.send_response(response, ends)?;
    for (i, data) in reply.data.iter().enumerate() {
        let last = i + 1 == reply.data.len() && reply.trailers.is_none();
        send.reserve_capacity(data.len());
        send.send_data(bytes::Bytes::copy_from_slice(data), last)?;
    }
    if let Some(trailers) = &reply.trailers {
        send.send_trailers(map(trailers))?;
    }
    Ok(())
}
