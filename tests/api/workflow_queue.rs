//! The workflow queue under attack: a tenant that fills the worker pool with waits, a run
//! that keeps killing its worker, runs of suspended organisations and archived workflows,
//! a foreign error workflow, and a waiting node nobody could see.
//!
//! State a test cannot reach through the API (a lease left by a dead worker, a wake-up time
//! that came) is arranged through the test's own database handle.

use chrono::Utc;
use entity::{
    execution::{ExecutionStatus as Stored, ExecutionTrigger},
    node_execution::NodeStatus as StoredNode,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    doc,
    gql::{self, *},
    helpers::{
        Backend, Options, Session, TestApp, WsClient, event_data, eventually, spawn_app, spawn_app_on,
    },
    workflows::{ExecutionStatus, NodeRun, NodeStatus, Run},
};

struct Org {
    owner: Session,
    tenant: String,
    slug: String,
}

async fn org(app: &TestApp, slug: &str) -> Org {
    let owner = app.verified_user(&format!("owner@{slug}.test")).await;
    let tenant = app.create_tenant(&owner, slug).await;
    Org { owner, tenant, slug: slug.to_string() }
}

fn node(id: &str, ty: &str, config: Value) -> Value {
    json!({ "id": id, "type": ty, "name": id, "config": config })
}

fn edge(id: &str, source: &str, target: &str) -> Value {
    json!({ "id": id, "source": source, "sourcePort": "main", "target": target, "targetPort": "main" })
}

/// A workflow `start → wait (ms) → done`.
async fn waiting_workflow(app: &TestApp, o: &Org, ms: u64) -> String {
    create(
        app,
        o,
        "Waits",
        vec![
            node("start", "trigger.manual", json!({})),
            node("wait", "flow.delay", json!({ "milliseconds": ms })),
            node("done", "code", json!({ "source": "\"done\"" })),
        ],
        vec![edge("e1", "start", "wait"), edge("e2", "wait", "done")],
    )
    .await
}

/// A workflow `start → done`.
async fn trivial_workflow(app: &TestApp, o: &Org) -> String {
    create(
        app,
        o,
        "Trivial",
        vec![
            node("start", "trigger.manual", json!({})),
            node("done", "code", json!({ "source": "\"done\"" })),
        ],
        vec![edge("e1", "start", "done")],
    )
    .await
}

async fn create(app: &TestApp, o: &Org, name: &str, nodes: Vec<Value>, edges: Vec<Value>) -> String {
    let r = app
        .op_json::<CreateWorkflow>(
            Some(&o.owner.access),
            json!({ "input": { "tenantId": o.tenant, "name": name, "graph": { "nodes": nodes, "edges": edges } } }),
        )
        .await;
    r.into_data().create_workflow.workflow.id
}

async fn execute(app: &TestApp, o: &Org, workflow: &str) -> String {
    let r = app
        .op_json::<ExecuteWorkflow>(
            Some(&o.owner.access),
            json!({ "input": { "workflowId": workflow, "input": {} } }),
        )
        .await;
    r.into_data().execute_workflow.execution.id
}

async fn execution(app: &TestApp, o: &Org, id: &str) -> Run {
    let vars = gql::execution::Variables { id: id.into(), logs: Some(100) };
    app.op::<gql::Execution>(Some(&o.owner.access), vars).await.into_data().execution
}

async fn finished(app: &TestApp, o: &Org, id: &str) -> Run {
    eventually(30, || async {
        let e = execution(app, o, id).await;
        use ExecutionStatus::*;
        matches!(e.status, SUCCEEDED | FAILED | CANCELLED).then_some(e)
    })
    .await
}

fn node_state(e: &Run, id: &str) -> Option<NodeRun> {
    e.nodes.iter().find(|n| n.node_id == id && n.iteration.is_empty()).cloned()
}

