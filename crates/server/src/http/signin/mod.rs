//! The pages people use: sign in, consent, their account, sign out; and `/v2/oauth/authorize`,
//! which leads through them (rules in `service::authorization` and `service::sessions`).
//!
//! Pages are askama templates compiled into the binary (`templates/signin/`, all extending
//! `base.html`), one stylesheet embedded (`/assets/signin.css`), no script. English or
//! Simplified Chinese by `Accept-Language` ([`texts`]). Every form is checked twice against
//! cross-site requests ([`same_origin`]: `Sec-Fetch-Site` and `Origin`; and a form token: the
//! session's, or before sign-in a double-submit cookie). [`PageContext`] (the domain, the
//! language, the browser's session) is the extractor later pages (the console) reuse.

mod authorize;
mod selfservice;
mod texts;

use crate::audit::Trail;
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub use texts::Texts;

use super::AppState;
use crate::error::Error;
use crate::service::sessions::SigninSession;

/// The session cookie: the session's random id.
pub const SESSION_COOKIE: &str = "roster_session";
/// Before sign-in, the form token's double-submit cookie.
const FORM_COOKIE: &str = "roster_form";

/// A path of this site to go on to after sign-in (the console page a browser asked for):
/// `/` then no second `/` or `\` (which a browser reads as another host), printable ASCII,
/// bounded; anything else is none (no open redirect).
pub fn local_return_path(value: &str) -> Option<String> {
    let ok = value.len() <= 1024
        && value.starts_with('/')
        && !value[1..].starts_with(['/', '\\'])
        && value.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then(|| value.to_owned())
}

/// What the pages load: this server's stylesheet and images, no script, no framing.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/oauth/authorize",
            get(authorize::authorize).post(authorize::consent),
        )
        .route("/signin", get(signin_page).post(authorize::sign_in))
        .route("/account", get(account_page))
        .route("/account/profile", post(selfservice::update_profile))
        .route(
            "/password",
            get(selfservice::password_page).post(selfservice::change_password),
        )
        .route(
            "/forgot",
            get(selfservice::forgot_page).post(selfservice::forgot),
        )
        .route(
            "/reset",
            get(selfservice::reset_page).post(selfservice::reset),
        )
        .route("/signout", post(sign_out))
        .route("/assets/signin.css", get(stylesheet))
}

