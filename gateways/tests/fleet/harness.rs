//! The fleet harness: one test's isolated settings (stream, schemas, lease
//! bucket, subjects, Redis prefix), `quire serve` child processes, and the
//! gRPC helpers the tests share.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use quire_coordination_nats::async_nats;
use quire_gateways::auth::TokenAuthority;
use quire_proto::v1;
use quire_proto::v1::channel_service_client::ChannelServiceClient;
use quire_test_servers::free_port;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::common::read_at;

pub const TOKEN_SECRET: &str = "fleet-test-token-secret-abcdefghijklmnop";
pub const URL_SECRET: &str = "fleet-test-url-secret-abcdefghijklmnopqr";
pub const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const REDIS: &str = "redis://127.0.0.1:6379";

pub type Auth = Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>;

/// One test's isolated fleet settings.
pub struct Fleet {
    id: String,
    /// The services every process of the fleet uses; a test may point one
    /// at a server or a link of its own before starting processes.
    pub nats: String,
    pub postgres: String,
    pub redis: String,
    blobs: tempfile::TempDir,
    pub processes: Vec<Process>,
}

/// A `quire serve` child process, killed if still running when dropped.
pub struct Process {
    name: String,
    child: Child,
    grpc: Option<String>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Fleet {
    pub fn new() -> Fleet {
        Fleet {
            id: Uuid::now_v7().simple().to_string()[20..].to_owned(),
            nats: "nats://127.0.0.1:4222".to_owned(),
            postgres: POSTGRES.to_owned(),
            redis: REDIS.to_owned(),
            blobs: tempfile::tempdir().expect("blob dir"),
            processes: Vec::new(),
        }
    }

    /// Starts `quire serve --role <role>` named `name`; `schema` picks the
    /// read-model schemas and `fleet` the lease bucket and subjects, so a
    /// second, independent fleet can replay the same log.
    pub fn start(&mut self, name: &str, role: &str, schema: &str, fleet: &str) -> usize {
        let id = &self.id;
        let mut command = Command::new(env!("CARGO_BIN_EXE_quire"));
        command
            .args(["serve", "--role", role])
            .env("QUIRE_NODE__NAME", name)
            .env("QUIRE_NATS__SERVERS", format!("[\"{}\"]", self.nats))
            .env("QUIRE_NATS__STREAM", format!("QUIRE_FLEET_TEST_{id}"))
            .env("QUIRE_NATS__SUBJECT_PREFIX", format!("quire-test-{id}.events"))
            .env("QUIRE_POSTGRES__URL", &self.postgres)
            .env("QUIRE_REDIS__URL", &self.redis)
            .env(
                "QUIRE_POSTGRES__READ_MODELS_SCHEMA",
                format!("fleet_{id}_{schema}"),
            )
            .env(
                "QUIRE_POSTGRES__SEARCH_SCHEMA",
                format!("fleet_{id}_{schema}_search"),
            )
            .env("QUIRE_POSTGRES__MAX_CONNECTIONS", "4")
            .env(
                "QUIRE_FLEET__LEASE_BUCKET",
                format!("QUIRE_TEST_LEASES_{id}_{fleet}"),
            )
            .env("QUIRE_FLEET__SUBJECT_PREFIX", format!("quire-test-{id}.{fleet}"))
            .env("QUIRE_FLEET__LEASE_TTL_MS", "2000")
            .env("QUIRE_FLEET__HEARTBEAT_MS", "300")
            .env("QUIRE_REDIS__KEY_PREFIX", format!("quire-test:{id}:{fleet}"))
            .env("QUIRE_AUTH__TOKEN_SECRET", TOKEN_SECRET)
            .env("QUIRE_AUTH__URL_SECRET", URL_SECRET)
            .env("QUIRE_BLOBS__DIR", self.blobs.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let grpc = role == "gateway";
        let grpc_addr = format!("127.0.0.1:{}", free_port());
        if grpc {
            command
                .env("QUIRE_GRPC__LISTEN", &grpc_addr)
                .env("QUIRE_HTTP__LISTEN", format!("127.0.0.1:{}", free_port()));
        }
        let mut child = command.spawn().expect("spawn quire serve");
        wait_until_running(name, &mut child);
        self.processes.push(Process {
            name: name.to_owned(),
            child,
            grpc: grpc.then_some(grpc_addr),
        });
        self.processes.len() - 1
    }

    pub fn kill(&mut self, index: usize) {
        let process = &mut self.processes[index];
        process.child.kill().expect("SIGKILL");
        process.child.wait().expect("reaped");
    }

    /// SIGTERM, and a clean exit within 20 s.
    pub fn terminate(&mut self, index: usize) {
        let process = &mut self.processes[index];
        let pid = process.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = process.child.try_wait().expect("wait") {
                assert!(status.success(), "{} exited with {status}", process.name);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop on SIGTERM",
                process.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub async fn channel(&self, index: usize) -> Channel {
        let address = self.processes[index].grpc.clone().expect("a gateway");
        Channel::from_shared(format!("http://{address}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect")
    }

    /// Starts the smallest fleet, `projector-1` and `gateway-a`, and
    /// connects to the gateway.
    pub async fn start_projector_and_gateway(&mut self) -> Channel {
        self.start("projector-1", "projector", "main", "main");
        let gateway = self.start("gateway-a", "gateway", "main", "main");
        self.channel(gateway).await
    }

    /// Stops every process with SIGTERM, newest first (each must exit
    /// cleanly), and removes what the fleet stored.
    pub async fn stop(mut self) {
        for index in (0..self.processes.len()).rev() {
            self.terminate(index);
        }
        self.cleanup().await;
    }

    pub fn schema(&self, schema: &str) -> String {
        format!("fleet_{}_{schema}", self.id)
    }

    pub async fn cleanup(mut self) {
        self.processes.clear();
        if let Ok(pool) = sqlx::PgPool::connect(POSTGRES).await {
            for schema in ["main", "main_search", "clean", "clean_search"] {
                let drop = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema(schema));
                let _ = sqlx::query(&drop).execute(&pool).await;
            }
        }
        for fleet in ["main", "clean"] {
            let prefix = format!("quire-test:{}:{fleet}", self.id);
            if let Ok(redis) = quire_realtime_redis::RedisRealtime::connect(&self.redis, &prefix).await {
                let _ = redis.delete_all().await;
            }
        }
        if let Ok(client) = async_nats::connect(self.nats.as_str()).await {
            let jetstream = async_nats::jetstream::new(client);
            let _ = jetstream
                .delete_stream(format!("QUIRE_FLEET_TEST_{}", self.id))
                .await;
            for fleet in ["main", "clean"] {
                let _ = jetstream
                    .delete_key_value(format!("QUIRE_TEST_LEASES_{}_{fleet}", self.id))
                    .await;
            }
        }
    }
}

/// Waits for the process's "is running" line on stdout, then keeps
/// draining stdout so the child never blocks on a full pipe.
pub fn wait_until_running(name: &str, child: &mut Child) {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("is running") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let status = child.try_wait().ok().flatten();
        panic!("{name} did not start (exit: {status:?})");
    }
}

pub fn token(user: &str) -> String {
    let authority = TokenAuthority::new(TOKEN_SECRET.as_bytes()).expect("authority");
    authority
        .mint(
            &quire_domain::values::UserId::parse(user).expect("user"),
            Duration::from_secs(600),
        )
        .expect("token")
}

pub fn auth(user: &str) -> Auth {
    let value: MetadataValue<_> = format!("Bearer {}", token(user)).parse().expect("header");
    Box::new(move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", value.clone());
        Ok(request)
    })
}

pub fn channels(channel: &Channel, user: &str) -> ChannelServiceClient<InterceptedService<Channel, Auth>> {
    ChannelServiceClient::with_interceptor(channel.clone(), auth(user))
}

/// `user`'s unread counts through `gateway` once they include `position`,
/// from the unread port (Redis in a fleet).
pub async fn unread_counts(
    gateway: &Channel,
    user: &str,
    position: u64,
) -> Result<Vec<(String, u64)>, tonic::Status> {
    let counts = channels(gateway, user)
        .get_unread_counts(v1::GetUnreadCountsRequest {
            read: read_at(position),
        })
        .await?
        .into_inner()
        .counts;
    Ok(counts.into_iter().map(|c| (c.channel_id, c.unread)).collect())
}

/// The same counts as the channel list has them (the relational read
/// model), for the channels with unread messages.
pub async fn listed_unread_counts(
    gateway: &Channel,
    user: &str,
    position: u64,
) -> Result<Vec<(String, u64)>, tonic::Status> {
    let listed = channels(gateway, user)
        .list_channels(v1::ListChannelsRequest {
            read: read_at(position),
            page: None,
        })
        .await?
        .into_inner()
        .channels;
    Ok(listed
        .into_iter()
        .filter(|c| c.unread > 0)
        .map(|c| (c.id, c.unread))
        .collect())
}

pub async fn create_channel(gateway: &Channel, name: &str) -> (String, u64) {
    let created = channels(gateway, "alice")
        .create_channel(v1::CreateChannelRequest {
            command_id: String::new(),
            kind: v1::ChannelKind::Group as i32,
            name: name.into(),
            member_ids: vec!["bob".into()],
        })
        .await
        .expect("create channel")
        .into_inner();
    (created.channel_id, created.result.expect("result").position)
}

pub async fn send_in(
    alice: &mut ChannelServiceClient<InterceptedService<Channel, Auth>>,
    room: &str,
    body: &str,
) -> Result<u64, tonic::Status> {
    let sent = alice
        .send_message(v1::SendMessageRequest {
            channel_id: room.to_owned(),
            body: body.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(sent.result.map_or(0, |result| result.position))
}
