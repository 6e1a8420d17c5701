//! [`UrlSigner`]: expiring grants to upload or download one blob, carried
//! in a URL's query string and signed with HMAC-SHA256.
//!
//! The gateway hands a client `…/blobs/<key>?<query>` where the query comes
//! from [`UrlSigner::sign`]; when the request arrives it calls
//! [`UrlSigner::verify`] with the method the request used, the key in its
//! path and its query. The signature covers a version tag, the method, the
//! key, the expiry and the upload terms, so none of them can be changed;
//! it is compared in constant time. Any query parameter not listed here
//! makes the query malformed: nothing unsigned can steer the gateway.
//!
//! Query: `expires=<unix seconds>[&max_size=<bytes>][&content_type=<pct-encoded>]&signature=<64 hex>`.

use std::fmt;

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use quire_command_handlers::blobs::BlobKey;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes a signing secret needs at least (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// Tags the signed message so a signature of this scheme means nothing to
/// any other use of the same secret.
const SCHEME: &str = "quire-blob-url-v1";

/// Characters left as they are in query values (RFC 3986 unreserved).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a signed URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrlMethod {
    /// Send the blob's bytes (`PUT`).
    Upload,
    /// Read the blob's bytes (`GET`).
    Download,
}

impl UrlMethod {
    fn as_str(self) -> &'static str {
        match self {
            UrlMethod::Upload => "upload",
            UrlMethod::Download => "download",
        }
    }
}

/// Conditions signed into a grant, for the gateway to enforce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantTerms {
    /// Most bytes an upload may send (its declared size).
    pub max_size: Option<u64>,
    /// The content type the upload was declared with.
    pub content_type: Option<String>,
    /// Who the grant was issued to (`user:<id>`): the gateway completes an
    /// upload in their name.
    pub actor: Option<String>,
}

/// A verified grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedGrant {
    pub method: UrlMethod,
    pub key: BlobKey,
    /// Unix seconds after which the grant is void.
    pub expires_at: u64,
    pub terms: GrantTerms,
}

/// Why a signed URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Genuine, but past its expiry.
    #[error("the signed URL expired at {expires_at} (unix seconds)")]
    Expired { expires_at: u64 },
    /// The signature does not match the method, key and query: tampered
    /// with, or signed with another secret.
    #[error("the signed URL's signature does not match")]
    BadSignature,
    /// The query is not one this signer writes.
    #[error("malformed signed URL: {reason}")]
    Malformed { reason: &'static str },
}

/// A signer that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    #[error("the URL signing secret is {len} bytes; at least {MIN_SECRET_BYTES} are needed")]
    SecretTooShort { len: usize },
}

/// Signs and verifies blob URLs with one secret.
#[derive(Clone)]
pub struct UrlSigner {
    mac: HmacSha256,
}

