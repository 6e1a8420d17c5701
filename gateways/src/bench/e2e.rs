//! `quire bench e2e`: the whole `quire dev` stack in this process, driven
//! over gRPC on 127.0.0.1 by concurrent `SendMessage` clients.
//!
//! Set-up: a fresh data directory (under `--dir` or the system temp
//! directory, removed afterwards), `assemble` on ephemeral ports, `serve` in
//! a spawned task; `--clients` users `bench-<i>` and one observer user, all
//! participants of `--channels` group channels. The clients share
//! `--connections` HTTP/2 connections (tonic `Channel`s); the observers have
//! their own. A one-second unmeasured warm-up precedes the scenarios, and
//! every projector catches up with the log before each scenario.
//!
//! Scenarios, `--seconds` each (`grpc_floor` runs between the two others):
//! - `grpc_floor`: closed loop of gRPC health checks on the same
//!   connections (no token, no command): the transport's own ceiling on
//!   this machine, reported as calls/s and latency.
//! - `e2e_max`: closed loop; every client sends its next message as soon as
//!   the previous one is acknowledged, to a channel chosen at random.
//! - `e2e_half`: open loop at `--rate`, or half the rate `e2e_max` reached.
//!   Each client sends on its own schedule (`rate / clients` per second,
//!   staggered). Latency counts from the scheduled time when the client was
//!   still waiting for an earlier reply (so a stall counts against every
//!   command it delays), and from the actual send otherwise (so the 1 ms
//!   granularity of tokio's timer is not charged to the server).
//!
//! Measured per scenario:
//! - commands/s and the client-observed latency of `SendMessage` (request
//!   to acknowledgement, hdrhistogram, µs);
//! - ack→visible in the read model (`visible_*`): every `--sample-every`-th
//!   acknowledged message of each client is handed to an observer task that
//!   calls `ListMessages` on its channel (no `min_position`, newest 16) back
//!   to back until the message is in the page. The lag is from the ack to
//!   the *response* that first contains it, so it is an upper bound that
//!   includes one query round trip and the observer's own scheduling; a
//!   message already visible when the ack arrives counts as one round trip,
//!   not zero. `applied_*` is the same lag read in process from the
//!   channels projector's checkpoint (the read model answers queries as
//!   soon as the checkpoint passes the message's position): 0 when the
//!   read model had it before the client saw the ack.
//! - ack→found in search (`search_*`): one message every
//!   `--search-sample-ms` carries a unique token in its body; every 20 ms
//!   the observer runs one `Search` for the oldest outstanding tokens
//!   (joined by `OR`), so the figure is an upper bound with 20 ms
//!   granularity and the observer adds at most 50 searches/s however far
//!   search lags. `search_applied_*` is the same lag read in process from
//!   the search projector's checkpoint (it commits, and reloads its reader,
//!   before the checkpoint moves).
//!
//! The load generator, the observers and the server share one tokio runtime
//! and the machine's cores (the reference machine has 2): the figures are of
//! the whole system, client included, not of the server alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use quire_domain::Position;
use quire_domain::values::UserId;
use quire_projections::handle::ProjectorHandle;
use quire_projections::set::ProjectionSet;
use quire_proto::v1;
use quire_proto::v1::channel_service_client::ChannelServiceClient;
use quire_proto::v1::search_service_client::SearchServiceClient;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tracing::{info, warn};

use super::report::{E2eResult, ScenarioResult, print, print_e2e};
use crate::app::{App, ReadModel};
use crate::cli::E2eArgs;
use crate::dev::{DevOptions, assemble, serve};

/// Unmeasured closed-loop run before the first scenario.
const WARM_UP: Duration = Duration::from_secs(1);
/// Messages per `ListMessages` poll.
const VISIBLE_PAGE: u32 = 16;
/// A sampled message not visible after this long counts as missed.
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Time between two searches for one sampled message.
const SEARCH_POLL: Duration = Duration::from_millis(20);
/// A sampled message not found after this long counts as missed.
const SEARCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the projectors to catch up between scenarios.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);

