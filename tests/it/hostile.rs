//! Hostile servers and bad input: the probe never hangs, never lies, and
//! never exits anything but 0 or 1. Each test asserts the exit code and the
//! elapsed time against a scripted server on loopback.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::support::{
    BlackHole, Conn, QUICK, SLACK, Scripted, TIMEOUT, closed_port, note, probe, response, run,
    skip, under_runner,
};

fn probe_with_timeout(url: &str) -> crate::support::Outcome {
    run(probe().args(["--timeout", "1s", url]))
}

// ---- servers that stall --------------------------------------------------

#[test]
fn accepts_and_never_answers() {
    let server = Scripted::start(|c| c.stall());
    let out = probe_with_timeout(&server.url("/health"));
    out.expect(1, TIMEOUT + SLACK);
    assert!(
        out.elapsed >= TIMEOUT - Duration::from_millis(50),
        "{out:#?}"
    );
    out.stdout_is(&format!(
        "unhealthy: GET {}: timed out after 1s waiting for response headers",
        server.url("/health")
    ));
}

#[test]
fn status_line_then_stall() {
    let server = Scripted::start(|mut c| {
        c.send(b"HTTP/1.1 200 OK\r\n");
        c.stall();
    });
    let out = probe_with_timeout(&server.url("/"));
    out.expect(1, TIMEOUT + SLACK);
    assert!(
        out.stdout
            .contains("timed out after 1s waiting for response headers"),
        "{}",
        out.stdout
    );
}

#[test]
fn headers_trickled_one_byte_every_100ms_forever() {
    let server = Scripted::start(|mut c| {
        let head = b"HTTP/1.1 200 OK\r\nX-Slow: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if !c.send(&[*byte]) || !c.pause(Duration::from_millis(100)) {
                return;
            }
        }
    });
    let out = probe_with_timeout(&server.url("/"));
    out.expect(1, TIMEOUT + SLACK);
    assert!(out.elapsed >= TIMEOUT - Duration::from_millis(50));
    out.stdout_has("timed out after 1s");
}

fn short_body_then_stall() -> Scripted {
    Scripted::start(|mut c| {
        c.send(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"status\":\"ok\"");
        c.stall();
    })
}

#[test]
fn content_length_larger_than_sent_then_stall() {
    let server = short_body_then_stall();
    let out = probe_with_timeout(&server.url("/"));
    out.expect(1, TIMEOUT + SLACK);
    out.stdout_has("timed out after 1s reading the body");
}

#[test]
fn content_length_larger_than_sent_then_stall_with_expect_body() {
    let server = short_body_then_stall();
    // The text is in the bytes already sent, but the reply never ends: a
    // service that hangs mid-reply is not healthy.
    let out = run(probe().args(["--timeout", "1s", "--expect-body", "ok", &server.url("/")]));
    out.expect(1, TIMEOUT + SLACK);
    out.stdout_has("reading the body");
}

// ---- servers that close, reset, or send garbage ---------------------------

#[test]
fn closes_without_a_reply() {
    let server = Scripted::start(drop);
    let out = run(probe().arg(server.url("/")));
    out.expect(1, QUICK);
    out.stdout_has("unhealthy: GET ");
}

#[test]
fn resets_the_connection() {
    let server = Scripted::start(Conn::reset);
    let out = run(probe().arg(server.url("/")));
    out.expect(1, QUICK);
    out.stdout_has("unhealthy: GET ");
}

#[test]
fn resets_in_the_middle_of_the_body() {
    let server = Scripted::start(|mut c| {
        c.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf");
        std::thread::sleep(Duration::from_millis(50));
        c.reset();
    });
    let out = run(probe().arg(server.url("/")));
    out.expect(1, QUICK);
    out.stdout_has("-> 200 OK in ");
}

fn expect_unhealthy_reply(bytes: &[u8]) -> crate::support::Outcome {
    let server = Scripted::reply(bytes.to_vec());
    let out = run(probe().args(["--timeout", "2s", &server.url("/")]));
    out.expect(1, Duration::from_secs(2) + SLACK);
    assert!(
        out.stdout.starts_with("unhealthy: "),
        "{:?}: {}",
        String::from_utf8_lossy(bytes),
        out.stdout
    );
    out
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0x5eed);
    for _ in 0..20 {
        let bytes: Vec<u8> = (0..rng.below(512) + 1).map(|_| rng.next() as u8).collect();
        expect_unhealthy_reply(&bytes);
    }
}

