//! Valid, expired, tampered and malformed signed URLs.

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_700_000_000;

fn signer() -> UrlSigner {
    UrlSigner::new(SECRET).unwrap()
}

fn key(text: &str) -> BlobKey {
    BlobKey::parse(text).unwrap()
}

fn upload_terms() -> GrantTerms {
    GrantTerms {
        max_size: Some(1234),
        content_type: Some("text/plain; charset=utf-8".to_owned()),
        actor: Some("user:alice".to_owned()),
    }
}

#[test]
fn a_signed_upload_verifies_with_its_terms() {
    let k = key("documents/d1/v1");
    let query = signer().sign(UrlMethod::Upload, &k, NOW + 60, &upload_terms());
    assert!(query.starts_with(
        "expires=1700000060&max_size=1234&content_type=text%2Fplain%3B%20charset%3Dutf-8&actor=user%3Aalice&signature="
    ));
    let grant = signer().verify(UrlMethod::Upload, &k, &query, NOW).unwrap();
    assert_eq!(
        grant,
        SignedGrant {
            method: UrlMethod::Upload,
            key: k.clone(),
            expires_at: NOW + 60,
            terms: upload_terms(),
        }
    );
    // A leading `?` is accepted too.
    assert!(
        signer()
            .verify(UrlMethod::Upload, &k, &format!("?{query}"), NOW)
            .is_ok()
    );
}

#[test]
fn a_signed_download_verifies_without_terms() {
    let k = key("documents/d1/v2");
    let query = signer().sign(UrlMethod::Download, &k, NOW + 1, &GrantTerms::default());
    let grant = signer().verify(UrlMethod::Download, &k, &query, NOW).unwrap();
    assert_eq!(grant.terms, GrantTerms::default());
}

#[test]
fn an_expired_grant_is_refused() {
    let k = key("documents/d1/v1");
    let query = signer().sign(UrlMethod::Download, &k, NOW, &GrantTerms::default());
    assert_eq!(
        signer().verify(UrlMethod::Download, &k, &query, NOW),
        Err(SignatureError::Expired { expires_at: NOW })
    );
    assert!(signer().verify(UrlMethod::Download, &k, &query, NOW - 1).is_ok());
}

#[test]
fn another_key_or_method_does_not_verify() {
    let k = key("documents/d1/v1");
    let query = signer().sign(UrlMethod::Download, &k, NOW + 60, &GrantTerms::default());
    assert_eq!(
        signer().verify(UrlMethod::Download, &key("documents/d1/v2"), &query, NOW),
        Err(SignatureError::BadSignature)
    );
    assert_eq!(
        signer().verify(UrlMethod::Upload, &k, &query, NOW),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn tampered_fields_do_not_verify() {
    let k = key("documents/d1/v1");
    let query = signer().sign(UrlMethod::Upload, &k, NOW + 60, &upload_terms());
    let tampered = [
        query.replace("expires=1700000060", "expires=1800000000"),
        query.replace("max_size=1234", "max_size=999999"),
        query.replace("max_size=1234&", ""),
        query.replace("text%2Fplain", "text%2Fhtml"),
        query.replace("&content_type=text%2Fplain%3B%20charset%3Dutf-8", ""),
    ];
    for tampered in tampered {
        assert_ne!(tampered, query);
        assert_eq!(
            signer().verify(UrlMethod::Upload, &k, &tampered, NOW),
            Err(SignatureError::BadSignature),
            "{tampered}"
        );
    }
}

#[test]
fn a_tampered_signature_or_another_secret_does_not_verify() {
    let k = key("documents/d1/v1");
    let query = signer().sign(UrlMethod::Download, &k, NOW + 60, &GrantTerms::default());
    let (head, signature) = query.split_once("signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{head}signature={flipped}{}", &signature[1..]);
    assert_eq!(
        signer().verify(UrlMethod::Download, &k, &tampered, NOW),
        Err(SignatureError::BadSignature)
    );
    let other = UrlSigner::new(b"another secret of thirty-two bytes!").unwrap();
    assert_eq!(
        other.verify(UrlMethod::Download, &k, &query, NOW),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn an_expired_url_with_a_bad_signature_is_a_bad_signature() {
    let k = key("documents/d1/v1");
    let query = signer().sign(UrlMethod::Download, &k, NOW - 10, &GrantTerms::default());
    let forged = query.replace("expires=1699999990", "expires=1699999991");
    assert_eq!(
        signer().verify(UrlMethod::Download, &k, &forged, NOW),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn malformed_queries_are_reported() {
    let k = key("documents/d1/v1");
    let good = signer().sign(UrlMethod::Download, &k, NOW + 60, &GrantTerms::default());
    let signature = good.split_once("signature=").unwrap().1;
    let malformed = [
        String::new(),
        "expires=1".to_owned(),
        format!("signature={signature}"),
        format!("expires=soon&signature={signature}"),
        format!("expires=-1&signature={signature}"),
        format!("expires=99999999999999999999999&signature={signature}"),
        "expires=1&signature=abc".to_owned(),
        format!("expires=1&signature={}", "zz".repeat(32)),
        format!("{good}&expires=2"),
        format!("{good}&filename=x"),
        format!("{good}&flag"),
        format!("expires=1&content_type=%FF&signature={signature}"),
    ];
    for query in malformed {
        assert!(
            matches!(
                signer().verify(UrlMethod::Download, &k, &query, NOW),
                Err(SignatureError::Malformed { .. })
            ),
            "{query:?} was not malformed"
        );
    }
}

#[test]
fn short_secrets_are_refused_and_never_printed() {
    assert_eq!(
        UrlSigner::new(b"short").unwrap_err(),
        SignerError::SecretTooShort { len: 5 }
    );
    assert!(!format!("{:?}", signer()).contains("0123456789"));
}

#[test]
fn a_grant_issued_to_one_user_cannot_be_moved_to_another() {
    let k = key("documents/d1/v1");
    let query = signer().sign(UrlMethod::Upload, &k, NOW + 60, &upload_terms());
    let forged = query.replace("actor=user%3Aalice", "actor=user%3Amallory");
    assert_ne!(forged, query);
    assert_eq!(
        signer().verify(UrlMethod::Upload, &k, &forged, NOW),
        Err(SignatureError::BadSignature)
    );
}
