"""Alibaba's official PDS SDK (alibabacloud-pds20220301), unmodified, against Roster: every
call Roster serves, in access-key (signature v1 and v4) and bearer-token modes."""

import urllib.request
import uuid

import pytest
from alibabacloud_pds20220301 import models as m
from Tea.exceptions import TeaException

from conftest import ADMIN_PASSWORD, bearer_client, password_login


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(call):
    """The SDK's exception for a call that must fail."""
    with pytest.raises(TeaException) as caught:
        call()
    return caught.value


def test_users(pds):
    user_id = unique("u")
    created = pds.create_user(
        m.CreateUserRequest(
            user_id=user_id,
            nick_name="Alice Liddell",
            email=f"{user_id}@example.com",
            phone="13900001111",
            role="user",
            status="enabled",
            description="compat",
            user_data={"team": "wonder"},
        )
    )
    assert created.status_code == 201
    body = created.body
    assert body.user_id == user_id
    assert body.nick_name == "Alice Liddell"
    assert body.domain_id == "default"
    assert body.creator == "admin"
    assert body.user_data == {"team": "wonder"}
    assert isinstance(body.created_at, int) and body.created_at > 1_600_000_000_000

    got = pds.get_user(m.GetUserRequest(user_id=user_id)).body
    assert got.email == f"{user_id}@example.com"
    assert got.last_login_time == 0

    updated = pds.update_user(
        m.UpdateUserRequest(user_id=user_id, nick_name="Alice", status="disabled")
    ).body
    assert (updated.nick_name, updated.status) == ("Alice", "disabled")

    found = pds.search_user(m.SearchUserRequest(nick_name="alic", limit=10)).body
    assert user_id in [u.user_id for u in found.items]
    fuzzy = pds.search_user(m.SearchUserRequest(nick_name_for_fuzzy="lic")).body
    assert user_id in [u.user_id for u in fuzzy.items]

    seen, marker = [], ""
    while True:
        page = pds.list_user(m.ListUserRequest(limit=2, marker=marker)).body
        seen += [u.user_id for u in page.items]
        marker = page.next_marker
        if not marker:
            break
    assert user_id in seen and "admin" in seen and len(seen) == len(set(seen))

    deleted = pds.delete_user(m.DeleteUserRequest(user_id=user_id))
    assert deleted.status_code == 204
    missing = error_of(lambda: pds.get_user(m.GetUserRequest(user_id=user_id)))
    assert missing.code == "NotFound.User"
    assert missing.data["statusCode"] == 404
    assert missing.data["requestId"]


def test_import_user_with_drive_and_group(pds):
    group = pds.create_group(m.CreateGroupRequest(group_name=unique("dept"))).body
    identity = unique("imp")
    imported = pds.import_user(
        m.ImportUserRequest(
            authentication_type="ldap",
            identity=identity,
            nick_name="Imported",
            auto_create_drive=True,
            drive_total_size=1024,
            parent_group_id=group.group_id,
        )
    ).body
    assert imported.default_drive_id
    drive = pds.get_default_drive(m.GetDefaultDriveRequest(user_id=imported.user_id)).body
    assert (drive.drive_id, drive.total_size) == (imported.default_drive_id, 1024)
    members = pds.list_group_member(
        m.ListGroupMemberRequest(group_id=group.group_id, member_type="user")
    ).body
    assert [u.user_id for u in members.user_items] == [imported.user_id]
    again = error_of(
        lambda: pds.import_user(
            m.ImportUserRequest(authentication_type="ldap", identity=identity, nick_name="x")
        )
    )
    assert again.code == "AlreadyExist.Account"


def test_groups_and_members(pds):
    parent = pds.create_group(
        m.CreateGroupRequest(group_name=unique("eng"), description="", is_root=False)
    )
    assert parent.status_code == 201
    parent = parent.body
    child = pds.create_group(
        m.CreateGroupRequest(group_name=unique("sub"), parent_group_id=parent.group_id)
    ).body
    assert pds.get_group(m.GetGroupRequest(group_id=child.group_id)).body.group_name == child.group_name
    renamed = pds.update_group(
        m.UpdateGroupRequest(group_id=child.group_id, group_name="renamed", description="d")
    ).body
    assert (renamed.group_name, renamed.description) == ("renamed", "d")
    pds.group_update_name(m.GroupUpdateNameRequest(group_id=child.group_id, name="again"))
    assert pds.get_group(m.GetGroupRequest(group_id=child.group_id)).body.group_name == "again"

    user_id = unique("member")
    pds.create_user(m.CreateUserRequest(user_id=user_id))
    added = pds.add_group_member(
        m.AddGroupMemberRequest(group_id=parent.group_id, member_type="user", member_id=user_id)
    )
    assert added.status_code == 204
    listing = pds.list_group_member(
        m.ListGroupMemberRequest(group_id=parent.group_id, limit=100)
    ).body
    assert [g.group_id for g in listing.group_items] == [child.group_id]
    assert [u.user_id for u in listing.user_items] == [user_id]
    assert listing.next_marker == ""
    groups = pds.list_group(m.ListGroupRequest(limit=100)).body
    assert parent.group_id in [g.group_id for g in groups.items]

    pds.remove_group_member(
        m.RemoveGroupMemberRequest(group_id=parent.group_id, member_type="user", member_id=user_id)
    )
    again = error_of(
        lambda: pds.remove_group_member(
            m.RemoveGroupMemberRequest(
                group_id=parent.group_id, member_type="user", member_id=user_id
            )
        )
    )
    assert again.code == "NotFound.Membership"
    busy = error_of(lambda: pds.delete_group(m.DeleteGroupRequest(group_id=parent.group_id)))
    assert busy.code == "StateConflict"
    assert pds.delete_group(m.DeleteGroupRequest(group_id=child.group_id)).status_code == 204
    pds.delete_group(m.DeleteGroupRequest(group_id=parent.group_id))


