//! The admin API: platform roles granted from the command line (the real `zygo admin`
//! binary) and used only with two-factor authentication, organisation roles never leading
//! to one, suspension and reactivation seen by the organisation's members and audited in both
//! logs, and the job dashboard showing a real failed job (a webhook delivery to a receiver
//! that was down) that runs again when retried.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, helpers::*};

/// Every document of the admin API, with variables that would do something if allowed.
fn admin_operations(tenant: &str) -> Vec<(&'static str, Value)> {
    let job = "Sm9iOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA"; // Job:<nil uuid>
    vec![
        (doc!("admin/AdminOverview"), json!({})),
        (doc!("admin/AdminOrganisations"), json!({})),
        (doc!("admin/AdminUsers"), json!({})),
        (doc!("admin/AdminJobQueues"), json!({})),
        (doc!("admin/AdminFailedJobs"), json!({})),
        (doc!("admin/AdminAuditLog"), json!({})),
        (doc!("admin/AdminStatistics"), json!({})),
        (
            doc!("admin/AdminGrantPlatformRole"),
            json!({ "email": "owner@example.com", "role": "SUPER_ADMIN" }),
        ),
        (doc!("admin/AdminRevokePlatformRole"), json!({ "email": "owner@example.com" })),
        (doc!("admin/AdminSuspendTenant"), json!({ "id": tenant, "reason": "because" })),
        (doc!("admin/AdminReactivateTenant"), json!({ "id": tenant, "reason": "because" })),
        (doc!("admin/AdminDeleteTenant"), json!({ "id": tenant, "reason": "because" })),
        (doc!("admin/AdminCancelTenantDeletion"), json!({ "id": tenant, "reason": "because" })),
        (doc!("admin/AdminRetryJob"), json!({ "id": job })),
        (doc!("admin/AdminCancelJob"), json!({ "id": job })),
    ]
}

/// Runs `zygo admin <args>` against the database of `app`, as an operator would.
/// Runs `zygo admin …` against the test server's database. The child is awaited, never
/// waited on by blocking: the server runs on this test's runtime, and a blocked runtime
/// would freeze a server task holding SQLite's write lock until the child gave up on it.
async fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_zygo"));
    cmd.arg("admin").args(args).env("ZYGO_DATA_DIR", &app.data_dir).env("ZYGO_LOG", "error");
    if let Some(url) = &app.backend.database_url {
        cmd.env("ZYGO_DATABASE_URL", url);
    }
    cmd.output().await.expect("zygo runs")
}

