//! The command line: every flag defined once ([`flags`]), the clap
//! `Command` built from the definitions, the parsed values asked for by
//! flag ([`Args`]: as typed, `${NAME}` filled, parsed by their type, each
//! error naming the flag or variable), and clap's errors rendered as one
//! line. clap is named nowhere else.

mod args;
mod expand;
pub mod flags;

use std::ffi::OsString;
use std::sync::Arc;

use clap::builder::BoolishValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

pub use args::{Args, Origin, Vars, default_of, default_text, env_string};
pub use expand::expand;
use flags::{ALL, DefaultValue, EnvForm, Flag, Value};

use crate::redact::Secrets;

/// What `--version` prints after the name: the version, the target triple,
/// whether TLS and gRPC are compiled in, and the commit (from build.rs), e.g.
/// `0.2.0 (aarch64-unknown-linux-musl, tls, grpc, 1a2b3c4)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("HEALTHPROBE_BUILD"),
    ")"
);

/// What `-h` says first.
const ABOUT: &str = "Health checks with one deadline; exit 0 when healthy, 1 otherwise.";

/// What `--help` says first.
const LONG_ABOUT: &str = "\
Health checks with one deadline; exit 0 when healthy, 1 otherwise.

healthprobe replaces `curl --fail` (and grpc_health_probe) in Docker HEALTHCHECK
lines, CI waits, entrypoints and Kubernetes exec probes. An HTTP status in the
expected set (default 200-399, the Kubernetes httpGet rule) with every
expectation met, an open TCP connection, or a gRPC SERVING (grpc.health.v1) is
healthy (exit 0); anything else (other status, refused, reset, timeout, bad
reply, bad flag) is unhealthy (exit 1). It never exits 2, which Docker reserves.
Proxy environment variables are ignored.";

/// The examples `--help` ends with.
const EXAMPLES: &str = "\
Examples:
  healthprobe http://127.0.0.1:8000/health
  healthprobe -t 2s --expect-json /status=ok localhost:8000/health
  healthprobe tcp://127.0.0.1:5432 grpc://127.0.0.1:50051
  healthprobe --wait 60s tcp://db:5432 -- /app/server --port 8000
  healthprobe --liveness http://127.0.0.1:8000/health -- uvicorn main:app
  HEALTHCHECK CMD [\"/healthprobe\", \"http://127.0.0.1:8000/health\"]   (Dockerfile)";

/// Why the command line was not run as a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationError {
    /// `--help` or `--version`: printed whole, a success (exit 0).
    Display(String),
    /// A usage error (unknown flag, missing value, bad variable), as one
    /// line naming the flag or variable: exit 1.
    Usage(String),
}

/// Parses `args` (program name first) and the `HEALTHPROBE_*` variables
/// clap reads; the values filled with `${NAME}` later are registered in
/// `secrets`.
///
/// # Errors
/// `--help` and `--version` ([`InvocationError::Display`]), and every
/// error clap finds, as one line ([`InvocationError::Usage`]).
pub fn parse(
    args: Vec<OsString>,
    vars: Vars,
    secrets: Arc<Secrets>,
) -> Result<Args, InvocationError> {
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .take_while(|w| *w != "--")
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let docs = words.iter().any(|w| asks_for_help(w));
    let matches = command(docs, &vars)
        .try_get_matches_from(args)
        .map_err(|e| rendered(&e))?;
    Ok(Args::new(matches, vars, words, secrets))
}

/// Whether `word` may ask for the help text (`--help`, `-h`, a cluster
/// with `h`): only then is the help attached to the arguments, which
/// every other run would build for nothing.
fn asks_for_help(word: &str) -> bool {
    word == "--help" || (word.starts_with('-') && !word.starts_with("--") && word.contains('h'))
}

/// The clap definition of every flag, with its variable, default and help,
/// as `--help` shows them: the source of the man page and the shell
/// completions (`examples/gen-docs.rs`).
pub fn definition() -> Command {
    command(true, &Vars::default())
}