/// `/v2/oauth/authorize` in `/openapi.json`: PDS's `Authorize` (GET, which answers with a
/// page or a redirect) and the consent form's post. Written by hand like the operational
/// paths: the handlers read the raw query (a parameter given twice is refused), which
/// utoipa's derive cannot describe.
pub fn openapi_paths() -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let text = |description: &str| {
        json!({ "description": description,
                "content": { "text/html": { "schema": { "type": "string" } } } })
    };
    let redirect = |description: &str| {
        json!({ "description": description,
                "headers": { "Location": { "required": true,
                                           "schema": { "type": "string", "format": "uri" } } } })
    };
    let query = |name: &str, required: bool, schema: serde_json::Value, about: &str| {
        json!({ "name": name, "in": "query", "required": required, "schema": schema,
                "description": about })
    };
    let string = json!({ "type": "string" });
    let parameters = json!([
        query(
            "client_id",
            true,
            string.clone(),
            "The app's client id (a code-flow app)."
        ),
        query(
            "redirect_uri",
            true,
            string.clone(),
            "One of the app's redirect URIs, exactly (a NativeApp: a loopback one on any port)."
        ),
        query(
            "response_type",
            true,
            json!({ "type": "string", "enum": ["code"] }),
            "`code`."
        ),
        query(
            "login_type",
            false,
            json!({ "type": "string", "enum": ["default"] }),
            "PDS's; `default`."
        ),
        query(
            "scope",
            false,
            string.clone(),
            "Space-separated: openid, profile, email, groups, quota, offline_access."
        ),
        query(
            "state",
            false,
            json!({ "type": "string", "maxLength": 1024 }),
            "Returned with the code or the error."
        ),
        query(
            "hide_consent",
            false,
            json!({ "type": "boolean" }),
            "A trusted app skips the consent page."
        ),
        query(
            "code_challenge",
            false,
            json!({ "type": "string", "minLength": 43, "maxLength": 128 }),
            "PKCE (RFC 7636); required for SinglePageApp and NativeApp."
        ),
        query(
            "code_challenge_method",
            false,
            json!({ "type": "string", "enum": ["S256"] }),
            "Only `S256`."
        ),
        query(
            "nonce",
            false,
            json!({ "type": "string", "maxLength": 1024 }),
            "Copied into the ID token."
        ),
        query(
            "prompt",
            false,
            json!({ "type": "string", "enum": ["none", "login", "consent", "login consent"] }),
            "OpenID Connect's `prompt`."
        ),
        query(
            "max_age",
            false,
            json!({ "type": "integer", "minimum": 0 }),
            "Seconds since sign-in after which the person signs in again."
        ),
    ]);
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/v2/oauth/authorize".into(),
        json!({
            "get": {
                "tags": ["oauth"],
                "summary": "Authorize (authorization code with PKCE, OpenID Connect): the sign-in \
                            and consent pages, then a redirect to the app.",
                "description": "Answers the sign-in page (or, with the browser's sign-in session, \
                    the consent page) for a person, then `302` to `redirect_uri` with `code`, \
                    `state` and `iss` (RFC 9207). An unknown app or an unregistered redirect URI \
                    gets an error page (400), never a redirect; every other refusal goes back to \
                    the app as `error=` with `state`. See docs/signin.md.",
                "security": [],
                "parameters": parameters,
                "responses": {
                    "200": text("The sign-in, consent or change-password page"),
                    "302": redirect("To the app's redirect URI: `code`, `state`, `iss`; or `error`, `state`, `iss`"),
                    "400": text("Unknown app or unregistered redirect URI: an error page"),
                }
            },
            "post": {
                "tags": ["oauth"],
                "summary": "The consent page's answer (a browser form with its CSRF token).",
                "security": [],
                "requestBody": { "required": true, "content": {
                    "application/x-www-form-urlencoded": { "schema": {
                        "type": "object",
                        "properties": {
                            "csrf": { "type": "string" },
                            "q": { "type": "string", "description": "The authorization request's query string" },
                            "decision": { "type": "string", "enum": ["allow", "deny"] }
                        }
                    } } } },
                "responses": {
                    "200": text("The sign-in page (no session)"),
                    "302": redirect("To the app's redirect URI: `code`, or `error=access_denied`"),
                    "400": text("Unknown app, unregistered redirect URI, or no decision"),
                    "403": text("A cross-site form or a missing form token"),
                    "415": {
                        "description": "The body is not a form (`application/x-www-form-urlencoded`)",
                        "content": { "text/plain": { "schema": { "type": "string" } } }
                    },
                }
            }
        }),
    );
    paths
}

/// Who and where a page request is: its domain (by `Host`, else the operator's), the
/// language it is answered in, the issuer (public base URL), and the browser's live sign-in
/// session of that domain, if any.
#[derive(Clone)]
pub struct PageContext {
    pub domain_id: String,
    pub domain_name: String,
    pub t: &'static Texts,
    /// `https://roster.example.com`: `--public-url`, else from `Host`.
    pub issuer: String,
    pub session: Option<SigninSession>,
    /// Cookies get `Secure` (the public URL is https).
    secure: bool,
    /// The pre-sign-in form token the browser holds, if any.
    form_cookie: Option<String>,
    same_origin: bool,
    /// The form token this page's forms carry when a face keeps a session of its own (the
    /// console's), instead of the sign-in session's.
    own_form_token: Option<String>,
    /// The request's audit trail, for the flows a page starts (sign-in, consent, sign-out).
    pub trail: Trail,
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let t = texts::for_request(&parts.headers);
        let failed = |e: Error| message_page(t, "", StatusCode::BAD_REQUEST, t.error_title, &e);
        let host_domain = app.host_domain(&parts.headers).await.map_err(failed)?;
        let domain_id = app
            .services
            .routing
            .login_domain(host_domain.as_deref(), None)
            .map_err(failed)?;
        let issuer = app.public_base(&parts.headers);
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(id) => app
                .services
                .signin_session(&id)
                .await
                .map_err(failed)?
                .filter(|s| s.domain_id == domain_id),
            None => None,
        };
        let domain_name = app
            .services
            .domain_display_name(&domain_id)
            .await
            .map_err(failed)?;
        Ok(PageContext {
            same_origin: same_origin(&parts.headers, &issuer),
            secure: issuer.starts_with("https://"),
            form_cookie: cookie(&parts.headers, FORM_COOKIE),
            own_form_token: None,
            domain_id,
            domain_name,
            t,
            issuer,
            session,
            trail: crate::http::request_trail(&parts.extensions),
        })
    }
}

