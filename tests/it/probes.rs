//! Seed 001 whole: the three Kubernetes probes from a spec file (the
//! seed's `healthChecks`, a Kubernetes container, JSON), readiness in the
//! supervisor and `--status` asking it, exec probes, and the stop as
//! Kubernetes does it (pre-stop sleep, stop signal, a probe's own grace).
//! The children are real processes; the probes go to a server whose
//! answers the tests switch while it runs.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::support::{SLACK, Scripted, note, probe_command, response, status_socket, under_runner};

/// PATH for the command after `--` (the probe's environment is cleared).
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A server whose answer to each path the test sets while it runs (a
/// status, and a delay before it), recording each request's path, head and
/// time.
struct Switchboard {
    server: Scripted,
    answers: Arc<Mutex<HashMap<String, (u16, Duration)>>>,
    seen: Arc<Mutex<Vec<(Instant, String, String)>>>,
}

impl Switchboard {
    fn start(answers: &[(&str, u16)]) -> Switchboard {
        let answers: HashMap<String, (u16, Duration)> = answers
            .iter()
            .map(|(path, code)| (path.to_string(), (*code, Duration::ZERO)))
            .collect();
        let answers = Arc::new(Mutex::new(answers));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (plan, log) = (answers.clone(), seen.clone());
        let server = Scripted::start(move |mut c| {
            let path = c.request.split(' ').nth(1).unwrap_or("").to_string();
            log.lock()
                .unwrap()
                .push((Instant::now(), path.clone(), c.request.clone()));
            let (code, delay) = plan
                .lock()
                .unwrap()
                .get(&path)
                .copied()
                .unwrap_or((404, Duration::ZERO));
            if !c.pause(delay) {
                return;
            }
            let status = match code {
                200 => "200 OK",
                404 => "404 Not Found",
                _ => "503 Service Unavailable",
            };
            c.send(&response(status, "", "{}"));
        });
        Switchboard {
            server,
            answers,
            seen,
        }
    }

    fn set(&self, path: &str, code: u16) {
        self.answers
            .lock()
            .unwrap()
            .entry(path.to_string())
            .or_default()
            .0 = code;
    }

    fn delay(&self, path: &str, delay: Duration) {
        self.answers
            .lock()
            .unwrap()
            .entry(path.to_string())
            .or_default()
            .1 = delay;
    }

    fn port(&self) -> u16 {
        self.server.addr.port()
    }

    /// When `path` was asked, in order.
    fn times(&self, path: &str) -> Vec<Instant> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(_, p, _)| p == path)
            .map(|(t, _, _)| *t)
            .collect()
    }

    /// The request heads of `path`.
    fn heads(&self, path: &str) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(_, p, _)| p == path)
            .map(|(_, _, h)| h.clone())
            .collect()
    }
}

/// A directory of the test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("hp-probes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write a file");
        path.to_string_lossy().into_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A supervisor started now, with its `--status` socket.
struct Supervisor {
    child: Child,
    socket: String,
}

impl Supervisor {
    fn start(args: &[&str]) -> Supervisor {
        Self::start_with(&[], args)
    }

    fn start_with(env: &[(&str, &str)], args: &[&str]) -> Supervisor {
        let socket = status_socket();
        let child = probe_command()
            .env("PATH", PATH)
            .envs(env.iter().copied())
            .args(["--status-socket", &socket])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn healthprobe");
        Supervisor { child, socket }
    }

