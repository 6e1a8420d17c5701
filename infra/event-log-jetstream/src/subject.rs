//! NATS subjects of the log: `<prefix>.<category>.<stream id>`.
//!
//! A stream id may hold any non-blank character, but a subject token may not
//! contain `.`, `*`, `>` or blanks. Both tokens are therefore escaped: ASCII
//! letters, digits, `-` and `_` stay as they are, every other byte becomes
//! `%XX` (upper-case hex). Ids like `document-0193ab…` are unchanged.

use quire_domain::StreamId;

/// The subjects of one log, built from its prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    /// `prefix` must be valid literal tokens (checked by the config).
    pub fn new(prefix: &str) -> Subjects {
        Subjects {
            prefix: prefix.to_owned(),
        }
    }

    /// The subject of one event stream.
    pub fn stream(&self, stream: &StreamId) -> String {
        format!(
            "{}.{}.{}",
            self.prefix,
            escape(stream.category()),
            escape(stream.as_str())
        )
    }

    /// Matches every stream of one category.
    pub fn category(&self, category: &str) -> String {
        format!("{}.{}.*", self.prefix, escape(category))
    }

    /// Matches the whole log; the JetStream stream's only subject.
    pub fn all(&self) -> String {
        format!("{}.>", self.prefix)
    }
}

/// Escapes `text` into one subject token.
pub fn escape(text: &str) -> String {
    let mut token = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            token.push(char::from(byte));
        } else {
            token.push_str(&format!("%{byte:02X}"));
        }
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_ids_stay_readable() {
        let subjects = Subjects::new("quire.events");
        let stream = StreamId::parse("document-0193abc").unwrap();
        assert_eq!(subjects.stream(&stream), "quire.events.document.document-0193abc");
        assert_eq!(subjects.category("document"), "quire.events.document.*");
        assert_eq!(subjects.all(), "quire.events.>");
    }

    #[test]
    fn special_characters_are_escaped() {
        let subjects = Subjects::new("q");
        let stream = StreamId::parse("a.b-x*y>z%é").unwrap();
        assert_eq!(subjects.stream(&stream), "q.a%2Eb.a%2Eb-x%2Ay%3Ez%25%C3%A9");
    }

    proptest! {
        #[test]
        fn escaped_tokens_are_valid_and_distinct(a in "\\PC{1,20}", b in "\\PC{1,20}") {
            let (ta, tb) = (escape(&a), escape(&b));
            prop_assert!(ta.bytes().all(|c| c.is_ascii_graphic() && !b".*>".contains(&c)));
            prop_assert_eq!(ta == tb, a == b);
        }
    }
}
