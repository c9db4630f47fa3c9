//! Browsing the API: the home page at `GET /`, the reference pages (Swagger UI, served from
//! the binary) and the OpenAPI documents they show.

use std::collections::BTreeSet;

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{read, spawn_app, TestApp};

const EDS_VERSION: &str = "2021-03-08";

/// The values of `attribute="..."` in `html`.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let marker = format!("{attribute}=\"");
    html.split(&marker)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// `GET path`: status, content type, CSP and the body as text.
async fn fetch(app: &TestApp, path: &str) -> (StatusCode, String, String, String) {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, csp) = (header(CONTENT_TYPE), header(CONTENT_SECURITY_POLICY));
    (
        response.status(),
        content_type,
        csp,
        response.text().await.unwrap(),
    )
}

/// A CSP that lets a page load only from this server: no origin, no wildcard, nothing
/// unsafe.
fn assert_self_only(csp: &str) {
    assert!(csp.contains("default-src 'none'"), "{csp}");
    for forbidden in ["http:", "https:", "*", "unsafe-inline", "unsafe-eval"] {
        assert!(!csp.contains(forbidden), "{forbidden} in {csp}");
    }
}

/// Absolute `http://` or `https://` URLs in `text`.
fn absolute_urls(text: &str) -> Vec<&str> {
    ["http://", "https://"]
        .iter()
        .flat_map(|scheme| text.match_indices(scheme))
        .map(|(at, _)| &text[at..text.len().min(at + 60)])
        .collect()
}

#[tokio::test]
async fn the_home_page_links_the_reference_the_documents_and_the_health_endpoints() {
    let app = spawn_app().await;
    let (status, content_type, csp, html) = fetch(&app, "/").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_self_only(&csp);
    assert!(
        !csp.contains("script-src"),
        "the home page runs no script: {csp}"
    );
    assert!(html.contains("<title>Roster"), "{html}");
    assert!(html.contains(env!("CARGO_PKG_VERSION")), "{html}");
    // Where the sign-in page and the console will be linked, once they exist.
    assert!(html.contains("sign-in page"), "{html}");
    assert!(
        absolute_urls(&html).is_empty(),
        "{:?}",
        absolute_urls(&html)
    );
    assert!(!html.contains("<script"), "{html}");

    let links: BTreeSet<String> = attribute_values(&html, "href").into_iter().collect();
    for expected in [
        "/docs/",
        "/docs/eds-user/",
        "/openapi.json",
        "/openapi/eds-user.json",
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/assets/site.css",
    ] {
        assert!(links.contains(expected), "{expected} not linked: {links:?}");
    }
    for link in &links {
        let (status, content_type, _, _) = fetch(&app, link).await;
        assert_eq!(status, StatusCode::OK, "{link}");
        if link.ends_with(".css") {
            assert!(
                content_type.starts_with("text/css"),
                "{link}: {content_type}"
            );
        }
    }
}

