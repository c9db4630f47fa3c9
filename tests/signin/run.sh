#!/usr/bin/env bash
# The sign-in suite (issue 19): a real browser (Playwright for Python driving Debian's
# Chromium, never `playwright install`) through the code flow started by the official PDS
# SDK's Authorize, an independent OpenID Connect client (authlib), the refusals, sign-out,
# forgot -> mailed link -> reset, the forced password change, the profile form, and
# screenshots of the pages (English, zh-CN) into docs/signin/.
# Usage: bash tests/signin/run.sh [path/to/roster]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
roster="${1:-$root/target/debug/roster}"
case "$roster" in /*) ;; *) roster="$PWD/$roster" ;; esac
venv="${ROSTER_SIGNIN_VENV:-$root/target/signin-venv}"
fail() { echo "signin suite: $*" >&2; exit 1; }
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
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/signin/requirements.txt" \
  || fail "pip install of tests/signin/requirements.txt failed"

data="$(mktemp -d)"
log="$data/server.log"
export ROSTER_DATA_DIR="$data"
export ROSTER_ADMIN_PASSWORD="signin-admin-password"
export ROSTER_LOG=info
unset ROSTER_DATABASE_URL ROSTER_LOG_FORMAT ROSTER_PUBLIC_URL
# Loopback must not go through a proxy (the SDK and requests honour these variables).
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# The mailed reset links are built from the public URL (never from a request's Host).
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
if ! ROSTER_SIGNIN_ENDPOINT="127.0.0.1:$port" \
     ROSTER_SIGNIN_ADMIN_PASSWORD="$ROSTER_ADMIN_PASSWORD" \
     ROSTER_SIGNIN_SHOTS="$root/docs/signin" \
     "$venv/bin/python" "$root/tests/signin/flow.py"; then
  echo "--- server log (last 40 lines)"; tail -n 40 "$log"
  fail "FAILED (see above)"
fi
echo "signin suite: passed in $(( $(date +%s) - start )) s"
