//! `cargo run --example demo`: starts the example inference service on a
//! free port and probes it through the same entry point the binary uses
//! (`healthprobe::run`), showing the four verdicts a HEALTHCHECK sees:
//! loading (1), loaded (0), made unhealthy (1), nothing listening (1).
//! Exits 1 if any verdict differs from what is expected.

#[allow(dead_code)]
#[path = "health_server.rs"]
mod health_server;

use std::net::TcpListener;
use std::time::Duration;

use health_server::{Options, Service};

fn probe(args: &[&str], expected: i32) -> bool {
    println!("$ healthprobe {}", args.join(" "));
    let argv = std::iter::once("healthprobe").chain(args.iter().copied());
    let status = healthprobe::run(
        argv,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
    )
    .code();
    println!("exit status: {status}\n");
    status == expected
}

fn main() {
    let load_delay = Duration::from_millis(1500);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let _service = Service::start(
        listener,
        Options {
            load_delay,
            unhealthy_file: None,
            hang: false,
        },
    );
    let health = format!("http://127.0.0.1:{port}/health");
    println!(
        "# The example service listens on 127.0.0.1:{port}; its model loads in {:?}.\n",
        load_delay
    );
    let mut ok = true;

    println!("# 1. While the model loads, /health answers 503: unhealthy.");
    ok &= probe(&["--timeout", "2s", &health], 1);

    std::thread::sleep(load_delay);
    println!("# 2. Loaded: 200 and {{\"status\":\"ok\"}}: healthy.");
    ok &= probe(
        &["--timeout", "2s", "--expect-json", "/status=ok", &health],
        0,
    );

    println!("# 3. Something breaks (a request to /admin/fail flips it): unhealthy.");
    let fail = format!("http://127.0.0.1:{port}/admin/fail");
    ok &= probe(&["--quiet", &fail], 0);
    ok &= probe(
        &["--timeout", "2s", "--expect-json", "/status=ok", &health],
        1,
    );

    println!("# 4. Nothing listens on the port (the service died): unhealthy.");
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    ok &= probe(
        &[
            "--timeout",
            "2s",
            &format!("http://127.0.0.1:{closed}/health"),
        ],
        1,
    );

    if ok {
        println!("demo: all four verdicts as expected");
    } else {
        println!("demo: a verdict differed from the expected one");
        std::process::exit(1);
    }
}
