//! The fleet across processes: `quire serve` gateways, projectors and a
//! worker as separate OS processes on the local NATS JetStream and
//! PostgreSQL (`scripts/services up` starts them). Each test has a stream,
//! schemas, a lease bucket and subjects of its own, removed at the end.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{put_upload, read_at, upload_request};
use quire_coordination_nats::async_nats;
use quire_gateways::auth::TokenAuthority;
use quire_proto::v1;
use quire_proto::v1::admin_service_client::AdminServiceClient;
use quire_proto::v1::channel_service_client::ChannelServiceClient;
use quire_proto::v1::document_service_client::DocumentServiceClient;
use quire_proto::v1::search_service_client::SearchServiceClient;
use sqlx::Row;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

const TOKEN_SECRET: &str = "fleet-test-token-secret-abcdefghijklmnop";
const URL_SECRET: &str = "fleet-test-url-secret-abcdefghijklmnopqr";
const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const REDIS: &str = "redis://127.0.0.1:6379";

type Auth = Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>;

/// One test's isolated fleet settings.
struct Fleet {
    id: String,
    nats: String,
    blobs: tempfile::TempDir,
    processes: Vec<Process>,
}

/// A `quire serve` child process, killed if still running when dropped.
struct Process {
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

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    listener.local_addr().expect("addr").port()
}

impl Fleet {
    fn new() -> Fleet {
        Fleet {
            id: Uuid::now_v7().simple().to_string()[20..].to_owned(),
            nats: "nats://127.0.0.1:4222".to_owned(),
            blobs: tempfile::tempdir().expect("blob dir"),
            processes: Vec::new(),
        }
    }

