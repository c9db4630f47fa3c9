//! How an operator signs in to the console: as a first-party app of Roster's own hosted
//! sign-in, with the authorization code and PKCE (`service::console`: the built-in app
//! `roster-console`, whose one redirect URI is `/console/callback` under the domain's public
//! base URL).
//!
//! A console page without a console session redirects to `/v2/oauth/authorize` with a fresh
//! state and PKCE challenge; the state's cookie (`roster_console_flow_<state>`, HttpOnly,
//! SameSite=Lax, 10 minutes, path `/console`) keeps the verifier and the page asked for.
//! `/console/callback` takes the code only with that cookie, exchanges it through the token
//! endpoint's service (`exchange_code`, PKCE verified), and keeps the tokens in two
//! HttpOnly cookies (path `/console`, `Secure` under https): the access token, admitted on
//! every console request as the API admits a bearer token, and the refresh token, which
//! renews it and whose family is the session (its sign-out deletes it).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::super::signin::{cookie, html, local_return_path, PageContext};
use super::ConsoleTexts;
use crate::http::AppState;
use crate::model::IssuedToken;
use crate::service::authorization::CodeExchange;
use crate::service::console::{begin_console_sign_in, console_callback, CONSOLE_CLIENT_ID};

/// The console session's access token.
pub(super) const ACCESS_COOKIE: &str = "roster_console";
/// The console session's refresh token.
pub(super) const REFRESH_COOKIE: &str = "roster_console_refresh";
/// A sign-in under way: the prefix of its cookie, named by its state.
const FLOW_COOKIE_PREFIX: &str = "roster_console_flow_";
/// How long a sign-in may take (s).
const FLOW_MAX_AGE_S: u32 = 600;
/// Sign-ins under way a browser keeps at most (older ones are forgotten past this, so
/// navigations to the console cannot pile cookies up).
const MAX_FLOWS: usize = 4;
/// Where the console's cookies are sent.
const COOKIE_PATH: &str = "/console";

/// A `Set-Cookie` value for a console cookie (`None`: clear it).
fn console_cookie(
    page: &PageContext,
    name: &str,
    value: Option<&str>,
    max_age: Option<u32>,
) -> Option<HeaderValue> {
    let secure = if page.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let text = match value {
        Some(value) => {
            let age = max_age.map_or(String::new(), |s| format!("; Max-Age={s}"));
            format!("{name}={value}; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax{age}{secure}")
        }
        None => format!("{name}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).ok()
}

/// Appends `cookies` to `response`.
fn with_cookies(mut response: Response, cookies: Vec<Option<HeaderValue>>) -> Response {
    for cookie in cookies.into_iter().flatten() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The console session's cookies, holding `token`.
pub(super) fn session_cookies(page: &PageContext, token: &IssuedToken) -> Vec<Option<HeaderValue>> {
    vec![
        console_cookie(page, ACCESS_COOKIE, Some(&token.access_token), None),
        console_cookie(page, REFRESH_COOKIE, Some(&token.refresh_token), None),
    ]
}

/// The console session's tokens a request carries: (access, refresh).
pub(super) fn session_tokens(parts: &Parts) -> (Option<String>, Option<String>) {
    (
        cookie(&parts.headers, ACCESS_COOKIE),
        cookie(&parts.headers, REFRESH_COOKIE).filter(|r| !r.is_empty()),
    )
}

/// To `/v2/oauth/authorize` with the console's app, a new state and PKCE challenge, and the
/// state's cookie remembering the verifier and the page asked for (a `GET`'s own path and
/// query; a form post comes back to the console's first page). Any console session the
/// browser held is forgotten.
pub(super) fn to_sign_in(page: &PageContext, parts: &Parts) -> Response {
    let asked = if parts.method == Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or("/console", |p| p.as_str())
    } else {
        "/console"
    };
    let back = local_return_path(asked).unwrap_or_else(|| "/console".to_owned());
    let begun = begin_console_sign_in(&page.issuer);
    let encoded: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    let flow = format!("{}.{encoded}", begun.verifier);
    let mut cookies = vec![
        console_cookie(
            page,
            &format!("{FLOW_COOKIE_PREFIX}{}", begun.state),
            Some(&flow),
            Some(FLOW_MAX_AGE_S),
        ),
        console_cookie(page, ACCESS_COOKIE, None, None),
        console_cookie(page, REFRESH_COOKIE, None, None),
    ];
    let pending = flow_cookie_names(&parts.headers);
    if pending.len() >= MAX_FLOWS {
        cookies.extend(
            pending
                .iter()
                .map(|name| console_cookie(page, name, None, None)),
        );
    }
    with_cookies(Redirect::to(&begun.authorize_path).into_response(), cookies)
}

/// The names of the sign-in cookies a request carries.
fn flow_cookie_names(headers: &axum::http::HeaderMap) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('=').map(|(k, _)| k))
        .filter(|name| name.starts_with(FLOW_COOKIE_PREFIX) && name.len() <= 64)
        .map(str::to_owned)
        .collect()
}

/// What the callback may say, in the page's language.
struct CallbackTexts {
    title: &'static str,
    not_started: &'static str,
    refused: &'static str,
    again: &'static str,
}

