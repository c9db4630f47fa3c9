//! `roster-client`: a typed async client for Roster's PDS dialect, sharing the wire types of
//! `roster-api`.
//!
//! Every call the server serves has a method named after the PDS SDK (`create_user`,
//! `list_groups`, `get_default_drive`, ...), taking the `roster_api` request type and answering
//! its response type; calls the server answers with `204 No Content` answer `()`. The `all_*`
//! and `search_all_*` methods follow `next_marker` to the last page.
//!
//! The client refreshes its access token by itself: a call refused with `401
//! AccessTokenInvalid` while a refresh token is held is retried once after a refresh. Calls
//! answered `429` or `503` are retried with exponential backoff (at most 3 attempts, honouring
//! `Retry-After`; a refusal that asks for a longer wait than a retry would make, such as a
//! locked-out login, is answered at once).
//!
//! One module per resource (`users`, `groups`, `drives`, ...) adds its calls to [`Client`];
//! this file holds the client itself, its errors and the plumbing they share.
//!
//! ```no_run
//! # async fn demo() -> Result<(), roster_client::Error> {
//! use roster_client::{api, Client};
//!
//! let client = Client::new("http://127.0.0.1:8080");
//! client.login("admin", "the-admin-password").await?;
//! let alice = client
//!     .create_user(&api::CreateUserRequest {
//!         user_id: "alice".into(),
//!         nick_name: Some("Alice".into()),
//!         ..Default::default()
//!     })
//!     .await?;
//! assert_eq!(alice.user_id, "alice");
//! # Ok(())
//! # }
//! ```

pub use roster_api as api;

mod access_keys;
mod accounts;
mod apps;
mod audit_log;
mod domains;
mod drives;
mod events;
mod groups;
mod oauth;
mod users;
mod webhooks;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::stream::{self, Stream, TryStreamExt};

use api::access_keys::{
    AccessKey, AccessKeyIdRequest, CreateAccessKeyRequest, CreateAccessKeyResponse,
    ListAccessKeyRequest, ListAccessKeyResponse, UpdateAccessKeyRequest,
};
use api::accounts::{
    ChangePasswordRequest, LinkAccountRequest, LinkInfoByUserIdRequest, LinkInfoListResponse,
    LinkInfoRequest,
};
use api::apps::{
    App, AppIdRequest, CreateAppRequest, ListAppRequest, ListAppResponse, UpdateAppRequest,
};
use api::audit_log::{
    AsyncTask, AuditLog, AuditLogExportRequest, AuditLogExportResponse, GetAsyncTaskRequest,
    ListAuditLogRequest, ListAuditLogResponse,
};
use api::batch::{BatchRequest, BatchResponse};
use api::domains::{
    CreateDomainRequest, CreateDomainResponse, DeleteDomainRequest, Domain, DomainQuota,
    GetDomainQuotaRequest, GetDomainRequest, ListDomainRequest, ListDomainResponse,
    UpdateDomainRequest,
};
use api::drives::{
    CreateDriveRequest, DeleteDriveRequest, Drive, GetDefaultDriveRequest, GetDriveRequest,
    ListDriveRequest, ListDriveResponse, ListMyDrivesRequest, SearchDriveRequest,
    UpdateDriveRequest,
};
use api::events::{ListEventsRequest, ListEventsResponse};
use api::webhooks::{
    CreateWebhookRequest, CreateWebhookResponse, ListDeadLettersResponse, ListDeliveriesRequest,
    ListDeliveriesResponse, ListWebhooksRequest, ListWebhooksResponse, RedeliverRequest,
    RedeliverResponse, TestWebhookResponse, UpdateWebhookRequest, Webhook, WebhookIdRequest,
};
use api::{
    AccountLinkInfo, AccountTokenRequest, AssignRoleRequest, Assignment, CreateGroupRequest,
    CreateUserRequest, DeleteUserRequest, ErrorBody, GeneralGetUserRequest,
    GeneralSearchUserRequest, GeneralSearchUserResponse, GetUserRequest, Group, GroupIdRequest,
    GroupMemberRequest, ImportUserRequest, ListAssignmentRequest, ListAssignmentResponse,
    ListGroupMemberRequest, ListGroupMemberResponse, ListGroupRequest, ListGroupResponse,
    ListGroupUserRequest, ListIdentityRoleRequest, ListIdentityRoleResponse, ListUserRequest,
    ListUserResponse, RevokeRequest, SearchGroupRequest, SearchUserRequest, Token,
    UpdateGroupNameRequest, UpdateGroupRequest, UpdateUserRequest, User, UserExtraItem,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The grant type of the JWT-bearer (app assertion) login.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Attempts of one call when the server answers 429 or 503.
const MAX_ATTEMPTS: u32 = 3;
/// First backoff delay; doubled on every further attempt.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// Longest wait between two attempts, whatever `Retry-After` says.
const MAX_DELAY: Duration = Duration::from_secs(5);

/// A failed call: what the server answered, or why no answer came.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused the call with a PDS error body.
    #[error("{status} {code}: {message} (request {request_id})")]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: String,
    },
    /// The request could not be sent or the answer could not be read.
    #[error("{}", describe_transport(.0))]
    Transport(#[from] reqwest::Error),
    /// The answer was not the JSON expected.
    #[error("unexpected answer ({status}): {body}")]
    Unexpected { status: u16, body: String },
    /// The request could not be encoded as JSON.
    #[error("encoding the request: {0}")]
    Encode(serde_json::Error),
}

