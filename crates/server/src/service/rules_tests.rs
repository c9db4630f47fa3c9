//! Service rules tested without HTTP, on a scratch SQLite store and a manual clock: who may
//! do what (plain user, group admin, admin, superadmin, another domain's caller), the
//! domain quotas, moves in the group tree, and login lockout.
//!
//! Each test calls the services as a face would; the set-up goes through the small helpers
//! below, so a change of a service's signature is fixed in one place.

use std::time::Duration;

use super::testing::{scratch_services, superadmin, user_with_role, DOMAIN};
use super::{Actor, Services};
use crate::audit::Trail;
use crate::error::{Error, Resource};
use crate::model::GroupId;
use crate::model::{
    DomainChanges, DriveOwnerType, GroupAdminGrant, GroupChanges, HolderKind, Member,
    NewDomainSpec, NewDriveSpec, NewGroupSpec, NewUserSpec, Role, TokenHolder, UserChanges,
    UserStatus,
};
use crate::model::{DomainId, UserId};

const PASSWORD: &str = "Rules-Password-1";

// ---------------------------------------------------------------------------------------
// Set-up

/// Creates a group under `parent` (`None`: at the top) as the superadmin; answers its id.
async fn group(services: &Services, name: &str, parent: Option<&str>) -> String {
    let spec = NewGroupSpec {
        name: name.into(),
        parent_group_id: parent.map(str::to_owned),
        ..NewGroupSpec::default()
    };
    services
        .create_group(&superadmin(), spec)
        .await
        .expect("a new group")
        .group_id
}

fn user_member(user_id: &str) -> Member {
    Member::User(user_id.into())
}

fn move_to(parent: &str) -> GroupChanges {
    GroupChanges {
        parent_group_id: Some(parent.into()),
        ..GroupChanges::default()
    }
}

/// A plain user who administers `group_id` (and what is under it).
async fn group_admin_of(services: &Services, user_id: &str, group_id: &str) -> Actor {
    let actor = user_with_role(services, user_id, Role::User).await;
    services
        .add_group_admin(&superadmin(), user_id, group_id)
        .await
        .expect("a group admin");
    actor
}

/// Creates the top-level domain `domain_id` as the superadmin; answers its superadmin.
async fn other_domain(services: &Services, domain_id: &str) -> Actor {
    let req = NewDomainSpec {
        domain_name: format!("Domain {domain_id}"),
        domain_id: Some(domain_id.into()),
        admin_password: Some(PASSWORD.into()),
        ..NewDomainSpec::default()
    };
    let created = services
        .create_domain(&superadmin(), req)
        .await
        .expect("a new domain");
    Actor {
        domain_id: domain_id.into(),
        user_id: created.admin_user_id.into(),
        role: Role::Superadmin,
        trail: Trail::none(),
    }
}

/// Sets [`DOMAIN`]'s quotas as its superadmin (`None` keeps one as it is).
async fn set_quotas(services: &Services, size: Option<i64>, users: Option<i64>) {
    let changes = DomainChanges {
        size_quota: size,
        user_count_quota: users,
        ..DomainChanges::default()
    };
    services
        .update_domain(&superadmin(), DOMAIN, changes)
        .await
        .expect("quotas set");
}

fn drive_of(owner: &str, total_size: i64) -> NewDriveSpec {
    NewDriveSpec {
        drive_name: "d".into(),
        owner: owner.into(),
        owner_type: DriveOwnerType::User,
        is_default: None,
        description: None,
        status: None,
        total_size: Some(total_size),
        subdomain_id: None,
    }
}

/// Creates `user_id` with a password and the logon its id implies (as eds-user does).
async fn user_with_password(services: &Services, user_id: &str) {
    let spec = NewUserSpec {
        user_id: user_id.into(),
        plain_password: Some(PASSWORD.into()),
        ..NewUserSpec::default()
    };
    services
        .create_user_with_logons(&superadmin(), spec, "")
        .await
        .expect("a user who logs in");
}

fn forbidden<T: std::fmt::Debug>(outcome: crate::error::Result<T>) {
    assert!(matches!(outcome, Err(Error::Forbidden(_))), "{outcome:?}");
}