/// Waits until the run's `wait` node is saved RUNNING and returns the run.
async fn waiting(app: &TestApp, o: &Org, id: &str) -> Run {
    eventually(30, || async {
        let e = execution(app, o, id).await;
        let running = node_state(&e, "wait").is_some_and(|n| n.status == NodeStatus::RUNNING);
        (running && e.status == ExecutionStatus::RUNNING).then_some(e)
    })
    .await
}

fn uuid_of(id: &str) -> Uuid {
    zygo::graphql::relay::from_global_id(&async_graphql::ID(id.to_string())).expect("a global ID").1
}

/// The run's row, read past the API (which a suspended organisation's members cannot use).
async fn row(app: &TestApp, id: &str) -> entity::execution::Model {
    entity::execution::Entity::find_by_id(uuid_of(id))
        .one(&app.db().await)
        .await
        .unwrap()
        .expect("execution row")
}

/// Waits until the run is parked: still running, held by no worker.
async fn parked(app: &TestApp, id: &str) -> entity::execution::Model {
    eventually(30, || async {
        let e = row(app, id).await;
        (e.status == Stored::Running && e.lease_owner.is_none()).then_some(e)
    })
    .await
}

async fn executions_of(app: &TestApp, workflow: &str) -> u64 {
    entity::execution::Entity::find()
        .filter(entity::execution::Column::WorkflowId.eq(uuid_of(workflow)))
        .count(&app.db().await)
        .await
        .unwrap()
}

/// Waits for the run's status `status` on `executionUpdated` and returns the event.
async fn status_event(
    ws: &mut WsClient,
    status: execution_updated::ExecutionStatus,
) -> execution_updated::ExecutionUpdatedExecutionUpdated {
    loop {
        let ev = ws.next_json().await.expect("subscription open");
        assert!(ev["type"] == "next", "{ev}");
        let u = event_data::<ExecutionUpdated>(&ev).expect("an update").execution_updated;
        if u.status == status && u.node.is_none() {
            return u;
        }
    }
}

/// The node part of an `executionUpdated` event, if the message is one.
fn node_event(ev: &Value) -> Option<execution_updated::ExecutionUpdatedExecutionUpdatedNode> {
    event_data::<ExecutionUpdated>(ev)?.execution_updated.node
}

#[tokio::test]
async fn one_tenants_waits_do_not_hold_the_workers_another_tenant_needs() {
    // Two workers; tenant A starts more long Delays than that.
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_WORKFLOW_WORKERS", "2".into())], ..Default::default() },
    )
    .await;
    let a = org(&app, "hogger").await;
    let b = org(&app, "bystander").await;
    let slow = waiting_workflow(&app, &a, 600_000).await;
    let mut runs = Vec::new();
    for _ in 0..4 {
        runs.push(execute(&app, &a, &slow).await);
    }
    // All four are waiting at once: waiting does not take a worker.
    for run in &runs {
        waiting(&app, &a, run).await;
    }
    // B's trivial run gets a worker and finishes.
    let quick = trivial_workflow(&app, &b).await;
    let exec = execute(&app, &b, &quick).await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&b.owner.access)).await.unwrap();
    ws.subscribe("1", doc!("workflows/ExecutionUpdated"), json!({ "executionId": exec })).await;
    status_event(&mut ws, execution_updated::ExecutionStatus::SUCCEEDED).await;
    assert_eq!(execution(&app, &b, &exec).await.output, Some(json!("done")));
    // A's runs still wait, RUNNING for clients, and cancel at once.
    for run in &runs {
        assert_eq!(execution(&app, &a, run).await.status, ExecutionStatus::RUNNING);
    }
    for run in &runs {
        let r = app
            .op::<CancelExecution>(Some(&a.owner.access), cancel_execution::Variables { id: run.clone() })
            .await;
        assert_eq!(r.data().cancel_execution.execution.status, cancel_execution::ExecutionStatus::CANCELLED);
    }
    for run in &runs {
        let e = execution(&app, &a, run).await;
        assert_eq!(e.status, ExecutionStatus::CANCELLED);
        assert_eq!(node_state(&e, "wait").unwrap().status, NodeStatus::CANCELLED);
        assert!(node_state(&e, "done").is_none(), "nothing ran after the cancel");
    }
}

