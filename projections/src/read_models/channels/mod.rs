//! The channels read model: channels and participants, messages (with
//! threads, mentions, attachments, edits and deletions), read markers and
//! unread counts, the [`ChannelQueries`] port that reads them, and its
//! embedded backend [`InMemoryChannels`].
//!
//! - [`port`] — the [`ChannelQueries`] trait and [`MessageFilter`].
//! - [`views`] — what queries return.
//! - `memory` — the in-memory backend and its projector.

mod memory;
pub mod port;
pub mod views;

pub use memory::InMemoryChannels;
pub use port::{ChannelQueries, MessageFilter};
pub use views::{ChannelView, MessageView, UnreadCount};
