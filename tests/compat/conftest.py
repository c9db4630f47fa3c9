"""Fixtures of the PDS SDK compatibility suite: a running Roster (started by run.sh) and
clients of the official SDK pointed at it in each auth mode."""

import json
import os
import urllib.parse
import urllib.request

import pytest
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
