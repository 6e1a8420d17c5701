//! `AdminService`: projector status and lag, dead letters, rebuilds.

use std::sync::Arc;

use quire_domain::Position;
use quire_projections::error::ControlError;
use quire_projections::fleet::FleetError;
use quire_proto::v1;
use quire_proto::v1::admin_service_server::AdminService;
use tonic::{Request, Response, Status};

use crate::app::App;
use crate::grpc::status::from_fleet;

#[derive(Debug)]
pub struct AdminApi {
    pub app: Arc<App>,
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn list_projectors(
        &self,
        request: Request<v1::ListProjectorsRequest>,
    ) -> Result<Response<v1::ListProjectorsResponse>, Status> {
        crate::auth::caller(&request)?;
        let projectors = self
            .app
            .projectors
            .statuses()
            .await
            .map_err(from_fleet)?
            .into_iter()
            .map(|s| v1::ProjectorStatus {
                name: s.projector.name.clone(),
                version: s.projector.version,
                state: serde_json::to_value(s.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                checkpoint: s.checkpoint.0,
                head: s.head.0,
                lag: s.lag,
                events_per_second: s.throughput,
                dead_letters: s.dead_letters as u64,
                last_error: s.last_error.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(v1::ListProjectorsResponse { projectors }))
    }

    async fn list_dead_letters(
        &self,
        request: Request<v1::ListDeadLettersRequest>,
    ) -> Result<Response<v1::ListDeadLettersResponse>, Status> {
        crate::auth::caller(&request)?;
        let name = request.into_inner().projector;
        let letters = self
            .app
            .projectors
            .dead_letters(&name)
            .await
            .map_err(from_fleet)?;
        let dead_letters = letters
            .into_iter()
            .map(|l| v1::DeadLetter {
                projector: l.projector.to_string(),
                position: l.position.0,
                event_id: l.event_id.to_string(),
                stream_id: l.stream_id.to_string(),
                event_type: l.event_type,
                error: l.error,
                attempts: l.attempts,
                first_failed_at: l.first_failed_at.unix_micros(),
                last_failed_at: l.last_failed_at.unix_micros(),
            })
            .collect();
        Ok(Response::new(v1::ListDeadLettersResponse { dead_letters }))
    }

    async fn redrive_dead_letter(
        &self,
        request: Request<v1::DeadLetterRef>,
    ) -> Result<Response<v1::RedriveResponse>, Status> {
        crate::auth::caller(&request)?;
        let letter = request.into_inner();
        match self
            .app
            .projectors
            .redrive(&letter.projector, Position(letter.position))
            .await
        {
            Ok(()) => Ok(Response::new(v1::RedriveResponse {
                succeeded: true,
                error: String::new(),
            })),
            Err(FleetError::Control(ControlError::RedriveFailed { error, .. })) => {
                Ok(Response::new(v1::RedriveResponse {
                    succeeded: false,
                    error,
                }))
            }
            Err(other) => Err(from_fleet(other)),
        }
    }

    async fn discard_dead_letter(
        &self,
        request: Request<v1::DeadLetterRef>,
    ) -> Result<Response<v1::DiscardResponse>, Status> {
        crate::auth::caller(&request)?;
        let letter = request.into_inner();
        let removed = self
            .app
            .projectors
            .discard(&letter.projector, Position(letter.position))
            .await
            .map_err(from_fleet)?;
        if !removed {
            return Err(Status::not_found(format!(
                "no dead letter at position {}",
                letter.position
            )));
        }
        Ok(Response::new(v1::DiscardResponse {}))
    }

    async fn rebuild_projector(
        &self,
        request: Request<v1::RebuildProjectorRequest>,
    ) -> Result<Response<v1::RebuildProjectorResponse>, Status> {
        crate::auth::caller(&request)?;
        let name = request.into_inner().projector;
        self.app.projectors.rebuild(&name).await.map_err(from_fleet)?;
        Ok(Response::new(v1::RebuildProjectorResponse {}))
    }
}
