//! Runs the text-extraction process manager under the projector runtime:
//! same checkpoints, retries and dead letters as a read model. Its
//! checkpoint is kept on disk, so a restart does not re-extract every
//! upload (re-running one would be harmless: its command id repeats).

use std::sync::Arc;

use async_trait::async_trait;
use quire_command_handlers::process_managers::TextExtraction;
use quire_domain::{Position, RecordedEvent};
use quire_event_log::EventFilter;
use quire_projections::checkpoint::CheckpointStore;
use quire_projections::error::ProjectionError;
use quire_projections::projector::Projector;
use tracing::debug;

#[derive(Debug)]
pub struct ExtractionProjector {
    pub manager: TextExtraction,
    pub checkpoints: Arc<dyn CheckpointStore>,
}

impl ExtractionProjector {
    pub const NAME: &'static str = "text-extraction";
}

#[async_trait]
impl Projector for ExtractionProjector {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn filter(&self) -> EventFilter {
        self.manager.filter()
    }

    async fn load_checkpoint(&self) -> Result<Position, ProjectionError> {
        self.checkpoints.load(&self.id()).await
    }

    async fn apply(
        &self,
        events: &[Arc<RecordedEvent>],
        checkpoint: Position,
    ) -> Result<(), ProjectionError> {
        for event in events {
            match self.manager.handle(event).await {
                Ok(outcome) => debug!(position = %event.position, ?outcome, "text extraction"),
                Err(error) if error.is_transient() => {
                    return Err(ProjectionError::Unavailable(error.to_string()));
                }
                Err(error) => return Err(ProjectionError::Apply(error.to_string())),
            }
        }
        self.checkpoints.save(&self.id(), checkpoint).await
    }

    async fn reset(&self) -> Result<(), ProjectionError> {
        self.checkpoints.reset(&self.id()).await
    }
}
