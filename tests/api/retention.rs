//! Data retention: each organisation keeps its audit log (and runs and webhook deliveries) for
//! its own period within the platform's maxima, and the rows that only pile up (expired tokens,
//! ended sessions) are removed — on a clock the tests move, by the `retention.sweep` job.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, gql::*, helpers::*};

async fn clocked() -> (TestApp, Clock) {
    let clock = Clock::manual(Utc::now());
    let opts = Options { clock: Some(clock.clone()), ..Default::default() };
    (spawn_app_on(Backend::fresh().await, opts).await, clock)
}

async fn actions(app: &TestApp, owner: &Session, tenant: &str) -> Vec<String> {
    app.op_json::<TenantAuditLog>(Some(&owner.access), json!({ "id": tenant, "first": 100 }))
        .await
        .into_data()
        .tenant
        .audit_log
        .expect("the audit log")
        .edges
        .into_iter()
        .map(|e| e.node.action)
        .collect()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let db = app.db().await;
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, format!("SELECT count(*) AS n FROM {table}")))
        .await
        .unwrap()
        .unwrap();
    match backend {
        DbBackend::Postgres => row.try_get::<i64>("", "n").unwrap(),
        _ => row.try_get::<i32>("", "n").unwrap() as i64,
    }
}

#[tokio::test]
async fn an_organisation_keeps_its_log_for_its_own_period_within_the_platforms_maximum() {
    let (app, clock) = clocked().await;
    let owner = app.verified_user("keep@example.com").await;
    let short = app.create_tenant(&owner, "keep-short").await;
    let long = app.create_tenant(&owner, "keep-long").await;

    // Beyond the platform's maximum is refused, naming the field, and changes nothing.
    let r = app
        .gql(
            Some(&owner.access),
            doc!("tenancy/UpdateTenantSettings"),
            json!({ "input": { "tenantId": short, "retention": { "auditDays": 400 } } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.retention.auditDays"));
    let set = app
        .op_json::<UpdateTenantSettings>(
            Some(&owner.access),
            json!({ "input": { "tenantId": short, "retention": { "auditDays": 30 } } }),
        )
        .await
        .into_data()
        .update_tenant_settings
        .tenant
        .settings
        .retention;
    assert_eq!((set.audit_days, set.max_audit_days, set.execution_days), (30, 365, 90));

    clock.advance(Duration::days(31));
    app.gql(
        Some(&owner.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": short, "name": "Fresh" } }),
    )
    .await
    .data();
    drain(&app.ctx).await.unwrap();
    let owner = app.log_in("keep@example.com").await;
    assert_eq!(actions(&app, &owner, &short).await, ["team.created"], "the month-old entries are gone");
    assert!(
        actions(&app, &owner, &long).await.contains(&"tenant.created".to_string()),
        "the other keeps a year"
    );

    clock.advance(Duration::days(335));
    drain(&app.ctx).await.unwrap();
    let owner = app.log_in("keep@example.com").await;
    assert!(
        !actions(&app, &owner, &long).await.contains(&"tenant.created".to_string()),
        "a year is the maximum"
    );
}

#[tokio::test]
async fn expired_tokens_and_sessions_ended_a_month_ago_are_removed() {
    let (app, clock) = clocked().await;
    app.verified_user("stale@example.com").await;
    app.gql(None, doc!("identity/RequestPasswordReset"), json!({ "email": "stale@example.com" })).await;
    assert!(count(&app, "user_tokens").await >= 2, "the verification and the reset token");
    assert!(count(&app, "sessions").await >= 1);
    drain(&app.ctx).await.unwrap();
    assert!(count(&app, "user_tokens").await >= 2, "nothing expired yet");

    clock.advance(Duration::days(61));
    drain(&app.ctx).await.unwrap();
    assert_eq!(count(&app, "user_tokens").await, 0);
    assert_eq!(count(&app, "sessions").await, 0, "sessions expired more than a month ago");
    assert_eq!(count(&app, "refresh_tokens").await, 0);
}
