//! One validated [`Config`], built from the parsed command line and the
//! environment in short named steps. Every value is parsed once, by its own
//! type ([`values`]); every check that spans several flags lives here. An
//! error names the flag or the environment variable the bad value came
//! from, taken from clap's own definition of the flag, and nothing has
//! touched the network yet.

mod auth;
mod expand;
mod expect;
mod request;
mod sources;
mod target;
mod targets;
mod tls;
mod values;
#[cfg(feature = "tls")]
mod verify;

use std::ffi::OsString;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Command, CommandFactory, FromArgMatches};
use ureq::http::{HeaderName, HeaderValue};

use crate::cli::Cli;
pub use auth::{UserPassword, is_secret_header};
use expand::expand_values;
pub use expect::Expectations;
pub(crate) use sources::Sources;

pub use target::{Target, TargetKind, bare_host, redact_userinfo, url_host};
#[cfg(feature = "tls")]
pub use tls::LazyClientConfig;
pub use tls::TlsOptions;
pub use values::{ByteSize, HumanDuration, Method, Output, ResolveEntry};

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
/// The default healthy set: the Kubernetes httpGet rule, 200 ≤ status < 400.
pub const DEFAULT_STATUS_SET: &str = "200-399";
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
    /// `Authorization: Basic …` from `--user`, marked sensitive; a target's
    /// own credentials and an explicit `-H 'Authorization: …'` come first.
    pub authorization: Option<HeaderValue>,
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
    /// The command after `--` (program first), run in place of healthprobe
    /// once every target is healthy; empty when none was given.
    pub exec: Vec<OsString>,
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
        (true, true) if src.typed("quiet") == src.typed("verbose") => bail!(
            "{} and {} cannot be used together",
            src.name("quiet"),
            src.name("verbose")
        ),
        (true, true) => (src.typed("quiet"), src.typed("verbose")),
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

/// Parses the command line `args` (program name first) and the environment
/// into a [`Config`].
///
/// # Errors
/// clap's own errors (unknown flag, missing value, non-UTF-8 argument, and the
/// help and version displays) come back as `clap::Error` inside the
/// `anyhow::Error`, so the caller can tell them apart; every other error is
/// one line naming its flag or variable.
pub fn from_args<I, T>(args: I) -> Result<Config>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = without_empty_variables(Cli::command());
    let matches = command.try_get_matches_from_mut(args)?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| anyhow!("{}", e.kind()))?;
    let src = Sources {
        command: &command,
        matches: &matches,
    };
    Config::build(cli, &src)
}

/// `command` with the environment variables that are set but empty taken
/// away from their flags: empty means unset (Compose writes `VAR=` for
/// `${VAR:-}`), for every `HEALTHPROBE_*` variable.
fn without_empty_variables(mut command: Command) -> Command {
    let empty: Vec<clap::Id> = command
        .get_arguments()
        .filter(|a| {
            a.get_env()
                .and_then(std::env::var_os)
                .is_some_and(|v| v.is_empty())
        })
        .map(|a| a.get_id().clone())
        .collect();
    for id in empty {
        command = command.mut_arg(id, |a| a.env(None::<&str>));
    }
    command
}

impl Config {
    /// Builds the validated config from the parsed flags (command line plus
    /// the environment variables clap reads) and the variables read here
    /// (`HEALTHPROBE_URL`, `HEALTHPROBE_HEADERS`, `HEALTHPROBE_EXPECT_JSON`,
    /// `PORT`).
    ///
    /// # Errors
    /// The first invalid value, as one line naming its flag or variable.
    fn build(mut cli: Cli, src: &Sources) -> Result<Config> {
        expand_values(&mut cli, src)?;
        let targets = targets::targets(&cli, src)?;
        let tls = TlsOptions::from_cli(&cli, src, targets.iter().any(Target::is_https))?;
        let timeout = src
            .parse::<HumanDuration>("timeout", cli.timeout.as_deref(), DEFAULT_TIMEOUT)?
            .0;
        let connect_timeout = src
            .parse_opt::<HumanDuration>("connect_timeout", cli.connect_timeout.as_deref())?
            .map_or(timeout, |d| d.0)
            .min(timeout);
        let method = request::method(&cli, src)?;
        let headers = request::headers(&cli, src)?;
        let user_agent = request::user_agent(&cli, src)?;
        let authorization = src
            .parse_opt::<UserPassword>("user", cli.user.as_deref())?
            .map(|u| u.authorization);
        let expect = expect::expectations(&cli, src, method, &targets)?;
        let max_body = src
            .parse::<ByteSize>("max_body", cli.max_body.as_deref(), DEFAULT_MAX_BODY)?
            .0;
        let proxy = match &cli.proxy {
            Some(url) => Some(ureq::Proxy::new(url).map_err(|e| {
                anyhow!(
                    "{}: {:?} is not a proxy URL ({e})",
                    src.name("proxy"),
                    redact_userinfo(url)
                )
            })?),
            None => None,
        };
        let resolve = cli
            .resolve
            .iter()
            .map(|t| t.parse().with_context(|| src.name("resolve")))
            .collect::<Result<Vec<ResolveEntry>>>()?;
        let wait = src
            .parse_opt::<HumanDuration>("wait", cli.wait.as_deref())?
            .map(|d| d.0);
        let interval = src
            .parse::<HumanDuration>("interval", cli.interval.as_deref(), DEFAULT_INTERVAL)?
            .0;
        if cli.unix_socket.is_some() && proxy.is_some() {
            bail!(
                "{} and {} cannot be combined: the socket is the connection",
                src.name("unix_socket"),
                src.name("proxy")
            );
        }
        let output: Output = src.parse("output", cli.output.as_deref(), DEFAULT_OUTPUT)?;
        let verbosity = verbosity(&cli, src)?;
        Ok(Config {
            targets,
            timeout,
            connect_timeout,
            method,
            headers,
            authorization,
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
            exec: cli.command,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_names_every_default() {
        let help = Cli::command().render_long_help().to_string();
        for default in [
            DEFAULT_HOST,
            DEFAULT_TIMEOUT,
            DEFAULT_METHOD,
            DEFAULT_MAX_BODY,
            DEFAULT_INTERVAL,
            DEFAULT_OUTPUT,
            DEFAULT_STATUS_SET,
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
