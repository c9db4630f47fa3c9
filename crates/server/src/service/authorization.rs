//! The authorization-code flow (PDS `/v2/oauth/authorize`, RFC 6749 §4.1 with PKCE, RFC 7636):
//! which requests are acceptable, when a person must sign in or consent, the single-use
//! codes, and their exchange for tokens (`grant_type=authorization_code`) with client
//! authentication.
//!
//! An unknown app or an unregistered redirect URI is answered on a page, never by a redirect
//! (no open redirect); every other refusal goes back to the app's redirect URI as `error=`
//! with its `state`.

use crate::audit::Trail;
use crate::model::IssuedToken;
use crate::model::{DomainId, UserId};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::apps::{app_type, hash_client_secret, is_loopback, string_list, AppType, KNOWN_SCOPES};
use super::oidc::IdTokenFacts;
use super::sessions::SigninSession;
use super::tokens::require_good_standing;
use super::{random_hex, Services};
use crate::error::{AuthProblem, Error, Result};
use crate::store::apps::AppRow;
use crate::store::signin::AuthorizationCodeRow;

/// How long a code lives.
const CODE_TTL_MS: i64 = 60_000;
/// Longest `state` and `nonce` taken.
const MAX_STATE: usize = 1024;
/// Longest code or PKCE value read.
const MAX_CODE: usize = 128;

/// What an app sent to `/v2/oauth/authorize`, as sent (every field optional).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub login_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub hide_consent: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
}

/// An acceptable authorization request.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub domain_id: String,
    pub client_id: String,
    /// The app's name, for the consent page.
    pub app_name: String,
    trusted: bool,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    state: String,
    code_challenge: String,
    nonce: String,
    hide_consent: bool,
    prompt_none: bool,
    prompt_login: bool,
    prompt_consent: bool,
    /// Seconds since the person signed in, at most.
    max_age: Option<i64>,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    /// Shown to the person, never sent to the app: the app or its redirect URI is unknown.
    Page(PageProblem),
    /// Sent back to the app (its registered redirect URI) as `error=` with its `state`.
    Redirect(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageProblem {
    /// No enabled code-flow app of the domain has this `client_id`.
    UnknownClient,
    /// The `redirect_uri` is missing or not registered for the app.
    BadRedirectUri,
}

/// What the person (or the app) sees next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeStep {
    /// The sign-in page.
    SignIn,
    /// The change-password page: the user must set a new password first.
    ChangePassword,
    /// The consent page.
    Consent,
    /// A redirect to the app: with a code, or an error.
    Redirect(String),
}

/// The code grant's form, as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodeExchange<'a> {
    pub client_id: &'a str,
    /// From `client_secret_basic` or `client_secret_post`.
    pub client_secret: Option<&'a str>,
    pub code: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    /// The issuer (public base URL), for the ID token.
    pub issuer: &'a str,
}

/// `a == b` in time that depends only on the lengths.
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The S256 challenge of a PKCE verifier.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A PKCE verifier or challenge: 43 to 128 unreserved characters (RFC 7636 §4.1).
fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// Whether `requested` is one of the app's redirect URIs: exactly, or, for a `NativeApp`, a
/// registered loopback URI on another port (RFC 8252 §7.3).
fn redirect_registered(app: &AppRow, requested: &str) -> bool {
    let registered = string_list(&app.redirect_uris);
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    if app_type(app) != AppType::NativeApp {
        return false;
    }
    let Ok(mut asked) = url::Url::parse(requested) else {
        return false;
    };
    if asked.scheme() != "http" || !is_loopback(&asked) || asked.set_port(None).is_err() {
        return false;
    }
    registered.iter().any(|r| {
        url::Url::parse(r).is_ok_and(|mut r| {
            r.scheme() == "http" && is_loopback(&r) && r.set_port(None).is_ok() && r == asked
        })
    })
}

/// `uri` with these query parameters added.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
                    query.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

