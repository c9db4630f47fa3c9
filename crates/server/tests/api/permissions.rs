//! The permission matrix: every endpoint of every dialect, called as each kind of caller
//! against fresh objects of a home domain, each answer checked against the tables of
//! `docs/permissions.md`, which this test reads (so the doc and the test cannot drift).
//!
//! The callers: nobody (no credentials), a plain user, a group admin, an admin, the
//! superadmin and a directory reader (the read-only role) of the home domain, and the
//! superadmin of another top-level domain. Home
//! objects carry the marker `qzhome` in their ids and names; no answer to the other domain's
//! caller may contain it, nor any id of a home object its request named.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use futures_util::stream::{self, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, Member, NewDomain, NewDrive, NewUser, Role, SetUp, TestApp, USER_PASSWORD,
};

/// The tables this test checks, read at build time.
const DOC: &str = include_str!("../../../../docs/permissions.md");
/// In every id and name of a home object; the home domain's id.
const MARK: &str = "qzhome";
const OTHER: &str = "qzother";
/// Password of both domains' superadmins.
const PASSWORD: &str = "matrix-password-1";
const EDS_VERSION: &str = "2021-03-08";
const KD: &str = "/koodrive/ose/v1";
/// How many rows run at once (their six callers run together too).
const ROWS_AT_ONCE: usize = 4;
/// An RS256 public key (from `apps.rs`), for the app rows.
const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6MarZUknX6wMJ2BWA4tn\nVOJ9rJ8VtnygZYyUIWB+ulcCdJCoBMoGU1AhZcx6hIsur6C15pLGRNhfrtGq5Qsa\n/Zfhcy5c0MW+yo29TqF12FB3zDMIn/EtLadxbe2oRRJsHBjMVwomwCzS9I67LxhZ\ngWhK6KEupyOe1I0IRTIh6jB+f4WBU7novl/NExXWymVbhxFoeWtcWT0Gt6AvQSTF\n6sGnu23tm5UdylIblkENgocU6Cdc5Rac7z1cB53kZAwiXAo5DpCFpzTR/1TF6PMk\noyZ14FUVRHLjSdG4eOI1tIMgs74jDNaAhHQFjvlEYAdzcJjJfrL0njkng1HDh5oQ\n6wIDAQAB\n-----END PUBLIC KEY-----";

// ---------------------------------------------------------------------------------------
// The tables

/// The callers, in the order of the tables' columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Who {
    Anonymous,
    User,
    GroupAdmin,
    Admin,
    Superadmin,
    /// A user of the home domain with the read-only role `directory_reader`.
    DirectoryReader,
    OtherDomain,
}

const CALLERS: [(Who, &str); 7] = [
    (Who::Anonymous, "anonymous"),
    (Who::User, "user"),
    (Who::GroupAdmin, "group admin"),
    (Who::Admin, "admin"),
    (Who::Superadmin, "superadmin"),
    (Who::DirectoryReader, "directory reader"),
    (Who::OtherDomain, "other domain"),
];

/// What a caller gets, as a cell of the tables writes it.
const CELLS: [&str; 8] = ["ok", "any", "self", "sub", "400", "401", "403", "404"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Pds,
    Eds,
    KooDrive,
}

impl Dialect {
    /// The first header cell of the dialect's table.
    fn header(self) -> &'static str {
        match self {
            Dialect::Pds => "PDS operation",
            Dialect::Eds => "eds-user action",
            Dialect::KooDrive => "KooDrive endpoint",
        }
    }
}

/// One row: an operation and the cell of each caller.
#[derive(Debug, Clone)]
struct Row {
    op: String,
    cells: Vec<(Who, String)>,
}

/// The cells of a markdown table row, trimmed.
fn cells_of(line: &str) -> Vec<String> {
    let line = line.trim();
    let inner = line
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
        .unwrap_or_else(|| panic!("not a table row: {line}"));
    // `\|` is a pipe inside a cell.
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_owned()).collect()
}

/// The rows of the dialect's table in `doc`.
fn table(doc: &str, dialect: Dialect) -> Vec<Row> {
    let mut lines = doc.lines();
    let header = lines
        .by_ref()
        .find(|l| {
            l.trim_start().starts_with('|')
                && cells_of(l).first().map(String::as_str) == Some(dialect.header())
        })
        .unwrap_or_else(|| panic!("docs/permissions.md has no `{}` table", dialect.header()));
    let names = cells_of(header);
    let columns: Vec<(Who, usize)> = CALLERS
        .iter()
        .map(|(who, name)| {
            let at = names
                .iter()
                .position(|n| n == name)
                .unwrap_or_else(|| panic!("the {} table has no `{name}` column", dialect.header()));
            (*who, at)
        })
        .collect();
    let separator = lines.next().unwrap_or_default();
    assert!(separator.contains("---"), "{separator}");
    let mut rows = Vec::new();
    for line in lines.take_while(|l| l.trim_start().starts_with('|')) {
        let cells = cells_of(line);
        let op = cells[0].trim_matches('`').to_owned();
        let row_cells = columns
            .iter()
            .map(|(who, at)| {
                let cell = cells.get(*at).cloned().unwrap_or_default();
                assert!(
                    CELLS.contains(&cell.as_str()),
                    "{op}: `{cell}` is not one of {CELLS:?}"
                );
                (*who, cell)
            })
            .collect();
        rows.push(Row {
            op,
            cells: row_cells,
        });
    }
    assert!(!rows.is_empty(), "the {} table is empty", dialect.header());
    rows
}

/// The names in `column` of the markdown table (of another doc) whose first header cell is
/// `first`: the first code span of each cell, or the whole cell when it has none.
fn first_column(doc: &str, first: &str, column: usize) -> Vec<String> {
    let mut lines = doc.lines();
    lines
        .by_ref()
        .find(|l| l.trim_start().starts_with('|') && cells_of(l)[0] == first)
        .unwrap_or_else(|| panic!("no table starting with `{first}`"));
    lines.next();
    lines
        .take_while(|l| l.trim_start().starts_with('|'))
        .map(|l| {
            let cell = cells_of(l)[column].clone();
            cell.split('`').nth(1).unwrap_or(&cell).to_owned()
        })
        .collect()
}

fn no_duplicates(dialect: Dialect, rows: &[Row]) {
    let mut seen = BTreeSet::new();
    for row in rows {
        assert!(
            seen.insert(&row.op),
            "{} twice in the {dialect:?} table",
            row.op
        );
    }
}

// ---------------------------------------------------------------------------------------
// The world: a home domain with its callers, and another domain

/// Which object of the home domain a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    /// An object of someone else, outside what the group admin administers.
    Home,
    /// The caller's own (its user, its drive, its space).
    Own,
    /// One inside the group the group admin administers.
    Inside,
}

/// A request, as each dialect sends it.
enum Call {
    Pds {
        path: String,
        body: Value,
    },
    PdsForm {
        path: String,
        form: Vec<(String, String)>,
    },
    /// A PDS `GET` (the audit-log download), answered with a file or a JSON error.
    PdsGet {
        path: String,
    },
    Eds {
        action: String,
        form: Vec<(String, String)>,
    },
    Kd {
        method: Method,
        path: String,
        body: Option<Value>,
    },
}

/// Where an answer keeps its outcome.
#[derive(Debug, Clone, Copy)]
enum Reading {
    Plain,
    /// `/v2/batch`: the status of its one call.
    PdsBatch,
    /// An eds-user batch action: a 200 with failed users under this result.
    EdsBatch(&'static str),
    /// KooDrive batchAdd/batchDelete: a 200 with `status` and `failedList`.
    KdBatch,
}

struct Req {
    call: Call,
    reading: Reading,
    /// Ids of the home objects the request names that carry no marker (random ids).
    ids: Vec<String>,
}

impl Req {
    fn pds(path: &str, body: Value) -> Req {
        Req {
            call: Call::Pds {
                path: path.to_owned(),
                body,
            },
            reading: Reading::Plain,
            ids: Vec::new(),
        }
    }

