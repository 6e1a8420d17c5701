//! Conversions between domain values and columns: unsigned numbers and
//! positions to `bigint` and back, stored text back to validated domain
//! types, and the enumerations stored as text. A value that does not fit
//! fails the event (when writing) or reports a corrupt read model (when
//! reading).

use quire_domain::channel::ChannelKind;
use quire_domain::document::ShareRole;
use quire_domain::{Position, Timestamp};
use quire_projections::ProjectionError;
use quire_projections::query::QueryError;

use crate::error::corrupt;

/// A position, sequence number, size or version as a `bigint`.
pub(crate) fn to_db(value: u64, what: &str) -> Result<i64, ProjectionError> {
    i64::try_from(value).map_err(|_| ProjectionError::apply(format!("{what} {value} does not fit a bigint")))
}

/// A position as a `bigint`.
pub(crate) fn position_to_db(position: Position) -> Result<i64, ProjectionError> {
    to_db(position.0, "position")
}

/// A projector's version as the `integer` of the `checkpoints` and
/// `dead_letters` keys. A version beyond `i32::MAX` is refused rather than
/// folded onto another one's rows.
pub(crate) fn version_to_db(version: u32) -> Result<i32, ProjectionError> {
    i32::try_from(version)
        .map_err(|_| ProjectionError::apply(format!("projector version {version} does not fit an integer")))
}

/// A stored position, as the projector reads it back.
pub(crate) fn position_from_db(value: i64) -> Result<Position, ProjectionError> {
    u64::try_from(value)
        .map(Position)
        .map_err(|_| ProjectionError::Corrupt(format!("stored position {value} is negative")))
}

/// A stored unsigned number while writing (the batch fails if corrupt).
pub(crate) fn u64_loaded(value: i64, what: &str) -> Result<u64, ProjectionError> {
    u64::try_from(value).map_err(|_| ProjectionError::Corrupt(format!("stored {what} {value} is negative")))
}

/// A stored `u32` while writing (the batch fails if corrupt).
pub(crate) fn u32_loaded(value: i64, what: &str) -> Result<u32, ProjectionError> {
    u32::try_from(value)
        .map_err(|_| ProjectionError::Corrupt(format!("stored {what} {value} is out of range")))
}

/// A stored unsigned number, for a query.
pub(crate) fn u64_read(value: i64, what: &str) -> Result<u64, QueryError> {
    u64::try_from(value).map_err(|_| corrupt(what))
}

/// A stored `u32`, for a query.
pub(crate) fn u32_read(value: i64, what: &str) -> Result<u32, QueryError> {
    u32::try_from(value).map_err(|_| corrupt(what))
}

/// A count that may exceed a `u32` (or, corrupt, be negative), saturated.
pub(crate) fn count_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// Parses stored text into a domain value while writing.
pub(crate) fn parse_loaded<T, E>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    what: &str,
) -> Result<T, ProjectionError> {
    parse(text).map_err(|_| ProjectionError::Corrupt(format!("stored {what} {text:?} is invalid")))
}

/// Parses stored text into a domain value for a query.
pub(crate) fn parse_read<T, E>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    what: &str,
) -> Result<T, QueryError> {
    parse(text).map_err(|_| corrupt(what))
}

pub(crate) fn timestamp(micros: i64) -> Timestamp {
    Timestamp(micros)
}

pub(crate) fn role_to_db(role: ShareRole) -> &'static str {
    match role {
        ShareRole::View => "view",
        ShareRole::Edit => "edit",
    }
}

pub(crate) fn role_from_db(text: &str) -> Result<ShareRole, QueryError> {
    match text {
        "view" => Ok(ShareRole::View),
        "edit" => Ok(ShareRole::Edit),
        _ => Err(corrupt("share role")),
    }
}

pub(crate) fn kind_to_db(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Direct => "direct",
        ChannelKind::Group => "group",
    }
}

pub(crate) fn kind_from_db(text: &str) -> Result<ChannelKind, ProjectionError> {
    match text {
        "direct" => Ok(ChannelKind::Direct),
        "group" => Ok(ChannelKind::Group),
        _ => Err(ProjectionError::Corrupt(format!(
            "stored channel kind {text:?} is invalid"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_refuse_overflow() {
        assert_eq!(to_db(42, "seq").unwrap(), 42);
        assert!(to_db(u64::MAX, "seq").is_err());
        assert_eq!(position_from_db(7).unwrap(), Position(7));
        assert_eq!(version_to_db(3).unwrap(), 3);
        assert!(version_to_db(u32::MAX).is_err());
        assert!(position_from_db(-1).is_err());
        assert_eq!(count_u32(-3), 0);
        assert_eq!(count_u32(i64::MAX), u32::MAX);
    }

    #[test]
    fn enumerations_round_trip() {
        assert_eq!(role_from_db(role_to_db(ShareRole::Edit)), Ok(ShareRole::Edit));
        assert_eq!(
            kind_from_db(kind_to_db(ChannelKind::Group)).unwrap(),
            ChannelKind::Group
        );
    }
}
