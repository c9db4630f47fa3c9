//! The OpenID Connect provider: the RS256 key that signs ID tokens (next to the EdDSA key of
//! access tokens, both in `/.well-known/jwks.json`), ID tokens, the claims of a user, and
//! `userinfo`.
//!
//! RS256 keys rotate: each period (`--id-token-key-days`, 30 by default, counted from the
//! epoch) has its own key, made on first use in that period (2048-bit RSA takes a moment)
//! and kept in the store's `signing_keys` table (slot `oidc-rs256@<period>`), so every
//! replica (all with the same setting) signs with the same key and all switch at the same
//! instant. Signing is ring's (the key parsed once per period). The previous period's key stays in
//! the JWKS (and verifies `id_token_hint`s) until the last ID token it signed has expired.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::tokens::{require_good_standing, VerifiedCaller};
use super::{random_hex, Services};
use crate::error::{Error, Result};
use crate::model::{DomainId, UserId};
use crate::store::{SigningKeyRow, UserRow, ID_TOKEN_KEY_SLOT};

/// How long an ID token lives (seconds).
const ID_TOKEN_TTL_S: i64 = 3600;
/// The authentication context of a password sign-in.
pub const ACR_PASSWORD: &str = "urn:roster:acr:password";

/// The ID-token keys this process has loaded, by period.
#[derive(Default)]
pub struct IdTokenKeys {
    loaded: std::sync::Mutex<std::collections::BTreeMap<i64, Arc<IdTokenKey>>>,
    /// One key made at a time in this process (another replica may race: the store keeps
    /// the first).
    making: tokio::sync::Mutex<()>,
}

impl IdTokenKeys {
    fn cached(&self, period: i64) -> Option<Arc<IdTokenKey>> {
        self.loaded.lock().ok()?.get(&period).cloned()
    }

    fn keep(&self, period: i64, key: Arc<IdTokenKey>) {
        if let Ok(mut loaded) = self.loaded.lock() {
            // Only the current and the previous period are ever needed.
            loaded.retain(|p, _| *p >= period - 1);
            loaded.insert(period, key);
        }
    }
}

fn key_slot(period: i64) -> String {
    format!("{ID_TOKEN_KEY_SLOT}@{period}")
}

/// The key that signs ID tokens.
pub struct IdTokenKey {
    kid: String,
    /// The private key, parsed once (ring signs RS256 several times faster than the `rsa`
    /// crate, and parsing a key on each signature, as `jsonwebtoken` does, costs as much again).
    signing: ring::signature::RsaKeyPair,
    /// `base64url({"alg":"RS256","kid":…,"typ":"JWT"})`, the same for every token.
    header: String,
    decoding: DecodingKey,
    /// Its public JWK.
    jwk: Value,
}

fn corrupt(what: &str) -> Error {
    Error::internal(anyhow::anyhow!("ID token key: {what}"))
}

impl IdTokenKey {
    fn from_row(row: &SigningKeyRow) -> Result<IdTokenKey> {
        if row.algorithm != "RS256" {
            return Err(corrupt("unknown algorithm"));
        }
        let der = STANDARD
            .decode(&row.private_key)
            .map_err(|_| corrupt("bad private key"))?;
        let private =
            rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| corrupt("bad private key"))?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        let signing =
            ring::signature::RsaKeyPair::from_der(&der).map_err(|_| corrupt("bad private key"))?;
        let header = json!({"alg": "RS256", "kid": row.kid, "typ": "JWT"});
        Ok(IdTokenKey {
            kid: row.kid.clone(),
            signing,
            header: URL_SAFE_NO_PAD.encode(header.to_string()),
            decoding: DecodingKey::from_rsa_components(&n, &e)
                .map_err(|_| corrupt("bad public key"))?,
            jwk: json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": row.kid, "n": n, "e": e}),
        })
    }

    /// A compact JWS (RS256) of `claims`.
    fn sign(&self, claims: &Map<String, Value>) -> Result<String> {
        let failed = |what: &str| Error::internal(anyhow::anyhow!("signing an ID token: {what}"));
        let payload = serde_json::to_vec(claims).map_err(|_| failed("claims"))?;
        let mut jws = format!("{}.{}", self.header, URL_SAFE_NO_PAD.encode(payload));
        let mut signature = vec![0; self.signing.public().modulus_len()];
        self.signing
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                jws.as_bytes(),
                &mut signature,
            )
            .map_err(|_| failed("RSA"))?;
        jws.push('.');
        jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(jws)
    }

    /// A new candidate key row.
    fn generate(now_ms: i64) -> Result<SigningKeyRow> {
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| Error::internal(anyhow::anyhow!("generating an RSA key: {e}")))?;
        let der = private
            .to_pkcs1_der()
            .map_err(|e| Error::internal(anyhow::anyhow!("encoding an RSA key: {e}")))?;
        Ok(SigningKeyRow {
            kid: format!("rs-{}", random_hex(8)),
            algorithm: "RS256".into(),
            private_key: STANDARD.encode(der.as_bytes()),
            public_key: String::new(),
            created_at: now_ms,
        })
    }
}

