//! The whole invocation: arbitrary arguments (built from healthprobe's own
//! flags, values that parse, and arbitrary text) and `HEALTHPROBE_*`
//! variables, through clap and the config layer as `run` does before it
//! probes (src/fuzzing.rs: `invocation`). Never a panic, never a network
//! call (nothing past the config is run); the outcome is the help text, a
//! valid config, or one line that names a flag or a variable and never
//! shows a secret that was given.
#![no_main]

use std::ffi::OsString;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use healthprobe::fuzzing::{invocation, Invoked};
use libfuzzer_sys::fuzz_target;

/// The marker of every secret the inputs carry; arbitrary text never has it.
const SECRET: &str = "s3cr3t";

/// Values that parse for some flag, so that the fuzzer gets past clap.
const VALUES: &[&str] = &[
    "http://127.0.0.1:8080/health",
    "https://[::1]:8443/ready?full=1",
    "tcp://127.0.0.1:5432",
    "grpc://127.0.0.1:50051/app.Ready",
    "grpcs://localhost:443",
    "localhost:8080/health",
    "/health",
    "${PORT}",
    "${TOKEN:-x}",
    "8080",
    "0",
    "2s",
    "100ms",
    "1h",
    "200-299,404",
    "/status=ok",
    "X-Probe: 1",
    "Host: example.test",
    "GET",
    "HEAD",
    "json",
    "text",
    "64KiB",
    "10",
    "example.test:443:127.0.0.1",
    "http://127.0.0.1:3128",
    "/dev/null",
    "/nonexistent/file.pem",
    "true",
    "-",
    "--",
    "sleep",
];

/// Flags and variables given with a secret, as users give them.
const SECRETS: &[&[&str]] = &[
    &["-H", "Authorization: Bearer s3cr3t"],
    &["--header", "Proxy-Authorization: Basic s3cr3t"],
    &["--user", "user:s3cr3t"],
    &["-u", "admin:s3cr3t-pw"],
    &["http://user:s3cr3t@127.0.0.1:8080/health"],
    &["--proxy", "http://user:s3cr3t@127.0.0.1:3128"],
    // Unencoded `/` and `#` in a password: not a URL's password to a parser.
    &["http://user:pa/s3cr3t@127.0.0.1:8080/health"],
    &["--proxy", "http://user:pa#s3cr3t@127.0.0.1:3128"],
];

#[derive(Arbitrary, Debug)]
enum Word {
    /// One of healthprobe's flags (`--timeout`, `-H`), by index.
    Flag(u8),
    /// `--flag=value`.
    FlagEquals(u8, u8),
    /// A value that parses for some flag, by index.
    Value(u8),
    /// A flag with a secret value, by index.
    Secret(u8),
    /// Arbitrary text.
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    words: Vec<Word>,
    /// `HEALTHPROBE_*` variables (and `PORT`, `TOKEN`), by index, with a
    /// known value or arbitrary text.
    env: Vec<(u8, Result<u8, String>)>,
}

struct Names {
    flags: Vec<String>,
    vars: Vec<String>,
}

/// healthprobe's flags and variables, from its clap definition.
fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        let command = healthprobe::cli_definition();
        let mut flags = Vec::new();
        let mut vars = vec![
            "PORT".to_string(),
            "TOKEN".to_string(),
            "HEALTHPROBE_URL".to_string(),
            "HEALTHPROBE_HEADERS".to_string(),
            "HEALTHPROBE_EXPECT_JSON".to_string(),
        ];
        for arg in command.get_arguments() {
            flags.extend(arg.get_long().map(|l| format!("--{l}")));
            flags.extend(arg.get_short().map(|s| format!("-{s}")));
            vars.extend(arg.get_env().map(|e| e.to_string_lossy().into_owned()));
        }
        // Start from no HEALTHPROBE_* variable at all.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("HEALTHPROBE_") {
                std::env::remove_var(name);
            }
        }
        vars.sort();
        vars.dedup();
        Names { flags, vars }
    })
}

fn pick<'a, T: AsRef<str>>(list: &'a [T], i: u8) -> &'a str {
    list[usize::from(i) % list.len()].as_ref()
}

/// Arbitrary text, without the secret marker.
fn clean(text: &str) -> String {
    text.replace(SECRET, "x")
}

fuzz_target!(|input: Input| {
    let names = names();
    let mut args: Vec<OsString> = vec!["healthprobe".into()];
    for word in &input.words {
        match word {
            Word::Flag(i) => args.push(pick(&names.flags, *i).into()),
            Word::FlagEquals(i, v) => {
                args.push(format!("{}={}", pick(&names.flags, *i), pick(VALUES, *v)).into())
            }
            Word::Value(i) => args.push(pick(VALUES, *i).into()),
            Word::Secret(i) => args.extend(
                SECRETS[usize::from(*i) % SECRETS.len()]
                    .iter()
                    .map(OsString::from),
            ),
            Word::Text(text) => args.push(clean(text).into()),
        }
    }
    let mut set = Vec::new();
    for (i, value) in &input.env {
        let name = pick(&names.vars, *i);
        let value = match value {
            Ok(v) => pick(VALUES, *v).to_string(),
            Err(text) => clean(text),
        };
        if name.contains('=') || value.contains('\0') {
            continue;
        }
        std::env::set_var(name, &value);
        set.push(name);
    }
    let outcome = invocation(&args);
    for name in set {
        std::env::remove_var(name);
    }
    match outcome {
        Invoked::Display(text) => assert!(!text.is_empty()),
        Invoked::Valid { targets } => {
            for shown in targets {
                assert!(!shown.contains(SECRET), "a report would show {shown:?}");
            }
        }
        Invoked::Refused(line) => {
            assert!(
                !line.is_empty() && !line.trim_end().contains('\n'),
                "{line:?}"
            );
            assert!(!line.contains(SECRET), "the error shows a secret: {line:?}");
            let named = line.contains("--")
                || line.contains("TARGET")
                || names.vars.iter().any(|v| line.contains(v.as_str()))
                || names.flags.iter().any(|f| {
                    line.contains(&format!("'{f}"))
                        || line.contains(&format!("{f} "))
                        || line.contains(&format!("{f}:"))
                });
            assert!(named, "names no flag or variable: {line:?}");
        }
    }
});
