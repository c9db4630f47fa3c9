"""The sign-in suite of issue 19, run by tests/signin/run.sh against a fresh Roster.

A real browser (Playwright driving Debian's /usr/bin/chromium, headless) signs a person in:
1. the PDS code flow started by the official SDK's `Authorize` and finished with its `Token`
   (a `WebServer` app: the SDK's models carry `client_secret` but no PKCE fields), then the
   same flow for a public `SinglePageApp` with PKCE S256 (URL and token post built by hand,
   as PDS documents them); the access tokens work on /v2/user/get;
2. an independent OpenID Connect client (authlib): discovery, PKCE, the code exchange
   (client_secret_basic), the ID token checked against the JWKS (RS256) with its nonce,
   userinfo;
3. the refusals: wrong and missing PKCE verifier, unregistered redirect URI and unknown
   client (an error page, no redirect), a reused code (and the first use's refresh token
   revoked), another client's code, prompt=none without a session, a form post without its
   token, a cross-site form post;
4. sign-out (the account page's button and RP-initiated logout);
5. screenshots of the sign-in and consent pages in English and zh-CN into docs/signin/.

Prints one line per check and closes with 'N passed, N failed'; exits 1 on any failure.
"""

import base64
import hashlib
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import traceback
import urllib.parse

import warnings

import requests
from alibabacloud_pds20220301 import models as m
from alibabacloud_pds20220301.client import Client
from alibabacloud_tea_openapi.models import Config
from authlib.integrations.requests_client import OAuth2Session
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib.jose's deprecation notice (joserfc is next)
    from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from darabonba.core import DaraCore
from playwright.sync_api import sync_playwright
from Tea.exceptions import TeaException

ENDPOINT = os.environ["ROSTER_SIGNIN_ENDPOINT"]  # host:port
BASE = f"http://{ENDPOINT}"
ADMIN_PASSWORD = os.environ["ROSTER_SIGNIN_ADMIN_PASSWORD"]
SHOTS = os.environ["ROSTER_SIGNIN_SHOTS"]
CHROMIUM = "/usr/bin/chromium"

USER_ID = "alice"
IDENTITY = "alice@example.com"
PASSWORD = "Wonder-land-42"

TEXTS = {
    "en": {"account": "Account", "password": "Password", "sign_in": "Sign in",
           "allow": "Allow", "sign_out": "Sign out", "consent": "Allow access?",
           "forgot": "Forgot password?", "send_link": "Send the link",
           "current": "Current password", "new": "New password", "again": "New password again",
           "reset": "Set a new password", "change": "Change password",
           "nick": "Display name", "save": "Save"},
    "zh-CN": {"account": "账号", "password": "密码", "sign_in": "登录",
              "allow": "允许", "sign_out": "退出登录", "consent": "允许访问？",
              "forgot": "忘记密码？", "send_link": "发送链接",
              "current": "当前密码", "new": "新密码", "again": "再次输入新密码",
              "reset": "设置新密码", "change": "修改密码",
              "nick": "显示名称", "save": "保存"},
}

passed, failed = [], []


class CheckFailed(Exception):
    pass


def check(condition, what, detail=""):
    if not condition:
        raise CheckFailed(f"{what}" + (f": {detail}" if detail else ""))


def section(name):
    """Runs a test section; a failure is recorded and the next section goes on."""

    def wrap(fn):
        def run(*args):
            started = time.monotonic()
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - every failure is reported the same way
                failed.append(name)
                print(f"FAIL {name}: {e}", flush=True)
                if not isinstance(e, CheckFailed):
                    traceback.print_exc()
                return
            passed.append(name)
            print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)

        return run

    return wrap


# --- the app's side: a redirect receiver on another origin -----------------------------------

class Receiver(http.server.BaseHTTPRequestHandler):
    """The registered redirect URI (/cb) and a page of another site (/evil/*) that posts a
    form to Roster."""

    hits = []
    evil_forms = {}

    def do_GET(self):  # noqa: N802
        path, _, query = self.path.partition("?")
        if path.startswith("/evil/"):
            body = Receiver.evil_forms.get(path, "").encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
        else:
            Receiver.hits.append((path, dict(urllib.parse.parse_qsl(query))))
            body = b"<!doctype html><title>app</title><p>back at the app</p>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
APP_ORIGIN = f"http://127.0.0.1:{receiver.server_address[1]}"
REDIRECT = f"{APP_ORIGIN}/cb"
LOGOUT_BACK = f"{APP_ORIGIN}/bye"


# --- helpers -----------------------------------------------------------------------------------

