use serde_json::json;

use crate::{doc, gql::*, helpers::*};

async fn create_key(
    app: &TestApp,
    s: &Session,
    tenant: &str,
    perms: serde_json::Value,
) -> Op<create_api_key::ResponseData> {
    app.op_json::<CreateApiKey>(
        Some(&s.access),
        json!({ "input": { "tenantId": tenant, "name": "CI deploy", "permissions": perms } }),
    )
    .await
}

/// The organisation's API keys as its owner lists them.
async fn keys(app: &TestApp, s: &Session, tenant: &str) -> Op<tenant_api_keys::ResponseData> {
    app.op::<TenantApiKeys>(Some(&s.access), tenant_api_keys::Variables { id: tenant.into() }).await
}

#[tokio::test]
async fn an_api_key_acts_for_its_tenant_within_its_permissions_and_is_named_in_the_audit_log() {
    let app = spawn_app().await;
    let owner = app.verified_user("keys@example.com").await;
    let tenant = app.create_tenant(&owner, "keys-org").await;
    let other = app.create_tenant(&owner, "other-org").await;
    let r = create_key(&app, &owner, &tenant, json!(["TENANT_READ", "TENANT_UPDATE", "AUDIT_READ"])).await;
    let created = r.into_data().create_api_key;
    let secret = created.secret.clone();
    assert!(secret.starts_with("zyk_") && secret.len() > 40);
    assert!(secret.starts_with(&created.api_key.prefix));

    // Listed without its secret.
    let list = keys(&app, &owner, &tenant).await;
    let listed = &list.data().tenant.api_keys.as_ref().expect("API keys").edges[0].node;
    assert_eq!(listed.name, "CI deploy");
    assert!(!list.raw.0.to_string().contains(&secret), "the secret is shown once only");

    // It works as a bearer token, for its tenant and permissions only.
    app.gql(Some(&secret), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await.data();
    let r = app
        .op_json::<UpdateTenant>(Some(&secret), json!({ "input": { "id": tenant, "name": "By key" } }))
        .await;
    assert_eq!(r.data().update_tenant.tenant.name, "By key");
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
    let vars = viewer::Variables { first: None, after: None, last: None, before: None };
    let r = app.op::<Viewer>(Some(&secret), vars).await;
    assert!(r.data().viewer.is_none(), "a key is not a person");

    let log = app
        .op_json::<TenantAuditLog>(
            Some(&owner.access),
            json!({ "id": tenant, "filter": { "action": "tenant.updated" } }),
        )
        .await;
    let entry = &log.partial().tenant.audit_log.as_ref().expect("the audit log").edges[0].node;
    assert_eq!(entry.actor_type, "api_key");
    assert_eq!(entry.actor_id.as_deref(), Some(created.api_key.id.as_str()));

    let used = keys(&app, &owner, &tenant).await;
    assert!(used.data().tenant.api_keys.as_ref().expect("API keys").edges[0].node.last_used_at.is_some());

    // Revoked: it stops at once.
    app.gql(Some(&owner.access), doc!("api_keys/RevokeApiKey"), json!({ "id": created.api_key.id }))
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
    let secret = r.into_data().create_api_key.secret;
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
