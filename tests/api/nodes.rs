//! `node(id:)` answers for every object with an ID: the account records (session, security
//! event) to their user only, tenant records (environment variable) to members holding the
//! permission their list needs; to anyone else exactly like an unknown ID.

use serde_json::{Value, json};

use crate::{doc, helpers::*};

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

async fn node(app: &TestApp, token: &str, id: &str) -> Gql {
    app.gql(Some(token), NODE, json!({ "id": id })).await
}

fn typename(r: &Gql) -> String {
    r.data()["node"]["__typename"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn account_records_and_environment_variables_are_nodes_for_those_who_may_see_them() {
    let app = spawn_app().await;
    let owner = app.verified_user("node-owner@example.com").await;
    let tenant = app.create_tenant(&owner, "node-org").await;
    let (viewer, _) = app.join_as(&owner, &tenant, "node-viewer@example.com", "viewer").await;
    let outsider = app.verified_user("node-outsider@example.com").await;

    let security = app.gql(Some(&owner.access), doc!("security/ViewerSecurity"), json!({})).await;
    let v = &security.data()["viewer"];
    let session =
        v["sessions"].as_array().unwrap().iter().find(|s| s["current"] == true).unwrap()["id"].clone();
    let event =
        v["securityEvents"]["edges"].as_array().unwrap().last().expect("a sign-in event")["node"]["id"]
            .clone();
    let var = app
        .gql(
            Some(&owner.access),
            doc!("secrets/SetEnvironmentVariable"),
            json!({ "input": { "tenantId": tenant, "name": "REGION", "value": "eu" } }),
        )
        .await;
    let var = var.data()["setEnvironmentVariable"]["environmentVariable"]["id"].clone();

    let id = |v: &Value| v.as_str().unwrap().to_string();
    for (id, ty) in
        [(id(&session), "Session"), (id(&event), "SecurityEvent"), (id(&var), "EnvironmentVariable")]
    {
        let r = node(&app, &owner.access, &id).await;
        assert_eq!((typename(&r), r.data()["node"]["id"].as_str().unwrap()), (ty.to_string(), id.as_str()));
        // Another user, even a member of the organisation, does not see the owner's account
        // records; an outsider sees none of them.
        let expected_for_viewer = if ty == "EnvironmentVariable" { "EnvironmentVariable" } else { "" };
        let r = node(&app, &viewer.access, &id).await;
        if expected_for_viewer.is_empty() {
            assert_eq!(r.code(), "NOT_FOUND", "{ty} for another member");
        } else {
            assert_eq!(typename(&r), expected_for_viewer);
        }
        assert_eq!(node(&app, &outsider.access, &id).await.code(), "NOT_FOUND", "{ty} for an outsider");
    }
}
