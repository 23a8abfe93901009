//! Credentials: `--user USER:PASSWORD` (curl's flag) and
//! `http://user:password@host/…` URLs become `Authorization: Basic …`
//! (RFC 7617). An explicit `-H 'Authorization: …'` wins over both, and
//! `--user` over the URL's. Passwords never appear in any output: URLs are
//! shown as `http://user:***@host/…`.

use std::str::FromStr;

use anyhow::{Error, Result, anyhow, bail};
use base64::Engine;
use percent_encoding::percent_decode_str;
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

/// `text` with the password of any `user:password@` replaced by `***`, for
/// messages about a URL.
pub fn redact_userinfo(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return text.to_string();
    };
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| i + start);
    match text[start..end].rfind('@') {
        Some(at) => {
            let userinfo = &text[start..start + at];
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{}{user}{hidden}{}", &text[..start], &text[start + at..])
        }
        None => text.to_string(),
    }
}

/// Splits `user:password@` off the authority of `url` (which starts at
/// `start`): the URL without it, and the Basic `Authorization` value of the
/// percent-decoded user and password.
pub(super) fn take_userinfo(url: &str, start: usize) -> Result<(String, Option<HeaderValue>)> {
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| i + start);
    let Some(at) = url[start..end].rfind('@') else {
        return Ok((url.to_string(), None));
    };
    let userinfo = &url[start..start + at];
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |part: &str, what: &str| {
        percent_decode_str(part)
            .decode_utf8()
            .map(|p| p.into_owned())
            .map_err(|_| anyhow!("the {what} in the URL is not UTF-8 once percent-decoded"))
    };
    let (user, password) = (decode(user, "user")?, decode(password, "password")?);
    if user.is_empty() {
        bail!("the user name before '@' in the URL is empty");
    }
    let bare = format!("{}{}", &url[..start], &url[start + at + 1..]);
    Ok((bare, Some(basic(&user, &password))))
}

/// Whether a header carries credentials and is never printed.
pub fn is_secret_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("proxy-authorization")
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
