//! The conformance suites of the read-model query ports, written once and
//! run against every backend (the in-memory one here; a Postgres one
//! later).
//!
//! A backend's test file instantiates a suite with a factory: a closure
//! returning a future of a [`Fixture`] holding a fresh, empty read model as
//! both its projector and its query port:
//!
//! ```ignore
//! use std::sync::Arc;
//! use quire_projections::read_models::conformance::DocumentsFixture;
//! use quire_projections::read_models::documents::InMemoryDocuments;
//!
//! quire_projections::document_queries_conformance!(|| async {
//!     let model = InMemoryDocuments::shared();
//!     DocumentsFixture::new(model.clone(), model, ())
//! });
//! ```
//!
//! Every case drives the real aggregates through a [`World`], delivers the
//! events they decide straight to the projector's `apply` (no runner, so
//! the cases are deterministic), and checks the port's answers.
//!
//! # Layout
//! - [`world`] — the scenario builder and event delivery.
//! - [`documents`] — the [`DocumentQueries`] cases.
//! - [`channels`] — the [`ChannelQueries`] cases.
//! - [`unread`] — the [`UnreadQueries`] cases.
//!
//! [`DocumentQueries`]: crate::read_models::documents::DocumentQueries
//! [`ChannelQueries`]: crate::read_models::channels::ChannelQueries
//! [`UnreadQueries`]: crate::read_models::unread::UnreadQueries

pub mod channels;
pub mod documents;
pub mod unread;
pub mod world;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

pub use world::World;

use crate::projector::Projector;
use crate::query::{PageRequest, QueryError};
use crate::read_models::channels::ChannelQueries;
use crate::read_models::documents::DocumentQueries;
use crate::read_models::unread::UnreadQueries;

/// A fresh read model as the suite sees it: the projector that writes it,
/// the port that reads it, and whatever must live as long as both (a
/// database schema, a connection pool).
pub struct Fixture<Q: ?Sized> {
    pub projector: Arc<dyn Projector>,
    pub queries: Arc<Q>,
    _guard: Box<dyn Any + Send + Sync>,
}

/// A fixture of the documents read model.
pub type DocumentsFixture = Fixture<dyn DocumentQueries>;
/// A fixture of the channels read model.
pub type ChannelsFixture = Fixture<dyn ChannelQueries>;
/// A fixture of an unread counts backend.
pub type UnreadFixture = Fixture<dyn UnreadQueries>;

impl<Q: ?Sized> Fixture<Q> {
    pub fn new(projector: Arc<dyn Projector>, queries: Arc<Q>, guard: impl Any + Send + Sync) -> Fixture<Q> {
        Fixture {
            projector,
            queries,
            _guard: Box::new(guard),
        }
    }
}

impl<Q: ?Sized> fmt::Debug for Fixture<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("projector", &self.projector.id())
            .finish_non_exhaustive()
    }
}

/// A page request with a token.
pub fn next(page_size: u32, token: Option<String>) -> PageRequest {
    PageRequest {
        page_size,
        page_token: token,
    }
}

/// Asserts a query failed with `NotFound`.
#[track_caller]
pub fn assert_not_found<T: fmt::Debug>(outcome: Result<T, QueryError>, what: &str) {
    match outcome {
        Err(QueryError::NotFound(_)) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// Asserts a query failed with `InvalidArgument`.
#[track_caller]
pub fn assert_invalid<T: fmt::Debug>(outcome: Result<T, QueryError>, what: &str) {
    match outcome {
        Err(QueryError::InvalidArgument(_)) => {}
        other => panic!("{what}: expected InvalidArgument, got {other:?}"),
    }
}

/// Generates one `#[tokio::test]` per case of the [`DocumentQueries`]
/// suite; `$factory` is a closure returning a future of a fresh
/// [`DocumentsFixture`].
///
/// [`DocumentQueries`]: crate::read_models::documents::DocumentQueries
#[macro_export]
macro_rules! document_queries_conformance {
    ($factory:expr) => {
        $crate::document_queries_conformance!(@cases $factory;
            owner_sees_their_document,
            strangers_get_not_found,
            shares_grant_view_and_edit_until_unshared,
            uploads_and_versions,
            renames_and_moves_keep_list_order,
            lists_newest_first_with_filters,
            document_paging,
            version_paging,
            deletes_and_restores,
            documents_of_a_deleted_project_are_deleted,
            projects_are_their_owners,
            project_moves_and_ancestors,
            project_paging,
            readable_documents_checks_each_id,
            redelivery_changes_nothing,
            reset_empties_the_read_model,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let fixture: $crate::read_models::conformance::DocumentsFixture = ($factory)().await;
                $crate::read_models::conformance::documents::$case(&fixture).await;
            }
        )+
    };
}

/// Generates one `#[tokio::test]` per case of the [`ChannelQueries`]
/// suite; `$factory` is a closure returning a future of a fresh
/// [`ChannelsFixture`].
///
/// [`ChannelQueries`]: crate::read_models::channels::ChannelQueries
#[macro_export]
macro_rules! channel_queries_conformance {
    ($factory:expr) => {
        $crate::channel_queries_conformance!(@cases $factory;
            participants_see_the_channel,
            strangers_get_not_found,
            messages_newest_first_with_cursor_paging,
            edits_and_deletes,
            threads,
            mentions_and_attachments,
            unread_counts_follow_messages_markers_and_deletes,
            a_participant_who_leaves_loses_the_channel,
            channel_paging,
            redelivery_changes_nothing,
            reset_empties_the_read_model,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let fixture: $crate::read_models::conformance::ChannelsFixture = ($factory)().await;
                $crate::read_models::conformance::channels::$case(&fixture).await;
            }
        )+
    };
}

/// Generates one `#[tokio::test]` per case of the [`UnreadQueries`]
/// suite; `$factory` is a closure returning a future of a fresh
/// [`UnreadFixture`].
///
/// [`UnreadQueries`]: crate::read_models::unread::UnreadQueries
#[macro_export]
macro_rules! unread_queries_conformance {
    ($factory:expr) => {
        $crate::unread_queries_conformance!(@cases $factory;
            counts_follow_messages_markers_and_deletes,
            counts_come_in_channel_list_order,
            leaving_drops_the_channel_and_rejoining_counts_every_live_message,
            redelivery_changes_nothing,
            reset_empties_the_counts,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let fixture: $crate::read_models::conformance::UnreadFixture = ($factory)().await;
                $crate::read_models::conformance::unread::$case(&fixture).await;
            }
        )+
    };
}
