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
    }
    Ok(())
}
