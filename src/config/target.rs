//! Targets: what a check is aimed at, parsed once by a URL library
//! (iri-string, RFC 3986) into scheme, host, port, path and credentials.

use anyhow::{Context, Result, anyhow, bail};
use iri_string::build::Builder;
use iri_string::types::{UriRelativeStr, UriStr};
use percent_encoding::percent_decode_str;
use ureq::http::HeaderValue;

use super::auth::basic;
use super::values::{Port, abbreviated, bare_host};

/// A validated target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The absolute URL requested, without credentials, scheme in lower
    /// case, e.g. `http://127.0.0.1:8000/health` or `tcp://127.0.0.1:5432`.
    pub url: String,
    /// The URL as reports show it: `url`, with `user:***@` when the target
    /// carried credentials (the password is never shown), its start only
    /// when longer than 100 characters.
    pub shown: String,
    /// What kind of check the URL asks for.
    pub kind: TargetKind,
    /// Host name or IP address, without IPv6 brackets.
    pub host: String,
    /// The port: the URL's, or the scheme's default (80, 443).
    pub port: u16,
    /// `Authorization: Basic …` from `user:password@` in the URL
    /// (percent-decoded), marked sensitive.
    pub authorization: Option<HeaderValue>,
}

/// The kind of check a target asks for; TLS is a property of the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// An HTTP request (`http://`, `https://` with `tls`), judged by status
    /// and expectations.
    Http {
        /// `https://`.
        tls: bool,
    },
    /// A TCP connect, healthy when it opens (the Kubernetes tcpSocket probe).
    Tcp,
    /// The grpc.health.v1 `Health/Check` RPC over HTTP/2 (`grpc://`,
    /// cleartext with prior knowledge, or `grpcs://`, TLS with ALPN h2).
    Grpc {
        /// The service asked about; empty for the server as a whole.
        service: String,
        /// `grpcs://`.
        tls: bool,
    },
    /// A command run without a shell (`exec:COMMAND ARG…`, the Kubernetes
    /// exec probe): healthy when it exits 0 within the deadline.
    Exec {
        /// The program (looked up on PATH) and its arguments.
        argv: Vec<String>,
    },
}

impl TargetKind {
    /// Whether the check speaks TLS (`https://`, `grpcs://`).
    pub fn tls(&self) -> bool {
        match self {
            TargetKind::Http { tls } | TargetKind::Grpc { tls, .. } => *tls,
            TargetKind::Tcp | TargetKind::Exec { .. } => false,
        }
    }
}

/// The parts of a target as the URL library found them.
struct Parts<'a> {
    scheme: String,
    host: &'a str,
    port: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    userinfo: Option<&'a str>,
}

impl Target {
    /// Checks and normalises one target: an `http://`, `https://`,
    /// `tcp://`, `grpc://` or `grpcs://` URL with a host (IPv6 literals in
    /// brackets) and a port in 1-65535; `host:port[/path]` (read as
    /// `http://`, as curl does); or a bare path joined to `host` and `port`.
    ///
    /// # Errors
    /// Another scheme, no host, a port outside 1-65535, text that is not a
    /// URL, credentials on a target other than http(s), or a bare path when
    /// no port is known. A message never shows a password.
    pub fn parse(text: &str, host: &str, port: Option<u16>) -> Result<Target> {
        if let Some(command) = text.strip_prefix("exec:") {
            let argv: Vec<String> = command.split_whitespace().map(str::to_string).collect();
            return Self::exec(argv);
        }
        if text.starts_with('/') {
            return Self::bare_path(text, host, port);
        }
        let owned;
        let uri = match with_authority(text) {
            Some(uri) => uri,
            None if text.contains("://") => {
                bail!("{:?} is not a valid URL", abbreviated(text))
            }
            // What curl users type: host:port[/path] means http://.
            None => {
                owned = format!("http://{text}");
                match with_authority(&owned) {
                    Some(uri)
                        if uri
                            .authority_components()
                            .and_then(|a| a.port())
                            .is_some_and(|p| !p.is_empty()) =>
                    {
                        uri
                    }
                    _ => bail!(
                        "{:?} is not a target: give an http:// or https:// URL, tcp://host:port, \
                         grpc://host:port, exec:COMMAND, host:port[/path] (http), or a path \
                         like /health",
                        abbreviated(text)
                    ),
                }
            }
        };
        let shown = uri.mask_password().replace_password("***").to_string();
        Self::from_parts(Self::parts(uri)?).with_context(|| format!("{:?}", abbreviated(&shown)))
    }

