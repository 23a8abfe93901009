//! Every flag, defined once: its names, environment variable, value,
//! default and help. The clap `Command` (and from it `--help`, the man page
//! and the completions), the README's flag table, the names in error
//! messages and where a value came from are all derived from these
//! definitions (as ripgrep's `flags/defs.rs` does). Adding a flag is one
//! definition here, the code that uses its value, and its test.
//!
//! Conventions (written down as xh does):
//! - A short flag only where curl or Docker users expect one (`-t`, `-X`,
//!   `-H`, `-o`, `-q`, `-v`, `-k`, `-u`, `-x`), and curl's health-check
//!   habits as aliases or accepted no-ops (`-m/--max-time`, `-L/--location`,
//!   `-I`, `-A`, `-f`, `-s`, `-S`), so that replacing `curl` by
//!   `healthprobe` in a line works; every other flag is long only.
//! - The command line beats the environment: a variable never conflicts
//!   with a flag, and an empty variable is no variable (Compose writes
//!   `VAR=` for `${VAR:-}`).
//! - Boolean variables accept 1/0, true/false, yes/no, on/off.
//! - Value names are upper case and say what they hold (`DURATION`, `SIZE`).
//! - Every flag that a Dockerfile `ENV` line would set has a variable
//!   `HEALTHPROBE_<NAME>`: exec-form `HEALTHCHECK` in scratch and distroless
//!   images has no shell to expand `$VARS` on the command line.
//! - Defaults are values of the definition, used by the config layer when
//!   a flag is absent and shown in `--help` as `[default: …]`; they are not
//!   handed to clap, which would parse every default on every run.

