//! HTTPS probes against real TLS servers (rustls) on 127.0.0.1, with
//! certificates generated per test run (rcgen): verification, private CAs,
//! expiry, names, --servername, --insecure, mutual TLS, and protocol mix-ups.
#![cfg(feature = "tls")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::tls::{Ca, Cert, Files, self_signed, self_signed_cn_only};
use crate::support::{Acceptor, QUICK, Scripted, probe, response, run};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, date_time_ymd};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A real TLS server on 127.0.0.1: rustls, one thread per connection,
/// answering 200 `{"status":"ok"}` after the handshake; optionally
/// requiring a client certificate signed by `client_ca`.
struct TlsServer {
    port: u16,
    handshakes: Arc<AtomicUsize>,
    _acceptor: Acceptor,
}

impl TlsServer {
    fn start(chain: &[&Cert], key: &Cert, client_ca: Option<&Cert>) -> TlsServer {
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(ca.der.clone()).unwrap();
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider(),
                )
                .build()
                .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let chain: Vec<CertificateDer<'static>> = chain.iter().map(|c| c.der.clone()).collect();
        let config = Arc::new(
            builder
                .with_single_cert(chain, PrivateKeyDer::Pkcs8(key.key.clone_key()))
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let count = handshakes.clone();
        let acceptor = Acceptor::spawn(
            move || move || listener.accept().map(|(tcp, _)| tcp),
            move |tcp: std::net::TcpStream| {
                let (config, count) = (config.clone(), count.clone());
                std::thread::spawn(move || {
                    let _ = tcp.set_nonblocking(false);
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(3)));
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = tls.write_all(&response("200 OK", "", "{\"status\":\"ok\"}"));
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            },
        );
        TlsServer {
            port,
            handshakes,
            _acceptor: acceptor,
        }
    }

    fn url(&self, host: &str) -> String {
        format!("https://{host}:{}/health", self.port)
    }
}

fn resolve(server: &TlsServer, name: &str) -> String {
    format!("{name}:{}:127.0.0.1", server.port)
}

#[test]
fn self_signed_leaf_is_unknown_issuer_without_cacert_and_healthy_with_it() {
    let leaf = self_signed(&["localhost"]);
    let server = TlsServer::start(&[&leaf], &leaf, None);
    let files = Files::new("self-signed");
    let out = run(probe().arg(server.url("localhost")));
    out.expect(1, QUICK);
    assert!(
        out.stdout
            .contains("certificate verify failed: unknown issuer"),
        "{}",
        out.stdout
    );
    let cacert = files.write("leaf.pem", &leaf.pem);
    let out = run(probe().args(["--cacert", &cacert, &server.url("localhost")]));
    out.expect(0, QUICK);
    out.stdout_starts(&format!(
        "healthy: GET {} -> 200 OK in ",
        server.url("localhost")
    ));
    run(probe()
        .env("HEALTHPROBE_CACERT", &cacert)
        .arg(server.url("localhost")))
    .expect(0, QUICK);
}

#[test]
fn private_ca_with_cacert_is_healthy() {
    let ca = Ca::new();
    let leaf = ca.leaf(&["app.internal"], false);
    let server = TlsServer::start(&[&leaf, &ca.cert], &leaf, None);
    let files = Files::new("private-ca");
    let cacert = files.write("ca.pem", &ca.cert.pem);
    let url = format!("https://app.internal:{}/health", server.port);
    run(probe().args([
        "--resolve",
        &resolve(&server, "app.internal"),
        "--cacert",
        &cacert,
        &url,
    ]))
    .expect(0, QUICK);
    // Without the CA: the bundled Mozilla roots do not know it.
    let out = run(probe().args(["--resolve", &resolve(&server, "app.internal"), &url]));
    out.expect(1, QUICK);
    out.stdout_has("unknown issuer");
}

