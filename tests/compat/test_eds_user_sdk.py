"""Alibaba's official eds-user SDK (alibabacloud-eds-user20210308), unmodified, against
Roster: every action of eds-user 2021-03-08, in ACS3, legacy RPC (v2) and bearer modes."""

import json
import urllib.error
import urllib.request
import uuid

import pytest
from alibabacloud_eds_user20210308 import models as m

from conftest import (
    ADMIN_PASSWORD,
    ENDPOINT,
    eds_ak_client,
    eds_bearer_client,
    password_login,
)

ROOT = "org-aliyun-wy-org-id"
PASSWORD = "Str0ng!Passw0rd"


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def unique_phone():
    return "139" + str(uuid.uuid4().int)[:8]


def sign_in(username, password):
    """The user id a password grant at /v2/oauth/token signs in as, or None if refused."""
    try:
        return password_login(username, password)["user_id"]
    except urllib.error.HTTPError as refused:
        assert refused.code in (400, 401), refused.code
        return None


def error_of(call):
    """The SDK's exception for a call that must fail (ClientException for a 4xx)."""
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


def create_users(eds, *ids, **fields):
    users = [
        m.CreateUsersRequestUsers(end_user_id=i, email=f"{i}@example.com", **fields)
        for i in ids
    ]
    return eds.create_users(m.CreateUsersRequest(users=users, password=PASSWORD)).body


def test_create_describe_modify_remove_users(eds):
    alice, bob = unique("alice"), unique("bob")
    created = create_users(eds, alice, bob, real_nick_name="Alice Z", owner_type="CreateFromManager")
    assert created.all_succeed is True
    assert sorted(u.end_user_id for u in created.create_result.created_users) == sorted([alice, bob])
    assert created.create_result.failed_users == []
    assert created.request_id

    again = create_users(eds, alice, "x!")
    assert again.all_succeed is False
    codes = {f.end_user_id: f.error_code for f in again.create_result.failed_users}
    assert codes == {alice: "ExistedEndUserId", "x!": "InvalidUsername"}

    found = eds.describe_users(m.DescribeUsersRequest(end_user_ids=[alice, bob])).body
    users = {u.end_user_id: u for u in found.users}
    assert set(users) == {alice, bob}
    assert users[alice].real_nick_name == "Alice Z"
    assert users[alice].nick_name == "Alice Z"
    assert users[alice].owner_type == "CreateFromManager"
    assert users[alice].status == 0
    assert users[alice].email == f"{alice}@example.com"
    assert isinstance(users[alice].id, int) and users[alice].id > 0
    assert found.next_token == ""
    assert found.count == 2

    wildcard = eds.describe_users(m.DescribeUsersRequest(filter=alice[:3] + "*" + alice[-3:])).body
    assert alice in [u.end_user_id for u in wildcard.users]

    # An e-mail and a phone are logon accounts, so each user needs its own.
    new_email, phone = f"{alice}@new.example", unique_phone()
    eds.modify_user(m.ModifyUserRequest(end_user_id=alice, email=new_email, phone=phone))
    user = eds.describe_users(m.DescribeUsersRequest(end_user_ids=[alice])).body.users[0]
    assert (user.email, user.phone) == (new_email, phone)

    removed = eds.remove_users(m.RemoveUsersRequest(users=[bob, unique("ghost")])).body
    assert removed.remove_users_result.removed_users == [bob]
    assert removed.remove_users_result.failed_users[0].error_code == "InvalidEndUserId.NotFound"


