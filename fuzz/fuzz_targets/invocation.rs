//! The whole invocation: arbitrary arguments (built from healthprobe's own
//! flags, values that parse, and arbitrary text) and `HEALTHPROBE_*`
//! variables, through the pipeline the binary runs (`run_with`), as a dry
//! run: the config is built, then the plan of the run is computed on a
//! stubbed clock (each attempt's start and deadline, the wait's end) with
//! the arithmetic a real run uses, and written instead of probing. Never a
//! panic, never a network call; the outcome is the help text, the plan, or
//! one line that names a flag or a variable; no secret that was given in
//! any of it; the plan's attempts in order, each ending after it starts.
#![no_main]

use std::ffi::OsString;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use healthprobe::internals::Hooks;
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

/// `word` made safe where it names a file `-o` creates: a file of the
/// fuzzer's scratch directory (a word without `/` or `.` stays a format
/// name such as `json`, or a bad one).
fn contained(word: &str) -> String {
    match word.contains(['/', '.']) {
        true => format!(
            "{}/{}",
            healthprobe_fuzz::scratch(),
            word.replace('/', "_").replace("..", "__")
        ),
        false => word.to_string(),
    }
}

/// The arguments with every value `-o`/`--output` takes kept inside the
/// current directory (a dry run still creates the `-o FILE`, as a real run
/// does before it sends anything).
fn sandboxed(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut value_next = false;
    for arg in args {
        let word = arg.to_string_lossy().into_owned();
        if value_next {
            out.push(contained(&word).into());
            value_next = false;
            continue;
        }
        if word == "--" {
            out.push(arg);
            value_next = false;
            continue;
        }
        if let Some(value) = word.strip_prefix("--output=") {
            out.push(format!("--output={}", contained(value)).into());
        } else if word == "--output" {
            out.push(arg);
            value_next = true;
        } else if !word.starts_with("--") && word.starts_with('-') && word.contains('o') {
            // A cluster with `o` (`-qo`, `-ojson`): what follows `o` is its value.
            let at = word.find('o').unwrap_or(word.len());
            let (flags, value) = word.split_at(at + 1);
            match value.is_empty() {
                true => value_next = true,
                false => {}
            }
            out.push(format!("{flags}{}", contained(value)).into());
        } else {
            out.push(arg);
        }
    }
    out
}

/// A duration as the plan writes it (`format_duration`), in nanoseconds.
fn nanos(text: &str) -> u128 {
    let (number, unit) = text
        .find(|c: char| c.is_alphabetic() || c == 'µ')
        .map(|i| text.split_at(i))
        .unwrap_or_else(|| panic!("{text:?} has no unit"));
    let value: f64 = number.parse().unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let scale = match unit {
        "ns" => 1.0,
        "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        other => panic!("{text:?}: unit {other:?}"),
    };
    (value * scale) as u128
}

/// The plan's attempts and each probe's checks, in order, each ending
/// after it starts and none starting before the one before it ended.
fn check_plan(out: &str) {
    let mut last_end: std::collections::HashMap<String, u128> = Default::default();
    for line in out.lines() {
        assert!(line.starts_with("plan: "), "{line:?}");
        let Some((head, times)) = line.split_once(" from ") else {
            continue;
        };
        let Some((from, rest)) = times.split_once(" to ") else {
            panic!("{line:?}");
        };
        let to = rest.split(' ').next().unwrap_or(rest);
        let (from, to) = (nanos(from), nanos(to));
        assert!(from <= to, "{line}");
        let key: String = head.chars().filter(|c| !c.is_ascii_digit()).collect();
        // Durations are rounded when written: 1% of slack.
        let before = last_end.get(&key).copied().unwrap_or(0);
        assert!(from + from / 100 + 1_000 >= before, "{out}");
        last_end.insert(key, to);
    }
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
    let args = sandboxed(args);
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
        let value = match name {
            "HEALTHPROBE_OUTPUT" => contained(&value),
            _ => value,
        };
        std::env::set_var(name, &value);
        set.push(name);
    }
    let hooks = Hooks {
        dry_run: true,
        ..Hooks::default()
    };
    let outcome = healthprobe_fuzz::run(&args, hooks);
    for name in set {
        std::env::remove_var(name);
    }
    assert!(
        !outcome.out.contains(SECRET),
        "stdout shows a secret: {outcome:?}"
    );
    assert!(
        !outcome.err.contains(SECRET),
        "stderr shows a secret: {outcome:?}"
    );
    match outcome.exit {
        0 if outcome.out.starts_with("plan: ") => check_plan(&outcome.out),
        0 => assert!(!outcome.out.is_empty(), "{outcome:?}"),
        1 => {
            let line = outcome.err.trim_end();
            assert!(
                !line.is_empty() && !line.contains('\n'),
                "not one line: {outcome:?}"
            );
            // A secret the fuzzer chose may equal part of healthprobe's own
            // words (a password `HEALTHPRO`): masked there too.
            let named = line.contains("***")
                || line.contains("--")
                || line.contains("TARGET")
                || names.vars.iter().any(|v| line.contains(v.as_str()))
                || names.flags.iter().any(|f| {
                    line.contains(&format!("'{f}"))
                        || line.contains(&format!("{f} "))
                        || line.contains(&format!("{f}:"))
                        || line.contains(&format!("{f}/"))
                });
            assert!(named, "names no flag or variable: {line:?}");
        }
        other => panic!("exit {other}: {outcome:?}"),
    }
});
