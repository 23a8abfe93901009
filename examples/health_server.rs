//! A small inference-API-shaped service for demos and the Docker example
//! (std only): `/health` answers 503 `{"status":"loading"}` until its model
//! has "loaded" after a delay, then 200 `{"status":"ok"}`.
//!
//! Make it unhealthy on demand, to watch a probe flip:
//! - a request to `/admin/fail` (and `/admin/recover` to undo), or
//! - a file: while the path in `UNHEALTHY_FILE` exists, `/health` answers
//!   503 `{"status":"error","detail":"model not loaded"}`.
//!
//! `/ready` (a readiness path: ready once loaded, while healthy) answers
//! 503 `{"status":"unready"}` after a request to `/admin/unready` (a lost
//! dependency, such as the seed's S3 connection) until `/admin/ready`.
//!
//! Configuration (flags or environment variables, for exec-form Dockerfiles):
//! - `--bind ADDR` / `BIND` (default `127.0.0.1`; `0.0.0.0` in a container),
//! - `--port N` / `PORT` (default 8000; 0 picks a free port),
//! - `--load-delay DURATION` / `LOAD_DELAY` (seconds, default 3),
//! - `--hang` / `HANG=1`: accept connections and never answer (a service
//!   that is wedged), for testing that probes end on time.
//!
//! SIGTERM and SIGINT end it with status 0.
//!
//! Run: `cargo run --example health_server -- --port 8000 --load-delay 2`

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Options of the service.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the "model" takes to load.
    pub load_delay: Duration,
    /// While this file exists, the service is unhealthy.
    pub unhealthy_file: Option<PathBuf>,
    /// Accept and never answer.
    pub hang: bool,
}

/// The state shared by the connection threads.
#[derive(Debug)]
pub struct Service {
    options: Options,
    started: Instant,
    failing: AtomicBool,
    unready: AtomicBool,
}

impl Service {
    /// Starts serving on `listener` in background threads; returns the
    /// shared state. The threads end with the process.
    pub fn start(listener: TcpListener, options: Options) -> Arc<Service> {
        let service = Arc::new(Service {
            options,
            started: Instant::now(),
            failing: AtomicBool::new(false),
            unready: AtomicBool::new(false),
        });
        let shared = service.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let service = shared.clone();
                std::thread::spawn(move || service.serve(stream));
            }
        });
        service
    }

    fn health(&self) -> (u16, &'static str) {
        let file_says_failing = self
            .options
            .unhealthy_file
            .as_ref()
            .is_some_and(|p| p.exists());
        if self.failing.load(Ordering::SeqCst) || file_says_failing {
            (503, r#"{"status":"error","detail":"model not loaded"}"#)
        } else if self.started.elapsed() < self.options.load_delay {
            (503, r#"{"status":"loading"}"#)
        } else {
            (200, r#"{"status":"ok"}"#)
        }
    }

    fn serve(&self, stream: TcpStream) {
        if self.options.hang {
            std::thread::sleep(Duration::from_secs(3600));
            return;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(&stream);
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        // Skip the request headers.
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
            line.clear();
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("");
        let path = parts.next().unwrap_or("");
        let (status, body) = match path {
            "/health" | "/healthz" => self.health(),
            "/ready" => match self.health() {
                (200, _) if self.unready.load(Ordering::SeqCst) => (503, r#"{"status":"unready"}"#),
                answer => answer,
            },
            "/admin/unready" => {
                self.unready.store(true, Ordering::SeqCst);
                (200, r#"{"ready":false}"#)
            }
            "/admin/ready" => {
                self.unready.store(false, Ordering::SeqCst);
                (200, r#"{"ready":true}"#)
            }
            "/admin/fail" => {
                self.failing.store(true, Ordering::SeqCst);
                (200, r#"{"failing":true}"#)
            }
            "/admin/recover" => {
                self.failing.store(false, Ordering::SeqCst);
                (200, r#"{"failing":false}"#)
            }
            "/predict" => match self.health() {
                (200, _) => (200, r#"{"prediction":"some_result"}"#),
                _ => (503, r#"{"detail":"Prediction service unavailable"}"#),
            },
            _ => (404, r#"{"detail":"Not Found"}"#),
        };
        let reason = match status {
            200 => "OK",
            404 => "Not Found",
            _ => "Service Unavailable",
        };
        let body = if method == "HEAD" { "" } else { body };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = &stream;
        let _ = stream.write_all(response.as_bytes());
    }
}

fn setting(args: &[String], flag: &str, env: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

#[allow(dead_code)] // the demo includes this file for `Service` only
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bind = setting(&args, "--bind", "BIND").unwrap_or_else(|| "127.0.0.1".into());
    let port = setting(&args, "--port", "PORT").unwrap_or_else(|| "8000".into());
    let delay: f64 = match setting(&args, "--load-delay", "LOAD_DELAY")
        .unwrap_or_else(|| "3".into())
        .trim_end_matches('s')
        .parse()
    {
        Ok(d) if d >= 0.0 => d,
        _ => {
            eprintln!("health_server: --load-delay / LOAD_DELAY must be seconds, e.g. 3");
            std::process::exit(1);
        }
    };
    let hang = args.iter().any(|a| a == "--hang")
        || std::env::var("HANG").is_ok_and(|v| v == "1" || v == "true");
    let address = if bind.contains(':') {
        format!("[{bind}]:{port}")
    } else {
        format!("{bind}:{port}")
    };
    let listener = match TcpListener::bind(&address) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("health_server: cannot listen on {address}: {e}");
            std::process::exit(1);
        }
    };
    let options = Options {
        load_delay: Duration::from_secs_f64(delay),
        unhealthy_file: std::env::var_os("UNHEALTHY_FILE").map(PathBuf::from),
        hang,
    };
    match listener.local_addr() {
        Ok(a) => println!("health_server: listening on {a}, model loads in {delay}s"),
        Err(_) => println!("health_server: listening"),
    }
    let _service = Service::start(listener, options);
    // A well-behaved service: SIGTERM (docker stop, a supervisor) and
    // SIGINT end it with status 0 at once.
    let signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ]);
    match signals {
        Ok(mut signals) => {
            if let Some(signal) = signals.forever().next() {
                println!("health_server: signal {signal}, shutting down");
                std::process::exit(0);
            }
        }
        Err(e) => eprintln!("health_server: cannot handle SIGTERM: {e}"),
    }
    loop {
        std::thread::park();
    }
}
