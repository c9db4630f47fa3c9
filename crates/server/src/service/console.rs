//! What the admin console needs beyond the API's operations: its built-in first-party app
//! (`roster-console`, the code flow with PKCE), who a console session acts as (its access
//! token admitted as the API admits a bearer token, an ordinary call, so a user that must
//! change its password first, or is locked, is refused like any API caller; renewed by the
//! refresh grant; ended by revoking its refresh-token family), and what part of the
//! directory an operator sees there: the whole domain for admins, the subtrees of the groups it administers for a
//! group admin. Changes go through the API's own service calls, which enforce the same rules.

use sha2::{Digest, Sha256};

use super::sessions::TOUCH_EVERY_MS;
use super::tokens::CallKind;
use super::{random_hex, Actor, Services};
use crate::audit::Trail;
use crate::error::{AuthProblem, Error, Resource, Result};
use crate::model::DomainId;
use crate::model::UserId;
use crate::model::{
    AuditEntry, AuditSearch, Group, IssuedToken, ListedBothWays, QuotaUse, UserExtras, UserSearch,
    UserWithExtras,
};
use crate::store::apps::AppRow;
use crate::store::signin::{AuthorizationCodeRow, ConsoleSessionRow};
use crate::store::RefreshTokenRow;

/// The audit actions that are a person signing in: the password grant (and eds's and
/// KooDrive's logins, which are it) and the hosted sign-in page.
pub const SIGNIN_ACTIONS: [&str; 2] = ["account.login", "signin.login"];

/// The most sign-ins the overview counts (per action and outcome); beyond it, it says
/// "at least". Counting stays an index range of bounded length.
pub const SIGNIN_COUNT_CAP: i64 = 10_000;

/// How many of the latest audit records the overview shows.
pub const OVERVIEW_AUDIT_RECORDS: i64 = 10;

/// The console's first page: the domain's quotas and their use, the last day's sign-ins,
/// the latest audit records.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Users and the space given to drives against the quotas: both kept figures
    /// (`user_counts`, `drive_totals`), not scans.
    pub quota: QuotaUse,
    /// Sign-ins and failed sign-ins of the last 24 hours, each at most
    /// `SIGNIN_COUNT_CAP * SIGNIN_ACTIONS.len()`.
    pub signins: i64,
    pub failed_signins: i64,
    /// A count stopped at its cap: the figure is a lower bound.
    pub signins_capped: bool,
    pub failed_capped: bool,
    pub latest: Vec<AuditEntry>,
}

/// How long after a console refresh token was used it still renews its session (ms): two
/// tabs renewing at once send the same token, and the later one must not count as a stolen
/// token's reuse, which would end the session.
pub const CONSOLE_RENEW_GRACE_MS: i64 = 10_000;

/// The `client_id` of the console's built-in app, in every domain. The app is not stored:
/// no tenant lists, changes or deletes it, and `app/create` refuses the id.
pub const CONSOLE_CLIENT_ID: &str = "roster-console";
/// Where the code flow brings an operator back to the console.
pub const CONSOLE_CALLBACK_PATH: &str = "/console/callback";

/// The console's callback URI under `issuer`: the public base URL the request's domain
/// answers at (`--public-url`, per domain with `Host` routing; without it, the origin the
/// browser reached), computed as the OpenID Connect issuer is.
pub fn console_callback(issuer: &str) -> String {
    format!("{issuer}{CONSOLE_CALLBACK_PATH}")
}

