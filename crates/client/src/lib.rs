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
//! `Retry-After`).
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

impl Client {
    /// A client for the server at `base_url` (`http://host:port`), not logged in.
    pub fn new(base_url: impl Into<String>) -> Client {
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

    // ---- OAuth ---------------------------------------------------------------------------

    /// Logs in with an account identity and password (OAuth2 password grant); the client keeps
    /// the tokens.
    ///
    /// ```no_run
    /// # async fn demo() -> roster_client::Result<()> {
    /// let client = roster_client::Client::new("http://127.0.0.1:8080");
    /// let token = client.login("admin", "the-admin-password").await?;
    /// println!("logged in as {}", token.user_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login(&self, username: &str, password: &str) -> Result<Token> {
        self.token_grant(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .await
    }

    /// Logs in as a JWT app: exchanges a signed assertion (`iss` = `client_id`) for tokens
    /// (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`); the client keeps the tokens.
    ///
    /// ```no_run
    /// # async fn demo(assertion: &str) -> roster_client::Result<()> {
    /// let client = roster_client::Client::new("http://127.0.0.1:8080");
    /// client.login_with_assertion("my-app", assertion).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login_with_assertion(&self, client_id: &str, assertion: &str) -> Result<Token> {
        self.token_grant(&[
            ("grant_type", JWT_BEARER_GRANT),
            ("client_id", client_id),
            ("assertion", assertion),
        ])
        .await
    }

    /// Exchanges the refresh token held for new tokens.
    pub async fn refresh(&self) -> Result<Token> {
        let _guard = self.refreshing.lock().await;
        self.refresh_unlocked().await
    }

    async fn refresh_unlocked(&self) -> Result<Token> {
        let refresh = self.refresh_token().unwrap_or_default();
        self.token_grant(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await
    }

    /// Refreshes after a call made with `stale` was refused, unless a concurrent call already
    /// did.
    async fn refresh_after(&self, stale: Option<&str>) -> Result<()> {
        let _guard = self.refreshing.lock().await;
        if self.access_token().as_deref() == stale {
            self.refresh_unlocked().await?;
        }
        Ok(())
    }

    async fn token_grant(&self, form: &[(&str, &str)]) -> Result<Token> {
        let url = self.url("/v2/oauth/token");
        let response = self.execute(|| self.http.post(&url).form(form)).await?;
        let token: Token = decode(response).await?;
        self.remember(&token);
        Ok(token)
    }

    fn remember(&self, token: &Token) {
        let mut tokens = self.tokens();
        tokens.access = Some(token.access_token.clone());
        tokens.refresh = Some(token.refresh_token.clone());
    }

    /// Renews tokens with the legacy JSON form of the refresh grant (`/v2/account/token`); the
    /// client keeps the new tokens.
    pub async fn account_token(&self, request: &AccountTokenRequest) -> Result<Token> {
        let token: Token = self.call("/v2/account/token", request).await?;
        self.remember(&token);
        Ok(token)
    }

    /// Revokes a refresh token (legacy PDS logout, `/v2/account/revoke`).
    pub async fn revoke(&self, request: &RevokeRequest) -> Result<()> {
        self.call_without_answer("/v2/account/revoke", request)
            .await
    }

    // ---- Users ---------------------------------------------------------------------------

    /// Creates a user (`/v2/user/create`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let bob = client
    ///     .create_user(&api::CreateUserRequest {
    ///         user_id: "bob".into(),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_user(&self, request: &CreateUserRequest) -> Result<User> {
        self.call("/v2/user/create", request).await
    }

