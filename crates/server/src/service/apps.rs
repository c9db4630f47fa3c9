//! Apps. JWT apps (`ServerSide`): a superadmin registers an app's public key; the app then
//! exchanges assertions it signs (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`) for a
//! user's token, or, with `sub_type: service`, for a domain service token with superadmin
//! rights. Apps of the authorization-code flow (`WebServer`, `SinglePageApp`, `NativeApp`)
//! send people to `/v2/oauth/authorize` (rules in `authorization.rs`).

use crate::audit::Trail;
use crate::model::{DomainId, UserId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::pagination::{encode_marker, finish_page, Page};
use super::users::new_user_row;
use super::{random_hex, validate, Actor, Services};
use crate::error::{AuthProblem, Error, ParamProblem, Resource, Result};
pub use crate::model::AppType;
use crate::model::{AppChanges, AppInfo, IssuedToken, Listed, NewAppSpec};
use crate::store::apps::{AppChanges as StoredAppChanges, AppRow};
use crate::store::NewUser;

/// Longest lifetime an assertion may claim: PDS wants them short.
const MAX_ASSERTION_LIFETIME_S: i64 = 3600;
/// Seconds an assertion is still taken after its `exp`, for clocks a little apart.
const ASSERTION_LEEWAY_S: i64 = 60;
/// Longest assertion read (characters), as `/openapi.json` states it.
const MAX_ASSERTION: usize = 16 * 1024;

/// Longest redirect URI accepted.
const MAX_REDIRECT_URI: usize = 2048;
/// Most redirect URIs (and scopes) an app may register.
const MAX_LIST: usize = 20;

/// The kind of a stored app (`ServerSide` for anything unknown: it then takes no code flow).
pub(crate) fn app_type(row: &AppRow) -> AppType {
    AppType::parse(&row.app_type).unwrap_or(AppType::ServerSide)
}

/// The scopes an app of the code flow may ask for.
pub const KNOWN_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "groups",
    "quota",
    "offline_access",
];

/// A stored JSON list of strings (`[]` if unreadable).
pub(crate) fn string_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// An app as the service answers it, its stored lists read.
fn app_info(row: AppRow, client_secret: Option<String>) -> AppInfo {
    AppInfo {
        kind: app_type(&row),
        redirect_uris: string_list(&row.redirect_uris),
        scopes: string_list(&row.scopes),
        client_secret,
        app: row,
    }
}

/// SHA-256 (hex) of a client secret, as stored.
pub(crate) fn hash_client_secret(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A redirect URI an app of `kind` may register: absolute, no fragment, `https`, or `http`
/// on a loopback host, or (a `NativeApp`) a private-use scheme with a dot (RFC 8252 §7.1).
fn check_redirect_uri(kind: AppType, uri: &str) -> Result<()> {
    let bad = || Error::param(ParamProblem::WrongFormat, "redirect_uris");
    if uri.is_empty() || uri.len() > MAX_REDIRECT_URI {
        return Err(bad());
    }
    let parsed = url::Url::parse(uri).map_err(|_| bad())?;
    if parsed.fragment().is_some() || parsed.cannot_be_a_base() && parsed.scheme() == "http" {
        return Err(bad());
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        scheme if kind == AppType::NativeApp && scheme.contains('.') => Ok(()),
        _ => {
            Err(bad()
                .with_rule("redirect URIs are https, http on loopback, or an app's own scheme"))
        }
    }
}

/// `http://127.0.0.1`, `http://[::1]` or `http://localhost`.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The checked, stored (JSON) forms of an app's redirect URIs and scopes.
fn code_flow_lists(
    kind: AppType,
    redirect_uris: Option<&[String]>,
    scopes: Option<&[String]>,
) -> Result<(Option<String>, Option<String>)> {
    let uris = match redirect_uris {
        Some(uris) => {
            if uris.is_empty() || uris.len() > MAX_LIST {
                return Err(Error::invalid("redirect_uris")
                    .with_rule("a code-flow app has 1 to 20 redirect URIs"));
            }
            for uri in uris {
                check_redirect_uri(kind, uri)?;
            }
            Some(serde_json::to_string(uris).map_err(|e| Error::internal(anyhow::Error::from(e)))?)
        }
        None => None,
    };
    let scopes = match scopes {
        Some(scopes) => {
            if scopes.len() > MAX_LIST || scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str()))
            {
                return Err(Error::invalid("scopes")
                    .with_rule(format!("scopes are among {}", KNOWN_SCOPES.join(", "))));
            }
            Some(
                serde_json::to_string(scopes)
                    .map_err(|e| Error::internal(anyhow::Error::from(e)))?,
            )
        }
        None => None,
    };
    Ok((uris, scopes))
}