impl fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlSigner")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl UrlSigner {
    /// A signer with `secret`, at least [`MIN_SECRET_BYTES`] long.
    pub fn new(secret: &[u8]) -> Result<UrlSigner, SignerError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SignerError::SecretTooShort { len: secret.len() });
        }
        // HMAC takes keys of any length; the error cannot happen.
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| SignerError::SecretTooShort { len: 0 })?;
        Ok(UrlSigner { mac })
    }

    /// The query string granting `method` on `key` until `expires_at`
    /// (unix seconds) under `terms`.
    pub fn sign(&self, method: UrlMethod, key: &BlobKey, expires_at: u64, terms: &GrantTerms) -> String {
        let signature = self
            .mac_of(method, key, expires_at, terms)
            .finalize()
            .into_bytes();
        let mut query = format!("expires={expires_at}");
        if let Some(max_size) = terms.max_size {
            query.push_str(&format!("&max_size={max_size}"));
        }
        if let Some(content_type) = &terms.content_type {
            query.push_str("&content_type=");
            query.extend(utf8_percent_encode(content_type, QUERY_VALUE));
        }
        if let Some(actor) = &terms.actor {
            query.push_str("&actor=");
            query.extend(utf8_percent_encode(actor, QUERY_VALUE));
        }
        query.push_str(&format!("&signature={signature:x}"));
        query
    }

    /// Checks that `query` grants `method` on `key` at `now` (unix seconds).
    /// The signature is checked before the expiry, so only a genuine grant
    /// is ever reported as expired.
    pub fn verify(
        &self,
        method: UrlMethod,
        key: &BlobKey,
        query: &str,
        now: u64,
    ) -> Result<SignedGrant, SignatureError> {
        let parsed = Parsed::from_query(query)?;
        self.mac_of(method, key, parsed.expires_at, &parsed.terms)
            .verify_slice(&parsed.signature)
            .map_err(|_| SignatureError::BadSignature)?;
        if now >= parsed.expires_at {
            return Err(SignatureError::Expired {
                expires_at: parsed.expires_at,
            });
        }
        Ok(SignedGrant {
            method,
            key: key.clone(),
            expires_at: parsed.expires_at,
            terms: parsed.terms,
        })
    }

    /// The MAC fed with the canonical message: one field per line; absent
    /// terms as `-`, present content types after `=` (so no two grants
    /// share a message).
    fn mac_of(&self, method: UrlMethod, key: &BlobKey, expires_at: u64, terms: &GrantTerms) -> HmacSha256 {
        let max_size = terms
            .max_size
            .map_or_else(|| "-".to_owned(), |size| size.to_string());
        let content_type = terms
            .content_type
            .as_ref()
            .map_or_else(|| "-".to_owned(), |content_type| format!("={content_type}"));
        let actor = terms
            .actor
            .as_ref()
            .map_or_else(|| "-".to_owned(), |actor| format!("={actor}"));
        let message = format!(
            "{SCHEME}\n{}\n{key}\n{expires_at}\n{max_size}\n{content_type}\n{actor}",
            method.as_str()
        );
        let mut mac = self.mac.clone();
        mac.update(message.as_bytes());
        mac
    }
}

/// The fields of a signed query.
struct Parsed {
    expires_at: u64,
    terms: GrantTerms,
    signature: Vec<u8>,
}

impl Parsed {
    fn from_query(query: &str) -> Result<Parsed, SignatureError> {
        let malformed = |reason| SignatureError::Malformed { reason };
        let query = query.strip_prefix('?').unwrap_or(query);
        let (mut expires_at, mut max_size, mut content_type, mut signature) = (None, None, None, None);
        let mut actor = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').ok_or(malformed("a parameter has no `=`"))?;
            let slot_taken = match name {
                "expires" => expires_at.replace(parse_number(value)?).is_some(),
                "max_size" => max_size.replace(parse_number(value)?).is_some(),
                "content_type" => content_type.replace(decode(value)?).is_some(),
                "actor" => actor.replace(decode(value)?).is_some(),
                "signature" => signature.replace(parse_hex(value)?).is_some(),
                _ => return Err(malformed("unknown parameter")),
            };
            if slot_taken {
                return Err(malformed("a parameter is repeated"));
            }
        }
        Ok(Parsed {
            expires_at: expires_at.ok_or(malformed("no `expires`"))?,
            terms: GrantTerms {
                max_size,
                content_type,
                actor,
            },
            signature: signature.ok_or(malformed("no `signature`"))?,
        })
    }
}

fn parse_number(value: &str) -> Result<u64, SignatureError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed {
            reason: "a number is not decimal digits",
        });
    }
    value.parse().map_err(|_| SignatureError::Malformed {
        reason: "a number is too large",
    })
}

fn decode(value: &str) -> Result<String, SignatureError> {
    percent_decode_str(value)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| SignatureError::Malformed {
            reason: "a value is not percent-encoded UTF-8",
        })
}

/// A SHA-256 MAC in hex: 64 hex digits.
fn parse_hex(value: &str) -> Result<Vec<u8>, SignatureError> {
    let malformed = SignatureError::Malformed {
        reason: "the signature is not 64 hex digits",
    };
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed);
    }
    (0..value.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&value[i..i + 2], 16).map_err(|_| malformed.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