#[tokio::test]
async fn a_waiting_node_is_saved_running_with_its_start_which_a_cancel_keeps() {
    let app = spawn_app().await;
    let o = org(&app, "watcher").await;
    let w = waiting_workflow(&app, &o, 600_000).await;
    let exec = execute(&app, &o, &w).await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&o.owner.access)).await.unwrap();
    ws.subscribe("1", doc!("workflows/ExecutionUpdated"), json!({ "executionId": exec })).await;
    // The delay's RUNNING event (live, or replayed from its saved row)…
    loop {
        let ev = ws.next_json().await.expect("subscription open");
        if let Some(n) = node_event(&ev)
            && n.node_id == "wait"
            && n.status == execution_updated::NodeStatus::RUNNING
        {
            break;
        }
    }
    // …means its row says so, with when it started.
    let e = execution(&app, &o, &exec).await;
    let wait = node_state(&e, "wait").expect("the waiting node is saved");
    assert_eq!(wait.status, NodeStatus::RUNNING, "{e:?}");
    let started = wait.started_at.as_deref().expect("startedAt saved").to_string();
    assert!(wait.finished_at.is_none());
    // A subscriber that comes later gets it in its replay.
    let mut late = WsClient::connect(&app, "graphql-transport-ws").await;
    late.init(Some(&o.owner.access)).await.unwrap();
    late.subscribe("1", doc!("workflows/ExecutionUpdated"), json!({ "executionId": exec })).await;
    loop {
        let ev = late.next_json().await.expect("subscription open");
        if let Some(n) = node_event(&ev)
            && n.node_id == "wait"
        {
            assert_eq!(n.status, execution_updated::NodeStatus::RUNNING);
            break;
        }
    }
    // Cancelled, the node ends CANCELLED and keeps its start.
    let r = app
        .op::<CancelExecution>(Some(&o.owner.access), cancel_execution::Variables { id: exec.clone() })
        .await;
    assert_eq!(r.data().cancel_execution.execution.status, cancel_execution::ExecutionStatus::CANCELLED);
    loop {
        let ev = ws.next_json().await.expect("subscription open");
        if let Some(n) = node_event(&ev)
            && n.node_id == "wait"
            && n.status == execution_updated::NodeStatus::CANCELLED
        {
            break;
        }
    }
    let e = execution(&app, &o, &exec).await;
    let wait = node_state(&e, "wait").unwrap();
    assert_eq!(wait.status, NodeStatus::CANCELLED);
    assert_eq!(wait.started_at.as_deref(), Some(started.as_str()), "the start is kept");
    assert!(wait.finished_at.is_some());
}

#[tokio::test]
async fn a_parked_run_wakes_and_finishes_without_counting_as_a_lost_worker() {
    let app = spawn_app().await;
    let o = org(&app, "sleeper").await;
    let w = waiting_workflow(&app, &o, 600_000).await;
    let exec = execute(&app, &o, &w).await;
    let before = parked(&app, &exec).await;
    assert_eq!(before.claims, 1);
    // Its wake-up time comes (moved forward rather than waited for).
    let mut m: entity::execution::ActiveModel = before.into();
    m.run_after = Set(Utc::now() - chrono::Duration::seconds(1));
    m.update(&app.db().await).await.unwrap();
    // It cannot wait 600 s in 30: this run resumes, it is not restarted. Its delay sees the
    // wait is not over and parks again; once more, with its start moved back, it is over.
    let e = eventually(30, || async {
        let e = row(&app, &exec).await;
        (e.status == Stored::Running && e.lease_owner.is_none() && e.run_after > Utc::now()).then_some(e)
    })
    .await;
    assert_eq!(e.claims, 1, "a wake-up is not a lost worker");
    let long_ago = Utc::now() - chrono::Duration::hours(1);
    let db = app.db().await;
    entity::node_execution::Entity::update_many()
        .col_expr(entity::node_execution::Column::StartedAt, sea_orm::sea_query::Expr::value(long_ago))
        .filter(entity::node_execution::Column::ExecutionId.eq(e.id))
        .filter(entity::node_execution::Column::NodeId.eq("wait"))
        .exec(&db)
        .await
        .unwrap();
    let mut m: entity::execution::ActiveModel = e.into();
    m.run_after = Set(Utc::now() - chrono::Duration::seconds(1));
    m.update(&db).await.unwrap();
    let e = finished(&app, &o, &exec).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    assert_eq!(e.output, Some(json!("done")));
    assert_eq!(e.claims, 1);
    let wait = node_state(&e, "wait").unwrap();
    assert_eq!(wait.status, NodeStatus::SUCCEEDED);
    assert!(wait.started_at.as_deref().unwrap().starts_with(&long_ago.format("%Y-%m-%dT%H").to_string()));
}

