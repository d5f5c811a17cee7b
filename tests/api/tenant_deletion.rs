//! Deleting an organisation: an owner's deletion leaves it read-only for the grace period,
//! during which an owner can take it back; a renewing paid plan blocks it; once due, the purge
//! removes its stored files and every row that names it (checked against the database's own
//! list of tables), frees its slug, and the platform's records stay. Owners are told.
//! Security events tell the person whose account changed.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, helpers::*};

async fn clocked() -> (TestApp, Clock) {
    let clock = Clock::manual(Utc::now());
    let opts = Options {
        clock: Some(clock.clone()),
        env: vec![(SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string())],
        ..Default::default()
    };
    (spawn_app_on(Backend::fresh().await, opts).await, clock)
}

/// `table.column` for every row, in any table with a `tenant_id` or `organisation_id` column,
/// that still names the organisation `raw` (a UUID).
async fn rows_naming(app: &TestApp, raw: uuid::Uuid) -> Vec<String> {
    let db = app.db().await;
    let backend = db.get_database_backend();
    let tables = zygo::db::catalog::tables(&db).await.unwrap();
    let mut out = Vec::new();
    for (table, columns) in tables {
        for c in columns
            .iter()
            .filter(|c| *c == "tenant_id" || *c == "organisation_id" || (table == "tenants" && *c == "id"))
        {
            let p = if backend == DbBackend::Postgres { "$1" } else { "?" };
            let sql = format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE \"{c}\" = {p}");
            let row = db
                .query_one_raw(Statement::from_sql_and_values(backend, sql, [raw.into()]))
                .await
                .unwrap()
                .unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                out.push(format!("{table}.{c}"));
            }
        }
    }
    out
}

fn raw_id(global: &str) -> uuid::Uuid {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(global).unwrap();
    let text = String::from_utf8(raw).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

fn stored_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(Result::ok).map(|e| if e.path().is_dir() { stored_files(&e.path()) } else { 1 }).sum()
}

async fn delete(app: &TestApp, s: &Session, tenant: &str, slug: &str) -> Gql {
    app.gql(Some(&s.access), doc!("tenancy/DeleteTenant"), json!({ "id": tenant, "confirmSlug": slug })).await
}

