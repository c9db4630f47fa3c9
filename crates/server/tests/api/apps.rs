//! JWT apps: registration, and the jwt-bearer grant with good and bad assertions.
//! The keys below were made for these tests only.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, NewUser, TestApp};

const RSA_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDoxqtlSSdfrAwn\nYFYDi2dU4n2snxW2fKBljJQhYH66VwJ0kKgEygZTUCFlzHqEiy6voLXmksZE2F+u\n0arlCxr9l+FzLlzQxb7Kjb1OoXXYUHfMMwif8S0tp3Ft7ahFEmwcGMxXCibALNL0\njrsvGFmBaErooS6nI57UjQhFMiHqMH5/hYFTuei+X80TFdbKZVuHEWh5a1xZPQa3\noC9BJMXqwae7be2blR3KUhuWQQ2ChxToJ1zlFpzvPVwHneRkDCJcCjkOkIWnNNH/\nVMXo8ySjJnXgVRVEcuNJ0bh44jW0gyCzviMM1oCEdAWO+URgB3NwmMl+svSeOSeD\nUcOHmhDrAgMBAAECggEAaDMu3Fs/5eLlWecU+ec4bVYp/dEE7jihsHOah8pjUFTM\nw5NRszsgU8EmAiTjn1uSnYnqg3mmiYD2bBJtVrR+85A+msnhQI+UlaWXXZCHaTq0\nNdOOg9J5b9tpulTNo4XYoUc0ia4ApLwr/s+52R4kSvp9td8ZPDaEzg8H6bnEVsld\nzb3Wb6phO59uhiTcwfyoGZeQZsZm/jBhS3yq2x+3ee6CSdJFzJ/wCrC1I1Izs18k\nG75xLHa7tIGRIWYkO6eFsIpxSQWKafKOucgzSqxPVsLwZP9DXRMsQ+l9I4/gAYzu\nxuZR27bPt/g+bD6SCVnSEOW2dJS4oEmCaAVXT1f+eQKBgQD9+2Oc9lADTgsBO1Ae\n88aSL82nRdQ+12mxQUMdlUY1i8NTYACMuU0s4tk+OAPAzu9R9Qvt/kcYzQaRawkE\nWntsM/hmRYavKYN7P3WsN8L7cLLyPeWlPRhdhc+Om9x22Q72YqlQfjbLva2p+svZ\nm9ks8+Ipeq8uIHchpzSC9AndbwKBgQDqoCWFRXQCwjz0fj0DvXENQ2gklvu0OHhQ\nxw4M6tvT0ZysQwYiMidwXK80Q2CWjhAZoLft5QFOZ4qKL8FEuMoFqQPoGWzv8yFD\ng5d3a9GGfy2ZQjBBxK5O8DVt7VlYm93anP1TMr1zLwSkTG5I+HOryHwYcXLAzTwa\n13clgHe+RQKBgQCAuKsIvzFYK3KaYjQ+K7DFIGMrVtG2M7jGdFwOnzwhIT+SfwJo\nT/XUPPh7dyo3yukx8W7lZM0lvauJgeTlBvKsqT5Inw4esnyHt2btLKmug7S93y8H\nawpxQ8Mo9MdsmJ/jsac8O2uMIQrmLkyocjtEdCp4eUxVpXCbZsHPaN2jEwKBgDAb\n0lW3XghKx7DiSaSArbOohKwsAUR85764chsX9SdDrbpsq89LNWcGui4fOqjkTEzU\n9aHj+RaYiIG5NQngUhxDAbgPrpSs578uNlqYUwge/7yTI834hD1PZ8U4i79thloT\nIqZymwIJPAxsV5jCyQUKQNfKO1tpOc/PKnEYHHV5AoGAYztzCBCoSEg59Ri0XmtS\naR2g/VHY0kMg/9ewEyv1l3eu04BQwjKFudWTCNEZmM+n+VEKKw/7U7YqEoZbq2Bs\nikKApLEkrprcNvD+ItCAN63fnCav40WaMS4stGpGZBdkLMvnTh/ErosofuCHNun3\nBWb0spEeP54d3ysN1b7OzXI=\n-----END PRIVATE KEY-----";
const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6MarZUknX6wMJ2BWA4tn\nVOJ9rJ8VtnygZYyUIWB+ulcCdJCoBMoGU1AhZcx6hIsur6C15pLGRNhfrtGq5Qsa\n/Zfhcy5c0MW+yo29TqF12FB3zDMIn/EtLadxbe2oRRJsHBjMVwomwCzS9I67LxhZ\ngWhK6KEupyOe1I0IRTIh6jB+f4WBU7novl/NExXWymVbhxFoeWtcWT0Gt6AvQSTF\n6sGnu23tm5UdylIblkENgocU6Cdc5Rac7z1cB53kZAwiXAo5DpCFpzTR/1TF6PMk\noyZ14FUVRHLjSdG4eOI1tIMgs74jDNaAhHQFjvlEYAdzcJjJfrL0njkng1HDh5oQ\n6wIDAQAB\n-----END PUBLIC KEY-----";
pub(crate) const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYWZ/l+hrWEnn9sBN\n//yjnF4n3EbDxhm9FW9X4mGSEvahRANCAASrYJs63sTySVKBnp4usT1tl/BsSilN\nwCg1h3NF861abikhtG++BQro9YDumr8EL6rCBoXHLECBEUe2SbwVFY7z\n-----END PRIVATE KEY-----";
pub(crate) const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq2CbOt7E8klSgZ6eLrE9bZfwbEop\nTcAoNYdzRfOtWm4pIbRvvgUK6PWA7pq/BC+qwgaFxyxAgRFHtkm8FRWO8w==\n-----END PUBLIC KEY-----";
const EC_PUBLIC_JWK: &str = r#"{"kty": "EC", "crv": "P-256", "x": "q2CbOt7E8klSgZ6eLrE9bZfwbEopTcAoNYdzRfOtWm4", "y": "KSG0b74FCuj1gO6avwQvqsIGhccsQIERR7ZJvBUVjvM"}"#;
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn jti() -> String {
    roster_server::service::random_hex(12)
}

