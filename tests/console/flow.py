"""The admin console suite of issue 20, run by tests/console/run.sh against a fresh Roster.

A real browser (Playwright driving Debian's /usr/bin/chromium, headless) does each page's main
task; every outcome is checked through the API:
1. seed N users (default 10,000) through /v2/batch, and the people of the scenario;
2. an admin signs in through the hosted sign-in (/console sends it there);
   (a deep link comes back to the page asked for after sign-in);
3. one user among N found by name prefix and by nick-name substring;
4. locking it asks to confirm, and its token is then refused by the API;
5. the list paged forward three pages and back by marker, the same rows again (one marker
   in each URL, never the pages before);
6. a group created under another, moved under a third, a member added: seen through
   /v2/user/general_search narrowed to the new parent;
7. a CSV import with bad rows: the counts, and the rejects downloaded with their reasons;
8. a user's logon account linked, an access key created (its secret shown once), its
   sessions ended (its token refused);
9. a group admin sees only its subtree; a plain user is told the console is for admins;
9c. an app's redirect URI edited on the apps page, seen through /v2/app/get;
10. screenshots of every console page in English and zh-CN into docs/console/.

Prints one line per check and closes with 'N passed, N failed'; exits 1 on any failure.
"""

import csv
import io
import json
import os
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import requests
from playwright.sync_api import sync_playwright

ENDPOINT = os.environ["ROSTER_CONSOLE_ENDPOINT"]  # host:port
BASE = f"http://{ENDPOINT}"
ADMIN_PASSWORD = os.environ["ROSTER_CONSOLE_ADMIN_PASSWORD"]
SHOTS = os.environ["ROSTER_CONSOLE_SHOTS"]
COUNT = int(os.environ.get("ROSTER_CONSOLE_USERS", "10000"))
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Console-pass-42"

TEXTS = {
    "en": {"account": "Account", "password": "Password", "sign_in": "Sign in",
           "search": "Search", "next": "Next page", "previous": "Previous page",
           "lock": "Lock", "create": "Create", "move": "Move", "add": "Add",
           "import": "Import", "download": "Download rejected rows (CSV)",
           "admins_only": "The console is for administrators"},
    "zh-CN": {"account": "账号", "password": "密码", "sign_in": "登录",
              "search": "搜索", "next": "下一页", "previous": "上一页",
              "lock": "锁定", "create": "创建", "move": "移动", "add": "添加",
              "import": "导入", "download": "下载被拒绝的行（CSV）",
              "admins_only": "管理控制台仅供管理员使用"},
}

passed, failed = [], []


class CheckFailed(Exception):
    pass


def check(condition, what, detail=""):
    if not condition:
        raise CheckFailed(f"{what}" + (f": {detail}" if detail else ""))


def section(name):
    """Runs a test section now; a failure is recorded and the next section goes on."""

    def wrap(fn):
        started = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed.append(name)
            print(f"FAIL {name}: {e}", flush=True)
            if not isinstance(e, CheckFailed):
                traceback.print_exc()
            return fn
        passed.append(name)
        print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
        return fn

    return wrap


def api(path, token, body, ok=True):
    r = requests.post(f"{BASE}{path}", json=body, headers={"authorization": f"Bearer {token}"},
                      timeout=60)
    if ok:
        check(r.ok, f"{path} answered {r.status_code}", r.text[:300])
    return r


def password_grant(username, password):
    r = requests.post(f"{BASE}/v2/oauth/token", timeout=10,
                      data={"grant_type": "password", "username": username, "password": password})
    check(r.ok, f"password grant for {username} answered {r.status_code}", r.text[:300])
    return r.json()["access_token"]


admin = password_grant("admin", ADMIN_PASSWORD)


def person(user_id, nick, role=None):
    """A user with a custom logon `user_id` and the suite's password; answers its token."""
    api("/v2/user/import", admin, {"user_id": user_id, "authentication_type": "custom",
                                   "identity": user_id, "nick_name": nick,
                                   "plain_password": PASSWORD})
    if role:
        api("/v2/user/update", admin, {"user_id": user_id, "role": role})
    return password_grant(user_id, PASSWORD)


