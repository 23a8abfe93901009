//! `--probes FILE`: the probes of the supervised command from a spec the
//! user already has, YAML or JSON (JSON is YAML 1.2; serde-saphyr parses
//! both, in pure Rust, never panicking, with line numbers), in one of two
//! shapes told apart by their keys:
//!
//! - Kubernetes' container fields: `startupProbe`, `livenessProbe`,
//!   `readinessProbe` (each with exactly one handler: `httpGet`,
//!   `tcpSocket`, `grpc` or `exec`) and `lifecycle.preStop.sleep`; also
//!   inside a whole Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
//!   Job or CronJob manifest (the container named by `--container`, or the
//!   first), whose `terminationGracePeriodSeconds` is then the grace;
//! - a deployment spec's `healthChecks` (seed 001: `readiness`, `liveness`,
//!   `startup`, each an HTTP check with `path` and `port`).
//!
//! Kubernetes' defaults and validation apply (period 10 s, timeout 1 s,
//! failureThreshold 3, successThreshold 1 and only 1 for liveness and
//! startup, every count at least 1). Whatever is wrong is refused in one
//! line naming the file, the line and the field.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use ureq::http::{HeaderName, HeaderValue};

use super::target::Target;
use super::values::Header;
use crate::redact::Secrets;

/// The three Kubernetes probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeKind {
    /// Gates the others; failing its threshold stops the command.
    Startup,
    /// Failing its threshold stops the command.
    Liveness,
    /// Decides readiness (`--status`); never stops the command.
    Readiness,
}

impl ProbeKind {
    /// `startup`, `liveness`, `readiness`.
    pub fn name(self) -> &'static str {
        match self {
            ProbeKind::Startup => "startup",
            ProbeKind::Liveness => "liveness",
            ProbeKind::Readiness => "readiness",
        }
    }
}

/// One probe, as Kubernetes defines one: what it checks and when.
// Read by the supervisor, which is Unix only.
#[cfg_attr(not(unix), allow(dead_code))]
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// Which of the three.
    pub kind: ProbeKind,
    /// What it checks; healthy when all are (one target from a file).
    pub targets: Vec<Target>,
    /// From the command's start to the first check (initialDelaySeconds).
    pub initial_delay: Duration,
    /// Between the starts of two checks (periodSeconds).
    pub period: Duration,
    /// One check's deadline (timeoutSeconds).
    pub timeout: Duration,
    /// Successes in a row that make a failing probe pass (successThreshold).
    pub success_threshold: u32,
    /// Failures in a row that make a probe fail (failureThreshold).
    pub failure_threshold: u32,
    /// This probe's stop: SIGKILL this long after the stop signal
    /// (the probe's terminationGracePeriodSeconds).
    pub grace_period: Option<Duration>,
    /// Request headers of this probe (httpGet.httpHeaders), before `-H`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// What a probes file gives.
#[derive(Debug, Default)]
pub struct FileProbes {
    /// The probes, at most one of each kind.
    pub probes: Vec<ProbeSpec>,
    /// `lifecycle.preStop.sleep.seconds`.
    pub pre_stop_sleep: Option<Duration>,
    /// A manifest's pod `terminationGracePeriodSeconds`.
    pub grace_period: Option<Duration>,
}