impl Error {
    /// The PDS error code (`NotFound.User`, ...), if the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status of the answer, if one came.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Unexpected { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::Encode(_) => None,
        }
    }

    /// Whether the server refused the access token (invalid or expired).
    fn is_access_token_invalid(&self) -> bool {
        matches!(self, Error::Api { status: 401, code, .. }
            if code == "AccessTokenInvalid" || code.starts_with("AccessTokenInvalid."))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every member of a group, as [`Client::all_group_members`] collects them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupMembers {
    pub users: Vec<UserExtraItem>,
    pub groups: Vec<Group>,
}

#[derive(Debug, Default)]
struct Tokens {
    access: Option<String>,
    refresh: Option<String>,
}

/// A connection to one Roster server, optionally logged in.
///
/// Methods take `&self`: the tokens live behind a lock, and clones of a client share them
/// (a refresh by one is seen by all).
#[derive(Debug, Clone)]
pub struct Client {
    base_url: String,
    http: reqwest::Client,
    tokens: Arc<Mutex<Tokens>>,
    /// Serializes refreshes, so concurrent calls refused together refresh only once.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

/// Makes rustls on ring (no aws-lc, no native TLS) the process's TLS provider, which every
/// `reqwest::Client` built without a TLS configuration of its own needs (the server's webhook
/// sender brings its own). Idempotent; [`Client::new`] calls it, and so must a program that
/// builds a `reqwest::Client` itself before it makes a `Client`.
pub fn install_tls_provider() {
    // An error means a provider is already installed: keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    /// A client for the server at `base_url` (`http://host:port` or `https://...`), not
    /// logged in.
    pub fn new(base_url: impl Into<String>) -> Client {
        install_tls_provider();
        Client {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            tokens: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    /// A client that calls with an access token obtained elsewhere.
    pub fn with_token(base_url: impl Into<String>, access_token: impl Into<String>) -> Client {
        let client = Client::new(base_url);
        client.set_access_token(Some(access_token.into()));
        client
    }

    /// The access token the client calls with, if any.
    pub fn access_token(&self) -> Option<String> {
        self.tokens().access.clone()
    }

    /// The refresh token the client renews its access token with, if any.
    pub fn refresh_token(&self) -> Option<String> {
        self.tokens().refresh.clone()
    }

    /// Replaces the access token (`None`: call anonymously).
    pub fn set_access_token(&self, token: Option<String>) {
        self.tokens().access = token;
    }

    /// Replaces the refresh token (`None`: no automatic refresh).
    pub fn set_refresh_token(&self, token: Option<String>) {
        self.tokens().refresh = token;
    }

    fn tokens(&self) -> MutexGuard<'_, Tokens> {
        // Nothing panics while holding the lock; recover from poisoning all the same.
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- Plumbing ------------------------------------------------------------------------

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a JSON call and answers its successful response, refreshing the access token once
    /// when the server refuses it and retrying 429/503 answers.
    async fn send<Req: Serialize + ?Sized>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<reqwest::Response> {
        let url = self.url(path);
        let body = serde_json::to_vec(request).map_err(Error::Encode)?;
        let mut refreshed = false;
        loop {
            let token = self.access_token();
            let response = self
                .execute(|| {
                    let builder = self
                        .http
                        .post(&url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.clone());
                    match &token {
                        Some(token) => builder.bearer_auth(token),
                        None => builder,
                    }
                })
                .await?;
            if response.status().is_success() {
                return Ok(response);
            }
            let error = error_of(response).await;
            if !refreshed && error.is_access_token_invalid() && self.refresh_token().is_some() {
                refreshed = true;
                self.refresh_after(token.as_deref()).await?;
                continue;
            }
            return Err(error);
        }
    }

    /// Sends what `build` makes, again (at most [`MAX_ATTEMPTS`] in all) while the server
    /// answers 429 or 503, waiting `Retry-After` or an exponential backoff in between.
    async fn execute(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response> {
        let mut attempt = 1;
        loop {
            let response = build().send().await?;
            let status = response.status().as_u16();
            if (status == 429 || status == 503)
                && attempt < MAX_ATTEMPTS
                && !waits_too_long(response.headers())
            {
                tokio::time::sleep(retry_delay(response.headers(), attempt)).await;
                attempt += 1;
                continue;
            }
            return Ok(response);
        }
    }

    async fn call<Req: Serialize + ?Sized, Resp: DeserializeOwned>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<Resp> {
        decode(self.send(path, request).await?).await
    }

    async fn call_without_answer<Req: Serialize + ?Sized>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<()> {
        self.send(path, request).await.map(drop)
    }
}

/// Whether the server asks for a longer wait than a retry would make (a locked-out login
/// says minutes): then the refusal is the answer.
fn waits_too_long(headers: &reqwest::header::HeaderMap) -> bool {
    retry_after(headers).is_some_and(|wait| wait > MAX_DELAY)
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Why a request got no answer, said so that a person knows what to fix: the server URL
/// without a scheme, the address that refused the connection, the name that did not resolve.
fn describe_transport(error: &reqwest::Error) -> String {
    if error.is_builder() {
        return match error.url() {
            Some(url) if !matches!(url.scheme(), "http" | "https") => {
                format!("the server URL needs http:// or https:// (got {url})")
            }
            _ => format!(
                "the server URL is not valid ({}); it looks like http://host:port",
                innermost_cause(error)
            ),
        };
    }
    let target = error
        .url()
        .map(|url| {
            let host = url.host_str().unwrap_or_default();
            match url.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            }
        })
        .unwrap_or_else(|| "the server".to_owned());
    if error.is_connect() {
        if io_error_kind(error) == Some(std::io::ErrorKind::ConnectionRefused) {
            return format!("connection refused by {target}: is the server running there?");
        }
        return format!("cannot connect to {target}: {}", innermost_cause(error));
    }
    if error.is_timeout() {
        return format!("{target} did not answer in time");
    }
    format!("talking to {target}: {}", innermost_cause(error))
}

/// The kind of the I/O error somewhere in `error`'s chain of causes.
fn io_error_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cause = e.source();
    }
    None
}

/// The message of the deepest cause: the one that says what actually went wrong.
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

/// How long to wait before attempt `attempt + 1`: `Retry-After` seconds when the server sent
/// them, else `BASE_DELAY` doubled per attempt made; never more than `MAX_DELAY`.
fn retry_delay(headers: &reqwest::header::HeaderMap, attempt: u32) -> Duration {
    retry_after(headers)
        .unwrap_or_else(|| BASE_DELAY.saturating_mul(1 << (attempt - 1).min(16)))
        .min(MAX_DELAY)
}

/// The items of every page from `start` on, as a stream: `fetch` gets a page by its marker,
/// `split` takes its items and `next_marker` apart; an empty marker ends it.
fn item_stream<'a, P, T, F, Fut>(
    start: Option<String>,
    fetch: F,
    split: fn(P) -> (Vec<T>, String),
) -> impl Stream<Item = Result<T>> + 'a
where
    P: 'a,
    T: 'a,
    F: FnMut(Option<String>) -> Fut + 'a,
    Fut: Future<Output = Result<P>> + 'a,
{
    // The state: the fetcher, and the marker of the next page (`None` once there is none).
    let pages = stream::try_unfold((fetch, Some(start)), move |(mut fetch, next)| async move {
        let Some(marker) = next else {
            return Ok::<_, Error>(None);
        };
        let (items, next_marker) = split(fetch(marker).await?);
        let next = (!next_marker.is_empty()).then_some(Some(next_marker));
        Ok(Some((items, (fetch, next))))
    });
    pages
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
}

/// Fetches pages from `start` on, folding each into the accumulator with `absorb` (which
/// answers the page's `next_marker`), until a page ends the listing with an empty marker.
async fn collect_pages<A, P, F, Fut>(
    start: Option<String>,
    mut fetch: F,
    mut absorb: impl FnMut(&mut A, P) -> String,
) -> Result<A>
where
    A: Default,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<P>>,
{
    let mut all = A::default();
    let mut marker = start;
    loop {
        let page = fetch(marker).await?;
        let next = absorb(&mut all, page);
        if next.is_empty() {
            return Ok(all);
        }
        marker = Some(next);
    }
}

fn absorb_members(all: &mut GroupMembers, page: ListGroupMemberResponse) -> String {
    all.users.extend(page.user_items);
    all.groups.extend(page.group_items);
    page.next_marker
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    if !response.status().is_success() {
        return Err(error_of(response).await);
    }
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|_| Error::Unexpected {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

async fn error_of(response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let header_id = response
        .headers()
        .get("x-ca-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    match response.bytes().await {
        Ok(bytes) => match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Error::Api {
                status,
                code: body.code,
                message: body.message,
                request_id: if body.request_id.is_empty() {
                    header_id
                } else {
                    body.request_id
                },
            },
            Err(_) => Error::Unexpected {
                status,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            },
        },
        Err(e) => Error::Transport(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::TcpListener;

    /// A server answering each connection with the next canned `(status, extra headers,
    /// body)`, counting the requests it read.
    async fn canned(answers: Vec<(u16, &'static str, &'static str)>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            for (status, headers, body) in answers {
                let (socket, _) = listener.accept().await.unwrap();
                read_request(&socket).await;
                seen.fetch_add(1, Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     connection: close\r\ncontent-length: {}\r\n{headers}\r\n{body}",
                    body.len()
                );
                write_all(&socket, answer.as_bytes()).await;
            }
        });
        (address, count)
    }

    async fn read_request(socket: &tokio::net::TcpStream) {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            socket.readable().await.unwrap();
            let n = match socket.try_read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            };
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length {
                    return;
                }
            }
            if n == 0 {
                return;
            }
        }
    }

    /// Without tokio's `io-util`: the readiness API.
    async fn write_all(socket: &tokio::net::TcpStream, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            socket.writable().await.unwrap();
            match socket.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
    }

    const EMPTY_PAGE: &str = r#"{"items":[],"next_marker":""}"#;
    const BUSY: &str = r#"{"code":"TooManyRequests","message":"slow down"}"#;

    #[tokio::test]
    async fn a_503_is_retried_after_retry_after() {
        let (url, count) = canned(vec![
            (503, "retry-after: 0\r\n", BUSY),
            (429, "retry-after: 0\r\n", BUSY),
            (200, "", EMPTY_PAGE),
        ])
        .await;
        let page = Client::new(url)
            .list_users(&Default::default())
            .await
            .unwrap();
        assert!(page.items.is_empty());
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn retries_stop_after_three_attempts() {
        let busy = (429, "retry-after: 0\r\n", BUSY);
        let (url, count) = canned(vec![busy, busy, busy, (200, "", EMPTY_PAGE)]).await;
        let err = Client::new(url)
            .list_users(&Default::default())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.code(), Some("TooManyRequests"));
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let failed = r#"{"code":"InternalError","message":"boom","request_id":"r1"}"#;
        let (url, count) = canned(vec![(500, "", failed), (200, "", EMPTY_PAGE)]).await;
        let err = Client::new(url)
            .list_users(&Default::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Api { status: 500, ref request_id, .. } if request_id == "r1")
        );
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refused_token_without_refresh_token_is_not_retried() {
        let refused = r#"{"code":"AccessTokenInvalid","message":"AccessToken is invalid."}"#;
        let (url, count) = canned(vec![(401, "", refused), (200, "", EMPTY_PAGE)]).await;
        let err = Client::with_token(url, "stale")
            .list_users(&Default::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("AccessTokenInvalid"));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_delay_honours_retry_after_within_the_cap() {
        let none = HeaderMap::new();
        assert_eq!(retry_delay(&none, 1), Duration::from_millis(250));
        assert_eq!(retry_delay(&none, 2), Duration::from_millis(500));
        assert_eq!(retry_delay(&none, 30), MAX_DELAY);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_delay(&headers, 1), Duration::from_secs(2));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_delay(&headers, 1), MAX_DELAY);
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_delay(&headers, 1), Duration::from_millis(250));
    }
}
