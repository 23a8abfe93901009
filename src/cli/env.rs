//! The variables read outside clap (`HEALTHPROBE_URL`, `HEALTHPROBE_HEADERS`,
//! `HEALTHPROBE_EXPECT_JSON`, `PORT`), with the same rule as clap's: an
//! empty variable is no variable.

use anyhow::{Result, anyhow};

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

/// The non-empty lines of a multi-line environment variable. The two
/// characters `\n` separate lines too: a Dockerfile `ENV` line cannot hold
/// a newline.
///
/// # Errors
/// The value is not UTF-8.
pub fn env_lines(name: &str) -> Result<Vec<String>> {
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
