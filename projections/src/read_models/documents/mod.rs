//! The documents read model: documents (with their versions and shares) and
//! projects, the [`DocumentQueries`] port that reads them, and its embedded
//! backend [`InMemoryDocuments`].
//!
//! - [`port`] — the [`DocumentQueries`] trait and [`DocumentFilter`].
//! - [`views`] — what queries return.
//! - `memory` — the in-memory backend and its projector.

mod memory;
pub mod port;
pub mod views;

pub use memory::InMemoryDocuments;
pub use port::{DocumentFilter, DocumentQueries};
pub use views::{DocumentView, ProjectView, ShareView, UploadState, VersionView};
