//! `--startup`/`--liveness` with `-- CMD`: healthprobe runs CMD as its child
//! and supervises it with the Kubernetes probe loop. The probes go to a
//! server these tests control (it answers each path from a plan and
//! records what it was asked and when); the children are real processes
//! (`sleep`, `sh`).

use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{SLACK, Scripted, probe_command, response, skip};

/// PATH for the command after `--` (the probe's environment is cleared).
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A probe target that answers each path from a plan: the next status of
/// its list, the last one again once the list is used up; and records each
/// request's path and time.
struct Target {
    server: Scripted,
    seen: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Target {
    fn start(plan: &[(&str, &[u16])]) -> Target {
        let plan: Vec<(String, Vec<u16>)> = plan
            .iter()
            .map(|(path, codes)| (path.to_string(), codes.to_vec()))
            .collect();
        let plan = Arc::new(Mutex::new(plan));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let server = Scripted::start(move |mut c| {
            let path = c.request.split(' ').nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push((Instant::now(), path.clone()));
            let code = {
                let mut plan = plan.lock().unwrap();
                match plan.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, codes)) if codes.len() > 1 => codes.remove(0),
                    Some((_, codes)) => codes.first().copied().unwrap_or(404),
                    None => 404,
                }
            };
            let status = match code {
                200 => "200 OK",
                404 => "404 Not Found",
                _ => "503 Service Unavailable",
            };
            c.send(&response(status, "", "{}"));
        });
        Target { server, seen }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// When `path` was asked, in order.
    fn times(&self, path: &str) -> Vec<Instant> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(_, p)| p == path)
            .map(|(t, _)| *t)
            .collect()
    }
}

/// healthprobe with `args`, its stderr piped, started now.
fn supervise(args: &[&str]) -> (Child, Instant) {
    let child = probe_command()
        .env("PATH", PATH)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn healthprobe");
    (child, Instant::now())
}

/// Waits up to `max` for `child`; its exit code (`None`: still running,
/// then killed) and stderr.
fn finish(mut child: Child, max: Duration) -> (Option<i32>, String) {
    let end = Instant::now() + max;
    let code = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status.code();
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    (code, stderr)
}

/// Sends `signal` to process `pid`.
fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a pid this test started.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}

const FAST: [&str; 6] = [
    "--period",
    "200ms",
    "--timeout",
    "500ms",
    "--termination-grace-period",
    "5s",
];

#[test]
fn liveness_failing_its_threshold_in_a_row_stops_the_command_and_exits_1() {
    let target = Target::start(&[("/live", &[200, 200, 503])]);
    let live = target.url("/live");
    let mut args = vec!["--liveness", &live, "--failure-threshold", "3"];
    args.extend(FAST);
    args.extend(["--", "sleep", "30"]);
    let (child, _) = supervise(&args);
    let (code, stderr) = finish(child, Duration::from_secs(10));
    let end = Instant::now();
    assert_eq!(code, Some(1), "{stderr}");
    let times = target.times("/live");
    assert_eq!(
        times.len(),
        5,
        "two successes, then exactly three failures: {stderr}"
    );
    // From the first failure to the stop: two more periods, within one
    // period plus the timeout of three periods.
    let first_failure = times[2];
    let took = end.duration_since(first_failure);
    assert!(took >= Duration::from_millis(380), "{took:?}: {stderr}");
    assert!(
        took <= Duration::from_millis(600 + 500) + SLACK,
        "{took:?}: {stderr}"
    );
    for line in [
        "healthprobe: started sleep (pid ",
        "healthprobe: liveness probe failed 1/3: unhealthy: GET ",
        "healthprobe: liveness probe failed 3/3: ",
        "healthprobe: liveness probe failed 3 times in a row: stopping sleep (pid ",
        "was ended by SIGTERM",
    ] {
        assert!(stderr.contains(line), "{line:?} not in {stderr}");
    }
    assert!(!stderr.contains("4/3"), "{stderr}");
}

#[test]
fn a_success_resets_the_failure_count() {
    // F, F, S, F, F, S, … with a threshold of 3 never stops the command.
    let plan: Vec<u16> = [503, 503, 200].repeat(10);
    let target = Target::start(&[("/live", &plan)]);
    let live = target.url("/live");
    let mut args = vec!["--liveness", &live, "--failure-threshold", "3"];
    args.extend(FAST);
    args.extend(["--", "sleep", "30"]);
    let (child, _) = supervise(&args);
    std::thread::sleep(Duration::from_millis(2_200));
    assert!(target.times("/live").len() >= 9, "not probed every period");
    let pid = child.id();
    signal(pid, libc::SIGTERM);
    let (code, stderr) = finish(child, Duration::from_secs(3));
    // The forwarded SIGTERM ended sleep: 128 + 15 comes through.
    assert_eq!(code, Some(143), "{stderr}");
    assert!(!stderr.contains("in a row"), "{stderr}");
    assert!(stderr.contains("liveness probe failed 2/3"), "{stderr}");
}

