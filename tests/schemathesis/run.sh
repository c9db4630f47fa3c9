#!/usr/bin/env bash
# API fuzzing: schemathesis generates requests from /openapi.json of a live Roster and checks
# every answer: no 5xx, status codes, content types and bodies as the spec declares them;
# schema-valid requests accepted, schema-violating ones refused; 405 for undeclared methods.
# Runs as the admin and as a plain user, a bounded number of examples per operation.
# Usage: tests/schemathesis/run.sh [path/to/roster] [examples per operation]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
roster="${1:-$root/target/debug/roster}"
examples="${2:-25}"
venv="${ROSTER_SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/schemathesis/requirements.txt"

data="$(mktemp -d)"
export ROSTER_DATA_DIR="$data" ROSTER_ADMIN_PASSWORD="fuzz-admin-password" ROSTER_LOG=warn
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset ROSTER_DATABASE_URL ROSTER_LOG_FORMAT
port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$roster" serve --listen "127.0.0.1:$port" > "$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT

token_of() {
  "$venv/bin/python" - "$base" "$1" "$2" <<'PY'
import json, sys, time, urllib.parse, urllib.request
base, user, password = sys.argv[1:]
form = urllib.parse.urlencode({"grant_type": "password", "username": user, "password": password}).encode()
for _ in range(100):
    try:
        with urllib.request.urlopen(f"{base}/v2/oauth/token", form, timeout=5) as answer:
            print(json.load(answer)["access_token"])
            break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("roster did not answer")
PY
}

admin="$(token_of admin "$ROSTER_ADMIN_PASSWORD")"
# A plain user to fuzz as, made through the API.
curl_json() { "$venv/bin/python" -c 'import json,sys,urllib.request
req = urllib.request.Request(sys.argv[1], json.dumps(json.loads(sys.argv[3])).encode(),
                             {"Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()' "$@"; }
curl_json "$base/v2/user/import" "$admin" \
  '{"authentication_type":"custom","identity":"fuzz-user","nick_name":"Fuzz","plain_password":"fuzz-user-password"}'
plain="$(token_of fuzz-user fuzz-user-password)"

# The checks (and the narrow exceptions, with their reasons) are in schemathesis.toml; the
# hooks put in the values only the server can make (markers) or that must be real (keys).
export PYTHONPATH="$root/tests/schemathesis${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=roster_hooks
# The KooDrive routes (`/koodrive/...`) are left out: their schemas are those of KooDrive's
# own wire (ids and numbers as strings or integers, a `{code, msg}` envelope whose errors are
# HTTP 400 for any refusal, 404-in-envelope for wrong methods), so the PDS-shaped checks
# (negative data rejection, unsupported method) do not apply; the permission matrix and the
# KooDrive suites (crates/server/tests/api/koodrive*.rs, permissions.rs) cover them.
status=0
for who in admin plain; do
  token="$admin"; [ "$who" = plain ] && token="$plain"
  echo "--- schemathesis as $who ($examples examples per operation)"
  "$venv/bin/schemathesis" --config-file "$root/tests/schemathesis/schemathesis.toml" \
    run "$base/openapi.json" \
    --header "Authorization: Bearer $token" \
    --exclude-path-regex '^/koodrive/' \
    --max-examples "$examples" --seed 1 \
    --phases coverage,fuzzing --no-color || status=1
done
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)"; tail -n 40 "$data/server.log"
fi
exit "$status"
