//! The requests the benchmark measures, each as PDS clients send it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::Uri;
use serde_json::{json, Value};

use crate::http::{Connection, Endpoint};
use crate::load::Worker;
use crate::seed::{self, Shape, DOMAIN, USER_PASSWORD};

/// Rows asked per page when browsing (`user/list`, `general_search`): PDS's default.
pub const PAGE_LIMIT: u64 = 100;
/// Rows asked per search: a type-ahead box shows a few matches, not a page.
pub const SEARCH_LIMIT: u64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// `GET /healthz`: HTTP alone, the baseline.
    Healthz,
    /// `user/get` of a random user, as the admin.
    UserGet,
    /// `user/search` by nick-name prefix (given name and two letters of the family name).
    SearchPrefix,
    /// `user/search` by a five-letter substring of a family name (`nick_name_for_fuzzy`).
    SearchFuzzy,
    /// `user/list`, first page.
    ListFirst,
    /// `user/list`, page 10,000 (or the last full page of a smaller set), by its marker.
    ListDeep,
    /// `user/general_search` of the members of one division's subtree (1,000 groups).
    GeneralSearch,
    /// `oauth/token` password grant of a random user (one argon2id verification each).
    PasswordGrant,
    /// `oauth/token` refresh grant; each worker follows its own chain of refresh tokens.
    RefreshGrant,
    /// `GET /v2/oauth/authorize` without a session: the sign-in page, rendered.
    SigninPage,
    /// `GET /v2/oauth/authorize` with a sign-in session, for a trusted app: the redirect
    /// with a new code (how `code-exchange` gets its codes before a run).
    AuthorizeRedirect,
    /// `oauth/token` `authorization_code` with the client secret, scope `openid profile`
    /// (an RS256 ID token each): the exchange alone. Each worker gets its codes from the
    /// redirect before the run, untimed; the redirect is `authorize-redirect`.
    CodeExchange,
    /// The same exchange for scope `profile` alone: no ID token, so no RS256 signature (an
    /// OAuth app's exchange, the like of a refresh grant).
    CodeExchangeOauth,
    /// OpenID Connect `userinfo` (GET, bearer), as the admin.
    Userinfo,
    /// `user/create` of a new user without a password.
    UserCreate,
    /// LDAP simple bind of a random user by DN (one argon2id verification each).
    LdapBind,
    /// LDAP `(uid=<random user>)` subtree search of the people container, bound as the admin.
    LdapUid,
    /// LDAP walk of every user with Simple Paged Results, 1,000 entries a page, bound as
    /// the admin: each request is one page, following the cookie to the end and starting
    /// over.
    LdapWalk,
    /// `event/list`: a page of 100 change events after a random event of the feed (filled
    /// first with the `user.created` of a tenth of the seeded users, 1,000 to 20,000).
    EventList,
    /// Webhook delivery of `user.created` to a receiver in this process: the concurrency is
    /// the writers creating users 100 a request; the figure is deliveries per second from the
    /// first to the last, the latency from sending a user's batch to receiving its event.
    WebhookDelivery,
    /// SCIM `GET /Users?filter=userName eq "<random user>"`, as the admin (bearer token).
    ScimUsernameEq,
    /// SCIM `GET /Users?filter=displayName co "<five letters of a family name>"&count=10`
    /// (the trigram index), as the admin.
    ScimDisplaynameCo,
    /// SCIM walk of every user with cursor paging (RFC 9865), `count=1000` (the server
    /// serves at most its `maxPageSize` a page): each request is one page, following
    /// `nextCursor` to the end and starting over.
    ScimWalk,
    /// The console's users page (`GET /console/users`), first page, no search, with the
    /// admin's sign-in session cookie.
    ConsoleUsers,
    /// The console's users page searching a user-name prefix (the box's guess for a plain
    /// word): the first 10 digits of a random user's name, ~10 matches.
    ConsoleSearchPrefix,
    /// The console's users page searching a nick-name substring (`field=nick`): five letters
    /// from inside a random user's family name, as `search-fuzzy`.
    ConsoleSearchSubstring,
    /// The console's users list at page 1,000 (or the last full page of a smaller set), by
    /// the URL its "next" links lead to: one marker, as short as page 2's.
    ConsoleUsersDeep,
    /// The console's page of a random user.
    ConsoleUser,
    /// The console's groups page: the top level of the seeded tree.
    ConsoleGroups,
    /// The console's audit page: the latest records.
    ConsoleAudit,
    /// The console's drives page: the first page, no search.
    ConsoleDrives,
    /// The console's overview: the kept user count against the quota, the last day's
    /// sign-ins, the latest audit records.
    ConsoleOverview,
    /// The console's domain page: settings and quotas, subdomains.
    ConsoleDomain,
    /// The console's apps and keys page: apps, access keys, webhooks.
    ConsoleApps,
}

