//! Query limits, CSRF refusal and security headers: rejected before execution, each with its
//! own code.

use serde_json::{Value, json};

use crate::helpers::*;

async fn app_with(env: Vec<(&'static str, String)>) -> TestApp {
    spawn_app_on(Backend::fresh().await, Options { env, ..Default::default() }).await
}

#[tokio::test]
async fn depth_complexity_aliases_and_size_limits_reject_before_execution() {
    let app = app_with(vec![
        ("ZYGO_MAX_QUERY_DEPTH", "3".into()),
        ("ZYGO_MAX_QUERY_COMPLEXITY", "8".into()),
        ("ZYGO_MAX_ALIASES", "2".into()),
        ("ZYGO_MAX_DOCUMENT_BYTES", "300".into()),
    ])
    .await;
    let deep = app.gql(None, "{ viewer { tenants { edges { node { id } } } } }", json!({})).await;
    assert_eq!(deep.code(), "QUERY_TOO_DEEP");
    let complex = app
        .gql(
            None,
            "{ viewer { id name email emailVerified createdAt avatarUrl locale timeZone } }",
            json!({}),
        )
        .await;
    assert_eq!(complex.code(), "QUERY_TOO_COMPLEX");
    let aliases = app.gql(None, "{ a: viewer { id } b: viewer { id } c: viewer { id } }", json!({})).await;
    assert_eq!(aliases.code(), "TOO_MANY_ALIASES");
    assert!(aliases.message().contains("ZYGO_MAX_ALIASES"));
    let big = format!("{{ viewer {{ id }} }} # {}", "x".repeat(400));
    let r = app.gql(None, &big, json!({})).await;
    assert_eq!(r.code(), "DOCUMENT_TOO_LARGE");
    // Within the limits, the same server answers.
    app.gql(None, "{ a: viewer { id } b: viewer { id } }", json!({})).await.data();

    // A mutation over the limit changes nothing.
    let signup = format!(
        r#"mutation {{ a: signUp(input: {{ email: "lim@example.com", password: "{PASSWORD}", name: "L" }}) {{ user {{ id }} }} b: resendVerification(email: "x@example.com") {{ accepted }} c: resendVerification(email: "y@example.com") {{ accepted }} }}"#
    );

    assert_eq!(app.gql(None, &signup, json!({})).await.code(), "TOO_MANY_ALIASES");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mails_to("lim@example.com").is_empty());
}

#[tokio::test]
async fn batches_are_capped_and_can_be_turned_off() {
    let app = spawn_app().await;
    let one = json!({ "query": "{ viewer { id } }" });
    let post = |body: Value| {
        let app = &app;
        async move { app.http.post(app.url("/graphql")).json(&body).send().await.unwrap() }
    };
    let r = post(json!([one, one])).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap().as_array().unwrap().len(), 2);
    let r = post(Value::Array(vec![one.clone(); 6])).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"], "BATCH_TOO_LARGE");

    let off = app_with(vec![("ZYGO_MAX_BATCH", "0".into())]).await;
    let r = off.http.post(off.url("/graphql")).json(&json!([one])).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"], "BATCH_TOO_LARGE");
}

#[tokio::test]
async fn cross_site_form_and_text_posts_are_refused_unparsed_and_headers_are_safe() {
    let app = spawn_app().await;
    let query = format!(
        r#"mutation {{ signUp(input: {{ email: "csrf@example.com", password: "{PASSWORD}", name: "C" }}) {{ user {{ id }} }} }}"#
    );
    let body = json!({ "query": query }).to_string();

    // A multipart request (file uploads) is a form too: without a header a cross-site form
    // cannot set (`apollo-require-preflight`, as Apollo asks) it is refused just the same.
    for (ct, status, code) in [
        ("text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("multipart/form-data; boundary=x", 400, "PREFLIGHT_REQUIRED"),
    ] {
        let r = app
            .http
            .post(app.url("/graphql"))
            .header("content-type", ct)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{ct}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{ct}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mails_to("csrf@example.com").is_empty(), "the refused mutation never ran");
    // The same body as JSON is fine.
    let r = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = app.http.get(app.url("/graphql")).query(&[("query", "{ viewer { id } }")]).send().await.unwrap();
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    // GraphiQL is bundled with the app now: its page gets the app's policy, no CDN origin.
    let g = app.http.get(app.url("/graphiql")).send().await.unwrap();
    let csp = g.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("https://unpkg.com"), "{csp}");
}

