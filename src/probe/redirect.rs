//! `--follow-redirects`: the next URL of a redirect, when it stays on the
//! same host (ports ignored, the Kubernetes rule). `Location` is resolved
//! against the current URL by the iri-string crate (RFC 3986 section 5
//! reference resolution, dot segments removed, then RFC 3986 section 6
//! normalisation: scheme and host in lower case), never by string
//! arithmetic. The fragment is dropped: it is never sent (RFC 9110 §7.1).

use iri_string::format::ToDedicatedString;
use iri_string::types::{UriAbsoluteStr, UriReferenceStr, UriStr};
use ureq::http::HeaderMap;

/// The next URL when the response's `Location` resolves, against `current`,
/// to an `http://` or `https://` URL on the same host; `None` when there is
/// no usable `Location` or it points elsewhere (the 3xx is then judged as
/// it is).
pub(super) fn same_host(headers: &HeaderMap, current: &str) -> Option<String> {
    let location = headers.get("location")?.to_str().ok()?.trim();
    next(current, location)
}

/// `location` resolved against `current`, when it stays on the same host.
pub(crate) fn next(current: &str, location: &str) -> Option<String> {
    let base = UriAbsoluteStr::new(current.split('#').next()?).ok()?;
    let reference = UriReferenceStr::new(location).ok()?;
    let resolved = reference
        .resolve_against(base)
        .and_normalize()
        .to_dedicated_string();
    let next = resolved.as_str().split('#').next()?;
    let host = |uri: &str| {
        UriStr::new(uri)
            .ok()?
            .authority_components()
            .map(|a| a.host().to_ascii_lowercase())
    };
    let same_host = host(next)? == host(current)?;
    let http = matches!(UriStr::new(next).ok()?.scheme_str(), "http" | "https");
    (same_host && http).then(|| next.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3986 section 5.4's examples that servers send, and the host rule.
    #[test]
    fn locations_resolve_against_the_current_url() {
        let base = "http://h:1/a/b?q=1";
        for (location, want) in [
            ("/x", Some("http://h:1/x")),
            ("c", Some("http://h:1/a/c")),
            ("?x", Some("http://h:1/a/b?x")),
            ("../c", Some("http://h:1/c")),
            ("./c/../d", Some("http://h:1/a/d")),
            ("//h:2/y", Some("http://h:2/y")),
            ("https://h/z", Some("https://h/z")),
            ("HTTPS://H/z", Some("https://h/z")),
            ("#frag", Some("http://h:1/a/b?q=1")),
            ("/p%7e?a b", None),
            ("//other:1/y", None),
            ("http://other/", None),
            ("ftp://h/file", None),
            ("http://[", None),
        ] {
            assert_eq!(next(base, location).as_deref(), want, "{location}");
        }
        assert_eq!(next("http://h:1", "c").as_deref(), Some("http://h:1/c"));
        assert_eq!(
            next("http://[::1]:8/a", "/b").as_deref(),
            Some("http://[::1]:8/b")
        );
    }
}
