//! What a healthy answer looks like: the status set, body text and JSON
//! values, each parsing itself (`FromStr`), with their table tests.

use std::str::FromStr;

use anyhow::{Error, Result, anyhow, bail};

use super::target::Target;
use super::values::Method;
use crate::cli::Args;
use crate::cli::flags::{self, DefaultValue};

/// What a healthy answer looks like; all must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// Healthy status codes.
    pub status: StatusSet,
    /// Text the body must contain.
    pub body: Option<String>,
    /// JSON values the body must hold.
    pub json: Vec<JsonExpectation>,
}

/// A set of status codes as inclusive ranges, e.g. `200-399` (the Kubernetes
/// httpGet rule: 200 ≤ status < 400) or `200,204,301-302`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
    text: String,
}

impl StatusSet {
    /// Whether `code` is in the set.
    pub fn contains(&self, code: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&code))
    }

    /// Whether this is the default set of `--expect-status` (the report
    /// does not repeat it).
    pub fn is_default(&self) -> bool {
        matches!(flags::EXPECT_STATUS.default, DefaultValue::Value(v) if v == self.text)
    }

    /// The set as the user wrote it, normalised (`200-399`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for StatusSet {
    type Err = Error;

    /// Parses a comma-separated list of codes and `LOW-HIGH` ranges, each
    /// code within 100-599.
    ///
    /// # Errors
    /// An empty item, a code that is not a number or outside 100-599, or a
    /// range whose low end is above its high end.
    fn from_str(text: &str) -> Result<Self> {
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let item = item.trim();
            let (lo, hi) = match item.split_once('-') {
                Some((lo, hi)) => (status_code(lo)?, status_code(hi)?),
                None => {
                    let code = status_code(item)?;
                    (code, code)
                }
            };
            if lo > hi {
                bail!("range {item} runs backwards");
            }
            ranges.push((lo, hi));
        }
        Ok(StatusSet {
            ranges,
            text: text.split(',').map(str::trim).collect::<Vec<_>>().join(","),
        })
    }
}

fn status_code(text: &str) -> Result<u16> {
    let text = text.trim();
    if text.is_empty() {
        bail!("empty status code");
    }
    let code: u16 = text
        .parse()
        .map_err(|_| anyhow!("{text:?} is not a status code"))?;
    if !(100..=599).contains(&code) {
        bail!("status code {code} is outside 100-599");
    }
    Ok(code)
}

/// `--expect-json POINTER=VALUE`: the value at an RFC 6901 pointer must equal
/// `value`; a JSON string compares with its text, any other JSON value with
/// its compact JSON form (`true`, `42`, `null`, `{"a":1}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonExpectation {
    /// RFC 6901 pointer, starting with `/`.
    pub pointer: String,
    /// Expected text.
    pub value: String,
}

impl FromStr for JsonExpectation {
    type Err = Error;

    /// Parses `POINTER=VALUE`, splitting at the first `=`.
    ///
    /// # Errors
    /// No `=`, or a pointer that does not start with `/`.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let (pointer, value) = text
            .split_once('=')
            .ok_or_else(|| anyhow!("{text:?} is not POINTER=VALUE (e.g. /status=ok)"))?;
        if !pointer.starts_with('/') {
            bail!("JSON pointer {pointer:?} must start with '/' (RFC 6901, e.g. /status)");
        }
        Ok(JsonExpectation {
            pointer: pointer.to_string(),
            value: value.to_string(),
        })
    }
}

/// The status set, body text and JSON values a healthy answer must have.
/// `--expect-json` on the command line replaces `HEALTHPROBE_EXPECT_JSON`
/// (as every other flag replaces its variable).
///
/// # Errors
/// A value that does not parse; HEAD with a body expectation; an
/// expectation typed on the command line when every target is `tcp://`,
/// where it cannot apply (one from the environment is not an error there:
/// an image's `HEALTHPROBE_EXPECT_JSON` is for its HTTP health check).
pub(super) fn expectations(
    args: &Args,
    method: Method,
    targets: &[&Target],
) -> Result<Expectations> {
    let (status, body, json) = (
        &flags::EXPECT_STATUS,
        &flags::EXPECT_BODY,
        &flags::EXPECT_JSON,
    );
    if !targets.iter().any(|t| t.is_http())
        && let Some(flag) = [status, body, json].into_iter().find(|f| args.typed(f))
    {
        bail!(
            "{} cannot apply: no target is http(s):// (tcp:// and grpc:// have no status or body)",
            args.name(flag)
        );
    }
    let expected: StatusSet = args.parse_or_default(status)?;
    let values = args.parse_all::<JsonExpectation>(json)?;
    let text = args.text(body)?;
    if method == Method::Head && (text.is_some() || !values.is_empty()) {
        let head = match args.switch(&flags::HEAD) {
            true => &flags::HEAD,
            false => &flags::METHOD,
        };
        bail!(
            "{} HEAD gets no body: {} and {} need GET",
            args.name(head),
            args.name(body),
            args.name(json)
        );
    }
    Ok(Expectations {
        status: expected,
        body: text,
        json: values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused<T: FromStr<Err = Error> + std::fmt::Debug>(bad: &[&str]) {
        for text in bad {
            assert!(text.parse::<T>().is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn status_sets_parse_codes_and_ranges() {
        let set: StatusSet = "200-299, 301,404".parse().expect("a status set");
        assert!(set.contains(200) && set.contains(299) && set.contains(301) && set.contains(404));
        assert!(!set.contains(300) && !set.contains(302) && !set.contains(500));
        assert_eq!(set.as_str(), "200-299,301,404");
        refused::<StatusSet>(&[
            "", "99", "600", "300-200", "2xx", "200-", ",200", "200,,300",
        ]);
    }

    #[test]
    fn json_expectations_need_a_pointer_and_equals() {
        let e: JsonExpectation = "/a/b=c=d".parse().expect("an expectation");
        assert_eq!((e.pointer.as_str(), e.value.as_str()), ("/a/b", "c=d"));
        refused::<JsonExpectation>(&["/status", "status=ok"]);
    }
}
