//! The second wall: PostgreSQL row-level security on every tenant-owned table.
//!
//! On PostgreSQL the organisation of the permission sweep is built through the API, then
//! raw SQL (no helper, no `WHERE tenant_id`) on a connection switched to the server's role
//! must see no row of any tenant, exactly one tenant's rows once that tenant's setting is
//! set in the transaction, and may not move a row to another tenant. On both backends every
//! table with a `tenant_id` column must be in the migration's list of walled tables.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use serde_json::json;

use crate::{gql::*, helpers::*, sweep::build_world};

fn on_postgres() -> bool {
    std::env::var("ZYGO_TEST_DATABASE_URL").is_ok_and(|s| !s.is_empty())
}

async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a count");
    row.try_get_by_index::<i64>(0).expect("an integer count")
}

async fn strings(db: &impl ConnectionTrait, sql: &str) -> BTreeSet<String> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("a name"))
        .collect()
}

/// Tables with a `tenant_id` column, from the catalog of either backend.
async fn tables_with_tenant_column(db: &DatabaseConnection) -> BTreeSet<String> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            strings(
                db,
                "SELECT table_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND column_name = 'tenant_id'",
            )
            .await
        }
        _ => {
            strings(
                db,
                "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND p.name = 'tenant_id'",
            )
            .await
        }
    }
}

#[tokio::test]
async fn every_table_with_a_tenant_column_is_walled() {
    let app = spawn_app().await;
    let db = app.db().await;
    let listed: BTreeSet<String> = migration::tenant_tables()
        .iter()
        .filter(|(t, _)| *t != "tenants")
        .map(|(t, _)| t.to_string())
        .collect();
    assert_eq!(
        tables_with_tenant_column(&db).await,
        listed,
        "migration::tenant_tables() must name every table that has a tenant_id column (and no other)"
    );
    if db.get_database_backend() != DbBackend::Postgres {
        // SQLite has no row-level security: the list above is all there is to check here.
        return;
    }
    let forced = strings(
        &db,
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' \
         AND c.relrowsecurity AND c.relforcerowsecurity",
    )
    .await;
    let with_policy = strings(
        &db,
        "SELECT tablename::text FROM pg_policies WHERE schemaname = current_schema() \
         AND policyname = 'tenant_wall' AND cmd = 'ALL'",
    )
    .await;
    let all: BTreeSet<String> = migration::tenant_tables().iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(forced, all, "row-level security enabled and forced on exactly the tenant tables");
    assert_eq!(with_policy, all, "each tenant table has its tenant_wall policy");
}

