//! Value types that parse themselves (`FromStr`), each with its table test
//! below: durations, sizes, ports, `--resolve` entries, request headers,
//! the method and the report format. (What a healthy answer looks like is
//! in `expect.rs`.)
//! An error says what is wrong with the text; the caller adds which flag or
//! variable it came from.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Error, Result, anyhow, bail};
use iri_string::types::UriStr;
use ureq::http::{HeaderName, HeaderValue};

use crate::redact::is_sensitive_header;

/// A URL host without IPv6 brackets: `[::1]` → `::1`.
pub fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// A duration as Docker and Kubernetes users write it: humantime (`500ms`,
/// `2s`, `1m30s`) or a bare number of seconds (`3`, `0.5`). Never zero,
/// never more than [`MAX_DURATION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

/// The longest duration any flag takes: 2,147,483,647 s (about 68 years),
/// the most a Kubernetes `*Seconds` field holds (an int32). Every sum of
/// deadlines, periods and retries then stays far inside what the clock's
/// arithmetic can represent.
pub const MAX_DURATION: Duration = Duration::from_secs(i32::MAX as u64);

impl FromStr for HumanDuration {
    type Err = Error;

    /// # Errors
    /// Empty, unparseable, negative or zero durations.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            bail!("empty duration");
        }
        let duration = if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let secs: f64 = text.parse().map_err(|_| {
                anyhow!("{text:?} is not a duration (e.g. 500ms, 2s, 1m30s, or 3 for seconds)")
            })?;
            Duration::try_from_secs_f64(secs).map_err(|_| anyhow!("{text:?} is out of range"))?
        } else if text.starts_with('-') {
            bail!("{text:?} is negative");
        } else {
            humantime::parse_duration(text).map_err(|_| {
                anyhow!("{text:?} is not a duration (e.g. 500ms, 2s, 1m30s, or 3 for seconds)")
            })?
        };
        if duration.is_zero() {
            bail!("{text:?} is zero; a probe needs time");
        }
        if duration > MAX_DURATION {
            bail!(
                "{text:?} is longer than {}s (68 years, the Kubernetes limit)",
                MAX_DURATION.as_secs()
            );
        }
        Ok(HumanDuration(duration))
    }
}

/// A delay as `--initial-delay` takes it: a [`HumanDuration`], or zero
/// (`0`, `0s`: no delay, Kubernetes' default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay(pub Duration);

impl FromStr for Delay {
    type Err = Error;

    /// # Errors
    /// Empty, unparseable or negative durations.
    fn from_str(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        if trimmed
            .trim_end_matches(['s', 'm'])
            .bytes()
            .all(|b| b == b'0' || b == b'.')
            && trimmed.starts_with('0')
        {
            return Ok(Delay(Duration::ZERO));
        }
        Ok(Delay(text.parse::<HumanDuration>()?.0))
    }
}

/// A count of at least `MIN` (a failure threshold: 1 or more; a redirect
/// limit: 0 or more), at most 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<const MIN: u32>(pub u32);

impl<const MIN: u32> FromStr for Count<MIN> {
    type Err = Error;

    /// # Errors
    /// Not a whole number, below `MIN` or above 1,000,000.
    fn from_str(text: &str) -> Result<Self> {
        let digits = text.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            bail!("{text:?} is not a whole number");
        }
        match digits.parse::<u32>() {
            Ok(n) if (MIN..=1_000_000).contains(&n) => Ok(Count(n)),
            _ => bail!("{digits} is outside {MIN}-1000000"),
        }
    }
}

/// A size in bytes: a bare number, or a number with `k`/`KiB`, `M`/`MiB`,
/// `G`/`GiB` (1024 multiples, as curl) or `kB`/`KB`, `MB`, `GB` (1000
/// multiples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = Error;

    /// # Errors
    /// Empty, unparseable or overflowing sizes, and unknown units.
    fn from_str(text: &str) -> Result<Self> {
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
            .map(ByteSize)
            .ok_or_else(|| anyhow!("{text:?} is too large"))
    }
}

/// A TCP port, 1-65535 (the same rule for URLs and for `--port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port(pub u16);

impl FromStr for Port {
    type Err = Error;

    /// # Errors
    /// Not a number, or outside 1-65535.
    fn from_str(text: &str) -> Result<Self> {
        let digits = text.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            bail!(
                "{:?} is not a port number (digits only, RFC 3986)",
                abbreviated(text)
            );
        }
        match digits.parse::<u32>() {
            Ok(p @ 1..=65535) => Ok(Port(p as u16)),
            Ok(p) => bail!("port {p} is outside 1-65535"),
            Err(_) => bail!("{:?} is not a port number", abbreviated(text)),
        }
    }
}

