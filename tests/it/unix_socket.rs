//! `--unix-socket`: HTTP over a Unix domain socket the tests start and stop.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{Acceptor, QUICK, probe, response, run};

/// An HTTP server on a Unix socket in a fresh directory: answers each
/// request with `reply`, records the request heads, stops when dropped.
struct UnixServer {
    path: std::path::PathBuf,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
    _acceptor: Acceptor,
}

impl UnixServer {
    fn start(name: &str, reply: Vec<u8>) -> UnixServer {
        let dir = std::env::temp_dir().join(format!("healthprobe-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("app.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).expect("bind the unix socket");
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        let acceptor = Acceptor::spawn(
            move || move || listener.accept().map(|(stream, _)| stream),
            move |mut stream: std::os::unix::net::UnixStream| {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let _ = stream.write_all(&reply);
            },
        );
        UnixServer {
            path,
            requests,
            _acceptor: acceptor,
        }
    }
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[test]
fn unix_socket_healthy() {
    let server = UnixServer::start("ok", response("200 OK", "", "{\"status\":\"ok\"}"));
    let socket = server.path.to_str().unwrap();
    let out = run(probe().args([
        "--unix-socket",
        socket,
        "--expect-json",
        "/status=ok",
        "http://app.internal/health",
    ]));
    out.expect(0, QUICK);
    let request = server.requests.lock().unwrap()[0].clone();
    assert!(request.starts_with("GET /health HTTP/1.1\r\n"), "{request}");
    assert!(
        request
            .to_ascii_lowercase()
            .contains("\r\nhost: app.internal\r\n"),
        "{request}"
    );
    // The same through the environment, with a bare path.
    run(probe()
        .env("HEALTHPROBE_UNIX_SOCKET", socket)
        .args(["--port", "80", "/health"]))
    .expect(0, QUICK);
}

#[test]
fn unix_socket_unhealthy_503() {
    let server = UnixServer::start("503", response("503 Service Unavailable", "", "loading"));
    let out = run(probe().args([
        "--unix-socket",
        server.path.to_str().unwrap(),
        "http://localhost/health",
    ]));
    out.expect(1, QUICK);
    out.stdout_has("-> 503 Service Unavailable in ")
        .stdout_has("\"loading\"");
}

#[test]
fn unix_socket_absent() {
    let path = std::env::temp_dir().join("healthprobe-no-such.sock");
    let out = run(probe().args([
        "--unix-socket",
        path.to_str().unwrap(),
        "http://localhost/health",
    ]));
    out.expect(1, QUICK);
    out.stdout_has("unix socket").stdout_has("No such file");
}

/// The socket is the connection: no address family to choose.
#[test]
fn unix_socket_with_ipv4_or_ipv6_is_refused() {
    for (flag, name) in [("-4", "--ipv4"), ("-6", "--ipv6")] {
        run(probe().args([flag, "--unix-socket", "/tmp/x.sock", "http://localhost/"]))
            .expect(1, QUICK)
            .stderr_has(&format!("{name} cannot apply with --unix-socket"));
    }
}

#[test]
fn unix_socket_with_proxy_is_refused() {
    let out = run(probe().args([
        "--unix-socket",
        "/tmp/x.sock",
        "--proxy",
        "http://127.0.0.1:1",
        "http://localhost/",
    ]));
    out.expect(1, QUICK);
    out.stderr_has("--unix-socket").stderr_has("--proxy");
}
