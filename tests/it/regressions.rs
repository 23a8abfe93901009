//! One test per defect found, named after what it pins. Each failed on the
//! code before its fix.

use std::time::Duration;

use crate::support::{QUICK, SLACK, Scripted, probe, response, run};

/// A server that redirects `first_path` to `location`, and answers 200
/// `ok` to anything else.
fn redirecting(first_path: &'static str, location: &'static str) -> Scripted {
    Scripted::start(move |mut c| {
        let head = if c.request.starts_with(&format!("GET {first_path} ")) {
            response("302 Found", &format!("location: {location}\r\n"), "")
        } else {
            response("200 OK", "", "ok")
        };
        c.send(&head);
    })
}

/// The path of each request line the server received, in order.
fn paths(server: &Scripted) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter_map(|r| r.split(' ').nth(1).map(str::to_string))
        .collect()
}

/// `HEALTHPROBE_QUIET=1` was refused ("invalid value '1' for '--quiet'"),
/// although every boolean variable promises 1/0, true/false, yes/no, on/off.
#[test]
fn quiet_variable_takes_1_0_like_every_boolean_variable() {
    let server = Scripted::reply(response("200 OK", "", "ok"));
    for (value, prints) in [
        ("1", false),
        ("yes", false),
        ("on", false),
        ("0", true),
        ("off", true),
    ] {
        let out = run(probe().env("HEALTHPROBE_QUIET", value).arg(server.url("/")));
        out.expect(0, QUICK);
        assert_eq!(
            out.stdout.is_empty(),
            !prints,
            "HEALTHPROBE_QUIET={value}: {out:#?}"
        );
        assert_eq!(out.stderr, "", "HEALTHPROBE_QUIET={value}");
    }
}

/// `--wait 1s --timeout 10s` against a silent server said "timed out after
/// 10s" after 1 s: the reason named the flag, not the time the attempt had.
#[test]
fn a_wait_shorter_than_the_timeout_names_the_time_the_attempt_had() {
    let server = Scripted::start(|c| c.stall());
    let out = run(probe().args(["--wait", "1s", "--timeout", "10s", &server.url("/health")]));
    out.expect(1, Duration::from_secs(1) + SLACK);
    // The report ends when the wait does: 1.0s, or 1.1s on a loaded machine
    // (CI saw 1.1s while the mutated-responses test ran beside it).
    let rest = ["1.0s", "1.1s"]
        .iter()
        .find_map(|took| {
            let prefix = format!(
                "unhealthy after 1 attempt in {took}: GET {}: timed out after ",
                server.url("/health")
            );
            out.stdout.trim_end().strip_prefix(&prefix)
        })
        .unwrap_or_else(|| panic!("{out:#?}"));
    // The attempt had what was left of the wait: 1s, or a little less when
    // the start-up is slow (900ms, 994ms under qemu), never the 10s of
    // --timeout.
    let had = rest
        .strip_suffix(" waiting for response headers")
        .unwrap_or_else(|| panic!("{rest}"));
    let within_the_wait = had == "1s"
        || had
            .strip_suffix("ms")
            .and_then(|ms| ms.parse::<u32>().ok())
            .is_some_and(|ms| (500..=1000).contains(&ms));
    assert!(within_the_wait, "{had}");
}

/// A `Location` of `?x` against `/a/b?q=1` went to `/a/?x`; RFC 3986 says
/// `/a/b?x`.
#[test]
fn a_query_only_location_keeps_the_path() {
    let server = redirecting("/a/b?q=1", "?x");
    run(probe().args(["--follow-redirects", &server.url("/a/b?q=1")])).expect(0, QUICK);
    assert_eq!(paths(&server), ["/a/b?q=1", "/a/b?x"]);
}

/// `../` in a `Location` was sent as it was, not removed (RFC 3986 §5.2.4).
#[test]
fn dot_segments_in_a_location_are_removed() {
    let server = redirecting("/a/b/c", "../d/./e");
    run(probe().args(["--follow-redirects", &server.url("/a/b/c")])).expect(0, QUICK);
    assert_eq!(paths(&server), ["/a/b/c", "/a/d/e"]);
}

