//! One validated [`Config`], built from the parsed command line and the
//! environment in short named steps. Every value is parsed once, by its own
//! type ([`values`]); every check that spans several flags lives here. An
//! error names the flag or the environment variable the bad value came
//! from, taken from clap's own definition of the flag, and nothing has
//! touched the network yet.

mod auth;
mod defaults;
mod expand;
mod expect;
mod request;
mod supervise;
mod target;
mod targets;
mod tls;
mod values;
#[cfg(feature = "tls")]
mod verify;

use std::ffi::OsString;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use ureq::http::{HeaderName, HeaderValue};

use crate::cli::{Cli, Flag, Invocation, Sources};
pub use auth::is_secret_header;
pub use defaults::*;
#[cfg(fuzzing)]
pub(crate) use expand::expand;
use expand::expand_values;
pub use expect::{Expectations, StatusSet};
pub use supervise::Supervise;
pub use target::{Target, TargetKind};
#[cfg(feature = "tls")]
pub use tls::LazyClientConfig;
pub use tls::TlsOptions;
pub use values::{
    ByteSize, Count, HumanDuration, IpFamily, Method, Output, OutputChoice, ResolveEntry,
    bare_host, redacted,
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
    pub proxy: Option<ureq::Proxy>,
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
fn verbosity(cli: &Cli, src: &Sources) -> Result<Verbosity> {
    let (quiet, verbose) = match (cli.quiet, cli.verbose) {
        (true, true) if src.typed(Flag::Quiet) == src.typed(Flag::Verbose) => bail!(
            "{} and {} cannot be used together",
            src.name(Flag::Quiet),
            src.name(Flag::Verbose)
        ),
        (true, true) => (src.typed(Flag::Quiet), src.typed(Flag::Verbose)),
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
pub fn from_invocation(mut invocation: Invocation) -> Result<Config> {
    let (cli, src) = invocation.split();
    let config = Config::build(cli, &src);
    // clap's command and matches are needed no more: the process's exit
    // takes them back at once, where freeing them piece by piece cost a
    // probe about 33k instructions (callgrind). Once per run (a fuzzer
    // runs it millions of times: there it is dropped).
    #[cfg(not(fuzzing))]
    std::mem::forget(invocation);
    config
}

/// The config of `args` (program name first), as `run` builds it: for
/// the unit tests of the layers below.
#[cfg(test)]
pub(crate) fn from_args<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Config> {
    let invocation = crate::cli::parse(args).map_err(|e| anyhow!("{e:?}"))?;
    from_invocation(invocation)
}

impl Config {
    /// Builds the validated config from the parsed flags (command line plus
    /// the environment variables clap reads) and the variables read here
    /// (`HEALTHPROBE_URL`, `HEALTHPROBE_HEADERS`, `HEALTHPROBE_EXPECT_JSON`,
    /// `PORT`), in named steps.
    ///
    /// # Errors
    /// The first invalid value, as one line naming its flag or variable.
    fn build(mut cli: Cli, src: &Sources) -> Result<Config> {
        expand_values(&mut cli, src)?;
        let supervise = match supervise::wanted(&cli, src)? {
            true => Some(supervise::supervise(&cli, src)?),
            false => None,
        };
        let targets = targets::targets(&cli, src, supervise.is_some())?;
        let all: Vec<&Target> = targets
            .iter()
            .chain(supervise.iter().flat_map(Supervise::targets))
            .collect();
        let tls = TlsOptions::from_cli(&cli, src, all.iter().any(|t| t.kind.tls()))?;
        let (timeout, connect_timeout, wait, interval) = times(&cli, src)?;
        let (wait, max_attempts) = retry(&cli, src, (timeout, wait, interval))?;
        let method = request::method(&cli, src)?;
        let proxy = proxy(&cli, src)?;
        let resolve = resolve_entries(&cli, src)?;
        what_cannot_apply(&cli, src, method, &resolve, &all)?;
        let family = family(&cli, src)?;
        let (output, body_file) = output(&cli, src)?;
        let request = request::request(&cli, src, method, &all)?;
        let (max_body, max_redirects) = limits(&cli, src)?;
        let mut config = Config {
            headers: request.headers,
            user_agent: request.user_agent,
            authorization: request.authorization,
            request_head_bytes: request.head_bytes,
            family,
            max_attempts,
            expect: expect::expectations(&cli, src, method, &all)?,
            max_body,
            resolve,
            output,
            verbosity: verbosity(&cli, src)?,
            targets,
            timeout,
            connect_timeout,
            method,
            max_redirects,
            supervise,
            proxy,
            wait,
            interval,
            unix_socket: cli.unix_socket,
            tls,
            exec: cli.command,
            body_file: None,
        };
        config.body_file = body_file_created(body_file, src)?;
        Ok(config)
    }
}

/// `--resolve` entries, each parsed.
///
/// # Errors
/// An entry that is not HOST:PORT:ADDR[,ADDR].
fn resolve_entries(cli: &Cli, src: &Sources) -> Result<Vec<ResolveEntry>> {
    cli.resolve
        .iter()
        .map(|t| t.parse().with_context(|| src.name(Flag::Resolve)))
        .collect()
}

/// `--max-body` (bytes) and `--max-redirs`.
///
/// # Errors
/// A size or a count that does not parse.
fn limits(cli: &Cli, src: &Sources) -> Result<(u64, u32)> {
    let max_body =
        src.parse::<ByteSize>(Flag::MaxBody, cli.max_body.as_deref(), DEFAULT_MAX_BODY)?;
    let max_redirs = src.parse::<Count<0>>(
        Flag::MaxRedirs,
        cli.max_redirs.as_deref(),
        DEFAULT_MAX_REDIRS,
    )?;
    Ok((max_body.0, max_redirs.0))
}

/// curl's `-o FILE`, created once everything else is valid and before
/// anything is sent: a path that cannot be written is a bad invocation,
/// not an unhealthy target.
///
/// # Errors
/// The file cannot be created, naming `--output` or its variable.
fn body_file_created(
    path: Option<std::path::PathBuf>,
    src: &Sources,
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
            .with_context(|| format!("{}: {}", src.name(Flag::Output), path.display()))?;
        return Ok(Some(std::sync::Arc::new(file)));
    }
    // Under `cargo fuzz` the path is the fuzzer's choice: nothing is
    // created or emptied (every other step runs).
    let path = match cfg!(fuzzing) {
        true => std::path::PathBuf::from("/dev/null"),
        false => path,
    };
    let file = std::fs::File::create(&path)
        .with_context(|| format!("{}: {}", src.name(Flag::Output), path.display()))?;
    Ok(Some(std::sync::Arc::new(file)))
}

/// `--timeout`, `--connect-timeout` (never more than the timeout), `--wait`
/// and `--interval`.
///
/// # Errors
/// A value that is not a duration, or zero.
fn times(cli: &Cli, src: &Sources) -> Result<(Duration, Duration, Option<Duration>, Duration)> {
    let timeout = src
        .parse::<HumanDuration>(Flag::Timeout, cli.timeout.as_deref(), DEFAULT_TIMEOUT)?
        .0;
    let connect_timeout = src
        .parse_opt::<HumanDuration>(Flag::ConnectTimeout, cli.connect_timeout.as_deref())?
        .map_or(timeout, |d| d.0)
        .min(timeout);
    let wait = src
        .parse_opt::<HumanDuration>(Flag::Wait, cli.wait.as_deref())?
        .map(|d| d.0);
    let interval = src
        .parse::<HumanDuration>(Flag::Interval, cli.interval.as_deref(), DEFAULT_INTERVAL)?
        .0;
    Ok((timeout, connect_timeout, wait, interval))
}

/// `--retry N` (curl's) on the wait loop: at most N+1 attempts, and a
/// wait of its own when `--wait` is not given, long enough never to end
/// first (each attempt and pause fits in `--timeout` + `--interval`).
///
/// # Errors
/// A count that is not a whole number.
fn retry(
    cli: &Cli,
    src: &Sources,
    (timeout, wait, interval): (Duration, Option<Duration>, Duration),
) -> Result<(Option<Duration>, Option<u32>)> {
    let Some(retries) = src.parse_opt::<Count<0>>(Flag::Retry, cli.retry.as_deref())? else {
        return Ok((wait, None));
    };
    let attempts = retries.0.saturating_add(1);
    if attempts == 1 {
        // --retry 0: one attempt, as without it (--wait alone keeps its own).
        return Ok((wait, wait.map(|_| 1)));
    }
    let long_enough = (timeout + interval).saturating_mul(attempts);
    Ok((Some(wait.unwrap_or(long_enough)), Some(attempts)))
}

/// `-4`/`-6`: the address family connections use.
///
/// # Errors
/// Both at once.
fn family(cli: &Cli, src: &Sources) -> Result<Option<IpFamily>> {
    Ok(match (cli.ipv4, cli.ipv6) {
        (true, true) => bail!(
            "{} and {} cannot be used together",
            src.name(Flag::Ipv4),
            src.name(Flag::Ipv6)
        ),
        (true, false) => Some(IpFamily::V4),
        (false, true) => Some(IpFamily::V6),
        (false, false) => None,
    })
}

/// `-o`: the report format, or curl's body file (the report then text).
///
/// # Errors
/// A format that is neither text, json nor a file name.
fn output(cli: &Cli, src: &Sources) -> Result<(Output, Option<std::path::PathBuf>)> {
    Ok(
        match src.parse(Flag::Output, cli.output.as_deref(), DEFAULT_OUTPUT)? {
            OutputChoice::Format(format) => (format, None),
            OutputChoice::BodyFile(path) => (Output::Text, Some(path)),
        },
    )
}

/// `--proxy`: an HTTP proxy URL, never combined with `--unix-socket`.
///
/// # Errors
/// Not a proxy URL ureq takes, or given with `--unix-socket`.
fn proxy(cli: &Cli, src: &Sources) -> Result<Option<ureq::Proxy>> {
    let Some(url) = &cli.proxy else {
        return Ok(None);
    };
    if cli.unix_socket.is_some() {
        bail!(
            "{} and {} cannot be combined: the socket is the connection",
            src.name(Flag::UnixSocket),
            src.name(Flag::Proxy)
        );
    }
    let name = src.name(Flag::Proxy);
    let with_scheme = if url.contains("://") {
        url.trim().to_string()
    } else {
        format!("http://{}", url.trim())
    };
    let uri = iri_string::types::UriStr::new(&with_scheme)
        .map_err(|_| anyhow!("{name}: {:?} is not a proxy URL", redacted(url)))?;
    let scheme = uri.scheme_str().to_ascii_lowercase();
    if scheme != "http" {
        bail!(
            "{name}: {:?}: only HTTP proxies (http://HOST:PORT, CONNECT) are supported, not {scheme}://",
            redacted(url)
        );
    }
    let host = uri.authority_components().map(|a| a.host()).unwrap_or("");
    if host.is_empty() || host.contains(['!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=']) {
        bail!("{name}: {:?} is not a proxy URL (no host)", redacted(url));
    }
    let proxy = ureq::Proxy::new(&with_scheme)
        .map_err(|e| anyhow!("{name}: {:?} is not a proxy URL ({e})", redacted(url)))?;
    Ok(Some(proxy))
}

/// What can only apply to HTTP requests, refused when typed and no target
/// is `http(s)://` (as the expectations are): `-X HEAD`/`-I`; and
/// `--unix-socket` when any target is not HTTP (`tcp://` and gRPC connect
/// by themselves); and a `--resolve` HOST:PORT given twice.
///
/// # Errors
/// One line naming the flag that cannot apply.
fn what_cannot_apply(
    cli: &Cli,
    src: &Sources,
    method: Method,
    resolve: &[ResolveEntry],
    all: &[&Target],
) -> Result<()> {
    if cli.unix_socket.is_some() && !cfg!(unix) {
        bail!(
            "{}: Unix sockets are not supported on this platform (Windows); \
             give the service a TCP port",
            src.name(Flag::UnixSocket)
        );
    }
    if cli.unix_socket.is_some() {
        for (flag, on) in [(Flag::Ipv4, cli.ipv4), (Flag::Ipv6, cli.ipv6)] {
            if on {
                bail!(
                    "{} cannot apply with {}: the socket is the connection",
                    src.name(flag),
                    src.name(Flag::UnixSocket)
                );
            }
        }
    }
    if cli.unix_socket.is_some() && all.iter().any(|t| !t.is_http()) {
        bail!(
            "{} cannot apply to tcp:// and grpc:// targets (they connect by themselves): \
             give it with http(s):// targets only",
            src.name(Flag::UnixSocket)
        );
    }
    if method == Method::Head && !all.iter().any(|t| t.is_http()) {
        for flag in [Flag::Method, Flag::Head] {
            if src.typed(flag) {
                bail!(
                    "{} cannot apply: no target is http(s):// (tcp:// and grpc:// send no HTTP method)",
                    src.name(flag)
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
                src.name(Flag::Resolve),
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

    #[test]
    fn help_names_every_default() {
        let help = crate::cli::long_help();
        for default in [
            DEFAULT_HOST,
            DEFAULT_TIMEOUT,
            DEFAULT_METHOD,
            DEFAULT_MAX_BODY,
            DEFAULT_INTERVAL,
            DEFAULT_OUTPUT,
            DEFAULT_STATUS_SET,
            DEFAULT_MAX_REDIRS,
            DEFAULT_PERIOD,
            DEFAULT_FAILURE_THRESHOLD,
            DEFAULT_INITIAL_DELAY,
            DEFAULT_GRACE_PERIOD,
        ] {
            assert!(
                help.contains(&format!("[default: {default}")),
                "{default} not in help"
            );
        }
    }

    /// Error messages name the flag as clap defines it, or the variable
    /// the value came from.
    #[test]
    fn errors_name_the_flag_or_the_variable() {
        let error = |args: &[&str]| {
            let argv = std::iter::once("healthprobe").chain(args.iter().copied());
            format!("{:#}", from_args(argv).expect_err("refused"))
        };
        assert!(error(&["-t", "0", "http://h/"]).starts_with("--timeout: "));
        assert!(error(&["--connect-timeout", "x", "http://h/"]).starts_with("--connect-timeout: "));
        assert!(error(&["--max-body", "x", "http://h/"]).starts_with("--max-body: "));
        assert!(error(&["-o", "yaml", "http://h/"]).starts_with("--output: "));
        assert!(error(&["ftp://x/"]).starts_with("TARGET: "));
    }
}