#[test]
fn expired_certificate_is_unhealthy_unless_insecure() {
    let ca = Ca::new();
    let leaf = ca.leaf(&["localhost"], true);
    let server = TlsServer::start(&[&leaf], &leaf, None);
    let files = Files::new("expired");
    let cacert = files.write("ca.pem", &ca.cert.pem);
    let out = run(probe().args(["--cacert", &cacert, &server.url("localhost")]));
    out.expect(1, QUICK);
    out.stdout_has("certificate has expired");
    let out = run(probe().args(["--insecure", &server.url("localhost")]));
    out.expect(0, QUICK);
    assert!(
        out.stdout.trim_end().ends_with("(insecure)"),
        "{}",
        out.stdout
    );
}

#[test]
fn name_mismatch_is_unhealthy_and_servername_fixes_it() {
    let ca = Ca::new();
    let leaf = ca.leaf(&["app.internal"], false);
    let server = TlsServer::start(&[&leaf], &leaf, None);
    let files = Files::new("names");
    let cacert = files.write("ca.pem", &ca.cert.pem);
    let by_ip = server.url("127.0.0.1");
    let out = run(probe().args(["--cacert", &cacert, &by_ip]));
    out.expect(1, QUICK);
    out.stdout_has("name mismatch");
    let out = run(probe().args(["--cacert", &cacert, "--servername", "app.internal", &by_ip]));
    out.expect(0, QUICK);
    assert!(
        out.stdout
            .starts_with(&format!("healthy: GET {by_ip} -> 200 OK")),
        "{}",
        out.stdout
    );
    run(probe().args([
        "--cacert",
        &cacert,
        "--servername",
        "other.internal",
        &by_ip,
    ]))
    .expect(1, QUICK);
    run(probe().args(["-k", &by_ip])).expect(0, QUICK);
    let out = run(probe().args(["--servername", "not a name", &by_ip]));
    out.expect(1, QUICK);
    out.stderr_has("--servername");
}

#[test]
fn insecure_accepts_every_bad_certificate() {
    let stranger = self_signed(&["somewhere.else"]);
    let server = TlsServer::start(&[&stranger], &stranger, None);
    let out = run(probe().args(["--insecure", &server.url("127.0.0.1")]));
    out.expect(0, QUICK);
    out.stdout_has("(insecure)");
    run(probe()
        .env("HEALTHPROBE_INSECURE", "1")
        .arg(server.url("127.0.0.1")))
    .expect(0, QUICK);
}

#[test]
fn server_requiring_a_client_certificate() {
    let ca = Ca::new();
    let leaf = ca.leaf(&["localhost"], false);
    let client = ca.leaf(&["probe"], false);
    let server = TlsServer::start(&[&leaf], &leaf, Some(&ca.cert));
    let files = Files::new("mtls");
    let cacert = files.write("ca.pem", &ca.cert.pem);
    let cert = files.write("client.pem", &client.pem);
    let key = files.write("client.key", &client.key_pem);
    let url = server.url("localhost");
    let out = run(probe().args(["--cacert", &cacert, &url]));
    out.expect(1, QUICK);
    out.stdout_has("client certificate");
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 0);
    run(probe().args(["--cacert", &cacert, "--cert", &cert, "--key", &key, &url])).expect(0, QUICK);
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1);
    // Certificate and key in one file, and through the environment.
    let both = files.write("both.pem", &format!("{}{}", client.pem, client.key_pem));
    run(probe()
        .env("HEALTHPROBE_CACERT", &cacert)
        .env("HEALTHPROBE_CERT", &both)
        .arg(&url))
    .expect(0, QUICK);
    // A client certificate from another CA is refused by the server.
    let stranger = self_signed(&["probe"]);
    let cert = files.write("stranger.pem", &stranger.pem);
    let key = files.write("stranger.key", &stranger.key_pem);
    run(probe().args(["--cacert", &cacert, "--cert", &cert, "--key", &key, &url])).expect(1, QUICK);
}

#[test]
fn plain_http_server_probed_with_https_fails_quickly() {
    // A plain HTTP server answers the ClientHello with an HTTP error at once.
    let server = Scripted::start_unread(|mut c| {
        c.send(&response("400 Bad Request", "", "plain HTTP here"));
    });
    let url = format!("https://127.0.0.1:{}/", server.addr.port());
    let out = run(probe().args(["-k", &url]));
    out.expect(1, Duration::from_secs(1));
    out.stdout_has("TLS handshake failed");
}

