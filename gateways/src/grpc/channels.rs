//! `ChannelService`: channels, messages and real-time delivery over gRPC.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;
use quire_domain::RecordedEvent;
use quire_domain::channel::{
    AddParticipant, Channel, ChannelCommand, ChannelKind, CreateDirect, CreateGroup, DeleteMessage,
    EditMessage, MarkRead, RemoveParticipant, SendMessage,
};
use quire_domain::values::{ChannelId, DocumentId, Issued, MessageId, Name, UserId};
use quire_event_log::EventFilter;
use quire_projections::query::QueryError;
use quire_projections::read_models::channels::{ChannelView, MessageFilter, MessageView};
use quire_projections::realtime::notices::MESSAGE_EVENTS;
use quire_proto::v1;
use quire_proto::v1::channel_service_server::ChannelService;
use tonic::{Request, Response, Status};

use crate::app::{App, ReadModel};
use crate::auth::caller;
use crate::grpc::command::{Invocation, execute, now};
use crate::grpc::convert::{optional, page_request, read_options};
use crate::grpc::status::{from_log, from_query, invalid};
use crate::presence::PresenceGuard;

#[derive(Debug)]
pub struct ChannelApi {
    pub app: Arc<App>,
}

fn channel_id(text: &str) -> Result<ChannelId, Status> {
    ChannelId::parse(text).map_err(|e| invalid("channel_id", e))
}

fn message_id(field: &str, text: &str) -> Result<MessageId, Status> {
    MessageId::parse(text).map_err(|e| invalid(field, e))
}

fn users(field: &str, ids: &[String]) -> Result<Vec<UserId>, Status> {
    ids.iter()
        .map(|id| UserId::parse(id).map_err(|e| invalid(field, e)))
        .collect()
}

fn channel_to_proto(view: &ChannelView) -> v1::Channel {
    v1::Channel {
        id: view.id.as_str().to_owned(),
        kind: match view.kind {
            ChannelKind::Direct => v1::ChannelKind::Direct as i32,
            ChannelKind::Group => v1::ChannelKind::Group as i32,
        },
        name: view
            .name
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default(),
        participant_ids: view.participants.iter().map(|u| u.as_str().to_owned()).collect(),
        created_at: view.created_at.unix_micros(),
        unread: u64::from(view.unread),
    }
}

pub fn message_to_proto(view: &MessageView) -> v1::Message {
    v1::Message {
        id: view.id.as_str().to_owned(),
        channel_id: view.channel.as_str().to_owned(),
        author_id: view.author.as_str().to_owned(),
        body: view.body.clone().unwrap_or_default(),
        thread_id: view
            .thread_parent
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        mention_ids: view.mentions.iter().map(|u| u.as_str().to_owned()).collect(),
        attachment_ids: view.attachments.iter().map(|d| d.as_str().to_owned()).collect(),
        sent_at: view.sent_at.unix_micros(),
        edited_at: view.edited_at.map_or(0, |t| t.unix_micros()),
        deleted: view.deleted,
        seq: view.seq,
    }
}

impl ChannelApi {
    async fn run(
        &self,
        id: &ChannelId,
        command: ChannelCommand,
        invocation: &Invocation,
    ) -> Result<v1::CommandResult, Status> {
        let issued = Issued::new(invocation.caller.actor(), now(), command);
        execute::<Channel>(&self.app, id.as_str(), &issued, invocation).await
    }

    /// The attachments the sender may read, for the domain's check.
    async fn readable(
        &self,
        reader: &UserId,
        attachments: &[DocumentId],
    ) -> Result<BTreeSet<DocumentId>, Status> {
        if attachments.is_empty() {
            return Ok(BTreeSet::new());
        }
        self.app
            .documents
            .readable_documents(reader, attachments)
            .await
            .map_err(from_query)
    }
}

