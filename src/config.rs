//! One validated [`Config`], built from the parsed command line and the
//! environment. Every value is parsed here, once; every check that spans
//! several flags lives here. An error names the flag or the environment
//! variable the bad value came from, and nothing has touched the network yet.

use std::ffi::OsString;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, FromArgMatches};
use ureq::http::{HeaderName, HeaderValue, Uri};

use crate::cli::{Cli, ENV_EXPECT_JSON, ENV_HEADERS, ENV_PORT_FALLBACK, ENV_URL};
use crate::net::{bare_host, url_host};

/// Default `--host`: the container's own loopback.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default `--timeout`: 5 s.
pub const DEFAULT_TIMEOUT: &str = "5s";
/// Default `--method`.
pub const DEFAULT_METHOD: &str = "GET";
/// Default `--max-body`: 64 KiB.
pub const DEFAULT_MAX_BODY: &str = "64KiB";
/// Default `--interval` between `--wait` attempts: 1 s.
pub const DEFAULT_INTERVAL: &str = "1s";
/// Default `--output`.
pub const DEFAULT_OUTPUT: &str = "text";

/// Most redirects followed with `--follow-redirects` (the Kubernetes and Go limit).
pub const MAX_REDIRECTS: u32 = 10;

/// Everything one run of the probe needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// What to check, in command-line order; never empty.
    pub targets: Vec<Target>,
    /// One total deadline for all targets together: resolve, connect, TLS,
    /// request, response headers and the body bytes read.
    pub timeout: Duration,
    /// Deadline for connection setup (TCP and TLS); never more than `timeout`.
    pub connect_timeout: Duration,
    /// The request method.
    pub method: Method,
    /// Request headers in order, names and values already valid for HTTP/1.1.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The User-Agent header value.
    pub user_agent: String,
    /// What a healthy answer looks like.
    pub expect: Expectations,
    /// Most body bytes read before the connection is dropped, in bytes.
    pub max_body: u64,
    /// Follow up to [`MAX_REDIRECTS`] redirects to the same host.
    pub follow_redirects: bool,
    /// Explicit HTTP proxy; `None` means a direct connection whatever the
    /// environment says.
    pub proxy: Option<ureq::Proxy>,
    /// `--wait`: keep probing until healthy or this much time has passed.
    pub wait: Option<Duration>,
    /// Pause between attempts with `--wait`.
    pub interval: Duration,
    /// Send HTTP requests over this Unix domain socket.
    pub unix_socket: Option<std::path::PathBuf>,
    /// Fixed addresses for host and port pairs (`--resolve`), used instead
    /// of a lookup.
    pub resolve: Vec<ResolveEntry>,
    /// TLS verification and client identity for `https://` targets.
    pub tls: TlsOptions,
    /// Report format on stdout.
    pub output: Output,
    /// How much is printed.
    pub verbosity: Verbosity,
}

/// A validated target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The absolute URL, e.g. `http://127.0.0.1:8000/health` or
    /// `tcp://127.0.0.1:5432`.
    pub url: String,
    /// What kind of check the URL asks for.
    pub kind: TargetKind,
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
}

/// `--resolve HOST:PORT:ADDR[,ADDR]`: the addresses to connect to for a host
/// and port, in the order to try them (curl's option of the same name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveEntry {
    /// Host name, lower case, without IPv6 brackets.
    pub host: String,
    /// Port the entry applies to.
    pub port: u16,
    /// Addresses in the order they are tried.
    pub addrs: Vec<std::net::IpAddr>,
}

