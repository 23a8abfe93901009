//! gRPC health checks (grpc.health.v1) against an in-process tonic-health
//! server on 127.0.0.1: every verdict, per-service checks, metadata,
//! deadlines, servers that do not speak gRPC, and TLS with an rcgen CA.
#![cfg(all(feature = "grpc", feature = "tls"))]

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

use crate::support::tls::{Ca, Files};
use crate::support::{QUICK, SLACK, Scripted, closed_port, probe, response, run};

/// What the server's interceptor saw of each request's metadata.
type Seen = Arc<Mutex<Vec<tonic::metadata::MetadataMap>>>;

/// A grpc.health.v1 server (tonic-health) on 127.0.0.1 in a runtime of its
/// own; stops when dropped.
struct GrpcServer {
    port: u16,
    reporter: HealthReporter,
    seen: Seen,
    runtime: tokio::runtime::Runtime,
    stop: Option<oneshot::Sender<()>>,
}

/// The health service with a handler that takes 10 s (a server whose
/// health check hangs on a dependency).
struct Slow;

#[tonic::async_trait]
impl Health for Slow {
    async fn check(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok(tonic::Response::new(HealthCheckResponse { status: 1 }))
    }

    type WatchStream = Pin<Box<dyn tokio_stream_like::Stream + Send>>;

    async fn watch(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("no watch here"))
    }
}

/// The stream type `watch` names (never produced).
mod tokio_stream_like {
    pub trait Stream:
        tonic::codegen::tokio_stream::Stream<
            Item = Result<tonic_health::pb::HealthCheckResponse, tonic::Status>,
        >
    {
    }
}

enum Kind {
    Health,
    NoHealth,
    Slow,
}

