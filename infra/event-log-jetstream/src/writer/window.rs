//! The writer's window: appends published and not yet acknowledged, in
//! the order they were published (which is the order JetStream stores and
//! acknowledges them), with the event streams they are for and what a
//! refused one means for the ones behind it.

use std::collections::{HashSet, VecDeque};

use async_nats::jetstream::context::{PublishAckFuture, PublishError};
use async_nats::jetstream::publish::PublishAck;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, StreamExt};
use quire_domain::StreamId;

use super::plan::Plan;
use super::{AppendRequest, Outcome};

/// Published appends awaiting their acknowledgements.
#[derive(Default)]
pub(super) struct Window {
    acks: FuturesOrdered<BoxFuture<'static, Result<PublishAck, PublishError>>>,
    published: VecDeque<(AppendRequest, Plan)>,
    /// Event streams with an append in the window: a second append to one
    /// waits until the first is settled.
    busy: HashSet<StreamId>,
    /// Streams whose append was refused or lost since the window was last
    /// empty. While any is, nothing new is published: every message behind
    /// the refused one names its predecessor and will be refused too.
    pub(super) broken: Vec<StreamId>,
    /// Appends to publish again once the window is empty.
    pub(super) retry: Vec<AppendRequest>,
    /// The writer's failure count when the window was last empty.
    pub(super) failures_at_open: u32,
}

impl Window {
    pub(super) fn len(&self) -> usize {
        self.published.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.published.is_empty()
    }

    pub(super) fn is_busy(&self, stream: &StreamId) -> bool {
        self.busy.contains(stream)
    }

    /// Whether a refusal is being drained.
    pub(super) fn is_breaking(&self) -> bool {
        !self.broken.is_empty()
    }

    pub(super) fn push(
        &mut self,
        request: AppendRequest,
        plan: Plan,
        ack: Result<PublishAckFuture, PublishError>,
    ) {
        self.busy.insert(request.stream.clone());
        self.published.push_back((request, plan));
        self.acks.push_back(Box::pin(async move {
            match ack {
                Ok(future) => future.await,
                Err(error) => Err(error),
            }
        }));
    }

    /// The oldest append's acknowledgement (or failure), with the append.
    /// Pending forever while the window is empty.
    pub(super) async fn next_ack(&mut self) -> (AppendRequest, Plan, Outcome) {
        let Some(outcome) = self.acks.next().await else {
            return futures::future::pending().await;
        };
        let Some((request, plan)) = self.published.pop_front() else {
            return futures::future::pending().await;
        };
        self.busy.remove(&request.stream);
        (request, plan, Some(outcome))
    }

    /// Every append in the window, without acknowledgement: after a
    /// reconnect, acknowledgements of messages sent before it never come.
    pub(super) fn abandon(&mut self) -> Vec<(AppendRequest, Plan)> {
        self.acks = FuturesOrdered::new();
        self.busy.clear();
        self.published.drain(..).collect()
    }
}