pw = sync_playwright().start()
browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                             args=["--no-sandbox", "--disable-dev-shm-usage"])


def signed_in(username, password, lang="en", width=1280):
    """A browser context signed in as `username` through the hosted sign-in, sent there by
    /console."""
    t = TEXTS[lang]
    context = browser.new_context(locale=lang, extra_http_headers={"Accept-Language": lang},
                                  viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{BASE}/console")
    check("/v2/oauth/authorize?client_id=roster-console" in page.url,
          "/console without a session goes to the hosted sign-in (code flow + PKCE)", page.url)
    page.get_by_label(t["account"], exact=True).fill(username)
    page.get_by_label(t["password"], exact=True).fill(password)
    page.get_by_role("button", name=t["sign_in"]).click()
    page.wait_for_load_state()
    check("/console" in page.url, "signing in goes back to the console", page.url)
    return context, page


def rows(page):
    return page.locator("tr[data-user-id]").evaluate_all(
        "rs => rs.map(r => r.getAttribute('data-user-id'))")


def shot(page, name, lang):
    page.screenshot(path=os.path.join(SHOTS, f"{name}-{lang}.png"), full_page=True)


zoe_token = None
gwen_group = None


# --- 1. seed ---------------------------------------------------------------------------------

@section(f"1. seed {COUNT} users through /v2/batch, and the people of the scenario")
def seed():
    def batch(start):
        requests_ = [{"id": str(i), "method": "POST", "url": "/user/create",
                      "body": {"user_id": f"seed{i:05d}", "user_name": f"seed{i:05d}",
                               "nick_name": f"Seed {i}", "email": f"seed{i:05d}@example.com"}}
                     for i in range(start, min(start + 100, COUNT))]
        r = api("/v2/batch", admin, {"resource": "user", "requests": requests_})
        bad = [x for x in r.json()["responses"] if x["status"] >= 300]
        check(not bad, "every seeded user is created", str(bad[:2]))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(0, COUNT, 100)))
    global zoe_token
    zoe_token = person("zoe", "Zoe Quartermaine")
    person("gwen", "Gwen Groupadmin")
    person("pete", "Pete Plain")
    found = api("/v2/user/search", admin, {"user_name": "seed", "limit": 1}).json()
    check(found["items"] and found["next_marker"], "the seeded users are searchable")

admin_context, page = signed_in("admin", ADMIN_PASSWORD)


# --- 2..5. the users page --------------------------------------------------------------------

@section("2. an admin signs in and lands on the overview; a deep link survives sign-in")
def sign_in():
    check(page.url.endswith("/console"), "/console opens the overview", page.url)
    check(page.locator("#users-quota").count() == 1, "the overview shows the users' quota")
    context = browser.new_context()
    deep = context.new_page()
    deep.goto(f"{BASE}/console/users/pete")
    check("/v2/oauth/authorize?client_id=roster-console" in deep.url, "sent to sign in", deep.url)
    deep.get_by_label(TEXTS["en"]["account"], exact=True).fill("admin")
    deep.get_by_label(TEXTS["en"]["password"], exact=True).fill(ADMIN_PASSWORD)
    deep.get_by_role("button", name=TEXTS["en"]["sign_in"]).click()
    deep.wait_for_load_state()
    check(deep.url == f"{BASE}/console/users/pete", "back on the page asked for", deep.url)
    context.close()
    page.goto(f"{BASE}/console/users")
    check(len(rows(page)) == 50, "50 users a page", str(len(rows(page))))


@section(f"3. one user among {COUNT} by name prefix, and by nick-name substring")
def search():
    target = f"seed{COUNT // 2 + 17:05d}"
    page.goto(f"{BASE}/console/users")
    page.locator("#q").fill(target)
    page.locator("#field").select_option("name")
    page.get_by_role("button", name=TEXTS["en"]["search"]).click()
    check(rows(page) == [target], "the prefix finds exactly that user", str(rows(page)))
    page.locator("#q").fill("uartermai")
    page.locator("#field").select_option("nick")
    page.get_by_role("button", name=TEXTS["en"]["search"]).click()
    check(rows(page) == ["zoe"], "the substring finds zoe", str(rows(page)))


