//! The key layout (ADR 0010). Every name starts with the prefix; ids are
//! validated (no whitespace or control characters) but may hold `:`, so an
//! id is always last, and where two ids meet the first is length-prefixed.

use quire_domain::{ChannelId, UserId};

/// Key and pub/sub channel names under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Names under `prefix`.
    pub fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Pub/sub channel of a chat channel's notices: `<p>:fanout:<channel>`.
    pub fn fanout(&self, channel: &ChannelId) -> String {
        format!("{}:fanout:{channel}", self.prefix)
    }

    /// Sorted set of gateway → expiry (ms) of a user: `<p>:presence:<user>`.
    pub fn presence(&self, user: &UserId) -> String {
        format!("{}:presence:{user}", self.prefix)
    }

    /// Hash of channel → unread count of a user: `<p>:unread:counts:<user>`.
    pub fn unread_counts(&self, user: &UserId) -> String {
        format!("{}:unread:counts:{user}", self.prefix)
    }

    /// Hash of channel → guard position of a user: `<p>:unread:guards:<user>`.
    pub fn unread_guards(&self, user: &UserId) -> String {
        format!("{}:unread:guards:{user}", self.prefix)
    }

    /// Sorted set of unread positions of (user, channel):
    /// `<p>:unread:positions:<len(user)>:<user>:<channel>`.
    pub fn unread_positions(&self, user: &UserId, channel: &ChannelId) -> String {
        format!(
            "{}:unread:positions:{}:{user}:{channel}",
            self.prefix,
            user.as_str().len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_hold_colons_do_not_collide() {
        let keys = Keys::new("q");
        let id = |text: &str| UserId::parse(text).expect("id");
        let channel = |text: &str| ChannelId::parse(text).expect("id");
        assert_ne!(
            keys.unread_positions(&id("a:b"), &channel("c")),
            keys.unread_positions(&id("a"), &channel("b:c"))
        );
        assert_eq!(keys.fanout(&channel("c1")), "q:fanout:c1");
    }
}
