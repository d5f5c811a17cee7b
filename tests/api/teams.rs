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

/// Team members' fields are answered inline (`graphql::inline`: ready fields without the
/// executor's per-field futures) when selected plainly, and through async-graphql's own
/// resolution when selected through fragments: both give the same data, the same nulls and
/// the same errors at the same paths — here a member's view, where only their own e-mail
/// address is visible and every other one is a FORBIDDEN error inside the list.
#[tokio::test]
async fn team_members_answer_the_same_selected_plainly_or_through_fragments() {
    let app = spawn_app().await;
    let owner = app.verified_user("ti-own@example.com").await;
    let tenant = app.create_tenant(&owner, "inline-org").await;
    let (alice, alice_m) = app.join_as(&owner, &tenant, "ti-alice@example.com", "member").await;
    let (_bob, bob_m) = app.join_as(&owner, &tenant, "ti-bob@example.com", "member").await;
    let team = app
        .op_json::<CreateTeam>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "name": "Design", "description": "d" } }),
        )
        .await
        .into_data()
        .create_team
        .team
        .id;
    for (m, role) in [(&alice_m, "OWNER"), (&bob_m, "EDITOR")] {
        app.gql(
            Some(&owner.access),
            doc!("teams/SetTeamMember"),
            json!({ "input": { "teamId": team, "membershipId": m, "role": role } }),
        )
        .await
        .data();
    }
    let plain = "query($id: ID!) { tenant(id: $id) { teams(first: 10) { edges { node { __typename id name \
        members(first: 10) { totalCount edges { node { role addedAt \
        membership { id status user { __typename id name email address: email } } } } } } } } } }";
    let fragments = "query($id: ID!) { tenant(id: $id) { teams(first: 10) { edges { node { ...T } } } } } \
        fragment T on Team { __typename id name members(first: 10) { totalCount edges { node { \
        ... on TeamMember { role addedAt membership { ...M } } } } } } \
        fragment M on Membership { id status user { ... on User { __typename id name email address: email } } }";
    let vars = json!({ "id": tenant });
    let a = app.gql(Some(&alice.access), plain, vars.clone()).await;
    let b = app.gql(Some(&alice.access), fragments, vars).await;
    assert_eq!(a.0["data"], b.0["data"], "the same data either way");
    let errors = |r: &Gql| {
        let mut e: Vec<(String, String)> = r.0["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| (e["path"].to_string(), e["extensions"]["code"].to_string())).collect())
            .unwrap_or_default();
        e.sort();
        e
    };
    assert_eq!(errors(&a), errors(&b), "the same errors at the same paths");
    // What the answer holds: two members, Alice's own address, Bob's refused in place.
    let members = &a.0["data"]["tenant"]["teams"]["edges"][0]["node"]["members"];
    assert_eq!(a.0["data"]["tenant"]["teams"]["edges"][0]["node"]["__typename"], "Team");
    assert_eq!(members["totalCount"], 2);
    let users: Vec<&serde_json::Value> =
        members["edges"].as_array().unwrap().iter().map(|e| &e["node"]["membership"]["user"]).collect();
    assert!(users.iter().all(|u| u["__typename"] == "User"));
    assert!(users.iter().any(|u| u["email"] == "ti-alice@example.com" && u["address"] == u["email"]));
    assert!(users.iter().any(|u| u["email"].is_null() && u["address"].is_null() && u["name"].is_string()));
    let e = errors(&a);
    assert_eq!(e.len(), 2, "Bob's address, twice (two keys of one object fail): {e:?}");
    assert!(e[0].0.ends_with(r#""membership","user","address"]"#) && e[0].1 == r#""FORBIDDEN""#, "{e:?}");
    assert!(e[1].0.ends_with(r#""membership","user","email"]"#) && e[1].1 == r#""FORBIDDEN""#, "{e:?}");
}
