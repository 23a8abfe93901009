//! The probe CLI end to end: the real binary against servers on loopback.

use std::time::Duration;

use crate::support::{BlackHole, QUICK, Scripted, Tiny, closed_port, probe, response, run, skip};

fn ok_json() -> Tiny {
    Tiny::start(|_| {
        (
            200,
            r#"{"status":"ok","ready":true,"workers":4,"gpu":null}"#,
        )
    })
}

// ---- status codes and the Kubernetes rule -------------------------------

#[test]
fn status_200_is_healthy_with_one_line_report() {
    let server = ok_json();
    let out = run(probe().arg(server.url("/health")));
    out.expect(0, QUICK);
    let line = format!("healthy: GET {} -> 200 OK in ", server.url("/health"));
    out.stdout_starts(&line);
    assert_eq!(out.stdout.lines().count(), 1);
    assert_eq!(out.stderr, "");
}

#[test]
fn status_503_is_unhealthy_with_body_excerpt() {
    let server = Tiny::start(|_| (503, r#"{"detail":"model not loaded"}"#));
    let out = run(probe().arg(server.url("/health")));
    out.expect(1, QUICK);
    out.stdout_starts(&format!(
        "unhealthy: GET {} -> 503 Service Unavailable in ",
        server.url("/health")
    ));
    assert!(
        out.stdout
            .trim_end()
            .ends_with(r#": "{\"detail\":\"model not loaded\"}""#),
        "{}",
        out.stdout
    );
}

#[test]
fn statuses_follow_the_kubernetes_rule_200_to_399() {
    for (status, code) in [
        (199, 1),
        (200, 0),
        (204, 0),
        (301, 0),
        (399, 0),
        (400, 1),
        (404, 1),
        (500, 1),
    ] {
        let server = Scripted::reply(response(&format!("{status} X"), "", ""));
        let out = run(probe().arg(server.url("/")));
        assert_eq!(out.code, Some(code), "status {status}: {out:#?}");
    }
}

#[test]
fn expect_status_replaces_the_healthy_set() {
    let server = Tiny::start(|_| (200, "{}"));
    let out = run(probe()
        .args(["--expect-status", "204,300-302"])
        .arg(server.url("/")));
    out.expect(1, QUICK);
    out.stdout_has("-> 200 OK in ")
        .stdout_has("(expected 204,300-302)");
    run(probe()
        .args(["--expect-status", "200"])
        .arg(server.url("/")))
    .expect(0, QUICK);
    run(probe()
        .env("HEALTHPROBE_EXPECT_STATUS", "500-599")
        .arg(server.url("/")))
    .expect(1, QUICK);
}

// ---- body and JSON expectations ------------------------------------------

#[test]
fn expect_body_needs_the_text_in_the_body() {
    let server = ok_json();
    run(probe()
        .args(["--expect-body", r#""status":"ok""#])
        .arg(server.url("/")))
    .expect(0, QUICK);
    let out = run(probe()
        .args(["--expect-body", "ready\":false"])
        .arg(server.url("/")));
    out.expect(1, QUICK);
    out.stdout_has("-> 200 OK in ")
        .stdout_has("body does not contain");
    run(probe()
        .env("HEALTHPROBE_EXPECT_BODY", "workers")
        .arg(server.url("/")))
    .expect(0, QUICK);
}

#[test]
fn expect_json_compares_strings_by_text_and_others_as_json() {
    let server = ok_json();
    let url = server.url("/health");
    for (expectation, code) in [
        ("/status=ok", 0),
        ("/ready=true", 0),
        ("/workers=4", 0),
        ("/gpu=null", 0),
        ("/status=loading", 1),
        ("/ready=false", 1),
        ("/workers=\"4\"", 1),
        ("/missing=x", 1),
    ] {
        let out = run(probe().args(["--expect-json", expectation, &url]));
        assert_eq!(out.code, Some(code), "{expectation}: {out:#?}");
    }
    let out = run(probe().args([
        "--expect-json",
        "/status=ok",
        "--expect-json",
        "/workers=5",
        &url,
    ]));
    out.expect(1, QUICK);
    out.stdout_has(r#"JSON /workers is "4", expected "5""#);
    run(probe()
        .env("HEALTHPROBE_EXPECT_JSON", "/status=ok\n/ready=true\n")
        .arg(&url))
    .expect(0, QUICK);
}

#[test]
fn expect_json_on_a_non_json_body_is_unhealthy() {
    let server = Tiny::start(|_| (200, "<html>ok</html>"));
    let out = run(probe().args(["--expect-json", "/status=ok", &server.url("/")]));
    out.expect(1, QUICK);
    out.stdout_has("body is not JSON");
}

// ---- the request: method, headers, user agent -----------------------------

#[test]
fn head_method_sends_head_and_judges_the_status() {
    let server = Scripted::reply(response("200 OK", "", ""));
    run(probe().args(["-X", "HEAD", &server.url("/h")])).expect(0, QUICK);
    assert!(
        server.requests()[0].starts_with("HEAD /h HTTP/1.1\r\n"),
        "{:?}",
        server.requests()
    );
    let out = run(probe().args(["-X", "HEAD", "--expect-body", "x", &server.url("/h")]));
    out.expect(1, QUICK);
    out.stderr_has("HEAD");
    let out = run(probe().args(["-X", "POST", &server.url("/h")]));
    out.expect(1, QUICK);
    out.stderr_has("--method");
}

#[test]
fn headers_from_flags_and_env_are_sent_and_host_can_be_set() {
    let server = Scripted::reply(response("200 OK", "", ""));
    run(probe()
        .env(
            "HEALTHPROBE_HEADERS",
            "X-From-Env: 1\nAuthorization: Bearer env\n",
        )
        .args([
            "-H",
            "X-Flag: two words",
            "-H",
            "Authorization: Bearer flag",
            "-H",
            "Host: app.internal",
        ])
        .arg(server.url("/")))
    .expect(0, QUICK);
    let request = server.requests()[0].to_ascii_lowercase();
    assert!(request.contains("\r\nx-from-env: 1\r\n"), "{request}");
    assert!(request.contains("\r\nx-flag: two words\r\n"), "{request}");
    assert!(
        request.contains("\r\nauthorization: bearer flag\r\n"),
        "{request}"
    );
    assert!(!request.contains("bearer env"), "{request}");
    assert!(request.contains("\r\nhost: app.internal\r\n"), "{request}");
    assert_eq!(request.matches("\r\nhost:").count(), 1, "{request}");
}

#[test]
fn header_with_crlf_is_refused_and_nothing_is_sent() {
    let server = Scripted::reply(response("200 OK", "", ""));
    // (NUL cannot pass through argv or the environment; the unit tests cover it.)
    for bad in [
        "X-A: b\r\nX-Evil: 1",
        "X-A: b\nX",
        "X-A: b\r",
        "NoColon",
        "Bad Name: x",
        ": x",
    ] {
        let out = run(probe().args(["-H", bad, &server.url("/")]));
        out.expect(1, QUICK);
        assert!(out.stderr.contains("--header"), "{bad:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    let out = run(probe()
        .env("HEALTHPROBE_HEADERS", "X-A: b\rX-Evil: 1")
        .arg(server.url("/")));
    out.expect(1, QUICK);
    out.stderr_has("HEALTHPROBE_HEADERS");
    assert_eq!(server.connections(), 0, "something was sent");
}

#[test]
fn user_agent_defaults_to_healthprobe_version_and_can_be_set() {
    let server = Scripted::reply(response("200 OK", "", ""));
    run(probe().arg(server.url("/"))).expect(0, QUICK);
    run(probe().args(["--user-agent", "kube-probe/1.30", &server.url("/")])).expect(0, QUICK);
    let requests = server.requests();
    let ua = format!("user-agent: healthprobe/{}\r\n", env!("CARGO_PKG_VERSION"));
    assert!(
        requests[0].to_ascii_lowercase().contains(&ua),
        "{}",
        requests[0]
    );
    assert!(
        requests[1]
            .to_ascii_lowercase()
            .contains("user-agent: kube-probe/1.30\r\n"),
        "{}",
        requests[1]
    );
}

// ---- deadlines -------------------------------------------------------------

#[test]
fn timeout_from_the_environment_is_the_deadline() {
    let server = Scripted::start(|c| c.stall());
    let out = run(probe()
        .env("HEALTHPROBE_TIMEOUT", "700ms")
        .arg(server.url("/")));
    out.expect(1, Duration::from_millis(1200));
    assert!(out.elapsed >= Duration::from_millis(650));
}

#[test]
fn connect_timeout_ends_a_connect_that_gets_no_answer() {
    let hole = BlackHole::start();
    if !hole.holds() {
        skip("this kernel completes handshakes past a full backlog");
        return;
    }
    let url = format!("http://{}/", hole.addr);
    let out = run(probe().args(["--timeout", "5s", "--connect-timeout", "500ms", &url]));
    out.expect(1, Duration::from_millis(1000));
    out.stdout_has("connect timed out after 500ms");
    let out = run(probe().args(["--timeout", "700ms", &url]));
    out.expect(1, Duration::from_millis(1200));
    out.stdout_has("timed out after 700ms");
}

#[test]
fn refused_port_is_unhealthy_at_once() {
    let url = format!("http://127.0.0.1:{}/health", closed_port());
    let out = run(probe().arg(&url));
    out.expect(1, QUICK);
    assert_eq!(
        out.stdout.trim_end(),
        format!("unhealthy: GET {url}: connection refused")
    );
}

// ---- the body limit --------------------------------------------------------

#[test]
fn body_that_stalls_before_max_body_is_unhealthy_at_the_deadline() {
    let server = Scripted::start(|mut c| {
        c.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
        c.stall();
    });
    let out = run(probe().args(["--timeout", "1s", &server.url("/")]));
    out.expect(1, Duration::from_millis(1500));
    out.stdout_has("-> 200 OK in ")
        .stdout_has("timed out after 1s reading the body");
    // The same stall past the limit is healthy: only 5 bytes are wanted.
    run(probe().args(["--timeout", "1s", "--max-body", "5", &server.url("/")]))
        .expect(0, Duration::from_millis(900));
}

#[test]
fn expectations_use_only_the_bytes_read() {
    let server = Tiny::start(|_| (200, "0123456789 ready"));
    run(probe().args([
        "--max-body",
        "10",
        "--expect-body",
        "ready",
        &server.url("/"),
    ]))
    .expect(1, QUICK);
    run(probe().args([
        "--max-body",
        "64KiB",
        "--expect-body",
        "ready",
        &server.url("/"),
    ]))
    .expect(0, QUICK);
    let out = run(probe().args(["--max-body", "ten", &server.url("/")]));
    out.expect(1, QUICK);
    out.stderr_has("--max-body");
}

// ---- redirects ---------------------------------------------------------------

#[test]
fn same_host_redirects_are_followed_by_default_as_the_kubelet_does() {
    // Seed 001's FastAPI app: routes end in a slash, the probe spec does
    // not, and Starlette answers 307 to the other form. A liveness route
    // that fails behind that redirect must fail the probe (it exited 0,
    // judging the 307 itself).
    let server = Scripted::start(|mut c| {
        if c.request.starts_with("GET /liveness ") {
            c.send(&response(
                "307 Temporary Redirect",
                "location: /liveness/\r\n",
                "",
            ));
        } else {
            c.send(&response("500 Internal Server Error", "", "broken"));
        }
    });
    let out = run(probe().arg(server.url("/liveness")));
    out.expect(1, QUICK);
    out.stdout_has("-> 500 Internal Server Error in ");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.starts_with("GET /liveness/ "))
    );
    // --max-redirs 0 judges the 3xx itself; -L is still accepted.
    let out = run(probe().args(["--max-redirs", "0", &server.url("/liveness")]));
    out.expect(0, QUICK);
    out.stdout_has("-> 307 Temporary Redirect in ");
    run(probe().args(["-L", &server.url("/liveness")])).expect(1, QUICK);
    let out = run(probe().args(["--max-redirs", "1", &server.url("/liveness")]));
    out.expect(1, QUICK);
    let out = run(probe()
        .env("HEALTHPROBE_MAX_REDIRS", "x")
        .arg(server.url("/liveness")));
    out.expect(1, QUICK).stderr_has("HEALTHPROBE_MAX_REDIRS");
}

// ---- proxies -----------------------------------------------------------------

/// A proxy that cannot be reached is named as the proxy, not blamed on the
/// target (it said "connection refused" about the target's URL).
#[test]
fn a_dead_proxy_is_named_in_the_reason() {
    let port = closed_port();
    let out = run(probe().args([
        "--proxy",
        &format!("http://127.0.0.1:{port}"),
        "http://app.test/health",
    ]));
    out.expect(1, QUICK)
        .stdout_has(&format!("proxy 127.0.0.1:{port}: connection refused"));
    // A bare host:port is an HTTP proxy, as curl reads it.
    let out = run(probe().args(["--proxy", &format!("127.0.0.1:{port}"), "http://app.test/"]));
    out.expect(1, QUICK).stdout_has("proxy 127.0.0.1:");
}

#[test]
fn explicit_proxy_tunnels_the_request() {
    // ureq opens a CONNECT tunnel through an HTTP proxy, then sends the
    // request inside it.
    let tunneled = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = tunneled.clone();
    let proxy = Scripted::start(move |mut c| {
        if c.request
            .starts_with("CONNECT app.internal:8000 HTTP/1.1\r\n")
        {
            c.send(b"HTTP/1.1 200 Connection established\r\n\r\n");
            let mut buf = [0u8; 4096];
            let n = std::io::Read::read(&mut c.stream, &mut buf).unwrap_or(0);
            *seen.lock().unwrap() = String::from_utf8_lossy(&buf[..n]).into_owned();
            c.send(&response("200 OK", "", "via proxy"));
        } else {
            c.send(&response("400 Bad Request", "", ""));
        }
    });
    let target = "http://app.internal:8000/health";
    run(probe().args(["--proxy", &proxy.url(""), target])).expect(0, QUICK);
    assert!(
        tunneled
            .lock()
            .unwrap()
            .starts_with("GET /health HTTP/1.1\r\n"),
        "{:?}",
        tunneled
    );
    let out = run(probe().args(["--proxy", "notaproxy://x", target]));
    out.expect(1, QUICK);
    out.stderr_has("--proxy");
}

// ---- targets -------------------------------------------------------------------

#[test]
fn bare_path_uses_host_and_port_from_flags_and_env() {
    let server = ok_json();
    let port = server.addr.port().to_string();
    run(probe().args(["--port", &port, "/health"])).expect(0, QUICK);
    run(probe().env("HEALTHPROBE_PORT", &port).arg("/health")).expect(0, QUICK);
    run(probe().env("PORT", &port).arg("/health")).expect(0, QUICK);
    // HEALTHPROBE_PORT wins over PORT.
    run(probe()
        .env("HEALTHPROBE_PORT", &port)
        .env("PORT", "1")
        .arg("/health"))
    .expect(0, QUICK);
    run(probe()
        .env("HEALTHPROBE_HOST", "127.0.0.1")
        .env("PORT", &port)
        .arg("/health"))
    .expect(0, QUICK);
}

#[test]
fn url_from_env_is_used_without_targets() {
    let server = ok_json();
    let out = run(probe().env("HEALTHPROBE_URL", server.url("/health")));
    out.expect(0, QUICK);
    assert!(out.stdout.contains(&server.url("/health")));
    let out = run(probe().env("HEALTHPROBE_URL", "gopher://x/"));
    out.expect(1, QUICK);
    out.stderr_has("HEALTHPROBE_URL");
    let out = run(&mut probe());
    out.expect(1, QUICK);
    out.stderr_has("HEALTHPROBE_URL");
}

#[test]
fn several_targets_are_checked_concurrently_and_all_must_be_healthy() {
    let slow = || {
        Scripted::start(|mut c| {
            if c.pause(Duration::from_millis(800)) {
                c.send(&response("200 OK", "", ""));
            }
        })
    };
    let (a, b) = (slow(), slow());
    let out = run(probe().args(["--timeout", "3s", &a.url("/a"), &b.url("/b")]));
    out.expect(0, Duration::from_millis(1500));
    assert_eq!(out.stdout.lines().count(), 2);
    assert!(
        out.stdout.lines().all(|l| l.starts_with("healthy: ")),
        "{}",
        out.stdout
    );

    let down = format!("http://127.0.0.1:{}/", closed_port());
    let out = run(probe().args([&a.url("/a"), &down]));
    out.expect(1, QUICK);
    let lines: Vec<_> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("healthy: ") && lines[1].starts_with("unhealthy: "),
        "{}",
        out.stdout
    );
}

#[test]
fn ipv6_literal_targets_work() {
    let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
        skip("no ::1 on this machine");
        return;
    };
    drop(listener);
    let server = Scripted::start_on("[::1]:0", |mut c| {
        c.send(&response("200 OK", "", ""));
    });
    let url = format!("http://[::1]:{}/health", server.addr.port());
    run(probe().arg(&url)).expect(0, QUICK);
    run(probe().args([
        "--host",
        "::1",
        "--port",
        &server.addr.port().to_string(),
        "/health",
    ]))
    .expect(0, QUICK);
}

#[test]
fn unknown_host_is_unhealthy() {
    let out = run(probe().args(["--timeout", "3s", "http://no-such-host.invalid:8000/"]));
    out.expect(1, Duration::from_secs(4));
    out.stdout_has("resolve");
}

// ---- output --------------------------------------------------------------------

#[test]
fn json_output_has_every_field_with_nulls_where_they_do_not_apply() {
    let server = ok_json();
    let down = format!("http://127.0.0.1:{}/", closed_port());
    let out = run(probe().args(["-o", "json", &server.url("/health"), &down]));
    out.expect(1, QUICK);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    assert_eq!(doc["healthy"], false);
    let up = &doc["checks"][0];
    assert_eq!(up["target"], server.url("/health"));
    assert_eq!(
        (up["method"].as_str(), up["healthy"].as_bool()),
        (Some("GET"), Some(true))
    );
    assert_eq!(
        (up["status"].as_u64(), up["reason"].as_str()),
        (Some(200), Some("OK"))
    );
    assert!(
        up["elapsed_ms"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0 && ms < 3000.0)
    );
    assert!(up["error"].is_null());
    assert!(
        up["body_excerpt"]
            .as_str()
            .is_some_and(|b| b.contains("\"status\":\"ok\""))
    );
    let down = &doc["checks"][1];
    assert_eq!(down["healthy"], false);
    assert!(down["status"].is_null() && down["reason"].is_null() && down["body_excerpt"].is_null());
    assert_eq!(down["error"], "connection refused");
    run(probe()
        .env("HEALTHPROBE_OUTPUT", "yaml")
        .arg(server.url("/")))
    .expect(1, QUICK);
}

#[test]
fn quiet_prints_nothing_and_keeps_the_exit_status() {
    let server = Tiny::start(|_| (503, "{}"));
    let out = run(probe().args(["-q", &server.url("/")]));
    out.expect(1, QUICK);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}

#[test]
fn verbose_traces_phases_and_heads_on_stderr() {
    let server = Scripted::reply(response("200 OK", "x-served-by: scripted\r\n", "ok"));
    let out = run(probe().args(["-v", &server.url("/health")]));
    out.expect(0, QUICK);
    out.stdout_starts("healthy: ");
    for needle in [
        "connected to",
        "> GET /health HTTP/1.1",
        "< HTTP/1.1 200 OK",
        "< x-served-by: scripted",
        "read 2 body bytes",
    ] {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
}

// ---- the invocation ---------------------------------------------------------------

#[test]
fn usage_errors_exit_1_never_2() {
    for args in [vec!["--no-such-flag"], vec!["--timeout"], vec!["-X"]] {
        let out = run(probe().args(&args));
        out.expect(1, QUICK);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("healthprobe: error: "),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn help_and_version_exit_0() {
    let out = run(probe().arg("--help"));
    out.expect(0, QUICK);
    assert!(out.stdout.contains("HEALTHPROBE_TIMEOUT") && out.stdout.contains("--expect-json"));
}

/// `healthprobe 0.2.0 (x86_64-unknown-linux-musl, tls, grpc, 1a2b3c4)`:
/// the version, the target the binary was built for, TLS or not, gRPC or
/// not, the commit.
#[test]
fn version_names_the_build() {
    let out = run(probe().arg("--version"));
    out.expect(0, QUICK);
    let line = out.stdout.trim();
    let prefix = format!("healthprobe {} (", env!("CARGO_PKG_VERSION"));
    let inner = line
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line:?}"));
    let parts: Vec<&str> = inner.split(", ").collect();
    let [target, tls, grpc, commit] = parts[..] else {
        panic!("{line:?}")
    };
    // The target of the binary under test: cargo's build runs here, a
    // release binary under a runner names its own (HEALTHPROBE_TEST_TARGET).
    match std::env::var("HEALTHPROBE_TEST_TARGET") {
        Ok(want) => assert_eq!(target, want),
        Err(_) => assert!(
            target.starts_with(&format!("{}-", std::env::consts::ARCH))
                && target.contains("-linux"),
            "{line:?}"
        ),
    }
    assert_eq!(
        tls,
        if cfg!(feature = "tls") {
            "tls"
        } else {
            "no tls"
        }
    );
    assert_eq!(
        grpc,
        if cfg!(feature = "grpc") {
            "grpc"
        } else {
            "no grpc"
        }
    );
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert_eq!(commit, head, "{line:?}"),
        None => assert!(!commit.is_empty(), "{line:?}"),
    }
}

#[cfg(not(feature = "tls"))]
#[test]
fn https_targets_are_refused_by_a_build_without_tls() {
    let out = run(probe().arg("https://127.0.0.1:1/health"));
    out.expect(1, QUICK);
    out.stderr_has("this build has no TLS");
    let out = run(probe().args(["--insecure", "http://127.0.0.1:1/health"]));
    out.expect(1, QUICK);
    out.stderr_has("TLS");
}

/// The man page (clap_mangen) and the bash, zsh and fish completions
/// (clap_complete) are generated from the clap definition `--help` comes
/// from (examples/gen-docs.rs): every visible long flag is in each, and
/// every flag's variable is in the man page.
#[test]
fn man_page_and_completions_name_every_flag_and_variable() {
    use clap_complete::Shell;
    let command = healthprobe::cli_definition();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .expect("render the man page");
    let man = String::from_utf8(page).expect("UTF-8").replace("\\-", "-");
    let completions: Vec<(Shell, String)> = [Shell::Bash, Shell::Zsh, Shell::Fish]
        .into_iter()
        .map(|shell| {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command.clone(), "healthprobe", &mut out);
            (shell, String::from_utf8(out).expect("UTF-8"))
        })
        .collect();
    let mut flags = 0;
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        let Some(long) = arg.get_long() else { continue };
        let flag = format!("--{long}");
        assert!(man.contains(&flag), "{flag} is not in the man page");
        for (shell, text) in &completions {
            // fish names a long flag `-l NAME`.
            let written = match shell {
                Shell::Fish => format!("-l {long}"),
                _ => flag.clone(),
            };
            assert!(
                text.contains(&written),
                "{flag} is not in the {shell} completion"
            );
        }
        if let Some(variable) = arg.get_env() {
            let variable = variable.to_string_lossy();
            assert!(
                man.contains(variable.as_ref()),
                "{variable} is not in the man page"
            );
        }
        flags += 1;
    }
    assert!(
        flags >= 35,
        "only {flags} flags: is the definition the binary's?"
    );
}
