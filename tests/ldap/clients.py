"""Python ldap3 against the gateway: a paged walk over every user (the cookie followed to the
end, every user exactly once), and the queries Nextcloud's user_ldap sends."""
import sys

from ldap3 import Connection, Server, SUBTREE, BASE

host, port, admin_password, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
base = "dc=default"
server = Server(host, port=port, get_info="NO_INFO")
conn = Connection(server, user="admin", password=admin_password, auto_bind=True, raise_exceptions=False)

# The paged walk.
seen = []
cookie = None
pages = 0
while True:
    conn.search(f"ou=people,{base}", "(objectClass=inetOrgPerson)", SUBTREE,
                attributes=["uid"], paged_size=250, paged_cookie=cookie)
    assert conn.result["result"] == 0, conn.result
    seen.extend(entry["dn"] for entry in conn.response if entry["type"] == "searchResEntry")
    pages += 1
    cookie = conn.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
    if not cookie:
        break
assert len(seen) == len(set(seen)), "a user twice"
# The seeded users, alice and admin.
assert len(seen) == count + 2, (len(seen), count)
print(f"paged walk: {len(seen)} users in {pages} pages")

# Nextcloud user_ldap: the configuration check, user listing, and a login.
conn.search("", "(objectClass=*)", BASE, attributes=["namingContexts", "supportedControl"])
assert base in str(conn.response[0]["attributes"]["namingContexts"]), conn.response
conn.search(base, "(objectclass=*)", BASE, attributes=["dn"])
assert conn.result["result"] == 0
user_filter = "(&(|(objectclass=inetOrgPerson)))"
conn.search(base, user_filter, SUBTREE, attributes=["dn"], paged_size=500, size_limit=1)
assert conn.result["result"] in (0, 4), conn.result
conn.search(base, "(&(|(objectclass=groupOfNames)))", SUBTREE, attributes=["cn", "member"], paged_size=500)
assert conn.result["result"] == 0, conn.result
login = "(&(&(|(objectclass=inetOrgPerson)))(|(uid=alice@example.com)(|(mailPrimaryAddress=alice@example.com)(mail=alice@example.com))))"
conn.search(base, login, SUBTREE, attributes=["dn", "uid", "displayName", "mail", "memberOf", "entryUUID"])
users = [e for e in conn.response if e["type"] == "searchResEntry"]
assert len(users) == 1, users
alice = users[0]
assert alice["attributes"]["displayName"] in ("Alice", ["Alice"]), alice
assert alice["attributes"]["entryUUID"], alice
# The login itself: a bind with the DN found (its password was changed by ldappasswd before).
assert Connection(server, user=alice["dn"], password="alice-password-2").bind()
conn.search(alice["dn"], "(objectclass=*)", BASE, attributes=["memberOf", "modifyTimestamp"])
assert conn.result["result"] == 0
print("nextcloud user_ldap sequence: answered")