impl Scenario {
    /// In the order they run: `user/create` after the reads, since the users it adds sort
    /// before the seeded ones and would shift the list pages; the event scenarios (whose
    /// users sort after them) last.
    pub const ALL: [Scenario; 34] = [
        Scenario::Healthz,
        Scenario::UserGet,
        Scenario::SearchPrefix,
        Scenario::SearchFuzzy,
        Scenario::ListFirst,
        Scenario::ListDeep,
        Scenario::GeneralSearch,
        Scenario::PasswordGrant,
        Scenario::RefreshGrant,
        Scenario::SigninPage,
        Scenario::AuthorizeRedirect,
        Scenario::CodeExchange,
        Scenario::CodeExchangeOauth,
        Scenario::Userinfo,
        Scenario::LdapBind,
        Scenario::LdapUid,
        Scenario::LdapWalk,
        Scenario::ScimUsernameEq,
        Scenario::ScimDisplaynameCo,
        Scenario::ScimWalk,
        Scenario::ConsoleUsers,
        Scenario::ConsoleSearchPrefix,
        Scenario::ConsoleSearchSubstring,
        Scenario::ConsoleUsersDeep,
        Scenario::ConsoleUser,
        Scenario::ConsoleGroups,
        Scenario::ConsoleAudit,
        Scenario::ConsoleDrives,
        Scenario::ConsoleOverview,
        Scenario::ConsoleDomain,
        Scenario::ConsoleApps,
        Scenario::UserCreate,
        Scenario::EventList,
        Scenario::WebhookDelivery,
    ];

    /// Served by the LDAP gateway rather than HTTP.
    pub fn is_ldap(self) -> bool {
        matches!(
            self,
            Scenario::LdapBind | Scenario::LdapUid | Scenario::LdapWalk
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Scenario::Healthz => "/healthz",
            Scenario::UserGet => "user/get",
            Scenario::SearchPrefix => "user/search prefix",
            Scenario::SearchFuzzy => "user/search fuzzy",
            Scenario::ListFirst => "user/list first page",
            Scenario::ListDeep => "user/list deep page",
            Scenario::GeneralSearch => "general_search subtree",
            Scenario::PasswordGrant => "oauth/token password",
            Scenario::RefreshGrant => "oauth/token refresh",
            Scenario::SigninPage => "sign-in page",
            Scenario::AuthorizeRedirect => "authorize redirect",
            Scenario::CodeExchange => "oauth/token code exchange",
            Scenario::CodeExchangeOauth => "oauth/token code exchange, no openid",
            Scenario::Userinfo => "oidc/userinfo",
            Scenario::UserCreate => "user/create",
            Scenario::LdapBind => "LDAP bind",
            Scenario::LdapUid => "LDAP (uid=x) search",
            Scenario::LdapWalk => "LDAP paged walk, 1000/page",
            Scenario::EventList => "event/list page of 100",
            Scenario::WebhookDelivery => "webhook deliveries",
            Scenario::ScimUsernameEq => "SCIM userName eq",
            Scenario::ScimDisplaynameCo => "SCIM displayName co",
            Scenario::ScimWalk => "SCIM cursor walk",
            Scenario::ConsoleUsers => "console users page",
            Scenario::ConsoleSearchPrefix => "console users, name prefix",
            Scenario::ConsoleSearchSubstring => "console users, nick substring",
            Scenario::ConsoleUsersDeep => "console users page 1,000",
            Scenario::ConsoleUser => "console user page",
            Scenario::ConsoleGroups => "console groups, top level",
            Scenario::ConsoleAudit => "console audit page",
            Scenario::ConsoleDrives => "console drives page",
            Scenario::ConsoleOverview => "console overview",
            Scenario::ConsoleDomain => "console domain page",
            Scenario::ConsoleApps => "console apps and keys page",
        }
    }
}

/// The paths the scenarios ask, parsed once.
pub struct Paths {
    healthz: Uri,
    token: Uri,
    user_get: Uri,
    user_search: Uri,
    user_list: Uri,
    general_search: Uri,
    user_create: Uri,
    userinfo: Uri,
    event_list: Uri,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            healthz: Uri::from_static("/healthz"),
            token: Uri::from_static("/v2/oauth/token"),
            user_get: Uri::from_static("/v2/user/get"),
            user_search: Uri::from_static("/v2/user/search"),
            user_list: Uri::from_static("/v2/user/list"),
            general_search: Uri::from_static("/v2/user/general_search"),
            user_create: Uri::from_static("/v2/user/create"),
            userinfo: Uri::from_static("/oidc/userinfo"),
            event_list: Uri::from_static("/v2/event/list"),
        }
    }
}

/// Users a SCIM cursor walk asks per page (Roster answers at most its `maxPageSize`).
pub const SCIM_WALK_COUNT: u64 = 1000;

/// `/scim/v2/Users` with a query.
fn scim_users(query: &[(&str, &str)]) -> Result<Uri, String> {
    let query = serde_urlencoded::to_string(query).map_err(|e| e.to_string())?;
    Uri::try_from(format!("/scim/v2/Users?{query}")).map_err(|e| e.to_string())
}

