use serde_json::json;

use crate::{doc, gql::*, helpers::*};

/// `(membership, team role)` of each member of `team`, sorted.
async fn team_roles(app: &TestApp, s: &Session, tenant: &str, team: &str) -> Vec<(String, String)> {
    let r = app.op::<TenantTeams>(Some(&s.access), tenant_teams::Variables { id: tenant.into() }).await;
    let t = r.partial().tenant.teams.edges.iter().find(|t| t.node.id == team).unwrap();
    let mut out: Vec<(String, String)> = t
        .node
        .members
        .edges
        .iter()
        .map(|e| {
            let role = serde_json::to_value(&e.node.role).unwrap().as_str().unwrap().to_string();
            (e.node.membership.id.clone(), role)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn teams_group_members_with_team_roles_and_invitations_can_place_people_in_teams() {
    let app = spawn_app().await;
    let owner = app.verified_user("t-own@example.com").await;
    let tenant = app.create_tenant(&owner, "teams-org").await;
    let (alice, alice_m) = app.join_as(&owner, &tenant, "t-alice@example.com", "member").await;
    let create = |name: &str| {
        let (app, token, vars) = (
            &app,
            owner.access.clone(),
            json!({ "input": { "tenantId": tenant, "name": name, "description": "d" } }),
        );
        async move { app.op_json::<CreateTeam>(Some(&token), vars).await }
    };
    let design = create("Design").await.into_data().create_team.team.id;
    assert_eq!(create("Design").await.code(), "CONFLICT");
    assert_eq!(create(" ").await.field(), "input.name");

    // A member without TEAMS_MANAGE cannot create teams or change this one.
    let r = app
        .gql(
            Some(&alice.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": "Mine" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let set = |s: &Session, m: &str, role: &str| {
        let (app, token, vars) = (
            &app,
            s.access.clone(),
            json!({ "input": { "teamId": design, "membershipId": m, "role": role } }),
        );
        async move { app.gql(Some(&token), doc!("teams/SetTeamMember"), vars).await }
    };
    assert_eq!(set(&alice, &alice_m, "OWNER").await.code(), "FORBIDDEN");
    set(&owner, &alice_m, "OWNER").await.data();

    // As the team's owner, Alice now manages it (but cannot delete it).
    let r = app
        .op_json::<UpdateTeam>(
            Some(&alice.access),
            json!({ "input": { "id": design, "name": "Design & UX" } }),
        )
        .await;
    assert_eq!(r.data().update_team.team.name, "Design & UX");
    assert_eq!(
        app.gql(Some(&alice.access), doc!("teams/DeleteTeam"), json!({ "id": design })).await.code(),
        "FORBIDDEN"
    );

    // An invitation places the newcomer in the team with an editor role.
    let member_role = app.role_id(&owner, &tenant, "member").await;
    app.gql(
        Some(&owner.access),
        doc!("members/InviteMember"),
        json!({ "input": { "tenantId": tenant, "email": "t-bob@example.com", "roleId": member_role, "teams": [{ "teamId": design, "role": "EDITOR" }] } }),
    )
    .await
    .data();
    let token = app.mailed_token_about("t-bob@example.com", "invited", 1).await;
    app.sign_up("t-bob@example.com").await.data();
    let bob = app.log_in("t-bob@example.com").await;
    let r = app.op::<AcceptInvitation>(Some(&bob.access), accept_invitation::Variables { token }).await;
    let bob_m = r.into_data().accept_invitation.membership.id;

    let mut expected = vec![(alice_m.clone(), "OWNER".to_string()), (bob_m.clone(), "EDITOR".to_string())];
    expected.sort();
    assert_eq!(team_roles(&app, &owner, &tenant, &design).await, expected);

    let r = app
        .op_json::<RemoveTeamMember>(
            Some(&alice.access),
            json!({ "input": { "teamId": design, "membershipId": bob_m } }),
        )
        .await;
    assert_eq!(r.data().remove_team_member.team.members.total_count, 1);

    // Outsiders see nothing; the owner can delete.
    let outsider = app.verified_user("t-out@example.com").await;
    assert_eq!(
        app.gql(Some(&outsider.access), doc!("teams/DeleteTeam"), json!({ "id": design })).await.code(),
        "NOT_FOUND"
    );
    let r = app.op::<DeleteTeam>(Some(&owner.access), delete_team::Variables { id: design.clone() }).await;
    assert_eq!(r.data().delete_team.deleted_team_id, design);
    let teams =
        app.op::<TenantTeams>(Some(&owner.access), tenant_teams::Variables { id: tenant.clone() }).await;
    assert_eq!(teams.data().tenant.teams.total_count, 0);
}
