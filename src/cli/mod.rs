//! The command line: flags and their environment variables (clap derive,
//! in [`args`]), parsing with the empty-variable rule, where each value came
//! from ([`Sources`], asked by [`Flag`]), the variables read outside clap,
//! and clap's errors rendered as one line. clap is named nowhere else: the
//! config layer gets a [`Cli`] of plain values, a [`Sources`] and, for a
//! bad invocation, an [`InvocationError`].

mod args;
mod env;
mod flag;
mod sources;

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Command, CommandFactory, FromArgMatches};

pub use args::{Cli, ENV_EXPECT_JSON, ENV_HEADERS, ENV_PORT_FALLBACK, ENV_URL};
pub use env::{env_lines, env_string};
pub use flag::Flag;
pub use sources::Sources;

/// A parsed command line: the values as typed, and what is needed to say
/// where each came from.
#[derive(Debug)]
pub struct Invocation {
    /// The values, as strings (parsed by the config layer).
    pub cli: Cli,
    command: Command,
    matches: clap::ArgMatches,
}

impl Invocation {
    /// The values, and where each came from.
    pub fn split(&mut self) -> (Cli, Sources<'_>) {
        let cli = std::mem::take(&mut self.cli);
        (cli, Sources::new(&self.command, &self.matches))
    }
}

/// Why the command line was not run as a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationError {
    /// `--help` or `--version`: printed whole, a success (exit 0).
    Display(String),
    /// A usage error (unknown flag, missing value, bad variable), as one
    /// line naming the flag or variable: exit 1.
    Usage(String),
}

/// Parses `args` (program name first) and the `HEALTHPROBE_*` variables.
///
/// # Errors
/// `--help` and `--version` ([`InvocationError::Display`]), and every
/// error clap finds, as one line ([`InvocationError::Usage`]).
pub fn parse<I, T>(args: I) -> Result<Invocation, InvocationError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = without_empty_variables(Cli::command());
    let matches = command
        .try_get_matches_from_mut(args)
        .map_err(|e| rendered(&e, &command))?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| rendered(&e, &command))?;
    Ok(Invocation {
        cli,
        command,
        matches,
    })
}

/// The clap definition of every flag, with its variable and default, as
/// `--help` shows them: the source of the man page and the shell
/// completions (`examples/gen-docs.rs`). Never built on a probe's path.
pub fn definition() -> Command {
    Cli::command()
}

/// The long help, as `--help` prints it.
#[cfg(test)]
pub fn long_help() -> String {
    Cli::command().render_long_help().to_string()
}

/// `command` with the environment variables that are set but empty taken
/// away from their flags: empty means unset (Compose writes `VAR=` for
/// `${VAR:-}`), for every `HEALTHPROBE_*` variable. The environment is
/// read once, not once per flag.
fn without_empty_variables(mut command: Command) -> Command {
    let empty: Vec<OsString> = std::env::vars_os()
        .filter(|(name, value)| {
            value.is_empty() && name.as_encoded_bytes().starts_with(b"HEALTHPROBE_")
        })
        .map(|(name, _)| name)
        .collect();
    if empty.is_empty() {
        return command;
    }
    let ids: Vec<clap::Id> = command
        .get_arguments()
        .filter(|a| {
            a.get_env()
                .is_some_and(|env| empty.iter().any(|e| e == env))
        })
        .map(|a| a.get_id().clone())
        .collect();
    for id in ids {
        command = command.mut_arg(id, |a| a.env(None::<&str>));
    }
    command
}

/// clap's error as healthprobe prints it: help and version whole; a bad
/// boolean from an environment variable naming the variable; any other
/// error as the first line of clap's rendering (which names the flag) with
/// its suggestion ("did you mean") on the same line.
fn rendered(error: &clap::Error, command: &Command) -> InvocationError {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        return InvocationError::Display(error.render().to_string());
    }
    if let Some(line) = bad_variable(error, command) {
        return InvocationError::Usage(line);
    }
    // curl's -w/--write-out is no argument (each one costs every probe
    // about 6k instructions in clap): refused here, with where to look.
    if error.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg)
        && (arg == "-w" || arg.starts_with("--write-out"))
    {
        return InvocationError::Usage(
            "error: -w/--write-out (curl's) is not supported: healthprobe has no format \
             strings; -o json prints the status code, the time taken and the reason of \
             every target"
                .to_string(),
        );
    }
    let rendered = error.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments");
    let suggestion = [ContextKind::SuggestedArg, ContextKind::SuggestedValue]
        .into_iter()
        .find_map(|kind| match error.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            Some(ContextValue::Strings(v)) => v.first().cloned(),
            _ => None,
        })
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_default();
    InvocationError::Usage(format!("{first}{suggestion} (see --help)"))
}