type ChannelClient = ChannelServiceClient<InterceptedService<Channel, Bearer>>;
type SearchClient = SearchServiceClient<InterceptedService<Channel, Bearer>>;

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Debug, Clone)]
struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// The running stack and everything the scenarios share.
struct Bench {
    app: Arc<App>,
    /// The projectors of the embedded stack under test.
    projections: Arc<ProjectionSet>,
    clients: Vec<ChannelClient>,
    observer: ChannelClient,
    search: SearchClient,
    channel_ids: Arc<Vec<String>>,
    connections: usize,
    /// Health clients on the same connections as `clients`, one per client.
    health: Vec<HealthClient<Channel>>,
}

pub async fn run(args: E2eArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.clients > 0, "--clients must be at least 1");
    anyhow::ensure!(args.channels > 0, "--channels must be at least 1");
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    let dir = tempfile::tempdir_in(&base)?;
    let options = DevOptions {
        data_dir: dir.path().to_path_buf(),
        grpc_addr: "127.0.0.1:0".to_owned(),
        http_addr: "127.0.0.1:0".to_owned(),
    };
    let stack = assemble(&options).await?;
    let address = format!("http://{}", stack.grpc.local_addr()?);
    let ttl = Duration::from_secs(24 * 3600);
    let mint = |user: &str| -> anyhow::Result<Bearer> {
        let token = stack.auth.mint(&UserId::parse(user)?, ttl)?;
        Ok(Bearer(format!("Bearer {token}").parse()?))
    };
    let users: Vec<String> = (0..args.clients).map(|i| format!("bench-{i}")).collect();
    let tokens = users
        .iter()
        .map(|u| mint(u))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let observer_token = mint("bench-observer")?;
    let app = stack.app.clone();
    let projections = stack.projections.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(stack, async {
        let _ = stopped.await;
    }));

    let result = async {
        let connections = match args.connections {
            0 => args.clients,
            n => n.min(args.clients),
        };
        let mut channels = Vec::with_capacity(connections);
        for _ in 0..connections {
            channels.push(connect(&address).await?);
        }
        let observer_channel = connect(&address).await?;
        let clients: Vec<ChannelClient> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| {
                ChannelServiceClient::with_interceptor(channels[i % connections].clone(), token.clone())
            })
            .collect();
        let observer =
            ChannelServiceClient::with_interceptor(observer_channel.clone(), observer_token.clone());
        let search = SearchServiceClient::with_interceptor(observer_channel, observer_token.clone());
        let channel_ids = create_channels(&clients[0], &users, args.channels).await?;
        let health = (0..clients.len())
            .map(|i| HealthClient::new(channels[i % connections].clone()))
            .collect();
        let bench = Bench {
            health,
            app: app.clone(),
            projections: projections.clone(),
            clients,
            observer,
            search,
            channel_ids: Arc::new(channel_ids),
            connections,
        };
        run_scenarios(&bench, &args).await
    }
    .await;

    let _ = stop.send(());
    server.await??;
    result
}

async fn connect(address: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(address.to_owned())?
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {address}"))
}

/// Creates the group channels as the first user, with every other user
/// and the observer as members.
async fn create_channels(
    client: &ChannelClient,
    users: &[String],
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let mut members: Vec<String> = users.iter().skip(1).cloned().collect();
    members.push("bench-observer".to_owned());
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let response = client
            .clone()
            .create_channel(v1::CreateChannelRequest {
                command_id: String::new(),
                kind: v1::ChannelKind::Group as i32,
                name: format!("bench-{i}"),
                member_ids: members.clone(),
            })
            .await
            .context("creating a channel")?
            .into_inner();
        ids.push(response.channel_id);
    }
    Ok(ids)
}

async fn run_scenarios(bench: &Bench, args: &E2eArgs) -> anyhow::Result<()> {
    let wanted = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    let duration = Duration::from_secs_f64(args.seconds);
    let run_tag = rand::random::<u32>();
    run_load(bench, WARM_UP, None, Sampling::none(), run_tag).await?;
    let mut max_rate = None;
    if wanted("e2e_max") {
        settle(bench).await?;
        let mut result = run_load(bench, duration, None, Sampling::of(args), run_tag).await?;
        result.scenario = "e2e_max".to_owned();
        max_rate = Some(result.commands_per_sec);
        print_e2e(&result, args.json)?;
    }
    if wanted("grpc_floor") {
        settle(bench).await?;
        print(&run_floor(bench, duration).await?, args.json)?;
    }
    if wanted("e2e_half") {
        let rate = args
            .rate
            .or(max_rate.map(|rate| rate / 2.0))
            .context("e2e_half without e2e_max needs --rate")?;
        anyhow::ensure!(rate > 0.0, "the open-loop rate must be positive");
        settle(bench).await?;
        let mut result = run_load(bench, duration, Some(rate), Sampling::of(args), run_tag).await?;
        result.scenario = "e2e_half".to_owned();
        print_e2e(&result, args.json)?;
    }
    Ok(())
}

