//! [`PgError`], what opening a store reports, and how database errors map
//! onto the projector runtime's errors: failures of the server or the
//! connection are transient ([`ProjectionError::Unavailable`], retried
//! without limit, never dead-lettering an event; [`QueryError::Unavailable`]
//! for queries), anything else blames the events being applied.

use quire_projections::ProjectionError;
use quire_projections::query::QueryError;

/// Opening the read models' store failed.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The configuration cannot be used (bad URL or schema name).
    #[error("invalid PostgreSQL configuration: {0}")]
    Config(String),
    /// No connection could be made to the server.
    #[error("cannot reach PostgreSQL at {address}: {source}")]
    Unreachable {
        address: String,
        #[source]
        source: sqlx::Error,
    },
    /// Creating the schema or running the migrations failed.
    #[error("preparing schema {schema} at {address} failed: {message}")]
    Schema {
        address: String,
        schema: String,
        message: String,
    },
}

/// Whether a database error is the server's or the connection's fault
/// rather than the statement's: worth retrying as it is. Shared with the
/// search index on PostgreSQL, so both classify failures alike.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| transient_sqlstate(&code)),
        _ => false,
    }
}

/// Whether the statement broke a unique constraint (SQLSTATE 23505).
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// SQLSTATEs of failures that another attempt may not meet: connection
/// exceptions (08), serialization failures and deadlocks (40001, 40P01),
/// insufficient resources (53), operator intervention such as a shutdown
/// (57P01..57P05, 57014 cancellation), system errors (58), a read-only
/// server (25006, a standby after a failover), and a schema or table that
/// is gone (3F000, 42P01): the store, not the events, needs fixing.
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("58")
        || code.starts_with("57P")
        || matches!(code, "40001" | "40P01" | "57014" | "25006" | "3F000" | "42P01")
}

/// A database error met while applying events.
pub(crate) fn projection_error(context: &str, error: sqlx::Error) -> ProjectionError {
    if is_transient(&error) {
        ProjectionError::unavailable(format!("{context}: {error}"))
    } else {
        ProjectionError::apply(format!("{context}: {error}"))
    }
}

/// A database error met while answering a query: the store cannot answer.
pub(crate) fn query_error(context: &str, error: sqlx::Error) -> QueryError {
    QueryError::Unavailable(format!("{context}: {error}"))
}

/// A stored value that does not convert back to its domain type: the read
/// model is corrupt (or was written by a newer version).
pub(crate) fn corrupt(what: &str) -> QueryError {
    QueryError::Unavailable(format!("read model holds an invalid {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_transient() {
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(is_transient(&sqlx::Error::Io(std::io::Error::other("reset"))));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        for code in ["08006", "57P01", "53100", "40001", "40P01"] {
            assert!(transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "22P02", "42601"] {
            assert!(!transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn mapping_keeps_the_family() {
        let unavailable = projection_error("apply", sqlx::Error::PoolTimedOut);
        assert!(unavailable.is_transient());
        let blamed = projection_error("apply", sqlx::Error::RowNotFound);
        assert!(!blamed.is_transient());
        assert!(matches!(
            query_error("get", sqlx::Error::PoolClosed),
            QueryError::Unavailable(_)
        ));
    }
}
