//! The promises issue 27 found broken, each proved against the binary:
//! no secret in any output (the report, `-o json`, `-v`, the supervisor's
//! lines, error lines), whatever the server echoes and through a proxy;
//! no duration that panics; `--connect-timeout` over the TLS handshake and
//! a proxy's CONNECT; a proxy's port checked; messages that point the right
//! way.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::support::{
    Conn, QUICK, SLACK, Scripted, closed_port, note, probe, probe_command, read_head, response,
    run, under_runner,
};

/// The proxy's credentials, and their Basic form as a proxy receives them.
const PROXY_USER: &str = "pxuser";
const PROXY_PASSWORD: &str = "pxpa55word";
/// base64("pxuser:pxpa55word")
const PROXY_BASIC: &str = "cHh1c2VyOnB4cGE1NXdvcmQ=";

/// Every form of every secret these tests give.
const SECRETS: [&str; 6] = [
    PROXY_PASSWORD,
    PROXY_BASIC,
    "k3y-v4lue-9",
    "t0ken-v4lue-7",
    "c00kie-v4lue-5",
    "dXNlcjpzM2NyM3QtcHc=", // base64("user:s3cr3t-pw")
];

/// Asserts that none of [`SECRETS`] is in `text`.
#[track_caller]
fn no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret:?}:\n{text}");
    }
}

/// The body of a response that echoes `head`, as debug pages do.
fn echo(status: &str, head: &str) -> Vec<u8> {
    let body = format!("{{\"you_sent\":{:?}}}", head);
    response(status, "content-type: application/json\r\n", &body)
}

/// A CONNECT proxy that answers 200, then answers the tunnelled request
/// (read in clear: the tests' targets are http://) with an echo of the
/// CONNECT head and the request head; for an https:// target it closes
/// once the tunnel is open. Records every head it read.
fn echoing_proxy() -> Scripted {
    Scripted::start(|mut c: Conn| {
        let connect = c.request.clone();
        if !connect.starts_with("CONNECT ") {
            c.send(&echo("400 Bad Request", &connect));
            return;
        }
        c.send(b"HTTP/1.1 200 Connection established\r\n\r\n");
        if connect.contains(":443 ") {
            return;
        }
        let request = read_head(&mut c.stream);
        c.send(&echo(
            "503 Service Unavailable",
            &format!("{connect}{request}"),
        ));
    })
}

#[test]
fn a_proxy_password_is_never_shown_in_any_output_for_flag_or_variable() {
    let proxy = echoing_proxy();
    let url = format!(
        "http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{}",
        proxy.addr.port()
    );
    let targets: &[&str] = match cfg!(feature = "tls") {
        true => &["http://example.test/health", "https://example.test/health"],
        false => &["http://example.test/health"],
    };
    for target in targets {
        for from_env in [false, true] {
            for format in ["text", "json"] {
                let before = proxy.requests().len();
                let mut cmd = probe();
                cmd.args(["-v", "-t", "2s", "-o", format, target]);
                match from_env {
                    true => cmd.env("HEALTHPROBE_PROXY", &url),
                    false => cmd.args(["--proxy", &url]),
                };
                let out = run(&mut cmd);
                out.expect(1, QUICK);
                let what = format!("{target} (variable: {from_env}, {format})");
                no_secret(&format!("stdout of {what}"), &out.stdout);
                no_secret(&format!("stderr of {what}"), &out.stderr);
                // The credentials were sent, and the trace shows the
                // CONNECT head whole, its credentials masked.
                let connect = &proxy.requests()[before];
                assert!(connect.contains(PROXY_BASIC), "{what}: {connect}");
                out.stderr_has("> CONNECT example.test:")
                    .stderr_has("> Proxy-Authorization: Basic ***")
                    .stderr_has(&format!(
                        "connected to proxy 127.0.0.1:{}",
                        proxy.addr.port()
                    ));
            }
        }
    }
}

#[test]
fn secret_headers_echoed_by_the_server_are_masked_in_every_output() {
    let server = Scripted::start(|mut c: Conn| {
        let head = c.request.clone();
        c.send(&echo("503 Service Unavailable", &head));
    });
    let url = server.url("/debug");
    for format in ["text", "json"] {
        for verbose in [false, true] {
            let mut cmd = probe();
            cmd.env("TOKEN", "t0ken-v4lue-7")
                .env("HEALTHPROBE_HEADERS", "Cookie: session=c00kie-v4lue-5")
                .args(["-o", format, "-u", "user:s3cr3t-pw"])
                .args([
                    "-H",
                    "X-Api-Key: k3y-v4lue-9",
                    "-H",
                    "X-Auth-Token: ${TOKEN}",
                ])
                .arg(&url);
            if verbose {
                cmd.arg("-v");
            }
            let out = run(&mut cmd);
            out.expect(1, QUICK);
            no_secret(&format!("stdout ({format}, -v {verbose})"), &out.stdout);
            no_secret(&format!("stderr ({format}, -v {verbose})"), &out.stderr);
            // The echo is reported, masked, so the check still tells why.
            out.stdout_has("***");
        }
    }
    let head = server.requests().join("\n");
    for sent in [
        "k3y-v4lue-9",
        "t0ken-v4lue-7",
        "c00kie-v4lue-5",
        "dXNlcjpzM2NyM3QtcHc=",
    ] {
        assert!(head.contains(sent), "the server did not get {sent}: {head}");
    }
}