impl PageContext {
    /// The refusal of a form post that is not from this site, or whose form token is not
    /// the page's own session's (the console's, [`with_own_form_token`](Self::with_own_form_token)),
    /// else the sign-in session's (or, before sign-in, the browser's form cookie); `None`:
    /// accepted.
    pub fn check_form(&self, token: &str) -> Option<Response> {
        let expected = match (&self.own_form_token, &self.session) {
            (Some(own), _) => Some(own.as_str()),
            (None, Some(s)) => Some(s.form_token.as_str()),
            (None, None) => self.form_cookie.as_deref(),
        };
        let token_ok = expected.is_some_and(|e| {
            !token.is_empty()
                && crate::service::authorization::same_bytes(e.as_bytes(), token.as_bytes())
        });
        if self.same_origin && token_ok {
            None
        } else {
            let e = Error::forbidden("cross-site form or missing form token");
            Some(message_page(
                self.t,
                &self.domain_name,
                StatusCode::FORBIDDEN,
                self.t.error_title,
                &e,
            ))
        }
    }

    /// This page with forms that carry `token`, a session's of the face's own (the
    /// console's): [`check_form`](Self::check_form) then takes only it.
    pub fn with_own_form_token(self, token: String) -> PageContext {
        PageContext {
            own_form_token: Some(token),
            ..self
        }
    }

    /// Whether cookies get `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.secure
    }

    /// [`check_form`](Self::check_form) for a form shown before sign-in (sign in, forgot,
    /// reset): its token is the browser's form cookie, so any session the browser has now is
    /// set aside for the rest of the request.
    pub fn check_signed_out_form(&mut self, token: &str) -> Option<Response> {
        self.session = None;
        self.check_form(token)
    }

    /// A `Set-Cookie` value for the session cookie (`None`: clear it).
    pub fn session_cookie(&self, id: Option<&str>) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let value = match id {
            Some(id) => format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}"),
            None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
        };
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The pre-sign-in form token: the browser's, or a new one to set.
    pub(super) fn form_token(&self) -> (String, Option<HeaderValue>) {
        if let Some(token) = self.form_cookie.as_ref().filter(|t| t.len() == 32) {
            return (token.clone(), None);
        }
        let token = crate::service::random_hex(16);
        let secure = if self.secure { "; Secure" } else { "" };
        let value = format!("{FORM_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
        (token, HeaderValue::from_str(&value).ok())
    }
}

/// A form post from this site: `Sec-Fetch-Site` (when the browser sends it) is
/// `same-origin` or `none`, and `Origin` (when sent) is the pages' own origin.
pub fn same_origin(headers: &HeaderMap, issuer: &str) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|s| s != "same-origin" && s != "none") {
        return false;
    }
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => true,
        Some(Ok(origin)) => origin_of(issuer) == origin,
        Some(Err(_)) => false,
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// A cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A rendered page with the pages' headers.
pub fn html(status: StatusCode, page: impl Template) -> Response {
    let body = match page.render() {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = (status, axum::response::Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Template)]
#[template(path = "signin/message.html")]
struct MessagePage<'a> {
    t: &'static Texts,
    domain_name: &'a str,
    title: &'a str,
    message: &'a str,
}

/// A page that says what went wrong, marked for the access and audit logs with `e`.
pub fn message_page(
    t: &'static Texts,
    domain_name: &str,
    status: StatusCode,
    title: &str,
    e: &Error,
) -> Response {
    let message = t.error_sentence(e);
    let mut response = html(
        status,
        MessagePage {
            t,
            domain_name,
            title,
            message: &message,
        },
    );
    super::note_error(&mut response, e.audit_code(), Some(e));
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("signin.css"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "signin/signin.html")]
pub(super) struct SigninPage<'a> {
    t: &'static Texts,
    domain_name: &'a str,
    app_name: &'a str,
    message: &'a str,
    csrf: &'a str,
    q: &'a str,
    username: &'a str,
}

/// The sign-in page, for the authorization request `q` (a query string; empty: none).
pub(super) fn signin_form(
    page: &PageContext,
    status: StatusCode,
    app_name: &str,
    q: &str,
    username: &str,
    message: &str,
) -> Response {
    with_form_token(page, |csrf| {
        html(
            status,
            SigninPage {
                t: page.t,
                domain_name: &page.domain_name,
                app_name,
                message,
                csrf,
                q,
                username,
            },
        )
    })
}