#[test]
fn status_999_is_judged_as_a_status() {
    let out = expect_unhealthy_reply(b"HTTP/1.1 999 Weird\r\ncontent-length: 0\r\n\r\n");
    out.stdout_has("-> 999 in ");
}

#[test]
fn non_numeric_status() {
    let out = expect_unhealthy_reply(b"HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n");
    out.stdout_has("malformed response");
}

#[test]
fn status_line_with_nul() {
    let out = expect_unhealthy_reply(b"HTTP/1.1 200\0OK\r\ncontent-length: 0\r\n\r\n");
    out.stdout_has("malformed response");
}

#[test]
fn empty_line_reply() {
    expect_unhealthy_reply(b"\r\n");
}

#[test]
fn header_line_of_one_mebibyte() {
    let mut reply = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    reply.extend(std::iter::repeat_n(b'a', 1 << 20));
    reply.extend_from_slice(b"\r\ncontent-length: 0\r\n\r\n");
    let out = expect_unhealthy_reply(&reply);
    assert!(
        out.stdout.contains("too large") || out.stdout.contains("malformed"),
        "{}",
        out.stdout
    );
}

#[test]
fn ten_thousand_headers() {
    let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..10_000 {
        reply.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    reply.extend_from_slice(b"content-length: 0\r\n\r\n");
    expect_unhealthy_reply(&reply);
}

#[test]
fn chunked_body_with_bad_chunk_size() {
    let out = expect_unhealthy_reply(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
    out.stdout_has("-> 200 OK in ");
}

#[test]
fn http10_reply_without_length_ends_at_close_and_is_judged_by_status() {
    let server = Scripted::reply(b"HTTP/1.0 200 OK\r\n\r\n{\"status\":\"ok\"}".to_vec());
    run(probe().args(["--expect-json", "/status=ok", &server.url("/")])).expect(0, QUICK);
    let server = Scripted::reply(b"HTTP/1.0 503 Service Unavailable\r\n\r\ndown".to_vec());
    let out = run(probe().arg(server.url("/")));
    out.expect(1, QUICK);
    out.stdout_has("-> 503 Service Unavailable in ")
        .stdout_has("\"down\"");
}

// ---- endless bodies, with peak memory -------------------------------------

fn endless_body() -> Scripted {
    Scripted::start(|mut c| {
        c.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100000000000\r\n\r\n");
        let chunk = vec![b'x'; 64 * 1024];
        let end = Instant::now() + Duration::from_secs(20);
        while !c.stopped() && Instant::now() < end && c.send(&chunk) {}
    })
}

/// Runs the probe and returns (exit code, elapsed, peak RSS in KiB), the
/// peak measured by GNU time (`/usr/bin/time -f %M`), or `None` for the
/// RSS when GNU time is not installed (Debian's `time`; `.ci/run` installs
/// it). Not wait4 on a child of the test process: a child spawned from it
/// is charged the test process's own peak at exec (Linux carries the old
/// address space's high-water mark over), which grows with the suite.
fn run_measuring_rss(args: &[&str]) -> (i32, Duration, Option<i64>) {
    let time = std::path::Path::new("/usr/bin/time");
    let report = std::env::temp_dir().join(format!(
        "healthprobe-rss-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let start = Instant::now();
    let status = if time.is_file() && !crate::support::under_runner() {
        let probe = crate::support::probe_command();
        std::process::Command::new(time)
            .args(["-f", "%M", "-o"])
            .arg(&report)
            .arg(probe.get_program())
            .args(probe.get_args())
            .args(args)
            .env_clear()
            .stdout(std::process::Stdio::null())
            .status()
    } else {
        crate::support::probe_command()
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
    }
    .expect("run the probe");
    let elapsed = start.elapsed();
    let rss = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| text.lines().last().and_then(|l| l.trim().parse().ok()));
    let _ = std::fs::remove_file(&report);
    (status.code().expect("exited, not killed"), elapsed, rss)
}

/// Memory stays flat: the peak RSS is less than 4 MiB above that of a
/// probe of a 2-byte reply (the baseline: the binary's own pages, which
/// grow with a debug build's size), so it does not grow with the bytes the
/// server sends, and under 16 MiB in all. Not checked under a runner
/// (qemu: the process measured would be the emulator) or without GNU time;
/// the exit status and the time still are.
#[track_caller]
fn assert_flat_memory(rss_kib: Option<i64>) {
    let Some(rss_kib) = rss_kib else {
        if under_runner() {
            // Not a skip CI could avoid: under qemu the process measured
            // would be the emulator.
            note("peak RSS not checked under a runner (it would be the emulator's)");
        } else {
            skip("peak RSS not checked: /usr/bin/time (Debian's time) is missing");
        }
        return;
    };
    let small = Scripted::reply(response("200 OK", "", "ok"));
    let (code, _, baseline) = run_measuring_rss(&["--timeout", "5s", &small.url("/")]);
    assert_eq!(code, 0);
    let baseline = baseline.unwrap_or(0);
    assert!(
        rss_kib - baseline < 4 * 1024 && rss_kib < 16 * 1024,
        "peak RSS {rss_kib} KiB, baseline {baseline} KiB"
    );
}

#[test]
fn endless_body_is_healthy_at_max_body_with_flat_memory() {
    let server = endless_body();
    let url = server.url("/");
    let (code, elapsed, rss) = run_measuring_rss(&["--timeout", "5s", "--max-body", "1MiB", &url]);
    assert_eq!(code, 0);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_flat_memory(rss);
    run(probe().args(["--max-body", "1KiB", "--timeout", "5s", &url]))
        .expect(0, Duration::from_secs(2));
}

#[test]
fn endless_body_without_the_expected_text_is_unhealthy_at_once() {
    let server = endless_body();
    let url = server.url("/");
    let (code, elapsed, rss) =
        run_measuring_rss(&["--timeout", "5s", "--expect-body", "ready", &url]);
    assert_eq!(code, 1);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_flat_memory(rss);
}

// ---- redirects ---------------------------------------------------------------

#[test]
fn redirect_loop_with_follow_is_unhealthy_after_the_limit() {
    let server = Scripted::reply(response(
        "301 Moved Permanently",
        "location: /again\r\n",
        "",
    ));
    let out = run(probe().args([
        "--follow-redirects",
        "--timeout",
        "2s",
        &server.url("/again"),
    ]));
    out.expect(1, QUICK)
        .stdout_has("stopped after 10 redirects");
    assert_eq!(server.requests().len(), 11);
    run(probe()
        .env("HEALTHPROBE_FOLLOW_REDIRECTS", "true")
        .arg(server.url("/again")))
    .expect(1, QUICK);
}

#[test]
fn redirect_to_another_host_is_judged_as_3xx() {
    let server = Scripted::reply(response(
        "302 Found",
        "location: http://elsewhere.invalid/\r\n",
        "",
    ));
    let out = run(probe().args(["--follow-redirects", &server.url("/")]));
    out.expect(0, QUICK).stdout_has("-> 302 Found in ");
    assert_eq!(server.connections(), 1);
    // With a status set that wants 200, the 301 to another host stays a 301.
    let other = Scripted::reply(response("200 OK", "", ""));
    let location = format!("location: http://localhost:{}/\r\n", other.addr.port());
    let server = Scripted::reply(response("301 Moved Permanently", &location, ""));
    let out = run(probe().args([
        "--follow-redirects",
        "--expect-status",
        "200",
        &server.url("/"),
    ]));
    out.expect(1, QUICK)
        .stdout_has("-> 301 Moved Permanently in ");
    assert_eq!(other.connections(), 0, "followed to another host");
    // Same host on another port is followed (the Kubernetes rule ignores ports).
    let location = format!("location: http://127.0.0.1:{}/\r\n", other.addr.port());
    let server = Scripted::reply(response("307 Temporary Redirect", &location, ""));
    run(probe().args([
        "--follow-redirects",
        "--expect-status",
        "200",
        &server.url("/"),
    ]))
    .expect(0, QUICK);
    assert_eq!(other.connections(), 1);
}

// ---- mutated responses: a property over 2,000 runs -------------------------

/// xorshift64*: a seeded generator, so a failure names its seed and case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const VALID: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"status\":\"ok\"}",
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 20\r\n\r\n{\"status\":\"loading\"}",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nclose-delimited body",
    b"HTTP/1.1 302 Found\r\nlocation: /health\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
];

/// One mutation of a valid response: truncation, byte flips, inserted
/// CR/LF/NUL, or a huge or negative length.
fn mutate(rng: &mut Rng, valid: &[u8]) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for _ in 0..rng.below(3) + 1 {
        let at = rng.below(bytes.len().max(1));
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            2 => bytes.insert(at.min(bytes.len()), [b'\r', b'\n', b'\0'][rng.below(3)]),
            3 => {
                let length = [
                    "99999999999999999999",
                    "-1",
                    "18446744073709551615",
                    "1 1",
                    "0x10",
                    "",
                ][rng.below(6)];
                let text = String::from_utf8_lossy(&bytes)
                    .replace("content-length: 15", &format!("content-length: {length}"));
                bytes = text.into_bytes();
                if !bytes
                    .windows(15)
                    .any(|w| w.eq_ignore_ascii_case(b"content-length:"))
                {
                    let end = bytes
                        .windows(2)
                        .position(|w| w == b"\r\n")
                        .map_or(0, |p| p + 2);
                    let header = format!("content-length: {length}\r\n");
                    bytes.splice(end..end, header.bytes());
                }
            }
            4 => {
                let chunk =
                    ["fffffffffffffffff\r\n", "-5\r\n", "5;x=\0\r\n", "\r\n\r\n"][rng.below(4)];
                bytes.splice(at..at, chunk.bytes());
            }
            _ => bytes
                .splice(
                    at..at,
                    std::iter::repeat_n(bytes.get(at).copied().unwrap_or(b'a'), rng.below(64)),
                )
                .for_each(drop),
        }
    }
    bytes
}

#[test]
fn two_thousand_mutated_responses_exit_0_or_1_within_the_deadline() {
    const CASES: usize = 2_000;
    const SEED: u64 = 0x4845_414c_5448;
    let mut rng = Rng(SEED);
    let cases: Vec<Vec<u8>> = (0..CASES)
        .map(|i| mutate(&mut rng, VALID[i % VALID.len()]))
        .collect();
    let cases = std::sync::Arc::new(cases);
    let served = cases.clone();
    // The request path names the case; a few cases also stall after their
    // bytes (the deadline must end them).
    let server = Scripted::start(move |mut c| {
        let n: usize = c
            .request
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.trim_start_matches('/').parse().ok())
            .unwrap_or(0);
        c.send(&served[n % served.len()]);
        if n.is_multiple_of(10) {
            c.pause(Duration::from_secs(1));
        }
    });
    let timeout = Duration::from_millis(700);
    let base = server.url("");
    // Under qemu the first 500 cases (about 15 s, where all 2,000 took 56 s
    // of each 75-100 s suite): that run is there for what an architecture
    // changes (word size, byte order), and the parser's cases are the same
    // code the native run puts through all 2,000.
    let probed = if under_runner() {
        note("cases 500 to 1,999 not probed under a runner (the native run probes all 2,000)");
        500
    } else {
        CASES
    };
    let workers = 4;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (base, cases) = (&base, &cases);
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for n in (w..probed).step_by(workers) {
                        let probe_case = || {
                            run(probe().args([
                                "--timeout",
                                "700ms",
                                "--follow-redirects",
                                &format!("{base}/{n}"),
                            ]))
                        };
                        let mut out = probe_case();
                        // A stall of the whole machine (seen in CI under
                        // qemu: four probes 1 s late at one moment) delays
                        // one run; a probe that overruns its deadline
                        // overruns it every time. So a case over the bound
                        // is probed once more and fails if over it again.
                        if out.elapsed > timeout + SLACK {
                            out = probe_case();
                        }
                        let bad_code = !matches!(out.code, Some(0 | 1));
                        let too_slow = out.elapsed > timeout + SLACK;
                        let panicked =
                            out.stderr.contains("panic") || out.stderr.contains("internal error");
                        if bad_code || too_slow || panicked {
                            failures.push(format!(
                                "seed {SEED:#x} case {n}: {:?}: {out:?}",
                                String::from_utf8_lossy(&cases[n])
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {probed} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(server.connections() >= probed);
}

// ---- the environment -----------------------------------------------------------

#[test]
fn proxy_variables_pointing_at_a_dead_port_do_not_matter() {
    let server = Scripted::reply(response("200 OK", "", "ok"));
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let mut cmd = probe();
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &dead);
    }
    cmd.env("NO_PROXY", "example.invalid");
    run(cmd.arg(server.url("/health"))).expect(0, QUICK);
    assert_eq!(server.connections(), 1);
}

#[test]
fn several_addresses_where_only_the_last_listens() {
    // The name resolves to ::1, 127.0.0.2 and 127.0.0.1; nothing listens on
    // the first two at this port.
    let server = Scripted::reply(response("200 OK", "", "ok"));
    let port = server.addr.port();
    let resolve = format!("svc.test:{port}:[::1],127.0.0.2,127.0.0.1");
    let out = run(probe().args([
        "--timeout",
        "2s",
        "--resolve",
        &resolve,
        &format!("http://svc.test:{port}/"),
    ]));
    out.expect(0, QUICK);
    // localhost through the system resolver (::1 first on many systems;
    // busybox wget gives up there).
    run(probe().arg(format!("http://localhost:{port}/health"))).expect(0, QUICK);
}

#[test]
fn black_holed_first_address_still_reaches_the_last_within_the_deadline() {
    let server = Scripted::reply(response("200 OK", "", "ok"));
    let port = server.addr.port();
    let Some(hole) = BlackHole::start_on("127.0.0.2", port) else {
        skip(&format!("cannot bind 127.0.0.2:{port}"));
        return;
    };
    if !hole.holds() {
        skip("this kernel completes handshakes past a full backlog");
        return;
    }
    let resolve = format!("svc.test:{port}:127.0.0.2,127.0.0.1");
    let out = run(probe().args([
        "--timeout",
        "2s",
        "--resolve",
        &resolve,
        &format!("http://svc.test:{port}/"),
    ]));
    out.expect(0, Duration::from_secs(2) + SLACK);
}

fn signal_while_waiting(signal: libc::c_int) {
    let server = Scripted::start(|c| c.stall());
    let mut child = crate::support::probe_command()
        .args(["--timeout", "30s", &server.url("/")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the request has arrived, so the probe is waiting.
    let start = Instant::now();
    while server.requests().is_empty() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(1), "{status:?}");
    assert!(
        sent.elapsed() < Duration::from_millis(500),
        "{:?}",
        sent.elapsed()
    );
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .ok();
    assert!(!stderr.contains("panic"), "{stderr}");
}

#[test]
fn sigterm_while_waiting_exits_1_at_once() {
    signal_while_waiting(libc::SIGTERM);
}

#[test]
fn sigint_while_waiting_exits_1_at_once() {
    signal_while_waiting(libc::SIGINT);
}

// ---- inputs refused with nothing sent ------------------------------------------------

#[test]
fn bad_inputs_are_refused_in_one_line_with_nothing_sent() {
    let server = Scripted::reply(response("200 OK", "", "ok"));
    let url = server.url("/health");
    let port = server.addr.port().to_string();
    // (arguments, environment, what the one-line error must name)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["--no-such-flag", &url], vec![], "--no-such-flag"),
        (vec![&url, "--timeout"], vec![], "--timeout"),
        (vec!["ftp://127.0.0.1/"], vec![], "ftp"),
        (vec!["http//127.0.0.1/", &url], vec![], "http//127.0.0.1/"),
        (vec!["--port", "0", "/health", &url], vec![], "--port"),
        (vec!["--port", "65536", "/health", &url], vec![], "--port"),
        (vec!["--timeout", "", &url], vec![], "--timeout"),
        (vec!["--timeout", "0", &url], vec![], "--timeout"),
        (vec!["--timeout", "-1s", &url], vec![], "--timeout"),
        (vec!["--timeout", "fast", &url], vec![], "--timeout"),
        (vec!["--timeout", "0s", &url], vec![], "--timeout"),
        (vec!["--timeout", "-2s", &url], vec![], "--timeout"),
        (
            vec![&url],
            vec![("HEALTHPROBE_CONNECT_TIMEOUT", "0")],
            "HEALTHPROBE_CONNECT_TIMEOUT",
        ),
        (vec!["http://127.0.0.1:0/", &url], vec![], "port"),
        (vec!["http://127.0.0.1:70000/", &url], vec![], "65535"),
        (vec!["localhost", &url], vec![], "tcp://"),
        (vec!["http://", &url], vec![], "host"),
        (vec!["/health", &url], vec![], "no port is set"),
        (vec!["/health", &url], vec![("PORT", "http")], "PORT"),
        (
            vec!["--expect-status", "2xx", &url],
            vec![],
            "--expect-status",
        ),
        (vec!["--expect-status", "", &url], vec![], "--expect-status"),
        // Options that cannot apply are refused, not ignored (issue 20).
        (
            vec!["--proxy", "socks5://127.0.0.1:1", &url],
            vec![],
            "--proxy",
        ),
        (
            vec!["--proxy", "https://127.0.0.1:1", &url],
            vec![],
            "only HTTP proxies",
        ),
        (
            vec![&url],
            vec![("HEALTHPROBE_PROXY", "socks5h://p:1")],
            "HEALTHPROBE_PROXY",
        ),
        (
            vec![
                "--unix-socket",
                "/nonexistent.sock",
                "tcp://127.0.0.1:1",
                &url,
            ],
            vec![],
            "--unix-socket",
        ),
        (vec!["-X", "HEAD", "tcp://127.0.0.1:1"], vec![], "--method"),
        (vec!["-I", "tcp://127.0.0.1:1"], vec![], "--head"),
        (
            vec![
                "--resolve",
                "h:1:127.0.0.1",
                "--resolve",
                "H:1:127.0.0.2",
                &url,
            ],
            vec![],
            "h:1 is given twice",
        ),
        (
            vec!["--timeout", "abc", &url],
            vec![],
            "is not a duration (e.g. 500ms",
        ),
        (
            vec!["--timeout", "1e3", &url],
            vec![],
            "is not a duration (e.g. 500ms",
        ),
        (
            vec!["--connect-timeout", "0ms", &url],
            vec![],
            "--connect-timeout",
        ),
        (
            vec!["--expect-status", "600", &url],
            vec![],
            "--expect-status",
        ),
        (
            vec!["--expect-status", "99", &url],
            vec![],
            "--expect-status",
        ),
        (
            vec!["--expect-status", "400-200", &url],
            vec![],
            "--expect-status",
        ),
        (
            vec!["--expect-status", "200-", &url],
            vec![],
            "--expect-status",
        ),
        (vec!["-H", "X: a\r\nY: b", &url], vec![], "--header"),
        (vec!["-H", "NoColon", &url], vec![], "--header"),
        (vec!["-H", "Bad Name: v", &url], vec![], "--header"),
        (
            vec!["--expect-json", "/status", &url],
            vec![],
            "--expect-json",
        ),
        (
            vec!["--expect-json", "status=ok", &url],
            vec![],
            "--expect-json",
        ),
        (vec!["--max-body", "lots", &url], vec![], "--max-body"),
        (
            vec![&url],
            vec![("HEALTHPROBE_TIMEOUT", "0")],
            "HEALTHPROBE_TIMEOUT",
        ),
        (
            vec![&url],
            vec![("HEALTHPROBE_TIMEOUT", "-3")],
            "HEALTHPROBE_TIMEOUT",
        ),
        (
            vec![&url],
            vec![("HEALTHPROBE_EXPECT_STATUS", "2xx")],
            "HEALTHPROBE_EXPECT_STATUS",
        ),
        (
            vec![&url],
            vec![("HEALTHPROBE_HEADERS", "X: a\rb")],
            "HEALTHPROBE_HEADERS",
        ),
        (
            vec![&url],
            vec![("HEALTHPROBE_EXPECT_JSON", "nope")],
            "HEALTHPROBE_EXPECT_JSON",
        ),
        (
            vec![&url],
            vec![("HEALTHPROBE_MAX_BODY", "1XB")],
            "HEALTHPROBE_MAX_BODY",
        ),
        (
            vec!["/health"],
            vec![("HEALTHPROBE_PORT", "0")],
            "HEALTHPROBE_PORT",
        ),
        (vec!["/health"], vec![("PORT", "99999")], "PORT"),
        (
            vec![],
            vec![("HEALTHPROBE_URL", "ftp://x/")],
            "HEALTHPROBE_URL",
        ),
        (
            vec!["--port", &port, "/health", "--method", "PUT"],
            vec![],
            "--method",
        ),
    ];
    for (args, env, names) in &cases {
        let out = run(probe().args(args).envs(env.iter().copied()));
        out.expect(1, QUICK);
        assert_eq!(out.stdout, "", "{args:?} {env:?}");
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "{args:?} {env:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(names),
            "{args:?} {env:?}: {}",
            out.stderr
        );
    }
    assert_eq!(
        server.connections(),
        0,
        "a bad invocation reached the network"
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_argument_and_env_value_are_refused() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"\xff\xfe");
    let out = run(probe().args([
        std::ffi::OsStr::new("--timeout"),
        bad,
        std::ffi::OsStr::new("http://127.0.0.1:1/"),
    ]));
    out.expect(1, QUICK);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    let out = run(probe().env("HEALTHPROBE_URL", bad));
    out.expect(1, QUICK);
    out.stderr_has("HEALTHPROBE_URL");
}
