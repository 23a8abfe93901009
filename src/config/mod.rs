//! One validated [`Config`], built from the parsed command line and the
//! environment in short named steps. Every value is parsed once, by its own
//! type ([`values`]); every check that spans several flags lives here. An
//! error names the flag or the environment variable the bad value came
//! from, taken from clap's own definition of the flag, and nothing has
//! touched the network yet.

mod auth;
mod expect;
mod probes;
mod request;
mod supervise;
mod target;
mod targets;
mod tls;
mod values;
#[cfg(feature = "tls")]
mod verify;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ureq::http::{HeaderName, HeaderValue};

use crate::cli::{Args, flags};
use crate::redact::Secrets;
pub use expect::{Expectations, StatusSet};
#[cfg_attr(not(unix), allow(unused_imports))]
pub use supervise::{ProbeKind, ProbeSpec, StatusSocket, Supervise};
pub use target::{Target, TargetKind};
#[cfg(feature = "tls")]
pub use tls::LazyClientConfig;
pub use tls::TlsOptions;
pub use values::{
    ByteSize, Count, HumanDuration, IpFamily, Method, Output, OutputChoice, ProxyUrl, ResolveEntry,
    bare_host,
};

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
    /// `Authorization: Basic …` from `--user`, marked sensitive; a target's
    /// own credentials and an explicit `-H 'Authorization: …'` come first.
    pub authorization: Option<HeaderValue>,
    /// The User-Agent header value.
    pub user_agent: String,
    /// What a healthy answer looks like.
    pub expect: Expectations,
    /// Most body bytes read before the connection is dropped, in bytes.
    pub max_body: u64,
    /// Most same-host redirects followed (`--max-redirs`); 0 judges every
    /// 3xx itself.
    pub max_redirects: u32,
    /// Explicit HTTP proxy; `None` means a direct connection whatever the
    /// environment says.
    pub proxy: Option<ProxyUrl>,
    /// `--wait`: keep probing until healthy or this much time has passed.
    pub wait: Option<Duration>,
    /// Pause between attempts with `--wait` or `--retry`.
    pub interval: Duration,
    /// `--retry N`: at most N+1 attempts; `None`: as many as `--wait`
    /// allows.
    pub max_attempts: Option<u32>,
    /// `-4`/`-6`: only addresses of this family are tried.
    pub family: Option<IpFamily>,
    /// Send HTTP requests over this Unix domain socket.
    pub unix_socket: Option<std::path::PathBuf>,
    /// Fixed addresses for host and port pairs (`--resolve`), used instead
    /// of a lookup.
    pub resolve: Vec<ResolveEntry>,
    /// TLS verification and client identity for `https://` targets.
    pub tls: TlsOptions,
    /// Report format on stdout.
    pub output: Output,
    /// `-o FILE` (curl's): the body of every HTTP check is written there;
    /// created (emptied) when the config is built, before anything is sent.
    pub body_file: Option<std::sync::Arc<std::fs::File>>,
    /// The largest request head (request line and headers) of any target,
    /// in bytes, never more than [`MAX_REQUEST_HEAD_BYTES`]: what the
    /// request buffer must hold.
    pub request_head_bytes: usize,
    /// How much is printed.
    pub verbosity: Verbosity,
    /// The command after `--` (program first), run in place of healthprobe
    /// once every target is healthy; empty when none was given.
    pub exec: Vec<OsString>,
    /// `--startup`/`--liveness`: run `exec` as a supervised child instead.
    /// Always `None` on Windows, where supervise mode is refused.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub supervise: Option<Supervise>,
    /// Where checks connect: the network, or (tests, fuzzing) a
    /// replacement for it.
    pub network: crate::network::Network,
    /// `--status`: ask the supervisor on this socket instead of probing.
    pub status: Option<StatusSocket>,
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