/// A page whose form is posted before sign-in, made by `render` with the browser's form
/// token (a new one, set as its double-submit cookie, when the browser has none).
pub(super) fn with_form_token(
    page: &PageContext,
    render: impl FnOnce(&str) -> Response,
) -> Response {
    let (csrf, set_cookie) = page.form_token();
    let mut response = render(&csrf);
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /signin`: the sign-in page, or the account page for a browser signed in already.
async fn signin_page(page: PageContext) -> Response {
    if page.session.is_some() {
        return Redirect::to("/account").into_response();
    }
    signin_form(&page, StatusCode::OK, "", "", "", "")
}

#[derive(Template)]
#[template(path = "signin/account.html")]
struct AccountPage<'a> {
    t: &'static Texts,
    domain_name: &'a str,
    user_name: &'a str,
    nick_name: &'a str,
    avatar: &'a str,
    notice: &'a str,
    message: &'a str,
    csrf: &'a str,
    /// `(type, identity)` of each logon account.
    accounts: Vec<(String, String)>,
    /// When each session began and was last used (readable), and whether it is this
    /// browser's.
    sessions: Vec<(String, String, bool)>,
}

/// `GET /account`: who is signed in, the profile form, the accounts and sessions, sign out.
/// A user who must change its password is sent to do that first.
async fn account_page(State(app): State<AppState>, page: PageContext) -> Response {
    let Some(session) = &page.session else {
        return Redirect::to("/signin").into_response();
    };
    match app.services.must_change_password(session).await {
        Ok(true) => return Redirect::to("/password").into_response(),
        Ok(false) => {}
        Err(e) => return internal_error(&page, &e),
    }
    account_view(&app, &page, StatusCode::OK, "", "").await
}

fn internal_error(page: &PageContext, e: &Error) -> Response {
    message_page(
        page.t,
        &page.domain_name,
        StatusCode::INTERNAL_SERVER_ERROR,
        page.t.error_title,
        e,
    )
}

/// The account page with a `notice` (something done) or a `message` (something refused).
async fn account_view(
    app: &AppState,
    page: &PageContext,
    status: StatusCode,
    notice: &str,
    message: &str,
) -> Response {
    let Some(session) = &page.session else {
        return Redirect::to("/signin").into_response();
    };
    let shown = async {
        let actor = app
            .services
            .session_actor(session)
            .await?
            .in_request(page.trail.clone());
        let user = app.services.get_user(&actor, None).await?;
        let accounts = app.services.linked_accounts(session).await?;
        let sessions = app.services.signin_sessions(session).await?;
        Ok::<_, Error>((user, accounts, sessions))
    };
    let (user, accounts, sessions) = match shown.await {
        Ok(shown) => shown,
        Err(e) => return internal_error(page, &e),
    };
    let name = if user.nick_name.is_empty() {
        user.user_id.clone()
    } else {
        user.nick_name.clone()
    };
    let t = page.t;
    html(
        status,
        AccountPage {
            t,
            domain_name: &page.domain_name,
            user_name: &name,
            nick_name: &user.nick_name,
            avatar: &user.avatar,
            notice,
            message,
            csrf: &session.form_token,
            accounts,
            sessions: sessions
                .into_iter()
                .map(|s| {
                    (
                        t.date_time(s.created_at),
                        t.date_time(s.last_seen_at),
                        s.current,
                    )
                })
                .collect(),
        },
    )
}

#[derive(Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    everywhere: Option<String>,
}

/// `POST /signout`: ends this browser's session (or, with `everywhere`, every session and
/// token of the user).
async fn sign_out(
    State(app): State<AppState>,
    page: PageContext,
    Form(form): Form<SignOutForm>,
) -> Response {
    let Some(session) = &page.session else {
        return Redirect::to("/signin").into_response();
    };
    if let Some(refused) = page.check_form(&form.csrf) {
        return refused;
    }
    let ended = if form.everywhere.as_deref() == Some("true") {
        app.services.sign_out_everywhere(&page.trail, session).await
    } else {
        app.services.sign_out(&page.trail, session).await
    };
    if let Err(e) = ended {
        return message_page(
            page.t,
            &page.domain_name,
            StatusCode::INTERNAL_SERVER_ERROR,
            page.t.error_title,
            &e,
        );
    }
    let mut response = Redirect::to("/signin").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, page.session_cookie(None));
    response
}

#[cfg(test)]
mod return_path_tests {
    use super::local_return_path;

    #[test]
    fn only_this_sites_paths_are_gone_on_to() {
        for ok in ["/console", "/console/users?q=a%20b&role=admin", "/account"] {
            assert_eq!(local_return_path(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "console",
            "//evil.example/console",
            "/\\evil.example",
            "https://evil.example/",
            "/console/\\x",
            "/console users",
            "/console\r\nSet-Cookie: x=y",
            "/caf\u{e9}",
        ] {
            assert_eq!(local_return_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_return_path(&format!("/{}", "a".repeat(1100))), None);
    }
}
