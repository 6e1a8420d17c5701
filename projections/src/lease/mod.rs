//! Leases: how a fleet makes sure exactly one process runs each projector.
//!
//! A [`LeaseStore`] hands out named, expiring leases. A holder keeps its
//! lease by renewing it well within the store's TTL; if it dies, stops
//! renewing or loses touch with the store, the lease expires and another
//! process takes it. [`LeasedProjector`] runs a projector only while it holds
//! the projector's lease.
//!
//! A lease is a *liveness* device, not a fence: a holder that pauses longer
//! than the TTL may overlap for a moment with its successor. Projectors stay
//! correct under that overlap on their own (transactional checkpoints and
//! per-row position guards, see [`Projector`](crate::Projector)), so the
//! lease only keeps the overlap rare and short.
//!
//! # Layout
//! - this module — the [`LeaseStore`] port, [`Lease`], [`LeaseError`].
//! - [`memory`] — [`InMemoryLeases`], for one process and for tests.
//! - [`supervisor`] — [`LeasedProjector`]: acquire, run, renew, hand over.
//! - `conformance` (feature `conformance`) — the suite every backend passes,
//!   instantiated with `lease_store_conformance!`.

pub mod memory;
pub mod supervisor;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;

pub use memory::InMemoryLeases;
pub use supervisor::{LeasedHandle, LeasedProjector, SupervisorConfig};

/// A lease held: its name, its holder and the store's token for this grant
/// (it changes at every renewal, so a stale copy cannot renew or release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub token: u64,
}

/// Named, expiring, exclusive leases.
///
/// - at most one holder per name at any time, as the store sees it;
/// - a lease not renewed within [`ttl`](LeaseStore::ttl) of its last grant
///   or renewal expires, and may then be acquired by anyone;
/// - renewing or releasing with a stale [`Lease`] (expired, released,
///   already renewed, or taken over) fails with [`LeaseError::Lost`] or does
///   nothing, and never disturbs the current holder.
#[async_trait]
pub trait LeaseStore: Debug + Send + Sync + 'static {
    /// How long a grant or renewal lasts.
    fn ttl(&self) -> Duration;

    /// Takes the lease `name` for `holder` if nobody holds it; `None` if
    /// someone does.
    async fn try_acquire(&self, name: &str, holder: &str) -> Result<Option<Lease>, LeaseError>;

    /// Extends the lease for another TTL and returns its new token.
    async fn renew(&self, lease: &Lease) -> Result<Lease, LeaseError>;

    /// Gives the lease up at once, so a successor need not wait for the
    /// TTL. Releasing a lease that is no longer held does nothing.
    async fn release(&self, lease: &Lease) -> Result<(), LeaseError>;

    /// Who holds `name` now, if anyone.
    async fn holder(&self, name: &str) -> Result<Option<String>, LeaseError>;
}

/// A lease store failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The lease expired or another holder has it.
    #[error("lease `{0}` is no longer held")]
    Lost(String),
    /// The store cannot be reached now; retry later.
    #[error("lease store unavailable: {0}")]
    Unavailable(String),
    /// A lease name the store cannot hold.
    #[error("invalid lease name `{0}`")]
    InvalidName(String),
}
