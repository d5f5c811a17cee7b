//! Data integrity under cancellation: requests abandoned mid-flight must not leave a pooled
//! connection inside an open transaction, and every write after them must be durable.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{doc, helpers::*};

/// Sessions of the app's database that sit inside a transaction nobody runs a statement in.
async fn idle_in_transaction(app: &TestApp) -> i64 {
    let Some(url) = app.backend.database_url.as_deref() else { return 0 };
    let name = url.rsplit('/').next().unwrap();
    let admin = app.db().await;
    let row = admin
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{name}' \
                 AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    admin.close().await.ok();
    n
}

#[tokio::test]
async fn abandoned_requests_leave_no_connection_in_a_transaction_and_later_writes_are_durable() {
    // A small pool so the abandoned requests' connections are the ones later requests get;
    // no background work that would reuse (and so heal) a poisoned connection meanwhile.
    let opts = Options {
        env: vec![
            ("ZYGO_DB_MAX_CONNECTIONS", "16".into()),
            ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
        ],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    for i in 0..5 {
        app.gql(
            Some(&owner.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": format!("Seed {i}") } }),
        )
        .await
        .data();
    }

    // Clients that hang up at every moment of a request's life: nested reads (many walled
    // transactions each) and writes, dropped after 1–121 ms, in rounds of 16 at once, until
    // more than 100 were abandoned mid-way (how many a round abandons depends on the machine's
    // speed, so rounds go on until enough did; at most 100 rounds).
    let nested = doc!("tenancy/MyOrganisations");
    let mut abandoned = 0;
    for round in 0..100u64 {
        if abandoned > 100 {
            break;
        }
        let mut tasks = Vec::new();
        for i in 0..16u64 {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_micros(((round * 16 + i) * 6_151) % 120_000 + 1_000))
                .build()
                .unwrap();
            let (url, token, tenant) = (app.url("/graphql"), owner.access.clone(), tenant.clone());
            let body = if i % 4 == 0 {
                json!({ "query": doc!("teams/CreateTeam"),
                        "variables": { "input": { "tenantId": tenant, "name": format!("Dropped {round}-{i}") } } })
            } else {
                json!({ "query": nested, "variables": { "first": 25 } })
            };
            tasks.push(tokio::spawn(async move {
                match client.post(url).bearer_auth(token).json(&body).send().await {
                    Ok(r) => r.bytes().await.is_err(),
                    Err(_) => true,
                }
            }));
        }
        for t in tasks {
            if t.await.unwrap() {
                abandoned += 1;
            }
        }
    }

    assert!(abandoned > 100, "only {abandoned} requests were abandoned");
    // Once the server has finished with the abandoned requests, no session is left inside a
    // transaction (a leaked one stays so until something reuses its connection).
    eventually(30, || async { (idle_in_transaction(&app).await == 0).then_some(()) }).await;

    // Every write after them is durable: seen by another connection right after the answer.
    let check = app.db().await;
    for i in 0..10 {
        let name = format!("After {i}");
        let r = app
            .gql(
                Some(&owner.access),
                doc!("teams/CreateTeam"),
                json!({ "input": { "tenantId": tenant, "name": name } }),
            )
            .await;
        r.data();
        let row = check
            .query_one_raw(sea_orm::Statement::from_string(
                check.get_database_backend(),
                format!("SELECT count(*) AS n FROM teams WHERE name = '{name}'"),
            ))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        assert_eq!(n, 1, "team {name:?} was answered as created but is not in the database");
        // Reads in between must not end up inside a leaked transaction either.
        app.gql(Some(&owner.access), nested, json!({ "first": 25 })).await.data();
    }
    // A finished read's rollback travels with its connection's release: wait for that.
    eventually(30, || async { (idle_in_transaction(&app).await == 0).then_some(()) }).await;
}

/// The server's transactions begin through `zygo::db::begin`: one whose caller is dropped
/// while `BEGIN` is in flight must not leave its pooled connection inside a transaction.
/// Deterministic form of the race above: the caller is polled once (so `BEGIN` is sent) and
/// dropped; the next statement on the pool's only connection must then commit on its own.
#[tokio::test]
async fn a_begin_cancelled_in_flight_leaves_no_transaction_on_the_pooled_connection() {
    let backend = Backend::fresh().await;
    let dir = std::env::temp_dir().join(format!("zygo-probe-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = backend
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("probe.db").display()));
    let mut opts = sea_orm::ConnectOptions::new(url.clone());
    opts.max_connections(1).min_connections(1).sqlx_logging(false);
    let pool = sea_orm::Database::connect(opts).await.unwrap();
    let backend_kind = pool.get_database_backend();
    let run = |sql: &str| sea_orm::Statement::from_string(backend_kind, sql.to_string());
    pool.execute_raw(run("CREATE TABLE probe (n INTEGER)")).await.unwrap();

    for n in 0..40 {
        {
            // Dropped after n polls: at some n the pool has handed out the connection and
            // BEGIN is sent, but its answer has not been read yet.
            let mut begin = Box::pin(zygo::db::begin_write(&pool));
            for _ in 0..n {
                if futures::poll!(&mut begin).is_ready() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        pool.execute_raw(run(&format!("INSERT INTO probe (n) VALUES ({n})"))).await.unwrap();
        // Seen from another connection: committed, not held in a leaked transaction.
        let other = sea_orm::Database::connect(url.as_str()).await.unwrap();
        let row = other.query_one_raw(run("SELECT count(*) AS c FROM probe")).await.unwrap().unwrap();
        let c: i64 = row.try_get("", "c").unwrap();
        other.close().await.ok();
        assert_eq!(c, n + 1, "the insert after a cancelled BEGIN ran inside a transaction nobody ends");
    }
}