/// `-q` and `-v`: the command line beats the environment, so an image's
/// `HEALTHPROBE_QUIET=1` does not stop `docker exec … healthprobe -v`.
///
/// # Errors
/// Both typed on the command line, or both set in the environment.
fn verbosity(args: &Args) -> Result<Verbosity> {
    let (q, v) = (&flags::QUIET, &flags::VERBOSE);
    let (quiet, verbose) = match (args.switch(q), args.switch(v)) {
        (true, true) if args.typed(q) == args.typed(v) => bail!(
            "{} and {} cannot be used together",
            args.name(q),
            args.name(v)
        ),
        (true, true) => (args.typed(q), args.typed(v)),
        other => other,
    };
    Ok(if quiet {
        Verbosity::Quiet
    } else if verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    })
}

/// The validated config of a parsed command line.
///
/// # Errors
/// The first invalid value, as one line naming its flag or variable.
pub fn from_args(args: Args, secrets: &Secrets) -> Result<Config> {
    Config::build(&args, secrets)
}

/// The config of `words` (program name first), as `run` builds it: for
/// the unit tests of the layers below.
#[cfg(test)]
pub(crate) fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Config> {
    let secrets = Secrets::new();
    let words = words.into_iter().map(std::ffi::OsString::from).collect();
    let args = crate::cli::parse(words, crate::cli::Vars::read(), secrets.clone())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    from_args(args, &secrets)
}

impl Config {
    /// Builds the validated config from the parsed flags (command line and
    /// environment), in named steps.
    ///
    /// # Errors
    /// The first invalid value, as one line naming its flag or variable.
    fn build(args: &Args, secrets: &Secrets) -> Result<Config> {
        let status = status(args)?;
        let supervise = match status.is_none() && supervise::wanted(args)? {
            true => Some(supervise::supervise(args, secrets)?),
            false => None,
        };
        let targets = match status {
            Some(_) => Vec::new(),
            None => targets::targets(args, supervise.is_some())?,
        };
        let all: Vec<&Target> = targets
            .iter()
            .chain(supervise.iter().flat_map(Supervise::targets))
            .collect();
        let tls = TlsOptions::from_args(args, all.iter().any(|t| t.kind.tls()))?;
        let (timeout, connect_timeout, wait, interval) = times(args)?;
        let (wait, max_attempts) = retry(args, (timeout, wait, interval))?;
        let method = request::method(args)?;
        let proxy = proxy(args)?;
        let resolve = args.parse_all::<ResolveEntry>(&flags::RESOLVE)?;
        let unix_socket = args.text(&flags::UNIX_SOCKET)?.map(PathBuf::from);
        what_cannot_apply(args, method, &resolve, &all)?;
        let family = family(args)?;
        let (output, body_file) = output(args)?;
        let request = request::request(args, method, &all)?;
        for (name, value) in &request.headers {
            secrets.add_header(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
        }
        let mut config = Config {
            headers: request.headers,
            user_agent: request.user_agent,
            authorization: request.authorization,
            request_head_bytes: request.head_bytes,
            family,
            max_attempts,
            expect: expect::expectations(args, method, &all)?,
            max_body: args.parse_or_default::<ByteSize>(&flags::MAX_BODY)?.0,
            resolve,
            output,
            verbosity: verbosity(args)?,
            targets,
            timeout,
            connect_timeout,
            method,
            max_redirects: args.parse_or_default::<Count<0>>(&flags::MAX_REDIRS)?.0,
            supervise,
            proxy,
            wait,
            interval,
            unix_socket,
            tls,
            exec: args.command(&flags::COMMAND),
            body_file: None,
            network: Default::default(),
            status,
        };
        config.body_file = body_file_created(body_file, args)?;
        Ok(config)
    }
}

/// `--status`: the socket to ask; nothing else to check or run.
///
/// # Errors
/// `--status` with targets, probes, a command or a body file.
fn status(args: &Args) -> Result<Option<StatusSocket>> {
    if !args.switch(&flags::STATUS) {
        return Ok(None);
    }
    let asks = [
        &flags::TARGETS,
        &flags::STARTUP,
        &flags::LIVENESS,
        &flags::READINESS,
        &flags::PROBES,
        &flags::WAIT,
        &flags::RETRY,
    ];
    if let Some(flag) = asks.into_iter().find(|f| args.typed(f)) {
        bail!(
            "{} asks the supervisor, which probes by itself: {} cannot apply",
            args.name(&flags::STATUS),
            args.name(flag)
        );
    }
    if !args.command(&flags::COMMAND).is_empty() {
        bail!("{} runs no command after `--`", args.name(&flags::STATUS));
    }
    if let OutputChoice::BodyFile(_) = args.parse_or_default(&flags::OUTPUT)? {
        bail!(
            "{} prints the supervisor's answer: {} takes text or json",
            args.name(&flags::STATUS),
            args.name(&flags::OUTPUT)
        );
    }
    supervise::status_socket(args).map(Some)
}

/// curl's `-o FILE`, created once everything else is valid and before
/// anything is sent: a path that cannot be written is a bad invocation,
/// not an unhealthy target.
///
/// # Errors
/// The file cannot be created, naming `--output` or its variable.
fn body_file_created(
    path: Option<PathBuf>,
    args: &Args,
) -> Result<Option<std::sync::Arc<std::fs::File>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    // curl's `-o /dev/null`, copied into a Windows image, means NUL there;
    // the device is opened for writing, not created or truncated.
    #[cfg(windows)]
    if let Some("/dev/null" | "NUL" | "nul") = path.to_str() {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open("NUL")
            .with_context(|| format!("{}: {}", args.name(&flags::OUTPUT), path.display()))?;
        return Ok(Some(std::sync::Arc::new(file)));
    }
    let file = std::fs::File::create(&path)
        .with_context(|| format!("{}: {}", args.name(&flags::OUTPUT), path.display()))?;
    Ok(Some(std::sync::Arc::new(file)))
}