def test_created_users_sign_in_with_end_user_id_and_email(eds):
    """A user made by CreateUsers with a password signs in at /v2/oauth/token with its
    EndUserId and with its e-mail; after ModifyUser, with the new e-mail and not the old."""
    ann, phone = unique("ann"), unique_phone()
    users = [m.CreateUsersRequestUsers(end_user_id=ann, email=f"{ann}@example.com",
                                       phone=phone, password=PASSWORD)]
    created = eds.create_users(m.CreateUsersRequest(users=users)).body
    assert created.all_succeed is True, created

    assert sign_in(ann, PASSWORD) == ann
    assert sign_in(f"{ann}@example.com", PASSWORD) == ann
    assert sign_in(phone, PASSWORD) == ann
    assert sign_in(ann, "Wr0ng!Passw0rd") is None

    eds.modify_user(m.ModifyUserRequest(end_user_id=ann, email=f"{ann}@new.example"))
    assert sign_in(f"{ann}@new.example", PASSWORD) == ann
    assert sign_in(f"{ann}@example.com", PASSWORD) is None

    # Another user may not take that e-mail: the user is not created.
    taken = [m.CreateUsersRequestUsers(end_user_id=unique("bea"), email=f"{ann}@new.example")]
    refused = eds.create_users(m.CreateUsersRequest(users=taken, password=PASSWORD)).body
    assert refused.all_succeed is False
    assert refused.create_result.failed_users[0].error_code == "EntityAlreadyExist.Account"


def test_describe_users_pages(eds):
    ids = [unique("page") for _ in range(3)]
    create_users(eds, *ids)
    seen, token = [], None
    while True:
        body = eds.describe_users(
            m.DescribeUsersRequest(filter="page_*", max_results=2, next_token=token)
        ).body
        seen += [u.end_user_id for u in body.users]
        if not body.next_token:
            break
        token = body.next_token
    assert set(ids) <= set(seen)
    assert len(seen) == len(set(seen))
    e = error_of(lambda: eds.describe_users(m.DescribeUsersRequest(max_results=501)))
    assert (e.code, e.status_code) == ("InvalidParameter", 400)


def test_lock_and_unlock(eds):
    carol = unique("carol")
    create_users(eds, carol)
    locked = eds.lock_users(m.LockUsersRequest(users=[carol, unique("ghost")], logout_session=True)).body
    assert locked.lock_users_result.locked_users == [carol]
    assert locked.lock_users_result.failed_users[0].error_code == "InvalidEndUserId.NotFound"
    status = eds.describe_users(m.DescribeUsersRequest(end_user_ids=[carol], status=9)).body
    assert [u.status for u in status.users] == [9]
    unlocked = eds.unlock_users(
        m.UnlockUsersRequest(users=[carol], auto_lock_time="2099-01-01 00:00:00")
    ).body
    assert unlocked.unlock_users_result.unlocked_users == [carol]
    filtered = eds.filter_users(m.FilterUsersRequest(include_end_user_ids=[carol])).body
    assert filtered.users[0].status == 0
    assert filtered.users[0].auto_lock_time == "2099-01-01 00:00:00"