/// `--proxy [http://][USER:PASSWORD@]HOST[:PORT]`, parsed as targets are
/// (by the URL library): an HTTP proxy, used with CONNECT; the port
/// 1-65535, 1080 when none is given (curl's default for a proxy). Its
/// `Debug` never shows the password.
#[derive(Clone)]
pub struct ProxyUrl {
    /// The host, without IPv6 brackets.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The proxy as ureq takes it (its credentials with it).
    pub proxy: ureq::Proxy,
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyUrl({}:{})", self.host, self.port)
    }
}

/// curl's port of a proxy given without one.
const DEFAULT_PROXY_PORT: u16 = 1080;

impl FromStr for ProxyUrl {
    type Err = Error;

    /// # Errors
    /// Not a URL, a scheme other than http, no host, a port outside
    /// 1-65535, or a path, query or fragment.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let url = match text.contains("://") {
            true => text.to_string(),
            false => format!("http://{text}"),
        };
        let uri =
            UriStr::new(&url).map_err(|_| anyhow!("{:?} is not a proxy URL", abbreviated(text)))?;
        let scheme = uri.scheme_str().to_ascii_lowercase();
        if scheme != "http" {
            bail!(
                "{:?}: only HTTP proxies (http://HOST:PORT, CONNECT) are supported, not {scheme}://",
                abbreviated(text)
            );
        }
        let authority = uri
            .authority_components()
            .ok_or_else(|| anyhow!("{:?} is not a proxy URL (no host)", abbreviated(text)))?;
        let host = bare_host(authority.host());
        if host.is_empty()
            || host.contains(['!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', '%'])
        {
            bail!("{:?} is not a proxy URL (no host)", abbreviated(text));
        }
        if !matches!(uri.path_str(), "" | "/") || uri.query().is_some() || uri.fragment().is_some()
        {
            bail!(
                "{:?} is not a proxy URL: give [http://][USER:PASSWORD@]HOST[:PORT], no path",
                abbreviated(text)
            );
        }
        let port = match authority.port().filter(|p| !p.is_empty()) {
            Some(port) => port.parse::<Port>()?.0,
            None => DEFAULT_PROXY_PORT,
        };
        let userinfo = authority
            .userinfo()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let canonical = format!("http://{userinfo}{}:{port}", authority.host());
        let proxy = ureq::Proxy::new(&canonical)
            .map_err(|e| anyhow!("{:?} is not a proxy URL ({e})", abbreviated(text)))?;
        Ok(ProxyUrl {
            host: host.to_string(),
            port,
            proxy,
        })
    }
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

impl FromStr for ResolveEntry {
    type Err = Error;

    /// Parses `HOST:PORT:ADDR[,ADDR]`; IPv6 addresses may be in brackets.
    ///
    /// # Errors
    /// A missing part, a port outside 1-65535, or an address that is not an
    /// IP address.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let mut parts = text.splitn(3, ':');
        let (Some(host), Some(port), Some(addrs)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("{text:?} is not HOST:PORT:ADDR (e.g. app.internal:443:127.0.0.1)");
        };
        if host.is_empty() {
            bail!("{text:?} has no host");
        }
        let Port(port) = port.parse().with_context(|| format!("{text:?}"))?;
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

/// One `Name: value` request header, valid for HTTP/1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name, lower case (HTTP header names are case-insensitive).
    pub name: HeaderName,
    /// The value, surrounding whitespace trimmed.
    pub value: HeaderValue,
}

impl FromStr for Header {
    type Err = Error;

    /// # Errors
    /// CR, LF or NUL anywhere (header injection), no colon, an empty or
    /// invalid header name (RFC 9110 token), or a value that is not valid
    /// in HTTP/1.1.
    fn from_str(text: &str) -> Result<Self> {
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| anyhow!("{:?} is not 'Name: value' (no colon)", abbreviated(text)))?;
        if let Some(bad) = text.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
            bail!(
                "{:?} contains {bad:?}, which would split the request",
                abbreviated(text)
            );
        }
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| anyhow!("{:?} is not a valid header name", name.trim()))?;
        let mut value = HeaderValue::from_str(value.trim())
            .map_err(|_| anyhow!("the value of {name} has characters HTTP/1.1 forbids"))?;
        value.set_sensitive(is_sensitive_header(name.as_str()));
        Ok(Header { name, value })
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

impl FromStr for Method {
    type Err = Error;

    /// `GET` or `HEAD`, in any case.
    ///
    /// # Errors
    /// Any other method.
    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::Get),
            "HEAD" => Ok(Method::Head),
            _ => bail!("method {text:?} is not supported (GET or HEAD)"),
        }
    }
}

/// Text longer than this many characters is shortened in messages.
const SHOWN_CHARS: usize = 100;

