//! What every query port shares: paging, the reader's identity, and errors.
//!
//! List queries take a [`PageRequest`] and return a [`Page`]; the page token
//! is opaque to callers (each store encodes its own cursor in it, through
//! [`PageToken`]). Every query names its reader, and returns only what that
//! reader may see.

use serde::{Deserialize, Serialize};

/// Default and largest page sizes.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// Which page of a list to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// 0 means the default; more than [`MAX_PAGE_SIZE`] is refused.
    pub page_size: u32,
    /// The `next_page_token` of the previous page; `None` for the first.
    pub page_token: Option<String>,
}

impl PageRequest {
    pub fn first(page_size: u32) -> PageRequest {
        PageRequest {
            page_size,
            page_token: None,
        }
    }

    /// The effective page size, or an error naming the field.
    pub fn size(&self) -> Result<usize, QueryError> {
        match self.page_size {
            0 => Ok(DEFAULT_PAGE_SIZE as usize),
            n if n <= MAX_PAGE_SIZE => Ok(n as usize),
            n => Err(QueryError::InvalidArgument(format!(
                "page_size {n} is above the maximum of {MAX_PAGE_SIZE}"
            ))),
        }
    }

    /// The decoded cursor of the page token, if any.
    pub fn cursor<C: for<'de> Deserialize<'de>>(&self) -> Result<Option<C>, QueryError> {
        self.page_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(PageToken::decode)
            .transpose()
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

impl<T> Page<T> {
    pub fn last(items: Vec<T>) -> Page<T> {
        Page {
            items,
            next_page_token: None,
        }
    }
}

/// Encodes a store's cursor as an opaque page token (hex of its JSON).
#[derive(Debug)]
pub struct PageToken;

impl PageToken {
    pub fn encode<C: Serialize>(cursor: &C) -> String {
        let json = serde_json::to_vec(cursor).unwrap_or_default();
        json.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode<C: for<'de> Deserialize<'de>>(token: &str) -> Result<C, QueryError> {
        let bad = QueryError::foreign_page_token;
        if !token.len().is_multiple_of(2) || token.len() > 4096 {
            return Err(bad());
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }
}

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A malformed argument; the message names the field.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The thing does not exist, or the reader may not know it exists.
    #[error("not found: {0}")]
    NotFound(String),
    /// The reader knows it exists but may not do this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The store cannot answer now.
    #[error("read model unavailable: {0}")]
    Unavailable(String),
}

impl QueryError {
    /// A page token that does not decode, or decodes but names no place in
    /// the list: not one this service issued.
    pub fn foreign_page_token() -> QueryError {
        QueryError::InvalidArgument("page_token is not one this service issued".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_forgeries() {
        let token = PageToken::encode(&("doc-7", 42u64));
        assert_eq!(
            PageToken::decode::<(String, u64)>(&token),
            Ok(("doc-7".to_owned(), 42))
        );
        assert!(PageToken::decode::<(String, u64)>("zz").is_err());
        assert!(PageToken::decode::<(String, u64)>("7b").is_err());
    }

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(PageRequest::default().size(), Ok(DEFAULT_PAGE_SIZE as usize));
        assert_eq!(PageRequest::first(10).size(), Ok(10));
        assert!(PageRequest::first(MAX_PAGE_SIZE + 1).size().is_err());
    }
}
