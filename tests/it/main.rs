//! The integration tests, one binary (as ripgrep and xh do): the real
//! healthprobe binary against servers on loopback.
//!
//! - `cli`: every flag and variable, the report formats;
//! - `hostile`: servers that stall, lie or break, bad input, signals;
//! - `tls`: HTTPS against rustls servers with rcgen certificates;
//! - `wait`: `--wait` and `--interval`;
//! - `tcp`: `tcp://` targets;
//! - `unix_socket`: `--unix-socket`;
//! - `grpc`: grpc.health.v1 against an in-process tonic-health server;
//! - `habits`: a curl user's flags, the environment Compose and Kubernetes
//!   create, one validation rule;
//! - `probes`: `--probes FILE`, readiness, `--status`, exec probes, the stop;
//! - `entrypoint`: `-- CMD` run in place of the probe once healthy;
//! - `values`: `${NAME}` in values, credentials that are never printed;
//! - `regressions`: one test per defect, named after it;
//! - `trust`: the promises about secrets, durations, timeouts and messages;
//! - `support`: the scripted server, tiny_http, a black hole, the command
//!   helper and the assertion helpers.
//!
//! `HEALTHPROBE_TEST_BIN` (and `HEALTHPROBE_TEST_RUNNER`, such as
//! `qemu-aarch64-static`) run the same tests against another binary.

mod cli;
mod entrypoint;
mod grpc;
mod habits;
mod hostile;
mod probes;
mod regressions;
mod supervise;
mod support;
mod tcp;
mod tls;
mod trust;
mod unix_socket;
mod values;
mod wait;