impl Authorization {
    /// The redirect that refuses this request with an OAuth `error`.
    pub fn error_redirect(&self, error: &str, issuer: &str) -> String {
        with_query(
            &self.redirect_uri,
            &[("error", error), ("state", &self.state), ("iss", issuer)],
        )
    }
}

impl Services {
    /// The enabled code-flow app `client_id` of `domain_id`, as the request to `issuer`
    /// sees it: the console's built-in app ([`super::console::console_app`], never stored,
    /// its one redirect URI under `issuer`), else a stored app.
    async fn code_flow_app(
        &self,
        domain_id: &str,
        client_id: &str,
        issuer: &str,
    ) -> Result<Option<AppRow>> {
        if client_id == super::console::CONSOLE_CLIENT_ID {
            return Ok(Some(super::console::console_app(domain_id, issuer)));
        }
        Ok(self
            .store
            .app(&DomainId::from(domain_id), client_id)
            .await?
            .filter(|a| a.status == "enabled" && app_type(a).is_code_flow()))
    }

    /// Checks an authorization request of `domain_id`'s app.
    pub async fn check_authorization(
        &self,
        domain_id: &str,
        p: &AuthorizeParams,
        issuer: &str,
    ) -> Result<std::result::Result<Authorization, AuthorizeRefusal>> {
        use AuthorizeRefusal::{Page, Redirect};
        let client_id = p.client_id.as_deref().unwrap_or_default();
        if client_id.is_empty() || client_id.len() > super::validate::MAX_ID {
            return Ok(Err(Page(PageProblem::UnknownClient)));
        }
        let Some(app) = self.code_flow_app(domain_id, client_id, issuer).await? else {
            return Ok(Err(Page(PageProblem::UnknownClient)));
        };
        let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
        if !redirect_registered(&app, &redirect_uri) {
            return Ok(Err(Page(PageProblem::BadRedirectUri)));
        }
        let state = p.state.clone().unwrap_or_default();
        let refuse = |error: &str| {
            let state = if state.len() > MAX_STATE { "" } else { &state };
            Ok(Err(Redirect(with_query(
                &redirect_uri,
                &[("error", error), ("state", state), ("iss", issuer)],
            ))))
        };
        if p.response_type.as_deref() != Some("code") {
            return refuse("unsupported_response_type");
        }
        if p.login_type.as_deref().is_some_and(|t| t != "default") {
            return refuse("invalid_request");
        }
        let nonce = p.nonce.clone().unwrap_or_default();
        if state.len() > MAX_STATE || nonce.len() > MAX_STATE {
            return refuse("invalid_request");
        }
        let Some(scopes) = requested_scopes(&app, p.scope.as_deref()) else {
            return refuse("invalid_scope");
        };
        let code_challenge = p.code_challenge.clone().unwrap_or_default();
        let method = p.code_challenge_method.as_deref();
        let pkce_ok = match (code_challenge.is_empty(), method) {
            // Public apps must use PKCE; a WebServer app may.
            (true, None) => app_type(&app) == AppType::WebServer,
            (true, Some(_)) => false,
            // Only S256: `plain` would hand the verifier to whoever sees the request.
            (false, Some("S256")) => is_pkce_value(&code_challenge),
            (false, _) => false,
        };
        if !pkce_ok {
            return refuse("invalid_request");
        }
        let mut prompt = (false, false, false);
        for value in p.prompt.as_deref().unwrap_or_default().split(' ') {
            match value {
                "" => {}
                "none" => prompt.0 = true,
                "login" => prompt.1 = true,
                "consent" => prompt.2 = true,
                _ => return refuse("invalid_request"),
            }
        }
        if prompt.0 && (prompt.1 || prompt.2) {
            return refuse("invalid_request");
        }
        let max_age = match p.max_age.as_deref() {
            None | Some("") => None,
            Some(v) => match v.parse::<i64>() {
                Ok(age) if age >= 0 => Some(age),
                _ => return refuse("invalid_request"),
            },
        };
        let hide_consent = match p.hide_consent.as_deref() {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            _ => return refuse("invalid_request"),
        };
        Ok(Ok(Authorization {
            domain_id: domain_id.to_owned(),
            client_id: app.client_id,
            app_name: app.app_name,
            trusted: app.trusted,
            redirect_uri,
            scopes,
            state,
            code_challenge,
            nonce,
            hide_consent,
            prompt_none: prompt.0,
            prompt_login: prompt.1,
            prompt_consent: prompt.2,
            max_age,
        }))
    }

