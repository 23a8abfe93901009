//! `${NAME}` in values, filled from the environment at run time.
//!
//! Exec-form `HEALTHCHECK` and Compose `CMD` arrays never expand variables,
//! so a token that arrives with `docker run -e TOKEN=…` could not reach a
//! header. The rules, a small subset of POSIX shell parameter expansion:
//! - `${NAME}`: the variable's value; unset is an error;
//! - `${NAME:-default}`: the value, or `default` (taken literally) when the
//!   variable is unset or empty;
//! - `$$`: a literal `$`;
//! - any other `$` stays as it is (OData health URLs carry `$select` and
//!   `$filter`).
//!
//! No crate does exactly this (shellexpand also expands bare `$NAME` and
//! `~`), so the parser is small and table-tested below.

use anyhow::{Result, anyhow, bail};

/// Expands `text` with variables from `lookup` (`None`: unset).
///
/// # Errors
/// `${NAME}` of an unset variable, an unterminated `${`, or a name that is
/// not `[A-Za-z_][A-Za-z0-9_]*`. The message names the variable; the
/// caller adds the flag the text came from.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| anyhow!("unterminated ${{ in {text:?}"))?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            if !valid_name(name) {
                bail!(
                    "${{{}}}: {name:?} is not a variable name",
                    inner.escape_debug()
                );
            }
            match (
                lookup(name).filter(|v| default.is_none() || !v.is_empty()),
                default,
            ) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => bail!(
                    "${{{name}}}: environment variable {name} is not set (give it a value, \
                     or a default: ${{{name}:-default}})"
                ),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expands with the process environment; a value that is not UTF-8 counts
/// as unset.
pub(super) fn expand_env(text: &str) -> Result<String> {
    expand(text, |name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "PORT" => Some("8080".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expansion_follows_the_shell_subset() {
        for (text, want) in [
            ("plain", "plain"),
            ("Bearer ${TOKEN}", "Bearer s3cret"),
            ("http://h:${PORT}/x", "http://h:8080/x"),
            ("${TOKEN}${PORT}", "s3cret8080"),
            ("${UNSET:-fallback}", "fallback"),
            ("${EMPTY:-fallback}", "fallback"),
            ("${EMPTY}", ""),
            ("${PORT:-1}", "8080"),
            ("${UNSET:-}", ""),
            ("${UNSET:-a:-b}", "a:-b"),
            ("$$", "$"),
            ("$${TOKEN}", "${TOKEN}"),
            ("$$$$", "$$"),
            (
                "/odata?$select=Name&$filter=x",
                "/odata?$select=Name&$filter=x",
            ),
            ("$TOKEN", "$TOKEN"),
            ("cost: 5$", "cost: 5$"),
            ("$", "$"),
        ] {
            assert_eq!(expand(text, env).ok().as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn unset_variables_and_bad_syntax_are_refused_naming_the_variable() {
        for (text, says) in [
            ("${UNSET}", "environment variable UNSET is not set"),
            ("a ${NOPE} b", "NOPE"),
            ("${TOKEN", "unterminated"),
            ("${}", "not a variable name"),
            ("${1X}", "not a variable name"),
            ("${A-B}", "not a variable name"),
            ("${A\nB}", "${A\\nB}: \"A\\nB\" is not a variable name"),
        ] {
            let error = expand(text, env).expect_err(text).to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