/// `--timeout`, `--connect-timeout` (never more than the timeout), `--wait`
/// and `--interval`.
///
/// # Errors
/// A value that is not a duration, or zero.
fn times(args: &Args) -> Result<(Duration, Duration, Option<Duration>, Duration)> {
    let timeout = args.parse_or_default::<HumanDuration>(&flags::TIMEOUT)?.0;
    let connect_timeout = args
        .parse::<HumanDuration>(&flags::CONNECT_TIMEOUT)?
        .map_or(timeout, |d| d.0)
        .min(timeout);
    let wait = args.parse::<HumanDuration>(&flags::WAIT)?.map(|d| d.0);
    let interval = args.parse_or_default::<HumanDuration>(&flags::INTERVAL)?.0;
    Ok((timeout, connect_timeout, wait, interval))
}

/// `--retry N` (curl's) on the wait loop: at most N+1 attempts, and a
/// wait of its own when `--wait` is not given, long enough never to end
/// first (each attempt and pause fits in `--timeout` + `--interval`).
///
/// # Errors
/// A count that is not a whole number.
fn retry(
    args: &Args,
    (timeout, wait, interval): (Duration, Option<Duration>, Duration),
) -> Result<(Option<Duration>, Option<u32>)> {
    let Some(retries) = args.parse::<Count<0>>(&flags::RETRY)? else {
        return Ok((wait, None));
    };
    let attempts = retries.0.saturating_add(1);
    if attempts == 1 {
        // --retry 0: one attempt, as without it (--wait alone keeps its own).
        return Ok((wait, wait.map(|_| 1)));
    }
    let long_enough = timeout.saturating_add(interval).saturating_mul(attempts);
    Ok((Some(wait.unwrap_or(long_enough)), Some(attempts)))
}

/// `-4`/`-6`: the address family connections use.
///
/// # Errors
/// Both at once.
fn family(args: &Args) -> Result<Option<IpFamily>> {
    Ok(
        match (args.switch(&flags::IPV4), args.switch(&flags::IPV6)) {
            (true, true) => bail!(
                "{} and {} cannot be used together",
                args.name(&flags::IPV4),
                args.name(&flags::IPV6)
            ),
            (true, false) => Some(IpFamily::V4),
            (false, true) => Some(IpFamily::V6),
            (false, false) => None,
        },
    )
}

/// `-o`: the report format, or curl's body file (the report then text).
///
/// # Errors
/// A format that is neither text, json nor a file name.
fn output(args: &Args) -> Result<(Output, Option<PathBuf>)> {
    Ok(match args.parse_or_default(&flags::OUTPUT)? {
        OutputChoice::Format(format) => (format, None),
        OutputChoice::BodyFile(path) => (Output::Text, Some(path)),
    })
}

