//! The values of a parsed command line, asked for by their [`Flag`]: as
//! typed, with `${NAME}` filled where the flag says so, or parsed by their
//! own type, each error naming the flag as the user gave it (the spelling
//! typed, or the variable the value came from).

use std::ffi::OsString;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Error, Result, anyhow};
use clap::ArgMatches;
use clap::parser::ValueSource;

use super::expand::expand_env;
use super::flags::{ALL, DefaultValue, EnvForm, Flag, Value};
use crate::redact::Secrets;

/// Where a flag's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Typed on the command line.
    CommandLine,
    /// Its environment variable.
    Env,
    /// Neither: the flag's default applies.
    Absent,
}

/// The `HEALTHPROBE_*` variables that are set and not empty (empty means
/// unset: Compose writes `VAR=` for `${VAR:-}`), read once.
#[derive(Debug, Default, Clone)]
pub struct Vars(Vec<(String, OsString)>);

impl Vars {
    /// Reads them from the process's environment.
    pub fn read() -> Vars {
        Vars(
            std::env::vars_os()
                .filter(|(name, value)| {
                    !value.is_empty() && name.as_encoded_bytes().starts_with(b"HEALTHPROBE_")
                })
                .map(|(name, value)| (name.to_string_lossy().into_owned(), value))
                .collect(),
        )
    }

    /// The value of `name`, when set and not empty.
    pub fn get(&self, name: &str) -> Option<&OsString> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every variable and its value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OsString)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The value of `name` as text.
    ///
    /// # Errors
    /// It is not UTF-8.
    fn text(&self, name: &str) -> Result<Option<String>> {
        self.get(name)
            .map(|v| {
                v.clone()
                    .into_string()
                    .map_err(|_| anyhow!("{name}: value is not valid UTF-8"))
            })
            .transpose()
    }
}

/// The parsed command line.
#[derive(Debug)]
pub struct Args {
    matches: ArgMatches,
    vars: Vars,
    /// The words of the command line before `--`, as typed.
    words: Vec<String>,
    /// The run's secrets: every value with `${NAME}` filled is registered.
    secrets: Arc<Secrets>,
}

impl Args {
    pub(super) fn new(
        matches: ArgMatches,
        vars: Vars,
        words: Vec<String>,
        secrets: Arc<Secrets>,
    ) -> Args {
        Args {
            matches,
            vars,
            words,
            secrets,
        }
    }

    /// Where the value of `flag` came from.
    pub fn origin(&self, flag: &Flag) -> Origin {
        match self.matches.value_source(flag.id) {
            Some(ValueSource::CommandLine) => Origin::CommandLine,
            Some(ValueSource::EnvVariable) => Origin::Env,
            _ if flag.env_form != EnvForm::Whole
                && flag.env.is_some_and(|e| self.vars.get(e).is_some()) =>
            {
                Origin::Env
            }
            _ => Origin::Absent,
        }
    }

    /// Whether `flag` was typed on the command line.
    pub fn typed(&self, flag: &Flag) -> bool {
        self.origin(flag) == Origin::CommandLine
    }

    /// Whether `flag` has a value, typed or from its variable.
    pub fn given(&self, flag: &Flag) -> bool {
        self.origin(flag) != Origin::Absent
    }

    /// The flag or variable that gave the value of `flag`, as the user
    /// gave it: the variable; on the command line the name typed
    /// (`--max-time`; a short flag with its long name, `-t/--timeout`);
    /// else the long name (the value name, `TARGET`, for the targets).
    pub fn name(&self, flag: &Flag) -> String {
        if self.origin(flag) == Origin::Env
            && let Some(env) = flag.env
        {
            return env.to_string();
        }
        if self.typed(flag) {
            match (self.spelling(flag), flag.long) {
                (Some(Spelling::Short(c)), Some(long)) => return format!("-{c}/--{long}"),
                (Some(Spelling::Long(name)), _) => return format!("--{name}"),
                _ => {}
            }
        }
        name_of(flag)
    }