    fn eds(action: &str, form: &[(&str, &str)]) -> Req {
        Req {
            call: Call::Eds {
                action: action.to_owned(),
                form: form
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            },
            reading: Reading::Plain,
            ids: Vec::new(),
        }
    }

    fn kd(method: Method, path: &str, body: Option<Value>) -> Req {
        Req {
            call: Call::Kd {
                method,
                path: path.to_owned(),
                body,
            },
            reading: Reading::Plain,
            ids: Vec::new(),
        }
    }

    fn naming(mut self, ids: &[&str]) -> Req {
        self.ids.extend(ids.iter().map(|s| (*s).to_owned()));
        self
    }

    fn reading(mut self, reading: Reading) -> Req {
        self.reading = reading;
        self
    }
}

/// Where the matrix's webhooks point: a public address (the SSRF guard lets it through)
/// on the discard port.
const WEBHOOK_URL: &str = "http://93.184.216.34:9/hook";

struct World {
    app: TestApp,
    tokens: HashMap<Who, String>,
    users: HashMap<Who, String>,
    passwords: HashMap<Who, &'static str>,
    /// The organization the group admin administers.
    managed: String,
    /// A property with two values (eds rows that do not change it).
    property: (String, String),
    /// A property rows rename.
    renamed_property: String,
    counter: AtomicUsize,
    /// A home webhook the rows that do not delete it share (a domain has at most 32).
    webhook: tokio::sync::OnceCell<String>,
}

async fn login(app: &TestApp, domain: &str, user: &str, password: &str) -> String {
    let (status, body) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
            ("domain_id", domain),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{domain}/{user}: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

impl World {
    async fn new() -> World {
        let app = spawn_app().await;
        for (id, admin) in [(MARK, "qzhome_su"), (OTHER, "qzother_su")] {
            let tenant = NewDomain::new(id).admin(admin).password(PASSWORD);
            app.by_admin().domain(tenant).await;
        }
        let superadmin = login(&app, MARK, "qzhome_su", PASSWORD).await;
        let other = login(&app, OTHER, "qzother_su", PASSWORD).await;
        let mut world = World {
            app,
            tokens: HashMap::from([(Who::Superadmin, superadmin), (Who::OtherDomain, other)]),
            users: HashMap::from([
                (Who::Superadmin, "qzhome_su".to_owned()),
                (Who::OtherDomain, "qzother_su".to_owned()),
            ]),
            passwords: HashMap::from([
                (Who::Superadmin, PASSWORD),
                (Who::OtherDomain, PASSWORD),
                (Who::User, USER_PASSWORD),
                (Who::GroupAdmin, USER_PASSWORD),
                (Who::Admin, USER_PASSWORD),
                (Who::DirectoryReader, USER_PASSWORD),
            ]),
            managed: String::new(),
            property: (String::new(), String::new()),
            renamed_property: String::new(),
            counter: AtomicUsize::new(0),
            webhook: tokio::sync::OnceCell::new(),
        };
        for (who, id) in [
            (Who::User, "qzhome_pu"),
            (Who::GroupAdmin, "qzhome_ga"),
            (Who::Admin, "qzhome_ad"),
            (Who::DirectoryReader, "qzhome_dr"),
        ] {
            let caller = NewUser::new(id).nick(id).password(USER_PASSWORD);
            world.by_su().imported(caller, id).await;
            if who == Who::Admin {
                world.by_su().set_role(id, Role::Admin).await;
            } else if who == Who::DirectoryReader {
                world.by_su().set_role(id, Role::DirectoryReader).await;
                world.default_drive(id).await;
            } else {
                // Its own default drive (also its KooDrive personal space).
                world.default_drive(id).await;
            }
            let token = login(&world.app, MARK, id, USER_PASSWORD).await;
            world.tokens.insert(who, token);
            world.users.insert(who, id.to_owned());
        }
        world.managed = world.group(None).await;
        world.assign(&world.managed, "qzhome_ga").await;
        // Home things that lists must not show to the other domain.
        world.subdomain().await;
        let user = world.user().await;
        world.drive(&user).await;
        world.key(&user).await;
        world.app().await;
        world.reset_token(&user).await;
        world.property = world.new_property().await;
        world.renamed_property = world.new_property().await.0;
        world.user_group().await;
        world.resource_group().await;
        world
    }

    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.tokens.get(&who).map(String::as_str)
    }

    /// The caller's own user id (the plain user's for nobody).
    fn own(&self, who: Who) -> &str {
        self.users
            .get(&who)
            .unwrap_or_else(|| &self.users[&Who::User])
    }

    /// Set-up as the home superadmin.
    fn by_su(&self) -> SetUp<'_> {
        self.app.by(&self.tokens[&Who::Superadmin])
    }

    /// `POST path` as the home superadmin, which must succeed.
    async fn su(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self
            .app
            .call(path, &self.tokens[&Who::Superadmin], body.clone())
            .await;
        assert!(status.is_success(), "{path} {body}: {status} {answer}");
        answer
    }

    /// An eds-user action as the home superadmin, which must succeed.
    async fn su_eds(&self, action: &str, form: &[(&str, &str)]) -> Value {
        let (status, _, answer) = self.send(Who::Superadmin, &Req::eds(action, form)).await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
        answer
    }

    /// A KooDrive call as the home superadmin, which must succeed.
    async fn su_kd(&self, method: Method, path: &str, body: Value) -> Value {
        let (status, _, answer) = self
            .send(Who::Superadmin, &Req::kd(method, path, Some(body)))
            .await;
        assert!(
            status == StatusCode::OK && answer["code"] == 0,
            "{path}: {answer}"
        );
        answer
    }

    /// A fresh plain user with a custom account (identity = its id) and an email address.
    async fn user(&self) -> String {
        let id = format!("{MARK}_u{}", self.next());
        let user = NewUser::new(&id)
            .nick(&format!("{MARK} user"))
            .email(&format!("{id}@example.com"));
        self.by_su().imported(user, &id).await;
        id
    }

    /// A fresh group (an organization) under `parent`, or at the top.
    async fn group(&self, parent: Option<&str>) -> String {
        let name = format!("{MARK} group {}", self.next());
        self.by_su().group(&name, parent).await
    }

    /// A fresh group where the group admin may (`Inside`) or may not act.
    async fn target_group(&self, on: On) -> String {
        match on {
            On::Inside => self.group(Some(&self.managed)).await,
            _ => self.group(None).await,
        }
    }

    async fn member(&self, group: &str, user: &str) {
        self.by_su().add_member(group, Member::User(user)).await;
    }

    async fn assign(&self, group: &str, user: &str) {
        self.by_su()
            .make_group_admin(group, Member::User(user))
            .await;
    }

    async fn drive(&self, owner: &str) -> String {
        let drive = NewDrive::of_user(owner, &format!("{MARK} drive"));
        self.by_su().drive(drive).await
    }

    async fn default_drive(&self, owner: &str) -> String {
        let drive = NewDrive::of_user(owner, &format!("{MARK} drive")).default_drive();
        self.by_su().drive(drive).await
    }

    /// The caller's own default drive, or a fresh one of someone else.
    async fn target_drive(&self, who: Who, on: On) -> String {
        if on == On::Own {
            let (_, drive) = self
                .app
                .call(
                    "/v2/drive/get_default_drive",
                    &self.tokens[&Who::Superadmin],
                    json!({"user_id": self.own(who)}),
                )
                .await;
            return drive["drive_id"].as_str().unwrap_or("none").to_owned();
        }
        let owner = self.user().await;
        self.drive(&owner).await
    }