def test_group_admin_roles(pds):
    group = pds.create_group(m.CreateGroupRequest(group_name=unique("ops"))).body
    user_id = unique("gadmin")
    pds.create_user(m.CreateUserRequest(user_id=user_id))
    identity = m.Identity(identity_type="IT_User", identity_id=user_id)
    assignment = dict(
        identity=identity,
        role_id="SystemGroupAdmin",
        manage_resource_type="RT_Group",
        manage_resource_id=group.group_id,
    )
    assert pds.assign_role(m.AssignRoleRequest(**assignment)).status_code == 204
    listed = pds.list_assignment(
        m.ListAssignmentRequest(manage_resource_type="RT_Group", manage_resource_id=group.group_id)
    ).body
    assert [a.identity.identity_id for a in listed.assignment_list] == [user_id]
    roles = pds.list_identity_role(m.ListIdentityRoleRequest(identity=identity)).body
    assert [r.manage_resource_id for r in roles.assignment_list] == [group.group_id]
    assert roles.is_admin is False
    pds.cancel_assign_role(m.CancelAssignRoleRequest(**assignment))


def test_drives(pds):
    user_id = unique("owner")
    pds.create_user(m.CreateUserRequest(user_id=user_id))
    created = pds.create_drive(
        m.CreateDriveRequest(
            drive_name="Photos", owner=user_id, owner_type="user", default=True, total_size=2048
        )
    )
    assert created.status_code == 201
    drive = created.body
    assert (drive.owner, drive.total_size, drive.drive_type) == (user_id, 2048, "normal")
    got = pds.get_drive(m.GetDriveRequest(drive_id=drive.drive_id)).body
    assert got.created_at.endswith("Z")
    assert pds.get_default_drive(m.GetDefaultDriveRequest(user_id=user_id)).body.drive_id == drive.drive_id
    updated = pds.update_drive(
        m.UpdateDriveRequest(drive_id=drive.drive_id, drive_name="Pictures", total_size=4096)
    ).body
    assert (updated.drive_name, updated.total_size) == ("Pictures", 4096)
    listed = pds.list_drive(m.ListDriveRequest(owner=user_id, owner_type="user")).body
    assert [d.drive_id for d in listed.items] == [drive.drive_id]
    mine = pds.list_my_drives(m.ListMyDrivesRequest(limit=10)).body
    assert drive.drive_id not in [d.drive_id for d in mine.items]
    found = pds.search_drive(m.SearchDriveRequest(drive_name="pict", owner=user_id)).body
    assert [d.drive_id for d in found.items] == [drive.drive_id]
    assert pds.delete_drive(m.DeleteDriveRequest(drive_id=drive.drive_id)).status_code == 204
    gone = error_of(lambda: pds.get_drive(m.GetDriveRequest(drive_id=drive.drive_id)))
    assert gone.code == "NotFound.Drive"


def test_domain(pds):
    domain = pds.get_domain(m.GetDomainRequest(domain_id="default", get_quota_used=True)).body
    assert domain.domain_id == "default"
    assert domain.status == 1
    quota = pds.get_domain_quota().body
    assert quota.user_count_used >= 1
    updated = pds.update_domain(
        m.UpdateDomainRequest(domain_id="default", description="compat suite")
    ).body
    assert updated.description == "compat suite"
    name = unique("Tenant")
    created = pds.create_domain(m.CreateDomainRequest(domain_name=name))
    assert created.status_code == 201
    listed = pds.list_domains(m.ListDomainsRequest()).body
    assert created.body.domain_id in [d.domain_id for d in listed.items]
    found = pds.search_domains(m.SearchDomainsRequest(name=name)).body
    assert [d.domain_id for d in found.items] == [created.body.domain_id]


