//! Servers of a test's own, which it may kill and restart on the same port
//! to test outages: a `nats-server` with JetStream and a `redis-server` that
//! keeps nothing on disk (a restart comes back empty, as a Redis without
//! persistence does), each with a temporary data directory. Used by the
//! JetStream log's restart tests and the fleet's outage tests; only ever a
//! dev-dependency.
//!
//! The binaries are looked up in the usual system directories (or named by
//! `QUIRE_NATS_SERVER` / `QUIRE_REDIS_SERVER`); a missing one fails the
//! test with its name.

#![forbid(unsafe_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server child process on a port of its own, killed when dropped.
pub struct PrivateServer {
    scheme: &'static str,
    /// The command line for a port.
    command: Box<dyn Fn(u16) -> Command + Send>,
    child: Option<Child>,
    port: u16,
    /// The server's data directory, removed when the server is dropped.
    _data: tempfile::TempDir,
}

impl std::fmt::Debug for PrivateServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateServer")
            .field("url", &self.url())
            .field("running", &self.child.is_some())
            .finish_non_exhaustive()
    }
}

impl PrivateServer {
    /// `nats-server -js` storing under a temporary directory, which a
    /// restart keeps.
    pub fn nats() -> PrivateServer {
        let data = tempfile::tempdir().expect("nats data dir");
        let dir = data.path().to_owned();
        let program = binary("QUIRE_NATS_SERVER", "nats-server");
        PrivateServer::start("nats", data, move |port| {
            let mut command = Command::new(&program);
            command
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(&dir);
            command
        })
    }

    /// `redis-server` with neither snapshots nor an append-only file.
    pub fn redis() -> PrivateServer {
        let data = tempfile::tempdir().expect("redis dir");
        let dir = data.path().to_owned();
        let program = binary("QUIRE_REDIS_SERVER", "redis-server");
        PrivateServer::start("redis", data, move |port| {
            let mut command = Command::new(&program);
            command
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--dir"])
                .arg(&dir);
            command
        })
    }

    /// Starts the server on a free port. Parallel tests pick ports the same
    /// way, so a port another test's server took meanwhile is given up for
    /// another one.
    fn start(
        scheme: &'static str,
        data: tempfile::TempDir,
        command: impl Fn(u16) -> Command + Send + 'static,
    ) -> PrivateServer {
        let mut server = PrivateServer {
            scheme,
            command: Box::new(command),
            child: None,
            port: 0,
            _data: data,
        };
        for _ in 0..10 {
            server.port = free_port();
            if server.launch() {
                return server;
            }
        }
        panic!("{scheme} server found no free port in 10 attempts");
    }

    /// `nats://127.0.0.1:<port>` or `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        assert!(
            self.launch(),
            "{} server could not listen on port {} again",
            self.scheme,
            self.port
        );
    }

    /// Spawns the server on `self.port`; `false` if something else holds
    /// the port (the server then exits, unable to bind).
    fn launch(&mut self) -> bool {
        assert!(self.child.is_none(), "the {} server is running", self.scheme);
        if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            return false;
        }
        let mut child = (self.command)(self.port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("{} server must be installed for this test: {error}", self.scheme)
            });
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{} server did not start", self.scheme);
            std::thread::sleep(Duration::from_millis(20));
        }
        // A server that lost the port to another exits right after the
        // other one answered in its place.
        std::thread::sleep(Duration::from_millis(100));
        if child.try_wait().expect("server status").is_some() {
            return false;
        }
        self.child = Some(child);
        true
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `kill -TERM`: a clean shutdown.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The binary `variable` names, else the first of the usual places that
/// has `name`, else the bare name for `PATH` to resolve.
fn binary(variable: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    ["/usr/sbin", "/usr/local/bin", "/usr/bin"]
        .into_iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
