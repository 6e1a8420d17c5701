//! Quire's fleet coordination on NATS: what lets several `quire serve`
//! processes share the projectors (ADR 0012).
//!
//! - **Leases** ([`NatsLeases`]): the [`LeaseStore`] port on a JetStream
//!   key-value bucket whose `max_age` is the lease TTL. Acquiring is a
//!   create-if-absent, renewing a compare-and-set on the key's revision,
//!   releasing a delete expecting that revision; a holder that stops
//!   renewing loses the key when the server expires it.
//! - **Progress** ([`ProjectorBeacon`]): the process running a projector
//!   publishes its checkpoint on `<prefix>.progress.<name>` after every
//!   apply, and its full status every heartbeat.
//! - **Remote control** ([`NatsProjectors`]): the [`Projectors`] port for
//!   gateways. Waits follow the progress subjects; status comes from the
//!   heartbeats; dead letters, re-drive, discard and rebuild are requests on
//!   `<prefix>.control.<name>`, answered by the lease holder only.
//!
//! [`LeaseStore`]: quire_projections::lease::LeaseStore
//! [`Projectors`]: quire_projections::fleet::Projectors
//!
//! # Layout
//! - [`config`] — [`CoordinationConfig`]: servers, bucket, TTL, subjects.
//! - [`connect`] — the NATS connection and its errors.
//! - [`leases`] — [`NatsLeases`].
//! - [`wire`] — the JSON messages on the progress and control subjects.
//! - [`beacon`] — [`ProjectorBeacon`]: the holder's side.
//! - [`remote`] — [`NatsProjectors`]: the gateway's side.

#![forbid(unsafe_code)]

pub mod beacon;
pub mod config;
pub mod connect;
pub mod leases;
pub mod remote;
pub mod wire;

pub use async_nats;
pub use beacon::ProjectorBeacon;
pub use config::CoordinationConfig;
pub use connect::{CoordinationError, connect};
pub use leases::NatsLeases;
pub use remote::NatsProjectors;
