//! An interning table of user ids, so rows that name users (message
//! authors, participants, sharees) store a 4-byte key instead of a copy of
//! the id.

use std::collections::HashMap;

use quire_domain::UserId;

/// A user's key in one [`Users`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct UserKey(u32);

/// Every user a read model has seen, once. Keys are never reused or
/// removed: a user's key stays valid until the table is cleared.
#[derive(Debug, Default)]
pub(crate) struct Users {
    /// Ids by key.
    ids: Vec<UserId>,
    /// Key of each id.
    keys: HashMap<UserId, UserKey>,
}

impl Users {
    /// The key of `user`, adding them if new.
    pub(crate) fn intern(&mut self, user: &UserId) -> UserKey {
        if let Some(&key) = self.keys.get(user) {
            return key;
        }
        // More than 4 billion distinct users would wrap; the key then
        // aliases the last one rather than panicking.
        let key = UserKey(u32::try_from(self.ids.len()).unwrap_or(u32::MAX));
        self.ids.push(user.clone());
        self.keys.insert(user.clone(), key);
        key
    }

    /// The key of `user`, if the table has seen them.
    pub(crate) fn find(&self, user: &UserId) -> Option<UserKey> {
        self.keys.get(user).copied()
    }

    /// The id of a key this table issued.
    pub(crate) fn id(&self, key: UserKey) -> Option<&UserId> {
        self.ids.get(usize::try_from(key.0).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable() {
        let mut users = Users::default();
        let ann = UserId::parse("ann").unwrap();
        let bob = UserId::parse("bob").unwrap();
        let a = users.intern(&ann);
        let b = users.intern(&bob);
        assert_ne!(a, b);
        assert_eq!(users.intern(&ann), a);
        assert_eq!(users.find(&bob), Some(b));
        assert_eq!(users.id(a), Some(&ann));
        assert_eq!(users.find(&UserId::parse("cy").unwrap()), None);
    }
}