#[tokio::test]
async fn a_get_naming_an_eds_user_action_is_still_an_eds_user_call() {
    let app = spawn_app().await;
    // `Action` in the query: eds-user's answer, as before the home page.
    let (status, body) = read(
        app.http
            .get(app.url("/?Action=DescribeOrgs"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Code"], "MissingParameter", "{body}");
    assert!(
        body["Message"].as_str().unwrap().contains("Version"),
        "{body}"
    );
    // Even an empty `Action` is eds-user's (and missing).
    let (status, body) = read(app.http.get(app.url("/?Action=")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Code"], "MissingParameter", "{body}");

    // A whole call over GET works, the action in the query or in `x-acs-action`.
    let query = format!("/?Action=DescribeOrgs&Version={EDS_VERSION}&SignatureType=BEARERTOKEN");
    let (status, body) = read(
        app.http
            .get(app.url(&query))
            .header("x-acs-bearer-token", &app.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["Orgs"].is_array(), "{body}");
    assert!(body["RequestId"].as_str().is_some_and(|r| !r.is_empty()));
    let (status, body) = read(
        app.http
            .get(app.url("/?SignatureType=BEARERTOKEN"))
            .header("x-acs-action", "DescribeOrgs")
            .header("x-acs-version", EDS_VERSION)
            .header("x-acs-bearer-token", &app.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["Orgs"].is_array(), "{body}");

    // POST / stays eds-user's, action or not.
    let (status, body) = read(app.http.post(app.url("/")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Code"], "MissingParameter", "{body}");
}

/// One reference page: its HTML, the files it loads, the documents its initializer opens.
async fn check_reference_page(app: &TestApp, page: &str, first_document: &str) {
    let (status, content_type, csp, html) = fetch(app, page).await;
    assert_eq!(status, StatusCode::OK, "{page}: {html}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_self_only(&csp);
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(
        absolute_urls(&html).is_empty(),
        "{:?}",
        absolute_urls(&html)
    );

    let files: Vec<String> = attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
        .collect();
    assert!(files.len() >= 5, "{files:?}");
    for file in &files {
        assert!(!file.contains("//"), "{page} loads {file} from elsewhere");
        let url = format!("{page}{}", file.trim_start_matches("./"));
        let (status, content_type, csp, body) = fetch(app, &url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert_self_only(&csp);
        let expected = match file.rsplit('.').next() {
            Some("js") => "javascript",
            Some("css") => "text/css",
            Some("png") => "image/png",
            _ => "",
        };
        assert!(content_type.contains(expected), "{url}: {content_type}");
        // No CDN anywhere in what the page runs.
        for cdn in ["unpkg.com", "jsdelivr", "cdnjs", "googleapis"] {
            assert!(!body.contains(cdn), "{url} names {cdn}");
        }
        if file.ends_with("swagger-initializer.js") {
            // The configuration: documents of this server only, and no online validator.
            assert!(absolute_urls(&body).is_empty(), "{body}");
            assert!(body.contains(r#""validatorUrl": "none""#), "{body}");
            assert!(
                body.contains(&format!(r#""urls.primaryName": "{first_document}""#)),
                "{body}"
            );
            for document in ["/openapi.json", "/openapi/eds-user.json"] {
                assert!(body.contains(&format!(r#""url": "{document}""#)), "{body}");
                let (status, content_type, _, _) = fetch(app, document).await;
                assert_eq!(status, StatusCode::OK, "{document}");
                assert!(content_type.starts_with("application/json"));
            }
        }
    }
    assert!(
        files.iter().any(|f| f.ends_with("swagger-initializer.js")),
        "{files:?}"
    );
}

#[tokio::test]
async fn the_reference_pages_load_everything_from_this_server() {
    let app = spawn_app().await;
    check_reference_page(&app, "/docs/", "PDS and KooDrive").await;
    check_reference_page(&app, "/docs/eds-user/", "eds-user").await;
    // Without the slash, a redirect to the page.
    for (path, page) in [("/docs", "/docs/"), ("/docs/eds-user", "/docs/eds-user/")] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.url().path(), page);
    }
    let (status, _, _, _) = fetch(&app, "/docs/no-such-file.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every `$ref` of `value` names a schema of `doc`.
fn assert_refs_resolve(doc: &Value, value: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let pointer = target.trim_start_matches('#');
                assert!(doc.pointer(pointer).is_some(), "dangling {target}");
            }
            map.values().for_each(|v| assert_refs_resolve(doc, v));
        }
        Value::Array(items) => items.iter().for_each(|v| assert_refs_resolve(doc, v)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_covers_koodrive_the_operational_endpoints_and_the_auth_schemes() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_refs_resolve(&doc, &doc);
    let paths = doc["paths"].as_object().unwrap();

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    for scheme in ["pds_signature", "koodrive_app"] {
        assert_eq!(schemes[scheme]["type"], "apiKey", "{scheme}");
        assert_eq!(schemes[scheme]["in"], "header", "{scheme}");
        assert_eq!(schemes[scheme]["name"], "Authorization", "{scheme}");
    }
    assert!(schemes["pds_signature"]["description"]
        .as_str()
        .unwrap()
        .contains("HMAC-SHA1"));
    assert!(schemes["koodrive_app"]["description"]
        .as_str()
        .unwrap()
        .contains("HMAC-SHA256"));

    // KooDrive: every route, with the envelope and both of its auth schemes.
    let koodrive = [
        ("post", "/koodrive/ose/v1/users"),
        ("get", "/koodrive/ose/v1/users/{userId}"),
        ("put", "/koodrive/ose/v1/users/{userId}"),
        ("delete", "/koodrive/ose/v1/users/{userId}"),
        ("get", "/koodrive/ose/v1/userList"),
        ("get", "/koodrive/ose/v1/users/count"),
        ("post", "/koodrive/ose/v1/departments"),
        ("get", "/koodrive/ose/v1/departments/{id}"),
        ("get", "/koodrive/ose/v1/departmentList"),
        ("post", "/koodrive/ose/v1/usergroups"),
        ("get", "/koodrive/ose/v1/usergroups"),
        ("delete", "/koodrive/ose/v1/usergroup/{id}"),
        ("post", "/koodrive/ose/v1/usergroups/{id}/members/batchAdd"),
        ("post", "/koodrive/ose/v1/space/{ownerId}"),
        ("get", "/koodrive/ose/v1/space/teamList"),
        ("get", "/koodrive/ose/v2/space/{owner_id}"),
    ];
    for (method, path) in koodrive {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        let security = operation["security"].as_array().unwrap();
        assert!(security.contains(&serde_json::json!({"bearer": []})));
        assert!(security.contains(&serde_json::json!({"koodrive_app": []})));
        let answer = serde_json::to_string(&operation["responses"]["200"]).unwrap();
        assert!(answer.contains("#/components/schemas/Envelope"), "{answer}");
    }
    let envelope = &doc["components"]["schemas"]["Envelope"];
    assert_eq!(envelope["properties"]["code"]["type"], "integer");
    // Where the payload sits: in `data` (GetUser), beside `code` (GetUserList).
    let get_user = serde_json::to_string(
        &doc["paths"]["/koodrive/ose/v1/users/{userId}"]["get"]["responses"]["200"],
    )
    .unwrap();
    assert!(
        get_user.contains("\"data\"") && get_user.contains("UserInfo"),
        "{get_user}"
    );
    let user_list = serde_json::to_string(
        &doc["paths"]["/koodrive/ose/v1/userList"]["get"]["responses"]["200"],
    )
    .unwrap();
    assert!(
        !user_list.contains("\"data\"") && user_list.contains("UserList"),
        "{user_list}"
    );

    // Every PDS operation that takes a token takes an access-key signature too.
    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/v2/")) {
        let security = item["post"]["security"].as_array();
        let Some(security) = security else { continue };
        if security.contains(&serde_json::json!({"bearer": []})) {
            assert!(
                security.contains(&serde_json::json!({"pds_signature": []})),
                "{path}: {security:?}"
            );
        }
    }

    // The operational endpoints: public, and each answers as documented.
    for path in [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/openapi.json",
    ] {
        let operation = &doc["paths"][path]["get"];
        assert_eq!(operation["security"], serde_json::json!([]), "{path}");
        let (status, body) = app.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(operation["responses"]["200"].is_object(), "{path}");
        if path == "/.well-known/jwks.json" {
            assert!(body["keys"][0]["kid"].is_string(), "{body}");
        }
        // A method they do not serve is a 405 naming the one they do.
        let response = app.http.post(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("GET"));
    }
}

#[tokio::test]
async fn the_eds_user_document_lists_every_action_the_server_serves() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/openapi/eds-user.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_refs_resolve(&doc, &doc);
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let operation = &item["post"];
        let action = operation["operationId"].as_str().unwrap().to_owned();
        assert_eq!(path, &format!("/#Action={action}"));
        let action_param = operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Action")
            .unwrap();
        assert_eq!(action_param["schema"]["enum"], serde_json::json!([action]));
        assert!(operation["tags"][0].is_string());
        documented.insert(action);
    }
    let served: BTreeSet<String> = roster_server::http::eds::ACTIONS
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    assert_eq!(documented, served);
    assert_eq!(documented.len(), 36);

    // And the server answers each documented action as one it knows (it asks for
    // credentials), unlike an action it does not have.
    for action in documented
        .iter()
        .map(String::as_str)
        .chain(["NoSuchAction"])
    {
        let (status, body) = read(
            app.http
                .post(app.url(&format!("/?Action={action}&Version={EDS_VERSION}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        if action == "NoSuchAction" {
            assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
            assert_eq!(body["Code"], "InvalidAction.NotFound", "{body}");
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{action}: {body}");
            assert_eq!(body["Code"], "MissingParameter", "{action}: {body}");
        }
    }
}
