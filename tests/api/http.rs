use serde_json::{Value, json};

use crate::{doc, helpers::*};

#[tokio::test]
async fn health_readiness_and_metrics_endpoints_answer() {
    let app = spawn_app().await;
    let h = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "up");

    app.gql(None, doc!("identity/Viewer"), json!({})).await.data();
    app.gql(None, "{ nope }", json!({})).await;
    let m = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for name in [
        "zygo_graphql_requests_total{operation_type=\"query\",outcome=\"ok\"}",
        "zygo_graphql_requests_total{operation_type=\"query\",outcome=\"error\"}",
        "zygo_graphql_request_duration_seconds_bucket",
        "zygo_websockets_open",
        "zygo_subscriptions_active",
        "zygo_db_pool_connections{state=\"idle\"}",
        "zygo_db_statements_total",
    ] {
        assert!(m.contains(name), "missing {name} in\n{m}");
    }
}

#[tokio::test]
async fn graphiql_is_served() {
    let app = spawn_app().await;
    let page = app.http.get(app.url("/graphiql")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    // Bundled with the web app and served under its strict policy: no third-party origin.
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unpkg") && !csp.contains("https:"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("graphiql") && html.contains("/graphql/ws"));
    assert!(!html.contains("unpkg") && !html.contains("https://"), "{html}");
    // The built page is only served at /graphiql.
    assert_eq!(app.http.get(app.url("/graphiql.html")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn graphiql_without_a_built_frontend_says_how_to_build_it() {
    let empty = std::env::temp_dir().join(format!("zygo-no-frontend-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&empty).unwrap();
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_FRONTEND_DIR", empty.display().to_string())], ..Default::default() },
    )
    .await;
    let page = app.http.get(app.url("/graphiql")).send().await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("npm run build --prefix frontend"));
}

#[tokio::test]
async fn queries_work_over_get_but_mutations_get_405() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/graphql")).query(&[("query", "{ viewer { id } }")]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body["data"]["viewer"].is_null());

    let r = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { logOut { success } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
}

#[tokio::test]
async fn garbage_gets_a_graphql_error_never_a_500() {
    let app = spawn_app().await;
    let r = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");

    let r = app.gql(None, "{ viewer { name ", json!({})).await;
    assert_eq!(r.code(), "GRAPHQL_PARSE_FAILED");
    let r = app.gql(None, "{ noSuchField }", json!({})).await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    let r = app.gql(None, doc!("identity/SignUp"), json!({ "input": { "email": 5 } })).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn errors_carry_a_code_and_the_request_id() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "mutation { logOut { success } }" }))
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], request_id.as_str());
}

#[tokio::test]
async fn the_graphql_response_media_type_is_negotiated() {
    let app = spawn_app().await;
    let q = json!({ "query": "{ viewer { id } }" });
    let plain = app.http.post(app.url("/graphql")).json(&q).send().await.unwrap();
    assert_eq!(plain.headers()["content-type"], "application/json");
    let gql = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json, application/json;q=0.9")
        .json(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(gql.headers()["content-type"], "application/graphql-response+json");
    assert_eq!(gql.status(), 200);
    let invalid = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ nope }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400, "a request that cannot execute is a 4xx with the GraphQL media type");
    let body: serde_json::Value = invalid.json().await.unwrap();
    assert!(body.get("data").is_none(), "it never executed: no data entry: {body}");
    // A root field that executed and failed is a field error: 200 with `data: null`.
    let failed = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({
            "query": "mutation { logIn(input: { email: \"nobody@example.com\", password: \"wrong password\" }) { tokens { accessToken } } }"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 200);
    let body: serde_json::Value = failed.json().await.unwrap();
    assert!(body["data"].is_null() && body.get("data").is_some(), "{body}");
    assert_eq!(body["errors"][0]["path"][0], "logIn", "{body}");
}

#[test]
fn bad_configuration_stops_start_up_naming_the_variable() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zygo"))
        .env("ZYGO_LISTEN", "not-an-address")
        .env("ZYGO_DATA_DIR", std::env::temp_dir().join("zygo-bad-config"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("ZYGO_LISTEN"), "{stderr}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zygo"))
        .env("ZYGO_ENV", "production")
        .env("ZYGO_MAIL_URL", "smtp://localhost")
        .env_remove("ZYGO_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ZYGO_JWT_SECRET"));
}
