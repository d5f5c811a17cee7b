use serde_json::json;

use crate::{doc, helpers::*};

fn team_roles(r: &Gql, team: &str) -> Vec<(String, String)> {
    let teams = r.0["data"]["tenant"]["teams"]["edges"].as_array().unwrap().clone();
    let t = teams.iter().find(|t| t["node"]["id"] == team).unwrap();
    let mut out: Vec<(String, String)> = t["node"]["members"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["membership"]["id"].as_str().unwrap().to_string(),
                e["node"]["role"].as_str().unwrap().to_string(),
            )
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
        async move { app.gql(Some(&token), doc!("teams/CreateTeam"), vars).await }
    };
    let design = create("Design").await.data()["createTeam"]["team"]["id"].as_str().unwrap().to_string();
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
        .gql(
            Some(&alice.access),
            doc!("teams/UpdateTeam"),
            json!({ "input": { "id": design, "name": "Design & UX" } }),
        )
        .await;
    assert_eq!(r.data()["updateTeam"]["team"]["name"], "Design & UX");
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
    let r = app.gql(Some(&bob.access), doc!("members/AcceptInvitation"), json!({ "token": token })).await;
    let bob_m = r.data()["acceptInvitation"]["membership"]["id"].as_str().unwrap().to_string();

    let teams = app.gql(Some(&owner.access), doc!("teams/TenantTeams"), json!({ "id": tenant })).await;
    let mut expected = vec![(alice_m.clone(), "OWNER".to_string()), (bob_m.clone(), "EDITOR".to_string())];
    expected.sort();
    assert_eq!(team_roles(&teams, &design), expected);

    let r = app
        .gql(
            Some(&alice.access),
            doc!("teams/RemoveTeamMember"),
            json!({ "input": { "teamId": design, "membershipId": bob_m } }),
        )
        .await;
    assert_eq!(r.data()["removeTeamMember"]["team"]["members"]["totalCount"], 1);

    // Outsiders see nothing; the owner can delete.
    let outsider = app.verified_user("t-out@example.com").await;
    assert_eq!(
        app.gql(Some(&outsider.access), doc!("teams/DeleteTeam"), json!({ "id": design })).await.code(),
        "NOT_FOUND"
    );
    let r = app.gql(Some(&owner.access), doc!("teams/DeleteTeam"), json!({ "id": design })).await;
    assert_eq!(r.data()["deleteTeam"]["deletedTeamId"], design.as_str());
    let teams = app.gql(Some(&owner.access), doc!("teams/TenantTeams"), json!({ "id": tenant })).await;
    assert_eq!(teams.data()["tenant"]["teams"]["totalCount"], 0);
}
