//! `tcp://` targets: healthy when a connection opens, within
//! `--connect-timeout`, every resolved address tried.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::{BlackHole, LateServer, QUICK, SLACK, closed_port, probe, run, skip};

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
        skip("this kernel completes handshakes past a full backlog");
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
        skip("this kernel completes handshakes past a full backlog");
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