/// `text` as a message repeats it: whole up to [`SHOWN_CHARS`] characters,
/// else its start, `…` and its length (a 100 KB URL is not echoed back).
pub fn abbreviated(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.into(),
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()).into(),
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

/// What `-o` names: the report format, or (as in curl) a file the body is
/// written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputChoice {
    /// `text` or `json`.
    Format(Output),
    /// A path (a value with a `/` or a `.` in it, as `/dev/null`): the body
    /// of every HTTP check is written there; the report stays text.
    BodyFile(std::path::PathBuf),
}

impl FromStr for OutputChoice {
    type Err = Error;

    /// `text`, `json`, or a path with a `/` or a `.` in it.
    ///
    /// # Errors
    /// `-` (the report is on stdout), and any other bare word (a typo of a
    /// format more likely than a file in the working directory).
    fn from_str(text: &str) -> Result<Self> {
        match text.trim() {
            "text" => Ok(OutputChoice::Format(Output::Text)),
            "json" => Ok(OutputChoice::Format(Output::Json)),
            "-" => bail!(
                "\"-\": the body is not written to stdout, where the report is; \
                 give a file (e.g. /dev/null) or a format (text or json)"
            ),
            path if path.contains(['/', '.']) => Ok(OutputChoice::BodyFile(path.into())),
            other => bail!(
                "format {other:?} is not text or json (a file needs a / or a . in its name, \
                 e.g. ./{other})"
            ),
        }
    }
}

/// A signal that stops the supervised command (`--stop-signal`): a name
/// with or without `SIG` (`SIGQUIT`, `quit`) or a number, as Docker's
/// STOPSIGNAL takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopSignal {
    /// Its number on this platform.
    pub number: i32,
    /// Its name (`SIGQUIT`).
    pub name: &'static str,
}

impl FromStr for StopSignal {
    type Err = Error;

    /// # Errors
    /// Not a signal of this platform, or one that cannot stop a process
    /// gracefully (SIGKILL and SIGSTOP, which cannot be caught).
    fn from_str(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        #[cfg(unix)]
        {
            use nix::sys::signal::Signal;
            let signal = match trimmed.parse::<i32>() {
                Ok(n) => Signal::try_from(n).ok(),
                Err(_) => {
                    let upper = trimmed.to_ascii_uppercase();
                    let name = match upper.starts_with("SIG") {
                        true => upper,
                        false => format!("SIG{upper}"),
                    };
                    name.parse::<Signal>().ok()
                }
            };
            match signal {
                Some(Signal::SIGKILL | Signal::SIGSTOP) => bail!(
                    "{trimmed:?} cannot be caught, so it stops nothing gracefully (SIGKILL follows the grace period by itself)"
                ),
                Some(signal) => Ok(StopSignal {
                    number: signal as i32,
                    name: signal.as_str(),
                }),
                None => bail!("{trimmed:?} is not a signal (e.g. SIGTERM, SIGQUIT, SIGINT, 15)"),
            }
        }
        #[cfg(not(unix))]
        match trimmed.to_ascii_uppercase().trim_start_matches("SIG") {
            "TERM" | "15" => Ok(StopSignal {
                number: 15,
                name: "SIGTERM",
            }),
            "INT" | "2" => Ok(StopSignal {
                number: 2,
                name: "SIGINT",
            }),
            _ => bail!("{trimmed:?} is not a signal here (SIGTERM or SIGINT)"),
        }
    }
}