def api(path, token, body):
    r = requests.post(f"{BASE}{path}", json=body, headers={"authorization": f"Bearer {token}"},
                      timeout=10)
    check(r.ok, f"{path} answered {r.status_code}", r.text[:300])
    return r.json() if r.content else {}


def password_grant(username, password):
    r = requests.post(f"{BASE}/v2/oauth/token", timeout=10,
                      data={"grant_type": "password", "username": username, "password": password})
    check(r.ok, f"password grant for {username} answered {r.status_code}", r.text[:300])
    return r.json()


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_url(client_id, **extra):
    params = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
              "login_type": "default", "scope": "openid profile email",
              "state": secrets.token_urlsafe(12)}
    params.update({k: v for k, v in extra.items() if v is not None})
    return f"{BASE}/v2/oauth/authorize?{urllib.parse.urlencode(params)}", params["state"]


def post_token(form, auth=None):
    return requests.post(f"{BASE}/v2/oauth/token", data=form, auth=auth, timeout=10)


def sign_in_on_page(page, lang="en"):
    t = TEXTS[lang]
    page.get_by_label(t["account"], exact=True).fill(IDENTITY)
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t["sign_in"]).click()


def walk(page, url, lang="en", expect_signin=True, consent=True):
    """Goes to an authorization URL, signs in and consents as the pages ask, and answers the
    query the app's redirect URI got."""
    Receiver.hits.clear()
    page.goto(url)
    if expect_signin:
        check(page.locator("#username").count() == 1, "the sign-in page is shown",
              page.url + " " + page.content()[:300])
        check(page.locator("#username").get_attribute("autocomplete") == "username",
              "the account input has autocomplete=username")
        check(page.locator("#password").get_attribute("autocomplete") == "current-password",
              "the password input has autocomplete=current-password")
        sign_in_on_page(page, lang)
        title = page.title()
        check(not title.startswith(("Something went wrong", "出错了")),
              "the sign-in form post is accepted",
              f"{title!r} at {page.url}: {page.locator('p.error').all_inner_texts()}"
              " (if it says the form came from another site: the pages' no-referrer policy"
              " makes Chromium send 'Origin: null' on the same-origin post, which"
              " same_origin() refuses; see the report of tests/signin)")
    if consent:
        allow = page.get_by_role("button", name=TEXTS[lang]["allow"])
        check(allow.count() == 1, "the consent page is shown", page.content()[:400])
        allow.click()
    page.wait_for_url(f"{REDIRECT}**", timeout=10_000)
    parsed = urllib.parse.urlsplit(page.url)
    return dict(urllib.parse.parse_qsl(parsed.query))


def check_back(query, state, what):
    check("code" in query, f"{what}: a code came back", str(query))
    check(query.get("state") == state, f"{what}: state is returned unchanged", str(query))
    check(query.get("iss") == BASE, f"{what}: iss is the issuer (RFC 9207)", str(query))


def error_code(response):
    try:
        return response.json().get("code") or response.json().get("error")
    except ValueError:
        return response.text[:200]


def user_get(token):
    r = requests.post(f"{BASE}/v2/user/get", json={}, timeout=10,
                      headers={"authorization": f"Bearer {token}"})
    check(r.ok, f"/v2/user/get with the access token answered {r.status_code}", r.text[:300])
    return r.json()


# --- setup -------------------------------------------------------------------------------------

admin = password_grant("admin", ADMIN_PASSWORD)["access_token"]
api("/v2/user/create", admin, {"user_id": USER_ID, "nick_name": "Alice Liddell",
                               "email": IDENTITY, "plain_password": PASSWORD})
api("/v2/account/link", admin, {"type": "email", "identity": IDENTITY, "user_id": USER_ID})
web = api("/v2/app/create", admin, {"app_name": "Wonder Web", "app_type": "WebServer",
                                    "redirect_uris": [REDIRECT, LOGOUT_BACK]})
spa = api("/v2/app/create", admin, {"app_name": "Wonder SPA", "app_type": "SinglePageApp",
                                    "redirect_uris": [REDIRECT],
                                    "scopes": ["openid", "profile", "email"]})
check(web.get("client_secret"), "a WebServer app gets a client_secret once", str(web))
check(not spa.get("client_secret"), "a SinglePageApp gets no client_secret", str(spa))
WEB_ID, WEB_SECRET, SPA_ID = web["client_id"], web["client_secret"], spa["client_id"]
discovery = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=10).json()
os.makedirs(SHOTS, exist_ok=True)

