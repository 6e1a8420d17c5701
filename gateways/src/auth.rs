//! Authentication: HS256 JWT bearer tokens, minted for users by `quire
//! token` and checked on every RPC except health and reflection.
//!
//! The caller's identity comes from the token only, never from a request
//! body; services read it from the request's extensions as [`Caller`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use quire_domain::Actor;
use quire_domain::values::UserId;
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

const ISSUER: &str = "quire";

/// The authenticated caller of an RPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.as_str())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
}

/// Mints and checks tokens with one shared secret.
#[derive(Clone)]
pub struct TokenAuthority {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenAuthority")
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the secret must be at least 32 bytes")]
    WeakSecret,
    #[error("token could not be signed: {0}")]
    Sign(jsonwebtoken::errors::Error),
}

impl TokenAuthority {
    pub fn new(secret: &[u8]) -> Result<TokenAuthority, TokenError> {
        if secret.len() < 32 {
            return Err(TokenError::WeakSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        Ok(TokenAuthority {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// A token for `user` valid for `ttl`.
    pub fn mint(&self, user: &UserId, ttl: Duration) -> Result<String, TokenError> {
        let now = unix_now();
        let claims = Claims {
            sub: user.as_str().to_owned(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(TokenError::Sign)
    }

    /// The caller a bearer token names, or `Unauthenticated` saying why not.
    pub fn verify(&self, token: &str) -> Result<Caller, Status> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            let reason = match error.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::InvalidSignature => "token signature is invalid",
                ErrorKind::InvalidIssuer => "token was not issued by quire",
                _ => "token is malformed",
            };
            Status::unauthenticated(reason)
        })?;
        let user = UserId::parse(&data.claims.sub)
            .map_err(|_| Status::unauthenticated("token subject is not a valid user id"))?;
        Ok(Caller { user })
    }

    /// The tonic interceptor: checks `authorization: Bearer <jwt>` and
    /// stores the [`Caller`] in the request's extensions.
    pub fn interceptor(
        &self,
    ) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone + Send + Sync + 'static {
        let authority = self.clone();
        move |mut request: Request<()>| {
            let header = request
                .metadata()
                .get("authorization")
                .ok_or_else(|| Status::unauthenticated("missing authorization header (Bearer token)"))?;
            let text = header
                .to_str()
                .map_err(|_| Status::unauthenticated("authorization header is not text"))?;
            let token = text
                .strip_prefix("Bearer ")
                .ok_or_else(|| Status::unauthenticated("authorization header must be `Bearer <token>`"))?;
            let caller = authority.verify(token.trim())?;
            request.extensions_mut().insert(caller);
            Ok(request)
        }
    }
}

/// The caller stored by the interceptor.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority() -> TokenAuthority {
        TokenAuthority::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn minted_tokens_verify_and_name_the_user() {
        let user = UserId::parse("alice").unwrap();
        let token = authority().mint(&user, Duration::from_secs(60)).unwrap();
        assert_eq!(authority().verify(&token).unwrap().user, user);
    }

    #[test]
    fn tampered_expired_and_foreign_tokens_are_refused() {
        let user = UserId::parse("alice").unwrap();
        let token = authority().mint(&user, Duration::from_secs(60)).unwrap();
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            authority().verify(&tampered).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        let other = TokenAuthority::new(&[9u8; 32]).unwrap();
        assert_eq!(
            other.verify(&token).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        let expired = Claims {
            sub: "alice".into(),
            iss: ISSUER.into(),
            iat: 1,
            exp: 2,
        };
        let expired = encode(&Header::new(Algorithm::HS256), &expired, &authority().encoding).unwrap();
        assert_eq!(
            authority().verify(&expired).unwrap_err().message(),
            "token expired"
        );
        assert!(TokenAuthority::new(b"short").is_err());
    }
}
