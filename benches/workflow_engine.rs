//! Workflow engine benchmark (a bench binary, not a timed test).
//!
//! `cargo bench --bench workflow_engine` measures, on SQLite (default) or on PostgreSQL +
//! Redis (`ZYGO_BENCH_DATABASE_URL`, `ZYGO_BENCH_REDIS_URL`):
//!
//! 1. **Engine throughput**: `BENCH_RUNS` (default 3000) executions of a 3-node workflow of
//!    trivial nodes (manual trigger → conditional → code) are queued through the API while no
//!    worker runs; then one instance with workers (`BENCH_WORKERS`, default 32 like the
//!    server) starts and the time until all have succeeded gives completed executions per
//!    second.
//! 2. **API + engine throughput**: the same number queued by 32 concurrent `executeWorkflow`
//!    calls to an instance that also runs them, until all have succeeded.
//! 3. **Latency**: `BENCH_SAMPLES` (default 200) sequential `executeWorkflow` calls on an
//!    idle instance, each timed from sending the mutation to the first `workflowExecutions`
//!    event of the run over a WebSocket (QUEUED), to its RUNNING event and to SUCCEEDED.
//!
//! Under `cargo test` (no `--bench` argument) it runs a small smoke version, so CI proves it
//! works; the figures come from `cargo bench`.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
use tokio_util::sync::CancellationToken;
use zygo::{config::Config, startup::Application};

mod support;
use support::{gql, owner_with_tenant};

/// The server's allocator (`src/main.rs`), so the instances measured here allocate as the
/// shipped binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Instance {
    base: String,
    ws: String,
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Instance {
    async fn start(data_dir: &Path, db: &Option<String>, redis: &Option<String>, workers: usize) -> Self {
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("ZYGO_LISTEN", "127.0.0.1:0".to_string()),
            ("ZYGO_DATA_DIR", data_dir.display().to_string()),
            ("ZYGO_JWT_SECRET", "bench-secret-bench-secret-bench-secret-00".into()),
            ("ZYGO_LOG", "error".into()),
            ("ZYGO_WORKFLOW_WORKERS", workers.to_string()),
            ("ZYGO_WORKFLOW_TENANT_CONCURRENCY", "1000".into()),
            ("ZYGO_RATE_LIMIT_PER_MINUTE", "100000000".into()),
            ("ZYGO_DB_MAX_CONNECTIONS", "20".into()),
            // A plan without limits: the shipped free plan's 1,000 executions a month would
            // stop the benchmark a third of the way in.
            (
                "ZYGO_BILLING_PLANS_FILE",
                concat!(env!("CARGO_MANIFEST_DIR"), "/benches/api/plans.json").into(),
            ),
        ]);
        if let Some(u) = db {
            vars.insert("ZYGO_DATABASE_URL", u.clone());
        }
        if let Some(u) = redis {
            vars.insert("ZYGO_REDIS_URL", u.clone());
        }
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("bench configuration");
        let app = Application::build(config).await.expect("zygo builds");
        let addr = app.local_addr();
        let stop = CancellationToken::new();
        let s = stop.clone();
        let handle = tokio::spawn(app.run(async move { s.cancelled().await }));
        Self { base: format!("http://{addr}"), ws: format!("ws://{addr}/graphql/ws"), stop, handle }
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.handle.await;
    }
}

/// Signs a user up, creates an organisation and the 3-node workflow; returns (token, workflow).
async fn setup(http: &reqwest::Client, base: &str, data_dir: &Path) -> (String, String) {
    let (access, tenant) = owner_with_tenant(http, base, data_dir).await;
    let graph = json!({
        "nodes": [
            { "id": "start", "type": "trigger.manual", "config": {} },
            { "id": "check", "type": "logic.conditional", "config": { "condition": "{{ input.n > 0 }}" } },
            { "id": "work", "type": "code", "config": { "source": "input.n + 1" } },
        ],
        "edges": [
            { "id": "e1", "source": "start", "target": "check" },
            { "id": "e2", "source": "check", "sourcePort": "true", "target": "work" },
        ],
    });
    let d = gql(
        http,
        base,
        Some(&access),
        "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { workflow { id } } }",
        json!({ "i": { "tenantId": tenant, "name": "Trivial", "graph": graph } }),
    )
    .await;
    (access, d["createWorkflow"]["workflow"]["id"].as_str().unwrap().to_string())
}

const EXECUTE: &str =
    "mutation($i: ExecuteWorkflowInput!) { executeWorkflow(input: $i) { execution { id } } }";

async fn enqueue(http: &reqwest::Client, base: &str, token: &str, workflow: &str, n: usize) {
    futures::stream::iter(0..n)
        .for_each_concurrent(32, |i| async move {
            gql(
                http,
                base,
                Some(token),
                EXECUTE,
                json!({ "i": { "workflowId": workflow, "input": { "n": i + 1 } } }),
            )
            .await;
        })
        .await;
}