/// The console's built-in app of `domain_id` as the code flow sees it for a request to
/// `issuer`: a first-party public client (PKCE required, no secret), trusted (with
/// `hide_consent` it skips the consent page), whose one redirect URI is the console's
/// callback under `issuer`. No third party can use it: a code for it only ever goes to the
/// console's callback, which takes it only with the PKCE verifier and state its own
/// redirect set in that browser.
pub(crate) fn console_app(domain_id: &str, issuer: &str) -> AppRow {
    AppRow {
        domain_id: domain_id.to_owned(),
        client_id: CONSOLE_CLIENT_ID.to_owned(),
        app_name: "Roster console".to_owned(),
        algorithm: String::new(),
        public_key: String::new(),
        status: "enabled".to_owned(),
        creator: String::new(),
        created_at: 0,
        updated_at: 0,
        instance_stamp: String::new(),
        app_type: crate::model::AppType::SinglePageApp.as_str().to_owned(),
        redirect_uris: serde_json::json!([console_callback(issuer)]).to_string(),
        scopes: r#"["openid"]"#.to_owned(),
        trusted: true,
        client_secret_hash: String::new(),
    }
}

/// A console sign-in begun: what the browser keeps (state and PKCE verifier) and where it
/// is sent (`/v2/oauth/authorize` with the console's app).
#[derive(Debug, Clone)]
pub struct ConsoleSignIn {
    /// 32 hex digits.
    pub state: String,
    /// 64 hex digits (a PKCE verifier, RFC 7636).
    pub verifier: String,
    /// `/v2/oauth/authorize?...`: a path of this site.
    pub authorize_path: String,
}

/// A new console sign-in for a request to `issuer`.
pub fn begin_console_sign_in(issuer: &str) -> ConsoleSignIn {
    let state = random_hex(16);
    let verifier = random_hex(32);
    let challenge = super::authorization::s256(&verifier);
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", CONSOLE_CLIENT_ID)
        .append_pair("redirect_uri", &console_callback(issuer))
        .append_pair("response_type", "code")
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("hide_consent", "true")
        .finish();
    ConsoleSignIn {
        state,
        verifier,
        authorize_path: format!("/v2/oauth/authorize?{query}"),
    }
}

/// A browser's console session, admitted.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The operator, admitted as an API call with its access token is.
    pub actor: Actor,
    /// The token the session's forms carry (CSRF): derived from the session's refresh-token
    /// family, which only the store knows, so it stays the same when the tokens are renewed.
    pub form_token: String,
    /// New tokens, when the access token had expired and the refresh grant renewed it: the
    /// browser must keep them.
    pub renewed: Option<IssuedToken>,
}

/// The form token of a console session of refresh-token family `family_id`.
fn console_form_token(family_id: &str) -> String {
    let digest = Sha256::digest(format!("roster-console-form\0{family_id}").as_bytes());
    hex::encode(&digest[..16])
}

/// The part of the directory a console operator sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleScope {
    /// An admin: the whole domain.
    Domain,
    /// A group admin: the groups it administers (the roots), the groups below them and
    /// their users.
    Subtrees(Vec<String>),
}

impl ConsoleScope {
    pub fn is_domain(&self) -> bool {
        matches!(self, ConsoleScope::Domain)
    }
}

/// An object outside a group admin's subtrees answers as one that does not exist.
fn outside(resource: Resource) -> Error {
    Error::NotFound(resource)
}

impl Services {
    /// The console session a browser's cookies hold (an access token, and the refresh token
    /// of the same session) for a request to `domain_id`: the access token admitted through
    /// [`Services::authenticate`], the API's one admission path, for an ordinary call (a
    /// locked, disabled or punished user, or one whose sessions ended, is refused at once;
    /// one that must change its password first is `Forbidden`). An expired access token is
    /// renewed through the refresh grant ([`Services::refresh`]). The refresh token's
    /// family must still be stored: a console sign-out deletes it, which ends the session
    /// although its access token has not expired.
    pub async fn console_session(
        &self,
        trail: &Trail,
        domain_id: &str,
        access_token: Option<&str>,
        refresh_token: &str,
    ) -> Result<ConsoleSession> {
        let invalid = || Error::Unauthorized(AuthProblem::AccessTokenInvalid);
        let row = self
            .refresh_token_row(refresh_token)
            .await?
            .filter(|r| r.domain_id == domain_id && r.expires_at > self.clock.now_ms())
            .ok_or_else(invalid)?;
        self.keep_console_session(trail, &row).await?;
        let form_token = console_form_token(&row.family_id);
        if let Some(access) = access_token.filter(|a| !a.is_empty()) {
            match self
                .authenticate(Some(domain_id), access, CallKind::Ordinary)
                .await
            {
                Ok(actor) if actor.user_id == row.user_id => {
                    return Ok(ConsoleSession {
                        actor,
                        form_token,
                        renewed: None,
                    })
                }
                Ok(_) => return Err(invalid()),
                Err(Error::Unauthorized(_)) => {}
                Err(e) => return Err(e),
            }
        }
        // Two tabs of one browser may renew at once with the same token: the second, within
        // the grace, gets tokens of the same session rather than revoking it as a reuse.
        let renewed = self
            .refresh_with_grace(
                trail,
                Some(domain_id),
                refresh_token,
                CONSOLE_RENEW_GRACE_MS,
            )
            .await?;
        let actor = self
            .authenticate(Some(domain_id), &renewed.access_token, CallKind::Ordinary)
            .await?;
        Ok(ConsoleSession {
            actor,
            form_token,
            renewed: Some(renewed),
        })
    }

