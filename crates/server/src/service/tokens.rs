//! Logon and tokens: the password and refresh-token grants, access-token signing (EdDSA JWTs)
//! and the check every authenticated request goes through.
//!
//! Access tokens are stateless JWTs, but `authenticate` still reads the user on every request,
//! so a disabled or deleted user is refused at once, on every replica, and a role change takes
//! effect immediately. Each token carries its user's token generation (`gen`, the user's
//! `token_stamp`) and works only while it is current: every event that ends a user's sessions
//! replaces it (see `UserChanges::ends_sessions_of`), and a later user of the same id has
//! another. Refresh tokens are opaque, stored as SHA-256 hashes, work once, and descend from
//! one login (a family): reusing a used one revokes the family.
//!
//! The rules every caller meets, whatever the dialect or credential (`authenticate` for
//! tokens, `access_key_signer` for signed requests): a locked or punished user is refused,
//! and a user whose admin requires a new password reaches only `CallKind::PasswordChange`
//! calls.

use crate::audit::Trail;
use crate::model::{DomainId, UserId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{random_hex, tenancy, users, validate, Actor, Services};
use crate::clock::Clock;
use crate::error::{AuthProblem, Error, Result};
use crate::model::{IssuedToken, Role, TokenHolder, UserStatus};
use crate::store::apps::AppRow;
use crate::store::{RefreshTokenRow, SigningKeyRow, Store, UserChanges, UserRow};

/// How long tokens, their keys and sign-in sessions live, and how often a reset may be asked.
#[derive(Debug, Clone, Copy)]
pub struct TokenSettings {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub lockout: LockoutSettings,
    /// A browser sign-in session ends after this long unused...
    pub session_idle: Duration,
    /// ...and this long after it began, used or not.
    pub session_max: Duration,
    /// How long one RS256 key signs ID tokens (longer than an ID token lives).
    pub id_token_key_period: Duration,
    /// Self-service reset requests per identity, and reset mails per address, an hour.
    pub self_resets_per_hour: u32,
}

impl TokenSettings {
    /// Whether a session whose person signed in at `signed_in_at` and was last seen at
    /// `last_seen_at` is still within the sign-in sessions' idle and absolute timeouts at
    /// `now` (ms): the one rule of the sign-in pages' sessions and the console's.
    pub fn session_live(&self, signed_in_at: i64, last_seen_at: i64, now: i64) -> bool {
        now - last_seen_at < self.session_idle.as_millis() as i64
            && now - signed_in_at < self.session_max.as_millis() as i64
    }
}

/// When failed password logins lock an account identity out.
#[derive(Debug, Clone, Copy)]
pub struct LockoutSettings {
    /// Failed logins in a row that lock the identity; 0 turns lockout off.
    pub max_failures: u32,
    /// How long a lock lasts (and how long a failure counts).
    pub lock_for: Duration,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        LockoutSettings {
            max_failures: crate::config::DEFAULT_LOGIN_MAX_FAILURES,
            lock_for: Duration::from_secs(crate::config::DEFAULT_LOGIN_LOCK_SECONDS),
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            access_ttl: Duration::from_secs(2 * 3600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            lockout: LockoutSettings::default(),
            session_idle: Duration::from_secs(crate::config::DEFAULT_SESSION_IDLE_MINUTES * 60),
            session_max: Duration::from_secs(crate::config::DEFAULT_SESSION_MAX_HOURS * 3600),
            id_token_key_period: Duration::from_secs(
                crate::config::DEFAULT_ID_TOKEN_KEY_DAYS * 24 * 3600,
            ),
            self_resets_per_hour: crate::config::DEFAULT_SELF_RESETS_PER_HOUR,
        }
    }
}

/// A refresh grant whose user went (or whose tokens stopped) while it ran is refused as an
/// invalid refresh token; other errors stay as they are.
fn refused_if_gone(e: Error) -> Error {
    match e {
        Error::NotFound(_) | Error::Unauthorized(_) => {
            Error::Unauthorized(AuthProblem::RefreshTokenInvalid)
        }
        other => other,
    }
}

/// The claims of a Roster access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The domain id: a token is valid only in its own domain.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Set on a domain service token: the `client_id` of the JWT app it was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub svc: Option<String>,
    /// The generation the token is bound to: its user's `token_stamp` (of a service token,
    /// its app's `instance_stamp`). A token issued before generations existed has none,
    /// read as `""`, the stamp of users and apps created before them.
    #[serde(default)]
    pub gen: String,
    /// Set on a token issued to someone other than its user (an admin taking a user's
    /// token): who issued it (RFC 8693's actor claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<IssuerClaim>,
}

/// Who issued a delegated token, and its own generation then: the token ends with the
/// issuer's sessions too.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuerClaim {
    /// A user id of the token's domain, or `app:<client_id>` for a JWT app's service actor.
    pub sub: String,
    #[serde(default)]
    pub gen: String,
}

/// What a call needs of its caller: every face says it, and `authenticate` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Anything but the calls below: refused while the caller must change its password.
    Ordinary,
    /// Changing one's own password or reading oneself: open to a caller whose admin requires
    /// a new password first.
    PasswordChange,
}

/// A session's tokens before its refresh token is stored.
pub(super) struct NewSession {
    access_token: String,
    refresh_token: String,
    claims: AccessClaims,
    pub(super) refresh_row: RefreshTokenRow,
}

/// How long a token issued to someone other than its user lives at most.
const MAX_DELEGATED_TTL: Duration = Duration::from_secs(15 * 60);