    /// What comes next for an acceptable request, given the browser's sign-in session (of
    /// the request's domain), whether the person signed in on this very request
    /// (`fresh`), and whether it has just consented. Issues the code when nothing is left.
    pub async fn authorization_step(
        &self,
        trail: &Trail,
        auth: &Authorization,
        session: Option<&SigninSession>,
        fresh: bool,
        consented: bool,
        issuer: &str,
    ) -> Result<AuthorizeStep> {
        let now = self.clock.now_ms();
        let session = session.filter(|s| s.domain_id == auth.domain_id);
        let signed_in = session.filter(|s| {
            let young_enough = auth
                .max_age
                .is_none_or(|age| now - s.created_at <= age.saturating_mul(1000));
            (fresh || !auth.prompt_login) && young_enough
        });
        let Some(session) = signed_in else {
            return Ok(if auth.prompt_none {
                AuthorizeStep::Redirect(auth.error_redirect("login_required", issuer))
            } else {
                AuthorizeStep::SignIn
            });
        };
        // An admin's "change the password at next login" comes before any code.
        if self.must_change_password(session).await? {
            return Ok(if auth.prompt_none {
                AuthorizeStep::Redirect(auth.error_redirect("interaction_required", issuer))
            } else {
                AuthorizeStep::ChangePassword
            });
        }
        let skip_consent = auth.trusted && auth.hide_consent && !auth.prompt_consent;
        if !skip_consent && !consented {
            return Ok(if auth.prompt_none {
                AuthorizeStep::Redirect(auth.error_redirect("consent_required", issuer))
            } else {
                AuthorizeStep::Consent
            });
        }
        let code = random_hex(32);
        trail.record(crate::audit::Event {
            domain_id: &auth.domain_id,
            actor_id: &session.user_id,
            action: "oauth.authorize",
            target_type: "app",
            target_id: &auth.client_id,
            detail: serde_json::json!({ "scope": auth.scopes.join(" "), "consented": consented }),
        });
        self.store
            .insert_authorization_code(
                trail,
                AuthorizationCodeRow {
                    code_hash: hash_code(&code),
                    domain_id: auth.domain_id.clone(),
                    client_id: auth.client_id.clone(),
                    user_id: session.user_id.clone(),
                    redirect_uri: auth.redirect_uri.clone(),
                    scope: auth.scopes.join(" "),
                    code_challenge: auth.code_challenge.clone(),
                    nonce: auth.nonce.clone(),
                    auth_time: session.created_at,
                    family_id: random_hex(16),
                    expires_at: now + CODE_TTL_MS,
                    consumed_at: 0,
                },
            )
            .await?;
        Ok(AuthorizeStep::Redirect(with_query(
            &auth.redirect_uri,
            &[("code", &code), ("state", &auth.state), ("iss", issuer)],
        )))
    }

    /// Whether `uri` is one of the enabled code-flow app's redirect URIs (a
    /// `post_logout_redirect_uri`).
    pub async fn is_registered_redirect(
        &self,
        domain_id: &str,
        client_id: &str,
        uri: &str,
    ) -> Result<bool> {
        Ok(self
            .store
            .app(&DomainId::from(domain_id), client_id)
            .await?
            .filter(|a| a.status == "enabled" && app_type(a).is_code_flow())
            .is_some_and(|a| redirect_registered(&a, uri)))
    }

    /// Notes that the person refused the app (the consent page's "deny").
    pub fn authorization_denied(
        &self,
        trail: &Trail,
        auth: &Authorization,
        session: &SigninSession,
    ) {
        trail.record(crate::audit::Event {
            domain_id: &auth.domain_id,
            actor_id: &session.user_id,
            action: "oauth.deny",
            target_type: "app",
            target_id: &auth.client_id,
            detail: serde_json::Value::Null,
        });
    }

