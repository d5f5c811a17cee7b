//! The drift reconciler against the Hetzner fake: a server deleted and one powered off through
//! Hetzner's API (outside Zygo) are found on the next look, brought up to date, recorded in the
//! audit log as `server.drift_detected`; a server left alone is not touched, and a drift is
//! recorded once. And the workflow nodes that run infrastructure: `infrastructure.action`
//! (stop, snapshot, a DNS record) and `infrastructure.status`, as the user the run acts for.

use serde_json::{Value, json};

use crate::{
    doc,
    helpers::*,
    infrastructure::{TOKEN, World, hetzner_fake, world},
};

async fn hetzner(base: &str, method: reqwest::Method, path: &str) -> Value {
    let r = reqwest::Client::new()
        .request(method, format!("{base}/v1{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

async fn drift_entries(w: &World) -> Vec<Value> {
    let r = w
        .gql(
            &w.owner,
            doc!("audit/TenantAuditLog"),
            json!({ "id": w.tenant, "filter": { "action": "server.drift_detected" } }),
        )
        .await;
    r.data()["tenant"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

#[tokio::test]
async fn servers_deleted_or_powered_off_outside_zygo_are_found_updated_and_recorded_once() {
    let (_fake, base, mut env) = hetzner_fake();
    env.push(("ZYGO_INFRASTRUCTURE_RECONCILE_INTERVAL", "1".into()));
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let mut ids = Vec::new();
    for name in ["keep", "gone", "halted"] {
        let (id, a) = w.create_server(&p, name).await;
        w.succeeded(&a).await;
        ids.push(id);
    }
    let ext = |i: usize| {
        let w = &w;
        let id = ids[i].clone();
        async move { w.server(&id).await["externalId"].as_str().unwrap().to_string() }
    };
    let (gone, halted) = (ext(1).await, ext(2).await);

    // Outside Zygo: one server deleted, one shut down (its action looked at until done).
    hetzner(&base, reqwest::Method::DELETE, &format!("/servers/{gone}")).await;
    let shutdown =
        hetzner(&base, reqwest::Method::POST, &format!("/servers/{halted}/actions/shutdown")).await;
    let action = shutdown["action"]["id"].as_i64().unwrap();
    eventually(10, || async {
        let a = hetzner(&base, reqwest::Method::GET, &format!("/actions/{action}")).await;
        (a["action"]["status"] == "success").then_some(())
    })
    .await;

    let found = eventually(60, || async {
        let statuses: Vec<String> = futures::future::join_all(
            ids.iter().map(|id| async { w.server(id).await["status"].as_str().unwrap().to_string() }),
        )
        .await;
        (statuses == ["RUNNING", "DELETED", "OFF"]).then_some(statuses)
    })
    .await;
    assert_eq!(found, ["RUNNING", "DELETED", "OFF"]);

    let entries = drift_entries(&w).await;
    let mut drifts: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["after"]["status"].as_str().unwrap().to_string(),
                e["after"]["drift"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    drifts.sort();
    assert_eq!(
        drifts,
        [
            ("deleted".to_string(), "deleted outside Zygo".to_string()),
            ("off".to_string(), "changed outside Zygo".to_string())
        ]
    );
    assert!(entries.iter().all(|e| e["actorType"] == "system"), "{entries:?}");
    // Later looks record nothing again: a third drift, found by a later look, is the only new
    // entry.
    let keep = ext(0).await;
    let shutdown = hetzner(&base, reqwest::Method::POST, &format!("/servers/{keep}/actions/shutdown")).await;
    let action = shutdown["action"]["id"].as_i64().unwrap();
    eventually(10, || async {
        let a = hetzner(&base, reqwest::Method::GET, &format!("/actions/{action}")).await;
        (a["action"]["status"] == "success").then_some(())
    })
    .await;
    eventually(60, || async { (w.server(&ids[0]).await["status"] == "OFF").then_some(()) }).await;
    assert_eq!(drift_entries(&w).await.len(), 3);
}

#[tokio::test]
async fn workflow_nodes_stop_and_snapshot_a_server_write_a_record_and_read_the_status() {
    use crate::workflows::{Org, create, edge, execute, finished, node, node_state};
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let (server, a) = w.create_server(&p, "app-1").await;
    w.succeeded(&a).await;
    let (_, a) = w
        .change(
            doc!("infrastructure/CreateDnsZone"),
            "createDnsZone",
            "zone",
            json!({ "input": { "providerId": p, "name": "ops.example" } }),
        )
        .await;
    w.succeeded(&a).await;
    let o = Org { owner: w.owner.clone(), tenant: w.tenant.clone() };
    let (id, _) = create(
        &w.app,
        &o,
        "Maintenance",
        vec![
            node("start", "trigger.manual", json!({})),
            node("stop", "infrastructure.action", json!({ "action": "stop", "server": "app-1" })),
            node("snap", "infrastructure.action", json!({ "action": "snapshot", "server": "app-1", "description": "nightly" })),
            node(
                "dns",
                "infrastructure.action",
                json!({ "action": "dns_record", "zone": "ops.example", "recordType": "A", "recordName": "app", "value": "{{ trigger.ip }}" }),
            ),
            node("status", "infrastructure.status", json!({ "server": "app-1" })),
        ],
        vec![
            edge("e1", "start", "main", "stop"),
            edge("e2", "stop", "main", "snap"),
            edge("e3", "snap", "main", "dns"),
            edge("e4", "dns", "main", "status"),
        ],
    )
    .await;
    let run = execute(&w.app, &w.owner.access, &id, json!({ "ip": "198.51.100.7" })).await;
    let e = finished(&w.app, &w.owner.access, &run).await;
    assert_eq!(e.status, crate::workflows::ExecutionStatus::SUCCEEDED, "{e:?}");
    let out = |n: &str| node_state(&e, n).output.clone().unwrap();
    assert_eq!(out("stop")["action"]["status"], "succeeded");
    assert_eq!(out("snap")["snapshot"], "nightly");
    assert_eq!(out("dns")["record"]["value"], "198.51.100.7");
    let status = out("status");
    assert_eq!((status["count"].clone(), status["items"][0]["status"].clone()), (json!(1), json!("off")));
    // What the nodes did is what the API shows.
    assert_eq!(w.server(&server).await["status"], "OFF");
    assert_eq!(w.zones().await[0]["records"][0]["value"], "198.51.100.7");

    // A node the acting user may not use fails with the permission named, changing nothing.
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "viewer@example.com", "member").await;
    let (start_id, _) = create(
        &w.app,
        &Org { owner: member.clone(), tenant: w.tenant.clone() },
        "Start",
        vec![
            node("start", "trigger.manual", json!({})),
            node("go", "infrastructure.action", json!({ "action": "start", "server": "app-1" })),
        ],
        vec![edge("e1", "start", "main", "go")],
    )
    .await;
    let run = execute(&w.app, &member.access, &start_id, json!({})).await;
    let e = finished(&w.app, &member.access, &run).await;
    assert_eq!(e.status, crate::workflows::ExecutionStatus::FAILED);
    assert!(format!("{e:?}").contains("infrastructure.manage"), "{e:?}");
    assert_eq!(w.server(&server).await["status"], "OFF");
}
