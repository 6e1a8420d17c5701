//! `EventService`: reading and following the event log over gRPC.

use std::sync::Arc;

use futures::StreamExt;
use quire_domain::{Position, StreamId};
use quire_event_log::{Direction, EventFilter, LAST_VERSION};
use quire_proto::v1;
use quire_proto::v1::event_service_server::EventService;
use tonic::{Request, Response, Status};

use crate::app::App;
use crate::grpc::convert::event_to_proto;
use crate::grpc::status::{from_log, invalid};

/// Most events one read returns.
const MAX_READ: u32 = 1_000;

#[derive(Debug)]
pub struct EventApi {
    pub app: Arc<App>,
}

fn limit(requested: u32) -> usize {
    match requested {
        0 => 100,
        n => n.min(MAX_READ) as usize,
    }
}

#[tonic::async_trait]
impl EventService for EventApi {
    async fn read_stream(
        &self,
        request: Request<v1::ReadStreamRequest>,
    ) -> Result<Response<v1::ReadStreamResponse>, Status> {
        crate::auth::caller(&request)?;
        let request = request.into_inner();
        let stream = StreamId::parse(&request.stream_id).map_err(|e| invalid("stream_id", e))?;
        let (from, direction) = match (request.backwards, request.from_version) {
            (true, 0) => (LAST_VERSION, Direction::Backward),
            (true, from) => (from, Direction::Backward),
            (false, from) => (from, Direction::Forward),
        };
        let events = self
            .app
            .log
            .read_stream(&stream, from, direction, limit(request.limit))
            .await
            .map_err(from_log)?;
        Ok(Response::new(v1::ReadStreamResponse {
            events: events.iter().map(|e| event_to_proto(e)).collect(),
        }))
    }

    async fn read_all(
        &self,
        request: Request<v1::ReadAllRequest>,
    ) -> Result<Response<v1::ReadAllResponse>, Status> {
        crate::auth::caller(&request)?;
        let request = request.into_inner();
        let head = self.app.log.head().await.map_err(from_log)?;
        let events = self
            .app
            .log
            .read_all(Position(request.from_position), limit(request.limit))
            .await
            .map_err(from_log)?;
        Ok(Response::new(v1::ReadAllResponse {
            events: events.iter().map(|e| event_to_proto(e)).collect(),
            head: head.0,
        }))
    }

    type SubscribeStream = futures::stream::BoxStream<'static, Result<v1::Event, Status>>;

    async fn subscribe(
        &self,
        request: Request<v1::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        crate::auth::caller(&request)?;
        let request = request.into_inner();
        let filter = EventFilter::categories(request.categories).with_event_types(request.event_types);
        let events = self
            .app
            .log
            .subscribe(Position(request.from_position), filter)
            .map(|event| event.map(|e| event_to_proto(&e)).map_err(from_log))
            .take_until(self.app.shutdown.clone().cancelled_owned())
            .boxed();
        Ok(Response::new(events))
    }
}