/// One flag (or the positional targets, or the command after `--`).
#[derive(Debug)]
pub struct Flag {
    /// The clap id; also the name tests and messages use.
    pub id: &'static str,
    /// `--long`.
    pub long: Option<&'static str>,
    /// `-s`.
    pub short: Option<char>,
    /// Other long names (shown in help).
    pub aliases: &'static [&'static str],
    /// Other short letters (shown in help).
    pub short_aliases: &'static [char],
    /// What the flag takes.
    pub value: Value,
    /// Its environment variable.
    pub env: Option<&'static str>,
    /// How the variable holds its values.
    pub env_form: EnvForm,
    /// A variable read after `env` when that is unset (`PORT`).
    pub env_fallback: Option<&'static str>,
    /// The value used when the flag is absent.
    pub default: DefaultValue,
    /// Whether `${NAME}` in the value is filled from the environment.
    pub expands: bool,
    /// The section of `--help` it is listed in.
    pub heading: Heading,
    /// One line: `-h` and the README's table.
    pub summary: &'static str,
    /// What `--help` adds to the summary.
    pub help: &'static str,
}

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Nothing: on when given (its variable takes a boolean).
    Switch,
    /// Nothing, and may be given many times (curl's no-op flags).
    Count,
    /// One value (the last one given wins).
    One(&'static str),
    /// A value each time it is given, in order.
    Many(&'static str),
    /// The positional targets.
    Targets(&'static str),
    /// The command after `--`, verbatim.
    Command(&'static str),
}

/// How a flag's environment variable holds its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvForm {
    /// One value, read by clap (so `value_source` says where it came from).
    Whole,
    /// Several values separated by whitespace.
    Words,
    /// One value per line, or separated by the two characters `\n` (a
    /// Dockerfile `ENV` line cannot hold a newline).
    Lines,
}

/// The value of a flag that is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// No value.
    None,
    /// This text, parsed as if it had been given.
    Value(&'static str),
    /// Something the config layer works out, in words (`the --timeout`).
    Note(&'static str),
}

/// The section of `--help` a flag is listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heading {
    /// The first one.
    Options,
    /// Supervising the command after `--`.
    Supervise,
    /// curl's flags that are accepted and do nothing.
    Curl,
}

impl Heading {
    /// The heading as `--help` prints it.
    pub fn title(self) -> Option<&'static str> {
        match self {
            Heading::Options => None,
            Heading::Supervise => {
                Some("Supervising the command after -- (startup, liveness and readiness probes)")
            }
            Heading::Curl => Some("curl compatibility"),
        }
    }
}

/// The fields every definition starts from.
const BASE: Flag = Flag {
    id: "",
    long: None,
    short: None,
    aliases: &[],
    short_aliases: &[],
    value: Value::Switch,
    env: None,
    env_form: EnvForm::Whole,
    env_fallback: None,
    default: DefaultValue::None,
    expands: false,
    heading: Heading::Options,
    summary: "",
    help: "",
};

/// Defines each flag as a constant, and [`ALL`] in the order `--help`
/// lists them.
macro_rules! flags {
    ($($(#[$doc:meta])* $name:ident = { $($field:ident: $value:expr),* $(,)? })*) => {
        $(
            $(#[$doc])*
            pub const $name: Flag = Flag { $($field: $value,)* ..BASE };
        )*
        /// Every flag, in the order `--help` lists them.
        pub const ALL: &[&Flag] = &[$(&$name),*];
    };
}

flags! {
    /// The targets.
    TARGETS = {
        id: "targets",
        value: Value::Targets("TARGET"),
        env: Some("HEALTHPROBE_URL"),
        env_form: EnvForm::Words,
        expands: true,
        summary: "what to check",
        help: "http://… or https://… URLs, tcp://host:port (healthy when a TCP connection \
               opens), grpc:// or grpcs://host:port[/SERVICE] (the grpc.health.v1 check), \
               exec:COMMAND ARG… (run without a shell, healthy when it exits 0 within the \
               deadline, killed with its process group after it; its words split at \
               spaces), host:port[/path] (read as http://, as curl does), or a bare path such as \
               /health meaning http://{--host}:{--port}/health. ${NAME} and \
               ${NAME:-default} are filled from the environment here and in every flag \
               that says so ($$ is a literal $). Several targets are checked concurrently \
               within the one deadline; the result is healthy only when all are.",
    }
    /// `--host`.
    HOST = {
        id: "host",
        long: Some("host"),
        value: Value::One("HOST"),
        env: Some("HEALTHPROBE_HOST"),
        default: DefaultValue::Value("127.0.0.1"),
        expands: true,
        summary: "host for bare-path targets",
    }
    /// `--port`.
    PORT = {
        id: "port",
        long: Some("port"),
        value: Value::One("PORT"),
        env: Some("HEALTHPROBE_PORT"),
        env_fallback: Some("PORT"),
        expands: true,
        summary: "port for bare-path targets",
        help: "A HEALTHPROBE_PORT of the form tcp://… (the variable Kubernetes injects for \
               a Service named healthprobe) is ignored.",
    }
    /// `-t`, `--timeout`.
    TIMEOUT = {
        id: "timeout",
        long: Some("timeout"),
        short: Some('t'),
        aliases: &["max-time"],
        short_aliases: &['m'],
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_TIMEOUT"),
        default: DefaultValue::Value("5s"),
        summary: "one total deadline: resolve, connect, TLS, request, response headers, \
                  body (`500ms`, `2s`, or `3` seconds)",
        help: "curl's -m/--max-time SECONDS works as it is. Keep it below Docker's \
               HEALTHCHECK --timeout, so that a slow service is reported by this line.",
    }
    /// `--connect-timeout`.
    CONNECT_TIMEOUT = {
        id: "connect_timeout",
        long: Some("connect-timeout"),
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_CONNECT_TIMEOUT"),
        default: DefaultValue::Note("the timeout"),
        summary: "deadline for the connection setup: TCP, a proxy's CONNECT, the TLS \
                  handshake",
    }
    /// `-X`, `--method`.
    METHOD = {
        id: "method",
        long: Some("method"),
        short: Some('X'),
        value: Value::One("GET|HEAD"),
        env: Some("HEALTHPROBE_METHOD"),
        default: DefaultValue::Value("GET"),
        summary: "request method",
    }
    /// `-I`, `--head`.
    HEAD = {
        id: "head",
        long: Some("head"),
        short: Some('I'),
        summary: "send HEAD (curl's `-I`)",
        help: "The status alone is judged; the same as -X HEAD.",
    }
    /// `-H`, `--header`.
    HEADERS = {
        id: "headers",
        long: Some("header"),
        short: Some('H'),
        value: Value::Many("'Name: value'"),
        env: Some("HEALTHPROBE_HEADERS"),
        env_form: EnvForm::Lines,
        expands: true,
        summary: "request header (gRPC metadata for `grpc://`), repeatable",
        help: "'Host: x' sets the Host header. The value of a sensitive header \
               (Authorization, Cookie, X-Api-Key, …) is never printed.",
    }
    /// `-u`, `--user`.
    USER = {
        id: "user",
        long: Some("user"),
        short: Some('u'),
        value: Value::One("USER:PASSWORD"),
        env: Some("HEALTHPROBE_USER"),
        expands: true,
        summary: "Basic credentials; the password is never printed",
        help: "As curl's -u; an explicit -H 'Authorization: …' wins.",
    }
    /// `-A`, `--user-agent`.
    USER_AGENT = {
        id: "user_agent",
        long: Some("user-agent"),
        short: Some('A'),
        value: Value::One("TEXT"),
        env: Some("HEALTHPROBE_USER_AGENT"),
        default: DefaultValue::Value(concat!("healthprobe/", env!("CARGO_PKG_VERSION"))),
        summary: "User-Agent header",
    }
    /// `--expect-status`.
    EXPECT_STATUS = {
        id: "expect_status",
        long: Some("expect-status"),
        value: Value::One("LIST"),
        env: Some("HEALTHPROBE_EXPECT_STATUS"),
        default: DefaultValue::Value("200-399"),
        summary: "healthy status codes, e.g. `200,204,301-302`",
        help: "The default is the Kubernetes httpGet rule: 200 ≤ status < 400.",
    }
    /// `--expect-body`.
    EXPECT_BODY = {
        id: "expect_body",
        long: Some("expect-body"),
        value: Value::One("TEXT"),
        env: Some("HEALTHPROBE_EXPECT_BODY"),
        expands: true,
        summary: "the body read must contain TEXT",
        help: "Only the first --max-body bytes are read.",
    }
    /// `--expect-json`.
    EXPECT_JSON = {
        id: "expect_json",
        long: Some("expect-json"),
        value: Value::Many("POINTER=VALUE"),
        env: Some("HEALTHPROBE_EXPECT_JSON"),
        env_form: EnvForm::Lines,
        expands: true,
        summary: "the JSON value at the RFC 6901 pointer equals VALUE; repeatable",
        help: "e.g. /status=ok; true, 42 and null compare as JSON.",
    }
    /// `--max-body`.
    MAX_BODY = {
        id: "max_body",
        long: Some("max-body"),
        value: Value::One("SIZE"),
        env: Some("HEALTHPROBE_MAX_BODY"),
        default: DefaultValue::Value("64KiB"),
        summary: "body bytes read at most, then the connection is dropped",
        help: "e.g. 64KiB, 10k, 1MiB, or bytes.",
    }
    /// `--max-redirs`.
    MAX_REDIRS = {
        id: "max_redirs",
        long: Some("max-redirs"),
        value: Value::One("N"),
        env: Some("HEALTHPROBE_MAX_REDIRS"),
        default: DefaultValue::Value("10"),
        summary: "same-host redirects followed; `0` judges every 3xx itself",
        help: "To the same host only (ports ignored, the Kubernetes rule); a redirect \
               elsewhere is judged as the 3xx it is. curl's name; -L is accepted.",
    }
    /// `-x`, `--proxy`.
    PROXY = {
        id: "proxy",
        long: Some("proxy"),
        short: Some('x'),
        value: Value::One("URL"),
        env: Some("HEALTHPROBE_PROXY"),
        summary: "an HTTP proxy (`[http://][USER:PASSWORD@]HOST[:PORT]`, port 1080 by \
                  default); proxy variables such as `http_proxy` are always ignored",
        help: "Requests go through it with CONNECT (curl's -x/--proxy); socks and https \
               proxies are refused. http_proxy, HTTPS_PROXY, ALL_PROXY and NO_PROXY are \
               never read.",
    }
    /// `--resolve`.
    RESOLVE = {
        id: "resolve",
        long: Some("resolve"),
        value: Value::Many("HOST:PORT:ADDR[,ADDR]"),
        summary: "connect to these addresses for HOST:PORT (as curl)",
        help: "e.g. app.internal:443:127.0.0.1 or localhost:8000:[::1],127.0.0.1, tried in \
               that order; repeatable.",
    }
    /// `-4`, `--ipv4`.
    IPV4 = {
        id: "ipv4",
        long: Some("ipv4"),
        short: Some('4'),
        env: Some("HEALTHPROBE_IPV4"),
        summary: "try IPv4 addresses only",
    }
    /// `-6`, `--ipv6`.
    IPV6 = {
        id: "ipv6",
        long: Some("ipv6"),
        short: Some('6'),
        env: Some("HEALTHPROBE_IPV6"),
        summary: "try IPv6 addresses only",
    }
    /// `--wait`.
    WAIT = {
        id: "wait",
        long: Some("wait"),
        aliases: &["retry-max-time"],
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_WAIT"),
        summary: "keep probing until every target is healthy or DURATION has passed",
        help: "For CI jobs and entrypoints; each attempt still has its own --timeout. \
               curl's --retry-max-time is this flag.",
    }
    /// `--interval`.
    INTERVAL = {
        id: "interval",
        long: Some("interval"),
        aliases: &["retry-delay"],
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_INTERVAL"),
        default: DefaultValue::Value("1s"),
        summary: "pause between attempts",
        help: "A fixed pause, not curl's doubling one; curl's --retry-delay is this flag.",
    }
    /// `--retry`.
    RETRY = {
        id: "retry",
        long: Some("retry"),
        value: Value::One("N"),
        env: Some("HEALTHPROBE_RETRY"),
        summary: "at most N+1 attempts (curl's `--retry` on the wait loop)",
        help: "Every failure is retried (refused, timeout, DNS, a status outside the \
               healthy set), so --retry-connrefused changes nothing. Stops at the first \
               healthy result, after N+1 attempts, or at the end of --wait, whichever comes \
               first.",
    }
    /// `--startup`.
    STARTUP = {
        id: "startup",
        long: Some("startup"),
        value: Value::Many("TARGET"),
        env: Some("HEALTHPROBE_STARTUP"),
        env_form: EnvForm::Words,
        expands: true,
        heading: Heading::Supervise,
        summary: "startup probe of the command after `--`, which then runs supervised; \
                  repeatable",
        help: "TARGET is checked every --startup-period until healthy; \
               --startup-failure-threshold failures in a row stop the command. All must be \
               healthy; any target kind, with every request flag.",
    }
    /// `--liveness`.
    LIVENESS = {
        id: "liveness",
        long: Some("liveness"),
        value: Value::Many("TARGET"),
        env: Some("HEALTHPROBE_LIVENESS"),
        env_form: EnvForm::Words,
        expands: true,
        heading: Heading::Supervise,
        summary: "liveness probe of the supervised command: `--failure-threshold` failures \
                  in a row stop it, healthprobe exits 1; repeatable",
        help: "Checked every --period once startup has succeeded; the stop is SIGTERM to \
               the command's process group, SIGKILL after --termination-grace-period, so \
               that Docker's restart policy restarts the container.",
    }
    /// `--readiness`.
    READINESS = {
        id: "readiness",
        long: Some("readiness"),
        value: Value::Many("TARGET"),
        env: Some("HEALTHPROBE_READINESS"),
        env_form: EnvForm::Words,
        expands: true,
        heading: Heading::Supervise,
        summary: "readiness probe of the supervised command: decides `--status`, never \
                  stops the command; repeatable",
        help: "Checked every --period once startup has succeeded: --failure-threshold \
               failures in a row make the command not ready, --success-threshold successes \
               in a row ready again. Docker's HEALTHCHECK CMD [\"/healthprobe\", \"--status\"] \
               then follows it.",
    }
    /// `--probes`.
    PROBES = {
        id: "probes",
        long: Some("probes"),
        value: Value::One("FILE"),
        env: Some("HEALTHPROBE_PROBES"),
        heading: Heading::Supervise,
        summary: "the probes of the command after `--`, from a Kubernetes spec (YAML or \
                  JSON): `startupProbe`, `livenessProbe`, `readinessProbe`, or `healthChecks`",
        help: "A container's fields, or a whole Pod, Deployment, StatefulSet, DaemonSet, \
               ReplicaSet, Job or CronJob manifest (the container named by --container, or \
               the first); or a deployment spec's healthChecks (readiness, liveness, \
               startup, each with path and port). Kubernetes' defaults and validation; \
               request flags apply where the file says nothing.",
    }
    /// `--container`.
    CONTAINER = {
        id: "container",
        long: Some("container"),
        value: Value::One("NAME"),
        env: Some("HEALTHPROBE_CONTAINER"),
        default: DefaultValue::Note("the first"),
        heading: Heading::Supervise,
        summary: "the container of a `--probes` manifest whose probes are taken",
    }
    /// `--period`.
    PERIOD = {
        id: "period",
        long: Some("period"),
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_PERIOD"),
        default: DefaultValue::Value("10s"),
        heading: Heading::Supervise,
        summary: "time between the checks of a liveness or readiness probe (periodSeconds)",
        help: "Each attempt is bounded by --timeout.",
    }
    /// `--failure-threshold`.
    FAILURE_THRESHOLD = {
        id: "failure_threshold",
        long: Some("failure-threshold"),
        value: Value::One("N"),
        env: Some("HEALTHPROBE_FAILURE_THRESHOLD"),
        default: DefaultValue::Value("3"),
        heading: Heading::Supervise,
        summary: "failures in a row that fail a liveness (stop the command) or readiness \
                  probe (not ready) (failureThreshold)",
        help: "One success resets the count.",
    }
    /// `--success-threshold`.
    SUCCESS_THRESHOLD = {
        id: "success_threshold",
        long: Some("success-threshold"),
        value: Value::One("N"),
        env: Some("HEALTHPROBE_SUCCESS_THRESHOLD"),
        default: DefaultValue::Value("1"),
        heading: Heading::Supervise,
        summary: "readiness successes in a row that make the command ready again \
                  (successThreshold)",
    }
    /// `--startup-period`.
    STARTUP_PERIOD = {
        id: "startup_period",
        long: Some("startup-period"),
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_STARTUP_PERIOD"),
        default: DefaultValue::Note("the `--period`"),
        heading: Heading::Supervise,
        summary: "time between startup attempts",
    }
    /// `--startup-failure-threshold`.
    STARTUP_FAILURE_THRESHOLD = {
        id: "startup_failure_threshold",
        long: Some("startup-failure-threshold"),
        value: Value::One("N"),
        env: Some("HEALTHPROBE_STARTUP_FAILURE_THRESHOLD"),
        default: DefaultValue::Note("the `--failure-threshold`"),
        heading: Heading::Supervise,
        summary: "startup failures in a row that stop the command",
    }
    /// `--initial-delay`.
    INITIAL_DELAY = {
        id: "initial_delay",
        long: Some("initial-delay"),
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_INITIAL_DELAY"),
        default: DefaultValue::Value("0s"),
        heading: Heading::Supervise,
        summary: "from the command's start to its first probe (initialDelaySeconds)",
    }
    /// `--termination-grace-period`.
    TERMINATION_GRACE_PERIOD = {
        id: "termination_grace_period",
        long: Some("termination-grace-period"),
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_TERMINATION_GRACE_PERIOD"),
        default: DefaultValue::Value("30s"),
        heading: Heading::Supervise,
        summary: "between SIGTERM and SIGKILL when a probe stops the command",
        help: "Kubernetes' terminationGracePeriodSeconds.",
    }
    /// `--pre-stop-sleep`.
    PRE_STOP_SLEEP = {
        id: "pre_stop_sleep",
        long: Some("pre-stop-sleep"),
        value: Value::One("DURATION"),
        env: Some("HEALTHPROBE_PRE_STOP_SLEEP"),
        default: DefaultValue::Value("0s"),
        heading: Heading::Supervise,
        summary: "on a stop, time between turning not ready and signalling the command \
                  (Kubernetes' preStop sleep)",
        help: "So that load balancers stop sending traffic first. On SIGTERM, or when a \
               probe stops the command; it counts against Docker's stop timeout.",
    }
    /// `--stop-signal`.
    STOP_SIGNAL = {
        id: "stop_signal",
        long: Some("stop-signal"),
        value: Value::One("SIGNAL"),
        env: Some("HEALTHPROBE_STOP_SIGNAL"),
        default: DefaultValue::Value("SIGTERM"),
        heading: Heading::Supervise,
        summary: "the signal the command gets to stop (Docker's `STOPSIGNAL`), e.g. \
                  `SIGQUIT` for nginx",
        help: "Sent instead of SIGTERM, when a probe stops the command and when \
               healthprobe is asked to stop (SIGTERM, SIGINT).",
    }
    /// `--status`.
    STATUS = {
        id: "status",
        long: Some("status"),
        heading: Heading::Supervise,
        summary: "ask the supervisor in this container: exit 0 when ready, 1 otherwise",
        help: "For HEALTHCHECK CMD [\"/healthprobe\", \"--status\"]: no second probe of the \
               application. Ready is the readiness probe's verdict; without one, startup \
               succeeded and liveness passing. -o json prints each probe's state and its \
               last 100 results. Exits 1 at once when no supervisor answers.",
    }
    /// `--status-socket`.
    STATUS_SOCKET = {
        id: "status_socket",
        long: Some("status-socket"),
        value: Value::One("PATH"),
        env: Some("HEALTHPROBE_STATUS_SOCKET"),
        default: DefaultValue::Note("one per PID namespace"),
        heading: Heading::Supervise,
        summary: "the Unix socket a supervisor answers `--status` on",
        help: "By default an abstract socket named after the PID namespace, so that a \
               supervisor is found in its container with no configuration (read-only, \
               any user, --network host). Only the supervisor's own user may ask.",
    }
    /// `--unix-socket`.
    UNIX_SOCKET = {
        id: "unix_socket",
        long: Some("unix-socket"),
        value: Value::One("PATH"),
        env: Some("HEALTHPROBE_UNIX_SOCKET"),
        summary: "send HTTP requests over this Unix socket",
        help: "The URL still gives the Host header and the path (as curl's option of the \
               same name).",
    }
    /// `-k`, `--insecure`.
    INSECURE = {
        id: "insecure",
        long: Some("insecure"),
        short: Some('k'),
        env: Some("HEALTHPROBE_INSECURE"),
        summary: "no TLS certificate or name verification",
        help: "What a Kubernetes HTTPS probe does; the report says \"(insecure)\".",
    }
    /// `--cacert`.
    CACERT = {
        id: "cacert",
        long: Some("cacert"),
        value: Value::One("FILE"),
        env: Some("HEALTHPROBE_CACERT"),
        default: DefaultValue::Note("bundled Mozilla roots"),
        summary: "trust these PEM CA certificates instead",
        help: "As curl's --cacert.",
    }
    /// `--cert`.
    CERT = {
        id: "cert",
        long: Some("cert"),
        value: Value::One("FILE"),
        env: Some("HEALTHPROBE_CERT"),
        summary: "client certificate (PEM) for mutual TLS",
        help: "The key may be in the same file.",
    }
    /// `--key`.
    KEY = {
        id: "key",
        long: Some("key"),
        value: Value::One("FILE"),
        env: Some("HEALTHPROBE_KEY"),
        summary: "private key (PEM) of `--cert`",
    }
    /// `--servername`.
    SERVERNAME = {
        id: "servername",
        long: Some("servername"),
        value: Value::One("NAME"),
        env: Some("HEALTHPROBE_SERVERNAME"),
        default: DefaultValue::Note("the URL's host"),
        expands: true,
        summary: "TLS SNI and verification name",
        help: "For targets given by IP address (https://127.0.0.1:8443 with a certificate \
               for app.internal). The Host header keeps the URL's host.",
    }
    /// `-o`, `--output`.
    OUTPUT = {
        id: "output",
        long: Some("output"),
        short: Some('o'),
        value: Value::One("text|json|FILE"),
        env: Some("HEALTHPROBE_OUTPUT"),
        default: DefaultValue::Value("text"),
        summary: "report format; a value with a `/` or `.` is a file for the body",
        help: "As in curl, a FILE gets the body read (up to --max-body) and the report \
               stays text, so curl's `-o /dev/null` works as it is.",
    }
    /// `-q`, `--quiet`.
    QUIET = {
        id: "quiet",
        long: Some("quiet"),
        short: Some('q'),
        env: Some("HEALTHPROBE_QUIET"),
        summary: "no report; the exit status tells",
    }
    /// `-v`, `--verbose`.
    VERBOSE = {
        id: "verbose",
        long: Some("verbose"),
        short: Some('v'),
        env: Some("HEALTHPROBE_VERBOSE"),
        summary: "phases, timings and heads on stderr (secrets masked)",
    }
    /// curl's `-f -s -S -L`: accepted, nothing to do.
    CURL_NO_OP = {
        id: "curl_no_op",
        long: Some("fail"),
        short: Some('f'),
        short_aliases: &['s', 'S', 'L'],
        aliases: &[
            "silent",
            "show-error",
            "location",
            "follow-redirects",
            "fail-with-body",
            "retry-connrefused",
        ],
        value: Value::Count,
        heading: Heading::Curl,
        summary: "curl's; accepted, nothing to do",
        help: "A status outside the healthy set is always unhealthy, there is no progress \
               meter (the report is one line; -q for none), failures are always reported, \
               same-host redirects are followed (--max-redirs), and --retry retries refused \
               connections too. (-w/--write-out and --compressed are refused: -o json has \
               the status code, the time and the reason.)",
    }
    /// The command after `--`.
    COMMAND = {
        id: "command",
        value: Value::Command("CMD"),
        summary: "once every target is healthy, run CMD in place of healthprobe; with \
                  probes (`--startup`, `--liveness`, `--readiness`, `--probes`), as a \
                  supervised child",
        help: "It replaces healthprobe (same PID, looked up on PATH), with its arguments \
               verbatim; it is never started when a target is unhealthy. Supervised, \
               signals are forwarded to it, orphans are reaped, and healthprobe exits with \
               its status.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_names_and_variables_are_unique() {
        let (mut ids, mut seen) = (
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
        );
        for flag in ALL {
            assert!(ids.insert(flag.id), "id {} twice", flag.id);
            for name in flag.long.iter().chain(flag.aliases) {
                assert!(seen.insert(*name), "--{name} twice");
            }
            if let Some(env) = flag.env {
                assert!(seen.insert(env), "{env} twice");
                assert!(env.starts_with("HEALTHPROBE_"), "{env}");
            }
            assert!(!flag.summary.is_empty(), "{} has no summary", flag.id);
        }
    }
}
