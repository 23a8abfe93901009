//! Test servers on loopback and the hermetic command helper.
//!
//! - [`Scripted`]: a `std::net` server whose script writes exact bytes with
//!   exact delays, recording every request head it receives.
//! - [`Tiny`]: a real third-party HTTP server (tiny_http) for ordinary cases.
//! - [`BlackHole`]: a listener whose accept queue is full, so that a connect
//!   to it gets no answer (SYNs are dropped), as a filtered port.
//!
//! Every server stops when dropped; scripts that stall end then too.

pub mod tls;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bound for a run that should end at once (refused, bad input, a healthy
/// reply): generous, so that a slow machine does not fail it.
pub const QUICK: Duration = Duration::from_secs(3);
/// What a deadline may overrun by: a run with `--timeout T` ends within
/// T + SLACK.
pub const SLACK: Duration = Duration::from_millis(500);
/// The `--timeout` of the hostile-server tests.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// Longest any scripted stall lasts, even if the server is never dropped.
pub const MAX_STALL: Duration = Duration::from_secs(30);

/// Environment variable naming another healthprobe binary to test instead
/// of the one cargo built (a release binary for another architecture).
pub const ENV_TEST_BIN: &str = "HEALTHPROBE_TEST_BIN";
/// Environment variable naming a program that runs [`ENV_TEST_BIN`], with
/// its arguments split at spaces, such as `qemu-aarch64-static` or
/// `qemu-arm-static -cpu arm1176` (the program looked up on PATH).
pub const ENV_TEST_RUNNER: &str = "HEALTHPROBE_TEST_RUNNER";

/// Whether the binary under test runs under a runner such as qemu, where
/// the process measured is the emulator (its memory, its start-up time).
pub fn under_runner() -> bool {
    std::env::var_os(ENV_TEST_RUNNER).is_some_and(|r| !r.is_empty())
}

/// Whether the binary under test is a Windows one ([`ENV_TEST_BIN`] ending
/// in `.exe`, run by wine: `scripts/wine-smoke.sh`), where the OS words its
/// errors differently.
pub fn windows_binary() -> bool {
    std::env::var(ENV_TEST_BIN).is_ok_and(|b| b.ends_with(".exe"))
}

/// The binary under test, as a std command with an empty environment (no
/// proxy variables, no HEALTHPROBE_* leaking in from the developer's
/// shell): cargo's build, or [`ENV_TEST_BIN`] run by [`ENV_TEST_RUNNER`].
pub fn probe_command() -> std::process::Command {
    let bin = std::env::var_os(ENV_TEST_BIN)
        .filter(|b| !b.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin!("healthprobe").to_path_buf());
    let mut cmd = match std::env::var_os(ENV_TEST_RUNNER).filter(|r| !r.is_empty()) {
        Some(runner) => {
            // A program and its arguments, split at spaces as the shell
            // scripts do ("qemu-arm-static -cpu arm1176").
            let runner = runner.to_string_lossy().into_owned();
            let mut words = runner.split_whitespace();
            let program = words.next().unwrap_or_default();
            // Resolved here: the child's environment is cleared, PATH too.
            let program = std::env::var_os("PATH")
                .and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|dir| dir.join(program))
                        .find(|p| p.is_file())
                })
                .unwrap_or_else(|| program.into());
            let mut cmd = std::process::Command::new(program);
            cmd.args(words);
            cmd.arg(bin);
            cmd
        }
        None => std::process::Command::new(bin),
    };
    cmd.env_clear();
    // Each supervisor answers `--status` on a socket of its own: the
    // tests run many at once in one PID namespace.
    cmd.env("HEALTHPROBE_STATUS_SOCKET", status_socket());
    cmd
}

/// A path for a supervisor's `--status` socket, new on each call.
pub fn status_socket() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir()
        .join(format!("hp-status-{}-{n}.sock", std::process::id()))
        .to_string_lossy()
        .into_owned()
}

