//! Credentials: `--user USER:PASSWORD` (curl's flag) and
//! `http://user:password@host/…` URLs become `Authorization: Basic …`
//! (RFC 7617). An explicit `-H 'Authorization: …'` wins over both, and
//! `--user` over the URL's. Passwords never appear in any output: URLs are
//! shown as `http://user:***@host/…`.

use std::str::FromStr;

use anyhow::{Error, Result, bail};
use base64::Engine;
use ureq::http::HeaderValue;

/// The `Authorization` value of Basic credentials, marked sensitive.
pub(crate) fn basic(user: &str, password: &str) -> HeaderValue {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    // Base64 is always a valid header value.
    let mut value = HeaderValue::from_str(&format!("Basic {token}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// `--user USER:PASSWORD`, split at the first colon (a password may hold
/// colons, a user name may not: RFC 7617).
#[derive(Clone, PartialEq, Eq)]
pub struct UserPassword {
    /// The `Authorization: Basic …` value.
    pub authorization: HeaderValue,
}

impl std::fmt::Debug for UserPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserPassword(<redacted>)")
    }
}

impl FromStr for UserPassword {
    type Err = Error;

    /// # Errors
    /// No colon (there is no prompt for a password here), or an empty user.
    /// The message never repeats the value.
    fn from_str(text: &str) -> Result<Self> {
        let Some((user, password)) = text.split_once(':') else {
            bail!("give USER:PASSWORD (there is no password prompt)");
        };
        if user.is_empty() {
            bail!("the user name before ':' is empty");
        }
        Ok(UserPassword {
            authorization: basic(user, password),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_rfc_7617() {
        // RFC 7617 section 2's example.
        assert_eq!(
            basic("Aladdin", "open sesame").to_str().ok(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        let u: UserPassword = "user:pa:ss".parse().expect("user:password");
        assert_eq!(u.authorization, basic("user", "pa:ss"));
        assert!(u.authorization.is_sensitive());
        assert_eq!(format!("{u:?}"), "UserPassword(<redacted>)");
        for bad in ["nopassword", ":secret"] {
            let error = bad.parse::<UserPassword>().expect_err(bad).to_string();
            assert!(!error.contains("secret"), "{error}");
        }
    }
}