    /// Gets a user (`/v2/user/get`); `user_id` omitted means the caller.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let me = client.get_user(&api::GetUserRequest::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_user(&self, request: &GetUserRequest) -> Result<User> {
        self.call("/v2/user/get", request).await
    }

    /// Updates a user (`/v2/user/update`): only the fields given change.
    pub async fn update_user(&self, request: &UpdateUserRequest) -> Result<User> {
        self.call("/v2/user/update", request).await
    }

    /// Deletes a user (`/v2/user/delete`).
    pub async fn delete_user(&self, request: &DeleteUserRequest) -> Result<()> {
        self.call_without_answer("/v2/user/delete", request).await
    }

    /// One page of users (`/v2/user/list`); see [`Client::all_users`] for every page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let page = client
    ///     .list_users(&api::ListUserRequest {
    ///         limit: Some(10),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("{} users, next marker {:?}", page.items.len(), page.next_marker);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_users(&self, request: &ListUserRequest) -> Result<ListUserResponse> {
        self.call("/v2/user/list", request).await
    }

    /// One page of a user search (`/v2/user/search`).
    pub async fn search_users(&self, request: &SearchUserRequest) -> Result<ListUserResponse> {
        self.call("/v2/user/search", request).await
    }

    /// Creates a user with a logon account (`/v2/user/import`).
    pub async fn import_user(&self, request: &ImportUserRequest) -> Result<User> {
        self.call("/v2/user/import", request).await
    }

    /// Runs up to 100 user or group calls in one request (`/v2/batch`); each answer carries
    /// its call's `id`, HTTP status and body. Consecutive creations are written together,
    /// which makes this the fast path for bulk import.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::batch::{BatchRequest, BatchSubRequest};
    /// let answers = client
    ///     .batch(&BatchRequest {
    ///         resource: "user".into(),
    ///         requests: vec![BatchSubRequest {
    ///             id: "1".into(),
    ///             method: "POST".into(),
    ///             url: "/user/import".into(),
    ///             body: Some(serde_json::json!({
    ///                 "authentication_type": "email",
    ///                 "identity": "ann@example.com",
    ///                 "nick_name": "Ann",
    ///             })),
    ///         }],
    ///     })
    ///     .await?;
    /// assert_eq!(answers.responses[0].id, "1");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn batch(&self, request: &BatchRequest) -> Result<BatchResponse> {
        self.call("/v2/batch", request).await
    }

    /// Gets a user with extra information (`/v2/user/general_get`).
    pub async fn general_get_user(&self, request: &GeneralGetUserRequest) -> Result<UserExtraItem> {
        self.call("/v2/user/general_get", request).await
    }

    /// One page of a user search with extra information (`/v2/user/general_search`).
    pub async fn general_search_users(
        &self,
        request: &GeneralSearchUserRequest,
    ) -> Result<GeneralSearchUserResponse> {
        self.call("/v2/user/general_search", request).await
    }

    /// Every user of the domain, following `next_marker` to the last page.
    pub async fn list_all_users(&self) -> Result<Vec<User>> {
        self.all_users(&ListUserRequest::default()).await
    }

    /// Every user `/v2/user/list` answers, from `request.marker` to the last page, `limit` a
    /// page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let users = client.all_users(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn all_users(&self, request: &ListUserRequest) -> Result<Vec<User>> {
        self.users_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_users`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn users_stream<'a>(
        &'a self,
        request: &ListUserRequest,
    ) -> impl Stream<Item = Result<User>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListUserRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_users(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every user a `/v2/user/search` matches, following `next_marker` to the last page.
    pub async fn search_all_users(&self, request: &SearchUserRequest) -> Result<Vec<User>> {
        self.search_users_stream(request).try_collect().await
    }

    /// The stream form of [`Client::search_all_users`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn search_users_stream<'a>(
        &'a self,
        request: &SearchUserRequest,
    ) -> impl Stream<Item = Result<User>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = SearchUserRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.search_users(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    // ---- Groups and roles ----------------------------------------------------------------

    /// Creates a group (`/v2/group/create`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let sales = client
    ///     .create_group(&api::CreateGroupRequest {
    ///         group_name: "Sales".into(),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_group(&self, request: &CreateGroupRequest) -> Result<Group> {
        self.call("/v2/group/create", request).await
    }

    /// Gets a group (`/v2/group/get`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let group = client
    ///     .get_group(&api::GroupIdRequest { group_id: "g1".into() })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_group(&self, request: &GroupIdRequest) -> Result<Group> {
        self.call("/v2/group/get", request).await
    }

    /// Updates or moves a group (`/v2/group/update`): only the fields given change.
    pub async fn update_group(&self, request: &UpdateGroupRequest) -> Result<Group> {
        self.call("/v2/group/update", request).await
    }

    /// Renames a group (`/v2/group/update_name`, deprecated in PDS).
    pub async fn update_group_name(&self, request: &UpdateGroupNameRequest) -> Result<()> {
        self.call_without_answer("/v2/group/update_name", request)
            .await
    }

    /// Deletes a group (`/v2/group/delete`).
    pub async fn delete_group(&self, request: &GroupIdRequest) -> Result<()> {
        self.call_without_answer("/v2/group/delete", request).await
    }

    /// One page of groups (`/v2/group/list`); see [`Client::all_groups`] for every page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let page = client.list_groups(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_groups(&self, request: &ListGroupRequest) -> Result<ListGroupResponse> {
        self.call("/v2/group/list", request).await
    }

    /// One page of a group search (`/v2/group/search`).
    pub async fn search_groups(&self, request: &SearchGroupRequest) -> Result<ListGroupResponse> {
        self.call("/v2/group/search", request).await
    }

    /// Adds a user or a subgroup to a group (`/v2/group/add_member`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// client
    ///     .add_group_member(&api::GroupMemberRequest {
    ///         group_id: "g1".into(),
    ///         member_type: api::MemberType::User,
    ///         member_id: "alice".into(),
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn add_group_member(&self, request: &GroupMemberRequest) -> Result<()> {
        self.call_without_answer("/v2/group/add_member", request)
            .await
    }

    /// Removes a member from a group (`/v2/group/remove_member`).
    pub async fn remove_group_member(&self, request: &GroupMemberRequest) -> Result<()> {
        self.call_without_answer("/v2/group/remove_member", request)
            .await
    }

    /// One page of a group's members (`/v2/group/list_member`).
    pub async fn list_group_members(
        &self,
        request: &ListGroupMemberRequest,
    ) -> Result<ListGroupMemberResponse> {
        self.call("/v2/group/list_member", request).await
    }

    /// One page of a group's members with extra information (`/v2/user/list_group_user`).
    pub async fn list_group_users(
        &self,
        request: &ListGroupUserRequest,
    ) -> Result<ListGroupMemberResponse> {
        self.call("/v2/user/list_group_user", request).await
    }

    /// Gives an identity a role on a resource (`/v2/role/assign`).
    pub async fn assign_role(&self, request: &AssignRoleRequest) -> Result<()> {
        self.call_without_answer("/v2/role/assign", request).await
    }

    /// Takes a role back (`/v2/role/cancel_assign`).
    pub async fn cancel_assign_role(&self, request: &AssignRoleRequest) -> Result<()> {
        self.call_without_answer("/v2/role/cancel_assign", request)
            .await
    }

    /// One page of the role assignments on a resource (`/v2/role/list_assignment`).
    pub async fn list_assignments(
        &self,
        request: &ListAssignmentRequest,
    ) -> Result<ListAssignmentResponse> {
        self.call("/v2/role/list_assignment", request).await
    }

    /// The roles an identity holds (`/v2/role/list_identity_role`).
    pub async fn list_identity_roles(
        &self,
        request: &ListIdentityRoleRequest,
    ) -> Result<ListIdentityRoleResponse> {
        self.call("/v2/role/list_identity_role", request).await
    }

    /// Every group `/v2/group/list` answers, following `next_marker` to the last page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let groups = client.all_groups(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn all_groups(&self, request: &ListGroupRequest) -> Result<Vec<Group>> {
        self.groups_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_groups`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn groups_stream<'a>(
        &'a self,
        request: &ListGroupRequest,
    ) -> impl Stream<Item = Result<Group>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListGroupRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_groups(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every group a `/v2/group/search` matches, following `next_marker` to the last page.
    pub async fn search_all_groups(&self, request: &SearchGroupRequest) -> Result<Vec<Group>> {
        self.search_groups_stream(request).try_collect().await
    }

    /// The stream form of [`Client::search_all_groups`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn search_groups_stream<'a>(
        &'a self,
        request: &SearchGroupRequest,
    ) -> impl Stream<Item = Result<Group>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = SearchGroupRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.search_groups(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every member of a group (`/v2/group/list_member`), following `next_marker` to the last
    /// page.
    pub async fn all_group_members(
        &self,
        request: &ListGroupMemberRequest,
    ) -> Result<GroupMembers> {
        collect_pages(
            request.marker.clone(),
            |marker| {
                let page = ListGroupMemberRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_group_members(&page).await }
            },
            absorb_members,
        )
        .await
    }

    /// Every member `/v2/user/list_group_user` answers, following `next_marker` to the last
    /// page.
    pub async fn all_group_users(&self, request: &ListGroupUserRequest) -> Result<GroupMembers> {
        collect_pages(
            request.marker.clone(),
            |marker| {
                let page = ListGroupUserRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_group_users(&page).await }
            },
            absorb_members,
        )
        .await
    }

    /// Every role assignment on a resource, following `next_marker` to the last page.
    pub async fn all_assignments(
        &self,
        request: &ListAssignmentRequest,
    ) -> Result<Vec<Assignment>> {
        self.assignments_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_assignments`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn assignments_stream<'a>(
        &'a self,
        request: &ListAssignmentRequest,
    ) -> impl Stream<Item = Result<Assignment>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAssignmentRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_assignments(&page).await }
            },
            |page| (page.assignment_list, page.next_marker),
        )
    }

    // ---- Drives --------------------------------------------------------------------------

    /// Creates a drive for a user or a group (`/v2/drive/create`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::drives::{CreateDriveRequest, OwnerType};
    /// let drive = client
    ///     .create_drive(&CreateDriveRequest {
    ///         drive_name: "Alice's files".into(),
    ///         owner: "alice".into(),
    ///         owner_type: OwnerType::User,
    ///         default: Some(true),
    ///         description: None,
    ///         drive_type: None,
    ///         status: None,
    ///         total_size: Some(10 << 30),
    ///         subdomain_id: None,
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_drive(&self, request: &CreateDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/create", request).await
    }

    /// Gets a drive (`/v2/drive/get`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::drives::GetDriveRequest;
    /// let drive = client
    ///     .get_drive(&GetDriveRequest { drive_id: "1".into() })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_drive(&self, request: &GetDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/get", request).await
    }

    /// Gets a user's default drive (`/v2/drive/get_default_drive`; `user_id` omitted: the
    /// caller's).
    pub async fn get_default_drive(&self, request: &GetDefaultDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/get_default_drive", request).await
    }

    /// Updates a drive (`/v2/drive/update`): only the fields given change.
    pub async fn update_drive(&self, request: &UpdateDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/update", request).await
    }

    /// Deletes a drive (`/v2/drive/delete`).
    pub async fn delete_drive(&self, request: &DeleteDriveRequest) -> Result<()> {
        self.call_without_answer("/v2/drive/delete", request).await
    }

    /// One page of the domain's drives, or one owner's (`/v2/drive/list`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let page = client.list_drives(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_drives(&self, request: &ListDriveRequest) -> Result<ListDriveResponse> {
        self.call("/v2/drive/list", request).await
    }

    /// One page of the caller's drives (`/v2/drive/list_my_drives`).
    pub async fn list_my_drives(&self, request: &ListMyDrivesRequest) -> Result<ListDriveResponse> {
        self.call("/v2/drive/list_my_drives", request).await
    }

    /// One page of a drive search (`/v2/drive/search`).
    pub async fn search_drives(&self, request: &SearchDriveRequest) -> Result<ListDriveResponse> {
        self.call("/v2/drive/search", request).await
    }

    /// Every drive `/v2/drive/list` answers, following `next_marker` to the last page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let drives = client.all_drives(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn all_drives(&self, request: &ListDriveRequest) -> Result<Vec<Drive>> {
        self.drives_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_drives`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn drives_stream<'a>(
        &'a self,
        request: &ListDriveRequest,
    ) -> impl Stream<Item = Result<Drive>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListDriveRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_drives(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every drive of the caller, following `next_marker` to the last page.
    pub async fn all_my_drives(&self, request: &ListMyDrivesRequest) -> Result<Vec<Drive>> {
        self.my_drives_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_my_drives`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn my_drives_stream<'a>(
        &'a self,
        request: &ListMyDrivesRequest,
    ) -> impl Stream<Item = Result<Drive>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListMyDrivesRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_my_drives(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every drive a `/v2/drive/search` matches, following `next_marker` to the last page.
    pub async fn search_all_drives(&self, request: &SearchDriveRequest) -> Result<Vec<Drive>> {
        self.search_drives_stream(request).try_collect().await
    }

    /// The stream form of [`Client::search_all_drives`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn search_drives_stream<'a>(
        &'a self,
        request: &SearchDriveRequest,
    ) -> impl Stream<Item = Result<Drive>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = SearchDriveRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.search_drives(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    // ---- Domains -------------------------------------------------------------------------

    /// Creates a domain or a subdomain with its first superadmin (`/v2/domain/create`).
    pub async fn create_domain(
        &self,
        request: &CreateDomainRequest,
    ) -> Result<CreateDomainResponse> {
        self.call("/v2/domain/create", request).await
    }

    /// Gets a domain (`/v2/domain/get`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::domains::GetDomainRequest;
    /// let domain = client
    ///     .get_domain(&GetDomainRequest {
    ///         domain_id: "default".into(),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_domain(&self, request: &GetDomainRequest) -> Result<Domain> {
        self.call("/v2/domain/get", request).await
    }

    /// Updates a domain (`/v2/domain/update`): only the fields given change.
    pub async fn update_domain(&self, request: &UpdateDomainRequest) -> Result<Domain> {
        self.call("/v2/domain/update", request).await
    }

    /// The caller's domain quotas and their use (`/v2/domain/get_quota`).
    pub async fn get_domain_quota(&self, request: &GetDomainQuotaRequest) -> Result<DomainQuota> {
        self.call("/v2/domain/get_quota", request).await
    }

    /// One page of the domains the caller manages (`/v2/domain/list`).
    pub async fn list_domains(&self, request: &ListDomainRequest) -> Result<ListDomainResponse> {
        self.call("/v2/domain/list", request).await
    }

    /// One page of a domain search by name prefix (`/v2/domain/search`).
    pub async fn search_domains(&self, request: &ListDomainRequest) -> Result<ListDomainResponse> {
        self.call("/v2/domain/search", request).await
    }

    /// Deletes a domain and everything in it (`/v2/domain/delete`, `force: true`).
    pub async fn delete_domain(&self, request: &DeleteDomainRequest) -> Result<()> {
        self.call_without_answer("/v2/domain/delete", request).await
    }

    /// Every domain `/v2/domain/list` answers, following `next_marker` to the last page.
    pub async fn all_domains(&self, request: &ListDomainRequest) -> Result<Vec<Domain>> {
        self.domains_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_domains`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn domains_stream<'a>(
        &'a self,
        request: &ListDomainRequest,
    ) -> impl Stream<Item = Result<Domain>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListDomainRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_domains(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    // ---- Accounts ------------------------------------------------------------------------

    /// Links a logon account to a user (`/v2/account/link`); answers a token for that user,
    /// which the client does not keep.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::{accounts::LinkAccountRequest, AuthenticationType};
    /// client
    ///     .link_account(&LinkAccountRequest {
    ///         kind: AuthenticationType::Email,
    ///         identity: "alice@example.com".into(),
    ///         user_id: "alice".into(),
    ///         extra: None,
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn link_account(&self, request: &LinkAccountRequest) -> Result<Token> {
        self.call("/v2/account/link", request).await
    }

    /// Unlinks a logon account from its user (`/v2/account/unlink`).
    pub async fn unlink_account(&self, request: &LinkAccountRequest) -> Result<()> {
        self.call_without_answer("/v2/account/unlink", request)
            .await
    }

    /// The link of one logon account (`/v2/account/get_link_info`).
    pub async fn get_link_info(&self, request: &LinkInfoRequest) -> Result<AccountLinkInfo> {
        self.call("/v2/account/get_link_info", request).await
    }

    /// Every logon account linked to a user (`/v2/account/get_link_info_by_user_id`).
    pub async fn get_link_info_by_user_id(
        &self,
        request: &LinkInfoByUserIdRequest,
    ) -> Result<LinkInfoListResponse> {
        self.call("/v2/account/get_link_info_by_user_id", request)
            .await
    }

    /// A token for the user a logon account is linked to
    /// (`/v2/account/get_access_token_by_link_info`); the client does not keep it.
    pub async fn get_access_token_by_link_info(&self, request: &LinkInfoRequest) -> Result<Token> {
        self.call("/v2/account/get_access_token_by_link_info", request)
            .await
    }

    /// Changes the caller's own password (`/v2/account/change_password`).
    pub async fn change_password(&self, request: &ChangePasswordRequest) -> Result<()> {
        self.call_without_answer("/v2/account/change_password", request)
            .await
    }

    // ---- Access keys ---------------------------------------------------------------------

    /// Creates an access key pair (`/v2/access_key/create`); the only answer with the secret.
    pub async fn create_access_key(
        &self,
        request: &CreateAccessKeyRequest,
    ) -> Result<CreateAccessKeyResponse> {
        self.call("/v2/access_key/create", request).await
    }

    /// Gets an access key, without its secret (`/v2/access_key/get`).
    pub async fn get_access_key(&self, request: &AccessKeyIdRequest) -> Result<AccessKey> {
        self.call("/v2/access_key/get", request).await
    }

    /// One page of access keys (`/v2/access_key/list`).
    pub async fn list_access_keys(
        &self,
        request: &ListAccessKeyRequest,
    ) -> Result<ListAccessKeyResponse> {
        self.call("/v2/access_key/list", request).await
    }

    /// One page of the domain's audit log (`/v2/audit_log/list`, admin).
    pub async fn list_audit_log(
        &self,
        request: &ListAuditLogRequest,
    ) -> Result<ListAuditLogResponse> {
        self.call("/v2/audit_log/list", request).await
    }

    /// Every matching audit record, page after page.
    pub async fn all_audit_log(&self, request: &ListAuditLogRequest) -> Result<Vec<AuditLog>> {
        self.audit_log_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_audit_log`].
    pub fn audit_log_stream<'a>(
        &'a self,
        request: &ListAuditLogRequest,
    ) -> impl Stream<Item = Result<AuditLog>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAuditLogRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_audit_log(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Starts an export of the audit log (`/v2/audit_log/export`, admin).
    pub async fn export_audit_log(
        &self,
        request: &AuditLogExportRequest,
    ) -> Result<AuditLogExportResponse> {
        self.call("/v2/audit_log/export", request).await
    }

    /// The state of an asynchronous task (`/v2/async_task/get`).
    pub async fn async_task(&self, request: &GetAsyncTaskRequest) -> Result<AsyncTask> {
        self.call("/v2/async_task/get", request).await
    }

    /// Exports the matching audit log and downloads it: the CSV text.
    pub async fn download_audit_log(&self, request: &AuditLogExportRequest) -> Result<String> {
        let task = self.export_audit_log(request).await?;
        let url = self.url(&format!(
            "/v2/audit_log/download?async_task_id={}",
            task.async_task_id
        ));
        let token = self.access_token();
        let response = self
            .execute(|| {
                let builder = self.http.get(&url);
                match &token {
                    Some(token) => builder.bearer_auth(token),
                    None => builder,
                }
            })
            .await?;
        if !response.status().is_success() {
            return Err(error_of(response).await);
        }
        Ok(response.text().await?)
    }

    /// Enables or disables an access key (`/v2/access_key/update`).
    pub async fn update_access_key(&self, request: &UpdateAccessKeyRequest) -> Result<AccessKey> {
        self.call("/v2/access_key/update", request).await
    }

    /// Deletes an access key (`/v2/access_key/delete`).
    pub async fn delete_access_key(&self, request: &AccessKeyIdRequest) -> Result<()> {
        self.call_without_answer("/v2/access_key/delete", request)
            .await
    }

    /// Every access key `/v2/access_key/list` answers, following `next_marker` to the last
    /// page.
    pub async fn all_access_keys(&self, request: &ListAccessKeyRequest) -> Result<Vec<AccessKey>> {
        self.access_keys_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_access_keys`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn access_keys_stream<'a>(
        &'a self,
        request: &ListAccessKeyRequest,
    ) -> impl Stream<Item = Result<AccessKey>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAccessKeyRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_access_keys(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    // ---- JWT apps ------------------------------------------------------------------------

    /// Registers a JWT app (`/v2/app/create`).
    pub async fn create_app(&self, request: &CreateAppRequest) -> Result<App> {
        self.call("/v2/app/create", request).await
    }

    /// Gets a JWT app (`/v2/app/get`).
    pub async fn get_app(&self, request: &AppIdRequest) -> Result<App> {
        self.call("/v2/app/get", request).await
    }

    /// One page of JWT apps (`/v2/app/list`).
    pub async fn list_apps(&self, request: &ListAppRequest) -> Result<ListAppResponse> {
        self.call("/v2/app/list", request).await
    }

    /// Updates a JWT app (`/v2/app/update`): only the fields given change.
    pub async fn update_app(&self, request: &UpdateAppRequest) -> Result<App> {
        self.call("/v2/app/update", request).await
    }

    /// Deletes a JWT app (`/v2/app/delete`).
    pub async fn delete_app(&self, request: &AppIdRequest) -> Result<()> {
        self.call_without_answer("/v2/app/delete", request).await
    }

    /// Every JWT app, following `next_marker` to the last page.
    pub async fn all_apps(&self, request: &ListAppRequest) -> Result<Vec<App>> {
        self.apps_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_apps`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn apps_stream<'a>(
        &'a self,
        request: &ListAppRequest,
    ) -> impl Stream<Item = Result<App>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAppRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_apps(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
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