/// Inserts a run of `workflow` as a worker that died left it: running, its lease expired,
/// claimed `claims` times, its `work` node in flight.
async fn abandoned_run(app: &TestApp, o: &Org, workflow: &str, claims: i32) -> String {
    let db = app.db().await;
    let w = entity::workflow::Entity::find_by_id(uuid_of(workflow)).one(&db).await.unwrap().unwrap();
    let now = Utc::now();
    let id = Uuid::now_v7();
    entity::execution::ActiveModel {
        id: Set(id),
        tenant_id: Set(uuid_of(&o.tenant)),
        workflow_id: Set(w.id),
        version: Set(None),
        graph: Set(w.graph.clone()),
        settings: Set(json!({})),
        status: Set(Stored::Running),
        trigger: Set(ExecutionTrigger::Manual),
        input: Set(json!({})),
        output: Set(None),
        error: Set(None),
        retry_of: Set(None),
        claims: Set(claims),
        lease_owner: Set(Some("a-worker-that-died".into())),
        lease_expires_at: Set(Some(now - chrono::Duration::minutes(1))),
        run_after: Set(now - chrono::Duration::minutes(5)),
        created_by: Set(None),
        created_at: Set(now - chrono::Duration::minutes(5)),
        started_at: Set(Some(now - chrono::Duration::minutes(5))),
        finished_at: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    entity::node_execution::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(uuid_of(&o.tenant)),
        execution_id: Set(id),
        node_id: Set("work".into()),
        iteration: Set(String::new()),
        status: Set(StoredNode::Running),
        port: Set(None),
        input: Set(None),
        output: Set(None),
        error: Set(None),
        attempt: Set(1),
        reused: Set(false),
        started_at: Set(Some(now - chrono::Duration::minutes(2))),
        finished_at: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    zygo::graphql::relay::to_global_id("Execution", id).to_string()
}

#[tokio::test]
async fn a_run_whose_worker_keeps_dying_is_quarantined_instead_of_claimed_again() {
    let app = spawn_app().await;
    let o = org(&app, "crashloop").await;
    let w = create(
        &app,
        &o,
        "Crashes",
        vec![
            node("start", "trigger.manual", json!({})),
            node("work", "code", json!({ "source": "\"ran\"" })),
        ],
        vec![edge("e1", "start", "work")],
    )
    .await;
    // Its worker died twice before (third claim now): taken over once more and finished.
    let survivor = abandoned_run(&app, &o, &w, 2).await;
    // Its worker died three times: quarantined at claim, nothing runs.
    let crasher = abandoned_run(&app, &o, &w, 3).await;
    let e = finished(&app, &o, &survivor).await;
    assert_eq!((&e.status, &e.output), (&ExecutionStatus::SUCCEEDED, &Some(json!("ran"))), "{e:?}");
    assert_eq!(e.claims, 3);
    let e = finished(&app, &o, &crasher).await;
    assert_eq!(e.status, ExecutionStatus::FAILED, "{e:?}");
    let error = e.error.as_deref().unwrap();
    assert!(error.starts_with("worker lost repeatedly"), "{error}");
    assert!(e.output.is_none());
    let work = node_state(&e, "work").unwrap();
    assert_eq!(work.status, NodeStatus::FAILED, "the node in flight is not run again");
    assert!(work.error.as_deref().unwrap().contains("worker lost repeatedly"));
    assert!(serde_json::to_string(&e.logs).unwrap().contains("worker lost repeatedly"));
    // And it stays failed: no later claim revives it.
    let r = app.gql(Some(&o.owner.access), doc!("workflows/CancelExecution"), json!({ "id": crasher })).await;
    assert_eq!(r.code(), "EXECUTION_FINISHED");
}

async fn suspend(app: &TestApp, o: &Org) {
    let vars = suspend_tenant::Variables { id: o.tenant.clone(), confirm_slug: o.slug.clone() };
    let r = app.op::<SuspendTenant>(Some(&o.owner.access), vars).await;
    assert_eq!(r.data().suspend_tenant.tenant.status, "suspended");
}

#[tokio::test]
async fn a_suspended_organisation_runs_nothing_from_webhooks_schedules_or_its_queue() {
    let app = spawn_app().await;
    let o = org(&app, "frozen").await;
    let hooked = create(
        &app,
        &o,
        "Hooked",
        vec![
            node("hook", "trigger.webhook", json!({})),
            node("out", "code", json!({ "source": "\"hooked\"" })),
        ],
        vec![edge("e1", "hook", "out")],
    )
    .await;
    let url = app
        .op::<WorkflowWebhook>(Some(&o.owner.access), workflow_webhook::Variables { id: hooked.clone() })
        .await
        .into_data()
        .workflow
        .webhook_url;
    let path = url.strip_prefix("http://zygo.test").unwrap().to_string();
    let ticker = create(
        &app,
        &o,
        "Ticker",
        vec![
            node("tick", "trigger.schedule", json!({ "cron": "* * * * * *" })),
            node("out", "code", json!({ "source": "\"tick\"" })),
        ],
        vec![edge("e1", "tick", "out")],
    )
    .await;
    // A run that waits (parked) when the organisation is suspended.
    let waits = waiting_workflow(&app, &o, 600_000).await;
    let parked_run = execute(&app, &o, &waits).await;
    parked(&app, &parked_run).await;
    // The schedule runs while the organisation is active.
    eventually(30, || async { (executions_of(&app, &ticker).await >= 1).then_some(()) }).await;

    suspend(&app, &o).await;

    // Webhooks: "no such webhook", and nothing queued.
    let resp = app.http.post(app.url(&path)).json(&json!({})).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(executions_of(&app, &hooked).await, 0);
    // Schedules: once a tick that began after the suspension is over, two more ticks come
    // and go without a run.
    let next_run = || async {
        entity::workflow::Entity::find_by_id(uuid_of(&ticker))
            .one(&app.db().await)
            .await
            .unwrap()
            .unwrap()
            .schedule_next_at
            .unwrap()
    };
    let suspended_at = Utc::now();
    eventually(30, || async {
        (next_run().await > suspended_at + chrono::Duration::seconds(1)).then_some(())
    })
    .await;
    let runs = executions_of(&app, &ticker).await;
    let later = next_run().await;
    eventually(30, || async { (next_run().await > later + chrono::Duration::seconds(1)).then_some(()) })
        .await;
    assert_eq!(executions_of(&app, &ticker).await, runs, "a suspended organisation's schedule starts no run");
    // The queue: the parked run's wake-up comes (moved forward rather than waited for), and
    // the claim refuses it.
    let mut m: entity::execution::ActiveModel = row(&app, &parked_run).await.into();
    m.run_after = Set(Utc::now() - chrono::Duration::seconds(1));
    m.update(&app.db().await).await.unwrap();
    let e = eventually(30, || async {
        let e = row(&app, &parked_run).await;
        (e.status != Stored::Running).then_some(e)
    })
    .await;
    assert_eq!(e.status, Stored::Failed);
    assert!(e.error.as_deref().unwrap().contains("the organisation is suspended"), "{:?}", e.error);
    let done = entity::node_execution::Entity::find()
        .filter(entity::node_execution::Column::ExecutionId.eq(e.id))
        .filter(entity::node_execution::Column::NodeId.eq("done"))
        .count(&app.db().await)
        .await
        .unwrap();
    assert_eq!(done, 0, "nothing after the wait ran");
    // Members cannot start runs by hand either.
    let r = app
        .gql(
            Some(&o.owner.access),
            doc!("workflows/ExecuteWorkflow"),
            json!({ "input": { "workflowId": waits, "input": {} } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn an_archived_workflow_is_not_run_again_by_a_retry() {
    let app = spawn_app().await;
    let o = org(&app, "archivist").await;
    let w = trivial_workflow(&app, &o).await;
    let exec = execute(&app, &o, &w).await;
    assert_eq!(finished(&app, &o, &exec).await.status, ExecutionStatus::SUCCEEDED);
    app.gql(Some(&o.owner.access), doc!("workflows/ArchiveWorkflow"), json!({ "id": w })).await.data();
    for (from_failed, latest) in [(false, false), (false, true), (true, false)] {
        let r = app
            .gql(
                Some(&o.owner.access),
                doc!("workflows/RetryExecution"),
                json!({ "input": { "id": exec, "fromFailedNode": from_failed, "useLatestVersion": latest } }),
            )
            .await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("WORKFLOW_ARCHIVED", "input.id"), "{:?}", r.0);
    }
    assert_eq!(executions_of(&app, &w).await, 1, "no run was queued");
    // A parked run of a workflow archived meanwhile is refused when it wakes.
    app.gql(Some(&o.owner.access), doc!("workflows/RestoreWorkflow"), json!({ "id": w })).await.data();
    let waits = waiting_workflow(&app, &o, 600_000).await;
    let run = execute(&app, &o, &waits).await;
    let mut m: entity::execution::ActiveModel = parked(&app, &run).await.into();
    app.gql(Some(&o.owner.access), doc!("workflows/ArchiveWorkflow"), json!({ "id": waits })).await.data();
    m.run_after = Set(Utc::now() - chrono::Duration::seconds(1));
    m.update(&app.db().await).await.unwrap();
    let e = finished(&app, &o, &run).await;
    assert_eq!(e.status, ExecutionStatus::FAILED);
    assert!(e.error.as_deref().unwrap().contains("the workflow is archived"), "{e:?}");
    assert!(node_state(&e, "done").is_none());
}

#[tokio::test]
async fn an_error_workflow_of_another_organisation_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let a = org(&app, "alpha").await;
    let b = org(&app, "beta").await;
    let foreign = trivial_workflow(&app, &b).await;
    let own = trivial_workflow(&app, &a).await;
    let count = |o: &Org| {
        let (app, t, tenant) = (&app, o.owner.access.clone(), o.tenant.clone());
        async move {
            app.op_json::<Workflows>(Some(&t), json!({ "tenantId": tenant, "includeArchived": true }))
                .await
                .into_data()
                .tenant
                .workflows
                .total_count
        }
    };
    let before = count(&a).await;
    let unknown = zygo::graphql::relay::to_global_id("Workflow", Uuid::now_v7()).to_string();
    for target in [&foreign, &unknown] {
        let r = app
            .gql(
                Some(&a.owner.access),
                doc!("workflows/CreateWorkflow"),
                json!({ "input": { "tenantId": a.tenant, "name": "Sneaky", "settings": { "errorWorkflowId": target } } }),
            )
            .await;
        assert_eq!(
            (r.code().as_str(), r.field().as_str()),
            ("BAD_USER_INPUT", "input.settings.errorWorkflowId"),
            "{:?}",
            r.0
        );
        let r = app
            .gql(
                Some(&a.owner.access),
                doc!("workflows/UpdateWorkflow"),
                json!({ "input": { "id": own, "settings": { "errorWorkflowId": target } } }),
            )
            .await;
        assert_eq!(
            (r.code().as_str(), r.field().as_str()),
            ("BAD_USER_INPUT", "input.settings.errorWorkflowId"),
            "{:?}",
            r.0
        );
    }
    assert_eq!(count(&a).await, before, "nothing was created");
    let w = entity::workflow::Entity::find_by_id(uuid_of(&own)).one(&app.db().await).await.unwrap().unwrap();
    assert!(
        w.settings.get("errorWorkflowId").is_none_or(Value::is_null),
        "nothing was stored: {}",
        w.settings
    );
    // The organisation's own workflow is accepted.
    let r = app
        .op_json::<CreateWorkflow>(
            Some(&a.owner.access),
            json!({ "input": { "tenantId": a.tenant, "name": "Guarded", "settings": { "errorWorkflowId": own } } }),
        )
        .await;
    assert_eq!(r.data().create_workflow.workflow.settings.error_workflow_id.as_deref(), Some(own.as_str()));
}

/// Runs of two organisations that finish together are written in groups (one transaction
/// for what finished while the previous group was written), and each run still gets its own
/// output and node states, and no statement failed on the way.
#[tokio::test]
async fn runs_finishing_together_are_written_in_groups_each_with_its_own_output() {
    // The runs are queued on an instance without workers, then claimed all at once by a
    // second instance on the same database, so they finish together.
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-group-{}", Uuid::new_v4().simple()));
    let opts = |workers: &str| Options {
        data_dir: Some(data_dir.clone()),
        env: vec![("ZYGO_WORKFLOW_WORKERS", workers.into())],
        ..Default::default()
    };
    let api = spawn_app_on(backend.clone(), opts("0")).await;
    let orgs = [org(&api, "group-a").await, org(&api, "group-b").await];
    let mut runs = vec![];
    for (k, o) in orgs.iter().enumerate() {
        let w = create(
            &api,
            o,
            "Triple",
            vec![
                node("start", "trigger.manual", json!({})),
                node("triple", "code", json!({ "source": "input.n * 3" })),
            ],
            vec![edge("e1", "start", "triple")],
        )
        .await;
        for i in 0..6 {
            let n = 10 * k as i64 + i;
            let r = api
                .op_json::<ExecuteWorkflow>(
                    Some(&o.owner.access),
                    json!({ "input": { "workflowId": w, "input": { "n": n } } }),
                )
                .await;
            runs.push((k, n, r.into_data().execute_workflow.execution.id));
        }
    }
    let workers = spawn_app_on(backend, opts("16")).await;
    for (k, n, id) in &runs {
        let e = finished(&workers, &orgs[*k], id).await;
        assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
        assert_eq!(e.output, Some(json!(n * 3)), "run {id} has its own output");
        let triple = node_state(&e, "triple").expect("the node's state was written with the run");
        assert_eq!((triple.status, triple.output), (NodeStatus::SUCCEEDED, Some(json!(n * 3))));
    }
    let metrics = workers.http.get(workers.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let grouped = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"zygo_workflow_finishes_total{path="group"} "#))
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(grouped, Some(runs.len() as f64), "every run's last write went through a group");
    assert!(!metrics.contains(r#"zygo_workflow_finishes_total{path="alone"}"#), "none was written alone");
    let grouped = runs.len() as f64;
    let groups = workers.metric("zygo_workflow_finish_groups_total").await;
    assert!(groups < grouped, "runs finishing together shared a commit ({groups} groups for {grouped} runs)");
    assert_eq!(workers.metric("zygo_db_statement_errors_total").await, 0.0, "no statement failed");
}