#[tokio::test]
async fn production_turns_introspection_suggestions_and_graphiql_off_unless_enabled() {
    let prod = app_with(vec![
        ("ZYGO_ENV", "production".into()),
        ("ZYGO_MAIL_URL", "smtp://127.0.0.1:1".into()),
        ("ZYGO_MASTER_KEY", "ab".repeat(32)),
    ])
    .await;
    let r = prod.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(r.0["data"]["__schema"].is_null(), "introspection is off: {}", r.0);
    let r = prod.gql(None, "{ viewr { id } }", json!({})).await;
    assert!(!r.message().contains("Did you mean"), "no field suggestions: {}", r.message());
    assert_eq!(prod.http.get(prod.url("/graphiql")).send().await.unwrap().status(), 404);

    let enabled = app_with(vec![
        ("ZYGO_ENV", "production".into()),
        ("ZYGO_MAIL_URL", "smtp://127.0.0.1:1".into()),
        ("ZYGO_MASTER_KEY", "ab".repeat(32)),
        ("ZYGO_INTROSPECTION", "true".into()),
        ("ZYGO_GRAPHIQL", "true".into()),
    ])
    .await;
    let r = enabled.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    // An introspection query, typed here.
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "__schema")]
        schema: Schema,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Schema {
        query_type: Named,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    let answer: Answer = serde_json::from_value(r.data().clone()).expect("the answer's shape");
    assert_eq!(answer.schema.query_type.name, "Query");
    assert_eq!(enabled.http.get(enabled.url("/graphiql")).send().await.unwrap().status(), 200);

    let dev = spawn_app().await;
    let r = dev.gql(None, "{ viewr { id } }", json!({})).await;
    assert!(r.message().contains("Did you mean"), "development keeps suggestions: {}", r.message());
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_CORS_ORIGINS", "https://app.example.com".into())], ..Default::default() },
    )
    .await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.http
                .request(reqwest::Method::OPTIONS, app.url("/graphql"))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type")
                .send()
                .await
                .unwrap()
        }
    };
    let ok = preflight("https://app.example.com").await;
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://app.example.com");
    assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let evil = preflight("https://evil.example.com").await;
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    // Unconfigured: no cross-origin access at all.
    let plain = spawn_app().await;
    let r = plain
        .http
        .post(plain.url("/graphql"))
        .header("Origin", "https://app.example.com")
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn websockets_must_initialise_in_time_get_pinged_and_run_a_bounded_number_of_operations() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options {
            env: vec![
                ("ZYGO_WS_INIT_TIMEOUT", "1".into()),
                ("ZYGO_WS_MAX_SUBSCRIPTIONS", "2".into()),
                ("ZYGO_WS_PING_INTERVAL", "1".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    let mut silent = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(silent.close_code().await, Some(4408), "no connection_init within the timeout");

    let s = app.verified_user("ws-cap@example.com").await;
    let id = app.create_tenant(&s, "ws-cap-org").await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&s.access)).await.unwrap()["type"], "connection_ack");
    for n in ["1", "2", "3"] {
        ws.subscribe(n, crate::doc!("tenancy/TenantEvents"), serde_json::json!({ "tenantId": id })).await;
    }
    let refused = ws.next_json().await.unwrap();
    assert_eq!(refused["id"], "3", "{refused}");
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS");
    // Completing one frees a place.
    ws.send(serde_json::json!({ "id": "1", "type": "complete" })).await;
    ws.subscribe("4", "query { viewer { email } }", serde_json::json!({})).await;
    let answer = loop {
        let m = ws.next_json().await.unwrap();
        if m["id"] == "4" {
            break m;
        }
        assert_eq!(m["id"], "1", "only the completion of 1 comes between: {m}");
    };
    assert_eq!(answer["payload"]["data"]["viewer"]["email"], "ws-cap@example.com");

    // The server pings an idle, initialised connection.
    let ping = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match futures::StreamExt::next(&mut ws.socket).await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) if t.contains("\"ping\"") => {
                    return t;
                }
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("a ping within 5 s");
    assert_eq!(ping.as_str(), r#"{"type":"ping"}"#);
}

