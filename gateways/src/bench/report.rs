//! One benchmark result and how it is printed.

use serde::Serialize;

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub scenario: String,
    pub writers: usize,
    pub batch: usize,
    pub events: u64,
    pub seconds: f64,
    pub events_per_sec: f64,
    /// Median latency of one operation (an append; for delivery scenarios,
    /// append call to subscriber receipt), microseconds.
    pub p50_us: u64,
    pub p99_us: u64,
    /// For a measured backend with a baseline in the same run (JetStream
    /// log vs bare publishes): this result's events/s over the baseline's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_baseline: Option<f64>,
}

/// Prints a result as JSON or as a table row.
pub fn print(result: &ScenarioResult, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(result)?);
    } else {
        println!(
            "{:<22} writers={:<4} batch={:<5} events={:<9} {:>12.0} events/s  p50={:>6}µs  p99={:>6}µs",
            result.scenario,
            result.writers,
            result.batch,
            result.events,
            result.events_per_sec,
            result.p50_us,
            result.p99_us
        );
        if let Some(ratio) = result.vs_baseline {
            println!("{:<22} {ratio:.2}x the bare publishes' events/s", "");
        }
    }
    Ok(())
}

/// The outcome of one end-to-end scenario (`quire bench e2e`): the fields
/// of [`ScenarioResult`] that apply (scenario, commands, seconds, rate,
/// latency), plus the ack→visible lags.
#[derive(Debug, Clone, Serialize)]
pub struct E2eResult {
    pub scenario: String,
    /// CPUs this process may run on (the reference machine has 2; server,
    /// load generator and observers share them).
    pub cores: usize,
    /// Concurrent gRPC clients (one user each).
    pub clients: usize,
    /// HTTP/2 connections the clients share.
    pub connections: usize,
    /// Group channels the messages go to.
    pub channels: usize,
    /// Asked rate for an open-loop scenario (commands/s); `None` for closed
    /// loop.
    pub target_per_sec: Option<f64>,
    /// Acknowledged `SendMessage` commands.
    pub commands: u64,
    /// Failed commands (not in the latency figures).
    pub errors: u64,
    pub seconds: f64,
    pub commands_per_sec: f64,
    /// CPU the whole process (server, load generator, observers) used
    /// during the scenario, in cores (2.0: both cores of the reference
    /// machine busy).
    pub cpu_cores: f64,
    /// Client-observed command latency, microseconds (open loop: from the
    /// scheduled send time, so a stall counts against every command it
    /// delays).
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Ack → visible through `ListMessages` (no `min_position`), µs: an
    /// upper bound, see the module doc of `bench::e2e`.
    pub visible_p50_us: u64,
    pub visible_p99_us: u64,
    pub visible_max_us: u64,
    pub visible_samples: u64,
    /// Samples never seen within the time allowed.
    pub visible_missed: u64,
    /// Ack → the channels projector's checkpoint passed the message, µs,
    /// read in process (0: before the ack reached the client).
    pub applied_p50_us: u64,
    pub applied_p99_us: u64,
    /// Ack → found by `Search`, milliseconds (20 ms polling).
    pub search_p50_ms: u64,
    pub search_p99_ms: u64,
    pub search_max_ms: u64,
    pub search_samples: u64,
    pub search_missed: u64,
    /// Ack → the search projector committed the message, ms, read in
    /// process.
    pub search_applied_p50_ms: u64,
    pub search_applied_p99_ms: u64,
}

/// Prints an end-to-end result as JSON or as a table row.
pub fn print_e2e(result: &E2eResult, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(result)?);
    } else {
        println!(
            "{:<10} clients={:<3} conns={:<3} commands={:<8} errors={:<4} {:>8.0} cmd/s  cpu={:.2}  p50={:>6}µs p99={:>6}µs  visible p50={:>6}µs p99={:>6}µs (n={}, missed {}; applied p50={}µs p99={}µs)  search p50={:>5}ms p99={:>5}ms (n={}, missed {}; committed p50={}ms p99={}ms)",
            result.scenario,
            result.clients,
            result.connections,
            result.commands,
            result.errors,
            result.commands_per_sec,
            result.cpu_cores,
            result.p50_us,
            result.p99_us,
            result.visible_p50_us,
            result.visible_p99_us,
            result.visible_samples,
            result.visible_missed,
            result.applied_p50_us,
            result.applied_p99_us,
            result.search_p50_ms,
            result.search_p99_ms,
            result.search_samples,
            result.search_missed,
            result.search_applied_p50_ms,
            result.search_applied_p99_ms,
        );
    }
    Ok(())
}

/// The outcome of `quire bench load`.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub scenario: String,
    pub channels: usize,
    pub messages: u64,
    /// Events appended (messages plus one creation per channel).
    pub events: u64,
    pub seconds: f64,
    pub events_per_sec: f64,
    /// Size of the log directory afterwards.
    pub log_bytes: u64,
}

/// Prints a load result as JSON or as one line.
pub fn print_load(result: &LoadResult, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(result)?);
    } else {
        println!(
            "{:<10} channels={} messages={} events={} in {:.1} s ({:.0} events/s), log {:.0} MiB",
            result.scenario,
            result.channels,
            result.messages,
            result.events,
            result.seconds,
            result.events_per_sec,
            result.log_bytes as f64 / (1024.0 * 1024.0),
        );
    }
    Ok(())
}

/// The outcome of one start of `quire dev` on a filled directory
/// (`quire bench restart`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RestartResult {
    pub scenario: String,
    /// Events in the log (its head position).
    pub events: u64,
    /// Whether the search index was empty at start (built from scratch).
    pub search_from_scratch: bool,
    /// From the start of `assemble` until it returned: log opened, every
    /// projector caught up, listeners bound.
    pub assemble_seconds: f64,
    /// From the start of `assemble` until the first RPC was answered.
    pub serving_seconds: f64,
    /// Resident memory after catch-up (`VmRSS`), MiB.
    pub rss_mib: f64,
    /// Of which anonymous memory (`RssAnon`; the rest is mostly mapped
    /// files), MiB.
    pub rss_anon_mib: f64,
    /// Peak resident memory of the process (`VmHWM`), MiB.
    pub hwm_mib: f64,
}

/// Prints a restart result as JSON or as one line.
pub fn print_restart(result: &RestartResult, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(result)?);
    } else {
        println!(
            "{:<14} events={} search_from_scratch={} assemble={:.2}s serving={:.2}s rss={:.0}MiB (anon {:.0}MiB) peak={:.0}MiB",
            result.scenario,
            result.events,
            result.search_from_scratch,
            result.assemble_seconds,
            result.serving_seconds,
            result.rss_mib,
            result.rss_anon_mib,
            result.hwm_mib,
        );
    }
    Ok(())
}
