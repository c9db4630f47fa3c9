//! KooDrive's app signature (koodrive_05_0029–0035): `Authorization: HMAC-SHA256
//! AppId=<id>,SignedHeaders=host;x-date;x-user-id,Signature=<hex>` where
//!
//! ```text
//! CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n
//!                    name:trim(value) \n (each signed header) \n SignedHeaders \n hex(sha256(body))
//! StringToSign     = "HMAC-SHA256\n" + hex(sha256(CanonicalRequest))
//! Signature        = hex(HMAC-SHA256(AppSecret, StringToSign))
//! ```
//!
//! The URI is RFC 3986-encoded per segment with a trailing `/` appended; the query is sorted
//! by name, `%XY` upper case, `k=` for an empty value. Pure and I/O-free; the caller checks
//! `X-Date` and who the app may act as.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::signing::{header, is_access_key_id, is_header_name, pct, RequestParts};

pub const ALGORITHM: &str = "HMAC-SHA256";

/// A parsed `Authorization: HMAC-SHA256 ...` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAuthorization {
    pub app_id: String,
    /// Lower-case names, as listed.
    pub signed_headers: Vec<String>,
    pub signature_hex: String,
}

/// Parses an app-signature `Authorization` value; `None` for anything else or malformed.
pub fn parse(value: &str) -> Option<AppAuthorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.trim_start();
    let mut app_id = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name {
            "AppId" => app_id = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => return None,
        }
    }
    let (app_id, signed, signature) = (app_id?, signed?, signature?);
    let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    let valid = is_access_key_id(app_id)
        && signed_headers.iter().all(|h| is_header_name(h))
        && signature.len() == 64
        && signature.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| AppAuthorization {
        app_id: app_id.to_owned(),
        signed_headers,
        signature_hex: signature.to_ascii_lowercase(),
    })
}

/// Each path segment RFC 3986-encoded, with a trailing `/`.
fn canonical_uri(path: &str) -> String {
    let mut uri = path.split('/').map(pct).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The CanonicalRequest; `None` when a signed header is missing or repeated.
pub fn canonical_request(req: &RequestParts<'_>, signed_headers: &[String]) -> Option<String> {
    let mut s = format!(
        "{}\n{}\n{}\n",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query)
    );
    for name in signed_headers {
        let value = header(req.headers, name).ok()??;
        s.push_str(name);
        s.push(':');
        s.push_str(value.trim());
        s.push('\n');
    }
    s.push('\n');
    s.push_str(&signed_headers.join(";"));
    s.push('\n');
    s.push_str(&hex::encode(Sha256::digest(req.body)));
    Some(s)
}

/// `"HMAC-SHA256\n" + hex(sha256(CanonicalRequest))`.
fn string_to_sign(req: &RequestParts<'_>, signed_headers: &[String]) -> Option<String> {
    let canonical = canonical_request(req, signed_headers)?;
    Some(format!(
        "{ALGORITHM}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    ))
}

fn mac_of(secret: &str, string_to_sign: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(string_to_sign.as_bytes());
    Some(mac)
}

/// The signature a secret makes over a request (lower-case hex).
#[cfg(test)]
pub fn sign(req: &RequestParts<'_>, signed_headers: &[String], secret: &str) -> Option<String> {
    let mac = mac_of(secret, &string_to_sign(req, signed_headers)?)?;
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// Verifies an app signature. `x-date` and `x-user-id` must be signed (so neither the time
/// nor the acting user can be swapped); the comparison is constant-time.
pub fn verify(req: &RequestParts<'_>, auth: &AppAuthorization, secret: &str) -> bool {
    let signed = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    if !signed("x-date") || !signed("x-user-id") {
        return false;
    }
    let (Some(string_to_sign), Ok(expected)) = (
        string_to_sign(req, &auth.signed_headers),
        hex::decode(&auth.signature_hex),
    ) else {
        return false;
    };
    mac_of(secret, &string_to_sign).is_some_and(|mac| mac.verify_slice(&expected).is_ok())
}

/// `X-Date` (`yyyyMMdd'T'HHmmss'Z'`, UTC) in UNIX milliseconds.
pub fn parse_x_date(s: &str) -> Option<i64> {
    crate::time_format::parse_compact_utc(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            method: "POST",
            path: "/koodrive/ose/v1/users",
            query: &[],
            headers,
            body,
        }
    }

    fn headers() -> Vec<(String, String)> {
        [
            ("host", "roster.test"),
            ("x-date", "20240831T143829Z"),
            ("x-user-id", "alice"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    }

    #[test]
    fn canonical_request_has_a_trailing_slash_and_a_blank_line() {
        let h = headers();
        let signed = vec!["host".into(), "x-date".into(), "x-user-id".into()];
        let c = canonical_request(&parts(&h, b"{}"), &signed).unwrap();
        assert!(c.starts_with("POST\n/koodrive/ose/v1/users/\n\nhost:roster.test\n"));
        assert!(c.contains("x-user-id:alice\n\nhost;x-date;x-user-id\n"));
    }

    #[test]
    fn signs_and_verifies_and_refuses_tampering() {
        let h = headers();
        let signed = vec!["host".into(), "x-date".into(), "x-user-id".into()];
        let sig = sign(&parts(&h, b"{}"), &signed, "s3cret").unwrap();
        let auth = parse(&format!(
            "HMAC-SHA256 AppId=app1,SignedHeaders=host;x-date;x-user-id,Signature={sig}"
        ))
        .unwrap();
        assert!(verify(&parts(&h, b"{}"), &auth, "s3cret"));
        assert!(!verify(&parts(&h, b"{ }"), &auth, "s3cret"));
        assert!(!verify(&parts(&h, b"{}"), &auth, "other"));
        let unsigned_user = AppAuthorization {
            signed_headers: vec!["host".into(), "x-date".into()],
            ..auth
        };
        assert!(!verify(&parts(&h, b"{}"), &unsigned_user, "s3cret"));
    }

    #[test]
    fn query_is_sorted_and_encoded() {
        let q = vec![
            ("b".to_owned(), "x y".to_owned()),
            ("a".to_owned(), String::new()),
        ];
        assert_eq!(canonical_query(&q), "a=&b=x%20y");
    }

    #[test]
    fn x_date_format() {
        assert_eq!(parse_x_date("19700101T000001Z"), Some(1000));
        assert_eq!(parse_x_date("2024-08-31T14:38:29Z"), None);
    }
}
