//! The command line as typed: flags, their environment variables and help (clap derive).
//!
//! Conventions (written down as xh does):
//! - No clap `default_value`: defaults live in the config layer (each
//!   named in its flag's help, checked by a test), because clap materialises
//!   every default as a matched value on every run, which cost a probe more
//!   instructions than its HTTP request (callgrind, BENCHMARKS.md).
//! - Values arrive here as plain strings and are parsed once, in
//!   the config layer, so that an error can name the flag *or* the
//!   environment variable the bad value came from.
//! - A short flag only where curl or Docker users expect one (`-t`, `-X`,
//!   `-H`, `-o`, `-q`, `-v`, `-k`, `-u`), and curl's health-check habits
//!   as aliases or accepted no-ops (`-m/--max-time`, `-L/--location`, `-I`,
//!   `-A`, `-f`, `-s`, `-S`), so that replacing `curl` by `healthprobe` in a
//!   line works; every other flag is long only.
//! - The command line beats the environment: a variable never conflicts
//!   with a flag, and an empty variable is no variable (Compose writes
//!   `VAR=` for `${VAR:-}`).
//! - Boolean flags with an environment variable accept 1/0, true/false,
//!   yes/no, on/off there.
//! - Value names are upper case and say what they hold (`DURATION`, `SIZE`).
//! - Every flag that a Dockerfile `ENV` line would set has an environment
//!   variable `HEALTHPROBE_<NAME>`: exec-form `HEALTHCHECK` in scratch and
//!   distroless images has no shell to expand `$VARS` on the command line.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};

/// The help heading of curl's flags that healthprobe accepts or refuses
/// with a pointer.
const CURL: &str = "curl compatibility";

/// The help heading of the supervising flags.
const SUPERVISE: &str = "Supervising the command after -- (startup and liveness probes)";

/// The one value parser of every boolean flag: its environment variable
/// takes 1/0, true/false, yes/no, on/off (clap's boolish values).
fn boolish() -> BoolishValueParser {
    BoolishValueParser::new()
}

/// What `--version` prints after the name: the version, the target triple,
/// whether TLS and gRPC are compiled in, and the commit (from build.rs), e.g.
/// `0.2.0 (aarch64-unknown-linux-musl, tls, grpc, 1a2b3c4)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("HEALTHPROBE_BUILD"),
    ")"
);