#[test]
fn liveness_waits_for_startup_to_succeed() {
    let target = Target::start(&[("/startup", &[503, 503, 503, 200]), ("/live", &[200])]);
    let (startup, live) = (target.url("/startup"), target.url("/live"));
    let mut args = vec![
        "--startup",
        &startup,
        "--startup-failure-threshold",
        "10",
        "--liveness",
        &live,
    ];
    args.extend(FAST);
    args.extend(["--", "sleep", "30"]);
    let (child, _) = supervise(&args);
    std::thread::sleep(Duration::from_millis(1_500));
    signal(child.id(), libc::SIGTERM);
    let (_, stderr) = finish(child, Duration::from_secs(3));
    let startups = target.times("/startup");
    let lives = target.times("/live");
    assert_eq!(
        startups.len(),
        4,
        "startup stops once it succeeds: {stderr}"
    );
    assert!(!lives.is_empty(), "liveness never probed: {stderr}");
    assert!(
        lives[0] > startups[3],
        "liveness asked before startup succeeded"
    );
    assert!(
        stderr.contains("startup probe succeeded after 4 attempts in "),
        "{stderr}"
    );
}

/// `${NAME}` is filled in the probes' targets as in any target: exec-form
/// ENTRYPOINTs cannot expand `$PORT`.
#[test]
fn variables_are_filled_in_the_probes_targets() {
    let target = Target::start(&[("/live", &[200])]);
    let port = target.server.addr.port().to_string();
    let live = "http://127.0.0.1:${APP_PORT}/live";
    let out = probe_command()
        .env("PATH", PATH)
        .env("APP_PORT", &port)
        .args([
            "--liveness",
            live,
            "--period",
            "100ms",
            "--",
            "sh",
            "-c",
            "sleep 0.5; exit 3",
        ])
        .output()
        .expect("run healthprobe");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(!target.times("/live").is_empty(), "{stderr}");
}

#[test]
fn no_probe_before_the_initial_delay() {
    let target = Target::start(&[("/live", &[200])]);
    let live = target.url("/live");
    let mut args = vec!["--liveness", &live, "--initial-delay", "800ms"];
    args.extend(FAST);
    args.extend(["--", "sleep", "30"]);
    let (child, started) = supervise(&args);
    std::thread::sleep(Duration::from_millis(1_200));
    signal(child.id(), libc::SIGTERM);
    let _ = finish(child, Duration::from_secs(3));
    let first = target.times("/live")[0];
    assert!(first.duration_since(started) >= Duration::from_millis(780));
}

#[test]
fn a_startup_that_never_succeeds_stops_the_command_before_liveness_is_asked() {
    let target = Target::start(&[("/startup", &[503]), ("/live", &[200])]);
    let (startup, live) = (target.url("/startup"), target.url("/live"));
    let mut args = vec![
        "--startup",
        &startup,
        "--startup-period",
        "200ms",
        "--startup-failure-threshold",
        "4",
        "--liveness",
        &live,
    ];
    args.extend(FAST);
    args.extend(["--", "sleep", "30"]);
    let (child, started) = supervise(&args);
    let (code, stderr) = finish(child, Duration::from_secs(10));
    let took = started.elapsed();
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(target.times("/startup").len(), 4, "{stderr}");
    assert!(target.times("/live").is_empty(), "liveness asked: {stderr}");
    // Four attempts, 200 ms apart: the stop at about 600 ms.
    assert!(took >= Duration::from_millis(580), "{took:?}");
    assert!(took <= Duration::from_millis(800 + 500) + SLACK, "{took:?}");
    assert!(
        stderr.contains("startup probe failed 4 times in a row: stopping sleep"),
        "{stderr}"
    );
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let target = Target::start(&[("/live", &[503])]);
    let live = target.url("/live");
    let args = [
        "--liveness",
        &live,
        "--failure-threshold",
        "1",
        "--period",
        "200ms",
        "--termination-grace-period",
        "700ms",
        // Time for sh to set its trap before the first probe.
        "--initial-delay",
        "300ms",
        "--",
        "sh",
        "-c",
        "trap '' TERM; sleep 30",
    ];
    let (child, started) = supervise(&args);
    let (code, stderr) = finish(child, Duration::from_secs(10));
    let took = started.elapsed();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took >= Duration::from_millis(980), "{took:?}: {stderr}");
    assert!(
        took <= Duration::from_millis(1_000) + SLACK + SLACK,
        "{took:?}: {stderr}"
    );
    assert!(
        stderr.contains("still runs 700ms after SIGTERM: SIGKILL"),
        "{stderr}"
    );
    assert!(stderr.contains("was ended by SIGKILL"), "{stderr}");
}