/// The clap `Command` of [`flags::ALL`]. With `docs`, the help text and
/// every variable (for `--help`, the man page, the completions); without,
/// only what parsing needs: a variable is attached only when it is set and
/// not empty (empty means unset, as Compose writes `VAR=` for `${VAR:-}`).
fn command(docs: bool, vars: &Vars) -> Command {
    let mut command = Command::new("healthprobe")
        .version(VERSION)
        .max_term_width(100);
    if docs {
        command = command
            .about(ABOUT)
            .long_about(LONG_ABOUT)
            .after_help(EXAMPLES);
    }
    command.args(ALL.iter().map(|flag| arg(flag, docs, vars)))
}

/// The clap argument of `flag`.
fn arg(flag: &Flag, docs: bool, vars: &Vars) -> Arg {
    let mut arg = Arg::new(flag.id);
    if let Some(long) = flag.long {
        arg = arg.long(long);
    }
    if let Some(short) = flag.short {
        arg = arg.short(short);
    }
    if !flag.aliases.is_empty() {
        arg = arg.visible_aliases(flag.aliases);
    }
    if !flag.short_aliases.is_empty() {
        arg = arg.visible_short_aliases(flag.short_aliases.iter().copied());
    }
    arg = match flag.value {
        // A switch takes no value on the command line ("true" when given,
        // as often as it is given) and a boolean from its variable; when
        // absent it has no value at all (clap's SetTrue and Count would
        // materialise a default for each on every run).
        Value::Switch | Value::Count => arg
            .action(ArgAction::Append)
            .num_args(0)
            .default_missing_value("true")
            .value_parser(BoolishValueParser::new()),
        // A number takes a leading '-' so that its own parser refuses "-1".
        Value::One(name) => arg
            .action(ArgAction::Set)
            .value_name(name)
            .allow_hyphen_values(matches!(name, "DURATION" | "N" | "PORT")),
        Value::Many(name) | Value::Targets(name) => arg.action(ArgAction::Append).value_name(name),
        Value::Command(name) => arg
            .last(true)
            .num_args(1..)
            .value_name(name)
            .allow_hyphen_values(true)
            .value_parser(clap::value_parser!(OsString)),
    };
    if let (Some(env), EnvForm::Whole) = (flag.env, flag.env_form)
        && (docs || vars.get(env).is_some())
    {
        arg = arg.env(env).hide_env_values(true);
    }
    if docs {
        arg = arg.help(flag.summary).long_help(long_help(flag));
        if let Some(title) = flag.heading.title() {
            arg = arg.help_heading(title);
        }
    }
    arg
}

/// `--help`'s text of `flag`: its summary, its help, its default and the
/// variables clap does not name itself.
fn long_help(flag: &Flag) -> String {
    let mut text = flag.summary.replace('`', "");
    if !flag.help.is_empty() {
        text += ". ";
        text += flag.help;
    }
    match flag.default {
        DefaultValue::Value(value) => text += &format!(" [default: {value}]"),
        DefaultValue::Note(note) => text += &format!(" [default: {}]", note.replace('`', "")),
        DefaultValue::None => {}
    }
    match (flag.env, flag.env_form) {
        (Some(env), EnvForm::Words) => {
            text += &format!(" [env: {env}, separated by spaces; exec: takes the rest]")
        }
        (Some(env), EnvForm::Lines) => {
            text += &format!(" [env: {env}, one per line or separated by \\n]")
        }
        _ => {}
    }
    if let Some(fallback) = flag.env_fallback {
        text += &format!(" [then: {fallback}]");
    }
    text
}

