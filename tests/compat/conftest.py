"""Fixtures of the SDK compatibility suites: a running Roster (started by run.sh) and
clients of the official SDKs (PDS and eds-user) pointed at it in each auth mode."""

import json
import os
import urllib.parse
import urllib.request

import pytest
from alibabacloud_eds_user20210308.client import Client as EdsClient
from alibabacloud_pds20220301.client import Client
from alibabacloud_tea_openapi.models import Config

ENDPOINT = os.environ["ROSTER_COMPAT_ENDPOINT"]  # host:port
ACCESS_KEY_ID = os.environ["ROSTER_COMPAT_AK"]
ACCESS_KEY_SECRET = os.environ["ROSTER_COMPAT_SK"]
ADMIN_PASSWORD = os.environ["ROSTER_COMPAT_ADMIN_PASSWORD"]


def password_login(username, password):
    """The OAuth2 password grant, which the SDK's Token call does not carry."""
    form = urllib.parse.urlencode(
        {"grant_type": "password", "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(f"http://{ENDPOINT}/v2/oauth/token", data=form)
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def ak_client(signature_version=None):
    config = Config(
        endpoint=ENDPOINT,
        protocol="http",
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
    )
    if signature_version:
        config.signature_version = signature_version
    return Client(config)


def bearer_client(token):
    return Client(Config(endpoint=ENDPOINT, protocol="http", bearer_token=token))


@pytest.fixture(params=["ak-v1", "ak-v4", "bearer"])
def pds(request):
    """A client of the official SDK, acting as the superadmin, in each auth mode."""
    if request.param == "ak-v1":
        return ak_client()
    if request.param == "ak-v4":
        return ak_client("v4")
    return bearer_client(password_login("admin", ADMIN_PASSWORD)["access_token"])


@pytest.fixture
def anonymous():
    return Client(Config(endpoint=ENDPOINT, protocol="http"))


def eds_ak_client(signature_algorithm=None, secret=ACCESS_KEY_SECRET, key_id=ACCESS_KEY_ID):
    config = Config(
        endpoint=ENDPOINT,
        protocol="http",
        access_key_id=key_id,
        access_key_secret=secret,
    )
    if signature_algorithm:
        config.signature_algorithm = signature_algorithm
    return EdsClient(config)


def eds_bearer_client(token, signature_algorithm=None):
    config = Config(endpoint=ENDPOINT, protocol="http", bearer_token=token)
    if signature_algorithm:
        config.signature_algorithm = signature_algorithm
    return EdsClient(config)


@pytest.fixture(params=["acs3", "rpc-v2", "bearer", "bearer-v2"])
def eds(request):
    """An eds-user client of the official SDK, acting as the superadmin: ACS3-HMAC-SHA256
    (the default), the legacy RPC HMAC-SHA1 signature, and a bearer token (sent as the
    x-acs-bearer-token header, or with v2 as the BearerToken query parameter)."""
    if request.param == "acs3":
        return eds_ak_client()
    if request.param == "rpc-v2":
        return eds_ak_client("v2")
    token = password_login("admin", ADMIN_PASSWORD)["access_token"]
    if request.param == "bearer-v2":
        return eds_bearer_client(token, "v2")
    return eds_bearer_client(token)