const CALLBACK_EN: CallbackTexts = CallbackTexts {
    title: "Sign-in to the console did not finish",
    not_started: "This sign-in was not started in this browser, or took longer than 10 \
                  minutes. Start again from the console.",
    refused: "The sign-in was refused or has expired. Start again from the console.",
    again: "Sign in to the console",
};

const CALLBACK_ZH: CallbackTexts = CallbackTexts {
    title: "控制台登录未完成",
    not_started: "此次登录不是在此浏览器中开始的，或已超过 10 分钟。请从控制台重新开始。",
    refused: "登录被拒绝或已过期。请从控制台重新开始。",
    again: "登录控制台",
};

#[derive(Template)]
#[template(path = "console/signin_problem.html")]
struct ProblemPage<'a> {
    ct: &'static ConsoleTexts,
    lang: &'a str,
    domain_name: &'a str,
    title: &'a str,
    message: &'a str,
    again: &'a str,
}

/// The page of a callback that cannot go on (400), marked with `code` for the logs.
fn problem(
    page: &PageContext,
    code: &str,
    message: impl Fn(&CallbackTexts) -> &'static str,
) -> Response {
    let texts = if page.t.lang == "zh-CN" {
        &CALLBACK_ZH
    } else {
        &CALLBACK_EN
    };
    let mut response = html(
        StatusCode::BAD_REQUEST,
        ProblemPage {
            ct: ConsoleTexts::for_lang(page.t.lang),
            lang: page.t.lang,
            domain_name: &page.domain_name,
            title: texts.title,
            message: message(texts),
            again: texts.again,
        },
    );
    crate::http::note_error(&mut response, code, None);
    response
}

/// `GET /console/callback?code=..&state=..&iss=..` (or `error=..`): the end of a console
/// sign-in.
pub(super) async fn callback(
    State(app): State<AppState>,
    page: PageContext,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let mut code = None;
    let mut state = None;
    let mut iss = None;
    let mut error = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "iss" => &mut iss,
            "error" => &mut error,
            _ => continue,
        };
        // A parameter given twice is not the authorization server's answer.
        *slot = Some(if slot.is_some() {
            String::new()
        } else {
            value.into_owned()
        });
    }
    let state = state
        .filter(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_default();
    let flow_name = format!("{FLOW_COOKIE_PREFIX}{state}");
    let flow = (!state.is_empty())
        .then(|| cookie(&headers, &flow_name))
        .flatten();
    // The flow cookie goes whatever happens: a state is used once.
    let forget_flow = console_cookie(&page, &flow_name, None, None);
    let Some((verifier, back)) = flow.as_deref().and_then(|f| f.split_once('.')) else {
        return with_cookies(
            problem(&page, "invalid_state", |t| t.not_started),
            vec![forget_flow],
        );
    };
    let back = url::form_urlencoded::parse(format!("p={back}").as_bytes())
        .next()
        .and_then(|(_, p)| local_return_path(&p))
        .unwrap_or_else(|| "/console".to_owned());
    // RFC 9207: the answer names the server it came from.
    let from_here = iss.as_deref().is_none_or(|i| i == page.issuer);
    let code = code.filter(|c| !c.is_empty());
    let (Some(code), None, true) = (code, &error, from_here) else {
        return with_cookies(
            problem(&page, "access_denied", |t| t.refused),
            vec![forget_flow],
        );
    };
    let callback_uri = console_callback(&page.issuer);
    let exchange = CodeExchange {
        client_id: CONSOLE_CLIENT_ID,
        client_secret: None,
        code: &code,
        redirect_uri: Some(&callback_uri),
        code_verifier: Some(verifier),
        issuer: &page.issuer,
    };
    match app
        .services
        .exchange_code(&page.trail, &page.domain_id, exchange)
        .await
    {
        Ok(token) => {
            let mut cookies = session_cookies(&page, &token);
            cookies.push(forget_flow);
            with_cookies(Redirect::to(&back).into_response(), cookies)
        }
        Err(e) => {
            let mut refused = problem(&page, "invalid_grant", |t| t.refused);
            crate::http::note_error(&mut refused, e.audit_code(), Some(&e));
            with_cookies(refused, vec![forget_flow])
        }
    }
}

#[derive(Deserialize)]
pub(super) struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/signout`: ends the console session (its refresh-token family: neither its
/// tokens nor its cookies open the console again) and the browser's sign-in session, which
/// would otherwise sign the console straight back in.
pub(super) async fn sign_out(
    State(app): State<AppState>,
    op: super::Operator,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let page = &op.page;
    let refresh = cookie(&headers, REFRESH_COOKIE).unwrap_or_default();
    let ended = async {
        app.services
            .end_console_session(&page.trail, &page.domain_id, &refresh)
            .await?;
        if let Some(session) = &page.session {
            app.services.sign_out(&page.trail, session).await?;
        }
        Ok::<_, crate::error::Error>(())
    };
    if let Err(e) = ended.await {
        return op.failed(&e);
    }
    with_cookies(
        Redirect::to("/signin").into_response(),
        vec![
            console_cookie(page, ACCESS_COOKIE, None, None),
            console_cookie(page, REFRESH_COOKIE, None, None),
            Some(page.session_cookie(None)),
        ],
    )
}