@section("4. locking zoe asks to confirm; then the API refuses its token")
def lock():
    check(api("/v2/user/get", zoe_token, {}, ok=False).status_code == 200, "zoe's token works")
    page.goto(f"{BASE}/console/users/zoe")
    form = page.locator("form:has(input[name=action][value=lock])")
    form.get_by_role("button", name=TEXTS["en"]["lock"]).click()
    check(page.url.endswith("/console/users/zoe"), "an unticked confirmation stops the post",
          page.url)
    check(page.locator("#status").inner_text() == "enabled", "zoe is still enabled")
    form.locator("input[name=confirm]").check()
    form.get_by_role("button", name=TEXTS["en"]["lock"]).click()
    page.wait_for_load_state()
    check(page.locator("#status").inner_text() == "locked", "the page says locked",
          page.content()[:300])
    r = api("/v2/user/get", zoe_token, {}, ok=False)
    check(r.status_code == 401, "zoe's token is refused", f"{r.status_code} {r.text[:200]}")
    page.locator("form:has(button[value=unlock])").get_by_role("button").click()
    page.wait_for_load_state()
    check(page.locator("#status").inner_text() == "enabled", "unlocked again")


@section("5. three pages forward and back by marker: the same rows")
def paging():
    page.goto(f"{BASE}/console/users?q=seed")
    seen = [rows(page)]
    for _ in range(3):
        page.locator("a[rel=next]").click()
        page.wait_for_load_state()
        seen.append(rows(page))
    check(all(len(s) == 50 for s in seen), "full pages", str([len(s) for s in seen]))
    flat = [u for s in seen for u in s]
    check(len(set(flat)) == 200 and flat == sorted(flat), "200 distinct users in order")
    for expected in reversed(seen[:-1]):
        page.locator("a[rel=prev]").click()
        page.wait_for_load_state()
        check(rows(page) == expected, "the previous page shows the same rows")
        check(page.url.count("marker=") == 1 and "back=" not in page.url,
              "one marker in the URL, not the pages before", page.url)
    check(page.locator("a[rel=prev]").count() == 0, "no previous link on the first page")


# --- 6. groups ---------------------------------------------------------------------------------

def create_group_here(name):
    page.locator("#new-group").fill(name)
    page.locator("form:has(#new-group)").get_by_role("button").click()
    page.wait_for_load_state()


def group_id_named(name):
    found = api("/v2/group/search", admin, {"group_name": name}).json()["items"]
    check(len(found) == 1, f"one group named {name}", str(found))
    return found[0]["group_id"]


@section("6. a group created under another, moved, a member added: seen by general_search")
def groups():
    page.goto(f"{BASE}/console/groups")
    create_group_here("Engineering")
    page.goto(f"{BASE}/console/groups")
    create_group_here("Research")
    eng, research = group_id_named("Engineering"), group_id_named("Research")
    page.goto(f"{BASE}/console/groups?group_id={eng}")
    create_group_here("Platform")
    platform = group_id_named("Platform")
    got = api("/v2/group/get", admin, {"group_id": platform}).json()
    check(got["parent_group_id"] == eng, "Platform is under Engineering", str(got))
    page.goto(f"{BASE}/console/groups?group_id={platform}")
    page.locator("#move-to").fill(research)
    page.locator("form:has(#move-to)").get_by_role("button").click()
    page.wait_for_load_state()
    got = api("/v2/group/get", admin, {"group_id": platform}).json()
    check(got["parent_group_id"] == research, "Platform moved under Research", str(got))
    page.goto(f"{BASE}/console/groups?group_id={platform}")
    page.locator("#add-user").fill("zoe")
    page.locator("form:has(#add-user)").get_by_role("button").click()
    page.wait_for_load_state()
    check(page.locator("li[data-user-id=zoe]").count() == 1, "zoe is listed as a member",
          page.content()[:400])
    found = api("/v2/user/general_search", admin,
                {"parent_group_id_list": [research], "nick_name_for_fuzzy": "Quarter"}).json()
    check([u["user_id"] for u in found["items"]] == ["zoe"],
          "general_search under Research finds zoe", json.dumps(found)[:300])
    # Never into its own subtree: the refusal is a sentence on the page.
    page.goto(f"{BASE}/console/groups?group_id={research}")
    page.locator("#move-to").fill(platform)
    page.locator("form:has(#move-to)").get_by_role("button").click()
    page.wait_for_load_state()
    check(page.locator("#action-error").count() == 1, "moving a group under its own child is refused")
    check("{" not in page.locator("#action-error").inner_text(), "as a sentence, not JSON")
    global gwen_group
    gwen_group = research