impl GrpcServer {
    fn start(kind: Kind, tls: Option<ServerTlsConfig>) -> GrpcServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (reporter, _) = tonic_health::server::health_reporter();
        let seen: Seen = Arc::default();
        let record = seen.clone();
        let intercept = move |request: tonic::Request<()>| {
            record
                .lock()
                .expect("lock")
                .push(request.metadata().clone());
            Ok(request)
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let mut builder = Server::builder();
        if let Some(tls) = tls {
            builder = builder.tls_config(tls).expect("server TLS");
        }
        let router = match kind {
            Kind::Health => builder.add_service(HealthServer::with_interceptor(
                HealthService::from_health_reporter(reporter.clone()),
                intercept,
            )),
            Kind::Slow => builder.add_service(HealthServer::with_interceptor(Slow, intercept)),
            Kind::NoHealth => builder.add_optional_service::<HealthServer<Slow>>(None),
        };
        runtime.spawn(async move {
            let _ = router
                .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                    let _ = stopped.await;
                })
                .await;
        });
        GrpcServer {
            port,
            reporter,
            seen,
            runtime,
            stop: Some(stop),
        }
    }

    fn url(&self, scheme: &str, service: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{service}", self.port)
    }

    fn set(&self, service: &str, status: ServingStatus) {
        self.runtime
            .block_on(self.reporter.set_service_status(service, status));
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn serving() -> GrpcServer {
    let server = GrpcServer::start(Kind::Health, None);
    server.set("", ServingStatus::Serving);
    server
}

#[test]
fn serving_is_healthy_with_a_one_line_report() {
    let server = serving();
    let url = server.url("grpc", "");
    let out = run(probe().arg(&url));
    out.expect(0, QUICK)
        .stdout_starts(&format!("healthy: gRPC {url} -> SERVING in "));
    assert_eq!(out.stdout.lines().count(), 1);
}

#[test]
fn not_serving_unknown_and_service_unknown_are_unhealthy_with_their_names() {
    let server = serving();
    server.set("app.Down", ServingStatus::NotServing);
    server.set("app.Unknown", ServingStatus::Unknown);
    for (service, name) in [("/app.Down", "NOT_SERVING"), ("/app.Unknown", "UNKNOWN")] {
        let url = server.url("grpc", service);
        let out = run(probe().arg(&url));
        out.expect(1, QUICK)
            .stdout_starts(&format!("unhealthy: gRPC {url} -> {name} in "));
    }
}

#[test]
fn a_service_is_checked_by_name_and_an_unknown_one_is_named() {
    let server = serving();
    server.set("app.Ready", ServingStatus::Serving);
    run(probe().arg(server.url("grpc", "/app.Ready"))).expect(0, QUICK);
    let out = run(probe().arg(server.url("grpc", "/app.Missing")));
    out.expect(1, QUICK)
        .stdout_has(r#"service "app.Missing" is unknown to the server (gRPC NOT_FOUND)"#);
    // Set NOT_SERVING at run time: the next check says so.
    server.set("app.Ready", ServingStatus::NotServing);
    run(probe().arg(server.url("grpc", "/app.Ready")))
        .expect(1, QUICK)
        .stdout_has("-> NOT_SERVING");
}

#[test]
fn a_server_without_the_health_service_is_named_as_such() {
    let server = GrpcServer::start(Kind::NoHealth, None);
    let out = run(probe().arg(server.url("grpc", "")));
    out.expect(1, QUICK)
        .stdout_has("the server has no grpc.health.v1 service (gRPC UNIMPLEMENTED)");
}

#[test]
fn headers_go_as_metadata_with_our_user_agent_and_the_deadline() {
    let server = serving();
    let out = run(probe()
        .env("TOKEN", "t0k3n")
        .args([
            "-t",
            "2s",
            "-H",
            "Authorization: Bearer ${TOKEN}",
            "-H",
            "X-Tenant: a",
        ])
        .arg(server.url("grpc", "")));
    out.expect(0, QUICK);
    let seen = server.seen.lock().expect("lock")[0].clone();
    let get = |k: &str| {
        seen.get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(get("authorization").as_deref(), Some("Bearer t0k3n"));
    assert_eq!(get("x-tenant").as_deref(), Some("a"));
    assert!(
        get("user-agent").is_some_and(|ua| ua.starts_with("healthprobe/")),
        "{seen:?}"
    );
    let timeout = get("grpc-timeout").unwrap_or_default();
    let millis: u64 = timeout.trim_end_matches('m').parse().unwrap_or(0);
    assert!(
        timeout.ends_with('m') && (1500..=2000).contains(&millis),
        "{timeout}"
    );
}

#[test]
fn a_handler_slower_than_the_timeout_ends_at_the_deadline() {
    let server = GrpcServer::start(Kind::Slow, None);
    let out = run(probe().args(["-t", "1s", &server.url("grpc", "")]));
    out.expect(1, Duration::from_secs(1) + SLACK);
    assert!(out.elapsed >= Duration::from_millis(900), "{out:#?}");
    out.stdout_has("timed out after 1s");
}

#[test]
fn servers_that_do_not_speak_grpc_are_one_line_reasons() {
    // Accepts, never speaks HTTP/2.
    let silent = Scripted::start(|c| c.stall());
    let url = format!("grpc://127.0.0.1:{}", silent.addr.port());
    let out = run(probe().args(["-t", "1s", &url]));
    out.expect(1, Duration::from_secs(1) + SLACK)
        .stdout_has("timed out after 1s");
    // An HTTP/1 server.
    let http1 = Scripted::reply(response("400 Bad Request", "", "no"));
    let url = format!("grpc://127.0.0.1:{}", http1.addr.port());
    let out = run(probe().arg(&url));
    out.expect(1, QUICK)
        .stdout_has("not an HTTP/2 (gRPC) server?");
    assert_eq!(out.stdout.lines().count(), 1);
    // Refused.
    let url = format!("grpc://127.0.0.1:{}", closed_port());
    run(probe().arg(&url))
        .expect(1, QUICK)
        .stdout_has("connection refused");
}

#[test]
fn grpc_works_with_other_targets_json_wait_resolve_and_a_command() {
    let server = serving();
    let http = Scripted::reply(response("200 OK", "", "ok"));
    let grpc = server.url("grpc", "");
    let out = run(probe().args([
        "-o",
        "json",
        &grpc,
        &http.url("/"),
        &format!("tcp://127.0.0.1:{}", server.port),
    ]));
    out.expect(0, QUICK);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["checks"][0]["grpc_status"], "SERVING");
    assert_eq!(doc["checks"][0]["method"], "gRPC");
    assert!(doc["checks"][1].get("grpc_status").is_none(), "{doc}");
    let refused = format!("grpc://127.0.0.1:{}", closed_port());
    let out = run(probe().args(["-o", "json", &refused]));
    out.expect(1, QUICK);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["checks"][0]["grpc_status"], serde_json::Value::Null);
    let resolve = format!("grpc.test:{}:127.0.0.1", server.port);
    run(probe().args([
        "--resolve",
        &resolve,
        &format!("grpc://grpc.test:{}", server.port),
    ]))
    .expect(0, QUICK);
    let out = run(probe()
        .env("PATH", "/usr/bin:/bin")
        .args(["--wait", "2s", &grpc, "--", "printf", "started"]));
    out.expect(0, QUICK);
    assert!(out.stdout.ends_with("started"), "{}", out.stdout);
}

fn tls_server(ca: &Ca, client_ca: Option<&Ca>) -> GrpcServer {
    let leaf = ca.leaf(&["grpc.internal", "127.0.0.1"], false);
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(&leaf.pem, &leaf.key_pem));
    if let Some(client_ca) = client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(&client_ca.cert.pem));
    }
    let server = GrpcServer::start(Kind::Health, Some(tls));
    server.set("", ServingStatus::Serving);
    server
}

