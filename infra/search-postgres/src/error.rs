//! How database errors map onto the port's errors. Failures of the server
//! or the connection are transient: [`SearchIndexError::Unavailable`]
//! (the projector's runner retries them without limit and never
//! dead-letters an event for them) and [`QueryError::Unavailable`]. Any
//! other failure of a write is [`SearchIndexError::Corrupt`], which the
//! runner blames on the batch's events, as the read models do.
//!
//! Opening the index reports `quire_read_models_postgres::PgError`, shared
//! with the read models (an unreachable server names its address).

use quire_projections::query::QueryError;
use quire_projections::search::SearchIndexError;
use quire_read_models_postgres::error::is_transient;

/// A database error met while writing, committing or reading entries.
pub(crate) fn index_error(context: &str, error: sqlx::Error) -> SearchIndexError {
    if is_transient(&error) {
        SearchIndexError::Unavailable(format!("search index {context}: {error}"))
    } else {
        SearchIndexError::Corrupt(format!("search index {context}: {error}"))
    }
}

/// A database error met while answering a query. A query the server finds
/// malformed (SQLSTATE 42601, which the query translation should never let
/// through) is the caller's; anything else means the index cannot answer.
pub(crate) fn query_error(context: &str, error: sqlx::Error) -> QueryError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("42601") => {
            QueryError::InvalidArgument(format!("query is malformed: {}", db.message()))
        }
        _ => QueryError::Unavailable(format!("search index {context}: {error}")),
    }
}

/// A stored value that does not convert back to what was written.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> SearchIndexError {
    SearchIndexError::Corrupt(format!("search index holds an invalid {what}: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_keeps_the_family() {
        assert!(matches!(
            index_error("commit", sqlx::Error::PoolClosed),
            SearchIndexError::Unavailable(_)
        ));
        assert!(matches!(
            index_error("commit", sqlx::Error::RowNotFound),
            SearchIndexError::Corrupt(_)
        ));
        assert!(matches!(
            query_error("search", sqlx::Error::PoolClosed),
            QueryError::Unavailable(_)
        ));
    }
}
