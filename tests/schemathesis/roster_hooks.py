"""Schemathesis hooks for Roster (loaded by run.sh through SCHEMATHESIS_HOOKS).

A few request values are valid only if the server made them, or only if they are real keys;
no schema can describe those. For schema-valid (positive) cases, these hooks put such a value
in, so that positive_data_acceptance checks everything else of the request. Negative cases
are left exactly as generated.
"""

import schemathesis

# Public keys made for these tests only (their private halves were thrown away).
RSA_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwsLTYNpAcVuxrpruKvAI
o5d3Bij1rBGwhvPoW8WQis0cyorSVnPJHIovaUqLawc/VVDU+FnJ+wS2LRjvrjD2
dSwMaqOWBVPHEy9mfamK21qZERGSDo9o/vfF5rkN0cUlIjFswfRC2ljauQd4WS+d
m3GCWSfX/g9SCxnF148x0Wtuydv68pt6TPZnd75bOJt5Ps3eLkEmjnOzqRDObFQ5
04LiQn6ZrHHPju78IMnfkxd+j5Wu63yHMRXrhz1HDgfeGOIoOVYraM4y8+mbx6OA
nfm9NXThzMpFkjqP+d4bnYSoN52hOpBRGiggGVFK//tCSAsUWVwHx9rhpAmLMBqQ
vQIDAQAB
-----END PUBLIC KEY-----"""
EC_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9Tbqug5/0J7kDyB7waRAcknMQi9G
SPR9QLDKqcoI5hXT+6VV4m5WSaHIY+ItGrGB1sMEv1HItUmb4yWVckfeYw==
-----END PUBLIC KEY-----"""


def _is_positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context, case, **kwargs):
    body = case.body
    if not _is_positive(case) or not isinstance(body, dict):
        return
    # A marker is opaque: only a `next_marker` the server answered is valid (anything else is
    # InvalidParameter), so a positive case starts at the first page.
    if isinstance(body.get("marker"), str):
        body["marker"] = ""
    # An audit-log query is PDS's query language, which no schema pattern states (its times
    # must be real dates): a positive case asks a valid one.
    if case.path in ("/v2/audit_log/list", "/v2/audit_log/export") and isinstance(
        body.get("query"), str
    ):
        body["query"] = "action_type = 'user.create' and acted_at >= '2026-01-01T00:00:00'"
    # A JWT app's key must be a real public key of its algorithm's kind, and an update that
    # changes either must leave the app with a matching pair (the stored one is unknown here).
    if case.path == "/v2/app/create" or (
        case.path == "/v2/app/update" and ("public_key" in body or "algorithm" in body)
    ):
        algorithm = body.get("algorithm") if isinstance(body.get("algorithm"), str) else "RS256"
        body["algorithm"] = algorithm
        body["public_key"] = EC_PUBLIC_KEY if algorithm == "ES256" else RSA_PUBLIC_KEY