def test_accounts_and_tokens(pds, anonymous):
    user_id = unique("acct")
    pds.create_user(m.CreateUserRequest(user_id=user_id))
    identity = unique("login")
    link = pds.link_account(
        m.LinkAccountRequest(type="custom", identity=identity, user_id=user_id, extra="")
    ).body
    assert link.user_id == user_id and link.token_type == "Bearer" and link.access_token
    info = pds.get_link_info(m.GetLinkInfoRequest(type="custom", identity=identity)).body
    assert (info.user_id, info.authentication_type) == (user_id, "custom")
    by_user = pds.get_link_info_by_user_id(m.GetLinkInfoByUserIdRequest(user_id=user_id)).body
    assert [a.identity for a in by_user.items] == [identity]
    taken = error_of(
        lambda: pds.link_account(
            m.LinkAccountRequest(type="custom", identity=identity, user_id=user_id)
        )
    )
    assert taken.code == "AlreadyExist.Account"

    # The token a link answers works as a bearer token; taken by an admin for someone else,
    # it is short-lived and carries no refresh token.
    as_user = bearer_client(link.access_token)
    assert as_user.get_user(m.GetUserRequest()).body.user_id == user_id
    assert not link.refresh_token and link.expires_in <= 900

    # A refresh token of a password login refreshes through the SDK, once.
    login = password_login("admin", ADMIN_PASSWORD)
    refreshed = anonymous.token(
        m.TokenRequest(
            client_id="roster", grant_type="refresh_token", refresh_token=login["refresh_token"]
        )
    ).body
    assert refreshed.user_id == "admin" and refreshed.access_token != login["access_token"]
    reused = error_of(
        lambda: anonymous.token(
            m.TokenRequest(
                client_id="roster", grant_type="refresh_token", refresh_token=login["refresh_token"]
            )
        )
    )
    assert reused.code == "RefreshTokenInvalid"

    assert pds.un_link_account(
        m.UnLinkAccountRequest(type="custom", identity=identity, user_id=user_id)
    ).status_code == 204


def test_plain_users_and_strangers_are_refused(anonymous):
    admin = bearer_client(password_login("admin", ADMIN_PASSWORD)["access_token"])
    identity = unique("plain")
    admin.import_user(
        m.ImportUserRequest(authentication_type="custom", identity=identity, nick_name="Plain")
    )
    admin_token = password_login("admin", ADMIN_PASSWORD)
    plain_user = admin.get_link_info(m.GetLinkInfoRequest(type="custom", identity=identity)).body
    assert plain_user.user_id
    no_token = error_of(lambda: anonymous.get_user(m.GetUserRequest(user_id="admin")))
    assert no_token.code == "AccessTokenInvalid"
    assert no_token.data["statusCode"] == 401
    bad = error_of(
        lambda: bearer_client(admin_token["access_token"] + "x").get_user(m.GetUserRequest())
    )
    assert bad.code == "AccessTokenInvalid"
    wrong = error_of(lambda: admin.create_user(m.CreateUserRequest(user_id="has#hash")))
    assert wrong.code == "InvalidParameterWrongFormat"
    limit = error_of(lambda: admin.list_user(m.ListUserRequest(limit=101)))
    assert limit.code == "InvalidParameterOutOfRange"


def test_jwt_app_assertion_through_the_sdk_token_call(anonymous):
    """A JWT app's assertion, signed RS256, exchanged with the SDK's Token call."""
    import base64
    import json
    import time
    import urllib.request

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    admin_token = password_login("admin", ADMIN_PASSWORD)["access_token"]
    request = urllib.request.Request(
        f"http://{__import__('conftest').ENDPOINT}/v2/app/create",
        data=json.dumps({"app_name": "compat", "public_key": public_pem}).encode(),
        headers={"Authorization": f"Bearer {admin_token}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        client_id = json.load(response)["client_id"]

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def assertion(claims):
        head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        body = b64(json.dumps(claims).encode())
        signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{b64(signature)}"

    now = int(time.time())
    claims = {"iss": client_id, "sub": unique("jwt"), "sub_type": "user", "aud": "default",
              "jti": uuid.uuid4().hex, "exp": now + 60, "iat": now, "auto_create": True}
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    token = anonymous.token(
        m.TokenRequest(grant_type=grant, client_id=client_id, assertion=assertion(claims))
    ).body
    assert token.user_id == claims["sub"] and token.access_token
    replayed = error_of(
        lambda: anonymous.token(
            m.TokenRequest(grant_type=grant, client_id=client_id, assertion=assertion(claims))
        )
    )
    assert replayed.code == "AssertionReplayed"


def test_audit_log_export(pds):
    """PDS's AuditLogExport and GetAsyncTask through the SDK; the file downloads from the
    task's url with a bearer token."""
    group = pds.create_group(m.CreateGroupRequest(group_name=unique("Audited"))).body
    exported = pds.audit_log_export(
        m.AuditLogExportRequest(
            query=f"action_type = 'group.create' and object_id = '{group.group_id}'",
            order_by="acted_at DESC",
            file_name="audit.csv",
        )
    ).body
    assert exported.async_task_id
    task = pds.get_async_task(m.GetAsyncTaskRequest(async_task_id=exported.async_task_id)).body
    assert task.state == "Succeed"
    token = password_login("admin", ADMIN_PASSWORD)["access_token"]
    request = urllib.request.Request(task.url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        csv = response.read().decode()
    lines = csv.splitlines()
    assert lines[0].startswith("log_id,acted_at,")
    assert len(lines) == 2 and f",group.create,group,{group.group_id}," in lines[1]
    refused = error_of(
        lambda: pds.audit_log_export(m.AuditLogExportRequest(query="nonsense"))
    )
    assert refused.code == "InvalidParameter"