    /// How `flag` was last spelled on the command line: one of its long
    /// names, or one of its short letters (also inside a cluster such as
    /// `-fsSm`).
    fn spelling(&self, flag: &Flag) -> Option<Spelling<'_>> {
        let mut found = None;
        for word in &self.words {
            if let Some(rest) = word.strip_prefix("--") {
                let name = rest.split('=').next().unwrap_or(rest);
                if flag.long == Some(name) || flag.aliases.contains(&name) {
                    found = Some(Spelling::Long(name));
                }
                continue;
            }
            let Some(cluster) = word.strip_prefix('-') else {
                continue;
            };
            for c in cluster.chars() {
                if flag.short == Some(c) || flag.short_aliases.contains(&c) {
                    found = Some(Spelling::Short(c));
                    break;
                }
                // A letter that takes a value ends the cluster (`-t5s`).
                let takes_value = ALL.iter().any(|f| {
                    (f.short == Some(c) || f.short_aliases.contains(&c))
                        && matches!(f.value, Value::One(_) | Value::Many(_))
                });
                if takes_value {
                    break;
                }
            }
        }
        found
    }

    /// Whether switch `flag` is on.
    pub fn switch(&self, flag: &Flag) -> bool {
        self.matches
            .get_many::<bool>(flag.id)
            .is_some_and(|mut values| values.any(|on| *on))
    }

    /// The values of `flag` typed on the command line, with `${NAME}`
    /// filled where the flag takes it.
    ///
    /// # Errors
    /// A `${NAME}` that cannot be filled, naming the flag.
    pub fn typed_texts(&self, flag: &Flag) -> Result<Vec<String>> {
        if !self.typed(flag) {
            return Ok(Vec::new());
        }
        let texts = self
            .matches
            .get_many::<String>(flag.id)
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        self.filled(flag, texts, || self.name(flag))
    }

    /// The values of `flag` from its variable (split as the variable holds
    /// them), with `${NAME}` filled where the flag takes it.
    ///
    /// # Errors
    /// A variable that is not UTF-8; a `${NAME}` that cannot be filled,
    /// naming the variable.
    pub fn env_texts(&self, flag: &Flag) -> Result<Vec<String>> {
        let Some(name) = flag.env else {
            return Ok(Vec::new());
        };
        let texts = match flag.env_form {
            EnvForm::Whole if self.origin(flag) == Origin::Env => self
                .matches
                .get_many::<String>(flag.id)
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
            EnvForm::Whole => Vec::new(),
            EnvForm::Words => self.vars.text(name)?.map(|v| words(&v)).unwrap_or_default(),
            EnvForm::Lines => self
                .vars
                .text(name)?
                .map(|v| {
                    v.lines()
                        .flat_map(|line| line.split("\\n"))
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        };
        self.filled(flag, texts, || name.to_string())
    }

    /// The values of `flag`: typed, else from its variable.
    ///
    /// # Errors
    /// As [`Args::typed_texts`] and [`Args::env_texts`].
    pub fn texts(&self, flag: &Flag) -> Result<Vec<String>> {
        match self.typed(flag) {
            true => self.typed_texts(flag),
            false => self.env_texts(flag),
        }
    }

    /// The value of `flag` (the last one given), typed or from its
    /// variable.
    ///
    /// # Errors
    /// As [`Args::texts`].
    pub fn text(&self, flag: &Flag) -> Result<Option<String>> {
        Ok(self.texts(flag)?.pop())
    }

    /// `texts` with `${NAME}` filled (when `flag` takes it) and registered
    /// as secrets where they are.
    fn filled(
        &self,
        flag: &Flag,
        texts: Vec<String>,
        name: impl Fn() -> String,
    ) -> Result<Vec<String>> {
        if !flag.expands {
            return Ok(texts);
        }
        texts
            .iter()
            .map(|text| {
                let text = expand_env(text).with_context(&name)?;
                self.secrets.scan(&text);
                Ok(text)
            })
            .collect()
    }

    /// The value of `flag` parsed as a `T`, when given.
    ///
    /// # Errors
    /// `T`'s error, behind the flag's or variable's name.
    pub fn parse<T: FromStr<Err = Error>>(&self, flag: &Flag) -> Result<Option<T>> {
        self.text(flag)?
            .map(|text| text.parse().with_context(|| self.name(flag)))
            .transpose()
    }

    /// The value of `flag` parsed as a `T`, or its default.
    ///
    /// # Errors
    /// `T`'s error, behind the flag's or variable's name.
    pub fn parse_or_default<T: FromStr<Err = Error>>(&self, flag: &Flag) -> Result<T> {
        match self.parse(flag)? {
            Some(value) => Ok(value),
            None => default_of(flag),
        }
    }

    /// Every value of `flag`, each parsed as a `T`.
    ///
    /// # Errors
    /// The first value that does not parse, behind the flag's or
    /// variable's name.
    pub fn parse_all<T: FromStr<Err = Error>>(&self, flag: &Flag) -> Result<Vec<T>> {
        self.texts(flag)?
            .iter()
            .map(|text| text.parse().with_context(|| self.name(flag)))
            .collect()
    }

    /// The command after `--`, verbatim.
    pub fn command(&self, flag: &Flag) -> Vec<OsString> {
        self.matches
            .get_many::<OsString>(flag.id)
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    }
}

/// The default of `flag` parsed as a `T`.
///
/// # Errors
/// A flag without a default value (a bug: a test parses every default).
pub fn default_of<T: FromStr<Err = Error>>(flag: &Flag) -> Result<T> {
    match flag.default {
        DefaultValue::Value(text) => text
            .parse()
            .with_context(|| format!("the default of {}", name_of(flag))),
        _ => Err(anyhow!("{} has no default value", name_of(flag))),
    }
}

/// The default value of `flag` as text, when it has one.
pub fn default_text(flag: &Flag) -> Option<&'static str> {
    match flag.default {
        DefaultValue::Value(text) => Some(text),
        _ => None,
    }
}

/// `--long` of `flag`, or its value name (`TARGET`).
pub fn name_of(flag: &Flag) -> String {
    match (flag.long, flag.value) {
        (Some(long), _) => format!("--{long}"),
        (None, Value::Targets(name) | Value::Command(name)) => name.to_string(),
        (None, _) => flag.id.to_string(),
    }
}

/// A flag as typed: a long name (or alias), or a short letter.
enum Spelling<'a> {
    Long(&'a str),
    Short(char),
}

/// The targets of a variable: separated by whitespace, but an `exec:`
/// target takes the rest of the value (its command's words).
fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value.trim_start();
    while !rest.is_empty() {
        if rest.starts_with("exec:") {
            out.push(rest.trim_end().to_string());
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push(rest[..end].to_string());
        rest = rest[end..].trim_start();
    }
    out
}

/// The value of environment variable `name`, if set and not empty (empty
/// means unset).
///
/// # Errors
/// The value is not UTF-8.
pub fn env_string(name: &str) -> Result<Option<String>> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .into_string()
            .map(Some)
            .map_err(|_| anyhow!("{name}: value is not valid UTF-8")),
    }
}

#[cfg(test)]
#[test]
fn an_exec_target_takes_the_rest_of_a_variable() {
    assert_eq!(words(" /a  tcp://h:1 "), ["/a", "tcp://h:1"]);
    assert_eq!(
        words("/a exec:pg_isready -h db "),
        ["/a", "exec:pg_isready -h db"]
    );
}
