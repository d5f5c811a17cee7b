//! Row-level security benchmark (a bench binary, not a timed test): what the second wall
//! costs on PostgreSQL.
//!
//! `cargo bench --bench row_level_security` creates a fresh database (on
//! `ZYGO_BENCH_DATABASE_URL`, else `ZYGO_TEST_DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/postgres`; the user must be a superuser), migrates it,
//! seeds `BENCH_TENANTS` (default 50) tenants with `BENCH_ROWS` (default 400) workflows and
//! audit entries each, and times `BENCH_ITERATIONS` (default 2000) sequential runs of three
//! tenant-scoped reads the app does — a page of 21 workflows by id, the count of a tenant's
//! audit entries, one workflow by id and tenant — in five modes, interleaved in a random
//! order, each statement timed once the pools' background work has finished (the release
//! ping that also flushes the helper's `ROLLBACK` is off the critical path, so not timed):
//!
//! - **a. bare**: an owner (superuser) pool, the statement alone: the server before the wall
//!   (like every pooled mode it includes sqlx's ping on acquire);
//! - **b. helper, policies bypassed**: another owner pool through [`zygo::db::tenants_conn`],
//!   i.e. `BEGIN`, `set_config`, the statement, rollback — the helper's round trips only;
//! - **c. wall**: the server's pool ([`zygo::db::connect`], role `zygo_app`) through the same
//!   helper: the real path;
//! - **d. policy alone**: one open transaction with the setting already set, the statement as
//!   the superuser (policies bypassed) and as `zygo_app` (policies evaluated): the same round
//!   trips, only the policy differs.
//!
//! It prints p50 / p95 / mean latency per query and mode, and the overheads: policy alone (d),
//! helper round trips (b vs a) and total (c vs a). The database is dropped at the end.
//!
//! Under `cargo test` (no `--bench` argument) it runs a small smoke version so CI proves it
//! works, and it fails if PostgreSQL cannot be reached. Both versions also check the wall:
//! through another tenant's wall, or on the bare `zygo_app` pool, a tenant's rows are invisible.

use std::{
    panic::AssertUnwindSafe,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use entity::{audit_entry, workflow};
use futures::FutureExt;
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement, TransactionTrait,
    sea_query::{Alias, Expr, Query},
};
use uuid::Uuid;
use zygo::{config::Config, db::tenants_conn, telemetry::Metrics};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PAGE: u64 = 21;

/// One of the timed reads.
#[derive(Clone, Copy)]
struct Read {
    name: &'static str,
    /// `query_all` (a list) or `query_one` (`.one()`, `.count()`), as the app sends it.
    all: bool,
    build: fn(Uuid, Uuid) -> Statement,
}

/// `TenantScope::find::<workflow::Entity>()` paged: `WHERE tenant_id = $1 ORDER BY id LIMIT 21`.
fn page_of_workflows(tenant: Uuid, _: Uuid) -> Statement {
    workflow::Entity::find()
        .filter(workflow::Column::TenantId.eq(tenant))
        .order_by_asc(workflow::Column::Id)
        .limit(PAGE)
        .build(DbBackend::Postgres)
}

/// The page's total, as sea-orm's `.count()` builds it.
fn count_of_audit_entries(tenant: Uuid, _: Uuid) -> Statement {
    let inner = audit_entry::Entity::find().filter(audit_entry::Column::TenantId.eq(tenant)).into_query();
    let query = Query::select()
        .expr(Expr::cust("COUNT(*) AS num_items"))
        .from_subquery(inner, Alias::new("sub_query"))
        .to_owned();
    DbBackend::Postgres.build(&query)
}

/// `TenantScope::find_by_id`.
fn workflow_by_id(tenant: Uuid, id: Uuid) -> Statement {
    workflow::Entity::find_by_id(id)
        .filter(workflow::Column::TenantId.eq(tenant))
        .limit(1)
        .build(DbBackend::Postgres)
}

const READS: [Read; 3] = [
    Read { name: "page of 21 workflows", all: true, build: page_of_workflows },
    Read { name: "count(*) audit entries", all: false, build: count_of_audit_entries },
    Read { name: "workflow by id", all: false, build: workflow_by_id },
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Bare,
    Helper,
    Wall,
    PolicyBypassed,
    PolicyEnforced,
}

const MODES: [Mode; 5] = [Mode::Bare, Mode::Helper, Mode::Wall, Mode::PolicyBypassed, Mode::PolicyEnforced];

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Bare => "a. bare (superuser, no txn)",
            Mode::Helper => "b. helper, policies bypassed",
            Mode::Wall => "c. wall (zygo_app + helper)",
            Mode::PolicyBypassed => "d. in txn, superuser",
            Mode::PolicyEnforced => "d. in txn, zygo_app",
        }
    }
}