    /// The code grant: authenticates the app (`WebServer`: its client secret), then takes the
    /// code once. A code used before is refused, and the tokens its first use issued are
    /// revoked (RFC 6749 §4.1.2).
    pub async fn exchange_code(
        &self,
        trail: &Trail,
        domain_id: &str,
        x: CodeExchange<'_>,
    ) -> Result<IssuedToken> {
        let client = || Error::Unauthorized(AuthProblem::ClientInvalid);
        let grant = || Error::Unauthorized(AuthProblem::GrantInvalid);
        super::validate::required("client_id", x.client_id, super::validate::MAX_ID)?;
        super::validate::required("code", x.code, MAX_CODE)?;
        let app = self
            .code_flow_app(domain_id, x.client_id, x.issuer)
            .await?
            .ok_or_else(client)?;
        if app_type(&app) == AppType::WebServer {
            let secret = x
                .client_secret
                .filter(|s| !s.is_empty())
                .ok_or_else(client)?;
            let given = hash_client_secret(secret);
            if !same_bytes(given.as_bytes(), app.client_secret_hash.as_bytes()) {
                return Err(client());
            }
        }
        let hash = hash_code(x.code);
        let row = self
            .store
            .authorization_code(&hash)
            .await?
            .filter(|c| c.domain_id == domain_id)
            .ok_or_else(grant)?;
        if row.client_id != app.client_id {
            return Err(grant());
        }
        let now = self.clock.now_ms();
        if row.consumed_at > 0 {
            self.revoke_code_family(trail, &row).await?;
            return Err(grant());
        }
        let verifier_ok = match (row.code_challenge.is_empty(), x.code_verifier) {
            (true, None) => true,
            (false, Some(v)) => {
                is_pkce_value(v) && same_bytes(s256(v).as_bytes(), row.code_challenge.as_bytes())
            }
            _ => false,
        };
        if row.expires_at <= now
            || x.redirect_uri.unwrap_or_default() != row.redirect_uri
            || !verifier_ok
        {
            return Err(grant());
        }
        let user = self
            .store
            .user(&DomainId::from(domain_id), &UserId::from(&row.user_id))
            .await?
            .filter(|u| require_good_standing(u, now, grant()).is_ok());
        let Some(user) = user else {
            // Refused, and used up all the same, as an exchange that issued nothing.
            if !self
                .store
                .consume_authorization_code(trail, &hash, now)
                .await?
            {
                self.revoke_code_family(trail, &row).await?;
            }
            return Err(grant());
        };
        let scopes: Vec<&str> = row.scope.split(' ').filter(|s| !s.is_empty()).collect();
        let unsigned = if scopes.contains(&"openid") {
            let facts = IdTokenFacts {
                issuer: x.issuer,
                client_id: &row.client_id,
                nonce: &row.nonce,
                auth_time_ms: row.auth_time,
                scopes: &scopes,
            };
            Some(self.unsigned_id_token(&user, facts).await?)
        } else {
            None
        };
        let session = self.new_session(trail, &user, Some(row.family_id.clone()))?;
        // The ID token is signed while the code is taken and the session's refresh token
        // stored, in one write transaction (as a refresh grant's rotation).
        let id_token = async {
            match unsigned {
                Some(unsigned) => unsigned.sign().await.map(Some),
                None => Ok(None),
            }
        };
        let redeem =
            self.store
                .redeem_authorization_code(trail, &hash, now, session.refresh_row.clone());
        let (id_token, redeemed) = tokio::join!(id_token, redeem);
        if !redeemed? {
            // A concurrent exchange took it first: this is a reuse.
            trail.forget_last();
            self.revoke_code_family(trail, &row).await?;
            return Err(grant());
        }
        if row.client_id == super::console::CONSOLE_CLIENT_ID {
            self.begin_console_session(&row).await?;
        }
        let mut token = self
            .session_answer(user, session)
            .await
            .map_err(|e| match e {
                Error::NotFound(_) | Error::Unauthorized(_) => grant(),
                other => other,
            })?;
        token.scope = Some(row.scope.clone());
        token.id_token = id_token?;
        Ok(token)
    }

