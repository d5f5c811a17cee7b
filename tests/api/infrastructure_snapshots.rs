//! Snapshots end to end, on the local provider and through the Hetzner fake (its
//! `create_image`, `/images` and `rebuild` calls): taken of a running server, made by a durable
//! action, restored onto the server (a rebuild), kept when the server is deleted, deleted;
//! bad input names its field and changes nothing; a rebuild from one of Hetzner's images. And
//! the infrastructure objects as Relay nodes, for their organisation only.

use serde_json::{Value, json};

use crate::{
    doc,
    infrastructure::{World, fake_state, hetzner_fake, world},
};

async fn snapshots(w: &World) -> Vec<Value> {
    let r =
        w.gql(&w.owner, doc!("infrastructure/TenantSnapshots"), json!({ "id": w.tenant, "first": 50 })).await;
    r.data()["tenant"]["snapshots"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

/// Snapshot → rebuild from it → the server goes, the snapshot stays → deleted; returns the
/// snapshot's provider id.
async fn snapshot_lifecycle(w: &World, provider: &str) -> String {
    let (server, a) = w.create_server(provider, "db-1").await;
    w.succeeded(&a).await;

    // Bad input: named, nothing made.
    let long = "x".repeat(201);
    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/CreateSnapshot"),
            json!({ "input": { "serverId": server, "description": long } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.description"));
    assert!(snapshots(w).await.is_empty());

    let (snap, a) = w
        .change(
            doc!("infrastructure/CreateSnapshot"),
            "createSnapshot",
            "snapshot",
            json!({ "input": { "serverId": server, "description": "before the upgrade" } }),
        )
        .await;
    assert_eq!(
        (snap["status"].as_str(), snap["serverId"].as_str()),
        (Some("PENDING"), Some(server.as_str()))
    );
    let id = snap["id"].as_str().unwrap().to_string();
    w.succeeded(&a).await;
    let made = snapshots(w).await;
    assert_eq!(made.len(), 1);
    assert_eq!(
        (made[0]["status"].as_str(), made[0]["description"].as_str()),
        (Some("AVAILABLE"), Some("before the upgrade"))
    );
    assert!(made[0]["sizeGb"].as_f64().is_some_and(|s| s > 0.0), "{}", made[0]);
    let ext = made[0]["externalId"].as_str().unwrap().to_string();

    // A rebuild needs the snapshot named; then the server is reinstalled from it.
    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/ServerAction"),
            json!({ "input": { "serverId": server, "action": "REBUILD" } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.snapshotId"));
    let (s, a) = w
        .change(
            doc!("infrastructure/ServerAction"),
            "serverAction",
            "server",
            json!({ "input": { "serverId": server, "action": "REBUILD", "snapshotId": id } }),
        )
        .await;
    assert_eq!(s["status"], "REBUILDING");
    w.succeeded(&a).await;
    assert_eq!(w.server(&server).await["status"], "RUNNING");

    // Deleting the server keeps its snapshot, no longer tied to it.
    let (_, a) = w
        .change(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": server }))
        .await;
    w.succeeded(&a).await;
    let kept = snapshots(w).await;
    assert_eq!((kept.len(), kept[0]["serverId"].clone()), (1, Value::Null));

    let (s, a) = w
        .change(doc!("infrastructure/DeleteSnapshot"), "deleteSnapshot", "snapshot", json!({ "id": id }))
        .await;
    assert_eq!(s["status"], "DELETING");
    w.succeeded(&a).await;
    assert!(snapshots(w).await.is_empty());
    ext
}

#[tokio::test]
async fn a_local_snapshot_is_taken_restored_outlives_its_server_and_is_deleted() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    snapshot_lifecycle(&w, &p).await;
}

#[tokio::test]
async fn a_hetzner_snapshot_goes_through_create_image_rebuild_and_the_images_api() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let ext = snapshot_lifecycle(&w, &p).await;
    let state = fake_state(&base).await;
    assert_eq!(state["images"], json!([]), "the deleted snapshot {ext} is gone at Hetzner");
    let rebuilt =
        state["actions"].as_array().unwrap().iter().filter(|a| a["command"] == "rebuild_server").count();
    assert_eq!(rebuilt, 1);

    // With no description, the image is named after its server; it carries Zygo's labels.
    let (server, a) = w.create_server(&p, "probe").await;
    w.succeeded(&a).await;
    let (snap, a) = w
        .change(
            doc!("infrastructure/CreateSnapshot"),
            "createSnapshot",
            "snapshot",
            json!({ "input": { "serverId": server } }),
        )
        .await;
    w.succeeded(&a).await;
    let images = fake_state(&base).await["images"].clone();
    assert_eq!(images.as_array().map(Vec::len), Some(1), "{images}");
    assert_eq!(images[0]["type"], "snapshot");
    assert!(images[0]["description"].as_str().unwrap().starts_with("probe "), "{images}");
    assert_eq!(images[0]["labels"]["zygo-id"].as_str().map(str::len), Some(36), "{images}");
    assert_eq!(images[0]["description"], snap["description"]);
}

#[tokio::test]
async fn servers_volumes_snapshots_accounts_and_actions_are_nodes_for_their_organisation_only() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let (server, a) = w.create_server(&p, "node-1").await;
    w.succeeded(&a).await;
    let (volume, _) = w
        .change(
            doc!("infrastructure/CreateVolume"),
            "createVolume",
            "volume",
            json!({ "input": { "providerId": p, "name": "node-data", "sizeGb": 10, "location": "fsn1" } }),
        )
        .await;
    let (snap, snap_action) = w
        .change(
            doc!("infrastructure/CreateSnapshot"),
            "createSnapshot",
            "snapshot",
            json!({ "input": { "serverId": server } }),
        )
        .await;
    let outsider = w.app.verified_user("node-outsider@example.com").await;
    let query = "query($id: ID!) { node(id: $id) { __typename id } }";
    for (id, ty) in [
        (p.clone(), "CloudProvider"),
        (server.clone(), "Server"),
        (volume["id"].as_str().unwrap().to_string(), "Volume"),
        (snap["id"].as_str().unwrap().to_string(), "Snapshot"),
        (snap_action, "InfrastructureAction"),
    ] {
        let r = w.app.gql(Some(&w.owner.access), query, json!({ "id": id })).await;
        assert_eq!(
            (r.data()["node"]["__typename"].as_str(), r.data()["node"]["id"].as_str()),
            (Some(ty), Some(id.as_str()))
        );
        let r = w.app.gql(Some(&outsider.access), query, json!({ "id": id })).await;
        assert_eq!(r.code(), "NOT_FOUND", "{ty} for an outsider");
    }
}

#[tokio::test]
async fn a_hetzner_server_is_rebuilt_from_one_of_hetzners_images() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (server, a) = w.create_server(&p, "web-1").await;
    w.succeeded(&a).await;
    let rebuild =
        |image: &str| json!({ "input": { "serverId": server, "action": "REBUILD", "image": image } });
    let r = w.gql(&w.owner, doc!("infrastructure/ServerAction"), rebuild("debian 12")).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.image"));

    let (s, a) =
        w.change(doc!("infrastructure/ServerAction"), "serverAction", "server", rebuild("debian-12")).await;
    assert_eq!(s["status"], "REBUILDING");
    w.succeeded(&a).await;
    let s = w.server(&server).await;
    assert_eq!((s["status"].as_str(), s["image"].as_str()), (Some("RUNNING"), Some("debian-12")), "{s}");
    let state = fake_state(&base).await;
    let at_hetzner =
        state["servers"].as_array().unwrap().iter().find(|h| h["name"] == "web-1").unwrap().clone();
    assert_eq!(at_hetzner["image"]["name"], "debian-12", "{at_hetzner}");

    // An image Hetzner does not have: the action fails with Hetzner's error; the server is
    // as it was.
    let (_, a) =
        w.change(doc!("infrastructure/ServerAction"), "serverAction", "server", rebuild("nosuch")).await;
    let ended = w.ended(&a).await;
    assert_eq!(
        (ended["status"].as_str(), ended["errorCode"].as_str()),
        (Some("FAILED"), Some("invalid_input"))
    );
    let s = w.server(&server).await;
    assert_eq!((s["status"].as_str(), s["image"].as_str()), (Some("RUNNING"), Some("debian-12")), "{s}");
}
