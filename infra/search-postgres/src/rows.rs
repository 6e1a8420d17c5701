//! Conversions between the port's values and the `entries` table: the
//! column arrays a commit sends through `UNNEST` ([`EntryColumns`],
//! [`MemberColumns`]), and a stored row read back ([`EntryRow`]).
//!
//! Text columns cannot hold NUL, which a message body may: a title or body
//! holding NUL is stored without it (what is searched) and exactly, as
//! UTF-8, in its `_exact` column (what `get` returns).

use std::collections::BTreeSet;

use quire_domain::{ChannelId, DocumentId, MessageId, Position, ProjectId, Timestamp, UserId};
use quire_projections::search::{Container, EntryKey, Principal, SearchEntry, SearchIndexError, SearchKind};

use crate::error::corrupt;
use crate::overlay::{Membership, Pending};

/// A position as a `bigint`.
pub(crate) fn position_to_db(position: Position) -> Result<i64, SearchIndexError> {
    i64::try_from(position.0)
        .map_err(|_| SearchIndexError::Corrupt(format!("position {position} does not fit a bigint")))
}

/// A stored position.
pub(crate) fn position_from_db(value: i64) -> Result<Position, SearchIndexError> {
    u64::try_from(value)
        .map(Position)
        .map_err(|_| corrupt("position", value))
}

/// Text a `text` column can hold, and the exact bytes when it differs.
fn storable(text: &str) -> (String, Option<Vec<u8>>) {
    if text.contains('\0') {
        (text.replace('\0', ""), Some(text.as_bytes().to_vec()))
    } else {
        (text.to_owned(), None)
    }
}

/// The readers as one space-separated text (principals hold no
/// whitespace), split back into an array by the statement.
fn readers_text(readers: &BTreeSet<Principal>) -> String {
    let mut text = String::new();
    for reader in readers {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&reader.to_string());
    }
    text
}

/// The columns of pending entries and tombstones, one array per column.
#[derive(Debug, Default)]
pub(crate) struct EntryColumns {
    pub key: Vec<String>,
    pub kind: Vec<String>,
    pub channel: Vec<Option<String>>,
    pub id: Vec<String>,
    pub position: Vec<i64>,
    pub tombstone: Vec<bool>,
    pub hidden: Vec<bool>,
    pub container_kind: Vec<Option<String>>,
    pub container: Vec<Option<String>>,
    pub title: Vec<String>,
    pub body: Vec<String>,
    pub title_exact: Vec<Option<Vec<u8>>>,
    pub body_exact: Vec<Option<Vec<u8>>>,
    pub text_version: Vec<i64>,
    pub author: Vec<String>,
    /// Space-separated principals.
    pub readers: Vec<String>,
    pub created_at: Vec<i64>,
    pub updated_at: Vec<i64>,
}

impl EntryColumns {
    pub(crate) fn len(&self) -> usize {
        self.key.len()
    }

    /// Appends one pending write.
    pub(crate) fn push(&mut self, key: &str, pending: &Pending) -> Result<(), SearchIndexError> {
        let (entry_key, position) = match pending {
            Pending::Entry(entry) => (&entry.key, entry.position),
            Pending::Tombstone { key, position } => (key, *position),
        };
        self.key.push(key.to_owned());
        self.kind.push(entry_key.kind().as_str().to_owned());
        self.channel.push(match entry_key {
            EntryKey::Document(_) => None,
            EntryKey::Message { channel, .. } => Some(channel.as_str().to_owned()),
        });
        self.id.push(entry_key.id().to_owned());
        self.position.push(position_to_db(position)?);
        self.tombstone.push(matches!(pending, Pending::Tombstone { .. }));
        match pending {
            Pending::Entry(entry) => self.push_entry(entry),
            Pending::Tombstone { .. } => self.push_tombstone(),
        }
        Ok(())
    }

    fn push_entry(&mut self, entry: &SearchEntry) {
        let (title, title_exact) = storable(&entry.title);
        let (body, body_exact) = storable(&entry.body);
        self.hidden.push(entry.hidden);
        let (container_kind, container) = match &entry.container {
            None => (None, None),
            Some(Container::Project(id)) => (Some("project"), Some(id.as_str())),
            Some(Container::Channel(id)) => (Some("channel"), Some(id.as_str())),
        };
        self.container_kind.push(container_kind.map(str::to_owned));
        self.container.push(container.map(str::to_owned));
        self.title.push(title);
        self.body.push(body);
        self.title_exact.push(title_exact);
        self.body_exact.push(body_exact);
        self.text_version.push(i64::from(entry.text_version));
        self.author.push(entry.author.as_str().to_owned());
        self.readers.push(readers_text(&entry.readers));
        self.created_at.push(entry.created_at.0);
        self.updated_at.push(entry.updated_at.0);
    }

