//! The self-service pages: change password (also the forced change an admin asks for with
//! `need_change_password_next_login`), forgot password, reset password (the mailed link),
//! and the profile form of the account page. Rules and audit are the services'.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::{html, message_page, PageContext, Texts};
use crate::error::{Error, ParamProblem};
use crate::http::AppState;

#[derive(Template)]
#[template(path = "signin/notice.html")]
pub(super) struct NoticePage<'a> {
    pub t: &'static Texts,
    pub domain_name: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub link: &'a str,
    pub link_text: &'a str,
}

/// A page that says something went well, with a link to go on.
fn notice(page: &PageContext, title: &str, message: &str, link: &str, link_text: &str) -> Response {
    html(
        StatusCode::OK,
        NoticePage {
            t: page.t,
            domain_name: &page.domain_name,
            title,
            message,
            link,
            link_text,
        },
    )
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

/// The sentence and status of a refused new password (or current one), for the forms.
fn password_refusal(t: &'static Texts, e: &Error) -> Option<(StatusCode, String)> {
    let (status, sentence) = match e {
        Error::InvalidParameter {
            problem: ParamProblem::NotMatch,
            ..
        } => (StatusCode::UNAUTHORIZED, t.wrong_current_password),
        Error::InvalidParameter { name, .. } if name == "old_password" => {
            (StatusCode::UNAUTHORIZED, t.wrong_current_password)
        }
        Error::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, t.password_rule),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, t.change_denied),
        Error::TooManyRequests(_) => {
            return Some((StatusCode::TOO_MANY_REQUESTS, t.error_sentence(e)))
        }
        _ => return None,
    };
    Some((status, sentence.to_owned()))
}

// ---------------------------------------------------------------------------------------
// Change password

#[derive(Template)]
#[template(path = "signin/password.html")]
pub(super) struct PasswordPage<'a> {
    t: &'static Texts,
    domain_name: &'a str,
    user_name: &'a str,
    forced: bool,
    message: &'a str,
    csrf: &'a str,
    q: &'a str,
}

/// The change-password form for the signed-in browser; `q`: the authorization request to
/// go on with afterwards (empty: none).
pub(super) async fn password_form(
    app: &AppState,
    page: &PageContext,
    status: StatusCode,
    q: &str,
    message: &str,
) -> Response {
    let Some(session) = &page.session else {
        return Redirect::to("/signin").into_response();
    };
    let forced = match app.services.must_change_password(session).await {
        Ok(forced) => forced,
        Err(e) => return failed(page, &e),
    };
    html(
        status,
        PasswordPage {
            t: page.t,
            domain_name: &page.domain_name,
            user_name: &session.user_id,
            forced,
            message,
            csrf: &session.form_token,
            q,
        },
    )
}