# --- 7. CSV import ----------------------------------------------------------------------------

IMPORT = ("user_id,nick_name,identity,email\n"
          "imp1,Imported One,imp1@example.org,imp1@example.org\n"
          "imp2,Imported Two,imp2@example.org,not-mail\n"
          "imp3,Imported Three,,\n"
          "imp1,Again,imp1b@example.org,\n")


@section("7. a CSV import with bad rows: counts on the page, rejects downloaded with reasons")
def import_csv():
    page.goto(f"{BASE}/console/users")
    page.locator("#import-link").click()
    page.locator("#file").set_input_files(
        files=[{"name": "users.csv", "mimeType": "text/csv", "buffer": IMPORT.encode()}])
    page.locator("#import-form").get_by_role("button", name=TEXTS["en"]["import"]).click()
    page.wait_for_load_state()
    counts = {k: page.locator(f"#rows-{k}").inner_text()
              for k in ["read", "created", "existing", "rejected"]}
    check(counts == {"read": "4", "created": "1", "existing": "0", "rejected": "3"},
          "the counts", str(counts))
    check(api("/v2/user/get", admin, {"user_id": "imp1"}, ok=False).status_code == 200,
          "imp1 exists")
    check(api("/v2/user/get", admin, {"user_id": "imp2"}, ok=False).status_code == 404,
          "imp2 does not")
    with page.expect_download() as info:
        page.get_by_role("button", name=TEXTS["en"]["download"]).click()
    path = info.value.path()
    with open(path, encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    check([(r["user_id"], r["error_line"], r["error_code"]) for r in got] ==
          [("imp2", "3", "InvalidParameter.email"), ("imp3", "4", "MalformedRow"),
           ("imp1", "5", "DuplicateRow")], "the rejects file", str(got))
    check(all(r["error_message"] for r in got), "each reject says why")
    shot(page, "import", "en")


# --- 8. a user's logon account, access key, sessions ------------------------------------------

@section("8. zoe's page: an e-mail account linked, an access key shown once, sessions ended")
def user_tasks():
    token = password_grant("zoe", PASSWORD)
    page.goto(f"{BASE}/console/users/zoe")
    page.locator("#link-kind").select_option("email")
    page.locator("#link-identity").fill("zoe@example.org")
    page.locator("#link-form").get_by_role("button").click()
    page.wait_for_load_state()
    info = api("/v2/account/get_link_info", admin,
               {"type": "email", "identity": "zoe@example.org"}).json()
    check(info["user_id"] == "zoe", "the account is linked", str(info))
    page.locator("#key-description").fill("backup")
    page.locator("#key-form").get_by_role("button").click()
    page.wait_for_load_state()
    key_id = page.locator("#issued-key-id").inner_text()
    check(page.locator("#issued-key-secret").inner_text(), "the secret is shown")
    keys = api("/v2/access_key/list", admin, {"user_id": "zoe"}).json()["items"]
    check([k["access_key_id"] for k in keys] == [key_id], "the key is zoe's", str(keys))
    page.goto(f"{BASE}/console/users/zoe")
    check(page.locator("#issued-key-secret").count() == 0, "the secret is shown once")
    form = page.locator("#end-sessions-form")
    form.locator("input[name=confirm]").check()
    form.get_by_role("button").click()
    page.wait_for_load_state()
    r = api("/v2/user/get", token, {}, ok=False)
    check(r.status_code == 401, "zoe's token is refused after its sessions end", str(r.status_code))


# --- 9. a group admin, a plain user ------------------------------------------------------------

@section("9a. a group admin sees only its subtree")
def group_admin():
    api("/v2/role/assign", admin, {"identity": {"identity_type": "IT_User", "identity_id": "gwen"},
                                   "role_id": "SystemGroupAdmin",
                                   "manage_resource_type": "RT_Group",
                                   "manage_resource_id": gwen_group})
    context, gpage = signed_in("gwen", PASSWORD)
    gpage.goto(f"{BASE}/console/users")
    check(rows(gpage) == ["zoe"], "only the users of its subtree", str(rows(gpage)))
    gpage.goto(f"{BASE}/console/users?q=seed")
    check(rows(gpage) == [], "a search finds nobody outside", str(rows(gpage)))
    r = gpage.goto(f"{BASE}/console/users/seed00001")
    check(r.status == 404, "a user outside answers not found", str(r.status))
    gpage.goto(f"{BASE}/console/groups")
    ids = gpage.locator("li[data-group-id]").evaluate_all(
        "ls => ls.map(l => l.getAttribute('data-group-id'))")
    check(ids == [gwen_group], "its tree starts at its group", str(ids))
    gpage.goto(f"{BASE}/console/users")
    shot(gpage, "group-admin-users", "en")
    context.close()


@section("9b. a plain user is told the console is for administrators")
def plain_user():
    for lang in ["en", "zh-CN"]:
        context, ppage = signed_in("pete", PASSWORD, lang)
        r = ppage.goto(f"{BASE}/console/users")
        check(r.status == 403, "403", str(r.status))
        check(TEXTS[lang]["admins_only"] in ppage.content(), "the page says why")
        check(ppage.locator("tr[data-user-id]").count() == 0, "no users shown")
        shot(ppage, "admins-only", lang)
        context.close()


# --- 9c. editing an app -----------------------------------------------------------------------

edited_app = None
URIS_LABEL = "Redirect URIs (one a line; code-flow apps)"


@section("9c. an app's redirect URI edited in the console, seen through the API")
def edit_app():
    global edited_app
    made = api("/v2/app/create", admin, {"app_name": "Photos", "app_type": "WebServer",
                                         "redirect_uris": ["https://photos.example.com/cb"],
                                         "scopes": ["openid", "profile"]}).json()
    edited_app = made["client_id"]
    page.goto(f"{BASE}/console/apps")
    row = page.locator(f"tr[data-client-id='{edited_app}']")
    row.get_by_role("link", name="Edit").click()
    page.wait_for_load_state()
    check(f"edit_app={edited_app}" in page.url, "the row's Edit link opens its form", page.url)
    uris = page.locator("#edit-app-form").get_by_label(URIS_LABEL)
    check(uris.input_value() == "https://photos.example.com/cb", "the form shows the app's URIs",
          uris.input_value())
    check(made["client_secret"] not in page.content(), "the client secret is not shown again")
    uris.fill("https://photos.example.com/cb\nhttps://photos.example.com/cb2")
    page.locator("#edit-app-form").get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    check(page.url == f"{BASE}/console/apps", "saved, back on the list", page.url)
    got = api("/v2/app/get", admin, {"client_id": edited_app}).json()
    check(got["redirect_uris"] == ["https://photos.example.com/cb",
                                   "https://photos.example.com/cb2"],
          "the new redirect URI is the app's", str(got))
    check(got["scopes"] == ["openid", "profile"], "the scopes are kept", str(got))
    # A bad URI: a sentence next to the field, nothing changed.
    page.goto(f"{BASE}/console/apps?edit_app={edited_app}")
    page.locator("#edit-app-form").get_by_label(URIS_LABEL).fill("ftp://photos.example.com")
    page.locator("#edit-app-form").get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    error = page.locator("#edit-app-redirect_uris-error")
    check(error.count() == 1 and "redirect_uris is not valid" in error.inner_text(),
          "the refusal is a sentence next to the field", page.content()[:300])
    got = api("/v2/app/get", admin, {"client_id": edited_app}).json()
    check(len(got["redirect_uris"]) == 2, "nothing changed", str(got))
    # A domain below, for the domain page's screenshots.
    api("/v2/domain/create", admin, {"domain_id": "acme", "domain_name": "Acme",
                                     "user_count_quota": 100})


# --- 10. screenshots ---------------------------------------------------------------------------

@section("10. every console page in English and zh-CN: screenshots to docs/console/")
def screenshots():
    research = gwen_group
    pages = [
        ("overview", "/console"),
        ("domain", "/console/domain"),
        ("apps", "/console/apps"),
        ("app-edit", f"/console/apps?edit_app={edited_app}#edit-app"),
        ("domain-edit", "/console/domain?edit=acme#edit-domain"),
        ("users", "/console/users"),
        ("users-search", "/console/users?q=uartermai&field=nick"),
        ("user", "/console/users/zoe"),
        ("new-user", "/console/users/new"),
        ("import", "/console/users/import"),
        ("groups", "/console/groups"),
        ("group", f"/console/groups?group_id={research}"),
        ("drives", "/console/drives"),
        ("audit", "/console/audit"),
        ("outbox", "/console/outbox"),
    ]
    for lang in ["en", "zh-CN"]:
        context, lpage = signed_in("admin", ADMIN_PASSWORD, lang)
        for name, path in pages:
            if name == "import" and lang == "en":
                continue  # taken with its result in section 7
            r = lpage.goto(f"{BASE}{path}")
            check(r.status == 200, f"{path} in {lang}", str(r.status))
            check(lpage.locator("html").get_attribute("lang") == lang, f"{path} is in {lang}")
            shot(lpage, name, lang)
        context.close()
    # A phone's width: the users list and a user's page still work.
    context, phone = signed_in("admin", ADMIN_PASSWORD, "en", width=390)
    phone.goto(f"{BASE}/console/users")
    shot(phone, "users-phone", "en")
    width = phone.evaluate("document.documentElement.scrollWidth")
    check(width <= 400, "no sideways scrolling at 390 px", str(width))
    context.close()


@section("11. sign out of the console: the session's cookies open nothing, and /console signs in again")
def sign_out():
    context, opage = signed_in("admin", ADMIN_PASSWORD)
    kept = [c for c in context.cookies() if c["name"].startswith("roster_console")]
    check(len(kept) >= 2 and all(c["httpOnly"] for c in kept),
          "the console keeps its tokens in HttpOnly cookies", str([c["name"] for c in kept]))
    opage.get_by_role("button", name="Sign out").click()
    opage.wait_for_load_state()
    check("/signin" in opage.url, "signed out to the sign-in page", opage.url)
    opage.goto(f"{BASE}/console/users")
    check("/v2/oauth/authorize?client_id=roster-console" in opage.url,
          "the console asks to sign in again", opage.url)
    check(opage.locator("tr[data-user-id]").count() == 0, "no users shown")
    context.close()
    # The cookies from before the sign-out, replayed in another browser: refused.
    replay = browser.new_context()
    replay.add_cookies([{k: c[k] for k in ("name", "value", "domain", "path")} for c in kept])
    rpage = replay.new_page()
    rpage.goto(f"{BASE}/console/users")
    check("/v2/oauth/authorize" in rpage.url, "replayed cookies are refused", rpage.url)
    replay.close()


admin_context.close()
browser.close()
pw.stop()
print(f"{len(passed)} passed, {len(failed)} failed")
if failed:
    print("console suite: failed sections: " + "; ".join(failed), file=sys.stderr)
    sys.exit(1)