    /// Ends a console session (its sign-out): every refresh token of its family goes, so
    /// neither they nor its access token open the console again. Unknown tokens end nothing.
    pub async fn end_console_session(
        &self,
        trail: &Trail,
        domain_id: &str,
        refresh_token: &str,
    ) -> Result<()> {
        let Some(row) = self
            .refresh_token_row(refresh_token)
            .await?
            .filter(|r| r.domain_id == domain_id)
        else {
            return Ok(());
        };
        self.end_console_family(trail, &row, "console sign-out")
            .await
    }

    /// Ends the console session of refresh token `row` (audited as `token.revoke` for
    /// `reason`): its refresh-token family and its kept row go.
    async fn end_console_family(
        &self,
        trail: &Trail,
        row: &RefreshTokenRow,
        reason: &str,
    ) -> Result<()> {
        trail.record(crate::audit::Event {
            domain_id: &row.domain_id,
            actor_id: &row.user_id,
            action: "token.revoke",
            target_type: "user",
            target_id: &row.user_id,
            detail: serde_json::json!({ "reason": reason }),
        });
        self.store
            .revoke_refresh_family(trail, &DomainId::from(&row.domain_id), &row.family_id)
            .await?;
        self.store.delete_console_session(&row.family_id).await
    }

    /// Starts the console session a code of the console's app issues (the code's
    /// refresh-token family), its sign-in time the code's `auth_time`: it lasts as the
    /// sign-in session it was won through would. The user's timed-out ones go.
    pub(crate) async fn begin_console_session(&self, code: &AuthorizationCodeRow) -> Result<()> {
        let now = self.clock.now_ms();
        let t = &self.token_settings;
        let session = ConsoleSessionRow {
            family_id: code.family_id.clone(),
            domain_id: code.domain_id.clone(),
            user_id: code.user_id.clone(),
            signed_in_at: code.auth_time,
            last_seen_at: now,
        };
        let stale_before = now - t.session_idle.as_millis() as i64;
        let born_before = now - t.session_max.as_millis() as i64;
        self.store
            .insert_console_session(session, stale_before, born_before)
            .await
    }

    /// The rule of a console session's lifetime, kept by the store, not by the browser's
    /// cookies: past the sign-in sessions' idle timeout since its last request, or their
    /// absolute lifetime since its sign-in, it ends (refused, its refresh tokens revoked);
    /// otherwise this request is its latest use (written at most once a minute, as a
    /// sign-in session's). A refresh token no console sign-in issued is refused.
    async fn keep_console_session(&self, trail: &Trail, row: &RefreshTokenRow) -> Result<()> {
        let now = self.clock.now_ms();
        let kept = self
            .store
            .console_session(&row.family_id)
            .await?
            .filter(|c| c.domain_id == row.domain_id && c.user_id == row.user_id);
        let Some(kept) = kept else {
            return Err(Error::Unauthorized(AuthProblem::AccessTokenInvalid));
        };
        if !self
            .token_settings
            .session_live(kept.signed_in_at, kept.last_seen_at, now)
        {
            self.end_console_family(trail, row, "console session timed out")
                .await?;
            return Err(Error::Unauthorized(AuthProblem::AccessTokenInvalid));
        }
        if now - kept.last_seen_at >= TOUCH_EVERY_MS {
            self.store
                .touch_console_session(&row.family_id, now)
                .await?;
        }
        Ok(())
    }

