//! Redirect `Location` resolution (src/probe/redirect.rs) and the body and
//! JSON expectations (src/probe/judge.rs) against arbitrary input. Never a
//! panic. A followed redirect is an http(s) URL on the current URL's host,
//! without a fragment, that ureq accepts; healthy means the status is in
//! the set, the body holds the text, and each JSON pointer has its value;
//! the body excerpt is one printable line of at most 120 characters plus
//! `…`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const CURRENT: &[&str] = &[
    "http://h:1/a/b?q=1",
    "https://Example.test/x/y/",
    "http://[::1]:8080/health",
    "http://127.0.0.1/",
];

#[derive(Arbitrary, Debug)]
struct Input {
    current: Result<u8, String>,
    location: String,
    status: u16,
    body: Vec<u8>,
    expect_status: Option<String>,
    expect_body: Option<String>,
    expect_json: Vec<String>,
}

fn host(uri: &http::Uri) -> Option<String> {
    Some(uri.host()?.to_ascii_lowercase())
}

fuzz_target!(|input: Input| {
    let current = match &input.current {
        Ok(i) => CURRENT[usize::from(*i) % CURRENT.len()].to_string(),
        Err(text) => text.clone(),
    };
    if let Some(next) = healthprobe::internals::redirect(&current, &input.location) {
        assert!(!next.contains('#'), "{next:?}");
        let uri: http::Uri = next.parse().unwrap_or_else(|e| panic!("{next:?}: {e}"));
        assert!(
            matches!(uri.scheme_str(), Some("http" | "https")),
            "{next:?}"
        );
        let was: http::Uri = current.parse().expect("a URL that redirects parses");
        assert_eq!(host(&uri), host(&was), "{current:?} -> {next:?}");
    }
    let expect_status = input.expect_status.as_deref().unwrap_or("200-399");
    let json: Vec<&str> = input.expect_json.iter().map(String::as_str).collect();
    match healthprobe::internals::judge(
        input.status,
        &input.body,
        expect_status,
        input.expect_body.as_deref(),
        &json,
    ) {
        Ok(None) => {
            if input.expect_status.is_none() {
                assert!((200..400).contains(&input.status));
            }
            if let Some(text) = &input.expect_body {
                let text = text.as_bytes();
                assert!(text.is_empty() || input.body.windows(text.len()).any(|w| w == text));
            }
            if !json.is_empty() {
                let doc: serde_json::Value =
                    serde_json::from_slice(&input.body).expect("healthy JSON parses");
                for want in &json {
                    let (pointer, _) = want.trim().split_once('=').expect("an expectation has =");
                    assert!(doc.pointer(pointer).is_some(), "{want}");
                }
            }
        }
        Ok(Some(_)) => {}
        Err(line) => assert!(!line.is_empty() && !line.contains('\n'), "{line:?}"),
    }
    if let Some(excerpt) = healthprobe::internals::excerpt(&input.body) {
        let chars = excerpt.chars().count();
        assert!(chars <= 121, "{chars} characters");
        assert!(!excerpt.chars().any(char::is_control), "{excerpt:?}");
        assert!(!excerpt.starts_with(' '), "{excerpt:?}");
    }
});
