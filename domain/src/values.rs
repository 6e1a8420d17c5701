//! Value types shared by the aggregates: validated identifiers, names,
//! content types and checksums, and [`Issued`], the wrapper that gives every
//! command its actor and time.
//!
//! Each type validates on construction (`parse`) and on deserialisation, so a
//! value of the type is always valid. Gateways parse request fields with
//! `parse` and map [`InvalidValue`] to "invalid argument".

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::envelope::{Actor, Timestamp};
use crate::error_kind::ErrorKind;

/// Why a text is not a valid value of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} is {len} bytes, more than the maximum of {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{what} contains the forbidden character {found:?}")]
    ForbiddenCharacter { what: &'static str, found: char },
    #[error("{what} is malformed: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
}

impl InvalidValue {
    /// Always [`ErrorKind::InvalidArgument`].
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// Rejects empty and over-long text.
fn check_length(what: &'static str, text: &str, max: usize) -> Result<(), InvalidValue> {
    if text.trim().is_empty() {
        return Err(InvalidValue::Empty { what });
    }
    if text.len() > max {
        return Err(InvalidValue::TooLong {
            what,
            len: text.len(),
            max,
        });
    }
    Ok(())
}

/// Rejects the first character for which `forbidden` holds.
fn check_chars(what: &'static str, text: &str, forbidden: impl Fn(char) -> bool) -> Result<(), InvalidValue> {
    match text.chars().find(|&c| forbidden(c)) {
        Some(found) => Err(InvalidValue::ForbiddenCharacter { what, found }),
        None => Ok(()),
    }
}

/// `Display`, `Debug` and the serde conversions of the text value types.
macro_rules! text_value_impls {
    ($($name:ident),+) => {$(
        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    )+};
}

/// Defines a validated string identifier with `parse`, serde, `Display`.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest accepted id in bytes; keeps `<category>-<id>` stream
            /// ids well under their own limit.
            pub const MAX_LEN: usize = 128;

            /// Validates an id: not empty, at most [`Self::MAX_LEN`] bytes, no
            /// whitespace or control characters.
            pub fn parse(text: &str) -> Result<$name, InvalidValue> {
                check_length($what, text, Self::MAX_LEN)?;
                check_chars($what, text, |c| c.is_control() || c.is_whitespace())?;
                Ok($name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        text_value_impls!($name);
    };
}

id_type!(
    /// A signed-in user, as the identity provider names them.
    UserId,
    "user id"
);
id_type!(
    /// A document; also the id of its `document-<id>` stream.
    DocumentId,
    "document id"
);
id_type!(
    /// A project (folder); also the id of its `project-<id>` stream.
    ProjectId,
    "project id"
);
id_type!(
    /// A channel; also the id of its `channel-<id>` stream.
    ChannelId,
    "channel id"
);
id_type!(
    /// A message, unique within its channel; chosen by the command's issuer.
    MessageId,
    "message id"
);

/// A human-given name of a document, project or channel.
///
/// Names show up in paths, zip entries and download headers, so they may not
/// hold control characters or path separators, nor be `.` or `..`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// Longest accepted name in bytes (the common file-system limit).
    pub const MAX_LEN: usize = 255;