#[test]
fn the_commands_own_exit_status_comes_through_at_once() {
    let target = Target::start(&[("/live", &[200])]);
    let live = target.url("/live");
    for (script, want) in [("exit 0", 0), ("exit 7", 7), ("kill -9 $$", 128 + 9)] {
        let mut args = vec!["--liveness", live.as_str()];
        args.extend(FAST);
        args.extend(["--", "sh", "-c", script]);
        let (child, started) = supervise(&args);
        let (code, stderr) = finish(child, Duration::from_secs(5));
        assert_eq!(code, Some(want), "{script}: {stderr}");
        assert!(
            started.elapsed() < Duration::from_millis(500) + SLACK,
            "{script}"
        );
    }
}

#[test]
fn sigterm_reaches_the_command_and_its_exit_0_comes_through_within_a_second() {
    let target = Target::start(&[("/live", &[200])]);
    let live = target.url("/live");
    let mut args = vec!["--liveness", live.as_str()];
    args.extend(FAST);
    args.extend([
        "--",
        "sh",
        "-c",
        "trap 'echo got TERM >&2; exit 0' TERM; while :; do sleep 0.05; done",
    ]);
    let (child, _) = supervise(&args);
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    signal(child.id(), libc::SIGTERM);
    let (code, stderr) = finish(child, Duration::from_secs(5));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
    assert!(stderr.contains("got TERM"), "{stderr}");
}

/// The states of the children of `pid` (`/proc/PID/task/*/children`).
fn children_states(pid: u32) -> Children {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(") ")
                .next()
                .and_then(|s| s.chars().next())
                .unwrap_or('?');
            out.push((child, state));
        }
    }
    out
}

/// The command leaves an orphan that exits 500 ms later, while the command
/// itself runs on.
const ORPHAN: &str = "(sleep 0.5 &); exec sleep 30";