impl ResolveEntry {
    /// Parses `HOST:PORT:ADDR[,ADDR]`; IPv6 addresses may be in brackets.
    ///
    /// # Errors
    /// A missing part, a port outside 1-65535, or an address that is not an
    /// IP address.
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = text.splitn(3, ':');
        let (Some(host), Some(port), Some(addrs)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("{text:?} is not HOST:PORT:ADDR (e.g. app.internal:443:127.0.0.1)");
        };
        if host.is_empty() {
            bail!("{text:?} has no host");
        }
        let port = parse_port(port).with_context(|| format!("{text:?}"))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                bare_host(a.trim())
                    .parse()
                    .map_err(|_| anyhow!("{a:?} is not an IP address"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ResolveEntry {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }
}

/// TLS settings for `https://` targets (rustls through ureq).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// `--insecure`: no certificate or host name verification.
    pub insecure: bool,
    /// `--servername`: the SNI and verification name instead of the URL's
    /// host, lower case.
    pub servername: Option<String>,
    /// ureq's TLS config: roots (bundled Mozilla roots, or `--cacert`),
    /// client certificate, verification.
    #[cfg(feature = "tls")]
    pub ureq: ureq::tls::TlsConfig,
}

/// Reads the PEM file at `path` and returns its certificates and its first
/// private key.
///
/// # Errors
/// The file cannot be read, or holds PEM sections that do not parse.
#[cfg(feature = "tls")]
fn read_pem(
    path: &std::path::Path,
) -> Result<(
    Vec<ureq::tls::Certificate<'static>>,
    Option<ureq::tls::PrivateKey<'static>>,
)> {
    use ureq::tls::PemItem;
    let pem = std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut certs = Vec::new();
    let mut key = None;
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| anyhow!("{}: not PEM ({e})", path.display()))? {
            PemItem::Certificate(cert) => certs.push(cert),
            PemItem::PrivateKey(k) if key.is_none() => key = Some(k),
            _ => {}
        }
    }
    Ok((certs, key))
}

impl TlsOptions {
    /// Builds the TLS options from the flags: `--cacert` replaces the
    /// bundled roots (curl's meaning), `--cert` with `--key` (or a key in
    /// the `--cert` file) is the client identity for mutual TLS.
    ///
    /// # Errors
    /// A file that is missing, not PEM, or without the certificate or key it
    /// should hold; a server name that is not a DNS name; any TLS flag in a
    /// build without TLS.
    fn from_cli(cli: &Cli, at: &dyn Fn(&str, &str, &str) -> String) -> Result<TlsOptions> {
        let servername = match &cli.servername {
            Some(name) => {
                let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
                let valid = !name.is_empty()
                    && name.len() <= 253
                    && name.split('.').all(|label| {
                        !label.is_empty()
                            && label.len() <= 63
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
                if !valid {
                    bail!(
                        "{}: {name:?} is not a DNS name",
                        at("servername", "--servername", "HEALTHPROBE_SERVERNAME")
                    );
                }
                Some(name)
            }
            None => None,
        };
        if cli.key.is_some() && cli.cert.is_none() {
            bail!("--key needs --cert (the client certificate it belongs to)");
        }
        #[cfg(not(feature = "tls"))]
        {
            if cli.insecure || cli.cacert.is_some() || cli.cert.is_some() || servername.is_some() {
                bail!(
                    "TLS options need a build with TLS (this one was built without the tls feature)"
                );
            }
            Ok(TlsOptions {
                insecure: false,
                servername: None,
            })
        }
        #[cfg(feature = "tls")]
        {
            use ureq::tls::{ClientCert, RootCerts, TlsConfig};
            let mut builder = TlsConfig::builder().disable_verification(cli.insecure);
            if let Some(path) = &cli.cacert {
                let flag = at("cacert", "--cacert", "HEALTHPROBE_CACERT");
                let (certs, _) = read_pem(path).context(flag.clone())?;
                if certs.is_empty() {
                    bail!("{flag}: {}: no PEM certificate in the file", path.display());
                }
                builder = builder.root_certs(RootCerts::from(certs));
            }
            if let Some(path) = &cli.cert {
                let flag = at("cert", "--cert", "HEALTHPROBE_CERT");
                let (chain, key_in_cert) = read_pem(path).context(flag.clone())?;
                if chain.is_empty() {
                    bail!("{flag}: {}: no PEM certificate in the file", path.display());
                }
                let key = match &cli.key {
                    Some(key_path) => {
                        let flag = at("key", "--key", "HEALTHPROBE_KEY");
                        let (_, key) = read_pem(key_path).context(flag.clone())?;
                        key.ok_or_else(|| {
                            anyhow!(
                                "{flag}: {}: no PEM private key in the file",
                                key_path.display()
                            )
                        })?
                    }
                    None => key_in_cert.ok_or_else(|| {
                        anyhow!(
                            "{flag}: {}: no private key in the file; give --key",
                            path.display()
                        )
                    })?,
                };
                builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
            }
            Ok(TlsOptions {
                insecure: cli.insecure,
                servername,
                ureq: builder.build(),
            })
        }
    }
}

/// The request method of a check: only methods without a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: status and body are judged.
    Get,
    /// `HEAD`: only the status is judged.
    Head,
}

impl Method {
    /// The method as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One line per target, made for `docker inspect` (Docker keeps 4096 bytes).
    Text,
    /// One JSON object with a `checks` array.
    Json,
}

/// How much is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Nothing on stdout; errors about the invocation still go to stderr.
    Quiet,
    /// The report.
    Normal,
    /// The report, plus phases, timings and heads on stderr.
    Verbose,
}

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