/// A `Location` of `HTTP://same-host/…` was resolved by one check and then
/// refused as not http(s) by the next, so the 302 was judged instead of the
/// page it points to.
#[test]
fn an_upper_case_scheme_in_a_location_is_followed() {
    let server = Scripted::start(|mut c| {
        let port = c.stream.local_addr().map(|a| a.port()).unwrap_or(0);
        let head = if c.request.starts_with("GET /old ") {
            response(
                "302 Found",
                &format!("location: HTTP://127.0.0.1:{port}/new\r\n"),
                "",
            )
        } else {
            response("200 OK", "", "ok")
        };
        c.send(&head);
    });
    let out = run(probe().args([
        "--follow-redirects",
        "--expect-status",
        "200",
        &server.url("/old"),
    ]));
    out.expect(0, QUICK).stdout_has("-> 200 OK in ");
    assert_eq!(paths(&server), ["/old", "/new"]);
}

/// A 5,000-byte path or header value failed as "malformed response: output
/// too small to write output": nothing was sent, yet the server was blamed,
/// and the line repeated the whole URL. Now the request goes out whole; one
/// over 64 KiB is refused before connecting, naming the limit, and no
/// message repeats more than the start of a long URL.
#[test]
fn a_long_url_or_header_is_sent_whole_and_a_too_long_one_refused_before_connecting() {
    let server = Scripted::reply(response("200 OK", "", "ok"));
    let path = format!("/{}", "a".repeat(5_000));
    let out = run(probe().arg(server.url(&path)));
    out.expect(0, QUICK);
    assert!(out.stdout.len() < 300, "{out:#?}");
    let value = "v".repeat(5_000);
    run(probe().args(["-H", &format!("X-Long: {value}"), &server.url("/")])).expect(0, QUICK);
    let requests = server.requests();
    assert!(requests[0].starts_with(&format!("GET {path} HTTP/1.1\r\n")));
    assert!(requests[1].contains(&format!("x-long: {value}\r\n")));
    let huge = format!("/{}", "b".repeat(70_000));
    let out = run(probe().arg(server.url(&huge)));
    out.expect(1, QUICK)
        .stderr_has("healthprobe sends at most 65536 bytes");
    assert!(out.stderr.len() < 400, "{out:#?}");
    let out = run(probe().args([
        "-H",
        &format!("X-Huge: {}", "h".repeat(70_000)),
        &server.url("/"),
    ]));
    out.expect(1, QUICK).stderr_has("at most 65536");
    assert!(out.stderr.len() < 400, "{out:#?}");
    let out = run(probe().arg(format!("ftp://h/{}", "c".repeat(10_000))));
    out.expect(1, QUICK);
    assert!(out.stderr.len() < 400, "{out:#?}");
    assert_eq!(server.connections(), 2, "a refused request sent nothing");
}

/// `HEALTHPROBE_QUIET=maybe` was reported as "invalid value 'maybe' for
/// '--quiet'": the bad value is the variable's, and the message names it.
#[test]
fn a_bad_boolean_variable_is_named_as_the_variable() {
    for variable in [
        "HEALTHPROBE_QUIET",
        "HEALTHPROBE_VERBOSE",
        "HEALTHPROBE_INSECURE",
    ] {
        let out = run(probe().env(variable, "maybe").arg("http://127.0.0.1:1/"));
        out.expect(1, QUICK)
            .stderr_has(&format!("{variable}: invalid value \"maybe\""));
    }
}

/// `--cacert /dev/zero` (or any endless or huge file given by mistake to
/// `--cacert`, `--cert` or `--key`) was read whole: memory grew until the
/// allocator failed ("out of memory" under a 2 GB limit; unbounded
/// without). Found while preparing the invocation fuzz target, which may
/// name any path. A PEM file is read up to 4 MiB.
#[cfg(feature = "tls")]
#[test]
fn an_endless_pem_file_is_refused_after_4_mib_naming_the_flag() {
    for flag in ["--cacert", "--cert"] {
        let out = run(probe().args([flag, "/dev/zero", "https://127.0.0.1:1/"]));
        out.expect(1, QUICK)
            .stderr_has(&format!("{flag}: /dev/zero: larger than 4 MiB"));
    }
}

/// `--timeout -H 'Authorization: Bearer …' URL` (a forgotten timeout value)
/// takes `-H` as the timeout and the header as a target, and the error
/// showed the token: "TARGET: \"Authorization: Bearer s3cr3t\" is not a
/// target". Found by the invocation fuzz target, as was the same for
/// `--user user:password`. The value and the password are not shown.
#[test]
fn a_secret_header_taken_for_a_target_is_not_shown() {
    for header in [
        "Authorization: Bearer s3cr3t",
        "proxy-authorization:Basic s3cr3t",
    ] {
        let out = run(probe().args(["--timeout", "-H", header, "http://127.0.0.1:1/"]));
        out.expect(1, QUICK).stderr_has("***\" is not a target");
        assert!(!out.stderr.contains("s3cr3t"), "{out:#?}");
    }
    // The same with `--user user:password`: "user:s3cr3t" was shown whole.
    let out = run(probe().args(["--wait", "--user", "user:s3cr3t", "http://127.0.0.1:1/"]));
    out.expect(1, QUICK)
        .stderr_has("\"user:***\" is not a target");
    assert!(!out.stderr.contains("s3cr3t"), "{out:#?}");
}