/// `/console/users` with a query.
fn console_uri(query: &[(&str, &str)]) -> Result<Uri, String> {
    let query = serde_urlencoded::to_string(query).map_err(|e| e.to_string())?;
    Uri::try_from(format!("/console/users?{query}")).map_err(|e| e.to_string())
}

/// The server under test and what every worker needs to address it.
pub struct Target {
    pub endpoint: Endpoint,
    pub paths: Paths,
    /// `Bearer <admin access token>`.
    pub admin_authorization: HeaderValue,
    pub shape: Shape,
    /// The 1-based number of the deep `user/list` page, and its marker.
    pub deep_page: u64,
    pub deep_marker: String,
    /// Numbers the users `user/create` adds, across every run.
    pub created: AtomicU64,
    /// The sign-in scenarios' trusted `WebServer` app and a sign-in session of the admin.
    pub signin: Option<SigninSetup>,
    /// The LDAP gateway's address (`host:port`).
    pub ldap_address: Option<String>,
    /// The events in the feed, counted once it is filled (`event-list`).
    pub feed_events: AtomicU64,
    /// The console's deep users page (`console-users-deep`).
    pub console_deep: ConsoleDeepPage,
}

/// Users per page of the console's users list (`PAGE_SIZE` of its forms).
pub const CONSOLE_PAGE: u64 = 50;

/// The console's users list at a deep page, addressed as its own "next" links address it.
pub struct ConsoleDeepPage {
    /// The 1-based page number.
    pub page: u64,
    pub uri: Uri,
    /// The user the page starts with.
    pub first_user: String,
}

/// The query string of the console's users page `page` (1-based), as following its "next"
/// links builds it: the one marker of the row before the page, whatever the depth (its
/// "previous" link reads backwards from the page's first row, so it needs no earlier page's
/// marker).
pub fn console_users_page(page: u64) -> String {
    if page <= 1 {
        return String::new();
    }
    let marker = marker_after_row((page - 1) * CONSOLE_PAGE - 1);
    serde_urlencoded::to_string([("marker", marker.as_str())]).unwrap_or_default()
}

impl ConsoleDeepPage {
    /// Page 1,000, or the last full page of a smaller set.
    pub fn for_users(users: u64) -> Result<ConsoleDeepPage, String> {
        let page = ((users + 1) / CONSOLE_PAGE).clamp(2, 1_000);
        let uri = format!("/console/users?{}", console_users_page(page))
            .parse()
            .map_err(|e| format!("{e}"))?;
        // Row 0 is the admin; row r > 0 is seeded user r - 1.
        let first_user = seed::user_id((page - 1) * CONSOLE_PAGE - 1);
        Ok(ConsoleDeepPage {
            page,
            uri,
            first_user,
        })
    }
}

/// What the sign-in scenarios need, made once by [`Target::set_up_signin`].
pub struct SigninSetup {
    pub client_id: String,
    pub client_secret: String,
    /// `/v2/oauth/authorize?...` of the app (trusted, `hide_consent`), scope `openid profile`.
    pub authorize: Uri,
    /// The same for scope `profile` alone.
    pub authorize_oauth: Uri,
    /// `Cookie: roster_session=...`.
    pub cookie: HeaderValue,
    /// `Cookie:` the sign-in session and the console's session (entered through its code
    /// flow before any run).
    pub console_cookie: HeaderValue,
}

/// The redirect URI of the sign-in scenarios' app (never called).
const BENCH_REDIRECT: &str = "http://127.0.0.1:9/cb";

/// Enters the console as the signed-in browser does: `/console` sends it to the console's
/// code flow, the authorization (a sign-in session, a trusted first-party app) redirects to
/// the callback, which sets the console's session cookies. Answers the `Cookie:` value with
/// the sign-in session and the console's session.
async fn enter_console(
    connection: &mut Connection,
    endpoint: &Endpoint,
    session_cookie: &str,
) -> Result<String, String> {
    let mut cookies = vec![session_cookie.to_owned()];
    let mut path = "/console".to_owned();
    for _ in 0..4 {
        let uri: Uri = path.parse().map_err(|e| format!("{path}: {e}"))?;
        let mut request = endpoint.get(&uri);
        request.headers_mut().insert(
            hyper::header::COOKIE,
            HeaderValue::from_str(&cookies.join("; ")).map_err(|e| e.to_string())?,
        );
        let (status, headers, _) = connection.send_full(request).await?;
        for (name, value) in headers
            .get_all(hyper::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .filter(|(_, value)| !value.is_empty())
        {
            cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            cookies.push(format!("{name}={value}"));
        }
        if status == hyper::StatusCode::OK {
            return if cookies.iter().any(|c| c.starts_with("roster_console=")) {
                Ok(cookies.join("; "))
            } else {
                Err("no console session cookie".to_owned())
            };
        }
        let location = headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("{path} answered {status} without a redirect"))?;
        // The callback's address is absolute (the issuer's): keep its path and query.
        path = match location.find("://") {
            Some(scheme_end) => {
                let rest = &location[scheme_end + 3..];
                rest.find('/')
                    .map_or("/".to_owned(), |i| rest[i..].to_owned())
            }
            None => location.to_owned(),
        };
    }
    Err("the console's sign-in did not end on a page".to_owned())
}