/// An ID token's claims and the key that is to sign them.
pub(crate) struct UnsignedIdToken {
    key: Arc<IdTokenKey>,
    claims: Map<String, Value>,
}

impl UnsignedIdToken {
    /// The signed token (RS256). The RSA signature (about half a millisecond) runs on a
    /// blocking thread, off the request's, beside whatever store work the caller does
    /// meanwhile.
    pub(crate) async fn sign(self) -> Result<String> {
        tokio::task::spawn_blocking(move || self.key.sign(&self.claims))
            .await
            .map_err(|e| Error::internal(anyhow::anyhow!("signing an ID token: {e}")))?
    }
}

/// What an ID token says, beyond the user's claims.
pub struct IdTokenFacts<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// When the person signed in (ms).
    pub auth_time_ms: i64,
    pub scopes: &'a [&'a str],
}

impl Services {
    /// How long one RS256 key signs ID tokens (ms), never shorter than an ID token lives (so
    /// the previous period's key, kept for one token lifetime, verifies every live token).
    fn id_token_key_period_ms(&self) -> i64 {
        let period = self.token_settings.id_token_key_period.as_millis();
        i64::try_from(period)
            .unwrap_or(i64::MAX)
            .max(2 * ID_TOKEN_TTL_S * 1000)
    }

    /// The key that signs ID tokens now: this period's, loaded or made on first use.
    pub(crate) async fn id_token_key(&self) -> Result<Arc<IdTokenKey>> {
        let period = self
            .clock
            .now_ms()
            .div_euclid(self.id_token_key_period_ms());
        if let Some(key) = self.id_token_key.cached(period) {
            return Ok(key);
        }
        let _turn = self.id_token_key.making.lock().await;
        if let Some(key) = self.id_token_key.cached(period) {
            return Ok(key);
        }
        let slot = key_slot(period);
        let row = match self.store.signing_key(&slot).await? {
            Some(row) => row,
            None => {
                let now = self.clock.now_ms();
                let candidate = tokio::task::spawn_blocking(move || IdTokenKey::generate(now))
                    .await
                    .map_err(|e| Error::internal(anyhow::anyhow!("key generation: {e}")))??;
                self.store.signing_key_in_slot(&slot, candidate).await?
            }
        };
        let key = Arc::new(IdTokenKey::from_row(&row)?);
        self.id_token_key.keep(period, key.clone());
        Ok(key)
    }

    /// The previous period's key while ID tokens it signed may still be unexpired.
    async fn previous_id_token_key(&self) -> Result<Option<Arc<IdTokenKey>>> {
        let now = self.clock.now_ms();
        let period = now.div_euclid(self.id_token_key_period_ms());
        let since_switch = now - period * self.id_token_key_period_ms();
        if since_switch > ID_TOKEN_TTL_S * 1000 {
            return Ok(None);
        }
        if let Some(key) = self.id_token_key.cached(period - 1) {
            return Ok(Some(key));
        }
        let Some(row) = self.store.signing_key(&key_slot(period - 1)).await? else {
            return Ok(None);
        };
        let key = Arc::new(IdTokenKey::from_row(&row)?);
        if let Ok(mut loaded) = self.id_token_key.loaded.lock() {
            loaded.insert(period - 1, key.clone());
        }
        Ok(Some(key))
    }

    /// Every public key of this server: the access tokens' EdDSA key and the ID tokens'
    /// RS256 keys (this period's, and the previous one's while its tokens live).
    pub async fn jwks(&self) -> Result<Value> {
        let mut set = self.tokens.jwks();
        let mut rsa = vec![self.id_token_key().await?.jwk.clone()];
        if let Some(previous) = self.previous_id_token_key().await? {
            rsa.push(previous.jwk.clone());
        }
        if let Some(keys) = set.get_mut("keys").and_then(Value::as_array_mut) {
            keys.extend(rsa);
        }
        Ok(set)
    }