    /// A command run as a check (`exec:COMMAND ARG…`, or the `command` of a
    /// Kubernetes exec probe), its words as given: no shell.
    ///
    /// # Errors
    /// No command.
    pub fn exec(argv: Vec<String>) -> Result<Target> {
        if argv.first().is_none_or(|program| program.is_empty()) {
            bail!("exec: needs a command (e.g. exec:pg_isready -h 127.0.0.1)");
        }
        let url = format!("exec:{}", argv.join(" "));
        Ok(Target {
            shown: abbreviated(&url).into_owned(),
            url,
            kind: TargetKind::Exec { argv },
            host: String::new(),
            port: 0,
            authorization: None,
        })
    }

    /// A bare path such as `/health?full=1`, joined to `host` and `port`.
    fn bare_path(text: &str, host: &str, port: Option<u16>) -> Result<Target> {
        let port = port.ok_or_else(|| {
            anyhow!(
                "{text:?} is a bare path but no port is set: give --port, \
                 HEALTHPROBE_PORT or PORT, or a full URL"
            )
        })?;
        let relative =
            UriRelativeStr::new(text).map_err(|e| anyhow!("{text:?} is not a URL path ({e})"))?;
        let port = port.to_string();
        let host = bracketed(bare_host(host));
        Self::from_parts(Parts {
            scheme: "http".into(),
            host: &host,
            port: Some(&port),
            path: relative.path_str(),
            query: relative.query().map(|q| q.as_str()),
            userinfo: None,
        })
    }

    /// The components of `uri`.
    fn parts(uri: &UriStr) -> Result<Parts<'_>> {
        let authority = uri
            .authority_components()
            .ok_or_else(|| anyhow!("has no host"))?;
        Ok(Parts {
            scheme: uri.scheme_str().to_ascii_lowercase(),
            host: authority.host(),
            port: authority.port().filter(|p| !p.is_empty()),
            path: uri.path_str(),
            query: uri.query().map(|q| q.as_str()),
            userinfo: authority.userinfo(),
        })
    }

    /// The target of `parts`, checked for its kind.
    fn from_parts(parts: Parts<'_>) -> Result<Target> {
        let kind = match parts.scheme.as_str() {
            "http" | "https" => TargetKind::Http {
                tls: parts.scheme == "https",
            },
            "tcp" => TargetKind::Tcp,
            "grpc" | "grpcs" => TargetKind::Grpc {
                service: grpc_service(&parts)?,
                tls: parts.scheme == "grpcs",
            },
            other => bail!(
                "scheme {other}:// is not supported (use http://, https://, tcp://, grpc:// \
                 or exec:COMMAND)"
            ),
        };
        if bare_host(parts.host).is_empty() {
            bail!("has no host");
        }
        let port = match parts.port {
            Some(text) => Some(text.parse::<Port>()?.0),
            None => None,
        };
        let authorization = match parts.userinfo {
            Some(_) if !matches!(kind, TargetKind::Http { .. }) => {
                bail!("a {}:// target takes no user:password@", parts.scheme)
            }
            Some(userinfo) => Some(credentials(userinfo)?),
            None => None,
        };
        let port = match (&kind, port) {
            (_, Some(port)) => port,
            (TargetKind::Http { tls: true }, None) => 443,
            (TargetKind::Http { tls: false }, None) => 80,
            (_, None) => bail!("a {}:// target needs a port", parts.scheme),
        };
        if kind == TargetKind::Tcp && (!matches!(parts.path, "" | "/") || parts.query.is_some()) {
            bail!("a tcp:// target is only host:port");
        }
        let (url, shown) = urls(&parts, &kind)?;
        Ok(Target {
            url,
            shown,
            kind,
            host: bare_host(parts.host).to_string(),
            port,
            authorization,
        })
    }

    /// Whether the target is an HTTP request (status and body to judge).
    pub fn is_http(&self) -> bool {
        matches!(self.kind, TargetKind::Http { .. })
    }

    /// The URL with its host replaced by `name` (`--servername`: the
    /// request names the certificate's host, the connection goes to the
    /// URL's own host).
    pub fn with_host(&self, name: &str) -> Option<String> {
        let uri = UriStr::new(&self.url).ok()?;
        let mut builder = Builder::from(uri);
        builder.host(name);
        Some(builder.build::<UriStr>().ok()?.to_string())
    }

    /// The URL with another scheme and path (the gRPC request URI:
    /// `http://host:port/grpc.health.v1.Health/Check`).
    pub fn with_scheme_and_path(&self, scheme: &str, path: &str) -> Option<String> {
        let uri = UriStr::new(&self.url).ok()?;
        let mut builder = Builder::from(uri);
        builder.scheme(scheme);
        builder.path(path);
        builder.unset_query();
        Some(builder.build::<UriStr>().ok()?.to_string())
    }

    /// `host:port` as it stands in a URL authority (IPv6 in brackets), e.g.
    /// the `:authority` of a gRPC request.
    pub fn authority(&self) -> String {
        format!("{}:{}", bracketed(&self.host), self.port)
    }
}

