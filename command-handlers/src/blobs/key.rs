//! [`BlobKey`]: a validated, portable object key.

use std::fmt;

use quire_domain::DocumentId;

use super::BlobError;

/// The name of a blob: `/`-separated segments of ASCII letters, digits,
/// `-`, `_` and `.`, none empty and none starting with `.` (which rules out
/// `.` and `..`, and leaves dot-names free for adapters' temporary files).
/// No leading `/`, at most [`BlobKey::MAX_LEN`] bytes.
///
/// Such a key means the same on every backend: a relative path on a local
/// disk, an object key in S3.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Longest accepted key in bytes (S3 allows 1024).
    pub const MAX_LEN: usize = 512;

    /// Validates a key.
    pub fn parse(text: &str) -> Result<BlobKey, BlobError> {
        let invalid = |reason: &'static str| BlobError::InvalidKey {
            key: text.escape_debug().to_string(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("the key is empty"));
        }
        if text.len() > Self::MAX_LEN {
            return Err(invalid("the key is longer than 512 bytes"));
        }
        for segment in text.split('/') {
            if segment.is_empty() {
                return Err(invalid(
                    "the key has an empty segment (a leading, trailing or double `/`)",
                ));
            }
            if segment.starts_with('.') {
                return Err(invalid(
                    "a segment starts with `.` (`.`, `..` and hidden names are reserved)",
                ));
            }
            if !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(invalid(
                    "only ASCII letters, digits, `-`, `_`, `.` and `/` are allowed",
                ));
            }
        }
        Ok(BlobKey(text.to_owned()))
    }

    /// The key of one version of a document's content:
    /// `documents/<document_id>/v<version>`. Fails for a document id that
    /// is not a valid key segment (ids are UUIDs in practice).
    pub fn document_version(document_id: &DocumentId, version: u32) -> Result<BlobKey, BlobError> {
        if document_id.as_str().contains('/') {
            return Err(BlobError::InvalidKey {
                key: document_id.as_str().escape_debug().to_string(),
                reason: "a document id with `/` cannot be one key segment",
            });
        }
        BlobKey::parse(&format!("documents/{document_id}/v{version}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobKey({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_portable_keys() {
        for good in ["a", "documents/0193-abc/v1", "x/y.z/A_B-c", "v1.2"] {
            assert_eq!(BlobKey::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn rejects_traversal_absolute_and_odd_keys() {
        let long = "a".repeat(BlobKey::MAX_LEN + 1);
        let bad = [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            ".",
            "a/./b",
            "a//b",
            "a/",
            "./a",
            "a/.hidden",
            "a\\b",
            "a b",
            "a\0b",
            "é",
            "C:/x",
            "a?b",
            &long,
        ];
        for bad in bad {
            assert!(
                matches!(BlobKey::parse(bad), Err(BlobError::InvalidKey { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn document_version_keys() {
        let id = DocumentId::parse("0193-abc").unwrap();
        assert_eq!(
            BlobKey::document_version(&id, 3).unwrap().as_str(),
            "documents/0193-abc/v3"
        );
        let odd = DocumentId::parse("..").unwrap();
        assert!(BlobKey::document_version(&odd, 1).is_err());
        let slash = DocumentId::parse("a/b").unwrap();
        assert!(BlobKey::document_version(&slash, 1).is_err());
    }
}