#[test]
fn a_password_in_an_error_line_is_masked_but_plain_input_is_shown() {
    let out = run(probe().args([
        "--retry",
        "http://user:pxpa55word@127.0.0.1:1/",
        "http://127.0.0.1:1/",
    ]));
    out.expect(1, QUICK);
    no_secret("the error", &out.stderr);
    out.stderr_has("http://user:***@127.0.0.1:1/");
    // No `user:password@` here: the user's input is shown as typed.
    run(probe().arg("::1:8000"))
        .expect(1, QUICK)
        .stderr_has("\"::1:8000\" is not a target");
}

/// Every duration flag and variable, at the top of its range and past it.
const DURATION_FLAGS: [(&str, &str); 8] = [
    ("--timeout", "HEALTHPROBE_TIMEOUT"),
    ("--connect-timeout", "HEALTHPROBE_CONNECT_TIMEOUT"),
    ("--wait", "HEALTHPROBE_WAIT"),
    ("--interval", "HEALTHPROBE_INTERVAL"),
    ("--period", "HEALTHPROBE_PERIOD"),
    ("--startup-period", "HEALTHPROBE_STARTUP_PERIOD"),
    ("--initial-delay", "HEALTHPROBE_INITIAL_DELAY"),
    (
        "--termination-grace-period",
        "HEALTHPROBE_TERMINATION_GRACE_PERIOD",
    ),
];

#[test]
fn huge_durations_are_refused_in_one_line_and_never_panic() {
    let closed = format!("tcp://127.0.0.1:{}", closed_port());
    for value in [
        "18446744073709551615s",
        "18446744073709551615",
        "500000000000y",
    ] {
        for (flag, variable) in DURATION_FLAGS {
            for mode in ["probe", "wait", "supervise"] {
                for from_env in [false, true] {
                    let mut cmd = probe();
                    cmd.env("PATH", "/usr/bin:/bin");
                    match mode {
                        "probe" => cmd.arg(&closed),
                        "wait" => cmd.args(["--wait", "1s", &closed]),
                        _ => cmd.args(["--liveness", &closed, "--", "sleep", "5"]),
                    };
                    match from_env {
                        true => cmd.env(variable, value),
                        false => cmd.args([flag, value]),
                    };
                    let out = run(&mut cmd);
                    let what = format!("{mode}, {flag}/{variable}={value} (env: {from_env})");
                    assert!(
                        matches!(out.code, Some(0 | 1)),
                        "{what}: exit {:?}: {out:#?}",
                        out.code
                    );
                    assert!(
                        !out.stderr.contains("internal error") && !out.stderr.contains("panick"),
                        "{what}: {out:#?}"
                    );
                    assert!(out.elapsed < Duration::from_secs(4), "{what}: {out:#?}");
                }
            }
        }
    }
}

#[test]
fn the_longest_durations_accepted_still_probe_and_sum_without_overflow() {
    let server = Scripted::reply(response("200 OK", "", "ok"));
    let max = "2147483647s";
    let out = run(probe().args([
        "--retry",
        "1000000",
        "--interval",
        max,
        "-t",
        max,
        "--connect-timeout",
        max,
        &server.url("/"),
    ]));
    out.expect(0, QUICK).stdout_has("healthy: GET");
    // A wait of 68 years that ends at the first healthy check.
    let out = run(probe().args(["--wait", max, "--interval", max, &server.url("/")]));
    out.expect(0, QUICK);
    let out = run(probe().args(["-t", "2147483648s", &server.url("/")]));
    out.expect(1, QUICK)
        .stderr_has("-t/--timeout: \"2147483648s\" is longer than 2147483647s");
}

