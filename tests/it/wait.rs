//! Orchestration modes: `--wait` with `--interval`, `tcp://` targets and
//! `--unix-socket`, against servers on loopback and Unix sockets that the
//! tests start and stop.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{
    Acceptor, BlackHole, QUICK, SLACK, Scripted, closed_port, probe, response, run,
};

/// A server that starts listening on `port` only after `delay`, then
/// answers 200 until dropped.
struct LateServer(#[allow(dead_code)] Acceptor);

impl LateServer {
    fn start(port: u16, delay: Duration) -> LateServer {
        LateServer(Acceptor::spawn(
            move || {
                std::thread::sleep(delay);
                let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the late port");
                listener.set_nonblocking(true).expect("nonblocking");
                move || listener.accept().map(|(stream, _)| stream)
            },
            |mut stream: std::net::TcpStream| {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(&response("200 OK", "", "{\"status\":\"ok\"}"));
            },
        ))
    }
}

#[test]
fn wait_returns_as_soon_as_a_late_server_is_up() {
    let port = closed_port();
    let _server = LateServer::start(port, Duration::from_secs(2));
    let url = format!("http://127.0.0.1:{port}/health");
    let out = run(probe().args(["--wait", "10s", "--interval", "200ms", &url]));
    out.expect(0, Duration::from_millis(2800));
    assert!(out.elapsed >= Duration::from_millis(1900), "{out:#?}");
    assert_eq!(
        out.stdout.lines().count(),
        1,
        "only the final verdict: {}",
        out.stdout
    );
    out.stdout_starts("healthy: GET ");
}

#[test]
fn wait_shorter_than_the_start_up_fails_at_the_end_of_the_wait() {
    let port = closed_port();
    let _server = LateServer::start(port, Duration::from_secs(2));
    let url = format!("http://127.0.0.1:{port}/health");
    let out = run(probe().args(["--wait", "1s", "--interval", "200ms", &url]));
    out.expect(1, Duration::from_secs(1) + SLACK);
    assert!(out.elapsed >= Duration::from_millis(750), "{out:#?}");
    // The final line says how long it waited and how many attempts it
    // made, so it does not read like a single check.
    let line = out.stdout.trim_end();
    let attempts: u32 = line
        .strip_prefix("unhealthy after ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((5..=7).contains(&attempts), "{line}");
    assert!(
        line.ends_with(&format!(" attempts in 1.0s: GET {url}: connection refused")),
        "{line}"
    );
}

#[test]
fn never_healthy_fails_by_the_end_of_the_wait_with_the_last_report() {
    let server = Scripted::reply(response(
        "503 Service Unavailable",
        "",
        "{\"status\":\"loading\"}",
    ));
    let out = run(probe()
        .env("HEALTHPROBE_WAIT", "2s")
        .env("HEALTHPROBE_INTERVAL", "250ms")
        .args(["-o", "json", &server.url("/health")]));
    out.expect(1, Duration::from_secs(2) + SLACK);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let attempts = doc["checks"][0]["attempts"]
        .as_u64()
        .expect("attempts in wait mode");
    assert!((5..=9).contains(&attempts), "{attempts} attempts");
    assert_eq!(server.connections() as u64, attempts);
    assert_eq!(doc["checks"][0]["status"], 503);
}

#[test]
fn no_attempt_outlives_the_wait() {
    let server = Scripted::start(|c| c.stall());
    let out = run(probe().args(["--wait", "1s", "--timeout", "10s", &server.url("/")]));
    out.expect(1, Duration::from_secs(1) + SLACK);
    out.stdout_has("timed out");
}

#[test]
fn two_targets_where_one_becomes_healthy_late() {
    let early = Scripted::reply(response("200 OK", "", "ok"));
    let port = closed_port();
    let _late = LateServer::start(port, Duration::from_millis(1500));
    let late_url = format!("http://127.0.0.1:{port}/health");
    let out = run(probe().args([
        "--wait",
        "10s",
        "--interval",
        "200ms",
        "-o",
        "json",
        &early.url("/"),
        &late_url,
    ]));
    out.expect(0, Duration::from_millis(2500));
    assert!(out.elapsed >= Duration::from_millis(1400));
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["healthy"], true);
    // The early target was healthy at once and not probed again.
    assert_eq!(doc["checks"][0]["attempts"], 1);
    assert!(
        doc["checks"][1]["attempts"]
            .as_u64()
            .is_some_and(|n| n >= 4)
    );
    assert_eq!(early.connections(), 1);
}

#[test]
fn verbose_wait_prints_each_failed_attempt() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let out = run(probe().args(["-v", "--wait", "1s", "--interval", "300ms", &url]));
    out.expect(1, Duration::from_secs(1) + SLACK);
    let attempts = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("attempt "))
        .count();
    assert!((3..=5).contains(&attempts), "{attempts}: {}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1);
}

#[test]
fn bad_wait_and_interval_are_refused() {
    for (args, name) in [
        (vec!["--wait", "0", "http://127.0.0.1:1/"], "--wait"),
        (
            vec!["--interval", "-1s", "http://127.0.0.1:1/"],
            "--interval",
        ),
    ] {
        let out = run(probe().args(&args));
        out.expect(1, QUICK);
        out.stderr_has(name);
    }
    let out = run(probe()
        .env("HEALTHPROBE_WAIT", "forever")
        .arg("http://127.0.0.1:1/"));
    out.expect(1, QUICK);
    out.stderr_has("HEALTHPROBE_WAIT");
}

// ---- tcp:// targets ------------------------------------------------------------

