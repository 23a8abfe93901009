//! `--wait` with `--interval`: attempts until healthy or the wait is over,
//! against servers on loopback that start late or never answer well.

use std::time::Duration;

use crate::support::{LateServer, QUICK, SLACK, Scripted, closed_port, probe, response, run};

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
    // Up after 2.8 s: the attempts at 0 and 2 s are refused; the next one
    // after a whole interval (4 s) would be after --wait 3.8s; the last one
    // at 3.7 s finds it up. The window (2 s to 3.7 s) is wide enough for a
    // probe that starts up to 0.8 s late on a loaded machine (CI saw a
    // narrower one fail).
    let _server = LateServer::start(port, Duration::from_millis(2800));
    let url = format!("http://127.0.0.1:{port}/health");
    let out = run(probe().args(["--wait", "3.8s", "--interval", "2s", "-o", "json", &url]));
    out.expect(0, Duration::from_millis(3800) + SLACK)
        .stdout_has(r#""attempts":3"#);
    assert!(out.elapsed >= Duration::from_millis(3600), "{out:#?}");
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

/// A probe stopped (SIGSTOP, a frozen host) past the end of its wait makes
/// no attempt with no time left when it runs again: the verdict is the last
/// real attempt's (here a 503), not "timed out after 0µs".
#[cfg(unix)]
#[test]
fn a_probe_stopped_past_the_end_of_its_wait_makes_no_attempt_without_time() {
    use std::time::Instant;
    let server = Scripted::reply(response("503 Service Unavailable", "", "loading"));
    let child = crate::support::probe_command()
        .args([
            "--wait",
            "1s",
            "--interval",
            "400ms",
            "-o",
            "json",
            &server.url("/"),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Stopped once the first attempt has had its answer, for longer than
    // the wait.
    let start = Instant::now();
    while server.connections() == 0 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let check = &doc["checks"][0];
    assert_eq!(check["status"], 503, "{stdout}");
    assert_eq!(check["attempts"], 1, "{stdout}");
    assert_eq!(server.connections(), 1);
}
