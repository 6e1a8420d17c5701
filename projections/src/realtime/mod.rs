//! Real-time ports: fan-out of new-message notices across gateway
//! instances, presence, and unread counters (ADR 0010).
//!
//! Gateways and projectors use these ports; the distributed deployment backs
//! them with Redis (`infra/realtime-redis`), the embedded one with the
//! in-memory backends here. Every backend passes the same conformance suites.
//!
//! # Layout
//! - [`fanout`] — [`MessageFanout`]: publish a [`MessageNotice`], subscribe
//!   to the notices of a set of channels as a stream of [`Delivery`].
//!   Pub/sub is at-least-once only while connected: a [`Delivery::Gap`]
//!   tells the consumer to fill gaps from the read model by position.
//! - [`presence`] — [`Presence`]: users online per gateway instance, kept by
//!   heartbeats with a TTL so a dead instance's users expire.
//! - [`unread`] — [`UnreadCounters`]: per (user, channel) unread counts,
//!   written by the [`UnreadCounts`] projector (which also answers the
//!   unread query port from them), idempotent under redelivery; its
//!   in-memory backend lives there too.
//! - [`notices`] — [`NoticePublisher`]: the projector that publishes a
//!   notice per message event.
//! - [`memory`] — the in-memory backends of fan-out and presence.
//! - `conformance` (feature `conformance`) — one suite per port, with the
//!   `message_fanout_conformance!`, `presence_conformance!` and
//!   `unread_counters_conformance!` macros that instantiate them.

pub mod fanout;
pub mod memory;
pub mod notices;
pub mod presence;
pub mod unread;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use fanout::{Delivery, DeliveryStream, MessageFanout, MessageNotice, NoticeKind};
pub use memory::{InMemoryFanout, InMemoryPresence};
pub use notices::NoticePublisher;
pub use presence::{GatewayId, Presence};
pub use unread::{
    ChannelChange, ChannelUnread, InMemoryUnreadCounters, UNREAD_WINDOW, UnreadChange, UnreadCounters,
    UnreadCounts,
};

/// A failure of a real-time backend.
#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    /// The backend could not be reached or refused the operation; retryable.
    #[error("real-time backend unavailable: {0}")]
    Unavailable(String),
    /// The backend returned data this code cannot read.
    #[error("real-time backend returned malformed data: {0}")]
    Malformed(String),
    /// The backend's checkpoint is behind one this instance read or saved:
    /// its state was lost or reset meanwhile (see
    /// [`ProjectionError::Rewound`](crate::error::ProjectionError::Rewound)).
    #[error("real-time backend rewound to checkpoint {stored} (this instance had seen {seen})")]
    Rewound {
        stored: quire_domain::Position,
        seen: quire_domain::Position,
    },
}
