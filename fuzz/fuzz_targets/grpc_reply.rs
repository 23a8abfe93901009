//! gRPC: arbitrary responses to the grpc.health.v1 Check RPC, sent by h2's
//! own server over an in-memory connection (fuzz/src/lib.rs): the
//! `:status`, headers (a trailers-only `grpc-status`), DATA frames (the
//! 5-byte length prefix, the compressed flag, the protobuf message) and
//! trailers, into the decoder and verdict a real probe uses. Never a panic;
//! exit 0 or 1; one text line; JSON that parses and agrees; healthy only
//! for status 200 and a `SERVING` answer.
#![no_main]

use arbitrary::Arbitrary;
use healthprobe::internals::Hooks;
use healthprobe_fuzz::{checked_reports, grpc_server, run, with, GrpcReply};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Name {
    GrpcStatus,
    GrpcMessage,
    ContentType,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    /// A status code as decimal text.
    Code(u8),
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Chunk {
    /// A well-formed HealthCheckResponse with this serving status, framed.
    Health(i32),
    /// A prefix: compressed flag and declared length.
    Prefix(u8, u32),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    not_200: Option<u16>,
    headers: Vec<(Name, Value)>,
    data: Vec<Chunk>,
    trailers: Option<Vec<(Name, Value)>>,
    service: bool,
}

fn pairs(list: &[(Name, Value)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.iter()
        .map(|(name, value)| {
            let name = match name {
                Name::GrpcStatus => "grpc-status".to_string(),
                Name::GrpcMessage => "grpc-message".to_string(),
                Name::ContentType => "content-type".to_string(),
                Name::Other(other) => other.to_ascii_lowercase(),
            };
            let value = match value {
                Value::Code(code) => code.to_string().into_bytes(),
                Value::Text(text) => text.clone().into_bytes(),
                Value::Bytes(bytes) => bytes.clone(),
            };
            (name.into_bytes(), value)
        })
        .collect()
}

/// A protobuf varint.
fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn chunk(chunk: &Chunk) -> Vec<u8> {
    match chunk {
        Chunk::Health(status) => {
            let mut message = Vec::new();
            if *status != 0 {
                message.push(0x08);
                varint(*status as i64 as u64, &mut message);
            }
            let mut out = vec![0];
            out.extend((message.len() as u32).to_be_bytes());
            out.extend(message);
            out
        }
        Chunk::Prefix(flag, length) => {
            let mut out = vec![*flag];
            out.extend(length.to_be_bytes());
            out
        }
        Chunk::Raw(bytes) => bytes.clone(),
    }
}

fuzz_target!(|input: Input| {
    let status = input.not_200.map_or(200, |s| 200 + s % 400);
    let reply = GrpcReply {
        status,
        headers: pairs(&input.headers),
        data: input.data.iter().map(chunk).collect(),
        trailers: input.trailers.as_deref().map(pairs),
    };
    let url = match input.service {
        true => "grpc://127.0.0.1:50051/app.Ready",
        false => "grpc://127.0.0.1:50051",
    };
    let base = [
        "healthprobe",
        "-v",
        "--timeout",
        "5s",
        "-H",
        "authorization: Bearer s3cr3t-t0ken",
        url,
    ];
    let outcome = |extra: &[&str]| {
        let hooks = Hooks {
            network: grpc_server(reply.clone()),
            dry_run: false,
        };
        let mut args = with(&base, &[]);
        args.extend(extra.iter().map(Into::into));
        run(&args, hooks)
    };
    let text = outcome(&[]);
    let json = outcome(&["-o", "json"]);
    let value = checked_reports(&text, &json);
    if text.exit == 0 {
        assert_eq!(status, 200, "{text:?}");
        assert_eq!(value["checks"][0]["serving_status"], "SERVING", "{json:?}");
    }
    for written in [&text.out, &text.err, &json.out, &json.err] {
        assert!(!written.contains("s3cr3t-t0ken"), "{written}");
    }
});