fn not_found<T: std::fmt::Debug>(outcome: crate::error::Result<T>, resource: Resource) {
    assert!(
        matches!(&outcome, Err(Error::NotFound(r)) if *r == resource),
        "{outcome:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Permissions

#[tokio::test]
async fn a_group_admin_changes_members_only_inside_its_subtree() {
    let (_dir, services) = scratch_services().await;
    let a = group(&services, "a", None).await;
    let b = group(&services, "b", Some(&a)).await;
    let c = group(&services, "c", Some(&b)).await;
    let other = group(&services, "other", None).await;
    user_with_role(&services, "someone", Role::User).await;
    let gadmin = group_admin_of(&services, "gadmin", &b).await;

    for inside in [&b, &c] {
        services
            .add_member(&gadmin, inside, user_member("someone"))
            .await
            .unwrap();
    }
    for outside in [&a, &other] {
        forbidden(
            services
                .add_member(&gadmin, outside, user_member("someone"))
                .await,
        );
    }
    // Subgroups inside its subtree are its to make and remove; the group itself is not.
    let spec = NewGroupSpec {
        name: "d".into(),
        parent_group_id: Some(c.clone()),
        ..NewGroupSpec::default()
    };
    let d = services.create_group(&gadmin, spec).await.unwrap();
    services.delete_group(&gadmin, &d.group_id).await.unwrap();
    forbidden(services.delete_group(&gadmin, &b).await);
    let top = NewGroupSpec {
        name: "top".into(),
        ..NewGroupSpec::default()
    };
    forbidden(services.create_group(&gadmin, top).await);
    // Users stay the admins' to change.
    let lock = UserChanges {
        status: Some(UserStatus::Disabled),
        ..UserChanges::default()
    };
    forbidden(services.update_user(&gadmin, "someone", lock).await);

    // Once the assignment ends, nothing is its to change.
    services
        .remove_group_admin(&superadmin(), "gadmin", &b)
        .await
        .unwrap();
    forbidden(
        services
            .add_member(&gadmin, &c, user_member("someone"))
            .await,
    );
}

fn bad_param<T: std::fmt::Debug>(outcome: crate::error::Result<T>, field: &str) {
    assert!(
        matches!(&outcome, Err(Error::InvalidParameter { name, .. }) if name == field),
        "{outcome:?}"
    );
}

/// The problems a face leaves in a grant are refused where the rules look at them: the role
/// after the permission, the holder's kind after the group is found.
#[tokio::test]
async fn a_group_admin_grant_is_checked_in_the_rules_order() {
    let (_dir, services) = scratch_services().await;
    let plain = user_with_role(&services, "plain", Role::User).await;
    let g = group(&services, "g", None).await;
    let grant = |group_id: &str, kind: Result<HolderKind, String>, other: Option<&'static str>| {
        GroupAdminGrant {
            group_id: group_id.into(),
            holder_id: "plain".into(),
            holder_kind: kind,
            other_role_field: other,
            role_named: crate::model::GROUP_ADMIN_ROLE_NAME.to_owned(),
        }
    };
    let unknown = || Err("IT_Robot".to_owned());

    forbidden(
        services
            .assign_group_admin(&plain, grant(&g, unknown(), Some("role_id")))
            .await,
    );
    bad_param(
        services
            .assign_group_admin(&superadmin(), grant(&g, unknown(), Some("role_id")))
            .await,
        "role_id",
    );
    not_found(
        services
            .assign_group_admin(&superadmin(), grant("nowhere", unknown(), None))
            .await,
        Resource::Group,
    );
    bad_param(
        services
            .cancel_group_admin(&superadmin(), grant(&g, unknown(), None))
            .await,
        "identity.identity_type",
    );
    // A holder's roles: the permission first, then the kind.
    forbidden(services.holder_roles(&plain, "someone", unknown()).await);
    bad_param(
        services
            .holder_roles(&superadmin(), "plain", unknown())
            .await,
        "identity.identity_type",
    );

    services
        .assign_group_admin(&superadmin(), grant(&g, Ok(HolderKind::User), None))
        .await
        .unwrap();
    let own = services
        .holder_roles(&plain, "plain", Ok(HolderKind::User))
        .await
        .unwrap();
    assert!(!own.is_admin);
    let held: Vec<_> = own.roles.iter().map(|r| r.group_id.as_str()).collect();
    assert_eq!(held, [g.as_str()]);
}

#[tokio::test]
async fn a_plain_user_changes_no_group_and_no_membership() {
    let (_dir, services) = scratch_services().await;
    let plain = user_with_role(&services, "plain", Role::User).await;
    let g = group(&services, "g", None).await;
    let spec = NewGroupSpec {
        name: "mine".into(),
        ..NewGroupSpec::default()
    };
    forbidden(services.create_group(&plain, spec).await);
    forbidden(services.add_member(&plain, &g, user_member("plain")).await);
    forbidden(services.delete_group(&plain, &g).await);
    // Reading is for every user of the domain.
    assert_eq!(services.get_group(&plain, &g).await.unwrap().group_id, g);
}

#[tokio::test]
async fn an_admin_manages_users_but_no_superadmin_and_a_superadmin_anyone_else() {
    let (_dir, services) = scratch_services().await;
    let admin = user_with_role(&services, "ops", Role::Admin).await;
    user_with_role(&services, "plain", Role::User).await;
    user_with_role(&services, "root2", Role::Superadmin).await;

    let rename = UserChanges {
        nick_name: Some("Renamed".into()),
        ..UserChanges::default()
    };
    let renamed = services
        .update_user(&admin, "plain", rename.clone())
        .await
        .unwrap();
    assert_eq!(renamed.nick_name, "Renamed");
    forbidden(services.update_user(&admin, "root2", rename).await);
    forbidden(services.delete_user(&admin, "root2").await);
    assert!(services
        .store
        .user(&DomainId::from(DOMAIN), &UserId::from("root2"))
        .await
        .unwrap()
        .is_some());

    services.delete_user(&admin, "plain").await.unwrap();
    services.delete_user(&superadmin(), "root2").await.unwrap();
    assert!(services
        .store
        .user(&DomainId::from(DOMAIN), &UserId::from("root2"))
        .await
        .unwrap()
        .is_none());
    // The superadmin does not delete itself.
    let own = services.delete_user(&superadmin(), "admin").await;
    assert!(matches!(own, Err(Error::Conflict(_))), "{own:?}");
}

#[tokio::test]
async fn another_domains_superadmin_reaches_nothing_of_this_domain() {
    let (_dir, services) = scratch_services().await;
    user_with_role(&services, "alice", Role::User).await;
    let g = group(&services, "private", None).await;
    let stranger = other_domain(&services, "elsewhere").await;

    not_found(
        services.get_user(&stranger, Some("alice")).await,
        Resource::User,
    );
    let rename = UserChanges {
        nick_name: Some("taken".into()),
        ..UserChanges::default()
    };
    not_found(
        services.update_user(&stranger, "alice", rename).await,
        Resource::User,
    );
    not_found(
        services.delete_user(&stranger, "alice").await,
        Resource::User,
    );
    not_found(services.get_group(&stranger, &g).await, Resource::Group);
    not_found(services.delete_group(&stranger, &g).await, Resource::Group);
    let alice = services
        .store
        .user(&DomainId::from(DOMAIN), &UserId::from("alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.nick_name, "");

    // The same user id is free in the other domain, and stays apart.
    let spec = NewUserSpec {
        user_id: "alice".into(),
        nick_name: Some("Other Alice".into()),
        ..NewUserSpec::default()
    };
    let theirs = services.create_user(&stranger, spec).await.unwrap();
    assert_eq!(theirs.domain_id, "elsewhere");
    let ours = services
        .get_user(&superadmin(), Some("alice"))
        .await
        .unwrap();
    assert_eq!(ours.nick_name, "");
}

// ---------------------------------------------------------------------------------------
// Quotas

#[tokio::test]
async fn the_user_count_quota_refuses_the_user_past_it_and_writes_nothing() {
    let (_dir, services) = scratch_services().await;
    // The superadmin is one of three.
    set_quotas(&services, None, Some(3)).await;
    for id in ["u1", "u2"] {
        user_with_role(&services, id, Role::User).await;
    }
    let spec = NewUserSpec {
        user_id: "u3".into(),
        ..NewUserSpec::default()
    };
    let refused = services.create_user(&superadmin(), spec.clone()).await;
    assert!(
        matches!(refused, Err(Error::QuotaExhausted(_))),
        "{refused:?}"
    );
    assert!(services
        .store
        .user(&DomainId::from(DOMAIN), &UserId::from("u3"))
        .await
        .unwrap()
        .is_none());

    // Deleting one makes room; 0 lifts the quota.
    services.delete_user(&superadmin(), "u2").await.unwrap();
    services
        .create_user(&superadmin(), spec.clone())
        .await
        .unwrap();
    set_quotas(&services, None, Some(0)).await;
    for id in ["u4", "u5"] {
        user_with_role(&services, id, Role::User).await;
    }
}

#[tokio::test]
async fn the_size_quota_refuses_a_drive_that_does_not_fit() {
    let (_dir, services) = scratch_services().await;
    set_quotas(&services, Some(1000), None).await;
    services
        .create_drive(&superadmin(), drive_of("admin", 600))
        .await
        .unwrap();
    let refused = services
        .create_drive(&superadmin(), drive_of("admin", 401))
        .await;
    assert!(
        matches!(refused, Err(Error::QuotaExhausted(_))),
        "{refused:?}"
    );
    // What fits exactly is fine; the quota then holds nothing more.
    services
        .create_drive(&superadmin(), drive_of("admin", 400))
        .await
        .unwrap();
    let quota = services.get_domain_quota(&superadmin()).await.unwrap();
    assert_eq!((quota.size_quota, quota.size_used), (1000, 1000));
    let refused = services
        .create_drive(&superadmin(), drive_of("admin", 1))
        .await;
    assert!(
        matches!(refused, Err(Error::QuotaExhausted(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_domain_only_lowers_its_own_quota() {
    let (_dir, services) = scratch_services().await;
    let elsewhere = other_domain(&services, "elsewhere").await;
    // The operator sets the tenant's quota; the tenant may lower it, never raise it.
    let by_operator = DomainChanges {
        user_count_quota: Some(10),
        ..DomainChanges::default()
    };
    services
        .update_domain(&superadmin(), "elsewhere", by_operator)
        .await
        .unwrap();
    let raise = DomainChanges {
        user_count_quota: Some(11),
        ..DomainChanges::default()
    };
    forbidden(services.update_domain(&elsewhere, "elsewhere", raise).await);
    let lower = DomainChanges {
        user_count_quota: Some(5),
        ..DomainChanges::default()
    };
    let lowered = services
        .update_domain(&elsewhere, "elsewhere", lower)
        .await
        .unwrap();
    assert_eq!(lowered.user_count_quota, 5);
}

// ---------------------------------------------------------------------------------------
// Tree moves

#[tokio::test]
async fn a_move_carries_the_subtree_and_what_its_admins_reach() {
    let (_dir, services) = scratch_services().await;
    let x = group(&services, "x", None).await;
    let b = group(&services, "b", None).await;
    let c = group(&services, "c", Some(&b)).await;
    user_with_role(&services, "someone", Role::User).await;
    let x_admin = group_admin_of(&services, "xadmin", &x).await;
    forbidden(
        services
            .add_member(&x_admin, &c, user_member("someone"))
            .await,
    );

    let moved = services
        .update_group(&superadmin(), &b, move_to(&x))
        .await
        .unwrap();
    assert_eq!(moved.parent_group_id, x);
    let child = services
        .store
        .group(&DomainId::from(DOMAIN), &GroupId::from(&c))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(child.parent_group_id, b, "the subtree moves whole");
    // c is now under x: x's admin reaches it.
    services
        .add_member(&x_admin, &c, user_member("someone"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_group_admin_moves_groups_only_within_its_subtree() {
    let (_dir, services) = scratch_services().await;
    let a = group(&services, "a", None).await;
    let b = group(&services, "b", Some(&a)).await;
    let c = group(&services, "c", Some(&b)).await;
    let other = group(&services, "other", None).await;
    let gadmin = group_admin_of(&services, "gadmin", &a).await;

    // Inside its subtree: fine.
    let moved = services
        .update_group(&gadmin, &c, move_to(&a))
        .await
        .unwrap();
    assert_eq!(moved.parent_group_id, a);
    // Out of it, or something from outside into it: refused, and nothing moves.
    forbidden(services.update_group(&gadmin, &c, move_to(&other)).await);
    forbidden(services.update_group(&gadmin, &other, move_to(&a)).await);
    forbidden(services.update_group(&gadmin, &c, move_to("")).await);
    let c_now = services
        .store
        .group(&DomainId::from(DOMAIN), &GroupId::from(&c))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c_now.parent_group_id, a);
    let other_now = services
        .store
        .group(&DomainId::from(DOMAIN), &GroupId::from(&other))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other_now.parent_group_id, "");
}

#[tokio::test]
async fn a_root_group_stays_on_top_and_unknown_parents_are_refused() {
    let (_dir, services) = scratch_services().await;
    let a = group(&services, "a", None).await;
    let root = NewGroupSpec {
        name: "root".into(),
        is_root: Some(true),
        ..NewGroupSpec::default()
    };
    let root = services
        .create_group(&superadmin(), root)
        .await
        .unwrap()
        .group_id;
    let refused = services
        .update_group(&superadmin(), &root, move_to(&a))
        .await;
    assert!(
        matches!(refused, Err(Error::InvalidParameter { .. })),
        "{refused:?}"
    );
    not_found(
        services
            .update_group(&superadmin(), &a, move_to("no-such-group"))
            .await,
        Resource::Group,
    );
    let stored = services
        .store
        .group(&DomainId::from(DOMAIN), &GroupId::from(&root))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.parent_group_id, "");
}

// ---------------------------------------------------------------------------------------
// Lockout

#[tokio::test]
async fn failed_logins_lock_the_identity_until_the_lock_time_is_up() {
    let (_dir, services) = scratch_services().await;
    user_with_password(&services, "pat").await;
    let lockout = services.token_settings.lockout;
    for _ in 0..lockout.max_failures {
        let wrong = services
            .login_with_password(&Trail::none(), DOMAIN, "pat", "not-the-password")
            .await;
        assert!(matches!(wrong, Err(Error::Unauthorized(_))), "{wrong:?}");
    }
    // Locked: even the right password waits, and is told how long.
    let locked = services
        .login_with_password(&Trail::none(), DOMAIN, "pat", PASSWORD)
        .await;
    let Err(Error::TooManyRequests(wait_s)) = locked else {
        panic!("not locked: {locked:?}");
    };
    assert!(
        wait_s > 0 && wait_s <= lockout.lock_for.as_secs(),
        "{wait_s}"
    );

    services
        .clock
        .advance(lockout.lock_for - Duration::from_secs(1));
    let still = services
        .login_with_password(&Trail::none(), DOMAIN, "pat", PASSWORD)
        .await;
    assert!(matches!(still, Err(Error::TooManyRequests(_))), "{still:?}");
    services.clock.advance(Duration::from_secs(1));
    let token = services
        .login_with_password(&Trail::none(), DOMAIN, "pat", PASSWORD)
        .await
        .unwrap();
    let TokenHolder::User { user, .. } = token.holder else {
        panic!("a user's token");
    };
    assert_eq!(user.user_id, "pat");
}

#[tokio::test]
async fn a_disabled_user_does_not_log_in_until_enabled_again() {
    let (_dir, services) = scratch_services().await;
    user_with_password(&services, "lee").await;
    let set_status = |status: UserStatus| UserChanges {
        status: Some(status),
        ..UserChanges::default()
    };
    services
        .update_user(&superadmin(), "lee", set_status(UserStatus::Disabled))
        .await
        .unwrap();
    let refused = services
        .login_with_password(&Trail::none(), DOMAIN, "lee", PASSWORD)
        .await;
    assert!(
        matches!(refused, Err(Error::Unauthorized(_))),
        "{refused:?}"
    );
    services
        .update_user(&superadmin(), "lee", set_status(UserStatus::Enabled))
        .await
        .unwrap();
    services
        .login_with_password(&Trail::none(), DOMAIN, "lee", PASSWORD)
        .await
        .unwrap();
}