async fn count(db: &sea_orm::DatabaseConnection, status: &str) -> i64 {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "SELECT COUNT(*) AS n FROM executions WHERE status = $1",
        _ => "SELECT COUNT(*) AS n FROM executions WHERE status = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [status.into()]))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn wait_all(db: &sea_orm::DatabaseConnection, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while count(db, "succeeded").await < n {
        assert!(Instant::now() < deadline, "runs did not finish");
        assert_eq!(count(db, "failed").await, 0, "a run failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let env_n = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (runs, samples) =
        if bench { (env_n("BENCH_RUNS", 3000), env_n("BENCH_SAMPLES", 200)) } else { (40, 10) };
    // The server's default pool of workers unless BENCH_WORKERS says otherwise.
    let workers = env_n("BENCH_WORKERS", 32);
    let db_url = std::env::var("ZYGO_BENCH_DATABASE_URL").ok().filter(|s| !s.is_empty());
    let redis = std::env::var("ZYGO_BENCH_REDIS_URL").ok().filter(|s| !s.is_empty());
    let data_dir: PathBuf =
        std::env::temp_dir().join(format!("zygo-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    // A fresh database: a new PostgreSQL database per run, or a new SQLite file.
    let db_url = match db_url {
        Some(admin) => {
            let name = format!("zygo_bench_{}", uuid::Uuid::new_v4().simple());
            let admin_db = Database::connect(&admin).await.expect("PostgreSQL reachable");
            admin_db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            let (prefix, _) = admin.rsplit_once('/').unwrap();
            Some(format!("{prefix}/{name}"))
        }
        None => None,
    };
    let backend = if db_url.is_some() { "PostgreSQL + Redis" } else { "SQLite + in-process bus" };
    let http = reqwest::Client::new();

    // 1. Engine throughput: queue with no worker, then drain with one instance.
    let api = Instance::start(&data_dir, &db_url, &redis, 0).await;
    let (token, workflow) = setup(&http, &api.base, &data_dir).await;
    let db = Database::connect(
        db_url.clone().unwrap_or_else(|| format!("sqlite://{}", data_dir.join("zygo.db").display())),
    )
    .await
    .unwrap();
    let t = Instant::now();
    enqueue(&http, &api.base, &token, &workflow, runs).await;
    let enqueue_secs = t.elapsed().as_secs_f64();
    api.stop().await;
    let t = Instant::now();
    let worker = Instance::start(&data_dir, &db_url, &redis, workers).await;
    wait_all(&db, runs as i64).await;
    let engine_rate = runs as f64 / t.elapsed().as_secs_f64();

    // 2. API + engine on one instance.
    let t = Instant::now();
    enqueue(&http, &worker.base, &token, &workflow, runs).await;
    wait_all(&db, 2 * runs as i64).await;
    let combined_rate = runs as f64 / t.elapsed().as_secs_f64();

    // 3. Latency to the first events of a run.
    let mut req = worker.ws.as_str().into_client_request().unwrap();
    req.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }),
    ))
    .await
    .unwrap();
    ws.next().await.unwrap().unwrap();
    ws.send(send(json!({
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription($w: ID!) { workflowExecutions(workflowId: $w) { executionId status node { nodeId } } }",
            "variables": { "w": workflow },
        },
    })))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut first, mut running, mut done) = (vec![], vec![], vec![]);
    for i in 0..samples {
        let t = Instant::now();
        let sent = gql(
            &http,
            &worker.base,
            Some(&token),
            EXECUTE,
            json!({ "i": { "workflowId": workflow, "input": { "n": i + 1 } } }),
        );
        let (d, mut got_first, mut got_running) = (sent.await, None, None);
        let id = d["executeWorkflow"]["execution"]["id"].as_str().unwrap().to_string();
        // Events can arrive before the mutation's answer: they are matched by id.
        loop {
            let msg = match ws.next().await.unwrap().unwrap() {
                Message::Text(t) => serde_json::from_str::<Value>(&t).unwrap(),
                _ => continue,
            };
            let ev = &msg["payload"]["data"]["workflowExecutions"];
            if ev["executionId"] != id.as_str() {
                continue;
            }
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            got_first.get_or_insert(ms);
            if ev["status"] == "RUNNING" {
                got_running.get_or_insert(ms);
            }
            if ev["status"] == "SUCCEEDED" && ev["node"].is_null() {
                done.push(ms);
                break;
            }
        }
        first.push(got_first.unwrap());
        running.push(got_running.unwrap_or(f64::NAN));
    }
    for v in [&mut first, &mut running, &mut done] {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    worker.stop().await;
    println!(
        "workflow engine benchmark — {backend}, {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("  3-node workflow (manual trigger → conditional → code), {runs} runs");
    println!(
        "  queueing via executeWorkflow (32 concurrent clients): {:.0} calls/s",
        runs as f64 / enqueue_secs
    );
    println!("  engine throughput (pre-queued, {workers} workers):          {engine_rate:.0} executions/s");
    println!("  API + engine on one instance:                         {combined_rate:.0} executions/s");
    println!("  latency over {samples} sequential runs (p50 / p95, ms):");
    println!(
        "    executeWorkflow → first executionUpdated event:   {:.2} / {:.2}",
        pct(&first, 0.5),
        pct(&first, 0.95)
    );
    println!(
        "    executeWorkflow → RUNNING event:                   {:.2} / {:.2}",
        pct(&running, 0.5),
        pct(&running, 0.95)
    );
    println!(
        "    executeWorkflow → SUCCEEDED event:                 {:.2} / {:.2}",
        pct(&done, 0.5),
        pct(&done, 0.95)
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
