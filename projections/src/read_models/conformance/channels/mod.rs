//! The [`ChannelQueries`] cases. Each takes a fresh fixture; the
//! `channel_queries_conformance!` macro makes one test of each.
//!
//! - `visibility` — participants and strangers, channel lists.
//! - `messages` — message order and paging, edits, deletes, threads,
//!   mentions, attachments.
//! - `unread` — read markers, unread counts, leaving and rejoining.
//! - `replay` — redelivery and reset.
//!
//! [`ChannelQueries`]: crate::read_models::channels::ChannelQueries

mod messages;
mod replay;
mod unread;
mod visibility;

pub use messages::*;
pub use replay::*;
pub use unread::*;
pub use visibility::*;

use super::ChannelsFixture;
use super::world::{cid, mid, uid};
use crate::query::{MAX_PAGE_SIZE, PageRequest};
use crate::read_models::channels::{ChannelView, MessageFilter, MessageView};

/// The reader's channel, which must be visible.
async fn channel(fx: &ChannelsFixture, reader: &str, id: &str) -> ChannelView {
    match fx.queries.get_channel(&uid(reader), &cid(id)).await {
        Ok(view) => view,
        Err(error) => panic!("{reader} cannot get channel {id}: {error}"),
    }
}

/// The reader's message, which must be visible.
async fn message(fx: &ChannelsFixture, reader: &str, id: &str, message: &str) -> MessageView {
    match fx
        .queries
        .get_message(&uid(reader), &cid(id), &mid(message))
        .await
    {
        Ok(view) => view,
        Err(error) => panic!("{reader} cannot get message {message}: {error}"),
    }
}

/// The ids of a channel's messages (or a thread's replies) as `reader`
/// lists them in one page.
async fn timeline(fx: &ChannelsFixture, reader: &str, id: &str, thread: Option<&str>) -> Vec<String> {
    let filter = MessageFilter {
        thread: thread.map(mid),
    };
    fx.queries
        .list_messages(&uid(reader), &cid(id), filter, PageRequest::first(MAX_PAGE_SIZE))
        .await
        .expect("list messages")
        .items
        .into_iter()
        .map(|m| m.id.to_string())
        .collect()
}

/// The reader's channels with unread messages as `(channel, count)` text
/// pairs, in list order.
async fn unread(fx: &ChannelsFixture, reader: &str) -> Vec<(String, u32)> {
    fx.queries
        .list_channels(&uid(reader), PageRequest::first(MAX_PAGE_SIZE))
        .await
        .expect("channels")
        .items
        .into_iter()
        .filter(|c| c.unread > 0)
        .map(|c| (c.id.to_string(), c.unread))
        .collect()
}