    /// Starts `quire serve --role <role>` named `name`; `schema` picks the
    /// read-model schemas and `fleet` the lease bucket and subjects, so a
    /// second, independent fleet can replay the same log.
    fn start(&mut self, name: &str, role: &str, schema: &str, fleet: &str) -> usize {
        let id = &self.id;
        let mut command = Command::new(env!("CARGO_BIN_EXE_quire"));
        command
            .args(["serve", "--role", role])
            .env("QUIRE_NODE__NAME", name)
            .env("QUIRE_NATS__SERVERS", format!("[\"{}\"]", self.nats))
            .env("QUIRE_NATS__STREAM", format!("QUIRE_FLEET_TEST_{id}"))
            .env("QUIRE_NATS__SUBJECT_PREFIX", format!("quire-test-{id}.events"))
            .env("QUIRE_POSTGRES__URL", POSTGRES)
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

    fn kill(&mut self, index: usize) {
        let process = &mut self.processes[index];
        process.child.kill().expect("SIGKILL");
        process.child.wait().expect("reaped");
    }

    /// SIGTERM, and a clean exit within 20 s.
    fn terminate(&mut self, index: usize) {
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

    async fn channel(&self, index: usize) -> Channel {
        let address = self.processes[index].grpc.clone().expect("a gateway");
        Channel::from_shared(format!("http://{address}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect")
    }

    fn schema(&self, schema: &str) -> String {
        format!("fleet_{}_{schema}", self.id)
    }

    async fn cleanup(mut self) {
        self.processes.clear();
        if let Ok(pool) = sqlx::PgPool::connect(POSTGRES).await {
            for schema in ["main", "main_search", "clean", "clean_search"] {
                let drop = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema(schema));
                let _ = sqlx::query(&drop).execute(&pool).await;
            }
        }
        for fleet in ["main", "clean"] {
            let prefix = format!("quire-test:{}:{fleet}", self.id);
            if let Ok(redis) = quire_realtime_redis::RedisRealtime::connect(REDIS, &prefix).await {
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
fn wait_until_running(name: &str, child: &mut Child) {
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

fn token(user: &str) -> String {
    let authority = TokenAuthority::new(TOKEN_SECRET.as_bytes()).expect("authority");
    authority
        .mint(
            &quire_domain::values::UserId::parse(user).expect("user"),
            Duration::from_secs(600),
        )
        .expect("token")
}

fn auth(user: &str) -> Auth {
    let value: MetadataValue<_> = format!("Bearer {}", token(user)).parse().expect("header");
    Box::new(move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", value.clone());
        Ok(request)
    })
}

fn channels(channel: &Channel, user: &str) -> ChannelServiceClient<InterceptedService<Channel, Auth>> {
    ChannelServiceClient::with_interceptor(channel.clone(), auth(user))
}

/// `user`'s unread counts through `gateway` once they include `position`.
async fn unread_counts(gateway: &Channel, user: &str, position: u64) -> Vec<(String, u64)> {
    channels(gateway, user)
        .get_unread_counts(v1::GetUnreadCountsRequest {
            read: read_at(position),
        })
        .await
        .expect("unread counts")
        .into_inner()
        .counts
        .into_iter()
        .map(|count| (count.channel_id, count.unread))
        .collect()
}

async fn create_channel(gateway: &Channel, name: &str) -> (String, u64) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_documents_cross_gateways() {
    let mut fleet = Fleet::new();
    fleet.start("projector-1", "projector", "main", "main");
    fleet.start("worker-1", "worker", "main", "main");
    let a = fleet.start("gateway-a", "gateway", "main", "main");
    let b = fleet.start("gateway-b", "gateway", "main", "main");
    let (gateway_a, gateway_b) = (fleet.channel(a).await, fleet.channel(b).await);

    // A channel created through A is read through B.
    let (channel_id, position) = create_channel(&gateway_a, "general").await;
    let seen = channels(&gateway_b, "bob")
        .get_channel(v1::GetChannelRequest {
            channel_id: channel_id.clone(),
            read: read_at(position),
        })
        .await
        .expect("channel through B")
        .into_inner();
    assert_eq!(seen.name, "general");

    // Messages sent through A reach a client streaming the channel from B
    // (Redis fan-out) and one streaming all of Bob's channels (the log).
    let mut live = channels(&gateway_b, "bob")
        .stream_messages(v1::StreamMessagesRequest {
            channel_id: channel_id.clone(),
        })
        .await
        .expect("stream")
        .into_inner();
    let mut everything = channels(&gateway_b, "bob")
        .stream_messages(v1::StreamMessagesRequest::default())
        .await
        .expect("stream of all channels")
        .into_inner();
    let mut alice = channels(&gateway_a, "alice");
    // Bob streams from B, so A sees him online (Redis presence).
    let mut online = Vec::new();
    for _ in 0..100 {
        let request = v1::GetPresenceRequest {
            channel_id: channel_id.clone(),
        };
        online = alice
            .get_presence(request)
            .await
            .expect("presence")
            .into_inner()
            .online_user_ids;
        if online == ["bob"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(online, ["bob"], "bob streams from gateway B");
    let mut lags = Vec::new();
    let mut last_position = 0;
    for n in 0..100 {
        let sent_at = Instant::now();
        let sent = alice
            .send_message(v1::SendMessageRequest {
                channel_id: channel_id.clone(),
                body: format!("message {n} about the zeppelin"),
                ..Default::default()
            })
            .await
            .expect("send")
            .into_inner();
        let acked = sent_at.elapsed();
        let update = tokio::time::timeout(Duration::from_secs(10), live.message())
            .await
            .expect("delivered within 10 s")
            .expect("stream")
            .expect("update");
        let message = update.message.expect("message");
        assert_eq!(message.id, sent.message_id);
        last_position = sent.result.expect("result").position;
        assert_eq!(message.body, format!("message {n} about the zeppelin"));
        lags.push(sent_at.elapsed().saturating_sub(acked));
    }
    for n in 0..100 {
        let update = tokio::time::timeout(Duration::from_secs(10), everything.message())
            .await
            .expect("delivered on the all-channels stream")
            .expect("stream")
            .expect("update");
        assert_eq!(
            update.message.expect("message").body,
            format!("message {n} about the zeppelin")
        );
    }
    // Bob's unread counts through B (Redis counters) count all 100.
    let counts = unread_counts(&gateway_b, "bob", last_position).await;
    assert_eq!(counts, [(channel_id.clone(), 100)]);

    lags.sort();
    println!(
        "ack -> streamed on the other gateway: p50 {:?}, p99 {:?}, max {:?} (100 messages)",
        lags[49], lags[98], lags[99]
    );

    // A document uploaded through A is listed and searchable through B.
    let content = b"# Airship plan\n\nThe dirigible leaves at dawn.\n";
    let ticket = DocumentServiceClient::with_interceptor(gateway_a.clone(), auth("alice"))
        .request_upload(upload_request("airship.md", content))
        .await
        .expect("ticket")
        .into_inner();
    let uploaded_at = put_upload(&ticket.upload_url, content).await;
    let listed = DocumentServiceClient::with_interceptor(gateway_b.clone(), auth("alice"))
        .list_documents(v1::ListDocumentsRequest {
            read: read_at(uploaded_at),
            ..Default::default()
        })
        .await
        .expect("list through B")
        .into_inner();
    assert!(
        listed
            .documents
            .iter()
            .any(|d| d.id == ticket.document_id && d.ready)
    );
    let mut search = SearchServiceClient::with_interceptor(gateway_b.clone(), auth("alice"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let hits = search
            .search(v1::SearchRequest {
                query: "dirigible".into(),
                ..Default::default()
            })
            .await
            .expect("search through B")
            .into_inner()
            .hits;
        if hits.iter().any(|hit| hit.id == ticket.document_id) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the extracted text never became searchable through B"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    for index in (0..fleet.processes.len()).rev() {
        fleet.terminate(index);
    }
    fleet.cleanup().await;
}

/// Every row of every read-model table of `schema`, as JSON text, sorted.
async fn read_model_rows(pool: &sqlx::PgPool, schema: &str) -> Vec<(String, Vec<String>)> {
    let tables = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 AND table_name NOT IN ('checkpoints', 'dead_letters', '_sqlx_migrations')
         ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut dump = Vec::new();
    for table in tables {
        let table: String = table.get(0);
        let select = format!("SELECT to_jsonb(t)::text FROM \"{schema}\".\"{table}\" t ORDER BY 1");
        let rows = sqlx::query_scalar::<_, String>(&select)
            .fetch_all(pool)
            .await
            .expect("rows");
        dump.push((table, rows));
    }
    dump
}

async fn checkpoints(pool: &sqlx::PgPool, schema: &str) -> Vec<(String, i64)> {
    let select = format!("SELECT projector, position FROM \"{schema}\".checkpoints ORDER BY 1");
    sqlx::query_as::<_, (String, i64)>(&select)
        .fetch_all(pool)
        .await
        .unwrap_or_default()
}

/// Waits until the relational projectors of `schema` have applied `head`.
async fn wait_for_checkpoints(pool: &sqlx::PgPool, schema: &str, head: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let points = checkpoints(pool, schema).await;
        let at = |name: &str| points.iter().find(|(p, _)| p == name).map_or(0, |(_, at)| *at);
        if at("documents.postgres") >= head as i64 && at("channels.postgres") >= head as i64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{schema} never reached {head}: {points:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Messages sent during the failover test, a multiple of its 3 channels.
const MESSAGES: usize = 2400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_projector_mid_load_loses_and_duplicates_nothing() {
    let mut fleet = Fleet::new();
    let first = fleet.start("projector-1", "projector", "main", "main");
    let a = fleet.start("gateway-a", "gateway", "main", "main");
    let gateway = fleet.channel(a).await;
    let mut rooms = Vec::new();
    for name in ["ops", "design", "random"] {
        rooms.push(create_channel(&gateway, name).await.0);
    }

    // Load through the gateway while the projector is killed and replaced.
    let sender = {
        let gateway = gateway.clone();
        let rooms = rooms.clone();
        tokio::spawn(async move {
            let mut alice = channels(&gateway, "alice");
            let mut last = 0;
            for n in 0..MESSAGES {
                let sent = alice
                    .send_message(v1::SendMessageRequest {
                        channel_id: rooms[n % rooms.len()].clone(),
                        body: format!("load message {n}"),
                        ..Default::default()
                    })
                    .await
                    .expect("send during failover")
                    .into_inner();
                last = sent.result.expect("result").position;
            }
            last
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !sender.is_finished(),
        "the projector must die in the middle of the load"
    );
    fleet.kill(first);
    fleet.start("projector-2", "projector", "main", "main");
    let head = sender.await.expect("sender");

    // The survivor catches up; a clean replay into other schemas, by an
    // independent fleet, must hold exactly the same rows.
    let pool = sqlx::PgPool::connect(POSTGRES).await.expect("postgres");
    wait_for_checkpoints(&pool, &fleet.schema("main"), head).await;
    fleet.start("replayer", "projector", "clean", "clean");
    wait_for_checkpoints(&pool, &fleet.schema("clean"), head).await;
    let failed_over = read_model_rows(&pool, &fleet.schema("main")).await;
    let replayed = read_model_rows(&pool, &fleet.schema("clean")).await;
    assert!(!replayed.is_empty());
    let messages = replayed
        .iter()
        .find(|(t, _)| t == "messages")
        .map_or(0, |(_, r)| r.len());
    assert_eq!(messages, MESSAGES, "every message once in the clean replay");
    for ((table, rows), (_, clean)) in failed_over.iter().zip(&replayed) {
        assert_eq!(rows.len(), clean.len(), "{table}: row counts differ");
        assert!(rows == clean, "{table}: rows differ from a clean replay");
    }
    assert_eq!(failed_over.len(), replayed.len());

    // Listing through the gateway agrees.
    let mut bob = channels(&gateway, "bob");
    let (mut listed, mut page_token) = (0, String::new());
    loop {
        let page = bob
            .list_messages(v1::ListMessagesRequest {
                channel_id: rooms[0].clone(),
                read: read_at(head),
                page: Some(v1::PageRequest {
                    page_size: 200,
                    page_token,
                }),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        listed += page.messages.len();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(listed, MESSAGES / 3);

    // Unread counts, written to Redis by both projector processes in turn,
    // agree with the Postgres read model's.
    let from_redis = unread_counts(&gateway, "bob", head).await;
    let from_postgres: Vec<(String, u64)> = bob
        .list_channels(v1::ListChannelsRequest {
            read: read_at(head),
            page: None,
        })
        .await
        .expect("channels")
        .into_inner()
        .channels
        .into_iter()
        .filter(|c| c.unread > 0)
        .map(|c| (c.id, c.unread))
        .collect();
    assert_eq!(from_redis.len(), rooms.len());
    assert!(from_redis.iter().all(|(_, n)| *n == (MESSAGES / 3) as u64));
    assert_eq!(from_redis, from_postgres);
    let statuses = AdminServiceClient::with_interceptor(gateway.clone(), auth("alice"))
        .list_projectors(v1::ListProjectorsRequest {})
        .await
        .expect("admin through the gateway")
        .into_inner();
    assert!(statuses.projectors.iter().any(|p| p.name == "channels.postgres"));

    for index in (0..fleet.processes.len()).rev() {
        if index != first {
            fleet.terminate(index);
        }
    }
    fleet.cleanup().await;
}

/// A nats-server of the test's own (JetStream in a temporary directory), so
/// the test can kill and restart it.
struct PrivateNats {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl PrivateNats {
    /// Starts a server on a free port, taking another if a parallel test's
    /// process took that one meanwhile.
    fn start() -> PrivateNats {
        let mut server = PrivateNats {
            child: None,
            port: 0,
            dir: tempfile::tempdir().expect("dir"),
        };
        for _ in 0..10 {
            server.port = free_port();
            if server.launch() {
                return server;
            }
        }
        panic!("nats-server found no free port in 10 attempts");
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        assert!(
            self.launch(),
            "nats-server could not listen on port {} again",
            self.port
        );
    }

    /// Spawns the server on `self.port`; `false` if something else holds
    /// the port (the server then exits, unable to bind).
    fn launch(&mut self) -> bool {
        if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            return false;
        }
        let binary = [
            "/usr/sbin/nats-server",
            "/usr/local/bin/nats-server",
            "/usr/bin/nats-server",
        ]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .unwrap_or("nats-server");
        let mut child = Command::new(binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        if child.try_wait().expect("nats-server status").is_some() {
            return false;
        }
        self.child = Some(child);
        true
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_outage_fails_calls_as_unavailable_and_the_fleet_recovers() {
    let mut nats = PrivateNats::start();
    let mut fleet = Fleet::new();
    fleet.nats = nats.url();
    fleet.start("projector-1", "projector", "main", "main");
    let a = fleet.start("gateway-a", "gateway", "main", "main");
    let gateway = fleet.channel(a).await;
    let (room, _) = create_channel(&gateway, "ops").await;
    let mut alice = channels(&gateway, "alice");
    send_in(&mut alice, &room, "before the outage")
        .await
        .expect("send");

    nats.kill();
    let error = send_in(&mut alice, &room, "during the outage")
        .await
        .expect_err("no event log");
    assert_eq!(error.code(), tonic::Code::Unavailable, "{error}");

    nats.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    let position = loop {
        match send_in(&mut alice, &room, "after the outage").await {
            Ok(position) => break position,
            Err(error) => {
                assert_eq!(error.code(), tonic::Code::Unavailable, "{error}");
                assert!(Instant::now() < deadline, "the gateway never recovered: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    // The projector gets its lease back and catches up; reads see it all.
    let deadline = Instant::now() + Duration::from_secs(30);
    let bodies = loop {
        let listed = channels(&gateway, "bob")
            .list_messages(v1::ListMessagesRequest {
                channel_id: room.clone(),
                read: read_at(position),
                ..Default::default()
            })
            .await;
        match listed {
            Ok(listed) => {
                break listed
                    .into_inner()
                    .messages
                    .into_iter()
                    .map(|m| m.body)
                    .collect::<Vec<_>>();
            }
            Err(error) => {
                assert!(Instant::now() < deadline, "reads never recovered: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert!(bodies.contains(&"before the outage".to_owned()), "{bodies:?}");
    assert!(bodies.contains(&"after the outage".to_owned()), "{bodies:?}");
    for index in (0..fleet.processes.len()).rev() {
        fleet.terminate(index);
    }
    fleet.cleanup().await;
}

async fn send_in(
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
