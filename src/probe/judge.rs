//! Judging a response against the expectations, and the body excerpt the
//! report shows.

use super::check::Failure;
use crate::config::Expectations;

/// Longest body excerpt in a report, in characters, before the `…` that
/// marks a cut.
pub(super) const EXCERPT_CHARS: usize = 120;

/// Judges a response against `expect`; `None` means healthy. The status
/// first (the Kubernetes httpGet rule by default: 200 ≤ status < 400), then
/// the body text, then each JSON value.
pub(crate) fn judge(status: u16, body: &[u8], expect: &Expectations) -> Option<Failure> {
    if !expect.status.contains(status) {
        return Some(Failure::Status);
    }
    if let Some(text) = &expect.body
        && !contains(body, text.as_bytes())
    {
        return Some(Failure::Expectation(format!(
            "body does not contain {text:?} (in {} bytes read)",
            body.len()
        )));
    }
    if expect.json.is_empty() {
        return None;
    }
    let doc: serde_json::Value = match serde_json::from_slice(body) {
        Ok(doc) => doc,
        Err(e) => {
            return Some(Failure::Expectation(format!(
                "body is not JSON ({e}; {} bytes read)",
                body.len()
            )));
        }
    };
    for want in &expect.json {
        let got = match doc.pointer(&want.pointer) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => {
                return Some(Failure::Expectation(format!(
                    "JSON has no {} (expected {:?})",
                    want.pointer, want.value
                )));
            }
        };
        if got != want.value {
            return Some(Failure::Expectation(format!(
                "JSON {} is {got:?}, expected {:?}",
                want.pointer, want.value
            )));
        }
    }
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A short, printable excerpt of the body: lossy UTF-8, whitespace runs
/// folded to one space, control characters escaped, at most
/// [`EXCERPT_CHARS`] characters, with `…` added when cut.
pub(crate) fn excerpt(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut chars = 0;
    let mut last_space = false;
    for c in text.chars() {
        // An escaped control character counts as the characters it shows.
        let width = match c.is_control() && !c.is_whitespace() {
            true => c.escape_default().count(),
            false => 1,
        };
        if chars + width > EXCERPT_CHARS {
            out.push('…');
            return Some(out);
        }
        if c.is_whitespace() {
            if !last_space && chars > 0 {
                out.push(' ');
                chars += 1;
            }
            last_space = true;
            continue;
        }
        last_space = false;
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        chars += width;
    }
    let out = out.trim_end().to_string();
    if head.len() < body.len() {
        return Some(out + "…");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(status: &str, body: Option<&str>, json: &[&str]) -> Expectations {
        Expectations {
            status: status.parse().expect("status set"),
            body: body.map(str::to_string),
            json: json
                .iter()
                .map(|j| j.parse().expect("json expectation"))
                .collect(),
        }
    }

    /// The verdict on (status, body) for each kind of expectation, and the
    /// reason's exact words.
    #[test]
    fn verdicts_and_their_reasons() {
        let ok = br#"{"status":"ok","ready":true,"n":4,"gpu":null}"#;
        let cases: &[(Expectations, u16, &[u8], Option<&str>)] = &[
            (expect("200-399", None, &[]), 200, b"", None),
            (expect("200-399", None, &[]), 399, b"", None),
            (
                expect("200-399", None, &[]),
                199,
                b"",
                Some("status not in 200-399"),
            ),
            (
                expect("200-399", None, &[]),
                400,
                b"",
                Some("status not in 200-399"),
            ),
            (
                expect("200,204", None, &[]),
                201,
                b"",
                Some("status not in 200,204"),
            ),
            (expect("200-399", Some("ok"), &[]), 200, ok, None),
            (
                expect("200-399", Some("ready!"), &[]),
                200,
                b"not yet",
                Some(r#"body does not contain "ready!" (in 7 bytes read)"#),
            ),
            (
                expect(
                    "200-399",
                    None,
                    &["/status=ok", "/ready=true", "/n=4", "/gpu=null"],
                ),
                200,
                ok,
                None,
            ),
            (
                expect("200-399", None, &["/status=ok"]),
                200,
                br#"{"status":"loading"}"#,
                Some(r#"JSON /status is "loading", expected "ok""#),
            ),
            (
                expect("200-399", None, &["/missing=x"]),
                200,
                ok,
                Some(r#"JSON has no /missing (expected "x")"#),
            ),
            (
                expect("200-399", None, &["/a=1"]),
                200,
                b"<html>",
                Some("body is not JSON (expected value at line 1 column 1; 6 bytes read)"),
            ),
            // The status is judged first, whatever the body says.
            (
                expect("200-399", None, &["/status=ok"]),
                503,
                ok,
                Some("status not in 200-399"),
            ),
        ];
        for (expect, status, body, want) in cases {
            let got = judge(*status, body, expect).map(|f| match f {
                Failure::Status => format!("status not in {}", expect.status.as_str()),
                Failure::Expectation(text) | Failure::Error(text) => text,
                Failure::NotServing => "not serving".to_string(),
            });
            assert_eq!(
                got.as_deref(),
                *want,
                "{status} {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt(b"").as_deref(), None);
        assert_eq!(
            excerpt(b"{\"status\":\n  \"loading\"}\n").as_deref(),
            Some("{\"status\": \"loading\"}")
        );
        assert_eq!(excerpt(b"a\x00b\x1bc").as_deref(), Some("a\\u{0}b\\u{1b}c"));
        // Escaped control characters count as what they show, so a body
        // of ESC bytes stays within the limit.
        let escapes = excerpt(&[0x1b; 100]).unwrap_or_default();
        assert_eq!(escapes.chars().count(), 20 * 6 + 1, "{escapes}");
        assert!(escapes.ends_with("\\u{1b}…"), "{escapes}");
        let long = excerpt(&[b'x'; 1000]).unwrap_or_default();
        assert_eq!(long.chars().count(), EXCERPT_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
