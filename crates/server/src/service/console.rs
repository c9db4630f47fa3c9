//! What the admin console needs beyond the API's operations: who a browser's sign-in session
//! acts as on the console (an ordinary call, so a user that must change its password first,
//! or is locked, is refused like any API caller), and what part of the directory an operator
//! sees there: the whole domain for admins, the subtrees of the groups it administers for a
//! group admin. Changes go through the API's own service calls, which enforce the same rules.

use super::sessions::SigninSession;
use super::tokens::CallKind;
use super::{Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::model::{
    AuditEntry, AuditSearch, Group, Listed, QuotaUse, UserExtras, UserSearch, UserWithExtras,
};

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
    /// Users (a kept count, not a scan) and drive space against the quotas. The space is
    /// a sum over every drive of the domain (about 0.3 s at a million drives), so it is
    /// read only when asked for: `size_used` is `None` otherwise.
    pub quota: QuotaUse,
    pub size_used: Option<i64>,
    /// Sign-ins and failed sign-ins of the last 24 hours, each at most
    /// `SIGNIN_COUNT_CAP * SIGNIN_ACTIONS.len()`.
    pub signins: i64,
    pub failed_signins: i64,
    /// A count stopped at its cap: the figure is a lower bound.
    pub signins_capped: bool,
    pub failed_capped: bool,
    pub latest: Vec<AuditEntry>,
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
    /// The caller a console page acts as: the session's user, admitted as any API call is.
    pub async fn session_operator(&self, session: &SigninSession) -> Result<Actor> {
        self.session_caller(session, CallKind::Ordinary).await
    }

    /// What `actor` sees on the console; `Forbidden` for a user that neither has admin
    /// permission nor administers a group.
    pub async fn console_scope(&self, actor: &Actor) -> Result<ConsoleScope> {
        if actor.is_admin() {
            return Ok(ConsoleScope::Domain);
        }
        let roots = self.groups_administered_by(actor, &actor.user_id).await?;
        if roots.is_empty() {
            return Err(Error::forbidden("the console is for administrators"));
        }
        Ok(ConsoleScope::Subtrees(roots))
    }

    /// The overview (admins, as the quota and the audit log are theirs to read); with
    /// `with_storage`, also the space the drives are given (a sum over all of them).
    pub async fn console_overview(&self, actor: &Actor, with_storage: bool) -> Result<Overview> {
        actor.require_admin()?;
        let domain = self.own_domain(actor).await?;
        let size_used = if with_storage {
            Some(self.store.drive_usage(&actor.domain_id).await?.allocated)
        } else {
            None
        };
        let quota = QuotaUse {
            size_quota: domain.size_quota,
            size_used: size_used.unwrap_or(0),
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
            size_used,
            signins,
            failed_signins,
            signins_capped,
            failed_capped,
            latest,
        })
    }

    /// The users page: `user/search` for admins; for a group admin the same search, narrowed
    /// to the users of its subtrees.
    pub async fn console_users(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        search: UserSearch,
    ) -> Result<Listed<UserWithExtras>> {
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
                .user(&actor.domain_id, user_id)
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
        let overview = services.console_overview(&admin, true).await.unwrap();
        assert_eq!(overview.quota.user_count_used, 22);
        assert_eq!(overview.signins, 0);
    }

    #[tokio::test]
    async fn a_new_domain_counts_its_first_admin_and_its_count_goes_with_it() {
        for (_dir, services) in scratch_services_on_each_backend().await {
            a_new_domain_counts_its_first_admin_on(&services).await;
        }
    }

    async fn a_new_domain_counts_its_first_admin_on(services: &Services) {
        let admin = superadmin();
        services
            .create_domain(
                &admin,
                NewDomainSpec {
                    domain_id: Some("other".into()),
                    domain_name: "Other".into(),
                    ..NewDomainSpec::default()
                },
            )
            .await
            .unwrap();
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
            services.console_overview(&plain, false).await,
            Err(crate::error::Error::Forbidden(_))
        ));
        let admin = user_with_role(&services, "adm", Role::Admin).await;
        let overview = services.console_overview(&admin, false).await.unwrap();
        assert_eq!(overview.quota.user_count_used, 3);
        assert_eq!(
            overview.size_used, None,
            "the drives are read only when asked"
        );
        let overview = services.console_overview(&admin, true).await.unwrap();
        assert_eq!(overview.size_used, Some(0));
    }
}
