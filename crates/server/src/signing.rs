//! What the request signatures of every dialect share (PDS's v1/v4, eds-user's ACS3 and
//! RPC, KooDrive's app signature): the parts of a request a signature covers, header
//! lookup, the shapes of key ids and header names, and RFC 3986 percent-encoding. Pure and
//! I/O-free; each scheme's string-to-sign stays with its dialect.

/// The header carrying the hex SHA-256 of the body (v4 only).
pub const CONTENT_SHA256_HEADER: &str = "x-acs-content-sha256";
/// The per-request random nonce (32 lowercase hex characters from the Python SDK).
pub const NONCE_HEADER: &str = "x-acs-signature-nonce";

/// The parts of a request that a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// `POST`, `GET`, ... as sent (the SDK signs the uppercase method).
    pub method: &'a str,
    /// The path as sent, without the query string (PDS paths are plain ASCII).
    pub path: &'a str,
    /// The query parameters, percent-decoded, in any order (empty for every PDS
    /// operation the SDK signs).
    pub query: &'a [(String, String)],
    /// Every request header. Names should be lowercased, but are compared
    /// case-insensitively anyway. Values must be the exact (UTF-8) values received.
    pub headers: &'a [(String, String)],
    /// The raw body bytes.
    pub body: &'a [u8],
}

/// An access key id as a signature may claim it: printable, without the separators the
/// `Authorization` forms use.
pub fn is_access_key_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b':' && b != b'/' && b != b',')
}

/// An HTTP header name (RFC 9110 token).
pub fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An `x-acs-*` header, which the vendor's schemes sign.
pub fn is_acs_header(name: &str) -> bool {
    name.get(..6)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("x-acs-"))
}

/// A header that may appear only once appeared more than once.
#[derive(Debug)]
pub struct Repeated;

/// The single value of header `name`: `Ok(None)` if absent, `Err` if repeated.
pub fn header<'h>(
    headers: &'h [(String, String)],
    name: &str,
) -> Result<Option<&'h str>, Repeated> {
    let mut found = None;
    for (n, v) in headers {
        if n.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(Repeated);
            }
            found = Some(v.as_str());
        }
    }
    Ok(found)
}

/// RFC 3986 percent-encoding: unreserved bytes kept, everything else `%XX` upper case.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
