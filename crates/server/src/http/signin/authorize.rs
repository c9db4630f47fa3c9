//! `GET /v2/oauth/authorize` (PDS `Authorize`, OpenID Connect's authorization endpoint), the
//! sign-in form's post and the consent page's post. The authorization request travels
//! between the pages as its query string (`q`, a hidden field) and is checked again on
//! every step.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::{html, message_page, signin_form, PageContext, Texts};
use crate::error::Error;
use crate::http::AppState;
use crate::service::authorization::{
    Authorization, AuthorizeParams, AuthorizeRefusal, AuthorizeStep, PageProblem,
};
use crate::service::sessions::SigninSession;

/// Longest authorization query string taken.
const MAX_QUERY: usize = 8 * 1024;

/// The wire form of an authorization request (a query string) in the services' terms.
/// `scope` may come as `scope` or as PDS's `scope[]`, repeated.
fn params(query: &str) -> AuthorizeParams {
    let mut p = AuthorizeParams::default();
    let mut scopes: Vec<String> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = value.into_owned();
        let slot = match key.as_ref() {
            "client_id" => &mut p.client_id,
            "redirect_uri" => &mut p.redirect_uri,
            "response_type" => &mut p.response_type,
            "login_type" => &mut p.login_type,
            "scope" | "scope[]" => {
                scopes.push(value);
                continue;
            }
            "state" => &mut p.state,
            "hide_consent" => &mut p.hide_consent,
            "code_challenge" => &mut p.code_challenge,
            "code_challenge_method" => &mut p.code_challenge_method,
            "nonce" => &mut p.nonce,
            "prompt" => &mut p.prompt,
            "max_age" => &mut p.max_age,
            _ => continue,
        };
        // A parameter given twice is refused as OAuth says: here, by making it invalid.
        *slot = Some(if slot.is_some() {
            "\u{0}".into()
        } else {
            value
        });
    }
    if !scopes.is_empty() {
        p.scope = Some(scopes.join(" "));
    }
    p
}

/// The request checked, or the answer that refuses it.
async fn checked(
    app: &AppState,
    page: &PageContext,
    query: &str,
) -> Result<Authorization, Response> {
    if query.len() > MAX_QUERY {
        return Err(problem_page(page, PageProblem::BadRedirectUri));
    }
    let checked = app
        .services
        .check_authorization(&page.domain_id, &params(query), &page.issuer)
        .await;
    match checked {
        Ok(Ok(auth)) => Ok(auth),
        Ok(Err(AuthorizeRefusal::Page(problem))) => Err(problem_page(page, problem)),
        Ok(Err(AuthorizeRefusal::Redirect(to))) => Err(found(&to)),
        Err(e) => Err(failed(page, &e)),
    }
}

fn problem_page(page: &PageContext, problem: PageProblem) -> Response {
    let t: &Texts = page.t;
    let (message, code) = match problem {
        PageProblem::UnknownClient => (t.unknown_client(), "invalid_client"),
        PageProblem::BadRedirectUri => (t.bad_redirect_uri(), "invalid_redirect_uri"),
    };
    let mut response = html(
        StatusCode::BAD_REQUEST,
        super::MessagePage {
            t,
            domain_name: &page.domain_name,
            title: t.error_title,
            message,
        },
    );
    crate::http::note_error(&mut response, code, None);
    response
}

fn failed(page: &PageContext, e: &Error) -> Response {
    message_page(
        page.t,
        &page.domain_name,
        StatusCode::INTERNAL_SERVER_ERROR,
        page.t.error_title,
        e,
    )
}

#[derive(Template)]
#[template(path = "signin/consent.html")]
struct ConsentPage<'a> {
    t: &'static Texts,
    domain_name: &'a str,
    app_name: &'a str,
    scopes: &'a [String],
    user_name: &'a str,
    csrf: &'a str,
    q: &'a str,
}