# The SDK's own URL: its transport is wrapped to note what it asked for.
sdk_requests = []
_do_action = DaraCore.do_action


def _noting_do_action(request, runtime_option=None):
    response = _do_action(request, runtime_option)
    sdk_requests.append((DaraCore.compose_url(request), response))
    return response


DaraCore.do_action = staticmethod(_noting_do_action)
sdk = Client(Config(endpoint=ENDPOINT, protocol="http"))

pw = sync_playwright().start()
browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                             args=["--no-sandbox", "--disable-dev-shm-usage"])


def new_page(lang="en"):
    context = browser.new_context(locale=lang, extra_http_headers={"Accept-Language": lang})
    return context, context.new_page()


# --- 1. the PDS code flow ----------------------------------------------------------------------

@section("1a. SDK Authorize -> sign in -> consent -> redirect -> SDK Token -> /v2/user/get")
def sdk_flow():
    state = secrets.token_urlsafe(12)
    sdk_requests.clear()
    answer = sdk.authorize(m.AuthorizeRequest(
        client_id=WEB_ID, redirect_uri=REDIRECT, response_type="code", login_type="default",
        scope=["openid", "profile"], state=state))
    check(answer.status_code == 200, "the SDK's Authorize gets the sign-in page",
          str(answer.status_code))
    url, raw = sdk_requests[-1]
    check("/v2/oauth/authorize?" in url, "the SDK called /v2/oauth/authorize", url)
    check(b'autocomplete="current-password"' in raw.body, "the SDK got the sign-in form")
    context, page = new_page()
    query = walk(page, url)
    check_back(query, state, "SDK flow")
    cookie = next(c for c in context.cookies() if c["name"] == "roster_session")
    check(cookie["httpOnly"] and cookie["sameSite"] == "Lax",
          "the session cookie is HttpOnly and SameSite=Lax", str(cookie))
    token = sdk.token(m.TokenRequest(grant_type="authorization_code", code=query["code"],
                                     redirect_uri=REDIRECT, client_id=WEB_ID,
                                     client_secret=WEB_SECRET)).body
    check(token.access_token and token.token_type == "Bearer",
          "the SDK's Token answers an access token", str(token.to_map()))
    check(token.user_id == USER_ID, "the token is the user's", str(token.user_id))
    check(user_get(token.access_token)["user_id"] == USER_ID, "/v2/user/get answers the user")
    as_user = Client(Config(endpoint=ENDPOINT, protocol="http", bearer_token=token.access_token))
    check(as_user.get_user(m.GetUserRequest()).body.user_id == USER_ID,
          "the SDK with the access token gets the user")
    context.close()


sdk_flow()

spa_context, spa_page = new_page()
first_use = {}


@section("1b. SinglePageApp: PKCE S256 code flow, token post, /v2/user/get, prompt=none")
def spa_flow():
    verifier, challenge = pkce()
    url, state = authorize_url(SPA_ID, code_challenge=challenge, code_challenge_method="S256")
    query = walk(spa_page, url)
    check_back(query, state, "PKCE flow")
    r = post_token({"grant_type": "authorization_code", "code": query["code"],
                    "redirect_uri": REDIRECT, "client_id": SPA_ID, "code_verifier": verifier})
    check(r.ok, f"the PKCE exchange answered {r.status_code}", r.text[:300])
    body = r.json()
    check(body.get("access_token") and body.get("refresh_token") and body.get("id_token"),
          "access, refresh and ID tokens come back", str(list(body)))
    check(user_get(body["access_token"])["user_id"] == USER_ID, "/v2/user/get answers the user")
    first_use.update(code=query["code"], verifier=verifier, refresh=body["refresh_token"])
    # With the browser's session, prompt=none comes straight back without a page: a code,
    # or consent_required (an app that is not trusted may be asked to consent again).
    url, state = authorize_url(SPA_ID, code_challenge=challenge, code_challenge_method="S256",
                               prompt="none")
    Receiver.hits.clear()
    spa_page.goto(url)
    check(spa_page.url.startswith(REDIRECT), "prompt=none with a session redirects at once",
          spa_page.url)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(spa_page.url).query))
    check(back.get("state") == state and ("code" in back or back.get("error") ==
                                          "consent_required"),
          "prompt=none with a session: a code or consent_required", str(back))


spa_flow()


# --- 2. an independent OpenID Connect client ---------------------------------------------------

