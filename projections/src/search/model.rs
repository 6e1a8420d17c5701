//! The values the search port speaks: what is indexed ([`SearchEntry`] under
//! an [`EntryKey`]), who may read it ([`Principal`]), and what a query
//! returns ([`SearchHit`]).

use std::collections::BTreeSet;
use std::fmt;

use quire_domain::{ChannelId, DocumentId, MessageId, Position, ProjectId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// What kind of thing a search result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    Document,
    Message,
}

impl SearchKind {
    /// Every kind, in a stable order.
    pub const ALL: [SearchKind; 2] = [SearchKind::Document, SearchKind::Message];

    /// Its stable text form: `document` or `message`.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Document => "document",
            SearchKind::Message => "message",
        }
    }

    /// Parses the text form of [`as_str`](SearchKind::as_str).
    pub fn parse(text: &str) -> Option<SearchKind> {
        SearchKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for SearchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Someone an entry can be shown to: a user, or every current participant
/// of a channel (resolved when the query runs, so joining a channel reveals
/// its history and leaving it hides it).
///
/// Its text form is `user:<id>` or `channel:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Principal {
    User(UserId),
    Channel(ChannelId),
}

/// Text that is not of the form `user:<id>` or `channel:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("principal `{0}` is neither `user:<id>` nor `channel:<id>`")]
pub struct InvalidPrincipal(pub String);

impl Principal {
    /// Parses the text form written by `Display`.
    pub fn parse(text: &str) -> Result<Principal, InvalidPrincipal> {
        let bad = || InvalidPrincipal(text.to_owned());
        match text.split_once(':') {
            Some(("user", id)) => UserId::parse(id).map(Principal::User).map_err(|_| bad()),
            Some(("channel", id)) => ChannelId::parse(id).map(Principal::Channel).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(id) => write!(f, "user:{id}"),
            Principal::Channel(id) => write!(f, "channel:{id}"),
        }
    }
}

impl TryFrom<String> for Principal {
    type Error = InvalidPrincipal;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Principal::parse(&value)
    }
}

impl From<Principal> for String {
    fn from(value: Principal) -> Self {
        value.to_string()
    }
}

/// The identity of an indexed entry. A message id is unique only within
/// its channel, so a message's key holds both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKey {
    Document(DocumentId),
    Message { channel: ChannelId, message: MessageId },
}

impl EntryKey {
    pub fn kind(&self) -> SearchKind {
        match self {
            EntryKey::Document(_) => SearchKind::Document,
            EntryKey::Message { .. } => SearchKind::Message,
        }
    }

    /// The id shown in a hit: the document id or the message id.
    pub fn id(&self) -> &str {
        match self {
            EntryKey::Document(id) => id.as_str(),
            EntryKey::Message { message, .. } => message.as_str(),
        }
    }

    /// A unique, stable text form for a store's primary key:
    /// `document <id>` or `message <channel> <message>` (ids hold no
    /// whitespace, so the spaces cannot be ambiguous).
    pub fn storage_key(&self) -> String {
        match self {
            EntryKey::Document(id) => format!("document {id}"),
            EntryKey::Message { channel, message } => format!("message {channel} {message}"),
        }
    }
}

/// Where an entry lives: a document's project, a message's channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Container {
    Project(ProjectId),
    Channel(ChannelId),
}

impl Container {
    /// The project or channel id.
    pub fn id(&self) -> &str {
        match self {
            Container::Project(id) => id.as_str(),
            Container::Channel(id) => id.as_str(),
        }
    }
}

/// One indexed document or message, as the projector writes it and the
/// index stores it (every field is kept, so the projector can read an entry
/// back, change one field and write it again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchEntry {
    pub key: EntryKey,
    pub container: Option<Container>,
    /// A document's name; empty for a message.
    pub title: String,
    /// A document's extracted text (empty until extracted); a message's body.
    pub body: String,
    /// The document version `body` was extracted from (0: none yet, and
    /// always 0 for a message): text of an older version that arrives late
    /// never replaces a newer one's.
    #[serde(default)]
    pub text_version: u32,
    /// A document's owner; a message's author.
    pub author: UserId,
    /// Who may find it. Empty means nobody.
    pub readers: BTreeSet<Principal>,
    /// Soft-deleted: kept (with its guard) but never returned.
    pub hidden: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The guard: the log position of the last event folded into this
    /// entry. A write carrying a position not above the stored one is
    /// skipped, so replays are idempotent.
    pub position: Position,
}

impl SearchEntry {
    pub fn kind(&self) -> SearchKind {
        self.key.kind()
    }
}

/// Which entries a query considers. An empty `kinds` means every kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub kinds: BTreeSet<SearchKind>,
}

impl SearchFilter {
    /// Every kind.
    pub fn all() -> SearchFilter {
        SearchFilter::default()
    }

    /// Only these kinds.
    pub fn kinds(kinds: impl IntoIterator<Item = SearchKind>) -> SearchFilter {
        SearchFilter {
            kinds: kinds.into_iter().collect(),
        }
    }

    /// The kinds to search: `kinds`, or every kind when it is empty.
    pub fn effective_kinds(&self) -> Vec<SearchKind> {
        if self.kinds.is_empty() {
            SearchKind::ALL.to_vec()
        } else {
            self.kinds.iter().copied().collect()
        }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub kind: SearchKind,
    /// The document id or the message id.
    pub id: String,
    /// The project of a document (if any) or the channel of a message.
    pub container: Option<String>,
    /// A document's name; empty for a message.
    pub title: String,
    /// The best matching fragment of the body with matches wrapped in
    /// `<b>…</b>` (HTML-escaped), or the body's first characters when the
    /// match is elsewhere (in the title).
    pub snippet: String,
    /// Relevance; higher is better. Comparable only within one query.
    pub score: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_round_trip_through_text_and_json() {
        let ann = Principal::User(UserId::parse("ann").unwrap());
        let general = Principal::Channel(ChannelId::parse("general").unwrap());
        for principal in [ann, general] {
            assert_eq!(Principal::parse(&principal.to_string()), Ok(principal.clone()));
            let json = serde_json::to_string(&principal).unwrap();
            assert_eq!(serde_json::from_str::<Principal>(&json).unwrap(), principal);
        }
        assert!(Principal::parse("robot:x").is_err());
        assert!(Principal::parse("user:").is_err());
    }

    #[test]
    fn storage_keys_are_unique_per_kind() {
        let doc = EntryKey::Document(DocumentId::parse("a").unwrap());
        let msg = EntryKey::Message {
            channel: ChannelId::parse("a").unwrap(),
            message: MessageId::parse("m1").unwrap(),
        };
        assert_eq!(doc.storage_key(), "document a");
        assert_eq!(msg.storage_key(), "message a m1");
        assert_eq!(
            (doc.kind(), msg.kind()),
            (SearchKind::Document, SearchKind::Message)
        );
        assert_eq!(msg.id(), "m1");
    }

    #[test]
    fn an_empty_filter_means_every_kind() {
        assert_eq!(SearchFilter::all().effective_kinds(), SearchKind::ALL.to_vec());
        assert_eq!(
            SearchFilter::kinds([SearchKind::Message]).effective_kinds(),
            vec![SearchKind::Message]
        );
    }
}