/// Kubernetes' default periodSeconds.
const PERIOD: u64 = 10;
/// Kubernetes' default timeoutSeconds.
const TIMEOUT: u64 = 1;
/// Kubernetes' default failureThreshold.
const FAILURE_THRESHOLD: u64 = 3;
/// The largest file read, in bytes.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The probes of `file` (its text `text`): the container named
/// `container` of a manifest, or the first; `port` is the port of a
/// `healthChecks` entry that names none (`--port`, `PORT`).
///
/// # Errors
/// One line naming the file, the line and the field: not YAML or JSON,
/// an unknown field, no handler or two, a named port, a number out of
/// range, a container that is not there.
pub fn parse(
    file: &str,
    text: &str,
    container: Option<&str>,
    port: Option<u16>,
    secrets: &Secrets,
) -> Result<FileProbes> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).map_err(|e| {
        let first = e.to_string();
        let first = first
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        match first
            .strip_prefix("line ")
            .and_then(|rest| rest.split_once(' '))
        {
            Some((line, rest)) => anyhow!(
                "{file}:{line}: not YAML or JSON: {}",
                rest.split_once(": ").map_or(rest, |(_, m)| m)
            ),
            None => anyhow!("{file}: not YAML or JSON: {first}"),
        }
    })?;
    let doc = Doc { file, secrets };
    let top = doc.map(&root, "")?;
    if let Some(checks) = top.get("healthChecks") {
        if container.is_some() {
            bail!(
                "{file}: --container applies to a Kubernetes manifest, and this is a healthChecks spec"
            );
        }
        // A sibling `port` is the port of the image, which Paperspace's
        // health checks default to.
        let port = match top.get("port") {
            Some(node) => Some(doc.port(node, "port")?),
            None => port,
        };
        return doc.health_checks(checks, port);
    }
    match top.get("kind") {
        Some(kind) => doc.manifest(&top, kind, container),
        None => {
            if let (Some(want), Some(name)) = (container, top.get("name")) {
                let name = doc.string(name, "name")?;
                if name != want {
                    bail!("{file}: the container is {name:?}, not {want:?} (--container)");
                }
            }
            doc.container(&root, "", None)
        }
    }
}

/// Reads a probes file: at most 4 MiB, UTF-8.
///
/// # Errors
/// It cannot be read, is larger, or is not UTF-8.
pub fn read(path: &std::path::Path) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!("larger than 4 MiB");
    }
    String::from_utf8(bytes).map_err(|_| anyhow!("not UTF-8"))
}

/// A YAML (or JSON) value, each part with where it stands in the file.
#[derive(Debug)]
enum Node {
    Map(Vec<(String, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Str(String),
    Int(i64),
    Float,
    Bool,
    Null,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML or JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Bool)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float, Node::Int))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Float)
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Spanned<Node>>()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping of the file, with its path (`livenessProbe.httpGet`).
struct Fields<'a> {
    entries: &'a [(String, Spanned<Node>)],
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Spanned<Node>> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// The file being read, for messages.
struct Doc<'a> {
    file: &'a str,
    secrets: &'a Secrets,
}

/// The keys a Kubernetes container may have besides its probes and
/// lifecycle: taken as they are, since a container copied from a manifest
/// has them, and unread.
const CONTAINER_FIELDS: &[&str] = &[
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "env",
    "envFrom",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "volumeMounts",
    "volumeDevices",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
];

/// The fields of a Kubernetes probe besides its handler.
const PROBE_FIELDS: &[&str] = &[
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "successThreshold",
    "failureThreshold",
    "terminationGracePeriodSeconds",
];

/// The handlers of a Kubernetes probe.
const HANDLERS: &[&str] = &["httpGet", "tcpSocket", "grpc", "exec"];

/// `prefix.key`, or `key` at the top.
fn join(prefix: &str, key: &str) -> String {
    match prefix.is_empty() {
        true => key.to_string(),
        false => format!("{prefix}.{key}"),
    }
}

