//! Target parsing (src/config/target.rs): every URL form, `host:port`, bare
//! paths, IPv6 literals, userinfo, `exec:` commands. Never a panic; a
//! parsed network target has a host and a port in 1-65535 (an exec target:
//! a command), parses again to itself from its own URL, and
//! an HTTP target's URL is a URI ureq accepts; an error, masked as every
//! line a run writes is (the text registered as the command line registers
//! its words), never shows the password of the text's userinfo.
#![no_main]

use arbitrary::Arbitrary;
use healthprobe::internals::{Secrets, Target, TargetKind};
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

/// Whether `password` shows up in `text` apart from its one place there, as
/// it is or in the escaped forms a line renders text in (`\0` of a NUL is
/// also the text of a password `\0`): then its showing proves nothing.
fn elsewhere(text: &str, password: &str) -> bool {
    let rest = text.replacen(password, "", 1);
    rest.contains(password)
        || format!("{rest:?}").contains(password)
        || rest.escape_debug().to_string().contains(password)
}

/// `line` as a run prints it: masked of the secrets the run registers
/// from the text, as the command line registers its words.
fn masked(text: &str, line: &str) -> String {
    let secrets = Secrets::default();
    secrets.scan(text);
    secrets.mask(line).into_owned()
}

fn target(text: &str, host: &str, port: Option<u16>) -> Result<Target, String> {
    Target::parse(text, host, port).map_err(|e| format!("{e:#}"))
}

fuzz_target!(|input: Input| {
    let parsed = target(&input.text, &input.host, input.port);
    let password = password(&input.text).filter(|p| p.len() >= 4);
    match parsed {
        Ok(t) => {
            if let TargetKind::Exec { argv } = &t.kind {
                assert!(t.url.starts_with("exec:"), "{t:?}");
                assert!(
                    argv.first().is_some_and(|program| !program.is_empty()),
                    "{t:?}"
                );
            } else {
                assert!(t.port != 0, "{t:?}");
                assert!(!t.host.is_empty(), "{t:?}");
            }
            if let Some(password) = password {
                let elsewhere = elsewhere(&input.text, password);
                if matches!(t.kind, TargetKind::Exec { .. }) {
                    // The command must hold the password to run; a run
                    // masks it in what it prints.
                    assert!(
                        elsewhere || !masked(&input.text, &t.shown).contains(password),
                        "{t:?}"
                    );
                } else {
                    assert!(elsewhere || !t.shown.contains(password), "{t:?}");
                    assert!(elsewhere || !t.url.contains(password), "{t:?}");
                }
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
            assert!(!line.is_empty(), "{line:?}");
            let line = masked(&input.text, &line);
            if let Some(password) = password {
                assert!(
                    elsewhere(&input.text, password) || !line.contains(password),
                    "{line:?}"
                );
            }
        }
    }
});
