"""Seeds users through /v2/user/import: alice (with a password) and N users without."""
import json
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, admin_password, count = sys.argv[1], sys.argv[2], int(sys.argv[3])


def post(path, body, token=None, form=False):
    data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded" if form else "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


token = post("/v2/oauth/token", {"grant_type": "password", "username": "admin",
                                 "password": admin_password}, form=True)["access_token"]
post("/v2/user/import", {"authentication_type": "email", "identity": "alice@example.com",
                         "nick_name": "Alice", "plain_password": "alice-password-1",
                         "email": "alice@example.com"}, token)


def one(i):
    post("/v2/user/import", {"authentication_type": "custom", "identity": f"seed{i:06d}",
                             "nick_name": f"Seed {i}", "email": f"seed{i:06d}@example.com"}, token)


with ThreadPoolExecutor(8) as pool:
    list(pool.map(one, range(count)))