    /// What `actor` sees on the console; `Forbidden` for a user that neither has admin
    /// permission nor administers a group.
    pub async fn console_scope(&self, actor: &Actor) -> Result<ConsoleScope> {
        if actor.is_admin() {
            return Ok(ConsoleScope::Domain);
        }
        // The groups it administers itself or through a group it is a member of, as the
        // API's group-admin rules count them.
        let roots = self
            .store
            .administered_groups(&actor.domain_id, &actor.user_id)
            .await?;
        if roots.is_empty() {
            return Err(Error::forbidden("the console is for administrators"));
        }
        Ok(ConsoleScope::Subtrees(roots))
    }

    /// The overview (admins, as the quota and the audit log are theirs to read).
    pub async fn console_overview(&self, actor: &Actor) -> Result<Overview> {
        actor.require_admin()?;
        let domain = self.own_domain(actor).await?;
        let quota = QuotaUse {
            size_quota: domain.size_quota,
            size_used: self.store.drive_usage(&actor.domain_id).await?.allocated,
            user_count_quota: domain.user_count_quota,
            user_count_used: self.store.count_users(&actor.domain_id).await?,
        };
        let since = self.clock.now_ms() - 24 * 3600 * 1000;
        let mut counts = [(0i64, false), (0i64, false)];
        for (slot, outcome) in counts
            .iter_mut()
            .zip([crate::audit::SUCCESS, crate::audit::FAILURE])
        {
            for action in SIGNIN_ACTIONS {
                let n = self
                    .store
                    .count_audit(&actor.domain_id, action, outcome, since, SIGNIN_COUNT_CAP)
                    .await?;
                slot.0 += n;
                slot.1 |= n >= SIGNIN_COUNT_CAP;
            }
        }
        let latest = self
            .list_audit_log(
                actor,
                AuditSearch {
                    limit: Some(OVERVIEW_AUDIT_RECORDS),
                    ..AuditSearch::default()
                },
            )
            .await?
            .items;
        let [(signins, signins_capped), (failed_signins, failed_capped)] = counts;
        Ok(Overview {
            quota,
            signins,
            failed_signins,
            signins_capped,
            failed_capped,
            latest,
        })
    }

    /// The users page: `user/search` for admins; for a group admin the same search, narrowed
    /// to the users of its subtrees. Paged both ways by one marker (`search.direction`).
    pub async fn console_users(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        search: UserSearch,
    ) -> Result<ListedBothWays<UserWithExtras>> {
        match scope {
            ConsoleScope::Domain => {
                self.search_users_with(actor, search, &[], None, UserExtras::default())
                    .await
            }
            ConsoleScope::Subtrees(roots) => {
                if search.subdomain_id.is_some() {
                    return Err(Error::forbidden(
                        "only a parent domain's admins reach subdomains",
                    ));
                }
                self.find_users_in(actor, search, roots, None, UserExtras::default())
                    .await
            }
        }
    }

    /// A user's page: any user of the domain for admins; for a group admin only a user of
    /// its subtrees (any other answers as not found).
    pub async fn console_user(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        user_id: &str,
        extras: UserExtras,
    ) -> Result<UserWithExtras> {
        if let ConsoleScope::Subtrees(roots) = scope {
            super::validate::max_len("user_id", user_id, super::validate::MAX_USER_ID)?;
            if !self
                .user_in_subtrees(&actor.domain_id, user_id, roots)
                .await?
            {
                return Err(outside(Resource::User));
            }
            let row = self
                .store
                .user(&actor.domain_id, &UserId::from(user_id))
                .await?
                .ok_or(Error::NotFound(Resource::User))?;
            let mut items = self
                .with_extras(&actor.domain_id, vec![row], extras)
                .await?;
            return items.pop().ok_or(Error::NotFound(Resource::User));
        }
        self.get_user_with(actor, Some(user_id), extras).await
    }

