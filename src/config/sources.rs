//! Where each value came from: the flag as clap defines it, or its
//! environment variable; and the variables read outside clap.

use std::str::FromStr;

use anyhow::{Context, Error, Result, anyhow};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

/// Where each value came from, for error messages: the flag as clap defines
/// it, or its environment variable when the value was read from there.
pub(crate) struct Sources<'a> {
    pub(super) command: &'a Command,
    pub(super) matches: &'a ArgMatches,
}

impl Sources<'_> {
    /// `--timeout` or `HEALTHPROBE_TIMEOUT` for the argument with clap id
    /// `id`, whichever gave the value.
    pub(crate) fn name(&self, id: &str) -> String {
        let Some(arg) = self.command.get_arguments().find(|a| a.get_id() == id) else {
            return id.to_string();
        };
        if self.matches.value_source(id) == Some(ValueSource::EnvVariable)
            && let Some(env) = arg.get_env()
        {
            return env.to_string_lossy().into_owned();
        }
        match (arg.get_long(), arg.get_value_names()) {
            (Some(long), _) => format!("--{long}"),
            (None, Some([name, ..])) => name.to_string(),
            (None, _) => id.to_string(),
        }
    }

    /// Whether the value of argument `id` was typed on the command line (not
    /// taken from the environment).
    pub(super) fn typed(&self, id: &str) -> bool {
        self.matches.value_source(id) == Some(ValueSource::CommandLine)
    }

    /// Whether the value of argument `id` came from its environment
    /// variable.
    pub(super) fn came_from_env(&self, id: &str) -> bool {
        self.matches.value_source(id) == Some(ValueSource::EnvVariable)
    }

    /// Parses the value of argument `id` (`text`, or `default` when absent)
    /// as a `T`; an error names the flag or variable.
    pub(super) fn parse<T: FromStr<Err = Error>>(
        &self,
        id: &str,
        text: Option<&str>,
        default: &str,
    ) -> Result<T> {
        text.unwrap_or(default)
            .parse()
            .with_context(|| self.name(id))
    }

    /// Like [`Sources::parse`] for an optional value with no default.
    pub(super) fn parse_opt<T: FromStr<Err = Error>>(
        &self,
        id: &str,
        text: Option<&str>,
    ) -> Result<Option<T>> {
        text.map(|t| t.parse().with_context(|| self.name(id)))
            .transpose()
    }
}

/// The value of environment variable `name`, if set and not empty (empty
/// means unset).
///
/// # Errors
/// The value is not UTF-8.
pub(super) fn env_string(name: &str) -> Result<Option<String>> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .into_string()
            .map(Some)
            .map_err(|_| anyhow!("{name}: value is not valid UTF-8")),
    }
}

/// The non-empty lines of a multi-line environment variable. The two
/// characters `\n` separate lines too: a Dockerfile `ENV` line cannot hold
/// a newline.
pub(super) fn env_lines(name: &str) -> Result<Vec<String>> {
    Ok(env_string(name)?
        .map(|v| {
            v.lines()
                .flat_map(|line| line.split("\\n"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}