impl Expectations {
    /// Whether any expectation looks at the body.
    pub fn reads_body(&self) -> bool {
        self.body.is_some() || !self.json.is_empty()
    }
}

/// A set of status codes as inclusive ranges, e.g. `200-399` (the Kubernetes
/// httpGet rule: 200 ≤ status < 400) or `200,204,301-302`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
    text: String,
}

impl StatusSet {
    /// Parses a comma-separated list of codes and `LOW-HIGH` ranges, each
    /// code within 100-599.
    ///
    /// # Errors
    /// An empty item, a code that is not a number or outside 100-599, or a
    /// range whose low end is above its high end.
    pub fn parse(text: &str) -> Result<Self> {
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let item = item.trim();
            let (lo, hi) = match item.split_once('-') {
                Some((lo, hi)) => (parse_code(lo)?, parse_code(hi)?),
                None => {
                    let code = parse_code(item)?;
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

    /// Whether `code` is in the set.
    pub fn contains(&self, code: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&code))
    }

    /// The set as the user wrote it, normalised (`200-399`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn parse_code(text: &str) -> Result<u16> {
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

impl JsonExpectation {
    /// Parses `POINTER=VALUE`, splitting at the first `=`.
    ///
    /// # Errors
    /// No `=`, or a pointer that does not start with `/`.
    pub fn parse(text: &str) -> Result<Self> {
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

/// Parses a duration: humantime (`500ms`, `2s`, `1m30s`) or a bare number of
/// seconds (`3`, `0.5`), as Docker and Kubernetes accept.
///
/// # Errors
/// Empty, unparseable, negative or zero durations.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    if text.is_empty() {
        bail!("empty duration");
    }
    let duration = if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = text
            .parse()
            .map_err(|_| anyhow!("{text:?} is not a duration"))?;
        Duration::try_from_secs_f64(secs).map_err(|_| anyhow!("{text:?} is out of range"))?
    } else if text.starts_with('-') {
        bail!("{text:?} is negative");
    } else {
        humantime::parse_duration(text).map_err(|e| anyhow!("{text:?}: {e}"))?
    };
    if duration.is_zero() {
        bail!("{text:?} is zero; a probe needs time");
    }
    Ok(duration)
}

/// Parses a size in bytes: a bare number, or a number with `k`/`KiB`,
/// `M`/`MiB`, `G`/`GiB` (1024 multiples, as curl) or `kB`/`KB`, `MB`, `GB`
/// (1000 multiples).
///
/// # Errors
/// Empty, unparseable or overflowing sizes, and unknown units.
pub fn parse_size(text: &str) -> Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        bail!("{text:?} is not a size (e.g. 64KiB, 10k, 4096)");
    }
    let number: u64 = digits
        .parse()
        .map_err(|_| anyhow!("{text:?} is too large"))?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" | "b" => 1,
        "k" | "K" | "KiB" | "kiB" => 1 << 10,
        "m" | "M" | "MiB" => 1 << 20,
        "g" | "G" | "GiB" => 1 << 30,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => bail!("unknown size unit {other:?} (use KiB, MiB, GiB, kB, MB, GB)"),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| anyhow!("{text:?} is too large"))
}