async fn audit_actions(app: &TestApp, who: &Session) -> Vec<Value> {
    let r = app.gql(Some(&who.access), doc!("admin/AdminAuditLog"), json!({ "last": 50 })).await;
    r.data()["admin"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

#[tokio::test]
async fn a_role_granted_from_the_command_line_opens_the_console_only_with_two_factor_authentication() {
    let app = spawn_app().await;
    let ops = app.verified_user("ops@example.com").await;
    let r = app.gql(Some(&ops.access), doc!("admin/AdminOverview"), json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN", "no role yet");

    let out = cli(&app, &["grant", "ops@example.com", "super-admin"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = cli(&app, &["grant", "ops@example.com", "owner"]).await;
    assert!(!bad.status.success(), "an unknown role is refused");

    let r = app.gql(Some(&ops.access), doc!("admin/AdminOverview"), json!({})).await;
    assert_eq!(r.code(), "MFA_REQUIRED", "the role is used with two-factor authentication only");
    assert_eq!(r.field(), "platformRole");

    app.enable_mfa(&ops).await;
    let r = app.gql(Some(&ops.access), doc!("admin/AdminOverview"), json!({})).await;
    assert_eq!(r.data()["admin"]["role"], "SUPER_ADMIN");
    let log = audit_actions(&app, &ops).await;
    let grant = log.iter().find(|e| e["action"] == "admin.role_granted").expect("the grant is audited");
    assert_eq!(grant["actorId"], Value::Null, "granted from the command line");
    assert_eq!(grant["metadata"]["email"], "ops@example.com");

    // A super admin grants SUPPORT, which reads the console but changes nothing.
    let helper = app.verified_user("helper@example.com").await;
    let g = app
        .gql(
            Some(&ops.access),
            doc!("admin/AdminGrantPlatformRole"),
            json!({ "email": "helper@example.com", "role": "SUPPORT" }),
        )
        .await;
    assert_eq!(g.data()["adminGrantPlatformRole"]["role"], "SUPPORT");
    app.enable_mfa(&helper).await;
    let r = app.gql(Some(&helper.access), doc!("admin/AdminUsers"), json!({ "search": "ops@" })).await;
    let users = &r.data()["admin"]["users"];
    assert_eq!(users["totalCount"], 1);
    assert_eq!(users["edges"][0]["node"]["platformRole"], "SUPER_ADMIN");
    let r = app
        .gql(
            Some(&helper.access),
            doc!("admin/AdminRevokePlatformRole"),
            json!({ "email": "ops@example.com" }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "support changes nothing");

    let out = cli(&app, &["revoke", "ops@example.com"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = app.gql(Some(&ops.access), doc!("admin/AdminOverview"), json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN", "revoked");
}

#[tokio::test]
async fn no_organisation_role_reaches_the_admin_api() {
    let app = spawn_app().await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    // Even with two-factor authentication on, an owner holds no platform role.
    app.enable_mfa(&owner).await;
    for (doc, vars) in admin_operations(&tenant) {
        let r = app.gql(Some(&owner.access), doc, vars.clone()).await;
        assert_eq!(r.code(), "FORBIDDEN", "{doc}");
        let r = app.gql(None, doc, vars).await;
        assert_eq!(r.code(), "UNAUTHENTICATED", "{doc}");
    }
    let t = app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await;
    assert_eq!(t.data()["tenant"]["status"], "active", "nothing changed");
}

#[tokio::test]
async fn a_suspension_by_an_operator_is_seen_by_members_and_audited_in_both_logs() {
    let app = spawn_app().await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    let (ops, _) = app.platform_operator("ops@example.com", "super-admin").await;

    let found =
        app.gql(Some(&ops.access), doc!("admin/AdminOrganisations"), json!({ "search": "ACM" })).await;
    let orgs = &found.data()["admin"]["organisations"];
    assert_eq!(orgs["totalCount"], 1);
    let org = &orgs["edges"][0]["node"];
    assert_eq!((org["id"].as_str(), org["status"].as_str()), (Some(tenant.as_str()), Some("ACTIVE")));
    assert_eq!((org["memberCount"].as_u64(), org["plan"].as_str()), (Some(1), Some("free")));
    assert!(org["lastActivity"].is_string(), "its creation is in its audit log");

    let empty = app
        .gql(Some(&ops.access), doc!("admin/AdminSuspendTenant"), json!({ "id": tenant, "reason": " " }))
        .await;
    assert_eq!(empty.field(), "reason", "a reason is required");

    let s = app
        .gql(
            Some(&ops.access),
            doc!("admin/AdminSuspendTenant"),
            json!({ "id": tenant, "reason": "unpaid since March" }),
        )
        .await;
    assert_eq!(s.data()["adminSuspendTenant"]["status"], "SUSPENDED");
    let t = app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await;
    assert_eq!(t.data()["tenant"]["status"], "suspended", "the members see it");
    let w = app
        .gql(
            Some(&owner.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": "Ops" } }),
        )
        .await;
    assert_eq!(w.code(), "FORBIDDEN", "a suspended organisation is read-only");
    let filtered =
        app.gql(Some(&ops.access), doc!("admin/AdminOrganisations"), json!({ "status": "SUSPENDED" })).await;
    assert_eq!(filtered.data()["admin"]["organisations"]["totalCount"], 1);

    let r = app
        .gql(
            Some(&ops.access),
            doc!("admin/AdminReactivateTenant"),
            json!({ "id": tenant, "reason": "paid" }),
        )
        .await;
    assert_eq!(r.data()["adminReactivateTenant"]["status"], "ACTIVE");
    app.gql(
        Some(&owner.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": "Ops" } }),
    )
    .await
    .data();

    // The organisation's own log: both changes, by a platform administrator.
    let log = app
        .gql(Some(&owner.access), doc!("audit/TenantAuditLog"), json!({ "id": tenant, "first": 50 }))
        .await;
    let entries: Vec<&Value> =
        log.data()["tenant"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
    for action in ["tenant.suspended", "tenant.reactivated"] {
        let e =
            entries.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("{action} in its log"));
        assert_eq!(e["actorType"], "platform_admin", "{action}");
    }
    // The platform's log: both, with their reasons, about the organisation.
    let platform = app
        .gql(Some(&ops.access), doc!("admin/AdminAuditLog"), json!({ "organisationId": tenant, "last": 10 }))
        .await;
    let actions: Vec<(String, String)> = platform.data()["admin"]["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["action"].as_str().unwrap().to_string(),
                e["node"]["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("admin.tenant_suspended".to_string(), "unpaid since March".to_string()),
            ("admin.tenant_reactivated".to_string(), "paid".to_string())
        ]
    );
}

#[tokio::test]
async fn an_operator_schedules_an_organisations_deletion_and_takes_it_back_audited_in_both_logs() {
    let app = spawn_app().await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    let (ops, _) = app.platform_operator("ops@example.com", "super-admin").await;
    let d = app
        .gql(
            Some(&ops.access),
            doc!("admin/AdminDeleteTenant"),
            json!({ "id": tenant, "reason": "customer asked" }),
        )
        .await;
    assert!(d.data()["adminDeleteTenant"]["deletionDueAt"].is_string(), "{:?}", d.0);
    let t = app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await;
    assert!(t.data()["tenant"]["deletionDueAt"].is_string(), "the members see the deletion coming");
    let c = app
        .gql(
            Some(&ops.access),
            doc!("admin/AdminCancelTenantDeletion"),
            json!({ "id": tenant, "reason": "changed mind" }),
        )
        .await;
    assert_eq!(c.data()["adminCancelTenantDeletion"]["deletionDueAt"], Value::Null);
    let log = app
        .gql(Some(&owner.access), doc!("audit/TenantAuditLog"), json!({ "id": tenant, "first": 50 }))
        .await;
    let entries: Vec<&Value> =
        log.data()["tenant"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
    for action in ["tenant.deletion_scheduled", "tenant.deletion_cancelled"] {
        let e =
            entries.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("{action} in its log"));
        assert_eq!(e["actorType"], "platform_admin", "{action}");
    }
    let platform = audit_actions(&app, &ops).await;
    for (action, reason) in [
        ("admin.tenant_deletion_scheduled", "customer asked"),
        ("admin.tenant_deletion_cancelled", "changed mind"),
    ] {
        assert!(platform.iter().any(|e| e["action"] == action && e["reason"] == reason), "{action}");
    }
}

/// A receiver on `port` answering 200 to everything, counting requests.
async fn receiver_on(port: u16) -> Arc<AtomicUsize> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the port is free again");
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    hits
}

#[tokio::test]
async fn the_job_dashboard_shows_a_real_failed_job_and_retrying_it_runs_it() {
    let clock = Clock::manual(Utc::now());
    let opts = Options {
        clock: Some(clock.clone()),
        env: vec![("ZYGO_WEBHOOK_ALLOW_PRIVATE", "true".to_string())],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    let (_, codes) = app.platform_operator("ops@example.com", "super-admin").await;
    // A receiver that is down: nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/hook");
    app.gql(
        Some(&owner.access),
        doc!("webhooks/CreateWebhookEndpoint"),
        json!({ "input": { "tenantId": tenant, "url": url, "eventTypes": ["team.created"] } }),
    )
    .await
    .data();
    app.gql(
        Some(&owner.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": "Ops" } }),
    )
    .await
    .data();
    // Every attempt of the retry schedule fails; then the job is FAILED for the operator.
    drain(&app.ctx).await.unwrap();
    for _ in 0..10 {
        clock.advance(Duration::hours(11));
        drain(&app.ctx).await.unwrap();
    }
    let ops = app.log_in_with_backup_code("ops@example.com", &codes[0]).await;
    let failed = app
        .gql(Some(&ops.access), doc!("admin/AdminFailedJobs"), json!({ "kind": "webhooks.deliver" }))
        .await;
    let failed = &failed.data()["admin"]["failedJobs"];
    assert_eq!(failed["totalCount"], 1, "{failed}");
    let job = failed["edges"][0]["node"].clone();
    assert_eq!(job["organisationId"].as_str(), Some(tenant.as_str()));
    assert!(job["lastError"].as_str().unwrap().contains("not delivered"), "{job}");
    assert_eq!(job["attempts"], job["maxAttempts"]);
    let queues = app.gql(Some(&ops.access), doc!("admin/AdminJobQueues"), json!({})).await;
    let queues = queues.data()["admin"]["jobQueues"].as_array().unwrap().clone();
    let deliveries = queues.iter().find(|q| q["kind"] == "webhooks.deliver").expect("the delivery queue");
    assert_eq!(deliveries["failed"], 1);
    assert!(queues.iter().any(|q| q["kind"] == "mail"), "the mail outbox is on the dashboard");
    assert!(queues.iter().any(|q| q["kind"] == "workflow.execution"), "the workflow queue too");
    // A waiting job cannot be retried twice; a failed one cannot be cancelled.
    let c = app.gql(Some(&ops.access), doc!("admin/AdminCancelJob"), json!({ "id": job["id"] })).await;
    assert_eq!(c.field(), "id");

    // The receiver is back; the operator retries; the delivery runs and succeeds.
    let hits = receiver_on(port).await;
    let r = app
        .gql(
            Some(&ops.access),
            doc!("admin/AdminRetryJob"),
            json!({ "id": job["id"], "reason": "receiver fixed" }),
        )
        .await;
    assert_eq!(r.data()["adminRetryJob"]["job"]["status"], "QUEUED");
    assert_eq!(r.data()["adminRetryJob"]["job"]["attempts"], 0);
    drain(&app.ctx).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the retried delivery reached the receiver");
    let queues = app.gql(Some(&ops.access), doc!("admin/AdminJobQueues"), json!({})).await;
    let deliveries = queues.data()["admin"]["jobQueues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["kind"] == "webhooks.deliver")
        .cloned()
        .unwrap();
    assert_eq!((deliveries["failed"].as_u64(), deliveries["succeeded"].as_u64()), (Some(0), Some(1)));
    let owner = app.log_in("owner@example.com").await;
    let log = app
        .gql(
            Some(&owner.access),
            doc!("audit/TenantAuditLog"),
            json!({ "id": tenant, "filter": { "action": "job.retried" }, "first": 5 }),
        )
        .await;
    let entry = &log.data()["tenant"]["auditLog"]["edges"][0]["node"];
    assert_eq!(entry["actorType"], "platform_admin", "the organisation sees who retried its job");
    let platform = audit_actions(&app, &ops).await;
    assert!(platform.iter().any(|e| e["action"] == "admin.job_retried" && e["reason"] == "receiver fixed"));
}