impl Doc<'_> {
    /// The error at `node`: `FILE:LINE: PATH: message`.
    fn error(
        &self,
        node: &Spanned<Node>,
        path: &str,
        message: impl std::fmt::Display,
    ) -> anyhow::Error {
        let line = node.referenced.line();
        match path.is_empty() {
            true => anyhow!("{}:{line}: {message}", self.file),
            false => anyhow!("{}:{line}: {path}: {message}", self.file),
        }
    }

    fn map<'n>(&self, node: &'n Spanned<Node>, path: &str) -> Result<Fields<'n>> {
        match &node.value {
            Node::Map(entries) => Ok(Fields { entries }),
            _ => Err(self.error(node, path, "is not a mapping")),
        }
    }

    /// The mapping at `node`, with no key but `known`.
    fn strict<'n>(
        &self,
        node: &'n Spanned<Node>,
        path: &str,
        known: &[&str],
    ) -> Result<Fields<'n>> {
        let fields = self.map(node, path)?;
        for (key, value) in fields.entries {
            if !known.contains(&key.as_str()) {
                return Err(self.error(
                    value,
                    &join(path, key),
                    format!("unknown field (expected one of {})", known.join(", ")),
                ));
            }
        }
        Ok(fields)
    }

    fn string(&self, node: &Spanned<Node>, path: &str) -> Result<String> {
        match &node.value {
            Node::Str(s) => Ok(s.clone()),
            Node::Int(_) | Node::Float | Node::Bool | Node::Null => Err(self.error(
                node,
                path,
                "is not a string (YAML reads true, 42 and null unquoted: quote it)",
            )),
            _ => Err(self.error(node, path, "is not a string")),
        }
    }

    /// A whole number of `min` or more, at most an int32 (as Kubernetes).
    fn count(&self, node: &Spanned<Node>, path: &str, min: i64) -> Result<u64> {
        match node.value {
            Node::Int(n) if n >= min && n <= i64::from(i32::MAX) => Ok(n as u64),
            Node::Int(n) if n < min => {
                Err(self.error(node, path, format!("{n} is less than {min}")))
            }
            Node::Int(n) => Err(self.error(node, path, format!("{n} is more than {}", i32::MAX))),
            _ => Err(self.error(node, path, "is not a whole number")),
        }
    }

    /// A port number, 1-65535; a named port is refused (there is no
    /// container port list to look it up in).
    fn port(&self, node: &Spanned<Node>, path: &str) -> Result<u16> {
        match &node.value {
            Node::Int(n) if (1..=65535).contains(n) => Ok(*n as u16),
            Node::Int(n) => Err(self.error(node, path, format!("port {n} is outside 1-65535"))),
            Node::Str(name) => Err(self.error(
                node,
                path,
                format!("{name:?} is a named port; give its number (there is no container port list here)"),
            )),
            _ => Err(self.error(node, path, "is not a port number")),
        }
    }

    /// The probes and lifecycle of a container (`fields` at `path`).
    fn container(
        &self,
        node: &Spanned<Node>,
        path: &str,
        grace: Option<Duration>,
    ) -> Result<FileProbes> {
        let mut known: Vec<&str> = CONTAINER_FIELDS.to_vec();
        known.extend([
            "startupProbe",
            "livenessProbe",
            "readinessProbe",
            "lifecycle",
        ]);
        let fields = self.strict(node, path, &known)?;
        let mut found = FileProbes {
            grace_period: grace,
            ..FileProbes::default()
        };
        for (key, kind) in [
            ("startupProbe", ProbeKind::Startup),
            ("livenessProbe", ProbeKind::Liveness),
            ("readinessProbe", ProbeKind::Readiness),
        ] {
            if let Some(probe) = fields.get(key) {
                found
                    .probes
                    .push(self.probe(probe, &join(path, key), kind)?);
            }
        }
        if let Some(lifecycle) = fields.get("lifecycle") {
            found.pre_stop_sleep = self.lifecycle(lifecycle, &join(path, "lifecycle"))?;
        }
        if found.probes.is_empty() {
            return Err(self.error(
                node,
                path,
                "no probe: give startupProbe, livenessProbe or readinessProbe (or healthChecks)",
            ));
        }
        Ok(found)
    }

    /// `lifecycle`: only `preStop.sleep.seconds`.
    fn lifecycle(&self, node: &Spanned<Node>, path: &str) -> Result<Option<Duration>> {
        let fields = self.map(node, path)?;
        for (key, value) in fields.entries {
            if key != "preStop" {
                return Err(self.error(
                    value,
                    &join(path, key),
                    "not supported: healthprobe runs no lifecycle hook but preStop's sleep",
                ));
            }
        }
        let Some(pre_stop) = fields.get("preStop") else {
            return Ok(None);
        };
        let path = join(path, "preStop");
        let fields = self.map(pre_stop, &path)?;
        for (key, value) in fields.entries {
            if key != "sleep" {
                return Err(self.error(
                    value,
                    &join(&path, key),
                    "not supported: healthprobe's preStop is a sleep (--pre-stop-sleep)",
                ));
            }
        }
        let Some(sleep) = fields.get("sleep") else {
            return Ok(None);
        };
        let path = join(&path, "sleep");
        let fields = self.strict(sleep, &path, &["seconds"])?;
        let seconds = fields
            .get("seconds")
            .ok_or_else(|| self.error(sleep, &path, "no seconds"))?;
        Ok(Some(Duration::from_secs(self.count(
            seconds,
            &join(&path, "seconds"),
            0,
        )?)))
    }

    /// A Kubernetes probe.
    fn probe(&self, node: &Spanned<Node>, path: &str, kind: ProbeKind) -> Result<ProbeSpec> {
        let mut known = PROBE_FIELDS.to_vec();
        known.extend(HANDLERS);
        let fields = self.strict(node, path, &known)?;
        let (handler, headers) = self.one_handler(node, path, &fields)?;
        let timing = self.timing(&fields, path)?;
        if timing.success_threshold != 1 && kind != ProbeKind::Readiness {
            let node = fields.get("successThreshold").unwrap_or(node);
            return Err(self.error(
                node,
                &join(path, "successThreshold"),
                format!("must be 1 for a {} probe (Kubernetes' rule)", kind.name()),
            ));
        }
        Ok(ProbeSpec {
            kind,
            targets: vec![handler],
            grace_period: self.probe_grace(&fields, path, kind)?,
            headers,
            ..timing
        })
    }

    /// The one handler of a probe: exactly one of [`HANDLERS`].
    fn one_handler(
        &self,
        node: &Spanned<Node>,
        path: &str,
        fields: &Fields<'_>,
    ) -> Result<(Target, Vec<(HeaderName, HeaderValue)>)> {
        let handlers: Vec<&str> = HANDLERS
            .iter()
            .copied()
            .filter(|h| fields.get(h).is_some())
            .collect();
        match handlers[..] {
            [one] => {
                let handler_node = fields.get(one).ok_or_else(|| anyhow!("{one}"))?;
                self.handler(handler_node, &join(path, one), one)
            }
            [] => Err(self.error(
                node,
                path,
                "no handler: give one of httpGet, tcpSocket, grpc, exec",
            )),
            [first, second, ..] => Err(self.error(
                node,
                path,
                format!("two handlers ({first} and {second}): give one"),
            )),
        }
    }

    /// A probe's `terminationGracePeriodSeconds` (Kubernetes 1.28): not for
    /// readiness, which never stops the command.
    fn probe_grace(
        &self,
        fields: &Fields<'_>,
        path: &str,
        kind: ProbeKind,
    ) -> Result<Option<Duration>> {
        let path = join(path, "terminationGracePeriodSeconds");
        match fields.get("terminationGracePeriodSeconds") {
            Some(value) if kind == ProbeKind::Readiness => Err(self.error(
                value,
                &path,
                "not for a readiness probe, which never stops the command (Kubernetes' rule)",
            )),
            Some(value) => Ok(Some(Duration::from_secs(self.count(value, &path, 1)?))),
            None => Ok(None),
        }
    }

    /// A probe's handler, as a target, and its request headers.
    fn handler(
        &self,
        node: &Spanned<Node>,
        path: &str,
        which: &str,
    ) -> Result<(Target, Vec<(HeaderName, HeaderValue)>)> {
        match which {
            "httpGet" => self.http_get(node, path),
            "tcpSocket" => {
                let fields = self.strict(node, path, &["port", "host"])?;
                let port = self.required_port(node, &fields, path)?;
                let host = self.host(&fields, path)?;
                Ok((
                    self.target(node, path, format!("tcp://{host}:{port}"))?,
                    Vec::new(),
                ))
            }
            "grpc" => {
                let fields = self.strict(node, path, &["port", "service"])?;
                let port = self.required_port(node, &fields, path)?;
                let service = self.optional_string(&fields, path, "service", "")?;
                let url = format!("grpc://127.0.0.1:{port}/{service}");
                Ok((self.target(node, path, url)?, Vec::new()))
            }
            _ => Ok((self.exec(node, path)?, Vec::new())),
        }
    }

    /// A target from the URL a handler's fields make.
    fn target(&self, node: &Spanned<Node>, path: &str, url: String) -> Result<Target> {
        Target::parse(&url, "127.0.0.1", None).map_err(|e| self.error(node, path, format!("{e:#}")))
    }

    /// A string field, or `default` when it is absent.
    fn optional_string(
        &self,
        fields: &Fields<'_>,
        path: &str,
        name: &str,
        default: &str,
    ) -> Result<String> {
        match fields.get(name) {
            Some(value) => self.string(value, &join(path, name)),
            None => Ok(default.to_string()),
        }
    }

    /// `httpGet`: `scheme://host:port/path` and its `httpHeaders`.
    fn http_get(
        &self,
        node: &Spanned<Node>,
        path: &str,
    ) -> Result<(Target, Vec<(HeaderName, HeaderValue)>)> {
        let fields = self.strict(
            node,
            path,
            &["path", "port", "host", "scheme", "httpHeaders"],
        )?;
        let port = self.required_port(node, &fields, path)?;
        let host = self.host(&fields, path)?;
        let scheme = match fields.get("scheme") {
            Some(value) => match self.string(value, &join(path, "scheme"))?.as_str() {
                "HTTP" => "http",
                "HTTPS" => "https",
                other => {
                    let why = format!("{other:?} is not HTTP or HTTPS");
                    return Err(self.error(value, &join(path, "scheme"), why));
                }
            },
            None => "http",
        };
        let path_text = self.optional_string(&fields, path, "path", "/")?;
        let slash = if path_text.starts_with('/') { "" } else { "/" };
        let headers = match fields.get("httpHeaders") {
            Some(value) => self.headers(value, &join(path, "httpHeaders"))?,
            None => Vec::new(),
        };
        let url = format!("{scheme}://{host}:{port}{slash}{path_text}");
        Ok((self.target(node, path, url)?, headers))
    }

    /// `exec`: the command, each word with the kubelet's `$(VAR)` expanded.
    fn exec(&self, node: &Spanned<Node>, path: &str) -> Result<Target> {
        let fields = self.strict(node, path, &["command"])?;
        let command = fields
            .get("command")
            .ok_or_else(|| self.error(node, path, "no command"))?;
        let Node::Seq(words) = &command.value else {
            return Err(self.error(command, &join(path, "command"), "is not a list"));
        };
        let argv = words
            .iter()
            .map(|w| {
                self.string(w, &join(path, "command"))
                    .map(|s| kubelet_expand(&s))
            })
            .collect::<Result<Vec<_>>>()?;
        Target::exec(argv).map_err(|e| self.error(command, &join(path, "command"), e))
    }

    fn required_port(&self, node: &Spanned<Node>, fields: &Fields<'_>, path: &str) -> Result<u16> {
        match fields.get("port") {
            Some(value) => self.port(value, &join(path, "port")),
            None => Err(self.error(node, path, "no port")),
        }
    }

    /// `host`, or 127.0.0.1 (the pod IP's stand-in inside a container),
    /// IPv6 in brackets.
    fn host(&self, fields: &Fields<'_>, path: &str) -> Result<String> {
        let Some(value) = fields.get("host") else {
            return Ok("127.0.0.1".to_string());
        };
        let host = self.string(value, &join(path, "host"))?;
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ', '[', ']']) {
            return Err(self.error(
                value,
                &join(path, "host"),
                format!("{host:?} is not a host"),
            ));
        }
        Ok(match host.contains(':') {
            true => format!("[{host}]"),
            false => host,
        })
    }

    /// `httpHeaders: [{name, value}]`, each checked as `-H` is; the values
    /// of sensitive ones registered as secrets.
    fn headers(&self, node: &Spanned<Node>, path: &str) -> Result<Vec<(HeaderName, HeaderValue)>> {
        let Node::Seq(items) = &node.value else {
            return Err(self.error(node, path, "is not a list"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{path}[{i}]");
                let fields = self.strict(item, &path, &["name", "value"])?;
                let get = |key| match fields.get(key) {
                    Some(v) => self.string(v, &join(&path, key)),
                    None => Err(self.error(item, &path, format!("no {key}"))),
                };
                let (name, value) = (get("name")?, get("value")?);
                self.secrets.add_header(&name, &value);
                let header: Header = format!("{name}: {value}")
                    .parse()
                    .map_err(|e| self.error(item, &path, format!("{e:#}")))?;
                Ok((header.name, header.value))
            })
            .collect()
    }

    /// Seed 001's `healthChecks`: `readiness`, `liveness`, `startup`, each
    /// an HTTP check of `path` on `port` (or the default `port`).
    fn health_checks(&self, node: &Spanned<Node>, port: Option<u16>) -> Result<FileProbes> {
        let fields = self.strict(node, "healthChecks", &["readiness", "liveness", "startup"])?;
        let mut found = FileProbes::default();
        for (key, kind) in [
            ("startup", ProbeKind::Startup),
            ("liveness", ProbeKind::Liveness),
            ("readiness", ProbeKind::Readiness),
        ] {
            let Some(entry) = fields.get(key) else {
                continue;
            };
            let path = format!("healthChecks.{key}");
            found
                .probes
                .push(self.seed_check(entry, &path, kind, port)?);
        }
        if found.probes.is_empty() {
            return Err(self.error(
                node,
                "healthChecks",
                "no check: give readiness, liveness or startup",
            ));
        }
        Ok(found)
    }

    /// One check of seed 001's `healthChecks` (HTTP on 127.0.0.1): its
    /// `port`, else the file's or `--port`'s (`port`).
    fn seed_check(
        &self,
        entry: &Spanned<Node>,
        path: &str,
        kind: ProbeKind,
        port: Option<u16>,
    ) -> Result<ProbeSpec> {
        let fields = self.strict(
            entry,
            path,
            &[
                "path",
                "port",
                "initialDelaySeconds",
                "periodSeconds",
                "timeoutSeconds",
                "failureThreshold",
            ],
        )?;
        let port = match fields.get("port") {
            Some(value) => self.port(value, &join(path, "port"))?,
            None => port.ok_or_else(|| {
                self.error(
                    entry,
                    path,
                    "no port: give one here, at the top (port), or with --port",
                )
            })?,
        };
        let path_text = self.optional_string(&fields, path, "path", "/")?;
        let slash = if path_text.starts_with('/') { "" } else { "/" };
        let target = self.target(
            entry,
            path,
            format!("http://127.0.0.1:{port}{slash}{path_text}"),
        )?;
        Ok(ProbeSpec {
            kind,
            targets: vec![target],
            success_threshold: 1,
            grace_period: None,
            headers: Vec::new(),
            ..self.timing(&fields, path)?
        })
    }

    /// A probe's timing fields, Kubernetes' defaults where absent; the rest
    /// of the spec is the caller's.
    fn timing(&self, fields: &Fields<'_>, path: &str) -> Result<ProbeSpec> {
        let seconds = |key: &str, min: i64, default: u64| -> Result<u64> {
            match fields.get(key) {
                Some(value) => self.count(value, &join(path, key), min),
                None => Ok(default),
            }
        };
        Ok(ProbeSpec {
            kind: ProbeKind::Liveness,
            targets: Vec::new(),
            initial_delay: Duration::from_secs(seconds("initialDelaySeconds", 0, 0)?),
            period: Duration::from_secs(seconds("periodSeconds", 1, PERIOD)?),
            timeout: Duration::from_secs(seconds("timeoutSeconds", 1, TIMEOUT)?),
            success_threshold: seconds("successThreshold", 1, 1)? as u32,
            failure_threshold: seconds("failureThreshold", 1, FAILURE_THRESHOLD)? as u32,
            grace_period: None,
            headers: Vec::new(),
        })
    }

    /// A Kubernetes manifest: the container's probes, the pod's grace.
    fn manifest(
        &self,
        top: &Fields<'_>,
        kind: &Spanned<Node>,
        container: Option<&str>,
    ) -> Result<FileProbes> {
        let (path, pod, fields) = self.pod_spec(top, kind)?;
        let grace = match fields.get("terminationGracePeriodSeconds") {
            Some(value) => Some(Duration::from_secs(self.count(
                value,
                &join(&path, "terminationGracePeriodSeconds"),
                0,
            )?)),
            None => None,
        };
        let list_path = join(&path, "containers");
        let list = fields
            .get("containers")
            .ok_or_else(|| self.error(pod, &path, "no containers"))?;
        let Node::Seq(containers) = &list.value else {
            return Err(self.error(list, &list_path, "is not a list"));
        };
        let mut names = Vec::new();
        for (i, item) in containers.iter().enumerate() {
            let item_path = format!("{list_path}[{i}]");
            let fields = self.map(item, &item_path)?;
            let name = self.optional_string(&fields, &item_path, "name", "")?;
            if container.is_none_or(|want| want == name) {
                return self.container(item, &item_path, grace);
            }
            names.push(name);
        }
        let why = match container {
            Some(want) => format!(
                "no container named {want:?} (--container; there are {})",
                names.join(", ")
            ),
            None => "is empty".to_string(),
        };
        Err(self.error(list, &list_path, why))
    }

    /// The pod spec of a manifest of `kind`: its path, its node, its fields.
    fn pod_spec<'f>(
        &'f self,
        top: &Fields<'f>,
        kind: &'f Spanned<Node>,
    ) -> Result<(String, &'f Spanned<Node>, Fields<'f>)> {
        let kind_name = self.string(kind, "kind")?;
        let route: &[&str] = match kind_name.as_str() {
            "Pod" => &["spec"],
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                &["spec", "template", "spec"]
            }
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            other => {
                return Err(self.error(
                    kind,
                    "kind",
                    format!("{other:?}: give a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob"),
                ));
            }
        };
        let mut path = String::new();
        let mut node: Option<&Spanned<Node>> = None;
        let mut fields = Fields {
            entries: top.entries,
        };
        for key in route {
            let at = fields.get(key).ok_or_else(|| {
                let anchor = node.unwrap_or(kind);
                self.error(anchor, &path, format!("no {key}"))
            })?;
            path = join(&path, key);
            fields = self.map(at, &path)?;
            node = Some(at);
        }
        let pod = node.ok_or_else(|| anyhow!("{}: no pod spec", self.file))?;
        Ok((path, pod, fields))
    }
}

