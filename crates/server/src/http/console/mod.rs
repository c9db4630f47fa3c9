//! The admin console at `/console` (issue 20): server-rendered pages (askama templates in
//! `templates/console/`, extending the sign-in pages' look), one embedded stylesheet, no
//! script. Operators sign in through the hosted sign-in as a first-party app (authorization
//! code + PKCE, [`session`]); the console keeps the tokens in HttpOnly cookies and admits
//! them on every request as the API admits a bearer token, and every action calls the same
//! service function as the API, with the same caller, so permission rules and audit records
//! are the API's. Forms are checked against cross-site posts by [`PageContext::check_form`]
//! (`Sec-Fetch-Site`/`Origin` and the console session's form token).
//!
//! Wire ↔ service translation (form fields to service requests) lives in [`forms`].

mod apps;
mod audit;
mod domain;
mod drives;
mod forms;
mod groups;
mod overview;
mod session;
mod texts;
mod user_tasks;
mod users;
mod users_csv;

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::signin::{html, message_page, PageContext};
use super::AppState;
use crate::error::Error;
use crate::service::console::ConsoleScope;
use crate::service::Actor;
use texts::ConsoleTexts;

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/console/users", get(users::list))
        .route(
            "/console/users/new",
            get(users::new_form).post(users::create),
        )
        .route(
            "/console/users/{user_id}",
            get(users::show).post(users::edit),
        )
        .route("/console/users/{user_id}/action", post(users::action))
        .route("/console/groups", get(groups::level))
        .route("/console/groups/action", post(groups::action))
        .route("/console/drives", get(drives::list))
        .route("/console/drives/action", post(drives::action))
        .route("/console/audit", get(audit::list))
        .route("/console/audit/export", get(audit::export))
        .route("/console/outbox", get(audit::outbox))
        .route("/console/assets/console.css", get(stylesheet))
        // User tasks, CSV, console sign-in
        .route("/console/users/{user_id}/task", post(user_tasks::task))
        .route(
            "/console/users/import",
            get(users_csv::import_form)
                .post(users_csv::import)
                .layer(axum::extract::DefaultBodyLimit::max(users_csv::MAX_UPLOAD)),
        )
        .route("/console/users/import/rejects", post(users_csv::rejects))
        .route("/console/users/export", get(users_csv::export))
        // Console sign-in
        .route("/console/callback", get(session::callback))
        .route("/console/signout", post(session::sign_out));
    // Overview, domain, apps
    router
        .route("/console", get(overview::show))
        .route("/console/domain", get(domain::show).post(domain::action))
        .route("/console/apps", get(apps::show))
        .route("/console/apps/action", post(apps::action))
}

/// A signed-in administrator on a console page: the page's context, the caller the services
/// see, and the console's texts. A browser without a console session is sent to sign in
/// (`/v2/oauth/authorize` with the console's app); users without admin permission get a page
/// saying the console is for administrators.
pub struct Operator {
    pub page: PageContext,
    pub actor: Actor,
    /// What the operator sees: the whole domain (admins) or its groups' subtrees.
    pub scope: ConsoleScope,
    pub ct: &'static ConsoleTexts,
    /// The console session's form token, for every form.
    pub csrf: String,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let page = PageContext::from_request_parts(parts, app).await?;
        let ct = ConsoleTexts::for_lang(page.t.lang);
        let (access, refresh) = session::session_tokens(parts);
        let Some(refresh) = refresh else {
            return Err(session::to_sign_in(&page, parts));
        };
        let admitted = app
            .services
            .console_session(&page.trail, &page.domain_id, access.as_deref(), &refresh)
            .await;
        let console = match admitted {
            Ok(console) => console,
            // Expired, ended, locked, or a new password to set first: sign in again (the
            // hosted sign-in asks for the password change).
            Err(Error::Unauthorized(_) | Error::Forbidden(_)) => {
                return Err(session::to_sign_in(&page, parts))
            }
            Err(e) => return Err(failed_page(&page, &e)),
        };
        if let Some(renewed) = &console.renewed {
            // The access token was renewed: the browser keeps the new tokens and asks again
            // (307 repeats a form post with its body).
            let again = parts
                .uri
                .path_and_query()
                .map_or("/console", |p| p.as_str());
            let mut response = if parts.method == axum::http::Method::GET {
                Redirect::to(again).into_response()
            } else {
                Redirect::temporary(again).into_response()
            };
            for cookie in session::session_cookies(&page, renewed)
                .into_iter()
                .flatten()
            {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            return Err(response);
        }
        let actor = crate::http::in_request(console.actor, &parts.extensions);
        crate::http::note_caller(&actor);
        let scope = match app.services.console_scope(&actor).await {
            Ok(scope) => scope,
            Err(e @ Error::Forbidden(_)) => return Err(admins_only(&page, ct, &e)),
            Err(e) => return Err(failed_page(&page, &e)),
        };
        let csrf = console.form_token;
        Ok(Operator {
            page: page.with_own_form_token(csrf.clone()),
            actor,
            scope,
            ct,
            csrf,
        })
    }
}

fn failed_page(page: &PageContext, e: &Error) -> Response {
    message_page(
        page.t,
        &page.domain_name,
        StatusCode::INTERNAL_SERVER_ERROR,
        page.t.error_title,
        e,
    )
}

/// The page a signed-in user without admin permission (and administering no group) gets.
fn admins_only(page: &PageContext, ct: &'static ConsoleTexts, e: &Error) -> Response {
    let mut refused = html(
        StatusCode::FORBIDDEN,
        MessagePage {
            ct,
            lang: page.t.lang,
            domain_name: &page.domain_name,
            title: ct.admins_only_title,
            message: ct.admins_only,
        },
    );
    super::note_error(&mut refused, e.audit_code(), Some(e));
    refused
}

impl Operator {
    /// The page for an error no form field explains.
    pub fn failed(&self, e: &Error) -> Response {
        let status = match e {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::InvalidParameter { .. } | Error::Conflict(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        message_page(
            self.page.t,
            &self.page.domain_name,
            status,
            self.page.t.error_title,
            e,
        )
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    ct: &'static ConsoleTexts,
    lang: &'a str,
    domain_name: &'a str,
    title: &'a str,
    message: &'a str,
}

async fn stylesheet(State(_): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("console.css"),
    )
        .into_response()
}
