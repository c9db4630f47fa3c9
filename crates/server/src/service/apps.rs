//! JWT apps: a superadmin registers an app's public key; the app then exchanges assertions it
//! signs (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`) for a user's token, or, with
//! `sub_type: service`, for a domain service token with superadmin rights.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use roster_api::apps::{App, CreateAppRequest, ListAppRequest, ListAppResponse, UpdateAppRequest};
use roster_api::Token;
use serde::Deserialize;

use super::pagination::{encode_marker, finish_page, Page};
use super::users::new_user_row;
use super::{random_hex, validate, Actor, Services};
use crate::error::{AuthProblem, Error, ParamProblem, Resource, Result};
use crate::store::apps::{AppChanges, AppRow};
use crate::store::NewUser;

/// Longest lifetime an assertion may claim: PDS wants them short.
const MAX_ASSERTION_LIFETIME_S: i64 = 3600;
/// Seconds an assertion is still taken after its `exp`, for clocks a little apart.
const ASSERTION_LEEWAY_S: i64 = 60;
/// Longest assertion read (characters), as `/openapi.json` states it.
const MAX_ASSERTION: usize = 16 * 1024;

fn to_api(row: AppRow) -> App {
    App {
        domain_id: row.domain_id,
        client_id: row.client_id,
        app_name: row.app_name,
        algorithm: row.algorithm,
        public_key: row.public_key,
        status: row.status,
        creator: row.creator,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
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
    pub async fn create_app(&self, actor: &Actor, req: CreateAppRequest) -> Result<App> {
        actor.audit("app.create", "app", "");
        require_superadmin(actor)?;
        validate::required("app_name", &req.app_name, validate::MAX_NAME)?;
        let algorithm_name = req.algorithm.unwrap_or_else(|| "RS256".into());
        let alg = algorithm(&algorithm_name)?;
        validate::required("public_key", &req.public_key, 16 * 1024)?;
        if decoding_key(alg, &req.public_key).is_none() {
            return Err(Error::param(ParamProblem::WrongFormat, "public_key"));
        }
        let client_id = req.client_id.unwrap_or_else(|| random_hex(16));
        validate::required("client_id", &client_id, validate::MAX_ID)?;
        let now = self.clock.now_ms();
        let row = AppRow {
            domain_id: actor.domain_id.clone(),
            client_id,
            app_name: req.app_name,
            algorithm: algorithm_name,
            public_key: req.public_key,
            status: "enabled".into(),
            creator: actor.user_id.clone(),
            created_at: now,
            updated_at: now,
            instance_stamp: random_hex(8),
        };
        crate::audit::name_target(&row.client_id);
        self.store.create_app(row.clone()).await?;
        Ok(to_api(row))
    }

    pub async fn get_app(&self, actor: &Actor, client_id: &str) -> Result<App> {
        require_superadmin(actor)?;
        validate::required("client_id", client_id, validate::MAX_ID)?;
        self.store
            .app(&actor.domain_id, client_id)
            .await?
            .map(to_api)
            .ok_or(Error::NotFound(Resource::App))
    }

    pub async fn list_apps(&self, actor: &Actor, req: ListAppRequest) -> Result<ListAppResponse> {
        require_superadmin(actor)?;
        let page = Page::parse(&actor.domain_id, req.limit, req.marker.as_deref())?;
        let after = page.after_for("app")?.map(|(_, id)| id);
        let rows = self
            .store
            .apps(&actor.domain_id, after.as_deref(), page.limit + 1)
            .await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |a| {
            encode_marker(&actor.domain_id, "app", "", &a.client_id)
        });
        Ok(ListAppResponse {
            items: rows.into_iter().map(to_api).collect(),
            next_marker,
        })
    }

    pub async fn update_app(&self, actor: &Actor, req: UpdateAppRequest) -> Result<App> {
        actor.audit("app.update", "app", &req.client_id);
        require_superadmin(actor)?;
        validate::required("client_id", &req.client_id, validate::MAX_ID)?;
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
            .app(&actor.domain_id, &req.client_id)
            .await?
            .ok_or(Error::NotFound(Resource::App))?;
        let alg = algorithm(req.algorithm.as_deref().unwrap_or(&current.algorithm))?;
        let pem = req.public_key.as_deref().unwrap_or(&current.public_key);
        if decoding_key(alg, pem).is_none() {
            return Err(Error::param(ParamProblem::WrongFormat, "public_key"));
        }
        let changes = AppChanges {
            app_name: req.app_name,
            algorithm: req.algorithm,
            public_key: req.public_key,
            status: req.status,
            updated_at: self.clock.now_ms(),
        };
        self.store
            .update_app(&actor.domain_id, &req.client_id, changes)
            .await?
            .map(to_api)
            .ok_or(Error::NotFound(Resource::App))
    }

    pub async fn delete_app(&self, actor: &Actor, client_id: &str) -> Result<()> {
        actor.audit("app.delete", "app", client_id);
        require_superadmin(actor)?;
        validate::required("client_id", client_id, validate::MAX_ID)?;
        if self.store.delete_app(&actor.domain_id, client_id).await? {
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
        host_domain: Option<&str>,
        client_id: &str,
        assertion: &str,
    ) -> Result<Token> {
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
            .app(&domain, client_id)
            .await?
            .filter(|a| a.status == "enabled")
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
                self.ensure_assertion_user(&domain, client_id, &claims)
                    .await?;
                self.issue_tokens(&domain, &claims.sub).await?
            }
            _ => return Err(fail(AuthProblem::AssertionInvalid)),
        };
        self.metrics.token_issued("jwt_bearer");
        Ok(token)
    }

    /// The assertion's user: it must exist, unless the app asked to create it (`auto_create`).
    async fn ensure_assertion_user(
        &self,
        domain: &str,
        client_id: &str,
        claims: &AssertionClaims,
    ) -> Result<()> {
        if self.store.user(domain, &claims.sub).await?.is_some() {
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
            .create_user(NewUser {
                user,
                accounts: Vec::new(),
                password_hash: None,
                group_ids: Vec::new(),
                drive: None,
            })
            .await;
        match created {
            // Another assertion created it in between: as good.
            Ok(_) | Err(Error::AlreadyExists(Resource::User)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
