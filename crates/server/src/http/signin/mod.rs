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
        .route("/signout", post(sign_out))
        .route("/assets/signin.css", get(stylesheet))
}

/// Who and where a page request is: its domain (by `Host`, else the operator's), the
/// language it is answered in, the issuer (public base URL), and the browser's live sign-in
/// session of that domain, if any.
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
    /// the session's (or, before sign-in, the browser's form cookie); `None`: accepted.
    pub fn check_form(&self, token: &str) -> Option<Response> {
        let expected = match &self.session {
            Some(s) => Some(s.form_token.as_str()),
            None => self.form_cookie.as_deref(),
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
    fn form_token(&self) -> (String, Option<HeaderValue>) {
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
    let (csrf, set_cookie) = page.form_token();
    let mut response = html(
        status,
        SigninPage {
            t: page.t,
            domain_name: &page.domain_name,
            app_name,
            message,
            csrf: &csrf,
            q,
            username,
        },
    );
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
    csrf: &'a str,
    /// When each session began (UTC), and whether it is this browser's.
    sessions: Vec<(String, bool)>,
}

/// `GET /account`: who is signed in, the sessions, sign out.
async fn account_page(State(app): State<AppState>, page: PageContext) -> Response {
    let Some(session) = &page.session else {
        return Redirect::to("/signin").into_response();
    };
    let failed = |e: Error| {
        message_page(
            page.t,
            &page.domain_name,
            StatusCode::INTERNAL_SERVER_ERROR,
            page.t.error_title,
            &e,
        )
    };
    let shown = async {
        let actor = app
            .services
            .session_actor(session)
            .await?
            .in_request(page.trail.clone());
        let user = app.services.get_user(&actor, None).await?;
        let sessions = app.services.signin_sessions(session).await?;
        Ok::<_, Error>((user, sessions))
    };
    let (user, sessions) = match shown.await {
        Ok(shown) => shown,
        Err(e) => return failed(e),
    };
    let name = if user.nick_name.is_empty() {
        user.user_id.clone()
    } else {
        user.nick_name.clone()
    };
    html(
        StatusCode::OK,
        AccountPage {
            t: page.t,
            domain_name: &page.domain_name,
            user_name: &name,
            csrf: &session.form_token,
            sessions: sessions
                .into_iter()
                .map(|s| {
                    (
                        crate::time_format::rfc3339_s(s.created_at / 1000),
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