    /// A used code came back: whoever holds it may have the tokens of its first use; they go.
    async fn revoke_code_family(&self, trail: &Trail, code: &AuthorizationCodeRow) -> Result<()> {
        trail.record(crate::audit::Event {
            domain_id: &code.domain_id,
            actor_id: &code.user_id,
            action: "token.revoke",
            target_type: "user",
            target_id: &code.user_id,
            detail: serde_json::json!({ "reason": "authorization code reused" }),
        });
        self.store
            .revoke_refresh_family(trail, &DomainId::from(&code.domain_id), &code.family_id)
            .await
    }
}

/// The scopes asked for (space- or comma-separated), each known and allowed to the app (an
/// app that registered none may ask for any); `None` if one is not.
fn requested_scopes(app: &AppRow, scope: Option<&str>) -> Option<Vec<String>> {
    let allowed = string_list(&app.scopes);
    let mut scopes: Vec<String> = Vec::new();
    for s in scope
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|s| !s.is_empty())
    {
        let known = KNOWN_SCOPES.contains(&s);
        if !known || !(allowed.is_empty() || allowed.iter().any(|a| a == s)) {
            return None;
        }
        if !scopes.iter().any(|have| have == s) {
            scopes.push(s.to_owned());
        }
    }
    Some(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(kind: &str, uris: &[&str]) -> AppRow {
        AppRow {
            domain_id: "d".into(),
            client_id: "c".into(),
            app_name: "a".into(),
            algorithm: "RS256".into(),
            public_key: String::new(),
            status: "enabled".into(),
            creator: String::new(),
            created_at: 0,
            updated_at: 0,
            instance_stamp: String::new(),
            app_type: kind.into(),
            redirect_uris: serde_json::to_string(uris).unwrap(),
            scopes: "[\"openid\"]".into(),
            trusted: false,
            client_secret_hash: String::new(),
        }
    }

    #[test]
    fn redirect_uris_match_exactly_except_native_loopback_ports() {
        let web = app(
            "WebServer",
            &["https://a.example/cb", "http://127.0.0.1:8000/cb"],
        );
        assert!(redirect_registered(&web, "https://a.example/cb"));
        assert!(!redirect_registered(&web, "https://a.example/cb/"));
        assert!(!redirect_registered(&web, "https://a.example/cb?x=1"));
        assert!(!redirect_registered(&web, "http://127.0.0.1:9000/cb"));
        let native = app("NativeApp", &["http://127.0.0.1/cb", "com.example.app:/cb"]);
        assert!(redirect_registered(&native, "http://127.0.0.1:53123/cb"));
        assert!(!redirect_registered(
            &native,
            "http://127.0.0.1:53123/other"
        ));
        assert!(!redirect_registered(&native, "https://127.0.0.1:53123/cb"));
        assert!(redirect_registered(&native, "com.example.app:/cb"));
        assert!(!redirect_registered(&native, ""));
    }

    #[test]
    fn scopes_must_be_known_and_allowed() {
        let a = app("WebServer", &[]);
        assert_eq!(
            requested_scopes(&a, Some("openid openid")),
            Some(vec!["openid".to_owned()])
        );
        assert_eq!(requested_scopes(&a, Some("openid email")), None);
        assert_eq!(requested_scopes(&a, None), Some(vec![]));
        let mut any = a.clone();
        any.scopes = "[]".into();
        assert_eq!(
            requested_scopes(&any, Some("openid,email")).unwrap().len(),
            2
        );
        assert_eq!(requested_scopes(&any, Some("admin")), None);
    }

    #[test]
    fn pkce_s256_is_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(is_pkce_value(verifier));
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!is_pkce_value("short"));
        assert!(!is_pkce_value(&"a".repeat(129)));
        assert!(!is_pkce_value(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn constant_time_equality() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"abcd"));
    }
}
