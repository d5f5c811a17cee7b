//! The permission matrix and the tenant-isolation sweep of the organisations-and-access
//! operations.

use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*};

/// One guarded field or mutation: the permission it needs and how to try it.
struct Op {
    permission: &'static str,
    doc: &'static str,
    vars: Value,
}

fn ops(tenant: &str, member_role: &str, tag: &str) -> Vec<Op> {
    vec![
        Op { permission: "MEMBERS_READ", doc: doc!("members/TenantMembers"), vars: json!({ "id": tenant }) },
        Op {
            permission: "MEMBERS_MANAGE",
            doc: doc!("members/TenantInvitations"),
            vars: json!({ "id": tenant }),
        },
        Op { permission: "AUDIT_READ", doc: doc!("audit/TenantAuditLog"), vars: json!({ "id": tenant }) },
        Op {
            permission: "API_KEYS_MANAGE",
            doc: doc!("api_keys/TenantApiKeys"),
            vars: json!({ "id": tenant }),
        },
        Op {
            permission: "TENANT_READ",
            doc: doc!("roles/PermissionMatrix"),
            vars: json!({ "tenantId": tenant }),
        },
        Op {
            permission: "TENANT_UPDATE",
            doc: doc!("tenancy/UpdateTenant"),
            vars: json!({ "input": { "id": tenant, "name": format!("Renamed by {tag}") } }),
        },
        Op {
            permission: "TENANT_UPDATE",
            doc: doc!("tenancy/UpdateTenantSettings"),
            vars: json!({ "input": { "tenantId": tenant, "branding": { "primaryColor": "#123456" } } }),
        },
        Op {
            permission: "MEMBERS_MANAGE",
            doc: doc!("members/InviteMember"),
            vars: json!({ "input": { "tenantId": tenant, "email": format!("{tag}-invitee@example.com"), "roleId": member_role } }),
        },
        Op {
            permission: "ROLES_MANAGE",
            doc: doc!("roles/CreateRole"),
            vars: json!({ "input": { "tenantId": tenant, "key": format!("{tag}-role"), "name": "R" } }),
        },
        Op {
            permission: "TEAMS_MANAGE",
            doc: doc!("teams/CreateTeam"),
            vars: json!({ "input": { "tenantId": tenant, "name": format!("{tag} team") } }),
        },
        Op {
            permission: "API_KEYS_MANAGE",
            doc: doc!("api_keys/CreateApiKey"),
            vars: json!({ "input": { "tenantId": tenant, "name": tag, "permissions": ["TENANT_READ"] } }),
        },
        // The wrong slug: holders get past the permission check to the confirmation error.
        Op {
            permission: "TENANT_DELETE",
            doc: doc!("tenancy/DeleteTenant"),
            vars: json!({ "id": tenant, "confirmSlug": "not-the-slug" }),
        },
    ]
}

fn forbidden(r: &Gql) -> bool {
    r.0["errors"].as_array().is_some_and(|errs| {
        errs.iter().any(|e| {
            e["extensions"]["code"] == "FORBIDDEN"
                && e["path"].as_array().is_none_or(|p| p.last() != Some(&json!("email")))
        })
    })
}