    /// The caller's own user id, or a fresh user's.
    async fn target_user(&self, who: Who, on: On) -> String {
        match on {
            On::Own => self.own(who).to_owned(),
            _ => self.user().await,
        }
    }

    async fn key(&self, user: &str) -> String {
        self.by_su().access_key(Some(user)).await.id
    }

    /// A fresh SCIM provisioning token's id.
    async fn scim_token(&self) -> String {
        self.su("/v2/scim_token/create", json!({})).await["token_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn app(&self) -> String {
        let name = format!("{MARK} app");
        self.by_su().app(&name, RSA_PUBLIC, "RS256").await
    }

    /// A fresh subdomain of the home domain.
    /// A home audit-log export (of no records).
    /// A new home webhook (to a public address nothing answers on).
    async fn new_webhook(&self) -> String {
        let body = json!({"url": WEBHOOK_URL});
        self.su("/v2/webhook/create", body).await["webhook_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn webhook(&self) -> String {
        self.webhook
            .get_or_init(|| self.new_webhook())
            .await
            .clone()
    }

    async fn export_task(&self) -> String {
        let body = json!({"query": "actor_id = 'no-such-actor'"});
        self.su("/v2/audit_log/export", body).await["async_task_id"]
            .as_str()
            .expect("async_task_id")
            .to_owned()
    }

    async fn subdomain(&self) -> String {
        let id = format!("{MARK}-s{}", self.next());
        let subdomain = NewDomain::new(&id).under(MARK).password(PASSWORD);
        self.by_su().domain(subdomain).await
    }

    /// A refresh token of a fresh user, from its own login (a token an admin takes for a
    /// user has none).
    async fn refresh_token(&self) -> String {
        let user = self.user().await;
        self.by_su().set_password(&user, USER_PASSWORD).await;
        let (status, body) = self
            .app
            .token_grant(&[
                ("grant_type", "password"),
                ("username", user.as_str()),
                ("password", USER_PASSWORD),
                ("domain_id", MARK),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{user}: {body}");
        body["refresh_token"].as_str().unwrap().to_owned()
    }

    /// A password reset token of `user`, mailed to the home outbox.
    async fn reset_token(&self, user: &str) -> String {
        self.su_eds("ResetUserPassword", &[("Users.1", user)]).await;
        let outbox = self.su("/v2/outbox/list", json!({})).await;
        let recipient = format!("{user}@example.com");
        let message = outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["recipient"] == recipient.as_str())
            .unwrap_or_else(|| panic!("no mail to {recipient}: {outbox}"));
        message["body"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .find(|w| w.len() == 48 && w.bytes().all(|b| b.is_ascii_hexdigit()))
            .expect("a token in the mail")
            .to_owned()
    }

    /// A fresh property with two values: its id and its first value's id.
    async fn new_property(&self) -> (String, String) {
        let key = format!("{MARK}_p{}", self.next());
        let created = self
            .su_eds(
                "CreateProperty",
                &[
                    ("PropertyKey", &key),
                    ("PropertyValues.1", &format!("{MARK} one")),
                    ("PropertyValues.2", &format!("{MARK} two")),
                ],
            )
            .await;
        let result = &created["CreateResult"];
        (
            result["PropertyId"].to_string(),
            result["SavePropertyValueModel"]["SavePropertyValues"][0]["PropertyValueId"]
                .to_string(),
        )
    }

    /// The eds-user number of a user.
    async fn number(&self, user: &str) -> String {
        let found = self
            .su_eds("DescribeUsers", &[("EndUserIds.1", user)])
            .await;
        found["Users"][0]["Id"].to_string()
    }

    async fn user_group(&self) -> String {
        let name = format!("{MARK} user group {}", self.next());
        self.su_eds("CreateGroup", &[("GroupName", &name)]).await["GroupId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn resource_group(&self) -> String {
        let name = format!("{MARK} resources {}", self.next());
        self.su_eds("CreateResourceGroup", &[("ResourceGroupName", &name)])
            .await["ResourceGroupId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A personal space of a fresh user; answers the user.
    async fn spaced_user(&self) -> String {
        let user = self.user().await;
        self.su_kd(
            Method::POST,
            &format!("{KD}/space/{user}"),
            json!({"capacity": 1024, "type": 1}),
        )
        .await;
        user
    }

    /// Sends a request as `who`: status, the raw body, and the body as JSON.
    async fn send(&self, who: Who, req: &Req) -> (StatusCode, String, Value) {
        let http = &self.app.http;
        let token = self.token(who);
        let request = match &req.call {
            Call::Pds { path, body } => {
                let mut r = http.post(self.app.url(path)).json(body);
                if let Some(token) = token {
                    r = r.bearer_auth(token);
                }
                r
            }
            Call::PdsForm { path, form } => {
                let mut r = http.post(self.app.url(path)).form(form);
                if let Some(token) = token {
                    r = r.bearer_auth(token);
                }
                r
            }
            Call::PdsGet { path } => {
                let mut r = http.get(self.app.url(path));
                if let Some(token) = token {
                    r = r.bearer_auth(token);
                }
                r
            }
            Call::Eds { action, form } => {
                let mut r = http
                    .post(self.app.url("/"))
                    .header("x-acs-action", action)
                    .header("x-acs-version", EDS_VERSION)
                    .form(form);
                if let Some(token) = token {
                    r = r.header("x-acs-bearer-token", token);
                }
                r
            }
            Call::Kd { method, path, body } => {
                let mut r = http.request(method.clone(), self.app.url(path));
                if let Some(body) = body {
                    r = r.json(body);
                }
                if let Some(token) = token {
                    r = r.header("Authorization", format!("Bearer+{token}"));
                }
                r
            }
        };
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        let is_file = matches!(req.call, Call::PdsGet { .. }) && status.is_success();
        let value = if text.is_empty() {
            Value::Null
        } else if is_file {
            Value::String(text.clone())
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        (status, text, value)
    }
}

fn role_body(group: &str, user: &str) -> Value {
    json!({"identity": {"identity_type": "IT_User", "identity_id": user},
           "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
           "manage_resource_id": group})
}

// ---------------------------------------------------------------------------------------
// The requests of each operation

/// The request of a PDS operation; `None` when the operation has no such variant.
async fn pds_request(w: &World, op: &str, who: Who, on: On) -> Option<Req> {
    let has_own = matches!(
        op,
        "/v2/user/get"
            | "/v2/user/update"
            | "/v2/user/general_get"
            | "/v2/batch"
            | "/v2/role/list_identity_role"
            | "/v2/drive/get"
            | "/v2/drive/get_default_drive"
            | "/v2/account/get_link_info_by_user_id"
    );
    let has_inside = matches!(
        op,
        "/v2/group/create"
            | "/v2/group/update"
            | "/v2/group/update_name"
            | "/v2/group/delete"
            | "/v2/group/add_member"
            | "/v2/group/remove_member"
            | "/v2/role/list_assignment"
            | "/v2/role/assign"
            | "/v2/role/cancel_assign"
    );
    if (on == On::Own && !has_own) || (on == On::Inside && !has_inside) {
        return None;
    }
    let n = w.next();
    let req = match op {
        "/v2/oauth/token" => Req {
            call: Call::PdsForm {
                path: op.to_owned(),
                form: [
                    ("grant_type", "password"),
                    ("username", "qzhome_pu"),
                    ("password", USER_PASSWORD),
                    ("domain_id", MARK),
                ]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            },
            reading: Reading::Plain,
            ids: Vec::new(),
        },
        "/v2/oauth/authorize" => {
            // A page for a person: a code-flow app of the domain the request names (no
            // `Host` routing here: the operator's), its sign-in page for any caller.
            let (status, app) = w
                .app
                .admin(
                    "/v2/app/create",
                    json!({"app_name": format!("page app {n}"), "app_type": "WebServer",
                           "redirect_uris": ["https://app.example/cb"]}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{app}");
            let client_id = app["client_id"].as_str().unwrap();
            Req {
                call: Call::PdsGet {
                    path: format!(
                        "{op}?client_id={client_id}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb\
                         &response_type=code&state=s"
                    ),
                },
                reading: Reading::Plain,
                ids: Vec::new(),
            }
        }
        "/v2/account/token" => {
            let token = w.refresh_token().await;
            Req::pds(
                op,
                json!({"grant_type": "refresh_token", "refresh_token": token}),
            )
        }
        "/v2/account/revoke" => {
            let token = w.refresh_token().await;
            Req::pds(op, json!({"refresh_token": token}))
        }
        "/v2/account/reset_password" => {
            let user = w.user().await;
            let token = w.reset_token(&user).await;
            Req::pds(
                op,
                json!({"token": token, "new_password": "matrix-new-pass-1"}),
            )
        }
        "/v2/user/create" => {
            let group = w.group(None).await;
            Req::pds(
                op,
                json!({"user_id": format!("new_{n}"), "nick_name": "new",
                       "group_info_list": [{"group_id": group}]}),
            )
            .naming(&[&group])
        }
        "/v2/user/import" => {
            let group = w.group(None).await;
            Req::pds(
                op,
                json!({"authentication_type": "custom", "identity": format!("new_{n}"),
                       "nick_name": "new", "parent_group_id": group}),
            )
            .naming(&[&group])
        }
        "/v2/user/get" => Req::pds(op, json!({"user_id": w.target_user(who, on).await})),
        "/v2/user/update" => Req::pds(
            op,
            json!({"user_id": w.target_user(who, on).await, "nick_name": "renamed"}),
        ),
        "/v2/user/delete" => Req::pds(op, json!({"user_id": w.user().await})),
        "/v2/user/list" => Req::pds(op, json!({})),
        "/v2/user/search" => Req::pds(op, json!({"status": "enabled"})),
        "/v2/user/general_get" => Req::pds(
            op,
            json!({"user_id": w.target_user(who, on).await,
                   "extra_return_info": ["account", "group", "drive"]}),
        ),
        "/v2/user/general_search" => Req::pds(
            op,
            json!({"extra_return_info": ["account", "group", "drive"]}),
        ),
        "/v2/user/list_group_user" => {
            let group = w.group(None).await;
            w.member(&group, &w.user().await).await;
            Req::pds(op, json!({"group_id": group})).naming(&[&group])
        }
        "/v2/batch" => Req::pds(
            op,
            json!({"resource": "user", "requests": [{"id": "1", "method": "POST",
                   "url": "/user/update",
                   "body": {"user_id": w.target_user(who, on).await, "nick_name": "renamed"}}]}),
        )
        .reading(Reading::PdsBatch),
        "/v2/group/create" => {
            let parent = w.target_group(on).await;
            Req::pds(
                op,
                json!({"group_name": "new group", "parent_group_id": parent}),
            )
            .naming(&[&parent])
        }
        "/v2/group/get" => {
            let group = w.group(None).await;
            Req::pds(op, json!({"group_id": group})).naming(&[&group])
        }
        "/v2/group/update" => {
            let group = w.target_group(on).await;
            Req::pds(op, json!({"group_id": group, "description": "changed"})).naming(&[&group])
        }
        "/v2/group/update_name" => {
            let group = w.target_group(on).await;
            Req::pds(op, json!({"group_id": group, "name": "renamed"})).naming(&[&group])
        }
        "/v2/group/delete" => {
            let group = w.target_group(on).await;
            Req::pds(op, json!({"group_id": group})).naming(&[&group])
        }
        "/v2/group/list" => Req::pds(op, json!({})),
        "/v2/group/search" => Req::pds(op, json!({"group_name_for_fuzzy": "group"})),
        "/v2/group/add_member" => {
            let group = w.target_group(on).await;
            let user = w.user().await;
            Req::pds(
                op,
                json!({"group_id": group, "member_type": "user", "member_id": user}),
            )
            .naming(&[&group])
        }
        "/v2/group/remove_member" => {
            let group = w.target_group(on).await;
            let user = w.user().await;
            w.member(&group, &user).await;
            Req::pds(
                op,
                json!({"group_id": group, "member_type": "user", "member_id": user}),
            )
            .naming(&[&group])
        }
        "/v2/group/list_member" => {
            let group = w.group(None).await;
            w.member(&group, &w.user().await).await;
            Req::pds(op, json!({"group_id": group})).naming(&[&group])
        }
        "/v2/role/assign" => {
            let group = w.target_group(on).await;
            Req::pds(op, role_body(&group, &w.user().await)).naming(&[&group])
        }
        "/v2/role/cancel_assign" => {
            let group = w.target_group(on).await;
            let user = w.user().await;
            w.assign(&group, &user).await;
            Req::pds(op, role_body(&group, &user)).naming(&[&group])
        }
        "/v2/role/list_assignment" => {
            let group = w.target_group(on).await;
            w.assign(&group, &w.user().await).await;
            Req::pds(
                op,
                json!({"manage_resource_type": "RT_Group", "manage_resource_id": group}),
            )
            .naming(&[&group])
        }
        "/v2/role/list_identity_role" => {
            let user = w.target_user(who, on).await;
            let mut req = Req::pds(
                op,
                json!({"identity": {"identity_type": "IT_User", "identity_id": user}}),
            );
            if on != On::Own {
                let group = w.group(None).await;
                w.assign(&group, &user).await;
                req = req.naming(&[&group]);
            }
            req
        }
        "/v2/drive/create" => Req::pds(
            op,
            json!({"drive_name": "new", "owner": w.user().await, "owner_type": "user"}),
        ),
        "/v2/drive/get" => {
            let drive = w.target_drive(who, on).await;
            Req::pds(op, json!({"drive_id": drive})).naming(&[&drive])
        }
        "/v2/drive/get_default_drive" => {
            let user = w.target_user(who, on).await;
            if on != On::Own {
                w.default_drive(&user).await;
            }
            Req::pds(op, json!({"user_id": user}))
        }
        "/v2/drive/update" => {
            let drive = w.target_drive(who, on).await;
            Req::pds(op, json!({"drive_id": drive, "description": "changed"})).naming(&[&drive])
        }
        "/v2/drive/delete" => {
            let drive = w.target_drive(who, on).await;
            Req::pds(op, json!({"drive_id": drive})).naming(&[&drive])
        }
        "/v2/drive/list" => Req::pds(op, json!({})),
        "/v2/drive/list_my_drives" => Req::pds(op, json!({})),
        "/v2/drive/search" => Req::pds(op, json!({"drive_name": "drive"})),
        "/v2/domain/create" => Req::pds(
            op,
            json!({"domain_id": format!("{MARK}-new-{n}"), "domain_name": "new",
                   "parent_domain_id": MARK, "admin_password": PASSWORD}),
        ),
        "/v2/domain/get" => Req::pds(op, json!({"domain_id": MARK, "get_quota_used": true})),
        "/v2/domain/update" => Req::pds(op, json!({"domain_id": MARK, "description": "changed"})),
        "/v2/domain/delete" => {
            Req::pds(op, json!({"domain_id": w.subdomain().await, "force": true}))
        }
        "/v2/domain/list" => Req::pds(op, json!({})),
        "/v2/domain/search" => Req::pds(op, json!({"domain_name": "q"})),
        "/v2/domain/get_quota" => Req::pds(op, json!({})),
        "/v2/access_key/create" => Req::pds(op, json!({"user_id": w.user().await})),
        "/v2/access_key/get" | "/v2/access_key/delete" => {
            let key = w.key(&w.user().await).await;
            Req::pds(op, json!({"access_key_id": key})).naming(&[&key])
        }
        "/v2/access_key/update" => {
            let key = w.key(&w.user().await).await;
            Req::pds(op, json!({"access_key_id": key, "status": "disabled"})).naming(&[&key])
        }
        "/v2/access_key/list" => Req::pds(op, json!({})),
        "/v2/scim_token/create" => Req::pds(op, json!({"description": "provider"})),
        "/v2/scim_token/list" => Req::pds(op, json!({})),
        "/v2/scim_token/delete" => {
            let token = w.scim_token().await;
            Req::pds(op, json!({"token_id": token})).naming(&[&token])
        }
        "/v2/app/create" => Req::pds(
            op,
            json!({"app_name": "new", "public_key": RSA_PUBLIC, "algorithm": "RS256"}),
        ),
        "/v2/app/get" | "/v2/app/delete" => {
            let app = w.app().await;
            Req::pds(op, json!({"client_id": app})).naming(&[&app])
        }
        "/v2/app/update" => {
            let app = w.app().await;
            Req::pds(op, json!({"client_id": app, "app_name": "renamed"})).naming(&[&app])
        }
        "/v2/app/list" => Req::pds(op, json!({})),
        "/v2/account/link" => Req::pds(
            op,
            json!({"type": "custom", "identity": format!("new_{n}"), "user_id": w.user().await}),
        ),
        "/v2/account/unlink" => {
            let user = w.user().await;
            Req::pds(
                op,
                json!({"type": "custom", "identity": user, "user_id": user}),
            )
        }
        "/v2/account/get_link_info" | "/v2/account/get_access_token_by_link_info" => {
            Req::pds(op, json!({"type": "custom", "identity": w.user().await}))
        }
        "/v2/account/get_link_info_by_user_id" => {
            Req::pds(op, json!({"user_id": w.target_user(who, on).await}))
        }
        "/v2/account/change_password" => {
            let password = w.passwords.get(&who).copied().unwrap_or(USER_PASSWORD);
            Req::pds(
                op,
                json!({"old_password": password, "new_password": password}),
            )
        }
        "/v2/outbox/list" => Req::pds(op, json!({})),
        // A filter no record matches: the caller's own attempts on home objects are in its
        // own log, and would show home ids it sent itself.
        "/v2/audit_log/list" => Req::pds(op, json!({"query": "actor_id = 'no-such-actor'"})),
        "/v2/audit_log/export" => Req::pds(op, json!({"query": "actor_id = 'no-such-actor'"})),
        "/v2/event/list" => Req::pds(op, json!({"limit": 100})),
        "/v2/webhook/create" => Req::pds(op, json!({"url": WEBHOOK_URL})),
        "/v2/webhook/list" => Req::pds(op, json!({})),
        "/v2/webhook/delete" => Req::pds(op, json!({"webhook_id": w.new_webhook().await})),
        "/v2/webhook/update" => Req::pds(
            op,
            json!({"webhook_id": w.webhook().await, "description": "changed"}),
        ),
        "/v2/webhook/get"
        | "/v2/webhook/test"
        | "/v2/webhook/list_dead_letters"
        | "/v2/webhook/redeliver"
        | "/v2/webhook/list_deliveries" => Req::pds(op, json!({"webhook_id": w.webhook().await})),
        "/v2/async_task/get" => Req::pds(op, json!({"async_task_id": w.export_task().await})),
        "/v2/audit_log/download" => Req {
            call: Call::PdsGet {
                path: format!("{op}?async_task_id={}", w.export_task().await),
            },
            reading: Reading::Plain,
            ids: Vec::new(),
        },
        other => panic!(
            "docs/permissions.md names {other}, which permissions.rs cannot call: add it to \
             pds_request"
        ),
    };
    Some(req)
}

/// The request of an eds-user action.
async fn eds_request(w: &World, action: &str, who: Who, on: On) -> Option<Req> {
    let has_inside = matches!(action, "CreateOrg" | "ModifyOrg");
    if on == On::Own || (on == On::Inside && !has_inside) {
        return None;
    }
    let n = w.next();
    let (property, value) = (&w.property.0, &w.property.1);
    let req = match action {
        "InitTenantAlias" => Req::eds(action, &[]),
        "CreateUsers" => {
            let org = w.group(None).await;
            Req::eds(
                action,
                &[
                    ("Users.1.EndUserId", &format!("new_{n}")),
                    // A phone is a logon account: each user its own.
                    ("Users.1.Phone", &format!("1390000{n:04}")),
                    ("Users.1.Password", "Str0ng!Passw0rd"),
                    ("Users.1.OrgId", &org),
                ],
            )
            .naming(&[&org])
            .reading(Reading::EdsBatch("CreateResult"))
        }
        "RemoveUsers" => Req::eds(action, &[("Users.1", &w.user().await)])
            .reading(Reading::EdsBatch("RemoveUsersResult")),
        "ModifyUser" => Req::eds(
            action,
            &[
                ("EndUserId", &w.user().await),
                ("Phone", &format!("1390001{n:04}")),
            ],
        ),
        "ResetUserPassword" => Req::eds(action, &[("Users.1", &w.user().await)])
            .reading(Reading::EdsBatch("ResetUsersResult")),
        "LockUsers" => Req::eds(action, &[("Users.1", &w.user().await)])
            .reading(Reading::EdsBatch("LockUsersResult")),
        "UnlockUsers" => {
            let user = w.user().await;
            w.su_eds("LockUsers", &[("Users.1", &user)]).await;
            Req::eds(action, &[("Users.1", &user)]).reading(Reading::EdsBatch("UnlockUsersResult"))
        }
        "DescribeUsers" => Req::eds(action, &[("ShowExtras", r#"{"Properties": true}"#)]),
        "FilterUsers" => Req::eds(action, &[]),
        "GetManagerInfoByAuthCode" => {
            let code = w.tokens[&Who::Admin].clone();
            Req::eds(action, &[("AuthCode", &code)])
        }
        "CreateProperty" => Req::eds(action, &[("PropertyKey", &format!("new_{n}"))]),
        "RemoveProperty" => {
            // A fresh property for the callers who remove it; the others name a standing one,
            // so that the domain's few properties (at most 10) last for every caller.
            let property = if matches!(who, Who::Admin | Who::Superadmin) {
                w.new_property().await.0
            } else {
                w.property.0.clone()
            };
            Req::eds(action, &[("PropertyId", &property)])
        }
        "UpdateProperty" => Req::eds(
            action,
            &[
                ("PropertyId", &w.renamed_property),
                ("PropertyKey", &format!("{MARK}_r{n}")),
            ],
        ),
        "ListProperty" => Req::eds(action, &[]),
        "ListPropertyValue" | "CheckUsedProperty" => Req::eds(action, &[("PropertyId", property)]),
        "CheckUsedPropertyValue" => Req::eds(
            action,
            &[("PropertyId", property), ("PropertyValueId", value)],
        ),
        "SetUserPropertyValue" => {
            let user = w.user().await;
            let number = w.number(&user).await;
            Req::eds(
                action,
                &[
                    ("UserId", &number),
                    ("UserName", &user),
                    ("PropertyId", property),
                    ("PropertyValueId", value),
                ],
            )
        }
        "DeleteUserPropertyValue" => {
            let user = w.user().await;
            let number = w.number(&user).await;
            let form = [
                ("UserId", number.as_str()),
                ("UserName", user.as_str()),
                ("PropertyId", property.as_str()),
                ("PropertyValueId", value.as_str()),
            ];
            w.su_eds("SetUserPropertyValue", &form).await;
            Req::eds(action, &form)
        }
        "CreateOrg" => {
            let parent = w.target_group(on).await;
            Req::eds(action, &[("OrgName", "new org"), ("ParentOrgId", &parent)]).naming(&[&parent])
        }
        "DescribeOrgs" => Req::eds(action, &[]),
        "DescribeOrgByLayer" => {
            let parent = w.group(None).await;
            w.group(Some(&parent)).await;
            Req::eds(action, &[("ParentOrgId", &parent)]).naming(&[&parent])
        }
        "RemoveOrg" => {
            let org = w.group(None).await;
            Req::eds(action, &[("OrgId", &org)]).naming(&[&org])
        }
        "MoveOrg" => {
            let org = w.group(None).await;
            let parent = w.group(None).await;
            Req::eds(action, &[("OrgId", &org), ("NewParentOrgId", &parent)])
                .naming(&[&org, &parent])
        }
        "ModifyOrg" => {
            let org = w.target_group(on).await;
            Req::eds(action, &[("OrgId", &org), ("OrgName", "renamed")]).naming(&[&org])
        }
        "MoveUserOrg" => {
            let org = w.group(None).await;
            Req::eds(
                action,
                &[("EndUserIds.1", &w.user().await), ("OrgId", &org)],
            )
            .naming(&[&org])
        }
        "CreateGroup" => Req::eds(action, &[("GroupName", "new group")]),
        "DescribeGroups" => Req::eds(action, &[]),
        "ModifyGroup" => {
            let group = w.user_group().await;
            Req::eds(action, &[("GroupId", &group), ("NewGroupName", "renamed")]).naming(&[&group])
        }
        "RemoveGroup" => {
            let group = w.user_group().await;
            Req::eds(action, &[("GroupId", &group)]).naming(&[&group])
        }
        "UserBatchJoinGroup" => {
            let group = w.user_group().await;
            Req::eds(
                action,
                &[("GroupId", &group), ("EndUserIds.1", &w.user().await)],
            )
            .naming(&[&group])
        }
        "UserBatchQuitGroup" | "DescribeGroupUser" => {
            let group = w.user_group().await;
            let user = w.user().await;
            w.su_eds(
                "UserBatchJoinGroup",
                &[("GroupId", &group), ("EndUserIds.1", &user)],
            )
            .await;
            Req::eds(action, &[("GroupId", &group), ("EndUserIds.1", &user)]).naming(&[&group])
        }
        "CreateResourceGroup" => Req::eds(action, &[("ResourceGroupName", "new resources")]),
        "DeleteResourceGroup" => {
            let group = w.resource_group().await;
            Req::eds(action, &[("ResourceGroupId", &group)]).naming(&[&group])
        }
        "DescribeResourceGroups" => Req::eds(action, &[]),
        other => panic!(
            "docs/permissions.md names {other}, which permissions.rs cannot call: add it to \
             eds_request"
        ),
    };
    Some(req)
}

/// The request of a KooDrive endpoint (`METHOD /path` as docs/koodrive.md writes it).
async fn kd_request(w: &World, endpoint: &str, who: Who, on: On) -> Option<Req> {
    let has_own = matches!(
        endpoint,
        "GET /space/{ownerId}" | "GET /koodrive/ose/v2/space/{owner_id}"
    );
    if on == On::Inside || (on == On::Own && !has_own) {
        return None;
    }
    let n = w.next();
    let page = "offset=0&limit=10";
    let req = match endpoint {
        "POST /users" => {
            let department = w.group(None).await;
            Req::kd(
                Method::POST,
                &format!("{KD}/users"),
                Some(json!({"userId": format!("new_{n}"), "name": "new",
                            "modifyUserInfoReq": {"deptId": department, "role": 1}})),
            )
            .naming(&[&department])
        }
        "GET /users/{userId}" => Req::kd(
            Method::GET,
            &format!("{KD}/users/{}", w.target_user(who, on).await),
            None,
        ),
        "PUT /users/{userId}" => Req::kd(
            Method::PUT,
            &format!("{KD}/users/{}", w.user().await),
            Some(json!({"name": "renamed"})),
        ),
        "DELETE /users/{userId}" => Req::kd(
            Method::DELETE,
            &format!("{KD}/users/{}", w.user().await),
            None,
        ),
        "GET /userList" => Req::kd(Method::GET, &format!("{KD}/userList?{page}"), None),
        "GET /users/count" => Req::kd(Method::GET, &format!("{KD}/users/count"), None),
        "POST /departments" => {
            let parent = w.group(None).await;
            Req::kd(
                Method::POST,
                &format!("{KD}/departments"),
                Some(json!({"name": format!("new {n}"), "parentId": parent})),
            )
            .naming(&[&parent])
        }
        "GET /departments/{id}" => {
            let department = w.group(None).await;
            Req::kd(Method::GET, &format!("{KD}/departments/{department}"), None)
                .naming(&[&department])
        }
        "PUT /departments/{id}" => {
            let department = w.group(None).await;
            Req::kd(
                Method::PUT,
                &format!("{KD}/departments/{department}"),
                Some(json!({"name": format!("renamed {n}"), "parentId": "0"})),
            )
            .naming(&[&department])
        }
        "DELETE /departments/{id}" => {
            let department = w.group(None).await;
            Req::kd(
                Method::DELETE,
                &format!("{KD}/departments/{department}"),
                None,
            )
            .naming(&[&department])
        }
        "GET /departmentList" => {
            let parent = w.group(None).await;
            w.group(Some(&parent)).await;
            Req::kd(
                Method::GET,
                &format!("{KD}/departmentList?departmentId={parent}"),
                None,
            )
            .naming(&[&parent])
        }
        "POST /usergroups" => Req::kd(
            Method::POST,
            &format!("{KD}/usergroups"),
            Some(json!({"groupName": format!("new {n}"), "sourceType": 1})),
        ),
        "GET /usergroups" => Req::kd(Method::GET, &format!("{KD}/usergroups"), None),
        "GET /usergroups/{id}" | "DELETE /usergroups/{id}" | "DELETE /usergroup/{id}" => {
            let group = w.user_group().await;
            let (method, path) = endpoint.split_once(' ').unwrap();
            let path = path.replace("{id}", &group);
            Req::kd(method.parse().unwrap(), &format!("{KD}{path}"), None).naming(&[&group])
        }
        "PUT /usergroups/{id}" => {
            let group = w.user_group().await;
            Req::kd(
                Method::PUT,
                &format!("{KD}/usergroups/{group}"),
                Some(json!({"groupName": format!("renamed {n}")})),
            )
            .naming(&[&group])
        }
        "GET /usergroups/{id}/members" => {
            let group = w.user_group().await;
            w.su_eds(
                "UserBatchJoinGroup",
                &[("GroupId", &group), ("EndUserIds.1", &w.user().await)],
            )
            .await;
            Req::kd(
                Method::GET,
                &format!("{KD}/usergroups/{group}/members?{page}"),
                None,
            )
            .naming(&[&group])
        }
        "POST /usergroups/{id}/members/batchAdd" | "POST /usergroups/{id}/members/batchDelete" => {
            let group = w.user_group().await;
            let user = w.user().await;
            if endpoint.ends_with("batchDelete") {
                w.su_eds(
                    "UserBatchJoinGroup",
                    &[("GroupId", &group), ("EndUserIds.1", &user)],
                )
                .await;
            }
            let path = endpoint.split_once(' ').unwrap().1.replace("{id}", &group);
            Req::kd(
                Method::POST,
                &format!("{KD}{path}"),
                Some(json!({"userIds": [user]})),
            )
            .naming(&[&group])
            .reading(Reading::KdBatch)
        }
        "POST /space/{ownerId}" => Req::kd(
            Method::POST,
            &format!("{KD}/space/{}", w.user().await),
            Some(json!({"capacity": 1024, "type": 1})),
        ),
        "GET /space/{ownerId}" => {
            let owner = match on {
                On::Own => w.own(who).to_owned(),
                _ => w.spaced_user().await,
            };
            Req::kd(Method::GET, &format!("{KD}/space/{owner}?type=1"), None)
        }
        "PUT /space/{ownerId}" => Req::kd(
            Method::PUT,
            &format!("{KD}/space/{}", w.spaced_user().await),
            Some(json!({"capacity": 2048, "type": 1})),
        ),
        "DELETE /space/{ownerId}" => Req::kd(
            Method::DELETE,
            &format!("{KD}/space/{}?type=1", w.spaced_user().await),
            None,
        ),
        "GET /koodrive/ose/v2/space/{owner_id}" => {
            let owner = match on {
                On::Own => w.own(who).to_owned(),
                _ => w.spaced_user().await,
            };
            Req::kd(
                Method::GET,
                &format!("/koodrive/ose/v2/space/{owner}?type=1"),
                None,
            )
        }
        "GET /space/userList" => Req::kd(Method::GET, &format!("{KD}/space/userList?{page}"), None),
        "POST /space/group" => Req::kd(
            Method::POST,
            &format!("{KD}/space/group"),
            Some(json!({"name": format!("new {n}"), "capacity": 1024,
                        "addGroupUsers": [{"userId": w.user().await}]})),
        ),
        "GET /space/groupList" => {
            Req::kd(Method::GET, &format!("{KD}/space/groupList?{page}"), None)
        }
        "GET /space/teamList" => {
            let department = w.group(None).await;
            w.su_kd(
                Method::POST,
                &format!("{KD}/space/{department}"),
                json!({"capacity": 1024, "type": 0}),
            )
            .await;
            Req::kd(Method::GET, &format!("{KD}/space/teamList?{page}"), None)
        }
        "GET /space/departmentList" => Req::kd(
            Method::GET,
            &format!("{KD}/space/departmentList?{page}"),
            None,
        ),
        other => panic!(
            "docs/permissions.md names {other}, which permissions.rs cannot call: add it to \
             kd_request"
        ),
    };
    Some(req)
}

async fn request(w: &World, dialect: Dialect, op: &str, who: Who, on: On) -> Option<Req> {
    match dialect {
        Dialect::Pds => pds_request(w, op, who, on).await,
        Dialect::Eds => eds_request(w, op, who, on).await,
        Dialect::KooDrive => kd_request(w, op, who, on).await,
    }
}

// ---------------------------------------------------------------------------------------
// Reading answers

/// The class of an answer: `ok`, or the refusal's status as the tables write it; `Err` for
/// an answer of no class (a wrong code for its status, a 500...).
fn class(
    dialect: Dialect,
    reading: Reading,
    status: StatusCode,
    body: &Value,
) -> Result<String, String> {
    let unexpected = || Err(format!("{status} {body}"));
    match dialect {
        Dialect::Pds => {
            if let Reading::PdsBatch = reading {
                if status != StatusCode::OK {
                    return pds_class(status, body).map_or_else(unexpected, Ok);
                }
                let inner = &body["responses"][0];
                let inner_status = inner["status"]
                    .as_u64()
                    .and_then(|s| StatusCode::from_u16(s as u16).ok())
                    .ok_or_else(|| format!("no inner status: {body}"))?;
                return pds_class(inner_status, &inner["body"])
                    .ok_or_else(|| format!("{inner_status} {body}"));
            }
            pds_class(status, body).map_or_else(unexpected, Ok)
        }
        Dialect::Eds => {
            let code = body["Code"].as_str().unwrap_or_default();
            let class = match status.as_u16() {
                200 => match reading {
                    Reading::EdsBatch(result) => {
                        let failed = body[result]["FailedUsers"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        let codes: BTreeSet<&str> = failed
                            .iter()
                            .map(|f| f["ErrorCode"].as_str().unwrap_or_default())
                            .collect();
                        match codes.into_iter().collect::<Vec<_>>().as_slice() {
                            [] => "ok",
                            [c] if c.contains("NotFound") || c.starts_with("EntityNotExist.") => {
                                "404"
                            }
                            ["Forbidden"] => "403",
                            _ => return unexpected(),
                        }
                    }
                    _ => "ok",
                },
                400 if code == "MissingParameter"
                    && body["Message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("AccessKeyId") =>
                {
                    "401"
                }
                400 if code == "InvalidParameter" => "400",
                401 if code == "InvalidBearerToken" => "401",
                403 if code == "Forbidden" => "403",
                404 if code.starts_with("EntityNotExist.") => "404",
                _ => return unexpected(),
            };
            Ok(class.to_owned())
        }
        Dialect::KooDrive => {
            let code = body["code"].as_i64().unwrap_or(-1);
            let class = match (status.as_u16(), code) {
                (200, 0) => match reading {
                    Reading::KdBatch => {
                        let failed = body["failedList"].as_array().cloned().unwrap_or_default();
                        let codes: BTreeSet<i64> = failed
                            .iter()
                            .map(|f| f["code"].as_i64().unwrap_or(-1))
                            .collect();
                        match codes.into_iter().collect::<Vec<_>>().as_slice() {
                            [] if body["status"] == 0 => "ok",
                            [13_000_410] => "403",
                            [13_000_309] => "404",
                            _ => return unexpected(),
                        }
                    }
                    _ => "ok",
                },
                (401, 13_900_001) => "401",
                (400, 13_000_102) => "400",
                (400, 13_000_410) => "403",
                (400, 13_000_309 | 13_000_301) => "404",
                _ => return unexpected(),
            };
            Ok(class.to_owned())
        }
    }
}

fn pds_class(status: StatusCode, body: &Value) -> Option<String> {
    let code = body["code"].as_str().unwrap_or_default();
    let class = match status.as_u16() {
        200..=299 => "ok",
        400 if code.starts_with("InvalidParameter") => "400",
        401 if code == "AccessTokenInvalid" => "401",
        403 if code.starts_with("Forbidden") => "403",
        404 if code.starts_with("NotFound.") => "404",
        _ => return None,
    };
    Some(class.to_owned())
}

/// What one caller got for one row, as a cell.
struct Observed {
    cell: String,
    /// Home data found in an answer to the other domain.
    leaks: Vec<String>,
    /// Whether an answer (to a caller of the home domain) showed home data.
    marked: bool,
}

/// Runs a row's requests for one caller and writes what it got as a cell: the answer on a
/// home object; `self` or `sub` when that is refused but the caller's own object (or one
/// inside the group it administers) is allowed.
async fn observe(w: &World, dialect: Dialect, op: &str, who: Who, public: bool) -> Observed {
    let mut leaks = Vec::new();
    let mut marked = false;
    let mut run = |req: Req, status: StatusCode, text: String, body: Value| {
        if who == Who::OtherDomain && !public {
            // eds-user's batch answers name each failed user as it was asked for: that echo of
            // the request is the vendor's format, not home data.
            let mut lower = text.to_lowercase();
            if let (Reading::EdsBatch(_), Call::Eds { form, .. }) = (req.reading, &req.call) {
                for (_, value) in form {
                    lower = lower.replace(&value.to_lowercase(), "<as asked>");
                }
            }
            for secret in std::iter::once(MARK.to_owned()).chain(req.ids.iter().cloned()) {
                if lower.contains(&secret.to_lowercase()) {
                    leaks.push(format!("`{secret}` in {text}"));
                }
            }
        } else if text.contains(MARK) {
            marked = true;
        }
        class(dialect, req.reading, status, &body)
    };
    let home = request(w, dialect, op, who, On::Home)
        .await
        .expect("every operation names a home object");
    let (status, text, body) = w.send(who, &home).await;
    let mut cell = match run(home, status, text, body) {
        Ok(class) => class,
        Err(answer) => format!("unexpected answer {answer}"),
    };
    if cell == "403" {
        for (on, name) in [(On::Own, "self"), (On::Inside, "sub")] {
            let Some(req) = request(w, dialect, op, who, on).await else {
                continue;
            };
            let (status, text, body) = w.send(who, &req).await;
            match run(req, status, text, body) {
                Ok(class) if class == "ok" => cell = name.to_owned(),
                Ok(_) => {}
                Err(answer) => cell = format!("unexpected answer (as {name}) {answer}"),
            }
        }
    }
    if public && cell == "ok" {
        cell = "any".to_owned();
    }
    Observed {
        cell,
        leaks,
        marked,
    }
}

/// Calls every row of a dialect's table as every caller; fails listing every cell that
/// differs from the table, every leak, and the observed rows to copy.
/// Operations that end the caller's own sessions (a password change ends every token of its
/// user): checked after all the others, which share the callers' tokens.
const ENDS_CALLERS_SESSIONS: [&str; 1] = ["/v2/account/change_password"];

async fn check(w: &World, dialect: Dialect, rows: Vec<Row>) {
    let found = Findings::default();
    let (last, first): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|row| ENDS_CALLERS_SESSIONS.contains(&row.op.as_str()));
    for (rows, at_once) in [(first, ROWS_AT_ONCE), (last, 1)] {
        check_rows(w, dialect, rows, at_once, &found).await;
    }
    let Findings {
        failures,
        observed_rows,
        marked,
    } = found;
    let failures = failures.into_inner().unwrap();
    let observed: Vec<String> = observed_rows.into_inner().unwrap().into_values().collect();
    assert!(
        failures.is_empty(),
        "{} problems with the {dialect:?} table:\n{}\n\nthe rows as observed:\n{}",
        failures.len(),
        failures.join("\n"),
        observed.join("\n")
    );
    // The leak check looks for the marker: the home domain's own answers must show it (its
    // lists, reads and searches do: some 40 answers of each table).
    assert!(
        marked.load(Ordering::Relaxed) >= 20,
        "home answers never show the marker: the leak check would see nothing"
    );
}

/// What `check` found: cells the table gets wrong, each row as observed, and how many
/// answers showed the home marker.
#[derive(Default)]
struct Findings {
    failures: Mutex<Vec<String>>,
    observed_rows: Mutex<BTreeMap<String, String>>,
    marked: AtomicUsize,
}

/// Observes `rows`, `at_once` of them at a time, adding to the findings of `check`.
async fn check_rows(w: &World, dialect: Dialect, rows: Vec<Row>, at_once: usize, found: &Findings) {
    let (failures, observed_rows, marked) = (&found.failures, &found.observed_rows, &found.marked);
    stream::iter(rows)
        .for_each_concurrent(at_once, |row| async move {
            let public = row.cells.iter().any(|(_, c)| c == "any");
            let seen = futures_util::future::join_all(
                row.cells
                    .iter()
                    .map(|(who, _)| observe(w, dialect, &row.op, *who, public)),
            )
            .await;
            let mut line = format!("| `{}` |", row.op);
            for ((who, expected), got) in row.cells.iter().zip(&seen) {
                line.push_str(&format!(" {} |", got.cell));
                if got.marked {
                    marked.fetch_add(1, Ordering::Relaxed);
                }
                let mut failures = failures.lock().unwrap();
                if &got.cell != expected {
                    failures.push(format!(
                        "{} as {who:?}: the table says `{expected}`, got `{}`",
                        row.op, got.cell
                    ));
                }
                for leak in &got.leaks {
                    failures.push(format!("{} as {who:?} shows home data: {leak}", row.op));
                }
            }
            observed_rows.lock().unwrap().insert(row.op.clone(), line);
        })
        .await;
}

// ---------------------------------------------------------------------------------------
// The tests, one per dialect

#[tokio::test]
async fn every_pds_operation_answers_each_caller_as_the_table_says() {
    let rows = table(DOC, Dialect::Pds);
    no_duplicates(Dialect::Pds, &rows);
    let w = World::new().await;
    // Every PDS operation of the spec has its row, and every row its operation.
    let (_, spec) = w.app.get("/openapi.json").await;
    let operations: BTreeSet<String> = spec["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter(|p| p.starts_with("/v2/"))
        .cloned()
        .collect();
    let documented: BTreeSet<String> = rows.iter().map(|r| r.op.clone()).collect();
    let missing: Vec<&String> = operations.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "operations of /openapi.json missing from docs/permissions.md: {missing:?}"
    );
    let stale: Vec<&String> = documented.difference(&operations).collect();
    assert!(
        stale.is_empty(),
        "docs/permissions.md rows of no operation of /openapi.json: {stale:?}"
    );
    // The spec's other paths are KooDrive's (their own table) or the public endpoints this
    // page names outside the tables.
    for path in spec["paths"].as_object().expect("paths").keys() {
        assert!(
            path.starts_with("/v2/")
                || path.starts_with("/koodrive/")
                || DOC.contains(&format!("`{path}`")),
            "{path} of /openapi.json is in no table and not named by docs/permissions.md"
        );
    }
    check(&w, Dialect::Pds, rows).await;
}

#[tokio::test]
async fn every_eds_user_action_answers_each_caller_as_the_table_says() {
    let rows = table(DOC, Dialect::Eds);
    no_duplicates(Dialect::Eds, &rows);
    let actions: BTreeSet<String> =
        first_column(include_str!("../../../../docs/eds-user.md"), "area", 1)
            .into_iter()
            .collect();
    assert_eq!(actions.len(), 36, "{actions:?}");
    let documented: BTreeSet<String> = rows.iter().map(|r| r.op.clone()).collect();
    assert_eq!(
        documented, actions,
        "the eds-user table must have one row per action of docs/eds-user.md"
    );
    let w = World::new().await;
    check(&w, Dialect::Eds, rows).await;
}

#[tokio::test]
async fn every_koodrive_endpoint_answers_each_caller_as_the_table_says() {
    let rows = table(DOC, Dialect::KooDrive);
    no_duplicates(Dialect::KooDrive, &rows);
    let endpoints: BTreeSet<String> =
        first_column(include_str!("../../../../docs/koodrive.md"), "KooDrive", 0)
            .into_iter()
            .map(|e| e.split('?').next().unwrap_or(&e).to_owned())
            .collect();
    let documented: BTreeSet<String> = rows.iter().map(|r| r.op.clone()).collect();
    let missing: Vec<&String> = endpoints.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "endpoints of docs/koodrive.md missing from docs/permissions.md: {missing:?}"
    );
    // The KooDrive operations of /openapi.json are the rows, as the table writes them
    // (`GET /users/{userId}`: the path under /koodrive/ose/v1).
    let w = World::new().await;
    let (_, spec) = w.app.get("/openapi.json").await;
    let in_spec: BTreeSet<String> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, _)| path.starts_with("/koodrive/"))
        .flat_map(|(path, item)| {
            let path = path.strip_prefix(KD).unwrap_or(path).to_owned();
            let methods: Vec<String> = item
                .as_object()
                .expect("path item")
                .keys()
                .cloned()
                .collect();
            methods
                .into_iter()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    assert_eq!(
        in_spec, documented,
        "the KooDrive operations of /openapi.json and the rows of docs/permissions.md differ"
    );
    check(&w, Dialect::KooDrive, rows).await;
}