#[test]
fn a_supervisor_whose_prober_panics_stops_the_command_and_exits_1() {
    if under_runner() || std::env::var_os(crate::support::ENV_TEST_BIN).is_some() {
        note("the fault switch is compiled into debug builds only");
        return;
    }
    let server = Scripted::reply(response("200 OK", "", "ok"));
    let dir = std::env::temp_dir().join(format!("hp-panic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let pid_file = dir.join("child.pid");
    let script = format!("echo $$ > {}; exec sleep 30", pid_file.display());
    let start = Instant::now();
    let mut child = probe_command()
        .env("PATH", "/usr/bin:/bin")
        .env("HEALTHPROBE_TEST_FAULT", "panic-in-prober")
        .args(["--liveness", &server.url("/"), "--period", "200ms"])
        .args(["--initial-delay", "300ms"])
        .args([
            "--termination-grace-period",
            "2s",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn healthprobe");
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut stderr));
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{stderr}");
    assert!(stderr.contains("internal error"), "{stderr}");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("the child wrote its pid")
        .trim()
        .parse()
        .expect("a pid");
    // SAFETY: kill(2) with signal 0 only asks whether the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !alive,
        "the child {pid} still runs after healthprobe exited: {stderr}"
    );
}

/// A server that accepts and never answers: a TLS server, or a proxy,
/// that hangs.
fn silent() -> Scripted {
    Scripted::start_unread(|c| c.stall())
}

#[test]
fn connect_timeout_bounds_the_tls_handshake_and_the_proxy_connect() {
    let server = silent();
    let cases = [
        (
            vec![format!("https://127.0.0.1:{}/", server.addr.port())],
            "TLS handshake timed out after 1s",
        ),
        (
            vec![
                "--proxy".to_string(),
                format!("http://127.0.0.1:{}", server.addr.port()),
                "https://example.test/".to_string(),
            ],
            "proxy CONNECT timed out after 1s",
        ),
        (
            vec![
                "--proxy".to_string(),
                format!("http://127.0.0.1:{}", server.addr.port()),
                "http://example.test/".to_string(),
            ],
            "proxy CONNECT timed out after 1s",
        ),
    ];
    for (args, reason) in cases {
        if !cfg!(feature = "tls") && args.iter().any(|a| a.starts_with("https")) {
            continue;
        }
        let out = run(probe()
            .args(["-t", "5s", "--connect-timeout", "1s"])
            .args(&args));
        out.expect(1, Duration::from_secs(1) + SLACK)
            .stdout_has(reason);
    }
}

#[test]
fn a_proxy_port_outside_1_to_65535_is_refused_naming_the_flag_before_anything_is_sent() {
    let server = Scripted::reply(response("200 OK", "", "ok"));
    for port in ["99999", "0"] {
        let proxy = format!("http://127.0.0.1:{port}");
        let out = run(probe().args(["--proxy", &proxy, &server.url("/")]));
        out.expect(1, QUICK)
            .stderr_has(&format!("--proxy: port {port} is outside 1-65535"));
        let out = run(probe()
            .env("HEALTHPROBE_PROXY", &proxy)
            .arg(server.url("/")));
        out.expect(1, QUICK).stderr_has(&format!(
            "HEALTHPROBE_PROXY: port {port} is outside 1-65535"
        ));
    }
    assert_eq!(server.connections(), 0, "something was sent");
}

#[test]
fn messages_point_the_right_way() {
    // A flag that does something else is never suggested.
    let out = run(probe().args(["--compressed", "http://127.0.0.1:1/"]));
    out.expect(1, QUICK)
        .stderr_has("--compressed (curl's) is not supported");
    assert!(!out.stderr.contains("did you mean"), "{out:#?}");
    // The flag the user typed is named.
    let out = run(probe().args(["-I", "--expect-body", "ok", "http://127.0.0.1:1/"]));
    out.expect(1, QUICK)
        .stderr_has("-I/--head HEAD gets no body");
    // A deadline below a microsecond is written as it is.
    let out = run(probe().args(["-t", "1ns", "http://127.0.0.1:1/"]));
    out.expect(1, QUICK).stdout_has("timed out after 1ns");
}

/// A password holding a quote (`'` or `"`) was cut at the quote when the
/// command line was scanned for secrets, and the rest shown in an error
/// line; one holding a combining mark (U+05BF) was shown as `{:?}` escapes
/// it, a form not registered. Found by the target fuzz target on the first
/// version of the redacting writer.
#[test]
fn a_password_holding_a_quote_or_a_combining_mark_is_masked_whole() {
    for password in [
        "pa'ss-w0rd",
        "pa\"ss-w0rd",
        "pa\u{5bf}ss-w0rd",
        "pa ss-w0rd",
    ] {
        let url = format!("http://user:{password}@127.0.0.1:1/health");
        let out = run(probe().args(["--retry", &url, "http://127.0.0.1:1/"]));
        out.expect(1, QUICK);
        assert!(!out.stderr.contains("ss-w0rd"), "{password}: {out:#?}");
    }
}