    /// A group on the groups page: any group for admins; for a group admin only one at or
    /// below a group it administers (any other answers as not found).
    pub async fn console_group(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        group_id: &str,
    ) -> Result<Group> {
        let group = self.get_group(actor, group_id).await?;
        if !scope.is_domain() && !self.may_manage(actor, group_id, true).await? {
            return Err(outside(Resource::Group));
        }
        Ok(group)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{
        scratch_services, scratch_services_on_each_backend, superadmin, user_with_role, DOMAIN,
    };
    use super::super::users::UserCreation;
    use super::super::Services;
    use crate::model::{ImportedUserSpec, LogonKind, NewDomainSpec, NewUserSpec, Role};

    fn spec(user_id: &str) -> NewUserSpec {
        NewUserSpec {
            user_id: user_id.into(),
            ..NewUserSpec::default()
        }
    }

    fn imported(user_id: &str) -> ImportedUserSpec {
        ImportedUserSpec {
            user_id: Some(user_id.into()),
            kind: LogonKind::Custom,
            identity: user_id.into(),
            nick_name: user_id.into(),
            display_name: None,
            extra: None,
            auto_create_drive: None,
            drive_total_size: None,
            parent_group_id: None,
            plain_password: None,
            email: None,
            phone: None,
            deny_change_password_by_self: None,
            need_change_password_next_login: None,
            expired_at: None,
            phone_region: None,
        }
    }

    async fn kept_count(services: &Services, domain_id: &str) -> i64 {
        services.store.count_users(domain_id).await.unwrap()
    }

    /// What the kept count must equal.
    async fn counted(services: &Services) -> i64 {
        let mut n = 0;
        let mut marker = None;
        loop {
            let page = services
                .search_users_with(
                    &superadmin(),
                    crate::model::UserSearch {
                        limit: Some(100),
                        marker,
                        ..Default::default()
                    },
                    &[],
                    None,
                    Default::default(),
                )
                .await
                .unwrap();
            n += page.items.len() as i64;
            if page.next_marker.is_empty() {
                return n;
            }
            marker = Some(page.next_marker);
        }
    }

    #[tokio::test]
    async fn the_kept_user_count_stays_exact_through_create_import_batch_and_delete() {
        for (_dir, services) in scratch_services_on_each_backend().await {
            the_kept_user_count_stays_exact_on(&services).await;
        }
    }

    async fn the_kept_user_count_stays_exact_on(services: &Services) {
        let admin = superadmin();
        assert_eq!(
            kept_count(services, DOMAIN).await,
            1,
            "the bootstrapped admin"
        );
        services.create_user(&admin, spec("u1")).await.unwrap();
        services.import_user(&admin, imported("u2")).await.unwrap();
        // A refused create changes nothing.
        assert!(services.create_user(&admin, spec("u1")).await.is_err());
        // A batch with one bad item: the others count, the bad one does not.
        let results = services
            .create_users(
                &admin,
                (3..23)
                    .map(|i| UserCreation::Create(spec(&format!("b{i}"))))
                    .chain([UserCreation::Create(spec("u1"))])
                    .chain([UserCreation::Import(imported("i1"))])
                    .collect(),
            )
            .await
            .unwrap();
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!(kept_count(services, DOMAIN).await, 24);
        services.delete_user(&admin, "u1").await.unwrap();
        services.delete_user(&admin, "b7").await.unwrap();
        assert!(services.delete_user(&admin, "b7").await.is_err());
        assert_eq!(kept_count(services, DOMAIN).await, 22);
        assert_eq!(counted(services).await, 22);
        let overview = services.console_overview(&admin).await.unwrap();
        assert_eq!(overview.quota.user_count_used, 22);
        assert_eq!(overview.signins, 0);
    }

    #[tokio::test]
    async fn a_new_domain_counts_its_first_admin_and_its_count_goes_with_it() {
        for (_dir, services) in scratch_services_on_each_backend().await {
            a_new_domain_counts_its_first_admin_on(&services).await;
        }
    }

    /// A second domain, `other`.
    async fn create_other_domain(services: &Services) {
        let spec = NewDomainSpec {
            domain_id: Some("other".into()),
            domain_name: "Other".into(),
            ..NewDomainSpec::default()
        };
        services.create_domain(&superadmin(), spec).await.unwrap();
    }

    async fn a_new_domain_counts_its_first_admin_on(services: &Services) {
        let admin = superadmin();
        create_other_domain(services).await;
        assert_eq!(kept_count(services, "other").await, 1);
        assert_eq!(kept_count(services, DOMAIN).await, 1);
        services.delete_domain(&admin, "other", true).await.unwrap();
        assert_eq!(kept_count(services, "other").await, 0);
    }

    #[tokio::test]
    async fn the_overview_is_the_admins() {
        let (_dir, services) = scratch_services().await;
        let plain = user_with_role(&services, "plain", Role::User).await;
        assert!(matches!(
            services.console_overview(&plain).await,
            Err(crate::error::Error::Forbidden(_))
        ));
        let admin = user_with_role(&services, "adm", Role::Admin).await;
        let overview = services.console_overview(&admin).await.unwrap();
        assert_eq!(overview.quota.user_count_used, 3);
        assert_eq!(overview.quota.size_used, 0);
    }

    /// What the kept drive totals must equal: the sum over every drive of the domain.
    async fn summed_drives(services: &Services) -> (i64, i64) {
        let (mut allocated, mut used) = (0, 0);
        let mut marker = None;
        loop {
            let search = crate::model::DriveSearch {
                limit: Some(100),
                marker,
                ..Default::default()
            };
            let page = services.search_drives(&superadmin(), search).await.unwrap();
            for d in &page.items {
                allocated += d.total_size.max(0);
                used += d.used_size;
            }
            if page.next_marker.is_empty() {
                return (allocated, used);
            }
            marker = Some(page.next_marker);
        }
    }

    async fn kept_drives(services: &Services, domain_id: &str) -> (i64, i64) {
        let usage = services.store.drive_usage(domain_id).await.unwrap();
        (usage.allocated, usage.used)
    }

    #[tokio::test]
    async fn the_kept_drive_totals_stay_exact_through_every_drive_write() {
        for (_dir, services) in scratch_services_on_each_backend().await {
            the_kept_drive_totals_stay_exact_on(&services).await;
        }
    }

    async fn the_kept_drive_totals_stay_exact_on(services: &Services) {
        use crate::model::{
            DomainChanges, DriveChanges, DriveOwnerType, NewDriveSpec, NewGroupSpec,
        };
        const GIB: i64 = 1 << 30;
        let admin = superadmin();
        let drive = |owner: &str, owner_type, total_size| NewDriveSpec {
            drive_name: format!("{owner}'s"),
            owner: owner.into(),
            owner_type,
            total_size: Some(total_size),
            is_default: None,
            description: None,
            status: None,
            subdomain_id: None,
        };
        let check = |step: &'static str| async move {
            let kept = kept_drives(services, DOMAIN).await;
            assert_eq!(kept, summed_drives(services).await, "{step}");
            kept
        };
        // New users' drives, one by one and in a batch.
        let changes = DomainChanges {
            init_drive_enable: Some(true),
            init_drive_size: Some(3 * GIB),
            ..DomainChanges::default()
        };
        services
            .update_domain(&admin, DOMAIN, changes)
            .await
            .unwrap();
        services.create_user(&admin, spec("u1")).await.unwrap();
        services
            .create_users(
                &admin,
                (2..6)
                    .map(|i| UserCreation::Create(spec(&format!("u{i}"))))
                    .collect(),
            )
            .await
            .unwrap();
        assert_eq!(check("new users' drives").await.0, 5 * 3 * GIB);
        // Drives of their own, with a limit, without, and of a group.
        let big = services
            .create_drive(
                &admin,
                drive("u1", DriveOwnerType::User, super::super::validate::MAX_SIZE),
            )
            .await
            .unwrap();
        let open = services
            .create_drive(&admin, drive("u2", DriveOwnerType::User, -1))
            .await
            .unwrap();
        let group = services
            .create_group(
                &admin,
                NewGroupSpec {
                    name: "g".into(),
                    ..NewGroupSpec::default()
                },
            )
            .await
            .unwrap();
        services
            .create_drive(&admin, drive(&group.group_id, DriveOwnerType::Group, GIB))
            .await
            .unwrap();
        check("created").await;
        // Size changes: limited to unlimited and back, and a change of name only.
        let resize = |total_size| DriveChanges {
            total_size: Some(total_size),
            ..DriveChanges::default()
        };
        services
            .update_drive(&admin, &big.drive_id, resize(-1))
            .await
            .unwrap();
        services
            .update_drive(&admin, &open.drive_id, resize(7 * GIB))
            .await
            .unwrap();
        let renamed = DriveChanges {
            drive_name: Some("renamed".into()),
            ..DriveChanges::default()
        };
        services
            .update_drive(&admin, &open.drive_id, renamed)
            .await
            .unwrap();
        assert!(services
            .update_drive(&admin, "no-such-drive", resize(GIB))
            .await
            .is_err());
        check("resized").await;
        // Deletions: a drive, a user with its drives, a group with its drive.
        services.delete_drive(&admin, &open.drive_id).await.unwrap();
        services.delete_user(&admin, "u1").await.unwrap();
        services
            .delete_group(&admin, &group.group_id)
            .await
            .unwrap();
        assert_eq!(check("deleted").await.0, 4 * 3 * GIB);
        // Another domain's drives count in its own totals, which go with it.
        create_other_domain(services).await;
        assert_eq!(kept_drives(services, "other").await, (0, 0));
        services.delete_domain(&admin, "other", true).await.unwrap();
        assert_eq!(check("another domain").await.0, 4 * 3 * GIB);
    }

