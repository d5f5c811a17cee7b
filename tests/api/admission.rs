//! The admission path shared by HTTP and WebSocket: persisted-query storage only after a
//! request was admitted and within bounds, limits counted with fragments expanded,
//! validation limits before the rate limit, the same caps and credentials on both
//! transports, response key order, metrics exposure and the Argon2 queue.

use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*};

async fn app_with(env: Vec<(&'static str, String)>) -> TestApp {
    spawn_app_on(Backend::fresh().await, Options { env, ..Default::default() }).await
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}

/// POSTs `body` anonymously; the status and the decoded answer.
async fn post(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = app.http.post(app.url("/graphql")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn pq(text: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(text) } })
}

/// Whether the server still knows `text` by its hash alone.
async fn known_by_hash(app: &TestApp, text: &str) -> bool {
    let (_, r) = post(app, None, json!({ "extensions": pq(text) })).await;
    r["errors"][0]["extensions"]["code"] != "PERSISTED_QUERY_NOT_FOUND"
}

fn aliases(n: usize) -> String {
    let fields: String = (0..n).map(|i| format!(" a{i}: __typename")).collect();
    format!("{{{fields} }}")
}

#[tokio::test]
async fn a_persisted_text_is_stored_only_after_its_request_passed_every_limit() {
    let app = app_with(vec![
        ("ZYGO_MAX_DOCUMENT_BYTES", "300".into()),
        ("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE", "5".into()),
    ])
    .await;
    // Too large: refused before parsing, and nothing kept (the flood parked ~1 MiB each).
    let big = format!("{{ __typename }} # {}", "x".repeat(400));
    let (_, r) = post(&app, None, json!({ "query": big, "extensions": pq(&big) })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "DOCUMENT_TOO_LARGE", "{r}");
    assert!(!known_by_hash(&app, &big).await, "an oversized text was stored");
    // Invalid: refused by validation, nothing kept.
    let invalid = "{ noSuchField }";
    let (_, r) = post(&app, None, json!({ "query": invalid, "extensions": pq(invalid) })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert!(!known_by_hash(&app, invalid).await, "an invalid text was stored");
    // Over the rate limit (six root fields, five tokens): refused, nothing kept.
    let costly = aliases(6);
    let (status, r) = post(&app, None, json!({ "query": costly, "extensions": pq(&costly) })).await;
    assert_eq!((status, r["errors"][0]["extensions"]["code"].as_str()), (429, Some("RATE_LIMITED")), "{r}");
    assert!(!known_by_hash(&app, &costly).await, "a rate-limited text was stored");
    // An admitted one is kept and runs by hash.
    let fine = "query Fine { __typename }";
    let (_, r) = post(&app, None, json!({ "query": fine, "extensions": pq(fine) })).await;
    assert_eq!(r["data"]["__typename"], "Query", "{r}");
    let (_, r) = post(&app, None, json!({ "extensions": pq(fine) })).await;
    assert_eq!(r["data"]["__typename"], "Query", "{r}");
}

#[tokio::test]
async fn the_persisted_query_store_is_bounded() {
    let app = app_with(vec![
        ("ZYGO_PERSISTED_QUERIES_MAX_ENTRIES", "2".into()),
        ("ZYGO_PERSISTED_QUERIES_BUDGET", "2".into()),
    ])
    .await;
    let texts: Vec<String> = (0..4).map(|i| format!("query Q{i} {{ __typename }}")).collect();
    for text in &texts {
        let (_, r) = post(&app, None, json!({ "query": text, "extensions": pq(text) })).await;
        assert_eq!(r["data"]["__typename"], "Query", "every one runs: {r}");
    }
    // In memory the least recently used go; in Redis the anonymous budget is spent.
    let mut kept = 0;
    for text in &texts {
        kept += usize::from(known_by_hash(&app, text).await);
    }
    assert!((1..=2).contains(&kept), "{kept} of 4 texts kept with a bound of 2");
}

#[tokio::test]
async fn anonymous_registration_of_new_texts_can_be_switched_off() {
    let app = app_with(vec![("ZYGO_PERSISTED_QUERIES_ANONYMOUS", "false".into())]).await;
    let text = "query Anonymous { __typename }";
    let (_, r) = post(&app, None, json!({ "query": text, "extensions": pq(text) })).await;
    assert_eq!(r["data"]["__typename"], "Query", "the operation still runs: {r}");
    assert!(!known_by_hash(&app, text).await, "an anonymous caller registered a text");
    // A signed-in caller still registers texts, which then run by hash for anyone.
    let s = app.verified_user("apq-user@example.com").await;
    let text = "query SignedIn { __typename }";
    let (_, r) = post(&app, Some(&s.access), json!({ "query": text, "extensions": pq(text) })).await;
    assert_eq!(r["data"]["__typename"], "Query", "{r}");
    assert!(known_by_hash(&app, text).await);
}

#[tokio::test]
async fn aliases_count_every_time_their_fragment_is_spread() {
    let app = app_with(vec![("ZYGO_MAX_ALIASES", "5".into())]).await;
    // Two aliases written, six run (the fragment's two under each of two aliased fields).
    let q = "query { a: viewer { ...F } b: viewer { ...F } } fragment F on Viewer { x: id y: id }";
    let r = app.gql(None, q, json!({})).await;
    assert_eq!(r.code(), "TOO_MANY_ALIASES", "{}", r.0);
    assert!(r.message().contains("6 aliases"), "{}", r.message());
}

#[tokio::test]
async fn the_cost_limit_counts_fields_behind_fragments() {
    let app = app_with(vec![("ZYGO_MAX_QUERY_COMPLEXITY", "60".into())]).await;
    let nested = "{ ... { ... { viewer { ... { id name email emailVerified createdAt avatarUrl } } } } }";
    app.gql(None, nested, json!({})).await.data();
    let wide: String = (0..8).map(|i| format!(" v{i}: viewer {{ ... {{ ... {{ id name email emailVerified createdAt avatarUrl locale }} }} }}")).collect();
    let r = app.gql(None, &format!("{{{wide} }}"), json!({})).await;
    assert_eq!(r.code(), "QUERY_TOO_COMPLEX", "{}", r.0);
    // A connection's page multiplies its selection also when it sits in a fragment spread
    // under an interface-typed field.
    let spread = r#"{ node(id: "VGVuYW50OjA") { ...T } } fragment T on Tenant { members(first: 100) { edges { node { id } } } }"#;
    let r = app.gql(None, spread, json!({})).await;
    assert_eq!(r.code(), "QUERY_TOO_COMPLEX", "{}", r.0);
}

#[tokio::test]
async fn the_rate_limit_charges_root_fields_behind_fragments() {
    let app = app_with(vec![("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE", "10".into())]).await;
    let twelve: String = (0..12).map(|i| format!(" f{i}: __typename")).collect();
    // Nested inline fragments used to cost 1…
    let nested = format!("{{ ... {{ ... {{ ... {{{twelve} }} }} }} }}");
    let (status, r) = post(&app, None, json!({ "query": nested })).await;
    assert_eq!(status, 429, "{r}");
    assert_eq!(r["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // …and a spread of a spread the number of spreads.
    let spread = format!(
        "mutation {{ ...G }} fragment G on Mutation {{ ...H }} fragment H on Mutation {{{} }}",
        (0..12)
            .map(|i| format!(r#" r{i}: resendVerification(email: "nobody{i}@example.com") {{ accepted }}"#))
            .collect::<String>()
    );
    let (status, r) = post(&app, None, json!({ "query": spread })).await;
    assert_eq!(status, 429, "{r}");
    // Nothing was spent on the refusals: ten root fields still fit the bucket.
    let (status, r) = post(&app, None, json!({ "query": aliases(10) })).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["data"]["a9"], "Query");
}

#[tokio::test]
async fn a_document_sent_again_is_measured_again_for_its_variables_and_its_operation() {
    let app =
        app_with(vec![("ZYGO_MAX_QUERY_COMPLEXITY", "60".into()), ("ZYGO_MAX_ALIASES", "3".into())]).await;
    let s = app.verified_user("documents-seen-before@example.com").await;
    let text = "query Page($n: Int) { viewer { tenants(first: $n) { edges { node { id name slug } } } } } \
                query Aliased { a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } }";
    let send = |operation: &'static str, n: i64| {
        post(
            &app,
            Some(&s.access),
            json!({ "query": text, "operationName": operation, "variables": { "n": n } }),
        )
    };
    // The instance keeps the parsed text once admitted; every round must answer as the first.
    for round in 0..3 {
        let (status, r) = send("Page", 1).await;
        assert_eq!(status, 200, "round {round}: {r}");
        assert!(r["data"]["viewer"]["tenants"]["edges"].is_array(), "round {round}: {r}");
        let (_, r) = send("Page", 50).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "round {round}: {r}");
        let (_, r) = send("Aliased", 1).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "TOO_MANY_ALIASES", "round {round}: {r}");
    }
}

#[tokio::test]
async fn a_document_over_a_validation_limit_gets_that_limit_not_a_rate_limit() {
    let app = app_with(vec![("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE", "5".into())]).await;
    // 20 aliases cost more than the whole bucket; the answer is still the alias limit, every time.
    for _ in 0..3 {
        let (status, r) = post(&app, None, json!({ "query": aliases(20) })).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "TOO_MANY_ALIASES", "{r}");
        assert_ne!(status, 429);
    }
    // And the refusals cost nothing.
    let (status, r) = post(&app, None, json!({ "query": aliases(5) })).await;
    assert_eq!(status, 200, "{r}");
}