/// The examples `--help` ends with.
const EXAMPLES: &str = "\
Examples:
  healthprobe http://127.0.0.1:8000/health
  healthprobe -t 2s --expect-json /status=ok localhost:8000/health
  healthprobe tcp://127.0.0.1:5432 grpc://127.0.0.1:50051
  healthprobe --wait 60s tcp://db:5432 -- /app/server --port 8000
  healthprobe --liveness http://127.0.0.1:8000/health -- uvicorn main:app
  HEALTHCHECK CMD [\"/healthprobe\", \"http://127.0.0.1:8000/health\"]   (Dockerfile)";

/// Environment variable with the targets when none is given on the command line.
pub const ENV_URL: &str = "HEALTHPROBE_URL";
/// Environment variable with extra request headers, one `Name: value` per line.
pub const ENV_HEADERS: &str = "HEALTHPROBE_HEADERS";
/// Environment variable with JSON expectations, one `POINTER=VALUE` per line.
pub const ENV_EXPECT_JSON: &str = "HEALTHPROBE_EXPECT_JSON";
/// The platform-wide port variable (Heroku, Cloud Run, …), read after `HEALTHPROBE_PORT`.
pub const ENV_PORT_FALLBACK: &str = "PORT";

/// Health checks with one deadline; exit 0 when healthy, 1 otherwise.
///
/// healthprobe replaces `curl --fail` (and grpc_health_probe) in Docker
/// HEALTHCHECK lines, CI waits, entrypoints and Kubernetes exec probes. An
/// HTTP status in the expected set (default 200-399, the Kubernetes httpGet
/// rule) with every expectation met, an open TCP connection, or a gRPC
/// SERVING (grpc.health.v1) is healthy (exit 0); anything else (other
/// status, refused, reset, timeout, bad reply, bad flag) is unhealthy (exit
/// 1). It never exits 2, which Docker reserves. Proxy environment variables
/// are ignored.
#[derive(Parser, Debug, Default)]
#[command(
    name = "healthprobe",
    version = VERSION,
    about,
    long_about,
    max_term_width = 100,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Targets to check: http://… or https://… URLs, tcp://host:port (healthy
    /// when a TCP connection opens), grpc:// or grpcs://host:port[/SERVICE]
    /// (the grpc.health.v1 check), host:port[/path] (read as http://, as
    /// curl does), or a bare path such as /health meaning
    /// http://{--host}:{--port}/health. ${NAME} and ${NAME:-default} are
    /// filled from the environment here and in --host, --port, -H, --user,
    /// --servername, --expect-body and --expect-json ($$ is a literal $).
    ///
    /// With none given, HEALTHPROBE_URL is read (several targets may be
    /// separated by spaces). Several targets are checked concurrently within
    /// the one deadline; the result is healthy only when all are.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Host for bare-path targets [default: 127.0.0.1].
    #[arg(long, value_name = "HOST", env = "HEALTHPROBE_HOST")]
    pub host: Option<String>,

    /// Port for bare-path targets [env: HEALTHPROBE_PORT, then PORT].
    #[arg(
        long,
        value_name = "PORT",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_PORT",
        hide_env = true
    )]
    pub port: Option<String>,

    /// One total deadline for the check: resolve, connect, TLS, request,
    /// response headers and body (e.g. 500ms, 2s, 1m, or 3 or 0.5 for
    /// seconds, so curl's -m/--max-time SECONDS works as it is) [default: 5s].
    #[arg(
        short = 't',
        long,
        visible_short_alias = 'm',
        visible_alias = "max-time",
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_TIMEOUT"
    )]
    pub timeout: Option<String>,

    /// Deadline for connection setup, TLS included (default: the --timeout).
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_CONNECT_TIMEOUT"
    )]
    pub connect_timeout: Option<String>,

    /// Request method: GET or HEAD [default: GET].
    #[arg(short = 'X', long, value_name = "METHOD", env = "HEALTHPROBE_METHOD")]
    pub method: Option<String>,

    /// Send HEAD and judge the status only (curl's -I; the same as -X HEAD).
    #[arg(short = 'I', long)]
    pub head: bool,

    /// Request header 'Name: value' (gRPC metadata for grpc:// targets),
    /// repeatable; 'Host: x' sets the Host header [env: HEALTHPROBE_HEADERS,
    /// one header per line or separated by the two characters \n].
    #[arg(short = 'H', long = "header", value_name = "HEADER", action = ArgAction::Append)]
    pub headers: Vec<String>,

    /// Basic credentials USER:PASSWORD (as curl's -u); an explicit
    /// -H 'Authorization: …' wins. Never printed.
    #[arg(
        short = 'u',
        long,
        value_name = "USER:PASSWORD",
        env = "HEALTHPROBE_USER",
        hide_env_values = true
    )]
    pub user: Option<String>,

    /// User-Agent header [default: healthprobe/<version>].
    #[arg(short = 'A', long, value_name = "TEXT", env = "HEALTHPROBE_USER_AGENT")]
    pub user_agent: Option<String>,

    /// Healthy status codes: comma-separated codes and ranges (e.g.
    /// 200-299,301) [default: 200-399, the Kubernetes httpGet rule].
    #[arg(long, value_name = "LIST", env = "HEALTHPROBE_EXPECT_STATUS")]
    pub expect_status: Option<String>,

    /// The body must contain TEXT (only the first --max-body bytes are read).
    #[arg(long, value_name = "TEXT", env = "HEALTHPROBE_EXPECT_BODY")]
    pub expect_body: Option<String>,

    /// The body is JSON and the value at the RFC 6901 POINTER equals VALUE,
    /// repeatable (e.g. /status=ok; true, 42 and null compare as JSON)
    /// [env: HEALTHPROBE_EXPECT_JSON, one per line or separated by \n].
    #[arg(long, value_name = "POINTER=VALUE", action = ArgAction::Append)]
    pub expect_json: Vec<String>,

    /// Most body bytes read before the connection is dropped (e.g. 64KiB,
    /// 10k, 1MiB, or bytes) [default: 64KiB].
    #[arg(long, value_name = "SIZE", env = "HEALTHPROBE_MAX_BODY")]
    pub max_body: Option<String>,

    /// Most redirects followed, to the same host only (ports ignored, the
    /// Kubernetes rule); a redirect elsewhere is judged as the 3xx it is,
    /// and 0 judges every 3xx itself (curl's name; -L is accepted)
    /// [default: 10].
    #[arg(long, value_name = "N", env = "HEALTHPROBE_MAX_REDIRS")]
    pub max_redirs: Option<String>,

    /// Send the request through this HTTP proxy (http://HOST:PORT or
    /// HOST:PORT, CONNECT; socks and https proxies are refused). Proxy
    /// environment variables (http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY)
    /// are always ignored.
    #[arg(long, value_name = "URL", env = "HEALTHPROBE_PROXY")]
    pub proxy: Option<String>,

    /// Use these addresses for HOST:PORT instead of resolving it, as curl's
    /// option of the same name (e.g. app.internal:443:127.0.0.1 or
    /// localhost:8000:[::1],127.0.0.1, tried in that order); repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR[,ADDR]", action = ArgAction::Append)]
    pub resolve: Vec<String>,

    /// Skip TLS certificate and host name verification (what a Kubernetes
    /// HTTPS probe does); the report says "(insecure)".
    #[arg(short = 'k', long, env = "HEALTHPROBE_INSECURE", value_parser = boolish())]
    pub insecure: bool,

    /// Trust the CA certificates in this PEM file instead of the bundled
    /// Mozilla roots (as curl's --cacert).
    #[arg(long, value_name = "FILE", env = "HEALTHPROBE_CACERT")]
    pub cacert: Option<std::path::PathBuf>,

    /// Client certificate chain (PEM) for mutual TLS; the key may be in the
    /// same file.
    #[arg(long, value_name = "FILE", env = "HEALTHPROBE_CERT")]
    pub cert: Option<std::path::PathBuf>,

    /// Private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", env = "HEALTHPROBE_KEY")]
    pub key: Option<std::path::PathBuf>,

    /// TLS server name (SNI) and certificate name to verify, for targets
    /// given by IP address (https://127.0.0.1:8443 with a certificate for
    /// app.internal). The Host header keeps the URL's host.
    #[arg(long, value_name = "NAME", env = "HEALTHPROBE_SERVERNAME")]
    pub servername: Option<String>,

    /// Keep probing until every target is healthy or DURATION has passed
    /// (CI jobs, entrypoints); each attempt still has its own --timeout.
    /// curl's --retry-max-time is this flag.
    #[arg(
        long,
        visible_alias = "retry-max-time",
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_WAIT"
    )]
    pub wait: Option<String>,

    /// Pause between attempts with --wait or --retry (a fixed pause, not
    /// curl's doubling one; curl's --retry-delay is this flag) [default: 1s].
    #[arg(
        long,
        visible_alias = "retry-delay",
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_INTERVAL"
    )]
    pub interval: Option<String>,

    /// Make up to N more attempts after a failed one, --interval apart
    /// (curl's --retry): every failure is retried (refused, timeout, DNS, a
    /// status outside the healthy set), so --retry-connrefused changes
    /// nothing. Stops at the first healthy result, after N+1 attempts, or
    /// at the end of --wait (--retry-max-time), whichever comes first.
    #[arg(
        long,
        value_name = "N",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_RETRY"
    )]
    pub retry: Option<String>,

    /// Connect over IPv4 only: the addresses a lookup or --resolve gives
    /// are tried only when IPv4 (as curl's -4).
    #[arg(short = '4', long, env = "HEALTHPROBE_IPV4", value_parser = boolish())]
    pub ipv4: bool,

    /// Connect over IPv6 only (as curl's -6).
    #[arg(short = '6', long, env = "HEALTHPROBE_IPV6", value_parser = boolish())]
    pub ipv6: bool,

    /// Startup probe of the command after `--`, which healthprobe then runs
    /// as its child and supervises: TARGET is checked every
    /// --startup-period until healthy; --startup-failure-threshold failures
    /// in a row stop the command. Repeatable (all must be healthy); any
    /// target kind, with every request flag [env: HEALTHPROBE_STARTUP,
    /// targets separated by spaces].
    #[arg(
        long,
        value_name = "TARGET",
        action = ArgAction::Append,
        env = "HEALTHPROBE_STARTUP",
        value_delimiter = ' ',
        hide_env = true,
        help_heading = SUPERVISE
    )]
    pub startup: Vec<String>,

    /// Liveness probe of the command after `--` (run as a supervised
    /// child): checked every --period once startup has succeeded;
    /// --failure-threshold failures in a row stop the command (SIGTERM to
    /// its process group, SIGKILL after --termination-grace-period) and
    /// healthprobe exits 1, so Docker's restart policy restarts the
    /// container. Repeatable [env: HEALTHPROBE_LIVENESS, targets separated
    /// by spaces].
    #[arg(
        long,
        value_name = "TARGET",
        action = ArgAction::Append,
        env = "HEALTHPROBE_LIVENESS",
        value_delimiter = ' ',
        hide_env = true,
        help_heading = SUPERVISE
    )]
    pub liveness: Vec<String>,

    /// How often the liveness probe runs (Kubernetes' periodSeconds); each
    /// attempt is bounded by --timeout [default: 10s].
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_PERIOD",
        help_heading = SUPERVISE
    )]
    pub period: Option<String>,

    /// Liveness failures in a row that stop the command (Kubernetes'
    /// failureThreshold); one success resets the count [default: 3].
    #[arg(
        long,
        value_name = "N",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_FAILURE_THRESHOLD",
        help_heading = SUPERVISE
    )]
    pub failure_threshold: Option<String>,

    /// How often the startup probe runs [default: the --period].
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_STARTUP_PERIOD",
        help_heading = SUPERVISE
    )]
    pub startup_period: Option<String>,

    /// Startup failures in a row that stop the command [default: the
    /// --failure-threshold].
    #[arg(
        long,
        value_name = "N",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_STARTUP_FAILURE_THRESHOLD",
        help_heading = SUPERVISE
    )]
    pub startup_failure_threshold: Option<String>,

    /// Time from the command's start to its first probe (Kubernetes'
    /// initialDelaySeconds) [default: 0s].
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_INITIAL_DELAY",
        help_heading = SUPERVISE
    )]
    pub initial_delay: Option<String>,

    /// Time between SIGTERM and SIGKILL when a probe stops the command
    /// (Kubernetes' terminationGracePeriodSeconds) [default: 30s].
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        env = "HEALTHPROBE_TERMINATION_GRACE_PERIOD",
        help_heading = SUPERVISE
    )]
    pub termination_grace_period: Option<String>,

    /// Send HTTP requests over this Unix domain socket; the URL still gives
    /// the Host header and the path (as curl's option of the same name).
    #[arg(long, value_name = "PATH", env = "HEALTHPROBE_UNIX_SOCKET")]
    pub unix_socket: Option<std::path::PathBuf>,

    /// Report format on stdout: text (one line per target) or json
    /// [default: text]. A value with a / or a . in it is a FILE, as in
    /// curl: the body read (up to --max-body) is written there and the
    /// report stays text, so curl's `-o /dev/null` works as it is.
    #[arg(
        short = 'o',
        long,
        value_name = "FORMAT|FILE",
        env = "HEALTHPROBE_OUTPUT"
    )]
    pub output: Option<String>,

    /// Print no report; the exit status tells.
    #[arg(short = 'q', long, env = "HEALTHPROBE_QUIET", value_parser = boolish())]
    pub quiet: bool,

    /// Print phases with timings and the request and response heads to stderr.
    #[arg(short = 'v', long, env = "HEALTHPROBE_VERBOSE", value_parser = boolish())]
    pub verbose: bool,

    /// Accepted, nothing to do: curl's -f/--fail, -s/--silent,
    /// -S/--show-error and -L/--location (as in `-fsSL`), --fail-with-body
    /// and --retry-connrefused, one flag here. A status outside the healthy set is
    /// always unhealthy, there is no progress meter (the report is one
    /// line; -q for none), failures are always reported, same-host
    /// redirects are followed (--max-redirs), and --retry retries refused
    /// connections too. (-w/--write-out is refused: -o json has the status
    /// code, the time and the reason.)
    #[arg(
        short = 'f',
        long = "fail",
        visible_short_aliases = ['s', 'S', 'L'],
        visible_aliases = [
            "silent",
            "show-error",
            "location",
            "follow-redirects",
            "fail-with-body",
            "retry-connrefused",
        ],
        action = ArgAction::Count,
        help_heading = CURL
    )]
    pub curl_no_op: u8,

    /// After `--`: the command to run once every target is healthy. It
    /// replaces healthprobe (same PID, looked up on PATH), with its
    /// arguments verbatim; it is never started when a target is unhealthy.
    /// With --startup or --liveness it runs as healthprobe's child instead,
    /// supervised: signals are forwarded to it, orphans are reaped, and
    /// healthprobe exits with its status.
    #[arg(last = true, value_name = "CMD", allow_hyphen_values = true, value_parser = clap::value_parser!(std::ffi::OsString))]
    pub command: Vec<std::ffi::OsString>,
}
