//! The `quire` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::bench;
use crate::client::{self, ClientOptions, Connection};
use crate::dev::{self, DevOptions};
use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(name = "quire", version, about = "Quire: an event-sourced workspace platform")]
pub struct Cli {
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "QUIRE_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process with no external service.
    Dev(DevArgs),
    /// Run one process of a fleet on NATS JetStream and PostgreSQL, by
    /// role, from a configuration file (see docs/fleet.md).
    Serve(crate::serve::ServeArgs),
    /// Mint a bearer token for a user, signed with the secret in the dev
    /// data directory.
    Token(TokenArgs),
    /// Documents: upload, download, list, share.
    Doc {
        #[command(flatten)]
        client: ClientOptions,
        #[command(subcommand)]
        command: client::documents::DocCommand,
    },
    /// Channels: create, list, presence.
    Channel {
        #[command(flatten)]
        client: ClientOptions,
        #[command(subcommand)]
        command: client::channels::ChannelCommand,
    },
    /// Messages: send, tail.
    Msg {
        #[command(flatten)]
        client: ClientOptions,
        #[command(subcommand)]
        command: client::channels::MsgCommand,
    },
    /// Search documents and messages you may see.
    Search {
        #[command(flatten)]
        client: ClientOptions,
        query: String,
        /// Most results to print.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Read and follow the event log.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Measure the engine.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where the log and read models live.
    #[arg(long, env = "QUIRE_DATA_DIR", default_value = ".quire")]
    pub data_dir: PathBuf,
    /// gRPC listen address.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub grpc_addr: String,
    /// HTTP listen address of the blob endpoint (signed URLs).
    #[arg(long, default_value = "127.0.0.1:50052")]
    pub http_addr: String,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user the token is for.
    #[arg(long)]
    pub user: String,
    /// Data directory of the `quire dev` whose secret signs the token.
    #[arg(long, env = "QUIRE_DATA_DIR", default_value = ".quire")]
    pub data_dir: PathBuf,
    /// Sign with the `auth.token_secret` of this `quire serve`
    /// configuration instead of a dev data directory's secret.
    #[arg(long, env = "QUIRE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Hours the token is valid.
    #[arg(long, default_value_t = 24 * 30)]
    pub ttl_hours: u64,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print events as they commit.
    Tail {
        #[command(flatten)]
        client: ClientOptions,
        #[command(flatten)]
        args: client::events::TailArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable appends to the embedded event log, and live delivery to a
    /// subscriber.
    Append(AppendArgs),
    /// The whole `quire dev` stack in this process, driven over gRPC by
    /// concurrent `SendMessage` clients: throughput, command latency and
    /// ack→visible lag in the read model and in search.
    E2e(E2eArgs),
    /// Fills a data directory with channels and messages, appended straight
    /// to the embedded log (no gRPC), for `quire bench restart`.
    Load(LoadArgs),
    /// Starts `quire dev` on a filled data directory twice (first start,
    /// then a restart), each in a fresh process: time until serving and
    /// resident memory.
    Restart(RestartArgs),
}

#[derive(Debug, Args)]
pub struct AppendArgs {
    /// Print one JSON object per scenario instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Directory under which a fresh log is created for each scenario
    /// (removed afterwards). Defaults to the system temp directory; it must
    /// be on the disk you want to measure.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Run only the scenarios whose name contains this text.
    #[arg(long)]
    pub only: Option<String>,
    /// Payload bytes per event.
    #[arg(long, default_value_t = 100)]
    pub payload_bytes: usize,
    /// The log to measure: `embedded` (a fresh log under --dir for each
    /// scenario) or `jetstream` (a fresh stream on --nats-url for each
    /// scenario, measured beside bare JetStream publishes of the same
    /// messages on another fresh stream).
    #[arg(long, value_enum, default_value_t = LogBackend::Embedded)]
    pub backend: LogBackend,
    /// The NATS server of --backend jetstream.
    #[arg(long, default_value = "nats://127.0.0.1:4222", env = "QUIRE_NATS_URL")]
    pub nats_url: String,
}

/// An event log backend `quire bench append` can measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogBackend {
    Embedded,
    Jetstream,
}

#[derive(Debug, Args)]
pub struct E2eArgs {
    /// Print one JSON object per scenario instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Concurrent gRPC clients, one user each.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// HTTP/2 connections the clients share (0: one per client).
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Group channels; every client user takes part in all of them.
    #[arg(long, default_value_t = 100)]
    pub channels: usize,
    /// Rate of the open-loop scenario (commands/s); default half the rate
    /// the closed-loop scenario reached.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Every how many acknowledged messages (per client) one is followed
    /// until the read model shows it.
    #[arg(long, default_value_t = 10)]
    pub sample_every: u64,
    /// Milliseconds between two messages followed until search finds them.
    #[arg(long, default_value_t = 50)]
    pub search_sample_ms: u64,
    /// Run only the scenarios whose name contains this text (the open-loop
    /// scenario without the closed-loop one needs --rate).
    #[arg(long)]
    pub only: Option<String>,
    /// Directory under which the temporary data directory is created
    /// (removed afterwards). Defaults to the system temp directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Messages to write, spread evenly over the channels.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    /// Group channels to create.
    #[arg(long, default_value_t = 10_000)]
    pub channels: usize,
    /// The data directory to fill (as for `quire dev --data-dir`).
    #[arg(long)]
    pub dir: PathBuf,
    /// Participants per channel, drawn from a pool of --users users.
    #[arg(long, default_value_t = 5)]
    pub participants: usize,
    /// Size of the user pool.
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    /// Approximate bytes of each message body.
    #[arg(long, default_value_t = 100)]
    pub body_bytes: usize,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Print one JSON object per start instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The data directory filled by `quire bench load`.
    #[arg(long)]
    pub dir: PathBuf,
    /// Before the first start, delete the derived state that survives a
    /// restart (`search/` and `checkpoints/`), so the first start rebuilds
    /// the search index from scratch as right after `quire bench load`.
    #[arg(long)]
    pub cold: bool,
    /// Internal: run one start in this process and print its result as
    /// JSON, with this scenario name.
    #[arg(long, hide = true)]
    pub child: Option<String>,
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dev(args) => {
            dev::run(DevOptions {
                data_dir: args.data_dir,
                grpc_addr: args.grpc_addr,
                http_addr: args.http_addr,
            })
            .await
        }
        Command::Serve(args) => crate::serve::run(args).await,
        Command::Token(args) => mint_token(args),
        Command::Doc { client, command } => {
            client::documents::run(Connection::open(&client).await?, command).await
        }
        Command::Channel { client, command } => {
            client::channels::run_channel(Connection::open(&client).await?, command).await
        }
        Command::Msg { client, command } => {
            client::channels::run_msg(Connection::open(&client).await?, command).await
        }
        Command::Search { client, query, limit } => {
            client::search::run(Connection::open(&client).await?, query, limit).await
        }
        Command::Events(EventsCommand::Tail { client, args }) => {
            client::events::tail(Connection::open(&client).await?, args).await
        }
        Command::Bench(BenchCommand::Append(args)) => bench::append::run(args).await,
        Command::Bench(BenchCommand::E2e(args)) => bench::e2e::run(args).await,
        Command::Bench(BenchCommand::Load(args)) => bench::load::run(args).await,
        Command::Bench(BenchCommand::Restart(args)) => bench::restart::run(args).await,
    }
}

fn mint_token(args: TokenArgs) -> anyhow::Result<()> {
    let user = quire_domain::values::UserId::parse(&args.user)?;
    let secret = match &args.config {
        Some(path) => crate::serve::config::ServeConfig::load(Some(path))?
            .token_secret(crate::serve::config::Role::Gateway)?,
        None => dev::dev_secret(&args.data_dir, dev::TOKEN_SECRET)?,
    };
    let authority = crate::auth::TokenAuthority::new(&secret)?;
    println!(
        "{}",
        authority.mint(&user, std::time::Duration::from_secs(args.ttl_hours * 3600))?
    );
    Ok(())
}