/// [`probe_command`] as an assert_cmd command with a 60 s limit.
pub fn probe() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(probe_command());
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Runs `cmd` and returns its exit code, stdout, stderr and wall time.
pub fn run(cmd: &mut assert_cmd::Command) -> Outcome {
    let start = Instant::now();
    let out = cmd.output().expect("the probe runs");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// What one run of the probe did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code; `None` if killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// Asserts the exit code and that it took at most `max`.
    #[track_caller]
    pub fn expect(&self, code: i32, max: Duration) -> &Self {
        assert_eq!(self.code, Some(code), "exit code; {self:#?}");
        assert!(
            self.elapsed <= max,
            "took {:?} > {max:?}; {self:#?}",
            self.elapsed
        );
        assert!(!self.stderr.contains("panicked"), "panic: {self:#?}");
        self
    }

    /// Asserts that stdout contains `text`.
    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}: {self:#?}"
        );
        self
    }

    /// Asserts that stderr contains `text`.
    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}: {self:#?}"
        );
        self
    }

    /// Asserts that stdout, without its final newline, is `text`.
    #[track_caller]
    pub fn stdout_is(&self, text: &str) -> &Self {
        assert_eq!(self.stdout.trim_end(), text, "{self:#?}");
        self
    }

    /// Asserts that stdout starts with `text`.
    #[track_caller]
    pub fn stdout_starts(&self, text: &str) -> &Self {
        assert!(
            self.stdout.starts_with(text),
            "stdout does not start with {text:?}: {self:#?}"
        );
        self
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One accepted connection, handed to a script with the request head that
/// was read from it (empty if the client sent none within 2 s).
pub struct Conn {
    pub stream: TcpStream,
    pub request: String,
    stop: Arc<AtomicBool>,
}

impl Conn {
    /// Writes `bytes`; false when the client has gone.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .is_ok()
    }

    /// Waits until the server is dropped (or [`MAX_STALL`]), sending nothing.
    pub fn stall(&self) {
        let end = Instant::now() + MAX_STALL;
        while !self.stopped() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sleeps `d` unless the server is dropped first; false if it was.
    pub fn pause(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while Instant::now() < end {
            if self.stopped() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5).min(d));
        }
        !self.stopped()
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Closes with a TCP reset (SO_LINGER 0) instead of a FIN.
    pub fn reset(self) {
        let socket = socket2::SockRef::from(&self.stream);
        let _ = socket.set_linger(Some(Duration::ZERO));
        drop(self.stream);
    }
}

type Script = dyn Fn(Conn) + Send + Sync + 'static;

/// A scripted `std::net` server: every connection runs the script in its own
/// thread after its request head has been read.
pub struct Scripted {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Scripted {
    /// Starts on 127.0.0.1 with a free port.
    pub fn start(script: impl Fn(Conn) + Send + Sync + 'static) -> Scripted {
        Self::start_on("127.0.0.1:0", script)
    }

    #[cfg_attr(not(feature = "tls"), allow(dead_code))] // the TLS tests use it
    /// Starts on 127.0.0.1 and runs the script at once on accept, without
    /// reading a request head first (`Conn::request` is empty).
    pub fn start_unread(script: impl Fn(Conn) + Send + Sync + 'static) -> Scripted {
        Self::start_with("127.0.0.1:0", false, script)
    }

    /// Starts on `bind` (e.g. `[::1]:0`).
    pub fn start_on(bind: &str, script: impl Fn(Conn) + Send + Sync + 'static) -> Scripted {
        Self::start_with(bind, true, script)
    }

