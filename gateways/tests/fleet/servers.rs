//! Servers of a test's own, which it may kill and restart on the same port:
//! a nats-server with JetStream in a temporary directory, and a
//! redis-server that keeps nothing on disk (a restart comes back empty, as
//! a Redis without persistence does).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::free_port;

pub struct PrivateServer {
    scheme: &'static str,
    /// The command line for a port.
    command: Box<dyn Fn(u16) -> Command + Send>,
    child: Option<Child>,
    port: u16,
    /// The server's data directory, removed when the server is dropped.
    _data: tempfile::TempDir,
}

/// The first of `names` found in the usual places, or the bare name for
/// `PATH` to resolve.
fn binary(name: &'static str) -> String {
    ["/usr/sbin", "/usr/local/bin", "/usr/bin"]
        .into_iter()
        .map(|dir| format!("{dir}/{name}"))
        .find(|path| Path::new(path).exists())
        .unwrap_or_else(|| name.to_owned())
}

impl PrivateServer {
    pub fn nats() -> PrivateServer {
        let data = tempfile::tempdir().expect("nats data dir");
        let dir = data.path().to_owned();
        let program = binary("nats-server");
        PrivateServer::start("nats", data, move |port| {
            let mut command = Command::new(&program);
            command
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(&dir);
            command
        })
    }

    pub fn redis() -> PrivateServer {
        let data = tempfile::tempdir().expect("redis dir");
        let dir = data.path().to_owned();
        let program = binary("redis-server");
        PrivateServer::start("redis", data, move |port| {
            let mut command = Command::new(&program);
            command
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--dir"])
                .arg(&dir);
            command
        })
    }

    /// Starts the server on a free port, taking another if a parallel
    /// test's process took that one meanwhile.
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

    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

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
        if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            return false;
        }
        let mut child = (self.command)(self.port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{} server: {error}", self.scheme));
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{} server did not start", self.scheme);
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        if child.try_wait().expect("server status").is_some() {
            return false;
        }
        self.child = Some(child);
        true
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
    }
}
