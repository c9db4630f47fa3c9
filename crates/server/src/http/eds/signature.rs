//! Verifiers for the two signatures of Alibaba Cloud's RPC SDKs (`alibabacloud-eds-user20210308`
//! through tea-openapi), as `shared/reference/sdk-wire.md` §4.2–4.3 describes them:
//!
//! * **ACS3-HMAC-SHA256** (the default): `Authorization: ACS3-HMAC-SHA256
//!   Credential=<AK>,SignedHeaders=<h1;h2>,Signature=<hex>`, an HMAC-SHA256 with the secret
//!   over the SHA-256 of [`canonical_request_acs3`], which covers the body through its hash.
//! * **RPC HMAC-SHA1** (`signature_algorithm='v2'`): every common parameter in the query,
//!   `Signature` = base64 HMAC-SHA1 with `secret + "&"` over [`string_to_sign_rpc`], built
//!   from all query and form parameters.
//!
//! Pure and I/O-free like the PDS verifiers whose building blocks it shares; freshness and
//! replay are the caller's. Signature comparisons are constant-time.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::signing::{
    header, is_access_key_id, is_acs_header, is_header_name, pct, RequestParts,
    CONTENT_SHA256_HEADER,
};

pub const ACS3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// A parsed `Authorization: ACS3-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    pub access_key_id: String,
    /// Lowercase names, as listed (the SDK lists them sorted).
    pub signed_headers: Vec<String>,
    pub signature_hex: String,
}

/// Parses an ACS3 `Authorization` value; `None` for anything else.
pub fn parse_acs3(value: &str) -> Option<Acs3Authorization> {
    let rest = value.trim().strip_prefix(ACS3_ALGORITHM)?.trim_start();
    let rest = rest.strip_prefix("Credential=")?;
    let (access_key_id, rest) = rest.split_once(",SignedHeaders=")?;
    let (signed, signature) = rest.split_once(",Signature=")?;
    let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    let valid = is_access_key_id(access_key_id)
        && signed_headers.iter().all(|h| is_header_name(h))
        && !signature.is_empty()
        && signature.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| Acs3Authorization {
        access_key_id: access_key_id.to_owned(),
        signed_headers,
        signature_hex: signature.to_owned(),
    })
}

