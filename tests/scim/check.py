"""Runs the independent SCIM compliance checker scim2-tester against a Roster server.

Usage: check.py <base url of /scim/v2> <bearer token>
Exits non-zero when a check fails; prints every result, and the checks it skipped.
"""
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

base, token = sys.argv[1], sys.argv[2]
http = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
client = SyncSCIMClient(http)
results = check_server(client)
failed = 0
for result in results:
    status = result.status.name if hasattr(result.status, "name") else str(result.status)
    print(f"{status:8} {result.title}: {result.reason or ''}")
    if result.status == Status.ERROR:
        failed += 1
        if getattr(result, "data", None) is not None:
            print(f"         data: {str(result.data)[:600]}")
print(f"{len(results)} checks, {failed} failed")
sys.exit(1 if failed else 0)