const ISSUER: &str = "roster";

/// PKCS#8 v1 prefix of an Ed25519 private key: the DER header before the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The signing key in force, shared by every process over the same store.
pub struct TokenKeys {
    kid: String,
    /// The raw Ed25519 public key, published at `/.well-known/jwks.json`.
    public_key: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature has been verified, with their claims ([`TokenKeys::verify`]).
    verified: std::sync::Mutex<HashMap<String, AccessClaims>>,
}

/// How many verified tokens [`TokenKeys`] remembers; when full it starts over.
const MAX_VERIFIED_TOKENS: usize = 4096;

impl TokenKeys {
    /// Loads the store's signing key, creating it on first start. Two processes starting at
    /// once agree: the store keeps whichever was inserted first.
    pub async fn load_or_create(store: &dyn Store, clock: &Clock) -> Result<TokenKeys> {
        let seed: [u8; 32] = rand::random();
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        let candidate = SigningKeyRow {
            kid: random_hex(8),
            algorithm: "EdDSA".into(),
            private_key: STANDARD.encode(seed),
            public_key: STANDARD.encode(public.as_bytes()),
            created_at: clock.now_ms(),
        };
        let row = store.signing_key_or_insert(candidate).await?;
        TokenKeys::from_row(&row)
    }

    /// Keys from a fixed seed, for the fuzz targets.
    #[cfg(feature = "fuzzing")]
    pub fn fixed_for_fuzzing() -> TokenKeys {
        let seed = [7u8; 32];
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        let row = SigningKeyRow {
            kid: "fuzz".into(),
            algorithm: "EdDSA".into(),
            private_key: STANDARD.encode(seed),
            public_key: STANDARD.encode(public.as_bytes()),
            created_at: 0,
        };
        TokenKeys::from_row(&row).expect("a well-formed key")
    }