#[test]
fn https_server_probed_with_http_is_unhealthy() {
    let leaf = self_signed(&["localhost"]);
    let server = TlsServer::start(&[&leaf], &leaf, None);
    let url = format!("http://127.0.0.1:{}/health", server.port);
    let out = run(probe().args(["--timeout", "2s", &url]));
    out.expect(1, Duration::from_millis(2500));
    out.stdout_starts("unhealthy: ");
}

#[test]
fn handshake_that_stalls_ends_at_the_deadline() {
    let server = Scripted::start(|c| c.stall());
    let url = format!("https://127.0.0.1:{}/", server.addr.port());
    let out = run(probe().args(["--timeout", "1s", "-k", &url]));
    out.expect(1, Duration::from_millis(1500));
    assert!(out.elapsed >= Duration::from_millis(900));
    out.stdout_has("timed out");
}

/// A `--key` that does not belong to `--cert` is named as such, by the flag
/// whose file is at fault (it was blamed on `--cacert`, with rustls's
/// `KeyMismatch`), before anything is sent.
#[test]
fn a_key_that_does_not_belong_to_the_certificate_names_key() {
    let files = Files::new("mismatch");
    let cert = files.write("client.pem", &self_signed(&["client"]).pem);
    let other = files.write("other.key", &self_signed(&["other"]).key_pem);
    let out = run(probe().args(["--cert", &cert, "--key", &other, "https://127.0.0.1:1/"]));
    out.expect(1, QUICK);
    assert_eq!(
        out.stderr,
        format!(
            "healthprobe: error: --key: {other}: the private key in --key does not belong \
             to the certificate in --cert\n"
        )
    );
    assert_eq!(out.stdout, "");
    let out =
        run(probe()
            .env("HEALTHPROBE_KEY", &other)
            .args(["--cert", &cert, "https://127.0.0.1:1/"]));
    out.expect(1, QUICK);
    out.stderr_has("HEALTHPROBE_KEY: ");
    out.stderr_has("does not belong to the certificate in --cert");
}

