//! Targets: what a check is aimed at, validated once.

use anyhow::{Context, Result, anyhow, bail};
use ureq::http::{HeaderValue, Uri};

pub use super::auth::redact_userinfo;
use super::auth::take_userinfo;
use super::values::Port;

/// A validated target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The absolute URL requested, without credentials, e.g.
    /// `http://127.0.0.1:8000/health` or `tcp://127.0.0.1:5432`.
    pub url: String,
    /// The URL as reports show it: `url`, with `user:***@` when the target
    /// carried credentials (the password is never shown).
    pub shown: String,
    /// What kind of check the URL asks for.
    pub kind: TargetKind,
    /// `Authorization: Basic …` from `user:password@` in the URL
    /// (percent-decoded), marked sensitive.
    pub authorization: Option<HeaderValue>,
}

/// The kind of check a target asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// An HTTP(S) request, judged by status and expectations.
    Http,
    /// A TCP connect, healthy when it opens (the Kubernetes tcpSocket probe).
    Tcp {
        /// Host name or IP address, without IPv6 brackets.
        host: String,
        /// Port, 1-65535.
        port: u16,
    },
    /// The grpc.health.v1 `Health/Check` RPC over HTTP/2 (`grpc://`,
    /// cleartext with prior knowledge, or `grpcs://`, TLS with ALPN h2).
    Grpc {
        /// Host name or IP address, without IPv6 brackets.
        host: String,
        /// Port, 1-65535.
        port: u16,
        /// The service asked about; empty for the server as a whole.
        service: String,
        /// `grpcs://`.
        tls: bool,
    },
}

/// A URL host without IPv6 brackets: `[::1]` → `::1`.
pub fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Whether `text` is `host:port` or `host:port/path…` without a scheme
/// (`localhost:8000/health`, `[::1]:8080`), which curl reads as http://.
fn is_host_port(text: &str) -> bool {
    let authority = text.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port),
        None => return false,
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[') {
        v6.ends_with(']')
    } else {
        !host.is_empty() && !host.contains([':', '@', ' '])
    };
    host_ok && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
}

