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

    /// The unread counters' current generation: `<p>:unread:generation`.
    pub fn unread_generation(&self) -> String {
        format!("{}:unread:generation", self.prefix)
    }

    /// The unread counters' checkpoint in `generation`:
    /// `<p>:unread:<g>:checkpoint`. The other unread keys are named by the
    /// scripts (`unread.rs`).
    pub fn unread_checkpoint(&self, generation: u64) -> String {
        format!("{}:unread:{generation}:checkpoint", self.prefix)
    }

    /// A `SCAN` pattern for every unread key of `generation`.
    pub fn unread_generation_pattern(&self, generation: u64) -> String {
        format!("{}:unread:{generation}:*", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_end_with_the_id() {
        let keys = Keys::new("q");
        let id = |text: &str| UserId::parse(text).expect("id");
        let channel = |text: &str| ChannelId::parse(text).expect("id");
        assert_eq!(keys.presence(&id("a:b")), "q:presence:a:b");
        assert_eq!(keys.unread_checkpoint(3), "q:unread:3:checkpoint");
        assert_eq!(keys.fanout(&channel("c1")), "q:fanout:c1");
    }
}
