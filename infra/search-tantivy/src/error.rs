//! Errors of the tantivy adapter and their mapping onto the port's.

use quire_projections::query::QueryError;
use quire_projections::search::SearchIndexError;

/// Opening the index failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the search index directory {path}: {source}")]
    Directory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("cannot open the search index directory: {0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error(transparent)]
    Index(#[from] SearchIndexError),
}

/// A tantivy failure while writing or reading: the store's fault, retried.
pub(crate) fn unavailable(context: &str, error: impl std::fmt::Display) -> SearchIndexError {
    SearchIndexError::Unavailable(format!("{context}: {error}"))
}

/// A tantivy failure while answering a query.
pub(crate) fn query_unavailable(context: &str, error: impl std::fmt::Display) -> QueryError {
    QueryError::Unavailable(format!("search index {context}: {error}"))
}

/// A blocking task that panicked or was cancelled.
pub(crate) fn join_failed(error: tokio::task::JoinError) -> SearchIndexError {
    SearchIndexError::Unavailable(format!("search index task failed: {error}"))
}
