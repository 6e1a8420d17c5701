//! The `quire` binary: parses arguments, sets up logging, hands over to the
//! library.

use clap::Parser;
use quire_gateways::cli::Cli;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    quire_gateways::telemetry::init(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(quire_gateways::cli::run(cli))
}
