//! Rescue mode and root password resets, on the local cloud and through the Hetzner fake: the
//! provider's root password is sealed on the action and revealed once, only to the member who
//! asked (never in the action, its params or the audit log); rescue mode cannot be enabled
//! twice or disabled when off; a reset needs a running server.

use serde_json::{Value, json};

use crate::{
    doc,
    helpers::*,
    infrastructure::{World, fake_state, hetzner_fake, world},
};

async fn act(w: &World, who: &Session, server: &str, action: &str) -> Gql {
    w.gql(
        who,
        doc!("infrastructure/ServerAction"),
        json!({ "input": { "serverId": server, "action": action } }),
    )
    .await
}

async fn reveal(w: &World, who: &Session, action: &str) -> Gql {
    w.gql(who, doc!("infrastructure/RevealRootPassword"), json!({ "actionId": action })).await
}

/// Enables rescue (revealing its password once), refuses a second enable, disables it, resets
/// the root password; returns the two passwords revealed.
async fn root_access(w: &World, provider: &str) -> (String, String) {
    let (server, a) = w.create_server(provider, "web-1").await;
    w.succeeded(&a).await;
    let r = act(w, &w.owner, &server, "ENABLE_RESCUE").await;
    let a = r.data()["serverAction"]["action"]["id"].as_str().unwrap().to_string();
    w.succeeded(&a).await;
    assert_eq!(w.server(&server).await["rescueEnabled"], true);
    assert_eq!(w.action(&a).await["hasRootPassword"], true);

    // Another admin of the organisation cannot read it; the requester can, once.
    let (admin, _) = w.app.join_as(&w.owner, &w.tenant, "admin@example.com", "admin").await;
    assert_eq!(reveal(w, &admin, &a).await.code(), "NOT_FOUND");
    let rescue =
        reveal(w, &w.owner, &a).await.data()["revealRootPassword"]["password"].as_str().unwrap().to_string();
    assert!(rescue.len() >= 8, "{rescue}");
    assert_eq!(reveal(w, &w.owner, &a).await.code(), "NOT_FOUND");
    assert_eq!(w.action(&a).await["hasRootPassword"], false);

    let r = act(w, &w.owner, &server, "ENABLE_RESCUE").await;
    assert_eq!(r.code(), "CONFLICT");
    let r = act(w, &w.owner, &server, "DISABLE_RESCUE").await;
    w.succeeded(r.data()["serverAction"]["action"]["id"].as_str().unwrap()).await;
    assert_eq!(w.server(&server).await["rescueEnabled"], false);
    assert_eq!(act(w, &w.owner, &server, "DISABLE_RESCUE").await.code(), "CONFLICT");

    let r = act(w, &w.owner, &server, "RESET_ROOT_PASSWORD").await;
    let a = r.data()["serverAction"]["action"]["id"].as_str().unwrap().to_string();
    w.succeeded(&a).await;
    let root =
        reveal(w, &w.owner, &a).await.data()["revealRootPassword"]["password"].as_str().unwrap().to_string();
    assert_ne!(root, rescue);

    // Never stored or shown anywhere else.
    let actions = w
        .gql(&w.owner, doc!("infrastructure/InfrastructureActions"), json!({ "id": w.tenant, "first": 50 }))
        .await;
    let log = w.gql(&w.owner, doc!("audit/TenantAuditLog"), json!({ "id": w.tenant, "first": 100 })).await;
    for (what, v) in [("actions", actions.data().clone()), ("audit log", log.data().clone())] {
        let text = v.to_string();
        assert!(!text.contains(&rescue) && !text.contains(&root), "a password shows in the {what}");
    }
    let revealed = w
        .gql(
            &w.owner,
            doc!("audit/TenantAuditLog"),
            json!({ "id": w.tenant, "filter": { "action": "server.root_password_revealed" } }),
        )
        .await;
    assert_eq!(revealed.data()["tenant"]["auditLog"]["edges"].as_array().unwrap().len(), 2);

    // A reset needs the system running.
    let r = act(w, &w.owner, &server, "STOP").await;
    w.succeeded(r.data()["serverAction"]["action"]["id"].as_str().unwrap()).await;
    assert_eq!(act(w, &w.owner, &server, "RESET_ROOT_PASSWORD").await.code(), "CONFLICT");
    (rescue, root)
}

#[tokio::test]
async fn local_rescue_mode_and_root_password_reset_reveal_each_password_once_to_the_requester() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    root_access(&w, &p).await;
}

#[tokio::test]
async fn hetzner_rescue_mode_and_root_password_reset_go_through_the_cloud_api() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (rescue, root) = root_access(&w, &p).await;
    assert!(rescue.starts_with("rescue-"), "{rescue}");
    let st: Value = fake_state(&base).await;
    assert_eq!(st["passwords"][0]["password"], root.as_str());
    assert_eq!(st["servers"][0]["rescue_enabled"], false);
}