async fn kinds_of_notifications(app: &TestApp, s: &Session) -> Vec<(String, String)> {
    let r = app.gql(Some(&s.access), doc!("notifications/ViewerNotifications"), json!({ "first": 50 })).await;
    r.data()["viewer"]["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().unwrap().to_string(),
                e["node"]["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_owners_deletion_is_read_only_grace_then_every_row_and_file_of_the_organisation_goes() {
    let (app, clock) = clocked().await;
    let owner = app.verified_user("owner@gone.example.com").await;
    let tenant = app.create_tenant(&owner, "gone").await;
    let (co_owner, _) = app.join_as(&owner, &tenant, "co-owner@gone.example.com", "owner").await;
    let (admin, _) = app.join_as(&owner, &tenant, "admin@gone.example.com", "admin").await;
    app.gql(
        Some(&admin.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": "Ops" } }),
    )
    .await
    .data();
    crate::resources::upload(&app, &owner.access, &tenant, json!({}), "notes.txt", b"kept until purged")
        .await
        .data();
    let files = app.data_dir.join("files");
    assert_eq!(stored_files(&files), 1);
    let other = app.create_tenant(&owner, "stays").await;

    // Only an owner, typing the slug back.
    assert_eq!(delete(&app, &admin, &tenant, "gone").await.code(), "FORBIDDEN");
    assert_eq!(delete(&app, &owner, &tenant, "gon").await.field(), "confirmSlug");

    // A paid plan that still renews must be cancelled first.
    app.gql(
        Some(&owner.access),
        doc!("billing/ChangePlan"),
        json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
    )
    .await
    .data();
    let paid = delete(&app, &owner, &tenant, "gone").await;
    assert_eq!(paid.code(), "PAID_PLAN_ACTIVE", "{:?}", paid.0);
    app.gql(
        Some(&owner.access),
        doc!("billing/CancelSubscription"),
        json!({ "input": { "tenantId": tenant, "atPeriodEnd": true } }),
    )
    .await
    .data();

    let r = delete(&app, &owner, &tenant, "gone").await;
    let due: chrono::DateTime<Utc> =
        r.data()["deleteTenant"]["tenant"]["deletionDueAt"].as_str().unwrap().parse().unwrap();
    assert_eq!((due - clock.now() + Duration::seconds(1)).num_days(), 30);
    assert_eq!(delete(&app, &owner, &tenant, "gone").await.code(), "DELETION_SCHEDULED");

    // Read-only for everyone meanwhile; members still see it, with its date.
    let seen = app.gql(Some(&admin.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await;
    assert!(seen.data()["tenant"]["deletionDueAt"].is_string());
    let change = app
        .gql(
            Some(&admin.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": "Dev" } }),
        )
        .await;
    assert_eq!(change.code(), "FORBIDDEN");
    assert!(change.message().contains("scheduled for deletion"), "{}", change.message());

    // The other owner is told (not the one who did it).
    drain(&app.ctx).await.unwrap();
    let told = kinds_of_notifications(&app, &co_owner).await;
    assert!(
        told.iter().any(|(k, t)| k == "ORGANISATION_DELETION" && t.contains("scheduled for deletion")),
        "{told:?}"
    );
    assert!(!kinds_of_notifications(&app, &owner).await.iter().any(|(k, _)| k == "ORGANISATION_DELETION"));

    // Taken back: usable again, and the first schedule's job finds nothing to do.
    let cancel = |s: &Session| {
        let (app, token, tenant) = (&app, s.access.clone(), tenant.clone());
        async move {
            app.gql(
                Some(&token),
                doc!("tenancy/CancelTenantDeletion"),
                json!({ "id": tenant, "confirmSlug": "gone" }),
            )
            .await
        }
    };
    assert_eq!(cancel(&admin).await.code(), "FORBIDDEN");
    let back = cancel(&co_owner).await;
    assert_eq!(back.data()["cancelTenantDeletion"]["tenant"]["deletionDueAt"], Value::Null);
    assert_eq!(cancel(&owner).await.code(), "NOT_SCHEDULED");
    app.gql(
        Some(&admin.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": "Dev" } }),
    )
    .await
    .data();

    // Deleted again a day later: due 30 days from then.
    clock.advance(Duration::days(1));
    delete(&app, &owner, &tenant, "gone").await.data();
    clock.advance(Duration::days(29) + Duration::hours(12));
    drain(&app.ctx).await.unwrap();
    assert!(
        app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": tenant }))
            .await
            .0
            .get("errors")
            .is_none()
    );
    assert_eq!(stored_files(&files), 1, "nothing goes before it is due");

    clock.advance(Duration::days(1));
    drain(&app.ctx).await.unwrap();
    let raw = raw_id(&tenant);
    assert_eq!(rows_naming(&app, raw).await, Vec::<String>::new(), "no row names the organisation");
    assert_eq!(stored_files(&files), 0, "its files are gone");
    assert_eq!(
        app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await.code(),
        "NOT_FOUND"
    );
    // The owner's other organisation is untouched, and the slug is free again.
    assert_eq!(app.tenant(&owner.access, &other).await.slug, "stays");
    assert!(!rows_naming(&app, raw_id(&other)).await.is_empty());
    app.create_tenant(&admin, "gone").await;
}

#[tokio::test]
async fn a_password_change_tells_the_person_in_the_app_and_by_mail() {
    let (app, clock) = clocked().await;
    let s = app.verified_user("careful@example.com").await;
    app.gql(
        Some(&s.access),
        doc!("identity/ChangePassword"),
        json!({ "currentPassword": PASSWORD, "newPassword": "another long passphrase 42" }),
    )
    .await
    .data();
    // The workers of the app may be the ones running the notice's jobs: wait for their result.
    let told = eventually(10, || async {
        drain(&app.ctx).await.unwrap();
        let told = kinds_of_notifications(&app, &s).await;
        let db = app.db().await;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT kind, status, last_error, attempts FROM jobs".to_string(),
            ))
            .await
            .unwrap();
        for r in rows {
            eprintln!(
                "JOB {:?} {:?} {:?}",
                r.try_get::<String>("", "kind"),
                r.try_get::<String>("", "status"),
                r.try_get::<Option<String>>("", "last_error")
            );
        }
        (!told.is_empty()).then_some(told)
    })
    .await;
    assert_eq!(told, vec![("SECURITY_EVENT".to_string(), "Your password was changed".to_string())]);
    // Its mail follows once the grouping delay is over.
    clock.advance(Duration::minutes(2));
    let mail = eventually(10, || async {
        drain(&app.ctx).await.unwrap();
        eprintln!(
            "MAILS {:?}",
            app.mails_to("careful@example.com")
                .iter()
                .map(|m| m.lines().find(|l| l.starts_with("Subject")).unwrap_or("").to_string())
                .collect::<Vec<_>>()
        );
        app.mails_to("careful@example.com").into_iter().find(|m| {
            m.lines().any(|l| l.starts_with("Subject: ") && l.contains("Your password was changed"))
        })
    })
    .await;
    assert!(mail.contains("If this was not you"), "{mail}");
}
