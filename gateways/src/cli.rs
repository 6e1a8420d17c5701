//! The `quire` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::bench;
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
    /// Measure the engine.
    #[command(subcommand)]
    Bench(BenchCommand),
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
        Command::Bench(BenchCommand::Append(args)) => bench::append::run(args).await,
    }
}
