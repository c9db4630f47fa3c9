//! The eds-user dialect's directory actions: organizations (the PDS group tree), user
//! groups, user properties with their limits, and resource groups.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::eds::{admin, assert_eds_error, call, create_users, ok, ROOT};
use crate::helpers::{spawn_app, TestApp};

async fn create_org(app: &TestApp, name: &str, parent: &str) -> String {
    let body = ok(
        app,
        "CreateOrg",
        &[("OrgName", name), ("ParentOrgId", parent)],
    )
    .await;
    body["OrgId"].as_str().unwrap().to_owned()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn organizations_are_one_tree_with_the_pds_groups() {
    let app = spawn_app().await;
    let rd = create_org(&app, "R&D", ROOT).await;
    let backend = create_org(&app, "Backend", &rd).await;
    let ops = create_org(&app, "Ops", ROOT).await;

    let children = ok(&app, "DescribeOrgs", &[("ParentOrgId", &rd)]).await;
    assert_eq!(
        children["Orgs"],
        json!([{"OrgId": backend, "OrgName": "Backend", "ParentOrgId": rd, "OrgNamePath": "R&D/Backend"}])
    );
    let top = ok(&app, "DescribeOrgByLayer", &[("ParentOrgId", ROOT)]).await;
    let mut top_ids = ids(&top["Orgs"], "OrgId");
    top_ids.sort();
    let mut expected = vec![rd.clone(), ops.clone()];
    expected.sort();
    assert_eq!(top_ids, expected);
    let named = ok(&app, "DescribeOrgs", &[("OrgName", "back")]).await;
    assert_eq!(ids(&named["Orgs"], "OrgId"), std::slice::from_ref(&backend));
    let first = ok(&app, "DescribeOrgs", &[("MaxResults", "2")]).await;
    let token = first["NextToken"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    let rest = ok(
        &app,
        "DescribeOrgs",
        &[("MaxResults", "2"), ("NextToken", &token)],
    )
    .await;
    assert_eq!(rest["Orgs"].as_array().unwrap().len(), 1);
    assert_eq!(rest["NextToken"], "");

    // The same department through PDS.
    let (status, group) = app
        .admin("/v2/group/get", json!({"group_id": backend}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(group["parent_group_id"], rd.as_str());

    ok(
        &app,
        "ModifyOrg",
        &[("OrgId", &backend), ("OrgName", "Platform")],
    )
    .await;
    let cycle = admin(
        &app,
        "MoveOrg",
        &[("OrgId", &rd), ("NewParentOrgId", &backend)],
    )
    .await;
    assert_eds_error(&cycle, StatusCode::BAD_REQUEST, "InvalidParameter");
    assert!(
        cycle.1["Message"]
            .as_str()
            .unwrap()
            .contains("NewParentOrgId"),
        "{}",
        cycle.1
    );
    ok(
        &app,
        "MoveOrg",
        &[("OrgId", &backend), ("NewParentOrgId", &ops)],
    )
    .await;
    let moved = ok(&app, "DescribeOrgs", &[("ParentOrgId", &ops)]).await;
    assert_eq!(moved["Orgs"][0]["OrgNamePath"], "Ops/Platform");
    let missing = admin(
        &app,
        "ModifyOrg",
        &[("OrgId", "org-none"), ("OrgName", "x")],
    )
    .await;
    assert_eds_error(&missing, StatusCode::NOT_FOUND, "EntityNotExist.Org");
}

#[tokio::test]
async fn users_move_between_organizations_and_block_their_removal() {
    let app = spawn_app().await;
    let rd = create_org(&app, "R&D", ROOT).await;
    let backend = create_org(&app, "Backend", &rd).await;
    create_users(&app, &["lea", "max"]).await;
    ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "ned"),
            ("Users.1.Email", "n@x.y"),
            ("Users.1.OrgId", &rd),
        ],
    )
    .await;
    ok(
        &app,
        "MoveUserOrg",
        &[
            ("EndUserIds.1", "lea"),
            ("EndUserIds.2", "max"),
            ("OrgId", &backend),
        ],
    )
    .await;

    let direct = ok(&app, "DescribeUsers", &[("OrgId", &rd)]).await;
    assert_eq!(ids(&direct["Users"], "EndUserId"), ["ned"]);
    let subtree = ok(
        &app,
        "DescribeUsers",
        &[("OrgId", &rd), ("IsQueryAllSubOrgs", "True")],
    )
    .await;
    assert_eq!(ids(&subtree["Users"], "EndUserId"), ["lea", "max", "ned"]);
    assert_eq!(
        subtree["Users"][0]["Orgs"],
        json!([{"OrgId": backend, "OrgName": "Backend", "OrgNamePath": "R&D/Backend"}])
    );
    assert_eq!(subtree["Users"][0]["OrgId"], backend.as_str());
    let outside = ok(&app, "DescribeUsers", &[("OrgId", ROOT)]).await;
    assert_eq!(ids(&outside["Users"], "EndUserId"), ["admin"]);

    let busy = admin(&app, "RemoveOrg", &[("OrgId", &backend)]).await;
    assert_eds_error(&busy, StatusCode::BAD_REQUEST, "OperationDenied");
    assert!(
        busy.1["Message"].as_str().unwrap().contains("users"),
        "{}",
        busy.1
    );
    ok(
        &app,
        "MoveUserOrg",
        &[
            ("EndUserIds.1", "lea"),
            ("EndUserIds.2", "max"),
            ("OrgId", ROOT),
        ],
    )
    .await;
    ok(
        &app,
        "MoveUserOrg",
        &[("EndUserIds.1", "ned"), ("OrgId", &backend)],
    )
    .await;
    let parent = admin(&app, "RemoveOrg", &[("OrgId", &rd)]).await;
    assert_eds_error(&parent, StatusCode::BAD_REQUEST, "OperationDenied");
    assert!(
        parent.1["Message"].as_str().unwrap().contains("child"),
        "{}",
        parent.1
    );
    ok(
        &app,
        "MoveUserOrg",
        &[("EndUserIds.1", "ned"), ("OrgId", ROOT)],
    )
    .await;
    ok(&app, "RemoveOrg", &[("OrgId", &backend)]).await;
    ok(&app, "RemoveOrg", &[("OrgId", &rd)]).await;
    let gone = admin(&app, "RemoveOrg", &[("OrgId", &rd)]).await;
    assert_eds_error(&gone, StatusCode::NOT_FOUND, "EntityNotExist.Org");
    let ghost = admin(
        &app,
        "MoveUserOrg",
        &[("EndUserIds.1", "ghost"), ("OrgId", ROOT)],
    )
    .await;
    assert_eds_error(&ghost, StatusCode::NOT_FOUND, "EntityNotExist.User");
}

#[tokio::test]
async fn user_groups_hold_members_apart_from_the_tree() {
    let app = spawn_app().await;
    create_users(&app, &["oli", "pam", "quin"]).await;
    let created = ok(
        &app,
        "CreateGroup",
        &[("GroupName", "eng"), ("Description", "engineers")],
    )
    .await;
    let eng = created["GroupId"].as_str().unwrap().to_owned();
    let ops = ok(&app, "CreateGroup", &[("GroupName", "ops")]).await["GroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &app,
        "UserBatchJoinGroup",
        &[
            ("GroupId", &eng),
            ("EndUserIds.1", "oli"),
            ("EndUserIds.2", "pam"),
        ],
    )
    .await;
    let ghost = admin(
        &app,
        "UserBatchJoinGroup",
        &[("GroupId", &eng), ("EndUserIds.1", "ghost")],
    )
    .await;
    assert_eds_error(&ghost, StatusCode::NOT_FOUND, "EntityNotExist.User");

    let groups = ok(
        &app,
        "DescribeGroups",
        &[("PageNumber", "1"), ("PageSize", "1")],
    )
    .await;
    assert_eq!(groups["Count"], 2);
    assert_eq!(groups["Groups"].as_array().unwrap().len(), 1);
    let named = ok(&app, "DescribeGroups", &[("GroupName", "en")]).await;
    assert_eq!(named["Groups"][0]["GroupName"], "eng");
    assert_eq!(named["Groups"][0]["Description"], "engineers");
    assert_eq!(named["Groups"][0]["UserCount"], 2);

    let members = ok(
        &app,
        "DescribeGroupUser",
        &[("GroupId", &eng), ("MaxResults", "1")],
    )
    .await;
    assert_eq!(ids(&members["Users"], "EndUserId"), ["oli"]);
    assert_eq!(
        members["Groups"],
        json!([{"GroupId": eng, "GroupName": "eng", "UserCount": 2}])
    );
    let joined = members["Users"][0]["GmtJoinGroup"].as_str().unwrap();
    assert!(joined.len() == 19 && joined.starts_with("20"), "{joined}");
    let token = members["NextToken"].as_str().unwrap().to_owned();
    let rest = ok(
        &app,
        "DescribeGroupUser",
        &[("GroupId", &eng), ("NextToken", &token)],
    )
    .await;
    assert_eq!(ids(&rest["Users"], "EndUserId"), ["pam"]);
    let in_group = ok(&app, "DescribeUsers", &[("GroupId", &eng)]).await;
    assert_eq!(
        in_group["Users"][0]["Groups"],
        json!([{"GroupId": eng, "GroupName": "eng"}])
    );
    let not_in = ok(&app, "DescribeUsers", &[("ExcludeGroupId", &eng)]).await;
    assert_eq!(ids(&not_in["Users"], "EndUserId"), ["admin", "quin"]);
    // User groups are no organizations.
    let as_org = admin(&app, "DescribeUsers", &[("OrgId", &eng)]).await;
    assert_eds_error(&as_org, StatusCode::NOT_FOUND, "EntityNotExist.Org");
    let orgs = ok(&app, "DescribeOrgs", &[]).await;
    assert_eq!(orgs["Orgs"], json!([]));

    ok(
        &app,
        "UserBatchQuitGroup",
        &[("GroupId", &eng), ("EndUserIds.1", "pam")],
    )
    .await;
    ok(
        &app,
        "ModifyGroup",
        &[("GroupId", &eng), ("NewGroupName", "engineering")],
    )
    .await;
    let renamed = ok(&app, "DescribeGroups", &[("GroupId", &eng)]).await;
    assert_eq!(
        (
            renamed["Groups"][0]["GroupName"].as_str(),
            renamed["Groups"][0]["UserCount"].as_i64()
        ),
        (Some("engineering"), Some(1))
    );
    let no_name = admin(&app, "ModifyGroup", &[("GroupId", &eng)]).await;
    assert_eds_error(&no_name, StatusCode::BAD_REQUEST, "MissingParameter");
    ok(
        &app,
        "RemoveGroup",
        &[("GroupIds.1", &eng), ("GroupIds.2", &ops)],
    )
    .await;
    let gone = admin(&app, "RemoveGroup", &[("GroupId", &eng)]).await;
    assert_eds_error(&gone, StatusCode::NOT_FOUND, "EntityNotExist.Group");
}

async fn create_property(app: &TestApp, key: &str, values: &[&str]) -> Value {
    let mut form = vec![("PropertyKey".to_owned(), key.to_owned())];
    for (i, v) in values.iter().enumerate() {
        form.push((format!("PropertyValues.{}", i + 1), (*v).to_owned()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    ok(app, "CreateProperty", &form).await
}

#[tokio::test]
async fn properties_keep_their_limits() {
    let app = spawn_app().await;
    let many: Vec<String> = (0..51).map(|i| format!("v{i}")).collect();
    let mut values: Vec<&str> = many.iter().map(String::as_str).collect();
    values.push("v0");
    let created = create_property(&app, "level", &values).await;
    let model = &created["CreateResult"]["SavePropertyValueModel"];
    assert_eq!(model["SavePropertyValues"].as_array().unwrap().len(), 50);
    let failed = model["FailedPropertyValues"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0]["ErrorCode"], "QuotaExceed");
    assert_eq!(failed[1]["PropertyValue"], "v0");
    let taken = admin(&app, "CreateProperty", &[("PropertyKey", "level")]).await;
    assert_eds_error(
        &taken,
        StatusCode::BAD_REQUEST,
        "EntityAlreadyExist.Property",
    );
    for i in 1..10 {
        create_property(&app, &format!("p{i}"), &[]).await;
    }
    let eleventh = admin(&app, "CreateProperty", &[("PropertyKey", "p10")]).await;
    assert_eds_error(&eleventh, StatusCode::BAD_REQUEST, "QuotaExceed");
    let listed = ok(&app, "ListProperty", &[]).await;
    assert_eq!(listed["Properties"].as_array().unwrap().len(), 10);
    assert_eq!(listed["NextToken"], "");
}

#[tokio::test]
async fn users_hold_property_values() {
    let app = spawn_app().await;
    create_users(&app, &["rex", "sue"]).await;
    let created = create_property(&app, "team", &["red", "blue"]).await;
    let result = &created["CreateResult"];
    let pid = result["PropertyId"].as_i64().unwrap().to_string();
    let values = &result["SavePropertyValueModel"]["SavePropertyValues"];
    let red = values[0]["PropertyValueId"].as_i64().unwrap().to_string();
    assert_eq!(values[0]["PropertyValue"], "red");

    let updated = ok(
        &app,
        "UpdateProperty",
        &[
            ("PropertyId", &pid),
            ("PropertyKey", "colour"),
            ("PropertyValues.1.PropertyValueId", &red),
            ("PropertyValues.1.PropertyValue", "crimson"),
            ("PropertyValues.2.PropertyValue", "blue"),
            ("PropertyValues.3.PropertyValue", "green"),
        ],
    )
    .await;
    let model = &updated["UpdateResult"]["SavePropertyValueModel"];
    assert_eq!(updated["UpdateResult"]["PropertyKey"], "colour");
    assert_eq!(
        ids(&model["SavePropertyValues"], "PropertyValue"),
        ["crimson", "green"]
    );
    assert_eq!(
        model["FailedPropertyValues"][0]["ErrorCode"],
        "ExistedPropertyValue"
    );
    let listed = ok(&app, "ListPropertyValue", &[("PropertyId", &pid)]).await;
    assert_eq!(listed["PropertyValueInfos"].as_array().unwrap().len(), 3);

    let rex = ok(&app, "DescribeUsers", &[("EndUserIds.1", "rex")]).await;
    let number = rex["Users"][0]["Id"].as_i64().unwrap().to_string();
    let wrong_name = admin(
        &app,
        "SetUserPropertyValue",
        &[
            ("UserId", &number),
            ("UserName", "sue"),
            ("PropertyId", &pid),
            ("PropertyValueId", &red),
        ],
    )
    .await;
    assert_eds_error(&wrong_name, StatusCode::BAD_REQUEST, "InvalidParameter");
    let form = [
        ("UserId", number.as_str()),
        ("UserName", "rex"),
        ("PropertyId", &pid),
        ("PropertyValueId", &red),
    ];
    ok(&app, "SetUserPropertyValue", &form).await;
    ok(&app, "SetUserPropertyValue", &form).await;
    let used = ok(&app, "CheckUsedProperty", &[("PropertyId", &pid)]).await;
    assert_eq!(used["UseCount"], 1);
    let used = ok(
        &app,
        "CheckUsedPropertyValue",
        &[("PropertyId", &pid), ("PropertyValueId", &red)],
    )
    .await;
    assert_eq!(used["UseCount"], 1);
    let shown = ok(
        &app,
        "DescribeUsers",
        &[
            ("EndUserIds.1", "rex"),
            ("ShowExtras", r#"{"Properties":true}"#),
        ],
    )
    .await;
    assert_eq!(
        shown["Users"][0]["Properties"],
        json!([{"Key": "colour", "Value": "crimson"}])
    );
    let by_id = ok(
        &app,
        "FilterUsers",
        &[
            ("PropertyFilterParam.1.PropertyId", &pid),
            ("PropertyFilterParam.1.PropertyValueIds", &red),
        ],
    )
    .await;
    assert_eq!(ids(&by_id["Users"], "EndUserId"), ["rex"]);
    assert_eq!(
        by_id["Users"][0]["UserSetPropertiesModels"][0]["PropertyValues"][0]["PropertyValue"],
        "crimson"
    );
    let by_key = ok(
        &app,
        "FilterUsers",
        &[
            ("PropertyKeyValueFilterParam.1.PropertyKey", "colour"),
            ("PropertyKeyValueFilterParam.1.PropertyValues", "crimson"),
        ],
    )
    .await;
    assert_eq!(ids(&by_key["Users"], "EndUserId"), ["rex"]);
    let none = ok(
        &app,
        "FilterUsers",
        &[
            ("PropertyKeyValueFilterParam.1.PropertyKey", "colour"),
            ("PropertyKeyValueFilterParam.1.PropertyValues", "blue"),
        ],
    )
    .await;
    assert_eq!(none["Users"], json!([]));
    let ordered = ok(
        &app,
        "FilterUsers",
        &[(
            "OrderParam",
            r#"{"OrderField":"EndUserId","OrderType":"ASC"}"#,
        )],
    )
    .await;
    assert_eq!(ids(&ordered["Users"], "EndUserId"), ["admin", "rex", "sue"]);
    let descending = ok(&app, "FilterUsers", &[("MaxResults", "1000")]).await;
    assert_eq!(
        ids(&descending["Users"], "EndUserId"),
        ["sue", "rex", "admin"]
    );

    ok(
        &app,
        "DeleteUserPropertyValue",
        &[
            ("UserId", &number),
            ("PropertyId", &pid),
            ("PropertyValueId", &red),
        ],
    )
    .await;
    let used = ok(&app, "CheckUsedProperty", &[("PropertyId", &pid)]).await;
    assert_eq!(used["UseCount"], 0);
    let no_user = admin(
        &app,
        "DeleteUserPropertyValue",
        &[
            ("UserId", "999999"),
            ("PropertyId", &pid),
            ("PropertyValueId", &red),
        ],
    )
    .await;
    assert_eds_error(&no_user, StatusCode::NOT_FOUND, "EntityNotExist.User");
    ok(&app, "RemoveProperty", &[("PropertyId", &pid)]).await;
    let gone = admin(&app, "CheckUsedProperty", &[("PropertyId", &pid)]).await;
    assert_eds_error(&gone, StatusCode::NOT_FOUND, "EntityNotExist.Property");
    let bad_value = admin(
        &app,
        "CheckUsedPropertyValue",
        &[("PropertyId", "1"), ("PropertyValueId", "x")],
    )
    .await;
    assert_eds_error(&bad_value, StatusCode::BAD_REQUEST, "InvalidParameter");
}

#[tokio::test]
async fn resource_groups_are_kept_and_paged_by_number() {
    let app = spawn_app().await;
    let mut made = Vec::new();
    for name in ["desk-a", "desk-b", "lab"] {
        let body = ok(
            &app,
            "CreateResourceGroup",
            &[("ResourceGroupName", name), ("Platform", "AliyunConsole")],
        )
        .await;
        made.push(body["ResourceGroupId"].as_str().unwrap().to_owned());
    }
    assert!(made.iter().all(|id| id.starts_with("rg-")));
    let page = ok(
        &app,
        "DescribeResourceGroups",
        &[("PageNumber", "2"), ("PageSize", "2")],
    )
    .await;
    assert_eq!(page["TotalCount"], "3");
    assert_eq!(page["ResourceGroup"].as_array().unwrap().len(), 1);
    let named = ok(
        &app,
        "DescribeResourceGroups",
        &[("ResourceGroupName", "desk")],
    )
    .await;
    assert_eq!(named["TotalCount"], "2");
    assert_eq!(named["ResourceGroup"][0]["AuthCount"], "0");
    ok(
        &app,
        "DeleteResourceGroup",
        &[
            ("ResourceGroupId", &made[0]),
            ("ResourceGroupIds.1", &made[1]),
        ],
    )
    .await;
    let left = ok(&app, "DescribeResourceGroups", &[]).await;
    assert_eq!(ids(&left["ResourceGroup"], "ResourceGroupName"), ["lab"]);
    // An id that names nothing (gone, or another domain's) deletes nothing at all.
    let gone = admin(
        &app,
        "DeleteResourceGroup",
        &[
            ("ResourceGroupIds.1", &made[2]),
            ("ResourceGroupIds.2", &made[0]),
        ],
    )
    .await;
    assert_eds_error(&gone, StatusCode::NOT_FOUND, "EntityNotExist.ResourceGroup");
    let left = ok(&app, "DescribeResourceGroups", &[]).await;
    assert_eq!(ids(&left["ResourceGroup"], "ResourceGroupName"), ["lab"]);
    let nothing = admin(&app, "DeleteResourceGroup", &[]).await;
    assert_eds_error(&nothing, StatusCode::BAD_REQUEST, "MissingParameter");
    let unnamed = admin(&app, "CreateResourceGroup", &[]).await;
    assert_eds_error(&unnamed, StatusCode::BAD_REQUEST, "MissingParameter");
    let bad_page = admin(&app, "DescribeResourceGroups", &[("PageNumber", "0")]).await;
    assert_eds_error(&bad_page, StatusCode::BAD_REQUEST, "InvalidParameter");
    let (_, user_token) = app.user_with_role("tia", "user").await;
    let refused = call(
        &app,
        &user_token,
        "CreateResourceGroup",
        &[("ResourceGroupName", "x")],
    )
    .await;
    assert_eds_error(&refused, StatusCode::FORBIDDEN, "Forbidden");
}
