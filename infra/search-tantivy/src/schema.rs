//! The tantivy schema of the search index and the handles of its fields.
//!
//! Every record (an entry, a tombstone, a channel membership) is one
//! tantivy document: its whole value as JSON in the stored-only `record`
//! field, plus the indexed fields queries need. Only `record` is stored,
//! so reading a record back is one JSON decode.

use tantivy::schema::{Field, STORED, STRING, Schema, TEXT};

/// Handles of the schema's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Unique key of the record (`EntryKey::storage_key`, `tombstone …`'s
    /// key, or `member <channel> <user>`): updates delete by this term.
    pub key: Field,
    /// `document`, `message`, `tombstone` or `member`.
    pub kind: Field,
    /// `live` for searchable entries; `hidden` otherwise.
    pub status: Field,
    /// `user:<id>` / `channel:<id>` principals allowed to read an entry.
    pub readers: Field,
    /// The owner or author (a user id); queryable as `author:<id>`.
    pub author: Field,
    /// Full text: a document's name.
    pub title: Field,
    /// Full text: a document's extracted text or a message's body.
    pub body: Field,
    /// On an active membership record: the participant's user id.
    pub member: Field,
    /// The record as JSON (stored only).
    pub record: Field,
}

impl Fields {
    /// Builds the schema and returns its field handles.
    pub fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let fields = Fields {
            key: builder.add_text_field("key", STRING),
            kind: builder.add_text_field("kind", STRING),
            status: builder.add_text_field("status", STRING),
            readers: builder.add_text_field("readers", STRING),
            author: builder.add_text_field("author", STRING),
            title: builder.add_text_field("title", TEXT),
            body: builder.add_text_field("body", TEXT),
            member: builder.add_text_field("member", STRING),
            record: builder.add_text_field("record", STORED),
        };
        (builder.build(), fields)
    }
}

/// Values of the `status` field.
pub(crate) const LIVE: &str = "live";
pub(crate) const HIDDEN: &str = "hidden";