/// The value of cookie `name` among the `Set-Cookie` headers.
fn set_cookie(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(hyper::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The value of the hidden field `name` of a page.
fn field(page: &[u8], name: &str) -> Option<String> {
    let page = std::str::from_utf8(page).ok()?;
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = start + page[start..].find('"')?;
    Some(page[start..end].to_owned())
}

impl Target {
    /// A new connection to the server (each worker has its own).
    pub async fn connect(&self) -> Result<Connection, String> {
        Connection::open(self.endpoint.address).await
    }

    /// `POST` a JSON body as the admin; the answer's body when it is a success.
    pub async fn post_admin(
        &self,
        connection: &mut Connection,
        path: &Uri,
        body: &Value,
    ) -> Result<Bytes, String> {
        let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let request = self
            .endpoint
            .post_json(path, Some(&self.admin_authorization), body);
        connection.send(request).await
    }

    /// `POST /v2/oauth/token` with a form.
    pub async fn token(
        &self,
        connection: &mut Connection,
        form: &[(&str, &str)],
    ) -> Result<Bytes, String> {
        let request = self.endpoint.post_form(&self.paths.token, form);
        connection.send(request).await
    }

    /// Registers the sign-in scenarios' app and signs the admin in on the sign-in page.
    pub async fn set_up_signin(&mut self, password: &str) -> Result<(), String> {
        let mut connection = self.connect().await?;
        let app = self
            .post_admin(
                &mut connection,
                &Uri::from_static("/v2/app/create"),
                &json!({"app_name": "bench", "app_type": "WebServer", "trusted": true,
                        "redirect_uris": [BENCH_REDIRECT], "scopes": ["openid", "profile"]}),
            )
            .await?;
        let app: Value = serde_json::from_slice(&app).map_err(|e| e.to_string())?;
        let client_id = app["client_id"].as_str().ok_or("no client_id")?.to_owned();
        let client_secret = app["client_secret"]
            .as_str()
            .ok_or("no client_secret")?
            .to_owned();
        let authorize_for = |scope: &str| -> Result<Uri, String> {
            let query = serde_urlencoded::to_string([
                ("client_id", client_id.as_str()),
                ("redirect_uri", BENCH_REDIRECT),
                ("response_type", "code"),
                ("scope", scope),
                ("state", "bench"),
                ("hide_consent", "true"),
            ])
            .map_err(|e| e.to_string())?;
            format!("/v2/oauth/authorize?{query}")
                .parse()
                .map_err(|e| format!("{e}"))
        };
        let authorize = authorize_for("openid profile")?;
        let authorize_oauth = authorize_for("profile")?;
        let signin = Uri::from_static("/signin");
        let (_, headers, page) = connection.send_full(self.endpoint.get(&signin)).await?;
        let form_cookie = set_cookie(&headers, "roster_form").ok_or("no form cookie")?;
        let csrf = field(&page, "csrf").ok_or("no form token")?;
        let mut post = self.endpoint.post_form(
            &signin,
            &[
                ("csrf", csrf.as_str()),
                ("q", ""),
                ("username", "admin"),
                ("password", password),
            ],
        );
        post.headers_mut().insert(
            hyper::header::COOKIE,
            HeaderValue::from_str(&format!("roster_form={form_cookie}"))
                .map_err(|e| e.to_string())?,
        );
        let (status, headers, _) = connection.send_full(post).await?;
        let session = set_cookie(&headers, "roster_session")
            .ok_or_else(|| format!("signing in on the page answered {status}"))?;
        let session_cookie = format!("roster_session={session}");
        let console_cookie = enter_console(&mut connection, &self.endpoint, &session_cookie)
            .await
            .unwrap_or_else(|refused| {
                // A build without the console's code flow (under --against) serves its
                // pages on the sign-in session alone.
                eprintln!("the console's sign-in: {refused}; its pages get the session only");
                session_cookie.clone()
            });
        self.signin = Some(SigninSetup {
            client_id,
            client_secret,
            authorize,
            authorize_oauth,
            cookie: HeaderValue::from_str(&session_cookie).map_err(|e| e.to_string())?,
            console_cookie: HeaderValue::from_str(&console_cookie).map_err(|e| e.to_string())?,
        });
        Ok(())
    }

    /// `GET` a console page with the admin's sign-in session: its body when the answer is
    /// `200` (a redirect to the sign-in page or any other status is an error).
    pub async fn console_get(
        &self,
        connection: &mut Connection,
        path: &Uri,
    ) -> Result<Bytes, String> {
        let mut request = self.endpoint.get(path);
        request
            .headers_mut()
            .insert(hyper::header::COOKIE, self.signin()?.console_cookie.clone());
        let (status, _, body) = connection.send_full(request).await?;
        if status != hyper::StatusCode::OK {
            let text = String::from_utf8_lossy(&body);
            return Err(format!(
                "{path} answered {status}: {}",
                text.chars().take(200).collect::<String>()
            ));
        }
        Ok(body)
    }

    /// The sign-in setup, made before the sign-in scenarios run.
    fn signin(&self) -> Result<&SigninSetup, String> {
        self.signin
            .as_ref()
            .ok_or_else(|| "no sign-in setup".to_owned())
    }

    /// `GET /v2/oauth/authorize` with the session: the code of the redirect (scope `openid
    /// profile`, or `profile` alone).
    async fn new_code(&self, connection: &mut Connection, openid: bool) -> Result<String, String> {
        let setup = self.signin()?;
        let authorize = if openid {
            &setup.authorize
        } else {
            &setup.authorize_oauth
        };
        let mut request = self.endpoint.get(authorize);
        request
            .headers_mut()
            .insert(hyper::header::COOKIE, setup.cookie.clone());
        let (status, headers, _) = connection.send_full(request).await?;
        let location = headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("authorize answered {status} without a redirect"))?;
        let query = location.split_once('?').map_or("", |(_, q)| q);
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v)
            .ok_or_else(|| format!("no code in {location}"))
    }

    /// A password login; answers the token JSON.
    pub async fn login(
        &self,
        connection: &mut Connection,
        username: &str,
        password: &str,
    ) -> Result<Value, String> {
        let body = self
            .token(
                connection,
                &[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await?;
        serde_json::from_slice(&body).map_err(|e| format!("token answer: {e}"))
    }
}

/// The marker that continues after user list row `row` (0-based, by `user_id`): row 0 is the
/// bootstrapped `admin`, row `r > 0` is seeded user `r - 1`. It is built as Roster builds
/// markers (base64url of `[domain, order, sort value, id]`); `check_deep_page` verifies it
/// against the server before anything is timed.
pub fn marker_after_row(row: u64) -> String {
    let last_id = if row == 0 {
        "admin".to_owned()
    } else {
        seed::user_id(row - 1)
    };
    URL_SAFE_NO_PAD.encode(json!([DOMAIN, "id", "", last_id]).to_string())
}

/// The deep page to read: page 10,000, or the last full page of a smaller set.
pub fn deep_page(users: u64) -> u64 {
    ((users + 1) / PAGE_LIMIT).clamp(2, 10_000)
}

/// Fails unless the deep page's marker leads to the users expected there.
pub async fn check_deep_page(target: &Target) -> anyhow::Result<()> {
    let body = json!({"limit": PAGE_LIMIT, "marker": target.deep_marker});
    let mut connection = target.connect().await.map_err(anyhow::Error::msg)?;
    let page = target
        .post_admin(&mut connection, &target.paths.user_list, &body)
        .await
        .map_err(anyhow::Error::msg)?;
    let page: Value = serde_json::from_slice(&page)?;
    let first_row = (target.deep_page - 1) * PAGE_LIMIT;
    let expected = seed::user_id(first_row - 1);
    let got = page["items"][0]["user_id"].as_str().unwrap_or_default();
    anyhow::ensure!(
        got == expected,
        "page {} starts at {got:?}, expected {expected:?}",
        target.deep_page
    );
    Ok(())
}

/// Fails unless the console's users pages are addressed as the bench addresses them: the
/// first page's own "next" link is the bench's page 2 (followed once, untimed), and the deep
/// page starts with the user expected there.
pub async fn check_console_deep_page(target: &Target) -> anyhow::Result<()> {
    let mut connection = target.connect().await.map_err(anyhow::Error::msg)?;
    let first = target
        .console_get(&mut connection, &Uri::from_static("/console/users"))
        .await
        .map_err(anyhow::Error::msg)?;
    let next = html_attribute_after(&first, "rel=\"next\" href=\"")
        .ok_or_else(|| anyhow::anyhow!("the console's first users page has no next link"))?;
    let expected = format!("/console/users?{}", console_users_page(2));
    anyhow::ensure!(
        next == expected,
        "the console's next link is {next:?}, the bench would ask {expected:?}"
    );
    let deep = &target.console_deep;
    let page = target
        .console_get(&mut connection, &deep.uri)
        .await
        .map_err(anyhow::Error::msg)?;
    let first_row = html_attribute_after(&page, "<tr data-user-id=\"").unwrap_or_default();
    anyhow::ensure!(
        first_row == deep.first_user,
        "console users page {} starts at {first_row:?}, expected {:?}",
        deep.page,
        deep.first_user
    );
    check_console_previous_page(target, &mut connection, &page, deep.page - 1).await
}

/// Fails unless the "previous" link of a console users page leads to page `page`: read
/// backwards from the shown page's first row, it starts where following "next" would.
async fn check_console_previous_page(
    target: &Target,
    connection: &mut Connection,
    shown: &[u8],
    page: u64,
) -> anyhow::Result<()> {
    let previous = html_attribute_after(shown, "rel=\"prev\" href=\"")
        .ok_or_else(|| anyhow::anyhow!("console users page {} has no previous link", page + 1))?;
    let uri: Uri = previous.parse()?;
    let before = target
        .console_get(connection, &uri)
        .await
        .map_err(anyhow::Error::msg)?;
    let first_row = html_attribute_after(&before, "<tr data-user-id=\"").unwrap_or_default();
    let expected = if page <= 1 {
        "admin".to_owned()
    } else {
        seed::user_id((page - 1) * CONSOLE_PAGE - 1)
    };
    anyhow::ensure!(
        first_row == expected,
        "console users page {page}, read back, starts at {first_row:?}, expected {expected:?}"
    );
    Ok(())
}

/// The text after `start` up to the next `"`, HTML-unescaped (`&` alone, which askama writes
/// `&#38;`: the console's links hold no other escaped character).
fn html_attribute_after(page: &[u8], start: &str) -> Option<String> {
    let page = std::str::from_utf8(page).ok()?;
    let from = page.find(start)? + start.len();
    let end = from + page[from..].find('"')?;
    Some(page[from..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// Whether a console page holds `marker`; else the error that makes its request count as
/// failed.
fn console_holds(page: &[u8], marker: &str, what: &str) -> Result<(), String> {
    let holds = page
        .windows(marker.len())
        .any(|window| window == marker.as_bytes());
    if holds {
        Ok(())
    } else {
        Err(format!("{what}: the page has no {marker:?}"))
    }
}

/// One worker of a scenario, with its own connection.
pub struct ApiWorker {
    pub target: Arc<Target>,
    pub scenario: Scenario,
    pub connection: Connection,
    /// Position in this worker's random sequence.
    rng: u64,
    /// The worker's refresh-token chain (refresh grant only).
    pub refresh_token: Option<String>,
    /// The worker's LDAP connection (LDAP scenarios only).
    pub ldap: Option<crate::ldap::LdapClient>,
    /// Authorization codes got before the run, oldest first (code exchange only).
    codes: std::collections::VecDeque<String>,
    /// Codes this worker had to get during a run, its stock used up (their redirects are
    /// then in the run's server CPU, not in its latencies).
    pub codes_got_during_runs: u64,
    /// Where the worker's SCIM walk stands (`""`: at its start).
    scim_cursor: String,
}

impl ApiWorker {
    pub fn new(target: Arc<Target>, scenario: Scenario, connection: Connection, seed: u64) -> Self {
        ApiWorker {
            target,
            scenario,
            connection,
            rng: seed::mix(seed),
            refresh_token: None,
            ldap: None,
            codes: std::collections::VecDeque::new(),
            codes_got_during_runs: 0,
            scim_cursor: String::new(),
        }
    }

    /// The code exchange: one of the codes got before the run (a new one, untimed by the
    /// caller's clock only, when they are used up), posted with the client secret.
    async fn exchange(&mut self) -> Result<(), String> {
        let target = self.target.clone();
        let code = match self.codes.pop_front() {
            Some(code) => code,
            None => {
                self.codes_got_during_runs += 1;
                target
                    .new_code(
                        &mut self.connection,
                        self.scenario == Scenario::CodeExchange,
                    )
                    .await?
            }
        };
        let setup = target.signin()?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", BENCH_REDIRECT),
            ("client_id", setup.client_id.as_str()),
            ("client_secret", setup.client_secret.as_str()),
        ];
        target.token(&mut self.connection, &form).await.map(drop)
    }

    async fn ldap_call(&mut self) -> Result<(), String> {
        let user = seed::user_id(self.random_user());
        let ldap = self
            .ldap
            .as_mut()
            .ok_or("this worker has no LDAP connection")?;
        match self.scenario {
            Scenario::LdapBind => ldap.bind(&crate::ldap::user_dn(&user), USER_PASSWORD).await,
            Scenario::LdapUid => ldap.search_uid(&user).await,
            _ => ldap.walk_page().await.map(drop),
        }
    }

    /// A SCIM list as the admin: its answer, parsed.
    async fn scim_list(&mut self, query: &[(&str, &str)]) -> Result<Value, String> {
        let mut request = self.target.endpoint.get(&scim_users(query)?);
        request.headers_mut().insert(
            hyper::header::AUTHORIZATION,
            self.target.admin_authorization.clone(),
        );
        let body = self.connection.send(request).await?;
        serde_json::from_slice(&body).map_err(|e| format!("SCIM answer: {e}"))
    }

    async fn scim_call(&mut self) -> Result<(), String> {
        match self.scenario {
            Scenario::ScimUsernameEq => {
                let user = seed::user_id(self.random_user());
                let filter = format!("userName eq \"{user}\"");
                let answer = self.scim_list(&[("filter", &filter)]).await?;
                if answer["totalResults"] != 1 {
                    return Err(format!("{filter} answered {}", answer["totalResults"]));
                }
                Ok(())
            }
            Scenario::ScimDisplaynameCo => {
                let (_, family) = seed::names(self.random_user());
                let needle: String = family.chars().skip(1).take(5).collect();
                let filter = format!("displayName co \"{needle}\"");
                let count = SEARCH_LIMIT.to_string();
                let answer = self
                    .scim_list(&[("filter", &filter), ("count", &count)])
                    .await?;
                if answer["Resources"].as_array().is_none_or(Vec::is_empty) {
                    return Err(format!("{filter} found nobody"));
                }
                Ok(())
            }
            _ => {
                let cursor = std::mem::take(&mut self.scim_cursor);
                let count = SCIM_WALK_COUNT.to_string();
                let answer = self
                    .scim_list(&[("cursor", &cursor), ("count", &count)])
                    .await?;
                if answer["Resources"].as_array().is_none_or(Vec::is_empty) {
                    return Err("a page of the SCIM walk is empty".into());
                }
                // No `nextCursor` after the last page: the next call starts over.
                self.scim_cursor = answer["nextCursor"].as_str().unwrap_or("").to_owned();
                Ok(())
            }
        }
    }

    /// A console page as the admin, checked for what it must show.
    async fn console_call(&mut self) -> Result<(), String> {
        let target = self.target.clone();
        let (path, marker): (Uri, String) = match self.scenario {
            Scenario::ConsoleUsers => (
                Uri::from_static("/console/users"),
                // Row 0 is the admin, then the seeded users by id.
                format!("<tr data-user-id=\"{}\"", seed::user_id(0)),
            ),
            Scenario::ConsoleSearchPrefix => {
                let i = self.random_user();
                let name = seed::user_name(i);
                let prefix = &name[..name.len() - 1];
                (
                    console_uri(&[("q", prefix)])?,
                    format!("<tr data-user-id=\"{}\"", seed::user_id(i)),
                )
            }
            Scenario::ConsoleSearchSubstring => {
                let i = self.random_user();
                let (_, family) = seed::names(i);
                let needle: String = family.chars().skip(1).take(5).collect();
                let path = console_uri(&[("q", &needle), ("field", "nick")])?;
                let page = target.console_get(&mut self.connection, &path).await?;
                // The user searched for is on the first page unless the matches fill more
                // than one (then some match is).
                let marker = if page.windows(10).any(|w| w == b"rel=\"next\"") {
                    "<tr data-user-id=\"".to_owned()
                } else {
                    format!("<tr data-user-id=\"{}\"", seed::user_id(i))
                };
                return console_holds(&page, &marker, "nick substring search");
            }
            Scenario::ConsoleUsersDeep => (
                target.console_deep.uri.clone(),
                format!("<tr data-user-id=\"{}\"", target.console_deep.first_user),
            ),
            Scenario::ConsoleUser => {
                let user_id = seed::user_id(self.random_user());
                let path = format!("/console/users/{user_id}")
                    .parse()
                    .map_err(|e| format!("{e}"))?;
                (path, format!("<h1>{user_id}"))
            }
            Scenario::ConsoleGroups => {
                let division = self.random(target.shape.divisions);
                (
                    Uri::from_static("/console/groups"),
                    format!("data-group-id=\"{}\"", seed::group_id(division, 0)),
                )
            }
            Scenario::ConsoleAudit => (
                Uri::from_static("/console/audit"),
                "<tr data-log-id=\"".to_owned(),
            ),
            Scenario::ConsoleOverview => (
                Uri::from_static("/console"),
                "id=\"users-quota\"".to_owned(),
            ),
            Scenario::ConsoleDomain => (
                Uri::from_static("/console/domain"),
                "id=\"domain-id\"".to_owned(),
            ),
            Scenario::ConsoleApps => (
                Uri::from_static("/console/apps"),
                "<h2 id=\"keys\">".to_owned(),
            ),
            _ => (
                Uri::from_static("/console/drives"),
                "<form method=\"get\" action=\"/console/drives\"".to_owned(),
            ),
        };
        let page = target.console_get(&mut self.connection, &path).await?;
        console_holds(&page, &marker, self.scenario.label())
    }

    fn random(&mut self, below: u64) -> u64 {
        self.rng = self.rng.wrapping_add(1);
        seed::mix(self.rng) % below.max(1)
    }

    fn random_user(&mut self) -> u64 {
        self.random(self.target.shape.users)
    }

    async fn refresh(&mut self) -> Result<(), String> {
        let token = self
            .refresh_token
            .take()
            .ok_or("this worker has no refresh token")?;
        let body = self
            .target
            .token(
                &mut self.connection,
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await?;
        let answer: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let next = answer["refresh_token"]
            .as_str()
            .ok_or("no refresh_token in the answer")?;
        self.refresh_token = Some(next.to_owned());
        Ok(())
    }
}

impl Worker for ApiWorker {
    /// The code exchange's codes, got until `until` (older ones dropped: a code lives 60 s).
    async fn prepare(&mut self, until: std::time::Instant) -> Result<(), String> {
        self.codes.clear();
        let openid = match self.scenario {
            Scenario::CodeExchange => true,
            Scenario::CodeExchangeOauth => false,
            _ => return Ok(()),
        };
        let target = self.target.clone();
        while std::time::Instant::now() < until {
            let code = target.new_code(&mut self.connection, openid).await?;
            self.codes.push_back(code);
        }
        Ok(())
    }

    async fn call(&mut self) -> Result<(), String> {
        let target = self.target.clone();
        let paths = &target.paths;
        let (path, body) = match self.scenario {
            Scenario::LdapBind | Scenario::LdapUid | Scenario::LdapWalk => {
                return self.ldap_call().await
            }
            Scenario::WebhookDelivery => {
                return Err("webhook delivery runs its own writers".to_owned())
            }
            Scenario::EventList => {
                let events = target.feed_events.load(Ordering::Relaxed);
                let after = self.random(events.saturating_sub(PAGE_LIMIT) + 1);
                (&paths.event_list, crate::events::feed_page(after))
            }
            Scenario::ScimUsernameEq | Scenario::ScimDisplaynameCo | Scenario::ScimWalk => {
                return self.scim_call().await
            }
            Scenario::ConsoleUsers
            | Scenario::ConsoleSearchPrefix
            | Scenario::ConsoleSearchSubstring
            | Scenario::ConsoleUsersDeep
            | Scenario::ConsoleUser
            | Scenario::ConsoleGroups
            | Scenario::ConsoleAudit
            | Scenario::ConsoleDrives
            | Scenario::ConsoleOverview
            | Scenario::ConsoleDomain
            | Scenario::ConsoleApps => return self.console_call().await,
            Scenario::Healthz => {
                let request = target.endpoint.get(&paths.healthz);
                return self.connection.send(request).await.map(drop);
            }
            Scenario::RefreshGrant => return self.refresh().await,
            Scenario::SigninPage => {
                let request = target.endpoint.get(&target.signin()?.authorize);
                return self.connection.send(request).await.map(drop);
            }
            Scenario::AuthorizeRedirect => {
                return target.new_code(&mut self.connection, true).await.map(drop);
            }
            Scenario::CodeExchange | Scenario::CodeExchangeOauth => return self.exchange().await,
            Scenario::Userinfo => {
                let mut request = target.endpoint.get(&paths.userinfo);
                request.headers_mut().insert(
                    hyper::header::AUTHORIZATION,
                    target.admin_authorization.clone(),
                );
                return self.connection.send(request).await.map(drop);
            }
            Scenario::PasswordGrant => {
                let username = seed::user_name(self.random_user());
                let form = [
                    ("grant_type", "password"),
                    ("username", username.as_str()),
                    ("password", USER_PASSWORD),
                ];
                return target.token(&mut self.connection, &form).await.map(drop);
            }
            Scenario::UserGet => (
                &paths.user_get,
                json!({"user_id": seed::user_id(self.random_user())}),
            ),
            Scenario::SearchPrefix => {
                let (given, family) = seed::names(self.random_user());
                let prefix = format!("{given} {}", &family[..2]);
                (
                    &paths.user_search,
                    json!({"nick_name": prefix, "limit": SEARCH_LIMIT}),
                )
            }
            Scenario::SearchFuzzy => {
                let (_, family) = seed::names(self.random_user());
                let needle: String = family.chars().skip(1).take(5).collect();
                (
                    &paths.user_search,
                    json!({"nick_name_for_fuzzy": needle, "limit": SEARCH_LIMIT}),
                )
            }
            Scenario::ListFirst => (&paths.user_list, json!({"limit": PAGE_LIMIT})),
            Scenario::ListDeep => (
                &paths.user_list,
                json!({"limit": PAGE_LIMIT, "marker": target.deep_marker}),
            ),
            Scenario::GeneralSearch => {
                let division = self.random(target.shape.divisions);
                (
                    &paths.general_search,
                    json!({
                        "parent_group_id_list": [seed::group_id(division, 0)],
                        "limit": PAGE_LIMIT,
                    }),
                )
            }
            Scenario::UserCreate => {
                let n = target.created.fetch_add(1, Ordering::Relaxed);
                (
                    &paths.user_create,
                    json!({
                        "user_id": format!("bench{n:09}"),
                        "nick_name": format!("Bench user {n}"),
                    }),
                )
            }
        };
        target
            .post_admin(&mut self.connection, path, &body)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::{console_users_page, marker_after_row, ConsoleDeepPage};

    #[test]
    fn console_pages_carry_one_marker_whatever_the_depth() {
        assert_eq!(console_users_page(1), "");
        let m2 = marker_after_row(49);
        let m3 = marker_after_row(99);
        assert_eq!(console_users_page(2), format!("marker={m2}"));
        assert_eq!(console_users_page(3), format!("marker={m3}"));
        assert_eq!(console_users_page(1_000).len(), console_users_page(3).len());
    }

    #[test]
    fn the_deep_console_page_is_page_1000_or_the_last_full_one() {
        let deep = ConsoleDeepPage::for_users(1_000_000).unwrap();
        assert_eq!((deep.page, deep.first_user.as_str()), (1_000, "u0049949"));
        let small = ConsoleDeepPage::for_users(10_000).unwrap();
        assert_eq!((small.page, small.first_user.as_str()), (200, "u0009949"));
    }
}
