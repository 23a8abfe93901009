//! gRPC's own wire format around the HTTP/2 that h2 speaks: the
//! grpc.health.v1 messages (prost), the 5-byte message prefix ("Length-
//! Prefixed-Message" of gRPC over HTTP/2), `grpc-timeout`, `grpc-status`
//! and the names of status codes and serving statuses.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;
use ureq::http::HeaderMap;

/// What came back: a serving status, or a gRPC status other than OK.
pub(super) enum Reply {
    /// The `ServingStatus` number of the health response.
    Serving(i32),
    /// A `grpc-status` other than OK, with its `grpc-message`.
    Status { code: u32, message: String },
}

/// `grpc.health.v1.HealthCheckRequest`.
#[derive(Clone, PartialEq, Message)]
pub(super) struct HealthCheckRequest {
    #[prost(string, tag = "1")]
    service: String,
}

/// `grpc.health.v1.HealthCheckResponse` (the `ServingStatus` enum read as
/// its number, which is what it is on the wire).
#[derive(Clone, PartialEq, Message)]
pub(super) struct HealthCheckResponse {
    #[prost(int32, tag = "1")]
    pub(super) status: i32,
}

/// The RPC's path.
pub(super) const CHECK_PATH: &str = "/grpc.health.v1.Health/Check";

/// Largest response message read, in bytes (a health response is 2).
pub(super) const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The name of a `ServingStatus` number (grpc.health.v1).
pub(super) fn serving_status(n: i32) -> &'static str {
    match n {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "an unknown serving status",
    }
}

/// The name of a gRPC status code (grpc/status codes).
pub(super) fn code_name(code: u32) -> String {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES
        .get(code as usize)
        .map_or_else(|| format!("code {code}"), |n| n.to_string())
}

/// `grpc-timeout` for `d`: milliseconds (`1500m`), at least 1.
pub(super) fn grpc_timeout(d: Duration) -> String {
    format!("{}m", d.as_millis().clamp(1, 99_999_999))
}

/// The request message with its gRPC prefix: not compressed, 4-byte
/// big-endian length.
pub(super) fn frame(service: &str) -> Bytes {
    let message = HealthCheckRequest {
        service: service.to_string(),
    }
    .encode_to_vec();
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(0);
    out.put_u32(message.len() as u32);
    out.put_slice(&message);
    out.freeze()
}

/// The response message from its gRPC prefix.
pub(super) fn unframe(mut data: Bytes) -> Result<HealthCheckResponse, String> {
    if data.len() < 5 {
        return Err(format!(
            "a {}-byte response is not a gRPC message",
            data.len()
        ));
    }
    let compressed = data.get_u8();
    let length = data.get_u32() as usize;
    if compressed != 0 {
        return Err("the response is compressed, which was not asked for".into());
    }
    if data.len() != length {
        return Err(format!(
            "the response message says {length} bytes and has {}",
            data.len()
        ));
    }
    HealthCheckResponse::decode(data)
        .map_err(|e| format!("the response is not a HealthCheckResponse ({e})"))
}

/// grpc-status and grpc-message (percent-encoded) from headers or trailers.
pub(super) fn status_of(headers: &HeaderMap) -> Option<Reply> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .map(|m| {
            percent_encoding::percent_decode_str(m)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    Some(Reply::Status { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_grpcs_prefix_and_round_trip() {
        let framed = frame("app.Ready");
        assert_eq!(&framed[..5], &[0, 0, 0, 0, 11]);
        assert_eq!(&framed[5..7], &[0x0a, 9]);
        let response = HealthCheckResponse { status: 1 }.encode_to_vec();
        let mut wire = vec![0, 0, 0, 0, response.len() as u8];
        wire.extend(&response);
        assert_eq!(unframe(Bytes::from(wire)).map(|r| r.status), Ok(1));
        assert!(unframe(Bytes::from_static(&[1, 0, 0, 0, 0])).is_err());
        assert!(unframe(Bytes::from_static(&[0, 0, 0, 0, 9, 8])).is_err());
        assert!(unframe(Bytes::from_static(&[0, 0])).is_err());
    }

    #[test]
    fn names_follow_grpc_health_v1_and_grpc_status_codes() {
        assert_eq!(
            [0, 1, 2, 3].map(serving_status),
            ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]
        );
        assert_eq!(code_name(5), "NOT_FOUND");
        assert_eq!(code_name(16), "UNAUTHENTICATED");
        assert_eq!(code_name(99), "code 99");
        assert_eq!(grpc_timeout(Duration::from_millis(1500)), "1500m");
        assert_eq!(grpc_timeout(Duration::ZERO), "1m");
    }
}
