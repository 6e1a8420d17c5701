//! The `quire` binary: picks the allocator, parses arguments, sets up
//! logging, hands over to the library, and turns a failure into one clear
//! line and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;
use quire_gateways::cli::Cli;

/// mimalloc rather than the system allocator: the server allocates many
/// small short-lived buffers on many threads (HTTP/2 frames, events,
/// index documents), where glibc's malloc spent about a tenth of the CPU
/// in `quire bench e2e` (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    quire_gateways::telemetry::init(cli.log_format);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(quire_gateways::cli::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
