//! The LDAP gateway (`roster serve --ldap-listen`), driven by an independent client (`ldap3`).

use std::collections::BTreeSet;

use ldap3::controls::{Control, PagedResults, RawControl};
use ldap3::exop::{PasswordModify, WhoAmI, WhoAmIResp};
use ldap3::{Ldap, LdapConnAsync, Scope, SearchEntry};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_error, spawn_with, TestApp, TestStore, ADMIN_PASSWORD, USER_PASSWORD};

const BASE: &str = "dc=default";
const PEOPLE: &str = "ou=people,dc=default";

async fn spawn_ldap() -> TestApp {
    spawn_ldap_with(false).await
}

async fn spawn_ldap_with(posix: bool) -> TestApp {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.ldap.listen = Some("127.0.0.1:0".into());
    config.ldap.posix = posix;
    spawn_with(store, config, ADMIN_PASSWORD).await
}

async fn connect(app: &TestApp) -> Ldap {
    let url = app.ldap_url.as_deref().expect("LDAP is on");
    let (conn, ldap) = LdapConnAsync::new(url).await.expect("LDAP connects");
    ldap3::drive!(conn);
    ldap
}

async fn bound(app: &TestApp, dn: &str, password: &str) -> Ldap {
    let mut ldap = connect(app).await;
    let res = ldap.simple_bind(dn, password).await.unwrap();
    assert_eq!(res.rc, 0, "bind as {dn}: {res:?}");
    ldap
}

/// The DNs a search answers, and its result code.
async fn search(
    ldap: &mut Ldap,
    base: &str,
    scope: Scope,
    filter: &str,
) -> (BTreeSet<String>, u32) {
    let result = ldap.search(base, scope, filter, vec!["*"]).await.unwrap();
    let dns = result
        .0
        .into_iter()
        .map(|e| SearchEntry::construct(e).dn)
        .collect();
    (dns, result.1.rc)
}