    pub fn parse(text: &str) -> Result<Name, InvalidValue> {
        check_length("name", text, Self::MAX_LEN)?;
        check_chars("name", text, |c| c.is_control() || c == '/' || c == '\\')?;
        if text == "." || text == ".." {
            return Err(InvalidValue::Malformed {
                what: "name",
                reason: "`.` and `..` are reserved",
            });
        }
        Ok(Name(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A media type as declared by the uploader, e.g. `text/plain; charset=utf-8`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContentType(String);

impl ContentType {
    /// Longest accepted content type in bytes.
    pub const MAX_LEN: usize = 255;

    /// Accepts printable ASCII of the form `type/subtype[; parameters]`.
    pub fn parse(text: &str) -> Result<ContentType, InvalidValue> {
        const WHAT: &str = "content type";
        check_length(WHAT, text, Self::MAX_LEN)?;
        check_chars(WHAT, text, |c| !c.is_ascii() || c.is_ascii_control())?;
        let essence = text.split(';').next().unwrap_or_default().trim();
        match essence.split_once('/') {
            Some((kind, sub)) if is_token(kind) && is_token(sub) => Ok(ContentType(text.to_owned())),
            _ => Err(InvalidValue::Malformed {
                what: WHAT,
                reason: "expected `type/subtype`",
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-empty run of characters allowed in a media type's type or subtype.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
}

/// A SHA-256 digest in lowercase hex.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256(String);

impl Sha256 {
    /// Accepts 64 hex digits in either case and keeps them in lowercase, so
    /// that equal digests compare equal.
    pub fn parse(text: &str) -> Result<Sha256, InvalidValue> {
        const WHAT: &str = "sha256";
        if text.len() != 64 {
            return Err(InvalidValue::Malformed {
                what: WHAT,
                reason: "expected 64 hex digits",
            });
        }
        check_chars(WHAT, text, |c| !c.is_ascii_hexdigit())?;
        Ok(Sha256(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_value_impls!(Name, ContentType, Sha256);

/// A command as issued: who asks, when, and what.
///
/// Every aggregate's `Command` is `Issued<TheirCommandEnum>`, so the actor and
/// the time are checked and stamped the same way everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued<C> {
    /// Who asks; the rules about who may do what read it.
    pub actor: Actor,
    /// When the gateway accepted the command; events carry it as their time,
    /// since the domain reads no clock.
    pub at: Timestamp,
    /// What is asked.
    pub command: C,
}

impl<C> Issued<C> {
    pub fn new(actor: Actor, at: Timestamp, command: C) -> Issued<C> {
        Issued { actor, at, command }
    }

    /// The acting user, or `None` for a service or a malformed user id.
    pub fn user(&self) -> Option<UserId> {
        match &self.actor {
            Actor::User(id) => UserId::parse(id).ok(),
            Actor::Service(_) => None,
        }
    }

    /// Whether an internal service (not a user) issued the command.
    pub fn is_service(&self) -> bool {
        matches!(self.actor, Actor::Service(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_empty_whitespace_control_and_long_text() {
        assert!(UserId::parse("ann").is_ok());
        assert!(DocumentId::parse("0193-abc").is_ok());
        assert_eq!(UserId::parse(""), Err(InvalidValue::Empty { what: "user id" }));
        assert!(matches!(
            ChannelId::parse("a b"),
            Err(InvalidValue::ForbiddenCharacter { found: ' ', .. })
        ));
        assert!(matches!(
            MessageId::parse("a\u{7}"),
            Err(InvalidValue::ForbiddenCharacter { .. })
        ));
        assert!(matches!(
            ProjectId::parse(&"x".repeat(129)),
            Err(InvalidValue::TooLong { max: 128, .. })
        ));
    }

    #[test]
    fn names_reject_separators_control_reserved_and_long_text() {
        assert!(Name::parse("Quarterly report (v2).pdf").is_ok());
        for bad in ["a/b", "a\\b", "a\nb", ".", "..", "   ", ""] {
            assert!(Name::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Name::parse(&"é".repeat(127)).is_ok());
        assert!(Name::parse(&"é".repeat(128)).is_err());
    }

    #[test]
    fn content_types_need_type_and_subtype() {
        assert!(ContentType::parse("text/plain; charset=utf-8").is_ok());
        assert!(ContentType::parse("application/vnd.ms-excel").is_ok());
        for bad in ["text", "/plain", "text/", "te xt/plain", "text/plaín"] {
            assert!(ContentType::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn sha256_is_64_hex_digits_kept_in_lowercase() {
        let upper = "AB".repeat(32);
        assert_eq!(Sha256::parse(&upper).unwrap().as_str(), "ab".repeat(32));
        assert!(Sha256::parse("ab").is_err());
        assert!(Sha256::parse(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn values_validate_when_deserialised() {
        assert!(serde_json::from_str::<UserId>("\"ann\"").is_ok());
        assert!(serde_json::from_str::<UserId>("\"\"").is_err());
        assert!(serde_json::from_str::<Name>("\"a/b\"").is_err());
    }

    #[test]
    fn issued_tells_users_from_services() {
        let by_user = Issued::new(Actor::user("ann"), Timestamp(1), ());
        let by_service = Issued::new(Actor::service("pm"), Timestamp(1), ());
        assert_eq!(by_user.user(), Some(UserId::parse("ann").unwrap()));
        assert!(!by_user.is_service());
        assert_eq!(by_service.user(), None);
        assert!(by_service.is_service());
    }
}
