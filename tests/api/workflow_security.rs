//! Attacks on the workflow engine from inside a tenant: the platform's LLM key sent to a URL
//! a member typed, expressions and scripts that would fill the server's memory, secrets read
//! back through filters and scripts, and member e-mail addresses read through a Data Source
//! node by a member who may not see them.

use serde_json::{Value, json};

use crate::{
    doc,
    gql::{CreateWorkflow, TenantMembers, WorkflowWebhook, workflow_webhook},
    helpers::{Backend, NodeService, Options, spawn_app, spawn_app_on},
    workflows::{ExecutionStatus, NodeStatus, Run, create, edge, execute, finished, node, node_state, org},
};

/// An LLM node naming its own `baseUrl` and no key used to send `ZYGO_LLM_API_KEY` there.
/// Now it fails, naming the missing key, and nothing reaches that server; with its own key
/// from a secret it sends that key, never the platform's.
#[tokio::test]
async fn an_llm_node_with_its_own_base_url_never_gets_the_platform_key() {
    let platform = NodeService::start("llm-server.mjs", &["--key", "platform-key-777"], &[]);
    let platform_port = platform.info["port"].as_u64().unwrap();
    let elsewhere = NodeService::start("llm-server.mjs", &[], &[]);
    let elsewhere_port = elsewhere.info["port"].as_u64().unwrap();
    let app = spawn_app_on(
        Backend::fresh().await,
        Options {
            env: vec![
                ("ZYGO_LLM_BASE_URL", format!("http://127.0.0.1:{platform_port}/v1")),
                ("ZYGO_LLM_MODEL", "test-model".into()),
                ("ZYGO_LLM_API_KEY", "platform-key-777".into()),
                // The graph's server is on loopback: let nodes reach it, so that only the key
                // rule can stop the request.
                ("ZYGO_WORKFLOW_HTTP_ALLOW_PRIVATE", "true".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    let o = org(&app, "llm-keys").await;
    let t = o.owner.access.clone();
    let base = format!("http://127.0.0.1:{elsewhere_port}/v1");
    let requests = || async {
        let r: Value = reqwest::get(format!("http://127.0.0.1:{elsewhere_port}/requests"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r.as_array().unwrap().clone()
    };
    for ty in ["ai.llm", "ai.agent"] {
        let (id, _) = create(
            &app,
            &o,
            "Steal the key",
            vec![
                node("start", "trigger.manual", json!({})),
                node("ask", ty, json!({ "prompt": "hi", "baseUrl": base })),
            ],
            vec![edge("e1", "start", "main", "ask")],
        )
        .await;
        let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
        assert_eq!(e.status, ExecutionStatus::FAILED, "{ty}: {e:?}");
        let err = e.error.as_deref().unwrap();
        assert!(
            err.contains("`ask`") && err.contains("config.apiKey") && err.contains("ZYGO_LLM_BASE_URL"),
            "{err}"
        );
    }
    assert!(requests().await.is_empty(), "nothing reached the graph's server");

    // With its own key (a secret), the node works and sends that key.
    app.gql(
        Some(&t),
        doc!("secrets/CreateSecret"),
        json!({ "input": { "tenantId": o.tenant, "name": "OWN_KEY", "value": "own-key-123" } }),
    )
    .await
    .data();
    let (id, _) = create(
        &app,
        &o,
        "Own model",
        vec![
            node("start", "trigger.manual", json!({})),
            node(
                "ask",
                "ai.llm",
                json!({ "prompt": "hi", "baseUrl": base, "apiKey": "{{ secrets.OWN_KEY }}" }),
            ),
        ],
        vec![edge("e1", "start", "main", "ask")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    let seen = requests().await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["authorization"], "Bearer own-key-123");
    assert!(!seen.iter().any(|r| r.to_string().contains("platform-key-777")));

    // A node's own base URL goes through the public-only client: on a default server,
    // loopback is refused even with a key of its own.
    let public_only = spawn_app().await;
    let p = org(&public_only, "llm-public").await;
    let (id, _) = create(
        &public_only,
        &p,
        "Internal model",
        vec![
            node("start", "trigger.manual", json!({})),
            node(
                "ask",
                "ai.llm",
                json!({ "prompt": "hi", "model": "m", "baseUrl": base, "apiKey": "some-key" }),
            ),
        ],
        vec![edge("e1", "start", "main", "ask")],
    )
    .await;
    let pt = p.owner.access.clone();
    let e = finished(&public_only, &pt, &execute(&public_only, &pt, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::FAILED, "{e:?}");
    assert!(e.error.as_deref().unwrap().contains("private or internal address"), "{e:?}");
    assert_eq!(requests().await.len(), 1, "nothing more reached the graph's server");

    // Without a baseUrl the platform's endpoint gets the platform's key, as before.
    let (id, _) = create(
        &app,
        &o,
        "Platform model",
        vec![node("start", "trigger.manual", json!({})), node("ask", "ai.llm", json!({ "prompt": "hi" }))],
        vec![edge("e1", "start", "main", "ask")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
}

/// Expressions and scripts that would build a gigabyte or more in the server's memory fail
/// their node at once, naming the node and the limit, and the server keeps serving.
#[tokio::test]
async fn expressions_and_scripts_that_would_fill_memory_fail_their_node_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let o = org(&app, "bombs").await;
    let t = o.owner.access.clone();
    let bombs = [
        // 1 KiB doubled 20 times: 1 GiB through `~`.
        (
            "logic.conditional",
            json!({ "condition": "{% set ns = namespace(s='x' * 1024) %}{% for i in range(20) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}" }),
            "ZYGO_WORKFLOW_MAX_VALUE_BYTES",
        ),
        // 1,000 × 1 MB joined.
        (
            "logic.conditional",
            json!({ "condition": "{{ (['y' * 1000000] * 1000) | join(',') | length }}" }),
            "ZYGO_WORKFLOW_MAX_VALUE_BYTES",
        ),
        // A script returning one 512 KiB string 2,000 times (1 GiB once copied out).
        (
            "code",
            json!({ "source": "let s = \"x\"; for i in 0..19 { s += s; } let a = []; for i in 0..2000 { a.push(s); } a" }),
            "ZYGO_WORKFLOW_MAX",
        ),
    ];
    for (ty, config, limit) in bombs {
        let (id, _) = create(
            &app,
            &o,
            "Bomb",
            vec![node("start", "trigger.manual", json!({})), node("bomb", ty, config.clone())],
            vec![edge("e1", "start", "main", "bomb")],
        )
        .await;
        let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
        assert_eq!(e.status, ExecutionStatus::FAILED, "{config}");
        let err = e.error.as_deref().unwrap();
        assert!(err.contains("`bomb`") && err.contains(limit), "{config}: {err}");
        assert_eq!(node_state(&e, "bomb").status, NodeStatus::FAILED);
    }
    // Still serving: an ordinary run succeeds.
    let (id, _) = create(
        &app,
        &o,
        "Fine",
        vec![
            node("start", "trigger.manual", json!({})),
            node("add", "code", json!({ "source": "\"{{ 'a' ~ 'b' }}\" + \"c\"" })),
        ],
        vec![edge("e1", "start", "main", "add")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    assert_eq!(node_state(&e, "add").output, Some(json!("abc")));
}

/// A node's output larger than `ZYGO_WORKFLOW_MAX_OUTPUT_BYTES` is not stored: the node
/// fails, naming the limit.
#[tokio::test]
async fn a_node_output_over_the_output_budget_fails_the_node() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_WORKFLOW_MAX_OUTPUT_BYTES", "100000".into())], ..Default::default() },
    )
    .await;
    let o = org(&app, "outputs").await;
    let t = o.owner.access.clone();
    let (id, _) = create(
        &app,
        &o,
        "Big",
        vec![
            node("start", "trigger.manual", json!({})),
            node("big", "code", json!({ "source": "let s = \"x\"; for i in 0..18 { s += s; } s" })),
        ],
        vec![edge("e1", "start", "main", "big")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::FAILED, "{e:?}");
    let err = e.error.as_deref().unwrap();
    assert!(err.contains("`big`") && err.contains("ZYGO_WORKFLOW_MAX_OUTPUT_BYTES"), "{err}");
    assert!(node_state(&e, "big").output.is_none());

    // Twenty loop iterations of 20 KB each: every one within the budget, together not.
    let (id, _) = create(
        &app,
        &o,
        "Piling up",
        vec![
            node("start", "trigger.manual", json!({})),
            node("each", "logic.loop", json!({ "items": "{{ range(20) | list }}" })),
            node("chunk", "code", json!({ "source": "let s = \"x\"; for i in 0..14 { s += s; } s + input" })),
        ],
        vec![edge("e1", "start", "main", "each"), edge("e2", "each", "body", "chunk")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::FAILED, "{e:?}");
    let err = e.error.as_deref().unwrap();
    assert!(err.contains("`each`") && err.contains("ZYGO_WORKFLOW_MAX_OUTPUT_BYTES"), "{err}");
}

/// `{{ secrets.X }}` is a marker in expressions and scripts: reversing, slicing, joining,
/// upper-casing it, base64 or character codes in a Code node, or comparing it, never yield
/// the value, not to the owner and not to a viewer. Placed in an outgoing request it is the
/// value, and only there.
#[tokio::test]
async fn secret_values_cannot_be_read_back_through_filters_slices_or_code() {
    let echo = NodeService::start("llm-server.mjs", &[], &[]);
    let port = echo.info["port"].as_u64().unwrap();
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_WORKFLOW_HTTP_ALLOW_PRIVATE", "true".into())], ..Default::default() },
    )
    .await;
    let o = org(&app, "secret-leaks").await;
    let t = o.owner.access.clone();
    let value = "tok-Secr3t-value-42";
    app.gql(
        Some(&t),
        doc!("secrets/CreateSecret"),
        json!({ "input": { "tenantId": o.tenant, "name": "TOKEN", "value": value } }),
    )
    .await
    .data();
    let base64_rhai = "let s = \"{{ secrets.TOKEN }}\"; \
        let t = \"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\"; \
        let b = []; for c in s.chars() { b.push(c.to_int()); } \
        let out = \"\"; let i = 0; \
        while i + 2 < b.len() { let n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2]; \
          out += t[(n >> 18) & 63]; out += t[(n >> 12) & 63]; out += t[(n >> 6) & 63]; out += t[n & 63]; i += 3; } \
        out";
    let attempts = [
        ("reverse", "code", json!({ "source": "\"{{ secrets.TOKEN | reverse }}\"" })),
        ("upper", "code", json!({ "source": "\"{{ secrets.TOKEN | upper }}\"" })),
        ("slice", "code", json!({ "source": "\"{% set s = secrets.TOKEN %}{{ s[4:] }}\"" })),
        ("joined", "code", json!({ "source": "\"{{ secrets.TOKEN | list | join('.') }}\"" })),
        ("concat", "code", json!({ "source": "\"{{ 'x' ~ secrets.TOKEN ~ 'y' }}\"" })),
        ("base64", "code", json!({ "source": base64_rhai })),
        (
            "codes",
            "code",
            json!({ "source": "let out = []; for c in \"{{ secrets.TOKEN }}\".chars() { out.push(c.to_int()); } out" }),
        ),
        (
            "oracle",
            "logic.conditional",
            json!({ "condition": format!("{{{{ secrets.TOKEN == '{value}' }}}}") }),
        ),
        (
            "send",
            "http.request",
            json!({
                "method": "POST",
                "url": format!("http://127.0.0.1:{port}/v1/chat/completions"),
                "headers": { "Authorization": "Bearer {{ secrets.TOKEN }}" },
                "body": { "model": "m", "messages": [{ "role": "user", "content": "hello" }] },
            }),
        ),
    ];
    let mut nodes = vec![node("start", "trigger.manual", json!({}))];
    let mut edges = Vec::new();
    let mut prev = "start".to_string();
    for (i, (id, ty, config)) in attempts.iter().enumerate() {
        nodes.push(node(id, ty, config.clone()));
        let port = if prev == "oracle" { "false" } else { "main" };
        edges.push(edge(&format!("e{i}"), &prev, port, id));
        prev = id.to_string();
    }
    let (id, _) = create(&app, &o, "Leaks", nodes, edges).await;
    let exec = execute(&app, &t, &id, json!({})).await;
    let e = finished(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    // The comparison saw a marker, not the value.
    assert_eq!(node_state(&e, "oracle").port.as_deref(), Some("false"));
    // The request carried the value.
    let reqs: Value =
        reqwest::get(format!("http://127.0.0.1:{port}/requests")).await.unwrap().json().await.unwrap();
    assert_eq!(reqs[0]["authorization"], format!("Bearer {value}"));

    use base64::Engine as _;
    let reversed: String = value.chars().rev().collect();
    let codes = value.chars().map(|c| (c as u32).to_string()).collect::<Vec<_>>().join(",");
    let dotted = value.chars().map(String::from).collect::<Vec<_>>().join(".");
    let forms = [
        value.to_string(),
        reversed,
        value.to_uppercase(),
        value[4..].to_string(),
        dotted,
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&value.as_bytes()[..18]),
        codes,
    ];
    let (viewer, _) = app.join_as(&o.owner, &o.tenant, "viewer@secret-leaks.test", "viewer").await;
    for (who, token) in [("owner", t.as_str()), ("viewer", viewer.access.as_str())] {
        let seen = crate::workflows::execution(&app, token, &exec).await;
        assert_eq!(seen.status, ExecutionStatus::SUCCEEDED);
        let text = serde_json::to_string(&seen).unwrap();
        for form in &forms {
            assert!(!text.contains(form.as_str()), "{who} can read `{form}` in the run: {text}");
        }
        assert!(text.contains("[secret:TOKEN]"), "{text}");
    }
}

/// `User.email` needs MEMBERS_MANAGE (or being that user). A Data Source node run by a
/// plain member shows the same: their own address, no one else's, exactly the addresses
/// the API shows that member; run by the owner it shows all.
#[tokio::test]
async fn a_data_source_node_shows_only_the_member_fields_the_api_shows_the_user_it_runs_for() {
    let app = spawn_app().await;
    let o = org(&app, "directory").await;
    let (member, _) = app.join_as(&o.owner, &o.tenant, "member@directory.test", "member").await;
    let (viewer, _) = app.join_as(&o.owner, &o.tenant, "viewer@directory.test", "viewer").await;
    let (id, _) = create(
        &app,
        &o,
        "Directory",
        vec![
            node("start", "trigger.manual", json!({})),
            node("people", "data.source", json!({ "source": "members" })),
        ],
        vec![edge("e1", "start", "main", "people")],
    )
    .await;
    let emails = |e: &Run| -> Vec<String> {
        let mut v: Vec<String> = node_state(e, "people").output.as_ref().unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["email"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v
    };
    // What the API shows the member: `User.email` non-null only where allowed.
    let r = app.op_json::<TenantMembers>(Some(&member.access), json!({ "id": o.tenant, "first": 50 })).await;
    let mut api: Vec<String> = r
        .partial()
        .tenant
        .members
        .as_ref()
        .expect("members")
        .edges
        .iter()
        .filter_map(|e| e.node.user.email.clone())
        .collect();
    api.sort();
    assert_eq!(api, vec!["member@directory.test".to_string()]);

    let exec = execute(&app, &member.access, &id, json!({})).await;
    let e = finished(&app, &member.access, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    assert_eq!(emails(&e), api, "the node shows what the API shows the member");
    assert_eq!(node_state(&e, "people").output.as_ref().unwrap()["count"], 3, "every member is listed");
    // A viewer reading the run sees no more.
    let seen = crate::workflows::execution(&app, &viewer.access, &exec).await;
    let seen = serde_json::to_string(&seen).unwrap();
    assert!(!seen.contains("owner@directory.test"), "{seen}");

    // A webhook run has no user: it acts for the workflow's creator, here the member.
    let r = app
        .op_json::<CreateWorkflow>(
            Some(&member.access),
            json!({ "input": { "tenantId": o.tenant, "name": "Hooked directory", "graph": {
                "nodes": [
                    node("hook", "trigger.webhook", json!({})),
                    node("people", "data.source", json!({ "source": "members" })),
                ],
                "edges": [edge("e1", "hook", "main", "people")],
            } } }),
        )
        .await;
    let hooked = r.into_data().create_workflow.workflow.id;
    app.gql(
        Some(&member.access),
        doc!("workflows/PublishWorkflowVersion"),
        json!({ "input": { "workflowId": hooked, "note": "v1" } }),
    )
    .await
    .data();
    let url = app
        .op::<WorkflowWebhook>(Some(&member.access), workflow_webhook::Variables { id: hooked.clone() })
        .await
        .into_data()
        .workflow
        .webhook_url;
    let resp = app
        .http
        .post(app.url(url.strip_prefix("http://zygo.test").unwrap()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let exec = resp.json::<Value>().await.unwrap()["executionId"].as_str().unwrap().to_string();
    let e = finished(&app, &o.owner.access, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    assert_eq!(emails(&e), api, "a trigger acts for the workflow's creator");

    // Run by the owner (MEMBERS_MANAGE): every address.
    let t = o.owner.access.clone();
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(emails(&e), vec!["member@directory.test", "owner@directory.test", "viewer@directory.test"]);
}
