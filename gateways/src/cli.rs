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
    /// Channels: create, list.
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
    }
}

fn mint_token(args: TokenArgs) -> anyhow::Result<()> {
    let user = quire_domain::values::UserId::parse(&args.user)?;
    let secret = dev::dev_secret(&args.data_dir, dev::TOKEN_SECRET)?;
    let authority = crate::auth::TokenAuthority::new(&secret)?;
    println!(
        "{}",
        authority.mint(&user, std::time::Duration::from_secs(args.ttl_hours * 3600))?
    );
    Ok(())
}