/// `$(VAR)` in an exec command filled from the environment, as the
/// kubelet fills it: `$$(VAR)` is a literal `$(VAR)`, and a variable that
/// is not set is left as it is.
fn kubelet_expand(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix("$(") {
            out.push_str("$(");
            rest = tail;
        } else if let Some(body) = after.strip_prefix('(')
            && let Some(end) = body.find(')')
        {
            let name = &body[..end];
            match std::env::var(name) {
                Ok(value) => out.push_str(&value),
                Err(_) => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes(text: &str) -> Result<FileProbes> {
        parse("p.yaml", text, None, None, &Secrets::default())
    }

    fn refused(text: &str) -> String {
        format!("{:#}", probes(text).expect_err(text))
    }

    const SEED: &str = "\
healthChecks:
  readiness:
    path: /readiness
    port: 8000
    periodSeconds: 10
    timeoutSeconds: 5
  liveness:
    path: /liveness
    port: 8000
  startup:
    path: /startup
    port: 8000
    periodSeconds: 10
    failureThreshold: 6
";

    #[test]
    fn the_seed_spec_reads_as_it_is() {
        let found = probes(SEED).expect("the seed's spec");
        let [startup, liveness, readiness] = &found.probes[..] else {
            panic!("{found:?}");
        };
        assert_eq!(startup.kind, ProbeKind::Startup);
        assert_eq!(startup.failure_threshold, 6);
        assert_eq!(startup.targets[0].url, "http://127.0.0.1:8000/startup");
        assert_eq!(
            (liveness.timeout, liveness.period),
            (Duration::from_secs(1), Duration::from_secs(10))
        );
        assert_eq!(liveness.failure_threshold, 3);
        assert_eq!(readiness.timeout, Duration::from_secs(5));
        assert_eq!(readiness.success_threshold, 1);
    }

    #[test]
    fn kubernetes_containers_and_manifests_read_their_probes() {
        let container = "\
name: app
image: example/app:1
livenessProbe:
  exec:
    command: [pg_isready, -h, 127.0.0.1]
  periodSeconds: 2
readinessProbe:
  httpGet: {path: ready, port: 8080, httpHeaders: [{name: X-Probe, value: '1'}]}
  successThreshold: 2
lifecycle:
  preStop: {sleep: {seconds: 5}}
";
        let found = probes(container).expect("a container");
        assert_eq!(
            found.probes[0].targets[0].url,
            "exec:pg_isready -h 127.0.0.1"
        );
        assert_eq!(
            found.probes[1].targets[0].url,
            "http://127.0.0.1:8080/ready"
        );
        assert_eq!(found.probes[1].success_threshold, 2);
        assert_eq!(found.probes[1].headers.len(), 1);
        assert_eq!(found.pre_stop_sleep, Some(Duration::from_secs(5)));
        let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  replicas: 2
  template:
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: sidecar
          image: s
        - name: app
          startupProbe: {tcpSocket: {port: 5432}, failureThreshold: 30}
          livenessProbe: {grpc: {port: 50051, service: app.Ready}}
";
        let found = parse("d.yaml", deployment, Some("app"), None, &Secrets::default())
            .expect("a deployment");
        assert_eq!(found.grace_period, Some(Duration::from_secs(45)));
        assert_eq!(found.probes[0].targets[0].url, "tcp://127.0.0.1:5432");
        assert_eq!(
            found.probes[1].targets[0].url,
            "grpc://127.0.0.1:50051/app.Ready"
        );
        let json =
            r#"{"livenessProbe": {"httpGet": {"port": 8000, "path": "/h"}, "timeoutSeconds": 2}}"#;
        assert_eq!(
            probes(json).expect("JSON").probes[0].timeout,
            Duration::from_secs(2)
        );
    }

    #[test]
    fn bad_files_are_refused_naming_the_file_the_line_and_the_field() {
        for (text, want) in [
            (
                "livenessProbe:\n  httpGet: {port: http}\n",
                "p.yaml:2: livenessProbe.httpGet.port: \"http\" is a named port",
            ),
            (
                "livenessProbe:\n  periodSecond: 3\n  tcpSocket: {port: 1}\n",
                "p.yaml:2: livenessProbe.periodSecond: unknown field",
            ),
            (
                "livenessProbe:\n  periodSeconds: 3\n",
                "p.yaml:2: livenessProbe: no handler",
            ),
            (
                "livenessProbe:\n  tcpSocket: {port: 1}\n  exec: {command: [x]}\n",
                "livenessProbe: two handlers (tcpSocket and exec)",
            ),
            (
                "livenessProbe:\n  tcpSocket: {port: 1}\n  periodSeconds: 0\n",
                "p.yaml:3: livenessProbe.periodSeconds: 0 is less than 1",
            ),
            (
                "livenessProbe:\n  tcpSocket: {port: 1}\n  successThreshold: 2\n",
                "must be 1 for a liveness probe",
            ),
            (
                "livenessProbe:\n  tcpSocket: {port: 1}\n  timeoutSeconds: '5'\n",
                "timeoutSeconds: is not a whole number",
            ),
            ("livenessProbe: [\n", "p.yaml:1: not YAML or JSON"),
            (
                "healthChecks:\n  readiness: {path: /r}\n",
                "healthChecks.readiness: no port",
            ),
            (
                "healthChecks:\n  ready: {path: /r, port: 1}\n",
                "healthChecks.ready: unknown field",
            ),
            ("kind: Service\nspec: {}\n", "kind: \"Service\""),
            ("image: x\n", "no probe"),
        ] {
            let error = refused(text);
            assert!(error.contains(want), "{text:?}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn exec_commands_are_filled_as_the_kubelet_fills_them() {
        // SAFETY: a variable only this test reads.
        unsafe { std::env::set_var("HEALTHPROBE_TEST_KUBELET", "v") };
        assert_eq!(kubelet_expand("a$(HEALTHPROBE_TEST_KUBELET)b"), "avb");
        assert_eq!(
            kubelet_expand("$$(HEALTHPROBE_TEST_KUBELET)"),
            "$(HEALTHPROBE_TEST_KUBELET)"
        );
        assert_eq!(
            kubelet_expand("$(NOT_SET_HERE_X) $5 $"),
            "$(NOT_SET_HERE_X) $5 $"
        );
    }
}
