//! Where each value came from: the flag as clap defines it, or its
//! environment variable.

use std::str::FromStr;

use anyhow::{Context, Error, Result};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

use super::flag::Flag;

/// Where each value came from, for error messages: the flag as clap defines
/// it, or its environment variable when the value was read from there.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    command: &'a Command,
    matches: &'a ArgMatches,
}

impl<'a> Sources<'a> {
    pub(super) fn new(command: &'a Command, matches: &'a ArgMatches) -> Self {
        Sources { command, matches }
    }

    /// `--timeout` or `HEALTHPROBE_TIMEOUT` for `flag`, whichever gave the
    /// value (the value name, `TARGET`, for a positional argument).
    pub fn name(&self, flag: Flag) -> String {
        let id = flag.id();
        let Some(arg) = self.command.get_arguments().find(|a| a.get_id() == id) else {
            return id.to_string();
        };
        if self.came_from_env(flag)
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

    /// Whether the value of `flag` was typed on the command line (not taken
    /// from the environment).
    pub fn typed(&self, flag: Flag) -> bool {
        self.matches.value_source(flag.id()) == Some(ValueSource::CommandLine)
    }

    /// Whether the value of `flag` came from its environment variable.
    pub fn came_from_env(&self, flag: Flag) -> bool {
        self.matches.value_source(flag.id()) == Some(ValueSource::EnvVariable)
    }

    /// Parses the value of `flag` (`text`, or `default` when absent) as a
    /// `T`.
    ///
    /// # Errors
    /// `T`'s error, behind the flag's or variable's name.
    pub fn parse<T: FromStr<Err = Error>>(
        &self,
        flag: Flag,
        text: Option<&str>,
        default: &str,
    ) -> Result<T> {
        text.unwrap_or(default)
            .parse()
            .with_context(|| self.name(flag))
    }

    /// Like [`Sources::parse`] for an optional value with no default.
    ///
    /// # Errors
    /// `T`'s error, behind the flag's or variable's name.
    pub fn parse_opt<T: FromStr<Err = Error>>(
        &self,
        flag: Flag,
        text: Option<&str>,
    ) -> Result<Option<T>> {
        text.map(|t| t.parse().with_context(|| self.name(flag)))
            .transpose()
    }
}
