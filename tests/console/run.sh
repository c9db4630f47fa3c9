#!/usr/bin/env bash
# The admin console suite (issue 20): a real browser (Playwright for Python driving Debian's
# Chromium, never `playwright install`) against a fresh Roster seeded with 10,000 users
# through /v2/batch: sign in; find one user by prefix and by substring; lock it and see its
# token refused; page forward three pages and back; create, move and fill a group and see it
# through the API; import a CSV with bad rows and download the rejects; a user's logon
# account, access key and sessions; a group admin kept to its subtree; a plain user refused;
# an app's redirect URIs edited and seen through the API; screenshots of every console page (English, zh-CN) into docs/console/.
# Usage: bash tests/console/run.sh [path/to/roster] [users to seed, default 10000]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
roster="${1:-$root/target/debug/roster}"
count="${2:-10000}"
case "$roster" in /*) ;; *) roster="$PWD/$roster" ;; esac
venv="${ROSTER_CONSOLE_VENV:-$root/target/console-venv}"
fail() { echo "console suite: $*" >&2; exit 1; }
[ -x "$roster" ] || fail "no roster binary at $roster"

# Debian's Chromium, and a CJK font for the zh-CN screenshots.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
if [ "${#need[@]}" -gt 0 ]; then
  echo "--- apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null || fail "apt-get update failed"
    apt-get install -y -qq "${need[@]}" >/dev/null || fail "apt-get install ${need[*]} failed"
  fi
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing after the install"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || fail "could not create the venv $venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/console/requirements.txt" \
  || fail "pip install of tests/console/requirements.txt failed"

data="$(mktemp -d)"
log="$data/server.log"
export ROSTER_DATA_DIR="$data"
export ROSTER_ADMIN_PASSWORD="console-admin-password"
export ROSTER_LOG=info
unset ROSTER_DATABASE_URL ROSTER_LOG_FORMAT ROSTER_PUBLIC_URL
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export ROSTER_PUBLIC_URL="http://127.0.0.1:$port"
"$roster" serve --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
"$venv/bin/python" - "$port" <<'PY' || { tail -n 40 "$log"; fail "roster did not start"; }
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("roster did not answer /healthz within 30 s")
PY

start=$(date +%s)
if ! ROSTER_CONSOLE_ENDPOINT="127.0.0.1:$port" \
     ROSTER_CONSOLE_ADMIN_PASSWORD="$ROSTER_ADMIN_PASSWORD" \
     ROSTER_CONSOLE_SHOTS="$root/docs/console" \
     ROSTER_CONSOLE_USERS="$count" \
     "$venv/bin/python" "$root/tests/console/flow.py"; then
  echo "--- server log (last 40 lines)"; tail -n 40 "$log"
  fail "FAILED (see above)"
fi
echo "console suite: passed in $(( $(date +%s) - start )) s"