    use super::*;
    use crate::service::authorization::{AuthorizeParams, AuthorizeRefusal, PageProblem};

    const ISSUER: &str = "https://roster.example.test";

    fn console_request(redirect_uri: &str, challenge: Option<&str>) -> AuthorizeParams {
        AuthorizeParams {
            client_id: Some(CONSOLE_CLIENT_ID.into()),
            redirect_uri: Some(redirect_uri.into()),
            response_type: Some("code".into()),
            state: Some("s".into()),
            hide_consent: Some("true".into()),
            code_challenge: challenge.map(str::to_owned),
            code_challenge_method: challenge.map(|_| "S256".to_owned()),
            ..AuthorizeParams::default()
        }
    }

    #[tokio::test]
    async fn the_console_app_takes_only_its_callback_under_the_issuer_and_pkce() {
        let (_dir, services) = scratch_services().await;
        let begun = begin_console_sign_in(ISSUER);
        assert_eq!(begun.state.len(), 32);
        assert_eq!(begun.verifier.len(), 64);
        let challenge = crate::service::authorization::s256(&begun.verifier);
        assert!(begun.authorize_path.contains(&challenge));
        let ok = services
            .check_authorization(
                DOMAIN,
                &console_request(&console_callback(ISSUER), Some(&challenge)),
                ISSUER,
            )
            .await
            .unwrap();
        assert!(ok.is_ok(), "{ok:?}");
        for other in [
            "http://evil.example/console/callback",
            "https://roster.example.test/console/callback/",
            "https://roster.example.test/elsewhere",
        ] {
            let refused = services
                .check_authorization(DOMAIN, &console_request(other, Some(&challenge)), ISSUER)
                .await
                .unwrap();
            assert_eq!(
                refused.unwrap_err(),
                AuthorizeRefusal::Page(PageProblem::BadRedirectUri),
                "{other}"
            );
        }
        // A public client: no code without PKCE.
        let refused = services
            .check_authorization(
                DOMAIN,
                &console_request(&console_callback(ISSUER), None),
                ISSUER,
            )
            .await
            .unwrap();
        assert!(
            matches!(refused, Err(AuthorizeRefusal::Redirect(ref to)) if to.contains("error=invalid_request")),
            "{refused:?}"
        );
    }