@section("2. authlib OIDC client: discovery, PKCE, code exchange, ID token (RS256, JWKS, nonce), userinfo")
def oidc_flow():
    check(discovery.get("issuer") == BASE, "discovery's issuer is the base URL", str(discovery))
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                "end_session_endpoint"):
        check(discovery.get(key), f"discovery has {key}")
    check("RS256" in discovery.get("id_token_signing_alg_values_supported", []),
          "discovery offers RS256 ID tokens")
    check("S256" in discovery.get("code_challenge_methods_supported", []),
          "discovery offers PKCE S256")
    client = OAuth2Session(WEB_ID, WEB_SECRET, scope="openid profile email",
                           redirect_uri=REDIRECT, code_challenge_method="S256",
                           token_endpoint_auth_method="client_secret_basic")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(discovery["authorization_endpoint"],
                                                 nonce=nonce, code_verifier=verifier)
    context, page = new_page()
    query = walk(page, url)
    check_back(query, state, "OIDC flow")
    token = client.fetch_token(discovery["token_endpoint"], authorization_response=page.url,
                               code_verifier=verifier, state=state)
    check(token.get("id_token") and token.get("access_token"), "the token answer has an id_token",
          str(list(token)))
    header = json.loads(base64.urlsafe_b64decode(token["id_token"].split(".")[0] + "=="))
    check(header.get("alg") == "RS256", "the ID token is RS256", str(header))
    jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
    check(any(k.get("kty") == "RSA" and k.get("kid") == header.get("kid") for k in jwks["keys"]),
          "the JWKS holds the ID token's RSA key", str(header))
    rsa_keys = {"keys": [k for k in jwks["keys"] if k.get("kty") == "RSA"]}
    claims = jwt.decode(token["id_token"], JsonWebKey.import_key_set(rsa_keys),
                        claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": BASE},
                                        "aud": {"essential": True, "value": WEB_ID}},
                        claims_params={"nonce": nonce, "client_id": WEB_ID,
                                       "access_token": token["access_token"]})
    claims.validate(leeway=30)
    check(claims["sub"] == USER_ID, "sub is the user_id", str(dict(claims)))
    check(claims.get("email") == IDENTITY, "the email claim", str(dict(claims)))
    check(claims.get("name") == "Alice Liddell", "the name claim", str(dict(claims)))
    check(claims.get("auth_time"), "auth_time is there", str(dict(claims)))
    # A forged nonce is refused by the same validation.
    bad = jwt.decode(token["id_token"], JsonWebKey.import_key_set(rsa_keys),
                     claims_cls=CodeIDToken, claims_params={"nonce": "other", "client_id": WEB_ID})
    try:
        bad.validate(leeway=30)
        raise CheckFailed("an ID token validated with another nonce")
    except CheckFailed:
        raise
    except Exception:  # noqa: BLE001 - authlib's InvalidClaimError
        pass
    for method in ("GET", "POST"):
        info = client.request(method, discovery["userinfo_endpoint"])
        check(info.ok, f"userinfo ({method}) answered {info.status_code}", info.text[:300])
        check(info.json().get("sub") == USER_ID, f"userinfo ({method}) answers sub", info.text)
    context.close()


oidc_flow()


# --- 3. refusals -------------------------------------------------------------------------------

def fresh_code(verifier=None, client_id=SPA_ID):
    """A new code for the signed-in SPA browser (consenting again)."""
    verifier = verifier or pkce()[0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    url, state = authorize_url(client_id, code_challenge=challenge.rstrip(b"=").decode(),
                               code_challenge_method="S256")
    query = walk(spa_page, url, expect_signin=False)
    check_back(query, state, "a further code")
    return query["code"], verifier


@section("3a. wrong and missing PKCE verifier: InvalidGrant")
def wrong_verifier():
    code, verifier = fresh_code()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": SPA_ID}
    r = post_token({**form, "code_verifier": pkce()[0]})
    check(r.status_code in (400, 401) and error_code(r) in ("InvalidGrant", "invalid_grant"),
          "a wrong verifier is refused with InvalidGrant", f"{r.status_code} {r.text[:200]}")
    code, verifier = fresh_code()
    r = post_token({**form, "code": code})
    check(r.status_code in (400, 401) and error_code(r) in ("InvalidGrant", "invalid_grant"),
          "a missing verifier is refused with InvalidGrant", f"{r.status_code} {r.text[:200]}")


wrong_verifier()


@section("3b. a reused code: InvalidGrant, and the first use's refresh token revoked")
def reused_code():
    check(first_use, "the PKCE flow left a used code")
    r = post_token({"grant_type": "authorization_code", "code": first_use["code"],
                    "redirect_uri": REDIRECT, "client_id": SPA_ID,
                    "code_verifier": first_use["verifier"]})
    check(r.status_code in (400, 401) and error_code(r) in ("InvalidGrant", "invalid_grant"),
          "the second use is refused with InvalidGrant", f"{r.status_code} {r.text[:200]}")
    r = post_token({"grant_type": "refresh_token", "refresh_token": first_use["refresh"],
                    "client_id": SPA_ID})
    check(not r.ok, "the first use's refresh token no longer works", f"{r.status_code} {r.text[:200]}")


reused_code()


@section("3c. another client's code: refused")
def other_client():
    code, verifier = fresh_code()
    r = post_token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                    "code_verifier": verifier}, auth=(WEB_ID, WEB_SECRET))
    check(r.status_code in (400, 401) and error_code(r) in ("InvalidGrant", "invalid_grant"),
          "a SinglePageApp's code is refused to the WebServer app",
          f"{r.status_code} {r.text[:200]}")
    r = post_token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                    "code_verifier": verifier, "client_id": WEB_ID, "client_secret": "wrong"})
    check(r.status_code == 401 and error_code(r) in ("InvalidClient", "invalid_client"),
          "a wrong client secret is refused with InvalidClient", f"{r.status_code} {r.text[:200]}")