#[tokio::test]
async fn raw_sql_that_skips_the_helpers_sees_no_tenant_row() {
    // The wall as shipped (other tests make an unwalled statement fail instead).
    let app =
        spawn_app_on(Backend::fresh().await, Options { shipped_wall: true, ..Default::default() }).await;
    let world = build_world(&app).await;
    if !on_postgres() {
        // The same fixture on SQLite: the helpers are the only wall there, and the sweep
        // proves them; nothing below exists on SQLite.
        assert!(app.db().await.get_database_backend() == DbBackend::Sqlite);
        return;
    }
    // A published workflow whose run reads a secret and stores a memory, so those tables
    // hold rows too.
    let o = &world.owner;
    let graph = json!({
        "nodes": [
            { "id": "start", "type": "trigger.manual", "name": "start", "config": {} },
            { "id": "keep", "type": "memory.store", "name": "keep",
              "config": { "store": "kb", "content": "seen {{ secrets.SWEEP_SECRET }}" } },
        ],
        "edges": [
            { "id": "e1", "source": "start", "sourcePort": "main", "target": "keep", "targetPort": "main" },
        ],
    });
    let w = app
        .op_json::<CreateWorkflow>(
            Some(o),
            json!({ "input": { "tenantId": world.fixture.tenant, "name": "Wall", "graph": graph } }),
        )
        .await;
    let w = w.into_data().create_workflow.workflow.id;
    let published =
        app.op_json::<PublishWorkflowVersion>(Some(o), json!({ "input": { "workflowId": w } })).await;
    assert!(!published.data().publish_workflow_version.version.id.is_empty(), "{published:?}");
    let e = app.op_json::<ExecuteWorkflow>(Some(o), json!({ "input": { "workflowId": w } })).await;
    let e = e.into_data().execute_workflow.execution.id;
    eventually(30, || async {
        let r = app.op::<Execution>(Some(o), execution::Variables { id: e.clone(), logs: None }).await;
        (r.data().execution.status == execution::ExecutionStatus::SUCCEEDED).then_some(())
    })
    .await;

    // A's upgrade invoice, paid by transfer and partly refunded, so refunds hold a row too.
    let invoices = app
        .op::<TenantBilling>(Some(o), tenant_billing::Variables { id: world.fixture.tenant.clone() })
        .await
        .into_data()
        .tenant
        .invoices
        .expect("A's invoices");
    let invoice = invoices.edges[0].node.id.clone();
    let raw = |gid: &str| {
        let text = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, gid).unwrap(),
        )
        .unwrap();
        uuid::Uuid::parse_str(text.split_once(':').unwrap().1).unwrap()
    };
    let tctx = zygo::access::TenantCtx::system(raw(&world.fixture.tenant));
    zygo::modules::billing::invoices::mark_invoice_paid(&app.ctx, &tctx, raw(&invoice)).await.unwrap();
    let refunded = app
        .op_json::<RefundInvoice>(
            Some(o),
            json!({ "input": { "tenantId": world.fixture.tenant, "invoiceId": invoice, "amount": 100 } }),
        )
        .await;
    assert_eq!(refunded.data().refund_invoice.total_refunded, 100);

    // The superuser (policies bypassed) sees what is there.
    let admin = app.db().await;
    let tenant = |slug: &'static str| {
        let admin = &admin;
        async move {
            let row = admin
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT id::text FROM tenants WHERE slug = '{slug}'"),
                ))
                .await
                .unwrap()
                .expect("the tenant exists");
            row.try_get_by_index::<String>(0).unwrap()
        }
    };
    let (a, b) = (tenant("sweep-a").await, tenant("sweep-b").await);
    // Each tenant has a background job queued (its area's work would enqueue it).
    for t in [&a, &b] {
        let job = zygo::jobs::NewJob::new("billing.sweep", &json!(null))
            .key(format!("rls:{t}"))
            .at(app.ctx.now() + chrono::Duration::days(1));
        zygo::jobs::enqueue(&admin, app.ctx.now(), Some(t.parse().unwrap()), job).await.unwrap();
    }
    let mut of_a = BTreeMap::new();
    let mut of_b = BTreeMap::new();
    for (table, col) in migration::tenant_tables().iter() {
        let in_a = count(&admin, &format!(r#"SELECT count(*) FROM "{table}" WHERE "{col}" = '{a}'"#)).await;
        let in_b = count(&admin, &format!(r#"SELECT count(*) FROM "{table}" WHERE "{col}" = '{b}'"#)).await;
        assert!(in_a > 0, "the fixture leaves {table} empty for tenant A, so the wall would prove nothing");
        of_a.insert(*table, in_a);
        of_b.insert(*table, in_b);
    }

    // The server's role, as every server connection runs: nothing without the setting.
    let url = app.backend.database_url.clone().unwrap();
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(1).sqlx_logging(false);
    opts.map_sqlx_postgres_opts(|o| o.options([("role", migration::APP_ROLE)]));
    let app_role = Database::connect(opts).await.expect("connects as the server's role");
    let who = strings(&app_role, "SELECT current_user::text").await;
    assert_eq!(who, BTreeSet::from([migration::APP_ROLE.to_string()]));
    for (table, _) in migration::tenant_tables().iter() {
        assert_eq!(
            count(&app_role, &format!(r#"SELECT count(*) FROM "{table}""#)).await,
            0,
            "a raw SELECT on {table} without the tenant setting saw rows"
        );
    }

    // Inside a transaction walled to A: exactly A's rows, none of B's.
    let txn = app_role.begin().await.unwrap();
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('zygo.tenant_ids', $1, true)",
        [a.clone().into()],
    ))
    .await
    .unwrap();
    for (table, col) in migration::tenant_tables().iter() {
        assert_eq!(
            count(&txn, &format!(r#"SELECT count(*) FROM "{table}""#)).await,
            of_a[table],
            "walled to tenant A, {table} shows other than A's rows"
        );
        assert_eq!(
            count(&txn, &format!(r#"SELECT count(*) FROM "{table}" WHERE "{col}" = '{b}'"#)).await,
            0,
            "walled to tenant A, {table} shows rows of B"
        );
    }
    // Deleting B's rows from A's wall touches nothing.
    let deleted = txn
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("DELETE FROM audit_entries WHERE tenant_id = '{b}'"),
        ))
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 0);
    // A row cannot be handed to another tenant (the policy's WITH CHECK).
    let moved = txn
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("UPDATE workflows SET tenant_id = '{b}' WHERE tenant_id = '{a}'"),
        ))
        .await
        .expect_err("moving a row to another tenant must be refused");
    assert!(moved.to_string().contains("row-level security"), "refused for another reason: {moved}");
    txn.rollback().await.unwrap();

    // The setting ends with its transaction: nothing stays on the pooled connection.
    assert_eq!(count(&app_role, "SELECT count(*) FROM workflows").await, 0);
    for (table, col) in migration::tenant_tables().iter() {
        let in_b = count(&admin, &format!(r#"SELECT count(*) FROM "{table}" WHERE "{col}" = '{b}'"#)).await;
        assert_eq!(in_b, of_b[table], "{table}: tenant B's rows changed");
    }
}
