//! A curl user's first hour: their flags, the environment Compose and
//! Kubernetes create, and values validated by one rule. Each test failed
//! on the binary before these changes.

use std::time::Duration;

use crate::support::{QUICK, SLACK, Scripted, closed_port, probe, response, run};

fn ok_server() -> Scripted {
    Scripted::reply(response("200 OK", "", "ok"))
}

/// The first request line the server received.
fn request_line(server: &Scripted, i: usize) -> String {
    server.requests()[i]
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn curls_health_check_line_works_with_curl_replaced() {
    // curl -fsS --max-time 2 -A probe -L -I http://127.0.0.1:PORT/health
    let server = Scripted::start(|mut c| {
        let head = if c.request.starts_with("HEAD /old ") {
            response("302 Found", "location: /health\r\n", "")
        } else {
            response("200 OK", "", "")
        };
        c.send(&head);
    });
    let out = run(probe().args([
        "-fsS",
        "--max-time",
        "2",
        "-A",
        "probe/1",
        "-L",
        "-I",
        &server.url("/old"),
    ]));
    out.expect(0, QUICK).stdout_has("healthy: HEAD ");
    assert_eq!(request_line(&server, 1), "HEAD /health HTTP/1.1");
    assert!(
        server.requests()[1].contains("user-agent: probe/1\r\n"),
        "{:?}",
        server.requests()
    );
    // The long forms, and -m with fractions of a second (curl's unit).
    run(probe()
        .args([
            "--fail",
            "--silent",
            "--fail-with-body",
            "--show-error",
            "--location",
            "--head",
            "-m",
            "0.5",
        ])
        .arg(server.url("/health")))
    .expect(0, QUICK);
}

#[test]
fn max_time_is_the_deadline_in_seconds() {
    let server = Scripted::start(|c| c.stall());
    let out = run(probe().args(["-m", "0.5", &server.url("/")]));
    out.expect(1, Duration::from_millis(500) + SLACK)
        .stdout_has("timed out after 500ms");
}

#[test]
fn head_and_a_get_method_together_are_refused() {
    let out = run(probe().args(["-I", "-X", "GET", "http://127.0.0.1:1/"]));
    out.expect(1, QUICK)
        .stderr_has("--head")
        .stderr_has("--method");
}

/// `curl -fsS -o /dev/null URL` was refused: a value of -o with a / or a
/// . in it is a file the body is written to, as in curl; a bare word that
/// is not a format is still refused, before anything is sent.
#[test]
fn curls_output_to_a_file_gets_the_body_and_the_report_stays_on_stdout() {
    let server = Scripted::reply(response("200 OK", "", "the body"));
    let out = run(probe().args(["-fsS", "-o", "/dev/null", &server.url("/")]));
    out.expect(0, QUICK).stdout_starts("healthy: GET ");
    let dir = std::env::temp_dir().join(format!("healthprobe-o-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.txt");
    std::fs::write(&file, "old content, longer than the body").unwrap();
    let out = run(probe().args(["-o", file.to_str().unwrap(), &server.url("/")]));
    out.expect(0, QUICK).stdout_starts("healthy: GET ");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "the body");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(server.connections(), 2);
    let refused = [
        (vec!["-o", "yaml"], "e.g. ./yaml"),
        (vec!["-o", "-"], "not written to stdout"),
        (
            vec!["-o", "/nonexistent-dir/body"],
            "--output: /nonexistent-dir/body",
        ),
        (vec!["-w", "%{http_code}"], "-o json"),
    ];
    for (args, says) in refused {
        let out = run(probe().args(&args).arg(server.url("/")));
        out.expect(1, QUICK).stderr_has(says);
        assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    }
    assert_eq!(server.connections(), 2, "a refused invocation sent nothing");
}

/// curl's --retry N, --retry-delay, --retry-max-time and
/// --retry-connrefused were refused; they map onto the wait loop: N+1
/// attempts at most, --retry-delay apart, within --retry-max-time.
#[test]
fn curls_retry_flags_make_attempts_on_the_wait_loop() {
    let refused = closed_port();
    let url = format!("http://127.0.0.1:{refused}/");
    let out = run(probe().args([
        "-fsS",
        "--retry",
        "2",
        "--retry-delay",
        "300ms",
        "--retry-connrefused",
        &url,
    ]));
    out.expect(1, Duration::from_millis(600) + SLACK)
        .stdout_starts("unhealthy after 3 attempts in 0.6s: GET ");
    assert!(out.elapsed >= Duration::from_millis(600), "{out:#?}");
    // Healthy on the third attempt: three requests, then exit 0.
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let server = Scripted::start(move |mut c| {
        let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let status = if n < 2 {
            "503 Service Unavailable"
        } else {
            "200 OK"
        };
        c.send(&response(status, "", ""));
    });
    let out = run(probe().args(["--retry", "5", "--retry-delay", "100ms", &server.url("/")]));
    out.expect(0, QUICK).stdout_starts("healthy: GET ");
    assert!(out.elapsed >= Duration::from_millis(200), "{out:#?}");
    assert_eq!(server.connections(), 3);
    // --retry-max-time ends the retries first, as --wait does.
    let out = run(probe().args([
        "--retry",
        "100",
        "--retry-delay",
        "200ms",
        "--retry-max-time",
        "1s",
        &url,
    ]));
    out.expect(1, Duration::from_secs(1) + SLACK);
    assert!(out.elapsed >= Duration::from_secs(1), "{out:#?}");
    // --retry 0 is one attempt.
    run(probe().args(["--retry", "0", "--retry-delay", "5s", &url])).expect(1, QUICK);
    run(probe().args(["--retry", "two", &url]))
        .expect(1, QUICK)
        .stderr_has("--retry");
}

/// curl's -4 and -6 were refused: they choose the address family of the
/// addresses tried.
#[test]
fn ipv4_and_ipv6_flags_choose_the_addresses_tried() {
    let server = ok_server();
    let port = server.url("").rsplit(':').next().unwrap().to_string();
    let url = format!("http://app.test:{port}/");
    let both = format!("app.test:{port}:[::1],127.0.0.1");
    let v4 = format!("app.test:{port}:127.0.0.1");
    let v6 = format!("app.test:{port}:[::1]");
    run(probe().args(["-4", "--resolve", &both, &url])).expect(0, QUICK);
    run(probe().args(["--ipv4", "--resolve", &v4, &url])).expect(0, QUICK);
    let out = run(probe().args(["-4", "--resolve", &v6, &url]));
    out.expect(1, QUICK)
        .stdout_has("app.test has no IPv4 address (-4)");
    let out = run(probe().args(["-6", "--resolve", &v4, &url]));
    out.expect(1, QUICK)
        .stdout_has("app.test has no IPv6 address (-6)");
    let out = run(probe().args(["-6", &format!("tcp://127.0.0.1:{port}")]));
    out.expect(1, QUICK)
        .stdout_has("127.0.0.1 has no IPv6 address (-6)");
    assert_eq!(server.connections(), 2);
    run(probe().args(["-4", "-6", &url]))
        .expect(1, QUICK)
        .stderr_has("-4/--ipv4 and -6/--ipv6 cannot be used together");
    assert_eq!(server.connections(), 2);
}

#[test]
fn misspelt_flags_name_the_flag_they_were_meant_to_be() {
    for (typo, meant) in [
        ("--timout", "--timeout"),
        ("--wiat", "--wait"),
        ("--expect-jsn", "--expect-json"),
    ] {
        let out = run(probe().args([typo, "1", "http://127.0.0.1:1/"]));
        out.expect(1, QUICK)
            .stderr_has(&format!("did you mean '{meant}'?"));
        assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    }
}

#[test]
fn a_target_without_a_scheme_is_http_as_in_curl() {
    let server = ok_server();
    let port = server.addr.port();
    let out = run(probe().arg(format!("localhost:{port}/health")));
    out.expect(0, QUICK).stdout_has(&format!(
        "healthy: GET http://localhost:{port}/health -> 200 OK"
    ));
    run(probe().arg(format!("127.0.0.1:{port}"))).expect(0, QUICK);
    assert_eq!(request_line(&server, 1), "GET / HTTP/1.1");
    let out = run(probe().arg("localhost"));
    out.expect(1, QUICK)
        .stderr_has("tcp://")
        .stderr_has("host:port");
}

#[test]
fn an_empty_variable_is_no_variable() {
    let server = ok_server();
    let mut cmd = probe();
    for var in [
        "HEALTHPROBE_TIMEOUT",
        "HEALTHPROBE_CONNECT_TIMEOUT",
        "HEALTHPROBE_METHOD",
        "HEALTHPROBE_MAX_BODY",
        "HEALTHPROBE_EXPECT_STATUS",
        "HEALTHPROBE_OUTPUT",
        "HEALTHPROBE_WAIT",
        "HEALTHPROBE_INTERVAL",
        "HEALTHPROBE_QUIET",
        "HEALTHPROBE_VERBOSE",
        "HEALTHPROBE_INSECURE",
        "HEALTHPROBE_FOLLOW_REDIRECTS",
        "HEALTHPROBE_HOST",
        "HEALTHPROBE_PORT",
        "HEALTHPROBE_USER",
        "HEALTHPROBE_HEADERS",
        "HEALTHPROBE_EXPECT_JSON",
        "HEALTHPROBE_CACERT",
        "HEALTHPROBE_PROXY",
        "HEALTHPROBE_UNIX_SOCKET",
        "PORT",
    ] {
        cmd.env(var, "");
    }
    let out = run(cmd.arg(server.url("/health")));
    out.expect(0, QUICK).stdout_has("healthy: GET ");
    // HEALTHPROBE_URL= with a bare path: still "no target".
    let out = run(probe().env("HEALTHPROBE_URL", ""));
    out.expect(1, QUICK).stderr_has("no target");
}

#[test]
fn port_variables_matter_only_when_a_bare_path_needs_a_port() {
    let server = ok_server();
    for (var, value) in [
        ("PORT", "abc"),
        ("HEALTHPROBE_PORT", "tcp://10.96.0.12:80"),
        ("HEALTHPROBE_PORT", "+8080"),
        ("HEALTHPROBE_HOST", "not a host/"),
    ] {
        let out = run(probe().env(var, value).arg(server.url("/health")));
        out.expect(0, QUICK);
    }
    // A Kubernetes service link is not a port: PORT is used for the bare path.
    let out = run(probe()
        .env("HEALTHPROBE_PORT", "tcp://10.96.0.12:80")
        .env("PORT", server.addr.port().to_string())
        .arg("/health"));
    out.expect(0, QUICK);
    // Needed and bad: refused, naming the variable.
    let out = run(probe().env("PORT", "abc").arg("/health"));
    out.expect(1, QUICK).stderr_has("PORT");
}

#[test]
fn the_command_line_beats_the_environment_for_quiet_and_verbose() {
    let server = ok_server();
    let out = run(probe()
        .env("HEALTHPROBE_QUIET", "false")
        .args(["-v", &server.url("/")]));
    out.expect(0, QUICK)
        .stdout_has("healthy: GET ")
        .stderr_has("> GET / HTTP/1.1");
    let out = run(probe()
        .env("HEALTHPROBE_QUIET", "1")
        .args(["-v", &server.url("/")]));
    out.expect(0, QUICK)
        .stdout_has("healthy: GET ")
        .stderr_has("> GET / HTTP/1.1");
    let out = run(probe()
        .env("HEALTHPROBE_VERBOSE", "true")
        .args(["-q", &server.url("/")]));
    out.expect(0, QUICK);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    // Both typed: the user asked for two things at once.
    let out = run(probe().args(["-q", "-v", &server.url("/")]));
    out.expect(1, QUICK)
        .stderr_has("-q/--quiet and -v/--verbose cannot be used together");
}

#[test]
fn a_backslash_n_separates_headers_and_expectations_in_dockerfile_env_lines() {
    let server = Scripted::reply(response("200 OK", "", r#"{"status":"ok","ready":true}"#));
    let out = run(probe()
        .env("HEALTHPROBE_HEADERS", r"X-A: 1\nX-B: 2")
        .env("HEALTHPROBE_EXPECT_JSON", r"/status=ok\n/ready=true")
        .arg(server.url("/")));
    out.expect(0, QUICK);
    let head = &server.requests()[0];
    assert!(
        head.contains("\r\nx-a: 1\r\n") && head.contains("\r\nx-b: 2\r\n"),
        "{head}"
    );
    let out = run(probe()
        .env("HEALTHPROBE_EXPECT_JSON", r"/status=ok\n/ready=false")
        .arg(server.url("/")));
    out.expect(1, QUICK)
        .stdout_has(r#"JSON /ready is "true", expected "false""#);
}

#[test]
fn ports_are_digits_only() {
    for args in [
        vec!["http://127.0.0.1:+8080/"],
        vec!["--port", "+8080", "/h"],
        vec!["tcp://127.0.0.1:+5432"],
        vec!["--resolve", "h:+80:127.0.0.1", "http://h/"],
    ] {
        let out = run(probe().args(&args));
        out.expect(1, QUICK);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out:#?}");
    }
}

#[test]
fn surrounding_whitespace_is_ignored_in_every_value_alike() {
    let server = Scripted::reply(response("200 OK", "", r#"{"status":"ok"}"#));
    let port = server.addr.port().to_string();
    let padded = |v: &str| format!(" {v} ");
    let out = run(probe()
        .env("HEALTHPROBE_OUTPUT", padded("json"))
        .args(["-t", &padded("2s")])
        .args(["--connect-timeout", &padded("1s")])
        .args(["-X", &padded("get")])
        .args(["--max-body", &padded("1KiB")])
        .args(["--expect-status", &padded("200")])
        .args(["--expect-json", &padded("/status=ok")])
        .args(["--port", &padded(&port), "--host", &padded("127.0.0.1")])
        .args(["--resolve", &padded(&format!("app.test:{port}:127.0.0.1"))])
        .args(["--wait", &padded("2s"), "--interval", &padded("100ms")])
        .arg(padded("/health")));
    out.expect(0, QUICK).stdout_has(r#""healthy":true"#);
}

#[test]
fn expectations_that_cannot_apply_to_tcp_targets_are_refused() {
    let server = ok_server();
    let tcp = format!("tcp://127.0.0.1:{}", server.addr.port());
    for flag in [
        ["--expect-status", "200"],
        ["--expect-body", "ok"],
        ["--expect-json", "/a=b"],
    ] {
        let out = run(probe().args(flag).arg(&tcp));
        out.expect(1, QUICK)
            .stderr_has(flag[0])
            .stderr_has("tcp://");
    }
    assert_eq!(server.connections(), 0, "something was sent");
    // From the environment (an image's HTTP check), they do not stop a tcp:// wait.
    run(probe()
        .env("HEALTHPROBE_EXPECT_JSON", "/status=ok")
        .arg(&tcp))
    .expect(0, QUICK);
    // With an http target beside the tcp one, they apply to it.
    run(probe().args(["--expect-body", "ok", &tcp, &server.url("/")])).expect(0, QUICK);
}