async fn viewer_status(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_user_gets_its_own_token_bucket_and_aliases_count_separately() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_RATE_LIMIT_PER_MINUTE", "5".into())], ..Default::default() },
    )
    .await;
    let a = app.verified_user("bucket-a@example.com").await;
    let b = app.verified_user("bucket-b@example.com").await;
    for _ in 0..5 {
        assert_eq!(viewer_status(&app, &a.access, "{ viewer { id } }").await.status(), 200);
    }
    let refused = viewer_status(&app, &a.access, "{ viewer { id } }").await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry);
    // Someone else is not affected, but six aliases cost six.
    let six = "{ a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } e: viewer { id } f: viewer { id } }";
    assert_eq!(viewer_status(&app, &b.access, six).await.status(), 429);
    assert_eq!(viewer_status(&app, &b.access, "{ viewer { id } }").await.status(), 200);
}

#[tokio::test]
async fn instances_sharing_redis_enforce_one_limit() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(crate::event_bus::redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options {
        env: vec![("ZYGO_RATE_LIMIT_PER_MINUTE", "4".into())],
        data_dir: Some(data_dir),
        ..Default::default()
    };
    let one = spawn_app_on(backend.clone(), opts.clone()).await;
    let two = spawn_app_on(backend, opts).await;
    let s = one.verified_user("shared-bucket@example.com").await;
    for app in [&one, &two, &one, &two] {
        assert_eq!(viewer_status(app, &s.access, "{ viewer { id } }").await.status(), 200);
    }
    assert_eq!(viewer_status(&two, &s.access, "{ viewer { id } }").await.status(), 429);
    assert_eq!(viewer_status(&one, &s.access, "{ viewer { id } }").await.status(), 429);
}

