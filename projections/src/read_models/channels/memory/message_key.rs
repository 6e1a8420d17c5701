//! [`MessageKey`]: a message id as the channels read model stores it. Ids
//! in the canonical UUID text form (what handlers issue) take 16 inline
//! bytes instead of a 36-byte heap string; any other id is kept as text.

use std::fmt;

use quire_domain::MessageId;
use uuid::Uuid;

/// A message id, compact when it is a canonical (lowercase, hyphenated)
/// UUID. Both forms give back exactly the text they were made from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) enum MessageKey {
    Uuid([u8; 16]),
    Text(Box<str>),
}

impl MessageKey {
    pub(super) fn new(id: &str) -> MessageKey {
        if id.len() == uuid::fmt::Hyphenated::LENGTH
            && let Ok(uuid) = Uuid::try_parse(id)
        {
            let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
            if uuid.hyphenated().encode_lower(&mut text) == id {
                return MessageKey::Uuid(*uuid.as_bytes());
            }
        }
        MessageKey::Text(id.into())
    }

    pub(super) fn of(id: &MessageId) -> MessageKey {
        MessageKey::new(id.as_str())
    }

    /// The id back as a [`MessageId`]. Keys are only made from valid ids,
    /// so this fails only if the store were corrupt.
    pub(super) fn to_id(&self) -> Option<MessageId> {
        match self {
            MessageKey::Uuid(bytes) => {
                let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
                MessageId::parse(Uuid::from_bytes(*bytes).hyphenated().encode_lower(&mut text)).ok()
            }
            MessageKey::Text(text) => MessageId::parse(text).ok(),
        }
    }
}

impl fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_id() {
            Some(id) => write!(f, "MessageKey({id})"),
            None => f.write_str("MessageKey(?)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uuids_are_compact_and_everything_round_trips() {
        let canonical = "0193a4c2-7f00-7abc-8def-0123456789ab";
        for id in [
            canonical,
            "0193A4C2-7F00-7ABC-8DEF-0123456789AB",
            "0193a4c27f007abc8def0123456789ab",
            "m-1",
        ] {
            let key = MessageKey::new(id);
            assert_eq!(key.to_id().unwrap().as_str(), id);
            assert_eq!(matches!(key, MessageKey::Uuid(_)), id == canonical, "{id}");
        }
        assert_eq!(std::mem::size_of::<MessageKey>(), 24);
    }
}