    /// The claims of `user` the scopes allow (`sub` always).
    pub(crate) async fn user_claims(
        &self,
        user: &UserRow,
        scopes: &[&str],
    ) -> Result<Map<String, Value>> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user.user_id));
        let has = |s: &str| scopes.contains(&s);
        if has("profile") {
            let name = [&user.nick_name, &user.user_name, &user.user_id]
                .into_iter()
                .find(|n| !n.is_empty())
                .cloned()
                .unwrap_or_default();
            let username = [&user.user_name, &user.nick_name, &user.user_id]
                .into_iter()
                .find(|n| !n.is_empty())
                .cloned()
                .unwrap_or_default();
            claims.insert("name".into(), json!(name));
            claims.insert("preferred_username".into(), json!(username));
            if !user.avatar.is_empty() {
                claims.insert("picture".into(), json!(user.avatar));
            }
            claims.insert("updated_at".into(), json!(user.updated_at / 1000));
        }
        if has("email") && !user.email.is_empty() {
            claims.insert("email".into(), json!(user.email));
            // Roster does not verify addresses: an administrator sets them.
            claims.insert("email_verified".into(), json!(false));
        }
        if has("groups") || has("quota") {
            let facts = self
                .store
                .claim_facts(
                    &DomainId::from(&user.domain_id),
                    &UserId::from(&user.user_id),
                )
                .await?;
            if has("groups") {
                claims.insert("groups".into(), json!(facts.group_ids));
            }
            if has("quota") {
                // Bytes, as Nextcloud's user_oidc maps it; "none" for unlimited or no drive.
                let quota = match facts.default_drive_size {
                    Some(size) if size >= 0 => size.to_string(),
                    _ => "none".to_owned(),
                };
                claims.insert("quota".into(), json!(quota));
            }
        }
        Ok(claims)
    }

    /// An ID token for `user`, ready to sign: its claims and this period's key (everything
    /// that reads the store, so that signing, [`UnsignedIdToken::sign`], cannot fail on it).
    pub(crate) async fn unsigned_id_token(
        &self,
        user: &UserRow,
        facts: IdTokenFacts<'_>,
    ) -> Result<UnsignedIdToken> {
        let mut claims = self.user_claims(user, facts.scopes).await?;
        let now = self.clock.now_s();
        claims.insert("iss".into(), json!(facts.issuer));
        claims.insert("aud".into(), json!(facts.client_id));
        claims.insert("azp".into(), json!(facts.client_id));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + ID_TOKEN_TTL_S));
        claims.insert("auth_time".into(), json!(facts.auth_time_ms / 1000));
        claims.insert("acr".into(), json!(ACR_PASSWORD));
        claims.insert("amr".into(), json!(["pwd"]));
        if !facts.nonce.is_empty() {
            claims.insert("nonce".into(), json!(facts.nonce));
        }
        Ok(UnsignedIdToken {
            key: self.id_token_key().await?,
            claims,
        })
    }

    /// The subject and audience of an ID token this server signed (expired or not): an
    /// `id_token_hint`.
    pub async fn id_token_hint(&self, token: &str) -> Option<(String, String)> {
        // Signed with this period's key, or the previous one's (a hint may be old).
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let current = self.id_token_key().await.ok()?;
        let key = if current.kid == kid {
            current
        } else {
            let period = self
                .clock
                .now_ms()
                .div_euclid(self.id_token_key_period_ms());
            let row = self.store.signing_key(&key_slot(period - 1)).await.ok()??;
            Arc::new(IdTokenKey::from_row(&row).ok()?)
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["sub", "aud"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation)
            .ok()?
            .claims;
        Some((
            claims.get("sub")?.as_str()?.to_owned(),
            claims.get("aud")?.as_str()?.to_owned(),
        ))
    }

    /// OpenID Connect `userinfo`: the claims of the access token's user (every scope's:
    /// access tokens carry no scope). The caller's row read to admit the token is the one the
    /// claims are made of: a user is read once.
    pub async fn userinfo(
        &self,
        domain_id: Option<&str>,
        access_token: &str,
    ) -> Result<Map<String, Value>> {
        let invalid = || Error::Unauthorized(crate::error::AuthProblem::AccessTokenInvalid);
        let VerifiedCaller::User(user) = self.verified_caller(domain_id, access_token).await?
        else {
            // An app's service token speaks for no user.
            return Err(invalid());
        };
        // As `authenticate` admits a password change's caller: in good standing, a pending
        // password change allowed.
        require_good_standing(&user, self.clock.now_ms(), invalid())?;
        self.user_claims(&user, &["profile", "email", "groups", "quota"])
            .await
    }
}