/// A bucket of 100 tokens or more hands the instance asking a lease (1 % of it) while it is
/// over half full, spent without a Redis round trip; the two instances together still allow
/// the limit, give or take what refilled meanwhile, and never more.
#[tokio::test]
async fn leases_from_a_large_shared_bucket_keep_the_limit_across_instances() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(crate::event_bus::redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-lease-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options {
        env: vec![("ZYGO_RATE_LIMIT_PER_MINUTE", "200".into())],
        data_dir: Some(data_dir),
        ..Default::default()
    };
    let one = spawn_app_on(backend.clone(), opts.clone()).await;
    let two = spawn_app_on(backend, opts).await;
    let s = one.verified_user("leased-bucket@example.com").await;
    let started = std::time::Instant::now();
    let mut allowed = 0;
    for i in 0..400 {
        let app = if i % 2 == 0 { &one } else { &two };
        match viewer_status(app, &s.access, "{ viewer { id } }").await.status().as_u16() {
            200 => allowed += 1,
            429 => break,
            other => panic!("unexpected status {other}"),
        }
    }
    // 200 a minute refill 3.33 tokens a second while the loop ran.
    let refilled = (started.elapsed().as_secs_f64() * 200.0 / 60.0).ceil() as usize;
    assert!(allowed <= 200 + refilled, "{allowed} allowed, limit 200 + {refilled} refilled");
    // (The sign-up above may have drawn a few tokens of the same bucket.)
    assert!(allowed >= 190, "{allowed} allowed: leases must not waste more than they hold");
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn automatic_persisted_queries_register_once_and_run_by_hash() {
    let app = spawn_app().await;
    let query = "query Typename { __typename }";
    let hash = sha256_hex(query);
    let pq = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let post = |body: Value| {
        let app = &app;
        async move {
            app.http
                .post(app.url("/graphql"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let miss = post(json!({ "extensions": pq })).await;
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound", "{miss}");
    assert_eq!(miss["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
    let wrong = post(json!({ "query": "{ __typename }", "extensions": pq })).await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{wrong}");
    let registered = post(json!({ "query": query, "extensions": pq })).await;
    assert_eq!(registered["data"]["__typename"], "Query", "{registered}");
    let by_hash = post(json!({ "extensions": pq })).await;
    assert_eq!(by_hash["data"]["__typename"], "Query", "{by_hash}");
    // And over GET, as CDNs like it.
    let url = format!("{}?extensions={}", app.url("/graphql"), pq);
    let got: Value = app.http.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["data"]["__typename"], "Query", "{got}");
}

#[tokio::test]
async fn persisted_only_mode_runs_the_shipped_documents_and_nothing_else() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_PERSISTED_QUERIES_ONLY", "true".into())], ..Default::default() },
    )
    .await;
    // The shipped documents run by text (the helpers use them)...
    let s = app.verified_user("persisted@example.com").await;
    // ...and by hash alone.
    let viewer = crate::doc!("identity/Viewer");
    let r: Value = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&s.access)
        .json(&json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(viewer) } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["viewer"]["email"], "persisted@example.com", "{r}");
    // Anything else is refused, with or without a hash.
    let adhoc = app.gql(Some(&s.access), "{ viewer { id email } }", json!({})).await;
    assert_eq!(adhoc.code(), "PERSISTED_QUERY_NOT_ALLOWED");
    let q = "{ __typename }";
    let r: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": q, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(q) } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_ALLOWED", "{r}");
}

#[tokio::test]
async fn no_variable_string_may_exceed_the_global_cap() {
    let app = spawn_app().await;
    let r = app
        .gql(
            None,
            crate::doc!("identity/SignUp"),
            json!({ "input": { "email": "long@example.com", "password": "x".repeat(10_001), "name": "Long" } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.password"));
    // Nothing was created.
    let again = app.sign_up("long@example.com").await;
    again.data();
}

#[tokio::test]
async fn a_request_running_past_its_time_is_cancelled_with_request_timeout() {
    let app = app_with(vec![("ZYGO_REQUEST_TIMEOUT", "1".into())]).await;
    // Mutations run one after another, and every sign-in attempt hashes a password (also for
    // unknown addresses, so both answer alike): 5 × 15 of them take well over a second.
    let attempts: String = (0..15)
        .map(|i| format!(r#"a{i}: logIn(input: {{ email: "slow{i}@example.com", password: "wrong-password" }}) {{ tokens {{ accessToken }} }} "#))
        .collect();
    let op = json!({ "query": format!("mutation {{ {attempts} }}") });
    let started = std::time::Instant::now();
    let r = app.http.post(app.url("/graphql")).json(&Value::Array(vec![op; 5])).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "REQUEST_TIMEOUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("ZYGO_REQUEST_TIMEOUT"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "answered when the limit struck");
    // The instance goes on serving.
    app.gql(None, "{ __typename }", json!({})).await.data();
}

#[tokio::test]
async fn an_over_long_string_anywhere_in_the_variables_is_refused_naming_the_field() {
    let app = app_with(vec![("ZYGO_MAX_STRING_LENGTH", "200".into())]).await;
    let long = "x".repeat(201);
    let r = app
        .gql(
            None,
            "mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }",
            json!({ "input": { "email": "long@example.com", "password": long, "name": "L" } }),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.0);
    assert_eq!(r.0["errors"][0]["extensions"]["field"], "input.password", "{}", r.0);
    // Nothing was created: the same address signs up afterwards.
    let ok = app
        .gql(
            None,
            "mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }",
            json!({ "input": { "email": "long@example.com", "password": PASSWORD, "name": "L" } }),
        )
        .await;
    ok.data();
    // Fields keep tighter limits of their own, also named.
    let r = app
        .gql(
            None,
            "mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }",
            json!({ "input": { "email": "long2@example.com", "password": PASSWORD, "name": "n".repeat(150) } }),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.0);
    assert_eq!(r.0["errors"][0]["extensions"]["field"], "input.name", "{}", r.0);
}
