//! Developer mode (support access): a platform operator enters one organisation for a
//! limited time with a written reason. Without a live session a platform role gives no
//! organisation data; with approval required the session waits for an owner; a read-only
//! session reads but changes nothing; every request made in it is in the organisation's log
//! with actor `platform_admin`; ending it (either side) or its time running out refuses at
//! once.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zygo::ctx::Clock;

use crate::{doc, helpers::*};

async fn start(
    app: &TestApp,
    who: &Session,
    tenant: &str,
    reason: &str,
    minutes: Option<i32>,
    read_only: bool,
) -> Gql {
    app.gql(
        Some(&who.access),
        doc!("support/AdminStartSupportSession"),
        json!({ "input": { "tenantId": tenant, "reason": reason, "minutes": minutes, "readOnly": read_only } }),
    )
    .await
}

/// The organisation's name and the caller's permissions there (no member's e-mail, which
/// needs `members.manage`).
const READ_TENANT: &str = "query ReadTenant($id: ID!) { tenant(id: $id) { id slug viewerPermissions } }";

async fn read_tenant(app: &TestApp, who: &Session, tenant: &str) -> Gql {
    app.gql(Some(&who.access), READ_TENANT, json!({ "id": tenant })).await
}

async fn create_team(app: &TestApp, who: &Session, tenant: &str, name: &str) -> Gql {
    app.gql(
        Some(&who.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": name } }),
    )
    .await
}

async fn decide(app: &TestApp, who: &Session, document: &str, field: &str, id: &str) -> Gql {
    let r = app.gql(Some(&who.access), document, json!({ "id": id })).await;
    if r.0.get("errors").is_none() {
        assert!(r.data()[field]["session"]["id"].is_string(), "{r:?}");
    }
    r
}

async fn audit_log(app: &TestApp, owner: &Session, tenant: &str) -> Vec<Value> {
    let r = app
        .gql(Some(&owner.access), doc!("audit/TenantAuditLog"), json!({ "id": tenant, "first": 100 }))
        .await;
    r.data()["tenant"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

async fn tenant_sessions(app: &TestApp, owner: &Session, tenant: &str) -> Vec<Value> {
    let r =
        app.gql(Some(&owner.access), doc!("support/TenantSupportSessions"), json!({ "id": tenant })).await;
    r.data()["tenant"]["supportSessions"].as_array().unwrap().clone()
}

const REASON: &str = "ticket 4711: the customer's workflow fails on import";

#[tokio::test]
async fn a_read_only_session_reads_changes_nothing_and_every_request_is_audited_as_platform_admin() {
    let app = spawn_app().await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    let (ops, _) = app.platform_operator("ops@example.com", "super-admin").await;

    // A platform role alone sees nothing of the organisation.
    assert_eq!(read_tenant(&app, &ops, &tenant).await.code(), "NOT_FOUND");
    assert_eq!(create_team(&app, &ops, &tenant, "Ops").await.code(), "NOT_FOUND");

    // Bad input names its field and starts nothing.
    for (reason, minutes, field) in [
        ("x", None, "input.reason"),
        ("  ", None, "input.reason"),
        (REASON, Some(0), "input.minutes"),
        (REASON, Some(481), "input.minutes"),
    ] {
        let r = start(&app, &ops, &tenant, reason, minutes, true).await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", field), "{r:?}");
    }
    assert!(tenant_sessions(&app, &owner, &tenant).await.is_empty());
    // Nobody without a platform role starts one, not even the organisation's owner.
    assert_eq!(start(&app, &owner, &tenant, REASON, None, true).await.code(), "FORBIDDEN");

    let r = start(&app, &ops, &tenant, REASON, None, true).await;
    let session = r.data()["adminStartSupportSession"]["session"].clone();
    assert_eq!((session["status"].as_str(), session["readOnly"].as_bool()), (Some("ACTIVE"), Some(true)));
    assert_eq!((session["minutes"].as_i64(), session["tenantSlug"].as_str()), (Some(60), Some("acme")));
    let id = session["id"].as_str().unwrap().to_string();
    let mine = app.gql(Some(&ops.access), doc!("support/ViewerSupportSessions"), json!({})).await;
    assert_eq!(mine.data()["viewer"]["supportSessions"][0]["id"], id.as_str(), "the banner's source");
    assert_eq!(
        start(&app, &ops, &tenant, REASON, None, true).await.code(),
        "CONFLICT",
        "one open session at a time"
    );

    // Reads work, as an owner would see them, but only the read permissions are held.
    let t = read_tenant(&app, &ops, &tenant).await;
    assert_eq!(t.data()["tenant"]["slug"], "acme");
    let perms: Vec<&str> = t.data()["tenant"]["viewerPermissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(perms.contains(&"TENANT_READ") && perms.contains(&"AUDIT_READ"), "{perms:?}");
    assert!(!perms.contains(&"TENANT_UPDATE") && !perms.contains(&"MEMBERS_MANAGE"), "{perms:?}");
    // Every mutation is refused.
    assert_eq!(create_team(&app, &ops, &tenant, "Ops").await.code(), "FORBIDDEN");
    let r = app
        .gql(
            Some(&ops.access),
            doc!("support/SetSupportAccessApproval"),
            json!({ "tenantId": tenant, "required": false }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "an operator never answers for the organisation about support access");

    // The organisation's log: the start, and each request, by a platform administrator.
    let log = audit_log(&app, &owner, &tenant).await;
    let started =
        log.iter().find(|e| e["action"] == "support_session.started").expect("the start is audited");
    assert_eq!(started["actorType"], "platform_admin");
    assert_eq!(started["after"]["reason"], REASON);
    let requests: Vec<&Value> = log.iter().filter(|e| e["action"] == "support_session.request").collect();
    assert!(
        requests
            .iter()
            .any(|e| e["after"]["operationName"] == "ReadTenant" && e["after"]["operationType"] == "query"),
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|e| e["after"]["operationName"] == "CreateTeam" && e["after"]["operationType"] == "mutation"),
        "a refused mutation is audited too: {requests:?}"
    );
    assert!(requests.iter().all(|e| e["actorType"] == "platform_admin" && e["targetId"].is_string()));
    assert!(!log.iter().any(|e| e["action"] == "team.created"), "nothing changed");

    // The owner ends it: refused at once.
    let r = decide(&app, &owner, doc!("support/EndSupportSession"), "endSupportSession", &id).await;
    assert_eq!(r.data()["endSupportSession"]["session"]["status"], "ENDED");
    assert_eq!(read_tenant(&app, &ops, &tenant).await.code(), "NOT_FOUND");
    let mine = app.gql(Some(&ops.access), doc!("support/ViewerSupportSessions"), json!({})).await;
    assert_eq!(mine.data()["viewer"]["supportSessions"], json!([]));
    let again = decide(&app, &owner, doc!("support/EndSupportSession"), "endSupportSession", &id).await;
    assert_eq!(again.code(), "CONFLICT", "an ended session stays ended");

    // The platform's log holds the start with its reason.
    let platform = app
        .gql(Some(&ops.access), doc!("admin/AdminAuditLog"), json!({ "organisationId": tenant, "last": 10 }))
        .await;
    let entries = platform.data()["admin"]["auditLog"]["edges"].as_array().unwrap().clone();
    assert!(
        entries
            .iter()
            .any(|e| e["node"]["action"] == "admin.support_session_started" && e["node"]["reason"] == REASON),
        "{entries:?}"
    );
}

#[tokio::test]
async fn with_approval_required_a_session_waits_for_an_owner_and_a_writable_one_acts_as_platform_admin() {
    let app = spawn_app().await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    let (ops, _) = app.platform_operator("support@example.com", "support").await;

    let r = app
        .gql(
            Some(&owner.access),
            doc!("support/SetSupportAccessApproval"),
            json!({ "tenantId": tenant, "required": true }),
        )
        .await;
    assert_eq!(r.data()["setSupportAccessApproval"]["supportRequiresApproval"], true);

    // Pending: no access until an owner answers.
    let r = start(&app, &ops, &tenant, REASON, Some(30), false).await;
    let pending = r.data()["adminStartSupportSession"]["session"].clone();
    assert_eq!(pending["status"], "PENDING_APPROVAL");
    assert_eq!(pending["expiresAt"], Value::Null);
    let id = pending["id"].as_str().unwrap().to_string();
    assert_eq!(read_tenant(&app, &ops, &tenant).await.code(), "NOT_FOUND");
    let listed = tenant_sessions(&app, &owner, &tenant).await;
    assert_eq!((listed.len(), listed[0]["operatorEmail"].as_str()), (1, Some("support@example.com")));
    assert!(
        audit_log(&app, &owner, &tenant).await.iter().any(|e| e["action"] == "support_session.requested"),
        "the owners see the request in their log"
    );
    // The owners are told, with the reason and where to answer.
    let notice = eventually(20, || async {
        crate::notifications::inbox(&app, &owner).await.into_iter().find(|n| n["kind"] == "SUPPORT_ACCESS")
    })
    .await;
    assert!(notice["title"].as_str().unwrap().contains("asks to enter"), "{notice}");
    assert!(notice["body"].as_str().unwrap().contains("ticket 4711"), "{notice}");
    // The operator cannot approve it themselves (they reach nothing of the organisation).
    let r = decide(&app, &ops, doc!("support/ApproveSupportSession"), "approveSupportSession", &id).await;
    assert_eq!(r.code(), "NOT_FOUND");

    let r = decide(&app, &owner, doc!("support/ApproveSupportSession"), "approveSupportSession", &id).await;
    let approved = &r.data()["approveSupportSession"]["session"];
    assert_eq!(approved["status"], "ACTIVE");
    assert!(approved["expiresAt"].is_string());

    // A writable session: the operator changes things as an owner, audited as platform_admin.
    let made = create_team(&app, &ops, &tenant, "Support fix").await;
    assert!(made.0.get("errors").is_none(), "{made:?}");
    let log = audit_log(&app, &owner, &tenant).await;
    let team = log.iter().find(|e| e["action"] == "team.created").expect("the change is audited");
    assert_eq!(team["actorType"], "platform_admin");
    let approved_entry = log.iter().find(|e| e["action"] == "support_session.approved").unwrap();
    assert_eq!(approved_entry["actorType"], "user");

    // The operator leaves from the console: refused at once; the platform log says so.
    let r = decide(&app, &ops, doc!("support/AdminEndSupportSession"), "adminEndSupportSession", &id).await;
    assert_eq!(r.data()["adminEndSupportSession"]["session"]["status"], "ENDED");
    assert_eq!(create_team(&app, &ops, &tenant, "Again").await.code(), "NOT_FOUND");

    // Denied: never any access; a denied session cannot be approved afterwards.
    let r = start(&app, &ops, &tenant, REASON, None, true).await;
    let id = r.data()["adminStartSupportSession"]["session"]["id"].as_str().unwrap().to_string();
    let r = decide(&app, &owner, doc!("support/DenySupportSession"), "denySupportSession", &id).await;
    assert_eq!(r.data()["denySupportSession"]["session"]["status"], "DENIED");
    let r = decide(&app, &owner, doc!("support/ApproveSupportSession"), "approveSupportSession", &id).await;
    assert_eq!(r.code(), "CONFLICT");
    assert_eq!(read_tenant(&app, &ops, &tenant).await.code(), "NOT_FOUND");

    let all = app.gql(Some(&ops.access), doc!("support/AdminSupportSessions"), json!({})).await;
    let statuses: Vec<&str> = all.data()["admin"]["supportSessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["DENIED", "ENDED"], "newest first");
    let open =
        app.gql(Some(&ops.access), doc!("support/AdminSupportSessions"), json!({ "openOnly": true })).await;
    assert_eq!(open.data()["admin"]["supportSessions"], json!([]));
}

#[tokio::test]
async fn a_session_gives_no_access_once_its_time_has_run_out() {
    let clock = Clock::manual(Utc::now());
    let app =
        spawn_app_on(Backend::fresh().await, Options { clock: Some(clock.clone()), ..Default::default() })
            .await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    let (ops, _) = app.platform_operator("ops@example.com", "super-admin").await;

    let r = start(&app, &ops, &tenant, REASON, Some(5), true).await;
    assert_eq!(r.data()["adminStartSupportSession"]["session"]["status"], "ACTIVE");
    assert_eq!(read_tenant(&app, &ops, &tenant).await.data()["tenant"]["slug"], "acme");

    clock.advance(Duration::minutes(4));
    assert!(read_tenant(&app, &ops, &tenant).await.0.get("errors").is_none(), "still within its time");
    clock.advance(Duration::minutes(2));
    // The cached access of a moment ago does not outlive the session.
    assert_eq!(read_tenant(&app, &ops, &tenant).await.code(), "NOT_FOUND");
    let listed = tenant_sessions(&app, &owner, &tenant).await;
    assert_eq!(listed[0]["status"], "EXPIRED");
    let mine = app.gql(Some(&ops.access), doc!("support/ViewerSupportSessions"), json!({})).await;
    assert_eq!(mine.data()["viewer"]["supportSessions"], json!([]));
    // A new one may start after the old one expired.
    let r = start(&app, &ops, &tenant, REASON, Some(5), true).await;
    assert_eq!(r.data()["adminStartSupportSession"]["session"]["status"], "ACTIVE");
}

#[tokio::test]
async fn a_subscription_made_in_a_session_ends_at_the_first_event_after_it_expired() {
    let clock = Clock::manual(Utc::now());
    let app =
        spawn_app_on(Backend::fresh().await, Options { clock: Some(clock.clone()), ..Default::default() })
            .await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    let (ops, _) = app.platform_operator("ops@example.com", "super-admin").await;
    let r = start(&app, &ops, &tenant, REASON, Some(5), true).await;
    assert_eq!(r.data()["adminStartSupportSession"]["session"]["status"], "ACTIVE");

    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&ops.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": tenant })).await;
    let event = crate::subscriptions::mutate_until_event(&app, &owner, &tenant, "Renamed", &mut ws).await;
    assert_eq!(event["type"], "next", "the operator follows the organisation live: {event}");

    // A rename changes no one's access, yet the session's end is compared at every event.
    clock.advance(Duration::minutes(6));
    app.gql(
        Some(&owner.access),
        doc!("tenancy/UpdateTenant"),
        json!({ "input": { "id": tenant, "name": "Later" } }),
    )
    .await
    .data();
    let end = ws.next_json().await.expect("the end of the stream");
    assert_eq!(end, json!({ "id": "1", "type": "complete" }));
}
