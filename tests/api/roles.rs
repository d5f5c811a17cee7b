use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*};

/// Permissions (any document's `Permission` enum) by their API names.
fn strs<P: serde::Serialize>(ps: &[P]) -> Vec<String> {
    ps.iter().map(|p| serde_json::to_value(p).unwrap().as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_permission_catalog_has_keys_areas_and_descriptions() {
    let app = spawn_app().await;
    let list = app.op::<Permissions>(None, permissions::Variables).await.into_data().permissions;
    assert!(list.len() >= 7);
    let audit = list.iter().find(|p| p.key == "audit.read").unwrap();
    assert_eq!(audit.permission, permissions::Permission::AUDIT_READ);
    assert_eq!(audit.area, "audit");
    assert!(!audit.description.is_empty());
}

#[tokio::test]
async fn a_custom_role_inherits_its_parent_and_grants_what_it_says() {
    let app = spawn_app().await;
    let owner = app.verified_user("r-own@example.com").await;
    let tenant = app.create_tenant(&owner, "roles-org").await;
    let (member, member_m) = app.join_as(&owner, &tenant, "r-mem@example.com", "viewer").await;
    let viewer_role = app.role_id(&owner, &tenant, "viewer").await;
    let r = app
        .op_json::<CreateRole>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "key": "auditor", "name": "Auditor", "parentId": viewer_role, "permissions": ["AUDIT_READ"] } }),
        )
        .await;
    let role = r.into_data().create_role.role;
    assert_eq!(strs(&role.granted_permissions), ["AUDIT_READ"]);
    assert_eq!(
        strs(&role.permissions),
        [
            "TENANT_READ",
            "MEMBERS_READ",
            "AUDIT_READ",
            "WORKFLOW_READ",
            "DOCUMENTS_READ",
            "RESOURCES_READ",
            "COLLECTION_READ"
        ]
    );
    assert_eq!(role.parent.as_ref().map(|p| p.key.as_str()), Some("viewer"));
    assert!(!role.is_builtin);

    let denied = app.gql(Some(&member.access), doc!("audit/TenantAuditLog"), json!({ "id": tenant })).await;
    assert_eq!(denied.code(), "FORBIDDEN");
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": member_m, "roleId": role.id } }),
    )
    .await
    .data();
    let vars = viewer_permissions::Variables { tenant_id: tenant.clone() };
    let perms = app.op::<ViewerPermissions>(Some(&member.access), vars).await.into_data();
    assert_eq!(
        strs(&perms.viewer.expect("a viewer").permissions),
        [
            "TENANT_READ",
            "MEMBERS_READ",
            "AUDIT_READ",
            "WORKFLOW_READ",
            "DOCUMENTS_READ",
            "RESOURCES_READ",
            "COLLECTION_READ"
        ]
    );
    let log = app.op_json::<TenantAuditLog>(Some(&member.access), json!({ "id": tenant })).await;
    assert!(
        log.partial().tenant.audit_log.as_ref().expect("the audit log").total_count > 0,
        "the auditor reads the log"
    );

    // Granting to the parent reaches the child at once.
    let r = app
        .op_json::<SetRolePermissions>(
            Some(&owner.access),
            json!({ "input": { "roleId": role.id, "permissions": [] } }),
        )
        .await;
    assert_eq!(
        strs(&r.data().set_role_permissions.role.permissions),
        [
            "TENANT_READ",
            "MEMBERS_READ",
            "WORKFLOW_READ",
            "DOCUMENTS_READ",
            "RESOURCES_READ",
            "COLLECTION_READ"
        ]
    );
    let denied = app.gql(Some(&member.access), doc!("audit/TenantAuditLog"), json!({ "id": tenant })).await;
    assert_eq!(denied.code(), "FORBIDDEN", "revoked permissions stop working at once");

    let vars = permission_matrix::Variables { tenant_id: tenant.clone() };
    let m = app.op::<PermissionMatrix>(Some(&owner.access), vars).await.into_data().tenant.permission_matrix;
    assert!(m.permissions.len() >= 7);
    let keys: Vec<_> = m.rows.iter().map(|r| r.role.key.as_str()).collect();
    assert_eq!(keys, ["owner", "admin", "member", "viewer", "auditor"]);
    let auditor = &m.rows[4];
    assert_eq!(strs(&auditor.granted), Vec::<String>::new());
    assert_eq!(
        strs(&auditor.effective),
        [
            "TENANT_READ",
            "MEMBERS_READ",
            "WORKFLOW_READ",
            "DOCUMENTS_READ",
            "RESOURCES_READ",
            "COLLECTION_READ"
        ]
    );
}

/// The shared fixture of the role-rule tests: an organisation with an admin, a member, and
/// two custom roles, `role-b` inheriting from `role-a`.
struct Rules {
    app: TestApp,
    owner: Session,
    admin: Session,
    tenant: String,
    member_m: String,
    a: String,
    b: String,
}