/// What a read returned, comparable across modes: the rows of a list, `num_items` of a
/// count, 0 or 1 for one row.
fn outcome(rows: Vec<QueryResult>) -> i64 {
    match rows.first() {
        Some(row) if rows.len() == 1 => row.try_get::<i64>("", "num_items").unwrap_or(1),
        _ => rows.len() as i64,
    }
}

async fn run(db: &impl ConnectionTrait, read: &Read, stmt: Statement) -> Result<i64, DbErr> {
    if read.all {
        db.query_all_raw(stmt).await.map(outcome)
    } else {
        db.query_one_raw(stmt).await.map(|row| outcome(row.into_iter().collect()))
    }
}

async fn set_tenant(txn: &impl ConnectionTrait, tenant: Uuid) {
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config($1, $2, true)",
        ["zygo.tenant_ids".into(), tenant.to_string().into()],
    ))
    .await
    .expect("set_config");
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get_by_index::<String>(0).unwrap()
}

/// Waits until no pooled connection is busy besides the `held` ones (mode d's transaction)
/// of each pool: the previous statement's connection goes back to its pool in a background
/// task that first pings the server (flushing the helper's queued `ROLLBACK`), and a timed
/// statement should not share the two cores with it. Blocks this thread only: the pools'
/// tasks run on the runtime's workers.
fn settle(pools: &[(&DatabaseConnection, usize)]) {
    let deadline = Instant::now() + Duration::from_secs(2);
    let busy = |db: &DatabaseConnection| {
        let pool = db.get_postgres_connection_pool();
        pool.size() as usize - pool.num_idle().min(pool.size() as usize)
    };
    while pools.iter().any(|(db, held)| busy(db) > *held) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(20));
    }
}

struct Sizes {
    tenants: usize,
    rows: usize,
    iterations: usize,
    warmup: usize,
}

struct Stats {
    p50: f64,
    p95: f64,
    mean: f64,
}

fn stats(samples: &mut [f64]) -> Stats {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    Stats { p50: pct(0.5), p95: pct(0.95), mean: samples.iter().sum::<f64>() / samples.len() as f64 }
}

/// The correctness checks: the wall hides a tenant's rows from every other tenant and from
/// a statement sent to the server's pool without a wall.
async fn check_wall(
    app: &DatabaseConnection,
    owner: &DatabaseConnection,
    a: Uuid,
    a_workflow: Uuid,
    b: Uuid,
) {
    for read in &READS {
        let own = run(&tenants_conn(app, [a]), read, (read.build)(a, a_workflow)).await.unwrap();
        let bare = run(owner, read, (read.build)(a, a_workflow)).await.unwrap();
        assert!(
            own > 0 && own == bare,
            "{}: tenant A sees {own} through its own wall, {bare} bare",
            read.name
        );
        let other = run(&tenants_conn(app, [b]), read, (read.build)(a, a_workflow)).await.unwrap();
        assert_eq!(other, 0, "{}: tenant A's rows seen through tenant B's wall", read.name);
        // Without a wall the app role sees no tenant row. (A development build of the
        // migration may raise `ZYGO_UNWALLED` instead of returning nothing; both hide the row.)
        match run(app, read, (read.build)(a, a_workflow)).await {
            Ok(n) => assert_eq!(n, 0, "{}: tenant A's rows seen on the bare zygo_app pool", read.name),
            Err(e) => assert!(e.to_string().contains("ZYGO_UNWALLED"), "{}: unexpected error {e}", read.name),
        }
    }
}