/// The answer for the next step of an acceptable request.
async fn next_step(
    app: &AppState,
    page: &PageContext,
    auth: &Authorization,
    query: &str,
    session: Option<&SigninSession>,
    fresh: bool,
    consented: bool,
) -> Response {
    let step = app
        .services
        .authorization_step(&page.trail, auth, session, fresh, consented, &page.issuer)
        .await;
    match step {
        Ok(AuthorizeStep::SignIn) => {
            signin_form(page, StatusCode::OK, &auth.app_name, query, "", "")
        }
        Ok(AuthorizeStep::ChangePassword) => {
            // The page's form token is the session's: the browser's may be the one just made.
            let page = PageContext {
                session: session.cloned(),
                ..page.clone()
            };
            super::selfservice::password_form(app, &page, StatusCode::OK, query, "").await
        }
        Ok(AuthorizeStep::Consent) => {
            let Some(session) = session else {
                return signin_form(page, StatusCode::OK, &auth.app_name, query, "", "");
            };
            html(
                StatusCode::OK,
                ConsentPage {
                    t: page.t,
                    domain_name: &page.domain_name,
                    app_name: &auth.app_name,
                    scopes: &auth.scopes,
                    user_name: &session.user_id,
                    csrf: &session.form_token,
                    q: query,
                },
            )
        }
        Ok(AuthorizeStep::Redirect(to)) => found(&to),
        Err(e) => failed(page, &e),
    }
}

/// Goes on with the authorization request `query` for a session just (re)started (the
/// forced password change): its next step, or the refusal.
pub(super) async fn go_on(
    app: &AppState,
    page: &PageContext,
    query: &str,
    session: &SigninSession,
) -> Response {
    match checked(app, page, query).await {
        Ok(auth) => next_step(app, page, &auth, query, Some(session), true, false).await,
        Err(answer) => answer,
    }
}

/// `302 Found` to `to`, as PDS's `Authorize` answers.
fn found(to: &str) -> Response {
    match axum::http::HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// `GET /v2/oauth/authorize`.
pub(super) async fn authorize(
    State(app): State<AppState>,
    page: PageContext,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let auth = match checked(&app, &page, &query).await {
        Ok(auth) => auth,
        Err(answer) => return answer,
    };
    next_step(
        &app,
        &page,
        &auth,
        &query,
        page.session.as_ref(),
        false,
        false,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /signin`: checks the password (the API's lockout), starts a session, and goes on
/// with the authorization request the form carried (else to the account page).
pub(super) async fn sign_in(
    State(app): State<AppState>,
    mut page: PageContext,
    Form(form): Form<SignInForm>,
) -> Response {
    if let Some(refused) = page.check_signed_out_form(&form.csrf) {
        return refused;
    }
    let auth = if form.q.is_empty() {
        None
    } else {
        match checked(&app, &page, &form.q).await {
            Ok(auth) => Some(auth),
            Err(answer) => return answer,
        }
    };
    let app_name = auth.as_ref().map_or("", |a| a.app_name.as_str());
    let signed_in = match app
        .services
        .sign_in(&page.trail, &page.domain_id, &form.username, &form.password)
        .await
    {
        Ok(signed_in) => signed_in,
        Err(e) => {
            let status = match &e {
                Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
                Error::Unauthorized(_) | Error::InvalidParameter { .. } => StatusCode::UNAUTHORIZED,
                _ => return failed(&page, &e),
            };
            let message = page.t.error_sentence(&e);
            let mut response =
                signin_form(&page, status, app_name, &form.q, &form.username, &message);
            crate::http::note_error(&mut response, e.audit_code(), Some(&e));
            return response;
        }
    };
    let cookie = page.session_cookie(Some(&signed_in.cookie));
    let mut response = match &auth {
        Some(auth) => {
            next_step(
                &app,
                &page,
                auth,
                &form.q,
                Some(&signed_in.session),
                true,
                false,
            )
            .await
        }
        None if signed_in.must_change_password => Redirect::to("/password").into_response(),
        None => Redirect::to("/account").into_response(),
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

#[derive(Deserialize)]
pub(super) struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    decision: String,
}

/// `POST /v2/oauth/authorize`: the consent page's answer.
pub(super) async fn consent(
    State(app): State<AppState>,
    page: PageContext,
    Form(form): Form<ConsentForm>,
) -> Response {
    let auth = match checked(&app, &page, &form.q).await {
        Ok(auth) => auth,
        Err(answer) => return answer,
    };
    let Some(session) = page.session.as_ref() else {
        return signin_form(&page, StatusCode::OK, &auth.app_name, &form.q, "", "");
    };
    if let Some(refused) = page.check_form(&form.csrf) {
        return refused;
    }
    match form.decision.as_str() {
        "allow" => next_step(&app, &page, &auth, &form.q, Some(session), false, true).await,
        "deny" => {
            app.services
                .authorization_denied(&page.trail, &auth, session);
            found(&auth.error_redirect("access_denied", &page.issuer))
        }
        _ => message_page(
            page.t,
            &page.domain_name,
            StatusCode::BAD_REQUEST,
            page.t.error_title,
            &Error::invalid("decision"),
        ),
    }
}
