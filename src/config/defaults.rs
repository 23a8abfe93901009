//! The defaults of the flags, each named in its flag's help (a test in
//! `config` checks that `--help` says each one).

/// Default `--host`: the container's own loopback.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default `--timeout`: 5 s.
pub const DEFAULT_TIMEOUT: &str = "5s";
/// Default `--method`.
pub const DEFAULT_METHOD: &str = "GET";
/// Default `--max-body`: 64 KiB.
pub const DEFAULT_MAX_BODY: &str = "64KiB";
/// Default `--interval` between `--wait` attempts: 1 s.
pub const DEFAULT_INTERVAL: &str = "1s";
/// Default `--output`.
pub const DEFAULT_OUTPUT: &str = "text";
/// The default healthy set: the Kubernetes httpGet rule, 200 ≤ status < 400.
pub const DEFAULT_STATUS_SET: &str = "200-399";
/// Default `--max-redirs`: same-host redirects followed (the Kubernetes and
/// Go limit).
pub const DEFAULT_MAX_REDIRS: &str = "10";
/// Default `--period` (Kubernetes' periodSeconds).
pub const DEFAULT_PERIOD: &str = "10s";
/// Default `--failure-threshold` (Kubernetes' failureThreshold).
pub const DEFAULT_FAILURE_THRESHOLD: &str = "3";
/// Default `--initial-delay` (Kubernetes' initialDelaySeconds).
pub const DEFAULT_INITIAL_DELAY: &str = "0s";
/// Default `--termination-grace-period` (Kubernetes'
/// terminationGracePeriodSeconds).
pub const DEFAULT_GRACE_PERIOD: &str = "30s";

/// Largest request head sent (request line and headers), in bytes: 64 KiB,
/// what h11 (uvicorn's HTTP/1 parser) accepts; nginx takes 8 KiB per line
/// by default and answers 414 or 400 above it. A larger request is refused
/// before anything is sent.
pub const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;
