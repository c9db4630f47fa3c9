//! The logon accounts a user's own fields imply, for the dialects whose users sign in with
//! them (eds-user, KooDrive): the user id as a `custom` identity, the e-mail as an `email`
//! identity and the phone as a `mobile` identity. One password (the user's) serves them all,
//! so the token endpoint, the sign-in page and LDAP find the user by any of them.
//!
//! Why here and not in each dialect: both directory dialects create and change users through
//! these functions, and an e-mail or phone change through any dialect moves the account that
//! mirrors it, so a stale address never keeps signing in.

use crate::model::LogonKind;
use crate::store::{AccountRow, UserRow};

/// How a change of e-mail or phone treats the user's accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactLogons {
    /// An account mirroring the old value (same type, identity = the old value) follows the
    /// new one, or goes when the value is cleared; a user without one gets none. PDS's rule:
    /// its accounts are linked explicitly, but never left naming an address the user lost.
    Follow,
    /// As `Follow`, and a new value the user has no account for gets one: the directory
    /// dialects' rule, whose users sign in with their e-mail and phone.
    Imply,
}

/// The accounts to remove and to add so a user's logons match a contact change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountChanges {
    pub removed: Vec<AccountRow>,
    pub added: Vec<AccountRow>,
}

/// The region code stored with a mobile account: the user's, else China's (as PDS does).
fn mobile_region(user: &UserRow) -> String {
    if user.phone_region.is_empty() {
        "86".into()
    } else {
        user.phone_region.clone()
    }
}

fn account(user: &UserRow, kind: LogonKind, identity: &str, at: i64) -> AccountRow {
    AccountRow {
        domain_id: user.domain_id.clone(),
        authentication_type: kind.as_str().into(),
        identity: identity.to_owned(),
        user_id: user.user_id.clone(),
        display_name: identity.to_owned(),
        extra: if kind == LogonKind::Mobile {
            mobile_region(user)
        } else {
            String::new()
        },
        status: "normal".into(),
        created_at: at,
        last_login_time: 0,
    }
}

/// The accounts a new directory user signs in with: its user id, and its e-mail and phone
/// when it has them.
pub fn implied_accounts(user: &UserRow) -> Vec<AccountRow> {
    let at = user.created_at;
    let mut accounts = vec![account(user, LogonKind::Custom, &user.user_id, at)];
    if !user.email.is_empty() {
        accounts.push(account(user, LogonKind::Email, &user.email, at));
    }
    if !user.phone.is_empty() {
        accounts.push(account(user, LogonKind::Mobile, &user.phone, at));
    }
    accounts
}

/// What changing `user`'s e-mail and/or phone (`None`: not given; `""`: cleared) does to its
/// accounts (`held`), under `mode`. Under `Imply` a value restated unchanged still gets its
/// account if missing (how users made before this rule get theirs). A new mobile account
/// takes the user's current region.
pub fn contact_account_changes(
    user: &UserRow,
    held: &[AccountRow],
    email: Option<&str>,
    phone: Option<&str>,
    mode: ContactLogons,
    at: i64,
) -> AccountChanges {
    let mut changes = AccountChanges::default();
    let contacts = [
        (LogonKind::Email, user.email.as_str(), email),
        (LogonKind::Mobile, user.phone.as_str(), phone),
    ];
    for (kind, old, new) in contacts {
        let Some(new) = new else {
            continue;
        };
        let changed = new != old;
        if !changed && mode == ContactLogons::Follow {
            continue;
        }
        let holds = |identity: &str| {
            held.iter()
                .find(|a| a.authentication_type == kind.as_str() && a.identity == identity)
        };
        let mirror = (changed && !old.is_empty()).then(|| holds(old)).flatten();
        let wanted = match mode {
            ContactLogons::Follow => mirror.is_some(),
            ContactLogons::Imply => true,
        };
        if let Some(mirror) = mirror {
            changes.removed.push(mirror.clone());
        }
        if wanted && !new.is_empty() && holds(new).is_none() {
            changes.added.push(account(user, kind, new, at));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::users::new_user_row;

    fn user(email: &str, phone: &str) -> UserRow {
        let mut user = new_user_row("d", "ann".into(), "admin", 0);
        user.email = email.into();
        user.phone = phone.into();
        user
    }

    fn identities(accounts: &[AccountRow]) -> Vec<(&str, &str)> {
        accounts
            .iter()
            .map(|a| (a.authentication_type.as_str(), a.identity.as_str()))
            .collect()
    }

    #[test]
    fn a_new_user_signs_in_with_its_id_email_and_phone() {
        let accounts = implied_accounts(&user("a@x.y", "13900001111"));
        assert_eq!(
            identities(&accounts),
            [
                ("custom", "ann"),
                ("email", "a@x.y"),
                ("mobile", "13900001111")
            ]
        );
        assert_eq!(accounts[2].extra, "86");
        let only_id = implied_accounts(&user("", ""));
        assert_eq!(identities(&only_id), [("custom", "ann")]);
    }

    #[test]
    fn a_changed_email_moves_its_account_and_a_cleared_phone_drops_it() {
        let before = user("a@x.y", "139");
        let held = implied_accounts(&before);
        let changes = contact_account_changes(
            &before,
            &held,
            Some("b@x.y"),
            Some(""),
            ContactLogons::Follow,
            5,
        );
        assert_eq!(
            identities(&changes.removed),
            [("email", "a@x.y"), ("mobile", "139")]
        );
        assert_eq!(identities(&changes.added), [("email", "b@x.y")]);
    }

    #[test]
    fn only_the_directory_rule_adds_an_account_the_user_had_none_for() {
        let before = user("a@x.y", "");
        let custom_only = &implied_accounts(&before)[..1];
        let follow = contact_account_changes(
            &before,
            custom_only,
            Some("b@x.y"),
            Some("139"),
            ContactLogons::Follow,
            5,
        );
        assert_eq!(follow, AccountChanges::default());
        let imply = contact_account_changes(
            &before,
            custom_only,
            Some("b@x.y"),
            Some("139"),
            ContactLogons::Imply,
            5,
        );
        assert!(imply.removed.is_empty());
        assert_eq!(
            identities(&imply.added),
            [("email", "b@x.y"), ("mobile", "139")]
        );
    }

    #[test]
    fn an_unchanged_value_changes_nothing_unless_its_account_is_missing() {
        let before = user("a@x.y", "139");
        let held = implied_accounts(&before);
        let same =
            contact_account_changes(&before, &held, Some("a@x.y"), None, ContactLogons::Imply, 5);
        assert_eq!(same, AccountChanges::default());
        let restated = contact_account_changes(
            &before,
            &held[..1],
            Some("a@x.y"),
            Some("139"),
            ContactLogons::Imply,
            5,
        );
        assert!(restated.removed.is_empty());
        assert_eq!(
            identities(&restated.added),
            [("email", "a@x.y"), ("mobile", "139")]
        );
        let followed = contact_account_changes(
            &before,
            &held[..1],
            Some("a@x.y"),
            Some("139"),
            ContactLogons::Follow,
            5,
        );
        assert_eq!(followed, AccountChanges::default());
    }
}