async fn measure(url: &str, sizes: &Sizes) {
    let vars = [
        ("ZYGO_DATABASE_URL", url.to_string()),
        ("ZYGO_DATA_DIR", std::env::temp_dir().display().to_string()),
        ("ZYGO_LOG", "error".to_string()),
    ];
    let config = Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
        .expect("bench configuration");

    // Migrate as the owner, then seed around the policies (superuser).
    let migrator = zygo::db::connect_owner(&config).await.expect("owner connection");
    zygo::db::migrate(&migrator).await.expect("migrations");
    migrator.close().await.unwrap();
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // As the server's pool (`src/db/mod.rs`): no ping on a hot connection.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    let owner = Database::connect(opts.clone()).await.expect("owner pool");
    // Mode b gets a pool of its own: the same connection alternating between modes a and b
    // made b measurably slower than c on the same number of round trips.
    let owner_helper = Database::connect(opts).await.expect("owner pool for the helper");
    assert_eq!(
        scalar(&owner, "SELECT (rolsuper OR rolbypassrls)::text FROM pg_roles WHERE rolname = current_user")
            .await,
        "true",
        "the benchmark's database user must be a superuser (or BYPASSRLS) to measure without the policies"
    );
    let (tenants, rows) = (sizes.tenants, sizes.rows);
    let seeded = Instant::now();
    owner
        .execute_unprepared(&format!(
            r#"INSERT INTO tenants (id, name, slug, status, created_at, updated_at)
                SELECT gen_random_uuid(), 'Bench ' || g, 'bench-' || g, 'active', now(), now()
                FROM generate_series(1, {tenants}) g;
            -- Rows of all tenants interleaved, as they are created over time.
            INSERT INTO workflows (id, tenant_id, name, description, graph, settings, revision, status,
                    latest_version, webhook_token, schedule_next_at, created_by, created_at, updated_at)
                SELECT gen_random_uuid(), t.id, 'Workflow ' || g, 'A benchmark workflow',
                    '{{"nodes":[{{"id":"start","type":"trigger.manual","config":{{}}}}],"edges":[]}}'::json,
                    '{{}}'::json, 1, 'draft', NULL, md5(t.id::text || g), NULL, NULL, now(), now()
                FROM generate_series(1, {rows}) g CROSS JOIN tenants t ORDER BY g, t.id;
            INSERT INTO audit_entries (id, tenant_id, actor_type, actor_id, action, target_type, target_id,
                    before, after, ip, user_agent, request_id, created_at)
                SELECT gen_random_uuid(), t.id, 'user', NULL, 'workflow.updated', 'workflow', g::text,
                    NULL, '{{"name":"Workflow"}}'::json, '127.0.0.1', 'bench', NULL, now()
                FROM generate_series(1, {rows}) g CROSS JOIN tenants t ORDER BY g, t.id;"#
        ))
        .await
        .expect("seeding");
    owner.execute_unprepared("VACUUM ANALYZE").await.expect("VACUUM ANALYZE");
    let seed_secs = seeded.elapsed().as_secs_f64();

    // (tenant, workflow) pairs to visit: tenant i % T, each round another of its workflows.
    let mut by_tenant: Vec<(Uuid, Vec<Uuid>)> = Vec::new();
    for row in owner
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT tenant_id, id FROM workflows ORDER BY tenant_id, id",
        ))
        .await
        .unwrap()
    {
        let (tenant, id): (Uuid, Uuid) =
            (row.try_get("", "tenant_id").unwrap(), row.try_get("", "id").unwrap());
        match by_tenant.last_mut() {
            Some((t, ids)) if *t == tenant => ids.push(id),
            _ => by_tenant.push((tenant, vec![id])),
        }
    }
    assert_eq!(by_tenant.len(), tenants);
    let target = |i: usize| {
        let (tenant, ids) = &by_tenant[i % tenants];
        (*tenant, ids[(i / tenants * 7) % ids.len()])
    };

    // The server's pool: every connection runs as zygo_app.
    let metrics = Metrics::new();
    let app = zygo::db::connect(&config, &metrics).await.expect("zygo_app pool");
    let function_language = scalar(
        &owner,
        "SELECT l.lanname::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = 'zygo_tenant_ids'",
    )
    .await;
    let (a, a_workflow) = target(0);
    check_wall(&app, &owner, a, a_workflow, target(1).0).await;

    let mut results: Vec<(Read, Vec<(Mode, Stats)>)> = Vec::new();
    let mut order: Vec<usize> = (0..MODES.len()).collect();
    let mut rng = StdRng::seed_from_u64(0x2b1c);
    let started = Instant::now();
    for read in READS {
        // Mode d: one transaction per role, held for the whole pass; the tenant is set before
        // each timed statement, outside the timing.
        let super_txn = owner.begin().await.unwrap();
        let app_txn = app.begin().await.unwrap();
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(sizes.iterations); MODES.len()];
        for i in 0..sizes.warmup + sizes.iterations {
            let (tenant, id) = target(i);
            let mut expected = None;
            // The modes in a random order, so none always runs first or after the same one.
            order.shuffle(&mut rng);
            for &m in &order {
                let stmt = (read.build)(tenant, id);
                if matches!(MODES[m], Mode::PolicyBypassed) {
                    set_tenant(&super_txn, tenant).await;
                } else if matches!(MODES[m], Mode::PolicyEnforced) {
                    set_tenant(&app_txn, tenant).await;
                }
                settle(&[(&owner, 1), (&owner_helper, 0), (&app, 1)]);
                let t = Instant::now();
                let got = match MODES[m] {
                    Mode::Bare => run(&owner, &read, stmt).await,
                    Mode::Helper => run(&tenants_conn(&owner_helper, [tenant]), &read, stmt).await,
                    Mode::Wall => run(&tenants_conn(&app, [tenant]), &read, stmt).await,
                    Mode::PolicyBypassed => run(&super_txn, &read, stmt).await,
                    Mode::PolicyEnforced => run(&app_txn, &read, stmt).await,
                };
                let micros = t.elapsed().as_secs_f64() * 1e6;
                let got = got.unwrap_or_else(|e| panic!("{} in mode {:?}: {e}", read.name, MODES[m]));
                // Every mode must return the same (non-empty) result.
                assert!(got > 0, "{} in mode {:?}: nothing returned", read.name, MODES[m]);
                assert_eq!(*expected.get_or_insert(got), got, "{} in mode {:?}", read.name, MODES[m]);
                if i >= sizes.warmup {
                    samples[m].push(micros);
                }
            }
        }
        super_txn.rollback().await.unwrap();
        app_txn.rollback().await.unwrap();
        results.push((read, MODES.iter().zip(samples.iter_mut()).map(|(m, s)| (*m, stats(s))).collect()));
    }
    let run_secs = started.elapsed().as_secs_f64();
    // Again after the timing, with every pooled connection used by now.
    check_wall(&app, &owner, a, a_workflow, target(1).0).await;
    let version = scalar(&owner, "SELECT current_setting('server_version')").await;
    app.close().await.unwrap();
    owner_helper.close().await.unwrap();
    owner.close().await.unwrap();

    println!(
        "row-level security benchmark — PostgreSQL {version}, {} cores, zygo_tenant_ids() in {function_language}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!(
        "  {tenants} tenants × {rows} workflows and {rows} audit entries (seeded in {seed_secs:.1} s); \
         {} sequential iterations per mode after {} warm-up ({run_secs:.1} s)",
        sizes.iterations, sizes.warmup
    );
    println!(
        "  {:<24} {:<30} {:>9} {:>9} {:>9} {:>9}",
        "query", "mode", "p50 µs", "p95 µs", "mean µs", "stmt/s"
    );
    for (read, modes) in &results {
        for (mode, s) in modes {
            println!(
                "  {:<24} {:<30} {:>9.1} {:>9.1} {:>9.1} {:>9.0}",
                read.name,
                mode.label(),
                s.p50,
                s.p95,
                s.mean,
                1e6 / s.mean
            );
        }
    }
    println!();
    println!(
        "  {:<24} {:>22} {:>26} {:>22}",
        "overhead at p50", "policy alone (d)", "helper round trips (b/a)", "total (c/a)"
    );
    let get = |modes: &[(Mode, Stats)], m: Mode| modes.iter().find(|(x, _)| *x == m).map(|(_, s)| s.p50);
    let pct = |x: f64, base: f64| format!("{:+.1} % ({:+.0} µs)", (x / base - 1.0) * 100.0, x - base);
    for (read, modes) in &results {
        let [a, b, c, d0, d1] = MODES.map(|m| get(modes, m).unwrap());
        println!("  {:<24} {:>22} {:>26} {:>22}", read.name, pct(d1, d0), pct(b, a), pct(c, a));
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let env_n = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let sizes = if bench {
        let iterations = env_n("BENCH_ITERATIONS", 2000).max(1);
        Sizes {
            tenants: env_n("BENCH_TENANTS", 50).max(2),
            rows: env_n("BENCH_ROWS", 400).max(1),
            iterations,
            warmup: env_n("BENCH_WARMUP", iterations / 4),
        }
    } else {
        Sizes { tenants: 3, rows: 20, iterations: 20, warmup: 5 }
    };
    let admin_url = ["ZYGO_BENCH_DATABASE_URL", "ZYGO_TEST_DATABASE_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.to_string());

    // A fresh database, dropped at the end even when a check fails.
    let mut opts = ConnectOptions::new(admin_url.clone());
    opts.max_connections(1).connect_timeout(Duration::from_secs(5)).sqlx_logging(false);
    let admin = Database::connect(opts).await.unwrap_or_else(|e| {
        panic!(
            "the row-level security benchmark needs PostgreSQL at {admin_url} \
             (ZYGO_BENCH_DATABASE_URL / ZYGO_TEST_DATABASE_URL): {e}"
        )
    });
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("zygo_bench_rls_{}_{nanos}", std::process::id());
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("CREATE DATABASE");
    let mut url = url::Url::parse(&admin_url).expect("database URL");
    url.set_path(&format!("/{name}"));

    let outcome = AssertUnwindSafe(measure(url.as_str(), &sizes)).catch_unwind().await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("DROP DATABASE");
    admin.close().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