#[tokio::test]
async fn a_signed_in_callers_refused_document_costs_nothing() {
    let app =
        app_with(vec![("ZYGO_RATE_LIMIT_PER_MINUTE", "5".into()), ("ZYGO_MAX_ALIASES", "3".into())]).await;
    let s = app.verified_user("refused-costs-nothing@example.com").await;
    let four = "{ a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } }";
    let (_, r) = post(&app, Some(&s.access), json!({ "query": four })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "TOO_MANY_ALIASES", "{r}");
    let complex = "{ viewer { tenants(first: 100) { edges { node { members(first: 100) { edges { node { id } } } } } } } }";
    let (_, r) = post(&app, Some(&s.access), json!({ "query": complex })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{r}");
    // The whole bucket is still there.
    for i in 0..5 {
        let (status, r) = post(&app, Some(&s.access), json!({ "query": "{ viewer { id } }" })).await;
        assert_eq!(status, 200, "request {i}: {r}");
    }
    let (status, _) = post(&app, Some(&s.access), json!({ "query": "{ viewer { id } }" })).await;
    assert_eq!(status, 429, "and then it is empty");
}

/// Runs `query` over a fresh graphql-transport-ws connection initialised with `token`; the
/// first `next` or `error` payload.
async fn ws_run(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut ws = WsClient::connect(app, "graphql-transport-ws").await;
    let ack = ws.init(token).await.expect("connection answered");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.subscribe("1", query, variables).await;
    let msg = ws.next_json().await.expect("an answer");
    match msg["type"].as_str() {
        Some("next") => msg["payload"].clone(),
        Some("error") => json!({ "errors": msg["payload"] }),
        _ => panic!("unexpected message {msg}"),
    }
}

#[tokio::test]
async fn websocket_operations_get_the_same_string_cap_as_http() {
    let app = app_with(vec![("ZYGO_MAX_STRING_LENGTH", "50".into())]).await;
    let r = ws_run(
        &app,
        None,
        "mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }",
        json!({ "input": { "email": "ws-long@example.com", "password": "x".repeat(60), "name": "L" } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "input.password", "{r}");
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("ZYGO_MAX_STRING_LENGTH"), "{r}");
}

#[tokio::test]
async fn an_api_key_authenticates_a_websocket_like_an_http_request() {
    let app = spawn_app().await;
    let owner = app.verified_user("ws-key@example.com").await;
    let tenant = app.create_tenant(&owner, "ws-key-org").await;
    let r = app
        .op_json::<CreateApiKey>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "name": "WS", "permissions": ["TENANT_READ"] } }),
        )
        .await;
    let secret = r.into_data().create_api_key.secret;
    let http = app.gql(Some(&secret), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await;
    let ws = ws_run(&app, Some(&secret), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await;
    assert!(ws.get("errors").is_none(), "{ws}");
    assert_eq!(ws["data"], http.data().clone());
    // A revoked key stops new operations on a connection it opened.
    let mut socket = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(socket.init(Some(&secret)).await.unwrap()["type"], "connection_ack");
    let keys =
        app.op::<TenantApiKeys>(Some(&owner.access), tenant_api_keys::Variables { id: tenant.clone() }).await;
    let key_id = keys.into_data().tenant.api_keys.expect("API keys").edges.remove(0).node.id;
    app.gql(Some(&owner.access), doc!("api_keys/RevokeApiKey"), json!({ "id": key_id })).await.data();
    socket.subscribe("2", doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await;
    let msg = socket.next_json().await.expect("an answer");
    let code = match msg["type"].as_str() {
        Some("next") => msg["payload"]["errors"][0]["extensions"]["code"].clone(),
        _ => msg["payload"][0]["extensions"]["code"].clone(),
    };
    assert_eq!(code, "UNAUTHENTICATED", "{msg}");
}

#[tokio::test]
async fn websocket_operations_draw_from_the_same_rate_limit_with_fragments_expanded() {
    let app = app_with(vec![("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE", "10".into())]).await;
    let twelve: String = (0..12).map(|i| format!(" f{i}: __typename")).collect();
    let r = ws_run(&app, None, &format!("{{ ... {{ ... {{{twelve} }} }} }}"), json!({})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{r}");
    assert!(r["errors"][0]["extensions"]["retryAfter"].as_u64().is_some(), "{r}");
}

#[tokio::test]
async fn response_keys_keep_the_order_of_the_selection_set() {
    let app = spawn_app().await;
    let query = "{ zeta: __typename alpha: __typename mid: __typename }";
    let body = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let order = |text: &str| {
        let at = |k: &str| text.find(&format!("\"{k}\"")).unwrap_or_else(|| panic!("{k} in {text}"));
        (at("zeta"), at("alpha"), at("mid"))
    };
    let (z, a, m) = order(&body);
    assert!(z < a && a < m, "HTTP answer not in selection order: {body}");
    // The same over WebSocket, read as the raw frame.
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(None).await;
    ws.subscribe("1", query, json!({})).await;
    let frame = loop {
        use futures::StreamExt;
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.socket.next())
            .await
            .expect("an answer within 10 s")
            .expect("open")
            .expect("a frame");
        let text = msg.into_text().unwrap().to_string();
        if text.contains("\"next\"") {
            break text;
        }
    };
    let (z, a, m) = order(&frame);
    assert!(z < a && a < m, "WebSocket answer not in selection order: {frame}");
}

fn production() -> Vec<(&'static str, String)> {
    vec![
        ("ZYGO_ENV", "production".into()),
        ("ZYGO_MAIL_URL", "smtp://127.0.0.1:1".into()),
        ("ZYGO_MASTER_KEY", "ab".repeat(32)),
    ]
}

#[tokio::test]
async fn metrics_are_not_public_in_production() {
    let prod = app_with(production()).await;
    assert_eq!(prod.http.get(prod.url("/metrics")).send().await.unwrap().status(), 404);

    // Behind a bearer token…
    let token = "metrics-token-0123456789";
    let mut env = production();
    env.push(("ZYGO_METRICS_TOKEN", token.into()));
    let guarded = app_with(env).await;
    assert_eq!(guarded.http.get(guarded.url("/metrics")).send().await.unwrap().status(), 401);
    let wrong = guarded.http.get(guarded.url("/metrics")).bearer_auth("metrics-token-wrong-000").send();
    assert_eq!(wrong.await.unwrap().status(), 401);
    let ok = guarded.http.get(guarded.url("/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("zygo_"), "Prometheus text");

    // …or on a listener of its own.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut env = production();
    env.push(("ZYGO_METRICS_LISTEN", format!("127.0.0.1:{port}")));
    let separate = app_with(env).await;
    assert_eq!(separate.http.get(separate.url("/metrics")).send().await.unwrap().status(), 404);
    let r = separate.http.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("zygo_"), "Prometheus text");
}

#[tokio::test]
async fn a_burst_of_sign_ins_beyond_the_argon2_queue_is_refused_with_rate_limited() {
    let app = app_with(vec![
        ("ZYGO_PASSWORD_HASH_CONCURRENCY", "1".into()),
        ("ZYGO_PASSWORD_HASH_QUEUE", "1".into()),
    ])
    .await;
    // Sixteen sign-ins at once, each costing an Argon2 check: one runs, one waits, the rest
    // are refused at once instead of piling up 19 MiB each.
    let attempts = (0..16).map(|i| {
        let app = &app;
        async move {
            let q = format!(
                r#"mutation {{ logIn(input: {{ email: "burst{i}@example.com", password: "wrong-password" }}) {{ tokens {{ accessToken }} }} }}"#
            );
            app.gql(None, &q, json!({})).await
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let codes: Vec<String> = answers.iter().map(|r| r.code()).collect();
    let limited = answers.iter().filter(|r| r.code() == "RATE_LIMITED").count();
    assert!(limited >= 1, "no attempt was refused: {codes:?}");
    assert!(limited <= 14, "at least the running and the waiting one were answered: {codes:?}");
    for r in answers.iter().filter(|r| r.code() == "RATE_LIMITED") {
        assert!(r.0["errors"][0]["extensions"]["retryAfter"].as_u64().is_some(), "{}", r.0);
    }
    // The gate is open again afterwards.
    let r = app
        .gql(
            None,
            r#"mutation { logIn(input: { email: "after@example.com", password: "wrong-password" }) { tokens { accessToken } } }"#,
            json!({}),
        )
        .await;
    assert_ne!(r.code(), "RATE_LIMITED", "{}", r.0);
}