fn algorithm(name: &str) -> Result<Algorithm> {
    match name {
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        _ => Err(Error::invalid("algorithm")),
    }
}

/// The key that verifies an app's assertions, from its PEM or its JWK (a JSON object), of
/// the kind its algorithm needs.
fn decoding_key(algorithm: Algorithm, key: &str) -> Option<DecodingKey> {
    if key.trim_start().starts_with('{') {
        let jwk: Jwk = serde_json::from_str(key).ok()?;
        let fits = matches!(
            (algorithm, &jwk.algorithm),
            (Algorithm::RS256, AlgorithmParameters::RSA(_))
                | (Algorithm::ES256, AlgorithmParameters::EllipticCurve(_))
        );
        return fits.then(|| DecodingKey::from_jwk(&jwk).ok()).flatten();
    }
    match algorithm {
        Algorithm::RS256 => DecodingKey::from_rsa_pem(key.as_bytes()).ok(),
        Algorithm::ES256 => DecodingKey::from_ec_pem(key.as_bytes()).ok(),
        _ => None,
    }
}

fn require_superadmin(actor: &Actor) -> Result<()> {
    if actor.is_superadmin() {
        Ok(())
    } else {
        Err(Error::forbidden("a superadmin manages JWT apps"))
    }
}

/// The claims of an app's assertion, as the PDS JWT-app flow defines them.
#[derive(Debug, Deserialize)]
pub(crate) struct AssertionClaims {
    sub: String,
    #[serde(default)]
    sub_type: String,
    aud: String,
    jti: String,
    exp: i64,
    #[serde(default)]
    auto_create: bool,
}

