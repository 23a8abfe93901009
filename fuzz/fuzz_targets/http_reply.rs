//! The HTTP exchange: arbitrary bytes as the server's reply, through ureq
//! (a scripted `Transport`, one more link of ureq's connector chain, no
//! sockets), judged and reported by the pipeline the binary runs, with one
//! of several invocations. The reply may echo the request (`{{echo}}` in
//! it becomes what the client sent). Never a panic; exit 0 or 1; one text
//! line; JSON that parses and agrees with the exit; healthy only when the
//! status and the expectations hold; and no secret the invocation gives,
//! in any encoded form, in the report, the JSON or the `-v` trace, echoed
//! or not.
#![no_main]

use base64::Engine;
use healthprobe::internals::Hooks;
use healthprobe_fuzz::{checked_reports, http_server, run, scratch, with};

use libfuzzer_sys::fuzz_target;

/// The target, with credentials.
const URL: &str = "http://u:s3cr3t-url@127.0.0.1:8080/health";

/// The secrets every invocation gives: a bearer token, an API key, a
/// `--user` password, the URL's password.
const SECRETS: &[&str] = &[
    "-H",
    "Authorization: Bearer s3cr3t-t0ken",
    "-H",
    "X-Api-Key: k3y-s3cr3t",
    "--user",
    "probe:s3cr3t-pw",
];

/// The invocations, each with the status codes it may call healthy.
const INVOCATIONS: &[(&[&str], fn(u16) -> bool)] = &[
    (&[], kubernetes),
    (&["--max-redirs", "0"], kubernetes),
    (&["-I"], kubernetes),
    (&["--expect-status", "200-299,404"], |s| {
        (200..300).contains(&s) || s == 404
    }),
    (&["--expect-body", "ok"], kubernetes),
    (
        &[
            "--expect-json",
            "/status=ok",
            "--expect-json",
            "/checks/0/up=true",
        ],
        kubernetes,
    ),
    (&["--max-body", "16"], kubernetes),
    (&["-A", "kube-probe/1.31"], kubernetes),
    (&["-o", "BODY", "--expect-status", "100-599"], |s| {
        (100..600).contains(&s)
    }),
];

/// The Kubernetes httpGet rule: 200 ≤ status < 400.
fn kubernetes(status: u16) -> bool {
    (200..400).contains(&status)
}

/// Every form of every secret that must never be written: as given, and
/// Basic's base64 of `user:password`.
fn forms() -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        "s3cr3t-t0ken".into(),
        "k3y-s3cr3t".into(),
        "s3cr3t-pw".into(),
        "s3cr3t-url".into(),
        b64("probe:s3cr3t-pw"),
        b64("u:s3cr3t-url"),
    ]
}

fuzz_target!(|data: &[u8]| {
    let [pick, chunk, reply @ ..] = data else {
        return;
    };
    let (flags, healthy_status) = INVOCATIONS[usize::from(*pick) % INVOCATIONS.len()];
    let chunk = match chunk {
        0 => usize::MAX,
        n => usize::from(*n),
    };
    let mut base = vec!["healthprobe", "-v", "--timeout", "5s"];
    base.extend_from_slice(SECRETS);
    let body = format!("{}/body.out", scratch());
    base.extend(
        flags
            .iter()
            .map(|f| if *f == "BODY" { body.as_str() } else { f }),
    );
    base.push(URL);
    // The text report (or, with `-o body.out`, the body to a file and the
    // text report), then the JSON one (`-o json` instead of `-o body.out`).
    let outcome = |extra: &[&str]| {
        let hooks = Hooks {
            network: http_server(reply, chunk),
            dry_run: false,
        };
        let mut words = base.clone();
        if let Some(at) = words.iter().position(|w| *w == "-o") {
            if !extra.is_empty() {
                words.drain(at..at + 2);
            }
        }
        let mut args = with(&words, &[]);
        args.extend(extra.iter().map(Into::into));
        run(&args, hooks)
    };
    let text = outcome(&[]);
    let json = outcome(&["-o", "json"]);
    let value = checked_reports(&text, &json);
    let status = value["checks"][0]["status"].as_u64().map(|s| s as u16);
    if text.exit == 0 {
        let status = status.expect("a healthy HTTP check has a status");
        assert!(healthy_status(status), "healthy with {status}: {text:?}");
        if flags.contains(&"--expect-body") {
            assert!(reply.windows(2).any(|w| w == b"ok"), "{text:?}");
        }
    }
    for form in forms() {
        for (what, written) in [
            ("text", &text.out),
            ("-v", &text.err),
            ("json", &json.out),
            ("-v (json)", &json.err),
        ] {
            assert!(
                !written.contains(&form),
                "{what} shows {form:?}:\n{written}"
            );
        }
    }
});
