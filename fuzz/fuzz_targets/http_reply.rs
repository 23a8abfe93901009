//! The HTTP exchange: arbitrary bytes as the server's reply, through ureq
//! (the scripted `Transport` of src/probe/replay.rs, in process, no
//! sockets), judged and reported by the code a real probe runs, with one of
//! several invocations. Never a panic; exit 0 or 1; one text line; JSON
//! that parses and agrees with the exit; healthy only when the status and
//! the expectations hold; a secret sent is never shown in the `-v` trace.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod reports;

const URL: &str = "http://127.0.0.1:8080/health";

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
    (
        &["-H", "Authorization: Bearer s3cr3t", "-H", "X-Probe: 1"],
        kubernetes,
    ),
    (
        &["--user", "probe:s3cr3t", "-A", "kube-probe/1.31"],
        kubernetes,
    ),
    (&["-o", "body.out", "--expect-status", "100-599"], |s| {
        (100..600).contains(&s)
    }),
];

/// The Kubernetes httpGet rule: 200 ≤ status < 400.
fn kubernetes(status: u16) -> bool {
    (200..400).contains(&status)
}

fuzz_target!(|data: &[u8]| {
    let [pick, chunk, reply @ ..] = data else {
        return;
    };
    let (flags, healthy_status) = INVOCATIONS[usize::from(*pick) % INVOCATIONS.len()];
    let mut args = vec!["healthprobe", "-v", "--timeout", "5s"];
    args.extend_from_slice(flags);
    args.push(URL);
    let chunk = match chunk {
        0 => usize::MAX,
        n => usize::from(*n),
    };
    let outcome = healthprobe::fuzzing::http_exchange(&args, reply, chunk)
        .unwrap_or_else(|e| panic!("{args:?} is not valid: {e}"));
    let json = reports::checked(&outcome);
    assert_eq!(
        json["checks"][0]["status"].as_u64(),
        outcome.status.map(u64::from)
    );
    if outcome.exit == 0 {
        let status = outcome.status.expect("a healthy HTTP check has a status");
        assert!(healthy_status(status), "healthy with {status}: {outcome:?}");
        if flags.contains(&"--expect-body") {
            assert!(reply.windows(2).any(|w| w == b"ok"), "{outcome:?}");
        }
    }
    if !reply.windows(6).any(|w| w == b"s3cr3t") {
        assert!(!outcome.trace.contains("s3cr3t"), "{}", outcome.trace);
        assert!(!outcome.text.contains("s3cr3t"), "{outcome:?}");
        assert!(!outcome.json.contains("s3cr3t"), "{outcome:?}");
    }
});
