//! `quire bench restart`: how long `quire dev` takes to serve again on a
//! filled data directory (see `quire bench load`), and how much memory it
//! holds once caught up.
//!
//! Two starts, each in a fresh child process (this binary with a hidden
//! `--child` flag) so that each start's memory is its own: `restart_first`,
//! the first start on the directory (with `--cold`, the search index and
//! the checkpoints are deleted first, so it rebuilds them from scratch as
//! right after `quire bench load`), then `restart_again`, with every
//! checkpoint present. The in-memory read models replay the log on every
//! start. Each child runs `assemble` (open the log, start the projectors,
//! wait until all have caught up, bind), then `serve`, and reports:
//! - `assemble_seconds`: until `assemble` returned;
//! - `serving_seconds`: until the first `ListChannels` RPC was answered;
//! - `rss_mib`/`rss_anon_mib`: `VmRSS`/`RssAnon` from `/proc/self/status`
//!   after catch-up; `hwm_mib`: `VmHWM`, the peak resident size of the
//!   process, catch-up included.
//!
//! The child then shuts down cleanly (projectors stop, checkpoints are
//! written, the log is closed).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use quire_domain::values::UserId;
use quire_event_log::EventLog;
use quire_proto::v1;
use quire_proto::v1::channel_service_client::ChannelServiceClient;
use tokio::sync::oneshot;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;

use super::report::{RestartResult, print_restart};
use crate::cli::RestartArgs;
use crate::dev::{DevOptions, assemble, serve};

pub async fn run(args: RestartArgs) -> anyhow::Result<()> {
    if let Some(scenario) = &args.child {
        let result = start_once(&args.dir, scenario).await?;
        return print_restart(&result, true);
    }
    anyhow::ensure!(
        args.dir.join("log").is_dir(),
        "{} holds no event log; fill it with `quire bench load --dir {}` first",
        args.dir.display(),
        args.dir.display()
    );
    if args.cold {
        for derived in ["search", "checkpoints"] {
            let path = args.dir.join(derived);
            if path.exists() {
                std::fs::remove_dir_all(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
    }
    for scenario in ["restart_first", "restart_again"] {
        let result = start_in_child(&args.dir, scenario).await?;
        print_restart(&result, args.json)?;
    }
    Ok(())
}

/// Runs one start in a child process and reads its result.
async fn start_in_child(dir: &Path, scenario: &str) -> anyhow::Result<RestartResult> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let mut command = std::process::Command::new(exe);
    command
        .args(["bench", "restart", "--dir"])
        .arg(dir)
        .args(["--child", scenario])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await?
        .context("running a start in a child process")?;
    anyhow::ensure!(
        output.status.success(),
        "the {scenario} start failed: {}",
        output.status
    );
    let line = String::from_utf8_lossy(&output.stdout);
    let line = line
        .lines()
        .last()
        .with_context(|| format!("the {scenario} start printed no result"))?;
    serde_json::from_str(line).with_context(|| format!("reading the {scenario} result `{line}`"))
}

/// Starts `quire dev` on `dir` in this process, serves one RPC, stops.
async fn start_once(dir: &Path, scenario: &str) -> anyhow::Result<RestartResult> {
    let search_from_scratch = !dir.join("search").join("meta.json").exists();
    let options = DevOptions {
        data_dir: dir.to_path_buf(),
        grpc_addr: "127.0.0.1:0".to_owned(),
        http_addr: "127.0.0.1:0".to_owned(),
    };
    let started = Instant::now();
    let stack = assemble(&options).await?;
    let assembled = started.elapsed();
    let memory = Memory::read()?;
    let events = stack.log.head().await?.0;
    let address = format!("http://{}", stack.grpc.local_addr()?);
    let token = stack.auth.mint(&UserId::parse("u0")?, Duration::from_secs(600))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(stack, async {
        let _ = stopped.await;
    }));
    let served = async {
        let channel = Endpoint::from_shared(address)?.connect().await?;
        let bearer: MetadataValue<_> = format!("Bearer {token}").parse()?;
        let mut client =
            ChannelServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
                request.metadata_mut().insert("authorization", bearer.clone());
                Ok(request)
            });
        client
            .list_channels(v1::ListChannelsRequest {
                page: None,
                read: None,
            })
            .await?;
        anyhow::Ok(started.elapsed())
    }
    .await;
    let _ = stop.send(());
    server.await??;
    let serving = served?;
    Ok(RestartResult {
        scenario: scenario.to_owned(),
        events,
        search_from_scratch,
        assemble_seconds: assembled.as_secs_f64(),
        serving_seconds: serving.as_secs_f64(),
        rss_mib: memory.rss_kib as f64 / 1024.0,
        rss_anon_mib: memory.rss_anon_kib as f64 / 1024.0,
        hwm_mib: memory.hwm_kib as f64 / 1024.0,
    })
}

/// Resident memory of this process, from `/proc/self/status`.
struct Memory {
    rss_kib: u64,
    rss_anon_kib: u64,
    hwm_kib: u64,
}

impl Memory {
    fn read() -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = status
                .lines()
                .find(|line| line.starts_with(name))
                .with_context(|| format!("/proc/self/status has no {name}"))?;
            let kib = line.trim_start_matches(name).trim().trim_end_matches("kB").trim();
            kib.parse().with_context(|| format!("reading {line}"))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            rss_anon_kib: field("RssAnon:")?,
            hwm_kib: field("VmHWM:")?,
        })
    }
}