other_client()


@section("3d. unregistered redirect URI and unknown client: an error page, no redirect")
def bad_redirect():
    for what, url in (
        ("unregistered redirect URI", authorize_url(SPA_ID, redirect_uri=f"{APP_ORIGIN}/evil/cb",
                                                    code_challenge=pkce()[1],
                                                    code_challenge_method="S256")[0]),
        ("unknown client", authorize_url("no-such-client")[0]),
    ):
        Receiver.hits.clear()
        response = spa_page.goto(url)
        check(response.status == 400, f"{what}: 400", str(response.status))
        # Only a hit on a redirect URI counts: the browser may still fetch the app origin's
        # favicon from an earlier page, which is no redirect.
        redirected = [hit for hit in Receiver.hits if hit[0] in ("/cb", "/evil/cb")]
        check(spa_page.url.startswith(BASE) and not redirected,
              f"{what}: the browser stays on Roster (no redirect)",
              f"{spa_page.url} {Receiver.hits}")
        check(spa_page.locator("form").count() == 0, f"{what}: an error page, not a form")


bad_redirect()


@section("3e. prompt=none without a session: error=login_required with state")
def prompt_none():
    context, page = new_page()
    url, state = authorize_url(SPA_ID, prompt="none", code_challenge=pkce()[1],
                               code_challenge_method="S256")
    page.goto(url)
    check(page.url.startswith(REDIRECT), "prompt=none goes back to the app", page.url)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
    check(back.get("error") == "login_required" and back.get("state") == state
          and back.get("iss") == BASE, "error=login_required, state and iss", str(back))
    context.close()


prompt_none()


@section("3f. CSRF: a form post without its token, and cross-site form posts, are refused")
def csrf():
    # The consent form of the signed-in browser, posted from another site.
    url, state = authorize_url(SPA_ID, code_challenge=pkce()[1], code_challenge_method="S256")
    spa_page.goto(url)
    check(spa_page.get_by_role("button", name="Allow").count() == 1, "the consent page")
    token = spa_page.locator("input[name=csrf]").get_attribute("value")
    q = spa_page.locator("input[name=q]").get_attribute("value")
    headers = spa_page.context.request
    # 1. The right site but no form token (a plain client sending the session cookie).
    r = headers.post(f"{BASE}/v2/oauth/authorize", form={"q": q, "decision": "allow"},
                     headers={"origin": BASE}, max_redirects=0)
    check(r.status == 403, "consent posted without the form token: 403", str(r.status))
    # 2. Another site's page posts the consent form, with the right token even.
    Receiver.evil_forms["/evil/consent"] = (
        "<!doctype html><form method=post action='" + BASE + "/v2/oauth/authorize'>"
        f"<input type=hidden name=csrf value='{token}'>"
        f"<input type=hidden name=q value='{q}'>"
        "<button name=decision value=allow>go</button></form>")
    Receiver.hits.clear()
    spa_page.goto(f"{APP_ORIGIN}/evil/consent")
    with spa_page.expect_navigation():
        spa_page.get_by_role("button", name="go").click()
    check(not any(path == "/cb" for path, _ in Receiver.hits),
          "a cross-site consent post gives no code", str(Receiver.hits))
    check(spa_page.url.startswith(BASE), "the cross-site post stays on Roster", spa_page.url)
    check("another site" in spa_page.content(), "the refusal page says why",
          spa_page.content()[:300])
    # 3. Another site posts the sign-in form (login CSRF).
    Receiver.evil_forms["/evil/signin"] = (
        "<!doctype html><form method=post action='" + BASE + "/signin'>"
        f"<input type=hidden name=username value='{IDENTITY}'>"
        f"<input type=hidden name=password value='{PASSWORD}'>"
        "<input type=hidden name=csrf value='x'><button>go</button></form>")
    context, page = new_page()
    page.goto(f"{APP_ORIGIN}/evil/signin")
    with page.expect_navigation():
        page.get_by_role("button", name="go").click()
    check(not any(c["name"] == "roster_session" for c in context.cookies()),
          "a cross-site sign-in post starts no session", str(context.cookies()))
    context.close()


