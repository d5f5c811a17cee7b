use serde_json::json;

use crate::{doc, helpers::*};

async fn create_key(app: &TestApp, s: &Session, tenant: &str, perms: serde_json::Value) -> Gql {
    app.gql(
        Some(&s.access),
        doc!("api_keys/CreateApiKey"),
        json!({ "input": { "tenantId": tenant, "name": "CI deploy", "permissions": perms } }),
    )
    .await
}

#[tokio::test]
async fn an_api_key_acts_for_its_tenant_within_its_permissions_and_is_named_in_the_audit_log() {
    let app = spawn_app().await;
    let owner = app.verified_user("keys@example.com").await;
    let tenant = app.create_tenant(&owner, "keys-org").await;
    let other = app.create_tenant(&owner, "other-org").await;
    let r = create_key(&app, &owner, &tenant, json!(["TENANT_READ", "TENANT_UPDATE", "AUDIT_READ"])).await;
    let created = r.data()["createApiKey"].clone();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("zyk_") && secret.len() > 40);
    assert!(secret.starts_with(created["apiKey"]["prefix"].as_str().unwrap()));

    // Listed without its secret.
    let list = app.gql(Some(&owner.access), doc!("api_keys/TenantApiKeys"), json!({ "id": tenant })).await;
    let listed = list.data()["tenant"]["apiKeys"]["edges"][0]["node"].clone();
    assert_eq!(listed["name"], "CI deploy");
    assert!(!list.0.to_string().contains(&secret), "the secret is shown once only");

    // It works as a bearer token, for its tenant and permissions only.
    app.gql(Some(&secret), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await.data();
    let r = app
        .gql(
            Some(&secret),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": tenant, "name": "By key" } }),
        )
        .await;
    assert_eq!(r.data()["updateTenant"]["tenant"]["name"], "By key");
    assert_eq!(
        app.gql(Some(&secret), doc!("tenancy/TenantSettings"), json!({ "id": other })).await.code(),
        "NOT_FOUND"
    );
    let member_role = app.role_id(&owner, &tenant, "member").await;
    let r = app
        .gql(
            Some(&secret),
            doc!("members/InviteMember"),
            json!({ "input": { "tenantId": tenant, "email": "x@example.com", "roleId": member_role } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app.gql(Some(&secret), doc!("identity/Viewer"), json!({})).await;
    assert!(r.data()["viewer"].is_null(), "a key is not a person");

    let log = app
        .gql(
            Some(&owner.access),
            doc!("audit/TenantAuditLog"),
            json!({ "id": tenant, "filter": { "action": "tenant.updated" } }),
        )
        .await;
    let entry = log.0["data"]["tenant"]["auditLog"]["edges"][0]["node"].clone();
    assert_eq!(entry["actorType"], "api_key");
    assert_eq!(entry["actorId"], created["apiKey"]["id"]);

    let used = app.gql(Some(&owner.access), doc!("api_keys/TenantApiKeys"), json!({ "id": tenant })).await;
    assert!(used.data()["tenant"]["apiKeys"]["edges"][0]["node"]["lastUsedAt"].is_string());

    // Revoked: it stops at once.
    app.gql(Some(&owner.access), doc!("api_keys/RevokeApiKey"), json!({ "id": created["apiKey"]["id"] }))
        .await
        .data();
    let r = app.gql(Some(&secret), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_key_never_holds_more_than_its_creator() {
    let app = spawn_app().await;
    let owner = app.verified_user("k-own@example.com").await;
    let tenant = app.create_tenant(&owner, "k-org").await;
    let (admin, admin_m) = app.join_as(&owner, &tenant, "k-admin@example.com", "admin").await;
    let (member, _) = app.join_as(&owner, &tenant, "k-mem@example.com", "member").await;

    assert_eq!(create_key(&app, &member, &tenant, json!(["TENANT_READ"])).await.code(), "FORBIDDEN");
    assert_eq!(create_key(&app, &admin, &tenant, json!(["TENANT_DELETE"])).await.code(), "FORBIDDEN");
    let r = create_key(&app, &admin, &tenant, json!([])).await;
    assert_eq!(r.field(), "input.permissions");
    let r = create_key(&app, &admin, &tenant, json!(["TENANT_READ", "TENANT_UPDATE"])).await;
    let secret = r.data()["createApiKey"]["secret"].as_str().unwrap().to_string();
    app.gql(
        Some(&secret),
        doc!("tenancy/UpdateTenant"),
        json!({ "input": { "id": tenant, "name": "Admin key" } }),
    )
    .await
    .data();

    // The creator is demoted: the key loses what they lost.
    let viewer_role = app.role_id(&owner, &tenant, "viewer").await;
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": admin_m, "roleId": viewer_role } }),
    )
    .await
    .data();
    let r = app
        .gql(
            Some(&secret),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": tenant, "name": "Still?" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    app.gql(Some(&secret), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await.data();
    // A key is not its creator: it cannot "leave" on their behalf.
    let r = app.gql(Some(&secret), doc!("members/RemoveMember"), json!({ "membershipId": admin_m })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    // A key cannot mint keys.
    let r = app
        .gql(
            Some(&secret),
            doc!("api_keys/CreateApiKey"),
            json!({ "input": { "tenantId": tenant, "name": "child", "permissions": ["TENANT_READ"] } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}