/// A bare path with a newline and no port gave a two-line error ("/\n is
/// a bare path…"): every error is one line. Found by the target fuzz
/// target.
#[test]
fn a_bare_path_error_is_one_line() {
    let out = run(probe().env_remove("PORT").arg("/health\nx"));
    out.expect(1, QUICK)
        .stderr_has("\"/health\\nx\" is a bare path but no port is set");
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
}

/// A percent-encoded host (`http://%41:80/`, allowed by RFC 3986) passed
/// the target check and failed at probe time with "http: invalid authority
/// (resolving the host)". Found by the target fuzz target: it is bad input,
/// refused before anything is tried.
#[test]
fn a_percent_encoded_host_is_refused_as_bad_input() {
    for target in ["http://%41:80/", "%aaDai8:4", "tcp://%41:5432"] {
        let out = run(probe().arg(target));
        out.expect(1, QUICK)
            .stderr_has("is not one HTTP clients accept");
    }
}

/// A path with a newline in it (`HEALTHPROBE_CACERT=$'\n'`) broke the error
/// in two lines; every error is one line, whatever a value holds. Found by
/// the invocation fuzz target with `HEALTHPROBE_CACERT`; tested with
/// `HEALTHPROBE_OUTPUT`, which the build without TLS has too. The same for a `--host` or `--port` value
/// holding a URL with a password, which was shown whole.
#[test]
fn errors_are_one_line_and_mask_passwords_whatever_a_value_holds() {
    let out = run(probe()
        .env("HEALTHPROBE_OUTPUT", "/nonexistent/a\nb")
        .arg("http://127.0.0.1:1/"));
    out.expect(1, QUICK)
        .stderr_has("HEALTHPROBE_OUTPUT: /nonexistent/a\\nb: ");
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    for flag in ["--host", "--port"] {
        let out = run(probe().args([flag, "http://user:s3cr3t@127.0.0.1:1/", "/health"]));
        out.expect(1, QUICK).stderr_has("user:***@");
        assert!(!out.stderr.contains("s3cr3t"), "{out:#?}");
    }
    // Text that holds no `user:password@` and was given to no credential
    // flag is the user's own input, shown as typed (issue 27: `::1:8000`
    // was shown as `:***`).
    let out = run(probe().args(["--port", "::1:8000", "/health"]));
    out.expect(1, QUICK)
        .stderr_has("\"::1:8000\" is not a port number");
}

/// Any flag whose bad value is echoed in its error showed a URL's password
/// whole (`--expect-status http://user:s3cr3t@…`, `--retry`, `--method`):
/// found by the invocation fuzz target's second 10-minute run. Every error
/// line now shows `user:***@`, whichever flag echoed the value.
#[test]
fn a_password_in_any_flags_bad_value_is_not_shown() {
    let url = "http://user:s3cr3t@127.0.0.1:1/health";
    for flag in [
        "--expect-status",
        "--retry",
        "--method",
        "--max-redirs",
        "--timeout",
    ] {
        let out = run(probe().args([flag, url, "http://127.0.0.1:1/"]));
        out.expect(1, QUICK).stderr_has("user:***@127.0.0.1:1");
        assert!(!out.stderr.contains("s3cr3t"), "{flag}: {out:#?}");
    }
}

/// A password holding `/`, `?` or `#` (unencoded, which RFC 3986 does not
/// allow in userinfo, so no URL parser finds it) was shown whole when a
/// flag's error echoed it: `--retry "http://user:s3/cr3t@…"`.
#[test]
fn a_password_holding_a_slash_in_a_bad_value_is_not_shown() {
    for password in ["s3/cr3t", "s3?cr3t", "s3#cr3t"] {
        let url = format!("http://user:{password}@127.0.0.1:1/health");
        let out = run(probe().args(["--retry", &url, "http://127.0.0.1:1/"]));
        out.expect(1, QUICK).stderr_has("user:***@127.0.0.1:1");
        assert!(!out.stderr.contains("cr3t"), "{password}: {out:#?}");
    }
}