/// The key under which an assertion's `jti` is used once: its own namespace per app
/// instance (domain, client id, instance stamp), apart from every other tenant's and app's,
/// and from the nonces of signed requests. Hashed, so no choice of ids can make two apps'
/// keys meet.
fn jti_key(app: &AppRow, jti: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [&app.domain_id, &app.client_id, &app.instance_stamp] {
        hash.update(part.len().to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.update(jti.as_bytes());
    format!("jti:{}", hex::encode(hash.finalize()))
}

/// An assertion's header and claims before its signature is checked: only to find the app
/// (and domain) whose key then checks it.
pub(crate) fn read_assertion(assertion: &str) -> Result<(jsonwebtoken::Header, AssertionClaims)> {
    let invalid = || Error::Unauthorized(AuthProblem::AssertionInvalid);
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid())?;
    let claims =
        jsonwebtoken::dangerous::insecure_decode_claims(assertion).map_err(|_| invalid())?;
    Ok((header, claims))
}

impl Services {
    pub async fn create_app(&self, actor: &Actor, req: NewAppSpec) -> Result<AppInfo> {
        actor.audit("app.create", "app", "");
        require_superadmin(actor)?;
        validate::required("app_name", &req.app_name, validate::MAX_NAME)?;
        let kind = match req.app_type.as_deref() {
            None => AppType::ServerSide,
            Some(t) => AppType::parse(t).ok_or_else(|| Error::invalid("app_type"))?,
        };
        let algorithm_name = req.algorithm.unwrap_or_else(|| "RS256".into());
        let mut client_secret = None;
        let (redirect_uris, scopes) = if kind.is_code_flow() {
            if !req.public_key.is_empty() {
                return Err(Error::invalid("public_key")
                    .with_rule("only a ServerSide (JWT) app has a public key"));
            }
            let uris = req.redirect_uris.as_deref();
            if uris.is_none() {
                return Err(Error::missing("redirect_uris"));
            }
            if kind == AppType::WebServer {
                client_secret = Some(random_hex(32));
            }
            code_flow_lists(kind, uris, req.scopes.as_deref())?
        } else {
            let alg = algorithm(&algorithm_name)?;
            validate::required("public_key", &req.public_key, 16 * 1024)?;
            if decoding_key(alg, &req.public_key).is_none() {
                return Err(Error::param(ParamProblem::WrongFormat, "public_key"));
            }
            if req.redirect_uris.is_some() {
                return Err(Error::invalid("redirect_uris")
                    .with_rule("a ServerSide (JWT) app takes no redirect URIs"));
            }
            (None, None)
        };
        let client_id = req.client_id.unwrap_or_else(|| random_hex(16));
        validate::required("client_id", &client_id, validate::MAX_ID)?;
        // The console's built-in app has this id in every domain.
        if client_id == super::console::CONSOLE_CLIENT_ID {
            return Err(Error::AlreadyExists(crate::error::Resource::App));
        }
        let now = self.clock.now_ms();
        let row = AppRow {
            domain_id: actor.domain_id.to_string(),
            client_id,
            app_name: req.app_name,
            algorithm: algorithm_name,
            public_key: req.public_key,
            status: "enabled".into(),
            creator: actor.user_id.to_string(),
            created_at: now,
            updated_at: now,
            instance_stamp: random_hex(8),
            app_type: kind.as_str().into(),
            redirect_uris: redirect_uris.unwrap_or_else(|| "[]".into()),
            scopes: scopes.unwrap_or_else(|| "[]".into()),
            trusted: req.trusted.unwrap_or(false),
            client_secret_hash: client_secret
                .as_deref()
                .map(hash_client_secret)
                .unwrap_or_default(),
        };
        actor.trail.name_target(&row.client_id);
        self.store.create_app(&actor.trail, row.clone()).await?;
        Ok(app_info(row, client_secret))
    }

    pub async fn get_app(&self, actor: &Actor, client_id: &str) -> Result<AppInfo> {
        require_superadmin(actor)?;
        validate::required("client_id", client_id, validate::MAX_ID)?;
        self.store
            .app(&actor.domain_id, client_id)
            .await?
            .map(|row| app_info(row, None))
            .ok_or(Error::NotFound(Resource::App))
    }

    pub async fn list_apps(
        &self,
        actor: &Actor,
        limit: Option<i64>,
        marker: Option<&str>,
    ) -> Result<Listed<AppInfo>> {
        require_superadmin(actor)?;
        let page = Page::parse(&actor.domain_id, limit, marker)?;
        let after = page.after_for("app")?.map(|(_, id)| id);
        let rows = self
            .store
            .apps(&actor.domain_id, after.as_deref(), page.limit + 1)
            .await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |a| {
            encode_marker(&actor.domain_id, "app", "", &a.client_id)
        });
        Ok(Listed {
            items: rows.into_iter().map(|row| app_info(row, None)).collect(),
            next_marker,
        })
    }

    pub async fn update_app(
        &self,
        actor: &Actor,
        client_id: &str,
        req: AppChanges,
    ) -> Result<AppInfo> {
        actor.audit("app.update", "app", client_id);
        require_superadmin(actor)?;
        validate::required("client_id", client_id, validate::MAX_ID)?;
        if let Some(name) = &req.app_name {
            validate::required("app_name", name, validate::MAX_NAME)?;
        }
        if let Some(status) = &req.status {
            if !matches!(status.as_str(), "enabled" | "disabled") {
                return Err(Error::invalid("status"));
            }
        }
        let current = self
            .store
            .app(&actor.domain_id, client_id)
            .await?
            .ok_or(Error::NotFound(Resource::App))?;
        let kind = app_type(&current);
        let mut client_secret = None;
        let (redirect_uris, scopes) = if kind.is_code_flow() {
            if req.public_key.is_some() || req.algorithm.is_some() {
                return Err(Error::invalid("public_key")
                    .with_rule("only a ServerSide (JWT) app has a public key"));
            }
            if req.rotate_secret == Some(true) {
                if kind != AppType::WebServer {
                    return Err(Error::invalid("rotate_secret")
                        .with_rule("only a WebServer app has a client secret"));
                }
                client_secret = Some(random_hex(32));
            }
            code_flow_lists(kind, req.redirect_uris.as_deref(), req.scopes.as_deref())?
        } else {
            let alg = algorithm(req.algorithm.as_deref().unwrap_or(&current.algorithm))?;
            let pem = req.public_key.as_deref().unwrap_or(&current.public_key);
            if decoding_key(alg, pem).is_none() {
                return Err(Error::param(ParamProblem::WrongFormat, "public_key"));
            }
            if req.redirect_uris.is_some() || req.scopes.is_some() || req.rotate_secret.is_some() {
                return Err(Error::invalid("redirect_uris")
                    .with_rule("a ServerSide (JWT) app takes no code-flow settings"));
            }
            (None, None)
        };
        let changes = StoredAppChanges {
            app_name: req.app_name,
            algorithm: req.algorithm,
            public_key: req.public_key,
            status: req.status,
            redirect_uris,
            scopes,
            trusted: req.trusted,
            client_secret_hash: client_secret.as_deref().map(hash_client_secret),
            updated_at: self.clock.now_ms(),
        };
        self.store
            .update_app(&actor.trail, &actor.domain_id, client_id, changes)
            .await?
            .map(|row| app_info(row, client_secret))
            .ok_or(Error::NotFound(Resource::App))
    }

    pub async fn delete_app(&self, actor: &Actor, client_id: &str) -> Result<()> {
        actor.audit("app.delete", "app", client_id);
        require_superadmin(actor)?;
        validate::required("client_id", client_id, validate::MAX_ID)?;
        if self
            .store
            .delete_app(&actor.trail, &actor.domain_id, client_id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::App))
        }
    }

    /// The jwt-bearer grant: checks the app's assertion (signature, `iss`, `aud`, `exp`, a
    /// single-use `jti`) and answers a token for its `sub`. The domain is the one the request
    /// names, else the assertion's `aud`, which its signature then vouches for.
    pub async fn login_with_assertion(
        &self,
        trail: &Trail,
        host_domain: Option<&str>,
        client_id: &str,
        assertion: &str,
    ) -> Result<IssuedToken> {
        let fail = |p: AuthProblem| Error::Unauthorized(p);
        validate::required("client_id", client_id, validate::MAX_ID)?;
        validate::required("assertion", assertion, MAX_ASSERTION)?;
        let (header, unverified) = read_assertion(assertion)?;
        // The assertion names its domain; a request naming another refuses it.
        let domain = unverified.aud.clone();
        if !super::tenancy::admits(host_domain, &domain) {
            return Err(fail(AuthProblem::AssertionAudience));
        }
        let app = self
            .store
            .app(&DomainId::from(&domain), client_id)
            .await?
            .filter(|a| a.status == "enabled" && app_type(a) == AppType::ServerSide)
            .ok_or(fail(AuthProblem::AppUnknown))?;
        let alg = algorithm(&app.algorithm).map_err(|_| fail(AuthProblem::AppUnknown))?;
        if header.alg != alg {
            return Err(fail(AuthProblem::AssertionInvalid));
        }
        let key = decoding_key(alg, &app.public_key).ok_or(fail(AuthProblem::AppUnknown))?;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[client_id]);
        validation.set_audience(&[&domain]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked below against the services' clock, not the library's.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => fail(AuthProblem::AssertionExpired),
                ErrorKind::InvalidAudience => fail(AuthProblem::AssertionAudience),
                _ => fail(AuthProblem::AssertionInvalid),
            })?
            .claims;
        let now_s = self.clock.now_s();
        if claims.exp < now_s.saturating_sub(ASSERTION_LEEWAY_S) {
            return Err(fail(AuthProblem::AssertionExpired));
        }
        let jti_ok = (16..=128).contains(&claims.jti.len());
        if !jti_ok || claims.exp - now_s > MAX_ASSERTION_LIFETIME_S {
            return Err(fail(AuthProblem::AssertionInvalid));
        }
        let once = jti_key(&app, &claims.jti);
        let until = (claims.exp + 120) * 1000;
        if !self
            .store
            .use_nonce(&once, until, self.clock.now_ms())
            .await?
        {
            return Err(fail(AuthProblem::AssertionReplayed));
        }
        let token = match claims.sub_type.as_str() {
            "service" if claims.sub == domain => self.issue_service_token(&app)?,
            "user" => {
                self.ensure_assertion_user(trail, &domain, client_id, &claims)
                    .await?;
                self.issue_tokens(trail, &domain, &claims.sub).await?
            }
            _ => return Err(fail(AuthProblem::AssertionInvalid)),
        };
        self.metrics.token_issued("jwt_bearer");
        Ok(token)
    }

    /// The assertion's user: it must exist, unless the app asked to create it (`auto_create`).
    async fn ensure_assertion_user(
        &self,
        trail: &Trail,
        domain: &str,
        client_id: &str,
        claims: &AssertionClaims,
    ) -> Result<()> {
        if self
            .store
            .user(&DomainId::from(domain), &UserId::from(&claims.sub))
            .await?
            .is_some()
        {
            return Ok(());
        }
        if !claims.auto_create || validate::user_id(&claims.sub).is_err() {
            return Err(Error::Unauthorized(AuthProblem::InvalidCredentials));
        }
        let user = new_user_row(
            domain,
            claims.sub.clone(),
            &format!("app:{client_id}"),
            self.clock.now_ms(),
        );
        let created = self
            .store
            .create_user(
                trail,
                NewUser {
                    user,
                    accounts: Vec::new(),
                    password_hash: None,
                    group_ids: Vec::new(),
                    drive: None,
                },
            )
            .await;
        match created {
            // Another assertion created it in between: as good.
            Ok(_) | Err(Error::AlreadyExists(Resource::User)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