/// The one line for a value clap refused that came from an environment
/// variable: a boolean flag typed on the command line takes no value, so
/// an invalid value of one (`HEALTHPROBE_QUIET=maybe`) is its variable's.
fn bad_variable(error: &clap::Error, command: &Command) -> Option<String> {
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(flag)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let Some(ContextValue::String(value)) = error.get(ContextKind::InvalidValue) else {
        return None;
    };
    let arg = command.get_arguments().find(|a| {
        a.get_long().is_some_and(|long| {
            flag.strip_prefix("--")
                .and_then(|f| f.strip_prefix(long))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
    })?;
    let variable = arg.get_env()?;
    if !matches!(arg.get_action(), clap::ArgAction::SetTrue)
        || std::env::var_os(variable).is_none_or(|v| v != value.as_str())
    {
        return None;
    }
    Some(format!(
        "error: {}: invalid value {value:?} for {flag} (use 1/0, true/false, yes/no or on/off)",
        variable.to_string_lossy()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every [`Flag`] names an argument clap defines, so that a message
    /// never falls back to an id of its own.
    #[test]
    fn every_flag_id_is_an_argument() {
        let command = Cli::command();
        for flag in Flag::ALL {
            assert!(
                command.get_arguments().any(|a| a.get_id() == flag.id()),
                "{flag:?} ({}) is not an argument of the command",
                flag.id()
            );
        }
        let defined = command
            .get_arguments()
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .count();
        assert_eq!(Flag::ALL.len(), defined, "an argument without a Flag");
    }

    /// The flag names in a cell of the README's flag table: each word in
    /// backticks that starts with `-`, without its value name.
    fn flags_in(cell: &str) -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .flat_map(|code| code.split([',', ' ', '(', ')']))
            .filter(|w| w.starts_with('-') && w.len() > 1 && *w != "--")
            .map(str::to_string)
            .collect()
    }

    /// The README's flag table says what `--help` says: every argument is
    /// in it, each flag and alias it names exists, each variable is the
    /// flag's, and each default is the one the flag's help names.
    #[test]
    fn the_readme_flag_table_matches_the_definition() {
        let readme = include_str!("../../README.md");
        let rows: Vec<&str> = readme
            .lines()
            .skip_while(|l| !l.starts_with("| flag | env var | default | meaning |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert!(rows.len() > 20, "no flag table in README.md");
        let command = Cli::command();
        let mut seen = std::collections::HashSet::new();
        for row in rows {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            let [flags, vars, default, ..] = cells[..] else {
                panic!("a row without four cells: {row}");
            };
            let names = flags_in(flags);
            let args: Vec<&clap::Arg> = if flags.starts_with("`TARGET") {
                command
                    .get_arguments()
                    .filter(|a| a.get_id() == "targets")
                    .collect()
            } else if flags.starts_with("`-- CMD") {
                command
                    .get_arguments()
                    .filter(|a| a.get_id() == "command")
                    .collect()
            } else {
                names
                    .iter()
                    .map(|name| {
                        command
                            .get_arguments()
                            .find(|a| {
                                let long = name.strip_prefix("--");
                                let short = name.strip_prefix('-').and_then(|s| s.chars().next());
                                long.is_some_and(|l| {
                                    a.get_long() == Some(l)
                                        || a.get_all_aliases().is_some_and(|v| v.contains(&l))
                                }) || (long.is_none()
                                    && (a.get_short() == short
                                        || a.get_all_short_aliases().is_some_and(|v| {
                                            short.is_some_and(|s| v.contains(&s))
                                        })))
                            })
                            .unwrap_or_else(|| panic!("README names {name}, which --help does not"))
                    })
                    .collect()
            };
            for arg in args {
                seen.insert(arg.get_id().to_string());
                if let Some(env) = arg.get_env() {
                    let env = env.to_string_lossy();
                    assert!(vars.contains(&format!("`{env}`")), "{row}: {env} not named");
                }
                let help = arg
                    .get_long_help()
                    .or(arg.get_help())
                    .map(|h| h.to_string())
                    .unwrap_or_default()
                    .replace('\n', " ");
                if let Some(value) = default.strip_prefix('`').and_then(|d| d.strip_suffix('`')) {
                    let value = value.replace(env!("CARGO_PKG_VERSION"), "<version>");
                    assert!(
                        help.contains(&format!("[default: {value}")),
                        "{row}: the help of --{} does not say [default: {value}]",
                        arg.get_id()
                    );
                }
            }
        }
        for arg in command.get_arguments() {
            assert!(
                seen.contains(arg.get_id().as_str()),
                "--{} is not in the README's flag table",
                arg.get_id()
            );
        }
    }

    #[test]
    fn usage_errors_are_one_line_with_the_suggestion() {
        let error = parse(["healthprobe", "--timout", "1s", "/h"]).expect_err("typo");
        let InvocationError::Usage(line) = error else {
            panic!("not a usage error: {error:?}");
        };
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("did you mean '--timeout'?"), "{line}");
        assert!(matches!(
            parse(["healthprobe", "--version"]),
            Err(InvocationError::Display(_))
        ));
    }
}
