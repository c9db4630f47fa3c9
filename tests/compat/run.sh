#!/usr/bin/env bash
# The SDK compatibility suites (PDS and eds-user): a venv with the official SDKs, a fresh Roster, an access key
# made with the CLI, then pytest, then the quickstart script of docs/sdk.md.
# Usage: tests/compat/run.sh [path/to/roster]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
roster="${1:-$root/target/debug/roster}"
venv="${ROSTER_COMPAT_VENV:-$root/target/compat-venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/compat/requirements.txt"

data="$(mktemp -d)"
log="$data/server.log"
export ROSTER_DATA_DIR="$data"
export ROSTER_ADMIN_PASSWORD="compat-admin-password"
export ROSTER_LOG=info
unset ROSTER_DATABASE_URL ROSTER_LOG_FORMAT
# The SDK honours proxy variables; loopback must not go through one.
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$roster" serve --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
"$venv/bin/python" - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("roster did not start")
PY

key="$("$roster" access-key create --user admin --description compat)"
export ROSTER_COMPAT_ENDPOINT="127.0.0.1:$port"
export ROSTER_COMPAT_AK="$("$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_key_id"])' <<<"$key")"
export ROSTER_COMPAT_SK="$("$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_key_secret"])' <<<"$key")"
export ROSTER_COMPAT_ADMIN_PASSWORD="$ROSTER_ADMIN_PASSWORD"

cd "$root/tests/compat"
if ! "$venv/bin/python" -m pytest -q -p no:cacheprovider .; then
  echo "--- server log (last 40 lines)"; tail -n 40 "$log"
  exit 1
fi

# The quickstart of docs/sdk.md, exactly as the page shows it: the python block after its
# marker, taken out of the page and run against this server.
"$venv/bin/python" - "$root/docs/sdk.md" >"$data/quickstart.py" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
start = next(i for i, line in enumerate(lines) if line.startswith("<!-- quickstart:"))
assert lines[start + 1] == "```python", "the quickstart marker must precede a python block"
end = lines.index("```", start + 2)
print("\n".join(lines[start + 2:end]))
PY
echo "--- docs/sdk.md quickstart"
if ! ROSTER_ENDPOINT="127.0.0.1:$port" "$venv/bin/python" "$data/quickstart.py"; then
  echo "--- server log (last 40 lines)"; tail -n 40 "$log"
  exit 1
fi