/// `grpc_floor`: every client calls the gRPC health `Check` in a closed
/// loop on the same connections: what one unary RPC costs on this machine
/// with nothing behind it (no token, no command, no event), the ceiling
/// any RPC can reach here.
async fn run_floor(bench: &Bench, duration: Duration) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for client in &bench.health {
        let mut client = client.clone();
        tasks.spawn(async move {
            let mut latencies = histogram()?;
            while Instant::now() < deadline {
                let sent = Instant::now();
                client.check(HealthCheckRequest::default()).await?;
                latencies.record(sent.elapsed().as_micros().max(1) as u64)?;
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = histogram()?;
    while let Some(outcome) = tasks.join_next().await {
        latencies.add(&outcome??)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(ScenarioResult {
        scenario: "grpc_floor".to_owned(),
        writers: bench.health.len(),
        batch: 1,
        events: latencies.len(),
        seconds,
        events_per_sec: latencies.len() as f64 / seconds,
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
        vs_baseline: None,
    })
}

/// Waits until every projector has applied the whole log.
async fn settle(bench: &Bench) -> anyhow::Result<()> {
    let head = bench.app.log.head().await?;
    for handle in bench.projections.handles() {
        handle
            .wait_for(head, SETTLE_TIMEOUT)
            .await
            .with_context(|| format!("projector {} did not catch up", handle.name()))?;
    }
    Ok(())
}

/// Which acknowledged messages the observers follow.
#[derive(Debug, Clone, Copy)]
struct Sampling {
    /// Every n-th message of each client (0: none).
    every: u64,
    /// Least time between two search samples (`None`: none).
    search_period: Option<Duration>,
}

impl Sampling {
    fn none() -> Sampling {
        Sampling {
            every: 0,
            search_period: None,
        }
    }

    fn of(args: &E2eArgs) -> Sampling {
        Sampling {
            every: args.sample_every,
            search_period: Some(Duration::from_millis(args.search_sample_ms.max(1))),
        }
    }
}

/// A message the read-model observer follows.
struct VisibleSample {
    channel_id: String,
    message_id: String,
    position: Position,
    acked: Instant,
}

/// A message the search observer follows.
struct SearchSample {
    token: String,
    message_id: String,
    position: Position,
    acked: Instant,
}

/// Hands out search samples: one per period, to whichever client asks
/// first.
struct SearchClock {
    started: Instant,
    period: Option<Duration>,
    /// Microseconds since `started` when the next sample is due.
    next_due: AtomicU64,
}

impl SearchClock {
    fn take(&self) -> bool {
        let Some(period) = self.period else {
            return false;
        };
        let now = self.started.elapsed().as_micros() as u64;
        let due = self.next_due.load(Ordering::Relaxed);
        now >= due
            && self
                .next_due
                .compare_exchange(
                    due,
                    now + period.as_micros() as u64,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}

/// What one client task did.
struct ClientOutcome {
    latencies: Histogram<u64>,
    commands: u64,
    errors: u64,
    first_error: Option<String>,
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

/// Runs every client for `duration`, closed loop or at `rate`, with the
/// observers following the sampled messages.
async fn run_load(
    bench: &Bench,
    duration: Duration,
    rate: Option<f64>,
    sampling: Sampling,
    run_tag: u32,
) -> anyhow::Result<E2eResult> {
    let (visible_tx, visible_rx) = mpsc::unbounded_channel();
    let (search_tx, search_rx) = mpsc::unbounded_channel();
    let channels_handle = projector(bench, ReadModel::Channels)?;
    let search_handle = projector(bench, ReadModel::Search)?;
    let visible = tokio::spawn(observe_visible(
        bench.observer.clone(),
        channels_handle,
        visible_rx,
    ));
    let searched = tokio::spawn(observe_search(bench.search.clone(), search_handle, search_rx));

    let clients = bench.clients.len();
    let interval = rate.map(|rate| Duration::from_secs_f64(clients as f64 / rate));
    let cpu_before = cpu_seconds()?;
    let started = Instant::now();
    let deadline = started + duration;
    let clock = Arc::new(SearchClock {
        started,
        period: sampling.search_period,
        next_due: AtomicU64::new(0),
    });
    let mut tasks = JoinSet::new();
    for (index, client) in bench.clients.iter().enumerate() {
        let plan = ClientPlan {
            index,
            client: client.clone(),
            channel_ids: bench.channel_ids.clone(),
            // Open loop: clients start staggered over one interval.
            first_send: started
                + interval.map_or(Duration::ZERO, |i| i.mul_f64(index as f64 / clients as f64)),
            deadline,
            interval,
            sample_every: sampling.every,
            clock: clock.clone(),
            visible: visible_tx.clone(),
            search: search_tx.clone(),
            tag: format!("zq{run_tag:x}"),
        };
        tasks.spawn(plan.run());
    }
    drop((visible_tx, search_tx));
    let mut latencies = histogram()?;
    let (mut commands, mut errors) = (0, 0);
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome??;
        latencies.add(&outcome.latencies)?;
        commands += outcome.commands;
        errors += outcome.errors;
        if let Some(error) = outcome.first_error {
            warn!(error = %error, "a SendMessage failed");
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_cores = (cpu_seconds()? - cpu_before) / seconds;
    info!(commands, seconds, "load done; waiting for the observers");
    let visible = visible.await??;
    let searched = searched.await??;
    Ok(E2eResult {
        scenario: String::new(),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        clients,
        connections: bench.connections,
        channels: bench.channel_ids.len(),
        target_per_sec: rate,
        commands,
        errors,
        seconds,
        commands_per_sec: commands as f64 / seconds,
        cpu_cores,
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
        max_us: latencies.max(),
        visible_p50_us: visible.polled.value_at_quantile(0.50),
        visible_p99_us: visible.polled.value_at_quantile(0.99),
        visible_max_us: visible.polled.max(),
        visible_samples: visible.polled.len(),
        visible_missed: visible.missed,
        applied_p50_us: visible.applied.value_at_quantile(0.50),
        applied_p99_us: visible.applied.value_at_quantile(0.99),
        search_p50_ms: searched.polled.value_at_quantile(0.50) / 1000,
        search_p99_ms: searched.polled.value_at_quantile(0.99) / 1000,
        search_max_ms: searched.polled.max() / 1000,
        search_samples: searched.polled.len(),
        search_missed: searched.missed,
        search_applied_p50_ms: searched.applied.value_at_quantile(0.50) / 1000,
        search_applied_p99_ms: searched.applied.value_at_quantile(0.99) / 1000,
    })
}

/// CPU time this process has used (user and system), in seconds, from
/// `/proc/self/stat` (in clock ticks of 1/100 s, as on every Linux
/// platform Quire runs on).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // Fields after the command name (which may hold spaces) start at
    // field 3; utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("/proc/self/stat is shorter than expected")?
            .parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

fn projector(bench: &Bench, model: ReadModel) -> anyhow::Result<ProjectorHandle> {
    let name = bench.app.names.of(model);
    bench
        .projections
        .get(name)
        .cloned()
        .with_context(|| format!("projector {name} is not running"))
}

/// One client: its user's connection, schedule and samples.
struct ClientPlan {
    index: usize,
    client: ChannelClient,
    channel_ids: Arc<Vec<String>>,
    first_send: Instant,
    deadline: Instant,
    /// Open loop: time between two sends of this client.
    interval: Option<Duration>,
    sample_every: u64,
    clock: Arc<SearchClock>,
    visible: mpsc::UnboundedSender<VisibleSample>,
    search: mpsc::UnboundedSender<SearchSample>,
    /// Prefix of this run's search tokens.
    tag: String,
}

impl ClientPlan {
    async fn run(mut self) -> anyhow::Result<ClientOutcome> {
        let mut outcome = ClientOutcome {
            latencies: histogram()?,
            commands: 0,
            errors: 0,
            first_error: None,
        };
        let mut random = XorShift::new(self.index as u64);
        let mut scheduled = self.first_send;
        let mut sent = 0u64;
        loop {
            let start = match self.interval {
                None => Instant::now(),
                Some(interval) => {
                    let due = scheduled;
                    scheduled += interval;
                    let now = Instant::now();
                    if due > now {
                        // On time: wait, and count from the actual send.
                        tokio::time::sleep_until(due.into()).await;
                        Instant::now()
                    } else {
                        // Behind because of earlier replies: count from the
                        // scheduled time.
                        due
                    }
                }
            };
            if start >= self.deadline {
                break;
            }
            let channel_id = &self.channel_ids[random.below(self.channel_ids.len())];
            let token = self
                .clock
                .take()
                .then(|| format!("{}c{}n{sent}", self.tag, self.index));
            let mut body = format!(
                "bench message {sent} from client {} lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod",
                self.index
            );
            if let Some(token) = &token {
                body.push(' ');
                body.push_str(token);
            }
            sent += 1;
            let request = v1::SendMessageRequest {
                command_id: String::new(),
                channel_id: channel_id.clone(),
                body,
                thread_id: String::new(),
                mention_ids: Vec::new(),
                attachment_ids: Vec::new(),
            };
            let response = self.client.send_message(request).await;
            let acked = Instant::now();
            match response {
                Ok(response) => {
                    let response = response.into_inner();
                    outcome
                        .latencies
                        .record(acked.duration_since(start).as_micros().max(1) as u64)?;
                    outcome.commands += 1;
                    let position = Position(response.result.map_or(0, |r| r.position));
                    if let Some(token) = token {
                        let _ = self.search.send(SearchSample {
                            token,
                            message_id: response.message_id.clone(),
                            position,
                            acked,
                        });
                    }
                    if self.sample_every > 0 && outcome.commands.is_multiple_of(self.sample_every) {
                        let _ = self.visible.send(VisibleSample {
                            channel_id: channel_id.clone(),
                            message_id: response.message_id,
                            position,
                            acked,
                        });
                    }
                }
                Err(status) => {
                    outcome.errors += 1;
                    if outcome.first_error.is_none() {
                        outcome.first_error = Some(format!("{:?}: {}", status.code(), status.message()));
                    }
                }
            }
        }
        Ok(outcome)
    }
}

/// Lags an observer measured: through the API and in process.
struct Lags {
    /// Ack → the API shows it, µs.
    polled: Histogram<u64>,
    /// Ack → the projector's checkpoint passes it, µs (0: before the ack).
    applied: Histogram<u64>,
    missed: u64,
}

impl Lags {
    fn new() -> anyhow::Result<Lags> {
        Ok(Lags {
            polled: histogram()?,
            applied: histogram()?,
            missed: 0,
        })
    }

    fn record_polled(&mut self, lag: Option<Duration>) {
        match lag {
            Some(lag) => {
                let _ = self.polled.record(lag.as_micros().max(1) as u64);
            }
            None => self.missed += 1,
        }
    }

    fn record_applied(&mut self, lag: Option<Duration>) {
        if let Some(lag) = lag {
            let _ = self.applied.record(lag.as_micros().max(1) as u64);
        }
    }
}

/// Follows read-model samples until the senders are gone and every sample
/// is resolved: one task per sample polls `ListMessages`, another waits
/// for the projector's checkpoint.
async fn observe_visible(
    client: ChannelClient,
    handle: ProjectorHandle,
    mut samples: mpsc::UnboundedReceiver<VisibleSample>,
) -> anyhow::Result<Lags> {
    let mut lags = Lags::new()?;
    let mut tasks = JoinSet::new();
    while let Some(sample) = samples.recv().await {
        let (client, handle) = (client.clone(), handle.clone());
        tasks.spawn(async move {
            let applied = applied_lag(&handle, sample.position, sample.acked, VISIBLE_TIMEOUT);
            let polled = poll_visible(client, &sample);
            tokio::join!(polled, applied)
        });
        while let Some(done) = tasks.try_join_next() {
            if let Ok((polled, applied)) = done {
                lags.record_polled(polled);
                lags.record_applied(applied);
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok((polled, applied)) = done {
            lags.record_polled(polled);
            lags.record_applied(applied);
        }
    }
    Ok(lags)
}

/// Ack → the first `ListMessages` response that holds the message.
async fn poll_visible(mut client: ChannelClient, sample: &VisibleSample) -> Option<Duration> {
    loop {
        let response = client
            .list_messages(v1::ListMessagesRequest {
                channel_id: sample.channel_id.clone(),
                thread_id: String::new(),
                page: Some(v1::PageRequest {
                    page_size: VISIBLE_PAGE,
                    page_token: String::new(),
                }),
                read: None,
            })
            .await;
        let now = Instant::now();
        if let Ok(response) = response
            && response
                .get_ref()
                .messages
                .iter()
                .any(|m| m.id == sample.message_id)
        {
            return Some(now.duration_since(sample.acked));
        }
        if now.duration_since(sample.acked) > VISIBLE_TIMEOUT {
            return None;
        }
        tokio::task::yield_now().await;
    }
}

/// Ack → the projector's checkpoint reaches `position`; zero if it already
/// had when the observer first looks (a little after the ack).
async fn applied_lag(
    handle: &ProjectorHandle,
    position: Position,
    acked: Instant,
    timeout: Duration,
) -> Option<Duration> {
    if handle.checkpoint() >= position {
        return Some(Duration::ZERO);
    }
    handle.wait_for(position, timeout).await.ok()?;
    Some(acked.elapsed())
}

/// Follows search samples until the senders are gone and every sample is
/// resolved. Every [`SEARCH_POLL`] one query looks for the oldest
/// outstanding samples at once (their tokens joined by `OR`), so the
/// observer's load stays at one search per tick however far search lags.
async fn observe_search(
    mut client: SearchClient,
    handle: ProjectorHandle,
    mut samples: mpsc::UnboundedReceiver<SearchSample>,
) -> anyhow::Result<Lags> {
    let mut lags = Lags::new()?;
    let mut applied = JoinSet::new();
    let mut outstanding: Vec<SearchSample> = Vec::new();
    let mut tick = tokio::time::interval(SEARCH_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = true;
    while open || !outstanding.is_empty() {
        tokio::select! {
            sample = samples.recv(), if open => match sample {
                Some(sample) => {
                    let handle = handle.clone();
                    let (position, acked) = (sample.position, sample.acked);
                    applied.spawn(async move { applied_lag(&handle, position, acked, SEARCH_TIMEOUT).await });
                    outstanding.push(sample);
                }
                None => open = false,
            },
            _ = tick.tick(), if !outstanding.is_empty() => {
                search_once(&mut client, &mut outstanding, &mut lags).await;
            }
        }
    }
    while let Some(done) = applied.join_next().await {
        if let Ok(lag) = done {
            lags.record_applied(lag);
        }
    }
    Ok(lags)
}

/// Tokens per search (the query is limited to 1 KiB).
const TOKENS_PER_SEARCH: usize = 32;

/// One search for the oldest outstanding samples; records those found and
/// those given up on.
async fn search_once(client: &mut SearchClient, outstanding: &mut Vec<SearchSample>, lags: &mut Lags) {
    let batch = outstanding.len().min(TOKENS_PER_SEARCH);
    let query = outstanding[..batch]
        .iter()
        .map(|s| s.token.as_str())
        .collect::<Vec<_>>()
        .join(" OR ");
    let response = client
        .search(v1::SearchRequest {
            query,
            kinds: vec![v1::SearchKind::Message as i32],
            page: Some(v1::PageRequest {
                page_size: 500,
                page_token: String::new(),
            }),
            read: None,
        })
        .await;
    let now = Instant::now();
    let hits = match response {
        Ok(response) => response.into_inner().hits,
        Err(status) => {
            warn!(error = %status.message(), "search for samples failed");
            Vec::new()
        }
    };
    outstanding.retain(|sample| {
        let lag = now.duration_since(sample.acked);
        if hits.iter().any(|h| h.id == sample.message_id) {
            lags.record_polled(Some(lag));
            false
        } else if lag > SEARCH_TIMEOUT {
            lags.record_polled(None);
            false
        } else {
            true
        }
    });
}

/// A tiny PRNG for picking channels (no shared state between clients).
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