/// Parses one `Name: value` request header.
///
/// # Errors
/// CR, LF or NUL anywhere (header injection), no colon, an empty or invalid
/// header name (RFC 9110 token), or a value that is not valid in HTTP/1.1.
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue)> {
    if let Some(bad) = text.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
        bail!("{text:?} contains {bad:?}, which would split the request");
    }
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| anyhow!("{text:?} is not 'Name: value' (no colon)"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| anyhow!("{:?} is not a valid header name", name.trim()))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|_| anyhow!("the value of {name} has characters HTTP/1.1 forbids"))?;
    Ok((name, value))
}

/// Checks and normalises one target: an `http://` or `https://` URL with a
/// host (IPv6 literals in brackets) and a port in 1-65535, or a bare path
/// that is joined to `host` and `port`.
///
/// # Errors
/// Another scheme, no host, port 0 or above 65535, a URL `http::Uri`
/// refuses, or a bare path when no port is known.
pub fn parse_target(text: &str, host: &str, port: Option<u16>) -> Result<Target> {
    let url = if text.starts_with('/') {
        let port = port.ok_or_else(|| {
            anyhow!(
                "{text} is a bare path but no port is set: give --port, \
                 HEALTHPROBE_PORT or PORT, or a full URL"
            )
        })?;
        format!("http://{}:{port}{text}", url_host(host))
    } else {
        text.to_string()
    };
    let scheme_end = url
        .find("://")
        .ok_or_else(|| anyhow!("{text:?} is neither an http(s):// URL nor a path like /health"))?;
    let scheme = url[..scheme_end].to_ascii_lowercase();
    if scheme != "http" && scheme != "https" && scheme != "tcp" {
        bail!("{text:?}: scheme {scheme}:// is not supported (use http://, https:// or tcp://)");
    }
    // Explicit port check first: http::Uri reports an out-of-range port only
    // as "invalid authority".
    let authority_end = url[scheme_end + 3..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| i + scheme_end + 3);
    let authority = &url[scheme_end + 3..authority_end];
    if authority.contains('@') {
        bail!("{text:?}: user:password@ in the URL is not supported; use -H 'Authorization: …'");
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
        parse_port(port).with_context(|| format!("{text:?}"))?;
    }
    let uri: Uri = url
        .parse()
        .with_context(|| format!("{text:?} is not a valid URL"))?;
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        bail!("{text:?} has no host");
    };
    if scheme == "tcp" {
        let port = uri
            .port_u16()
            .ok_or_else(|| anyhow!("{text:?}: a tcp:// target needs a port"))?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            bail!("{text:?}: a tcp:// target is only host:port");
        }
        let host = bare_host(host).to_string();
        return Ok(Target {
            url: format!("tcp://{}", uri.authority().map_or("", |a| a.as_str())),
            kind: TargetKind::Tcp { host, port },
        });
    }
    let mut url = uri.to_string();
    if uri.path() == "/" && uri.query().is_none() && !url.ends_with('/') {
        url.push('/');
    }
    Ok(Target {
        url,
        kind: TargetKind::Http,
    })
}

fn parse_port(text: &str) -> Result<u16> {
    match text.trim().parse::<u32>() {
        Ok(p @ 1..=65535) => Ok(p as u16),
        Ok(p) => bail!("port {p} is outside 1-65535"),
        Err(_) => bail!("{text:?} is not a port number"),
    }
}

