//! AI workflows end to end: secrets, graph editing and validation, the engine (live
//! updates, cancel, retry, retry policies, crash recovery), node types against real local
//! servers (HTTP, an OpenAI-compatible model), triggers, templates and tenant isolation.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    doc,
    gql::*,
    helpers::{
        Backend, NodeService, Options, Session, TestApp, WsClient, enum_name, event_data, eventually,
        spawn_app, spawn_app_on,
    },
};

pub(crate) struct Org {
    pub owner: Session,
    pub tenant: String,
}

pub(crate) async fn org(app: &TestApp, slug: &str) -> Org {
    let owner = app.verified_user(&format!("owner@{slug}.test")).await;
    let tenant = app.create_tenant(&owner, slug).await;
    Org { owner, tenant }
}

pub(crate) fn node(id: &str, ty: &str, config: Value) -> Value {
    json!({ "id": id, "type": ty, "name": id, "config": config })
}

pub(crate) fn edge(id: &str, source: &str, port: &str, target: &str) -> Value {
    json!({ "id": id, "source": source, "sourcePort": port, "target": target, "targetPort": "main" })
}

pub(crate) async fn create(
    app: &TestApp,
    o: &Org,
    name: &str,
    nodes: Vec<Value>,
    edges: Vec<Value>,
) -> (String, i64) {
    let r = app
        .op_json::<CreateWorkflow>(
            Some(&o.owner.access),
            json!({ "input": { "tenantId": o.tenant, "name": name, "graph": { "nodes": nodes, "edges": edges } } }),
        )
        .await;
    let w = r.into_data().create_workflow.workflow;
    (w.id, w.revision)
}

pub(crate) async fn execute(app: &TestApp, token: &str, workflow: &str, input: Value) -> String {
    let r = app
        .op_json::<ExecuteWorkflow>(
            Some(token),
            json!({ "input": { "workflowId": workflow, "input": input } }),
        )
        .await;
    r.into_data().execute_workflow.execution.id
}

/// An execution with every node's state and its logs (`workflows/Execution`).
pub(crate) type Run = execution::ExecutionExecution;
/// The saved state of one node of a run.
pub(crate) type NodeRun = execution::ExecutionExecutionNodes;
pub(crate) use execution::{ExecutionStatus, NodeStatus};

pub(crate) async fn execution(app: &TestApp, token: &str, id: &str) -> Run {
    let vars = execution::Variables { id: id.into(), logs: Some(100) };
    app.op::<Execution>(Some(token), vars).await.into_data().execution
}

/// Waits until the execution is in a final state and returns it.
pub(crate) async fn finished(app: &TestApp, token: &str, id: &str) -> Run {
    eventually(30, || async {
        let e = execution(app, token, id).await;
        use ExecutionStatus::*;
        matches!(e.status, SUCCEEDED | FAILED | CANCELLED).then_some(e)
    })
    .await
}

/// The state of node `id` outside any loop iteration.
pub(crate) fn node_state<'a>(e: &'a Run, id: &str) -> &'a NodeRun {
    e.nodes
        .iter()
        .find(|n| n.node_id == id && n.iteration.is_empty())
        .unwrap_or_else(|| panic!("no node {id} in {e:?}"))
}

#[tokio::test]
async fn a_graph_is_built_validated_run_and_watched_live() {
    let app = spawn_app().await;
    let o = org(&app, "flows").await;
    let t = o.owner.access.clone();
    // Built node by node, as a canvas does.
    let (id, rev) =
        create(&app, &o, "Pipeline", vec![node("start", "trigger.manual", json!({}))], vec![]).await;
    let add = |rev: i64, n: Value| {
        let app = &app;
        let (t, id) = (t.clone(), id.clone());
        async move {
            app.op_json::<AddNode>(
                Some(&t),
                json!({ "input": { "workflowId": id, "expectedRevision": rev, "node": n } }),
            )
            .await
        }
    };
    let r = add(rev, node("double", "code", json!({ "source": "input.n * 2" }))).await;
    let rev = r.data().add_node.workflow.revision;
    // A stale revision is a conflict and changes nothing.
    let stale = add(rev - 1, node("other", "code", json!({ "source": "1" }))).await;
    assert_eq!(stale.code(), "CONFLICT");
    assert_eq!(stale.field(), "input.expectedRevision");
    let r = add(rev, node("check", "logic.conditional", json!({ "condition": "{{ input > 10 }}" }))).await;
    let mut rev = r.data().add_node.workflow.revision;
    for (s, p, tgt) in [("start", "main", "double"), ("double", "main", "check")] {
        let r = app
            .op_json::<ConnectNodes>(
                Some(&t),
                json!({ "input": { "workflowId": id, "expectedRevision": rev, "source": s, "sourcePort": p, "target": tgt } }),
            )
            .await
            .into_data()
            .connect_nodes
            .workflow;
        rev = r.revision;
        assert_eq!(r.graph.edges.last().unwrap().target, tgt);
    }
    let v = app
        .op::<ValidateWorkflow>(Some(&t), validate_workflow::Variables { id: id.clone(), version: None })
        .await;
    let v = &v.data().validate_workflow;
    assert!(v.valid && v.problems.is_empty(), "{v:?}");

    // Live: subscribe to the workflow's executions before running it.
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&t)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("workflows/WorkflowExecutionsUpdated"), json!({ "workflowId": id })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let exec = execute(&app, &t, &id, json!({ "n": 21 })).await;
    let mut seen = Vec::new();
    loop {
        let msg = ws.next_json().await.expect("event");
        let ev = event_data::<WorkflowExecutionsUpdated>(&msg).unwrap_or_else(|| panic!("an event: {msg}"));
        let ev = ev.workflow_executions;
        assert_eq!(ev.execution_id, exec);
        let label = match &ev.node {
            Some(n) => format!("{}:{}", n.node_id, enum_name(&n.status)),
            None => enum_name(&ev.status),
        };
        let done = label == "SUCCEEDED";
        seen.push(label);
        if done {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            "QUEUED",
            "RUNNING",
            "start:RUNNING",
            "start:SUCCEEDED",
            "double:RUNNING",
            "double:SUCCEEDED",
            "check:RUNNING",
            "check:SUCCEEDED",
            "SUCCEEDED"
        ],
        "every state, in order"
    );
    let e = finished(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED);
    assert_eq!(e.output, Some(json!(42)));
    assert_eq!(node_state(&e, "check").port.as_deref(), Some("true"));
    assert_eq!(node_state(&e, "double").output, Some(json!(42)));

    // Subscribing after the run: the current state is replayed, status first, then each node.
    ws.subscribe("2", doc!("workflows/ExecutionUpdated"), json!({ "executionId": exec })).await;
    let mut replayed = Vec::new();
    while replayed.len() < 4 {
        let msg = ws.next_json().await.expect("event");
        if msg["id"] != "2" {
            continue;
        }
        let ev = event_data::<ExecutionUpdated>(&msg).unwrap_or_else(|| panic!("an event: {msg}"));
        let ev = ev.execution_updated;
        assert_eq!((ev.execution_id.as_str(), ev.sequence), (exec.as_str(), 0), "{ev:?}");
        replayed.push(match &ev.node {
            // The port as JSON (`"main"`), as the event carries it.
            Some(n) => format!("{}:{}:{}", n.node_id, enum_name(&n.status), json!(n.port)),
            None => enum_name(&ev.status),
        });
    }
    assert_eq!(
        replayed,
        ["SUCCEEDED", "start:SUCCEEDED:\"main\"", "double:SUCCEEDED:\"main\"", "check:SUCCEEDED:\"true\""]
    );

    // Removing a node removes its edges; the change is audited.
    let r = app
        .op_json::<RemoveNode>(
            Some(&t),
            json!({ "input": { "workflowId": id, "expectedRevision": rev, "nodeId": "double" } }),
        )
        .await;
    assert_eq!(r.data().remove_node.workflow.graph.edges.len(), 0);
}

