//! `${NAME}` in values, filled from the environment at run time, and
//! credentials (`--user`, `user:password@` in URLs) that never appear in
//! any output.

use crate::support::{QUICK, Scripted, probe, response, run};

fn recording() -> Scripted {
    Scripted::reply(response(
        "200 OK",
        "content-type: application/json\r\n",
        r#"{"status":"ok"}"#,
    ))
}

/// The request head the server saw, lower-cased header names as sent.
fn seen(server: &Scripted) -> String {
    server.requests().join("\n---\n")
}

#[test]
fn variables_fill_the_url_headers_port_and_expectations() {
    let server = recording();
    let port = server.addr.port().to_string();
    let out = run(probe()
        .env("APP_PORT", &port)
        .env("TOKEN", "t0k3n")
        .env("WANT", "ok")
        .args([
            "-H",
            "X-Token: ${TOKEN}",
            "-H",
            "X-Price: 5$$ and $HOME",
            "--expect-body",
            "${WANT}",
            "--expect-json",
            "/status=${WANT}",
            "http://127.0.0.1:${APP_PORT}/h?$select=Name&mode=${MODE:-fast}",
        ]));
    out.expect(0, QUICK);
    let head = seen(&server);
    assert!(
        head.starts_with("GET /h?$select=Name&mode=fast HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nx-token: t0k3n\r\n"), "{head}");
    assert!(head.contains("\r\nx-price: 5$ and $HOME\r\n"), "{head}");
}

#[test]
fn variables_fill_port_flags_and_environment_targets() {
    let server = recording();
    let out = run(probe()
        .env("APP_PORT", server.addr.port().to_string())
        .env("HEALTHPROBE_PORT", "${APP_PORT}")
        .env("HEALTHPROBE_URL", "/ready?v=${VERSION:-1}")
        .env("HEALTHPROBE_HEADERS", "X-From-Env: ${APP_PORT}"));
    out.expect(0, QUICK);
    let head = seen(&server);
    assert!(head.starts_with("GET /ready?v=1 HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains(&format!("x-from-env: {}\r\n", server.addr.port())),
        "{head}"
    );
}

#[test]
fn an_unset_variable_is_refused_naming_it_and_the_flag_before_any_connection() {
    let server = recording();
    for (args, env, names) in [
        (
            vec!["-H", "Authorization: Bearer ${TOKEN}"],
            None,
            "--header",
        ),
        (vec!["--expect-body", "${NOPE}"], None, "--expect-body"),
        (
            vec![],
            Some(("HEALTHPROBE_HEADERS", "X: ${NOPE}")),
            "HEALTHPROBE_HEADERS",
        ),
        (vec!["--port", "${NOPE}", "/h"], None, "--port"),
    ] {
        let mut cmd = probe();
        cmd.args(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        if !args.contains(&"/h") {
            cmd.arg(server.url("/"));
        }
        let out = run(&mut cmd);
        out.expect(1, QUICK)
            .stderr_has(names)
            .stderr_has("is not set");
        assert!(
            out.stderr.contains("TOKEN") || out.stderr.contains("NOPE"),
            "{out:#?}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    }
    assert_eq!(server.connections(), 0, "something was sent");
}

/// `Basic dXNlcjpzM2NyZXQ=` is `user:s3cret`.
const BASIC: &str = "authorization: Basic dXNlcjpzM2NyZXQ=\r\n";

#[test]
fn basic_credentials_from_the_flag_the_variable_and_the_url_reach_the_server_only() {
    let server = recording();
    let port = server.addr.port();
    let plain = server.url("/h");
    let in_url = format!("http://user:s3cret@127.0.0.1:{port}/h");
    for (args, env) in [
        (vec!["-u", "user:s3cret", plain.as_str()], None),
        (
            vec![plain.as_str()],
            Some(("HEALTHPROBE_USER", "user:s3cret")),
        ),
        (vec![in_url.as_str()], None),
        (vec!["--wait", "1s", in_url.as_str()], None),
    ] {
        for format in ["text", "json"] {
            let before = server.requests().len();
            let mut cmd = probe();
            cmd.args(["-v", "-o", format]).args(&args);
            if let Some((k, v)) = env {
                cmd.env(k, v);
            }
            let out = run(&mut cmd);
            out.expect(0, QUICK);
            let head = &server.requests()[before];
            assert!(head.contains(BASIC), "{args:?}: {head}");
            for secret in ["s3cret", "dXNlcjpzM2NyZXQ"] {
                assert!(!out.stdout.contains(secret), "{args:?} {format}: {out:#?}");
                assert!(!out.stderr.contains(secret), "{args:?} {format}: {out:#?}");
            }
            out.stderr_has("> authorization: Basic ***");
        }
    }
    // The report shows the URL's user and hides its password.
    let out = run(probe().arg(&in_url));
    out.expect(0, QUICK)
        .stdout_has(&format!("GET http://user:***@127.0.0.1:{port}/h -> 200 OK"));
}

#[test]
fn url_credentials_are_percent_decoded_and_an_explicit_header_wins() {
    let server = recording();
    let port = server.addr.port();
    // p%40ss is p@ss: Basic dXNlcjpwQHNz.
    run(probe().arg(format!("http://user:p%40ss@127.0.0.1:{port}/"))).expect(0, QUICK);
    assert!(
        seen(&server).contains("authorization: Basic dXNlcjpwQHNz\r\n"),
        "{}",
        seen(&server)
    );
    let before = server.requests().len();
    run(probe().args([
        "-u",
        "user:s3cret",
        "-H",
        "Authorization: Bearer abc",
        &format!("http://other:pw@127.0.0.1:{port}/"),
    ]))
    .expect(0, QUICK);
    let head = &server.requests()[before];
    assert!(head.contains("authorization: Bearer abc\r\n"), "{head}");
    assert_eq!(head.matches("authorization:").count(), 1, "{head}");
    // --user beats the URL's credentials.
    let before = server.requests().len();
    run(probe().args([
        "-u",
        "user:s3cret",
        &format!("http://other:pw@127.0.0.1:{port}/"),
    ]))
    .expect(0, QUICK);
    assert!(
        server.requests()[before].contains(BASIC),
        "{}",
        server.requests()[before]
    );
}

#[test]
fn bad_credentials_are_refused_without_repeating_them() {
    for args in [
        vec!["-u", "s3cret", "http://127.0.0.1:1/"],
        vec!["-H", "Authorization: s3cret\u{1}", "http://127.0.0.1:1/"],
    ] {
        let out = run(probe().args(&args));
        out.expect(1, QUICK);
        assert!(!out.stderr.contains("s3cret"), "{out:#?}");
        assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    }
}