/// Where a value came from, for error messages: the flag or the env var.
fn origin(matches: &ArgMatches, id: &str, flag: &str, env: &str) -> String {
    match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => env.to_string(),
        _ => flag.to_string(),
    }
}

fn env_string(name: &str) -> Result<Option<String>> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) => v
            .into_string()
            .map(Some)
            .map_err(|_| anyhow!("{name}: value is not valid UTF-8")),
    }
}

/// The non-empty lines of a multi-line environment variable.
fn env_lines(name: &str) -> Result<Vec<String>> {
    Ok(env_string(name)?
        .map(|v| {
            v.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

impl Config {
    /// Builds the validated config from clap's matches (command line plus the
    /// environment variables clap reads) and the variables read here
    /// (`HEALTHPROBE_URL`, `HEALTHPROBE_HEADERS`, `HEALTHPROBE_EXPECT_JSON`,
    /// `PORT`).
    ///
    /// # Errors
    /// The first invalid value, as one line naming its flag or variable.
    pub fn from_matches(matches: &ArgMatches) -> Result<Config> {
        let cli = Cli::from_arg_matches(matches).map_err(|e| anyhow!("{}", e.kind()))?;
        let at = |id: &str, flag: &str, env: &str| origin(matches, id, flag, env);

        let tls = TlsOptions::from_cli(&cli, &at)?;
        let timeout = parse_duration(cli.timeout.as_deref().unwrap_or(DEFAULT_TIMEOUT))
            .with_context(|| at("timeout", "--timeout", "HEALTHPROBE_TIMEOUT"))?;
        let connect_timeout = match &cli.connect_timeout {
            Some(text) => parse_duration(text).with_context(|| {
                at(
                    "connect_timeout",
                    "--connect-timeout",
                    "HEALTHPROBE_CONNECT_TIMEOUT",
                )
            })?,
            None => timeout,
        }
        .min(timeout);

        let method_text = cli.method.as_deref().unwrap_or(DEFAULT_METHOD);
        let method = match method_text.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            _ => bail!(
                "{}: method {:?} is not supported (GET or HEAD)",
                at("method", "--method", "HEALTHPROBE_METHOD"),
                method_text
            ),
        };

        // HEALTHPROBE_HEADERS first, then -H; a -H name replaces the same
        // name from the environment.
        let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
        for line in env_lines(ENV_HEADERS)? {
            headers.push(parse_header(&line).context(ENV_HEADERS)?);
        }
        let from_env = headers.len();
        for text in &cli.headers {
            let (name, value) = parse_header(text).context("--header")?;
            let mut i = 0;
            headers.retain(|(n, _)| {
                i += 1;
                i > from_env || *n != name
            });
            headers.push((name, value));
        }

        let user_agent = match cli.user_agent {
            Some(ua) => {
                HeaderValue::from_str(&ua).map_err(|_| {
                    anyhow!(
                        "{}: value has characters HTTP/1.1 forbids",
                        at("user_agent", "--user-agent", "HEALTHPROBE_USER_AGENT")
                    )
                })?;
                ua
            }
            None => concat!("healthprobe/", env!("CARGO_PKG_VERSION")).to_string(),
        };

        let status = StatusSet::parse(
            cli.expect_status
                .as_deref()
                .unwrap_or(crate::report::DEFAULT_STATUS_SET),
        )
        .with_context(|| {
            at(
                "expect_status",
                "--expect-status",
                "HEALTHPROBE_EXPECT_STATUS",
            )
        })?;
        // --expect-json on the command line replaces HEALTHPROBE_EXPECT_JSON
        // (as every other flag replaces its variable).
        let json = if cli.expect_json.is_empty() {
            env_lines(ENV_EXPECT_JSON)?
                .iter()
                .map(|line| JsonExpectation::parse(line).context(ENV_EXPECT_JSON))
                .collect::<Result<Vec<_>>>()?
        } else {
            cli.expect_json
                .iter()
                .map(|text| JsonExpectation::parse(text).context("--expect-json"))
                .collect::<Result<Vec<_>>>()?
        };
        if method == Method::Head && (cli.expect_body.is_some() || !json.is_empty()) {
            bail!("--method HEAD gets no body: --expect-body and --expect-json need GET");
        }
        let expect = Expectations {
            status,
            body: cli.expect_body,
            json,
        };

        let max_body = parse_size(cli.max_body.as_deref().unwrap_or(DEFAULT_MAX_BODY))
            .with_context(|| at("max_body", "--max-body", "HEALTHPROBE_MAX_BODY"))?;

        let proxy = match &cli.proxy {
            Some(url) => Some(ureq::Proxy::new(url).map_err(|e| {
                anyhow!(
                    "{}: {url:?} is not a proxy URL ({e})",
                    at("proxy", "--proxy", "HEALTHPROBE_PROXY")
                )
            })?),
            None => None,
        };

        let resolve = cli
            .resolve
            .iter()
            .map(|t| ResolveEntry::parse(t).context("--resolve"))
            .collect::<Result<Vec<_>>>()?;

        let wait = match &cli.wait {
            Some(text) => Some(
                parse_duration(text).with_context(|| at("wait", "--wait", "HEALTHPROBE_WAIT"))?,
            ),
            None => None,
        };
        let interval = parse_duration(cli.interval.as_deref().unwrap_or(DEFAULT_INTERVAL))
            .with_context(|| at("interval", "--interval", "HEALTHPROBE_INTERVAL"))?;
        if cli.unix_socket.is_some() && proxy.is_some() {
            bail!("--unix-socket and --proxy cannot be combined: the socket is the connection");
        }

        let output = match cli.output.as_deref().unwrap_or(DEFAULT_OUTPUT) {
            "text" => Output::Text,
            "json" => Output::Json,
            other => bail!(
                "{}: format {other:?} is not text or json",
                at("output", "--output", "HEALTHPROBE_OUTPUT")
            ),
        };
        let verbosity = if cli.quiet {
            Verbosity::Quiet
        } else if cli.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };

        let port = match &cli.port {
            Some(text) => {
                Some(parse_port(text).with_context(|| at("port", "--port", "HEALTHPROBE_PORT"))?)
            }
            None => match env_string(ENV_PORT_FALLBACK)? {
                Some(text) => Some(parse_port(&text).context(ENV_PORT_FALLBACK)?),
                None => None,
            },
        };
        let host = cli.host.as_deref().unwrap_or(DEFAULT_HOST).trim();
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            bail!(
                "{}: {host:?} is not a host name or address",
                at("host", "--host", "HEALTHPROBE_HOST")
            );
        }
        let (texts, source) = if cli.targets.is_empty() {
            let texts: Vec<String> = env_string(ENV_URL)?
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            if texts.is_empty() {
                bail!("no target: give a URL or a path such as /health, or set {ENV_URL}");
            }
            (texts, ENV_URL)
        } else {
            (cli.targets, "TARGET")
        };
        let targets = texts
            .iter()
            .map(|t| parse_target(t, host, port).context(source))
            .collect::<Result<Vec<_>>>()?;
        if !cfg!(feature = "tls")
            && let Some(t) = targets.iter().find(|t| t.url.starts_with("https://"))
        {
            bail!(
                "{source}: {}: this build has no TLS (built without the tls feature); \
                 use a build with TLS for https:// targets",
                t.url
            );
        }

        Ok(Config {
            targets,
            timeout,
            connect_timeout,
            method,
            headers,
            user_agent,
            expect,
            max_body,
            follow_redirects: cli.follow_redirects,
            proxy,
            wait,
            interval,
            unix_socket: cli.unix_socket,
            resolve,
            tls,
            output,
            verbosity,
        })
    }
}

/// Parses the command line `args` (program name first) and the environment
/// into a [`Config`]; see [`Config::from_matches`].
///
/// # Errors
/// clap's own errors (unknown flag, missing value, non-UTF-8 argument, and the
/// help and version displays) come back as `clap::Error` inside the
/// `anyhow::Error`, so the caller can tell them apart.
pub fn from_args<I, T>(args: I) -> Result<Config>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    use clap::CommandFactory;
    let matches = Cli::command().try_get_matches_from(args)?;
    Config::from_matches(&matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn help_names_every_default() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for default in [
            DEFAULT_HOST,
            DEFAULT_TIMEOUT,
            DEFAULT_METHOD,
            DEFAULT_MAX_BODY,
            DEFAULT_INTERVAL,
            DEFAULT_OUTPUT,
            crate::report::DEFAULT_STATUS_SET,
        ] {
            assert!(
                help.contains(&format!("[default: {default}")),
                "{default} not in help"
            );
        }
    }

    #[test]
    fn durations_accept_humantime_and_bare_seconds() {
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        for bad in ["", "0", "0s", "-1", "-1s", "abc", "1.2.3", "5 parsecs"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn status_sets_parse_codes_and_ranges() {
        let set = StatusSet::parse("200-299, 301,404").unwrap();
        assert!(set.contains(200) && set.contains(299) && set.contains(301) && set.contains(404));
        assert!(!set.contains(300) && !set.contains(302) && !set.contains(500));
        assert_eq!(set.as_str(), "200-299,301,404");
        for bad in [
            "", "99", "600", "300-200", "2xx", "200-", ",200", "200,,300",
        ] {
            assert!(StatusSet::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn sizes_use_binary_and_decimal_units() {
        assert_eq!(parse_size("64KiB").unwrap(), 65536);
        assert_eq!(parse_size("10k").unwrap(), 10240);
        assert_eq!(parse_size("1MB").unwrap(), 1_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        for bad in ["", "k", "-1", "10 parsecs", "99999999999999999999"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn headers_refuse_injection_and_bad_names() {
        let (n, v) = parse_header("X-Token:  abc ").unwrap();
        assert_eq!((n.as_str(), v.to_str().unwrap()), ("x-token", "abc"));
        for bad in [
            "X-A: b\r\nX-B: c",
            "X-A: b\n",
            "X-A: \0",
            "NoColon",
            ": empty",
            "Bad Name: x",
        ] {
            assert!(parse_header(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn targets_take_urls_ipv6_and_bare_paths() {
        let t = |s, p| parse_target(s, "127.0.0.1", p).map(|t| t.url);
        assert_eq!(
            t("/health", Some(8000)).unwrap(),
            "http://127.0.0.1:8000/health"
        );
        assert_eq!(
            t("http://[::1]:8080/health", None).unwrap(),
            "http://[::1]:8080/health"
        );
        assert_eq!(
            t("https://example.test", None).unwrap(),
            "https://example.test/"
        );
        assert_eq!(
            parse_target("/h", "::1", Some(1)).unwrap().url,
            "http://[::1]:1/h"
        );
        for bad in [
            "/health",
            "ftp://x/",
            "http://x:0/",
            "http://x:65536/",
            "http://:80/",
            "http:///",
            "localhost:8000",
            "http://x:abc/",
            "tcp://x/",
            "tcp://x:80/path",
        ] {
            assert!(t(bad, None).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn resolve_entries_take_ipv6_and_lists() {
        let e = ResolveEntry::parse("Local.Test:80:[::1],127.0.0.1").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.addrs.len()),
            ("local.test", 80, 2)
        );
        for bad in ["h:80", ":80:127.0.0.1", "h:0:127.0.0.1", "h:80:nope"] {
            assert!(ResolveEntry::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn json_expectations_need_a_pointer_and_equals() {
        let e = JsonExpectation::parse("/a/b=c=d").unwrap();
        assert_eq!((e.pointer.as_str(), e.value.as_str()), ("/a/b", "c=d"));
        assert!(JsonExpectation::parse("/status").is_err());
        assert!(JsonExpectation::parse("status=ok").is_err());
    }
}