#[tokio::test]
async fn validation_reports_each_problem_with_its_node_and_running_an_invalid_graph_is_refused() {
    let app = spawn_app().await;
    let o = org(&app, "invalid").await;
    let t = o.owner.access.clone();
    let (id, _) = create(
        &app,
        &o,
        "Broken",
        vec![
            node("start", "trigger.manual", json!({})),
            node("mystery", "no.such.type", json!({})),
            node("http", "http.request", json!({ "method": "FETCH" })),
            node("lonely", "code", json!({ "source": "1" })),
            node("a", "code", json!({ "source": "1" })),
            node("b", "code", json!({ "source": "2" })),
            node(
                "refs",
                "code",
                json!({ "source": "{{ nodes.ghost.output }} {{ secrets.NOPE }} {{ env.MISSING }}" }),
            ),
            node("late", "code", json!({ "source": "{{ nodes.refs.output }}" })),
            node("early", "code", json!({ "source": "{{ nodes.late.output }}" })),
        ],
        vec![
            edge("e1", "start", "main", "mystery"),
            edge("e2", "start", "main", "http"),
            edge("e3", "start", "main", "a"),
            edge("e4", "a", "main", "b"),
            edge("e5", "b", "main", "a"),
            edge("e6", "start", "main", "refs"),
            edge("e7", "refs", "main", "late"),
            edge("e8", "start", "main", "early"),
        ],
    )
    .await;
    let v = app
        .op::<ValidateWorkflow>(Some(&t), validate_workflow::Variables { id: id.clone(), version: None })
        .await;
    let v = &v.data().validate_workflow;
    assert!(!v.valid);
    let problems: Vec<(String, String)> =
        v.problems.iter().map(|p| (p.kind.clone(), p.node_id.clone().unwrap_or_default())).collect();
    for expected in [
        ("unknown_type", "mystery"),
        ("invalid_config", "http"),
        ("unconnected_input", "lonely"),
        ("broken_reference", "refs"),
        ("unknown_secret", "refs"),
        ("broken_reference", "early"),
    ] {
        assert!(
            problems.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} missing from {problems:?}"
        );
    }
    assert!(problems.iter().any(|(k, n)| k == "cycle" && (n == "a" || n == "b")), "{problems:?}");
    // Each problem's message says what is wrong.
    let msgs = serde_json::to_string(&v.problems).unwrap();
    assert!(msgs.contains("`nodes.ghost` is not a node"), "{msgs}");
    assert!(msgs.contains("no secret named `NOPE`"), "{msgs}");
    assert!(msgs.contains("no environment variable named `MISSING`"), "{msgs}");
    assert!(msgs.contains("does not run before this node"), "{msgs}");

    let r =
        app.gql(Some(&t), doc!("workflows/ExecuteWorkflow"), json!({ "input": { "workflowId": id } })).await;
    assert_eq!(r.code(), "WORKFLOW_INVALID");
    assert!(r.0["errors"][0]["extensions"]["problems"].as_array().unwrap().len() >= 7);
    let r = app
        .gql(Some(&t), doc!("workflows/PublishWorkflowVersion"), json!({ "input": { "workflowId": id } }))
        .await;
    assert_eq!(r.code(), "WORKFLOW_INVALID");
    let r = app.op_json::<WorkflowExecutions>(Some(&t), json!({ "id": id, "last": 10 })).await;
    assert_eq!(r.data().workflow.executions.total_count, 0, "nothing was queued");

    // Bad input names the field and changes nothing.
    let r = app
        .gql(
            Some(&t),
            doc!("workflows/CreateWorkflow"),
            json!({ "input": { "tenantId": o.tenant, "name": "x", "graph": { "nodes": [node("1bad", "code", json!({}))] } } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.graph.nodes.0.id"));
}

#[tokio::test]
async fn secrets_are_encrypted_never_returned_logged_when_read_and_redacted_from_runs() {
    let app = spawn_app().await;
    let o = org(&app, "secrets").await;
    let t = o.owner.access.clone();
    let value = "sk-live-5up3r-s3cr3t-value";
    let r = app
        .gql(
            Some(&t),
            doc!("secrets/CreateSecret"),
            json!({ "input": { "tenantId": o.tenant, "name": "API_KEY", "value": value, "description": "vendor key" } }),
        )
        .await;
    assert!(!r.0.to_string().contains(value));
    let r = app
        .gql(
            Some(&t),
            doc!("secrets/CreateSecret"),
            json!({ "input": { "tenantId": o.tenant, "name": "bad name", "value": "x" } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.name"));
    app.gql(
        Some(&t),
        doc!("secrets/SetEnvironmentVariable"),
        json!({ "input": { "tenantId": o.tenant, "name": "REGION", "value": "eu-north" } }),
    )
    .await
    .data();
    // At rest the value is ciphertext.
    let db = app.db().await;
    use sea_orm::EntityTrait;
    let rows = entity::secret::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].ciphertext.starts_with("v1:") && !rows[0].ciphertext.contains(value));

    // A run that uses it: the value reaches the node, and never its output, logs or errors.
    let (id, _) = create(
        &app,
        &o,
        "Uses secret",
        vec![
            node("start", "trigger.manual", json!({})),
            node("echo", "code", json!({ "source": "print(\"key=\" + \"{{ secrets.API_KEY }}\"); #{ region: \"{{ env.REGION }}\", key: \"{{ secrets.API_KEY }}\" }" })),
            node("fail", "code", json!({ "source": "throw \"leaked {{ secrets.API_KEY }}\"" })),
        ],
        vec![edge("e1", "start", "main", "echo"), edge("e2", "echo", "main", "fail")],
    )
    .await;
    let exec = execute(&app, &t, &id, json!({})).await;
    let e = finished(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert_eq!(
        node_state(&e, "echo").output,
        Some(json!({ "region": "eu-north", "key": "[secret:API_KEY]" }))
    );
    let all = serde_json::to_string(&e).unwrap();
    assert!(!all.contains(value), "secret value leaked: {all}");
    assert!(all.contains("leaked [secret:API_KEY]"), "{all}");
    assert!(all.contains("key=[secret:API_KEY]"), "the script's print is logged, redacted: {all}");
    // Nor in the rows themselves.
    let logs = entity::execution_log::Entity::find().all(&db).await.unwrap();
    assert!(logs.iter().all(|l| !l.message.contains(value)));
    // Every read is in the secret's access log.
    let r = app
        .op::<Secrets>(
            Some(&t),
            secrets::Variables { tenant_id: o.tenant.clone(), with_access_log: Some(true) },
        )
        .await;
    let s = &r.data().tenant.secrets.edges[0].node;
    assert_eq!(s.name, "API_KEY");
    let nodes: Vec<&str> = s.access_log.edges.iter().map(|e| e.node.node_id.as_deref().unwrap()).collect();
    assert_eq!(nodes.len(), 2);
    assert!(nodes.contains(&"echo") && nodes.contains(&"fail"));
    assert!(s.last_accessed_at.is_some());
    assert!(!r.raw.0.to_string().contains(value));

    // Members (WORKFLOW_READ, no SECRET_MANAGE) see names but not the access log, and cannot
    // change secrets.
    let (member, _) = app.join_as(&o.owner, &o.tenant, "member@secrets.test", "member").await;
    let r = app
        .gql(
            Some(&member.access),
            doc!("secrets/Secrets"),
            json!({ "tenantId": o.tenant, "withAccessLog": true }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    // Untyped: graphql_client keeps a field under `@include(if: false)` required, and this
    // answer leaves `accessLog` out.
    let r = app.gql(Some(&member.access), doc!("secrets/Secrets"), json!({ "tenantId": o.tenant })).await;
    assert_eq!(r.data()["tenant"]["secrets"]["totalCount"], 1);
    let sid = s.id.as_str();
    let r = app
        .gql(
            Some(&member.access),
            doc!("secrets/UpdateSecret"),
            json!({ "input": { "id": sid, "value": "x" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn cancel_stops_a_running_delay_at_once_and_stays_cancelled() {
    let app = spawn_app().await;
    let o = org(&app, "cancel").await;
    let t = o.owner.access.clone();
    let (id, _) = create(
        &app,
        &o,
        "Slow",
        vec![
            node("start", "trigger.manual", json!({})),
            node("wait", "flow.delay", json!({ "milliseconds": 20000 })),
            node("after", "code", json!({ "source": "\"too late\"" })),
        ],
        vec![edge("e1", "start", "main", "wait"), edge("e2", "wait", "main", "after")],
    )
    .await;
    let exec = execute(&app, &t, &id, json!({})).await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&t)).await.unwrap();
    ws.subscribe("1", doc!("workflows/ExecutionUpdated"), json!({ "executionId": exec })).await;
    // Its first event is the current status: from then on no event is missed (a sleep after
    // subscribing is no such guarantee on a loaded machine with Redis in between).
    loop {
        let ev = ws.next_json().await.unwrap();
        let update = event_data::<ExecutionUpdated>(&ev).map(|d| d.execution_updated);
        if update.is_some_and(|u| u.status == execution_updated::ExecutionStatus::RUNNING) {
            break;
        }
    }
    // The trigger is instant: a moment later the delay is running.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let started = std::time::Instant::now();
    let r = app.op::<CancelExecution>(Some(&t), cancel_execution::Variables { id: exec.clone() }).await;
    assert_eq!(r.data().cancel_execution.execution.status, cancel_execution::ExecutionStatus::CANCELLED);
    // The worker hears it and interrupts the delay.
    loop {
        let ev = ws.next_json().await.unwrap();
        let node = event_data::<ExecutionUpdated>(&ev).and_then(|d| d.execution_updated.node);
        if node.is_some_and(|n| n.node_id == "wait" && n.status == execution_updated::NodeStatus::CANCELLED) {
            break;
        }
    }
    // Interrupted, not waited out: well before the delay's 20 s were over.
    assert!(started.elapsed() < Duration::from_secs(15), "the delay was interrupted");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let e = execution(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::CANCELLED);
    assert!(e.nodes.iter().all(|n| n.node_id != "after"), "nothing ran after the cancel");
    // Cancelling again: it already ended.
    let r = app.gql(Some(&t), doc!("workflows/CancelExecution"), json!({ "id": exec })).await;
    assert_eq!(r.code(), "EXECUTION_FINISHED");

    // A queued run cancels at once too (no worker here picks it up first: tested by the
    // state, which never leaves CANCELLED).
    let exec2 = execute(&app, &t, &id, json!({})).await;
    let r = app.op::<CancelExecution>(Some(&t), cancel_execution::Variables { id: exec2.clone() }).await;
    assert_eq!(r.data().cancel_execution.execution.status, cancel_execution::ExecutionStatus::CANCELLED);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(execution(&app, &t, &exec2).await.status, ExecutionStatus::CANCELLED);
}

#[tokio::test]
async fn retry_from_the_failed_node_keeps_finished_results_and_can_use_the_fixed_version() {
    let app = spawn_app().await;
    let o = org(&app, "retry").await;
    let t = o.owner.access.clone();
    let (id, _) = create(
        &app,
        &o,
        "Flaky",
        vec![
            node("start", "trigger.manual", json!({})),
            node("remember", "memory.store", json!({ "store": "log", "content": "step one ran" })),
            node("compute", "code", json!({ "source": "throw \"bug\"" })),
        ],
        vec![edge("e1", "start", "main", "remember"), edge("e2", "remember", "main", "compute")],
    )
    .await;
    let exec = execute(&app, &t, &id, json!({})).await;
    let e = finished(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert!(e.error.as_deref().unwrap().contains("bug"));
    // Fix the draft, then retry from the failed node with the latest version.
    let w = app.op::<Workflow>(Some(&t), workflow::Variables { id: id.clone() }).await;
    let rev = w.data().workflow.revision;
    app.gql(
        Some(&t),
        doc!("workflows/UpdateNode"),
        json!({ "input": { "workflowId": id, "expectedRevision": rev, "nodeId": "compute", "config": { "source": "\"fixed\"" } } }),
    )
    .await
    .data();
    let r = app
        .op_json::<RetryExecution>(
            Some(&t),
            json!({ "input": { "id": exec, "fromFailedNode": true, "useLatestVersion": true } }),
        )
        .await
        .into_data()
        .retry_execution
        .execution;
    let retry = r.id;
    assert_eq!(r.retry_of.as_deref(), Some(exec.as_str()));
    let e = finished(&app, &t, &retry).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    assert_eq!(e.output, Some(json!("fixed")));
    assert!(node_state(&e, "remember").reused);
    assert!(!node_state(&e, "compute").reused);
    // The side effect of the node that had finished happened once.
    use sea_orm::EntityTrait;
    assert_eq!(entity::memory_record::Entity::find().all(&app.db().await).await.unwrap().len(), 1);
    // A retry from the start with the old graph fails again, and reruns everything.
    let r = app.op_json::<RetryExecution>(Some(&t), json!({ "input": { "id": exec } })).await;
    let again = r.into_data().retry_execution.execution.id;
    assert_eq!(finished(&app, &t, &again).await.status, ExecutionStatus::FAILED);
    assert_eq!(entity::memory_record::Entity::find().all(&app.db().await).await.unwrap().len(), 2);
}

/// A loopback HTTP API that fails `failures` times with 503, then answers.
async fn flaky_api(failures: usize) -> (String, Arc<AtomicUsize>) {
    use axum::{Json, Router, http::StatusCode, routing::any};
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let router = Router::new()
        .route(
            "/items",
            any(move || {
                let h = h.clone();
                async move {
                    let n = h.fetch_add(1, Ordering::SeqCst);
                    if n < failures {
                        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "busy" })))
                    } else {
                        (StatusCode::OK, Json(json!({ "items": [{ "name": "a", "active": true }, { "name": "b", "active": false }, { "name": "c", "active": true }] })))
                    }
                }
            }),
        )
        .route("/slow", any(|| async { tokio::time::sleep(Duration::from_secs(30)).await; "late" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn http_nodes_retry_with_backoff_and_feed_loops_filters_and_conditionals() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_WORKFLOW_HTTP_ALLOW_PRIVATE", "true".into())], ..Default::default() },
    )
    .await;
    let o = org(&app, "http").await;
    let t = o.owner.access.clone();
    let (base, hits) = flaky_api(2).await;
    let mut fetch = node("fetch", "http.request", json!({ "url": format!("{base}/items") }));
    fetch["retry"] =
        json!({ "maxAttempts": 3, "backoff": "exponential", "delayMs": 50, "retryOn": ["http_5xx"] });
    let (id, _) = create(
        &app,
        &o,
        "Fetch",
        vec![
            node("start", "trigger.manual", json!({})),
            fetch,
            node(
                "active",
                "logic.filter",
                json!({ "items": "{{ nodes.fetch.output.body.items }}", "condition": "{{ item.active }}" }),
            ),
            node("each", "logic.loop", json!({ "items": "{{ input }}" })),
            node("shout", "code", json!({ "source": "input.name.to_upper()" })),
            node("many", "logic.conditional", json!({ "condition": "{{ input | length >= 2 }}" })),
            node("yes", "code", json!({ "source": "\"plenty: \" + input.len()" })),
            node("no", "code", json!({ "source": "\"few\"" })),
        ],
        vec![
            edge("e1", "start", "main", "fetch"),
            edge("e2", "fetch", "main", "active"),
            edge("e3", "active", "main", "each"),
            edge("e4", "each", "body", "shout"),
            edge("e5", "each", "done", "many"),
            edge("e6", "many", "true", "yes"),
            edge("e7", "many", "false", "no"),
        ],
    )
    .await;
    let exec = execute(&app, &t, &id, json!({})).await;
    let e = finished(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(node_state(&e, "fetch").attempt, 3);
    assert_eq!(
        node_state(&e, "active").output,
        Some(json!([{ "name": "a", "active": true }, { "name": "c", "active": true }]))
    );
    assert_eq!(node_state(&e, "each").output, Some(json!(["A", "C"])));
    let iterations: Vec<&str> =
        e.nodes.iter().filter(|n| n.node_id == "shout").map(|n| n.iteration.as_str()).collect();
    assert_eq!(iterations, ["each:0", "each:1"]);
    assert_eq!(node_state(&e, "no").status, NodeStatus::SKIPPED);
    assert_eq!(e.output, Some(json!("plenty: 2")));
    let logs = serde_json::to_string(&e.logs).unwrap();
    assert!(logs.contains("attempt 1 failed (http_5xx)") && logs.contains("attempt 2 failed"), "{logs}");

    // Not retried when the error kind is not listed; an error branch catches the failure.
    let (base2, hits2) = flaky_api(5).await;
    let mut fetch = node("fetch", "http.request", json!({ "url": format!("{base2}/items") }));
    fetch["retry"] = json!({ "maxAttempts": 3, "backoff": "fixed", "delayMs": 10, "retryOn": ["timeout"] });
    let (id, _) = create(
        &app,
        &o,
        "Caught",
        vec![
            node("start", "trigger.manual", json!({})),
            fetch,
            node("handle", "code", json!({ "source": "\"handled: \" + input.error" })),
        ],
        vec![edge("e1", "start", "main", "fetch"), edge("e2", "fetch", "error", "handle")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(hits2.load(Ordering::SeqCst), 1);
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED);
    assert!(
        e.output
            .as_ref()
            .and_then(|o| o.as_str())
            .unwrap()
            .starts_with("handled: 127.0.0.1 answered HTTP 503"),
        "{e:?}"
    );

    // A node timeout interrupts a slow request.
    let mut slow = node("slow", "http.request", json!({ "url": format!("{base}/slow") }));
    slow["timeoutMs"] = json!(300);
    let (id, _) = create(
        &app,
        &o,
        "Slow",
        vec![node("start", "trigger.manual", json!({})), slow],
        vec![edge("e1", "start", "main", "slow")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert!(e.error.as_deref().unwrap().contains("timed out after 300 ms"), "{e:?}");
}

#[tokio::test]
async fn http_nodes_cannot_reach_private_addresses_by_default() {
    let app = spawn_app().await;
    let o = org(&app, "ssrf").await;
    let t = o.owner.access.clone();
    let (base, hits) = flaky_api(0).await;
    let (id, _) = create(
        &app,
        &o,
        "Internal",
        vec![
            node("start", "trigger.manual", json!({})),
            node("fetch", "http.request", json!({ "url": format!("{base}/items") })),
        ],
        vec![edge("e1", "start", "main", "fetch")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert!(e.error.as_deref().unwrap().contains("private or internal address"), "{e:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn llm_rag_and_agent_nodes_talk_to_an_openai_compatible_model() {
    let llm = NodeService::start("llm-server.mjs", &["--key", "model-key-123"], &[]);
    let port = llm.info["port"].as_u64().unwrap();
    let app = spawn_app_on(
        Backend::fresh().await,
        Options {
            env: vec![
                // A name resolving to loopback, with private addresses not allowed: the
                // operator's own model server is not held to the graphs' public-only rule.
                ("ZYGO_LLM_BASE_URL", format!("http://localhost:{port}/v1")),
                ("ZYGO_LLM_MODEL", "test-model".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    let o = org(&app, "ai-flows").await;
    let t = o.owner.access.clone();
    app.gql(
        Some(&t),
        doc!("secrets/CreateSecret"),
        json!({ "input": { "tenantId": o.tenant, "name": "MODEL_KEY", "value": "model-key-123" } }),
    )
    .await
    .data();
    let (id, _) = create(
        &app,
        &o,
        "Assistant",
        vec![
            node("start", "trigger.manual", json!({})),
            node("save", "memory.store", json!({ "store": "kb", "content": "{{ trigger.fact }}" })),
            node("noise", "memory.store", json!({ "store": "kb", "content": "Bananas are yellow" })),
            node("context", "ai.rag", json!({ "store": "kb", "query": "Where is the office?" })),
            node("answer", "ai.llm", json!({ "prompt": "{{ input.prompt }}", "apiKey": "{{ secrets.MODEL_KEY }}" })),
            node(
                "agent",
                "ai.agent",
                json!({ "prompt": "CALL lookup {\"city\":\"Oslo\"}", "apiKey": "{{ secrets.MODEL_KEY }}", "maxSteps": 4 }),
            ),
            node("lookup", "code", json!({ "source": "\"weather in \" + input.city + \": sunny\"" })),
        ],
        vec![
            edge("e1", "start", "main", "save"),
            edge("e2", "save", "main", "noise"),
            edge("e3", "noise", "main", "context"),
            edge("e4", "context", "main", "answer"),
            edge("e5", "answer", "main", "agent"),
            edge("e6", "agent", "tools", "lookup"),
        ],
    )
    .await;
    let exec = execute(&app, &t, &id, json!({ "fact": "The office is in Oslo" })).await;
    let e = finished(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    let ctx = node_state(&e, "context").output.as_ref().unwrap();
    assert_eq!(ctx["documents"][0]["content"], "The office is in Oslo", "best match first");
    assert!(ctx["prompt"].as_str().unwrap().contains("- The office is in Oslo"));
    let answer = node_state(&e, "answer").output.as_ref().unwrap()["text"].as_str().unwrap().to_string();
    assert!(answer.starts_with("ECHO: Answer using only the context below."), "{answer}");
    let agent = node_state(&e, "agent").output.as_ref().unwrap();
    assert_eq!(agent["text"], "TOOL RESULT: \"weather in Oslo: sunny\"");
    assert_eq!(agent["toolCalls"][0]["tool"], "lookup");
    // The tool node ran as part of the agent's step, with the call's arguments.
    let tool_run = e.nodes.iter().find(|n| n.node_id == "lookup").unwrap();
    assert_eq!(tool_run.iteration, "agent:1.0");
    assert_eq!(tool_run.input, Some(json!({ "city": "Oslo" })));
    // The key reached the model (from the secret), and never the run's record.
    let reqs: Value =
        reqwest::get(format!("http://127.0.0.1:{port}/requests")).await.unwrap().json().await.unwrap();
    assert!(reqs.as_array().unwrap().iter().all(|r| r["authorization"] == "Bearer model-key-123"));
    assert!(!serde_json::to_string(&e).unwrap().contains("model-key-123"));

    // The step limit stops an agent that never finishes.
    let (id, _) = create(
        &app,
        &o,
        "Runaway",
        vec![
            node("start", "trigger.manual", json!({})),
            node(
                "agent",
                "ai.agent",
                json!({ "prompt": "LOOP_FOREVER", "maxSteps": 3, "apiKey": "{{ secrets.MODEL_KEY }}" }),
            ),
            node("tool", "code", json!({ "source": "1" })),
        ],
        vec![edge("e1", "start", "main", "agent"), edge("e2", "agent", "tools", "tool")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert!(e.error.as_deref().unwrap().contains("maxSteps (3)"), "{e:?}");
}

#[tokio::test]
async fn llm_nodes_without_a_model_fail_with_a_clear_error() {
    let app = spawn_app().await;
    let o = org(&app, "nomodel").await;
    let t = o.owner.access.clone();
    let (id, _) = create(
        &app,
        &o,
        "No model",
        vec![node("start", "trigger.manual", json!({})), node("ask", "ai.llm", json!({ "prompt": "hi" }))],
        vec![edge("e1", "start", "main", "ask")],
    )
    .await;
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert!(e.error.as_deref().unwrap().contains("no model configured"), "{e:?}");
}

#[tokio::test]
async fn code_nodes_are_sandboxed_and_limited() {
    let app = spawn_app().await;
    let o = org(&app, "sandbox").await;
    let t = o.owner.access.clone();
    // Each case can trip one limit only: the operation cap is small where it should trip and
    // out of reach where the clock should, so CPU load cannot change which message comes.
    for (source, max_ops, timeout_ms, expected) in [
        ("loop { }", 10_000u64, 60_000, "too many operations"),
        ("let s = \"x\"; loop { s += s; }", 10_000_000, 60_000, "Length of string"),
        ("open(\"/etc/passwd\")", 1_000_000, 60_000, "Function not found"),
        ("import \"std\"; 1", 1_000_000, 60_000, "import"),
        // Each iteration copies 256 KiB: the cap of 10 million operations is hours away.
        (
            "let s = \"x\"; for i in 0..17 { s += s; } loop { let t = s + s; }",
            10_000_000,
            300,
            "timed out after 300 ms",
        ),
    ] {
        let mut code = node("code", "code", json!({ "source": source, "maxOperations": max_ops }));
        code["timeoutMs"] = json!(timeout_ms);
        let (id, _) = create(
            &app,
            &o,
            "Sandbox",
            vec![node("start", "trigger.manual", json!({})), code],
            vec![edge("e1", "start", "main", "code")],
        )
        .await;
        let e = finished(&app, &t, &execute(&app, &t, &id, json!({})).await).await;
        assert_eq!(e.status, ExecutionStatus::FAILED, "{source}");
        let err = e.error.as_deref().unwrap();
        assert!(err.to_lowercase().contains(&expected.to_lowercase()), "{source}: {err}");
        assert!(!err.contains("Script terminated"), "{source}: {err}");
    }
}

/// The shared fixture of the trigger tests: an organisation with a draft "Hooked" workflow
/// (a webhook trigger and a code node); returns the app, the organisation, the owner's token,
/// the workflow and its revision.
async fn hooked() -> (TestApp, Org, String, String, i64) {
    let app = spawn_app().await;
    let o = org(&app, "triggers").await;
    let t = o.owner.access.clone();
    let (id, rev) = create(
        &app,
        &o,
        "Hooked",
        vec![
            node("hook", "trigger.webhook", json!({})),
            node("out", "code", json!({ "source": "\"v1:\" + input.body.name" })),
        ],
        vec![edge("e1", "hook", "main", "out")],
    )
    .await;
    (app, o, t, id, rev)
}

#[tokio::test]
async fn webhooks_run_the_published_version_and_a_run_can_pick_a_version_or_the_draft() {
    let (app, _o, t, id, rev) = hooked().await;
    let r = app
        .op_json::<PublishWorkflowVersion>(
            Some(&t),
            json!({ "input": { "workflowId": id, "note": "first" } }),
        )
        .await;
    assert_eq!(r.data().publish_workflow_version.version.version, 1);
    // The draft moves on; webhooks run the published version.
    app.gql(
        Some(&t),
        doc!("workflows/UpdateNode"),
        json!({ "input": { "workflowId": id, "expectedRevision": rev, "nodeId": "out", "config": { "source": "\"draft:\" + input.body.name" } } }),
    )
    .await
    .data();
    let url = app.op::<WorkflowWebhook>(Some(&t), workflow_webhook::Variables { id: id.clone() }).await;
    let url = url.into_data().workflow.webhook_url;
    let path = url.strip_prefix("http://zygo.test").unwrap();
    let resp = app.http.post(app.url(path)).json(&json!({ "name": "ada" })).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let exec = resp.json::<Value>().await.unwrap()["executionId"].as_str().unwrap().to_string();
    let e = finished(&app, &t, &exec).await;
    assert_eq!(
        (e.output.as_ref().and_then(|o| o.as_str()), Some(e.trigger.as_str()), e.version),
        (Some("v1:ada"), Some("webhook"), Some(1))
    );
    // A wrong token is just "not found".
    let bad = app.http.post(app.url(&format!("{}x", path))).json(&json!({})).send().await.unwrap();
    assert_eq!(bad.status(), 404);
    // Run a chosen version, or the draft.
    let r = app
        .op_json::<ExecuteWorkflow>(
            Some(&t),
            json!({ "input": { "workflowId": id, "version": 1, "input": { "body": { "name": "v" } } } }),
        )
        .await;
    let e = finished(&app, &t, &r.data().execute_workflow.execution.id).await;
    assert_eq!(e.output, Some(json!("v1:v")));
    let e = finished(&app, &t, &execute(&app, &t, &id, json!({ "body": { "name": "d" } })).await).await;
    assert_eq!(e.output, Some(json!("draft:d")));
    let r = app
        .gql(
            Some(&t),
            doc!("workflows/ExecuteWorkflow"),
            json!({ "input": { "workflowId": id, "version": 9 } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.version"));
}

#[tokio::test]
async fn templates_are_listed_instantiated_saved_from_a_workflow_and_duplicated() {
    let (app, o, t, id, _) = hooked().await;
    // Templates: a built-in one, and one saved from this workflow.
    let r = app
        .op::<WorkflowTemplates>(Some(&t), workflow_templates::Variables { tenant_id: o.tenant.clone() })
        .await;
    assert!(r.data().workflow_templates.iter().any(|t| t.id == "builtin:fetch-and-transform"));
    let r = app
        .op_json::<CreateWorkflowFromTemplate>(
            Some(&t),
            json!({ "input": { "tenantId": o.tenant, "templateId": "builtin:fetch-and-transform" } }),
        )
        .await;
    assert_eq!(r.data().create_workflow_from_template.workflow.graph.nodes.len(), 3);
    let r = app
        .op_json::<SaveWorkflowAsTemplate>(
            Some(&t),
            json!({ "input": { "workflowId": id, "name": "Hook template" } }),
        )
        .await;
    let tpl = r.into_data().save_workflow_as_template.template.id;
    let r = app
        .op_json::<CreateWorkflowFromTemplate>(
            Some(&t),
            json!({ "input": { "tenantId": o.tenant, "templateId": tpl, "name": "From mine" } }),
        )
        .await;
    assert_eq!(r.data().create_workflow_from_template.workflow.name, "From mine");
    let r = app.op_json::<DuplicateWorkflow>(Some(&t), json!({ "input": { "id": id } })).await;
    assert_eq!(r.data().duplicate_workflow.workflow.name, "Hooked (copy)");
}

#[tokio::test]
async fn a_schedule_starts_runs_by_itself_until_the_workflow_is_archived() {
    let (app, o, t, _, _) = hooked().await;
    // A schedule every second starts runs by itself; archiving stops it.
    let (sid, _) = create(
        &app,
        &o,
        "Ticker",
        vec![
            node("tick", "trigger.schedule", json!({ "cron": "* * * * * *" })),
            node("out", "code", json!({ "source": "trigger.scheduledAt" })),
        ],
        vec![edge("e1", "tick", "main", "out")],
    )
    .await;
    let runs = eventually(15, || async {
        let r = app
            .op_json::<WorkflowExecutions>(Some(&t), json!({ "id": sid, "status": "SUCCEEDED", "last": 10 }))
            .await;
        let n = r.data().workflow.executions.total_count;
        (n >= 2).then_some(n)
    })
    .await;
    assert!(runs >= 2);
    app.gql(Some(&t), doc!("workflows/ArchiveWorkflow"), json!({ "id": sid })).await.data();
    let r =
        app.gql(Some(&t), doc!("workflows/ExecuteWorkflow"), json!({ "input": { "workflowId": sid } })).await;
    assert_eq!(r.code(), "WORKFLOW_ARCHIVED");
}

/// The shared fixture of the isolation tests: organisations A and B, and a run of A's
/// "Private" workflow (a 5 s delay: still running while the tests knock).
async fn private_run() -> (TestApp, Org, Org, String, String) {
    let app = spawn_app().await;
    let a = org(&app, "tenant-a").await;
    let b = org(&app, "tenant-b").await;
    let (id, _) = create(
        &app,
        &a,
        "Private",
        vec![
            node("start", "trigger.manual", json!({})),
            node("wait", "flow.delay", json!({ "milliseconds": 5000 })),
        ],
        vec![edge("e1", "start", "main", "wait")],
    )
    .await;
    let exec = execute(&app, &a.owner.access, &id, json!({})).await;
    (app, a, b, id, exec)
}

#[tokio::test]
async fn another_tenant_cannot_read_run_cancel_or_watch_and_changes_nothing() {
    let (app, a, b, id, exec) = private_run().await;
    let bt = b.owner.access.clone();
    for (doc, vars) in [
        (doc!("workflows/Workflow"), json!({ "id": id })),
        (doc!("workflows/Execution"), json!({ "id": exec })),
        (doc!("workflows/ExecuteWorkflow"), json!({ "input": { "workflowId": id } })),
        (doc!("workflows/CancelExecution"), json!({ "id": exec })),
        (doc!("workflows/RetryExecution"), json!({ "input": { "id": exec } })),
        (doc!("workflows/ValidateWorkflow"), json!({ "id": id })),
        (doc!("workflows/DeleteWorkflow"), json!({ "id": id })),
        (doc!("relay/Node"), json!({ "id": id })),
        (doc!("relay/Node"), json!({ "id": exec })),
    ] {
        let r = app.gql(Some(&bt), doc, vars.clone()).await;
        assert_eq!(r.code(), "NOT_FOUND", "{doc} {vars}");
    }
    let both = || nodes::Variables { ids: vec![id.clone(), exec.clone()] };
    let r = app.op::<Nodes>(Some(&bt), both()).await;
    assert_eq!(r.data().nodes, [None, None], "hidden from another tenant");
    // Members refetch both by global ID (Relay's `node`).
    let r = app.op::<Nodes>(Some(&a.owner.access), both()).await;
    let list: Vec<_> = r.data().nodes.iter().map(|n| n.as_ref().expect("visible to a member")).collect();
    assert!(matches!(list[0].on, nodes::NodesNodesOn::Workflow) && list[0].id == id, "{list:?}");
    assert!(matches!(list[1].on, nodes::NodesNodesOn::Execution) && list[1].id == exec, "{list:?}");
    let r = app.op::<Node>(Some(&a.owner.access), node::Variables { id: id.clone() }).await;
    let node::NodeNodeOn::Workflow(w) = &r.data().node.on else { panic!("not a workflow: {:?}", r.data()) };
    assert_eq!(w.name, "Private");
    let r = app.gql(Some(&bt), doc!("workflows/Workflows"), json!({ "tenantId": a.tenant })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&bt)).await.unwrap();
    ws.subscribe("1", doc!("workflows/ExecutionUpdated"), json!({ "executionId": exec })).await;
    let msg = ws.next_json().await.unwrap();
    assert_eq!((msg["id"].as_str(), msg["type"].as_str()), (Some("1"), Some("next")));
    assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{msg}");
    assert!(msg["payload"]["data"].is_null());
    ws.subscribe("2", doc!("workflows/ExecutionLogs"), json!({ "executionId": exec })).await;
    loop {
        let msg = ws.next_json().await.unwrap();
        if msg["id"] == "2" && msg["type"] == "next" {
            assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{msg}");
            break;
        }
    }
    // B's failed attempts changed nothing.
    let e = finished(&app, &a.owner.access, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED);
}

#[tokio::test]
async fn anonymous_callers_are_asked_to_sign_in_for_a_workflow() {
    let (app, _a, _b, id, _exec) = private_run().await;
    // Anonymous callers are asked to sign in.
    let r = app.gql(None, doc!("workflows/Workflow"), json!({ "id": id })).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_viewer_reads_a_workflow_but_neither_edits_nor_runs_it() {
    let (app, a, _b, id, exec) = private_run().await;
    // A viewer reads but neither edits nor runs.
    let (viewer, _) = app.join_as(&a.owner, &a.tenant, "viewer@tenant-a.test", "viewer").await;
    let r = app.op::<Workflow>(Some(&viewer.access), workflow::Variables { id: id.clone() }).await;
    assert_eq!(r.data().workflow.name, "Private");
    let r = app
        .gql(
            Some(&viewer.access),
            doc!("workflows/ExecuteWorkflow"),
            json!({ "input": { "workflowId": id } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app.gql(Some(&viewer.access), doc!("workflows/CancelExecution"), json!({ "id": exec })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app.gql(Some(&viewer.access), doc!("workflows/WorkflowWebhook"), json!({ "id": id })).await;
    assert_eq!(r.code(), "FORBIDDEN");
}

/// Runs the real `zygo` binary as a separate process, so a test can kill it.
struct Process(std::process::Child);

impl Process {
    fn start(data_dir: &std::path::Path, backend: &Backend) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_zygo"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ZYGO_LISTEN", format!("127.0.0.1:{port}"))
            .env("ZYGO_DATA_DIR", data_dir)
            .env("ZYGO_JWT_SECRET", crate::helpers::JWT_SECRET)
            .env("ZYGO_LOG", "error")
            .env("ZYGO_WORKFLOW_LEASE", "2")
            .env("ZYGO_WORKFLOW_POLL_INTERVAL_MS", "200")
            .env("ZYGO_WORKFLOW_HTTP_ALLOW_PRIVATE", "true")
            .env("ZYGO_REDIS_PREFIX", &backend.redis_prefix)
            .stdout(std::process::Stdio::null());
        if let Some(url) = &backend.database_url {
            cmd.env("ZYGO_DATABASE_URL", url);
        }
        if let Some(url) = &backend.redis_url {
            cmd.env("ZYGO_REDIS_URL", url);
        }
        Self(cmd.spawn().expect("zygo starts"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_run_whose_server_is_killed_resumes_after_the_last_finished_node() {
    // The setup (users, workflow) goes through an in-process app; the run itself through a
    // separate zygo process on the same database that is killed mid-run.
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-kill-{}", uuid::Uuid::new_v4().simple()));
    let app = spawn_app_on(
        backend.clone(),
        Options {
            data_dir: Some(data_dir.clone()),
            env: vec![("ZYGO_WORKFLOW_WORKERS", "0".into()), ("ZYGO_WORKFLOW_LEASE", "2".into())],
            ..Default::default()
        },
    )
    .await;
    let o = org(&app, "crash").await;
    let t = o.owner.access.clone();
    // A call that holds its worker (a Delay would park the run and free it): the first
    // request never gets an answer, the one after the takeover does.
    let calls = Arc::new(AtomicUsize::new(0));
    let api = {
        use axum::{Router, routing::get};
        let calls = calls.clone();
        let router = Router::new().route(
            "/hold",
            get(move || {
                let calls = calls.clone();
                async move {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        std::future::pending::<()>().await;
                    }
                    "answered"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}/hold")
    };
    let mut wait = node("wait", "http.request", json!({ "url": api }));
    wait["safeToRepeat"] = json!(true);
    let (id, _) = create(
        &app,
        &o,
        "Long",
        vec![
            node("start", "trigger.manual", json!({})),
            node("record", "memory.store", json!({ "store": "effects", "content": "charged the card" })),
            wait,
            node("finish", "code", json!({ "source": "\"done\"" })),
        ],
        vec![
            edge("e1", "start", "main", "record"),
            edge("e2", "record", "main", "wait"),
            edge("e3", "wait", "main", "finish"),
        ],
    )
    .await;
    let exec = execute(&app, &t, &id, json!({})).await;
    let first = Process::start(&data_dir, &backend);
    // Wait until the worker process is inside the call (the memory write is committed).
    eventually(30, || async { (calls.load(Ordering::SeqCst) >= 1).then_some(()) }).await;
    let e = execution(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::RUNNING);
    assert_eq!(node_state(&e, "record").status, NodeStatus::SUCCEEDED);
    drop(first); // SIGKILL: no shutdown, the lease is left behind.
    assert_eq!(execution(&app, &t, &exec).await.status, ExecutionStatus::RUNNING);
    let _second = Process::start(&data_dir, &backend);
    let e = eventually(40, || async {
        let e = execution(&app, &t, &exec).await;
        (e.status != ExecutionStatus::RUNNING).then_some(e)
    })
    .await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    assert_eq!(e.output, Some(json!("done")));
    assert_eq!(e.claims, 2, "taken over once");
    use sea_orm::EntityTrait;
    let effects = entity::memory_record::Entity::find().all(&app.db().await).await.unwrap();
    assert_eq!(effects.len(), 1, "the node that finished before the crash did not run again");
    assert!(serde_json::to_string(&e.logs).unwrap().contains("resumed by"));
}

#[tokio::test]
async fn data_source_and_email_nodes_run_and_failures_start_the_error_workflow() {
    let app = spawn_app().await;
    let o = org(&app, "digest").await;
    let t = o.owner.access.clone();
    // The error workflow records what failed.
    let (handler, _) = create(
        &app,
        &o,
        "On failure",
        vec![
            node("start", "trigger.manual", json!({})),
            node("note", "memory.store", json!({ "store": "failures", "content": "{{ trigger.error }}" })),
        ],
        vec![edge("e1", "start", "main", "note")],
    )
    .await;
    let (id, _) = create(
        &app,
        &o,
        "Digest",
        vec![
            node("start", "trigger.manual", json!({})),
            node("members", "data.source", json!({ "source": "members" })),
            node(
                "mail",
                "email.send",
                json!({ "to": "{{ trigger.to }}", "subject": "Digest", "body": "{{ input.count }} member(s): {{ input.items[0].email }}" }),
            ),
            node("slow", "flow.delay", json!({ "milliseconds": 10000 })),
        ],
        vec![edge("e1", "start", "main", "members"), edge("e2", "members", "main", "mail"), edge("e3", "mail", "main", "slow")],
    )
    .await;
    // The run times out in the delay (a run timeout of 1 s) after the mail went out.
    let r = app
        .op_json::<UpdateWorkflow>(
            Some(&t),
            json!({ "input": { "id": id, "settings": { "timeoutSeconds": 1, "errorWorkflowId": handler } } }),
        )
        .await;
    assert_eq!(r.data().update_workflow.workflow.settings.timeout_seconds, 1);
    let exec = execute(&app, &t, &id, json!({ "to": "team@digest.test" })).await;
    let e = finished(&app, &t, &exec).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert!(e.error.as_deref().unwrap().contains("exceeded its timeout"), "{e:?}");
    assert_eq!(node_state(&e, "members").output.as_ref().unwrap()["items"][0]["email"], "owner@digest.test");
    let mail = eventually(10, || async { app.mails_to("team@digest.test").into_iter().next() }).await;
    assert!(mail.contains("Subject: Digest") && mail.contains("1 member(s): owner@digest.test"), "{mail}");
    // The error workflow ran with the failure.
    let runs = eventually(10, || async {
        let r = app
            .op_json::<WorkflowExecutions>(
                Some(&t),
                json!({ "id": handler, "status": "SUCCEEDED", "last": 5 }),
            )
            .await;
        let edges = r.into_data().workflow.executions.edges;
        (!edges.is_empty()).then_some(edges)
    })
    .await;
    assert_eq!(runs[0].node.trigger, "error");
    // Whoever started the run is told in the app.
    let told = eventually(10, || async {
        let r = app
            .gql(Some(&t), doc!("notifications/ViewerNotifications"), json!({ "kind": "EXECUTION_FAILED" }))
            .await;
        let edges = r.data()["viewer"]["notifications"]["edges"].as_array().cloned().unwrap_or_default();
        edges.first().map(|e| e["node"].clone())
    })
    .await;
    assert_eq!(told["title"], "A run of Digest failed", "{told}");
    assert!(told["body"].as_str().unwrap().contains("exceeded its timeout"), "{told}");
    // An invalid address fails the node, naming it.
    let exec = execute(&app, &t, &id, json!({ "to": "not-an-address" })).await;
    let e = finished(&app, &t, &exec).await;
    assert!(e.error.as_deref().unwrap().contains("`not-an-address` is not an e-mail address"), "{e:?}");
}

/// A workflow that mails `trigger.to`.
async fn mailer(app: &TestApp, o: &Org) -> String {
    let nodes = vec![
        node("start", "trigger.manual", json!({})),
        node("mail", "email.send", json!({ "to": "{{ trigger.to }}", "subject": "Hello", "body": "hi" })),
    ];
    create(app, o, "Mailer", nodes, vec![edge("e1", "start", "main", "mail")]).await.0
}

#[tokio::test]
async fn workflow_mail_is_budgeted_per_organisation_and_names_it() {
    let opts = Options { env: vec![("ZYGO_TENANT_MAIL_PER_HOUR", "3".into())], ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let a = org(&app, "budget").await;
    let flow = mailer(&app, &a).await;
    for i in 0..3 {
        let exec = execute(&app, &a.owner.access, &flow, json!({ "to": format!("r{i}@budget.test") })).await;
        assert_eq!(finished(&app, &a.owner.access, &exec).await.status, ExecutionStatus::SUCCEEDED);
    }
    // The fourth mail of the hour is refused: the run fails, naming the node and the limit.
    let exec = execute(&app, &a.owner.access, &flow, json!({ "to": "r3@budget.test" })).await;
    let e = finished(&app, &a.owner.access, &exec).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    let error = e.error.as_deref().unwrap();
    assert!(error.contains("mail") && error.contains("ZYGO_TENANT_MAIL_PER_HOUR"), "{error}");
    // Mail that went out names the organisation and replies go to the member who ran it.
    let sent = eventually(10, || async { app.mails_to("r0@budget.test").into_iter().next() }).await;
    assert!(sent.contains("X-Zygo-Tenant: Org budget (budget; "), "{sent}");
    assert!(sent.contains("Reply-To: owner@budget.test"), "{sent}");
    assert!(app.mails_to("r3@budget.test").is_empty());
    // Another organisation's budget is its own.
    let b = org(&app, "other-budget").await;
    let flow = mailer(&app, &b).await;
    let exec = execute(&app, &b.owner.access, &flow, json!({ "to": "x@other.test" })).await;
    assert_eq!(finished(&app, &b.owner.access, &exec).await.status, ExecutionStatus::SUCCEEDED);
    // Billing meters each organisation's queued mails of the day (the refused one is not).
    use crate::billing::{BillingRead, Limit, billing};
    for (o, sent) in [(&a, 3), (&b, 1)] {
        let mails = billing(&app, &o.owner, &o.tenant).await.usage_of(Limit::OUTBOUND_MAILS_PER_DAY).clone();
        assert_eq!((mails.used, mails.metered), (sent, true));
    }
}