async fn create_role(app: &TestApp, s: &Session, input: Value) -> Op<create_role::ResponseData> {
    app.op_json::<CreateRole>(Some(&s.access), json!({ "input": input })).await
}

async fn rules() -> Rules {
    let app = spawn_app().await;
    let owner = app.verified_user("rr-own@example.com").await;
    let tenant = app.create_tenant(&owner, "rules-org").await;
    let (admin, _) = app.join_as(&owner, &tenant, "rr-admin@example.com", "admin").await;
    let (_, member_m) = app.join_as(&owner, &tenant, "rr-mem@example.com", "member").await;
    let a = create_role(&app, &owner, json!({ "tenantId": tenant, "key": "role-a", "name": "A" })).await;
    let a = a.into_data().create_role.role.id;
    let b =
        create_role(&app, &owner, json!({ "tenantId": tenant, "key": "role-b", "name": "B", "parentId": a }))
            .await;
    let b = b.into_data().create_role.role.id;
    Rules { app, owner, admin, tenant, member_m, a, b }
}

#[tokio::test]
async fn nobody_grants_what_they_do_not_hold_nor_hands_out_a_role_holding_more() {
    let Rules { app, owner, admin, tenant, member_m, .. } = rules().await;
    let deleter =
        json!({ "tenantId": tenant, "key": "deleter", "name": "Deleter", "permissions": ["TENANT_DELETE"] });
    let r = create_role(&app, &admin, deleter.clone()).await;
    assert_eq!(r.code(), "FORBIDDEN");
    // An owner may; an admin then cannot hand that role out.
    let deleter = create_role(&app, &owner, deleter).await.into_data().create_role.role.id;
    let r = app
        .gql(
            Some(&admin.access),
            doc!("members/ChangeMemberRole"),
            json!({ "input": { "membershipId": member_m, "roleId": deleter } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn a_role_cannot_inherit_from_itself_or_from_its_own_child() {
    let Rules { app, owner, a, b, .. } = rules().await;
    let r = app
        .gql(Some(&owner.access), doc!("roles/UpdateRole"), json!({ "input": { "id": a, "parentId": b } }))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert_eq!(r.field(), "input.parentId");
    let r = app
        .gql(Some(&owner.access), doc!("roles/UpdateRole"), json!({ "input": { "id": a, "parentId": a } }))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn role_keys_are_unique_and_validated() {
    let Rules { app, owner, tenant, .. } = rules().await;
    let r = create_role(&app, &owner, json!({ "tenantId": tenant, "key": "role-a", "name": "Again" })).await;
    assert_eq!(r.code(), "CONFLICT");
    let r = create_role(&app, &owner, json!({ "tenantId": tenant, "key": "Bad Key", "name": "X" })).await;
    assert_eq!(r.field(), "input.key");
}

#[tokio::test]
async fn built_in_roles_are_fixed() {
    let Rules { app, owner, tenant, .. } = rules().await;
    let viewer_role = app.role_id(&owner, &tenant, "viewer").await;
    let r = app
        .gql(
            Some(&owner.access),
            doc!("roles/SetRolePermissions"),
            json!({ "input": { "roleId": viewer_role, "permissions": ["AUDIT_READ"] } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app.gql(Some(&owner.access), doc!("roles/DeleteRole"), json!({ "id": viewer_role })).await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn a_role_in_use_assigned_or_inherited_from_cannot_be_deleted() {
    let Rules { app, owner, tenant, member_m, a, b, .. } = rules().await;
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": member_m, "roleId": b } }),
    )
    .await
    .data();
    assert_eq!(
        app.gql(Some(&owner.access), doc!("roles/DeleteRole"), json!({ "id": b })).await.code(),
        "CONFLICT"
    );
    assert_eq!(
        app.gql(Some(&owner.access), doc!("roles/DeleteRole"), json!({ "id": a })).await.code(),
        "CONFLICT"
    );
    let member_role = app.role_id(&owner, &tenant, "member").await;
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": member_m, "roleId": member_role } }),
    )
    .await
    .data();
    let r = app.op::<DeleteRole>(Some(&owner.access), delete_role::Variables { id: b.clone() }).await;
    assert_eq!(r.data().delete_role.deleted_role_id, b);
    app.gql(Some(&owner.access), doc!("roles/DeleteRole"), json!({ "id": a })).await.data();
}

#[tokio::test]
async fn outsiders_get_not_found_for_an_organisations_roles() {
    let Rules { app, tenant, a, .. } = rules().await;
    let outsider = app.verified_user("rr-out@example.com").await;
    let r = app.gql(Some(&outsider.access), doc!("roles/DeleteRole"), json!({ "id": a })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r =
        app.gql(Some(&outsider.access), doc!("roles/PermissionMatrix"), json!({ "tenantId": tenant })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r =
        app.gql(Some(&outsider.access), doc!("roles/ViewerPermissions"), json!({ "tenantId": tenant })).await;
    assert_eq!(r.code(), "NOT_FOUND");
}