#[test]
fn grpcs_is_verified_against_a_private_ca_and_takes_the_https_flags() {
    let files = Files::new("grpcs");
    let ca = Ca::new();
    let server = tls_server(&ca, None);
    let cacert = files.write("ca.pem", &ca.cert.pem);
    let url = server.url("grpcs", "");
    run(probe().args(["--cacert", &cacert, &url]))
        .expect(0, QUICK)
        .stdout_has("-> SERVING");
    let out = run(probe().arg(&url));
    out.expect(1, QUICK)
        .stdout_has("certificate verify failed: unknown issuer");
    let other = Ca::new();
    let out = run(probe().args(["--cacert", &files.write("other.pem", &other.cert.pem), &url]));
    out.expect(1, QUICK).stdout_has("certificate verify failed");
    run(probe().args(["--cacert", &cacert, "--servername", "grpc.internal", &url]))
        .expect(0, QUICK);
    let out = run(probe().args(["--cacert", &cacert, "--servername", "wrong.internal", &url]));
    out.expect(1, QUICK).stdout_has("name mismatch");
    run(probe().args(["-k", &url]))
        .expect(0, QUICK)
        .stdout_has("(insecure)");
    // grpc:// (cleartext) to a TLS port: not HTTP/2 as spoken.
    let out = run(probe().args(["-t", "1s", &server.url("grpc", "")]));
    out.expect(1, Duration::from_secs(1) + SLACK);
}

#[test]
fn grpcs_with_mutual_tls_needs_the_client_certificate() {
    let files = Files::new("grpcs-mtls");
    let ca = Ca::new();
    let clients = Ca::new();
    let server = tls_server(&ca, Some(&clients));
    let cacert = files.write("ca.pem", &ca.cert.pem);
    let url = server.url("grpcs", "");
    let out = run(probe().args(["--cacert", &cacert, &url]));
    out.expect(1, QUICK);
    assert_eq!(out.stdout.lines().count(), 1, "{out:#?}");
    let client = clients.leaf(&["client"], false);
    run(probe().args([
        "--cacert",
        &cacert,
        "--cert",
        &files.write("client.pem", &client.pem),
        "--key",
        &files.write("client.key", &client.key_pem),
        &url,
    ]))
    .expect(0, QUICK)
    .stdout_has("-> SERVING");
}