csrf()


# --- 4. sign out -------------------------------------------------------------------------------

@section("4. sign out: the account page's button, and RP-initiated logout")
def sign_out():
    spa_page.goto(f"{BASE}/account")
    check(spa_page.get_by_role("button", name="Sign out", exact=True).count() == 1,
          "the account page shows the signed-in user", spa_page.content()[:300])
    check(any(n in spa_page.content() for n in (USER_ID, IDENTITY, "Alice Liddell")),
          "the account page names the user", spa_page.content()[:600])
    spa_page.get_by_role("button", name="Sign out", exact=True).click()
    spa_page.wait_for_load_state()
    url, state = authorize_url(SPA_ID, prompt="none", code_challenge=pkce()[1],
                               code_challenge_method="S256")
    spa_page.goto(url)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(spa_page.url).query))
    check(back.get("error") == "login_required", "after sign-out, prompt=none: login_required",
          spa_page.url)
    # RP-initiated logout: sign in again through the OIDC app, then end the session from it.
    client = OAuth2Session(WEB_ID, WEB_SECRET, scope="openid", redirect_uri=REDIRECT,
                           code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(discovery["authorization_endpoint"],
                                                 code_verifier=verifier, nonce="n")
    walk(spa_page, url)
    token = client.fetch_token(discovery["token_endpoint"], authorization_response=spa_page.url,
                               code_verifier=verifier, state=state)
    logout_state = secrets.token_urlsafe(8)
    spa_page.goto(discovery["end_session_endpoint"] + "?" + urllib.parse.urlencode({
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGOUT_BACK,
        "state": logout_state}))
    check(spa_page.url.startswith(LOGOUT_BACK), "logout returns to the registered URI",
          spa_page.url)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(spa_page.url).query))
    check(back.get("state") == logout_state, "logout returns the state", str(back))
    url, state = authorize_url(SPA_ID, prompt="none", code_challenge=pkce()[1],
                               code_challenge_method="S256")
    spa_page.goto(url)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(spa_page.url).query))
    check(back.get("error") == "login_required", "after logout, prompt=none: login_required",
          spa_page.url)


sign_out()


# --- 5. screenshots ----------------------------------------------------------------------------