def test_reset_password_goes_to_the_outbox(eds):
    dave = unique("dave")
    create_users(eds, dave)
    reset = eds.reset_user_password(m.ResetUserPasswordRequest(users=[dave], notify_type=1)).body
    assert reset.reset_users_result.reset_users == [dave]
    token = password_login("admin", ADMIN_PASSWORD)["access_token"]
    request = urllib.request.Request(
        f"http://{ENDPOINT}/v2/outbox/list",
        data=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        outbox = json.load(response)
    assert any(msg["recipient"] == f"{dave}@example.com" for msg in outbox["items"])


def test_orgs(eds):
    name = unique("dept")
    org = eds.create_org(m.CreateOrgRequest(org_name=name, parent_org_id=ROOT)).body.org_id
    child = eds.create_org(m.CreateOrgRequest(org_name="R&D 部门", parent_org_id=org)).body.org_id
    orgs = eds.describe_orgs(m.DescribeOrgsRequest(parent_org_id=org)).body.orgs
    assert [(o.org_id, o.org_name, o.parent_org_id, o.org_name_path) for o in orgs] == [
        (child, "R&D 部门", org, f"{name}/R&D 部门")
    ]
    layer = eds.describe_org_by_layer(m.DescribeOrgByLayerRequest(parent_org_id=ROOT)).body.orgs
    assert org in [o.org_id for o in layer]

    eds.modify_org(m.ModifyOrgRequest(org_id=child, org_name="Research"))
    e = error_of(lambda: eds.move_org(m.MoveOrgRequest(org_id=org, new_parent_org_id=child)))
    assert e.status_code == 400

    erin = unique("erin")
    create_users(eds, erin)
    eds.move_user_org(m.MoveUserOrgRequest(end_user_ids=[erin], org_id=child))
    user = eds.describe_users(
        m.DescribeUsersRequest(org_id=org, is_query_all_sub_orgs=True)
    ).body.users
    assert [u.end_user_id for u in user] == [erin]
    assert user[0].orgs[0].org_name_path == f"{name}/Research"
    e = error_of(lambda: eds.remove_org(m.RemoveOrgRequest(org_id=child)))
    assert (e.code, e.status_code) == ("OperationDenied", 400)
    eds.move_user_org(m.MoveUserOrgRequest(end_user_ids=[erin], org_id=ROOT))
    eds.move_org(m.MoveOrgRequest(org_id=child, new_parent_org_id=ROOT))
    eds.remove_org(m.RemoveOrgRequest(org_id=child))
    eds.remove_org(m.RemoveOrgRequest(org_id=org))
    e = error_of(lambda: eds.remove_org(m.RemoveOrgRequest(org_id=org)))
    assert (e.code, e.status_code) == ("EntityNotExist.Org", 404)


def test_user_groups(eds):
    name = unique("eng")
    group = eds.create_group(m.CreateGroupRequest(group_name=name, description="engineers")).body.group_id
    frank, gina = unique("frank"), unique("gina")
    create_users(eds, frank, gina)
    eds.user_batch_join_group(m.UserBatchJoinGroupRequest(group_id=group, end_user_ids=[frank, gina]))
    members = eds.describe_group_user(m.DescribeGroupUserRequest(group_id=group, max_results=10)).body
    assert sorted(u.end_user_id for u in members.users) == sorted([frank, gina])
    assert [(g.group_id, g.user_count) for g in members.groups] == [(group, 2)]
    groups = eds.describe_groups(m.DescribeGroupsRequest(group_name=name, page_number=1, page_size=10)).body
    assert groups.count == 1
    assert (groups.groups[0].group_name, groups.groups[0].user_count) == (name, 2)
    eds.user_batch_quit_group(m.UserBatchQuitGroupRequest(group_id=group, end_user_ids=[gina]))
    eds.modify_group(m.ModifyGroupRequest(group_id=group, new_group_name=name + "x", description="d"))
    users = eds.describe_users(m.DescribeUsersRequest(group_id=group)).body.users
    assert [(u.end_user_id, [g.group_name for g in u.groups]) for u in users] == [(frank, [name + "x"])]
    eds.remove_group(m.RemoveGroupRequest(group_ids=[group]))
    e = error_of(lambda: eds.remove_group(m.RemoveGroupRequest(group_id=group)))
    assert (e.code, e.status_code) == ("EntityNotExist.Group", 404)


def test_properties(eds):
    for p in eds.list_property(m.ListPropertyRequest()).body.properties:
        eds.remove_property(m.RemovePropertyRequest(property_id=p.property_id))
    created = eds.create_property(
        m.CreatePropertyRequest(property_key=unique("team"), property_values=["red", "blue", "red"])
    ).body.create_result
    saved = created.save_property_value_model
    assert sorted(v.property_value for v in saved.save_property_values) == ["blue", "red"]
    assert [v.error_code for v in saved.failed_property_values] == ["ExistedPropertyValue"]
    pid = created.property_id
    red = next(v.property_value_id for v in saved.save_property_values if v.property_value == "red")

    updated = eds.update_property(
        m.UpdatePropertyRequest(
            property_id=pid,
            property_key="colour",
            property_values=[m.UpdatePropertyRequestPropertyValues(property_value="green")],
        )
    ).body.update_result
    assert updated.property_key == "colour"
    values = eds.list_property_value(m.ListPropertyValueRequest(property_id=pid)).body
    assert sorted(v.property_value for v in values.property_value_infos) == ["blue", "green", "red"]

    hank = unique("hank")
    create_users(eds, hank)
    user = eds.describe_users(m.DescribeUsersRequest(end_user_ids=[hank])).body.users[0]
    eds.set_user_property_value(
        m.SetUserPropertyValueRequest(user_id=user.id, user_name=hank, property_id=pid, property_value_id=red)
    )
    assert eds.check_used_property(m.CheckUsedPropertyRequest(property_id=pid)).body.use_count == 1
    assert eds.check_used_property_value(
        m.CheckUsedPropertyValueRequest(property_id=pid, property_value_id=red)
    ).body.use_count == 1
    filtered = eds.filter_users(
        m.FilterUsersRequest(
            property_filter_param=[m.FilterUsersRequestPropertyFilterParam(property_id=pid, property_value_ids=str(red))],
            order_param=m.FilterUsersRequestOrderParam(order_field="EndUserId", order_type="ASC"),
        )
    ).body.users
    assert [u.end_user_id for u in filtered] == [hank]
    assert filtered[0].user_set_properties_models[0].property_values[0].property_value == "red"
    shown = eds.describe_users(
        m.DescribeUsersRequest(end_user_ids=[hank], show_extras={"Properties": True})
    ).body.users[0]
    assert [(p.key, p.value) for p in shown.properties] == [("colour", "red")]
    eds.delete_user_property_value(
        m.DeleteUserPropertyValueRequest(user_id=user.id, property_id=pid, property_value_id=red)
    )
    assert eds.check_used_property(m.CheckUsedPropertyRequest(property_id=pid)).body.use_count == 0
    eds.remove_property(m.RemovePropertyRequest(property_id=pid))
    e = error_of(lambda: eds.list_property_value(m.ListPropertyValueRequest(property_id=pid)))
    assert (e.code, e.status_code) == ("EntityNotExist.Property", 404)


def test_resource_groups(eds):
    name = unique("rg")
    rg = eds.create_resource_group(
        m.CreateResourceGroupRequest(resource_group_name=name, platform="AliyunConsole")
    ).body.resource_group_id
    assert rg.startswith("rg-")
    found = eds.describe_resource_groups(m.DescribeResourceGroupsRequest(resource_group_name=name)).body
    assert found.total_count == "1"
    assert [(g.resource_group_id, g.resource_group_name) for g in found.resource_group] == [(rg, name)]
    eds.delete_resource_group(m.DeleteResourceGroupRequest(resource_group_ids=[rg]))
    found = eds.describe_resource_groups(m.DescribeResourceGroupsRequest(resource_group_ids=[rg])).body
    assert found.total_count == "0"


def test_tenant_alias_and_manager_info(eds):
    alias = eds.init_tenant_alias(m.InitTenantAliasRequest()).body
    assert alias.data == "default"
    assert alias.alias_info.alias_editable is False
    token = password_login("admin", ADMIN_PASSWORD)["access_token"]
    info = eds.get_manager_info_by_auth_code(m.GetManagerInfoByAuthCodeRequest(auth_code=token)).body
    assert info.user_name == "admin"
    e = error_of(lambda: eds.get_manager_info_by_auth_code(m.GetManagerInfoByAuthCodeRequest(auth_code="nope")))
    assert (e.code, e.status_code) == ("InvalidParameter", 400)


def test_missing_parameters_are_named(eds):
    e = error_of(lambda: eds.create_org(m.CreateOrgRequest(parent_org_id=ROOT)))
    assert (e.code, e.status_code) == ("MissingParameter", 400)
    assert "OrgName" in e.message
    assert e.request_id


def test_signature_and_key_errors():
    e = error_of(lambda: eds_ak_client(secret="wrong").describe_orgs(m.DescribeOrgsRequest()))
    assert (e.code, e.status_code) == ("SignatureDoesNotMatch", 400)
    e = error_of(lambda: eds_ak_client("v2", secret="wrong").describe_orgs(m.DescribeOrgsRequest()))
    assert (e.code, e.status_code) == ("SignatureDoesNotMatch", 400)
    e = error_of(lambda: eds_ak_client(key_id="nosuchkey").describe_orgs(m.DescribeOrgsRequest()))
    assert (e.code, e.status_code) == ("InvalidAccessKeyId.NotFound", 404)
    e = error_of(lambda: eds_bearer_client("not-a-token").describe_orgs(m.DescribeOrgsRequest()))
    assert e.status_code == 401