/// An assertion of app `client_id` about `sub`, signed with `pem`.
pub(crate) fn assertion(client_id: &str, claims: Value, alg: Algorithm, pem: &str) -> String {
    let mut body = json!({"iss": client_id, "aud": "default", "jti": jti(),
                          "exp": now() + 60, "iat": now() - 5});
    body.as_object_mut()
        .unwrap()
        .extend(claims.as_object().unwrap().clone());
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    encode(&Header::new(alg), &body, &key).unwrap()
}

pub(crate) async fn exchange(
    app: &TestApp,
    client_id: &str,
    assertion: &str,
) -> (StatusCode, Value) {
    app.token_grant(&[
        ("grant_type", JWT_BEARER),
        ("client_id", client_id),
        ("assertion", assertion),
    ])
    .await
}

async fn register(app: &TestApp, public_key: &str, algorithm: &str) -> String {
    let (status, created) = app
        .admin(
            "/v2/app/create",
            json!({"app_name": "sync", "public_key": public_key, "algorithm": algorithm}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["client_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn apps_are_registered_by_superadmins_only() {
    let app = spawn_app().await;
    let client_id = register(&app, RSA_PUBLIC, "RS256").await;
    let (status, got) = app
        .admin("/v2/app/get", json!({"client_id": client_id}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["algorithm"], "RS256");
    let (_, list) = app.admin("/v2/app/list", json!({})).await;
    assert_eq!(list["items"][0]["client_id"], json!(client_id));
    let (status, renamed) = app
        .admin(
            "/v2/app/update",
            json!({"client_id": client_id, "app_name": "renamed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["app_name"], "renamed");

    let (_, admin) = app.user_with_role("ada", "admin").await;
    let answer = app
        .call(
            "/v2/app/create",
            &admin,
            json!({"app_name": "x", "public_key": RSA_PUBLIC}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .admin(
            "/v2/app/create",
            json!({"app_name": "x", "public_key": "not a key"}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterWrongFormat",
    );
    let answer = app
        .admin(
            "/v2/app/create",
            json!({"app_name": "x", "public_key": RSA_PUBLIC, "algorithm": "HS256"}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    let (status, _) = app
        .admin("/v2/app/delete", json!({"client_id": client_id}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app
        .admin("/v2/app/get", json!({"client_id": client_id}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.App");
}

#[tokio::test]
async fn user_assertions_are_exchanged_once_for_the_users_token() {
    // `default.roster.test` names the default domain under the operator's base domain.
    let app = crate::helpers::spawn_with_base_domain("roster.test").await;
    let client_id = register(&app, RSA_PUBLIC, "RS256").await;
    app.by_admin().user(NewUser::new("jwt-user")).await;
    let good = assertion(
        &client_id,
        json!({"sub": "jwt-user", "sub_type": "user"}),
        Algorithm::RS256,
        RSA_PRIVATE,
    );
    let (status, token) = exchange(&app, &client_id, &good).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["user_id"], "jwt-user");
    let (status, me) = app
        .call(
            "/v2/user/get",
            token["access_token"].as_str().unwrap(),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], "jwt-user");

    let answer = exchange(&app, &client_id, &good).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AssertionReplayed");
    let claims = |extra: Value| {
        let mut c = json!({"sub": "jwt-user", "sub_type": "user"});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let expired = assertion(
        &client_id,
        claims(json!({"exp": now() - 600})),
        Algorithm::RS256,
        RSA_PRIVATE,
    );
    assert_error(
        &exchange(&app, &client_id, &expired).await,
        StatusCode::UNAUTHORIZED,
        "AssertionExpired",
    );
    let short_jti = assertion(
        &client_id,
        claims(json!({"jti": "short"})),
        Algorithm::RS256,
        RSA_PRIVATE,
    );
    assert_error(
        &exchange(&app, &client_id, &short_jti).await,
        StatusCode::UNAUTHORIZED,
        "InvalidAssertion",
    );
    let forged = assertion(&client_id, claims(json!({})), Algorithm::ES256, EC_PRIVATE);
    assert_error(
        &exchange(&app, &client_id, &forged).await,
        StatusCode::UNAUTHORIZED,
        "InvalidAssertion",
    );
    let unknown = assertion(
        "no-such-app",
        claims(json!({})),
        Algorithm::RS256,
        RSA_PRIVATE,
    );
    assert_error(
        &exchange(&app, "no-such-app", &unknown).await,
        StatusCode::UNAUTHORIZED,
        "InvalidClient",
    );
    let stranger = assertion(
        &client_id,
        json!({"sub": "nobody", "sub_type": "user"}),
        Algorithm::RS256,
        RSA_PRIVATE,
    );
    assert_error(
        &exchange(&app, &client_id, &stranger).await,
        StatusCode::UNAUTHORIZED,
        "InvalidCredentials",
    );
    let answer = app
        .token_grant(&[("grant_type", JWT_BEARER), ("client_id", &client_id)])
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterMissing");

    // The audience must be the domain the request names.
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let elsewhere = assertion(
        &client_id,
        claims(json!({"aud": "other"})),
        Algorithm::RS256,
        RSA_PRIVATE,
    );
    let response = app
        .http
        .post(app.url("/v2/oauth/token"))
        .header("host", format!("default.roster.test:{port}"))
        .form(&[
            ("grant_type", JWT_BEARER),
            ("client_id", &client_id),
            ("assertion", &elsewhere),
        ])
        .send()
        .await
        .unwrap();
    assert_error(
        &crate::helpers::read(response).await,
        StatusCode::UNAUTHORIZED,
        "InvalidAudience",
    );

    // auto_create makes the user the assertion names.
    let new_user = assertion(
        &client_id,
        json!({"sub": "made-by-app", "sub_type": "user", "auto_create": true}),
        Algorithm::RS256,
        RSA_PRIVATE,
    );
    let (status, token) = exchange(&app, &client_id, &new_user).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let (_, created) = app
        .admin("/v2/user/get", json!({"user_id": "made-by-app"}))
        .await;
    assert_eq!(created["creator"], format!("app:{client_id}"));
}

#[tokio::test]
async fn service_assertions_yield_superadmin_tokens_until_the_app_is_disabled() {
    let app = spawn_app().await;
    let client_id = register(&app, EC_PUBLIC, "ES256").await;
    let service = assertion(
        &client_id,
        json!({"sub": "default", "sub_type": "service"}),
        Algorithm::ES256,
        EC_PRIVATE,
    );
    let (status, token) = exchange(&app, &client_id, &service).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["role"], "superadmin");
    let access = token["access_token"].as_str().unwrap().to_owned();
    let (status, created) = app
        .call("/v2/user/create", &access, json!({"user_id": "by-service"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["creator"], format!("app:{client_id}"));

    app.admin(
        "/v2/app/update",
        json!({"client_id": client_id, "status": "disabled"}),
    )
    .await;
    let answer = app.call("/v2/user/list", &access, json!({})).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    let again = assertion(
        &client_id,
        json!({"sub": "default", "sub_type": "service"}),
        Algorithm::ES256,
        EC_PRIVATE,
    );
    assert_error(
        &exchange(&app, &client_id, &again).await,
        StatusCode::UNAUTHORIZED,
        "InvalidClient",
    );
}

#[tokio::test]
async fn apps_may_register_a_jwk_instead_of_a_pem() {
    let app = spawn_app().await;
    let client_id = register(&app, EC_PUBLIC_JWK, "ES256").await;
    let service = assertion(
        &client_id,
        json!({"sub": "default", "sub_type": "service"}),
        Algorithm::ES256,
        EC_PRIVATE,
    );
    let (status, token) = exchange(&app, &client_id, &service).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    // A JWK of another kind than the algorithm is refused.
    let answer = app
        .admin(
            "/v2/app/create",
            json!({"app_name": "x", "public_key": EC_PUBLIC_JWK, "algorithm": "RS256"}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterWrongFormat",
    );
}
