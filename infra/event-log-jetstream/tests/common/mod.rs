//! Helpers shared by the integration tests: fresh, uniquely named streams
//! that are deleted afterwards, and a private `nats-server` child process.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quire_domain::StreamId;
use quire_event_log_jetstream::{JetStreamLog, JetStreamLogConfig};
use uuid::Uuid;

/// The NATS server `scripts/services` runs for the test suite.
pub const LOCAL_NATS: &str = "nats://127.0.0.1:4222";

/// A configuration for a stream and subject prefix no other test uses.
pub fn unique_config(server: &str) -> JetStreamLogConfig {
    let id = Uuid::now_v7().simple().to_string();
    let mut config = JetStreamLogConfig::new([server]);
    config.stream_name = format!("QUIRE_TEST_{id}");
    config.subject_prefix = format!("quire-test.{id}");
    config.connect_timeout = Duration::from_secs(3);
    // The machines running the suite are small and busy.
    config.request_timeout = Duration::from_secs(10);
    config
}

/// Opens the log, failing the test (never skipping it) when NATS is not there.
pub async fn open_or_fail(config: JetStreamLogConfig) -> JetStreamLog {
    let servers = config.servers_text();
    match JetStreamLog::open(config).await {
        Ok(log) => log,
        Err(error) => panic!(
            "this test needs a NATS server with JetStream at {servers}; \
             `scripts/services up` starts one for the test suite: {error}"
        ),
    }
}

/// Deletes the log's stream when dropped (inside a multi-thread runtime).
#[derive(Debug)]
pub struct DeleteOnDrop(pub JetStreamLog);

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        let log = self.0.clone();
        let deleted =
            tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(log.delete_stream()));
        if let Err(error) = deleted {
            eprintln!(
                "could not delete test stream {}: {error}",
                log.config().stream_name
            );
        }
    }
}

/// A `nats-server -js` child process on a free port with its own store
/// directory, killed when dropped.
#[derive(Debug)]
pub struct PrivateServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl PrivateServer {
    /// Starts a server on a free port. Parallel tests pick ports the same
    /// way, so a port another test's server took in the meantime is given
    /// up for another one.
    pub fn start() -> PrivateServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = PrivateServer {
            child: None,
            port: 0,
            dir,
        };
        for _ in 0..10 {
            server.port = free_port();
            if server.launch() {
                return server;
            }
        }
        panic!("nats-server found no free port in 10 attempts");
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and directory.
    pub fn restart(&mut self) {
        assert!(
            self.launch(),
            "nats-server could not listen on port {} again",
            self.port
        );
    }

    /// Spawns the server on `self.port`; `false` if something else holds
    /// the port (our server then exits at once, unable to bind).
    fn launch(&mut self) -> bool {
        assert!(self.child.is_none(), "the server is running");
        if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            return false;
        }
        let mut child = Command::new(nats_server_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server must be installed to run this test");
        wait_for_port(self.port);
        // A server that lost the port to another exits right after the
        // other one answered in its place.
        std::thread::sleep(Duration::from_millis(100));
        if child.try_wait().expect("nats-server status").is_some() {
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

fn nats_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("QUIRE_NATS_SERVER") {
        return PathBuf::from(path);
    }
    let candidates = [
        "/usr/sbin/nats-server",
        "/usr/local/bin/nats-server",
        "/usr/bin/nats-server",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nats-server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A stream id of `category` no other test uses.
pub fn fresh_stream(category: &str) -> StreamId {
    StreamId::parse(&format!("{category}-{}", Uuid::now_v7().simple())).expect("stream id")
}