/// The README's flag table, one row per flag, as `--help` defines them.
pub fn markdown_table() -> String {
    let mut table = String::from("| flag | env var | default | meaning |\n|---|---|---|---|\n");
    for flag in ALL {
        let names = match flag.value {
            Value::Targets(name) => format!("`{name}…`"),
            Value::Command(name) => format!("`-- {name} [ARG…]`"),
            Value::One(value) | Value::Many(value) => format!("`{} {value}`", names(flag)),
            Value::Switch | Value::Count => format!("`{}`", names(flag)),
        };
        let env = match (flag.env, flag.env_form, flag.env_fallback) {
            (None, ..) => "–".to_string(),
            (Some(env), EnvForm::Whole, Some(fallback)) => format!("`{env}`, then `{fallback}`"),
            (Some(env), EnvForm::Whole, None) => format!("`{env}`"),
            (Some(env), EnvForm::Words, _) => format!("`{env}` (separated by spaces)"),
            (Some(env), EnvForm::Lines, _) => format!("`{env}` (one per line or `\\n`)"),
        };
        let default = match (flag.default, flag.value) {
            (DefaultValue::Value(value), _) => format!("`{value}`"),
            (DefaultValue::Note(note), _) => note.to_string(),
            (DefaultValue::None, Value::Switch | Value::Count) => "off".to_string(),
            (DefaultValue::None, _) => "–".to_string(),
        };
        let cells = [names, env, default, flag.summary.to_string()].map(|c| c.replace('|', "\\|"));
        table += &format!("| {} |\n", cells.join(" | "));
    }
    table
}

/// Every name of `flag` as typed: short letters first, then long names.
fn names(flag: &Flag) -> String {
    flag.short
        .iter()
        .chain(flag.short_aliases)
        .map(|c| format!("-{c}"))
        .chain(
            flag.long
                .iter()
                .chain(flag.aliases)
                .map(|l| format!("--{l}")),
        )
        .collect::<Vec<_>>()
        .join(", ")
}

/// Registers in `secrets` what the command line and the `HEALTHPROBE_*`
/// variables may carry, as typed and before anything is parsed (so that
/// a value given to the wrong flag is masked in its error line too): the
/// value of `-u`/`--user` and `HEALTHPROBE_USER`, and in every word and
/// variable a URL's password and a sensitive header's value.
pub fn register_secrets(args: &[OsString], vars: &Vars, secrets: &Secrets) {
    let mut after_user = false;
    for arg in args.iter().skip(1) {
        let word = arg.to_string_lossy();
        if after_user {
            secrets.add_user(&word);
        }
        after_user = word == "-u" || word == "--user";
        if let Some(value) = word.strip_prefix("--user=") {
            secrets.add_user(value);
        } else if let Some(value) = word.strip_prefix("-u").filter(|v| !v.is_empty()) {
            secrets.add_user(value);
        }
        match word.strip_prefix("--").and_then(|w| w.split_once('=')) {
            Some((_, value)) => secrets.scan(value),
            None => secrets.scan(&word),
        }
    }
    for (name, value) in vars.iter() {
        let value = value.to_string_lossy();
        if name == "HEALTHPROBE_USER" {
            secrets.add_user(&value);
        }
        for line in value.lines().flat_map(|line| line.split("\\n")) {
            secrets.scan(line);
        }
    }
}

/// clap's error as healthprobe prints it: help and version whole; a bad
/// boolean from an environment variable naming the variable; any other
/// error as the first line of clap's rendering (which names the flag) with
/// its suggestion ("did you mean") on the same line.
fn rendered(error: &clap::Error) -> InvocationError {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        return InvocationError::Display(error.render().to_string());
    }
    if let Some(line) = bad_variable(error) {
        return InvocationError::Usage(line);
    }
    if error.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg)
        && let Some(line) = unsupported_curl_flag(arg)
    {
        return InvocationError::Usage(line.to_string());
    }
    let rendered = error.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments");
    let typed = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.split(['=', ' ']).next().unwrap_or(arg).to_string(),
        _ => String::new(),
    };
    let suggestion = [ContextKind::SuggestedArg, ContextKind::SuggestedValue]
        .into_iter()
        .find_map(|kind| match error.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            Some(ContextValue::Strings(v)) => v.first().cloned(),
            _ => None,
        })
        .filter(|s| kind_of_value(error) || near(&typed, s))
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_default();
    InvocationError::Usage(format!("{first}{suggestion} (see --help)"))
}

/// curl's flags that healthprobe does not take, each with the line that
/// says why and what to use instead. (Each is one line here rather than
/// an argument: every clap argument costs every probe.)
fn unsupported_curl_flag(arg: &str) -> Option<&'static str> {
    if arg == "-w" || arg.starts_with("--write-out") {
        return Some(
            "error: -w/--write-out (curl's) is not supported: healthprobe has no format \
             strings; -o json prints the status code, the time taken and the reason of \
             every target",
        );
    }
    if arg == "--compressed" {
        return Some(
            "error: --compressed (curl's) is not supported: healthprobe asks for no \
             compression, so the body is judged as the server sends it",
        );
    }
    None
}