#[test]
fn certificate_files_missing_or_not_pem_are_refused() {
    let files = Files::new("files");
    let garbage = files.write(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    );
    let empty = files.write("empty.pem", "hello\n");
    let key_only = files.write("key.pem", &self_signed(&["x"]).key_pem);
    let cert_only = files.write("cert.pem", &self_signed(&["x"]).pem);
    for (args, name) in [
        (vec!["--cacert", "/nonexistent/ca.pem"], "--cacert"),
        (vec!["--cacert", &garbage], "--cacert"),
        (vec!["--cacert", &empty], "--cacert"),
        (vec!["--cert", &key_only, "--key", &key_only], "--cert"),
        (vec!["--cert", &cert_only], "--cert"),
        (vec!["--cert", &cert_only, "--key", &cert_only], "--key"),
        (vec!["--key", &key_only], "--key"),
    ] {
        let out = run(probe().args(&args).arg("https://127.0.0.1:1/"));
        out.expect(1, QUICK);
        assert!(out.stderr.contains(name), "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    let out = run(probe()
        .env("HEALTHPROBE_CACERT", "/nonexistent/ca.pem")
        .arg("https://127.0.0.1:1/"));
    out.expect(1, QUICK);
    out.stderr_has("HEALTHPROBE_CACERT");
}

/// `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext
/// subjectAltName=DNS:localhost`: a self-signed certificate with CA:TRUE,
/// the first recipe everyone finds. curl accepts it with `--cacert` naming
/// it; so does healthprobe now (it said `certificate verify failed:
/// Other(OtherError(CaUsedAsEndEntity))`), and nothing else is weakened.
fn openssl_style(names: &[&str], key: &KeyPair) -> Cert {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(key).unwrap();
    Cert {
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

#[test]
fn a_self_signed_ca_certificate_named_by_cacert_is_trusted_as_it_is() {
    let files = Files::new("openssl-style");
    let key = KeyPair::generate().unwrap();
    let cert = openssl_style(&["localhost", "127.0.0.1"], &key);
    let server = TlsServer::start(&[&cert], &cert, None);
    let url = format!("https://127.0.0.1:{}/health", server.port);
    let pem = files.write("cert.pem", &cert.pem);
    let out = run(probe().args(["--cacert", &pem, &url]));
    out.expect(0, QUICK).stdout_has("-> 200 OK in ");
    let named = format!("https://localhost:{}/health", server.port);
    run(probe().args([
        "--cacert",
        &pem,
        "--resolve",
        &format!("localhost:{}:127.0.0.1", server.port),
        &named,
    ]))
    .expect(0, QUICK);
    // Without --cacert: not trusted, in words that say what to do.
    let out = run(probe().arg(&url));
    out.expect(1, QUICK)
        .stdout_has("certificate verify failed: the server's certificate is a CA certificate")
        .stdout_has("--cacert");
    // Another certificate in --cacert: not trusted.
    let other = openssl_style(&["localhost"], &KeyPair::generate().unwrap());
    let out = run(probe().args(["--cacert", &files.write("other.pem", &other.pem), &url]));
    out.expect(1, QUICK)
        .stdout_has("certificate verify failed: ");
    assert!(
        !out.stdout.contains("Other("),
        "a Debug dump: {}",
        out.stdout
    );
    // The name is still checked.
    let out = run(probe().args(["--cacert", &pem, "--servername", "wrong.test", &url]));
    out.expect(1, QUICK).stdout_has("name mismatch");
}

#[test]
fn an_expired_pinned_certificate_is_still_refused() {
    let files = Files::new("openssl-style-expired");
    let key = KeyPair::generate().unwrap();
    let names = vec!["127.0.0.1".to_string()];
    let mut params = CertificateParams::new(names).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2021, 1, 1);
    let made = params.self_signed(&key).unwrap();
    let cert = Cert {
        der: made.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        pem: made.pem(),
        key_pem: key.serialize_pem(),
    };
    let server = TlsServer::start(&[&cert], &cert, None);
    let url = format!("https://127.0.0.1:{}/health", server.port);
    let out = run(probe().args(["--cacert", &files.write("cert.pem", &cert.pem), &url]));
    out.expect(1, QUICK).stdout_has("certificate verify failed");
    assert!(
        !out.stdout.contains("Other("),
        "a Debug dump: {}",
        out.stdout
    );
}

/// The rustls config is built only when a target speaks TLS, or when a
/// same-host redirect first leads to https:// (then, with --cacert's roots).
#[test]
fn a_same_host_redirect_from_http_to_https_is_followed() {
    let files = Files::new("http-to-https");
    let ca = Ca::new();
    let leaf = ca.leaf(&["127.0.0.1"], false);
    let server = TlsServer::start(&[&leaf], &leaf, None);
    let location = format!("location: https://127.0.0.1:{}/health\r\n", server.port);
    let http = Scripted::reply(response("301 Moved Permanently", &location, ""));
    let cacert = files.write("ca.pem", &ca.cert.pem);
    run(probe().args([
        "-L",
        "--expect-status",
        "200",
        "--cacert",
        &cacert,
        &http.url("/"),
    ]))
    .expect(0, QUICK)
    .stdout_has("-> 200 OK");
    let out = run(probe().args(["-L", "--expect-status", "200", &http.url("/")]));
    out.expect(1, QUICK)
        .stdout_has("certificate verify failed: unknown issuer");
}

/// A CN-only certificate (`openssl req -x509 -subj /CN=localhost`) was
/// reported as a name mismatch with "try --servername", which cannot help:
/// names are matched against the subjectAltName only.
#[test]
fn a_certificate_without_subject_alt_name_says_so() {
    let leaf = self_signed_cn_only("localhost");
    let server = TlsServer::start(&[&leaf], &leaf, None);
    let files = Files::new("cn-only");
    let cacert = files.write("leaf.pem", &leaf.pem);
    let out = run(probe().args(["--cacert", &cacert, &server.url("localhost")]));
    out.expect(1, QUICK)
        .stdout_has("the certificate has no subjectAltName")
        .stdout_has("never the CN");
    assert!(!out.stdout.contains("--servername"), "{}", out.stdout);
    run(probe().args(["-k", &server.url("localhost")])).expect(0, QUICK);
}