    fn from_row(row: &SigningKeyRow) -> Result<TokenKeys> {
        let corrupt = |what: &str| Error::internal(anyhow::anyhow!("signing key: {what}"));
        if row.algorithm != "EdDSA" {
            return Err(corrupt("unknown algorithm"));
        }
        let seed = STANDARD
            .decode(&row.private_key)
            .map_err(|_| corrupt("bad private key"))?;
        let public = STANDARD
            .decode(&row.public_key)
            .map_err(|_| corrupt("bad public key"))?;
        if seed.len() != 32 || public.len() != 32 {
            return Err(corrupt("wrong key length"));
        }
        let pkcs8 = [ED25519_PKCS8_PREFIX.as_slice(), &seed].concat();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        // The audience (domain) is compared by `authenticate` against the request's domain.
        validation.validate_aud = false;
        // Expiry is checked against the services' clock in `verify`, not the library's.
        validation.validate_exp = false;
        Ok(TokenKeys {
            kid: row.kid.clone(),
            public_key: public.clone(),
            encoding: EncodingKey::from_ed_der(&pkcs8),
            decoding: DecodingKey::from_ed_der(&public),
            validation,
            verified: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The public keys that verify Roster's access tokens, as a JWK set (RFC 7517, OKP).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": self.kid,
                "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.public_key),
            }]
        })
    }

    fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| Error::internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// The claims of a token this server signed that has not expired at `now_s` (UNIX
    /// seconds), allowing [`ACCESS_TOKEN_LEEWAY_S`] of clock skew.
    ///
    /// A token's signature and claims never change, so each token is verified once (an
    /// Ed25519 verification is most of a cheap request's CPU time): the claims of up to
    /// [`MAX_VERIFIED_TOKENS`] verified tokens are kept, by their exact text, and only the
    /// expiry is checked again. Only tokens that verified are kept.
    pub fn verify(&self, token: &str, now_s: i64) -> Result<AccessClaims> {
        let invalid = || Error::Unauthorized(AuthProblem::AccessTokenInvalid);
        let known = self.verified_tokens().get(token).cloned();
        let claims = match known {
            Some(claims) => claims,
            None => {
                let claims =
                    jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
                        .map(|data| data.claims)
                        .map_err(|_| invalid())?;
                let mut verified = self.verified_tokens();
                if verified.len() >= MAX_VERIFIED_TOKENS {
                    verified.clear();
                }
                verified.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        if claims.exp < now_s.saturating_sub(ACCESS_TOKEN_LEEWAY_S) {
            return Err(invalid());
        }
        Ok(claims)
    }

    fn verified_tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccessClaims>> {
        self.verified
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Seconds an access token is still taken after its `exp`, for clocks a little apart.
const ACCESS_TOKEN_LEEWAY_S: i64 = 5;

fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 429 for an identity locked until `locked_until`, with the whole seconds left.
pub(crate) fn too_many(locked_until: i64, now: i64) -> Error {
    let seconds = (locked_until - now + 999) / 1000;
    Error::TooManyRequests(seconds.max(1) as u64)
}

/// Password logins of one account identity take turns within this process (an entry lives
/// only while someone waits or checks). Across replicas, each may check one at a time.
#[derive(Default)]
pub struct LoginGates {
    gates: std::sync::Mutex<GateMap>,
}

/// One gate per `(domain_id, identity)` with a login in progress.
type GateMap = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

/// A login's turn at its identity's gate; leaving it lets the next attempt in.
struct LoginTurn {
    gates: Arc<LoginGates>,
    key: (String, String),
    gate: Arc<tokio::sync::Mutex<()>>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl LoginGates {
    async fn enter(gates: &Arc<LoginGates>, domain_id: &str, identity: &str) -> LoginTurn {
        let key = (domain_id.to_owned(), identity.to_owned());
        let gate = gates.map().entry(key.clone()).or_default().clone();
        let turn = gate.clone().lock_owned().await;
        LoginTurn {
            gates: gates.clone(),
            key,
            gate,
            turn: Some(turn),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, GateMap> {
        self.gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for LoginTurn {
    fn drop(&mut self) {
        drop(self.turn.take());
        let mut map = self.gates.map();
        // Nobody else holds the gate (only the map and this turn do): forget it.
        if Arc::strong_count(&self.gate) == 2 {
            map.remove(&self.key);
        }
    }
}

impl Services {
    /// The OAuth2 password grant: `username` is an account identity (custom id, email, mobile).
    /// Every failure (unknown account, wrong password, disabled user) is the same answer.
    pub async fn login_with_password(
        &self,
        trail: &Trail,
        domain_id: &str,
        username: &str,
        password: &str,
    ) -> Result<IssuedToken> {
        use crate::metrics::SignIn;
        let answer = async {
            let (user, is_first_login) = self
                .check_password_login(trail, domain_id, username, password, "account.login")
                .await?;
            let mut token = self.issue_session(trail, user, None).await?;
            token.is_first_login = is_first_login;
            Ok(token)
        }
        .await;
        self.metrics.sign_in(match &answer {
            Ok(_) => SignIn::Success,
            Err(Error::Unauthorized(_)) => SignIn::InvalidCredentials,
            Err(Error::TooManyRequests(_)) => SignIn::LockedOut,
            Err(_) => SignIn::Error,
        });
        if answer.is_ok() {
            self.metrics.token_issued("password");
        }
        answer
    }

    /// A caller who proves an account identity's password without taking tokens (an LDAP
    /// simple bind): the same check, lockout and audit records as the password grant, then
    /// the admission of a token's caller (standing, must-change-password for `kind`).
    pub async fn authenticate_with_password(
        &self,
        trail: &Trail,
        domain_id: &str,
        identity: &str,
        password: &str,
        kind: CallKind,
    ) -> Result<Actor> {
        let (user, _) = self
            .check_password_login(trail, domain_id, identity, password, "account.login")
            .await?;
        let refused = Error::Unauthorized(AuthProblem::InvalidCredentials);
        admit(user, kind, refused, self.clock.now_ms())
    }

    /// A caller who names itself in a domain by user id or, when no user has that id, by a
    /// logon identity (an LDAP bind DN `uid=<id or identity>,ou=people,<base>`), and proves its
    /// password: [`Services::authenticate_user_with_password`] or
    /// [`Services::authenticate_with_password`].
    pub async fn authenticate_user_or_identity(
        &self,
        trail: &Trail,
        domain_id: &str,
        name: &str,
        password: &str,
        kind: CallKind,
    ) -> Result<Actor> {
        let is_user_id = validate::max_len("user_id", name, validate::MAX_USER_ID).is_ok()
            && self
                .store
                .user(&DomainId::from(domain_id), &UserId::from(name))
                .await?
                .is_some();
        if is_user_id {
            self.authenticate_user_with_password(trail, domain_id, name, password, kind)
                .await
        } else {
            self.authenticate_with_password(trail, domain_id, name, password, kind)
                .await
        }
    }

    /// A caller who names its user by id (an LDAP bind DN) and proves its password: the
    /// user's lockout (as `change_password` counts it), an `account.login` audit record, and
    /// the admission of a token's caller. Every failure is the same `InvalidCredentials`.
    pub async fn authenticate_user_with_password(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        password: &str,
        kind: CallKind,
    ) -> Result<Actor> {
        let refused = || Error::Unauthorized(AuthProblem::InvalidCredentials);
        validate::login(user_id, password)?;
        let user = match self.store.domain(domain_id).await? {
            Some(_) => {
                self.store
                    .user(&DomainId::from(domain_id), &UserId::from(user_id))
                    .await?
            }
            None => None,
        };
        let Some(user) = user else {
            self.passwords.verify(password, None).await?;
            return Err(refused());
        };
        trail.record(crate::audit::Event {
            domain_id,
            actor_id: "",
            action: "account.login",
            target_type: "user",
            target_id: user_id,
            detail: serde_json::Value::Null,
        });
        let hash = self
            .store
            .password_hashes_of(
                &DomainId::from(domain_id),
                std::slice::from_ref(&user.user_id),
            )
            .await?
            .pop()
            .map(|(_, hash)| hash);
        let matches = self
            .check_user_password(trail, domain_id, user_id, password, hash.as_deref())
            .await?;
        if !matches || user.status != UserStatus::Enabled.as_str() {
            return Err(refused());
        }
        admit(user, kind, refused(), self.clock.now_ms())
    }

    /// The one password check of a person signing in, for the password grant and the
    /// sign-in page alike: the identity's and the user's lockout (429 with the wait), the
    /// password, the user's standing; records the login. Answers the user and whether this
    /// was its first login. Every failure is the same `InvalidCredentials`; `action` names
    /// the attempt in the audit log.
    pub(crate) async fn check_password_login(
        &self,
        trail: &Trail,
        domain_id: &str,
        username: &str,
        password: &str,
        action: &'static str,
    ) -> Result<(UserRow, bool)> {
        // Nothing of an anonymous attempt is kept before its fields are bounded, and nothing
        // at all for a domain that does not exist (after the work a wrong password costs, so
        // timing does not tell which domains exist).
        validate::login(username, password)?;
        if self.store.domain(domain_id).await?.is_none() {
            self.passwords.verify(password, None).await?;
            return Err(Error::Unauthorized(AuthProblem::InvalidCredentials));
        }
        trail.record(crate::audit::Event {
            domain_id,
            actor_id: "",
            action,
            target_type: "account",
            target_id: username,
            detail: serde_json::Value::Null,
        });
        if self.token_settings.lockout.max_failures == 0 {
            return self
                .verify_password_login(trail, domain_id, username, password)
                .await;
        }
        // One attempt at a time per identity, so each sees the failures before it: parallel
        // guesses cannot all pass the lockout check before the first of them has failed.
        let _turn = LoginGates::enter(&self.login_gates, domain_id, username).await;
        let prior_failures = self.check_lockout(domain_id, username).await?;
        // A failed attempt's record is marked failed before the failure count writes it.
        match super::attempt(
            trail,
            self.verify_password_login(trail, domain_id, username, password),
        )
        .await
        {
            Ok(found) => {
                if prior_failures > 0 {
                    self.store
                        .clear_login_failures(trail, &DomainId::from(domain_id), username)
                        .await?;
                }
                Ok(found)
            }
            Err(Error::Unauthorized(problem)) => {
                // The failure is recorded with the failure count it adds.
                self.count_login_failure(trail, domain_id, username).await?;
                Err(Error::Unauthorized(problem))
            }
            Err(other) => Err(other),
        }
    }

    /// Refuses a locked identity (429 with the seconds left), and slows down attempts after
    /// failures. Answers the failures counted so far.
    async fn check_lockout(&self, domain_id: &str, identity: &str) -> Result<i64> {
        let (failures, locked_until) = self
            .store
            .login_failures(&DomainId::from(domain_id), identity)
            .await?;
        let now = self.clock.now_ms();
        if locked_until > now {
            return Err(too_many(locked_until, now));
        }
        if failures >= 2 {
            // Each failure beyond the first costs the next attempt a little more time.
            let delay =
                Duration::from_millis(200 * (failures as u64 - 1)).min(Duration::from_secs(2));
            tokio::time::sleep(delay).await;
        }
        Ok(failures)
    }

    async fn count_login_failure(
        &self,
        trail: &Trail,
        domain_id: &str,
        identity: &str,
    ) -> Result<()> {
        let lockout = self.token_settings.lockout;
        let (_, locked_until) = self
            .store
            .record_login_failure(
                trail,
                &DomainId::from(domain_id),
                identity,
                self.clock.now_ms(),
                i64::from(lockout.max_failures),
                lockout.lock_for.as_millis() as i64,
            )
            .await?;
        if locked_until > self.clock.now_ms() {
            self.metrics.lockout();
            tracing::warn!(
                domain_id,
                "an account identity is locked after failed logins"
            );
        }
        Ok(())
    }

    /// The password check itself; every failure is the same `InvalidCredentials`.
    async fn verify_password_login(
        &self,
        trail: &Trail,
        domain_id: &str,
        username: &str,
        password: &str,
    ) -> Result<(UserRow, bool)> {
        let refused = Error::Unauthorized(AuthProblem::InvalidCredentials);
        let candidates = self
            .store
            .login_candidates(&DomainId::from(domain_id), username)
            .await?;
        if candidates.is_empty() {
            self.passwords.verify(password, None).await?;
            return Err(refused);
        }
        for candidate in candidates {
            let matches = self
                .check_user_password(
                    trail,
                    domain_id,
                    &candidate.user_id,
                    password,
                    candidate.password_hash.as_deref(),
                )
                .await?;
            if matches && candidate.user_status == UserStatus::Enabled.as_str() {
                let Some(user) = self
                    .store
                    .user(
                        &DomainId::from(domain_id),
                        &UserId::from(&candidate.user_id),
                    )
                    .await?
                else {
                    return Err(refused);
                };
                require_good_standing(&user, self.clock.now_ms(), refused)?;
                let is_first_login = user.last_login_time == 0;
                self.store
                    .record_login(trail, &candidate, domain_id, self.clock.now_ms())
                    .await?;
                return Ok((user, is_first_login));
            }
        }
        Err(refused)
    }

    /// Checks a password of a user, on any path (login with any of its identities,
    /// `change_password`): refused with 429 while the user is locked out, and each mismatch
    /// counts against the user's lockout, so its identities and paths share one budget of
    /// guesses. A match clears the count.
    pub(crate) async fn check_user_password(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        password: &str,
        hash: Option<&str>,
    ) -> Result<bool> {
        let lockout = self.token_settings.lockout;
        if lockout.max_failures == 0 {
            return self.passwords.verify(password, hash).await;
        }
        // Checks of one user take turns, so parallel guesses each see the failures before
        // them. The NULs keep the key apart from real identities (a login name spelled the
        // same would only share the turns, nothing else).
        let gate = format!("\0user\0{user_id}");
        let _turn = LoginGates::enter(&self.login_gates, domain_id, &gate).await;
        let (failures, locked_until) = self
            .store
            .user_login_failures(&DomainId::from(domain_id), &UserId::from(user_id))
            .await?;
        let now = self.clock.now_ms();
        if locked_until > now {
            return Err(too_many(locked_until, now));
        }
        let matches = self.passwords.verify(password, hash).await?;
        if matches {
            if failures > 0 {
                self.store
                    .clear_user_login_failures(
                        trail,
                        &DomainId::from(domain_id),
                        &UserId::from(user_id),
                    )
                    .await?;
            }
            return Ok(true);
        }
        let (_, locked_until) = self
            .store
            .record_user_login_failure(
                trail,
                &DomainId::from(domain_id),
                &UserId::from(user_id),
                self.clock.now_ms(),
                i64::from(lockout.max_failures),
                lockout.lock_for.as_millis() as i64,
            )
            .await?;
        if locked_until > self.clock.now_ms() {
            self.metrics.lockout();
            tracing::warn!(domain_id, "a user is locked after failed password checks");
        }
        Ok(false)
    }

    /// The refresh-token grant. The refresh token is consumed: it never works twice, and its
    /// reuse revokes every refresh token of its login (family). `domain_id` is the domain the
    /// request named, if it named one: a token of another domain is refused there before
    /// anything is consumed ([`tenancy::admits`]).
    pub async fn refresh(
        &self,
        trail: &Trail,
        domain_id: Option<&str>,
        refresh_token: &str,
    ) -> Result<IssuedToken> {
        self.refresh_with_grace(trail, domain_id, refresh_token, 0)
            .await
    }

    /// [`Services::refresh`], except that a token used less than `grace_ms` ago (by a
    /// concurrent grant too) renews its session once more, in the same family, instead of
    /// counting as a reuse. Only the console asks for a grace (its tabs share one cookie).
    pub(crate) async fn refresh_with_grace(
        &self,
        trail: &Trail,
        domain_id: Option<&str>,
        refresh_token: &str,
        grace_ms: i64,
    ) -> Result<IssuedToken> {
        let refused = || Error::Unauthorized(AuthProblem::RefreshTokenInvalid);
        validate::token("refresh_token", refresh_token)?;
        let hash = hash_refresh_token(refresh_token);
        let row = self.store.refresh_token(&hash).await?.ok_or_else(refused)?;
        let now = self.clock.now_ms();
        if !tenancy::admits(domain_id, &row.domain_id) || row.expires_at <= now {
            return Err(refused());
        }
        if row.consumed_at > 0 {
            if now - row.consumed_at < grace_ms {
                return self.renew_family(trail, &row).await;
            }
            self.revoke_family(trail, &row).await?;
            return Err(refused());
        }
        let Some(user) = self.refresh_holder(&row, now).await? else {
            // Refused, and used up all the same, as a grant that issued nothing.
            if !self.store.consume_refresh_token(trail, &hash, now).await? {
                self.revoke_family(trail, &row).await?;
            }
            return Err(refused());
        };
        // A token from before families existed starts one.
        let family_id = Some(row.family_id.clone()).filter(|f| !f.is_empty());
        let session = self.new_session(trail, &user, family_id)?;
        // Consuming the old token and storing the new one is one write transaction.
        if !self
            .store
            .rotate_refresh_token(trail, &hash, now, session.refresh_row.clone())
            .await?
        {
            // A concurrent grant consumed it first: this is a reuse, unless within a grace.
            trail.forget_last();
            if grace_ms > 0 {
                return self.renew_family(trail, &row).await;
            }
            self.revoke_family(trail, &row).await?;
            return Err(refused());
        }
        let token = self
            .session_answer(user, session)
            .await
            .map_err(refused_if_gone)?;
        self.metrics.token_issued("refresh_token");
        Ok(token)
    }

    /// The user of refresh token `row` if the token still speaks for it: the same token
    /// generation, in good standing.
    async fn refresh_holder(&self, row: &RefreshTokenRow, now: i64) -> Result<Option<UserRow>> {
        let refused = || Error::Unauthorized(AuthProblem::RefreshTokenInvalid);
        Ok(self
            .store
            .user(&DomainId::from(&row.domain_id), &UserId::from(&row.user_id))
            .await?
            .filter(|u| u.token_stamp == row.token_stamp)
            .filter(|u| require_good_standing(u, now, refused()).is_ok()))
    }

    /// New tokens in the family of `used`, a refresh token just used (within a grace):
    /// refused if its user's generation changed or it is not in good standing.
    async fn renew_family(&self, trail: &Trail, used: &RefreshTokenRow) -> Result<IssuedToken> {
        let now = self.clock.now_ms();
        let user = self
            .refresh_holder(used, now)
            .await?
            .ok_or(Error::Unauthorized(AuthProblem::RefreshTokenInvalid))?;
        let token = self
            .issue_session(trail, user, Some(used.family_id.clone()))
            .await
            .map_err(refused_if_gone)?;
        self.metrics.token_issued("refresh_token");
        Ok(token)
    }

    /// The stored row of a refresh token, if there is one (a malformed token has none).
    pub(crate) async fn refresh_token_row(
        &self,
        refresh_token: &str,
    ) -> Result<Option<RefreshTokenRow>> {
        if validate::token("refresh_token", refresh_token).is_err() {
            return Ok(None);
        }
        self.store
            .refresh_token(&hash_refresh_token(refresh_token))
            .await
    }

    /// A used refresh token came back: someone holds a copy. Every refresh token of its
    /// login goes (the thief's and the user's alike; the user logs in again).
    async fn revoke_family(&self, trail: &Trail, reused: &RefreshTokenRow) -> Result<()> {
        trail.record(crate::audit::Event {
            domain_id: &reused.domain_id,
            actor_id: &reused.user_id,
            action: "token.revoke",
            target_type: "user",
            target_id: &reused.user_id,
            detail: serde_json::json!({ "reason": "refresh token reused" }),
        });
        if reused.family_id.is_empty() {
            return Ok(());
        }
        self.store
            .revoke_refresh_family(trail, &DomainId::from(&reused.domain_id), &reused.family_id)
            .await
    }

    /// Logs out (`/v2/account/revoke`): every session of the refresh token's user ends, its
    /// access tokens with its refresh tokens (log out everywhere). Unknown tokens, and tokens
    /// of another domain than the one the request names, are accepted silently (the latter
    /// left as they were), so the answer tells nothing about which tokens exist.
    pub async fn revoke_refresh_token(
        &self,
        trail: &Trail,
        domain_id: Option<&str>,
        refresh_token: &str,
    ) -> Result<()> {
        validate::token("refresh_token", refresh_token)?;
        let known = self
            .store
            .refresh_token(&hash_refresh_token(refresh_token))
            .await?
            .filter(|row| tenancy::admits(domain_id, &row.domain_id));
        if let Some(row) = known {
            trail.record(crate::audit::Event {
                domain_id: &row.domain_id,
                actor_id: &row.user_id,
                action: "token.revoke",
                target_type: "user",
                target_id: &row.user_id,
                detail: serde_json::Value::Null,
            });
            self.end_sessions(trail, &row.domain_id, &row.user_id)
                .await?;
        }
        Ok(())
    }

    /// Ends every session of a user: a new token generation (its access tokens stop
    /// working) and no refresh tokens.
    pub(crate) async fn end_sessions(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
    ) -> Result<()> {
        let changes = UserChanges {
            end_sessions: true,
            updated_at: self.clock.now_ms(),
            ..UserChanges::default()
        };
        self.store
            .update_user(
                trail,
                &DomainId::from(domain_id),
                &UserId::from(user_id),
                changes,
            )
            .await?;
        Ok(())
    }

    /// Who is calling with this access token, as of now: the one check of a bearer token,
    /// for every face. `domain_id` is the domain the request named, if it named one: a token
    /// of another domain is refused there. A request that names none acts in the token's own
    /// domain. Refused: a token whose generation is no longer its user's (or app's), of a
    /// locked or punished user, a delegated token whose user now outranks its issuer (or
    /// whose issuer's sessions ended), and, for an `Ordinary` call, the token of a user who
    /// must change its password first (`403`).
    ///
    /// The caller's row is read as of now on every request (`Store::caller`: on SQLite from
    /// a cache that any commit to the file, by any process, empties first); the generation
    /// rides on it. Only delegated tokens read their issuer too. The token's signature is
    /// verified once per token ([`TokenKeys::verify`]).
    pub async fn authenticate(
        &self,
        domain_id: Option<&str>,
        access_token: &str,
        kind: CallKind,
    ) -> Result<Actor> {
        match self.verified_caller(domain_id, access_token).await? {
            VerifiedCaller::App(actor) => Ok(actor),
            VerifiedCaller::User(user) => admit(
                *user,
                kind,
                Error::Unauthorized(AuthProblem::AccessTokenInvalid),
                self.clock.now_ms(),
            ),
        }
    }

    /// The caller an access token names, its signature, domain, generation and issuer
    /// checked, but not yet admitted ([`admit`]): a user's row as read for this request, or
    /// an app's service actor.
    pub(crate) async fn verified_caller(
        &self,
        domain_id: Option<&str>,
        access_token: &str,
    ) -> Result<VerifiedCaller> {
        let invalid = || Error::Unauthorized(AuthProblem::AccessTokenInvalid);
        let claims = self.tokens.verify(access_token, self.clock.now_s())?;
        if !tenancy::admits(domain_id, &claims.aud) {
            return Err(invalid());
        }
        if let Some(client_id) = &claims.svc {
            let app = self
                .current_app(&claims.aud, client_id, &claims.gen)
                .await?;
            return Ok(VerifiedCaller::App(service_actor(&app)));
        }
        let user = self
            .store
            .caller(&DomainId::from(&claims.aud), &UserId::from(&claims.sub))
            .await?
            .filter(|u| u.token_stamp == claims.gen)
            .ok_or_else(invalid)?;
        if let Some(issuer) = &claims.act {
            self.require_issuer_outranks(&user, issuer).await?;
        }
        Ok(VerifiedCaller::User(Box::new(user)))
    }

    /// A delegated token works while its issuer's sessions last and its user does not
    /// outrank its issuer: an admin's token for a user stops when that user is promoted
    /// above the admin.
    async fn require_issuer_outranks(&self, subject: &UserRow, issuer: &IssuerClaim) -> Result<()> {
        let invalid = || Error::Unauthorized(AuthProblem::AccessTokenInvalid);
        let issuer_role = match issuer.sub.strip_prefix("app:") {
            Some(client_id) => {
                let app = self
                    .current_app(&subject.domain_id, client_id, &issuer.gen)
                    .await?;
                service_actor(&app).role
            }
            None => {
                let row = self
                    .store
                    .caller(
                        &DomainId::from(&subject.domain_id),
                        &UserId::from(&issuer.sub),
                    )
                    .await?
                    .filter(|u| u.token_stamp == issuer.gen)
                    .ok_or_else(invalid)?;
                admit(row, CallKind::Ordinary, invalid(), self.clock.now_ms())?.role
            }
        };
        let subject_role = subject.role()?;
        if rank(issuer_role) == 0 || rank(subject_role) > rank(issuer_role) {
            return Err(invalid());
        }
        Ok(())
    }

    /// The administrator whose authorization code this is (eds-user
    /// GetManagerInfoByAuthCode), for an admin caller, as every eds-user action but the
    /// directory reads. Roster's authorization codes are its access tokens: the code must
    /// be a valid token of the caller's domain, of an admin.
    pub async fn manager_by_auth_code(&self, actor: &Actor, auth_code: &str) -> Result<UserRow> {
        actor.require_admin()?;
        let manager = self
            .authenticate(Some(&actor.domain_id), auth_code, CallKind::Ordinary)
            .await
            .map_err(|_| Error::invalid("AuthCode"))?;
        manager.require_admin()?;
        self.store
            .user(&manager.domain_id, &manager.user_id)
            .await?
            .ok_or(Error::invalid("AuthCode"))
    }

    /// A fresh access token and refresh token for an enabled user, starting a session (a new
    /// refresh-token family).
    pub(crate) async fn issue_tokens(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
    ) -> Result<IssuedToken> {
        let user = self
            .store
            .user(&DomainId::from(domain_id), &UserId::from(user_id))
            .await?
            .ok_or(Error::Unauthorized(AuthProblem::InvalidCredentials))?;
        self.issue_session(trail, user, None).await
    }

    /// Tokens for `user` in the refresh-token family `family_id` (none: a new one), bound to
    /// the user's current token generation.
    pub(crate) async fn issue_session(
        &self,
        trail: &Trail,
        user: UserRow,
        family_id: Option<String>,
    ) -> Result<IssuedToken> {
        let session = self.new_session(trail, &user, family_id)?;
        self.store
            .insert_refresh_token(trail, session.refresh_row.clone())
            .await?;
        self.session_answer(user, session).await
    }

    /// The tokens of a new session of `user` (refused if it is not in good standing), its
    /// refresh token's row to store, and its audit record noted.
    pub(super) fn new_session(
        &self,
        trail: &Trail,
        user: &UserRow,
        family_id: Option<String>,
    ) -> Result<NewSession> {
        let now = self.clock.now_ms();
        require_good_standing(
            user,
            now,
            Error::Unauthorized(AuthProblem::InvalidCredentials),
        )?;
        let access_ttl = self.token_settings.access_ttl;
        let (access_token, claims) = self.sign_for(user, access_ttl, None)?;
        let refresh_token = random_hex(32);
        trail.record(crate::audit::Event {
            domain_id: &user.domain_id,
            actor_id: &user.user_id,
            action: "token.issue",
            target_type: "user",
            target_id: &user.user_id,
            detail: serde_json::Value::Null,
        });
        let refresh_row = RefreshTokenRow {
            token_hash: hash_refresh_token(&refresh_token),
            domain_id: user.domain_id.clone(),
            user_id: user.user_id.clone(),
            expires_at: now + self.token_settings.refresh_ttl.as_millis() as i64,
            created_at: now,
            family_id: family_id.unwrap_or_else(|| random_hex(16)),
            token_stamp: user.token_stamp.clone(),
            consumed_at: 0,
        };
        Ok(NewSession {
            access_token,
            refresh_token,
            claims,
            refresh_row,
        })
    }

    /// The answer to a session stored.
    pub(super) async fn session_answer(
        &self,
        user: UserRow,
        session: NewSession,
    ) -> Result<IssuedToken> {
        self.token_answer(
            user,
            session.access_token,
            session.refresh_token,
            &session.claims,
        )
        .await
    }

    /// A token for `user_id` taken by `issuer`, someone else (an admin answering
    /// `get_access_token_by_link_info` or `account/link`): it names its issuer (`act`), lives
    /// at most 15 minutes, has no refresh token, and stops working when the user comes to
    /// outrank the issuer or the issuer's sessions end. The caller has checked the issuer may
    /// reach the user. A caller taking its own token gets an ordinary session.
    pub(crate) async fn issue_delegated_token(
        &self,
        issuer: &Actor,
        user_id: &str,
    ) -> Result<IssuedToken> {
        if issuer.user_id == user_id {
            return self
                .issue_tokens(&issuer.trail, &issuer.domain_id, user_id)
                .await;
        }
        let refused = || Error::Unauthorized(AuthProblem::InvalidCredentials);
        let user = self
            .store
            .user(&issuer.domain_id, &UserId::from(user_id))
            .await?
            .ok_or_else(refused)?;
        require_good_standing(&user, self.clock.now_ms(), refused())?;
        let issuer_claim = self.issuer_claim(issuer).await?;
        let ttl = self.token_settings.access_ttl.min(MAX_DELEGATED_TTL);
        let (access_token, claims) = self.sign_for(&user, ttl, Some(issuer_claim))?;
        issuer.trail.record(crate::audit::Event {
            domain_id: &user.domain_id,
            actor_id: &issuer.user_id,
            action: "token.issue",
            target_type: "user",
            target_id: &user.user_id,
            detail: serde_json::json!({ "delegated": true }),
        });
        self.metrics.token_issued("delegated");
        self.token_answer(user, access_token, String::new(), &claims)
            .await
    }

    /// The `act` claim naming `issuer` with its current generation.
    async fn issuer_claim(&self, issuer: &Actor) -> Result<IssuerClaim> {
        let gen = match issuer.user_id.strip_prefix("app:") {
            Some(client_id) => self
                .store
                .app(&issuer.domain_id, client_id)
                .await?
                .map(|a| a.instance_stamp),
            None => self
                .store
                .user(&issuer.domain_id, &issuer.user_id)
                .await?
                .map(|u| u.token_stamp),
        };
        Ok(IssuerClaim {
            sub: issuer.user_id.to_string(),
            gen: gen.ok_or(Error::Unauthorized(AuthProblem::AccessTokenInvalid))?,
        })
    }

    /// A signed access token for `user`, living `ttl`, bound to its current generation.
    fn sign_for(
        &self,
        user: &UserRow,
        ttl: Duration,
        act: Option<IssuerClaim>,
    ) -> Result<(String, AccessClaims)> {
        let iat = self.clock.now_ms() / 1000;
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub: user.user_id.clone(),
            aud: user.domain_id.clone(),
            iat,
            exp: iat + ttl.as_secs() as i64,
            jti: random_hex(16),
            svc: None,
            gen: user.token_stamp.clone(),
            act,
        };
        Ok((self.tokens.sign(&claims)?, claims))
    }

    /// The answer for tokens just issued to `user`, with its logon accounts.
    async fn token_answer(
        &self,
        user: UserRow,
        access_token: String,
        refresh_token: String,
        claims: &AccessClaims,
    ) -> Result<IssuedToken> {
        let logons = self
            .store
            .accounts_of(
                &DomainId::from(&user.domain_id),
                std::slice::from_ref(&user.user_id),
            )
            .await?;
        Ok(IssuedToken {
            access_token,
            refresh_token,
            expires_in: claims.exp - claims.iat,
            expires_at_s: claims.exp,
            holder: TokenHolder::User {
                user: Box::new(user),
                logons,
            },
            is_first_login: false,
            id_token: None,
            scope: None,
        })
    }
}

impl Services {
    /// A domain service token for a JWT app: superadmin rights in the domain, no user, no
    /// refresh token (the app asserts again). It stops working when the app is disabled or
    /// deleted, and never works for an app re-created under the same `client_id`.
    pub(crate) fn issue_service_token(&self, app: &AppRow) -> Result<IssuedToken> {
        let domain_id = &app.domain_id;
        let iat = self.clock.now_ms() / 1000;
        let access_ttl = self.token_settings.access_ttl.as_secs() as i64;
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub: domain_id.to_owned(),
            aud: domain_id.to_owned(),
            iat,
            exp: iat + access_ttl,
            jti: random_hex(16),
            svc: Some(app.client_id.clone()),
            gen: app.instance_stamp.clone(),
            act: None,
        };
        Ok(IssuedToken {
            access_token: self.tokens.sign(&claims)?,
            refresh_token: String::new(),
            expires_in: access_ttl,
            expires_at_s: claims.exp,
            holder: TokenHolder::App {
                domain_id: domain_id.to_owned(),
            },
            is_first_login: false,
            id_token: None,
            scope: None,
        })
    }

    /// The app a token names, while it is registered, enabled, and the same instance
    /// (`instance_stamp` = `gen`).
    async fn current_app(&self, domain_id: &str, client_id: &str, gen: &str) -> Result<AppRow> {
        self.store
            .app(&DomainId::from(domain_id), client_id)
            .await?
            .filter(|a| a.status == "enabled" && a.instance_stamp == gen)
            .ok_or(Error::Unauthorized(AuthProblem::AccessTokenInvalid))
    }
}

/// The actor of an app's service token: superadmin rights in its domain.
fn service_actor(app: &AppRow) -> Actor {
    Actor {
        domain_id: app.domain_id.clone().into(),
        user_id: format!("app:{}", app.client_id).into(),
        role: Role::Superadmin,
        trail: Trail::none(),
    }
}

/// How far a role reaches, to compare an issuer's with its token's user's.
fn rank(role: Role) -> u8 {
    match role {
        Role::Superadmin | Role::SubdomainSuperAdmin => 2,
        Role::Admin | Role::SubdomainAdmin => 1,
        // Issues no token (rank 0 issues none); any admin may issue one for it.
        Role::User | Role::DirectoryReader => 0,
    }
}

/// Refuses (with `refused`) a user who is locked (disabled, or past its lock time) or under
/// a punishment in force: no credential acts for it.
pub(crate) fn require_good_standing(user: &UserRow, now: i64, refused: Error) -> Result<()> {
    if user.locked_at(now) || users::punished_at(&user.punishments, now) {
        return Err(refused);
    }
    Ok(())
}

/// The actor a credential of `user` acts as, for a call of `kind`: refused (with `refused`)
/// for a user not in good standing, `403` for an `Ordinary` call of a user who must change
/// its password first. Every credential goes through here: bearer tokens of every dialect
/// and signed requests alike.
/// Who an access token speaks for, before admission.
pub(crate) enum VerifiedCaller {
    /// An app's service token: its actor (no user).
    App(Actor),
    /// A user: its row as read for this request.
    User(Box<UserRow>),
}

pub(crate) fn admit(user: UserRow, kind: CallKind, refused: Error, now: i64) -> Result<Actor> {
    require_good_standing(&user, now, refused)?;
    if user.need_change_password_next_login && kind == CallKind::Ordinary {
        return Err(Error::forbidden(
            "the password must be changed first (/v2/account/change_password)",
        ));
    }
    Ok(Actor {
        role: user.role()?,
        domain_id: user.domain_id.into(),
        user_id: user.user_id.into(),
        trail: Trail::none(),
    })
}