    /// `healthprobe --status` against this supervisor: its exit code and
    /// output.
    fn status(&self, json: bool) -> (Option<i32>, String) {
        let mut cmd = probe_command();
        cmd.args(["--status", "--status-socket", &self.socket]);
        if json {
            cmd.args(["-o", "json"]);
        }
        let out = cmd.output().expect("run --status");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Polls `--status` until it exits `code`; how long that took, or
    /// `None` after `max`.
    fn status_becomes(&self, code: i32, max: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < max {
            if self.status(false).0 == Some(code) {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits up to `max`: the exit code (`None`: killed) and stderr.
    fn finish(mut self, max: Duration) -> (Option<i32>, String) {
        let end = Instant::now() + max;
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status.code();
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        (code, stderr)
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with a pid this test started.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }
}

/// Seed 001's spec, its periods shortened to one second.
fn seed_yaml(port: u16) -> String {
    format!(
        "\
healthChecks:
  readiness:
    path: /readiness
    port: {port}
    periodSeconds: 1
    timeoutSeconds: 5
    failureThreshold: 2
  liveness:
    path: /liveness
    port: {port}
    periodSeconds: 1
  startup:
    path: /startup
    port: {port}
    periodSeconds: 1
    failureThreshold: 30
"
    )
}

/// The same spec as a Kubernetes container, with readiness headers.
fn container_yaml(port: u16) -> String {
    format!(
        "\
name: app
image: example/app
startupProbe:
  httpGet: {{path: /startup, port: {port}}}
  periodSeconds: 1
  failureThreshold: 30
livenessProbe:
  httpGet: {{path: /liveness, port: {port}}}
  periodSeconds: 1
readinessProbe:
  httpGet:
    path: /readiness
    port: {port}
    httpHeaders:
      - {{name: X-Probe, value: readiness}}
      - {{name: Authorization, value: Bearer r34dy-t0ken}}
  periodSeconds: 1
  timeoutSeconds: 5
  failureThreshold: 2
"
    )
}

/// The container as JSON.
fn container_json(port: u16) -> String {
    format!(
        r#"{{"startupProbe": {{"httpGet": {{"path": "/startup", "port": {port}}}, "periodSeconds": 1, "failureThreshold": 30}},
 "livenessProbe": {{"httpGet": {{"path": "/liveness", "port": {port}}}, "periodSeconds": 1}},
 "readinessProbe": {{"httpGet": {{"path": "/readiness", "port": {port}}}, "periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 2}}}}"#
    )
}

/// The whole life of seed 001's probes, from `file`: startup gates the
/// others; readiness failing makes `--status` exit 1 within
/// failureThreshold × period while the application runs on; readiness back
/// makes it exit 0; liveness failing stops the application and exits 1.
fn the_seeds_probes_work_from(name: &str, make: fn(u16) -> String) -> Switchboard {
    let board = Switchboard::start(&[("/startup", 503), ("/readiness", 200), ("/liveness", 200)]);
    let scratch = Scratch::new(name);
    let file = scratch.file(name, &make(board.port()));
    let mut supervisor = Supervisor::start(&["--probes", &file, "--", "sleep", "60"]);
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(supervisor.status(false).0, Some(1), "ready before startup");
    assert!(
        board.times("/readiness").is_empty(),
        "readiness probed before startup"
    );
    assert!(
        board.times("/liveness").is_empty(),
        "liveness probed before startup"
    );
    board.set("/startup", 200);
    let took = supervisor.status_becomes(0, Duration::from_secs(4));
    assert!(took.is_some(), "never ready after startup");
    let last_startup = *board.times("/startup").last().expect("startup probed");
    assert!(
        board.times("/readiness")[0] >= last_startup,
        "readiness before startup"
    );
    assert!(
        board.times("/liveness")[0] >= last_startup,
        "liveness before startup"
    );
    // Readiness fails: not ready within failureThreshold × period (2 s).
    board.set("/readiness", 503);
    let took = supervisor
        .status_becomes(1, Duration::from_secs(5))
        .expect("never not ready");
    assert!(
        took <= Duration::from_secs(2) + SLACK * 2,
        "not ready after {took:?}"
    );
    let (_, json) = supervisor.status(true);
    let answer: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let probes = answer["probes"].as_array().expect("probes");
    assert_eq!(probes.len(), 3, "{json}");
    let readiness = probes
        .iter()
        .find(|p| p["probe"] == "readiness")
        .expect("readiness");
    assert_eq!(readiness["state"], "failing", "{json}");
    assert!(
        readiness["history"]
            .as_array()
            .is_some_and(|h| h.len() >= 2),
        "{json}"
    );
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(supervisor.running(), "readiness stopped the application");
    // Readiness back: ready again.
    board.set("/readiness", 200);
    assert!(
        supervisor
            .status_becomes(0, Duration::from_secs(4))
            .is_some(),
        "never ready again"
    );
    // Liveness fails three times: the application is stopped, exit 1.
    board.set("/liveness", 503);
    let (code, stderr) = supervisor.finish(Duration::from_secs(8));
    assert_eq!(code, Some(1), "{stderr}");
    for line in [
        "startup probe failed 1/30: ",
        "startup probe succeeded after ",
        "ready: healthy: GET ",
        "not ready: readiness probe failed 2/2: unhealthy: GET ",
        "liveness probe failed 3/3: ",
        "liveness probe failed 3 times in a row: stopping sleep (pid ",
        "was ended by SIGTERM",
    ] {
        assert!(stderr.contains(line), "{line:?} not in {stderr}");
    }
    board
}

#[test]
fn the_seeds_healthchecks_file_drives_startup_readiness_and_liveness() {
    the_seeds_probes_work_from("seed.yaml", seed_yaml);
}

#[test]
fn a_kubernetes_container_drives_them_and_sends_its_http_headers() {
    let board = the_seeds_probes_work_from("container.yaml", container_yaml);
    let head = &board.heads("/readiness")[0];
    assert!(head.contains("\r\nx-probe: readiness\r\n"), "{head}");
    assert!(
        head.contains("\r\nauthorization: Bearer r34dy-t0ken\r\n"),
        "{head}"
    );
}

#[test]
fn a_json_container_drives_them() {
    the_seeds_probes_work_from("container.json", container_json);
}

#[test]
fn each_probe_keeps_its_own_timeout() {
    // A 1.5 s answer: healthy for readiness (timeoutSeconds 2), a failure
    // for liveness (timeoutSeconds 1).
    let board = Switchboard::start(&[("/slow", 200)]);
    board.delay("/slow", Duration::from_millis(1_500));
    let scratch = Scratch::new("timeouts");
    let port = board.port();
    let file = scratch.file(
        "probes.yaml",
        &format!(
            "readinessProbe: {{httpGet: {{path: /slow, port: {port}}}, timeoutSeconds: 2, periodSeconds: 1}}
livenessProbe: {{httpGet: {{path: /slow, port: {port}}}, timeoutSeconds: 1, periodSeconds: 1}}
"
        ),
    );
    let supervisor = Supervisor::start(&["--probes", &file, "--", "sleep", "60"]);
    assert!(
        supervisor
            .status_becomes(0, Duration::from_secs(3))
            .is_some(),
        "readiness never passed with its 2 s"
    );
    let (code, stderr) = supervisor.finish(Duration::from_secs(8));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("liveness probe failed 1/3: unhealthy: GET ")
            && stderr.contains("timed out after 1s"),
        "{stderr}"
    );
    assert!(stderr.contains("ready: healthy: GET "), "{stderr}");
}

#[test]
fn an_exec_liveness_probe_passes_then_stops_the_command_when_it_fails() {
    let scratch = Scratch::new("exec");
    let marker = scratch.file("alive", "");
    let file = scratch.file(
        "probes.yaml",
        &format!(
            "livenessProbe:\n  exec:\n    command: [test, -e, {marker}]\n  periodSeconds: 1\n  failureThreshold: 2\n"
        ),
    );
    let mut supervisor = Supervisor::start(&["--probes", &file, "--", "sleep", "60"]);
    std::thread::sleep(Duration::from_millis(2_500));
    assert!(supervisor.running(), "stopped while its command passed");
    assert_eq!(supervisor.status(false).0, Some(0));
    std::fs::remove_file(&marker).expect("remove the marker");
    let removed = Instant::now();
    let (code, stderr) = supervisor.finish(Duration::from_secs(6));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        removed.elapsed() <= Duration::from_secs(2) + SLACK * 2,
        "{:?}",
        removed.elapsed()
    );
    assert!(
        stderr.contains("liveness probe failed 2/2: unhealthy: EXEC exec:test -e ")
            && stderr.contains("exit status 1"),
        "{stderr}"
    );
}

/// The processes whose command line holds `word`.
fn processes_with(word: &str) -> usize {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .filter(|e| {
                    std::fs::read(e.path().join("cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(word))
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_hanging_exec_command_is_killed_at_the_timeout_with_its_children() {
    let start = Instant::now();
    let out = probe_command()
        .env("PATH", PATH)
        .args([
            "-t",
            "1s",
            "exec:sh -c sleep$${IFS}31.4159&sleep$${IFS}31.4159",
        ])
        .output()
        .expect("run healthprobe");
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(took <= Duration::from_secs(1) + SLACK, "{took:?}");
    assert!(
        stdout.contains("timed out after 1s; killed with its process group"),
        "{stdout}"
    );
    std::thread::sleep(Duration::from_millis(200));
    if under_runner() {
        note("the children of a command run under an emulator are not looked for");
        return;
    }
    assert_eq!(
        processes_with("31.4159"),
        0,
        "a sleep of the command outlived the timeout"
    );
}

#[test]
fn bad_probes_files_are_refused_in_one_line_naming_the_file_and_field() {
    let scratch = Scratch::new("bad");
    let marker = scratch.path("started");
    let touch = format!("touch {marker}");
    for (text, want) in [
        (
            "livenessProbe:\n  httpGet: {port: http}\n",
            ":2: livenessProbe.httpGet.port: \"http\" is a named port",
        ),
        (
            "livenessProbe:\n  periodSecond: 3\n  tcpSocket: {port: 1}\n",
            ":2: livenessProbe.periodSecond: unknown field",
        ),
        (
            "livenessProbe:\n  periodSeconds: 3\n",
            ":2: livenessProbe: no handler",
        ),
        (
            "livenessProbe:\n  tcpSocket: {port: 1}\n  grpc: {port: 2}\n",
            "livenessProbe: two handlers (tcpSocket and grpc)",
        ),
        (
            "livenessProbe:\n  tcpSocket: {port: 1}\n  failureThreshold: 0\n",
            ":3: livenessProbe.failureThreshold: 0 is less than 1",
        ),
        (
            "livenessProbe: {tcpSocket: {port: 1}\n",
            ":1: not YAML or JSON",
        ),
        ("\u{0}\u{1}binary", "not YAML or JSON"),
    ] {
        let file = scratch.file("bad.yaml", text);
        let out = probe_command()
            .env("PATH", PATH)
            .args(["--probes", &file, "--", "sh", "-c", &touch])
            .output()
            .expect("run healthprobe");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("healthprobe: error: --probes: {file}")),
            "{stderr}"
        );
        assert!(stderr.contains(want), "{text:?}: {stderr}");
        assert!(
            !std::path::Path::new(&marker).exists(),
            "the command started: {text:?}"
        );
    }
}

/// The wall clock in nanoseconds, as `date +%s%N` writes it.
fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// A command that writes the signal it got and when (`date +%s%N`) to
/// `file`, then exits 0.
/// Writes `FILE.armed` once the trap is set: a signal sent before that
/// would end the shell instead of being recorded ([`armed`] waits for it).
fn trapping(file: &str, signal: &str) -> String {
    format!(
        "trap 'echo {signal} $(date +%s%N) > {file}; exit 0' {signal}; : > {file}.armed; while :; do sleep 0.05; done"
    )
}

/// Waits up to 5 s for a [`trapping`] command to have set its trap.
fn armed(file: &str) {
    let marker = format!("{file}.armed");
    let start = Instant::now();
    while !std::path::Path::new(&marker).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the command never set its trap"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The signal and the time (nanoseconds) a [`trapping`] command wrote.
fn trapped(file: &str) -> Option<(String, u128)> {
    let text = std::fs::read_to_string(file).ok()?;
    let (signal, at) = text.trim().split_once(' ')?;
    Some((signal.to_string(), at.parse().ok()?))
}

#[test]
fn the_pre_stop_sleep_delays_the_signal_and_readiness_turns_at_once() {
    let board = Switchboard::start(&[("/live", 200)]);
    let scratch = Scratch::new("prestop");
    let got = scratch.path("got");
    let live = format!("http://127.0.0.1:{}/live", board.port());
    let supervisor = Supervisor::start(&[
        "--liveness",
        &live,
        "--period",
        "200ms",
        "--failure-threshold",
        "1",
        "--pre-stop-sleep",
        "1500ms",
        "--",
        "sh",
        "-c",
        &trapping(&got, "TERM"),
    ]);
    assert!(
        supervisor
            .status_becomes(0, Duration::from_secs(3))
            .is_some(),
        "never ready"
    );
    armed(&got);
    board.set("/live", 503);
    let flipped = now_nanos();
    let not_ready = supervisor
        .status_becomes(1, Duration::from_secs(2))
        .expect("still ready");
    assert!(
        not_ready < Duration::from_millis(800),
        "not ready only after {not_ready:?}"
    );
    let (code, stderr) = supervisor.finish(Duration::from_secs(6));
    assert_eq!(code, Some(1), "{stderr}");
    let (signal, at) =
        trapped(&got).unwrap_or_else(|| panic!("no signal reached the command: {stderr}"));
    assert_eq!(signal, "TERM");
    let delay = Duration::from_nanos((at.saturating_sub(flipped)) as u64);
    assert!(
        delay >= Duration::from_millis(1_500),
        "signalled after {delay:?}: {stderr}"
    );
    assert!(
        delay <= Duration::from_millis(1_500 + 400) + SLACK,
        "signalled after {delay:?}"
    );
    assert!(
        stderr.contains("with SIGTERM after a pre-stop sleep of 1.5s"),
        "{stderr}"
    );
}

#[test]
fn the_stop_signal_reaches_the_command_on_a_probe_stop_and_on_sigterm() {
    let board = Switchboard::start(&[("/live", 200)]);
    let scratch = Scratch::new("stopsignal");
    let live = format!("http://127.0.0.1:{}/live", board.port());
    // A liveness stop.
    let got = scratch.path("probe");
    let supervisor = Supervisor::start(&[
        "--liveness",
        &live,
        "--period",
        "200ms",
        "--failure-threshold",
        "1",
        "--stop-signal",
        "SIGQUIT",
        "--",
        "sh",
        "-c",
        &trapping(&got, "QUIT"),
    ]);
    armed(&got);
    board.set("/live", 503);
    let (code, stderr) = supervisor.finish(Duration::from_secs(5));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        trapped(&got).map(|t| t.0).as_deref(),
        Some("QUIT"),
        "{stderr}"
    );
    // healthprobe asked to stop (what `docker stop` sends).
    board.set("/live", 200);
    let got = scratch.path("sigterm");
    let supervisor = Supervisor::start(&[
        "--liveness",
        &live,
        "--period",
        "200ms",
        "--stop-signal",
        "quit",
        "--",
        "sh",
        "-c",
        &trapping(&got, "QUIT"),
    ]);
    assert!(
        supervisor
            .status_becomes(0, Duration::from_secs(3))
            .is_some(),
        "never ready"
    );
    armed(&got);
    supervisor.signal(libc::SIGTERM);
    let (code, stderr) = supervisor.finish(Duration::from_secs(5));
    assert_eq!(code, Some(0), "the command's own exit status: {stderr}");
    assert_eq!(
        trapped(&got).map(|t| t.0).as_deref(),
        Some("QUIT"),
        "{stderr}"
    );
}

#[test]
fn a_probes_own_grace_period_wins() {
    let scratch = Scratch::new("grace");
    let file = scratch.file(
        "probes.yaml",
        "livenessProbe:\n  exec: {command: [\"false\"]}\n  periodSeconds: 1\n  failureThreshold: 1\n  terminationGracePeriodSeconds: 1\n",
    );
    let start = Instant::now();
    let supervisor = Supervisor::start(&[
        "--probes",
        &file,
        "--termination-grace-period",
        "30s",
        "--",
        "sh",
        "-c",
        "trap '' TERM; while :; do sleep 0.05; done",
    ]);
    let (code, stderr) = supervisor.finish(Duration::from_secs(8));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        start.elapsed() <= Duration::from_secs(1) + Duration::from_secs(1) + SLACK * 2,
        "{:?}",
        start.elapsed()
    );
    assert!(
        stderr.contains("still runs 1s after SIGTERM: SIGKILL"),
        "{stderr}"
    );
}

#[test]
fn status_with_no_supervisor_exits_1_at_once() {
    for args in [vec!["--status"], vec!["--status", "-o", "json"]] {
        let start = Instant::now();
        let out = probe_command()
            .env_remove("HEALTHPROBE_STATUS_SOCKET")
            .args(&args)
            .output()
            .expect("run --status");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        assert!(
            stdout.contains("not ready: no supervisor answers on "),
            "{stdout}"
        );
    }
    let out = probe_command()
        .args(["--status", "--status-socket", "/nonexistent/status.sock"])
        .output()
        .expect("run --status");
    assert_eq!(out.status.code(), Some(1));
    // --status asks; it checks nothing itself.
    let out = probe_command()
        .args(["--status", "http://127.0.0.1:1/"])
        .output()
        .expect("run --status");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr
            .contains("--status asks the supervisor, which probes by itself: TARGET cannot apply"),
        "{stderr}"
    );
}

#[test]
fn readiness_from_the_command_line_or_its_variable_decides_status() {
    // The flag, with two successes needed.
    let board = Switchboard::start(&[("/ready", 503)]);
    let ready = format!("http://127.0.0.1:{}/ready", board.port());
    let supervisor = Supervisor::start(&[
        "--readiness",
        &ready,
        "--period",
        "200ms",
        "--success-threshold",
        "2",
        "--failure-threshold",
        "2",
        "--",
        "sleep",
        "60",
    ]);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(supervisor.status(false).0, Some(1), "ready while failing");
    board.set("/ready", 200);
    let flipped = Instant::now();
    assert!(
        supervisor
            .status_becomes(0, Duration::from_secs(3))
            .is_some(),
        "never ready"
    );
    // Two successes 200 ms apart.
    assert!(
        flipped.elapsed() >= Duration::from_millis(200),
        "ready after one success"
    );
    supervisor.signal(libc::SIGTERM);
    let (code, stderr) = supervisor.finish(Duration::from_secs(3));
    assert_eq!(code, Some(143), "{stderr}");
    assert!(
        stderr.contains("SIGTERM received: stopping sleep"),
        "{stderr}"
    );
    // The variable, with an exec target that takes the rest of it.
    let scratch = Scratch::new("readyenv");
    let marker = scratch.file("ready", "");
    let target = format!("exec:test -e {marker}");
    let supervisor = Supervisor::start_with(
        &[
            ("HEALTHPROBE_READINESS", &target),
            ("HEALTHPROBE_PERIOD", "200ms"),
        ],
        &["--", "sleep", "60"],
    );
    assert!(
        supervisor
            .status_becomes(0, Duration::from_secs(3))
            .is_some(),
        "never ready"
    );
    std::fs::remove_file(&marker).expect("remove the marker");
    assert!(
        supervisor
            .status_becomes(1, Duration::from_secs(3))
            .is_some(),
        "still ready"
    );
    let (_, json) = supervisor.status(true);
    assert!(json.contains("EXEC exec:test -e "), "{json}");
    supervisor.signal(libc::SIGTERM);
    let _ = supervisor.finish(Duration::from_secs(3));
}