    fn start_with(
        bind: &str,
        read_request: bool,
        script: impl Fn(Conn) + Send + Sync + 'static,
    ) -> Scripted {
        let listener = TcpListener::bind(bind).expect("bind the scripted server");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let accept = {
            let (requests, connections, stop) =
                (requests.clone(), connections.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (requests, stop, script) = (requests.clone(), stop.clone(), script.clone());
                    std::thread::spawn(move || {
                        let request = if read_request {
                            read_head(&mut stream)
                        } else {
                            String::new()
                        };
                        requests.lock().unwrap().push(request.clone());
                        script(Conn {
                            stream,
                            request,
                            stop,
                        });
                    });
                }
            })
        };
        Scripted {
            addr,
            requests,
            connections,
            stop,
            accept: Some(accept),
        }
    }

    /// A server that answers every request with `bytes` and closes.
    pub fn reply(bytes: impl Into<Vec<u8>>) -> Scripted {
        let bytes = bytes.into();
        Self::start(move |mut c| {
            c.send(&bytes);
        })
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The request heads received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Reads until the end of the request head, EOF, or 2 s.
pub fn read_head(stream: &mut TcpStream) -> String {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 1 << 20 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.set_read_timeout(None);
    String::from_utf8_lossy(&head).into_owned()
}

/// A plain `HTTP/1.1` response with a body and its Content-Length.
pub fn response(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A real HTTP server (tiny_http) answering every request with the
/// handler's status, content type and body.
pub struct Tiny {
    pub addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Tiny {
    pub fn start(
        handler: impl Fn(&tiny_http::Request) -> (u16, &'static str) + Send + 'static,
    ) -> Tiny {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("tiny_http"));
        let addr = server.server_addr().to_ip().expect("an IP address");
        let thread = {
            let server = server.clone();
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let (status, body) = handler(&request);
                    let header =
                        tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
                    let response = tiny_http::Response::from_string(body)
                        .with_status_code(status)
                        .with_header(header);
                    let _ = request.respond(response);
                }
            })
        };
        Tiny {
            addr,
            server,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Tiny {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Says, visibly (straight to stderr, past the test harness's capture),
/// that the calling test is skipped and why. Under `CI=true` a skip is a
/// failure: CI's machine has what every test needs (a kernel that drops
/// SYNs past a full backlog, ::1, 127.0.0.2).
#[track_caller]
pub fn skip(why: &str) {
    let at = std::panic::Location::caller();
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "skipped under CI=true at {at}: {why}"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED ({at}): {why}");
}

/// Says, visibly, what the calling test leaves unchecked where it cannot
/// be checked (under a runner such as qemu); not a failure under CI.
#[track_caller]
pub fn note(what: &str) {
    let at = std::panic::Location::caller();
    let _ = writeln!(std::io::stderr(), "NOT CHECKED ({at}): {what}");
}

/// A listener that never completes a handshake: backlog 0, its queue
/// filled by a connection that is never accepted, so further SYNs are
/// dropped and a connect hangs until its own deadline.
pub struct BlackHole {
    pub addr: SocketAddr,
    _listener: socket2::Socket,
    _fillers: Vec<TcpStream>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        Self::start_on("127.0.0.1", 0).expect("a black hole on 127.0.0.1")
    }

    /// On a given loopback address and port (0: any free port); `None` when
    /// that cannot be bound.
    pub fn start_on(ip: &str, port: u16) -> Option<BlackHole> {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).ok()?;
        let bind: SocketAddr = format!("{ip}:{port}").parse().ok()?;
        socket.bind(&bind.into()).ok()?;
        socket.listen(0).ok()?;
        let addr = socket.local_addr().ok()?.as_socket()?;
        let mut fillers = Vec::new();
        // Fill the accept queue; stop once a connect no longer completes.
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(s) => fillers.push(s),
                Err(_) => break,
            }
        }
        Some(BlackHole {
            addr,
            _listener: socket,
            _fillers: fillers,
        })
    }

    /// Whether a connect now hangs (the test environment drops SYNs).
    pub fn holds(&self) -> bool {
        TcpStream::connect_timeout(&self.addr, Duration::from_millis(300)).is_err()
    }
}

/// A background accept loop that ends by itself: polls `accept` every
/// 5 ms and hands each connection to `handle`, until dropped or 30 s.
pub struct Acceptor {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// `setup` runs first in the thread (e.g. waits, then binds) and
    /// returns the accept function; `accept` must not block (a
    /// non-blocking listener).
    pub fn spawn<S, A>(
        setup: impl FnOnce() -> A + Send + 'static,
        mut handle: impl FnMut(S) + Send + 'static,
    ) -> Acceptor
    where
        A: FnMut() -> std::io::Result<S>,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut accept = setup();
            let end = Instant::now() + MAX_STALL;
            while !flag.load(Ordering::SeqCst) && Instant::now() < end {
                match accept() {
                    Ok(conn) => handle(conn),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Acceptor {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A server that starts listening on `port` only after `delay`, then
/// answers 200 until dropped.
pub struct LateServer(#[allow(dead_code)] Acceptor);

impl LateServer {
    pub fn start(port: u16, delay: Duration) -> LateServer {
        LateServer(Acceptor::spawn(
            move || {
                std::thread::sleep(delay);
                let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the late port");
                listener.set_nonblocking(true).expect("nonblocking");
                move || listener.accept().map(|(stream, _)| stream)
            },
            |mut stream: std::net::TcpStream| {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(&response("200 OK", "", "{\"status\":\"ok\"}"));
            },
        ))
    }
}