/// The children of `pid` once `done` holds of them, or after 5 s (slow
/// starts under qemu).
fn children_when(pid: u32, done: impl Fn(&[(u32, char)]) -> bool) -> Children {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let children = children_states(pid);
        if done(&children) || Instant::now() >= end {
            return children;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Children of a process: (pid, state).
type Children = Vec<(u32, char)>;

/// The children of `pid` while the orphan runs beside the command, and
/// once it has exited (an unreaped orphan stays a zombie: after 5 s it is
/// still there, in state Z).
fn orphan_before_and_after(pid: u32) -> (Children, Children) {
    let before = children_when(pid, |c| c.len() == 2);
    let after = children_when(pid, |c| c.len() == 1);
    (before, after)
}

#[test]
fn an_orphan_of_the_command_is_reaped_by_the_subreaper() {
    if crate::support::under_runner() {
        // qemu-user answers PR_SET_CHILD_SUBREAPER with EINVAL (healthprobe
        // says so in a warning line); the PID 1 case is the container's.
        crate::support::note("the subreaper is not checked under a runner (qemu-user lacks it)");
        return;
    }
    let target = Target::start(&[("/live", &[200])]);
    let live = target.url("/live");
    let mut args = vec!["--liveness", live.as_str()];
    args.extend(FAST);
    args.extend(["--", "sh", "-c", ORPHAN]);
    let (child, _) = supervise(&args);
    let pid = child.id();
    let (before, after) = orphan_before_and_after(pid);
    signal(pid, libc::SIGTERM);
    let _ = finish(child, Duration::from_secs(3));
    assert_eq!(before.len(), 2, "the command and its orphan: {before:?}");
    assert_eq!(after.len(), 1, "the orphan is gone: {after:?}");
    assert!(after.iter().all(|(_, s)| *s != 'Z'), "a zombie: {after:?}");
}

#[test]
fn an_orphan_of_the_command_is_reaped_by_healthprobe_as_pid_1() {
    let target = Target::start(&[("/live", &[200])]);
    let live = target.url("/live");
    let bin = std::env::var_os("HEALTHPROBE_TEST_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin!("healthprobe").to_path_buf());
    if std::env::var_os("HEALTHPROBE_TEST_RUNNER").is_some_and(|r| !r.is_empty()) {
        crate::support::note("PID 1 reaping not checked under a runner");
        return;
    }
    let unshare = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(&bin)
        .args([
            "--liveness",
            &live,
            "--period",
            "200ms",
            "--",
            "sh",
            "-c",
            ORPHAN,
        ])
        .env_clear()
        .env("PATH", PATH)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(unshare) = unshare else {
        skip("unshare (util-linux) is not installed");
        return;
    };
    let inner = children_when(unshare.id(), |c| !c.is_empty());
    let Some(&(pid, _)) = inner.first() else {
        let (_, stderr) = finish(unshare, Duration::from_secs(1));
        skip(&format!(
            "unshare --pid did not start healthprobe here: {stderr}"
        ));
        return;
    };
    let (before, after) = orphan_before_and_after(pid);
    signal(pid, libc::SIGTERM);
    let (_, stderr) = finish(unshare, Duration::from_secs(3));
    assert_eq!(
        before.len(),
        2,
        "the command and its orphan: {before:?} {stderr}"
    );
    assert_eq!(after.len(), 1, "the orphan is gone: {after:?} {stderr}");
    assert!(after.iter().all(|(_, s)| *s != 'Z'), "a zombie: {after:?}");
}

/// Positional targets are dependencies, waited for before the command
/// starts; the supervisor's probes start after it. An unhealthy dependency
/// never starts the command.
#[test]
fn dependencies_are_waited_for_before_the_command_starts() {
    let target = Target::start(&[("/db", &[503, 503, 200]), ("/live", &[200])]);
    let (db, live) = (target.url("/db"), target.url("/live"));
    let args = [
        "--wait",
        "3s",
        "--interval",
        "200ms",
        &db,
        "--liveness",
        &live,
        "--period",
        "200ms",
        "--",
        "sh",
        "-c",
        "sleep 0.6; exit 5",
    ];
    let (child, _) = supervise(&args);
    let (code, stderr) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(5), "{stderr}");
    let (dbs, lives) = (target.times("/db"), target.times("/live"));
    assert_eq!(dbs.len(), 3, "{stderr}");
    assert!(
        !lives.is_empty() && lives[0] > dbs[2],
        "liveness before the dependency was healthy"
    );
    let refused = format!("http://127.0.0.1:{}/db", crate::support::closed_port());
    let args = [
        "--wait",
        "500ms",
        &refused,
        "--liveness",
        &live,
        "--",
        "sh",
        "-c",
        "exit 5",
    ];
    let (child, _) = supervise(&args);
    let (code, stderr) = finish(child, Duration::from_secs(5));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("started sh"), "{stderr}");
}

#[test]
fn bad_input_never_starts_the_command() {
    let dir = std::env::temp_dir().join(format!("healthprobe-supervise-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let marker = dir.join("started");
    let touch = format!("touch {}", marker.display());
    let target = Target::start(&[("/live", &[200])]);
    let live = target.url("/live");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--liveness", &live, "--failure-threshold", "0"],
            "--failure-threshold",
        ),
        (
            vec!["--liveness", &live, "--failure-threshold", "x"],
            "--failure-threshold",
        ),
        (
            vec!["--liveness", &live, "--startup-failure-threshold", "-1"],
            "--startup-failure-threshold",
        ),
        (vec!["--liveness", &live, "--period", "0"], "--period"),
        (
            vec!["--liveness", &live, "--startup-period", "soon"],
            "--startup-period",
        ),
        (
            vec!["--liveness", &live, "--termination-grace-period", "0s"],
            "--termination-grace-period",
        ),
        (
            vec!["--liveness", &live, "--initial-delay", "-1s"],
            "--initial-delay",
        ),
        (vec!["--liveness", "ftp://127.0.0.1/"], "--liveness"),
        (
            vec!["--startup", "http://${UNSET_IN_THIS_TEST}/"],
            "UNSET_IN_THIS_TEST",
        ),
    ];
    for (args, names) in cases {
        let out = probe_command()
            .env("PATH", PATH)
            .args(&args)
            .args(["--", "sh", "-c", &touch])
            .output()
            .expect("run healthprobe");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(names), "{args:?}: {stderr}");
        assert!(!marker.exists(), "{args:?} started the command");
    }
    let out = probe_command()
        .args(["--liveness", &live])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--liveness probes the command given after `--`")
    );
    // From the environment without a command (an image's HEALTHCHECK), the
    // probes are left unused: a plain probe.
    let out = probe_command()
        .env("HEALTHPROBE_LIVENESS", &live)
        .arg(&live)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = probe_command()
        .env("PATH", PATH)
        .args(["--liveness", &live, "--", "/nonexistent/app"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot run /nonexistent/app: No such file or directory"),
        "{stderr}"
    );
    assert_eq!(target.times("/live").len(), 1, "only the plain probe asked");
    let _ = std::fs::remove_dir_all(&dir);
}