/// `--proxy`: an HTTP proxy URL, never combined with `--unix-socket`.
///
/// # Errors
/// Not a proxy URL (scheme, host, port 1-65535), or given with
/// `--unix-socket`.
fn proxy(args: &Args) -> Result<Option<ProxyUrl>> {
    if args.given(&flags::PROXY) && args.given(&flags::UNIX_SOCKET) {
        bail!(
            "{} and {} cannot be combined: the socket is the connection",
            args.name(&flags::UNIX_SOCKET),
            args.name(&flags::PROXY)
        );
    }
    args.parse(&flags::PROXY)
}

/// What can only apply to HTTP requests, refused when typed and no target
/// is `http(s)://` (as the expectations are): `-X HEAD`/`-I`; and
/// `--unix-socket` when any target is not HTTP (`tcp://` and gRPC connect
/// by themselves); and a `--resolve` HOST:PORT given twice.
///
/// # Errors
/// One line naming the flag that cannot apply.
fn what_cannot_apply(
    args: &Args,
    method: Method,
    resolve: &[ResolveEntry],
    all: &[&Target],
) -> Result<()> {
    let socket = &flags::UNIX_SOCKET;
    if args.given(socket) && !cfg!(unix) {
        bail!(
            "{}: Unix sockets are not supported on this platform (Windows); \
             give the service a TCP port",
            args.name(socket)
        );
    }
    if args.given(socket) {
        for flag in [&flags::IPV4, &flags::IPV6] {
            if args.switch(flag) {
                bail!(
                    "{} cannot apply with {}: the socket is the connection",
                    args.name(flag),
                    args.name(socket)
                );
            }
        }
    }
    if args.given(socket) && all.iter().any(|t| !t.is_http()) {
        bail!(
            "{} cannot apply to tcp:// and grpc:// targets (they connect by themselves): \
             give it with http(s):// targets only",
            args.name(socket)
        );
    }
    if method == Method::Head && !all.iter().any(|t| t.is_http()) {
        for flag in [&flags::METHOD, &flags::HEAD] {
            if args.typed(flag) {
                bail!(
                    "{} cannot apply: no target is http(s):// (tcp:// and grpc:// send no HTTP method)",
                    args.name(flag)
                );
            }
        }
    }
    for (i, entry) in resolve.iter().enumerate() {
        if resolve[..i]
            .iter()
            .any(|e| e.host == entry.host && e.port == entry.port)
        {
            bail!(
                "{}: {}:{} is given twice",
                args.name(&flags::RESOLVE),
                entry.host,
                entry.port
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Error messages name the flag as the user typed it (a short flag
    /// with its long name), or the variable the value came from.
    #[test]
    fn errors_name_the_flag_or_the_variable() {
        let error = |args: &[&str]| {
            let argv = std::iter::once("healthprobe").chain(args.iter().copied());
            format!("{:#}", from_words(argv).expect_err("refused"))
        };
        assert!(error(&["-t", "0", "http://h/"]).starts_with("-t/--timeout: "));
        assert!(error(&["--max-time", "0", "http://h/"]).starts_with("--max-time: "));
        assert!(error(&["-fsSm0", "http://h/"]).starts_with("-m/--timeout: "));
        assert!(error(&["--timeout=0", "http://h/"]).starts_with("--timeout: "));
        assert!(
            error(&["-I", "--expect-body", "ok", "http://h/"]).starts_with("-I/--head HEAD gets"),
            "{}",
            error(&["-I", "--expect-body", "ok", "http://h/"])
        );
        assert!(error(&["--connect-timeout", "x", "http://h/"]).starts_with("--connect-timeout: "));
        assert!(error(&["--max-body", "x", "http://h/"]).starts_with("--max-body: "));
        assert!(error(&["-o", "yaml", "http://h/"]).starts_with("-o/--output: "));
        assert!(error(&["ftp://x/"]).starts_with("TARGET: "));
    }
}