/// The address family connections use (`-4`, `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl IpFamily {
    /// Whether `ip` is of this family.
    pub fn has(self, ip: std::net::IpAddr) -> bool {
        match self {
            IpFamily::V4 => ip.is_ipv4(),
            IpFamily::V6 => ip.is_ipv6(),
        }
    }

    /// The flag that asks for it: `-4` or `-6`.
    pub fn flag(self) -> &'static str {
        match self {
            IpFamily::V4 => "-4",
            IpFamily::V6 => "-6",
        }
    }

    /// `IPv4` or `IPv6`.
    pub fn name(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T: FromStr<Err = Error>>(text: &str) -> T {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} refused: {e:#}"))
    }

    fn refused<T: FromStr<Err = Error> + std::fmt::Debug>(bad: &[&str]) {
        for text in bad {
            assert!(text.parse::<T>().is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn durations_accept_humantime_and_bare_seconds() {
        for (text, want) in [
            ("3", Duration::from_secs(3)),
            ("0.5", Duration::from_millis(500)),
            ("500ms", Duration::from_millis(500)),
            ("1m", Duration::from_secs(60)),
        ] {
            assert_eq!(ok::<HumanDuration>(text).0, want, "{text}");
        }
        refused::<HumanDuration>(&[
            "",
            "0",
            "0s",
            "-1",
            "-1s",
            "abc",
            "1.2.3",
            "5 parsecs",
            "18446744073709551615s",
            "18446744073709551615",
            "500000000000y",
            "2147483648s",
            "1e300",
        ]);
        assert_eq!(ok::<HumanDuration>("2147483647s").0, MAX_DURATION);
    }

    #[test]
    fn sizes_use_binary_and_decimal_units() {
        for (text, want) in [
            ("64KiB", 65536),
            ("10k", 10240),
            ("1MB", 1_000_000),
            ("4096", 4096),
        ] {
            assert_eq!(ok::<ByteSize>(text).0, want, "{text}");
        }
        refused::<ByteSize>(&["", "k", "-1", "10 parsecs", "99999999999999999999"]);
    }

    #[test]
    fn ports_are_1_to_65535() {
        assert_eq!(ok::<Port>("8080").0, 8080);
        assert_eq!(ok::<Port>("65535").0, 65535);
        assert_eq!(ok::<Port>(" 80 ").0, 80);
        refused::<Port>(&["0", "65536", "abc", "", "-1", "+8080", "8 0", "0x50"]);
    }

    #[test]
    fn headers_refuse_injection_and_bad_names() {
        let h: Header = ok("X-Token:  abc ");
        assert_eq!(
            (h.name.as_str(), h.value.to_str().ok()),
            ("x-token", Some("abc"))
        );
        refused::<Header>(&[
            "X-A: b\r\nX-B: c",
            "X-A: b\n",
            "X-A: \0",
            "NoColon",
            ": empty",
            "Bad Name: x",
        ]);
        let h: Header = "authorization: Bearer x".parse().expect("a header");
        assert!(h.value.is_sensitive());
    }

    #[cfg(unix)]
    #[test]
    fn stop_signals_are_names_or_numbers() {
        for (text, name) in [
            ("SIGQUIT", "SIGQUIT"),
            ("quit", "SIGQUIT"),
            ("15", "SIGTERM"),
            (" int ", "SIGINT"),
        ] {
            assert_eq!(ok::<StopSignal>(text).name, name, "{text}");
        }
        refused::<StopSignal>(&["SIGKILL", "9", "SIGSTOP", "SIGNOPE", "0", "99", ""]);
    }

    #[test]
    fn proxies_are_parsed_like_targets() {
        for (text, host, port) in [
            ("http://127.0.0.1:3128", "127.0.0.1", 3128),
            ("127.0.0.1:3128", "127.0.0.1", 3128),
            ("HTTP://u:p@proxy.test", "proxy.test", 1080),
            ("[::1]:8080", "::1", 8080),
            ("http://proxy:65535/", "proxy", 65535),
        ] {
            let p: ProxyUrl = ok(text);
            assert_eq!((p.host.as_str(), p.port), (host, port), "{text}");
        }
        refused::<ProxyUrl>(&[
            "http://127.0.0.1:99999",
            "http://127.0.0.1:0",
            "127.0.0.1:-1",
            "socks5://127.0.0.1:1080",
            "https://proxy:443",
            "http://:3128",
            "http://proxy:3128/path",
            "http://proxy:3128/?q",
            "",
        ]);
        let p: ProxyUrl = ok("http://user:s3cr3t@127.0.0.1:3128");
        assert!(!format!("{p:?}").contains("s3cr3t"));
    }

    #[test]
    fn resolve_entries_take_ipv6_and_lists() {
        let e: ResolveEntry = ok("Local.Test:80:[::1],127.0.0.1");
        assert_eq!(
            (e.host.as_str(), e.port, e.addrs.len()),
            ("local.test", 80, 2)
        );
        refused::<ResolveEntry>(&["h:80", ":80:127.0.0.1", "h:0:127.0.0.1", "h:80:nope"]);
    }

    #[test]
    fn methods_and_formats() {
        assert_eq!(ok::<Method>("head"), Method::Head);
        assert_eq!(ok::<Method>("GET"), Method::Get);
        refused::<Method>(&["POST", ""]);
        assert_eq!(
            ok::<OutputChoice>("json"),
            OutputChoice::Format(Output::Json)
        );
        assert_eq!(
            ok::<OutputChoice>("/dev/null"),
            OutputChoice::BodyFile("/dev/null".into())
        );
        assert_eq!(
            ok::<OutputChoice>("body.txt"),
            OutputChoice::BodyFile("body.txt".into())
        );
        refused::<OutputChoice>(&["JSON", "yaml", "-"]);
        let error = "yaml"
            .parse::<OutputChoice>()
            .expect_err("a typo")
            .to_string();
        assert!(error.contains("./yaml"), "{error}");
    }
}
