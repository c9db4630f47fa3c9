//! `roster-client`: a typed async client for Roster's PDS dialect, sharing the wire types of
//! `roster-api`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), roster_client::Error> {
//! use roster_client::{api, Client};
//!
//! let mut client = Client::new("http://127.0.0.1:8080");
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

use api::{
    CreateUserRequest, DeleteUserRequest, ErrorBody, GeneralGetUserRequest,
    GeneralSearchUserRequest, GeneralSearchUserResponse, GetUserRequest, ImportUserRequest,
    ListUserRequest, ListUserResponse, SearchUserRequest, Token, UpdateUserRequest, User,
    UserExtraItem,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

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
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was not the JSON expected.
    #[error("unexpected answer ({status}): {body}")]
    Unexpected { status: u16, body: String },
}

impl Error {
    /// The PDS error code (`NotFound.User`, ...), if the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A connection to one Roster server, optionally logged in.
#[derive(Debug, Clone)]
pub struct Client {
    base_url: String,
    http: reqwest::Client,
    access_token: Option<String>,
    refresh_token: Option<String>,
}

impl Client {
    /// A client for the server at `base_url` (`http://host:port`), not logged in.
    pub fn new(base_url: impl Into<String>) -> Client {
        Client {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            access_token: None,
            refresh_token: None,
        }
    }

    /// A client that calls with an access token obtained elsewhere.
    pub fn with_token(base_url: impl Into<String>, access_token: impl Into<String>) -> Client {
        Client {
            access_token: Some(access_token.into()),
            ..Client::new(base_url)
        }
    }

    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }

    /// Logs in with an account identity and password (OAuth2 password grant).
    pub async fn login(&mut self, username: &str, password: &str) -> Result<Token> {
        self.token_grant(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .await
    }

    /// Exchanges the refresh token of the last login for new tokens.
    pub async fn refresh(&mut self) -> Result<Token> {
        let refresh = self.refresh_token.clone().unwrap_or_default();
        self.token_grant(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await
    }

    async fn token_grant(&mut self, form: &[(&str, &str)]) -> Result<Token> {
        let response = self
            .http
            .post(format!("{}/v2/oauth/token", self.base_url))
            .form(form)
            .send()
            .await?;
        let token: Token = decode(response).await?;
        self.access_token = Some(token.access_token.clone());
        self.refresh_token = Some(token.refresh_token.clone());
        Ok(token)
    }

    pub async fn create_user(&self, request: &CreateUserRequest) -> Result<User> {
        self.call("/v2/user/create", request).await
    }

    pub async fn get_user(&self, request: &GetUserRequest) -> Result<User> {
        self.call("/v2/user/get", request).await
    }

    pub async fn update_user(&self, request: &UpdateUserRequest) -> Result<User> {
        self.call("/v2/user/update", request).await
    }

    pub async fn delete_user(&self, request: &DeleteUserRequest) -> Result<()> {
        self.call_without_answer("/v2/user/delete", request).await
    }

    pub async fn list_users(&self, request: &ListUserRequest) -> Result<ListUserResponse> {
        self.call("/v2/user/list", request).await
    }

    pub async fn search_users(&self, request: &SearchUserRequest) -> Result<ListUserResponse> {
        self.call("/v2/user/search", request).await
    }

    pub async fn import_user(&self, request: &ImportUserRequest) -> Result<User> {
        self.call("/v2/user/import", request).await
    }

    pub async fn general_get_user(&self, request: &GeneralGetUserRequest) -> Result<UserExtraItem> {
        self.call("/v2/user/general_get", request).await
    }

    pub async fn general_search_users(
        &self,
        request: &GeneralSearchUserRequest,
    ) -> Result<GeneralSearchUserResponse> {
        self.call("/v2/user/general_search", request).await
    }

    /// Every user, following `next_marker` to the last page.
    pub async fn list_all_users(&self) -> Result<Vec<User>> {
        let mut users = Vec::new();
        let mut request = ListUserRequest::default();
        loop {
            let page = self.list_users(&request).await?;
            users.extend(page.items);
            if page.next_marker.is_empty() {
                return Ok(users);
            }
            request.marker = Some(page.next_marker);
        }
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.post(format!("{}{path}", self.base_url));
        match &self.access_token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn call<Req: Serialize + ?Sized, Resp: DeserializeOwned>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<Resp> {
        decode(self.post(path).json(request).send().await?).await
    }

    async fn call_without_answer<Req: Serialize + ?Sized>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<()> {
        let response = self.post(path).json(request).send().await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }
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
