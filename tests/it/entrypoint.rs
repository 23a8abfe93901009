//! `healthprobe [OPTIONS] TARGET... -- CMD [ARG...]`: once every target is
//! healthy, healthprobe replaces itself with CMD (same PID, no child).

use std::process::Stdio;

use crate::support::{self, QUICK, Scripted, closed_port, probe, probe_command, response, run};

/// PATH for the command after `--` (the probe's environment is cleared).
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

fn healthy_server() -> Scripted {
    Scripted::reply(response("200 OK", "", "ok"))
}

#[test]
fn the_command_replaces_the_probe_with_the_same_pid_and_its_exit_status_comes_through() {
    let server = healthy_server();
    let child = probe_command()
        .env("PATH", PATH)
        .args([
            &server.url("/health"),
            "--",
            "sh",
            "-c",
            "echo pid=$$; exit 7",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the probe");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("healthy: GET "),
        "the report first: {stdout}"
    );
    assert_eq!(lines[1], format!("pid={pid}"), "the same process");
}

#[test]
fn the_command_is_never_started_when_a_target_is_unhealthy() {
    let dir = std::env::temp_dir().join(format!("healthprobe-marker-{}", std::process::id()));
    let marker = dir.join("started");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let refused = format!("http://127.0.0.1:{}/health", closed_port());
    let touch = format!("touch {}", marker.display());
    for args in [
        vec![refused.as_str()],
        vec!["--wait", "1s", "--interval", "200ms", refused.as_str()],
    ] {
        let mut cmd = probe();
        cmd.env("PATH", PATH)
            .args(&args)
            .args(["--", "sh", "-c", &touch]);
        let out = run(&mut cmd);
        out.expect(1, QUICK)
            .stdout_has("unhealthy")
            .stdout_has(": GET ");
        assert!(!marker.exists(), "the command ran after {args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn arguments_after_the_double_dash_arrive_verbatim() {
    let server = healthy_server();
    let args = ["--timeout", "${HOME}", "-v", "$$", "", "a b", "--", "-q"];
    let mut cmd = probe();
    cmd.env("PATH", PATH)
        .env("HOME", "/expanded")
        .args(["-q", &server.url("/"), "--", "printf", "[%s]\\n"])
        .args(args);
    let out = run(&mut cmd);
    out.expect(0, QUICK);
    let want: String = args.iter().map(|a| format!("[{a}]\n")).collect();
    assert_eq!(out.stdout, want, "nothing but the command's output with -q");
}

#[test]
fn a_command_that_cannot_run_is_one_line_naming_it_and_exit_1() {
    let server = healthy_server();
    let not_executable =
        std::env::temp_dir().join(format!("healthprobe-noexec-{}", std::process::id()));
    std::fs::write(&not_executable, "#!/bin/sh\n").expect("write");
    // The OS's own reason (Windows words it differently).
    let (absent, not_runnable) = match support::windows_binary() {
        true => ("not found", "(os error 193)"),
        false => ("No such file or directory", "Permission denied"),
    };
    for (program, reason) in [
        ("/nonexistent/app", absent),
        ("no-such-program-anywhere", absent),
        (not_executable.to_str().unwrap_or_default(), not_runnable),
    ] {
        let out = run(probe()
            .env("PATH", PATH)
            .args(["-q", &server.url("/"), "--", program]));
        out.expect(1, QUICK);
        assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
        out.stderr_has(&format!("cannot run {program}: "))
            .stderr_has(reason);
    }
    let _ = std::fs::remove_file(&not_executable);
}

#[test]
fn targets_from_the_environment_and_a_wait_work_with_a_command() {
    let server = healthy_server();
    let out = run(probe()
        .env("PATH", PATH)
        .env("HEALTHPROBE_URL", server.url("/health"))
        .args(["--wait", "5s", "--", "printf", "started"]));
    out.expect(0, QUICK).stdout_has("healthy: GET ");
    assert!(out.stdout.ends_with("\nstarted"), "{:?}", out.stdout);
}
