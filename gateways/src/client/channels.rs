//! `quire channel create|list|presence|unread` and `quire msg send|read|tail`.

use clap::Subcommand;
use quire_proto::v1;
use quire_proto::v1::channel_service_client::ChannelServiceClient;
use serde_json::json;

use super::connection::{Bearer, Connection, describe};
use super::output::{emit, time};

type Client =
    ChannelServiceClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>>;

fn client(connection: &Connection) -> Client {
    ChannelServiceClient::with_interceptor(connection.channel.clone(), connection.bearer.clone())
}

#[derive(Debug, Clone, Subcommand)]
pub enum ChannelCommand {
    /// Create a group channel (you join it too).
    Create {
        name: String,
        /// Members besides you (repeatable).
        #[arg(long = "member")]
        members: Vec<String>,
    },
    /// List your channels with their unread counts.
    List,
    /// Who of a channel's participants is online (tailing messages on some
    /// gateway).
    Presence { channel: String },
    /// Your unread counts, channels with unread messages only.
    Unread {
        /// Wait until the counts include the change at this log position
        /// (as printed by `msg send` or `msg read`).
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum MsgCommand {
    /// Send a message to a channel.
    Send {
        channel: String,
        text: String,
        /// Reply in the thread of this message.
        #[arg(long)]
        thread: Option<String>,
        /// Users to mention (repeatable).
        #[arg(long = "mention")]
        mentions: Vec<String>,
        /// Documents to attach (repeatable).
        #[arg(long = "attach")]
        attachments: Vec<String>,
    },
    /// Mark a channel read up to and including a message.
    Read { channel: String, message: String },
    /// Print a channel's recent messages, then new ones as they arrive.
    Tail {
        channel: String,
        /// How many recent messages to print first.
        #[arg(long, default_value_t = 10)]
        last: u32,
    },
}

pub async fn run_channel(connection: Connection, command: ChannelCommand) -> anyhow::Result<()> {
    match command {
        ChannelCommand::Create { name, members } => {
            let request = v1::CreateChannelRequest {
                command_id: String::new(),
                kind: v1::ChannelKind::Group as i32,
                name: name.clone(),
                member_ids: members.clone(),
            };
            let created = client(&connection)
                .create_channel(request)
                .await
                .map_err(describe)?
                .into_inner();
            let position = created.result.map_or(0, |r| r.position);
            emit(
                connection.json,
                json!({"channel_id": created.channel_id, "name": name, "members": members, "position": position}),
                || format!("created channel {name} ({})", created.channel_id),
            );
        }
        ChannelCommand::List => {
            let request = v1::ListChannelsRequest {
                page: Some(v1::PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                read: None,
            };
            let page = client(&connection)
                .list_channels(request)
                .await
                .map_err(describe)?
                .into_inner();
            for c in page.channels {
                emit(
                    connection.json,
                    json!({"id": c.id, "name": c.name, "participants": c.participant_ids, "unread": c.unread}),
                    || {
                        format!(
                            "{}  {:<24} unread={:<4} {}",
                            c.id,
                            c.name,
                            c.unread,
                            c.participant_ids.join(",")
                        )
                    },
                );
            }
        }
        ChannelCommand::Presence { channel } => {
            let request = v1::GetPresenceRequest {
                channel_id: channel.clone(),
            };
            let online = client(&connection)
                .get_presence(request)
                .await
                .map_err(describe)?
                .into_inner()
                .online_user_ids;
            emit(
                connection.json,
                json!({"channel_id": channel, "online": online}),
                || match online.is_empty() {
                    true => format!("nobody in {channel} is online"),
                    false => format!("online in {channel}: {}", online.join(", ")),
                },
            );
        }
        ChannelCommand::Unread { after } => unread(connection, after).await?,
    }
    Ok(())
}

async fn unread(connection: Connection, after: u64) -> anyhow::Result<()> {
    let request = v1::GetUnreadCountsRequest {
        read: Some(v1::ReadOptions { min_position: after }),
    };
    let counts = client(&connection)
        .get_unread_counts(request)
        .await
        .map_err(describe)?
        .into_inner()
        .counts;
    if counts.is_empty() && !connection.json {
        println!("nothing unread");
    }
    for count in counts {
        emit(
            connection.json,
            json!({"channel_id": count.channel_id, "unread": count.unread}),
            || format!("{}  unread={}", count.channel_id, count.unread),
        );
    }
    Ok(())
}

fn print_message(json_mode: bool, m: &v1::Message, kind: &str) {
    emit(
        json_mode,
        json!({"kind": kind, "id": m.id, "channel_id": m.channel_id, "author": m.author_id, "body": m.body, "thread_id": m.thread_id,
               "mentions": m.mention_ids, "attachments": m.attachment_ids, "sent_at": m.sent_at, "seq": m.seq, "deleted": m.deleted}),
        || {
            let marker = match kind {
                "edited" => " (edited)",
                "deleted" => " (deleted)",
                _ => "",
            };
            format!("[{}] {}: {}{marker}", time(m.sent_at), m.author_id, m.body)
        },
    );
}

pub async fn run_msg(connection: Connection, command: MsgCommand) -> anyhow::Result<()> {
    match command {
        MsgCommand::Send {
            channel,
            text,
            thread,
            mentions,
            attachments,
        } => {
            let request = v1::SendMessageRequest {
                command_id: String::new(),
                channel_id: channel.clone(),
                body: text,
                thread_id: thread.unwrap_or_default(),
                mention_ids: mentions,
                attachment_ids: attachments,
            };
            let sent = client(&connection)
                .send_message(request)
                .await
                .map_err(describe)?
                .into_inner();
            let position = sent.result.map_or(0, |r| r.position);
            emit(
                connection.json,
                json!({"message_id": sent.message_id, "channel_id": channel, "position": position}),
                || format!("sent message {} (position {position})", sent.message_id),
            );
        }
        MsgCommand::Read { channel, message } => {
            let request = v1::MarkReadRequest {
                command_id: String::new(),
                channel_id: channel.clone(),
                message_id: message.clone(),
            };
            let result = client(&connection)
                .mark_read(request)
                .await
                .map_err(describe)?
                .into_inner();
            emit(
                connection.json,
                json!({"channel_id": channel, "read_up_to": message, "position": result.position}),
                || format!("read {channel} up to {message} (position {})", result.position),
            );
        }
        MsgCommand::Tail { channel, last } => tail(connection, channel, last).await?,
    }
    Ok(())
}

async fn tail(connection: Connection, channel: String, last: u32) -> anyhow::Result<()> {
    let mut channels = client(&connection);
    let live = channels
        .stream_messages(v1::StreamMessagesRequest {
            channel_id: channel.clone(),
        })
        .await
        .map_err(describe)?
        .into_inner();
    if last > 0 {
        let request = v1::ListMessagesRequest {
            channel_id: channel.clone(),
            thread_id: String::new(),
            page: Some(v1::PageRequest {
                page_size: last,
                page_token: String::new(),
            }),
            read: None,
        };
        let page = channels
            .list_messages(request)
            .await
            .map_err(describe)?
            .into_inner();
        for message in page.messages.iter().rev() {
            print_message(connection.json, message, "sent");
        }
    }
    let mut live = live;
    while let Some(update) = live.message().await.map_err(describe)? {
        let kind = match v1::message_update::Kind::try_from(update.kind) {
            Ok(v1::message_update::Kind::Edited) => "edited",
            Ok(v1::message_update::Kind::Deleted) => "deleted",
            _ => "sent",
        };
        if let Some(message) = update.message {
            print_message(connection.json, &message, kind);
        }
    }
    Ok(())
}
