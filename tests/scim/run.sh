#!/usr/bin/env bash
# The SCIM compliance check: scim2-tester (PyPI) in its own venv against a fresh
# `roster serve`, authenticated with the admin's access token.
# Usage: tests/scim/run.sh [path/to/roster]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
roster="${1:-$root/target/debug/roster}"
venv="${ROSTER_SCIM_VENV:-$root/target/scim-venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/scim/requirements.txt"

data="$(mktemp -d)"
log="$data/server.log"
export ROSTER_DATA_DIR="$data"
export ROSTER_ADMIN_PASSWORD="scim-admin-password"
export ROSTER_LOG=info
unset ROSTER_DATABASE_URL ROSTER_LOG_FORMAT
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$roster" serve --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
token="$("$venv/bin/python" - "$port" <<'PY'
import json, sys, time, urllib.parse, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(200):
    try:
        urllib.request.urlopen(f"{base}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("roster did not start")
form = urllib.parse.urlencode({"grant_type": "password", "username": "admin",
                               "password": "scim-admin-password"}).encode()
answer = urllib.request.urlopen(f"{base}/v2/oauth/token", data=form, timeout=5)
print(json.load(answer)["access_token"])
PY
)"

if ! "$venv/bin/python" "$root/tests/scim/check.py" "http://127.0.0.1:$port/scim/v2" "$token"; then
  echo "--- server log (last 40 lines)"; tail -n 40 "$log"
  exit 1
fi