#[test]
fn tcp_target_open_is_healthy() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let out = run(probe().arg(&url));
    out.expect(0, QUICK);
    assert!(
        out.stdout
            .starts_with(&format!("healthy: TCP {url} -> connected in ")),
        "{}",
        out.stdout
    );
    let (_conn, _) = listener.accept().expect("the probe connected");
}

#[test]
fn tcp_target_closed_is_unhealthy() {
    let url = format!("tcp://127.0.0.1:{}", closed_port());
    let out = run(probe().arg(&url));
    out.expect(1, QUICK);
    assert_eq!(
        out.stdout.trim_end(),
        format!("unhealthy: TCP {url}: connection refused")
    );
}

#[test]
fn tcp_target_black_holed_is_unhealthy_within_the_deadline() {
    let hole = BlackHole::start();
    if !hole.holds() {
        eprintln!("skipped: this kernel completes handshakes past a full backlog");
        return;
    }
    let out = run(probe().args(["--timeout", "1s", &format!("tcp://{}", hole.addr)]));
    out.expect(1, Duration::from_secs(1) + SLACK);
    assert!(out.elapsed >= Duration::from_millis(900));
    out.stdout_has("timed out after 1s connecting");
}

/// `tcp://` gets `--connect-timeout`, as HTTP does: a connect that hangs
/// ends at 500 ms, not at the 3 s `--timeout`, and the reason says the time
/// (it used the whole timeout and said only "timed out connecting").
#[test]
fn tcp_target_honours_the_connect_timeout() {
    let hole = BlackHole::start();
    if !hole.holds() {
        eprintln!("skipped: this kernel completes handshakes past a full backlog");
        return;
    }
    let url = format!("tcp://{}", hole.addr);
    let out = run(probe().args(["--timeout", "3s", "--connect-timeout", "500ms", &url]));
    out.expect(1, Duration::from_millis(500) + SLACK);
    assert!(
        out.elapsed >= Duration::from_millis(450),
        "{:?}",
        out.elapsed
    );
    out.stdout_is(&format!(
        "unhealthy: TCP {url}: connect timed out after 500ms"
    ));
}

#[test]
fn tcp_target_tries_every_address() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let resolve = format!("db.test:{port}:[::1],127.0.0.1");
    run(probe().args(["--resolve", &resolve, &format!("tcp://db.test:{port}")])).expect(0, QUICK);
}

#[test]
fn tcp_target_with_wait() {
    let port = closed_port();
    let _server = LateServer::start(port, Duration::from_secs(1));
    let out = run(probe().args([
        "--wait",
        "5s",
        "--interval",
        "100ms",
        &format!("tcp://127.0.0.1:{port}"),
    ]));
    out.expect(0, Duration::from_secs(2));
}

// ---- --unix-socket ---------------------------------------------------------------

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

// ---- the wait uses its whole time ------------------------------------------------

/// Runs `--wait WAIT --interval INTERVAL -o json URL`; returns the outcome
/// and the attempts made.
fn wait_json(wait: &str, interval: &str, url: &str) -> (crate::support::Outcome, u64) {
    let out = run(probe().args(["--wait", wait, "--interval", interval, "-o", "json", url]));
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
    let attempts = doc["checks"][0]["attempts"].as_u64().unwrap_or(0);
    (out, attempts)
}

/// `--wait 1s` with the default 1 s interval returned after one attempt, at
/// once: the next attempt would have started after the wait.
#[test]
fn a_one_second_wait_lasts_one_second_against_a_503_and_a_refused_port() {
    let server = Scripted::reply(response("503 Service Unavailable", "", "loading"));
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    for url in [server.url("/health"), refused] {
        let out = run(probe().args(["--wait", "1s", &url]));
        out.expect(1, Duration::from_millis(1500));
        assert!(out.elapsed >= Duration::from_millis(900), "{url}: {out:#?}");
    }
}

/// `--wait 3s --interval 500ms` gave up at 2.5 s.
#[test]
fn a_wait_makes_attempts_until_its_end() {
    let server = Scripted::reply(response("503 Service Unavailable", "", "loading"));
    let (out, attempts) = wait_json("3s", "500ms", &server.url("/health"));
    out.expect(1, Duration::from_secs(3) + SLACK);
    assert!(out.elapsed >= Duration::from_millis(2900), "{out:#?}");
    assert!((5..=8).contains(&attempts), "{attempts} attempts");
    assert_eq!(server.connections() as u64, attempts);
}

/// The last attempt is made even when less than an interval remains, with
/// its deadline cut to the end of the wait.
#[test]
fn the_last_attempt_is_made_when_less_than_an_interval_remains() {
    let port = closed_port();
    // Up after 1.2 s: the attempts at 0 and 1 s are refused; the next one
    // after a whole interval (2 s) would be after --wait 1.5s; the last one
    // at 1.4 s finds it up.
    let _server = LateServer::start(port, Duration::from_millis(1200));
    let url = format!("http://127.0.0.1:{port}/health");
    let out = run(probe().args(["--wait", "1.5s", "--interval", "1s", "-o", "json", &url]));
    out.expect(0, Duration::from_millis(1500) + SLACK)
        .stdout_has(r#""attempts":3"#);
    assert!(out.elapsed >= Duration::from_millis(1300), "{out:#?}");
}

/// A name that does not resolve (a compose service whose container is not
/// up yet) is retried like any other failure.
#[test]
fn dns_failures_are_retried_until_the_wait_ends() {
    let (out, attempts) = wait_json("2s", "500ms", "http://no-such-host.invalid:8000/health");
    out.expect(1, Duration::from_secs(2) + SLACK);
    assert!(out.elapsed >= Duration::from_millis(1900), "{out:#?}");
    assert!(attempts >= 3, "{attempts} attempts: {out:#?}");
    out.stdout_has("could not resolve host");
}