@section("5. pages in English and zh-CN: headers, language, screenshots to docs/signin/")
def screenshots():
    for lang in ("en", "zh-CN"):
        context, page = new_page(lang)
        url, _ = authorize_url(SPA_ID, code_challenge=pkce()[1], code_challenge_method="S256")
        response = page.goto(url)
        csp = response.headers.get("content-security-policy", "")
        check("frame-ancestors 'none'" in csp and "script-src" not in csp.replace(
            "default-src 'none'", ""), f"{lang}: the CSP allows no script, no framing", csp)
        check(page.locator("html").get_attribute("lang") == lang, f"{lang}: <html lang>",
              str(page.locator("html").get_attribute("lang")))
        check(page.get_by_role("heading", name=TEXTS[lang]["sign_in"]).count() == 1,
              f"{lang}: the sign-in page's heading")
        page.get_by_label(TEXTS[lang]["account"], exact=True).fill(IDENTITY)
        page.screenshot(path=os.path.join(SHOTS, f"signin-{lang}.png"), full_page=True)
        page.get_by_label(TEXTS[lang]["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=TEXTS[lang]["sign_in"]).click()
        check(page.get_by_role("heading", name=TEXTS[lang]["consent"]).count() == 1,
              f"{lang}: the consent page's heading", page.content()[:300])
        page.screenshot(path=os.path.join(SHOTS, f"consent-{lang}.png"), full_page=True)
        page.goto(f"{BASE}/account")
        page.screenshot(path=os.path.join(SHOTS, f"account-{lang}.png"), full_page=True)
        context.close()
    for name in ("signin", "consent", "account"):
        for lang in ("en", "zh-CN"):
            path = os.path.join(SHOTS, f"{name}-{lang}.png")
            with open(path, "rb") as f:
                check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{path} is a PNG")


screenshots()

# --- 6. a wrong password, and a disabled user's session ----------------------------------------

@section("6. a wrong password is told on the page; disabling the user ends the browser's session")
def wrong_password_and_disabled():
    context, page = new_page()
    url, _ = authorize_url(SPA_ID, code_challenge=pkce()[1], code_challenge_method="S256")
    page.goto(url)
    page.get_by_label("Account", exact=True).fill(IDENTITY)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Sign in").click()
    check(nav.value.status == 401, "a wrong password: 401", str(nav.value.status))
    check("The account or password is incorrect." in page.locator("p.error").inner_text(),
          "the page says the account or password is incorrect", page.content()[:400])
    check(page.locator("#username").input_value() == IDENTITY, "the account is kept in the form")
    query = walk(page, url)
    check("code" in query, "then the right password goes on", str(query))
    api("/v2/user/update", admin, {"user_id": USER_ID, "status": "disabled"})
    try:
        url, state = authorize_url(SPA_ID, prompt="none", code_challenge=pkce()[1],
                                   code_challenge_method="S256")
        page.goto(url)
        back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
        check(back.get("error") == "login_required",
              "a disabled user's session is over: prompt=none answers login_required", page.url)
    finally:
        api("/v2/user/update", admin, {"user_id": USER_ID, "status": "enabled"})
    context.close()


wrong_password_and_disabled()


@section("6b. the lockout: too many wrong passwords are told on the page with the wait")
def lockout():
    context, page = new_page()
    url, _ = authorize_url(SPA_ID, code_challenge=pkce()[1], code_challenge_method="S256")
    page.goto(url)
    # An identity of its own (the lockout counts per identity; none of the other checks use it).
    statuses = []
    for _ in range(6):
        page.get_by_label("Account", exact=True).fill("locked-out-visitor")
        page.get_by_label("Password", exact=True).fill("not-the-password")
        with page.expect_navigation() as nav:
            page.get_by_role("button", name="Sign in").click()
        statuses.append(nav.value.status)
    check(statuses[:5] == [401] * 5 and statuses[5] == 429,
          "five wrong passwords are told, the sixth attempt is locked out: 429", str(statuses))
    sentence = page.locator("p.error").inner_text()
    check(re.fullmatch(r"Too many failed attempts\. Try again in \d+ seconds\.", sentence)
          is not None, "the page says how many seconds to wait", sentence)
    context.close()


lockout()

# --- 7. forgot -> the mailed link -> reset -> sign in ------------------------------------------

def newest_mail():
    items = api("/v2/outbox/list", admin, {"limit": 1}).get("items", [])
    check(items, "the outbox has a mail")
    return items[0]


@section("7. forgot password -> the mailed link (from --public-url) -> reset -> sign in, both languages")
def forgot_and_reset():
    api("/v2/user/create", admin, {"user_id": "bob", "nick_name": "Bob Builder",
                                   "email": "bob@example.com", "plain_password": PASSWORD})
    api("/v2/account/link", admin, {"type": "email", "identity": "bob@example.com",
                                    "user_id": "bob"})
    for n, lang in enumerate(("en", "zh-CN")):
        t = TEXTS[lang]
        context, page = new_page(lang)
        page.goto(f"{BASE}/signin")
        page.get_by_role("link", name=t["forgot"]).click()
        page.get_by_label(t["account"], exact=True).fill("bob@example.com")
        page.screenshot(path=os.path.join(SHOTS, f"forgot-{lang}.png"), full_page=True)
        page.get_by_role("button", name=t["send_link"]).click()
        sent = page.locator("p.notice").inner_text()
        page.screenshot(path=os.path.join(SHOTS, f"forgot-sent-{lang}.png"), full_page=True)
        mail = newest_mail()
        check(mail["recipient"] == "bob@example.com", "the link goes to the user's address",
              str(mail))
        link = next((w for w in mail["body"].split() if "/reset?token=" in w), "")
        check(link.startswith(f"{BASE}/reset?token="), "the mail carries the reset link",
              mail["body"])
        # An unknown account reads the same.
        page.goto(f"{BASE}/forgot")
        page.get_by_label(t["account"], exact=True).fill("nobody@example.com")
        page.get_by_role("button", name=t["send_link"]).click()
        check(page.locator("p.notice").inner_text() == sent,
              "an unknown account gets the same sentence")
        page.goto(link)
        new_password = f"Rebuilt-{n}-password"
        page.get_by_label(t["new"], exact=True).fill(new_password)
        page.get_by_label(t["again"], exact=True).fill(new_password)
        page.screenshot(path=os.path.join(SHOTS, f"reset-{lang}.png"), full_page=True)
        page.get_by_role("button", name=t["reset"]).click()
        check(page.locator("p.notice").count() == 1, "the reset is done", page.content()[:400])
        page.goto(link)
        page.get_by_label(t["new"], exact=True).fill("Another-password-9")
        page.get_by_label(t["again"], exact=True).fill("Another-password-9")
        with page.expect_navigation() as nav:
            page.get_by_role("button", name=t["reset"]).click()
        check(nav.value.status == 400, "the link works once", str(nav.value.status))
        page.goto(f"{BASE}/signin")
        page.get_by_label(t["account"], exact=True).fill("bob@example.com")
        page.get_by_label(t["password"], exact=True).fill(new_password)
        page.get_by_role("button", name=t["sign_in"]).click()
        check(page.url == f"{BASE}/account", "the new password signs in", page.url)
        context.close()


forgot_and_reset()


# --- 8. the forced password change, the change-password page and the profile ------------------

@section("8. need_change_password_next_login: the change-password page before any code; profile")
def forced_change():
    api("/v2/user/create", admin, {"user_id": "carol", "nick_name": "Carol",
                                   "email": "carol@example.com", "plain_password": PASSWORD})
    api("/v2/account/link", admin, {"type": "email", "identity": "carol@example.com",
                                    "user_id": "carol"})
    for n, lang in enumerate(("en", "zh-CN")):
        t = TEXTS[lang]
        api("/v2/user/update", admin, {"user_id": "carol", "need_change_password_next_login": True,
                                       "plain_password": PASSWORD})
        context, page = new_page(lang)
        verifier, challenge = pkce()
        url, state = authorize_url(SPA_ID, code_challenge=challenge, code_challenge_method="S256")
        Receiver.hits.clear()
        page.goto(url)
        page.get_by_label(t["account"], exact=True).fill("carol@example.com")
        page.get_by_label(t["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=t["sign_in"]).click()
        check(page.get_by_role("heading", name=t["change"]).count() == 1,
              "the forced-change page comes before consent", page.content()[:400])
        check(page.locator("#new_password").get_attribute("autocomplete") == "new-password",
              "the new password input has autocomplete=new-password")
        new_password = f"Carols-own-{n}-pass"
        page.get_by_label(t["current"], exact=True).fill(PASSWORD)
        page.get_by_label(t["new"], exact=True).fill(new_password)
        page.get_by_label(t["again"], exact=True).fill(new_password)
        page.screenshot(path=os.path.join(SHOTS, f"password-forced-{lang}.png"), full_page=True)
        page.get_by_role("button", name=t["change"]).click()
        allow = page.get_by_role("button", name=t["allow"])
        check(allow.count() == 1, "then the consent page", page.content()[:400])
        allow.click()
        page.wait_for_url(f"{REDIRECT}**", timeout=10_000)
        back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
        check(back.get("code") and back.get("state") == state, "then the code", page.url)
        r = post_token({"grant_type": "authorization_code", "client_id": SPA_ID,
                        "code": back["code"], "redirect_uri": REDIRECT,
                        "code_verifier": verifier})
        check(r.ok and r.json().get("user_id") == "carol", "the code is exchanged", r.text[:300])
        # The profile form on the account page.
        page.goto(f"{BASE}/account")
        page.get_by_label(t["nick"], exact=True).fill(f"Carol {lang}")
        page.get_by_role("button", name=t["save"]).click()
        check(page.locator("p.notice").count() == 1, "the profile is saved", page.content()[:400])
        page.screenshot(path=os.path.join(SHOTS, f"account-{lang}.png"), full_page=True)
        me = api("/v2/user/get", admin, {"user_id": "carol"})
        check(me.get("nick_name") == f"Carol {lang}", "the nick name changed", str(me))
        page.goto(f"{BASE}/password")
        page.screenshot(path=os.path.join(SHOTS, f"password-{lang}.png"), full_page=True)
        context.close()


forced_change()

browser.close()
pw.stop()
receiver.shutdown()
print(f"{len(passed)} passed, {len(failed)} failed")
if failed:
    print("signin suite: failed sections: " + "; ".join(failed), file=sys.stderr)
    sys.exit(1)