/// A host as it stands in a URL authority: IPv6 addresses in brackets.
pub fn url_host(host: &str) -> String {
    let host = bare_host(host);
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

impl Target {
    /// Checks and normalises one target: an `http://` or `https://` URL
    /// with a host (IPv6 literals in brackets) and a port in 1-65535, a
    /// `tcp://host:port`, or a bare path that is joined to `host` and
    /// `port`.
    ///
    /// # Errors
    /// Another scheme, no host, port 0 or above 65535, a URL `http::Uri`
    /// refuses, userinfo in the URL, or a bare path when no port is known.
    pub fn parse(text: &str, host: &str, port: Option<u16>) -> Result<Target> {
        let shown_text = redact_userinfo(text);
        let parsed = Self::parse_url(text, host, port);
        // Messages about the target never show its password.
        parsed.map_err(|e| anyhow!("{}", format!("{e:#}").replace(text, &shown_text)))
    }

    fn parse_url(text: &str, host: &str, port: Option<u16>) -> Result<Target> {
        let url = if text.starts_with('/') {
            let port = port.ok_or_else(|| {
                anyhow!(
                    "{text} is a bare path but no port is set: give --port, \
                     HEALTHPROBE_PORT or PORT, or a full URL"
                )
            })?;
            format!("http://{}:{port}{text}", url_host(host))
        } else if !text.contains("://") && is_host_port(text) {
            // What curl users type: host:port[/path] means http://.
            format!("http://{text}")
        } else {
            text.to_string()
        };
        let scheme_end = url.find("://").ok_or_else(|| {
            anyhow!(
                "{text:?} is not a target: give an http:// or https:// URL, tcp://host:port, \
                 host:port[/path] (http), or a path like /health"
            )
        })?;
        let scheme = url[..scheme_end].to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "tcp" | "grpc" | "grpcs") {
            bail!(
                "{text:?}: scheme {scheme}:// is not supported \
                 (use http://, https://, tcp:// or grpc://)"
            );
        }
        let (url, authorization) = take_userinfo(&url, scheme_end + 3)?;
        if authorization.is_some() && !scheme.starts_with("http") {
            bail!("{text:?}: a {scheme}:// target takes no user:password@");
        }
        // Explicit port check first: http::Uri reports an out-of-range port
        // only as "invalid authority".
        let authority_end = url[scheme_end + 3..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| i + scheme_end + 3);
        let authority = &url[scheme_end + 3..authority_end];
        if authority.contains('@') {
            bail!("{text:?} has more than one '@' before the host");
        }
        let host_part_end = if authority.starts_with('[') {
            authority.find(']').map_or(authority.len(), |i| i + 1)
        } else {
            authority.find(':').unwrap_or(authority.len())
        };
        if host_part_end == 0
            || authority[..host_part_end]
                .trim_matches(['[', ']'])
                .is_empty()
        {
            bail!("{text:?} has no host");
        }
        if let Some(port) = authority[host_part_end..].strip_prefix(':') {
            port.parse::<Port>().with_context(|| format!("{text:?}"))?;
        }
        let uri: Uri = url
            .parse()
            .with_context(|| format!("{text:?} is not a valid URL"))?;
        let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
            bail!("{text:?} has no host");
        };
        if scheme.starts_with("grpc") {
            let port = uri
                .port_u16()
                .ok_or_else(|| anyhow!("{text:?}: a {scheme}:// target needs a port"))?;
            if uri.query().is_some() {
                bail!("{text:?}: a {scheme}:// target is host:port[/SERVICE]");
            }
            let service = uri.path().trim_start_matches('/').to_string();
            if service.contains('/') {
                bail!(
                    "{text:?}: a service name has no '/' (e.g. grpc://127.0.0.1:50051/app.Ready)"
                );
            }
            let url = format!(
                "{scheme}://{}{}",
                uri.authority().map_or("", |a| a.as_str()),
                if service.is_empty() {
                    String::new()
                } else {
                    format!("/{service}")
                }
            );
            return Ok(Target {
                shown: url.clone(),
                url,
                kind: TargetKind::Grpc {
                    host: bare_host(host).to_string(),
                    port,
                    service,
                    tls: scheme == "grpcs",
                },
                authorization: None,
            });
        }
        if scheme == "tcp" {
            let port = uri
                .port_u16()
                .ok_or_else(|| anyhow!("{text:?}: a tcp:// target needs a port"))?;
            if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
                bail!("{text:?}: a tcp:// target is only host:port");
            }
            let host = bare_host(host).to_string();
            let url = format!("tcp://{}", uri.authority().map_or("", |a| a.as_str()));
            return Ok(Target {
                shown: url.clone(),
                url,
                kind: TargetKind::Tcp { host, port },
                authorization: None,
            });
        }
        // The scheme in lower case from here on, so that every later check
        // reads one form.
        let shown = uri.to_string();
        let rest = shown.find("://").map_or("", |i| &shown[i..]);
        let mut url = format!("{scheme}{rest}");
        if uri.path() == "/" && uri.query().is_none() && !url.ends_with('/') {
            url.push('/');
        }
        let shown = match &authorization {
            Some(_) => {
                let user = redact_userinfo(text);
                let userinfo_end = user.rfind('@').map_or(0, |i| i + 1);
                let start = user.find("://").map_or(0, |i| i + 3);
                format!(
                    "{scheme}://{}{}",
                    &user[start..userinfo_end],
                    &url[scheme.len() + 3..]
                )
            }
            None => url.clone(),
        };
        Ok(Target {
            url,
            shown,
            kind: TargetKind::Http,
            authorization,
        })
    }

    /// Whether the check speaks TLS (`https://`, `grpcs://`).
    pub fn is_https(&self) -> bool {
        self.url.starts_with("https://") || self.url.starts_with("grpcs://")
    }

    /// Whether the target is an HTTP request (status and body to judge).
    pub fn is_http(&self) -> bool {
        self.kind == TargetKind::Http
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::auth::basic;

    #[test]
    fn targets_take_urls_ipv6_and_bare_paths() {
        let t = |s, p| Target::parse(s, "127.0.0.1", p).map(|t| t.url);
        for (text, port, want) in [
            ("/health", Some(8000), "http://127.0.0.1:8000/health"),
            ("http://[::1]:8080/health", None, "http://[::1]:8080/health"),
            ("https://example.test", None, "https://example.test/"),
            ("HTTP://Example.test:80/a", None, "http://Example.test:80/a"),
            ("tcp://db:5432", None, "tcp://db:5432"),
            (
                "localhost:8000/health",
                None,
                "http://localhost:8000/health",
            ),
            ("127.0.0.1:8000", None, "http://127.0.0.1:8000/"),
            ("[::1]:8080/h?x=1", None, "http://[::1]:8080/h?x=1"),
            ("grpc://127.0.0.1:50051", None, "grpc://127.0.0.1:50051"),
            ("GRPCS://h:443/app.Ready", None, "grpcs://h:443/app.Ready"),
        ] {
            assert_eq!(t(text, port).ok().as_deref(), Some(want), "{text}");
        }
        assert_eq!(
            Target::parse("/h", "::1", Some(1)).map(|t| t.url).ok(),
            Some("http://[::1]:1/h".to_string())
        );
        for bad in [
            "/health",
            "ftp://x/",
            "http://x:0/",
            "http://x:65536/",
            "http://:80/",
            "http:///",
            "localhost",
            "health",
            "localhost:http",
            "localhost:+80",
            "http://x:+80/",
            "http://x:abc/",
            "tcp://x/",
            "tcp://x:80/path",
            "grpc://x/",
            "grpc://x:1/a/b",
            "grpc://x:1/?q",
            "grpc://u:p@x:1",
        ] {
            assert!(t(bad, None).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn credentials_in_urls_become_basic_auth_and_are_never_shown() {
        let t = Target::parse("http://al%40ice:p%40ss@h:8/x?y", "127.0.0.1", None)
            .expect("a URL with credentials");
        assert_eq!(t.url, "http://h:8/x?y");
        assert_eq!(t.shown, "http://al%40ice:***@h:8/x?y");
        assert_eq!(t.authorization, Some(basic("al@ice", "p@ss")));
        let t = Target::parse("HTTPS://bob@h/", "127.0.0.1", None).expect("user only");
        assert_eq!(
            (t.url.as_str(), t.shown.as_str()),
            ("https://h/", "https://bob@h/")
        );
        for bad in [
            "http://:pw@h/",
            "tcp://u:pw@h:1",
            "http://u:pw@h:0/",
            "http://u:pw@h:x/",
        ] {
            let error = format!(
                "{:#}",
                Target::parse(bad, "127.0.0.1", None).expect_err(bad)
            );
            assert!(!error.contains("pw"), "{bad}: {error}");
        }
        assert_eq!(
            redact_userinfo("http://u:secret@h/p@q"),
            "http://u:***@h/p@q"
        );
        assert_eq!(redact_userinfo("/health"), "/health");
    }

    #[test]
    fn hosts_lose_and_gain_ipv6_brackets() {
        assert_eq!(bare_host("[::1]"), "::1");
        assert_eq!(bare_host("a.test"), "a.test");
        assert_eq!(url_host("::1"), "[::1]");
        assert_eq!(url_host("[::1]"), "[::1]");
        assert_eq!(url_host("127.0.0.1"), "127.0.0.1");
    }
}
