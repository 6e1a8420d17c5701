//! What an acknowledgement (or its absence) means for one published
//! message: stored; a duplicate, answered from the original message;
//! refused, to be retried on fresh state; or lost, to be retried with the
//! same message id.

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::publish::PublishAck;
use quire_event_log::{AppendResult, LogError};
use tracing::{debug, error, warn};

use super::plan::{Plan, conflict, judge};
use super::{AppendRequest, Outcome, Writer};

/// How a published message ended.
pub(super) enum Settled {
    Stored,
    /// Answered, but not stored by this publish: the batch's chain broke.
    NotStored,
    /// Answered by a probe, which never takes part in the chain.
    Answered,
    Retry(AppendRequest),
}

impl Writer {
    pub(super) async fn settle(
        &mut self,
        mut request: AppendRequest,
        plan: Plan,
        outcome: Outcome,
    ) -> Settled {
        let Some(outcome) = outcome else {
            debug!(stream = %request.stream, "reconnected before the acknowledgement; retrying");
            self.note_failure("the connection was re-established before the acknowledgement".to_owned());
            request.uncertain = true;
            return Settled::Retry(request);
        };
        match plan {
            Plan::Append { seq, result } => self.settle_append(request, seq, result, outcome).await,
            Plan::Probe { actual } => self.settle_probe(request, actual, outcome).await,
        }
    }

    async fn settle_append(
        &mut self,
        request: AppendRequest,
        seq: u64,
        result: AppendResult,
        outcome: Result<PublishAck, PublishError>,
    ) -> Settled {
        match outcome {
            Ok(ack) if !ack.duplicate => {
                if ack.sequence != seq {
                    warn!(
                        sequence = ack.sequence,
                        predicted = seq,
                        "append stored at an unexpected sequence"
                    );
                }
                self.account_stored(ack.sequence, seq);
                self.failures = 0;
                request.answer(Ok(result));
                Settled::Stored
            }
            Ok(ack) => {
                debug!(stream = %request.stream, sequence = ack.sequence, "append was stored before");
                self.answer_duplicate(request, ack.sequence).await
            }
            Err(error) => self.publish_failed(request, &error),
        }
    }

    async fn settle_probe(
        &mut self,
        request: AppendRequest,
        actual: Option<u64>,
        outcome: Result<PublishAck, PublishError>,
    ) -> Settled {
        match outcome {
            Ok(ack) if ack.duplicate => match self.answer_duplicate(request, ack.sequence).await {
                Settled::NotStored => Settled::Answered,
                other => other,
            },
            Ok(ack) => {
                error!(sequence = ack.sequence, "JetStream stored a probe message");
                let text = format!(
                    "JetStream stored a probe (message {}) that it must refuse",
                    ack.sequence
                );
                request.answer(Err(LogError::Corrupt(text)));
                Settled::NotStored
            }
            Err(error) if error.kind() == PublishErrorKind::WrongLastSequence => {
                let conflict = conflict(&request, actual);
                request.answer(Err(conflict));
                Settled::Answered
            }
            Err(error) => self.publish_failed(request, &error),
        }
    }

    /// The server already holds a message with this id: answer from it.
    async fn answer_duplicate(&mut self, mut request: AppendRequest, seq: u64) -> Settled {
        match self.store.get(seq).await {
            Ok(Some(original)) => {
                let answer = judge(&original.message, &request.stream, &request.event_ids);
                request.answer(answer);
                Settled::NotStored
            }
            Ok(None) => {
                let text = format!("the log reports a duplicate of message {seq}, which it no longer holds");
                request.answer(Err(LogError::Corrupt(text)));
                Settled::NotStored
            }
            Err(error) => {
                self.note_failure(error.to_string());
                request.uncertain = true;
                Settled::Retry(request)
            }
        }
    }

    fn publish_failed(&mut self, mut request: AppendRequest, error: &PublishError) -> Settled {
        debug!(error = %error, stream = %request.stream, "append not stored");
        match error.kind() {
            PublishErrorKind::WrongLastSequence | PublishErrorKind::WrongLastMessageId => {
                Settled::Retry(request)
            }
            // No stream answers while a restarted server recovers its
            // streams or a clustered stream elects a leader.
            PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::MaxAckPending
            | PublishErrorKind::StreamNotFound => {
                self.note_failure(error.to_string());
                request.uncertain = true;
                Settled::Retry(request)
            }
            PublishErrorKind::MaxPayloadExceeded => {
                request.answer(Err(LogError::InvalidAppend(error.to_string())));
                Settled::NotStored
            }
            _ => {
                request.answer(Err(LogError::Storage {
                    context: format!("JetStream at {} refused the append", self.store.servers),
                    source: std::io::Error::other(error.to_string()),
                }));
                Settled::NotStored
            }
        }
    }
}