#[tonic::async_trait]
impl ChannelService for ChannelApi {
    async fn create_channel(
        &self,
        request: Request<v1::CreateChannelRequest>,
    ) -> Result<Response<v1::CreateChannelResponse>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let members = users("member_ids", &request.member_ids)?;
        let id = channel_id(&invocation.new_id("channel"))?;
        let command = match v1::ChannelKind::try_from(request.kind) {
            Ok(v1::ChannelKind::Direct) => {
                let mut participants = vec![invocation.caller.user.clone()];
                participants.extend(members);
                ChannelCommand::CreateDirect(CreateDirect {
                    channel_id: id.clone(),
                    participants,
                })
            }
            Ok(v1::ChannelKind::Group) => {
                let name = Name::parse(&request.name).map_err(|e| invalid("name", e))?;
                ChannelCommand::CreateGroup(CreateGroup {
                    channel_id: id.clone(),
                    name,
                    members,
                })
            }
            _ => {
                return Err(invalid(
                    "kind",
                    "must be CHANNEL_KIND_DIRECT or CHANNEL_KIND_GROUP",
                ));
            }
        };
        let result = self.run(&id, command, &invocation).await?;
        Ok(Response::new(v1::CreateChannelResponse {
            channel_id: id.as_str().to_owned(),
            result: Some(result),
        }))
    }

    async fn add_participant(
        &self,
        request: Request<v1::AddParticipantRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = channel_id(&request.channel_id)?;
        let user = UserId::parse(&request.user_id).map_err(|e| invalid("user_id", e))?;
        let command = ChannelCommand::AddParticipant(AddParticipant {
            channel_id: id.clone(),
            user,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn remove_participant(
        &self,
        request: Request<v1::RemoveParticipantRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = channel_id(&request.channel_id)?;
        let user = UserId::parse(&request.user_id).map_err(|e| invalid("user_id", e))?;
        let command = ChannelCommand::RemoveParticipant(RemoveParticipant {
            channel_id: id.clone(),
            user,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn send_message(
        &self,
        request: Request<v1::SendMessageRequest>,
    ) -> Result<Response<v1::SendMessageResponse>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = channel_id(&request.channel_id)?;
        let attachments: Vec<DocumentId> = request
            .attachment_ids
            .iter()
            .map(|d| DocumentId::parse(d).map_err(|e| invalid("attachment_ids", e)))
            .collect::<Result<_, _>>()?;
        let readable_documents = self.readable(&invocation.caller.user, &attachments).await?;
        let message = message_id("message_id", &invocation.new_id("message"))?;
        let command = ChannelCommand::SendMessage(SendMessage {
            channel_id: id.clone(),
            message_id: message.clone(),
            body: request.body,
            thread_parent: optional(&request.thread_id)
                .map(|t| message_id("thread_id", t))
                .transpose()?,
            mentions: users("mention_ids", &request.mention_ids)?,
            attachments,
            readable_documents,
        });
        let result = self.run(&id, command, &invocation).await?;
        Ok(Response::new(v1::SendMessageResponse {
            message_id: message.as_str().to_owned(),
            result: Some(result),
        }))
    }

    async fn edit_message(
        &self,
        request: Request<v1::EditMessageRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = channel_id(&request.channel_id)?;
        let message_id = message_id("message_id", &request.message_id)?;
        let command = ChannelCommand::EditMessage(EditMessage {
            channel_id: id.clone(),
            message_id,
            body: request.body,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn delete_message(
        &self,
        request: Request<v1::DeleteMessageRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = channel_id(&request.channel_id)?;
        let message_id = message_id("message_id", &request.message_id)?;
        let command = ChannelCommand::DeleteMessage(DeleteMessage {
            channel_id: id.clone(),
            message_id,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn mark_read(
        &self,
        request: Request<v1::MarkReadRequest>,
    ) -> Result<Response<v1::CommandResult>, Status> {
        let invocation = Invocation::of(&request, &request.get_ref().command_id)?;
        let request = request.into_inner();
        let id = channel_id(&request.channel_id)?;
        let up_to = message_id("message_id", &request.message_id)?;
        let command = ChannelCommand::MarkRead(MarkRead {
            channel_id: id.clone(),
            up_to,
        });
        Ok(Response::new(self.run(&id, command, &invocation).await?))
    }

    async fn get_channel(
        &self,
        request: Request<v1::GetChannelRequest>,
    ) -> Result<Response<v1::Channel>, Status> {
        let reader = caller(&request)?.user;
        let request = request.into_inner();
        self.app
            .wait_for(ReadModel::Channels, read_options(&request.read))
            .await?;
        let view = self
            .app
            .channels
            .get_channel(&reader, &channel_id(&request.channel_id)?)
            .await
            .map_err(from_query)?;
        Ok(Response::new(channel_to_proto(&view)))
    }

    async fn list_channels(
        &self,
        request: Request<v1::ListChannelsRequest>,
    ) -> Result<Response<v1::ListChannelsResponse>, Status> {
        let reader = caller(&request)?.user;
        let request = request.into_inner();
        self.app
            .wait_for(ReadModel::Channels, read_options(&request.read))
            .await?;
        let page = self
            .app
            .channels
            .list_channels(&reader, page_request(&request.page))
            .await
            .map_err(from_query)?;
        Ok(Response::new(v1::ListChannelsResponse {
            channels: page.items.iter().map(channel_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn list_messages(
        &self,
        request: Request<v1::ListMessagesRequest>,
    ) -> Result<Response<v1::ListMessagesResponse>, Status> {
        let reader = caller(&request)?.user;
        let request = request.into_inner();
        self.app
            .wait_for(ReadModel::Channels, read_options(&request.read))
            .await?;
        let filter = MessageFilter {
            thread: optional(&request.thread_id)
                .map(|t| message_id("thread_id", t))
                .transpose()?,
        };
        let page = self
            .app
            .channels
            .list_messages(
                &reader,
                &channel_id(&request.channel_id)?,
                filter,
                page_request(&request.page),
            )
            .await
            .map_err(from_query)?;
        Ok(Response::new(v1::ListMessagesResponse {
            messages: page.items.iter().map(message_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    type StreamMessagesStream = futures::stream::BoxStream<'static, Result<v1::MessageUpdate, Status>>;

    async fn stream_messages(
        &self,
        request: Request<v1::StreamMessagesRequest>,
    ) -> Result<Response<Self::StreamMessagesStream>, Status> {
        let reader = caller(&request)?.user;
        let only = optional(&request.get_ref().channel_id)
            .map(channel_id)
            .transpose()?;
        if let Some(channel) = &only {
            // Refuse at once rather than stream nothing.
            self.app
                .channels
                .get_channel(&reader, channel)
                .await
                .map_err(from_query)?;
        }
        let online = self.app.presence.connect(&reader);
        if let (Some(fanout), Some(channel)) = (&self.app.fanout, &only) {
            let updates = crate::grpc::fanout_stream::updates(&self.app, fanout, reader, channel).await?;
            return Ok(Response::new(while_online(updates, online)));
        }
        let from = self.app.log.head().await.map_err(from_log)?.next();
        let filter = EventFilter::categories(["channel"]).with_event_types(MESSAGE_EVENTS);
        let app = self.app.clone();
        let updates = self
            .app
            .log
            .subscribe(from, filter)
            .then(move |event| {
                let (app, reader, only) = (app.clone(), reader.clone(), only.clone());
                async move {
                    match event {
                        Ok(event) => update_for(&app, &reader, only.as_ref(), &event).await,
                        Err(error) => Some(Err(from_log(error))),
                    }
                }
            })
            .filter_map(|update| async move { update })
            .take_until(self.app.shutdown.clone().cancelled_owned())
            .boxed();
        Ok(Response::new(while_online(updates, online)))
    }

    async fn get_presence(
        &self,
        request: Request<v1::GetPresenceRequest>,
    ) -> Result<Response<v1::GetPresenceResponse>, Status> {
        let reader = caller(&request)?.user;
        let channel = channel_id(&request.get_ref().channel_id)?;
        let view = self
            .app
            .channels
            .get_channel(&reader, &channel)
            .await
            .map_err(from_query)?;
        let online = self
            .app
            .presence
            .presence()
            .online(&view.participants)
            .await
            .map_err(|error| Status::unavailable(format!("presence: {error}")))?;
        Ok(Response::new(v1::GetPresenceResponse {
            online_user_ids: online.iter().map(ToString::to_string).collect(),
        }))
    }

    async fn get_unread_counts(
        &self,
        request: Request<v1::GetUnreadCountsRequest>,
    ) -> Result<Response<v1::GetUnreadCountsResponse>, Status> {
        let reader = caller(&request)?.user;
        self.app
            .wait_for(ReadModel::Unread, read_options(&request.get_ref().read))
            .await?;
        let counts = self.app.unread.unread_counts(&reader).await.map_err(from_query)?;
        Ok(Response::new(v1::GetUnreadCountsResponse {
            counts: counts
                .into_iter()
                .map(|count| v1::UnreadCount {
                    channel_id: count.channel.to_string(),
                    unread: u64::from(count.unread),
                })
                .collect(),
        }))
    }
}

/// `updates`, keeping its reader marked online for as long as it lives.
fn while_online<T: Send + 'static>(
    updates: futures::stream::BoxStream<'static, T>,
    online: PresenceGuard,
) -> futures::stream::BoxStream<'static, T> {
    updates
        .map(move |update| {
            let _held = &online;
            update
        })
        .boxed()
}

/// The update a message event means for `reader`, once the channel read
/// model has applied it; `None` when the reader may not see it.
pub(crate) async fn update_for(
    app: &App,
    reader: &UserId,
    only: Option<&ChannelId>,
    event: &RecordedEvent,
) -> Option<Result<v1::MessageUpdate, Status>> {
    let ids: serde_json::Value = serde_json::from_slice(&event.payload).ok()?;
    let channel = ChannelId::parse(ids.get("channel_id")?.as_str()?).ok()?;
    let message = MessageId::parse(ids.get("message_id")?.as_str()?).ok()?;
    if only.is_some_and(|o| *o != channel) {
        return None;
    }
    if let Err(status) = app.wait_for(ReadModel::Channels, event.position.0).await {
        return Some(Err(status));
    }
    let kind = match event.event_type.as_str() {
        "channel.message_sent" => v1::message_update::Kind::Sent,
        "channel.message_edited" => v1::message_update::Kind::Edited,
        _ => v1::message_update::Kind::Deleted,
    };
    message_update(app, reader, &channel, &message, kind, event.position.0).await
}

/// The message as `reader` sees it now, as an update of `kind`; `None` when
/// the reader may not see it.
pub(crate) async fn message_update(
    app: &App,
    reader: &UserId,
    channel: &ChannelId,
    message: &MessageId,
    kind: v1::message_update::Kind,
    position: u64,
) -> Option<Result<v1::MessageUpdate, Status>> {
    match app.channels.get_message(reader, channel, message).await {
        Ok(view) => Some(Ok(v1::MessageUpdate {
            kind: kind as i32,
            message: Some(message_to_proto(&view)),
            position,
        })),
        Err(QueryError::NotFound(_)) => None,
        Err(other) => Some(Err(from_query(other))),
    }
}
