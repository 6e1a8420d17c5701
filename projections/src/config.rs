//! Runner settings: batching, checkpoint pacing, retries and backoff.

use std::time::Duration;

/// How a runner batches, paces checkpoints and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerConfig {
    /// Most matching events handed to one `apply`.
    pub max_batch_size: usize,
    /// Longest time spent gathering one batch while events keep coming.
    /// A live runner never waits for events that are not there yet: as soon
    /// as the log has nothing more ready it applies what it has, so a lone
    /// event on an idle log is applied at once. A runner catching up knows
    /// the log has more, and waits up to this for the subscription to read
    /// it, so that its batches are not cut at each page the log reads.
    pub max_batch_wait: Duration,
    /// Least time from the start of one `apply` of events to the start of
    /// the next, for projectors whose every `apply` has a fixed cost (a
    /// search index commit): events arriving in between join the next
    /// batch, so the rate of applies stays bounded however fast events
    /// come. An event arriving after a quiet spell longer than this is
    /// applied at once. Zero (the default) applies as soon as events are
    /// ready.
    pub min_apply_interval: Duration,
    /// Least time between two checkpoint-only writes (an `apply` with no
    /// events) while scanning events the filter rejects. A pending advance is
    /// written once this has passed, even if the log is idle.
    pub checkpoint_interval: Duration,
    /// How often the head position, lag and throughput gauges are refreshed
    /// while idle.
    pub metrics_interval: Duration,
    /// Window over which throughput (events/s) is measured.
    pub throughput_window: Duration,
    /// Retries of failing applies and of the log subscription.
    pub retry: RetryPolicy,
    /// Capacity of the handle-to-runner control channel.
    pub control_capacity: usize,
    /// Events a task reads ahead of the runner into a buffer, so that the
    /// log is read while a batch is applied (worth it for a projector
    /// whose batches take long and that catches up often, one on a remote
    /// store). Zero (the default): the runner reads the subscription itself.
    pub read_ahead: usize,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            max_batch_size: 512,
            max_batch_wait: Duration::from_millis(10),
            min_apply_interval: Duration::ZERO,
            checkpoint_interval: Duration::from_secs(1),
            metrics_interval: Duration::from_secs(1),
            throughput_window: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            control_capacity: 16,
            read_ahead: 0,
        }
    }
}

/// Exponential backoff for retries.
///
/// Attempt 1 runs at once; attempt `n > 1` waits
/// `initial_backoff * multiplier^(n-2)`, capped at `max_backoff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts at one event before it goes to the dead-letter list.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub multiplier: u32,
    /// The longest wait. Store outages and log failures are retried without
    /// limit, so this is also how long after the service returns the
    /// projector may still be waiting to try again.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            multiplier: 2,
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt number `attempt` (1-based).
    pub fn delay_before(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        let factor = self.multiplier.max(1).saturating_pow(attempt - 2);
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(10),
            multiplier: 3,
            max_backoff: Duration::from_millis(200),
        };
        let delays: Vec<u128> = (1..=6).map(|n| policy.delay_before(n).as_millis()).collect();
        assert_eq!(delays, [0, 10, 30, 90, 200, 200]);
        assert_eq!(policy.delay_before(u32::MAX), Duration::from_millis(200));
    }
}