#[tokio::test]
async fn each_built_in_role_can_do_exactly_what_the_catalog_grants() {
    let app = spawn_app().await;
    let owner = app.verified_user("mx-owner@example.com").await;
    let tenant = app.create_tenant(&owner, "matrix-org").await;
    let member_role = app.role_id(&owner, &tenant, "member").await;
    let mut people = vec![("owner".to_string(), owner.clone())];
    for role in ["admin", "member", "viewer"] {
        let (s, _) = app.join_as(&owner, &tenant, &format!("mx-{role}@example.com"), role).await;
        people.push((role.to_string(), s));
    }
    let vars = permission_matrix::Variables { tenant_id: tenant.clone() };
    let rows =
        app.op::<PermissionMatrix>(Some(&owner.access), vars).await.into_data().tenant.permission_matrix.rows;
    let mut checked = 0;
    for (role, session) in &people {
        let granted: Vec<String> = rows
            .iter()
            .find(|r| r.role.key == *role)
            .unwrap()
            .effective
            .iter()
            .map(|p| serde_json::to_value(p).unwrap().as_str().unwrap().to_string())
            .collect();
        for op in ops(&tenant, &member_role, role) {
            let r = app.gql(Some(&session.access), op.doc, op.vars.clone()).await;
            let allowed = granted.iter().any(|g| g == op.permission);
            assert_eq!(
                !forbidden(&r),
                allowed,
                "{role} with {:?} on {} needing {}: {}",
                granted,
                op.doc.lines().next().unwrap_or_default(),
                op.permission,
                r.0
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * 12);
}

#[tokio::test]
async fn a_member_of_another_tenant_gets_not_found_for_every_operation_and_changes_nothing() {
    let app = spawn_app().await;
    let a = app.verified_user("sw-a@example.com").await;
    let b = app.verified_user("sw-b@example.com").await;
    let ta = app.create_tenant(&a, "sweep-a").await;
    app.create_tenant(&b, "sweep-b").await;
    let member_role = app.role_id(&a, &ta, "member").await;
    let (_, a_member) = app.join_as(&a, &ta, "sw-m@example.com", "member").await;
    let team = app
        .op_json::<CreateTeam>(Some(&a.access), json!({ "input": { "tenantId": ta, "name": "A team" } }))
        .await
        .into_data()
        .create_team
        .team
        .id;
    let key = app
        .op_json::<CreateApiKey>(
            Some(&a.access),
            json!({ "input": { "tenantId": ta, "name": "k", "permissions": ["TENANT_READ"] } }),
        )
        .await
        .into_data()
        .create_api_key
        .api_key
        .id;
    let role = app
        .op_json::<CreateRole>(
            Some(&a.access),
            json!({ "input": { "tenantId": ta, "key": "custom", "name": "C" } }),
        )
        .await
        .into_data()
        .create_role
        .role
        .id;

    let mut attempts: Vec<(&str, Value)> =
        ops(&ta, &member_role, "intruder").into_iter().map(|o| (o.doc, o.vars)).collect();
    attempts.extend([
        (doc!("tenancy/TenantSettings"), json!({ "id": ta })),
        (doc!("tenancy/SuspendTenant"), json!({ "id": ta, "confirmSlug": "sweep-a" })),
        (doc!("roles/UpdateRole"), json!({ "input": { "id": role, "name": "X" } })),
        (doc!("roles/SetRolePermissions"), json!({ "input": { "roleId": role, "permissions": [] } })),
        (doc!("roles/DeleteRole"), json!({ "id": role })),
        (doc!("roles/ViewerPermissions"), json!({ "tenantId": ta })),
        (doc!("teams/UpdateTeam"), json!({ "input": { "id": team, "name": "X" } })),
        (doc!("teams/DeleteTeam"), json!({ "id": team })),
        (
            doc!("teams/SetTeamMember"),
            json!({ "input": { "teamId": team, "membershipId": a_member, "role": "OWNER" } }),
        ),
        (doc!("teams/RemoveTeamMember"), json!({ "input": { "teamId": team, "membershipId": a_member } })),
        (doc!("teams/TenantTeams"), json!({ "id": ta })),
        (doc!("api_keys/RevokeApiKey"), json!({ "id": key })),
        (doc!("members/SuspendMember"), json!({ "membershipId": a_member })),
        (doc!("relay/Node"), json!({ "id": team })),
        (doc!("identity/SetActiveTenant"), json!({ "tenantId": ta })),
    ]);
    for (doc, vars) in attempts {
        let r = app.gql(Some(&b.access), doc, vars.clone()).await;
        assert_eq!(r.code(), "NOT_FOUND", "{} {vars} → {}", doc.lines().next().unwrap_or_default(), r.0);
    }
    let t = app.op::<TenantSettings>(Some(&a.access), tenant_settings::Variables { id: ta.clone() }).await;
    assert_eq!(t.data().tenant.name, "Org sweep-a", "nothing changed");
    let teams = app.op::<TenantTeams>(Some(&a.access), tenant_teams::Variables { id: ta.clone() }).await;
    assert_eq!(teams.data().tenant.teams.total_count, 1);
    let keys = app.op::<TenantApiKeys>(Some(&a.access), tenant_api_keys::Variables { id: ta.clone() }).await;
    assert!(keys.data().tenant.api_keys.as_ref().expect("API keys").edges[0].node.revoked_at.is_none());
}