/// Whether clap's suggestion is a value of the flag (a boolean's `true`),
/// not another flag.
fn kind_of_value(error: &clap::Error) -> bool {
    error.get(ContextKind::SuggestedValue).is_some()
}

/// Whether `suggested` is a near miss of `typed` in spelling: at most two
/// edits apart, and at most a third of the shorter name. Only such a flag
/// is suggested: clap's own similarity offers `--period` for
/// `--compressed` and `--liveness` (which stops the application) for
/// `--readiness`.
fn near(typed: &str, suggested: &str) -> bool {
    let (a, b) = (
        typed.trim_start_matches('-'),
        suggested.trim_start_matches('-'),
    );
    let distance = edit_distance(a, b);
    distance <= 2 && distance * 3 <= a.len().min(b.len())
}

/// The edit distance of `a` and `b`, in characters: insertions,
/// deletions, substitutions and transpositions of neighbours (`--wiat`
/// is one edit from `--wait`), each counting 1.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The one line for a value clap refused that came from an environment
/// variable: a boolean flag typed on the command line takes no value, so
/// an invalid value of one (`HEALTHPROBE_QUIET=maybe`) is its variable's.
fn bad_variable(error: &clap::Error) -> Option<String> {
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(typed)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let Some(ContextValue::String(value)) = error.get(ContextKind::InvalidValue) else {
        return None;
    };
    let long = typed.strip_prefix("--")?.split(' ').next()?;
    let flag = ALL.iter().find(|f| f.long == Some(long))?;
    let variable = flag.env?;
    if flag.value != Value::Switch || std::env::var_os(variable).is_none_or(|v| v != value.as_str())
    {
        return None;
    }
    Some(format!(
        "error: {variable}: invalid value {value:?} for --{long} (use 1/0, true/false, yes/no or on/off)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        command(true, &Vars::default()).debug_assert();
        command(false, &Vars::default()).debug_assert();
    }

    /// Every default value parses as its flag's type does (the config
    /// layer would fail at run time otherwise).
    #[test]
    fn every_default_is_named_in_the_help() {
        for flag in ALL {
            let help = long_help(flag);
            match flag.default {
                DefaultValue::Value(v) => assert!(help.contains(&format!("[default: {v}]"))),
                DefaultValue::Note(_) => assert!(help.contains("[default: ")),
                DefaultValue::None => assert!(!help.contains("[default: "), "{}", flag.id),
            }
        }
    }

    /// The README's flag table is the one the definitions make
    /// (`cargo run --example gen-docs -- --readme README.md` rewrites it).
    #[test]
    fn the_readme_flag_table_is_made_from_the_definitions() {
        let readme = include_str!("../../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's flag table differs from the definitions; rewrite it with \
             `cargo run --example gen-docs -- --readme README.md`. It should be:\n{table}"
        );
    }

    #[test]
    fn only_near_misses_are_suggested() {
        for (typed, suggested, want) in [
            ("--timout", "--timeout", true),
            ("--perod", "--period", true),
            ("--readiness", "--liveness", false),
            ("--compressed", "--period", false),
            ("--tim", "--timeout", false),
        ] {
            assert_eq!(near(typed, suggested), want, "{typed} -> {suggested}");
        }
    }

    #[test]
    fn usage_errors_are_one_line_with_the_suggestion() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        let error = parse(
            args(&["healthprobe", "--timout", "1s", "/h"]),
            Vars::default(),
            Secrets::new(),
        )
        .expect_err("typo");
        let InvocationError::Usage(line) = error else {
            panic!("not a usage error: {error:?}");
        };
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("did you mean '--timeout'?"), "{line}");
        assert!(matches!(
            parse(
                args(&["healthprobe", "--version"]),
                Vars::default(),
                Secrets::new()
            ),
            Err(InvocationError::Display(_))
        ));
    }
}