async fn user_id_of(app: &TestApp, identity: &str) -> String {
    let (status, body) = app
        .admin(
            "/v2/user/import",
            json!({"authentication_type": "custom", "identity": identity,
                   "nick_name": format!("Nick {identity}"), "plain_password": USER_PASSWORD,
                   "email": format!("{identity}@example.com")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["user_id"].as_str().unwrap().to_owned()
}

async fn group(app: &TestApp, name: &str, parent: Option<&str>) -> String {
    let mut body = json!({"group_name": name});
    if let Some(parent) = parent {
        body["parent_group_id"] = json!(parent);
    }
    let (status, group) = app.admin("/v2/group/create", body).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    group["group_id"].as_str().unwrap().to_owned()
}

async fn add_member(app: &TestApp, group_id: &str, user_id: &str) {
    let (status, body) = app
        .admin(
            "/v2/group/add_member",
            json!({"group_id": group_id, "member_type": "user", "member_id": user_id}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

fn user_dn(user_id: &str) -> String {
    format!("uid={user_id},{PEOPLE}")
}

#[tokio::test]
async fn ldap_binds_refuse_wrong_passwords_and_anonymous_searches() {
    let app = spawn_ldap().await;
    let alice = user_id_of(&app, "alice").await;
    // Anonymous: the root DSE only.
    let mut anon = connect(&app).await;
    let (dns, rc) = search(&mut anon, "", Scope::Base, "(objectClass=*)").await;
    assert_eq!((rc, dns.len()), (0, 1));
    let (_, rc) = search(&mut anon, BASE, Scope::Subtree, "(objectClass=*)").await;
    assert_eq!(rc, 50, "anonymous searches are refused");
    // Wrong password, unknown user, by DN and by identity.
    let res = anon
        .simple_bind(&user_dn(&alice), "wrong-password")
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    let res = anon
        .simple_bind("uid=nobody,ou=people,dc=default", "x-password-1")
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    let res = anon.simple_bind("alice", "wrong-password").await.unwrap();
    assert_eq!(res.rc, 49);
    // By DN and by logon identity; WhoAmI names the DN.
    let mut by_dn = bound(&app, &user_dn(&alice), USER_PASSWORD).await;
    let (exop, _) = by_dn.extended(WhoAmI).await.unwrap().success().unwrap();
    let who: WhoAmIResp = exop.parse();
    assert_eq!(who.authzid, format!("dn:{}", user_dn(&alice)));
    let mut by_identity = bound(&app, "alice", USER_PASSWORD).await;
    // An ordinary user reads its own entry only; no groups.
    let (dns, rc) = search(
        &mut by_identity,
        BASE,
        Scope::Subtree,
        "(objectClass=inetOrgPerson)",
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(dns, BTreeSet::from([user_dn(&alice)]));
    let bob = user_id_of(&app, "bob").await;
    let (dns, rc) = search(
        &mut by_identity,
        &user_dn(&bob),
        Scope::Base,
        "(objectClass=*)",
    )
    .await;
    assert_eq!(
        (rc, dns.len()),
        (32, 0),
        "another user's entry does not exist for it: {dns:?}"
    );
    let (dns, _) = search(
        &mut by_identity,
        &format!("ou=groups,{BASE}"),
        Scope::Subtree,
        "(objectClass=*)",
    )
    .await;
    assert_eq!(dns, BTreeSet::from([format!("ou=groups,{BASE}")]));
    // Another domain's tree does not exist for it.
    let (_, rc) = search(
        &mut by_identity,
        "dc=other",
        Scope::Subtree,
        "(objectClass=*)",
    )
    .await;
    assert_eq!(rc, 32);
    // A user who must change its password first is refused, as by the API.
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": alice, "need_change_password_next_login": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = anon
        .simple_bind(&user_dn(&alice), USER_PASSWORD)
        .await
        .unwrap();
    assert_eq!(res.rc, 50, "{res:?}");
}

#[tokio::test]
async fn ldap_lockout_follows_the_password_grant() {
    let app = spawn_ldap().await;
    let bob = user_id_of(&app, "bob").await;
    let mut ldap = connect(&app).await;
    for _ in 0..5 {
        let res = ldap
            .simple_bind(&user_dn(&bob), "wrong-password")
            .await
            .unwrap();
        assert_eq!(res.rc, 49);
    }
    // Locked now: the right password is refused too, over LDAP and over HTTP.
    let res = ldap
        .simple_bind(&user_dn(&bob), USER_PASSWORD)
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    assert!(res.text.contains("locked"), "{res:?}");
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The attempts are in the audit log.
    let (status, body) = app.admin("/v2/audit_log/list", json!({"limit": 100})).await;
    if status == StatusCode::OK {
        assert!(body.to_string().contains("account.login"), "{body}");
    }
}

#[tokio::test]
async fn ldap_filters_scopes_and_memberships() {
    let app = spawn_ldap().await;
    let alice = user_id_of(&app, "alice").await;
    let bob = user_id_of(&app, "bob").await;
    let top = group(&app, "top", None).await;
    let sub = group(&app, "sub", Some(&top)).await;
    add_member(&app, &sub, &alice).await;
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    let people = |f: &str| f.to_owned();
    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (people("(uid=ALICE_ID)"), BTreeSet::from([user_dn(&alice)])),
        (
            people("(mail=bob@example.com)"),
            BTreeSet::from([user_dn(&bob)]),
        ),
        (
            people("(&(objectClass=person)(mail=*@example.com))"),
            BTreeSet::from([user_dn(&alice), user_dn(&bob)]),
        ),
        (
            people("(|(uid=ALICE_ID)(uid=BOB_ID))"),
            BTreeSet::from([user_dn(&alice), user_dn(&bob)]),
        ),
        (
            people("(&(mail=*)(!(uid=ALICE_ID)))"),
            BTreeSet::from([user_dn(&bob)]),
        ),
        (
            people("(displayName=Nick al*)"),
            BTreeSet::from([user_dn(&alice)]),
        ),
        (
            people("(memberOf=cn=SUB_ID,ou=groups,dc=default)"),
            BTreeSet::from([user_dn(&alice)]),
        ),
        (
            people("(memberOf=cn=TOP_ID,ou=groups,dc=default)"),
            BTreeSet::new(),
        ),
        (
            people("(memberOf:1.2.840.113556.1.4.1941:=cn=TOP_ID,ou=groups,dc=default)"),
            BTreeSet::from([user_dn(&alice)]),
        ),
        (
            people("(&(mail=*)(createTimestamp>=20000101000000Z))"),
            BTreeSet::from([user_dn(&alice), user_dn(&bob)]),
        ),
        (
            people("(&(mail=*)(createTimestamp<=20000101000000Z))"),
            BTreeSet::new(),
        ),
    ];
    for (filter, expected) in cases {
        let filter = filter
            .replace("ALICE_ID", &alice)
            .replace("BOB_ID", &bob)
            .replace("SUB_ID", &sub)
            .replace("TOP_ID", &top);
        let (dns, rc) = search(&mut admin, PEOPLE, Scope::OneLevel, &filter).await;
        assert_eq!((rc, &dns), (0, &expected), "{filter}");
    }
    // Groups: members (users and subgroups) and their place in the tree.
    let result = admin
        .search(
            &format!("cn={top},ou=groups,{BASE}"),
            Scope::Base,
            "(objectClass=groupOfNames)",
            vec!["member", "memberOf"],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    let entry = SearchEntry::construct(result.0.into_iter().next().unwrap());
    assert_eq!(
        entry.attrs["member"],
        vec![format!("cn={sub},ou=groups,{BASE}")]
    );
    assert!(!entry.attrs.contains_key("memberOf"));
    // Scopes: base, one level, subtree.
    let (dns, _) = search(&mut admin, BASE, Scope::Base, "(objectClass=*)").await;
    assert_eq!(dns, BTreeSet::from([BASE.to_owned()]));
    let (dns, _) = search(&mut admin, BASE, Scope::OneLevel, "(objectClass=*)").await;
    assert_eq!(
        dns,
        BTreeSet::from([PEOPLE.to_owned(), format!("ou=groups,{BASE}")])
    );
    let (dns, _) = search(&mut admin, BASE, Scope::Subtree, "(objectClass=*)").await;
    assert_eq!(dns.len(), 3 + 3 + 2, "{dns:?}");
    let (dns, _) = search(
        &mut admin,
        BASE,
        Scope::Subtree,
        "(objectClass=groupOfNames)",
    )
    .await;
    assert_eq!(dns.len(), 2);
    // Unknown base, size limit.
    let (_, rc) = search(
        &mut admin,
        "ou=nothing,dc=default",
        Scope::Subtree,
        "(objectClass=*)",
    )
    .await;
    assert_eq!(rc, 32);
    let result = admin
        .with_search_options(ldap3::SearchOptions::new().sizelimit(1))
        .search(PEOPLE, Scope::OneLevel, "(objectClass=*)", vec!["uid"])
        .await
        .unwrap();
    assert_eq!((result.0.len(), result.1.rc), (1, 4));
}

#[tokio::test]
async fn ldap_paged_search_answers_every_user_once() {
    let app = spawn_ldap().await;
    let mut expected = BTreeSet::from([user_dn("admin")]);
    for i in 0..23 {
        expected.insert(user_dn(&user_id_of(&app, &format!("user{i:02}")).await));
    }
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    let (all, _) = search(&mut admin, PEOPLE, Scope::OneLevel, "(objectClass=*)").await;
    assert_eq!(all.len(), 24, "{all:?}");
    let expected = all;
    let mut seen = Vec::new();
    let mut cookie = Vec::new();
    let mut pages = 0;
    loop {
        let control: RawControl = PagedResults {
            size: 5,
            cookie: cookie.clone(),
        }
        .into();
        let result = admin
            .with_controls(vec![control])
            .search(
                PEOPLE,
                Scope::OneLevel,
                "(objectClass=inetOrgPerson)",
                vec!["uid"],
            )
            .await
            .unwrap()
            .success()
            .unwrap();
        pages += 1;
        assert!(result.0.len() <= 5);
        seen.extend(result.0.into_iter().map(|e| SearchEntry::construct(e).dn));
        let paged = result
            .1
            .ctrls
            .iter()
            .find_map(|Control(_, raw)| {
                (raw.ctype == "1.2.840.113556.1.4.319").then(|| raw.parse::<PagedResults>())
            })
            .expect("a paged results control in the answer");
        if paged.cookie.is_empty() {
            break;
        }
        cookie = paged.cookie;
        assert!(pages < 20);
    }
    assert_eq!(seen.len(), expected.len(), "every user exactly once");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
    assert_eq!(pages, 5);
    // A forged cookie is refused.
    let control: RawControl = PagedResults {
        size: 5,
        cookie: b"garbage".to_vec(),
    }
    .into();
    let result = admin
        .with_controls(vec![control])
        .search(PEOPLE, Scope::OneLevel, "(objectClass=*)", vec!["uid"])
        .await
        .unwrap();
    assert_eq!(result.1.rc, 53);
}

/// A paged walk in pages of 1,000 (the gateway's largest, one store read a page) answers
/// every one of 2,500 users exactly once, each with its groups in `memberOf`.
#[tokio::test]
async fn ldap_paged_walk_in_pages_of_a_thousand_answers_every_user_once() {
    let app = spawn_ldap().await;
    let team = group(&app, "Team", None).await;
    let alice = user_id_of(&app, "alice").await;
    add_member(&app, &team, &alice).await;
    app.store.seed_users("default", "walker", 2_500).await;
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    let mut seen = BTreeSet::new();
    let mut cookie = Vec::new();
    let mut pages = 0;
    let mut alice_groups = Vec::new();
    loop {
        let control: RawControl = PagedResults {
            size: 1000,
            cookie: cookie.clone(),
        }
        .into();
        let result = admin
            .with_controls(vec![control])
            .search(
                PEOPLE,
                Scope::OneLevel,
                "(objectClass=*)",
                vec!["uid", "memberOf"],
            )
            .await
            .unwrap()
            .success()
            .unwrap();
        pages += 1;
        assert!(result.0.len() <= 1000);
        for entry in result.0 {
            let entry = SearchEntry::construct(entry);
            if entry.dn == user_dn(&alice) {
                alice_groups = entry.attrs.get("memberOf").cloned().unwrap_or_default();
            }
            assert!(seen.insert(entry.dn.clone()), "{} twice", entry.dn);
        }
        let paged = result
            .1
            .ctrls
            .iter()
            .find_map(|Control(_, raw)| {
                (raw.ctype == "1.2.840.113556.1.4.319").then(|| raw.parse::<PagedResults>())
            })
            .expect("a paged results control in the answer");
        if paged.cookie.is_empty() {
            break;
        }
        cookie = paged.cookie;
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2_502);
    assert!(seen.contains(&user_dn("walker02499")));
    assert_eq!(
        alice_groups,
        vec![format!("cn={team},ou=groups,dc=default")]
    );
}

/// The result code of a password modify.
async fn passwd(ldap: &mut Ldap, user: Option<&str>, old: &str, new: &str) -> u32 {
    let request = PasswordModify {
        user_id: user,
        old_pass: Some(old),
        new_pass: Some(new),
    };
    ldap.extended(request).await.unwrap().1.rc
}

#[tokio::test]
async fn ldap_password_modify_changes_ones_own_password() {
    let app = spawn_ldap().await;
    let carol = user_id_of(&app, "carol").await;
    let mut ldap = bound(&app, &user_dn(&carol), USER_PASSWORD).await;
    let new = "a-new-password-1";
    let admin_dn = "uid=admin,ou=people,dc=default";
    assert_eq!(
        passwd(&mut ldap, None, "not-it-1234", new).await,
        19,
        "wrong old password"
    );
    assert_eq!(
        passwd(&mut ldap, None, USER_PASSWORD, "x").await,
        19,
        "too short"
    );
    assert_eq!(
        passwd(&mut ldap, Some(admin_dn), USER_PASSWORD, new).await,
        50,
        "another user"
    );
    assert_eq!(passwd(&mut ldap, None, USER_PASSWORD, new).await, 0);
    bound(&app, &user_dn(&carol), new).await;
    app.login("carol", new).await;
    // Anonymous callers change nothing.
    let mut anon = connect(&app).await;
    assert_eq!(passwd(&mut anon, None, "a", "a-new-password-2").await, 50);
}

#[tokio::test]
async fn ldap_refuses_bad_input_without_falling_over() {
    let app = spawn_ldap().await;
    let address = app
        .ldap_url
        .as_deref()
        .unwrap()
        .trim_start_matches("ldap://")
        .to_owned();
    // Malformed BER: a notice of disconnection (or a plain close), never a crash.
    for garbage in [
        &b"\x30\x84\xff\xff\xff\xff\x02\x01"[..],
        b"hello world\r\n",
        b"\x30\x03\x02\x01\x01",
    ] {
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket.write_all(garbage).await.unwrap();
        socket.shutdown().await.ok();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            socket.read_to_end(&mut answer),
        )
        .await;
    }
    // Nesting deeper than the decoder reads: the connection ends with a protocol error.
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    let deep = format!("{}(uid=x){}", "(!".repeat(100), ")".repeat(100));
    let result = admin
        .search(PEOPLE, Scope::Subtree, &deep, vec!["uid"])
        .await;
    assert!(result.map(|r| r.1.rc != 0).unwrap_or(true));
    // Nesting the decoder reads but the gateway does not serve, and huge filters: refused.
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    let deep = format!("{}(uid=x){}", "(!".repeat(40), ")".repeat(40));
    let result = admin
        .search(PEOPLE, Scope::Subtree, &deep, vec!["uid"])
        .await;
    assert!(result.map(|r| r.1.rc != 0).unwrap_or(true));
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    let huge = format!(
        "(|{})",
        (0..600).map(|i| format!("(uid=u{i})")).collect::<String>()
    );
    let result = admin
        .search(PEOPLE, Scope::Subtree, &huge, vec!["uid"])
        .await
        .unwrap();
    assert_eq!(result.1.rc, 11);
    // An unknown control marked critical.
    let critical = RawControl {
        ctype: "1.2.3.4.5.6".into(),
        crit: true,
        val: None,
    };
    let result = admin
        .with_controls(vec![critical])
        .search(PEOPLE, Scope::Subtree, "(uid=admin)", vec!["uid"])
        .await
        .unwrap();
    assert_eq!(result.1.rc, 12);
    // The server still answers.
    let mut again = bound(&app, "admin", ADMIN_PASSWORD).await;
    let (dns, rc) = search(&mut again, PEOPLE, Scope::OneLevel, "(uid=admin)").await;
    assert_eq!((rc, dns.len()), (0, 1));
}

#[tokio::test]
async fn ldap_keeps_domains_apart() {
    let app = spawn_ldap().await;
    let alice = user_id_of(&app, "alice").await;
    let body = json!({"domain_id": "elsewhere", "domain_name": "Elsewhere",
                      "admin_password": ADMIN_PASSWORD});
    assert_eq!(
        app.admin("/v2/domain/create", body).await.0,
        StatusCode::CREATED
    );
    // The other domain's superadmin binds in its own tree only.
    let mut other = bound(&app, "uid=admin,ou=people,dc=elsewhere", ADMIN_PASSWORD).await;
    let (exop, _) = other.extended(WhoAmI).await.unwrap().success().unwrap();
    let who: WhoAmIResp = exop.parse();
    assert_eq!(who.authzid, "dn:uid=admin,ou=people,dc=elsewhere");
    let (_, rc) = search(&mut other, BASE, Scope::Subtree, "(objectClass=*)").await;
    assert_eq!(rc, 32, "the home domain's tree does not exist for it");
    let (_, rc) = search(&mut other, &user_dn(&alice), Scope::Base, "(objectClass=*)").await;
    assert_eq!(rc, 32);
    let (dns, rc) = search(
        &mut other,
        "dc=elsewhere",
        Scope::Subtree,
        "(objectClass=inetOrgPerson)",
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(
        dns,
        BTreeSet::from(["uid=admin,ou=people,dc=elsewhere".to_owned()])
    );
    // A home user cannot bind in the other domain, by DN or by a DN naming its own user there.
    let mut ldap = connect(&app).await;
    let res = ldap
        .simple_bind(
            &format!("uid={alice},ou=people,dc=elsewhere"),
            USER_PASSWORD,
        )
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    let res = ldap
        .simple_bind("uid=admin,ou=people,dc=nowhere", ADMIN_PASSWORD)
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    // The home superadmin reads its own domain, not the other.
    let mut home = bound(&app, "admin", ADMIN_PASSWORD).await;
    let (_, rc) = search(&mut home, "dc=elsewhere", Scope::Subtree, "(objectClass=*)").await;
    assert_eq!(rc, 32);
    let (dns, _) = search(&mut home, PEOPLE, Scope::OneLevel, "(objectClass=*)").await;
    assert!(dns.contains(&user_dn(&alice)) && dns.len() == 2, "{dns:?}");
}

#[tokio::test]
async fn ldap_posix_attributes_only_when_turned_on() {
    for posix in [false, true] {
        let app = spawn_ldap_with(posix).await;
        let dave = user_id_of(&app, "dave").await;
        let erin = user_id_of(&app, "erin").await;
        let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
        let mut numbers = BTreeSet::new();
        for user in [&dave, &erin] {
            let result = admin
                .search(&user_dn(user), Scope::Base, "(objectClass=*)", vec!["*"])
                .await
                .unwrap()
                .success()
                .unwrap();
            let entry = SearchEntry::construct(result.0.into_iter().next().unwrap());
            let classes = &entry.attrs["objectClass"];
            assert_eq!(
                classes.iter().any(|c| c == "posixAccount"),
                posix,
                "{classes:?}"
            );
            assert_eq!(entry.attrs.contains_key("uidNumber"), posix);
            if posix {
                numbers.insert(entry.attrs["uidNumber"][0].clone());
                assert_eq!(entry.attrs["homeDirectory"], vec![format!("/home/{user}")]);
            }
        }
        assert_eq!(
            numbers.len(),
            if posix { 2 } else { 0 },
            "distinct uidNumbers"
        );
        let (dns, _) = search(
            &mut admin,
            PEOPLE,
            Scope::OneLevel,
            "(objectClass=posixAccount)",
        )
        .await;
        assert_eq!(dns.len(), if posix { 3 } else { 0 });
    }
}

/// How many users and groups a caller reads of the home tree, or its search's error code.
type Reads = Result<(usize, usize), u32>;

/// What a caller reads of the home tree: the users and groups a subtree search answers, or
/// the search's error code.
async fn what_it_reads(ldap: &mut Ldap) -> Reads {
    let (users, rc) = search(ldap, BASE, Scope::Subtree, "(objectClass=inetOrgPerson)").await;
    if rc != 0 {
        return Err(rc);
    }
    let (groups, rc) = search(ldap, BASE, Scope::Subtree, "(objectClass=groupOfNames)").await;
    assert_eq!(rc, 0);
    Ok((users.len(), groups.len()))
}

#[tokio::test]
async fn ldap_permission_rows_for_every_caller() {
    let app = spawn_ldap().await;
    let team = group(&app, "Team", None).await;
    let (gadmin, _) = app.user_with_role("gadmin", "user").await;
    let assign = json!({"identity": {"identity_type": "IT_User", "identity_id": gadmin},
                        "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
                        "manage_resource_id": team});
    let (status, body) = app.admin("/v2/role/assign", assign).await;
    assert!(status.is_success(), "{body}");
    app.user_with_role("plain", "user").await;
    app.user_with_role("boss", "admin").await;
    app.user_with_role("reader", "directory_reader").await;
    let body = json!({"domain_id": "elsewhere", "domain_name": "Elsewhere",
                      "admin_password": ADMIN_PASSWORD});
    assert_eq!(
        app.admin("/v2/domain/create", body).await.0,
        StatusCode::CREATED
    );
    // admin, gadmin, plain, boss, reader; one group.
    let everything = Ok((5, 1));
    let rows: [(&str, &str, &str, Reads); 7] = [
        ("anonymous", "", "", Err(50)),
        ("user", "plain", USER_PASSWORD, Ok((1, 0))),
        // Its subtree: Team, no member.
        ("group admin", "gadmin", USER_PASSWORD, Ok((0, 1))),
        ("admin", "boss", USER_PASSWORD, everything),
        ("superadmin", "admin", ADMIN_PASSWORD, everything),
        ("directory reader", "reader", USER_PASSWORD, everything),
        (
            "other domain",
            "uid=admin,ou=people,dc=elsewhere",
            ADMIN_PASSWORD,
            Err(32),
        ),
    ];
    for (who, dn, password, expected) in rows {
        let mut ldap = connect(&app).await;
        let res = ldap.simple_bind(dn, password).await.unwrap();
        assert_eq!(res.rc, 0, "{who} binds");
        assert_eq!(what_it_reads(&mut ldap).await, expected, "{who}");
        // Nobody changes the directory over LDAP, whatever its role.
        let rc = ldap
            .modify(
                &user_dn("admin"),
                vec![ldap3::Mod::Replace("cn", ["x"].into())],
            )
            .await
            .unwrap()
            .rc;
        assert_eq!(rc, 53, "{who} modifies");
    }
}

#[tokio::test]
async fn the_directory_reader_role_reads_and_changes_nothing() {
    let app = spawn_ldap().await;
    let alice = user_id_of(&app, "alice").await;
    let team = group(&app, "Team", None).await;
    // Only a superadmin grants the role; an admin cannot.
    let (reader, reader_token) = app.user_with_role("reader", "user").await;
    let (_, boss) = app.user_with_role("boss", "admin").await;
    let grant = json!({"user_id": reader, "role": "directory_reader"});
    let answer = app.call("/v2/user/update", &boss, grant.clone()).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let (status, body) = app.admin("/v2/user/update", grant).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, shown) = app.admin("/v2/user/get", json!({"user_id": reader})).await;
    assert_eq!(shown["role"], "directory_reader");
    // Its tokens ended with the role change: a new login.
    let _ = reader_token;
    let token = app.login("reader", USER_PASSWORD).await;
    // The API: it reads anyone and any list...
    for (path, body) in [
        ("/v2/user/get", json!({"user_id": alice})),
        ("/v2/user/list", json!({})),
        ("/v2/user/search", json!({"nick_name": "Nick"})),
        ("/v2/group/get", json!({"group_id": team})),
        ("/v2/group/list", json!({})),
    ] {
        let (status, body) = app.call(path, &token, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // ...and changes nothing, not even its own role.
    for (path, body) in [
        (
            "/v2/user/create",
            json!({"user_id": "newcomer", "nick_name": "x"}),
        ),
        (
            "/v2/user/update",
            json!({"user_id": alice, "nick_name": "x"}),
        ),
        (
            "/v2/user/update",
            json!({"user_id": reader, "role": "admin"}),
        ),
        ("/v2/user/delete", json!({"user_id": alice})),
        ("/v2/group/create", json!({"group_name": "Mine"})),
        (
            "/v2/group/add_member",
            json!({"group_id": team, "member_type": "user", "member_id": alice}),
        ),
    ] {
        let answer = app.call(path, &token, body).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    // LDAP: it reads the whole tree, groups with their members.
    let mut ldap = bound(&app, &user_dn(&reader), USER_PASSWORD).await;
    let (dns, rc) = search(&mut ldap, PEOPLE, Scope::OneLevel, "(objectClass=*)").await;
    assert_eq!(rc, 0);
    assert!(dns.contains(&user_dn(&alice)) && dns.len() == 4, "{dns:?}");
    let (dns, _) = search(
        &mut ldap,
        BASE,
        Scope::Subtree,
        "(objectClass=groupOfNames)",
    )
    .await;
    assert_eq!(dns.len(), 1);
    // Back to `user`: the directory closes.
    let (status, _) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": reader, "role": "user"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = app.login("reader", USER_PASSWORD).await;
    let answer = app.call("/v2/user/list", &token, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
}

#[tokio::test]
async fn ldap_missing_entries_answer_no_such_object_with_the_matched_dn() {
    let app = spawn_ldap().await;
    let alice = user_id_of(&app, "alice").await;
    let team = group(&app, "Team", None).await;
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    for (base, matched) in [
        ("uid=nobody,ou=people,dc=default", PEOPLE),
        ("cn=nogroup,ou=groups,dc=default", "ou=groups,dc=default"),
    ] {
        for scope in [Scope::Base, Scope::Subtree] {
            let result = admin
                .search(base, scope, "(objectClass=*)", vec!["*"])
                .await
                .unwrap();
            assert_eq!(result.1.rc, 32, "{base}");
            assert_eq!(result.1.matched, matched, "{base}");
        }
    }
    // Entries that exist but do not match the filter: an empty success.
    let (dns, rc) = search(&mut admin, &user_dn(&alice), Scope::Base, "(uid=bob)").await;
    assert_eq!((dns.len(), rc), (0, 0));
    let group_dn = format!("cn={team},ou=groups,dc=default");
    let (dns, rc) = search(&mut admin, &group_dn, Scope::Base, "(objectClass=*)").await;
    assert_eq!((dns.len(), rc), (1, 0));
    // To an ordinary user, another user's entry does not exist.
    let mut alice_ldap = bound(&app, &user_dn(&alice), USER_PASSWORD).await;
    let (_, rc) = search(
        &mut alice_ldap,
        &user_dn("admin"),
        Scope::Base,
        "(objectClass=*)",
    )
    .await;
    assert_eq!(rc, 32);
    let (dns, rc) = search(
        &mut alice_ldap,
        &user_dn(&alice),
        Scope::Base,
        "(objectClass=*)",
    )
    .await;
    assert_eq!((dns.len(), rc), (1, 0));
}

#[tokio::test]
async fn ldap_binds_by_logon_identity_in_any_domain() {
    let app = spawn_ldap().await;
    let body = json!({"domain_id": "elsewhere", "domain_name": "Elsewhere",
                      "admin_password": ADMIN_PASSWORD});
    assert_eq!(
        app.admin("/v2/domain/create", body).await.0,
        StatusCode::CREATED
    );
    let other_admin = app.login_in("elsewhere", "admin", ADMIN_PASSWORD).await;
    let (status, carol) = app
        .call(
            "/v2/user/import",
            &other_admin,
            json!({"authentication_type": "custom", "identity": "carol",
                   "nick_name": "Carol", "plain_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{carol}");
    let carol_id = carol["user_id"].as_str().unwrap().to_owned();
    assert_ne!(carol_id, "carol");
    let carol_dn = format!("uid={carol_id},ou=people,dc=elsewhere");
    // By user id and by logon identity, in that domain's people DN.
    for dn in [carol_dn.clone(), "uid=carol,ou=people,dc=elsewhere".into()] {
        let mut ldap = bound(&app, &dn, USER_PASSWORD).await;
        let (exop, _) = ldap.extended(WhoAmI).await.unwrap().success().unwrap();
        let who: WhoAmIResp = exop.parse();
        assert_eq!(who.authzid, format!("dn:{carol_dn}"), "{dn}");
    }
    // Wrong password, the identity in the wrong domain, or bare (the default domain): refused.
    let mut ldap = connect(&app).await;
    for (dn, password) in [
        ("uid=carol,ou=people,dc=elsewhere", "wrong-password"),
        ("uid=carol,ou=people,dc=default", USER_PASSWORD),
        ("carol", USER_PASSWORD),
    ] {
        let res = ldap.simple_bind(dn, password).await.unwrap();
        assert_eq!(res.rc, 49, "{dn}");
    }
}

#[tokio::test]
async fn ldap_posix_groups_carry_gid_numbers_and_member_uids() {
    let app = spawn_ldap_with(true).await;
    let dave = user_id_of(&app, "dave").await;
    let first = group(&app, "First", None).await;
    let second = group(&app, "Second", Some(&first)).await;
    add_member(&app, &first, &dave).await;
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    let result = admin
        .search(BASE, Scope::Subtree, "(objectClass=posixGroup)", vec!["*"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let entries: Vec<SearchEntry> = result.0.into_iter().map(SearchEntry::construct).collect();
    assert_eq!(entries.len(), 2);
    let mut gids = BTreeSet::new();
    for entry in &entries {
        let gid: i64 = entry.attrs["gidNumber"][0].parse().unwrap();
        assert!(gid > 1_000_000_000, "{gid}");
        gids.insert(gid);
        if entry.attrs["cn"][0] == first {
            assert_eq!(entry.attrs["memberUid"], vec![dave.clone()]);
            let sub = format!("cn={second},ou=groups,dc=default");
            assert!(entry.attrs["member"].contains(&sub), "{entry:?}");
        } else {
            assert!(!entry.attrs.contains_key("memberUid"), "{entry:?}");
        }
    }
    assert_eq!(gids.len(), 2, "distinct gidNumbers");
    // The filter SSSD sends for a user's groups.
    let (dns, rc) = search(
        &mut admin,
        BASE,
        Scope::Subtree,
        &format!("(&(objectClass=posixGroup)(memberUid={dave}))"),
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(
        dns,
        BTreeSet::from([format!("cn={first},ou=groups,dc=default")])
    );
    // Without the option, groups are no posixGroups.
    let plain = spawn_ldap_with(false).await;
    group(&plain, "First", None).await;
    let mut admin = bound(&plain, "admin", ADMIN_PASSWORD).await;
    let (dns, _) = search(&mut admin, BASE, Scope::Subtree, "(objectClass=posixGroup)").await;
    assert!(dns.is_empty());
}

#[tokio::test]
async fn ldap_substring_filters_use_indexes_or_stop_at_a_bound() {
    let app = spawn_ldap().await;
    let alice = user_id_of(&app, "alice").await;
    let bob = user_id_of(&app, "bob").await;
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    // Display-name pieces go through the trigram index; the answer is exact.
    for (filter, expected) in [
        ("(cn=*alice*)", vec![alice.clone()]),
        ("(displayName=Nick b*)", vec![bob.clone()]),
        (
            "(&(objectClass=person)(cn=nick*))",
            vec![alice.clone(), bob.clone()],
        ),
        ("(sn=*ick ali*)", vec![alice.clone()]),
        ("(cn=*zzz*)", vec![]),
    ] {
        let (dns, rc) = search(&mut admin, PEOPLE, Scope::OneLevel, filter).await;
        assert_eq!(rc, 0, "{filter}");
        let expected: BTreeSet<String> = expected.iter().map(|u| user_dn(u)).collect();
        assert_eq!(dns, expected, "{filter}");
    }
    // Unindexed substrings (a phone number, a description) still answer in a small directory.
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": alice, "phone": "13800001234"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (dns, rc) = search(&mut admin, PEOPLE, Scope::OneLevel, "(mobile=*0001*)").await;
    assert_eq!((dns, rc), (BTreeSet::from([user_dn(&alice)]), 0));
}

#[tokio::test]
async fn ldap_refuses_connections_over_the_cap_and_closes_idle_ones() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.ldap.listen = Some("127.0.0.1:0".into());
    config.ldap.max_connections = 2;
    config.ldap.idle_timeout = std::time::Duration::from_secs(1);
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    let address = app
        .ldap_url
        .as_deref()
        .unwrap()
        .trim_start_matches("ldap://")
        .to_owned();
    let mut first = bound(&app, "admin", ADMIN_PASSWORD).await;
    let _second = bound(&app, "admin", ADMIN_PASSWORD).await;
    // The third is told `busy` in a notice of disconnection, then closed.
    let mut third = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        third.read_to_end(&mut answer),
    )
    .await
    .expect("closed at once")
    .unwrap();
    let notice_oid = b"1.3.6.1.4.1.1466.20036";
    assert!(
        answer.windows(notice_oid.len()).any(|w| w == notice_oid),
        "{answer:?}"
    );
    assert!(
        answer.windows(3).any(|w| w == [0x0a, 0x01, 51]),
        "busy (51): {answer:?}"
    );
    // The served ones still work; once idle past the timeout they are closed, freeing room.
    let (_, rc) = search(&mut first, PEOPLE, Scope::OneLevel, "(objectClass=*)").await;
    assert_eq!(rc, 0);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let mut again = bound(&app, "admin", ADMIN_PASSWORD).await;
    let (_, rc) = search(&mut again, PEOPLE, Scope::OneLevel, "(objectClass=*)").await;
    assert_eq!(rc, 0);
    let _ = third.write_all(b"").await;
}

/// A substring filter no index serves reads at most 10,000 users (`MAX_UNINDEXED_USERS`):
/// under that it is answered in full, past it with `adminLimitExceeded` (11); an indexed term
/// beside it narrows the read, so the same filter is served past the bound.
#[tokio::test]
async fn an_unindexed_substring_filter_is_bounded_at_ten_thousand_users() {
    let app = spawn_ldap().await;
    let nobody = "(mobile=*0000000*)";
    let phone = "(telephoneNumber=*1*)";
    app.store.seed_users("default", "big", 9_000).await;
    let mut admin = bound(&app, "admin", ADMIN_PASSWORD).await;
    // 9,001 users with the admin: read whole, nobody matches.
    let (found, rc) = search(&mut admin, PEOPLE, Scope::Subtree, nobody).await;
    assert_eq!((found.len(), rc), (0, 0));
    app.store.seed_users("default", "more", 1_500).await;
    // 10,501 users: past the bound.
    for filter in [nobody, phone] {
        let result = admin
            .search(PEOPLE, Scope::Subtree, filter, vec!["uid"])
            .await
            .unwrap();
        assert_eq!(result.1.rc, 11, "{filter}: {:?}", result.1);
        assert!(result.1.text.contains("narrow"), "{:?}", result.1);
    }
    let (found, rc) = search(&mut admin, BASE, Scope::Subtree, nobody).await;
    assert_eq!((found.len(), rc), (0, 11));
    // Narrowed by an indexed term (uid pattern, display name piece): served.
    let narrowed = format!("(&(uid=more0*){nobody})");
    let (found, rc) = search(&mut admin, PEOPLE, Scope::Subtree, &narrowed).await;
    assert_eq!((found.len(), rc), (0, 0));
    let (found, rc) = search(&mut admin, PEOPLE, Scope::Subtree, "(uid=more014*)").await;
    assert_eq!((found.len(), rc), (100, 0));
}

/// A group admin reads over LDAP what it manages through the API: the users and groups of the
/// subtree it administers (the services' `directory_scope`), and its own entry; nothing
/// outside, nothing of another domain.
#[tokio::test]
async fn a_group_admin_reads_its_subtree_over_ldap() {
    let app = spawn_ldap().await;
    let top = group(&app, "Top", None).await;
    let team = group(&app, "Team", Some(&top)).await;
    let sub = group(&app, "Sub", Some(&team)).await;
    let other = group(&app, "Other", None).await;
    let alice = user_id_of(&app, "alice").await;
    let bob = user_id_of(&app, "bob").await;
    let carol = user_id_of(&app, "carol").await;
    let dave = user_id_of(&app, "dave").await;
    add_member(&app, &team, &alice).await;
    add_member(&app, &sub, &bob).await;
    add_member(&app, &other, &carol).await;
    add_member(&app, &top, &dave).await;
    let (gadmin, _) = app.user_with_role("gadmin", "user").await;
    let assign = json!({"identity": {"identity_type": "IT_User", "identity_id": gadmin},
                        "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
                        "manage_resource_id": team});
    let (status, body) = app.admin("/v2/role/assign", assign).await;
    assert!(status.is_success(), "{body}");
    let group_dn = |g: &str| format!("cn={g},ou=groups,{BASE}");

    let mut ldap = bound(&app, "gadmin", USER_PASSWORD).await;
    let (users, rc) = search(
        &mut ldap,
        BASE,
        Scope::Subtree,
        "(objectClass=inetOrgPerson)",
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(users, BTreeSet::from([user_dn(&alice), user_dn(&bob)]));
    let (groups, rc) = search(
        &mut ldap,
        BASE,
        Scope::Subtree,
        "(objectClass=groupOfNames)",
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(groups, BTreeSet::from([group_dn(&team), group_dn(&sub)]));
    // Filters inside the subtree work; outside it they find nobody.
    let in_chain = |g: &str| format!("(memberOf:1.2.840.113556.1.4.1941:={})", group_dn(g));
    let (found, _) = search(&mut ldap, PEOPLE, Scope::OneLevel, &in_chain(&team)).await;
    assert_eq!(found, BTreeSet::from([user_dn(&alice), user_dn(&bob)]));
    for outside in [&top, &other] {
        let (found, rc) = search(&mut ldap, PEOPLE, Scope::OneLevel, &in_chain(outside)).await;
        assert_eq!((found.len(), rc), (0, 0), "{outside}");
    }
    let (found, _) = search(&mut ldap, PEOPLE, Scope::OneLevel, "(uid=carol*)").await;
    assert!(found.is_empty(), "{found:?}");
    // By DN: its subtree and itself; anything else does not exist for it.
    for dn in [user_dn(&bob), user_dn(&gadmin), group_dn(&sub)] {
        let (found, rc) = search(&mut ldap, &dn, Scope::Base, "(objectClass=*)").await;
        assert_eq!((found.len(), rc), (1, 0), "{dn}");
    }
    for dn in [
        user_dn(&carol),
        user_dn(&dave),
        group_dn(&top),
        group_dn(&other),
    ] {
        let (found, rc) = search(&mut ldap, &dn, Scope::Base, "(objectClass=*)").await;
        assert_eq!((found.len(), rc), (0, 32), "{dn}");
    }
    // Another domain's tree does not exist for it.
    let body = json!({"domain_id": "elsewhere", "domain_name": "Elsewhere",
                      "admin_password": ADMIN_PASSWORD});
    assert_eq!(
        app.admin("/v2/domain/create", body).await.0,
        StatusCode::CREATED
    );
    let (found, rc) = search(&mut ldap, "dc=elsewhere", Scope::Subtree, "(objectClass=*)").await;
    assert_eq!((found.len(), rc), (0, 32));
    // The same rule as the API: a plain user of the subtree reads only itself.
    let mut plain = bound(&app, &user_dn(&alice), USER_PASSWORD).await;
    let (users, _) = search(
        &mut plain,
        BASE,
        Scope::Subtree,
        "(objectClass=inetOrgPerson)",
    )
    .await;
    assert_eq!(users, BTreeSet::from([user_dn(&alice)]));
}
