//! What one tantivy document holds ([`Record`]) and how it is turned into
//! a tantivy document and read back.

use quire_domain::{ChannelId, Position, UserId};
use quire_projections::search::{EntryKey, SearchEntry, SearchIndexError, SearchWrite};
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::Value;

use crate::schema::{Fields, HIDDEN, LIVE};

/// One stored record, with the position that guards its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Record {
    /// A document or message.
    Entry { entry: SearchEntry },
    /// What is left of a deleted entry: its guard.
    Tombstone { key: EntryKey, position: Position },
    /// Whether `user` is a participant of `channel`.
    Member {
        channel: ChannelId,
        user: UserId,
        member: bool,
        position: Position,
    },
}

impl From<SearchWrite> for Record {
    fn from(write: SearchWrite) -> Record {
        match write {
            SearchWrite::Upsert(entry) => Record::Entry { entry },
            SearchWrite::Delete { key, position } => Record::Tombstone { key, position },
            SearchWrite::Member {
                channel,
                user,
                member,
                position,
            } => Record::Member {
                channel,
                user,
                member,
                position,
            },
        }
    }
}

impl Record {
    /// The unique key of the record's tantivy document.
    pub fn storage_key(&self) -> String {
        match self {
            Record::Entry { entry } => entry.key.storage_key(),
            Record::Tombstone { key, .. } => key.storage_key(),
            Record::Member { channel, user, .. } => member_key(channel, user),
        }
    }

    pub fn position(&self) -> Position {
        match self {
            Record::Entry { entry } => entry.position,
            Record::Tombstone { position, .. } | Record::Member { position, .. } => *position,
        }
    }

    /// The entry, if the record is a live or hidden entry.
    pub fn into_entry(self) -> Option<SearchEntry> {
        match self {
            Record::Entry { entry } => Some(entry),
            Record::Tombstone { .. } | Record::Member { .. } => None,
        }
    }

    /// The tantivy document holding this record.
    pub fn to_document(&self, fields: &Fields) -> Result<TantivyDocument, SearchIndexError> {
        let json = serde_json::to_string(self)
            .map_err(|e| SearchIndexError::Corrupt(format!("encode search record: {e}")))?;
        let mut doc = TantivyDocument::default();
        doc.add_text(fields.key, self.storage_key());
        doc.add_text(fields.record, json);
        match self {
            Record::Entry { entry } => {
                doc.add_text(fields.kind, entry.kind().as_str());
                doc.add_text(fields.status, if entry.hidden { HIDDEN } else { LIVE });
                doc.add_text(fields.author, entry.author.as_str());
                doc.add_text(fields.title, &entry.title);
                doc.add_text(fields.body, &entry.body);
                for reader in &entry.readers {
                    doc.add_text(fields.readers, reader.to_string());
                }
            }
            Record::Tombstone { .. } => {
                doc.add_text(fields.kind, "tombstone");
                doc.add_text(fields.status, HIDDEN);
            }
            Record::Member { user, member, .. } => {
                doc.add_text(fields.kind, "member");
                doc.add_text(fields.status, HIDDEN);
                if *member {
                    doc.add_text(fields.member, user.as_str());
                }
            }
        }
        Ok(doc)
    }

    /// Reads the record back from a stored tantivy document.
    pub fn from_document(doc: &TantivyDocument, fields: &Fields) -> Result<Record, SearchIndexError> {
        let json = doc
            .get_first(fields.record)
            .and_then(|value| value.as_str())
            .ok_or_else(|| SearchIndexError::Corrupt("search document without a record".to_owned()))?;
        serde_json::from_str(json).map_err(|e| SearchIndexError::Corrupt(format!("search record: {e}")))
    }
}

/// The storage key of a membership record.
pub(crate) fn member_key(channel: &ChannelId, user: &UserId) -> String {
    format!("member {channel} {user}")
}