/// `text` as an absolute URI with an authority (`scheme://host…`).
fn with_authority(text: &str) -> Option<&UriStr> {
    UriStr::new(text)
        .ok()
        .filter(|u| u.authority_str().is_some())
}

/// A host as it stands in a URL authority: IPv6 addresses in brackets.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The URL requested and the URL as reports show it (`user:***@`, its
/// start only when long).
///
/// # Errors
/// A URL the HTTP stack does not take: RFC 3986 allows %-escapes in a host
/// name, the `http` crate under ureq and h2 does not, and a probe would
/// fail later with "invalid authority" instead of here, as bad input.
fn urls(parts: &Parts<'_>, kind: &TargetKind) -> Result<(String, String)> {
    let url = assemble(parts, None, kind)?;
    if let Err(e) = parts.host.parse::<ureq::http::uri::Authority>() {
        bail!(
            "the host {:?} is not one HTTP clients accept ({e})",
            parts.host
        );
    }
    let shown = match parts.userinfo {
        Some(userinfo) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            assemble(parts, Some(&format!("{user}{hidden}")), kind)?
        }
        None => url.clone(),
    };
    Ok((url, abbreviated(&shown).into_owned()))
}

/// The service of a gRPC target: its path without the leading `/`.
fn grpc_service(parts: &Parts<'_>) -> Result<String> {
    if parts.query.is_some() {
        bail!("a {}:// target is host:port[/SERVICE]", parts.scheme);
    }
    let service = parts.path.strip_prefix('/').unwrap_or(parts.path);
    if service.contains('/') {
        bail!("a service name has no '/' (e.g. grpc://127.0.0.1:50051/app.Ready)");
    }
    Ok(service.to_string())
}

/// The URL of `parts` with `userinfo` (the shown form) or without
/// (the requested form), built by the URL library. An HTTP URL has a path
/// (`/` when empty); a fragment is never part of it (never sent).
fn assemble(parts: &Parts<'_>, userinfo: Option<&str>, kind: &TargetKind) -> Result<String> {
    let mut builder = Builder::new();
    builder.scheme(&parts.scheme);
    if let Some(userinfo) = userinfo {
        builder.userinfo(userinfo);
    }
    builder.host(parts.host);
    if let Some(port) = parts.port {
        builder.port(port);
    }
    let path = match (kind, parts.path) {
        (TargetKind::Http { .. }, "") => "/",
        (TargetKind::Tcp, _) => "",
        (_, path) => path,
    };
    builder.path(path);
    if let Some(query) = parts.query {
        builder.query(query);
    }
    Ok(builder
        .build::<UriStr>()
        .map_err(|e| anyhow!("is not a valid URL ({e})"))?
        .to_string())
}

/// `Authorization: Basic …` of a URL's `user:password` (percent-decoded).
fn credentials(userinfo: &str) -> Result<HeaderValue> {
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
    Ok(basic(&user, &password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_urls_ipv6_and_bare_paths() {
        let t = |s, p| Target::parse(s, "127.0.0.1", p).map(|t| t.url);
        for (text, port, want) in [
            ("/health", Some(8000), "http://127.0.0.1:8000/health"),
            (
                "/health?a=1",
                Some(8000),
                "http://127.0.0.1:8000/health?a=1",
            ),
            ("http://[::1]:8080/health", None, "http://[::1]:8080/health"),
            ("https://example.test", None, "https://example.test/"),
            ("HTTP://Example.test:80/a", None, "http://Example.test:80/a"),
            ("http://h/a#frag", None, "http://h/a"),
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
            "http://a@b@c/",
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
        // An error repeats the text; the run's writer masks the password
        // that scanning the command line registered.
        for bad in [
            "http://:pa55@h/",
            "tcp://u:pa55@h:1",
            "http://u:pa55@h:0/",
            "http://u:pa55@h:x/",
            "http://u:pa55@a@h/",
        ] {
            let secrets = crate::redact::Secrets::default();
            secrets.scan(bad);
            let error = format!(
                "{:#}",
                Target::parse(bad, "127.0.0.1", None).expect_err(bad)
            );
            let shown = secrets.mask(&error);
            assert!(!shown.contains("pa55"), "{bad}: {shown}");
        }
    }

    #[test]
    fn hosts_are_bare_and_authorities_bracketed() {
        let t = Target::parse("grpc://[::1]:50051", "127.0.0.1", None).expect("IPv6");
        assert_eq!((t.host.as_str(), t.port), ("::1", 50051));
        assert_eq!(t.authority(), "[::1]:50051");
        let t = Target::parse("https://127.0.0.1:8443/h?x", "h", None).expect("https");
        assert_eq!(
            t.with_host("app.internal").as_deref(),
            Some("https://app.internal:8443/h?x")
        );
    }
}