    /// Tokens of a console session of `admin`, as the console's code exchange starts one.
    async fn console_tokens(services: &Services) -> IssuedToken {
        let issued = services
            .issue_tokens(&Trail::none(), DOMAIN, "admin")
            .await
            .unwrap();
        let row = services
            .refresh_token_row(&issued.refresh_token)
            .await
            .unwrap()
            .unwrap();
        let code = AuthorizationCodeRow {
            code_hash: String::new(),
            domain_id: DOMAIN.into(),
            client_id: CONSOLE_CLIENT_ID.into(),
            user_id: "admin".into(),
            redirect_uri: String::new(),
            scope: String::new(),
            code_challenge: String::new(),
            nonce: String::new(),
            auth_time: services.clock.now_ms(),
            family_id: row.family_id,
            expires_at: 0,
            consumed_at: 0,
        };
        services.begin_console_session(&code).await.unwrap();
        issued
    }

    #[tokio::test]
    async fn a_console_session_is_admitted_renewed_and_ended() {
        let (_dir, mut services) = scratch_services().await;
        // Sessions long enough for the access token to expire while unused.
        services.token_settings.session_idle = std::time::Duration::from_secs(24 * 3600);
        let trail = Trail::none();
        // Tokens no console sign-in issued open no console session.
        let plain = services
            .issue_tokens(&trail, DOMAIN, "admin")
            .await
            .unwrap();
        assert!(services
            .console_session(
                &trail,
                DOMAIN,
                Some(&plain.access_token),
                &plain.refresh_token
            )
            .await
            .is_err());
        let issued = console_tokens(&services).await;
        let first = services
            .console_session(
                &trail,
                DOMAIN,
                Some(&issued.access_token),
                &issued.refresh_token,
            )
            .await
            .unwrap();
        assert_eq!(first.actor.user_id, "admin");
        assert!(first.renewed.is_none());
        // Another domain's request, or a refresh token of another session: refused.
        let other = console_tokens(&services).await;
        let mixed = services
            .console_session(
                &trail,
                DOMAIN,
                Some(&issued.access_token),
                &other.refresh_token,
            )
            .await
            .unwrap();
        assert_ne!(
            mixed.form_token, first.form_token,
            "each session its own token"
        );
        assert!(services
            .console_session(
                &trail,
                "elsewhere",
                Some(&issued.access_token),
                &issued.refresh_token
            )
            .await
            .is_err());

        services
            .clock
            .advance(std::time::Duration::from_secs(3 * 3600));
        let renewed = services
            .console_session(
                &trail,
                DOMAIN,
                Some(&issued.access_token),
                &issued.refresh_token,
            )
            .await
            .unwrap();
        let tokens = renewed
            .renewed
            .clone()
            .expect("renewed by the refresh grant");
        assert_eq!(renewed.form_token, first.form_token, "the same session");
        assert_ne!(tokens.refresh_token, issued.refresh_token);

        services
            .end_console_session(&trail, DOMAIN, &tokens.refresh_token)
            .await
            .unwrap();
        let ended = services
            .console_session(
                &trail,
                DOMAIN,
                Some(&tokens.access_token),
                &tokens.refresh_token,
            )
            .await;
        assert!(matches!(ended, Err(Error::Unauthorized(_))), "{ended:?}");
        // The other session lives on.
        assert!(services
            .console_session(
                &trail,
                DOMAIN,
                Some(&other.access_token),
                &other.refresh_token
            )
            .await
            .is_ok());
    }
}
