#!/usr/bin/env bash
# The LDAP gateway against independent clients: Debian's ldap-utils (ldapsearch, ldapwhoami,
# ldappasswd) and Python's ldap3 (its own venv), over LDAP, StartTLS and LDAPS, on a fresh
# Roster seeded through /v2/user/import.
# Usage: tests/ldap/run.sh [path/to/roster] [users to seed, default 2000]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
roster="${1:-$root/target/debug/roster}"
count="${2:-2000}"
venv="${ROSTER_LDAP_VENV:-$root/target/ldap-venv}"

if ! command -v ldapsearch >/dev/null; then
  apt-get install -y -q ldap-utils >/dev/null || { apt-get update -q >/dev/null; apt-get install -y -q ldap-utils >/dev/null; }
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/ldap/requirements.txt"

data="$(mktemp -d)"
log="$data/server.log"
export ROSTER_DATA_DIR="$data"
export ROSTER_ADMIN_PASSWORD="ldap-admin-password"
export ROSTER_LOG=info
unset ROSTER_DATABASE_URL ROSTER_LOG_FORMAT
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"

# A throwaway certificate for LDAPS and StartTLS.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$data/key.pem" -out "$data/cert.pem" >/dev/null 2>&1

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"; ldap_port="$(free_port)"; ldaps_port="$(free_port)"
"$roster" serve --listen "127.0.0.1:$port" --ldap-listen "127.0.0.1:$ldap_port" \
  --ldaps-listen "127.0.0.1:$ldaps_port" --ldap-tls-cert "$data/cert.pem" \
  --ldap-tls-key "$data/key.pem" --login-max-failures 3 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 200); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

export LDAPTLS_CACERT="$data/cert.pem"
url="ldap://127.0.0.1:$ldap_port"
base="dc=default"
admin_pw="$ROSTER_ADMIN_PASSWORD"
fail() { echo "FAIL: $*" >&2; echo "--- server log (last 40 lines)"; tail -n 40 "$log"; exit 1; }

# Seed: one user with a password (alice), then $count users without.
"$venv/bin/python" "$root/tests/ldap/seed.py" "http://127.0.0.1:$port" "$admin_pw" "$count"

# ldapwhoami: by identity and by DN; wrong password refused.
who="$(ldapwhoami -x -H "$url" -D admin -w "$admin_pw")" || fail "ldapwhoami admin"
[[ "$who" == "dn:uid="*",ou=people,$base" ]] || fail "whoami answered $who"
alice_dn="$(ldapsearch -LLL -x -H "$url" -D admin -w "$admin_pw" -b "ou=people,$base" '(mail=alice@example.com)' dn | sed -n 's/^dn: //p')"
[ -n "$alice_dn" ] || fail "alice not found"
ldapwhoami -x -H "$url" -D "$alice_dn" -w alice-password-1 >/dev/null || fail "alice binds by DN"
if ldapwhoami -x -H "$url" -D "$alice_dn" -w wrong >/dev/null 2>&1; then fail "a wrong password binds"; fi
# Anonymous: the root DSE, nothing else.
ldapsearch -LLL -x -H "$url" -b "" -s base namingContexts | grep -q "namingContexts: $base" || fail "root DSE"
if ldapsearch -LLL -x -H "$url" -b "$base" '(uid=*)' >/dev/null 2>&1; then fail "anonymous search answered"; fi
# Filters.
n="$(ldapsearch -LLL -x -H "$url" -D admin -w "$admin_pw" -b "$base" -E pr=500/noprompt '(&(objectClass=inetOrgPerson)(mail=seed*))' dn | grep -c '^dn: ')"
[ "$n" = "$count" ] || fail "substring filter found $n of $count"
ldapsearch -LLL -x -H "$url" -D admin -w "$admin_pw" -b "$base" '(|(mail=alice@example.com)(uid=nobody))' mail | grep -q 'mail: alice@example.com' || fail "or filter"
# StartTLS and LDAPS.
ldapwhoami -ZZ -x -H "$url" -D admin -w "$admin_pw" >/dev/null || fail "StartTLS"
ldapwhoami -x -H "ldaps://127.0.0.1:$ldaps_port" -D admin -w "$admin_pw" >/dev/null || fail "LDAPS"
# ldappasswd: the user's own password, then the new one binds.
ldappasswd -x -H "$url" -D "$alice_dn" -w alice-password-1 -a alice-password-1 -s alice-password-2 || fail "ldappasswd"
ldapwhoami -x -H "$url" -D "$alice_dn" -w alice-password-2 >/dev/null || fail "the new password binds"
# Python ldap3: a paged walk over every user, and Nextcloud's user_ldap sequence.
"$venv/bin/python" "$root/tests/ldap/clients.py" "127.0.0.1" "$ldap_port" "$admin_pw" "$count" || fail "python ldap3"
# Lockout: 3 failures lock alice, and then the right password is refused too.
for _ in 1 2 3; do ldapwhoami -x -H "$url" -D "$alice_dn" -w wrong >/dev/null 2>&1 || true; done
if ldapwhoami -x -H "$url" -D "$alice_dn" -w alice-password-2 >/dev/null 2>&1; then fail "a locked user binds"; fi

echo "LDAP gateway: ldap-utils and python ldap3 passed ($count users)"
