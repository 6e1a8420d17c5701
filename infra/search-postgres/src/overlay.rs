//! The writer's uncommitted writes ([`Overlay`]), kept in memory until a
//! commit sends them in one transaction, and the position guards applied
//! against them and against what is stored.

use std::collections::HashMap;

use quire_domain::{ChannelId, Position, UserId};
use quire_projections::search::{EntryKey, SearchEntry, SearchWrite};

/// An uncommitted write to an entry key: the latest one per key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pending {
    Entry(SearchEntry),
    /// A deletion: the key's guard, and no entry.
    Tombstone {
        key: EntryKey,
        position: Position,
    },
}

impl Pending {
    pub(crate) fn position(&self) -> Position {
        match self {
            Pending::Entry(entry) => entry.position,
            Pending::Tombstone { position, .. } => *position,
        }
    }
}

/// An uncommitted membership record of one (channel, user) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Membership {
    pub member: bool,
    pub position: Position,
}

/// The stored guards of the keys a batch of writes touches (what is not in
/// the overlay), loaded before the batch is applied.
#[derive(Debug, Default)]
pub(crate) struct StoredGuards {
    /// By entry storage key.
    pub entries: HashMap<String, Position>,
    /// By (channel, user).
    pub members: HashMap<(String, String), Position>,
}

/// Every write since the last commit or rollback.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    /// By entry storage key.
    pub entries: HashMap<String, Pending>,
    pub members: HashMap<(ChannelId, UserId), Membership>,
}

impl Overlay {
    /// The entry keys and member pairs of `writes` that the overlay does
    /// not hold, whose stored guards must be loaded (each once).
    pub(crate) fn unknown_keys(&self, writes: &[SearchWrite]) -> (Vec<String>, Vec<(String, String)>) {
        let mut entries = Vec::new();
        let mut members = Vec::new();
        for write in writes {
            match write {
                SearchWrite::Upsert(SearchEntry { key, .. }) | SearchWrite::Delete { key, .. } => {
                    let key = key.storage_key();
                    if !self.entries.contains_key(&key) {
                        entries.push(key);
                    }
                }
                SearchWrite::Member { channel, user, .. } => {
                    if !self.members.contains_key(&(channel.clone(), user.clone())) {
                        members.push((channel.as_str().to_owned(), user.as_str().to_owned()));
                    }
                }
            }
        }
        entries.sort_unstable();
        entries.dedup();
        members.sort_unstable();
        members.dedup();
        (entries, members)
    }

    /// Applies one write unless the overlay or the stored guard holds a
    /// position at least as high. Returns whether it wrote.
    pub(crate) fn apply(&mut self, write: SearchWrite, stored: &StoredGuards) -> bool {
        match write {
            SearchWrite::Upsert(entry) => {
                let key = entry.key.storage_key();
                self.put(key, Pending::Entry(entry), stored)
            }
            SearchWrite::Delete { key, position } => {
                let storage_key = key.storage_key();
                self.put(storage_key, Pending::Tombstone { key, position }, stored)
            }
            SearchWrite::Member {
                channel,
                user,
                member,
                position,
            } => {
                let pair = (channel, user);
                let current = self.members.get(&pair).map(|m| m.position).or_else(|| {
                    let key = (pair.0.as_str().to_owned(), pair.1.as_str().to_owned());
                    stored.members.get(&key).copied()
                });
                let newer = current.is_none_or(|current| current < position);
                if newer {
                    self.members.insert(pair, Membership { member, position });
                }
                newer
            }
        }
    }

    fn put(&mut self, key: String, pending: Pending, stored: &StoredGuards) -> bool {
        let current = match self.entries.get(&key) {
            Some(existing) => Some(existing.position()),
            None => stored.entries.get(&key).copied(),
        };
        let newer = current.is_none_or(|current| current < pending.position());
        if newer {
            self.entries.insert(key, pending);
        }
        newer
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use quire_domain::{DocumentId, Timestamp};

    use super::*;

    fn doc(position: u64) -> SearchWrite {
        SearchWrite::Upsert(SearchEntry {
            key: EntryKey::Document(DocumentId::parse("d1").unwrap()),
            container: None,
            title: String::new(),
            body: String::new(),
            text_version: 0,
            author: UserId::parse("ann").unwrap(),
            readers: BTreeSet::new(),
            hidden: false,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            position: Position(position),
        })
    }

    #[test]
    fn guards_see_the_overlay_before_the_store() {
        let mut overlay = Overlay::default();
        let mut stored = StoredGuards::default();
        stored.entries.insert("document d1".to_owned(), Position(5));
        assert_eq!(overlay.unknown_keys(&[doc(1), doc(2)]).0, ["document d1"]);
        assert!(!overlay.apply(doc(5), &stored), "stored guard holds");
        assert!(overlay.apply(doc(6), &stored));
        assert!(overlay.unknown_keys(&[doc(1)]).0.is_empty());
        assert!(
            !overlay.apply(doc(6), &StoredGuards::default()),
            "overlay guard holds"
        );
        let key = EntryKey::Document(DocumentId::parse("d1").unwrap());
        let delete = SearchWrite::Delete {
            key,
            position: Position(7),
        };
        assert!(overlay.apply(delete, &stored));
        assert!(!overlay.apply(doc(7), &stored), "tombstone holds");
    }
}
