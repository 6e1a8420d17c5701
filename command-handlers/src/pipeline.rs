//! The command pipeline: load → decide → append, with bounded retries on
//! version conflicts and idempotent retries by command id.

use std::sync::Arc;
use std::time::Duration;

use quire_domain::{Aggregate, NewEvent, Position, StreamId};
use quire_event_log::{Direction, EventLog, ExpectedVersion, LogError};
use rand::Rng;
use tracing::debug;

use crate::cache::AggregateCache;
use crate::context::CommandContext;
use crate::error::CommandError;
use crate::loaded::Loaded;

/// Tuning of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Attempts before a command gives up on a stream that keeps changing.
    pub max_attempts: u32,
    /// Base delay between attempts; each retry waits up to twice as long,
    /// with jitter.
    pub retry_base: Duration,
    /// Aggregates kept loaded.
    pub cache_capacity: usize,
    /// Commands per aggregate whose outcome is remembered for retries. A
    /// retry of an older command runs again.
    pub remembered_commands: usize,
    /// Events read per page while loading a stream.
    pub load_page: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_attempts: 8,
            retry_base: Duration::from_millis(2),
            cache_capacity: 10_000,
            remembered_commands: 1_024,
            load_page: 1_024,
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    pub stream_id: StreamId,
    /// The aggregate's version after the command (`None`: no events yet).
    pub version: Option<u64>,
    /// Position of the command's last event; for a command that changed
    /// nothing, of the aggregate's last event. Queries wait for it to offer
    /// read-your-writes.
    pub position: Position,
    /// Events this command appended (on a replay: that the first run did).
    pub events: usize,
    /// True when the command was a retry answered from its first run.
    pub replayed: bool,
}

/// Runs commands against aggregates stored in an event log.
pub struct CommandPipeline {
    log: Arc<dyn EventLog>,
    cache: AggregateCache,
    config: PipelineConfig,
}

impl std::fmt::Debug for CommandPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandPipeline")
            .field("cache", &self.cache)
            .field("config", &self.config)
            .finish()
    }
}

impl CommandPipeline {
    pub fn new(log: Arc<dyn EventLog>, config: PipelineConfig) -> CommandPipeline {
        let cache = AggregateCache::new(config.cache_capacity);
        CommandPipeline { log, cache, config }
    }

    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// Runs `command` against the aggregate `A` with id `aggregate_id`.
    pub async fn execute<A: Aggregate>(
        &self,
        aggregate_id: &str,
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<CommandOutcome, CommandError<A::Error>> {
        context.validate().map_err(CommandError::Invalid)?;
        let stream = StreamId::for_aggregate(A::CATEGORY, aggregate_id)?;
        for attempt in 1..=self.config.max_attempts {
            match self.attempt::<A>(&stream, command, context).await {
                Err(CommandError::Log(LogError::WrongExpectedVersion { actual, .. })) => {
                    debug!(stream = %stream, attempt, ?actual, "version conflict, deciding again");
                    self.back_off(attempt).await;
                }
                other => return other,
            }
        }
        Err(CommandError::Conflict {
            stream,
            attempts: self.config.max_attempts,
        })
    }

    /// One load → decide → append round.
    async fn attempt<A: Aggregate>(
        &self,
        stream: &StreamId,
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<CommandOutcome, CommandError<A::Error>> {
        let slot = self.cache.slot::<A>(stream);
        let mut guard = slot.lock().await;
        let mut loaded = match guard.take() {
            Some(loaded) => loaded,
            None => Loaded::empty(self.config.remembered_commands),
        };
        let outcome = self
            .decide_and_append(stream, &mut loaded, command, context)
            .await;
        // Keep what was loaded unless the stored state is in doubt.
        if !matches!(outcome, Err(CommandError::Undecodable { .. })) {
            *guard = Some(loaded);
        }
        outcome
    }

    async fn decide_and_append<A: Aggregate>(
        &self,
        stream: &StreamId,
        loaded: &mut Loaded<A>,
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<CommandOutcome, CommandError<A::Error>> {
        self.catch_up(stream, loaded).await?;
        if let Some(record) = loaded.recent.get(&context.command_id) {
            return Ok(CommandOutcome {
                stream_id: stream.clone(),
                version: Some(record.version),
                position: record.position,
                events: record.events,
                replayed: true,
            });
        }
        let events = loaded.state.decide(command).map_err(CommandError::Rejected)?;
        if events.is_empty() {
            return Ok(CommandOutcome {
                stream_id: stream.clone(),
                version: loaded.version,
                position: loaded.position,
                events: 0,
                replayed: false,
            });
        }
        let metadata = context.metadata();
        let new_events: Vec<NewEvent> = events
            .iter()
            .map(|e| NewEvent::from_domain(e, metadata.clone()))
            .collect();
        let expected = ExpectedVersion::from_current(loaded.version);
        let result = self.log.append(stream, expected, new_events).await?;
        for (i, event) in events.iter().enumerate() {
            loaded.state.apply(event);
            let position = if i + 1 == events.len() {
                result.last_position
            } else {
                Position(result.first_position.0 + i as u64)
            };
            loaded.advance(
                result.first_version + i as u64,
                position,
                Some(&context.command_id),
            );
        }
        Ok(CommandOutcome {
            stream_id: stream.clone(),
            version: Some(result.last_version),
            position: result.last_position,
            events: events.len(),
            replayed: false,
        })
    }

    /// Applies whatever the stream gained since `loaded` was last read.
    async fn catch_up<A: Aggregate>(
        &self,
        stream: &StreamId,
        loaded: &mut Loaded<A>,
    ) -> Result<(), CommandError<A::Error>> {
        loop {
            let page = self
                .log
                .read_stream(
                    stream,
                    loaded.next_version(),
                    Direction::Forward,
                    self.config.load_page,
                )
                .await?;
            for recorded in &page {
                loaded
                    .apply_recorded(recorded)
                    .map_err(|source| CommandError::Undecodable {
                        stream: stream.clone(),
                        source,
                    })?;
            }
            if page.len() < self.config.load_page {
                return Ok(());
            }
        }
    }

    async fn back_off(&self, attempt: u32) {
        let ceiling = self.config.retry_base.saturating_mul(1 << attempt.min(10));
        let wait = rand::rng().random_range(Duration::ZERO..=ceiling);
        tokio::time::sleep(wait).await;
    }

    /// Aggregates currently loaded.
    pub fn cached_aggregates(&self) -> usize {
        self.cache.len()
    }
}
