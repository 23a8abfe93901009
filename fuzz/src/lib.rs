//! What the fuzz targets share: healthprobe run through its one pipeline
//! (`healthprobe::run_with`, the same `run` the binary calls) with its
//! output captured, and the scripted servers that answer a check in place
//! of the network, through the library's extension points (ureq's
//! `Connector`/`Transport` for HTTP, an in-memory stream for gRPC). Nothing
//! here opens a socket.

use std::ffi::OsString;
use std::io::Write;
use std::sync::{Arc, Mutex};

use healthprobe::internals::{Hooks, HttpLink, Network};
use ureq::unversioned::transport::{Buffers, LazyBuffers, NextTimeout, Transport};

/// What a run wrote and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit status.
    pub exit: i32,
    /// Its standard output.
    pub out: String,
    /// Its standard error.
    pub err: String,
}

/// A writer into shared memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// Runs healthprobe with `args` (program name first) and `hooks`, as the
/// binary does, its output kept.
pub fn run(args: &[OsString], hooks: Hooks) -> Outcome {
    let (out, err) = (Capture::default(), Capture::default());
    let exit = healthprobe::run_with(
        args.iter().cloned(),
        Box::new(out.clone()),
        Box::new(err.clone()),
        hooks,
    )
    .code();
    Outcome {
        exit,
        out: out.text(),
        err: err.text(),
    }
}

/// Where a scripted reply puts what the client sent, as a server that
/// echoes the request does.
pub const ECHO: &[u8] = b"{{echo}}";

/// An HTTP server as a link of ureq's connector chain: each connection
/// (each same-host redirect) gets `reply`, `chunk` bytes per read (at
/// least 1), then end of stream; [`ECHO`] in it becomes the bytes the
/// client sent.
pub fn http_server(reply: &[u8], chunk: usize) -> Network {
    let reply: Arc<[u8]> = reply.into();
    let link: HttpLink = Arc::new(move |details| {
        let config = details.config;
        Ok(Box::new(Scripted {
            reply: reply.clone(),
            sent: Vec::new(),
            at: 0,
            chunk: chunk.max(1),
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
        }) as Box<dyn Transport>)
    });
    Network {
        http: Some(link),
        ..Network::default()
    }
}

/// The scripted reply, read `chunk` bytes at a time.
#[derive(Debug)]
struct Scripted {
    reply: Arc<[u8]>,
    /// What the client sent, until the reply starts.
    sent: Vec<u8>,
    at: usize,
    chunk: usize,
    buffers: LazyBuffers,
}

impl Transport for Scripted {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), ureq::Error> {
        let output = &self.buffers.output()[..amount];
        self.sent.extend_from_slice(output);
        Ok(())
    }

    fn await_input(&mut self, _: NextTimeout) -> Result<bool, ureq::Error> {
        if self.at == 0 && self.reply.windows(ECHO.len()).any(|w| w == ECHO) {
            let mut echoed = Vec::new();
            let mut rest = &self.reply[..];
            while let Some(i) = rest.windows(ECHO.len()).position(|w| w == ECHO) {
                echoed.extend_from_slice(&rest[..i]);
                echoed.extend_from_slice(&self.sent);
                rest = &rest[i + ECHO.len()..];
            }
            echoed.extend_from_slice(rest);
            self.reply = echoed.into();
        }
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

/// A gRPC server: h2's own, over an in-memory stream, answering the Check
/// RPC with `reply`.
pub fn grpc_server(reply: GrpcReply) -> Network {
    let reply = Arc::new(reply);
    Network {
        grpc: Some(Arc::new(move || {
            let (client, server) = tokio::io::duplex(64 * 1024);
            tokio::spawn(serve(server, reply.clone()));
            client
        })),
        ..Network::default()
    }
}

/// h2's server: accepts the one request, answers it from `reply`, and
/// keeps the connection going until the client is done.
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
            // the rest until its deadline.
            respond.send_reset(h2::Reason::INTERNAL_ERROR);
        }
    });
    while let Some(Ok(_)) = connection.accept().await {}
}

async fn answer(
    respond: &mut h2::server::SendResponse<bytes::Bytes>,
    reply: &GrpcReply,
) -> Result<(), h2::Error> {
    use http::{HeaderMap, HeaderName, HeaderValue, Response};
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
    *response.status_mut() =
        http::StatusCode::from_u16(reply.status.clamp(200, 599)).unwrap_or(http::StatusCode::OK);
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

/// Checks what every report must be: exit 0 or 1, one text line per
/// target (`text`), JSON that parses and agrees with the exit (`json`).
/// Returns the JSON.
pub fn checked_reports(text: &Outcome, json: &Outcome) -> serde_json::Value {
    assert!(text.exit == 0 || text.exit == 1, "{text:?}");
    assert_eq!(text.exit, json.exit, "{text:?} {json:?}");
    assert_eq!(text.out.matches('\n').count(), 1, "{text:?}");
    assert!(text.out.ends_with('\n'), "{text:?}");
    let value: serde_json::Value =
        serde_json::from_str(&json.out).unwrap_or_else(|e| panic!("{e}: {json:?}"));
    assert_eq!(
        value["healthy"],
        serde_json::Value::Bool(json.exit == 0),
        "{json:?}"
    );
    value
}

/// A directory of this fuzzer's own, for the files a run creates (`-o
/// FILE`). The working directory is never changed: libFuzzer reads its
/// corpus by relative paths.
pub fn scratch() -> &'static str {
    static DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("healthprobe-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir.to_string_lossy().into_owned()
    })
}

/// `args` with `extra` words inserted after the program name.
pub fn with(args: &[&str], extra: &[&str]) -> Vec<OsString> {
    let mut all: Vec<OsString> = args[..1].iter().map(OsString::from).collect();
    all.extend(extra.iter().map(OsString::from));
    all.extend(args[1..].iter().map(OsString::from));
    all
}