    /// A tombstone keeps only its key and guard; it is hidden, so never
    /// searched.
    fn push_tombstone(&mut self) {
        self.hidden.push(true);
        self.container_kind.push(None);
        self.container.push(None);
        self.title.push(String::new());
        self.body.push(String::new());
        self.title_exact.push(None);
        self.body_exact.push(None);
        self.text_version.push(0);
        self.author.push(String::new());
        self.readers.push(String::new());
        self.created_at.push(0);
        self.updated_at.push(0);
    }
}

/// The columns of pending membership records.
#[derive(Debug, Default)]
pub(crate) struct MemberColumns {
    pub channel: Vec<String>,
    pub user: Vec<String>,
    pub member: Vec<bool>,
    pub position: Vec<i64>,
}

impl MemberColumns {
    pub(crate) fn push(
        &mut self,
        channel: &ChannelId,
        user: &UserId,
        membership: Membership,
    ) -> Result<(), SearchIndexError> {
        self.channel.push(channel.as_str().to_owned());
        self.user.push(user.as_str().to_owned());
        self.member.push(membership.member);
        self.position.push(position_to_db(membership.position)?);
        Ok(())
    }
}

/// A stored row of `entries`, as `get` reads it.
#[derive(Debug)]
pub(crate) struct EntryRow {
    pub kind: String,
    pub channel: Option<String>,
    pub id: String,
    pub position: i64,
    pub tombstone: bool,
    pub hidden: bool,
    pub container_kind: Option<String>,
    pub container: Option<String>,
    pub title: String,
    pub body: String,
    pub title_exact: Option<Vec<u8>>,
    pub body_exact: Option<Vec<u8>>,
    pub text_version: i64,
    pub author: String,
    pub readers: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl EntryRow {
    /// The entry; `None` for a tombstone.
    pub(crate) fn into_entry(self) -> Result<Option<SearchEntry>, SearchIndexError> {
        if self.tombstone {
            return Ok(None);
        }
        let readers = self
            .readers
            .iter()
            .map(|r| Principal::parse(r).map_err(|e| corrupt("reader", e)))
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Some(SearchEntry {
            key: self.key()?,
            container: self.container()?,
            title: exact(self.title, self.title_exact)?,
            body: exact(self.body, self.body_exact)?,
            text_version: u32::try_from(self.text_version).map_err(|e| corrupt("text version", e))?,
            author: parse(&self.author, UserId::parse, "author")?,
            readers,
            hidden: self.hidden,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            position: position_from_db(self.position)?,
        }))
    }

    fn key(&self) -> Result<EntryKey, SearchIndexError> {
        match (SearchKind::parse(&self.kind), &self.channel) {
            (Some(SearchKind::Document), None) => Ok(EntryKey::Document(parse(
                &self.id,
                DocumentId::parse,
                "document id",
            )?)),
            (Some(SearchKind::Message), Some(channel)) => Ok(EntryKey::Message {
                channel: parse(channel, ChannelId::parse, "channel id")?,
                message: parse(&self.id, MessageId::parse, "message id")?,
            }),
            _ => Err(corrupt("entry kind", &self.kind)),
        }
    }

    fn container(&self) -> Result<Option<Container>, SearchIndexError> {
        match (self.container_kind.as_deref(), &self.container) {
            (None, None) => Ok(None),
            (Some("project"), Some(id)) => Ok(Some(Container::Project(parse(
                id,
                ProjectId::parse,
                "project id",
            )?))),
            (Some("channel"), Some(id)) => Ok(Some(Container::Channel(parse(
                id,
                ChannelId::parse,
                "channel id",
            )?))),
            (kind, _) => Err(corrupt("container kind", format_args!("{kind:?}"))),
        }
    }
}

/// The exact text: the `_exact` bytes when stored, else the column.
fn exact(text: String, exact: Option<Vec<u8>>) -> Result<String, SearchIndexError> {
    match exact {
        None => Ok(text),
        Some(bytes) => String::from_utf8(bytes).map_err(|e| corrupt("text", e)),
    }
}

fn parse<T, E: std::fmt::Display>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    what: &str,
) -> Result<T, SearchIndexError> {
    parse(text).map_err(|e| corrupt(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_kept_aside() {
        assert_eq!(storable("plain"), ("plain".to_owned(), None));
        let (text, bytes) = storable("a\0b");
        assert_eq!(text, "ab");
        assert_eq!(exact(text, bytes).unwrap(), "a\0b");
    }

    #[test]
    fn readers_are_space_separated() {
        let readers = BTreeSet::from([
            Principal::User(UserId::parse("ann").unwrap()),
            Principal::Channel(ChannelId::parse("c1").unwrap()),
        ]);
        assert_eq!(readers_text(&readers), "user:ann channel:c1");
        assert_eq!(readers_text(&BTreeSet::new()), "");
    }
}
