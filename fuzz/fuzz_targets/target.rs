//! Target parsing (src/config/target.rs): every URL form, `host:port`, bare
//! paths, IPv6 literals, userinfo. Never a panic; a parsed target has a
//! host and a port in 1-65535, parses again to itself from its own URL, and
//! an HTTP target's URL is a URI ureq accepts; an error is one line and
//! never shows the password of the text's userinfo.
#![no_main]

use arbitrary::Arbitrary;
use healthprobe::fuzzing::{target, TargetKind};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    text: String,
    host: String,
    port: Option<u16>,
}

/// The password of `user:password@` in a URL's authority, when there is one.
fn password(text: &str) -> Option<&str> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme_chars = |c: char| c.is_ascii_alphanumeric() || "+-.".contains(c);
    if scheme.is_empty() || !scheme.chars().all(scheme_chars) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = &authority[..authority.rfind('@')?];
    Some(userinfo.split_once(':')?.1)
}

fuzz_target!(|input: Input| {
    let parsed = target(&input.text, &input.host, input.port);
    let password = password(&input.text).filter(|p| p.len() >= 4);
    match parsed {
        Ok(t) => {
            assert!(t.port != 0, "{t:?}");
            assert!(!t.host.is_empty(), "{t:?}");
            if let Some(password) = password {
                let elsewhere = input.text.replacen(password, "", 1).contains(password);
                assert!(elsewhere || !t.shown.contains(password), "{t:?}");
                assert!(elsewhere || !t.url.contains(password), "{t:?}");
            }
            let again = target(&t.url, "", None).expect("a target's own URL parses");
            assert_eq!(
                (&again.url, &again.kind, &again.host, again.port),
                (&t.url, &t.kind, &t.host, t.port)
            );
            if matches!(t.kind, TargetKind::Http { .. }) {
                let uri: http::Uri = t.url.parse().expect("ureq accepts the URL");
                assert!(uri.host().is_some(), "{t:?}");
            }
        }
        Err(line) => {
            assert!(!line.is_empty() && !line.contains('\n'), "{line:?}");
            if let Some(password) = password {
                let elsewhere = input.text.replacen(password, "", 1).contains(password);
                assert!(elsewhere || !line.contains(password), "{line:?}");
            }
        }
    }
});