/// `k=pct(v)` joined by `&`, sorted by key then value (keys as the SDK sent them).
fn canonical_query_acs3(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The ACS3 CanonicalRequest:
///
/// ```text
/// METHOD \n path \n CanonicalQuery \n
/// for each signed header: name:trim(value) \n
/// \n SignedHeaders(;) \n hex(sha256(body))
/// ```
///
/// `None` when a signed header is missing or repeated.
pub fn canonical_request_acs3(req: &RequestParts<'_>, signed_headers: &[String]) -> Option<String> {
    let mut s = format!(
        "{}\n{}\n{}\n",
        req.method,
        req.path,
        canonical_query_acs3(req.query)
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

/// Verifies an ACS3 signature. Beyond the HMAC, requires `x-acs-content-sha256` to be the
/// body's hash, `host` to be signed, and every `x-acs-*` header to be signed (as the SDK
/// signs them all), so that nothing unsigned can be slipped in.
pub fn verify_acs3(req: &RequestParts<'_>, auth: &Acs3Authorization, secret: &str) -> bool {
    let body_hash = hex::encode(Sha256::digest(req.body));
    match header(req.headers, CONTENT_SHA256_HEADER) {
        Ok(Some(claimed)) if claimed.trim().eq_ignore_ascii_case(&body_hash) => {}
        _ => return false,
    }
    let signed = |name: &str| {
        auth.signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
    };
    let all_acs_signed = req
        .headers
        .iter()
        .filter(|(name, _)| is_acs_header(name))
        .all(|(name, _)| signed(name));
    if !all_acs_signed || !signed("host") {
        return false;
    }
    let Some(canonical) = canonical_request_acs3(req, &auth.signed_headers) else {
        return false;
    };
    let string_to_sign = format!(
        "{ACS3_ALGORITHM}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let Ok(expected) = hex::decode(&auth.signature_hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// The RPC StringToSign: `METHOD&%2F&pct(k1=v1&k2=v2...)` over every parameter but
/// `Signature`, each name and value percent-encoded, sorted.
pub fn string_to_sign_rpc(method: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (pct(k), pct(v)))
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{method}&%2F&{}", pct(&query))
}

/// Verifies an RPC HMAC-SHA1 signature (base64) over all query and form parameters.
pub fn verify_rpc(
    method: &str,
    params: &[(String, String)],
    signature_b64: &str,
    secret: &str,
) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature_b64) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()) else {
        return false;
    };
    mac.update(string_to_sign_rpc(method, params).as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// `2026-11-23T19:27:46Z` (`x-acs-date`, RPC `Timestamp`), as milliseconds since the epoch.
pub fn parse_acs_time(s: &str) -> Option<i64> {
    crate::time_format::parse_rfc3339_ms(s.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "testsecret";

    /// The eds-user requests of `shared/reference/sdk-wire/wire.jsonl`, signed with AK
    /// `testak` and secret `testsecret`.
    const WIRE: &str = include_str!("testdata/wire-eds.jsonl");

    struct Captured {
        method: String,
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        body: String,
        scheme: String,
        expected: String,
    }

    fn captured() -> Vec<Captured> {
        WIRE.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let sig = v.get("sig").filter(|s| !s.is_null())?;
                let scheme = sig["scheme"].as_str()?.to_owned();
                let expected = sig
                    .get("canonical_request")
                    .or_else(|| sig.get("string_to_sign"))?
                    .as_str()?
                    .to_owned();
                let pairs = |value: &serde_json::Value| -> Vec<(String, String)> {
                    value
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| {
                            (
                                p[0].as_str().unwrap().to_owned(),
                                p[1].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect()
                };
                Some(Captured {
                    method: v["method"].as_str()?.to_owned(),
                    query: pairs(&v["query"]),
                    headers: v["headers"]
                        .as_object()?
                        .iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_owned()))
                        .collect(),
                    body: v["body"].as_str().unwrap_or("").to_owned(),
                    scheme,
                    expected,
                })
            })
            .collect()
    }

    impl Captured {
        fn parts(&self) -> RequestParts<'_> {
            RequestParts {
                method: &self.method,
                path: "/",
                query: &self.query,
                headers: &self.headers,
                body: self.body.as_bytes(),
            }
        }

        fn authorization(&self) -> Acs3Authorization {
            let value = &self
                .headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .unwrap()
                .1;
            parse_acs3(value).unwrap()
        }

        fn rpc_params(&self) -> Vec<(String, String)> {
            let body: Vec<(String, String)> = serde_urlencoded::from_str(&self.body).unwrap();
            self.query.iter().cloned().chain(body).collect()
        }

        fn rpc_signature(&self) -> String {
            self.query
                .iter()
                .find(|(k, _)| k == "Signature")
                .unwrap()
                .1
                .clone()
        }
    }

    #[test]
    fn acs3_vectors_verify() {
        let vectors: Vec<Captured> = captured()
            .into_iter()
            .filter(|c| c.scheme == ACS3_ALGORITHM)
            .collect();
        assert!(vectors.len() >= 10, "{} ACS3 vectors", vectors.len());
        for c in &vectors {
            let auth = c.authorization();
            assert_eq!(auth.access_key_id, "testak");
            let canonical = canonical_request_acs3(&c.parts(), &auth.signed_headers).unwrap();
            assert_eq!(canonical, c.expected);
            assert!(verify_acs3(&c.parts(), &auth, SECRET));
            assert!(!verify_acs3(&c.parts(), &auth, "othersecret"));
        }
    }

    #[test]
    fn acs3_refuses_a_changed_body_query_or_unsigned_header() {
        let c = captured()
            .into_iter()
            .find(|c| c.scheme == ACS3_ALGORITHM && !c.body.is_empty())
            .unwrap();
        let auth = c.authorization();
        let mut changed = c.parts();
        changed.body = b"Users.1=mallory";
        assert!(!verify_acs3(&changed, &auth, SECRET));
        let query = vec![("Extra".to_owned(), "1".to_owned())];
        let mut changed = c.parts();
        changed.query = &query;
        assert!(!verify_acs3(&changed, &auth, SECRET));
        let mut headers = c.headers.clone();
        headers.push(("x-acs-security-token".into(), "t".into()));
        let mut changed = c.parts();
        changed.headers = &headers;
        assert!(!verify_acs3(&changed, &auth, SECRET));
    }

    #[test]
    fn rpc_vectors_verify() {
        let vectors: Vec<Captured> = captured()
            .into_iter()
            .filter(|c| c.scheme == "RPC-HMAC-SHA1")
            .collect();
        assert!(vectors.len() >= 3, "{} RPC vectors", vectors.len());
        for c in &vectors {
            let params = c.rpc_params();
            assert_eq!(string_to_sign_rpc(&c.method, &params), c.expected);
            assert!(verify_rpc(&c.method, &params, &c.rpc_signature(), SECRET));
            assert!(!verify_rpc(&c.method, &params, &c.rpc_signature(), "x"));
            let mut tampered = params.clone();
            tampered.push(("Users.9".into(), "mallory".into()));
            assert!(!verify_rpc(
                &c.method,
                &tampered,
                &c.rpc_signature(),
                SECRET
            ));
        }
    }

    #[test]
    fn parse_acs3_authorization() {
        let a = parse_acs3(
            "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=00ff",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "ak");
        assert_eq!(a.signed_headers, ["host", "x-acs-date"]);
        for bad in [
            "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=zz",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=00",
            "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=00",
            "acs ak:sig",
            "",
        ] {
            assert_eq!(parse_acs3(bad), None, "{bad}");
        }
    }

    #[test]
    fn percent_encoding_is_rfc3986() {
        assert_eq!(pct("a b*~-_."), "a%20b%2A~-_.");
        assert_eq!(pct("部"), "%E9%83%A8");
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_acs_time("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_acs_time("yesterday"), None);
    }
}
