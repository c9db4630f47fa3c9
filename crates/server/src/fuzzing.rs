//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`). Each feeds untrusted
//! input to the parsers one kind of request reaches before anything is trusted; none may
//! panic, whatever the input.

use roster_api::batch::BatchRequest;
use roster_api::{CreateUserRequest, GeneralSearchUserRequest, SearchUserRequest};

use crate::http::eds::params::Params;
use crate::http::{eds, pds};
use crate::service::pagination::Page;
use crate::service::tokens::TokenKeys;

/// `Authorization` values (v1, v4, ACS3) and the signed request's date header.
pub fn signature_header(value: &str) {
    let _ = pds::signature::parse_authorization(value);
    let _ = eds::signature::parse_acs3(value);
    let _ = eds::signature::parse_acs_time(value);
    let headers = [("x-acs-date".to_owned(), value.to_owned())];
    let _ = pds::signature::request_time(&headers);
    let _ = pds::signature::nonce(&headers);
}

/// A list marker, as any caller may send one back, and an audit-log query (PDS's query
/// language) and sort order, which admins send as text.
pub fn marker(marker: &str) {
    if let Ok(page) = Page::parse("default", Some(100), Some(marker)) {
        let _ = page.after_for("user_id");
    }
    let _ = crate::service::audit_log::parse_query(marker);
    let _ = crate::service::audit_log::parse_order(Some(marker));
}

/// A PDS JSON body, as the request types that take the most fields read it.
pub fn pds_body(bytes: &[u8]) {
    let _ = pds::extract::parse_json::<CreateUserRequest>(bytes);
    let _ = pds::extract::parse_json::<SearchUserRequest>(bytes);
    let _ = pds::extract::parse_json::<GeneralSearchUserRequest>(bytes);
    let _ = pds::extract::parse_json::<BatchRequest>(bytes);
}

/// eds-user RPC parameters (query and form pairs): lists, objects, JSON strings, booleans.
pub fn rpc_params(pairs: &[(String, String)]) {
    let _ = eds::signature::string_to_sign_rpc("POST", pairs);
    let Ok(params) = Params::from_pairs(pairs) else {
        return;
    };
    for (name, _) in pairs {
        let stem = name.split('.').next().unwrap_or_default();
        let _ = params.list(stem, 100);
        let _ = params.objects(stem, 100);
        let _ = params.json::<serde_json::Value>(name);
        let _ = params.bool(name);
        let _ = params.int(name);
    }
}

/// An access token (checked against fixed keys) and a JWT-app assertion.
pub fn jwt(token: &str) {
    thread_local! {
        static KEYS: TokenKeys = TokenKeys::fixed_for_fuzzing();
    }
    KEYS.with(|keys| {
        let _ = keys.verify(token, 0);
    });
    let _ = crate::service::apps::read_assertion(token);
}
