//! Identifiers of the event log: stream ids, global positions, stream versions.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Global position of a committed event in the log.
///
/// Positions start at 1 and strictly increase in commit order, with no gaps
/// in the embedded log. `Position::ZERO` means "before the first event" and is
/// what a fresh checkpoint holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    /// Before the first event: a checkpoint that has seen nothing.
    pub const ZERO: Position = Position(0);
    /// The position of the first event ever committed.
    pub const FIRST: Position = Position(1);

    /// The position right after this one.
    pub fn next(self) -> Position {
        Position(self.0 + 1)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Identifier of an event stream: `<category>-<id>`, e.g. `channel-0193…`.
///
/// The category (everything before the first `-`) names the aggregate type;
/// subscribers filter on it. Cheap to clone: the text is shared.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(Arc<str>);

/// Why a string is not a valid stream id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidStreamId {
    #[error("stream id is empty")]
    Empty,
    #[error("stream id `{0}` has no `<category>-<id>` form")]
    NoCategory(String),
    #[error("stream id is {len} bytes, more than the maximum of {max}")]
    TooLong { len: usize, max: usize },
    #[error("stream id `{0}` contains a control character or whitespace")]
    BadCharacter(String),
}

impl StreamId {
    /// Longest accepted stream id in bytes.
    pub const MAX_LEN: usize = 256;

    /// Validates and wraps a stream id.
    pub fn parse(text: &str) -> Result<StreamId, InvalidStreamId> {
        if text.is_empty() {
            return Err(InvalidStreamId::Empty);
        }
        if text.len() > Self::MAX_LEN {
            return Err(InvalidStreamId::TooLong {
                len: text.len(),
                max: Self::MAX_LEN,
            });
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(InvalidStreamId::BadCharacter(text.escape_debug().to_string()));
        }
        match text.split_once('-') {
            Some((category, id)) if !category.is_empty() && !id.is_empty() => Ok(StreamId(text.into())),
            _ => Err(InvalidStreamId::NoCategory(text.to_owned())),
        }
    }

    /// Builds the stream id of one aggregate instance.
    pub fn for_aggregate(category: &str, id: &str) -> Result<StreamId, InvalidStreamId> {
        StreamId::parse(&format!("{category}-{id}"))
    }

    /// The category: the part before the first `-`.
    pub fn category(&self) -> &str {
        self.0.split_once('-').map_or(&*self.0, |(category, _)| category)
    }

    /// The aggregate id: the part after the first `-`.
    pub fn aggregate_id(&self) -> &str {
        self.0.split_once('-').map_or("", |(_, id)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lets maps keyed by `StreamId` be queried with a `&str` (same hash and
/// equality as the text).
impl Borrow<str> for StreamId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StreamId {
    type Error = InvalidStreamId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        StreamId::parse(&value)
    }
}

impl From<StreamId> for String {
    fn from(value: StreamId) -> Self {
        value.0.to_string()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_category_and_id_at_first_dash() {
        let id = StreamId::parse("document-0193-abc").unwrap();
        assert_eq!(id.category(), "document");
        assert_eq!(id.aggregate_id(), "0193-abc");
    }

    #[test]
    fn rejects_malformed_ids() {
        assert_eq!(StreamId::parse(""), Err(InvalidStreamId::Empty));
        assert!(matches!(
            StreamId::parse("nodash"),
            Err(InvalidStreamId::NoCategory(_))
        ));
        assert!(matches!(
            StreamId::parse("-x"),
            Err(InvalidStreamId::NoCategory(_))
        ));
        assert!(matches!(
            StreamId::parse("doc-"),
            Err(InvalidStreamId::NoCategory(_))
        ));
        assert!(matches!(
            StreamId::parse("doc-a\nb"),
            Err(InvalidStreamId::BadCharacter(_))
        ));
        let long = format!("doc-{}", "x".repeat(300));
        assert!(matches!(
            StreamId::parse(&long),
            Err(InvalidStreamId::TooLong { .. })
        ));
    }
}