/// `GET /password`.
pub(super) async fn password_page(State(app): State<AppState>, page: PageContext) -> Response {
    password_form(&app, &page, StatusCode::OK, "", "").await
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// `POST /password`: changes the password (the API's rules, audit and lockout-free check of
/// the current one), gives the browser a new session (the change ends all of the user's),
/// then goes on with the authorization request the form carried, if any.
pub(super) async fn change_password(
    State(app): State<AppState>,
    page: PageContext,
    Form(form): Form<PasswordForm>,
) -> Response {
    let Some(session) = page.session.clone() else {
        return Redirect::to("/signin").into_response();
    };
    if let Some(refused) = page.check_form(&form.csrf) {
        return refused;
    }
    if form.new_password != form.confirm_password {
        let t = page.t;
        return password_form(
            &app,
            &page,
            StatusCode::BAD_REQUEST,
            &form.q,
            t.passwords_differ,
        )
        .await;
    }
    let changed = app
        .services
        .change_password_in_session(
            &page.trail,
            &session,
            &form.old_password,
            &form.new_password,
        )
        .await;
    let signed_in = match changed {
        Ok(signed_in) => signed_in,
        Err(e) => {
            let Some((status, sentence)) = password_refusal(page.t, &e) else {
                return failed(&page, &e);
            };
            let mut response = password_form(&app, &page, status, &form.q, &sentence).await;
            crate::http::note_error(&mut response, e.audit_code(), Some(&e));
            return response;
        }
    };
    let cookie = page.session_cookie(Some(&signed_in.cookie));
    let mut response = if form.q.is_empty() {
        let t = page.t;
        notice(
            &page,
            t.change_password,
            t.password_changed,
            "/account",
            t.my_account,
        )
    } else {
        super::authorize::go_on(&app, &page, &form.q, &signed_in.session).await
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

// ---------------------------------------------------------------------------------------
// Forgot password

#[derive(Template)]
#[template(path = "signin/forgot.html")]
struct ForgotPage<'a> {
    t: &'static Texts,
    domain_name: &'a str,
    message: &'a str,
    csrf: &'a str,
    username: &'a str,
}

fn forgot_form(page: &PageContext, status: StatusCode, username: &str, message: &str) -> Response {
    super::with_form_token(page, |csrf| {
        html(
            status,
            ForgotPage {
                t: page.t,
                domain_name: &page.domain_name,
                message,
                csrf,
                username,
            },
        )
    })
}

/// `GET /forgot`.
pub(super) async fn forgot_page(page: PageContext) -> Response {
    forgot_form(&page, StatusCode::OK, "", "")
}

#[derive(Deserialize)]
pub(super) struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
}

/// `POST /forgot`: mails a reset link if the account exists (the page says the same either
/// way); too many requests for one identity are told with the wait.
pub(super) async fn forgot(
    State(app): State<AppState>,
    mut page: PageContext,
    Form(form): Form<ForgotForm>,
) -> Response {
    if let Some(refused) = page.check_signed_out_form(&form.csrf) {
        return refused;
    }
    let asked = app
        .services
        .request_own_password_reset(&page.trail, &page.domain_id, &form.username)
        .await;
    let t = page.t;
    match asked {
        Ok(()) => notice(
            &page,
            t.forgot_title,
            t.forgot_sent,
            "/signin",
            t.back_to_sign_in,
        ),
        Err(e) => {
            let status = match &e {
                Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
                Error::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
                _ => return failed(&page, &e),
            };
            let sentence = t.error_sentence(&e);
            let mut response = forgot_form(&page, status, &form.username, &sentence);
            crate::http::note_error(&mut response, e.audit_code(), Some(&e));
            response
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reset password (the mailed link)

#[derive(Template)]
#[template(path = "signin/reset.html")]
struct ResetPage<'a> {
    t: &'static Texts,
    domain_name: &'a str,
    message: &'a str,
    csrf: &'a str,
    token: &'a str,
}

fn reset_form(page: &PageContext, status: StatusCode, token: &str, message: &str) -> Response {
    super::with_form_token(page, |csrf| {
        html(
            status,
            ResetPage {
                t: page.t,
                domain_name: &page.domain_name,
                message,
                csrf,
                token,
            },
        )
    })
}

#[derive(Deserialize)]
pub(super) struct ResetQuery {
    #[serde(default)]
    token: String,
}

/// `GET /reset?token=...`: the mailed link's page. The token is checked when the form comes
/// back (a look does not use it up).
pub(super) async fn reset_page(page: PageContext, Query(q): Query<ResetQuery>) -> Response {
    if q.token.is_empty() || q.token.len() > 128 {
        let t = page.t;
        return notice(
            &page,
            t.reset_title,
            t.reset_unusable,
            "/forgot",
            t.forgot_link,
        );
    }
    reset_form(&page, StatusCode::OK, &q.token, "")
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// `POST /reset`: sets the new password with the mailed token (single use; audited as
/// `password.reset`); every session and token of the user ends.
pub(super) async fn reset(
    State(app): State<AppState>,
    mut page: PageContext,
    Form(form): Form<ResetForm>,
) -> Response {
    if let Some(refused) = page.check_signed_out_form(&form.csrf) {
        return refused;
    }
    let t = page.t;
    if form.new_password != form.confirm_password {
        return reset_form(
            &page,
            StatusCode::BAD_REQUEST,
            &form.token,
            t.passwords_differ,
        );
    }
    let done = app
        .services
        .reset_password_with_token(
            &page.trail,
            Some(&page.domain_id),
            &form.token,
            &form.new_password,
        )
        .await;
    match done {
        Ok(()) => notice(&page, t.reset_title, t.reset_done, "/signin", t.sign_in),
        Err(e @ Error::InvalidParameter { .. }) if is_new_password(&e) => {
            let mut response =
                reset_form(&page, StatusCode::BAD_REQUEST, &form.token, t.password_rule);
            crate::http::note_error(&mut response, e.audit_code(), Some(&e));
            response
        }
        Err(e @ (Error::NotFound(_) | Error::InvalidParameter { .. })) => {
            let mut response = notice(
                &page,
                t.reset_title,
                t.reset_unusable,
                "/forgot",
                t.forgot_link,
            );
            *response.status_mut() = StatusCode::BAD_REQUEST;
            crate::http::note_error(&mut response, e.audit_code(), Some(&e));
            response
        }
        Err(e) => failed(&page, &e),
    }
}

fn is_new_password(e: &Error) -> bool {
    matches!(e, Error::InvalidParameter { name, .. } if name == "new_password")
}

// ---------------------------------------------------------------------------------------
// Profile

#[derive(Deserialize)]
pub(super) struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    nick_name: String,
    #[serde(default)]
    avatar: String,
}

/// `POST /account/profile`: the user's nick name and avatar (the users service's rules and
/// its `user.update` audit record).
pub(super) async fn update_profile(
    State(app): State<AppState>,
    page: PageContext,
    Form(form): Form<ProfileForm>,
) -> Response {
    let Some(session) = &page.session else {
        return Redirect::to("/signin").into_response();
    };
    if let Some(refused) = page.check_form(&form.csrf) {
        return refused;
    }
    let saved = app
        .services
        .update_profile_in_session(&page.trail, session, &form.nick_name, &form.avatar)
        .await;
    let t = page.t;
    match saved {
        Ok(()) => super::account_view(&app, &page, StatusCode::OK, t.profile_saved, "").await,
        Err(e) => {
            let (status, sentence) = match &e {
                Error::InvalidParameter { name, .. } if name == "avatar" => {
                    (StatusCode::BAD_REQUEST, t.avatar_rule.to_owned())
                }
                Error::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, t.error_sentence(&e)),
                Error::Forbidden(_) | Error::Unauthorized(_) => {
                    (StatusCode::FORBIDDEN, t.error_sentence(&e))
                }
                _ => return failed(&page, &e),
            };
            let mut response = super::account_view(&app, &page, status, "", &sentence).await;
            crate::http::note_error(&mut response, e.audit_code(), Some(&e));
            response
        }
    }
}
